/* SPDX-License-Identifier: MIT */
/*
 * Hardware accessed/dirty flags against the library's own writes, on every
 * table that has them in use (EPT with TDP_CFG_X86_AD, RISC-V with Svadu),
 * in exclusive and in shared mode. The test plays the hardware: it ORs A
 * and D into raw leaves, as a CPU walking the table would, and checks that
 * no later library write loses them where the headers say they stay:
 *
 * - t_remap_same_keeps_ad: tdp_map of the very translation a leaf holds
 *   (same gpa, hpa, size, attributes) over a page and over a block, through
 *   the one-leaf path (with and without a memory cache) and through a
 *   larger map that covers the leaf: A and D stay, and collect_dirty then
 *   reports the pages. Guards against a map that rewrites an unchanged leaf
 *   from its template (A = D = 0) and loses a dirty page to migration.
 * - t_collect_straddle: a dirty block straddling the start, then the end
 *   of tdp_collect_dirty's range reports exactly its pages inside (and the
 *   dirty pages next to it in the range) and stays dirty; a collect over the
 *   whole block then reports all its pages and cleans it. Guards the
 *   bitmap's indexing at both edges and the "stays dirty" rule.
 * - t_protect_keeps_ad: write-protect, then give write back, over pages and
 *   a block with A and D set in some of them: the flags stay exactly as the
 *   hardware left them, and a protect that splits a dirty block leaves every
 *   page of it dirty. Guards pte_with_prot and the split template.
 *
 * (RISC-V Svnapot groups under Svadu are left to their own test.)
 */
#include "sem_fixture.h"

static const struct sf_cfg ad_cfgs[] = {
	{ "ept-4l-ad", TDP_FORMAT_X86_EPT, 48, 46, 12, TDP_CFG_X86_AD },
	{ "ept-5l-ad-eo", TDP_FORMAT_X86_EPT, 57, 52, 12, TDP_CFG_X86_AD | TDP_CFG_X86_EXEC_ONLY },
	{ "sv39x4-adu", TDP_FORMAT_RISCV_G, 41, 44, 12, TDP_CFG_RISCV_SVADU },
	{ "sv48x4-adu-pbmt-vptc", TDP_FORMAT_RISCV_G, 50, 56, 12,
	  TDP_CFG_RISCV_SVADU | TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_SVVPTC },
};
#define NR_AD_CFGS (sizeof(ad_cfgs) / sizeof(ad_cfgs[0]))

struct param {
	const struct sf_cfg *c;
	bool shared;
};

/* Guest and host addresses used throughout: 1 GiB-aligned bases, far apart. */
#define G0 (4 * GiB)
#define H0 (8 * GiB)

/* tdp_walk visitor: the dirty flag the walk reports for the leaf at gpa. */
struct walk_ad {
	uint64_t gpa;
	int found;
	bool accessed, dirty;
};

static int walk_ad_fn(const struct tdp_entry *e, unsigned int visit, void *arg)
{
	struct walk_ad *w = arg;

	(void)visit;
	if (w->gpa - e->addr < e->size) {
		w->found++;
		w->accessed = e->accessed;
		w->dirty = e->dirty;
	}
	return 0;
}

static void expect_walk_ad(struct sf *f, uint64_t gpa, bool a, bool d, const char *what)
{
	struct walk_ad w = { .gpa = gpa };

	assert_int_equal(tdp_walk(&f->pgt, gpa & ~(f->P - 1), f->P, TDP_WALK_LEAF, walk_ad_fn, &w),
			 0);
	if (w.found != 1 || w.accessed != a || w.dirty != d)
		fail_msg("%s [%s]: walk at 0x%llx: %d leaves, accessed %d dirty %d, expected %d %d",
			 what, f->c->name, ULL(gpa), w.found, w.accessed, w.dirty, a, d);
}

/* ------------------------------------------------------------------ */
/* A1: an identical remap keeps A and D                                */

static void remap_case(struct sf *f, uint64_t g, uint64_t h, uint64_t sz, unsigned int level)
{
	const uint64_t A = sf_abit(f), D = sf_dbit(f);
	struct tdp_memcache mc;
	uint64_t bm[SF_BM_WORDS];
	char what[96];

	tdp_memcache_init(&mc);
	assert_int_equal(tdp_map(&f->pgt, g, h, sz, TDP_PROT_RW, 0, NULL), 0);
	sf_expect_lookup(f, g, h, level, TDP_PROT_RW);
	sf_expect_ad(f, g, 0, "fresh leaf");
	sf_hw_set(f, g, A | D);

	/* 1. the one-leaf map without a cache */
	snprintf(what, sizeof(what), "level-%u remap, no cache", level);
	assert_int_equal(tdp_map(&f->pgt, g, h, sz, TDP_PROT_RW, 0, NULL), 0);
	sf_expect_ad(f, g, A | D, what);
	sf_expect_lookup(f, g + sz - 1, h + sz - 1, level, TDP_PROT_RW);

	/* 2. the per-call path: a cache holding what the map may take */
	snprintf(what, sizeof(what), "level-%u remap, from a memory cache", level);
	assert_int_equal(tdp_memcache_topup(&f->pgt, &mc,
					    (size_t)tdp_map_pages_needed(&f->pgt, g, h, sz, 0)), 0);
	assert_int_equal(tdp_map(&f->pgt, g, h, sz, TDP_PROT_RW, 0, &mc), 0);
	sf_expect_ad(f, g, A | D, what);

	/* 3. a larger map whose plan holds the same leaf, and one more page after it */
	snprintf(what, sizeof(what), "level-%u remap inside a larger map", level);
	assert_int_equal(tdp_map(&f->pgt, g, h, sz + f->P, TDP_PROT_RW, 0, NULL), 0);
	sf_expect_ad(f, g, A | D, what);
	sf_expect_ad(f, g + sz, 0, "the page after it");
	sf_expect_lookup(f, g, h, level, TDP_PROT_RW);
	expect_walk_ad(f, g, true, true, what);

	/* the dirty state is what collect_dirty harvests: every page of the leaf */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f->pgt, g, sz + f->P, bm), 0);
	bm_expect_run(bm, 0, sz / f->P, what);
	sf_expect_ad(f, g, A, "after collect_dirty");
	tdp_memcache_drain(&f->pgt, &mc);
	assert_int_equal(tdp_unmap(&f->pgt, g, sz + f->P, NULL), 0);
}

static void t_remap_same_keeps_ad(void **state)
{
	const struct param *pr = *state;
	struct sf f;

	sf_init(&f, pr->c, pr->shared);
	remap_case(&f, G0, H0, f.P, 0);                          /* a page */
	remap_case(&f, G0 + 4 * f.blk, H0 + 8 * f.blk, f.blk, 1); /* a block */
	/* a page inside a table that holds other, clean pages */
	assert_int_equal(tdp_map(&f.pgt, G0, H0, 8 * f.P, TDP_PROT_RW, 0, NULL), 0);
	remap_case(&f, G0 + 16 * f.P, H0 + 16 * f.P, f.P, 0);
	sf_expect_ad(&f, G0 + 7 * f.P, 0, "a neighbour");
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* A3: collect_dirty over a block straddling an edge of the range      */

static void t_collect_straddle(void **state)
{
	const struct param *pr = *state;
	uint64_t bm[SF_BM_WORDS], A, D, B, half, npg;
	struct sf f;

	sf_init(&f, pr->c, pr->shared);
	A = sf_abit(&f);
	D = sf_dbit(&f);
	B = G0 + 4 * f.blk; /* the block */
	half = f.blk / 2;
	npg = f.blk / f.P;
	assert_int_equal(tdp_map(&f.pgt, B, H0, f.blk, TDP_PROT_RW, 0, NULL), 0);
	sf_expect_lookup(&f, B, H0, 1, TDP_PROT_RW);
	/* dirty pages right before and right after it */
	assert_int_equal(tdp_map(&f.pgt, B - f.P, H0 - f.P, f.P, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&f.pgt, B + f.blk, H0 + f.blk, f.P, TDP_PROT_RW, 0, NULL), 0);
	sf_hw_set(&f, B, A | D);
	sf_hw_set(&f, B - f.P, A | D);
	sf_hw_set(&f, B + f.blk, A | D);

	/* the block straddles the start of [B + half, B + half + blk) */
	memset(bm, 0, sizeof(bm));
	sf_fl_reset(&f);
	assert_int_equal(tdp_collect_dirty(&f.pgt, B + half, f.blk, bm), 0);
	/* its second half (pages 0..npg/2-1 of the range), then the page after it */
	bm_expect_run(bm, 0, npg / 2 + 1, "block straddling the start");
	sf_expect_ad(&f, B, A | D, "block straddling the start stays dirty");
	sf_expect_ad(&f, B + f.blk, A, "page inside the range is cleaned");
	sf_expect_ad(&f, B - f.P, A | D, "page outside the range is left alone");
	expect_walk_ad(&f, B + 3, true, true, "straddling block");

	/* the block straddles the end of [B - half, B + half) */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f.pgt, B - half, f.blk, bm), 0);
	/* the page before it (last page of the first half), then the block's first half */
	bm_expect_run(bm, npg / 2 - 1, npg / 2 + 1, "block straddling the end");
	sf_expect_ad(&f, B, A | D, "block straddling the end stays dirty");
	sf_expect_ad(&f, B - f.P, A, "page inside the second range is cleaned");

	/* the whole block: every page, then clean */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f.pgt, B, f.blk, bm), 0);
	bm_expect_run(bm, 0, npg, "whole block");
	sf_expect_ad(&f, B, A, "whole block collected");
	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f.pgt, B - f.blk, 3 * f.blk, bm), 0);
	assert_int_equal(bm_count(bm), 0);
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* A4: protect keeps the hardware's A/D                                */

static void expect_flags(struct sf *f, const uint64_t *gpas, const uint64_t *want, size_t n,
			 const char *what)
{
	for (size_t i = 0; i < n; i++)
		sf_expect_ad(f, gpas[i], want[i], what);
}

static void t_protect_keeps_ad(void **state)
{
	const struct param *pr = *state;
	uint64_t bm[SF_BM_WORDS], A, D, B, g[5], want[5];
	struct sf f;

	sf_init(&f, pr->c, pr->shared);
	A = sf_abit(&f);
	D = sf_dbit(&f);
	B = G0 + 4 * f.blk;
	assert_int_equal(tdp_map(&f.pgt, G0, H0, 4 * f.P, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&f.pgt, B, H0 + 4 * f.blk, f.blk, TDP_PROT_RW, 0, NULL), 0);
	for (size_t i = 0; i < 4; i++)
		g[i] = G0 + i * f.P;
	g[4] = B + 7 * f.P;
	want[0] = A;     /* read only */
	want[1] = A | D; /* written */
	want[2] = D;     /* D without A: the hardware sets both, but a flag is a flag */
	want[3] = 0;     /* untouched */
	want[4] = A | D; /* the block */
	for (size_t i = 0; i < 5; i++)
		sf_hw_set(&f, g[i], want[i]);

	assert_int_equal(tdp_protect(&f.pgt, G0, B + f.blk - G0, TDP_PROT_W, 0, NULL), 0);
	sf_expect_lookup(&f, g[1], H0 + f.P, 0, TDP_PROT_R);
	sf_expect_lookup(&f, g[4], H0 + 4 * f.blk + 7 * f.P, 1, TDP_PROT_R);
	expect_flags(&f, g, want, 5, "after write-protect");
	/* RISC-V may hold execute-only leaves: W comes back with R */
	assert_int_equal(tdp_protect(&f.pgt, G0, B + f.blk - G0, 0, TDP_PROT_RW, NULL), 0);
	sf_expect_lookup(&f, g[1], H0 + f.P, 0, TDP_PROT_RW);
	sf_expect_lookup(&f, g[4], H0 + 4 * f.blk + 7 * f.P, 1, TDP_PROT_RW);
	expect_flags(&f, g, want, 5, "after write access given back");
	expect_walk_ad(&f, g[1], true, true, "protected page");

	/* a protect of half the dirty block splits it: every page stays dirty */
	assert_int_equal(tdp_protect(&f.pgt, B, f.blk / 2, TDP_PROT_W, 0, NULL), 0);
	sf_expect_lookup(&f, B, H0 + 4 * f.blk, 0, TDP_PROT_R);
	sf_expect_lookup(&f, B + f.blk - f.P, H0 + 5 * f.blk - f.P, 0, TDP_PROT_RW);
	sf_expect_ad(&f, B, A | D, "split page, protected half");
	sf_expect_ad(&f, B + f.blk - f.P, A | D, "split page, other half");

	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f.pgt, B, f.blk, bm), 0);
	bm_expect_run(bm, 0, f.blk / f.P, "split dirty block");
	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f.pgt, G0, 4 * f.P, bm), 0);
	bm_expect_run(bm, 1, 2, "protected pages");
	sf_fini(&f);
}

/* ------------------------------------------------------------------ */

int main(void)
{
	static struct param params[NR_AD_CFGS * 2];
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
	} bodies[] = {
		{ "t_remap_same_keeps_ad", t_remap_same_keeps_ad },
		{ "t_collect_straddle", t_collect_straddle },
		{ "t_protect_keeps_ad", t_protect_keeps_ad },
	};
	enum { NB = sizeof(bodies) / sizeof(bodies[0]) };
	static struct CMUnitTest tests[NB * NR_AD_CFGS * 2];
	static char names[NB * NR_AD_CFGS * 2][96];
	size_t n = 0;

	for (size_t c = 0; c < NR_AD_CFGS * 2; c++)
		params[c] = (struct param){ &ad_cfgs[c / 2], (c & 1) != 0 };
	for (size_t b = 0; b < NB; b++) {
		for (size_t c = 0; c < NR_AD_CFGS * 2; c++) {
			snprintf(names[n], sizeof(names[n]), "%s[%s%s]", bodies[b].name,
				 params[c].c->name, params[c].shared ? ",shared" : "");
			tests[n] = (struct CMUnitTest){ .name = names[n], .test_func = bodies[b].fn,
						       .initial_state = &params[c],
						       .teardown_func = sf_teardown };
			n++;
		}
	}
	return _cmocka_run_group_tests("ad_semantics", tests, n, NULL, NULL);
}
