/* SPDX-License-Identifier: MIT */
/*
 * Shared mode's break-before-make on arm64, checked by the kit's
 * TLB-coherence model (TDP_TK_TLB_BBM) in a single-threaded run on the 4K,
 * 16K and 64K granules. Around every operation the model caches
 * translations of the pages it touches, as vCPUs would; afterwards
 * tdp_tk_tlb_check must report nothing: no translation changed without an
 * invalidation, no valid -> valid change of output, size or memory type
 * whose old entry was flushed only after the new one was written (the old
 * entry must be flushed while it is still broken), no table freed under a
 * cached walk (tables unlinked in shared mode go through the kit's epoch
 * domain and tdp_free_unlinked, which the model watches through the pool).
 *
 * Operations: maps that change the output address of live pages and of a
 * live block, a map replacing a table by a block and one replacing a block
 * by a table (part of the block remapped elsewhere, and the whole block
 * remapped as pages), a split, and a protect taking write away and giving
 * it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <tdp/testkit.h>
#include <tdp/walk.h>

#define ULL(x) ((unsigned long long)(x))

struct gcfg {
	const char *name;
	unsigned int gshift, ia, oa;
};

static struct gcfg gcfgs[] = {
	{ "4K/48", 12, 48, 48 },
	{ "16K/48", 14, 48, 48 },
	{ "64K/48", 16, 48, 48 },
};

struct bb {
	struct tdp_tk_pool *pool;
	struct tdp_tk_tlb *tlb;
	struct tdp_tk_epoch *ep;
	struct tdp_pgtable pgt;
	uint64_t P, B; /* page and level-1 block sizes */
};

static void bb_init(struct bb *b, const struct gcfg *g)
{
	struct tdp_config cfg;
	struct tdp_tk_mem mem;
	struct tdp_tk_ref ref;

	memset(b, 0, sizeof(*b));
	b->pool = tdp_tk_pool_new(1ull << 30, (size_t)256 << 20);
	assert_non_null(b->pool);
	b->tlb = tdp_tk_tlb_new(8192, b->pool, TDP_TK_TLB_BBM);
	assert_non_null(b->tlb);
	memset(&cfg, 0, sizeof(cfg));
	cfg.format = TDP_FORMAT_ARM64_S2;
	cfg.granule_shift = g->gshift;
	cfg.ia_bits = g->ia;
	cfg.oa_bits = g->oa;
	tdp_tk_pool_config(b->pool, &cfg);
	cfg.tlb = &tdp_tk_tlb_ops;
	cfg.tlb_ctx = b->tlb;
	b->ep = tdp_tk_epoch_new(1);
	assert_non_null(b->ep);
	assert_int_equal(tdp_tk_epoch_config(b->ep, &cfg), 0);
	cfg.flags |= TDP_CFG_SHARED;
	assert_int_equal(tdp_pgtable_init(&b->pgt, &cfg), 0);
	tdp_tk_epoch_attach(b->ep, &b->pgt);
	mem = tdp_tk_pool_mem(b->pool);
	assert_int_equal(tdp_tk_ref_for(&ref, &b->pgt, &mem), 0);
	tdp_tk_tlb_attach(b->tlb, &ref);
	b->P = tdp_page_size(&b->pgt);
	b->B = tdp_level_size(&b->pgt, 1);
}

static void bb_fini(struct bb *b)
{
	struct tdp_tk_pool_stats st;

	tdp_tk_epoch_reclaim(b->ep);
	assert_int_equal(tdp_pgtable_destroy(&b->pgt), 0);
	tdp_tk_epoch_delete(b->ep);
	tdp_tk_tlb_delete(b->tlb);
	tdp_tk_pool_stats(b->pool, &st);
	if (st.out_blocks || st.errors)
		fail_msg("%zu blocks out, %zu pool errors (%s)", st.out_blocks, st.errors,
			 tdp_tk_pool_first_error(b->pool));
	tdp_tk_pool_delete(b->pool);
}

/* Cache translations of [gpa, gpa + size) and a page either side: every page, up to 512. */
static void fill(struct bb *b, uint64_t gpa, uint64_t size)
{
	static const unsigned int kinds[] = { TDP_TK_PROBE, TDP_TK_READ, TDP_TK_WRITE };
	uint64_t step = size / 512 > b->P ? (size / 512) & ~(b->P - 1) : b->P;
	unsigned int k = 0;

	for (uint64_t a = gpa - b->P; a < gpa + size + b->P; a += step)
		assert_true(tdp_tk_tlb_fill(b->tlb, a, kinds[k++ % 3]) >= 0);
}

/* After an operation: free what the grace period allows, then no violation at all. */
static void check(struct bb *b, const char *what)
{
	struct tdp_tk_tlb_stats st;
	size_t v;

	tdp_tk_epoch_reclaim(b->ep);
	v = tdp_tk_tlb_check(b->tlb);
	if (v)
		fail_msg("%s: %zu violations; first: %s", what, v,
			 tdp_tk_tlb_first_violation(b->tlb));
	tdp_tk_tlb_stats(b->tlb, &st);
	assert_true(st.flush_ranges > 0);
}

static void expect_hpa(struct bb *b, uint64_t gpa, uint64_t hpa, unsigned int level)
{
	struct tdp_lookup_result r;

	assert_int_equal(tdp_lookup(&b->pgt, gpa, &r), 0);
	if (r.hpa != hpa || r.level != level)
		fail_msg("gpa 0x%llx -> 0x%llx level %u, expected 0x%llx level %u", ULL(gpa),
			 ULL(r.hpa), r.level, ULL(hpa), level);
}

static size_t cached(const struct bb *b)
{
	struct tdp_tk_tlb_stats st;

	tdp_tk_tlb_stats(b->tlb, &st);
	return st.cached;
}

static void t_shared_bbm(void **state)
{
	const struct gcfg *g = *state;
	const tdp_attr_t RW = TDP_PROT_RW, RO = TDP_PROT_R;
	struct tdp_tk_epoch_stats es;
	uint64_t G, H, P, B;
	struct bb b;

	bb_init(&b, g);
	P = b.P;
	B = b.B;
	G = 4 * B;             /* guest base */
	H = (1ull << 40) + 8 * B; /* host base, far from the guest addresses */

	/* 1. live pages get another output address */
	assert_int_equal(tdp_map(&b.pgt, G, H, 16 * P, RW, TDP_MAP_MAX_LEVEL(0), NULL), 0);
	fill(&b, G, 16 * P);
	assert_true(cached(&b) >= 16);
	assert_int_equal(tdp_map(&b.pgt, G, H + B, 16 * P, RW, TDP_MAP_MAX_LEVEL(0), NULL), 0);
	expect_hpa(&b, G + 5 * P, H + B + 5 * P, 0);
	check(&b, "pages remapped elsewhere");

	/* 2. a live block gets another output address */
	assert_int_equal(tdp_map(&b.pgt, G + 2 * B, H + 2 * B, B, RW, 0, NULL), 0);
	expect_hpa(&b, G + 2 * B, H + 2 * B, 1);
	fill(&b, G + 2 * B, B);
	assert_int_equal(tdp_map(&b.pgt, G + 2 * B, H + 6 * B, B, RW, 0, NULL), 0);
	expect_hpa(&b, G + 2 * B + 3 * P, H + 6 * B + 3 * P, 1);
	check(&b, "block remapped elsewhere");

	/* 3. a table of pages replaced by a block (another output) */
	assert_int_equal(tdp_map(&b.pgt, G + 4 * B, H + 4 * B, B, RW, TDP_MAP_MAX_LEVEL(0), NULL),
			 0);
	expect_hpa(&b, G + 4 * B, H + 4 * B, 0);
	fill(&b, G + 4 * B, B);
	assert_int_equal(tdp_map(&b.pgt, G + 4 * B, H + 8 * B, B, RW, 0, NULL), 0);
	expect_hpa(&b, G + 4 * B + 7 * P, H + 8 * B + 7 * P, 1);
	check(&b, "table replaced by a block");
	tdp_tk_epoch_stats(b.ep, &es);
	assert_true(es.deferred >= 1); /* the table went through the grace period */

	/* 4. a block replaced by a table: part of it remapped elsewhere */
	assert_int_equal(tdp_map(&b.pgt, G + 6 * B, H + 10 * B, B, RW, 0, NULL), 0);
	fill(&b, G + 6 * B, B);
	assert_int_equal(tdp_map(&b.pgt, G + 6 * B + 3 * P, H + 12 * B, 2 * P, RO, 0, NULL), 0);
	expect_hpa(&b, G + 6 * B + 3 * P, H + 12 * B, 0);
	expect_hpa(&b, G + 6 * B + 5 * P, H + 10 * B + 5 * P, 0);
	check(&b, "part of a block remapped elsewhere");
	/* ... and the whole block remapped as pages elsewhere */
	fill(&b, G + 2 * B, B);
	assert_int_equal(tdp_map(&b.pgt, G + 2 * B, H + 14 * B, B, RW, TDP_MAP_MAX_LEVEL(0), NULL),
			 0);
	expect_hpa(&b, G + 2 * B + 9 * P, H + 14 * B + 9 * P, 0);
	check(&b, "block remapped elsewhere as pages");

	/* 5. a split */
	assert_int_equal(tdp_map(&b.pgt, G + 8 * B, H + 16 * B, B, RW, 0, NULL), 0);
	fill(&b, G + 8 * B, B);
	assert_int_equal(tdp_split(&b.pgt, G + 8 * B, B, 0, NULL), 0);
	expect_hpa(&b, G + 8 * B + 11 * P, H + 16 * B + 11 * P, 0);
	check(&b, "split");

	/* 6. a protect over all of it, then back */
	fill(&b, G, 9 * B);
	assert_int_equal(tdp_protect(&b.pgt, G, 9 * B, TDP_PROT_W, 0, NULL), 0);
	check(&b, "write taken away");
	fill(&b, G, 9 * B);
	assert_int_equal(tdp_protect(&b.pgt, G, 9 * B, 0, TDP_PROT_W, NULL), 0);
	check(&b, "write given back");
	bb_fini(&b);
}

static void nop_flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	(void)ctx, (void)gpa, (void)size, (void)level, (void)tables;
}

static void nop_flush_all(void *ctx)
{
	(void)ctx;
}

static const struct tdp_tlb_ops nop_tlb = { nop_flush_range, nop_flush_all };

int main(void)
{
	static struct CMUnitTest tests[sizeof(gcfgs) / sizeof(gcfgs[0])];
	static char names[sizeof(gcfgs) / sizeof(gcfgs[0])][48];
	struct tdp_tk_pool *pool = tdp_tk_pool_new(1ull << 30, 1u << 20);
	struct tdp_config cfg = { 0 };
	struct tdp_pgtable pgt;
	size_t n = 0;

	/* arm64 may be left out of the build: nothing to test then */
	cfg.format = TDP_FORMAT_ARM64_S2;
	cfg.ia_bits = 40;
	cfg.oa_bits = 40;
	tdp_tk_pool_config(pool, &cfg);
	cfg.tlb = &nop_tlb;
	if (tdp_pgtable_init(&pgt, &cfg) != 0) {
		tdp_tk_pool_delete(pool);
		return 0;
	}
	tdp_pgtable_destroy(&pgt);
	tdp_tk_pool_delete(pool);
	for (size_t i = 0; i < sizeof(gcfgs) / sizeof(gcfgs[0]); i++) {
		snprintf(names[n], sizeof(names[n]), "t_shared_bbm[%s]", gcfgs[i].name);
		tests[n] = (struct CMUnitTest){ .name = names[n], .test_func = t_shared_bbm,
					       .initial_state = &gcfgs[i] };
		n++;
	}
	return _cmocka_run_group_tests("shared_bbm", tests, n, NULL, NULL);
}
