/* SPDX-License-Identifier: MIT */
/*
 * TLB-coherence model (struct tdp_tlb_ops).
 *
 * The model is a small TLB: tdp_tk_tlb_fill() walks the tables with the
 * reference walker the way a vCPU's miss would and caches the leaf it found
 * (its span, output, attributes, level, raw entry and the table pages the
 * walk went through). Entries go away only when the library invalidates
 * them, or when the model runs out of room (oldest first). Every time the
 * library calls in, and whenever the test asks, the model compares what it
 * caches with what the tables say now:
 *
 * - at flush_range, every entry outside the range must still match the
 *   tables exactly ("stale translation": the library changed something it
 *   is not invalidating);
 * - inside the range, with TDP_TK_TLB_BBM, an entry whose address now
 *   translates validly to another output, size or memory type means the
 *   new value was written before the old one was invalidated
 *   ("break-before-make");
 * - with a level hint (and no tables removed), the hardware only has to
 *   invalidate leaves of that level: a changed entry of another level is a
 *   "wrong TTL hint", an unchanged one is kept (and checked again later);
 * - the invalidated entries are dropped and then refilled at once from the
 *   tables as they stand (a vCPU may touch the address again right after
 *   the invalidation), so a change written after the flush meant to cover
 *   it is found as stale later;
 * - a table page freed while a cached walk went through it is a violation;
 * - tdp_tk_tlb_check() re-walks every cached entry after an operation.
 *
 * Only entries that translate are cached: arm64 does not cache invalid
 * descriptors, so filling a hole never makes mapping into it need a flush.
 * (A RISC-V hart without Svvptc may cache an invalid G-stage entry; the
 * model does not check that invalid -> valid changes are flushed there.)
 * RISC-V has no break-before-make rule: leave TDP_TK_TLB_BBM off for it.
 */
#include "kit_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE      SIZE_MAX
#define MAX_SIZES 8 /* distinct leaf sizes indexed for hit lookups */

struct tlbe {
	uint64_t gpa;         /* the address the fill translated */
	unsigned int access;  /* the access kind of the fill (used again to refill) */
	int level;            /* the walker's (architectural) level of the leaf */
	uint64_t span_base, span_size;
	uint64_t hpa;         /* host address of gpa */
	tdp_attr_t attr;
	uint64_t pte;
	unsigned int nr_tables;
	uint64_t tables[TDP_MAX_LEVELS + 1];
	size_t next;          /* hash chain (slot index) */
	bool dead;            /* dropped; removed at the next compaction */
};

struct tdp_tk_tlb {
	/* entries: a ring of slots, oldest at head */
	struct tlbe *e;
	size_t cap, head, n;
	/* hash of span_base -> slot, for hits */
	size_t *bucket;
	size_t nbuckets;
	uint64_t sizes[MAX_SIZES];
	unsigned int nr_sizes; /* > MAX_SIZES: too many, hits scan linearly */

	uint32_t flags;
	struct tdp_tk_pool *pool;
	bool attached;
	struct tdp_tk_ref ref;

	/* forward every callback to these first (kit_internal.h) */
	const struct tdp_tlb_ops *fwd;
	void *fwd_ctx;

	size_t fills, flush_ranges, flush_alls, dropped, violations;
	char first[480];
};

/* ------------------------------------------------------------------ */
/* Levels                                                              */

/*
 * The library's neutral level (0 = smallest page) of a leaf that the
 * format's reference walker reports at architectural level `arch`, or -1
 * when the model does not know the format's numbering.
 */
static int neutral_level(enum tdp_format format, int arch)
{
	switch (format) {
	case TDP_FORMAT_ARM64_S2:
		return 3 - arch; /* arm64: level 3 holds the pages */
	case TDP_FORMAT_X86_EPT:
		return arch - 1; /* EPT: level 1 (PTE) holds the pages */
	case TDP_FORMAT_RISCV_G:
		return arch;     /* G-stage: level 0 holds the pages, as in libtdp */
	default:
		return -1;
	}
}

/* ------------------------------------------------------------------ */
/* Slots, hash and ring                                                */

static size_t slot_of(const struct tdp_tk_tlb *t, size_t i)
{
	return (t->head + i) % t->cap;
}

static size_t hash_of(const struct tdp_tk_tlb *t, uint64_t base)
{
	uint64_t h = base * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (t->nbuckets - 1);
}

static void hash_add(struct tdp_tk_tlb *t, size_t s)
{
	size_t h = hash_of(t, t->e[s].span_base);
	uint64_t size = t->e[s].span_size;
	unsigned int k;

	t->e[s].next = t->bucket[h];
	t->bucket[h] = s;
	for (k = 0; k < t->nr_sizes && k < MAX_SIZES; k++)
		if (t->sizes[k] == size)
			return;
	if (t->nr_sizes < MAX_SIZES)
		t->sizes[t->nr_sizes] = size;
	if (t->nr_sizes <= MAX_SIZES)
		t->nr_sizes++;
}

static void hash_del(struct tdp_tk_tlb *t, size_t s)
{
	size_t *p = &t->bucket[hash_of(t, t->e[s].span_base)];

	while (*p != NONE) {
		if (*p == s) {
			*p = t->e[s].next;
			return;
		}
		p = &t->e[*p].next;
	}
}

static void hash_rebuild(struct tdp_tk_tlb *t)
{
	for (size_t b = 0; b < t->nbuckets; b++)
		t->bucket[b] = NONE;
	t->nr_sizes = 0;
	for (size_t i = 0; i < t->n; i++)
		hash_add(t, slot_of(t, i));
}

/* The slot of a live entry whose span holds gpa, or NONE. */
static size_t find_hit(const struct tdp_tk_tlb *t, uint64_t gpa)
{
	if (t->nr_sizes > MAX_SIZES) {
		for (size_t i = 0; i < t->n; i++) {
			const struct tlbe *e = &t->e[slot_of(t, i)];

			if (!e->dead && gpa - e->span_base < e->span_size)
				return slot_of(t, i);
		}
		return NONE;
	}
	for (unsigned int k = 0; k < t->nr_sizes; k++) {
		uint64_t base = gpa & ~(t->sizes[k] - 1);

		for (size_t s = t->bucket[hash_of(t, base)]; s != NONE; s = t->e[s].next)
			if (!t->e[s].dead && t->e[s].span_base == base &&
			    t->e[s].span_size == t->sizes[k])
				return s;
	}
	return NONE;
}

/* Remove the dead entries, keeping the age order. */
static void compact(struct tdp_tk_tlb *t)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++) {
		size_t from = slot_of(t, i), to = slot_of(t, k);

		if (t->e[from].dead)
			continue;
		if (from != to)
			t->e[to] = t->e[from];
		k++;
	}
	t->n = k;
	hash_rebuild(t);
}

static void drop_all(struct tdp_tk_tlb *t)
{
	t->n = 0;
	t->head = 0;
	hash_rebuild(t);
}

static void set_entry(struct tlbe *e, uint64_t gpa, unsigned int access, const struct tdp_tk_xlate *x)
{
	e->gpa = gpa;
	e->access = access;
	e->level = x->level;
	e->span_base = x->span_base;
	e->span_size = x->span_size;
	e->hpa = x->hpa;
	e->attr = x->attr;
	e->pte = x->pte;
	e->nr_tables = x->nr_tables <= TDP_MAX_LEVELS + 1 ? x->nr_tables : TDP_MAX_LEVELS + 1;
	memcpy(e->tables, x->tables, e->nr_tables * sizeof(e->tables[0]));
	e->dead = false;
}

static void insert(struct tdp_tk_tlb *t, uint64_t gpa, unsigned int access,
		   const struct tdp_tk_xlate *x)
{
	size_t s;

	if (t->n == t->cap) {
		s = t->head;
		if (!t->e[s].dead)
			hash_del(t, s);
		t->head = (t->head + 1) % t->cap;
		t->n--;
	}
	s = slot_of(t, t->n);
	set_entry(&t->e[s], gpa, access, x);
	t->n++;
	hash_add(t, s);
}

/* ------------------------------------------------------------------ */
/* Walks, comparisons and violations                                   */

static int walk(const struct tdp_tk_tlb *t, uint64_t gpa, unsigned int access,
		struct tdp_tk_xlate *x)
{
	memset(x, 0, sizeof(*x));
	return tdp_tk_ref_translate(&t->ref, gpa, access, x);
}

/* Translate e's address again, without an access check; false if the walker refused. */
static bool rewalk(const struct tdp_tk_tlb *t, const struct tlbe *e, struct tdp_tk_xlate *x)
{
	return walk(t, e->gpa, TDP_TK_PROBE, x) == 0;
}

/*
 * The descriptor bits the CPU itself updates: the accessed flag (changes
 * either way without an invalidation: aging is a hint) and the dirty flag,
 * which it may set, but which software may only clear with an invalidation,
 * or a TLB that cached it set would never set it again and a write would be
 * lost to dirty logging.
 */
static void hw_bits(enum tdp_format format, uint64_t *a, uint64_t *d)
{
	switch (format) {
	case TDP_FORMAT_X86_EPT:
		*a = 1ull << 8; /* docs/formats.md §E.5 */
		*d = 1ull << 9;
		break;
	case TDP_FORMAT_ARM64_S2:
		*a = 1ull << 10; /* AF, set by VTCR_EL2.HA walkers */
		*d = 0;
		break;
	case TDP_FORMAT_RISCV_G:
		*a = 1ull << 6; /* A and D, set by harts with menvcfg.ADUE (docs/formats.md §R.4) */
		*d = 1ull << 7;
		break;
	default:
		*a = *d = 0;
		break;
	}
}

static bool same_pte(enum tdp_format format, uint64_t cached, uint64_t now)
{
	uint64_t a, d;

	hw_bits(format, &a, &d);
	if ((cached & d) && !(now & d))
		return false; /* cleaned under a cached translation */
	return ((cached ^ now) & ~(a | d)) == 0;
}

/* Does the walk say exactly what e caches? */
static bool same(const struct tdp_tk_tlb *t, const struct tlbe *e, const struct tdp_tk_xlate *x)
{
	if (x->result != TDP_TK_OK || x->level != e->level || x->span_base != e->span_base ||
	    x->span_size != e->span_size || x->hpa != e->hpa || x->attr != e->attr ||
	    !same_pte(t->ref.format, e->pte, x->pte) || x->nr_tables != e->nr_tables)
		return false;
	return memcmp(x->tables, e->tables, e->nr_tables * sizeof(e->tables[0])) == 0;
}

/* A valid -> valid change that arm64 must break first: output, size or memory type. */
static bool needs_bbm(const struct tlbe *e, const struct tdp_tk_xlate *x)
{
	return x->result == TDP_TK_OK &&
	       (x->hpa != e->hpa || x->span_size != e->span_size || x->level != e->level ||
		(x->attr & TDP_MT_MASK) != (e->attr & TDP_MT_MASK));
}


#define ULL(x) ((unsigned long long)(x))

static void describe_now(char *buf, size_t len, const struct tlbe *e, const struct tdp_tk_xlate *x)
{
	if (!x) {
		snprintf(buf, len, "the walker refused the address");
	} else if (x->result != TDP_TK_OK) {
		snprintf(buf, len, "%s at level %d (%s)", tdp_tk_result_name(x->result), x->level, x->why);
	} else if (x->level == e->level && x->span_base == e->span_base &&
		   x->span_size == e->span_size && x->hpa == e->hpa && x->attr == e->attr &&
		   x->pte == e->pte) {
		snprintf(buf, len, "the same leaf through other tables (%u, first 0x%llx)",
			 x->nr_tables, x->nr_tables ? ULL(x->tables[0]) : 0ull);
	} else {
		snprintf(buf, len, "[0x%llx +0x%llx) level %d -> 0x%llx attr 0x%x pte 0x%llx",
			 ULL(x->span_base), ULL(x->span_size), x->level, ULL(x->hpa), x->attr,
			 ULL(x->pte));
	}
}

/*
 * Count a violation about entry e; the first one is kept as text. `walked`:
 * x is the walk of e's address now (NULL: the walker refused it).
 */
static void violation(struct tdp_tk_tlb *t, const char *what, const struct tlbe *e, bool walked,
		      const struct tdp_tk_xlate *x, const char *fmt, ...)
{
	char now[200] = "", where[140];
	va_list ap;

	if (t->violations++ != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	if (walked) {
		memcpy(now, "; now ", 7);
		describe_now(now + 6, sizeof(now) - 6, e, x);
	}
	snprintf(t->first, sizeof(t->first),
		 "%s: gpa 0x%llx cached [0x%llx +0x%llx) level %d -> 0x%llx attr 0x%x pte 0x%llx%s%s",
		 what, ULL(e->gpa), ULL(e->span_base), ULL(e->span_size), e->level, ULL(e->hpa),
		 e->attr, ULL(e->pte), now, where);
}

/* ------------------------------------------------------------------ */
/* Callbacks                                                           */

/* Does e's span meet [gpa, last] (size 0: an empty range)? */
static bool meets(const struct tlbe *e, uint64_t gpa, uint64_t last, uint64_t size)
{
	return size && e->span_base <= last && e->span_base + (e->span_size - 1) >= gpa;
}

/*
 * e was just invalidated; x (NULL: the walker refused) is what its address
 * translates to now. A vCPU may walk it again at once: cache the new
 * translation in e's slot if the fill's access would get one and no other
 * entry holds it already. Returns false when e must go.
 */
static bool refill(struct tdp_tk_tlb *t, size_t s, const struct tdp_tk_xlate *x)
{
	struct tlbe *e = &t->e[s];
	struct tdp_tk_xlate y;

	if (!x || x->result != TDP_TK_OK)
		return false;
	if (e->access == TDP_TK_PROBE)
		y = *x;
	else if (walk(t, e->gpa, e->access, &y) != 0 || y.result != TDP_TK_OK)
		return false;
	if (same(t, e, &y))
		return true;
	hash_del(t, s);
	if (find_hit(t, e->gpa) != NONE)
		return false; /* out of the hash already; compaction removes it */
	set_entry(e, e->gpa, e->access, &y);
	hash_add(t, s);
	return true;
}

static void tlb_flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	struct tdp_tk_tlb *t = ctx;
	uint64_t last = size ? (size - 1 > UINT64_MAX - gpa ? UINT64_MAX : gpa + size - 1) : 0;
	bool hinted = level != TDP_LEVEL_ANY && !tables;
	bool any_dead = false;
	struct tdp_tk_xlate x;

	if (!t) /* testkit.h: a NULL object is ignored */
		return;
	if (t->fwd)
		t->fwd->flush_range(t->fwd_ctx, gpa, size, level, tables);
	t->flush_ranges++;
	if (!t->attached)
		return;
	/* First: what is not being invalidated must not have changed. */
	for (size_t i = 0; i < t->n; i++) {
		struct tlbe *e = &t->e[slot_of(t, i)];
		bool ok;

		if (meets(e, gpa, last, size))
			continue; /* invalidated: below */
		ok = rewalk(t, e, &x);
		if (ok && same(t, e, &x))
			continue;
		violation(t, "stale translation", e, true, ok ? &x : NULL,
			  " (changed but not invalidated by flush_range(0x%llx, 0x%llx, level %d, "
			  "tables %d))",
			  ULL(gpa), ULL(size), level, tables);
		e->dead = true;
		any_dead = true;
	}
	/* Then the entries this flush invalidates. */
	for (size_t i = 0; i < t->n; i++) {
		size_t s = slot_of(t, i);
		struct tlbe *e = &t->e[s];
		int nl = neutral_level(t->ref.format, e->level);
		bool ok;

		if (e->dead || !meets(e, gpa, last, size))
			continue;
		ok = rewalk(t, e, &x);
		if ((t->flags & TDP_TK_TLB_BBM) && ok && needs_bbm(e, &x)) {
			violation(t, "break-before-make", e, true, &x,
				  " (the new valid entry was written before flush_range(0x%llx, 0x%llx, "
				  "level %d, tables %d) invalidated the old one)",
				  ULL(gpa), ULL(size), level, tables);
		} else if (hinted && nl >= 0 && nl != level) {
			/* the hardware need not invalidate a leaf of another level */
			if (ok && same(t, e, &x))
				continue;
			violation(t, "wrong TTL hint", e, true, ok ? &x : NULL,
				  " (a neutral level-%d leaf changed; flush_range(0x%llx, 0x%llx) "
				  "promised level %d)",
				  nl, ULL(gpa), ULL(size), level);
		} else {
			t->dropped++;
			if (refill(t, s, ok ? &x : NULL))
				continue;
		}
		e->dead = true;
		any_dead = true;
	}
	if (any_dead)
		compact(t);
}

static void tlb_flush_all(void *ctx)
{
	struct tdp_tk_tlb *t = ctx;

	if (!t) /* testkit.h: a NULL object is ignored */
		return;
	if (t->fwd)
		t->fwd->flush_all(t->fwd_ctx);
	t->flush_alls++;
	t->dropped += t->n;
	drop_all(t);
}

const struct tdp_tlb_ops tdp_tk_tlb_ops = {
	.flush_range = tlb_flush_range,
	.flush_all = tlb_flush_all,
};

static void tlb_on_free(void *ctx, uint64_t pa, size_t size)
{
	struct tdp_tk_tlb *t = ctx;
	size_t users = 0, first = NONE;

	for (size_t i = 0; i < t->n; i++) {
		struct tlbe *e = &t->e[slot_of(t, i)];

		for (unsigned int k = 0; k < e->nr_tables; k++) {
			if (e->tables[k] >= pa && e->tables[k] - pa < size) {
				if (users++ == 0)
					first = slot_of(t, i);
				e->dead = true;
				break;
			}
		}
	}
	if (!users)
		return;
	violation(t, "table freed while a cached walk uses it", &t->e[first], false, NULL,
		  " (table page 0x%llx +0x%zx freed, %zu cached walk%s through it)", ULL(pa), size,
		  users, users == 1 ? " goes" : "s go");
	compact(t);
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */

struct tdp_tk_tlb *tdp_tk_tlb_new(size_t capacity, struct tdp_tk_pool *pool, uint32_t flags)
{
	struct tdp_tk_tlb *t;
	size_t nb = 2;

	if (capacity == 0 || capacity > (SIZE_MAX / 4) / sizeof(struct tlbe) ||
	    (flags & ~TDP_TK_TLB_BBM))
		return NULL;
	while (nb < 2 * capacity)
		nb *= 2;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->e = calloc(capacity, sizeof(*t->e));
	t->bucket = malloc(nb * sizeof(*t->bucket));
	if (!t->e || !t->bucket) {
		free(t->e);
		free(t->bucket);
		free(t);
		return NULL;
	}
	t->cap = capacity;
	t->nbuckets = nb;
	t->flags = flags;
	t->pool = pool;
	hash_rebuild(t);
	if (pool)
		tdp_tk_pool_on_free(pool, tlb_on_free, t);
	return t;
}

void tdp_tk_tlb_delete(struct tdp_tk_tlb *tlb)
{
	if (!tlb)
		return;
	if (tlb->pool && tlb->pool->on_free == tlb_on_free && tlb->pool->on_free_ctx == tlb)
		tdp_tk_pool_on_free(tlb->pool, NULL, NULL);
	free(tlb->e);
	free(tlb->bucket);
	free(tlb);
}

void tdp_tk_tlb_attach(struct tdp_tk_tlb *tlb, const struct tdp_tk_ref *ref)
{
	if (!tlb)
		return;
	drop_all(tlb); /* what was cached belongs to the previous walker's table */
	tlb->attached = ref != NULL;
	if (ref)
		tlb->ref = *ref;
}

int tdp_tk_tlb_fill(struct tdp_tk_tlb *tlb, uint64_t gpa, unsigned int access)
{
	struct tdp_tk_xlate x;
	int rc;

	if (!tlb || !tlb->attached || (access & ~(TDP_TK_READ | TDP_TK_WRITE | TDP_TK_EXEC |
						   TDP_TK_USER)))
		return -TDP_EINVAL;
	if (find_hit(tlb, gpa) != NONE)
		return 1; /* a TLB walks only on a miss */
	rc = walk(tlb, gpa, access, &x);
	if (rc < 0)
		return rc;
	if (x.result != TDP_TK_OK)
		return 0;
	insert(tlb, gpa, access, &x);
	tlb->fills++;
	return 1;
}

size_t tdp_tk_tlb_check(struct tdp_tk_tlb *tlb)
{
	struct tdp_tk_xlate x;
	bool any_dead = false;

	if (!tlb)
		return 0;
	if (!tlb->attached)
		return tlb->violations;
	for (size_t i = 0; i < tlb->n; i++) {
		struct tlbe *e = &tlb->e[slot_of(tlb, i)];
		bool ok = rewalk(tlb, e, &x);

		if (ok && same(tlb, e, &x))
			continue;
		violation(tlb, "stale after operation", e, true, ok ? &x : NULL,
			  " (changed and never invalidated)");
		e->dead = true;
		any_dead = true;
	}
	if (any_dead)
		compact(tlb);
	return tlb->violations;
}

const char *tdp_tk_tlb_first_violation(const struct tdp_tk_tlb *tlb)
{
	return tlb && tlb->violations ? tlb->first : "";
}

void tdp_tk_tlb_stats(const struct tdp_tk_tlb *tlb, struct tdp_tk_tlb_stats *st)
{
	if (!tlb || !st) {
		if (st)
			memset(st, 0, sizeof(*st));
		return;
	}
	st->cached = tlb->n;
	st->fills = tlb->fills;
	st->flush_ranges = tlb->flush_ranges;
	st->flush_alls = tlb->flush_alls;
	st->dropped = tlb->dropped;
	st->violations = tlb->violations;
}

/* ------------------------------------------------------------------ */
/* Kit-internal hook (kit_internal.h)                                  */

void tk_tlb_model_forward(struct tdp_tk_tlb *tlb, const struct tdp_tlb_ops *ops, void *ctx)
{
	if (!tlb)
		return;
	tlb->fwd = ops;
	tlb->fwd_ctx = ctx;
}
