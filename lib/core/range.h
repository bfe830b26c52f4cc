/* SPDX-License-Identifier: MIT */
/*
 * The range rules of tdp/pgtable.h, for the entry points (api.c) and for the
 * read-only calls built on the public iterator (stats.c, dump.c).
 */
#ifndef TDP_CORE_RANGE_H
#define TDP_CORE_RANGE_H

#include <tdp/pgtable.h>

#include "core/refuse.h"

/*
 * 0 for a non-empty, page-aligned [gpa, gpa + size) inside the input range
 * of an initialised table, else a packed refusal (refuse.h) for refuse().
 * Inlined into every entry point: the checks that pass cost a few compares.
 */
static inline __attribute__((always_inline)) int tdp__range_refusal(const struct tdp_pgtable *pgt,
								   uint64_t gpa, uint64_t size)
{
	/* NULL, never initialised or destroyed: no configuration to tell */
	if (!pgt || !pgt->fops)
		return -TDP_EINVAL;
	if (size == 0)
		return REFUSAL(TDP_EINVAL, TDP_REASON_EMPTY_RANGE);
	if ((gpa | size) & ((1ull << pgt->geo.page_shift) - 1))
		return REFUSAL(TDP_EINVAL, TDP_REASON_GPA_ALIGN);
	if (gpa + size < gpa || gpa + size > (1ull << pgt->cfg.ia_bits))
		return REFUSAL(TDP_ERANGE, TDP_REASON_GPA_RANGE);
	return 0;
}

#endif
