/* SPDX-License-Identifier: MIT */
/*
 * tdp_map: the general path (runs of leaves per table, break-before-make
 * in two passes; shared mode in one pass of swaps).
 */

static bool range_has_leaf(const struct tdp_pgtable *p, uint64_t s, uint64_t e)
{
	struct tdp_iter it;

	for (it_start(&it, p, s, e, 0); it.valid; it_next(&it, IT_VISITED))
		if (!it.post && pte_valid(it.pte) && !pte_is_table(it.pte, it.level))
			return true;
	return false;
}

/*
 * What map writes: leaves for [gpa, ..) from hpa with the template, at the
 * levels in mask; level-0 entries in [cs, ce) as contiguous groups (cs == ce:
 * none).
 */
struct map_plan {
	uint64_t gpa, hpa, e, tmpl, cs, ce;
	uint32_t mask;
};

static inline uint64_t plan_leaf(const struct map_plan *pl, uint64_t addr, unsigned int l)
{
	uint64_t pa = pl->hpa + (addr - pl->gpa);

	if (FMT_CONT_BITS && l == 0 && addr - pl->cs < pl->ce - pl->cs)
		return pte_mk_cont_leaf(pl->tmpl, pa, 0);
	return pte_mk_leaf(pl->tmpl, pa, l);
}

/* Write n planned leaves from the entry at ptep (for base) on, whatever was there. */
static inline void write_leaves(uint64_t *ptep, const struct map_plan *pl, uint64_t base,
				uint64_t n, unsigned int l)
{
	uint64_t sz = lvl_size(l), pa = pl->hpa + (base - pl->gpa);

	if (FMT_CONT_BITS && l == 0 && base < pl->ce && base + n * sz > pl->cs) {
		if (base >= pl->cs && base + n * sz <= pl->ce) {
			for (uint64_t i = 0; i < n; i++)
				pte_store(ptep + i, pte_mk_cont_leaf(pl->tmpl, pa + i * sz, 0));
		} else {
			for (uint64_t i = 0; i < n; i++)
				pte_store(ptep + i, plan_leaf(pl, base + i * sz, 0));
		}
		return;
	}
	for (uint64_t i = 0; i < n; i++)
		pte_store(ptep + i, pte_mk_leaf(pl->tmpl, pa + i * sz, l));
}

/*
 * Write the planned leaf into the iterator's (empty) entry and the leaves
 * that follow it while they are empty, in the same table and inside the
 * range. Leaves on one level share the plan's alignment test, so the run
 * needs no re-planning; the iterator is left on the last entry written.
 * `fresh`: the table was linked by this pass, so every entry is empty and
 * the run goes to the end of the range or table without looking.
 * Returns the number of entries written.
 */
static inline uint64_t map_run(struct tdp_iter *it, const struct map_plan *pl, bool fresh)
{
	unsigned int l = it->level;
	uint64_t sz = lvl_size(l), base = it->addr & ~(sz - 1);
	uint64_t entries = l == top_level(it->pgt) ? (uint64_t)1 << it->pgt->geo.root_bits
						   : FMT_ENTRIES;
	uint64_t idx = (uint64_t)(it->ptep - (uint64_t *)it->tables[l]);
	uint64_t n = (pl->e - base) / sz, *ptep = it->ptep, i;

	if (n > entries - idx)
		n = entries - idx;
	/* stores into empty entries, reported after the run (write.h, note_run) */
	if (fresh) {
		write_leaves(ptep, pl, base, n, l);
		i = n;
	} else if (FMT_CONT_BITS && l == 0 && pl->ce != pl->cs) {
		pte_store(ptep, plan_leaf(pl, base, 0));
		for (i = 1; i < n && !pte_valid(ptep[i]); i++)
			pte_store(ptep + i, plan_leaf(pl, base + i * sz, 0));
	} else {
		uint64_t pa = pl->hpa + (base - pl->gpa);

		pte_store(ptep, pte_mk_leaf(pl->tmpl, pa, l));
		for (i = 1; i < n && !pte_valid(ptep[i]); i++)
			pte_store(ptep + i, pte_mk_leaf(pl->tmpl, pa + i * sz, l));
	}
	note_run(it->pgt, TDP_OP_MAP, ptep, base, i, l);
	it->ptep = ptep + i - 1;
	it->addr = base + (i - 1) * sz;
	it->pte = pte_load(it->ptep);
	return i;
}

/*
 * Replace the live leaf at ptep by the plan's `new` in place (no
 * break-before-make needed). Where the output address stays, the leaf keeps
 * the accessed/dirty flags the hardware set: they are the page's state, not
 * its attributes' (a remap that only changes permissions or software bits
 * must not lose a dirty page).
 */
static void map_update(const struct tdp_pgtable *p, uint64_t *ptep, uint64_t old, uint64_t new,
		       uint64_t base, unsigned int l)
{
	if (!ad_live(p)) {
		pte_write(p, TDP_OP_MAP, ptep, &old, new, base, l, W_STORE);
		return;
	}
	while (!pte_write(p, TDP_OP_MAP, ptep, &old,
			  leaf_pa_at(old, l, base) == leaf_pa_at(new, l, base) ?
				  new | (old & FMT_AD_MASK) : new,
			  base, l, W_SWAP))
		;
}

/*
 * One pass of the plan over [s, e). Entries that need break-before-make (a
 * changed output address or memory type, a block that must become a table
 * or a table that must become a block) are emptied and left for a second
 * pass after the flush; the return value is where that pass starts.
 */
static uint64_t map_pass(const struct tdp_pgtable *p, const struct map_plan *pl, uint64_t s,
			 struct tdp_memcache *mc, struct gather *g)
{
	uint64_t restart = NO_ADDR, e = pl->e;
	struct tdp_iter it;
	bool descend = true;
	void *fresh = NULL; /* the table this pass linked last */

	for (it_start(&it, p, s, e, 0); it.valid; it_next(&it, descend)) {
		unsigned int l = it.level;
		uint64_t sz = lvl_size(l), base = it_base(&it), old = it.pte;

		descend = true;
		if (it.post)
			continue;
		if (base >= s && e - base >= sz && ((pl->mask >> l) & 1) &&
		    ((pl->hpa + (base - pl->gpa)) & (sz - 1)) == 0) {
			uint64_t new = plan_leaf(pl, base, l);

			descend = false;
			if (!pte_valid(old)) {
				uint64_t n = map_run(&it, pl, it.tables[l] == fresh);

				if (fmt_flush_on_install(p))
					gather_range(g, base, n * sz, (int)l, false);
			} else if (pte_is_table(old, l) || pte_needs_bbm(old, new, l)) {
				clear_entry(p, g, it.ptep, old, base, l);
				if (restart == NO_ADDR)
					restart = base;
			} else if (!pte_same(old, new)) {
				map_update(p, it.ptep, old, new, base, l);
				gather_range(g, base, sz, (int)l, false);
			}
			continue;
		}
		if (!pte_valid(old)) {
			void *t = mc_pop(mc);

			fill_invalid(p, t, FMT_ENTRIES);
			pte_write(p, TDP_OP_MAP, it.ptep, &old, pte_mk_table(p, tdp_va_to_pa(p, t)), base,
				  l, W_RELEASE);
			fresh = t;
			if (fmt_flush_on_install(p))
				gather_range(g, base, sz, (int)l, false);
		} else if (!pte_is_table(old, l)) {
			/* A covered block that the plan maps with smaller leaves. */
			descend = false;
			clear_entry(p, g, it.ptep, old, base, l);
			if (restart == NO_ADDR)
				restart = base;
		}
	}
	return restart;
}

/*
 * map's pass in shared mode (a twin of map_pass kept for speed: map_pass
 * empties everything that needs break-before-make in one pass and flushes
 * once before the second, where each swap here flushes alone: remapping
 * 1 GiB of pages as 2 MiB blocks elsewhere on arm64 4K makes 16 flush_range
 * calls exclusive, 512 shared): every entry of the plan is swapped in where it
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
				/* as map_update: the page keeps its A/D where its output stays */
				if (ad_live(p) && pte_is_leaf(old, l) &&
				    leaf_pa_at(old, l, base) == leaf_pa_at(new, l, base))
					new |= old & FMT_AD_MASK;
				if (sh_swap(p, g, it.ptep, old, new, base, l, 0))
					break;
			} else if (!pte_valid(old)) {
				uint64_t *t;

				if (!mc_holds(p, mc, 1))
					return REFUSE(&p->cfg, TDP_ENOMEM, TDP_REASON_CACHE_SHORT);
				t = mc_pop(mc);
				fill_invalid(p, t, FMT_ENTRIES);
				if (sh_swap(p, g, it.ptep, old, pte_mk_table(p, tdp_va_to_pa(p, t)), base,
					    l, 0))
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

/*
 * Everything map_one declines, and every range of more than one leaf. Kept
 * out of line so the fault path in fmt_map stays a small function.
 */
static __attribute__((noinline)) int map_general(struct tdp_pgtable *p, uint64_t gpa,
						 uint64_t hpa, uint64_t size, uint64_t tmpl,
						 uint32_t flags, int one,
						 struct tdp_memcache *mc_in)
{
	struct map_plan pl = { .gpa = gpa, .hpa = hpa, .e = gpa + size, .tmpl = tmpl,
			       .mask = geo_map_leaf_mask(&p->geo, flags) };
	struct tdp_memcache local, *mc;
	struct edge_blocks eb;
	struct gather g;
	uint64_t restart;
	int ret;

	if ((flags & TDP_MAP_NOREPLACE) && range_has_leaf(p, gpa, pl.e))
		return -TDP_EEXIST;
	/* groups where a whole one is covered and the output is aligned with it */
	if (cont_on(p) && (pl.mask & 1) && ((hpa - gpa) & (CONT_SIZE - 1)) == 0) {
		pl.cs = (gpa + CONT_SIZE - 1) & ~(CONT_SIZE - 1);
		pl.ce = pl.e & ~(CONT_SIZE - 1);
		if (pl.ce < pl.cs)
			pl.ce = pl.cs;
	}
	ret = tdp__mc_prepare(p, mc_in, geo_map_need(&p->geo, gpa, hpa, size, flags), &local, &mc);
	if (ret)
		return ret;
	if (sh_on(p)) {
		pl.cs = pl.ce = 0; /* no groups: another thread could write into one half-made */
		gather_init_mode(&g, true, TDP_OP_MAP);
		ret = map_pass_shared(p, &pl, flags & TDP_MAP_NOREPLACE, mc, &g);
		gather_flush(p, &g);
		tdp__mc_finish(p, mc_in, &local);
		return ret;
	}
	if (!mc_in && one >= 0 && map_one(p, gpa, hpa, (unsigned int)one, tmpl, flags, mc)) {
		tdp__mc_finish(p, mc_in, &local);
		return 0;
	}
	gather_init_mode(&g, false, TDP_OP_MAP);
	find_edge_blocks(p, gpa, pl.e, NULL, &eb);
	split_edge_blocks(p, &eb, mc, &g);
	break_edge_groups(p, gpa, pl.e, NULL, &g);
	restart = map_pass(p, &pl, gpa, mc, &g);
	gather_flush(p, &g);
	if (restart != NO_ADDR) {
		map_pass(p, &pl, restart, mc, &g);
		gather_flush(p, &g);
	}
	tdp__mc_finish(p, mc_in, &local);
	return 0;
}

/*
 * The leaf template of attr, or false if the format cannot express it.
 * Protection-only words, what faults map, come from the table built at init.
 */
static inline bool leaf_tmpl(const struct tdp_pgtable *p, tdp_attr_t attr, uint64_t *tmpl)
{
	if (!(attr & ~TDP_PROT_MASK)) {
		*tmpl = p->prot_tmpl[attr];
		return (p->prot_ok >> attr) & 1;
	}
	if (!fmt_attr_ok(p, attr))
		return false;
	*tmpl = fmt_attr_tmpl(p, attr);
	return true;
}

TDP_INTERNAL int fmt_map(struct tdp_pgtable *p, uint64_t gpa, uint64_t hpa, uint64_t size,
		   tdp_attr_t attr, uint32_t flags, struct tdp_memcache *mc)
{
	uint64_t tmpl;
	int one;

	if (!leaf_tmpl(p, attr, &tmpl))
		return REFUSE(&p->cfg, TDP_EINVAL, TDP_REASON_ATTR_FORMAT);
	one = single_leaf_level(gpa, hpa, size, geo_map_leaf_mask(&p->geo, flags));
	/*
	 * One leaf from a cache that holds enough: the per-call path. Anything
	 * it declines takes the general path, which also gives the errors in
	 * their usual order.
	 */
	if (one >= 0 && mc && mc_holds(p, mc, top_level(p) - (unsigned int)one) &&
	    map_one(p, gpa, hpa, (unsigned int)one, tmpl, flags, mc))
		return 0;
	return map_general(p, gpa, hpa, size, tmpl, flags, one, mc);
}
