/* SPDX-License-Identifier: MIT */
/*
 * The configurations the internal tests run on, with their geometry worked
 * out by hand (docs/formats.md §E.1 for EPT, §A.1 and §A.7 for arm64, §R.2 for
 * RISC-V), and
 * what the kit knows about each format without asking lib/: geometry, the
 * attribute words a leaf can hold, break-before-make, the empty entry.
 */
#include "kit_internal.h"

#include <tdp/riscv.h>
#include <tdp/x86.h>

#include <string.h>

#define KiB(x) ((size_t)(x) << 10)
#define MiB(x) ((size_t)(x) << 20)

#define ARM64(n, g, i, o, lv, rt, rb, rs, lm, s, p)                                             \
	{ .name = (n), .format = TDP_FORMAT_ARM64_S2, .gshift = (g), .ia = (i), .oa = (o),      \
	  .levels = (lv), .root_tables = (rt), .root_bits = (rb), .root_size = (rs),            \
	  .leaf_mask = (lm), .sl0 = (s), .ps = (p) }

/* name, gshift, ia, oa, levels, root_tables, root_bits, root_size, leaf_mask, sl0, ps */
const struct tk_cfgdesc tk_cfgs_all[] = {
	ARM64("4K/32", 12, 32, 32, 2, 4, 11, KiB(16), 0x3, 0, 0),
	ARM64("4K/36", 12, 36, 36, 3, 1, 6, KiB(4), 0x7, 1, 1),
	ARM64("4K/40", 12, 40, 40, 3, 2, 10, KiB(8), 0x7, 1, 2),
	ARM64("4K/42", 12, 42, 44, 3, 8, 12, KiB(32), 0x7, 1, 4),
	ARM64("4K/44", 12, 44, 44, 4, 1, 5, KiB(4), 0x7, 2, 4),
	ARM64("4K/48", 12, 48, 48, 4, 1, 9, KiB(4), 0x7, 2, 5),
	ARM64("16K/32", 14, 32, 36, 2, 1, 7, KiB(16), 0x3, 1, 1),
	ARM64("16K/36", 14, 36, 36, 2, 1, 11, KiB(16), 0x3, 1, 1),
	ARM64("16K/40", 14, 40, 40, 2, 16, 15, KiB(256), 0x3, 1, 2),
	ARM64("16K/47", 14, 47, 48, 3, 1, 11, KiB(16), 0x3, 2, 5),
	ARM64("16K/48", 14, 48, 48, 3, 2, 12, KiB(32), 0x3, 2, 5),
	ARM64("64K/32", 16, 32, 32, 2, 1, 3, KiB(64), 0x3, 1, 0),
	ARM64("64K/42", 16, 42, 42, 2, 1, 13, KiB(64), 0x3, 1, 3),
	ARM64("64K/46", 16, 46, 48, 2, 16, 17, MiB(1), 0x3, 1, 5),
	ARM64("64K/48", 16, 48, 48, 3, 1, 6, KiB(64), 0x3, 2, 5),
	ARM64("64K/52", 16, 52, 52, 3, 1, 10, KiB(64), 0x7, 2, 6),
};
const size_t tk_nr_cfgs_all = sizeof(tk_cfgs_all) / sizeof(tk_cfgs_all[0]);

/*
 * EPT: 4 KiB tables of 512 entries at every level, the root one of them;
 * leaves at PTE, PDE and PDPTE (4 KiB, 2 MiB, 1 GiB), 1 GiB dropped by
 * leaf_levels = 2 (a CPU without 1 GiB EPT pages).
 */
#define EPT(n, f, ll, i, o, lv, lm)                                                             \
	{ .name = (n), .format = TDP_FORMAT_X86_EPT, .flags = (f), .leaf_levels = (ll),          \
	  .gshift = 12, .ia = (i), .oa = (o), .levels = (lv), .root_tables = 1, .root_bits = 9,  \
	  .root_size = KiB(4), .leaf_mask = (lm) }

const struct tk_cfgdesc tk_cfgs_ept[] = {
	EPT("ept-4l", 0, 0, 48, 46, 4, 0x7),
	EPT("ept-5l", 0, 0, 57, 52, 5, 0x7),
	EPT("ept-4l-no1g-sve", TDP_CFG_X86_SVE, 2, 48, 46, 4, 0x3),
};
const size_t tk_nr_cfgs_ept = sizeof(tk_cfgs_ept) / sizeof(tk_cfgs_ept[0]);

/*
 * RISC-V G-stage: a 16 KiB root of 2048 entries (the x4 modes), 4 KiB tables
 * of 512 below; a leaf may sit at any level. One configuration per mode, each
 * with a different set of extensions.
 */
#define RV(n, f, ll, i, o, lv, lm)                                                              \
	{ .name = (n), .format = TDP_FORMAT_RISCV_G, .flags = (f), .leaf_levels = (ll),          \
	  .gshift = 12, .ia = (i), .oa = (o), .levels = (lv), .root_tables = 1, .root_bits = 11, \
	  .root_size = KiB(16), .leaf_mask = (lm) }

const struct tk_cfgdesc tk_cfgs_riscv[] = {
	RV("sv39x4", 0, 0, 41, 44, 3, 0x7),
	RV("sv48x4-napot-pbmt-adu", TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVPBMT |
	   TDP_CFG_RISCV_SVADU, 0, 50, 56, 4, 0xf),
	RV("sv57x4-napot-vptc-cap3", TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVVPTC, 3, 59, 56, 5,
	   0x7),
};
const size_t tk_nr_cfgs_riscv = sizeof(tk_cfgs_riscv) / sizeof(tk_cfgs_riscv[0]);

const struct tk_cfgdesc *const tk_cfgs_ops[] = {
	&tk_cfgs_all[0],  /* 4K/32: 2 levels, 4 concatenated level-2 tables */
	&tk_cfgs_all[2],  /* 4K/40: 3 levels, 2 concatenated level-1 tables */
	&tk_cfgs_all[5],  /* 4K/48: 4 levels */
	&tk_cfgs_all[7],  /* 16K/36 */
	&tk_cfgs_all[8],  /* 16K/40: 16 concatenated tables */
	&tk_cfgs_all[9],  /* 16K/47 */
	&tk_cfgs_all[10], /* 16K/48: 2 concatenated level-1 tables */
	&tk_cfgs_all[11], /* 64K/32 */
	&tk_cfgs_all[12], /* 64K/42 */
	&tk_cfgs_all[14], /* 64K/48 */
	&tk_cfgs_all[15], /* 64K/52 */
	&tk_cfgs_ept[0],  /* EPT 4 levels, MAXPHYADDR 46 */
	&tk_cfgs_ept[1],  /* EPT 5 levels, MAXPHYADDR 52 */
	&tk_cfgs_ept[2],  /* EPT 4 levels, no 1 GiB pages, suppress-#VE */
	&tk_cfgs_riscv[0], /* Sv39x4 */
	&tk_cfgs_riscv[1], /* Sv48x4 with Svnapot, Svpbmt, Svadu */
	&tk_cfgs_riscv[2], /* Sv57x4 with Svnapot, Svvptc, leaves up to 1 GiB */
};
const size_t tk_nr_cfgs_ops = sizeof(tk_cfgs_ops) / sizeof(tk_cfgs_ops[0]);

/* ------------------------------------------------------------------ */
/* Geometry                                                            */

int tk_ept_geo(unsigned int ia, unsigned int oa, struct tk_geo *g)
{
	unsigned int levels;

	if (ia == 48)
		levels = 4;
	else if (ia == 57)
		levels = 5;
	else
		return -1;
	if (oa < 36 || oa > 52)
		return -1;
	memset(g, 0, sizeof(*g));
	g->levels = levels;
	g->page_shift = 12;
	g->bits = 9;
	g->root_bits = 9;
	g->root_tables = 1;
	g->table_size = KiB(4);
	g->root_size = KiB(4);
	g->leaf_mask = 0x7; /* PTE 4 KiB, PDE 2 MiB, PDPTE 1 GiB */
	return 0;
}

int tk_riscv_geo(unsigned int ia, unsigned int oa, struct tk_geo *g)
{
	unsigned int levels;

	if (ia != 41 && ia != 50 && ia != 59)
		return -1;
	levels = (ia - 14) / 9; /* GPA bits = 12 + 9 * levels + 2 */
	if (oa < 32 || oa > 56)
		return -1;
	memset(g, 0, sizeof(*g));
	g->levels = levels;
	g->page_shift = 12;
	g->bits = 9;
	g->root_bits = 11;
	g->root_tables = 1;
	g->table_size = KiB(4);
	g->root_size = KiB(16);
	g->leaf_mask = (1u << levels) - 1;
	return 0;
}

int tk_geo_cfg(const struct tdp_config *cfg, struct tk_geo *g)
{
	int rc;

	switch (cfg->format) {
	case TDP_FORMAT_ARM64_S2:
		rc = tk_arm64_geo(cfg->granule_shift ? cfg->granule_shift : 12, cfg->ia_bits,
				  cfg->oa_bits, g);
		break;
	case TDP_FORMAT_X86_EPT:
		if (cfg->granule_shift && cfg->granule_shift != 12)
			return -1;
		rc = tk_ept_geo(cfg->ia_bits, cfg->oa_bits, g);
		break;
	case TDP_FORMAT_RISCV_G:
		if (cfg->granule_shift && cfg->granule_shift != 12)
			return -1;
		rc = tk_riscv_geo(cfg->ia_bits, cfg->oa_bits, g);
		break;
	default:
		return -1;
	}
	if (rc == 0 && cfg->leaf_levels && cfg->leaf_levels < 32)
		g->leaf_mask &= (1u << cfg->leaf_levels) - 1;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Format facts                                                        */

bool tk_feat_supported(enum tdp_format format, uint32_t feats)
{
	/* RISC-V G-stage has a single execute bit */
	return !((feats & TK_FEAT_SPLIT_X) && format == TDP_FORMAT_RISCV_G);
}

uint32_t tk_feat_flags(enum tdp_format format, uint32_t feats)
{
	uint32_t f = 0;

	if ((feats & TK_FEAT_SPLIT_X) && format != TDP_FORMAT_RISCV_G)
		f |= format == TDP_FORMAT_X86_EPT ? TDP_CFG_X86_MBEC : TDP_CFG_ARM64_XNX;
	return f;
}

bool tk_flush_on_install(const struct tdp_config *cfg)
{
	/* a hart without Svvptc may cache invalid G-stage entries (docs/formats.md §R.7) */
	return cfg->format == TDP_FORMAT_RISCV_G && !(cfg->flags & TDP_CFG_RISCV_SVVPTC);
}

bool tk_format_bbm(enum tdp_format format)
{
	return format == TDP_FORMAT_ARM64_S2;
}

static bool split_x(const struct tdp_config *cfg)
{
	if (cfg->format == TDP_FORMAT_X86_EPT)
		return cfg->flags & TDP_CFG_X86_MBEC;
	if (cfg->format == TDP_FORMAT_RISCV_G)
		return false;
	return cfg->flags & TDP_CFG_ARM64_XNX;
}

/* The permission bits alone: may a leaf carry them? */
static bool prot_ok(const struct tdp_config *cfg, tdp_attr_t p)
{
	tdp_attr_t x = p & TDP_PROT_X;

	if (x != 0 && x != TDP_PROT_X && !split_x(cfg))
		return false;
	if (cfg->format == TDP_FORMAT_ARM64_S2)
		return true;
	/*
	 * EPT: W without R is a misconfiguration, nothing at all is not
	 * present. RISC-V: W without R is reserved, R = W = X = 0 is a table
	 * pointer; execute-only is always legal (docs/formats.md §R.3).
	 */
	if ((p & TDP_PROT_W) && !(p & TDP_PROT_R))
		return false;
	if (!(p & TDP_PROT_R))
		return x != 0 && (cfg->format == TDP_FORMAT_RISCV_G ||
				  (cfg->flags & TDP_CFG_X86_EXEC_ONLY));
	return true;
}

bool tk_attr_ok(const struct tdp_config *cfg, tdp_attr_t attr)
{
	if (attr & ~(TDP_PROT_MASK | TDP_MT_MASK | TDP_SW_MASK))
		return false;
	if ((attr & TDP_MT_MASK) > TDP_MT_DEVICE_STRICT)
		return false;
	if (cfg->format == TDP_FORMAT_RISCV_G) {
		/* two RSW bits; PBMT has PMA, NC and IO only, and only with Svpbmt */
		if ((attr & TDP_SW_MASK) > TDP_SW(3) || (attr & TDP_MT_MASK) > TDP_MT_DEVICE)
			return false;
		if ((attr & TDP_MT_MASK) != TDP_MT_NORMAL_WB &&
		    !(cfg->flags & (TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_PMA_MT)))
			return false;
	}
	return prot_ok(cfg, attr & TDP_PROT_MASK);
}

bool tk_prot_change_ok(const struct tdp_config *cfg, tdp_attr_t clear, tdp_attr_t set)
{
	const tdp_attr_t allowed = TDP_PROT_MASK | TDP_SW_MASK;

	if ((clear | set) & ~allowed)
		return false;
	if (cfg->format == TDP_FORMAT_RISCV_G && (set & TDP_SW_MASK) > TDP_SW(3))
		return false;
	for (tdp_attr_t p = 0; p <= TDP_PROT_MASK; p++)
		if (prot_ok(cfg, p) && !prot_ok(cfg, ((p & ~clear) | set) & TDP_PROT_MASK))
			return false;
	return true;
}

tdp_attr_t tk_attr_fit(const struct tdp_config *cfg, tdp_attr_t attr)
{
	/* each type falls back to the next weaker one: strict -> device -> NC -> WB */
	while ((attr & TDP_MT_MASK) != TDP_MT_NORMAL_WB &&
	       !tk_attr_ok(cfg, TDP_PROT_R | (attr & TDP_MT_MASK)))
		attr -= 1u << TDP_MT_SHIFT;
	if (cfg->format == TDP_FORMAT_RISCV_G)
		attr &= ~(TDP_SW(0xc)); /* two software bits */
	return attr;
}

uint64_t tk_empty_pte(const struct tdp_config *cfg)
{
	/* EPT with suppress-#VE: bit 63 in every non-present entry (docs/formats.md §E.2) */
	if (cfg->format == TDP_FORMAT_X86_EPT && (cfg->flags & TDP_CFG_X86_SVE))
		return 1ull << 63;
	return 0;
}

bool tk_pte_present(const struct tdp_config *cfg, uint64_t pte)
{
	if (cfg->format == TDP_FORMAT_X86_EPT)
		/* any of R, W, X; bit 10 (user execute) counts only with MBEC */
		return (pte & 7) || ((cfg->flags & TDP_CFG_X86_MBEC) && (pte & (1ull << 10)));
	return pte & 1; /* arm64: the valid bit; RISC-V: V */
}

unsigned int tk_neutral_level(enum tdp_format format, int arch)
{
	if (format == TDP_FORMAT_X86_EPT)
		return (unsigned int)(arch - 1); /* EPT: level 1 (PTE) holds the pages */
	if (format == TDP_FORMAT_RISCV_G)
		return (unsigned int)arch;       /* RISC-V: level 0 holds the pages */
	return (unsigned int)(3 - arch);        /* arm64: level 3 holds the pages */
}
