/* SPDX-License-Identifier: MIT */
/*
 * A table's beginning and end: the root's empty value and the attribute
 * templates (prepare), destroy, and freeing tables unlinked in shared
 * mode.
 */

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

TDP_INTERNAL void fmt_destroy(struct tdp_pgtable *p)
{
	uint64_t n = (uint64_t)1 << p->geo.root_bits;
	uint64_t *root = p->root;
	unsigned int top = top_level(p);

	p->cfg.tlb->flush_all(p->cfg.tlb_ctx);
	for (uint64_t i = 0; i < n; i++) {
		const uint64_t pte = root[i], base = i << lvl_shift(top);

		/* read after the flush: the flags are the last the hardware set */
		if (p->cfg.changes && pte_valid(pte))
			note_change(p, TDP_OP_DESTROY, pte, fmt_invalid(p), base, top, 0);
		if (pte_valid(pte) && pte_is_table(pte, top))
			free_subtree(p, tdp_pa_to_va(p, pte_table_pa(pte)), top - 1, NULL);
	}
	p->cfg.mm->free_table(p->cfg.mm_ctx, p->root, p->geo.root_size);
}

TDP_INTERNAL void fmt_free_unlinked(const struct tdp_pgtable *p, void *table, unsigned int level)
{
	free_subtree(p, table, level, NULL);
}
