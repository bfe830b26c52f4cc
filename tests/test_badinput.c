/* SPDX-License-Identifier: MIT */
/*
 * Bad input to every call: misalignment, size 0, overflow, ranges beyond
 * the input or output size, unsupported attributes, unknown flags, NULL
 * arguments. Each returns the documented error and leaves the table as it
 * was (the tk_fx_* wrappers compare the reference snapshots and the pool).
 */
#include "common.h"

static void populate(struct tk_fx *fx)
{
	assert_int_equal(tk_fx_map(fx, fx->base - fx->blk - fx->P, fx->hbase - fx->blk - fx->P,
				   2 * fx->P + 2 * fx->blk + fx->big, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, 0, 0, fx->P, A_RO, 0, NULL), 0);
}

static void t_bad_map(struct tk_fx *fx)
{
	uint64_t P = fx->P, b = fx->base, h = fx->hbase;
	uint64_t ia_end = 1ull << fx->cd->ia, oa_end = 1ull << fx->cd->oa;

	populate(fx);
	/* alignment and size */
	assert_int_equal(tk_fx_map(fx, b + 1, h, P, A_RW, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b + P / 2, h, P, A_RW, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h + 8, P, A_RW, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h + P / 2, P, A_RW, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h, P + 1, A_RW, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h, P / 2, A_RW, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h, 0, A_RW, 0, NULL), -TDP_EINVAL);
	/* ranges */
	assert_int_equal(tk_fx_map(fx, ia_end - P, h, 2 * P, A_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_map(fx, ia_end, h, P, A_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_map(fx, 0 - P, h, 2 * P, A_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_map(fx, b, h, 0 - P, A_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_map(fx, b, oa_end - P, 2 * P, A_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_map(fx, b, oa_end, P, A_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_map(fx, b, 0 - P, 2 * P, A_RW, 0, NULL), -TDP_ERANGE);
	if (fx->cd->oa < 52)
		assert_int_equal(tk_fx_map(fx, b, 1ull << 52, P, A_RW, 0, NULL), -TDP_ERANGE);
	/* attributes */
	for (tdp_attr_t mt = 4; mt < 8; mt++)
		assert_int_equal(tk_fx_map(fx, b, h, P, TDP_PROT_RW | (mt << TDP_MT_SHIFT), 0, NULL),
				 -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h, P, A_RW | (1u << 7), 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h, P, A_RW | (1u << 12), 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h, P, A_RW | (1u << 31), 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h, P, TDP_PROT_R | TDP_PROT_XP, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h, P, TDP_PROT_R | TDP_PROT_XU, 0, NULL), -TDP_EINVAL);
	/* flags */
	assert_int_equal(tk_fx_map(fx, b, h, P, A_RW, 1u << 1, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h, P, A_RW, 1u << 20, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, b, h, P, A_RW, 1u << 31, NULL), -TDP_EINVAL);
	/* NOREPLACE does not turn a bad argument into -EEXIST */
	assert_int_equal(tk_fx_map(fx, b + 1, h, P, A_RW, TDP_MAP_NOREPLACE, NULL), -TDP_EINVAL);
	/* NULL / uninitialised table */
	assert_int_equal(tdp_map(NULL, b, h, P, A_RW, 0, NULL), -TDP_EINVAL);
	{
		struct tdp_pgtable zero;

		memset(&zero, 0, sizeof(zero));
		assert_int_equal(tdp_map(&zero, b, h, P, A_RW, 0, NULL), -TDP_EINVAL);
	}
	/* pages_needed follows the same rules */
	assert_int_equal(tdp_map_pages_needed(&fx->pgt, b + 1, h, P, 0), -TDP_EINVAL);
	assert_int_equal(tdp_map_pages_needed(&fx->pgt, b, h, 0, 0), -TDP_EINVAL);
	assert_int_equal(tdp_map_pages_needed(&fx->pgt, ia_end, h, P, 0), -TDP_ERANGE);
	assert_int_equal(tdp_map_pages_needed(&fx->pgt, b, oa_end, P, 0), -TDP_ERANGE);
	assert_int_equal(tdp_map_pages_needed(NULL, b, h, P, 0), -TDP_EINVAL);
	assert_true(tdp_map_pages_needed(&fx->pgt, b, h, P, 0) >= 0);
}

static void t_bad_unmap(struct tk_fx *fx)
{
	uint64_t P = fx->P, b = fx->base;
	uint64_t ia_end = 1ull << fx->cd->ia;

	populate(fx);
	assert_int_equal(tk_fx_unmap(fx, b + 1, P, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_unmap(fx, b, P - 1, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_unmap(fx, b, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_unmap(fx, ia_end - P, 2 * P, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_unmap(fx, ia_end, P, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_unmap(fx, 0 - P, 2 * P, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_unmap(fx, 0, 0 - P, NULL), -TDP_ERANGE);
	assert_int_equal(tdp_unmap(NULL, b, P, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_unmap_pages_needed(&fx->pgt, b + 1, P), -TDP_EINVAL);
	assert_int_equal(tdp_unmap_pages_needed(&fx->pgt, ia_end, P), -TDP_ERANGE);
	assert_int_equal(tdp_unmap_pages_needed(NULL, b, P), -TDP_EINVAL);
}

static void t_bad_zap(struct tk_fx *fx)
{
	uint64_t P = fx->P, b = fx->base;
	uint64_t ia_end = 1ull << fx->cd->ia;
	struct tdp_zap_result res;

	populate(fx);
	assert_int_equal(tk_fx_zap(fx, b + 1, P, 0, &res), -TDP_EINVAL);
	assert_int_equal(tk_fx_zap(fx, b, P + 1, 0, &res), -TDP_EINVAL);
	assert_int_equal(tk_fx_zap(fx, b, 0, 0, &res), -TDP_EINVAL);
	assert_int_equal(tk_fx_zap(fx, ia_end - P, 2 * P, 0, &res), -TDP_ERANGE);
	assert_int_equal(tk_fx_zap(fx, 0 - P, 2 * P, 0, &res), -TDP_ERANGE);
	assert_int_equal(tdp_zap(&fx->pgt, b, P, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_zap(NULL, b, P, 0, &res), -TDP_EINVAL);
	tk_check_model(fx->env, &fx->pgt, &fx->m, 0);
}

static void t_bad_split(struct tk_fx *fx)
{
	uint64_t P = fx->P, b = fx->base;
	uint64_t ia_end = 1ull << fx->cd->ia;

	populate(fx);
	assert_int_equal(tk_fx_split(fx, b + 1, P, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_split(fx, b, P + 1, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_split(fx, b, 0, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_split(fx, b, P, fx->g.levels, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_split(fx, ia_end - P, 2 * P, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_split(fx, 0 - P, 2 * P, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tdp_split(NULL, b, P, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_split_pages_needed(&fx->pgt, b + 1, P, 0), -TDP_EINVAL);
	assert_int_equal(tdp_split_pages_needed(&fx->pgt, ia_end, P, 0), -TDP_ERANGE);
	assert_int_equal(tdp_split_pages_needed(&fx->pgt, b, P, fx->g.levels), -TDP_EINVAL);
	assert_int_equal(tdp_split_pages_needed(NULL, b, P, 0), -TDP_EINVAL);
}

static void t_bad_protect(struct tk_fx *fx)
{
	uint64_t P = fx->P, b = fx->base;
	uint64_t ia_end = 1ull << fx->cd->ia;

	populate(fx);
	assert_int_equal(tk_fx_protect(fx, b + 1, P, TDP_PROT_W, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b, P + 1, TDP_PROT_W, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b, 0, TDP_PROT_W, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, ia_end - P, 2 * P, TDP_PROT_W, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_protect(fx, 0 - P, 2 * P, TDP_PROT_W, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tk_fx_protect(fx, b, P, TDP_MT_MASK, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b, P, 0, 1u << 13, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b, P, TDP_PROT_XP, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_protect(NULL, b, P, TDP_PROT_W, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_protect_pages_needed(&fx->pgt, b + 1, P), -TDP_EINVAL);
	assert_int_equal(tdp_protect_pages_needed(&fx->pgt, ia_end, P), -TDP_ERANGE);
	assert_int_equal(tdp_protect_pages_needed(NULL, b, P), -TDP_EINVAL);
}

static int count_visit(const struct tdp_entry *e, unsigned int visit, void *arg)
{
	(void)e;
	(void)visit;
	(*(size_t *)arg)++;
	return 0;
}

static void t_bad_lookup_walk_iter(struct tk_fx *fx)
{
	uint64_t P = fx->P, b = fx->base;
	uint64_t ia_end = 1ull << fx->cd->ia;
	struct tdp_lookup_result r;
	struct tdp_iter it;
	size_t n = 0;

	populate(fx);
	assert_int_equal(tdp_lookup(NULL, b, &r), -TDP_EINVAL);
	assert_int_equal(tdp_lookup(&fx->pgt, b, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_lookup(&fx->pgt, ia_end, &r), -TDP_ERANGE);
	assert_int_equal(tdp_lookup(&fx->pgt, ~0ull, &r), -TDP_ERANGE);
	assert_int_equal(tdp_lookup(&fx->pgt, b + 1, &r), 0); /* need not be aligned */

	assert_int_equal(tdp_walk(NULL, b, P, TDP_WALK_LEAF, count_visit, &n), -TDP_EINVAL);
	assert_int_equal(tdp_walk(&fx->pgt, b, P, TDP_WALK_LEAF, NULL, &n), -TDP_EINVAL);
	assert_int_equal(tdp_walk(&fx->pgt, b, P, 0, count_visit, &n), -TDP_EINVAL);
	assert_int_equal(tdp_walk(&fx->pgt, b, 0, TDP_WALK_LEAF, count_visit, &n), -TDP_EINVAL);
	assert_int_equal(tdp_walk(&fx->pgt, b + 1, P, TDP_WALK_LEAF, count_visit, &n), -TDP_EINVAL);
	assert_int_equal(tdp_walk(&fx->pgt, b, P + 1, TDP_WALK_LEAF, count_visit, &n), -TDP_EINVAL);
	assert_int_equal(tdp_walk(&fx->pgt, ia_end - P, 2 * P, TDP_WALK_LEAF, count_visit, &n),
			 -TDP_ERANGE);
	assert_int_equal(tdp_walk(&fx->pgt, 0 - P, 2 * P, TDP_WALK_LEAF, count_visit, &n),
			 -TDP_ERANGE);
	assert_int_equal(n, 0);

	assert_int_equal(tdp_iter_start(NULL, &fx->pgt, 0, P, 0), -TDP_EINVAL);
	assert_int_equal(tdp_iter_start(&it, NULL, 0, P, 0), -TDP_EINVAL);
	assert_int_equal(tdp_iter_start(&it, &fx->pgt, P, P, 0), -TDP_EINVAL);
	assert_int_equal(tdp_iter_start(&it, &fx->pgt, 2 * P, P, 0), -TDP_EINVAL);
	assert_int_equal(tdp_iter_start(&it, &fx->pgt, 0, P, fx->g.levels), -TDP_EINVAL);
	assert_int_equal(tdp_iter_start(&it, &fx->pgt, 0, ia_end + P, 0), -TDP_ERANGE);
	assert_int_equal(tdp_iter_start(&it, &fx->pgt, 0, ia_end, 0), 0);
}

static void t_bad_memcache(struct tk_fx *fx)
{
	struct tdp_memcache mc;
	struct tdp_memcache other;

	tdp_memcache_init(&mc);
	assert_int_equal(tdp_memcache_topup(NULL, &mc, 1), -TDP_EINVAL);
	assert_int_equal(tdp_memcache_topup(&fx->pgt, NULL, 1), -TDP_EINVAL);
	/* pages of another size */
	memset(&other, 0, sizeof(other));
	assert_int_equal(tdp_memcache_topup(&fx->pgt, &other, 2), 0);
	other.page_size = fx->P * 2;
	assert_int_equal(tdp_memcache_topup(&fx->pgt, &other, 3), -TDP_EINVAL);
	assert_int_equal(other.nr, 2);
	other.page_size = fx->P;
	tdp_memcache_drain(&fx->pgt, &other);
	assert_int_equal(other.nr, 0);
	assert_int_equal(fx->env->out_blocks, 1); /* before destroy: only the root */
	assert_int_equal(fx->env->errors, 0);
}

/* tdp_free_unlinked: a refused call frees nothing; a good one frees the table. */
static void t_bad_free_unlinked(struct tk_fx *fx)
{
	const struct tdp_mm_ops *mm = fx->pgt.cfg.mm;
	size_t tsz = fx->pgt.geo.table_size;
	void *t = mm->zalloc_table(fx->pgt.cfg.mm_ctx, tsz);
	struct tdp_pgtable zero;

	assert_non_null(t);
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(tdp_free_unlinked(NULL, t, 0), -TDP_EINVAL);
	assert_int_equal(tdp_free_unlinked(&zero, t, 0), -TDP_EINVAL);
	assert_int_equal(tdp_free_unlinked(&fx->pgt, NULL, 0), -TDP_EINVAL);
	/* the root's level holds no table below the root */
	assert_int_equal(tdp_free_unlinked(&fx->pgt, t, fx->g.levels - 1), -TDP_EINVAL);
	assert_int_equal(tdp_free_unlinked(&fx->pgt, t, fx->g.levels), -TDP_EINVAL);
	assert_int_equal(fx->env->out_blocks, 2); /* the root and t */
	assert_int_equal(tdp_free_unlinked(&fx->pgt, t, 0), 0);
	assert_int_equal(fx->env->out_blocks, 1);
	assert_int_equal(fx->env->errors, 0);
}

static const struct tcase cases[] = {
	CASE(t_bad_map),
	CASE(t_bad_unmap),
	CASE(t_bad_zap),
	CASE(t_bad_split),
	CASE(t_bad_protect),
	CASE(t_bad_lookup_walk_iter),
	CASE(t_bad_memcache),
	CASE(t_bad_free_unlinked),
};

int main(void)
{
	return run_cases("badinput", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
