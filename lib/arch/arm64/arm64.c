/* SPDX-License-Identifier: MIT */
/*
 * arm64 stage-2 configuration: start level, concatenated root, block levels
 * (docs/formats.md §A.1, §A.7) and the VTCR_EL2 / VTTBR_EL2 values (§A.6, §A.8).
 */
#include "arch/arch.h"

/* VTCR_EL2.PS encoding of a PA size, or -1 (docs/formats.md §A.6). */
static int ps_encoding(unsigned int oa_bits)
{
	switch (oa_bits) {
	case 32: return 0;
	case 36: return 1;
	case 40: return 2;
	case 42: return 3;
	case 44: return 4;
	case 48: return 5;
	case 52: return 6;
	default: return -1;
	}
}

/* Only with the format's core compiled in; the register helpers below always are. */
#if TDP_HAVE_ARM64
int tdp__arm64_init(const struct tdp_config *cfg, struct tdp_geometry *geo)
{
	unsigned int g = cfg->granule_shift ? cfg->granule_shift : 12;
	unsigned int s = g - 3, ia = cfg->ia_bits, oa = cfg->oa_bits, levels, root_bits;
	uint32_t mask;

	/* not an arm64 granule, or one this build left out (-Darm64_granules) */
	if (!((g == 12 && TDP_HAVE_ARM64_4K) || (g == 14 && TDP_HAVE_ARM64_16K) ||
	      (g == 16 && TDP_HAVE_ARM64_64K)))
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_GRANULE);
	if ((cfg->flags & TDP_CFG_FORMAT_MASK) & ~TDP_CFG_ARM64_XNX)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_FLAGS);
	/* 52-bit output needs FEAT_LPA with 64K; LPA2 (4K/16K) is not supported yet. */
	if (ps_encoding(oa) < 0 || (oa == 52 && g != 16))
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_OA_BITS);
	if (ia < 32 || ia > (oa == 52 ? 52u : 48u) || ia > oa)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_IA_BITS);

	/*
	 * Fewest levels: the start level may resolve up to s + 4 bits by
	 * concatenating up to 16 tables (docs/formats.md §A.7); never fewer than two levels.
	 */
	levels = (ia - g - 4 + s - 1) / s;
	if (levels < 2)
		levels = 2;
	root_bits = ia - (g + (levels - 1) * s);

	/* Blocks: 4K at levels 1-2, 16K at 1, 64K at 1 (+2 with a 52-bit PA) (docs/formats.md §A.1). */
	mask = g == 12 ? 0x7u : g == 14 ? 0x3u : (oa == 52 ? 0x7u : 0x3u);
	mask &= (1u << levels) - 1;
	if (cfg->leaf_levels && cfg->leaf_levels < 32)
		mask &= (1u << cfg->leaf_levels) - 1;

	geo->levels = levels;
	geo->page_shift = g;
	geo->bits_per_level = s;
	geo->root_bits = root_bits;
	geo->root_tables = root_bits > s ? 1u << (root_bits - s) : 1u;
	geo->table_size = (size_t)1 << g;
	geo->root_size = geo->table_size * geo->root_tables;
	geo->leaf_levels_mask = mask;
	return 0;
}
#endif

#define VTCR_SL0_SHIFT   6
#define VTCR_IRGN0_WBWA  (1ull << 8)
#define VTCR_ORGN0_WBWA  (1ull << 10)
#define VTCR_SH0_INNER   (3ull << 12)
#define VTCR_TG0_SHIFT   14
#define VTCR_PS_SHIFT    16
#define VTCR_VS          (1ull << 19)
#define VTCR_HA          (1ull << 21)
#define VTCR_RES1        (1ull << 31)
#define VTTBR_CNP        1ull
#define VTTBR_VMID_SHIFT 48

/*
 * 0 for an initialised arm64 table, a register to write and flags among
 * `known`; the refusal otherwise.
 */
static int check_arm64(const struct tdp_pgtable *pgt, const uint64_t *out, uint32_t flags,
		       uint32_t known)
{
	if (!pgt || !pgt->fops)
		return -TDP_EINVAL;
	if (pgt->cfg.format != TDP_FORMAT_ARM64_S2)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_WRONG_FORMAT);
	if (!out)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_NULL);
	if (flags & ~known)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_FLAGS);
	return 0;
}

int tdp_arm64_vtcr(const struct tdp_pgtable *pgt, uint32_t flags, uint64_t *vtcr)
{
	unsigned int g, start;
	uint64_t v, sl0, tg0;
	int ret = check_arm64(pgt, vtcr, flags, TDP_ARM64_VMID16 | TDP_ARM64_HA);

	if (ret)
		return ret;
	g = pgt->geo.page_shift;
	start = (unsigned int)tdp_arm64_level(pgt->geo.levels - 1);
	/* SL0 counts from level 2 with 4K and from level 3 with 16K/64K (docs/formats.md §A.7). */
	sl0 = g == 12 ? 2 - start : 3 - start;
	/* TG0 does not sort: 00 = 4K, 01 = 64K, 10 = 16K. */
	tg0 = g == 12 ? 0 : g == 16 ? 1 : 2;
	v = (64 - pgt->cfg.ia_bits) | sl0 << VTCR_SL0_SHIFT | VTCR_IRGN0_WBWA | VTCR_ORGN0_WBWA |
	    VTCR_SH0_INNER | tg0 << VTCR_TG0_SHIFT |
	    (uint64_t)ps_encoding(pgt->cfg.oa_bits) << VTCR_PS_SHIFT | VTCR_RES1;
	if (flags & TDP_ARM64_VMID16)
		v |= VTCR_VS;
	if (flags & TDP_ARM64_HA)
		v |= VTCR_HA;
	*vtcr = v;
	return 0;
}

int tdp_arm64_vttbr(const struct tdp_pgtable *pgt, uint16_t vmid, uint32_t flags,
		    uint64_t *vttbr)
{
	uint64_t baddr;
	int ret = check_arm64(pgt, vttbr, flags, TDP_ARM64_VMID16 | TDP_ARM64_CNP);

	if (ret)
		return ret;
	if (!(flags & TDP_ARM64_VMID16) && vmid > 0xff)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_VMID);
	/* A 52-bit root keeps PA[51:48] in BADDR bits 5:2 (docs/formats.md §A.8). */
	baddr = (pgt->root_pa & ((1ull << 48) - 1)) | ((pgt->root_pa >> 48) & 0xf) << 2;
	*vttbr = baddr | (uint64_t)vmid << VTTBR_VMID_SHIFT |
		 ((flags & TDP_ARM64_CNP) ? VTTBR_CNP : 0);
	return 0;
}
