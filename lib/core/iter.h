/* SPDX-License-Identifier: MIT */
/*
 * The iterator every operation is a loop over, and the root-to-leaf walks
 * of the per-call paths (find_leaf, walk_path, walk_down).
 */

static inline void it_load(struct tdp_iter *it)
{
	it->ptep = entry_ptr(it->pgt, it->tables[it->level], it->addr, it->level);
	it->pte = pte_load(it->ptep);
}

static inline void it_start(struct tdp_iter *it, const struct tdp_pgtable *p, uint64_t start,
			    uint64_t end, unsigned int min_level)
{
	it->pgt = p;
	it->addr = start;
	it->end = end;
	it->level = top_level(p);
	it->min_level = min_level;
	it->tables[it->level] = p->root;
	it->post = false;
	it->valid = true;
	it_load(it);
}

/* it_next's `descend`: false (0), true (1): re-read the entry, or: */
#define IT_VISITED 2u /* enter the entry as it was visited (it->pte) */

/*
 * Advance. With `descend` true, the current entry is re-read and entered if
 * it is a table, so a caller that just installed a table walks into it.
 * Readers pass IT_VISITED instead: they go by the value they visited, so
 * that in shared mode a block split under them after its visit is not
 * entered and its pages seen twice, and a table replaced by a block after
 * its visit is still walked (it stays readable until the grace period
 * ends). When the iterator leaves a table it revisits the parent entry with
 * it->post set, which is where emptied tables get freed.
 */
static inline void it_next(struct tdp_iter *it, unsigned int descend)
{
	const struct tdp_pgtable *p = it->pgt;
	unsigned int l = it->level;
	uint64_t next;

	if (!it->post && descend && l > it->min_level) {
		uint64_t pte = descend == IT_VISITED ? it->pte : pte_load(it->ptep);

		if (pte_is_table(pte, l)) {
			it->tables[l - 1] = tdp_pa_to_va(p, pte_table_pa(pte));
			it->level = l - 1;
			it_load(it);
			return;
		}
	}
	it->post = false;
	next = (it->addr | (lvl_size(l) - 1)) + 1;
	if (next >= it->end || (l != top_level(p) && (next & (lvl_size(l + 1) - 1)) == 0)) {
		if (l == top_level(p)) {
			it->valid = false;
			return;
		}
		it->level = l + 1;
		it->post = true;
		it_load(it);
		return;
	}
	it->addr = next;
	it->ptep++;
	it->pte = pte_load(it->ptep);
}

static inline uint64_t it_base(const struct tdp_iter *it)
{
	return it->addr & ~(lvl_size(it->level) - 1);
}

/* The iterator is on a leaf above `target` (a block to split). */
static inline bool is_block(const struct tdp_iter *it, unsigned int target)
{
	return !it->post && it->level > target && pte_valid(it->pte) &&
	       !pte_is_table(it->pte, it->level);
}

/* Find the leaf holding `addr`; NULL if none. */
static uint64_t *find_leaf(const struct tdp_pgtable *p, uint64_t addr, unsigned int *level,
			   uint64_t *pte_out)
{
	void *t = p->root;

	for (unsigned int l = top_level(p);; l--) {
		uint64_t *ptep = entry_ptr(p, t, addr, l);
		uint64_t pte = pte_load(ptep);

		if (!pte_valid(pte))
			return NULL;
		if (!pte_is_table(pte, l)) {
			*level = l;
			*pte_out = pte;
			return ptep;
		}
		t = tdp_pa_to_va(p, pte_table_pa(pte));
	}
}

/* Index of addr's entry in a non-root table of level l. */
static inline uint64_t tbl_idx(uint64_t addr, unsigned int l)
{
	return (addr >> lvl_shift(l)) & (FMT_ENTRIES - 1);
}

/*
 * Walk from the root towards the entry of level `stop` for addr, through
 * tables only, recording addr's entry on each level passed in path[].
 * Returns the level it stopped at: `stop`, or a higher level whose entry is
 * empty or a leaf. Nothing is written: the per-call fast paths below start
 * with it, so it is kept to a load, a test and an index per level.
 */
static inline unsigned int walk_path(const struct tdp_pgtable *p, uint64_t addr, unsigned int stop,
				     uint64_t **path)
{
	void *(*p2v)(void *, uint64_t) = p->cfg.mm->phys_to_virt;
	const uintptr_t off = p->cfg.linear_offset;
	unsigned int m = top_level(p);
	uint64_t *ptep = (uint64_t *)p->root + (addr >> lvl_shift(m)); /* addr < 2^ia: no mask */

	for (;; m--) {
		uint64_t pte = pte_load(ptep), pa;
		uint64_t *t;

		path[m] = ptep;
		if (m == stop || !pte_is_table(pte, m))
			return m;
		pa = pte_table_pa(pte);
		t = p2v ? p2v(p->cfg.mm_ctx, pa) : (uint64_t *)(uintptr_t)(pa + off);
		ptep = t + tbl_idx(addr, m - 1);
	}
}

/*
 * walk_path without the path, the loop every fault runs: from the root
 * through tables towards level `stop`. Returns the level it stopped at,
 * with that entry's address in *ptepp and its value in *ptev.
 */
static inline __attribute__((always_inline)) unsigned int
walk_down(const struct tdp_pgtable *p, uint64_t addr, unsigned int stop, uint64_t **ptepp,
	  uint64_t *ptev)
{
	void *(*p2v)(void *, uint64_t) = p->cfg.mm->phys_to_virt;
	const uintptr_t off = p->cfg.linear_offset;
	unsigned int m = top_level(p);
	uint64_t *ptep = (uint64_t *)p->root + (addr >> lvl_shift(m)), pte = pte_load(ptep);

	while (m > stop && pte_is_table(pte, m)) {
		uint64_t pa = pte_table_pa(pte);
		uint64_t *t = p2v ? p2v(p->cfg.mm_ctx, pa) : (uint64_t *)(uintptr_t)(pa + off);

		m--;
		ptep = t + tbl_idx(addr, m);
		pte = pte_load(ptep);
	}
	*ptepp = ptep;
	*ptev = pte;
	return m;
}
