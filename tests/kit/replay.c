/* SPDX-License-Identifier: MIT */
/*
 * The change reports (tdp/changes.h) replayed onto a model of their own:
 * a table's leaves as a caller would know them from the reports alone. Each
 * report is checked against that model before it is applied (a leaf
 * removed or updated must be there exactly as reported, a leaf added must
 * land where nothing translates), against the call running (the op, and
 * the span its changes may touch), and the differential driver compares the
 * model with what the reference walker reads after every operation.
 */
#include "kit_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void bad(struct tk_replay *r, const char *fmt, ...)
{
	va_list ap;

	if (r->bad)
		return;
	r->bad = true;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/* The model holds exactly e's leaf over e's span. */
static bool holds(const struct tk_replay *r, const struct tdp_entry *e)
{
	struct tk_model part;
	bool ok;

	tk_model_clip(&r->m, e->addr, e->addr + e->size, &part);
	ok = part.n == 1 && part.v[0].gpa == e->addr && part.v[0].size == e->size &&
	     part.v[0].hpa == e->pa && part.v[0].attr == e->attr;
	tk_model_free(&part);
	return ok;
}

/* Record the first inconsistency and drop the report. */
#define FAIL(...)                         \
	do {                              \
		bad(r, __VA_ARGS__);      \
		return;                   \
	} while (0)

static void leaf_changed(void *ctx, const struct tdp_change *c)
{
	struct tk_replay *r = ctx;
	const struct tdp_entry *e = c->kind == TDP_CHANGE_ADD ? &c->new : &c->old;

	r->count++;
	if (r->bad)
		return;
	if (!r->op || (unsigned int)c->op != r->op)
		FAIL("a report from op %d while op %u runs", (int)c->op, r->op);
	if (e->addr < r->lo || e->addr + e->size > r->hi || e->addr + e->size < e->addr)
		FAIL("a report at [0x%llx +0x%llx), outside [0x%llx, 0x%llx) the call may touch",
		    (unsigned long long)e->addr, (unsigned long long)e->size,
		     (unsigned long long)r->lo, (unsigned long long)r->hi);
	switch (c->kind) {
	case TDP_CHANGE_ADD:
		if (c->old.valid || !c->new.valid || c->new.table)
			FAIL("ADD with old.valid %d, new.valid %d, new.table %d",
				   c->old.valid, c->new.valid, c->new.table);
		break;
	case TDP_CHANGE_REMOVE:
		if (!c->old.valid || c->old.table || c->new.valid)
			FAIL("REMOVE with old.valid %d, old.table %d, new.valid %d",
				   c->old.valid, c->old.table, c->new.valid);
		break;
	case TDP_CHANGE_UPDATE:
		if (!c->old.valid || !c->new.valid || c->old.table || c->new.table ||
		    c->old.addr != c->new.addr || c->old.level != c->new.level)
			FAIL("UPDATE of [0x%llx L%u] to [0x%llx L%u]",
				   (unsigned long long)c->old.addr, c->old.level,
				   (unsigned long long)c->new.addr, c->new.level);
		break;
	default:
		FAIL("unknown kind %d", (int)c->kind);
	}
	if (c->kind != TDP_CHANGE_ADD) {
		if (!holds(r, &c->old))
			FAIL("%s of [0x%llx +0x%llx -> 0x%llx attr 0x%x], which the reports "
				   "never made", c->kind == TDP_CHANGE_REMOVE ? "REMOVE" : "UPDATE",
				   (unsigned long long)c->old.addr, (unsigned long long)c->old.size,
				   (unsigned long long)c->old.pa, c->old.attr);
		tk_model_unmap(&r->m, c->old.addr, c->old.size);
		r->removed++;
		r->dirty_removed += c->kind == TDP_CHANGE_REMOVE && c->old.dirty;
	}
	if (c->kind != TDP_CHANGE_REMOVE) {
		if (tk_model_any(&r->m, c->new.addr, c->new.size))
			FAIL("%s of [0x%llx +0x%llx] over a leaf the reports left there",
				   c->kind == TDP_CHANGE_ADD ? "ADD" : "UPDATE",
				   (unsigned long long)c->new.addr, (unsigned long long)c->new.size);
		tk_model_map(&r->m, c->new.addr, c->new.pa, c->new.size, c->new.attr);
		r->added++;
	}
	r->reshaped += c->reshape;
}

static const struct tdp_change_ops replay_ops = { leaf_changed };

void tk_replay_init(struct tk_replay *r)
{
	memset(r, 0, sizeof(*r));
	tk_model_init(&r->m);
}

void tk_replay_free(struct tk_replay *r)
{
	tk_model_free(&r->m);
}

void tk_replay_config(struct tk_replay *r, struct tdp_config *cfg)
{
	cfg->changes = &replay_ops;
	cfg->changes_ctx = r;
}

void tk_replay_begin(struct tk_replay *r, unsigned int op, uint64_t lo, uint64_t hi)
{
	r->op = op;
	r->lo = lo;
	r->hi = hi;
	r->count = 0;
}
