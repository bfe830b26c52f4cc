/* SPDX-License-Identifier: MIT */
/*
 * The per-call fast paths of the core (lib/core/oneleaf.h, clear.h):
 * - map_one: tdp_map of exactly one leaf with a caller's memory cache that
 *   holds enough pages, done in one walk (tables linked from the cache);
 *   anything it declines (a block above, another leaf, a table at the leaf's
 *   level, NOREPLACE over a leaf, a cache too small) goes to the general
 *   path;
 * - unmap_one: tdp_unmap of exactly one leaf (not in a Svnapot group): the
 *   leaf and the chain of emptied tables go with one flush_range.
 * What is checked: cache pages taken, pool accounting, the exact flush_range
 * arguments (RISC-V without Svvptc reports new entries too), translations
 * through lookup, the reference walker and the TLB model, and a random
 * single-page sequence against a page array. Every body runs on every
 * operation configuration (tk_cfgs_ops), the Svnapot ones also on the
 * configurations that have it.
 */
#include "common.h"

#define NO_HPA UINT64_MAX

static unsigned int levels(const struct tk_fx *fx)
{
	return fx->pgt.geo.levels;
}

static uint64_t lsz(const struct tk_fx *fx, unsigned int l)
{
	return tdp_level_size(&fx->pgt, l);
}

/* Top the cache up to at least n pages (n = 0: it gets its page size, no page). */
static void mc_top(struct tk_fx *fx, struct tdp_memcache *mc, size_t n)
{
	assert_int_equal(tdp_memcache_topup(&fx->pgt, mc, n), 0);
	assert_true(mc->nr >= n);
}

static void mc_done(struct tk_fx *fx, struct tdp_memcache *mc)
{
	tdp_memcache_drain(&fx->pgt, mc);
	assert_int_equal(mc->nr, 0);
}

/* Pool: the root, `tables` non-root tables and what the cache holds. */
static void expect_tables(struct tk_fx *fx, const struct tdp_memcache *mc, size_t tables)
{
	size_t held = mc ? mc->nr : 0;

	if (fx->env->out_blocks != 1 + tables + held)
		fail_msg("pool holds %zu blocks, expected root + %zu tables + %zu cache pages",
			 fx->env->out_blocks, tables, held);
	assert_int_equal(fx->env->errors, 0);
}

static size_t nr_flushes(const struct tk_fx *fx, size_t mark)
{
	return tk_log_count(fx->env, mark, TK_EV_FLUSH_RANGE) +
	       tk_log_count(fx->env, mark, TK_EV_FLUSH_ALL);
}

static void expect_no_flush(const struct tk_fx *fx, size_t mark, const char *what)
{
	if (nr_flushes(fx, mark) != 0) {
		tk_log_dump(fx->env, mark);
		fail_msg("%s: %zu flushes, expected none", what, nr_flushes(fx, mark));
	}
}

/*
 * Exactly one flush_range since mark, with exactly these arguments, no
 * flush_all, and every table freed since mark freed after it. Returns the
 * number of frees.
 */
static size_t expect_one_flush(const struct tk_fx *fx, size_t mark, uint64_t gpa, uint64_t size,
			       int level, bool tables)
{
	const struct tk_event *f = NULL;
	size_t n = 0, frees = 0;

	for (size_t i = mark; i < fx->env->nr_ev; i++) {
		const struct tk_event *e = &fx->env->ev[i];

		if (e->kind == TK_EV_FLUSH_RANGE || e->kind == TK_EV_FLUSH_ALL) {
			f = e;
			n++;
		}
		if (e->kind == TK_EV_FREE) {
			frees++;
			if (!f) {
				tk_log_dump(fx->env, mark);
				fail_msg("table 0x%llx freed before the flush", ULL(e->a));
			}
		}
	}
	if (n != 1 || f->kind != TK_EV_FLUSH_RANGE || f->a != gpa || f->b != size ||
	    f->level != level || f->tables != tables) {
		tk_log_dump(fx->env, mark);
		fail_msg("expected exactly one flush_range(0x%llx, 0x%llx, level %d, tables %d); got %zu "
			 "flushes (above)",
			 ULL(gpa), ULL(size), level, tables, n);
	}
	return frees;
}

/*
 * A map into empty entries that linked `used` tables for a level-l leaf at
 * gpa: nothing to flush, except on RISC-V without Svvptc where the highest
 * new entry is flushed (the leaf with its level, or the first linked table
 * entry with TDP_LEVEL_ANY).
 */
static void expect_install_flush(const struct tk_fx *fx, size_t mark, uint64_t gpa, unsigned int l,
				 size_t used)
{
	if (tk_flush_on_install(&fx->pgt.cfg)) {
		unsigned int hi = l + (unsigned int)used;

		assert_int_equal(expect_one_flush(fx, mark, gpa & ~(lsz(fx, hi) - 1), lsz(fx, hi),
						  used ? TDP_LEVEL_ANY : (int)l, false), 0);
	} else {
		expect_no_flush(fx, mark, "a map into empty entries");
	}
	assert_int_equal(tk_log_count(fx->env, mark, TK_EV_FREE), 0);
}

/*
 * Map the level-l leaf [gpa, +size(l)) into empty entries with a cache
 * topped up to what the fast path asks for; it must take exactly `used`
 * pages (SIZE_MAX: any), allocate nothing, keep the pool count (pages move
 * from the cache into the table) and report the install flushes. Returns the
 * pages taken.
 */
static size_t map_cached(struct tk_fx *fx, struct tdp_memcache *mc, uint64_t gpa, uint64_t hpa,
			 unsigned int l, tdp_attr_t attr, uint32_t flags, size_t used)
{
	size_t nr, allocs, out, mark, took;

	mc_top(fx, mc, levels(fx) - 1 - l);
	nr = mc->nr;
	allocs = fx->env->allocs;
	out = fx->env->out_blocks;
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_map(fx, gpa, hpa, lsz(fx, l), attr, flags, mc), 0);
	took = nr - mc->nr;
	if (used != SIZE_MAX && took != used)
		fail_msg("level-%u leaf at 0x%llx: took %zu cache pages, expected %zu", l, ULL(gpa),
			 took, used);
	if (fx->env->allocs != allocs)
		fail_msg("a map with a full cache allocated through mm");
	assert_int_equal(fx->env->out_blocks, out);
	expect_leaf(fx, gpa, l, hpa);
	expect_install_flush(fx, mark, gpa, l, took);
	return took;
}

static void expect_attr(struct tk_fx *fx, uint64_t gpa, tdp_attr_t attr)
{
	struct tdp_lookup_result r;

	assert_int_equal(tdp_lookup(&fx->pgt, gpa, &r), 0);
	if (r.attr != attr)
		fail_msg("gpa 0x%llx: attributes 0x%x, expected 0x%x", ULL(gpa), r.attr, attr);
}

/* ------------------------------------------------------------------ */
/* 1, 2, 7: maps into an empty table                                   */

/*
 * Level-l leaves at 0, at size(l) (same table: no page), then at size(k)
 * for every higher level k (new tables below level k: k - l pages).
 */
static void crossing_sequence(struct tk_fx *fx, unsigned int l)
{
	const unsigned int L = levels(fx);
	const uint64_t h = fx->hbase, s = lsz(fx, l);
	struct tdp_memcache mc;
	size_t tables = 0;

	assert_true(fx->pgt.geo.leaf_levels_mask & (1u << l));
	assert_true((h & (s - 1)) == 0);
	tdp_memcache_init(&mc);
	assert_int_equal(tdp_map_pages_needed(&fx->pgt, 0, h, s, 0), (long)(L - 1 - l));
	/* first leaf: a table on every level below the root */
	tables += map_cached(fx, &mc, 0, h, l, A_RW, 0, L - 1 - l);
	expect_tables(fx, &mc, tables);
	/* the next leaf of the same table */
	map_cached(fx, &mc, s, h + s, l, A_RW, 0, 0);
	expect_tables(fx, &mc, tables);
	/* into a new entry of level k: new tables for levels k - 1 .. l */
	for (unsigned int k = l + 1; k < L; k++) {
		uint64_t g = lsz(fx, k);

		assert_true(g + s <= 1ull << fx->cd->ia);
		tables += map_cached(fx, &mc, g, h + g, l, A_RO, 0, k - l);
		expect_tables(fx, &mc, tables);
		/* and its neighbour in the table just made */
		map_cached(fx, &mc, g + s, h + g + s, l, A_RO, 0, 0);
		expect_tables(fx, &mc, tables);
	}
	/* everything is still there */
	expect_leaf(fx, 0, l, h);
	expect_leaf(fx, s, l, h + s);
	expect_unmapped(fx, 2 * s);
	for (unsigned int k = l + 1; k < L; k++) {
		expect_leaf(fx, lsz(fx, k), l, h + lsz(fx, k));
		expect_leaf(fx, lsz(fx, k) + s, l, h + lsz(fx, k) + s);
		expect_attr(fx, lsz(fx, k), A_RO);
		expect_unmapped(fx, lsz(fx, k) - s);
	}
	expect_attr(fx, 0, A_RW);
	/* single-leaf unmaps give every table back */
	assert_int_equal(tk_fx_unmap(fx, 0, s, &mc), 0);
	assert_int_equal(tk_fx_unmap(fx, s, s, &mc), 0);
	for (unsigned int k = l + 1; k < L; k++) {
		assert_int_equal(tk_fx_unmap(fx, lsz(fx, k), s, &mc), 0);
		assert_int_equal(tk_fx_unmap(fx, lsz(fx, k) + s, s, &mc), 0);
	}
	expect_tables(fx, &mc, 0);
	mc_done(fx, &mc);
	expect_tables(fx, NULL, 0);
}

static void t_fp_map_pages(struct tk_fx *fx)
{
	crossing_sequence(fx, 0);
}

static void t_fp_map_blocks(struct tk_fx *fx)
{
	crossing_sequence(fx, 1);
}

/* The largest leaf the table allows (a root-level leaf on Sv48x4 here: no page at all). */
static void t_fp_map_top_leaves(struct tk_fx *fx)
{
	crossing_sequence(fx, fx->top);
}

/* The configurations where new entries must be flushed are the ones the kit says. */
static void t_fp_install_flush_cfgs(struct tk_fx *fx)
{
	bool want = fx->cd->format == TDP_FORMAT_RISCV_G &&
		    !(fx->pgt.cfg.flags & TDP_CFG_RISCV_SVVPTC);
	struct tdp_memcache mc;
	size_t mark;

	assert_int_equal(tk_flush_on_install(&fx->pgt.cfg), want);
	tdp_memcache_init(&mc);
	/* a leaf that links every table: one flush of the root entry, or none */
	mc_top(fx, &mc, levels(fx) - 1);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tdp_map(&fx->pgt, fx->base, fx->hbase, fx->P, A_RW, 0, &mc), 0);
	tk_model_map(&fx->m, fx->base, fx->hbase, fx->P, A_RW);
	if (want)
		expect_one_flush(fx, mark, fx->base & ~(lsz(fx, levels(fx) - 1) - 1),
				 lsz(fx, levels(fx) - 1), TDP_LEVEL_ANY, false);
	else
		expect_no_flush(fx, mark, "first page");
	/* a leaf into an existing table: one flush of the page at level 0, or none */
	mc_top(fx, &mc, levels(fx) - 1);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tdp_map(&fx->pgt, fx->base + 9 * fx->P, fx->hbase, fx->P, A_RW, 0, &mc), 0);
	tk_model_map(&fx->m, fx->base + 9 * fx->P, fx->hbase, fx->P, A_RW);
	if (want)
		expect_one_flush(fx, mark, fx->base + 9 * fx->P, fx->P, 0, false);
	else
		expect_no_flush(fx, mark, "second page");
	/* a block under an existing level-2 (or root) table entry: flushed at level 1, or not */
	mc_top(fx, &mc, levels(fx) - 1);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tdp_map(&fx->pgt, fx->base + fx->blk, fx->hbase, fx->blk, A_RW, 0, &mc), 0);
	tk_model_map(&fx->m, fx->base + fx->blk, fx->hbase, fx->blk, A_RW);
	if (want)
		expect_one_flush(fx, mark, fx->base + fx->blk, fx->blk, 1, false);
	else
		expect_no_flush(fx, mark, "block");
	tk_check_model(fx->env, &fx->pgt, &fx->m, mc.nr);
	mc_done(fx, &mc);
}

/* ------------------------------------------------------------------ */
/* 3: the same leaf again, another leaf over it                        */

/* Map exactly what is there: 0, no page, no allocation, no flush, not a bit changed. */
static void remap_same(struct tk_fx *fx, struct tdp_memcache *mc, uint64_t gpa, uint64_t hpa,
		       unsigned int l, tdp_attr_t attr)
{
	struct tk_snap before, after;
	size_t nr, allocs, mark;
	void *head;

	mc_top(fx, mc, levels(fx) - 1 - l);
	nr = mc->nr;
	head = mc->head;
	allocs = fx->env->allocs;
	tk_snap_take(fx->env, &fx->pgt, &before);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_map(fx, gpa, hpa, lsz(fx, l), attr, 0, mc), 0);
	expect_no_flush(fx, mark, "re-mapping the same leaf");
	assert_int_equal(tk_log_count(fx->env, mark, TK_EV_FREE), 0);
	assert_int_equal(mc->nr, nr);
	assert_ptr_equal(mc->head, head);
	assert_int_equal(fx->env->allocs, allocs);
	tk_snap_take(fx->env, &fx->pgt, &after);
	if (!tk_snap_same(&before, &after))
		fail_msg("re-mapping the same leaf at 0x%llx changed the table", ULL(gpa));
	tk_snap_free(&after);
	tk_snap_free(&before);
	expect_leaf(fx, gpa, l, hpa);
}

/* Map another translation over a level-l leaf: the new one shows, nothing is taken. */
static void remap_other(struct tk_fx *fx, struct tdp_memcache *mc, uint64_t gpa, uint64_t hpa,
			unsigned int l, tdp_attr_t attr)
{
	struct tdp_tk_tlb_stats st;
	size_t nr, mark;

	mc_top(fx, mc, levels(fx) - 1 - l);
	nr = mc->nr;
	/* the old translation is cached (tk_fx_map caches the leaves around the range too) */
	assert_int_equal(tdp_tk_tlb_fill(fx->tlb, gpa, TDP_TK_PROBE), 1);
	mark = tk_log_mark(fx->env);
	/*
	 * tk_fx_map checks the TLB model (break-before-make on arm64: the old
	 * leaf must be seen invalid by the flush), the probes and the flushes
	 */
	assert_int_equal(tk_fx_map(fx, gpa, hpa, lsz(fx, l), attr, 0, mc), 0);
	assert_int_equal(mc->nr, nr);
	assert_true(nr_flushes(fx, mark) >= 1);
	assert_int_equal(tk_log_count(fx->env, mark, TK_EV_FREE), 0);
	expect_leaf(fx, gpa, l, hpa);
	expect_hpa(fx, gpa + lsz(fx, l) - fx->P, hpa + lsz(fx, l) - fx->P);
	expect_attr(fx, gpa, attr);
	tdp_tk_tlb_stats(fx->tlb, &st);
	assert_int_equal(st.violations, 0);
}

static void t_fp_remap(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	uint64_t g = fx->base + 5 * fx->P, h = fx->hbase + 5 * fx->P;
	uint64_t gb = fx->base + fx->big, hb = fx->hbase + fx->big;
	tdp_attr_t sw = FIT(fx, A_RW | TDP_SW(1));
	struct tdp_memcache mc;

	tdp_memcache_init(&mc);
	map_cached(fx, &mc, g, h, 0, A_RW, 0, L - 1);
	remap_same(fx, &mc, g, h, 0, A_RW);
	/* twice */
	remap_same(fx, &mc, g, h, 0, A_RW);
	/* another output, other permissions, another memory type, software bits */
	remap_other(fx, &mc, g, fx->hbase + 2 * fx->big, 0, A_RW);
	remap_same(fx, &mc, g, fx->hbase + 2 * fx->big, 0, A_RW);
	remap_other(fx, &mc, g, fx->hbase + 2 * fx->big, 0, A_RO);
	remap_other(fx, &mc, g, fx->hbase + 2 * fx->big, 0, FIT(fx, A_DEV));
	remap_other(fx, &mc, g, h, 0, sw);
	remap_same(fx, &mc, g, h, 0, sw);
	/* the neighbours never moved */
	expect_unmapped(fx, g - fx->P);
	expect_unmapped(fx, g + fx->P);

	/* a first-level block */
	map_cached(fx, &mc, gb, hb, 1, A_RWX, 0, SIZE_MAX);
	remap_same(fx, &mc, gb, hb, 1, A_RWX);
	remap_other(fx, &mc, gb, fx->hbase + 3 * fx->big, 1, A_RWX);
	remap_other(fx, &mc, gb, fx->hbase + 3 * fx->big, 1, A_RO);
	remap_same(fx, &mc, gb, fx->hbase + 3 * fx->big, 1, A_RO);
	expect_leaf(fx, g, 0, h);

	/* Svadu: A and D set by the hart stay, the same leaf is still the same leaf */
	if (fx->cd->format == TDP_FORMAT_RISCV_G && (fx->pgt.cfg.flags & TDP_CFG_RISCV_SVADU)) {
		struct tdp_tk_mem mem = tdp_tk_pool_mem(fx->env);
		struct tdp_tk_ref ref;
		struct tdp_tk_xlate x;
		uint64_t *ptep, was;

		assert_int_equal(tdp_tk_ref_for(&ref, &fx->pgt, &mem), 0);
		assert_int_equal(tdp_tk_ref_translate(&ref, g, TDP_TK_PROBE, &x), 0);
		assert_int_equal(x.result, TDP_TK_OK);
		ptep = tk_pa_to_va(fx->env, x.pte_pa);
		assert_non_null(ptep);
		was = *ptep;
		*ptep = was | (1ull << 6) | (1ull << 7); /* A, D */
		remap_same(fx, &mc, g, h, 0, sw);
		assert_int_equal(*ptep, was | (1ull << 6) | (1ull << 7));
	}

	assert_int_equal(tk_fx_unmap(fx, g, fx->P, &mc), 0);
	assert_int_equal(tk_fx_unmap(fx, gb, fx->blk, &mc), 0);
	mc_done(fx, &mc);
	expect_tables(fx, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* 4: one page inside a block                                          */

/*
 * A level-bl block at b, then one page at b + off with a cache: the fast
 * path declines, the general path splits. `split`: the page changes the
 * translation, so a table per level down to the page must come from the
 * cache.
 */
static void page_in_block(struct tk_fx *fx, struct tdp_memcache *mc, uint64_t b, uint64_t h,
			  unsigned int bl, uint64_t off, uint64_t hpa, tdp_attr_t attr, bool split)
{
	uint64_t bs = lsz(fx, bl);
	size_t nr;

	mc_top(fx, mc, (size_t)tdp_map_pages_needed(&fx->pgt, b, h, bs, 0));
	assert_int_equal(tk_fx_map(fx, b, h, bs, A_RW, 0, mc), 0);
	expect_leaf(fx, b, bl, h);
	mc_top(fx, mc, levels(fx) - 1);
	nr = mc->nr;
	assert_int_equal(tk_fx_map(fx, b + off, hpa, fx->P, attr, 0, mc), 0);
	/* the block became a table on every level down to the page: bl pages */
	if (split && nr - mc->nr != bl)
		fail_msg("a page inside a level-%u block took %zu cache pages, expected %u", bl,
			 nr - mc->nr, bl);
	expect_leaf(fx, b + off, 0, hpa);
	expect_attr(fx, b + off, attr);
	if (off) {
		expect_hpa(fx, b, h);
		expect_hpa(fx, b + off - fx->P, h + off - fx->P);
	}
	expect_hpa(fx, b + off + fx->P, h + off + fx->P);
	expect_hpa(fx, b + bs - fx->P, h + bs - fx->P);
	expect_attr(fx, b + off + fx->P, A_RW);
	expect_attr(fx, b + bs - 1, A_RW);
	assert_true(nr - mc->nr <= bl);
	/* the page's level-1 neighbourhood is all pages now */
	assert_int_equal(leaves_in(fx, (b + off) & ~(fx->blk - 1), fx->blk, 0), fx->blk / fx->P);
}

static void t_fp_page_in_block(struct tk_fx *fx)
{
	struct tdp_memcache mc;
	uint64_t other = fx->hbase + 3 * fx->big;

	tdp_memcache_init(&mc);
	/* a first-level block, another output for the page */
	page_in_block(fx, &mc, fx->base, fx->hbase, 1, 3 * fx->P, other, A_RO, true);
	expect_unmapped(fx, fx->base - fx->P);
	expect_unmapped(fx, fx->base + fx->blk);
	/* the same translation as the block had */
	page_in_block(fx, &mc, fx->base + fx->blk, fx->hbase + fx->blk, 1, 7 * fx->P,
		      fx->hbase + fx->blk + 7 * fx->P, A_RW, false);
	/*
	 * its first page, the same translation: still the general path (a map
	 * of one page never leaves a leaf covering more than the page)
	 */
	page_in_block(fx, &mc, fx->base + 2 * fx->blk, fx->hbase + 2 * fx->blk, 1, 0,
		      fx->hbase + 2 * fx->blk, A_RW, false);
	expect_leaf(fx, fx->base + 2 * fx->blk, 0, fx->hbase + 2 * fx->blk);
	/* the largest block, a page in its middle */
	page_in_block(fx, &mc, fx->base + 4 * fx->big, fx->hbase + 2 * fx->big, fx->top,
		      fx->big / 2 + fx->P, other + fx->P, A_RW, true);
	expect_leaf(fx, fx->base + 3 * fx->P, 0, other);
	mc_done(fx, &mc);
}

/* ------------------------------------------------------------------ */
/* 5: NOREPLACE                                                        */

static void t_fp_noreplace(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	uint64_t g = fx->base + 7 * fx->P, h = fx->hbase + 7 * fx->P;
	uint64_t other = fx->hbase + 2 * fx->big;
	struct tdp_memcache mc, empty;

	tdp_memcache_init(&mc);
	tdp_memcache_init(&empty);
	/* into an empty slot: maps, with the same pages as without the flag */
	map_cached(fx, &mc, g, h, 0, A_RW, TDP_MAP_NOREPLACE, L - 1);
	map_cached(fx, &mc, g + fx->P, h + fx->P, 0, A_RW, TDP_MAP_NOREPLACE, 0);
	/* over a leaf: -EEXIST, nothing changes (tk_fx_map: table, pool, cache) */
	mc_top(fx, &mc, L - 1);
	assert_int_equal(tk_fx_map(fx, g, other, fx->P, A_RO, TDP_MAP_NOREPLACE, &mc), -TDP_EEXIST);
	/* the very same leaf is mapped too */
	assert_int_equal(tk_fx_map(fx, g, h, fx->P, A_RW, TDP_MAP_NOREPLACE, &mc), -TDP_EEXIST);
	/* with an empty cache, -EEXIST comes first */
	assert_int_equal(tk_fx_map(fx, g, other, fx->P, A_RO, TDP_MAP_NOREPLACE, &empty),
			 -TDP_EEXIST);
	assert_null(empty.head);
	assert_int_equal(empty.nr, 0);
	expect_leaf(fx, g, 0, h);
	expect_attr(fx, g, A_RW);
	/* a block over the table holding them */
	mc_top(fx, &mc, L - 2);
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->blk, A_RW, TDP_MAP_NOREPLACE, &mc),
			 -TDP_EEXIST);
	/* a page inside a block, a block over a block */
	mc_top(fx, &mc, L - 1);
	assert_int_equal(tk_fx_map(fx, fx->base + fx->blk, fx->hbase, fx->blk, A_RW, 0, &mc), 0);
	mc_top(fx, &mc, L - 1);
	assert_int_equal(tk_fx_map(fx, fx->base + fx->blk + 2 * fx->P, other, fx->P, A_RW,
				   TDP_MAP_NOREPLACE, &mc), -TDP_EEXIST);
	assert_int_equal(tk_fx_map(fx, fx->base + fx->blk, other, fx->blk, A_RW, TDP_MAP_NOREPLACE,
				   &mc), -TDP_EEXIST);
	expect_leaf(fx, fx->base + fx->blk + 2 * fx->P, 1, fx->hbase + 2 * fx->P);
	/* a block into an empty slot next to it */
	map_cached(fx, &mc, fx->base + 2 * fx->blk, other, 1, A_RO, TDP_MAP_NOREPLACE, 0);
	mc_done(fx, &mc);
}

/* ------------------------------------------------------------------ */
/* 6: a cache too small                                                */

/* Must fail with rc and change nothing, the cache included (tk_fx_map checks table and pool). */
static void map_fails(struct tk_fx *fx, struct tdp_memcache *mc, uint64_t gpa, uint64_t hpa,
		      uint64_t size, uint32_t flags, int rc)
{
	size_t nr = mc->nr, ps = mc->page_size, allocs = fx->env->allocs, mark;
	void *head = mc->head;
	struct tdp_lookup_result before, after;
	int lrc = tdp_lookup(&fx->pgt, gpa, &before);

	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_map(fx, gpa, hpa, size, A_RW, flags, mc), rc);
	assert_int_equal(mc->nr, nr);
	assert_ptr_equal(mc->head, head);
	assert_int_equal(mc->page_size, ps);
	assert_int_equal(fx->env->allocs, allocs);
	expect_no_flush(fx, mark, "a failed map");
	assert_int_equal(tdp_lookup(&fx->pgt, gpa, &after), lrc);
	if (lrc == 0)
		assert_memory_equal(&before, &after, sizeof(before));
}

static void t_fp_cache_short(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	uint64_t g = fx->base, h = fx->hbase;
	struct tdp_memcache mc, empty;

	tdp_memcache_init(&mc);
	tdp_memcache_init(&empty);
	assert_int_equal(tdp_map_pages_needed(&fx->pgt, g, h, fx->P, 0), (long)(L - 1));
	assert_int_equal(tdp_map_pages_needed(&fx->pgt, g, h, fx->blk, 0), (long)(L - 2));
	/* an empty cache, and one a page short, into an empty table */
	map_fails(fx, &empty, g, h, fx->P, 0, -TDP_ENOMEM);
	mc_top(fx, &mc, L - 2);
	assert_int_equal(mc.nr, L - 2);
	map_fails(fx, &mc, g, h, fx->P, 0, -TDP_ENOMEM);
	map_fails(fx, &mc, g, h, fx->P, TDP_MAP_NOREPLACE, -TDP_ENOMEM);
	expect_tables(fx, &mc, 0);
	/* a block one page short; and pages where the cache would hold a block's worth */
	if (L >= 3) {
		struct tdp_memcache few;

		tdp_memcache_init(&few);
		mc_top(fx, &few, L - 3);
		map_fails(fx, &few, g + fx->blk, h, fx->blk, 0, -TDP_ENOMEM);
		mc_done(fx, &few);
	}
	map_fails(fx, &mc, g + fx->blk, h, fx->blk, TDP_MAP_MAX_LEVEL(0), -TDP_ENOMEM);
	/* with the tables in place the documented need still holds: one page short fails */
	map_cached(fx, &mc, g, h, 0, A_RW, 0, L - 1);
	mc_done(fx, &mc);
	mc_top(fx, &mc, L - 2);
	map_fails(fx, &mc, g + fx->P, h + fx->P, fx->P, 0, -TDP_ENOMEM);
	map_fails(fx, &empty, g + fx->P, h + fx->P, fx->P, 0, -TDP_ENOMEM);
	expect_unmapped(fx, g + fx->P);
	/* NOREPLACE over a leaf: -EEXIST before the cache is looked at */
	map_fails(fx, &empty, g, h + fx->P, fx->P, TDP_MAP_NOREPLACE, -TDP_EEXIST);
	map_fails(fx, &mc, g, h + fx->P, fx->P, TDP_MAP_NOREPLACE, -TDP_EEXIST);
	map_fails(fx, &empty, g, h, fx->P, TDP_MAP_NOREPLACE, -TDP_EEXIST);
	expect_leaf(fx, g, 0, h);
	/* topped up, it works */
	map_cached(fx, &mc, g + fx->P, h + fx->P, 0, A_RW, 0, 0);
	expect_tables(fx, &mc, L - 1);
	mc_done(fx, &mc);
}

/* ------------------------------------------------------------------ */
/* 8: single-page unmaps                                               */

/* Fill the level-0 table of [a, a + blk) with pages (never a group: hpa off by a page). */
static void fill_table(struct tk_fx *fx, uint64_t a, uint64_t h)
{
	assert_int_equal(tk_fx_map(fx, a, h + fx->P, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(leaves_in(fx, a, fx->blk, 0), fx->blk / fx->P);
}

/*
 * Unmap the pages of [a, a + blk) one by one but the last, with the table
 * held by something else: each is one flush_range of the page at level 0,
 * frees nothing, and the TLB model sees no stale translation.
 */
static void unmap_all_but_last(struct tk_fx *fx, uint64_t a, uint64_t h)
{
	const uint64_t n = fx->blk / fx->P;
	size_t out = fx->env->out_blocks;

	/* the first one fully checked */
	{
		size_t mark = tk_log_mark(fx->env);

		assert_int_equal(tk_fx_unmap(fx, a, fx->P, NULL), 0);
		expect_one_flush(fx, mark, a, fx->P, 0, false);
		expect_unmapped(fx, a);
		expect_leaf(fx, a + fx->P, 0, h + 2 * fx->P);
	}
	for (uint64_t i = 1; i + 1 < n; i++) {
		uint64_t g = a + i * fx->P;
		size_t mark, v;

		assert_int_equal(tdp_tk_tlb_fill(fx->tlb, g, TDP_TK_READ), 1);
		assert_int_equal(tdp_tk_tlb_fill(fx->tlb, g + fx->P, TDP_TK_READ), 1);
		mark = tk_log_mark(fx->env);
		assert_int_equal(tdp_unmap(&fx->pgt, g, fx->P, NULL), 0);
		tk_model_unmap(&fx->m, g, fx->P);
		expect_one_flush(fx, mark, g, fx->P, 0, false);
		assert_int_equal(tk_log_count(fx->env, mark, TK_EV_FREE), 0);
		v = tdp_tk_tlb_check(fx->tlb);
		if (v)
			fail_msg("TLB model after unmapping 0x%llx: %s", ULL(g),
				 tdp_tk_tlb_first_violation(fx->tlb));
		if (i == n / 2)
			tk_check_model(fx->env, &fx->pgt, &fx->m, 0);
	}
	assert_int_equal(fx->env->out_blocks, out);
	expect_unmapped(fx, a + fx->blk - 2 * fx->P);
	expect_leaf(fx, a + fx->blk - fx->P, 0, h + fx->blk);
	tk_check_model(fx->env, &fx->pgt, &fx->m, 0);
}

/* The last page of a table: freed with its emptied parents, one tables flush first. */
static void unmap_last(struct tk_fx *fx, uint64_t g, unsigned int hi, size_t freed)
{
	size_t out = fx->env->out_blocks, mark = tk_log_mark(fx->env);

	assert_int_equal(tk_fx_unmap(fx, g, fx->P, NULL), 0);
	assert_int_equal(expect_one_flush(fx, mark, g & ~(lsz(fx, hi) - 1), lsz(fx, hi),
					  TDP_LEVEL_ANY, true), freed);
	assert_int_equal(fx->env->out_blocks, out - freed);
	expect_unmapped(fx, g);
}

/* Every page of a table, alone in the table tree: the whole chain goes, the root stays. */
static void t_fp_unmap_table_chain(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	uint64_t a = fx->base + fx->blk;

	fill_table(fx, a, fx->hbase);
	expect_tables(fx, NULL, L - 1);
	unmap_all_but_last(fx, a, fx->hbase);
	expect_tables(fx, NULL, L - 1);
	/* the highest cleared entry is the root's */
	unmap_last(fx, a + fx->blk - fx->P, L - 1, L - 1);
	expect_tables(fx, NULL, 0);
}

/* The same with neighbours in the same level-1 table and under another root entry. */
static void t_fp_unmap_neighbours(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	uint64_t a = fx->base, top = lsz(fx, L - 1);
	uint64_t n1 = a + fx->blk + 3 * fx->P, n2 = a + 2 * top + 5 * fx->P;

	assert_true(n2 + fx->P <= 1ull << fx->cd->ia);
	fill_table(fx, a, fx->hbase);
	assert_int_equal(tk_fx_map(fx, n1, fx->hbase + 2 * fx->big, fx->P, A_RO, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, n2, fx->hbase + 3 * fx->big, fx->P, A_RO, 0, NULL), 0);
	/* a's and n1's level-0 tables share the rest of their chain; n2 has its own */
	expect_tables(fx, NULL, (L - 1) + 1 + (L - 1));
	unmap_all_but_last(fx, a, fx->hbase);
	/* a's level-0 table only: the level-1 entry holding it is the highest cleared one */
	unmap_last(fx, a + fx->blk - fx->P, 1, 1);
	expect_leaf(fx, n1, 0, fx->hbase + 2 * fx->big);
	expect_leaf(fx, n2, 0, fx->hbase + 3 * fx->big);
	expect_tables(fx, NULL, 2 * (L - 1));
	/* n1: its chain up to the root entry */
	unmap_last(fx, n1, L - 1, L - 1);
	expect_leaf(fx, n2, 0, fx->hbase + 3 * fx->big);
	expect_tables(fx, NULL, L - 1);
	unmap_last(fx, n2, L - 1, L - 1);
	expect_tables(fx, NULL, 0);
}

/* Nothing there: 0, no flush, no allocation, no free, the table as it was. */
static void unmap_nothing(struct tk_fx *fx, uint64_t g)
{
	struct tk_snap before, after;
	size_t mark, allocs = fx->env->allocs, out = fx->env->out_blocks;

	tk_snap_take(fx->env, &fx->pgt, &before);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_unmap(fx, g, fx->P, NULL), 0);
	expect_no_flush(fx, mark, "unmapping an unmapped page");
	assert_int_equal(tk_log_count(fx->env, mark, TK_EV_FREE), 0);
	assert_int_equal(fx->env->allocs, allocs);
	assert_int_equal(fx->env->out_blocks, out);
	tk_snap_take(fx->env, &fx->pgt, &after);
	if (!tk_snap_same(&before, &after))
		fail_msg("unmapping the unmapped page 0x%llx changed the table", ULL(g));
	tk_snap_free(&after);
	tk_snap_free(&before);
}

static void t_fp_unmap_unmapped(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	uint64_t g = fx->base + 4 * fx->P;

	unmap_nothing(fx, g);
	assert_int_equal(tk_fx_map(fx, g, fx->hbase, fx->P, A_RW, 0, NULL), 0);
	/* empty entries next to it, at level 0, 1 and higher */
	unmap_nothing(fx, g + fx->P);
	unmap_nothing(fx, g - fx->P);
	unmap_nothing(fx, g + fx->blk);
	unmap_nothing(fx, g + lsz(fx, L - 1));
	/* twice */
	assert_int_equal(tk_fx_unmap(fx, g, fx->P, NULL), 0);
	unmap_nothing(fx, g);
	expect_tables(fx, NULL, 0);
}

/* One page of a block: the general path splits it; a whole block is one leaf again. */
static void t_fp_unmap_blocks(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	uint64_t b = fx->base, h = fx->hbase;
	size_t mark, freed;

	assert_int_equal(tk_fx_map(fx, b, h, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, b + 2 * fx->P, fx->P, NULL), 0);
	expect_unmapped(fx, b + 2 * fx->P);
	expect_leaf(fx, b + fx->P, 0, h + fx->P);
	expect_leaf(fx, b + 3 * fx->P, 0, h + 3 * fx->P);
	expect_hpa(fx, b + fx->blk - fx->P, h + fx->blk - fx->P);
	assert_int_equal(leaves_in(fx, b, fx->blk, 0), fx->blk / fx->P - 1);
	/* the largest block, a page at its end */
	assert_int_equal(tk_fx_map(fx, b + 2 * fx->big, h + 2 * fx->big, fx->big, A_RO, 0, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, b + 3 * fx->big - fx->P, fx->P, NULL), 0);
	expect_unmapped(fx, b + 3 * fx->big - fx->P);
	expect_leaf(fx, b + 3 * fx->big - 2 * fx->P, 0, h + 3 * fx->big - 2 * fx->P);
	expect_hpa(fx, b + 2 * fx->big, h + 2 * fx->big);
	assert_int_equal(tk_fx_unmap(fx, 0, 1ull << fx->cd->ia, NULL), 0);
	expect_tables(fx, NULL, 0);

	/* a whole block alone in the tree: the block and its chain, one flush */
	assert_int_equal(tk_fx_map(fx, b, h, fx->blk, A_RW, 0, NULL), 0);
	expect_tables(fx, NULL, L - 2);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_unmap(fx, b, fx->blk, NULL), 0);
	if (L == 2) /* the block sits in the root */
		freed = expect_one_flush(fx, mark, b, fx->blk, 1, false);
	else
		freed = expect_one_flush(fx, mark, b & ~(lsz(fx, L - 1) - 1), lsz(fx, L - 1),
					 TDP_LEVEL_ANY, true);
	assert_int_equal(freed, L - 2);
	expect_tables(fx, NULL, 0);
	/* a block next to another one: only the block, at its level */
	assert_int_equal(tk_fx_map(fx, b, h, 2 * fx->blk, A_RW, 0, NULL), 0);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_unmap(fx, b + fx->blk, fx->blk, NULL), 0);
	assert_int_equal(expect_one_flush(fx, mark, b + fx->blk, fx->blk, 1, false), 0);
	expect_leaf(fx, b, 1, h);
	expect_unmapped(fx, b + fx->blk);
	/* a block's size, but not aligned to it: pages, whatever the cache */
	{
		struct tdp_memcache mc;

		tdp_memcache_init(&mc);
		assert_true(b + 5 * fx->blk <= 1ull << fx->cd->ia);
		mc_top(fx, &mc, (size_t)tdp_map_pages_needed(&fx->pgt, b + 2 * fx->blk + fx->P,
							      h + fx->P, fx->blk, 0));
		assert_int_equal(tk_fx_map(fx, b + 2 * fx->blk + fx->P, h + fx->P, fx->blk, A_RW, 0,
					   &mc), 0);
		assert_int_equal(leaves_in(fx, b + 2 * fx->blk, 2 * fx->blk, 0), fx->blk / fx->P);
		assert_int_equal(leaves_in(fx, b + 2 * fx->blk, 2 * fx->blk, 1), 0);
		/* gpa aligned, hpa not */
		mc_top(fx, &mc, (size_t)tdp_map_pages_needed(&fx->pgt, b + 4 * fx->blk, h + fx->P,
							      fx->blk, 0));
		assert_int_equal(tk_fx_map(fx, b + 4 * fx->blk, h + fx->P, fx->blk, A_RW, 0, &mc), 0);
		assert_int_equal(leaves_in(fx, b + 4 * fx->blk, fx->blk, 0), fx->blk / fx->P);
		/* unmap a block's size across two blocks: each keeps its outside part */
		mc_top(fx, &mc, (size_t)tdp_unmap_pages_needed(&fx->pgt, b + fx->P, fx->blk));
		assert_int_equal(tk_fx_map(fx, b + fx->blk, h + fx->blk, fx->blk, A_RW, 0, &mc), 0);
		assert_int_equal(tk_fx_unmap(fx, b + fx->P, fx->blk, &mc), 0);
		expect_leaf(fx, b, 0, h);
		expect_unmapped(fx, b + fx->P);
		expect_unmapped(fx, b + fx->blk);
		expect_leaf(fx, b + fx->blk + fx->P, 0, h + fx->blk + fx->P);
		assert_int_equal(tk_fx_unmap(fx, b, 5 * fx->blk, &mc), 0);
		mc_done(fx, &mc);
		assert_int_equal(tk_fx_map(fx, b, h, fx->blk, A_RW, 0, NULL), 0);
	}
	/* the largest leaf, exactly */
	assert_int_equal(tk_fx_map(fx, b + 2 * fx->big, h, fx->big, A_RW, 0, NULL), 0);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_unmap(fx, b + 2 * fx->big, fx->big, NULL), 0);
	assert_true(nr_flushes(fx, mark) == 1);
	expect_unmapped(fx, b + 2 * fx->big);
	expect_leaf(fx, b, 1, h);
}

/* ------------------------------------------------------------------ */
/* Svnapot                                                             */

#define GROUP 16

static void expect_lookup_size(struct tk_fx *fx, uint64_t gpa, uint64_t size)
{
	struct tdp_lookup_result r;

	assert_int_equal(tdp_lookup(&fx->pgt, gpa, &r), 0);
	if (r.size != size)
		fail_msg("gpa 0x%llx: lookup size 0x%llx, expected 0x%llx", ULL(gpa), ULL(r.size),
			 ULL(size));
}

static void t_fp_napot(struct tk_fx *fx)
{
	const uint64_t G = GROUP * fx->P;
	uint64_t g = fx->base, h = fx->hbase, other = fx->hbase + 2 * fx->big;
	struct tdp_memcache mc;

	tdp_memcache_init(&mc);
	assert_true(fx->pgt.cfg.flags & TDP_CFG_RISCV_SVNAPOT);
	/* three groups */
	mc_top(fx, &mc, levels(fx) - 1);
	assert_int_equal(tk_fx_map(fx, g, h, 3 * G, A_RW, 0, &mc), 0);
	for (uint64_t i = 0; i < 3 * GROUP; i++)
		expect_lookup_size(fx, g + i * fx->P, G);
	/* one page of a group: the other 15 keep translating, as pages */
	assert_int_equal(tk_fx_unmap(fx, g + 5 * fx->P, fx->P, &mc), 0);
	expect_unmapped(fx, g + 5 * fx->P);
	for (uint64_t i = 0; i < GROUP; i++) {
		if (i == 5)
			continue;
		expect_leaf(fx, g + i * fx->P, 0, h + i * fx->P);
		expect_lookup_size(fx, g + i * fx->P, fx->P);
	}
	expect_lookup_size(fx, g + G, G);
	/* the first page of the next group */
	assert_int_equal(tk_fx_unmap(fx, g + G, fx->P, &mc), 0);
	expect_unmapped(fx, g + G);
	for (uint64_t i = 1; i < GROUP; i++)
		expect_leaf(fx, g + G + i * fx->P, 0, h + G + i * fx->P);
	/* a one-page map inside the third group, with a cache */
	mc_top(fx, &mc, levels(fx) - 1);
	assert_int_equal(tk_fx_map(fx, g + 2 * G + 9 * fx->P, other, fx->P, A_RO, 0, &mc), 0);
	expect_leaf(fx, g + 2 * G + 9 * fx->P, 0, other);
	for (uint64_t i = 0; i < GROUP; i++)
		if (i != 9)
			expect_leaf(fx, g + 2 * G + i * fx->P, 0, h + 2 * G + i * fx->P);
	/* the same translation again on a page of an intact group */
	assert_int_equal(tk_fx_map(fx, g + 4 * G, h + 4 * G, G, A_RW, 0, &mc), 0);
	mc_top(fx, &mc, levels(fx) - 1);
	assert_int_equal(tk_fx_map(fx, g + 4 * G + 3 * fx->P, h + 4 * G + 3 * fx->P, fx->P, A_RW, 0,
				   &mc), 0);
	for (uint64_t i = 0; i < GROUP; i++)
		expect_leaf(fx, g + 4 * G + i * fx->P, 0, h + 4 * G + i * fx->P);
	/* every page singly: nothing left */
	for (uint64_t i = 0; i < 5 * GROUP; i++)
		assert_int_equal(tk_fx_unmap(fx, g + i * fx->P, fx->P, &mc), 0);
	expect_tables(fx, &mc, 0);
	mc_done(fx, &mc);
}

/* ------------------------------------------------------------------ */
/* 9: random single-page sequence against a page array                  */

#define R_CLUSTERS 4
#define R_PER      128
#define R_PAGES    (R_CLUSTERS * R_PER)
#define R_OPS      3000

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

struct rstate {
	struct tk_fx *fx;
	uint64_t start[R_CLUSTERS];
	uint64_t hpa[R_PAGES];
	tdp_attr_t attr[R_PAGES];
};

static uint64_t r_gpa(const struct rstate *r, size_t i)
{
	return r->start[i / R_PER] + (i % R_PER) * r->fx->P;
}

static void r_check_page(struct rstate *r, size_t i, uint64_t op, bool ref)
{
	struct tk_fx *fx = r->fx;
	uint64_t g = r_gpa(r, i);
	struct tdp_lookup_result res;
	int rc = tdp_lookup(&fx->pgt, g, &res);

	if (r->hpa[i] == NO_HPA) {
		if (rc != -TDP_ENOENT)
			fail_msg("op %llu: page 0x%llx should be unmapped, lookup %d (-> 0x%llx)", ULL(op),
				 ULL(g), rc, rc == 0 ? ULL(res.hpa) : 0ull);
	} else if (rc != 0 || res.hpa != r->hpa[i] || res.attr != r->attr[i]) {
		fail_msg("op %llu: page 0x%llx: lookup %d -> 0x%llx attr 0x%x, expected 0x%llx attr 0x%x",
			 ULL(op), ULL(g), rc, rc == 0 ? ULL(res.hpa) : 0ull, rc == 0 ? res.attr : 0,
			 ULL(r->hpa[i]), r->attr[i]);
	}
	if (ref) {
		if (r->hpa[i] == NO_HPA)
			expect_unmapped(fx, g);
		else
			expect_hpa(fx, g, r->hpa[i]);
	}
}

static bool r_any(const struct rstate *r, size_t i, size_t n)
{
	for (size_t k = i; k < i + n; k++)
		if (r->hpa[k] != NO_HPA)
			return true;
	return false;
}

static void r_tlb_check(struct rstate *r, uint64_t op)
{
	size_t v = tdp_tk_tlb_check(r->fx->tlb);

	if (v)
		fail_msg("op %llu: TLB model: %zu violations, first: %s", ULL(op), v,
			 tdp_tk_tlb_first_violation(r->fx->tlb));
}

static void t_fp_random(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	const uint64_t P = fx->P, ia_end = 1ull << fx->cd->ia;
	const tdp_attr_t attrs[] = { A_RW, A_RO, A_RWX, FIT(fx, A_DEV), FIT(fx, A_RW | TDP_SW(2)) };
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ ((uint64_t)fx->cd->ia << 32) ^ fx->cd->gshift ^
			((uint64_t)fx->cd->format << 8) ^ fx->cd->flags;
	struct rstate *r = calloc(1, sizeof(*r));
	struct tdp_memcache mc;
	size_t fast_maps = 0, fast_unmaps = 0;

	assert_non_null(r);
	r->fx = fx;
	/* across a top-level boundary, across a level-1 boundary, inside a table, at the very top */
	r->start[0] = fx->base - R_PER / 2 * P;
	r->start[1] = fx->base + fx->blk - R_PER / 2 * P;
	r->start[2] = fx->base + fx->big + fx->blk / 2;
	r->start[3] = ia_end - R_PER * P;
	for (size_t c = 0; c + 1 < R_CLUSTERS; c++)
		assert_true(r->start[c] + R_PER * P <= r->start[c + 1]);
	for (size_t i = 0; i < R_PAGES; i++)
		r->hpa[i] = NO_HPA;
	tdp_memcache_init(&mc);

	for (uint64_t op = 0; op < R_OPS; op++) {
		uint64_t x = rnd(&seed), kind = x % 100;
		size_t i = (size_t)((x >> 8) % R_PAGES), n = 1;
		uint64_t g, hpa;
		tdp_attr_t attr = attrs[(x >> 20) % (sizeof(attrs) / sizeof(attrs[0]))];
		uint32_t flags = ((x >> 24) % 8 == 0) ? TDP_MAP_NOREPLACE : 0;
		bool topup = (x >> 28) % 10 != 0, group = false;
		size_t mark, nr;
		struct tdp_lookup_result lr;
		int rc, want;

		if (kind >= 80) {
			/* a few pages in one cluster: the general path */
			n = 2 + (size_t)((x >> 32) % 15);
			if (i % R_PER + n > R_PER)
				i -= i % R_PER + n - R_PER;
		}
		g = r_gpa(r, i);
		/* outputs: the page's own (groups possible), another, or what is there */
		switch ((x >> 40) % 4) {
		case 0:
		case 1:
			hpa = fx->hbase + i * P;
			break;
		case 2:
			hpa = fx->hbase + fx->big + ((x >> 44) % 64) * P;
			break;
		default:
			hpa = r->hpa[i] != NO_HPA ? r->hpa[i] : fx->hbase + i * P;
			if (r->hpa[i] != NO_HPA)
				attr = r->attr[i];
			break;
		}
		if (tdp_lookup(&fx->pgt, g, &lr) == 0 && lr.size > P)
			group = true;
		/* a vCPU has the neighbourhood cached */
		for (size_t k = i ? i - 1 : 0; k < i + n + 1 && k < R_PAGES; k++)
			assert_true(tdp_tk_tlb_fill(fx->tlb, r_gpa(r, k), TDP_TK_READ) >= 0);
		if (kind < 45 || (kind >= 80 && kind < 90)) {
			long need = tdp_map_pages_needed(&fx->pgt, g, hpa, n * P, flags);

			assert_true(need >= 0);
			if (topup)
				mc_top(fx, &mc, (size_t)need);
			if ((flags & TDP_MAP_NOREPLACE) && r_any(r, i, n))
				want = -TDP_EEXIST;
			else if (mc.nr < (size_t)need)
				want = -TDP_ENOMEM;
			else
				want = 0;
			nr = mc.nr;
			mark = tk_log_mark(fx->env);
			rc = tdp_map(&fx->pgt, g, hpa, n * P, attr, flags, &mc);
			if (rc != want)
				fail_msg("op %llu: map(0x%llx -> 0x%llx, %zu pages, flags 0x%x) with %zu cache "
					 "pages (need %ld) = %d, expected %d",
					 ULL(op), ULL(g), ULL(hpa), n, flags, nr, need, rc, want);
			if (rc) {
				assert_int_equal(mc.nr, nr);
				expect_no_flush(fx, mark, "a failed map");
			} else {
				if (n == 1) {
					bool same = r->hpa[i] == hpa && r->attr[i] == attr && !group;

					assert_true(nr - mc.nr <= L - 1);
					if (same) {
						assert_int_equal(mc.nr, nr);
						expect_no_flush(fx, mark, "the same page again");
					} else if (r->hpa[i] == NO_HPA && !tk_flush_on_install(&fx->pgt.cfg)) {
						expect_no_flush(fx, mark, "a page into an empty entry");
					}
					fast_maps++;
				}
				for (size_t k = i; k < i + n; k++) {
					r->hpa[k] = hpa + (k - i) * P;
					r->attr[k] = attr;
				}
				tk_model_map(&fx->m, g, hpa, n * P, attr);
			}
		} else {
			bool was = r_any(r, i, n);

			nr = mc.nr;
			mark = tk_log_mark(fx->env);
			rc = tdp_unmap(&fx->pgt, g, n * P, (x >> 48) & 1 ? &mc : NULL);
			if (rc != 0)
				fail_msg("op %llu: unmap(0x%llx, %zu pages) = %d", ULL(op), ULL(g), n, rc);
			assert_int_equal(mc.nr, nr);
			if (!was)
				expect_no_flush(fx, mark, "unmapping unmapped pages");
			else if (n == 1 && !group) {
				/* one flush: the page at level 0, or the emptied chain */
				const struct tk_event *f = NULL;

				for (size_t e = mark; e < fx->env->nr_ev; e++)
					if (fx->env->ev[e].kind == TK_EV_FLUSH_RANGE)
						f = &fx->env->ev[e];
				if (nr_flushes(fx, mark) != 1 || f->a > g || f->a + f->b < g + P ||
				    f->level != (f->tables ? TDP_LEVEL_ANY : 0) ||
				    (!f->tables && (f->a != g || f->b != P)) ||
				    (f->tables != (tk_log_count(fx->env, mark, TK_EV_FREE) > 0))) {
					tk_log_dump(fx->env, mark);
					fail_msg("op %llu: unmap of page 0x%llx: flushes above", ULL(op),
						 ULL(g));
				}
				fast_unmaps++;
			}
			for (size_t k = i; k < i + n; k++)
				r->hpa[k] = NO_HPA;
			tk_model_unmap(&fx->m, g, n * P);
		}
		if (fx->env->errors)
			fail_msg("op %llu: pool: %s", ULL(op), fx->env->first_error);
		r_tlb_check(r, op);
		for (size_t k = i ? i - 1 : 0; k < i + n + 1 && k < R_PAGES; k++)
			r_check_page(r, k, op, k == i);
		/* the reference walker on a sample */
		for (int s = 0; s < 4; s++)
			r_check_page(r, (size_t)(rnd(&seed) % R_PAGES), op, true);
		if (op % 150 == 149) {
			for (size_t k = 0; k < R_PAGES; k++)
				r_check_page(r, k, op, false);
			/* structure, no empty table linked, pool = root + reachable tables + cache */
			tk_check_model(fx->env, &fx->pgt, &fx->m, mc.nr);
		}
	}
	assert_true(fast_maps > R_OPS / 5);
	assert_true(fast_unmaps > R_OPS / 10);
	/* everything away, page by page: the root and the cache are all that is left */
	for (size_t k = 0; k < R_PAGES; k++) {
		assert_int_equal(tdp_unmap(&fx->pgt, r_gpa(r, k), P, k % 2 ? &mc : NULL), 0);
		r->hpa[k] = NO_HPA;
		tk_model_unmap(&fx->m, r_gpa(r, k), P);
	}
	r_tlb_check(r, R_OPS);
	tk_check_model(fx->env, &fx->pgt, &fx->m, mc.nr);
	expect_tables(fx, &mc, 0);
	mc_done(fx, &mc);
	expect_tables(fx, NULL, 0);
	free(r);
}

/* The same through virt_to_phys/phys_to_virt (the walks' other translation). */
static void t_fp_random_xlate(struct tk_fx *fx)
{
	assert_ptr_not_equal(fx->pgt.cfg.mm->phys_to_virt, NULL);
	t_fp_random(fx);
}

static void t_fp_map_pages_xlate(struct tk_fx *fx)
{
	assert_ptr_not_equal(fx->pgt.cfg.mm->phys_to_virt, NULL);
	crossing_sequence(fx, 0);
}

static const struct tcase cases[] = {
	CASE(t_fp_map_pages),
	CASE(t_fp_map_blocks),
	CASE(t_fp_map_top_leaves),
	CASE_XLATE(t_fp_map_pages_xlate),
	CASE(t_fp_install_flush_cfgs),
	CASE(t_fp_remap),
	CASE(t_fp_page_in_block),
	CASE(t_fp_noreplace),
	CASE(t_fp_cache_short),
	CASE(t_fp_unmap_table_chain),
	CASE(t_fp_unmap_neighbours),
	CASE(t_fp_unmap_unmapped),
	CASE(t_fp_unmap_blocks),
	CASE(t_fp_random),
	CASE_XLATE(t_fp_random_xlate),
};

static const struct tcase napot_cases[] = {
	CASE(t_fp_napot),
};

int main(void)
{
	const struct tk_cfgdesc *napot[32];
	size_t nn = 0;
	int rc;

	for (size_t i = 0; i < tk_nr_cfgs_ops && nn < 32; i++)
		if (tk_cfgs_ops[i]->format == TDP_FORMAT_RISCV_G &&
		    (tk_cfgs_ops[i]->flags & TDP_CFG_RISCV_SVNAPOT))
			napot[nn++] = tk_cfgs_ops[i];
	rc = run_cases("fastpath", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
	/* the Svnapot bodies on the configurations that have it */
	if (nn == 0)
		return 1;
	rc += run_cases("fastpath_napot", napot_cases, 1, napot, nn);
	return rc;
}
