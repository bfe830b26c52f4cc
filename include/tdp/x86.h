/* SPDX-License-Identifier: MIT */
/** @file
 * Intel EPT specifics: configuration flags, x86-only attribute bits and the
 * EPTP composition.
 */
#ifndef TDP_X86_H
#define TDP_X86_H

#include <tdp/export.h>
#include <tdp/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

/* tdp_config.flags for TDP_FORMAT_X86_EPT (ia_bits 48: 4 levels, 57: 5 levels) */
#define TDP_CFG_X86_AD        (1u << 0) /**< accessed/dirty flags on (EPTP bit 6; cap bit 21) */
#define TDP_CFG_X86_MBEC      (1u << 1) /**< mode-based execute: TDP_PROT_XP and XU separate (bit 10) */
#define TDP_CFG_X86_EXEC_ONLY (1u << 2) /**< the CPU allows execute-only entries (cap bit 0) */
#define TDP_CFG_X86_SVE       (1u << 3) /**< write `suppress #VE` (bit 63) into every non-present entry */

/**
 * @name x86-only attribute bits
 * Bits 12..15 of tdp_attr_t. Without
 * TDP_X86_EMT(), the neutral memory type picks the EPT memory type:
 * TDP_MT_NORMAL_WB -> WB (6), TDP_MT_NORMAL_NC -> WC (1),
 * TDP_MT_DEVICE -> UC (0), TDP_MT_DEVICE_STRICT -> UC with IPAT (UC whatever
 * the guest's PAT). TDP_X86_EMT() spells only the types without a neutral
 * name (WT, WP; the neutral memory type bits must then be 0), so that every
 * attribute word has one spelling and tdp_lookup returns what tdp_map got.
 * TDP_X86_IPAT may go with WB, NC, WT and WP.
 * @{
 */
#define TDP_X86_EMT_UC 0u /**< EPT memory type uncacheable */
#define TDP_X86_EMT_WC 1u /**< write combining */
#define TDP_X86_EMT_WT 4u /**< write through */
#define TDP_X86_EMT_WP 5u /**< write protected */
#define TDP_X86_EMT_WB 6u /**< write back */
/** An explicit EPT memory type, t in 0..6 (only WT and WP are accepted: see above). */
#define TDP_X86_EMT(t)   ((((tdp_attr_t)(t)) + 1u) << 12)
#define TDP_X86_EMT_MASK (0x7u << 12) /**< the TDP_X86_EMT() field */
#define TDP_X86_IPAT     (1u << 15) /**< ignore the guest PAT */
/** @} */

/** Architectural EPT level (1 = PTE ... 5 = PML5E) of a neutral level. */
static inline int tdp_x86_level(unsigned int neutral_level)
{
	return (int)neutral_level + 1;
}

/**
 * Compose the EPTP: memory type WB for the paging structures, page-walk
 * length - 1 in bits 5:3, bit 6 when the table has TDP_CFG_X86_AD, and the
 * root's physical address. @return 0; -TDP_EINVAL for NULL arguments or a
 * table of another format.
 */
TDP_API int tdp_x86_eptp(const struct tdp_pgtable *pgt, uint64_t *eptp);

#ifdef __cplusplus
}
#endif

#endif
