/* SPDX-License-Identifier: MIT */
/*
 * tdp_split: blocks in the range become smaller leaves down to the target
 * level with the same translation and attributes; children outside the
 * range stay as large as possible; empty entries get nothing.
 */
#include "common.h"

/* non-default type and software bits, so split children must copy them (as the format has them) */
#define split_attr FIT(fx, TDP_PROT_RX | TDP_MT_NORMAL_NC | TDP_SW(0xa))

/* A level-1 block split to pages. */
static void t_split_block_to_pages(struct tk_fx *fx)
{
	uint64_t g = fx->base + fx->big, h = fx->hbase + fx->big;

	assert_int_equal(tk_fx_map(fx, g, h, fx->blk, split_attr, 0, NULL), 0);
	assert_int_equal(tk_fx_split(fx, g, fx->blk, 0, NULL), 0);
	tk_check_layout(fx->env, &fx->pgt, g, h, fx->blk, split_attr, 0);
	assert_int_equal(leaves_in(fx, g, fx->blk, 0), fx->blk / fx->P);
}

/* Splitting one page of a top-level block: only the child that holds it goes to pages. */
static void t_split_keeps_outside_large(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	assert_int_equal(tk_fx_map(fx, b, h, fx->big, split_attr, 0, NULL), 0);
	assert_int_equal(tk_fx_split(fx, b + fx->P, fx->P, 0, NULL), 0);
	assert_int_equal(leaves_in(fx, b, fx->blk, 0), fx->blk / fx->P);
	if (fx->top >= 2) {
		assert_int_equal(leaves_in(fx, b, fx->big, 1),
				 tdp_level_size(&fx->pgt, 2) / fx->blk - 1);
		expect_leaf(fx, b + fx->blk, 1, h + fx->blk);
	}
	expect_leaf(fx, b + fx->P, 0, h + fx->P);
}

/* A top-level block split to the intermediate level only. */
static void t_split_to_intermediate(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	if (fx->top < 2) {
		/* target at the block's own level: nothing to do */
		assert_int_equal(tk_fx_map(fx, b, h, fx->blk, split_attr, 0, NULL), 0);
		assert_int_equal(tk_fx_split(fx, b, fx->blk, 1, NULL), 0);
		expect_leaf(fx, b, 1, h);
		return;
	}
	assert_int_equal(tk_fx_map(fx, b, h, fx->big, split_attr, 0, NULL), 0);
	assert_int_equal(tk_fx_split(fx, b, fx->big, 1, NULL), 0);
	tk_check_layout(fx->env, &fx->pgt, b, h, fx->big, split_attr, 1);
	assert_int_equal(leaves_in(fx, b, fx->big, 1), fx->big / fx->blk);
	/* and further down, for part of it */
	assert_int_equal(tk_fx_split(fx, b + fx->blk, fx->blk, 0, NULL), 0);
	assert_int_equal(leaves_in(fx, b, fx->big, 0), fx->blk / fx->P);
}

/* Nothing mapped: no table is created, nothing changes. */
static void t_split_empty_creates_nothing(struct tk_fx *fx)
{
	size_t out = fx->env->out_blocks;

	assert_int_equal(tk_fx_split(fx, fx->base, 2 * fx->blk, 0, NULL), 0);
	assert_int_equal(fx->env->out_blocks, out);
	/* only pages in the range and an empty neighbour */
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, 4 * fx->P, A_RW, 0, NULL), 0);
	out = fx->env->out_blocks;
	assert_int_equal(tk_fx_split(fx, fx->base, 2 * fx->blk, 0, NULL), 0);
	assert_int_equal(fx->env->out_blocks, out);
	expect_unmapped(fx, fx->base + fx->blk);
}

/*
 * Splitting a large range that holds no block does not even allocate (and
 * free) pages: with mc == NULL a worst-case preallocation would make
 * eager splitting of a sparsely mapped region cost memory in proportion
 * to its size.
 */
static void t_split_empty_allocates_nothing(struct tk_fx *fx)
{
	size_t allocs;

	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, 4 * fx->P, A_RW, 0, NULL), 0);
	allocs = fx->env->allocs;
	assert_int_equal(tk_fx_split(fx, fx->base, 4 * fx->blk, 0, NULL), 0);
	assert_int_equal(tk_fx_split(fx, fx->base + fx->big, fx->blk, 0, NULL), 0);
	/* the whole input range (4 TiB on 64K/52): still nothing to split */
	assert_int_equal(tk_fx_split(fx, 0, 1ull << fx->cd->ia, 0, NULL), 0);
	assert_int_equal(fx->env->allocs, allocs);
	assert_int_equal(fx->env->failed_allocs, 0);
}

/* A range straddling two blocks splits both; blocks outside stay. */
static void t_split_straddling(struct tk_fx *fx)
{
	uint64_t b = fx->base + fx->big, h = fx->hbase + fx->big;

	assert_int_equal(tk_fx_map(fx, b, h, 3 * fx->blk, split_attr, 0, NULL), 0);
	assert_int_equal(tk_fx_split(fx, b + fx->blk - fx->P, 2 * fx->P, 0, NULL), 0);
	assert_int_equal(leaves_in(fx, b, 3 * fx->blk, 0), 2 * fx->blk / fx->P);
	expect_leaf(fx, b + 2 * fx->blk, 1, h + 2 * fx->blk);
}

/* target_level must be below the number of levels. */
static void t_split_bad_target(struct tk_fx *fx)
{
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_split(fx, fx->base, fx->blk, fx->g.levels, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_split(fx, fx->base, fx->blk, 100, NULL), -TDP_EINVAL);
	assert_true(tdp_split_pages_needed(&fx->pgt, fx->base, fx->blk, fx->g.levels) < 0);
	expect_leaf(fx, fx->base, 1, fx->hbase);
}

static const struct tcase cases[] = {
	CASE(t_split_block_to_pages),
	CASE(t_split_keeps_outside_large),
	CASE(t_split_to_intermediate),
	CASE(t_split_empty_creates_nothing),
	CASE(t_split_empty_allocates_nothing),
	CASE(t_split_straddling),
	CASE(t_split_bad_target),
};

int main(void)
{
	return run_cases("split", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
