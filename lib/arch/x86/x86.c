/* SPDX-License-Identifier: MIT */
/*
 * Intel EPT configuration: 4 or 5 levels, leaf levels (docs/formats.md §E.1)
 * and the EPTP (§E.6).
 */
#include "arch/arch.h"

#define X86_CFG_FLAGS (TDP_CFG_X86_AD | TDP_CFG_X86_MBEC | TDP_CFG_X86_EXEC_ONLY | TDP_CFG_X86_SVE)

/* Only with the format's core compiled in; the register helpers below always are. */
#if TDP_HAVE_X86
int tdp__x86_init(const struct tdp_config *cfg, struct tdp_geometry *geo)
{
	unsigned int levels;
	uint32_t mask = 0x7; /* 4 KiB, 2 MiB, 1 GiB */

	if (cfg->granule_shift && cfg->granule_shift != 12)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_GRANULE);
	if ((cfg->flags & TDP_CFG_FORMAT_MASK) & ~X86_CFG_FLAGS)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_FLAGS);
	/* 48-bit GPA: 4 levels, 57-bit: 5 levels (PML5) */
	if (cfg->ia_bits == 48)
		levels = 4;
	else if (cfg->ia_bits == 57)
		levels = 5;
	else
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_IA_BITS);
	/* MAXPHYADDR: at most 52; below 36 no x86 CPU with EPT exists */
	if (cfg->oa_bits < 36 || cfg->oa_bits > 52)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_OA_BITS);
	if (cfg->leaf_levels && cfg->leaf_levels < 32)
		mask &= (1u << cfg->leaf_levels) - 1;
	geo->levels = levels;
	geo->page_shift = 12;
	geo->bits_per_level = 9;
	geo->root_bits = 9;
	geo->root_tables = 1;
	geo->table_size = 4096;
	geo->root_size = 4096;
	geo->leaf_levels_mask = mask;
	return 0;
}
#endif

#define EPTP_MT_WB      6ull
#define EPTP_PWL_SHIFT  3
#define EPTP_AD         (1ull << 6)

int tdp_x86_eptp(const struct tdp_pgtable *pgt, uint64_t *eptp)
{
	if (!pgt || !pgt->fops)
		return -TDP_EINVAL;
	if (pgt->cfg.format != TDP_FORMAT_X86_EPT)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_WRONG_FORMAT);
	if (!eptp)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_NULL);
	*eptp = pgt->root_pa | EPTP_MT_WB | (uint64_t)(pgt->geo.levels - 1) << EPTP_PWL_SHIFT |
		((pgt->cfg.flags & TDP_CFG_X86_AD) ? EPTP_AD : 0);
	return 0;
}
