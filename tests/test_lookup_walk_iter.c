/* SPDX-License-Identifier: MIT */
/*
 * tdp_lookup, tdp_walk (leaf / pre / post / invalid visits, stop values)
 * and the iterator (for-each, start position, min_level, restart), all
 * compared with the reference walker.
 */
#include "common.h"

struct coll {
	struct tdp_entry *v;
	unsigned int *visit;
	size_t n, cap;
	size_t stop_at; /* return stop_val on this call (1-based); 0: never */
	int stop_val;
};

static void coll_push(struct coll *c, const struct tdp_entry *e, unsigned int visit)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		c->visit = realloc(c->visit, c->cap * sizeof(*c->visit));
		assert_non_null(c->v);
		assert_non_null(c->visit);
	}
	c->v[c->n] = *e;
	c->visit[c->n] = visit;
	c->n++;
}

static void coll_free(struct coll *c)
{
	free(c->v);
	free(c->visit);
	memset(c, 0, sizeof(*c));
}

static int collect(const struct tdp_entry *e, unsigned int visit, void *arg)
{
	struct coll *c = arg;

	coll_push(c, e, visit);
	if (c->stop_at && c->n == c->stop_at)
		return c->stop_val;
	return 0;
}

static void populate(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;

	assert_int_equal(tk_fx_map(fx, b - fx->blk - 3 * fx->P, h - fx->blk - 3 * fx->P,
				   3 * fx->P + 2 * fx->blk + fx->big + 2 * fx->P, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, b + 3 * fx->big + 5 * fx->P, h, 2 * fx->P,
				   A_RO | TDP_SW(3), 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, 0, 0, fx->P, FIT(fx, A_DEV), 0, NULL), 0);
}

/* An entry as the walk / iterator present it must agree with the reference leaf. */
static void check_leaf_entry(struct tk_fx *fx, const struct tdp_entry *e, const struct tk_leaf *l)
{
	assert_true(e->valid);
	assert_false(e->table);
	assert_int_equal(e->addr, l->gpa);
	assert_int_equal(e->size, l->size);
	assert_int_equal(e->level, l->level);
	assert_int_equal(e->pte, l->pte);
	assert_int_equal(e->pa, l->pa);
	assert_int_equal(e->attr, l->attr);
	assert_int_equal(e->size, tdp_level_size(&fx->pgt, e->level));
}

static void t_lookup_details(struct tk_fx *fx)
{
	uint64_t b = fx->base, h = fx->hbase;
	struct tdp_lookup_result r;

	populate(fx);
	assert_int_equal(tdp_lookup(&fx->pgt, b + 12345, &r), 0);
	assert_int_equal(r.hpa, h + 12345);
	assert_int_equal(r.size, fx->big);
	assert_int_equal(r.level, fx->top);
	assert_int_equal(r.attr, A_RW);
	assert_int_equal(tdp_lookup(&fx->pgt, b + fx->big - 1, &r), 0);
	assert_int_equal(r.hpa, h + fx->big - 1);
	assert_int_equal(tdp_lookup(&fx->pgt, b + 3 * fx->big + 5 * fx->P + 77, &r), 0);
	assert_int_equal(r.hpa, h + 77);
	assert_int_equal(r.size, fx->P);
	assert_int_equal(r.level, 0);
	assert_int_equal(r.attr, A_RO | TDP_SW(3));
	assert_int_equal(tdp_lookup(&fx->pgt, 1, &r), 0);
	assert_int_equal(r.attr, FIT(fx, A_DEV));
	assert_int_equal(tdp_lookup(&fx->pgt, b + 3 * fx->big + 4 * fx->P + 5, &r), -TDP_ENOENT);
	assert_int_equal(tdp_lookup(&fx->pgt, fx->P, &r), -TDP_ENOENT);
	assert_int_equal(tdp_lookup(&fx->pgt, (1ull << fx->cd->ia) - 1, &r), -TDP_ENOENT);
}

/* Leaf visits: exactly the reference leaves intersecting the range, in order. */
static void t_walk_leaves(struct tk_fx *fx)
{
	uint64_t gpa = fx->base - fx->blk, end = fx->base + 4 * fx->big;
	struct tk_snap s;
	struct coll c = { 0 };
	size_t k = 0;

	populate(fx);
	/* start in the middle of a block: the block is still reported whole */
	gpa += fx->P;
	assert_int_equal(tdp_walk(&fx->pgt, gpa, end - gpa, TDP_WALK_LEAF, collect, &c), 0);
	tk_snap_take(fx->env, &fx->pgt, &s);
	for (size_t i = 0; i < s.nr; i++) {
		const struct tk_leaf *l = &s.leaves[i];

		if (l->gpa + l->size <= gpa || l->gpa >= end)
			continue;
		assert_true(k < c.n);
		assert_int_equal(c.visit[k], TDP_WALK_LEAF);
		check_leaf_entry(fx, &c.v[k], l);
		k++;
	}
	assert_int_equal(k, c.n);
	assert_true(k > 3);
	tk_snap_free(&s);
	coll_free(&c);
}

/* Pre and post visits nest properly around the leaves, and match the tables. */
static void t_walk_pre_post(struct tk_fx *fx)
{
	uint64_t ia_end = 1ull << fx->cd->ia;
	struct tk_snap s;
	struct coll c = { 0 };
	struct tdp_entry stack[TDP_MAX_LEVELS + 1];
	size_t depth = 0, pre = 0, post = 0, leaves = 0;

	populate(fx);
	assert_int_equal(tdp_walk(&fx->pgt, 0, ia_end,
				  TDP_WALK_LEAF | TDP_WALK_TABLE_PRE | TDP_WALK_TABLE_POST, collect, &c),
			 0);
	tk_snap_take(fx->env, &fx->pgt, &s);
	for (size_t i = 0; i < c.n; i++) {
		const struct tdp_entry *e = &c.v[i];

		assert_true(e->valid);
		if (depth) {
			/* inside the enclosing table entry, one level down */
			assert_true(e->addr >= stack[depth - 1].addr);
			assert_true(e->addr + e->size <= stack[depth - 1].addr + stack[depth - 1].size);
			if (c.visit[i] != TDP_WALK_TABLE_POST)
				assert_int_equal(e->level + 1, stack[depth - 1].level);
		} else if (c.visit[i] != TDP_WALK_TABLE_POST) {
			assert_int_equal(e->level, fx->g.levels - 1);
		}
		switch (c.visit[i]) {
		case TDP_WALK_TABLE_PRE: {
			bool found = false;

			assert_true(e->table);
			assert_int_equal(e->attr, 0);
			for (size_t t = 0; t < s.nr_tables; t++)
				if (s.tables[t].pa == e->pa && s.tables[t].gpa == e->addr &&
				    s.tables[t].level + 1 == e->level)
					found = true;
			assert_true(found);
			assert_true(depth < TDP_MAX_LEVELS);
			stack[depth++] = *e;
			pre++;
			break;
		}
		case TDP_WALK_TABLE_POST:
			assert_true(depth > 0);
			depth--;
			assert_int_equal(e->addr, stack[depth].addr);
			assert_int_equal(e->level, stack[depth].level);
			assert_int_equal(e->pa, stack[depth].pa);
			assert_true(e->table);
			post++;
			break;
		case TDP_WALK_LEAF:
			assert_true(leaves < s.nr);
			check_leaf_entry(fx, e, &s.leaves[leaves]);
			leaves++;
			break;
		default:
			fail_msg("unexpected visit %u", c.visit[i]);
		}
	}
	assert_int_equal(depth, 0);
	assert_int_equal(pre, s.nr_tables);
	assert_int_equal(post, s.nr_tables);
	assert_int_equal(leaves, s.nr);
	tk_snap_free(&s);
	coll_free(&c);

	/* only pre visits */
	memset(&c, 0, sizeof(c));
	assert_int_equal(tdp_walk(&fx->pgt, 0, ia_end, TDP_WALK_TABLE_PRE, collect, &c), 0);
	assert_int_equal(c.n, pre);
	coll_free(&c);
}

/* Invalid visits: every empty entry once, at the level it sits. */
static void t_walk_invalid(struct tk_fx *fx)
{
	uint64_t b = fx->base + 3 * fx->big; /* the page table holding 2 pages at +5P */
	struct coll c = { 0 };
	size_t inval = 0, leaf = 0;
	uint64_t covered = 0;

	populate(fx);
	assert_int_equal(tdp_walk(&fx->pgt, b, fx->blk, TDP_WALK_LEAF | TDP_WALK_INVALID, collect, &c),
			 0);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.v[i].addr & (c.v[i].size - 1), 0);
		covered += c.v[i].size;
		if (c.visit[i] == TDP_WALK_INVALID) {
			assert_false(c.v[i].valid);
			assert_int_equal(c.v[i].pa, 0);
			assert_int_equal(c.v[i].attr, 0);
			assert_int_equal(c.v[i].level, 0);
			inval++;
		} else {
			assert_int_equal(c.visit[i], TDP_WALK_LEAF);
			leaf++;
		}
	}
	assert_int_equal(leaf, 2);
	assert_int_equal(inval, fx->blk / fx->P - 2);
	assert_int_equal(covered, fx->blk);
	coll_free(&c);
	/* an empty top-level region: one invalid entry at the root level */
	if (fx->g.levels >= 2) {
		uint64_t rsz = tdp_level_size(&fx->pgt, fx->g.levels - 1);
		uint64_t g = (1ull << fx->cd->ia) - rsz;

		memset(&c, 0, sizeof(c));
		assert_int_equal(tdp_walk(&fx->pgt, g, rsz, TDP_WALK_INVALID | TDP_WALK_LEAF, collect, &c),
				 0);
		assert_int_equal(c.n, 1);
		assert_int_equal(c.v[0].level, fx->g.levels - 1);
		assert_int_equal(c.v[0].addr, g);
		assert_false(c.v[0].valid);
		coll_free(&c);
	}
}

/* The visitor's non-zero value stops the walk and is returned. */
static void t_walk_stop(struct tk_fx *fx)
{
	uint64_t ia_end = 1ull << fx->cd->ia;
	struct coll c = { 0 };

	populate(fx);
	c.stop_at = 3;
	c.stop_val = 42;
	assert_int_equal(tdp_walk(&fx->pgt, 0, ia_end, TDP_WALK_LEAF, collect, &c), 42);
	assert_int_equal(c.n, 3);
	coll_free(&c);
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	c.stop_val = -12345;
	assert_int_equal(tdp_walk(&fx->pgt, 0, ia_end, TDP_WALK_TABLE_PRE | TDP_WALK_LEAF, collect, &c),
			 -12345);
	assert_int_equal(c.n, 1);
	coll_free(&c);
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	c.stop_val = 7;
	assert_int_equal(tdp_walk(&fx->pgt, 0, ia_end, TDP_WALK_TABLE_POST, collect, &c), 7);
	assert_int_equal(c.n, 2);
	coll_free(&c);
}

/* Collect the iterator's entries. */
static void iter_collect(struct tk_fx *fx, uint64_t start, uint64_t end, unsigned int min_level,
			 struct coll *c)
{
	struct tdp_iter it;
	size_t guard = 0;

	assert_int_equal(tdp_iter_start(&it, &fx->pgt, start, end, min_level), 0);
	while (it.valid) {
		struct tdp_entry e;

		tdp_iter_entry(&it, &e);
		assert_true(it.addr >= e.addr && it.addr < e.addr + e.size);
		coll_push(c, &e, 0);
		tdp_iter_next(&it);
		assert_true(++guard < 1000000);
	}
}

/* The for-each macro and the iterator: pre-order, leaves = reference leaves. */
static void t_iter_for_each(struct tk_fx *fx)
{
	uint64_t start = fx->base - fx->blk - 3 * fx->P, end = fx->base + 4 * fx->big;
	struct tk_snap s;
	struct tdp_iter it;
	struct coll c = { 0 }, d = { 0 };
	size_t k = 0, tables = 0;

	populate(fx);
	tdp_for_each_entry(it, &fx->pgt, start, end) {
		struct tdp_entry e;

		tdp_iter_entry(&it, &e);
		coll_push(&c, &e, 0);
	}
	iter_collect(fx, start, end, 0, &d);
	assert_int_equal(c.n, d.n);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.v[i].addr, d.v[i].addr);
		assert_int_equal(c.v[i].level, d.v[i].level);
		assert_int_equal(c.v[i].pte, d.v[i].pte);
	}
	tk_snap_take(fx->env, &fx->pgt, &s);
	for (size_t i = 0; i < c.n; i++) {
		const struct tdp_entry *e = &c.v[i];

		assert_true(e->addr < end && e->addr + e->size > start);
		if (i > 0 && e->level < c.v[i - 1].level) {
			/* going down: the previous entry is the table holding this one */
			assert_true(c.v[i - 1].table);
			assert_int_equal(e->level + 1, c.v[i - 1].level);
			assert_true(e->addr >= c.v[i - 1].addr);
		}
		if (e->table) {
			tables++;
			continue;
		}
		if (!e->valid)
			continue;
		while (k < s.nr && s.leaves[k].gpa + s.leaves[k].size <= start)
			k++;
		assert_true(k < s.nr);
		check_leaf_entry(fx, e, &s.leaves[k]);
		k++;
	}
	assert_true(k == s.nr || s.leaves[k].gpa >= end);
	assert_true(tables > 0);
	tk_snap_free(&s);
	coll_free(&c);
	coll_free(&d);
}

/* start positions the iterator at the root-level entry covering start. */
static void t_iter_start_position(struct tk_fx *fx)
{
	struct tdp_iter it;
	struct tdp_entry e;
	uint64_t start = fx->base + fx->blk + 3 * fx->P;
	uint64_t rsz = tdp_level_size(&fx->pgt, fx->g.levels - 1);

	populate(fx);
	assert_int_equal(tdp_iter_start(&it, &fx->pgt, start, start + fx->P, 0), 0);
	assert_true(it.valid);
	assert_int_equal(it.level, fx->g.levels - 1);
	tdp_iter_entry(&it, &e);
	assert_int_equal(e.level, fx->g.levels - 1);
	assert_int_equal(e.addr, start & ~(rsz - 1));
	assert_int_equal(e.size, rsz);
}

/* min_level: nothing below it is visited. */
static void t_iter_min_level(struct tk_fx *fx)
{
	struct coll c = { 0 };
	size_t tables_at_1 = 0;

	populate(fx);
	iter_collect(fx, 0, 1ull << fx->cd->ia, 1, &c);
	for (size_t i = 0; i < c.n; i++) {
		assert_true(c.v[i].level >= 1);
		if (c.v[i].level == 1 && c.v[i].table)
			tables_at_1++;
	}
	assert_true(tables_at_1 >= 2); /* page tables exist but are not entered */
	coll_free(&c);
}

/* Restarting at every step gives the same sequence as not restarting. */
static void t_iter_restart_same(struct tk_fx *fx)
{
	uint64_t start = fx->base - fx->blk - 3 * fx->P, end = fx->base + 4 * fx->big;
	struct coll c = { 0 }, d = { 0 };
	struct tdp_iter it;

	populate(fx);
	iter_collect(fx, start, end, 0, &c);
	assert_int_equal(tdp_iter_start(&it, &fx->pgt, start, end, 0), 0);
	while (it.valid) {
		struct tdp_entry e;

		tdp_iter_restart(&it);
		assert_true(it.valid);
		tdp_iter_entry(&it, &e);
		coll_push(&d, &e, 0);
		tdp_iter_next(&it);
		if (d.n > c.n)
			fail_msg("restarting at every step visits more entries than iterating (%zu): "
				 "entry %zu is addr 0x%llx level %u again",
				 c.n, d.n, ULL(e.addr), e.level);
	}
	assert_int_equal(c.n, d.n);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.v[i].addr, d.v[i].addr);
		assert_int_equal(c.v[i].level, d.v[i].level);
		assert_int_equal(c.v[i].pte, d.v[i].pte);
	}
	coll_free(&c);
	coll_free(&d);
}

/* After the table changes under the iterator, restart sees the new table. */
static void t_iter_restart_after_change(struct tk_fx *fx)
{
	uint64_t start = fx->base - fx->blk - 3 * fx->P, end = fx->base + 4 * fx->big;
	uint64_t newg = fx->base + 2 * fx->big + 7 * fx->P;
	struct tdp_iter it;
	struct tk_snap s;
	struct coll d = { 0 };
	uint64_t pos;
	size_t k;

	populate(fx);
	assert_int_equal(tdp_iter_start(&it, &fx->pgt, start, end, 0), 0);
	/* advance to the first leaf */
	for (;;) {
		struct tdp_entry e;

		assert_true(it.valid);
		tdp_iter_entry(&it, &e);
		if (e.valid && !e.table)
			break;
		tdp_iter_next(&it);
	}
	pos = it.addr;
	/* change everything after it: drop the big mapping, add pages elsewhere */
	assert_int_equal(tk_fx_unmap(fx, fx->base - fx->blk, fx->blk + fx->big + fx->blk + 2 * fx->P,
				     NULL), 0);
	assert_int_equal(tk_fx_map(fx, newg, fx->hbase, 3 * fx->P, A_RWX, 0, NULL), 0);
	tdp_iter_restart(&it);
	assert_true(it.addr == pos);
	while (it.valid) {
		struct tdp_entry e;

		tdp_iter_entry(&it, &e);
		if (e.valid && !e.table && e.addr > pos)
			coll_push(&d, &e, 0);
		tdp_iter_next(&it);
	}
	tk_snap_take(fx->env, &fx->pgt, &s);
	k = 0;
	for (size_t i = 0; i < s.nr; i++) {
		if (s.leaves[i].gpa <= pos || s.leaves[i].gpa >= end)
			continue;
		assert_true(k < d.n);
		check_leaf_entry(fx, &d.v[k], &s.leaves[i]);
		k++;
	}
	assert_int_equal(k, d.n);
	assert_true(k >= 5); /* the 2 RO pages and the 3 new ones */
	tk_snap_free(&s);
	coll_free(&d);
}

static const struct tcase cases[] = {
	CASE(t_lookup_details),
	CASE(t_walk_leaves),
	CASE(t_walk_pre_post),
	CASE(t_walk_invalid),
	CASE(t_walk_stop),
	CASE(t_iter_for_each),
	CASE(t_iter_start_position),
	CASE(t_iter_min_level),
	CASE(t_iter_restart_same),
	CASE(t_iter_restart_after_change),
};

int main(void)
{
	return run_cases("lookup-walk-iter", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
