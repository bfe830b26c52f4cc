/* SPDX-License-Identifier: MIT */
/** @file
 * TLB invalidation callbacks.
 *
 * The library decides when an invalidation is needed and batches it: at most
 * one flush_range per operation, plus one per break-before-make step that the
 * architecture forces to complete before the next write, and one per RISC-V
 * Svnapot group that an operation breaks up on a table with Svadu (the
 * accessed/dirty flags a cached translation of the group set until then are
 * spread to all its pages after that flush). A table page that
 * was unlinked is handed back to tdp_mm_ops.free_table only after the flush that
 * covers it has returned.
 */
#ifndef TDP_TLB_H
#define TDP_TLB_H

#include <tdp/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** TLB invalidation for a table (tdp_config.tlb). */
struct tdp_tlb_ops {
	/**
	 * Invalidate every cached translation of [gpa, gpa + size) for this
	 * table. `level` is the neutral level of every changed leaf when they
	 * all share one (a TTL-style hint), else TDP_LEVEL_ANY: a protect over
	 * pages alone passes 0, over one or more blocks of level 1 alone 1,
	 * over pages and a block together TDP_LEVEL_ANY; a call that removed a
	 * table entry always passes TDP_LEVEL_ANY (with `tables`). `tables` is
	 * true when table entries were removed, so walk caches must go too
	 * (arm64: invalidate the whole VMID). When this returns, the hardware
	 * must no longer use the old entries. Required.
	 */
	void (*flush_range)(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables);
	/** Invalidate everything cached for this table (used by destroy). Required. */
	void (*flush_all)(void *ctx);
};

#ifdef __cplusplus
}
#endif

#endif
