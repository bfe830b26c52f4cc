/* SPDX-License-Identifier: MIT */
/*
 * The one write primitive. Every change of an entry of a live table (a leaf
 * written, replaced, changed or cleared, a table linked or unlinked, a busy
 * value set) goes through pte_write, which sees the old value, the new
 * value, the level and the address. Hanging off it: the caller's change
 * reports (tdp/changes.h) and, in a build with TDP_TEST_HOOKS, a hook that
 * lets a test play the hardware between the library's load of an entry and
 * its write. Entries written into a table before it is linked (a new
 * table's empty values, a split's subtree) are not changes of the live
 * table; the leaves of such a subtree are reported when it is linked. The
 * one other writer is map's run of leaves into empty entries (map_run),
 * kept a tight loop of stores for speed and reported after it (note_run):
 * the hardware sets no flag in an empty entry, so there is nothing to race.
 */

/* How pte_write writes (one of the first four, plus flags). */
#define W_STORE   0u /* plain store: nobody else writes the entry (exclusive mode; no hardware
			A/D flags in it, or an empty or table entry) */
#define W_RELEASE 1u /* store-release: publishes a table (or a value) filled before */
#define W_SWAP    2u /* compare-and-swap against *old: false if the entry no longer holds it */
#define W_XCHG    3u /* replace whatever is there; *old becomes the value replaced, with any
			A/D flag the hardware set since the load */
#define W_KIND    3u
#define W_RESHAPE 4u /* report the change as keeping the translation (a split) */
#define W_QUIET   8u /* not reported: an intermediate step (break-before-make's empty or busy
			value, A/D harvesting), or a table known to be empty */
#define W_NOSUB  16u /* a block replaced by a table: report the block only; the caller reports
			the table's leaves (shared mode, where other threads may already be
			changing them: see report_split) */

#ifdef TDP_TEST_HOOKS
/*
 * Defined by the test program of a TDP_TEST_HOOKS build: called just before
 * the library writes `new` over the entry at ptep, where it read `old`, so
 * the test can set accessed/dirty flags there the way the hardware would.
 */
void tdp__test_before_write(const struct tdp_pgtable *p, uint64_t *ptep, uint64_t old,
			    uint64_t new, unsigned int level);
#define TEST_BEFORE_WRITE(p, ptep, old, new, l) tdp__test_before_write(p, ptep, old, new, l)
#else
#define TEST_BEFORE_WRITE(p, ptep, old, new, l) ((void)0)
#endif

/* Decode the entry pte of level l that covers addr, as the API presents it. */
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

static inline bool pte_is_leaf(uint64_t pte, unsigned int l)
{
	return pte_valid(pte) && !pte_is_table(pte, l);
}

/* Report one leaf change: old and new are leaves or not (0 when absent). */
static void emit_change(const struct tdp_pgtable *p, unsigned int op, uint64_t old, uint64_t new,
			uint64_t addr, unsigned int l, bool reshape)
{
	struct tdp_change c;
	const bool was = pte_is_leaf(old, l), is = pte_is_leaf(new, l);

	c.op = (enum tdp_op)op;
	c.kind = was && is ? TDP_CHANGE_UPDATE : was ? TDP_CHANGE_REMOVE : TDP_CHANGE_ADD;
	c.reshape = reshape;
	decode_entry(p, addr, was ? old : fmt_invalid(p), l, &c.old);
	decode_entry(p, addr, is ? new : fmt_invalid(p), l, &c.new);
	p->cfg.changes->leaf_changed(p->cfg.changes_ctx, &c);
}

static inline bool pte_write(const struct tdp_pgtable *p, unsigned int op, uint64_t *ptep,
			     uint64_t *oldp, uint64_t new, uint64_t addr, unsigned int l,
			     unsigned int how);

/* report_subtree's modes */
#define SUB_ADD    1u /* a subtree just linked: its leaves appeared (a split) */
#define SUB_REMOVE 2u /* a subtree unlinked: its leaves went */
#define SUB_FREEZE 4u /* and swap each leaf out (and, in shared mode, each empty entry to busy) */

/*
 * Report every leaf of the subtree whose entries sit at `level`, covering
 * from `base`. SUB_FREEZE empties the leaves by swaps first, so the flags
 * reported are the last the hardware set; in shared mode it also marks every
 * empty or busy entry frozen (frozen_val), so no other thread can link a leaf
 * into a table that is gone (its call meets a busy value and starts again
 * from the root, or its completing swap fails). No
 * recursion: an explicit path, as in free_subtree.
 */
static void report_subtree(const struct tdp_pgtable *p, unsigned int op, void *table,
			   unsigned int level, uint64_t base, unsigned int how, bool reshape)
{
	uint64_t *tbl[TDP_MAX_LEVELS], idx[TDP_MAX_LEVELS], tbase[TDP_MAX_LEVELS];
	/* claim: other threads may be changing the subtree too (shared mode) */
	const bool freeze = how & SUB_FREEZE, claim = freeze && sh_on(p);
	const uint64_t frozen = sh_on(p) ? frozen_val(p) : fmt_invalid(p);
	unsigned int l = level;

	tbl[l] = table;
	idx[l] = 0;
	tbase[l] = base;
	for (;;) {
		uint64_t *ptep, pte, a;

		if (idx[l] == FMT_ENTRIES) {
			if (l == level)
				return;
			l++;
			continue;
		}
		ptep = tbl[l] + idx[l];
		a = tbase[l] + idx[l]++ * lvl_size(l);
		pte = pte_load(ptep);
		if (pte_valid(pte) && pte_is_table(pte, l)) {
			/*
			 * Claimed before going in, so that no other thread replaces it
			 * (by a block it would report, never to be removed) meanwhile;
			 * the address stays for free_subtree.
			 */
			if (claim && !pte_write(p, op, ptep, &pte, frozen_table(p, pte), a, l,
						W_SWAP | W_QUIET)) {
				idx[l]--; /* it changed: look again */
				continue;
			}
			l--;
			tbl[l] = tdp_pa_to_va(p, pte_table_pa(pte));
			idx[l] = 0;
			tbase[l] = a;
			continue;
		}
		if (pte_frozen(pte))
			continue;
		if (!pte_valid(pte)) {
			/*
			 * An entry another thread holds busy is frozen too: its owner's
			 * completing swap fails and it reports the entry's removal itself
			 * (sh_swap).
			 */
			if (claim && !pte_write(p, op, ptep, &pte, frozen, a, l, W_SWAP | W_QUIET))
				idx[l]--; /* something appeared, or its owner completed it: look again */
			continue;
		}
		/*
		 * A leaf: in shared mode swapped against the value read (another
		 * thread may have made it a table meanwhile: look again); in
		 * exclusive mode only the hardware changes it (flags): exchanged.
		 */
		if (claim && !pte_write(p, op, ptep, &pte, frozen, a, l, W_SWAP | W_QUIET)) {
			idx[l]--;
			continue;
		}
		if (freeze && !claim)
			pte_write(p, op, ptep, &pte, frozen, a, l, W_XCHG | W_QUIET);
		if (pte_is_leaf(pte, l))
			emit_change(p, op, how & SUB_ADD ? 0 : pte, how & SUB_ADD ? pte : 0, a, l,
				    reshape);
	}
}

/*
 * The reports for one write (changes configured). A table replaced takes
 * its leaves with it: they are reported removed first (frozen where the
 * hardware or other threads could still change them); a block replaced by
 * a table gives the table's leaves, reported as added.
 */
static __attribute__((noinline)) void note_change(const struct tdp_pgtable *p, unsigned int op,
						  uint64_t old, uint64_t new, uint64_t addr,
						  unsigned int l, unsigned int how)
{
	const uint64_t base = addr & ~(lvl_size(l) - 1);

	if (pte_valid(old) && pte_is_table(old, l))
		report_subtree(p, op, tdp_pa_to_va(p, pte_table_pa(old)), l - 1, base,
			       SUB_REMOVE | (sh_on(p) || ad_live(p) ? SUB_FREEZE : 0), false);
	if (pte_is_leaf(old, l) || pte_is_leaf(new, l))
		emit_change(p, op, old, new, addr, l, how & W_RESHAPE);
	if (pte_is_leaf(old, l) && pte_valid(new) && pte_is_table(new, l) && !(how & W_NOSUB))
		report_subtree(p, op, tdp_pa_to_va(p, pte_table_pa(new)), l - 1, base, SUB_ADD,
			       how & W_RESHAPE);
}

/*
 * Change the entry at ptep (level l, covering addr) from *oldp, the value
 * the caller read (or decided it replaces), to new, as `how` says; report
 * the change unless W_QUIET. Returns false only for a W_SWAP that found
 * another value, which is then in *oldp and nothing was written.
 */
static inline __attribute__((always_inline)) bool
pte_write(const struct tdp_pgtable *p, unsigned int op, uint64_t *ptep, uint64_t *oldp,
	  uint64_t new, uint64_t addr, unsigned int l, unsigned int how)
{
	uint64_t old = *oldp;

	TEST_BEFORE_WRITE(p, ptep, old, new, l);
	switch (how & W_KIND) {
	case W_STORE:
		pte_store(ptep, new);
		break;
	case W_RELEASE:
		pte_store_release(ptep, new);
		break;
	case W_SWAP:
		if (!pte_cas(ptep, old, new)) {
			*oldp = pte_load(ptep);
			return false;
		}
		break;
	default:
		while (!pte_cas(ptep, old, new))
			old = pte_load(ptep);
		*oldp = old;
		break;
	}
	if (__builtin_expect(p->cfg.changes != NULL, 0) && !(how & W_QUIET))
		note_change(p, op, old, new, addr, l, how);
	return true;
}

/* W_XCHG where the hardware may have set flags in a leaf since it was read, else W_STORE. */
static inline unsigned int w_leaf(const struct tdp_pgtable *p)
{
	return ad_live(p) ? W_XCHG : W_STORE;
}

/*
 * Several leaves written into empty entries in a row (map's runs): the
 * stores stay a tight loop, and only with changes configured is each
 * reported, afterwards.
 */
static __attribute__((noinline, cold)) void note_run_cold(const struct tdp_pgtable *p,
							   unsigned int op, const uint64_t *ptep,
							   uint64_t base, uint64_t n, unsigned int l)
{
	for (uint64_t i = 0; i < n; i++)
		emit_change(p, op, 0, ptep[i], base + i * lvl_size(l), l, false);
}

static inline void note_run(const struct tdp_pgtable *p, unsigned int op, const uint64_t *ptep,
			    uint64_t base, uint64_t n, unsigned int l)
{
	if (__builtin_expect(p->cfg.changes != NULL, 0))
		note_run_cold(p, op, ptep, base, n, l);
}

/*
 * The per-call paths (one-leaf map, fault, one-leaf unmap) are compiled
 * twice: a plain copy for tables without change callbacks, in which the
 * report can be seen to be dead (W_QUIET), and a reporting copy out of line.
 * A report call in the plain copy would cost it registers saved on every
 * call even where it is never taken.
 */
static inline bool reports_on(const struct tdp_pgtable *p)
{
	return __builtin_expect(p->cfg.changes != NULL, 0);
}
