/* SPDX-License-Identifier: MIT */
/* libtdp wired to this hypervisor: see ept.h. */
#include "ept.h"

/*
 * The guest memory slots, each backed by host RAM at an offset from its
 * guest address (never identity), chosen so that the fault path has to
 * pick each leaf size: a 1 GiB slot with 1 GiB-aligned host memory, a
 * 4 MiB one with 2 MiB alignment, a 3 MiB one whose last MiB only fits
 * 4 KiB pages, one whose host side is only page aligned, and one where
 * hyp.c pre-maps a page, so a table already sits where a 2 MiB leaf would.
 * The 1 GiB slot shares its host memory with the 1 GiB block hyp.c maps,
 * so each side can see the other's writes.
 */
const struct tdp_fault_region ept_slots[] = {
	{.gpa = 0xc0000000, .size = 1ull << 30, .hpa = 0x40000000},
	{.gpa = 0x0c000000, .size = 4ull << 20, .hpa = 0x05000000},
	{.gpa = 0x0d000000, .size = 3ull << 20, .hpa = 0x06000000},
	{.gpa = 0x0e000000, .size = 2ull << 20, .hpa = 0x06801000},
	{.gpa = 0x0f000000, .size = 2ull << 20, .hpa = 0x07000000},
};
const unsigned int ept_nr_slots = sizeof(ept_slots) / sizeof(ept_slots[0]);

static void *ept_zalloc(void *ctx, size_t size)
{
	return page_alloc(size);
}

static void ept_free(void *ctx, void *va, size_t size)
{
	page_free(va, size);
}

static const struct tdp_mm_ops ept_mm = {
	.zalloc_table = ept_zalloc,
	.free_table = ept_free,
};

/*
 * The library calls this after changing entries and before reusing any
 * page it unlinked. INVEPT has no range form: the whole context goes.
 */
static void ept_flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	struct ept *e = ctx;

	vmx_invept(e->caps, e->eptp);
	e->flushes++;
}

static void ept_flush_all(void *ctx)
{
	struct ept *e = ctx;

	vmx_invept(e->caps, e->eptp);
	e->flushes++;
}

static const struct tdp_tlb_ops ept_tlb = {
	.flush_range = ept_flush_range,
	.flush_all = ept_flush_all,
};

void ept_init(struct ept *e, const struct vmx_caps *caps)
{
	struct tdp_config cfg = {
		.format = TDP_FORMAT_X86_EPT,
		.ia_bits = 48,
		.oa_bits = 36, /* covers Bochs's RAM; the CPU's MAXPHYADDR is larger */
		.mm = &ept_mm,
		.tlb = &ept_tlb,
	};
	int r;

	cfg.tlb_ctx = e;
	if (caps->ept_cap & EPT_CAP_EXEC_ONLY)
		cfg.flags |= TDP_CFG_X86_EXEC_ONLY;
	e->caps = caps;
	tdp_memcache_init(&e->mc);
	r = tdp_pgtable_init(&e->pgt, &cfg);
	check(r == 0, "tdp_pgtable_init (EPT, 4 levels): %d, root at 0x%lx", r, e->pgt.root_pa);
	r = tdp_x86_eptp(&e->pgt, &e->eptp);
	check(r == 0 && (e->eptp & ~0xfffull) == e->pgt.root_pa && (e->eptp & 0x3f) == 0x1e,
	      "tdp_x86_eptp: 0x%lx (WB, walk length 4)", e->eptp);
}

void ept_topup(struct ept *e)
{
	int r = tdp_memcache_topup(&e->pgt, &e->mc, 8);

	if (r)
		fail("tdp_memcache_topup: %d", r);
}

void ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, tdp_attr_t attr)
{
	long need = tdp_map_pages_needed(&e->pgt, gpa, hpa, size, 0);
	int r;

	if (need < 0)
		fail("tdp_map_pages_needed(0x%lx, 0x%lx, 0x%lx): %ld", gpa, hpa, size, need);
	r = tdp_memcache_topup(&e->pgt, &e->mc, (size_t)need);
	if (r)
		fail("tdp_memcache_topup: %d", r);
	r = tdp_map(&e->pgt, gpa, hpa, size, attr, 0, &e->mc);
	if (r)
		fail("tdp_map(gpa 0x%lx -> hpa 0x%lx, size 0x%lx, attr 0x%x): %d", gpa, hpa, size,
		     attr, r);
}

bool ept_fault_in(struct ept *e, uint64_t gpa, uint64_t qual)
{
	const struct tdp_fault_region *rg = NULL;
	long need;
	int r;

	/* a violation on a present entry is a permission fault, not ours */
	if (qual & EPTV_PERM_MASK)
		return false;
	for (unsigned int i = 0; i < ept_nr_slots; i++)
		if (gpa >= ept_slots[i].gpa && gpa - ept_slots[i].gpa < ept_slots[i].size)
			rg = &ept_slots[i];
	if (!rg)
		return false;
	/* what a real hypervisor does before taking its lock */
	need = tdp_map_fault_pages_needed(&e->pgt);
	if (need < 0 || tdp_memcache_topup(&e->pgt, &e->mc, (size_t)need))
		fail("topping up for the fault path: %ld", need);
	r = tdp_map_fault(&e->pgt, gpa, rg, TDP_PROT_RWX, 0, &e->mc, &e->last);
	if (r)
		fail("tdp_map_fault at 0x%lx: %d", gpa, r);
	e->faults++;
	return true;
}
