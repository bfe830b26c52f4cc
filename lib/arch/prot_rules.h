/* SPDX-License-Identifier: MIT */
/*
 * Permission rules shared by the formats whose leaves cannot be write-only
 * and need read unless execute-only is allowed (EPT, RISC-V G-stage). Each
 * format passes its own capabilities.
 */
#ifndef TDP_ARCH_PROT_RULES_H
#define TDP_ARCH_PROT_RULES_H

#include <tdp/types.h>

/*
 * May a leaf carry these permissions? W needs R; without R the leaf must be
 * execute-only (allowed by `exec_only`); XP and XU may differ only with
 * `split_x`.
 */
static inline bool tdp__rwx_ok(tdp_attr_t attr, bool exec_only, bool split_x)
{
	tdp_attr_t x = attr & TDP_PROT_X;

	if ((attr & TDP_PROT_W) && !(attr & TDP_PROT_R))
		return false;
	if (!(attr & TDP_PROT_R) && !(exec_only && x))
		return false;
	return split_x || x == 0 || x == TDP_PROT_X;
}

/*
 * Does (p & ~clear) | set stay acceptable to tdp__rwx_ok for every p it
 * accepts? Without execute-only every leaf has R, so R may not go; with it
 * a leaf may lack R, so setting W needs R set too, and a change that may
 * leave a leaf without R needs W gone and an execute bit set.
 */
static inline bool tdp__rwx_change_ok(tdp_attr_t clear, tdp_attr_t set, bool exec_only,
				      bool split_x)
{
	tdp_attr_t cx = clear & TDP_PROT_X, sx = set & TDP_PROT_X;
	bool r_may_go = (clear & TDP_PROT_R) && !(set & TDP_PROT_R);

	if (!split_x && ((cx != 0 && cx != TDP_PROT_X) || (sx != 0 && sx != TDP_PROT_X)))
		return false;
	if (!exec_only)
		return !r_may_go;
	if ((set & TDP_PROT_W) && !(set & TDP_PROT_R))
		return false;
	if (cx && !(set & (TDP_PROT_R | TDP_PROT_X)))
		return false;
	if (r_may_go)
		return (clear & TDP_PROT_W) && !(set & TDP_PROT_W) && sx;
	return true;
}

#endif
