/* SPDX-License-Identifier: MIT */
/*
 * tdp_map: largest leaf, caps, NOREPLACE, replacement, straddling blocks,
 * neighbours, attributes. Every body runs on every operation configuration;
 * every fx operation checks the model, the structure and the flushes.
 */
#include "common.h"

/* Pages, blocks and a top-level leaf where gpa and hpa are equally aligned. */
static void t_map_largest_leaf(struct tk_fx *fx)
{
	uint64_t gpa = fx->base - fx->blk - fx->P;
	uint64_t hpa = fx->hbase - fx->blk - fx->P;
	uint64_t size = fx->P + fx->blk + fx->big + fx->blk + fx->P;

	assert_int_equal(tk_fx_map(fx, gpa, hpa, size, A_RW, 0, NULL), 0);
	tk_check_layout(fx->env, &fx->pgt, gpa, hpa, size, A_RW, -1);
	expect_leaf(fx, gpa, 0, hpa);
	expect_leaf(fx, fx->base - fx->blk, 1, fx->hbase - fx->blk);
	expect_leaf(fx, fx->base, fx->top, fx->hbase);
	expect_leaf(fx, fx->base + fx->big + fx->blk, 0, fx->hbase + fx->big + fx->blk);
	expect_unmapped(fx, gpa - fx->P);
	expect_unmapped(fx, gpa + size);
}

/* gpa and hpa aligned differently: only pages, whatever the range. */
static void t_map_unequal_alignment(struct tk_fx *fx)
{
	uint64_t size = fx->blk + fx->P;

	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase + fx->P, size, A_RW, 0, NULL), 0);
	tk_check_layout(fx->env, &fx->pgt, fx->base, fx->hbase + fx->P, size, A_RW, -1);
	assert_int_equal(leaves_in(fx, fx->base, size, 0), size / fx->P);
	assert_int_equal(tk_fx_unmap(fx, fx->base, size, NULL), 0);

	/* gpa off by a page, hpa aligned */
	assert_int_equal(tk_fx_map(fx, fx->base + fx->P, fx->hbase, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(leaves_in(fx, fx->base, 2 * fx->blk, 0), fx->blk / fx->P);
	assert_int_equal(leaves_in(fx, fx->base, 2 * fx->blk, 1), 0);
}

/* A block aligned range one page too short gets no block. */
static void t_map_never_covers_outside(struct tk_fx *fx)
{
	uint64_t size = fx->blk - fx->P;

	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, size, A_RW, 0, NULL), 0);
	tk_check_layout(fx->env, &fx->pgt, fx->base, fx->hbase, size, A_RW, -1);
	assert_int_equal(leaves_in(fx, fx->base, fx->blk, 1), 0);
	expect_unmapped(fx, fx->base + size);
	/* and starting one page in */
	assert_int_equal(tk_fx_map(fx, fx->base + fx->big + fx->P, fx->hbase + fx->big + fx->P,
				   fx->big - fx->P, A_RW, 0, NULL), 0);
	expect_unmapped(fx, fx->base + fx->big);
	expect_leaf(fx, fx->base + fx->big + fx->P, 0, fx->hbase + fx->big + fx->P);
}

/* TDP_MAP_MAX_LEVEL caps the leaf size. */
static void t_map_max_level_flag(struct tk_fx *fx)
{
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, 2 * fx->blk, A_RW, TDP_MAP_MAX_LEVEL(0),
				   NULL), 0);
	tk_check_layout(fx->env, &fx->pgt, fx->base, fx->hbase, 2 * fx->blk, A_RW, 0);
	assert_int_equal(leaves_in(fx, fx->base, 2 * fx->blk, 0), 2 * fx->blk / fx->P);
	if (fx->top >= 2) {
		uint64_t g = fx->base + fx->big, h = fx->hbase + fx->big;

		assert_int_equal(tk_fx_map(fx, g, h, fx->big + fx->blk, A_RW, TDP_MAP_MAX_LEVEL(1), NULL),
				 0);
		tk_check_layout(fx->env, &fx->pgt, g, h, fx->big + fx->blk, A_RW, 1);
		assert_int_equal(leaves_in(fx, g, fx->big, fx->top), 0);
	}
	/* a cap at or above the top level changes nothing */
	assert_int_equal(tk_fx_map(fx, fx->base + 3 * fx->big, fx->hbase + 3 * fx->big, fx->big, A_RW,
				   TDP_MAP_MAX_LEVEL(fx->top), NULL), 0);
	expect_leaf(fx, fx->base + 3 * fx->big, fx->top, fx->hbase + 3 * fx->big);
}

/* cfg.leaf_levels = 1: pages only. */
static void t_map_leaf_levels_1(struct tk_fx *fx)
{
	assert_int_equal(fx->pgt.geo.leaf_levels_mask, 1u);
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, 2 * fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(leaves_in(fx, fx->base, 2 * fx->blk, 0), 2 * fx->blk / fx->P);
	tk_check_layout(fx->env, &fx->pgt, fx->base, fx->hbase, 2 * fx->blk, A_RW, -1);
}

/* cfg.leaf_levels = 2: no leaf above level 1. */
static void t_map_leaf_levels_2(struct tk_fx *fx)
{
	assert_int_equal(fx->pgt.geo.leaf_levels_mask, 3u);
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->big + fx->blk, A_RW, 0, NULL), 0);
	tk_check_layout(fx->env, &fx->pgt, fx->base, fx->hbase, fx->big + fx->blk, A_RW, -1);
	assert_int_equal(leaves_in(fx, fx->base, fx->big + fx->blk, 1), (fx->big + fx->blk) / fx->blk);
}

/* TDP_MAP_NOREPLACE: -EEXIST if any page is mapped, and nothing changes. */
static void t_map_noreplace(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	assert_int_equal(tk_fx_map(fx, b, h, fx->blk, A_RW, TDP_MAP_NOREPLACE, NULL), 0);
	/* overlapping only the last page */
	assert_int_equal(tk_fx_map(fx, b + fx->blk - fx->P, h + 2 * fx->big, 2 * fx->P, A_RO,
				   TDP_MAP_NOREPLACE, NULL), -TDP_EEXIST);
	/* overlapping only the first page, from below */
	assert_int_equal(tk_fx_map(fx, b - fx->P, h, 2 * fx->P, A_RO, TDP_MAP_NOREPLACE, NULL),
			 -TDP_EEXIST);
	/* covering everything */
	assert_int_equal(tk_fx_map(fx, b - fx->blk, h, 3 * fx->blk, A_RO, TDP_MAP_NOREPLACE, NULL),
			 -TDP_EEXIST);
	/* the same translation again is still "mapped" */
	assert_int_equal(tk_fx_map(fx, b, h, fx->blk, A_RW, TDP_MAP_NOREPLACE, NULL), -TDP_EEXIST);
	/* adjacent on both sides is fine */
	assert_int_equal(tk_fx_map(fx, b + fx->blk, h + fx->blk, fx->P, A_RO, TDP_MAP_NOREPLACE, NULL),
			 0);
	assert_int_equal(tk_fx_map(fx, b - fx->P, h + 2 * fx->blk, fx->P, A_RO, TDP_MAP_NOREPLACE,
				   NULL), 0);
	expect_leaf(fx, b, 1, h);
	/* a single mapped page in the middle of a large empty range */
	assert_int_equal(tk_fx_map(fx, b + 2 * fx->big + 5 * fx->P, h, fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, b + 2 * fx->big, h, fx->big, A_RW, TDP_MAP_NOREPLACE, NULL),
			 -TDP_EEXIST);
}

/* Mapping over existing mappings replaces them. */
static void t_map_remap_replaces(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	uint64_t other = fx->hbase + 2 * fx->big;

	assert_int_equal(tk_fx_map(fx, b, h, fx->big, A_RW, 0, NULL), 0);
	expect_leaf(fx, b, fx->top, h);
	/* one page in the middle of the block: the block is split, the rest keeps its translation */
	assert_int_equal(tk_fx_map(fx, b + fx->P, other, fx->P, A_RO, 0, NULL), 0);
	expect_leaf(fx, b + fx->P, 0, other);
	expect_leaf(fx, b, 0, h);
	expect_leaf(fx, b + 2 * fx->P, 0, h + 2 * fx->P);
	expect_hpa(fx, b + fx->big - fx->P, h + fx->big - fx->P);
	/* the whole block range again, elsewhere: one leaf, the tables are gone */
	assert_int_equal(tk_fx_map(fx, b, other, fx->big, A_RWX, 0, NULL), 0);
	expect_leaf(fx, b, fx->top, other);
	assert_int_equal(leaves_in(fx, b, fx->big, fx->top), 1);
	/* same output, other attributes */
	assert_int_equal(tk_fx_map(fx, b, other, fx->big, FIT(fx, A_DEV), 0, NULL), 0);
	expect_leaf(fx, b, fx->top, other);
	/* pages over a block, then a block over pages */
	assert_int_equal(tk_fx_map(fx, b, h, fx->blk, A_RW, TDP_MAP_MAX_LEVEL(0), NULL), 0);
	assert_int_equal(leaves_in(fx, b, fx->blk, 0), fx->blk / fx->P);
	assert_int_equal(tk_fx_map(fx, b, h, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(leaves_in(fx, b, fx->blk, 1), 1);
}

/* A block straddling an edge of the new range is split; its outside part stays. */
static void t_map_straddling_block(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	uint64_t other = fx->hbase + 2 * fx->big;

	assert_int_equal(tk_fx_map(fx, b - fx->blk, h - fx->blk, fx->blk + fx->big + fx->blk, A_RW, 0,
				   NULL), 0);
	/* [b - P, b + P) straddles the end of one block and the start of the next */
	assert_int_equal(tk_fx_map(fx, b - fx->P, other, 2 * fx->P, A_RO, 0, NULL), 0);
	expect_leaf(fx, b - fx->blk, 0, h - fx->blk);
	expect_leaf(fx, b - fx->P, 0, other);
	expect_leaf(fx, b, 0, other + fx->P);
	expect_leaf(fx, b + fx->P, 0, h + fx->P);
	expect_leaf(fx, b + fx->big, 1, h + fx->big);
}

/* Mapping next to an existing block leaves the block intact. */
static void t_map_next_to_block(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	assert_int_equal(tk_fx_map(fx, b, h, fx->big, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, b + fx->big, h + 3 * fx->big, fx->P, A_RO, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, b - fx->P, h + 3 * fx->big + fx->P, fx->P, A_RO, 0, NULL), 0);
	expect_leaf(fx, b, fx->top, h);
	expect_leaf(fx, b + fx->big - 1, fx->top, h + fx->big - 1);
	/* and a whole block right after it */
	assert_int_equal(tk_fx_map(fx, b + fx->big, h + fx->big, fx->big, A_RW, 0, NULL), 0);
	expect_leaf(fx, b, fx->top, h);
	expect_leaf(fx, b + fx->big, fx->top, h + fx->big);
}

/*
 * Every permission / memory type / software bit combination: what the
 * format can express (the kit's tk_attr_ok) maps and reads back as given,
 * the rest is refused with nothing changed (EPT: no write without read, no
 * empty permissions, no execute-only without the capability).
 */
static void t_map_attributes(struct tk_fx *fx)
{
	static const tdp_attr_t prots[] = { 0, TDP_PROT_R, TDP_PROT_W, TDP_PROT_RW, TDP_PROT_X,
					    TDP_PROT_RX, TDP_PROT_RWX };
	static const tdp_attr_t mts[] = { TDP_MT_NORMAL_WB, TDP_MT_NORMAL_NC, TDP_MT_DEVICE,
					  TDP_MT_DEVICE_STRICT };
	uint64_t g = fx->base;
	size_t refused = 0;
	tdp_attr_t blk;

	for (size_t p = 0; p < sizeof(prots) / sizeof(prots[0]); p++)
		for (size_t m = 0; m < 4; m++)
			for (unsigned int sw = 0; sw < 16; sw += 5) {
				tdp_attr_t a = prots[p] | mts[m] | TDP_SW(sw);
				struct tdp_lookup_result r;

				if (!tk_attr_ok(&fx->pgt.cfg, a)) {
					assert_int_equal(tk_fx_map(fx, g, fx->hbase + (g - fx->base),
								   fx->P, a, 0, NULL), -TDP_EINVAL);
					expect_unmapped(fx, g);
					refused++;
					continue;
				}
				assert_int_equal(tk_fx_map(fx, g, fx->hbase + (g - fx->base), fx->P, a,
							   0, NULL), 0);
				assert_int_equal(tdp_lookup(&fx->pgt, g, &r), 0);
				assert_int_equal(r.attr, a);
				g += fx->P;
			}
	/*
	 * arm64 has a leaf for every combination; EPT and RISC-V none for
	 * write-only or no permission (and RISC-V refuses more: a strict device
	 * type, software bits above two, types without Svpbmt)
	 */
	if (fx->cd->format == TDP_FORMAT_ARM64_S2)
		assert_int_equal(refused, 0);
	else
		assert_true(refused >= 2 * 4 * 4);
	/* the least permission with write the format has, on a block */
	blk = TDP_PROT_W | TDP_MT_DEVICE_STRICT | TDP_SW(9);
	if (!tk_attr_ok(&fx->pgt.cfg, blk))
		blk = FIT(fx, blk | TDP_PROT_R);
	assert_int_equal(tk_fx_map(fx, fx->base + fx->big, fx->hbase + fx->big, fx->blk, blk, 0,
				   NULL), 0);
	expect_leaf(fx, fx->base + fx->big, 1, fx->hbase + fx->big);
}

/* The very last page and block of the input range, the top of the output range. */
static void t_map_range_ends(struct tk_fx *fx)
{
	uint64_t ia_end = 1ull << fx->cd->ia, oa_end = 1ull << fx->cd->oa;

	assert_int_equal(tk_fx_map(fx, ia_end - fx->P, oa_end - fx->P, fx->P, A_RW, 0, NULL), 0);
	expect_leaf(fx, ia_end - fx->P, 0, oa_end - fx->P);
	assert_int_equal(tk_fx_map(fx, ia_end - fx->big, oa_end - fx->big, fx->big, A_RW, 0, NULL), 0);
	expect_leaf(fx, ia_end - 1, fx->top, oa_end - 1);
	assert_int_equal(tk_fx_map(fx, 0, 0, fx->blk, A_RW, 0, NULL), 0);
	expect_leaf(fx, 0, 1, 0);
	assert_int_equal(tk_fx_unmap(fx, ia_end - fx->big, fx->big, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, 0, fx->blk, NULL), 0);
	assert_int_equal(fx->env->out_blocks, 1);
}

/* A larger mix of operations in one table, using the virt_to_phys/phys_to_virt callbacks. */
static void t_map_xlate_mode(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	assert_ptr_not_equal(fx->pgt.cfg.mm->virt_to_phys, NULL);
	assert_int_equal(tk_fx_map(fx, b - fx->blk - fx->P, h - fx->blk - fx->P,
				   2 * fx->P + 2 * fx->blk + fx->big, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_unmap(fx, b + fx->P, fx->P, NULL), 0);
	assert_int_equal(tk_fx_split(fx, b - fx->blk, fx->blk, 0, NULL), 0);
	assert_int_equal(tk_fx_protect(fx, b - fx->blk, 2 * fx->blk, TDP_PROT_W, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, b + fx->big, h, fx->P, A_RO, 0, NULL), 0);
	assert_int_equal(fx->env->errors, 0);
}

/* Many single-page maps in a row (fault-style), then one unmap of everything. */
static void t_map_fault_style(struct tk_fx *fx)
{
	uint64_t b = fx->base + fx->blk - 8 * fx->P;

	fx->checks = false;
	for (uint64_t i = 0; i < 16; i++)
		assert_int_equal(tk_fx_map(fx, b + i * fx->P, fx->hbase + i * fx->P, fx->P, A_RW, 0, NULL),
				 0);
	fx->checks = true;
	tk_check_model(fx->env, &fx->pgt, &fx->m, 0);
	assert_int_equal(tk_fx_unmap(fx, b, 16 * fx->P, NULL), 0);
	assert_int_equal(fx->env->out_blocks, 1);
}

static const struct tcase cases[] = {
	CASE(t_map_largest_leaf),
	CASE(t_map_unequal_alignment),
	CASE(t_map_never_covers_outside),
	CASE(t_map_max_level_flag),
	CASE_LEAF(t_map_leaf_levels_1, 1),
	CASE_LEAF(t_map_leaf_levels_2, 2),
	CASE(t_map_noreplace),
	CASE(t_map_remap_replaces),
	CASE(t_map_straddling_block),
	CASE(t_map_next_to_block),
	CASE(t_map_attributes),
	CASE(t_map_range_ends),
	CASE_XLATE(t_map_xlate_mode),
	CASE(t_map_fault_style),
};

int main(void)
{
	return run_cases("map", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
