/* SPDX-License-Identifier: MIT */
/*
 * tdp-bench: throughput of libtdp's operations next to the hardware floor.
 *
 * Every workload runs --reps times on a fresh table. Table memory comes
 * from a pre-faulted pool and the TLB callbacks only count, so what is
 * timed is the library. After each timed repetition the same run measures
 * the floor of that work:
 *   - bulk rows: zeroing as many table pages as the operation allocated and
 *     writing as many 8-byte entries as it writes, in a pre-faulted buffer;
 *   - per-call rows (W4, lookup): a minimal hand-written walker with the
 *     table's geometry doing the same calls from the root.
 * Results are checked through tdp_lookup after the first repetition, so a
 * fast wrong answer is an error, not a number.
 *
 * --threads N adds shared-mode rows to W4 (TDP_CFG_SHARED): N threads map
 * their slices of the same pages into one table at once, next to the same
 * work done by one thread in shared mode (see wl_shared).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <tdp/tdp.h>

#include "bench.h"
#include "outputs.h"

#define GPA0 (1ull << 32)
#define HPA0 (1ull << 35) /* not the GPA: a wrong output address shows in the checks */

/* ------------------------------------------------------------------ */
/* A pre-faulted table pool (va = pa + linear offset)                   */
/* ------------------------------------------------------------------ */

#define POOL_PA_BASE 0x80000000ull

struct pool {
	uint8_t *base;
	size_t size, used;
	size_t tsize;     /* non-root table size: only these are recycled */
	void **free_list; /* freed tables, linked through their first word */
	uint64_t allocs, frees;
};

static void *pool_zalloc(void *ctx, size_t size)
{
	struct pool *p = ctx;
	void *v;

	if (size == p->tsize && p->free_list) {
		v = p->free_list;
		p->free_list = *p->free_list;
	} else {
		size_t off = (p->used + size - 1) & ~(size - 1);

		if (off + size > p->size)
			return NULL;
		v = p->base + off;
		p->used = off + size;
	}
	p->allocs++;
	memset(v, 0, size);
	return v;
}

static void pool_free(void *ctx, void *va, size_t size)
{
	struct pool *p = ctx;

	p->frees++;
	if (size != p->tsize)
		return; /* a root: bump-allocated, reclaimed by pool_reset */
	*(void **)va = p->free_list;
	p->free_list = va;
}

static const struct tdp_mm_ops pool_ops = { .zalloc_table = pool_zalloc, .free_table = pool_free };

static void *map_prefaulted(size_t size)
{
	void *v = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		       -1, 0);

	if (v == MAP_FAILED)
		return NULL;
	memset(v, 1, size); /* touch every page: no faults inside timed regions */
	return v;
}

static int pool_init(struct pool *p, size_t size, size_t tsize)
{
	p->base = map_prefaulted(size);
	if (!p->base)
		return -1;
	p->size = size;
	p->tsize = tsize;
	p->used = 0;
	p->free_list = NULL;
	p->allocs = p->frees = 0;
	return 0;
}

static void pool_reset(struct pool *p)
{
	p->used = 0;
	p->free_list = NULL;
	p->allocs = p->frees = 0;
}

/* ------------------------------------------------------------------ */
/* Counting TLB callbacks                                               */
/* ------------------------------------------------------------------ */

static void tlb_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	(void)gpa, (void)size, (void)level, (void)tables;
	(*(uint64_t *)ctx)++;
}

static void tlb_all(void *ctx)
{
	(*(uint64_t *)ctx)++;
}

static const struct tdp_tlb_ops tlb_ops = { .flush_range = tlb_range, .flush_all = tlb_all };

/* ------------------------------------------------------------------ */
/* Configurations                                                       */
/* ------------------------------------------------------------------ */

struct config {
	const char *name;
	enum tdp_format format;
	unsigned int granule_shift, ia_bits, oa_bits;
	uint32_t flags;
	/*
	 * For the A/D rows: the flag that turns hardware A/D on, and the
	 * accessed and dirty bits the hardware sets in a leaf (docs/formats.md
	 * §E.5: EPT bits 8/9; §R.4: G-stage bits 6/7). 0: the format has none in libtdp.
	 */
	uint32_t ad_flag;
	uint64_t a_bit, d_bit;
	uint64_t group; /* bytes of a contiguous group map writes (lookup reports it), or 0 */
};

static const struct config configs[] = {
	{ "arm64-4k-48", TDP_FORMAT_ARM64_S2, 12, 48, 48, 0, 0, 0, 0, 0 },
	{ "arm64-16k-48", TDP_FORMAT_ARM64_S2, 14, 48, 48, 0, 0, 0, 0, 0 },
	{ "arm64-64k-48", TDP_FORMAT_ARM64_S2, 16, 48, 48, 0, 0, 0, 0, 0 },
	{ "ept-4l", TDP_FORMAT_X86_EPT, 12, 48, 46, 0, TDP_CFG_X86_AD, 1ull << 8, 1ull << 9, 0 },
	{ "ept-5l", TDP_FORMAT_X86_EPT, 12, 57, 52, 0, TDP_CFG_X86_AD, 1ull << 8, 1ull << 9, 0 },
	/* no Svvptc: every new entry is also reported to flush_range */
	{ "riscv-sv39x4", TDP_FORMAT_RISCV_G, 12, 41, 44, 0, TDP_CFG_RISCV_SVADU, 1ull << 6,
	  1ull << 7, 0 },
	{ "riscv-sv48x4", TDP_FORMAT_RISCV_G, 12, 50, 56, 0, TDP_CFG_RISCV_SVADU, 1ull << 6,
	  1ull << 7, 0 },
	{ "riscv-sv48x4-napot", TDP_FORMAT_RISCV_G, 12, 50, 56, TDP_CFG_RISCV_SVNAPOT,
	  TDP_CFG_RISCV_SVADU, 1ull << 6, 1ull << 7, 64u << 10 },
};
#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))

/* ------------------------------------------------------------------ */
/* Timing and statistics                                                */
/* ------------------------------------------------------------------ */

#define MAX_REPS 101

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct bench_stat stats(double *v, int n, double per)
{
	struct bench_stat s;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s.min = v[0] / per;
	s.max = v[n - 1] / per;
	s.med = (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) / per;
	return s;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Keeps results alive so the compiler cannot drop the floor's work. */
static volatile uint64_t sink;

/* ------------------------------------------------------------------ */
/* Floors                                                               */
/* ------------------------------------------------------------------ */

struct floorbuf {
	uint8_t *base;
	size_t size;
};

/*
 * Bulk floor: zero `tables` pages of `tsize` bytes, then write `entries`
 * 8-byte values (zeros when `clear`), the bytes an operation of that shape
 * cannot avoid writing.
 */
static double floor_bulk(struct floorbuf *fb, uint64_t entries, uint64_t tables, size_t tsize,
			 bool clear)
{
	uint64_t *pt = (uint64_t *)fb->base;
	uint64_t v = clear ? 0 : 0x7c3;
	double t0 = now_ns();

	for (uint64_t i = 0; i < tables; i++)
		memset(fb->base + i * tsize, 0, tsize);
	for (uint64_t i = 0; i < entries; i++)
		pt[i] = clear ? 0 : (i << 12) | v;
	__asm__ volatile("" : : "r"(pt) : "memory");
	sink = entries ? pt[entries / 2] : 0;
	return now_ns() - t0;
}

/*
 * The minimal walker: a radix tree with the table's geometry whose entries
 * are host pointers with bit 0 as "valid". No attributes, no checks, no
 * batching: the least a per-call walk from the root can cost.
 */
struct mini {
	unsigned int levels, page_shift, bits, root_bits;
	size_t tsize;
	uint8_t *mem;    /* tables are carved from here, zeroed when taken */
	size_t used, size;
	uint64_t *root;
};

static uint64_t *mini_table(struct mini *m, size_t size)
{
	uint64_t *t;

	if (m->used + size > m->size)
		return NULL;
	t = (uint64_t *)(m->mem + m->used);
	m->used += size;
	memset(t, 0, size);
	return t;
}

static int mini_reset(struct mini *m, const struct tdp_pgtable *pgt, struct floorbuf *fb)
{
	m->levels = pgt->geo.levels;
	m->page_shift = pgt->geo.page_shift;
	m->bits = pgt->geo.bits_per_level;
	m->root_bits = pgt->geo.root_bits;
	m->tsize = pgt->geo.table_size;
	m->mem = fb->base;
	m->size = fb->size;
	m->used = 0;
	m->root = mini_table(m, (size_t)8 << m->root_bits);
	return m->root ? 0 : -1;
}

static inline uint64_t *mini_slot(const struct mini *m, uint64_t *t, uint64_t gpa, unsigned int l)
{
	uint64_t idx = gpa >> (m->page_shift + l * m->bits);

	if (l != m->levels - 1)
		idx &= (1ull << m->bits) - 1;
	return t + idx;
}

/* Map one page: walk down, linking zeroed tables where entries are empty. */
static int mini_map(struct mini *m, uint64_t gpa, uint64_t hpa)
{
	uint64_t *t = m->root;

	for (unsigned int l = m->levels - 1; l > 0; l--) {
		uint64_t *e = mini_slot(m, t, gpa, l);

		if (!(*e & 1)) {
			uint64_t *n = mini_table(m, m->tsize);

			if (!n)
				return -1;
			*e = (uint64_t)(uintptr_t)n | 1;
		}
		t = (uint64_t *)(uintptr_t)(*e & ~1ull);
	}
	*mini_slot(m, t, gpa, 0) = hpa | 0x7c3;
	return 0;
}

/* Walk to the page's entry: NULL if a table on the way is missing. */
static uint64_t *mini_find(const struct mini *m, uint64_t gpa)
{
	uint64_t *t = m->root;

	for (unsigned int l = m->levels - 1; l > 0; l--) {
		uint64_t e = *mini_slot(m, t, gpa, l);

		if (!(e & 1))
			return NULL;
		t = (uint64_t *)(uintptr_t)(e & ~1ull);
	}
	return mini_slot(m, t, gpa, 0);
}

/* ------------------------------------------------------------------ */
/* One table per repetition                                             */
/* ------------------------------------------------------------------ */

struct env {
	const struct config *c;
	struct pool pool;
	struct floorbuf fb;
	uint64_t flushes; /* TLB callback counter */
	int reps;
	uint64_t size, calls;
	struct bench_row *rows;
	size_t nrows, cap;
	/* --threads: 0 when not given (no shared-mode rows) */
	unsigned int threads;
	struct worker *workers; /* threads of the shared-mode rows, one per slice */
	uint64_t w4_tables;     /* what W4 map allocated in exclusive mode */
	double w4_floor;        /* W4 map's floor (ns per call) */
	uint64_t w4_page;       /* W4's page size: the shared rows cover as many bytes */
	uint64_t retries;       /* shared-mode calls repeated after -TDP_EAGAIN */
	char op_map_n[16], op_fault_n[16]; /* "map/Nt", "fault/Nt" */
};

static int table_new(struct env *v, struct tdp_pgtable *pgt, uint32_t extra_flags)
{
	struct tdp_config cfg = {
		.format = v->c->format,
		.ia_bits = v->c->ia_bits,
		.oa_bits = v->c->oa_bits,
		.granule_shift = v->c->granule_shift,
		.flags = v->c->flags | extra_flags,
		.mm = &pool_ops,
		.mm_ctx = &v->pool,
		.linear_offset = (uintptr_t)v->pool.base - POOL_PA_BASE,
		.tlb = &tlb_ops,
		.tlb_ctx = &v->flushes,
	};

	pool_reset(&v->pool);
	return tdp_pgtable_init(pgt, &cfg);
}

static int add_row(struct env *v, const struct bench_row *r)
{
	if (v->nrows == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct bench_row *n = realloc(v->rows, cap * sizeof(*n));

		if (!n)
			return -1;
		v->rows = n;
		v->cap = cap;
	}
	v->rows[v->nrows++] = *r;
	return 0;
}

static int fail(const struct env *v, const char *what, long ret)
{
	fprintf(stderr, "tdp-bench: %s: %s: %ld\n", v->c->name, what, ret);
	return -1;
}

/* The mapping must translate gpa to hpa with a leaf of `size` and the attributes. */
static int expect(const struct env *v, const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t hpa,
		  uint64_t size, tdp_attr_t prot)
{
	struct tdp_lookup_result res;
	int ret = tdp_lookup(pgt, gpa, &res);

	if (ret)
		return fail(v, "check: lookup", ret);
	/* a page inside a contiguous group reports the group */
	if (v->c->group && size < v->c->group && res.size == v->c->group)
		size = v->c->group;
	if (res.hpa != hpa || res.size != size || (res.attr & TDP_PROT_MASK) != prot) {
		fprintf(stderr, "tdp-bench: %s: check at gpa %#llx: hpa %#llx size %#llx attr %#x\n",
			v->c->name, (unsigned long long)gpa, (unsigned long long)res.hpa,
			(unsigned long long)res.size, res.attr);
		return -1;
	}
	return 0;
}

/* Spot checks of a range mapped with leaves of `leaf`: first, middle and last. */
static int expect_range(const struct env *v, const struct tdp_pgtable *pgt, uint64_t size,
			uint64_t leaf, tdp_attr_t prot)
{
	const uint64_t at[3] = { 0, (size / 2) & ~(leaf - 1), size - leaf };

	for (int i = 0; i < 3; i++)
		if (expect(v, pgt, GPA0 + at[i], HPA0 + at[i], leaf, prot))
			return -1;
	return 0;
}

/*
 * Nothing left: the range is empty and every table went back to its pool
 * (`live`: pages the pools handed out and did not get back, the root included).
 */
static int expect_empty_live(const struct env *v, const struct tdp_pgtable *pgt, uint64_t size,
			     uint64_t live)
{
	struct tdp_lookup_result res;

	if (tdp_lookup(pgt, GPA0, &res) != -TDP_ENOENT ||
	    tdp_lookup(pgt, GPA0 + size - tdp_page_size(pgt), &res) != -TDP_ENOENT)
		return fail(v, "check: still mapped after teardown", 0);
	if (live != 1)
		return fail(v, "check: tables not freed (live pages incl. root)", (long)live);
	return 0;
}

static int expect_empty(const struct env *v, const struct tdp_pgtable *pgt, uint64_t size)
{
	return expect_empty_live(v, pgt, size, v->pool.allocs - v->pool.frees);
}

/* Size a row's floor buffer needs: its tables and its entries. */
static int floor_fits(const struct env *v, uint64_t entries, uint64_t tables, size_t tsize)
{
	if (tables * tsize > v->fb.size || entries * 8 > v->fb.size)
		return fail(v, "floor buffer too small (use a smaller --size)", 0);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Bulk workloads: one call over a range                                */
/* ------------------------------------------------------------------ */

/*
 * Map [GPA0, GPA0 + size) with leaves of `level` in one call and unmap it in
 * one call (W1/W2/W3).
 */
static int wl_map_unmap(struct env *v, const char *name, uint64_t size, unsigned int level,
			const char *unit)
{
	double t_map[MAX_REPS], t_unmap[MAX_REPS], f_map[MAX_REPS], f_unmap[MAX_REPS];
	uint64_t leaf = 0, n = 0, tables = 0, fl_map = 0, fl_unmap = 0;

	for (int r = 0; r < v->reps; r++) {
		struct tdp_pgtable pgt;
		uint64_t a0;
		double t0;
		int ret = table_new(v, &pgt, 0);

		if (ret)
			return fail(v, "init", ret);
		leaf = tdp_level_size(&pgt, level);
		n = size / leaf;
		a0 = v->pool.allocs;
		v->flushes = 0;
		t0 = now_ns();
		ret = tdp_map(&pgt, GPA0, HPA0, size, TDP_PROT_RWX, TDP_MAP_MAX_LEVEL(level), NULL);
		t_map[r] = now_ns() - t0;
		if (ret)
			return fail(v, "map", ret);
		tables = v->pool.allocs - a0;
		fl_map = v->flushes;
		if (r == 0 && expect_range(v, &pgt, size, leaf, TDP_PROT_RWX))
			return -1;
		v->flushes = 0;
		t0 = now_ns();
		ret = tdp_unmap(&pgt, GPA0, size, NULL);
		t_unmap[r] = now_ns() - t0;
		if (ret)
			return fail(v, "unmap", ret);
		fl_unmap = v->flushes;
		if (r == 0 && expect_empty(v, &pgt, size))
			return -1;
		tdp_pgtable_destroy(&pgt);
		if (floor_fits(v, n, tables, v->pool.tsize))
			return -1;
		f_map[r] = floor_bulk(&v->fb, n, tables, v->pool.tsize, false);
		f_unmap[r] = floor_bulk(&v->fb, n, 0, v->pool.tsize, true);
	}
	struct bench_row m = { v->c->name, name, "map", unit, n, size, 1, n, tables,
			       stats(t_map, v->reps, (double)n), median(f_map, v->reps) / (double)n,
			       fl_map, 0, 0 };
	struct bench_row u = { v->c->name, name, "unmap", unit, n, size, 1, n, 0,
			       stats(t_unmap, v->reps, (double)n),
			       median(f_unmap, v->reps) / (double)n, fl_unmap, 0, 0 };

	return add_row(v, &m) || add_row(v, &u) ? -1 : 0;
}

/* Map [GPA0, GPA0 + size) untimed; the caller times one operation on it. */
static int setup_mapped(struct env *v, struct tdp_pgtable *pgt, uint64_t size, unsigned int level,
			uint32_t extra_flags)
{
	int ret = table_new(v, pgt, extra_flags);

	if (ret)
		return fail(v, "init", ret);
	ret = tdp_map(pgt, GPA0, HPA0, size, TDP_PROT_RWX, TDP_MAP_MAX_LEVEL(level), NULL);
	if (ret)
		return fail(v, "map (setup)", ret);
	return 0;
}

/* W5: split size bytes of first-level blocks into pages, one call. */
static int wl_split(struct env *v)
{
	double t[MAX_REPS], f[MAX_REPS];
	uint64_t n = 0, tables = 0, fl = 0, page = 0;

	for (int r = 0; r < v->reps; r++) {
		struct tdp_pgtable pgt;
		uint64_t a0;
		double t0;
		int ret;

		if (setup_mapped(v, &pgt, v->size, 1, 0))
			return -1;
		page = tdp_page_size(&pgt);
		n = v->size / page;
		a0 = v->pool.allocs;
		v->flushes = 0;
		t0 = now_ns();
		ret = tdp_split(&pgt, GPA0, v->size, 0, NULL);
		t[r] = now_ns() - t0;
		if (ret)
			return fail(v, "split", ret);
		tables = v->pool.allocs - a0;
		fl = v->flushes;
		if (r == 0 && expect_range(v, &pgt, v->size, page, TDP_PROT_RWX))
			return -1;
		tdp_pgtable_destroy(&pgt);
		if (floor_fits(v, n, tables, v->pool.tsize))
			return -1;
		f[r] = floor_bulk(&v->fb, n, tables, v->pool.tsize, false);
	}
	struct bench_row row = { v->c->name, "W5", "split", "page", n, v->size, 1, n, tables,
				 stats(t, v->reps, (double)n), median(f, v->reps) / (double)n,
				 fl, 0, 0 };

	return add_row(v, &row);
}

/* zap of W1's table (everything, no budget) and write-protect of W1's range. */
static int wl_zap_protect(struct env *v)
{
	double tz[MAX_REPS], tp[MAX_REPS], fz[MAX_REPS], fp[MAX_REPS];
	uint64_t n = 0, flz = 0, flp = 0;

	for (int r = 0; r < v->reps; r++) {
		struct tdp_pgtable pgt;
		struct tdp_zap_result zr;
		double t0;
		int ret;

		if (setup_mapped(v, &pgt, v->size, 0, 0))
			return -1;
		n = v->size / tdp_page_size(&pgt);
		v->flushes = 0;
		t0 = now_ns();
		ret = tdp_protect(&pgt, GPA0, v->size, TDP_PROT_W, 0, NULL);
		tp[r] = now_ns() - t0;
		if (ret)
			return fail(v, "protect", ret);
		flp = v->flushes;
		if (r == 0 && expect_range(v, &pgt, v->size, tdp_page_size(&pgt),
					   TDP_PROT_RWX & ~TDP_PROT_W))
			return -1;
		v->flushes = 0;
		t0 = now_ns();
		ret = tdp_zap(&pgt, GPA0, v->size, 0, &zr);
		tz[r] = now_ns() - t0;
		if (ret)
			return fail(v, "zap", ret);
		flz = v->flushes;
		if (r == 0 && (expect_empty(v, &pgt, v->size) || zr.removed_start > GPA0 ||
			       zr.removed_end < GPA0 + v->size))
			return fail(v, "check: zap result", 0);
		tdp_pgtable_destroy(&pgt);
		if (floor_fits(v, n, 0, v->pool.tsize))
			return -1;
		fp[r] = floor_bulk(&v->fb, n, 0, v->pool.tsize, false);
		fz[r] = floor_bulk(&v->fb, n, 0, v->pool.tsize, true);
	}
	struct bench_row p = { v->c->name, "protect", "wrprot", "page", n, v->size, 1, n, 0,
			       stats(tp, v->reps, (double)n), median(fp, v->reps) / (double)n,
			       flp, 0, 0 };
	struct bench_row z = { v->c->name, "zap", "zap", "page", n, v->size, 1, n, 0,
			       stats(tz, v->reps, (double)n), median(fz, v->reps) / (double)n,
			       flz, 0, 0 };

	return add_row(v, &p) || add_row(v, &z) ? -1 : 0;
}

/* The hardware's part of A/D: set the accessed and dirty bits of every leaf. */
static int touch_all(struct env *v, struct tdp_pgtable *pgt, uint64_t size)
{
	struct tdp_iter it;
	uint64_t n = 0;

	tdp_for_each_entry(it, pgt, GPA0, GPA0 + size)
	{
		struct tdp_entry e;

		tdp_iter_entry(&it, &e);
		if (e.valid && !e.table) {
			*it.ptep |= v->c->a_bit | v->c->d_bit;
			n++;
		}
	}
	return n ? 0 : fail(v, "touch: no leaves", 0);
}

/* Harvesting after every page was read and written: young, then dirty. */
static int wl_ad(struct env *v)
{
	double ty[MAX_REPS], td[MAX_REPS], fy[MAX_REPS], fd[MAX_REPS];
	uint64_t n = 0, fly = 0, fld = 0, *bitmap = NULL;

	for (int r = 0; r < v->reps; r++) {
		struct tdp_pgtable pgt;
		bool young = false;
		double t0;
		int ret;

		if (setup_mapped(v, &pgt, v->size, 0, v->c->ad_flag))
			return -1;
		n = v->size / tdp_page_size(&pgt);
		if (!bitmap) {
			bitmap = calloc((n + 63) / 64, 8);
			if (!bitmap)
				return fail(v, "bitmap", -ENOMEM);
		}
		memset(bitmap, 0, (n + 63) / 64 * 8);
		if (touch_all(v, &pgt, v->size))
			goto err;
		v->flushes = 0;
		t0 = now_ns();
		ret = tdp_test_clear_young(&pgt, GPA0, v->size, &young);
		ty[r] = now_ns() - t0;
		fly = v->flushes;
		if (ret || !young) {
			fail(v, "young", ret);
			goto err;
		}
		v->flushes = 0;
		t0 = now_ns();
		ret = tdp_collect_dirty(&pgt, GPA0, v->size, bitmap);
		td[r] = now_ns() - t0;
		fld = v->flushes;
		if (ret) {
			fail(v, "dirty", ret);
			goto err;
		}
		for (uint64_t i = 0; i < n; i++)
			if (!(bitmap[i / 64] >> (i % 64) & 1)) {
				fail(v, "check: clean page reported after a write", (long)i);
				goto err;
			}
		tdp_pgtable_destroy(&pgt);
		if (floor_fits(v, n, 0, v->pool.tsize))
			goto err;
		fy[r] = floor_bulk(&v->fb, n, 0, v->pool.tsize, false);
		fd[r] = floor_bulk(&v->fb, n, 0, v->pool.tsize, false);
	}
	free(bitmap);
	struct bench_row y = { v->c->name, "young", "clear", "page", n, v->size, 1, n, 0,
			       stats(ty, v->reps, (double)n), median(fy, v->reps) / (double)n,
			       fly, 0, 0 };
	struct bench_row d = { v->c->name, "dirty", "collect", "page", n, v->size, 1, n, 0,
			       stats(td, v->reps, (double)n), median(fd, v->reps) / (double)n,
			       fld, 0, 0 };

	return add_row(v, &y) || add_row(v, &d) ? -1 : 0;
err:
	free(bitmap);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Per-call workloads                                                   */
/* ------------------------------------------------------------------ */

/*
 * W4: `calls` separate one-page maps, the way a fault handler makes them
 * (top up the memory cache, then map), then as many one-page unmaps.
 */
static int wl_faults(struct env *v)
{
	double t_map[MAX_REPS], t_unmap[MAX_REPS], t_fault[MAX_REPS], f_map[MAX_REPS],
		f_unmap[MAX_REPS];
	uint64_t tables = 0, fl_map = 0, fl_unmap = 0, fl_fault = 0, page = 0;
	const uint64_t n = v->calls;

	for (int r = 0; r < v->reps; r++) {
		struct tdp_pgtable pgt;
		struct tdp_memcache mc;
		struct mini mini;
		uint64_t a0;
		size_t need;
		double t0;
		int ret = table_new(v, &pgt, 0);

		if (ret)
			return fail(v, "init", ret);
		page = tdp_page_size(&pgt);
		need = (size_t)tdp_map_pages_needed(&pgt, GPA0, HPA0, page, 0);
		tdp_memcache_init(&mc);
		a0 = v->pool.allocs;
		v->flushes = 0;
		t0 = now_ns();
		for (uint64_t i = 0; i < n; i++) {
			ret = tdp_memcache_topup(&pgt, &mc, need);
			if (!ret)
				ret = tdp_map(&pgt, GPA0 + i * page, HPA0 + i * page, page, TDP_PROT_RWX,
					      0, &mc);
			if (ret)
				return fail(v, "W4 map", ret);
		}
		t_map[r] = now_ns() - t0;
		tables = v->pool.allocs - a0 - mc.nr;
		fl_map = v->flushes;
		if (r == 0 && expect_range(v, &pgt, n * page, page, TDP_PROT_RWX))
			return -1;
		v->flushes = 0;
		t0 = now_ns();
		for (uint64_t i = 0; i < n; i++) {
			ret = tdp_unmap(&pgt, GPA0 + i * page, page, &mc);
			if (ret)
				return fail(v, "W4 unmap", ret);
		}
		t_unmap[r] = now_ns() - t0;
		fl_unmap = v->flushes;
		tdp_memcache_drain(&pgt, &mc);
		if (r == 0 && expect_empty(v, &pgt, n * page))
			return -1;

		/*
		 * The same pages through the fault path (tdp_map_fault): one
		 * region over the whole range, leaves capped at pages the way a
		 * hypervisor logging dirty pages maps them, so each fault does
		 * the work of one W4 map.
		 */
		const struct tdp_fault_region rg = { GPA0, n * page, HPA0 };
		const size_t fneed = (size_t)tdp_map_fault_pages_needed(&pgt);
		struct tdp_fault_result fr;

		v->flushes = 0;
		t0 = now_ns();
		for (uint64_t i = 0; i < n; i++) {
			ret = tdp_memcache_topup(&pgt, &mc, fneed);
			if (!ret)
				ret = tdp_map_fault(&pgt, GPA0 + i * page, &rg, TDP_PROT_RWX,
						    TDP_MAP_MAX_LEVEL(0), &mc, &fr);
			if (ret || fr.size != page)
				return fail(v, "W4 fault", ret);
		}
		t_fault[r] = now_ns() - t0;
		fl_fault = v->flushes;
		if (r == 0 && expect_range(v, &pgt, n * page, page, TDP_PROT_RWX))
			return -1;
		ret = tdp_unmap(&pgt, GPA0, n * page, &mc);
		if (ret)
			return fail(v, "W4 fault unmap", ret);
		tdp_memcache_drain(&pgt, &mc);
		if (r == 0 && expect_empty(v, &pgt, n * page))
			return -1;

		/* the floor: the same calls through the minimal walker */
		if (mini_reset(&mini, &pgt, &v->fb))
			return fail(v, "floor buffer too small", 0);
		tdp_pgtable_destroy(&pgt);
		t0 = now_ns();
		for (uint64_t i = 0; i < n; i++)
			if (mini_map(&mini, GPA0 + i * page, HPA0 + i * page))
				return fail(v, "floor buffer too small (use fewer --calls)", 0);
		f_map[r] = now_ns() - t0;
		t0 = now_ns();
		for (uint64_t i = 0; i < n; i++) {
			uint64_t *e = mini_find(&mini, GPA0 + i * page);

			if (e)
				*e = 0;
		}
		f_unmap[r] = now_ns() - t0;
	}
	v->w4_tables = tables;
	v->w4_floor = median(f_map, v->reps) / (double)n;
	v->w4_page = page;
	struct bench_row m = { v->c->name, "W4", "map", "call", n, n * page, n, n, tables,
			       stats(t_map, v->reps, (double)n), median(f_map, v->reps) / (double)n,
			       fl_map, 0, 0 };
	struct bench_row u = { v->c->name, "W4", "unmap", "call", n, n * page, n, n, 0,
			       stats(t_unmap, v->reps, (double)n),
			       median(f_unmap, v->reps) / (double)n, fl_unmap, 0, 0 };

	struct bench_row fa = { v->c->name, "W4", "fault", "call", n, n * page, n, n, tables,
				stats(t_fault, v->reps, (double)n),
				median(f_map, v->reps) / (double)n, fl_fault, 0, 0 };

	return add_row(v, &m) || add_row(v, &fa) || add_row(v, &u) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Shared mode: W4 from several threads at once (--threads)             */
/* ------------------------------------------------------------------ */

/*
 * The shared-mode table's memory: the root and everything freed outside the
 * workers come from the configuration's pool as usual; each worker tops up
 * its memory cache from its own arena, a slice of the same pre-faulted pool
 * (so linear_offset holds for every table), found through a thread-local
 * pointer because tdp_mm_ops has one context per table. No lock and no
 * shared cache line on the allocation path, so the 1-thread shared row pays
 * what the exclusive W4 row pays for its top-ups. The TLB callbacks count
 * into a thread-local counter for the same reason (RISC-V without Svvptc
 * reports every new entry).
 */
#define MAX_THREADS 64

static _Thread_local struct pool *tl_arena;
static _Thread_local uint64_t tl_flushes;

/* Tables given to defer_free_table, freed once every worker has joined. */
struct deferred {
	void *table;
	unsigned int level;
	struct deferred *next;
};

struct shared_mm {
	struct pool *pool; /* roots; frees outside the workers */
	pthread_mutex_t lock;
	struct deferred *deferred;
	uint64_t ndeferred;
};

static void *shared_zalloc(void *ctx, size_t size)
{
	const struct shared_mm *sm = ctx;

	return pool_zalloc(tl_arena ? tl_arena : sm->pool, size);
}

static void shared_free(void *ctx, void *va, size_t size)
{
	const struct shared_mm *sm = ctx;

	pool_free(tl_arena ? tl_arena : sm->pool, va, size);
}

/*
 * Called from any worker: the table may still be walked by the others, so
 * it is only queued; the queue is emptied after the join (a grace period:
 * no thread is left inside a call).
 */
static void shared_defer_free(void *ctx, void *table, unsigned int level)
{
	struct shared_mm *sm = ctx;
	struct deferred *d = malloc(sizeof(*d));

	if (!d) {
		fputs("tdp-bench: defer_free_table: out of memory\n", stderr);
		abort();
	}
	d->table = table;
	d->level = level;
	pthread_mutex_lock(&sm->lock);
	d->next = sm->deferred;
	sm->deferred = d;
	sm->ndeferred++;
	pthread_mutex_unlock(&sm->lock);
}

static const struct tdp_mm_ops shared_ops = { .zalloc_table = shared_zalloc,
					      .free_table = shared_free,
					      .defer_free_table = shared_defer_free };

static void tlb_range_tl(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	(void)ctx, (void)gpa, (void)size, (void)level, (void)tables;
	tl_flushes++;
}

static void tlb_all_tl(void *ctx)
{
	(void)ctx;
	tl_flushes++;
}

static const struct tdp_tlb_ops tlb_tl_ops = { .flush_range = tlb_range_tl,
					       .flush_all = tlb_all_tl };

/* What every worker of one timed run shares (read-only once they start). */
struct shared_run {
	struct tdp_pgtable *pgt;
	pthread_barrier_t barrier;
	atomic_uint arrived; /* the spin rendezvous after the barrier */
	unsigned int nthreads;
	bool yield;          /* more threads than CPUs: yield while waiting */
	bool fault;          /* tdp_map_fault instead of tdp_map */
	uint64_t page;
	size_t need;         /* pages each call wants in the cache */
	struct tdp_fault_region rg;
};

/* One per thread, each on its own cache lines (arena and cache change on every top-up). */
struct worker {
	_Alignas(128) struct pool arena;
	struct tdp_memcache mc;
	struct shared_run *run;
	pthread_t tid;
	uint64_t first, n; /* its slice: page indices [first, first + n) */
	double t_start, t_end;
	uint64_t flushes, retries;
	int ret;           /* 0, or the error that stopped it at page `at` */
	uint64_t at;
};

/*
 * The loops of W4 map and W4 fault as wl_faults runs them, on the thread's
 * slice, with everything they use in locals (the cache on the stack, as
 * there), so that one thread costs what the exclusive loop costs plus what
 * shared mode costs in the library. -TDP_EAGAIN (a busy entry) repeats the
 * call. Returns 0, or the error with *at the page that failed.
 */
static int slice_map(struct tdp_pgtable *pgt, struct tdp_memcache *mc, size_t need,
		     uint64_t page, uint64_t first, uint64_t end, uint64_t *retries, uint64_t *at)
{
	for (uint64_t i = first; i < end; i++) {
		int ret;

		do {
			ret = tdp_memcache_topup(pgt, mc, need);
			if (!ret)
				ret = tdp_map(pgt, GPA0 + i * page, HPA0 + i * page, page,
					      TDP_PROT_RWX, 0, mc);
		} while (ret == -TDP_EAGAIN && ++*retries);
		if (ret) {
			*at = i;
			return ret;
		}
	}
	return 0;
}

static int slice_fault(struct tdp_pgtable *pgt, struct tdp_memcache *mc, size_t need,
		       uint64_t page, uint64_t first, uint64_t end,
		       const struct tdp_fault_region *rg, uint64_t *retries, uint64_t *at)
{
	for (uint64_t i = first; i < end; i++) {
		struct tdp_fault_result fr;
		int ret;

		do {
			ret = tdp_memcache_topup(pgt, mc, need);
			if (!ret)
				ret = tdp_map_fault(pgt, GPA0 + i * page, rg, TDP_PROT_RWX,
						    TDP_MAP_MAX_LEVEL(0), mc, &fr);
		} while (ret == -TDP_EAGAIN && ++*retries);
		if (!ret && fr.size != page)
			ret = -TDP_EINVAL; /* a leaf that is not a page */
		if (ret) {
			*at = i;
			return ret;
		}
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared_run *s = w->run;
	struct tdp_memcache mc = w->mc;
	uint64_t retries = 0, at = 0;
	int ret;

	tl_arena = &w->arena;
	tl_flushes = 0;
	/*
	 * Every thread exists and has reached this point; the spin then lines
	 * the starts up closer than a futex wake-up does.
	 */
	pthread_barrier_wait(&s->barrier);
	atomic_fetch_add_explicit(&s->arrived, 1, memory_order_acq_rel);
	while (atomic_load_explicit(&s->arrived, memory_order_acquire) < s->nthreads)
		if (s->yield)
			sched_yield();
	w->t_start = now_ns();
	if (s->fault)
		ret = slice_fault(s->pgt, &mc, s->need, s->page, w->first, w->first + w->n, &s->rg,
				  &retries, &at);
	else
		ret = slice_map(s->pgt, &mc, s->need, s->page, w->first, w->first + w->n, &retries,
				&at);
	w->t_end = now_ns();
	w->mc = mc;
	w->ret = ret;
	w->at = at;
	w->retries = retries;
	w->flushes = tl_flushes;
	tl_arena = NULL;
	return NULL;
}

/* The pool's free space split into one arena per worker, aligned to the table size. */
static int carve_arenas(struct pool *p, struct worker *w, unsigned int n)
{
	const size_t start = (p->used + p->tsize - 1) & ~(p->tsize - 1);
	const size_t chunk = start < p->size ? (p->size - start) / n & ~(p->tsize - 1) : 0;

	if (chunk < 4 * p->tsize)
		return -1;
	for (unsigned int k = 0; k < n; k++) {
		w[k].arena = (struct pool){ .base = p->base + start + k * chunk,
					    .size = chunk,
					    .tsize = p->tsize };
		tdp_memcache_init(&w[k].mc);
	}
	p->used = p->size; /* the rest belongs to the arenas now */
	return 0;
}

/*
 * One timed run: a fresh shared-mode table, `nthreads` workers mapping
 * contiguous slices of the `calls` pages (sizes differing by at most one),
 * started together; the time is from the first start after the barrier to
 * the last finish. After the join: every page is checked through
 * tdp_lookup, the tables linked must be what exclusive W4 map allocates, no
 * table may have gone to defer_free_table (W4 maps into empty space), and
 * the table is torn down single-threaded and untimed (unmap is exclusive in
 * shared mode), leaving every table back in the pools.
 */
static int shared_run(struct env *v, unsigned int nthreads, bool fault, int rep, double *t,
		      uint64_t *tables, uint64_t *flushes)
{
	struct shared_mm sm = { .pool = &v->pool, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct tdp_config cfg = {
		.format = v->c->format,
		.ia_bits = v->c->ia_bits,
		.oa_bits = v->c->oa_bits,
		.granule_shift = v->c->granule_shift,
		.flags = v->c->flags | TDP_CFG_SHARED,
		.mm = &shared_ops,
		.mm_ctx = &sm,
		.linear_offset = (uintptr_t)v->pool.base - POOL_PA_BASE,
		.tlb = &tlb_tl_ops,
		.tlb_ctx = NULL,
	};
	const uint64_t n = v->calls, base = n / nthreads, extra = n % nthreads;
	struct worker *w = v->workers;
	struct shared_run s = { .nthreads = nthreads, .fault = fault };
	struct tdp_pgtable pgt;
	uint64_t allocs = 0, frees = 0, cached = 0, ndeferred = 0;
	double t0 = 0, t1 = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int ret, err = 0;

	pool_reset(&v->pool);
	ret = tdp_pgtable_init(&pgt, &cfg);
	if (ret)
		return fail(v, "init (shared)", ret);
	if (carve_arenas(&v->pool, w, nthreads)) {
		tdp_pgtable_destroy(&pgt);
		return fail(v, "pool too small for the threads' arenas", (long)nthreads);
	}
	s.pgt = &pgt;
	s.page = tdp_page_size(&pgt);
	s.need = fault ? (size_t)tdp_map_fault_pages_needed(&pgt)
		       : (size_t)tdp_map_pages_needed(&pgt, GPA0, HPA0, s.page, 0);
	s.rg = (struct tdp_fault_region){ GPA0, n * s.page, HPA0 };
	s.yield = cpus > 0 && nthreads > (unsigned long)cpus;
	atomic_init(&s.arrived, 0);
	ret = pthread_barrier_init(&s.barrier, NULL, nthreads);
	if (ret) {
		tdp_pgtable_destroy(&pgt);
		return fail(v, "pthread_barrier_init", ret);
	}
	for (unsigned int k = 0; k < nthreads; k++) {
		w[k].run = &s;
		w[k].first = k * base + (k < extra ? k : extra);
		w[k].n = base + (k < extra);
		w[k].ret = 0;
		w[k].at = 0;
		w[k].flushes = w[k].retries = 0;
		ret = pthread_create(&w[k].tid, NULL, worker_main, &w[k]);
		if (ret) {
			/* the ones started wait at the barrier for good: no way back */
			fprintf(stderr, "tdp-bench: %s: pthread_create: %s\n", v->c->name,
				strerror(ret));
			exit(1);
		}
	}
	for (unsigned int k = 0; k < nthreads; k++) {
		ret = pthread_join(w[k].tid, NULL);
		if (ret) {
			fprintf(stderr, "tdp-bench: %s: pthread_join: %s\n", v->c->name,
				strerror(ret));
			exit(1);
		}
	}
	pthread_barrier_destroy(&s.barrier);

	/* joined: from here on the table and every worker's state can be read */
	*flushes = 0;
	for (unsigned int k = 0; k < nthreads; k++) {
		if (w[k].ret && !err) {
			fprintf(stderr,
				"tdp-bench: %s: %u threads: thread %u: %s at gpa %#llx: %d\n",
				v->c->name, nthreads, k, fault ? "tdp_map_fault" : "tdp_map",
				(unsigned long long)(GPA0 + w[k].at * s.page), w[k].ret);
			err = -1;
		}
		if (k == 0 || w[k].t_start < t0)
			t0 = w[k].t_start;
		if (k == 0 || w[k].t_end > t1)
			t1 = w[k].t_end;
		allocs += w[k].arena.allocs;
		frees += w[k].arena.frees;
		cached += w[k].mc.nr;
		*flushes += w[k].flushes;
		v->retries += w[k].retries;
	}
	*t = t1 - t0;
	*tables = allocs - frees - cached;
	/* every page, where it should be, and nothing on either side */
	for (uint64_t i = 0; i < n && !err; i++)
		err = expect(v, &pgt, GPA0 + i * s.page, HPA0 + i * s.page, s.page, TDP_PROT_RWX);
	if (!err) {
		struct tdp_lookup_result res;

		if (tdp_lookup(&pgt, GPA0 - s.page, &res) != -TDP_ENOENT ||
		    tdp_lookup(&pgt, GPA0 + n * s.page, &res) != -TDP_ENOENT)
			err = fail(v, "check: shared map wrote outside its range", 0);
	}
	if (!err && *tables != v->w4_tables) {
		fprintf(stderr,
			"tdp-bench: %s: %u threads: %llu tables linked, exclusive W4 map "
			"allocates %llu\n",
			v->c->name, nthreads, (unsigned long long)*tables,
			(unsigned long long)v->w4_tables);
		err = -1;
	}
	/* the grace period is over: free what was deferred */
	while (sm.deferred) {
		struct deferred *d = sm.deferred;

		sm.deferred = d->next;
		ret = tdp_free_unlinked(&pgt, d->table, d->level);
		if (ret && !err)
			err = fail(v, "tdp_free_unlinked", ret);
		free(d);
		ndeferred++;
	}
	pthread_mutex_destroy(&sm.lock);
	if (ndeferred && !err) /* W4 maps into empty space: nothing to unlink */
		err = fail(v, "check: tables given to defer_free_table (expected 0)",
			   (long)ndeferred);
	for (unsigned int k = 0; k < nthreads; k++)
		tdp_memcache_drain(&pgt, &w[k].mc);
	/* teardown: exclusive (no worker is left), untimed */
	ret = tdp_unmap(&pgt, GPA0, n * s.page, NULL);
	if (ret && !err)
		err = fail(v, "unmap (shared, after the join)", ret);
	if (!err && rep == 0) {
		allocs = v->pool.allocs;
		frees = v->pool.frees;
		for (unsigned int k = 0; k < nthreads; k++) {
			allocs += w[k].arena.allocs;
			frees += w[k].arena.frees;
		}
		err = expect_empty_live(v, &pgt, n * s.page, allocs - frees);
	}
	tdp_pgtable_destroy(&pgt);
	return err;
}

/*
 * W4 in shared mode: the maps (and the faults) of W4 by one thread and by
 * `threads` threads, each repetition running the 1-thread and the N-thread
 * table one after the other, so the scale column compares figures of the
 * same run. Only maps are timed: no unmap runs concurrently.
 */
static int wl_shared(struct env *v)
{
	double t1m[MAX_REPS], tnm[MAX_REPS], t1f[MAX_REPS], tnf[MAX_REPS];
	uint64_t tab[4] = { 0 }, fl[4] = { 0 };
	const unsigned int nt = v->threads;
	const uint64_t n = v->calls;

	for (int r = 0; r < v->reps; r++) {
		if (shared_run(v, 1, false, r, &t1m[r], &tab[0], &fl[0]) ||
		    (nt > 1 && shared_run(v, nt, false, r, &tnm[r], &tab[1], &fl[1])) ||
		    shared_run(v, 1, true, r, &t1f[r], &tab[2], &fl[2]) ||
		    (nt > 1 && shared_run(v, nt, true, r, &tnf[r], &tab[3], &fl[3])))
			return -1;
	}
	const uint64_t bytes = n * v->w4_page;
	struct bench_row m1 = { v->c->name, "W4", "map/1t", "page", n, bytes, n, n, tab[0],
				stats(t1m, v->reps, (double)n), v->w4_floor, fl[0], 1, 0 };
	struct bench_row f1 = { v->c->name, "W4", "fault/1t", "page", n, bytes, n, n, tab[2],
				stats(t1f, v->reps, (double)n), v->w4_floor, fl[2], 1, 0 };

	if (add_row(v, &m1))
		return -1;
	if (nt > 1) {
		/* no floor: the floor is one thread's walk; the scale column is the comparison */
		struct bench_row mn = { v->c->name, "W4", v->op_map_n, "page", n, bytes, n, n, tab[1],
					stats(tnm, v->reps, (double)n), -1, fl[1], nt, 0 };

		mn.scale = m1.ns.med / mn.ns.med;
		if (add_row(v, &mn))
			return -1;
	}
	if (add_row(v, &f1))
		return -1;
	if (nt > 1) {
		struct bench_row fn = { v->c->name, "W4", v->op_fault_n, "page", n, bytes, n, n, tab[3],
					stats(tnf, v->reps, (double)n), -1, fl[3], nt, 0 };

		fn.scale = f1.ns.med / fn.ns.med;
		if (add_row(v, &fn))
			return -1;
	}
	return 0;
}

/* Random page addresses in [0, size): xorshift, the same sequence every run. */
static void random_offsets(uint64_t *out, uint64_t n, uint64_t size, uint64_t page)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, pages = size / page;

	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		out[i] = (x % pages) * page + (x >> 52) % page;
	}
}

/* `calls` lookups of random addresses in W1's table. */
static int wl_lookup(struct env *v)
{
	double t[MAX_REPS], f[MAX_REPS];
	const uint64_t n = v->calls;
	uint64_t *off = malloc(n * sizeof(*off));

	if (!off)
		return fail(v, "malloc", -ENOMEM);
	for (int r = 0; r < v->reps; r++) {
		struct tdp_pgtable pgt;
		struct mini mini;
		uint64_t sum = 0, page;
		double t0;

		if (setup_mapped(v, &pgt, v->size, 0, 0))
			goto err;
		page = tdp_page_size(&pgt);
		random_offsets(off, n, v->size, page);
		t0 = now_ns();
		for (uint64_t i = 0; i < n; i++) {
			struct tdp_lookup_result res;

			if (tdp_lookup(&pgt, GPA0 + off[i], &res)) {
				fail(v, "lookup", (long)i);
				goto err;
			}
			sum += res.hpa;
		}
		t[r] = now_ns() - t0;
		sink = sum;
		if (r == 0) {
			uint64_t want = 0;

			for (uint64_t i = 0; i < n; i++)
				want += HPA0 + off[i];
			if (sum != want) {
				fail(v, "check: lookup results", 0);
				goto err;
			}
		}
		/* the floor: the minimal walker finding the same entries */
		if (mini_reset(&mini, &pgt, &v->fb)) {
			fail(v, "floor buffer too small", 0);
			goto err;
		}
		tdp_pgtable_destroy(&pgt);
		for (uint64_t a = 0; a < v->size; a += page)
			if (mini_map(&mini, GPA0 + a, HPA0 + a)) {
				fail(v, "floor buffer too small (use a smaller --size)", 0);
				goto err;
			}
		sum = 0;
		t0 = now_ns();
		for (uint64_t i = 0; i < n; i++) {
			const uint64_t *e = mini_find(&mini, GPA0 + off[i]);

			sum += e ? (*e & ~0xfffull) + (off[i] & (page - 1)) : 0;
		}
		f[r] = now_ns() - t0;
		sink = sum;
	}
	free(off);
	struct bench_row row = { v->c->name, "lookup", "lookup", "call", n, 0, n, 0, 0,
				 stats(t, v->reps, (double)n), median(f, v->reps) / (double)n,
				 0, 0, 0 };

	return add_row(v, &row);
err:
	free(off);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Driver                                                               */
/* ------------------------------------------------------------------ */

enum {
	WL_W1 = 1u << 0,
	WL_W2 = 1u << 1,
	WL_W3 = 1u << 2,
	WL_W4 = 1u << 3,
	WL_W5 = 1u << 4,
	WL_ZAP = 1u << 5, /* zap and protect share their setup */
	WL_LOOKUP = 1u << 6,
	WL_AD = 1u << 7,
};

static const struct {
	const char *name;
	unsigned int bit;
	const char *what;
} workloads[] = {
	{ "W1", WL_W1, "map --size bytes as smallest pages in one call, unmap in one call" },
	{ "W2", WL_W2, "the same as first-level blocks (2M; 32M on 16K, 512M on 64K)" },
	{ "W3", WL_W3, "map 64 GiB as 1 GiB blocks, unmap (4K-granule formats)" },
	{ "W4", WL_W4, "--calls one-page maps from a topped-up memory cache, the same as faults "
		       "(tdp_map_fault), then one-page unmaps; with --threads also the maps and "
		       "faults in shared mode (no concurrent unmap)" },
	{ "W5", WL_W5, "split --size bytes of first-level blocks into pages" },
	{ "zap", WL_ZAP, "write-protect W1's range, then zap it (two rows)" },
	{ "lookup", WL_LOOKUP, "--calls lookups of random addresses in W1's range" },
	{ "ad", WL_AD, "A/D harvesting over W1's range after every page was written" },
};
#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

/* Does the format have a leaf level of exactly `size` bytes? */
static bool has_leaf_size(struct env *v, uint64_t size, unsigned int *level)
{
	struct tdp_pgtable pgt;
	bool found = false;

	if (table_new(v, &pgt, 0))
		return false;
	for (unsigned int l = 0; l < pgt.geo.levels; l++)
		if (tdp_level_size(&pgt, l) == size && (pgt.geo.leaf_levels_mask >> l & 1)) {
			*level = l;
			found = true;
		}
	tdp_pgtable_destroy(&pgt);
	return found;
}

static int run_config(struct env *v, unsigned int wl)
{
	unsigned int l1g;
	int ret = 0;

	if (wl & WL_W1)
		ret |= wl_map_unmap(v, "W1", v->size, 0, "page");
	if (!ret && (wl & WL_W2))
		ret |= wl_map_unmap(v, "W2", v->size, 1, "block");
	if (!ret && (wl & WL_W3) && has_leaf_size(v, 1ull << 30, &l1g))
		ret |= wl_map_unmap(v, "W3", 64ull << 30, l1g, "block");
	if (!ret && (wl & WL_W4))
		ret |= wl_faults(v);
	if (!ret && (wl & WL_W4) && v->threads)
		ret |= wl_shared(v);
	if (!ret && (wl & WL_W5))
		ret |= wl_split(v);
	if (!ret && (wl & WL_ZAP))
		ret |= wl_zap_protect(v);
	if (!ret && (wl & WL_LOOKUP))
		ret |= wl_lookup(v);
	if (!ret && (wl & WL_AD) && v->c->ad_flag)
		ret |= wl_ad(v);
	return ret;
}

/* Is the format compiled in (-Darchs)? */
static bool built(const struct config *c)
{
	struct env v = { .c = c };
	struct tdp_pgtable pgt;
	bool ok;

	if (pool_init(&v.pool, 1u << 20, (size_t)1 << c->granule_shift))
		return false;
	ok = table_new(&v, &pgt, 0) == 0;
	if (ok)
		tdp_pgtable_destroy(&pgt);
	munmap(v.pool.base, v.pool.size);
	return ok;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end || v == 0)
		return -1;
	*out = v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tdp-bench [options]\n"
		"  --config NAME       run this configuration (repeatable; default: all built)\n"
		"  --workload LIST     comma-separated workloads (default: all)\n"
		"  --size BYTES        range of W1, W2, W5, zap, protect, lookup, ad, in bytes\n"
		"                      with suffixes K M G (powers of 1024): a multiple of 1G\n"
		"                      from 1G to 64G (default 1G)\n"
		"  --calls N           calls of W4 and lookup (default 262144; suffixes K M)\n"
		"  --reps N            repetitions, 1..%d (default 5)\n"
		"  --format FMT        what stdout gets: table (default), csv or json\n"
		"  --csv, --json       short for --format csv / json\n"
		"  --out DIR           also write tdp-bench.txt (the table), .csv, .json and .svg\n"
		"                      (the plot) of this run into DIR, made if missing\n"
		"  --plot FILE.svg     also draw ns per unit as a bar chart\n"
		"                      (--out and --plot are checked before the run starts)\n"
		"  --threads N         also run W4 in shared mode (TDP_CFG_SHARED), N 1..%d:\n"
		"                      rows W4 map/1t and fault/1t (one thread), map/Nt and\n"
		"                      fault/Nt (the --calls pages in N contiguous slices,\n"
		"                      N threads mapping into one table at once, each with its\n"
		"                      own memory cache and allocator arena; ns per page of\n"
		"                      the wall time from the start barrier to the last\n"
		"                      thread's finish), and a scale column: 1t ns / Nt ns.\n"
		"                      Only maps run concurrently (unmap is exclusive in\n"
		"                      shared mode): the shared tables are torn down after\n"
		"                      the join, untimed; W4 unmap is the exclusive row\n"
		"  --list              list configurations and workloads\n",
		MAX_REPS, MAX_THREADS);
}

/* What the shared-mode rows are, after the table (CSV and JSON carry the fields). */
static void legend_threads(FILE *f, unsigned int n)
{
	fprintf(f, "\nshared mode (--threads %u): W4 map/1t, fault/1t: W4 map and fault on a "
		   "TDP_CFG_SHARED table by one thread.\n", n);
	if (n > 1)
		fprintf(f,
			"map/%ut, fault/%ut: the same pages in %u contiguous slices, %u threads "
			"mapping into one table at once, each\n"
			"with its own memory cache and arena; ns/unit = wall time from the start "
			"barrier to the last thread's finish / pages;\n"
			"scale = 1t ns/unit / %ut ns/unit, both measured in this run.\n",
			n, n, n, n, n);
	fputs("Only maps run concurrently (unmap is exclusive in shared mode): shared tables are "
	      "torn down after the join,\nuntimed; W4 unmap is the exclusive row.\n",
	      f);
}

static void list(void)
{
	printf("configurations:\n");
	for (size_t i = 0; i < NCONFIGS; i++)
		printf("  %-20s%s\n", configs[i].name, built(&configs[i]) ? "" : " (not built)");
	printf("workloads:\n");
	for (size_t i = 0; i < NWORKLOADS; i++)
		printf("  %-8s %s\n", workloads[i].name, workloads[i].what);
}

static int parse_workloads(const char *arg, unsigned int *wl)
{
	char buf[256], *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < NWORKLOADS; i++)
			if (!strcmp(t, workloads[i].name))
				break;
		if (i == NWORKLOADS) {
			fprintf(stderr, "tdp-bench: unknown workload '%s' (see --list)\n", t);
			return -1;
		}
		*wl |= workloads[i].bit;
	}
	return 0;
}

/* One format of the report; the table carries the shared-mode legend after it. */
static void emit(FILE *f, const char *format, const struct env *v, const struct bench_meta *meta)
{
	if (!strcmp(format, "csv")) {
		report_csv(f, v->rows, v->nrows);
	} else if (!strcmp(format, "json")) {
		report_json(f, meta, v->rows, v->nrows);
	} else {
		report_table(f, v->rows, v->nrows);
		if (v->threads)
			legend_threads(f, v->threads);
	}
}

#ifdef __clang__
#define CC_NAME "clang " __clang_version__
#else
#define CC_NAME "gcc " __VERSION__
#endif

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "workload", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 's' },   { "calls", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },   { "format", required_argument, NULL, 'f' },
		{ "csv", no_argument, NULL, 'C' },          { "json", no_argument, NULL, 'J' },
		{ "plot", required_argument, NULL, 'p' },   { "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },         { "out", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 }
	};
	struct env v = { .reps = 5, .size = 1ull << 30, .calls = 262144 };
	const char *only[NCONFIGS], *format = "table", *plot = NULL, *outdir = NULL;
	struct outputs out;
	unsigned int wl = 0;
	int nonly = 0, o, ret = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': {
			size_t i;

			for (i = 0; i < NCONFIGS; i++)
				if (!strcmp(optarg, configs[i].name))
					break;
			if (i == NCONFIGS) {
				fprintf(stderr, "tdp-bench: unknown configuration '%s' (see --list)\n",
					optarg);
				return 2;
			}
			if (nonly < (int)NCONFIGS)
				only[nonly++] = configs[i].name;
			break;
		}
		case 'w':
			if (parse_workloads(optarg, &wl))
				return 2;
			break;
		case 's':
			if (parse_size(optarg, &v.size) || v.size % (1ull << 30) || v.size > (64ull << 30)) {
				fprintf(stderr, "tdp-bench: --size BYTES must be a multiple of 1G from 1G "
						"to 64G\n");
				return 2;
			}
			break;
		case 'n':
			if (parse_size(optarg, &v.calls) || v.calls > (1ull << 24)) {
				fprintf(stderr, "tdp-bench: --calls must be 1..16M\n");
				return 2;
			}
			break;
		case 'r':
			v.reps = atoi(optarg);
			if (v.reps < 1 || v.reps > MAX_REPS) {
				fprintf(stderr, "tdp-bench: --reps must be 1..%d\n", MAX_REPS);
				return 2;
			}
			break;
		case 'f':
			format = optarg;
			break;
		case 'C':
			format = "csv";
			break;
		case 'J':
			format = "json";
			break;
		case 'p':
		case 'o':
			if (!*optarg) {
				fprintf(stderr, "tdp-bench: --%s needs a path\n", o == 'p' ? "plot" : "out");
				return 2;
			}
			*(o == 'p' ? &plot : &outdir) = optarg;
			break;
		case 't': {
			char *end;
			long t;

			errno = 0;
			t = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || t < 1 || t > MAX_THREADS) {
				fprintf(stderr, "tdp-bench: --threads must be 1..%d\n", MAX_THREADS);
				return 2;
			}
			v.threads = (unsigned int)t;
			break;
		}
		case 'l':
			list();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || (strcmp(format, "table") && strcmp(format, "csv") &&
			      strcmp(format, "json"))) {
		usage(stderr);
		return 2;
	}
	if (!wl)
		wl = ~0u;
	if (v.threads) {
		if (!(wl & WL_W4)) {
			fprintf(stderr, "tdp-bench: --threads runs W4 in shared mode: add W4 to "
					"--workload\n");
			return 2;
		}
		if (v.calls < v.threads) {
			fprintf(stderr, "tdp-bench: --calls must be at least --threads\n");
			return 2;
		}
		snprintf(v.op_map_n, sizeof(v.op_map_n), "map/%ut", v.threads);
		snprintf(v.op_fault_n, sizeof(v.op_fault_n), "fault/%ut", v.threads);
		v.workers = aligned_alloc(_Alignof(struct worker),
					  v.threads * sizeof(struct worker));
		if (!v.workers) {
			perror("tdp-bench: workers");
			return 1;
		}
		memset(v.workers, 0, v.threads * sizeof(struct worker));
	}

	/* a path that cannot be written should not cost a run of several minutes first */
	if (outputs_open(&out, outdir, plot))
		return 1;
	/*
	 * The floor buffer holds the most a row writes: W1's entries (8 bytes
	 * per 4 KiB) or its tables, or W4's minimal-walker tables.
	 */
	{
		uint64_t pages = v.size >> 12 > v.calls ? v.size >> 12 : v.calls;

		v.fb.size = (size_t)(pages * 8 + (pages / 512 + 64) * 4096 * 2 + (1u << 20));
		v.fb.base = map_prefaulted(v.fb.size);
		if (!v.fb.base) {
			perror("tdp-bench: mmap");
			ret = 1;
		}
	}
	for (size_t i = 0; i < NCONFIGS && !ret; i++) {
		const struct config *c = &configs[i];
		size_t tsize = (size_t)1 << c->granule_shift;
		uint64_t pages = (v.size >> 12 > v.calls ? v.size >> 12 : v.calls);
		bool want = nonly == 0;

		for (int k = 0; k < nonly; k++)
			want |= only[k] == c->name;
		if (!want)
			continue;
		if (!built(c)) {
			if (nonly) {
				fprintf(stderr, "tdp-bench: %s is not built (-Darchs)\n", c->name);
				ret = 1;
			}
			continue;
		}
		v.c = c;
		/* a table per 512 pages at most, twice over for W5's blocks, plus roots */
		if (pool_init(&v.pool, (size_t)((pages / 512 + 256) * tsize * 2 + (1u << 20)),
			      tsize)) {
			perror("tdp-bench: mmap");
			ret = 1;
			break;
		}
		if (run_config(&v, wl))
			ret = 1;
		munmap(v.pool.base, v.pool.size);
	}
	if (ret) {
		outputs_discard(&out);
		return ret;
	}
	if (v.retries)
		fprintf(stderr, "tdp-bench: shared mode: %llu calls repeated after -TDP_EAGAIN\n",
			(unsigned long long)v.retries);

	/* every output comes from these rows: one measurement, however many formats */
	{
		struct bench_meta meta = { v.reps, v.size, v.calls, CC_NAME, (int)v.threads };

		emit(stdout, format, &v, &meta);
		if (out.dir) {
			emit(out.f[OUT_TABLE], "table", &v, &meta);
			emit(out.f[OUT_CSV], "csv", &v, &meta);
			emit(out.f[OUT_JSON], "json", &v, &meta);
		}
		for (int k = OUT_SVG; k <= OUT_PLOT; k++)
			if (out.f[k] && report_svg_write(out.f[k], &meta, v.rows, v.nrows)) {
				fprintf(stderr, "tdp-bench: %s: %s\n", out.path[k], strerror(errno));
				ret = 1;
			}
	}
	if (ret) {
		outputs_discard(&out);
	} else if (outputs_commit(&out)) {
		ret = 1;
	} else {
		/* last, so it is the line left on the screen after a long run */
		if (out.dir)
			fprintf(stderr, "tdp-bench: results in %s/\n", out.dir);
		outputs_discard(&out);
	}
	free(v.rows);
	free(v.workers);
	return ret;
}
