/* SPDX-License-Identifier: MIT */
/*
 * tdp_protect: permissions and software bits over a range; fully covered
 * blocks stay blocks; a straddling block is split only if its permissions
 * change; unmapped pages are skipped; inexpressible changes are refused.
 */
#include "common.h"

/* Fully covered blocks stay blocks. */
static void t_protect_keeps_blocks(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	size_t out;

	assert_int_equal(tk_fx_map(fx, b, h, fx->big + fx->blk, A_RWX, 0, NULL), 0);
	out = fx->env->out_blocks;
	assert_int_equal(tk_fx_protect(fx, b, fx->big + fx->blk, TDP_PROT_W | TDP_PROT_X,
				       set_keeping_r(fx, TDP_PROT_W | TDP_PROT_X, 0), NULL), 0);
	assert_int_equal(fx->env->out_blocks, out);
	expect_leaf(fx, b, fx->top, h);
	expect_leaf(fx, b + fx->big, 1, h + fx->big);
	tk_check_layout(fx->env, &fx->pgt, b, h, fx->big + fx->blk, A_RO, -1);
	/* and back */
	assert_int_equal(tk_fx_protect(fx, b, fx->big + fx->blk, 0,
				       set_keeping_r(fx, 0, TDP_PROT_W | TDP_PROT_X), NULL), 0);
	tk_check_layout(fx->env, &fx->pgt, b, h, fx->big + fx->blk, A_RWX, -1);
}

/* A block straddling an edge is split when its permissions change. */
static void t_protect_edge_split(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	struct tdp_lookup_result r;

	assert_int_equal(tk_fx_map(fx, b, h, fx->big, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_protect(fx, b + fx->P, fx->P, TDP_PROT_W, 0, NULL), 0);
	assert_int_equal(tdp_lookup(&fx->pgt, b + fx->P, &r), 0);
	assert_int_equal(r.attr, A_RO);
	assert_int_equal(r.level, 0);
	assert_int_equal(tdp_lookup(&fx->pgt, b, &r), 0);
	assert_int_equal(r.attr, A_RW);
	assert_int_equal(tdp_lookup(&fx->pgt, b + fx->big - fx->P, &r), 0);
	assert_int_equal(r.attr, A_RW);
}

/* A straddling block whose permissions would not change is left whole. */
static void t_protect_noop_keeps_block(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	size_t out;

	assert_int_equal(tk_fx_map(fx, b, h, fx->big, A_RO, 0, NULL), 0);
	out = fx->env->out_blocks;
	assert_int_equal(tk_fx_protect(fx, b + fx->P, fx->P, TDP_PROT_W, 0, NULL), 0);
	assert_int_equal(tk_fx_protect(fx, b + fx->P, fx->P, 0, TDP_PROT_R, NULL), 0);
	assert_int_equal(fx->env->out_blocks, out);
	expect_leaf(fx, b, fx->top, h);
}

/* Unmapped pages are skipped and stay unmapped; no table is created for them. */
static void t_protect_skips_unmapped(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	size_t out;

	assert_int_equal(tk_fx_map(fx, b + fx->blk + 2 * fx->P, h, 2 * fx->P, A_RW, 0, NULL), 0);
	out = fx->env->out_blocks;
	assert_int_equal(tk_fx_protect(fx, b, 2 * fx->big, TDP_PROT_W, 0, NULL), 0);
	assert_int_equal(fx->env->out_blocks, out);
	expect_unmapped(fx, b);
	expect_unmapped(fx, b + fx->blk + 4 * fx->P);
	expect_leaf(fx, b + fx->blk + 2 * fx->P, 0, h);
	/* an entirely empty range */
	assert_int_equal(tk_fx_protect(fx, b + 2 * fx->big, fx->big, 0,
				       set_keeping_r(fx, 0, TDP_PROT_W), NULL), 0);
	assert_int_equal(fx->env->out_blocks, out);
}

/* Software bits: set and clear, alone and with permissions (as many as the format has). */
static void t_protect_sw_bits(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	struct tdp_lookup_result r;

	assert_int_equal(tk_fx_map(fx, b, h, fx->blk + fx->P, A_RW | TDP_SW(1), 0, NULL), 0);
	assert_int_equal(tk_fx_protect(fx, b, fx->blk + fx->P, 0, FIT(fx, TDP_SW(0xe)), NULL), 0);
	assert_int_equal(tdp_lookup(&fx->pgt, b, &r), 0);
	assert_int_equal(r.attr, FIT(fx, A_RW | TDP_SW(0xf)));
	assert_int_equal(r.level, 1);
	assert_int_equal(tk_fx_protect(fx, b, fx->blk, TDP_SW(0x3), TDP_SW(0), NULL), 0);
	assert_int_equal(tdp_lookup(&fx->pgt, b, &r), 0);
	assert_int_equal(r.attr, FIT(fx, A_RW | TDP_SW(0xc)));
	assert_int_equal(tk_fx_protect(fx, b, fx->blk, TDP_SW_MASK | TDP_PROT_MASK,
				       TDP_PROT_R | FIT(fx, TDP_SW(5)), NULL), 0);
	assert_int_equal(tdp_lookup(&fx->pgt, b + fx->P, &r), 0);
	assert_int_equal(r.attr, FIT(fx, A_RO | TDP_SW(5)));
	assert_int_equal(tdp_lookup(&fx->pgt, b + fx->blk, &r), 0);
	assert_int_equal(r.attr, FIT(fx, A_RW | TDP_SW(0xf)));
}

/*
 * Bits outside TDP_PROT_MASK | TDP_SW_MASK, and split execute without
 * FEAT_XNX / MBEC, are refused.
 */
static void t_protect_refuses(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	assert_int_equal(tk_fx_map(fx, b, h, fx->blk + fx->P, A_RWX, 0, NULL), 0);
	assert_int_equal(tk_fx_protect(fx, b, fx->P, TDP_MT_MASK, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b, fx->P, 0, TDP_MT_DEVICE, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b, fx->P, 0, 1u << 12, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b, fx->P, 1u << 31, 0, NULL), -TDP_EINVAL);
	/* without split execute the two execute bits can only move together */
	assert_int_equal(tk_fx_protect(fx, b, fx->blk, TDP_PROT_XU, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b, fx->blk, TDP_PROT_XP, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b, fx->blk, TDP_PROT_X, TDP_PROT_XP, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b, fx->blk, TDP_PROT_X, set_keeping_r(fx, TDP_PROT_X, 0),
				       NULL), 0);
	assert_int_equal(tk_fx_protect(fx, b, fx->blk, 0, TDP_PROT_X, NULL), 0);
	expect_leaf(fx, b, 1, h);
}

/* With split execute (arm64 FEAT_XNX, EPT MBEC) privileged and user execute are independent. */
static void t_protect_xnx(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	struct tdp_lookup_result r;

	assert_int_equal(tk_fx_map(fx, b, h, fx->blk, A_RWX, 0, NULL), 0);
	assert_int_equal(tk_fx_protect(fx, b, fx->blk, TDP_PROT_XU, 0, NULL), 0);
	assert_int_equal(tdp_lookup(&fx->pgt, b, &r), 0);
	assert_int_equal(r.attr, TDP_PROT_RW | TDP_PROT_XP);
	assert_int_equal(tk_fx_protect(fx, b, fx->P, TDP_PROT_XP, TDP_PROT_XU, NULL), 0);
	assert_int_equal(tdp_lookup(&fx->pgt, b, &r), 0);
	assert_int_equal(r.attr, TDP_PROT_RW | TDP_PROT_XU);
	assert_int_equal(tdp_lookup(&fx->pgt, b + fx->P, &r), 0);
	assert_int_equal(r.attr, TDP_PROT_RW | TDP_PROT_XP);
	/* and a map with only one of them */
	assert_int_equal(tk_fx_map(fx, b + fx->blk, h, fx->P, TDP_PROT_R | TDP_PROT_XU, 0, NULL), 0);
	assert_int_equal(tdp_lookup(&fx->pgt, b + fx->blk, &r), 0);
	assert_int_equal(r.attr, TDP_PROT_R | TDP_PROT_XU);
}

/*
 * Write-only and no access: legal on arm64 (the entry stays, with no
 * access); refused on EPT, where they would be a misconfiguration and a
 * not-present entry (the kit's tk_prot_change_ok says which), with the
 * table unchanged.
 */
static void t_protect_write_only_and_none(struct tk_fx *fx)
{
	const tdp_attr_t wo = TDP_PROT_R | TDP_PROT_X, none = TDP_PROT_MASK;
	uint64_t b = fx->base, h = fx->hbase;
	bool wo_ok = tk_prot_change_ok(&fx->pgt.cfg, wo, 0);
	bool none_ok = tk_prot_change_ok(&fx->pgt.cfg, none, 0);
	struct tdp_lookup_result r;

	/* what the format can hold decides: a leaf with W alone, a leaf with nothing */
	assert_int_equal(wo_ok, tk_attr_ok(&fx->pgt.cfg, TDP_PROT_W));
	assert_int_equal(none_ok, tk_attr_ok(&fx->pgt.cfg, 0));
	assert_int_equal(tk_fx_map(fx, b, h, 2 * fx->P, A_RWX, 0, NULL), 0);
	assert_int_equal(tk_fx_protect(fx, b, fx->P, wo, 0, NULL), wo_ok ? 0 : -TDP_EINVAL);
	assert_int_equal(tk_fx_protect(fx, b + fx->P, fx->P, none, 0, NULL),
			 none_ok ? 0 : -TDP_EINVAL);
	/* still mapped, with write only / no access, or as before */
	assert_int_equal(tdp_lookup(&fx->pgt, b, &r), 0);
	assert_int_equal(r.attr, wo_ok ? TDP_PROT_W : A_RWX);
	assert_int_equal(tdp_lookup(&fx->pgt, b + fx->P, &r), 0);
	assert_int_equal(r.attr, none_ok ? 0 : A_RWX);
	expect_leaf(fx, b + fx->P, 0, h + fx->P);
	/* removing read while keeping write is refused or done the same way on a block */
	assert_int_equal(tk_fx_map(fx, b + fx->blk, h + fx->blk, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_protect(fx, b + fx->blk, fx->blk, TDP_PROT_R, 0, NULL),
			 tk_prot_change_ok(&fx->pgt.cfg, TDP_PROT_R, 0) ? 0 : -TDP_EINVAL);
	expect_leaf(fx, b + fx->blk, 1, h + fx->blk);
}

static const struct tcase cases[] = {
	CASE(t_protect_keeps_blocks),
	CASE(t_protect_edge_split),
	CASE(t_protect_noop_keeps_block),
	CASE(t_protect_skips_unmapped),
	CASE(t_protect_sw_bits),
	CASE(t_protect_refuses),
	CASE_FEAT(t_protect_xnx, TK_FEAT_SPLIT_X),
	CASE(t_protect_write_only_and_none),
};

int main(void)
{
	return run_cases("protect", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
