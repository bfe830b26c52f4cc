/* SPDX-License-Identifier: MIT */
/*
 * Dirty pages removed from the table reach the caller through the change
 * reports (tdp/changes.h), on EPT with TDP_CFG_X86_AD and RISC-V with
 * Svadu, in exclusive and shared mode.
 *
 * The test keeps a page-granular model of a 16 MiB window (which pages are
 * mapped, which the hardware dirtied: it sets D in raw leaves, a block's D
 * dirtying all its pages). After each call every report is checked against
 * the model: a removal (REMOVE, or an UPDATE to another output address) of
 * a leaf says dirty exactly when its pages are dirty, a reshape (a block
 * split with the same translation) carries the block's flag to every new
 * leaf, a new leaf is clean; every page mapped in the removed range is
 * removed exactly once, no page outside it is. So a dirty page is reported
 * exactly once as removed dirty, a clean page clean. Removals: tdp_unmap of
 * pages, of a whole table of pages (unlinked whole), of blocks (and one
 * block, the one-leaf path), of a range whose edges split dirty blocks (the
 * pages left stay dirty: collect_dirty reports them); tdp_zap with and
 * without budget (a straddling block goes whole); tdp_map to another output
 * address (pages, a block, pages over a dirty block, a block over a table
 * of dirty pages); tdp_pgtable_destroy (every scenario ends with it).
 *
 * The contract of the callback on a few calls (t_contract_*): op codes,
 * split's REMOVE of the block then ADD of each new leaf, all reshape, no
 * reports from tdp_test_clear_young or tdp_collect_dirty, none from failed
 * calls (-TDP_ENOMEM with an empty memory cache, -TDP_EINVAL, -TDP_EEXIST).
 */
#include "sem_fixture.h"
#include "change_rec.h"

#define G0  (4 * GiB)  /* the window: [G0, G0 + 8 blocks), 4096 pages */
#define H0  (8 * GiB)  /* its first output: hpa = gpa - G0 + H0 */
#define FAR (64 * GiB) /* another output for remaps */
#define NPG (SF_BM_WORDS * 64)

/* ------------------------------------------------------------------ */
/* The model                                                           */

static struct {
	uint64_t mapped[SF_BM_WORDS];
	uint64_t dirty[SF_BM_WORDS];
	uint64_t was_mapped[SF_BM_WORDS]; /* mapped when the call began */
	unsigned char removed[NPG];       /* removals of each page in the call */
	unsigned char added[NPG];         /* non-reshape additions */
} M;

static uint64_t pg_of(const struct sf *f, uint64_t gpa)
{
	if (gpa < G0 || (gpa - G0) / f->P >= NPG)
		fail_msg("gpa 0x%llx outside the window", ULL(gpa));
	return (gpa - G0) / f->P;
}

static bool bit(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

static void bits_set(const struct sf *f, uint64_t *bm, uint64_t gpa, uint64_t size, bool v)
{
	for (uint64_t a = gpa; a < gpa + size; a += f->P) {
		uint64_t i = pg_of(f, a);

		if (v)
			bm[i / 64] |= 1ull << (i % 64);
		else
			bm[i / 64] &= ~(1ull << (i % 64));
	}
}

static void model_reset(void)
{
	memset(&M, 0, sizeof(M));
}

/* Pages [gpa, gpa + size) now map, clean (a new mapping). */
static void model_map(const struct sf *f, uint64_t gpa, uint64_t size)
{
	bits_set(f, M.mapped, gpa, size, true);
	bits_set(f, M.dirty, gpa, size, false);
}

/* Pages [gpa, gpa + size) no longer map. */
static void model_unmap(const struct sf *f, uint64_t gpa, uint64_t size)
{
	bits_set(f, M.mapped, gpa, size, false);
	bits_set(f, M.dirty, gpa, size, false);
}

/* Play the hardware: D in the leaf that translates gpa, so all its pages are dirty. */
static void hw_dirty(struct sf *f, uint64_t gpa)
{
	unsigned int level = 0;
	uint64_t *ptep = sf_leaf(f, gpa, &level), size;

	if (!ptep)
		fail_msg("%s: no leaf at 0x%llx to dirty", f->c->name, ULL(gpa));
	*ptep |= sf_dbit(f);
	size = tdp_level_size(&f->pgt, level);
	bits_set(f, M.dirty, gpa & ~(size - 1), size, true);
}

/* tdp_map of [gpa, gpa + size) to its first output, checked as a call that removes nothing. */
static void begin(void);
static void expect_call(const struct sf *f, enum tdp_op op, uint64_t lo, uint64_t hi,
			const char *what);

static void map_at(struct sf *f, uint64_t gpa, uint64_t size, uint32_t flags)
{
	begin();
	assert_int_equal(tdp_map(&f->pgt, gpa, H0 + (gpa - G0), size, TDP_PROT_RW, flags, NULL), 0);
	expect_call(f, TDP_OP_MAP, 0, 0, "map");
	model_map(f, gpa, size);
}

/* ------------------------------------------------------------------ */
/* The reports of one call against the model                           */

static void begin(void)
{
	cr_reset();
	memcpy(M.was_mapped, M.mapped, sizeof(M.mapped));
}

static const char *mode(const struct sf *f)
{
	return f->shared ? ", shared" : "";
}

static void bad_report(const struct sf *f, size_t i, const char *what, const char *why,
		       uint64_t gpa)
{
	cr_print();
	fail_msg("%s [%s%s]: report #%zu (%s%s, leaf 0x%llx): %s (page 0x%llx)", what, f->c->name,
		 mode(f), i, cr_kind_name(cr.r[i].kind), cr.r[i].reshape ? " reshape" : "",
		 ULL(cr.r[i].kind == TDP_CHANGE_ADD ? cr.r[i].new.addr : cr.r[i].old.addr), why,
		 ULL(gpa));
}

/*
 * The reports since begin() come from op and remove exactly the pages that
 * were mapped in [lo, hi), each once, with the dirty flag of the model.
 * The model is not changed (the caller says what the call did).
 */
static void expect_call(const struct sf *f, enum tdp_op op, uint64_t lo, uint64_t hi,
			const char *what)
{
	memset(M.removed, 0, sizeof(M.removed));
	memset(M.added, 0, sizeof(M.added));
	if (cr.n > CR_MAX)
		fail_msg("%s: %zu reports, more than recorded", what, cr.n);
	for (size_t i = 0; i < cr.n; i++) {
		const struct tdp_change *c = &cr.r[i];
		const struct tdp_entry *o = &c->old, *n = &c->new;
		const bool removal = c->kind == TDP_CHANGE_REMOVE ?
					     !c->reshape :
					     c->kind == TDP_CHANGE_UPDATE && o->pa != n->pa;

		if (c->op != op)
			bad_report(f, i, what, "wrong op", 0);
		if ((c->kind == TDP_CHANGE_ADD) == o->valid ||
		    (c->kind == TDP_CHANGE_REMOVE) == n->valid || o->table || n->table)
			bad_report(f, i, what, "old/new do not fit the kind", 0);
		if (c->reshape && c->kind == TDP_CHANGE_UPDATE)
			bad_report(f, i, what, "reshape UPDATE", 0);
		if (o->valid) {
			for (uint64_t a = o->addr; a < o->addr + o->size; a += f->P) {
				uint64_t p = pg_of(f, a);

				if (!bit(M.was_mapped, p))
					bad_report(f, i, what, "a page not mapped before the call", a);
				if (o->dirty != bit(M.dirty, p))
					bad_report(f, i, what,
						   o->dirty ? "old.dirty, page clean"
							    : "old clean, page dirty", a);
				if (removal && M.removed[p]++)
					bad_report(f, i, what, "page removed twice", a);
				if (removal && !(a >= lo && a < hi))
					bad_report(f, i, what, "removal outside the range", a);
			}
		}
		if (n->valid) {
			for (uint64_t a = n->addr; a < n->addr + n->size; a += f->P) {
				uint64_t p = pg_of(f, a);
				/*
				 * A reshape's leaves and a leaf changed in place (protect) keep
				 * the page's state; a new leaf is clean.
				 */
				bool want = c->reshape ? bit(M.dirty, p)
						       : !removal && o->valid && bit(M.dirty, p);

				if (n->dirty != want)
					bad_report(f, i, what, want ? "new leaf lost the page's dirty flag"
								    : "new leaf dirty", a);
				if (c->kind == TDP_CHANGE_ADD && !c->reshape && M.added[p]++)
					bad_report(f, i, what, "page added twice", a);
			}
		}
	}
	for (uint64_t p = 0; p < NPG; p++) {
		uint64_t a = G0 + p * f->P;
		unsigned int want = bit(M.was_mapped, p) && a >= lo && a < hi;

		if (M.removed[p] != want) {
			cr_print();
			fail_msg("%s [%s%s]: page 0x%llx (%s%s) removed %u times, expected %u", what,
				 f->c->name, mode(f), ULL(a), bit(M.was_mapped, p) ? "mapped" : "unmapped",
				 bit(M.dirty, p) ? ", dirty" : "", M.removed[p], want);
		}
	}
}

/* collect_dirty over the window reports exactly the model's dirty pages, and no change. */
static void expect_collect(struct sf *f, const char *what)
{
	uint64_t bm[SF_BM_WORDS];

	memset(bm, 0, sizeof(bm));
	cr_reset();
	assert_int_equal(tdp_collect_dirty(&f->pgt, G0, NPG * f->P, bm), 0);
	if (cr.n)
		fail_msg("%s [%s%s]: collect_dirty gave %zu change reports", what, f->c->name,
			 mode(f), cr.n);
	for (uint64_t p = 0; p < NPG; p++) {
		if (bit(bm, p) != bit(M.dirty, p))
			fail_msg("%s [%s%s]: collect_dirty: page 0x%llx %s, the model says %s", what,
				 f->c->name, mode(f), ULL(G0 + p * f->P),
				 bit(bm, p) ? "reported" : "not reported",
				 bit(M.dirty, p) ? "dirty" : "clean");
	}
	memset(M.dirty, 0, sizeof(M.dirty));
}

static void start(struct sf *f, void **state)
{
	const struct sf_param *pr = *state;

	model_reset();
	sf_init_changes(f, pr->c, pr->shared, &cr_ops, NULL);
}

/* Destroy: every page still mapped is reported removed once, with its flag. */
static void finish(struct sf *f)
{
	begin();
	sf_fini(f);
	expect_call(f, TDP_OP_DESTROY, G0, G0 + NPG * f->P, "destroy");
}

/* ------------------------------------------------------------------ */
/* Removals                                                            */

static void t_unmap_pages(void **state)
{
	struct sf f;

	start(&f, state);
	map_at(&f, G0, 64 * f.P, 0);
	hw_dirty(&f, G0 + 3 * f.P);
	hw_dirty(&f, G0 + 10 * f.P);
	hw_dirty(&f, G0 + 11 * f.P);
	hw_dirty(&f, G0 + 40 * f.P);
	begin();
	assert_int_equal(tdp_unmap(&f.pgt, G0 + 8 * f.P, 40 * f.P, NULL), 0);
	expect_call(&f, TDP_OP_UNMAP, G0 + 8 * f.P, G0 + 48 * f.P, "unmap of pages");
	model_unmap(&f, G0 + 8 * f.P, 40 * f.P);
	/* one page, the one-leaf path */
	hw_dirty(&f, G0 + 50 * f.P);
	begin();
	assert_int_equal(tdp_unmap(&f.pgt, G0 + 50 * f.P, f.P, NULL), 0);
	expect_call(&f, TDP_OP_UNMAP, G0 + 50 * f.P, G0 + 51 * f.P, "unmap of one page");
	model_unmap(&f, G0 + 50 * f.P, f.P);
	expect_collect(&f, "after unmap of pages");
	hw_dirty(&f, G0 + 60 * f.P);
	finish(&f);
}

static void t_unmap_table(void **state)
{
	struct tdp_lookup_result r;
	uint64_t t;
	struct sf f;

	start(&f, state);
	t = G0 + f.blk;
	map_at(&f, t, f.blk, TDP_MAP_MAX_LEVEL(0));
	hw_dirty(&f, t);
	hw_dirty(&f, t + 17 * f.P);
	hw_dirty(&f, t + 511 * f.P);
	map_at(&f, G0, 4 * f.P, 0); /* a neighbour that stays */
	hw_dirty(&f, G0 + f.P);
	begin();
	assert_int_equal(tdp_unmap(&f.pgt, t, f.blk, NULL), 0);
	expect_call(&f, TDP_OP_UNMAP, t, t + f.blk, "unmap of a whole table");
	model_unmap(&f, t, f.blk);
	assert_int_equal(tdp_lookup(&f.pgt, t + 17 * f.P, &r), -TDP_ENOENT);
	finish(&f);
}

static void t_unmap_blocks(void **state)
{
	uint64_t b;
	struct sf f;

	start(&f, state);
	b = G0 + 2 * f.blk;
	map_at(&f, b, 2 * f.blk, 0);
	hw_dirty(&f, b);
	begin();
	assert_int_equal(tdp_unmap(&f.pgt, b, 2 * f.blk, NULL), 0);
	expect_call(&f, TDP_OP_UNMAP, b, b + 2 * f.blk, "unmap of two blocks");
	model_unmap(&f, b, 2 * f.blk);
	/* one block, the one-leaf path */
	map_at(&f, b, 2 * f.blk, 0);
	hw_dirty(&f, b + f.blk);
	begin();
	assert_int_equal(tdp_unmap(&f.pgt, b + f.blk, f.blk, NULL), 0);
	expect_call(&f, TDP_OP_UNMAP, b + f.blk, b + 2 * f.blk, "unmap of one block");
	model_unmap(&f, b + f.blk, f.blk);
	hw_dirty(&f, b);
	finish(&f);
}

/* An unmap whose edges fall inside blocks: they are split, the pages outside stay dirty. */
static void t_unmap_split_edges(void **state)
{
	uint64_t b, lo, hi;
	struct sf f;

	start(&f, state);
	b = G0 + 2 * f.blk;
	lo = b + 100 * f.P;
	hi = b + f.blk + 300 * f.P;
	map_at(&f, b, 2 * f.blk, 0);
	hw_dirty(&f, b); /* the first block dirty, the second clean */
	begin();
	assert_int_equal(tdp_unmap(&f.pgt, lo, hi - lo, NULL), 0);
	expect_call(&f, TDP_OP_UNMAP, lo, hi, "unmap splitting blocks at its edges");
	model_unmap(&f, lo, hi - lo);
	/* both edges split: the reports hold two reshape REMOVEs */
	{
		size_t reshaped = 0;

		for (size_t i = 0; i < cr.n; i++)
			reshaped += cr.r[i].kind == TDP_CHANGE_REMOVE && cr.r[i].reshape;
		assert_int_equal(reshaped, 2);
	}
	/* the dirty block's pages left are dirty pages now */
	sf_expect_ad(&f, b + 99 * f.P, sf_dbit(&f), "page left of a split dirty block");
	expect_collect(&f, "after an unmap splitting a dirty block");
	/* and again, dirtied by the hardware after the collect, removed by destroy */
	hw_dirty(&f, b + 5 * f.P);
	hw_dirty(&f, b + f.blk + 400 * f.P);
	finish(&f);
}

/* A table of pages, pages, blocks: the zap mixture. */
static void zap_mixture(struct sf *f)
{
	map_at(f, G0, 64 * f->P, 0);
	map_at(f, G0 + f->blk, f->blk, TDP_MAP_MAX_LEVEL(0));
	map_at(f, G0 + 2 * f->blk, 2 * f->blk, 0);
	hw_dirty(f, G0 + 5 * f->P);
	hw_dirty(f, G0 + f->blk + 100 * f->P);
	hw_dirty(f, G0 + f->blk + 511 * f->P);
	hw_dirty(f, G0 + 2 * f->blk);
}

static void t_zap(void **state)
{
	struct tdp_zap_result zr;
	uint64_t b;
	struct sf f;

	start(&f, state);
	zap_mixture(&f);
	begin();
	assert_int_equal(tdp_zap(&f.pgt, G0, 4 * f.blk, 0, &zr), 0);
	expect_call(&f, TDP_OP_ZAP, G0, G0 + 4 * f.blk, "zap");
	model_unmap(&f, G0, 4 * f.blk);
	/* a dirty block straddling the range goes whole */
	b = G0 + 4 * f.blk;
	map_at(&f, b, f.blk, 0);
	hw_dirty(&f, b);
	begin();
	assert_int_equal(tdp_zap(&f.pgt, b + f.P, f.P, 0, &zr), 0);
	expect_call(&f, TDP_OP_ZAP, b, b + f.blk, "zap inside a block");
	model_unmap(&f, b, f.blk);
	map_at(&f, b, f.blk, 0);
	hw_dirty(&f, b);
	finish(&f);
}

static void t_zap_budget(void **state)
{
	struct tdp_zap_result zr;
	uint64_t s, e;
	unsigned int calls = 0;
	struct sf f;
	int rc;

	start(&f, state);
	zap_mixture(&f);
	/* from the second page: the first table is entered, its pages zapped one by one */
	s = G0 + f.P;
	e = G0 + 4 * f.blk;
	begin();
	do {
		rc = tdp_zap(&f.pgt, s, e - s, 3, &zr);
		assert_true(rc == 0 || rc == 1);
		assert_true(zr.resume > s || rc == 0);
		s = zr.resume;
		calls++;
	} while (rc == 1);
	expect_call(&f, TDP_OP_ZAP, G0 + f.P, e, "zap with a budget of 3");
	/* 63 pages, a table, 2 blocks: 66 entries, 3 a call */
	assert_int_equal(calls, 22);
	model_unmap(&f, G0 + f.P, e - G0 - f.P);
	finish(&f);
}

static void t_map_other_output(void **state)
{
	uint64_t b;
	struct sf f;

	start(&f, state);
	/* pages */
	map_at(&f, G0, 64 * f.P, 0);
	hw_dirty(&f, G0 + 7 * f.P);
	hw_dirty(&f, G0 + 8 * f.P);
	begin();
	assert_int_equal(tdp_map(&f.pgt, G0, FAR, 64 * f.P, TDP_PROT_RW, 0, NULL), 0);
	expect_call(&f, TDP_OP_MAP, G0, G0 + 64 * f.P, "map of pages to another output");
	model_map(&f, G0, 64 * f.P);
	/* a block */
	b = G0 + 2 * f.blk;
	map_at(&f, b, f.blk, 0);
	hw_dirty(&f, b);
	begin();
	assert_int_equal(tdp_map(&f.pgt, b, FAR + 2 * f.blk, f.blk, TDP_PROT_RW, 0, NULL), 0);
	expect_call(&f, TDP_OP_MAP, b, b + f.blk, "map of a block to another output");
	model_map(&f, b, f.blk);
	/* pages over a dirty block, another output */
	b = G0 + 3 * f.blk;
	map_at(&f, b, f.blk, 0);
	hw_dirty(&f, b);
	begin();
	assert_int_equal(tdp_map(&f.pgt, b, FAR + 3 * f.blk, f.blk, TDP_PROT_RW,
				 TDP_MAP_MAX_LEVEL(0), NULL), 0);
	expect_call(&f, TDP_OP_MAP, b, b + f.blk, "map of pages over a dirty block");
	model_map(&f, b, f.blk);
	expect_collect(&f, "after maps to another output");
	hw_dirty(&f, b + 3 * f.P);
	finish(&f);
}

static void t_map_block_over_table(void **state)
{
	uint64_t t;
	struct sf f;

	start(&f, state);
	t = G0 + 5 * f.blk;
	map_at(&f, t, f.blk, TDP_MAP_MAX_LEVEL(0));
	hw_dirty(&f, t);
	hw_dirty(&f, t + 255 * f.P);
	hw_dirty(&f, t + 511 * f.P);
	begin();
	assert_int_equal(tdp_map(&f.pgt, t, FAR, f.blk, TDP_PROT_RW, 0, NULL), 0);
	expect_call(&f, TDP_OP_MAP, t, t + f.blk, "map of a block over a table of dirty pages");
	model_map(&f, t, f.blk);
	/* the block is reported added after the table's leaves went */
	assert_int_equal(cr.r[cr.n - 1].kind, TDP_CHANGE_ADD);
	assert_int_equal(cr.r[cr.n - 1].new.size, f.blk);
	hw_dirty(&f, t);
	finish(&f);
}

/* Destroy of a table holding every kind of leaf, with dirty ones of each. */
static void t_destroy(void **state)
{
	struct sf f;

	start(&f, state);
	zap_mixture(&f);
	/* blocks split by a protect at their edge: tables of pages made from dirty blocks */
	map_at(&f, G0 + 5 * f.blk, 2 * f.blk, 0);
	hw_dirty(&f, G0 + 5 * f.blk);
	begin();
	assert_int_equal(tdp_protect(&f.pgt, G0 + 5 * f.blk + 10 * f.P, f.blk, TDP_PROT_W, 0,
				     NULL), 0);
	expect_call(&f, TDP_OP_PROTECT, 0, 0, "protect splitting blocks");
	hw_dirty(&f, G0 + 6 * f.blk + 400 * f.P);
	finish(&f);
}

/* ------------------------------------------------------------------ */
/* The callback's contract                                             */

static void expect_no_reports(const struct sf *f, const char *what)
{
	if (cr.n) {
		cr_print();
		fail_msg("%s [%s%s]: %zu reports, expected none", what, f->c->name, mode(f), cr.n);
	}
}

static void t_contract_ops(void **state)
{
	struct tdp_fault_region rg;
	struct tdp_fault_result fr;
	struct tdp_memcache mc;
	struct tdp_zap_result zr;
	uint64_t b, bm[SF_BM_WORDS];
	bool young;
	struct sf f;

	start(&f, state);
	/* map: an ADD per leaf */
	begin();
	assert_int_equal(tdp_map(&f.pgt, G0, H0, 4 * f.P, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(cr.n, 4);
	for (size_t i = 0; i < cr.n; i++) {
		assert_int_equal(cr.r[i].op, TDP_OP_MAP);
		assert_int_equal(cr.r[i].kind, TDP_CHANGE_ADD);
		assert_false(cr.r[i].reshape);
		assert_false(cr.r[i].old.valid);
		assert_true(cr.r[i].new.valid);
		assert_int_equal(cr.r[i].new.addr, G0 + i * f.P);
		assert_int_equal(cr.r[i].new.pa, H0 + i * f.P);
		assert_int_equal(cr.r[i].new.attr, TDP_PROT_RW);
	}
	model_map(&f, G0, 4 * f.P);
	/* map_fault: one ADD, op FAULT */
	tdp_memcache_init(&mc);
	assert_int_equal(tdp_memcache_topup(&f.pgt, &mc,
					    (size_t)tdp_map_fault_pages_needed(&f.pgt)), 0);
	rg = (struct tdp_fault_region){ G0, 64 * f.P, H0 };
	begin();
	assert_int_equal(tdp_map_fault(&f.pgt, G0 + 9 * f.P + 5, &rg, TDP_PROT_RW, 0, &mc, &fr), 0);
	assert_int_equal(cr.n, 1);
	assert_int_equal(cr.r[0].op, TDP_OP_FAULT);
	assert_int_equal(cr.r[0].kind, TDP_CHANGE_ADD);
	assert_int_equal(cr.r[0].new.addr, G0 + 9 * f.P);
	assert_int_equal(cr.r[0].new.pa, H0 + 9 * f.P);
	model_map(&f, G0 + 9 * f.P, f.P);
	/* a fault on a mapped page: -TDP_EEXIST, nothing reported */
	begin();
	assert_int_equal(tdp_map_fault(&f.pgt, G0 + 9 * f.P, &rg, TDP_PROT_RW, 0, &mc, &fr),
			 -TDP_EEXIST);
	expect_no_reports(&f, "map_fault on a mapped page");
	tdp_memcache_drain(&f.pgt, &mc);
	/* protect: an UPDATE per leaf whose entry changes, op PROTECT */
	hw_dirty(&f, G0 + 2 * f.P);
	begin();
	assert_int_equal(tdp_protect(&f.pgt, G0, 16 * f.P, TDP_PROT_W, 0, NULL), 0);
	assert_int_equal(cr.n, 5);
	for (size_t i = 0; i < cr.n; i++) {
		assert_int_equal(cr.r[i].kind, TDP_CHANGE_UPDATE);
		assert_false(cr.r[i].reshape);
		assert_int_equal(cr.r[i].old.attr, TDP_PROT_RW);
		assert_int_equal(cr.r[i].new.attr, TDP_PROT_R);
	}
	expect_call(&f, TDP_OP_PROTECT, 0, 0, "protect");
	/* young and collect_dirty: flags only, no report */
	sf_hw_set(&f, G0 + 3 * f.P, sf_abit(&f) | sf_dbit(&f));
	bits_set(&f, M.dirty, G0 + 3 * f.P, f.P, true);
	begin();
	assert_int_equal(tdp_test_clear_young(&f.pgt, G0, 16 * f.P, &young), 0);
	assert_true(young);
	expect_no_reports(&f, "test_clear_young");
	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f.pgt, G0, 16 * f.P, bm), 0);
	assert_int_equal(bm[0], (1ull << 2) | (1ull << 3));
	expect_no_reports(&f, "collect_dirty");
	memset(M.dirty, 0, sizeof(M.dirty));
	/* split: REMOVE of the block, then ADD of each new leaf, all reshape, op SPLIT */
	b = G0 + 2 * f.blk;
	map_at(&f, b, f.blk, 0);
	hw_dirty(&f, b);
	begin();
	assert_int_equal(tdp_split(&f.pgt, b, f.blk, 0, NULL), 0);
	assert_int_equal(cr.n, 1 + f.blk / f.P);
	assert_int_equal(cr.r[0].kind, TDP_CHANGE_REMOVE);
	assert_true(cr.r[0].reshape);
	assert_int_equal(cr.r[0].old.addr, b);
	assert_int_equal(cr.r[0].old.size, f.blk);
	assert_true(cr.r[0].old.dirty);
	for (size_t i = 1; i < cr.n; i++) {
		assert_int_equal(cr.r[i].kind, TDP_CHANGE_ADD);
		assert_true(cr.r[i].reshape);
		assert_int_equal(cr.r[i].new.addr, b + (i - 1) * f.P);
		assert_int_equal(cr.r[i].new.size, f.P);
		assert_int_equal(cr.r[i].new.pa, cr.r[0].old.pa + (i - 1) * f.P);
		assert_int_equal(cr.r[i].new.attr, cr.r[0].old.attr);
	}
	expect_call(&f, TDP_OP_SPLIT, 0, 0, "split");
	/* unmap and zap: op codes */
	begin();
	assert_int_equal(tdp_unmap(&f.pgt, G0, f.P, NULL), 0);
	expect_call(&f, TDP_OP_UNMAP, G0, G0 + f.P, "unmap");
	assert_int_equal(cr.n, 1);
	model_unmap(&f, G0, f.P);
	begin();
	assert_int_equal(tdp_zap(&f.pgt, G0, 2 * f.P, 0, &zr), 0);
	expect_call(&f, TDP_OP_ZAP, G0, G0 + 2 * f.P, "zap");
	assert_int_equal(cr.n, 1);
	model_unmap(&f, G0, 2 * f.P);
	finish(&f);
}

static void t_contract_failures(void **state)
{
	struct tdp_memcache mc;
	uint64_t b;
	struct sf f;

	start(&f, state);
	b = G0 + 2 * f.blk;
	map_at(&f, G0, 4 * f.P, 0);
	map_at(&f, b, f.blk, 0);
	hw_dirty(&f, b);
	tdp_memcache_init(&mc);
	/* -TDP_ENOMEM with an empty cache: nothing reported, nothing changed */
	begin();
	assert_int_equal(tdp_map(&f.pgt, G0 + 6 * f.blk, H0, 4 * f.P, TDP_PROT_RW, 0, &mc),
			 -TDP_ENOMEM);
	expect_no_reports(&f, "map with an empty cache");
	assert_int_equal(tdp_map(&f.pgt, G0 + 6 * f.blk, H0, f.P, TDP_PROT_RW, 0, &mc), -TDP_ENOMEM);
	expect_no_reports(&f, "one-page map with an empty cache");
	assert_int_equal(tdp_split(&f.pgt, b, f.blk, 0, &mc), -TDP_ENOMEM);
	expect_no_reports(&f, "split with an empty cache");
	assert_int_equal(tdp_unmap(&f.pgt, b + f.P, f.P, &mc), -TDP_ENOMEM);
	expect_no_reports(&f, "unmap splitting a block, empty cache");
	assert_int_equal(tdp_protect(&f.pgt, b + f.P, f.P, TDP_PROT_W, 0, &mc), -TDP_ENOMEM);
	expect_no_reports(&f, "protect splitting a block, empty cache");
	/* -TDP_EINVAL */
	assert_int_equal(tdp_map(&f.pgt, G0 + 1, H0, f.P, TDP_PROT_RW, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_map(&f.pgt, G0, H0, 4 * f.P, TDP_PROT_W, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_unmap(&f.pgt, G0, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_unmap(&f.pgt, G0 + 1, f.P, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_zap(&f.pgt, G0, 4 * f.P, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_protect(&f.pgt, G0, 4 * f.P, TDP_PROT_W | (1u << 20), 0, NULL),
			 -TDP_EINVAL);
	assert_int_equal(tdp_split(&f.pgt, b, f.blk, 9, NULL), -TDP_EINVAL);
	expect_no_reports(&f, "calls failing with -TDP_EINVAL");
	/* -TDP_EEXIST */
	assert_int_equal(tdp_map(&f.pgt, G0, FAR, 4 * f.P, TDP_PROT_RW, TDP_MAP_NOREPLACE, NULL),
			 -TDP_EEXIST);
	assert_int_equal(tdp_map(&f.pgt, G0, FAR, f.P, TDP_PROT_RW, TDP_MAP_NOREPLACE, NULL),
			 -TDP_EEXIST);
	expect_no_reports(&f, "maps failing with -TDP_EEXIST");
	/* what was there still is, with its flags */
	sf_expect_lookup(&f, b + f.P, H0 + 2 * f.blk + f.P, 1, TDP_PROT_RW);
	sf_expect_lookup(&f, G0, H0, 0, TDP_PROT_RW);
	finish(&f);
}

/* ------------------------------------------------------------------ */

int main(void)
{
	static const struct sf_case cases[] = {
		{ "t_unmap_pages", t_unmap_pages },
		{ "t_unmap_table", t_unmap_table },
		{ "t_unmap_blocks", t_unmap_blocks },
		{ "t_unmap_split_edges", t_unmap_split_edges },
		{ "t_zap", t_zap },
		{ "t_zap_budget", t_zap_budget },
		{ "t_map_other_output", t_map_other_output },
		{ "t_map_block_over_table", t_map_block_over_table },
		{ "t_destroy", t_destroy },
		{ "t_contract_ops", t_contract_ops },
		{ "t_contract_failures", t_contract_failures },
	};

	return sf_run_ad_cases("dirty_removal", cases, sizeof(cases) / sizeof(cases[0]));
}
