/* SPDX-License-Identifier: MIT */
/** @file
 * arm64 stage-2 specifics: configuration flags and register composition.
 */
#ifndef TDP_ARM64_H
#define TDP_ARM64_H

#include <tdp/export.h>
#include <tdp/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

/* tdp_config.flags for TDP_FORMAT_ARM64_S2 */
#define TDP_CFG_ARM64_XNX (1u << 0) /**< FEAT_XNX: TDP_PROT_XP and TDP_PROT_XU may differ */

/* tdp_arm64_vtcr / tdp_arm64_vttbr flags */
#define TDP_ARM64_VMID16 (1u << 0) /**< 16-bit VMIDs (VTCR_EL2.VS = 1) */
#define TDP_ARM64_HA     (1u << 1) /**< hardware access-flag update (VTCR_EL2.HA) */
#define TDP_ARM64_CNP    (1u << 2) /**< VTTBR_EL2.CnP */

/** Architectural level (3 = smallest pages) of a neutral level. */
static inline int tdp_arm64_level(unsigned int neutral_level)
{
	return 3 - (int)neutral_level;
}

/**
 * Compose VTCR_EL2 for the table: T0SZ, SL0, IRGN0/ORGN0 write-back
 * write-allocate, SH0 inner shareable, TG0, PS from oa_bits, RES1 bit 31,
 * and VS/HA from flags. @return 0; -TDP_EINVAL for NULL arguments, a table of
 * another format or unknown flags.
 */
TDP_API int tdp_arm64_vtcr(const struct tdp_pgtable *pgt, uint32_t flags, uint64_t *vtcr);

/**
 * Compose VTTBR_EL2: the root's physical address (BADDR, with PA[51:48] in
 * bits 5:2 for a 52-bit root), the VMID at bits 63:48 and CnP from flags.
 * @return 0; -TDP_EINVAL for NULL arguments, another format, unknown flags or
 * a VMID above 255 without TDP_ARM64_VMID16.
 */
TDP_API int tdp_arm64_vttbr(const struct tdp_pgtable *pgt, uint16_t vmid, uint32_t flags,
			    uint64_t *vttbr);

#ifdef __cplusplus
}
#endif

#endif
