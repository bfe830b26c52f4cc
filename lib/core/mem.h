/* SPDX-License-Identifier: MIT */
/*
 * Table memory: entry loads and stores, address translation, memory cache.
 * Shared by every compiled format; everything is static inline.
 */
#ifndef TDP_CORE_MEM_H
#define TDP_CORE_MEM_H

/*
 * The freestanding build names libatomic_ops' header by its full path, so
 * that the host's include directory (and its libc headers) is never on the
 * search path; its own includes are relative to it.
 */
#ifdef TDP_ATOMIC_OPS_H
#include TDP_ATOMIC_OPS_H
#else
#include <atomic_ops.h>
#endif
#include <tdp/tdp.h>

_Static_assert(sizeof(AO_t) == sizeof(uint64_t), "libtdp needs 64-bit AO_t");

/*
 * Entries are written with single 64-bit stores because the hardware walks
 * the tables concurrently; a store that links a new table is a release so
 * the walker never sees the link before the table's contents.
 */
/*
 * An acquire: in shared mode a table another thread just linked (with a
 * release) is read through the entry loaded here. Free on x86, LDAR on arm64.
 */
static inline uint64_t pte_load(const uint64_t *ptep)
{
	return (uint64_t)AO_load_acquire((const volatile AO_t *)ptep);
}

static inline void pte_store(uint64_t *ptep, uint64_t v)
{
	AO_store((volatile AO_t *)ptep, (AO_t)v);
}

static inline void pte_store_release(uint64_t *ptep, uint64_t v)
{
	AO_store_release((volatile AO_t *)ptep, (AO_t)v);
}

/*
 * Replace *ptep by v if it still holds old (shared mode, and entries the
 * hardware may update: A/D flags). Full ordering, so it also publishes a
 * table filled before it.
 */
static inline bool pte_cas(uint64_t *ptep, uint64_t old, uint64_t v)
{
	return AO_compare_and_swap_full((volatile AO_t *)ptep, (AO_t)old, (AO_t)v);
}

static inline void *tdp_pa_to_va(const struct tdp_pgtable *p, uint64_t pa)
{
	if (p->cfg.mm->phys_to_virt)
		return p->cfg.mm->phys_to_virt(p->cfg.mm_ctx, pa);
	return (void *)(uintptr_t)(pa + p->cfg.linear_offset);
}

static inline uint64_t tdp_va_to_pa(const struct tdp_pgtable *p, void *va)
{
	if (p->cfg.mm->virt_to_phys)
		return p->cfg.mm->virt_to_phys(p->cfg.mm_ctx, va);
	return (uint64_t)((uintptr_t)va - p->cfg.linear_offset);
}

/*
 * Take a page from the cache. Callers have checked beforehand that the cache
 * holds the worst case of their operation, so this cannot run dry.
 */
static inline void *mc_pop(struct tdp_memcache *mc)
{
	void **page = mc->head;

	mc->head = *page;
	*page = NULL;
	mc->nr--;
	return page;
}

/*
 * Give back a page taken by mc_pop that was never linked. Its contents are
 * zeroed again (the cache holds zeroed pages); entries are stored one by one
 * so that no memset call appears in a freestanding build.
 */
static inline void mc_push(struct tdp_memcache *mc, void *page, size_t size)
{
	uint64_t *w = page;

	for (size_t i = 0; i < size / sizeof(uint64_t); i++)
		w[i] = 0;
	*(void **)page = mc->head;
	mc->head = page;
	mc->nr++;
}

/* The caller's cache can give `need` pages of this table's size (no error reported). */
static inline bool mc_holds(const struct tdp_pgtable *pgt, const struct tdp_memcache *mc,
			    size_t need)
{
	return need == 0 || (mc->page_size == pgt->geo.table_size && mc->nr >= need);
}

/*
 * Make `*use` a cache holding at least `need` pages: the caller's (checked)
 * or, when mc is NULL, `local` filled from the allocator. Returns 0,
 * -TDP_EINVAL or -TDP_ENOMEM; on error nothing is held.
 */
int tdp__mc_prepare(const struct tdp_pgtable *pgt, struct tdp_memcache *mc, size_t need,
		    struct tdp_memcache *local, struct tdp_memcache **use);
/* Give back what is left of `local` (a no-op when the caller's cache was used). */
void tdp__mc_finish(const struct tdp_pgtable *pgt, struct tdp_memcache *mc,
		    struct tdp_memcache *local);

#endif
