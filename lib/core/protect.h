/* SPDX-License-Identifier: MIT */
/*
 * tdp_protect: permission and software-bit changes, in both modes.
 */

/*
 * tdp_protect in shared mode: every leaf is swapped to its new permissions;
 * a block (or group) straddling an edge whose permissions change is split
 * (broken up) first, and the pass goes into it.
 */
static int protect_shared(const struct tdp_pgtable *p, uint64_t s, uint64_t e,
			  const struct prot_change *pc, struct tdp_memcache *mc, struct gather *g)
{
	const struct split_pred pr = { .lo = s, .hi = e, .edges = true };
	struct tdp_iter it;
	bool descend = true;

	for (it_start(&it, p, s, e, 0); it.valid; it_next(&it, descend)) {
		const unsigned int l = it.level;
		const uint64_t sz = lvl_size(l), base = it_base(&it);

		descend = true;
		if (it.post)
			continue;
		for (;;) {
			const uint64_t old = it.pte;
			uint64_t new, gb;
			int r;

			if (pte_busy(old))
				return -TDP_EAGAIN;
			if (!pte_valid(old) || pte_is_table(old, l))
				break;
			descend = false;
			new = prot_apply(p, old, l, pc);
			if (new == old)
				break;
			gb = it.addr & ~(CONT_SIZE - 1);
			if (base < s || e - base < sz) {
				descend = true;
				r = sh_split(p, g, it.ptep, old, base, l, &pr, mc);
				if (r < 0)
					return r;
				if (r)
					break;
			} else if (pte_is_cont(old, l) && (gb < s || e - gb < CONT_SIZE)) {
				cont_break(p, g, it.ptep, it.addr);
			} else if (pte_cas(it.ptep, old, new)) {
				gather_range(g, base, sz, (int)l, false);
				break;
			}
			it.pte = pte_load(it.ptep);
		}
	}
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
