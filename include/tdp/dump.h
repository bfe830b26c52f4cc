/* SPDX-License-Identifier: MIT */
/** @file
 * A table as text or as a Graphviz graph, for the moment a guest faults
 * where it should not: what the hardware walks, entry by entry.
 */
#ifndef TDP_DUMP_H
#define TDP_DUMP_H

#include <tdp/export.h>
#include <tdp/walk.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Receives the dump's text, in pieces of at most 128 bytes (not always
 * whole lines). Return non-zero to stop the dump: tdp_dump then returns
 * that value.
 */
typedef int (*tdp_dump_write_fn)(void *ctx, const char *buf, size_t len);

/* Output, in the low byte of the flags: */
#define TDP_DUMP_TEXT        0u    /**< one line per entry (or run of entries) */
#define TDP_DUMP_DOT         1u    /**< a Graphviz digraph (dot -Tsvg) */
#define TDP_DUMP_FORMAT_MASK 0xffu  /**< the output field */
/* Options: */
#define TDP_DUMP_EMPTY  (1u << 8)  /**< also empty entries (text only) */
#define TDP_DUMP_NOFOLD (1u << 9)  /**< one line per entry, no runs */

/**
 * Write the entries that intersect [gpa, gpa + size) through `out`, in
 * address order, parents before their children. The whole table is gpa =
 * 0, size = 1ull << pgt->cfg.ia_bits. Each entry is shown whole, also one
 * straddling an edge of the range. No allocation, no recursion: output is
 * formatted into a small buffer on the stack; it reads every entry of
 * every table that intersects the range (twice with TDP_DUMP_DOT), and
 * looks up each leaf once (tdp_lookup, for its contiguous group).
 *
 * Text: a first line `root 0x<root pa> levels <n>`, then one line per
 * entry, indented by two spaces per level below the root (all numbers hex,
 * addresses 16 digits, levels neutral):
 * @verbatim
   L<l> 0x<start>-0x<end> table 0x<next table pa> pte=0x<raw>
   L<l> 0x<start>-0x<end> leaf  0x<output pa> <rwxu> <mt> sw=<s> [fmt=<f>] <AD> [group] pte=0x<raw>
   L<l> 0x<start>-0x<end> empty pte=0x<raw>                  (TDP_DUMP_EMPTY)
   @endverbatim
 * [start, end) is what the entry covers. rwxu: the attributes' TDP_PROT_R,
 * _W, _XP (x) and _XU (u), '-' when clear; mt: WB, NC, DEV or DEV-S (the
 * TDP_MT_* type); s: the software bits (TDP_SW value); `fmt=<f>`, shown when
 * not 0: the format bits 12..15 (EPT: memory type and IPAT, tdp/x86.h);
 * AD: 'A' and 'D' for the leaf's accessed and dirty flags (struct
 * tdp_entry; "--" where the table has no hardware A/D in use); group: the
 * entry belongs to a contiguous group translated as one unit (RISC-V
 * Svnapot), whose entries share one value.
 *
 * Runs (unless TDP_DUMP_NOFOLD): consecutive entries of one table and level
 * print as one line ending in " x<count>", with the first entry's pa and
 * raw value and the run's whole [start, end), when they are
 * - leaves with the same attributes and A/D flags whose output addresses
 *   continue and whose raw values step by one constant amount, at least
 *   three of them (so no entry's stray bit hides in a run) or the members
 *   of one contiguous group (never two groups in one run); or
 * - empty entries with the same raw value.
 *
 * DOT (TDP_DUMP_DOT): "digraph tdp", one record node per table ("t" and
 * its physical address in hex) listing the table's level and physical
 * address, then its valid entries (or runs) inside the range as above
 * without the indentation; an edge from each table entry's field to its
 * table's node. (Graphviz cannot lay out a record of thousands of fields:
 * with TDP_DUMP_NOFOLD keep the range to a few tables.)
 *
 * @return 0; the writer's non-zero value; -TDP_EINVAL (NULL pgt or out, an
 * uninitialised table, unknown flags or output, TDP_DUMP_EMPTY with
 * TDP_DUMP_DOT, size 0, misalignment); -TDP_ERANGE (beyond the input range,
 * or gpa + size overflows).
 */
TDP_API int tdp_dump(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, unsigned int flags,
		     tdp_dump_write_fn out, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
