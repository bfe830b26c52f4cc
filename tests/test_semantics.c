/* SPDX-License-Identifier: MIT */
/*
 * Semantics that tdp/pgtable.h, tdp/tlb.h and tdp/walk.h state, one test
 * each (sem_fixture.h: a table over a kit pool with a recording TLB):
 *
 * - t_protect_masks: tdp_protect accepts (clear, set) iff for every
 *   permission set a leaf of the table can hold, (p & ~clear) | set can be
 *   held too. The valid sets are learnt by mapping every one of the 16
 *   (through the attribute decoder: a software bit is added), then all
 *   16 x 16 pairs are compared with that brute force, and every accepted
 *   pair is applied to a leaf of every valid set and read back (lookup and
 *   the reference walker). Per configuration: arm64 with and without
 *   FEAT_XNX, EPT with every combination of execute-only and MBEC, RISC-V.
 * - t_protect_raise_flushes: a protect that only adds permissions still
 *   calls flush_range, once, over the leaves it changed; one that changes
 *   nothing calls none.
 * - t_protect_level_hint: the flush's level hint is the leaves' level when
 *   all changed leaves share it, TDP_LEVEL_ANY when they do not.
 * - t_zap_budget_subtree: a subtree removed through its table entry counts
 *   as one entry of tdp_zap's budget; tables emptied on the way out count
 *   nothing.
 * - t_fault_unaligned: tdp_map_fault takes any byte address inside the
 *   region, aligned or not, and maps (or reports) the leaf containing it;
 *   exclusive and shared mode.
 * - t_napot_walk_pa: tdp_walk and the iterator give every entry of a RISC-V
 *   Svnapot group its own output address (tdp_entry.pa), for a group alone,
 *   for groups inside a larger, unaligned map, and for walks that start in
 *   the middle of a group.
 */
#include "sem_fixture.h"

static struct sf_cfg cfgs[] = {
	{ "arm64-4k", TDP_FORMAT_ARM64_S2, 40, 40, 12, 0 },
	{ "arm64-16k", TDP_FORMAT_ARM64_S2, 40, 40, 14, 0 },
	{ "arm64-64k", TDP_FORMAT_ARM64_S2, 42, 42, 16, 0 },
	{ "ept-4l", TDP_FORMAT_X86_EPT, 48, 46, 12, 0 },
	{ "sv39x4", TDP_FORMAT_RISCV_G, 41, 44, 12, 0 },
	{ "sv48x4-vptc", TDP_FORMAT_RISCV_G, 50, 56, 12, TDP_CFG_RISCV_SVVPTC },
};
#define NR_CFGS (sizeof(cfgs) / sizeof(cfgs[0]))

static struct sf_cfg prot_cfgs[] = {
	{ "arm64-4k", TDP_FORMAT_ARM64_S2, 40, 40, 12, 0 },
	{ "arm64-4k-xnx", TDP_FORMAT_ARM64_S2, 40, 40, 12, TDP_CFG_ARM64_XNX },
	{ "ept", TDP_FORMAT_X86_EPT, 48, 46, 12, 0 },
	{ "ept-eo", TDP_FORMAT_X86_EPT, 48, 46, 12, TDP_CFG_X86_EXEC_ONLY },
	{ "ept-mbec", TDP_FORMAT_X86_EPT, 48, 46, 12, TDP_CFG_X86_MBEC },
	{ "ept-eo-mbec", TDP_FORMAT_X86_EPT, 48, 46, 12, TDP_CFG_X86_EXEC_ONLY | TDP_CFG_X86_MBEC },
	{ "sv39x4", TDP_FORMAT_RISCV_G, 41, 44, 12, 0 },
	{ "sv39x4-adu", TDP_FORMAT_RISCV_G, 41, 44, 12, TDP_CFG_RISCV_SVADU },
};
#define NR_PROT_CFGS (sizeof(prot_cfgs) / sizeof(prot_cfgs[0]))

static bool built(enum tdp_format format)
{
	struct tdp_tk_pool *pool = tdp_tk_pool_new(SF_PA_BASE, 1u << 20);
	struct tdp_config cfg = { 0 };
	struct tdp_pgtable pgt;
	bool ok;

	assert_non_null(pool);
	cfg.format = format;
	cfg.ia_bits = format == TDP_FORMAT_ARM64_S2 ? 40 : format == TDP_FORMAT_X86_EPT ? 48 : 41;
	cfg.oa_bits = 40;
	tdp_tk_pool_config(pool, &cfg);
	cfg.tlb = &sf_tlb;
	ok = tdp_pgtable_init(&pgt, &cfg) == 0;
	if (ok)
		tdp_pgtable_destroy(&pgt);
	tdp_tk_pool_delete(pool);
	return ok;
}

#define G0 (1 * GiB)
#define H0 (2 * GiB)

/* ------------------------------------------------------------------ */
/* B.a: which protect masks are accepted                               */

static void t_protect_masks(void **state)
{
	const struct sf_cfg *c = *state;
	struct tdp_tk_mem mem;
	struct tdp_tk_ref ref;
	uint32_t valid = 0;
	unsigned int accepted = 0, refused = 0;
	struct sf f;

	sf_init(&f, c, false);
	mem = tdp_tk_pool_mem(f.pool);
	assert_int_equal(tdp_tk_ref_for(&ref, &f.pgt, &mem), 0);
	/* the permission sets a leaf can hold, learnt from map */
	for (tdp_attr_t p = 0; p <= TDP_PROT_MASK; p++) {
		int rc = tdp_map(&f.pgt, G0, H0, f.P, p | TDP_SW(1), 0, NULL);

		assert_true(rc == 0 || rc == -TDP_EINVAL);
		if (rc == 0) {
			valid |= 1u << p;
			sf_expect_lookup(&f, G0, H0, 0, p | TDP_SW(1));
			assert_int_equal(tdp_unmap(&f.pgt, G0, f.P, NULL), 0);
		}
	}
	assert_true(valid & (1u << TDP_PROT_RWX));
	for (tdp_attr_t clear = 0; clear <= TDP_PROT_MASK; clear++) {
		for (tdp_attr_t set = 0; set <= TDP_PROT_MASK; set++) {
			bool want = true;
			int rc;

			for (tdp_attr_t p = 0; p <= TDP_PROT_MASK; p++)
				if (((valid >> p) & 1) && !((valid >> ((p & ~clear) | set)) & 1))
					want = false;
			/* over an unmapped range: only the mask is judged */
			rc = tdp_protect(&f.pgt, G0, f.P, clear, set, NULL);
			if (rc != (want ? 0 : -TDP_EINVAL))
				fail_msg("%s: protect clear 0x%x set 0x%x: %d, expected %s", c->name,
					 clear, set, rc, want ? "accepted" : "-TDP_EINVAL");
			if (!want) {
				refused++;
				continue;
			}
			accepted++;
			/* and it does what it says on a leaf of every valid set */
			for (tdp_attr_t p = 0; p <= TDP_PROT_MASK; p++) {
				tdp_attr_t q = (p & ~clear) | set;
				struct tdp_tk_xlate x;

				if (!((valid >> p) & 1))
					continue;
				assert_int_equal(tdp_map(&f.pgt, G0, H0, f.P, p, 0, NULL), 0);
				assert_int_equal(tdp_protect(&f.pgt, G0, f.P, clear, set, NULL), 0);
				sf_expect_lookup(&f, G0, H0, 0, q);
				assert_int_equal(tdp_tk_ref_translate(&ref, G0, TDP_TK_PROBE, &x), 0);
				if (x.result != TDP_TK_OK)
					fail_msg("%s: 0x%x protected by (0x%x, 0x%x): the walker says %s (%s)",
						 c->name, p, clear, set, tdp_tk_result_name(x.result),
						 x.why);
				assert_int_equal(tdp_unmap(&f.pgt, G0, f.P, NULL), 0);
			}
		}
	}
	assert_int_equal(accepted + refused, 256);
	/*
	 * A mask naming one execute bit is judged by its results like any
	 * other: clearing XP while setting both is fine everywhere (every
	 * result has both), setting XP alone is not where XP and XU must agree.
	 */
	assert_int_equal(tdp_protect(&f.pgt, G0, f.P, TDP_PROT_XP, TDP_PROT_X, NULL), 0);
	assert_int_equal(tdp_protect(&f.pgt, G0, f.P, TDP_PROT_XP, TDP_PROT_XP | TDP_PROT_R, NULL),
			 ((valid >> (TDP_PROT_R | TDP_PROT_XP)) & 1) ? 0 : -TDP_EINVAL);
	/* software bits: any may be cleared, only those the entry has may be set */
	assert_int_equal(tdp_protect(&f.pgt, G0, f.P, TDP_SW(0xf), 0, NULL), 0);
	assert_int_equal(tdp_protect(&f.pgt, G0, f.P, 0, TDP_SW(4), NULL),
			 c->format == TDP_FORMAT_RISCV_G ? -TDP_EINVAL : 0);
	assert_int_equal(tdp_protect(&f.pgt, G0, f.P, 0, TDP_MT_DEVICE, NULL), -TDP_EINVAL);
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* B.b, B.c: flushes of protect                                        */

/* Exactly one flush_range, over [gpa, gpa + size), with this hint. */
static void expect_one_flush(const struct sf *f, uint64_t gpa, uint64_t size, int level,
			     const char *what)
{
	if (f->nfl != 1 || f->fl[0].gpa != gpa || f->fl[0].size != size || f->fl[0].level != level ||
	    f->fl[0].tables)
		fail_msg("%s [%s]: %zu flushes, first [0x%llx +0x%llx) level %d tables %d; expected "
			 "one, [0x%llx +0x%llx) level %d", what, f->c->name, f->nfl,
			 ULL(f->nfl ? f->fl[0].gpa : 0), ULL(f->nfl ? f->fl[0].size : 0),
			 f->nfl ? f->fl[0].level : 0, f->nfl ? f->fl[0].tables : 0, ULL(gpa),
			 ULL(size), level);
}

static void t_protect_raise_flushes(void **state)
{
	const struct sf_cfg *c = *state;
	uint64_t B;
	struct sf f;

	sf_init(&f, c, false);
	B = G0 + 4 * f.blk;
	/* read-only pages, a hole, a read-only block */
	assert_int_equal(tdp_map(&f.pgt, G0, H0, 8 * f.P, TDP_PROT_R, 0, NULL), 0);
	assert_int_equal(tdp_map(&f.pgt, B, H0 + 4 * f.blk, f.blk, TDP_PROT_R, 0, NULL), 0);
	sf_fl_reset(&f);
	/* raise only: write added (with R, which every leaf has: RISC-V refuses W alone) */
	assert_int_equal(tdp_protect(&f.pgt, G0, 4 * f.P, 0, TDP_PROT_RW, NULL), 0);
	sf_expect_lookup(&f, G0 + 3 * f.P, H0 + 3 * f.P, 0, TDP_PROT_RW);
	sf_expect_lookup(&f, G0 + 4 * f.P, H0 + 4 * f.P, 0, TDP_PROT_R);
	expect_one_flush(&f, G0, 4 * f.P, 0, "raise-only protect of pages");
	sf_fl_reset(&f);
	assert_int_equal(tdp_protect(&f.pgt, B - f.blk, 2 * f.blk, 0, TDP_PROT_RWX, NULL), 0);
	sf_expect_lookup(&f, B, H0 + 4 * f.blk, 1, TDP_PROT_RWX);
	expect_one_flush(&f, B, f.blk, 1, "raise-only protect of a block");
	/* nothing changes: no flush at all */
	sf_fl_reset(&f);
	assert_int_equal(tdp_protect(&f.pgt, G0, 4 * f.P, 0, TDP_PROT_RW, NULL), 0);
	assert_int_equal(tdp_protect(&f.pgt, G0 + 8 * f.P, f.blk, 0, TDP_PROT_RW, NULL), 0);
	assert_int_equal(f.nfl, 0);
	sf_fini(&f);
}

static void t_protect_level_hint(void **state)
{
	const struct sf_cfg *c = *state;
	uint64_t B;
	struct sf f;

	sf_init(&f, c, false);
	B = G0 + 4 * f.blk;
	/* pages in the level-1 entry before a block, then the block */
	assert_int_equal(tdp_map(&f.pgt, B - 4 * f.P, H0, 4 * f.P, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&f.pgt, B, H0 + 4 * f.blk, f.blk, TDP_PROT_RW, 0, NULL), 0);
	sf_fl_reset(&f);
	assert_int_equal(tdp_protect(&f.pgt, B - 4 * f.P, 4 * f.P, TDP_PROT_W, 0, NULL), 0);
	expect_one_flush(&f, B - 4 * f.P, 4 * f.P, 0, "pages only");
	sf_fl_reset(&f);
	assert_int_equal(tdp_protect(&f.pgt, B, f.blk, TDP_PROT_W, 0, NULL), 0);
	expect_one_flush(&f, B, f.blk, 1, "a block only");
	sf_fl_reset(&f);
	assert_int_equal(tdp_protect(&f.pgt, B - 4 * f.P, f.blk + 4 * f.P, 0, TDP_PROT_RW, NULL), 0);
	expect_one_flush(&f, B - 4 * f.P, f.blk + 4 * f.P, TDP_LEVEL_ANY, "pages and a block");
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* B.e: zap's budget                                                   */

static void t_zap_budget_subtree(void **state)
{
	const struct sf_cfg *c = *state;
	struct tdp_tk_pool_stats st0, st1;
	struct tdp_zap_result res;
	struct tdp_lookup_result r;
	uint64_t R;
	struct sf f;

	sf_init(&f, c, false);
	R = G0 + 4 * f.blk;
	/* two level-1 entries, each a table of pages (capped: no blocks) */
	assert_int_equal(tdp_map(&f.pgt, R, H0, 2 * f.blk, TDP_PROT_RW, TDP_MAP_MAX_LEVEL(0), NULL),
			 0);
	tdp_tk_pool_stats(f.pool, &st0);
	/* budget 1: the first subtree goes whole, as one entry; stop at the second */
	assert_int_equal(tdp_zap(&f.pgt, R, 2 * f.blk, 1, &res), 1);
	assert_int_equal(res.removed_start, R);
	assert_int_equal(res.removed_end, R + f.blk);
	assert_int_equal(res.resume, R + f.blk);
	assert_int_equal(tdp_lookup(&f.pgt, R + f.blk - f.P, &r), -TDP_ENOENT);
	assert_int_equal(tdp_lookup(&f.pgt, R + f.blk, &r), 0);
	tdp_tk_pool_stats(f.pool, &st1);
	assert_int_equal(st0.out_blocks - st1.out_blocks, 1); /* its table page */
	/* budget 1 again: the second subtree, and done */
	assert_int_equal(tdp_zap(&f.pgt, res.resume, R + 2 * f.blk - res.resume, 1, &res), 0);
	assert_int_equal(res.removed_start, R + f.blk);
	assert_int_equal(res.removed_end, R + 2 * f.blk);
	assert_int_equal(res.resume, R + 2 * f.blk);
	assert_int_equal(tdp_lookup(&f.pgt, R + f.blk, &r), -TDP_ENOENT);

	/* inside one table: each page counts one, the table freed after them nothing */
	assert_int_equal(tdp_map(&f.pgt, R + 8 * f.P, H0, 3 * f.P, TDP_PROT_RW, 0, NULL), 0);
	tdp_tk_pool_stats(f.pool, &st0);
	assert_int_equal(tdp_zap(&f.pgt, R, 16 * f.P, 2, &res), 1);
	assert_int_equal(res.resume, R + 10 * f.P);
	assert_int_equal(res.removed_start, R + 8 * f.P);
	assert_int_equal(res.removed_end, R + 10 * f.P);
	assert_int_equal(tdp_zap(&f.pgt, res.resume, R + 16 * f.P - res.resume, 1, &res), 0);
	tdp_tk_pool_stats(f.pool, &st1);
	assert_true(st1.out_blocks < st0.out_blocks); /* the emptied table went too */
	assert_int_equal(tdp_lookup(&f.pgt, R + 10 * f.P, &r), -TDP_ENOENT);
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* B.f: the fault address                                              */

static void fault_case(struct sf *f)
{
	const struct tdp_fault_region rg = { .gpa = G0, .size = 4 * f->blk, .hpa = H0 };
	struct tdp_fault_result res;
	struct tdp_memcache mc;
	uint64_t fa;

	tdp_memcache_init(&mc);
	assert_int_equal(tdp_memcache_topup(&f->pgt, &mc, 8), 0);
	/* unaligned, pages only: the page holding it */
	fa = G0 + 5 * f->P + 0x123;
	assert_int_equal(tdp_map_fault(&f->pgt, fa, &rg, TDP_PROT_RW, TDP_MAP_MAX_LEVEL(0), &mc,
				       &res), 0);
	assert_int_equal(res.gpa, G0 + 5 * f->P);
	assert_int_equal(res.size, f->P);
	assert_int_equal(res.level, 0);
	sf_expect_lookup(f, fa, H0 + 5 * f->P + 0x123, 0, TDP_PROT_RW);
	assert_int_equal(tdp_lookup(&f->pgt, G0 + 4 * f->P, &(struct tdp_lookup_result){ 0 }),
			 -TDP_ENOENT);
	/* the same page again, through another unaligned byte: reported, not replaced */
	assert_int_equal(tdp_map_fault(&f->pgt, G0 + 6 * f->P - 1, &rg, TDP_PROT_R, 0, &mc, &res),
			 -TDP_EEXIST);
	assert_int_equal(res.gpa, G0 + 5 * f->P);
	assert_int_equal(res.size, f->P);
	sf_expect_lookup(f, fa, H0 + 5 * f->P + 0x123, 0, TDP_PROT_RW);
	/* an aligned address: the same rule */
	assert_int_equal(tdp_map_fault(&f->pgt, G0 + 7 * f->P, &rg, TDP_PROT_RW,
				       TDP_MAP_MAX_LEVEL(0), &mc, &res), 0);
	assert_int_equal(res.gpa, G0 + 7 * f->P);
	/* unaligned, blocks allowed: the block holding it */
	fa = G0 + 2 * f->blk + f->blk / 2 + 7;
	assert_int_equal(tdp_map_fault(&f->pgt, fa, &rg, TDP_PROT_RW, 0, &mc, &res), 0);
	assert_int_equal(res.gpa, G0 + 2 * f->blk);
	assert_int_equal(res.size, f->blk);
	assert_int_equal(res.level, 1);
	sf_expect_lookup(f, fa, H0 + 2 * f->blk + f->blk / 2 + 7, 1, TDP_PROT_RW);
	/* the last byte of the region, and the bytes just outside it */
	fa = G0 + 4 * f->blk - 1;
	assert_int_equal(tdp_map_fault(&f->pgt, fa, &rg, TDP_PROT_RW, 0, &mc, &res), 0);
	assert_int_equal(res.gpa, G0 + 3 * f->blk);
	sf_expect_lookup(f, fa, H0 + 4 * f->blk - 1, 1, TDP_PROT_RW);
	assert_int_equal(tdp_map_fault(&f->pgt, G0 - 1, &rg, TDP_PROT_RW, 0, &mc, &res),
			 -TDP_EINVAL);
	assert_int_equal(tdp_map_fault(&f->pgt, G0 + 4 * f->blk, &rg, TDP_PROT_RW, 0, &mc, &res),
			 -TDP_EINVAL);
	tdp_memcache_drain(&f->pgt, &mc);
}

static void t_fault_unaligned(void **state)
{
	const struct sf_cfg *c = *state;
	struct sf f;

	sf_init(&f, c, false);
	fault_case(&f);
	sf_fini(&f);
	sf_init(&f, c, true);
	fault_case(&f);
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* A2: output addresses in Svnapot groups                              */

struct pa_check {
	uint64_t gpa, hpa, size; /* the map: gpa -> hpa */
	uint64_t next;           /* the next address a leaf must start at */
	unsigned int leaves, napot;
	const char *what;
};

static void pa_entry(struct pa_check *pc, const struct tdp_entry *e)
{
	if (!e->valid || e->table)
		return;
	if (e->addr != pc->next || e->size != 4096 || e->level != 0)
		fail_msg("%s: leaf [0x%llx +0x%llx) level %u, expected a page at 0x%llx", pc->what,
			 ULL(e->addr), ULL(e->size), e->level, ULL(pc->next));
	if (e->pa != pc->hpa + (e->addr - pc->gpa))
		fail_msg("%s: page 0x%llx (pte 0x%016llx): pa 0x%llx, expected 0x%llx", pc->what,
			 ULL(e->addr), ULL(e->pte), ULL(e->pa), ULL(pc->hpa + (e->addr - pc->gpa)));
	pc->next += 4096;
	pc->leaves++;
	pc->napot += (e->pte & RV_N_BIT) != 0;
}

static int pa_fn(const struct tdp_entry *e, unsigned int visit, void *arg)
{
	(void)visit;
	pa_entry(arg, e);
	return 0;
}

/* Walk and iterate [from, from + len) of the map described by pc: every page, right pa. */
static void check_pa(struct tdp_pgtable *pgt, struct pa_check *pc, uint64_t from, uint64_t len,
		     unsigned int napot)
{
	struct tdp_iter it;
	struct tdp_entry e;
	struct pa_check w = *pc, i = *pc;

	w.next = i.next = from;
	w.leaves = w.napot = i.leaves = i.napot = 0;
	assert_int_equal(tdp_walk(pgt, from, len, TDP_WALK_LEAF, pa_fn, &w), 0);
	tdp_for_each_entry(it, pgt, from, from + len) {
		tdp_iter_entry(&it, &e);
		pa_entry(&i, &e);
	}
	if (w.leaves != len / 4096 || i.leaves != len / 4096 || w.napot != napot ||
	    i.napot != napot)
		fail_msg("%s: walk %u pages (%u in groups), iterator %u (%u), expected %llu (%u)",
			 pc->what, w.leaves, w.napot, i.leaves, i.napot, ULL(len / 4096), napot);
}

static void t_napot_walk_pa(void **state)
{
	static const struct sf_cfg c = { "sv48x4-napot", TDP_FORMAT_RISCV_G, 50, 56, 12,
					 TDP_CFG_RISCV_SVNAPOT };
	struct tdp_lookup_result r;
	struct pa_check pc;
	uint64_t g, h;
	struct sf f;

	(void)state;
	sf_init(&f, &c, false);
	/* one group alone */
	g = G0 + 0x10000;
	h = H0 + 0x30000;
	assert_int_equal(tdp_map(&f.pgt, g, h, 0x10000, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(tdp_lookup(&f.pgt, g + 0x5000, &r), 0);
	assert_int_equal(r.size, 0x10000); /* a group indeed */
	pc = (struct pa_check){ .gpa = g, .hpa = h, .size = 0x10000, .what = "one group" };
	check_pa(&f.pgt, &pc, g, 0x10000, 16);
	pc.what = "one group, from its middle";
	check_pa(&f.pgt, &pc, g + 0x7000, 0x9000, 9);
	pc.what = "one group, a middle part";
	check_pa(&f.pgt, &pc, g + 0x3000, 0x2000, 2);

	/* groups in the middle of a larger map that starts and ends off a group boundary */
	g = G0 + 2 * MiB + 0x3000;
	h = H0 + 8 * MiB + 0x3000; /* h - g is a multiple of 64 KiB */
	assert_int_equal(tdp_map(&f.pgt, g, h, 0x50000, TDP_PROT_RWX, 0, NULL), 0);
	/* [g, g + 0x50000) holds the groups from g + 0xd000 to g + 0x4d000: 4 of them */
	pc = (struct pa_check){ .gpa = g, .hpa = h, .size = 0x50000, .what = "larger map" };
	check_pa(&f.pgt, &pc, g, 0x50000, 64);
	pc.what = "larger map, from inside its second group";
	check_pa(&f.pgt, &pc, g + 0x1d000 + 0x9000, 0x14000, 0x14);
	pc.what = "larger map, one page in a group";
	check_pa(&f.pgt, &pc, g + 0x2d000 + 0xf000, 0x1000, 1);
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */

int main(void)
{
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
	} bodies[] = {
		{ "t_protect_raise_flushes", t_protect_raise_flushes },
		{ "t_protect_level_hint", t_protect_level_hint },
		{ "t_zap_budget_subtree", t_zap_budget_subtree },
		{ "t_fault_unaligned", t_fault_unaligned },
	};
	enum { NB = sizeof(bodies) / sizeof(bodies[0]) };
	static struct CMUnitTest tests[NB * NR_CFGS + NR_PROT_CFGS + 1];
	static char names[NB * NR_CFGS + NR_PROT_CFGS + 1][80];
	size_t n = 0;

	for (size_t b = 0; b < NB; b++) {
		for (size_t c = 0; c < NR_CFGS; c++) {
			if (!built(cfgs[c].format))
				continue;
			snprintf(names[n], sizeof(names[n]), "%s[%s]", bodies[b].name, cfgs[c].name);
			tests[n] = (struct CMUnitTest){ .name = names[n], .test_func = bodies[b].fn,
						       .initial_state = &cfgs[c],
						       .teardown_func = sf_teardown };
			n++;
		}
	}
	for (size_t c = 0; c < NR_PROT_CFGS; c++) {
		if (!built(prot_cfgs[c].format))
			continue;
		snprintf(names[n], sizeof(names[n]), "t_protect_masks[%s]", prot_cfgs[c].name);
		tests[n] = (struct CMUnitTest){ .name = names[n], .test_func = t_protect_masks,
					       .initial_state = &prot_cfgs[c],
					       .teardown_func = sf_teardown };
		n++;
	}
	if (built(TDP_FORMAT_RISCV_G))
		tests[n++] = (struct CMUnitTest){ .name = "t_napot_walk_pa",
						 .test_func = t_napot_walk_pa,
						 .teardown_func = sf_teardown };
	return _cmocka_run_group_tests("semantics", tests, n, NULL, NULL);
}
