/* SPDX-License-Identifier: MIT */
/*
 * tdp_pgtable_init / destroy: geometry of every configuration against the
 * hand-computed table (docs/formats.md §A.1, §A.7), root allocation, the
 * translation modes, and every invalid configuration.
 */
#include "common.h"

/* Geometry, root, level sizes, for each configuration (body runs with fx->cd only). */
static void t_init_geometry(struct tk_fx *fx)
{
	const struct tk_cfgdesc *cd = fx->cd;
	struct tdp_tk_pool *env = tk_env_new(cd->oa == 52 ? 0x000a000000000000ull : TK_PA_BASE_DEFAULT,
					TK_ARENA_DEFAULT);
	struct tdp_config cfg;
	struct tdp_pgtable pgt;
	unsigned int s = cd->gshift - 3;

	assert_non_null(env);
	tk_config(env, &cfg, cd->gshift, cd->ia, cd->oa);
	memset(&pgt, 0, sizeof(pgt));
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), 0);
	assert_int_equal(pgt.geo.levels, cd->levels);
	assert_int_equal(pgt.geo.page_shift, cd->gshift);
	assert_int_equal(pgt.geo.bits_per_level, s);
	assert_int_equal(pgt.geo.root_bits, cd->root_bits);
	assert_int_equal(pgt.geo.root_tables, cd->root_tables);
	assert_int_equal(pgt.geo.table_size, (size_t)1 << cd->gshift);
	assert_int_equal(pgt.geo.root_size, cd->root_size);
	assert_int_equal(pgt.geo.leaf_levels_mask, cd->leaf_mask);
	/* the root covers exactly the input range */
	assert_int_equal(cd->gshift + (cd->levels - 1) * s + cd->root_bits, cd->ia);
	/* one zeroed root block of root_size, aligned to it, nothing else */
	assert_int_equal(env->out_blocks, 1);
	assert_int_equal(env->out_bytes, cd->root_size);
	assert_true(tk_pool_live(env, pgt.root_pa, cd->root_size));
	assert_int_equal(pgt.root_pa & (cd->root_size - 1), 0);
	assert_ptr_equal(pgt.root, tk_pa_to_va(env, pgt.root_pa));
	assert_int_equal(pgt.cfg.ia_bits, cd->ia);
	assert_int_equal(tdp_page_size(&pgt), 1ull << cd->gshift);
	for (unsigned int l = 0; l < cd->levels; l++)
		assert_int_equal(tdp_level_size(&pgt, l), 1ull << (cd->gshift + l * s));
	assert_int_equal(tdp_level_size(&pgt, cd->levels), 0);
	assert_int_equal(tdp_level_size(&pgt, 77), 0);
	assert_int_equal(tdp_arm64_level(cd->levels - 1), 4 - (int)cd->levels);
	tk_check_table(env, &pgt, 0);
	tk_destroy_check(env, &pgt);
	tk_env_free(env);
}

/* virt_to_phys/phys_to_virt mode: same geometry, root found through the callbacks. */
static void t_init_xlate(struct tk_fx *fx)
{
	const struct tk_cfgdesc *cd = fx->cd;
	struct tdp_tk_pool *env = tk_env_new(TK_PA_BASE_DEFAULT, TK_ARENA_DEFAULT);
	struct tdp_config cfg;
	struct tdp_pgtable pgt;
	struct tdp_lookup_result r;

	assert_non_null(env);
	tk_config_xlate(env, &cfg, cd->gshift, cd->ia, cd->oa);
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), 0);
	assert_ptr_equal(pgt.root, tk_pa_to_va(env, pgt.root_pa));
	assert_int_equal(tdp_map(&pgt, 1ull << 31, 1ull << 30, 1ull << cd->gshift, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_lookup(&pgt, (1ull << 31) + 5, &r), 0);
	assert_int_equal(r.hpa, (1ull << 30) + 5);
	tk_check_table(env, &pgt, 0);
	tk_destroy_check(env, &pgt);
	tk_env_free(env);
}

/* granule_shift 0 means 4K. */
static void t_init_granule_default(struct tk_fx *fx)
{
	struct tdp_tk_pool *env = tk_env_new(TK_PA_BASE_DEFAULT, TK_ARENA_DEFAULT);
	struct tdp_config cfg;
	struct tdp_pgtable pgt;

	(void)fx;
	assert_non_null(env);
	tk_config(env, &cfg, 0, 40, 40);
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), 0);
	assert_int_equal(pgt.geo.page_shift, 12);
	assert_int_equal(pgt.geo.levels, 3);
	assert_int_equal(pgt.geo.root_tables, 2);
	assert_int_equal(tdp_page_size(&pgt), 4096);
	tk_destroy_check(env, &pgt);
	tk_env_free(env);
}

/* Other valid sizes: every PARange-sized oa >= ia, the 64K 49..52 range with oa 52. */
static void t_init_valid_sizes(struct tk_fx *fx)
{
	static const unsigned int pa[] = { 32, 36, 40, 42, 44, 48, 52 };
	struct tdp_tk_pool *env = tk_env_new(TK_PA_BASE_DEFAULT, TK_ARENA_DEFAULT);

	(void)fx;
	assert_non_null(env);
	for (unsigned int g = 12; g <= 16; g += 2)
		for (unsigned int ia = 32; ia <= 52; ia++)
			for (size_t o = 0; o < sizeof(pa) / sizeof(pa[0]); o++) {
				struct tdp_config cfg;
				struct tdp_pgtable pgt;
				struct tk_geo kg;
				int rc;

				if (pa[o] < ia || (pa[o] == 52 && g != 16))
					continue; /* 52-bit output with 4K/16K is LPA2: not covered */
				tk_config(env, &cfg, g, ia, pa[o]);
				rc = tdp_pgtable_init(&pgt, &cfg);
				if (tk_arm64_geo(g, ia, pa[o], &kg)) {
					if (rc != -TDP_EINVAL)
						fail_msg("granule %u ia %u oa %u: init = %d, expected -EINVAL",
							 1u << g, ia, pa[o], rc);
					continue;
				}
				if (rc != 0)
					fail_msg("granule %u ia %u oa %u: init = %d", 1u << g, ia, pa[o], rc);
				tk_check_table(env, &pgt, 0);
				tk_destroy_check(env, &pgt);
			}
	tk_env_free(env);
}

static void expect_init_fails(struct tdp_tk_pool *env, const struct tdp_config *cfg, int err,
			      const char *what)
{
	struct tdp_pgtable pgt;
	size_t allocs = env->allocs;
	int rc;

	memset(&pgt, 0, sizeof(pgt));
	rc = tdp_pgtable_init(&pgt, cfg);
	if (rc != err)
		fail_msg("%s: init = %d, expected %d", what, rc, err);
	if (env->out_blocks != 0)
		fail_msg("%s: %zu blocks leaked", what, env->out_blocks);
	if (err == -TDP_EINVAL && env->allocs != allocs)
		fail_msg("%s: a rejected configuration allocated memory", what);
}

/* Every invalid configuration returns the documented error and holds no page. */
static void t_init_invalid(struct tk_fx *fx)
{
	struct tdp_tk_pool *env = tk_env_new(TK_PA_BASE_DEFAULT, TK_ARENA_DEFAULT);
	struct tdp_config cfg;
	struct tdp_mm_ops mm;
	struct tdp_tlb_ops tlb;
	struct tdp_pgtable pgt;
	static const unsigned int bad_granule[] = { 11, 13, 15, 17, 20, 21, 30 };
	static const unsigned int bad_oa[] = { 0, 12, 31, 33, 38, 39, 41, 43, 46, 47, 50, 56, 64, 65 };
	static const struct { unsigned int g, ia, oa; } bad_ia[] = {
		{ 12, 31, 40 }, { 12, 20, 40 }, { 12, 0, 40 },  { 12, 49, 52 }, { 12, 52, 52 },
		{ 14, 31, 40 }, { 14, 49, 52 }, { 14, 52, 52 }, { 16, 31, 40 }, { 16, 49, 48 },
		{ 16, 53, 52 }, { 16, 64, 52 }, { 16, 100, 52 }, { 12, 42, 40 }, { 16, 44, 42 },
		{ 14, 48, 44 }, { 12, 36, 32 },
	};

	(void)fx;
	assert_non_null(env);
	for (size_t i = 0; i < sizeof(bad_granule) / sizeof(bad_granule[0]); i++) {
		tk_config(env, &cfg, bad_granule[i], 40, 40);
		expect_init_fails(env, &cfg, -TDP_EINVAL, "bad granule");
	}
	for (size_t i = 0; i < sizeof(bad_oa) / sizeof(bad_oa[0]); i++) {
		tk_config(env, &cfg, 16, 32, bad_oa[i]);
		expect_init_fails(env, &cfg, -TDP_EINVAL, "oa not a PARange value");
	}
	for (size_t i = 0; i < sizeof(bad_ia) / sizeof(bad_ia[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "granule %u ia %u oa %u", 1u << bad_ia[i].g, bad_ia[i].ia,
			 bad_ia[i].oa);
		tk_config(env, &cfg, bad_ia[i].g, bad_ia[i].ia, bad_ia[i].oa);
		expect_init_fails(env, &cfg, -TDP_EINVAL, what);
	}
	/* formats */
	tk_config(env, &cfg, 12, 40, 40);
	cfg.format = TDP_FORMAT_NONE;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "format NONE");
	cfg.format = (enum tdp_format)77;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "unknown format");
	cfg.format = TDP_FORMAT_X86_EPT;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "EPT with a 40-bit input (not 48 or 57)");
	cfg.format = TDP_FORMAT_RISCV_G;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "RISC-V with a 40-bit input (not 41, 50 or 59)");
	/* flags */
	static const uint32_t bad_flags[] = { 1u << 1, 1u << 7, 1u << 15, 1u << 16, 1u << 31 };
	for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
		tk_config(env, &cfg, 12, 40, 40);
		cfg.flags = bad_flags[i];
		expect_init_fails(env, &cfg, -TDP_EINVAL, "unknown flag");
	}
	/* callbacks */
	tk_config(env, &cfg, 12, 40, 40);
	cfg.mm = NULL;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "mm NULL");
	tk_config(env, &cfg, 12, 40, 40);
	cfg.tlb = NULL;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "tlb NULL");
	{
		/* change ops given without their callback */
		static const struct tdp_change_ops no_cb = { NULL };

		tk_config(env, &cfg, 12, 40, 40);
		cfg.changes = &no_cb;
		expect_init_fails(env, &cfg, -TDP_EINVAL, "changes without leaf_changed");
	}
	mm = tk_mm_linear;
	mm.zalloc_table = NULL;
	tk_config(env, &cfg, 12, 40, 40);
	cfg.mm = &mm;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "zalloc NULL");
	mm = tk_mm_linear;
	mm.free_table = NULL;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "free NULL");
	mm = tk_mm_xlate;
	mm.phys_to_virt = NULL;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "only virt_to_phys");
	mm = tk_mm_xlate;
	mm.virt_to_phys = NULL;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "only phys_to_virt");
	tlb = tk_tlb;
	tlb.flush_range = NULL;
	tk_config(env, &cfg, 12, 40, 40);
	cfg.tlb = &tlb;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "flush_range NULL");
	tlb = tk_tlb;
	tlb.flush_all = NULL;
	expect_init_fails(env, &cfg, -TDP_EINVAL, "flush_all NULL");
	/* NULL arguments */
	tk_config(env, &cfg, 12, 40, 40);
	assert_int_equal(tdp_pgtable_init(NULL, &cfg), -TDP_EINVAL);
	assert_int_equal(tdp_pgtable_init(&pgt, NULL), -TDP_EINVAL);
	tk_check_pool_clean(env);
	assert_int_equal(env->allocs, 0);
	tk_env_free(env);
}

/* The root allocation fails: -ENOMEM, nothing held; then it works. */
static void t_init_nomem(struct tk_fx *fx)
{
	struct tdp_tk_pool *env = tk_env_new(TK_PA_BASE_DEFAULT, TK_ARENA_DEFAULT);
	struct tdp_config cfg;
	struct tdp_pgtable pgt;

	(void)fx;
	assert_non_null(env);
	tk_config(env, &cfg, 16, 46, 48); /* 1 MiB root */
	tk_fail_all(env, true);
	expect_init_fails(env, &cfg, -TDP_ENOMEM, "allocation fails");
	tk_fail_all(env, false);
	tk_fail_nth(env, 0);
	expect_init_fails(env, &cfg, -TDP_ENOMEM, "first allocation fails");
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), 0);
	assert_int_equal(env->out_bytes, 1u << 20);
	tk_destroy_check(env, &pgt);
	tk_env_free(env);
}

/* destroy / size helpers on NULL or uninitialised tables. */
static void t_destroy_invalid(struct tk_fx *fx)
{
	struct tdp_pgtable pgt;

	(void)fx;
	memset(&pgt, 0, sizeof(pgt));
	assert_int_equal(tdp_pgtable_destroy(NULL), -TDP_EINVAL);
	assert_int_equal(tdp_pgtable_destroy(&pgt), -TDP_EINVAL);
	assert_int_equal(tdp_page_size(&pgt), 0);
	assert_int_equal(tdp_level_size(&pgt, 0), 0);
}

/* destroy of a full table: one flush_all, then every table freed. */
static void t_destroy_full(struct tk_fx *fx)
{
	assert_int_equal(tk_fx_map(fx, fx->base - fx->blk - fx->P, fx->hbase - fx->blk - fx->P,
				   2 * fx->P + 2 * fx->blk + fx->big, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, 0, 0, fx->P, A_RW, 0, NULL), 0);
	assert_true(fx->env->out_blocks > 2);
	/* tk_fx_fini (after this body) checks destroy */
}

static const struct tcase all_cfg_cases[] = {
	CASE_NOFX(t_init_geometry),
	CASE_NOFX(t_init_xlate),
};

static const struct tcase once_cases[] = {
	CASE_NOFX(t_init_granule_default),
	CASE_NOFX(t_init_valid_sizes),
	CASE_NOFX(t_init_invalid),
	CASE_NOFX(t_init_nomem),
	CASE_NOFX(t_destroy_invalid),
};

static const struct tcase op_cases[] = {
	CASE(t_destroy_full),
};

int main(void)
{
	int rc = 0;

	rc |= run_cases_all_cfgs("init-geometry", all_cfg_cases, 2);
	rc |= run_cases_once("init", once_cases, sizeof(once_cases) / sizeof(once_cases[0]));
	rc |= run_cases("destroy", op_cases, 1, NULL, 0);
	return rc;
}
