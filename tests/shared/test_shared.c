/* SPDX-License-Identifier: MIT */
/*
 * Shared mode (TDP_CFG_SHARED, include/tdp/pgtable.h) under real
 * concurrency: 4 threads run shared calls on one table, each call inside a
 * tdp_tk_epoch_enter/exit section, repeated on -TDP_EAGAIN (and with a
 * fuller memory cache on -TDP_ENOMEM), reclaiming deferred tables now and
 * then. After the threads are joined, the table is read through the kit's
 * reference walker (tdp_tk_ref_leaves over the whole input range, never
 * tdp_lookup) and checked against the log of what every thread did:
 *
 * fault_race   tdp_map_fault of random pages: in one region every thread
 *              has the same target, in another each its own (some of them
 *              misaligned, so pages only), with random level caps. Every
 *              leaf is exactly the res of one fault that returned 0 (never
 *              two), with that fault's offset; every -TDP_EEXIST res is the
 *              leaf there; every res respects its cap and region.
 * map_race     tdp_map of level-1 blocks, pairs of them, single pages and
 *              short runs, thread t with its own target hpa_t and attributes
 *              (one target misaligned: only pages), so blocks replace tables
 *              and tables replace blocks. Every page any call mapped is
 *              translated, nothing else is; every leaf has one thread's
 *              offset and attributes and lies inside one of that thread's
 *              calls; some tables went to defer_free_table.
 * protect_race tdp_protect clearing or setting W on random sub-ranges
 *              (edge splits of level-2, level-1 blocks and pages) with
 *              tdp_test_clear_young, tdp_collect_dirty and maps of the same
 *              target (read-write or read-only). On the A/D formats every
 *              leaf's A and D are set before each round, and a fifth thread
 *              plays the hardware meanwhile: it walks to random pages and
 *              sets A, and D where the leaf has W, by compare-and-swap
 *              (the TLB callbacks wait for its walk in flight, as an
 *              invalidation does). Every page stays translated with the
 *              same output, R and the memory type; W is clear only where a
 *              protect or read-only map took it, set only where none did or
 *              one gave it back (zones of the hot windows get one kind of
 *              change only, so there this is exact); no dirty page is lost:
 *              a page whose leaf is clean was reported by a
 *              tdp_collect_dirty or remapped, and each D the hardware set is
 *              still there or was reported or replaced by a call that
 *              returned after it.
 * split_only   tdp_split to level 0 and level 1 of random ranges over
 *              level-2 and level-1 blocks, nothing else: the translation
 *              and attributes of every page are those before, and every
 *              leaf that meets a split's range sits at or below its target.
 * split_mixed  the same splits with protects and maps of the same target
 *              (level-1 blocks, and in odd rounds whole level-2 blocks,
 *              replacing split tables), with the hardware thread on the A/D
 *              formats: every page translated with the same output, W and
 *              the hardware's D flags as above.
 * walk_race    two threads split a level-1 block to pages and map it back as
 *              a block (same target), again and again, while two read the
 *              region with tdp_walk, the public iterator and tdp_lookup,
 *              which shared mode lets run with them: each page seen once,
 *              in address order, with its one translation; on formats
 *              without break-before-make never a hole.
 * The tables of all but walk_race and init_shared have a change callback
 * (cfg.changes, sh_leaf_changed) run by every thread at once: each report
 * must name the call running on its thread (never a harvest, a reader or
 * tdp_free_unlinked from the epoch reclaim), have a kind that fits old and
 * new (an UPDATE keeps its span), and leaves of the window with a
 * translation some call made. Per page, atomic counters add +1 for an
 * ADD's leaf and -1 for a REMOVE's; after each round, reset and destroy
 * they must be 1 where the reference walker finds a leaf, 0 elsewhere.
 * Splits must have been reported with reshape.
 * init_shared  tdp_pgtable_init refuses TDP_CFG_SHARED without
 *              defer_free_table (-TDP_EINVAL, no page held) and takes it
 *              with the kit's epoch domain.
 *
 * Each test runs several rounds on one table (the region is zapped or
 * unmapped, exclusively, between them) and ends with the drain: the epoch
 * reclaim frees every deferred table (none pending), the pool holds exactly
 * the root, the tables the walker reaches and the memory caches' pages,
 * and after the caches are drained and the table destroyed, nothing.
 * Configurations: arm64 4K/16K/64K (48-bit), EPT 4 levels with A/D (also
 * without 1 GiB pages, with suppress-#VE), RISC-V Sv39x4 and Sv48x4 with
 * Svadu.
 *
 * Environment: TDP_SHARED_SCALE (percent of the default operation counts,
 * default 100), TDP_SHARED_SEED (default 1; races make a run differ from
 * the next anyway, the seed fixes the operations each thread draws),
 * TDP_SHARED_SERIAL=1 (every call under one mutex: the same checks without
 * races, to tell a test's mistake from a library's), TDP_SHARED_ONLY (run
 * only the tests whose name, e.g. "split_mixed[ept-4l-ad]", contains it).
 *
 * Where a thread cannot even be started (qemu-aarch64 7.2 user mode hangs in
 * pthread_create on Debian 12 hosts: the cross build's exe_wrapper), the
 * program says so and exits 77, which meson counts as skipped.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"
#include "threads_probe.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include <tdp/riscv.h>
#include <tdp/x86.h>

#define NT          4      /* worker threads */
#define MAIN_TID    NT     /* the main thread's epoch id (setup and resets) */
#define HW_TID      (NT + 1) /* the thread playing the hardware's A/D updates */
#define MAX_TRIES   200000 /* -TDP_EAGAIN/-TDP_ENOMEM repeats of one call */
#define MAX_NEED    65536  /* cache pages one call may ask for after -TDP_ENOMEM */
#define RECLAIM_EVERY 32   /* calls between a thread's reclaims */

/* ------------------------------------------------------------------ */
/* Configurations                                                      */

struct scfg {
	const char *name;
	const struct tk_cfgdesc *cd;
	const char *cd_name; /* what cd must be called (the kit's table may move) */
	uint32_t flags;      /* on top of cd->flags and TDP_CFG_SHARED */
};

static const struct scfg scfgs[] = {
	{ "arm64-4k-48", &tk_cfgs_all[5], "4K/48", 0 },
	{ "arm64-16k-48", &tk_cfgs_all[10], "16K/48", 0 },
	{ "arm64-64k-48", &tk_cfgs_all[14], "64K/48", 0 },
	{ "ept-4l-ad", &tk_cfgs_ept[0], "ept-4l", TDP_CFG_X86_AD },
	{ "ept-4l-no1g-sve-ad", &tk_cfgs_ept[2], "ept-4l-no1g-sve", TDP_CFG_X86_AD },
	{ "riscv-sv39x4-adu", &tk_cfgs_riscv[0], "sv39x4", TDP_CFG_RISCV_SVADU },
	{ "riscv-sv48x4-adu", &tk_cfgs_riscv[1], "sv48x4-napot-pbmt-adu", 0 },
};
#define NCFG (sizeof(scfgs) / sizeof(scfgs[0]))

/* ------------------------------------------------------------------ */
/* Options                                                             */

static unsigned int scale_pct = 100;
static uint64_t base_seed = 1;
static bool serial;
static pthread_mutex_t serial_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned int scaled(unsigned int n)
{
	unsigned long v = (unsigned long)n * scale_pct / 100;

	return v ? (unsigned int)v : 1;
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

/* ------------------------------------------------------------------ */
/* Page bitmaps over a region                                          */

struct bm {
	uint64_t *w;
	size_t bits;
};

static void bm_init(struct bm *b, size_t bits)
{
	b->bits = bits;
	b->w = calloc(bits / 64 + 1, sizeof(uint64_t));
	assert_non_null(b->w);
}

static void bm_free(struct bm *b)
{
	free(b->w);
	b->w = NULL;
}

static void bm_clear(struct bm *b)
{
	if (b->w)
		memset(b->w, 0, (b->bits / 64 + 1) * sizeof(uint64_t));
}

static bool bm_get(const struct bm *b, size_t i)
{
	return (b->w[i / 64] >> (i % 64)) & 1;
}

static void bm_set_range(struct bm *b, size_t i, size_t n)
{
	while (n && (i % 64)) {
		b->w[i / 64] |= 1ull << (i % 64);
		i++, n--;
	}
	while (n >= 64) {
		b->w[i / 64] = ~0ull;
		i += 64, n -= 64;
	}
	while (n) {
		b->w[i / 64] |= 1ull << (i % 64);
		i++, n--;
	}
}

static void bm_or(struct bm *d, const struct bm *s)
{
	for (size_t k = 0; k <= d->bits / 64; k++)
		d->w[k] |= s->w[k];
}

/* First i in [i, i + n) whose bit is clear in a and in b (b may be NULL), or SIZE_MAX. */
static size_t bm_first_clear(const struct bm *a, const struct bm *b, size_t i, size_t n)
{
	for (size_t e = i + n; i < e; i++) {
		if ((i % 64) == 0 && e - i >= 64 && (a->w[i / 64] | (b ? b->w[i / 64] : 0)) == ~0ull) {
			i += 63;
			continue;
		}
		if (!bm_get(a, i) && !(b && bm_get(b, i)))
			return i;
	}
	return SIZE_MAX;
}

/* ------------------------------------------------------------------ */
/* One shared table and its threads                                    */

enum opk { OP_MAP, OP_FAULT, OP_PROTECT, OP_SPLIT, OP_YOUNG, OP_DIRTY };

static const char *const op_names[] = { "map", "map_fault", "protect", "split", "young", "dirty" };

struct op {
	enum opk kind;
	uint64_t gpa, size;       /* OP_FAULT: gpa is the faulting address */
	uint64_t off;             /* map, fault: hpa - gpa */
	tdp_attr_t attr, clear, set;
	uint32_t flags;
	unsigned int level;       /* split: target; fault: the cap (levels - 1 if none) */
	const struct tdp_fault_region *rg;
	int rc;
	struct tdp_fault_result res;
	bool young;
};

struct sh;
struct stest;

struct th {
	struct sh *s;
	unsigned int id;
	uint64_t rng;
	struct tdp_memcache mc;
	struct op *log;           /* this round's calls */
	size_t nlog, caplog;
	/* protect tests: pages reported dirty, remapped, given W (set or RW map), losing W (clear or RO map) */
	struct bm dirty, remap, wset, ro;
	/*
	 * With the hardware thread: per page, the sequence number taken after
	 * the last tdp_collect_dirty that reported it / the last map covering
	 * it returned; the hardware thread's log of the D flags it set.
	 */
	uint32_t *rep_seq, *remap_seq;
	struct hwev {
		uint32_t page, seq;
	} *ev;
	size_t nev, capev, hw_tries;
	size_t calls, eagain, enomem, reads;
	bool failed;
	char err[600];
	void (*body)(struct th *t);
	unsigned int nops;
	pthread_t pt;
};

struct sh {
	const struct scfg *sc;
	unsigned int ci;          /* index in scfgs */
	struct tdp_tk_pool *pool;
	struct tdp_tk_epoch *ep;
	struct tdp_pgtable pgt;
	bool live;
	struct tk_geo g;
	uint64_t P, S1, Sb;       /* page, level-1 block, largest block used (level 2 if a leaf, else 1) */
	unsigned int lb;          /* level of Sb */
	uint64_t G, R;            /* the region [G, G + R) */
	uint64_t hot[2];          /* windows of 4 S1 where small ranges go */
	unsigned int nhot;
	uint64_t H;               /* target of the region in the protect and split tests */
	bool ad;                  /* A/D harvesting in use */
	uint64_t seed;
	atomic_uint ready;
	atomic_size_t flush_ranges, flush_alls;
	struct th th[NT + 2];     /* workers, the main thread, the hardware */
	bool hw_on;               /* run the hardware thread with the workers */
	atomic_bool stop;         /* the workers are done: the hardware thread stops */
	atomic_ullong seq;        /* orders D-flag writes against harvests and maps */
	atomic_ulong walk_seq;    /* odd while the hardware thread walks (the flushes wait for it) */
	size_t eagain, enomem, calls, reads, rounds;
	/*
	 * What a tdp_lookup or tdp_walk running with the others may see: a
	 * translation with offset off (hpa - gpa) and attributes attr at gpa;
	 * with `dense`, every page of the region stays translated throughout,
	 * so on a format without break-before-make a reader never meets a hole.
	 */
	bool (*seen_ok)(const struct sh *s, uint64_t gpa, uint64_t off, tdp_attr_t attr);
	bool dense;
	/*
	 * The change reports (cfg.changes, sh_leaf_changed), from every thread
	 * at once: per page of [G, G + npages * P) the leaves that cover it,
	 * +1 for each ADD's new leaf, -1 for each REMOVE's old one; counts of
	 * reports and of reshape reports; the first report found wrong.
	 */
	struct chg {
		atomic_int *cnt;
		size_t npages;
		atomic_size_t reports, reshapes;
		atomic_bool bad;
		char err[600];
	} chg;
};

static void terr(struct th *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void terr(struct th *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	t->failed = true;
	n = snprintf(t->err, sizeof(t->err), "[%s, thread %u, seed %llu] ", t->s->sc->name, t->id,
		     ULL(base_seed));
	va_start(ap, fmt);
	vsnprintf(t->err + n, sizeof(t->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

/*
 * An invalidation returns only once the hardware no longer uses what it
 * invalidates: a walk of the hardware thread in flight when it starts
 * (which may have read an entry the caller has just replaced) completes
 * first. Walks that start later see the change.
 */
static void hw_sync(struct sh *s)
{
	unsigned long w = atomic_load(&s->walk_seq);

	if (w & 1)
		while (atomic_load(&s->walk_seq) == w)
			sched_yield();
}

static void tlb_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	struct sh *s = ctx;

	(void)gpa, (void)size, (void)level, (void)tables;
	atomic_fetch_add_explicit(&s->flush_ranges, 1, memory_order_relaxed);
	hw_sync(s);
}

static void tlb_all(void *ctx)
{
	struct sh *s = ctx;

	atomic_fetch_add_explicit(&s->flush_alls, 1, memory_order_relaxed);
	hw_sync(s);
}

static const struct tdp_tlb_ops sh_tlb = { .flush_range = tlb_range, .flush_all = tlb_all };

static uint64_t lsz(const struct sh *s, unsigned int l)
{
	return tk_level_size(&s->g, l);
}

static size_t pg(const struct sh *s, uint64_t gpa)
{
	return (size_t)((gpa - s->G) / s->P);
}

/* ------------------------------------------------------------------ */
/* Change reports (tdp/changes.h) under concurrency                    */

/*
 * The call this thread is in, as the reports must name it: set around each
 * libtdp call that may report (run_op, the exclusive unmap/zap between
 * rounds, destroy), 0 everywhere else: A/D harvesting, lookups and walks,
 * tdp_free_unlinked from the epoch reclaim, the memory cache. A report
 * while it is 0 is wrong; exp_what says what the thread was doing then.
 */
static _Thread_local enum tdp_op exp_op;
static _Thread_local const char *exp_what;

static void expect_call(enum tdp_op op, const char *what)
{
	exp_op = op;
	exp_what = what;
}

static const char *const kind_names[] = { "?", "ADD", "UPDATE", "REMOVE" };
static const char *const tdp_op_names[] = { "?",     "MAP",   "FAULT",   "UNMAP",
					    "ZAP",   "SPLIT", "PROTECT", "DESTROY" };

/* The first wrong report wins; the main thread fails the test with it after the join. */
static bool chg_fail(struct sh *s, const struct tdp_change *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool chg_fail(struct sh *s, const struct tdp_change *c, const char *fmt, ...)
{
	struct chg *k = &s->chg;
	va_list ap;
	int n;

	if (atomic_exchange(&k->bad, true))
		return false;
	n = snprintf(k->err, sizeof(k->err),
		     "[%s, seed %llu] report op %s kind %s%s old [0x%llx +0x%llx) %s l%u pa 0x%llx "
		     "attr 0x%x, new [0x%llx +0x%llx) %s l%u pa 0x%llx attr 0x%x, made while in %s: ",
		     s->sc->name, ULL(base_seed),
		     (unsigned int)c->op < 8 ? tdp_op_names[c->op] : "?",
		     (unsigned int)c->kind < 4 ? kind_names[c->kind] : "?", c->reshape ? " reshape" : "",
		     ULL(c->old.addr), ULL(c->old.size), c->old.valid ? "valid" : "invalid",
		     c->old.level, ULL(c->old.pa), c->old.attr, ULL(c->new.addr), ULL(c->new.size),
		     c->new.valid ? "valid" : "invalid", c->new.level, ULL(c->new.pa), c->new.attr,
		     exp_what ? exp_what : "no call");
	va_start(ap, fmt);
	vsnprintf(k->err + n, sizeof(k->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

/* A leaf of a report: its size that of its level, aligned, inside [G, G + R), a translation some call made. */
static bool chg_leaf_ok(struct sh *s, const struct tdp_change *c, const struct tdp_entry *e,
			const char *which)
{
	if (e->table)
		return chg_fail(s, c, "the %s entry is a table", which);
	if (e->size != lsz(s, e->level) || (e->addr & (e->size - 1)) || (e->pa & (e->size - 1)))
		return chg_fail(s, c, "the %s leaf is not a leaf of its level", which);
	if (e->addr < s->G || e->addr + e->size > s->G + s->R)
		return chg_fail(s, c, "the %s leaf lies outside the test's window [0x%llx +0x%llx)",
				which, ULL(s->G), ULL(s->R));
	if (s->seen_ok && !s->seen_ok(s, e->addr, e->pa - e->addr, e->attr))
		return chg_fail(s, c, "the %s leaf has a translation no call made", which);
	return true;
}

/* A report as the contract and the running call allow: its leaf (e) and what it adds to its pages (d). */
static bool chg_ok(struct sh *s, const struct tdp_change *c, const struct tdp_entry **ep, int *dp)
{
	const struct tdp_entry *e;
	bool plain_remove;
	int d;

	if (!exp_op)
		return chg_fail(s, c, "no reporting call runs on this thread");
	if (c->op != exp_op)
		return chg_fail(s, c, "the call running on this thread is %s", tdp_op_names[exp_op]);
	switch (c->kind) {
	case TDP_CHANGE_ADD:
		if (c->old.valid || !c->new.valid)
			return chg_fail(s, c, "an ADD has no old leaf and a new one");
		d = 1;
		e = &c->new;
		break;
	case TDP_CHANGE_REMOVE:
		if (!c->old.valid || c->new.valid)
			return chg_fail(s, c, "a REMOVE has an old leaf and no new one");
		d = -1;
		e = &c->old;
		break;
	case TDP_CHANGE_UPDATE:
		if (!c->old.valid || !c->new.valid)
			return chg_fail(s, c, "an UPDATE has an old leaf and a new one");
		if (c->old.addr != c->new.addr || c->old.size != c->new.size ||
		    c->old.level != c->new.level)
			return chg_fail(s, c, "an UPDATE keeps the span and level");
		if (c->reshape)
			return chg_fail(s, c, "a reshape is a REMOVE and ADDs, never an UPDATE");
		if (!chg_leaf_ok(s, c, &c->old, "old"))
			return false;
		d = 0;
		e = &c->new;
		break;
	default:
		return chg_fail(s, c, "no such kind");
	}
	/*
	 * What each call may report. A split or protect that had taken a block
	 * busy (break-before-make) when another thread's map unlinked the table
	 * holding it reports that block removed, not reshaped (sh_swap): the
	 * map's freeze cannot know what the busy entry held.
	 */
	plain_remove = c->kind == TDP_CHANGE_REMOVE && !c->reshape;
	switch (c->op) {
	case TDP_OP_FAULT:
		if (c->kind != TDP_CHANGE_ADD || c->reshape)
			return chg_fail(s, c, "a fault only adds a leaf where none was");
		break;
	case TDP_OP_SPLIT:
		if (!c->reshape && !plain_remove)
			return chg_fail(s, c, "a split keeps every translation (reshape)");
		break;
	case TDP_OP_PROTECT:
		if (!c->reshape && c->kind != TDP_CHANGE_UPDATE && !plain_remove)
			return chg_fail(s, c, "a protect updates leaves, or splits edge blocks (reshape)");
		break;
	case TDP_OP_UNMAP:
	case TDP_OP_ZAP:
	case TDP_OP_DESTROY:
		if (c->kind != TDP_CHANGE_REMOVE || c->reshape)
			return chg_fail(s, c, "the whole region goes: removals only");
		break;
	default:
		break;
	}
	if (!chg_leaf_ok(s, c, e, d < 0 ? "old" : "new"))
		return false;
	*ep = e;
	*dp = d;
	return true;
}

static void sh_leaf_changed(void *ctx, const struct tdp_change *c)
{
	struct sh *s = ctx;
	struct chg *k = &s->chg;
	const struct tdp_entry *e = NULL;
	int d = 0;

	atomic_fetch_add_explicit(&k->reports, 1, memory_order_relaxed);
	if (c->reshape)
		atomic_fetch_add_explicit(&k->reshapes, 1, memory_order_relaxed);
	if (!chg_ok(s, c, &e, &d) || !d)
		return; /* wrong (the test fails after the join), or an UPDATE: nothing net */
	for (size_t i = pg(s, e->addr), n = (size_t)(e->size / s->P); n--; i++)
		atomic_fetch_add_explicit(&k->cnt[i], d, memory_order_relaxed);
}

static const struct tdp_change_ops sh_changes = { .leaf_changed = sh_leaf_changed };


static void sh_init(struct sh *s, unsigned int ci, unsigned int test, bool reports)
{
	const struct scfg *sc = &scfgs[ci];
	const struct tk_cfgdesc *cd = sc->cd;
	struct tdp_config cfg;

	memset(s, 0, sizeof(*s));
	s->sc = sc;
	s->ci = ci;
	if (strcmp(cd->name, sc->cd_name))
		fail_msg("%s: the kit's configuration is %s, not %s", sc->name, cd->name, sc->cd_name);
	s->seed = base_seed * 0x9e3779b97f4a7c15ull ^ ((uint64_t)test << 40) ^ ((uint64_t)ci << 32);
	s->pool = tdp_tk_pool_new(TK_PA_BASE_DEFAULT, TK_ARENA_DEFAULT);
	assert_non_null(s->pool);
	s->ep = tdp_tk_epoch_new(NT + 2);
	assert_non_null(s->ep);
	memset(&cfg, 0, sizeof(cfg));
	cfg.format = cd->format;
	cfg.ia_bits = cd->ia;
	cfg.oa_bits = cd->oa;
	cfg.granule_shift = cd->gshift;
	cfg.leaf_levels = cd->leaf_levels;
	cfg.flags = cd->flags | sc->flags | TDP_CFG_SHARED;
	tdp_tk_pool_config(s->pool, &cfg);
	assert_int_equal(tdp_tk_epoch_config(s->ep, &cfg), 0);
	cfg.tlb = &sh_tlb;
	cfg.tlb_ctx = s;
	if (reports) {
		cfg.changes = &sh_changes;
		cfg.changes_ctx = s;
	}
	assert_int_equal(tdp_pgtable_init(&s->pgt, &cfg), 0);
	s->live = true;
	tdp_tk_epoch_attach(s->ep, &s->pgt);
	assert_int_equal(tk_geo_cfg(&cfg, &s->g), 0);
	s->P = 1ull << cd->gshift;
	s->S1 = lsz(s, 1);
	s->lb = (s->g.leaf_mask & 4) ? 2 : 1;
	s->Sb = lsz(s, s->lb);
	s->ad = (cd->format == TDP_FORMAT_X86_EPT && (cfg.flags & TDP_CFG_X86_AD)) ||
		(cd->format == TDP_FORMAT_RISCV_G && (cfg.flags & TDP_CFG_RISCV_SVADU));
	/* the region: level-2 block + level-1 blocks, or four level-1 blocks */
	s->G = 4 * s->Sb;
	if (s->lb == 2) {
		s->R = 2 * s->Sb;
		s->hot[0] = s->G;
		s->hot[1] = s->G + s->Sb;
		s->nhot = 2;
	} else {
		s->R = 4 * s->S1;
		s->hot[0] = s->G;
		s->nhot = 1;
	}
	s->H = 16 * s->Sb;
	/* the reports' window: the largest region, fault_race's */
	if (reports) {
		s->chg.npages = (size_t)((2 * s->Sb + 4 * s->S1) / s->P);
		s->chg.cnt = calloc(s->chg.npages, sizeof(*s->chg.cnt));
		assert_non_null(s->chg.cnt);
	}
	assert_true(s->G + 8 * s->Sb <= 1ull << cd->ia);
	assert_true(64 * s->Sb <= 1ull << cd->oa);
	for (unsigned int i = 0; i <= HW_TID; i++) {
		struct th *t = &s->th[i];

		t->s = s;
		t->id = i;
		t->rng = s->seed ^ (0x1234567ull * (i + 1));
		for (int k = 0; k < 8; k++)
			rnd(&t->rng);
		tdp_memcache_init(&t->mc);
	}
}

/* After a failed check: let go of everything without looking. */
static void sh_release(struct sh *s)
{
	for (unsigned int i = 0; i <= HW_TID; i++) {
		free(s->th[i].log);
		s->th[i].log = NULL;
		free(s->th[i].rep_seq);
		free(s->th[i].remap_seq);
		free(s->th[i].ev);
		s->th[i].rep_seq = s->th[i].remap_seq = NULL;
		s->th[i].ev = NULL;
		bm_free(&s->th[i].dirty);
		bm_free(&s->th[i].remap);
		bm_free(&s->th[i].wset);
		bm_free(&s->th[i].ro);
	}
	if (s->ep) {
		tdp_tk_epoch_attach(s->ep, NULL); /* pending tables are dropped with the pool */
		tdp_tk_epoch_delete(s->ep);
		s->ep = NULL;
	}
	if (s->pool) {
		tdp_tk_pool_delete(s->pool);
		s->pool = NULL;
	}
	free(s->chg.cnt);
	s->chg.cnt = NULL;
	s->live = false;
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */

static void enter(struct th *t)
{
	if (serial)
		pthread_mutex_lock(&serial_lock);
	tdp_tk_epoch_enter(t->s->ep, t->id);
}

static void leave(struct th *t)
{
	tdp_tk_epoch_exit(t->s->ep, t->id);
	if (serial)
		pthread_mutex_unlock(&serial_lock);
	if (++t->calls % RECLAIM_EVERY == 0) {
		expect_call(0, "tdp_free_unlinked (the epoch reclaim)"); /* the freeze reported them */
		tdp_tk_epoch_reclaim(t->s->ep);
		expect_call(0, NULL);
	}
}

static const enum tdp_op op_reports[] = {
	[OP_MAP] = TDP_OP_MAP, [OP_FAULT] = TDP_OP_FAULT, [OP_PROTECT] = TDP_OP_PROTECT,
	[OP_SPLIT] = TDP_OP_SPLIT, [OP_YOUNG] = 0, [OP_DIRTY] = 0, /* harvests report nothing */
};

/*
 * The doubling array arr (*cap elements of elem bytes), with room for
 * element n: arr itself, or a larger copy (first elements to begin with);
 * NULL, arr kept, when out of memory.
 */
static void *room_for(void *arr, size_t n, size_t *cap, size_t elem, size_t first)
{
	size_t c;
	void *nv;

	if (n < *cap)
		return arr;
	c = *cap ? 2 * *cap : first;
	nv = realloc(arr, c * elem);
	if (nv)
		*cap = c;
	return nv;
}

static void logop(struct th *t, const struct op *o)
{
	struct op *v = room_for(t->log, t->nlog, &t->caplog, sizeof(*v), 256);

	if (!v) {
		terr(t, "out of memory for the log");
		return;
	}
	t->log = v;
	t->log[t->nlog++] = *o;
}

static long pages_needed(struct th *t, const struct op *o)
{
	const struct tdp_pgtable *p = &t->s->pgt;

	switch (o->kind) {
	case OP_MAP:
		return tdp_map_pages_needed(p, o->gpa, o->gpa + o->off, o->size, o->flags);
	case OP_FAULT:
		return tdp_map_fault_pages_needed(p);
	case OP_PROTECT:
		return tdp_protect_pages_needed(p, o->gpa, o->size);
	case OP_SPLIT:
		return tdp_split_pages_needed(p, o->gpa, o->size, o->level);
	default:
		return 0;
	}
}

/*
 * Run o as one libtdp call inside an epoch section, the cache topped up
 * outside it; repeat it on -TDP_EAGAIN, and with more pages on -TDP_ENOMEM.
 * Logs it and returns its final result. bitmap: for OP_DIRTY (bits
 * accumulate over the repeats: pages a partial call cleaned were reported).
 */
static int run_op(struct th *t, struct op *o, uint64_t *bitmap)
{
	struct tdp_pgtable *p = &t->s->pgt;
	long need = pages_needed(t, o);
	unsigned int tries;
	int rc = 0;

	if (need < 0) {
		terr(t, "%s pages_needed(0x%llx +0x%llx) = %ld", op_names[o->kind], ULL(o->gpa),
		     ULL(o->size), need);
		return (int)need;
	}
	o->young = false;
	for (tries = 0; tries < MAX_TRIES; tries++) {
		bool young = false;

		if (t->mc.nr < (size_t)need) {
			int trc = tdp_memcache_topup(p, &t->mc, (size_t)need);

			if (trc) {
				terr(t, "tdp_memcache_topup(%ld) = %d", need, trc);
				return trc;
			}
		}
		enter(t);
		expect_call(op_reports[o->kind], o->kind == OP_YOUNG ? "tdp_test_clear_young" :
						 o->kind == OP_DIRTY ? "tdp_collect_dirty" :
								       op_names[o->kind]);
		switch (o->kind) {
		case OP_MAP:
			rc = tdp_map(p, o->gpa, o->gpa + o->off, o->size, o->attr, o->flags, &t->mc);
			break;
		case OP_FAULT:
			rc = tdp_map_fault(p, o->gpa, o->rg, o->attr, o->flags, &t->mc, &o->res);
			break;
		case OP_PROTECT:
			rc = tdp_protect(p, o->gpa, o->size, o->clear, o->set, &t->mc);
			break;
		case OP_SPLIT:
			rc = tdp_split(p, o->gpa, o->size, o->level, &t->mc);
			break;
		case OP_YOUNG:
			rc = tdp_test_clear_young(p, o->gpa, o->size, &young);
			break;
		case OP_DIRTY:
			rc = tdp_collect_dirty(p, o->gpa, o->size, bitmap);
			break;
		}
		expect_call(0, NULL);
		leave(t);
		o->young |= young;
		if (rc == -TDP_EAGAIN) {
			t->eagain++;
			sched_yield();
			continue;
		}
		if (rc == -TDP_ENOMEM && need < MAX_NEED) {
			t->enomem++;
			need = 2 * need + 4;
			continue;
		}
		break;
	}
	o->rc = rc;
	logop(t, o);
	if (tries == MAX_TRIES)
		terr(t, "%s(0x%llx +0x%llx) still -TDP_EAGAIN after %u tries: a busy entry stays?",
		     op_names[o->kind], ULL(o->gpa), ULL(o->size), tries);
	return rc;
}

static void run_ok(struct th *t, struct op *o, uint64_t *bitmap)
{
	int rc = run_op(t, o, bitmap);

	if (rc)
		terr(t, "%s(0x%llx +0x%llx, off 0x%llx, attr 0x%x, clear 0x%x, set 0x%x, level %u, "
			"flags 0x%x) = %d",
		     op_names[o->kind], ULL(o->gpa), ULL(o->size), ULL(o->off), o->attr, o->clear,
		     o->set, o->level, o->flags, rc);
}

static void do_map(struct th *t, uint64_t gpa, uint64_t size, uint64_t off, tdp_attr_t attr,
		   uint32_t flags)
{
	struct op o = { .kind = OP_MAP, .gpa = gpa, .size = size, .off = off, .attr = attr,
			.flags = flags };

	run_ok(t, &o, NULL);
}

static void *thread_main(void *arg)
{
	struct th *t = arg;
	struct sh *s = t->s;

	/* start together */
	atomic_fetch_add(&s->ready, 1);
	while (atomic_load(&s->ready) < NT)
		sched_yield();
	t->body(t);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The hardware's part: A/D updates while the calls run (EPT, RISC-V)  */

/* Entry bits of the two A/D formats. */
static uint64_t hw_bit(const struct sh *s, char which)
{
	bool ept = s->pgt.cfg.format == TDP_FORMAT_X86_EPT;

	switch (which) {
	case 'A': return ept ? 1ull << 8 : 1ull << 6;
	case 'D': return ept ? 1ull << 9 : 1ull << 7;
	default: return ept ? 1ull << 1 : 1ull << 2; /* W */
	}
}

/*
 * Walk to the leaf of gpa as the page walker does (sequentially consistent
 * loads: a walk that starts after an invalidation began sees what the
 * caller changed before it); NULL where the walk ends at an entry that is
 * not present (a busy one included).
 */
static uint64_t *hw_walk(const struct sh *s, uint64_t gpa, uint64_t *pte)
{
	bool ept = s->pgt.cfg.format == TDP_FORMAT_X86_EPT;
	uint64_t *table = s->pgt.root;

	for (int l = (int)s->g.levels - 1; l >= 0; l--) {
		unsigned int bits = l == (int)s->g.levels - 1 ? s->g.root_bits : s->g.bits;
		uint64_t *ptep = table + ((gpa >> (s->g.page_shift + (unsigned int)l * s->g.bits)) &
					  ((1ull << bits) - 1));
		uint64_t e = __atomic_load_n(ptep, __ATOMIC_SEQ_CST), pa;

		if (ept ? !(e & 7) : !(e & 1))
			return NULL;
		if (l == 0 || (ept ? (e & (1ull << 7)) != 0 : (e & 0xe) != 0)) {
			*pte = e;
			return ptep;
		}
		pa = ept ? e & 0x000ffffffffff000ull : ((e >> 10) & ((1ull << 44) - 1)) << 12;
		table = tdp_tk_pool_va(s->pool, pa);
		if (!table)
			return NULL;
	}
	return NULL;
}

static void hw_log(struct th *t, size_t page, uint64_t seq)
{
	struct hwev *v = room_for(t->ev, t->nev, &t->capev, sizeof(*v), 4096);

	if (!v) {
		terr(t, "out of memory for the hardware log");
		return;
	}
	t->ev = v;
	t->ev[t->nev++] = (struct hwev){ .page = (uint32_t)page, .seq = (uint32_t)seq };
}

/*
 * Until the workers are done: accesses to random pages of the hot windows,
 * each inside an epoch section like a vCPU's walk: A set on any access, D
 * on a write where the leaf has W, each by a compare-and-swap against the
 * value walked (a hart with Svadu, or the EPT A/D assist, re-walks when the
 * entry changed). Every D set is logged with a sequence number taken
 * before the swap. The TLB callbacks wait for a walk in flight (hw_sync),
 * as an invalidation waits for the hardware's walks.
 */
static void *hw_main(void *arg)
{
	struct th *t = arg;
	struct sh *s = t->s;
	const uint64_t A = hw_bit(s, 'A'), D = hw_bit(s, 'D'), W = hw_bit(s, 'W');

	while (atomic_load(&s->ready) < NT)
		sched_yield();
	while (!atomic_load_explicit(&s->stop, memory_order_acquire) && !t->failed) {
		uint64_t w = s->hot[below(&t->rng, s->nhot)];
		uint64_t gpa = w + below(&t->rng, 4 * s->S1 / s->P) * s->P, e, bits, seq;
		bool write = below(&t->rng, 2);
		uint64_t *ptep;

		enter(t);
		atomic_fetch_add(&s->walk_seq, 1); /* odd: a walk (and its A/D write) in flight */
		ptep = hw_walk(s, gpa, &e);
		bits = A | (write && (e & W) ? D : 0);
		if (ptep && (e | bits) != e) {
			seq = atomic_fetch_add(&s->seq, 1) + 1;
			if (__atomic_compare_exchange_n(ptep, &e, e | bits, false, __ATOMIC_SEQ_CST,
							__ATOMIC_RELAXED) &&
			    (bits & D))
				hw_log(t, pg(s, gpa), seq);
		}
		atomic_fetch_add(&s->walk_seq, 1);
		leave(t);
		t->hw_tries++;
	}
	return NULL;
}

/* One round: every worker runs body for nops operations; then their failures become the test's. */
static void run_threads(struct sh *s, void (*body)(struct th *t), unsigned int nops)
{
	struct th *hw = &s->th[HW_TID];

	atomic_store(&s->ready, 0);
	atomic_store(&s->stop, false);
	hw->nev = 0;
	if (s->hw_on)
		assert_int_equal(pthread_create(&hw->pt, NULL, hw_main, hw), 0);
	for (unsigned int i = 0; i < NT; i++) {
		struct th *t = &s->th[i];

		t->body = body;
		t->nops = nops;
		t->nlog = 0;
		assert_int_equal(pthread_create(&t->pt, NULL, thread_main, t), 0);
	}
	for (unsigned int i = 0; i < NT; i++)
		assert_int_equal(pthread_join(s->th[i].pt, NULL), 0);
	atomic_store_explicit(&s->stop, true, memory_order_release);
	if (s->hw_on)
		assert_int_equal(pthread_join(hw->pt, NULL), 0);
	for (unsigned int i = 0; i <= HW_TID; i++)
		if (s->th[i].failed)
			fail_msg("%s", s->th[i].err);
	if (atomic_load(&s->chg.bad))
		fail_msg("%s", s->chg.err);
	s->rounds++;
}


/* ------------------------------------------------------------------ */
/* The table through the reference walker                              */

struct lf {
	uint64_t gpa, size, off, pte, pte_pa;
	tdp_attr_t attr;
	unsigned int level;
};

struct lfs {
	struct lf *v;
	size_t n, cap;
	uint64_t *tabs; /* non-root table pages the walks went through */
	size_t ntabs, captabs;
	uint64_t prev[TDP_MAX_LEVELS + 1];
	unsigned int prev_nr;
	enum tdp_format format;
	size_t nbad;
	char bad[300];
};

static int lf_add(const struct tdp_tk_xlate *x, void *arg)
{
	struct lfs *L = arg;
	struct lf *v;

	for (unsigned int i = 1; i < x->nr_tables; i++) {
		if (i < L->prev_nr && L->prev[i] == x->tables[i])
			continue;
		uint64_t *tabs = room_for(L->tabs, L->ntabs, &L->captabs, sizeof(*tabs), 1024);

		if (!tabs)
			return -TDP_ENOMEM;
		L->tabs = tabs;
		L->tabs[L->ntabs++] = x->tables[i];
	}
	memcpy(L->prev, x->tables, x->nr_tables * sizeof(x->tables[0]));
	L->prev_nr = x->nr_tables;
	if (x->result != TDP_TK_OK) {
		/* a busy entry left behind, or anything else that is neither leaf nor hole */
		if (L->nbad++ == 0)
			snprintf(L->bad, sizeof(L->bad), "%s at [0x%llx +0x%llx), level %d, pte 0x%llx: %s",
				 tdp_tk_result_name(x->result), ULL(x->span_base), ULL(x->span_size),
				 x->level, ULL(x->pte), x->why);
		return 0;
	}
	v = room_for(L->v, L->n, &L->cap, sizeof(*v), 1024);
	if (!v)
		return -TDP_ENOMEM;
	L->v = v;
	/* the walks start at span_base (the iteration starts at 0 and resumes at each span's end) */
	L->v[L->n++] = (struct lf){
		.gpa = x->span_base, .size = x->span_size, .off = x->hpa - x->span_base,
		.pte = x->pte, .pte_pa = x->pte_pa, .attr = x->attr,
		.level = tk_neutral_level(L->format, x->level),
	};
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void lfs_free(struct lfs *L)
{
	free(L->v);
	free(L->tabs);
	memset(L, 0, sizeof(*L));
}

/* Every leaf of the whole input range; none but leaves and holes; tables counted. */
static void leaves_take(struct sh *s, struct lfs *L)
{
	struct tdp_tk_ref ref;
	struct tdp_tk_mem mem = tdp_tk_pool_mem(s->pool);
	size_t k = 0;
	int rc;

	memset(L, 0, sizeof(*L));
	L->format = s->pgt.cfg.format;
	assert_int_equal(tdp_tk_ref_for(&ref, &s->pgt, &mem), 0);
	rc = tdp_tk_ref_leaves(&ref, 0, 1ull << s->pgt.cfg.ia_bits, lf_add, L, NULL);
	if (rc)
		fail_msg("%s: tdp_tk_ref_leaves = %d", s->sc->name, rc);
	if (L->nbad)
		fail_msg("%s: %zu entries are neither leaves nor holes, first: %s", s->sc->name, L->nbad,
			 L->bad);
	if (L->ntabs)
		qsort(L->tabs, L->ntabs, sizeof(*L->tabs), cmp_u64);
	for (size_t i = 0; i < L->ntabs; i++)
		if (k == 0 || L->tabs[k - 1] != L->tabs[i])
			L->tabs[k++] = L->tabs[i];
	L->ntabs = k;
	for (size_t i = 0; i < L->n; i++) {
		const struct lf *f = &L->v[i];

		if (f->size != lsz(s, f->level) || (f->gpa & (f->size - 1)) || (f->off & (f->size - 1)))
			fail_msg("%s: leaf [0x%llx +0x%llx) at level %u, offset 0x%llx: size or alignment "
				 "wrong",
				 s->sc->name, ULL(f->gpa), ULL(f->size), f->level, ULL(f->off));
	}
}

/* The leaf containing gpa, or NULL. */
static const struct lf *leaf_at(const struct lfs *L, uint64_t gpa)
{
	size_t lo = 0, hi = L->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (L->v[mid].gpa + L->v[mid].size <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < L->n && L->v[lo].gpa <= gpa ? &L->v[lo] : NULL;
}

/*
 * No D flag the hardware set is lost: each logged D is still in the leaf
 * of its page, or a tdp_collect_dirty that returned after it (sequence
 * numbers) reported the page, or a map that returned after it replaced
 * the leaf.
 */
static void check_hw_dirty(struct sh *s, const struct lfs *L)
{
	const struct th *hw = &s->th[HW_TID];
	size_t pages = (size_t)(s->R / s->P);
	uint32_t *rep = calloc(pages, sizeof(*rep)), *rmp = calloc(pages, sizeof(*rmp));

	assert_non_null(rep);
	assert_non_null(rmp);
	for (unsigned int t = 0; t < NT; t++) {
		for (size_t k = 0; k < pages; k++) {
			if (s->th[t].rep_seq && s->th[t].rep_seq[k] > rep[k])
				rep[k] = s->th[t].rep_seq[k];
			if (s->th[t].remap_seq && s->th[t].remap_seq[k] > rmp[k])
				rmp[k] = s->th[t].remap_seq[k];
		}
	}
	for (size_t i = 0; i < hw->nev; i++) {
		const struct hwev *e = &hw->ev[i];
		const struct lf *f = leaf_at(L, s->G + (uint64_t)e->page * s->P);

		if (f && (f->pte & hw_bit(s, 'D')))
			continue;
		if (rep[e->page] > e->seq || rmp[e->page] > e->seq)
			continue;
		fail_msg("%s: the hardware set D for page 0x%llx (event %u), but its leaf [0x%llx "
			 "+0x%llx) is clean and no tdp_collect_dirty or map after it reported or "
			 "replaced it (last report %u, last map %u): a dirty flag was lost",
			 s->sc->name, ULL(s->G + (uint64_t)e->page * s->P), e->seq, ULL(f ? f->gpa : 0),
			 ULL(f ? f->size : 0), rep[e->page], rmp[e->page]);
	}
	free(rep);
	free(rmp);
}

/* Index of the first leaf ending after gpa. */
static size_t leaf_from(const struct lfs *L, uint64_t gpa)
{
	size_t lo = 0, hi = L->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (L->v[mid].gpa + L->v[mid].size <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Every leaf inside the region; with `full`, the region translated without a hole. */
static void check_in_region(const struct sh *s, const struct lfs *L, bool full)
{
	uint64_t at = s->G;

	for (size_t i = 0; i < L->n; i++) {
		const struct lf *f = &L->v[i];

		if (f->gpa < s->G || f->gpa + f->size > s->G + s->R)
			fail_msg("%s: leaf [0x%llx +0x%llx) outside the region [0x%llx +0x%llx): no call "
				 "mapped it",
				 s->sc->name, ULL(f->gpa), ULL(f->size), ULL(s->G), ULL(s->R));
		if (full && f->gpa != at)
			fail_msg("%s: [0x%llx, 0x%llx) not translated, but every page of the region was "
				 "mapped and nothing unmapped it",
				 s->sc->name, ULL(at), ULL(f->gpa));
		at = f->gpa + f->size;
	}
	if (full && at != s->G + s->R)
		fail_msg("%s: [0x%llx, 0x%llx) not translated, but every page of the region was mapped",
			 s->sc->name, ULL(at), ULL(s->G + s->R));
}

/*
 * Every thread is out: no wrong report so far, and the reports add up to
 * the table the walker reads: each page of the window covered by exactly
 * one leaf added and not removed where it translates, by none elsewhere.
 */
static void check_reports(struct sh *s, const struct lfs *L)
{
	struct chg *k = &s->chg;
	size_t j = 0;

	if (!k->cnt)
		return; /* a table without change reports */
	if (atomic_load(&k->bad))
		fail_msg("%s", k->err);
	for (size_t i = 0; i < L->n; i++)
		if (L->v[i].gpa < s->G || L->v[i].gpa + L->v[i].size > s->G + k->npages * s->P)
			fail_msg("%s: leaf [0x%llx +0x%llx) outside the reports' window: never reported",
				 s->sc->name, ULL(L->v[i].gpa), ULL(L->v[i].size));
	for (size_t i = 0; i < k->npages; i++) {
		const uint64_t gpa = s->G + i * s->P;
		const struct lf *f;
		int want, got = atomic_load_explicit(&k->cnt[i], memory_order_relaxed);

		while (j < L->n && L->v[j].gpa + L->v[j].size <= gpa)
			j++;
		f = j < L->n && L->v[j].gpa <= gpa ? &L->v[j] : NULL;
		want = f != NULL;
		if (got == want)
			continue;
		fail_msg("%s: page 0x%llx is %s (leaf [0x%llx +0x%llx) level %u), but the reports "
			 "add up to %d leaves covering it: %s",
			 s->sc->name, ULL(gpa), f ? "translated" : "not translated", ULL(f ? f->gpa : 0),
			 ULL(f ? f->size : 0), f ? f->level : 0, got,
			 got > want ? "a leaf added and never reported removed (frozen or replaced "
				      "unreported, or added twice)" :
				      "a leaf reported removed that was never added, or not reported "
				      "added");
	}
}

/* The splits of a test (tdp_split, or protects' edge blocks) were reported as reshapes. */
static void check_reshaped(const struct sh *s)
{
	if (s->chg.cnt && atomic_load(&s->chg.reshapes) == 0)
		fail_msg("%s: blocks were split, but no report had reshape set", s->sc->name);
}

/*
 * No leak: after a reclaim with every thread outside, nothing is pending and
 * the pool holds exactly the root, the tables the walker reached and the
 * pages in the memory caches.
 */
static void check_pool(struct sh *s, const struct lfs *L)
{
	struct tdp_tk_epoch_stats es;
	struct tdp_tk_pool_stats ps;
	size_t cached = 0;

	expect_call(0, "tdp_free_unlinked (the epoch reclaim)");
	tdp_tk_epoch_reclaim(s->ep);
	expect_call(0, NULL);
	tdp_tk_epoch_stats(s->ep, &es);
	if (es.pending)
		fail_msg("%s: %zu deferred tables still pending after a reclaim with every thread out",
			 s->sc->name, es.pending);
	for (unsigned int i = 0; i <= HW_TID; i++)
		cached += s->th[i].mc.nr;
	tdp_tk_pool_stats(s->pool, &ps);
	if (ps.errors)
		fail_msg("%s: pool errors: %s", s->sc->name, tdp_tk_pool_first_error(s->pool));
	if (ps.out_blocks != 1 + L->ntabs + cached)
		fail_msg("%s: the pool has %zu blocks out, but the root, %zu reachable tables and %zu "
			 "cached pages make %zu: %s",
			 s->sc->name, ps.out_blocks, L->ntabs, cached, 1 + L->ntabs + cached,
			 ps.out_blocks > 1 + L->ntabs + cached ? "tables leaked" :
								  "tables freed twice or in use");
}

/* Between rounds, exclusively: the region goes, by zap or unmap; then nothing is left. */
static void reset_region(struct sh *s)
{
	struct lfs L;
	int rc;

	if (s->rounds & 1) {
		struct tdp_zap_result zr;

		expect_call(TDP_OP_ZAP, "tdp_zap");
		rc = tdp_zap(&s->pgt, s->G, s->R, 0, &zr);
	} else {
		expect_call(TDP_OP_UNMAP, "tdp_unmap");
		rc = tdp_unmap(&s->pgt, s->G, s->R, NULL);
	}
	expect_call(0, NULL);
	assert_int_equal(rc, 0);
	leaves_take(s, &L);
	if (L.n)
		fail_msg("%s: leaf [0x%llx +0x%llx) after the region was %s", s->sc->name,
			 ULL(L.v[0].gpa), ULL(L.v[0].size), (s->rounds & 1) ? "zapped" : "unmapped");
	check_reports(s, &L);
	check_pool(s, &L);
	lfs_free(&L);
}

/* The end of every test: the drain. */
static void sh_fini(struct sh *s, const char *test)
{
	struct tdp_tk_pool_stats ps;
	struct tdp_tk_epoch_stats es;
	struct lfs L;

	leaves_take(s, &L);
	check_reports(s, &L);
	check_pool(s, &L);
	lfs_free(&L);
	for (unsigned int i = 0; i <= HW_TID; i++) {
		s->reads += s->th[i].reads;
		s->eagain += s->th[i].eagain;
		s->enomem += s->th[i].enomem;
		s->calls += s->th[i].calls;
		tdp_memcache_drain(&s->pgt, &s->th[i].mc);
	}
	expect_call(TDP_OP_DESTROY, "tdp_pgtable_destroy");
	assert_int_equal(tdp_pgtable_destroy(&s->pgt), 0);
	expect_call(0, NULL);
	s->live = false;
	/* destroy reported every leaf left removed: nothing covers any page now */
	memset(&L, 0, sizeof(L));
	check_reports(s, &L);
	tdp_tk_pool_stats(s->pool, &ps);
	if (ps.errors)
		fail_msg("%s: pool errors: %s", s->sc->name, tdp_tk_pool_first_error(s->pool));
	if (ps.out_blocks)
		fail_msg("%s: %zu blocks (%zu bytes) still out after destroy", s->sc->name,
			 ps.out_blocks, ps.out_bytes);
	tdp_tk_epoch_stats(s->ep, &es);
	print_message("    %s[%s]: %zu calls (and %zu lookups/walks) in %zu rounds, %zu -TDP_EAGAIN, %zu -TDP_ENOMEM, "
		      "%zu tables deferred, %zu flush_range, %zu hardware accesses, %zu reports "
		      "(%zu reshape)\n",
		      test, s->sc->name, s->calls - s->th[HW_TID].calls - s->reads, s->reads, s->rounds,
		      s->eagain,
		      s->enomem, es.deferred, (size_t)atomic_load(&s->flush_ranges),
		      s->th[HW_TID].hw_tries, (size_t)atomic_load(&s->chg.reports),
		      (size_t)atomic_load(&s->chg.reshapes));
	sh_release(s);
}

/* ------------------------------------------------------------------ */
/* Random ranges                                                       */

/* A page-aligned range of 1..maxp pages inside [lo, hi). */
static void pick_in(struct th *t, uint64_t lo, uint64_t hi, uint64_t maxp, uint64_t *gpa,
		    uint64_t *size)
{
	uint64_t P = t->s->P, pages = (hi - lo) / P, n = 1 + below(&t->rng, maxp);
	uint64_t first = below(&t->rng, pages);

	if (n > pages - first)
		n = pages - first;
	*gpa = lo + first * P;
	*size = n * P;
}

/*
 * A range for the protect and split tests: in a hot window (few pages, a
 * level-1 block, up to two), or with `whole`, sometimes the whole region.
 */
/*
 * Zones of each hot window, so that the final W of a page can be checked
 * exactly where only one kind of change reaches it: the first level-1 block
 * only loses W (protect clear), the second only gets it (protect set,
 * read-write maps), the last two get anything.
 */
enum zone { Z_CLEAR, Z_SET, Z_MIXED };

/* A range in a zone of a hot window: a level-1 block (two in Z_MIXED), up to all of it, or a few pages. */
static void pick_zone(struct th *t, enum zone z, uint64_t *gpa, uint64_t *size)
{
	struct sh *s = t->s;
	uint64_t w = s->hot[below(&t->rng, s->nhot)], r = below(&t->rng, 8);
	uint64_t lo = w + (z == Z_CLEAR ? 0 : z == Z_SET ? s->S1 : 2 * s->S1);
	uint64_t hi = z == Z_MIXED ? w + 4 * s->S1 : lo + s->S1;

	if (r == 0) {
		*gpa = lo + (z == Z_MIXED ? below(&t->rng, 2) * s->S1 : 0);
		*size = z == Z_MIXED && below(&t->rng, 2) ? hi - lo : s->S1;
		if (*gpa + *size > hi)
			*size = s->S1;
	} else if (r == 1) {
		pick_in(t, lo, hi, (hi - lo) / s->P, gpa, size);
	} else {
		pick_in(t, lo, hi, 16, gpa, size);
	}
}

static void pick(struct th *t, bool whole, uint64_t *gpa, uint64_t *size)
{
	struct sh *s = t->s;
	uint64_t w = s->hot[below(&t->rng, s->nhot)], r = below(&t->rng, 16);

	if (r == 0 && whole) {
		*gpa = s->G;
		*size = s->R;
	} else if (r <= 1) {
		*gpa = w + below(&t->rng, 4) * s->S1;
		*size = s->S1;
	} else if (r <= 3) {
		pick_in(t, w, w + 4 * s->S1, 2 * s->S1 / s->P, gpa, size);
	} else {
		pick_in(t, w, w + 4 * s->S1, 16, gpa, size);
	}
}

/* ------------------------------------------------------------------ */
/* Readers: tdp_lookup and tdp_walk while the table changes            */

struct walk_ctx {
	struct th *t;
	uint64_t lo, hi, next;
	bool strict; /* no hole may show */
};

static int walk_leaf(const struct tdp_entry *e, unsigned int visit, void *arg)
{
	struct walk_ctx *c = arg;
	struct th *t = c->t;
	struct sh *s = t->s;

	(void)visit;
	if (e->size != lsz(s, e->level) || (e->addr & (e->size - 1)) || (e->pa & (e->size - 1))) {
		terr(t, "tdp_walk(0x%llx, 0x%llx) visited leaf [0x%llx +0x%llx) level %u -> 0x%llx: "
			"not a leaf of its level",
		     ULL(c->lo), ULL(c->hi), ULL(e->addr), ULL(e->size), e->level, ULL(e->pa));
		return 1;
	}
	if (!s->seen_ok(s, e->addr < c->lo ? c->lo : e->addr, e->pa - e->addr, e->attr)) {
		terr(t, "tdp_walk(0x%llx, 0x%llx) visited leaf [0x%llx +0x%llx) -> 0x%llx attr 0x%x, "
			"which no call mapped",
		     ULL(c->lo), ULL(c->hi), ULL(e->addr), ULL(e->size), ULL(e->pa), e->attr);
		return 1;
	}
	if (e->addr < c->next && c->next > c->lo) {
		terr(t, "tdp_walk(0x%llx, 0x%llx) visited leaf [0x%llx +0x%llx) after one ending at "
			"0x%llx: a page visited twice, or out of address order",
		     ULL(c->lo), ULL(c->hi), ULL(e->addr), ULL(e->size), ULL(c->next));
		return 1;
	}
	if (c->strict && e->addr > c->next) {
		terr(t, "tdp_walk(0x%llx, 0x%llx) saw a hole at [0x%llx, 0x%llx), though every page "
			"stays mapped and the format needs no break-before-make",
		     ULL(c->lo), ULL(c->hi), ULL(c->next), ULL(e->addr));
		return 1;
	}
	c->next = e->addr + e->size;
	return 0;
}

/*
 * Now and then, a reader's call inside an epoch section: tdp_lookup of a
 * random byte of the region, or tdp_walk of its leaves over a random
 * range. What it sees must be something a call made (s->seen_ok); in a
 * dense region on a format without break-before-make, never a hole.
 */
static void t_read(struct th *t)
{
	struct sh *s = t->s;
	/*
	 * With change reports, a table a shared call unlinks is frozen (each
	 * entry emptied, lib/core/write.h report_subtree) while a reader may
	 * still walk it: it meets holes there, even on formats without
	 * break-before-make. walk_race checks the readers without reports.
	 */
	bool strict = s->dense && !tk_format_bbm(s->pgt.cfg.format) && !s->pgt.cfg.changes;
	int rc;

	if (!s->seen_ok || below(&t->rng, 8))
		return;
	t->reads++;
	if (below(&t->rng, 2)) {
		uint64_t gpa = s->G + below(&t->rng, s->R);
		struct tdp_lookup_result res;

		enter(t);
		rc = tdp_lookup(&s->pgt, gpa, &res);
		leave(t);
		if (rc == -TDP_ENOENT && !strict)
			return;
		if (rc)
			terr(t, "tdp_lookup(0x%llx) = %d%s", ULL(gpa), rc,
			     rc == -TDP_ENOENT ? " while every page stays mapped" : "");
		else if (res.size != lsz(s, res.level) || ((res.hpa - gpa) & (s->P - 1)) ||
			 !s->seen_ok(s, gpa, res.hpa - gpa, res.attr))
			terr(t, "tdp_lookup(0x%llx): 0x%llx, level %u, size 0x%llx, attr 0x%x: no call "
				"mapped that",
			     ULL(gpa), ULL(res.hpa), res.level, ULL(res.size), res.attr);
	} else {
		struct walk_ctx c = { .t = t, .strict = strict };
		uint64_t gpa, size;

		pick_in(t, s->G, s->G + s->R, 512, &gpa, &size);
		c.lo = c.next = gpa;
		c.hi = gpa + size;
		enter(t);
		rc = tdp_walk(&s->pgt, gpa, size, TDP_WALK_LEAF, walk_leaf, &c);
		leave(t);
		if (rc < 0)
			terr(t, "tdp_walk(0x%llx +0x%llx) = %d", ULL(gpa), ULL(size), rc);
		else if (rc == 0 && strict && c.next < c.hi)
			terr(t, "tdp_walk(0x%llx, 0x%llx) saw a hole at [0x%llx, 0x%llx), though every "
				"page stays mapped and the format needs no break-before-make",
			     ULL(c.lo), ULL(c.hi), ULL(c.next), ULL(c.hi));
	}
}

/* The protect and split tests: the region's one target, read-write or read-only. */
static bool seen_same_target(const struct sh *s, uint64_t gpa, uint64_t off, tdp_attr_t attr)
{
	(void)gpa;
	return off == s->H - s->G && (attr == A_RW || attr == A_RO);
}

/* split_only: exactly what was there. */
static bool seen_split_only(const struct sh *s, uint64_t gpa, uint64_t off, tdp_attr_t attr)
{
	(void)gpa;
	return off == s->H - s->G && attr == A_RW;
}

/* ------------------------------------------------------------------ */
/* fault_race                                                          */

struct fault_setup {
	struct tdp_fault_region a;      /* the same target for every thread */
	struct tdp_fault_region b[NT];  /* one target per thread, same guest range */
};

static struct fault_setup fsetup[NCFG]; /* read-only while the threads run */

static bool seen_fault(const struct sh *s, uint64_t gpa, uint64_t off, tdp_attr_t attr)
{
	const struct fault_setup *fs = &fsetup[s->ci];

	if (attr != A_RW)
		return false;
	if (gpa < fs->a.gpa + fs->a.size)
		return off == fs->a.hpa - fs->a.gpa;
	for (unsigned int t = 0; t < NT; t++)
		if (off == fs->b[t].hpa - fs->b[t].gpa)
			return true;
	return false;
}

static void fault_body(struct th *t)
{
	struct sh *s = t->s;
	const struct fault_setup *fs = &fsetup[s->ci];

	for (unsigned int i = 0; i < t->nops && !t->failed; i++) {
		struct op o = { .kind = OP_FAULT, .attr = A_RW };
		uint64_t r = below(&t->rng, 8), gpa;

		o.rg = below(&t->rng, 2) ? &fs->a : &fs->b[t->id];
		/* half of them near the start of a level-2 block of the region, where it gets crowded */
		if (o.rg == &fs->a && below(&t->rng, 2))
			gpa = o.rg->gpa + below(&t->rng, 2) * s->Sb +
			      below(&t->rng, (s->lb == 2 ? 4 * s->S1 : s->S1 / 4) / s->P) * s->P;
		else
			gpa = o.rg->gpa + below(&t->rng, o.rg->size / s->P) * s->P;
		o.gpa = gpa;
		o.off = o.rg->hpa - o.rg->gpa;
		o.level = s->g.levels - 1;
		if (r < 4)
			o.level = 0;
		else if (r < 7)
			o.level = 1;
		o.flags = o.level < s->g.levels - 1 ? TDP_MAP_MAX_LEVEL(o.level) : 0;
		o.rc = run_op(t, &o, NULL);
		if (o.rc != 0 && o.rc != -TDP_EEXIST)
			terr(t, "tdp_map_fault(0x%llx, cap %u) = %d", ULL(gpa), o.level, o.rc);
		t_read(t);
	}
}

static int cmp_res(const void *a, const void *b)
{
	const struct op *x = *(const struct op *const *)a, *y = *(const struct op *const *)b;

	return x->res.gpa < y->res.gpa ? -1 : x->res.gpa > y->res.gpa;
}

static void fault_check(struct sh *s)
{
	const struct fault_setup *fs = &fsetup[s->ci];
	struct lfs L;
	const struct op **ok;
	size_t nok = 0, total = 0;

	leaves_take(s, &L);
	check_in_region(s, &L, false);
	for (unsigned int i = 0; i < NT; i++)
		total += s->th[i].nlog;
	ok = calloc(total + 1, sizeof(*ok));
	assert_non_null(ok);
	for (unsigned int i = 0; i < NT; i++) {
		for (size_t k = 0; k < s->th[i].nlog; k++) {
			const struct op *o = &s->th[i].log[k];
			const struct tdp_fault_result *r = &o->res;
			const struct lf *f;

			if (r->size != lsz(s, r->level) || (r->gpa & (r->size - 1)) || r->gpa > o->gpa ||
			    o->gpa - r->gpa >= r->size)
				fail_msg("%s: thread %u: tdp_map_fault(0x%llx) = %d with res [0x%llx +0x%llx) "
					 "level %u: not a leaf around the address",
					 s->sc->name, i, ULL(o->gpa), o->rc, ULL(r->gpa), ULL(r->size),
					 r->level);
			f = leaf_at(&L, o->gpa);
			if (!f)
				fail_msg("%s: thread %u: tdp_map_fault(0x%llx) = %d, but the address is not "
					 "translated afterwards",
					 s->sc->name, i, ULL(o->gpa), o->rc);
			if (f->gpa != r->gpa || f->size != r->size || f->level != r->level)
				fail_msg("%s: thread %u: tdp_map_fault(0x%llx) = %d reported the leaf "
					 "[0x%llx +0x%llx) level %u, the walker finds [0x%llx +0x%llx) "
					 "level %u (nothing replaces leaves in this test)",
					 s->sc->name, i, ULL(o->gpa), o->rc, ULL(r->gpa), ULL(r->size),
					 r->level, ULL(f->gpa), ULL(f->size), f->level);
			if (o->rc != 0)
				continue;
			if (r->level > o->level || r->gpa < o->rg->gpa ||
			    r->gpa + r->size > o->rg->gpa + o->rg->size)
				fail_msg("%s: thread %u: tdp_map_fault(0x%llx, cap %u) mapped [0x%llx +0x%llx) "
					 "level %u, outside its cap or region",
					 s->sc->name, i, ULL(o->gpa), o->level, ULL(r->gpa), ULL(r->size),
					 r->level);
			if (f->off != o->off || f->attr != A_RW)
				fail_msg("%s: thread %u: the leaf its tdp_map_fault(0x%llx) mapped at "
					 "[0x%llx +0x%llx) has offset 0x%llx and attributes 0x%x, the call's "
					 "are 0x%llx and 0x%x",
					 s->sc->name, i, ULL(o->gpa), ULL(f->gpa), ULL(f->size), ULL(f->off),
					 f->attr, ULL(o->off), A_RW);
			ok[nok++] = o;
		}
	}
	/* each leaf is the work of exactly one successful fault */
	if (nok)
		qsort(ok, nok, sizeof(*ok), cmp_res);
	for (size_t k = 1; k < nok; k++)
		if (ok[k]->res.gpa == ok[k - 1]->res.gpa)
			fail_msg("%s: two tdp_map_fault calls (at 0x%llx and 0x%llx) both returned 0 for "
				 "the leaf [0x%llx +0x%llx): the second must see -TDP_EEXIST",
				 s->sc->name, ULL(ok[k - 1]->gpa), ULL(ok[k]->gpa), ULL(ok[k]->res.gpa),
				 ULL(ok[k]->res.size));
	if (nok != L.n) {
		for (size_t i = 0, k = 0; i < L.n; i++) {
			while (k < nok && ok[k]->res.gpa < L.v[i].gpa)
				k++;
			if (k == nok || ok[k]->res.gpa != L.v[i].gpa)
				fail_msg("%s: leaf [0x%llx +0x%llx) (offset 0x%llx) is no fault's result",
					 s->sc->name, ULL(L.v[i].gpa), ULL(L.v[i].size), ULL(L.v[i].off));
		}
		fail_msg("%s: %zu leaves, %zu successful faults", s->sc->name, L.n, nok);
	}
	/* offsets: region a has one target, region b one per thread */
	for (size_t i = 0; i < L.n; i++) {
		const struct lf *f = &L.v[i];
		bool in_a = f->gpa < fs->a.gpa + fs->a.size, good = false;

		if (in_a)
			good = f->off == fs->a.hpa - fs->a.gpa;
		for (unsigned int t = 0; !in_a && t < NT; t++)
			good |= f->off == fs->b[t].hpa - fs->b[t].gpa;
		if (!good)
			fail_msg("%s: leaf [0x%llx +0x%llx) has offset 0x%llx, no target of its region",
				 s->sc->name, ULL(f->gpa), ULL(f->size), ULL(f->off));
	}
	free(ok);
	check_reports(s, &L);
	check_pool(s, &L);
	lfs_free(&L);
}

static void t_fault_race(struct sh *s)
{
	struct fault_setup *fs = &fsetup[s->ci];
	unsigned int rounds = 24;

	/* [G, G + 2 Sb): one target; [G + 2 Sb, + 4 S1): thread t's own, odd ones a page off */
	fs->a = (struct tdp_fault_region){ .gpa = s->G, .size = 2 * s->Sb, .hpa = s->H };
	for (unsigned int t = 0; t < NT; t++)
		fs->b[t] = (struct tdp_fault_region){
			.gpa = s->G + 2 * s->Sb, .size = 4 * s->S1,
			.hpa = (24 + 4 * t) * s->Sb + ((t & 1) ? s->P : 0),
		};
	s->R = 2 * s->Sb + 4 * s->S1;
	s->seen_ok = seen_fault;
	for (unsigned int r = 0; r < rounds; r++) {
		run_threads(s, fault_body, scaled(1000));
		fault_check(s);
		reset_region(s);
	}
}

/* ------------------------------------------------------------------ */
/* map_race                                                            */

static uint64_t map_off(const struct sh *s, unsigned int t)
{
	return (16 + 4 * t) * s->Sb + (t == NT - 1 ? s->P : 0) - s->G;
}

static tdp_attr_t map_attr(unsigned int t)
{
	return ((t & 1) ? A_RO : A_RW) | TDP_SW(t);
}

static bool seen_map(const struct sh *s, uint64_t gpa, uint64_t off, tdp_attr_t attr)
{
	(void)gpa;
	for (unsigned int t = 0; t < NT; t++)
		if (off == map_off(s, t))
			return attr == map_attr(t);
	return false;
}

static void map_body(struct th *t)
{
	struct sh *s = t->s;

	for (unsigned int i = 0; i < t->nops && !t->failed; i++) {
		uint64_t r = below(&t->rng, 10), gpa, size;

		if (r < 4) {
			gpa = s->G + below(&t->rng, 4) * s->S1;
			size = s->S1;
		} else if (r < 5) {
			gpa = s->G + below(&t->rng, 3) * s->S1;
			size = 2 * s->S1;
		} else if (r < 9) {
			pick_in(t, s->G, s->G + s->R, 1, &gpa, &size);
		} else {
			pick_in(t, s->G, s->G + s->R, 64, &gpa, &size);
		}
		do_map(t, gpa, size, map_off(s, t->id), map_attr(t->id), 0);
		t_read(t);
	}
}

static void map_check(struct sh *s)
{
	struct bm cov[NT], any, tr;
	struct lfs L;
	size_t pages = (size_t)(s->R / s->P);

	leaves_take(s, &L);
	check_in_region(s, &L, false);
	bm_init(&any, pages);
	bm_init(&tr, pages);
	for (unsigned int t = 0; t < NT; t++) {
		bm_init(&cov[t], pages);
		for (size_t k = 0; k < s->th[t].nlog; k++)
			bm_set_range(&cov[t], pg(s, s->th[t].log[k].gpa),
				     (size_t)(s->th[t].log[k].size / s->P));
		bm_or(&any, &cov[t]);
	}
	for (size_t i = 0; i < L.n; i++) {
		const struct lf *f = &L.v[i];
		unsigned int t;
		bool one_call = false;

		for (t = 0; t < NT; t++)
			if (f->off == map_off(s, t))
				break;
		if (t == NT)
			fail_msg("%s: leaf [0x%llx +0x%llx) has offset 0x%llx: no thread's target",
				 s->sc->name, ULL(f->gpa), ULL(f->size), ULL(f->off));
		if (f->attr != map_attr(t))
			fail_msg("%s: leaf [0x%llx +0x%llx) has thread %u's offset and attributes 0x%x, "
				 "the thread's are 0x%x",
				 s->sc->name, ULL(f->gpa), ULL(f->size), t, f->attr, map_attr(t));
		for (size_t k = 0; k < s->th[t].nlog && !one_call; k++) {
			const struct op *o = &s->th[t].log[k];

			one_call = o->gpa <= f->gpa && f->gpa + f->size <= o->gpa + o->size;
		}
		if (!one_call)
			fail_msg("%s: leaf [0x%llx +0x%llx) level %u with thread %u's target lies in none "
				 "of its calls",
				 s->sc->name, ULL(f->gpa), ULL(f->size), f->level, t);
		bm_set_range(&tr, pg(s, f->gpa), (size_t)(f->size / s->P));
	}
	for (size_t i = 0; i < pages; i++)
		if (bm_get(&any, i) && !bm_get(&tr, i))
			fail_msg("%s: page 0x%llx was mapped and nothing unmapped it, but it is not "
				 "translated",
				 s->sc->name, ULL(s->G + i * s->P));
	for (unsigned int t = 0; t < NT; t++)
		bm_free(&cov[t]);
	bm_free(&any);
	bm_free(&tr);
	check_reports(s, &L);
	check_pool(s, &L);
	lfs_free(&L);
}

static void t_map_race(struct sh *s)
{
	struct tdp_tk_epoch_stats es;

	s->seen_ok = seen_map;
	for (unsigned int r = 0; r < 12; r++) {
		run_threads(s, map_body, scaled(1500));
		map_check(s);
		reset_region(s);
	}
	tdp_tk_epoch_stats(s->ep, &es);
	if (es.deferred == 0)
		fail_msg("%s: no table went to defer_free_table, though blocks replaced tables",
			 s->sc->name);
}

/* ------------------------------------------------------------------ */
/* The region of the protect and split tests                           */

/*
 * Map the region to H with read-write: a level-2 block and level-1 blocks
 * (or level-1 blocks only); with `pages`, the last level-1 block of the last
 * hot window as pages.
 */
static void setup_region(struct sh *s, bool pages)
{
	struct th *m = &s->th[MAIN_TID];
	uint64_t off = s->H - s->G;

	m->nlog = 0;
	if (s->lb == 2) {
		do_map(m, s->G, s->Sb, off, A_RW, 0);
		do_map(m, s->G + s->Sb, s->Sb, off, A_RW, TDP_MAP_MAX_LEVEL(1));
	} else {
		do_map(m, s->G, s->R, off, A_RW, 0);
	}
	if (pages) {
		do_map(m, s->hot[s->nhot - 1], s->S1 / 2, off, A_RW, TDP_MAP_MAX_LEVEL(0));
		do_map(m, s->hot[s->nhot - 1] + 3 * s->S1, s->S1, off, A_RW, TDP_MAP_MAX_LEVEL(0));
	}
	if (m->failed)
		fail_msg("%s", m->err);
}

/* The hardware's part: set A and D in every leaf (every thread is out). */
static void set_ad(struct sh *s)
{
	uint64_t bits = s->pgt.cfg.format == TDP_FORMAT_X86_EPT ? (3ull << 8) : (3ull << 6);
	struct lfs L;

	leaves_take(s, &L);
	for (size_t i = 0; i < L.n; i++) {
		uint64_t *pte = tdp_tk_pool_va(s->pool, L.v[i].pte_pa & ~7ull);

		assert_non_null(pte);
		__atomic_fetch_or(pte, bits, __ATOMIC_RELAXED);
	}
	lfs_free(&L);
}

static bool pte_dirty_bit(const struct sh *s, uint64_t pte)
{
	return pte & (s->pgt.cfg.format == TDP_FORMAT_X86_EPT ? 1ull << 9 : 1ull << 7);
}

static void bms_init(struct sh *s)
{
	size_t pages = (size_t)(s->R / s->P);

	for (unsigned int i = 0; i < NT; i++) {
		bm_init(&s->th[i].dirty, pages);
		bm_init(&s->th[i].remap, pages);
		bm_init(&s->th[i].wset, pages);
		bm_init(&s->th[i].ro, pages);
		s->th[i].rep_seq = calloc(pages, sizeof(uint32_t));
		s->th[i].remap_seq = calloc(pages, sizeof(uint32_t));
		assert_non_null(s->th[i].rep_seq);
		assert_non_null(s->th[i].remap_seq);
	}
}

static void bms_clear(struct sh *s)
{
	for (unsigned int i = 0; i < NT; i++) {
		bm_clear(&s->th[i].dirty);
		bm_clear(&s->th[i].remap);
		bm_clear(&s->th[i].wset);
		bm_clear(&s->th[i].ro);
		memset(s->th[i].rep_seq, 0, (size_t)(s->R / s->P) * sizeof(uint32_t));
		memset(s->th[i].remap_seq, 0, (size_t)(s->R / s->P) * sizeof(uint32_t));
	}
}

/* W can be given back with W alone only where the format takes it on every leaf. */
static tdp_attr_t set_w(const struct sh *s)
{
	return tk_prot_change_ok(&s->pgt.cfg, 0, TDP_PROT_W) ? TDP_PROT_W : TDP_PROT_RW;
}

static void t_protect_op(struct th *t, bool clear)
{
	struct op o = { .kind = OP_PROTECT };

	pick_zone(t, below(&t->rng, 2) ? Z_MIXED : clear ? Z_CLEAR : Z_SET, &o.gpa, &o.size);
	if (clear)
		o.clear = TDP_PROT_W;
	else
		o.set = set_w(t->s);
	bm_set_range(clear ? &t->ro : &t->wset, pg(t->s, o.gpa), (size_t)(o.size / t->s->P));
	run_ok(t, &o, NULL);
}

/* A map of the same target, read-write or read-only; with `big`, sometimes the whole level-2 block. */
static void t_remap_op(struct th *t, bool big)
{
	struct sh *s = t->s;
	bool ro = below(&t->rng, 3) == 0;
	uint64_t gpa, size;

	if (big && below(&t->rng, 8) == 0 && s->lb == 2) {
		gpa = s->G; /* the whole level-2 block: replaces whatever tables are under it */
		size = s->Sb;
	} else {
		pick_zone(t, ro || below(&t->rng, 2) ? Z_MIXED : Z_SET, &gpa, &size);
	}
	do_map(t, gpa, size, s->H - s->G, ro ? A_RO : A_RW, 0);
	if (t->remap_seq) {
		uint32_t seq = (uint32_t)(atomic_fetch_add(&s->seq, 1) + 1);

		for (size_t k = 0; k < size / s->P; k++)
			t->remap_seq[pg(s, gpa) + k] = seq;
	}
	bm_set_range(&t->remap, pg(s, gpa), (size_t)(size / s->P));
	bm_set_range(ro ? &t->ro : &t->wset, pg(s, gpa), (size_t)(size / s->P));
}

/*
 * Same output everywhere, R and the memory type kept; W clear only where a
 * call took it, W set only where no call took it or one gave it.
 */
static void check_same_target(struct sh *s, const struct lfs *L)
{
	size_t pages = (size_t)(s->R / s->P);
	struct bm ro, keep; /* keep: W must stay: no call took it, or none gave it back */

	bm_init(&ro, pages);
	bm_init(&keep, pages);
	for (unsigned int t = 0; t < NT; t++) {
		bm_or(&ro, &s->th[t].ro);
		bm_or(&keep, &s->th[t].wset);
	}
	for (size_t k = 0; k <= pages / 64; k++)
		keep.w[k] |= ~ro.w[k];
	check_in_region(s, L, true);
	for (size_t i = 0; i < L->n; i++) {
		const struct lf *f = &L->v[i];
		size_t bad;

		if (f->off != s->H - s->G)
			fail_msg("%s: leaf [0x%llx +0x%llx) has offset 0x%llx; every call used 0x%llx",
				 s->sc->name, ULL(f->gpa), ULL(f->size), ULL(f->off), ULL(s->H - s->G));
		if (f->attr != A_RW && f->attr != A_RO)
			fail_msg("%s: leaf [0x%llx +0x%llx) has attributes 0x%x: only W may change",
				 s->sc->name, ULL(f->gpa), ULL(f->size), f->attr);
		if (f->attr == A_RO &&
		    (bad = bm_first_clear(&ro, NULL, pg(s, f->gpa), (size_t)(f->size / s->P))) != SIZE_MAX)
			fail_msg("%s: page 0x%llx (leaf [0x%llx +0x%llx)) lost W, but no protect or "
				 "read-only map covered it",
				 s->sc->name, ULL(s->G + bad * s->P), ULL(f->gpa), ULL(f->size));
		if (f->attr == A_RW &&
		    (bad = bm_first_clear(&keep, NULL, pg(s, f->gpa), (size_t)(f->size / s->P))) != SIZE_MAX)
			fail_msg("%s: page 0x%llx (leaf [0x%llx +0x%llx)) has W, but calls took it and "
				 "none gave it back",
				 s->sc->name, ULL(s->G + bad * s->P), ULL(f->gpa), ULL(f->size));
	}
	bm_free(&ro);
	bm_free(&keep);
}

/* ------------------------------------------------------------------ */
/* protect_race                                                        */

static void protect_body(struct th *t)
{
	struct sh *s = t->s;

	for (unsigned int i = 0; i < t->nops && !t->failed; i++) {
		uint64_t r = below(&t->rng, 20);

		if (r < 7) {
			t_protect_op(t, true);
		} else if (r < 10) {
			t_protect_op(t, false);
		} else if (r < 12) {
			struct op o = { .kind = OP_YOUNG };

			pick(t, true, &o.gpa, &o.size);
			if (s->ad)
				run_ok(t, &o, NULL);
		} else if (r < 18) {
			struct op o = { .kind = OP_DIRTY };
			uint64_t *bitmap;
			uint32_t seq;
			size_t n;

			pick(t, true, &o.gpa, &o.size);
			if (!s->ad)
				continue;
			n = (size_t)(o.size / s->P);
			bitmap = calloc(n / 64 + 1, sizeof(uint64_t));
			if (!bitmap) {
				terr(t, "out of memory");
				return;
			}
			run_ok(t, &o, bitmap);
			seq = (uint32_t)(atomic_fetch_add(&s->seq, 1) + 1);
			for (size_t k = 0; k < n; k++) {
				if ((bitmap[k / 64] >> (k % 64)) & 1) {
					t->dirty.w[(pg(s, o.gpa) + k) / 64] |= 1ull << ((pg(s, o.gpa) + k) % 64);
					t->rep_seq[pg(s, o.gpa) + k] = seq;
				}
			}
			free(bitmap);
		} else {
			t_remap_op(t, false);
		}
		t_read(t);
	}
}

static void protect_check(struct sh *s)
{
	struct bm dirty, remap;
	struct lfs L;
	size_t pages = (size_t)(s->R / s->P);

	leaves_take(s, &L);
	bm_init(&dirty, pages);
	bm_init(&remap, pages);
	for (unsigned int t = 0; t < NT; t++) {
		bm_or(&dirty, &s->th[t].dirty);
		bm_or(&remap, &s->th[t].remap);
	}
	check_same_target(s, &L);
	if (s->hw_on)
		check_hw_dirty(s, &L);
	/* every page was dirty when the round began: clean now means reported, or a new leaf */
	for (size_t i = 0; s->ad && i < L.n; i++) {
		const struct lf *f = &L.v[i];
		size_t bad;

		if (pte_dirty_bit(s, f->pte))
			continue;
		bad = bm_first_clear(&dirty, &remap, pg(s, f->gpa), (size_t)(f->size / s->P));
		if (bad != SIZE_MAX)
			fail_msg("%s: page 0x%llx was dirty, its leaf [0x%llx +0x%llx) level %u is clean "
				 "now, but no tdp_collect_dirty reported it and no map replaced it: a "
				 "dirty flag was lost",
				 s->sc->name, ULL(s->G + bad * s->P), ULL(f->gpa), ULL(f->size), f->level);
	}
	bm_free(&dirty);
	bm_free(&remap);
	check_reports(s, &L);
	check_pool(s, &L);
	lfs_free(&L);
}

static void t_protect_race(struct sh *s)
{
	s->hw_on = s->ad;
	s->seen_ok = seen_same_target;
	s->dense = true;
	bms_init(s);
	for (unsigned int r = 0; r < 16; r++) {
		bms_clear(s);
		setup_region(s, true);
		if (s->ad)
			set_ad(s);
		run_threads(s, protect_body, scaled(400));
		protect_check(s);
		reset_region(s);
	}
	check_reshaped(s);
}

/* ------------------------------------------------------------------ */
/* split_only, split_mixed                                             */

static void t_split_op(struct th *t)
{
	struct sh *s = t->s;
	struct op o = { .kind = OP_SPLIT };

	if (below(&t->rng, 10) < 6) {
		o.level = 0;
		pick(t, false, &o.gpa, &o.size);
	} else {
		o.level = 1;
		pick_in(t, s->G, s->G + s->R, s->Sb / s->P, &o.gpa, &o.size);
	}
	run_ok(t, &o, NULL);
}

static void split_only_body(struct th *t)
{
	for (unsigned int i = 0; i < t->nops && !t->failed; i++) {
		t_split_op(t);
		t_read(t);
	}
}

static void split_mixed_body(struct th *t)
{
	for (unsigned int i = 0; i < t->nops && !t->failed; i++) {
		uint64_t r = below(&t->rng, 10);

		if (r < 4)
			t_split_op(t);
		else if (r < 6)
			t_protect_op(t, true);
		else if (r < 7)
			t_protect_op(t, false);
		else
			t_remap_op(t, t->s->rounds & 1);
		t_read(t);
	}
}

static void split_only_check(struct sh *s, const struct lfs *B)
{
	struct lfs L;

	leaves_take(s, &L);
	check_in_region(s, &L, true);
	/* every page as before: each leaf inside a leaf of before, same offset and attributes */
	for (size_t i = 0; i < L.n; i++) {
		const struct lf *f = &L.v[i], *b = leaf_at(B, f->gpa);

		if (!b || f->gpa + f->size > b->gpa + b->size || f->off != b->off ||
		    f->attr != b->attr || f->level > b->level)
			fail_msg("%s: after the splits, leaf [0x%llx +0x%llx) level %u offset 0x%llx attr "
				 "0x%x; before, the leaf there was [0x%llx +0x%llx) level %u offset 0x%llx "
				 "attr 0x%x",
				 s->sc->name, ULL(f->gpa), ULL(f->size), f->level, ULL(f->off), f->attr,
				 ULL(b ? b->gpa : 0), ULL(b ? b->size : 0), b ? b->level : 0,
				 ULL(b ? b->off : 0), b ? b->attr : 0);
	}
	/* each split's range holds no leaf above its target */
	for (unsigned int t = 0; t < NT; t++) {
		for (size_t k = 0; k < s->th[t].nlog; k++) {
			const struct op *o = &s->th[t].log[k];

			for (size_t i = leaf_from(&L, o->gpa); i < L.n && L.v[i].gpa < o->gpa + o->size;
			     i++)
				if (L.v[i].level > o->level)
					fail_msg("%s: thread %u split [0x%llx +0x%llx) to level %u, but leaf "
						 "[0x%llx +0x%llx) at level %u meets it",
						 s->sc->name, t, ULL(o->gpa), ULL(o->size), o->level,
						 ULL(L.v[i].gpa), ULL(L.v[i].size), L.v[i].level);
		}
	}
	check_reports(s, &L);
	check_pool(s, &L);
	lfs_free(&L);
}

static void t_split_only(struct sh *s)
{
	s->seen_ok = seen_split_only;
	s->dense = true;
	for (unsigned int r = 0; r < 12; r++) {
		struct lfs B;

		setup_region(s, false);
		leaves_take(s, &B);
		run_threads(s, split_only_body, scaled(500));
		split_only_check(s, &B);
		lfs_free(&B);
		reset_region(s);
	}
	check_reshaped(s);
}

static void t_split_mixed(struct sh *s)
{
	s->hw_on = s->ad;
	s->seen_ok = seen_same_target;
	s->dense = true;
	bms_init(s);
	for (unsigned int r = 0; r < 12; r++) {
		struct lfs L;

		bms_clear(s);
		setup_region(s, false);
		run_threads(s, split_mixed_body, scaled(500));
		leaves_take(s, &L);
		check_same_target(s, &L);
		if (s->hw_on)
			check_hw_dirty(s, &L);
		check_reports(s, &L);
		check_pool(s, &L);
		lfs_free(&L);
		reset_region(s);
	}
	check_reshaped(s);
}

/* ------------------------------------------------------------------ */
/* walk_race                                                           */

/* A reader's pass over [lo, hi) with the public iterator, its leaves checked like tdp_walk's. */
static void t_iter(struct th *t, uint64_t lo, uint64_t hi, bool strict)
{
	struct walk_ctx c = { .t = t, .lo = lo, .hi = hi, .next = lo, .strict = strict };
	struct tdp_iter it;
	bool stopped = false;

	enter(t);
	tdp_for_each_entry(it, &t->s->pgt, lo, hi) {
		struct tdp_entry e;

		tdp_iter_entry(&it, &e);
		if (e.valid && !e.table && walk_leaf(&e, TDP_WALK_LEAF, &c)) {
			stopped = true;
			break;
		}
	}
	leave(t);
	if (!stopped && strict && c.next < hi)
		terr(t, "the iterator over [0x%llx, 0x%llx) saw a hole at [0x%llx, 0x%llx), though "
			"every page stays mapped and the format needs no break-before-make",
		     ULL(lo), ULL(hi), ULL(c.next), ULL(hi));
}

/*
 * Threads 0 and 1 turn the first level-1 block of the region into pages
 * (tdp_split) and back (tdp_map of the block, same target) again and
 * again; threads 2 and 3 read the region with tdp_walk, the iterator and
 * tdp_lookup. Every page translates the same way throughout, so a reader
 * must see each page once, in address order, with that translation, and
 * on a format without break-before-make never a hole.
 */
static void walk_body(struct th *t)
{
	struct sh *s = t->s;
	bool strict = !tk_format_bbm(s->pgt.cfg.format);

	for (unsigned int i = 0; i < t->nops && !t->failed; i++) {
		if (t->id < 2) {
			if (below(&t->rng, 2)) {
				struct op o = { .kind = OP_SPLIT, .gpa = s->G, .size = s->S1, .level = 0 };

				run_ok(t, &o, NULL);
			} else {
				do_map(t, s->G, s->S1, s->H - s->G, A_RW, 0);
			}
			t->nlog = 0; /* nothing to check afterwards: keep the log short */
			continue;
		}
		t->reads++;
		/* a window of up to 256 pages, in the block or across its end */
		uint64_t lo, size;

		pick_in(t, s->G, s->G + s->R, 256, &lo, &size);
		if (below(&t->rng, 2) && s->S1 / s->P > 256)
			lo = s->G + s->S1 - s->P * below(&t->rng, 256);
		if (lo + size > s->G + s->R)
			size = s->G + s->R - lo;
		switch (below(&t->rng, 3)) {
		case 0: {
			struct walk_ctx c = { .t = t, .lo = lo, .hi = lo + size, .next = lo,
					      .strict = strict };
			int rc;

			enter(t);
			rc = tdp_walk(&s->pgt, lo, size, TDP_WALK_LEAF, walk_leaf, &c);
			leave(t);
			if (rc < 0)
				terr(t, "tdp_walk = %d", rc);
			else if (rc == 0 && strict && c.next < c.hi)
				terr(t, "tdp_walk(0x%llx, 0x%llx) saw a hole at [0x%llx, 0x%llx), though "
					"every page stays mapped and the format needs no "
					"break-before-make",
				     ULL(c.lo), ULL(c.hi), ULL(c.next), ULL(c.hi));
			break;
		}
		case 1:
			t_iter(t, lo, lo + size, strict);
			break;
		default: {
			uint64_t gpa = s->G + below(&t->rng, s->S1);
			struct tdp_lookup_result res;
			int rc;

			enter(t);
			rc = tdp_lookup(&s->pgt, gpa, &res);
			leave(t);
			if ((rc && !(rc == -TDP_ENOENT && !strict)) ||
			    (!rc && (res.hpa != gpa + s->H - s->G || res.attr != A_RW)))
				terr(t, "tdp_lookup(0x%llx) = %d, hpa 0x%llx attr 0x%x while the page "
					"stays mapped to 0x%llx",
				     ULL(gpa), rc, ULL(res.hpa), res.attr, ULL(gpa + s->H - s->G));
		}
		}
	}
}

static void t_walk_race(struct sh *s)
{
	struct lfs L;

	s->R = 2 * s->S1;
	s->seen_ok = seen_split_only;
	for (unsigned int r = 0; r < 4; r++) {
		do_map(&s->th[MAIN_TID], s->G, s->R, s->H - s->G, A_RW, 0);
		if (s->th[MAIN_TID].failed)
			fail_msg("%s", s->th[MAIN_TID].err);
		run_threads(s, walk_body, scaled(8000));
		leaves_take(s, &L);
		check_in_region(s, &L, true);
		for (size_t i = 0; i < L.n; i++)
			if (L.v[i].off != s->H - s->G || L.v[i].attr != A_RW)
				fail_msg("%s: leaf [0x%llx +0x%llx) offset 0x%llx attr 0x%x, not the one "
					 "target",
					 s->sc->name, ULL(L.v[i].gpa), ULL(L.v[i].size), ULL(L.v[i].off),
					 L.v[i].attr);
		check_reports(s, &L);
		check_pool(s, &L);
		lfs_free(&L);
		reset_region(s);
	}
	check_reshaped(s);
}

/* ------------------------------------------------------------------ */
/* init_shared                                                         */

static void t_init_shared(struct sh *s)
{
	const struct tk_cfgdesc *cd = s->sc->cd;
	struct tdp_tk_pool *pool = tdp_tk_pool_new(TK_PA_BASE_DEFAULT, 64 << 20);
	struct tdp_tk_epoch *ep = tdp_tk_epoch_new(1);
	struct tdp_tk_pool_stats ps;
	struct tdp_lookup_result lr;
	struct tdp_pgtable p;
	struct tdp_config cfg;

	assert_non_null(pool);
	assert_non_null(ep);
	memset(&cfg, 0, sizeof(cfg));
	cfg.format = cd->format;
	cfg.ia_bits = cd->ia;
	cfg.oa_bits = cd->oa;
	cfg.granule_shift = cd->gshift;
	cfg.leaf_levels = cd->leaf_levels;
	cfg.flags = cd->flags | s->sc->flags | TDP_CFG_SHARED;
	cfg.tlb = &sh_tlb;
	cfg.tlb_ctx = s;
	/* the kit's pool alone has no defer_free_table */
	tdp_tk_pool_config(pool, &cfg);
	assert_null(cfg.mm->defer_free_table);
	assert_int_equal(tdp_pgtable_init(&p, &cfg), -TDP_EINVAL);
	tdp_tk_pool_stats(pool, &ps);
	assert_int_equal(ps.out_blocks, 0);
	/* the same without TDP_CFG_SHARED is fine */
	cfg.flags &= ~TDP_CFG_SHARED;
	assert_int_equal(tdp_pgtable_init(&p, &cfg), 0);
	assert_int_equal(tdp_pgtable_destroy(&p), 0);
	/* with the epoch domain's */
	cfg.flags |= TDP_CFG_SHARED;
	assert_int_equal(tdp_tk_epoch_config(ep, &cfg), 0);
	assert_non_null(cfg.mm->defer_free_table);
	assert_int_equal(tdp_pgtable_init(&p, &cfg), 0);
	tdp_tk_epoch_attach(ep, &p);
	tdp_tk_epoch_enter(ep, 0);
	assert_int_equal(tdp_map(&p, s->G, s->H, s->P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_lookup(&p, s->G, &lr), 0);
	tdp_tk_epoch_exit(ep, 0);
	assert_int_equal(lr.hpa, s->H);
	tdp_tk_epoch_reclaim(ep);
	assert_int_equal(tdp_pgtable_destroy(&p), 0);
	tdp_tk_pool_stats(pool, &ps);
	assert_int_equal(ps.out_blocks, 0);
	assert_int_equal(ps.errors, 0);
	tdp_tk_epoch_delete(ep);
	tdp_tk_pool_delete(pool);
}

/* ------------------------------------------------------------------ */
/* Runner                                                              */

struct stest {
	const char *name;
	void (*fn)(struct sh *s);
	bool reports; /* the table has change reports (cfg.changes), checked */
};

static const struct stest stests[] = {
	{ "init_shared", t_init_shared, false },
	{ "fault_race", t_fault_race, true },
	{ "map_race", t_map_race, true },
	{ "protect_race", t_protect_race, true },
	{ "split_only", t_split_only, true },
	{ "split_mixed", t_split_mixed, true },
	/* readers must never meet a hole: without reports (see t_read) */
	{ "walk_race", t_walk_race, false },
};
#define NTEST (sizeof(stests) / sizeof(stests[0]))

struct srun {
	unsigned int ti, ci;
	struct sh s;
};

static void srun_body(void **state)
{
	struct srun *r = *state;

	sh_init(&r->s, r->ci, r->ti, stests[r->ti].reports);
	stests[r->ti].fn(&r->s);
	if (r->s.live)
		sh_fini(&r->s, stests[r->ti].name);
	else
		sh_release(&r->s);
}

static int srun_teardown(void **state)
{
	struct srun *r = *state;

	sh_release(&r->s);
	return 0;
}

int main(void)
{
	static struct srun runs[NTEST * NCFG];
	static struct CMUnitTest t[NTEST * NCFG];
	static char names[NTEST * NCFG][64];
	const char *e, *only = getenv("TDP_SHARED_ONLY");
	size_t n = 0;

	if ((e = getenv("TDP_SHARED_SCALE")) && *e)
		scale_pct = (unsigned int)strtoul(e, NULL, 0);
	if ((e = getenv("TDP_SHARED_SEED")) && *e)
		base_seed = strtoull(e, NULL, 0);
	serial = (e = getenv("TDP_SHARED_SERIAL")) && *e == '1';
	if (!base_seed)
		base_seed = 1;
	if (!tk_threads_work()) {
		printf("test_shared: SKIP: a thread could not be started and joined within 10 s here "
		       "(qemu-aarch64 user mode?)\n");
		return 77;
	}
	printf("test_shared: %d threads, scale %u%%, seed %llu%s\n", NT, scale_pct, ULL(base_seed),
	       serial ? ", calls serialised" : "");
	for (unsigned int ti = 0; ti < NTEST; ti++) {
		for (unsigned int ci = 0; ci < NCFG; ci++) {
			snprintf(names[n], sizeof(names[n]), "%s[%s]", stests[ti].name, scfgs[ci].name);
			if (only && *only && !strstr(names[n], only))
				continue;
			runs[n].ti = ti;
			runs[n].ci = ci;
			t[n].name = names[n];
			t[n].test_func = srun_body;
			t[n].teardown_func = srun_teardown;
			t[n].initial_state = &runs[n];
			n++;
		}
	}
	return _cmocka_run_group_tests("shared", t, n, NULL, NULL);
}
