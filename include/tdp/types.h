/* SPDX-License-Identifier: MIT */
/** @file
 * Format-neutral types shared by every part of the API: levels, attributes,
 * formats.
 */
#ifndef TDP_TYPES_H
#define TDP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Most levels a table has. Neutral levels: level 0 maps the smallest page (4,
 * 16 or 64 KiB); the root is level (levels - 1). Per-architecture helpers
 * convert to the architecture's own numbering (arm64: tdp_arm64_level()).
 */
#define TDP_MAX_LEVELS 6
#define TDP_LEVEL_ANY  (-1) /**< TLB hint: changed entries sit at several levels */

/** The hardware format of a table (tdp_config.format). */
enum tdp_format {
	TDP_FORMAT_NONE = 0,     /**< no format: refused by tdp_pgtable_init() */
	TDP_FORMAT_ARM64_S2 = 1, /**< arm64 VMSAv8-64 stage 2 */
	TDP_FORMAT_X86_EPT = 2,  /**< Intel EPT */
	TDP_FORMAT_RISCV_G = 3,  /**< RISC-V G-stage (Sv39x4/Sv48x4/Sv57x4) */
};

/**
 * A neutral attribute word: permissions, memory type and software bits.
 * Each format maps it to its own bits and refuses what it cannot express
 * with -TDP_EINVAL (for example separate privileged/user execute on arm64
 * without FEAT_XNX).
 */
typedef uint32_t tdp_attr_t;

#define TDP_PROT_R    0x1u /**< guest reads */
#define TDP_PROT_W    0x2u /**< guest writes */
#define TDP_PROT_XP   0x4u /**< instruction fetch at the guest's privileged level */
#define TDP_PROT_XU   0x8u /**< instruction fetch at the guest's user level */
#define TDP_PROT_X    (TDP_PROT_XP | TDP_PROT_XU) /**< fetch at both levels */
#define TDP_PROT_RW   (TDP_PROT_R | TDP_PROT_W) /**< read and write */
#define TDP_PROT_RX   (TDP_PROT_R | TDP_PROT_X) /**< read and fetch */
#define TDP_PROT_RWX  (TDP_PROT_R | TDP_PROT_W | TDP_PROT_X) /**< all of them */
#define TDP_PROT_MASK 0xfu /**< the permission bits */

#define TDP_MT_SHIFT         4 /**< position of the memory type */
#define TDP_MT_MASK          (0x7u << TDP_MT_SHIFT) /**< the memory type bits */
#define TDP_MT_NORMAL_WB     (0u << TDP_MT_SHIFT) /**< ordinary RAM */
#define TDP_MT_NORMAL_NC     (1u << TDP_MT_SHIFT) /**< normal, non-cacheable */
#define TDP_MT_DEVICE        (2u << TDP_MT_SHIFT) /**< MMIO: arm64 Device-nGnRE */
#define TDP_MT_DEVICE_STRICT (3u << TDP_MT_SHIFT) /**< arm64 Device-nGnRnE */

/* Bits 12..15: format-specific attributes (tdp/x86.h: EPT memory type, IPAT;
 * RISC-V has none). */

/* Software bits, kept in hardware-ignored PTE bits of leaves (4 bits on arm64 and EPT,
 * 2 on RISC-V: TDP_SW(0..3) there). */
#define TDP_SW_SHIFT 8 /**< position of the software bits */
#define TDP_SW_MASK  (0xfu << TDP_SW_SHIFT) /**< the software bits */
/** Software bits holding `v` (0..15; 0..3 on RISC-V), in hardware-ignored bits of the leaf. */
#define TDP_SW(v)    ((((tdp_attr_t)(v)) << TDP_SW_SHIFT) & TDP_SW_MASK)

#ifdef __cplusplus
}
#endif

#endif
