/* SPDX-License-Identifier: MIT */
/*
 * The test kit's epoch-based deferred free (tdp_tk_epoch_*): a table is
 * kept while a thread that entered before its defer is inside, freed once
 * none is (threads that entered later do not count), freed whole
 * (tdp_free_unlinked), and never under a thread still reading it when four
 * threads swap, defer, read and reclaim tables at once.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kit_internal.h"
#include "threads_probe.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static void nop_flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
}

static void nop_flush_all(void *ctx)
{
}

/* Thread-safe (does nothing): the stress threads run lookups only, but init and destroy flush. */
static const struct tdp_tlb_ops nop_tlb = { .flush_range = nop_flush_range,
					    .flush_all = nop_flush_all };

/* A shared-mode table over a pool, its allocator wrapped by an epoch domain. */
struct fx {
	struct tdp_tk_pool *pool;
	struct tdp_tk_epoch *e;
	struct tdp_config cfg;
	struct tdp_pgtable pgt;
};

static void fx_init(struct fx *f, const struct tk_cfgdesc *cd, unsigned int nthreads, bool xlate)
{
	memset(f, 0, sizeof(*f));
	f->pool = tdp_tk_pool_new(cd->oa == 52 ? 0x000a000000000000ull : TK_PA_BASE_DEFAULT,
				  (size_t)64 << 20);
	assert_non_null(f->pool);
	f->cfg.format = cd->format;
	f->cfg.ia_bits = cd->ia;
	f->cfg.oa_bits = cd->oa;
	f->cfg.granule_shift = cd->gshift;
	f->cfg.leaf_levels = cd->leaf_levels;
	f->cfg.flags = cd->flags | TDP_CFG_SHARED;
	f->cfg.tlb = &nop_tlb;
	if (xlate)
		tdp_tk_pool_config_xlate(f->pool, &f->cfg);
	else
		tdp_tk_pool_config(f->pool, &f->cfg);
	f->e = tdp_tk_epoch_new(nthreads);
	assert_non_null(f->e);
	assert_int_equal(tdp_tk_epoch_config(f->e, &f->cfg), 0);
	assert_int_equal(tdp_pgtable_init(&f->pgt, &f->cfg), 0);
	tdp_tk_epoch_attach(f->e, &f->pgt);
}

static struct tdp_tk_pool_stats pool_stats(const struct fx *f)
{
	struct tdp_tk_pool_stats st;

	tdp_tk_pool_stats(f->pool, &st);
	return st;
}

static size_t out_blocks(const struct fx *f)
{
	return pool_stats(f).out_blocks;
}

static struct tdp_tk_epoch_stats ep_stats(const struct fx *f)
{
	struct tdp_tk_epoch_stats st;

	memset(&st, 0xee, sizeof(st));
	tdp_tk_epoch_stats(f->e, &st);
	return st;
}

static void check_ep(const struct fx *f, size_t deferred, size_t freed)
{
	struct tdp_tk_epoch_stats st = ep_stats(f);

	assert_int_equal(st.deferred, deferred);
	assert_int_equal(st.freed, freed);
	assert_int_equal(st.pending, deferred - freed);
}

/* The documented teardown, every thread outside: reclaim, destroy, delete; then no leak. */
static void fx_fini(struct fx *f)
{
	struct tdp_tk_pool_stats st;

	tdp_tk_epoch_reclaim(f->e);
	assert_int_equal(ep_stats(f).pending, 0);
	assert_int_equal(tdp_pgtable_destroy(&f->pgt), 0);
	tdp_tk_epoch_delete(f->e);
	tdp_tk_pool_stats(f->pool, &st);
	if (st.errors)
		fail_msg("pool errors: %zu, first: %s", st.errors, tdp_tk_pool_first_error(f->pool));
	assert_int_equal(st.out_blocks, 0);
	assert_int_equal(st.allocs, st.frees);
	tdp_tk_pool_delete(f->pool);
}

/* A zeroed table from the wrapped allocator: an empty subtree, one page. */
static void *new_table(struct fx *f)
{
	void *t = f->cfg.mm->zalloc_table(f->cfg.mm_ctx, f->pgt.geo.table_size);

	assert_non_null(t);
	return t;
}

static void defer(struct fx *f, void *table, unsigned int level)
{
	f->cfg.mm->defer_free_table(f->cfg.mm_ctx, table, level);
}

/* ------------------------------------------------------------------ */

/* A thread inside since before the defer holds the table; its exit lets it go. */
static void test_section_blocks_free(void **state)
{
	struct fx f;
	void *t;
	size_t base;

	fx_init(&f, &tk_cfgs_ept[0], 2, false);
	base = out_blocks(&f);
	assert_int_equal(base, 1); /* the root */

	tdp_tk_epoch_enter(f.e, 0);
	t = new_table(&f);
	assert_int_equal(out_blocks(&f), base + 1);
	defer(&f, t, 0);
	check_ep(&f, 1, 0);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 0);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 0);
	assert_int_equal(out_blocks(&f), base + 1);
	check_ep(&f, 1, 0);
	/* another thread entering now changes nothing: thread 0 still holds it */
	tdp_tk_epoch_enter(f.e, 1);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 0);
	assert_int_equal(out_blocks(&f), base + 1);

	tdp_tk_epoch_exit(f.e, 0);
	/* thread 1 is still inside, but entered after the defer */
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);
	assert_int_equal(out_blocks(&f), base);
	check_ep(&f, 1, 1);
	assert_int_equal(pool_stats(&f).frees, 1);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 0);
	tdp_tk_epoch_exit(f.e, 1);
	fx_fini(&f);
}

/* Threads that entered after a defer do not hold its table; nesting; reclaim from inside. */
static void test_later_entry_does_not_block(void **state)
{
	struct fx f;
	void *a, *b, *c, *d, *x;
	size_t base;

	fx_init(&f, &tk_cfgs_ept[0], 3, false);
	base = out_blocks(&f);

	/* deferred with nobody inside, reclaimed with a thread inside */
	a = new_table(&f);
	defer(&f, a, 0);
	tdp_tk_epoch_enter(f.e, 2);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);
	assert_int_equal(out_blocks(&f), base);
	tdp_tk_epoch_exit(f.e, 2);

	/* b: thread 0 inside; c: threads 0 and 1 inside */
	tdp_tk_epoch_enter(f.e, 0);
	b = new_table(&f);
	defer(&f, b, 0);
	tdp_tk_epoch_enter(f.e, 1);
	c = new_table(&f);
	defer(&f, c, 0);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 0);
	assert_int_equal(out_blocks(&f), base + 2);
	tdp_tk_epoch_exit(f.e, 0);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1); /* b: thread 1 entered after it */
	assert_int_equal(out_blocks(&f), base + 1);
	assert_false(tdp_tk_pool_live(f.pool, tdp_tk_pool_pa(f.pool, b), f.pgt.geo.table_size));
	assert_true(tdp_tk_pool_live(f.pool, tdp_tk_pool_pa(f.pool, c), f.pgt.geo.table_size));
	check_ep(&f, 3, 2);
	tdp_tk_epoch_exit(f.e, 1);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);
	assert_int_equal(out_blocks(&f), base);

	/* reclaim from inside a section frees what was deferred before the entry only */
	d = new_table(&f);
	defer(&f, d, 0);
	tdp_tk_epoch_enter(f.e, 0);
	x = new_table(&f);
	defer(&f, x, 0);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);
	assert_false(tdp_tk_pool_live(f.pool, tdp_tk_pool_pa(f.pool, d), f.pgt.geo.table_size));
	assert_true(tdp_tk_pool_live(f.pool, tdp_tk_pool_pa(f.pool, x), f.pgt.geo.table_size));
	tdp_tk_epoch_exit(f.e, 0);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);

	/* nested sections: the outermost counts */
	tdp_tk_epoch_enter(f.e, 1);
	tdp_tk_epoch_enter(f.e, 1);
	x = new_table(&f);
	defer(&f, x, 0);
	tdp_tk_epoch_exit(f.e, 1);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 0);
	tdp_tk_epoch_exit(f.e, 1);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);
	/* a second exit while outside is ignored and does not unbalance the next section */
	tdp_tk_epoch_exit(f.e, 1);
	tdp_tk_epoch_enter(f.e, 1);
	x = new_table(&f);
	defer(&f, x, 0);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 0);
	tdp_tk_epoch_exit(f.e, 1);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);

	/* zeroed tables at other levels: still one page each */
	for (unsigned int l = 1; l + 1 < f.pgt.geo.levels; l++)
		defer(&f, new_table(&f), l);
	assert_int_equal(out_blocks(&f), base + f.pgt.geo.levels - 2);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), f.pgt.geo.levels - 2);
	assert_int_equal(out_blocks(&f), base);
	check_ep(&f, 7 + f.pgt.geo.levels - 2, 7 + f.pgt.geo.levels - 2);
	fx_fini(&f);
}

/*
 * A real subtree: map three pages under one level-1 table (three level-0
 * tables), unlink the level-1 table from its parent by hand as a shared call
 * would, defer it at level 1: after the grace period all four pages are
 * back. Every configuration with a level-1 table below the root; every other
 * one with the translation callbacks (forwarded under the domain's mutex).
 */
static void test_free_unlinked_subtree(void **state)
{
	size_t done = 0;

	for (size_t c = 0; c < tk_nr_cfgs_ops; c++) {
		const struct tk_cfgdesc *cd = tk_cfgs_ops[c];
		struct fx f;
		struct tdp_tk_ref ref;
		struct tdp_tk_mem mem;
		struct tdp_tk_xlate x;
		struct tdp_lookup_result r;
		uint64_t l1, l2, base_gpa, *parent, idx, nparent;
		unsigned int levels;
		void *child;
		size_t before;

		if (cd->levels < 3)
			continue;
		fx_init(&f, cd, 1, c & 1);
		levels = f.pgt.geo.levels;
		l1 = tdp_level_size(&f.pgt, 1);
		l2 = tdp_level_size(&f.pgt, 2);
		base_gpa = 2 * l2 <= (1ull << cd->ia) ? l2 : 0;
		for (uint64_t k = 0; k < 3; k++)
			assert_int_equal(tdp_map(&f.pgt, base_gpa + k * l1, 0x10000000ull + k * l1,
						 tdp_page_size(&f.pgt), tk_attr_fit(&f.cfg, TDP_PROT_RW),
						 0, NULL),
					 0);
		before = out_blocks(&f);
		assert_int_equal(before, 1 + (levels - 2) + 3);

		mem = tdp_tk_pool_mem(f.pool);
		assert_int_equal(tdp_tk_ref_for(&ref, &f.pgt, &mem), 0);
		assert_int_equal(tdp_tk_ref_translate(&ref, base_gpa, TDP_TK_PROBE, &x), 0);
		assert_int_equal(x.result, TDP_TK_OK);
		assert_int_equal(x.nr_tables, levels);
		/* tables[] runs from the root (level levels-1) down: level l is at levels-1-l */
		parent = tdp_tk_pool_va(f.pool, x.tables[levels - 3]);
		child = tdp_tk_pool_va(f.pool, x.tables[levels - 2]);
		nparent = levels == 3 ? 1ull << f.pgt.geo.root_bits : 1ull << f.pgt.geo.bits_per_level;
		idx = (base_gpa / l2) & (nparent - 1);
		assert_true(parent[idx] != tk_empty_pte(&f.cfg));
		parent[idx] = tk_empty_pte(&f.cfg); /* unlinked (nobody else runs: no flush needed) */
		for (uint64_t k = 0; k < 3; k++)
			assert_int_equal(tdp_lookup(&f.pgt, base_gpa + k * l1, &r), -TDP_ENOENT);

		tdp_tk_epoch_enter(f.e, 0);
		defer(&f, child, 1);
		assert_int_equal(tdp_tk_epoch_reclaim(f.e), 0);
		assert_int_equal(out_blocks(&f), before);
		tdp_tk_epoch_exit(f.e, 0);
		assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);
		if (out_blocks(&f) != before - 4)
			fail_msg("%s: %zu blocks after freeing the subtree, expected %zu", cd->name,
				 out_blocks(&f), before - 4);
		assert_false(tdp_tk_pool_live(f.pool, x.tables[levels - 2], f.pgt.geo.table_size));
		assert_false(tdp_tk_pool_live(f.pool, x.tables[levels - 1], f.pgt.geo.table_size));
		assert_int_equal(pool_stats(&f).errors, 0);
		check_ep(&f, 1, 1);
		fx_fini(&f);
		done++;
	}
	assert_true(done >= 8);
}

/* NULL, ids out of range, a second config, reclaim before attach, the wrapped callbacks. */
static void test_bad_arguments(void **state)
{
	struct tdp_tk_pool *pool = tdp_tk_pool_new(TK_PA_BASE_DEFAULT, (size_t)16 << 20);
	struct tdp_tk_epoch *e;
	struct tdp_tk_epoch_stats st;
	struct tdp_config cfg, cfg2, saved;
	struct tdp_mm_ops no_alloc;
	struct tdp_tk_pool_stats ps;
	struct tdp_pgtable raw;
	struct fx f;
	void *t;

	assert_non_null(pool);
	assert_null(tdp_tk_epoch_new(0));
	assert_null(tdp_tk_epoch_new(65537));
	tdp_tk_epoch_delete(NULL);
	tdp_tk_epoch_enter(NULL, 0);
	tdp_tk_epoch_exit(NULL, 0);
	tdp_tk_epoch_attach(NULL, NULL);
	assert_int_equal(tdp_tk_epoch_reclaim(NULL), 0);
	memset(&st, 0xff, sizeof(st));
	tdp_tk_epoch_stats(NULL, &st);
	assert_int_equal(st.deferred, 0);
	assert_int_equal(st.freed, 0);
	assert_int_equal(st.pending, 0);

	e = tdp_tk_epoch_new(2);
	assert_non_null(e);
	tdp_tk_epoch_stats(e, NULL);
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(tdp_tk_epoch_config(NULL, &cfg), -TDP_EINVAL);
	assert_int_equal(tdp_tk_epoch_config(e, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_tk_epoch_config(e, &cfg), -TDP_EINVAL); /* no mm */
	tdp_tk_pool_config(pool, &cfg);
	no_alloc = *cfg.mm;
	no_alloc.zalloc_table = NULL;
	cfg2 = cfg;
	cfg2.mm = &no_alloc;
	assert_int_equal(tdp_tk_epoch_config(e, &cfg2), -TDP_EINVAL);
	assert_ptr_equal(cfg2.mm, &no_alloc); /* refused: untouched */

	/* the linear pool: translation callbacks stay NULL, the offset stays */
	saved = cfg;
	assert_int_equal(tdp_tk_epoch_config(e, &cfg), 0);
	assert_ptr_equal(cfg.mm_ctx, e);
	assert_ptr_not_equal(cfg.mm, saved.mm);
	assert_null(cfg.mm->virt_to_phys);
	assert_null(cfg.mm->phys_to_virt);
	assert_non_null(cfg.mm->defer_free_table);
	assert_int_equal(cfg.linear_offset, saved.linear_offset);
	/* once per domain */
	cfg2 = saved;
	assert_int_equal(tdp_tk_epoch_config(e, &cfg2), -TDP_EINVAL);
	assert_ptr_equal(cfg2.mm, saved.mm);
	assert_ptr_equal(cfg2.mm_ctx, saved.mm_ctx);

	/*
	 * Before attach: queued, not freed. Delete frees what is still queued
	 * through the attached table: here an exclusive one on the bare pool
	 * (a table on the domain's own ops would need the domain to destroy it).
	 */
	t = cfg.mm->zalloc_table(cfg.mm_ctx, 4096);
	assert_non_null(t);
	cfg.mm->defer_free_table(cfg.mm_ctx, t, 0);
	assert_int_equal(tdp_tk_epoch_reclaim(e), 0);
	tdp_tk_epoch_stats(e, &st);
	assert_int_equal(st.pending, 1);
	assert_true(tdp_tk_pool_live(pool, tdp_tk_pool_pa(pool, t), 4096));
	saved.format = TDP_FORMAT_X86_EPT;
	saved.ia_bits = 48;
	saved.oa_bits = 46;
	saved.tlb = &nop_tlb;
	assert_int_equal(tdp_pgtable_init(&raw, &saved), 0);
	tdp_tk_epoch_attach(e, &raw);
	tdp_tk_epoch_delete(e);
	assert_false(tdp_tk_pool_live(pool, tdp_tk_pool_pa(pool, t), 4096));
	assert_int_equal(tdp_pgtable_destroy(&raw), 0);
	tdp_tk_pool_stats(pool, &ps);
	assert_int_equal(ps.out_blocks, 0);
	assert_int_equal(ps.errors, 0);
	tdp_tk_pool_delete(pool);

	/* the xlate pool: the callbacks are wrapped and translate as before */
	fx_init(&f, &tk_cfgs_ept[0], 2, true);
	assert_non_null(f.cfg.mm->virt_to_phys);
	assert_non_null(f.cfg.mm->phys_to_virt);
	t = new_table(&f);
	assert_int_equal(f.cfg.mm->virt_to_phys(f.cfg.mm_ctx, t), tdp_tk_pool_pa(f.pool, t));
	assert_ptr_equal(f.cfg.mm->phys_to_virt(f.cfg.mm_ctx, tdp_tk_pool_pa(f.pool, t)), t);
	/* an id >= max_threads is ignored: it protects nothing */
	tdp_tk_epoch_enter(f.e, 2);
	tdp_tk_epoch_enter(f.e, ~0u);
	defer(&f, t, 0);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);
	tdp_tk_epoch_exit(f.e, 2);
	tdp_tk_epoch_exit(f.e, ~0u);
	/* and corrupts no slot: thread 1 still works */
	tdp_tk_epoch_enter(f.e, 1);
	defer(&f, new_table(&f), 0);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 0);
	tdp_tk_epoch_exit(f.e, 1);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);
	/* a detached domain frees nothing; attached again, it does */
	tdp_tk_epoch_attach(f.e, NULL);
	defer(&f, new_table(&f), 0);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 0);
	tdp_tk_epoch_attach(f.e, &f.pgt);
	assert_int_equal(tdp_tk_epoch_reclaim(f.e), 1);
	check_ep(&f, 3, 3);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Stress                                                              */

#define NTHREADS 4
#define NWRITERS 2 /* threads 0 and 1 also swap, defer and reclaim; 2 and 3 only read */
#define NLINKS   8
#define ITERS    20000

/*
 * NLINKS "entries" each point to a live table, as a parent entry does.
 * Writers swap a new table in with a compare-and-swap and defer the old one
 * (which they keep reading while still inside), or read, and reclaim now and
 * then; readers load an entry and read its table, with a libtdp lookup in
 * between, and take no lock: what orders their reads before a free is the
 * epoch domain alone (so ThreadSanitizer checks exactly that), while one
 * more thread reclaims back to back. Every table holds (id << 16) + i in
 * entry i. The pool's free hook flags a free of a table a thread has marked
 * as in use.
 */
struct stress {
	struct fx f;
	size_t entries;
	uint64_t gpa, hpa;
	_Atomic(uint64_t *) link[NLINKS];
	_Atomic(uintptr_t) inuse[NTHREADS][2];
	atomic_uint next_id;
	atomic_size_t violations, bad_reads, bad_lookups, no_memory, swaps, lost_races, reclaimed;
	atomic_size_t frees_while_reading; /* frees while another table was marked in use */
	atomic_bool done;
	atomic_flag noted;
	char first[160];
};

struct worker {
	struct stress *s;
	unsigned int tid;
};

static void note(struct stress *s, const char *what, unsigned int tid, const void *p)
{
	if (!atomic_flag_test_and_set(&s->noted))
		snprintf(s->first, sizeof(s->first), "%s (thread %u, table %p)", what, tid, p);
}

static void on_free(void *ctx, uint64_t pa, size_t size)
{
	struct stress *s = ctx;
	uintptr_t va = (uintptr_t)tdp_tk_pool_va(s->f.pool, pa);
	bool reading = false;

	for (unsigned int t = 0; t < NTHREADS; t++)
		for (unsigned int k = 0; k < 2; k++) {
			uintptr_t m = atomic_load_explicit(&s->inuse[t][k], memory_order_relaxed);

			if (m == va) {
				atomic_fetch_add(&s->violations, 1);
				note(s, "freed while in use", t, (const void *)va);
			}
			reading |= m != 0;
		}
	if (reading)
		atomic_fetch_add(&s->frees_while_reading, 1);
}

/*
 * Relaxed on purpose: the marks must add no ordering of their own, so that
 * the free hook sees a cleared mark only because the domain ordered the
 * clear before the free (and ThreadSanitizer checks that ordering alone).
 */
static void mark(struct stress *s, unsigned int tid, unsigned int k, const void *t)
{
	atomic_store_explicit(&s->inuse[tid][k], (uintptr_t)t, memory_order_relaxed);
}

static uint64_t *fill(struct stress *s, uint64_t *t)
{
	uint64_t id = atomic_fetch_add(&s->next_id, 1) + 1;

	for (size_t i = 0; i < s->entries; i++)
		t[i] = (id << 16) + i;
	return t;
}

static bool intact(const struct stress *s, const uint64_t *t)
{
	uint64_t head = t[0];

	if ((head & 0xffff) || head == 0 || (head >> 16) > 0xffffffffu)
		return false;
	for (size_t i = 1; i < s->entries; i++)
		if (t[i] != head + i)
			return false;
	return true;
}

static void check_read(struct stress *s, unsigned int tid, const uint64_t *t)
{
	if (!intact(s, t)) {
		atomic_fetch_add(&s->bad_reads, 1);
		note(s, "table contents changed while a thread inside since before its defer reads it",
		     tid, t);
	}
}

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	struct fx *f = &s->f;
	unsigned int tid = w->tid;
	uint32_t seed = 0x9e3779b9u * (tid + 1);

	for (unsigned int it = 0; it < ITERS; it++) {
		uint32_t r = rnd(&seed);
		unsigned int j = r % NLINKS;
		struct tdp_lookup_result lr;

		tdp_tk_epoch_enter(f->e, tid);
		if (tid < NWRITERS && (r & 0x100)) {
			/* writer: swap in a new table, defer the old one, keep reading it */
			uint64_t *n = f->cfg.mm->zalloc_table(f->cfg.mm_ctx, f->pgt.geo.table_size);
			uint64_t *old = atomic_load_explicit(&s->link[j], memory_order_acquire);

			if (!n) {
				atomic_fetch_add(&s->no_memory, 1);
				tdp_tk_epoch_exit(f->e, tid);
				break;
			}
			fill(s, n);
			mark(s, tid, 1, old);
			check_read(s, tid, old);
			if (atomic_compare_exchange_strong(&s->link[j], &old, n)) {
				atomic_fetch_add(&s->swaps, 1);
				f->cfg.mm->defer_free_table(f->cfg.mm_ctx, old, 0);
				check_read(s, tid, old);
				if (r & 0x200)
					atomic_fetch_add(&s->reclaimed, tdp_tk_epoch_reclaim(f->e));
				check_read(s, tid, old);
			} else {
				/* never visible to anyone: straight back */
				atomic_fetch_add(&s->lost_races, 1);
				f->cfg.mm->free_table(f->cfg.mm_ctx, n, f->pgt.geo.table_size);
			}
			mark(s, tid, 1, NULL);
		} else {
			/* reader: read one entry's table, a libtdp lookup in between */
			uint64_t *t = atomic_load_explicit(&s->link[j], memory_order_acquire);

			mark(s, tid, 0, t);
			check_read(s, tid, t);
			if (tdp_lookup(&f->pgt, s->gpa, &lr) != 0 || lr.hpa != s->hpa)
				atomic_fetch_add(&s->bad_lookups, 1);
			check_read(s, tid, t);
			mark(s, tid, 0, NULL);
		}
		tdp_tk_epoch_exit(f->e, tid);
		if (tid < NWRITERS && (r & 0xf000) == 0)
			atomic_fetch_add(&s->reclaimed, tdp_tk_epoch_reclaim(f->e));
	}
	return NULL;
}

/* Reclaims back to back, from outside any section, until the workers are done. */
static void *reclaimer_main(void *arg)
{
	struct stress *s = arg;

	while (!atomic_load(&s->done))
		atomic_fetch_add(&s->reclaimed, tdp_tk_epoch_reclaim(s->f.e));
	return NULL;
}

static void test_stress_threads(void **state)
{
	static struct stress s; /* large-ish, and the hook needs a stable address */
	pthread_t th[NTHREADS], rt;
	struct worker w[NTHREADS];
	struct tdp_tk_epoch_stats st;
	size_t base;

	memset(&s, 0, sizeof(s));
	atomic_flag_clear(&s.noted);
	fx_init(&s.f, &tk_cfgs_ept[0], NTHREADS, false);
	s.entries = s.f.pgt.geo.table_size / sizeof(uint64_t);
	s.gpa = 0x40000000ull;
	s.hpa = 0x12345000ull;
	assert_int_equal(tdp_map(&s.f.pgt, s.gpa, s.hpa, 4096, TDP_PROT_RW, 0, NULL), 0);
	base = out_blocks(&s.f);
	for (unsigned int j = 0; j < NLINKS; j++)
		atomic_init(&s.link[j], fill(&s, new_table(&s.f)));
	tdp_tk_pool_on_free(s.f.pool, on_free, &s);

	for (unsigned int t = 0; t < NTHREADS; t++) {
		w[t].s = &s;
		w[t].tid = t;
		assert_int_equal(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
	}
	assert_int_equal(pthread_create(&rt, NULL, reclaimer_main, &s), 0);
	for (unsigned int t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	atomic_store(&s.done, true);
	assert_int_equal(pthread_join(rt, NULL), 0);

	if (s.violations || s.bad_reads)
		fail_msg("%zu frees of tables in use, %zu bad reads; first: %s",
			 (size_t)s.violations, (size_t)s.bad_reads, s.first);
	assert_int_equal(s.bad_lookups, 0);
	assert_int_equal(s.no_memory, 0);
	/* every table still linked goes the same way; with everyone outside, all goes */
	for (unsigned int j = 0; j < NLINKS; j++)
		defer(&s.f, atomic_load(&s.link[j]), 0);
	tdp_tk_epoch_reclaim(s.f.e);
	tdp_tk_epoch_stats(s.f.e, &st);
	assert_int_equal(st.deferred, s.swaps + NLINKS);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.freed, st.deferred);
	assert_int_equal(out_blocks(&s.f), base);
	assert_int_equal(s.violations, 0);
	/* the run did race: tables were freed while threads were reading others */
	assert_true(s.swaps > ITERS / 2);
	assert_true(s.reclaimed > 0);
	assert_true(s.frees_while_reading > 0);
	print_message("epoch stress: %zu swaps, %zu lost races, %zu tables freed by the threads' "
		      "reclaims, %zu pool frees while a thread was reading another table\n",
		      (size_t)s.swaps, (size_t)s.lost_races, (size_t)s.reclaimed,
		      (size_t)s.frees_while_reading);
	tdp_tk_pool_on_free(s.f.pool, NULL, NULL);
	fx_fini(&s.f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_section_blocks_free),
		cmocka_unit_test(test_later_entry_does_not_block),
		cmocka_unit_test(test_free_unlinked_subtree),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_stress_threads),
	};

	if (!tk_threads_work()) {
		printf("test_epoch: SKIP: a thread could not be started and joined within 10 s here "
		       "(qemu-aarch64 user mode?)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
