/* SPDX-License-Identifier: MIT */
/*
 * How a hypervisor's own tests use tdp-testkit.
 *
 * `hv_handle_fault` stands for the code under test: a stage-2 fault handler
 * that maps the faulting page of a memory slot, as a block when the slot
 * allows. The test runs it on a real libtdp table whose memory comes from the
 * kit's pool and whose TLB callbacks are the kit's TLB model, and checks the
 * result through the kit's reference walker, the way the hardware would see
 * it: translations, permissions, stale TLB entries and leaked pages.
 */
#include <stdio.h>
#include <stdlib.h>

#include <tdp/testkit.h>

/* ---- the code under test: a toy hypervisor's fault path ---- */

struct hv_slot {
	uint64_t gpa, size, hpa;
	bool readonly;
};

static int hv_handle_fault(struct tdp_pgtable *pgt, const struct hv_slot *slot, uint64_t gpa,
			   struct tdp_memcache *mc)
{
	const uint64_t block = 2ull << 20;
	uint64_t base = gpa & ~(block - 1);
	tdp_attr_t attr = TDP_PROT_R | TDP_PROT_X | TDP_MT_NORMAL_WB;
	int ret;

	if (!slot->readonly)
		attr |= TDP_PROT_W;
	/* a whole 2 MiB block when the slot covers it and gpa/hpa line up, else one page */
	if (base >= slot->gpa && base + block <= slot->gpa + slot->size &&
	    ((slot->hpa - slot->gpa) & (block - 1)) == 0)
		ret = tdp_map(pgt, base, slot->hpa + (base - slot->gpa), block, attr, 0, mc);
	else
		ret = tdp_map(pgt, gpa & ~0xfffull, slot->hpa + ((gpa & ~0xfffull) - slot->gpa),
			      4096, attr, TDP_MAP_MAX_LEVEL(0), mc);
	return ret;
}

/* ---- the test ---- */

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                                   \
		}                                                                   \
	} while (0)

int main(void)
{
	struct tdp_tk_pool *pool = tdp_tk_pool_new(1ull << 32, 64ull << 20);
	struct tdp_tk_tlb *tlb = tdp_tk_tlb_new(64, pool, TDP_TK_TLB_BBM);
	struct tdp_config cfg = { .format = TDP_FORMAT_ARM64_S2, .granule_shift = 12,
				  .ia_bits = 40, .oa_bits = 44 };
	const struct hv_slot ram = { 0x80000000, 64ull << 20, 0x880000000, false };
	const struct hv_slot rom = { 0x10000000, 0x3000, 0x900000000, true };
	struct tdp_tk_pool_stats ps;
	struct tdp_memcache mc;
	struct tdp_tk_xlate x;
	struct tdp_pgtable pgt;
	struct tdp_tk_mem mem;
	struct tdp_tk_ref ref;

	CHECK(pool && tlb);
	tdp_tk_pool_config(pool, &cfg); /* table memory from the pool */
	cfg.tlb = &tdp_tk_tlb_ops;      /* invalidations go to the TLB model */
	cfg.tlb_ctx = tlb;
	CHECK(tdp_pgtable_init(&pgt, &cfg) == 0);
	mem = tdp_tk_pool_mem(pool);
	CHECK(tdp_tk_ref_for(&ref, &pgt, &mem) == 0); /* walker from VTCR_EL2/VTTBR_EL2 */
	tdp_tk_tlb_attach(tlb, &ref);

	/* Faults, with the memory cache topped up before each, as under a lock. */
	tdp_memcache_init(&mc);
	CHECK(tdp_memcache_topup(&pgt, &mc, 4) == 0);
	CHECK(hv_handle_fault(&pgt, &ram, 0x80212345, &mc) == 0);
	CHECK(tdp_memcache_topup(&pgt, &mc, 4) == 0);
	CHECK(hv_handle_fault(&pgt, &rom, 0x10001008, &mc) == 0);

	/* What a vCPU would see. */
	CHECK(tdp_tk_ref_translate(&ref, 0x80212345, TDP_TK_WRITE, &x) == 0);
	CHECK(x.result == TDP_TK_OK && x.hpa == 0x880212345 && x.span_size == (2u << 20));
	CHECK(tdp_tk_ref_translate(&ref, 0x10001008, TDP_TK_READ, &x) == 0);
	CHECK(x.result == TDP_TK_OK && x.hpa == 0x900001008 && x.span_size == 4096);
	CHECK(tdp_tk_ref_translate(&ref, 0x10001008, TDP_TK_WRITE, &x) == 0);
	CHECK(x.result == TDP_TK_PERMISSION_FAULT); /* the ROM stays read-only */
	CHECK(tdp_tk_ref_translate(&ref, 0x10002000, TDP_TK_READ, &x) == 0);
	CHECK(x.result == TDP_TK_TRANSLATION_FAULT); /* not faulted in yet */

	/* Dirty logging: write-protect the slot while vCPUs hold translations. */
	CHECK(tdp_tk_tlb_fill(tlb, 0x80212345, TDP_TK_WRITE) == 1);
	CHECK(tdp_protect(&pgt, ram.gpa, ram.size, TDP_PROT_W, 0, &mc) == 0);
	CHECK(tdp_tk_tlb_check(tlb) == 0); /* no vCPU kept a stale writable entry */
	CHECK(tdp_tk_ref_translate(&ref, 0x80212345, TDP_TK_WRITE, &x) == 0);
	CHECK(x.result == TDP_TK_PERMISSION_FAULT);

	/* Teardown: no page may leak. */
	tdp_memcache_drain(&pgt, &mc);
	CHECK(tdp_pgtable_destroy(&pgt) == 0);
	tdp_tk_pool_stats(pool, &ps);
	CHECK(ps.out_blocks == 0 && ps.errors == 0);
	tdp_tk_tlb_delete(tlb);
	tdp_tk_pool_delete(pool);
	printf("hv_example: ok\n");
	return 0;
}
