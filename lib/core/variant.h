/* SPDX-License-Identifier: MIT */
/*
 * What every part of the core template sees: the variant's entry-point
 * names, level arithmetic, contiguous groups, the empty and busy values,
 * and the two table modes (exclusive, shared). Included first by
 * variant.c.
 */

/*
 * The entry points carry the variant's name (FMT_NAME, chosen in variant.c)
 * and hidden linkage, so that api.c can call them directly as well
 * as through FMT_OPS.
 */
#define fmt_map FMT_NAME(map)
#define fmt_fault FMT_NAME(fault)
#define fmt_unmap FMT_NAME(unmap)
#define fmt_zap FMT_NAME(zap)
#define fmt_split FMT_NAME(split)
#define fmt_protect FMT_NAME(protect)
#define fmt_young FMT_NAME(young)
#define fmt_dirty FMT_NAME(dirty)
#define fmt_prepare FMT_NAME(prepare)
#define fmt_lookup FMT_NAME(lookup)
#define fmt_walk FMT_NAME(walk)
#define fmt_destroy FMT_NAME(destroy)
#define fmt_free_unlinked FMT_NAME(free_unlinked)
#define fmt_iter_start FMT_NAME(iter_start)
#define fmt_iter_next FMT_NAME(iter_next)
#define fmt_iter_restart FMT_NAME(iter_restart)
#define fmt_iter_entry FMT_NAME(iter_entry)
TDP_VARIANT_PROTOS(FMT_NAME);

#define FMT_ENTRIES ((uint64_t)1 << FMT_BITS)
#define NO_ADDR     UINT64_MAX

static inline unsigned int lvl_shift(unsigned int l)
{
	return FMT_PAGE_SHIFT + l * FMT_BITS;
}

static inline uint64_t lvl_size(unsigned int l)
{
	return (uint64_t)1 << lvl_shift(l);
}

static inline unsigned int top_level(const struct tdp_pgtable *p)
{
	return p->geo.levels - 1;
}

static inline uint64_t *entry_ptr(const struct tdp_pgtable *p, void *table, uint64_t addr,
				  unsigned int l)
{
	uint64_t idx = addr >> lvl_shift(l);

	/* The root may be wider than a table; addr < 2^ia bounds its index. */
	if (l != top_level(p))
		idx &= FMT_ENTRIES - 1;
	return (uint64_t *)table + idx;
}

#if FMT_CONT_BITS
#define CONT_ENTRIES ((uint64_t)1 << FMT_CONT_BITS)

static inline bool cont_on(const struct tdp_pgtable *p)
{
	return fmt_cont_enabled(p);
}
#else
#define CONT_ENTRIES ((uint64_t)1)

static inline bool cont_on(const struct tdp_pgtable *p)
{
	(void)p;
	return false;
}

static inline bool pte_is_cont(uint64_t pte, unsigned int l)
{
	(void)pte, (void)l;
	return false;
}

static inline uint64_t pte_mk_cont_leaf(uint64_t tmpl, uint64_t pa, unsigned int l)
{
	return pte_mk_leaf(tmpl, pa, l);
}
#endif
#define CONT_SIZE (CONT_ENTRIES << FMT_PAGE_SHIFT)

/* Output address of the page or block at addr that the leaf pte (level l) maps. */
static inline uint64_t leaf_pa_at(uint64_t pte, unsigned int l, uint64_t addr)
{
	uint64_t pa = pte_leaf_pa(pte, l);

	if (pte_is_cont(pte, l))
		pa += addr & (CONT_SIZE - 1) & ~(lvl_size(0) - 1);
	return pa;
}

/* The first entry of the level-0 group that holds the entry at ptep (for addr). */
static inline uint64_t *cont_first(uint64_t *ptep, uint64_t addr)
{
	return ptep - ((addr >> FMT_PAGE_SHIFT) & (CONT_ENTRIES - 1));
}

/* Tables come zeroed; a format whose empty entry is not 0 fills them. */
static void fill_invalid(const struct tdp_pgtable *p, void *table, uint64_t n)
{
	uint64_t v = fmt_invalid(p), *t = table;

	if (v)
		for (uint64_t i = 0; i < n; i++)
			t[i] = v;
}

/* The hardware sets accessed/dirty flags in this table's leaves. */
static inline bool ad_live(const struct tdp_pgtable *p)
{
#if FMT_HAS_AD
	return fmt_ad_enabled(p);
#else
	(void)p;
	return false;
#endif
}
#if !FMT_HAS_AD
#define FMT_AD_MASK 0ull
#endif

/* Shared mode (TDP_CFG_SHARED; shared.h and the shared twins): other threads change entries too. */
static inline bool sh_on(const struct tdp_pgtable *p)
{
	return (p->cfg.flags & TDP_CFG_SHARED) != 0;
}

static inline uint64_t busy_val(const struct tdp_pgtable *p)
{
	return fmt_invalid(p) | FMT_BUSY_BIT;
}

static inline bool pte_busy(uint64_t pte)
{
	return (pte & (FMT_VALID_MASK | FMT_BUSY_BIT)) == FMT_BUSY_BIT;
}

/*
 * Shared mode with change reports: the value every entry of an unlinked
 * table is swapped to (write.h, report_subtree), so no other thread links
 * anything into it. Busy to everyone; an entry another thread held busy
 * gets the mark too, and that thread, finding it there instead of its busy
 * value, knows its change went with the table (shared.h, sh_swap).
 */
static inline uint64_t frozen_val(const struct tdp_pgtable *p)
{
	return busy_val(p) | FMT_FROZEN_BIT;
}

static inline bool pte_frozen(uint64_t pte)
{
	return pte_busy(pte) && (pte & FMT_FROZEN_BIT);
}

/*
 * A table entry of an unlinked table, claimed by the freeze before it goes
 * into the table below (so no other thread can replace it meanwhile): frozen
 * to every call, with the table's address kept and FMT_FROZEN_TABLE_BIT set,
 * so that free_subtree still finds the table below.
 */
static inline uint64_t frozen_table(const struct tdp_pgtable *p, uint64_t pte)
{
	return (pte & ~FMT_VALID_MASK) | frozen_val(p) | FMT_FROZEN_TABLE_BIT;
}

static inline bool pte_frozen_table(uint64_t pte)
{
	return pte_frozen(pte) && (pte & FMT_FROZEN_TABLE_BIT);
}
