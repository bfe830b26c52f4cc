/* SPDX-License-Identifier: MIT */
/*
 * Worst-case table-page counts, from the geometry alone (O(levels)).
 *
 * Operations check these against the memory cache before they change
 * anything, which is what lets a failing call leave the table untouched.
 * The counts assume that every entry of the range is empty or a block;
 * existing tables only lower the real need.
 */
#ifndef TDP_CORE_BUDGET_H
#define TDP_CORE_BUDGET_H

#include <tdp/tdp.h>

static inline unsigned int geo_shift(const struct tdp_geometry *g, unsigned int level)
{
	return g->page_shift + level * g->bits_per_level;
}

/* Entries of `level` that intersect [s, e). */
static inline uint64_t geo_count_all(const struct tdp_geometry *g, uint64_t s, uint64_t e,
				     unsigned int level)
{
	unsigned int sh = geo_shift(g, level);

	return ((e - 1) >> sh) - (s >> sh) + 1;
}

/* Entries of `level` that [s, e) touches but does not cover (0, 1 or 2). */
static inline uint64_t geo_count_partial(const struct tdp_geometry *g, uint64_t s, uint64_t e,
					 unsigned int level)
{
	unsigned int sh = geo_shift(g, level);
	uint64_t m = (1ull << sh) - 1;
	bool ls = (s & m) != 0, rs = (e & m) != 0;

	if (ls && rs && (s >> sh) == ((e - 1) >> sh))
		return 1;
	return (uint64_t)ls + (uint64_t)rs;
}

/* Leaf levels a map may use, after the table's and the call's caps. */
static inline uint32_t geo_map_leaf_mask(const struct tdp_geometry *g, uint32_t flags)
{
	uint32_t mask = g->leaf_levels_mask;
	uint32_t cap = (flags & TDP_MAP_MAX_LEVEL_MASK) >> 8;

	if (cap)
		mask &= (2u << (cap - 1)) - 1;
	return mask;
}

/*
 * Every entry below the root that the map's leaf plan cannot turn into a
 * leaf needs a table: all entries of a level where no leaf fits (level not
 * allowed, or gpa/hpa not equally aligned), only the partly covered ones
 * where it does. Edge splits are the same tables as the plan's.
 */
static inline uint64_t geo_map_need(const struct tdp_geometry *g, uint64_t gpa, uint64_t hpa,
				    uint64_t size, uint32_t flags)
{
	uint32_t mask = geo_map_leaf_mask(g, flags);
	uint64_t e = gpa + size, n = 0;

	for (unsigned int l = g->levels - 1; l >= 1; l--) {
		uint64_t m = (1ull << geo_shift(g, l)) - 1;
		bool leaf = (mask >> l) & 1 && ((gpa ^ hpa) & m) == 0;

		n += leaf ? geo_count_partial(g, gpa, e, l) : geo_count_all(g, gpa, e, l);
	}
	return n;
}

static inline unsigned int geo_top_block(const struct tdp_geometry *g)
{
	unsigned int top = 0;

	for (unsigned int l = 0; l < g->levels; l++)
		if ((g->leaf_levels_mask >> l) & 1)
			top = l;
	return top;
}

/* Unmap and protect split at most the blocks straddling the two edges. */
static inline uint64_t geo_edge_need(const struct tdp_geometry *g, uint64_t gpa, uint64_t size)
{
	uint64_t n = 0;

	for (unsigned int l = 1; l <= geo_top_block(g); l++)
		n += geo_count_partial(g, gpa, gpa + size, l);
	return n;
}

/* Every block above the target that intersects the range gets a table. */
static inline uint64_t geo_split_need(const struct tdp_geometry *g, uint64_t gpa, uint64_t size,
				      unsigned int target)
{
	uint64_t n = 0;

	for (unsigned int l = target + 1; l <= geo_top_block(g); l++)
		n += geo_count_all(g, gpa, gpa + size, l);
	return n;
}

#endif
