/* SPDX-License-Identifier: MIT */
/*
 * tdp_zap: coarse teardown; blocks straddling an edge go whole and are
 * reported; never splits or allocates; budget and resume make progress.
 * tk_fx_zap checks that the table equals the model minus the reported
 * removed range, that [gpa, resume) is empty, and the flushes.
 */
#include "common.h"

/* A page inside a block removes the whole block. */
static void t_zap_inside_block(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	struct tdp_zap_result res;

	assert_int_equal(tk_fx_map(fx, b - fx->P, h - fx->P, fx->big + 2 * fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_zap(fx, b + fx->P, fx->P, 0, &res), 0);
	assert_int_equal(res.removed_start, b);
	assert_int_equal(res.removed_end, b + fx->big);
	assert_int_equal(res.resume, b + 2 * fx->P);
	expect_unmapped(fx, b);
	expect_unmapped(fx, b + fx->big - fx->P);
	expect_leaf(fx, b - fx->P, 0, h - fx->P);
	expect_leaf(fx, b + fx->big, 0, h + fx->big);
}

/* Blocks straddling both edges go whole; what lies beyond them stays. */
static void t_zap_straddling_edges(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	uint64_t gpa = b - fx->blk - fx->P;
	uint64_t size = fx->P + fx->blk + fx->big + fx->blk + fx->P;
	struct tdp_zap_result res;

	assert_int_equal(tk_fx_map(fx, gpa, h - fx->blk - fx->P, size, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_zap(fx, b - fx->P, fx->big + 2 * fx->P, 0, &res), 0);
	assert_int_equal(res.removed_start, b - fx->blk);
	assert_int_equal(res.removed_end, b + fx->big + fx->blk);
	expect_leaf(fx, gpa, 0, h - fx->blk - fx->P);
	expect_leaf(fx, b + fx->big + fx->blk, 0, h + fx->big + fx->blk);
	expect_unmapped(fx, b - fx->blk);
}

/* Nothing mapped: done at once, nothing removed. */
static void t_zap_empty(struct tk_fx *fx)
{
	struct tdp_zap_result res;

	assert_int_equal(tk_fx_map(fx, fx->base + 2 * fx->big, fx->hbase, fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_zap(fx, fx->base, fx->big, 0, &res), 0);
	assert_int_equal(res.removed_start, res.removed_end);
	assert_int_equal(res.resume, fx->base + fx->big);
	expect_leaf(fx, fx->base + 2 * fx->big, 0, fx->hbase);
}

/* Zap never allocates: it works with every allocation failing. */
static void t_zap_never_allocates(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	struct tdp_zap_result res;
	size_t allocs;

	assert_int_equal(tk_fx_map(fx, b - fx->blk, h - fx->blk, 2 * fx->blk + fx->big, A_RW, 0, NULL),
			 0);
	allocs = fx->env->allocs;
	tk_fail_all(fx->env, true);
	assert_int_equal(tk_fx_zap(fx, b - fx->P, 2 * fx->P, 0, &res), 0);
	assert_int_equal(tk_fx_zap(fx, b + fx->big + fx->P, fx->P, 0, &res), 0);
	tk_fail_all(fx->env, false);
	assert_int_equal(fx->env->allocs, allocs);
	assert_int_equal(fx->env->failed_allocs, 0);
}

/* Budget 1: every call makes progress and the zap eventually finishes. */
static void t_zap_budget_resume(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	uint64_t end = b + 2 * fx->big;
	uint64_t pos = b;
	struct tdp_zap_result res;
	size_t calls = 0, entries;
	int rc;

	assert_int_equal(tk_fx_map(fx, b, h, 8 * fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, b + fx->blk, h, 3 * fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, b + fx->big, h, fx->big, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, end, h, fx->P, A_RW, 0, NULL), 0);
	entries = fx->m.n + fx->env->out_blocks + 16;
	do {
		rc = tk_fx_zap(fx, pos, end - pos, 1, &res);
		assert_true(rc == 0 || rc == 1);
		assert_true(res.resume > pos);
		pos = res.resume;
		calls++;
		assert_true(calls <= 8 + 3 + 1 + 2 * entries);
	} while (rc == 1);
	assert_int_equal(pos, end);
	assert_true(calls > 1);
	assert_false(tk_model_any(&fx->m, b, end - b));
	expect_leaf(fx, end, 0, h);
}

/* A larger budget also finishes, in fewer calls. */
static void t_zap_budget_large(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase, pos = b, end = b + 64 * fx->P;
	struct tdp_zap_result res;
	size_t calls = 0;
	int rc;

	/*
	 * 64 pages in a table that the range does not cover whole: 64 entries
	 * to clear (an output one page off, so that no contiguous group fits)
	 */
	assert_int_equal(tk_fx_map(fx, b, h + fx->P, 64 * fx->P, A_RW, TDP_MAP_MAX_LEVEL(0), NULL),
			 0);
	do {
		rc = tk_fx_zap(fx, pos, end - pos, 16, &res);
		assert_true(rc == 0 || rc == 1);
		pos = res.resume;
		calls++;
		assert_true(calls <= 8);
	} while (rc == 1);
	assert_true(calls >= 4);
	assert_int_equal(fx->env->out_blocks, 1);
}

/* The whole input range. */
static void t_zap_everything(struct tk_fx *fx)
{
	uint64_t ia_end = 1ull << fx->cd->ia;
	struct tdp_zap_result res;

	assert_int_equal(tk_fx_map(fx, 0, 0, fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->big + fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, ia_end - fx->blk, 0, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_zap(fx, 0, ia_end, 0, &res), 0);
	assert_int_equal(res.resume, ia_end);
	assert_int_equal(res.removed_start, 0);
	assert_int_equal(res.removed_end, ia_end);
	assert_int_equal(fx->env->out_blocks, 1);
}

static const struct tcase cases[] = {
	CASE(t_zap_inside_block),
	CASE(t_zap_straddling_edges),
	CASE(t_zap_empty),
	CASE(t_zap_never_allocates),
	CASE(t_zap_budget_resume),
	CASE(t_zap_budget_large),
	CASE(t_zap_everything),
};

int main(void)
{
	return run_cases("zap", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
