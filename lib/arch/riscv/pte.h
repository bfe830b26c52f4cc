/* SPDX-License-Identifier: MIT */
/*
 * RISC-V G-stage entries (the Sv39/48/57 PTE format, used unchanged): the
 * only place their bits are known. Sources: docs/formats.md §R.2-§R.7.
 */
#ifndef TDP_ARCH_RISCV_PTE_H
#define TDP_ARCH_RISCV_PTE_H

#include <tdp/riscv.h>

#include "arch/prot_rules.h"

#define FMT_PAGE_SHIFT 12
#define FMT_BITS       9
#define FMT_HAS_AD     1
/* Svnapot: 2^4 level-0 entries make one 64 KiB group */
#define FMT_CONT_BITS  4

#define RV_V        (1ull << 0)
#define RV_R        (1ull << 1)
#define RV_W        (1ull << 2)
#define RV_X        (1ull << 3)
#define RV_U        (1ull << 4)
#define RV_A        (1ull << 6)
#define RV_D        (1ull << 7)
#define RV_RSW_SHIFT 8
#define RV_RSW_MASK (3ull << RV_RSW_SHIFT)
#define RV_PPN_SHIFT 10
#define RV_PPN_MASK (((1ull << 44) - 1) << RV_PPN_SHIFT) /* bits 53:10 */
#define RV_PBMT_SHIFT 61
#define RV_PBMT_MASK (3ull << RV_PBMT_SHIFT)
#define RV_N        (1ull << 63)
#define RV_RWX      (RV_R | RV_W | RV_X)

#define RV_PBMT_PMA 0ull
#define RV_PBMT_NC  1ull
#define RV_PBMT_IO  2ull

/* A NAPOT entry's PPN[3:0]: 0b1000 marks a 64 KiB group */
#define RV_NAPOT_64K (8ull << RV_PPN_SHIFT)

static inline uint64_t fmt_invalid(const struct tdp_pgtable *pgt)
{
	(void)pgt;
	return 0;
}

/* Without Svvptc the hart may cache "invalid": new entries need HFENCE.GVMA too. */
static inline bool fmt_flush_on_install(const struct tdp_pgtable *pgt)
{
	return !(pgt->cfg.flags & TDP_CFG_RISCV_SVVPTC);
}

static inline bool fmt_cont_enabled(const struct tdp_pgtable *pgt)
{
	return pgt->cfg.flags & TDP_CFG_RISCV_SVNAPOT;
}

/* Entries are valid when any of these bits is set (so emptiness checks can OR whole tables). */
#define FMT_VALID_MASK RV_V

/*
 * Shared mode's "busy" entry: with V clear the hart ignores every other bit
 * (docs/formats.md §R.3); RSW bit 8 marks it.
 */
#define FMT_BUSY_BIT (1ull << 8)
/* ... and RSW bit 9 marks a busy entry frozen with the table it sits in (variant.h, frozen_val). */
#define FMT_FROZEN_BIT (1ull << 9)
/*
 * ... and bit 60 (reserved in a valid entry, ignored with V clear) a frozen
 * table entry, whose PPN stays (variant.h, frozen_table).
 */
#define FMT_FROZEN_TABLE_BIT (1ull << 60)

static inline bool pte_valid(uint64_t pte)
{
	return (pte & FMT_VALID_MASK) != 0;
}

/* R = W = X = 0 marks a pointer to the next table; level 0 holds no table. */
static inline bool pte_is_table(uint64_t pte, unsigned int l)
{
	return l > 0 && (pte & (RV_V | RV_RWX)) == RV_V;
}

static inline uint64_t rv_pte_pa(uint64_t pte)
{
	return ((pte & RV_PPN_MASK) >> RV_PPN_SHIFT) << 12;
}

static inline uint64_t pte_table_pa(uint64_t pte)
{
	return rv_pte_pa(pte);
}

static inline bool pte_is_cont(uint64_t pte, unsigned int l)
{
	return l == 0 && (pte & RV_N);
}

/* The leaf's output base; for a NAPOT entry, the base of its 64 KiB group. */
static inline uint64_t pte_leaf_pa(uint64_t pte, unsigned int l)
{
	uint64_t span = (uint64_t)1 << (12 + 9 * l);

	if (pte & RV_N)
		span = 1ull << 16;
	return rv_pte_pa(pte) & ~(span - 1);
}

/* Non-leaf entries must keep U = A = D = 0 and no PBMT/N. */
static inline uint64_t pte_mk_table(const struct tdp_pgtable *pgt, uint64_t pa)
{
	(void)pgt;
	return (pa >> 12) << RV_PPN_SHIFT | RV_V;
}

static inline uint64_t pte_mk_leaf(uint64_t tmpl, uint64_t pa, unsigned int l)
{
	(void)l;
	return tmpl | (pa >> 12) << RV_PPN_SHIFT;
}

/* The same value for all 16 entries of the group that holds pa. */
static inline uint64_t pte_mk_cont_leaf(uint64_t tmpl, uint64_t pa, unsigned int l)
{
	(void)l;
	return tmpl | RV_N | ((pa & ~0xffffull) >> 12) << RV_PPN_SHIFT | RV_NAPOT_64K;
}

/* A leaf's attributes and A/D state, for its split children (never N). */
static inline uint64_t pte_leaf_tmpl(uint64_t pte)
{
	return pte & ~(RV_PPN_MASK | RV_N);
}

static inline uint64_t rv_prot_bits(const struct tdp_pgtable *pgt, tdp_attr_t attr)
{
	uint64_t v = 0;

	if (attr & TDP_PROT_R)
		v |= RV_R;
	if (attr & TDP_PROT_W)
		v |= RV_W;
	if (attr & TDP_PROT_X)
		v |= RV_X;
	/* Svade: A (and D on writable leaves) preset, or every access faults */
	if (!(pgt->cfg.flags & TDP_CFG_RISCV_SVADU))
		v |= RV_A | ((attr & TDP_PROT_W) ? RV_D : 0);
	return v | (uint64_t)((attr & TDP_SW_MASK) >> TDP_SW_SHIFT) << RV_RSW_SHIFT;
}

static inline uint64_t fmt_attr_tmpl(const struct tdp_pgtable *pgt, tdp_attr_t attr)
{
	static const uint8_t pbmt[3] = { RV_PBMT_PMA, RV_PBMT_NC, RV_PBMT_IO };
	uint64_t v = RV_V | RV_U | rv_prot_bits(pgt, attr);

	/* without Svpbmt (PMA_MT) the PMAs decide and the field stays 0 */
	if (pgt->cfg.flags & TDP_CFG_RISCV_SVPBMT)
		v |= (uint64_t)pbmt[(attr & TDP_MT_MASK) >> TDP_MT_SHIFT] << RV_PBMT_SHIFT;
	return v;
}

/* The inverse of fmt_attr_tmpl for every attribute word attr_ok accepts. */
static inline tdp_attr_t pte_attr(uint64_t pte, unsigned int l)
{
	static const tdp_attr_t mt[4] = { TDP_MT_NORMAL_WB, TDP_MT_NORMAL_NC, TDP_MT_DEVICE,
					  TDP_MT_NORMAL_WB };
	tdp_attr_t a = 0;

	(void)l;
	a |= (pte & RV_R) ? TDP_PROT_R : 0;
	a |= (pte & RV_W) ? TDP_PROT_W : 0;
	a |= (pte & RV_X) ? TDP_PROT_X : 0;
	a |= mt[(pte & RV_PBMT_MASK) >> RV_PBMT_SHIFT];
	return a | TDP_SW((pte & RV_RSW_MASK) >> RV_RSW_SHIFT);
}

/*
 * Replace R/W/X and the software bits. Under Svade, D follows W so the new
 * permissions never fault on a write; under Svadu A and D are the hart's.
 */
static inline uint64_t pte_with_prot(const struct tdp_pgtable *pgt, uint64_t pte,
				     tdp_attr_t attr)
{
	uint64_t keep = RV_RWX | RV_RSW_MASK;

	if (!(pgt->cfg.flags & TDP_CFG_RISCV_SVADU))
		keep |= RV_A | RV_D;
	return (pte & ~keep) | rv_prot_bits(pgt, attr);
}

/* With Svadu the hart sets A and D. */
static inline bool pte_same(uint64_t old, uint64_t new)
{
	return ((old ^ new) & ~(RV_A | RV_D)) == 0;
}

/* RISC-V has no break-before-make rule: entries change in place, then HFENCE.GVMA. */
static inline bool pte_needs_bbm(uint64_t old, uint64_t new, unsigned int l)
{
	(void)old, (void)new, (void)l;
	return false;
}

/*
 * Only what a G-stage leaf can hold: no write without read (reserved
 * encoding), one execute bit, two software bits, one device type, and a
 * memory type other than PMA only with Svpbmt or when the caller lets the
 * PMAs decide.
 */
static inline bool fmt_attr_ok(const struct tdp_pgtable *pgt, tdp_attr_t attr)
{
	uint32_t f = pgt->cfg.flags;
	tdp_attr_t mt = attr & TDP_MT_MASK;

	if (!tdp__rwx_ok(attr, true, false))
		return false;
	if ((attr & TDP_SW_MASK) > TDP_SW(3) || (attr & 0xf000u))
		return false;
	if (mt > TDP_MT_DEVICE)
		return false;
	if (mt != TDP_MT_NORMAL_WB && !(f & (TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_PMA_MT)))
		return false;
	return true;
}

static inline bool fmt_prot_change_ok(const struct tdp_pgtable *pgt, tdp_attr_t clear,
				      tdp_attr_t set)
{
	/* clearing software bits the entry cannot hold is harmless; setting them is not */
	if ((set & TDP_SW_MASK) > TDP_SW(3))
		return false;
	return tdp__prot_change_ok(pgt->prot_ok, clear, set);
}

static inline bool fmt_ad_enabled(const struct tdp_pgtable *pgt)
{
	return pgt->cfg.flags & TDP_CFG_RISCV_SVADU;
}

/* The flags the hart sets (with Svadu), as they sit in an entry. */
#define FMT_AD_MASK (RV_A | RV_D)

static inline bool pte_young(uint64_t pte)
{
	return pte & RV_A;
}

static inline uint64_t pte_mkold(uint64_t pte)
{
	return pte & ~RV_A;
}

static inline bool pte_dirty(uint64_t pte)
{
	return pte & RV_D;
}

static inline uint64_t pte_mkclean(uint64_t pte)
{
	return pte & ~RV_D;
}

#endif
