/* SPDX-License-Identifier: MIT */
/*
 * A recorder of change reports (tdp/changes.h) for the tests that check
 * them (test_hwrace.c, test_dirty_removal.c): every report a table gives
 * to leaf_changed is kept, in order, in one static buffer (static, so a
 * table that sf_teardown destroys after a failed body still reports into
 * live memory).
 */
#ifndef TDP_TESTS_CHANGE_REC_H
#define TDP_TESTS_CHANGE_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <tdp/changes.h>

#define CR_MAX 8192

static struct {
	size_t n;     /* reports since cr_reset (also those past CR_MAX) */
	struct tdp_change r[CR_MAX];
} cr;

static void cr_leaf_changed(void *ctx, const struct tdp_change *c)
{
	(void)ctx;
	if (cr.n < CR_MAX)
		cr.r[cr.n] = *c;
	cr.n++;
}

static const struct tdp_change_ops cr_ops = { cr_leaf_changed };

static inline void cr_reset(void)
{
	cr.n = 0;
}

static inline const char *cr_kind_name(enum tdp_change_kind k)
{
	return k == TDP_CHANGE_ADD ? "ADD" : k == TDP_CHANGE_UPDATE ? "UPDATE"
		: k == TDP_CHANGE_REMOVE ? "REMOVE" : "?";
}

/* Print the reports recorded so far (for a failure's context). */
static inline void cr_print(void)
{
	size_t n = cr.n < CR_MAX ? cr.n : CR_MAX;

	for (size_t i = 0; i < n && i < 64; i++) {
		const struct tdp_change *c = &cr.r[i];
		const struct tdp_entry *e = c->kind == TDP_CHANGE_ADD ? &c->new : &c->old;

		fprintf(stderr, "  #%zu op %d %s%s addr 0x%llx size 0x%llx old.pa 0x%llx "
			"old A%d D%d new.pa 0x%llx new A%d D%d\n", i, (int)c->op,
			cr_kind_name(c->kind), c->reshape ? " reshape" : "",
			(unsigned long long)e->addr, (unsigned long long)e->size,
			(unsigned long long)c->old.pa, c->old.accessed, c->old.dirty,
			(unsigned long long)c->new.pa, c->new.accessed, c->new.dirty);
	}
	if (n > 64)
		fprintf(stderr, "  ... %zu reports in all\n", cr.n);
}

#endif
