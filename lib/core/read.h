/* SPDX-License-Identifier: MIT */
/*
 * Read-only entry points: lookup, the visitor walk and the public
 * iterator.
 */

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
