/* SPDX-License-Identifier: MIT */
/*
 * Reference walkers, the format-neutral front: bind a walker to a libtdp
 * table (its registers from the library's helpers), translate, enumerate
 * leaves. Also the kit's internal snapshots (kit_internal.h), built on the
 * same walker so that the kit holds one descriptor decoder per format.
 */
#include "kit_internal.h"

#include <tdp/riscv.h>
#include <tdp/x86.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Front                                                               */

bool tk_access_valid(unsigned int access)
{
	unsigned int kind = access & (TDP_TK_READ | TDP_TK_WRITE | TDP_TK_EXEC);

	if (access & ~(TDP_TK_READ | TDP_TK_WRITE | TDP_TK_EXEC | TDP_TK_USER))
		return false;
	if (kind & (kind - 1))
		return false; /* one kind of access at a time */
	return kind != 0 || !(access & TDP_TK_USER);
}

struct tk_text tk_xlate_start(struct tdp_tk_xlate *x)
{
	struct tk_text w = { x->why, 0, sizeof(x->why) };

	x->result = TDP_TK_OK;
	x->level = 0;
	x->span_base = x->span_size = x->hpa = x->pte = x->pte_pa = 0;
	x->attr = 0;
	x->nr_tables = 0;
	tk_text_reset(&w);
	return w;
}

/* The G-stage walker's hart features for a table's configuration flags. */
static uint32_t riscv_features(uint32_t flags)
{
	uint32_t f = 0;

	if (flags & TDP_CFG_RISCV_SVPBMT)
		f |= TDP_TK_RISCV_SVPBMT;
	if (flags & TDP_CFG_RISCV_SVNAPOT)
		f |= TDP_TK_RISCV_SVNAPOT;
	if (flags & TDP_CFG_RISCV_SVADU)
		f |= TDP_TK_RISCV_ADUE;
	return f;
}

int tdp_tk_ref_for(struct tdp_tk_ref *ref, const struct tdp_pgtable *pgt,
		   const struct tdp_tk_mem *mem)
{
	int rc;

	if (!ref || !pgt || !mem || !mem->ptr)
		return -TDP_EINVAL;
	switch (pgt->cfg.format) {
	case TDP_FORMAT_ARM64_S2: {
		struct tdp_tk_arm64_regs r = { 0 };

		rc = tdp_arm64_vtcr(pgt, 0, &r.vtcr);
		if (rc)
			return rc;
		rc = tdp_arm64_vttbr(pgt, 0, 0, &r.vttbr);
		if (rc)
			return rc;
		if (pgt->cfg.flags & TDP_CFG_ARM64_XNX)
			r.features |= TDP_TK_ARM64_FEAT_XNX;
		memset(ref, 0, sizeof(*ref));
		ref->format = TDP_FORMAT_ARM64_S2;
		ref->mem = *mem;
		ref->regs.arm64 = r;
		return 0;
	}
	case TDP_FORMAT_X86_EPT: {
		struct tdp_tk_x86_regs r = { 0 };
		uint32_t f = pgt->cfg.flags;

		rc = tdp_x86_eptp(pgt, &r.eptp);
		if (rc)
			return rc;
		r.caps = TDP_TK_X86_CAP_2M;
		if (pgt->cfg.leaf_levels != 1 && pgt->cfg.leaf_levels != 2)
			r.caps |= TDP_TK_X86_CAP_1G;
		if (f & TDP_CFG_X86_EXEC_ONLY)
			r.caps |= TDP_TK_X86_CAP_EXEC_ONLY;
		if (f & TDP_CFG_X86_MBEC)
			r.caps |= TDP_TK_X86_MBEC;
		r.maxphyaddr = pgt->cfg.oa_bits;
		memset(ref, 0, sizeof(*ref));
		ref->format = TDP_FORMAT_X86_EPT;
		ref->mem = *mem;
		ref->regs.x86 = r;
		return 0;
	}
	case TDP_FORMAT_RISCV_G: {
		struct tdp_tk_riscv_regs r = { 0 };

		rc = tdp_riscv_hgatp(pgt, 0, &r.hgatp);
		if (rc)
			return rc;
		r.features = riscv_features(pgt->cfg.flags);
		r.pa_bits = pgt->cfg.oa_bits;
		memset(ref, 0, sizeof(*ref));
		ref->format = TDP_FORMAT_RISCV_G;
		ref->mem = *mem;
		ref->regs.riscv = r;
		return 0;
	}
	default:
		return -TDP_EINVAL;
	}
}

static bool ref_entry_empty(enum tdp_format format, uint64_t pte);

/*
 * The size in bytes of the table x's walk read last: the root's when it is
 * the only one read (a RISC-V G-stage root is 16 KiB, 2048 entries), else
 * 4 KiB (every EPT table, every other G-stage table).
 */
static size_t last_table_bytes(const struct tdp_tk_ref *ref, const struct tdp_tk_xlate *x)
{
	if (ref->format == TDP_FORMAT_RISCV_G && x->nr_tables == 1)
		return 16384;
	return 4096;
}

/*
 * An EPT or G-stage walk with the iterators' resume hint: the first address
 * after x's span, extended over the empty entries that follow an empty one
 * in the same table (they fault the same way through the same tables); 0
 * when that reaches the top of the address space.
 */
static int table_walk(const struct tdp_tk_ref *ref, uint64_t gpa, unsigned int access,
		      struct tdp_tk_xlate *x, uint64_t *resume)
{
	uint64_t tbl_pa, run = 1;
	const unsigned char *tbl;
	size_t bytes;
	int rc;

	if (ref->format == TDP_FORMAT_X86_EPT)
		rc = tdp_tk_ref_ept(&ref->mem, &ref->regs.x86, gpa, access, x);
	else
		rc = tdp_tk_ref_riscv(&ref->mem, &ref->regs.riscv, gpa, access, x);
	if (rc || !resume)
		return rc;
	*resume = x->span_base + x->span_size;
	if (x->result != TDP_TK_TRANSLATION_FAULT || !x->nr_tables ||
	    !ref_entry_empty(ref->format, x->pte))
		return 0;
	bytes = last_table_bytes(ref, x);
	tbl_pa = x->tables[x->nr_tables - 1];
	tbl = ref->mem.ptr(ref->mem.ctx, tbl_pa, bytes);
	if (!tbl || x->pte_pa < tbl_pa || x->pte_pa - tbl_pa >= bytes)
		return 0;
	for (uint64_t off = x->pte_pa - tbl_pa + 8; off < bytes; off += 8, run++) {
		uint64_t e;

		memcpy(&e, tbl + off, sizeof(e));
		if (!ref_entry_empty(ref->format, e))
			break;
	}
	*resume = x->span_base + run * x->span_size;
	return 0;
}

/* Translate with the iterators' resume hint (see tk_arm64_walk). */
static int ref_walk(const struct tdp_tk_ref *ref, uint64_t gpa, unsigned int access,
		    struct tdp_tk_xlate *x, uint64_t *resume)
{
	if (!ref || !x)
		return -TDP_EINVAL;
	switch (ref->format) {
	case TDP_FORMAT_ARM64_S2:
		return tk_arm64_walk(&ref->mem, &ref->regs.arm64, gpa, access, x, resume);
	case TDP_FORMAT_X86_EPT:
	case TDP_FORMAT_RISCV_G:
		return table_walk(ref, gpa, access, x, resume);
	default:
		return -TDP_EINVAL;
	}
}

int tdp_tk_ref_translate(const struct tdp_tk_ref *ref, uint64_t gpa, unsigned int access,
			 struct tdp_tk_xlate *x)
{
	return ref_walk(ref, gpa, access, x, NULL);
}

/* ------------------------------------------------------------------ */
/* A map from table address to an index (open addressing)              */

struct pmap {
	uint64_t *key; /* pa | 1; 0 = empty */
	size_t *val;
	size_t cap, n;
};

static size_t pmap_slot(const struct pmap *m, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(h >> 20) & (m->cap - 1);

	while (m->key[i] && m->key[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int pmap_grow(struct pmap *m)
{
	struct pmap n = { 0 };

	n.cap = m->cap ? m->cap * 2 : 64;
	n.key = calloc(n.cap, sizeof(*n.key));
	n.val = calloc(n.cap, sizeof(*n.val));
	if (!n.key || !n.val) {
		free(n.key);
		free(n.val);
		return -TDP_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->key[i]) {
			size_t j = pmap_slot(&n, m->key[i]);

			n.key[j] = m->key[i];
			n.val[j] = m->val[i];
			n.n++;
		}
	}
	free(m->key);
	free(m->val);
	*m = n;
	return 0;
}

/*
 * Find pa; if absent, add it with `val`. Returns 1 if added, 0 if found
 * (*val then holds the stored value), or -TDP_ENOMEM.
 */
static int pmap_get_add(struct pmap *m, uint64_t pa, size_t *val)
{
	uint64_t key = pa | 1;
	size_t i;

	if ((m->n + 1) * 2 > m->cap && pmap_grow(m))
		return -TDP_ENOMEM;
	i = pmap_slot(m, key);
	if (m->key[i]) {
		*val = m->val[i];
		return 0;
	}
	m->key[i] = key;
	m->val[i] = *val;
	m->n++;
	return 1;
}

static void pmap_free(struct pmap *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* Iteration                                                           */

/*
 * Call fn for the outcome of every faulting entry or leaf from gpa to last
 * (inclusive), in address order: a PROBE walk at each position, then on to
 * the end of what the outcome covers (skipping runs of empty entries).
 * fn gets the position walked; non-zero stops and is returned.
 */
static int ref_iter(const struct tdp_tk_ref *ref, uint64_t gpa, uint64_t last,
		    int (*fn)(const struct tdp_tk_xlate *x, uint64_t pos, void *arg), void *arg)
{
	uint64_t pos = gpa;

	for (;;) {
		struct tdp_tk_xlate x;
		uint64_t resume;
		int rc = ref_walk(ref, pos, TDP_TK_PROBE, &x, &resume);

		if (rc)
			return rc;
		rc = fn(&x, pos, arg);
		if (rc)
			return rc;
		if (resume <= pos || resume - 1 >= last)
			return 0;
		pos = resume;
	}
}

struct leaves_ctx {
	int (*fn)(const struct tdp_tk_xlate *x, void *arg);
	void *arg;
	struct pmap seen; /* table pages */
	bool count;
	uint64_t prev[TDP_MAX_LEVELS + 1];
	unsigned int prev_nr;
	int err;
	enum tdp_format format;
};

/*
 * An entry the library wrote as empty. Anything else that faults (a valid
 * descriptor at a level that cannot hold it, a reserved encoding, a missing
 * access flag, an address above the output size) is reported by
 * tdp_tk_ref_leaves rather than passed over as a hole.
 */
static bool ref_entry_empty(enum tdp_format format, uint64_t pte)
{
	switch (format) {
	case TDP_FORMAT_ARM64_S2:
		return pte == 0;
	case TDP_FORMAT_X86_EPT:
		return pte == 0 || pte == 1ull << 63; /* nothing, or only suppress-#VE */
	case TDP_FORMAT_RISCV_G:
		return pte == 0;
	default:
		return false;
	}
}

static int leaves_one(const struct tdp_tk_xlate *x, uint64_t pos, void *arg)
{
	struct leaves_ctx *c = arg;

	(void)pos;
	if (c->count) {
		for (unsigned int i = 0; i < x->nr_tables; i++) {
			size_t v = 0;

			/* the walks before went through the same tables, mostly */
			if (i < c->prev_nr && c->prev[i] == x->tables[i])
				continue;
			if (pmap_get_add(&c->seen, x->tables[i], &v) < 0) {
				c->err = -TDP_ENOMEM;
				return c->err;
			}
		}
		memcpy(c->prev, x->tables, x->nr_tables * sizeof(x->tables[0]));
		c->prev_nr = x->nr_tables;
	}
	if (x->result == TDP_TK_TRANSLATION_FAULT && ref_entry_empty(c->format, x->pte))
		return 0; /* a hole */
	return c->fn(x, c->arg);
}

int tdp_tk_ref_leaves(const struct tdp_tk_ref *ref, uint64_t gpa, uint64_t size,
		      int (*fn)(const struct tdp_tk_xlate *x, void *arg), void *arg,
		      size_t *tables)
{
	struct leaves_ctx c = { .fn = fn, .arg = arg, .count = tables != NULL };
	int rc;

	if (tables)
		*tables = 0;
	if (!ref || !fn)
		return -TDP_EINVAL;
	c.format = ref->format;
	if (size == 0)
		return 0;
	if (gpa + size - 1 < gpa)
		return -TDP_ERANGE;
	rc = ref_iter(ref, gpa, gpa + size - 1, leaves_one, &c);
	if (tables)
		*tables = c.seen.n;
	pmap_free(&c.seen);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Snapshots of a pool-backed table (kit_internal.h)                   */

/*
 * The walker bound to pgt with registers the kit composes itself from the
 * configuration, so that it works on hand-made tables too (no library state
 * needed). arm64 (docs/formats.md §A.6-§A.8): SL0 from the kit's geometry, T0SZ,
 * TG0, PS, and BADDR with PA[51:48] in bits 5:2. EPT (§E.6): memory type WB,
 * page-walk length - 1, A/D enable with TDP_CFG_X86_AD, the root; a CPU
 * with 2 MiB / 1 GiB pages exactly where the table may put leaves, the
 * execute-only capability and MBEC as configured, MAXPHYADDR = oa_bits.
 * RISC-V (§R.1): HGATP MODE 8 / 9 / 10 for 3 / 4 / 5 levels, VMID 0, the
 * root's PPN; Svpbmt, Svnapot and ADUE as configured, pa_bits = oa_bits.
 * NULL on success, else the reason.
 */
static const char *kit_ref(const struct tdp_tk_pool *env, const struct tdp_pgtable *pgt,
			   struct tdp_tk_ref *ref, struct tk_geo *g)
{
	static const unsigned int ps_bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	unsigned int gshift = pgt->cfg.granule_shift ? pgt->cfg.granule_shift : 12;
	uint32_t f = pgt->cfg.flags;
	uint64_t ps = 0, sl0, tg0;
	int start;

	if (tk_geo_cfg(&pgt->cfg, g))
		return "kit: invalid configuration";
	memset(ref, 0, sizeof(*ref));
	ref->format = pgt->cfg.format;
	/* the reader only reads: its context is not const in the public API */
	ref->mem = tdp_tk_pool_mem((struct tdp_tk_pool *)(uintptr_t)env);
	if (pgt->cfg.format == TDP_FORMAT_X86_EPT) {
		struct tdp_tk_x86_regs *r = &ref->regs.x86;

		r->eptp = pgt->root_pa | 6 | (uint64_t)(g->levels - 1) << 3 |
			  ((f & TDP_CFG_X86_AD) ? 1ull << 6 : 0);
		r->caps = ((g->leaf_mask & 2) ? TDP_TK_X86_CAP_2M : 0) |
			  ((g->leaf_mask & 4) ? TDP_TK_X86_CAP_1G : 0) |
			  ((f & TDP_CFG_X86_EXEC_ONLY) ? TDP_TK_X86_CAP_EXEC_ONLY : 0) |
			  ((f & TDP_CFG_X86_MBEC) ? TDP_TK_X86_MBEC : 0);
		r->maxphyaddr = pgt->cfg.oa_bits;
		return NULL;
	}
	if (pgt->cfg.format == TDP_FORMAT_RISCV_G) {
		struct tdp_tk_riscv_regs *r = &ref->regs.riscv;

		if (g->levels < 3 || g->levels > 5)
			return "kit: a G-stage table has 3, 4 or 5 levels";
		r->hgatp = (uint64_t)(g->levels + 5) << 60 | pgt->root_pa >> 12;
		r->features = riscv_features(f);
		r->pa_bits = pgt->cfg.oa_bits;
		return NULL;
	}
	if (pgt->cfg.format != TDP_FORMAT_ARM64_S2)
		return "kit: no reference walker for the format";
	while (ps_bits[ps] != pgt->cfg.oa_bits)
		ps++;
	start = 4 - (int)g->levels;
	sl0 = (uint64_t)(gshift == 12 ? 2 - start : 3 - start);
	tg0 = gshift == 12 ? 0 : gshift == 16 ? 1 : 2;
	ref->regs.arm64.vtcr = (64 - pgt->cfg.ia_bits) | sl0 << 6 | tg0 << 14 | ps << 16 |
			       (1ull << 31);
	ref->regs.arm64.vttbr = (pgt->root_pa & ((1ull << 48) - 1)) |
				((pgt->root_pa >> 48) & 0xf) << 2;
	if (f & TDP_CFG_ARM64_XNX)
		ref->regs.arm64.features = TDP_TK_ARM64_FEAT_XNX;
	return NULL;
}

/* Do the library's registers (tdp_tk_ref_for) describe the kit's walk? NULL, or the difference. */
static const char *lib_regs_differ(const struct tdp_tk_ref *lib, const struct tdp_tk_ref *ref,
				   char *buf, size_t len)
{
	const uint64_t walk_bits = 0x3ffull << 32 | 0x7fffffull; /* VTCR: T0SZ..HD, DS, SL2 */

	if (ref->format == TDP_FORMAT_X86_EPT) {
		if (lib->regs.x86.eptp == ref->regs.x86.eptp)
			return NULL;
		snprintf(buf, len, "library EPTP 0x%llx, the kit expects 0x%llx",
			 (unsigned long long)lib->regs.x86.eptp,
			 (unsigned long long)ref->regs.x86.eptp);
		return buf;
	}
	if (ref->format == TDP_FORMAT_RISCV_G) {
		const struct tdp_tk_riscv_regs *l = &lib->regs.riscv, *k = &ref->regs.riscv;

		if (l->hgatp == k->hgatp && l->features == k->features && l->pa_bits == k->pa_bits)
			return NULL;
		snprintf(buf, len, "library HGATP 0x%llx (features 0x%x, %u-bit PA), the kit expects "
				   "0x%llx (features 0x%x, %u-bit PA)",
			 (unsigned long long)l->hgatp, l->features, l->pa_bits,
			 (unsigned long long)k->hgatp, k->features, k->pa_bits);
		return buf;
	}
	if (!((lib->regs.arm64.vtcr ^ ref->regs.arm64.vtcr) & walk_bits & ~0x3f00ull) &&
	    !((lib->regs.arm64.vttbr ^ ref->regs.arm64.vttbr) & ((1ull << 48) - 2)) &&
	    lib->regs.arm64.features == ref->regs.arm64.features)
		return NULL;
	snprintf(buf, len, "library VTCR_EL2 0x%llx / VTTBR_EL2 0x%llx, the kit expects 0x%llx / "
			   "0x%llx",
		 (unsigned long long)lib->regs.arm64.vtcr, (unsigned long long)lib->regs.arm64.vttbr,
		 (unsigned long long)ref->regs.arm64.vtcr, (unsigned long long)ref->regs.arm64.vttbr);
	return buf;
}

struct snapctx {
	struct tk_snap *s;
	const struct tdp_tk_pool *env;
	const struct tdp_config *cfg;
	uint64_t empty; /* the table's empty entry */
	struct tk_geo g;
	struct pmap tables; /* table pa -> index in s->tables */
	bool *valid;        /* per table: holds a valid entry */
	size_t cap_valid;
	bool *aliased;      /* per table: "linked twice" reported */
};

static void anomaly(struct tk_snap *s, const char *fmt, ...)
{
	va_list ap;

	if (s->anomalies++ == 0) {
		va_start(ap, fmt);
		vsnprintf(s->first_anomaly, sizeof(s->first_anomaly), fmt, ap);
		va_end(ap);
	}
}

static void push_leaf(struct tk_snap *s, const struct tk_leaf *l)
{
	if (s->nr == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct tk_leaf *n = realloc(s->leaves, cap * sizeof(*n));

		if (!n)
			abort();
		s->leaves = n;
		s->cap = cap;
	}
	s->leaves[s->nr++] = *l;
}

static size_t push_table(struct snapctx *c, const struct tk_table *t)
{
	struct tk_snap *s = c->s;

	if (s->nr_tables == s->cap_tables) {
		size_t cap = s->cap_tables ? s->cap_tables * 2 : 64;
		struct tk_table *n = realloc(s->tables, cap * sizeof(*n));
		bool *v = realloc(c->valid, cap * sizeof(*v));
		bool *a;

		if (!n || !v)
			abort();
		s->tables = n;
		c->valid = v;
		a = realloc(c->aliased, cap * sizeof(*a));
		if (!a)
			abort();
		c->aliased = a;
		s->cap_tables = cap;
	}
	c->valid[s->nr_tables] = false;
	c->aliased[s->nr_tables] = false;
	s->tables[s->nr_tables] = *t;
	return s->nr_tables++;
}

const char *tdp_tk_result_name(enum tdp_tk_result r)
{
	switch (r) {
	case TDP_TK_OK: return "ok";
	case TDP_TK_TRANSLATION_FAULT: return "translation fault";
	case TDP_TK_ADDRESS_SIZE_FAULT: return "address size fault";
	case TDP_TK_ACCESS_FLAG_FAULT: return "access flag fault";
	case TDP_TK_PERMISSION_FAULT: return "permission fault";
	case TDP_TK_EXTERNAL_ABORT: return "external abort";
	case TDP_TK_EPT_MISCONFIG: return "EPT misconfiguration";
	case TDP_TK_GUEST_PAGE_FAULT: return "guest-page fault";
	case TDP_TK_MALFORMED: return "malformed";
	}
	return "unknown result";
}

static int snap_one(const struct tdp_tk_xlate *x, uint64_t pos, void *arg)
{
	struct snapctx *c = arg;
	struct tk_snap *s = c->s;

	/* the tables the walk went through (index 0 is the root) */
	for (unsigned int i = 1; i < x->nr_tables; i++) {
		unsigned int nl = c->g.levels - 1 - i; /* neutral level of the table */
		uint64_t size = tk_level_size(&c->g, nl + 1);
		struct tk_table t = { x->tables[i], pos & ~(size - 1), size, nl };
		size_t idx = s->nr_tables;
		int added = pmap_get_add(&c->tables, t.pa, &idx);

		if (added < 0)
			abort();
		if (added) {
			push_table(c, &t);
			if (!tk_pool_live(c->env, t.pa, c->g.table_size))
				anomaly(s, "gpa 0x%llx: level-%u table 0x%llx is not a live pool block "
					   "of 0x%zx bytes",
					(unsigned long long)t.gpa, nl, (unsigned long long)t.pa,
					c->g.table_size);
		} else if ((s->tables[idx].gpa != t.gpa || s->tables[idx].level != nl) &&
			   !c->aliased[idx]) {
			c->aliased[idx] = true;
			anomaly(s, "table 0x%llx is linked at gpa 0x%llx level %u and at gpa 0x%llx "
				   "level %u",
				(unsigned long long)t.pa, (unsigned long long)s->tables[idx].gpa,
				s->tables[idx].level, (unsigned long long)t.gpa, nl);
		}
		/* a table that leads on, or whose entry is valid, is not empty */
		if (i + 1 < x->nr_tables || tk_pte_present(c->cfg, x->pte))
			c->valid[idx] = true;
	}

	if (x->result == TDP_TK_OK) {
		struct tk_leaf l = {
			.gpa = x->span_base, .size = x->span_size,
			.pa = x->hpa - (pos - x->span_base),
			.level = tk_neutral_level(c->cfg->format, x->level),
			.pte = x->pte, .attr = x->attr,
		};

		push_leaf(s, &l);
	} else if (x->result == TDP_TK_TRANSLATION_FAULT && x->nr_tables &&
		   !tk_pte_present(c->cfg, x->pte)) {
		/* a hole */
		if (x->pte != c->empty)
			anomaly(s, "gpa 0x%llx level %d: invalid entry 0x%llx is not the empty "
				   "value 0x%llx",
				(unsigned long long)x->span_base, x->level, (unsigned long long)x->pte,
				(unsigned long long)c->empty);
	} else {
		/* MALFORMED, an abort, or a valid descriptor the hardware does not accept */
		anomaly(s, "gpa 0x%llx: %s at level %d: %s", (unsigned long long)pos,
			tdp_tk_result_name(x->result), x->level, x->why);
	}
	return 0;
}

/* Report a non-present entry of table t (n entries) that is not the empty value. */
static void check_empty_entries(struct snapctx *c, const uint64_t *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!tk_pte_present(c->cfg, t[i]) && t[i] != c->empty) {
			anomaly(c->s, "table 0x%llx entry %zu: non-present 0x%llx is not the empty "
				      "value 0x%llx",
				(unsigned long long)tk_va_to_pa(c->env, t), i,
				(unsigned long long)t[i], (unsigned long long)c->empty);
			return;
		}
}

void tk_snap_take(const struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, struct tk_snap *s)
{
	struct snapctx c = { .s = s, .env = env, .cfg = &pgt->cfg,
			     .empty = tk_empty_pte(&pgt->cfg) };
	struct tdp_tk_ref ref, lib;
	const char *err;
	char buf[200];
	const uint64_t *root;
	size_t nent, slots;

	memset(s, 0, sizeof(*s));
	err = kit_ref(env, pgt, &ref, &c.g);
	if (err) {
		anomaly(s, "%s", err);
		return;
	}
	/* the library's registers must describe the same walk */
	if (pgt->fops) {
		struct tdp_tk_mem mem = ref.mem;

		if (tdp_tk_ref_for(&lib, pgt, &mem))
			anomaly(s, "tdp_tk_ref_for failed on the table");
		else if ((err = lib_regs_differ(&lib, &ref, buf, sizeof(buf))))
			anomaly(s, "%s", err);
	}
	if (!tk_pool_live(env, pgt->root_pa, c.g.root_size)) {
		anomaly(s, "root 0x%llx is not a live pool block of 0x%zx bytes",
			(unsigned long long)pgt->root_pa, c.g.root_size);
		return;
	}
	root = tk_pa_to_va(env, pgt->root_pa);
	if ((const void *)root != pgt->root)
		anomaly(s, "pgt->root %p does not match root_pa 0x%llx", pgt->root,
			(unsigned long long)pgt->root_pa);
	nent = (size_t)1 << c.g.root_bits;
	slots = c.g.root_size / 8;
	for (size_t i = nent; i < slots; i++)
		if (root[i])
			anomaly(s, "root slot %zu beyond the input range is 0x%llx", i,
				(unsigned long long)root[i]);

	if (ref_iter(&ref, 0, (1ull << pgt->cfg.ia_bits) - 1, snap_one, &c))
		anomaly(s, "kit: the reference walker refused the walk");
	/* every entry that maps nothing holds exactly the format's empty value */
	check_empty_entries(&c, root, nent);
	for (size_t i = 0; i < s->nr_tables; i++) {
		const uint64_t *t = tk_pa_to_va(env, s->tables[i].pa);

		if (t && tk_pool_live(env, s->tables[i].pa, c.g.table_size))
			check_empty_entries(&c, t, c.g.table_size / 8);
	}
	for (size_t i = 0; i < s->nr_tables; i++)
		if (!c.valid[i])
			s->empty_tables++;
	pmap_free(&c.tables);
	free(c.valid);
	free(c.aliased);
}

void tk_snap_free(struct tk_snap *s)
{
	free(s->leaves);
	free(s->tables);
	memset(s, 0, sizeof(*s));
}

bool tk_snap_same(const struct tk_snap *a, const struct tk_snap *b)
{
	if (a->nr != b->nr || a->nr_tables != b->nr_tables)
		return false;
	for (size_t i = 0; i < a->nr; i++)
		if (a->leaves[i].gpa != b->leaves[i].gpa || a->leaves[i].level != b->leaves[i].level ||
		    a->leaves[i].pte != b->leaves[i].pte)
			return false;
	for (size_t i = 0; i < a->nr_tables; i++)
		if (a->tables[i].pa != b->tables[i].pa || a->tables[i].gpa != b->tables[i].gpa ||
		    a->tables[i].level != b->tables[i].level)
			return false;
	return true;
}

int tk_ref_translate(const struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, uint64_t gpa,
		     struct tk_leaf *leaf)
{
	struct tdp_tk_ref ref;
	struct tdp_tk_xlate x;
	struct tk_geo g;

	if (kit_ref(env, pgt, &ref, &g))
		return -TDP_EINVAL;
	if (gpa >> pgt->cfg.ia_bits)
		return -TDP_ERANGE;
	if (tdp_tk_ref_translate(&ref, gpa, TDP_TK_PROBE, &x))
		return -TDP_EINVAL;
	if (x.result == TDP_TK_TRANSLATION_FAULT && x.nr_tables && !tk_pte_present(&pgt->cfg, x.pte))
		return -TDP_ENOENT;
	if (x.result != TDP_TK_OK)
		return -TDP_EINVAL;
	leaf->gpa = x.span_base;
	leaf->size = x.span_size;
	leaf->pa = x.hpa - (gpa - x.span_base);
	leaf->level = tk_neutral_level(pgt->cfg.format, x.level);
	leaf->pte = x.pte;
	leaf->attr = x.attr;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lookup snapshots                                                    */

void tk_lsnap_take(const struct tdp_pgtable *pgt, const uint64_t *gpas, size_t n, struct tk_lsnap *s)
{
	s->n = n;
	s->rc = calloc(n ? n : 1, sizeof(*s->rc));
	s->res = calloc(n ? n : 1, sizeof(*s->res));
	if (!s->rc || !s->res)
		abort();
	for (size_t i = 0; i < n; i++)
		s->rc[i] = tdp_lookup(pgt, gpas[i], &s->res[i]);
}

bool tk_lsnap_same(const struct tk_lsnap *a, const struct tk_lsnap *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (a->rc[i] != b->rc[i])
			return false;
		if (a->rc[i] == 0 &&
		    (a->res[i].hpa != b->res[i].hpa || a->res[i].size != b->res[i].size ||
		     a->res[i].level != b->res[i].level || a->res[i].attr != b->res[i].attr ||
		     a->res[i].pte != b->res[i].pte))
			return false;
	}
	return true;
}

void tk_lsnap_free(struct tk_lsnap *s)
{
	free(s->rc);
	free(s->res);
	memset(s, 0, sizeof(*s));
}

uint64_t *tk_addr_range(uint64_t start, uint64_t end, uint64_t step, size_t *n)
{
	size_t cnt = (size_t)((end - start + step - 1) / step) + 1;
	uint64_t *v = malloc(cnt * sizeof(*v));
	size_t i = 0;

	if (!v)
		abort();
	for (uint64_t a = start; a < end; a += step)
		v[i++] = a;
	v[i++] = end - 1;
	*n = i;
	return v;
}
