/* SPDX-License-Identifier: MIT */
/*
 * The arm64 stage-2 reference walker on hand-built tables (no libtdp
 * table): registers, walks per granule with pages, blocks and concatenated
 * roots, every fault kind at its level, every MALFORMED reason, 52-bit
 * output with 64K, and the front (tdp_tk_ref_leaves, tdp_tk_ref_for).
 * Descriptor and register values are composed here by hand from
 * docs/formats.md §A.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <tdp/testkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ULL(x) ((unsigned long long)(x))
#define KiB    (1ull << 10)
#define MiB    (1ull << 20)
#define GiB    (1ull << 30)

/* ------------------------------------------------------------------ */
/* Hand-built physical memory                                          */

#include "hand_mem.h"

/* ------------------------------------------------------------------ */
/* Registers and descriptors by hand                                   */

/* TG0 encodings: 00 = 4K, 01 = 64K, 10 = 16K */
static uint64_t tg0_of(unsigned int gshift)
{
	return gshift == 12 ? 0 : gshift == 16 ? 1 : 2;
}

/* PS encodings: 000 32, 001 36, 010 40, 011 42, 100 44, 101 48, 110 52 */
static uint64_t ps_of(unsigned int oa)
{
	switch (oa) {
	case 32: return 0;
	case 36: return 1;
	case 40: return 2;
	case 42: return 3;
	case 44: return 4;
	case 48: return 5;
	default: return 6;
	}
}

static uint64_t vtcr_raw(unsigned int t0sz, unsigned int sl0, uint64_t tg0, uint64_t ps)
{
	return (uint64_t)t0sz | (uint64_t)sl0 << 6 | tg0 << 14 | ps << 16 | 1ull << 31;
}

/* SL0 of a start level: 4K counts from level 2, 16K/64K from level 3. */
static uint64_t vtcr_for(unsigned int gshift, unsigned int ia, unsigned int oa, int start)
{
	unsigned int sl0 = (unsigned int)(gshift == 12 ? 2 - start : 3 - start);

	return vtcr_raw(64 - ia, sl0, tg0_of(gshift), ps_of(oa));
}

#define D_VALID  1ull
#define D_TABLE  3ull /* table (levels 0-2) or page (level 3) */
#define D_BLOCK  1ull
#define MA(m)    ((uint64_t)(m) << 2)
#define S2AP_R   (1ull << 6)
#define S2AP_W   (1ull << 7)
#define SH(v)    ((uint64_t)(v) << 8)
#define AF       (1ull << 10)
#define XN0      (1ull << 53)
#define XN1      (1ull << 54)
#define SWB(v)   ((uint64_t)(v) << 55)
/* ordinary RAM, read/write, executable, accessed */
#define RAM_RW   (MA(0xf) | S2AP_R | S2AP_W | SH(3) | AF)

/* 64K with a 52-bit output: PA[51:48] in descriptor bits 15:12 */
static uint64_t oa52(uint64_t pa)
{
	return (pa & 0x0000ffffffff0000ull) | ((pa >> 48) & 0xf) << 12;
}

static struct tdp_tk_arm64_regs regs_of(uint64_t vtcr, uint64_t root_pa, uint32_t feat)
{
	struct tdp_tk_arm64_regs r = { vtcr, root_pa, feat };

	return r;
}

static void walk(const struct hb *h, const struct tdp_tk_arm64_regs *r, uint64_t ipa,
		 unsigned int access, struct tdp_tk_xlate *x)
{
	memset(x, 0xa5, sizeof(*x));
	assert_int_equal(tdp_tk_ref_arm64(&h->mem, r, ipa, access, x), 0);
}

static void expect_ok(const struct hb *h, const struct tdp_tk_arm64_regs *r, uint64_t ipa,
		      unsigned int access, int level, uint64_t span, uint64_t hpa, tdp_attr_t attr)
{
	struct tdp_tk_xlate x;

	walk(h, r, ipa, access, &x);
	if (x.result != TDP_TK_OK)
		fail_msg("ipa 0x%llx access 0x%x: result %d (%s)", ULL(ipa), access, x.result,
			 x.why);
	assert_int_equal(x.level, level);
	assert_int_equal(x.span_size, span);
	assert_int_equal(x.span_base, ipa & ~(span - 1));
	assert_int_equal(x.hpa, hpa);
	assert_int_equal(x.attr, attr);
	assert_string_equal(x.why, "");
}

static void expect_res(const struct hb *h, const struct tdp_tk_arm64_regs *r, uint64_t ipa,
		       unsigned int access, enum tdp_tk_result res, int level, const char *why)
{
	struct tdp_tk_xlate x;

	walk(h, r, ipa, access, &x);
	check_res(&x, ipa, access, res, level, why);
}

#define PA0 0x80000000ull

/* ------------------------------------------------------------------ */
/* 4K                                                                  */

/*
 * 4K granule, 40-bit IPA, 40-bit PA: start level 1 with 2 concatenated
 * tables (1024 entries, 8 KiB root): a 1G block, a 2M block, a 4K page.
 */
static void test_4k_walk(void **state)
{
	struct hb h;
	struct tdp_tk_arm64_regs r;
	struct tdp_tk_xlate x;
	uint64_t root, l2, l3;
	uint64_t g512 = 512 * GiB + 3 * GiB; /* root index 515: second concatenated table */

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 8 * KiB);
	l2 = hb_table(&h, 4 * KiB);
	l3 = hb_table(&h, 4 * KiB);
	r = regs_of(vtcr_for(12, 40, 40, 1), root, 0);
	assert_int_equal(r.vtcr, 0x80020058ull); /* T0SZ 24, SL0 01, TG0 00, PS 010, RES1 */

	hb_set(&h, root, 1, 0x40000000ull | D_BLOCK | RAM_RW);
	hb_set(&h, root, 515, l2 | D_TABLE);
	hb_set(&h, l2, 5, 0x12600000ull | D_BLOCK | RAM_RW | XN1 | SWB(9));
	hb_set(&h, l2, 6, l3 | D_TABLE);
	hb_set(&h, l3, 7, 0x3456789000ull | D_TABLE | MA(5) | S2AP_R | SH(3) | AF);

	/* 1G block at level 1 */
	expect_ok(&h, &r, GiB + 0x1234, TDP_TK_READ, 1, GiB, 0x40001234ull,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	walk(&h, &r, GiB + 0x1234, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 1);
	assert_int_equal(x.tables[0], root);
	assert_int_equal(x.pte, 0x40000000ull | D_BLOCK | RAM_RW);
	assert_int_equal(h.last_size, 8 * KiB); /* the whole concatenated root */

	/* 2M block at level 2, through the second concatenated table */
	expect_ok(&h, &r, g512 + 5 * 2 * MiB + 0x12345, TDP_TK_WRITE, 2, 2 * MiB,
		  0x12600000ull + 0x12345, TDP_PROT_RW | TDP_MT_NORMAL_WB | TDP_SW(9));
	walk(&h, &r, g512 + 5 * 2 * MiB, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 2);
	assert_int_equal(x.tables[0], root);
	assert_int_equal(x.tables[1], l2);

	/* 4K page at level 3 */
	expect_ok(&h, &r, g512 + 6 * 2 * MiB + 7 * 4096 + 0xabc, TDP_TK_EXEC, 3, 4096,
		  0x3456789abcull, TDP_PROT_R | TDP_PROT_X | TDP_MT_NORMAL_NC);
	walk(&h, &r, g512 + 6 * 2 * MiB + 7 * 4096, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 3);
	assert_int_equal(x.tables[0], root);
	assert_int_equal(x.tables[1], l2);
	assert_int_equal(x.tables[2], l3);
	assert_int_equal(x.pte, 0x3456789000ull | D_TABLE | MA(5) | S2AP_R | SH(3) | AF);
	for (unsigned int i = 3; i < TDP_MAX_LEVELS + 1; i++)
		assert_int_equal(x.tables[i], 0);

	/* holes at every level, with what they cover */
	walk(&h, &r, g512 + 6 * 2 * MiB + 8 * 4096 + 5, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 3);
	assert_int_equal(x.span_base, g512 + 6 * 2 * MiB + 8 * 4096);
	assert_int_equal(x.span_size, 4096);
	assert_int_equal(x.nr_tables, 3);
	assert_int_equal(x.pte, 0);
	assert_int_equal(x.hpa, 0);
	assert_int_equal(x.attr, 0);
	walk(&h, &r, g512 + 7 * 2 * MiB, TDP_TK_PROBE, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 2);
	assert_int_equal(x.span_size, 2 * MiB);
	assert_int_equal(x.nr_tables, 2);
	walk(&h, &r, 2 * GiB, TDP_TK_PROBE, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 1);
	assert_int_equal(x.span_base, 2 * GiB);
	assert_int_equal(x.span_size, GiB);
	assert_int_equal(x.nr_tables, 1);

	/* above the input size: translation fault at the start level, nothing read */
	walk(&h, &r, 1ull << 40, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 1);
	assert_int_equal(x.nr_tables, 0);
	assert_int_equal(x.span_base, 1ull << 40);
	assert_int_equal(x.span_size, 0 - (1ull << 40));
	assert_non_null(strstr(x.why, "input size"));
	expect_res(&h, &r, ~0ull, TDP_TK_PROBE, TDP_TK_TRANSLATION_FAULT, 1, "input size");
}

/* 4K, 48-bit IPA: start level 0, four levels; a block at level 0 needs DS. */
static void test_4k_four_levels(void **state)
{
	struct hb h;
	struct tdp_tk_arm64_regs r;
	uint64_t l0, l1, l2, l3, ipa = (5ull << 39) | (6ull << 30) | (7ull << 21) | (8ull << 12);

	(void)state;
	hb_init(&h, PA0);
	l0 = hb_table(&h, 4096);
	l1 = hb_table(&h, 4096);
	l2 = hb_table(&h, 4096);
	l3 = hb_table(&h, 4096);
	r = regs_of(vtcr_for(12, 48, 48, 0), l0, 0);
	assert_int_equal(r.vtcr, 0x80053590ull & ~0x3500ull); /* T0SZ 16, SL0 10, PS 101 */

	expect_res(&h, &r, ipa, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 0, "invalid");
	hb_set(&h, l0, 5, l1 | D_TABLE);
	expect_res(&h, &r, ipa, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 1, "invalid");
	hb_set(&h, l1, 6, l2 | D_TABLE);
	expect_res(&h, &r, ipa, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 2, "invalid");
	hb_set(&h, l2, 7, l3 | D_TABLE);
	expect_res(&h, &r, ipa, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 3, "invalid");
	hb_set(&h, l3, 8, 0xfedcba000ull | D_TABLE | RAM_RW);
	expect_ok(&h, &r, ipa + 0x10, TDP_TK_READ, 3, 4096, 0xfedcba010ull,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);

	/* level 3 with type 01: reserved */
	hb_set(&h, l3, 8, 0xfedcba000ull | D_BLOCK | RAM_RW);
	expect_res(&h, &r, ipa, TDP_TK_PROBE, TDP_TK_TRANSLATION_FAULT, 3, "reserved");
	/* a 512 GiB block at level 0 (only with DS) */
	hb_set(&h, l0, 1, (1ull << 39) | D_BLOCK | RAM_RW);
	expect_res(&h, &r, 1ull << 39, TDP_TK_PROBE, TDP_TK_TRANSLATION_FAULT, 0, "block");
	/* 1G and 2M blocks are fine */
	hb_set(&h, l1, 7, (3ull << 30) | D_BLOCK | RAM_RW);
	expect_ok(&h, &r, (5ull << 39) | (7ull << 30), TDP_TK_WRITE, 1, GiB, 3ull << 30,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	hb_set(&h, l2, 8, (9ull << 21) | D_BLOCK | RAM_RW);
	expect_ok(&h, &r, (5ull << 39) | (6ull << 30) | (8ull << 21) | 77, TDP_TK_WRITE, 2,
		  2 * MiB, (9ull << 21) | 77, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
}

/* ------------------------------------------------------------------ */
/* 16K                                                                 */

/*
 * 16K granule, 48-bit IPA: start level 1 (SL0 10), 2 concatenated tables
 * of 2048 entries (32 KiB root); 32M block at level 2, 16K page at level 3;
 * no block at level 1 without DS.
 */
static void test_16k_walk(void **state)
{
	struct hb h;
	struct tdp_tk_arm64_regs r;
	struct tdp_tk_xlate x;
	uint64_t root, l2, l3, top = (2048ull + 1) << 36; /* second concatenated table */

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 32 * KiB);
	l2 = hb_table(&h, 16 * KiB);
	l3 = hb_table(&h, 16 * KiB);
	r = regs_of(vtcr_for(14, 48, 48, 1), root, 0);
	assert_int_equal(r.vtcr, 0x8005b590ull & ~0x3500ull);

	hb_set(&h, root, 2049, l2 | D_TABLE);
	hb_set(&h, l2, 3, (5ull << 25) | D_BLOCK | RAM_RW | S2AP_R);
	hb_set(&h, l2, 4, l3 | D_TABLE);
	hb_set(&h, l3, 5, 0x7654000ull | D_TABLE | MA(1) | S2AP_R | SH(2) | AF | XN1);

	expect_ok(&h, &r, top + (3ull << 25) + 0x1000001, TDP_TK_READ, 2, 32 * MiB,
		  (5ull << 25) + 0x1000001, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	expect_ok(&h, &r, top + (4ull << 25) + 5 * 16 * KiB + 0x3fff, TDP_TK_READ, 3, 16 * KiB,
		  0x7654000ull + 0x3fff, TDP_PROT_R | TDP_MT_DEVICE);
	walk(&h, &r, top + (4ull << 25) + 5 * 16 * KiB, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 3);
	assert_int_equal(x.tables[0], root);
	assert_int_equal(x.tables[1], l2);
	assert_int_equal(x.tables[2], l3);
	/* the last byte of the input range indexes the last root entry */
	walk(&h, &r, (1ull << 48) - 1, TDP_TK_PROBE, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 1);
	assert_int_equal(x.span_base, 4095ull << 36);
	assert_int_equal(x.span_size, 1ull << 36);

	/* a 64 GiB block at level 1 needs DS */
	hb_set(&h, root, 0, D_BLOCK | RAM_RW);
	expect_res(&h, &r, 0, TDP_TK_PROBE, TDP_TK_TRANSLATION_FAULT, 1, "block");
	/* bits 13:12 of a 16K page are RES0 */
	hb_set(&h, l3, 5, 0x7655000ull | D_TABLE | RAM_RW);
	expect_res(&h, &r, top + (4ull << 25) + 5 * 16 * KiB, TDP_TK_PROBE, TDP_TK_MALFORMED, 3,
		   "RES0");
	/* ... and of a 16K table descriptor */
	hb_set(&h, l2, 4, l3 | 0x2000 | D_TABLE);
	expect_res(&h, &r, top + (4ull << 25), TDP_TK_PROBE, TDP_TK_MALFORMED, 2, "RES0");
}

/* 16K, 40-bit IPA: start level 2 with 16 concatenated tables (256 KiB root). */
static void test_16k_16_tables(void **state)
{
	struct hb h;
	struct tdp_tk_arm64_regs r;
	struct tdp_tk_xlate x;
	uint64_t root;

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 256 * KiB);
	r = regs_of(vtcr_for(14, 40, 40, 2), root, 0);
	hb_set(&h, root, 32767, (7ull << 25) | D_BLOCK | RAM_RW);
	expect_ok(&h, &r, (1ull << 40) - 1, TDP_TK_READ, 2, 32 * MiB, (8ull << 25) - 1,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	walk(&h, &r, 0, TDP_TK_PROBE, &x);
	assert_int_equal(h.last_pa, root);
	assert_int_equal(h.last_size, 256 * KiB);
	/* the root must be aligned to 256 KiB */
	r.vttbr = root + 128 * KiB;
	expect_res(&h, &r, 0, TDP_TK_PROBE, TDP_TK_MALFORMED, 2, "aligned");
}

/* ------------------------------------------------------------------ */
/* 64K                                                                 */

/* 64K, 48-bit IPA: start level 1 with 64 entries; 512M blocks; no level-1 block. */
static void test_64k_walk(void **state)
{
	struct hb h;
	struct tdp_tk_arm64_regs r;
	struct tdp_tk_xlate x;
	uint64_t root, l2, l3, base = 33ull << 42;

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 512);
	l2 = hb_table(&h, 64 * KiB);
	l3 = hb_table(&h, 64 * KiB);
	r = regs_of(vtcr_for(16, 48, 48, 1), root, 0);
	assert_int_equal(r.vtcr, 0x80057590ull & ~0x3500ull);

	hb_set(&h, root, 33, l2 | D_TABLE);
	hb_set(&h, l2, 8191, (3ull << 29) | D_BLOCK | RAM_RW);
	hb_set(&h, l2, 2, l3 | D_TABLE);
	hb_set(&h, l3, 8191, 0xabcd0000ull | D_TABLE | RAM_RW);

	expect_ok(&h, &r, base + (8191ull << 29) + 0x1fffffff, TDP_TK_WRITE, 2, 512 * MiB,
		  (3ull << 29) + 0x1fffffff, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	expect_ok(&h, &r, base + (2ull << 29) + (8191ull << 16) + 0x8000, TDP_TK_READ, 3, 64 * KiB,
		  0xabcd8000ull, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	walk(&h, &r, base + (2ull << 29), TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 3);
	assert_int_equal(x.tables[0], root);
	assert_int_equal(x.tables[1], l2);
	assert_int_equal(x.tables[2], l3);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.span_size, 64 * KiB);

	/* a 4 TiB block at level 1 needs a 52-bit output */
	hb_set(&h, root, 1, (1ull << 42) | D_BLOCK | RAM_RW);
	expect_res(&h, &r, 1ull << 42, TDP_TK_PROBE, TDP_TK_TRANSLATION_FAULT, 1, "block");
	/* bits 15:12 hold PA[51:48] only with a 52-bit output */
	hb_set(&h, l3, 8191, 0xabcd0000ull | (1ull << 12) | D_TABLE | RAM_RW);
	expect_res(&h, &r, base + (2ull << 29) + (8191ull << 16), TDP_TK_PROBE, TDP_TK_MALFORMED,
		   3, "RES0");
	hb_set(&h, root, 33, l2 | (1ull << 15) | D_TABLE);
	expect_res(&h, &r, base, TDP_TK_PROBE, TDP_TK_MALFORMED, 1, "RES0");
}

/* 64K, 43-bit IPA: start level 2 with 2 concatenated tables (128 KiB root). */
static void test_64k_concat(void **state)
{
	struct hb h;
	struct tdp_tk_arm64_regs r;
	struct tdp_tk_xlate x;
	uint64_t root, l3;

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 128 * KiB);
	l3 = hb_table(&h, 64 * KiB);
	r = regs_of(vtcr_for(16, 43, 44, 2), root, 0);
	hb_set(&h, root, 8192 + 4, l3 | D_TABLE);
	hb_set(&h, l3, 1, 0x990000ull | D_TABLE | RAM_RW);
	expect_ok(&h, &r, (8196ull << 29) + (1ull << 16) + 3, TDP_TK_READ, 3, 64 * KiB, 0x990003ull,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	walk(&h, &r, 8196ull << 29, TDP_TK_PROBE, &x);
	assert_int_equal(x.tables[0], root);
	assert_int_equal(h.reads, 4); /* root and table, for each of the two walks */
	assert_int_equal(h.last_pa, l3);
	assert_int_equal(h.last_size, 64 * KiB);
}

/* 64K with a 52-bit output (FEAT_LPA): 52-bit IPA, root and tables above 2^48. */
static void test_64k_52bit(void **state)
{
	struct hb h;
	struct tdp_tk_arm64_regs r;
	struct tdp_tk_xlate x;
	uint64_t base = 0x000a000000000000ull, root, l2, l3;
	uint64_t ipa = (1000ull << 42) | (17ull << 29) | (9ull << 16) | 0x1234;

	(void)state;
	hb_init(&h, base);
	root = hb_table(&h, 8 * KiB); /* 1024 entries at level 1 */
	l2 = hb_table(&h, 64 * KiB);
	l3 = hb_table(&h, 64 * KiB);
	/* T0SZ 12, SL0 10 (level 1), TG0 01, PS 110; BADDR[51:48] in bits 5:2 */
	r = regs_of(vtcr_raw(12, 2, 1, 6), (root & 0xffffffffffffull) | (0xaull << 2), 0);
	assert_int_equal(r.vtcr, 0x8006408cull);

	hb_set(&h, root, 1000, oa52(l2) | D_TABLE);
	hb_set(&h, l2, 17, oa52(l3) | D_TABLE);
	hb_set(&h, l3, 9, oa52(0x000f123456780000ull) | D_TABLE | RAM_RW);
	expect_ok(&h, &r, ipa, TDP_TK_WRITE, 3, 64 * KiB, 0x000f123456781234ull,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	walk(&h, &r, ipa, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 3);
	assert_int_equal(x.tables[0], root);
	assert_int_equal(x.tables[1], l2);
	assert_int_equal(x.tables[2], l3);
	assert_int_equal(x.pte, oa52(0x000f123456780000ull) | D_TABLE | RAM_RW);

	/* a 4 TiB block at level 1 is allowed with the 52-bit output */
	hb_set(&h, root, 3, oa52(0x000c000000000000ull) | D_BLOCK | RAM_RW);
	expect_ok(&h, &r, (3ull << 42) + 0x123456789ull, TDP_TK_READ, 1, 1ull << 42,
		  0x000c000123456789ull, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	/* a 4 TiB block with address bits below its size */
	hb_set(&h, root, 3, oa52(0x000c000000000000ull | (1ull << 41)) | D_BLOCK | RAM_RW);
	expect_res(&h, &r, 3ull << 42, TDP_TK_PROBE, TDP_TK_MALFORMED, 1, "below the block size");

	/* VTTBR bit 1 is RES0 with a 52-bit output */
	r.vttbr |= 2;
	expect_res(&h, &r, ipa, TDP_TK_PROBE, TDP_TK_MALFORMED, 1, "RES0");
	/* without bits 5:2 the root is somewhere else (below 2^48): nothing there */
	r.vttbr = root & 0xffffffffffffull;
	expect_res(&h, &r, ipa, TDP_TK_PROBE, TDP_TK_EXTERNAL_ABORT, 1, "cannot be read");

	/* the same tables with PS = 48: T0SZ 12 is then out of range */
	r = regs_of(vtcr_raw(12, 2, 1, 5), root, 0);
	expect_res(&h, &r, 0, TDP_TK_PROBE, TDP_TK_MALFORMED, 0, "T0SZ");
	/* and 52 bits with 4K act as 48 bits (no DS): T0SZ 12 refused too */
	r = regs_of(vtcr_raw(12, 2, 0, 6), root, 0);
	expect_res(&h, &r, 0, TDP_TK_PROBE, TDP_TK_MALFORMED, 0, "T0SZ");
}

/* 4K with PS = 52 acts as 48 bits: descriptor bits 15:12 are plain address bits. */
static void test_4k_ps52_is_48(void **state)
{
	struct hb h;
	struct tdp_tk_arm64_regs r;
	uint64_t l0, l1, l2, l3;

	(void)state;
	hb_init(&h, PA0);
	l0 = hb_table(&h, 4096);
	l1 = hb_table(&h, 4096);
	l2 = hb_table(&h, 4096);
	l3 = hb_table(&h, 4096);
	r = regs_of(vtcr_raw(16, 2, 0, 6), l0 | (0xfull << 2) /* not BADDR[51:48] */, 0);
	expect_res(&h, &r, 0, TDP_TK_PROBE, TDP_TK_MALFORMED, 0, "aligned");
	r.vttbr = l0;
	hb_set(&h, l0, 0, l1 | D_TABLE);
	hb_set(&h, l1, 0, l2 | D_TABLE);
	hb_set(&h, l2, 0, l3 | D_TABLE);
	hb_set(&h, l3, 0, 0xffffffff5000ull | D_TABLE | RAM_RW);
	expect_ok(&h, &r, 0x10, TDP_TK_READ, 3, 4096, 0xffffffff5010ull,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
}

/* ------------------------------------------------------------------ */
/* Faults                                                              */

/* 4K/40 tables with a table at every level: root, l2, l3 (indices 0). */
struct t40 {
	struct hb h;
	struct tdp_tk_arm64_regs r;
	uint64_t root, l2, l3;
};

static void t40_init(struct t40 *t, uint32_t feat)
{
	hb_init(&t->h, PA0);
	t->root = hb_table(&t->h, 8 * KiB);
	t->l2 = hb_table(&t->h, 4096);
	t->l3 = hb_table(&t->h, 4096);
	t->r = regs_of(vtcr_for(12, 40, 40, 1), t->root, feat);
	hb_set(&t->h, t->root, 0, t->l2 | D_TABLE);
	hb_set(&t->h, t->l2, 0, t->l3 | D_TABLE);
}

static void test_address_size(void **state)
{
	struct t40 t;
	struct tdp_tk_xlate x;

	(void)state;
	t40_init(&t, 0);
	/* output at 2^40 (PS 40): page and blocks */
	hb_set(&t.h, t.l3, 0, (1ull << 40) | D_TABLE | RAM_RW);
	expect_res(&t.h, &t.r, 0, TDP_TK_READ, TDP_TK_ADDRESS_SIZE_FAULT, 3, "output");
	hb_set(&t.h, t.l3, 0, ((1ull << 40) - 4096) | D_TABLE | RAM_RW);
	expect_ok(&t.h, &t.r, 0, TDP_TK_READ, 3, 4096, (1ull << 40) - 4096,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	hb_set(&t.h, t.l2, 1, (0x7full << 41) | D_BLOCK | RAM_RW);
	expect_res(&t.h, &t.r, 2 * MiB, TDP_TK_PROBE, TDP_TK_ADDRESS_SIZE_FAULT, 2, "output");
	hb_set(&t.h, t.root, 1, (1ull << 47) | D_BLOCK | RAM_RW);
	expect_res(&t.h, &t.r, GiB, TDP_TK_PROBE, TDP_TK_ADDRESS_SIZE_FAULT, 1, "output");
	/* a next-table address at 2^40, at level 1 and at level 2 */
	hb_set(&t.h, t.root, 2, (1ull << 40) | D_TABLE);
	walk(&t.h, &t.r, 2 * GiB, TDP_TK_PROBE, &x);
	assert_int_equal(x.result, TDP_TK_ADDRESS_SIZE_FAULT);
	assert_int_equal(x.level, 1);
	assert_int_equal(x.pte, (1ull << 40) | D_TABLE);
	assert_int_equal(x.nr_tables, 1);
	assert_int_equal(x.span_base, 2 * GiB);
	assert_int_equal(x.span_size, GiB);
	assert_non_null(strstr(x.why, "next-table"));
	hb_set(&t.h, t.l2, 2, (3ull << 40) | D_TABLE);
	expect_res(&t.h, &t.r, 4 * MiB, TDP_TK_PROBE, TDP_TK_ADDRESS_SIZE_FAULT, 2, "next-table");
	/* the root itself above the output size */
	t.r.vttbr = 1ull << 40;
	walk(&t.h, &t.r, 0, TDP_TK_PROBE, &x);
	assert_int_equal(x.result, TDP_TK_ADDRESS_SIZE_FAULT);
	assert_int_equal(x.level, 1);
	assert_int_equal(x.nr_tables, 0);
	assert_non_null(strstr(x.why, "BADDR"));
}

static void test_access_flag(void **state)
{
	struct t40 t;

	(void)state;
	t40_init(&t, 0);
	hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | (RAM_RW & ~AF));
	hb_set(&t.h, t.l2, 1, (1ull << 21) | D_BLOCK | (RAM_RW & ~AF));
	hb_set(&t.h, t.root, 1, (1ull << 30) | D_BLOCK | (RAM_RW & ~AF));
	/* the access flag is checked for every access, PROBE included */
	expect_res(&t.h, &t.r, 0, TDP_TK_PROBE, TDP_TK_ACCESS_FLAG_FAULT, 3, "AF");
	expect_res(&t.h, &t.r, 0, TDP_TK_READ, TDP_TK_ACCESS_FLAG_FAULT, 3, "AF");
	expect_res(&t.h, &t.r, 2 * MiB, TDP_TK_WRITE, TDP_TK_ACCESS_FLAG_FAULT, 2, "AF");
	expect_res(&t.h, &t.r, GiB, TDP_TK_EXEC, TDP_TK_ACCESS_FLAG_FAULT, 1, "AF");
	/* with HA the hardware sets it: no fault */
	t.r.vtcr |= 1ull << 21;
	expect_ok(&t.h, &t.r, 0, TDP_TK_READ, 3, 4096, 0x5000, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	expect_ok(&t.h, &t.r, GiB, TDP_TK_WRITE, 1, GiB, GiB, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
}

static void test_permissions(void **state)
{
	static const struct {
		uint64_t s2ap;
		bool r, w;
	} ap[] = {
		{ 0, false, false }, { S2AP_R, true, false },
		{ S2AP_W, false, true }, /* write-only is legal */
		{ S2AP_R | S2AP_W, true, true },
	};
	struct t40 t;
	struct tdp_tk_xlate x;

	(void)state;
	t40_init(&t, 0);
	for (size_t i = 0; i < 4; i++) {
		tdp_attr_t a = (ap[i].r ? TDP_PROT_R : 0) | (ap[i].w ? TDP_PROT_W : 0);

		hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | MA(0xf) | ap[i].s2ap | SH(3) | AF | XN1);
		walk(&t.h, &t.r, 8, TDP_TK_READ, &x);
		assert_int_equal(x.result, ap[i].r ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
		walk(&t.h, &t.r, 8, TDP_TK_READ | TDP_TK_USER, &x);
		assert_int_equal(x.result, ap[i].r ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
		walk(&t.h, &t.r, 8, TDP_TK_WRITE, &x);
		assert_int_equal(x.result, ap[i].w ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
		if (!ap[i].w)
			assert_non_null(strstr(x.why, "S2AP[1]"));
		/* a permission fault still reports the leaf */
		assert_int_equal(x.level, 3);
		assert_int_equal(x.span_size, 4096);
		assert_int_equal(x.hpa, 0x5008);
		assert_int_equal(x.attr, a | TDP_MT_NORMAL_WB);
		/* XN (bit 54) forbids execution */
		expect_res(&t.h, &t.r, 8, TDP_TK_EXEC, TDP_TK_PERMISSION_FAULT, 3, "XN");
		expect_res(&t.h, &t.r, 8, TDP_TK_EXEC | TDP_TK_USER, TDP_TK_PERMISSION_FAULT, 3,
			   "XN");
		/* PROBE does not check permissions */
		expect_ok(&t.h, &t.r, 8, TDP_TK_PROBE, 3, 4096, 0x5008, a | TDP_MT_NORMAL_WB);
	}
	/* execute does not need read */
	hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | MA(0xf) | SH(3) | AF);
	expect_ok(&t.h, &t.r, 0, TDP_TK_EXEC, 3, 4096, 0x5000, TDP_PROT_X | TDP_MT_NORMAL_WB);
	expect_ok(&t.h, &t.r, 0, TDP_TK_EXEC | TDP_TK_USER, 3, 4096, 0x5000,
		  TDP_PROT_X | TDP_MT_NORMAL_WB);
	/* a block's permissions */
	hb_set(&t.h, t.l2, 1, (1ull << 21) | D_BLOCK | MA(0xf) | S2AP_R | SH(3) | AF);
	expect_res(&t.h, &t.r, 2 * MiB + 5, TDP_TK_WRITE, TDP_TK_PERMISSION_FAULT, 2, "S2AP[1]");
	expect_ok(&t.h, &t.r, 2 * MiB + 5, TDP_TK_READ, 2, 2 * MiB, 2 * MiB + 5,
		  TDP_PROT_R | TDP_PROT_X | TDP_MT_NORMAL_WB);
}

/* XN[1:0] with and without FEAT_XNX, privileged (EL1) and user (EL0) fetches. */
static void test_xnx(void **state)
{
	static const struct {
		unsigned int xn;
		bool el1, el0;
		tdp_attr_t x;
	} tab[] = {
		{ 0, true, true, TDP_PROT_X },
		{ 1, false, true, TDP_PROT_XU },  /* EL0 only */
		{ 2, false, false, 0 },
		{ 3, true, false, TDP_PROT_XP },  /* EL1 only */
	};
	struct t40 t;
	struct tdp_tk_xlate x;

	(void)state;
	t40_init(&t, TDP_TK_ARM64_FEAT_XNX);
	for (size_t i = 0; i < 4; i++) {
		hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | RAM_RW | (uint64_t)tab[i].xn << 53);
		walk(&t.h, &t.r, 0, TDP_TK_EXEC, &x);
		assert_int_equal(x.result, tab[i].el1 ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
		assert_int_equal(x.attr, TDP_PROT_RW | tab[i].x | TDP_MT_NORMAL_WB);
		walk(&t.h, &t.r, 0, TDP_TK_EXEC | TDP_TK_USER, &x);
		assert_int_equal(x.result, tab[i].el0 ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
		if (!tab[i].el0)
			assert_non_null(strstr(x.why, "EL0"));
		walk(&t.h, &t.r, 0, TDP_TK_READ, &x);
		assert_int_equal(x.result, TDP_TK_OK);
	}
	/* without FEAT_XNX only bit 54 counts, and bit 53 is RES0 */
	t.r.features = 0;
	hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | RAM_RW | XN1);
	expect_res(&t.h, &t.r, 0, TDP_TK_EXEC | TDP_TK_USER, TDP_TK_PERMISSION_FAULT, 3, "XN");
	hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | RAM_RW | XN0);
	expect_res(&t.h, &t.r, 0, TDP_TK_PROBE, TDP_TK_MALFORMED, 3, "FEAT_XNX");
	hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | RAM_RW);
	expect_ok(&t.h, &t.r, 0, TDP_TK_EXEC | TDP_TK_USER, 3, 4096, 0x5000,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
}

static void test_external_abort(void **state)
{
	struct t40 t;
	struct tdp_tk_xlate x;

	(void)state;
	t40_init(&t, 0);
	/* a next table outside memory, at level 2 (pointed to from level 1) */
	hb_set(&t.h, t.root, 3, 0x7000000ull | D_TABLE);
	walk(&t.h, &t.r, 3 * GiB + 5 * 2 * MiB + 12345, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.level, 2);
	assert_int_equal(x.pte, 0x7000000ull | D_TABLE);
	assert_int_equal(x.span_base, 3 * GiB);
	assert_int_equal(x.span_size, GiB);
	assert_int_equal(x.nr_tables, 1);
	assert_non_null(strstr(x.why, "0x7000000"));
	/* at level 3 */
	hb_set(&t.h, t.l2, 9, (PA0 + ARENA_SIZE) | D_TABLE);
	walk(&t.h, &t.r, 9 * 2 * MiB, TDP_TK_PROBE, &x);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.level, 3);
	assert_int_equal(x.span_size, 2 * MiB);
	assert_int_equal(x.nr_tables, 2);
	/* the root */
	t.r.vttbr = 0x2000;
	walk(&t.h, &t.r, 0, TDP_TK_PROBE, &x);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.level, 1);
	assert_int_equal(x.nr_tables, 0);
	assert_int_equal(x.span_base, 0);
	assert_int_equal(x.span_size, 1ull << 40);
	assert_int_equal(x.pte, 0);
}

/* A 64K table of which only the first 4 KiB are in memory. */
static void test_external_abort_partial(void **state)
{
	struct hb h;
	struct tdp_tk_arm64_regs r;
	uint64_t root, l3;

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 128 * KiB);
	r = regs_of(vtcr_for(16, 42, 42, 2), root, 0);
	l3 = hb_table(&h, 64 * KiB);
	hb_set(&h, root, 0, l3 | D_TABLE);
	hb_set(&h, l3, 0, 0x50000ull | D_TABLE | RAM_RW);
	expect_ok(&h, &r, 0, TDP_TK_READ, 3, 64 * KiB, 0x50000, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	h.hole_pa = l3 + 4096;
	h.hole_size = 4096;
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_EXTERNAL_ABORT, 3, "cannot be read");
	/* the whole concatenated root is read: a hole in its second table */
	r = regs_of(vtcr_for(16, 43, 44, 2), root, 0);
	h.hole_pa = root + 64 * KiB + 60 * KiB;
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_EXTERNAL_ABORT, 2, "cannot be read");
}

/* ------------------------------------------------------------------ */
/* MALFORMED                                                           */

static void test_malformed_leaf(void **state)
{
	static const struct {
		uint64_t set;
		const char *why;
	} bad[] = {
		{ 1ull << 11, "RES0" },
		{ 1ull << 48, "RES0" },
		{ 1ull << 49, "RES0" },
		{ 1ull << 50, "RES0" },
		{ 1ull << 63, "RES0" },
		{ XN0, "FEAT_XNX" },
	};
	struct t40 t;
	struct tdp_tk_xlate x;

	(void)state;
	t40_init(&t, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | RAM_RW | bad[i].set);
		expect_res(&t.h, &t.r, 0, TDP_TK_READ, TDP_TK_MALFORMED, 3, bad[i].why);
		hb_set(&t.h, t.l2, 1, (1ull << 21) | D_BLOCK | RAM_RW | bad[i].set);
		expect_res(&t.h, &t.r, 2 * MiB, TDP_TK_PROBE, TDP_TK_MALFORMED, 2, bad[i].why);
		walk(&t.h, &t.r, 2 * MiB, TDP_TK_PROBE, &x);
		assert_int_equal(x.span_base, 2 * MiB);
		assert_int_equal(x.span_size, 2 * MiB);
		assert_int_equal(x.pte, (1ull << 21) | D_BLOCK | RAM_RW | bad[i].set);
	}
	/* bits that are fine: DBM, contiguous, software, PBHA */
	hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | RAM_RW | 3ull << 51 | SWB(0xf) | 0xfull << 59);
	expect_ok(&t.h, &t.r, 0, TDP_TK_PROBE, 3, 4096, 0x5000,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB | TDP_SW(0xf));

	/* output address bits below the block size */
	hb_set(&t.h, t.l2, 1, ((1ull << 21) | 0x1000) | D_BLOCK | RAM_RW);
	expect_res(&t.h, &t.r, 2 * MiB, TDP_TK_PROBE, TDP_TK_MALFORMED, 2, "below the block size");
	hb_set(&t.h, t.root, 1, ((1ull << 30) | (1ull << 21)) | D_BLOCK | RAM_RW);
	expect_res(&t.h, &t.r, GiB, TDP_TK_PROBE, TDP_TK_MALFORMED, 1, "below the block size");

	/* MemAttr values libtdp never writes */
	for (unsigned int m = 0; m < 16; m++) {
		bool ok = m == 0xf || m == 0x5 || m == 0x1 || m == 0x0;

		hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | S2AP_R | SH(3) | AF | MA(m));
		walk(&t.h, &t.r, 0, TDP_TK_READ, &x);
		assert_int_equal(x.result, ok ? TDP_TK_OK : TDP_TK_MALFORMED);
		if (!ok)
			assert_non_null(strstr(x.why, "MemAttr"));
	}
	expect_ok(&t.h, &t.r, 0, TDP_TK_READ, 3, 4096, 0x5000,
		  TDP_PROT_R | TDP_PROT_X | TDP_MT_NORMAL_WB);
	hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | S2AP_R | SH(3) | AF | MA(0));
	expect_ok(&t.h, &t.r, 0, TDP_TK_READ, 3, 4096, 0x5000,
		  TDP_PROT_R | TDP_PROT_X | TDP_MT_DEVICE_STRICT);

	/* shareability: normal memory must be inner shareable; 01 is reserved */
	for (unsigned int sh = 0; sh < 4; sh++) {
		hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | S2AP_R | AF | MA(5) | SH(sh));
		walk(&t.h, &t.r, 0, TDP_TK_PROBE, &x);
		assert_int_equal(x.result, sh == 3 ? TDP_TK_OK : TDP_TK_MALFORMED);
		if (sh != 3)
			assert_non_null(strstr(x.why, "SH"));
		/* device memory ignores SH, except the reserved value */
		hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | S2AP_R | AF | MA(1) | SH(sh));
		walk(&t.h, &t.r, 0, TDP_TK_PROBE, &x);
		assert_int_equal(x.result, sh == 1 ? TDP_TK_MALFORMED : TDP_TK_OK);
	}
}

static void test_malformed_table(void **state)
{
	struct t40 t;
	uint64_t ok_bits = 0xffcull /* 11:2 ignored */ | (0xffull << 51) /* 58:51 ignored */;

	(void)state;
	t40_init(&t, 0);
	hb_set(&t.h, t.l3, 0, 0x5000ull | D_TABLE | RAM_RW);
	hb_set(&t.h, t.l2, 0, t.l3 | D_TABLE | ok_bits);
	expect_ok(&t.h, &t.r, 0, TDP_TK_READ, 3, 4096, 0x5000, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	for (unsigned int b = 59; b < 64; b++) {
		hb_set(&t.h, t.l2, 0, t.l3 | D_TABLE | 1ull << b);
		expect_res(&t.h, &t.r, 0, TDP_TK_READ, TDP_TK_MALFORMED, 2, "RES0");
	}
	for (unsigned int b = 48; b < 51; b++) {
		hb_set(&t.h, t.root, 0, t.l2 | D_TABLE | 1ull << b);
		expect_res(&t.h, &t.r, 0, TDP_TK_READ, TDP_TK_MALFORMED, 1, "RES0");
	}
}

/* ------------------------------------------------------------------ */
/* Registers                                                           */

static void test_registers(void **state)
{
	/* granule, T0SZ, SL0, PS, expected start level or -1 (MALFORMED) */
	static const struct {
		unsigned int gshift, t0sz, sl0, ps;
		int start;
		unsigned int root_entries;
	} tab[] = {
		/* 4K: SL0 00 = level 2, 01 = 1, 10 = 0, 11 = 3 (FEAT_TTST) */
		{ 12, 32, 0, 0, 2, 2048 },  /* 4 concatenated level-2 tables */
		{ 12, 32, 1, 0, 1, 4 },
		{ 12, 32, 2, 0, -1, 0 },    /* level 0 resolves no bit of a 32-bit IPA */
		{ 12, 30, 0, 1, 2, 8192 },  /* 34 bits at level 2: 16 tables */
		{ 12, 29, 0, 1, -1, 0 },    /* 35 bits at level 2: 32 tables */
		{ 12, 24, 1, 2, 1, 1024 },
		{ 12, 24, 2, 2, 0, 2 },
		{ 12, 20, 1, 4, -1, 0 },    /* 44 bits at level 1: 32 tables */
		{ 12, 21, 1, 4, 1, 8192 },  /* 43 bits at level 1: 16 tables */
		{ 12, 16, 2, 5, 0, 512 },
		{ 12, 16, 1, 5, -1, 0 },
		{ 12, 39, 0, 0, 2, 16 },    /* 25-bit IPA */
		{ 12, 40, 0, 0, -1, 0 },    /* T0SZ above 39 */
		{ 12, 15, 2, 5, -1, 0 },    /* T0SZ below 16 */
		{ 12, 24, 3, 2, -1, 0 },    /* SL0 11 needs FEAT_TTST */
		/* 16K: SL0 00 = level 3, 01 = 2, 10 = 1, 11 = 0 (DS) */
		{ 14, 28, 1, 1, 2, 2048 },
		{ 14, 24, 1, 2, 2, 32768 }, /* 16 tables */
		{ 14, 23, 1, 3, -1, 0 },    /* 41 bits at level 2: 32 tables */
		{ 14, 17, 2, 5, 1, 2048 },
		{ 14, 16, 2, 5, 1, 4096 },
		{ 14, 28, 2, 1, -1, 0 },
		{ 14, 35, 0, 0, 3, 32768 }, /* 29 bits at level 3: 16 tables */
		{ 14, 34, 0, 0, -1, 0 },
		{ 14, 16, 3, 5, -1, 0 },    /* level 0 needs DS */
		/* 64K: SL0 00 = level 3, 01 = 2, 10 = 1, 11 reserved */
		{ 16, 22, 1, 3, 2, 8192 },
		{ 16, 18, 1, 5, 2, 131072 }, /* 16 tables */
		{ 16, 17, 1, 5, -1, 0 },
		{ 16, 16, 2, 5, 1, 64 },
		{ 16, 22, 2, 3, -1, 0 },
		{ 16, 31, 0, 1, 3, 131072 },
		{ 16, 30, 0, 1, -1, 0 },
		{ 16, 16, 3, 5, -1, 0 },
		{ 16, 12, 2, 6, 1, 1024 },   /* 52-bit IPA with a 52-bit output */
		{ 16, 12, 2, 5, -1, 0 },     /* ... not with 48 */
		/* IPA above the output size: CONSTRAINED UNPREDICTABLE */
		{ 12, 24, 1, 1, -1, 0 },
		{ 12, 28, 1, 1, 1, 64 },
	};
	struct hb h;
	struct tdp_tk_xlate x;

	(void)state;
	hb_init(&h, PA0);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		uint64_t root = hb_table(&h, 1 * MiB);
		struct tdp_tk_arm64_regs r =
			regs_of(vtcr_raw(tab[i].t0sz, tab[i].sl0, tg0_of(tab[i].gshift), tab[i].ps),
				tab[i].ps == 6 && tab[i].gshift == 16 ?
					(root & 0xffffffffffffull) | ((root >> 48) << 2) : root,
				0);

		h.reads = 0;
		walk(&h, &r, 0, TDP_TK_READ, &x);
		if (tab[i].start < 0) {
			if (x.result != TDP_TK_MALFORMED)
				fail_msg("row %zu: result %d, expected MALFORMED", i, x.result);
			assert_int_equal(h.reads, 0);
			assert_int_equal(x.span_base, 0);
			assert_int_equal(x.span_size, 0); /* everything */
			assert_int_equal(x.nr_tables, 0);
			assert_true(x.why[0]);
			hb_init(&h, PA0);
			continue;
		}
		if (x.result != TDP_TK_TRANSLATION_FAULT || x.level != tab[i].start)
			fail_msg("row %zu: result %d level %d (%s), expected an empty root at level %d",
				 i, x.result, x.level, x.why, tab[i].start);
		assert_int_equal(h.last_pa, root);
		assert_int_equal(h.last_size, tab[i].root_entries * 8);
		/* the last entry of the root covers the top of the input range */
		walk(&h, &r, (1ull << (64 - tab[i].t0sz)) - 1, TDP_TK_PROBE, &x);
		assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
		assert_int_equal(x.span_base + x.span_size, 1ull << (64 - tab[i].t0sz));
		assert_int_equal(x.span_size * tab[i].root_entries, 1ull << (64 - tab[i].t0sz));
		hb_init(&h, PA0);
	}
}

static void test_registers_reserved(void **state)
{
	struct hb h;
	struct tdp_tk_arm64_regs r;
	uint64_t root, good;

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 8 * KiB);
	good = vtcr_for(12, 40, 40, 1);
	r = regs_of(good, root, 0);
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 1, "invalid");
	r.vtcr = good | 3ull << 14;
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_MALFORMED, 0, "TG0");
	r.vtcr = good | 7ull << 16;
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_MALFORMED, 0, "PS");
	r.vtcr = good | 1ull << 32;
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_MALFORMED, 0, "DS");
	r.vtcr = good | 1ull << 33;
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_MALFORMED, 0, "SL2");
	r.vtcr = good | 1ull << 22;
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_MALFORMED, 0, "HD");
	/* fields that do not change the walk: IRGN/ORGN/SH0, VS, RES1 missing */
	r.vtcr = (good | 0x3f00ull | 1ull << 19) & ~(1ull << 31);
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 1, "invalid");
	/* VTTBR: CnP and the VMID are not part of the address */
	r = regs_of(good, root | 1 | 0xabcdull << 48, 0);
	hb_set(&h, root, 0, D_BLOCK | RAM_RW);
	expect_ok(&h, &r, 5, TDP_TK_READ, 1, GiB, 5, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	/* BADDR aligned to 4 KiB but not to the 8 KiB concatenated root */
	r.vttbr = root + 4096;
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_MALFORMED, 1, "aligned");
	/* a 36-bit IPA: 64 root entries, 512 bytes, aligned to 512 */
	r = regs_of(vtcr_for(12, 36, 36, 1), root + 512, 0);
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 1, "invalid");
	assert_int_equal(h.last_size, 512);
	r.vttbr = root + 256;
	expect_res(&h, &r, 0, TDP_TK_READ, TDP_TK_MALFORMED, 1, "aligned");
}

static void test_bad_arguments(void **state)
{
	struct t40 t;
	struct tdp_tk_xlate x;
	struct tdp_tk_mem nomem = { NULL, NULL };

	(void)state;
	t40_init(&t, 0);
	assert_int_equal(tdp_tk_ref_arm64(NULL, &t.r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_arm64(&nomem, &t.r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_arm64(&t.h.mem, NULL, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_arm64(&t.h.mem, &t.r, 0, TDP_TK_READ, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_arm64(&t.h.mem, &t.r, 0, 0x10, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_arm64(&t.h.mem, &t.r, 0, TDP_TK_READ | TDP_TK_WRITE, &x),
			 -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_arm64(&t.h.mem, &t.r, 0, TDP_TK_USER, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_arm64(&t.h.mem, &t.r, 0, TDP_TK_WRITE | TDP_TK_USER, &x), 0);
}

/* ------------------------------------------------------------------ */
/* Front: leaves and binding                                           */

struct seen {
	size_t n;
	struct tdp_tk_xlate v[64];
	int stop_at; /* return 7 from this call (1-based), 0: never */
};

static int collect(const struct tdp_tk_xlate *x, void *arg)
{
	struct seen *s = arg;

	if (s->n < 64)
		s->v[s->n] = *x;
	s->n++;
	return s->stop_at && (int)s->n == s->stop_at ? 7 : 0;
}

static void test_leaves(void **state)
{
	struct t40 t;
	struct tdp_tk_ref ref;
	struct seen s;
	size_t tables = 99;
	uint64_t empty;

	(void)state;
	t40_init(&t, 0);
	empty = hb_table(&t.h, 4096);
	hb_set(&t.h, t.l3, 3, 0x5000ull | D_TABLE | RAM_RW);
	hb_set(&t.h, t.l3, 511, 0x6000ull | D_TABLE | RAM_RW | (1ull << 63)); /* MALFORMED */
	hb_set(&t.h, t.l3, 100, 0x6000ull | D_TABLE | (RAM_RW & ~AF));      /* access flag fault */
	hb_set(&t.h, t.l2, 1, (1ull << 21) | D_BLOCK | RAM_RW);
	hb_set(&t.h, t.l2, 2, empty | D_TABLE);                            /* empty table */
	hb_set(&t.h, t.l2, 3, 0x7000000ull | D_TABLE);                     /* not in memory */
	hb_set(&t.h, t.root, 600, (7ull << 30) | D_BLOCK | RAM_RW);        /* second table */
	ref.format = TDP_FORMAT_ARM64_S2;
	ref.mem = t.h.mem;
	ref.regs.arm64 = t.r;

	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 40, collect, &s, &tables), 0);
	/* every non-empty entry that faults is reported, not taken for a hole */
	assert_int_equal(s.n, 6);
	assert_int_equal(s.v[0].result, TDP_TK_OK);
	assert_int_equal(s.v[0].span_base, 3 * 4096);
	assert_int_equal(s.v[0].hpa, 0x5000);
	assert_int_equal(s.v[1].result, TDP_TK_ACCESS_FLAG_FAULT);
	assert_int_equal(s.v[1].span_base, 100 * 4096);
	assert_int_equal(s.v[2].result, TDP_TK_MALFORMED);
	assert_int_equal(s.v[2].span_base, 511 * 4096);
	assert_int_equal(s.v[3].result, TDP_TK_OK);
	assert_int_equal(s.v[3].span_base, 2 * MiB);
	assert_int_equal(s.v[3].level, 2);
	assert_int_equal(s.v[4].result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(s.v[4].span_base, 6 * MiB);
	assert_int_equal(s.v[5].result, TDP_TK_OK);
	assert_int_equal(s.v[5].span_base, 600 * GiB);
	assert_int_equal(s.v[5].hpa, 7 * GiB);
	assert_int_equal(tables, 4); /* root, l2, l3 and the empty table */

	/* a range starting inside a leaf reports the whole leaf; ends inside one too */
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 2 * MiB + 4096, 4096, collect, &s, &tables), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].span_base, 2 * MiB);
	assert_int_equal(s.v[0].hpa, 2 * MiB + 4096);
	assert_int_equal(tables, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 4 * MiB, 4 * MiB, collect, &s, NULL), 0);
	assert_int_equal(s.n, 1); /* the empty table, then the abort */
	assert_int_equal(s.v[0].result, TDP_TK_EXTERNAL_ABORT);

	/* fn stops the walk with its value */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 40, collect, &s, &tables), 7);
	assert_int_equal(s.n, 2);

	/* beyond the input range: nothing more */
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 599 * GiB, ~0ull - 599 * GiB + 1, collect, &s,
					   NULL),
			 0);
	assert_int_equal(s.n, 1);

	/* bad registers: one MALFORMED outcome for the whole range */
	ref.regs.arm64.vtcr |= 3ull << 14;
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 40, collect, &s, &tables), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].result, TDP_TK_MALFORMED);
	assert_int_equal(tables, 0);

	assert_int_equal(tdp_tk_ref_leaves(NULL, 0, 4096, collect, &s, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 4096, NULL, &s, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_leaves(&ref, 8192, ~0ull, collect, &s, NULL), -TDP_ERANGE);
	tables = 5;
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 0, collect, &s, &tables), 0);
	assert_int_equal(tables, 0);
	ref.format = TDP_FORMAT_X86_EPT;
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 4096, collect, &s, NULL), -TDP_EINVAL);
}

static int count_ok(const struct tdp_tk_xlate *x, void *arg)
{
	if (x->result == TDP_TK_OK)
		++*(size_t *)arg;
	return 0;
}

/* Holes are skipped a run of empty entries at a time: reads stay near the leaf count. */
static void test_leaves_sparse(void **state)
{
	struct hb h;
	struct tdp_tk_ref ref;
	uint64_t root, l2[4];
	size_t n = 0, tables = 0, leaves = 0;

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 8 * KiB);
	ref.format = TDP_FORMAT_ARM64_S2;
	ref.mem = h.mem;
	ref.regs.arm64 = regs_of(vtcr_for(12, 40, 40, 1), root, 0);
	/* 4 GiB: 4 level-2 tables, one page every 400 KiB in level-3 tables */
	for (int i = 0; i < 4; i++) {
		l2[i] = hb_table(&h, 4096);
		hb_set(&h, root, (size_t)i, l2[i] | D_TABLE);
	}
	for (uint64_t a = 0; a < 4 * GiB; a += 400 * KiB) {
		size_t i1 = (size_t)(a >> 30), i2 = (size_t)(a >> 21) & 511, i3 = (size_t)(a >> 12) & 511;
		uint64_t l3 = arena[(l2[i1] - h.base) / 8 + i2] & ~0xfffull;

		if (!l3) {
			l3 = hb_table(&h, 4096);
			hb_set(&h, l2[i1], i2, l3 | D_TABLE);
		}
		hb_set(&h, l3, i3, (0x100000000ull + a) | D_TABLE | RAM_RW);
		leaves++;
	}
	h.reads = 0;
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 4 * GiB, count_ok, &n, &tables), 0);
	assert_int_equal(n, leaves);
	assert_int_equal(tables, 1 + 4 + 2048);
	/* one walk per leaf and per run of holes, 3 reads per walk at most */
	if (h.reads > 3 * (2 * leaves + 2 * 2048 + 8))
		fail_msg("%zu reads for %zu leaves", h.reads, leaves);
}

/* ------------------------------------------------------------------ */
/* tdp_tk_ref_for on a libtdp table                                    */


static void test_ref_for(void **state)
{
	struct tdp_tk_pool *pool = tdp_tk_pool_new(0x40000000, 64u << 20);
	struct tdp_config cfg = { .format = TDP_FORMAT_ARM64_S2, .granule_shift = 16,
				  .ia_bits = 42, .oa_bits = 42, .flags = TDP_CFG_ARM64_XNX };
	struct tdp_pgtable pgt;
	struct tdp_tk_ref ref;
	struct tdp_tk_mem mem;
	struct tdp_tk_xlate x;
	uint64_t v;

	(void)state;
	assert_non_null(pool);
	tdp_tk_pool_config(pool, &cfg);
	cfg.tlb = &nop_tlb;
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), 0);
	mem = tdp_tk_pool_mem(pool);
	assert_int_equal(tdp_tk_ref_for(&ref, &pgt, &mem), 0);
	assert_int_equal(ref.format, TDP_FORMAT_ARM64_S2);
	assert_int_equal(tdp_arm64_vtcr(&pgt, 0, &v), 0);
	assert_int_equal(ref.regs.arm64.vtcr, v);
	assert_int_equal(tdp_arm64_vttbr(&pgt, 0, 0, &v), 0);
	assert_int_equal(ref.regs.arm64.vttbr, v);
	assert_int_equal(ref.regs.arm64.features, TDP_TK_ARM64_FEAT_XNX);

	assert_int_equal(tdp_map(&pgt, 512 * MiB, 0x20000000ull, 512 * MiB, TDP_PROT_R |
				 TDP_PROT_XU, 0, NULL), 0);
	assert_int_equal(tdp_map(&pgt, 64 * KiB, 0x30000000ull, 64 * KiB, TDP_PROT_RW |
				 TDP_MT_DEVICE, 0, NULL), 0);
	assert_int_equal(tdp_tk_ref_translate(&ref, 512 * MiB + 5, TDP_TK_EXEC | TDP_TK_USER, &x), 0);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.level, 2);
	assert_int_equal(x.hpa, 0x20000005ull);
	assert_int_equal(x.attr, TDP_PROT_R | TDP_PROT_XU);
	assert_int_equal(tdp_tk_ref_translate(&ref, 512 * MiB, TDP_TK_EXEC, &x), 0);
	assert_int_equal(x.result, TDP_TK_PERMISSION_FAULT);
	assert_int_equal(tdp_tk_ref_translate(&ref, 64 * KiB + 8, TDP_TK_WRITE, &x), 0);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.level, 3);
	assert_int_equal(x.attr, TDP_PROT_RW | TDP_MT_DEVICE);
	assert_int_equal(x.nr_tables, 2);
	assert_int_equal(x.tables[0], pgt.root_pa);
	assert_int_equal(tdp_tk_ref_translate(&ref, 0, TDP_TK_READ, &x), 0);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 3);

	/* bad arguments */
	assert_int_equal(tdp_tk_ref_for(NULL, &pgt, &mem), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_for(&ref, NULL, &mem), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_for(&ref, &pgt, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_translate(NULL, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_translate(&ref, 0, TDP_TK_READ, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_translate(&ref, 0, 0x40, &x), -TDP_EINVAL);
	pgt.cfg.format = TDP_FORMAT_NONE;
	assert_int_equal(tdp_tk_ref_for(&ref, &pgt, &mem), -TDP_EINVAL);
	pgt.cfg.format = TDP_FORMAT_ARM64_S2;

	assert_int_equal(tdp_pgtable_destroy(&pgt), 0);
	tdp_tk_pool_delete(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4k_walk),
		cmocka_unit_test(test_4k_four_levels),
		cmocka_unit_test(test_16k_walk),
		cmocka_unit_test(test_16k_16_tables),
		cmocka_unit_test(test_64k_walk),
		cmocka_unit_test(test_64k_concat),
		cmocka_unit_test(test_64k_52bit),
		cmocka_unit_test(test_4k_ps52_is_48),
		cmocka_unit_test(test_address_size),
		cmocka_unit_test(test_access_flag),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_xnx),
		cmocka_unit_test(test_external_abort),
		cmocka_unit_test(test_external_abort_partial),
		cmocka_unit_test(test_malformed_leaf),
		cmocka_unit_test(test_malformed_table),
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_registers_reserved),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_leaves),
		cmocka_unit_test(test_leaves_sparse),
		cmocka_unit_test(test_ref_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
