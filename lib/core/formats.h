/* SPDX-License-Identifier: MIT */
/* Per-format init entry points and dispatch tables, as built (TDP_HAVE_*). */
#ifndef TDP_CORE_FORMATS_H
#define TDP_CORE_FORMATS_H

#include "core/fmt_ops.h"

/* Each variant's entry-point names (FMT_NAME in its .c file). */
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
/*
 * Validate an arm64 configuration and derive its geometry and variant.
 * Returns 0 or -TDP_EINVAL.
 */
int tdp__arm64_init(const struct tdp_config *cfg, struct tdp_geometry *geo,
		    const struct tdp_fmt_ops **fops);
#endif

#if TDP_HAVE_X86
extern TDP_INTERNAL const struct tdp_fmt_ops tdp__x86_ept_fops;
/* Validate an EPT configuration and derive its geometry. 0 or -TDP_EINVAL. */
int tdp__x86_init(const struct tdp_config *cfg, struct tdp_geometry *geo,
		  const struct tdp_fmt_ops **fops);
#endif

#if TDP_HAVE_RISCV
extern TDP_INTERNAL const struct tdp_fmt_ops tdp__riscv_g_fops;
/* Validate a G-stage configuration and derive its geometry. 0 or -TDP_EINVAL. */
int tdp__riscv_init(const struct tdp_config *cfg, struct tdp_geometry *geo,
		    const struct tdp_fmt_ops **fops);
#endif

#endif
