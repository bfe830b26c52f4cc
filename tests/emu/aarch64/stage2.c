/* SPDX-License-Identifier: MIT */
/*
 * What libtdp asks of its host: table memory from a bump pool and TLB
 * invalidation by the real instructions.
 */
#include "stage2.h"

/* ---- table memory ---- */

static uint64_t pool_next = HOST_POOL;
uint64_t pool_freed_bytes;

static void *pool_zalloc(void *ctx, size_t size)
{
	uint64_t pa = (pool_next + size - 1) & ~(uint64_t)(size - 1);
	volatile uint64_t *p;

	(void)ctx;
	if (pa + size > HOST_POOL + HOST_POOL_SIZE)
		return NULL;
	pool_next = pa + size;
	/* the EL2 MMU is off: this is also the address the walker uses */
	p = (volatile uint64_t *)(uintptr_t)pa;
	for (size_t i = 0; i < size / 8; i++)
		p[i] = 0;
	return (void *)(uintptr_t)pa;
}

/* A bump pool cannot reuse memory: freed bytes are only counted. */
static void pool_free(void *ctx, void *va, size_t size)
{
	(void)ctx;
	(void)va;
	pool_freed_bytes += size;
}

uint64_t pool_used(void)
{
	return pool_next - HOST_POOL;
}

const struct tdp_mm_ops pool_mm_ops = {
	.zalloc_table = pool_zalloc,
	.free_table = pool_free,
	/* NULL translation + linear_offset 0: identity, as the MMU is off */
};

/* ---- TLB maintenance ---- */

struct tlb_stats tlb_stats;

/* More single-IPA invalidations than this: drop the whole VMID instead. */
#define TLBI_IPA_MAX 64

static void tlb_flush_vmid(void)
{
	/* stage 1 and stage 2 entries of the current VMID, walk caches too */
	__asm__ volatile("dsb ishst\n\ttlbi vmalls12e1is\n\tdsb ish\n\tisb" : : : "memory");
}

/*
 * The precise form: TLBI IPAS2E1IS (IPA[51:12] in bits 39:0) per leaf, which
 * removes stage-2 entries only; the guest's combined stage-1+2 entries are
 * tagged by VA, so they go with VMALLE1IS after the IPA ones completed.
 * `level` is the neutral level of every changed leaf, or TDP_LEVEL_ANY:
 * then any page of the range may be a leaf of its own.
 */
static void tlb_flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	const struct tdp_pgtable *pgt = ctx;
	uint64_t step = tdp_page_size(pgt);

	tlb_stats.ranges++;
	tlb_stats.last_gpa = gpa;
	tlb_stats.last_size = size;
	tlb_stats.last_level = level;
	if (level >= 0 && !(gpa & (tdp_level_size(pgt, (unsigned int)level) - 1)))
		step = tdp_level_size(pgt, (unsigned int)level);
	/* removed table entries may sit in walk caches, which only a VMID-wide TLBI reaches */
	if (tables || size / step > TLBI_IPA_MAX) {
		tlb_stats.vmid_wide++;
		tlb_flush_vmid();
		return;
	}
	__asm__ volatile("dsb ishst" : : : "memory");
	for (uint64_t a = gpa; a < gpa + size; a += step) {
		__asm__ volatile("tlbi ipas2e1is, %0" : : "r"(a >> 12) : "memory");
		tlb_stats.ipa_tlbis++;
	}
	__asm__ volatile("dsb ish\n\ttlbi vmalle1is\n\tdsb ish\n\tisb" : : : "memory");
}

static void tlb_flush_all(void *ctx)
{
	(void)ctx;
	tlb_stats.alls++;
	tlb_flush_vmid();
}

const struct tdp_tlb_ops real_tlb_ops = {
	.flush_range = tlb_flush_range,
	.flush_all = tlb_flush_all,
};
