/* SPDX-License-Identifier: MIT */
/*
 * The Intel EPT reference walker on hand-built tables (no libtdp table):
 * 4- and 5-level walks with 4 KiB, 2 MiB and 1 GiB pages, EPT violations
 * (not present at every level, each permission missing at the leaf and
 * above it), every misconfiguration, MBEC, execute-only, suppress-#VE
 * entries, the EPTP, the GPA width, external aborts, pte_pa (also the
 * arm64 walker's), and the format-neutral front (tdp_tk_ref_translate,
 * tdp_tk_ref_leaves, tdp_tk_ref_for). Entry and EPTP values are composed
 * here by hand from docs/formats.md §E.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <tdp/testkit.h>
#include <tdp/x86.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ULL(x) ((unsigned long long)(x))
#define KiB    (1ull << 10)
#define MiB    (1ull << 20)
#define GiB    (1ull << 30)

#include "hand_mem.h"

/* ------------------------------------------------------------------ */
/* Entries and EPTP by hand (docs/formats.md §E.2, §E.6)               */

#define E_R    (1ull << 0)
#define E_W    (1ull << 1)
#define E_X    (1ull << 2)
#define E_RW   (E_R | E_W)
#define E_RX   (E_R | E_X)
#define E_RWX  (E_R | E_W | E_X)
#define EMT(t) ((uint64_t)(t) << 3)
#define IPAT   (1ull << 6)
#define PS     (1ull << 7)
#define ACC    (1ull << 8)
#define DIRTY  (1ull << 9)
#define XU     (1ull << 10)
#define SVE    (1ull << 63)
#define SWB(v) ((uint64_t)(v) << 52)
#define WB     EMT(6)

#define CAPS_ALL (TDP_TK_X86_CAP_2M | TDP_TK_X86_CAP_1G)
#define PA0      0x80000000ull

/* WB for the paging structures, walk length - 1, the root */
static uint64_t eptp_of(uint64_t root, int levels)
{
	return root | 6 | (uint64_t)(levels - 1) << 3;
}

static struct tdp_tk_x86_regs regs_of(uint64_t eptp, uint32_t caps, unsigned int mpa)
{
	struct tdp_tk_x86_regs r = { eptp, caps, mpa };

	return r;
}

/* Index of gpa in the table at `level` (1 = PT ... 5 = PML5). */
static size_t ix(uint64_t gpa, int level)
{
	return (size_t)(gpa >> (12 + 9 * (level - 1))) & 511;
}

static void walk(const struct hb *h, const struct tdp_tk_x86_regs *r, uint64_t gpa,
		 unsigned int access, struct tdp_tk_xlate *x)
{
	memset(x, 0xa5, sizeof(*x));
	assert_int_equal(tdp_tk_ref_ept(&h->mem, r, gpa, access, x), 0);
}

static void expect_ok(const struct hb *h, const struct tdp_tk_x86_regs *r, uint64_t gpa,
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

static void expect_res(const struct hb *h, const struct tdp_tk_x86_regs *r, uint64_t gpa,
		       unsigned int access, enum tdp_tk_result res, int level, const char *why)
{
	struct tdp_tk_xlate x;

	walk(h, r, gpa, access, &x);
	check_res(&x, gpa, access, res, level, why);
}

/*
 * A 4-level table with MAXPHYADDR 46: the path PML4[3] -> PDPT[4] -> PD[5]
 * -> PT[6] to a 4 KiB page at G4K, a 2 MiB page at PD[7] and a 1 GiB page
 * at PDPT[8].
 */
struct t4 {
	struct hb h;
	struct tdp_tk_x86_regs r;
	uint64_t pml4, pdpt, pd, pt;
};

#define G4K  ((3ull << 39) | (4ull << 30) | (5ull << 21) | (6ull << 12))
#define G2M  ((3ull << 39) | (4ull << 30) | (7ull << 21))
#define G1G  ((3ull << 39) | (8ull << 30))
#define H4K  0x123456000ull
#define H2M  0x2345600000ull
#define H1G  0x3c40000000ull
#define L4K  (H4K | E_RWX | WB)
#define L2M  (H2M | PS | E_RWX | WB)
#define L1G  (H1G | PS | E_RWX | WB)

static void t4_init(struct t4 *t, uint32_t caps)
{
	hb_init(&t->h, PA0);
	t->pml4 = hb_table(&t->h, 4096);
	t->pdpt = hb_table(&t->h, 4096);
	t->pd = hb_table(&t->h, 4096);
	t->pt = hb_table(&t->h, 4096);
	hb_set(&t->h, t->pml4, 3, t->pdpt | E_RWX);
	hb_set(&t->h, t->pdpt, 4, t->pd | E_RWX);
	hb_set(&t->h, t->pd, 5, t->pt | E_RWX);
	hb_set(&t->h, t->pt, 6, L4K);
	hb_set(&t->h, t->pd, 7, L2M);
	hb_set(&t->h, t->pdpt, 8, L1G);
	t->r = regs_of(eptp_of(t->pml4, 4), caps, 46);
}

/* ------------------------------------------------------------------ */
/* Walks                                                               */

static void test_walk_4level(void **state)
{
	struct t4 t;
	struct tdp_tk_xlate x;

	(void)state;
	t4_init(&t, CAPS_ALL);
	assert_int_equal(t.r.eptp, PA0 | 0x1e); /* WB (6), walk length 4 - 1 in bits 5:3 */

	/* 4 KiB page at level 1 */
	expect_ok(&t.h, &t.r, G4K + 0xabc, TDP_TK_READ, 1, 4096, H4K + 0xabc,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	walk(&t.h, &t.r, G4K + 0xabc, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 4);
	assert_int_equal(x.tables[0], t.pml4);
	assert_int_equal(x.tables[1], t.pdpt);
	assert_int_equal(x.tables[2], t.pd);
	assert_int_equal(x.tables[3], t.pt);
	for (unsigned int i = 4; i < TDP_MAX_LEVELS + 1; i++)
		assert_int_equal(x.tables[i], 0);
	assert_int_equal(x.pte, L4K);
	assert_int_equal(x.pte_pa, t.pt + 6 * 8);
	assert_int_equal(t.h.last_pa, t.pt);
	assert_int_equal(t.h.last_size, 4096);

	/* 2 MiB page at level 2 */
	expect_ok(&t.h, &t.r, G2M + 0x12345, TDP_TK_WRITE, 2, 2 * MiB, H2M + 0x12345,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	walk(&t.h, &t.r, G2M + 2 * MiB - 1, TDP_TK_EXEC, &x);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.hpa, H2M + 2 * MiB - 1);
	assert_int_equal(x.nr_tables, 3);
	assert_int_equal(x.tables[2], t.pd);
	assert_int_equal(x.tables[3], 0);
	assert_int_equal(x.pte, L2M);
	assert_int_equal(x.pte_pa, t.pd + 7 * 8);

	/* 1 GiB page at level 3 */
	expect_ok(&t.h, &t.r, G1G + 0x3fffffff, TDP_TK_EXEC | TDP_TK_USER, 3, GiB,
		  H1G + 0x3fffffff, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	walk(&t.h, &t.r, G1G, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 2);
	assert_int_equal(x.pte_pa, t.pdpt + 8 * 8);
	assert_int_equal(x.span_base, G1G);

	/* bit 7 of a PTE is ignored: still a 4 KiB page */
	hb_set(&t.h, t.pt, 6, L4K | PS);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	/* the top of the 48-bit space */
	hb_set(&t.h, t.pml4, 511, t.pdpt | E_RWX);
	hb_set(&t.h, t.pdpt, 511, (5 * GiB) | PS | E_R | WB);
	expect_ok(&t.h, &t.r, (1ull << 48) - 1, TDP_TK_READ, 3, GiB, 6 * GiB - 1,
		  TDP_PROT_R | TDP_MT_NORMAL_WB);
}

static void test_walk_5level(void **state)
{
	struct hb h;
	struct tdp_tk_x86_regs r;
	struct tdp_tk_xlate x;
	uint64_t pml5, pml4, pdpt, pd, pt;
	uint64_t g = (300ull << 48) | (2ull << 39) | (3ull << 30) | (4ull << 21) | (5ull << 12);

	(void)state;
	hb_init(&h, PA0);
	pml5 = hb_table(&h, 4096);
	pml4 = hb_table(&h, 4096);
	pdpt = hb_table(&h, 4096);
	pd = hb_table(&h, 4096);
	pt = hb_table(&h, 4096);
	r = regs_of(eptp_of(pml5, 5), CAPS_ALL, 52);
	assert_int_equal(r.eptp, PA0 | 0x26); /* walk length 5 - 1 */

	hb_set(&h, pml5, 300, pml4 | E_RWX);
	hb_set(&h, pml4, 2, pdpt | E_RWX);
	hb_set(&h, pdpt, 3, pd | E_RWX);
	hb_set(&h, pd, 4, pt | E_RWX);
	/* a 4 KiB page above 2^46 (MAXPHYADDR 52) */
	hb_set(&h, pt, 5, (0xfedcba987000ull << 4) | E_RW | WB);
	expect_ok(&h, &r, g + 0x777, TDP_TK_WRITE, 1, 4096, (0xfedcba987000ull << 4) + 0x777,
		  TDP_PROT_RW | TDP_MT_NORMAL_WB);
	walk(&h, &r, g, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 5);
	assert_int_equal(x.tables[0], pml5);
	assert_int_equal(x.tables[1], pml4);
	assert_int_equal(x.tables[4], pt);
	assert_int_equal(x.tables[5], 0);
	assert_int_equal(x.pte_pa, pt + 5 * 8);
	/* 2 MiB and 1 GiB pages */
	hb_set(&h, pd, 9, (7 * GiB + 2 * MiB) | PS | E_RX | WB);
	expect_ok(&h, &r, (g & ~(GiB - 1)) + 9 * 2 * MiB + 5, TDP_TK_EXEC, 2, 2 * MiB,
		  7 * GiB + 2 * MiB + 5, TDP_PROT_RX | TDP_MT_NORMAL_WB);
	hb_set(&h, pdpt, 10, (1ull << 51) | PS | E_RWX | WB);
	expect_ok(&h, &r, (300ull << 48) | (2ull << 39) | (10ull << 30) | 12345, TDP_TK_READ, 3,
		  GiB, (1ull << 51) + 12345, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	/* not present at the PML5 and PML4 levels */
	expect_res(&h, &r, 299ull << 48, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 5, "not present");
	walk(&h, &r, 299ull << 48, TDP_TK_READ, &x);
	assert_int_equal(x.span_base, 299ull << 48);
	assert_int_equal(x.span_size, 1ull << 48);
	assert_int_equal(x.nr_tables, 1);
	assert_int_equal(x.pte_pa, pml5 + 299 * 8);
	expect_res(&h, &r, 300ull << 48, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 4, "not present");
	/* the same table as a 4-level root: the GPA is too wide */
	r.eptp = eptp_of(pml5, 4);
	expect_res(&h, &r, g, TDP_TK_READ, TDP_TK_TRANSLATION_FAULT, 4, "48-bit");
	/* PML4E bits 7:3 are reserved, and so are a PML5E's */
	r.eptp = eptp_of(pml5, 5);
	hb_set(&h, pml5, 300, pml4 | E_RWX | PS);
	expect_res(&h, &r, g, TDP_TK_READ, TDP_TK_EPT_MISCONFIG, 5, "reserved bits 0x80");
}

/* GPA width: 48 bits with 4 levels, 57 with 5; faults at the root level. */
static void test_gpa_width(void **state)
{
	struct t4 t;
	struct tdp_tk_xlate x;
	uint64_t pml5;

	(void)state;
	t4_init(&t, CAPS_ALL);
	t.h.reads = 0;
	walk(&t.h, &t.r, 1ull << 48, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 4);
	assert_int_equal(x.span_base, 1ull << 48);
	assert_int_equal(x.span_size, 0 - (1ull << 48));
	assert_int_equal(x.nr_tables, 0);
	assert_int_equal(x.pte, 0);
	assert_int_equal(x.pte_pa, 0);
	assert_int_equal(t.h.reads, 0);
	assert_non_null(strstr(x.why, "48-bit"));
	expect_res(&t.h, &t.r, ~0ull, TDP_TK_PROBE, TDP_TK_TRANSLATION_FAULT, 4, "width");
	/* just below: walked (not present at the PML4) */
	expect_res(&t.h, &t.r, (1ull << 48) - 1, TDP_TK_PROBE, TDP_TK_TRANSLATION_FAULT, 4,
		   "not present");
	walk(&t.h, &t.r, (1ull << 48) - 1, TDP_TK_PROBE, &x);
	assert_int_equal(x.nr_tables, 1);
	assert_int_equal(x.span_base, 511ull << 39);

	pml5 = hb_table(&t.h, 4096);
	hb_set(&t.h, pml5, 511, t.pml4 | E_RWX);
	t.r.eptp = eptp_of(pml5, 5);
	walk(&t.h, &t.r, 1ull << 57, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.level, 5);
	assert_int_equal(x.span_base, 1ull << 57);
	assert_int_equal(x.span_size, 0 - (1ull << 57));
	assert_int_equal(x.nr_tables, 0);
	assert_non_null(strstr(x.why, "57-bit"));
	/* 2^57 - 4 KiB + G4K's low bits walks through PML5[511] into the 4-level table */
	expect_ok(&t.h, &t.r, (511ull << 48) | G4K | 1, TDP_TK_READ, 1, 4096, H4K + 1,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
}

/* ------------------------------------------------------------------ */
/* EPT violations                                                      */

/* Not present at every level; bits 63:3 of a not-present entry change nothing. */
static void test_not_present(void **state)
{
	static const uint64_t junk[] = {
		0,
		SVE,                        /* suppress #VE only */
		~7ull,                      /* every bit but 2:0: reserved bits, PS, EMT 7, XU */
		0x123456000ull | WB | PS,   /* a page address without permissions */
		XU,                         /* user-execute without MBEC */
		EMT(2) | SVE | SWB(0xf),
	};
	struct t4 t;
	struct tdp_tk_xlate x;
	struct {
		uint64_t table;
		size_t idx;
		int level;
		uint64_t span;
	} at[4];

	(void)state;
	t4_init(&t, CAPS_ALL);
	at[0].table = t.pml4, at[0].idx = 3, at[0].level = 4, at[0].span = 512 * GiB;
	at[1].table = t.pdpt, at[1].idx = 4, at[1].level = 3, at[1].span = GiB;
	at[2].table = t.pd, at[2].idx = 5, at[2].level = 2, at[2].span = 2 * MiB;
	at[3].table = t.pt, at[3].idx = 6, at[3].level = 1, at[3].span = 4096;
	for (size_t l = 0; l < 4; l++) {
		uint64_t keep = arena[(at[l].table - t.h.base) / 8 + at[l].idx];

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
				assert_non_null(strstr(x.why, "not present"));
			}
		}
		hb_set(&t.h, at[l].table, at[l].idx, keep);
	}
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	/* bit 63 is ignored in a present entry too */
	hb_set(&t.h, t.pt, 6, L4K | SVE);
	hb_set(&t.h, t.pd, 5, t.pt | E_RWX | SVE);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	/* with MBEC, bit 10 alone makes an entry present */
	t.r.caps |= TDP_TK_X86_MBEC | TDP_TK_X86_CAP_EXEC_ONLY;
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX | XU);
	hb_set(&t.h, t.pdpt, 4, t.pd | E_RWX | XU);
	hb_set(&t.h, t.pd, 5, t.pt | XU);
	hb_set(&t.h, t.pt, 6, H4K | XU | WB);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, 1, 4096, H4K,
		  TDP_PROT_XU | TDP_MT_NORMAL_WB);
	t.r.caps &= ~TDP_TK_X86_MBEC;
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, TDP_TK_TRANSLATION_FAULT, 2,
		   "not present");
	hb_set(&t.h, t.pd, 5, t.pt | E_RWX | XU);
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, TDP_TK_TRANSLATION_FAULT, 1,
		   "not present");
}

/* R, W and X each missing at the leaf, for every access kind and leaf size. */
static void test_permissions_leaf(void **state)
{
	static const struct {
		uint64_t xwr;
		tdp_attr_t prot;
	} tab[] = {
		{ E_R, TDP_PROT_R },
		{ E_RW, TDP_PROT_RW },
		{ E_RX, TDP_PROT_RX },
		{ E_RWX, TDP_PROT_RWX },
	};
	struct t4 t;
	struct tdp_tk_xlate x;
	static const struct {
		uint64_t gpa, hpa, extra, span;
		size_t idx;
		int level;
	} leaves[3] = {
		{ G4K, H4K, 0, 4096, 6, 1 },
		{ G2M, H2M, PS, 2 * MiB, 7, 2 },
		{ G1G, H1G, PS, GiB, 8, 3 },
	};
	uint64_t tables[3];

	(void)state;
	t4_init(&t, CAPS_ALL);
	tables[0] = t.pt;
	tables[1] = t.pd;
	tables[2] = t.pdpt;
	for (size_t l = 0; l < 3; l++) {
		for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
			uint64_t e = leaves[l].hpa | leaves[l].extra | tab[i].xwr | WB;
			tdp_attr_t a = tab[i].prot | TDP_MT_NORMAL_WB;
			bool r = tab[i].xwr & E_R, w = tab[i].xwr & E_W, xx = tab[i].xwr & E_X;
			uint64_t gpa = leaves[l].gpa + 0x88;

			hb_set(&t.h, tables[l], leaves[l].idx, e);
			walk(&t.h, &t.r, gpa, TDP_TK_READ, &x);
			assert_int_equal(x.result, r ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
			walk(&t.h, &t.r, gpa, TDP_TK_WRITE, &x);
			assert_int_equal(x.result, w ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
			if (!w) {
				/* a violation still reports the leaf and what it grants */
				assert_int_equal(x.level, leaves[l].level);
				assert_int_equal(x.span_size, leaves[l].span);
				assert_int_equal(x.hpa, leaves[l].hpa + 0x88);
				assert_int_equal(x.attr, a);
				assert_int_equal(x.pte, e);
				assert_int_equal(x.pte_pa, tables[l] + leaves[l].idx * 8);
				assert_non_null(strstr(x.why, "W (bit 1)"));
			}
			for (unsigned int u = 0; u <= TDP_TK_USER; u += TDP_TK_USER) {
				walk(&t.h, &t.r, gpa, TDP_TK_EXEC | u, &x);
				assert_int_equal(x.result, xx ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
				if (!xx)
					assert_non_null(strstr(x.why, "X (bit 2)"));
			}
			/* PROBE checks nothing */
			expect_ok(&t.h, &t.r, gpa, TDP_TK_PROBE, leaves[l].level, leaves[l].span,
				  leaves[l].hpa + 0x88, a);
		}
	}
	/* the read check names R */
	hb_set(&t.h, t.pt, 6, H4K | E_X | WB);
	t.r.caps |= TDP_TK_X86_CAP_EXEC_ONLY;
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_PERMISSION_FAULT, 1, "R (bit 0)");
}

/* The AND over the walk: a right missing above the leaf is missing. */
static void test_permissions_and(void **state)
{
	/* W or X missing above (R cannot go alone: W without R is a misconfiguration) */
	static const struct {
		uint64_t xwr;
		unsigned int bad; /* the access that must fault */
		const char *why;
	} miss[] = {
		{ E_RX, TDP_TK_WRITE, "W (bit 1)" },
		{ E_RW, TDP_TK_EXEC, "X (bit 2)" },
	};
	struct t4 t;
	struct tdp_tk_xlate x;
	uint64_t upper_tbl[3];
	const size_t upper_idx[3] = { 3, 4, 5 };

	(void)state;
	t4_init(&t, CAPS_ALL | TDP_TK_X86_CAP_EXEC_ONLY);
	upper_tbl[0] = t.pml4;
	upper_tbl[1] = t.pdpt;
	upper_tbl[2] = t.pd;
	for (size_t i = 0; i < 2; i++) {
		for (size_t u = 0; u < 3; u++) {
			uint64_t next = arena[(upper_tbl[u] - t.h.base) / 8 + upper_idx[u]];
			tdp_attr_t a = (miss[i].xwr & E_W ? TDP_PROT_RW : TDP_PROT_RX) |
				       TDP_MT_NORMAL_WB;

			hb_set(&t.h, upper_tbl[u], upper_idx[u], (next & ~7ull) | miss[i].xwr);
			walk(&t.h, &t.r, G4K, miss[i].bad, &x);
			assert_int_equal(x.result, TDP_TK_PERMISSION_FAULT);
			assert_int_equal(x.level, 1); /* the violation is reported at the leaf */
			assert_int_equal(x.pte, L4K);
			assert_int_equal(x.pte_pa, t.pt + 6 * 8);
			assert_int_equal(x.attr, a);
			assert_non_null(strstr(x.why, miss[i].why));
			assert_non_null(strstr(x.why, u == 0 ? "in the PML4E" :
						 u == 1 ? "in the PDPTE" : "in the PDE"));
			/* the other rights pass */
			walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
			assert_int_equal(x.result, TDP_TK_OK);
			assert_int_equal(x.attr, a);
			hb_set(&t.h, upper_tbl[u], upper_idx[u], next);
		}
	}
	/* R missing above: an execute-only PML4E (legal with the capability) */
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_X);
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_PERMISSION_FAULT, 1, "R (bit 0)");
	expect_res(&t.h, &t.r, G4K, TDP_TK_WRITE, TDP_TK_PERMISSION_FAULT, 1, "PML4E");
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC, 1, 4096, H4K, TDP_PROT_X | TDP_MT_NORMAL_WB);
	/* rights removed at different levels add up: RW . RX . RWX . RWX = R */
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RW);
	hb_set(&t.h, t.pdpt, 4, t.pd | E_RX);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K, TDP_PROT_R | TDP_MT_NORMAL_WB);
	expect_res(&t.h, &t.r, G4K, TDP_TK_WRITE, TDP_TK_PERMISSION_FAULT, 1, "PDPTE");
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC, TDP_TK_PERMISSION_FAULT, 1, "PML4E");
	/* ... and reach a 2 MiB page too */
	expect_ok(&t.h, &t.r, G2M, TDP_TK_PROBE, 2, 2 * MiB, H2M, TDP_PROT_R | TDP_MT_NORMAL_WB);
	/* the 1 GiB page sits under the PML4E only */
	expect_ok(&t.h, &t.r, G1G, TDP_TK_WRITE, 3, GiB, H1G, TDP_PROT_RW | TDP_MT_NORMAL_WB);
}

/* ------------------------------------------------------------------ */
/* Misconfigurations                                                   */

static void test_misconfig_xwr(void **state)
{
	struct t4 t;
	struct tdp_tk_xlate x;
	uint64_t tbl[4];
	size_t idx[4] = { 3, 4, 5, 6 };

	(void)state;
	t4_init(&t, CAPS_ALL);
	tbl[0] = t.pml4;
	tbl[1] = t.pdpt;
	tbl[2] = t.pd;
	tbl[3] = t.pt;
	for (size_t l = 0; l < 4; l++) {
		uint64_t keep = arena[(tbl[l] - t.h.base) / 8 + idx[l]];
		int level = 4 - (int)l;

		/* W without R: 010 and 110, for every access, PROBE included */
		hb_set(&t.h, tbl[l], idx[l], (keep & ~7ull) | E_W);
		expect_res(&t.h, &t.r, G4K, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, level,
			   "write without read");
		walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
		assert_int_equal(x.result, TDP_TK_EPT_MISCONFIG);
		assert_int_equal(x.pte, (keep & ~7ull) | E_W);
		assert_int_equal(x.pte_pa, tbl[l] + idx[l] * 8);
		assert_int_equal(x.nr_tables, l + 1);
		hb_set(&t.h, tbl[l], idx[l], (keep & ~7ull) | E_W | E_X);
		expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC, TDP_TK_EPT_MISCONFIG, level,
			   "write without read");
		/* execute-only without the capability */
		hb_set(&t.h, tbl[l], idx[l], (keep & ~7ull) | E_X);
		expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC, TDP_TK_EPT_MISCONFIG, level,
			   "execute-only");
		/* with it: fine */
		t.r.caps |= TDP_TK_X86_CAP_EXEC_ONLY;
		expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC, 1, 4096, H4K, TDP_PROT_X | TDP_MT_NORMAL_WB);
		expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_PERMISSION_FAULT, 1, "R (bit 0)");
		/* W without R stays a misconfiguration with the capability */
		hb_set(&t.h, tbl[l], idx[l], (keep & ~7ull) | E_W | E_X);
		expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC, TDP_TK_EPT_MISCONFIG, level,
			   "write without read");
		t.r.caps &= ~TDP_TK_X86_CAP_EXEC_ONLY;
		hb_set(&t.h, tbl[l], idx[l], keep);
	}
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
}

/* Reserved bits, page-size bits, low address bits of large pages, memory types. */
static void test_misconfig_reserved(void **state)
{
	struct t4 t;
	struct tdp_tk_xlate x;

	(void)state;
	t4_init(&t, CAPS_ALL);
	/* bits 51:MAXPHYADDR at every level (MAXPHYADDR 46) */
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX | (1ull << 46));
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EPT_MISCONFIG, 4, "MAXPHYADDR");
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX | (1ull << 51));
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EPT_MISCONFIG, 4, "0x8000000000000");
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX);
	hb_set(&t.h, t.pdpt, 4, t.pd | E_RWX | (1ull << 50));
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EPT_MISCONFIG, 3, "MAXPHYADDR");
	hb_set(&t.h, t.pdpt, 4, t.pd | E_RWX);
	hb_set(&t.h, t.pd, 5, t.pt | E_RWX | (1ull << 47));
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EPT_MISCONFIG, 2, "MAXPHYADDR");
	hb_set(&t.h, t.pd, 5, t.pt | E_RWX);
	hb_set(&t.h, t.pt, 6, L4K | (1ull << 48));
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EPT_MISCONFIG, 1, "MAXPHYADDR");
	hb_set(&t.h, t.pd, 7, L2M | (1ull << 49));
	expect_res(&t.h, &t.r, G2M, TDP_TK_READ, TDP_TK_EPT_MISCONFIG, 2, "MAXPHYADDR");
	hb_set(&t.h, t.pdpt, 8, L1G | (1ull << 46));
	expect_res(&t.h, &t.r, G1G, TDP_TK_READ, TDP_TK_EPT_MISCONFIG, 3, "MAXPHYADDR");
	/* bit 45 is an address bit; bits 52 and up are ignored */
	hb_set(&t.h, t.pt, 6, L4K | (1ull << 45) | (0xfffull << 52));
	walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.hpa, H4K | (1ull << 45));
	/* with MAXPHYADDR 52 no bit below 52 is reserved: bit 51 is an address */
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX | (1ull << 51));
	t.r.maxphyaddr = 52;
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EXTERNAL_ABORT, 3, "cannot be read");
	t.r.maxphyaddr = 46;
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX);
	hb_set(&t.h, t.pt, 6, L4K);

	/* PML4E bits 7:3, each */
	for (unsigned int b = 3; b <= 7; b++) {
		hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX | (1ull << b));
		expect_res(&t.h, &t.r, G4K, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 4, "reserved");
	}
	/* bits 11:8 of a PML4E are ignored (A, and bit 10 without MBEC) */
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX | (0xfull << 8));
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX);
	/* bits 6:3 of a non-leaf PDPTE and PDE, each */
	for (unsigned int b = 3; b <= 6; b++) {
		hb_set(&t.h, t.pdpt, 4, t.pd | E_RWX | (1ull << b));
		expect_res(&t.h, &t.r, G4K, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 3, "reserved");
		hb_set(&t.h, t.pdpt, 4, t.pd | E_RWX);
		hb_set(&t.h, t.pd, 5, t.pt | E_RWX | (1ull << b));
		expect_res(&t.h, &t.r, G4K, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 2, "reserved");
		hb_set(&t.h, t.pd, 5, t.pt | E_RWX);
	}
	/* bits 6:3 of a PTE are EMT/IPAT, not reserved */
	hb_set(&t.h, t.pt, 6, H4K | E_RWX | EMT(4) | IPAT);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K,
		  TDP_PROT_RWX | TDP_X86_EMT(4) | TDP_X86_IPAT);
	hb_set(&t.h, t.pt, 6, L4K);

	/* low address bits of large pages */
	hb_set(&t.h, t.pd, 7, L2M | (1ull << 12));
	expect_res(&t.h, &t.r, G2M, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 2, "2 MiB");
	hb_set(&t.h, t.pd, 7, L2M | (1ull << 20));
	expect_res(&t.h, &t.r, G2M, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 2, "0x100000");
	hb_set(&t.h, t.pd, 7, L2M | (1ull << 23)); /* bit 23 is clear in H2M */
	expect_ok(&t.h, &t.r, G2M + 3, TDP_TK_PROBE, 2, 2 * MiB, H2M + 8 * MiB + 3,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	hb_set(&t.h, t.pd, 7, L2M);
	hb_set(&t.h, t.pdpt, 8, L1G | (1ull << 12));
	expect_res(&t.h, &t.r, G1G, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 3, "1 GiB");
	hb_set(&t.h, t.pdpt, 8, L1G | (1ull << 29));
	expect_res(&t.h, &t.r, G1G, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 3, "0x20000000");
	hb_set(&t.h, t.pdpt, 8, L1G | (1ull << 21));
	expect_res(&t.h, &t.r, G1G, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 3, "1 GiB");
	hb_set(&t.h, t.pdpt, 8, L1G | (1ull << 31)); /* bit 31 is clear in H1G */
	expect_ok(&t.h, &t.r, G1G, TDP_TK_PROBE, 3, GiB, H1G + 2 * GiB,
		  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	hb_set(&t.h, t.pdpt, 8, L1G);

	/* page-size bit without the capability */
	t.r.caps = TDP_TK_X86_CAP_2M;
	expect_res(&t.h, &t.r, G1G, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 3, "no 1 GiB pages");
	expect_ok(&t.h, &t.r, G2M, TDP_TK_PROBE, 2, 2 * MiB, H2M, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	t.r.caps = TDP_TK_X86_CAP_1G;
	expect_res(&t.h, &t.r, G2M, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 2, "no 2 MiB pages");
	expect_ok(&t.h, &t.r, G1G, TDP_TK_PROBE, 3, GiB, H1G, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	t.r.caps = 0;
	expect_res(&t.h, &t.r, G2M, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 2, "no 2 MiB pages");
	expect_res(&t.h, &t.r, G1G, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 3, "no 1 GiB pages");
	/* 4 KiB pages need no capability */
	expect_ok(&t.h, &t.r, G4K, TDP_TK_PROBE, 1, 4096, H4K, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	t.r.caps = CAPS_ALL;

	/* reserved memory types 2, 3, 7 at every leaf size; valid ones pass */
	for (unsigned int mt = 0; mt < 8; mt++) {
		bool bad = mt == 2 || mt == 3 || mt == 7;
		enum tdp_tk_result want = bad ? TDP_TK_EPT_MISCONFIG : TDP_TK_OK;

		hb_set(&t.h, t.pt, 6, H4K | E_RWX | EMT(mt));
		hb_set(&t.h, t.pd, 7, H2M | PS | E_RWX | EMT(mt) | IPAT);
		hb_set(&t.h, t.pdpt, 8, H1G | PS | E_RWX | EMT(mt));
		walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
		assert_int_equal(x.result, want);
		if (bad) {
			assert_int_equal(x.level, 1);
			assert_non_null(strstr(x.why, "memory type"));
		}
		walk(&t.h, &t.r, G2M, TDP_TK_WRITE, &x);
		assert_int_equal(x.result, want);
		walk(&t.h, &t.r, G1G, TDP_TK_PROBE, &x);
		assert_int_equal(x.result, want);
		if (bad)
			assert_int_equal(x.level, 3);
	}
}

/* ------------------------------------------------------------------ */
/* Attributes                                                          */

/* The attr rule of ref_x86.c: memory type, IPAT (UC + IPAT = strict device), sw bits. */
static void test_attr_memtype(void **state)
{
	static const struct {
		unsigned int emt;
		tdp_attr_t mt;
	} tab[] = {
		{ 0, TDP_MT_DEVICE },
		{ 1, TDP_MT_NORMAL_NC },
		{ 4, TDP_X86_EMT(TDP_X86_EMT_WT) },
		{ 5, TDP_X86_EMT(TDP_X86_EMT_WP) },
		{ 6, TDP_MT_NORMAL_WB },
	};
	struct t4 t;
	struct tdp_tk_xlate x;

	(void)state;
	t4_init(&t, CAPS_ALL);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		for (int ipat = 0; ipat < 2; ipat++) {
			tdp_attr_t want = TDP_PROT_RW | tab[i].mt | (ipat ? TDP_X86_IPAT : 0);

			/* UC with IPAT has one spelling: TDP_MT_DEVICE_STRICT (tdp/x86.h) */
			if (tab[i].emt == 0 && ipat)
				want = TDP_PROT_RW | TDP_MT_DEVICE_STRICT;

			hb_set(&t.h, t.pt, 6, H4K | E_RW | EMT(tab[i].emt) | (ipat ? IPAT : 0));
			expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K, want);
			/* the neutral field is 0 (= WB) exactly when the x86 type says otherwise */
			if ((want & TDP_MT_MASK) == TDP_MT_NORMAL_WB)
				assert_true(tab[i].emt == 6 || (want & TDP_X86_EMT_MASK));
		}
	}
	/* memory type of a 2 MiB and a 1 GiB leaf: theirs, not the tables' */
	hb_set(&t.h, t.pd, 7, H2M | PS | E_R | EMT(5));
	expect_ok(&t.h, &t.r, G2M, TDP_TK_READ, 2, 2 * MiB, H2M, TDP_PROT_R | TDP_X86_EMT(5));
	hb_set(&t.h, t.pdpt, 8, H1G | PS | E_R | EMT(1) | IPAT);
	expect_ok(&t.h, &t.r, G1G, TDP_TK_READ, 3, GiB, H1G,
		  TDP_PROT_R | TDP_MT_NORMAL_NC | TDP_X86_IPAT);
	/* software bits 55:52; A, D, 11, 56..63 are not attributes */
	for (unsigned int v = 0; v < 16; v++) {
		hb_set(&t.h, t.pt, 6, L4K | SWB(v) | ACC | DIRTY | (1ull << 11) | (0xffull << 56));
		expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K,
			  TDP_PROT_RWX | TDP_MT_NORMAL_WB | TDP_SW(v));
	}
	/* bits 52..55 of a table entry are not the leaf's */
	hb_set(&t.h, t.pt, 6, L4K);
	hb_set(&t.h, t.pd, 5, t.pt | E_RWX | SWB(0xf));
	expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
	assert_int_equal(x.attr & TDP_SW_MASK, 0);
}

/* MBEC: bit 2 = supervisor execute, bit 10 = user execute, both ANDed. */
static void test_mbec(void **state)
{
	static const struct {
		uint64_t bits;
		bool sup, user;
		tdp_attr_t x;
	} tab[] = {
		{ E_R, false, false, 0 },
		{ E_RX, true, false, TDP_PROT_XP },
		{ E_R | XU, false, true, TDP_PROT_XU },
		{ E_RX | XU, true, true, TDP_PROT_X },
	};
	struct t4 t;
	struct tdp_tk_xlate x;

	(void)state;
	t4_init(&t, CAPS_ALL | TDP_TK_X86_MBEC);
	/* the tables grant everything, XU included */
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX | XU);
	hb_set(&t.h, t.pdpt, 4, t.pd | E_RWX | XU);
	hb_set(&t.h, t.pd, 5, t.pt | E_RWX | XU);
	for (size_t i = 0; i < 4; i++) {
		hb_set(&t.h, t.pt, 6, H4K | WB | tab[i].bits);
		walk(&t.h, &t.r, G4K, TDP_TK_EXEC, &x);
		assert_int_equal(x.result, tab[i].sup ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
		assert_int_equal(x.attr, TDP_PROT_R | tab[i].x | TDP_MT_NORMAL_WB);
		if (!tab[i].sup)
			assert_non_null(strstr(x.why, "supervisor"));
		walk(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, &x);
		assert_int_equal(x.result, tab[i].user ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT);
		if (!tab[i].user)
			assert_non_null(strstr(x.why, "XU (bit 10)"));
		/* reads and writes do not care */
		walk(&t.h, &t.r, G4K, TDP_TK_READ | TDP_TK_USER, &x);
		assert_int_equal(x.result, TDP_TK_OK);
	}
	/* XU cleared in a table entry: user fetches fault, supervisor ones do not */
	hb_set(&t.h, t.pt, 6, H4K | WB | E_RWX | XU);
	hb_set(&t.h, t.pdpt, 4, t.pd | E_RWX);
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, TDP_TK_PERMISSION_FAULT, 1, "PDPTE");
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC, 1, 4096, H4K, TDP_PROT_RWX & ~TDP_PROT_XU);
	/* X cleared in a table entry, XU kept */
	hb_set(&t.h, t.pdpt, 4, t.pd | E_RWX | XU);
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RW | XU);
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC, TDP_TK_PERMISSION_FAULT, 1, "PML4E");
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, 1, 4096, H4K,
		  TDP_PROT_RW | TDP_PROT_XU | TDP_MT_NORMAL_WB);

	/* without MBEC bit 10 is ignored and X covers both modes */
	t.r.caps &= ~TDP_TK_X86_MBEC;
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX);
	hb_set(&t.h, t.pt, 6, H4K | WB | E_RX);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, 1, 4096, H4K,
		  TDP_PROT_RX | TDP_MT_NORMAL_WB);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC, 1, 4096, H4K, TDP_PROT_RX | TDP_MT_NORMAL_WB);
	hb_set(&t.h, t.pt, 6, H4K | WB | E_R | XU);
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, TDP_TK_PERMISSION_FAULT, 1,
		   "X (bit 2)");
	walk(&t.h, &t.r, G4K, TDP_TK_PROBE, &x);
	assert_int_equal(x.attr, TDP_PROT_R | TDP_MT_NORMAL_WB);
}

/* Execute-only entries, with and without the capability, with MBEC's bit 10. */
static void test_exec_only(void **state)
{
	struct t4 t;
	struct tdp_tk_xlate x;

	(void)state;
	t4_init(&t, CAPS_ALL);
	hb_set(&t.h, t.pt, 6, H4K | WB | E_X);
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC, TDP_TK_EPT_MISCONFIG, 1, "execute-only");
	expect_res(&t.h, &t.r, G4K, TDP_TK_PROBE, TDP_TK_EPT_MISCONFIG, 1, "capability");
	hb_set(&t.h, t.pd, 7, H2M | PS | WB | E_X);
	expect_res(&t.h, &t.r, G2M, TDP_TK_EXEC, TDP_TK_EPT_MISCONFIG, 2, "execute-only");

	t.r.caps |= TDP_TK_X86_CAP_EXEC_ONLY;
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC, 1, 4096, H4K, TDP_PROT_X | TDP_MT_NORMAL_WB);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, 1, 4096, H4K,
		  TDP_PROT_X | TDP_MT_NORMAL_WB);
	walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_PERMISSION_FAULT);
	assert_int_equal(x.attr, TDP_PROT_X | TDP_MT_NORMAL_WB);
	expect_res(&t.h, &t.r, G4K, TDP_TK_WRITE, TDP_TK_PERMISSION_FAULT, 1, "W (bit 1)");
	expect_ok(&t.h, &t.r, G2M, TDP_TK_EXEC, 2, 2 * MiB, H2M, TDP_PROT_X | TDP_MT_NORMAL_WB);

	/* MBEC: user-execute-only (bit 10 alone) is execute-only too */
	t.r.caps = CAPS_ALL | TDP_TK_X86_MBEC;
	hb_set(&t.h, t.pml4, 3, t.pdpt | E_RWX | XU);
	hb_set(&t.h, t.pdpt, 4, t.pd | E_RWX | XU);
	hb_set(&t.h, t.pd, 5, t.pt | E_RWX | XU);
	hb_set(&t.h, t.pt, 6, H4K | WB | XU);
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, TDP_TK_EPT_MISCONFIG, 1,
		   "user-execute-only");
	hb_set(&t.h, t.pt, 6, H4K | WB | E_X);
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC, TDP_TK_EPT_MISCONFIG, 1, "execute-only");
	t.r.caps |= TDP_TK_X86_CAP_EXEC_ONLY;
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC, 1, 4096, H4K, TDP_PROT_XP | TDP_MT_NORMAL_WB);
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, TDP_TK_PERMISSION_FAULT, 1, "XU");
	hb_set(&t.h, t.pt, 6, H4K | WB | XU);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, 1, 4096, H4K,
		  TDP_PROT_XU | TDP_MT_NORMAL_WB);
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC, TDP_TK_PERMISSION_FAULT, 1, "X (bit 2)");
	/* a user-execute-only table entry (bit 10 alone) */
	hb_set(&t.h, t.pt, 6, L4K | XU);
	hb_set(&t.h, t.pd, 5, t.pt | XU);
	expect_ok(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, 1, 4096, H4K,
		  TDP_PROT_XU | TDP_MT_NORMAL_WB);
	t.r.caps &= ~TDP_TK_X86_CAP_EXEC_ONLY;
	expect_res(&t.h, &t.r, G4K, TDP_TK_EXEC | TDP_TK_USER, TDP_TK_EPT_MISCONFIG, 2,
		   "user-execute-only");
}

/* ------------------------------------------------------------------ */
/* EPTP                                                                */

static void test_eptp(void **state)
{
	struct t4 t;
	struct tdp_tk_xlate x;

	(void)state;
	t4_init(&t, CAPS_ALL);
	/* valid: memory type 0 or 6, A/D on or off */
	for (int mt = 0; mt <= 6; mt += 6) {
		for (int ad = 0; ad < 2; ad++) {
			t.r.eptp = t.pml4 | (uint64_t)mt | 3ull << 3 | (uint64_t)ad << 6;
			expect_ok(&t.h, &t.r, G4K, TDP_TK_READ, 1, 4096, H4K,
				  TDP_PROT_RWX | TDP_MT_NORMAL_WB);
		}
	}
	/* A/D on: the walker writes nothing; A and D in the entries change nothing */
	hb_set(&t.h, t.pt, 6, L4K | ACC | DIRTY);
	hb_set(&t.h, t.pd, 5, t.pt | E_RWX | ACC);
	walk(&t.h, &t.r, G4K, TDP_TK_WRITE, &x);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.pte, L4K | ACC | DIRTY);
	assert_int_equal(x.attr, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	assert_int_equal(hb_at(&t.h, t.pml4 + 3 * 8), t.pdpt | E_RWX);

	/* memory types 1..5 and 7: malformed, at the (decoded) root level */
	for (uint64_t mt = 1; mt < 8; mt++) {
		if (mt == 6)
			continue;
		t.r.eptp = eptp_of(t.pml4, 4) - 6 + mt;
		walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
		assert_int_equal(x.result, TDP_TK_MALFORMED);
		assert_int_equal(x.level, 4);
		assert_int_equal(x.span_size, 0);
		assert_int_equal(x.nr_tables, 0);
		assert_int_equal(x.pte_pa, 0);
		assert_non_null(strstr(x.why, "memory type"));
	}
	/* walk lengths other than 4 and 5: malformed at level 0 */
	for (uint64_t wl = 0; wl < 8; wl++) {
		t.r.eptp = t.pml4 | 6 | wl << 3;
		walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
		if (wl == 3) {
			assert_int_equal(x.result, TDP_TK_OK);
			continue;
		}
		if (wl == 4) { /* a 5-level walk of the PML4 as a PML5: GPA index 0 is empty */
			assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
			assert_int_equal(x.level, 5);
			continue;
		}
		assert_int_equal(x.result, TDP_TK_MALFORMED);
		assert_int_equal(x.level, 0);
		assert_int_equal(x.span_size, 0);
		assert_non_null(strstr(x.why, "walk length"));
	}
	/* bits 11:7, each */
	for (unsigned int b = 7; b <= 11; b++) {
		t.r.eptp = eptp_of(t.pml4, 4) | 1ull << b;
		expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_MALFORMED, 4, "11:7");
	}
	/* address bits at or above MAXPHYADDR */
	t.r.eptp = eptp_of(t.pml4, 4) | 1ull << 46;
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_MALFORMED, 4, "MAXPHYADDR");
	t.r.eptp = eptp_of(t.pml4, 4) | 1ull << 63;
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_MALFORMED, 4, "MAXPHYADDR");
	/* ... an address bit with a wider MAXPHYADDR: the root is not in memory */
	t.r.eptp = eptp_of(t.pml4, 4) | 1ull << 46;
	t.r.maxphyaddr = 47;
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EXTERNAL_ABORT, 4, "cannot be read");
	/* MALFORMED also for a GPA above the width: the registers come first */
	t.r.maxphyaddr = 46;
	t.r.eptp = eptp_of(t.pml4, 4) | 1;
	expect_res(&t.h, &t.r, 1ull << 50, TDP_TK_READ, TDP_TK_MALFORMED, 4, "memory type");
}

/* ------------------------------------------------------------------ */
/* External aborts and pte_pa                                          */

static void test_external_abort(void **state)
{
	struct t4 t;
	struct tdp_tk_xlate x;

	(void)state;
	t4_init(&t, CAPS_ALL);
	/* the PT is not in memory: abort at level 1, reported with the PDE */
	hb_hole(&t.h, t.pt, 4096);
	walk(&t.h, &t.r, G4K + 5, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.level, 1);
	assert_int_equal(x.pte, t.pt | E_RWX);
	assert_int_equal(x.pte_pa, t.pd + 5 * 8);
	assert_int_equal(x.span_base, G4K & ~(2 * MiB - 1));
	assert_int_equal(x.span_size, 2 * MiB);
	assert_int_equal(x.nr_tables, 3);
	assert_int_equal(x.tables[3], 0);
	assert_non_null(strstr(x.why, "0x80003000"));
	/* the 2 MiB page in the same PD is fine */
	expect_ok(&t.h, &t.r, G2M, TDP_TK_READ, 2, 2 * MiB, H2M, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	/* the PDPT: level 3 with the PML4E */
	hb_hole(&t.h, t.pdpt, 4096);
	walk(&t.h, &t.r, G1G, TDP_TK_PROBE, &x);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.level, 3);
	assert_int_equal(x.pte_pa, t.pml4 + 3 * 8);
	assert_int_equal(x.span_base, 3ull << 39);
	assert_int_equal(x.span_size, 512 * GiB);
	assert_int_equal(x.nr_tables, 1);
	/* a table entry pointing outside memory */
	hb_hole(&t.h, 0, 0);
	hb_set(&t.h, t.pd, 5, 0x7000000000ull | E_RWX);
	expect_res(&t.h, &t.r, G4K, TDP_TK_READ, TDP_TK_EXTERNAL_ABORT, 1, "0x7000000000");
	/* the root: level 4, no entry, the whole GPA range */
	hb_hole(&t.h, t.pml4, 4096);
	walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.level, 4);
	assert_int_equal(x.pte, 0);
	assert_int_equal(x.pte_pa, 0);
	assert_int_equal(x.span_base, 0);
	assert_int_equal(x.span_size, 1ull << 48);
	assert_int_equal(x.nr_tables, 0);
}

/* pte_pa lets a test set the A/D bits the CPU would set. */
static void test_pte_pa(void **state)
{
	struct t4 t;
	struct tdp_tk_xlate x;
	const int lv[4] = { 4, 3, 2, 1 };
	uint64_t tbl[4];
	size_t idx[4] = { 3, 4, 5, 6 };

	(void)state;
	t4_init(&t, CAPS_ALL);
	t.r.eptp |= 1ull << 6; /* A/D on */
	tbl[0] = t.pml4;
	tbl[1] = t.pdpt;
	tbl[2] = t.pd;
	tbl[3] = t.pt;
	walk(&t.h, &t.r, G4K, TDP_TK_WRITE, &x);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.pte_pa, t.pt + 6 * 8);
	assert_int_equal(hb_at(&t.h, x.pte_pa), x.pte);
	/* set A and D through pte_pa, as the CPU would: the walk sees them in pte */
	arena[(x.pte_pa - t.h.base) / 8] |= ACC | DIRTY;
	walk(&t.h, &t.r, G4K, TDP_TK_WRITE, &x);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.pte, L4K | ACC | DIRTY);
	assert_int_equal(x.attr, TDP_PROT_RWX | TDP_MT_NORMAL_WB);
	/* the faulting entry at every level */
	for (size_t l = 0; l < 4; l++) {
		uint64_t keep = hb_at(&t.h, tbl[l] + idx[l] * 8);

		hb_set(&t.h, tbl[l], idx[l], SVE);
		walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
		assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
		assert_int_equal(x.level, lv[l]);
		assert_int_equal(x.pte_pa, tbl[l] + idx[l] * 8);
		assert_int_equal(hb_at(&t.h, x.pte_pa), SVE);
		hb_set(&t.h, tbl[l], idx[l], (keep & ~7ull) | E_W);
		walk(&t.h, &t.r, G4K, TDP_TK_READ, &x);
		assert_int_equal(x.result, TDP_TK_EPT_MISCONFIG);
		assert_int_equal(x.pte_pa, tbl[l] + idx[l] * 8);
		hb_set(&t.h, tbl[l], idx[l], keep);
	}
	/* permission faults report the leaf's address */
	hb_set(&t.h, t.pdpt, 4, t.pd | E_R);
	walk(&t.h, &t.r, G4K, TDP_TK_WRITE, &x);
	assert_int_equal(x.result, TDP_TK_PERMISSION_FAULT);
	assert_int_equal(x.pte_pa, t.pt + 6 * 8);
}

static void test_bad_arguments(void **state)
{
	struct t4 t;
	struct tdp_tk_xlate x;
	struct tdp_tk_mem nomem = { NULL, NULL };
	struct tdp_tk_x86_regs r;

	(void)state;
	t4_init(&t, CAPS_ALL);
	assert_int_equal(tdp_tk_ref_ept(NULL, &t.r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_ept(&nomem, &t.r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, NULL, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, &t.r, 0, TDP_TK_READ, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, &t.r, 0, 0x10, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, &t.r, 0, TDP_TK_READ | TDP_TK_EXEC, &x),
			 -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, &t.r, 0, TDP_TK_USER, &x), -TDP_EINVAL);
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, &t.r, 0, TDP_TK_WRITE | TDP_TK_USER, &x), 0);
	/* unknown capability bits, MAXPHYADDR outside 36..52 */
	r = t.r;
	r.caps |= 1u << 4;
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, &r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	r = t.r;
	r.maxphyaddr = 35;
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, &r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	r.maxphyaddr = 53;
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, &r, 0, TDP_TK_READ, &x), -TDP_EINVAL);
	r.maxphyaddr = 36;
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, &r, 0, TDP_TK_READ, &x), 0);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	r.maxphyaddr = 52;
	assert_int_equal(tdp_tk_ref_ept(&t.h.mem, &r, 0, TDP_TK_READ, &x), 0);
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

static void test_front(void **state)
{
	struct t4 t;
	struct tdp_tk_ref ref;
	struct tdp_tk_xlate x, y;
	struct seen s;
	size_t tables = 0;
	uint64_t empty;

	(void)state;
	t4_init(&t, CAPS_ALL);
	memset(&ref, 0, sizeof(ref));
	ref.format = TDP_FORMAT_X86_EPT;
	ref.mem = t.h.mem;
	ref.regs.x86 = t.r;
	/* translate goes to the EPT walker */
	assert_int_equal(tdp_tk_ref_translate(&ref, G2M + 9, TDP_TK_WRITE, &x), 0);
	walk(&t.h, &t.r, G2M + 9, TDP_TK_WRITE, &y);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.hpa, y.hpa);
	assert_int_equal(x.level, 2);
	assert_int_equal(x.pte_pa, y.pte_pa);

	/* leaves: holes (0 and suppress-#VE alone) skipped, everything else reported */
	empty = hb_table(&t.h, 4096);
	hb_set(&t.h, t.pt, 0, SVE);
	hb_set(&t.h, t.pt, 1, SVE);
	hb_set(&t.h, t.pt, 9, XU | SVE);                /* not present, not empty: reported */
	hb_set(&t.h, t.pt, 10, 0x5000ull | E_W | WB);    /* misconfiguration */
	hb_set(&t.h, t.pd, 2, empty | E_RWX);            /* a table of holes */
	hb_set(&t.h, t.pd, 3, 0x7000000000ull | E_RWX); /* not in memory */
	hb_set(&t.h, t.pdpt, 0, SVE);
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 48, collect, &s, &tables), 0);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.v[0].result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(s.v[0].span_base, (3ull << 39) | (4ull << 30) | (3ull << 21));
	assert_int_equal(s.v[1].result, TDP_TK_OK);
	assert_int_equal(s.v[1].span_base, G4K);
	assert_int_equal(s.v[1].hpa, H4K);
	assert_int_equal(s.v[2].result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(s.v[2].span_base, (G4K & ~(2 * MiB - 1)) + 9 * 4096);
	assert_int_equal(s.v[2].pte, XU | SVE);
	assert_int_equal(s.v[3].result, TDP_TK_EPT_MISCONFIG);
	assert_int_equal(s.v[3].span_base, (G4K & ~(2 * MiB - 1)) + 10 * 4096);
	assert_int_equal(s.v[4].result, TDP_TK_OK);
	assert_int_equal(s.v[4].span_base, G2M);
	assert_int_equal(s.v[4].level, 2);
	assert_int_equal(s.v[5].result, TDP_TK_OK);
	assert_int_equal(s.v[5].span_base, G1G);
	assert_int_equal(tables, 5); /* PML4, PDPT, PD, PT and the empty table */

	/* bad registers: one MALFORMED outcome */
	ref.regs.x86.eptp |= 1ull << 8;
	memset(&s, 0, sizeof(s));
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 48, collect, &s, &tables), 0);
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

/* Runs of holes are skipped a run at a time: reads stay near the number of leaves. */
static void test_leaves_sparse(void **state)
{
	struct hb h;
	struct tdp_tk_ref ref;
	uint64_t pml4, pdpt, pd[4];
	size_t n = 0, tables = 0, leaves = 0;

	(void)state;
	hb_init(&h, PA0);
	pml4 = hb_table(&h, 4096);
	pdpt = hb_table(&h, 4096);
	memset(&ref, 0, sizeof(ref));
	ref.format = TDP_FORMAT_X86_EPT;
	ref.mem = h.mem;
	ref.regs.x86 = regs_of(eptp_of(pml4, 4), CAPS_ALL, 46);
	hb_set(&h, pml4, 0, pdpt | E_RWX);
	for (size_t i = 0; i < 4; i++) {
		pd[i] = hb_table(&h, 4096);
		hb_set(&h, pdpt, i, pd[i] | E_RWX);
	}
	/* one page every 4 MiB + 12 KiB over 4 GiB, holes written as 0 or suppress-#VE */
	for (uint64_t a = 0; a < 4 * GiB; a += 4 * MiB + 12 * KiB) {
		size_t i3 = (size_t)(a >> 30), i2 = ix(a, 2), i1 = ix(a, 1);
		uint64_t pt = arena[(pd[i3] - h.base) / 8 + i2] & ~0xfffull;

		if (!pt) {
			pt = hb_table(&h, 4096);
			hb_set(&h, pd[i3], i2, pt | E_RWX);
			for (size_t k = 0; k < 512; k += 2)
				hb_set(&h, pt, k, SVE);
		}
		hb_set(&h, pt, i1, (0x100000000ull + a) | E_RW | WB);
		leaves++;
	}
	h.reads = 0;
	assert_int_equal(tdp_tk_ref_leaves(&ref, 0, 1ull << 48, count_ok, &n, &tables), 0);
	assert_int_equal(n, leaves);
	assert_int_equal(tables, 2 + 4 + leaves);
	/* one walk per leaf and per run of holes (plus one scan), 5 reads per walk at most */
	if (h.reads > 5 * (2 * leaves + 2 * 4 * 512 + 8))
		fail_msg("%zu reads for %zu leaves", h.reads, leaves);
}

/*
 * pte_pa follows the same convention in the arm64 walker: the descriptor
 * read last (the leaf, the one that faulted, or the table descriptor of an
 * unreadable table). 4K granule, 39-bit IPA, start level 1, one 4 KiB root.
 */
static void test_arm64_pte_pa(void **state)
{
	const uint64_t page = 3 | 0xfull << 2 | 3ull << 6 | 3ull << 8 | 1ull << 10;
	struct hb h;
	struct tdp_tk_arm64_regs r;
	struct tdp_tk_xlate x;
	uint64_t root, l2, l3, ipa = (1ull << 30) | (2ull << 21) | (3ull << 12);

	(void)state;
	hb_init(&h, PA0);
	root = hb_table(&h, 4096);
	l2 = hb_table(&h, 4096);
	l3 = hb_table(&h, 4096);
	r.vtcr = 25 | 1ull << 6 | 2ull << 16 | 1ull << 31; /* T0SZ 25, SL0 01, TG0 4K, PS 40 bits */
	r.vttbr = root;
	r.features = 0;
	hb_set(&h, root, 1, l2 | 3);
	hb_set(&h, l2, 2, l3 | 3);
	hb_set(&h, l3, 3, 0x9000 | page);
	assert_int_equal(tdp_tk_ref_arm64(&h.mem, &r, ipa, TDP_TK_READ, &x), 0);
	assert_int_equal(x.result, TDP_TK_OK);
	assert_int_equal(x.hpa, 0x9000);
	assert_int_equal(x.pte_pa, l3 + 3 * 8);
	assert_int_equal(tdp_tk_ref_arm64(&h.mem, &r, ipa + 4096, TDP_TK_READ, &x), 0);
	assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
	assert_int_equal(x.pte_pa, l3 + 4 * 8);
	assert_int_equal(tdp_tk_ref_arm64(&h.mem, &r, 2ull << 30, TDP_TK_READ, &x), 0);
	assert_int_equal(x.level, 1);
	assert_int_equal(x.pte_pa, root + 2 * 8);
	hb_hole(&h, l3, 4096);
	assert_int_equal(tdp_tk_ref_arm64(&h.mem, &r, ipa, TDP_TK_READ, &x), 0);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.pte_pa, l2 + 2 * 8);
	hb_hole(&h, root, 4096);
	assert_int_equal(tdp_tk_ref_arm64(&h.mem, &r, ipa, TDP_TK_READ, &x), 0);
	assert_int_equal(x.result, TDP_TK_EXTERNAL_ABORT);
	assert_int_equal(x.pte_pa, 0);
}

/* ------------------------------------------------------------------ */
/* tdp_tk_ref_for on a libtdp EPT table                                */


static void test_ref_for(void **state)
{
	static const struct {
		unsigned int ia, oa, leaf_levels;
		uint32_t flags, caps;
	} tab[] = {
		{ 48, 46, 0, 0, TDP_TK_X86_CAP_2M | TDP_TK_X86_CAP_1G },
		{ 48, 52, 1, TDP_CFG_X86_AD, TDP_TK_X86_CAP_2M },
		{ 57, 39, 2, TDP_CFG_X86_MBEC, TDP_TK_X86_CAP_2M | TDP_TK_X86_MBEC },
		{ 57, 48, 3, TDP_CFG_X86_EXEC_ONLY | TDP_CFG_X86_MBEC | TDP_CFG_X86_SVE,
		  TDP_TK_X86_CAP_2M | TDP_TK_X86_CAP_1G | TDP_TK_X86_CAP_EXEC_ONLY |
			  TDP_TK_X86_MBEC },
	};
	struct tdp_tk_pool *pool = tdp_tk_pool_new(0x40000000, 16u << 20);

	(void)state;
	assert_non_null(pool);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct tdp_config cfg = { .format = TDP_FORMAT_X86_EPT, .ia_bits = tab[i].ia,
					  .oa_bits = tab[i].oa, .leaf_levels = tab[i].leaf_levels,
					  .flags = tab[i].flags };
		struct tdp_pgtable pgt;
		struct tdp_tk_ref ref;
		struct tdp_tk_mem mem = tdp_tk_pool_mem(pool);
		struct tdp_tk_xlate x;
		uint64_t eptp;
		int levels = tab[i].ia == 48 ? 4 : 5;

		tdp_tk_pool_config(pool, &cfg);
		cfg.tlb = &nop_tlb;
		assert_int_equal(tdp_pgtable_init(&pgt, &cfg), 0);
		assert_int_equal(tdp_tk_ref_for(&ref, &pgt, &mem), 0);
		assert_int_equal(ref.format, TDP_FORMAT_X86_EPT);
		assert_int_equal(tdp_x86_eptp(&pgt, &eptp), 0);
		assert_int_equal(ref.regs.x86.eptp, eptp);
		/* the EPTP by hand: WB, walk length, A/D, the root */
		assert_int_equal(eptp, pgt.root_pa | 6 | (uint64_t)(levels - 1) << 3 |
				       (tab[i].flags & TDP_CFG_X86_AD ? 1ull << 6 : 0));
		assert_int_equal(ref.regs.x86.caps, tab[i].caps);
		assert_int_equal(ref.regs.x86.maxphyaddr, tab[i].oa);
		/* an empty table: not present at the root, which is the one table read */
		assert_int_equal(tdp_tk_ref_translate(&ref, 0x12345000, TDP_TK_READ, &x), 0);
		assert_int_equal(x.result, TDP_TK_TRANSLATION_FAULT);
		assert_int_equal(x.level, levels);
		assert_int_equal(x.nr_tables, 1);
		assert_int_equal(x.tables[0], pgt.root_pa);
		assert_int_equal(tdp_pgtable_destroy(&pgt), 0);
	}
	tdp_tk_pool_delete(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_4level),
		cmocka_unit_test(test_walk_5level),
		cmocka_unit_test(test_gpa_width),
		cmocka_unit_test(test_not_present),
		cmocka_unit_test(test_permissions_leaf),
		cmocka_unit_test(test_permissions_and),
		cmocka_unit_test(test_misconfig_xwr),
		cmocka_unit_test(test_misconfig_reserved),
		cmocka_unit_test(test_attr_memtype),
		cmocka_unit_test(test_mbec),
		cmocka_unit_test(test_exec_only),
		cmocka_unit_test(test_eptp),
		cmocka_unit_test(test_external_abort),
		cmocka_unit_test(test_pte_pa),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_front),
		cmocka_unit_test(test_leaves_sparse),
		cmocka_unit_test(test_arm64_pte_pa),
		cmocka_unit_test(test_ref_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
