/* SPDX-License-Identifier: MIT */
/*
 * Shared mode (TDP_CFG_SHARED): the operations for tables that several
 * threads change at once. Included by core_impl.h and compiled once per
 * format variant like the rest of the core.
 *
 * Rules every function here keeps:
 * - An entry changes only by a compare-and-swap against the value this
 *   thread read; a lost swap means "look at the entry again", never "write
 *   anyway".
 * - A table is complete before the swap that links it (the swap is a full
 *   barrier, and walkers load entries with acquire); a table built for a swap
 *   that was lost goes back to the call's cache, never seen by anyone.
 * - A change the hardware must not see half-done (break-before-make) first
 *   swaps in the busy value; only the thread that did so finishes the entry,
 *   with a release store. Every other call gives up with -TDP_EAGAIN when it
 *   meets a busy entry instead of waiting: the holder may be waiting in its
 *   flush for this very CPU (an IPI with interrupts off).
 * - Tables unlinked here go to defer_free_table (gather.shared), never to
 *   free_table: other threads may still be walking them.
 */

static inline uint64_t busy_val(const struct tdp_pgtable *p)
{
	return fmt_invalid(p) | FMT_BUSY_BIT;
}

static inline bool pte_busy(uint64_t pte)
{
	return (pte & (FMT_VALID_MASK | FMT_BUSY_BIT)) == FMT_BUSY_BIT;
}

/*
 * Swap the entry at ptep (level l, covering base) from old, the value read,
 * to new. Where the format needs break-before-make the entry goes busy, the
 * old translation is flushed at once and only then is new stored; otherwise
 * the flush joins the gather. A table replaced goes to the deferred free
 * once flushed. Returns false, having changed nothing, if old is no longer
 * there.
 */
static bool sh_swap(const struct tdp_pgtable *p, struct gather *g, uint64_t *ptep, uint64_t old,
		    uint64_t new, uint64_t base, unsigned int l)
{
	const bool live = pte_valid(old), table = live && pte_is_table(old, l);

	if (live && pte_needs_bbm(old, new, l)) {
		if (!pte_cas(ptep, old, busy_val(p)))
			return false;
		p->cfg.tlb->flush_range(p->cfg.tlb_ctx, base, lvl_size(l),
					table ? TDP_LEVEL_ANY : (int)l, table);
		pte_store_release(ptep, new);
		if (table)
			p->cfg.mm->defer_free_table(p->cfg.mm_ctx, tdp_pa_to_va(p, pte_table_pa(old)),
						    l - 1);
		return true;
	}
	if (!pte_cas(ptep, old, new))
		return false;
	if (live || fmt_flush_on_install(p))
		gather_range(g, base, lvl_size(l), (int)l, table);
	if (table)
		gather_free_table(p, g, old, l, false);
	return true;
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
		return -TDP_ENOMEM;
	t = build_split(p, blk, l, base, pr, mc);
	if (sh_swap(p, g, ptep, blk, t, base, l))
		return 1;
	free_subtree(p, tdp_pa_to_va(p, pte_table_pa(t)), l - 1, mc);
	return 0;
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
static int sh_install(const struct tdp_pgtable *p, uint64_t addr, uint64_t **ptepp,
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

			if (pte_cas(ptep, pte, pte_mk_leaf(tmpl, base + delta, m))) {
				hi = wrote ? hi : m;
				wrote = true;
				*lp = m;
				ret = 0;
				break;
			}
		} else {
			uint64_t *t = mc_pop(mc);

			fill_invalid(p, t, FMT_ENTRIES);
			if (pte_cas(ptep, pte, pte_mk_table(p, tdp_va_to_pa(p, t)))) {
				hi = wrote ? hi : m;
				wrote = true;
				ptep = t + tbl_idx(addr, m - 1);
				m--;
				pte = pte_load(ptep);
				continue;
			}
			mc_push(mc, t, p->geo.table_size);
		}
		pte = pte_load(ptep); /* lost the swap: see what won */
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
	int r = sh_install(p, gpa, &ptep, &m, &pte, l, l, tmpl, hpa - gpa, mc, &leaf_l);

	if (r == 0)
		return true;
	return r == 1 && m == l && !(flags & TDP_MAP_NOREPLACE) && !pte_is_table(pte, l) &&
	       pte_same(pte, pte_mk_leaf(tmpl, hpa, l));
}

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

		if (pte_cas(ptep, pte, pte_mk_leaf(tmpl, base + delta, m))) {
			if (fmt_flush_on_install(p))
				p->cfg.tlb->flush_range(p->cfg.tlb_ctx, base, lvl_size(m), (int)m, false);
			res->gpa = base;
			res->size = lvl_size(m);
			res->level = m;
			return 0;
		}
		pte = pte_load(ptep);
	}
	if (!pte_valid(pte) && !pte_busy(pte) && !mc_holds(p, mc, m - l))
		return -TDP_ENOMEM;
	r = sh_install(p, fa, &ptep, &m, &pte, 0, lmax, tmpl, delta, mc, &l);
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

/*
 * map's pass in shared mode: every entry of the plan is swapped in where it
 * goes (replacing what is there, a table included, which is then freed
 * deferred), tables are linked where smaller leaves go, and blocks in their
 * way are first split with the same translation. With `keep`
 * (TDP_MAP_NOREPLACE) live leaves stay and the pass ends with -TDP_EEXIST.
 */
static int map_pass_shared(const struct tdp_pgtable *p, const struct map_plan *pl, bool keep,
			   struct tdp_memcache *mc, struct gather *g)
{
	const struct split_pred pr = { .lo = pl->gpa, .hi = pl->e, .edges = true };
	struct tdp_iter it;
	bool descend = true, met = false;

	for (it_start(&it, p, pl->gpa, pl->e, 0); it.valid; it_next(&it, descend)) {
		const unsigned int l = it.level;
		const uint64_t sz = lvl_size(l), base = it_base(&it);
		const bool leaf = base >= pl->gpa && pl->e - base >= sz && ((pl->mask >> l) & 1) &&
				  ((pl->hpa + (base - pl->gpa)) & (sz - 1)) == 0;

		descend = true;
		if (it.post)
			continue;
		for (;;) {
			const uint64_t old = it.pte;
			int r;

			if (pte_busy(old))
				return -TDP_EAGAIN;
			if (pte_valid(old) && pte_is_table(old, l) && (!leaf || keep))
				break; /* smaller leaves go inside */
			if (keep && pte_valid(old)) {
				met = true;
				descend = false;
				break;
			}
			if (leaf) {
				uint64_t new = plan_leaf(pl, base, l);

				descend = false;
				if (pte_valid(old) && !pte_is_table(old, l) && pte_same(old, new))
					break;
				if (sh_swap(p, g, it.ptep, old, new, base, l))
					break;
			} else if (!pte_valid(old)) {
				uint64_t *t;

				if (!mc_holds(p, mc, 1))
					return -TDP_ENOMEM;
				t = mc_pop(mc);
				fill_invalid(p, t, FMT_ENTRIES);
				if (sh_swap(p, g, it.ptep, old, pte_mk_table(p, tdp_va_to_pa(p, t)), base,
					    l))
					break;
				mc_push(mc, t, p->geo.table_size);
			} else {
				/* a block the plan maps with smaller leaves: first the same translation */
				r = sh_split(p, g, it.ptep, old, base, l, &pr, mc);
				if (r < 0)
					return r;
				if (r)
					break;
			}
			it.pte = pte_load(it.ptep);
		}
	}
	return met ? -TDP_EEXIST : 0;
}

/* tdp_split in shared mode: each block is replaced by its prebuilt subtree with one swap. */
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

/*
 * tdp_protect in shared mode: every leaf is swapped to its new permissions;
 * a block (or group) straddling an edge whose permissions change is split
 * (broken up) first, and the pass goes into it.
 */
static int protect_shared(const struct tdp_pgtable *p, uint64_t s, uint64_t e,
			  const struct prot_change *pc, struct tdp_memcache *mc, struct gather *g)
{
	const struct split_pred pr = { .lo = s, .hi = e, .edges = true };
	struct tdp_iter it;
	bool descend = true;

	for (it_start(&it, p, s, e, 0); it.valid; it_next(&it, descend)) {
		const unsigned int l = it.level;
		const uint64_t sz = lvl_size(l), base = it_base(&it);

		descend = true;
		if (it.post)
			continue;
		for (;;) {
			const uint64_t old = it.pte;
			uint64_t new, gb;
			int r;

			if (pte_busy(old))
				return -TDP_EAGAIN;
			if (!pte_valid(old) || pte_is_table(old, l))
				break;
			descend = false;
			new = prot_apply(p, old, l, pc);
			if (new == old)
				break;
			gb = it.addr & ~(CONT_SIZE - 1);
			if (base < s || e - base < sz) {
				descend = true;
				r = sh_split(p, g, it.ptep, old, base, l, &pr, mc);
				if (r < 0)
					return r;
				if (r)
					break;
			} else if (pte_is_cont(old, l) && (gb < s || e - gb < CONT_SIZE)) {
				cont_break(p, g, it.ptep, it.addr);
			} else if (pte_cas(it.ptep, old, new)) {
				gather_range(g, base, sz, (int)l, false);
				break;
			}
			it.pte = pte_load(it.ptep);
		}
	}
	return 0;
}
