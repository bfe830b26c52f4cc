/* SPDX-License-Identifier: MIT */
/*
 * arm64 stage-2 descriptors (VMSAv8-64): the only place their bits are known.
 * Sources: docs/formats.md §A.2-§A.5.
 *
 * The includer defines ARM64_GRANULE_SHIFT (12, 14 or 16); every helper is
 * static inline so the core compiled against it has constant shifts.
 */
#ifndef TDP_ARCH_ARM64_PTE_H
#define TDP_ARCH_ARM64_PTE_H

#include <tdp/arm64.h>

#include "arch/prot_rules.h"

#ifndef ARM64_GRANULE_SHIFT
#error "define ARM64_GRANULE_SHIFT before including arm64/pte.h"
#endif

#define FMT_PAGE_SHIFT       ARM64_GRANULE_SHIFT
#define FMT_BITS             (ARM64_GRANULE_SHIFT - 3)
/* AF/DBM harvesting (VTCR_EL2.HA/HD) is not supported yet: A/D calls give -EOPNOTSUPP. */
#define FMT_HAS_AD           0
/* The contiguous hint is not used: no groups of entries. */
#define FMT_CONT_BITS        0

#define A64_VALID        (1ull << 0)
#define A64_TABLE_PAGE   (1ull << 1) /* table above level 3, page at level 3; 0 = block */
#define A64_MEMATTR(v)   ((uint64_t)(v) << 2)
#define A64_MEMATTR_MASK (0xfull << 2)
#define A64_S2AP_R       (1ull << 6)
#define A64_S2AP_W       (1ull << 7)
#define A64_SH_MASK      (3ull << 8)
#define A64_SH_INNER     (3ull << 8)
#define A64_AF           (1ull << 10)
#define A64_XN0          (1ull << 53) /* FEAT_XNX: with XN1 selects EL1/EL0 */
#define A64_XN1          (1ull << 54)
#define A64_XN_MASK      (A64_XN0 | A64_XN1)
#define A64_SW_SHIFT     55
#define A64_SW_MASK      (0xfull << A64_SW_SHIFT)

/* MemAttr[3:0] with HCR_EL2.FWB = 0 (docs/formats.md §A.4). */
#define A64_MEMATTR_WB       0xfu /* Normal, inner+outer write-back */
#define A64_MEMATTR_NC       0x5u /* Normal, inner+outer non-cacheable */
#define A64_MEMATTR_DEV      0x1u /* Device-nGnRE */
#define A64_MEMATTR_DEV_NGNRNE 0x0u

/*
 * Output address bits 47:G. With the 64K granule and a 52-bit PA
 * (FEAT_LPA), PA[51:48] sits in descriptor bits 15:12 (docs/formats.md §A.3).
 */
#define A64_OA_MASK (((1ull << 48) - 1) & ~((1ull << ARM64_GRANULE_SHIFT) - 1))
#if ARM64_GRANULE_SHIFT == 16
#define A64_OA_HI_MASK (0xfull << 12)
static inline uint64_t a64_oa_enc(uint64_t pa)
{
	return (pa & A64_OA_MASK) | (((pa >> 48) & 0xf) << 12);
}
static inline uint64_t a64_oa_dec(uint64_t pte)
{
	return (pte & A64_OA_MASK) | (((pte >> 12) & 0xf) << 48);
}
#else
#define A64_OA_HI_MASK 0ull
static inline uint64_t a64_oa_enc(uint64_t pa)
{
	return pa & A64_OA_MASK;
}
static inline uint64_t a64_oa_dec(uint64_t pte)
{
	return pte & A64_OA_MASK;
}
#endif
#define A64_ADDR_BITS (A64_OA_MASK | A64_OA_HI_MASK)

static inline uint64_t fmt_invalid(const struct tdp_pgtable *pgt)
{
	(void)pgt;
	return 0;
}

/* invalid -> valid needs no TLBI (docs/formats.md §A.9) */
static inline bool fmt_flush_on_install(const struct tdp_pgtable *pgt)
{
	(void)pgt;
	return false;
}

/* Entries are valid when any of these bits is set (so emptiness checks can OR whole tables). */
#define FMT_VALID_MASK A64_VALID

/*
 * Shared mode's "busy" entry: with bit 0 clear the descriptor is invalid and
 * the hardware ignores bits 63:1 (docs/formats.md §A.2), so any of them can mark it.
 */
#define FMT_BUSY_BIT (1ull << 58)
/* ... and bit 57 marks a busy entry frozen with the table it sits in (variant.h, frozen_val). */
#define FMT_FROZEN_BIT (1ull << 57)
/* ... and bit 56 a frozen table entry, whose address bits stay (variant.h, frozen_table). */
#define FMT_FROZEN_TABLE_BIT (1ull << 56)

static inline bool pte_valid(uint64_t pte)
{
	return (pte & FMT_VALID_MASK) != 0;
}

static inline bool pte_is_table(uint64_t pte, unsigned int l)
{
	return l > 0 && (pte & (A64_VALID | A64_TABLE_PAGE)) == (A64_VALID | A64_TABLE_PAGE);
}

static inline uint64_t pte_table_pa(uint64_t pte)
{
	return a64_oa_dec(pte);
}

static inline uint64_t pte_leaf_pa(uint64_t pte, unsigned int l)
{
	(void)l;
	return a64_oa_dec(pte);
}

static inline uint64_t pte_mk_table(const struct tdp_pgtable *pgt, uint64_t pa)
{
	(void)pgt;
	return a64_oa_enc(pa) | A64_TABLE_PAGE | A64_VALID;
}

static inline uint64_t pte_mk_leaf(uint64_t tmpl, uint64_t pa, unsigned int l)
{
	return tmpl | a64_oa_enc(pa) | (l == 0 ? A64_TABLE_PAGE : 0) | A64_VALID;
}

static inline uint64_t pte_leaf_tmpl(uint64_t pte)
{
	return pte & ~(A64_ADDR_BITS | A64_TABLE_PAGE | A64_VALID);
}

/* Permission and software bits of a leaf. */
static inline uint64_t a64_prot_bits(tdp_attr_t attr)
{
	uint64_t v = 0;

	if (attr & TDP_PROT_R)
		v |= A64_S2AP_R;
	if (attr & TDP_PROT_W)
		v |= A64_S2AP_W;
	/*
	 * XN[1:0] (docs/formats.md §A.4): 00 both levels execute, 01 EL0 only, 10 none,
	 * 11 EL1 only. Without FEAT_XNX only XN1 is used (XP == XU there).
	 */
	switch (attr & TDP_PROT_X) {
	case TDP_PROT_X:
		break;
	case TDP_PROT_XU:
		v |= A64_XN0;
		break;
	case TDP_PROT_XP:
		v |= A64_XN0 | A64_XN1;
		break;
	default:
		v |= A64_XN1;
		break;
	}
	v |= (uint64_t)((attr & TDP_SW_MASK) >> TDP_SW_SHIFT) << A64_SW_SHIFT;
	return v;
}

static inline uint64_t fmt_attr_tmpl(const struct tdp_pgtable *pgt, tdp_attr_t attr)
{
	static const uint8_t memattr[4] = { A64_MEMATTR_WB, A64_MEMATTR_NC, A64_MEMATTR_DEV,
					    A64_MEMATTR_DEV_NGNRNE };

	(void)pgt;
	return a64_prot_bits(attr) | A64_MEMATTR(memattr[(attr & TDP_MT_MASK) >> TDP_MT_SHIFT]) |
	       A64_SH_INNER | A64_AF;
}

static inline tdp_attr_t pte_attr(uint64_t pte, unsigned int l)
{
	tdp_attr_t a = 0;

	(void)l;
	if (pte & A64_S2AP_R)
		a |= TDP_PROT_R;
	if (pte & A64_S2AP_W)
		a |= TDP_PROT_W;
	switch (pte & A64_XN_MASK) {
	case 0:
		a |= TDP_PROT_X;
		break;
	case A64_XN0:
		a |= TDP_PROT_XU;
		break;
	case A64_XN0 | A64_XN1:
		a |= TDP_PROT_XP;
		break;
	default:
		break;
	}
	switch ((pte & A64_MEMATTR_MASK) >> 2) {
	case A64_MEMATTR_WB:
		a |= TDP_MT_NORMAL_WB;
		break;
	case A64_MEMATTR_NC:
		a |= TDP_MT_NORMAL_NC;
		break;
	case A64_MEMATTR_DEV:
		a |= TDP_MT_DEVICE;
		break;
	default:
		a |= TDP_MT_DEVICE_STRICT;
		break;
	}
	a |= TDP_SW((pte & A64_SW_MASK) >> A64_SW_SHIFT);
	return a;
}

static inline uint64_t pte_with_prot(const struct tdp_pgtable *pgt, uint64_t pte,
				     tdp_attr_t attr)
{
	(void)pgt;
	return (pte & ~(A64_S2AP_R | A64_S2AP_W | A64_XN_MASK | A64_SW_MASK)) | a64_prot_bits(attr);
}

/* The access flag is the one bit the hardware may set (VTCR_EL2.HA). */
static inline bool pte_same(uint64_t old, uint64_t new)
{
	return ((old ^ new) & ~A64_AF) == 0;
}

/*
 * Break-before-make (docs/formats.md §A.10): a valid entry whose output address, kind
 * (table/block/page) or memory attributes change must go invalid and be
 * invalidated before the new value is written. Permission, access-flag and
 * software-bit changes are made in place.
 */
static inline bool pte_needs_bbm(uint64_t old, uint64_t new, unsigned int l)
{
	if (!pte_valid(old) || !pte_valid(new))
		return false;
	if (pte_is_table(old, l) != pte_is_table(new, l))
		return true;
	return ((old ^ new) & (A64_ADDR_BITS | A64_MEMATTR_MASK | A64_SH_MASK)) != 0;
}

static inline bool fmt_attr_ok(const struct tdp_pgtable *pgt, tdp_attr_t attr)
{
	tdp_attr_t x = attr & TDP_PROT_X;

	/* no arm64-specific attribute bits (12..15) exist */
	if ((attr & 0xf000u) || (attr & TDP_MT_MASK) > TDP_MT_DEVICE_STRICT)
		return false;
	return (pgt->cfg.flags & TDP_CFG_ARM64_XNX) || x == 0 || x == TDP_PROT_X;
}

static inline bool fmt_prot_change_ok(const struct tdp_pgtable *pgt, tdp_attr_t clear,
				      tdp_attr_t set)
{
	/*
	 * Every permission set is valid with XNX; without it XP and XU must
	 * agree in every result (clear = XP with set = XP is a no-op, fine).
	 */
	return tdp__prot_change_ok(pgt->prot_ok, clear, set);
}

#endif
