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

/* Returns err (negative, as the call returns it); cfg may be NULL. */
TDP_INTERNAL __attribute__((cold)) int tdp__refuse(const struct tdp_config *cfg, int err,
						   enum tdp_reason reason);

/* REFUSE(cfg, TDP_EINVAL, TDP_REASON_GPA_ALIGN) evaluates to -TDP_EINVAL. */
#define REFUSE(cfg, err, reason) tdp__refuse((cfg), -(err), (reason))

#endif
