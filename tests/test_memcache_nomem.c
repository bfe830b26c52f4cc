/* SPDX-License-Identifier: MIT */
/*
 * Allocation failure at every allocation point of map, unmap, split and
 * protect, and the memory cache.
 *
 * - mc == NULL: fail the N-th allocation (once, and from then on) for
 *   N = 0, 1, 2, ... until the call succeeds: every failing call returns
 *   -ENOMEM, translates exactly as before (reference snapshot of the whole
 *   table), holds no page; the succeeding call made exactly N allocations.
 * - a memory cache holding k < tdp_*_pages_needed() pages: map must fail
 *   with -ENOMEM (documented); the others may only fail with -ENOMEM and
 *   change nothing, or succeed using at most k pages; with the full count
 *   every call succeeds without calling the allocator at all.
 * The tk_fx_* wrappers do the unchanged / model / structure / flush checks.
 */
#include "common.h"

struct scen {
	void (*setup)(struct tk_fx *fx);
	int (*op)(struct tk_fx *fx, struct tdp_memcache *mc);
	long (*need)(struct tk_fx *fx);
	bool strict; /* k < need must fail */
};

static void inject_mm(struct tk_fx *fx, const struct scen *sc)
{
	size_t out0;

	sc->setup(fx);
	out0 = fx->env->out_blocks;
	for (long n = 0;; n++) {
		size_t allocs = fx->env->allocs;
		bool fired;
		int rc;

		assert_true(n < 4096);
		tk_fail_from(fx->env, n);
		rc = sc->op(fx, NULL);
		fired = fx->env->fail_fired;
		tk_fail_off(fx->env);
		if (rc == 0) {
			if (fired)
				fail_msg("succeeded although allocation %ld failed", n);
			if (fx->env->allocs - allocs != (size_t)n)
				fail_msg("succeeded with %zu allocations, but failing allocation %ld of them "
					 "made it fail",
					 fx->env->allocs - allocs, n - 1);
			/* every table the call added was one of its allocations */
			assert_true(fx->env->out_blocks <= out0 + (size_t)n);
			if (getenv("TK_VERBOSE"))
				fprintf(stderr, "  %s: %ld allocations, %zu tables added\n", fx->cd->name,
					n, fx->env->out_blocks - out0);
			break;
		}
		if (rc != -TDP_ENOMEM)
			fail_msg("allocation %ld (and later ones) failing: rc %d, expected -ENOMEM", n, rc);
		assert_true(fired);
		/* only that one allocation failing */
		tk_fail_nth(fx->env, n);
		rc = sc->op(fx, NULL);
		fired = fx->env->fail_fired;
		tk_fail_off(fx->env);
		if (rc != -TDP_ENOMEM || !fired)
			fail_msg("allocation %ld alone failing: rc %d (fired %d), expected -ENOMEM", n, rc,
				 fired);
	}
	assert_int_equal(fx->env->errors, 0);
}

static void inject_mc(struct tk_fx *fx, const struct scen *sc)
{
	long need;
	struct tdp_memcache mc;
	bool done = false;
	size_t allocs;
	int rc;

	sc->setup(fx);
	need = sc->need(fx);
	assert_true(need >= 0);
	for (long k = 0; k < need && !done; k++) {
		/* sample when the worst case is large */
		if (need > 24 && k > 8 && k < need - 8 && k % (need / 8 + 1))
			continue;
		tdp_memcache_init(&mc);
		assert_int_equal(tdp_memcache_topup(&fx->pgt, &mc, (size_t)k), 0);
		assert_int_equal(mc.nr, (size_t)k);
		allocs = fx->env->allocs;
		rc = sc->op(fx, &mc);
		if (fx->env->allocs != allocs)
			fail_msg("with a memory cache the call allocated through mm ops");
		if (sc->strict && rc != -TDP_ENOMEM)
			fail_msg("memory cache with %ld of %ld pages: rc %d, expected -ENOMEM", k, need, rc);
		if (rc == 0)
			done = true; /* needed fewer than the worst case */
		else if (rc != -TDP_ENOMEM)
			fail_msg("memory cache with %ld of %ld pages: rc %d", k, need, rc);
		else
			assert_int_equal(mc.nr, (size_t)k);
		tdp_memcache_drain(&fx->pgt, &mc);
		assert_int_equal(mc.nr, 0);
	}
	if (!done) {
		tdp_memcache_init(&mc);
		assert_int_equal(tdp_memcache_topup(&fx->pgt, &mc, (size_t)need), 0);
		allocs = fx->env->allocs;
		/* with enough pages the allocator is not even asked */
		tk_fail_all(fx->env, true);
		rc = sc->op(fx, &mc);
		tk_fail_all(fx->env, false);
		if (rc != 0)
			fail_msg("memory cache with all %ld pages: rc %d", need, rc);
		assert_int_equal(fx->env->allocs, allocs);
		assert_true(mc.nr <= (size_t)need);
		tdp_memcache_drain(&fx->pgt, &mc);
	}
	assert_int_equal(fx->env->errors, 0);
}

/* --- scenarios --------------------------------------------------- */

static void setup_empty(struct tk_fx *fx)
{
	(void)fx;
}

static void setup_big_block(struct tk_fx *fx)
{
	assert_int_equal(tk_fx_map(fx, fx->base - fx->blk, fx->hbase - fx->blk,
				   fx->blk + fx->big + fx->blk, A_RW, 0, NULL), 0);
}

/* map a mixed range into an empty table */
static int op_map_mixed(struct tk_fx *fx, struct tdp_memcache *mc)
{
	return tk_fx_map(fx, fx->base - fx->blk - fx->P, fx->hbase - fx->blk - fx->P,
			 2 * fx->P + 2 * fx->blk + fx->big, A_RW, 0, mc);
}

static long need_map_mixed(struct tk_fx *fx)
{
	return tdp_map_pages_needed(&fx->pgt, fx->base - fx->blk - fx->P, fx->hbase - fx->blk - fx->P,
				    2 * fx->P + 2 * fx->blk + fx->big, 0);
}

/* map pages over two block-sized regions (pages forced) */
static int op_map_pages(struct tk_fx *fx, struct tdp_memcache *mc)
{
	return tk_fx_map(fx, fx->base + fx->blk - 4 * fx->P, fx->hbase, 8 * fx->P, A_RW,
			 TDP_MAP_MAX_LEVEL(0), mc);
}

static long need_map_pages(struct tk_fx *fx)
{
	return tdp_map_pages_needed(&fx->pgt, fx->base + fx->blk - 4 * fx->P, fx->hbase, 8 * fx->P,
				    TDP_MAP_MAX_LEVEL(0));
}

/* map one page inside an existing top-level block (the block is split) */
static int op_map_in_block(struct tk_fx *fx, struct tdp_memcache *mc)
{
	return tk_fx_map(fx, fx->base + fx->P, fx->hbase + 3 * fx->big, fx->P, A_RO, 0, mc);
}

static long need_map_in_block(struct tk_fx *fx)
{
	return tdp_map_pages_needed(&fx->pgt, fx->base + fx->P, fx->hbase + 3 * fx->big, fx->P, 0);
}

/* unmap one page inside a block, and a range straddling two blocks */
static int op_unmap_in_block(struct tk_fx *fx, struct tdp_memcache *mc)
{
	return tk_fx_unmap(fx, fx->base + fx->P, fx->P, mc);
}

static long need_unmap_in_block(struct tk_fx *fx)
{
	return tdp_unmap_pages_needed(&fx->pgt, fx->base + fx->P, fx->P);
}

static int op_unmap_straddle(struct tk_fx *fx, struct tdp_memcache *mc)
{
	return tk_fx_unmap(fx, fx->base - fx->P, 2 * fx->P, mc);
}

static long need_unmap_straddle(struct tk_fx *fx)
{
	return tdp_unmap_pages_needed(&fx->pgt, fx->base - fx->P, 2 * fx->P);
}

/* split a page of the top block to pages, and two blocks entirely */
static int op_split_page(struct tk_fx *fx, struct tdp_memcache *mc)
{
	return tk_fx_split(fx, fx->base + fx->P, fx->P, 0, mc);
}

static long need_split_page(struct tk_fx *fx)
{
	return tdp_split_pages_needed(&fx->pgt, fx->base + fx->P, fx->P, 0);
}

static int op_split_straddle(struct tk_fx *fx, struct tdp_memcache *mc)
{
	return tk_fx_split(fx, fx->base - fx->P, 2 * fx->P, 0, mc);
}

static long need_split_straddle(struct tk_fx *fx)
{
	return tdp_split_pages_needed(&fx->pgt, fx->base - fx->P, 2 * fx->P, 0);
}

/* protect a page inside a block, and a range straddling two blocks */
static int op_protect_page(struct tk_fx *fx, struct tdp_memcache *mc)
{
	return tk_fx_protect(fx, fx->base + fx->P, fx->P, TDP_PROT_W, 0, mc);
}

static long need_protect_page(struct tk_fx *fx)
{
	return tdp_protect_pages_needed(&fx->pgt, fx->base + fx->P, fx->P);
}

static int op_protect_straddle(struct tk_fx *fx, struct tdp_memcache *mc)
{
	return tk_fx_protect(fx, fx->base - fx->P, 2 * fx->P, TDP_PROT_W, TDP_SW(1), mc);
}

static long need_protect_straddle(struct tk_fx *fx)
{
	return tdp_protect_pages_needed(&fx->pgt, fx->base - fx->P, 2 * fx->P);
}

#define SCEN(name, setup, strict)                                                      \
	static const struct scen sc_##name = { setup, op_##name, need_##name, strict }; \
	static void t_##name##_mm(struct tk_fx *fx)                                     \
	{                                                                               \
		inject_mm(fx, &sc_##name);                                              \
	}                                                                               \
	static void t_##name##_mc(struct tk_fx *fx)                                     \
	{                                                                               \
		inject_mc(fx, &sc_##name);                                              \
	}

SCEN(map_mixed, setup_empty, true)
SCEN(map_pages, setup_empty, true)
SCEN(map_in_block, setup_big_block, true)
SCEN(unmap_in_block, setup_big_block, false)
SCEN(unmap_straddle, setup_big_block, false)
SCEN(split_page, setup_big_block, false)
SCEN(split_straddle, setup_big_block, false)
SCEN(protect_page, setup_big_block, false)
SCEN(protect_straddle, setup_big_block, false)

/* top-up and drain */
static void t_memcache_topup_drain(struct tk_fx *fx)
{
	struct tdp_memcache mc;
	size_t out = fx->env->out_blocks;

	tdp_memcache_init(&mc);
	assert_int_equal(mc.nr, 0);
	assert_null(mc.head);
	assert_int_equal(tdp_memcache_topup(&fx->pgt, &mc, 5), 0);
	assert_int_equal(mc.nr, 5);
	assert_int_equal(mc.page_size, fx->pgt.geo.table_size);
	assert_int_equal(fx->env->out_blocks, out + 5);
	assert_int_equal(tdp_memcache_topup(&fx->pgt, &mc, 3), 0);
	assert_int_equal(mc.nr, 5);
	assert_int_equal(fx->env->out_blocks, out + 5);
	assert_int_equal(tdp_memcache_topup(&fx->pgt, &mc, 8), 0);
	assert_int_equal(mc.nr, 8);
	tdp_memcache_drain(&fx->pgt, &mc);
	assert_int_equal(mc.nr, 0);
	assert_int_equal(fx->env->out_blocks, out);
	tdp_memcache_drain(&fx->pgt, &mc); /* empty: nothing happens */
	assert_int_equal(fx->env->out_blocks, out);
	/* a zero-initialised cache works like an initialised one */
	memset(&mc, 0, sizeof(mc));
	assert_int_equal(tdp_memcache_topup(&fx->pgt, &mc, 2), 0);
	assert_int_equal(mc.nr, 2);
	/* the allocator fails on the 3rd page: the 2 new ones stay */
	tk_fail_nth(fx->env, 2);
	assert_int_equal(tdp_memcache_topup(&fx->pgt, &mc, 6), -TDP_ENOMEM);
	tk_fail_off(fx->env);
	assert_int_equal(mc.nr, 4);
	assert_int_equal(fx->env->out_blocks, out + 4);
	tdp_memcache_drain(&fx->pgt, &mc);
	assert_int_equal(fx->env->out_blocks, out);
	assert_int_equal(fx->env->errors, 0);
}

/* Operations take their table pages from the cache: the cache shrinks by the tables added. */
static void t_memcache_pages_used(struct tk_fx *fx)
{
	struct tdp_memcache mc;
	long need = need_map_pages(fx);
	size_t out = fx->env->out_blocks, allocs;

	assert_true(need >= 1);
	tdp_memcache_init(&mc);
	assert_int_equal(tdp_memcache_topup(&fx->pgt, &mc, (size_t)need + 2), 0);
	allocs = fx->env->allocs;
	assert_int_equal(op_map_pages(fx, &mc), 0);
	assert_int_equal(fx->env->allocs, allocs);
	/* every table the map added came out of the cache */
	assert_int_equal(fx->env->out_blocks, out + (size_t)need + 2);
	assert_true(mc.nr < (size_t)need + 2);
	tdp_memcache_drain(&fx->pgt, &mc);
	assert_int_equal(tk_fx_unmap(fx, fx->base, 2 * fx->blk, NULL), 0);
	assert_int_equal(fx->env->out_blocks, out);
	/* the pages were dirty in the cache (link word): tables built from them are clean */
	tk_check_table(fx->env, &fx->pgt, 0);
}

static const struct tcase cases[] = {
	CASE(t_map_mixed_mm),      CASE(t_map_mixed_mc),      CASE(t_map_pages_mm),
	CASE(t_map_pages_mc),      CASE(t_map_in_block_mm),   CASE(t_map_in_block_mc),
	CASE(t_unmap_in_block_mm), CASE(t_unmap_in_block_mc), CASE(t_unmap_straddle_mm),
	CASE(t_unmap_straddle_mc), CASE(t_split_page_mm),     CASE(t_split_page_mc),
	CASE(t_split_straddle_mm), CASE(t_split_straddle_mc), CASE(t_protect_page_mm),
	CASE(t_protect_page_mc),   CASE(t_protect_straddle_mm), CASE(t_protect_straddle_mc),
	CASE(t_memcache_topup_drain), CASE(t_memcache_pages_used),
};

int main(void)
{
	return run_cases("nomem", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
