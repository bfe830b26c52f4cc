/* SPDX-License-Identifier: MIT */
/*
 * The gather: one batched invalidation per operation, and tables freed
 * only after the flush that covers them (free_subtree walks what they
 * hold, without recursion).
 */

#define GATHER_TABLES 32

struct gather {
	uint64_t start, end;
	int level;   /* common level of changed leaves, TDP_LEVEL_ANY, or -2: none yet */
	bool tables; /* table entries were removed */
	bool shared; /* a shared-mode call: unlinked tables go to defer_free_table */
	unsigned int op; /* the call (TDP_OP_*), for change reports */
	unsigned int nfree;
	struct {
		void *va;
		unsigned int level; /* level of the entries inside the table */
		bool empty;         /* known to hold no valid entry: no scan needed */
	} free[GATHER_TABLES];
};

static inline void gather_init(struct gather *g)
{
	g->start = NO_ADDR;
	g->end = 0;
	g->level = -2;
	g->tables = false;
	g->nfree = 0;
}

static inline void gather_init_mode(struct gather *g, bool shared, unsigned int op)
{
	gather_init(g);
	g->shared = shared;
	g->op = op;
}

static inline void gather_range(struct gather *g, uint64_t base, uint64_t size, int level,
				bool table)
{
	if (base < g->start)
		g->start = base;
	if (base + size > g->end)
		g->end = base + size;
	if (table)
		level = TDP_LEVEL_ANY;
	g->level = (g->level == -2 || g->level == level) ? level : TDP_LEVEL_ANY;
	g->tables |= table;
}

/* No valid entry among the n entries at t. */
static inline bool entries_without(const uint64_t *t, uint64_t n, uint64_t bits)
{
	uint64_t any = 0;

	/*
	 * Plain loads OR-ed together so the compiler can vectorise: validity
	 * bits are only ever set by the library itself (never by the hardware),
	 * so a torn or stale read cannot hide one.
	 */
	for (uint64_t i = 0; i < n; i++)
		any |= t[i];
	return !(any & bits);
}

static inline bool entries_empty(const uint64_t *t, uint64_t n)
{
	return entries_without(t, n, FMT_VALID_MASK);
}

/*
 * Free an unlinked subtree whose entries sit at `level`: through free_table
 * (only after the flush that covers it), or, with `mc`, back into that cache
 * (a subtree built by a call that lost the race to link it: never visible,
 * so no flush, but its pages must be zeroed again for the cache).
 */
static void free_subtree(const struct tdp_pgtable *p, void *table, unsigned int level,
			 struct tdp_memcache *mc)
{
	void *tbl[TDP_MAX_LEVELS];
	uint64_t idx[TDP_MAX_LEVELS];
	unsigned int l = level;

	tbl[l] = table;
	idx[l] = 0;
	for (;;) {
		uint64_t pte;

		/*
		 * level-0 and empty tables point to no child table (the common
		 * case: emptied ones); a frozen table entry (shared mode with
		 * change reports, write.h) still does
		 */
		if (idx[l] == 0 &&
		    (l == 0 || entries_without(tbl[l], FMT_ENTRIES,
					       FMT_VALID_MASK | FMT_FROZEN_TABLE_BIT)))
			idx[l] = FMT_ENTRIES;
		if (idx[l] == FMT_ENTRIES) {
			if (mc)
				mc_push(mc, tbl[l], p->geo.table_size);
			else
				p->cfg.mm->free_table(p->cfg.mm_ctx, tbl[l], p->geo.table_size);
			if (l == level)
				return;
			l++;
			continue;
		}
		pte = pte_load((uint64_t *)tbl[l] + idx[l]++);
		if ((pte_valid(pte) && pte_is_table(pte, l)) || pte_frozen_table(pte)) {
			l--;
			tbl[l] = tdp_pa_to_va(p, pte_table_pa(pte));
			idx[l] = 0;
		}
	}
}

/* Issue the pending invalidation, then free what it made unreachable. */
static void gather_flush(const struct tdp_pgtable *p, struct gather *g)
{
	if (g->start != NO_ADDR)
		p->cfg.tlb->flush_range(p->cfg.tlb_ctx, g->start, g->end - g->start, g->level,
					g->tables);
	for (unsigned int i = 0; i < g->nfree; i++) {
		if (g->shared)
			p->cfg.mm->defer_free_table(p->cfg.mm_ctx, g->free[i].va, g->free[i].level);
		else if (g->free[i].empty)
			p->cfg.mm->free_table(p->cfg.mm_ctx, g->free[i].va, p->geo.table_size);
		else
			free_subtree(p, g->free[i].va, g->free[i].level, NULL);
	}
	gather_init(g);
}

/* Queue an unlinked table (already covered by a gather_range) for freeing. */
static void gather_free_table(const struct tdp_pgtable *p, struct gather *g, uint64_t pte,
			      unsigned int l, bool empty)
{
	if (g->nfree == GATHER_TABLES)
		gather_flush(p, g);
	g->free[g->nfree].va = tdp_pa_to_va(p, pte_table_pa(pte));
	g->free[g->nfree].level = l - 1;
	g->free[g->nfree].empty = empty;
	g->nfree++;
}

/* Empty the entry at `ptep` (covering [base, base + size(l))) and queue what it held. */
static void clear_entry(const struct tdp_pgtable *p, struct gather *g, uint64_t *ptep,
			uint64_t old, uint64_t base, unsigned int l)
{
	bool table = pte_is_table(old, l);

	pte_write(p, g->op, ptep, &old, fmt_invalid(p), base, l, table ? W_STORE : w_leaf(p));
	gather_range(g, base, lvl_size(l), (int)l, table);
	if (table)
		gather_free_table(p, g, old, l, false);
}

/* clear_entry for a table entry whose table was just found empty. */
static void clear_empty_table(const struct tdp_pgtable *p, struct gather *g, uint64_t *ptep,
			      uint64_t old, uint64_t base, unsigned int l)
{
	pte_write(p, g->op, ptep, &old, fmt_invalid(p), base, l, W_STORE | W_QUIET);
	gather_range(g, base, lvl_size(l), (int)l, true);
	gather_free_table(p, g, old, l, true);
}

/*
 * Is the table empty? The neighbours of the entry last cleared are looked
 * at first: when they are live (a sequential unmap) that answers at once.
 */
static bool table_empty(const uint64_t *t, uint64_t hint)
{
	if (pte_valid(t[(hint + 1) & (FMT_ENTRIES - 1)]) ||
	    pte_valid(t[(hint - 1) & (FMT_ENTRIES - 1)]))
		return false;
	return entries_empty(t, FMT_ENTRIES);
}
