/* SPDX-License-Identifier: MIT */
/** @file
 * The page table and its operations.
 *
 * Common rules for every function here:
 * - gpa/hpa/size are byte addresses and sizes; they must be multiples of the
 *   table's page size (tdp_page_size()), size must be non-zero, and
 *   [gpa, gpa + size) must lie inside the input range (2^ia_bits) and
 *   [hpa, hpa + size) inside the output range (2^oa_bits).
 *   Misalignment, size 0, NULL and unknown flags give -TDP_EINVAL; an
 *   address outside the range or an overflowing gpa + size gives -TDP_ERANGE.
 * - A call that fails leaves the table translating exactly as before and
 *   holds on to no page.
 * - Calls on one table are serialised by the caller (exclusive mode), unless
 *   the table was created with TDP_CFG_SHARED (shared mode, below).
 * - `mc` may be NULL: the call then allocates through tdp_mm_ops, taking
 *   every page it may need before it changes anything.
 * - Pages: map needs tdp_map_pages_needed() pages in `mc` (a bound computed
 *   from the range alone, O(levels)). unmap, split and protect first count,
 *   read-only, exactly what the blocks now in the range need (0 when nothing
 *   is split) and take only that; tdp_{unmap,split,protect}_pages_needed()
 *   bound that count. A cache holding fewer pages than the call needs gives
 *   -TDP_ENOMEM with nothing changed.
 */
#ifndef TDP_PGTABLE_H
#define TDP_PGTABLE_H

#include <tdp/error.h>
#include <tdp/export.h>
#include <tdp/mm.h>
#include <tdp/tlb.h>
#include <tdp/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tdp_fmt_ops;
struct tdp_change_ops; /* tdp/changes.h */

/* Configuration flags (tdp_config.flags). Format-specific ones live in `tdp/<arch>.h`. */
#define TDP_CFG_FORMAT_MASK 0xffffu /**< bits 0..15 are per-format */

/**
 * Shared mode. tdp_map, tdp_map_fault, tdp_protect, tdp_split,
 * tdp_test_clear_young and tdp_collect_dirty may run at the same time on the
 * table from many threads (the hypervisor's read lock), and so may tdp_lookup,
 * tdp_walk and the iterator. Every entry is changed by a compare-and-swap
 * against the value read; a change that takes several steps (break-before-make,
 * a block replaced by a table on arm64) first swaps in a reserved "busy"
 * value that the hardware takes as invalid and other calls never mistake for
 * a mapping. Rules that differ from exclusive mode:
 * - A call that meets a busy entry returns -TDP_EAGAIN without waiting. What
 *   it did before stays: each of these calls can simply be repeated.
 *   -TDP_ENOMEM can likewise come after part of the work, when other threads
 *   made blocks that need more pages than were counted.
 * - Racing maps of one page: the last to swap its entry wins; each page ends
 *   translated by one of the calls, with that call's whole leaf.
 * - Tables a shared call unlinks (a map replacing a table by a block) go to
 *   tdp_mm_ops.defer_free_table, which is required; tables a call built but
 *   lost the race to link go back to its memory cache.
 * - tdp_map does not write RISC-V Svnapot groups.
 * - tdp_unmap, tdp_zap and tdp_pgtable_destroy stay exclusive: the caller
 *   keeps every other call off the table while they run (write lock); they
 *   free tables at once.
 * - The callbacks (tdp_mm_ops, tdp_tlb_ops) are called from all those threads.
 */
#define TDP_CFG_SHARED (1u << 16)

/** What tdp_pgtable_init() builds a table for; copied into the table. */
struct tdp_config {
	enum tdp_format format;     /**< the hardware format */
	unsigned int ia_bits;       /**< guest-physical (input) address size in bits */
	unsigned int oa_bits;       /**< host-physical (output) address size in bits */
	unsigned int granule_shift; /**< arm64: 12, 14 or 16; 0 means 12 */
	/**
	 * How many leaf levels, counted from level 0, map may use: 1 means
	 * smallest pages only, 2 adds the first block size, ... 0 (or any value
	 * at or above the number of levels) means every level the format allows.
	 */
	unsigned int leaf_levels;
	uint32_t flags; /**< TDP_CFG_* */
	const struct tdp_mm_ops *mm; /**< table memory (tdp/mm.h); required */
	void *mm_ctx;                /**< passed to every mm callback */
	uintptr_t linear_offset; /**< va = pa + linear_offset when mm has no translation ops */
	const struct tdp_tlb_ops *tlb; /**< TLB invalidation (tdp/tlb.h); required */
	void *tlb_ctx;                 /**< passed to every tlb callback */
	/** Optional: every leaf that appears, changes or goes away (tdp/changes.h). */
	const struct tdp_change_ops *changes;
	void *changes_ctx; /**< passed to every changes callback */
	/**
	 * Optional: why a call refused. Called once, just before a call on this
	 * table (or tdp_pgtable_init with this configuration) returns
	 * -TDP_EINVAL, -TDP_ERANGE, -TDP_ENOMEM or -TDP_EOPNOTSUPP, with that
	 * (negative) code and the check that gave it. Not called for outcomes a
	 * caller expects (-TDP_ENOENT, -TDP_EEXIST, -TDP_EAGAIN), nor for a table
	 * pointer that is NULL or not initialised, whose configuration is not
	 * known. It runs under the caller's lock, in shared mode on any thread;
	 * a debug build may log from it, release builds usually leave it NULL.
	 */
	void (*refused)(void *ctx, int err, enum tdp_reason reason);
	void *refused_ctx; /**< passed to refused */
};

/** A table's shape, derived once at init; read-only afterwards. */
struct tdp_geometry {
	unsigned int levels;         /**< number of levels; the root is levels - 1 */
	unsigned int page_shift;     /**< log2 of the level-0 page size */
	unsigned int bits_per_level; /**< index bits of a non-root table */
	unsigned int root_bits;      /**< index bits of the root (more if concatenated) */
	unsigned int root_tables;    /**< tables concatenated at the root */
	size_t table_size;           /**< bytes of a non-root table */
	size_t root_size;            /**< bytes of the root, also its alignment */
	uint32_t leaf_levels_mask;   /**< bit l: a leaf may sit at level l (after the cap) */
};

/**
 * A page-table instance. Callers allocate it (embedded or on their heap);
 * its fields are read-only for them.
 */
struct tdp_pgtable {
	const struct tdp_fmt_ops *fops; /**< internal: the format variant's operations */
	struct tdp_config cfg;          /**< the configuration given to init */
	struct tdp_geometry geo;        /**< derived from it */
	void *root;                     /**< the root table (virtual address) */
	uint64_t root_pa;               /**< its physical address */
	/**
	 * Internal, set at init: the leaf template of each protection-only
	 * attribute word (TDP_PROT_* bits, normal write-back memory, no
	 * software bits) and, in bit i of prot_ok, whether word i is valid
	 * here, so that a fault's map does not decode its attributes.
	 */
	uint64_t prot_tmpl[TDP_PROT_MASK + 1];
	uint32_t prot_ok; /**< internal: bit i, prot_tmpl[i] is valid (see above) */
};

/**
 * Create an empty table for cfg->format: validates the configuration,
 * computes the geometry and allocates the root through cfg->mm.
 * @return 0; -TDP_EINVAL for NULL arguments, missing required callbacks
 * (defer_free_table with TDP_CFG_SHARED; leaf_changed when changes is
 * set), an unknown or unbuilt format, or sizes the format cannot use (for arm64:
 * granule not 4K/16K/64K, ia_bits outside 32..48 (up to 52 with 64K and
 * oa_bits 52), oa_bits not a PARange value (32, 36, 40, 42, 44, 48, or 52
 * with 64K only: FEAT_LPA2 is not supported), ia_bits > oa_bits, unknown
 * flags); -TDP_ENOMEM if the root could not be allocated; -TDP_ERANGE if the
 * allocator returned a root that is misaligned or above 2^oa_bits.
 */
TDP_API int tdp_pgtable_init(struct tdp_pgtable *pgt, const struct tdp_config *cfg);

/**
 * Free every table, after one flush_all. Exclusive in shared mode. The
 * table must not be used again
 * (until a new tdp_pgtable_init). @return 0, or -TDP_EINVAL if pgt is NULL or
 * not initialised.
 */
TDP_API int tdp_pgtable_destroy(struct tdp_pgtable *pgt);

/** Bytes mapped by one entry at `level` (0 if level is out of range). */
TDP_API uint64_t tdp_level_size(const struct tdp_pgtable *pgt, unsigned int level);
/** Smallest page size of the table (0 if pgt is not initialised). */
TDP_API uint64_t tdp_page_size(const struct tdp_pgtable *pgt);

/* tdp_map flags */
#define TDP_MAP_NOREPLACE      (1u << 0) /**< fail with -TDP_EEXIST if anything in the range is mapped */
/** No leaf above level l, for l in 0..14 (the field is 4 bits; 15 is refused as unknown flags). */
#define TDP_MAP_MAX_LEVEL(l)   ((((uint32_t)(l)) + 1u) << 8)
#define TDP_MAP_MAX_LEVEL_MASK (0xfu << 8) /**< the TDP_MAP_MAX_LEVEL field */

/**
 * Map [gpa, gpa + size) to [hpa, hpa + size) with `attr`, using the largest
 * leaf that the format, the table's cap, the flag cap and the equal
 * alignment of gpa and hpa allow, never covering memory outside the range.
 * Existing mappings in the range are replaced (break-before-make where the
 * format requires it) and tables left unused are freed; a block straddling
 * an edge of the range is split so the part outside keeps its translation.
 * Hardware accessed/dirty flags (EPT with TDP_CFG_X86_AD, RISC-V with
 * Svadu) are the page's state, not its attributes': a leaf the map rewrites
 * in place with the same output address and size keeps its A and D,
 * whatever else changes (permissions, memory type, software bits), as
 * tdp_protect does. A leaf with another output address or size is a new
 * leaf, with A = D = 0: the flags of the one it replaced are reported to
 * the change callbacks (tdp/changes.h) and otherwise lost, so harvest them
 * (tdp_collect_dirty) first if they matter.
 * @return 0; -TDP_EINVAL (alignment, size 0, NULL pgt, unknown flags, an
 * attribute the format cannot express); -TDP_ERANGE; -TDP_EEXIST with
 * TDP_MAP_NOREPLACE when any page of the range is mapped; -TDP_ENOMEM if the
 * cache or allocator cannot supply tdp_map_pages_needed() pages. In shared
 * mode (see TDP_CFG_SHARED) also -TDP_EAGAIN; with TDP_MAP_NOREPLACE, leaves
 * that appear during the call are kept and reported with -TDP_EEXIST.
 */
TDP_API int tdp_map(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t hpa, uint64_t size,
		    tdp_attr_t attr, uint32_t flags, struct tdp_memcache *mc);

/**
 * Make exactly the pages of [gpa, gpa + size) stop translating. Blocks that
 * straddle the edges are split first (this is the only use of pages);
 * tables left empty are freed. Unmapped pages in the range are fine.
 * Exclusive in shared mode (it frees tables at once).
 * @return 0, -TDP_EINVAL, -TDP_ERANGE or -TDP_ENOMEM (split pages).
 */
TDP_API int tdp_unmap(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size,
		      struct tdp_memcache *mc);

/** What tdp_zap() removed, and where to continue. */
struct tdp_zap_result {
	/**
	 * The one span enclosing everything this call removed (it may exceed
	 * the request where a leaf straddled an edge); start == end: nothing.
	 */
	uint64_t removed_start;
	uint64_t removed_end; /**< end of that span (exclusive) */
	uint64_t resume;        /**< where to continue: gpa + size when the zap finished */
};

/**
 * Tear down everything that intersects [gpa, gpa + size) at the coarsest
 * level: leaves and subtrees the range covers are removed whole, leaves
 * straddling an edge are removed whole (never split), tables straddling an
 * edge are entered and freed once empty; never allocates.
 * `budget` bounds the entries cleared in this call (0 = no bound); at least
 * one is always processed, so resuming from res->resume makes progress.
 * Each entry the call empties counts one, whatever it held: a leaf, a
 * RISC-V Svnapot group (its 16 entries go together), or a table entry
 * whose whole subtree the range covers (removed with its tables as one
 * entry, however many leaves it held). Tables found empty on the way out
 * and freed count nothing.
 * Exclusive in shared mode.
 * @return 0 when the range is done, 1 when the budget ran out (continue at
 * res->resume), -TDP_EINVAL or -TDP_ERANGE. res is required.
 */
TDP_API int tdp_zap(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, uint64_t budget,
		    struct tdp_zap_result *res);

/**
 * Replace every block that intersects [gpa, gpa + size) and sits above
 * `target_level` by tables of smaller leaves down to target_level, with the
 * same translation and attributes (children outside the range stay as large
 * as possible). Each new subtree is filled before it is linked. Empty entries
 * get nothing. @return 0; -TDP_EINVAL (also target_level >= levels);
 * -TDP_ERANGE; -TDP_ENOMEM.
 */
TDP_API int tdp_split(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size,
		      unsigned int target_level, struct tdp_memcache *mc);

/**
 * Change permissions (and software bits) of every mapped page in
 * [gpa, gpa + size): new = (old & ~clear) | set, with clear and set limited
 * to TDP_PROT_MASK | TDP_SW_MASK. Blocks fully inside stay blocks; a block
 * straddling an edge is split only if its permissions change. Unmapped pages
 * are skipped. Hardware accessed/dirty flags (EPT A/D, Svadu) stay as they
 * are, in split pages too.
 *
 * Which (clear, set) are accepted is judged on every leaf the table could
 * hold, not on the leaves there now: the call is accepted iff for every
 * permission set p that a leaf of this table can carry (the TDP_PROT_*
 * part of an attribute word tdp_map accepts), (p & ~clear) | set can be
 * carried too, and set holds only software bits the entry has (RISC-V:
 * TDP_SW(0..3)); clearing any software bit is fine. Nothing else is
 * refused: a mask naming one of TDP_PROT_XP/XU is fine where every result
 * is expressible (clear = TDP_PROT_XP with set = TDP_PROT_X), and refused
 * where some result would separate them without FEAT_XNX or MBEC. So
 * set = TDP_PROT_W alone is refused where a leaf may lack R, i.e. where
 * execute-only leaves exist (EPT with TDP_CFG_X86_EXEC_ONLY, RISC-V): give
 * write access back with TDP_PROT_RW there; clearing R is refused where
 * every leaf needs it (EPT without execute-only).
 *
 * Flushes: every leaf whose entry changes is covered by the call's one
 * flush_range, permissions added (a raise) included: a stale, more
 * restrictive TLB entry would only re-fault, but the architectures do not
 * promise that the fault evicts it (arm64 and RISC-V; KVM issues a local
 * invalidation when it relaxes), so the library does not skip it. A call
 * that changes no entry calls no flush.
 * @return 0; -TDP_EINVAL (bits outside the mask, or a change the format
 * cannot express on every possible entry); -TDP_ERANGE; -TDP_ENOMEM (edge
 * splits).
 */
TDP_API int tdp_protect(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, tdp_attr_t clear,
			tdp_attr_t set, struct tdp_memcache *mc);

/*
 * Accessed/dirty harvesting, for tables whose format has hardware A/D flags
 * and has them enabled (x86 EPT with TDP_CFG_X86_AD). Flags are cleared by
 * compare-and-swap, so one the hardware sets at the same moment is never
 * lost.
 */

/**
 * Clear the accessed flag of every leaf intersecting [gpa, gpa + size);
 * *young tells whether any was set. No TLB invalidation (aging is a hint).
 * @return 0; -TDP_EINVAL (NULL, alignment, size 0); -TDP_ERANGE;
 * -TDP_EOPNOTSUPP when the table has no A/D flags in use; -TDP_EAGAIN in
 * shared mode (repeat the call).
 */
TDP_API int tdp_test_clear_young(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, bool *young);
/**
 * For every dirty page gpa + i * page of [gpa, gpa + size) set bit i of
 * bitmap (64 pages per word, the caller zeroes it and sizes it for size /
 * page bits) and make the leaves clean, with one invalidation; a dirty block
 * straddling an edge reports its pages inside and stays dirty.
 * @return 0; -TDP_EINVAL (NULL, alignment, size 0); -TDP_ERANGE;
 * -TDP_EOPNOTSUPP when the table has no A/D flags in use; -TDP_EAGAIN in
 * shared mode (repeat the call; bits already set stay set).
 */
TDP_API int tdp_collect_dirty(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size,
			      uint64_t *bitmap);

/**
 * Stage-2 fault handling: the memory region around a faulting address (one
 * guest memory slot), guest-physical [gpa, gpa + size) backed by host
 * memory from hpa.
 */
struct tdp_fault_region {
	uint64_t gpa;  /**< first guest-physical byte of the slot */
	uint64_t size; /**< its size */
	uint64_t hpa;  /**< host-physical address backing gpa */
};

/** The leaf tdp_map_fault() mapped, or found in place. */
struct tdp_fault_result {
	uint64_t gpa;       /**< first byte of the leaf mapped (or found) */
	uint64_t size;      /**< its size */
	unsigned int level; /**< its level */
};

/**
 * The fault path (the EL2 fast path): map the largest leaf that contains
 * fault_gpa, lies inside the region, has equally aligned guest and host
 * addresses, and is allowed by the table's leaf levels and
 * TDP_MAP_MAX_LEVEL(flags), in one walk from the root, taking table pages
 * from `mc` only. Where a table already sits at that leaf's place (part of
 * it is mapped), the leaf is the largest that fits the empty entry below.
 * Nothing mapped is ever replaced. No Svnapot groups (RISC-V) are written.
 * fault_gpa is a byte address, as the hardware reports it: it need not be
 * page aligned; any address in [rg->gpa, rg->gpa + rg->size) is taken, and
 * *res describes the leaf that contains it (mapped, or found there).
 * Fills *res with the leaf mapped and returns 0; -TDP_EEXIST, with *res
 * describing the leaf already there, if fault_gpa is translated (a
 * spurious or permission fault: nothing changed); -TDP_ENOMEM if mc holds
 * fewer pages than the tables to create (at most
 * tdp_map_fault_pages_needed(), nothing changed); -TDP_EINVAL (NULL
 * arguments, unaligned or empty region, fault_gpa outside it, flags other
 * than TDP_MAP_MAX_LEVEL, attributes the format cannot express); -TDP_ERANGE
 * (region outside the input or output range, or overflowing). In shared
 * mode -TDP_EEXIST also reports a leaf another thread wrote first, and
 * -TDP_EAGAIN an entry another thread holds busy (resume the guest, or retry).
 */
TDP_API int tdp_map_fault(struct tdp_pgtable *pgt, uint64_t fault_gpa,
			  const struct tdp_fault_region *rg, tdp_attr_t attr, uint32_t flags,
			  struct tdp_memcache *mc, struct tdp_fault_result *res);

/**
 * Pages tdp_map_fault() may take from the cache: one table per level below
 * the root. @return that count, or -TDP_EINVAL for a NULL or uninitialised table.
 */
TDP_API long tdp_map_fault_pages_needed(const struct tdp_pgtable *pgt);

/** A translation, as tdp_lookup() finds it. */
struct tdp_lookup_result {
	uint64_t hpa;      /**< host address of gpa itself (offset included) */
	uint64_t size;     /**< bytes the leaf translates as one unit: its level's size, or the
			      whole group for a contiguous entry (RISC-V Svnapot: 64 KiB) */
	unsigned int level; /**< the leaf's level */
	tdp_attr_t attr;    /**< the leaf's attributes, as tdp_map takes them */
	uint64_t pte;      /**< raw leaf entry */
};

/**
 * Translate gpa, into *res. @return 0; -TDP_ENOENT if gpa is not
 * mapped; -TDP_EINVAL for NULL arguments; -TDP_ERANGE if gpa is outside the
 * input range. gpa need not be page aligned.
 */
TDP_API int tdp_lookup(const struct tdp_pgtable *pgt, uint64_t gpa, struct tdp_lookup_result *res);

/**
 * Worst-case number of table pages an operation on this range can take,
 * whatever the table holds: for map, what the call requires in the cache;
 * for the others an upper bound of their exact need (see the rules at the
 * top). @return the count, or a negative error under the operation's
 * argument rules.
 */
TDP_API long tdp_map_pages_needed(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t hpa,
				  uint64_t size, uint32_t flags);
/** tdp_map_pages_needed() for tdp_unmap(): a bound of the pages its edge splits take. */
TDP_API long tdp_unmap_pages_needed(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size);
/** tdp_map_pages_needed() for tdp_split(): a bound of the tables it builds. */
TDP_API long tdp_split_pages_needed(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size,
				    unsigned int target_level);
/** tdp_map_pages_needed() for tdp_protect(): a bound of the pages its edge splits take. */
TDP_API long tdp_protect_pages_needed(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size);

/**
 * Shared mode: free a table given to tdp_mm_ops.defer_free_table, with every
 * table below it (tables other threads linked into it after it was unlinked
 * included), through free_table. Call it once the grace period has passed:
 * no thread is still inside a call that began before the table was handed
 * over. `level` is the one defer_free_table was given. @return 0, or
 * -TDP_EINVAL for a NULL or uninitialised table, NULL `table`, or a level
 * that no table below the root has.
 */
TDP_API int tdp_free_unlinked(const struct tdp_pgtable *pgt, void *table, unsigned int level);

#ifdef __cplusplus
}
#endif

#endif
