/* SPDX-License-Identifier: MIT */
/*
 * Host page pool (struct tdp_mm_ops) and recording TLB (struct tdp_tlb_ops)
 * sharing one ordered event log.
 *
 * The arena is one anonymous mapping reserved with MAP_NORESERVE and touched
 * only where blocks are handed out. Fake physical addresses are
 * pa = va - base + pa_base. Blocks are powers of two from 4 KiB to 1 MiB,
 * aligned to their size; freed blocks go to per-size free lists (kept
 * outside the blocks, so a freed block can be poisoned entirely).
 */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "kit_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define TK_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define TK_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define TK_POISON(p, n)   ((void)(p), (void)(n))
#define TK_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define TK_MIN_SHIFT 12
#define TK_MAX_ALIGN TK_POOL_MAX_ALIGN

/* Free lists, one per order: offsets into the arena. */
struct tk_freelist {
	size_t *off;
	size_t n, cap;
};

static struct tk_freelist *fl_of(struct tdp_tk_pool *env)
{
	return (struct tk_freelist *)env->freelists;
}

static void record_error(struct tdp_tk_pool *env, const char *msg, uint64_t a, uint64_t b)
{
	if (env->errors == 0)
		snprintf(env->first_error, sizeof(env->first_error), "%s (0x%llx, 0x%llx)", msg,
			 (unsigned long long)a, (unsigned long long)b);
	env->errors++;
}

static void log_event(struct tdp_tk_pool *env, enum tk_ev_kind kind, uint64_t a, uint64_t b, int level,
		      bool tables)
{
	if (env->nr_ev == env->cap_ev) {
		size_t cap = env->cap_ev ? env->cap_ev * 2 : 1024;
		struct tk_event *ev = realloc(env->ev, cap * sizeof(*ev));

		if (!ev) {
			record_error(env, "event log: out of memory", 0, 0);
			return;
		}
		env->ev = ev;
		env->cap_ev = cap;
	}
	env->ev[env->nr_ev++] = (struct tk_event){
		.seq = env->seq++, .kind = kind, .a = a, .b = b, .level = level, .tables = tables,
	};
}

static int order_of(size_t size)
{
	for (int o = 0; o < TK_NR_ORDERS; o++)
		if (size == ((size_t)1 << (TK_MIN_SHIFT + o)))
			return o;
	return -1;
}

struct tdp_tk_pool *tk_env_new(uint64_t pa_base, size_t arena_size)
{
	struct tdp_tk_pool *env;
	size_t reserve;
	uint8_t *map;
	uintptr_t aligned;

	if (pa_base & (TK_MAX_ALIGN - 1))
		return NULL;
	env = calloc(1, sizeof(*env));
	if (!env)
		return NULL;
	reserve = arena_size + TK_MAX_ALIGN;
	map = mmap(NULL, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (map == MAP_FAILED) {
		free(env);
		return NULL;
	}
	aligned = ((uintptr_t)map + TK_MAX_ALIGN - 1) & ~(uintptr_t)(TK_MAX_ALIGN - 1);
	env->base = (uint8_t *)aligned;
	env->arena_size = arena_size;
	env->pa_base = pa_base;
	env->meta = calloc(arena_size >> TK_MIN_SHIFT, 1);
	env->freelists = calloc(TK_NR_ORDERS, sizeof(struct tk_freelist));
	env->map_raw = map;
	env->fail_countdown = -1;
	env->log_allocs = true;
	if (!env->meta || !env->freelists) {
		tk_env_free(env);
		return NULL;
	}
	TK_POISON(env->base, arena_size);
	return env;
}

void tk_env_free(struct tdp_tk_pool *env)
{
	struct tk_freelist *fl;

	if (!env)
		return;
	fl = fl_of(env);
	if (fl) {
		for (int o = 0; o < TK_NR_ORDERS; o++)
			free(fl[o].off);
		free(fl);
	}
	if (env->base) {
		TK_UNPOISON(env->base, env->arena_size);
		munmap(env->map_raw, env->arena_size + TK_MAX_ALIGN);
	}
	free(env->meta);
	free(env->ev);
	free(env->probes);
	free(env->hits);
	free(env);
}

uintptr_t tk_linear_offset(const struct tdp_tk_pool *env)
{
	return (uintptr_t)env->base - (uintptr_t)env->pa_base;
}

void *tk_pa_to_va(const struct tdp_tk_pool *env, uint64_t pa)
{
	if (pa < env->pa_base || pa - env->pa_base >= env->arena_size)
		return NULL;
	return env->base + (pa - env->pa_base);
}

uint64_t tk_va_to_pa(const struct tdp_tk_pool *env, const void *va)
{
	const uint8_t *p = va;

	if (p < env->base || p >= env->base + env->arena_size)
		return ~0ull;
	return (uint64_t)(p - env->base) + env->pa_base;
}

bool tk_pool_live(const struct tdp_tk_pool *env, uint64_t pa, size_t size)
{
	int o = order_of(size);
	uint64_t off;

	if (o < 0 || pa < env->pa_base)
		return false;
	off = pa - env->pa_base;
	if (off >= env->arena_size || (off & (size - 1)))
		return false;
	return env->meta[off >> TK_MIN_SHIFT] == (uint8_t)(o + 1);
}

static bool should_fail(struct tdp_tk_pool *env)
{
	if (env->fail_all)
		return true;
	if (env->fail_countdown < 0)
		return false;
	if (env->fail_countdown > 0) {
		env->fail_countdown--;
		return false;
	}
	env->fail_fired = true;
	if (!env->fail_sticky)
		env->fail_countdown = -1;
	return true;
}

static void *pool_zalloc(void *ctx, size_t size)
{
	struct tdp_tk_pool *env = ctx;
	struct tk_freelist *fl = fl_of(env);
	int o = order_of(size);
	size_t off;
	uint8_t *p;

	if (o < 0) {
		record_error(env, "zalloc: size not a power of two in 4K..1M", size, 0);
		return NULL;
	}
	if (should_fail(env)) {
		env->failed_allocs++;
		return NULL;
	}
	if (fl[o].n) {
		off = fl[o].off[--fl[o].n];
	} else {
		off = (env->bump + size - 1) & ~(size - 1);
		if (off + size > env->arena_size) {
			record_error(env, "zalloc: arena exhausted", size, env->bump);
			return NULL;
		}
		/* put the alignment gap on the free lists, largest aligned pieces first */
		while (env->bump < off) {
			size_t piece = (size_t)1 << TK_MIN_SHIFT;
			int po = 0;

			while (po + 1 < o && !(env->bump & (piece * 2 - 1)) && env->bump + piece * 2 <= off) {
				piece *= 2;
				po++;
			}
			if (fl[po].n == fl[po].cap) {
				size_t cap = fl[po].cap ? fl[po].cap * 2 : 64;
				size_t *n = realloc(fl[po].off, cap * sizeof(*n));

				if (!n)
					break;
				fl[po].off = n;
				fl[po].cap = cap;
			}
			fl[po].off[fl[po].n++] = env->bump;
			env->bump += piece;
		}
		env->bump = off + size;
	}
	p = env->base + off;
	TK_UNPOISON(p, size);
	memset(p, 0, size);
	env->meta[off >> TK_MIN_SHIFT] = (uint8_t)(o + 1);
	env->out_blocks++;
	env->out_bytes += size;
	env->allocs++;
	if (env->log_allocs)
		log_event(env, TK_EV_ALLOC, off + env->pa_base, size, 0, false);
	return p;
}

static void pool_free(void *ctx, void *va, size_t size)
{
	struct tdp_tk_pool *env = ctx;
	struct tk_freelist *fl = fl_of(env);
	uint8_t *p = va;
	int o = order_of(size);
	size_t off;

	if (p < env->base || p >= env->base + env->arena_size) {
		record_error(env, "free: pointer outside the arena", (uint64_t)(uintptr_t)va, size);
		return;
	}
	off = (size_t)(p - env->base);
	if (o < 0) {
		record_error(env, "free: bad size", off + env->pa_base, size);
		return;
	}
	if (off & (size - 1)) {
		record_error(env, "free: block not aligned to its size", off + env->pa_base, size);
		return;
	}
	if (env->meta[off >> TK_MIN_SHIFT] == 0) {
		record_error(env, "free: block not allocated (double free?)", off + env->pa_base, size);
		return;
	}
	if (env->meta[off >> TK_MIN_SHIFT] != (uint8_t)(o + 1)) {
		record_error(env, "free: size differs from the allocation", off + env->pa_base, size);
		return;
	}
	if (env->on_free)
		env->on_free(env->on_free_ctx, off + env->pa_base, size);
	env->meta[off >> TK_MIN_SHIFT] = 0;
	log_event(env, TK_EV_FREE, off + env->pa_base, size, 0, false);
	memset(p, 0xa5, size); /* make a use after free visible even without ASan */
	TK_POISON(p, size);
	if (fl[o].n == fl[o].cap) {
		size_t cap = fl[o].cap ? fl[o].cap * 2 : 64;
		size_t *n = realloc(fl[o].off, cap * sizeof(*n));

		if (!n) {
			record_error(env, "free list: out of memory", 0, 0);
			return;
		}
		fl[o].off = n;
		fl[o].cap = cap;
	}
	fl[o].off[fl[o].n++] = off;
	env->out_blocks--;
	env->out_bytes -= size;
	env->frees++;
}

static uint64_t pool_virt_to_phys(void *ctx, void *va)
{
	struct tdp_tk_pool *env = ctx;
	uint64_t pa = tk_va_to_pa(env, va);

	if (pa == ~0ull)
		record_error(env, "virt_to_phys: pointer outside the arena", (uint64_t)(uintptr_t)va, 0);
	return pa;
}

static void *pool_phys_to_virt(void *ctx, uint64_t pa)
{
	struct tdp_tk_pool *env = ctx;
	void *va = tk_pa_to_va(env, pa);

	if (!va)
		record_error(env, "phys_to_virt: address outside the arena", pa, 0);
	return va;
}

const struct tdp_mm_ops tk_mm_linear = {
	.zalloc_table = pool_zalloc,
	.free_table = pool_free,
};

const struct tdp_mm_ops tk_mm_xlate = {
	.zalloc_table = pool_zalloc,
	.free_table = pool_free,
	.virt_to_phys = pool_virt_to_phys,
	.phys_to_virt = pool_phys_to_virt,
};

void tk_fail_nth(struct tdp_tk_pool *env, long n)
{
	env->fail_countdown = n;
	env->fail_sticky = false;
	env->fail_fired = false;
}

void tk_fail_from(struct tdp_tk_pool *env, long n)
{
	env->fail_countdown = n;
	env->fail_sticky = true;
	env->fail_fired = false;
}

void tk_fail_all(struct tdp_tk_pool *env, bool on)
{
	env->fail_all = on;
}

void tk_fail_off(struct tdp_tk_pool *env)
{
	env->fail_countdown = -1;
	env->fail_sticky = false;
	env->fail_all = false;
}

/* ------------------------------------------------------------------ */
/* Recording TLB                                                       */

static void record_probes(struct tdp_tk_pool *env, size_t event, uint64_t gpa, uint64_t size, bool all)
{
	if (!env->watch || !env->nr_probes)
		return;
	for (size_t i = 0; i < env->nr_probes; i++) {
		uint64_t p = env->probes[i];
		struct tk_leaf leaf;

		if (!all && !(p >= gpa && p - gpa < size))
			continue;
		if (env->nr_hits == env->cap_hits) {
			size_t cap = env->cap_hits ? env->cap_hits * 2 : 256;
			struct tk_probe_hit *h = realloc(env->hits, cap * sizeof(*h));

			if (!h) {
				record_error(env, "probe log: out of memory", 0, 0);
				return;
			}
			env->hits = h;
			env->cap_hits = cap;
		}
		env->hits[env->nr_hits++] = (struct tk_probe_hit){
			.event = event, .probe = i,
			.mapped = tk_ref_translate(env, env->watch, p, &leaf) == 0,
		};
	}
}

static void tlb_flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	struct tdp_tk_pool *env = ctx;

	env->flush_ranges++;
	if (size == 0)
		record_error(env, "flush_range: size 0", gpa, size);
	log_event(env, TK_EV_FLUSH_RANGE, gpa, size, level, tables);
	record_probes(env, env->nr_ev - 1, gpa, size, false);
}

static void tlb_flush_all(void *ctx)
{
	struct tdp_tk_pool *env = ctx;

	env->flush_alls++;
	log_event(env, TK_EV_FLUSH_ALL, 0, 0, TDP_LEVEL_ANY, true);
	record_probes(env, env->nr_ev - 1, 0, 0, true);
}

const struct tdp_tlb_ops tk_tlb = {
	.flush_range = tlb_flush_range,
	.flush_all = tlb_flush_all,
};

size_t tk_log_mark(const struct tdp_tk_pool *env)
{
	return env->nr_ev;
}

size_t tk_log_count(const struct tdp_tk_pool *env, size_t mark, enum tk_ev_kind kind)
{
	size_t n = 0;

	for (size_t i = mark; i < env->nr_ev; i++)
		n += env->ev[i].kind == kind;
	return n;
}

void tk_log_clear(struct tdp_tk_pool *env)
{
	env->nr_ev = 0;
	env->nr_hits = 0;
}

void tk_log_dump(const struct tdp_tk_pool *env, size_t mark)
{
	static const char *const names[] = { "?", "alloc", "free", "flush_range", "flush_all" };

	for (size_t i = mark; i < env->nr_ev; i++) {
		const struct tk_event *e = &env->ev[i];

		fprintf(stderr, "  #%llu %s 0x%llx +0x%llx level %d tables %d\n",
			(unsigned long long)e->seq, names[e->kind], (unsigned long long)e->a,
			(unsigned long long)e->b, e->level, e->tables);
	}
}

void tk_probes_set(struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, const uint64_t *gpas, size_t n)
{
	free(env->probes);
	env->probes = NULL;
	env->nr_probes = 0;
	env->nr_hits = 0;
	env->watch = pgt;
	if (!n)
		return;
	env->probes = malloc(n * sizeof(*gpas));
	if (!env->probes) {
		record_error(env, "probes: out of memory", 0, 0);
		return;
	}
	memcpy(env->probes, gpas, n * sizeof(*gpas));
	env->nr_probes = n;
}

void tk_probes_clear(struct tdp_tk_pool *env)
{
	tk_probes_set(env, NULL, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* Configurations                                                      */

void tk_config(struct tdp_tk_pool *env, struct tdp_config *cfg, unsigned int granule_shift,
	       unsigned int ia_bits, unsigned int oa_bits)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->format = TDP_FORMAT_ARM64_S2;
	cfg->ia_bits = ia_bits;
	cfg->oa_bits = oa_bits;
	cfg->granule_shift = granule_shift;
	cfg->mm = &tk_mm_linear;
	cfg->mm_ctx = env;
	cfg->linear_offset = tk_linear_offset(env);
	cfg->tlb = &tk_tlb;
	cfg->tlb_ctx = env;
}

void tk_config_xlate(struct tdp_tk_pool *env, struct tdp_config *cfg, unsigned int granule_shift,
		     unsigned int ia_bits, unsigned int oa_bits)
{
	tk_config(env, cfg, granule_shift, ia_bits, oa_bits);
	cfg->mm = &tk_mm_xlate;
	/* wrong on purpose: a table that used it would crash or be caught */
	cfg->linear_offset = (uintptr_t)0x1000;
}

/* ------------------------------------------------------------------ */
/* The public pool API (include/tdp/testkit.h)                         */

struct tdp_tk_pool *tdp_tk_pool_new(uint64_t pa_base, size_t arena_size)
{
	if (arena_size == 0 || (arena_size & ((1u << TK_MIN_SHIFT) - 1)))
		return NULL;
	return tk_env_new(pa_base, arena_size);
}

void tdp_tk_pool_delete(struct tdp_tk_pool *pool)
{
	tk_env_free(pool);
}

void tdp_tk_pool_config(struct tdp_tk_pool *pool, struct tdp_config *cfg)
{
	if (!pool || !cfg)
		return;
	cfg->mm = &tk_mm_linear;
	cfg->mm_ctx = pool;
	cfg->linear_offset = tk_linear_offset(pool);
}

void tdp_tk_pool_config_xlate(struct tdp_tk_pool *pool, struct tdp_config *cfg)
{
	if (!pool || !cfg)
		return;
	cfg->mm = &tk_mm_xlate;
	cfg->mm_ctx = pool;
	cfg->linear_offset = 0;
}

void tdp_tk_pool_stats(const struct tdp_tk_pool *pool, struct tdp_tk_pool_stats *st)
{
	if (!st)
		return;
	if (!pool) {
		memset(st, 0, sizeof(*st));
		return;
	}
	st->out_blocks = pool->out_blocks;
	st->out_bytes = pool->out_bytes;
	st->allocs = pool->allocs;
	st->frees = pool->frees;
	st->failed_allocs = pool->failed_allocs;
	st->errors = pool->errors;
}

const char *tdp_tk_pool_first_error(const struct tdp_tk_pool *pool)
{
	return pool && pool->errors ? pool->first_error : "";
}

void tdp_tk_pool_fail_nth(struct tdp_tk_pool *pool, long n)
{
	if (pool)
		tk_fail_nth(pool, n);
}

void tdp_tk_pool_fail_from(struct tdp_tk_pool *pool, long n)
{
	if (pool)
		tk_fail_from(pool, n);
}

void tdp_tk_pool_fail_off(struct tdp_tk_pool *pool)
{
	if (pool)
		tk_fail_off(pool);
}

bool tdp_tk_pool_live(const struct tdp_tk_pool *pool, uint64_t pa, size_t size)
{
	return pool && tk_pool_live(pool, pa, size);
}

void *tdp_tk_pool_va(const struct tdp_tk_pool *pool, uint64_t pa)
{
	return pool ? tk_pa_to_va(pool, pa) : NULL;
}

uint64_t tdp_tk_pool_pa(const struct tdp_tk_pool *pool, const void *va)
{
	return pool ? tk_va_to_pa(pool, va) : ~0ull;
}

/* The order of the live block holding byte offset o (its head in *head), or -1. */
static int block_at(struct tdp_tk_pool *pool, uint64_t o, uint64_t *head)
{
	/* walkers read one table many times: try the order found last first */
	int last = pool->last_order;
	uint64_t h = o & ~(((uint64_t)1 << (TK_MIN_SHIFT + last)) - 1);

	if (pool->meta[h >> TK_MIN_SHIFT] == (uint8_t)(last + 1)) {
		*head = h;
		return last;
	}
	for (int k = 0; k < TK_NR_ORDERS; k++) {
		uint64_t hk = o & ~(((uint64_t)1 << (TK_MIN_SHIFT + k)) - 1);

		if (pool->meta[hk >> TK_MIN_SHIFT] == (uint8_t)(k + 1)) {
			*head = hk;
			pool->last_order = k;
			return k;
		}
	}
	return -1;
}

/* Only live blocks are memory to a walker: a walk into a freed table is an external abort. */
static const void *pool_mem_ptr(void *ctx, uint64_t pa, size_t size)
{
	struct tdp_tk_pool *pool = ctx;
	uint64_t off, o, head;

	if (pa < pool->pa_base || size == 0)
		return NULL;
	off = pa - pool->pa_base;
	if (off >= pool->arena_size || pool->arena_size - off < size)
		return NULL;
	for (o = off; o < off + size;) {
		int k = block_at(pool, o, &head);

		if (k < 0)
			return NULL;
		o = head + ((uint64_t)1 << (TK_MIN_SHIFT + k));
	}
	return pool->base + off;
}

static const void *no_mem_ptr(void *ctx, uint64_t pa, size_t size)
{
	(void)ctx, (void)pa, (void)size;
	return NULL;
}

struct tdp_tk_mem tdp_tk_pool_mem(struct tdp_tk_pool *pool)
{
	/* a NULL pool gives a reader that finds nothing */
	return (struct tdp_tk_mem){ .ptr = pool ? pool_mem_ptr : no_mem_ptr, .ctx = pool };
}

void tdp_tk_pool_on_free(struct tdp_tk_pool *pool, void (*fn)(void *ctx, uint64_t pa, size_t size),
			 void *ctx)
{
	if (!pool)
		return;
	pool->on_free = fn;
	pool->on_free_ctx = ctx;
}
