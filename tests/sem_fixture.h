/* SPDX-License-Identifier: MIT */
/*
 * A small fixture for the semantics tests (test_ad_semantics.c,
 * test_semantics.c, test_map_swbits_ad.c): one table of any format over a
 * kit page pool, in exclusive mode or in shared mode (TDP_CFG_SHARED, with
 * the kit's epoch domain as defer_free_table), whose TLB callbacks record
 * every flush_range. Raw entries are reached through the public iterator
 * (it->ptep points into the pool's memory), so the tests can play the
 * hardware and set accessed/dirty flags in them.
 */
#ifndef TDP_TESTS_SEM_FIXTURE_H
#define TDP_TESTS_SEM_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdp/riscv.h>
#include <tdp/testkit.h>
#include <tdp/walk.h>
#include <tdp/x86.h>
#include <tdp/arm64.h>
#include <tdp/changes.h>

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define ULL(x) ((unsigned long long)(x))

/* Pool arena below 2^32, so every configuration's oa_bits can use it. */
#define SF_PA_BASE (1ull << 30)
#define SF_ARENA   (64ull << 20)

/* Hardware-managed flags (EPT: docs/formats.md §E.5; RISC-V: §R.4). */
#define EPT_A_BIT (1ull << 8)
#define EPT_D_BIT (1ull << 9)
#define RV_A_BIT  (1ull << 6)
#define RV_D_BIT  (1ull << 7)
#define RV_N_BIT  (1ull << 63)

struct sf_cfg {
	const char *name;
	enum tdp_format format;
	unsigned int ia, oa, gshift;
	uint32_t flags;
};

struct sf_flush {
	uint64_t gpa, size;
	int level;
	bool tables;
};

#define SF_MAX_FLUSHES 64

struct sf {
	const struct sf_cfg *c;
	bool shared;
	struct tdp_tk_pool *pool;
	struct tdp_tk_epoch *ep;
	struct tdp_config cfg;
	struct tdp_pgtable pgt;
	uint64_t P;   /* page size */
	uint64_t blk; /* level-1 size */
	size_t nfl;   /* flush_range calls since the last sf_fl_reset */
	struct sf_flush fl[SF_MAX_FLUSHES];
	/* optional, called from flush_all (a test playing the hardware until the flush) */
	void (*on_flush_all)(struct sf *f);
};

static void sf_flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	struct sf *f = ctx;

	if (!f)
		return;
	if (f->nfl < SF_MAX_FLUSHES)
		f->fl[f->nfl] = (struct sf_flush){ gpa, size, level, tables };
	f->nfl++;
}

static void sf_flush_all(void *ctx)
{
	struct sf *f = ctx;

	if (f && f->on_flush_all)
		f->on_flush_all(f);
}

static const struct tdp_tlb_ops sf_tlb = { sf_flush_range, sf_flush_all };

/*
 * What sf_teardown needs to release a fixture a failed body left behind (the
 * body's own struct sf is gone by then): the table is read-only after init,
 * so a copy of it serves.
 */
static struct {
	bool live;
	struct tdp_tk_pool *pool;
	struct tdp_tk_epoch *ep;
	struct tdp_pgtable pgt;
} sf_left;

/*
 * sf_init with change reports (tdp/changes.h) configured: ops and ctx go to
 * tdp_config.changes and changes_ctx before the table is created (NULL: none).
 */
static inline void sf_init_changes(struct sf *f, const struct sf_cfg *c, bool shared,
				   const struct tdp_change_ops *ops, void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->c = c;
	f->shared = shared;
	f->pool = tdp_tk_pool_new(SF_PA_BASE, SF_ARENA);
	assert_non_null(f->pool);
	f->cfg.format = c->format;
	f->cfg.ia_bits = c->ia;
	f->cfg.oa_bits = c->oa;
	f->cfg.granule_shift = c->gshift;
	f->cfg.flags = c->flags;
	tdp_tk_pool_config(f->pool, &f->cfg);
	f->cfg.tlb = &sf_tlb;
	f->cfg.tlb_ctx = f;
	if (shared) {
		f->ep = tdp_tk_epoch_new(1);
		assert_non_null(f->ep);
		assert_int_equal(tdp_tk_epoch_config(f->ep, &f->cfg), 0);
		f->cfg.flags |= TDP_CFG_SHARED;
	}
	f->cfg.changes = ops;
	f->cfg.changes_ctx = ctx;
	assert_int_equal(tdp_pgtable_init(&f->pgt, &f->cfg), 0);
	if (f->ep)
		tdp_tk_epoch_attach(f->ep, &f->pgt);
	f->P = tdp_page_size(&f->pgt);
	f->blk = tdp_level_size(&f->pgt, 1);
	sf_left.live = true;
	sf_left.pool = f->pool;
	sf_left.ep = f->ep;
	sf_left.pgt = f->pgt;
}

static inline void sf_init(struct sf *f, const struct sf_cfg *c, bool shared)
{
	sf_init_changes(f, c, shared, NULL, NULL);
}

/* Destroy; nothing may leak and the pool must have seen no bad free. */
static inline void sf_fini(struct sf *f)
{
	struct tdp_tk_pool_stats st;

	sf_left.live = false;
	if (f->ep)
		tdp_tk_epoch_reclaim(f->ep);
	assert_int_equal(tdp_pgtable_destroy(&f->pgt), 0);
	if (f->ep)
		tdp_tk_epoch_delete(f->ep);
	tdp_tk_pool_stats(f->pool, &st);
	if (st.out_blocks || st.errors)
		fail_msg("%s: %zu blocks out, %zu pool errors (%s)", f->c->name, st.out_blocks,
			 st.errors, tdp_tk_pool_first_error(f->pool));
	tdp_tk_pool_delete(f->pool);
	f->pool = NULL;
}

/* cmocka teardown: release a fixture a failed body left behind, without checks. */
static inline int sf_teardown(void **state)
{
	(void)state;
	if (!sf_left.live)
		return 0;
	sf_left.live = false;
	/* the body's struct sf (the TLB callbacks' context, the table the epoch knows) is gone */
	sf_left.pgt.cfg.tlb_ctx = NULL;
	if (sf_left.ep) {
		tdp_tk_epoch_attach(sf_left.ep, &sf_left.pgt);
		tdp_tk_epoch_reclaim(sf_left.ep);
	}
	tdp_pgtable_destroy(&sf_left.pgt);
	if (sf_left.ep)
		tdp_tk_epoch_delete(sf_left.ep);
	tdp_tk_pool_delete(sf_left.pool);
	return 0;
}

static inline void sf_fl_reset(struct sf *f)
{
	f->nfl = 0;
}

/* The raw leaf entry translating gpa (its level in *level), or NULL. */
static inline uint64_t *sf_leaf(const struct sf *f, uint64_t gpa, unsigned int *level)
{
	struct tdp_iter it;
	struct tdp_entry e;
	uint64_t pg = gpa & ~(f->P - 1);

	assert_int_equal(tdp_iter_start(&it, &f->pgt, pg, pg + f->P, 0), 0);
	for (; it.valid; tdp_iter_next(&it)) {
		tdp_iter_entry(&it, &e);
		if (!e.valid || e.table)
			continue;
		if (gpa - e.addr < e.size) {
			if (level)
				*level = e.level;
			return it.ptep;
		}
	}
	return NULL;
}

static inline uint64_t *sf_leaf_must(const struct sf *f, uint64_t gpa)
{
	uint64_t *p = sf_leaf(f, gpa, NULL);

	if (!p)
		fail_msg("%s: gpa 0x%llx: no leaf", f->c->name, ULL(gpa));
	return p;
}

/* The format's accessed and dirty bits (tables with hardware A/D). */
static inline uint64_t sf_abit(const struct sf *f)
{
	return f->c->format == TDP_FORMAT_X86_EPT ? EPT_A_BIT : RV_A_BIT;
}

static inline uint64_t sf_dbit(const struct sf *f)
{
	return f->c->format == TDP_FORMAT_X86_EPT ? EPT_D_BIT : RV_D_BIT;
}

/* Play the hardware: set `bits` in the leaf translating gpa. */
static inline void sf_hw_set(struct sf *f, uint64_t gpa, uint64_t bits)
{
	*sf_leaf_must(f, gpa) |= bits;
}

/* The A/D bits (as sf_abit | sf_dbit) of the leaf translating gpa. */
static inline uint64_t sf_ad(const struct sf *f, uint64_t gpa)
{
	return *sf_leaf_must(f, gpa) & (sf_abit(f) | sf_dbit(f));
}

static inline void sf_expect_ad(const struct sf *f, uint64_t gpa, uint64_t want, const char *what)
{
	uint64_t have = sf_ad(f, gpa);

	if (have != want)
		fail_msg("%s [%s%s]: gpa 0x%llx: A/D 0x%llx, expected 0x%llx (raw 0x%016llx)", what,
			 f->c->name, f->shared ? ", shared" : "", ULL(gpa), ULL(have), ULL(want),
			 ULL(*sf_leaf_must(f, gpa)));
}

/* tdp_lookup must translate gpa to hpa with `attr` at `level`. */
static inline void sf_expect_lookup(const struct sf *f, uint64_t gpa, uint64_t hpa,
				    unsigned int level, tdp_attr_t attr)
{
	struct tdp_lookup_result r;
	int rc = tdp_lookup(&f->pgt, gpa, &r);

	if (rc != 0 || r.hpa != hpa || r.level != level || r.attr != attr)
		fail_msg("%s: lookup 0x%llx: rc %d hpa 0x%llx level %u attr 0x%x, expected 0x%llx "
			 "level %u attr 0x%x", f->c->name, ULL(gpa), rc, ULL(r.hpa), r.level, r.attr,
			 ULL(hpa), level, attr);
}

/* Bitmap helpers for tdp_collect_dirty (up to 4096 pages). */
#define SF_BM_WORDS 64

static inline bool bm_test(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

static inline size_t bm_count(const uint64_t *bm)
{
	size_t n = 0;

	for (size_t w = 0; w < SF_BM_WORDS; w++)
		n += (size_t)__builtin_popcountll(bm[w]);
	return n;
}

/* The bitmap holds exactly the pages [first, first + n) (indices). */
static inline void bm_expect_run(const uint64_t *bm, uint64_t first, uint64_t n, const char *what)
{
	for (uint64_t i = 0; i < SF_BM_WORDS * 64; i++) {
		bool want = i >= first && i < first + n;

		if (bm_test(bm, i) != want)
			fail_msg("%s: page %llu %s, expected pages [%llu, %llu) only (%zu set)", what,
				 ULL(i), want ? "not reported" : "reported", ULL(first),
				 ULL(first + n), bm_count(bm));
	}
}

/* A test body and its name, for sf_run_ad_cases. */
struct sf_case {
	const char *name;
	CMUnitTestFunction fn;
};

/* What each body of sf_run_ad_cases receives as *state. */
struct sf_param {
	const struct sf_cfg *c;
	bool shared;
};

/*
 * Run each case on each table with hardware-managed A/D (EPT with A/D,
 * RISC-V with Svadu), in exclusive and in shared mode, as cmocka tests named
 * "case[cfg]" and "case[cfg,shared]".
 */
static inline int sf_run_ad_cases(const char *group, const struct sf_case *cases, size_t ncases)
{
	static const struct sf_cfg cfgs[] = {
		{ "ept-4l-ad", TDP_FORMAT_X86_EPT, 48, 46, 12, TDP_CFG_X86_AD },
		{ "sv39x4-adu", TDP_FORMAT_RISCV_G, 41, 44, 12, TDP_CFG_RISCV_SVADU },
	};
	enum { NR_RUNS = 2 * sizeof(cfgs) / sizeof(cfgs[0]) };
	static struct sf_param params[NR_RUNS];
	struct CMUnitTest *tests = calloc(ncases * NR_RUNS, sizeof(*tests));
	char (*names)[96] = calloc(ncases * NR_RUNS, sizeof(*names));
	size_t n = 0;
	int ret;

	if (!tests || !names)
		return 1;
	for (size_t r = 0; r < NR_RUNS; r++)
		params[r] = (struct sf_param){ &cfgs[r / 2], (r & 1) != 0 };
	for (size_t k = 0; k < ncases; k++) {
		for (size_t r = 0; r < NR_RUNS; r++, n++) {
			snprintf(names[n], sizeof(names[n]), "%s[%s%s]", cases[k].name,
				 cfgs[r / 2].name, (r & 1) ? ",shared" : "");
			tests[n] = (struct CMUnitTest){ .name = names[n], .test_func = cases[k].fn,
						       .initial_state = &params[r],
						       .teardown_func = sf_teardown };
		}
	}
	ret = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	free(names);
	free(tests);
	return ret;
}

#endif
