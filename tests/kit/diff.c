/* SPDX-License-Identifier: MIT */
/*
 * The differential driver: random operation sequences on a real libtdp table,
 * each step checked against a page-granular model (sorted extents) through
 * the reference walker, the TLB-coherence model and the pool's page count.
 *
 * Operations are generated from a "random source" that is either a PRNG
 * (tdp_tk_diff_run) or the fuzzer's bytes (tdp_tk_diff_run_bytes), and are
 * materialised before they run, so a failing sequence can be replayed from
 * scratch and shrunk.
 */
#include "kit_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Random source                                                       */

struct rsrc {
	uint64_t state;      /* PRNG state (bytes == NULL) */
	const uint8_t *bytes; /* fuzzer input, consumed in order */
	size_t len, pos;
};

static uint64_t rnext(struct rsrc *r)
{
	uint64_t z;

	if (r->bytes) {
		uint64_t v = 0;

		for (int i = 0; i < 8 && r->pos < r->len; i++)
			v |= (uint64_t)r->bytes[r->pos++] << (8 * i);
		return v;
	}
	/* splitmix64 */
	z = (r->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static uint64_t rbelow(struct rsrc *r, uint64_t n)
{
	if (r->bytes) {
		/* one byte per draw for small ranges keeps fuzzer inputs compact */
		uint64_t v = n <= 256 ? (r->pos < r->len ? r->bytes[r->pos++] : 0) : rnext(r);

		return v % n;
	}
	return rnext(r) % n;
}

static bool rchance(struct rsrc *r, unsigned int percent)
{
	return rbelow(r, 100) < percent;
}

static bool rexhausted(const struct rsrc *r)
{
	return r->bytes && r->pos >= r->len;
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */

enum dkind { D_MAP, D_UNMAP, D_ZAP, D_SPLIT, D_PROTECT, D_BAD, D_YOUNG, D_DIRTY };

struct dop {
	enum dkind kind;
	uint64_t gpa, size, hpa, budget;
	tdp_attr_t attr, clear, set;
	uint32_t flags;
	unsigned int target;
	int fail_nth; /* < 0: no injected allocation failure */
	int mc_pages; /* < 0: mc NULL; else top a memory cache up to this many pages */
};

static const char *const kind_name[] = { "map",	   "unmap",	"zap",	 "split",
					 "protect", "bad-input", "young", "dirty" };

/* What the generator knows of the table (from the library: it only shapes the inputs). */
struct dgeo {
	unsigned int levels;
	uint64_t size[TDP_MAX_LEVELS]; /* bytes per entry at each level */
	uint32_t leaf_mask;
	unsigned int top_leaf;
	uint64_t win_base, win_size; /* all operations stay inside this window */
	uint64_t oa_limit;
	bool xnx;       /* privileged and user execute may differ (arm64 XNX, EPT MBEC) */
	bool ept;       /* EPT: explicit memory types and ignore-PAT */
	bool rw_rules;  /* EPT, RISC-V: no write without read, no empty permissions */
	bool exec_only; /* with rw_rules: execute-only leaves allowed */
	unsigned int sw_values;   /* software-bit values a leaf holds (16, RISC-V 4) */
	unsigned int mt_choices;  /* how many of gen_attr's memory types the table takes */
	uint64_t a_bit, d_bit; /* hardware accessed/dirty bits when the table uses them */
};

static tdp_attr_t gen_prot(struct rsrc *r, const struct dgeo *g)
{
	tdp_attr_t a = 0;

	if (rchance(r, 80))
		a |= TDP_PROT_R;
	if (rchance(r, 60))
		a |= TDP_PROT_W;
	if (g->xnx) {
		a |= rchance(r, 50) ? TDP_PROT_XP : 0;
		a |= rchance(r, 50) ? TDP_PROT_XU : 0;
	} else if (rchance(r, 50)) {
		a |= TDP_PROT_X;
	}
	return a;
}

/* A permission set a leaf of this format can hold. */
static tdp_attr_t leaf_prot(struct rsrc *r, const struct dgeo *g)
{
	tdp_attr_t a = gen_prot(r, g);

	/* EPT, RISC-V: write needs read; execute-only needs the capability; never nothing */
	if (g->rw_rules && !(a & TDP_PROT_R) &&
	    ((a & TDP_PROT_W) || !(a & TDP_PROT_X) || !g->exec_only))
		a |= TDP_PROT_R;
	return a;
}

static tdp_attr_t gen_attr(struct rsrc *r, const struct dgeo *g)
{
	/* a prefix of this list: the types the table takes */
	static const tdp_attr_t mt[] = { TDP_MT_NORMAL_WB, TDP_MT_NORMAL_WB, TDP_MT_NORMAL_NC,
					 TDP_MT_DEVICE, TDP_MT_DEVICE_STRICT };
	tdp_attr_t a = leaf_prot(r, g) | (rchance(r, 30) ? TDP_SW(rbelow(r, g->sw_values)) : 0);

	/* EPT also has write-through / write-protect types and ignore-PAT */
	if (g->ept && rchance(r, 15))
		return a | TDP_X86_EMT(rchance(r, 50) ? TDP_X86_EMT_WT : TDP_X86_EMT_WP) |
		       (rchance(r, 30) ? TDP_X86_IPAT : 0);
	a |= mt[rbelow(r, g->mt_choices)];
	if (g->ept && (a & TDP_MT_MASK) <= TDP_MT_NORMAL_NC && rchance(r, 20))
		a |= TDP_X86_IPAT;
	return a;
}

/* Keep each operation to a few thousand leaves so a step stays cheap to check. */
#define MAX_LEAVES 4096

static void gen_range(struct rsrc *r, const struct dgeo *g, uint64_t *gpa, uint64_t *size)
{
	unsigned int l = (unsigned int)rbelow(r, g->top_leaf + 1);
	uint64_t page = g->size[0], sz, at, span;

	sz = g->size[l] * (1 + rbelow(r, 3));
	if (rchance(r, 40))
		sz += page * rbelow(r, 4);
	if (rchance(r, 20) && sz > page)
		sz -= page * (1 + rbelow(r, sz / page - 1 < 3 ? sz / page - 1 : 3));
	if (sz > g->win_size)
		sz = g->win_size;
	span = g->win_size - sz; /* room for the start */
	at = rchance(r, 50) ? (rbelow(r, span / g->size[l] + 1) * g->size[l])
			    : (rbelow(r, span / page + 1) * page);
	if (at > span)
		at = span;
	*gpa = g->win_base + at;
	*size = sz;
}

static void gen_op(struct rsrc *r, const struct dgeo *g, unsigned int fail_percent,
		   struct dop *op)
{
	uint64_t page = g->size[0], roll = rbelow(r, 100);

	memset(op, 0, sizeof(*op));
	op->fail_nth = -1;
	op->mc_pages = -1;
	op->kind = roll < 38 ? D_MAP : roll < 55 ? D_UNMAP : roll < 65 ? D_ZAP :
		   roll < 77 ? D_SPLIT : roll < 96 ? D_PROTECT : D_BAD;
	if (g->a_bit && rchance(r, 12))
		op->kind = rchance(r, 50) ? D_YOUNG : D_DIRTY;
	gen_range(r, g, &op->gpa, &op->size);
	/* harvesting keeps a bitmap per page: at most 4 GiB (a 128 KiB bitmap) */
	if ((op->kind == D_YOUNG || op->kind == D_DIRTY) && op->size > (1ull << 32))
		op->size = 1ull << 32;
	switch (op->kind) {
	case D_MAP: {
		uint64_t big = g->size[g->top_leaf], hpa;

		op->attr = gen_attr(r, g);
		if (rchance(r, 10))
			op->flags |= TDP_MAP_NOREPLACE;
		if (rchance(r, 20))
			op->flags |= TDP_MAP_MAX_LEVEL(rbelow(r, g->top_leaf + 1));
		/* equally aligned (blocks possible) or anywhere page-aligned */
		hpa = (g->oa_limit - op->size) / big ? rbelow(r, (g->oa_limit - op->size) / big) * big
						      : 0;
		if (rchance(r, 65))
			hpa += op->gpa & (big - 1);
		else
			hpa += rbelow(r, big / page) * page;
		if (hpa + op->size > g->oa_limit)
			hpa = g->oa_limit - op->size - ((g->oa_limit - op->size) & (page - 1));
		op->hpa = hpa;
		if (op->size / page > MAX_LEAVES) {
			/* many small leaves would follow: keep it to blocks */
			op->hpa = (op->hpa & ~(big - 1)) | (op->gpa & (big - 1));
			if (op->hpa + op->size > g->oa_limit)
				op->hpa -= big;
			op->flags &= ~TDP_MAP_MAX_LEVEL_MASK;
		}
		break;
	}
	case D_ZAP:
		op->budget = rchance(r, 50) ? 0 : 1 + rbelow(r, 8);
		break;
	case D_SPLIT:
		op->target = (unsigned int)rbelow(r, g->top_leaf + 1);
		while (op->target < g->top_leaf && op->size / g->size[op->target] > MAX_LEAVES)
			op->target++;
		break;
	case D_PROTECT:
		op->clear = gen_prot(r, g) | (rchance(r, 20) ? TDP_SW_MASK : 0);
		op->set = gen_prot(r, g) & (rchance(r, 50) ? TDP_PROT_R | TDP_PROT_W : TDP_PROT_MASK);
		if (rchance(r, 20))
			op->set |= TDP_SW(rbelow(r, g->sw_values));
		if (g->rw_rules) {
			/* keep every leaf valid: R stays, W comes with R, X never leaves nothing */
			if (!(op->set & TDP_PROT_R))
				op->clear &= ~TDP_PROT_R;
			if (op->set & TDP_PROT_W)
				op->set |= TDP_PROT_R;
			if ((op->clear & TDP_PROT_X) && g->exec_only)
				op->set |= TDP_PROT_R;
		}
		break;
	case D_BAD:
		/* one broken argument; everything must stay as it was */
		switch (rbelow(r, 4)) {
		case 0:
			op->gpa += page / 2;
			break;
		case 1:
			op->size = 0;
			break;
		case 2:
			op->gpa = ~0ull - page + 1;
			break;
		default:
			op->size += 1;
			break;
		}
		break;
	default:
		break;
	}
	if (op->kind != D_ZAP && op->kind != D_BAD && rchance(r, fail_percent))
		op->fail_nth = (int)rbelow(r, 4);
	if (op->kind != D_ZAP && op->kind != D_BAD && rchance(r, 25))
		op->mc_pages = (int)rbelow(r, 8);
}

static void format_op(const struct dop *op, char *buf, size_t len)
{
	snprintf(buf, len,
		 "%s gpa=0x%llx size=0x%llx hpa=0x%llx attr=0x%x flags=0x%x clear=0x%x set=0x%x "
		 "target=%u budget=%llu fail_nth=%d mc_pages=%d",
		 kind_name[op->kind], (unsigned long long)op->gpa, (unsigned long long)op->size,
		 (unsigned long long)op->hpa, op->attr, op->flags, op->clear, op->set, op->target,
		 (unsigned long long)op->budget, op->fail_nth, op->mc_pages);
}

/* ------------------------------------------------------------------ */
/* One run: a table, its model and the checks                         */

struct drun {
	struct tdp_config cfg;
	struct tdp_tk_pool *pool;
	struct tdp_tk_tlb *tlb;
	struct tdp_pgtable pgt;
	struct tdp_tk_ref ref;
	struct tk_model m;
	struct tk_replay rep; /* the model the change reports build */
	struct dgeo g;
	struct rsrc fill; /* picks the addresses the TLB model caches */
	struct tdp_tk_diff_stats *st;
	char why[512];
};

static int failf(struct drun *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	return 1;
}

#define POOL_PA_BASE  (1ull << 32)
#define POOL_SIZE     (512ull << 20)
#define TLB_ENTRIES   64

static int drun_init(struct drun *d, const struct tdp_config *base, uint64_t seed,
		     struct tdp_tk_diff_stats *st)
{
	struct tdp_tk_mem mem;
	uint64_t ia_size, win;
	int ret;

	memset(d, 0, sizeof(*d));
	d->st = st;
	d->fill.state = seed ^ 0x5151;
	d->cfg = *base;
	/* keep the arena's addresses under 2^oa_bits for every output size */
	d->pool = tdp_tk_pool_new(base->oa_bits > 33 ? POOL_PA_BASE : 1ull << 20, POOL_SIZE);
	d->tlb = tdp_tk_tlb_new(TLB_ENTRIES, d->pool,
				base->format == TDP_FORMAT_ARM64_S2 ? TDP_TK_TLB_BBM : 0);
	if (!d->pool || !d->tlb)
		return -TDP_ENOMEM;
	tdp_tk_pool_config(d->pool, &d->cfg);
	tk_replay_init(&d->rep);
	tk_replay_config(&d->rep, &d->cfg);
	d->cfg.tlb = &tdp_tk_tlb_ops;
	d->cfg.tlb_ctx = d->tlb;
	ret = tdp_pgtable_init(&d->pgt, &d->cfg);
	if (ret)
		return ret;
	mem = tdp_tk_pool_mem(d->pool);
	ret = tdp_tk_ref_for(&d->ref, &d->pgt, &mem);
	if (ret)
		return ret;
	tdp_tk_tlb_attach(d->tlb, &d->ref);
	tk_model_init(&d->m);

	d->g.levels = d->pgt.geo.levels;
	for (unsigned int l = 0; l < d->g.levels; l++) {
		d->g.size[l] = tdp_level_size(&d->pgt, l);
		if ((d->pgt.geo.leaf_levels_mask >> l) & 1)
			d->g.top_leaf = l;
	}
	d->g.leaf_mask = d->pgt.geo.leaf_levels_mask;
	d->g.oa_limit = 1ull << base->oa_bits;
	d->g.ept = base->format == TDP_FORMAT_X86_EPT;
	d->g.rw_rules = d->g.ept || base->format == TDP_FORMAT_RISCV_G;
	d->g.xnx = d->g.ept ? (base->flags & TDP_CFG_X86_MBEC) != 0
			    : base->format == TDP_FORMAT_ARM64_S2 && (base->flags & TDP_CFG_ARM64_XNX);
	/* RISC-V: execute-only is always legal (docs/formats.md §R.3) */
	d->g.exec_only = (d->g.ept && (base->flags & TDP_CFG_X86_EXEC_ONLY)) ||
			 base->format == TDP_FORMAT_RISCV_G;
	d->g.sw_values = 16;
	d->g.mt_choices = 5;
	if (d->g.ept && (base->flags & TDP_CFG_X86_AD)) {
		d->g.a_bit = 1ull << 8; /* docs/formats.md §E.5 */
		d->g.d_bit = 1ull << 9;
	}
	if (base->format == TDP_FORMAT_RISCV_G) {
		/* two RSW bits; PMA/NC/IO with Svpbmt, else only PMA (docs/formats.md §R.3, §R.5) */
		d->g.sw_values = 4;
		d->g.mt_choices = (base->flags & TDP_CFG_RISCV_SVPBMT) ? 4 : 2;
		if (base->flags & TDP_CFG_RISCV_SVADU) {
			d->g.a_bit = 1ull << 6;
			d->g.d_bit = 1ull << 7;
		}
	}
	/* a window of eight of the largest leaves (at least 1 GiB), placed by the seed */
	ia_size = 1ull << base->ia_bits;
	win = d->g.size[d->g.top_leaf] * 8;
	if (win < (1ull << 30))
		win = 1ull << 30;
	if (win > ia_size)
		win = ia_size;
	d->g.win_size = win;
	d->g.win_base = (seed % (ia_size / win)) * win;
	return 0;
}

static void drun_fini(struct drun *d)
{
	if (d->pgt.fops)
		tdp_pgtable_destroy(&d->pgt);
	tk_model_free(&d->m);
	tk_replay_free(&d->rep);
	tdp_tk_tlb_delete(d->tlb);
	tdp_tk_pool_delete(d->pool);
}

struct leaves_arg {
	struct tk_model *out;
	uint64_t lo, hi;
	char *why;
	size_t whylen;
};

static int collect_leaf(const struct tdp_tk_xlate *x, void *arg)
{
	struct leaves_arg *a = arg;
	uint64_t s, t;

	if (x->result != TDP_TK_OK) {
		snprintf(a->why, a->whylen, "reference walker: result %d at 0x%llx: %s", x->result,
			 (unsigned long long)x->span_base, x->why);
		return 1;
	}
	s = x->span_base > a->lo ? x->span_base : a->lo;
	t = x->span_base + x->span_size < a->hi ? x->span_base + x->span_size : a->hi;
	/* every format aligns a leaf's output address to its size */
	if (s < t)
		tk_model_append(a->out, s, t - s, (x->hpa & ~(x->span_size - 1)) + (s - x->span_base),
				x->attr);
	return 0;
}

/* The table, read by the reference walker, translates [lo, hi) as model m says. */
static int check_range_of(struct drun *d, const struct tk_model *m, const char *name, uint64_t lo,
			  uint64_t hi, size_t *tables)
{
	struct tk_model seen, want;
	struct leaves_arg a;
	char why[400];
	int ret;

	tk_model_init(&seen);
	a = (struct leaves_arg){ &seen, lo, hi, why, sizeof(why) };
	ret = tdp_tk_ref_leaves(&d->ref, lo, hi - lo, collect_leaf, &a, tables);
	if (ret) {
		tk_model_free(&seen);
		return ret < 0 ? failf(d, "tdp_tk_ref_leaves: %d", ret) : failf(d, "%s", why);
	}
	tk_model_clip(m, lo, hi, &want);
	if (!tk_model_equal(&seen, &want, why, sizeof(why)))
		ret = failf(d, "translations differ from the %s in [0x%llx, 0x%llx): table %s", name,
			    (unsigned long long)lo, (unsigned long long)hi, why);
	tk_model_free(&seen);
	tk_model_free(&want);
	return ret;
}

static int check_range(struct drun *d, uint64_t lo, uint64_t hi, size_t *tables)
{
	return check_range_of(d, &d->m, "model", lo, hi, tables);
}

/* The report of a call: the op it is made for (0: none may report). */
static unsigned int dop_op(const struct dop *op)
{
	switch (op->kind) {
	case D_MAP: return TDP_OP_MAP;
	case D_UNMAP: return TDP_OP_UNMAP;
	case D_ZAP: return TDP_OP_ZAP;
	case D_SPLIT: return TDP_OP_SPLIT;
	case D_PROTECT: return TDP_OP_PROTECT;
	default: return 0;
	}
}

/* Permission checks the hardware would make, on a few pages of the range. */
static int check_access(struct drun *d, uint64_t gpa, uint64_t size)
{
	static const struct {
		unsigned int access;
		tdp_attr_t need;
	} acc[] = { { TDP_TK_READ, TDP_PROT_R },
		    { TDP_TK_WRITE, TDP_PROT_W },
		    { TDP_TK_EXEC, TDP_PROT_XP },
		    { TDP_TK_EXEC | TDP_TK_USER, TDP_PROT_XU } };
	uint64_t page = d->g.size[0];

	for (int i = 0; i < 4; i++) {
		uint64_t a = gpa + rbelow(&d->fill, size / page) * page;
		const struct tk_ext *e = NULL;
		struct tdp_tk_xlate x;

		for (size_t k = 0; k < d->m.n; k++)
			if (d->m.v[k].gpa <= a && a < d->m.v[k].gpa + d->m.v[k].size)
				e = &d->m.v[k];
		for (size_t k = 0; k < 4; k++) {
			enum tdp_tk_result want;

			if (tdp_tk_ref_translate(&d->ref, a, acc[k].access, &x))
				return failf(d, "tdp_tk_ref_translate failed");
			want = !e ? TDP_TK_TRANSLATION_FAULT :
			       (e->attr & acc[k].need) ? TDP_TK_OK : TDP_TK_PERMISSION_FAULT;
			if (x.result != want)
				return failf(d, "access 0x%x at 0x%llx: walker says %d (%s), model says %d",
					     acc[k].access, (unsigned long long)a, x.result, x.why,
					     want);
			if (want == TDP_TK_OK && x.hpa != e->hpa + (a - e->gpa))
				return failf(d, "access at 0x%llx reaches 0x%llx, model says 0x%llx",
					     (unsigned long long)a, (unsigned long long)x.hpa,
					     (unsigned long long)(e->hpa + (a - e->gpa)));
		}
	}
	return 0;
}

/* Cache translations in and around [gpa, gpa + size) in the TLB model. */
static void fill_tlb(struct drun *d, uint64_t gpa, uint64_t size)
{
	uint64_t page = d->g.size[0], lo, hi;

	lo = gpa >= d->g.win_base + 2 * page ? gpa - 2 * page : d->g.win_base;
	hi = gpa + size + 2 * page <= d->g.win_base + d->g.win_size ? gpa + size + 2 * page
								    : d->g.win_base + d->g.win_size;
	for (int i = 0; i < 12; i++) {
		uint64_t a = lo + rbelow(&d->fill, (hi - lo) / page) * page;

		if (tdp_tk_tlb_fill(d->tlb, a, TDP_TK_PROBE) > 0)
			d->st->tlb_fills++;
	}
	/* the edges, where splits happen */
	tdp_tk_tlb_fill(d->tlb, gpa, TDP_TK_PROBE);
	tdp_tk_tlb_fill(d->tlb, gpa + size - page, TDP_TK_PROBE);
	if (gpa > d->g.win_base)
		tdp_tk_tlb_fill(d->tlb, gpa - page, TDP_TK_PROBE);
	if (gpa + size < d->g.win_base + d->g.win_size)
		tdp_tk_tlb_fill(d->tlb, gpa + size, TDP_TK_PROBE);
}

/* A small set of table addresses (open addressing; grows by doubling). */
struct pa_set {
	uint64_t *v;
	size_t cap, n;
};

static bool pa_set_add(struct pa_set *s, uint64_t pa)
{
	if (2 * (s->n + 1) > s->cap) {
		struct pa_set bigger = { calloc(s->cap ? s->cap * 2 : 256, sizeof(uint64_t)),
					 s->cap ? s->cap * 2 : 256, 0 };

		if (!bigger.v)
			return false;
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i])
				pa_set_add(&bigger, s->v[i] - 1);
		free(s->v);
		*s = bigger;
	}
	for (size_t i = (size_t)(pa >> 12) * 0x9e3779b1u & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->v[i] == pa + 1)
			return true;
		if (!s->v[i]) {
			s->v[i] = pa + 1; /* + 1: address 0 is a valid table */
			s->n++;
			return true;
		}
	}
}

struct pages_arg {
	struct leaves_arg leaves;
	struct pa_set used; /* tables on the path of some leaf */
};

static int collect_leaf_tables(const struct tdp_tk_xlate *x, void *arg)
{
	struct pages_arg *a = arg;

	for (unsigned int i = 0; i < x->nr_tables; i++)
		if (!pa_set_add(&a->used, x->tables[i]))
			return 1;
	return collect_leaf(x, &a->leaves);
}

/*
 * The whole window translates as the model says; the pool holds exactly the
 * tables the walker reaches (+ the memory cache's pages); and every
 * reachable table below the root lies on some leaf's path: a table left
 * empty must have been freed.
 */
static int check_pages(struct drun *d, size_t extra)
{
	uint64_t lo = d->g.win_base, hi = d->g.win_base + d->g.win_size;
	struct tdp_tk_pool_stats ps;
	struct tk_model seen, want;
	struct pages_arg a;
	size_t tables = 0, used;
	char why[400];
	int ret;

	tk_model_init(&seen);
	memset(&a, 0, sizeof(a));
	a.leaves = (struct leaves_arg){ &seen, lo, hi, why, sizeof(why) };
	ret = tdp_tk_ref_leaves(&d->ref, lo, hi - lo, collect_leaf_tables, &a, &tables);
	used = a.used.n + (a.used.n == 0); /* the root is reachable even with no leaf */
	free(a.used.v);
	if (ret) {
		tk_model_free(&seen);
		return ret < 0 ? failf(d, "tdp_tk_ref_leaves: %d", ret) : failf(d, "%s", why);
	}
	tk_model_clip(&d->m, lo, hi, &want);
	if (!tk_model_equal(&seen, &want, why, sizeof(why)))
		ret = failf(d, "window translations differ from the model: table %s", why);
	tk_model_free(&seen);
	tk_model_free(&want);
	if (ret)
		return ret;
	tdp_tk_pool_stats(d->pool, &ps);
	if (ps.errors)
		return failf(d, "pool: %s", tdp_tk_pool_first_error(d->pool));
	if (ps.out_blocks != tables + extra)
		return failf(d, "pool holds %zu blocks, the walker reaches %zu tables (+%zu cached): "
			     "leak or lost table", ps.out_blocks, tables, extra);
	if (used != tables)
		return failf(d, "%zu of %zu reachable tables hold no leaf: an emptied table was not freed",
			     tables - used, tables);
	return 0;
}

struct split_arg {
	enum tdp_format format;
	unsigned int target;
	uint64_t bad;
};

/*
 * By level, not by span: a contiguous group (Svnapot) is a level-0 leaf that
 * translates 64 KiB as one unit, and split leaves it whole.
 */
static int leaf_too_big(const struct tdp_tk_xlate *x, void *arg)
{
	struct split_arg *a = arg;

	if (x->result == TDP_TK_OK && tk_neutral_level(a->format, x->level) > a->target) {
		a->bad = x->span_base;
		return 1;
	}
	return 0;
}

/* After a split, no leaf above the target level intersects the range. */
static int check_split(struct drun *d, const struct dop *op)
{
	struct split_arg a = { d->cfg.format, op->target, 0 };

	if (tdp_tk_ref_leaves(&d->ref, op->gpa, op->size, leaf_too_big, &a, NULL))
		return failf(d, "split left a leaf larger than level %u at 0x%llx", op->target,
			     (unsigned long long)a.bad);
	return 0;
}

/* The bound the library documents for the operation's memory-cache pages. */
static long pages_needed(struct drun *d, const struct dop *op)
{
	switch (op->kind) {
	case D_MAP:
		return tdp_map_pages_needed(&d->pgt, op->gpa, op->hpa, op->size, op->flags);
	case D_UNMAP:
		return tdp_unmap_pages_needed(&d->pgt, op->gpa, op->size);
	case D_SPLIT:
		return tdp_split_pages_needed(&d->pgt, op->gpa, op->size, op->target);
	case D_PROTECT:
		return tdp_protect_pages_needed(&d->pgt, op->gpa, op->size);
	default:
		return 0;
	}
}

static int expect_rc(struct drun *d, const struct dop *op, int rc, bool injected,
		     bool short_cache)
{
	if (rc == 0)
		return 0;
	if (rc == -TDP_ENOMEM && (injected || short_cache))
		return 0;
	if (rc == -TDP_EEXIST && op->kind == D_MAP && (op->flags & TDP_MAP_NOREPLACE))
		return 0;
	return failf(d, "unexpected return %d", rc);
}

/* Play the CPU: set accessed (and, on writable leaves, dirty) bits on a few leaves. */
static int touch_leaves(struct drun *d, uint64_t gpa, uint64_t size)
{
	uint64_t page = d->g.size[0];

	for (int i = 0; i < 4; i++) {
		uint64_t a = gpa + rbelow(&d->fill, size / page) * page, *pte;
		struct tdp_tk_xlate x;

		if (tdp_tk_ref_translate(&d->ref, a, TDP_TK_PROBE, &x))
			return failf(d, "tdp_tk_ref_translate failed");
		if (x.result != TDP_TK_OK)
			continue;
		pte = tdp_tk_pool_va(d->pool, x.pte_pa);
		if (!pte)
			return failf(d, "leaf at 0x%llx has no memory", (unsigned long long)x.pte_pa);
		*pte |= d->g.a_bit | (((x.attr & TDP_PROT_W) && rchance(&d->fill, 60)) ? d->g.d_bit : 0);
	}
	return 0;
}

struct ad_scan {
	uint64_t gpa, end, page, bit;
	uint64_t *expect;  /* dirty: pages expected in the bitmap */
	bool any;          /* some leaf has the bit */
	bool stray;        /* after: a leaf inside the range still has it */
};

static int scan_ad(const struct tdp_tk_xlate *x, void *arg)
{
	struct ad_scan *s = arg;
	uint64_t lo, hi;

	if (x->result != TDP_TK_OK || !(x->pte & s->bit))
		return 0;
	s->any = true;
	lo = x->span_base > s->gpa ? x->span_base : s->gpa;
	hi = x->span_base + x->span_size < s->end ? x->span_base + x->span_size : s->end;
	if (s->expect)
		for (uint64_t a = lo; a < hi; a += s->page)
			s->expect[(a - s->gpa) / s->page / 64] |= 1ull << ((a - s->gpa) / s->page % 64);
	if (x->span_base >= s->gpa && x->span_base + x->span_size <= s->end)
		s->stray = true;
	return 0;
}

/*
 * tdp_test_clear_young / tdp_collect_dirty against what the walker reads:
 * the answer before, and the bits gone afterwards (young: every leaf that
 * intersects; dirty: every leaf inside the range, straddling ones stay).
 */
static int harvest(struct drun *d, const struct dop *op, int *rc)
{
	uint64_t page = d->g.size[0], words = (op->size / page + 63) / 64;
	struct ad_scan s = { op->gpa, op->gpa + op->size, page, 0, NULL, false, false };
	uint64_t *want = NULL, *got = NULL;
	int ret = touch_leaves(d, op->gpa, op->size);

	if (ret)
		return ret;
	if (op->kind == D_YOUNG) {
		bool young = false;

		s.bit = d->g.a_bit;
		if (tdp_tk_ref_leaves(&d->ref, op->gpa, op->size, scan_ad, &s, NULL))
			return failf(d, "walker failed");
		*rc = tdp_test_clear_young(&d->pgt, op->gpa, op->size, &young);
		if (*rc)
			return 0;
		if (young != s.any)
			return failf(d, "young says %d, the leaves' accessed bits say %d", young, s.any);
		s.any = false;
		if (tdp_tk_ref_leaves(&d->ref, op->gpa, op->size, scan_ad, &s, NULL))
			return failf(d, "walker failed");
		if (s.any)
			return failf(d, "an accessed bit survived test-and-clear");
		return 0;
	}
	want = calloc(words, sizeof(*want));
	got = calloc(words, sizeof(*got));
	if (!want || !got) {
		free(want);
		free(got);
		return failf(d, "out of memory");
	}
	s.bit = d->g.d_bit;
	s.expect = want;
	ret = tdp_tk_ref_leaves(&d->ref, op->gpa, op->size, scan_ad, &s, NULL);
	*rc = ret ? 0 : tdp_collect_dirty(&d->pgt, op->gpa, op->size, got);
	if (ret)
		ret = failf(d, "walker failed");
	else if (!*rc && memcmp(want, got, words * sizeof(*got)) != 0)
		ret = failf(d, "dirty bitmap differs from the leaves' dirty bits");
	if (!ret && !*rc) {
		s.expect = NULL;
		s.stray = false;
		if (tdp_tk_ref_leaves(&d->ref, op->gpa, op->size, scan_ad, &s, NULL))
			ret = failf(d, "walker failed");
		else if (s.stray)
			ret = failf(d, "a leaf inside the range stayed dirty after collection");
	}
	free(want);
	free(got);
	return ret;
}

/* Run one operation and check everything. Returns 0 or 1 (d->why says why). */
static int drun_op(struct drun *d, const struct dop *op, bool full_check)
{
	struct tdp_tk_pool_stats before, after;
	struct tdp_memcache mc, *mcp = NULL;
	uint64_t page = d->g.size[0], lo, hi, big = d->g.size[d->g.top_leaf], rlo, rhi;
	long need = 0;
	size_t mc_before = 0;
	int rc = 0, ret;

	if (op->kind != D_BAD)
		fill_tlb(d, op->gpa, op->size);
	if (op->mc_pages >= 0) {
		tdp_memcache_init(&mc);
		if (tdp_memcache_topup(&d->pgt, &mc, (size_t)op->mc_pages))
			return failf(d, "memcache top-up failed");
		mcp = &mc;
		mc_before = mc.nr;
		need = pages_needed(d, op);
		if (need < 0)
			return failf(d, "pages_needed: %ld", need);
	}
	tdp_tk_pool_stats(d->pool, &before);
	if (op->fail_nth >= 0)
		tdp_tk_pool_fail_nth(d->pool, op->fail_nth);
	/* its reports may reach the largest leaves around the range (split or removed whole) */
	rlo = op->gpa & ~(big - 1);
	rhi = ((op->gpa + op->size - 1) | (big - 1)) + 1;
	if (rhi > (1ull << d->cfg.ia_bits) || rhi == 0)
		rhi = 1ull << d->cfg.ia_bits;
	tk_replay_begin(&d->rep, dop_op(op), rlo, rhi);

	switch (op->kind) {
	case D_MAP:
		d->st->map++;
		rc = tdp_map(&d->pgt, op->gpa, op->hpa, op->size, op->attr, op->flags, mcp);
		if (rc == -TDP_EEXIST) {
			d->st->noreplace_eexist++;
			if (!tk_model_any(&d->m, op->gpa, op->size))
				return failf(d, "-EEXIST but nothing is mapped in the range");
		} else if (rc == 0) {
			if ((op->flags & TDP_MAP_NOREPLACE) && tk_model_any(&d->m, op->gpa, op->size))
				return failf(d, "NOREPLACE map succeeded over a mapping");
			tk_model_map(&d->m, op->gpa, op->hpa, op->size, op->attr);
		}
		break;
	case D_UNMAP:
		d->st->unmap++;
		rc = tdp_unmap(&d->pgt, op->gpa, op->size, mcp);
		if (rc == 0)
			tk_model_unmap(&d->m, op->gpa, op->size);
		break;
	case D_ZAP: {
		struct tdp_zap_result zr;
		uint64_t at = op->gpa, end = op->gpa + op->size;
		unsigned long rounds = 0;

		d->st->zap++;
		do {
			rc = tdp_zap(&d->pgt, at, end - at, op->budget, &zr);
			if (rc < 0)
				break;
			if (zr.removed_start != zr.removed_end)
				tk_model_unmap(&d->m, zr.removed_start,
					       zr.removed_end - zr.removed_start);
			if (rc == 1 && zr.resume <= at)
				return failf(d, "zap made no progress (resume 0x%llx)",
					     (unsigned long long)zr.resume);
			at = zr.resume;
			if (++rounds > (op->size / page) * 4 + 16)
				return failf(d, "zap does not finish");
		} while (rc == 1);
		if (rc == 0 && zr.resume != end)
			return failf(d, "zap finished with resume 0x%llx != end",
				     (unsigned long long)zr.resume);
		break;
	}
	case D_SPLIT:
		d->st->split++;
		rc = tdp_split(&d->pgt, op->gpa, op->size, op->target, mcp);
		break;
	case D_PROTECT:
		d->st->protect++;
		rc = tdp_protect(&d->pgt, op->gpa, op->size, op->clear, op->set, mcp);
		if (rc == 0)
			tk_model_protect(&d->m, op->gpa, op->size, op->clear, op->set);
		break;
	case D_YOUNG:
	case D_DIRTY:
		ret = harvest(d, op, &rc);
		if (ret)
			return ret;
		break;
	case D_BAD:
		rc = tdp_map(&d->pgt, op->gpa, op->hpa, op->size, TDP_PROT_RW, 0, NULL);
		if (rc != -TDP_EINVAL && rc != -TDP_ERANGE)
			return failf(d, "bad input accepted: %d", rc);
		rc = tdp_unmap(&d->pgt, op->gpa, op->size, NULL);
		if (rc != -TDP_EINVAL && rc != -TDP_ERANGE)
			return failf(d, "bad input accepted by unmap: %d", rc);
		rc = 0;
		break;
	}
	tdp_tk_pool_fail_off(d->pool);
	tdp_tk_pool_stats(d->pool, &after);
	if (rc == -TDP_ENOMEM)
		d->st->enomem++;
	/* with a cache holding the documented bound, running short is a bug */
	ret = expect_rc(d, op, rc, after.failed_allocs > before.failed_allocs,
			mcp && mc_before < (size_t)need);
	if (ret)
		return ret;
	if (rc && (after.out_blocks != before.out_blocks || (mcp && mcp->nr != mc_before)))
		return failf(d, "failed call (%d) changed the page count %zu -> %zu", rc,
			     before.out_blocks, after.out_blocks);
	/* change reports: consistent, none from a failed call, and what the table holds */
	tk_replay_begin(&d->rep, 0, 0, 0);
	if (d->rep.bad)
		return failf(d, "change reports: %s", d->rep.why);
	if (rc && d->rep.count)
		return failf(d, "failed call (%d) reported %zu changes", rc, d->rep.count);
	if (op->kind != D_BAD) {
		ret = check_range_of(d, &d->rep.m, "change reports", rlo, rhi, NULL);
		if (ret)
			return ret;
	}
	if (rc == 0 && op->kind == D_SPLIT) {
		ret = check_split(d, op);
		if (ret)
			return ret;
	}

	if (tdp_tk_tlb_check(d->tlb))
		return failf(d, "TLB model: %s", tdp_tk_tlb_first_violation(d->tlb));
	/*
	 * The range itself, leaf by leaf, and sampled pages of the largest
	 * blocks around its edges (where splits keep the outside part);
	 * the periodic full check compares the whole window.
	 */
	if (op->kind != D_BAD) {
		ret = check_range(d, op->gpa, op->gpa + op->size, NULL);
		if (ret)
			return ret;
		lo = op->gpa & ~(big - 1);
		hi = ((op->gpa + op->size - 1) | (big - 1)) + 1;
		if (lo < d->g.win_base)
			lo = d->g.win_base;
		if (hi > d->g.win_base + d->g.win_size || hi == 0)
			hi = d->g.win_base + d->g.win_size;
		if (op->gpa > lo)
			ret = check_access(d, lo, op->gpa - lo);
		if (!ret && hi > op->gpa + op->size)
			ret = check_access(d, op->gpa + op->size, hi - (op->gpa + op->size));
		if (!ret)
			ret = check_access(d, op->gpa, op->size);
		if (ret)
			return ret;
	}
	if (full_check) {
		char why[400];

		ret = check_pages(d, mcp ? mcp->nr : 0);
		if (ret)
			return ret;
		if (!tk_model_equal(&d->rep.m, &d->m, why, sizeof(why)))
			return failf(d, "change reports differ from the model: %s", why);
	}
	if (mcp)
		tdp_memcache_drain(&d->pgt, mcp);
	d->st->ops++;
	return 0;
}

/*
 * Run one sequence on a fresh table: generate n operations from `seed` first
 * when `gen`, else replay ops[] as they are. Returns the index of the
 * failing operation (n for a failure at destroy), or -1.
 */
static long run_seq(const struct tdp_config *cfg, uint64_t seed, struct dop *ops, size_t n,
		    bool gen, unsigned int fail_percent, struct tdp_tk_diff_stats *st, char *why,
		    size_t whylen)
{
	struct drun d;
	long failed = -1;
	int ret = drun_init(&d, cfg, seed, st);

	if (ret) {
		snprintf(why, whylen, "setting up the table failed: %d", ret);
		drun_fini(&d);
		return 0;
	}
	if (gen) {
		struct rsrc r = { .state = seed };

		for (size_t i = 0; i < n; i++)
			gen_op(&r, &d.g, fail_percent, &ops[i]);
	}
	for (size_t i = 0; i < n && failed < 0; i++)
		if (drun_op(&d, &ops[i], (i & 255) == 255 || i + 1 == n))
			failed = (long)i;
	if (failed < 0) {
		struct tdp_tk_pool_stats ps;

		tk_replay_begin(&d.rep, TDP_OP_DESTROY, 0, UINT64_MAX);
		tdp_pgtable_destroy(&d.pgt);
		d.pgt.fops = NULL;
		tdp_tk_pool_stats(d.pool, &ps);
		if (d.rep.bad || d.rep.m.n) {
			snprintf(d.why, sizeof(d.why), "change reports of destroy: %s",
				 d.rep.bad ? d.rep.why : "leaves left unreported");
			failed = (long)n;
		} else if (ps.out_blocks || ps.errors) {
			snprintf(d.why, sizeof(d.why), "after destroy: %zu blocks outstanding, %zu pool errors %s",
				 ps.out_blocks, ps.errors, tdp_tk_pool_first_error(d.pool));
			failed = (long)n;
		} else if (tdp_tk_tlb_check(d.tlb)) {
			snprintf(d.why, sizeof(d.why), "TLB model after destroy: %s",
				 tdp_tk_tlb_first_violation(d.tlb));
			failed = (long)n;
		}
	}
	if (failed >= 0)
		snprintf(why, whylen, "%s", d.why);
	drun_fini(&d);
	return failed;
}

/* ------------------------------------------------------------------ */
/* Public entry points                                                 */

static void say(const struct tdp_tk_diff_opts *o, const char *fmt, ...)
{
	char line[800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (o && o->print)
		o->print(o->print_arg, line);
	else
		fprintf(stderr, "%s\n", line);
}

/*
 * Shrink a failing sequence: drop chunks of operations (halving the chunk
 * size down to one) while the run still fails.
 */
static size_t shrink(const struct tdp_config *cfg, uint64_t seed, struct dop *ops, size_t n)
{
	struct tdp_tk_diff_stats st;
	char why[512];

	for (size_t chunk = n / 2; chunk >= 1; chunk /= 2) {
		for (size_t at = 0; at + chunk <= n;) {
			struct dop *tmp = malloc(sizeof(*tmp) * (n - chunk));

			if (!tmp)
				return n;
			memcpy(tmp, ops, at * sizeof(*tmp));
			memcpy(tmp + at, ops + at + chunk, (n - at - chunk) * sizeof(*tmp));
			memset(&st, 0, sizeof(st));
			if (run_seq(cfg, seed, tmp, n - chunk, false, 0, &st, why, sizeof(why)) >= 0) {
				memcpy(ops, tmp, (n - chunk) * sizeof(*tmp));
				n -= chunk;
			} else {
				at += chunk;
			}
			free(tmp);
		}
		if (chunk == 1)
			break;
	}
	return n;
}

static void report(const struct tdp_tk_diff_opts *o, const struct tdp_config *cfg, uint64_t seed,
		   const struct dop *ops, size_t n, long failed, const char *why)
{
	char line[400];

	say(o, "tdp-testkit diff: FAILED: format %d granule_shift %u ia %u oa %u flags 0x%x "
	       "seed %llu, operation %ld: %s", cfg->format, cfg->granule_shift, cfg->ia_bits,
	    cfg->oa_bits, cfg->flags, (unsigned long long)seed, failed, why);
	if ((size_t)failed < n) {
		format_op(&ops[failed], line, sizeof(line));
		say(o, "  failing operation: %s", line);
	}
	(void)n;
}

/* Operations per sequence: each sequence gets a fresh table and its own seed. */
#define SEQ_OPS 4096

static uint64_t seq_seed(uint64_t seed, uint64_t k)
{
	struct rsrc r = { .state = seed ^ (k * 0xd1342543de82ef95ull) };

	return rnext(&r);
}

int tdp_tk_diff_run(const struct tdp_tk_diff_opts *o, struct tdp_tk_diff_stats *st)
{
	struct tdp_tk_diff_stats local;
	struct dop *ops;
	uint64_t done = 0;

	if (!o)
		return -TDP_EINVAL;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	ops = malloc(sizeof(*ops) * SEQ_OPS);
	if (!ops)
		return -TDP_ENOMEM;
	for (uint64_t k = 0; done < o->ops; k++) {
		size_t n = o->ops - done < SEQ_OPS ? (size_t)(o->ops - done) : SEQ_OPS;
		uint64_t seed = seq_seed(o->seed, k);
		char why[512], line[400];
		long failed;

		failed = run_seq(&o->cfg, seed, ops, n, true, o->fail_percent, st, why, sizeof(why));
		if (failed >= 0) {
			report(o, &o->cfg, seed, ops, n, failed, why);
			if (o->shrink && (size_t)failed < n) {
				struct tdp_tk_diff_stats scratch;
				size_t m = shrink(&o->cfg, seed, ops, (size_t)failed + 1);

				memset(&scratch, 0, sizeof(scratch));
				failed = run_seq(&o->cfg, seed, ops, m, false, 0, &scratch, why,
						 sizeof(why));
				say(o, "  shrunk to %zu operations on a fresh table (sequence seed %llu): %s",
				    m, (unsigned long long)seed, why);
				for (size_t i = 0; i < m; i++) {
					format_op(&ops[i], line, sizeof(line));
					say(o, "    %s", line);
				}
			}
			free(ops);
			return 1;
		}
		done += n;
	}
	free(ops);
	return 0;
}

/* Configurations the fuzzer's first byte picks from, per format. */
static const struct {
	enum tdp_format format;
	unsigned int granule_shift, ia, oa;
	uint32_t flags;
	unsigned int leaf_levels;
} fuzz_cfgs[] = {
	{ TDP_FORMAT_ARM64_S2, 12, 48, 48, 0, 0 },
	{ TDP_FORMAT_ARM64_S2, 12, 40, 40, TDP_CFG_ARM64_XNX, 0 },
	{ TDP_FORMAT_ARM64_S2, 12, 32, 36, 0, 0 },
	{ TDP_FORMAT_ARM64_S2, 12, 39, 44, 0, 2 },
	{ TDP_FORMAT_ARM64_S2, 14, 40, 40, 0, 0 },
	{ TDP_FORMAT_ARM64_S2, 14, 48, 48, TDP_CFG_ARM64_XNX, 0 },
	{ TDP_FORMAT_ARM64_S2, 16, 42, 42, 0, 0 },
	{ TDP_FORMAT_ARM64_S2, 16, 52, 52, 0, 0 },
	{ TDP_FORMAT_X86_EPT, 12, 48, 46, 0, 0 },
	{ TDP_FORMAT_X86_EPT, 12, 57, 52, TDP_CFG_X86_MBEC | TDP_CFG_X86_EXEC_ONLY, 0 },
	{ TDP_FORMAT_X86_EPT, 12, 48, 39, TDP_CFG_X86_SVE | TDP_CFG_X86_AD, 2 },
	{ TDP_FORMAT_RISCV_G, 12, 41, 44, 0, 0 },
	{ TDP_FORMAT_RISCV_G, 12, 50, 56,
	  TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVADU, 0 },
	{ TDP_FORMAT_RISCV_G, 12, 59, 56, TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVVPTC, 3 },
};

int tdp_tk_diff_run_bytes(enum tdp_format format, const uint8_t *data, size_t size)
{
	struct tdp_tk_diff_stats st;
	struct tdp_config cfg;
	struct rsrc r;
	struct drun d;
	unsigned int nmatch = 0, pick;
	size_t i;

	if (!data || size < 2)
		return 0;
	for (i = 0; i < sizeof(fuzz_cfgs) / sizeof(fuzz_cfgs[0]); i++)
		nmatch += fuzz_cfgs[i].format == format;
	if (!nmatch)
		return 0;
	pick = data[0] % nmatch;
	for (i = 0; fuzz_cfgs[i].format != format || pick--; i++)
		;
	memset(&cfg, 0, sizeof(cfg));
	cfg.format = format;
	cfg.granule_shift = fuzz_cfgs[i].granule_shift;
	cfg.ia_bits = fuzz_cfgs[i].ia;
	cfg.oa_bits = fuzz_cfgs[i].oa;
	cfg.flags = fuzz_cfgs[i].flags;
	cfg.leaf_levels = fuzz_cfgs[i].leaf_levels;
	memset(&st, 0, sizeof(st));
	r = (struct rsrc){ .bytes = data + 2, .len = size - 2 };
	if (drun_init(&d, &cfg, data[1], &st)) {
		drun_fini(&d);
		return 0;
	}
	for (unsigned int k = 0; !rexhausted(&r) && k < 512; k++) {
		struct dop op;
		char line[400];

		gen_op(&r, &d.g, 15, &op);
		if (drun_op(&d, &op, (k & 63) == 63 || rexhausted(&r))) {
			format_op(&op, line, sizeof(line));
			fprintf(stderr, "tdp-testkit fuzz: FAILED at operation %u: %s\n  %s\n", k, d.why,
				line);
			drun_fini(&d);
			return 1;
		}
	}
	drun_fini(&d);
	return 0;
}
