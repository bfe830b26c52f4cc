/* SPDX-License-Identifier: MIT */
/*
 * What each format's configuration code gives the API: validation of a
 * configuration and the geometry it implies. Nothing here knows the core;
 * api.c picks the compiled variant from the format and the geometry.
 */
#ifndef TDP_ARCH_ARCH_H
#define TDP_ARCH_ARCH_H

#include <tdp/tdp.h>

#include "core/refuse.h"

/*
 * Validate an arm64 configuration and derive its geometry. Returns 0 or
 * -TDP_EINVAL (including a granule this build left out: -Darm64_granules).
 */
int tdp__arm64_init(const struct tdp_config *cfg, struct tdp_geometry *geo);
/* Validate an EPT configuration and derive its geometry. 0 or -TDP_EINVAL. */
int tdp__x86_init(const struct tdp_config *cfg, struct tdp_geometry *geo);
/* Validate a G-stage configuration and derive its geometry. 0 or -TDP_EINVAL. */
int tdp__riscv_init(const struct tdp_config *cfg, struct tdp_geometry *geo);

#endif
