/* SPDX-License-Identifier: MIT */
/*
 * Intel EPT entries: the only place their bits are known.
 * Sources: docs/formats.md §E.1-§E.7.
 */
#ifndef TDP_ARCH_X86_PTE_H
#define TDP_ARCH_X86_PTE_H

#include <tdp/x86.h>

#include "arch/prot_rules.h"

#define FMT_PAGE_SHIFT 12
#define FMT_BITS       9
#define FMT_HAS_AD           1
#define FMT_CONT_BITS        0

#define EPT_R        (1ull << 0)
#define EPT_W        (1ull << 1)
#define EPT_X        (1ull << 2)  /* supervisor execute with MBEC */
#define EPT_EMT(t)   ((uint64_t)(t) << 3)
#define EPT_EMT_MASK (7ull << 3)
#define EPT_IPAT     (1ull << 6)
#define EPT_LEAF     (1ull << 7)  /* PDPTE/PDE: a 1 GiB / 2 MiB page */
#define EPT_A        (1ull << 8)
#define EPT_D        (1ull << 9)
#define EPT_XU       (1ull << 10) /* user execute with MBEC; ignored without */
#define EPT_SW_SHIFT 52
#define EPT_SW_MASK  (0xfull << EPT_SW_SHIFT)
#define EPT_SVE      (1ull << 63) /* suppress #VE */
#define EPT_ADDR     0x000ffffffffff000ull /* bits 51:12 */
#define EPT_PRESENT  (EPT_R | EPT_W | EPT_X | EPT_XU)

#define EPT_MT_UC 0u
#define EPT_MT_WC 1u
#define EPT_MT_WB 6u

/*
 * not-present -> present needs no INVEPT: the CPU does not keep not-present
 * translations, and an EPT violation drops what it had for the address
 * (docs/formats.md §E.7).
 */
static inline bool fmt_flush_on_install(const struct tdp_pgtable *pgt)
{
	(void)pgt;
	return false;
}

static inline uint64_t fmt_invalid(const struct tdp_pgtable *pgt)
{
	return (pgt->cfg.flags & TDP_CFG_X86_SVE) ? EPT_SVE : 0;
}

/*
 * Present when any permission bit is set. Bit 10 only counts with MBEC, but
 * libtdp never sets it without setting bit 2 as well (see fmt_attr_tmpl),
 * so testing it always is exact for every entry the library writes.
 */
/* Entries are valid when any of these bits is set (so emptiness checks can OR whole tables). */
#define FMT_VALID_MASK EPT_PRESENT

/*
 * Shared mode's "busy" entry: bits 2:0 (and 10) clear make it not present,
 * and the CPU ignores bit 11 of such an entry (docs/formats.md §E.2); the suppress-#VE bit
 * of fmt_invalid is kept.
 */
#define FMT_BUSY_BIT (1ull << 11)
/*
 * ... and bit 62, also ignored in a not-present entry (docs/formats.md §E.2: b[62:3]), marks
 * a busy entry frozen with the table it sits in (variant.h, frozen_val).
 */
#define FMT_FROZEN_BIT (1ull << 62)
/* ... and bit 61 a frozen table entry, whose address bits stay (variant.h, frozen_table). */
#define FMT_FROZEN_TABLE_BIT (1ull << 61)

static inline bool pte_valid(uint64_t pte)
{
	return (pte & FMT_VALID_MASK) != 0;
}

static inline bool pte_is_table(uint64_t pte, unsigned int l)
{
	return l > 0 && pte_valid(pte) && !(pte & EPT_LEAF);
}

static inline uint64_t pte_table_pa(uint64_t pte)
{
	return pte & EPT_ADDR;
}

static inline uint64_t pte_leaf_pa(uint64_t pte, unsigned int l)
{
	return pte & EPT_ADDR & ~(((uint64_t)1 << (12 + 9 * l)) - 1);
}

/* Permissions AND along the walk, so a table entry grants everything. */
static inline uint64_t pte_mk_table(const struct tdp_pgtable *pgt, uint64_t pa)
{
	(void)pgt;
	return pa | EPT_R | EPT_W | EPT_X | EPT_XU;
}

static inline uint64_t pte_mk_leaf(uint64_t tmpl, uint64_t pa, unsigned int l)
{
	return tmpl | pa | (l ? EPT_LEAF : 0);
}

/* A leaf's attributes and A/D state, for its split children. */
static inline uint64_t pte_leaf_tmpl(uint64_t pte)
{
	return pte & ~(EPT_ADDR | EPT_LEAF);
}

static inline uint64_t ept_prot_bits(tdp_attr_t attr)
{
	uint64_t v = 0;

	if (attr & TDP_PROT_R)
		v |= EPT_R;
	if (attr & TDP_PROT_W)
		v |= EPT_W;
	/*
	 * XP in bit 2, XU in bit 10. Without MBEC both are equal (attr_ok),
	 * and bit 10, ignored by the CPU then, keeps the decoding uniform.
	 */
	if (attr & TDP_PROT_XP)
		v |= EPT_X;
	if (attr & TDP_PROT_XU)
		v |= EPT_XU;
	return v | (uint64_t)((attr & TDP_SW_MASK) >> TDP_SW_SHIFT) << EPT_SW_SHIFT;
}

/*
 * Memory type (attr's TDP_X86_EMT, else the neutral type): WB -> 6, NC ->
 * WC (1), DEVICE -> UC (0), DEVICE_STRICT -> UC with IPAT (UC whatever the
 * guest's PAT says). IPAT from TDP_X86_IPAT otherwise.
 */
static inline uint64_t ept_memtype_bits(tdp_attr_t attr)
{
	static const uint8_t neutral[4] = { EPT_MT_WB, EPT_MT_WC, EPT_MT_UC, EPT_MT_UC };
	uint64_t ipat = (attr & TDP_X86_IPAT) ? EPT_IPAT : 0;

	if (attr & TDP_X86_EMT_MASK)
		return EPT_EMT(((attr & TDP_X86_EMT_MASK) >> 12) - 1) | ipat;
	if ((attr & TDP_MT_MASK) == TDP_MT_DEVICE_STRICT)
		ipat = EPT_IPAT;
	return EPT_EMT(neutral[(attr & TDP_MT_MASK) >> TDP_MT_SHIFT]) | ipat;
}

static inline uint64_t fmt_attr_tmpl(const struct tdp_pgtable *pgt, tdp_attr_t attr)
{
	(void)pgt;
	return ept_prot_bits(attr) | ept_memtype_bits(attr);
}

/* The inverse of fmt_attr_tmpl: every attribute word attr_ok accepts round-trips. */
static inline tdp_attr_t pte_attr(uint64_t pte, unsigned int l)
{
	unsigned int emt = (unsigned int)((pte & EPT_EMT_MASK) >> 3);
	bool ipat = pte & EPT_IPAT;
	tdp_attr_t a = 0;

	(void)l;
	a |= (pte & EPT_R) ? TDP_PROT_R : 0;
	a |= (pte & EPT_W) ? TDP_PROT_W : 0;
	a |= (pte & EPT_X) ? TDP_PROT_XP : 0;
	a |= (pte & EPT_XU) ? TDP_PROT_XU : 0;
	if (emt == EPT_MT_WB)
		a |= TDP_MT_NORMAL_WB | (ipat ? TDP_X86_IPAT : 0);
	else if (emt == EPT_MT_WC)
		a |= TDP_MT_NORMAL_NC | (ipat ? TDP_X86_IPAT : 0);
	else if (emt == EPT_MT_UC)
		a |= ipat ? TDP_MT_DEVICE_STRICT : TDP_MT_DEVICE;
	else
		a |= TDP_X86_EMT(emt) | (ipat ? TDP_X86_IPAT : 0);
	return a | TDP_SW((pte & EPT_SW_MASK) >> EPT_SW_SHIFT);
}

static inline uint64_t pte_with_prot(const struct tdp_pgtable *pgt, uint64_t pte,
				     tdp_attr_t attr)
{
	(void)pgt;
	return (pte & ~(EPT_R | EPT_W | EPT_X | EPT_XU | EPT_SW_MASK)) | ept_prot_bits(attr);
}

/* The CPU sets A and D. */
static inline bool pte_same(uint64_t old, uint64_t new)
{
	return ((old ^ new) & ~(EPT_A | EPT_D)) == 0;
}

/* EPT has no break-before-make rule: entries change in place, then INVEPT. */
static inline bool pte_needs_bbm(uint64_t old, uint64_t new, unsigned int l)
{
	(void)old, (void)new, (void)l;
	return false;
}

/*
 * What the CPU would take as a misconfiguration never reaches a table:
 * write without read, nothing at all (not present), execute-only without the
 * capability, a user/supervisor split without MBEC, reserved or redundant
 * memory-type spellings.
 */
static inline bool fmt_attr_ok(const struct tdp_pgtable *pgt, tdp_attr_t attr)
{
	uint32_t f = pgt->cfg.flags;
	tdp_attr_t emt = (attr & TDP_X86_EMT_MASK) >> 12;

	if (!tdp__rwx_ok(attr, f & TDP_CFG_X86_EXEC_ONLY, f & TDP_CFG_X86_MBEC))
		return false;
	if ((attr & TDP_MT_MASK) > TDP_MT_DEVICE_STRICT)
		return false;
	/* explicit types only for those without a neutral spelling: WT, WP */
	if (emt && ((emt - 1 != 4 && emt - 1 != 5) || (attr & TDP_MT_MASK)))
		return false;
	/* UC with IPAT is spelt TDP_MT_DEVICE_STRICT */
	if ((attr & TDP_X86_IPAT) && (attr & TDP_MT_MASK) >= TDP_MT_DEVICE)
		return false;
	return true;
}

/* A protect must give a valid entry for every leaf it may meet. */
static inline bool fmt_prot_change_ok(const struct tdp_pgtable *pgt, tdp_attr_t clear,
				      tdp_attr_t set)
{
	return tdp__prot_change_ok(pgt->prot_ok, clear, set);
}

static inline bool fmt_ad_enabled(const struct tdp_pgtable *pgt)
{
	return pgt->cfg.flags & TDP_CFG_X86_AD;
}

/* The flags the CPU sets (with EPT A/D), as they sit in an entry. */
#define FMT_AD_MASK (EPT_A | EPT_D)

static inline bool pte_young(uint64_t pte)
{
	return pte & EPT_A;
}

static inline uint64_t pte_mkold(uint64_t pte)
{
	return pte & ~EPT_A;
}

static inline bool pte_dirty(uint64_t pte)
{
	return pte & EPT_D;
}

static inline uint64_t pte_mkclean(uint64_t pte)
{
	return pte & ~EPT_D;
}

#endif
