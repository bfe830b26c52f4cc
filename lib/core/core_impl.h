/* SPDX-License-Identifier: MIT */
/*
 * The generic algorithms, written once and compiled once per format variant.
 *
 * A format's .c file includes its PTE header and then this file, after
 * defining FMT_OPS (the name of the dispatch table to emit) and FMT_NAME (its
 * entry points' names, one of the TDP_<VARIANT> macros of formats.h). The format
 * header provides, as constants or static inline functions:
 *
 *   FMT_PAGE_SHIFT, FMT_BITS       level-0 page shift, index bits per table
 *   fmt_invalid(pgt)               the value of an empty entry (non-zero: new tables are
 *                                  filled with it)
 *   fmt_flush_on_install(pgt)      invalid -> valid changes need a TLB flush
 *   pte_valid(pte)                 the hardware would use the entry
 *   pte_is_table(pte, l)           points to a table (never at level 0)
 *   pte_table_pa(pte), pte_leaf_pa(pte, l)
 *   pte_mk_table(pgt, pa), pte_mk_leaf(tmpl, pa, l)
 *   pte_leaf_tmpl(pte)             a leaf's attribute bits (no address, no kind)
 *   fmt_attr_tmpl(pgt, attr)       the same for a neutral attribute word
 *   pte_attr(pte, l)               decode a leaf's attributes
 *   pte_with_prot(pgt, pte, attr)  a leaf with its permission/software bits replaced
 *   pte_same(old, new)             equal apart from bits the hardware updates
 *   pte_needs_bbm(old, new, l)     replacing old by new needs break-before-make
 *   fmt_attr_ok, fmt_prot_change_ok
 *   FMT_HAS_AD                     the format has hardware accessed/dirty flags; then
 *   fmt_ad_enabled(pgt)            they are in use on this table, and
 *   pte_young, pte_mkold, pte_dirty, pte_mkclean
 *   FMT_CONT_BITS                  log2 of the level-0 entries in a contiguous group (0: the
 *                                  format has none); then
 *   fmt_cont_enabled(pgt)          groups are in use on this table,
 *   pte_is_cont(pte, l)            the leaf belongs to a group (pte_leaf_pa gives the group's base)
 *   pte_mk_cont_leaf(tmpl, pa, l)  the group member for the page at pa
 *
 * A group's entries must agree: every operation that would change part of one
 * first rewrites the whole group as ordinary leaves (the same translation, so
 * no break-before-make), and zap removes a group whole.
 *
 * Everything below is static: each variant gets its own copy with constant
 * shifts and no indirect calls in the loops. Nothing recurses; subtrees are
 * walked with explicit stacks bounded by TDP_MAX_LEVELS.
 */
#include "core/budget.h"
#include "core/fmt_ops.h"
#include "core/mem.h"

/*
 * The entry points carry the variant's name (FMT_NAME, from the variant's
 * .c file) and hidden linkage, so that api.c can call them directly as well
 * as through FMT_OPS.
 */
#define fmt_map FMT_NAME(map)
#define fmt_fault FMT_NAME(fault)
#define fmt_unmap FMT_NAME(unmap)
#define fmt_zap FMT_NAME(zap)
#define fmt_split FMT_NAME(split)
#define fmt_protect FMT_NAME(protect)
#define fmt_young FMT_NAME(young)
#define fmt_dirty FMT_NAME(dirty)
#define fmt_prepare FMT_NAME(prepare)
#define fmt_lookup FMT_NAME(lookup)
#define fmt_walk FMT_NAME(walk)
#define fmt_destroy FMT_NAME(destroy)
#define fmt_free_unlinked FMT_NAME(free_unlinked)
#define fmt_iter_start FMT_NAME(iter_start)
#define fmt_iter_next FMT_NAME(iter_next)
#define fmt_iter_restart FMT_NAME(iter_restart)
#define fmt_iter_entry FMT_NAME(iter_entry)
TDP_VARIANT_PROTOS(FMT_NAME);

#define FMT_ENTRIES ((uint64_t)1 << FMT_BITS)
#define NO_ADDR     UINT64_MAX

static inline unsigned int lvl_shift(unsigned int l)
{
	return FMT_PAGE_SHIFT + l * FMT_BITS;
}

static inline uint64_t lvl_size(unsigned int l)
{
	return (uint64_t)1 << lvl_shift(l);
}

static inline unsigned int top_level(const struct tdp_pgtable *p)
{
	return p->geo.levels - 1;
}

static inline uint64_t *entry_ptr(const struct tdp_pgtable *p, void *table, uint64_t addr,
				  unsigned int l)
{
	uint64_t idx = addr >> lvl_shift(l);

	/* The root may be wider than a table; addr < 2^ia bounds its index. */
	if (l != top_level(p))
		idx &= FMT_ENTRIES - 1;
	return (uint64_t *)table + idx;
}

#if FMT_CONT_BITS
#define CONT_ENTRIES ((uint64_t)1 << FMT_CONT_BITS)

static inline bool cont_on(const struct tdp_pgtable *p)
{
	return fmt_cont_enabled(p);
}
#else
#define CONT_ENTRIES ((uint64_t)1)

static inline bool cont_on(const struct tdp_pgtable *p)
{
	(void)p;
	return false;
}

static inline bool pte_is_cont(uint64_t pte, unsigned int l)
{
	(void)pte, (void)l;
	return false;
}

static inline uint64_t pte_mk_cont_leaf(uint64_t tmpl, uint64_t pa, unsigned int l)
{
	return pte_mk_leaf(tmpl, pa, l);
}
#endif
#define CONT_SIZE (CONT_ENTRIES << FMT_PAGE_SHIFT)

/* Output address of the page or block at addr that the leaf pte (level l) maps. */
static inline uint64_t leaf_pa_at(uint64_t pte, unsigned int l, uint64_t addr)
{
	uint64_t pa = pte_leaf_pa(pte, l);

	if (pte_is_cont(pte, l))
		pa += addr & (CONT_SIZE - 1) & ~(lvl_size(0) - 1);
	return pa;
}

/* The first entry of the level-0 group that holds the entry at ptep (for addr). */
static inline uint64_t *cont_first(uint64_t *ptep, uint64_t addr)
{
	return ptep - ((addr >> FMT_PAGE_SHIFT) & (CONT_ENTRIES - 1));
}

/* Tables come zeroed; a format whose empty entry is not 0 fills them. */
static void fill_invalid(const struct tdp_pgtable *p, void *table, uint64_t n)
{
	uint64_t v = fmt_invalid(p), *t = table;

	if (v)
		for (uint64_t i = 0; i < n; i++)
			t[i] = v;
}

/* The hardware sets accessed/dirty flags in this table's leaves. */
static inline bool ad_live(const struct tdp_pgtable *p)
{
#if FMT_HAS_AD
	return fmt_ad_enabled(p);
#else
	(void)p;
	return false;
#endif
}
#if !FMT_HAS_AD
#define FMT_AD_MASK 0ull
#endif

/* Shared mode (TDP_CFG_SHARED, shared_impl.h): other threads change entries too. */
static inline bool sh_on(const struct tdp_pgtable *p)
{
	return (p->cfg.flags & TDP_CFG_SHARED) != 0;
}

/* ------------------------------------------------------------------ */
/* Iterator                                                             */
/* ------------------------------------------------------------------ */

static inline void it_load(struct tdp_iter *it)
{
	it->ptep = entry_ptr(it->pgt, it->tables[it->level], it->addr, it->level);
	it->pte = pte_load(it->ptep);
}

static inline void it_start(struct tdp_iter *it, const struct tdp_pgtable *p, uint64_t start,
			    uint64_t end, unsigned int min_level)
{
	it->pgt = p;
	it->addr = start;
	it->end = end;
	it->level = top_level(p);
	it->min_level = min_level;
	it->tables[it->level] = p->root;
	it->post = false;
	it->valid = true;
	it_load(it);
}

/* it_next's `descend`: false (0), true (1): re-read the entry, or: */
#define IT_VISITED 2u /* enter the entry as it was visited (it->pte) */

/*
 * Advance. With `descend` true, the current entry is re-read and entered if
 * it is a table, so a caller that just installed a table walks into it.
 * Readers pass IT_VISITED instead: they go by the value they visited, so
 * that in shared mode a block split under them after its visit is not
 * entered and its pages seen twice, and a table replaced by a block after
 * its visit is still walked (it stays readable until the grace period
 * ends). When the iterator leaves a table it revisits the parent entry with
 * it->post set, which is where emptied tables get freed.
 */
static inline void it_next(struct tdp_iter *it, unsigned int descend)
{
	const struct tdp_pgtable *p = it->pgt;
	unsigned int l = it->level;
	uint64_t next;

	if (!it->post && descend && l > it->min_level) {
		uint64_t pte = descend == IT_VISITED ? it->pte : pte_load(it->ptep);

		if (pte_is_table(pte, l)) {
			it->tables[l - 1] = tdp_pa_to_va(p, pte_table_pa(pte));
			it->level = l - 1;
			it_load(it);
			return;
		}
	}
	it->post = false;
	next = (it->addr | (lvl_size(l) - 1)) + 1;
	if (next >= it->end || (l != top_level(p) && (next & (lvl_size(l + 1) - 1)) == 0)) {
		if (l == top_level(p)) {
			it->valid = false;
			return;
		}
		it->level = l + 1;
		it->post = true;
		it_load(it);
		return;
	}
	it->addr = next;
	it->ptep++;
	it->pte = pte_load(it->ptep);
}

static inline uint64_t it_base(const struct tdp_iter *it)
{
	return it->addr & ~(lvl_size(it->level) - 1);
}

/* The iterator is on a leaf above `target` (a block to split). */
static inline bool is_block(const struct tdp_iter *it, unsigned int target)
{
	return !it->post && it->level > target && pte_valid(it->pte) &&
	       !pte_is_table(it->pte, it->level);
}

/* ------------------------------------------------------------------ */
/* Invalidation batching and deferred table freeing                     */
/* ------------------------------------------------------------------ */

#define GATHER_TABLES 32

struct gather {
	uint64_t start, end;
	int level;   /* common level of changed leaves, TDP_LEVEL_ANY, or -2: none yet */
	bool tables; /* table entries were removed */
	bool shared; /* a shared-mode call: unlinked tables go to defer_free_table */
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

static inline void gather_init_mode(struct gather *g, bool shared)
{
	gather_init(g);
	g->shared = shared;
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
static inline bool entries_empty(const uint64_t *t, uint64_t n)
{
	uint64_t any = 0;

	/*
	 * Plain loads OR-ed together so the compiler can vectorise: validity
	 * bits are only ever set by the library itself (never by the hardware),
	 * so a torn or stale read cannot hide one.
	 */
	for (uint64_t i = 0; i < n; i++)
		any |= t[i];
	return !(any & FMT_VALID_MASK);
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

		/* level-0 and empty tables point to no child table (the common case: emptied ones) */
		if (idx[l] == 0 && (l == 0 || entries_empty(tbl[l], FMT_ENTRIES)))
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
		if (pte_valid(pte) && pte_is_table(pte, l)) {
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

	pte_store(ptep, fmt_invalid(p));
	gather_range(g, base, lvl_size(l), (int)l, table);
	if (table)
		gather_free_table(p, g, old, l, false);
}

/* clear_entry for a table entry whose table was just found empty. */
static void clear_empty_table(const struct tdp_pgtable *p, struct gather *g, uint64_t *ptep,
			      uint64_t old, uint64_t base, unsigned int l)
{
	pte_store(ptep, fmt_invalid(p));
	gather_range(g, base, lvl_size(l), (int)l, true);
	gather_free_table(p, g, old, l, true);
}

/*
 * Rewrite the group holding the level-0 entry at ptep (for addr) as ordinary
 * leaves, with the same translation (no break-before-make); the flush lets go
 * of the group's cached 64 KiB-style translations. The hart may record an
 * access to any page of a group in any of its entries, so the group's
 * accessed/dirty flags belong to each of its pages: every new leaf gets all
 * of them, or a written page would never be reported dirty. Where the
 * hardware sets those flags (or other threads write) entries are swapped,
 * not stored; and since a translation of the group cached until the flush
 * may still set a flag in a member already rewritten, flags that appeared
 * meanwhile are spread to every page once more after a flush.
 */
static void gather_flush(const struct tdp_pgtable *p, struct gather *g);

static void cont_break(const struct tdp_pgtable *p, struct gather *g, uint64_t *ptep,
		       uint64_t addr)
{
	uint64_t *first = cont_first(ptep, addr), base = addr & ~(CONT_SIZE - 1), ad = 0;
	const bool ad_on = ad_live(p), swap = ad_on || sh_on(p);

	if (ad_on)
		for (uint64_t i = 0; i < CONT_ENTRIES; i++)
			ad |= pte_load(first + i) & FMT_AD_MASK;
	for (uint64_t i = 0; i < CONT_ENTRIES; i++) {
		uint64_t pte = pte_load(first + i), a = base + i * lvl_size(0);

		while (pte_valid(pte) && pte_is_cont(pte, 0)) {
			uint64_t new = pte_mk_leaf(pte_leaf_tmpl(pte) | ad, leaf_pa_at(pte, 0, a), 0);

			if (!swap) {
				pte_store(first + i, new);
				break;
			}
			if (pte_cas(first + i, pte, new))
				break;
			pte = pte_load(first + i);
			ad |= ad_on ? pte & FMT_AD_MASK : 0;
		}
	}
	gather_range(g, base, CONT_SIZE, 0, false);
	if (!ad_on)
		return;
	gather_flush(p, g);
	ad = 0;
	for (uint64_t i = 0; i < CONT_ENTRIES; i++)
		ad |= pte_load(first + i) & FMT_AD_MASK;
	for (uint64_t i = 0; i < CONT_ENTRIES && ad; i++) {
		uint64_t pte = pte_load(first + i);

		while (pte_valid(pte) && !pte_is_cont(pte, 0) && (pte & ad) != ad &&
		       !pte_cas(first + i, pte, pte | ad))
			pte = pte_load(first + i);
	}
}

/* Empty the whole group holding the level-0 entry at ptep (for addr). */
static void cont_clear(const struct tdp_pgtable *p, struct gather *g, uint64_t *ptep,
		       uint64_t addr)
{
	uint64_t *first = cont_first(ptep, addr);

	for (uint64_t i = 0; i < CONT_ENTRIES; i++)
		pte_store(first + i, fmt_invalid(p));
	gather_range(g, addr & ~(CONT_SIZE - 1), CONT_SIZE, 0, false);
}

/* ------------------------------------------------------------------ */
/* Break-before-make batches                                            */
/* ------------------------------------------------------------------ */

/*
 * 16 entries of 40 bytes: one flush per 16 blocks replaced, and a batch small
 * enough for an EL2 stack (tests/freestanding checks every public call's).
 */
#define BBM_BATCH 16

/*
 * Replacements of valid entries by prebuilt values. Those that need
 * break-before-make are all emptied first, covered by one flush, and only
 * then written, so a batch costs one invalidation however many it holds.
 */
struct bbm_batch {
	unsigned int n;
	struct {
		uint64_t *ptep;
		uint64_t old, new, base;
		unsigned int level;
	} e[BBM_BATCH];
};

static void bbm_commit(const struct tdp_pgtable *p, struct bbm_batch *b, struct gather *g)
{
	bool any = false;

	for (unsigned int i = 0; i < b->n; i++) {
		if (pte_needs_bbm(b->e[i].old, b->e[i].new, b->e[i].level)) {
			pte_store(b->e[i].ptep, fmt_invalid(p));
			gather_range(g, b->e[i].base, lvl_size(b->e[i].level), (int)b->e[i].level,
				     pte_is_table(b->e[i].old, b->e[i].level));
			any = true;
		}
	}
	if (any)
		gather_flush(p, g);
	for (unsigned int i = 0; i < b->n; i++) {
		pte_store_release(b->e[i].ptep, b->e[i].new);
		/* changed in place: the operation's final flush covers it */
		if (!pte_needs_bbm(b->e[i].old, b->e[i].new, b->e[i].level))
			gather_range(g, b->e[i].base, lvl_size(b->e[i].level), (int)b->e[i].level,
				     pte_is_table(b->e[i].old, b->e[i].level));
		if (pte_is_table(b->e[i].old, b->e[i].level))
			gather_free_table(p, g, b->e[i].old, b->e[i].level, false);
	}
	b->n = 0;
}

static void bbm_add(const struct tdp_pgtable *p, struct bbm_batch *b, struct gather *g,
		    uint64_t *ptep, uint64_t old, uint64_t new, uint64_t base, unsigned int l)
{
	if (b->n == BBM_BATCH)
		bbm_commit(p, b, g);
	b->e[b->n].ptep = ptep;
	b->e[b->n].old = old;
	b->e[b->n].new = new;
	b->e[b->n].base = base;
	b->e[b->n].level = l;
	b->n++;
}

/* ------------------------------------------------------------------ */
/* Off-line block splitting                                             */
/* ------------------------------------------------------------------ */

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

/* Find the leaf holding `addr`; NULL if none. */
static uint64_t *find_leaf(const struct tdp_pgtable *p, uint64_t addr, unsigned int *level,
			   uint64_t *pte_out)
{
	void *t = p->root;

	for (unsigned int l = top_level(p);; l--) {
		uint64_t *ptep = entry_ptr(p, t, addr, l);
		uint64_t pte = pte_load(ptep);

		if (!pte_valid(pte))
			return NULL;
		if (!pte_is_table(pte, l)) {
			*level = l;
			*pte_out = pte;
			return ptep;
		}
		t = tdp_pa_to_va(p, pte_table_pa(pte));
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

/* Permission change of protect; NULL for operations that rewrite everything. */
struct prot_change {
	tdp_attr_t clear, set;
};

static inline uint64_t prot_apply(const struct tdp_pgtable *p, uint64_t pte, unsigned int l,
				  const struct prot_change *pc)
{
	return pte_with_prot(p, pte, (pte_attr(pte, l) & ~pc->clear) | pc->set);
}

/* The (at most two) blocks that straddle the edges of [lo, hi). */
struct edge_blocks {
	struct split_pred pr;
	unsigned int n;
	struct {
		uint64_t *ptep;
		uint64_t pte, base;
		unsigned int level;
	} b[2];
};

/*
 * Find the blocks that straddle s or e, read-only. With `pc`, a block whose
 * permissions the protect leaves unchanged is not reported: it stays whole.
 * Returns the pages splitting them takes.
 */
static uint64_t find_edge_blocks(const struct tdp_pgtable *p, uint64_t s, uint64_t e,
				 const struct prot_change *pc, struct edge_blocks *eb)
{
	uint64_t edge[2] = { s, e }, need = 0;

	eb->pr = (struct split_pred){ .lo = s, .hi = e, .edges = true };
	eb->n = 0;
	for (unsigned int i = 0; i < 2; i++) {
		unsigned int l;
		uint64_t pte, *ptep;

		if (edge[i] >> lvl_shift(top_level(p)) >> p->geo.root_bits)
			continue; /* e at the very end of the input range */
		ptep = find_leaf(p, edge[i], &l, &pte);
		if (!ptep || l == 0 || (edge[i] & (lvl_size(l) - 1)) == 0)
			continue;
		if (eb->n && eb->b[0].ptep == ptep)
			continue; /* both edges in one block: one split serves both */
		if (pc && prot_apply(p, pte, l, pc) == pte)
			continue;
		eb->b[eb->n].ptep = ptep;
		eb->b[eb->n].pte = pte;
		eb->b[eb->n].level = l;
		eb->b[eb->n].base = edge[i] & ~(lvl_size(l) - 1);
		need += split_pages(&eb->pr, eb->b[eb->n].base, l);
		eb->n++;
	}
	return need;
}

/* Replace the blocks found by tables whose entries do not cross the edges. */
static void split_edge_blocks(const struct tdp_pgtable *p, const struct edge_blocks *eb,
			      struct tdp_memcache *mc, struct gather *g)
{
	struct bbm_batch b;

	b.n = 0; /* not an initialiser: that would clear the whole batch */
	for (unsigned int i = 0; i < eb->n; i++)
		bbm_add(p, &b, g, eb->b[i].ptep, eb->b[i].pte,
			build_split(p, eb->b[i].pte, eb->b[i].level, eb->b[i].base, &eb->pr, mc),
			eb->b[i].base, eb->b[i].level);
	if (b.n)
		bbm_commit(p, &b, g);
}

/*
 * Rewrite as ordinary leaves the groups that straddle s or e, so that the
 * operation changes no group in part. With `pc`, a group the protect leaves
 * unchanged stays. Needs no memory; run after split_edge_blocks, whose new
 * tables hold no groups.
 */
static void break_edge_groups(const struct tdp_pgtable *p, uint64_t s, uint64_t e,
			      const struct prot_change *pc, struct gather *g)
{
	const uint64_t edge[2] = { s, e };

	if (!cont_on(p))
		return;
	for (unsigned int i = 0; i < 2; i++) {
		unsigned int l;
		uint64_t pte, *ptep;

		if ((edge[i] & (CONT_SIZE - 1)) == 0)
			continue;
		ptep = find_leaf(p, edge[i], &l, &pte);
		if (!ptep || !pte_is_cont(pte, l))
			continue;
		if (pc && prot_apply(p, pte, l, pc) == pte)
			continue;
		cont_break(p, g, ptep, edge[i]);
	}
}

/* ------------------------------------------------------------------ */
/* map                                                                  */
/* ------------------------------------------------------------------ */

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
	it->ptep = ptep + i - 1;
	it->addr = base + (i - 1) * sz;
	it->pte = pte_load(it->ptep);
	return i;
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
				pte_store(it.ptep, new);
				gather_range(g, base, sz, (int)l, false);
			}
			continue;
		}
		if (!pte_valid(old)) {
			void *t = mc_pop(mc);

			fill_invalid(p, t, FMT_ENTRIES);
			pte_store_release(it.ptep, pte_mk_table(p, tdp_va_to_pa(p, t)));
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

/* Index of addr's entry in a non-root table of level l. */
static inline uint64_t tbl_idx(uint64_t addr, unsigned int l)
{
	return (addr >> lvl_shift(l)) & (FMT_ENTRIES - 1);
}

/*
 * Walk from the root towards the entry of level `stop` for addr, through
 * tables only, recording addr's entry on each level passed in path[].
 * Returns the level it stopped at: `stop`, or a higher level whose entry is
 * empty or a leaf. Nothing is written: the per-call fast paths below start
 * with it, so it is kept to a load, a test and an index per level.
 */
static inline unsigned int walk_path(const struct tdp_pgtable *p, uint64_t addr, unsigned int stop,
				     uint64_t **path)
{
	void *(*p2v)(void *, uint64_t) = p->cfg.mm->phys_to_virt;
	const uintptr_t off = p->cfg.linear_offset;
	unsigned int m = top_level(p);
	uint64_t *ptep = (uint64_t *)p->root + (addr >> lvl_shift(m)); /* addr < 2^ia: no mask */

	for (;; m--) {
		uint64_t pte = pte_load(ptep), pa;
		uint64_t *t;

		path[m] = ptep;
		if (m == stop || !pte_is_table(pte, m))
			return m;
		pa = pte_table_pa(pte);
		t = p2v ? p2v(p->cfg.mm_ctx, pa) : (uint64_t *)(uintptr_t)(pa + off);
		ptep = t + tbl_idx(addr, m - 1);
	}
}

/*
 * walk_path without the path, the loop every fault runs: from the root
 * through tables towards level `stop`. Returns the level it stopped at,
 * with that entry's address in *ptepp and its value in *ptev.
 */
static inline __attribute__((always_inline)) unsigned int
walk_down(const struct tdp_pgtable *p, uint64_t addr, unsigned int stop, uint64_t **ptepp,
	  uint64_t *ptev)
{
	void *(*p2v)(void *, uint64_t) = p->cfg.mm->phys_to_virt;
	const uintptr_t off = p->cfg.linear_offset;
	unsigned int m = top_level(p);
	uint64_t *ptep = (uint64_t *)p->root + (addr >> lvl_shift(m)), pte = pte_load(ptep);

	while (m > stop && pte_is_table(pte, m)) {
		uint64_t pa = pte_table_pa(pte);
		uint64_t *t = p2v ? p2v(p->cfg.mm_ctx, pa) : (uint64_t *)(uintptr_t)(pa + off);

		m--;
		ptep = t + tbl_idx(addr, m);
		pte = pte_load(ptep);
	}
	*ptepp = ptep;
	*ptev = pte;
	return m;
}

/*
 * The end of a one-leaf map: *ptep is the empty entry of level m on gpa's
 * path. Link fresh tables from the cache (which holds m - l pages) down to
 * level l, write the leaf there, and report what the general path's gather
 * would: the highest new entry, when the format invalidates on install.
 */
static inline __attribute__((always_inline)) void
install_leaf(const struct tdp_pgtable *p, uint64_t *ptep, unsigned int m, unsigned int l,
	     uint64_t gpa, uint64_t leaf, struct tdp_memcache *mc)
{
	const unsigned int linked = m > l ? m : 0;

	for (; m > l; m--) {
		uint64_t *n = mc_pop(mc);

		fill_invalid(p, n, FMT_ENTRIES);
		pte_store_release(ptep, pte_mk_table(p, tdp_va_to_pa(p, n)));
		ptep = n + tbl_idx(gpa, m - 1);
	}
	pte_store(ptep, leaf);
	if (fmt_flush_on_install(p)) {
		unsigned int hi = linked ? linked : l;

		p->cfg.tlb->flush_range(p->cfg.tlb_ctx, gpa & ~(lvl_size(hi) - 1), lvl_size(hi),
					linked ? TDP_LEVEL_ANY : (int)l, false);
	}
}

#include "core/shared_impl.h"

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
		if (m != l || pte != fmt_invalid(p) || !pte_cas(ptep, pte, new))
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
	install_leaf(p, ptep, m, l, gpa, new, mc);
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
		gather_init_mode(&g, true);
		ret = map_pass_shared(p, &pl, flags & TDP_MAP_NOREPLACE, mc, &g);
		gather_flush(p, &g);
		tdp__mc_finish(p, mc_in, &local);
		return ret;
	}
	if (!mc_in && one >= 0 && map_one(p, gpa, hpa, (unsigned int)one, tmpl, flags, mc)) {
		tdp__mc_finish(p, mc_in, &local);
		return 0;
	}
	gather_init_mode(&g, false);
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
		return -TDP_EINVAL;
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
		return -TDP_EINVAL;
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
		return -TDP_ENOMEM;
	base = fa & ~(lvl_size(l) - 1);
	install_leaf(p, ptep, m, l, base, pte_mk_leaf(tmpl, base + delta, l), mc);
	res->gpa = base;
	res->size = lvl_size(l);
	res->level = l;
	return 0;
}

/* ------------------------------------------------------------------ */
/* unmap and zap                                                        */
/* ------------------------------------------------------------------ */

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
unmap_one(const struct tdp_pgtable *p, uint64_t gpa, uint64_t size)
{
	uint64_t *path[TDP_MAX_LEVELS], pte;
	unsigned int m = walk_path(p, gpa, 0, path), k, top = top_level(p);

	pte = pte_load(path[m]);
	if (!pte_valid(pte) || lvl_size(m) != size || (gpa & (size - 1)) || pte_is_cont(pte, m))
		return false;
	pte_store(path[m], fmt_invalid(p));
	for (k = m; k < top && table_empty(path[k] - tbl_idx(gpa, k), tbl_idx(gpa, k)); k++)
		pte_store(path[k + 1], fmt_invalid(p));
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

TDP_INTERNAL int fmt_unmap(struct tdp_pgtable *p, uint64_t gpa, uint64_t size,
		     struct tdp_memcache *mc_in)
{
	struct tdp_memcache local, *mc;
	struct tdp_zap_result res;
	struct edge_blocks eb;
	struct gather g;
	int ret;

	if (unmap_one(p, gpa, size))
		return 0;
	ret = tdp__mc_prepare(p, mc_in, find_edge_blocks(p, gpa, gpa + size, NULL, &eb), &local,
			      &mc);
	if (ret)
		return ret;
	gather_init_mode(&g, false);
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

	gather_init_mode(&g, false);
	ret = clear_range(p, gpa, gpa + size, budget, &g, res);
	gather_flush(p, &g);
	return ret;
}

/* ------------------------------------------------------------------ */
/* split and protect                                                    */
/* ------------------------------------------------------------------ */

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
		gather_init_mode(&g, true);
		ret = split_shared(p, &pr, mc, &g);
		gather_flush(p, &g);
		tdp__mc_finish(p, mc_in, &local);
		return ret;
	}
	gather_init_mode(&g, false);
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

TDP_INTERNAL int fmt_protect(struct tdp_pgtable *p, uint64_t gpa, uint64_t size, tdp_attr_t clear,
		       tdp_attr_t set, struct tdp_memcache *mc_in)
{
	const struct prot_change pc = { .clear = clear, .set = set };
	struct tdp_memcache local, *mc;
	struct edge_blocks eb;
	struct tdp_iter it;
	struct gather g;
	bool descend = true;
	int ret;

	ret = tdp__mc_prepare(p, mc_in, find_edge_blocks(p, gpa, gpa + size, &pc, &eb), &local,
			      &mc);
	if (ret)
		return ret;
	if (sh_on(p)) {
		gather_init_mode(&g, true);
		ret = protect_shared(p, gpa, gpa + size, &pc, mc, &g);
		gather_flush(p, &g);
		tdp__mc_finish(p, mc_in, &local);
		return ret;
	}
	gather_init_mode(&g, false);
	split_edge_blocks(p, &eb, mc, &g);
	break_edge_groups(p, gpa, gpa + size, &pc, &g);
	for (it_start(&it, p, gpa, gpa + size, 0); it.valid; it_next(&it, descend)) {
		unsigned int l = it.level;
		uint64_t new;

		descend = true;
		if (it.post || !pte_valid(it.pte) || pte_is_table(it.pte, l))
			continue;
		descend = false;
		new = prot_apply(p, it.pte, l, &pc);
		if (new != it.pte) {
			/* with hardware A/D in use a store could drop a flag set since the load */
			while (ad_live(p) && !pte_cas(it.ptep, it.pte, new)) {
				it.pte = pte_load(it.ptep);
				new = prot_apply(p, it.pte, l, &pc);
			}
			if (!ad_live(p))
				pte_store(it.ptep, new);
			gather_range(&g, it_base(&it), lvl_size(l), (int)l, false);
		}
	}
	gather_flush(p, &g);
	tdp__mc_finish(p, mc_in, &local);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Accessed/dirty harvesting                                            */
/* ------------------------------------------------------------------ */

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
		return -TDP_EOPNOTSUPP;
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
				if (pte_cas(first + i, pte, pte_mkold(pte))) {
					any = true;
					break;
				}
				pte = pte_load(first + i);
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
		return -TDP_EOPNOTSUPP;
	gather_init_mode(&g, sh_on(p));
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
				       !pte_cas(first + i, pte, pte_mkclean(pte)))
					pte = pte_load(first + i);
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
	(void)p, (void)gpa, (void)size, (void)young;
	return -TDP_EOPNOTSUPP;
}

TDP_INTERNAL int fmt_dirty(struct tdp_pgtable *p, uint64_t gpa, uint64_t size, uint64_t *bitmap)
{
	(void)p, (void)gpa, (void)size, (void)bitmap;
	return -TDP_EOPNOTSUPP;
}
#endif

TDP_INTERNAL void fmt_prepare(struct tdp_pgtable *p)
{
	fill_invalid(p, p->root, (uint64_t)1 << p->geo.root_bits);
	p->prot_ok = 0;
	for (tdp_attr_t a = 0; a <= TDP_PROT_MASK; a++) {
		bool ok = fmt_attr_ok(p, a);

		p->prot_ok |= (uint32_t)ok << a;
		p->prot_tmpl[a] = ok ? fmt_attr_tmpl(p, a) : 0;
	}
}

/* ------------------------------------------------------------------ */
/* lookup, walk, iterator entry points, destroy                         */
/* ------------------------------------------------------------------ */

TDP_INTERNAL int fmt_lookup(const struct tdp_pgtable *p, uint64_t gpa, struct tdp_lookup_result *res)
{
	unsigned int l;
	uint64_t pte;

	if (!find_leaf(p, gpa, &l, &pte))
		return -TDP_ENOENT;
	res->level = l;
	res->size = pte_is_cont(pte, l) ? CONT_SIZE : lvl_size(l);
	res->hpa = leaf_pa_at(pte, l, gpa) + (gpa & (lvl_size(l) - 1));
	res->attr = pte_attr(pte, l);
	res->pte = pte;
	return 0;
}

static void decode_entry(const struct tdp_pgtable *p, uint64_t addr, uint64_t pte,
			 unsigned int l, struct tdp_entry *e)
{
	e->addr = addr & ~(lvl_size(l) - 1);
	e->size = lvl_size(l);
	e->level = l;
	e->pte = pte;
	e->valid = pte_valid(pte);
	e->table = e->valid && pte_is_table(pte, l);
	e->pa = !e->valid ? 0 : e->table ? pte_table_pa(pte) : leaf_pa_at(pte, l, addr);
	e->attr = e->valid && !e->table ? pte_attr(pte, l) : 0;
	e->accessed = e->dirty = false;
#if FMT_HAS_AD
	if (e->valid && !e->table && fmt_ad_enabled(p)) {
		e->accessed = pte_young(pte);
		e->dirty = pte_dirty(pte);
	}
#endif
}

TDP_INTERNAL int fmt_walk(const struct tdp_pgtable *p, uint64_t gpa, uint64_t size, unsigned int visits,
		    tdp_walk_fn fn, void *arg)
{
	struct tdp_iter it;

	for (it_start(&it, p, gpa, gpa + size, 0); it.valid; it_next(&it, IT_VISITED)) {
		unsigned int visit;
		struct tdp_entry e;
		int ret;

		if (!pte_valid(it.pte))
			visit = it.post ? 0 : TDP_WALK_INVALID;
		else if (pte_is_table(it.pte, it.level))
			visit = it.post ? TDP_WALK_TABLE_POST : TDP_WALK_TABLE_PRE;
		else
			visit = it.post ? 0 : TDP_WALK_LEAF;
		if (!(visit & visits))
			continue;
		decode_entry(p, it.addr, it.pte, it.level, &e);
		ret = fn(&e, visit, arg);
		if (ret)
			return ret;
	}
	return 0;
}

TDP_INTERNAL void fmt_iter_start(struct tdp_iter *it, const struct tdp_pgtable *p, uint64_t start,
			   uint64_t end, unsigned int min_level)
{
	it_start(it, p, start, end, min_level);
}

/*
 * Walk again from the root to the entry the iterator is on (or, if a table on
 * the way is gone, to the entry that now covers its address), re-reading
 * every entry, so next() continues from there.
 */
TDP_INTERNAL void fmt_iter_restart(struct tdp_iter *it)
{
	unsigned int target = it->level;

	it_start(it, it->pgt, it->addr, it->end, it->min_level);
	while (it->level > target && pte_is_table(it->pte, it->level))
		it_next(it, IT_VISITED);
}

TDP_INTERNAL void fmt_iter_next(struct tdp_iter *it)
{
	do
		it_next(it, IT_VISITED);
	while (it->valid && it->post);
}

TDP_INTERNAL void fmt_iter_entry(const struct tdp_iter *it, struct tdp_entry *e)
{
	decode_entry(it->pgt, it->addr, it->pte, it->level, e);
}

TDP_INTERNAL void fmt_destroy(struct tdp_pgtable *p)
{
	uint64_t n = (uint64_t)1 << p->geo.root_bits;
	uint64_t *root = p->root;
	unsigned int top = top_level(p);

	p->cfg.tlb->flush_all(p->cfg.tlb_ctx);
	for (uint64_t i = 0; i < n; i++)
		if (pte_valid(root[i]) && pte_is_table(root[i], top))
			free_subtree(p, tdp_pa_to_va(p, pte_table_pa(root[i])), top - 1, NULL);
	p->cfg.mm->free_table(p->cfg.mm_ctx, p->root, p->geo.root_size);
}

TDP_INTERNAL void fmt_free_unlinked(const struct tdp_pgtable *p, void *table, unsigned int level)
{
	free_subtree(p, table, level, NULL);
}

TDP_INTERNAL bool FMT_NAME(prot_change_ok)(const struct tdp_pgtable *p, tdp_attr_t clear,
					  tdp_attr_t set)
{
	return fmt_prot_change_ok(p, clear, set);
}

TDP_INTERNAL const struct tdp_fmt_ops FMT_OPS = {
	.map = fmt_map,
	.fault = fmt_fault,
	.unmap = fmt_unmap,
	.zap = fmt_zap,
	.split = fmt_split,
	.protect = fmt_protect,
	.young = fmt_young,
	.dirty = fmt_dirty,
	.prepare = fmt_prepare,
	.lookup = fmt_lookup,
	.walk = fmt_walk,
	.destroy = fmt_destroy,
	.free_unlinked = fmt_free_unlinked,
	.iter_start = fmt_iter_start,
	.iter_next = fmt_iter_next,
	.iter_restart = fmt_iter_restart,
	.iter_entry = fmt_iter_entry,
	.prot_change_ok = FMT_NAME(prot_change_ok),
};
