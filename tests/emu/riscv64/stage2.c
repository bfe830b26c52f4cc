/* SPDX-License-Identifier: MIT */
#include "stage2.h"

#include "console.h"
#include "csr.h"
#include "layout.h"

struct tdp_pgtable s2;
struct tdp_memcache s2_mc;
struct s2_stats s2_stats;

/* VMID 1: not 0, so a VMID the hart dropped would show in HGATP */
#define S2_VMID 1u
static uint64_t s2_vmid;

/*
 * Table memory. HS-mode runs untranslated, so a table's host physical
 * address is its pointer (linear_offset 0). Freed pages are not reused:
 * the pool is far larger than a run needs, and a page the library handed
 * back can then never alias a live table, which keeps a library bug from
 * hiding behind recycled memory.
 */
static uint64_t pool_next = H_POOL;

static void *s2_zalloc(void *ctx, size_t size)
{
	uint64_t pa = (pool_next + size - 1) & ~(uint64_t)(size - 1);
	volatile uint64_t *p;

	(void)ctx;
	if (pa + size > H_POOL + H_POOL_SIZE)
		return NULL;
	pool_next = pa + size;
	p = (volatile uint64_t *)(uintptr_t)pa;
	for (size_t i = 0; i < size / 8; i++)
		p[i] = 0;
	s2_stats.tables += size / PAGE_4K;
	return (void *)(uintptr_t)pa;
}

static void s2_free(void *ctx, void *va, size_t size)
{
	(void)ctx;
	(void)va;
	s2_stats.freed += size / PAGE_4K;
}

/*
 * HFENCE.GVMA rs1, rs2 (H extension; the gcc 12 assembler may not know
 * it): rs1 = guest physical address >> 2, rs2 = VMID. Encoding 0110001
 * rs2 rs1 000 00000 1110011.
 */
static void hfence_gvma_addr(uint64_t gpa, uint64_t vmid)
{
	__asm__ volatile(".insn r 0x73, 0, 0x31, x0, %0, %1" ::"r"(gpa >> 2), "r"(vmid) : "memory");
}

static void hfence_gvma_vmid(uint64_t vmid)
{
	__asm__ volatile(".insn r 0x73, 0, 0x31, x0, x0, %0" ::"r"(vmid) : "memory");
}

static void hfence_gvma_all(void)
{
	__asm__ volatile(".insn r 0x73, 0, 0x31, x0, x0, x0" ::: "memory");
}

#define WATCH_MAX 8
static struct {
	unsigned int n;
	bool all;
	uint64_t start[WATCH_MAX], end[WATCH_MAX];
} watch;

void s2_flush_watch(void)
{
	watch.n = 0;
	watch.all = false;
}

bool s2_flush_covered(uint64_t gpa, uint64_t size)
{
	if (watch.all)
		return true;
	for (unsigned int i = 0; i < watch.n && i < WATCH_MAX; i++)
		if (watch.start[i] <= gpa && gpa + size <= watch.end[i])
			return true;
	return false;
}

/* Past this many leaves one fence for the whole VMID is cheaper. */
#define FLUSH_BY_ADDR_MAX 64

static void s2_flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	uint64_t step = level >= 0 ? PAGE_4K << (9 * level) : PAGE_4K;
	uint64_t start = gpa & ~(step - 1);

	(void)ctx;
	s2_stats.flush_range++;
	if (watch.n < WATCH_MAX) {
		watch.start[watch.n] = gpa;
		watch.end[watch.n] = gpa + size;
	}
	watch.n++;
	/*
	 * HFENCE.GVMA with an address need only drop leaf entries for it;
	 * removed tables may sit in the hart's walk caches, which only a
	 * fence without an address is sure to clear.
	 */
	if (tables || (gpa + size - start) / step > FLUSH_BY_ADDR_MAX) {
		s2_stats.flush_full++;
		hfence_gvma_vmid(s2_vmid);
		return;
	}
	for (uint64_t a = start; a < gpa + size; a += step) {
		s2_stats.hfence_addr++;
		hfence_gvma_addr(a, s2_vmid);
	}
}

static void s2_flush_all(void *ctx)
{
	(void)ctx;
	s2_stats.flush_full++;
	watch.all = true;
	hfence_gvma_vmid(s2_vmid);
}

static const struct tdp_mm_ops s2_mm = {
	.zalloc_table = s2_zalloc,
	.free_table = s2_free,
};

static const struct tdp_tlb_ops s2_tlb = {
	.flush_range = s2_flush_range,
	.flush_all = s2_flush_all,
};

void s2_init(unsigned int ia_bits)
{
	struct tdp_config cfg = {
		.format = TDP_FORMAT_RISCV_G,
		.ia_bits = ia_bits,
		.oa_bits = 56,
		/*
		 * No Svadu: QEMU 7.2 faults on A = 0 / D = 0 (Svade), and
		 * the library then presets them. No Svpbmt either, so the
		 * UART page's device type comes from the PMAs (PMA_MT).
		 */
		.flags = TDP_CFG_RISCV_PMA_MT,
		.mm = &s2_mm,
		.tlb = &s2_tlb,
	};
	uint64_t hgatp, got, want_mode;
	int rc;

	rc = tdp_pgtable_init(&s2, &cfg);
	check(rc == 0, "tdp_pgtable_init ia_bits %u: %u levels, root at host 0x%x", (uint64_t)ia_bits,
	      (uint64_t)s2.geo.levels, s2.root_pa);
	tdp_memcache_init(&s2_mc);

	rc = tdp_riscv_hgatp(&s2, S2_VMID, &hgatp);
	want_mode = ia_bits == 41 ? 8 : 9;
	check(rc == 0 && hgatp >> 60 == want_mode && (hgatp & ((1ull << 44) - 1)) == s2.root_pa >> 12,
	      "tdp_riscv_hgatp: 0x%x (mode %u, VMID %u)", hgatp, want_mode, (uint64_t)S2_VMID);
	csr_write(CSR_HGATP, hgatp);
	got = csr_read(CSR_HGATP);
	/* an unsupported mode leaves HGATP unchanged; VMID bits may be fewer */
	check(got >> 60 == want_mode && (got & ((1ull << 44) - 1)) == s2.root_pa >> 12,
	      "HGATP took mode %u and the root (read back 0x%x)", want_mode, got);
	s2_vmid = (got >> 44) & 0x3fff;
	/* nothing may be cached from before this table */
	hfence_gvma_all();
}

void s2_topup(long need)
{
	int rc;

	if (need < 0)
		fail("pages_needed returned %x", (uint64_t)need);
	rc = tdp_memcache_topup(&s2, &s2_mc, (size_t)need);
	if (rc)
		fail("tdp_memcache_topup(%u) returned -%u", (uint64_t)need, (uint64_t)-rc);
}
