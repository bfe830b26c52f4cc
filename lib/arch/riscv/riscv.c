/* SPDX-License-Identifier: MIT */
/*
 * RISC-V G-stage configuration: Sv39x4/Sv48x4/Sv57x4 geometry with the
 * widened 16 KiB root (docs/formats.md §R.2) and HGATP (§R.1).
 */
#include "arch/arch.h"

#define RISCV_CFG_FLAGS                                                                    \
	(TDP_CFG_RISCV_SVADU | TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_PMA_MT |               \
	 TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVVPTC)

/* Only with the format's core compiled in; the register helpers below always are. */
#if TDP_HAVE_RISCV
int tdp__riscv_init(const struct tdp_config *cfg, struct tdp_geometry *geo)
{
	unsigned int levels;
	uint32_t mask;

	if (cfg->granule_shift && cfg->granule_shift != 12)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_GRANULE);
	if ((cfg->flags & TDP_CFG_FORMAT_MASK) & ~RISCV_CFG_FLAGS)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_FLAGS);
	/* PMA_MT says "no Svpbmt": both at once is a contradiction */
	if ((cfg->flags & TDP_CFG_RISCV_SVPBMT) && (cfg->flags & TDP_CFG_RISCV_PMA_MT))
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_FLAGS);
	/* GPA bits = 12 + 9 * levels + 2: the root index is two bits wider */
	if (cfg->ia_bits == 41)
		levels = 3;
	else if (cfg->ia_bits == 50)
		levels = 4;
	else if (cfg->ia_bits == 59)
		levels = 5;
	else
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_IA_BITS);
	/* the PTE's PPN gives 56-bit physical addresses */
	if (cfg->oa_bits < 32 || cfg->oa_bits > 56)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_OA_BITS);
	/* a leaf is allowed at every level, the root included */
	mask = (1u << levels) - 1;
	if (cfg->leaf_levels && cfg->leaf_levels < 32)
		mask &= (1u << cfg->leaf_levels) - 1;
	geo->levels = levels;
	geo->page_shift = 12;
	geo->bits_per_level = 9;
	geo->root_bits = 11;
	geo->root_tables = 1;
	geo->table_size = 4096;
	geo->root_size = 16384;
	geo->leaf_levels_mask = mask;
	return 0;
}
#endif

#define HGATP_MODE_SHIFT 60
#define HGATP_VMID_SHIFT 44
#define HGATP_MODE_SV39X4 8ull /* 9: Sv48x4, 10: Sv57x4 */

int tdp_riscv_hgatp(const struct tdp_pgtable *pgt, uint32_t vmid, uint64_t *hgatp)
{
	if (!pgt || !pgt->fops)
		return -TDP_EINVAL;
	if (pgt->cfg.format != TDP_FORMAT_RISCV_G)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_WRONG_FORMAT);
	if (!hgatp)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_NULL);
	if (vmid > TDP_RISCV_VMID_MAX)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_VMID);
	*hgatp = (HGATP_MODE_SV39X4 + pgt->geo.levels - 3) << HGATP_MODE_SHIFT |
		 (uint64_t)vmid << HGATP_VMID_SHIFT | pgt->root_pa >> 12;
	return 0;
}
