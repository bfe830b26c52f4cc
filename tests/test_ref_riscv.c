/* SPDX-License-Identifier: MIT */
/*
 * The RISC-V G-stage reference walker on hand-built tables (no libtdp
 * table): Sv39x4, Sv48x4 and Sv57x4 walks with 4 KiB, 2 MiB, 1 GiB,
 * 512 GiB and 256 TiB leaves and root indices above 511, the GPA width,
 * V = 0 at every level, every X W R encoding, U = 0, pointers with bits
 * they may not carry, reserved bits, PBMT with and without Svpbmt,
 * misaligned superpages, address sizes, NAPOT (valid, wrong level, bad PPN,
 * without Svnapot, inconsistent groups, A/D under ADUE), A/D with and
 * without ADUE, HGATP, external aborts, and the format-neutral front
 * (tdp_tk_ref_translate, tdp_tk_ref_leaves over the 16 KiB root,
 * tdp_tk_ref_for). PTE and HGATP values are composed here by hand from
 * docs/formats.md §R.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <tdp/riscv.h>
#include <tdp/testkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ULL(x) ((unsigned long long)(x))
#define KiB    (1ull << 10)
#define MiB    (1ull << 20)
#define GiB    (1ull << 30)
#define TiB    (1ull << 40)

#include "hand_mem.h"

/* ------------------------------------------------------------------ */
/* PTEs and HGATP by hand (docs/formats.md §R.1, §R.3)                 */

#define P_V       (1ull << 0)
#define P_R       (1ull << 1)
#define P_W       (1ull << 2)
#define P_X       (1ull << 3)
#define P_U       (1ull << 4)
#define P_G       (1ull << 5)
#define P_A       (1ull << 6)
#define P_D       (1ull << 7)
#define RSW(v)    ((uint64_t)(v) << 8)
#define PBMT(v)   ((uint64_t)(v) << 61)
#define P_N       (1ull << 63)
#define P_RW      (P_R | P_W)
#define P_RX      (P_R | P_X)
#define P_RWX     (P_R | P_W | P_X)
#define PPN(pa)   (((uint64_t)(pa) >> 12) << 10)
/* a pointer to the next table, and a leaf with U, A and D */
#define PTR(pa)    (PPN(pa) | P_V)
#define LF(pa, rwx) (PPN(pa) | P_V | P_U | P_A | P_D | (rwx))

#define WB  TDP_MT_NORMAL_WB
#define PA0 0x80000000ull

#define ALL_FEATURES (TDP_TK_RISCV_SVPBMT | TDP_TK_RISCV_SVNAPOT | TDP_TK_RISCV_ADUE)

/* MODE 8 / 9 / 10 for 3 / 4 / 5 levels, VMID 0, the root's PPN */
static uint64_t hgatp_of(uint64_t root, int levels)
{
	return (uint64_t)(levels + 5) << 60 | root >> 12;
}

static struct tdp_tk_riscv_regs regs_of(uint64_t hgatp, uint32_t features, unsigned int pa_bits)
{
	struct tdp_tk_riscv_regs r = { hgatp, features, pa_bits };

	return r;
}

/* Index of gpa in a non-root table at `level` (0 = the 4 KiB level). */
static size_t ix(uint64_t gpa, int level)
{
	return (size_t)(gpa >> (12 + 9 * level)) & 511;
}

static void walk(const struct hb *h, const struct tdp_tk_riscv_regs *r, uint64_t gpa,
		 unsigned int access, struct tdp_tk_xlate *x)
{
	memset(x, 0xa5, sizeof(*x));
	assert_int_equal(tdp_tk_ref_riscv(&h->mem, r, gpa, access, x), 0);
}

static void expect_ok(const struct hb *h, const struct tdp_tk_riscv_regs *r, uint64_t gpa,
		      unsigned int access, int level, uint64_t span, uint64_t hpa, tdp_attr_t attr)
{
	struct tdp_tk_xlate x;

	walk(h, r, gpa, access, &x);
	if (x.result != TDP_TK_OK)
		fail_msg("gpa 0x%llx access 0x%x: result %d (%s)", ULL(gpa), access, x.result, x.why);
	assert_int_equal(x.level, level);
	assert_int_equal(x.span_size, span);
	assert_int_equal(x.span_base, gpa & ~(span - 1));
	assert_int_equal(x.hpa, hpa);
	if (x.attr != attr)
		fail_msg("gpa 0x%llx: attr 0x%x, expected 0x%x", ULL(gpa), x.attr, attr);
	assert_string_equal(x.why, "");
}

static void expect_res(const struct hb *h, const struct tdp_tk_riscv_regs *r, uint64_t gpa,
		       unsigned int access, enum tdp_tk_result res, int level, const char *why)
{
	struct tdp_tk_xlate x;

	walk(h, r, gpa, access, &x);
	check_res(&x, gpa, access, res, level, why);
}

static uint64_t entry(const struct hb *h, uint64_t table, size_t idx)
{
	return hb_at(h, table + idx * 8);
}

/*
 * An Sv39x4 table with a 44-bit PA: root[1029] -> l1[5] -> l0[6], a 4 KiB
 * page at G4K; a 2 MiB page at l1[7]; a 1 GiB page at root[1539]. Both
 * root indices are above 511 (GPA bit 40, and bits 40 and 39).
 */
struct t3 {
	struct hb h;
	struct tdp_tk_riscv_regs r;
	uint64_t root, l1, l0;
};

#define G4K  ((1029ull << 30) | (5ull << 21) | (6ull << 12))
#define G2M  ((1029ull << 30) | (7ull << 21))
#define G1G  (1539ull << 30)
#define H4K  0x123456000ull
#define H2M  0x2345600000ull
#define H1G  0x3c40000000ull
#define L4K  LF(H4K, P_RWX)
#define L2M  LF(H2M, P_RWX)
#define L1G  LF(H1G, P_RWX)

static void t3_init(struct t3 *t, uint32_t features)
{
	hb_init(&t->h, PA0);
	t->root = hb_table(&t->h, 16384);
	t->l1 = hb_table(&t->h, 4096);
	t->l0 = hb_table(&t->h, 4096);
	hb_set(&t->h, t->root, 1029, PTR(t->l1));
	hb_set(&t->h, t->l1, 5, PTR(t->l0));
	hb_set(&t->h, t->l0, 6, L4K);
	hb_set(&t->h, t->l1, 7, L2M);
	hb_set(&t->h, t->root, 1539, L1G);
	t->r = regs_of(hgatp_of(t->root, 3), features, 44);
}

/* The three leaves of t3: where they are and what they map. */
struct leaf3 {
	uint64_t gpa, hpa, span, table;
	size_t idx;
	int level;
};

static void t3_leaves(const struct t3 *t, struct leaf3 lv[3])
{
	lv[0] = (struct leaf3){ G4K, H4K, 4096, t->l0, 6, 0 };
	lv[1] = (struct leaf3){ G2M, H2M, 2 * MiB, t->l1, 7, 1 };
	lv[2] = (struct leaf3){ G1G, H1G, GiB, t->root, 1539, 2 };
}

/* ------------------------------------------------------------------ */
/* Walks                                                               */

static void test_walk_sv39x4(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;

	(void)state;
	t3_init(&t, 0);
	assert_int_equal(t.r.hgatp, 8ull << 60 | PA0 >> 12);

	/* 4 KiB page at level 0 */
	expect_ok(&t.h, &t.r, G4K + 0xabc, TDP_TK_READ, 0, 4096, H4K + 0xabc,
		  TDP_PROT_RWX | WB);
	walk(&t.h, &t.r, G4K + 0xabc, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 3);
	assert_int_equal(x.tables[0], t.root);
	assert_int_equal(x.tables[1], t.l1);
	assert_int_equal(x.tables[2], t.l0);
	for (unsigned int i = 3; i < TDP_MAX_LEVELS + 1; i++)
		assert_int_equal(x.tables[i], 0);
	assert_int_equal(x.pte, L4K);
	assert_int_equal(x.pte_pa, t.l0 + 6 * 8);
	assert_int_equal(t.h.last_pa, t.l0);
	assert_int_equal(t.h.last_size, 4096);

	/* 2 MiB page at level 1 */
	expect_ok(&t.h, &t.r, G2M + 0x12345, TDP_TK_WRITE, 1, 2 * MiB, H2M + 0x12345,
		  TDP_PROT_RWX | WB);
	walk(&t.h, &t.r, G2M + 2 * MiB - 1, TDP_TK_EXEC, &x);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.hpa, H2M + 2 * MiB - 1);
	assert_int_equal(x.nr_tables, 2);
	assert_int_equal(x.tables[1], t.l1);
	assert_int_equal(x.tables[2], 0);
	assert_int_equal(x.pte, L2M);
	assert_int_equal(x.pte_pa, t.l1 + 7 * 8);

	/* 1 GiB page in the root (level 2), read as one 16 KiB table */
	expect_ok(&t.h, &t.r, G1G + 0x3fffffff, TDP_TK_EXEC | TDP_TK_USER, 2, GiB,
		  H1G + 0x3fffffff, TDP_PROT_RWX | WB);
	walk(&t.h, &t.r, G1G, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 1);
	assert_int_equal(x.tables[0], t.root);
	assert_int_equal(x.pte_pa, t.root + 1539 * 8);
	assert_int_equal(x.span_base, G1G);
	assert_int_equal(t.h.last_pa, t.root);
	assert_int_equal(t.h.last_size, 16384);

	/* GPA bits 40 and 39 select the root entry: without them, other (empty) entries */
	walk(&t.h, &t.r, G4K & ~(1ull << 40), TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 2);
	assert_int_equal(x.pte_pa, t.root + 5 * 8);
	assert_int_equal(x.span_base, 5 * GiB);
	assert_int_equal(x.span_size, GiB);
	walk(&t.h, &t.r, G4K ^ (1ull << 39), TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.pte_pa, t.root + (1029 ^ 512) * 8);
	walk(&t.h, &t.r, G1G & ~(1ull << 39), TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.pte_pa, t.root + 1027 * 8);

	/* the top of the 41-bit space: root entry 2047 */
	hb_set(&t.h, t.root, 2047, LF(5 * GiB, P_R));
	expect_ok(&t.h, &t.r, (1ull << 41) - 1, TDP_TK_READ, 2, GiB, 6 * GiB - 1, TDP_PROT_R | WB);
	walk(&t.h, &t.r, (1ull << 41) - 1, TDP_TK_READ, &x);
	assert_int_equal(x.pte_pa, t.root + 2047 * 8);
	/* root entry 511 and 512 are different entries */
	hb_set(&t.h, t.root, 511, LF(7 * GiB, P_R));
	expect_ok(&t.h, &t.r, 511 * GiB + 3, TDP_TK_READ, 2, GiB, 7 * GiB + 3, TDP_PROT_R | WB);
	expect_res(&t.h, &t.r, 512 * GiB + 3, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 2, "V = 0");
}

static void test_walk_sv48x4(void **state)
{
	struct hb h;
	struct tdp_tk_riscv_regs r;
	struct tdp_tk_xlate x;
	uint64_t root, l2, l1, l0;
	uint64_t g = (1100ull << 39) | (3ull << 30) | (4ull << 21) | (5ull << 12);
	uint64_t h512 = 3 * 512 * GiB;

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 16384);
	l2 = hb_table(&h, 4096);
	l1 = hb_table(&h, 4096);
	l0 = hb_table(&h, 4096);
	r = regs_of(hgatp_of(root, 4), 0, 48);
	assert_int_equal(r.hgatp, 9ull << 60 | PA0 >> 12);

	hb_set(&h, root, 1100, PTR(l2));
	hb_set(&h, l2, 3, PTR(l1));
	hb_set(&h, l1, 4, PTR(l0));
	hb_set(&h, l0, 5, LF(0xfedcba987000ull, P_RW));
	expect_ok(&h, &r, g + 0x777, TDP_TK_WRITE, 0, 4096, 0xfedcba987777ull, TDP_PROT_RW | WB);
	walk(&h, &r, g, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 4);
	assert_int_equal(x.tables[0], root);
	assert_int_equal(x.tables[1], l2);
	assert_int_equal(x.tables[2], l1);
	assert_int_equal(x.tables[3], l0);
	assert_int_equal(x.tables[4], 0);
	assert_int_equal(x.pte_pa, l0 + 5 * 8);
	/* 2 MiB, 1 GiB */
	hb_set(&h, l1, 9, LF(7 * GiB + 2 * MiB, P_RX));
	expect_ok(&h, &r, (g & ~(GiB - 1)) + 9 * 2 * MiB + 5, TDP_TK_EXEC, 1, 2 * MiB,
		  7 * GiB + 2 * MiB + 5, TDP_PROT_RX | WB);
	hb_set(&h, l2, 10, LF(1ull << 47, P_RWX));
	expect_ok(&h, &r, (1100ull << 39) | (10ull << 30) | 12345, TDP_TK_READ, 2, GiB,
		  (1ull << 47) + 12345, TDP_PROT_RWX | WB);
	/* a 512 GiB page in the root (level 3) */
	hb_set(&h, root, 1500, LF(h512, P_RWX));
	expect_ok(&h, &r, (1500ull << 39) + 0x123456789ull, TDP_TK_READ, 3, 512 * GiB,
		  h512 + 0x123456789ull, TDP_PROT_RWX | WB);
	walk(&h, &r, 1500ull << 39, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 1);
	assert_int_equal(x.pte_pa, root + 1500 * 8);
	assert_int_equal(h.last_size, 16384);
	/* the top of the 50-bit space */
	hb_set(&h, root, 2047, LF(h512, P_R));
	expect_ok(&h, &r, (1ull << 50) - 1, TDP_TK_READ, 3, 512 * GiB, h512 + 512 * GiB - 1,
		  TDP_PROT_R | WB);
	/* GPA bit 49 selects the root entry: 1100 - 1024 = 76 is empty */
	walk(&h, &r, g & ~(1ull << 49), TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 3);
	assert_int_equal(x.pte_pa, root + 76 * 8);
	assert_int_equal(x.span_size, 512 * GiB);
	/* V = 0 at each level below the root */
	expect_res(&h, &r, (1100ull << 39) | (4ull << 30), TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 2,
		   "V = 0");
	expect_res(&h, &r, (1100ull << 39) | (3ull << 30) | (5ull << 21), TDP_TK_READ,
		   TDP_TK_TRANSLATION_FAULT, 1, "V = 0");
	expect_res(&h, &r, g + 4096, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 0, "V = 0");
}

static void test_walk_sv57x4(void **state)
{
	struct hb h;
	struct tdp_tk_riscv_regs r;
	struct tdp_tk_xlate x;
	uint64_t root, l3, l2, l1, l0;
	uint64_t g = (2000ull << 48) | (1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12);

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 16384);
	l3 = hb_table(&h, 4096);
	l2 = hb_table(&h, 4096);
	l1 = hb_table(&h, 4096);
	l0 = hb_table(&h, 4096);
	r = regs_of(hgatp_of(root, 5), 0, 56);
	assert_int_equal(r.hgatp, 10ull << 60 | PA0 >> 12);

	hb_set(&h, root, 2000, PTR(l3));
	hb_set(&h, l3, 1, PTR(l2));
	hb_set(&h, l2, 2, PTR(l1));
	hb_set(&h, l1, 3, PTR(l0));
	/* a page near the top of the 56-bit physical space */
	hb_set(&h, l0, 4, LF(0xfedcba98765000ull, P_R));
	expect_ok(&h, &r, g + 0x321, TDP_TK_READ, 0, 4096, 0xfedcba98765321ull, TDP_PROT_R | WB);
	walk(&h, &r, g, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 5);
	assert_int_equal(x.tables[0], root);
	assert_int_equal(x.tables[1], l3);
	assert_int_equal(x.tables[4], l0);
	assert_int_equal(x.tables[5], 0);
	assert_int_equal(x.pte_pa, l0 + 4 * 8);
	/* a 512 GiB page at level 3, a 1 GiB page at level 2 */
	hb_set(&h, l3, 7, LF(5 * 512 * GiB, P_RW));
	expect_ok(&h, &r, (2000ull << 48) | (7ull << 39) | 99, TDP_TK_WRITE, 3, 512 * GiB,
		  5 * 512 * GiB + 99, TDP_PROT_RW | WB);
	hb_set(&h, l2, 8, LF(3 * GiB, P_RWX));
	expect_ok(&h, &r, (2000ull << 48) | (1ull << 39) | (8ull << 30) | 5, TDP_TK_EXEC, 2, GiB,
		  3 * GiB + 5, TDP_PROT_RWX | WB);
	/* a 256 TiB page in the root (level 4), up to the top of the 59-bit space */
	hb_set(&h, root, 2047, LF(5ull << 48, P_RWX));
	expect_ok(&h, &r, (2047ull << 48) | 0xfedcba987654ull, TDP_TK_READ, 4, 1ull << 48,
		  (5ull << 48) | 0xfedcba987654ull, TDP_PROT_RWX | WB);
	expect_ok(&h, &r, (1ull << 59) - 1, TDP_TK_WRITE, 4, 1ull << 48, (6ull << 48) - 1,
		  TDP_PROT_RWX | WB);
	/* GPA bit 58 selects the root entry: 2000 - 1024 = 976 is empty */
	walk(&h, &r, g & ~(1ull << 58), TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 4);
	assert_int_equal(x.pte_pa, root + 976 * 8);
	assert_int_equal(x.span_size, 1ull << 48);
	assert_int_equal(x.span_base, 976ull << 48);
}

/* GPA width: 41 / 50 / 59 bits; anything above faults at the root level unread. */
static void test_gpa_width(void **state)
{
	static const unsigned int width[3] = { 41, 50, 59 };
	struct hb h;
	struct tdp_tk_xlate x;
	uint64_t root;

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 16384);
	for (int levels = 3; levels <= 5; levels++) {
		struct tdp_tk_riscv_regs r = regs_of(hgatp_of(root, levels), 0, 56);
		unsigned int wd = width[levels - 3];
		const uint64_t bad[] = { 1ull << wd, (1ull << wd) | 0x1234, 1ull << 63, ~0ull,
					 (1ull << 59) | ((1ull << wd) - 1) };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			h.reads = 0;
			walk(&h, &r, bad[i], TDP_TK_READ, &x);
			check_res(&x, bad[i], TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, levels - 1,
				  "width");
			assert_int_equal(x.span_base, 1ull << wd);
			assert_int_equal(x.span_size, 0 - (1ull << wd));
			assert_int_equal(x.nr_tables, 0);
			assert_int_equal(x.tables[0], 0);
			assert_int_equal(x.pte, 0);
			assert_int_equal(x.pte_pa, 0);
			assert_int_equal(x.hpa, 0);
			assert_int_equal(h.reads, 0);
		}
		/* just below the width: walked, root entry 2047 */
		walk(&h, &r, (1ull << wd) - 1, TDP_TK_READ, &x);
		check_res(&x, (1ull << wd) - 1, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, levels - 1,
			  "V = 0");
		assert_int_equal(x.nr_tables, 1);
		assert_int_equal(x.pte_pa, root + 2047 * 8);
		assert_int_equal(x.span_base, 2047ull << (12 + 9 * (levels - 1)));
		/* the highest bit inside the width is walked too */
		walk(&h, &r, 1ull << (wd - 1), TDP_TK_READ, &x);
		assert_int_equal(x.nr_tables, 1);
		assert_int_equal(x.pte_pa, root + 1024 * 8);
	}
}

/* ------------------------------------------------------------------ */
/* Entries                                                             */

/* V = 0 at every level: a translation fault whatever else the entry holds. */
static void test_not_valid(void **state)
{
	static const uint64_t junk[] = {
		0,
		~P_V,                          /* every bit but V */
		LF(H4K, P_RWX) & ~P_V,          /* a leaf without V */
		PPN(0x5000) | P_N | PBMT(3),    /* reserved encodings without V */
		RSW(3),                        /* software bits only */
	};
	struct t3 t;
	struct tdp_tk_xlate x;
	struct {
		uint64_t table;
		size_t idx;
		int level;
		uint64_t span;
	} at[3];

	(void)state;
	t3_init(&t, ALL_FEATURES);
	at[0].table = t.root, at[0].idx = 1029, at[0].level = 2, at[0].span = GiB;
	at[1].table = t.l1, at[1].idx = 5, at[1].level = 1, at[1].span = 2 * MiB;
	at[2].table = t.l0, at[2].idx = 6, at[2].level = 0, at[2].span = 4096;
	for (size_t l = 0; l < 3; l++) {
		uint64_t keep = entry(&t.h, at[l].table, at[l].idx);

		for (size_t j = 0; j < sizeof(junk) / sizeof(junk[0]); j++) {
			hb_set(&t.h, at[l].table, at[l].idx, junk[j]);
			for (unsigned int acc = 0; acc <= TDP_TK_EXEC; acc = acc ? acc << 1 : 1) {
				walk(&t.h, &t.r, G4K + 0x10, acc, &x);
				if (x.result != TDP_TK_TRANSLATION_FAULT || x.level != at[l].level)
					fail_msg("entry 0x%llx at level %d, access %u: result %d "
						 "level %d (%s)", ULL(junk[j]), at[l].level, acc,
						 x.result, x.level, x.why);
				assert_int_equal(x.pte, junk[j]);
				assert_int_equal(x.pte_pa, at[l].table + at[l].idx * 8);
				assert_int_equal(x.span_size, at[l].span);
				assert_int_equal(x.span_base, G4K & ~(at[l].span - 1));
				assert_int_equal(x.nr_tables, l + 1);
				assert_int_equal(x.tables[l], at[l].table);
				assert_int_equal(x.hpa, 0);
				assert_int_equal(x.attr, 0);
				assert_non_null(strstr(x.why, "V = 0"));
			}
		}
		hb_set(&t.h, at[l].table, at[l].idx, keep);
	}
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 0, 4096, H4K, TDP_PROT_RWX | WB);
}

/* Every X W R encoding at every leaf level, for every access kind. */
static void test_rwx_encodings(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;
	struct leaf3 lv[3];

	(void)state;
	t3_init(&t, 0);
	t3_leaves(&t, lv);
	for (size_t l = 0; l < 3; l++) {
		for (unsigned int xwr = 1; xwr <= 7; xwr++) {
			uint64_t e = LF(lv[l].hpa, (uint64_t)xwr << 1);
			bool r = xwr & 1, w = xwr & 2, xx = xwr & 4;
			tdp_attr_t a = (r ? TDP_PROT_R : 0) | (w ? TDP_PROT_W : 0) |
				       (xx ? TDP_PROT_X : 0) | WB;
			uint64_t gpa = lv[l].gpa + 0x88;

			hb_set(&t.h, lv[l].table, lv[l].idx, e);
			if (w && !r) {
				/* 010 and 110 are reserved: a fault for every access, PROBE included */
				for (unsigned int acc = 0; acc <= TDP_TK_EXEC;
				     acc = acc ? acc << 1 : 1) {
					walk(&t.h, &t.r, gpa, acc, &x);
					check_res(&x, gpa, acc, TDP_TK_GUEST_PAGE_FAULT, lv[l].level,
						  "W without R");
					assert_int_equal(x.pte, e);
					assert_int_equal(x.pte_pa, lv[l].table + lv[l].idx * 8);
					assert_int_equal(x.attr, 0);
					assert_int_equal(x.span_size, lv[l].span);
				}
				continue;
			}
			expect_ok(&t.h, &t.r, gpa, TDP_TK_PROBE, lv[l].level, lv[l].span,
				  lv[l].hpa + 0x88, a);
			walk(&t.h, &t.r, gpa, TDP_TK_READ, &x);
			assert_int_equal(x.result, r ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
			if (!r)
				assert_non_null(strstr(x.why, "R (bit 1)"));
			walk(&t.h, &t.r, gpa, TDP_TK_WRITE, &x);
			assert_int_equal(x.result, w ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
			if (!w) {
				/* a permission fault still reports the leaf and what it grants */
				assert_int_equal(x.level, lv[l].level);
				assert_int_equal(x.span_size, lv[l].span);
				assert_int_equal(x.span_base, lv[l].gpa);
				assert_int_equal(x.hpa, lv[l].hpa + 0x88);
				assert_int_equal(x.attr, a);
				assert_int_equal(x.pte, e);
				assert_int_equal(x.pte_pa, lv[l].table + lv[l].idx * 8);
				assert_non_null(strstr(x.why, "W (bit 2)"));
			}
			/* G-stage takes every access as U-mode: USER changes nothing */
			for (unsigned int u = 0; u <= TDP_TK_USER; u += TDP_TK_USER) {
				walk(&t.h, &t.r, gpa, TDP_TK_EXEC | u, &x);
				assert_int_equal(x.result, xx ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
				if (!xx)
					assert_non_null(strstr(x.why, "X (bit 3)"));
				walk(&t.h, &t.r, gpa, TDP_TK_READ | u, &x);
				assert_int_equal(x.result, r ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
			}
		}
	}
}

/* U = 0 in a leaf faults every access, PROBE included. */
static void test_leaf_u_clear(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;
	struct leaf3 lv[3];

	(void)state;
	t3_init(&t, ALL_FEATURES);
	t3_leaves(&t, lv);
	for (size_t l = 0; l < 3; l++) {
		uint64_t e = LF(lv[l].hpa, P_RWX) & ~P_U;

		hb_set(&t.h, lv[l].table, lv[l].idx, e);
		for (unsigned int acc = 0; acc <= TDP_TK_EXEC; acc = acc ? acc << 1 : 1) {
			walk(&t.h, &t.r, lv[l].gpa + 1, acc, &x);
			check_res(&x, lv[l].gpa + 1, acc, TDP_TK_GUEST_PAGE_FAULT, lv[l].level,
				  "U = 0");
			assert_int_equal(x.pte, e);
			assert_int_equal(x.pte_pa, lv[l].table + lv[l].idx * 8);
			assert_int_equal(x.span_size, lv[l].span);
			assert_int_equal(x.attr, 0);
			assert_int_equal(x.hpa, 0);
		}
		/* with U the same leaf is fine */
		hb_set(&t.h, lv[l].table, lv[l].idx, e | P_U);
		expect_ok(&t.h, &t.r, lv[l].gpa + 1, TDP_TK_READ, lv[l].level, lv[l].span,
			  lv[l].hpa + 1, TDP_PROT_RWX | WB);
	}
}

/* Pointers (X W R = 000): U, A, D, PBMT, N and bits 60:54 fault; G and RSW are ignored. */
static void test_pointer_bits(void **state)
{
	uint64_t bad[7 + 7];
	struct t3 t;
	struct tdp_tk_xlate x;
	struct {
		uint64_t table;
		size_t idx;
		int level;
		uint64_t next;
	} at[2];
	size_t nbad = 0;

	(void)state;
	bad[nbad++] = P_U;
	bad[nbad++] = P_A;
	bad[nbad++] = P_D;
	bad[nbad++] = PBMT(1);
	bad[nbad++] = PBMT(2);
	bad[nbad++] = PBMT(3);
	bad[nbad++] = P_N;
	for (unsigned int b = 54; b <= 60; b++)
		bad[nbad++] = 1ull << b;
	t3_init(&t, ALL_FEATURES); /* Svpbmt and Svnapot do not make them legal in a pointer */
	at[0].table = t.root, at[0].idx = 1029, at[0].level = 2, at[0].next = t.l1;
	at[1].table = t.l1, at[1].idx = 5, at[1].level = 1, at[1].next = t.l0;
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < nbad; i++) {
			uint64_t e = PTR(at[l].next) | bad[i];

			hb_set(&t.h, at[l].table, at[l].idx, e);
			for (unsigned int acc = 0; acc <= TDP_TK_EXEC; acc = acc ? acc << 1 : 1) {
				walk(&t.h, &t.r, G4K, acc, &x);
				check_res(&x, G4K, acc, TDP_TK_GUEST_PAGE_FAULT, at[l].level,
					  "pointer");
				assert_int_equal(x.pte, e);
				assert_int_equal(x.pte_pa, at[l].table + at[l].idx * 8);
				assert_int_equal(x.nr_tables, l + 1);
			}
		}
		/* G and RSW change nothing */
		hb_set(&t.h, at[l].table, at[l].idx, PTR(at[l].next) | P_G | RSW(3));
		expect_ok(&t.h, &t.r, G4K, TDP_TK_WRITE, 0, 4096, H4K, TDP_PROT_RWX | WB);
		hb_set(&t.h, at[l].table, at[l].idx, PTR(at[l].next));
	}
	/* a pointer at level 0: no leaf by level 0 */
	hb_set(&t.h, t.l0, 6, PTR(t.l0));
	expect_res(&t.h, &t.r, G4K, TDP_TK_PROBE, TDP_TK_GUEST_PAGE_FAULT, 0, "level 0");
	walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
	assert_int_equal(x.pte_pa, t.l0 + 6 * 8);
	assert_int_equal(x.nr_tables, 3);
	assert_int_equal(x.span_size, 4096);
}

/* Next-table addresses against pa_bits. */
static void test_pointer_address_size(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;

	(void)state;
	t3_init(&t, 0); /* 44-bit PA */
	hb_set(&t.h, t.l1, 5, PTR(1ull << 44));
	walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
	check_res(&x, G4K, TDP_TK_READ, TDP_TK_ADDRESS_SIZE_FAULT, 1, "next-table address");
	assert_int_equal(x.pte, PTR(1ull << 44));
	assert_int_equal(x.pte_pa, t.l1 + 5 * 8);
	assert_int_equal(x.nr_tables, 2);
	assert_int_equal(x.span_size, 2 * MiB);
	/* just below: read, not in memory */
	hb_set(&t.h, t.l1, 5, PTR((1ull << 44) - 4096));
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EXTERNAL_ABORT, 0, "cannot be read");
	/* a wider PA: 2^44 is an address */
	t.r.pa_bits = 45;
	hb_set(&t.h, t.l1, 5, PTR(1ull << 44));
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EXTERNAL_ABORT, 0, "cannot be read");
	/* the top PPN bit (PA bit 55) with 55 and 56 bits */
	hb_set(&t.h, t.root, 1029, PTR(1ull << 55));
	t.r.pa_bits = 55;
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_ADDRESS_SIZE_FAULT, 2, "next-table");
	t.r.pa_bits = 56;
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EXTERNAL_ABORT, 1, "0x80000000000000");
}

/* Leaf bits 60:54 are reserved; G and RSW are not. */
static void test_leaf_reserved(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;
	struct leaf3 lv[3];

	(void)state;
	t3_init(&t, ALL_FEATURES);
	t3_leaves(&t, lv);
	for (size_t l = 0; l < 3; l++) {
		uint64_t e0 = LF(lv[l].hpa, P_RWX);

		for (unsigned int b = 54; b <= 60; b++) {
			uint64_t e = e0 | 1ull << b;

			hb_set(&t.h, lv[l].table, lv[l].idx, e);
			walk(&t.h, &t.r, lv[l].gpa, TDP_TK_PROBE, &x);
			check_res(&x, lv[l].gpa, TDP_TK_PROBE, TDP_TK_GUEST_PAGE_FAULT, lv[l].level,
				  "60:54");
			assert_int_equal(x.pte, e);
			assert_int_equal(x.pte_pa, lv[l].table + lv[l].idx * 8);
			assert_int_equal(x.attr, 0);
		}
		/* RSW is the software field, G is ignored */
		for (unsigned int sw = 0; sw < 4; sw++) {
			hb_set(&t.h, lv[l].table, lv[l].idx, e0 | RSW(sw) | P_G);
			expect_ok(&t.h, &t.r, lv[l].gpa, TDP_TK_READ, lv[l].level, lv[l].span,
				  lv[l].hpa, TDP_PROT_RWX | WB | TDP_SW(sw));
		}
		hb_set(&t.h, lv[l].table, lv[l].idx, e0);
	}
	/* bits 53 and up of the PPN field are address bits (up to PA bit 55) */
	t.r.pa_bits = 56;
	hb_set(&t.h, t.l0, 6, LF(1ull << 55, P_R));
	expect_ok(&t.h, &t.r, G4K + 7, TDP_TK_READ, 0, 4096, (1ull << 55) + 7, TDP_PROT_R | WB);
}

/* PBMT: 0 / 1 / 2 with Svpbmt are WB / NC / IO, 3 is reserved; without Svpbmt only 0. */
static void test_pbmt(void **state)
{
	static const tdp_attr_t mt[3] = { TDP_MT_NORMAL_WB, TDP_MT_NORMAL_NC, TDP_MT_DEVICE };
	struct t3 t;
	struct tdp_tk_xlate x;
	struct leaf3 lv[3];

	(void)state;
	t3_init(&t, TDP_TK_RISCV_SVPBMT);
	t3_leaves(&t, lv);
	for (size_t l = 0; l < 3; l++) {
		for (unsigned int p = 0; p < 4; p++) {
			uint64_t e = LF(lv[l].hpa, P_RW) | PBMT(p);

			hb_set(&t.h, lv[l].table, lv[l].idx, e);
			t.r.features = TDP_TK_RISCV_SVPBMT;
			if (p == 3) {
				expect_res(&t.h, &t.r, lv[l].gpa, TDP_TK_PROBE,
					   TDP_TK_GUEST_PAGE_FAULT, lv[l].level, "PBMT = 3");
			} else {
				expect_ok(&t.h, &t.r, lv[l].gpa + 9, TDP_TK_WRITE, lv[l].level,
					  lv[l].span, lv[l].hpa + 9, TDP_PROT_RW | mt[p]);
				/* a permission fault reports the type too */
				walk(&t.h, &t.r, lv[l].gpa, TDP_TK_EXEC, &x);
				assert_int_equal(x.result, TDP_TK_PERMISSION_FAULT);
				assert_int_equal(x.attr, TDP_PROT_RW | mt[p]);
			}
			t.r.features = TDP_TK_RISCV_SVNAPOT | TDP_TK_RISCV_ADUE;
			if (p == 0) {
				expect_ok(&t.h, &t.r, lv[l].gpa, TDP_TK_READ, lv[l].level,
					  lv[l].span, lv[l].hpa, TDP_PROT_RW | WB);
			} else {
				walk(&t.h, &t.r, lv[l].gpa, TDP_TK_PROBE, &x);
				check_res(&x, lv[l].gpa, TDP_TK_PROBE, TDP_TK_GUEST_PAGE_FAULT,
					  lv[l].level, p == 3 ? "PBMT" : "Svpbmt");
				assert_int_equal(x.pte, e);
			}
		}
	}
}

/* A superpage's PPN bits below its size must be 0. */
static void test_misaligned(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;
	uint64_t l2;
	static const struct {
		int level;
		uint64_t off; /* added to the leaf's output */
		bool bad;
	} tab[] = {
		{ 1, 4096, true },
		{ 1, MiB, true },          /* PPN bit 8, the highest below 2 MiB */
		{ 1, 2 * MiB, false },
		{ 2, 4096, true },
		{ 2, 2 * MiB, true },
		{ 2, 512 * MiB, true },    /* PPN bit 17 */
		{ 2, GiB, false },
		{ 3, 4096, true },         /* Sv48x4: 512 GiB pages */
		{ 3, GiB, true },
		{ 3, 256 * GiB, true },    /* PPN bit 26 */
		{ 3, 512 * GiB, false },
	};

	(void)state;
	t3_init(&t, 0);
	t.r.pa_bits = 48;
	/* as Sv48x4: a 4-level table over the same memory, root entry 0 -> t.root as level 2 */
	l2 = hb_table(&t.h, 16384);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		uint64_t table, gpa, base, e;
		size_t idx;
		struct tdp_tk_riscv_regs r = t.r;

		switch (tab[i].level) {
		case 1:
			table = t.l1, idx = 7, gpa = G2M, base = H2M;
			break;
		case 2:
			table = t.root, idx = 1539, gpa = G1G, base = H1G;
			break;
		default:
			table = l2, idx = 1100, gpa = 1100ull << 39, base = 512 * GiB;
			r.hgatp = hgatp_of(l2, 4);
			break;
		}
		e = LF(base + tab[i].off, P_RW);
		hb_set(&t.h, table, idx, e);
		walk(&t.h, &r, gpa + 0x1234, TDP_TK_READ, &x);
		if (tab[i].bad) {
			check_res(&x, gpa, TDP_TK_READ, TDP_TK_GUEST_PAGE_FAULT, tab[i].level,
				  "misaligned");
			assert_int_equal(x.pte, e);
			assert_int_equal(x.pte_pa, table + idx * 8);
			assert_int_equal(x.span_base, gpa);
			assert_int_equal(x.span_size, 1ull << (12 + 9 * tab[i].level));
		} else {
			assert_int_equal(x.result, TDP_TK_OK);
			assert_int_equal(x.hpa, base + tab[i].off + 0x1234);
		}
	}
	/* 4 KiB pages have no alignment rule: any PPN */
	hb_set(&t.h, t.l0, 6, LF(0x1001000, P_R));
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 0, 4096, 0x1001000, TDP_PROT_R | WB);
}

/* Output addresses against pa_bits; the HGATP root too. */
static void test_address_size(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;
	struct leaf3 lv[3];

	(void)state;
	t3_init(&t, 0);
	t3_leaves(&t, lv);
	t.r.pa_bits = 40;
	for (size_t l = 0; l < 3; l++) {
		uint64_t e = LF(1ull << 40, P_RW);

		hb_set(&t.h, lv[l].table, lv[l].idx, e);
		walk(&t.h, &t.r, lv[l].gpa, TDP_TK_READ, &x);
		check_res(&x, lv[l].gpa, TDP_TK_READ, TDP_TK_ADDRESS_SIZE_FAULT, lv[l].level,
			  "output address");
		assert_int_equal(x.pte, e);
		assert_int_equal(x.pte_pa, lv[l].table + lv[l].idx * 8);
		assert_int_equal(x.span_size, lv[l].span);
		/* the last page below 2^40 */
		hb_set(&t.h, lv[l].table, lv[l].idx, LF((1ull << 40) - lv[l].span, P_RW));
		expect_ok(&t.h, &t.r, lv[l].gpa + lv[l].span - 1, TDP_TK_WRITE, lv[l].level,
			  lv[l].span, (1ull << 40) - 1, TDP_PROT_RW | WB);
		/* and with one more bit, 2^40 itself */
		t.r.pa_bits = 41;
		hb_set(&t.h, lv[l].table, lv[l].idx, e);
		expect_ok(&t.h, &t.r, lv[l].gpa, TDP_TK_READ, lv[l].level, lv[l].span, 1ull << 40,
			  TDP_PROT_RW | WB);
		t.r.pa_bits = 40;
	}
	/* the root: at or above 2^pa_bits is an address size fault at the root level */
	t.r.pa_bits = 32;
	t.h.reads = 0;
	t.r.hgatp = hgatp_of(1ull << 32, 3);
	walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
	check_res(&x, G4K, TDP_TK_READ, TDP_TK_ADDRESS_SIZE_FAULT, 2, "root");
	assert_int_equal(x.span_base, 0);
	assert_int_equal(x.span_size, 1ull << 41);
	assert_int_equal(x.nr_tables, 0);
	assert_int_equal(x.pte_pa, 0);
	assert_int_equal(t.h.reads, 0);
	/* PA0 = 2^31 is below 2^32: the root is walked, the 4 KiB page at 0x123456000 is not */
	t.r.hgatp = hgatp_of(t.root, 3);
	expect_res(&t.h, &t.r, 2 * GiB, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 2, "V = 0");
	hb_set(&t.h, t.l0, 6, L4K);
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_ADDRESS_SIZE_FAULT, 0, "output address");
	hb_set(&t.h, t.l0, 6, LF(0xfffff000, P_R));
	expect_ok(&t.h, &t.r, G4K + 0xfff, TDP_TK_READ, 0, 4096, 0xffffffff, TDP_PROT_R | WB);
}

/* ------------------------------------------------------------------ */
/* Svnapot                                                             */

#define GNAP ((1029ull << 30) | (5ull << 21) | (16ull << 12)) /* l0[16..31] */
#define HNAP 0x123450000ull
#define LNAP (LF(HNAP, P_RW) | PPN(0x8000) | P_N)

static void napot_fill(struct t3 *t, uint64_t e)
{
	for (size_t i = 16; i < 32; i++)
		hb_set(&t->h, t->l0, i, e);
}

static void test_napot_valid(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;

	(void)state;
	t3_init(&t, TDP_TK_RISCV_SVNAPOT);
	napot_fill(&t, LNAP);
	for (unsigned int k = 0; k < 16; k++) {
		uint64_t gpa = GNAP + k * 4096 + 0x123;

		walk(&t.h, &t.r, gpa, TDP_TK_WRITE, &x);
		if (x.result != TDP_TK_OK)
			fail_msg("entry %u: result %d (%s)", k, x.result, x.why);
		assert_int_equal(x.level, 0);
		assert_int_equal(x.span_base, GNAP);
		assert_int_equal(x.span_size, 64 * KiB);
		assert_int_equal(x.hpa, HNAP + k * 4096 + 0x123);
		assert_int_equal(x.attr, TDP_PROT_RW | WB);
		assert_int_equal(x.pte, LNAP);
		assert_int_equal(x.pte_pa, t.l0 + (16 + k) * 8);
		assert_int_equal(x.nr_tables, 3);
	}
	expect_ok(&t.h, &t.r, GNAP + 0xffff, TDP_TK_READ, 0, 64 * KiB, HNAP + 0xffff,
		  TDP_PROT_RW | WB);
	/* a permission fault spans the group too */
	walk(&t.h, &t.r, GNAP + 0x5432, TDP_TK_EXEC, &x);
	check_res(&x, GNAP, TDP_TK_EXEC, TDP_TK_PERMISSION_FAULT, 0, "X (bit 3)");
	assert_int_equal(x.span_base, GNAP);
	assert_int_equal(x.span_size, 64 * KiB);
	assert_int_equal(x.hpa, HNAP + 0x5432);
	/* the entries next to the group do not belong to it */
	hb_set(&t.h, t.l0, 15, LF(0x9000, P_R));
	hb_set(&t.h, t.l0, 32, RSW(1));
	expect_ok(&t.h, &t.r, GNAP + 0x3000, TDP_TK_READ, 0, 64 * KiB, HNAP + 0x3000,
		  TDP_PROT_RW | WB);
	expect_ok(&t.h, &t.r, GNAP - 4096, TDP_TK_READ, 0, 4096, 0x9000, TDP_PROT_R | WB);
	/* N = 0 with the same PPN is a plain 4 KiB page at HNAP + 0x8000 */
	hb_set(&t.h, t.l0, 6, LNAP & ~P_N);
	expect_ok(&t.h, &t.r, G4K + 1, TDP_TK_READ, 0, 4096, HNAP + 0x8001, TDP_PROT_RW | WB);
	/* A/D under the usual rules: A = 0 in all 16 faults a read without ADUE */
	napot_fill(&t, LNAP & ~P_A);
	expect_res(&t.h, &t.r, GNAP, TDP_TK_READ, TDP_TK_ACCESS_FLAG_FAULT, 0, "A = 0");
	/* the output address against pa_bits */
	napot_fill(&t, (LNAP & ~PPN(~0xffffull)) | PPN((1ull << 44) - 64 * KiB));
	expect_ok(&t.h, &t.r, GNAP + 0xfff0, TDP_TK_READ, 0, 64 * KiB, (1ull << 44) - 0x10,
		  TDP_PROT_RW | WB);
	napot_fill(&t, (LNAP & ~PPN(~0xffffull)) | PPN(1ull << 44));
	expect_res(&t.h, &t.r, GNAP, TDP_TK_READ, TDP_TK_ADDRESS_SIZE_FAULT, 0, "output address");
}

static void test_napot_encodings(void **state)
{
	static const unsigned int low[] = { 0x0, 0x4, 0x9, 0xc, 0xf, 0x1 };
	struct t3 t;
	struct tdp_tk_xlate x;
	uint64_t e;

	(void)state;
	t3_init(&t, TDP_TK_RISCV_SVNAPOT);
	/* without Svnapot N is reserved, also in a consistent group */
	napot_fill(&t, LNAP);
	t.r.features = TDP_TK_RISCV_SVPBMT | TDP_TK_RISCV_ADUE;
	walk(&t.h, &t.r, GNAP + 0x2000, TDP_TK_PROBE, &x);
	check_res(&x, GNAP, TDP_TK_PROBE, TDP_TK_GUEST_PAGE_FAULT, 0, "Svnapot");
	assert_int_equal(x.span_size, 4096);
	assert_int_equal(x.span_base, GNAP + 0x2000);
	assert_int_equal(x.pte_pa, t.l0 + 18 * 8);
	t.r.features = TDP_TK_RISCV_SVNAPOT;
	/* PPN[3:0] other than 0b1000 */
	for (size_t i = 0; i < sizeof(low) / sizeof(low[0]); i++) {
		e = (LNAP & ~PPN(0xf000)) | PPN((uint64_t)low[i] << 12);
		napot_fill(&t, e);
		walk(&t.h, &t.r, GNAP, TDP_TK_READ, &x);
		check_res(&x, GNAP, TDP_TK_READ, TDP_TK_GUEST_PAGE_FAULT, 0, "0b1000");
		assert_int_equal(x.pte, e);
		assert_int_equal(x.span_size, 4096);
	}
	/* N = 1 above level 0 (a 2 MiB or 1 GiB leaf), with or without the low PPN pattern */
	hb_set(&t.h, t.l1, 7, L2M | P_N);
	expect_res(&t.h, &t.r, G2M, TDP_TK_PROBE, TDP_TK_GUEST_PAGE_FAULT, 1, "N = 1");
	hb_set(&t.h, t.l1, 7, L2M | P_N | PPN(0x8000));
	expect_res(&t.h, &t.r, G2M, TDP_TK_READ, TDP_TK_GUEST_PAGE_FAULT, 1, "N = 1");
	hb_set(&t.h, t.root, 1539, L1G | P_N);
	expect_res(&t.h, &t.r, G1G, TDP_TK_READ, TDP_TK_GUEST_PAGE_FAULT, 2, "N = 1");
	/* a NAPOT leaf with U = 0 or W without R still faults */
	napot_fill(&t, LNAP & ~P_U);
	expect_res(&t.h, &t.r, GNAP, TDP_TK_READ, TDP_TK_GUEST_PAGE_FAULT, 0, "U = 0");
	napot_fill(&t, LNAP & ~P_R);
	expect_res(&t.h, &t.r, GNAP, TDP_TK_READ, TDP_TK_GUEST_PAGE_FAULT, 0, "W without R");
}

/* The 16 entries of a group must agree (the project's rule); A/D aside with ADUE. */
static void test_napot_group(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;
	static const unsigned int odd[] = { 0, 9, 15 }; /* the entry that differs */
	uint64_t variants[6];

	(void)state;
	t3_init(&t, TDP_TK_RISCV_SVNAPOT);
	variants[0] = 0;                               /* a hole in the group */
	variants[1] = LNAP & ~P_W;                      /* other permissions */
	variants[2] = LNAP + PPN(64 * KiB);             /* another output */
	variants[3] = LNAP | RSW(2);                    /* other software bits */
	variants[4] = LNAP & ~P_N;                      /* a plain 4 KiB page */
	variants[5] = LNAP & ~(P_A | P_D);              /* A/D differ */
	for (size_t v = 0; v < 6; v++) {
		for (size_t o = 0; o < 3; o++) {
			napot_fill(&t, LNAP);
			hb_set(&t.h, t.l0, 16 + odd[o], variants[v]);
			for (unsigned int k = 0; k < 16; k++) {
				uint64_t gpa = GNAP + k * 4096 + 8;

				if (k == odd[o])
					continue; /* the odd entry itself is walked below */
				walk(&t.h, &t.r, gpa, TDP_TK_READ, &x);
				check_res(&x, gpa, TDP_TK_READ, TDP_TK_MALFORMED, 0, "NAPOT group");
				assert_int_equal(x.span_base, GNAP);
				assert_int_equal(x.span_size, 64 * KiB);
				assert_int_equal(x.pte, LNAP);
				assert_int_equal(x.pte_pa, t.l0 + (16 + k) * 8);
				assert_int_equal(x.attr, 0);
			}
			walk(&t.h, &t.r, GNAP + odd[o] * 4096, TDP_TK_PROBE, &x);
			if (variants[v] == 0) {
				assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
			} else if (!(variants[v] & P_N)) {
				/* a plain page is fine on its own */
				assert_int_equal(x.result, TDP_TK_OK);
				assert_int_equal(x.span_size, 4096);
			} else {
				assert_int_equal(x.result, TDP_TK_MALFORMED);
			}
		}
	}
	/* with ADUE the hart sets A/D per entry: a group differing only there is fine */
	t.r.features |= TDP_TK_RISCV_ADUE;
	napot_fill(&t, LNAP & ~(P_A | P_D));
	hb_set(&t.h, t.l0, 16 + 3, LNAP & ~P_D);
	hb_set(&t.h, t.l0, 16 + 15, LNAP);
	for (unsigned int k = 0; k < 16; k++) {
		walk(&t.h, &t.r, GNAP + k * 4096, TDP_TK_WRITE, &x);
		assert_int_equal(x.result, TDP_TK_OK);
		assert_int_equal(x.span_size, 64 * KiB);
		assert_int_equal(x.hpa, HNAP + k * 4096);
		/* the entry itself, with the A/D of the whole group (A from 3, D from 15) */
		assert_int_equal(x.pte, entry(&t.h, t.l0, 16 + k) | P_A | P_D);
		assert_int_equal(x.pte_pa, t.l0 + (16 + k) * 8);
	}
	/* ... but nothing else */
	hb_set(&t.h, t.l0, 16 + 15, LNAP | P_X);
	expect_res(&t.h, &t.r, GNAP, TDP_TK_READ, TDP_TK_MALFORMED, 0, "A/D aside");
	hb_set(&t.h, t.l0, 16 + 15, (LNAP & ~(P_A | P_D)) | RSW(1));
	expect_res(&t.h, &t.r, GNAP + 0x7000, TDP_TK_READ, TDP_TK_MALFORMED, 0, "entry 15");
}

/* ------------------------------------------------------------------ */
/* A and D                                                             */

static void test_access_dirty(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;
	struct leaf3 lv[3];

	(void)state;
	t3_init(&t, 0);
	t3_leaves(&t, lv);
	for (size_t l = 0; l < 3; l++) {
		uint64_t full = LF(lv[l].hpa, P_RWX), gpa = lv[l].gpa + 0x40;
		uint64_t pa = lv[l].table + lv[l].idx * 8;

		/* A = 0: every access but a PROBE faults */
		hb_set(&t.h, lv[l].table, lv[l].idx, full & ~P_A);
		expect_ok(&t.h, &t.r, gpa, TDP_TK_PROBE, lv[l].level, lv[l].span, lv[l].hpa + 0x40,
			  TDP_PROT_RWX | WB);
		for (unsigned int acc = TDP_TK_READ; acc <= TDP_TK_EXEC; acc <<= 1) {
			walk(&t.h, &t.r, gpa, acc, &x);
			check_res(&x, gpa, acc, TDP_TK_ACCESS_FLAG_FAULT, lv[l].level, "A = 0");
			assert_int_equal(x.pte, full & ~P_A);
			assert_int_equal(x.pte_pa, pa);
			assert_int_equal(x.span_size, lv[l].span);
			assert_int_equal(x.attr, 0);
			assert_int_equal(x.hpa, 0);
		}
		/* D = 0: only a write faults */
		hb_set(&t.h, lv[l].table, lv[l].idx, full & ~P_D);
		expect_ok(&t.h, &t.r, gpa, TDP_TK_READ, lv[l].level, lv[l].span, lv[l].hpa + 0x40,
			  TDP_PROT_RWX | WB);
		expect_ok(&t.h, &t.r, gpa, TDP_TK_EXEC, lv[l].level, lv[l].span, lv[l].hpa + 0x40,
			  TDP_PROT_RWX | WB);
		expect_ok(&t.h, &t.r, gpa, TDP_TK_PROBE, lv[l].level, lv[l].span, lv[l].hpa + 0x40,
			  TDP_PROT_RWX | WB);
		expect_res(&t.h, &t.r, gpa, TDP_TK_WRITE, TDP_TK_ACCESS_FLAG_FAULT, lv[l].level,
			   "D = 0");
		/* the permission check comes first */
		hb_set(&t.h, lv[l].table, lv[l].idx, full & ~(P_A | P_D | P_W));
		walk(&t.h, &t.r, gpa, TDP_TK_WRITE, &x);
		check_res(&x, gpa, TDP_TK_WRITE, TDP_TK_PERMISSION_FAULT, lv[l].level, "W (bit 2)");
		assert_int_equal(x.attr, TDP_PROT_RX | WB);
		hb_set(&t.h, lv[l].table, lv[l].idx, full & ~(P_D | P_W));
		expect_res(&t.h, &t.r, gpa, TDP_TK_WRITE, TDP_TK_PERMISSION_FAULT, lv[l].level,
			   "W (bit 2)");
		/* with ADUE the hart would set them: the walker translates and writes nothing */
		t.r.features = TDP_TK_RISCV_ADUE;
		hb_set(&t.h, lv[l].table, lv[l].idx, full & ~(P_A | P_D));
		for (unsigned int acc = 0; acc <= TDP_TK_EXEC; acc = acc ? acc << 1 : 1)
			expect_ok(&t.h, &t.r, gpa, acc, lv[l].level, lv[l].span, lv[l].hpa + 0x40,
				  TDP_PROT_RWX | WB);
		assert_int_equal(hb_at(&t.h, pa), full & ~(P_A | P_D));
		/* ... and U = 0 still faults */
		hb_set(&t.h, lv[l].table, lv[l].idx, full & ~(P_A | P_D | P_U));
		expect_res(&t.h, &t.r, gpa, TDP_TK_READ, TDP_TK_GUEST_PAGE_FAULT, lv[l].level,
			   "U = 0");
		t.r.features = 0;
		hb_set(&t.h, lv[l].table, lv[l].idx, full);
	}
}

/* ------------------------------------------------------------------ */
/* HGATP                                                               */

static void test_hgatp(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;
	uint64_t good;

	(void)state;
	t3_init(&t, 0);
	good = t.r.hgatp;
	/* Bare and the reserved modes: MALFORMED at level 0, nothing read */
	for (uint64_t mode = 0; mode < 16; mode++) {
		if (mode >= 8 && mode <= 10)
			continue;
		t.r.hgatp = mode << 60 | (good & ((1ull << 60) - 1));
		t.h.reads = 0;
		walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
		check_res(&x, G4K, TDP_TK_READ, TDP_TK_MALFORMED, 0, mode ? "reserved" : "Bare");
		assert_int_equal(x.span_base, 0);
		assert_int_equal(x.span_size, 0);
		assert_int_equal(x.nr_tables, 0);
		assert_int_equal(x.pte, 0);
		assert_int_equal(x.pte_pa, 0);
		assert_int_equal(t.h.reads, 0);
		assert_non_null(strstr(x.why, "MODE"));
	}
	t.r.hgatp = 0; /* Bare as the hypervisor writes it */
	expect_res(&t.h, &t.r, 0, TDP_TK_PROBE, TDP_TK_MALFORMED, 0, "Bare");
	/* bits 59:58, with the start level of each mode */
	for (int levels = 3; levels <= 5; levels++) {
		for (unsigned int b = 58; b <= 59; b++) {
			t.r.hgatp = hgatp_of(t.root, levels) | 1ull << b;
			walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
			check_res(&x, G4K, TDP_TK_READ, TDP_TK_MALFORMED, levels - 1, "59:58");
			assert_int_equal(x.span_size, 0);
			assert_int_equal(x.nr_tables, 0);
		}
	}
	/* a root not 16 KiB aligned */
	for (uint64_t off = 4096; off < 16384; off += 4096) {
		t.r.hgatp = hgatp_of(t.root + off, 3);
		expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_MALFORMED, 2, "16 KiB");
	}
	/* the registers come before the GPA width */
	t.r.hgatp = hgatp_of(t.root, 3) | 1ull << 59;
	expect_res(&t.h, &t.r, 1ull << 60, TDP_TK_READ, TDP_TK_MALFORMED, 2, "59:58");
	t.r.hgatp = 11ull << 60;
	expect_res(&t.h, &t.r, ~0ull, TDP_TK_READ, TDP_TK_MALFORMED, 0, "MODE 11");
	/* the VMID does not change the walk */
	t.r.hgatp = good | 0x3fffull << 44;
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 0, 4096, H4K, TDP_PROT_RWX | WB);
	t.r.hgatp = good | 0x1555ull << 44;
	expect_ok(&t.h, &t.r, G2M, TDP_TK_READ, 1, 2 * MiB, H2M, TDP_PROT_RWX | WB);
	/* the same root as Sv48x4: G4K has other root bits now (GPA[49:39] = 2) */
	t.r.hgatp = hgatp_of(t.root, 4);
	walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
	check_res(&x, G4K, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 3, "V = 0");
	assert_int_equal(x.pte_pa, t.root + 2 * 8);
	assert_int_equal(x.span_size, 512 * GiB);
}

/* ------------------------------------------------------------------ */
/* External aborts, arguments                                          */

static void test_external_abort(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;

	(void)state;
	t3_init(&t, 0);
	/* the level-0 table is not in memory: reported with the pointer to it */
	hb_hole(&t.h, t.l0, 4096);
	walk(&t.h, &t.r, G4K + 5, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.level, 0);
	assert_int_equal(x.pte, PTR(t.l0));
	assert_int_equal(x.pte_pa, t.l1 + 5 * 8);
	assert_int_equal(x.span_base, G4K & ~(2 * MiB - 1));
	assert_int_equal(x.span_size, 2 * MiB);
	assert_int_equal(x.nr_tables, 2);
	assert_int_equal(x.tables[2], 0);
	assert_int_equal(x.attr, 0);
	assert_non_null(strstr(x.why, "0x80005000"));
	/* the 2 MiB page in the same table is fine */
	expect_ok(&t.h, &t.r, G2M, TDP_TK_READ, 1, 2 * MiB, H2M, TDP_PROT_RWX | WB);
	/* the level-1 table: level 1 with the root entry */
	hb_hole(&t.h, t.l1, 4096);
	walk(&t.h, &t.r, G4K, TDP_TK_PROBE, &x);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.level, 1);
	assert_int_equal(x.pte, PTR(t.l1));
	assert_int_equal(x.pte_pa, t.root + 1029 * 8);
	assert_int_equal(x.span_base, 1029 * GiB);
	assert_int_equal(x.span_size, GiB);
	assert_int_equal(x.nr_tables, 1);
	/* a pointer outside memory */
	hb_hole(&t.h, 0, 0);
	hb_set(&t.h, t.l1, 5, PTR(0x7000000000ull));
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EXTERNAL_ABORT, 0, "0x7000000000");
	/* the root is read whole (16 KiB): its last 4 KiB missing aborts any walk */
	hb_set(&t.h, t.l1, 5, PTR(t.l0));
	hb_hole(&t.h, t.root + 12288, 4096);
	walk(&t.h, &t.r, 3 * GiB, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.level, 2);
	assert_int_equal(x.pte, 0);
	assert_int_equal(x.pte_pa, 0);
	assert_int_equal(x.span_base, 0);
	assert_int_equal(x.span_size, 1ull << 41);
	assert_int_equal(x.nr_tables, 0);
	assert_int_equal(t.h.last_size, 16384);
	hb_hole(&t.h, t.root, 4096);
	expect_res(&t.h, &t.r, G1G, TDP_TK_READ, TDP_TK_EXTERNAL_ABORT, 2, "0x80000000");
	hb_hole(&t.h, 0, 0);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 0, 4096, H4K, TDP_PROT_RWX | WB);
}

static void test_bad_arguments(void **state)
{
	struct t3 t;
	struct tdp_tk_xlate x;
	struct tdp_tk_mem nomem = { NULL, NULL };
	struct tdp_tk_riscv_regs r;

	(void)state;
	t3_init(&t, 0);
	assert_int_equal(tdp_tk_ref_riscv(NULL, &t.r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_riscv(&nomem, &t.r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, NULL, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, &t.r, 0, TDP_TK_READ, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, &t.r, 0, 0x10, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, &t.r, 0, TDP_TK_READ | TDP_TK_WRITE, &x),
			 -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, &t.r, 0, TDP_TK_USER, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, &t.r, 0, TDP_TK_WRITE | TDP_TK_USER, &x), 0);
	/* unknown features, pa_bits outside 32..56 */
	r = t.r;
	r.features = 1u << 3;
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, &r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	r = t.r;
	r.pa_bits = 31;
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, &r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	r.pa_bits = 57;
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, &r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	r.pa_bits = 32;
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, &r, 0, TDP_TK_READ, &x), 0);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	r.pa_bits = 56;
	r.features = ALL_FEATURES;
	assert_int_equal(tdp_tk_ref_riscv(&t.h.mem, &r, G4K, TDP_TK_READ, &x), 0);
	assert_int_equal(x.result, TDP_TK_OK);
}

/* ------------------------------------------------------------------ */
/* Front: translate, leaves                                            */

struct seen {
	size_t n;
	struct tdp_tk_xlate v[32];
};

static int collect(const struct tdp_tk_xlate *x, void *arg)
{
	struct seen *s = arg;

	if (s->n < 32)
		s->v[s->n] = *x;
	s->n++;
	return 0;
}

static struct tdp_tk_ref ref_of(const struct hb *h, const struct tdp_tk_riscv_regs *r)
{
	struct tdp_tk_ref ref;

	memset(&ref, 0, sizeof(ref));
	ref.format = TDP_FORMAT_RISCV_G;
	ref.mem = h->mem;
	ref.regs.riscv = *r;
	return ref;
}

static void test_front(void **state)
{
	struct t3 t;
	struct tdp_tk_ref ref;
	struct tdp_tk_xlate x, y;
	struct seen s;
	size_t tables = 0;
	uint64_t empty;

	(void)state;
	t3_init(&t, TDP_TK_RISCV_SVNAPOT);
	ref = ref_of(&t.h, &t.r);
	/* translate goes to the G-stage walker */
	assert_int_equal(tdp_tk_ref_translate(&ref, G2M + 9, TDP_TK_WRITE, &x), 0);
	walk(&t.h, &t.r, G2M + 9, TDP_TK_WRITE, &y);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.hpa, y.hpa);
	assert_int_equal(x.level, 1);
	assert_int_equal(x.pte_pa, y.pte_pa);

	/* leaves: holes (0) skipped, everything else reported, in address order */
	empty = hb_table(&t.h, 4096);
	hb_set(&t.h, t.root, 3, RSW(1));                  /* invalid but not empty */
	hb_set(&t.h, t.root, 600, PTR(empty));            /* a table of holes */
	hb_set(&t.h, t.root, 700, PTR(0x7000000000ull));  /* not in memory */
	hb_set(&t.h, t.l0, 2, LF(0x5000, P_W));           /* W without R */
	napot_fill(&t, LNAP);                             /* l0[16..31] */
	hb_set(&t.h, t.root, 2047, L1G & ~P_U);           /* U = 0 */
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 41, collect, &s, &tables), 0);
	assert_int_equal(s.n, 8);
	assert_int_equal(s.v[0].result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(s.v[0].span_base, 3 * GiB);
	assert_int_equal(s.v[0].pte, RSW(1));
	assert_int_equal(s.v[1].result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(s.v[1].span_base, 700 * GiB);
	assert_int_equal(s.v[1].level, 1);
	assert_int_equal(s.v[2].result, TDP_TK_GUEST_PAGE_FAULT);
	assert_int_equal(s.v[2].span_base, (G4K & ~(2 * MiB - 1)) + 2 * 4096);
	assert_int_equal(s.v[3].result, TDP_TK_OK);
	assert_int_equal(s.v[3].span_base, G4K);
	assert_int_equal(s.v[3].hpa, H4K);
	assert_int_equal(s.v[4].result, TDP_TK_OK); /* the NAPOT group, once */
	assert_int_equal(s.v[4].span_base, GNAP);
	assert_int_equal(s.v[4].span_size, 64 * KiB);
	assert_int_equal(s.v[4].hpa, HNAP);
	assert_int_equal(s.v[5].result, TDP_TK_OK);
	assert_int_equal(s.v[5].span_base, G2M);
	assert_int_equal(s.v[5].level, 1);
	assert_int_equal(s.v[6].result, TDP_TK_OK);
	assert_int_equal(s.v[6].span_base, G1G);
	assert_int_equal(s.v[6].level, 2);
	assert_int_equal(s.v[7].result, TDP_TK_GUEST_PAGE_FAULT);
	assert_int_equal(s.v[7].span_base, 2047 * GiB);
	assert_int_equal(tables, 4); /* root, l1, l0 and the empty table */

	/* from the middle of the NAPOT group: the group, reported with the walked position's entry */
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, GNAP + 0x5000, 0x1000, collect, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].span_base, GNAP);
	assert_int_equal(s.v[0].hpa, HNAP + 0x5000);
	assert_int_equal(s.v[0].pte_pa, t.l0 + 21 * 8);
	/* an inconsistent group: one MALFORMED for the whole group */
	hb_set(&t.h, t.l0, 20, LNAP | RSW(3));
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, GNAP, 64 * KiB, collect, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].result, TDP_TK_MALFORMED);

	/* bad registers: one MALFORMED outcome */
	ref.regs.riscv.hgatp |= 1ull << 58;
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 41, collect, &s, &tables), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].result, TDP_TK_MALFORMED);
	assert_int_equal(tables, 0);
}

static int count_ok(const struct tdp_tk_xlate *x, void *arg)
{
	if (x->result == TDP_TK_OK)
		++*(size_t *)arg;
	return 0;
}

/*
 * Runs of empty root entries are skipped across the whole 16 KiB root, past
 * entry 511: a few reads for a root with one leaf at either end.
 */
static void test_leaves_root_runs(void **state)
{
	struct hb h;
	struct tdp_tk_riscv_regs r;
	struct tdp_tk_ref ref;
	struct seen s;
	uint64_t root;
	size_t n, tables;

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 16384);
	r = regs_of(hgatp_of(root, 3), 0, 44);
	ref = ref_of(&h, &r);
	/* nothing at all: no outcome, one table, two reads (one walk, one scan) */
	h.reads = 0;
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 41, collect, &s, &tables), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(tables, 1);
	if (h.reads > 4)
		fail_msg("%zu reads for an empty root", h.reads);
	/* one leaf in the last root entry */
	hb_set(&h, root, 2047, LF(GiB, P_R));
	h.reads = 0;
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 41, collect, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].span_base, 2047 * GiB);
	if (h.reads > 4)
		fail_msg("%zu reads for a root with one leaf", h.reads);
	/* and in the first one */
	hb_set(&h, root, 0, LF(2 * GiB, P_R));
	hb_set(&h, root, 2047, 0);
	h.reads = 0;
	n = 0;
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 41, count_ok, &n, NULL), 0);
	assert_int_equal(n, 1);
	if (h.reads > 4)
		fail_msg("%zu reads for a root with one leaf", h.reads);
	/* Sv57x4: the same over 2^59 */
	r.hgatp = hgatp_of(root, 5);
	ref = ref_of(&h, &r);
	h.reads = 0;
	n = 0;
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 59, count_ok, &n, NULL), 0);
	assert_int_equal(n, 0); /* a 2 GiB output is not 256 TiB aligned: misaligned */
	if (h.reads > 6)
		fail_msg("%zu reads over a 5-level root with one entry", h.reads);
}

/* A sparse Sv48x4 table: every leaf found, tables counted, reads near the leaf count. */
static void test_leaves_sparse(void **state)
{
	struct hb h;
	struct tdp_tk_riscv_regs r;
	struct tdp_tk_ref ref;
	uint64_t root, l2, l1[4];
	size_t n = 0, tables = 0, leaves = 0;

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 16384);
	l2 = hb_table(&h, 4096);
	r = regs_of(hgatp_of(root, 4), 0, 48);
	ref = ref_of(&h, &r);
	hb_set(&h, root, 1536, PTR(l2)); /* GPA bits 49 and 48 */
	for (size_t i = 0; i < 4; i++) {
		l1[i] = hb_table(&h, 4096);
		hb_set(&h, l2, i, PTR(l1[i]));
	}
	/* one page every 4 MiB + 12 KiB over 4 GiB */
	for (uint64_t a = 0; a < 4 * GiB; a += 4 * MiB + 12 * KiB) {
		size_t i2 = (size_t)(a >> 30), i1 = ix(a, 1), i0 = ix(a, 0);
		uint64_t e = entry(&h, l1[i2], i1), l0 = e ? (e >> 10) << 12 : 0;

		if (!l0) {
			l0 = hb_table(&h, 4096);
			hb_set(&h, l1[i2], i1, PTR(l0));
		}
		hb_set(&h, l0, i0, LF(0x100000000ull + a, P_RW));
		leaves++;
	}
	h.reads = 0;
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 50, count_ok, &n, &tables), 0);
	assert_int_equal(n, leaves);
	assert_int_equal(tables, 2 + 4 + leaves);
	if (h.reads > 5 * (2 * leaves + 2 * 4 * 512 + 8))
		fail_msg("%zu reads for %zu leaves", h.reads, leaves);
	/* the same range translated one page at a time agrees */
	for (uint64_t a = 0; a < 64 * MiB; a += 4096) {
		struct tdp_tk_xlate x;
		uint64_t g = (1536ull << 39) + a;
		bool mapped = a % (4 * MiB + 12 * KiB) == 0;

		assert_int_equal(tdp_tk_ref_translate(&ref, g, TDP_TK_READ, &x), 0);
		assert_int_equal(x.result, mapped ? TDP_TK_OK : TDP_TK_TRANSLATION_FAULT);
		if (mapped)
			assert_int_equal(x.hpa, 0x100000000ull + a);
	}
}

/* ------------------------------------------------------------------ */
/* The TLB model on a hand-built G-stage table                         */

/* A model TLB over t's table with the 4 KiB and 2 MiB leaves cached. */
static struct tdp_tk_tlb *tlb_of(struct t3 *t)
{
	struct tdp_tk_ref ref = ref_of(&t->h, &t->r);
	struct tdp_tk_tlb *tlb = tdp_tk_tlb_new(16, NULL, 0);

	assert_non_null(tlb);
	tdp_tk_tlb_attach(tlb, &ref);
	assert_int_equal(tdp_tk_tlb_fill(tlb, G4K, TDP_TK_WRITE), 1);
	assert_int_equal(tdp_tk_tlb_fill(tlb, G2M, TDP_TK_READ), 1);
	assert_int_equal(tdp_tk_tlb_check(tlb), 0);
	return tlb;
}

/*
 * RISC-V's levels in the model are libtdp's (a 2 MiB leaf is level 1 for a
 * flush hint), and A (bit 6) / D (bit 7) are the bits the hart updates: A
 * may change under a cached translation, D may not be cleaned.
 */
static void test_tlb_model(void **state)
{
	struct t3 t;
	struct tdp_tk_tlb *tlb;
	struct tdp_tk_tlb_stats st;

	(void)state;
	t3_init(&t, TDP_TK_RISCV_ADUE);
	/* A cleared (aging): not a stale translation */
	tlb = tlb_of(&t);
	hb_set(&t.h, t.l0, 6, L4K & ~P_A);
	hb_set(&t.h, t.l1, 7, L2M & ~P_A);
	assert_int_equal(tdp_tk_tlb_check(tlb), 0);
	tdp_tk_tlb_delete(tlb);
	/* A and D set by the hart after the fill: not stale either */
	hb_set(&t.h, t.l0, 6, L4K);
	hb_set(&t.h, t.l1, 7, L2M & ~(P_A | P_D));
	tlb = tlb_of(&t);
	hb_set(&t.h, t.l1, 7, L2M);
	assert_int_equal(tdp_tk_tlb_check(tlb), 0);
	/* D cleaned without an invalidation: stale */
	hb_set(&t.h, t.l0, 6, L4K & ~P_D);
	assert_int_equal(tdp_tk_tlb_check(tlb), 1);
	tdp_tk_tlb_delete(tlb);
	hb_set(&t.h, t.l0, 6, L4K);

	/* a 2 MiB leaf changed, flushed with level hint 1: dropped, no violation */
	tlb = tlb_of(&t);
	hb_set(&t.h, t.l1, 7, LF(H2M + 2 * MiB, P_RWX));
	tdp_tk_tlb_ops.flush_range(tlb, G2M, 2 * MiB, 1, false);
	tdp_tk_tlb_stats(tlb, &st);
	if (st.violations)
		fail_msg("%s", tdp_tk_tlb_first_violation(tlb));
	assert_int_equal(st.dropped, 1);
	assert_int_equal(tdp_tk_tlb_check(tlb), 0);
	tdp_tk_tlb_delete(tlb);
	/* ... with hint 0 (4 KiB leaves only) the changed 2 MiB leaf is a wrong hint */
	hb_set(&t.h, t.l1, 7, L2M);
	tlb = tlb_of(&t);
	hb_set(&t.h, t.l1, 7, LF(H2M + 2 * MiB, P_RWX));
	tdp_tk_tlb_ops.flush_range(tlb, G2M, 2 * MiB, 0, false);
	tdp_tk_tlb_stats(tlb, &st);
	assert_int_equal(st.violations, 1);
	assert_non_null(strstr(tdp_tk_tlb_first_violation(tlb), "wrong TTL hint"));
	tdp_tk_tlb_delete(tlb);
	/* a 4 KiB leaf changed under hint 0: fine */
	hb_set(&t.h, t.l1, 7, L2M);
	tlb = tlb_of(&t);
	hb_set(&t.h, t.l0, 6, LF(H4K + 4096, P_RW));
	tdp_tk_tlb_ops.flush_range(tlb, G4K, 4096, 0, false);
	assert_int_equal(tdp_tk_tlb_check(tlb), 0);
	tdp_tk_tlb_delete(tlb);
}

/* ------------------------------------------------------------------ */
/* tdp_tk_ref_for on a libtdp G-stage table                            */

static void test_ref_for(void **state)
{
	static const struct {
		unsigned int ia, oa;
		uint32_t flags, features;
	} tab[] = {
		{ 41, 44, 0, 0 },
		{ 50, 56, TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_SVNAPOT,
		  TDP_TK_RISCV_SVPBMT | TDP_TK_RISCV_SVNAPOT },
		{ 59, 40, TDP_CFG_RISCV_SVADU, TDP_TK_RISCV_ADUE },
		{ 41, 32, TDP_CFG_RISCV_SVADU | TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_SVVPTC,
		  TDP_TK_RISCV_ADUE | TDP_TK_RISCV_SVPBMT },
	};
	struct tdp_tk_pool *pool = tdp_tk_pool_new(0x40000000, 16u << 20);

	(void)state;
	assert_non_null(pool);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct tdp_config cfg = { .format = TDP_FORMAT_RISCV_G, .ia_bits = tab[i].ia,
					  .oa_bits = tab[i].oa, .flags = tab[i].flags };
		struct tdp_pgtable pgt;
		struct tdp_tk_ref ref;
		struct tdp_tk_mem mem = tdp_tk_pool_mem(pool);
		struct tdp_tk_xlate x;
		uint64_t hgatp;
		int levels = tab[i].ia == 41 ? 3 : tab[i].ia == 50 ? 4 : 5;

		tdp_tk_pool_config(pool, &cfg);
		cfg.tlb = &nop_tlb;
		assert_int_equal(tdp_pgtable_init(&pgt, &cfg), 0);
		assert_int_equal(tdp_tk_ref_for(&ref, &pgt, &mem), 0);
		assert_int_equal(ref.format, TDP_FORMAT_RISCV_G);
		assert_int_equal(tdp_riscv_hgatp(&pgt, 0, &hgatp), 0);
		assert_int_equal(ref.regs.riscv.hgatp, hgatp);
		/* HGATP by hand: MODE, VMID 0, the root's PPN (16 KiB aligned) */
		assert_int_equal(pgt.root_pa & 16383, 0);
		assert_int_equal(hgatp, (uint64_t)(levels + 5) << 60 | pgt.root_pa >> 12);
		assert_int_equal(ref.regs.riscv.features, tab[i].features);
		assert_int_equal(ref.regs.riscv.pa_bits, tab[i].oa);
		/* an empty table: V = 0 at the root, which is the one table read */
		assert_int_equal(tdp_tk_ref_translate(&ref, 0x12345000, TDP_TK_READ, &x), 0);
		assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
		assert_int_equal(x.level, levels - 1);
		assert_int_equal(x.nr_tables, 1);
		assert_int_equal(x.tables[0], pgt.root_pa);
		/* a page mapped by the library translates for every access it grants */
		assert_int_equal(tdp_map(&pgt, 0x12345000, 0x9000, 4096, TDP_PROT_RW | WB, 0, NULL),
				 0);
		assert_int_equal(tdp_tk_ref_translate(&ref, 0x12345678, TDP_TK_WRITE, &x), 0);
		if (x.result != TDP_TK_OK)
			fail_msg("config %zu: result %d (%s)", i, x.result, x.why);
		assert_int_equal(x.hpa, 0x9678);
		assert_int_equal(x.level, 0);
		assert_int_equal(x.nr_tables, (unsigned int)levels);
		assert_int_equal(x.attr, TDP_PROT_RW | WB);
		assert_int_equal(tdp_tk_ref_translate(&ref, 0x12345678, TDP_TK_EXEC, &x), 0);
		assert_int_equal(x.result, TDP_TK_PERMISSION_FAULT);
		assert_int_equal(tdp_pgtable_destroy(&pgt), 0);
	}
	tdp_tk_pool_delete(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_sv39x4),
		cmocka_unit_test(test_walk_sv48x4),
		cmocka_unit_test(test_walk_sv57x4),
		cmocka_unit_test(test_gpa_width),
		cmocka_unit_test(test_not_valid),
		cmocka_unit_test(test_rwx_encodings),
		cmocka_unit_test(test_leaf_u_clear),
		cmocka_unit_test(test_pointer_bits),
		cmocka_unit_test(test_pointer_address_size),
		cmocka_unit_test(test_leaf_reserved),
		cmocka_unit_test(test_pbmt),
		cmocka_unit_test(test_misaligned),
		cmocka_unit_test(test_address_size),
		cmocka_unit_test(test_napot_valid),
		cmocka_unit_test(test_napot_encodings),
		cmocka_unit_test(test_napot_group),
		cmocka_unit_test(test_access_dirty),
		cmocka_unit_test(test_hgatp),
		cmocka_unit_test(test_external_abort),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_front),
		cmocka_unit_test(test_leaves_root_runs),
		cmocka_unit_test(test_leaves_sparse),
		cmocka_unit_test(test_tlb_model),
		cmocka_unit_test(test_ref_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
