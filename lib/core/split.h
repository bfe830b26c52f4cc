/* SPDX-License-Identifier: MIT */
/*
 * Splitting blocks: off-line construction of the replacing subtree
 * (build_split), its page count, and tdp_split in both modes.
 */

/*
 * Which children of a block being split are split further. Edge mode: those
 * that contain lo or hi strictly inside (the edges of an operation's range).
 * Range mode: those above `target` that intersect [lo, hi).
 */
struct split_pred {
	uint64_t lo, hi;
	unsigned int target;
	bool edges;
};

static inline bool split_child(const struct split_pred *pr, uint64_t base, unsigned int l)
{
	uint64_t end = base + lvl_size(l);

	if (l == 0)
		return false;
	if (pr->edges)
		return (base < pr->lo && pr->lo < end) || (base < pr->hi && pr->hi < end);
	return l > pr->target && base < pr->hi && end > pr->lo;
}

static void fill_leaves(uint64_t *t, uint64_t tmpl, uint64_t pa, unsigned int l)
{
	uint64_t sz = lvl_size(l);

	for (uint64_t i = 0; i < FMT_ENTRIES; i++)
		t[i] = pte_mk_leaf(tmpl, pa + i * sz, l);
}

/*
 * Build, from memory-cache pages, the table that replaces the block `blk` at
 * level l (covering from `base`), with every child the predicate selects
 * split in turn. Nothing is visible to the hardware until the caller links
 * the returned table.
 */
static uint64_t build_split(const struct tdp_pgtable *p, uint64_t blk, unsigned int l,
			    uint64_t base, const struct split_pred *pr, struct tdp_memcache *mc)
{
	uint64_t *tbl[TDP_MAX_LEVELS];
	uint64_t idx[TDP_MAX_LEVELS], tbase[TDP_MAX_LEVELS];
	uint64_t tmpl = pte_leaf_tmpl(blk);
	unsigned int top = l - 1, m = top;

	tbl[m] = mc_pop(mc);
	tbase[m] = base;
	idx[m] = 0;
	fill_leaves(tbl[m], tmpl, pte_leaf_pa(blk, l), m);
	for (;;) {
		uint64_t i, cb, child;

		/* no entry of a table at or below the target is split: skip the scan */
		if (idx[m] == FMT_ENTRIES || m == 0 || (!pr->edges && m <= pr->target)) {
			if (m == top)
				break;
			m++;
			continue;
		}
		i = idx[m]++;
		cb = tbase[m] + i * lvl_size(m);
		if (!split_child(pr, cb, m))
			continue;
		child = tbl[m][i];
		tbl[m - 1] = mc_pop(mc);
		fill_leaves(tbl[m - 1], tmpl, pte_leaf_pa(child, m), m - 1);
		tbl[m][i] = pte_mk_table(p, tdp_va_to_pa(p, tbl[m - 1]));
		m--;
		tbase[m] = cb;
		idx[m] = 0;
	}
	return pte_mk_table(p, tdp_va_to_pa(p, tbl[top]));
}

/*
 * The ADDs of a split in shared mode: the leaves build_split wrote for the
 * block blk (level l, from base), computed again in its order rather than
 * read from the linked table, where other threads may already have changed,
 * split or frozen them (each such change reports the leaf it found, so
 * reading them back would lose or repeat leaves).
 */
static __attribute__((noinline, cold)) void report_split(const struct tdp_pgtable *p,
							  unsigned int op, uint64_t blk,
							  unsigned int l, uint64_t base,
							  const struct split_pred *pr)
{
	uint64_t idx[TDP_MAX_LEVELS], tbase[TDP_MAX_LEVELS];
	const uint64_t tmpl = pte_leaf_tmpl(blk), pa = pte_leaf_pa(blk, l);
	unsigned int top = l - 1, m = top;

	tbase[m] = base;
	idx[m] = 0;
	for (;;) {
		uint64_t cb;

		if (idx[m] == FMT_ENTRIES) {
			if (m == top)
				return;
			m++;
			continue;
		}
		cb = tbase[m] + idx[m]++ * lvl_size(m);
		/* as build_split: a child is split when the predicate says so, never at level 0 */
		if (m > 0 && (pr->edges || m > pr->target) && split_child(pr, cb, m)) {
			m--;
			tbase[m] = cb;
			idx[m] = 0;
			continue;
		}
		emit_change(p, op, 0, pte_mk_leaf(tmpl, pa + (cb - base), m), cb, m, true);
	}
}

/*
 * A block read as `read` was replaced by `replaced` (the value the swap took
 * out): accessed/dirty flags the hardware set in between are given to every
 * leaf of the subtree that replaces it (table_pte, at level l), by swaps,
 * since the hardware may already be setting flags there too.
 */
static void split_take_ad(const struct tdp_pgtable *p, uint64_t table_pte, unsigned int l,
			  uint64_t read, uint64_t replaced)
{
	const uint64_t ad = (replaced & ~read) & FMT_AD_MASK;
	uint64_t *tbl[TDP_MAX_LEVELS], idx[TDP_MAX_LEVELS];
	unsigned int m = l - 1;

	if (!ad || !pte_valid(replaced))
		return;
	tbl[m] = tdp_pa_to_va(p, pte_table_pa(table_pte));
	idx[m] = 0;
	for (;;) {
		uint64_t pte;

		if (idx[m] == FMT_ENTRIES) {
			if (m == l - 1)
				return;
			m++;
			continue;
		}
		pte = pte_load(tbl[m] + idx[m]);
		if (pte_valid(pte) && pte_is_table(pte, m)) {
			idx[m]++;
			m--;
			tbl[m] = tdp_pa_to_va(p, pte_table_pa(pte));
			idx[m] = 0;
			continue;
		}
		/* flags only: not a change to report (the block's removal carried them) */
		while (pte_is_leaf(pte, m) && (pte & ad) != ad &&
		       !pte_write(p, 0, tbl[m] + idx[m], &pte, pte | ad, 0, m, W_SWAP | W_QUIET))
			;
		idx[m]++;
	}
}

/*
 * Pages build_split takes for the block at level l from `base`: its own table
 * plus one per entry, on each level below, that the predicate splits (the
 * parent of such an entry is always split too).
 */
static uint64_t split_pages(const struct split_pred *pr, uint64_t base, unsigned int l)
{
	uint64_t n = 1, end = base + lvl_size(l);

	for (unsigned int m = l - 1; m >= 1; m--) {
		unsigned int sh = lvl_shift(m);
		uint64_t msk = lvl_size(m) - 1;

		if (pr->edges) {
			bool a = base < pr->lo && pr->lo < end && (pr->lo & msk);
			bool b = base < pr->hi && pr->hi < end && (pr->hi & msk);

			n += (uint64_t)a + (uint64_t)b - (a && b && (pr->lo >> sh) == (pr->hi >> sh));
		} else if (m > pr->target) {
			uint64_t lo = pr->lo > base ? pr->lo : base, hi = pr->hi < end ? pr->hi : end;

			n += ((hi - 1) >> sh) - (lo >> sh) + 1;
		}
	}
	return n;
}

/*
 * Replace the block blk (level l, from base), read at ptep, by the table
 * build_split makes of it under pr. Returns 1 when it is linked, 0 when the
 * block changed meanwhile (its pages went back to mc), -TDP_ENOMEM when mc
 * holds too few pages: other threads made blocks this call did not count.
 */
static int sh_split(const struct tdp_pgtable *p, struct gather *g, uint64_t *ptep, uint64_t blk,
		    uint64_t base, unsigned int l, const struct split_pred *pr,
		    struct tdp_memcache *mc)
{
	uint64_t t;

	if (!mc_holds(p, mc, split_pages(pr, base, l)))
		return REFUSE(&p->cfg, TDP_ENOMEM, TDP_REASON_CACHE_SHORT);
	t = build_split(p, blk, l, base, pr, mc);
	if (sh_swap(p, g, ptep, blk, t, base, l, W_RESHAPE | W_NOSUB)) {
		if (reports_on(p))
			report_split(p, g->op, blk, l, base, pr);
		return 1;
	}
	free_subtree(p, tdp_pa_to_va(p, pte_table_pa(t)), l - 1, mc);
	return 0;
}

/*
 * tdp_split in shared mode: each block is replaced by its prebuilt subtree
 * with one swap (on arm64 busy, flush, store: one flush per block). A twin
 * of fmt_split's exclusive loop kept for speed: the exclusive loop batches
 * break-before-make, 16 blocks per flush. Splitting 1 GiB of 2 MiB blocks on
 * arm64 4K makes 32 flush_range calls exclusive, 512 in shared mode (each a
 * broadcast TLBI and DSB on the hardware).
 */
static int split_shared(const struct tdp_pgtable *p, const struct split_pred *pr,
			struct tdp_memcache *mc, struct gather *g)
{
	struct tdp_iter it;
	bool descend = true;

	for (it_start(&it, p, pr->lo, pr->hi, pr->target + 1); it.valid; it_next(&it, descend)) {
		descend = true;
		while (is_block(&it, pr->target)) {
			int r = sh_split(p, g, it.ptep, it.pte, it_base(&it), it.level, pr, mc);

			if (r < 0)
				return r;
			if (r) {
				descend = false;
				break;
			}
			it.pte = pte_load(it.ptep);
		}
		if (!it.post && pte_busy(it.pte))
			return -TDP_EAGAIN;
	}
	return 0;
}

/* Pages the split of exactly the blocks now in the range takes (read-only pass). */
static uint64_t split_need(const struct tdp_pgtable *p, const struct split_pred *pr)
{
	struct tdp_iter it;
	uint64_t n = 0;

	for (it_start(&it, p, pr->lo, pr->hi, pr->target + 1); it.valid; it_next(&it, IT_VISITED))
		if (is_block(&it, pr->target))
			n += split_pages(pr, it_base(&it), it.level);
	return n;
}

TDP_INTERNAL int fmt_split(struct tdp_pgtable *p, uint64_t gpa, uint64_t size, unsigned int target,
		     struct tdp_memcache *mc_in)
{
	const struct split_pred pr = { .lo = gpa, .hi = gpa + size, .target = target };
	struct tdp_memcache local, *mc;
	struct bbm_batch b;
	struct tdp_iter it;
	struct gather g;
	bool descend = true;
	int ret;

	ret = tdp__mc_prepare(p, mc_in, split_need(p, &pr), &local, &mc);
	if (ret)
		return ret;
	if (sh_on(p)) {
		gather_init_mode(&g, true, TDP_OP_SPLIT);
		ret = split_shared(p, &pr, mc, &g);
		gather_flush(p, &g);
		tdp__mc_finish(p, mc_in, &local);
		return ret;
	}
	gather_init_mode(&g, false, TDP_OP_SPLIT);
	b.n = 0;
	for (it_start(&it, p, gpa, gpa + size, target + 1); it.valid; it_next(&it, descend)) {
		unsigned int l = it.level;
		uint64_t base = it_base(&it);

		descend = true;
		if (!is_block(&it, target))
			continue;
		descend = false;
		bbm_add(p, &b, &g, it.ptep, it.pte, build_split(p, it.pte, l, base, &pr, mc), base,
			l);
	}
	if (b.n)
		bbm_commit(p, &b, &g);
	gather_flush(p, &g);
	tdp__mc_finish(p, mc_in, &local);
	return 0;
}
