/* SPDX-License-Identifier: MIT */
/*
 * The test: a hypervisor that maps its guest's memory with libtdp (EPT) and
 * checks, from both sides, that the CPU translates what the library wrote.
 *
 * The guest (guest.S) does one operation per run (read, write, fill a range
 * and read it back, jump somewhere, hlt, out) and ends it with VMCALL, so
 * every check here is a sequence of "change the table, run the guest,
 * look at the exit and at host memory".
 */
#include "ept.h"
#include "guest.h"

/*
 * Guest-physical layout and the host memory behind it. No guest address
 * equals its host address, so a wrong output address in an entry shows up
 * as a write landing in the wrong place.
 */
#define CODE_GPA UINT64_C(0x00001000)
#define CODE_HPA UINT64_C(0x01100000)
#define PAGE_GPA UINT64_C(0x00100000) /* 4 KiB, RW */
#define PAGE_HPA UINT64_C(0x01203000)
#define RO_GPA   UINT64_C(0x00101000) /* 4 KiB, read-only */
#define RO_HPA   UINT64_C(0x01205000)
#define NX_GPA   UINT64_C(0x00102000) /* 4 KiB, RW, not executable */
#define NX_HPA   UINT64_C(0x01207000)
#define X_GPA    UINT64_C(0x00103000) /* 4 KiB, RWX */
#define X_HPA    UINT64_C(0x01209000)
#define DEV_GPA  UINT64_C(0x00104000) /* 4 KiB, RW, device (EPT UC) */
#define DEV_HPA  UINT64_C(0x0120b000)
#define NEW_HPA  UINT64_C(0x0120d000) /* where the remap test points a live page */
#define B2M_GPA  UINT64_C(0x00400000) /* 2 MiB block */
#define B2M_HPA  UINT64_C(0x03000000)
#define B1G_GPA  UINT64_C(0x80000000) /* 1 GiB block */
#define B1G_HPA  UINT64_C(0x40000000)

#define SZ_4K UINT64_C(0x1000)
#define SZ_2M UINT64_C(0x200000)
#define SZ_1G UINT64_C(0x40000000)

/*
 * The negative control maps the 4 KiB page one page off its intended host
 * address; the checks still expect the intended one, so the first guest
 * write to it must be reported as landing in the wrong place.
 */
#ifndef EMU_NEGATIVE
#define EMU_NEGATIVE 0
#endif
#if EMU_NEGATIVE
#define PAGE_MAP_SKEW SZ_4K
#else
#define PAGE_MAP_SKEW 0
#endif

extern const uint8_t guest_start[], guest_dispatch[], guest_end[];

static struct ept ept;
static struct vmx_caps caps;
static struct guest_regs regs;
static int launched;

struct vm_exit {
	uint32_t reason;
	uint64_t qual;
	uint64_t gpa; /* EPT exits only */
	uint64_t rip;
};

/* ---- running the guest ---- */

static __attribute__((noreturn)) void fail_exit(const struct vm_exit *x, const char *what)
{
	fail("%s: unexpected exit reason %u (qualification 0x%lx, guest-physical 0x%lx, "
	     "rip 0x%lx, interruption info 0x%lx)",
	     what, x->reason, x->qual, x->gpa, x->rip, vmread(VMCS_EXIT_INTR_INFO));
}

/*
 * Enter the guest until an exit that is not a fault-in of a guest memory
 * slot (those are handled here: map, re-enter, the access is retried).
 */
static void run_guest(struct vm_exit *x)
{
	for (;;) {
		if (vmx_run(&regs, launched))
			fail("VM%s failed: VM-instruction error %lu, exit reason 0x%lx",
			     launched ? "RESUME" : "LAUNCH", vmread(VMCS_VM_INSTR_ERROR),
			     vmread(VMCS_EXIT_REASON));
		x->reason = (uint32_t)vmread(VMCS_EXIT_REASON);
		x->qual = vmread(VMCS_EXIT_QUAL);
		x->rip = vmread(VMCS_GUEST_RIP);
		x->gpa = 0;
		if (x->reason & EXIT_REASON_ENTRY_FAIL)
			fail("VM entry failed: exit reason 0x%x, qualification 0x%lx, "
			     "VM-instruction error %lu",
			     x->reason, x->qual, vmread(VMCS_VM_INSTR_ERROR));
		launched = 1;
		if (x->reason == EXIT_EPT_VIOLATION || x->reason == EXIT_EPT_MISCONFIG)
			x->gpa = vmread(VMCS_GUEST_PHYS_ADDR);
		if (x->reason == EXIT_EPT_VIOLATION && ept_fault_in(&ept, x->gpa, x->qual))
			continue;
		return;
	}
}

static struct vm_exit guest_op(uint32_t op, uint64_t a, uint32_t b, uint32_t c)
{
	struct vm_exit x;

	regs.rax = op;
	regs.rbx = a;
	regs.rcx = b;
	regs.rdx = c;
	vmwrite(VMCS_GUEST_RIP, CODE_GPA + (uint64_t)(guest_dispatch - guest_start));
	run_guest(&x);
	return x;
}

static void expect_vmcall(const struct vm_exit *x, const char *what)
{
	if (x->reason != EXIT_VMCALL)
		fail_exit(x, what);
}

static uint32_t guest_read(uint64_t gpa)
{
	struct vm_exit x = guest_op(OP_READ, gpa, 0, 0);

	expect_vmcall(&x, "guest read");
	return (uint32_t)regs.rcx;
}

static void guest_write(uint64_t gpa, uint32_t v)
{
	struct vm_exit x = guest_op(OP_WRITE, gpa, v, 0);

	expect_vmcall(&x, "guest write");
}

/* The guest fills n dwords at gpa with seed ^ i and reads them back. */
static void guest_fill(const char *what, uint64_t gpa, uint64_t hpa, uint32_t seed, uint32_t n)
{
	struct vm_exit x = guest_op(OP_FILL, gpa, seed, n);
	uint32_t bad = 0, first_bad = 0;

	expect_vmcall(&x, what);
	check(regs.rax == 0, "guest read back its %u-dword pattern in the %s", n, what);
	for (uint32_t i = 0; i < n; i++)
		if (hpa_ptr(hpa)[i] != (seed ^ i) && !bad++)
			first_bad = i;
	check(!bad, "guest write to %s (gpa 0x%lx) landed at host 0x%lx (%u of %u dwords wrong, "
		    "first at +0x%x)",
	      what, gpa, hpa, bad, n, first_bad * 4);
}

/* An access that must be an EPT violation of a present or absent entry. */
static void expect_violation(const char *what, const struct vm_exit *x, uint64_t gpa,
			     uint64_t access, uint64_t perms)
{
	if (x->reason != EXIT_EPT_VIOLATION)
		fail_exit(x, what);
	check(x->gpa == gpa && (x->qual & (EPTV_READ | EPTV_WRITE | EPTV_FETCH)) == access &&
		      (x->qual & EPTV_PERM_MASK) == perms << EPTV_PERM_SHIFT,
	      "%s: EPT violation at 0x%lx, qualification 0x%lx (access %lx, entry RWX %lx)",
	      what, x->gpa, x->qual, access, perms);
}

/* ---- mappings ---- */

struct mapping {
	const char *name;
	uint64_t gpa, hpa, size;
	tdp_attr_t attr;
	unsigned int level; /* the leaf level tdp_map must pick */
	uint64_t skew;      /* added to hpa in the map call only (negative control) */
};

static const struct mapping maps[] = {
	{"guest code", CODE_GPA, CODE_HPA, 4 * SZ_4K, TDP_PROT_RWX, 0, 0},
	{"4K page", PAGE_GPA, PAGE_HPA, SZ_4K, TDP_PROT_RW, 0, PAGE_MAP_SKEW},
	{"read-only page", RO_GPA, RO_HPA, SZ_4K, TDP_PROT_R, 0, 0},
	{"non-executable page", NX_GPA, NX_HPA, SZ_4K, TDP_PROT_RW, 0, 0},
	{"executable page", X_GPA, X_HPA, SZ_4K, TDP_PROT_RWX, 0, 0},
	{"device page", DEV_GPA, DEV_HPA, SZ_4K, TDP_PROT_RW | TDP_MT_DEVICE, 0, 0},
	{"2M block", B2M_GPA, B2M_HPA, SZ_2M, TDP_PROT_RW, 1, 0},
	{"1G block", B1G_GPA, B1G_HPA, SZ_1G, TDP_PROT_RW, 2, 0},
};

/* EPT entry bits: R, W, X in 2..0, memory type in 5..3 */
static uint64_t ept_rwx(tdp_attr_t attr)
{
	return ((attr & TDP_PROT_R) ? 1 : 0) | ((attr & TDP_PROT_W) ? 2 : 0) |
	       ((attr & TDP_PROT_X) ? 4 : 0);
}

static void map_all(void)
{
	for (unsigned int i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		const struct mapping *m = &maps[i];
		uint64_t probe = m->gpa + m->size / 2 + 0x18;
		uint64_t mt = (m->attr & TDP_MT_MASK) == TDP_MT_DEVICE ? 0 : 6;
		struct tdp_lookup_result res;
		int r;

		ept_map(&ept, m->gpa, m->hpa + m->skew, m->size, m->attr);
		r = tdp_lookup(&ept.pgt, probe, &res);
		check(r == 0 && res.hpa == m->hpa + m->skew + (probe - m->gpa) &&
			      res.level == m->level && res.size == tdp_level_size(&ept.pgt, m->level) &&
			      res.attr == m->attr && (res.pte & 7) == ept_rwx(m->attr) &&
			      ((res.pte >> 3) & 7) == mt,
		      "%s: gpa 0x%lx -> hpa 0x%lx, level %u, EPTE 0x%lx (RWX %lx, memory type %lu)",
		      m->name, m->gpa, res.hpa - (probe - m->gpa), res.level, res.pte, res.pte & 7,
		      (res.pte >> 3) & 7);
	}
}

static void load_guest_code(void)
{
	size_t n = (size_t)(guest_end - guest_start);

	check(n <= 4 * SZ_4K, "guest code (%lu bytes) fits its pages", (uint64_t)n);
	memcpy((void *)(uintptr_t)CODE_HPA, guest_start, n);
}

/* ---- the checks ---- */

static void test_basic_access(void)
{
	struct vm_exit x;

	guest_write(PAGE_GPA + 0x10, 0x11223344);
	check(*hpa_ptr(PAGE_HPA + 0x10) == 0x11223344,
	      "guest write to 4K page (gpa 0x%lx) landed at host 0x%lx", PAGE_GPA + 0x10,
	      PAGE_HPA + 0x10);
	check(guest_read(PAGE_GPA + 0x10) == 0x11223344, "guest reads its write back");
	guest_fill("4K page", PAGE_GPA, PAGE_HPA, 0x4b000000, 1024);
	guest_fill("device page", DEV_GPA, DEV_HPA, 0xde000000, 1024);
	guest_fill("2M block start", B2M_GPA, B2M_HPA, 0x2a000000, 64);
	guest_fill("2M block middle", B2M_GPA + 0x123400, B2M_HPA + 0x123400, 0x2b000000, 64);
	guest_fill("2M block end", B2M_GPA + SZ_2M - 256, B2M_HPA + SZ_2M - 256, 0x2c000000, 64);
	guest_fill("1G block start", B1G_GPA, B1G_HPA, 0x1a000000, 64);
	guest_fill("1G block middle", B1G_GPA + 0x12345600, B1G_HPA + 0x12345600, 0x1b000000, 64);
	guest_fill("1G block end", B1G_GPA + SZ_1G - 256, B1G_HPA + SZ_1G - 256, 0x1c000000, 64);

	x = guest_op(OP_HLT, 0, 0, 0);
	check(x.reason == EXIT_HLT, "guest HLT exits (reason %u)", x.reason);
	x = guest_op(OP_OUT, 0x80, 0x5a, 0);
	/* qualification: size - 1 in 2..0, direction (1 = in) in 3, port in 31..16 */
	check(x.reason == EXIT_IO && (x.qual & 0xf) == 0 && (x.qual >> 16) == 0x80 &&
		      (uint8_t)regs.rax == 0x5a,
	      "guest OUT to port 0x80 exits (reason %u, qualification 0x%lx)", x.reason, x.qual);
}

static void test_permissions(void)
{
	struct vm_exit x;

	*hpa_ptr(RO_HPA + 0x20) = 0xc0ffee00;
	check(guest_read(RO_GPA + 0x20) == 0xc0ffee00, "guest reads the read-only page");
	x = guest_op(OP_WRITE, RO_GPA + 0x20, 0xbad, 0);
	expect_violation("write to the read-only page", &x, RO_GPA + 0x20, EPTV_WRITE, 1);
	check(*hpa_ptr(RO_HPA + 0x20) == 0xc0ffee00, "the read-only page kept its content");

	/* VMCALL (0f 01 c1) at both targets: only the fetch permission differs */
	for (int i = 0; i < 2; i++) {
		volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(i ? NX_HPA : X_HPA);

		p[0] = 0x0f;
		p[1] = 0x01;
		p[2] = 0xc1;
	}
	x = guest_op(OP_EXEC, X_GPA, 0, 0);
	check(x.reason == EXIT_VMCALL && x.rip == X_GPA,
	      "guest executes from the executable page (exit %u at rip 0x%lx)", x.reason, x.rip);
	x = guest_op(OP_EXEC, NX_GPA, 0, 0);
	expect_violation("fetch from the non-executable page", &x, NX_GPA, EPTV_FETCH, 3);
	check(x.rip == NX_GPA, "the fetch fault is at the page (rip 0x%lx)", x.rip);
	check(guest_read(NX_GPA) == 0x00c1010f, "guest reads the non-executable page");
}

struct fault_case {
	uint64_t gpa;      /* the access */
	uint64_t leaf_gpa; /* the leaf tdp_map_fault must map */
	uint64_t leaf_size;
};

/* See ept_slots in ept.c for why each of these sizes is the largest that fits. */
static const struct fault_case fault_cases[] = {
	{0x0c001230, 0x0c000000, SZ_2M},
	{0x0c3ffffc, 0x0c200000, SZ_2M},
	{0x0d000800, 0x0d000000, SZ_2M},
	{0x0d2ff010, 0x0d2ff000, SZ_4K}, /* a 2 MiB leaf would leave the 3 MiB slot */
	{0x0e005008, 0x0e005000, SZ_4K}, /* host side not 2 MiB aligned with the guest's */
	{0xc2345678, 0xc0000000, SZ_1G},
	{0x0f100040, 0x0f100000, SZ_4K}, /* the slot's first page is pre-mapped: a table is there */
};

static void test_fault_in(void)
{
	/* as a hypervisor populating part of a slot up front */
	ept_map(&ept, 0x0f000000, 0x07000000, SZ_4K, TDP_PROT_RWX);
	for (unsigned int i = 0; i < sizeof(fault_cases) / sizeof(fault_cases[0]); i++) {
		const struct fault_case *fc = &fault_cases[i];
		const struct tdp_fault_region *rg = NULL;
		unsigned int before = ept.faults;
		uint32_t v = 0xfa000000 | i;
		uint64_t hpa;

		for (unsigned int s = 0; s < ept_nr_slots; s++)
			if (fc->gpa - ept_slots[s].gpa < ept_slots[s].size)
				rg = &ept_slots[s];
		hpa = rg->hpa + (fc->gpa - rg->gpa);
		guest_write(fc->gpa, v);
		check(ept.faults == before + 1 && ept.last.gpa == fc->leaf_gpa &&
			      ept.last.size == fc->leaf_size,
		      "write to unmapped 0x%lx faulted once, tdp_map_fault mapped 0x%lx size 0x%lx "
		      "(want 0x%lx size 0x%lx)",
		      fc->gpa, ept.last.gpa, ept.last.size, fc->leaf_gpa, fc->leaf_size);
		check(*hpa_ptr(hpa) == v, "the retried write landed at host 0x%lx", hpa);
		/* the other end of the new leaf: no second fault */
		guest_write(fc->leaf_gpa + fc->leaf_size - 4, ~v);
		check(ept.faults == before + 1 &&
			      *hpa_ptr(hpa - (fc->gpa - fc->leaf_gpa) + fc->leaf_size - 4) == ~v,
		      "write at the leaf's last dword needs no fault and lands in host memory");
	}
	/* the 1 GiB slot and the 1 GiB block share host memory */
	check(guest_read(B1G_GPA + 0x2345678) == 0xfa000005,
	      "the 1G block reads what was written through the faulted-in 1G leaf");
}

static void test_split(void)
{
	struct tdp_lookup_result res = {0};
	long need = tdp_split_pages_needed(&ept.pgt, B2M_GPA, SZ_2M, 0);
	int r;

	if (need < 0 || tdp_memcache_topup(&ept.pgt, &ept.mc, (size_t)need))
		fail("topping up for split: %ld", need);
	check(guest_read(B2M_GPA + 0x123400 + 4) == (0x2b000000 ^ 1), "2M block before split");
	r = tdp_split(&ept.pgt, B2M_GPA, SZ_2M, 0, &ept.mc);
	if (!r)
		r = tdp_lookup(&ept.pgt, B2M_GPA + 0x123404, &res);
	check(r == 0 && res.level == 0 && res.hpa == B2M_HPA + 0x123404,
	      "tdp_split of the 2M block to 4K pages: %d (level %u, hpa 0x%lx)", r, res.level,
	      res.hpa);
	check(guest_read(B2M_GPA + 4) == (0x2a000000 ^ 1) &&
		      guest_read(B2M_GPA + 0x123400 + 4) == (0x2b000000 ^ 1) &&
		      guest_read(B2M_GPA + SZ_2M - 256 + 4) == (0x2c000000 ^ 1),
	      "guest reads the same data through the split block");
	guest_fill("split block page", B2M_GPA + 0x7000, B2M_HPA + 0x7000, 0x5b000000, 1024);
}

static void test_protect_unmap_remap(void)
{
	struct tdp_lookup_result res;
	unsigned int flushes = ept.flushes;
	struct vm_exit x;
	int r;

	ept_topup(&ept);
	r = tdp_protect(&ept.pgt, PAGE_GPA, SZ_4K, TDP_PROT_W, 0, &ept.mc);
	check(r == 0 && ept.flushes > flushes, "tdp_protect removes W: %d (%u INVEPT)", r,
	      ept.flushes - flushes);
	x = guest_op(OP_WRITE, PAGE_GPA + 0x40, 0x0badcafe, 0);
	expect_violation("write to the write-protected page", &x, PAGE_GPA + 0x40, EPTV_WRITE, 1);
	check(*hpa_ptr(PAGE_HPA + 0x40) == (0x4b000000 ^ 0x10), "the protected page is unchanged");
	check(guest_read(PAGE_GPA + 0x40) == (0x4b000000 ^ 0x10), "guest still reads it");

	/* W alone could make a write-only entry (an EPT misconfiguration) on a
	 * page without R, so the library takes only R|W */
	r = tdp_protect(&ept.pgt, PAGE_GPA, SZ_4K, 0, TDP_PROT_RW, &ept.mc);
	check(r == 0, "tdp_protect gives W back: %d", r);
	guest_write(PAGE_GPA + 0x40, 0x600dcafe);
	check(*hpa_ptr(PAGE_HPA + 0x40) == 0x600dcafe, "the write now lands at host 0x%lx",
	      PAGE_HPA + 0x40);

	flushes = ept.flushes;
	r = tdp_unmap(&ept.pgt, PAGE_GPA, SZ_4K, &ept.mc);
	check(r == 0 && ept.flushes > flushes &&
		      tdp_lookup(&ept.pgt, PAGE_GPA, &res) == -TDP_ENOENT,
	      "tdp_unmap of the 4K page: %d", r);
	x = guest_op(OP_READ, PAGE_GPA + 0x40, 0, 0);
	expect_violation("read of the unmapped page", &x, PAGE_GPA + 0x40, EPTV_READ, 0);

	/* a live leaf (in the split block, just read) pointed at other host memory */
	*hpa_ptr(NEW_HPA + 0x10) = 0x4e4e4e4e;
	check(guest_read(B2M_GPA + 0x7010) == (0x5b000000 ^ 4), "page before remap");
	flushes = ept.flushes;
	ept_map(&ept, B2M_GPA + 0x7000, NEW_HPA, SZ_4K, TDP_PROT_RW);
	check(ept.flushes > flushes && guest_read(B2M_GPA + 0x7010) == 0x4e4e4e4e,
	      "after remapping gpa 0x%lx to host 0x%lx the guest reads the new page",
	      B2M_GPA + 0x7000, NEW_HPA);
	guest_write(B2M_GPA + 0x7014, 0x5e5e5e5e);
	check(*hpa_ptr(NEW_HPA + 0x14) == 0x5e5e5e5e &&
		      *hpa_ptr(B2M_HPA + 0x7014) == (0x5b000000 ^ 5),
	      "writes go to the new host page, the old one is untouched");
}

static void test_destroy(void)
{
	size_t before = page_pool_in_use();
	int r;

	tdp_memcache_drain(&ept.pgt, &ept.mc);
	r = tdp_pgtable_destroy(&ept.pgt);
	check(r == 0 && page_pool_in_use() == 2 * 4096,
	      "tdp_pgtable_destroy gave back every table page (%lu bytes before, %lu after: "
	      "the VMXON region and the VMCS)",
	      (uint64_t)before, (uint64_t)page_pool_in_use());
}

void hyp_main(void);

void hyp_main(void)
{
	struct cpu_tables t;

	con_printf("# libtdp x86 EPT bare-metal test%s\n",
		   EMU_NEGATIVE ? " (negative control: one wrong mapping)" : "");
	cpu_init(&t);
	vmx_enable(&caps);
	ept_init(&ept, &caps);
	vmx_setup_vmcs(&caps, &t, ept.eptp);
	con_printf("# VPID %s, EFER load %s\n", caps.vpid ? "on" : "off", caps.efer ? "on" : "off");
	load_guest_code();
	map_all();
	test_basic_access();
	test_permissions();
	test_fault_in();
	test_split();
	test_protect_unmap_remap();
	test_destroy();
	con_printf("TDP-EMU: PASS\n");
}
