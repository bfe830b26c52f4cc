/* SPDX-License-Identifier: MIT */
/* The core compiled for arm64 stage-2 with the 4K granule. */
#define ARM64_GRANULE_SHIFT 12
#define FMT_OPS             tdp__arm64_4k_fops
#define FMT_NAME            TDP_ARM64_4K
#include "core/formats.h"
#include "arch/arm64/pte.h"
#include "core/core_impl.h"
