/* SPDX-License-Identifier: MIT */
/*
 * Accessed/dirty harvesting: tdp_test_clear_young and tdp_collect_dirty.
 */

#if FMT_HAS_AD
/*
 * Clear the accessed flag of every leaf that intersects the range, saying
 * whether any was set. No invalidation: a translation cached with A set
 * only makes a page look idle a little longer (an aging hint, not a
 * correctness property).
 */
TDP_INTERNAL int fmt_young(struct tdp_pgtable *p, uint64_t gpa, uint64_t size, bool *young)
{
	struct tdp_iter it;
	bool any = false;

	if (!fmt_ad_enabled(p))
		return REFUSE(&p->cfg, TDP_EOPNOTSUPP, TDP_REASON_NO_AD);
	for (it_start(&it, p, gpa, gpa + size, 0); it.valid; it_next(&it, true)) {
		uint64_t *first = it.ptep, n = 1;

		if (!it.post && pte_busy(it.pte)) {
			*young = any;
			return -TDP_EAGAIN;
		}
		if (it.post || !pte_valid(it.pte) || pte_is_table(it.pte, it.level))
			continue;
		/* the hart sets A in whichever entry of a group it used */
		if (pte_is_cont(it.pte, it.level)) {
			first = cont_first(it.ptep, it.addr);
			n = CONT_ENTRIES;
		}
		/*
		 * A swap, not a store, in exclusive mode too: the hardware may set
		 * D between the load and the store, and a store would lose it.
		 */
		for (uint64_t i = 0; i < n; i++) {
			uint64_t pte = pte_load(first + i);

			while (pte_valid(pte) && !pte_is_table(pte, it.level) && pte_young(pte)) {
				if (pte_write(p, 0, first + i, &pte, pte_mkold(pte), it.addr, it.level,
					      W_SWAP | W_QUIET)) {
					any = true;
					break;
				}
			}
		}
	}
	*young = any;
	return 0;
}

/*
 * Set bitmap bit i for every dirty page gpa + i * page in the range and make
 * the leaves clean, with one invalidation so the next write dirties them
 * again. A dirty block that straddles an edge of the range reports its
 * pages inside and stays dirty, so the pages outside are not lost.
 */
TDP_INTERNAL int fmt_dirty(struct tdp_pgtable *p, uint64_t gpa, uint64_t size, uint64_t *bitmap)
{
	const uint64_t page = lvl_size(0), e = gpa + size;
	struct tdp_iter it;
	struct gather g;

	if (!fmt_ad_enabled(p))
		return REFUSE(&p->cfg, TDP_EOPNOTSUPP, TDP_REASON_NO_AD);
	gather_init_mode(&g, sh_on(p), 0);
	for (it_start(&it, p, gpa, e, 0); it.valid; it_next(&it, true)) {
		unsigned int l = it.level;
		uint64_t base = it_base(&it), span = lvl_size(l), *first = it.ptep, n = 1, lo, hi;
		bool dirty = false;

		if (!it.post && pte_busy(it.pte)) {
			gather_flush(p, &g);
			return -TDP_EAGAIN;
		}
		if (it.post || !pte_valid(it.pte) || pte_is_table(it.pte, l))
			continue;
		/* a write through a group may have dirtied any of its entries */
		if (pte_is_cont(it.pte, l)) {
			base = it.addr & ~(CONT_SIZE - 1);
			span = CONT_SIZE;
			first = cont_first(it.ptep, it.addr);
			n = CONT_ENTRIES;
		}
		for (uint64_t i = 0; i < n; i++)
			dirty |= pte_dirty(pte_load(first + i));
		if (!dirty)
			continue;
		lo = base > gpa ? base : gpa;
		hi = base + span < e ? base + span : e;
		for (uint64_t a = lo; a < hi; a += page) {
			uint64_t i = (a - gpa) / page;

			bitmap[i / 64] |= 1ull << (i % 64);
		}
		if (base >= gpa && base + span <= e) {
			/* swaps: the hardware may set A meanwhile, and another thread change the leaf */
			for (uint64_t i = 0; i < n; i++) {
				uint64_t pte = pte_load(first + i);

				while (pte_valid(pte) && !pte_is_table(pte, l) && pte_dirty(pte) &&
				       !pte_write(p, 0, first + i, &pte, pte_mkclean(pte), base, l,
						  W_SWAP | W_QUIET))
					;
			}
			gather_range(&g, base, span, (int)l, false);
		}
	}
	gather_flush(p, &g);
	return 0;
}
#else
TDP_INTERNAL int fmt_young(struct tdp_pgtable *p, uint64_t gpa, uint64_t size, bool *young)
{
	(void)gpa, (void)size, (void)young;
	return REFUSE(&p->cfg, TDP_EOPNOTSUPP, TDP_REASON_NO_AD);
}

TDP_INTERNAL int fmt_dirty(struct tdp_pgtable *p, uint64_t gpa, uint64_t size, uint64_t *bitmap)
{
	(void)gpa, (void)size, (void)bitmap;
	return REFUSE(&p->cfg, TDP_EOPNOTSUPP, TDP_REASON_NO_AD);
}
#endif
