/* SPDX-License-Identifier: MIT */
/* The core compiled for RISC-V G-stage. */
#define FMT_OPS tdp__riscv_g_fops
#define FMT_NAME TDP_RISCV_G
#include "core/formats.h"
#include "arch/riscv/pte.h"
#include "core/core_impl.h"
