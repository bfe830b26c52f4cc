/* SPDX-License-Identifier: MIT */
/*
 * The range rules of tdp/pgtable.h for the read-only calls built on the
 * public iterator (stats.c, dump.c), which see the table only through
 * public functions and fields, like any caller.
 */
#ifndef TDP_CORE_RANGE_H
#define TDP_CORE_RANGE_H

#include <tdp/pgtable.h>

/* 0 for a non-empty, page-aligned [gpa, gpa + size) inside the input range. */
static inline int tdp__range_check(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size)
{
	/* 0 for NULL and for a table that was never initialised or is destroyed */
	uint64_t page = tdp_page_size(pgt);

	if (!page || size == 0 || ((gpa | size) & (page - 1)))
		return -TDP_EINVAL;
	if (gpa + size < gpa || gpa + size > (1ull << pgt->cfg.ia_bits))
		return -TDP_ERANGE;
	return 0;
}

#endif
