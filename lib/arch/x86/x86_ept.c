/* SPDX-License-Identifier: MIT */
/* The core compiled for Intel EPT. */
#define FMT_OPS tdp__x86_ept_fops
#include "arch/x86/pte.h"
#include "core/core_impl.h"
