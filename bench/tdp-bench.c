/* SPDX-License-Identifier: MIT */
/*
 * tdp-bench: map/unmap throughput of libtdp next to the memory floor.
 *
 * For each workload the same run also measures the floor: writing the same
 * number of 8-byte PTE values into pre-faulted memory plus zeroing the same
 * number of table pages. Results are medians over --reps runs, printed as
 * ns per page and as a multiple of the floor.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <tdp/tdp.h>

/* ---- a pre-faulted table pool (linear va = pa + offset) ---- */

struct pool {
	uint8_t *base;
	size_t size, used;
	size_t tsize;     /* table size; only blocks of this size are recycled */
	void **free_list; /* freed tables, linked through their first word */
	size_t allocs;
};

static void *pool_zalloc(void *ctx, size_t size)
{
	struct pool *p = ctx;
	void *v;

	p->allocs++;
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
	memset(v, 0, size);
	return v;
}

static void pool_free(void *ctx, void *va, size_t size)
{
	struct pool *p = ctx;

	if (size != p->tsize)
		return; /* roots are bump-allocated once per table; the pool is reset per run */
	*(void **)va = p->free_list;
	p->free_list = va;
}

static const struct tdp_mm_ops pool_ops = { .zalloc_table = pool_zalloc, .free_table = pool_free };

#define POOL_PA_BASE 0x80000000ull

static int pool_init(struct pool *p, size_t size, size_t tsize)
{
	p->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		       -1, 0);
	if (p->base == MAP_FAILED)
		return -1;
	memset(p->base, 0, size); /* pre-fault: no page faults inside timed regions */
	p->size = size;
	p->used = 0;
	p->tsize = tsize;
	p->free_list = NULL;
	p->allocs = 0;
	return 0;
}

static void pool_reset(struct pool *p)
{
	p->used = 0;
	p->free_list = NULL;
	p->allocs = 0;
}

/* ---- counting TLB callbacks ---- */

struct tlb_count {
	size_t range, all;
};

static void tlb_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	(void)gpa, (void)size, (void)level, (void)tables;
	((struct tlb_count *)ctx)->range++;
}

static void tlb_all(void *ctx)
{
	((struct tlb_count *)ctx)->all++;
}

static const struct tdp_tlb_ops tlb_ops = { .flush_range = tlb_range, .flush_all = tlb_all };

/* ---- timing ---- */

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

struct stat3 {
	double med, min, max;
};

static struct stat3 stats(double *v, int n)
{
	struct stat3 s;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* ---- the floor ---- */

static volatile uint64_t sink;

/* Write `npte` PTE-like values and zero `ntables` pages of `tsize` bytes. */
static double floor_once(uint8_t *buf, size_t npte, size_t ntables, size_t tsize)
{
	uint64_t *pt = (uint64_t *)buf;
	double t0 = now_ns();

	for (size_t i = 0; i < ntables; i++)
		memset(buf + i * tsize, 0, tsize);
	for (size_t i = 0; i < npte; i++)
		pt[i] = (i << 12) | 0x7c3;
	__asm__ volatile("" ::: "memory");
	sink = pt[npte / 2];
	return now_ns() - t0;
}

/* ---- workloads ---- */

struct config {
	const char *name;
	enum tdp_format format;
	unsigned int granule_shift, ia_bits, oa_bits;
	uint32_t flags;
};

static const struct config configs[] = {
	{ "arm64-4k-48", TDP_FORMAT_ARM64_S2, 12, 48, 48, 0 },
	{ "arm64-16k-48", TDP_FORMAT_ARM64_S2, 14, 48, 48, 0 },
	{ "arm64-64k-48", TDP_FORMAT_ARM64_S2, 16, 48, 48, 0 },
	{ "ept-4l", TDP_FORMAT_X86_EPT, 12, 48, 46, 0 },
	{ "ept-5l", TDP_FORMAT_X86_EPT, 12, 57, 52, 0 },
	/* without Svvptc every new entry is also passed to flush_range */
	{ "riscv-sv39x4", TDP_FORMAT_RISCV_G, 12, 41, 44, 0 },
	{ "riscv-sv48x4", TDP_FORMAT_RISCV_G, 12, 50, 56, 0 },
	{ "riscv-sv48x4-napot", TDP_FORMAT_RISCV_G, 12, 50, 56, TDP_CFG_RISCV_SVNAPOT },
};

struct workload {
	const char *name;
	uint64_t size;      /* bytes mapped */
	unsigned int level; /* leaf level used */
};

struct result {
	const char *config, *workload, *op;
	uint64_t pages;   /* leaf entries written */
	size_t tables;    /* table pages allocated */
	struct stat3 ns;  /* whole-call time */
	struct stat3 flo; /* floor time */
	size_t flushes;
};

static int run(const struct config *c, const struct workload *w, int reps, struct pool *pool,
	       uint8_t *floorbuf, struct result out[2])
{
	double map_ns[64], unmap_ns[64], map_floor[64], unmap_floor[64];
	struct tdp_config cfg = {
		.format = c->format,
		.ia_bits = c->ia_bits,
		.oa_bits = c->oa_bits,
		.granule_shift = c->granule_shift,
		.flags = c->flags,
		.mm = &pool_ops,
		.mm_ctx = pool,
		.linear_offset = (uintptr_t)pool->base - POOL_PA_BASE,
		.tlb = &tlb_ops,
	};
	struct tlb_count tc = { 0 };
	uint64_t leaf, npages = 0;
	size_t tables = 0, flushes = 0, map_flushes = 0;

	cfg.tlb_ctx = &tc;
	for (int r = 0; r < reps; r++) {
		struct tdp_pgtable pgt;
		double t0;
		size_t a0;
		int ret;

		pool_reset(pool);
		tc.range = 0;
		ret = tdp_pgtable_init(&pgt, &cfg);
		if (ret)
			return ret;
		leaf = tdp_level_size(&pgt, w->level);
		npages = w->size / leaf;
		a0 = pool->allocs;
		t0 = now_ns();
		ret = tdp_map(&pgt, 1ull << 32, POOL_PA_BASE << 4, w->size, TDP_PROT_RWX,
			      TDP_MAP_MAX_LEVEL(w->level), NULL);
		map_ns[r] = now_ns() - t0;
		if (ret)
			return ret;
		tables = pool->allocs - a0;
		map_flushes = tc.range;
		tc.range = 0;
		t0 = now_ns();
		ret = tdp_unmap(&pgt, 1ull << 32, w->size, NULL);
		unmap_ns[r] = now_ns() - t0;
		if (ret)
			return ret;
		flushes = tc.range;
		tdp_pgtable_destroy(&pgt);
		map_floor[r] = floor_once(floorbuf, npages, tables, (size_t)1 << c->granule_shift);
		/* Unmapping writes the same number of PTE bytes (coarsest level: fewer). */
		unmap_floor[r] = floor_once(floorbuf, npages, 0, (size_t)1 << c->granule_shift);
	}
	out[0] = (struct result){ c->name, w->name, "map", npages, tables, stats(map_ns, reps),
				  stats(map_floor, reps), map_flushes };
	out[1] = (struct result){ c->name, w->name, "unmap", npages, 0, stats(unmap_ns, reps),
				  stats(unmap_floor, reps), flushes };
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: tdp-bench [--reps N] [--csv] [--config NAME]...\nconfigs:");
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		fprintf(stderr, " %s", configs[i].name);
	fprintf(stderr, " (default: all)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "reps", required_argument, NULL, 'r' },
					      { "csv", no_argument, NULL, 'c' },
					      { "config", required_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *only[8];
	int nonly = 0, reps = 5, csv = 0, o;
	struct result res[64];
	int nres = 0;
	struct pool pool;
	uint8_t *floorbuf;
	const size_t floor_size = (1u << 21) * 8 + (64u << 20);

	while ((o = getopt_long(argc, argv, "r:cf:h", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			reps = atoi(optarg);
			if (reps < 1 || reps > 64) {
				fprintf(stderr, "--reps must be 1..64\n");
				return 2;
			}
			break;
		case 'c':
			csv = 1;
			break;
		case 'f':
			if (nonly < 8)
				only[nonly++] = optarg;
			break;
		default:
			usage();
			return o == 'h' ? 0 : 2;
		}
	}
	floorbuf = mmap(NULL, floor_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (floorbuf == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(floorbuf, 1, floor_size);

	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		const struct config *c = &configs[i];
		struct workload w[2] = { { "1GiB-pages", 1ull << 30, 0 }, { "1GiB-blocks", 1ull << 30, 1 } };
		int want = nonly == 0;
		struct tdp_pgtable probe;
		struct tlb_count probe_tc = { 0 };
		struct tdp_config pc = { .format = c->format, .ia_bits = c->ia_bits,
					 .oa_bits = c->oa_bits, .granule_shift = c->granule_shift,
					 .mm = &pool_ops, .tlb = &tlb_ops, .tlb_ctx = &probe_tc };

		for (int k = 0; k < nonly; k++)
			want |= strcmp(only[k], c->name) == 0;
		if (!want)
			continue;
		/* skip formats this build leaves out (-Darchs) */
		{
			struct pool tmp;

			if (pool_init(&tmp, 1u << 20, (size_t)1 << c->granule_shift)) {
				perror("mmap");
				return 1;
			}
			pc.mm_ctx = &tmp;
			pc.linear_offset = (uintptr_t)tmp.base - POOL_PA_BASE;
			if (tdp_pgtable_init(&probe, &pc)) {
				munmap(tmp.base, tmp.size);
				continue;
			}
			tdp_pgtable_destroy(&probe);
			munmap(tmp.base, tmp.size);
		}
		if (pool_init(&pool, 64u << 20, (size_t)1 << c->granule_shift)) {
			perror("mmap");
			return 1;
		}
		if (c->granule_shift == 16)
			w[1].size = 2ull << 30; /* two 512 MiB blocks */
		for (int k = 0; k < 2; k++) {
			int ret = run(c, &w[k], reps, &pool, floorbuf, &res[nres]);

			if (ret) {
				fprintf(stderr, "%s %s: error %d\n", c->name, w[k].name, ret);
				return 1;
			}
			nres += 2;
		}
		munmap(pool.base, pool.size);
	}

	if (csv)
		printf("config,workload,op,leaf_pages,tables,ns_per_page_med,ns_per_page_min,"
		       "ns_per_page_max,floor_ns_per_page,x_floor,tlb_flushes\n");
	else
		printf("%-18s %-12s %-5s %8s %6s %12s %12s %12s %11s %8s %7s\n", "config",
		       "workload", "op", "pages", "tables", "ns/page med", "min", "max",
		       "floor ns/pg", "x floor", "flushes");
	for (int i = 0; i < nres; i++) {
		const struct result *r = &res[i];
		double pg = (double)r->pages;

		if (csv)
			printf("%s,%s,%s,%llu,%zu,%.3f,%.3f,%.3f,%.3f,%.2f,%zu\n", r->config, r->workload,
			       r->op, (unsigned long long)r->pages, r->tables, r->ns.med / pg,
			       r->ns.min / pg, r->ns.max / pg, r->flo.med / pg, r->ns.med / r->flo.med,
			       r->flushes);
		else
			printf("%-18s %-12s %-5s %8llu %6zu %12.3f %12.3f %12.3f %11.3f %8.2f %7zu\n",
			       r->config, r->workload, r->op, (unsigned long long)r->pages, r->tables,
			       r->ns.med / pg, r->ns.min / pg, r->ns.max / pg, r->flo.med / pg,
			       r->ns.med / r->flo.med, r->flushes);
	}
	return 0;
}
