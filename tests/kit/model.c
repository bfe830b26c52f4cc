/* SPDX-License-Identifier: MIT */
/*
 * A model of the expected translations: sorted, non-overlapping extents
 * {gpa, size, hpa, attr}, kept merged where contiguous and equal, so two
 * tables that translate the same way have equal models whatever their leaf
 * sizes.
 */
#include "kit_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tk_model_init(struct tk_model *m)
{
	memset(m, 0, sizeof(*m));
}

void tk_model_free(struct tk_model *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static void push(struct tk_model *m, const struct tk_ext *e)
{
	if (m->n && m->v[m->n - 1].gpa + m->v[m->n - 1].size == e->gpa &&
	    m->v[m->n - 1].hpa + m->v[m->n - 1].size == e->hpa && m->v[m->n - 1].attr == e->attr) {
		m->v[m->n - 1].size += e->size;
		return;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct tk_ext *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			abort();
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = *e;
}

/* The first extent that ends above gpa (m->n if none): the model is sorted. */
static size_t first_ending_above(const struct tk_model *m, uint64_t gpa)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].gpa + m->v[mid].size > gpa)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * Rebuild the model: every extent is cut at [gpa, gpa + size); pieces
 * outside are kept, pieces inside go through `inside` (which may drop them
 * by returning false), and `extra` (if any) is inserted in order. Only the
 * extents that meet the range, and one unchanged neighbour on each side (to
 * merge with), are rebuilt and spliced back: the replay of change reports
 * makes one call per leaf, so a pass over the whole model each time would
 * make a large operation's check quadratic.
 */
static void rebuild(struct tk_model *m, uint64_t gpa, uint64_t size,
		    bool (*inside)(struct tk_ext *e, const void *arg), const void *arg,
		    const struct tk_ext *extra)
{
	struct tk_model out;
	uint64_t end = gpa + size;
	bool placed = extra == NULL;
	size_t first = first_ending_above(m, gpa), lo, hi, tail;

	lo = first ? first - 1 : 0;
	hi = first;
	while (hi < m->n && m->v[hi].gpa < end)
		hi++;
	if (hi < m->n)
		hi++;
	tk_model_init(&out);
	for (size_t i = lo; i < hi; i++) {
		struct tk_ext e = m->v[i];
		uint64_t eend = e.gpa + e.size;

		if (!placed && e.gpa >= gpa) {
			push(&out, extra);
			placed = true;
		}
		if (eend <= gpa || e.gpa >= end) {
			push(&out, &e);
			continue;
		}
		if (e.gpa < gpa) {
			struct tk_ext l = { e.gpa, gpa - e.gpa, e.hpa, e.attr };

			push(&out, &l);
		}
		{
			uint64_t s = e.gpa > gpa ? e.gpa : gpa;
			uint64_t t = eend < end ? eend : end;
			struct tk_ext mid = { s, t - s, e.hpa + (s - e.gpa), e.attr };

			if (!placed && extra->gpa <= s) {
				push(&out, extra);
				placed = true;
			}
			if (inside && inside(&mid, arg))
				push(&out, &mid);
		}
		if (eend > end) {
			struct tk_ext r = { end, eend - end, e.hpa + (end - e.gpa), e.attr };

			if (!placed) {
				push(&out, extra);
				placed = true;
			}
			push(&out, &r);
		}
	}
	if (!placed)
		push(&out, extra);
	/* splice: v[lo, hi) becomes out */
	tail = m->n - hi;
	if (m->n - (hi - lo) + out.n > m->cap) {
		size_t cap = m->cap ? m->cap : 64;
		struct tk_ext *v;

		while (cap < m->n - (hi - lo) + out.n)
			cap *= 2;
		v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			abort();
		m->v = v;
		m->cap = cap;
	}
	if (tail)
		memmove(&m->v[lo + out.n], &m->v[hi], tail * sizeof(*m->v));
	if (out.n)
		memcpy(&m->v[lo], out.v, out.n * sizeof(*m->v));
	m->n = lo + out.n + tail;
	tk_model_free(&out);
}

void tk_model_map(struct tk_model *m, uint64_t gpa, uint64_t hpa, uint64_t size, tdp_attr_t attr)
{
	struct tk_ext e = { gpa, size, hpa, attr };

	rebuild(m, gpa, size, NULL, NULL, &e);
}

void tk_model_unmap(struct tk_model *m, uint64_t gpa, uint64_t size)
{
	rebuild(m, gpa, size, NULL, NULL, NULL);
}

struct prot_arg {
	tdp_attr_t clear, set;
};

static bool prot_inside(struct tk_ext *e, const void *arg)
{
	const struct prot_arg *p = arg;

	e->attr = (e->attr & ~p->clear) | p->set;
	return true;
}

void tk_model_protect(struct tk_model *m, uint64_t gpa, uint64_t size, tdp_attr_t clear,
		      tdp_attr_t set)
{
	struct prot_arg p = { clear, set };

	rebuild(m, gpa, size, prot_inside, &p, NULL);
	/* merge neighbours that became equal */
	{
		struct tk_model out;

		tk_model_init(&out);
		for (size_t i = 0; i < m->n; i++)
			push(&out, &m->v[i]);
		free(m->v);
		*m = out;
	}
}

void tk_model_from_snap(struct tk_model *m, const struct tk_snap *s)
{
	tk_model_init(m);
	for (size_t i = 0; i < s->nr; i++) {
		struct tk_ext e = { s->leaves[i].gpa, s->leaves[i].size, s->leaves[i].pa,
				    s->leaves[i].attr };

		push(m, &e);
	}
}

bool tk_model_equal(const struct tk_model *a, const struct tk_model *b, char *why, size_t whylen)
{
	size_t n = a->n < b->n ? a->n : b->n;

	for (size_t i = 0; i < n; i++) {
		const struct tk_ext *x = &a->v[i], *y = &b->v[i];

		if (x->gpa != y->gpa || x->size != y->size || x->hpa != y->hpa || x->attr != y->attr) {
			if (why)
				snprintf(why, whylen,
					 "extent %zu: [0x%llx +0x%llx -> 0x%llx attr 0x%x] vs "
					 "[0x%llx +0x%llx -> 0x%llx attr 0x%x]",
					 i, (unsigned long long)x->gpa, (unsigned long long)x->size,
					 (unsigned long long)x->hpa, x->attr, (unsigned long long)y->gpa,
					 (unsigned long long)y->size, (unsigned long long)y->hpa, y->attr);
			return false;
		}
	}
	if (a->n != b->n) {
		if (why) {
			const struct tk_ext *x = a->n > b->n ? &a->v[n] : &b->v[n];

			snprintf(why, whylen, "%zu vs %zu extents; first extra [0x%llx +0x%llx -> 0x%llx attr 0x%x] in the %s",
				 a->n, b->n, (unsigned long long)x->gpa, (unsigned long long)x->size,
				 (unsigned long long)x->hpa, x->attr, a->n > b->n ? "first" : "second");
		}
		return false;
	}
	return true;
}

bool tk_model_any(const struct tk_model *m, uint64_t gpa, uint64_t size)
{
	size_t i = first_ending_above(m, gpa);

	return i < m->n && m->v[i].gpa < gpa + size;
}

void tk_model_append(struct tk_model *m, uint64_t gpa, uint64_t size, uint64_t hpa, tdp_attr_t attr)
{
	struct tk_ext e = { gpa, size, hpa, attr };

	push(m, &e);
}

void tk_model_clip(const struct tk_model *m, uint64_t lo, uint64_t hi, struct tk_model *out)
{
	tk_model_init(out);
	for (size_t i = first_ending_above(m, lo); i < m->n && m->v[i].gpa < hi; i++) {
		const struct tk_ext *e = &m->v[i];
		uint64_t s = e->gpa > lo ? e->gpa : lo;
		uint64_t t = e->gpa + e->size < hi ? e->gpa + e->size : hi;

		if (s < t)
			tk_model_append(out, s, t - s, e->hpa + (s - e->gpa), e->attr);
	}
}
