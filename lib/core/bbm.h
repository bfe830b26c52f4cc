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
