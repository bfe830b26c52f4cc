/* SPDX-License-Identifier: MIT */
/*
 * The hardware's race with the library's writes, played deterministically.
 *
 * This program links the library compiled with TDP_TEST_HOOKS (see
 * tests/meson.build), which calls tdp__test_before_write just before every
 * write of an entry of a live table, with the value the library read. The
 * test arms one entry (a leaf, by its address in the pool); when the library
 * is about to write it, the hook ORs accessed/dirty flags into it, as a CPU
 * walking the table would between the library's load and its write, then
 * disarms. Every case checks that the hook fired exactly once, on a leaf,
 * and that the library's read was the entry's value at that moment (so the
 * flags it sets are new to the library).
 *
 * On EPT with TDP_CFG_X86_AD and RISC-V with Svadu, in exclusive and shared
 * mode:
 * - t_protect: tdp_protect (clear W; set a software bit) of a page and of a
 *   block: D set during the write stays in the entry and collect_dirty
 *   reports the pages.
 * - t_young: tdp_test_clear_young: D (and A again) set during the write
 *   clearing A: D stays.
 * - t_dirty: tdp_collect_dirty: A set during the write clearing D: A stays,
 *   D is cleared, the pages are reported.
 * - t_rm_*: with change reports, D set just before the removal write of
 *   tdp_unmap (one page or block: the one-leaf path; a range; a whole table
 *   of pages, whose leaves are swapped out one by one), tdp_zap (pages; a
 *   block), a tdp_map giving leaves another output address (one page; a
 *   range; a block) and a tdp_map putting a block where a table of pages
 *   was: the REMOVE (or UPDATE) report of that leaf says old.dirty, every
 *   other leaf removed is reported clean, each once. tdp_pgtable_destroy:
 *   D set before the call, and D set from its flush_all (the hardware writes
 *   until the flush), are reported.
 * - t_map_same_output: a tdp_map that changes only the permissions or
 *   software bits of a leaf (one page; a larger range; a block): D set
 *   during the write stays in the new leaf.
 */
#include "sem_fixture.h"
#include "change_rec.h"

#define G0 (4 * GiB)
#define H0 (8 * GiB)

/* ------------------------------------------------------------------ */
/* The hook                                                            */

void tdp__test_before_write(const struct tdp_pgtable *p, uint64_t *ptep, uint64_t old,
			    uint64_t new, unsigned int level);

static struct {
	uint64_t *ptep;   /* the armed entry, NULL: disarmed */
	uint64_t bits;    /* what the "hardware" sets there */
	unsigned int fired;
	bool old_current; /* the library's `old` was the entry's value when the hook fired */
	unsigned long calls; /* every hook call, armed or not (the hooked build is linked) */
} hw;

/* A valid leaf of level `level`, decoded from the raw bits (no library code). */
static bool raw_leaf(const struct tdp_pgtable *p, uint64_t pte, unsigned int level)
{
	switch (p->cfg.format) {
	case TDP_FORMAT_X86_EPT: /* R, W or X present; a leaf at level 0 or with bit 7 */
		return (pte & 7) && (level == 0 || (pte & (1ull << 7)));
	case TDP_FORMAT_RISCV_G: /* V, and any of R, W, X */
		return (pte & 1) && (pte & 0xe);
	default:
		return false;
	}
}

void tdp__test_before_write(const struct tdp_pgtable *p, uint64_t *ptep, uint64_t old,
			    uint64_t new, unsigned int level)
{
	(void)new;
	hw.calls++;
	if (!hw.ptep || ptep != hw.ptep || !raw_leaf(p, *ptep, level))
		return;
	hw.old_current = old == *ptep;
	*ptep |= hw.bits;
	hw.ptep = NULL;
	hw.fired++;
}

static void hw_arm(struct sf *f, uint64_t gpa, uint64_t bits)
{
	hw.ptep = sf_leaf_must(f, gpa);
	hw.bits = bits;
	hw.fired = 0;
	hw.old_current = false;
}

static void hw_expect_fired(const struct sf *f, const char *what)
{
	if (hw.fired != 1 || !hw.old_current)
		fail_msg("%s [%s%s]: the hook fired %u times (library's read current: %d)", what,
			 f->c->name, f->shared ? ", shared" : "", hw.fired, hw.old_current);
	hw.ptep = NULL;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static void expect_dirty_run(struct sf *f, uint64_t gpa, uint64_t size, uint64_t first,
			     uint64_t n, const char *what)
{
	uint64_t bm[SF_BM_WORDS];
	char msg[160];

	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f->pgt, gpa, size, bm), 0);
	snprintf(msg, sizeof(msg), "%s [%s%s]: collect_dirty", what, f->c->name,
		 f->shared ? ", shared" : "");
	bm_expect_run(bm, first, n, msg);
}

/* The leaf at gpa must carry attribute bits `attr` (lookup). */
static void expect_attr(const struct sf *f, uint64_t gpa, tdp_attr_t attr, const char *what)
{
	struct tdp_lookup_result r;

	assert_int_equal(tdp_lookup(&f->pgt, gpa, &r), 0);
	if (r.attr != attr)
		fail_msg("%s [%s]: attr 0x%x, expected 0x%x", what, f->c->name, r.attr, attr);
}

/* One target: a page among pages, or a block. */
struct target {
	const char *name;
	uint64_t gpa;    /* the range mapped and operated on */
	uint64_t size;
	uint64_t leaf;   /* the leaf the hardware writes to */
	uint64_t lsize;  /* its size */
};

static void targets(const struct sf *f, struct target t[2])
{
	t[0] = (struct target){ "page", G0, 4 * f->P, G0 + f->P, f->P };
	t[1] = (struct target){ "block", G0 + 2 * f->blk, f->blk, G0 + 2 * f->blk, f->blk };
}

/* Map target t RW to its first output. */
static void target_map(struct sf *f, const struct target *t)
{
	assert_int_equal(tdp_map(&f->pgt, t->gpa, H0 + (t->gpa - G0), t->size, TDP_PROT_RW, 0, NULL),
			 0);
}

/* collect_dirty over t's range reports exactly the pages of the leaf the hardware wrote. */
static void expect_leaf_dirty(struct sf *f, const struct target *t, const char *what)
{
	expect_dirty_run(f, t->gpa, t->size, (t->leaf - t->gpa) / f->P, t->lsize / f->P, what);
}

/* ------------------------------------------------------------------ */
/* a. protect                                                          */

static void t_protect(void **state)
{
	const struct sf_param *pr = *state;
	struct target t[2];
	struct sf f;

	sf_init(&f, pr->c, pr->shared);
	targets(&f, t);
	for (int k = 0; k < 2; k++) {
		for (int how = 0; how < 2; how++) {
			const uint64_t D = sf_dbit(&f), A = sf_abit(&f);
			const tdp_attr_t clear = how ? 0 : TDP_PROT_W, set = how ? TDP_SW(1) : 0;
			char what[96];

			snprintf(what, sizeof(what), "protect %s of a %s", how ? "set SW(1)" : "clear W",
				 t[k].name);
			target_map(&f, &t[k]);
			sf_hw_set(&f, t[k].leaf, A);
			hw_arm(&f, t[k].leaf, D);
			assert_int_equal(tdp_protect(&f.pgt, t[k].gpa, t[k].size, clear, set, NULL), 0);
			hw_expect_fired(&f, what);
			expect_attr(&f, t[k].leaf, (TDP_PROT_RW & ~clear) | set, what);
			sf_expect_ad(&f, t[k].leaf, A | D, what);
			expect_leaf_dirty(&f, &t[k], what);
			assert_int_equal(tdp_unmap(&f.pgt, t[k].gpa, t[k].size, NULL), 0);
		}
	}
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* b. test_clear_young                                                 */

static void t_young(void **state)
{
	const struct sf_param *pr = *state;
	struct target t[2];
	struct sf f;

	sf_init(&f, pr->c, pr->shared);
	targets(&f, t);
	for (int k = 0; k < 2; k++) {
		const uint64_t D = sf_dbit(&f), A = sf_abit(&f);
		char what[96];
		bool young = false;

		snprintf(what, sizeof(what), "clear_young of a %s", t[k].name);
		target_map(&f, &t[k]);
		sf_hw_set(&f, t[k].leaf, A);
		hw_arm(&f, t[k].leaf, A | D);
		assert_int_equal(tdp_test_clear_young(&f.pgt, t[k].gpa, t[k].size, &young), 0);
		hw_expect_fired(&f, what);
		assert_true(young);
		/* A was cleared (the harvest's job), D the hardware set meanwhile stays */
		sf_expect_ad(&f, t[k].leaf, D, what);
		expect_leaf_dirty(&f, &t[k], what);
		assert_int_equal(tdp_unmap(&f.pgt, t[k].gpa, t[k].size, NULL), 0);
	}
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* c. collect_dirty                                                    */

static void t_dirty(void **state)
{
	const struct sf_param *pr = *state;
	struct target t[2];
	struct sf f;

	sf_init(&f, pr->c, pr->shared);
	targets(&f, t);
	for (int k = 0; k < 2; k++) {
		const uint64_t D = sf_dbit(&f), A = sf_abit(&f);
		char what[96];

		snprintf(what, sizeof(what), "collect_dirty of a %s", t[k].name);
		target_map(&f, &t[k]);
		sf_hw_set(&f, t[k].leaf, D);
		hw_arm(&f, t[k].leaf, A);
		expect_leaf_dirty(&f, &t[k], what);
		hw_expect_fired(&f, what);
		/* D cleared (the harvest's job), A the hardware set meanwhile stays */
		sf_expect_ad(&f, t[k].leaf, A, what);
		expect_dirty_run(&f, t[k].gpa, t[k].size, 0, 0, what);
		assert_int_equal(tdp_unmap(&f.pgt, t[k].gpa, t[k].size, NULL), 0);
	}
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* d. removal, through change reports                                  */

/*
 * The reports since cr_reset hold exactly `n` leaf removals (REMOVE, or an
 * UPDATE to another output address) of op `op`, none reshape, each covering
 * one leaf once; those of the leaves at dirty[0..nd) say old.dirty (one
 * each), all others say clean.
 */
static void expect_removals(const struct sf *f, enum tdp_op op, size_t n, const uint64_t *dirty,
			    size_t nd, const char *what)
{
	size_t removals = 0, hits[4] = { 0 };

	assert_true(nd <= 4);
	if (cr.n > CR_MAX)
		fail_msg("%s: %zu reports, more than recorded", what, cr.n);
	for (size_t i = 0; i < cr.n; i++) {
		const struct tdp_change *c = &cr.r[i];
		bool removal = c->kind == TDP_CHANGE_REMOVE ||
			       (c->kind == TDP_CHANGE_UPDATE && c->old.pa != c->new.pa);
		bool want = false;

		if (!removal)
			continue;
		if (c->op != op || c->reshape || !c->old.valid || c->old.table) {
			cr_print();
			fail_msg("%s [%s%s]: report #%zu: op %d (expected %d), reshape %d", what,
				 f->c->name, f->shared ? ", shared" : "", i, (int)c->op, (int)op,
				 c->reshape);
		}
		removals++;
		for (size_t d = 0; d < nd; d++) {
			if (dirty[d] - c->old.addr < c->old.size) {
				want = true;
				hits[d]++;
			}
		}
		if (c->old.dirty != want) {
			cr_print();
			fail_msg("%s [%s%s]: the leaf at 0x%llx is reported %s (report #%zu, %s)%s",
				 what, f->c->name, f->shared ? ", shared" : "", ULL(c->old.addr),
				 c->old.dirty ? "dirty" : "clean", i, cr_kind_name(c->kind),
				 want ? ": the hardware dirtied it" : "");
		}
	}
	for (size_t d = 0; d < nd; d++) {
		if (hits[d] != 1) {
			cr_print();
			fail_msg("%s [%s%s]: the dirtied leaf at 0x%llx is in %zu removals", what,
				 f->c->name, f->shared ? ", shared" : "", ULL(dirty[d]), hits[d]);
		}
	}
	if (removals != n) {
		cr_print();
		fail_msg("%s [%s%s]: %zu removals, expected %zu", what, f->c->name,
			 f->shared ? ", shared" : "", removals, n);
	}
}

/* One removal: the leaf at gpa dirtied during the write must be reported dirty. */
#define ONE_DIRTY(f, op, n, gpa, what)                                      \
	do {                                                                \
		const uint64_t one_dirty_[1] = { (gpa) };                   \
		expect_removals((f), (op), (n), one_dirty_, 1, (what));     \
	} while (0)

static void rm_init(struct sf *f, void **state)
{
	const struct sf_param *pr = *state;

	sf_init_changes(f, pr->c, pr->shared, &cr_ops, NULL);
}

/* tdp_unmap of one page: the one-leaf path */
static void t_rm_unmap_one(void **state)
{
	struct sf f;

	rm_init(&f, state);
	assert_int_equal(tdp_map(&f.pgt, G0, H0, 4 * f.P, TDP_PROT_RW, 0, NULL), 0);
	hw_arm(&f, G0 + f.P, sf_dbit(&f));
	cr_reset();
	assert_int_equal(tdp_unmap(&f.pgt, G0 + f.P, f.P, NULL), 0);
	hw_expect_fired(&f, "unmap of one page");
	ONE_DIRTY(&f, TDP_OP_UNMAP, 1, G0 + f.P, "unmap of one page");
	/* the same for a block */
	assert_int_equal(tdp_map(&f.pgt, G0 + 2 * f.blk, H0, f.blk, TDP_PROT_RW, 0, NULL), 0);
	hw_arm(&f, G0 + 2 * f.blk, sf_dbit(&f));
	cr_reset();
	assert_int_equal(tdp_unmap(&f.pgt, G0 + 2 * f.blk, f.blk, NULL), 0);
	hw_expect_fired(&f, "unmap of one block");
	ONE_DIRTY(&f, TDP_OP_UNMAP, 1, G0 + 2 * f.blk, "unmap of one block");
	sf_fini(&f);
}

/* tdp_unmap of a range of pages */
static void t_rm_unmap_range(void **state)
{
	struct sf f;

	rm_init(&f, state);
	assert_int_equal(tdp_map(&f.pgt, G0, H0, 4 * f.P, TDP_PROT_RW, 0, NULL), 0);
	hw_arm(&f, G0 + 2 * f.P, sf_dbit(&f));
	cr_reset();
	assert_int_equal(tdp_unmap(&f.pgt, G0, 3 * f.P, NULL), 0);
	hw_expect_fired(&f, "unmap of a range");
	ONE_DIRTY(&f, TDP_OP_UNMAP, 3, G0 + 2 * f.P, "unmap of a range");
	sf_fini(&f);
}

/* tdp_unmap of a whole table of pages: the table goes, its leaves swapped out one by one */
static void t_rm_unmap_table(void **state)
{
	struct sf f;

	rm_init(&f, state);
	assert_int_equal(tdp_map(&f.pgt, G0, H0, f.blk, TDP_PROT_RW, TDP_MAP_MAX_LEVEL(0), NULL), 0);
	hw_arm(&f, G0 + 7 * f.P, sf_dbit(&f));
	cr_reset();
	assert_int_equal(tdp_unmap(&f.pgt, G0, f.blk, NULL), 0);
	hw_expect_fired(&f, "unmap of a whole table");
	ONE_DIRTY(&f, TDP_OP_UNMAP, f.blk / f.P, G0 + 7 * f.P, "unmap of a whole table");
	sf_fini(&f);
}

/* tdp_zap of pages, then of a block */
static void t_rm_zap(void **state)
{
	struct tdp_zap_result zr;
	struct sf f;

	rm_init(&f, state);
	assert_int_equal(tdp_map(&f.pgt, G0, H0, 4 * f.P, TDP_PROT_RW, 0, NULL), 0);
	hw_arm(&f, G0 + 3 * f.P, sf_dbit(&f));
	cr_reset();
	assert_int_equal(tdp_zap(&f.pgt, G0, 4 * f.P, 0, &zr), 0);
	hw_expect_fired(&f, "zap of pages");
	ONE_DIRTY(&f, TDP_OP_ZAP, 4, G0 + 3 * f.P, "zap of pages");
	assert_int_equal(tdp_map(&f.pgt, G0 + 2 * f.blk, H0, f.blk, TDP_PROT_RW, 0, NULL), 0);
	hw_arm(&f, G0 + 2 * f.blk, sf_dbit(&f));
	cr_reset();
	assert_int_equal(tdp_zap(&f.pgt, G0 + 2 * f.blk, f.blk, 0, &zr), 0);
	hw_expect_fired(&f, "zap of a block");
	ONE_DIRTY(&f, TDP_OP_ZAP, 1, G0 + 2 * f.blk, "zap of a block");
	sf_fini(&f);
}

/* tdp_map giving a page (exactly, and within a larger map), then a block, another output */
static void t_rm_map_other(void **state)
{
	const uint64_t far = 16 * GiB;
	struct sf f;

	rm_init(&f, state);
	assert_int_equal(tdp_map(&f.pgt, G0, H0, 4 * f.P, TDP_PROT_RW, 0, NULL), 0);
	hw_arm(&f, G0 + f.P, sf_dbit(&f));
	cr_reset();
	assert_int_equal(tdp_map(&f.pgt, G0 + f.P, far, f.P, TDP_PROT_RW, 0, NULL), 0);
	hw_expect_fired(&f, "map of a page to another output");
	ONE_DIRTY(&f, TDP_OP_MAP, 1, G0 + f.P, "map of a page to another output");
	sf_expect_ad(&f, G0 + f.P, 0, "map of a page to another output: the new leaf");
	hw_arm(&f, G0 + 2 * f.P, sf_dbit(&f));
	cr_reset();
	assert_int_equal(tdp_map(&f.pgt, G0, far + 4 * f.P, 4 * f.P, TDP_PROT_RW, 0, NULL), 0);
	hw_expect_fired(&f, "map of pages to another output");
	ONE_DIRTY(&f, TDP_OP_MAP, 4, G0 + 2 * f.P, "map of pages to another output");
	assert_int_equal(tdp_map(&f.pgt, G0 + 2 * f.blk, H0, f.blk, TDP_PROT_RW, 0, NULL), 0);
	hw_arm(&f, G0 + 2 * f.blk, sf_dbit(&f));
	cr_reset();
	assert_int_equal(tdp_map(&f.pgt, G0 + 2 * f.blk, far + f.blk, f.blk, TDP_PROT_RW, 0, NULL),
			 0);
	hw_expect_fired(&f, "map of a block to another output");
	ONE_DIRTY(&f, TDP_OP_MAP, 1, G0 + 2 * f.blk, "map of a block to another output");
	sf_fini(&f);
}

/* tdp_map of a block where a table of pages was */
static void t_rm_map_block_over_table(void **state)
{
	struct sf f;

	rm_init(&f, state);
	assert_int_equal(tdp_map(&f.pgt, G0, H0, f.blk, TDP_PROT_RW, TDP_MAP_MAX_LEVEL(0), NULL), 0);
	hw_arm(&f, G0 + 9 * f.P, sf_dbit(&f));
	cr_reset();
	assert_int_equal(tdp_map(&f.pgt, G0, H0 + 8 * f.blk, f.blk, TDP_PROT_RW, 0, NULL), 0);
	hw_expect_fired(&f, "map of a block over a table");
	ONE_DIRTY(&f, TDP_OP_MAP, f.blk / f.P, G0 + 9 * f.P, "map of a block over a table");
	sf_fini(&f);
}

/* destroy: the leaves are read after its flush_all, so D set until then is reported */
static uint64_t *dirty_at_flush_all;

static void set_dirty_at_flush_all(struct sf *f)
{
	if (dirty_at_flush_all)
		*dirty_at_flush_all |= sf_dbit(f);
	dirty_at_flush_all = NULL;
}

static void t_rm_destroy(void **state)
{
	uint64_t dirty[3];
	struct sf f;

	rm_init(&f, state);
	assert_int_equal(tdp_map(&f.pgt, G0, H0, 4 * f.P, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&f.pgt, G0 + 2 * f.blk, H0 + 2 * f.blk, 2 * f.blk, TDP_PROT_RW, 0,
				 NULL), 0);
	dirty[0] = G0 + 3 * f.P;
	dirty[1] = G0 + 3 * f.blk;
	dirty[2] = G0 + f.P;
	sf_hw_set(&f, dirty[0], sf_dbit(&f));
	sf_hw_set(&f, dirty[1], sf_dbit(&f));
	/* the hardware still writes until the flush */
	dirty_at_flush_all = sf_leaf_must(&f, dirty[2]);
	f.on_flush_all = set_dirty_at_flush_all;
	cr_reset();
	sf_fini(&f);
	if (dirty_at_flush_all)
		fail_msg("destroy [%s]: no flush_all", f.c->name);
	expect_removals(&f, TDP_OP_DESTROY, 6, dirty, 3, "destroy");
}

/* ------------------------------------------------------------------ */
/* e. map changing only permissions or software bits                   */

static void t_map_same_output(void **state)
{
	const struct sf_param *pr = *state;
	struct target t[2];
	struct sf f;

	sf_init(&f, pr->c, pr->shared);
	targets(&f, t);
	for (int k = 0; k < 2; k++) {
		/* 0: exactly the leaf (the one-leaf path for a page), 1: the whole range */
		for (int wide = 0; wide < 2; wide++) {
			const uint64_t D = sf_dbit(&f), A = sf_abit(&f);
			const uint64_t g = wide ? t[k].gpa : t[k].leaf, sz = wide ? t[k].size : t[k].lsize;
			const tdp_attr_t attr[2] = { TDP_PROT_RW | TDP_SW(2), TDP_PROT_R };
			char what[96];

			target_map(&f, &t[k]);
			for (int a = 0; a < 2; a++) {
				snprintf(what, sizeof(what), "map of a %s%s to attr 0x%x", t[k].name,
					 wide ? " (whole range)" : "", attr[a]);
				sf_hw_set(&f, t[k].leaf, A);
				hw_arm(&f, t[k].leaf, D);
				assert_int_equal(tdp_map(&f.pgt, g, H0 + (g - G0), sz, attr[a], 0, NULL),
						 0);
				hw_expect_fired(&f, what);
				expect_attr(&f, t[k].leaf, attr[a], what);
				sf_expect_ad(&f, t[k].leaf, A | D, what);
				expect_leaf_dirty(&f, &t[k], what);
			}
			assert_int_equal(tdp_unmap(&f.pgt, t[k].gpa, t[k].size, NULL), 0);
		}
	}
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */

int main(void)
{
	static const struct sf_case cases[] = {
		{ "t_protect", t_protect },
		{ "t_young", t_young },
		{ "t_dirty", t_dirty },
		{ "t_rm_unmap_one", t_rm_unmap_one },
		{ "t_rm_unmap_range", t_rm_unmap_range },
		{ "t_rm_unmap_table", t_rm_unmap_table },
		{ "t_rm_zap", t_rm_zap },
		{ "t_rm_map_other", t_rm_map_other },
		{ "t_rm_map_block_over_table", t_rm_map_block_over_table },
		{ "t_rm_destroy", t_rm_destroy },
		{ "t_map_same_output", t_map_same_output },
	};
	int ret;

	ret = sf_run_ad_cases("hwrace", cases, sizeof(cases) / sizeof(cases[0]));
	/* the hooked library is the one linked: its writes went through the hook */
	if (hw.calls == 0) {
		fprintf(stderr, "test_hwrace: the hook was never called (normal libtdp linked?)\n");
		return 1;
	}
	return ret;
}
