/* SPDX-License-Identifier: MIT */
/** @file
 * RISC-V G-stage specifics (hypervisor extension, RV64): configuration flags
 * and the HGATP composition.
 *
 * ia_bits picks the mode: 41 = Sv39x4 (3 levels), 50 = Sv48x4 (4 levels),
 * 59 = Sv57x4 (5 levels). The root is always 2048 entries (16 KiB, 16 KiB
 * aligned); the other tables are 4 KiB. oa_bits is 32..56.
 *
 * What the format accepts:
 * - Permissions: R, W, X (TDP_PROT_XP and TDP_PROT_XU together: G-stage has
 *   one execute bit); write without read is reserved (-TDP_EINVAL);
 *   execute-only is legal.
 * - Software bits: the entry has two (RSW), so only TDP_SW(0..3).
 * - Memory types with TDP_CFG_RISCV_SVPBMT: TDP_MT_NORMAL_WB -> PBMT PMA,
 *   TDP_MT_NORMAL_NC -> NC, TDP_MT_DEVICE -> IO. TDP_MT_DEVICE_STRICT is
 *   refused: IO is the only device type, spelt TDP_MT_DEVICE, so tdp_lookup
 *   returns what tdp_map got. Without Svpbmt only TDP_MT_NORMAL_WB is
 *   accepted, unless TDP_CFG_RISCV_PMA_MT lets the PMAs decide.
 * - Format-specific attribute bits 12..15: none.
 */
#ifndef TDP_RISCV_H
#define TDP_RISCV_H

#include <tdp/export.h>
#include <tdp/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

/* tdp_config.flags for TDP_FORMAT_RISCV_G */
/**
 * Svadu with menvcfg.ADUE = 1: the hart sets A and D, so leaves are written
 * with A = D = 0 and tdp_test_clear_young()/tdp_collect_dirty() harvest them.
 * Without it (Svade behaviour) a leaf with A = 0, or a store to one with
 * D = 0, faults: the library presets A on every leaf and D on writable ones
 * (D follows W through tdp_protect too), and the harvesting calls return
 * -TDP_EOPNOTSUPP.
 */
#define TDP_CFG_RISCV_SVADU   (1u << 0)
/** Svpbmt with menvcfg.PBMTE = 1: memory types go into PBMT (bits 62:61). */
#define TDP_CFG_RISCV_SVPBMT  (1u << 1)
/**
 * No Svpbmt: accept TDP_MT_NORMAL_NC and TDP_MT_DEVICE anyway and let the
 * physical memory attributes of the host address decide. The entry holds no
 * type, so tdp_lookup reports TDP_MT_NORMAL_WB. Refused with SVPBMT.
 */
#define TDP_CFG_RISCV_PMA_MT  (1u << 2)
/**
 * Svnapot: tdp_map writes 64 KiB NAPOT groups (16 level-0 entries with N = 1)
 * wherever a 64 KiB-aligned group of the range is fully covered and the host
 * address is 64 KiB-aligned with it. A map, unmap or protect that changes
 * part of a group first rewrites the whole group as ordinary 4 KiB entries
 * (same translation), so the 16 entries of a group always agree. A group
 * counts as one 64 KiB leaf elsewhere: tdp_lookup reports size 65536, zap
 * removes a touched group whole, split leaves groups alone (they are level-0
 * leaves), and the young/dirty calls read and clear A/D in all 16 entries,
 * since the hart may set them in any one. For the same reason a group broken
 * up gives the A and D flags of any of its entries to all 16 pages (a page
 * may be reported dirty that the guest did not write, never the reverse).
 */
#define TDP_CFG_RISCV_SVNAPOT (1u << 3)
/**
 * Svvptc: invalid -> valid changes need no HFENCE.GVMA. Without it every
 * change, including a new mapping or a new table, is passed to flush_range.
 */
#define TDP_CFG_RISCV_SVVPTC  (1u << 4)

/*
 * Geometry as struct tdp_geometry reports it: root_bits 11, root_size 16384,
 * root_tables 1 (the widened root is one table of 2048 entries, not
 * concatenated ones), table_size 4096. An empty entry is 0.
 */

/** Largest VMID HGATP can hold (VMIDLEN 14). */
#define TDP_RISCV_VMID_MAX 0x3fffu

/** Architectural level of a neutral level: RISC-V also counts from the 4 KiB leaf up. */
static inline int tdp_riscv_level(unsigned int neutral_level)
{
	return (int)neutral_level;
}

/**
 * Compose HGATP: MODE (8 Sv39x4, 9 Sv48x4, 10 Sv57x4) in bits 63:60, the VMID
 * in bits 57:44 and the root's PPN in bits 43:0. The hart may implement fewer
 * VMID bits; the hypervisor finds VMIDLEN by writing ones and reading back.
 * @return 0; -TDP_EINVAL for NULL arguments, a table of another format or a
 * VMID above TDP_RISCV_VMID_MAX.
 */
TDP_API int tdp_riscv_hgatp(const struct tdp_pgtable *pgt, uint32_t vmid, uint64_t *hgatp);

#ifdef __cplusplus
}
#endif

#endif
