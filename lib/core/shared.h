/* SPDX-License-Identifier: MIT */
/*
 * Shared mode (TDP_CFG_SHARED): the entry swap behind every change a
 * shared-mode call makes to a live entry. The shared twins of the
 * operations live with their exclusive versions (map.h, split.h, ...).
 *
 * Rules every shared-mode path keeps:
 * - An entry changes only by a compare-and-swap against the value this
 *   thread read; a lost swap means "look at the entry again", never "write
 *   anyway".
 * - A table is complete before the swap that links it (the swap is a full
 *   barrier, and walkers load entries with acquire); a table built for a swap
 *   that was lost goes back to the call's cache, never seen by anyone.
 * - A change the hardware must not see half-done (break-before-make) first
 *   swaps in the busy value; only the thread that did so finishes the entry,
 *   with a release store. Every other call gives up with -TDP_EAGAIN when it
 *   meets a busy entry instead of waiting: the holder may be waiting in its
 *   flush for this very CPU (an IPI with interrupts off).
 * - Tables unlinked here go to defer_free_table (gather.shared), never to
 *   free_table: other threads may still be walking them.
 */

/*
 * Swap the entry at ptep (level l, covering base) from old, the value read,
 * to new. Where the format needs break-before-make the entry goes busy, the
 * old translation is flushed at once and only then is new stored; otherwise
 * the flush joins the gather. A table replaced goes to the deferred free
 * once flushed. Returns false, having changed nothing, if old is no longer
 * there, and also when a break-before-make found the entry frozen after
 * its flush (the table holding it went away; the old entry's removal has
 * been reported, new was not written).
 */
static bool sh_swap(const struct tdp_pgtable *p, struct gather *g, uint64_t *ptep, uint64_t old,
		    uint64_t new, uint64_t base, unsigned int l, unsigned int reshape)
{
	const bool live = pte_valid(old), table = live && pte_is_table(old, l);
	uint64_t cur = old;
	bool done;

	if (live && pte_needs_bbm(old, new, l)) {
		if (!pte_write(p, g->op, ptep, &cur, busy_val(p), base, l, W_SWAP | W_QUIET))
			return false;
		p->cfg.tlb->flush_range(p->cfg.tlb_ctx, base, lvl_size(l),
					table ? TDP_LEVEL_ANY : (int)l, table);
		/*
		 * busy: only this thread completes the entry, by a swap from the
		 * busy value, reported old -> new as one change. The swap fails
		 * only when another thread unlinked the table holding the entry
		 * and froze it meanwhile (report_subtree), skipping what was busy:
		 * the old entry went with that table, so its removal is reported
		 * here, and new never goes in (the caller meets a busy value and
		 * gives up with -TDP_EAGAIN).
		 */
		cur = busy_val(p);
		done = pte_write(p, g->op, ptep, &cur, new, base, l, W_SWAP | W_QUIET);
		if (reports_on(p))
			note_change(p, g->op, old, done ? new : fmt_invalid(p), base, l,
				    done ? reshape : 0);
		if (table)
			p->cfg.mm->defer_free_table(p->cfg.mm_ctx, tdp_pa_to_va(p, pte_table_pa(old)),
						    l - 1);
		return done;
	}
	if (!pte_write(p, g->op, ptep, &cur, new, base, l, W_SWAP | reshape))
		return false;
	if (live || fmt_flush_on_install(p))
		gather_range(g, base, lvl_size(l), (int)l, table);
	if (table)
		gather_free_table(p, g, old, l, false);
	return true;
}
