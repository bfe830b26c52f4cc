/* SPDX-License-Identifier: MIT */
/*
 * Refusing a call: tell the caller's `refused` callback which check failed,
 * then return the error. Kept out of line and cold so that the checks on a
 * hot path stay a compare and a branch.
 */
#ifndef TDP_CORE_REFUSE_H
#define TDP_CORE_REFUSE_H

#include <tdp/pgtable.h>

#include "core/fmt_ops.h"

/*
 * A refusal packed into the int a check returns: the negative error code,
 * with the reason above its low byte. Checks return it without calling
 * anything, so that they inline into the entry points with no register
 * saved for a call on the path that passes; the entry point then reports
 * it with refuse(), a tail call.
 */
#define REFUSAL(err, reason) (-(int)((unsigned int)(err) | (unsigned int)(reason) << 8))

/*
 * Tell cfg's refused callback (cfg may be NULL; TDP_REASON_NONE tells
 * nothing) and return the error code alone, negative as the API returns it.
 */
TDP_INTERNAL __attribute__((cold)) int tdp__refused(const struct tdp_config *cfg, int refusal);

/* REFUSE(cfg, TDP_EINVAL, TDP_REASON_GPA_ALIGN) reports and evaluates to -TDP_EINVAL. */
#define REFUSE(cfg, err, reason) tdp__refused((cfg), REFUSAL(err, reason))

/*
 * A public call's packed refusal, reported to the table's configuration. A
 * NULL or uninitialised table only ever gives TDP_REASON_NONE, so its
 * configuration is never read.
 */
static inline int refuse(const struct tdp_pgtable *pgt, int refusal)
{
	return tdp__refused(pgt ? &pgt->cfg : NULL, refusal);
}

#endif
