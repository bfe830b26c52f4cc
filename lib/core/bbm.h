/* SPDX-License-Identifier: MIT */
/*
 * Break-before-make, batched: replacements collected, emptied, covered
 * by one flush, then written.
 */

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
struct bbm_entry {
	uint64_t *ptep;
	uint64_t old, new, base;
	unsigned int level;
};

struct bbm_batch {
	unsigned int n;
	struct bbm_entry e[BBM_BATCH];
};

/*
 * Every replacement is a block becoming the table that build_split made of
 * it (the same translation: reported as a reshape). The block is swapped
 * out where the hardware sets A/D flags, and flags it gained since it was
 * read go into the new leaves (split_take_ad), so none is lost.
 */
static void split_take_ad(const struct tdp_pgtable *p, uint64_t table_pte, unsigned int l,
			  uint64_t read, uint64_t replaced);

/* Commit n replacements (edge splits pass their own two-entry array: a smaller frame). */
static void bbm_commit_n(const struct tdp_pgtable *p, struct bbm_entry *e, unsigned int n,
			 struct gather *g)
{
	bool any = false;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t old = e[i].old;

		if (pte_needs_bbm(old, e[i].new, e[i].level)) {
			pte_write(p, g->op, e[i].ptep, &old, fmt_invalid(p), e[i].base,
				  e[i].level, w_leaf(p) | W_QUIET);
			split_take_ad(p, e[i].new, e[i].level, e[i].old, old);
			e[i].old = old;
			gather_range(g, e[i].base, lvl_size(e[i].level), (int)e[i].level,
				     false);
			any = true;
		}
	}
	if (any)
		gather_flush(p, g);
	for (unsigned int i = 0; i < n; i++) {
		const uint64_t read = e[i].old;
		const bool bbm = pte_needs_bbm(read, e[i].new, e[i].level);

		/* after break-before-make the entry is empty: nothing can change it */
		pte_write(p, g->op, e[i].ptep, &e[i].old, e[i].new, e[i].base,
			  e[i].level, (bbm || !ad_live(p) ? W_RELEASE : W_XCHG) | W_RESHAPE);
		if (!bbm) {
			split_take_ad(p, e[i].new, e[i].level, read, e[i].old);
			/* changed in place: the operation's final flush covers it */
			gather_range(g, e[i].base, lvl_size(e[i].level), (int)e[i].level,
				     false);
		}
	}
}

static void bbm_commit(const struct tdp_pgtable *p, struct bbm_batch *b, struct gather *g)
{
	bbm_commit_n(p, b->e, b->n, g);
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
