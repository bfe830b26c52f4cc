/* SPDX-License-Identifier: MIT */
/*
 * RISC-V G-stage specifics, checked against raw entries and values computed
 * by hand from the specification (docs/formats.md §R) and the public headers
 * (tdp/riscv.h, tdp/pgtable.h), not from lib/arch/riscv.
 *
 * Every table is checked after every operation by an independent scan of
 * its raw memory (scan_check): table entries are exactly V | PPN, leaves
 * carry U = 1, no reserved encoding, the A/D preset, an aligned PPN, no N
 * outside level 0, and every aligned run of 16 level-0 entries is either
 * free of N or one identical NAPOT group; the pool holds exactly the root
 * and the tables reached; tdp_lookup agrees with the raw decoding of every
 * leaf. Every test destroys its table and checks that no page leaked.
 *
 * G-stage PTE (docs/formats.md §R.3): V 0, R 1, W 2, X 3, U 4, G 5, A 6, D 7, RSW 9:8,
 * PPN 53:10 (PA = PPN << 12), reserved 60:54, PBMT 62:61, N 63.
 * Root index GPA[ia-1 : 12 + 9 * (levels - 1)] (11 bits); other levels 9 bits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <tdp/riscv.h>
#include <tdp/testkit.h>

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define ULL(x) ((unsigned long long)(x))

/* Pool arena: below 2^32 so that every oa_bits (32..56) can use it. */
#define PA_BASE    (1ull << 30)
#define ARENA_SIZE (64ull << 20)

/* PTE bits (docs/formats.md §R.3) */
#define PTE_V         (1ull << 0)
#define PTE_R         (1ull << 1)
#define PTE_W         (1ull << 2)
#define PTE_X         (1ull << 3)
#define PTE_U         (1ull << 4)
#define PTE_G         (1ull << 5)
#define PTE_A         (1ull << 6)
#define PTE_D         (1ull << 7)
#define PTE_RSW_SHIFT 8
#define PTE_RSW_MASK  (3ull << 8)
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK  0x003ffffffffffc00ull /* 53:10 */
#define PTE_RSVD_MASK 0x1fc0000000000000ull /* 60:54 */
#define PTE_PBMT_SHIFT 61
#define PTE_PBMT_MASK (3ull << 61)
#define PTE_N         (1ull << 63)

/* X W R as a 3-bit field (PTE bits 3:1) */
#define XWR_R 1u
#define XWR_W 2u
#define XWR_X 4u

#define PBMT_PMA 0u
#define PBMT_NC  1u
#define PBMT_IO  2u

#define ALL_FLAGS (TDP_CFG_RISCV_SVADU | TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_PMA_MT | \
		   TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVVPTC)

struct mode {
	const char *name;
	unsigned int ia, levels;
	uint64_t hgatp_mode;
};

/* docs/formats.md §R.1, §R.2 */
static struct mode modes[] = {
	{ "sv39x4", 41, 3, 8 },
	{ "sv48x4", 50, 4, 9 },
	{ "sv57x4", 59, 5, 10 },
};
#define NR_MODES (sizeof(modes) / sizeof(modes[0]))

/* ------------------------------------------------------------------ */
/* Fixture: a pool, a table and a recording TLB                        */

struct flush {
	uint64_t gpa, size;
	int level;
	bool tables;
};

#define MAX_FLUSHES 256

struct rv {
	const struct mode *m;
	struct tdp_tk_pool *pool;
	struct tdp_pgtable pgt;
	uint32_t flags;
	unsigned int oa;
	bool hand_ad;       /* A/D bits were set by hand (playing the hart) */
	size_t extra;       /* pool blocks held outside the table (memory caches) */
	size_t nfl, nfl_all;
	struct flush fl[MAX_FLUSHES];
};

static void rec_flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	struct rv *f = ctx;

	if (f->nfl < MAX_FLUSHES)
		f->fl[f->nfl] = (struct flush){ gpa, size, level, tables };
	f->nfl++;
}

static void rec_flush_all(void *ctx)
{
	struct rv *f = ctx;

	f->nfl_all++;
}

static const struct tdp_tlb_ops rec_tlb = { rec_flush_range, rec_flush_all };

static void rv_cfg(struct rv *f, struct tdp_config *cfg, unsigned int ia, unsigned int oa,
		   uint32_t flags)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->format = TDP_FORMAT_RISCV_G;
	cfg->ia_bits = ia;
	cfg->oa_bits = oa;
	cfg->flags = flags;
	tdp_tk_pool_config(f->pool, cfg);
	cfg->tlb = &rec_tlb;
	cfg->tlb_ctx = f;
}

static void rv_init_ex(struct rv *f, const struct mode *m, unsigned int oa, uint32_t flags,
		       unsigned int gshift, unsigned int leaf_levels)
{
	struct tdp_config cfg;

	memset(f, 0, sizeof(*f));
	f->m = m;
	f->flags = flags;
	f->oa = oa;
	f->pool = tdp_tk_pool_new(PA_BASE, ARENA_SIZE);
	assert_non_null(f->pool);
	rv_cfg(f, &cfg, m->ia, oa, flags);
	cfg.granule_shift = gshift;
	cfg.leaf_levels = leaf_levels;
	assert_int_equal(tdp_pgtable_init(&f->pgt, &cfg), 0);
}

static void rv_init(struct rv *f, const struct mode *m, uint32_t flags)
{
	rv_init_ex(f, m, 56, flags, 0, 0);
}

static void rv_fini(struct rv *f)
{
	struct tdp_tk_pool_stats st;

	assert_int_equal(tdp_pgtable_destroy(&f->pgt), 0);
	tdp_tk_pool_stats(f->pool, &st);
	if (st.out_blocks != 0 || st.errors != 0)
		fail_msg("after destroy: %zu blocks out, %zu pool errors (%s)", st.out_blocks,
			 st.errors, tdp_tk_pool_first_error(f->pool));
	tdp_tk_pool_delete(f->pool);
	f->pool = NULL;
}

static uint64_t *tbl(const struct rv *f, uint64_t pa)
{
	uint64_t *t = tdp_tk_pool_va(f->pool, pa);

	assert_non_null(t);
	return t;
}

static uint64_t *root(const struct rv *f)
{
	return f->pgt.root;
}

static unsigned int root_level(const struct rv *f)
{
	return f->m->levels - 1;
}

static uint64_t lsize(unsigned int level)
{
	return 1ull << (12 + 9 * level);
}

/* Index of gpa in the table at `level` (the root has 11 index bits). */
static unsigned int pidx(const struct rv *f, uint64_t gpa, unsigned int level)
{
	unsigned int mask = level == root_level(f) ? 2047u : 511u;

	return (unsigned int)((gpa >> (12 + 9 * level)) & mask);
}

static uint64_t pte_pa(uint64_t e)
{
	return ((e & PTE_PPN_MASK) >> PTE_PPN_SHIFT) << 12;
}

/* The expected leaf, composed from the specification. */
static uint64_t leaf_bits(const struct rv *f, uint64_t pa, unsigned int xwr, unsigned int rsw,
			  unsigned int pbmt)
{
	uint64_t v = PTE_V | ((uint64_t)xwr << 1) | PTE_U | ((pa >> 12) << PTE_PPN_SHIFT) |
		     ((uint64_t)rsw << PTE_RSW_SHIFT) | ((uint64_t)pbmt << PTE_PBMT_SHIFT);

	if (!(f->flags & TDP_CFG_RISCV_SVADU)) {
		v |= PTE_A;
		if (xwr & XWR_W)
			v |= PTE_D;
	}
	return v;
}

/* One entry of the NAPOT group whose 64 KiB-aligned output is base: PPN[3:0] = 0b1000, N = 1. */
static uint64_t napot_bits(const struct rv *f, uint64_t base, unsigned int xwr, unsigned int rsw,
			   unsigned int pbmt)
{
	assert_int_equal(base & 0xffff, 0);
	return leaf_bits(f, base | 0x8000, xwr, rsw, pbmt) | PTE_N;
}

/*
 * Pointer to the entry at `level` on gpa's path, or NULL if the path ends
 * (an empty entry or a leaf) above it. Every table entry passed on the way
 * must be exactly V | PPN (docs/formats.md §R.3: non-leaf R = W = X = U = A = D = 0, PBMT = N = 0).
 */
static uint64_t *entry_at(const struct rv *f, uint64_t gpa, unsigned int level)
{
	uint64_t *t = root(f);

	for (unsigned int l = root_level(f);; l--) {
		uint64_t *e = &t[pidx(f, gpa, l)];

		if (l == level)
			return e;
		if (!(*e & PTE_V) || (*e & (PTE_R | PTE_W | PTE_X)))
			return NULL;
		if ((*e & ~PTE_PPN_MASK) != PTE_V)
			fail_msg("gpa 0x%llx: level-%u table entry 0x%016llx has bits besides V and PPN",
				 ULL(gpa), l, ULL(*e));
		t = tbl(f, pte_pa(*e));
	}
}

/* Pointer to the valid leaf translating gpa (its level in *level), or NULL. */
static uint64_t *leaf_ptr(const struct rv *f, uint64_t gpa, unsigned int *level)
{
	for (unsigned int l = root_level(f);; l--) {
		uint64_t *e = entry_at(f, gpa, l);

		if (!e || !(*e & PTE_V))
			return NULL;
		if (*e & (PTE_R | PTE_W | PTE_X)) {
			if (level)
				*level = l;
			return e;
		}
		if (l == 0)
			return NULL;
	}
}

/* The raw leaf (must exist) at gpa, and it must sit at `level`. */
static uint64_t raw_leaf(const struct rv *f, uint64_t gpa, unsigned int level)
{
	unsigned int l = 99;
	uint64_t *e = leaf_ptr(f, gpa, &l);

	if (!e)
		fail_msg("gpa 0x%llx: no leaf in the raw table", ULL(gpa));
	if (l != level)
		fail_msg("gpa 0x%llx: leaf at level %u, expected %u", ULL(gpa), l, level);
	return *e;
}

/* The translation of gpa decoded from raw memory, Svnapot included: 0, or -1 if none. */
static int raw_xlate(const struct rv *f, uint64_t gpa, uint64_t *hpa)
{
	unsigned int l;
	uint64_t *e = leaf_ptr(f, gpa, &l);

	if (!e)
		return -1;
	if (*e & PTE_N)
		*hpa = (pte_pa(*e) & ~0xffffull) + (gpa & 0xffff);
	else
		*hpa = pte_pa(*e) + (gpa & (lsize(l) - 1));
	return 0;
}

/* Every 4 KiB page of [gpa, gpa + size) translates to hpa + offset (raw decoding). */
static void expect_raw_range(const struct rv *f, uint64_t gpa, uint64_t size, uint64_t hpa)
{
	for (uint64_t o = 0; o < size; o += 4096) {
		uint64_t h = 0;

		if (raw_xlate(f, gpa + o, &h) != 0)
			fail_msg("gpa 0x%llx: not mapped in the raw table", ULL(gpa + o));
		if (h != hpa + o)
			fail_msg("gpa 0x%llx -> 0x%llx, expected 0x%llx", ULL(gpa + o), ULL(h),
				 ULL(hpa + o));
	}
}

static void expect_raw_unmapped(const struct rv *f, uint64_t gpa, uint64_t size)
{
	for (uint64_t o = 0; o < size; o += 4096) {
		uint64_t h;

		if (raw_xlate(f, gpa + o, &h) == 0)
			fail_msg("gpa 0x%llx: mapped (-> 0x%llx), expected nothing", ULL(gpa + o),
				 ULL(h));
	}
}

/* tdp_lookup of gpa: hpa, level and attributes. */
static void expect_lookup(const struct rv *f, uint64_t gpa, uint64_t hpa, unsigned int level,
			  tdp_attr_t attr)
{
	struct tdp_lookup_result r;
	int rc = tdp_lookup(&f->pgt, gpa, &r);

	if (rc != 0)
		fail_msg("lookup 0x%llx: %d, expected a mapping", ULL(gpa), rc);
	if (r.hpa != hpa || r.level != level || r.attr != attr)
		fail_msg("lookup 0x%llx: hpa 0x%llx level %u attr 0x%x, expected 0x%llx level %u "
			 "attr 0x%x", ULL(gpa), ULL(r.hpa), r.level, r.attr, ULL(hpa), level, attr);
}

/* ------------------------------------------------------------------ */
/* Raw scan of the whole table                                         */

struct scan {
	size_t tables; /* non-root tables reached */
	size_t leaves;
	size_t napot;  /* entries with N = 1 */
};

static void scan_leaf(const struct rv *f, uint64_t e, unsigned int level, uint64_t gpa,
		      struct scan *s)
{
	unsigned int xwr = (unsigned int)(e >> 1) & 7u;
	unsigned int pbmt = (unsigned int)((e & PTE_PBMT_MASK) >> PTE_PBMT_SHIFT);
	uint64_t ppn = (e & PTE_PPN_MASK) >> PTE_PPN_SHIFT;
	uint64_t base, size = lsize(level);
	struct tdp_lookup_result r;

	s->leaves++;
	if (xwr == XWR_W || xwr == (XWR_W | XWR_X))
		fail_msg("gpa 0x%llx: leaf 0x%016llx has W without R (reserved)", ULL(gpa), ULL(e));
	if (!(e & PTE_U))
		fail_msg("gpa 0x%llx: leaf 0x%016llx has U = 0", ULL(gpa), ULL(e));
	if (e & PTE_G)
		fail_msg("gpa 0x%llx: leaf 0x%016llx has G = 1", ULL(gpa), ULL(e));
	if (e & PTE_RSVD_MASK)
		fail_msg("gpa 0x%llx: leaf 0x%016llx has reserved bits 60:54", ULL(gpa), ULL(e));
	if (pbmt == 3)
		fail_msg("gpa 0x%llx: leaf 0x%016llx has PBMT 3 (reserved)", ULL(gpa), ULL(e));
	if (pbmt != 0 && !(f->flags & TDP_CFG_RISCV_SVPBMT))
		fail_msg("gpa 0x%llx: leaf 0x%016llx has PBMT without Svpbmt", ULL(gpa), ULL(e));
	if (e & PTE_N) {
		if (!(f->flags & TDP_CFG_RISCV_SVNAPOT))
			fail_msg("gpa 0x%llx: leaf 0x%016llx has N without Svnapot", ULL(gpa), ULL(e));
		if (level != 0)
			fail_msg("gpa 0x%llx: level-%u leaf 0x%016llx has N", ULL(gpa), level, ULL(e));
		if ((ppn & 0xf) != 8)
			fail_msg("gpa 0x%llx: NAPOT leaf 0x%016llx: PPN[3:0] != 0b1000", ULL(gpa),
				 ULL(e));
		s->napot++;
		base = (ppn << 12) & ~0xffffull;
		if (base + 0x10000 > (1ull << f->oa))
			fail_msg("gpa 0x%llx: leaf 0x%016llx beyond 2^oa", ULL(gpa), ULL(e));
	} else {
		/* superpage alignment: PPN[level-1:0] = 0 (docs/formats.md §R.3) */
		if (level > 0 && (ppn & ((1ull << (9 * level)) - 1)))
			fail_msg("gpa 0x%llx: level-%u leaf 0x%016llx has a misaligned PPN", ULL(gpa),
				 level, ULL(e));
		base = ppn << 12;
		if (base + size > (1ull << f->oa))
			fail_msg("gpa 0x%llx: leaf 0x%016llx beyond 2^oa", ULL(gpa), ULL(e));
	}
	if (!(f->flags & TDP_CFG_RISCV_SVADU)) {
		/* Svade: A preset on every leaf, D on every writable one (riscv.h) */
		if (!(e & PTE_A))
			fail_msg("gpa 0x%llx: leaf 0x%016llx has A = 0 without Svadu", ULL(gpa), ULL(e));
		if ((xwr & XWR_W) && !(e & PTE_D))
			fail_msg("gpa 0x%llx: writable leaf 0x%016llx has D = 0 without Svadu",
				 ULL(gpa), ULL(e));
	} else if (!f->hand_ad && (e & (PTE_A | PTE_D))) {
		fail_msg("gpa 0x%llx: leaf 0x%016llx has A/D set by the library under Svadu",
			 ULL(gpa), ULL(e));
	}
	/* tdp_lookup agrees with the raw entry */
	if (tdp_lookup(&f->pgt, gpa, &r) != 0)
		fail_msg("gpa 0x%llx: raw leaf 0x%016llx, but tdp_lookup finds nothing", ULL(gpa),
			 ULL(e));
	if (r.pte != e || r.level != level ||
	    r.hpa != ((e & PTE_N) ? base + (gpa & 0xffff) : base))
		fail_msg("gpa 0x%llx: raw leaf 0x%016llx level %u, lookup pte 0x%016llx level %u "
			 "hpa 0x%llx", ULL(gpa), ULL(e), level, ULL(r.pte), r.level, ULL(r.hpa));
}

static void scan_table(const struct rv *f, uint64_t pa, unsigned int level, uint64_t gpa0,
		       struct scan *s)
{
	const uint64_t *t = tbl(f, pa);
	size_t n = level == root_level(f) ? 2048 : 512;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		uint64_t e = t[i], gpa = gpa0 + i * lsize(level);

		if (!(e & PTE_V)) {
			if (e != 0)
				fail_msg("gpa 0x%llx: invalid level-%u entry 0x%016llx is not 0",
					 ULL(gpa), level, ULL(e));
			continue;
		}
		any = true;
		if (e & (PTE_R | PTE_W | PTE_X)) {
			scan_leaf(f, e, level, gpa, s);
			continue;
		}
		if (level == 0)
			fail_msg("gpa 0x%llx: level-0 entry 0x%016llx points to a table", ULL(gpa),
				 ULL(e));
		if ((e & ~PTE_PPN_MASK) != PTE_V)
			fail_msg("gpa 0x%llx: level-%u table entry 0x%016llx has bits besides V and PPN",
				 ULL(gpa), level, ULL(e));
		if (!tdp_tk_pool_live(f->pool, pte_pa(e), 4096))
			fail_msg("gpa 0x%llx: table 0x%llx is not a live 4 KiB pool block", ULL(gpa),
				 ULL(pte_pa(e)));
		s->tables++;
		scan_table(f, pte_pa(e), level - 1, gpa, s);
	}
	if (level != root_level(f) && !any)
		fail_msg("level-%u table 0x%llx (gpa 0x%llx) is empty but linked", level, ULL(pa),
			 ULL(gpa0));
	if (level != 0)
		return;
	/*
	 * Svnapot groups: an aligned run of 16 holds no N, or 16 identical
	 * entries (but for A/D set by the hart, in whichever entry it used)
	 */
	for (size_t g = 0; g < 512; g += 16) {
		unsigned int nn = 0;

		for (size_t i = g; i < g + 16; i++)
			nn += (t[i] & PTE_N) != 0;
		if (nn == 0)
			continue;
		for (size_t i = g; i < g + 16; i++)
			if ((t[i] ^ t[g]) & ~(f->hand_ad ? (PTE_A | PTE_D) : 0))
				fail_msg("NAPOT group at gpa 0x%llx: entry %zu 0x%016llx != entry 0 "
					 "0x%016llx", ULL(gpa0 + g * 4096), i - g, ULL(t[i]), ULL(t[g]));
	}
}

/* Scan everything; the pool must hold the root, the tables reached and f->extra. */
static struct scan scan_check(const struct rv *f)
{
	struct tdp_tk_pool_stats st;
	struct scan s = { 0, 0, 0 };

	scan_table(f, f->pgt.root_pa, root_level(f), 0, &s);
	tdp_tk_pool_stats(f->pool, &st);
	if (st.out_blocks != 1 + s.tables + f->extra || st.errors != 0)
		fail_msg("pool: %zu blocks out, %zu errors; the table reaches %zu tables + root "
			 "(+%zu extra)", st.out_blocks, st.errors, s.tables, f->extra);
	return s;
}

/* ------------------------------------------------------------------ */
/* Operations, each followed by the full scan (whatever it returned)   */

static int rv_map(struct rv *f, uint64_t gpa, uint64_t hpa, uint64_t size, tdp_attr_t attr,
		  uint32_t flags, struct tdp_memcache *mc)
{
	int rc = tdp_map(&f->pgt, gpa, hpa, size, attr, flags, mc);

	scan_check(f);
	return rc;
}

static int rv_unmap(struct rv *f, uint64_t gpa, uint64_t size, struct tdp_memcache *mc)
{
	int rc = tdp_unmap(&f->pgt, gpa, size, mc);

	scan_check(f);
	return rc;
}

static int rv_protect(struct rv *f, uint64_t gpa, uint64_t size, tdp_attr_t clear,
		      tdp_attr_t set, struct tdp_memcache *mc)
{
	int rc = tdp_protect(&f->pgt, gpa, size, clear, set, mc);

	scan_check(f);
	return rc;
}

static int rv_split(struct rv *f, uint64_t gpa, uint64_t size, unsigned int target,
		    struct tdp_memcache *mc)
{
	int rc = tdp_split(&f->pgt, gpa, size, target, mc);

	scan_check(f);
	return rc;
}

static int rv_zap(struct rv *f, uint64_t gpa, uint64_t size, uint64_t budget,
		  struct tdp_zap_result *res)
{
	int rc = tdp_zap(&f->pgt, gpa, size, budget, res);

	scan_check(f);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Flush log helpers                                                   */

static void fl_reset(struct rv *f)
{
	f->nfl = 0;
}

/* The union of the recorded flush ranges covers [lo, hi). */
static bool fl_covers(const struct rv *f, uint64_t lo, uint64_t hi)
{
	uint64_t cur = lo;
	size_t n = f->nfl < MAX_FLUSHES ? f->nfl : MAX_FLUSHES;

	while (cur < hi) {
		bool moved = false;

		for (size_t i = 0; i < n; i++) {
			if (f->fl[i].gpa <= cur && cur - f->fl[i].gpa < f->fl[i].size) {
				cur = f->fl[i].gpa + f->fl[i].size;
				moved = true;
				if (cur == 0) /* up to 2^64 */
					return true;
			}
		}
		if (!moved)
			return false;
	}
	return true;
}

static void expect_flushed(const struct rv *f, uint64_t gpa, uint64_t size, const char *what)
{
	if (f->nfl == 0 || !fl_covers(f, gpa, gpa + size))
		fail_msg("%s: %zu flush_range calls do not cover [0x%llx, 0x%llx)", what, f->nfl,
			 ULL(gpa), ULL(gpa + size));
}

/* ------------------------------------------------------------------ */
/* 1. init                                                             */

static void t_init_geometry(void **state)
{
	const struct mode *m = *state;
	struct tdp_tk_pool_stats st;
	struct tdp_lookup_result r;
	unsigned int L = m->levels;
	struct rv f;

	rv_init(&f, m, 0);
	assert_int_equal(f.pgt.geo.levels, L);
	assert_int_equal(f.pgt.geo.page_shift, 12);
	assert_int_equal(f.pgt.geo.bits_per_level, 9);
	assert_int_equal(f.pgt.geo.root_bits, 11);
	assert_int_equal(f.pgt.geo.root_size, 16384);
	assert_int_equal(f.pgt.geo.table_size, 4096);
	/*
	 * root_tables: the hardware walks one widened 2048-entry table; the
	 * headers do not say whether that counts as 1 table or as 4
	 * concatenated ones (arm64 4K/32 has the same 11 bits and 16 KiB as 4).
	 */
	assert_true(f.pgt.geo.root_tables == 1 || f.pgt.geo.root_tables == 4);
	/* the root covers exactly the input range */
	assert_int_equal(12 + 9 * (L - 1) + 11, m->ia);
	/* a leaf may sit at any level, root included (docs/formats.md §R.2) */
	assert_int_equal(f.pgt.geo.leaf_levels_mask, (1u << L) - 1);
	/* one zeroed 16 KiB root, 16 KiB aligned */
	assert_int_equal(f.pgt.root_pa & 16383, 0);
	assert_true(tdp_tk_pool_live(f.pool, f.pgt.root_pa, 16384));
	assert_ptr_equal(f.pgt.root, tdp_tk_pool_va(f.pool, f.pgt.root_pa));
	for (unsigned int i = 0; i < 2048; i++)
		assert_int_equal(root(&f)[i], 0);
	tdp_tk_pool_stats(f.pool, &st);
	assert_int_equal(st.out_blocks, 1);
	assert_int_equal(st.out_bytes, 16384);
	assert_int_equal(tdp_page_size(&f.pgt), 4096);
	for (unsigned int l = 0; l < L; l++)
		assert_int_equal(tdp_level_size(&f.pgt, l), 1ull << (12 + 9 * l));
	assert_int_equal(tdp_level_size(&f.pgt, L), 0);
	assert_int_equal(tdp_riscv_level(2), 2);
	scan_check(&f);
	rv_fini(&f);
	assert_int_equal(f.nfl_all, 1); /* destroy: one flush_all */

	/* granule_shift 12 spelt out, and every oa_bits from 32 to 56 (ia > oa is fine) */
	for (unsigned int oa = 32; oa <= 56; oa++) {
		rv_init_ex(&f, m, oa, 0, oa == 40 ? 12 : 0, 0);
		assert_int_equal(f.pgt.geo.levels, L);
		assert_int_equal(f.pgt.geo.root_size, 16384);
		rv_fini(&f);
	}

	/* leaf caps: leaf_levels n keeps leaves to levels 0..n-1 */
	for (unsigned int ll = 1; ll <= L + 1; ll++) {
		unsigned int n = ll < L ? ll : L;

		rv_init_ex(&f, m, 56, 0, 0, ll);
		assert_int_equal(f.pgt.geo.leaf_levels_mask, (1u << n) - 1);
		/* a 2 MiB-aligned 2 MiB map is one block only if level 1 may hold leaves */
		assert_int_equal(rv_map(&f, 2 * MiB, 4 * MiB, 2 * MiB, TDP_PROT_RW, 0, NULL), 0);
		assert_int_equal(tdp_lookup(&f.pgt, 2 * MiB + 4096, &r), 0);
		assert_int_equal(r.level, n >= 2 ? 1 : 0);
		assert_int_equal(r.hpa, 4 * MiB + 4096);
		scan_check(&f);
		rv_fini(&f);
	}

	/* every combination of the format's flags but PMA_MT with SVPBMT */
	for (uint32_t fl = 0; fl <= ALL_FLAGS; fl++) {
		if ((fl & ~ALL_FLAGS) ||
		    ((fl & TDP_CFG_RISCV_PMA_MT) && (fl & TDP_CFG_RISCV_SVPBMT)))
			continue;
		rv_init_ex(&f, m, 56, fl, 0, 0);
		assert_int_equal(f.pgt.cfg.flags, fl);
		assert_int_equal(rv_map(&f, 0, 1ull << 32, 4096, TDP_PROT_RW, 0, NULL), 0);
		scan_check(&f);
		rv_fini(&f);
	}
}

static void expect_init_fails(struct tdp_tk_pool *pool, struct tdp_pgtable *pgt,
			      const struct tdp_config *cfg, int want, const char *what)
{
	struct tdp_tk_pool_stats st;
	int rc = tdp_pgtable_init(pgt, cfg);

	if (rc != want)
		fail_msg("%s: init returned %d, expected %d", what, rc, want);
	tdp_tk_pool_stats(pool, &st);
	if (st.out_blocks != 0 || st.errors != 0)
		fail_msg("%s: %zu blocks out after a failed init, %zu errors", what, st.out_blocks,
			 st.errors);
}

static void t_init_bad(void **state)
{
	static const unsigned int bad_ia[] = { 0, 12, 32, 39, 40, 42, 48, 49, 51, 57, 58, 60, 64, 100 };
	static const unsigned int bad_oa[] = { 0, 12, 30, 31, 57, 58, 64 };
	static const unsigned int bad_granule[] = { 11, 13, 14, 16, 21 };
	static const uint32_t bad_flags[] = {
		1u << 5, 1u << 6, 1u << 15, 1u << 16, 1u << 31,
		TDP_CFG_RISCV_PMA_MT | TDP_CFG_RISCV_SVPBMT,
		TDP_CFG_RISCV_PMA_MT | TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_SVADU,
		ALL_FLAGS,
		TDP_CFG_RISCV_SVADU | (1u << 5),
	};
	static const struct tdp_tlb_ops half_tlb = { NULL, rec_flush_all };
	struct tdp_config cfg;
	struct tdp_pgtable pgt;
	char what[64];
	struct rv f; /* only for its pool and flush log */

	(void)state;
	memset(&f, 0, sizeof(f));
	f.pool = tdp_tk_pool_new(PA_BASE, ARENA_SIZE);
	assert_non_null(f.pool);

	for (size_t i = 0; i < sizeof(bad_ia) / sizeof(bad_ia[0]); i++) {
		rv_cfg(&f, &cfg, bad_ia[i], 56, 0);
		snprintf(what, sizeof(what), "ia_bits %u", bad_ia[i]);
		expect_init_fails(f.pool, &pgt, &cfg, -TDP_EINVAL, what);
	}
	for (size_t m = 0; m < NR_MODES; m++) {
		for (size_t i = 0; i < sizeof(bad_oa) / sizeof(bad_oa[0]); i++) {
			rv_cfg(&f, &cfg, modes[m].ia, bad_oa[i], 0);
			snprintf(what, sizeof(what), "%s oa_bits %u", modes[m].name, bad_oa[i]);
			expect_init_fails(f.pool, &pgt, &cfg, -TDP_EINVAL, what);
		}
		for (size_t i = 0; i < sizeof(bad_granule) / sizeof(bad_granule[0]); i++) {
			rv_cfg(&f, &cfg, modes[m].ia, 56, 0);
			cfg.granule_shift = bad_granule[i];
			snprintf(what, sizeof(what), "%s granule_shift %u", modes[m].name,
				 bad_granule[i]);
			expect_init_fails(f.pool, &pgt, &cfg, -TDP_EINVAL, what);
		}
		for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
			rv_cfg(&f, &cfg, modes[m].ia, 56, bad_flags[i]);
			snprintf(what, sizeof(what), "%s flags 0x%x", modes[m].name, bad_flags[i]);
			expect_init_fails(f.pool, &pgt, &cfg, -TDP_EINVAL, what);
		}
		/* root allocation failure */
		rv_cfg(&f, &cfg, modes[m].ia, 56, 0);
		tdp_tk_pool_fail_nth(f.pool, 0);
		expect_init_fails(f.pool, &pgt, &cfg, -TDP_ENOMEM, "root allocation fails");
		tdp_tk_pool_fail_off(f.pool);
	}
	/* NULL and missing callbacks */
	rv_cfg(&f, &cfg, 41, 56, 0);
	expect_init_fails(f.pool, NULL, &cfg, -TDP_EINVAL, "NULL pgt");
	expect_init_fails(f.pool, &pgt, NULL, -TDP_EINVAL, "NULL cfg");
	cfg.mm = NULL;
	expect_init_fails(f.pool, &pgt, &cfg, -TDP_EINVAL, "NULL mm");
	rv_cfg(&f, &cfg, 41, 56, 0);
	cfg.tlb = NULL;
	expect_init_fails(f.pool, &pgt, &cfg, -TDP_EINVAL, "NULL tlb");
	rv_cfg(&f, &cfg, 41, 56, 0);
	cfg.tlb = &half_tlb;
	expect_init_fails(f.pool, &pgt, &cfg, -TDP_EINVAL, "NULL flush_range");
	/* and the same configuration is fine once corrected */
	rv_cfg(&f, &cfg, 41, 56, 0);
	assert_int_equal(tdp_pgtable_init(&pgt, &cfg), 0);
	assert_int_equal(tdp_pgtable_destroy(&pgt), 0);
	assert_int_equal(f.nfl, 0);
	tdp_tk_pool_delete(f.pool);
}

/* ------------------------------------------------------------------ */
/* 2. HGATP                                                            */

static void t_hgatp(void **state)
{
	static const uint32_t vmids[] = { 0, 1, 0x2a5, 0x3fff };
	static const uint32_t bad_vmids[] = { 0x4000, 0x8000, 0xffff, 0xffffffffu };
	const struct mode *m = *state;
	struct tdp_pgtable zero, other, second;
	struct tdp_config cfg;
	uint64_t h, h2;
	struct rv f;
	int others = 0;

	rv_init(&f, m, 0);
	for (size_t i = 0; i < sizeof(vmids) / sizeof(vmids[0]); i++) {
		uint64_t want = (m->hgatp_mode << 60) | ((uint64_t)vmids[i] << 44) |
				(f.pgt.root_pa >> 12);

		h = 0;
		assert_int_equal(tdp_riscv_hgatp(&f.pgt, vmids[i], &h), 0);
		assert_int_equal(h, want);
		assert_int_equal(h >> 60, m->hgatp_mode);
		assert_int_equal((h >> 58) & 3, 0);                     /* 59:58 zero */
		assert_int_equal((h >> 44) & 0x3fff, vmids[i]);          /* VMID 57:44 */
		assert_int_equal(h & 3, 0);                             /* PPN[1:0]: 16 KiB root */
		assert_int_equal((h & ((1ull << 44) - 1)) << 12, f.pgt.root_pa);
	}
	assert_int_equal(TDP_RISCV_VMID_MAX, 0x3fff);
	for (size_t i = 0; i < sizeof(bad_vmids) / sizeof(bad_vmids[0]); i++)
		assert_int_equal(tdp_riscv_hgatp(&f.pgt, bad_vmids[i], &h), -TDP_EINVAL);
	assert_int_equal(tdp_riscv_hgatp(NULL, 0, &h), -TDP_EINVAL);
	assert_int_equal(tdp_riscv_hgatp(&f.pgt, 0, NULL), -TDP_EINVAL);
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(tdp_riscv_hgatp(&zero, 0, &h), -TDP_EINVAL);

	/* a second table from the same pool: its own root in the PPN, same mode */
	rv_cfg(&f, &cfg, m->ia, 40, TDP_CFG_RISCV_SVADU | TDP_CFG_RISCV_SVNAPOT);
	assert_int_equal(tdp_pgtable_init(&second, &cfg), 0);
	assert_int_not_equal(second.root_pa, f.pgt.root_pa);
	assert_int_equal(tdp_riscv_hgatp(&second, 7, &h2), 0);
	assert_int_equal(h2, (m->hgatp_mode << 60) | (7ull << 44) | (second.root_pa >> 12));
	assert_int_equal(tdp_riscv_hgatp(&f.pgt, 7, &h), 0);
	assert_int_equal(h ^ h2, (f.pgt.root_pa ^ second.root_pa) >> 12);
	assert_int_equal(tdp_pgtable_destroy(&second), 0);

	/* tables of another format are refused (whichever of them is built) */
	memset(&cfg, 0, sizeof(cfg));
	cfg.format = TDP_FORMAT_X86_EPT;
	cfg.ia_bits = 48;
	cfg.oa_bits = 46;
	tdp_tk_pool_config(f.pool, &cfg);
	cfg.tlb = &rec_tlb;
	cfg.tlb_ctx = &f;
	if (tdp_pgtable_init(&other, &cfg) == 0) {
		assert_int_equal(tdp_riscv_hgatp(&other, 0, &h), -TDP_EINVAL);
		assert_int_equal(tdp_pgtable_destroy(&other), 0);
		others++;
	}
	cfg.format = TDP_FORMAT_ARM64_S2;
	cfg.ia_bits = 40;
	cfg.oa_bits = 40;
	cfg.granule_shift = 12;
	if (tdp_pgtable_init(&other, &cfg) == 0) {
		assert_int_equal(tdp_riscv_hgatp(&other, 0, &h), -TDP_EINVAL);
		assert_int_equal(tdp_pgtable_destroy(&other), 0);
		others++;
	}
	(void)others; /* 0 when only riscv is built */
	rv_fini(&f);
}

/* ------------------------------------------------------------------ */
/* 3. The widened root                                                 */

static void t_widened_root(void **state)
{
	const struct mode *m = *state;
	unsigned int rs = 12 + 9 * (m->levels - 1); /* GPA bit of root index 0 */
	const uint64_t H = 1ull << 36;
	uint64_t gpas[4], top = 1ull << m->ia;
	const unsigned int idx[4] = { 512, 1024, 1536, 2047 };
	struct tdp_zap_result zr;
	struct tdp_lookup_result r;
	struct tdp_tk_pool_stats st;
	bool young;
	struct rv f;

	assert_int_equal(rs + 11, m->ia);
	gpas[0] = 1ull << (rs + 9);            /* bit 39 / 48 / 57 */
	gpas[1] = 1ull << (rs + 10);           /* bit 40 / 49 / 58 */
	gpas[2] = 3ull << (rs + 9);            /* both */
	gpas[3] = top - 4096;                  /* the last page of the space */

	rv_init(&f, m, 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(gpas[i] >> rs, idx[i]);
		assert_int_equal(rv_map(&f, gpas[i], H + (uint64_t)i * MiB, 4096,
					 TDP_PROT_RW, 0, NULL), 0);
	}
	/* exactly the four root entries, as table pointers; nothing at index & 511 */
	for (unsigned int i = 0; i < 2048; i++) {
		uint64_t e = root(&f)[i];
		bool used = i == 512 || i == 1024 || i == 1536 || i == 2047;

		if (used && (e & ~PTE_PPN_MASK) != PTE_V)
			fail_msg("root[%u] = 0x%016llx, expected a table pointer", i, ULL(e));
		if (!used && e != 0)
			fail_msg("root[%u] = 0x%016llx, expected empty", i, ULL(e));
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(raw_leaf(&f, gpas[i], 0),
				 leaf_bits(&f, H + (uint64_t)i * MiB, XWR_R | XWR_W, 0, 0));
		expect_lookup(&f, gpas[i] + 0x123, H + (uint64_t)i * MiB + 0x123, 0, TDP_PROT_RW);
		/* the same address without the widened bits is not mapped */
		assert_int_equal(tdp_lookup(&f.pgt, gpas[i] & ((1ull << (rs + 9)) - 1), &r),
				 -TDP_ENOENT);
	}
	expect_lookup(&f, top - 1, H + 3 * MiB + 0xfff, 0, TDP_PROT_RW);
	scan_check(&f);

	/* a leaf in the root itself, above index 511: one entry, no table */
	{
		uint64_t g = (3ull << (rs + 9)) | (1ull << rs); /* index 1537 */
		uint64_t hpa = 1ull << rs;

		tdp_tk_pool_stats(f.pool, &st);
		assert_int_equal(rv_map(&f, g, hpa, 1ull << rs, TDP_PROT_RWX, 0, NULL), 0);
		assert_int_equal(root(&f)[1537], leaf_bits(&f, hpa, XWR_R | XWR_W | XWR_X, 0, 0));
		expect_lookup(&f, g + 12345, hpa + 12345, m->levels - 1, TDP_PROT_RWX);
		assert_int_equal(tdp_lookup(&f.pgt, g, &r), 0);
		assert_int_equal(r.size, 1ull << rs);
		assert_int_equal(r.pte, root(&f)[1537]);
		{
			struct tdp_tk_pool_stats st2;

			tdp_tk_pool_stats(f.pool, &st2);
			assert_int_equal(st2.out_blocks, st.out_blocks);
		}
		scan_check(&f);
		assert_int_equal(rv_unmap(&f, g, 1ull << rs, NULL), 0);
		assert_int_equal(root(&f)[1537], 0);
	}

	/* out of range: at or beyond 2^ia is -TDP_ERANGE (pgtable.h) */
	assert_int_equal(rv_map(&f, top, H, 4096, TDP_PROT_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(rv_map(&f, top - 4096, H, 8192, TDP_PROT_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(rv_map(&f, 1ull << 63, H, 4096, TDP_PROT_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(rv_map(&f, top | gpas[0], H, 4096, TDP_PROT_RW, 0, NULL),
			 -TDP_ERANGE);
	assert_int_equal(rv_map(&f, ~0xfffull, H, 8192, TDP_PROT_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(tdp_lookup(&f.pgt, top, &r), -TDP_ERANGE);
	assert_int_equal(tdp_lookup(&f.pgt, top | gpas[0], &r), -TDP_ERANGE);
	assert_int_equal(rv_unmap(&f, top, 4096, NULL), -TDP_ERANGE);
	assert_int_equal(rv_unmap(&f, top - 4096, 8192, NULL), -TDP_ERANGE);
	assert_int_equal(rv_protect(&f, top, 4096, TDP_PROT_W, 0, NULL), -TDP_ERANGE);
	assert_int_equal(rv_split(&f, top, 4096, 0, NULL), -TDP_ERANGE);
	assert_int_equal(rv_zap(&f, top, 4096, 0, &zr), -TDP_ERANGE);
	assert_int_equal(tdp_test_clear_young(&f.pgt, top, 4096, &young), -TDP_ERANGE);
	/* output beyond 2^56 */
	assert_int_equal(rv_map(&f, 0, 1ull << 56, 4096, TDP_PROT_RW, 0, NULL), -TDP_ERANGE);
	assert_int_equal(rv_map(&f, 0, (1ull << 56) - 4096, 8192, TDP_PROT_RW, 0, NULL),
			 -TDP_ERANGE);
	/* nothing changed: the four pages are still the only mappings */
	for (int i = 0; i < 4; i++)
		expect_raw_range(&f, gpas[i], 4096, H + (uint64_t)i * MiB);
	assert_int_equal(tdp_lookup(&f.pgt, 0, &r), -TDP_ENOENT);
	assert_int_equal(scan_check(&f).leaves, 4);

	/* the highest output page: PPN 53:10 all ones, nothing above bit 53 */
	assert_int_equal(rv_map(&f, 0, (1ull << 56) - 4096, 4096, TDP_PROT_R, 0, NULL), 0);
	assert_int_equal(raw_leaf(&f, 0, 0) & PTE_PPN_MASK, PTE_PPN_MASK);
	assert_int_equal(raw_leaf(&f, 0, 0) >> 54, 0);
	assert_int_equal(raw_leaf(&f, 0, 0), leaf_bits(&f, (1ull << 56) - 4096, XWR_R, 0, 0));
	expect_lookup(&f, 0x7ff, (1ull << 56) - 4096 + 0x7ff, 0, TDP_PROT_R);

	/* unmapping everything frees every table; the root stays empty */
	assert_int_equal(rv_unmap(&f, 0, 4096, NULL), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rv_unmap(&f, gpas[i], 4096, NULL), 0);
	for (unsigned int i = 0; i < 2048; i++)
		assert_int_equal(root(&f)[i], 0);
	assert_int_equal(scan_check(&f).tables, 0);
	rv_fini(&f);

	/* a 40-bit output space: 2^40 is out, the page below it is in */
	rv_init_ex(&f, m, 40, 0, 0, 0);
	assert_int_equal(rv_map(&f, gpas[2], 1ull << 40, 4096, TDP_PROT_RW, 0, NULL),
			 -TDP_ERANGE);
	assert_int_equal(rv_map(&f, gpas[2], (1ull << 40) - 4096, 4096, TDP_PROT_RW, 0, NULL),
			 0);
	assert_int_equal(raw_leaf(&f, gpas[2], 0) & PTE_PPN_MASK, 0xfffffffull << PTE_PPN_SHIFT);
	scan_check(&f);
	rv_fini(&f);
}

/* Memory caches: 4 KiB pages only (the 16 KiB root is never taken from one). */
static void t_memcache(void **state)
{
	const struct mode *m = *state;
	uint64_t g = (3ull << (m->ia - 2)) + 2 * MiB + 4096;
	struct tdp_memcache mc;
	struct rv f;
	long need;

	rv_init(&f, m, 0);
	need = tdp_map_pages_needed(&f.pgt, g, 1ull << 33, 4096, 0);
	assert_true(need >= (long)m->levels - 1);
	tdp_memcache_init(&mc);
	assert_int_equal(tdp_memcache_topup(&f.pgt, &mc, (size_t)need), 0);
	assert_int_equal(mc.page_size, 4096);
	f.extra = mc.nr;
	assert_int_equal(tdp_map(&f.pgt, g, 1ull << 33, 4096, TDP_PROT_RW, 0, &mc), 0);
	f.extra = mc.nr;
	assert_int_equal(scan_check(&f).tables, m->levels - 1);
	assert_int_equal(raw_leaf(&f, g, 0), leaf_bits(&f, 1ull << 33, XWR_R | XWR_W, 0, 0));
	tdp_memcache_drain(&f.pgt, &mc);
	f.extra = 0;
	scan_check(&f);
	rv_fini(&f);
}

/* ------------------------------------------------------------------ */
/* 4. U, A and D                                                       */

/*
 * The leaves a few permission sets and sizes give; every one compared
 * whole with the value composed by hand (U = 1; without Svadu A = 1 and
 * D = 1 exactly on the writable ones; with Svadu A = D = 0).
 */
static void map_mix_and_check(struct rv *f, uint64_t G, uint64_t H)
{
	static const struct {
		tdp_attr_t attr;
		unsigned int xwr;
	} p[] = {
		{ TDP_PROT_R, XWR_R },
		{ TDP_PROT_RW, XWR_R | XWR_W },
		{ TDP_PROT_RX, XWR_R | XWR_X },
		{ TDP_PROT_RWX, XWR_R | XWR_W | XWR_X },
		{ TDP_PROT_X, XWR_X },
	};

	for (unsigned int i = 0; i < 5; i++) {
		uint64_t g = G + i * 4096, h = H + i * 4096;

		assert_int_equal(rv_map(f, g, h, 4096, p[i].attr, 0, NULL), 0);
		assert_int_equal(raw_leaf(f, g, 0), leaf_bits(f, h, p[i].xwr, 0, 0));
		/* 2 MiB blocks, and 1 GiB ones (the root on Sv39x4) */
		g = G + (i + 1) * 2 * MiB;
		h = H + (i + 1) * 2 * MiB;
		assert_int_equal(rv_map(f, g, h, 2 * MiB, p[i].attr, 0, NULL), 0);
		assert_int_equal(raw_leaf(f, g, 1), leaf_bits(f, h, p[i].xwr, 0, 0));
		g = G + (i + 1) * GiB;
		h = H + (i + 1) * GiB;
		assert_int_equal(rv_map(f, g, h, GiB, p[i].attr, 0, NULL), 0);
		assert_int_equal(raw_leaf(f, g, 2), leaf_bits(f, h, p[i].xwr, 0, 0));
	}
	scan_check(f);
}

static void t_uad_svade(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 8 * GiB, H = 16 * GiB;
	uint64_t bitmap[2] = { 0, 0 }, e;
	bool young = false;
	struct rv f;

	rv_init(&f, m, 0);
	map_mix_and_check(&f, G, H);
	/* every table entry on the way: V | PPN only (entry_at asserts it) */
	for (unsigned int l = m->levels - 1; l > 0; l--) {
		e = *entry_at(&f, G, l);
		assert_int_equal(e & ~PTE_PPN_MASK, PTE_V);
		assert_int_equal(e & (PTE_U | PTE_A | PTE_D | PTE_PBMT_MASK | PTE_N), 0);
	}
	/* adding W: the leaf becomes writable and gets D (riscv.h: D on writable leaves) */
	assert_int_equal(rv_protect(&f, G, 4096, 0, TDP_PROT_RW, NULL), 0);
	assert_int_equal(raw_leaf(&f, G, 0), leaf_bits(&f, H, XWR_R | XWR_W, 0, 0));
	assert_int_equal(rv_protect(&f, G + 2 * MiB, 2 * MiB, 0, TDP_PROT_RW, NULL), 0);
	assert_int_equal(raw_leaf(&f, G + 2 * MiB, 1),
			 leaf_bits(&f, H + 2 * MiB, XWR_R | XWR_W, 0, 0));
	/* execute-only + R + W */
	assert_int_equal(rv_protect(&f, G + 4 * 4096, 4096, 0, TDP_PROT_RW, NULL), 0);
	assert_int_equal(raw_leaf(&f, G + 4 * 4096, 0),
			 leaf_bits(&f, H + 4 * 4096, XWR_R | XWR_W | XWR_X, 0, 0));
	/*
	 * removing W: A stays, W goes; riscv.h does not say whether D is
	 * cleared, so D is not compared here (a read-only leaf's D is never used).
	 */
	assert_int_equal(rv_protect(&f, G + 4096, 4096, TDP_PROT_W, 0, NULL), 0);
	assert_int_equal(raw_leaf(&f, G + 4096, 0) & ~PTE_D,
			 leaf_bits(&f, H + 4096, XWR_R, 0, 0));
	assert_int_equal(rv_protect(&f, G + GiB + GiB, GiB, TDP_PROT_W, 0, NULL), 0);
	assert_int_equal(raw_leaf(&f, 2 * GiB + G, 2) & ~PTE_D,
			 leaf_bits(&f, H + 2 * GiB, XWR_R, 0, 0));
	/* a split block keeps U/A/D on each child */
	assert_int_equal(rv_split(&f, G + 3 * 2 * MiB, 2 * MiB, 0, NULL), 0);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(raw_leaf(&f, G + 6 * MiB + i * 4096ull, 0),
				 leaf_bits(&f, H + 6 * MiB + i * 4096ull, XWR_R | XWR_X, 0, 0));
	scan_check(&f);
	/* no harvesting without Svadu */
	assert_int_equal(tdp_test_clear_young(&f.pgt, G, 4096, &young), -TDP_EOPNOTSUPP);
	assert_int_equal(tdp_collect_dirty(&f.pgt, G, 4096, bitmap), -TDP_EOPNOTSUPP);
	assert_int_equal(tdp_test_clear_young(&f.pgt, G, 4 * MiB, &young), -TDP_EOPNOTSUPP);
	assert_int_equal(tdp_collect_dirty(&f.pgt, G, 64 * 4096, bitmap), -TDP_EOPNOTSUPP);
	assert_int_equal(bitmap[0] | bitmap[1], 0);
	scan_check(&f);
	rv_fini(&f);
}

static void t_uad_svadu(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 8 * GiB, H = 16 * GiB;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVADU);
	map_mix_and_check(&f, G, H); /* leaf_bits: A = D = 0 under Svadu */
	assert_int_equal(raw_leaf(&f, G + 4096, 0) & (PTE_A | PTE_D | PTE_U), PTE_U);
	assert_int_equal(rv_protect(&f, G, 4096, 0, TDP_PROT_RW, NULL), 0);
	assert_int_equal(raw_leaf(&f, G, 0), leaf_bits(&f, H, XWR_R | XWR_W, 0, 0));
	assert_int_equal(rv_split(&f, G + 2 * 2 * MiB, 2 * MiB, 0, NULL), 0);
	assert_int_equal(raw_leaf(&f, G + 4 * MiB + 4096, 0),
			 leaf_bits(&f, H + 4 * MiB + 4096, XWR_R | XWR_W, 0, 0));
	scan_check(&f);
	rv_fini(&f);
}

/* Play the hart: set A and/or D in the raw leaf covering gpa. */
static void hart_sets(struct rv *f, uint64_t gpa, uint64_t bits)
{
	uint64_t *e = leaf_ptr(f, gpa, NULL);

	assert_non_null(e);
	f->hand_ad = true;
	*e |= bits;
}

static uint64_t raw_ad(const struct rv *f, uint64_t gpa)
{
	uint64_t *e = leaf_ptr(f, gpa, NULL);

	assert_non_null(e);
	return *e & (PTE_A | PTE_D);
}

#define NWORDS ((2 * MiB / 4096 + 2 + 63) / 64) /* 514 pages: 9 words */

static void t_harvest_svadu(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 4 * GiB, H = 8 * GiB + 64 * KiB, HB = 12 * GiB;
	uint64_t bm[NWORDS + 1], blk[512 / 64];
	bool young;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVADU);
	/* 8 pages at G and one 2 MiB block at G + 2 MiB */
	assert_int_equal(rv_map(&f, G, H, 8 * 4096, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(rv_map(&f, G + 2 * MiB, HB, 2 * MiB, TDP_PROT_RW, 0, NULL), 0);
	raw_leaf(&f, G + 2 * MiB, 1);
	scan_check(&f);

	/* nothing accessed yet; aging never invalidates */
	fl_reset(&f);
	young = true;
	assert_int_equal(tdp_test_clear_young(&f.pgt, G, 4 * MiB, &young), 0);
	assert_false(young);
	/* unmapped range: not young */
	young = true;
	assert_int_equal(tdp_test_clear_young(&f.pgt, G + 64 * 4096, 4096, &young), 0);
	assert_false(young);

	/* the hart: accessed on page 1, accessed + dirty on pages 3 and 5 and on the block */
	hart_sets(&f, G + 1 * 4096, PTE_A);
	hart_sets(&f, G + 3 * 4096, PTE_A | PTE_D);
	hart_sets(&f, G + 5 * 4096, PTE_A | PTE_D);
	hart_sets(&f, G + 2 * MiB, PTE_A | PTE_D);
	scan_check(&f);
	young = false;
	assert_int_equal(tdp_test_clear_young(&f.pgt, G, 4 * MiB, &young), 0);
	assert_true(young);
	/* A cleared everywhere, D untouched */
	assert_int_equal(raw_ad(&f, G + 1 * 4096), 0);
	assert_int_equal(raw_ad(&f, G + 3 * 4096), PTE_D);
	assert_int_equal(raw_ad(&f, G + 5 * 4096), PTE_D);
	assert_int_equal(raw_ad(&f, G + 2 * MiB), PTE_D);
	young = true;
	assert_int_equal(tdp_test_clear_young(&f.pgt, G, 4 * MiB, &young), 0);
	assert_false(young);

	/* only leaves intersecting the range */
	hart_sets(&f, G + 6 * 4096, PTE_A);
	young = true;
	assert_int_equal(tdp_test_clear_young(&f.pgt, G, 6 * 4096, &young), 0);
	assert_false(young);
	assert_int_equal(raw_ad(&f, G + 6 * 4096), PTE_A);
	assert_int_equal(tdp_test_clear_young(&f.pgt, G + 6 * 4096, 4096, &young), 0);
	assert_true(young);
	assert_int_equal(raw_ad(&f, G + 6 * 4096), 0);
	/* a block intersecting the range by one page is cleared (it is one leaf) */
	hart_sets(&f, G + 2 * MiB, PTE_A);
	assert_int_equal(tdp_test_clear_young(&f.pgt, G + 2 * MiB + 8 * 4096, 4096, &young), 0);
	assert_true(young);
	assert_int_equal(raw_ad(&f, G + 2 * MiB), PTE_D);
	assert_int_equal(f.nfl, 0); /* "No TLB invalidation (aging is a hint)" */

	/* dirty over [G, G + 2 MiB + 8 KiB): the block straddles the end */
	memset(bm, 0, sizeof(bm));
	bm[NWORDS] = 0x5a5a5a5a5a5a5a5aull; /* guard: beyond size / page bits */
	fl_reset(&f);
	assert_int_equal(tdp_collect_dirty(&f.pgt, G, 2 * MiB + 8192, bm), 0);
	assert_int_equal(bm[0], (1ull << 3) | (1ull << 5));
	for (unsigned int i = 1; i < 8; i++)
		assert_int_equal(bm[i], 0);
	assert_int_equal(bm[8], 3); /* the block's two pages inside the range */
	assert_int_equal(bm[NWORDS], 0x5a5a5a5a5a5a5a5aull);
	/* one invalidation, covering the pages made clean */
	assert_int_equal(f.nfl, 1);
	expect_flushed(&f, G + 3 * 4096, 4096, "collect_dirty");
	expect_flushed(&f, G + 5 * 4096, 4096, "collect_dirty");
	assert_int_equal(raw_ad(&f, G + 3 * 4096), 0);
	assert_int_equal(raw_ad(&f, G + 5 * 4096), 0);
	assert_int_equal(raw_ad(&f, G + 2 * MiB), PTE_D); /* straddling: stays dirty */
	/* again: the pages are clean, the block still reports its two pages */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f.pgt, G, 2 * MiB + 8192, bm), 0);
	assert_int_equal(bm[0], 0);
	assert_int_equal(bm[8], 3);
	/* the whole block: 512 pages, then clean */
	memset(blk, 0, sizeof(blk));
	fl_reset(&f);
	assert_int_equal(tdp_collect_dirty(&f.pgt, G + 2 * MiB, 2 * MiB, blk), 0);
	for (unsigned int i = 0; i < 8; i++)
		assert_int_equal(blk[i], ~0ull);
	assert_int_equal(f.nfl, 1);
	expect_flushed(&f, G + 2 * MiB, 2 * MiB, "collect_dirty of a block");
	assert_int_equal(raw_ad(&f, G + 2 * MiB), 0);
	memset(blk, 0, sizeof(blk));
	assert_int_equal(tdp_collect_dirty(&f.pgt, G + 2 * MiB, 2 * MiB, blk), 0);
	for (unsigned int i = 0; i < 8; i++)
		assert_int_equal(blk[i], 0);
	/* the hart's D on a page reported at its own bit, range not starting at 0 */
	hart_sets(&f, G + 7 * 4096, PTE_A | PTE_D);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f.pgt, G + 4 * 4096, 4 * 4096, bm), 0);
	assert_int_equal(bm[0], 1ull << 3);
	assert_int_equal(raw_ad(&f, G + 7 * 4096), PTE_A);

	/* bad arguments */
	assert_int_equal(tdp_collect_dirty(&f.pgt, G, 4096, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_test_clear_young(&f.pgt, G, 4096, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_test_clear_young(&f.pgt, G + 1, 4096, &young), -TDP_EINVAL);
	assert_int_equal(tdp_collect_dirty(&f.pgt, G, 0, bm), -TDP_EINVAL);
	assert_int_equal(tdp_collect_dirty(&f.pgt, G, 100, bm), -TDP_EINVAL);
	assert_int_equal(tdp_collect_dirty(&f.pgt, 1ull << m->ia, 4096, bm), -TDP_ERANGE);
	assert_int_equal(tdp_test_clear_young(NULL, G, 4096, &young), -TDP_EINVAL);
	scan_check(&f);
	rv_fini(&f);
}

/* ------------------------------------------------------------------ */
/* 5. Permissions, software bits, refused attributes                   */

static void t_permissions(void **state)
{
	static const struct {
		tdp_attr_t attr;
		unsigned int xwr;
	} ok[] = {
		{ TDP_PROT_R, XWR_R },
		{ TDP_PROT_RW, XWR_R | XWR_W },
		{ TDP_PROT_RX, XWR_R | XWR_X },
		{ TDP_PROT_RWX, XWR_R | XWR_W | XWR_X },
		{ TDP_PROT_X, XWR_X },
	};
	static const tdp_attr_t bad[] = {
		0,                                     /* X W R = 000 is a table pointer */
		TDP_PROT_W,                            /* reserved */
		TDP_PROT_W | TDP_PROT_X,               /* reserved */
		TDP_PROT_R | TDP_PROT_XP,              /* one execute bit only */
		TDP_PROT_R | TDP_PROT_XU,
		TDP_PROT_XP,
		TDP_PROT_XU,
		TDP_PROT_RW | TDP_PROT_XP,
		TDP_PROT_RW | TDP_PROT_XU,
		TDP_PROT_RW | TDP_SW(4),               /* only two software bits */
		TDP_PROT_RW | TDP_SW(8),
		TDP_PROT_RW | TDP_SW(0xc),
		TDP_PROT_RW | (1u << 12),              /* format bits 12..15: none */
		TDP_PROT_RW | (1u << 13),
		TDP_PROT_RW | (1u << 14),
		TDP_PROT_RW | (1u << 15),
		TDP_PROT_RW | (1u << 7),               /* undefined neutral bits */
		TDP_PROT_RW | (1u << 16),
		TDP_PROT_RW | (1u << 31),
		TDP_PROT_RW | (4u << TDP_MT_SHIFT),    /* undefined memory types */
		TDP_PROT_RW | (7u << TDP_MT_SHIFT),
	};
	const struct mode *m = *state;
	const uint64_t G = 2 * GiB, H = 3 * GiB;
	struct tdp_tk_pool_stats st, st2;
	struct tdp_lookup_result r;
	uint64_t snap[8];
	struct rv f;

	rv_init(&f, m, 0);
	for (unsigned int i = 0; i < 5; i++) {
		uint64_t g = G + i * 4096, h = H + i * 4096;

		assert_int_equal(rv_map(&f, g, h, 4096, ok[i].attr | TDP_MT_NORMAL_WB, 0, NULL),
				 0);
		assert_int_equal(raw_leaf(&f, g, 0), leaf_bits(&f, h, ok[i].xwr, 0, 0));
		expect_lookup(&f, g + 8, h + 8, 0, ok[i].attr);
		assert_int_equal(tdp_lookup(&f.pgt, g, &r), 0);
		assert_int_equal(r.size, 4096);
		assert_int_equal(r.pte, raw_leaf(&f, g, 0));
	}
	/* refused: nothing written, no page kept */
	tdp_tk_pool_stats(f.pool, &st);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = rv_map(&f, G + 64 * MiB, H, 4096, bad[i], 0, NULL);

		if (rc != -TDP_EINVAL)
			fail_msg("map with attr 0x%x returned %d, expected -TDP_EINVAL", bad[i], rc);
		assert_int_equal(tdp_lookup(&f.pgt, G + 64 * MiB, &r), -TDP_ENOENT);
		/* also over an existing mapping: it stays as it was */
		assert_int_equal(rv_map(&f, G, H, 4096, bad[i], 0, NULL), -TDP_EINVAL);
		assert_int_equal(raw_leaf(&f, G, 0), leaf_bits(&f, H, XWR_R, 0, 0));
	}
	tdp_tk_pool_stats(f.pool, &st2);
	assert_int_equal(st2.out_blocks, st.out_blocks);

	/* software bits: TDP_SW(0..3) in RSW (bits 9:8), read back by lookup */
	for (unsigned int v = 0; v < 4; v++) {
		uint64_t g = G + 2 * MiB + v * 4096, h = H + 2 * MiB + v * 4096;

		assert_int_equal(rv_map(&f, g, h, 4096, TDP_PROT_RW | TDP_SW(v), 0, NULL), 0);
		assert_int_equal(raw_leaf(&f, g, 0), leaf_bits(&f, h, XWR_R | XWR_W, v, 0));
		assert_int_equal((raw_leaf(&f, g, 0) >> 8) & 3, v);
		expect_lookup(&f, g, h, 0, TDP_PROT_RW | TDP_SW(v));
	}
	/* and on a block */
	assert_int_equal(rv_map(&f, G + 4 * MiB, H + 4 * MiB, 2 * MiB, TDP_PROT_RX | TDP_SW(2),
				 0, NULL), 0);
	assert_int_equal(raw_leaf(&f, G + 4 * MiB, 1),
			 leaf_bits(&f, H + 4 * MiB, XWR_R | XWR_X, 2, 0));
	expect_lookup(&f, G + 5 * MiB, H + 5 * MiB, 1, TDP_PROT_RX | TDP_SW(2));
	/* protect moves software bits: SW 1 -> 3 -> 2 */
	assert_int_equal(rv_protect(&f, G + 2 * MiB + 4096, 4096, 0, TDP_SW(3), NULL), 0);
	assert_int_equal((raw_leaf(&f, G + 2 * MiB + 4096, 0) >> 8) & 3, 3);
	assert_int_equal(rv_protect(&f, G + 2 * MiB + 4096, 4096, TDP_SW(1), 0, NULL), 0);
	assert_int_equal(raw_leaf(&f, G + 2 * MiB + 4096, 0),
			 leaf_bits(&f, H + 2 * MiB + 4096, XWR_R | XWR_W, 2, 0));
	expect_lookup(&f, G + 2 * MiB + 4096, H + 2 * MiB + 4096, 0, TDP_PROT_RW | TDP_SW(2));
	scan_check(&f);

	/*
	 * protect that could leave W without R, or no permission at all, on
	 * some possible leaf (pgtable.h: "a change the format cannot express
	 * on every possible entry"): refused, nothing changes.
	 */
	for (unsigned int i = 0; i < 5; i++)
		snap[i] = raw_leaf(&f, G + i * 4096, 0);
	tdp_tk_pool_stats(f.pool, &st);
	{
		static const struct {
			tdp_attr_t clear, set;
		} pbad[] = {
			{ TDP_PROT_R, 0 },                   /* RW -> W */
			{ 0, TDP_PROT_W },                   /* X -> WX */
			{ TDP_PROT_R, TDP_PROT_X },          /* RW -> WX */
			{ TDP_PROT_X, 0 },                   /* X -> nothing */
			{ TDP_PROT_RWX, 0 },                 /* nothing */
			{ TDP_PROT_R | TDP_PROT_X, 0 },      /* R -> nothing, RW -> W */
			{ TDP_PROT_XP, 0 },                  /* one execute bit */
			{ 0, TDP_PROT_XU },
			{ TDP_PROT_XU, TDP_PROT_XP },
			{ 0, TDP_SW(4) },                    /* only two software bits */
			{ 0, 1u << 12 },                     /* outside the mask */
			{ 1u << 13, 0 },
			{ TDP_MT_MASK, 0 },
			{ 0, TDP_MT_DEVICE },
		};

		for (size_t i = 0; i < sizeof(pbad) / sizeof(pbad[0]); i++) {
			int rc = rv_protect(&f, G, 5 * 4096, pbad[i].clear, pbad[i].set, NULL);

			if (rc != -TDP_EINVAL)
				fail_msg("protect clear 0x%x set 0x%x returned %d, expected -TDP_EINVAL",
					 pbad[i].clear, pbad[i].set, rc);
			for (unsigned int j = 0; j < 5; j++)
				assert_int_equal(raw_leaf(&f, G + j * 4096, 0), snap[j]);
		}
	}
	tdp_tk_pool_stats(f.pool, &st2);
	assert_int_equal(st2.out_blocks, st.out_blocks);
	/* the expressible ones: set R|W, drop W, swap execute for read */
	assert_int_equal(rv_protect(&f, G + 4 * 4096, 4096, 0, TDP_PROT_RW, NULL), 0);
	assert_int_equal(raw_leaf(&f, G + 4 * 4096, 0),
			 leaf_bits(&f, H + 4 * 4096, XWR_R | XWR_W | XWR_X, 0, 0));
	assert_int_equal(rv_protect(&f, G, 5 * 4096, TDP_PROT_X, TDP_PROT_R, NULL), 0);
	for (unsigned int i = 0; i < 5; i++) {
		unsigned int want = (i == 1 || i == 3 || i == 4) ? (XWR_R | XWR_W) : XWR_R;

		assert_int_equal(raw_leaf(&f, G + i * 4096, 0),
				 leaf_bits(&f, H + i * 4096, want, 0, 0));
	}
	assert_int_equal(rv_protect(&f, G, 5 * 4096, TDP_PROT_R | TDP_PROT_W, TDP_PROT_X, NULL),
			 0);
	for (unsigned int i = 0; i < 5; i++) {
		assert_int_equal(raw_leaf(&f, G + i * 4096, 0) & ~PTE_D,
				 leaf_bits(&f, H + i * 4096, XWR_X, 0, 0));
		expect_lookup(&f, G + i * 4096, H + i * 4096, 0, TDP_PROT_X);
	}
	assert_int_equal(rv_protect(&f, G, 5 * 4096, 0, TDP_PROT_RW, NULL), 0);
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(raw_leaf(&f, G + i * 4096, 0),
				 leaf_bits(&f, H + i * 4096, XWR_R | XWR_W | XWR_X, 0, 0));
	/* a protect of a whole block keeps it a block */
	assert_int_equal(rv_protect(&f, G + 4 * MiB, 2 * MiB, TDP_PROT_X, TDP_PROT_RW, NULL),
			 0);
	assert_int_equal(raw_leaf(&f, G + 4 * MiB, 1),
			 leaf_bits(&f, H + 4 * MiB, XWR_R | XWR_W, 2, 0));
	scan_check(&f);
	rv_fini(&f);
}

/* ------------------------------------------------------------------ */
/* 6. Svpbmt                                                           */

static void t_svpbmt(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 1 * GiB, H = 5 * GiB;
	static const struct {
		tdp_attr_t mt;
		unsigned int pbmt;
	} t[] = {
		{ TDP_MT_NORMAL_WB, PBMT_PMA },
		{ TDP_MT_NORMAL_NC, PBMT_NC },
		{ TDP_MT_DEVICE, PBMT_IO },
	};
	struct tdp_lookup_result r;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVPBMT);
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t g = G + i * 4096, h = H + i * 4096;

		assert_int_equal(rv_map(&f, g, h, 4096, TDP_PROT_RW | t[i].mt, 0, NULL), 0);
		assert_int_equal(raw_leaf(&f, g, 0), leaf_bits(&f, h, XWR_R | XWR_W, 0, t[i].pbmt));
		assert_int_equal((raw_leaf(&f, g, 0) >> 61) & 3, t[i].pbmt);
		expect_lookup(&f, g, h, 0, TDP_PROT_RW | t[i].mt);
		/* blocks too */
		g = G + (i + 1) * 2 * MiB;
		h = H + (i + 1) * 2 * MiB;
		assert_int_equal(rv_map(&f, g, h, 2 * MiB, TDP_PROT_R | t[i].mt, 0, NULL), 0);
		assert_int_equal(raw_leaf(&f, g, 1), leaf_bits(&f, h, XWR_R, 0, t[i].pbmt));
		expect_lookup(&f, g + 4096, h + 4096, 1, TDP_PROT_R | t[i].mt);
	}
	/* IO is the only device type: strict device is refused */
	assert_int_equal(rv_map(&f, G + 64 * MiB, H, 4096, TDP_PROT_RW | TDP_MT_DEVICE_STRICT,
				 0, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_lookup(&f.pgt, G + 64 * MiB, &r), -TDP_ENOENT);
	/* a split NC block: every child NC, the new table entry without PBMT */
	assert_int_equal(rv_split(&f, G + 4 * MiB, 2 * MiB, 0, NULL), 0);
	assert_int_equal(*entry_at(&f, G + 4 * MiB, 1) & ~PTE_PPN_MASK, PTE_V);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(raw_leaf(&f, G + 4 * MiB + i * 4096ull, 0),
				 leaf_bits(&f, H + 4 * MiB + i * 4096ull, XWR_R, 0, PBMT_NC));
	/* protect keeps the type */
	assert_int_equal(rv_protect(&f, G + 6 * MiB, 2 * MiB, 0, TDP_PROT_RW, NULL), 0);
	assert_int_equal(raw_leaf(&f, G + 6 * MiB, 1),
			 leaf_bits(&f, H + 6 * MiB, XWR_R | XWR_W, 0, PBMT_IO));
	expect_lookup(&f, G + 6 * MiB, H + 6 * MiB, 1, TDP_PROT_RW | TDP_MT_DEVICE);
	/* remapping a page with another type rewrites PBMT */
	assert_int_equal(rv_map(&f, G + 2 * 4096, H, 4096, TDP_PROT_RW | TDP_MT_NORMAL_NC, 0,
				 NULL), 0);
	assert_int_equal(raw_leaf(&f, G + 2 * 4096, 0), leaf_bits(&f, H, XWR_R | XWR_W, 0, PBMT_NC));
	/* no table entry carries PBMT (scan_check: V | PPN only) */
	scan_check(&f);
	rv_fini(&f);

	/* without Svpbmt: only write-back */
	rv_init(&f, m, 0);
	assert_int_equal(rv_map(&f, G, H, 4096, TDP_PROT_RW | TDP_MT_NORMAL_NC, 0, NULL),
			 -TDP_EINVAL);
	assert_int_equal(rv_map(&f, G, H, 4096, TDP_PROT_RW | TDP_MT_DEVICE, 0, NULL),
			 -TDP_EINVAL);
	assert_int_equal(rv_map(&f, G, H, 4096, TDP_PROT_RW | TDP_MT_DEVICE_STRICT, 0, NULL),
			 -TDP_EINVAL);
	assert_int_equal(tdp_lookup(&f.pgt, G, &r), -TDP_ENOENT);
	assert_int_equal(scan_check(&f).tables, 0);
	assert_int_equal(rv_map(&f, G, H, 2 * MiB, TDP_PROT_RW | TDP_MT_NORMAL_WB, 0, NULL), 0);
	assert_int_equal(raw_leaf(&f, G, 1), leaf_bits(&f, H, XWR_R | XWR_W, 0, PBMT_PMA));
	scan_check(&f);
	rv_fini(&f);

	/* PMA_MT: NC and device accepted, no type in the entry, lookup says write-back */
	rv_init(&f, m, TDP_CFG_RISCV_PMA_MT);
	assert_int_equal(rv_map(&f, G, H, 4096, TDP_PROT_RW | TDP_MT_NORMAL_NC, 0, NULL), 0);
	assert_int_equal(rv_map(&f, G + 4096, H + 4096, 4096, TDP_PROT_RW | TDP_MT_DEVICE, 0,
				 NULL), 0);
	assert_int_equal(rv_map(&f, G + 2 * MiB, H + 2 * MiB, 2 * MiB,
				 TDP_PROT_R | TDP_MT_DEVICE, 0, NULL), 0);
	assert_int_equal(raw_leaf(&f, G, 0), leaf_bits(&f, H, XWR_R | XWR_W, 0, PBMT_PMA));
	assert_int_equal(raw_leaf(&f, G + 4096, 0),
			 leaf_bits(&f, H + 4096, XWR_R | XWR_W, 0, PBMT_PMA));
	assert_int_equal(raw_leaf(&f, G + 2 * MiB, 1),
			 leaf_bits(&f, H + 2 * MiB, XWR_R, 0, PBMT_PMA));
	expect_lookup(&f, G, H, 0, TDP_PROT_RW | TDP_MT_NORMAL_WB);
	expect_lookup(&f, G + 4096, H + 4096, 0, TDP_PROT_RW | TDP_MT_NORMAL_WB);
	expect_lookup(&f, G + 2 * MiB, H + 2 * MiB, 1, TDP_PROT_R | TDP_MT_NORMAL_WB);
	/* riscv.h lists NC and device for PMA_MT; strict device has no PMA meaning either */
	assert_int_equal(rv_map(&f, G + 8192, H, 4096, TDP_PROT_RW | TDP_MT_DEVICE_STRICT, 0,
				 NULL), -TDP_EINVAL);
	scan_check(&f);
	rv_fini(&f);
}

/* ------------------------------------------------------------------ */
/* 7. Svnapot                                                          */

/* Each 4 KiB page of a group at G -> base: the group's raw value and the lookup. */
static void expect_group(const struct rv *f, uint64_t G, uint64_t base, tdp_attr_t attr,
			 unsigned int xwr, unsigned int rsw, unsigned int pbmt)
{
	uint64_t want = napot_bits(f, base, xwr, rsw, pbmt);

	for (unsigned int i = 0; i < 16; i++) {
		uint64_t g = G + i * 4096ull + 0x10 * i;
		struct tdp_lookup_result r;

		if (raw_leaf(f, G + i * 4096ull, 0) != want)
			fail_msg("group at 0x%llx, entry %u: 0x%016llx, expected 0x%016llx", ULL(G), i,
				 ULL(raw_leaf(f, G + i * 4096ull, 0)), ULL(want));
		expect_lookup(f, g, base + i * 4096ull + 0x10 * i, 0, attr);
		assert_int_equal(tdp_lookup(&f->pgt, g, &r), 0);
		/* pgtable.h: "bytes mapped by the leaf": the page or the group */
		assert_true(r.size == 4096 || r.size == 64 * KiB);
	}
}

/* 16 ordinary entries at G -> base + i * 4 KiB (N = 0). */
static void expect_plain(const struct rv *f, uint64_t G, uint64_t base, unsigned int n,
			 unsigned int xwr, unsigned int rsw, unsigned int pbmt)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = raw_leaf(f, G + i * 4096ull, 0);
		uint64_t want = leaf_bits(f, base + i * 4096ull, xwr, rsw, pbmt);

		if (e != want)
			fail_msg("gpa 0x%llx: 0x%016llx, expected the plain entry 0x%016llx",
				 ULL(G + i * 4096ull), ULL(e), ULL(want));
	}
}

static void t_napot_map(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 1 * GiB, H = 6 * GiB;
	struct tdp_lookup_result r;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVNAPOT);
	/* a 64 KiB-aligned 64 KiB map with a 64 KiB-aligned host: one group */
	assert_int_equal(rv_map(&f, G, H, 64 * KiB, TDP_PROT_RW, 0, NULL), 0);
	expect_group(&f, G, H, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	/* e.g. for H = 6 GiB: PPN 0x180008 */
	assert_int_equal(raw_leaf(&f, G, 0) & PTE_PPN_MASK, ((H >> 12) | 8) << PTE_PPN_SHIFT);
	expect_raw_unmapped(&f, G + 64 * KiB, 64 * KiB);
	assert_int_equal(tdp_lookup(&f.pgt, G - 4096, &r), -TDP_ENOENT);
	assert_int_equal(scan_check(&f).napot, 16);

	/* 64 KiB-aligned GPA, host aligned to 4 KiB only: no group */
	assert_int_equal(rv_map(&f, G + MiB, H + MiB + 4096, 256 * KiB, TDP_PROT_RW, 0, NULL),
			 0);
	expect_plain(&f, G + MiB, H + MiB + 4096, 64, XWR_R | XWR_W, 0, 0);
	/* host 64 KiB-aligned but 32 KiB away from the GPA's alignment: no group */
	assert_int_equal(rv_map(&f, G + MiB + 512 * KiB, H + 2 * MiB + 32 * KiB, 128 * KiB,
				 TDP_PROT_R, 0, NULL), 0);
	expect_plain(&f, G + MiB + 512 * KiB, H + 2 * MiB + 32 * KiB, 32, XWR_R, 0, 0);
	assert_int_equal(scan_check(&f).napot, 16);

	/* [60 KiB, 200 KiB) of a fresh 2 MiB: groups at 64 and 128 KiB only */
	{
		const uint64_t g2 = G + 2 * MiB, h2 = H + 4 * MiB;

		assert_int_equal(rv_map(&f, g2 + 60 * KiB, h2 + 60 * KiB, 140 * KiB,
					 TDP_PROT_RWX, 0, NULL), 0);
		expect_raw_unmapped(&f, g2, 60 * KiB);
		expect_plain(&f, g2 + 60 * KiB, h2 + 60 * KiB, 1, XWR_R | XWR_W | XWR_X, 0, 0);
		expect_group(&f, g2 + 64 * KiB, h2 + 64 * KiB, TDP_PROT_RWX, XWR_R | XWR_W | XWR_X, 0,
			     0);
		expect_group(&f, g2 + 128 * KiB, h2 + 128 * KiB, TDP_PROT_RWX,
			     XWR_R | XWR_W | XWR_X, 0, 0);
		expect_plain(&f, g2 + 192 * KiB, h2 + 192 * KiB, 2, XWR_R | XWR_W | XWR_X, 0, 0);
		expect_raw_unmapped(&f, g2 + 200 * KiB, 56 * KiB);
		assert_int_equal(scan_check(&f).napot, 48);
	}

	/* 2 MiB + 68 KiB: a block, then a group, then one page */
	assert_int_equal(rv_map(&f, G + 4 * MiB, H + 8 * MiB, 2 * MiB + 68 * KiB,
				 TDP_PROT_X, 0, NULL), 0);
	raw_leaf(&f, G + 4 * MiB, 1);
	assert_int_equal(raw_leaf(&f, G + 4 * MiB, 1), leaf_bits(&f, H + 8 * MiB, XWR_X, 0, 0));
	expect_group(&f, G + 6 * MiB, H + 10 * MiB, TDP_PROT_X, XWR_X, 0, 0);
	expect_plain(&f, G + 6 * MiB + 64 * KiB, H + 10 * MiB + 64 * KiB, 1, XWR_X, 0, 0);

	/* NOREPLACE over part of a group: -TDP_EEXIST, the group intact */
	assert_int_equal(rv_map(&f, G + 4096, H, 4096, TDP_PROT_R, TDP_MAP_NOREPLACE, NULL),
			 -TDP_EEXIST);
	expect_group(&f, G, H, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	/* a group in a table of its own at the top of the space */
	{
		uint64_t top = (1ull << m->ia) - 64 * KiB;

		assert_int_equal(rv_map(&f, top, (1ull << 56) - 64 * KiB, 64 * KiB, TDP_PROT_R, 0,
					 NULL), 0);
		expect_group(&f, top, (1ull << 56) - 64 * KiB, TDP_PROT_R, XWR_R, 0, 0);
	}
	scan_check(&f);
	rv_fini(&f);

	/* with Svadu, Svpbmt and software bits: every field of the group */
	rv_init(&f, m, TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_SVADU);
	assert_int_equal(rv_map(&f, G, H, 64 * KiB,
				 TDP_PROT_RX | TDP_MT_NORMAL_NC | TDP_SW(1), 0, NULL), 0);
	expect_group(&f, G, H, TDP_PROT_RX | TDP_MT_NORMAL_NC | TDP_SW(1), XWR_R | XWR_X, 1,
		     PBMT_NC);
	assert_int_equal(raw_leaf(&f, G, 0),
			 PTE_N | (1ull << 61) | (((H >> 12) | 8) << 10) | (1ull << 8) | PTE_U |
			 PTE_X | PTE_R | PTE_V);
	scan_check(&f);
	rv_fini(&f);
}

static void t_napot_unmap_part(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 1 * GiB + 2 * MiB, H = 6 * GiB;
	struct tdp_lookup_result r;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVNAPOT);
	assert_int_equal(rv_map(&f, G, H, 128 * KiB, TDP_PROT_RW | TDP_SW(3), 0, NULL), 0);
	expect_group(&f, G, H, TDP_PROT_RW | TDP_SW(3), XWR_R | XWR_W, 3, 0);
	expect_group(&f, G + 64 * KiB, H + 64 * KiB, TDP_PROT_RW | TDP_SW(3), XWR_R | XWR_W, 3, 0);
	/* one page of the first group goes: 15 ordinary entries stay */
	fl_reset(&f);
	assert_int_equal(rv_unmap(&f, G + 5 * 4096, 4096, NULL), 0);
	expect_flushed(&f, G + 5 * 4096, 4096, "unmap of a page of a group");
	expect_plain(&f, G, H, 5, XWR_R | XWR_W, 3, 0);
	assert_int_equal(*entry_at(&f, G + 5 * 4096, 0), 0);
	assert_int_equal(tdp_lookup(&f.pgt, G + 5 * 4096, &r), -TDP_ENOENT);
	expect_plain(&f, G + 6 * 4096, H + 6 * 4096, 10, XWR_R | XWR_W, 3, 0);
	expect_group(&f, G + 64 * KiB, H + 64 * KiB, TDP_PROT_RW | TDP_SW(3), XWR_R | XWR_W, 3, 0);
	assert_int_equal(scan_check(&f).napot, 16);
	/* the last page of the second group, by a range that also covers a hole */
	assert_int_equal(rv_unmap(&f, G + 124 * KiB, 8 * KiB, NULL), 0);
	expect_plain(&f, G + 64 * KiB, H + 64 * KiB, 15, XWR_R | XWR_W, 3, 0);
	assert_int_equal(scan_check(&f).napot, 0);
	/* mapping the first 64 KiB again makes it a group again */
	assert_int_equal(rv_map(&f, G, H, 64 * KiB, TDP_PROT_RW | TDP_SW(3), 0, NULL), 0);
	expect_group(&f, G, H, TDP_PROT_RW | TDP_SW(3), XWR_R | XWR_W, 3, 0);
	/* a whole group unmapped: 16 empty entries */
	fl_reset(&f);
	assert_int_equal(rv_unmap(&f, G, 64 * KiB, NULL), 0);
	expect_flushed(&f, G, 64 * KiB, "unmap of a group");
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(*entry_at(&f, G + i * 4096ull, 0), 0);
	/* everything: the level-0 table goes */
	assert_int_equal(rv_unmap(&f, G, 128 * KiB, NULL), 0);
	assert_null(entry_at(&f, G, 0));
	assert_int_equal(scan_check(&f).leaves, 0);
	rv_fini(&f);
}

static void t_napot_protect(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 3 * GiB, H = 7 * GiB;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVNAPOT);
	assert_int_equal(rv_map(&f, G, H, 192 * KiB, TDP_PROT_RW, 0, NULL), 0);
	for (unsigned int g = 0; g < 3; g++)
		expect_group(&f, G + g * 64 * KiB, H + g * 64 * KiB, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	/* one page of group 0 read-only: the other 15 keep RW, all N = 0 */
	fl_reset(&f);
	assert_int_equal(rv_protect(&f, G + 3 * 4096, 4096, TDP_PROT_W, 0, NULL), 0);
	expect_flushed(&f, G + 3 * 4096, 4096, "protect of a page of a group");
	expect_plain(&f, G, H, 3, XWR_R | XWR_W, 0, 0);
	assert_int_equal(raw_leaf(&f, G + 3 * 4096, 0) & ~PTE_D,
			 leaf_bits(&f, H + 3 * 4096, XWR_R, 0, 0));
	expect_plain(&f, G + 4 * 4096, H + 4 * 4096, 12, XWR_R | XWR_W, 0, 0);
	expect_lookup(&f, G + 3 * 4096, H + 3 * 4096, 0, TDP_PROT_R);
	expect_lookup(&f, G + 4 * 4096, H + 4 * 4096, 0, TDP_PROT_RW);
	assert_int_equal(scan_check(&f).napot, 32);
	/* a whole group read-only: still a group */
	fl_reset(&f);
	assert_int_equal(rv_protect(&f, G + 64 * KiB, 64 * KiB, TDP_PROT_W, 0, NULL), 0);
	expect_flushed(&f, G + 64 * KiB, 64 * KiB, "protect of a group");
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(raw_leaf(&f, G + 64 * KiB + i * 4096ull, 0) & ~PTE_D,
				 napot_bits(&f, H + 64 * KiB, XWR_R, 0, 0));
	expect_lookup(&f, G + 100 * KiB, H + 100 * KiB, 0, TDP_PROT_R);
	/* software bits on a whole group */
	assert_int_equal(rv_protect(&f, G + 128 * KiB, 64 * KiB, 0, TDP_SW(2), NULL), 0);
	expect_group(&f, G + 128 * KiB, H + 128 * KiB, TDP_PROT_RW | TDP_SW(2), XWR_R | XWR_W, 2, 0);
	assert_int_equal(scan_check(&f).napot, 32);
	/* group 1 whole and the first page of group 2: group 1 stays, group 2 breaks */
	assert_int_equal(rv_protect(&f, G + 64 * KiB, 68 * KiB, 0, TDP_PROT_X, NULL), 0);
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(raw_leaf(&f, G + 64 * KiB + i * 4096ull, 0) & ~PTE_D,
				 napot_bits(&f, H + 64 * KiB, XWR_R | XWR_X, 0, 0));
	expect_plain(&f, G + 128 * KiB, H + 128 * KiB, 1, XWR_R | XWR_W | XWR_X, 2, 0);
	expect_plain(&f, G + 132 * KiB, H + 132 * KiB, 15, XWR_R | XWR_W, 2, 0);
	assert_int_equal(scan_check(&f).napot, 16);
	/* a protect that changes nothing on a group leaves it a group */
	assert_int_equal(rv_protect(&f, G + 64 * KiB + 4096, 4096, 0, TDP_PROT_R, NULL), 0);
	assert_int_equal(scan_check(&f).napot, 16);
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(raw_leaf(&f, G + 64 * KiB + i * 4096ull, 0) & ~PTE_D,
				 napot_bits(&f, H + 64 * KiB, XWR_R | XWR_X, 0, 0));
	rv_fini(&f);
}

static void t_napot_map_over(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 5 * GiB, H = 2 * GiB, H2 = 9 * GiB + 4096;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVNAPOT);
	assert_int_equal(rv_map(&f, G, H, 64 * KiB, TDP_PROT_RW, 0, NULL), 0);
	/* one page of it elsewhere: that entry changes, 15 ordinary ones keep the old output */
	fl_reset(&f);
	assert_int_equal(rv_map(&f, G + 2 * 4096, H2, 4096, TDP_PROT_R, 0, NULL), 0);
	expect_flushed(&f, G + 2 * 4096, 4096, "map over a page of a group");
	expect_plain(&f, G, H, 2, XWR_R | XWR_W, 0, 0);
	assert_int_equal(raw_leaf(&f, G + 2 * 4096, 0), leaf_bits(&f, H2, XWR_R, 0, 0));
	expect_plain(&f, G + 3 * 4096, H + 3 * 4096, 13, XWR_R | XWR_W, 0, 0);
	assert_int_equal(scan_check(&f).napot, 0);
	/* the whole group elsewhere (64 KiB-aligned): a group with the new output */
	assert_int_equal(rv_map(&f, G, H + 256 * KiB, 64 * KiB, TDP_PROT_RX, 0, NULL), 0);
	expect_group(&f, G, H + 256 * KiB, TDP_PROT_RX, XWR_R | XWR_X, 0, 0);
	/* ... and over it with a host 4 KiB-aligned only: 16 ordinary entries */
	assert_int_equal(rv_map(&f, G, H2, 64 * KiB, TDP_PROT_RX, 0, NULL), 0);
	expect_plain(&f, G, H2, 16, XWR_R | XWR_X, 0, 0);
	assert_int_equal(scan_check(&f).napot, 0);
	/* a range over two groups' halves: the middle group is whole */
	assert_int_equal(rv_map(&f, G + 64 * KiB, H + 64 * KiB, 192 * KiB, TDP_PROT_RW, 0,
				 NULL), 0);
	assert_int_equal(rv_map(&f, G + 96 * KiB, 8 * GiB + 96 * KiB, 96 * KiB, TDP_PROT_R, 0,
				 NULL), 0);
	expect_plain(&f, G + 64 * KiB, H + 64 * KiB, 8, XWR_R | XWR_W, 0, 0);
	expect_plain(&f, G + 96 * KiB, 8 * GiB + 96 * KiB, 8, XWR_R, 0, 0);
	expect_group(&f, G + 128 * KiB, 8 * GiB + 128 * KiB, TDP_PROT_R, XWR_R, 0, 0);
	expect_group(&f, G + 192 * KiB, H + 192 * KiB, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	assert_int_equal(scan_check(&f).napot, 32);
	/* the same translation again over one page of a group: still translates the same */
	assert_int_equal(rv_map(&f, G + 200 * KiB, H + 200 * KiB, 4096, TDP_PROT_RW, 0, NULL), 0);
	expect_raw_range(&f, G + 192 * KiB, 64 * KiB, H + 192 * KiB);
	/* capped at level 0: pages or groups, never a block; the invariant holds */
	assert_int_equal(rv_map(&f, G + 2 * MiB, H + 2 * MiB, 2 * MiB, TDP_PROT_RW,
				TDP_MAP_MAX_LEVEL(0), NULL), 0);
	for (unsigned int i = 0; i < 512; i += 61)
		raw_leaf(&f, G + 2 * MiB + i * 4096ull, 0);
	expect_raw_range(&f, G + 2 * MiB, 2 * MiB, H + 2 * MiB);
	assert_int_equal(rv_unmap(&f, G + 2 * MiB, 2 * MiB, NULL), 0);
	/* a 2 MiB block over groups: the level-0 table goes */
	assert_int_equal(rv_map(&f, G, 8 * GiB, 2 * MiB, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(raw_leaf(&f, G, 1), leaf_bits(&f, 8 * GiB, XWR_R | XWR_W, 0, 0));
	assert_int_equal(scan_check(&f).napot, 0);
	rv_fini(&f);
}

static void t_napot_zap(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 1 * GiB, H = 6 * GiB;
	struct tdp_zap_result zr;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVNAPOT);
	assert_int_equal(rv_map(&f, G, H, 192 * KiB, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(rv_map(&f, G + 1 * MiB, H + 1 * MiB, 4096, TDP_PROT_RW, 0, NULL), 0);
	/* one page inside group 1: the group is one leaf for zap, removed whole */
	fl_reset(&f);
	memset(&zr, 0xa5, sizeof(zr));
	assert_int_equal(rv_zap(&f, G + 68 * KiB, 4096, 0, &zr), 0);
	assert_int_equal(zr.removed_start, G + 64 * KiB);
	assert_int_equal(zr.removed_end, G + 128 * KiB);
	assert_int_equal(zr.resume, G + 72 * KiB);
	expect_flushed(&f, G + 64 * KiB, 64 * KiB, "zap of part of a group");
	expect_raw_unmapped(&f, G + 64 * KiB, 64 * KiB);
	expect_group(&f, G, H, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	expect_group(&f, G + 128 * KiB, H + 128 * KiB, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	assert_int_equal(scan_check(&f).napot, 32);
	/* [60 KiB, 68 KiB): the last page of group 0 and the hole after it */
	assert_int_equal(rv_zap(&f, G + 60 * KiB, 8 * KiB, 0, &zr), 0);
	assert_int_equal(zr.removed_start, G);
	assert_int_equal(zr.removed_end, G + 64 * KiB);
	assert_int_equal(zr.resume, G + 68 * KiB);
	expect_raw_unmapped(&f, G, 128 * KiB);
	expect_group(&f, G + 128 * KiB, H + 128 * KiB, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	/* exactly group 2 */
	assert_int_equal(rv_zap(&f, G + 128 * KiB, 64 * KiB, 0, &zr), 0);
	assert_int_equal(zr.removed_start, G + 128 * KiB);
	assert_int_equal(zr.removed_end, G + 192 * KiB);
	assert_int_equal(scan_check(&f).napot, 0);
	expect_raw_range(&f, G + 1 * MiB, 4096, H + 1 * MiB);
	/* the last page of the table: the table goes with it */
	assert_int_equal(rv_zap(&f, G, 2 * MiB, 0, &zr), 0);
	assert_null(entry_at(&f, G, 0));
	assert_int_equal(scan_check(&f).leaves, 0);

	/*
	 * a budget of one entry: each call makes progress and never leaves
	 * part of a group (rv_zap scans the group invariant after each call)
	 */
	assert_int_equal(rv_map(&f, G, H, 192 * KiB, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(rv_map(&f, G + 192 * KiB, H, 4096, TDP_PROT_RW, 0, NULL), 0);
	{
		uint64_t at = G, end = G + 256 * KiB;
		unsigned int calls = 0;
		int rc;

		do {
			rc = rv_zap(&f, at, end - at, 1, &zr);
			assert_true(rc == 0 || rc == 1);
			assert_true(zr.resume > at && zr.resume <= end);
			/* what went is whole groups (or the single page) */
			if (zr.removed_start != zr.removed_end) {
				assert_int_equal(zr.removed_start & 0xffff, 0);
				assert_true((zr.removed_end & 0xffff) == 0 ||
					    zr.removed_end == G + 196 * KiB);
			}
			at = zr.resume;
			calls++;
		} while (rc == 1 && calls < 100);
		assert_int_equal(rc, 0);
		assert_true(calls >= 2);
		assert_int_equal(scan_check(&f).leaves, 0);
	}
	rv_fini(&f);
}

static void t_napot_split(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 1 * GiB, H = 6 * GiB;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVNAPOT);
	/* a 2 MiB block split to level 0: same translation, groups (if any) whole */
	assert_int_equal(rv_map(&f, G + 2 * MiB, H + 2 * MiB, 2 * MiB, TDP_PROT_RW, 0, NULL),
			 0);
	assert_int_equal(rv_split(&f, G + 2 * MiB, 2 * MiB, 0, NULL), 0);
	for (unsigned int i = 0; i < 512; i++) {
		uint64_t e = raw_leaf(&f, G + 2 * MiB + i * 4096ull, 0);

		assert_int_equal(e & ~(PTE_PPN_MASK | PTE_N),
				 leaf_bits(&f, 0, XWR_R | XWR_W, 0, 0) & ~PTE_PPN_MASK);
	}
	expect_raw_range(&f, G + 2 * MiB, 2 * MiB, H + 2 * MiB);
	expect_lookup(&f, G + 3 * MiB + 0x123, H + 3 * MiB + 0x123, 0, TDP_PROT_RW);
	scan_check(&f);
	/* one page of a block asked for: the whole block becomes level-0 entries */
	assert_int_equal(rv_map(&f, G + 4 * MiB, H + 8 * MiB, 2 * MiB, TDP_PROT_RX, 0, NULL),
			 0);
	assert_int_equal(rv_split(&f, G + 4 * MiB + 64 * KiB, 4096, 0, NULL), 0);
	for (unsigned int i = 0; i < 512; i += 37)
		raw_leaf(&f, G + 4 * MiB + i * 4096ull, 0);
	expect_raw_range(&f, G + 4 * MiB, 2 * MiB, H + 8 * MiB);
	scan_check(&f);
	/* groups are level-0 leaves: nothing to split, they stay */
	assert_int_equal(rv_map(&f, G, H, 64 * KiB, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(rv_split(&f, G, 64 * KiB, 0, NULL), 0);
	expect_group(&f, G, H, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	scan_check(&f);
	rv_fini(&f);
}

/*
 * Svadu on groups: the hart sets A/D in the entry it used, so one entry of
 * a group may differ from the others in A/D only. A group is one leaf of
 * 64 KiB (it is one translation), so aging a range that touches it sees
 * and clears A in any of its entries.
 */
static void t_napot_harvest(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 1 * GiB, H = 6 * GiB;
	uint64_t bm[1];
	bool young;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVADU);
	assert_int_equal(rv_map(&f, G, H, 128 * KiB, TDP_PROT_RW, 0, NULL), 0);
	expect_group(&f, G, H, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	/* A in entry 9 only; aging page 0 of the group finds it */
	hart_sets(&f, G + 9 * 4096, PTE_A);
	scan_check(&f);
	young = false;
	fl_reset(&f);
	assert_int_equal(tdp_test_clear_young(&f.pgt, G, 4096, &young), 0);
	assert_true(young);
	assert_int_equal(f.nfl, 0);
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(raw_ad(&f, G + i * 4096ull), 0);
	expect_group(&f, G, H, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	young = true;
	assert_int_equal(tdp_test_clear_young(&f.pgt, G, 128 * KiB, &young), 0);
	assert_false(young);
	/* the other group untouched by aging of the first */
	hart_sets(&f, G + 64 * KiB + 15 * 4096, PTE_A);
	assert_int_equal(tdp_test_clear_young(&f.pgt, G, 64 * KiB, &young), 0);
	assert_false(young);
	assert_int_equal(raw_ad(&f, G + 64 * KiB + 15 * 4096), PTE_A);
	assert_int_equal(tdp_test_clear_young(&f.pgt, G + 64 * KiB, 4096, &young), 0);
	assert_true(young);

	/* D in entry 9: reported (at least page 9), then every entry clean */
	hart_sets(&f, G + 9 * 4096, PTE_A | PTE_D);
	bm[0] = 0;
	fl_reset(&f);
	assert_int_equal(tdp_collect_dirty(&f.pgt, G, 64 * KiB, bm), 0);
	assert_true(bm[0] & (1ull << 9));
	assert_int_equal(bm[0] & ~0xffffull, 0);
	assert_int_equal(f.nfl, 1);
	expect_flushed(&f, G + 9 * 4096, 4096, "collect_dirty of a group");
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(raw_ad(&f, G + i * 4096ull) & PTE_D, 0);
	bm[0] = 0;
	assert_int_equal(tdp_collect_dirty(&f.pgt, G, 64 * KiB, bm), 0);
	assert_int_equal(bm[0], 0);
	/*
	 * a dirty group straddling the range's end, like a dirty block
	 * (pgtable.h): the page inside is reported and the group stays dirty
	 */
	hart_sets(&f, G + 9 * 4096, PTE_D);
	bm[0] = 0;
	assert_int_equal(tdp_collect_dirty(&f.pgt, G, 4096, bm), 0);
	assert_int_equal(bm[0], 1);
	assert_int_equal(raw_ad(&f, G + 9 * 4096) & PTE_D, PTE_D);
	bm[0] = 0;
	assert_int_equal(tdp_collect_dirty(&f.pgt, G + 60 * KiB, 8 * KiB, bm), 0);
	assert_int_equal(bm[0], 1); /* page 15 of the group; the next group is clean */
	scan_check(&f);
	rv_fini(&f);
}

/*
 * A group's A/D flags belong to the whole group: the hart may record a
 * write to any of its pages in any of its 16 entries. Breaking a group up
 * (an unmap, protect or map of part of it) must carry the group's combined
 * flags into every page, or the written page is never reported dirty.
 */
static void napot_ad_case(const struct mode *m, unsigned int how)
{
	const uint64_t G = 0xc0000000ull, H = 0x40000f00000000ull;
	uint64_t bm[1] = { 0 };
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVADU | TDP_CFG_RISCV_SVPBMT);
	assert_int_equal(rv_map(&f, G, H, 64 * KiB, TDP_PROT_RW, 0, NULL), 0);
	expect_group(&f, G, H, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
	/* the guest writes page 3; the hart records it in entry 12 */
	hart_sets(&f, G + 12 * 4096, PTE_A | PTE_D);
	switch (how) {
	case 0:
		assert_int_equal(rv_unmap(&f, G, 4096, NULL), 0);
		break;
	case 1:
		assert_int_equal(rv_protect(&f, G, 4096, TDP_PROT_W, 0, NULL), 0);
		break;
	default:
		assert_int_equal(rv_map(&f, G, H + 1 * MiB, 4096, TDP_PROT_RW, 0, NULL), 0);
		break;
	}
	/* the 15 pages left are ordinary entries, each dirty and young */
	for (unsigned int i = 1; i < 16; i++) {
		uint64_t e = raw_leaf(&f, G + i * 4096ull, 0);

		assert_int_equal(e & ~(PTE_A | PTE_D),
				 leaf_bits(&f, H + i * 4096ull, XWR_R | XWR_W, 0, 0));
		assert_int_equal(e & (PTE_A | PTE_D), PTE_A | PTE_D);
	}
	assert_int_equal(tdp_collect_dirty(&f.pgt, G + 4096, 15 * 4096, bm), 0);
	assert_true(bm[0] & (1ull << 2)); /* page 3 */
	scan_check(&f);
	rv_fini(&f);
}

static void t_napot_ad_break(void **state)
{
	for (unsigned int how = 0; how < 3; how++)
		napot_ad_case(*state, how);
}

/* Without Svnapot no N bit ever appears. */
static void t_no_napot(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 1 * GiB, H = 6 * GiB;
	const uint32_t cfgs[] = { 0, TDP_CFG_RISCV_SVADU | TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_SVVPTC };
	struct tdp_zap_result zr;
	struct rv f;

	for (unsigned int c = 0; c < 2; c++) {
		rv_init(&f, m, cfgs[c]);
		assert_int_equal(rv_map(&f, G, H, 256 * KiB, TDP_PROT_RW, 0, NULL), 0);
		expect_plain(&f, G, H, 64, XWR_R | XWR_W, 0, 0);
		assert_int_equal(rv_protect(&f, G, 64 * KiB, TDP_PROT_W, 0, NULL), 0);
		assert_int_equal(rv_map(&f, G + 2 * MiB, H + 2 * MiB, 2 * MiB + 64 * KiB,
					 TDP_PROT_RW, 0, NULL), 0);
		assert_int_equal(rv_split(&f, G + 2 * MiB, 2 * MiB, 0, NULL), 0);
		assert_int_equal(rv_unmap(&f, G + 128 * KiB, 4096, NULL), 0);
		assert_int_equal(rv_zap(&f, G + 192 * KiB, 4096, 0, &zr), 0);
		expect_plain(&f, G + 4 * MiB, H + 4 * MiB, 16, XWR_R | XWR_W, 0, 0);
		expect_raw_range(&f, G + 2 * MiB, 2 * MiB + 64 * KiB, H + 2 * MiB);
		assert_int_equal(scan_check(&f).napot, 0);
		rv_fini(&f);
	}
}

/* ------------------------------------------------------------------ */
/* 8. Invalidation                                                     */

static void expect_one_flush(const struct rv *f, uint64_t gpa, uint64_t size, int level,
			     const char *what)
{
	if (f->nfl != 1)
		fail_msg("%s: %zu flush_range calls, expected one", what, f->nfl);
	expect_flushed(f, gpa, size, what);
	if (f->fl[0].level != level && f->fl[0].level != TDP_LEVEL_ANY)
		fail_msg("%s: level hint %d, expected %d or TDP_LEVEL_ANY", what, f->fl[0].level,
			 level);
	if (f->fl[0].tables)
		fail_msg("%s: tables = true, but no table entry was removed", what);
}

/* Without Svvptc a new mapping (invalid -> valid) is passed to flush_range too. */
static void t_flush_no_svvptc(void **state)
{
	const struct mode *m = *state;
	unsigned int rs = 12 + 9 * (m->levels - 1);
	const uint64_t G = 1 * GiB, H = 6 * GiB;
	struct tdp_zap_result zr;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVNAPOT);
	fl_reset(&f);
	assert_int_equal(rv_map(&f, G, H, 4096, TDP_PROT_RW, 0, NULL), 0);
	expect_one_flush(&f, G, 4096, 0, "map 4 KiB into an empty table");
	fl_reset(&f);
	assert_int_equal(rv_map(&f, G + 8192, H + 8192, 4096, TDP_PROT_RW, 0, NULL), 0);
	expect_one_flush(&f, G + 8192, 4096, 0, "map 4 KiB next to a page");
	fl_reset(&f);
	assert_int_equal(rv_map(&f, G + 2 * MiB, H + 2 * MiB, 2 * MiB, TDP_PROT_RW, 0, NULL),
			 0);
	expect_one_flush(&f, G + 2 * MiB, 2 * MiB, 1, "map a 2 MiB block");
	fl_reset(&f);
	assert_int_equal(rv_map(&f, G + 64 * KiB, H + 64 * KiB, 64 * KiB, TDP_PROT_RW,
				 TDP_MAP_NOREPLACE, NULL), 0);
	expect_one_flush(&f, G + 64 * KiB, 64 * KiB, 0, "map a NAPOT group");
	fl_reset(&f);
	assert_int_equal(rv_map(&f, 3ull << (rs + 9), 1ull << rs, 1ull << rs, TDP_PROT_R, 0,
				 NULL), 0);
	expect_one_flush(&f, 3ull << (rs + 9), 1ull << rs, m->levels - 1, "map a root leaf");
	fl_reset(&f);
	assert_int_equal(rv_map(&f, 5 * GiB + 4096, H, 3 * 4096, TDP_PROT_RW, TDP_MAP_NOREPLACE,
				 NULL), 0);
	expect_one_flush(&f, 5 * GiB + 4096, 3 * 4096, 0, "map 3 pages with new tables");
	/* the rest as with Svvptc: unmap, protect, zap */
	fl_reset(&f);
	assert_int_equal(rv_unmap(&f, G, 4096, NULL), 0);
	expect_flushed(&f, G, 4096, "unmap");
	fl_reset(&f);
	assert_int_equal(rv_protect(&f, G + 2 * MiB, 2 * MiB, TDP_PROT_W, 0, NULL), 0);
	expect_flushed(&f, G + 2 * MiB, 2 * MiB, "protect -W");
	fl_reset(&f);
	assert_int_equal(rv_protect(&f, G + 2 * MiB, 2 * MiB, 0, TDP_PROT_RW, NULL), 0);
	expect_flushed(&f, G + 2 * MiB, 2 * MiB, "protect +W");
	fl_reset(&f);
	assert_int_equal(rv_zap(&f, G + 64 * KiB, 4096, 0, &zr), 0);
	expect_flushed(&f, zr.removed_start, zr.removed_end - zr.removed_start, "zap");
	assert_int_equal(f.nfl_all, 0);
	scan_check(&f);
	rv_fini(&f);
}

/* With Svvptc invalid -> valid needs no fence; every other change still does. */
static void t_flush_svvptc(void **state)
{
	const struct mode *m = *state;
	unsigned int rs = 12 + 9 * (m->levels - 1);
	const uint64_t G = 1 * GiB, H = 6 * GiB;
	struct tdp_zap_result zr;
	struct rv f;

	rv_init(&f, m, TDP_CFG_RISCV_SVVPTC | TDP_CFG_RISCV_SVNAPOT);
	fl_reset(&f);
	assert_int_equal(rv_map(&f, G, H, 4096, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(rv_map(&f, G + 8192, H + 8192, 4096, TDP_PROT_RW, 0, NULL), 0);
	assert_int_equal(rv_map(&f, G + 2 * MiB, H + 2 * MiB, 2 * MiB, TDP_PROT_RW, 0, NULL),
			 0);
	assert_int_equal(rv_map(&f, G + 64 * KiB, H + 64 * KiB, 64 * KiB, TDP_PROT_RW,
				 TDP_MAP_NOREPLACE, NULL), 0);
	assert_int_equal(rv_map(&f, 3ull << (rs + 9), 1ull << rs, 1ull << rs, TDP_PROT_R, 0,
				 NULL), 0);
	assert_int_equal(rv_map(&f, 5 * GiB + 4096, H, 3 * 4096, TDP_PROT_RW, TDP_MAP_NOREPLACE,
				 NULL), 0);
	if (f.nfl != 0)
		fail_msg("Svvptc: %zu flush_range calls for maps into empty space (first [0x%llx, "
			 "+0x%llx))", f.nfl, ULL(f.fl[0].gpa), ULL(f.fl[0].size));
	scan_check(&f);
	/* valid -> valid: a page remapped elsewhere */
	fl_reset(&f);
	assert_int_equal(rv_map(&f, G, H + 64 * MiB, 4096, TDP_PROT_RW, 0, NULL), 0);
	expect_flushed(&f, G, 4096, "Svvptc: remap a page");
	/* half old, half new: the old page is covered */
	fl_reset(&f);
	assert_int_equal(rv_map(&f, G + 8192, H, 8192, TDP_PROT_RW, 0, NULL), 0);
	expect_flushed(&f, G + 8192, 4096, "Svvptc: map over a page and a hole");
	/* same output, other permissions, through map */
	fl_reset(&f);
	assert_int_equal(rv_map(&f, G + 2 * MiB, H + 2 * MiB, 2 * MiB, TDP_PROT_R, 0, NULL),
			 0);
	expect_flushed(&f, G + 2 * MiB, 2 * MiB, "Svvptc: map with fewer permissions");
	/* unmap, protect (both ways), zap always flush */
	fl_reset(&f);
	assert_int_equal(rv_unmap(&f, G, 4096, NULL), 0);
	expect_flushed(&f, G, 4096, "Svvptc: unmap");
	fl_reset(&f);
	assert_int_equal(rv_protect(&f, G + 2 * MiB, 2 * MiB, 0, TDP_PROT_RW, NULL), 0);
	expect_flushed(&f, G + 2 * MiB, 2 * MiB, "Svvptc: protect +W");
	fl_reset(&f);
	assert_int_equal(rv_protect(&f, G + 2 * MiB, 2 * MiB, TDP_PROT_W, 0, NULL), 0);
	expect_flushed(&f, G + 2 * MiB, 2 * MiB, "Svvptc: protect -W");
	fl_reset(&f);
	assert_int_equal(rv_protect(&f, G + 64 * KiB, 64 * KiB, 0, TDP_PROT_X, NULL), 0);
	expect_flushed(&f, G + 64 * KiB, 64 * KiB, "Svvptc: protect +X of a group");
	fl_reset(&f);
	assert_int_equal(rv_protect(&f, 3ull << (rs + 9), 1ull << rs, 0, TDP_PROT_X, NULL), 0);
	expect_flushed(&f, 3ull << (rs + 9), 1ull << rs, "Svvptc: protect +X of a root leaf");
	fl_reset(&f);
	assert_int_equal(rv_unmap(&f, G + 68 * KiB, 4096, NULL), 0);
	expect_flushed(&f, G + 68 * KiB, 4096, "Svvptc: unmap of a page of a group");
	fl_reset(&f);
	assert_int_equal(rv_zap(&f, 5 * GiB, 2 * MiB, 0, &zr), 0);
	expect_flushed(&f, 5 * GiB + 4096, 3 * 4096, "Svvptc: zap");
	assert_int_equal(f.nfl_all, 0);
	scan_check(&f);
	rv_fini(&f);
}

/*
 * Same translation, other entries: a block split into a table, 16 pages
 * becoming one group. docs/formats.md §R.7: a fence after any G-stage PTE
 * change; Svvptc removes only the invalid -> valid case.
 */
static void t_flush_same_translation(void **state)
{
	const struct mode *m = *state;
	const uint64_t G = 1 * GiB, H = 6 * GiB;
	const uint32_t cfgs[] = { TDP_CFG_RISCV_SVNAPOT,
				  TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVVPTC };
	struct rv f;

	for (unsigned int c = 0; c < 2; c++) {
		rv_init(&f, m, cfgs[c]);
		assert_int_equal(rv_map(&f, G + 2 * MiB, H + 2 * MiB, 2 * MiB, TDP_PROT_RW, 0, NULL),
				 0);
		fl_reset(&f);
		assert_int_equal(rv_split(&f, G + 2 * MiB, 2 * MiB, 0, NULL), 0);
		if (f.nfl == 0)
			fail_msg("flags 0x%x: split of a block: no flush_range", cfgs[c]);
		assert_true(f.fl[0].gpa < G + 4 * MiB && G + 2 * MiB < f.fl[0].gpa + f.fl[0].size);
		/* a group broken into 16 plain entries of the same translation, then remapped whole */
		assert_int_equal(rv_map(&f, G, H, 64 * KiB, TDP_PROT_RW, 0, NULL), 0);
		assert_int_equal(rv_unmap(&f, G + 5 * 4096, 4096, NULL), 0);
		assert_int_equal(rv_map(&f, G + 5 * 4096, H + 5 * 4096, 4096, TDP_PROT_RW, 0, NULL), 0);
		expect_plain(&f, G, H, 16, XWR_R | XWR_W, 0, 0);
		fl_reset(&f);
		assert_int_equal(rv_map(&f, G, H, 64 * KiB, TDP_PROT_RW, 0, NULL), 0);
		expect_group(&f, G, H, TDP_PROT_RW, XWR_R | XWR_W, 0, 0);
		expect_flushed(&f, G, 64 * KiB, "pages remapped as a group");
		assert_int_equal(f.nfl_all, 0);
		rv_fini(&f);
	}
}

/* ------------------------------------------------------------------ */

struct tdef {
	const char *name;
	CMUnitTestFunction fn;
	bool per_mode;
};

#define PER_MODE(fn) { #fn, fn, true }
#define ONCE(fn)     { #fn, fn, false }

int main(void)
{
	static const struct tdef defs[] = {
		PER_MODE(t_init_geometry),
		ONCE(t_init_bad),
		PER_MODE(t_hgatp),
		PER_MODE(t_widened_root),
		PER_MODE(t_memcache),
		PER_MODE(t_uad_svade),
		PER_MODE(t_uad_svadu),
		PER_MODE(t_harvest_svadu),
		PER_MODE(t_permissions),
		PER_MODE(t_svpbmt),
		PER_MODE(t_napot_map),
		PER_MODE(t_napot_unmap_part),
		PER_MODE(t_napot_protect),
		PER_MODE(t_napot_map_over),
		PER_MODE(t_napot_zap),
		PER_MODE(t_napot_split),
		PER_MODE(t_napot_harvest),
		PER_MODE(t_napot_ad_break),
		PER_MODE(t_no_napot),
		PER_MODE(t_flush_no_svvptc),
		PER_MODE(t_flush_svvptc),
		PER_MODE(t_flush_same_translation),
	};
	const size_t ndefs = sizeof(defs) / sizeof(defs[0]);
	struct CMUnitTest *t = calloc(ndefs * NR_MODES, sizeof(*t));
	char **names = calloc(ndefs * NR_MODES, sizeof(*names));
	size_t n = 0;
	int rc;

	if (!t || !names)
		return 1;
	for (size_t i = 0; i < ndefs; i++) {
		for (size_t k = 0; k < (defs[i].per_mode ? NR_MODES : 1); k++) {
			size_t len = strlen(defs[i].name) + 16;

			names[n] = malloc(len);
			if (!names[n])
				return 1;
			if (defs[i].per_mode)
				snprintf(names[n], len, "%s[%s]", defs[i].name, modes[k].name);
			else
				snprintf(names[n], len, "%s", defs[i].name);
			t[n].name = names[n];
			t[n].test_func = defs[i].fn;
			t[n].initial_state = defs[i].per_mode ? &modes[k] : NULL;
			n++;
		}
	}
	rc = _cmocka_run_group_tests("riscv", t, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(t);
	return rc;
}
