/* SPDX-License-Identifier: MIT */
/*
 * tdp_stats: counts over the public iterator, so one copy serves every
 * format and build (no per-variant code).
 */
#include <tdp/walk.h>

#include "core/range.h"

int tdp_stats(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, struct tdp_stats *st)
{
	uint64_t end = gpa + size;
	struct tdp_iter it;
	struct tdp_entry e;
	int ret = tdp__range_refusal(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	if (!st)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_NULL);
	/* field by field: a structure clear may become a memset call */
	for (unsigned int l = 0; l < TDP_MAX_LEVELS; l++) {
		st->leaves[l] = 0;
		st->tables[l] = 0;
	}
	st->tables[pgt->geo.levels - 1] = 1;
	st->table_bytes = pgt->geo.root_size;
	st->mapped_bytes = 0;
	tdp_for_each_entry(it, pgt, gpa, end) {
		tdp_iter_entry(&it, &e);
		if (!e.valid)
			continue;
		if (e.table) {
			/* the iterator enters it next: it intersects the range */
			st->tables[e.level - 1]++;
			st->table_bytes += pgt->geo.table_size;
			continue;
		}
		st->leaves[e.level]++;
		/* a leaf straddling an edge: only its part inside */
		st->mapped_bytes += (e.addr + e.size < end ? e.addr + e.size : end) -
				    (e.addr > gpa ? e.addr : gpa);
	}
	return 0;
}
