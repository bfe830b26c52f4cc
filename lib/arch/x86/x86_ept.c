/* SPDX-License-Identifier: MIT */
/* The core compiled for Intel EPT. */
#define FMT_OPS tdp__x86_ept_fops
#define FMT_NAME TDP_X86_EPT
#include "core/formats.h"
#include "arch/x86/pte.h"
#include "core/core_impl.h"
