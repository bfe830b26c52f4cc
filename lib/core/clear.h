/* SPDX-License-Identifier: MIT */
/*
 * Removal: tdp_unmap (exact, splitting edge blocks) and tdp_zap (coarsest,
 * with a budget), and the one-leaf unmap path.
 */

/*
 * Remove everything in [s, e) at the coarsest level: an entry the range
 * covers (or any leaf or group it touches) is emptied whole, tables it only touches
 * are entered and freed once empty. Returns 1 if `budget` entries were
 * removed before the end (resume at *resume), else 0.
 */
static int clear_range(const struct tdp_pgtable *p, uint64_t s, uint64_t e, uint64_t budget,
		       struct gather *g, struct tdp_zap_result *res)
{
	struct tdp_iter it;
	uint64_t done = 0;
	bool descend = true;

	res->removed_start = res->removed_end = 0;
	res->resume = e;
	for (it_start(&it, p, s, e, 0); it.valid; it_next(&it, descend)) {
		unsigned int l = it.level;
		uint64_t sz = lvl_size(l), base = it_base(&it), old = it.pte;

		descend = true;
		if (!pte_valid(old))
			continue;
		if (it.post) {
			void *t = tdp_pa_to_va(p, pte_table_pa(old));

			if (table_empty(t, (it.addr >> lvl_shift(l - 1)) & (FMT_ENTRIES - 1)))
				clear_empty_table(p, g, it.ptep, old, base, l);
			continue;
		}
		if (pte_is_table(old, l) && !(base >= s && e - base >= sz))
			continue;
		if (budget && done == budget) {
			res->resume = it.addr;
			return 1;
		}
		if (pte_is_cont(old, l)) {
			/* a group goes whole, like the leaf it stands for */
			base = it.addr & ~(CONT_SIZE - 1);
			sz = CONT_SIZE;
			cont_clear(p, g, it.ptep, it.addr);
		} else {
			clear_entry(p, g, it.ptep, old, base, l);
		}
		if (res->removed_start == res->removed_end || base < res->removed_start)
			res->removed_start = base;
		if (base + sz > res->removed_end)
			res->removed_end = base + sz;
		done++;
		descend = false;
	}
	return 0;
}

/*
 * The fault-style case: [gpa, gpa + size) is exactly one leaf, not part of
 * a group. Clear it and the table entries it leaves pointing to empty
 * tables, from one walk, with one invalidation; then free those tables.
 * Returns false, having changed nothing, for anything else.
 */
static inline __attribute__((always_inline)) bool
unmap_one(const struct tdp_pgtable *p, uint64_t gpa, uint64_t size, const bool plain)
{
	uint64_t *path[TDP_MAX_LEVELS], pte;
	unsigned int m = walk_path(p, gpa, 0, path), k, top = top_level(p);

	pte = pte_load(path[m]);
	if (!pte_valid(pte) || lvl_size(m) != size || (gpa & (size - 1)) || pte_is_cont(pte, m))
		return false;
	/* plain: no reports, no hardware A/D (see reports_on) */
	pte_write(p, TDP_OP_UNMAP, path[m], &pte, fmt_invalid(p), gpa, m,
		  plain ? W_STORE | W_QUIET : w_leaf(p));
	for (k = m; k < top && table_empty(path[k] - tbl_idx(gpa, k), tbl_idx(gpa, k)); k++) {
		uint64_t t = pte_load(path[k + 1]);

		/* found empty: no leaf below to report */
		pte_write(p, TDP_OP_UNMAP, path[k + 1], &t, fmt_invalid(p), gpa, k + 1,
			  W_STORE | W_QUIET);
	}
	if (k == m)
		p->cfg.tlb->flush_range(p->cfg.tlb_ctx, gpa, size, (int)m, false);
	else
		p->cfg.tlb->flush_range(p->cfg.tlb_ctx, gpa & ~(lvl_size(k) - 1), lvl_size(k),
					TDP_LEVEL_ANY, true);
	/* unreachable once flushed, and empty: nothing below them to free */
	for (unsigned int j = m; j < k; j++)
		p->cfg.mm->free_table(p->cfg.mm_ctx, path[j] - tbl_idx(gpa, j), p->geo.table_size);
	return true;
}

/* unmap_one where leaves report or are swapped out (see reports_on). */
static __attribute__((noinline)) bool unmap_one_full(const struct tdp_pgtable *p, uint64_t gpa,
						     uint64_t size)
{
	return unmap_one(p, gpa, size, false);
}

TDP_INTERNAL int fmt_unmap(struct tdp_pgtable *p, uint64_t gpa, uint64_t size,
		     struct tdp_memcache *mc_in)
{
	struct tdp_memcache local, *mc;
	struct tdp_zap_result res;
	struct edge_blocks eb;
	struct gather g;
	int ret;

	if (!reports_on(p) && !ad_live(p) ? unmap_one(p, gpa, size, true)
					  : unmap_one_full(p, gpa, size))
		return 0;
	ret = tdp__mc_prepare(p, mc_in, find_edge_blocks(p, gpa, gpa + size, NULL, &eb), &local,
			      &mc);
	if (ret)
		return ret;
	gather_init_mode(&g, false, TDP_OP_UNMAP);
	split_edge_blocks(p, &eb, mc, &g);
	break_edge_groups(p, gpa, gpa + size, NULL, &g);
	clear_range(p, gpa, gpa + size, 0, &g, &res);
	gather_flush(p, &g);
	tdp__mc_finish(p, mc_in, &local);
	return 0;
}

TDP_INTERNAL int fmt_zap(struct tdp_pgtable *p, uint64_t gpa, uint64_t size, uint64_t budget,
		   struct tdp_zap_result *res)
{
	struct gather g;
	int ret;

	gather_init_mode(&g, false, TDP_OP_ZAP);
	ret = clear_range(p, gpa, gpa + size, budget, &g, res);
	gather_flush(p, &g);
	return ret;
}
