/* SPDX-License-Identifier: MIT */
/*
 * Reference arm64 stage-2 geometry and walker, written from arch-facts.md
 * section 2 (not from lib/): it reads the raw descriptors from the pool's
 * memory as the hardware would and flags everything libtdp must not write.
 */
#include "kit_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KiB(x) ((size_t)(x) << 10)
#define MiB(x) ((size_t)(x) << 20)

/* name, gshift, ia, oa, levels, root_tables, root_bits, root_size, leaf_mask, sl0, ps */
const struct tk_cfgdesc tk_cfgs_all[] = {
	{ "4K/32", 12, 32, 32, 2, 4, 11, KiB(16), 0x3, 0, 0 },
	{ "4K/36", 12, 36, 36, 3, 1, 6, KiB(4), 0x7, 1, 1 },
	{ "4K/40", 12, 40, 40, 3, 2, 10, KiB(8), 0x7, 1, 2 },
	{ "4K/42", 12, 42, 44, 3, 8, 12, KiB(32), 0x7, 1, 4 },
	{ "4K/44", 12, 44, 44, 4, 1, 5, KiB(4), 0x7, 2, 4 },
	{ "4K/48", 12, 48, 48, 4, 1, 9, KiB(4), 0x7, 2, 5 },
	{ "16K/32", 14, 32, 36, 2, 1, 7, KiB(16), 0x3, 1, 1 },
	{ "16K/36", 14, 36, 36, 2, 1, 11, KiB(16), 0x3, 1, 1 },
	{ "16K/40", 14, 40, 40, 2, 16, 15, KiB(256), 0x3, 1, 2 },
	{ "16K/47", 14, 47, 48, 3, 1, 11, KiB(16), 0x3, 2, 5 },
	{ "16K/48", 14, 48, 48, 3, 2, 12, KiB(32), 0x3, 2, 5 },
	{ "64K/32", 16, 32, 32, 2, 1, 3, KiB(64), 0x3, 1, 0 },
	{ "64K/42", 16, 42, 42, 2, 1, 13, KiB(64), 0x3, 1, 3 },
	{ "64K/46", 16, 46, 48, 2, 16, 17, MiB(1), 0x3, 1, 5 },
	{ "64K/48", 16, 48, 48, 3, 1, 6, KiB(64), 0x3, 2, 5 },
	{ "64K/52", 16, 52, 52, 3, 1, 10, KiB(64), 0x7, 2, 6 },
};
const size_t tk_nr_cfgs_all = sizeof(tk_cfgs_all) / sizeof(tk_cfgs_all[0]);

const struct tk_cfgdesc *const tk_cfgs_ops[] = {
	&tk_cfgs_all[0],  /* 4K/32: 2 levels, 4 concatenated level-2 tables */
	&tk_cfgs_all[2],  /* 4K/40: 3 levels, 2 concatenated level-1 tables */
	&tk_cfgs_all[5],  /* 4K/48: 4 levels */
	&tk_cfgs_all[7],  /* 16K/36 */
	&tk_cfgs_all[8],  /* 16K/40: 16 concatenated tables */
	&tk_cfgs_all[9],  /* 16K/47 */
	&tk_cfgs_all[10], /* 16K/48: 2 concatenated level-1 tables */
	&tk_cfgs_all[11], /* 64K/32 */
	&tk_cfgs_all[12], /* 64K/42 */
	&tk_cfgs_all[14], /* 64K/48 */
	&tk_cfgs_all[15], /* 64K/52 */
};
const size_t tk_nr_cfgs_ops = sizeof(tk_cfgs_ops) / sizeof(tk_cfgs_ops[0]);

static bool oa_is_parange(unsigned int oa)
{
	return oa == 32 || oa == 36 || oa == 40 || oa == 42 || oa == 44 || oa == 48 || oa == 52;
}

int tk_arm64_geo(unsigned int gshift, unsigned int ia, unsigned int oa, struct tk_geo *g)
{
	unsigned int s, levels;
	unsigned int max_ia = 48;

	if (gshift != 12 && gshift != 14 && gshift != 16)
		return -1;
	if (!oa_is_parange(oa))
		return -1;
	if (gshift == 16 && oa == 52)
		max_ia = 52;
	if (ia < 32 || ia > max_ia || ia > oa)
		return -1;
	s = gshift - 3;
	/* fewest levels whose start level resolves at most s + 4 bits (16 tables) */
	for (levels = 2; levels <= 5; levels++)
		if (ia <= gshift + (levels - 1) * s + s + 4)
			break;
	memset(g, 0, sizeof(*g));
	g->levels = levels;
	g->page_shift = gshift;
	g->bits = s;
	g->root_bits = ia - (gshift + (levels - 1) * s);
	g->root_tables = g->root_bits > s ? 1u << (g->root_bits - s) : 1u;
	g->table_size = (size_t)1 << gshift;
	g->root_size = g->table_size * g->root_tables;
	g->leaf_mask = 0x1;
	if (levels >= 2)
		g->leaf_mask |= 0x2; /* 2M / 32M / 512M blocks at arch level 2 */
	if (gshift == 12 && levels >= 3)
		g->leaf_mask |= 0x4; /* 1G blocks at arch level 1 */
	if (gshift == 16 && levels >= 3 && oa == 52)
		g->leaf_mask |= 0x4; /* 4T blocks at arch level 1 with FEAT_LPA */
	return 0;
}

uint64_t tk_level_size(const struct tk_geo *g, unsigned int level)
{
	return 1ull << (g->page_shift + level * g->bits);
}

/* ------------------------------------------------------------------ */
/* Descriptors                                                         */

#define B(n)          (1ull << (n))
#define GENMASK(h, l) ((~0ull >> (63 - (h))) & ~((1ull << (l)) - 1))

tdp_attr_t tk_arm64_decode_attr(uint64_t pte, bool xnx)
{
	tdp_attr_t a = 0;
	unsigned int xn = (unsigned int)((pte >> 53) & 3);

	if (pte & B(6))
		a |= TDP_PROT_R;
	if (pte & B(7))
		a |= TDP_PROT_W;
	if (xnx) {
		switch (xn) {
		case 0: a |= TDP_PROT_XP | TDP_PROT_XU; break;
		case 1: a |= TDP_PROT_XU; break; /* EL1 may not execute */
		case 2: break;
		case 3: a |= TDP_PROT_XP; break; /* EL0 may not execute */
		}
	} else if (!(xn & 2)) {
		a |= TDP_PROT_XP | TDP_PROT_XU;
	}
	switch ((pte >> 2) & 0xf) {
	case 0xf: a |= TDP_MT_NORMAL_WB; break;
	case 0x5: a |= TDP_MT_NORMAL_NC; break;
	case 0x1: a |= TDP_MT_DEVICE; break;
	case 0x0: a |= TDP_MT_DEVICE_STRICT; break;
	default: a |= TDP_MT_MASK; break; /* not a type libtdp writes */
	}
	a |= TDP_SW((pte >> 55) & 0xf);
	return a;
}

struct walker {
	const struct tdp_tk_pool *env;
	const struct tdp_pgtable *pgt;
	struct tk_geo g;
	bool xnx;
	bool lpa64; /* 64K granule with 52-bit output: OA[51:48] in b[15:12] */
	struct tk_snap *s;
	char *why;
	size_t whylen;
	bool bad;
};

static void anomaly(struct walker *w, const char *fmt, ...)
{
	va_list ap;

	w->bad = true;
	if (w->s) {
		if (w->s->anomalies++ == 0) {
			va_start(ap, fmt);
			vsnprintf(w->s->first_anomaly, sizeof(w->s->first_anomaly), fmt, ap);
			va_end(ap);
		}
	} else if (w->why && !w->why[0]) {
		va_start(ap, fmt);
		vsnprintf(w->why, w->whylen, fmt, ap);
		va_end(ap);
	}
}

static uint64_t desc_addr(const struct walker *w, uint64_t pte)
{
	uint64_t a = pte & GENMASK(47, w->g.page_shift);

	if (w->lpa64)
		a |= ((pte >> 12) & 0xf) << 48;
	return a;
}

static uint64_t addr_bits(const struct walker *w)
{
	uint64_t m = GENMASK(47, w->g.page_shift);

	if (w->lpa64)
		m |= GENMASK(15, 12);
	return m;
}

static bool init_walker(struct walker *w, const struct tdp_tk_pool *env, const struct tdp_pgtable *pgt)
{
	memset(w, 0, sizeof(*w));
	w->env = env;
	w->pgt = pgt;
	if (tk_arm64_geo(pgt->cfg.granule_shift ? pgt->cfg.granule_shift : 12, pgt->cfg.ia_bits,
			 pgt->cfg.oa_bits, &w->g))
		return false;
	w->xnx = pgt->cfg.flags & TDP_CFG_ARM64_XNX;
	w->lpa64 = w->g.page_shift == 16 && pgt->cfg.oa_bits == 52;
	return true;
}

/* Check a leaf; fill `leaf`. */
static void decode_leaf(struct walker *w, uint64_t pte, unsigned int level, uint64_t gpa,
			struct tk_leaf *leaf)
{
	uint64_t size = tk_level_size(&w->g, level);
	uint64_t allowed = B(0) | B(1) | GENMASK(10, 2) | addr_bits(w) | B(54) | GENMASK(58, 55);
	uint64_t pa = desc_addr(w, pte);
	unsigned int mt = (unsigned int)((pte >> 2) & 0xf);

	if (w->xnx)
		allowed |= B(53);
	if (level == 0 && !(pte & B(1)))
		anomaly(w, "gpa 0x%llx: level-0 descriptor with type 01 (reserved)",
			(unsigned long long)gpa);
	if (level > 0 && !(w->g.leaf_mask & (1u << level)))
		anomaly(w, "gpa 0x%llx: block at level %u, not allowed for this granule",
			(unsigned long long)gpa, level);
	if (pte & ~allowed)
		anomaly(w, "gpa 0x%llx: leaf 0x%llx sets reserved bits 0x%llx", (unsigned long long)gpa,
			(unsigned long long)pte, (unsigned long long)(pte & ~allowed));
	if (pa & (size - 1))
		anomaly(w, "gpa 0x%llx: block output 0x%llx not aligned to 0x%llx",
			(unsigned long long)gpa, (unsigned long long)pa, (unsigned long long)size);
	if (pa >> w->pgt->cfg.oa_bits)
		anomaly(w, "gpa 0x%llx: output 0x%llx beyond oa_bits", (unsigned long long)gpa,
			(unsigned long long)pa);
	if (!(pte & B(10)))
		anomaly(w, "gpa 0x%llx: leaf without AF", (unsigned long long)gpa);
	if (((pte >> 8) & 3) != 3)
		anomaly(w, "gpa 0x%llx: leaf SH 0x%llx, not inner shareable", (unsigned long long)gpa,
			(unsigned long long)((pte >> 8) & 3));
	if (mt != 0xf && mt != 0x5 && mt != 0x1 && mt != 0x0)
		anomaly(w, "gpa 0x%llx: MemAttr 0x%x is not one libtdp writes", (unsigned long long)gpa,
			mt);
	leaf->gpa = gpa;
	leaf->size = size;
	leaf->pa = pa;
	leaf->level = level;
	leaf->pte = pte;
	leaf->attr = tk_arm64_decode_attr(pte, w->xnx);
}

/* Check a table descriptor; return the next table's memory or NULL. */
static const uint64_t *decode_table(struct walker *w, uint64_t pte, unsigned int level, uint64_t gpa)
{
	uint64_t pa = desc_addr(w, pte);

	if (pte & ~(addr_bits(w) | 3ull))
		anomaly(w, "gpa 0x%llx level %u: table descriptor 0x%llx has attribute bits",
			(unsigned long long)gpa, level, (unsigned long long)pte);
	if (!tk_pool_live(w->env, pa, w->g.table_size)) {
		anomaly(w, "gpa 0x%llx level %u: table descriptor points to 0x%llx, not a live table",
			(unsigned long long)gpa, level, (unsigned long long)pa);
		return NULL;
	}
	return tk_pa_to_va(w->env, pa);
}

static void snap_push_leaf(struct tk_snap *s, const struct tk_leaf *l)
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

static void snap_push_table(struct tk_snap *s, const struct tk_table *t)
{
	if (s->nr_tables == s->cap_tables) {
		size_t cap = s->cap_tables ? s->cap_tables * 2 : 64;
		struct tk_table *n = realloc(s->tables, cap * sizeof(*n));

		if (!n)
			abort();
		s->tables = n;
		s->cap_tables = cap;
	}
	s->tables[s->nr_tables++] = *t;
}

/* Walk `nent` entries of a table at `level` covering from `base`; returns valid entries. */
static size_t walk_table(struct walker *w, const uint64_t *tbl, unsigned int level, uint64_t base,
			 size_t nent)
{
	uint64_t lsize = tk_level_size(&w->g, level);
	size_t valid = 0;

	for (size_t i = 0; i < nent; i++) {
		uint64_t pte = tbl[i];
		uint64_t gpa = base + i * lsize;

		if (!(pte & 1)) {
			if (pte)
				anomaly(w, "gpa 0x%llx level %u: invalid entry 0x%llx is not zero",
					(unsigned long long)gpa, level, (unsigned long long)pte);
			continue;
		}
		valid++;
		if (level > 0 && (pte & 2)) {
			const uint64_t *next = decode_table(w, pte, level, gpa);
			struct tk_table t = {
				.pa = desc_addr(w, pte), .gpa = gpa, .size = lsize, .level = level - 1,
			};

			if (!next)
				continue;
			snap_push_table(w->s, &t);
			if (walk_table(w, next, level - 1, gpa, w->g.table_size / 8) == 0)
				w->s->empty_tables++;
		} else {
			struct tk_leaf leaf;

			decode_leaf(w, pte, level, gpa, &leaf);
			snap_push_leaf(w->s, &leaf);
		}
	}
	return valid;
}

void tk_snap_take(const struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, struct tk_snap *s)
{
	struct walker w;
	const uint64_t *root;
	size_t nent, slots;

	memset(s, 0, sizeof(*s));
	if (!init_walker(&w, env, pgt)) {
		s->anomalies = 1;
		snprintf(s->first_anomaly, sizeof(s->first_anomaly), "kit: invalid configuration");
		return;
	}
	w.s = s;
	if (!tk_pool_live(env, pgt->root_pa, w.g.root_size)) {
		anomaly(&w, "root 0x%llx is not a live pool block of 0x%zx bytes",
			(unsigned long long)pgt->root_pa, w.g.root_size);
		return;
	}
	root = tk_pa_to_va(env, pgt->root_pa);
	if ((const void *)root != pgt->root)
		anomaly(&w, "pgt->root %p does not match root_pa 0x%llx", pgt->root,
			(unsigned long long)pgt->root_pa);
	nent = (size_t)1 << w.g.root_bits;
	slots = w.g.root_size / 8;
	walk_table(&w, root, w.g.levels - 1, 0, nent);
	for (size_t i = nent; i < slots; i++)
		if (root[i])
			anomaly(&w, "root slot %zu beyond the input range is 0x%llx", i,
				(unsigned long long)root[i]);
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
	struct walker w;
	const uint64_t *tbl;
	unsigned int level;
	char why[200] = "";

	if (!init_walker(&w, env, pgt))
		return -TDP_EINVAL;
	w.why = why;
	w.whylen = sizeof(why);
	if (gpa >> pgt->cfg.ia_bits)
		return -TDP_ERANGE;
	if (!tk_pool_live(env, pgt->root_pa, w.g.root_size))
		return -TDP_EINVAL;
	tbl = tk_pa_to_va(env, pgt->root_pa);
	level = w.g.levels - 1;
	for (;;) {
		uint64_t lsize = tk_level_size(&w.g, level);
		size_t idx = (size_t)(gpa / lsize);
		uint64_t pte;

		if (level != w.g.levels - 1)
			idx &= ((size_t)1 << w.g.bits) - 1;
		pte = tbl[idx];
		if (!(pte & 1))
			return -TDP_ENOENT;
		if (level > 0 && (pte & 2)) {
			tbl = decode_table(&w, pte, level, gpa & ~(lsize - 1));
			if (!tbl)
				return -TDP_EINVAL;
			level--;
			continue;
		}
		decode_leaf(&w, pte, level, gpa & ~(lsize - 1), leaf);
		return w.bad ? -TDP_EINVAL : 0;
	}
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
