/* SPDX-License-Identifier: MIT */
/*
 * Epoch-based deferred free for shared mode (tdp_tk_epoch_*, testkit.h).
 *
 * The scheme:
 * - `global` is a counter, starting at 1, that only ever grows, and only by
 *   fetch-and-add (so every value it takes heads or continues one release
 *   sequence).
 * - Each thread has a slot on its own cache line holding 0 (idle, outside
 *   any section) or the value of `global` it read when it entered its
 *   current section (its announced epoch).
 * - defer_free_table tags the table with t = fetch-and-add(global): the value
 *   before the increment, so `global` is > t from then on. Every thread that
 *   enters later reads an epoch > t.
 * - A table tagged t is freed once every slot is idle or announces an epoch
 *   > t: each thread then either is outside, or entered after the defer.
 *
 * Why a thread that entered after the defer cannot reach the table: the
 * caller unlinked the table before handing it to defer_free_table (sequenced
 * before our fetch-and-add, which is a full barrier). A thread announcing
 * a > t read `global` with an acquire load and saw the increment made by that
 * fetch-and-add or a later one (all later ones continue its release
 * sequence), so the unlink happens before everything the thread does in its
 * section: every walk it starts at the root sees the parent entry without
 * the table.
 *
 * The classic race: thread T loads `global` (= g), is delayed, and stores
 * g into its slot only after a reclaimer has scanned the slots and seen T
 * idle; the reclaimer frees a table X tagged t >= g, deferred during T's
 * delay, and T then announces an epoch that would have protected X. This
 * is safe here because both sides put a full fence between their write and
 * their read (a store-buffering / Dekker pattern):
 *   T:         store slot = g;  FENCE;  read the tables (from the root)
 *   reclaimer: (X was unlinked before it was queued, and the reclaimer took
 *              it from the queue under the queue's mutex: the unlink happens
 *              before what follows)  FENCE;  load every slot
 * With two sequentially consistent fences, the reclaimer's load missing T's
 * store means its fence comes first in the single total order of such
 * fences, and then T's reads after its own fence see every write that
 * happens before the reclaimer's fence: the unlink of X. So T cannot reach
 * X: a stale announcement only makes T protect tables it cannot reach (it
 * is conservative), it never lets a reachable table go. The reclaimer
 * takes its batch of queued tables (with their tags) *before* its fence and
 * scan, and considers only that batch: a table queued after the scan
 * started waits for the next reclaim. It frees a batch table tagged t only
 * if the minimum announced epoch it saw is > t.
 *
 * The exit is a release store of 0 and the scan loads slots with acquire:
 * a thread's reads of a table happen before the reclaimer's free. The
 * announcement is a release store too, so a reclaimer that reads the epoch
 * of a thread's next section (and not the 0 in between) still acquires
 * everything the thread did in its previous one (since C++20 a release
 * sequence no longer runs on through later plain stores of the same
 * thread, so the exit's release alone would not be enough under those
 * rules). ThreadSanitizer sees these acquire/release pairs and the
 * mutexes; it does not need the two fences, which only exclude outcomes
 * (T reading X) that then simply never happen.
 */
#include <tdp/testkit.h>

#ifdef TDP_ATOMIC_OPS_H /* cross builds: by full path (meson.build) */
#include TDP_ATOMIC_OPS_H
#else
#include <atomic_ops.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPOCH_LINE 128 /* a cache line, or two adjacent ones that x86 prefetches together */
#define EPOCH_IDLE 0
#define EPOCH_MAX_THREADS 65536u

_Static_assert(sizeof(AO_t) >= sizeof(uint64_t), "the epoch counter must not wrap");

struct epoch_slot {
	_Alignas(EPOCH_LINE) volatile AO_t epoch; /* EPOCH_IDLE, or the epoch announced at entry */
	unsigned int depth;                       /* nesting; only the owning thread touches it */
};
_Static_assert(sizeof(struct epoch_slot) == EPOCH_LINE, "one slot per cache line");

/* A queued table: a node of our own, never written into the table itself. */
struct epoch_item {
	struct epoch_item *next;
	void *table;
	unsigned int level;
	AO_t tag; /* value of `global` before the defer's increment */
};

struct tdp_tk_epoch {
	_Alignas(EPOCH_LINE) volatile AO_t global;
	/* statistics: written with atomic adds, read with loads, from any thread */
	_Alignas(EPOCH_LINE) volatile AO_t deferred;
	volatile AO_t freed;
	/* the queue and the attached table */
	pthread_mutex_t queue_lock;
	struct epoch_item *queue;
	const struct tdp_pgtable *pgt;
	/* the wrapped allocator */
	pthread_mutex_t mm_lock;
	struct tdp_mm_ops ops; /* cfg->mm points here after tdp_tk_epoch_config */
	const struct tdp_mm_ops *inner;
	void *inner_ctx;
	bool configured;
	unsigned int max_threads;
	struct epoch_slot *slots;
};

/* ------------------------------------------------------------------ */
/* The wrapped tdp_mm_ops                                              */

static void *ep_zalloc(void *ctx, size_t size)
{
	struct tdp_tk_epoch *e = ctx;
	void *p;

	pthread_mutex_lock(&e->mm_lock);
	p = e->inner->zalloc_table(e->inner_ctx, size);
	pthread_mutex_unlock(&e->mm_lock);
	return p;
}

static void ep_free(void *ctx, void *va, size_t size)
{
	struct tdp_tk_epoch *e = ctx;

	pthread_mutex_lock(&e->mm_lock);
	e->inner->free_table(e->inner_ctx, va, size);
	pthread_mutex_unlock(&e->mm_lock);
}

static uint64_t ep_virt_to_phys(void *ctx, void *va)
{
	struct tdp_tk_epoch *e = ctx;
	uint64_t pa;

	pthread_mutex_lock(&e->mm_lock);
	pa = e->inner->virt_to_phys(e->inner_ctx, va);
	pthread_mutex_unlock(&e->mm_lock);
	return pa;
}

static void *ep_phys_to_virt(void *ctx, uint64_t pa)
{
	struct tdp_tk_epoch *e = ctx;
	void *va;

	pthread_mutex_lock(&e->mm_lock);
	va = e->inner->phys_to_virt(e->inner_ctx, pa);
	pthread_mutex_unlock(&e->mm_lock);
	return va;
}

static void ep_defer(void *ctx, void *table, unsigned int level)
{
	struct tdp_tk_epoch *e = ctx;
	struct epoch_item *it = malloc(sizeof(*it));

	if (!it) {
		/*
		 * No way to report it (defer_free_table returns nothing), no way
		 * to wait for a grace period (the caller is inside a section
		 * whose thread id we do not know), and freeing now could be a
		 * use after free: stop rather than leak silently or corrupt.
		 */
		fprintf(stderr, "tdp_tk_epoch: out of memory queueing a deferred table\n");
		abort();
	}
	it->table = table;
	it->level = level;
	/* Full barrier: the caller's unlink comes before the tag (see the top of the file). */
	it->tag = AO_fetch_and_add1_full(&e->global);
	/* Counted before it can be freed, so freed <= deferred at every moment. */
	AO_fetch_and_add1_full(&e->deferred);
	pthread_mutex_lock(&e->queue_lock);
	it->next = e->queue;
	e->queue = it;
	pthread_mutex_unlock(&e->queue_lock);
}

/* ------------------------------------------------------------------ */
/* Domain                                                              */

struct tdp_tk_epoch *tdp_tk_epoch_new(unsigned int max_threads)
{
	struct tdp_tk_epoch *e;

	if (max_threads == 0 || max_threads > EPOCH_MAX_THREADS)
		return NULL;
	e = aligned_alloc(EPOCH_LINE, sizeof(*e));
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->slots = aligned_alloc(EPOCH_LINE, (size_t)max_threads * sizeof(*e->slots));
	if (!e->slots)
		goto fail_slots;
	memset(e->slots, 0, (size_t)max_threads * sizeof(*e->slots));
	if (pthread_mutex_init(&e->queue_lock, NULL))
		goto fail_queue;
	if (pthread_mutex_init(&e->mm_lock, NULL))
		goto fail_mm;
	e->max_threads = max_threads;
	e->global = 1; /* 0 is EPOCH_IDLE */
	return e;

fail_mm:
	pthread_mutex_destroy(&e->queue_lock);
fail_queue:
	free(e->slots);
fail_slots:
	free(e);
	return NULL;
}

void tdp_tk_epoch_delete(struct tdp_tk_epoch *e)
{
	struct epoch_item *it, *next;

	if (!e)
		return;
	/* Every thread is outside: everything queued can go. */
	for (it = e->queue; it; it = next) {
		next = it->next;
		if (e->pgt && tdp_free_unlinked(e->pgt, it->table, it->level) == 0)
			AO_fetch_and_add1_full(&e->freed);
		free(it);
	}
	pthread_mutex_destroy(&e->mm_lock);
	pthread_mutex_destroy(&e->queue_lock);
	free(e->slots);
	free(e);
}

int tdp_tk_epoch_config(struct tdp_tk_epoch *e, struct tdp_config *cfg)
{
	const struct tdp_mm_ops *mm;

	if (!e || !cfg || e->configured)
		return -TDP_EINVAL;
	mm = cfg->mm;
	if (!mm || !mm->zalloc_table || !mm->free_table)
		return -TDP_EINVAL;
	e->inner = mm;
	e->inner_ctx = cfg->mm_ctx;
	e->ops.zalloc_table = ep_zalloc;
	e->ops.free_table = ep_free;
	/* NULL stays NULL: the table then keeps using cfg->linear_offset */
	e->ops.virt_to_phys = mm->virt_to_phys ? ep_virt_to_phys : NULL;
	e->ops.phys_to_virt = mm->phys_to_virt ? ep_phys_to_virt : NULL;
	e->ops.defer_free_table = ep_defer;
	e->configured = true;
	cfg->mm = &e->ops;
	cfg->mm_ctx = e;
	return 0;
}

void tdp_tk_epoch_attach(struct tdp_tk_epoch *e, const struct tdp_pgtable *pgt)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->queue_lock);
	e->pgt = pgt;
	pthread_mutex_unlock(&e->queue_lock);
}

/* ------------------------------------------------------------------ */
/* Read side                                                           */

void tdp_tk_epoch_enter(struct tdp_tk_epoch *e, unsigned int tid)
{
	struct epoch_slot *s;

	if (!e || tid >= e->max_threads)
		return;
	s = &e->slots[tid];
	if (s->depth++)
		return; /* nested: the outer section's epoch protects the inner one */
	/* acquire: tables unlinked before the defers this value counts are seen unlinked */
	AO_store_release(&s->epoch, AO_load_acquire(&e->global));
	/* the announcement before every read of the section (the Dekker half of the argument) */
	AO_nop_full();
}

void tdp_tk_epoch_exit(struct tdp_tk_epoch *e, unsigned int tid)
{
	struct epoch_slot *s;

	if (!e || tid >= e->max_threads)
		return;
	s = &e->slots[tid];
	if (s->depth == 0 || --s->depth)
		return; /* not inside, or still nested */
	/* release: the section's reads come before a reclaimer that sees the slot idle */
	AO_store_release(&s->epoch, EPOCH_IDLE);
}

/* ------------------------------------------------------------------ */
/* Reclaim                                                             */

size_t tdp_tk_epoch_reclaim(struct tdp_tk_epoch *e)
{
	struct epoch_item *batch, *it, *next, *keep = NULL, *keep_tail = NULL, *gone = NULL;
	const struct tdp_pgtable *pgt;
	AO_t min = ~(AO_t)0;
	size_t n = 0;

	if (!e)
		return 0;
	/* 1. Take the batch: every table in it was unlinked before this point. */
	pthread_mutex_lock(&e->queue_lock);
	pgt = e->pgt;
	batch = pgt ? e->queue : NULL;
	if (batch)
		e->queue = NULL;
	pthread_mutex_unlock(&e->queue_lock);
	if (!batch)
		return 0;

	/* 2. The reclaimer's fence, then the scan (acquire: see the top of the file). */
	AO_nop_full();
	for (unsigned int i = 0; i < e->max_threads; i++) {
		AO_t v = AO_load_acquire(&e->slots[i].epoch);

		if (v != EPOCH_IDLE && v < min)
			min = v;
	}

	/* 3. Tables tagged below every announced epoch are unreachable. */
	for (it = batch; it; it = next) {
		next = it->next;
		if (it->tag < min) {
			it->next = gone;
			gone = it;
		} else {
			it->next = keep;
			keep = it;
			if (!keep_tail)
				keep_tail = it;
		}
	}
	if (keep) {
		pthread_mutex_lock(&e->queue_lock);
		keep_tail->next = e->queue;
		e->queue = keep;
		pthread_mutex_unlock(&e->queue_lock);
	}

	/* 4. Free outside the queue lock (free_table takes the allocator's). */
	for (it = gone; it; it = next) {
		next = it->next;
		if (tdp_free_unlinked(pgt, it->table, it->level) == 0)
			n++;
		free(it);
	}
	if (n)
		AO_fetch_and_add_full(&e->freed, (AO_t)n);
	return n;
}

void tdp_tk_epoch_stats(const struct tdp_tk_epoch *e, struct tdp_tk_epoch_stats *st)
{
	AO_t freed, deferred;

	if (!st)
		return;
	if (!e) {
		memset(st, 0, sizeof(*st));
		return;
	}
	/* freed first: it can only have grown by the time deferred is read, and never beyond it */
	freed = AO_load_acquire(&e->freed);
	deferred = AO_load_acquire(&e->deferred);
	st->deferred = (size_t)deferred;
	st->freed = (size_t)freed;
	st->pending = (size_t)(deferred - freed);
}
