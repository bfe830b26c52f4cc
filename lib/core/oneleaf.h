/* SPDX-License-Identifier: MIT */
/*
 * One leaf from one walk: the per-call path of a one-leaf tdp_map and the
 * linking tail it shares with the fault path, in both modes.
 */

/*
 * The end of a one-leaf map: *ptep is the empty entry of level m on gpa's
 * path. Link fresh tables from the cache (which holds m - l pages) down to
 * level l, write the leaf there, and report what the general path's gather
 * would: the highest new entry, when the format invalidates on install.
 */
static inline __attribute__((always_inline)) void
install_leaf(const struct tdp_pgtable *p, unsigned int op, uint64_t *ptep, unsigned int m,
	     unsigned int l, uint64_t gpa, uint64_t leaf, struct tdp_memcache *mc, const bool report)
{
	const unsigned int linked = m > l ? m : 0;
	uint64_t empty = 0; /* the entries are empty, whatever the format's empty value */

	/*
	 * Only empty entries are written, so the one report is the leaf's ADD,
	 * emitted directly: the fault path's stack then holds no subtree walk.
	 */
	for (; m > l; m--) {
		uint64_t *n = mc_pop(mc);

		fill_invalid(p, n, FMT_ENTRIES);
		pte_write(p, op, ptep, &empty, pte_mk_table(p, tdp_va_to_pa(p, n)), gpa, m,
			  W_RELEASE | W_QUIET);
		ptep = n + tbl_idx(gpa, m - 1);
	}
	pte_write(p, op, ptep, &empty, leaf, gpa, l, W_STORE | W_QUIET);
	if (report)
		emit_change(p, op, 0, leaf, gpa, l, false);
	if (fmt_flush_on_install(p)) {
		unsigned int hi = linked ? linked : l;

		p->cfg.tlb->flush_range(p->cfg.tlb_ctx, gpa & ~(lvl_size(hi) - 1), lvl_size(hi),
					linked ? TDP_LEVEL_ANY : (int)l, false);
	}
}

/* install_leaf's reporting copy (see reports_on). */
static __attribute__((noinline)) void install_leaf_rep(const struct tdp_pgtable *p, unsigned int op,
						       uint64_t *ptep, unsigned int m, unsigned int l,
						       uint64_t gpa, uint64_t leaf,
						       struct tdp_memcache *mc)
{
	install_leaf(p, op, ptep, m, l, gpa, leaf, mc, true);
}

/*
 * The one-leaf install of the fault path and of a one-page map. From the
 * entry *ptepp (level *mp, value *ptev, not a table) towards addr: tables
 * met are entered, empty entries above lmax get a table from mc, and the
 * first empty entry at or below lmax gets the leaf of its level for addr
 * (output: the leaf's base + delta). Never below lmin: a table there is met
 * like a leaf. Returns 0 with the leaf's level in *lp; 1 when a leaf (or a
 * table at lmin) is met, described by *ptepp, *mp, *ptev; -TDP_EAGAIN on a
 * busy entry. Tables linked stay linked whatever the outcome, and the flush
 * the format wants for new entries covers the highest entry written. mc must
 * hold one page per level above lmax on the way.
 */
static int sh_install(const struct tdp_pgtable *p, unsigned int op, uint64_t addr, uint64_t **ptepp,
		      unsigned int *mp, uint64_t *ptev, unsigned int lmin, unsigned int lmax,
		      uint64_t tmpl, uint64_t delta, struct tdp_memcache *mc, unsigned int *lp)
{
	uint64_t *ptep = *ptepp, pte = *ptev;
	unsigned int m = *mp, hi = 0;
	bool wrote = false;
	int ret;

	for (;;) {
		if (pte_busy(pte)) {
			ret = -TDP_EAGAIN;
			break;
		}
		if (pte_valid(pte)) {
			if (!pte_is_table(pte, m) || m == lmin) {
				ret = 1;
				break;
			}
			ptep = (uint64_t *)tdp_pa_to_va(p, pte_table_pa(pte)) + tbl_idx(addr, m - 1);
			m--;
			pte = pte_load(ptep);
			continue;
		}
		if (m <= lmax) {
			uint64_t base = addr & ~(lvl_size(m) - 1);

			/* into an empty entry: the report is the leaf's ADD (see install_leaf) */
			if (pte_write(p, op, ptep, &pte, pte_mk_leaf(tmpl, base + delta, m), base, m,
				      W_SWAP | W_QUIET)) {
				if (reports_on(p))
					emit_change(p, op, 0, pte_mk_leaf(tmpl, base + delta, m), base,
						    m, false);
				hi = wrote ? hi : m;
				wrote = true;
				*lp = m;
				ret = 0;
				break;
			}
		} else {
			uint64_t *t = mc_pop(mc);

			fill_invalid(p, t, FMT_ENTRIES);
			if (pte_write(p, op, ptep, &pte, pte_mk_table(p, tdp_va_to_pa(p, t)), addr, m,
				      W_SWAP | W_QUIET)) {
				hi = wrote ? hi : m;
				wrote = true;
				ptep = t + tbl_idx(addr, m - 1);
				m--;
				pte = pte_load(ptep);
				continue;
			}
			mc_push(mc, t, p->geo.table_size);
		}
		/* lost the swap: pte is what won; look at it again */
	}
	if (wrote && fmt_flush_on_install(p))
		p->cfg.tlb->flush_range(p->cfg.tlb_ctx, addr & ~(lvl_size(hi) - 1), lvl_size(hi),
					ret == 0 && hi == *lp ? (int)hi : TDP_LEVEL_ANY, false);
	*ptepp = ptep;
	*mp = m;
	*ptev = pte;
	return ret;
}

/*
 * A one-leaf map (level l, gpa and hpa aligned to it) in shared mode, from
 * a cache holding a page per level above l. Returns false, having linked at
 * most some tables, when the entry holds anything but the same leaf: the
 * general pass then replaces it, or reports the busy entry.
 */
static __attribute__((noinline)) bool map_one_shared(const struct tdp_pgtable *p, uint64_t gpa,
						     uint64_t hpa, unsigned int l, uint64_t tmpl,
						     uint32_t flags, struct tdp_memcache *mc)
{
	uint64_t *ptep, pte;
	unsigned int m = walk_down(p, gpa, l, &ptep, &pte), leaf_l;
	int r = sh_install(p, TDP_OP_MAP, gpa, &ptep, &m, &pte, l, l, tmpl, hpa - gpa, mc,
			   &leaf_l);

	if (r == 0)
		return true;
	return r == 1 && m == l && !(flags & TDP_MAP_NOREPLACE) && !pte_is_table(pte, l) &&
	       pte_same(pte, pte_mk_leaf(tmpl, hpa, l));
}

/*
 * The fault-style case: the range is exactly one leaf of level l. One walk
 * from the root, linking tables from the cache where entries are empty.
 * Returns false, having changed nothing, when the walk meets a block or a
 * different leaf: those need the general path's break-before-make and
 * splitting.
 */
static inline __attribute__((always_inline)) bool
map_one(const struct tdp_pgtable *p, uint64_t gpa, uint64_t hpa, unsigned int l,
		    uint64_t tmpl, uint32_t flags, struct tdp_memcache *mc)
{
	const uint64_t new = pte_mk_leaf(tmpl, hpa, l);
	uint64_t *ptep, pte;
	unsigned int m;

	m = walk_down(p, gpa, l, &ptep, &pte);
	if (sh_on(p)) {
		/* the common case inline: the leaf's entry is there and empty */
		if (m != l || pte != fmt_invalid(p) || reports_on(p) ||
		    !pte_write(p, TDP_OP_MAP, ptep, &pte, new, gpa, l, W_SWAP | W_QUIET))
			return map_one_shared(p, gpa, hpa, l, tmpl, flags, mc);
		if (fmt_flush_on_install(p))
			p->cfg.tlb->flush_range(p->cfg.tlb_ctx, gpa, lvl_size(l), (int)l, false);
		return true;
	}
	if (pte_valid(pte)) {
		/* the same leaf again (a spurious fault) is done; anything else is not ours */
		return m == l && !(flags & TDP_MAP_NOREPLACE) && !pte_is_table(pte, l) &&
		       pte_same(pte, new);
	}
	if (reports_on(p))
		install_leaf_rep(p, TDP_OP_MAP, ptep, m, l, gpa, new, mc);
	else
		install_leaf(p, TDP_OP_MAP, ptep, m, l, gpa, new, mc, false);
	return true;
}

/* The level of the single leaf a map of exactly [gpa, gpa + size) writes, or -1. */
static inline int single_leaf_level(uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t mask)
{
	for (unsigned int l = 0; l < TDP_MAX_LEVELS; l++) {
		if (lvl_size(l) > size)
			return -1;
		if (lvl_size(l) == size)
			return ((mask >> l) & 1) && !((gpa | hpa) & (size - 1)) ? (int)l : -1;
	}
	return -1;
}
