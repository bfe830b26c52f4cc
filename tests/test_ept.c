/* SPDX-License-Identifier: MIT */
/*
 * x86 EPT specifics, checked against raw entries and hand-computed values
 * (docs/formats.md §E): geometry, the 1 GiB cap, MBEC, memory types, A/D
 * harvesting, suppress-#VE, misconfiguration rejection, EPTP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <tdp/testkit.h>

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define PA_BASE (1ull << 32)

struct fx {
	struct tdp_tk_pool *pool;
	struct tdp_pgtable pgt;
	unsigned int flushes;
	uint64_t flush_lo, flush_hi;
};

static void flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	struct fx *f = ctx;

	(void)level, (void)tables;
	f->flushes++;
	if (gpa < f->flush_lo)
		f->flush_lo = gpa;
	if (gpa + size > f->flush_hi)
		f->flush_hi = gpa + size;
}

static void flush_all(void *ctx)
{
	(void)ctx;
}

static const struct tdp_tlb_ops tlb_ops = { flush_range, flush_all };

static void fx_init(struct fx *f, unsigned int ia, uint32_t flags, unsigned int leaf_levels)
{
	struct tdp_config cfg = { .format = TDP_FORMAT_X86_EPT, .ia_bits = ia, .oa_bits = 46,
				  .flags = flags, .leaf_levels = leaf_levels };

	memset(f, 0, sizeof(*f));
	f->flush_lo = ~0ull;
	f->pool = tdp_tk_pool_new(PA_BASE, 64 * MiB);
	assert_non_null(f->pool);
	tdp_tk_pool_config(f->pool, &cfg);
	cfg.tlb = &tlb_ops;
	cfg.tlb_ctx = f;
	assert_int_equal(tdp_pgtable_init(&f->pgt, &cfg), 0);
}

static void fx_fini(struct fx *f)
{
	struct tdp_tk_pool_stats st;

	assert_int_equal(tdp_pgtable_destroy(&f->pgt), 0);
	tdp_tk_pool_stats(f->pool, &st);
	assert_int_equal(st.out_blocks, 0);
	assert_int_equal(st.errors, 0);
	tdp_tk_pool_delete(f->pool);
}

static uint64_t leaf(struct fx *f, uint64_t gpa, unsigned int *level)
{
	struct tdp_lookup_result r;

	assert_int_equal(tdp_lookup(&f->pgt, gpa, &r), 0);
	if (level)
		*level = r.level;
	return r.pte;
}

static void test_geometry(void **state)
{
	struct fx f;
	uint64_t eptp;

	(void)state;
	fx_init(&f, 48, 0, 0);
	assert_int_equal(f.pgt.geo.levels, 4);
	assert_int_equal(f.pgt.geo.root_size, 4096);
	assert_int_equal(f.pgt.geo.leaf_levels_mask, 0x7);
	assert_int_equal(tdp_level_size(&f.pgt, 3), 512 * GiB);
	assert_int_equal(tdp_x86_eptp(&f.pgt, &eptp), 0);
	/* WB (6) | (4 - 1) << 3 = 0x1e, no A/D */
	assert_int_equal(eptp, f.pgt.root_pa | 0x1e);
	fx_fini(&f);

	fx_init(&f, 57, TDP_CFG_X86_AD, 0);
	assert_int_equal(f.pgt.geo.levels, 5);
	assert_int_equal(tdp_level_size(&f.pgt, 4), 256ull << 40);
	assert_int_equal(tdp_x86_eptp(&f.pgt, &eptp), 0);
	/* WB | (5 - 1) << 3 | A/D (bit 6) = 0x66 */
	assert_int_equal(eptp, f.pgt.root_pa | 0x66);
	assert_int_equal(eptp & 0xfff, 0x66);
	/* the top of the 57-bit space maps, one page above it does not */
	assert_int_equal(tdp_map(&f.pgt, (1ull << 57) - 4096, PA_BASE, 4096, TDP_PROT_RW, 0, NULL),
			 0);
	assert_int_equal(tdp_map(&f.pgt, 1ull << 57, PA_BASE, 4096, TDP_PROT_RW, 0, NULL),
			 -TDP_ERANGE);
	fx_fini(&f);
}

static void test_bad_config(void **state)
{
	struct tdp_tk_pool *pool = tdp_tk_pool_new(PA_BASE, 4 * MiB);
	struct tdp_config cfg = { .format = TDP_FORMAT_X86_EPT, .ia_bits = 48, .oa_bits = 46 };
	struct tdp_pgtable pgt;
	uint64_t eptp;

	(void)state;
	tdp_tk_pool_config(pool, &cfg);
	cfg.tlb = &tlb_ops;
	cfg.ia_bits = 39; /* only 4 or 5 levels */
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), -TDP_EINVAL);
	cfg.ia_bits = 48;
	cfg.oa_bits = 53;
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), -TDP_EINVAL);
	cfg.oa_bits = 46;
	cfg.granule_shift = 14;
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), -TDP_EINVAL);
	cfg.granule_shift = 0;
	cfg.flags = 1u << 9;
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), -TDP_EINVAL);
	cfg.flags = 0;
	assert_int_equal(tdp_x86_eptp(NULL, &eptp), -TDP_EINVAL);
	tdp_tk_pool_delete(pool);
}

/* Largest leaves: 1 GiB, or 2 MiB with the cap for CPUs without 1 GiB pages. */
static void test_leaf_sizes_and_cap(void **state)
{
	unsigned int l;
	uint64_t pte;
	struct fx f;

	(void)state;
	fx_init(&f, 48, 0, 0);
	assert_int_equal(tdp_map(&f.pgt, 4 * GiB, 8 * GiB, GiB, TDP_PROT_RWX, 0, NULL), 0);
	pte = leaf(&f, 4 * GiB + 12345, &l);
	assert_int_equal(l, 2);
	/* PDPTE leaf: page-size bit 7, address 8 GiB, RWX, EMT WB (6 << 3) */
	assert_int_equal(pte & 0x80, 0x80);
	assert_int_equal(pte & 0x000ffffffffff000ull, 8 * GiB);
	assert_int_equal(pte & 0x7, 0x7);
	assert_int_equal(pte & 0x78, 0x30);
	fx_fini(&f);

	fx_init(&f, 48, 0, 2);
	assert_int_equal(tdp_map(&f.pgt, 4 * GiB, 8 * GiB, GiB, TDP_PROT_RWX, 0, NULL), 0);
	leaf(&f, 4 * GiB, &l);
	assert_int_equal(l, 1);
	pte = leaf(&f, 4 * GiB + 2 * MiB, &l);
	assert_int_equal(pte & 0x000ffffffffff000ull, 8 * GiB + 2 * MiB);
	assert_int_equal(pte & 0x80, 0x80);
	fx_fini(&f);
}

/* What the CPU would take as a misconfiguration is refused and never written. */
static void test_misconfig_refused(void **state)
{
	struct tdp_lookup_result r;
	struct fx f;

	(void)state;
	fx_init(&f, 48, 0, 0);
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_W, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_W | TDP_PROT_X, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_X, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, 0, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_R | TDP_PROT_XP, 0, NULL),
			 -TDP_EINVAL); /* split execute without MBEC */
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_R | TDP_X86_EMT(2), 0, NULL),
			 -TDP_EINVAL); /* reserved type */
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_R | TDP_X86_EMT(3), 0, NULL),
			 -TDP_EINVAL);
	assert_int_equal(tdp_lookup(&f.pgt, 0, &r), -TDP_ENOENT);
	/* a protect that could leave write without read, or nothing, on some leaf */
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(tdp_protect(&f.pgt, 0, 4096, TDP_PROT_R, 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_protect(&f.pgt, 0, 4096, TDP_PROT_R, TDP_PROT_X, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_lookup(&f.pgt, 0, &r), 0);
	assert_int_equal(r.attr & TDP_PROT_MASK, TDP_PROT_RW);
	fx_fini(&f);

	/* with the capability, execute-only is a valid entry: X only, R = W = 0 */
	fx_init(&f, 48, TDP_CFG_X86_EXEC_ONLY, 0);
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_X, 0, NULL), 0);
	assert_int_equal(leaf(&f, 0, NULL) & 0x407, 0x404);
	assert_int_equal(tdp_map(&f.pgt, 4096, 0, 4096, TDP_PROT_W | TDP_PROT_X, 0, NULL),
			 -TDP_EINVAL);
	/* R may go only if W goes and execute stays */
	assert_int_equal(tdp_map(&f.pgt, 8192, 0, 4096, TDP_PROT_RWX, 0, NULL), 0);
	assert_int_equal(tdp_protect(&f.pgt, 8192, 4096, TDP_PROT_R | TDP_PROT_W, TDP_PROT_X, NULL),
			 0);
	assert_int_equal(leaf(&f, 8192, NULL) & 0x407, 0x404);
	assert_int_equal(tdp_protect(&f.pgt, 0, 4096, 0, TDP_PROT_W, NULL), -TDP_EINVAL);
	fx_fini(&f);
}

/* Memory types: neutral ones, explicit WT/WP, IPAT. */
static void test_memtypes(void **state)
{
	static const struct {
		tdp_attr_t attr;
		uint64_t bits; /* EMT << 3 | IPAT << 6 */
	} t[] = {
		{ TDP_MT_NORMAL_WB, 6 << 3 },
		{ TDP_MT_NORMAL_WB | TDP_X86_IPAT, 6 << 3 | 1 << 6 },
		{ TDP_MT_NORMAL_NC, 1 << 3 },
		{ TDP_MT_DEVICE, 0 },
		{ TDP_MT_DEVICE_STRICT, 1 << 6 },
		{ TDP_X86_EMT(TDP_X86_EMT_WT), 4 << 3 },
		{ TDP_X86_EMT(TDP_X86_EMT_WP) | TDP_X86_IPAT, 5 << 3 | 1 << 6 },
	};
	struct tdp_lookup_result r;
	struct fx f;

	(void)state;
	fx_init(&f, 48, 0, 0);
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t gpa = (uint64_t)i << 12;

		assert_int_equal(tdp_map(&f.pgt, gpa, gpa, 4096, TDP_PROT_R | t[i].attr, 0, NULL), 0);
		assert_int_equal(tdp_lookup(&f.pgt, gpa, &r), 0);
		assert_int_equal(r.pte & 0x78, t[i].bits);
		assert_int_equal(r.attr, TDP_PROT_R | t[i].attr); /* decodes to what was asked */
	}
	/* redundant or ambiguous spellings are refused */
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_R | TDP_X86_EMT(TDP_X86_EMT_WB), 0,
				 NULL), -TDP_EINVAL);
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_R | TDP_MT_DEVICE | TDP_X86_IPAT, 0,
				 NULL), -TDP_EINVAL);
	fx_fini(&f);
}

/* MBEC: supervisor execute in bit 2, user execute in bit 10. */
static void test_mbec(void **state)
{
	struct tdp_lookup_result r;
	struct fx f;

	(void)state;
	fx_init(&f, 48, TDP_CFG_X86_MBEC, 0);
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_R | TDP_PROT_XP, 0, NULL), 0);
	assert_int_equal(tdp_map(&f.pgt, 4096, 0, 4096, TDP_PROT_R | TDP_PROT_XU, 0, NULL), 0);
	assert_int_equal(leaf(&f, 0, NULL) & 0x407, 0x005);
	assert_int_equal(leaf(&f, 4096, NULL) & 0x407, 0x401);
	assert_int_equal(tdp_protect(&f.pgt, 0, 8192, TDP_PROT_XU, TDP_PROT_XP, NULL), 0);
	assert_int_equal(tdp_lookup(&f.pgt, 4096, &r), 0);
	assert_int_equal(r.attr & TDP_PROT_MASK, TDP_PROT_R | TDP_PROT_XP);
	fx_fini(&f);
}

/* Every empty entry the library writes carries suppress-#VE (bit 63). */
static void test_suppress_ve(void **state)
{
	struct tdp_tk_mem mem;
	const uint64_t *t;
	struct fx f;
	uint64_t pte;

	(void)state;
	fx_init(&f, 48, TDP_CFG_X86_SVE, 0);
	t = f.pgt.root;
	for (int i = 0; i < 512; i++)
		assert_int_equal(t[i], 1ull << 63);
	assert_int_equal(tdp_map(&f.pgt, 2 * MiB + 4096, PA_BASE, 4096, TDP_PROT_RW, 0, NULL), 0);
	/* the new PDPT, PD and PT: every entry but the one on the path is bit 63 alone */
	mem = tdp_tk_pool_mem(f.pool);
	pte = t[0];
	for (int lvl = 2; lvl >= 0; lvl--) {
		const uint64_t *tbl = mem.ptr(mem.ctx, pte & 0x000ffffffffff000ull, 4096);
		unsigned int idx = (unsigned int)(((2 * MiB + 4096) >> (12 + 9 * lvl)) & 511);

		assert_non_null(tbl);
		for (unsigned int i = 0; i < 512; i++)
			if (i != idx)
				assert_int_equal(tbl[i], 1ull << 63);
		pte = tbl[idx];
	}
	assert_int_equal(pte & 0x000ffffffffff000ull, PA_BASE);
	/* unmap writes bit 63 back, and a split leaves it in no leaf */
	assert_int_equal(tdp_map(&f.pgt, 4 * GiB, 8 * GiB, 2 * MiB, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(tdp_unmap(&f.pgt, 4 * GiB + 4096, 4096, NULL), 0);
	{
		struct tdp_lookup_result r;

		assert_int_equal(tdp_lookup(&f.pgt, 4 * GiB, &r), 0);
		assert_int_equal(r.pte >> 63, 0);
		assert_int_equal(tdp_lookup(&f.pgt, 4 * GiB + 4096, &r), -TDP_ENOENT);
	}
	fx_fini(&f);
}

/* A/D: young test-and-clear, dirty collection into a bitmap, blocks at the edges. */
static void test_accessed_dirty(void **state)
{
	uint64_t bitmap[8], *ptep;
	struct tdp_tk_xlate x;
	struct tdp_tk_mem mem;
	bool young = true;
	struct fx f;

	(void)state;
	fx_init(&f, 48, 0, 0);
	assert_int_equal(tdp_map(&f.pgt, 0, 0, 4096, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(tdp_test_clear_young(&f.pgt, 0, 4096, &young), -TDP_EOPNOTSUPP);
	assert_int_equal(tdp_collect_dirty(&f.pgt, 0, 4096, bitmap), -TDP_EOPNOTSUPP);
	fx_fini(&f);

	fx_init(&f, 48, TDP_CFG_X86_AD, 0);
	mem = tdp_tk_pool_mem(f.pool);
	/* 8 pages and one 2 MiB block */
	assert_int_equal(tdp_map(&f.pgt, 0, PA_BASE, 8 * 4096, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&f.pgt, 2 * MiB, 4 * MiB, 2 * MiB, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(tdp_test_clear_young(&f.pgt, 0, 4 * MiB, &young), 0);
	assert_false(young);
	/* play the CPU: accessed on page 3, dirty on pages 3 and 5 and on the block */
	(void)x;
	{
		struct tdp_lookup_result r;
		uint64_t gpas[3] = { 3 * 4096, 5 * 4096, 2 * MiB };

		for (int i = 0; i < 3; i++) {
			struct tdp_iter it;

			assert_int_equal(tdp_iter_start(&it, &f.pgt, gpas[i], gpas[i] + 4096, 0), 0);
			while (it.valid && !(it.level == 0 || (it.pte & 0x80)))
				tdp_iter_next(&it);
			assert_true(it.valid);
			ptep = it.ptep;
			*ptep |= (i == 0 ? 1ull << 8 : 0) | 1ull << 9;
		}
		assert_int_equal(tdp_lookup(&f.pgt, 3 * 4096, &r), 0);
		assert_int_equal(r.pte & 0x300, 0x300);
	}
	assert_int_equal(tdp_test_clear_young(&f.pgt, 0, 4 * MiB, &young), 0);
	assert_true(young);
	assert_int_equal(tdp_test_clear_young(&f.pgt, 0, 4 * MiB, &young), 0);
	assert_false(young); /* cleared by the first call */

	/* collect over [0, 2 MiB + 8 KiB): the block straddles the end */
	memset(bitmap, 0, sizeof(bitmap));
	{
		uint64_t big[(2 * MiB / 4096 + 2 + 63) / 64];

		memset(big, 0, sizeof(big));
		f.flushes = 0;
		assert_int_equal(tdp_collect_dirty(&f.pgt, 0, 2 * MiB + 8192, big), 0);
		assert_int_equal(big[0], (1ull << 3) | (1ull << 5));
		/* the block's two pages inside the range */
		assert_int_equal(big[512 / 64], 3ull);
		assert_int_equal(f.flushes, 1); /* one invalidation for the cleaned pages */
		/* pages 3 and 5 clean now; the straddling block stays dirty */
		memset(big, 0, sizeof(big));
		assert_int_equal(tdp_collect_dirty(&f.pgt, 0, 2 * MiB + 8192, big), 0);
		assert_int_equal(big[0], 0);
		assert_int_equal(big[512 / 64], 3ull);
	}
	/* the whole block: reported in full, then clean */
	memset(bitmap, 0, sizeof(bitmap));
	{
		uint64_t blk[512 / 64];

		memset(blk, 0, sizeof(blk));
		assert_int_equal(tdp_collect_dirty(&f.pgt, 2 * MiB, 2 * MiB, blk), 0);
		for (int i = 0; i < 8; i++)
			assert_int_equal(blk[i], ~0ull);
		memset(blk, 0, sizeof(blk));
		assert_int_equal(tdp_collect_dirty(&f.pgt, 2 * MiB, 2 * MiB, blk), 0);
		for (int i = 0; i < 8; i++)
			assert_int_equal(blk[i], 0);
	}
	assert_int_equal(tdp_collect_dirty(&f.pgt, 0, 4096, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_test_clear_young(&f.pgt, 1, 4096, &young), -TDP_EINVAL);
	(void)mem;
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_leaf_sizes_and_cap),
		cmocka_unit_test(test_misconfig_refused),
		cmocka_unit_test(test_memtypes),
		cmocka_unit_test(test_mbec),
		cmocka_unit_test(test_suppress_ve),
		cmocka_unit_test(test_accessed_dirty),
	};

	return cmocka_run_group_tests_name("ept", tests, NULL, NULL);
}
