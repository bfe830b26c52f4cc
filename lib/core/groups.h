/* SPDX-License-Identifier: MIT */
/*
 * Contiguous groups (RISC-V Svnapot): broken up into ordinary leaves, or
 * removed whole, so that the entries of a group always agree.
 */

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

			/* the same translation: a rewrite, not a change to report */
			if (pte_write(p, g->op, first + i, &pte, new, a, 0,
				      (swap ? W_SWAP : W_STORE) | W_QUIET))
				break;
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
		       !pte_write(p, g->op, first + i, &pte, pte | ad, base + i * lvl_size(0), 0,
				  W_SWAP | W_QUIET))
			;
	}
}

/* Empty the whole group holding the level-0 entry at ptep (for addr). */
static void cont_clear(const struct tdp_pgtable *p, struct gather *g, uint64_t *ptep,
		       uint64_t addr)
{
	uint64_t *first = cont_first(ptep, addr), base = addr & ~(CONT_SIZE - 1);

	for (uint64_t i = 0; i < CONT_ENTRIES; i++) {
		uint64_t old = pte_load(first + i);

		pte_write(p, g->op, first + i, &old, fmt_invalid(p), base + i * lvl_size(0), 0,
			  w_leaf(p));
	}
	gather_range(g, base, CONT_SIZE, 0, false);
}
