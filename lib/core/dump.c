/* SPDX-License-Identifier: MIT */
/*
 * tdp_dump: text and DOT over the public iterator, formatted by hand (no
 * libc in lib/) into a buffer on the stack.
 */
#include <tdp/dump.h>

#include "core/range.h"

/* Small: EL2 stacks are small, and the writer is free to buffer more. */
#define DUMP_BUF 128

struct out {
	tdp_dump_write_fn fn;
	void *ctx;
	int ret; /* the writer's first non-zero value: everything after it is dropped */
	unsigned int top; /* the root's level: a text line is indented by its depth below */
	bool dot, fold;
	size_t n;
	char buf[DUMP_BUF];
};

static void flush(struct out *o)
{
	if (o->n && !o->ret)
		o->ret = o->fn(o->ctx, o->buf, o->n);
	o->n = 0;
}

static void put_c(struct out *o, char c)
{
	if (o->n == DUMP_BUF)
		flush(o);
	o->buf[o->n++] = c;
}

static void put_s(struct out *o, const char *s)
{
	while (*s)
		put_c(o, *s++);
}

/* 16 hex digits: fixed width keeps the columns of a text dump aligned. */
static void put_hex16(struct out *o, uint64_t v)
{
	for (int sh = 60; sh >= 0; sh -= 4)
		put_c(o, "0123456789abcdef"[(v >> sh) & 0xf]);
}

static void put_hex(struct out *o, uint64_t v)
{
	put_s(o, "0x");
	put_hex16(o, v);
}

static void put_dec(struct out *o, uint64_t v)
{
	char d[20];
	unsigned int n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put_c(o, d[--n]);
}

/* ------------------------------------------------------------------ */
/* Runs of entries                                                     */

/*
 * Consecutive entries of one table printed as one line: `first` and
 * `last` bound it, `stride` is the step of the raw values (set by the
 * second entry), `unit` the bytes a leaf translates as one (its contiguous
 * group, or its own size).
 */
struct run {
	struct tdp_entry first, last;
	uint64_t n, stride, unit;
};

static uint64_t leaf_unit(const struct tdp_pgtable *pgt, const struct tdp_entry *e)
{
	struct tdp_lookup_result r;

	/* only tdp_lookup tells a group member from an ordinary leaf, format-neutrally */
	if (tdp_lookup(pgt, e->addr, &r) == 0 && r.size > e->size && r.pte == e->pte)
		return r.size;
	return e->size;
}

static void put_attr(struct out *o, const struct tdp_entry *e, uint64_t unit)
{
	static const char *const mt[] = { "WB", "NC", "DEV", "DEV-S" };
	tdp_attr_t a = e->attr;
	unsigned int t = (a & TDP_MT_MASK) >> TDP_MT_SHIFT;

	put_c(o, a & TDP_PROT_R ? 'r' : '-');
	put_c(o, a & TDP_PROT_W ? 'w' : '-');
	put_c(o, a & TDP_PROT_XP ? 'x' : '-');
	put_c(o, a & TDP_PROT_XU ? 'u' : '-');
	put_c(o, ' ');
	if (t < 4) {
		put_s(o, mt[t]);
	} else {
		/* no format decodes to these: show the number rather than hide it */
		put_s(o, "MT");
		put_dec(o, t);
	}
	put_s(o, " sw=");
	put_c(o, "0123456789abcdef"[(a & TDP_SW_MASK) >> TDP_SW_SHIFT]);
	if (a & 0xf000u) {
		put_s(o, " fmt=");
		put_c(o, "0123456789abcdef"[(a >> 12) & 0xf]);
	}
	put_c(o, ' ');
	put_c(o, e->accessed ? 'A' : '-');
	put_c(o, e->dirty ? 'D' : '-');
	if (unit > e->size)
		put_s(o, " group");
}

/* The run's line without indentation or end of line (shared by text and DOT). */
static void put_run(struct out *o, const struct run *r)
{
	const struct tdp_entry *e = &r->first;

	put_c(o, 'L');
	put_dec(o, e->level);
	put_c(o, ' ');
	put_hex(o, e->addr);
	put_c(o, '-');
	/* the entries of a run all have the first one's size */
	put_hex(o, e->addr + r->n * e->size);
	if (!e->valid) {
		put_s(o, " empty");
	} else if (e->table) {
		put_s(o, " table ");
		put_hex(o, e->pa);
	} else {
		put_s(o, " leaf  ");
		put_hex(o, e->pa);
		put_c(o, ' ');
		put_attr(o, e, r->unit);
	}
	put_s(o, " pte=");
	put_hex(o, e->pte);
	if (r->n > 1) {
		put_s(o, " x");
		put_dec(o, r->n);
	}
}

/* An entry's place in a DOT record: a table entry gets a port for its edge. */
static void put_dot_field(struct out *o, const struct run *r)
{
	put_c(o, '|');
	if (r->first.table) {
		put_s(o, "<e");
		put_hex16(o, r->first.addr);
		put_s(o, "> ");
	}
	put_run(o, r);
	put_s(o, "\\l");
}

static void put_line(struct out *o, const struct run *r)
{
	if (o->dot) {
		put_dot_field(o, r);
		return;
	}
	for (unsigned int i = r->first.level; i < o->top; i++)
		put_s(o, "  ");
	put_run(o, r);
	put_c(o, '\n');
}

static void entry_copy(struct tdp_entry *d, const struct tdp_entry *s)
{
	/* spelt out: a structure assignment may become a memcpy call */
	d->addr = s->addr;
	d->size = s->size;
	d->level = s->level;
	d->pte = s->pte;
	d->valid = s->valid;
	d->table = s->table;
	d->pa = s->pa;
	d->attr = s->attr;
	d->accessed = s->accessed;
	d->dirty = s->dirty;
}

static void run_start(struct run *r, const struct tdp_entry *e, uint64_t unit)
{
	entry_copy(&r->first, e);
	entry_copy(&r->last, e);
	r->n = 1;
	r->stride = 0;
	r->unit = unit;
}

/* Whether e continues the run (tables never do). */
static bool run_takes(const struct run *r, const struct tdp_entry *e, uint64_t unit)
{
	const struct tdp_entry *l = &r->last;

	if (!r->n || e->table || l->table || e->valid != l->valid || e->level != l->level ||
	    e->addr != l->addr + l->size)
		return false;
	if (!e->valid)
		return e->pte == l->pte;
	if (e->attr != l->attr || e->accessed != l->accessed || e->dirty != l->dirty ||
	    e->pa != l->pa + l->size || unit != r->unit)
		return false;
	if (unit > e->size)
		/* a member of the same group: the same value */
		return (e->addr & (unit - 1)) != 0 && e->pte == l->pte;
	return r->n == 1 || e->pte - l->pte == r->stride;
}

static void run_add(struct run *r, const struct tdp_entry *e)
{
	if (r->n == 1)
		r->stride = e->pte - r->last.pte;
	entry_copy(&r->last, e);
	r->n++;
}

/*
 * Print what the run holds. Two ordinary leaves print as two lines: one
 * step is no evidence that their raw values differ in address bits only.
 */
static void run_flush(struct out *o, struct run *r)
{
	if (r->n == 2 && r->first.valid && r->unit == r->first.size) {
		r->n = 1;
		put_line(o, r);
		entry_copy(&r->first, &r->last);
	}
	if (r->n)
		put_line(o, r);
	r->n = 0;
}

/* Fold e into the run or print the run and start a new one with e. */
static void run_push(struct out *o, struct run *r, const struct tdp_entry *e, uint64_t unit)
{
	if (o->fold && run_takes(r, e, unit)) {
		run_add(r, e);
		return;
	}
	/*
	 * Two ordinary leaves and a third that does not follow their step: the
	 * first goes alone, and the second may start a run with the third.
	 */
	if (o->fold && r->n == 2 && r->first.valid && !r->first.table && r->unit == r->first.size) {
		r->n = 1;
		put_line(o, r);
		entry_copy(&r->first, &r->last);
		if (run_takes(r, e, unit)) {
			run_add(r, e);
			return;
		}
	}
	run_flush(o, r);
	run_start(r, e, unit);
}

/* ------------------------------------------------------------------ */
/* Text                                                                */

/* Only tdp_lookup tells a group member from an ordinary leaf. */
static uint64_t entry_unit(const struct tdp_pgtable *pgt, const struct tdp_entry *e)
{
	return e->valid && !e->table ? leaf_unit(pgt, e) : e->size;
}

/* Out of line, like dump_dot: tdp_dump's frame then holds only one of them. */
static __attribute__((noinline)) void dump_text(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t end, bool empty,
		      struct out *o)
{
	struct tdp_iter it;
	struct tdp_entry e;
	struct run r;

	r.n = 0;
	put_s(o, "root ");
	put_hex(o, pgt->root_pa);
	put_s(o, " levels ");
	put_dec(o, pgt->geo.levels);
	put_c(o, '\n');
	tdp_for_each_entry(it, pgt, gpa, end) {
		if (o->ret)
			return;
		tdp_iter_entry(&it, &e);
		if (e.valid || empty)
			run_push(o, &r, &e, entry_unit(pgt, &e));
	}
	run_flush(o, &r);
}

/* ------------------------------------------------------------------ */
/* DOT                                                                 */

static void put_node_id(struct out *o, uint64_t pa)
{
	put_c(o, 't');
	put_hex16(o, pa);
}

/*
 * One record node: the table at `pa` whose entries sit at `level`, with
 * its valid entries inside [start, end) (one table's span, clipped to the
 * range). A second iterator stopping at `level` reads them, so that the
 * node is written in one piece while the caller's iterator is mid-walk.
 */
static void dot_node(const struct tdp_pgtable *pgt, unsigned int level, uint64_t pa,
		     uint64_t start, uint64_t end, struct out *o)
{
	struct tdp_iter it;
	struct tdp_entry e;
	struct run r;

	r.n = 0;
	put_s(o, "  ");
	put_node_id(o, pa);
	put_s(o, " [label=\"L");
	put_dec(o, level);
	put_s(o, level == o->top ? " root " : " table ");
	put_hex(o, pa);
	put_s(o, "\\l");
	if (tdp_iter_start(&it, pgt, start, end, level) == 0) {
		for (; it.valid && !o->ret; tdp_iter_next(&it)) {
			tdp_iter_entry(&it, &e);
			/* the entries above are the path down to this table */
			if (e.level == level && e.valid)
				run_push(o, &r, &e, entry_unit(pgt, &e));
		}
	}
	run_flush(o, &r);
	put_s(o, "\"];\n");
}

static __attribute__((noinline)) void dump_dot(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t end, struct out *o)
{
	/* pa of the table holding the entries of each level on the current path */
	uint64_t path[TDP_MAX_LEVELS];
	struct tdp_iter it;
	struct tdp_entry e;

	put_s(o, "digraph tdp {\n  rankdir=LR;\n"
		 "  node [shape=record, fontname=\"monospace\", fontsize=10];\n");
	path[o->top] = pgt->root_pa;
	dot_node(pgt, o->top, pgt->root_pa, gpa, end, o);
	/* level-0 entries are never tables: the walk need not read them */
	if (o->top > 0 && tdp_iter_start(&it, pgt, gpa, end, 1) == 0) {
		for (; it.valid && !o->ret; tdp_iter_next(&it)) {
			tdp_iter_entry(&it, &e);
			if (!e.table)
				continue;
			path[e.level - 1] = e.pa;
			dot_node(pgt, e.level - 1, e.pa, e.addr > gpa ? e.addr : gpa,
				 e.addr + e.size < end ? e.addr + e.size : end, o);
			put_s(o, "  ");
			put_node_id(o, path[e.level]);
			put_s(o, ":e");
			put_hex16(o, e.addr);
			put_s(o, " -> ");
			put_node_id(o, e.pa);
			put_s(o, ";\n");
		}
	}
	put_s(o, "}\n");
}

int tdp_dump(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, unsigned int flags,
	     tdp_dump_write_fn fn, void *ctx)
{
	const unsigned int known = TDP_DUMP_FORMAT_MASK | TDP_DUMP_EMPTY | TDP_DUMP_NOFOLD;
	unsigned int fmt = flags & TDP_DUMP_FORMAT_MASK;
	struct out o;
	int ret = tdp__range_refusal(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	if (!fn)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_NULL);
	if ((flags & ~known) || fmt > TDP_DUMP_DOT || (fmt == TDP_DUMP_DOT && (flags & TDP_DUMP_EMPTY)))
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_FLAGS);
	o.fn = fn;
	o.ctx = ctx;
	o.ret = 0;
	o.n = 0;
	o.top = pgt->geo.levels - 1;
	o.dot = fmt == TDP_DUMP_DOT;
	o.fold = !(flags & TDP_DUMP_NOFOLD);
	if (o.dot)
		dump_dot(pgt, gpa, gpa + size, &o);
	else
		dump_text(pgt, gpa, gpa + size, flags & TDP_DUMP_EMPTY, &o);
	flush(&o);
	return o.ret;
}
