/* SPDX-License-Identifier: MIT */
/** @file
 * Read-only traversal of a table: the iterator and the visitor walk.
 *
 * Both are for callers' own inspection (statistics, dumps, checks). Changes
 * go through the operations in tdp/pgtable.h, which know the
 * break-before-make and invalidation rules.
 */
#ifndef TDP_WALK_H
#define TDP_WALK_H

#include <tdp/export.h>
#include <tdp/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A decoded entry, as the iterator and the walk present it. */
struct tdp_entry {
	uint64_t addr;      /**< first gpa the entry covers (aligned to size) */
	uint64_t size;      /**< bytes the entry covers */
	unsigned int level; /**< its neutral level */
	uint64_t pte;       /**< raw value */
	bool valid;         /**< the hardware would use it */
	bool table;         /**< points to a next-level table */
	uint64_t pa;        /**< output address (leaf) or next table (table); 0 if invalid */
	tdp_attr_t attr;    /**< decoded attributes of a leaf; 0 otherwise */
	/**
	 * A leaf's hardware-managed flags, on tables whose accessed/dirty
	 * flags are in use (EPT with TDP_CFG_X86_AD, RISC-V with Svadu); false
	 * elsewhere, where the library presets or ignores them. A member of a
	 * contiguous group shows its own entry's flags: the hardware may set
	 * them in any member (tdp_collect_dirty looks at the whole group).
	 */
	bool accessed;
	bool dirty; /**< see accessed */
};

/**
 * A non-recursive pre-order iterator over the entries that intersect
 * [start, end), descending into every table down to min_level. It keeps the
 * path from the root, so it can be restarted from the root at its current
 * address (tdp_iter_restart) after the caller dropped a lock or the table
 * changed under it.
 */
struct tdp_iter {
	const struct tdp_pgtable *pgt; /**< the table */
	uint64_t addr;      /**< current position: inside the current entry */
	uint64_t end;       /**< end of the range (exclusive) */
	unsigned int level; /**< level of the current entry */
	unsigned int min_level; /**< lowest level the iterator descends to */
	uint64_t pte;       /**< value of the current entry when it was visited */
	uint64_t *ptep;     /**< where the current entry sits in its table */
	void *tables[TDP_MAX_LEVELS]; /**< table at each level of the current path */
	bool post;          /**< internal: the entry is revisited after its subtree */
	bool valid;         /**< false once the iteration is over */
};

/**
 * Position `it` at the entry of the highest level that covers `start`.
 * @return 0; -TDP_EINVAL for NULL arguments, start >= end or
 * min_level >= levels; -TDP_ERANGE if end is beyond the input range.
 */
TDP_API int tdp_iter_start(struct tdp_iter *it, const struct tdp_pgtable *pgt, uint64_t start,
			   uint64_t end, unsigned int min_level);
/** Move to the next entry (into a table first); clears it->valid at the end. */
TDP_API void tdp_iter_next(struct tdp_iter *it);
/** Walk again from the root to the current address, re-reading every entry. */
TDP_API void tdp_iter_restart(struct tdp_iter *it);
/** Decode the current entry. */
TDP_API void tdp_iter_entry(const struct tdp_iter *it, struct tdp_entry *e);

/**
 * A loop over the entries of pgt that intersect [start, end), down to level
 * 0, with `it` (a struct tdp_iter) on each; no iteration when
 * tdp_iter_start() refuses the arguments.
 */
#define tdp_for_each_entry(it, pgt, start, end)                                   \
	for (int tdp__rc_ = tdp_iter_start(&(it), (pgt), (start), (end), 0);      \
	     tdp__rc_ == 0 && (it).valid; tdp_iter_next(&(it)))

/* Visits requested from tdp_walk and reported to the visitor. */
#define TDP_WALK_LEAF       (1u << 0) /**< valid leaves */
#define TDP_WALK_TABLE_PRE  (1u << 1) /**< table entries, before their children */
#define TDP_WALK_TABLE_POST (1u << 2) /**< table entries, after their children */
#define TDP_WALK_INVALID    (1u << 3) /**< empty entries (at the level they sit) */

/** Return 0 to go on; any other value stops the walk and tdp_walk returns it. */
typedef int (*tdp_walk_fn)(const struct tdp_entry *e, unsigned int visit, void *arg);

/**
 * Call fn for the entries that intersect [gpa, gpa + size), in address order,
 * as selected by `visits`. @return 0, the visitor's non-zero value,
 * -TDP_EINVAL (NULL, size 0, misalignment, no visit selected) or -TDP_ERANGE.
 */
TDP_API int tdp_walk(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size,
		     unsigned int visits, tdp_walk_fn fn, void *arg);

/**
 * What a range of a table holds: tdp_stats' result. Levels are neutral.
 */
struct tdp_stats {
	/** valid leaves at each level; a RISC-V Svnapot group counts as its 16 level-0 entries */
	uint64_t leaves[TDP_MAX_LEVELS];
	/** tables whose entries sit at level l; the root (concatenated tables too) once at levels - 1 */
	uint64_t tables[TDP_MAX_LEVELS];
	uint64_t table_bytes;  /**< memory of the tables counted, the root's full size included */
	uint64_t mapped_bytes; /**< bytes of [gpa, gpa + size) that translate */
};

/**
 * Count the leaves and tables that intersect [gpa, gpa + size) into *st
 * (overwritten): a leaf or table straddling an edge counts whole, but only
 * the part of a leaf inside the range adds to mapped_bytes. The whole table
 * is gpa = 0, size = 1ull << pgt->cfg.ia_bits. The range follows the rules
 * of tdp/pgtable.h. It reads every entry of every table that intersects
 * the range (O(entries), through the iterator above), allocates nothing
 * and changes nothing; a reader in shared mode.
 * @return 0; -TDP_EINVAL (NULL pgt or st, an uninitialised table, size 0,
 * misalignment); -TDP_ERANGE (beyond the input range, or gpa + size
 * overflows).
 */
TDP_API int tdp_stats(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size,
		      struct tdp_stats *st);

#ifdef __cplusplus
}
#endif

#endif
