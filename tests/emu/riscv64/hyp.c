/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's test: build the guest's stage-2 table with libtdp, run
 * the guest, and check from the host side that every guest access went
 * where the table says, through every kind of change the library makes.
 *
 * QEMU 7.2 and the top bit of the guest physical address: the widened
 * (x4) root of Sv39x4 takes GPA bits 40:30, so GPAs from 2^39 to 2^41 - 1
 * index root entries 512..2047. QEMU 7.2 checks a G-stage address as if it
 * were a virtual one, where the top bit must be copied into every bit above
 * it; a GPA with bit 40 set (bit 49 for Sv48x4) and zeros above fails that
 * check and raises a guest-page fault however the table is built, although
 * the spec makes all 41 (50) bits valid. The x4 part of the root is
 * therefore tested at 2^39 + x (2^48 + x): root index 512, the top bit
 * clear. (Observed: a page mapped at 2^40 + x, or 2^49 + x, gives a load
 * guest-page fault on QEMU 7.2.)
 *
 * QEMU and TLB flushes: QEMU 7.2 empties its whole TLB whenever the hart
 * enters or leaves V=1, that is on every guest exit and entry. A missing
 * HFENCE.GVMA is therefore invisible to the guest here (each access of this
 * guest is one entry and one exit), so beside checking what the guest sees
 * after each change, the test checks that the library asked for a flush
 * covering the change: flush_range is where HFENCE.GVMA is issued.
 */
#include "hyp.h"

#include "console.h"
#include "csr.h"
#include "layout.h"
#include "stage2.h"
#include "vcpu.h"

/*
 * The negative control maps the guest's RW page one host page off; the
 * checks still expect H_PAGE(0), so the first write check must fail.
 */
#define H_RW          H_PAGE(0)
#define H_RW_MAPPED   (H_RW + (EMU_NEGATIVE ? PAGE_4K : 0))
#define H_RO          H_PAGE(2)
#define H_NX          H_PAGE(3)
#define H_X           H_PAGE(4)
#define H_REMAP_OLD   H_PAGE(5)
#define H_REMAP_NEW   H_PAGE(6)
#define H_UNMAP       H_PAGE(7)
#define H_X4          H_PAGE(8)

static uint64_t g_x4; /* the page in the upper part of the widened root */

static volatile uint64_t *host64(uint64_t hpa)
{
	return (volatile uint64_t *)(uintptr_t)hpa;
}

/* A value no two writes of a run share, and never 0. */
static uint64_t pattern(uint64_t gpa)
{
	static uint64_t salt;

	return ((gpa ^ 0x7d00000000000000ull) + (++salt << 44)) | 1;
}

static bool no_exits(void)
{
	return guest_exits.n == 0;
}

static bool one_exit(uint64_t cause, uint64_t gpa, enum exit_action action)
{
	return guest_exits.n == 1 && guest_exits.e[0].cause == cause &&
	       guest_exits.e[0].gpa == gpa && guest_exits.e[0].action == action;
}

static bool lookup_is(uint64_t gpa, uint64_t hpa, uint64_t leaf, struct tdp_lookup_result *lr)
{
	return tdp_lookup(&s2, gpa, lr) == 0 && lr->hpa == hpa && lr->size == leaf;
}

/* Since the last s2_flush_watch(), a flush covered [gpa, gpa + size). */
static void check_flushed(uint64_t gpa, uint64_t size, const char *what)
{
	check(s2_flush_covered(gpa, size), "%s flushed GPA 0x%x + 0x%x (HFENCE.GVMA)", what, gpa,
	      size);
}

static void map(uint64_t gpa, uint64_t hpa, uint64_t size, tdp_attr_t attr, uint64_t leaf,
		const char *what)
{
	struct tdp_lookup_result lr;
	int rc;

	s2_topup(tdp_map_pages_needed(&s2, gpa, hpa, size, 0));
	s2_flush_watch();
	rc = tdp_map(&s2, gpa, hpa, size, attr, 0, &s2_mc);
	check(rc == 0 && lookup_is(gpa, hpa, leaf, &lr),
	      "map %s: GPA 0x%x -> host 0x%x, 0x%x bytes, leaves of 0x%x", what, gpa, hpa, size,
	      leaf);
	/* without Svvptc even invalid -> valid needs the fence */
	check_flushed(gpa, size, "tdp_map");
}

/* Write through the guest, find it at the host address, read it back. */
static void guest_write(uint64_t gpa, uint64_t hpa, const char *what)
{
	uint64_t v = pattern(gpa);

	guest_call(OP_STORE, gpa, v);
	check(no_exits() && *host64(hpa) == v, "guest write to %s at GPA 0x%x landed at host 0x%x",
	      what, gpa, hpa);
	check(guest_call(OP_LOAD, gpa, 0) == v && no_exits(), "guest reads it back from GPA 0x%x",
	      gpa);
}

/* The guest reads what the host put at hpa. */
static void guest_read(uint64_t gpa, uint64_t hpa, const char *what)
{
	uint64_t v = *host64(hpa);

	check(guest_call(OP_LOAD, gpa, 0) == v && no_exits(),
	      "guest read of %s at GPA 0x%x sees host 0x%x (0x%x)", what, gpa, hpa, v);
}

/* A guest store the table must refuse: one fault, skipped, memory intact. */
static void guest_write_refused(uint64_t gpa, uint64_t hpa, enum exit_action why,
				const char *what)
{
	uint64_t before = *host64(hpa);

	guest_call(OP_STORE, gpa, pattern(gpa));
	check(one_exit(CAUSE_STORE_GPF, gpa, why) && *host64(hpa) == before,
	      "guest write to %s at GPA 0x%x: store guest-page fault, host 0x%x unchanged", what,
	      gpa, hpa);
}

/* Host-written code: li a0, EXEC_RESULT; ret. */
static void put_code(uint64_t hpa)
{
	volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)hpa;

	p[0] = INSN_LI_A0_5A;
	p[1] = INSN_RET;
	__asm__ volatile("fence.i" ::: "memory");
}

static void map_everything(void)
{
	uint64_t code = (uintptr_t)__guest_start;
	uint64_t code_size = (uintptr_t)__guest_end - code;
	unsigned int root_shift = 12 + 9 * (s2.geo.levels - 1);

	map(G_CODE, code, code_size, TDP_PROT_RX, PAGE_4K, "guest code (R+X)");
	map(G_UART, H_UART, PAGE_4K, TDP_PROT_RW | TDP_MT_DEVICE, PAGE_4K, "UART (device)");
	map(G_RW, H_RW_MAPPED, PAGE_4K, TDP_PROT_RW, PAGE_4K, "a 4K page");
	map(G_RO, H_RO, PAGE_4K, TDP_PROT_R, PAGE_4K, "a read-only page");
	map(G_NX, H_NX, PAGE_4K, TDP_PROT_RW, PAGE_4K, "a non-executable page");
	map(G_X, H_X, PAGE_4K, TDP_PROT_RX, PAGE_4K, "an executable page");
	map(G_REMAP, H_REMAP_OLD, PAGE_4K, TDP_PROT_RW, PAGE_4K, "the page to remap");
	map(G_UNMAP, H_UNMAP, PAGE_4K, TDP_PROT_RW, PAGE_4K, "the page to unmap");
	map(G_2M, H_2M, BLOCK_2M, TDP_PROT_RW, BLOCK_2M, "a 2M block");
	map(G_1G, H_1G, BLOCK_1G, TDP_PROT_RW, BLOCK_1G, "a 1G block");
	g_x4 = (1ull << (EMU_IA_BITS - 2)) + G_X4_OFF;
	map(g_x4, H_X4, PAGE_4K, TDP_PROT_RW, PAGE_4K, "a page in the x4 part of the root");
	check(g_x4 >> root_shift >= 512 && g_x4 >> root_shift < 1024,
	      "GPA 0x%x uses root entry %u (x4 part, top GPA bit clear)", g_x4, g_x4 >> root_shift);
}

static void test_writes(void)
{
	guest_write(G_RW, H_RW, "the 4K page");
	guest_write(G_RW + 0xff8, H_RW + 0xff8, "the 4K page");
	guest_write(G_2M, H_2M, "the 2M block");
	guest_write(G_2M + 0x123450, H_2M + 0x123450, "the 2M block");
	guest_write(G_2M + BLOCK_2M - 8, H_2M + BLOCK_2M - 8, "the 2M block");
	guest_write(G_1G, H_1G, "the 1G block");
	guest_write(G_1G + 0x12345678, H_1G + 0x12345678, "the 1G block");
	guest_write(G_1G + BLOCK_1G - 8, H_1G + BLOCK_1G - 8, "the 1G block");
	guest_write(g_x4, H_X4, "the x4-root page");
	guest_write(g_x4 + 0xff8, H_X4 + 0xff8, "the x4-root page");
	guest_write(G_REMAP + 0x100, H_REMAP_OLD + 0x100, "the page to remap");
	guest_write(G_UNMAP + 0x40, H_UNMAP + 0x40, "the page to unmap");
}

static void test_read_only(void)
{
	struct tdp_lookup_result lr;

	*host64(H_RO + 0x10) = pattern(G_RO);
	guest_read(G_RO + 0x10, H_RO + 0x10, "the read-only page");
	check(lookup_is(G_RO, H_RO, PAGE_4K, &lr) && (lr.attr & TDP_PROT_MASK) == TDP_PROT_R,
	      "lookup: the read-only page is R only");
	guest_write_refused(G_RO + 0x10, H_RO + 0x10, EXIT_PERMISSION, "the read-only page");
}

static void test_no_exec(void)
{
	uint64_t r;

	put_code(H_X);
	put_code(H_NX);
	r = guest_call(OP_EXEC, G_X, 0);
	check(r == EXEC_RESULT && no_exits(), "guest ran code on the executable page at GPA 0x%x",
	      G_X);
	r = guest_call(OP_EXEC, G_NX, 0);
	check(r == EXEC_FAULTED && one_exit(CAUSE_FETCH_GPF, G_NX, EXIT_PERMISSION),
	      "guest fetch from the non-executable page at GPA 0x%x: instruction guest-page fault",
	      G_NX);
	guest_read(G_NX, H_NX, "the non-executable page");
}

/* One on-demand fault: the cause, and the leaf tdp_map_fault chose. */
static bool faulted_in(uint64_t cause, uint64_t gpa, uint64_t leaf_gpa, uint64_t leaf_size)
{
	return one_exit(cause, gpa, EXIT_MAPPED) && guest_exits.e[0].fr.gpa == leaf_gpa &&
	       guest_exits.e[0].fr.size == leaf_size;
}

static void test_fault_in(void)
{
	uint64_t a = SLOT_GPA + 0x10;                          /* 4K only */
	uint64_t b = SLOT_GPA + PAGE_4K + BLOCK_2M - 8;        /* in the 2M part */
	uint64_t c = SLOT_GPA + PAGE_4K + BLOCK_2M + 0x23456000; /* in the 1G part */
	uint64_t d = SLOT_GPA + SLOT_SIZE - 8;
	struct tdp_fault_result fr;
	uint64_t v, r;
	int rc;

	v = pattern(a);
	s2_flush_watch();
	guest_call(OP_STORE, a, v);
	check(faulted_in(CAUSE_STORE_GPF, a, SLOT_GPA, PAGE_4K) &&
	      *host64(SLOT_HPA + (a - SLOT_GPA)) == v,
	      "store fault at GPA 0x%x mapped a 4K leaf (largest in the slot), write at host 0x%x",
	      a, SLOT_HPA + (a - SLOT_GPA));
	check_flushed(SLOT_GPA, PAGE_4K, "tdp_map_fault");

	v = pattern(b);
	*host64(SLOT_HPA + (b - SLOT_GPA)) = v;
	s2_flush_watch();
	r = guest_call(OP_LOAD, b, 0);
	check(faulted_in(CAUSE_LOAD_GPF, b, SLOT_GPA + PAGE_4K, BLOCK_2M) && r == v,
	      "load fault at GPA 0x%x mapped a 2M leaf at 0x%x, read host 0x%x", b,
	      SLOT_GPA + PAGE_4K, SLOT_HPA + (b - SLOT_GPA));
	check_flushed(SLOT_GPA + PAGE_4K, BLOCK_2M, "tdp_map_fault");

	put_code(SLOT_HPA + (c - SLOT_GPA));
	s2_flush_watch();
	r = guest_call(OP_EXEC, c, 0);
	check(faulted_in(CAUSE_FETCH_GPF, c, SLOT_GPA + PAGE_4K + BLOCK_2M, BLOCK_1G) &&
	      r == EXEC_RESULT,
	      "fetch fault at GPA 0x%x mapped a 1G leaf, the guest ran host 0x%x", c,
	      SLOT_HPA + (c - SLOT_GPA));
	check_flushed(SLOT_GPA + PAGE_4K + BLOCK_2M, BLOCK_1G, "tdp_map_fault");

	guest_write(d, SLOT_HPA + (d - SLOT_GPA), "the faulted-in 1G leaf");
	rc = tdp_map_fault(&s2, a, &(struct tdp_fault_region){ SLOT_GPA, SLOT_SIZE, SLOT_HPA },
			   TDP_PROT_RWX, 0, &s2_mc, &fr);
	check(rc == -TDP_EEXIST && fr.gpa == SLOT_GPA && fr.size == PAGE_4K,
	      "tdp_map_fault on a mapped GPA: -TDP_EEXIST and the leaf already there");
}

static void test_split(void)
{
	static const uint64_t offs[] = { 0, 0x123450, BLOCK_2M - 8, 0x80000 };
	struct tdp_lookup_result lr;
	bool leaves = true;
	int rc;

	*host64(H_2M + 0x80000) = pattern(G_2M + 0x80000);
	for (unsigned int i = 0; i < 4; i++)
		guest_read(G_2M + offs[i], H_2M + offs[i], "the 2M block before split");
	s2_topup(tdp_split_pages_needed(&s2, G_2M, BLOCK_2M, 0));
	rc = tdp_split(&s2, G_2M, BLOCK_2M, 0, &s2_mc);
	for (unsigned int i = 0; i < 4; i++)
		leaves = leaves && lookup_is(G_2M + offs[i], H_2M + offs[i], PAGE_4K, &lr);
	check(rc == 0 && leaves, "tdp_split of the 2M block into 4K leaves, same host addresses");
	for (unsigned int i = 0; i < 4; i++)
		guest_read(G_2M + offs[i], H_2M + offs[i], "the split block");
	guest_write(G_2M + 0x1ff000, H_2M + 0x1ff000, "the split block");
}

static void protect(uint64_t gpa, uint64_t size, tdp_attr_t clear, tdp_attr_t set,
		    uint64_t leaf, const char *what)
{
	struct tdp_lookup_result lr;
	int rc;

	s2_topup(tdp_protect_pages_needed(&s2, gpa, size));
	s2_flush_watch();
	rc = tdp_protect(&s2, gpa, size, clear, set, &s2_mc);
	check(rc == 0 && tdp_lookup(&s2, gpa, &lr) == 0 && lr.size == leaf &&
	      !(lr.attr & clear) && (lr.attr & set) == set,
	      "tdp_protect %s: clear 0x%x set 0x%x, leaf still 0x%x bytes", what, (uint64_t)clear,
	      (uint64_t)set, leaf);
	check_flushed(gpa, size, "tdp_protect");
}

/*
 * Giving W back sets R with it: G-stage leaves may be execute-only, and the
 * library refuses (-TDP_EINVAL) a change that could make one write-only.
 */
static void test_protect(void)
{
	protect(G_RW, PAGE_4K, TDP_PROT_W, 0, PAGE_4K, "the 4K page");
	guest_write_refused(G_RW + 0x20, H_RW + 0x20, EXIT_PERMISSION, "the write-protected page");
	guest_read(G_RW + 0xff8, H_RW + 0xff8, "the write-protected page");
	protect(G_RW, PAGE_4K, 0, TDP_PROT_RW, PAGE_4K, "the 4K page");
	guest_write(G_RW + 0x20, H_RW + 0x20, "the page made writable again");

	protect(G_1G, BLOCK_1G, TDP_PROT_W, 0, BLOCK_1G, "the 1G block");
	guest_write_refused(G_1G + 0x30000000, H_1G + 0x30000000, EXIT_PERMISSION,
			    "the write-protected 1G block");
	protect(G_1G, BLOCK_1G, 0, TDP_PROT_RW, BLOCK_1G, "the 1G block");
	guest_write(G_1G + 0x30000000, H_1G + 0x30000000, "the 1G block made writable again");
}

static void unmap(uint64_t gpa, uint64_t size, const char *what)
{
	struct tdp_lookup_result lr;
	int rc;

	s2_topup(tdp_unmap_pages_needed(&s2, gpa, size));
	s2_flush_watch();
	rc = tdp_unmap(&s2, gpa, size, &s2_mc);
	check(rc == 0 && tdp_lookup(&s2, gpa, &lr) == -TDP_ENOENT, "tdp_unmap %s at GPA 0x%x",
	      what, gpa);
	check_flushed(gpa, size, "tdp_unmap");
}

static void test_unmap(void)
{
	uint64_t hole = G_1G + 0x12346000;
	struct tdp_lookup_result lr;

	guest_read(G_UNMAP + 0x40, H_UNMAP + 0x40, "the page to unmap");
	unmap(G_UNMAP, PAGE_4K, "a 4K page");
	guest_call(OP_LOAD, G_UNMAP + 0x40, 0);
	check(one_exit(CAUSE_LOAD_GPF, G_UNMAP + 0x40, EXIT_UNMAPPED),
	      "guest read of the unmapped page: load guest-page fault at GPA 0x%x", G_UNMAP + 0x40);

	/* a page out of the middle of the 1G block: the block is split around it */
	unmap(hole, PAGE_4K, "one page of the 1G block");
	check(lookup_is(hole - 8, H_1G + (hole - 8 - G_1G), PAGE_4K, &lr) &&
	      lookup_is(G_1G, H_1G, BLOCK_2M, &lr),
	      "the 1G block is now 2M leaves with 4K leaves around the hole");
	guest_call(OP_LOAD, hole, 0);
	check(one_exit(CAUSE_LOAD_GPF, hole, EXIT_UNMAPPED),
	      "guest read of the hole: load guest-page fault at GPA 0x%x", hole);
	guest_read(G_1G + 0x12345678, H_1G + 0x12345678, "the page next to the hole");
	guest_read(G_1G, H_1G, "the rest of the 1G block");
	guest_read(G_1G + BLOCK_1G - 8, H_1G + BLOCK_1G - 8, "the rest of the 1G block");
}

static void test_remap(void)
{
	uint64_t old = *host64(H_REMAP_OLD + 0x200);

	*host64(H_REMAP_NEW + 0x100) = pattern(G_REMAP);
	/* the guest has used the old translation: the TLB may hold it */
	guest_read(G_REMAP + 0x100, H_REMAP_OLD + 0x100, "the page before remap");
	map(G_REMAP, H_REMAP_NEW, PAGE_4K, TDP_PROT_RW, PAGE_4K, "the live page to a new host page");
	guest_read(G_REMAP + 0x100, H_REMAP_NEW + 0x100, "the remapped page");
	guest_write(G_REMAP + 0x200, H_REMAP_NEW + 0x200, "the remapped page");
	check(*host64(H_REMAP_OLD + 0x200) == old, "the old host page 0x%x was not written",
	      H_REMAP_OLD);
}

void hs_main(void)
{
	uint64_t entry = G_CODE + ((uintptr_t)guest_entry - (uintptr_t)__guest_start);

	csr_write(CSR_STVEC, (uintptr_t)hs_fatal_vector);
	/* every guest trap comes to HS; the guest runs without stage 1 */
	csr_write(CSR_HEDELEG, 0);
	csr_write(CSR_HIDELEG, 0);
	csr_write(CSR_VSATP, 0);

	s2_init(EMU_IA_BITS);
	map_everything();
	guest_boot(entry);
	check(no_exits(), "guest booted at GPA 0x%x and called the hypervisor", entry);

	test_writes();
	test_read_only();
	test_no_exec();
	test_fault_in();
	test_split();
	test_protect();
	test_unmap();
	test_remap();

	con_printf("stage 2: %u table pages taken, %u given back; %u flush_range calls, "
		   "%u HFENCE.GVMA by address, %u whole-VMID\n",
		   s2_stats.tables, s2_stats.freed, s2_stats.flush_range, s2_stats.hfence_addr,
		   s2_stats.flush_full);
	pass();
}

void hs_fatal(uint64_t scause, uint64_t sepc, uint64_t stval, uint64_t htval, uint64_t hstatus)
{
	fail("unexpected trap in HS-mode: scause 0x%x sepc 0x%x stval 0x%x htval 0x%x hstatus 0x%x",
	     scause, sepc, stval, htval, hstatus);
}
