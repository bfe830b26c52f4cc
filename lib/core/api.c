/* SPDX-License-Identifier: MIT */
/*
 * Public entry points: validate every argument, then make the one indirect
 * call into the table's compiled format variant.
 */
#include "core/budget.h"
#include "core/formats.h"
#include "core/mem.h"
#include "core/range.h"
#include "core/refuse.h"

/*
 * VCALL(pgt, op, args...): op of the table's variant.
 * - One variant built: this file is compiled after the variant itself
 *   (api_single.c), and FMT_OPS, a constant table in view, becomes direct
 *   calls the compiler may inline.
 * - arm64 alone with several granules: a direct call chosen by granule.
 * - Otherwise: one indirect call through the table's dispatch table.
 */
#if defined(TDP_SINGLE_VARIANT)
#define VCALL(pgt, op, ...) (FMT_OPS.op(__VA_ARGS__))
#elif TDP_HAVE_ARM64 && !TDP_HAVE_X86 && !TDP_HAVE_RISCV
#if TDP_HAVE_ARM64_4K
#define VCALL_4K(pgt, op, ...) (pgt)->geo.page_shift == 12 ? TDP_ARM64_4K(op)(__VA_ARGS__) :
#else
#define VCALL_4K(pgt, op, ...)
#endif
#if TDP_HAVE_ARM64_16K && TDP_HAVE_ARM64_64K
#define VCALL(pgt, op, ...)                                                          \
	(VCALL_4K(pgt, op, __VA_ARGS__)(pgt)->geo.page_shift == 14 ?                 \
		TDP_ARM64_16K(op)(__VA_ARGS__) : TDP_ARM64_64K(op)(__VA_ARGS__))
#elif TDP_HAVE_ARM64_16K
#define VCALL(pgt, op, ...) (VCALL_4K(pgt, op, __VA_ARGS__) TDP_ARM64_16K(op)(__VA_ARGS__))
#else
#define VCALL(pgt, op, ...) (VCALL_4K(pgt, op, __VA_ARGS__) TDP_ARM64_64K(op)(__VA_ARGS__))
#endif
#else
#define VCALL(pgt, op, ...) ((pgt)->fops->op(__VA_ARGS__))
#endif

static bool pgt_ok(const struct tdp_pgtable *pgt)
{
	return pgt && pgt->fops;
}

static uint64_t page_mask(const struct tdp_pgtable *pgt)
{
	return (1ull << pgt->geo.page_shift) - 1;
}

#define check_in tdp__range_refusal

/* The checks return packed refusals (core/refuse.h); the entry points report them. */
static inline int check_out(const struct tdp_pgtable *pgt, uint64_t hpa, uint64_t size)
{
	if (hpa & page_mask(pgt))
		return REFUSAL(TDP_EINVAL, TDP_REASON_HPA_ALIGN);
	if (hpa + size < hpa || hpa + size > (1ull << pgt->cfg.oa_bits))
		return REFUSAL(TDP_ERANGE, TDP_REASON_HPA_RANGE);
	return 0;
}

/* A NULL argument of a call on a valid table. */
#define REFUSE_NULL(pgt) REFUSE(&(pgt)->cfg, TDP_EINVAL, TDP_REASON_NULL)

/*
 * Bits 12..15 carry format-specific attributes; the format's map decides
 * about them (and about every combination) itself.
 */
#define ATTR_FMT_MASK 0xf000u
#define ATTR_KNOWN    (TDP_PROT_MASK | TDP_MT_MASK | TDP_SW_MASK | ATTR_FMT_MASK)

/*
 * A structure assignment, spelt out: compilers turn large ones into memcpy
 * calls, which a freestanding library cannot make.
 */
static void copy_config(struct tdp_config *dst, const struct tdp_config *src)
{
	unsigned char *d = (unsigned char *)dst;
	const unsigned char *s = (const unsigned char *)src;

	for (size_t i = 0; i < sizeof(*dst); i++)
		d[i] = s[i];
}

#if TDP_HAVE_ARM64
/* The compiled arm64 variant of a granule (tdp__arm64_init refused the others). */
static const struct tdp_fmt_ops *arm64_variant(unsigned int page_shift)
{
	switch (page_shift) {
#if TDP_HAVE_ARM64_4K
	case 12: return &tdp__arm64_4k_fops;
#endif
#if TDP_HAVE_ARM64_16K
	case 14: return &tdp__arm64_16k_fops;
#endif
#if TDP_HAVE_ARM64_64K
	case 16: return &tdp__arm64_64k_fops;
#endif
	default: return NULL;
	}
}
#endif

int tdp_pgtable_init(struct tdp_pgtable *pgt, const struct tdp_config *cfg)
{
	const struct tdp_fmt_ops *fops = NULL;
	struct tdp_geometry geo = { 0 };
	const struct tdp_mm_ops *mm;
	int ret;

	if (!cfg)
		return -TDP_EINVAL;
	if (!pgt)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_NULL);
	mm = cfg->mm;
	if (!mm || !mm->zalloc_table || !mm->free_table || !cfg->tlb || !cfg->tlb->flush_range ||
	    !cfg->tlb->flush_all || !mm->virt_to_phys != !mm->phys_to_virt)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_OPS);
	/* bits 16.. are the format-neutral modes; the format checks its own */
	if (cfg->flags & ~(TDP_CFG_FORMAT_MASK | TDP_CFG_SHARED))
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_FLAGS);
	if ((cfg->flags & TDP_CFG_SHARED) && !mm->defer_free_table)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_SHARED);
	if (cfg->changes && !cfg->changes->leaf_changed)
		return REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_CHANGES);
	switch (cfg->format) {
#if TDP_HAVE_ARM64
	case TDP_FORMAT_ARM64_S2:
		ret = tdp__arm64_init(cfg, &geo);
		fops = arm64_variant(geo.page_shift);
		break;
#endif
#if TDP_HAVE_X86
	case TDP_FORMAT_X86_EPT:
		ret = tdp__x86_init(cfg, &geo);
		fops = &tdp__x86_ept_fops;
		break;
#endif
#if TDP_HAVE_RISCV
	case TDP_FORMAT_RISCV_G:
		ret = tdp__riscv_init(cfg, &geo);
		fops = &tdp__riscv_g_fops;
		break;
#endif
	default:
		ret = REFUSE(cfg, TDP_EINVAL, TDP_REASON_CFG_FORMAT);
		break;
	}
	if (ret)
		return ret;

	pgt->fops = NULL;
	copy_config(&pgt->cfg, cfg);
	pgt->geo = geo;
	pgt->root = mm->zalloc_table(cfg->mm_ctx, geo.root_size);
	if (!pgt->root)
		return REFUSE(cfg, TDP_ENOMEM, TDP_REASON_ALLOC);
	pgt->root_pa = tdp_va_to_pa(pgt, pgt->root);
	/* The hardware needs the root aligned to its size and addressable. */
	if ((pgt->root_pa & (geo.root_size - 1)) ||
	    pgt->root_pa + geo.root_size > (1ull << cfg->oa_bits)) {
		mm->free_table(cfg->mm_ctx, pgt->root, geo.root_size);
		pgt->root = NULL;
		return REFUSE(cfg, TDP_ERANGE, TDP_REASON_ROOT_ADDRESS);
	}
	pgt->fops = fops;
	VCALL(pgt, prepare, pgt);
	return 0;
}

int tdp_pgtable_destroy(struct tdp_pgtable *pgt)
{
	if (!pgt_ok(pgt))
		return -TDP_EINVAL;
	VCALL(pgt, destroy, pgt);
	pgt->fops = NULL;
	pgt->root = NULL;
	return 0;
}

int tdp_free_unlinked(const struct tdp_pgtable *pgt, void *table, unsigned int level)
{
	if (!pgt_ok(pgt))
		return -TDP_EINVAL;
	if (!table)
		return REFUSE_NULL(pgt);
	if (level + 1 >= pgt->geo.levels)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_LEVEL);
	VCALL(pgt, free_unlinked, pgt, table, level);
	return 0;
}

uint64_t tdp_level_size(const struct tdp_pgtable *pgt, unsigned int level)
{
	if (!pgt_ok(pgt) || level >= pgt->geo.levels)
		return 0;
	return 1ull << geo_shift(&pgt->geo, level);
}

uint64_t tdp_page_size(const struct tdp_pgtable *pgt)
{
	return pgt_ok(pgt) ? 1ull << pgt->geo.page_shift : 0;
}

static inline __attribute__((always_inline)) int check_map(const struct tdp_pgtable *pgt,
							  uint64_t gpa, uint64_t hpa,
							  uint64_t size, uint32_t flags)
{
	int ret = check_in(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	if (flags & ~(TDP_MAP_NOREPLACE | TDP_MAP_MAX_LEVEL_MASK))
		return REFUSAL(TDP_EINVAL, TDP_REASON_FLAGS);
	return check_out(pgt, hpa, size);
}

int tdp_map(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t hpa, uint64_t size, tdp_attr_t attr,
	    uint32_t flags, struct tdp_memcache *mc)
{
	int ret = check_map(pgt, gpa, hpa, size, flags);

	if (ret)
		return refuse(pgt, ret);
	if (attr & ~ATTR_KNOWN)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_ATTR_UNKNOWN);
	return VCALL(pgt, map, pgt, gpa, hpa, size, attr, flags, mc);
}

int tdp_map_fault(struct tdp_pgtable *pgt, uint64_t fault_gpa, const struct tdp_fault_region *rg,
		  tdp_attr_t attr, uint32_t flags, struct tdp_memcache *mc,
		  struct tdp_fault_result *res)
{
	int ret;

	if (!pgt_ok(pgt))
		return -TDP_EINVAL;
	if (!rg || !mc || !res)
		return REFUSE_NULL(pgt);
	if (flags & ~TDP_MAP_MAX_LEVEL_MASK)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_FLAGS);
	if (attr & ~ATTR_KNOWN)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_ATTR_UNKNOWN);
	ret = check_in(pgt, rg->gpa, rg->size);
	if (!ret)
		ret = check_out(pgt, rg->hpa, rg->size);
	if (ret)
		return refuse(pgt, ret);
	/* below the region wraps round to a large offset */
	if (fault_gpa - rg->gpa >= rg->size)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_FAULT_OUTSIDE);
	return VCALL(pgt, fault, pgt, fault_gpa, rg, attr, flags, mc, res);
}

long tdp_map_fault_pages_needed(const struct tdp_pgtable *pgt)
{
	return pgt_ok(pgt) ? (long)pgt->geo.levels - 1 : -TDP_EINVAL;
}

int tdp_unmap(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, struct tdp_memcache *mc)
{
	int ret = check_in(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	return VCALL(pgt, unmap, pgt, gpa, size, mc);
}

int tdp_zap(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, uint64_t budget,
	    struct tdp_zap_result *res)
{
	int ret = check_in(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	if (!res)
		return REFUSE_NULL(pgt);
	return VCALL(pgt, zap, pgt, gpa, size, budget, res);
}

int tdp_split(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, unsigned int target_level,
	      struct tdp_memcache *mc)
{
	int ret = check_in(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	if (target_level >= pgt->geo.levels)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_LEVEL);
	return VCALL(pgt, split, pgt, gpa, size, target_level, mc);
}

int tdp_protect(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, tdp_attr_t clear,
		tdp_attr_t set, struct tdp_memcache *mc)
{
	const tdp_attr_t allowed = TDP_PROT_MASK | TDP_SW_MASK;
	int ret = check_in(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	if ((clear | set) & ~allowed)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_ATTR_UNKNOWN);
	if (!VCALL(pgt, prot_change_ok, pgt, clear, set))
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_PROTECT_MASK);
	return VCALL(pgt, protect, pgt, gpa, size, clear, set, mc);
}

int tdp_test_clear_young(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, bool *young)
{
	int ret = check_in(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	if (!young)
		return REFUSE_NULL(pgt);
	return VCALL(pgt, young, pgt, gpa, size, young);
}

int tdp_collect_dirty(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, uint64_t *bitmap)
{
	int ret = check_in(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	if (!bitmap)
		return REFUSE_NULL(pgt);
	return VCALL(pgt, dirty, pgt, gpa, size, bitmap);
}

int tdp_lookup(const struct tdp_pgtable *pgt, uint64_t gpa, struct tdp_lookup_result *res)
{
	if (!pgt_ok(pgt))
		return -TDP_EINVAL;
	if (!res)
		return REFUSE_NULL(pgt);
	if (gpa >= (1ull << pgt->cfg.ia_bits))
		return REFUSE(&pgt->cfg, TDP_ERANGE, TDP_REASON_GPA_RANGE);
	return VCALL(pgt, lookup, pgt, gpa, res);
}

int tdp_walk(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, unsigned int visits,
	     tdp_walk_fn fn, void *arg)
{
	const unsigned int all = TDP_WALK_LEAF | TDP_WALK_TABLE_PRE | TDP_WALK_TABLE_POST |
				 TDP_WALK_INVALID;
	int ret = check_in(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	if (!fn)
		return REFUSE_NULL(pgt);
	if (!(visits & all) || (visits & ~all))
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_FLAGS);
	return VCALL(pgt, walk, pgt, gpa, size, visits, fn, arg);
}

int tdp_iter_start(struct tdp_iter *it, const struct tdp_pgtable *pgt, uint64_t start,
		   uint64_t end, unsigned int min_level)
{
	if (!pgt_ok(pgt))
		return -TDP_EINVAL;
	if (!it)
		return REFUSE_NULL(pgt);
	if (start >= end)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_EMPTY_RANGE);
	if (min_level >= pgt->geo.levels)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_LEVEL);
	if (end > (1ull << pgt->cfg.ia_bits))
		return REFUSE(&pgt->cfg, TDP_ERANGE, TDP_REASON_GPA_RANGE);
	VCALL(pgt, iter_start, it, pgt, start, end, min_level);
	return 0;
}

void tdp_iter_next(struct tdp_iter *it)
{
	if (it && it->valid)
		VCALL(it->pgt, iter_next, it);
}

void tdp_iter_restart(struct tdp_iter *it)
{
	if (it && it->valid)
		VCALL(it->pgt, iter_restart, it);
}

void tdp_iter_entry(const struct tdp_iter *it, struct tdp_entry *e)
{
	if (it && e && it->valid)
		VCALL(it->pgt, iter_entry, it, e);
}

long tdp_map_pages_needed(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t hpa,
			  uint64_t size, uint32_t flags)
{
	int ret = check_map(pgt, gpa, hpa, size, flags);

	return ret ? refuse(pgt, ret) : (long)geo_map_need(&pgt->geo, gpa, hpa, size, flags);
}

long tdp_unmap_pages_needed(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size)
{
	int ret = check_in(pgt, gpa, size);

	return ret ? refuse(pgt, ret) : (long)geo_edge_need(&pgt->geo, gpa, size);
}

long tdp_protect_pages_needed(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size)
{
	return tdp_unmap_pages_needed(pgt, gpa, size);
}

long tdp_split_pages_needed(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size,
			    unsigned int target_level)
{
	int ret = check_in(pgt, gpa, size);

	if (ret)
		return refuse(pgt, ret);
	if (target_level >= pgt->geo.levels)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_LEVEL);
	return (long)geo_split_need(&pgt->geo, gpa, size, target_level);
}
