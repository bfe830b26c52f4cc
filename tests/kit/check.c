/* SPDX-License-Identifier: MIT */
/*
 * Check helpers with cmocka assertions: structure, model, layout, TLB
 * flushes, destroy; and the fixture with checked operations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kit_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ULL(x) ((unsigned long long)(x))

static void check_geometry(const struct tdp_pgtable *pgt)
{
	struct tk_geo g;

	assert_int_equal(tk_geo_cfg(&pgt->cfg, &g), 0);
	assert_int_equal(pgt->geo.levels, g.levels);
	assert_int_equal(pgt->geo.page_shift, g.page_shift);
	assert_int_equal(pgt->geo.bits_per_level, g.bits);
	assert_int_equal(pgt->geo.root_bits, g.root_bits);
	assert_int_equal(pgt->geo.root_tables, g.root_tables);
	assert_int_equal(pgt->geo.table_size, g.table_size);
	assert_int_equal(pgt->geo.root_size, g.root_size);
	assert_int_equal(pgt->geo.leaf_levels_mask, g.leaf_mask);
}

static void check_lookup_leaf(const struct tdp_pgtable *pgt, const struct tk_leaf *l, uint64_t off)
{
	struct tdp_lookup_result r;
	int rc;

	memset(&r, 0xee, sizeof(r));
	rc = tdp_lookup(pgt, l->gpa + off, &r);
	if (rc != 0)
		fail_msg("tdp_lookup(0x%llx) = %d, the reference walker finds a level-%u leaf at 0x%llx",
			 ULL(l->gpa + off), rc, l->level, ULL(l->gpa));
	if (r.hpa != l->pa + off || r.size != l->size || r.level != l->level || r.attr != l->attr ||
	    r.pte != l->pte)
		fail_msg("tdp_lookup(0x%llx): hpa 0x%llx size 0x%llx level %u attr 0x%x pte 0x%llx; "
			 "reference: hpa 0x%llx size 0x%llx level %u attr 0x%x pte 0x%llx",
			 ULL(l->gpa + off), ULL(r.hpa), ULL(r.size), r.level, r.attr, ULL(r.pte),
			 ULL(l->pa + off), ULL(l->size), l->level, l->attr, ULL(l->pte));
}

static void check_lookup_hole(const struct tdp_pgtable *pgt, uint64_t gpa)
{
	struct tdp_lookup_result r;
	int rc = tdp_lookup(pgt, gpa, &r);

	if (rc != -TDP_ENOENT)
		fail_msg("tdp_lookup(0x%llx) = %d (hpa 0x%llx), the reference walker finds no mapping",
			 ULL(gpa), rc, rc == 0 ? ULL(r.hpa) : 0ull);
}

void tk_check_table(struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, size_t extra_blocks)
{
	struct tk_snap s;
	uint64_t limit = 1ull << pgt->cfg.ia_bits;
	size_t stride;

	check_geometry(pgt);
	tk_snap_take(env, pgt, &s);
	if (s.anomalies)
		fail_msg("reference walker: %zu anomalies, first: %s", s.anomalies, s.first_anomaly);
	if (s.empty_tables)
		fail_msg("%zu empty non-root tables are still linked", s.empty_tables);
	if (env->errors)
		fail_msg("pool errors: %zu, first: %s", env->errors, env->first_error);
	if (env->out_blocks != 1 + s.nr_tables + extra_blocks)
		fail_msg("pool holds %zu blocks; reachable: root + %zu tables, + %zu expected elsewhere "
			 "(orphaned or leaked tables?)",
			 env->out_blocks, s.nr_tables, extra_blocks);
	/* lookup agrees with the reference walker (sampled) */
	stride = s.nr / 256 + 1;
	if (s.nr == 0) {
		check_lookup_hole(pgt, 0);
		check_lookup_hole(pgt, limit - 1);
	} else {
		if (s.leaves[0].gpa > 0)
			check_lookup_hole(pgt, 0);
	}
	for (size_t i = 0; i < s.nr; i++) {
		const struct tk_leaf *l = &s.leaves[i];
		uint64_t end = l->gpa + l->size;
		uint64_t next = i + 1 < s.nr ? s.leaves[i + 1].gpa : limit;

		if (i % stride == 0 || i + 1 == s.nr) {
			check_lookup_leaf(pgt, l, 0);
			check_lookup_leaf(pgt, l, l->size / 2 + 8);
			check_lookup_leaf(pgt, l, l->size - 1);
		}
		if (next > end) {
			check_lookup_hole(pgt, end);
			check_lookup_hole(pgt, next - 1);
		}
	}
	tk_snap_free(&s);
}

void tk_check_model(struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, const struct tk_model *m,
		    size_t extra_blocks)
{
	struct tk_snap s;
	struct tk_model got;
	char why[300];

	tk_snap_take(env, pgt, &s);
	tk_model_from_snap(&got, &s);
	if (!tk_model_equal(&got, m, why, sizeof(why)))
		fail_msg("table (first) and model (second) differ: %s", why);
	tk_model_free(&got);
	tk_snap_free(&s);
	tk_check_table(env, pgt, extra_blocks);
}

size_t tk_expect_leaves(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t hpa, uint64_t size,
			int max_level, struct tk_leaf *out, size_t max)
{
	struct tk_geo g;
	uint32_t mask;
	uint64_t end = gpa + size;
	size_t n = 0;

	if (tk_geo_cfg(&pgt->cfg, &g))
		return 0;
	mask = g.leaf_mask;
	if (max_level >= 0)
		mask &= (2u << max_level) - 1;
	while (gpa < end) {
		for (int l = (int)g.levels - 1; l >= 0; l--) {
			uint64_t sz = tk_level_size(&g, (unsigned int)l);

			if (!(mask & (1u << l)) || (gpa & (sz - 1)) || (hpa & (sz - 1)) ||
			    sz > end - gpa)
				continue;
			if (n < max)
				out[n] = (struct tk_leaf){ .gpa = gpa, .size = sz, .pa = hpa,
							   .level = (unsigned int)l };
			n++;
			gpa += sz;
			hpa += sz;
			break;
		}
	}
	return n;
}

void tk_check_layout(const struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, uint64_t gpa,
		     uint64_t hpa, uint64_t size, tdp_attr_t attr, int max_level)
{
	struct tk_snap s;
	size_t n = tk_expect_leaves(pgt, gpa, hpa, size, max_level, NULL, 0);
	struct tk_leaf *exp = calloc(n ? n : 1, sizeof(*exp));
	size_t k = 0;
	uint64_t end = gpa + size;

	assert_non_null(exp);
	tk_expect_leaves(pgt, gpa, hpa, size, max_level, exp, n);
	tk_snap_take(env, pgt, &s);
	for (size_t i = 0; i < s.nr; i++) {
		const struct tk_leaf *l = &s.leaves[i];

		if (l->gpa + l->size <= gpa || l->gpa >= end)
			continue;
		if (l->gpa < gpa || l->gpa + l->size > end)
			fail_msg("leaf [0x%llx +0x%llx) level %u crosses the edge of [0x%llx, 0x%llx)",
				 ULL(l->gpa), ULL(l->size), l->level, ULL(gpa), ULL(end));
		if (k >= n)
			fail_msg("more leaves than the largest-leaf decomposition (%zu)", n);
		if (l->gpa != exp[k].gpa || l->level != exp[k].level || l->pa != exp[k].pa ||
		    l->attr != attr)
			fail_msg("leaf %zu: gpa 0x%llx level %u pa 0x%llx attr 0x%x; expected gpa 0x%llx "
				 "level %u pa 0x%llx attr 0x%x",
				 k, ULL(l->gpa), l->level, ULL(l->pa), l->attr, ULL(exp[k].gpa),
				 exp[k].level, ULL(exp[k].pa), attr);
		/*
		 * A contiguous group (Svnapot) is one level-0 leaf larger than a
		 * page: it stands for that many consecutive expected pages.
		 */
		for (uint64_t covered = exp[k].size; covered < l->size; covered += exp[k].size) {
			if (k + 1 >= n || exp[k + 1].level != 0 ||
			    exp[k + 1].gpa != l->gpa + covered || exp[k + 1].pa != l->pa + covered)
				fail_msg("group [0x%llx +0x%llx) does not stand for consecutive pages",
					 ULL(l->gpa), ULL(l->size));
			k++;
		}
		k++;
	}
	if (k != n)
		fail_msg("%zu leaves in [0x%llx, 0x%llx), the largest-leaf decomposition has %zu", k,
			 ULL(gpa), ULL(end), n);
	free(exp);
	tk_snap_free(&s);
}

/* ------------------------------------------------------------------ */
/* TLB checks                                                          */

struct range {
	uint64_t a, b; /* [a, b) */
};

struct piece {
	uint64_t a, b;
	unsigned int level;
	bool changed; /* translation changed: must be covered; else: structure, intersected */
};

struct pieces {
	struct piece *v;
	size_t n, cap;
};

static void add_piece(struct pieces *p, uint64_t a, uint64_t b, unsigned int level, bool changed)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct piece *v = realloc(p->v, cap * sizeof(*v));

		assert_non_null(v);
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct piece){ a, b, level, changed };
}

static bool covered(const struct range *r, size_t n, uint64_t a, uint64_t b)
{
	uint64_t pos = a;

	while (pos < b) {
		uint64_t best = pos;

		for (size_t i = 0; i < n; i++)
			if (r[i].a <= pos && r[i].b > best)
				best = r[i].b;
		if (best == pos)
			return false;
		pos = best;
	}
	return true;
}

static bool intersects(const struct range *r, size_t n, uint64_t a, uint64_t b)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].a < b && a < r[i].b)
			return true;
	return false;
}

/* first leaf of s whose end is above a */
static size_t first_after(const struct tk_snap *s, uint64_t a)
{
	size_t lo = 0, hi = s->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->leaves[mid].gpa + s->leaves[mid].size <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct tk_leaf *leaf_at(const struct tk_snap *s, uint64_t a)
{
	size_t i = first_after(s, a);

	if (i < s->nr && s->leaves[i].gpa <= a)
		return &s->leaves[i];
	return NULL;
}

static bool relax_or_sw_only(tdp_attr_t old, tdp_attr_t new)
{
	return (old & TDP_MT_MASK) == (new & TDP_MT_MASK) && (old & TDP_PROT_MASK & ~new) == 0;
}

static void changed_pieces(const struct tk_snap *before, const struct tk_snap *after,
			   struct pieces *out)
{
	for (size_t i = 0; i < before->nr; i++) {
		const struct tk_leaf *L = &before->leaves[i];
		uint64_t x = L->gpa, lend = L->gpa + L->size;
		size_t j = first_after(after, x);

		while (x < lend) {
			if (j < after->nr && after->leaves[j].gpa <= x) {
				const struct tk_leaf *M = &after->leaves[j];
				uint64_t mend = M->gpa + M->size;
				uint64_t y = mend < lend ? mend : lend;
				bool same_tr = M->pa + (x - M->gpa) == L->pa + (x - L->gpa);

				if (same_tr && M->attr == L->attr) {
					if (!(M->gpa == L->gpa && M->level == L->level && M->pte == L->pte))
						add_piece(out, x, y, L->level, false);
				} else if (same_tr && relax_or_sw_only(L->attr, M->attr)) {
					if (M->level != L->level)
						add_piece(out, x, y, L->level, false);
				} else {
					add_piece(out, x, y, L->level, true);
				}
				x = y;
				if (mend <= y)
					j++;
			} else {
				uint64_t y = j < after->nr && after->leaves[j].gpa < lend ?
						     after->leaves[j].gpa : lend;

				add_piece(out, x, y, L->level, true);
				x = y;
			}
		}
	}
}

void tk_check_flushes(const struct tdp_tk_pool *env, const struct tk_snap *before,
		      const struct tk_snap *after, size_t mark)
{
	struct range *r = calloc(env->nr_ev - mark + 1, sizeof(*r));
	size_t nr = 0;
	bool all = false;
	struct pieces p = { 0 };

	assert_non_null(r);
	for (size_t i = mark; i < env->nr_ev; i++)
		if (env->ev[i].kind == TK_EV_FLUSH_ALL)
			all = true;
	changed_pieces(before, after, &p);
	/*
	 * A cached entry of a level-L leaf goes only with a flush whose hint is
	 * L or TDP_LEVEL_ANY (or that drops walk caches too): the pieces of
	 * each level must be covered by such flushes.
	 */
	for (size_t i = 0; i < p.n && !all; i++) {
		nr = 0;
		for (size_t k = mark; k < env->nr_ev; k++) {
			const struct tk_event *e = &env->ev[k];

			if (e->kind == TK_EV_FLUSH_RANGE &&
			    (e->level == TDP_LEVEL_ANY || e->tables || e->level == (int)p.v[i].level))
				r[nr++] = (struct range){ e->a, e->a + e->b };
		}
		if (p.v[i].changed && !covered(r, nr, p.v[i].a, p.v[i].b)) {
			tk_log_dump(env, mark);
			fail_msg("translation of [0x%llx, 0x%llx) (level-%u leaf) changed but the "
				 "flushes above with a matching level hint do not cover it",
				 ULL(p.v[i].a), ULL(p.v[i].b), p.v[i].level);
		}
		if (!p.v[i].changed && !intersects(r, nr, p.v[i].a, p.v[i].b)) {
			tk_log_dump(env, mark);
			fail_msg("level-%u leaf at [0x%llx, 0x%llx) was replaced (same translation) "
				 "without any flush with a matching level hint touching it",
				 p.v[i].level, ULL(p.v[i].a), ULL(p.v[i].b));
		}
	}
	/* tables freed only after a tables flush */
	for (size_t i = mark; i < env->nr_ev; i++) {
		const struct tk_event *e = &env->ev[i];
		const struct tk_table *t = NULL;
		bool ok = false;

		if (e->kind != TK_EV_FREE)
			continue;
		for (size_t k = 0; k < before->nr_tables; k++)
			if (before->tables[k].pa == e->a)
				t = &before->tables[k];
		if (!t)
			continue;
		for (size_t k = mark; k < i; k++) {
			const struct tk_event *f = &env->ev[k];

			if (f->kind == TK_EV_FLUSH_ALL ||
			    (f->kind == TK_EV_FLUSH_RANGE && f->tables && f->a < t->gpa + t->size &&
			     t->gpa < f->a + f->b))
				ok = true;
		}
		if (!ok) {
			tk_log_dump(env, mark);
			fail_msg("table page 0x%llx (covering [0x%llx +0x%llx)) was freed without a "
				 "preceding flush with tables=true touching its range",
				 ULL(e->a), ULL(t->gpa), ULL(t->size));
		}
	}
	/* break-before-make, through the probes */
	for (size_t i = 0; i < env->nr_probes; i++) {
		uint64_t a = env->probes[i];
		const struct tk_leaf *L = leaf_at(before, a), *M = leaf_at(after, a);
		bool seen = false;

		if (!L || !M)
			continue;
		if (L->pa + (a - L->gpa) == M->pa + (a - M->gpa) && L->level == M->level &&
		    (L->attr & TDP_MT_MASK) == (M->attr & TDP_MT_MASK))
			continue;
		for (size_t k = 0; k < env->nr_hits; k++)
			if (env->hits[k].probe == i && !env->hits[k].mapped)
				seen = true;
		if (!seen) {
			tk_log_dump(env, mark);
			fail_msg("break-before-make: 0x%llx went from a level-%u leaf (0x%llx) to a "
				 "level-%u leaf (0x%llx) and no flush saw it unmapped in between",
				 ULL(a), L->level, ULL(L->pa + (a - L->gpa)), M->level,
				 ULL(M->pa + (a - M->gpa)));
		}
	}
	free(p.v);
	free(r);
}

void tk_check_pool_clean(const struct tdp_tk_pool *env)
{
	if (env->errors)
		fail_msg("pool errors: %zu, first: %s", env->errors, env->first_error);
	if (env->out_blocks || env->out_bytes)
		fail_msg("pool: %zu blocks (%zu bytes) outstanding", env->out_blocks, env->out_bytes);
}

void tk_destroy_check(struct tdp_tk_pool *env, struct tdp_pgtable *pgt)
{
	size_t mark = tk_log_mark(env);
	bool seen_all = false;

	tk_probes_clear(env);
	assert_int_equal(tdp_pgtable_destroy(pgt), 0);
	assert_int_equal(tk_log_count(env, mark, TK_EV_FLUSH_ALL), 1);
	for (size_t i = mark; i < env->nr_ev; i++) {
		if (env->ev[i].kind == TK_EV_FLUSH_ALL)
			seen_all = true;
		if (env->ev[i].kind == TK_EV_FREE && !seen_all)
			fail_msg("destroy freed 0x%llx before its flush_all", ULL(env->ev[i].a));
	}
	tk_check_pool_clean(env);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */

#define FX_TLB_CAP   8192 /* translations the fixture's TLB model holds */
#define FX_TLB_EDGE  128  /* leaves cached on each side of each edge of an operation's range */
#define FX_TLB_SPARE 512  /* and a sample of the others around it */

/* The TLB model saw no violation (in the flushes, frees or on re-walking now). */
static void check_tlb_model(struct tk_fx *fx, size_t mark, const char *when)
{
	size_t v = tdp_tk_tlb_check(fx->tlb);

	if (v) {
		tk_log_dump(fx->env, mark);
		fail_msg("TLB model after %s: %zu violations, first: %s", when, v,
			 tdp_tk_tlb_first_violation(fx->tlb));
	}
}

/* Cache leaf i of s (its first and last page) in the TLB model. */
static void fill_leaf(struct tk_fx *fx, const struct tk_snap *s, size_t i)
{
	const struct tk_leaf *l = &s->leaves[i];

	assert_true(tdp_tk_tlb_fill(fx->tlb, l->gpa, TDP_TK_PROBE) >= 0);
	assert_true(tdp_tk_tlb_fill(fx->tlb, l->gpa + l->size - fx->P, TDP_TK_READ) >= 0);
}

/*
 * Before an operation on [gpa, gpa + size): cache the translations of the
 * leaves of s in [lo, hi): all of them when few, else those nearest the
 * edges of the range and a sample of the rest.
 */
static void fill_tlb(struct tk_fx *fx, const struct tk_snap *s, uint64_t gpa, uint64_t size,
		     uint64_t lo, uint64_t hi)
{
	size_t first = first_after(s, lo), last = first;
	size_t edge[2] = { first_after(s, gpa), first_after(s, gpa + size) };

	while (last < s->nr && s->leaves[last].gpa < hi)
		last++;
	if (last - first <= 2 * 2 * FX_TLB_EDGE + FX_TLB_SPARE) {
		for (size_t i = first; i < last; i++)
			fill_leaf(fx, s, i);
		return;
	}
	for (size_t k = 0; k < 2; k++) {
		size_t a = edge[k] > first + FX_TLB_EDGE ? edge[k] - FX_TLB_EDGE : first;
		size_t b = last - edge[k] > FX_TLB_EDGE ? edge[k] + FX_TLB_EDGE : last;

		for (size_t i = a; i < b; i++)
			fill_leaf(fx, s, i);
	}
	for (size_t i = first; i < last; i += (last - first) / FX_TLB_SPARE)
		fill_leaf(fx, s, i);
}

void tk_fx_init(struct tk_fx *fx, const struct tk_cfgdesc *cd, uint32_t flags)
{
	tk_fx_init_ex(fx, cd, flags, 0, false);
}

/* The descriptor's hand-computed geometry is what the kit's oracle says. */
static void check_cfgdesc(const struct tk_cfgdesc *cd, const struct tk_geo *g)
{
	if (g->levels != cd->levels || g->root_tables != cd->root_tables ||
	    g->root_bits != cd->root_bits || g->root_size != cd->root_size ||
	    g->leaf_mask != cd->leaf_mask || g->page_shift != cd->gshift)
		fail_msg("%s: the kit's geometry (levels %u, root %u x %u bits, 0x%zx bytes, leaf "
			 "mask 0x%x, page shift %u) differs from the descriptor's",
			 cd->name, g->levels, g->root_tables, g->root_bits, g->root_size, g->leaf_mask,
			 g->page_shift);
}

void tk_fx_init_ex(struct tk_fx *fx, const struct tk_cfgdesc *cd, uint32_t flags,
		   unsigned int leaf_levels, bool xlate)
{
	struct tdp_config cfg;
	struct tdp_tk_ref ref;
	struct tdp_tk_mem mem;
	uint64_t ia_lim = 1ull << cd->ia, oa_lim = 1ull << cd->oa;

	memset(fx, 0, sizeof(*fx));
	fx->cd = cd;
	fx->env = tk_env_new(cd->oa == 52 ? 0x000a000000000000ull : TK_PA_BASE_DEFAULT,
			     TK_ARENA_DEFAULT);
	assert_non_null(fx->env);
	if (xlate)
		tk_config_xlate(fx->env, &cfg, cd->gshift, cd->ia, cd->oa);
	else
		tk_config(fx->env, &cfg, cd->gshift, cd->ia, cd->oa);
	cfg.format = cd->format;
	cfg.flags = cd->flags | flags;
	/* fx->g: the configuration's geometry (its own cap, not the test's) */
	cfg.leaf_levels = cd->leaf_levels;
	assert_int_equal(tk_geo_cfg(&cfg, &fx->g), 0);
	check_cfgdesc(cd, &fx->g);
	/* the table: the tighter of the configuration's and the test's cap */
	if (leaf_levels && (!cd->leaf_levels || leaf_levels < cd->leaf_levels))
		cfg.leaf_levels = leaf_levels;
	/*
	 * The TLB model, forwarding to the recording TLB (event log, probes);
	 * break-before-make checked where the format requires it.
	 */
	fx->tlb = tdp_tk_tlb_new(FX_TLB_CAP, fx->env,
				 tk_format_bbm(cd->format) ? TDP_TK_TLB_BBM : 0);
	assert_non_null(fx->tlb);
	tk_tlb_model_forward(fx->tlb, cfg.tlb, cfg.tlb_ctx);
	cfg.tlb = &tdp_tk_tlb_ops;
	cfg.tlb_ctx = fx->tlb;
	assert_int_equal(tdp_pgtable_init(&fx->pgt, &cfg), 0);
	mem = tdp_tk_pool_mem(fx->env);
	assert_int_equal(tdp_tk_ref_for(&ref, &fx->pgt, &mem), 0);
	tdp_tk_tlb_attach(fx->tlb, &ref);
	fx->P = 1ull << cd->gshift;
	fx->top = 0;
	for (unsigned int l = 0; l < fx->g.levels; l++)
		if (fx->g.leaf_mask & (1u << l))
			fx->top = l;
	fx->big = tk_level_size(&fx->g, fx->top);
	fx->blk = tk_level_size(&fx->g, 1);
	fx->base = 2 * fx->big;
	fx->hbase = 4 * fx->big;
	if (cd->oa == 52)
		fx->hbase += 1ull << 50;
	assert_true(fx->base + 4 * fx->big <= ia_lim);
	assert_true(fx->hbase + 4 * fx->big <= oa_lim);
	fx->checks = true;
	tk_model_init(&fx->m);
	tk_check_table(fx->env, &fx->pgt, 0);
}

void tk_fx_fini(struct tk_fx *fx)
{
	tk_destroy_check(fx->env, &fx->pgt);
	check_tlb_model(fx, tk_log_mark(fx->env), "destroy");
	tdp_tk_tlb_delete(fx->tlb);
	fx->tlb = NULL;
	tk_model_free(&fx->m);
	tk_env_free(fx->env);
	fx->env = NULL;
}

struct opstate {
	struct tk_snap before;
	size_t out_blocks;
	size_t mc_nr;
	size_t mark;
};

static void op_pre(struct tk_fx *fx, uint64_t gpa, uint64_t size, struct tdp_memcache *mc,
		   struct opstate *st)
{
	uint64_t lo, hi, lim = 1ull << fx->cd->ia;
	uint64_t *probes;
	size_t n = 0, cap = 4096;

	st->out_blocks = fx->env->out_blocks;
	st->mc_nr = mc ? mc->nr : 0;
	tk_snap_take(fx->env, &fx->pgt, &st->before);
	probes = malloc(cap * sizeof(*probes));
	assert_non_null(probes);
	/* probe the first page of each leaf near the range, and the range edges */
	lo = gpa > fx->big ? gpa - fx->big : 0;
	hi = size < lim && gpa < lim - size ? gpa + size : lim;
	hi = hi < lim - fx->big ? hi + fx->big : lim;
	if (size && gpa < lim) {
		probes[n++] = gpa;
		if (size >= fx->P && gpa + size - fx->P < lim)
			probes[n++] = gpa + size - fx->P;
	}
	for (size_t i = first_after(&st->before, lo); i < st->before.nr && n < cap; i++) {
		if (st->before.leaves[i].gpa >= hi)
			break;
		probes[n++] = st->before.leaves[i].gpa;
	}
	/* break-before-make probes, on the formats that need it */
	if (tk_format_bbm(fx->cd->format))
		tk_probes_set(fx->env, &fx->pgt, probes, n);
	free(probes);
	fill_tlb(fx, &st->before, gpa, size, lo, hi);
	check_tlb_model(fx, tk_log_mark(fx->env), "the calls before this operation");
	st->mark = tk_log_mark(fx->env);
}

static void op_post(struct tk_fx *fx, int rc, struct tdp_memcache *mc, struct opstate *st)
{
	struct tk_snap after;

	check_tlb_model(fx, st->mark, rc < 0 ? "a failed operation" : "the operation");
	tk_snap_take(fx->env, &fx->pgt, &after);
	if (rc < 0) {
		if (!tk_snap_same(&st->before, &after))
			fail_msg("a call that failed with %d changed the table", rc);
		if (fx->env->out_blocks != st->out_blocks)
			fail_msg("a call that failed with %d changed the pool: %zu blocks, before %zu", rc,
				 fx->env->out_blocks, st->out_blocks);
		if (mc && mc->nr != st->mc_nr)
			fail_msg("a call that failed with %d took pages from the memory cache (%zu -> %zu)",
				 rc, st->mc_nr, mc->nr);
		if (fx->env->errors)
			fail_msg("pool errors: %s", fx->env->first_error);
	} else if (fx->checks) {
		tk_check_model(fx->env, &fx->pgt, &fx->m, mc ? mc->nr : 0);
		tk_check_flushes(fx->env, &st->before, &after, st->mark);
	}
	/* after tk_check_flushes, which reads what the probes saw */
	tk_probes_set(fx->env, NULL, NULL, 0);
	tk_snap_free(&after);
	tk_snap_free(&st->before);
}

int tk_fx_map(struct tk_fx *fx, uint64_t gpa, uint64_t hpa, uint64_t size, tdp_attr_t attr,
	      uint32_t flags, struct tdp_memcache *mc)
{
	struct opstate st;
	int rc;

	op_pre(fx, gpa, size, mc, &st);
	rc = tdp_map(&fx->pgt, gpa, hpa, size, attr, flags, mc);
	if (rc == 0)
		tk_model_map(&fx->m, gpa, hpa, size, attr);
	op_post(fx, rc, mc, &st);
	return rc;
}

int tk_fx_unmap(struct tk_fx *fx, uint64_t gpa, uint64_t size, struct tdp_memcache *mc)
{
	struct opstate st;
	int rc;

	op_pre(fx, gpa, size, mc, &st);
	rc = tdp_unmap(&fx->pgt, gpa, size, mc);
	if (rc == 0)
		tk_model_unmap(&fx->m, gpa, size);
	op_post(fx, rc, mc, &st);
	return rc;
}

int tk_fx_protect(struct tk_fx *fx, uint64_t gpa, uint64_t size, tdp_attr_t clear, tdp_attr_t set,
		  struct tdp_memcache *mc)
{
	struct opstate st;
	int rc;

	op_pre(fx, gpa, size, mc, &st);
	rc = tdp_protect(&fx->pgt, gpa, size, clear, set, mc);
	if (rc == 0)
		tk_model_protect(&fx->m, gpa, size, clear, set);
	op_post(fx, rc, mc, &st);
	return rc;
}

int tk_fx_split(struct tk_fx *fx, uint64_t gpa, uint64_t size, unsigned int target,
		struct tdp_memcache *mc)
{
	struct opstate st;
	int rc;

	op_pre(fx, gpa, size, mc, &st);
	rc = tdp_split(&fx->pgt, gpa, size, target, mc);
	op_post(fx, rc, mc, &st);
	return rc;
}

int tk_fx_zap(struct tk_fx *fx, uint64_t gpa, uint64_t size, uint64_t budget,
	      struct tdp_zap_result *res)
{
	struct opstate st;
	int rc;

	op_pre(fx, gpa, size, NULL, &st);
	memset(res, 0, sizeof(*res));
	rc = tdp_zap(&fx->pgt, gpa, size, budget, res);
	if (rc >= 0) {
		if (res->removed_start > res->removed_end)
			fail_msg("zap reports removed [0x%llx, 0x%llx)", ULL(res->removed_start),
				 ULL(res->removed_end));
		if (res->removed_end > res->removed_start)
			tk_model_unmap(&fx->m, res->removed_start,
				       res->removed_end - res->removed_start);
		if (res->resume <= gpa || res->resume > gpa + size)
			fail_msg("zap(0x%llx +0x%llx) = %d: resume 0x%llx makes no progress or "
				 "overshoots",
				 ULL(gpa), ULL(size), rc, ULL(res->resume));
		if (rc == 0 && res->resume != gpa + size)
			fail_msg("zap finished but resume 0x%llx != end 0x%llx", ULL(res->resume),
				 ULL(gpa + size));
		if (tk_model_any(&fx->m, gpa, res->resume - gpa))
			fail_msg("after zap(0x%llx +0x%llx), [0x%llx, resume 0x%llx) still has mappings "
				 "outside the reported removed range",
				 ULL(gpa), ULL(size), ULL(gpa), ULL(res->resume));
	}
	op_post(fx, rc, NULL, &st);
	return rc;
}
