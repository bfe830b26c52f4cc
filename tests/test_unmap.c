/* SPDX-License-Identifier: MIT */
/*
 * tdp_unmap: exactly the range, blocks split at the edges (never treating a
 * data page as a table), empty tables freed, non-present entries skipped.
 */
#include "common.h"

/* A page inside a block: the block is split, only that page goes. */
static void t_unmap_page_in_block(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	assert_int_equal(tk_fx_map(fx, b, h, fx->big, A_RWX, 0, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, b + fx->P, fx->P, NULL), 0);
	expect_unmapped(fx, b + fx->P);
	expect_leaf(fx, b, 0, h);
	expect_leaf(fx, b + 2 * fx->P, 0, h + 2 * fx->P);
	expect_hpa(fx, b + fx->big - 1, h + fx->big - 1);
	/* first and last page of another block */
	assert_int_equal(tk_fx_map(fx, b + fx->big, h + fx->big, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, b + fx->big, fx->P, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, b + fx->big + fx->blk - fx->P, fx->P, NULL), 0);
	expect_unmapped(fx, b + fx->big);
	expect_unmapped(fx, b + fx->big + fx->blk - fx->P);
	expect_leaf(fx, b + fx->big + fx->P, 0, h + fx->big + fx->P);
	assert_int_equal(leaves_in(fx, b + fx->big, fx->blk, 0), fx->blk / fx->P - 2);
}

/* The range starts with non-present entries (at several levels); the rest still goes. */
static void t_unmap_skips_non_present(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	assert_int_equal(tk_fx_map(fx, b + fx->blk, h, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, b + 2 * fx->blk, h, 3 * fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, b, 2 * fx->blk + fx->P, NULL), 0);
	expect_unmapped(fx, b + fx->blk);
	expect_unmapped(fx, b + 2 * fx->blk);
	expect_leaf(fx, b + 2 * fx->blk + fx->P, 0, h + fx->P);
	/* a single page far into the range, after empty top-level entries */
	assert_int_equal(tk_fx_map(fx, b + 2 * fx->big + 3 * fx->P, h, fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, b, 3 * fx->big, NULL), 0);
	expect_unmapped(fx, b + 2 * fx->big + 3 * fx->P);
	assert_int_equal(fx->env->out_blocks, 1);
}

/* A range straddling two blocks: exactly its pages go. */
static void t_unmap_exact_range(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	assert_int_equal(tk_fx_map(fx, b - fx->blk, h - fx->blk, 2 * fx->blk + fx->big, A_RW, 0, NULL),
			 0);
	assert_int_equal(tk_fx_unmap(fx, b - fx->P, fx->blk + 2 * fx->P, NULL), 0);
	expect_leaf(fx, b - 2 * fx->P, 0, h - 2 * fx->P);
	expect_unmapped(fx, b - fx->P);
	expect_unmapped(fx, b + fx->blk);
	expect_leaf(fx, b + fx->blk + fx->P, 0, h + fx->blk + fx->P);
	expect_hpa(fx, b + fx->big + fx->blk - fx->P, h + fx->big + fx->blk - fx->P);
}

/* Nothing mapped: succeeds, allocates nothing, changes nothing. */
static void t_unmap_empty(struct tk_fx *fx)
{
	size_t allocs;

	assert_int_equal(tk_fx_map(fx, fx->base + fx->big, fx->hbase, fx->P, A_RW, 0, NULL), 0);
	allocs = fx->env->allocs;
	assert_int_equal(tk_fx_unmap(fx, fx->base, fx->big, NULL), 0);
	assert_int_equal(fx->env->allocs, allocs);
	expect_leaf(fx, fx->base + fx->big, 0, fx->hbase);
}

/* Pages spread over several tables: unmapping all of them frees every table. */
static void t_unmap_frees_tables(struct tk_fx *fx)
{
	uint64_t b = fx->base;

	for (int i = 0; i < 4; i++)
		assert_int_equal(tk_fx_map(fx, b + (uint64_t)i * fx->blk + fx->P, fx->hbase, fx->P, A_RW,
					   0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, b + fx->big + fx->P, fx->hbase, fx->P, A_RW, 0, NULL), 0);
	assert_true(fx->env->out_blocks > 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tk_fx_unmap(fx, b + (uint64_t)i * fx->blk + fx->P, fx->P, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, b + fx->big, fx->big, NULL), 0);
	assert_int_equal(fx->env->out_blocks, 1);
}

/* Every other page mapped. */
static void t_unmap_with_holes(struct tk_fx *fx)
{
	uint64_t b = fx->base + fx->blk - 16 * fx->P;

	for (uint64_t i = 0; i < 32; i += 2)
		assert_int_equal(tk_fx_map(fx, b + i * fx->P, fx->hbase + i * fx->P, fx->P, A_RW, 0, NULL),
				 0);
	assert_int_equal(tk_fx_unmap(fx, b + 3 * fx->P, 26 * fx->P, NULL), 0);
	expect_leaf(fx, b + 2 * fx->P, 0, fx->hbase + 2 * fx->P);
	expect_leaf(fx, b + 30 * fx->P, 0, fx->hbase + 30 * fx->P);
	expect_unmapped(fx, b + 4 * fx->P);
}

/* The whole input range at once. */
static void t_unmap_everything(struct tk_fx *fx)
{
	uint64_t ia_end = 1ull << fx->cd->ia;

	assert_int_equal(tk_fx_map(fx, 0, 0, fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->big + fx->blk + fx->P, A_RW, 0, NULL),
			 0);
	assert_int_equal(tk_fx_map(fx, ia_end - fx->P, 0, fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, 0, ia_end, NULL), 0);
	assert_int_equal(fx->env->out_blocks, 1);
	assert_int_equal(fx->m.n, 0);
}

/* Unmap one page of a block that is itself next to a page table. */
static void t_unmap_block_next_to_table(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	assert_int_equal(tk_fx_map(fx, b, h, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, b + fx->blk, h + fx->blk, fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, b + fx->blk - fx->P, 2 * fx->P, NULL), 0);
	expect_leaf(fx, b, 0, h);
	expect_unmapped(fx, b + fx->blk);
	expect_unmapped(fx, b + fx->blk - fx->P);
}

static const struct tcase cases[] = {
	CASE(t_unmap_page_in_block),
	CASE(t_unmap_skips_non_present),
	CASE(t_unmap_exact_range),
	CASE(t_unmap_empty),
	CASE(t_unmap_frees_tables),
	CASE(t_unmap_with_holes),
	CASE(t_unmap_everything),
	CASE(t_unmap_block_next_to_table),
};

int main(void)
{
	return run_cases("unmap", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
