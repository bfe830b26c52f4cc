/* SPDX-License-Identifier: MIT */
/** @file
 * Change reporting: what each call did to the table's leaves.
 *
 * A hypervisor keeps state in step with its stage-2 table: a reference on
 * every host page it maps, the dirty state of pages it writes back or
 * migrates, statistics, a mirror. With tdp_config.changes set, every call
 * reports each leaf that appears, changes or goes away to
 * changes->leaf_changed, with the entry as it was and as it is
 * (struct tdp_entry: address, size, level, output address, attributes,
 * accessed and dirty flags, raw value) and the call that did it.
 *
 * What is reported (struct tdp_change.kind):
 * - TDP_CHANGE_ADD: a leaf was written where the address did not translate
 *   (`new` holds it; old.valid is false).
 * - TDP_CHANGE_UPDATE: a leaf was replaced in place by another at the same
 *   address and level (tdp_protect; a tdp_map over a leaf that changes its
 *   output address or attributes without break-before-make).
 * - TDP_CHANGE_REMOVE: a leaf went away (`old` holds it; new.valid is
 *   false). Its accessed and dirty flags are those of the entry as it was
 *   replaced: read by the atomic swap that replaced it, or after the flush
 *   that made an unlinked table unreachable, so a page the hardware dirtied
 *   until then is reported dirty.
 * - Every leaf of a table that goes away (tdp_unmap, tdp_zap, a tdp_map that
 *   puts a block where a table was, tdp_pgtable_destroy) is reported
 *   removed, one report per leaf.
 * - reshape: a block replaced by a table of smaller leaves with the same
 *   translation (tdp_split, and the blocks that straddle the edges of an
 *   unmap, map or protect) is reported as the REMOVE of the block, then the
 *   ADD of every new leaf, all with reshape set: the pages translate as
 *   before, so a caller that counts references per page can skip them, and
 *   one that keeps a model of the leaves can apply them.
 * - A change with break-before-make is reported once, old to new (as a
 *   REMOVE then an ADD when the two cannot be one update, e.g. a block
 *   replaced by smaller leaves of another translation); the empty or busy
 *   value in between is not reported.
 * - Not reported: the 16 entries of a RISC-V Svnapot group are 16 level-0
 *   leaves, and rewriting a group as ordinary entries changes no leaf's
 *   translation; accessed/dirty harvesting (tdp_test_clear_young,
 *   tdp_collect_dirty), whose result is its own report; tables linked or
 *   unlinked (see tdp_stats for table counts).
 *
 * Order and the TLB: for one address, reports come in the order of the
 * changes. A REMOVE or UPDATE may be reported before the flush that stops
 * the hardware from using the old entry; that flush is always issued before
 * the call returns. So a caller that drops its reference to a host page on
 * REMOVE (or on an UPDATE with another output address) must do so after the
 * call has returned, never from inside the callback.
 *
 * Failed calls: in exclusive mode a call that fails has changed nothing and
 * reports nothing. In shared mode a call that returns -TDP_EAGAIN or
 * -TDP_ENOMEM after part of its work has reported exactly that part, which
 * stays done. In shared mode the tables a map unlinks are emptied (each
 * entry swapped to a busy value, each leaf reported removed) before the
 * leaf replacing them is reported, so tdp_free_unlinked reports nothing; an
 * entry another call held busy then (break-before-make) is reported removed
 * by that call, whose change is dropped (a split or protect then reports a
 * plain REMOVE of that block).
 *
 * Cost: with changes NULL, one predictable branch per entry write. With it
 * set, one call per changed leaf, and the leaves of removed tables are read
 * (unmap and zap otherwise free whole tables without reading them).
 *
 * The callback runs on the thread making the call, inside the caller's lock
 * (in shared mode on many threads at once), and must not call into the table.
 */
#ifndef TDP_CHANGES_H
#define TDP_CHANGES_H

#include <tdp/walk.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The call that made a change (struct tdp_change.op). */
enum tdp_op {
	TDP_OP_MAP = 1,   /**< tdp_map */
	TDP_OP_FAULT,     /**< tdp_map_fault */
	TDP_OP_UNMAP,     /**< tdp_unmap */
	TDP_OP_ZAP,       /**< tdp_zap */
	TDP_OP_SPLIT,     /**< tdp_split */
	TDP_OP_PROTECT,   /**< tdp_protect */
	TDP_OP_DESTROY,   /**< tdp_pgtable_destroy */
};

/** What happened to the leaf (struct tdp_change.kind; see the top of tdp/changes.h). */
enum tdp_change_kind {
	TDP_CHANGE_ADD = 1, /**< a leaf where the address did not translate */
	TDP_CHANGE_UPDATE,  /**< a leaf replaced in place at the same address and level */
	TDP_CHANGE_REMOVE,  /**< a leaf gone */
};

/** One changed leaf, as tdp_change_ops.leaf_changed receives it. */
struct tdp_change {
	enum tdp_op op;             /**< the call that made the change */
	enum tdp_change_kind kind;  /**< what happened */
	bool reshape;         /**< the pages keep their translation (a split) */
	struct tdp_entry old; /**< the leaf before (UPDATE, REMOVE); old.valid false for ADD */
#ifdef __cplusplus
	/* `new` is a keyword in C++: the same member, spelt new_ there */
	struct tdp_entry new_;
#else
	struct tdp_entry new; /**< the leaf after (ADD, UPDATE); new.valid false for REMOVE */
#endif
};

/** Change reporting callbacks (tdp_config.changes). */
struct tdp_change_ops {
	/** One changed leaf. Required when the ops are given. */
	void (*leaf_changed)(void *ctx, const struct tdp_change *c);
};

#ifdef __cplusplus
}
#endif

#endif
