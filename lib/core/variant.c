/* SPDX-License-Identifier: MIT */
/*
 * The core: the generic algorithms, written once and compiled once per
 * format variant. Meson generates one small file per variant
 * (lib/core/variant.c.in) that names it (TDP_VARIANT_*) and includes this
 * one; in a build of one variant, api_single.c includes that file.
 *
 * This file picks the format's PTE header (lib/arch/<arch>/pte.h, the only
 * place that knows descriptor bits), the name of the dispatch table to emit
 * (FMT_OPS) and its entry points' names (FMT_NAME, one of the TDP_<VARIANT>
 * macros of formats.h). The format header provides, as constants or static
 * inline functions:
 *
 *   FMT_PAGE_SHIFT, FMT_BITS       level-0 page shift, index bits per table
 *   fmt_invalid(pgt)               the value of an empty entry (non-zero: new tables are
 *                                  filled with it)
 *   fmt_flush_on_install(pgt)      invalid -> valid changes need a TLB flush
 *   pte_valid(pte)                 the hardware would use the entry
 *   pte_is_table(pte, l)           points to a table (never at level 0)
 *   pte_table_pa(pte), pte_leaf_pa(pte, l)
 *   pte_mk_table(pgt, pa), pte_mk_leaf(tmpl, pa, l)
 *   pte_leaf_tmpl(pte)             a leaf's attribute bits (no address, no kind)
 *   fmt_attr_tmpl(pgt, attr)       the same for a neutral attribute word
 *   pte_attr(pte, l)               decode a leaf's attributes
 *   pte_with_prot(pgt, pte, attr)  a leaf with its permission/software bits replaced
 *   pte_same(old, new)             equal apart from bits the hardware updates
 *   pte_needs_bbm(old, new, l)     replacing old by new needs break-before-make
 *   fmt_attr_ok, fmt_prot_change_ok
 *   FMT_HAS_AD                     the format has hardware accessed/dirty flags; then
 *   fmt_ad_enabled(pgt)            they are in use on this table, and
 *   pte_young, pte_mkold, pte_dirty, pte_mkclean, FMT_AD_MASK (the A/D bits)
 *   FMT_VALID_MASK, FMT_BUSY_BIT   bits that make an entry valid; shared mode's busy mark
 *   FMT_CONT_BITS                  log2 of the level-0 entries in a contiguous group (0: the
 *                                  format has none); then
 *   fmt_cont_enabled(pgt)          groups are in use on this table,
 *   pte_is_cont(pte, l)            the leaf belongs to a group (pte_leaf_pa gives the group's base)
 *   pte_mk_cont_leaf(tmpl, pa, l)  the group member for the page at pa
 *
 * A group's entries must agree: every operation that would change part of one
 * first rewrites the whole group as ordinary leaves (the same translation, so
 * no break-before-make), and zap removes a group whole.
 *
 * Every part below is static: each variant gets its own copy with constant
 * shifts and no indirect calls in the loops. Nothing recurses; subtrees are
 * walked with explicit stacks bounded by TDP_MAX_LEVELS. The parts are
 * included once each, in this order (each uses only those before it):
 *
 *   variant.h    names, level arithmetic, groups, empty/busy values, modes
 *   write.h      pte_write, the one write primitive, and change reports
 *   iter.h       the iterator and the root-to-leaf walks
 *   gather.h     batched invalidation and deferred table freeing
 *   shared.h     shared mode's entry swap
 *   groups.h     contiguous groups broken up or cleared
 *   bbm.h        batched break-before-make
 *   split.h      off-line block splitting; tdp_split
 *   edges.h      blocks and groups straddling a range's edges
 *   oneleaf.h    one leaf from one walk (map's per-call path)
 *   map.h        tdp_map
 *   fault.h      tdp_map_fault
 *   clear.h      tdp_unmap, tdp_zap
 *   protect.h    tdp_protect
 *   ad.h         tdp_test_clear_young, tdp_collect_dirty
 *   read.h       tdp_lookup, tdp_walk, the iterator's entry points
 *   lifecycle.h  prepare, destroy, tdp_free_unlinked
 */
#include "core/formats.h"

#if defined(TDP_VARIANT_ARM64_4K)
#define ARM64_GRANULE_SHIFT 12
#define FMT_OPS             tdp__arm64_4k_fops
#define FMT_NAME            TDP_ARM64_4K
#include "arch/arm64/pte.h"
#elif defined(TDP_VARIANT_ARM64_16K)
#define ARM64_GRANULE_SHIFT 14
#define FMT_OPS             tdp__arm64_16k_fops
#define FMT_NAME            TDP_ARM64_16K
#include "arch/arm64/pte.h"
#elif defined(TDP_VARIANT_ARM64_64K)
#define ARM64_GRANULE_SHIFT 16
#define FMT_OPS             tdp__arm64_64k_fops
#define FMT_NAME            TDP_ARM64_64K
#include "arch/arm64/pte.h"
#elif defined(TDP_VARIANT_X86_EPT)
#define FMT_OPS  tdp__x86_ept_fops
#define FMT_NAME TDP_X86_EPT
#include "arch/x86/pte.h"
#elif defined(TDP_VARIANT_RISCV_G)
#define FMT_OPS  tdp__riscv_g_fops
#define FMT_NAME TDP_RISCV_G
#include "arch/riscv/pte.h"
#else
#error "compile the core through a generated variant_*.c (lib/core/variant.c.in)"
#endif

#include "core/budget.h"
#include "core/mem.h"
#include "core/refuse.h"

#include "core/variant.h"
#include "core/write.h"
#include "core/iter.h"
#include "core/gather.h"
#include "core/shared.h"
#include "core/groups.h"
#include "core/bbm.h"
#include "core/split.h"
#include "core/edges.h"
#include "core/oneleaf.h"
#include "core/map.h"
#include "core/fault.h"
#include "core/clear.h"
#include "core/protect.h"
#include "core/ad.h"
#include "core/read.h"
#include "core/lifecycle.h"

TDP_INTERNAL bool FMT_NAME(prot_change_ok)(const struct tdp_pgtable *p, tdp_attr_t clear,
					  tdp_attr_t set)
{
	return fmt_prot_change_ok(p, clear, set);
}

TDP_INTERNAL const struct tdp_fmt_ops FMT_OPS = {
	.map = fmt_map,
	.fault = fmt_fault,
	.unmap = fmt_unmap,
	.zap = fmt_zap,
	.split = fmt_split,
	.protect = fmt_protect,
	.young = fmt_young,
	.dirty = fmt_dirty,
	.prepare = fmt_prepare,
	.lookup = fmt_lookup,
	.walk = fmt_walk,
	.destroy = fmt_destroy,
	.free_unlinked = fmt_free_unlinked,
	.iter_start = fmt_iter_start,
	.iter_next = fmt_iter_next,
	.iter_restart = fmt_iter_restart,
	.iter_entry = fmt_iter_entry,
	.prot_change_ok = FMT_NAME(prot_change_ok),
};
