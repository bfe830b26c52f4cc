/* SPDX-License-Identifier: MIT */
/* Per-format init entry points and dispatch tables, as built (TDP_HAVE_*). */
#ifndef TDP_CORE_FORMATS_H
#define TDP_CORE_FORMATS_H

#include "arch/arch.h"
#include "core/fmt_ops.h"

/* Each variant's entry-point names (FMT_NAME, chosen in variant.c). */
#define TDP_ARM64_4K(op)  tdp__arm64_4k_##op
#define TDP_ARM64_16K(op) tdp__arm64_16k_##op
#define TDP_ARM64_64K(op) tdp__arm64_64k_##op
#define TDP_X86_EPT(op)   tdp__x86_ept_##op
#define TDP_RISCV_G(op)   tdp__riscv_g_##op

#if TDP_HAVE_ARM64
#if TDP_HAVE_ARM64_4K
extern TDP_INTERNAL const struct tdp_fmt_ops tdp__arm64_4k_fops;
TDP_VARIANT_PROTOS(TDP_ARM64_4K);
#endif
#if TDP_HAVE_ARM64_16K
extern TDP_INTERNAL const struct tdp_fmt_ops tdp__arm64_16k_fops;
TDP_VARIANT_PROTOS(TDP_ARM64_16K);
#endif
#if TDP_HAVE_ARM64_64K
extern TDP_INTERNAL const struct tdp_fmt_ops tdp__arm64_64k_fops;
TDP_VARIANT_PROTOS(TDP_ARM64_64K);
#endif
#endif

#if TDP_HAVE_X86
extern TDP_INTERNAL const struct tdp_fmt_ops tdp__x86_ept_fops;
#endif

#if TDP_HAVE_RISCV
extern TDP_INTERNAL const struct tdp_fmt_ops tdp__riscv_g_fops;
#endif

#endif
