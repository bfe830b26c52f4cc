/* SPDX-License-Identifier: MIT */
/*
 * arm64 stage-2 registers and descriptor bits against hand-computed values
 * (docs/formats.md §A.2-§A.8): VTCR_EL2, VTTBR_EL2, raw leaf and table
 * descriptors seen through tdp_lookup's res.pte and tdp_walk.
 */
#include "common.h"

/* VTCR_EL2 for each configuration, worked out by hand:
 * T0SZ = 64 - ia; SL0 <<6; IRGN0 = ORGN0 = 01 (0x100 | 0x400); SH0 = 11 (0x3000);
 * TG0 <<14 (4K 00, 64K 01, 16K 10); PS <<16; RES1 bit 31. */
static const struct {
	const char *name;
	uint64_t vtcr;
} vtcr_expect[] = {
	{ "4K/32", 0x80003520 },  /* T0SZ 32, SL0 0 (level 2), PS 32 */
	{ "4K/36", 0x8001355c },  /* T0SZ 28, SL0 1, PS 36 */
	{ "4K/40", 0x80023558 },  /* T0SZ 24, SL0 1 (level 1), PS 40 */
	{ "4K/42", 0x80043556 },  /* T0SZ 22, SL0 1, PS 44 */
	{ "4K/44", 0x80043594 },  /* T0SZ 20, SL0 2 (level 0), PS 44 */
	{ "4K/48", 0x80053590 },  /* T0SZ 16, SL0 2, PS 48 */
	{ "16K/32", 0x8001b560 }, /* T0SZ 32, SL0 1 (level 2), TG0 10, PS 36 */
	{ "16K/36", 0x8001b55c },
	{ "16K/40", 0x8002b558 },
	{ "16K/47", 0x8005b591 }, /* T0SZ 17, SL0 2 (level 1) */
	{ "16K/48", 0x8005b590 },
	{ "64K/32", 0x80007560 }, /* T0SZ 32, SL0 1 (level 2), TG0 01, PS 32 */
	{ "64K/42", 0x80037556 },
	{ "64K/46", 0x80057552 },
	{ "64K/48", 0x80057590 }, /* SL0 2 (level 1) */
	{ "64K/52", 0x8006758c }, /* T0SZ 12, PS 52 */
};

static void t_vtcr(struct tk_fx *fx)
{
	uint64_t v = 0, want = 0;
	bool found = false;

	for (size_t i = 0; i < sizeof(vtcr_expect) / sizeof(vtcr_expect[0]); i++)
		if (!strcmp(vtcr_expect[i].name, fx->cd->name)) {
			want = vtcr_expect[i].vtcr;
			found = true;
		}
	assert_true(found);
	assert_int_equal(tdp_arm64_vtcr(&fx->pgt, 0, &v), 0);
	assert_int_equal(v, want);
	/* the same from the kit's table of SL0/PS values */
	assert_int_equal(v, (uint64_t)(64 - fx->cd->ia) | ((uint64_t)fx->cd->sl0 << 6) | 0x500ull |
				    0x3000ull |
				    ((uint64_t)(fx->cd->gshift == 12 ? 0 : fx->cd->gshift == 16 ? 1 : 2)
				     << 14) |
				    ((uint64_t)fx->cd->ps << 16) | (1ull << 31));
	assert_int_equal(tdp_arm64_vtcr(&fx->pgt, TDP_ARM64_VMID16, &v), 0);
	assert_int_equal(v, want | (1ull << 19));
	assert_int_equal(tdp_arm64_vtcr(&fx->pgt, TDP_ARM64_HA, &v), 0);
	assert_int_equal(v, want | (1ull << 21));
	assert_int_equal(tdp_arm64_vtcr(&fx->pgt, TDP_ARM64_HA | TDP_ARM64_VMID16, &v), 0);
	assert_int_equal(v, want | (1ull << 21) | (1ull << 19));
	v = 0x1234;
	assert_int_equal(tdp_arm64_vtcr(&fx->pgt, 1u << 5, &v), -TDP_EINVAL);
	assert_int_equal(tdp_arm64_vtcr(NULL, 0, &v), -TDP_EINVAL);
	assert_int_equal(tdp_arm64_vtcr(&fx->pgt, 0, NULL), -TDP_EINVAL);
}

static void t_vttbr(struct tk_fx *fx)
{
	uint64_t v = 0, base;

	/* root PA as composed by hand: BADDR in 47:1, PA[51:48] in 5:2 */
	base = (fx->pgt.root_pa & ((1ull << 48) - 1)) | (((fx->pgt.root_pa >> 48) & 0xf) << 2);
	assert_int_equal(fx->pgt.root_pa & (fx->pgt.geo.root_size - 1), 0);
	assert_int_equal(tdp_arm64_vttbr(&fx->pgt, 0, 0, &v), 0);
	assert_int_equal(v, base);
	assert_int_equal(tdp_arm64_vttbr(&fx->pgt, 0x5a, 0, &v), 0);
	assert_int_equal(v, base | (0x5aull << 48));
	assert_int_equal(tdp_arm64_vttbr(&fx->pgt, 255, TDP_ARM64_CNP, &v), 0);
	assert_int_equal(v, base | (255ull << 48) | 1);
	assert_int_equal(tdp_arm64_vttbr(&fx->pgt, 0xabcd, TDP_ARM64_VMID16, &v), 0);
	assert_int_equal(v, base | (0xabcdull << 48));
	assert_int_equal(tdp_arm64_vttbr(&fx->pgt, 256, 0, &v), -TDP_EINVAL);
	assert_int_equal(tdp_arm64_vttbr(&fx->pgt, 1, 1u << 6, &v), -TDP_EINVAL);
	assert_int_equal(tdp_arm64_vttbr(NULL, 1, 0, &v), -TDP_EINVAL);
	assert_int_equal(tdp_arm64_vttbr(&fx->pgt, 1, 0, NULL), -TDP_EINVAL);
}

/* Literal VTTBR values: the pool's first block is the root, at its pa_base. */
static void t_vttbr_literal(struct tk_fx *fx)
{
	struct tdp_tk_pool *env;
	struct tdp_config cfg;
	struct tdp_pgtable pgt;
	uint64_t v;

	(void)fx;
	env = tk_env_new(0x40000000, TK_ARENA_DEFAULT);
	assert_non_null(env);
	tk_config(env, &cfg, 12, 40, 40);
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), 0);
	assert_int_equal(pgt.root_pa, 0x40000000);
	assert_int_equal(tdp_arm64_vttbr(&pgt, 0x12, TDP_ARM64_CNP, &v), 0);
	assert_int_equal(v, 0x0012000040000001ull);
	assert_int_equal(tdp_arm64_vtcr(&pgt, TDP_ARM64_VMID16, &v), 0);
	assert_int_equal(v, 0x800a3558ull);
	tk_destroy_check(env, &pgt);
	tk_env_free(env);
	/* 64K granule, 52-bit output: root at PA 0x000a_0000_0000_0000 */
	env = tk_env_new(0x000a000000000000ull, TK_ARENA_DEFAULT);
	assert_non_null(env);
	tk_config(env, &cfg, 16, 52, 52);
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), 0);
	assert_int_equal(pgt.root_pa, 0x000a000000000000ull);
	assert_int_equal(tdp_arm64_vttbr(&pgt, 5, 0, &v), 0);
	assert_int_equal(v, 0x0005000000000028ull);
	tk_destroy_check(env, &pgt);
	tk_env_free(env);
}

#define GENMASK(h, l) ((~0ull >> (63 - (h))) & ~((1ull << (l)) - 1))

/* The leaf descriptor libtdp must write, composed by hand from docs/formats.md §A.3, §A.4. */
static uint64_t want_leaf(const struct tk_fx *fx, uint64_t hpa, unsigned int level, tdp_attr_t a,
			  bool xnx)
{
	uint64_t d = 1;
	unsigned int mt = 0;

	if (level == 0)
		d |= 2;
	switch (a & TDP_MT_MASK) {
	case TDP_MT_NORMAL_WB: mt = 0xf; break;
	case TDP_MT_NORMAL_NC: mt = 0x5; break;
	case TDP_MT_DEVICE: mt = 0x1; break;
	case TDP_MT_DEVICE_STRICT: mt = 0x0; break;
	}
	d |= (uint64_t)mt << 2;
	if (a & TDP_PROT_R)
		d |= 1ull << 6;
	if (a & TDP_PROT_W)
		d |= 1ull << 7;
	d |= 3ull << 8;  /* inner shareable */
	d |= 1ull << 10; /* AF */
	d |= hpa & GENMASK(47, fx->cd->gshift);
	if (fx->cd->gshift == 16 && fx->cd->oa == 52)
		d |= ((hpa >> 48) & 0xf) << 12;
	if (xnx) {
		bool xp = a & TDP_PROT_XP, xu = a & TDP_PROT_XU;

		if (!xp && !xu)
			d |= 2ull << 53;
		else if (xp && !xu)
			d |= 3ull << 53;
		else if (!xp && xu)
			d |= 1ull << 53;
	} else if (!(a & TDP_PROT_X)) {
		d |= 1ull << 54;
	}
	d |= (uint64_t)((a & TDP_SW_MASK) >> TDP_SW_SHIFT) << 55;
	return d;
}

static void check_pte(struct tk_fx *fx, uint64_t gpa, uint64_t hpa, unsigned int level, tdp_attr_t a,
		      bool xnx)
{
	struct tdp_lookup_result r;
	uint64_t w = want_leaf(fx, hpa, level, a, xnx);

	assert_int_equal(tdp_lookup(&fx->pgt, gpa, &r), 0);
	if (r.pte != w || r.level != level)
		fail_msg("gpa 0x%llx attr 0x%x level %u: pte 0x%016llx, expected 0x%016llx", ULL(gpa), a,
			 r.level, ULL(r.pte), ULL(w));
	assert_int_equal(r.attr, a);
}

static void pte_bits(struct tk_fx *fx, bool xnx)
{
	static const tdp_attr_t prots[] = { 0, TDP_PROT_R, TDP_PROT_W, TDP_PROT_RW, TDP_PROT_X,
					    TDP_PROT_RWX, TDP_PROT_XP, TDP_PROT_XU | TDP_PROT_R };
	static const tdp_attr_t mts[] = { TDP_MT_NORMAL_WB, TDP_MT_NORMAL_NC, TDP_MT_DEVICE,
					  TDP_MT_DEVICE_STRICT };
	uint64_t g = fx->base, h = fx->hbase;
	size_t np = xnx ? 8 : 6;

	for (size_t p = 0; p < np; p++)
		for (size_t m = 0; m < 4; m++) {
			tdp_attr_t a = prots[p] | mts[m] | TDP_SW((p * 4 + m) & 0xf);

			assert_int_equal(tk_fx_map(fx, g, h, fx->P, a, 0, NULL), 0);
			check_pte(fx, g, h, 0, a, xnx);
			g += fx->P;
			h += 3 * fx->P;
		}
	/* blocks: type 01 */
	assert_int_equal(tk_fx_map(fx, fx->base + fx->big, fx->hbase + fx->big, fx->blk,
				   TDP_PROT_RX | TDP_MT_NORMAL_WB | TDP_SW(0xb), 0, NULL), 0);
	check_pte(fx, fx->base + fx->big, fx->hbase + fx->big, 1,
		  TDP_PROT_RX | TDP_MT_NORMAL_WB | TDP_SW(0xb), xnx);
	if (fx->top >= 2) {
		assert_int_equal(tk_fx_map(fx, fx->base + 2 * fx->big, fx->hbase + 2 * fx->big, fx->big,
					   A_RW, 0, NULL), 0);
		check_pte(fx, fx->base + 2 * fx->big, fx->hbase + 2 * fx->big, fx->top, A_RW, xnx);
	}
	/* highest output addresses */
	{
		uint64_t top = (1ull << fx->cd->oa) - fx->blk;

		assert_int_equal(tk_fx_map(fx, fx->base + 3 * fx->big, top, fx->blk, A_RW, 0, NULL), 0);
		check_pte(fx, fx->base + 3 * fx->big, top, 1, A_RW, xnx);
		assert_int_equal(tk_fx_map(fx, fx->base + 3 * fx->big + fx->blk, top + fx->blk - fx->P,
					   fx->P, A_RW, 0, NULL), 0);
		check_pte(fx, fx->base + 3 * fx->big + fx->blk, top + fx->blk - fx->P, 0, A_RW, xnx);
	}
}

static void t_pte_bits(struct tk_fx *fx)
{
	pte_bits(fx, false);
}

static void t_pte_bits_xnx(struct tk_fx *fx)
{
	pte_bits(fx, true);
}

static int table_visit(const struct tdp_entry *e, unsigned int visit, void *arg)
{
	const struct tk_fx *fx = arg;
	uint64_t w = 3 | (e->pa & GENMASK(47, fx->cd->gshift));

	(void)visit;
	if (fx->cd->gshift == 16 && fx->cd->oa == 52)
		w |= ((e->pa >> 48) & 0xf) << 12;
	if (!e->table || !e->valid || e->pte != w || e->pa & ((1ull << fx->cd->gshift) - 1))
		return 1;
	return 0;
}

/* Table descriptors: 11 in bits 1:0, the next table's address, nothing else. */
static void t_table_descriptors(struct tk_fx *fx)
{
	uint64_t ia_end = 1ull << fx->cd->ia;

	assert_int_equal(tk_fx_map(fx, fx->base - fx->P, fx->hbase, 2 * fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, ia_end - fx->P, fx->hbase, fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_walk(&fx->pgt, 0, ia_end, TDP_WALK_TABLE_PRE, table_visit, fx), 0);
	/* with the pool above 2^48 (64K/52), table addresses use bits 15:12 */
	if (fx->cd->oa == 52)
		assert_true(fx->pgt.root_pa >> 48);
}

/* Without FEAT_XNX, XP != XU is refused; with it, accepted. */
static void t_xnx_flag(struct tk_fx *fx)
{
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->P, TDP_PROT_XP, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->P, TDP_PROT_RW | TDP_PROT_XU, 0, NULL),
			 -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->P, TDP_PROT_X, 0, NULL), 0);
}

static const struct tcase cases[] = {
	CASE(t_vtcr),
	CASE(t_vttbr),
	CASE(t_pte_bits),
	CASE_FLAGS(t_pte_bits_xnx, TDP_CFG_ARM64_XNX),
	CASE(t_table_descriptors),
	CASE(t_xnx_flag),
};

static const struct tcase once[] = {
	CASE_NOFX(t_vttbr_literal),
};

int main(void)
{
	int rc = 0;

	rc |= run_cases_all_cfgs("arm64-regs", cases, sizeof(cases) / sizeof(cases[0]));
	rc |= run_cases_once("arm64-literal", once, 1);
	return rc;
}
