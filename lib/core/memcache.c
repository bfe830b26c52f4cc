/* SPDX-License-Identifier: MIT */
/* The memory cache: a stack of zeroed table pages linked through their first word. */
#include "core/mem.h"
#include "core/refuse.h"

void tdp_memcache_init(struct tdp_memcache *mc)
{
	if (!mc)
		return;
	mc->head = NULL;
	mc->nr = 0;
	mc->page_size = 0;
}

/* Tables must sit where the hardware can address them. */
static bool table_pa_ok(const struct tdp_pgtable *pgt, uint64_t pa, size_t size)
{
	return (pa & (size - 1)) == 0 && pa + size <= (1ull << pgt->cfg.oa_bits);
}

static __attribute__((noinline)) int topup_slow(const struct tdp_pgtable *pgt,
						struct tdp_memcache *mc, size_t min)
{
	size_t sz;

	if (!pgt || !pgt->fops)
		return -TDP_EINVAL;
	if (!mc)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_NULL);
	sz = pgt->geo.table_size;
	if (mc->page_size && mc->page_size != sz)
		return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_CACHE_SIZE);
	mc->page_size = sz;
	while (mc->nr < min) {
		void **page = pgt->cfg.mm->zalloc_table(pgt->cfg.mm_ctx, sz);

		if (!page)
			return REFUSE(&pgt->cfg, TDP_ENOMEM, TDP_REASON_ALLOC);
		if (!table_pa_ok(pgt, tdp_va_to_pa(pgt, page), sz)) {
			pgt->cfg.mm->free_table(pgt->cfg.mm_ctx, page, sz);
			return REFUSE(&pgt->cfg, TDP_ERANGE, TDP_REASON_TABLE_ADDRESS);
		}
		*page = mc->head;
		mc->head = page;
		mc->nr++;
	}
	return 0;
}

int tdp_memcache_topup(const struct tdp_pgtable *pgt, struct tdp_memcache *mc, size_t min)
{
	/* a fault path tops up before every map: make "already enough" cheap */
	if (pgt && mc && pgt->fops && mc->nr >= min && mc->page_size == pgt->geo.table_size)
		return 0;
	return topup_slow(pgt, mc, min);
}

void tdp_memcache_drain(const struct tdp_pgtable *pgt, struct tdp_memcache *mc)
{
	if (!pgt || !pgt->fops || !mc)
		return;
	while (mc->nr)
		pgt->cfg.mm->free_table(pgt->cfg.mm_ctx, mc_pop(mc), mc->page_size);
}

int tdp__mc_prepare(const struct tdp_pgtable *pgt, struct tdp_memcache *mc, size_t need,
		    struct tdp_memcache *local, struct tdp_memcache **use)
{
	int ret;

	if (mc) {
		/* a cache never topped up is merely empty */
		if (need && mc->page_size && mc->page_size != pgt->geo.table_size)
			return REFUSE(&pgt->cfg, TDP_EINVAL, TDP_REASON_CACHE_SIZE);
		if (need && (!mc->page_size || mc->nr < need))
			return REFUSE(&pgt->cfg, TDP_ENOMEM, TDP_REASON_CACHE_SHORT);
		*use = mc;
		return 0;
	}
	tdp_memcache_init(local);
	ret = tdp_memcache_topup(pgt, local, need);
	if (ret) {
		tdp_memcache_drain(pgt, local);
		return ret;
	}
	*use = local;
	return 0;
}

void tdp__mc_finish(const struct tdp_pgtable *pgt, struct tdp_memcache *mc,
		    struct tdp_memcache *local)
{
	if (!mc)
		tdp_memcache_drain(pgt, local);
}
