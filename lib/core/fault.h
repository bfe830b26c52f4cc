/* SPDX-License-Identifier: MIT */
/*
 * tdp_map_fault, the EL2 fast path: the largest leaf the region allows,
 * from one walk, never replacing anything.
 */

/*
 * tdp_map_fault in shared mode, with the highest leaf level lmax already
 * chosen from the region: fmt_fault's one walk, with sh_install linking and
 * writing, so racing faults enter each other's tables and report each
 * other's leaves (-TDP_EEXIST).
 */
static __attribute__((noinline)) int fault_shared(const struct tdp_pgtable *p, uint64_t fa,
						  unsigned int lmax, uint64_t delta, uint64_t tmpl,
						  struct tdp_memcache *mc,
						  struct tdp_fault_result *res)
{
	uint64_t *ptep, pte;
	unsigned int m = walk_down(p, fa, 0, &ptep, &pte), l = m < lmax ? m : lmax;
	int r;

	/* the common case first: the leaf's entry is there, and empty */
	if (m <= lmax && pte == fmt_invalid(p)) {
		uint64_t base = fa & ~(lvl_size(m) - 1);

		if (pte_write(p, TDP_OP_FAULT, ptep, &pte, pte_mk_leaf(tmpl, base + delta, m), base,
			      m, W_SWAP | W_QUIET)) {
			/* an empty entry: the report is the leaf's ADD (see install_leaf) */
			if (reports_on(p))
				emit_change(p, TDP_OP_FAULT, 0, pte_mk_leaf(tmpl, base + delta, m),
					    base, m, false);
			if (fmt_flush_on_install(p))
				p->cfg.tlb->flush_range(p->cfg.tlb_ctx, base, lvl_size(m), (int)m, false);
			res->gpa = base;
			res->size = lvl_size(m);
			res->level = m;
			return 0;
		}
	}
	if (!pte_valid(pte) && !pte_busy(pte) && !mc_holds(p, mc, m - l))
		return REFUSE(&p->cfg, TDP_ENOMEM, TDP_REASON_CACHE_SHORT);
	r = sh_install(p, TDP_OP_FAULT, fa, &ptep, &m, &pte, 0, lmax, tmpl, delta, mc, &l);
	if (r < 0)
		return r;
	if (r == 1) {
		l = m;
		res->size = m == 0 && pte_is_cont(pte, 0) ? CONT_SIZE : lvl_size(m);
	} else {
		res->size = lvl_size(l);
	}
	res->gpa = fa & ~(res->size - 1);
	res->level = l;
	return r == 1 ? -TDP_EEXIST : 0;
}

/* Index of the highest set bit of a leaf-level mask (levels 0..5), 0 for 0. */
_Static_assert(TDP_MAX_LEVELS <= 6, "top_bit6 covers six levels");
static inline unsigned int top_bit6(uint32_t mask)
{
	static const unsigned char top[64] = {
		0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
		4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
		5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
		5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
	};

	return top[mask & 63];
}

/*
 * The fault path: one walk from the root to the first entry on fault_gpa's
 * path that is not a table. Empty, it gets the largest leaf that fits both
 * the region (lmax) and that entry's level; a leaf there means the fault is
 * already mapped. Tables between are linked from the cache, whose size is
 * checked against the exact need before anything is written.
 */
TDP_INTERNAL int fmt_fault(struct tdp_pgtable *p, uint64_t fa, const struct tdp_fault_region *rg,
		     tdp_attr_t attr, uint32_t flags, struct tdp_memcache *mc,
		     struct tdp_fault_result *res)
{
	const uint32_t mask = geo_map_leaf_mask(&p->geo, flags);
	const uint64_t delta = rg->hpa - rg->gpa, rend = rg->gpa + rg->size;
	unsigned int m, l, lmax = 0;
	uint64_t *ptep, pte, tmpl, base;

	if (!leaf_tmpl(p, attr, &tmpl))
		return REFUSE(&p->cfg, TDP_EINVAL, TDP_REASON_ATTR_FORMAT);
	/*
	 * From the largest leaf allowed (a table lookup, not __builtin_clz:
	 * without Zbb that is a libgcc call); addresses stay below 2^57, so
	 * base + size cannot wrap.
	 */
	for (l = top_bit6(mask); l > 0; l--) {
		uint64_t sz = lvl_size(l);

		base = fa & ~(sz - 1);
		if (((mask >> l) & 1) && base >= rg->gpa && base + sz <= rend && !(delta & (sz - 1))) {
			lmax = l;
			break;
		}
	}

	if (sh_on(p))
		return fault_shared(p, fa, lmax, delta, tmpl, mc, res);
	m = walk_down(p, fa, 0, &ptep, &pte);
	if (pte_valid(pte)) {
		res->size = m == 0 && pte_is_cont(pte, 0) ? CONT_SIZE : lvl_size(m);
		res->gpa = fa & ~(res->size - 1);
		res->level = m;
		return -TDP_EEXIST;
	}
	l = m < lmax ? m : lmax;
	if (!mc_holds(p, mc, m - l))
		return REFUSE(&p->cfg, TDP_ENOMEM, TDP_REASON_CACHE_SHORT);
	base = fa & ~(lvl_size(l) - 1);
	if (reports_on(p))
		install_leaf_rep(p, TDP_OP_FAULT, ptep, m, l, base, pte_mk_leaf(tmpl, base + delta, l),
				 mc);
	else
		install_leaf(p, TDP_OP_FAULT, ptep, m, l, base, pte_mk_leaf(tmpl, base + delta, l), mc,
			     false);
	res->gpa = base;
	res->size = lvl_size(l);
	res->level = l;
	return 0;
}
