/* SPDX-License-Identifier: MIT */
/*
 * Tests of the test kit itself: the pool, its fault injection and error
 * detection, the event log, the reference walker on hand-written
 * descriptors, and the model. Everything else relies on these.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kit_internal.h"

#include <string.h>

static int setup_env(void **state)
{
	struct tdp_tk_pool *env = tk_env_new(TK_PA_BASE_DEFAULT, TK_ARENA_DEFAULT);

	*state = env;
	return env ? 0 : -1;
}

static int teardown_env(void **state)
{
	tk_env_free(*state);
	return 0;
}

static void test_pool_alloc_align_zero(void **state)
{
	struct tdp_tk_pool *env = *state;
	void *blocks[9];

	for (int o = 0; o < 9; o++) {
		size_t size = (size_t)4096 << o;
		uint8_t *p = tk_mm_linear.zalloc_table(env, size);

		assert_non_null(p);
		assert_int_equal(((uintptr_t)p) & (size - 1), 0);
		assert_int_equal(tk_va_to_pa(env, p) & (size - 1), 0);
		assert_ptr_equal(tk_pa_to_va(env, tk_va_to_pa(env, p)), p);
		assert_ptr_equal((uint8_t *)(uintptr_t)(tk_va_to_pa(env, p) + tk_linear_offset(env)), p);
		assert_true(tk_pool_live(env, tk_va_to_pa(env, p), size));
		assert_false(tk_pool_live(env, tk_va_to_pa(env, p), size * 2));
		for (size_t i = 0; i < size; i += 511)
			assert_int_equal(p[i], 0);
		memset(p, 0x77, size);
		blocks[o] = p;
	}
	assert_int_equal(env->out_blocks, 9);
	assert_int_equal(env->out_bytes, (4096u << 9) - 4096u);
	for (int o = 0; o < 9; o++)
		tk_mm_linear.free_table(env, blocks[o], (size_t)4096 << o);
	tk_check_pool_clean(env);
	/* reuse gives zeroed memory again */
	{
		uint8_t *p = tk_mm_linear.zalloc_table(env, 4096);

		assert_non_null(p);
		for (size_t i = 0; i < 4096; i++)
			assert_int_equal(p[i], 0);
		tk_mm_linear.free_table(env, p, 4096);
	}
	assert_int_equal(env->allocs, 10);
	assert_int_equal(env->frees, 10);
	assert_int_equal(env->errors, 0);
}

static void test_pool_detects_bad_free(void **state)
{
	struct tdp_tk_pool *env = *state;
	void *p = tk_mm_linear.zalloc_table(env, 16384);
	void *q = tk_mm_linear.zalloc_table(env, 4096);

	assert_non_null(p);
	tk_mm_linear.free_table(env, p, 4096); /* wrong size */
	assert_int_equal(env->errors, 1);
	tk_mm_linear.free_table(env, p, 16384);
	assert_int_equal(env->errors, 1);
	tk_mm_linear.free_table(env, p, 16384); /* double free */
	assert_int_equal(env->errors, 2);
	tk_mm_linear.free_table(env, (uint8_t *)q + 64, 4096); /* not a block */
	assert_int_equal(env->errors, 3);
	tk_mm_linear.free_table(env, q, 4096);
	assert_int_equal(env->out_blocks, 0);
	assert_null(tk_mm_linear.zalloc_table(env, 12288)); /* not a power of two */
	assert_int_equal(env->errors, 4);
	env->errors = 0;
}

static void test_pool_fault_injection(void **state)
{
	struct tdp_tk_pool *env = *state;
	void *p[4];

	tk_fail_nth(env, 2);
	p[0] = tk_mm_linear.zalloc_table(env, 4096);
	p[1] = tk_mm_linear.zalloc_table(env, 4096);
	p[2] = tk_mm_linear.zalloc_table(env, 4096);
	p[3] = tk_mm_linear.zalloc_table(env, 4096);
	assert_non_null(p[0]);
	assert_non_null(p[1]);
	assert_null(p[2]);
	assert_non_null(p[3]);
	assert_true(env->fail_fired);
	assert_int_equal(env->failed_allocs, 1);
	tk_mm_linear.free_table(env, p[0], 4096);
	tk_mm_linear.free_table(env, p[1], 4096);
	tk_mm_linear.free_table(env, p[3], 4096);

	tk_fail_from(env, 1);
	p[0] = tk_mm_linear.zalloc_table(env, 4096);
	assert_non_null(p[0]);
	assert_null(tk_mm_linear.zalloc_table(env, 4096));
	assert_null(tk_mm_linear.zalloc_table(env, 4096));
	tk_fail_off(env);
	p[1] = tk_mm_linear.zalloc_table(env, 4096);
	assert_non_null(p[1]);
	tk_fail_all(env, true);
	assert_null(tk_mm_linear.zalloc_table(env, 65536));
	tk_fail_all(env, false);
	tk_mm_linear.free_table(env, p[0], 4096);
	tk_mm_linear.free_table(env, p[1], 4096);
	tk_check_pool_clean(env);
}

static void test_log_order(void **state)
{
	struct tdp_tk_pool *env = *state;
	size_t mark = tk_log_mark(env);
	void *p = tk_mm_linear.zalloc_table(env, 4096);

	tk_tlb.flush_range(env, 0x1000, 0x2000, 0, true);
	tk_mm_linear.free_table(env, p, 4096);
	tk_tlb.flush_all(env);
	assert_int_equal(env->nr_ev - mark, 4);
	assert_int_equal(env->ev[mark].kind, TK_EV_ALLOC);
	assert_int_equal(env->ev[mark + 1].kind, TK_EV_FLUSH_RANGE);
	assert_int_equal(env->ev[mark + 1].a, 0x1000);
	assert_int_equal(env->ev[mark + 1].b, 0x2000);
	assert_true(env->ev[mark + 1].tables);
	assert_int_equal(env->ev[mark + 2].kind, TK_EV_FREE);
	assert_int_equal(env->ev[mark + 3].kind, TK_EV_FLUSH_ALL);
	assert_true(env->ev[mark].seq < env->ev[mark + 1].seq);
	assert_int_equal(tk_log_count(env, mark, TK_EV_FREE), 1);
}

/* A hand-made 4K/40-bit table: root of two level-1 tables. */
static void fake_pgt(struct tdp_tk_pool *env, struct tdp_pgtable *pgt, uint64_t **root)
{
	memset(pgt, 0, sizeof(*pgt));
	tk_config(env, &pgt->cfg, 12, 40, 40);
	*root = tk_mm_linear.zalloc_table(env, 8192);
	assert_non_null(*root);
	pgt->root = *root;
	pgt->root_pa = tk_va_to_pa(env, *root);
}

#define LEAF_BITS (1ull | (0xfull << 2) | (3ull << 6) | (3ull << 8) | (1ull << 10))

static void test_ref_walker_decodes(void **state)
{
	struct tdp_tk_pool *env = *state;
	struct tdp_pgtable pgt;
	uint64_t *root, *l2, *l3;
	struct tk_snap s;
	struct tk_leaf leaf;

	fake_pgt(env, &pgt, &root);
	l2 = tk_mm_linear.zalloc_table(env, 4096);
	l3 = tk_mm_linear.zalloc_table(env, 4096);
	/* 1G block at gpa 1G -> 0x80000000, RW + X, WB */
	root[1] = 0x80000000ull | LEAF_BITS;
	/* gpa 512G (second concatenated table, entry 0) -> table */
	root[512] = tk_va_to_pa(env, l2) | 3;
	/* 2M block at 512G + 2M: read-only, XN, device, sw 5 */
	l2[1] = 0x40200000ull | 1 | (1ull << 2) | (1ull << 6) | (3ull << 8) | (1ull << 10) |
		(1ull << 54) | (5ull << 55);
	l2[2] = tk_va_to_pa(env, l3) | 3;
	/* 4K page at 512G + 4M + 4K: write-only, NC */
	l3[1] = 0x12345000ull | 3 | (5ull << 2) | (2ull << 6) | (3ull << 8) | (1ull << 10);

	tk_snap_take(env, &pgt, &s);
	assert_int_equal(s.anomalies, 0);
	assert_int_equal(s.empty_tables, 0);
	assert_int_equal(s.nr_tables, 2);
	assert_int_equal(s.nr, 3);
	assert_int_equal(s.leaves[0].gpa, 1ull << 30);
	assert_int_equal(s.leaves[0].level, 2);
	assert_int_equal(s.leaves[0].attr, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	assert_int_equal(s.leaves[1].gpa, (512ull << 30) + (2ull << 20));
	assert_int_equal(s.leaves[1].level, 1);
	assert_int_equal(s.leaves[1].pa, 0x40200000ull);
	assert_int_equal(s.leaves[1].attr, TDP_PROT_R | TDP_MT_DEVICE | TDP_SW(5));
	assert_int_equal(s.leaves[2].gpa, (512ull << 30) + (4ull << 20) + 4096);
	assert_int_equal(s.leaves[2].level, 0);
	assert_int_equal(s.leaves[2].attr, TDP_PROT_W | TDP_PROT_X | TDP_MT_NORMAL_NC);
	tk_snap_free(&s);

	assert_int_equal(tk_ref_translate(env, &pgt, (1ull << 30) + 0x1234, &leaf), 0);
	assert_int_equal(leaf.pa, 0x80000000ull);
	assert_int_equal(tk_ref_translate(env, &pgt, (512ull << 30) + (4ull << 20) + 4096 + 7, &leaf), 0);
	assert_int_equal(leaf.pa, 0x12345000ull);
	assert_int_equal(tk_ref_translate(env, &pgt, (512ull << 30) + (4ull << 20), &leaf), -TDP_ENOENT);
	assert_int_equal(tk_ref_translate(env, &pgt, 0, &leaf), -TDP_ENOENT);
	assert_int_equal(tk_ref_translate(env, &pgt, 1ull << 40, &leaf), -TDP_ERANGE);

	/* anomalies: a page with type 01, a reserved bit, a table pointing at data, empty table */
	l3[1] &= ~2ull;
	l2[1] |= 1ull << 63;
	root[0] = 0x7000000ull | 3; /* not a pool block */
	root[3] = tk_va_to_pa(env, tk_mm_linear.zalloc_table(env, 4096)) | 3; /* empty table */
	tk_snap_take(env, &pgt, &s);
	assert_int_equal(s.anomalies, 3);
	assert_int_equal(s.empty_tables, 1);
	tk_snap_free(&s);

	tk_mm_linear.free_table(env, tk_pa_to_va(env, root[3] & ~0xfffull), 4096);
	tk_mm_linear.free_table(env, l3, 4096);
	tk_mm_linear.free_table(env, l2, 4096);
	tk_mm_linear.free_table(env, root, 8192);
	tk_check_pool_clean(env);
}

static void test_ref_decode_xnx(void **state)
{
	(void)state;
	assert_int_equal(tk_arm64_decode_attr(LEAF_BITS, true), TDP_PROT_RWX);
	assert_int_equal(tk_arm64_decode_attr(LEAF_BITS | (1ull << 53), true), TDP_PROT_RW | TDP_PROT_XU);
	assert_int_equal(tk_arm64_decode_attr(LEAF_BITS | (2ull << 53), true), TDP_PROT_RW);
	assert_int_equal(tk_arm64_decode_attr(LEAF_BITS | (3ull << 53), true), TDP_PROT_RW | TDP_PROT_XP);
	assert_int_equal(tk_arm64_decode_attr(LEAF_BITS | (1ull << 54), false), TDP_PROT_RW);
	assert_int_equal(tk_arm64_decode_attr(1 | (1ull << 2), false), TDP_PROT_X | TDP_MT_DEVICE);
}

static void test_kit_geometry_matches_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < tk_nr_cfgs_all; i++) {
		const struct tk_cfgdesc *cd = &tk_cfgs_all[i];
		struct tk_geo g;

		assert_int_equal(tk_arm64_geo(cd->gshift, cd->ia, cd->oa, &g), 0);
		assert_int_equal(g.levels, cd->levels);
		assert_int_equal(g.root_tables, cd->root_tables);
		assert_int_equal(g.root_bits, cd->root_bits);
		assert_int_equal(g.root_size, cd->root_size);
		assert_int_equal(g.leaf_mask, cd->leaf_mask);
	}
}

/* The public pool API: arguments checked, the memory reader sees live blocks only. */
static void test_pool_public_api(void **state)
{
	struct tdp_tk_pool_stats st = { .out_blocks = 99 };
	struct tdp_tk_pool *pool;
	struct tdp_config cfg;
	struct tdp_tk_mem mem;
	uint8_t *p;
	uint64_t pa;

	(void)state;
	assert_null(tdp_tk_pool_new(1ull << 32, 0));
	assert_null(tdp_tk_pool_new(1ull << 32, 4096 + 1));
	assert_null(tdp_tk_pool_new((1ull << 32) + 4096, 1u << 20)); /* base not 1 MiB aligned */
	tdp_tk_pool_stats(NULL, &st);
	assert_int_equal(st.out_blocks, 0);
	assert_string_equal(tdp_tk_pool_first_error(NULL), "");
	assert_null(tdp_tk_pool_va(NULL, 0));
	assert_false(tdp_tk_pool_live(NULL, 0, 4096));
	mem = tdp_tk_pool_mem(NULL);
	assert_null(mem.ptr(mem.ctx, 0, 8));
	tdp_tk_pool_fail_nth(NULL, 0);
	tdp_tk_pool_config(NULL, &cfg);
	tdp_tk_pool_delete(NULL);

	pool = tdp_tk_pool_new(1ull << 32, 4u << 20);
	assert_non_null(pool);
	memset(&cfg, 0, sizeof(cfg));
	tdp_tk_pool_config(pool, &cfg);
	p = cfg.mm->zalloc_table(cfg.mm_ctx, 16384);
	assert_non_null(p);
	pa = tdp_tk_pool_pa(pool, p);
	assert_int_equal(pa & 16383, 0);
	assert_int_equal((uintptr_t)p, pa + cfg.linear_offset);
	assert_true(tdp_tk_pool_live(pool, pa, 16384));
	assert_ptr_equal(tdp_tk_pool_va(pool, pa + 8), p + 8);
	assert_int_equal(tdp_tk_pool_pa(pool, &st), ~0ull);
	mem = tdp_tk_pool_mem(pool);
	assert_ptr_equal(mem.ptr(mem.ctx, pa + 16376, 8), p + 16376);
	assert_null(mem.ptr(mem.ctx, pa + 16380, 8)); /* runs past the block */
	tdp_tk_pool_fail_nth(pool, 0);
	assert_null(cfg.mm->zalloc_table(cfg.mm_ctx, 4096));
	tdp_tk_pool_stats(pool, &st);
	assert_int_equal(st.out_blocks, 1);
	assert_int_equal(st.failed_allocs, 1);
	cfg.mm->free_table(cfg.mm_ctx, p, 16384);
	assert_false(tdp_tk_pool_live(pool, pa, 16384));
	assert_null(mem.ptr(mem.ctx, pa, 8)); /* freed: not memory to a walker */
	tdp_tk_pool_stats(pool, &st);
	assert_int_equal(st.out_blocks, 0);
	assert_int_equal(st.errors, 0);
	tdp_tk_pool_delete(pool);
}

static void test_model_ops(void **state)
{
	struct tk_model m, e;
	char why[200];

	(void)state;
	tk_model_init(&m);
	tk_model_map(&m, 0x10000, 0x90000, 0x10000, 3);
	tk_model_map(&m, 0x20000, 0xa0000, 0x10000, 3); /* merges */
	assert_int_equal(m.n, 1);
	assert_int_equal(m.v[0].size, 0x20000);
	tk_model_unmap(&m, 0x14000, 0x1000);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.v[1].gpa, 0x15000);
	assert_int_equal(m.v[1].hpa, 0x95000);
	tk_model_protect(&m, 0x18000, 0x2000, TDP_PROT_W, 0);
	assert_int_equal(m.n, 4);
	tk_model_protect(&m, 0x18000, 0x2000, 0, TDP_PROT_W);
	assert_int_equal(m.n, 2);
	tk_model_map(&m, 0x0, 0x0, 0x40000, 1); /* replaces all */
	assert_int_equal(m.n, 1);
	tk_model_init(&e);
	tk_model_map(&e, 0x0, 0x0, 0x20000, 1);
	tk_model_map(&e, 0x20000, 0x20000, 0x20000, 1);
	assert_true(tk_model_equal(&m, &e, why, sizeof(why)));
	tk_model_map(&e, 0x30000, 0x31000, 0x1000, 1);
	assert_false(tk_model_equal(&m, &e, why, sizeof(why)));
	assert_true(tk_model_any(&m, 0x3f000, 0x1000));
	assert_false(tk_model_any(&m, 0x40000, 0x1000));
	tk_model_free(&m);
	tk_model_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pool_alloc_align_zero, setup_env, teardown_env),
		cmocka_unit_test_setup_teardown(test_pool_detects_bad_free, setup_env, teardown_env),
		cmocka_unit_test_setup_teardown(test_pool_fault_injection, setup_env, teardown_env),
		cmocka_unit_test_setup_teardown(test_log_order, setup_env, teardown_env),
		cmocka_unit_test_setup_teardown(test_ref_walker_decodes, setup_env, teardown_env),
		cmocka_unit_test(test_ref_decode_xnx),
		cmocka_unit_test(test_kit_geometry_matches_table),
		cmocka_unit_test(test_model_ops),
		cmocka_unit_test(test_pool_public_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
