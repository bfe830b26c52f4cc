/* SPDX-License-Identifier: MIT */
/*
 * tdp_protect: permission and software-bit changes, one pass for both modes.
 */

/*
 * The protect pass over [s, e). Each leaf whose permissions change is
 * written through pte_write: swapped in shared mode and where the hardware
 * sets A/D flags (a flag set since the load must not be lost), stored
 * otherwise. A block or group straddling an edge must be split or broken up
 * first; exclusive mode does it before the pass (with one batched flush),
 * while in shared mode another thread may make one at any time, so the pass
 * handles those it meets.
 */
static int protect_pass(const struct tdp_pgtable *p, uint64_t s, uint64_t e,
			const struct prot_change *pc, struct tdp_memcache *mc, struct gather *g)
{
	const struct split_pred pr = { .lo = s, .hi = e, .edges = true };
	const unsigned int how = sh_on(p) || ad_live(p) ? W_SWAP : W_STORE;
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
			} else if (pte_write(p, g->op, it.ptep, &it.pte, new, it.addr, l, how)) {
				gather_range(g, base, sz, (int)l, false);
				break;
			} else {
				continue; /* it.pte holds what the swap found */
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
	struct gather g;
	int ret;

	ret = tdp__mc_prepare(p, mc_in, find_edge_blocks(p, gpa, gpa + size, &pc, &eb), &local,
			      &mc);
	if (ret)
		return ret;
	gather_init_mode(&g, sh_on(p), TDP_OP_PROTECT);
	if (!sh_on(p)) {
		split_edge_blocks(p, &eb, mc, &g);
		break_edge_groups(p, gpa, gpa + size, &pc, &g);
	}
	ret = protect_pass(p, gpa, gpa + size, &pc, mc, &g);
	gather_flush(p, &g);
	tdp__mc_finish(p, mc_in, &local);
	return ret;
}
