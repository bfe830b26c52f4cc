/* SPDX-License-Identifier: MIT */
/*
 * Permission rules: which permission sets a leaf may carry on the formats
 * whose leaves cannot be write-only and need read unless execute-only is
 * allowed (EPT, RISC-V G-stage; each passes its own capabilities), and,
 * for every format, which tdp_protect changes are accepted.
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
 * Is tdp_protect(clear, set) expressible on every leaf the table can hold?
 * Bit p of `prot_ok` says whether the permission set p (TDP_PROT_* bits)
 * may sit in a leaf (struct tdp_pgtable.prot_ok, from fmt_attr_ok at init).
 * The change is accepted iff for every such p, (p & ~clear) | set is one
 * too: exactly the rule of tdp/pgtable.h, nothing stricter (a mask moving
 * one execute bit is fine where no result needs the other one) and nothing
 * looser. Permissions are judged alone: on every format whether a
 * permission set is valid does not depend on the memory type or the
 * software bits of the word.
 */
static inline bool tdp__prot_change_ok(uint32_t prot_ok, tdp_attr_t clear, tdp_attr_t set)
{
	for (tdp_attr_t p = 0; p <= TDP_PROT_MASK; p++) {
		tdp_attr_t q = ((p & ~clear) | set) & TDP_PROT_MASK;

		if (((prot_ok >> p) & 1u) && !((prot_ok >> q) & 1u))
			return false;
	}
	return true;
}

#endif
