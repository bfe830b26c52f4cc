/* SPDX-License-Identifier: MIT */
/*
 * The edges of an operation's range: blocks and groups straddling them
 * are split or broken up before the operation, so it changes whole
 * entries only.
 */

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
	struct bbm_entry b[2];

	for (unsigned int i = 0; i < eb->n; i++) {
		b[i].ptep = eb->b[i].ptep;
		b[i].old = eb->b[i].pte;
		b[i].new = build_split(p, eb->b[i].pte, eb->b[i].level, eb->b[i].base, &eb->pr, mc);
		b[i].base = eb->b[i].base;
		b[i].level = eb->b[i].level;
	}
	if (eb->n)
		bbm_commit_n(p, b, eb->n, g);
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
