/* SPDX-License-Identifier: MIT */
/*
 * Why a call refused: every check reports its reason through the
 * configuration's `refused` callback, exactly once, with the code the call
 * returns; successes and expected outcomes (-TDP_ENOENT, -TDP_EEXIST) report
 * nothing. tdp_strerror and tdp_reason_str name every code and reason.
 * The last test checks that the others produced every reason there is.
 */
#include "common.h"

struct rec {
	unsigned int calls;
	int err;
	enum tdp_reason reason;
};

/* reasons any test in this file has seen (the coverage test reads it) */
static bool seen[TDP_REASON_COUNT];

static void record(void *ctx, int err, enum tdp_reason reason)
{
	struct rec *r = ctx;

	r->calls++;
	r->err = err;
	r->reason = reason;
	if ((unsigned int)reason < TDP_REASON_COUNT)
		seen[reason] = true;
}

/* The call's result, and that the callback said the same thing once. */
#define REFUSED(r, call, want_err, want_reason)                                           \
	do {                                                                                \
		(r)->calls = 0;                                                             \
		assert_int_equal((call), -(want_err));                                     \
		assert_int_equal((r)->calls, 1);                                           \
		assert_int_equal((r)->err, -(want_err));                                   \
		assert_int_equal((r)->reason, (want_reason));                              \
	} while (0)

/* The call's result, with no word from the callback. */
#define QUIET(r, call, want)                                                              \
	do {                                                                                \
		(r)->calls = 0;                                                             \
		assert_int_equal((call), (want));                                          \
		assert_int_equal((r)->calls, 0);                                           \
	} while (0)

struct tbl {
	struct tdp_tk_pool *env;
	struct tdp_config cfg;
	struct tdp_pgtable pgt;
	struct rec rec;
	uint64_t P;
};

static void tbl_config(struct tbl *t, const struct tk_cfgdesc *cd, uint64_t pa_base)
{
	memset(t, 0, sizeof(*t));
	t->env = tk_env_new(pa_base, 64ull << 20);
	assert_non_null(t->env);
	tk_config(t->env, &t->cfg, cd->gshift, cd->ia, cd->oa);
	t->cfg.format = cd->format;
	t->cfg.flags = cd->flags;
	t->cfg.refused = record;
	t->cfg.refused_ctx = &t->rec;
	t->P = 1ull << cd->gshift;
}

static void tbl_open(struct tbl *t, const struct tk_cfgdesc *cd)
{
	tbl_config(t, cd, TK_PA_BASE_DEFAULT);
	QUIET(&t->rec, tdp_pgtable_init(&t->pgt, &t->cfg), 0);
}

static void tbl_close(struct tbl *t)
{
	if (t->pgt.fops)
		QUIET(&t->rec, tdp_pgtable_destroy(&t->pgt), 0);
	tk_check_pool_clean(t->env);
	tk_env_free(t->env);
}

static const struct tk_cfgdesc *cd_of(void **state)
{
	return *state;
}

static void t_init(void **state)
{
	const struct tk_cfgdesc *cd = cd_of(state);
	struct tdp_mm_ops no_free;
	struct tdp_change_ops no_leaf;
	struct tbl t;

	tbl_config(&t, cd, TK_PA_BASE_DEFAULT);
	struct tdp_config c = t.cfg;

	REFUSED(&t.rec, tdp_pgtable_init(NULL, &c), TDP_EINVAL, TDP_REASON_NULL);
	c.mm = NULL;
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &c), TDP_EINVAL, TDP_REASON_CFG_OPS);
	no_free = *t.cfg.mm;
	no_free.free_table = NULL;
	c = t.cfg;
	c.mm = &no_free;
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &c), TDP_EINVAL, TDP_REASON_CFG_OPS);
	c = t.cfg;
	c.flags |= 1u << 30;
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &c), TDP_EINVAL, TDP_REASON_CFG_FLAGS);
	c = t.cfg;
	c.flags |= 1u << 15; /* no format defines this one */
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &c), TDP_EINVAL, TDP_REASON_CFG_FLAGS);
	c = t.cfg;
	c.flags |= TDP_CFG_SHARED; /* the pool's operations have no defer_free_table */
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &c), TDP_EINVAL, TDP_REASON_CFG_SHARED);
	memset(&no_leaf, 0, sizeof(no_leaf));
	c = t.cfg;
	c.changes = &no_leaf;
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &c), TDP_EINVAL, TDP_REASON_CFG_CHANGES);
	c = t.cfg;
	c.format = (enum tdp_format)77;
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &c), TDP_EINVAL, TDP_REASON_CFG_FORMAT);
	c = t.cfg;
	c.granule_shift = 13;
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &c), TDP_EINVAL, TDP_REASON_CFG_GRANULE);
	c = t.cfg;
	c.ia_bits = 20;
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &c), TDP_EINVAL, TDP_REASON_CFG_IA_BITS);
	c = t.cfg;
	c.oa_bits = 20;
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &c), TDP_EINVAL, TDP_REASON_CFG_OA_BITS);
	/* the root's allocation fails */
	tk_fail_nth(t.env, 0);
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &t.cfg), TDP_ENOMEM, TDP_REASON_ALLOC);
	tk_fail_off(t.env);
	/* no callback: the same error, nothing called */
	c = t.cfg;
	c.refused = NULL;
	c.oa_bits = 20;
	QUIET(&t.rec, tdp_pgtable_init(&t.pgt, &c), -TDP_EINVAL);
	QUIET(&t.rec, tdp_pgtable_init(&t.pgt, NULL), -TDP_EINVAL);
	t.pgt.fops = NULL;
	tbl_close(&t);
}

/* Pools placed where the hardware cannot reach the tables. */
static void t_table_address(void **state)
{
	const struct tk_cfgdesc *cd = cd_of(state);
	const uint64_t oa_end = 1ull << cd->oa;
	struct tdp_memcache mc;
	struct tbl t;

	/* every page of the pool is above the output range: the root first */
	tbl_config(&t, cd, oa_end);
	REFUSED(&t.rec, tdp_pgtable_init(&t.pgt, &t.cfg), TDP_ERANGE, TDP_REASON_ROOT_ADDRESS);
	t.pgt.fops = NULL;
	tbl_close(&t);

	/*
	 * The pool's first (most aligned) block below the end of the range,
	 * the rest above: the root fits, and a top-up larger than that block
	 * meets a page the hardware cannot address (the pool hands out its
	 * arena from the bottom up).
	 */
	tbl_config(&t, cd, oa_end - TK_POOL_MAX_ALIGN);
	QUIET(&t.rec, tdp_pgtable_init(&t.pgt, &t.cfg), 0);
	tdp_memcache_init(&mc);
	REFUSED(&t.rec, tdp_memcache_topup(&t.pgt, &mc, TK_POOL_MAX_ALIGN / t.P + 1), TDP_ERANGE,
		TDP_REASON_TABLE_ADDRESS);
	tdp_memcache_drain(&t.pgt, &mc);
	tbl_close(&t);
}

static void t_ranges(void **state)
{
	const struct tk_cfgdesc *cd = cd_of(state);
	const uint64_t ia_end = 1ull << cd->ia, oa_end = 1ull << cd->oa;
	struct tdp_fault_result fr;
	struct tdp_lookup_result lr;
	struct tdp_fault_region rg;
	struct tdp_iter it;
	struct tbl t;
	uint64_t P;

	tbl_open(&t, cd);
	P = t.P;
	REFUSED(&t.rec, tdp_map(&t.pgt, 0, 0, 0, TDP_PROT_RW, 0, NULL), TDP_EINVAL,
		TDP_REASON_EMPTY_RANGE);
	REFUSED(&t.rec, tdp_map(&t.pgt, P / 2, 0, P, TDP_PROT_RW, 0, NULL), TDP_EINVAL,
		TDP_REASON_GPA_ALIGN);
	REFUSED(&t.rec, tdp_unmap(&t.pgt, 0, P + 1, NULL), TDP_EINVAL, TDP_REASON_GPA_ALIGN);
	REFUSED(&t.rec, tdp_map(&t.pgt, ia_end - P, 0, 2 * P, TDP_PROT_RW, 0, NULL), TDP_ERANGE,
		TDP_REASON_GPA_RANGE);
	REFUSED(&t.rec, tdp_protect(&t.pgt, 0 - P, 2 * P, TDP_PROT_W, 0, NULL), TDP_ERANGE,
		TDP_REASON_GPA_RANGE);
	REFUSED(&t.rec, tdp_map(&t.pgt, 0, P / 2, P, TDP_PROT_RW, 0, NULL), TDP_EINVAL,
		TDP_REASON_HPA_ALIGN);
	REFUSED(&t.rec, tdp_map(&t.pgt, 0, oa_end, P, TDP_PROT_RW, 0, NULL), TDP_ERANGE,
		TDP_REASON_HPA_RANGE);
	REFUSED(&t.rec, tdp_map_pages_needed(&t.pgt, 0, oa_end - P, 2 * P, 0), TDP_ERANGE,
		TDP_REASON_HPA_RANGE);
	REFUSED(&t.rec, tdp_lookup(&t.pgt, ia_end, &lr), TDP_ERANGE, TDP_REASON_GPA_RANGE);
	REFUSED(&t.rec, tdp_iter_start(&it, &t.pgt, 2 * P, P, 0), TDP_EINVAL,
		TDP_REASON_EMPTY_RANGE);
	REFUSED(&t.rec, tdp_iter_start(&it, &t.pgt, 0, ia_end + P, 0), TDP_ERANGE,
		TDP_REASON_GPA_RANGE);
	rg = (struct tdp_fault_region){ 4 * P, 4 * P, 0 };
	{
		struct tdp_memcache mc;

		tdp_memcache_init(&mc);
		REFUSED(&t.rec, tdp_map_fault(&t.pgt, 3 * P, &rg, TDP_PROT_RW, 0, &mc, &fr),
			TDP_EINVAL, TDP_REASON_FAULT_OUTSIDE);
		REFUSED(&t.rec, tdp_map_fault(&t.pgt, 8 * P, &rg, TDP_PROT_RW, 0, &mc, &fr),
			TDP_EINVAL, TDP_REASON_FAULT_OUTSIDE);
		REFUSED(&t.rec, tdp_map_fault(&t.pgt, 4 * P, NULL, TDP_PROT_RW, 0, &mc, &fr),
			TDP_EINVAL, TDP_REASON_NULL);
	}
	tbl_close(&t);
}

/* A (clear, set) pair of protect that the format refuses, if it has one. */
static bool refused_protect(const struct tdp_config *cfg, tdp_attr_t *clear, tdp_attr_t *set)
{
	for (tdp_attr_t c = 0; c <= TDP_PROT_MASK; c++)
		for (tdp_attr_t s = 0; s <= TDP_PROT_MASK; s++)
			if (!(c & s) && !tk_prot_change_ok(cfg, c, s)) {
				*clear = c;
				*set = s;
				return true;
			}
	return false;
}

static void t_arguments(void **state)
{
	const struct tk_cfgdesc *cd = cd_of(state);
	struct tdp_lookup_result lr;
	struct tdp_stats st;
	tdp_attr_t clear, set;
	struct tdp_iter it;
	bool young;
	struct tbl t;
	uint64_t P, bitmap = 0;
	unsigned int levels;

	tbl_open(&t, cd);
	P = t.P;
	levels = (unsigned int)tdp_map_fault_pages_needed(&t.pgt) + 1;
	REFUSED(&t.rec, tdp_map(&t.pgt, 0, 0, P, TDP_PROT_RW, 1u << 1, NULL), TDP_EINVAL,
		TDP_REASON_FLAGS);
	REFUSED(&t.rec, tdp_map(&t.pgt, 0, 0, P, TDP_PROT_RW | (1u << 31), 0, NULL), TDP_EINVAL,
		TDP_REASON_ATTR_UNKNOWN);
	/* execute for one privilege only without read: no format takes it as configured here */
	REFUSED(&t.rec, tdp_map(&t.pgt, 0, 0, P, TDP_PROT_R | TDP_PROT_XP, 0, NULL), TDP_EINVAL,
		TDP_REASON_ATTR_FORMAT);
	REFUSED(&t.rec, tdp_protect(&t.pgt, 0, P, 1u << 31, 0, NULL), TDP_EINVAL,
		TDP_REASON_ATTR_UNKNOWN);
	if (refused_protect(&t.cfg, &clear, &set))
		REFUSED(&t.rec, tdp_protect(&t.pgt, 0, P, clear, set, NULL), TDP_EINVAL,
			TDP_REASON_PROTECT_MASK);
	REFUSED(&t.rec, tdp_split(&t.pgt, 0, P, levels, NULL), TDP_EINVAL, TDP_REASON_LEVEL);
	REFUSED(&t.rec, tdp_split_pages_needed(&t.pgt, 0, P, levels), TDP_EINVAL,
		TDP_REASON_LEVEL);
	REFUSED(&t.rec, tdp_iter_start(&it, &t.pgt, 0, P, levels), TDP_EINVAL, TDP_REASON_LEVEL);
	REFUSED(&t.rec, tdp_free_unlinked(&t.pgt, &bitmap, levels - 1), TDP_EINVAL,
		TDP_REASON_LEVEL);
	REFUSED(&t.rec, tdp_lookup(&t.pgt, 0, NULL), TDP_EINVAL, TDP_REASON_NULL);
	REFUSED(&t.rec, tdp_zap(&t.pgt, 0, P, 0, NULL), TDP_EINVAL, TDP_REASON_NULL);
	REFUSED(&t.rec, tdp_walk(&t.pgt, 0, P, TDP_WALK_LEAF, NULL, NULL), TDP_EINVAL,
		TDP_REASON_NULL);
	REFUSED(&t.rec, tdp_walk(&t.pgt, 0, P, 0, NULL, NULL), TDP_EINVAL, TDP_REASON_NULL);
	REFUSED(&t.rec, tdp_stats(&t.pgt, 0, P, NULL), TDP_EINVAL, TDP_REASON_NULL);
	REFUSED(&t.rec, tdp_memcache_topup(&t.pgt, NULL, 1), TDP_EINVAL, TDP_REASON_NULL);
	QUIET(&t.rec, tdp_stats(&t.pgt, 0, P, &st), 0);
	/* A/D harvesting where the table has no A/D */
	if (tdp_test_clear_young(&t.pgt, 0, P, &young) == -TDP_EOPNOTSUPP) {
		REFUSED(&t.rec, tdp_test_clear_young(&t.pgt, 0, P, &young), TDP_EOPNOTSUPP,
			TDP_REASON_NO_AD);
		REFUSED(&t.rec, tdp_collect_dirty(&t.pgt, 0, P, &bitmap), TDP_EOPNOTSUPP,
			TDP_REASON_NO_AD);
	}
	REFUSED(&t.rec, tdp_test_clear_young(&t.pgt, 0, P, NULL), TDP_EINVAL, TDP_REASON_NULL);
	/* outcomes are not refusals */
	QUIET(&t.rec, tdp_lookup(&t.pgt, 0, &lr), -TDP_ENOENT);
	QUIET(&t.rec, tdp_map(&t.pgt, 0, 0, P, TDP_PROT_RW, 0, NULL), 0);
	QUIET(&t.rec, tdp_map(&t.pgt, 0, 0, P, TDP_PROT_RW, TDP_MAP_NOREPLACE, NULL), -TDP_EEXIST);
	QUIET(&t.rec, tdp_lookup(&t.pgt, 0, &lr), 0);
	QUIET(&t.rec, tdp_unmap(&t.pgt, 0, P, NULL), 0);
	tbl_close(&t);
}

static int dump_sink(void *ctx, const char *s, size_t n)
{
	(void)ctx, (void)s, (void)n;
	return 0;
}

static void t_dump_and_walk_flags(void **state)
{
	const struct tk_cfgdesc *cd = cd_of(state);
	struct tbl t;

	tbl_open(&t, cd);
	REFUSED(&t.rec, tdp_dump(&t.pgt, 0, t.P, 1u << 20, dump_sink, NULL), TDP_EINVAL,
		TDP_REASON_FLAGS);
	REFUSED(&t.rec, tdp_dump(&t.pgt, 0, t.P, 0, NULL, NULL), TDP_EINVAL, TDP_REASON_NULL);
	tbl_close(&t);
}

static int walk_nop(const struct tdp_entry *e, unsigned int visit, void *arg)
{
	(void)e, (void)visit, (void)arg;
	return 0;
}

static void t_walk_visits(void **state)
{
	const struct tk_cfgdesc *cd = cd_of(state);
	struct tbl t;

	tbl_open(&t, cd);
	REFUSED(&t.rec, tdp_walk(&t.pgt, 0, t.P, 0, walk_nop, NULL), TDP_EINVAL,
		TDP_REASON_FLAGS);
	REFUSED(&t.rec, tdp_walk(&t.pgt, 0, t.P, 1u << 20, walk_nop, NULL), TDP_EINVAL,
		TDP_REASON_FLAGS);
	QUIET(&t.rec, tdp_walk(&t.pgt, 0, t.P, TDP_WALK_LEAF, walk_nop, NULL), 0);
	tbl_close(&t);
}

static void t_memory(void **state)
{
	const struct tk_cfgdesc *cd = cd_of(state);
	struct tdp_memcache mc;
	struct tbl t;
	uint64_t P;

	tbl_open(&t, cd);
	P = t.P;
	/* an empty cache, then one of another page size */
	tdp_memcache_init(&mc);
	REFUSED(&t.rec, tdp_map(&t.pgt, 0, 0, P, TDP_PROT_RW, 0, &mc), TDP_ENOMEM,
		TDP_REASON_CACHE_SHORT);
	mc.page_size = 3 * P;
	REFUSED(&t.rec, tdp_map(&t.pgt, 0, 0, P, TDP_PROT_RW, 0, &mc), TDP_EINVAL,
		TDP_REASON_CACHE_SIZE);
	REFUSED(&t.rec, tdp_memcache_topup(&t.pgt, &mc, 1), TDP_EINVAL, TDP_REASON_CACHE_SIZE);
	/* the allocator fails under a call without a cache, and under a top-up */
	tk_fail_all(t.env, true);
	REFUSED(&t.rec, tdp_map(&t.pgt, 0, 0, P, TDP_PROT_RW, 0, NULL), TDP_ENOMEM,
		TDP_REASON_ALLOC);
	tdp_memcache_init(&mc);
	REFUSED(&t.rec, tdp_memcache_topup(&t.pgt, &mc, 1), TDP_ENOMEM, TDP_REASON_ALLOC);
	tk_fail_all(t.env, false);
	tdp_memcache_drain(&t.pgt, &mc);
	tbl_close(&t);
}

/* The registers of one format asked of a table of another, or with bad arguments. */
static void t_registers(void **state)
{
	const struct tk_cfgdesc *cd = cd_of(state);
	uint64_t v;
	struct tbl t;

	tbl_open(&t, cd);
	if (cd->format != TDP_FORMAT_X86_EPT)
		REFUSED(&t.rec, tdp_x86_eptp(&t.pgt, &v), TDP_EINVAL, TDP_REASON_WRONG_FORMAT);
	else
		REFUSED(&t.rec, tdp_x86_eptp(&t.pgt, NULL), TDP_EINVAL, TDP_REASON_NULL);
	if (cd->format != TDP_FORMAT_RISCV_G) {
		REFUSED(&t.rec, tdp_riscv_hgatp(&t.pgt, 0, &v), TDP_EINVAL,
			TDP_REASON_WRONG_FORMAT);
	} else {
		REFUSED(&t.rec, tdp_riscv_hgatp(&t.pgt, TDP_RISCV_VMID_MAX + 1, &v), TDP_EINVAL,
			TDP_REASON_VMID);
		REFUSED(&t.rec, tdp_riscv_hgatp(&t.pgt, 0, NULL), TDP_EINVAL, TDP_REASON_NULL);
	}
	if (cd->format != TDP_FORMAT_ARM64_S2) {
		REFUSED(&t.rec, tdp_arm64_vtcr(&t.pgt, 0, &v), TDP_EINVAL, TDP_REASON_WRONG_FORMAT);
	} else {
		REFUSED(&t.rec, tdp_arm64_vttbr(&t.pgt, 256, 0, &v), TDP_EINVAL, TDP_REASON_VMID);
		REFUSED(&t.rec, tdp_arm64_vttbr(&t.pgt, 1, 1u << 30, &v), TDP_EINVAL,
			TDP_REASON_FLAGS);
		REFUSED(&t.rec, tdp_arm64_vtcr(&t.pgt, 0, NULL), TDP_EINVAL, TDP_REASON_NULL);
		QUIET(&t.rec, tdp_arm64_vttbr(&t.pgt, 256, TDP_ARM64_VMID16, &v), 0);
	}
	tbl_close(&t);
}

static void t_strerror(void **state)
{
	const int codes[] = { TDP_ENOENT, TDP_EAGAIN, TDP_ENOMEM, TDP_EBUSY,
			      TDP_EEXIST, TDP_EINVAL, TDP_ERANGE, TDP_EOPNOTSUPP };
	const size_t n = sizeof(codes) / sizeof(codes[0]);
	const char *unknown = tdp_strerror(-1000);

	(void)state;
	assert_string_equal(unknown, "unknown error");
	assert_string_equal(tdp_strerror(0), "success");
	for (size_t i = 0; i < n; i++) {
		const char *s = tdp_strerror(-codes[i]);

		assert_non_null(s);
		assert_true(s[0] != '\0');
		assert_string_not_equal(s, unknown);
		assert_ptr_equal(s, tdp_strerror(codes[i]));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(s, tdp_strerror(-codes[j]));
	}
	assert_string_equal(tdp_strerror(-5), unknown);
}

static void t_reason_str(void **state)
{
	const char *unknown = tdp_reason_str(TDP_REASON_COUNT);

	(void)state;
	assert_string_equal(unknown, "unknown reason");
	assert_ptr_equal(tdp_reason_str((enum tdp_reason)-1), unknown);
	for (int r = 0; r < TDP_REASON_COUNT; r++) {
		const char *s = tdp_reason_str((enum tdp_reason)r);

		assert_true(s[0] != '\0');
		assert_string_not_equal(s, unknown);
		for (int q = 0; q < r; q++)
			assert_string_not_equal(s, tdp_reason_str((enum tdp_reason)q));
	}
}

/* Run last: every reason but NONE came from some check above. */
static void t_every_reason_seen(void **state)
{
	(void)state;
	for (int r = 1; r < TDP_REASON_COUNT; r++) {
		if (!seen[r])
			fail_msg("no test saw reason %d (%s)", r, tdp_reason_str((enum tdp_reason)r));
	}
}

#define PER_FORMAT(fn, tag, cd) { #fn "[" tag "]", fn, NULL, NULL, (void *)(uintptr_t)(cd) }

int main(void)
{
	const struct tk_cfgdesc *a64 = &tk_cfgs_all[0], *ept = &tk_cfgs_ept[0],
				*rv = &tk_cfgs_riscv[0];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_strerror),
		cmocka_unit_test(t_reason_str),
#define ALL(fn) PER_FORMAT(fn, "arm64", a64), PER_FORMAT(fn, "ept", ept), PER_FORMAT(fn, "riscv", rv)
		ALL(t_init),
		ALL(t_table_address),
		ALL(t_ranges),
		ALL(t_arguments),
		ALL(t_dump_and_walk_flags),
		ALL(t_walk_visits),
		ALL(t_memory),
		ALL(t_registers),
#undef ALL
		cmocka_unit_test(t_every_reason_seen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
