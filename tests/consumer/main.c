/* SPDX-License-Identifier: MIT */
/* A hypervisor-shaped consumer: proves the installed headers and library link and work. */
#include <stdio.h>
#include <stdlib.h>
#include <tdp/tdp.h>

static void *zalloc(void *ctx, size_t size)
{
	(void)ctx;
	void *p = aligned_alloc(size, size);

	if (p)
		for (size_t i = 0; i < size; i++)
			((unsigned char *)p)[i] = 0;
	return p;
}

static void release(void *ctx, void *va, size_t size)
{
	(void)ctx, (void)size;
	free(va);
}

static uint64_t v2p(void *ctx, void *va)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)va;
}

static void *p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)(uintptr_t)pa;
}

static void flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	(void)ctx, (void)gpa, (void)size, (void)level, (void)tables;
}

static void flush_all(void *ctx)
{
	(void)ctx;
}

int main(void)
{
	static const struct tdp_mm_ops mm = { zalloc, release, v2p, p2v };
	static const struct tdp_tlb_ops tlb = { flush_range, flush_all };
	struct tdp_config cfg = { .format = TDP_FORMAT_ARM64_S2, .granule_shift = 12,
				  .ia_bits = 40, .oa_bits = 48, .mm = &mm, .tlb = &tlb };
	struct tdp_lookup_result r;
	struct tdp_pgtable pgt;

	if (tdp_pgtable_init(&pgt, &cfg) ||
	    tdp_map(&pgt, 0x40000000, 0x1200000000, 0x200000, TDP_PROT_RW, 0, NULL) ||
	    tdp_lookup(&pgt, 0x40001234, &r) || r.hpa != 0x1200001234 || r.level != 1) {
		fprintf(stderr, "consumer: libtdp did not translate as expected\n");
		return 1;
	}
	tdp_pgtable_destroy(&pgt);
	puts("consumer: ok");
	return 0;
}
