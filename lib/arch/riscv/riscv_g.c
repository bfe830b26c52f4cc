/* SPDX-License-Identifier: MIT */
/* The core compiled for RISC-V G-stage. */
#define FMT_OPS tdp__riscv_g_fops
#include "arch/riscv/pte.h"
#include "core/core_impl.h"
