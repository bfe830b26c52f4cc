/* SPDX-License-Identifier: MIT */
/*
 * tdp_map_fault() and tdp_map_fault_pages_needed(), against the contract in
 * include/tdp/pgtable.h:
 * 1. the leaf mapped is the largest one the format, the table's and the
 *    flags' level caps, the region and the equal alignment of gpa and hpa
 *    allow (res->gpa/size/level, translation of its pages, attributes);
 * 2. where tables already sit on the path, the largest leaf that fits the
 *    first empty entry;
 * 3. a fault on a translated address: -TDP_EEXIST describing the leaf
 *    there (a Svnapot group: 64 KiB), nothing changed, no page taken;
 * 4. cache pages: exactly one per table linked, -TDP_ENOMEM with nothing
 *    taken when one short or of another table size, the bound
 *    tdp_map_fault_pages_needed(), never an allocation through mm;
 * 5. flushes: on RISC-V without Svvptc what tdp_map of the same leaf
 *    reports on a twin table, elsewhere none; no stale TLB entry;
 * 6. bad input, each leaving everything as it was;
 * 7. random faults over overlapping regions with unmaps and maps in
 *    between, against the kit's model and reference walker;
 * 8. the result is what tdp_map of that leaf writes on a twin table.
 * Every expectation is computed from the kit's model and geometry, not from
 * the library. Every body runs on every operation configuration
 * (tk_cfgs_ops).
 */
#include "common.h"

static unsigned int levels(const struct tk_fx *fx)
{
	return fx->g.levels;
}

/* The kit's own level sizes (tk_geo), not the library's. */
static uint64_t lsz(const struct tk_fx *fx, unsigned int l)
{
	return tk_level_size(&fx->g, l);
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void mc_top(struct tk_fx *fx, struct tdp_memcache *mc, size_t n)
{
	assert_int_equal(tdp_memcache_topup(&fx->pgt, mc, n), 0);
	assert_true(mc->nr >= n);
}

/* Make the cache hold exactly n pages (drained and topped up again when it holds more). */
static void mc_exact(struct tk_fx *fx, struct tdp_memcache *mc, size_t n)
{
	if (mc->nr > n)
		tdp_memcache_drain(&fx->pgt, mc);
	mc_top(fx, mc, n);
	assert_int_equal(mc->nr, n);
}

/* tk_fx_map / tk_fx_unmap with the cache topped up to what the call may take. */
static int map_chk(struct tk_fx *fx, uint64_t gpa, uint64_t hpa, uint64_t size, tdp_attr_t attr,
		   uint32_t flags, struct tdp_memcache *mc)
{
	mc_top(fx, mc, (size_t)tdp_map_pages_needed(&fx->pgt, gpa, hpa, size, flags));
	return tk_fx_map(fx, gpa, hpa, size, attr, flags, mc);
}

static int unmap_chk(struct tk_fx *fx, uint64_t gpa, uint64_t size, struct tdp_memcache *mc)
{
	mc_top(fx, mc, (size_t)tdp_unmap_pages_needed(&fx->pgt, gpa, size));
	return tk_fx_unmap(fx, gpa, size, mc);
}

/* Leaf levels a fault may use with these flags, from the kit's geometry and the table's cap. */
static uint32_t fault_mask(const struct tk_fx *fx, uint32_t flags)
{
	uint32_t mask = fx->g.leaf_mask;
	unsigned int ll = fx->pgt.cfg.leaf_levels;

	if (ll && ll < 32)
		mask &= (1u << ll) - 1;
	if (flags & TDP_MAP_MAX_LEVEL_MASK) {
		unsigned int cap = ((flags & TDP_MAP_MAX_LEVEL_MASK) >> 8) - 1;

		if (cap < 31)
			mask &= (2u << cap) - 1;
	}
	return mask | 1u;
}

/* The largest allowed level whose aligned block around fa lies in rg with hpa - gpa aligned to it. */
static unsigned int region_lmax(const struct tk_fx *fx, uint64_t fa,
				const struct tdp_fault_region *rg, uint32_t flags)
{
	uint32_t mask = fault_mask(fx, flags);

	for (unsigned int l = levels(fx) - 1; l > 0; l--) {
		uint64_t s = lsz(fx, l), b = fa & ~(s - 1);

		if (!((mask >> l) & 1) || s > rg->size)
			continue;
		if (b >= rg->gpa && b - rg->gpa <= rg->size - s && !((rg->hpa - rg->gpa) & (s - 1)))
			return l;
	}
	return 0;
}

/*
 * The level of the first entry on fa's path from the root that is not a
 * table, when it is empty: the highest level whose block around fa holds
 * nothing in the model (the kit checks that no empty table stays linked).
 * -1 when fa is mapped.
 */
static int empty_level(const struct tk_fx *fx, uint64_t fa)
{
	for (int k = (int)levels(fx) - 1; k >= 0; k--) {
		uint64_t s = lsz(fx, (unsigned int)k);

		if (!tk_model_any(&fx->m, fa & ~(s - 1), s))
			return k;
	}
	return -1;
}

static const struct tk_ext *model_at(const struct tk_fx *fx, uint64_t gpa)
{
	for (size_t i = 0; i < fx->m.n; i++)
		if (fx->m.v[i].gpa <= gpa && gpa - fx->m.v[i].gpa < fx->m.v[i].size)
			return &fx->m.v[i];
	return NULL;
}

static size_t nr_events(const struct tk_fx *fx, size_t mark)
{
	return tk_log_count(fx->env, mark, TK_EV_FLUSH_RANGE) +
	       tk_log_count(fx->env, mark, TK_EV_FLUSH_ALL) +
	       tk_log_count(fx->env, mark, TK_EV_FREE) + tk_log_count(fx->env, mark, TK_EV_ALLOC);
}

static void tlb_ok(struct tk_fx *fx, size_t mark, const char *when)
{
	size_t v = tdp_tk_tlb_check(fx->tlb);

	if (v) {
		tk_log_dump(fx->env, mark);
		fail_msg("TLB model after %s: %zu violations, first: %s", when, v,
			 tdp_tk_tlb_first_violation(fx->tlb));
	}
}

/* Page gpa translates to hpa with attr, through tdp_lookup and the reference walker. */
static void expect_page(struct tk_fx *fx, uint64_t gpa, uint64_t hpa, tdp_attr_t attr,
			unsigned int level)
{
	struct tdp_lookup_result r;
	struct tk_leaf l;
	int rc = tdp_lookup(&fx->pgt, gpa, &r);

	if (rc != 0 || r.hpa != hpa || r.attr != attr || r.level != level)
		fail_msg("gpa 0x%llx: lookup %d -> 0x%llx attr 0x%x level %u, expected 0x%llx attr "
			 "0x%x level %u",
			 ULL(gpa), rc, ULL(r.hpa), r.attr, r.level, ULL(hpa), attr, level);
	rc = tk_ref_translate(fx->env, &fx->pgt, gpa, &l);
	if (rc != 0 || l.level != level || l.pa + (gpa - l.gpa) != hpa || l.attr != attr)
		fail_msg("gpa 0x%llx: reference walker %d: level %u -> 0x%llx attr 0x%x, expected level "
			 "%u -> 0x%llx attr 0x%x",
			 ULL(gpa), rc, l.level, ULL(l.pa + (gpa - l.gpa)), l.attr, level, ULL(hpa),
			 attr);
}

/*
 * Pages of the leaf res: every one when `all` and the leaf has at most 4096
 * pages, else its first, last and a few evenly spaced (63 when `all`, 5
 * otherwise); plus fa itself.
 */
static void expect_leaf_pages(struct tk_fx *fx, const struct tdp_fault_result *res, uint64_t fa,
			      const struct tdp_fault_region *rg, tdp_attr_t attr, bool all)
{
	uint64_t pages = res->size / fx->P, step = 1;

	if (!all)
		step = pages / 5 ? pages / 5 : 1;
	else if (pages > 4096)
		step = pages / 63;
	for (uint64_t i = 0; i < pages; i += step)
		expect_page(fx, res->gpa + i * fx->P, rg->hpa + (res->gpa + i * fx->P - rg->gpa),
			    attr, res->level);
	expect_page(fx, res->gpa + res->size - fx->P, rg->hpa + (res->gpa + res->size - fx->P - rg->gpa),
		    attr, res->level);
	expect_page(fx, fa, rg->hpa + (fa - rg->gpa), attr, res->level);
}

struct fexp {
	int rc;
	unsigned int level; /* rc 0: the leaf's level */
	size_t need;        /* rc 0: cache pages taken */
};

/* What the contract says a fault must do on the table the model describes. */
static struct fexp fault_expect(const struct tk_fx *fx, uint64_t fa,
				const struct tdp_fault_region *rg, uint32_t flags,
				const struct tdp_memcache *mc)
{
	struct fexp e = { 0, 0, 0 };
	int m = empty_level(fx, fa);
	unsigned int lmax;

	if (m < 0) {
		e.rc = -TDP_EEXIST;
		return e;
	}
	lmax = region_lmax(fx, fa, rg, flags);
	e.level = (unsigned int)m < lmax ? (unsigned int)m : lmax;
	e.need = (size_t)m - e.level;
	if (e.need && (mc->page_size != fx->g.table_size || mc->nr < e.need))
		e.rc = -TDP_ENOMEM;
	return e;
}

/*
 * A checked fault. `full`: snapshots before and after (unchanged on
 * failure; model, structure and flush coverage on success) and every page
 * of the leaf; otherwise lookups and the reference walker around fa.
 * Always: the return code and *res against fault_expect, cache pages
 * taken, no allocation, the exact flushes and the TLB model. Returns rc.
 */
static int fault_chk(struct tk_fx *fx, uint64_t fa, const struct tdp_fault_region *rg,
		     tdp_attr_t attr, uint32_t flags, struct tdp_memcache *mc,
		     struct tdp_fault_result *out, bool full)
{
	const uint64_t P = fx->P;
	struct tdp_fault_result res;
	struct tk_snap before, after;
	struct tdp_lookup_result lb, la;
	struct fexp e = fault_expect(fx, fa, rg, flags, mc);
	size_t nr = mc->nr, ps = mc->page_size, allocs, out_blocks, mark;
	void *head = mc->head;
	int lrb, rc;
	const uint64_t near[] = { fa, fa - P, fa + P, fa - fx->blk, fa + fx->blk, rg->gpa,
				  rg->gpa + rg->size - P, fa - fx->big, fa + fx->big };

	/* a vCPU has the neighbourhood cached (fewer places in the random runs) */
	for (size_t i = 0; i < (full ? sizeof(near) / sizeof(near[0]) : 3); i++)
		if (near[i] < 1ull << fx->cd->ia)
			assert_true(tdp_tk_tlb_fill(fx->tlb, near[i], TDP_TK_READ) >= 0);
	if (full) {
		tk_snap_take(fx->env, &fx->pgt, &before);
		for (size_t i = 0, n = 0; i < before.nr && n < 256; i++) {
			const struct tk_leaf *l = &before.leaves[i];

			if (l->gpa + l->size + fx->big < rg->gpa || l->gpa > rg->gpa + rg->size + fx->big)
				continue;
			assert_true(tdp_tk_tlb_fill(fx->tlb, l->gpa, TDP_TK_PROBE) >= 0);
			assert_true(tdp_tk_tlb_fill(fx->tlb, l->gpa + l->size - P, TDP_TK_PROBE) >= 0);
			n++;
		}
	}
	if (full)
		tlb_ok(fx, tk_log_mark(fx->env), "the calls before this fault");
	lrb = tdp_lookup(&fx->pgt, fa & ~(P - 1), &lb);
	allocs = fx->env->allocs;
	out_blocks = fx->env->out_blocks;
	mark = tk_log_mark(fx->env);
	memset(&res, 0xa5, sizeof(res));

	rc = tdp_map_fault(&fx->pgt, fa, rg, attr, flags, mc, &res);

	tlb_ok(fx, mark, rc ? "a failed fault" : "a fault");
	if (rc != e.rc) {
		tk_log_dump(fx->env, mark);
		fail_msg("fault 0x%llx in [0x%llx, +0x%llx) -> 0x%llx, attr 0x%x flags 0x%x, cache %zu: "
			 "%d (level %u), expected %d (level %u, %zu pages)",
			 ULL(fa), ULL(rg->gpa), ULL(rg->size), ULL(rg->hpa), attr, flags, nr, rc,
			 rc ? 0 : res.level, e.rc, e.level, e.need);
	}
	if (fx->env->allocs != allocs)
		fail_msg("fault 0x%llx allocated through mm", ULL(fa));
	if (fx->env->errors)
		fail_msg("pool: %s", fx->env->first_error);
	if (rc) {
		if (mc->nr != nr || mc->head != head || mc->page_size != ps)
			fail_msg("fault 0x%llx failed with %d and changed the cache (%zu -> %zu pages)",
				 ULL(fa), rc, nr, mc->nr);
		if (fx->env->out_blocks != out_blocks || nr_events(fx, mark)) {
			tk_log_dump(fx->env, mark);
			fail_msg("fault 0x%llx failed with %d: pool or TLB calls (above)", ULL(fa), rc);
		}
		if (tdp_lookup(&fx->pgt, fa & ~(P - 1), &la) != lrb ||
		    (lrb == 0 && memcmp(&la, &lb, sizeof(la))))
			fail_msg("fault 0x%llx failed with %d: its translation changed", ULL(fa), rc);
		if (rc == -TDP_EEXIST) {
			struct tk_leaf l;

			assert_int_equal(tk_ref_translate(fx->env, &fx->pgt, fa, &l), 0);
			if (res.gpa != l.gpa || res.size != l.size || res.level != l.level ||
			    res.size != lb.size || res.level != lb.level)
				fail_msg("fault 0x%llx: -TDP_EEXIST reports [0x%llx, +0x%llx) level %u; the "
					 "leaf there is [0x%llx, +0x%llx) level %u (lookup: 0x%llx, %u)",
					 ULL(fa), ULL(res.gpa), ULL(res.size), res.level, ULL(l.gpa),
					 ULL(l.size), l.level, ULL(lb.size), lb.level);
		}
		if (full) {
			tk_snap_take(fx->env, &fx->pgt, &after);
			if (!tk_snap_same(&before, &after))
				fail_msg("fault 0x%llx failed with %d and changed the table", ULL(fa), rc);
			tk_snap_free(&after);
			tk_snap_free(&before);
		}
		if (out)
			*out = res;
		return rc;
	}

	/* the leaf */
	if (res.level != e.level || res.size != lsz(fx, e.level) ||
	    res.gpa != (fa & ~(lsz(fx, e.level) - 1)))
		fail_msg("fault 0x%llx in [0x%llx, +0x%llx) -> 0x%llx flags 0x%x: leaf [0x%llx, +0x%llx) "
			 "level %u, expected level %u",
			 ULL(fa), ULL(rg->gpa), ULL(rg->size), ULL(rg->hpa), flags, ULL(res.gpa),
			 ULL(res.size), res.level, e.level);
	assert_true(res.gpa >= rg->gpa && res.gpa - rg->gpa <= rg->size - res.size);
	assert_true(((rg->hpa - rg->gpa) & (res.size - 1)) == 0);
	/* pages: exactly the tables linked, and they stay in the pool */
	if (nr - mc->nr != e.need)
		fail_msg("fault 0x%llx (level-%u leaf): took %zu cache pages, expected %zu", ULL(fa),
			 e.level, nr - mc->nr, e.need);
	assert_int_equal(fx->env->out_blocks, out_blocks);
	assert_true(e.need <= (size_t)tdp_map_fault_pages_needed(&fx->pgt));
	/* flushes: the highest new entry where new entries are flushed, else none */
	assert_int_equal(tk_log_count(fx->env, mark, TK_EV_FREE), 0);
	assert_int_equal(tk_log_count(fx->env, mark, TK_EV_FLUSH_ALL), 0);
	if (tk_flush_on_install(&fx->pgt.cfg)) {
		unsigned int hi = e.level + (unsigned int)e.need;
		const struct tk_event *f = NULL;

		for (size_t i = mark; i < fx->env->nr_ev; i++)
			if (fx->env->ev[i].kind == TK_EV_FLUSH_RANGE)
				f = &fx->env->ev[i];
		if (tk_log_count(fx->env, mark, TK_EV_FLUSH_RANGE) != 1 ||
		    f->a != (res.gpa & ~(lsz(fx, hi) - 1)) || f->b != lsz(fx, hi) ||
		    f->level != (e.need ? TDP_LEVEL_ANY : (int)e.level) || f->tables) {
			tk_log_dump(fx->env, mark);
			fail_msg("fault 0x%llx: expected one flush_range(0x%llx, 0x%llx, %d, false)",
				 ULL(fa), ULL(res.gpa & ~(lsz(fx, hi) - 1)), ULL(lsz(fx, hi)),
				 e.need ? TDP_LEVEL_ANY : (int)e.level);
		}
	} else if (tk_log_count(fx->env, mark, TK_EV_FLUSH_RANGE)) {
		tk_log_dump(fx->env, mark);
		fail_msg("fault 0x%llx: a flush on a format that does not flush new entries", ULL(fa));
	}
	tk_model_map(&fx->m, res.gpa, rg->hpa + (res.gpa - rg->gpa), res.size, attr);
	expect_leaf_pages(fx, &res, fa, rg, attr, full);
	if (lrb == 0)
		fail_msg("fault 0x%llx mapped over a translation", ULL(fa));
	/* the neighbours outside the leaf keep what the model says */
	for (int s = -1; s <= 1; s += 2) {
		uint64_t g = s < 0 ? res.gpa - P : res.gpa + res.size;
		const struct tk_ext *x = model_at(fx, g);

		if (g >= 1ull << fx->cd->ia || (s < 0 && res.gpa == 0))
			continue;
		if (x)
			expect_hpa(fx, g, x->hpa + (g - x->gpa));
		else
			expect_unmapped(fx, g);
	}
	if (full) {
		tk_snap_take(fx->env, &fx->pgt, &after);
		tk_check_model(fx->env, &fx->pgt, &fx->m,
			       mc->page_size == fx->g.table_size ? mc->nr : 0);
		tk_check_flushes(fx->env, &before, &after, mark);
		tk_snap_free(&after);
		tk_snap_free(&before);
	}
	if (out)
		*out = res;
	return 0;
}

/* A fault that must map a level-`level` leaf taking `need` pages (SIZE_MAX: any). */
static void fault_ok(struct tk_fx *fx, uint64_t fa, const struct tdp_fault_region *rg,
		     tdp_attr_t attr, uint32_t flags, struct tdp_memcache *mc, unsigned int level,
		     size_t need, struct tdp_fault_result *out)
{
	struct tdp_fault_result res;
	size_t nr = mc->nr;

	assert_int_equal(fault_chk(fx, fa, rg, attr, flags, mc, &res, true), 0);
	if (res.level != level)
		fail_msg("fault 0x%llx: level %u, expected %u", ULL(fa), res.level, level);
	if (need != SIZE_MAX && nr - mc->nr != need)
		fail_msg("fault 0x%llx: %zu pages, expected %zu", ULL(fa), nr - mc->nr, need);
	if (out)
		*out = res;
}

/* The highest allowed leaf level at or below l (level 0 always is). */
static unsigned int allowed_le(const struct tk_fx *fx, unsigned int l, uint32_t flags)
{
	uint32_t mask = fault_mask(fx, flags);

	while (l && !((mask >> l) & 1))
		l--;
	return l;
}

/* ------------------------------------------------------------------ */
/* 1: the largest leaf                                                 */

/* Faults at rg's first and last byte, an unaligned middle byte and a few random ones. */
static void fault_all_over(struct tk_fx *fx, const struct tdp_fault_region *rg, uint32_t flags,
			   struct tdp_memcache *mc, uint64_t *seed)
{
	uint64_t fas[8] = { rg->gpa, rg->gpa + rg->size - 1, rg->gpa + rg->size / 2 + 0x123 };

	for (int i = 3; i < 8; i++)
		fas[i] = rg->gpa + rnd(seed) % rg->size;
	for (int i = 0; i < 8; i++) {
		mc_top(fx, mc, levels(fx) - 1);
		if (fault_chk(fx, fas[i], rg, A_RW, flags, mc, NULL, true) == -TDP_EEXIST)
			continue;
	}
	/* everything faulted is the region's translation */
	for (int i = 0; i < 8; i++)
		expect_hpa(fx, fas[i] & ~(fx->P - 1), rg->hpa + ((fas[i] & ~(fx->P - 1)) - rg->gpa));
	assert_int_equal(unmap_chk(fx, rg->gpa, rg->size, mc), 0);
}

static void t_fault_largest(struct tk_fx *fx)
{
	const unsigned int L = levels(fx), top = fx->top;
	const uint64_t P = fx->P, b = fx->base, h = fx->hbase, blk = fx->blk;
	uint64_t seed = 0x1234567ull ^ fx->cd->ia ^ ((uint64_t)fx->cd->format << 20) ^ fx->cd->gshift;
	struct tdp_memcache mc;
	struct tdp_fault_region rg;
	struct tdp_fault_result res;

	tdp_memcache_init(&mc);
	/* a region of exactly one level-k block, aligned: that block, from anywhere in it */
	for (unsigned int k = 0; k <= top; k++) {
		uint64_t s = lsz(fx, k);
		unsigned int want = allowed_le(fx, k, 0);

		rg = (struct tdp_fault_region){ b + s, s, h + s };
		mc_top(fx, &mc, L - 1);
		fault_ok(fx, b + s + s / 2 + 7, &rg, A_RW, 0, &mc, want, L - 1 - want, &res);
		assert_int_equal(res.gpa, (b + s + s / 2) & ~(lsz(fx, want) - 1));
		/* every page of the leaf (sampled for the large ones) */
		expect_leaf_pages(fx, &res, res.gpa, &rg, A_RW, true);
		if (want == k) {
			/* at its first and last byte: -TDP_EEXIST with the same leaf */
			assert_int_equal(fault_chk(fx, rg.gpa, &rg, A_RW, 0, &mc, &res, true),
					 -TDP_EEXIST);
			assert_int_equal(res.gpa, rg.gpa);
			assert_int_equal(res.size, s);
			assert_int_equal(fault_chk(fx, rg.gpa + s - 1, &rg, A_RW, 0, &mc, &res, true),
					 -TDP_EEXIST);
		}
		fault_all_over(fx, &rg, 0, &mc, &seed);
	}
	/* a region of the two largest leaves: top-level leaves, capped by the flags below */
	rg = (struct tdp_fault_region){ b, 2 * fx->big, h };
	for (unsigned int cap = 0; cap <= L; cap++) {
		/* cap L: MAX_LEVEL(14), the largest the 4-bit field holds: no cap */
		unsigned int c = cap < L ? cap : 14, want = allowed_le(fx, c < top ? c : top, 0);

		mc_top(fx, &mc, L - 1);
		fault_ok(fx, b + fx->big + 3 * P + 5, &rg, A_RWX, TDP_MAP_MAX_LEVEL(c), &mc, want,
			 SIZE_MAX, &res);
		assert_int_equal(res.gpa, (b + fx->big + 3 * P) & ~(lsz(fx, want) - 1));
		fault_all_over(fx, &rg, TDP_MAP_MAX_LEVEL(c), &mc, &seed);
	}
	/* host offset only page-aligned: pages only, whatever the region's size */
	rg = (struct tdp_fault_region){ b, 2 * fx->big, h + P };
	mc_top(fx, &mc, L - 1);
	fault_ok(fx, b + fx->big, &rg, A_RW, 0, &mc, 0, L - 1, NULL);
	mc_top(fx, &mc, L - 1);
	fault_ok(fx, b + 2 * fx->big - 1, &rg, A_RW, 0, &mc, 0, SIZE_MAX, NULL);
	fault_all_over(fx, &rg, 0, &mc, &seed);
	/* host offset aligned to the first block size only */
	if (top >= 2) {
		rg = (struct tdp_fault_region){ b, 2 * fx->big, h + blk };
		mc_top(fx, &mc, L - 1);
		fault_ok(fx, b + fx->big + 77, &rg, A_RW, 0, &mc, allowed_le(fx, 1, 0),
			 L - 1 - allowed_le(fx, 1, 0), NULL);
		fault_all_over(fx, &rg, 0, &mc, &seed);
	}
	/* gpa and hpa misaligned to the block the same way: still blocks inside */
	rg = (struct tdp_fault_region){ b + blk - 3 * P, 2 * blk + 8 * P, h + blk - 3 * P };
	mc_top(fx, &mc, L - 1);
	/* first byte: its block starts before the region; last byte: it ends after */
	mc_top(fx, &mc, L - 1);
	fault_ok(fx, rg.gpa, &rg, A_RO, 0, &mc, 0, L - 1, NULL);
	mc_top(fx, &mc, L - 1);
	fault_ok(fx, rg.gpa + rg.size - 1, &rg, A_RO, 0, &mc, 0, SIZE_MAX, NULL);
	/* the one whole block in the middle (its table exists: no page) */
	if (fx->g.leaf_mask & 2u) {
		mc_top(fx, &mc, L - 1);
		fault_ok(fx, b + blk + blk / 3, &rg, A_RO, 0, &mc, allowed_le(fx, 1, 0), 0, &res);
		assert_int_equal(res.gpa, b + blk);
	}
	fault_all_over(fx, &rg, 0, &mc, &seed);
	/* a region of one page; one page short of a block */
	rg = (struct tdp_fault_region){ b + 9 * P, P, h };
	mc_top(fx, &mc, L - 1);
	fault_ok(fx, b + 9 * P + P - 1, &rg, A_RW, 0, &mc, 0, SIZE_MAX, &res);
	assert_int_equal(res.gpa, b + 9 * P);
	assert_int_equal(unmap_chk(fx, rg.gpa, rg.size, &mc), 0);
	rg = (struct tdp_fault_region){ b, blk - P, h };
	mc_top(fx, &mc, L - 1);
	fault_ok(fx, b, &rg, A_RW, 0, &mc, 0, SIZE_MAX, NULL);
	fault_all_over(fx, &rg, 0, &mc, &seed);
	/* the very top of the input range */
	rg = (struct tdp_fault_region){ (1ull << fx->cd->ia) - fx->big, fx->big, h };
	mc_top(fx, &mc, L - 1);
	fault_ok(fx, (1ull << fx->cd->ia) - 1, &rg, A_RW, 0, &mc, allowed_le(fx, top, 0), SIZE_MAX,
		 NULL);
	fault_all_over(fx, &rg, 0, &mc, &seed);
	tdp_memcache_drain(&fx->pgt, &mc);
	tk_check_model(fx->env, &fx->pgt, &fx->m, 0);
	assert_int_equal(fx->m.n, 0);
}

/* Attributes: every permission word the format takes, every memory type it has. */
static void t_fault_attrs(struct tk_fx *fx)
{
	const tdp_attr_t mts[] = { TDP_MT_NORMAL_WB, TDP_MT_NORMAL_NC, TDP_MT_DEVICE,
				   TDP_MT_DEVICE_STRICT };
	struct tdp_memcache mc;
	const uint64_t g = fx->base;

	tdp_memcache_init(&mc);
	for (size_t t = 0; t < 4; t++) {
		for (tdp_attr_t p = 0; p <= TDP_PROT_MASK; p++) {
			tdp_attr_t a = FIT(fx, p | mts[t] | (t == 1 ? TDP_SW(1) : 0));
			struct tdp_fault_region rg = { g, fx->blk, fx->hbase + fx->blk };
			struct tdp_fault_result res;

			if (a != (p | mts[t] | (t == 1 ? TDP_SW(1) : 0)))
				continue; /* a memory type the format lacks */
			mc_top(fx, &mc, levels(fx) - 1);
			if (!tk_attr_ok(&fx->pgt.cfg, a)) {
				struct tk_snap s0, s1;

				tk_snap_take(fx->env, &fx->pgt, &s0);
				assert_int_equal(tdp_map_fault(&fx->pgt, g + fx->P, &rg, a, 0, &mc, &res),
						 -TDP_EINVAL);
				tk_snap_take(fx->env, &fx->pgt, &s1);
				assert_true(tk_snap_same(&s0, &s1));
				tk_snap_free(&s0);
				tk_snap_free(&s1);
				continue;
			}
			/* a block where the format has one, and a page */
			assert_int_equal(fault_chk(fx, g + fx->P, &rg, a, 0, &mc, &res, true), 0);
			assert_int_equal(unmap_chk(fx, res.gpa, res.size, &mc), 0);
			mc_top(fx, &mc, levels(fx) - 1);
			assert_int_equal(fault_chk(fx, g + fx->P, &rg, a, TDP_MAP_MAX_LEVEL(0), &mc, &res,
						   true), 0);
			assert_int_equal(unmap_chk(fx, res.gpa, res.size, &mc), 0);
		}
	}
	tdp_memcache_drain(&fx->pgt, &mc);
}

/* ------------------------------------------------------------------ */
/* 2: tables already on the path                                       */

static void t_fault_tables(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	const uint64_t P = fx->P, b = fx->base, h = fx->hbase, blk = fx->blk;
	const uint64_t other = fx->hbase + 2 * fx->big;
	struct tdp_memcache mc;
	struct tdp_fault_region rg;
	struct tdp_fault_result res;

	tdp_memcache_init(&mc);
	/* a block-sized region with one page already mapped elsewhere in it: a page */
	rg = (struct tdp_fault_region){ b, blk, h };
	mc_top(fx, &mc, L - 1);
	assert_int_equal(map_chk(fx, b + 5 * P, other, P, A_RO, 0, &mc), 0);
	fault_ok(fx, b + blk - 1, &rg, A_RW, 0, &mc, 0, 0, &res);
	assert_int_equal(res.gpa, b + blk - P);
	fault_ok(fx, b + 4 * P + 1, &rg, A_RW, 0, &mc, 0, 0, NULL);
	expect_leaf(fx, b + 5 * P, 0, other); /* never replaced */
	assert_int_equal(unmap_chk(fx, b, blk, &mc), 0);

	/* a region two levels up: a page in one block's area, a fault in another maps a block */
	if (fx->top >= 2) {
		uint64_t s2 = lsz(fx, 2);

		rg = (struct tdp_fault_region){ b, s2, h };
		mc_top(fx, &mc, L - 1);
		assert_int_equal(map_chk(fx, b + blk + 3 * P, other, P, A_RW, 0, &mc), 0);
		fault_ok(fx, b + 2 * blk + 7 * P, &rg, A_RW, 0, &mc, 1, 0, &res);
		assert_int_equal(res.gpa, b + 2 * blk);
		/* in the page's own block's area: a page, into the existing level-0 table */
		fault_ok(fx, b + blk + 9 * P, &rg, A_RW, 0, &mc, 0, 0, NULL);
		/* the page itself: already mapped */
		assert_int_equal(fault_chk(fx, b + blk + 3 * P, &rg, A_RW, 0, &mc, &res, true),
				 -TDP_EEXIST);
		assert_int_equal(res.level, 0);
		/* the region's last byte: a block again */
		fault_ok(fx, b + s2 - 1, &rg, A_RW, 0, &mc, 1, 0, NULL);
		assert_int_equal(unmap_chk(fx, b, s2, &mc), 0);

		/* an empty level-2 entry next to a table: a fresh level-1 table is not needed */
		rg = (struct tdp_fault_region){ b, 2 * s2, h };
		mc_top(fx, &mc, L - 1);
		assert_int_equal(map_chk(fx, b + 3 * P, other, P, A_RW, 0, &mc), 0);
		fault_ok(fx, b + s2 + 5, &rg, A_RW, 0, &mc, 2, 0, NULL);
		fault_ok(fx, b + s2 - 1, &rg, A_RW, 0, &mc, 1, 0, NULL);
		assert_int_equal(unmap_chk(fx, b, 2 * s2, &mc), 0);
	}
	/* a block mapped next door: the fault's block goes into the same table */
	if (fx->g.leaf_mask & 2u) {
		rg = (struct tdp_fault_region){ b, 4 * blk, h };
		mc_top(fx, &mc, L - 1);
		assert_int_equal(map_chk(fx, b + blk, other, blk, A_RO, 0, &mc), 0);
		fault_ok(fx, b + 2 * blk + 1, &rg, A_RW, 0, &mc, 1, 0, NULL);
		assert_int_equal(fault_chk(fx, b + blk + P, &rg, A_RW, 0, &mc, &res, true),
				 -TDP_EEXIST);
		assert_int_equal(res.gpa, b + blk);
		assert_int_equal(res.size, blk);
		assert_int_equal(res.level, 1);
		assert_int_equal(unmap_chk(fx, b, 4 * blk, &mc), 0);
	}
	/* a table at every level under the root: the fault next to the deepest one */
	rg = (struct tdp_fault_region){ b, 2 * fx->big, h };
	mc_top(fx, &mc, L - 1);
	assert_int_equal(map_chk(fx, b, other, P, A_RW, 0, &mc), 0);
	for (unsigned int k = 1; k < L && lsz(fx, k) < 2 * fx->big; k++) {
		uint64_t g = b + lsz(fx, k);

		mc_top(fx, &mc, L - 1);
		fault_ok(fx, g + 1, &rg, A_RW, 0, &mc, allowed_le(fx, k, 0), k - allowed_le(fx, k, 0),
			 NULL);
	}
	assert_int_equal(unmap_chk(fx, b, 2 * fx->big, &mc), 0);
	tdp_memcache_drain(&fx->pgt, &mc);
	tk_check_model(fx->env, &fx->pgt, &fx->m, 0);
}

/* ------------------------------------------------------------------ */
/* 3: already mapped                                                   */

static void t_fault_exists(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	const uint64_t P = fx->P, b = fx->base, h = fx->hbase, blk = fx->blk;
	struct tdp_memcache mc, empty;
	struct tdp_fault_region rg = { b, 2 * fx->big, h }, far = { b, 2 * fx->big, h + fx->big };
	struct tdp_fault_result res;

	tdp_memcache_init(&mc);
	tdp_memcache_init(&empty);
	/* a page mapped by a fault, faulted again: same region, another, another attribute */
	rg.hpa = h + P;
	far.hpa = h + fx->big + P;
	mc_top(fx, &mc, L - 1);
	fault_ok(fx, b + 3 * P, &rg, A_RW, 0, &mc, 0, L - 1, NULL);
	mc_top(fx, &mc, L - 1);
	for (int i = 0; i < 3; i++) {
		const struct tdp_fault_region *r = i == 1 ? &far : &rg;

		assert_int_equal(fault_chk(fx, b + 3 * P + (uint64_t)i * 0x10, r, i == 2 ? A_RO : A_RW,
					   0, &mc, &res, true), -TDP_EEXIST);
		assert_int_equal(res.gpa, b + 3 * P);
		assert_int_equal(res.size, P);
		assert_int_equal(res.level, 0);
	}
	/* with an empty cache too: -TDP_EEXIST first */
	assert_int_equal(fault_chk(fx, b + 3 * P, &rg, A_RW, 0, &empty, &res, true), -TDP_EEXIST);
	assert_int_equal(res.level, 0);
	/* the largest leaf, mapped by tdp_map, faulted with a region that would give pages */
	rg = (struct tdp_fault_region){ b, 2 * fx->big, h };
	mc_top(fx, &mc, L - 1);
	assert_int_equal(map_chk(fx, b + fx->big, h, fx->big, A_RW, 0, &mc), 0);
	rg.hpa = h + P;
	assert_int_equal(fault_chk(fx, b + fx->big + fx->big / 2 + 1, &rg, A_RW, 0, &empty, &res,
				   true), -TDP_EEXIST);
	assert_int_equal(res.gpa, b + fx->big);
	assert_int_equal(res.size, fx->big);
	assert_int_equal(res.level, fx->top);
	/* its last byte, with a level cap below it */
	assert_int_equal(fault_chk(fx, b + 2 * fx->big - 1, &rg, A_RW, TDP_MAP_MAX_LEVEL(0), &mc,
				   &res, true), -TDP_EEXIST);
	assert_int_equal(res.level, fx->top);
	/* a first-level block (below the largest leaf's area) */
	if (fx->top >= 2 && (fx->g.leaf_mask & 2u)) {
		assert_int_equal(map_chk(fx, b + 4 * blk, h, blk, A_RO, 0, &mc), 0);
		assert_int_equal(fault_chk(fx, b + 5 * blk - 1, &rg, A_RW, 0, &mc, &res, true),
				 -TDP_EEXIST);
		assert_int_equal(res.gpa, b + 4 * blk);
		assert_int_equal(res.size, blk);
		assert_int_equal(res.level, 1);
	}
	/* a Svnapot group: 64 KiB, level 0 */
	if (fx->cd->format == TDP_FORMAT_RISCV_G && (fx->pgt.cfg.flags & TDP_CFG_RISCV_SVNAPOT) &&
	    fx->top >= 2) {
		uint64_t g = b + 6 * blk + 0x30000, hg = h + 0x50000;
		struct tdp_lookup_result lr;

		mc_top(fx, &mc, L - 1);
		assert_int_equal(map_chk(fx, g, hg, 0x10000, A_RW, 0, &mc), 0);
		assert_int_equal(tdp_lookup(&fx->pgt, g + 0x8000, &lr), 0);
		assert_int_equal(lr.size, 0x10000);
		for (uint64_t off = 0; off < 0x10000; off += 0x5000) {
			assert_int_equal(fault_chk(fx, g + off + 0x10, &rg, A_RW, 0, &mc, &res, true),
					 -TDP_EEXIST);
			assert_int_equal(res.gpa, g);
			assert_int_equal(res.size, 0x10000);
			assert_int_equal(res.level, 0);
		}
		/* the page after the group: a page of the fault's own */
		fault_ok(fx, g + 0x10000, &rg, A_RW, 0, &mc, 0, 0, NULL);
	}
	tdp_memcache_drain(&fx->pgt, &mc);
	tk_check_model(fx->env, &fx->pgt, &fx->m, 0);
}

/* ------------------------------------------------------------------ */
/* 4: cache pages                                                      */

static void t_fault_pages(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	const uint64_t b = fx->base, h = fx->hbase;
	struct tdp_memcache mc, foreign;
	struct tdp_fault_region rg = { b, 2 * fx->big, h };
	struct tdp_fault_result res;
	struct tk_fx other;
	uint64_t g = b;

	assert_int_equal(tdp_map_fault_pages_needed(&fx->pgt), (long)fx->cd->levels - 1);
	tdp_memcache_init(&mc);
	/* every leaf level into an empty table: one short, exactly enough, plenty */
	for (unsigned int l = 0; l <= fx->top; l++) {
		uint32_t flags = TDP_MAP_MAX_LEVEL(l);
		size_t need = L - 1 - l;

		if (!((fx->g.leaf_mask >> l) & 1))
			continue;
		g = b + (l & 1) * fx->big + fx->big / 2;
		g &= ~(lsz(fx, l) - 1);
		for (size_t have = 0; need && have < need; have++) {
			mc_exact(fx, &mc, have);
			assert_int_equal(fault_chk(fx, g, &rg, A_RW, flags, &mc, NULL, true),
					 -TDP_ENOMEM);
		}
		mc_exact(fx, &mc, need);
		/* the allocator is not used: make it fail */
		tk_fail_all(fx->env, true);
		fault_ok(fx, g, &rg, A_RW, flags, &mc, l, need, &res);
		tk_fail_all(fx->env, false);
		assert_int_equal(mc.nr, 0);
		assert_int_equal(unmap_chk(fx, g, res.size, &mc), 0);
		mc_exact(fx, &mc, L + 3);
		fault_ok(fx, g, &rg, A_RW, flags, &mc, l, need, NULL);
		assert_int_equal(mc.nr, L + 3 - need);
		assert_int_equal(unmap_chk(fx, g, res.size, &mc), 0);
	}
	/* no page needed (the tables exist): an empty cache is enough */
	mc_top(fx, &mc, L - 1);
	fault_ok(fx, b + 3 * fx->P, &rg, A_RW, TDP_MAP_MAX_LEVEL(0), &mc, 0, L - 1, NULL);
	tdp_memcache_drain(&fx->pgt, &mc);
	tk_fail_all(fx->env, true);
	fault_ok(fx, b + 4 * fx->P, &rg, A_RW, TDP_MAP_MAX_LEVEL(0), &mc, 0, 0, NULL);
	tk_fail_all(fx->env, false);

	/* a cache of another table size (another table's pages): -TDP_ENOMEM when a page is needed */
	tk_fx_init(&other, fx->g.table_size == 4096 ? &tk_cfgs_all[7] : &tk_cfgs_all[2], 0);
	assert_true(other.g.table_size != fx->g.table_size);
	tdp_memcache_init(&foreign);
	assert_int_equal(tdp_memcache_topup(&other.pgt, &foreign, L + 2), 0);
	assert_int_equal(fault_chk(fx, b + fx->big + 1, &rg, A_RW, TDP_MAP_MAX_LEVEL(0), &foreign,
				   NULL, true), -TDP_ENOMEM);
	/* and nothing taken from it when the tables exist */
	fault_ok(fx, b + 5 * fx->P, &rg, A_RW, TDP_MAP_MAX_LEVEL(0), &foreign, 0, 0, NULL);
	assert_int_equal(foreign.nr, L + 2);
	tdp_memcache_drain(&other.pgt, &foreign);
	tk_fx_fini(&other);

	tk_check_model(fx->env, &fx->pgt, &fx->m, 0);
}

/* ------------------------------------------------------------------ */
/* 5, 8: against tdp_map of the same leaf on a twin table              */

/* Leaves of both snapshots identical (gpa, size, level, output, raw entry, attributes). */
static void expect_same_leaves(const struct tk_snap *a, const struct tk_snap *b, const char *what)
{
	if (a->nr != b->nr)
		fail_msg("%s: %zu leaves on the fault's table, %zu on the twin", what, a->nr, b->nr);
	for (size_t i = 0; i < a->nr; i++) {
		const struct tk_leaf *x = &a->leaves[i], *y = &b->leaves[i];

		if (x->gpa != y->gpa || x->size != y->size || x->level != y->level || x->pa != y->pa ||
		    x->pte != y->pte || x->attr != y->attr)
			fail_msg("%s: leaf 0x%llx: fault's [+0x%llx, level %u, pte 0x%llx], twin's "
				 "0x%llx [+0x%llx, level %u, pte 0x%llx]",
				 what, ULL(x->gpa), ULL(x->size), x->level, ULL(x->pte), ULL(y->gpa),
				 ULL(y->size), y->level, ULL(y->pte));
	}
}

struct twin {
	struct tk_fx *fx, t;
	struct tdp_memcache mc, tmc;
};

/*
 * Fault on fx, then tdp_map of the leaf it reports on the twin (which holds
 * the same translations): the same leaves and entries, the same flush_range
 * calls (kind, range, level, tables), none on formats without install
 * flushes. Returns the fault's rc.
 */
static int twin_fault(struct twin *w, uint64_t fa, const struct tdp_fault_region *rg,
		      tdp_attr_t attr, uint32_t flags, bool topup, bool full)
{
	struct tk_fx *fx = w->fx;
	struct tdp_fault_result res;
	struct tdp_lookup_result la, lb;
	size_t m1, m2, n1, n2;
	int rc;

	if (topup)
		mc_top(fx, &w->mc, levels(fx) - 1);
	m1 = tk_log_mark(fx->env);
	rc = fault_chk(fx, fa, rg, attr, flags, &w->mc, &res, full);
	n1 = fx->env->nr_ev;
	if (rc)
		return rc;
	mc_top(&w->t, &w->tmc, levels(fx) - 1);
	m2 = tk_log_mark(w->t.env);
	if (full) {
		assert_int_equal(map_chk(&w->t, res.gpa, rg->hpa + (res.gpa - rg->gpa), res.size, attr,
					   0, &w->tmc), 0);
	} else {
		assert_int_equal(tdp_map(&w->t.pgt, res.gpa, rg->hpa + (res.gpa - rg->gpa), res.size,
					 attr, 0, &w->tmc), 0);
		tk_model_map(&w->t.m, res.gpa, rg->hpa + (res.gpa - rg->gpa), res.size, attr);
		tlb_ok(&w->t, m2, "the twin's map");
	}
	n2 = w->t.env->nr_ev;
	/* the flushes, one for one */
	{
		size_t i = m1, j = m2;

		for (;;) {
			while (i < n1 && fx->env->ev[i].kind != TK_EV_FLUSH_RANGE &&
			       fx->env->ev[i].kind != TK_EV_FLUSH_ALL)
				i++;
			while (j < n2 && w->t.env->ev[j].kind != TK_EV_FLUSH_RANGE &&
			       w->t.env->ev[j].kind != TK_EV_FLUSH_ALL)
				j++;
			if (i == n1 && j == n2)
				break;
			if (i == n1 || j == n2 || fx->env->ev[i].kind != w->t.env->ev[j].kind ||
			    fx->env->ev[i].a != w->t.env->ev[j].a || fx->env->ev[i].b != w->t.env->ev[j].b ||
			    fx->env->ev[i].level != w->t.env->ev[j].level ||
			    fx->env->ev[i].tables != w->t.env->ev[j].tables) {
				tk_log_dump(fx->env, m1);
				tk_log_dump(w->t.env, m2);
				fail_msg("fault 0x%llx (level-%u leaf): flushes differ from tdp_map's (above: "
					 "fault, then map)",
					 ULL(fa), res.level);
			}
			i++;
			j++;
		}
	}
	/* the entry itself */
	assert_int_equal(tdp_lookup(&fx->pgt, fa, &la), 0);
	assert_int_equal(tdp_lookup(&w->t.pgt, fa, &lb), 0);
	if (la.pte != lb.pte || la.hpa != lb.hpa || la.size != lb.size || la.level != lb.level ||
	    la.attr != lb.attr)
		fail_msg("fault 0x%llx: pte 0x%llx level %u, tdp_map's 0x%llx level %u", ULL(fa),
			 ULL(la.pte), la.level, ULL(lb.pte), lb.level);
	if (full) {
		struct tk_snap a, b;

		tk_snap_take(fx->env, &fx->pgt, &a);
		tk_snap_take(w->t.env, &w->t.pgt, &b);
		expect_same_leaves(&a, &b, "after a fault");
		assert_int_equal(a.nr_tables, b.nr_tables);
		tk_snap_free(&a);
		tk_snap_free(&b);
	}
	return 0;
}

/* Unmap on both. */
static void twin_unmap(struct twin *w, uint64_t gpa, uint64_t size, bool full)
{
	mc_top(w->fx, &w->mc, (size_t)tdp_unmap_pages_needed(&w->fx->pgt, gpa, size));
	mc_top(&w->t, &w->tmc, (size_t)tdp_unmap_pages_needed(&w->t.pgt, gpa, size));
	if (full) {
		assert_int_equal(unmap_chk(w->fx, gpa, size, &w->mc), 0);
		assert_int_equal(unmap_chk(&w->t, gpa, size, &w->tmc), 0);
		return;
	}
	assert_int_equal(tdp_unmap(&w->fx->pgt, gpa, size, &w->mc), 0);
	tk_model_unmap(&w->fx->m, gpa, size);
	assert_int_equal(tdp_unmap(&w->t.pgt, gpa, size, &w->tmc), 0);
	tk_model_unmap(&w->t.m, gpa, size);
}

static void twin_init(struct twin *w, struct tk_fx *fx)
{
	w->fx = fx;
	tk_fx_init_ex(&w->t, fx->cd, fx->pgt.cfg.flags, fx->pgt.cfg.leaf_levels, false);
	tdp_memcache_init(&w->mc);
	tdp_memcache_init(&w->tmc);
}

static void twin_fini(struct twin *w)
{
	struct tk_snap a, b;

	tk_snap_take(w->fx->env, &w->fx->pgt, &a);
	tk_snap_take(w->t.env, &w->t.pgt, &b);
	expect_same_leaves(&a, &b, "at the end");
	tk_snap_free(&a);
	tk_snap_free(&b);
	tk_check_model(w->fx->env, &w->fx->pgt, &w->fx->m, w->mc.nr);
	tk_check_model(w->t.env, &w->t.pgt, &w->t.m, w->tmc.nr);
	tdp_memcache_drain(&w->fx->pgt, &w->mc);
	tdp_memcache_drain(&w->t.pgt, &w->tmc);
	tk_fx_fini(&w->t);
}

static void t_fault_twin(struct tk_fx *fx)
{
	const uint64_t P = fx->P, b = fx->base, h = fx->hbase, blk = fx->blk;
	struct tdp_fault_region big = { b, 2 * fx->big, h }, pages = { b, 2 * fx->big, h + P };
	struct tdp_fault_region mid = { b + blk - 3 * P, 3 * blk, h + blk - 3 * P };
	struct twin w;

	twin_init(&w, fx);
	/* into an empty table: every level linked */
	assert_int_equal(twin_fault(&w, b + 5, &pages, A_RW, 0, true, true), 0);
	/* into the same level-0 table */
	assert_int_equal(twin_fault(&w, b + 7 * P, &pages, A_RW, 0, true, true), 0);
	/* a block next to it, the largest leaf, a page capped (whatever the geometry gives) */
	(void)twin_fault(&w, b + fx->big / 2 + blk, &big, A_RO, 0, true, true);
	(void)twin_fault(&w, b + fx->big + 9, &big, A_RWX, 0, true, true);
	(void)twin_fault(&w, b + fx->big / 2 + 2 * P, &big, A_RW, TDP_MAP_MAX_LEVEL(0), true, true);
	(void)twin_fault(&w, b + 2 * fx->big - 1, &big, A_RW, TDP_MAP_MAX_LEVEL(1), true, true);
	/* mid-block edges */
	twin_unmap(&w, b, 4 * fx->big, true);
	assert_int_equal(twin_fault(&w, mid.gpa, &mid, A_RW, 0, true, true), 0);
	assert_int_equal(twin_fault(&w, mid.gpa + mid.size - 1, &mid, A_RW, 0, true, true), 0);
	assert_int_equal(twin_fault(&w, b + 2 * blk + 5, &mid, A_RW, 0, true, true), 0);
	assert_int_equal(twin_fault(&w, b + blk + 5, &mid, A_RW, 0, true, true), 0);
	/* at the top of the input range */
	{
		struct tdp_fault_region t = { (1ull << fx->cd->ia) - fx->big, fx->big, h + P };

		assert_int_equal(twin_fault(&w, t.gpa + t.size - 1, &t, A_RW, 0, true, true), 0);
		t.hpa = h;
		assert_int_equal(twin_fault(&w, t.gpa, &t, A_RW, 0, true, true), 0);
	}
	/* a random sequence of faults and unmaps, both tables compared at the end */
	{
		uint64_t seed = 0xfeedull + fx->cd->ia * 7 + fx->cd->gshift + fx->cd->flags;
		struct tdp_fault_region rs[3] = { big, pages, mid };

		for (int i = 0; i < 300; i++) {
			uint64_t x = rnd(&seed);
			const struct tdp_fault_region *r = &rs[x % 3];

			if ((x >> 8) % 8 == 0) {
				uint64_t g = b + ((x >> 16) % (2 * fx->big / P)) * P;
				uint64_t n = 1 + (x >> 40) % (2 * blk / P);

				if (g + n * P > b + 2 * fx->big)
					n = (b + 2 * fx->big - g) / P;
				twin_unmap(&w, g, n * P, false);
				continue;
			}
			(void)twin_fault(&w, r->gpa + (x >> 16) % r->size, r, A_RW,
					 (x >> 50) % 4 == 0 ? TDP_MAP_MAX_LEVEL((x >> 52) % 3) : 0,
					 true, i % 50 == 0);
		}
	}
	twin_fini(&w);
}

/* ------------------------------------------------------------------ */
/* 6: bad input                                                        */

/* Must return want and change nothing (table, pool, cache, TLB calls). */
static void fault_bad(struct tk_fx *fx, struct tdp_pgtable *pgt, uint64_t fa,
		      const struct tdp_fault_region *rg, tdp_attr_t attr, uint32_t flags,
		      struct tdp_memcache *mc, struct tdp_fault_result *res, int want)
{
	struct tk_snap s0, s1;
	size_t nr = mc ? mc->nr : 0, out = fx->env->out_blocks, allocs = fx->env->allocs;
	void *head = mc ? mc->head : NULL;
	size_t mark = tk_log_mark(fx->env);
	int rc;

	tk_snap_take(fx->env, &fx->pgt, &s0);
	rc = tdp_map_fault(pgt, fa, rg, attr, flags, mc, res);
	if (rc != want)
		fail_msg("fault 0x%llx in [0x%llx, +0x%llx) -> 0x%llx attr 0x%x flags 0x%x: %d, "
			 "expected %d",
			 ULL(fa), rg ? ULL(rg->gpa) : 0ull, rg ? ULL(rg->size) : 0ull,
			 rg ? ULL(rg->hpa) : 0ull, attr, flags, rc, want);
	tk_snap_take(fx->env, &fx->pgt, &s1);
	if (!tk_snap_same(&s0, &s1))
		fail_msg("a fault refused with %d changed the table", rc);
	tk_snap_free(&s0);
	tk_snap_free(&s1);
	if (mc && (mc->nr != nr || mc->head != head))
		fail_msg("a fault refused with %d took cache pages", rc);
	assert_int_equal(fx->env->out_blocks, out);
	assert_int_equal(fx->env->allocs, allocs);
	assert_int_equal(nr_events(fx, mark), 0);
	tlb_ok(fx, mark, "a refused fault");
}

static void t_fault_badinput(struct tk_fx *fx)
{
	const unsigned int L = levels(fx);
	const uint64_t P = fx->P, b = fx->base, h = fx->hbase;
	const uint64_t ia = 1ull << fx->cd->ia, oa = 1ull << fx->cd->oa;
	struct tdp_fault_region rg = { b, 2 * fx->big, h }, r;
	struct tdp_fault_result res;
	struct tdp_memcache mc;
	struct tdp_pgtable zero;
	const uint32_t bad_flags[] = { TDP_MAP_NOREPLACE, TDP_MAP_NOREPLACE | TDP_MAP_MAX_LEVEL(1),
				       1u << 1, 1u << 7, 1u << 12, 1u << 31 };
	const tdp_attr_t bad_attr[] = { 0x80u, 1u << 16, 1u << 31, A_RW | 0x80u };

	tdp_memcache_init(&mc);
	mc_top(fx, &mc, L - 1);
	/* something mapped, so "unchanged" means something */
	assert_int_equal(map_chk(fx, b + 3 * P, h, P, A_RW, 0, &mc), 0);
	mc_top(fx, &mc, (size_t)tdp_map_pages_needed(&fx->pgt, b + fx->big, h, fx->big, 0));
	assert_int_equal(map_chk(fx, b + fx->big, h, fx->big, A_RO, 0, &mc), 0);
	mc_top(fx, &mc, L - 1);

	/* NULLs */
	fault_bad(fx, NULL, b, &rg, A_RW, 0, &mc, &res, -TDP_EINVAL);
	fault_bad(fx, &fx->pgt, b, NULL, A_RW, 0, &mc, &res, -TDP_EINVAL);
	fault_bad(fx, &fx->pgt, b, &rg, A_RW, 0, NULL, &res, -TDP_EINVAL);
	fault_bad(fx, &fx->pgt, b, &rg, A_RW, 0, &mc, NULL, -TDP_EINVAL);
	/* an uninitialised table */
	memset(&zero, 0, sizeof(zero));
	fault_bad(fx, &zero, b, &rg, A_RW, 0, &mc, &res, -TDP_EINVAL);
	assert_int_equal(tdp_map_fault_pages_needed(NULL), -TDP_EINVAL);
	assert_int_equal(tdp_map_fault_pages_needed(&zero), -TDP_EINVAL);
	/* empty, unaligned */
	r = rg, r.size = 0;
	fault_bad(fx, &fx->pgt, b, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	r = rg, r.gpa += P / 2, r.size -= P;
	fault_bad(fx, &fx->pgt, b + P, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	r = rg, r.gpa += 1;
	fault_bad(fx, &fx->pgt, b + P, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	r = rg, r.size -= P / 2;
	fault_bad(fx, &fx->pgt, b, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	r = rg, r.size = P + 8;
	fault_bad(fx, &fx->pgt, b, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	r = rg, r.hpa += 0x800;
	fault_bad(fx, &fx->pgt, b, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	r = rg, r.hpa += 8;
	fault_bad(fx, &fx->pgt, b + 5 * P, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	/* the fault outside the region: below, at its end, beyond, far away */
	r = (struct tdp_fault_region){ b + 8 * P, 4 * P, h };
	fault_bad(fx, &fx->pgt, b + 8 * P - 1, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	fault_bad(fx, &fx->pgt, b + 7 * P, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	fault_bad(fx, &fx->pgt, b + 12 * P, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	fault_bad(fx, &fx->pgt, b + 12 * P + 5, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	fault_bad(fx, &fx->pgt, 0, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	fault_bad(fx, &fx->pgt, UINT64_MAX, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	/* ... also where the address is mapped (b + 3 * P, outside r) */
	fault_bad(fx, &fx->pgt, b + 3 * P, &r, A_RW, 0, &mc, &res, -TDP_EINVAL);
	/* flags */
	for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++)
		fault_bad(fx, &fx->pgt, b + 9 * P, &r, A_RW, bad_flags[i], &mc, &res, -TDP_EINVAL);
	/* attribute bits nobody knows; permissions the format refuses */
	for (size_t i = 0; i < sizeof(bad_attr) / sizeof(bad_attr[0]); i++)
		fault_bad(fx, &fx->pgt, b + 9 * P, &r, bad_attr[i], 0, &mc, &res, -TDP_EINVAL);
	for (tdp_attr_t p = 0; p <= TDP_PROT_MASK; p++)
		if (!tk_attr_ok(&fx->pgt.cfg, p))
			fault_bad(fx, &fx->pgt, b + 9 * P, &r, p, 0, &mc, &res, -TDP_EINVAL);
	if (fx->cd->format == TDP_FORMAT_RISCV_G) {
		fault_bad(fx, &fx->pgt, b + 9 * P, &r, TDP_PROT_W, 0, &mc, &res, -TDP_EINVAL);
		fault_bad(fx, &fx->pgt, b + 9 * P, &r, TDP_PROT_W | TDP_PROT_X, 0, &mc, &res,
			  -TDP_EINVAL);
	}
	/* ranges */
	r = (struct tdp_fault_region){ ia - 2 * P, 4 * P, h };
	fault_bad(fx, &fx->pgt, ia - P, &r, A_RW, 0, &mc, &res, -TDP_ERANGE);
	r = (struct tdp_fault_region){ ia, 4 * P, h };
	fault_bad(fx, &fx->pgt, ia + P, &r, A_RW, 0, &mc, &res, -TDP_ERANGE);
	r = (struct tdp_fault_region){ b, 4 * P, oa - 2 * P };
	fault_bad(fx, &fx->pgt, b, &r, A_RW, 0, &mc, &res, -TDP_ERANGE);
	r = (struct tdp_fault_region){ b, 4 * P, oa };
	fault_bad(fx, &fx->pgt, b + 3 * P, &r, A_RW, 0, &mc, &res, -TDP_ERANGE);
	r = (struct tdp_fault_region){ 0 - 2 * P, 4 * P, h };
	fault_bad(fx, &fx->pgt, 0 - P, &r, A_RW, 0, &mc, &res, -TDP_ERANGE);
	r = (struct tdp_fault_region){ b, 4 * P, 0 - 2 * P };
	fault_bad(fx, &fx->pgt, b, &r, A_RW, 0, &mc, &res, -TDP_ERANGE);
	r = (struct tdp_fault_region){ P, 0 - P, h };
	fault_bad(fx, &fx->pgt, 2 * P, &r, A_RW, 0, &mc, &res, -TDP_ERANGE);
	/* the region exactly up to the top of both ranges is fine */
	r = (struct tdp_fault_region){ ia - 4 * P, 4 * P, oa - 4 * P };
	assert_int_equal(fault_chk(fx, ia - 1, &r, A_RW, 0, &mc, NULL, true), 0);
	/* and every refusal above left the two mappings as they were */
	expect_leaf(fx, b + 3 * P, 0, h);
	expect_leaf(fx, b + fx->big, fx->top, h);
	tdp_memcache_drain(&fx->pgt, &mc);
}

/* ------------------------------------------------------------------ */
/* 7: random                                                           */

#define RND_REGIONS 6
#define RND_OPS     2000 /* 300 in the virt_to_phys run */

static void fault_random(struct tk_fx *fx, uint64_t nops)
{
	const unsigned int L = levels(fx);
	const uint64_t P = fx->P, span = 4 * fx->big, b = fx->base;
	const tdp_attr_t attrs[] = { A_RW, A_RO, A_RWX, FIT(fx, A_DEV), FIT(fx, A_RW | TDP_SW(2)) };
	uint64_t seed = 0x51ed270b27aull ^ ((uint64_t)fx->cd->ia << 40) ^ fx->cd->gshift ^
			((uint64_t)fx->cd->format << 12) ^ fx->cd->flags;
	struct tdp_fault_region rs[RND_REGIONS];
	struct tdp_memcache mc;
	size_t ok = 0, exist = 0, nomem = 0, big = 0;

	tdp_memcache_init(&mc);
	for (uint64_t op = 0; op < nops; op++) {
		uint64_t x = rnd(&seed), kind = x % 100;

		/* new regions now and then: random size, offset and host alignment */
		if (op % 250 == 0) {
			for (int i = 0; i < RND_REGIONS; i++) {
				uint64_t y = rnd(&seed), z = rnd(&seed);
				unsigned int sl = (unsigned int)(y % (fx->top + 1));
				uint64_t size = lsz(fx, sl) * (1 + (y >> 8) % 3) +
						((y >> 16) % 3 == 0 ? ((y >> 20) % 64) * P : 0);
				uint64_t g, hal;

				if (size > span / 2)
					size = span / 2;
				g = b + (z % ((span - size) / P)) * P;
				if ((z >> 60) < 10)
					g &= ~(lsz(fx, sl) - 1);
				if (g < b)
					g = b;
				/* host delta: aligned to a random level, or to pages only */
				hal = lsz(fx, (unsigned int)((z >> 40) % (fx->top + 1)));
				rs[i] = (struct tdp_fault_region){
					g, size,
					fx->hbase + (g & (hal - 1)) + ((z >> 50) % 2) * fx->big +
						((z >> 55) % 4 == 0 ? P : 0) };
			}
		}
		if (kind < 82) {
			const struct tdp_fault_region *r = &rs[(x >> 8) % RND_REGIONS];
			uint64_t fa = r->gpa + (x >> 16) % r->size;
			uint32_t flags = (x >> 56) % 5 == 0 ? TDP_MAP_MAX_LEVEL((x >> 59) % L) : 0;
			size_t have = (x >> 63) ? L - 1 : (size_t)((x >> 40) % L);
			struct tdp_fault_result res;
			int rc;

			mc_exact(fx, &mc, have);
			rc = fault_chk(fx, fa, r, attrs[(x >> 44) % 5], flags, &mc, &res, op % 250 == 125);
			if (rc == 0) {
				ok++;
				big += res.level > 0;
			} else if (rc == -TDP_EEXIST) {
				exist++;
			} else {
				nomem++;
			}
		} else if (kind < 95) {
			uint64_t g = b + ((x >> 8) % (span / P)) * P;
			uint64_t n = 1 + (x >> 40) % ((x >> 39) & 1 ? 8 : (2 * fx->blk / P));
			size_t mark = tk_log_mark(fx->env);

			struct tdp_lookup_result lr;
			uint64_t e;

			if (g + n * P > b + span)
				n = (b + span - g) / P;
			/*
			 * a range edge inside a block takes the whole block (splitting
			 * one into 8192 pages on 64K tables makes every check slow)
			 */
			e = g + n * P;
			if (tdp_lookup(&fx->pgt, g, &lr) == 0 && lr.size > P)
				g &= ~(lr.size - 1);
			if (tdp_lookup(&fx->pgt, e - P, &lr) == 0 && lr.size > P)
				e = ((e - P) & ~(lr.size - 1)) + lr.size;
			n = (e - g) / P;
			mc_top(fx, &mc, (size_t)tdp_unmap_pages_needed(&fx->pgt, g, n * P));
			for (int k = 0; k < 3; k++)
				assert_true(tdp_tk_tlb_fill(fx->tlb, g + k * (n * P / 2), TDP_TK_READ) >= 0);
			assert_int_equal(tdp_unmap(&fx->pgt, g, n * P, &mc), 0);
			tk_model_unmap(&fx->m, g, n * P);
			tlb_ok(fx, mark, "an unmap");
			expect_unmapped(fx, g);
			expect_unmapped(fx, g + n * P - P);
		} else {
			/* a few pages mapped by tdp_map: areas the faults run into */
			uint64_t g = b + ((x >> 8) % (span / P - 16)) * P;
			uint64_t n = 1 + (x >> 40) % 16;
			size_t mark = tk_log_mark(fx->env);

			mc_top(fx, &mc, (size_t)tdp_map_pages_needed(&fx->pgt, g, fx->hbase + 3 * fx->big,
								    n * P, 0));
			assert_int_equal(tdp_map(&fx->pgt, g, fx->hbase + 3 * fx->big, n * P, A_RO, 0,
						 &mc), 0);
			tk_model_map(&fx->m, g, fx->hbase + 3 * fx->big, n * P, A_RO);
			tlb_ok(fx, mark, "a map");
		}
		if (op % 500 == 499)
			tk_check_model(fx->env, &fx->pgt, &fx->m,
				       mc.page_size == fx->g.table_size ? mc.nr : 0);
	}
	tk_check_model(fx->env, &fx->pgt, &fx->m, mc.nr);
	/* what the sequence went through (the short run: only that faults mapped) */
	if (ok < (nops == RND_OPS ? nops / 10 : 10) || (nops == RND_OPS && (exist < nops / 50 || nomem < 2 || big == 0)))
		fail_msg("poor coverage: %zu mapped (%zu blocks), %zu already mapped, %zu short", ok, big,
			 exist, nomem);
	tdp_memcache_drain(&fx->pgt, &mc);
	/* the fixture destroys the table as it is: every page back, no leak */
}

static void t_fault_random(struct tk_fx *fx)
{
	fault_random(fx, RND_OPS);
}

/* The walk through phys_to_virt instead of the linear offset. */
static void t_fault_random_xlate(struct tk_fx *fx)
{
	assert_ptr_not_equal(fx->pgt.cfg.mm->phys_to_virt, NULL);
	fault_random(fx, 300);
}

static const struct tcase cases[] = {
	CASE(t_fault_largest),
	CASE_LEAF(t_fault_largest, 2),
	CASE(t_fault_attrs),
	CASE(t_fault_tables),
	CASE(t_fault_exists),
	CASE(t_fault_pages),
	CASE(t_fault_twin),
	CASE(t_fault_badinput),
	CASE(t_fault_random),
	CASE_XLATE(t_fault_random_xlate),
};

int main(void)
{
	return run_cases("fault", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
