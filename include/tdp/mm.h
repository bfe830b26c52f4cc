/* SPDX-License-Identifier: MIT */
/** @file
 * Memory: the caller's operations and the memory cache.
 *
 * libtdp never allocates on its own. A table asks its tdp_mm_ops for zeroed,
 * naturally aligned blocks (one table, or a concatenated root), or takes
 * pages from a tdp_memcache that the caller filled before taking its lock.
 */
#ifndef TDP_MM_H
#define TDP_MM_H

#include <tdp/export.h>
#include <tdp/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tdp_pgtable;

/** Where a table's memory comes from (tdp_config.mm). */
struct tdp_mm_ops {
	/**
	 * Return `size` bytes of zeroed memory aligned to `size` (a power of
	 * two: one table, or a root of up to 16 concatenated tables), or NULL.
	 * Required.
	 */
	void *(*zalloc_table)(void *ctx, size_t size);
	/** Give back a block from zalloc_table with its size. Required. */
	void (*free_table)(void *ctx, void *va, size_t size);
	/**
	 * Address translation of table memory. Either both are set, or both
	 * are NULL and the table uses tdp_config.linear_offset
	 * (va = pa + linear_offset), which saves an indirect call per level.
	 */
	uint64_t (*virt_to_phys)(void *ctx, void *va);
	void *(*phys_to_virt)(void *ctx, uint64_t pa); /**< the inverse of virt_to_phys */
	/**
	 * Shared mode (TDP_CFG_SHARED) only, and required there: `table`, whose
	 * entries sit at neutral `level`, was unlinked and flushed, but other
	 * threads may still be walking it. Keep it until every thread that may
	 * have been inside a libtdp call on the table at this point has left
	 * (an RCU or epoch grace period), then call tdp_free_unlinked() on it.
	 * Called from any thread that runs a shared call; the test kit has an
	 * epoch-based implementation (tdp_tk_epoch_*).
	 */
	void (*defer_free_table)(void *ctx, void *table, unsigned int level);
};

/**
 * A stack of pre-allocated zeroed table pages, linked through their first
 * word (which is cleared when a page is taken). Top it up before taking the
 * lock; operations given a memory cache take pages only from it and fail with
 * -TDP_ENOMEM before changing anything if it holds too few.
 * Zero-initialise it (or call tdp_memcache_init) before first use.
 */
struct tdp_memcache {
	void *head;       /**< internal: the first page held */
	size_t nr;        /**< pages held */
	size_t page_size; /**< table size these pages have; 0 until the first top-up */
};

/** Make an empty memory cache. */
TDP_API void tdp_memcache_init(struct tdp_memcache *mc);

/**
 * Fill `mc` with table pages for `pgt` until it holds at least `min`.
 * @return 0; -TDP_EINVAL on NULL arguments or a cache that holds pages of
 * another size; -TDP_ENOMEM if the allocator failed (pages already added
 * stay in the cache).
 */
TDP_API int tdp_memcache_topup(const struct tdp_pgtable *pgt, struct tdp_memcache *mc, size_t min);

/** Give every page of `mc` back through pgt's free operation. */
TDP_API void tdp_memcache_drain(const struct tdp_pgtable *pgt, struct tdp_memcache *mc);

#ifdef __cplusplus
}
#endif

#endif
