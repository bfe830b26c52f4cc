/* SPDX-License-Identifier: MIT */
/*
 * arm64 stage-2 reference walker (tdp_tk_ref_arm64), written from
 * docs/formats.md §A and sharing nothing with lib/: it decodes
 * VTCR_EL2 and VTTBR_EL2 the way the hardware would, reads the descriptors
 * through a struct tdp_tk_mem and reports the translation or the fault.
 *
 * What it models (FEAT_XNX optional; no FEAT_LPA2, no FEAT_TTST, no
 * hardware dirty state):
 * - VTCR_EL2: T0SZ (16..39, down to 12 for a 64K granule with a 52-bit
 *   output), SL0 (its meaning depends on TG0), TG0, PS (52 bits act as 48
 *   unless the granule is 64K), HA; DS, SL2 and HD are rejected.
 * - VTTBR_EL2: BADDR bits 47:1, with PA[51:48] in bits 5:2 for a 52-bit
 *   output; CnP and the VMID do not change the walk.
 * - Descriptors: invalid, reserved, block/table/page by level and granule,
 *   RES0 bits, address size, access flag, S2AP and XN.
 *
 * This file also holds the kit's arm64 geometry oracle (tk_arm64_geo).
 */
#include "kit_internal.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Bit helpers (own, not lib/'s)                                        */

/* Bits h..l set; 0 when h < l. */
static uint64_t field(unsigned int h, unsigned int l)
{
	if (h < l)
		return 0;
	return (~0ull >> (63 - h)) & ~((1ull << l) - 1);
}

static uint64_t bit(unsigned int n)
{
	return 1ull << n;
}

/* ------------------------------------------------------------------ */
/* `why` text without snprintf (the iterators walk a lot)               */

static void w_bin4(struct tk_text *w, unsigned int v)
{
	char tmp[7] = { '0', 'b', 0, 0, 0, 0, 0 };

	for (int i = 0; i < 4; i++)
		tmp[2 + i] = (v >> (3 - i)) & 1 ? '1' : '0';
	tk_text_str(w, tmp);
}

/* ------------------------------------------------------------------ */
/* Attributes                                                          */

tdp_attr_t tk_arm64_decode_attr(uint64_t pte, bool xnx)
{
	tdp_attr_t a = 0;
	unsigned int xn = (unsigned int)((pte >> 53) & 3);

	if (pte & bit(6))
		a |= TDP_PROT_R; /* S2AP[0] */
	if (pte & bit(7))
		a |= TDP_PROT_W; /* S2AP[1] */
	if (xnx) {
		switch (xn) {
		case 0: a |= TDP_PROT_XP | TDP_PROT_XU; break;
		case 1: a |= TDP_PROT_XU; break; /* EL0 may execute, EL1 may not */
		case 2: break;
		case 3: a |= TDP_PROT_XP; break; /* EL1 may execute, EL0 may not */
		}
	} else if (!(xn & 2)) {
		a |= TDP_PROT_XP | TDP_PROT_XU; /* only XN (bit 54) counts */
	}
	switch ((pte >> 2) & 0xf) { /* MemAttr with HCR_EL2.FWB = 0 */
	case 0xf: a |= TDP_MT_NORMAL_WB; break;
	case 0x5: a |= TDP_MT_NORMAL_NC; break;
	case 0x1: a |= TDP_MT_DEVICE; break;
	case 0x0: a |= TDP_MT_DEVICE_STRICT; break;
	default: a |= TDP_MT_MASK; break; /* not a type libtdp writes */
	}
	a |= TDP_SW((pte >> 55) & 0xf);
	return a;
}

/* ------------------------------------------------------------------ */
/* Registers                                                           */

struct s2 {
	unsigned int gshift; /* 12, 14, 16 */
	unsigned int stride; /* gshift - 3: index bits of a full table */
	unsigned int ia, oa; /* input size, effective output size */
	int start;           /* start level */
	unsigned int root_bits;
	uint64_t root_pa;
	bool lpa;            /* 64K granule with a 52-bit output: OA[51:48] in descriptor bits 15:12 */
	bool ha, xnx;
};

/* Bits an entry at `level` resolves below itself (its size is 2^shift). */
static unsigned int level_shift(const struct s2 *c, int level)
{
	return c->gshift + (unsigned int)(3 - level) * c->stride;
}

static void set_result(struct tdp_tk_xlate *x, enum tdp_tk_result r, struct tk_text *w)
{
	x->result = r;
	w->n = 0;
	w->p[0] = '\0';
}

/* Decode VTCR_EL2/VTTBR_EL2. false: x holds the outcome (MALFORMED or a fault). */
static bool decode_regs(const struct tdp_tk_arm64_regs *regs, struct s2 *c, struct tdp_tk_xlate *x,
			struct tk_text *w)
{
	static const unsigned int ps_bits[8] = { 32, 36, 40, 42, 44, 48, 52, 0 };
	uint64_t vtcr = regs->vtcr, vttbr = regs->vttbr;
	unsigned int tg0 = (unsigned int)(vtcr >> 14) & 3, ps = (unsigned int)(vtcr >> 16) & 7;
	unsigned int sl0 = (unsigned int)(vtcr >> 6) & 3, t0sz = (unsigned int)vtcr & 63;
	unsigned int min_t0sz, ia, rb;
	uint64_t align;

	memset(c, 0, sizeof(*c));
	x->span_base = 0;
	x->span_size = 0; /* the whole address space */
	set_result(x, TDP_TK_MALFORMED, w);
	switch (tg0) {
	case 0: c->gshift = 12; break;
	case 1: c->gshift = 16; break;
	case 2: c->gshift = 14; break;
	default:
		tk_text_str(w, "VTCR_EL2.TG0 = 0b11 is reserved");
		return false;
	}
	c->stride = c->gshift - 3;
	if (!ps_bits[ps]) {
		tk_text_str(w, "VTCR_EL2.PS = 0b111 is reserved");
		return false;
	}
	if (vtcr & bit(32)) {
		tk_text_str(w, "VTCR_EL2.DS = 1 (FEAT_LPA2) is not modelled");
		return false;
	}
	if (vtcr & bit(33)) {
		tk_text_str(w, "VTCR_EL2.SL2 set without DS");
		return false;
	}
	if (vtcr & bit(22)) {
		tk_text_str(w, "VTCR_EL2.HD (hardware dirty state) is not modelled");
		return false;
	}
	c->oa = ps_bits[ps];
	/* 52 bits need FEAT_LPA with 64K; with 4K/16K and no DS the output stays 48 bits */
	if (c->oa == 52 && c->gshift != 16)
		c->oa = 48;
	c->lpa = c->oa == 52;
	c->ha = (vtcr & bit(21)) != 0;
	c->xnx = (regs->features & TDP_TK_ARM64_FEAT_XNX) != 0;

	min_t0sz = c->lpa ? 12 : 16;
	if (t0sz < min_t0sz || t0sz > 39) {
		tk_text_str(w, "VTCR_EL2.T0SZ = ");
		tk_text_dec(w, t0sz);
		tk_text_str(w, " outside ");
		tk_text_dec(w, min_t0sz);
		tk_text_str(w, "..39");
		return false;
	}
	ia = 64 - t0sz;
	c->ia = ia;

	if (c->gshift == 12) {
		/* SL0 counts from level 2: 00 = 2, 01 = 1, 10 = 0; 11 (level 3) needs FEAT_TTST */
		if (sl0 == 3) {
			tk_text_str(w, "VTCR_EL2.SL0 = 0b11 with 4K needs FEAT_TTST");
			return false;
		}
		c->start = 2 - (int)sl0;
	} else {
		/* SL0 counts from level 3; 16K 11 = level 0 needs DS; 64K 11 reserved */
		if (sl0 == 3) {
			tk_text_str(w, c->gshift == 14 ? "VTCR_EL2.SL0 = 0b11 with 16K needs DS = 1" :
						   "VTCR_EL2.SL0 = 0b11 is reserved with 64K");
			return false;
		}
		c->start = 3 - (int)sl0;
	}
	x->level = c->start;
	/* the start level resolves between 1 and stride + 4 bits (up to 16 concatenated tables) */
	if (ia <= level_shift(c, c->start) || ia - level_shift(c, c->start) > c->stride + 4) {
		tk_text_str(w, "start level ");
		tk_text_dec(w, (uint64_t)c->start);
		tk_text_str(w, " (SL0 ");
		tk_text_dec(w, sl0);
		tk_text_str(w, ") cannot resolve a ");
		tk_text_dec(w, ia);
		tk_text_str(w, "-bit IPA with at most 16 concatenated tables");
		return false;
	}
	rb = ia - level_shift(c, c->start);
	c->root_bits = rb;
	if (ia > c->oa) {
		tk_text_str(w, "IPA size ");
		tk_text_dec(w, ia);
		tk_text_str(w, " above the output size ");
		tk_text_dec(w, c->oa);
		tk_text_str(w, " (CONSTRAINED UNPREDICTABLE)");
		return false;
	}

	/* VTTBR_EL2: bit 0 CnP, 63:48 VMID */
	if (c->lpa) {
		if (vttbr & bit(1)) {
			tk_text_str(w, "VTTBR_EL2 bit 1 is RES0 with a 52-bit output");
			return false;
		}
		c->root_pa = (vttbr & field(47, 6)) | ((vttbr >> 2) & 0xf) << 48;
	} else {
		c->root_pa = vttbr & field(47, 1);
	}
	align = 8ull << rb; /* the root, concatenated or not, is aligned to its size */
	if (c->root_pa & (align - 1)) {
		tk_text_str(w, "VTTBR_EL2.BADDR ");
		tk_text_hex(w, c->root_pa);
		tk_text_str(w, " not aligned to the root size ");
		tk_text_hex(w, align);
		return false;
	}
	if (c->root_pa >> c->oa) {
		set_result(x, TDP_TK_ADDRESS_SIZE_FAULT, w);
		x->span_size = 1ull << ia;
		tk_text_str(w, "VTTBR_EL2.BADDR ");
		tk_text_hex(w, c->root_pa);
		tk_text_str(w, " above the ");
		tk_text_dec(w, c->oa);
		tk_text_str(w, "-bit output size");
		return false;
	}
	set_result(x, TDP_TK_OK, w);
	return true;
}

/* ------------------------------------------------------------------ */
/* Descriptors                                                         */

static uint64_t desc_at(const void *tbl, size_t idx)
{
	uint64_t d;

	memcpy(&d, (const unsigned char *)tbl + idx * 8, sizeof(d));
	return d;
}

/* Output or next-table address of a descriptor whose address field starts at bit `low`. */
static uint64_t desc_oa(const struct s2 *c, uint64_t d, unsigned int low)
{
	uint64_t a = d & field(47, low);

	if (c->lpa)
		a |= ((d >> 12) & 0xf) << 48;
	return a;
}

/* Bits 15:12 hold OA[51:48] only with 64K and a 52-bit output; below the granule else RES0. */
static uint64_t low_res0(const struct s2 *c, unsigned int low)
{
	uint64_t m = field(low - 1, 12);

	if (c->lpa)
		m &= ~field(15, 12);
	return m;
}

static bool block_allowed(const struct s2 *c, int level)
{
	switch (c->gshift) {
	case 12: return level == 1 || level == 2; /* level 0 needs DS */
	case 14: return level == 2;               /* level 1 needs DS */
	default: return level == 2 || (level == 1 && c->lpa);
	}
}

static void why_at(struct tk_text *w, int level, uint64_t d)
{
	tk_text_str(w, "level ");
	tk_text_dec(w, (uint64_t)level);
	tk_text_str(w, " descriptor ");
	tk_text_hex(w, d);
	tk_text_str(w, ": ");
}

/* RES0 and alignment of a table descriptor; false with x MALFORMED. */
static bool check_table_desc(const struct s2 *c, uint64_t d, int level, struct tdp_tk_xlate *x,
			     struct tk_text *w)
{
	/* 63:59 carry no hierarchical attributes at stage 2, 50:48 are RES0 without DS */
	uint64_t res0 = field(63, 59) | field(50, 48) | low_res0(c, c->gshift);

	if (!(d & res0))
		return true;
	set_result(x, TDP_TK_MALFORMED, w);
	why_at(w, level, d);
	tk_text_str(w, "table descriptor sets RES0 bits ");
	tk_text_hex(w, d & res0);
	return false;
}

/* RES0 bits and output alignment of a block or page; false with x MALFORMED. */
static bool check_leaf_desc(const struct s2 *c, uint64_t d, int level, struct tdp_tk_xlate *x,
			    struct tk_text *w)
{
	unsigned int shift = level_shift(c, level);
	uint64_t res0 = bit(11) | field(50, 48) | bit(63) | low_res0(c, c->gshift);
	uint64_t below = field(shift - 1, c->gshift);

	if (!c->xnx)
		res0 |= bit(53); /* XN[0] exists only with FEAT_XNX */
	if (d & res0) {
		set_result(x, TDP_TK_MALFORMED, w);
		why_at(w, level, d);
		tk_text_str(w, "RES0 bits ");
		tk_text_hex(w, d & res0);
		tk_text_str(w, " set");
		if (d & res0 & bit(53))
			tk_text_str(w, " (XN[0] without FEAT_XNX)");
		return false;
	}
	if (d & below) {
		set_result(x, TDP_TK_MALFORMED, w);
		why_at(w, level, d);
		tk_text_str(w, "output address bits ");
		tk_text_hex(w, d & below);
		tk_text_str(w, " below the block size");
		return false;
	}
	return true;
}

/* MemAttr and SH; false with x MALFORMED. */
static bool check_leaf_attr(uint64_t d, int level, tdp_attr_t attr, struct tdp_tk_xlate *x,
			    struct tk_text *w)
{
	unsigned int memattr = (unsigned int)(d >> 2) & 0xf, sh = (unsigned int)(d >> 8) & 3;

	if ((attr & TDP_MT_MASK) == TDP_MT_MASK) {
		set_result(x, TDP_TK_MALFORMED, w);
		why_at(w, level, d);
		tk_text_str(w, "MemAttr ");
		w_bin4(w, memattr);
		tk_text_str(w, " not one libtdp writes");
		return false;
	}
	if (sh == 1 || ((memattr & 0xc) && sh != 3)) {
		set_result(x, TDP_TK_MALFORMED, w);
		why_at(w, level, d);
		tk_text_str(w, sh == 1 ? "SH = 0b01 is reserved" :
				   "normal memory not inner shareable (SH != 0b11)");
		return false;
	}
	return true;
}

/* Permission check of a leaf that translates; false with x PERMISSION_FAULT. */
static bool check_perm(uint64_t d, int level, tdp_attr_t attr, unsigned int access,
		       struct tdp_tk_xlate *x, struct tk_text *w)
{
	const char *need = NULL;

	if ((access & TDP_TK_READ) && !(attr & TDP_PROT_R))
		need = "read needs S2AP[0] (bit 6)";
	else if ((access & TDP_TK_WRITE) && !(attr & TDP_PROT_W))
		need = "write needs S2AP[1] (bit 7)";
	else if ((access & TDP_TK_EXEC) && (access & TDP_TK_USER) && !(attr & TDP_PROT_XU))
		need = "EL0 execute forbidden by XN (bits 54:53)";
	else if ((access & TDP_TK_EXEC) && !(access & TDP_TK_USER) && !(attr & TDP_PROT_XP))
		need = "EL1 execute forbidden by XN (bits 54:53)";
	if (!need)
		return true;
	set_result(x, TDP_TK_PERMISSION_FAULT, w);
	why_at(w, level, d);
	tk_text_str(w, need);
	return false;
}

/* ------------------------------------------------------------------ */
/* The walk                                                            */

static void fault_at(struct tdp_tk_xlate *x, struct tk_text *w, enum tdp_tk_result r, int level,
		     uint64_t d, const char *what)
{
	set_result(x, r, w);
	why_at(w, level, d);
	tk_text_str(w, what);
}

int tk_arm64_walk(const struct tdp_tk_mem *mem, const struct tdp_tk_arm64_regs *regs, uint64_t ipa,
		  unsigned int access, struct tdp_tk_xlate *x, uint64_t *resume)
{
	struct tk_text w;
	struct s2 c;
	uint64_t tpa, parent = 0, parent_pa = 0, d, oa;
	size_t nent;
	int level;
	unsigned int shift;
	tdp_attr_t attr;

	if (!mem || !mem->ptr || !regs || !x || !tk_access_valid(access))
		return -TDP_EINVAL;
	w = tk_xlate_start(x);
	if (resume)
		*resume = 0;
	if (!decode_regs(regs, &c, x, &w))
		goto out;

	level = c.start;
	if (ipa >> c.ia) {
		set_result(x, TDP_TK_TRANSLATION_FAULT, &w);
		x->level = level;
		x->span_base = 1ull << c.ia;
		x->span_size = 0 - x->span_base; /* up to the top of the address space */
		tk_text_str(&w, "IPA ");
		tk_text_hex(&w, ipa);
		tk_text_str(&w, " above the ");
		tk_text_dec(&w, c.ia);
		tk_text_str(&w, "-bit input size (T0SZ)");
		goto out;
	}

	tpa = c.root_pa;
	nent = (size_t)1 << c.root_bits;
	for (;;) {
		const void *tbl;
		size_t idx;

		shift = level_shift(&c, level);
		x->level = level;
		tbl = mem->ptr(mem->ctx, tpa, nent * 8);
		if (!tbl) {
			/* the entry that led here (or the whole input range for the root) */
			set_result(x, TDP_TK_EXTERNAL_ABORT, &w);
			x->pte = parent;
			x->pte_pa = parent_pa;
			if (x->nr_tables == 0) {
				x->span_base = 0;
				x->span_size = 1ull << c.ia;
			} else {
				x->span_base = ipa & ~((1ull << level_shift(&c, level - 1)) - 1);
				x->span_size = 1ull << level_shift(&c, level - 1);
			}
			tk_text_str(&w, "level ");
			tk_text_dec(&w, (uint64_t)level);
			tk_text_str(&w, " table at ");
			tk_text_hex(&w, tpa);
			tk_text_str(&w, " cannot be read");
			goto out;
		}
		x->tables[x->nr_tables++] = tpa;
		idx = (size_t)(ipa >> shift) & (nent - 1);
		d = desc_at(tbl, idx);
		x->pte = d;
		x->pte_pa = tpa + idx * 8;
		x->span_base = ipa & ~((1ull << shift) - 1);
		x->span_size = 1ull << shift;

		if (!(d & 1)) {
			fault_at(x, &w, TDP_TK_TRANSLATION_FAULT, level, d, "invalid (bit 0 clear)");
			if (resume && d == 0) {
				/* later empty entries of this table fault the same way */
				size_t j = idx + 1;

				while (j < nent && desc_at(tbl, j) == 0)
					j++;
				for (unsigned int i = x->nr_tables; i < TDP_MAX_LEVELS + 1; i++)
					x->tables[i] = 0;
				*resume = x->span_base + ((uint64_t)(j - idx) << shift);
				return 0;
			}
			goto out;
		}
		if (level < 3 && (d & 2)) {
			/* table */
			if (!check_table_desc(&c, d, level, x, &w))
				goto out;
			tpa = desc_oa(&c, d, c.gshift);
			if (tpa >> c.oa) {
				fault_at(x, &w, TDP_TK_ADDRESS_SIZE_FAULT, level, d,
					 "next-table address above the output size");
				goto out;
			}
			parent = d;
			parent_pa = x->pte_pa;
			nent = (size_t)1 << c.stride;
			level++;
			continue;
		}
		if (level == 3 && !(d & 2)) {
			fault_at(x, &w, TDP_TK_TRANSLATION_FAULT, level, d,
				 "type 0b01 is reserved at level 3");
			goto out;
		}
		if (level < 3 && !block_allowed(&c, level)) {
			fault_at(x, &w, TDP_TK_TRANSLATION_FAULT, level, d,
				 "block not allowed at this level for this granule");
			goto out;
		}
		break;
	}

	/* a block (level < 3) or a page (level 3) */
	if (!check_leaf_desc(&c, d, level, x, &w))
		goto out;
	oa = desc_oa(&c, d, shift);
	if (oa >> c.oa) {
		fault_at(x, &w, TDP_TK_ADDRESS_SIZE_FAULT, level, d,
			 "output address above the output size");
		goto out;
	}
	attr = tk_arm64_decode_attr(d, c.xnx);
	if (!check_leaf_attr(d, level, attr, x, &w))
		goto out;
	if (!(d & bit(10)) && !c.ha) {
		fault_at(x, &w, TDP_TK_ACCESS_FLAG_FAULT, level, d, "AF = 0 with VTCR_EL2.HA = 0");
		goto out;
	}
	x->attr = attr;
	x->hpa = oa | (ipa & (x->span_size - 1));
	if (!check_perm(d, level, attr, access, x, &w))
		goto out;
	set_result(x, TDP_TK_OK, &w);
out:
	for (unsigned int i = x->nr_tables; i < TDP_MAX_LEVELS + 1; i++)
		x->tables[i] = 0;
	if (resume)
		*resume = x->span_base + x->span_size;
	return 0;
}

int tdp_tk_ref_arm64(const struct tdp_tk_mem *mem, const struct tdp_tk_arm64_regs *regs,
		     uint64_t ipa, unsigned int access, struct tdp_tk_xlate *x)
{
	return tk_arm64_walk(mem, regs, ipa, access, x, NULL);
}

/* ------------------------------------------------------------------ */
/* Geometry oracle (the configurations themselves are in cfgs.c)       */

static bool oa_is_parange(unsigned int oa)
{
	return oa == 32 || oa == 36 || oa == 40 || oa == 42 || oa == 44 || oa == 48 || oa == 52;
}

int tk_arm64_geo(unsigned int gshift, unsigned int ia, unsigned int oa, struct tk_geo *g)
{
	unsigned int s, levels;
	unsigned int max_ia = 48;

	if (gshift != 12 && gshift != 14 && gshift != 16)
		return -1;
	if (!oa_is_parange(oa))
		return -1;
	if (gshift == 16 && oa == 52)
		max_ia = 52;
	if (ia < 32 || ia > max_ia || ia > oa)
		return -1;
	s = gshift - 3;
	/* fewest levels whose start level resolves at most s + 4 bits (16 tables) */
	for (levels = 2; levels <= 5; levels++)
		if (ia <= gshift + (levels - 1) * s + s + 4)
			break;
	memset(g, 0, sizeof(*g));
	g->levels = levels;
	g->page_shift = gshift;
	g->bits = s;
	g->root_bits = ia - (gshift + (levels - 1) * s);
	g->root_tables = g->root_bits > s ? 1u << (g->root_bits - s) : 1u;
	g->table_size = (size_t)1 << gshift;
	g->root_size = g->table_size * g->root_tables;
	g->leaf_mask = 0x1;
	if (levels >= 2)
		g->leaf_mask |= 0x2; /* 2M / 32M / 512M blocks at arch level 2 */
	if (gshift == 12 && levels >= 3)
		g->leaf_mask |= 0x4; /* 1G blocks at arch level 1 */
	if (gshift == 16 && levels >= 3 && oa == 52)
		g->leaf_mask |= 0x4; /* 4T blocks at arch level 1 with FEAT_LPA */
	return 0;
}

uint64_t tk_level_size(const struct tk_geo *g, unsigned int level)
{
	return 1ull << (g->page_shift + level * g->bits);
}
