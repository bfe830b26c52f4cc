/* SPDX-License-Identifier: MIT */
/*
 * The TLB-coherence model itself (include/tdp/testkit.h): a real libtdp
 * table whose TLB callbacks are the model. Deliberately bad sequences are
 * played by writing raw descriptors into the table memory and calling the
 * callbacks the way a buggy library would; the model must catch each one
 * (stale translation, break-before-make, a table freed under a cached walk,
 * a wrong level hint). Correct library operations on every granule, with
 * many translations cached around each one, must give no violation.
 */
#include "common.h"

#include <tdp/walk.h>

#define CAP 4096

struct mt {
	const struct tk_cfgdesc *cd;
	struct tdp_tk_pool *pool;
	struct tdp_tk_tlb *tlb;
	struct tdp_pgtable pgt;
	struct tk_geo g;
	uint64_t P, blk, big, base, hbase;
	unsigned int top;
};

static void mt_init_cap(struct mt *m, struct tk_fx *fx, uint32_t flags, size_t cap)
{
	struct tdp_config cfg;
	struct tdp_tk_ref ref;
	struct tdp_tk_mem mem;
	const struct tk_cfgdesc *cd = fx->cd;

	memset(m, 0, sizeof(*m));
	m->cd = cd;
	m->pool = tdp_tk_pool_new(cd->oa == 52 ? 0x000a000000000000ull : TK_PA_BASE_DEFAULT,
				  TK_ARENA_DEFAULT);
	assert_non_null(m->pool);
	fx->env = m->pool; /* released by the runner if the body fails */
	m->tlb = tdp_tk_tlb_new(cap, m->pool, flags);
	assert_non_null(m->tlb);
	memset(&cfg, 0, sizeof(cfg));
	cfg.format = TDP_FORMAT_ARM64_S2;
	cfg.granule_shift = cd->gshift;
	cfg.ia_bits = cd->ia;
	cfg.oa_bits = cd->oa;
	tdp_tk_pool_config(m->pool, &cfg);
	cfg.tlb = &tdp_tk_tlb_ops;
	cfg.tlb_ctx = m->tlb;
	assert_int_equal(tdp_pgtable_init(&m->pgt, &cfg), 0);
	mem = tdp_tk_pool_mem(m->pool);
	assert_int_equal(tdp_tk_ref_for(&ref, &m->pgt, &mem), 0);
	tdp_tk_tlb_attach(m->tlb, &ref);
	assert_int_equal(tk_arm64_geo(cd->gshift, cd->ia, cd->oa, &m->g), 0);
	m->P = 1ull << cd->gshift;
	for (unsigned int l = 0; l < m->g.levels; l++)
		if (m->g.leaf_mask & (1u << l))
			m->top = l;
	m->big = tk_level_size(&m->g, m->top);
	m->blk = tk_level_size(&m->g, 1);
	m->base = 2 * m->big;
	m->hbase = 4 * m->big + (cd->oa == 52 ? 1ull << 50 : 0);
}

static void mt_init(struct mt *m, struct tk_fx *fx, uint32_t flags)
{
	mt_init_cap(m, fx, flags, CAP);
}

/* Destroy, check the pool is clean, free. `violations`: what the body expects. */
static void mt_fini(struct mt *m, struct tk_fx *fx, size_t violations)
{
	struct tdp_tk_pool_stats ps;
	struct tdp_tk_tlb_stats ts;

	assert_int_equal(tdp_pgtable_destroy(&m->pgt), 0);
	tdp_tk_tlb_stats(m->tlb, &ts);
	assert_int_equal(ts.cached, 0);
	if (ts.violations != violations)
		fail_msg("%zu violations, expected %zu; first: %s", ts.violations, violations,
			 tdp_tk_tlb_first_violation(m->tlb));
	tdp_tk_tlb_delete(m->tlb);
	tdp_tk_pool_stats(m->pool, &ps);
	if (ps.errors || ps.out_blocks)
		fail_msg("pool: %zu errors (%s), %zu blocks out", ps.errors,
			 tdp_tk_pool_first_error(m->pool), ps.out_blocks);
	tdp_tk_pool_delete(m->pool);
	fx->env = NULL;
}

static size_t cached(const struct mt *m)
{
	struct tdp_tk_tlb_stats st;

	tdp_tk_tlb_stats(m->tlb, &st);
	return st.cached;
}

static void expect_clean(const struct mt *m)
{
	size_t v = tdp_tk_tlb_check(m->tlb);

	if (v)
		fail_msg("%zu violations, first: %s", v, tdp_tk_tlb_first_violation(m->tlb));
}

/* Exactly one violation so far, whose text starts with `what`. */
static void expect_one(const struct mt *m, const char *what)
{
	size_t v = tdp_tk_tlb_check(m->tlb);
	const char *txt = tdp_tk_tlb_first_violation(m->tlb);

	if (v != 1)
		fail_msg("expected one violation '%s', have %zu (first: %s)", what, v, txt);
	if (strncmp(txt, what, strlen(what)) != 0)
		fail_msg("expected a '%s' violation, got: %s", what, txt);
}

/* The entry holding the leaf that maps gpa (NULL if none); *parent: the table entry above it. */
static uint64_t *leaf_ptep(const struct mt *m, uint64_t gpa, unsigned int *level, uint64_t **parent)
{
	struct tdp_iter it;
	struct tdp_entry e;
	uint64_t *up = NULL;

	assert_int_equal(tdp_iter_start(&it, &m->pgt, gpa, gpa + m->P, 0), 0);
	while (it.valid) {
		tdp_iter_entry(&it, &e);
		if (e.addr <= gpa && gpa - e.addr < e.size) {
			if (!e.valid)
				return NULL;
			if (!e.table) {
				if (level)
					*level = e.level;
				if (parent)
					*parent = up;
				return it.ptep;
			}
			up = it.ptep;
		}
		tdp_iter_next(&it);
	}
	return NULL;
}

/* Fill the model around [gpa, gpa + size): dense at both edges, sampled inside. */
static void fill_around(const struct mt *m, uint64_t gpa, uint64_t size)
{
	uint64_t lim = 1ull << m->cd->ia, P = m->P;
	uint64_t lo = gpa > 2 * m->blk ? gpa - 2 * m->blk : 0;
	uint64_t hi = lim - (gpa + size) > 2 * m->blk ? gpa + size + 2 * m->blk : lim;
	uint64_t step = (hi - lo) / 512 > P ? ((hi - lo) / 512) & ~(P - 1) : P;
	static const unsigned int kinds[] = { TDP_TK_PROBE, TDP_TK_READ, TDP_TK_EXEC | TDP_TK_USER };
	unsigned int k = 0;

	for (uint64_t a = lo; a < hi; a += step)
		assert_true(tdp_tk_tlb_fill(m->tlb, a, kinds[k++ % 3]) >= 0);
	for (uint64_t d = 0; d < 32 * P; d += P) {
		uint64_t pts[4] = { gpa - P - d, gpa + d, gpa + size - P - d, gpa + size + d };

		for (unsigned int i = 0; i < 4; i++)
			if (pts[i] < lim)
				assert_true(tdp_tk_tlb_fill(m->tlb, pts[i], TDP_TK_PROBE) >= 0);
	}
}

/* ------------------------------------------------------------------ */
/* Basics                                                              */

static void t_model_args(struct tk_fx *fx)
{
	struct mt m;
	struct tdp_tk_tlb *t;
	struct tdp_tk_tlb_stats st;

	assert_null(tdp_tk_tlb_new(0, NULL, 0));
	assert_null(tdp_tk_tlb_new(16, NULL, 1u << 7));
	assert_null(tdp_tk_tlb_new(SIZE_MAX, NULL, 0));
	t = tdp_tk_tlb_new(16, NULL, 0);
	assert_non_null(t);
	assert_int_equal(tdp_tk_tlb_fill(t, 0, TDP_TK_READ), -TDP_EINVAL); /* not attached */
	assert_int_equal(tdp_tk_tlb_check(t), 0);
	assert_string_equal(tdp_tk_tlb_first_violation(t), "");
	tdp_tk_tlb_ops.flush_range(t, 0, 4096, 0, false);
	tdp_tk_tlb_ops.flush_all(t);
	tdp_tk_tlb_stats(t, &st);
	assert_int_equal(st.flush_ranges, 1);
	assert_int_equal(st.flush_alls, 1);
	tdp_tk_tlb_delete(t);
	tdp_tk_tlb_delete(NULL);
	/* the callbacks ignore a NULL model too (a table configured before its model exists) */
	tdp_tk_tlb_ops.flush_range(NULL, 0, 4096, 0, false);
	tdp_tk_tlb_ops.flush_all(NULL);

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RO, 0, NULL), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, 1u << 9), -TDP_EINVAL); /* access */
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base - m.P, TDP_TK_READ), 0);  /* hole */
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_WRITE), 0);       /* no write */
	assert_int_equal(cached(&m), 0); /* faults are not cached */
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_READ), 1);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base + 5, TDP_TK_READ), 1); /* hit */
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base + m.P, TDP_TK_PROBE), 1);
	assert_int_equal(cached(&m), 2);
	tdp_tk_tlb_stats(m.tlb, &st);
	assert_int_equal(st.fills, 2);
	expect_clean(&m);
	mt_fini(&m, fx, 0);
}

/* A block is cached once, for its whole span. */
static void t_model_block_span(struct tk_fx *fx)
{
	struct mt m;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, m.blk, A_RW, 0, NULL), 0);
	for (uint64_t a = m.base; a < m.base + m.blk; a += m.blk / 8)
		assert_int_equal(tdp_tk_tlb_fill(m.tlb, a, TDP_TK_READ), 1);
	assert_int_equal(cached(&m), 1);
	/* invalidating one page of it drops the block entry */
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base + m.blk / 2, m.P, 1, false);
	expect_clean(&m);
	mt_fini(&m, fx, 0);
}

/* Full: the oldest entry goes. */
static void t_model_evicts_oldest(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p;

	mt_init_cap(&m, fx, TDP_TK_TLB_BBM, 4);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 8 * m.P, A_RW, TDP_MAP_MAX_LEVEL(0), NULL),
			 0);
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base + i * m.P, TDP_TK_READ), 1);
	assert_int_equal(cached(&m), 4);
	/* pages 0 and 1 were evicted: changing them behind the model's back goes unseen */
	p = leaf_ptep(&m, m.base, NULL, NULL);
	assert_non_null(p);
	*p ^= 2 * m.P; /* page 0 now maps the output of page 2 */
	expect_clean(&m);
	*p ^= 2 * m.P;
	/* page 5 is cached */
	p = leaf_ptep(&m, m.base + 5 * m.P, NULL, NULL);
	*p &= ~(uint64_t)(1u << 7); /* S2AP write permission */
	expect_one(&m, "stale after operation");
	*p |= 1u << 7;
	mt_fini(&m, fx, 1);
}

/* flush_all drops everything; the forwarding hook sees every callback. */
static void t_model_flush_all_forward(struct tk_fx *fx)
{
	struct mt m;
	struct tdp_tk_tlb_stats st;
	struct tdp_tk_pool *rec = tk_env_new(TK_PA_BASE_DEFAULT, 1u << 20);
	uint64_t *p;

	assert_non_null(rec);
	mt_init(&m, fx, TDP_TK_TLB_BBM);
	tk_tlb_model_forward(m.tlb, &tk_tlb, rec);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 16 * m.P, A_RW, TDP_MAP_MAX_LEVEL(0), NULL),
			 0);
	fill_around(&m, m.base, 16 * m.P);
	assert_int_equal(cached(&m), 16);
	tdp_tk_tlb_ops.flush_all(m.tlb);
	assert_int_equal(cached(&m), 0);
	tdp_tk_tlb_stats(m.tlb, &st);
	assert_int_equal(st.dropped, 16);
	/* nothing cached: a change now is not a violation */
	p = leaf_ptep(&m, m.base, NULL, NULL);
	*p = 0;
	expect_clean(&m);
	assert_int_equal(tdp_unmap(&m.pgt, m.base, 16 * m.P, NULL), 0);
	assert_int_equal(tk_log_count(rec, 0, TK_EV_FLUSH_ALL), 1);
	assert_int_equal(tk_log_count(rec, 0, TK_EV_FLUSH_RANGE), 1);
	tk_tlb_model_forward(m.tlb, NULL, NULL);
	mt_fini(&m, fx, 0);
	assert_int_equal(tk_log_count(rec, 0, TK_EV_FLUSH_ALL), 1); /* no longer forwarded */
	tk_env_free(rec);
}

/* ------------------------------------------------------------------ */
/* Bad sequences the model must catch                                  */

/* A changed translation with no flush at all. */
static void t_bad_stale_no_flush(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p, old;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base + m.P, TDP_TK_READ), 1);
	p = leaf_ptep(&m, m.base + m.P, NULL, NULL);
	old = *p;
	*p = 0; /* unmapped behind the TLB's back */
	expect_one(&m, "stale after operation");
	*p = old;
	mt_fini(&m, fx, 1);
}

/* A change outside the range of a flush the library does issue. */
static void t_bad_stale_other_flush(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p, far;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	far = m.base + m.big;
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&m.pgt, far, m.hbase + m.big, 4 * m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_READ), 1);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, far, TDP_TK_READ), 1);
	p = leaf_ptep(&m, m.base, NULL, NULL);
	*p ^= (uint64_t)1 << 55; /* a software bit: still a different cached entry */
	/* the library flushes only what its own operation changed */
	assert_int_equal(tdp_protect(&m.pgt, far, m.P, TDP_PROT_W, 0, NULL), 0);
	expect_one(&m, "stale translation");
	assert_non_null(strstr(tdp_tk_tlb_first_violation(m.tlb), "flush_range"));
	*p ^= (uint64_t)1 << 55;
	mt_fini(&m, fx, 1);
}

/* Valid -> valid output change written before the flush. */
static void t_bad_bbm_output(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p, old;
	unsigned int l;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_READ), 1);
	p = leaf_ptep(&m, m.base, &l, NULL);
	old = *p;
	*p = old ^ (8 * m.P);                                /* make ... */
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, m.P, (int)l, false); /* ... then break */
	expect_one(&m, "break-before-make");
	*p = old;
	mt_fini(&m, fx, 1);
}

/* Memory type change valid -> valid, and a block turned into a table, before the flush. */
static void t_bad_bbm_type_and_split(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p, old, *q, oldq, *up;
	unsigned int l;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&m.pgt, m.base + m.blk, m.hbase + m.blk, m.blk, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&m.pgt, m.base + 3 * m.blk, m.hbase, m.blk, A_RW,
				 TDP_MAP_MAX_LEVEL(0), NULL), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_READ), 1);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base + m.blk + m.P, TDP_TK_READ), 1);
	/* MemAttr WB (0xf) -> Device-nGnRE (0x1), written in place, then flushed */
	p = leaf_ptep(&m, m.base, &l, NULL);
	old = *p;
	*p = (old & ~(0xfull << 2)) | (0x1ull << 2);
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, m.P, (int)l, false);
	expect_one(&m, "break-before-make");
	*p = old;
	/* block -> table (a ready level-0 table with the same output) linked in place */
	q = leaf_ptep(&m, m.base + m.blk, &l, NULL);
	assert_int_equal(l, 1);
	oldq = *q;
	assert_non_null(leaf_ptep(&m, m.base + 3 * m.blk, NULL, &up));
	*q = *up; /* now the table of pages that maps base + 3 blk */
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base + m.blk, m.blk, 1, true);
	assert_int_equal(tdp_tk_tlb_check(m.tlb), 2);
	*q = oldq;
	mt_fini(&m, fx, 2);
}

/* Permission and software-bit changes written before their flush are fine (arm64 BBM). */
static void t_ok_prot_in_place(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p;
	unsigned int l;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_WRITE), 1);
	p = leaf_ptep(&m, m.base, &l, NULL);
	*p &= ~(uint64_t)(1u << 7);
	*p |= (uint64_t)3 << 55;
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, m.P, (int)l, false);
	expect_clean(&m);
	/* refilled after the flush? a write access no longer gets a translation */
	assert_int_equal(cached(&m), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_READ), 1);
	*p |= 1u << 7;
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, m.P, (int)l, false);
	mt_fini(&m, fx, 0);
}

/* Without TDP_TK_TLB_BBM the same output change is just refilled by the flush. */
static void t_no_bbm_flag(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p, old;
	unsigned int l;

	mt_init(&m, fx, 0);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_PROBE), 1);
	p = leaf_ptep(&m, m.base, &l, NULL);
	old = *p;
	*p = old ^ (8 * m.P);
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, m.P, (int)l, false);
	expect_clean(&m);
	assert_int_equal(cached(&m), 1);
	*p = old;
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, m.P, (int)l, false);
	mt_fini(&m, fx, 0);
}

/* A change written after the flush meant to cover it: the refill makes it stale. */
static void t_bad_write_after_flush(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p;
	unsigned int l;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_READ), 1);
	p = leaf_ptep(&m, m.base, &l, NULL);
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, m.P, (int)l, false);
	*p &= ~(uint64_t)(1u << 7); /* write-protect after the invalidation */
	expect_one(&m, "stale after operation");
	*p |= 1u << 7;
	mt_fini(&m, fx, 1);
}

/* The correct break-before-make sequence: break, flush, make. */
static void t_ok_bbm_sequence(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p, old;
	unsigned int l;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RW, 0, NULL), 0);
	fill_around(&m, m.base, 4 * m.P);
	p = leaf_ptep(&m, m.base, &l, NULL);
	old = *p;
	*p = 0;
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, m.P, (int)l, false);
	*p = old ^ (8 * m.P);
	expect_clean(&m);
	/* and back */
	*p = 0;
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, m.P, (int)l, false);
	*p = old;
	expect_clean(&m);
	mt_fini(&m, fx, 0);
}

/* A table page freed (straight through the mm ops) while cached walks use it. */
static void t_bad_table_freed(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *up, tpa;
	unsigned int l;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_READ), 1);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base + 2 * m.P, TDP_TK_READ), 1);
	assert_non_null(leaf_ptep(&m, m.base, &l, &up));
	assert_int_equal(l, 0);
	assert_non_null(up);
	tpa = *up & ~(m.P - 1) & ((1ull << 48) - 1);
	if (m.cd->oa == 52)
		tpa |= ((*up >> 12) & 0xf) << 48;
	assert_true(tdp_tk_pool_live(m.pool, tpa, m.g.table_size));
	/* the buggy library: unlinks it (no flush) and frees it */
	*up = 0;
	m.pgt.cfg.mm->free_table(m.pgt.cfg.mm_ctx, tdp_tk_pool_va(m.pool, tpa), m.g.table_size);
	assert_int_equal(tdp_tk_tlb_check(m.tlb), 1);
	assert_non_null(strstr(tdp_tk_tlb_first_violation(m.tlb),
			       "table freed while a cached walk uses it"));
	assert_non_null(strstr(tdp_tk_tlb_first_violation(m.tlb), "2 cached walks"));
	assert_int_equal(cached(&m), 0);
	mt_fini(&m, fx, 1);
}

/* A wrong level hint: the changed leaf is not at the promised level. */
static void t_bad_ttl_hint(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p, old;
	unsigned int l;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&m.pgt, m.base + m.blk, m.hbase + m.blk, m.blk, A_RW, 0, NULL), 0);
	fill_around(&m, m.base, 2 * m.blk);
	assert_true(cached(&m) >= 5);
	p = leaf_ptep(&m, m.base + m.P, &l, NULL);
	assert_int_equal(l, 0);
	old = *p;
	*p = 0;
	/* tables = true: the hint does not limit anything */
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, 2 * m.blk, 1, true);
	expect_clean(&m);
	*p = old;
	fill_around(&m, m.base, 2 * m.blk);
	/* the level-1 block is unchanged: a level-0 hint over it is fine, and keeps it */
	*p = 0;
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, 2 * m.blk, 0, false);
	expect_clean(&m);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base + m.blk, TDP_TK_READ), 1);
	*p = old;
	fill_around(&m, m.base, 2 * m.blk);
	/* the changed level-0 leaf flushed with a level-1 hint */
	*p = 0;
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, 2 * m.blk, 1, false);
	expect_one(&m, "wrong TTL hint");
	*p = old;
	mt_fini(&m, fx, 1);
}

/* A level hint also matters for a kept leaf that changes later without its own flush. */
static void t_bad_kept_by_hint(struct tk_fx *fx)
{
	struct mt m;
	uint64_t *p, *q, oldq;
	unsigned int l;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	assert_int_equal(tdp_map(&m.pgt, m.base, m.hbase, 4 * m.P, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&m.pgt, m.base + m.blk, m.hbase + m.blk, m.blk, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base, TDP_TK_READ), 1);
	assert_int_equal(tdp_tk_tlb_fill(m.tlb, m.base + m.blk, TDP_TK_READ), 1);
	p = leaf_ptep(&m, m.base, &l, NULL);
	q = leaf_ptep(&m, m.base + m.blk, NULL, NULL);
	*p &= ~(uint64_t)(1u << 7);
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, 2 * m.blk, 0, false);
	/* the block was not invalidated by that level-0 flush: changing it now is stale */
	oldq = *q;
	*q &= ~(uint64_t)(1u << 7);
	expect_one(&m, "stale after operation");
	*q = oldq;
	*p |= 1u << 7;
	tdp_tk_tlb_ops.flush_range(m.tlb, m.base, m.P, 0, false);
	mt_fini(&m, fx, 1);
}

/* ------------------------------------------------------------------ */
/* Correct library operations: no violation                            */

static void op_done(const struct mt *m, const char *what)
{
	size_t v = tdp_tk_tlb_check(m->tlb);

	if (v)
		fail_msg("after %s: %zu violations, first: %s", what, v,
			 tdp_tk_tlb_first_violation(m->tlb));
}

static void t_ok_library_ops(struct tk_fx *fx)
{
	struct mt m;
	struct tdp_tk_tlb_stats st;
	struct tdp_zap_result zr;
	uint64_t b, h, P, blk, big, s, e;
	unsigned int n;
	int rc;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	b = m.base;
	h = m.hbase;
	P = m.P;
	blk = m.blk;
	big = m.big;

	/* map: blocks inside, pages at the ragged edges (hpa stays below h + 4 big) */
	assert_int_equal(tdp_map(&m.pgt, b + blk - 3 * P, h + blk - 3 * P, 2 * blk + 6 * P, A_RW, 0,
				 NULL), 0);
	op_done(&m, "map");
	/* and pages on both sides, for many cached entries */
	assert_int_equal(tdp_map(&m.pgt, b + blk - 64 * P, h + blk - 64 * P, 61 * P, A_RW,
				 TDP_MAP_MAX_LEVEL(0), NULL), 0);
	assert_int_equal(tdp_map(&m.pgt, b + 3 * blk + 3 * P, h + 3 * blk + 3 * P, 61 * P, A_RW,
				 TDP_MAP_MAX_LEVEL(0), NULL), 0);
	op_done(&m, "map (pages)");
	fill_around(&m, b + blk, 2 * blk);
	assert_true(cached(&m) > 60);
	/* remap pages and a whole block elsewhere: valid -> valid output changes */
	assert_int_equal(tdp_map(&m.pgt, b + 2 * blk - 5 * P, h, 10 * P, A_RW, 0, NULL), 0);
	op_done(&m, "remap (pages)");
	fill_around(&m, b + blk, blk);
	assert_int_equal(tdp_map(&m.pgt, b + blk, h + 2 * blk, blk, A_RW, 0, NULL), 0);
	op_done(&m, "remap (block)");
	/* remap as device memory inside a block: edge splits + memory type change */
	fill_around(&m, b + blk, blk);
	assert_int_equal(tdp_map(&m.pgt, b + blk + 7 * P, h + blk + 7 * P, 9 * P, A_DEV, 0, NULL),
			 0);
	op_done(&m, "remap (memory type)");
	/* pages -> a block again */
	fill_around(&m, b + blk, blk);
	assert_int_equal(tdp_map(&m.pgt, b + blk, h + blk, blk, A_RW, 0, NULL), 0);
	op_done(&m, "remap (pages to a block)");
	/* protect across blocks and pages, then relax, then software bits */
	fill_around(&m, b + blk, 2 * blk);
	assert_int_equal(tdp_protect(&m.pgt, b + blk + 2 * P, 2 * blk, TDP_PROT_W, 0, NULL), 0);
	op_done(&m, "protect");
	fill_around(&m, b + blk, 2 * blk);
	assert_int_equal(tdp_protect(&m.pgt, b, 4 * blk, 0, TDP_PROT_W, NULL), 0);
	op_done(&m, "protect (relax)");
	fill_around(&m, b + blk, blk);
	assert_int_equal(tdp_protect(&m.pgt, b + blk, blk, 0, TDP_SW(5), NULL), 0);
	op_done(&m, "protect (software bits)");
	/* split to pages */
	fill_around(&m, b + 2 * blk, blk);
	assert_int_equal(tdp_split(&m.pgt, b + 2 * blk + P, 2 * P, 0, NULL), 0);
	op_done(&m, "split");
	if (big > blk) {
		assert_int_equal(tdp_map(&m.pgt, b + big, h + big, big, A_RWX, 0, NULL), 0);
		op_done(&m, "map (top block)");
		fill_around(&m, b + big, big);
		assert_int_equal(tdp_split(&m.pgt, b + big + blk, P, 0, NULL), 0);
		op_done(&m, "split (top block)");
	}
	/* unmap across the edges */
	fill_around(&m, b + 2 * blk, blk);
	assert_int_equal(tdp_unmap(&m.pgt, b + 2 * blk - 2 * P, blk + 4 * P, NULL), 0);
	op_done(&m, "unmap");
	/* zap a straddling range: a few calls with a small budget, then the rest */
	s = b + blk + P;
	e = b + 3 * blk - P;
	fill_around(&m, s, e - s);
	n = 0;
	do {
		rc = tdp_zap(&m.pgt, s, e - s, n++ < 6 ? 3 : 0, &zr);
		assert_true(rc >= 0);
		op_done(&m, "zap");
		s = zr.resume;
		fill_around(&m, s, e - s > P ? e - s : P);
	} while (rc == 1);
	/* unmap everything that is left */
	fill_around(&m, b, 2 * big);
	assert_int_equal(tdp_unmap(&m.pgt, b, 2 * big, NULL), 0);
	op_done(&m, "unmap (all)");
	tdp_tk_tlb_stats(m.tlb, &st);
	assert_true(st.fills > 500);
	assert_true(st.flush_ranges >= 10);
	assert_true(st.dropped > 100);
	mt_fini(&m, fx, 0);
}

/* The same with the smallest pages only (many entries), and a full-range map/unmap. */
static void t_ok_library_pages(struct tk_fx *fx)
{
	struct mt m;
	uint64_t b, h, P;

	mt_init(&m, fx, TDP_TK_TLB_BBM);
	b = m.base;
	h = m.hbase;
	P = m.P;
	assert_int_equal(tdp_map(&m.pgt, b, h, 600 * P, A_RW, TDP_MAP_MAX_LEVEL(0), NULL), 0);
	for (uint64_t a = b; a < b + 600 * P; a += P)
		assert_int_equal(tdp_tk_tlb_fill(m.tlb, a, TDP_TK_READ), 1);
	assert_int_equal(cached(&m), 600);
	assert_int_equal(tdp_protect(&m.pgt, b + 100 * P, 300 * P, TDP_PROT_W, 0, NULL), 0);
	op_done(&m, "protect");
	assert_int_equal(tdp_map(&m.pgt, b + 50 * P, h + 1000 * P, 100 * P, A_RO, 0, NULL), 0);
	op_done(&m, "remap");
	assert_int_equal(tdp_unmap(&m.pgt, b + 20 * P, 500 * P, NULL), 0);
	op_done(&m, "unmap");
	fill_around(&m, b, 600 * P);
	assert_int_equal(tdp_zap(&m.pgt, b, 600 * P, 0, &(struct tdp_zap_result){ 0 }), 0);
	op_done(&m, "zap");
	mt_fini(&m, fx, 0);
}

static const struct tcase cases[] = {
	CASE_NOFX(t_model_args),
	CASE_NOFX(t_model_block_span),
	CASE_NOFX(t_model_evicts_oldest),
	CASE_NOFX(t_model_flush_all_forward),
	CASE_NOFX(t_bad_stale_no_flush),
	CASE_NOFX(t_bad_stale_other_flush),
	CASE_NOFX(t_bad_bbm_output),
	CASE_NOFX(t_bad_bbm_type_and_split),
	CASE_NOFX(t_ok_prot_in_place),
	CASE_NOFX(t_no_bbm_flag),
	CASE_NOFX(t_bad_write_after_flush),
	CASE_NOFX(t_ok_bbm_sequence),
	CASE_NOFX(t_bad_table_freed),
	CASE_NOFX(t_bad_ttl_hint),
	CASE_NOFX(t_bad_kept_by_hint),
	CASE_NOFX(t_ok_library_ops),
	CASE_NOFX(t_ok_library_pages),
};

int main(void)
{
	/* the bad sequences write raw arm64 descriptors: arm64 configurations only */
	return run_cases_format("tlbmodel", cases, sizeof(cases) / sizeof(cases[0]),
				TDP_FORMAT_ARM64_S2);
}
