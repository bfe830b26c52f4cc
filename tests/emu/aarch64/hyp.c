/* SPDX-License-Identifier: MIT */
/*
 * The test: build a stage-2 table with libtdp for one granule
 * (EMU_GRANULE_SHIFT), run a guest behind it, and check from the host side
 * that every guest access landed where the table says, that refused
 * accesses fault the right way, and that each change of the table (split,
 * protect, unmap, remap) is what the guest sees next.
 *
 * With EMU_NEGATIVE one mapping points one page off; the host-side check of
 * the guest's write must then report FAIL (the negative control).
 */
#include "vcpu.h"

#if EMU_GRANULE_SHIFT == 12
/* 40-bit IPA: three levels with two concatenated root tables */
#define IA_BITS 40
#define OA_BITS 40
#define LEVELS 3
#define HOST_BLK HOST_BLK_SMALL
static const uint64_t leaf_sizes[] = { 1ull << 12, 1ull << 21, 1ull << 30 };
#define BIG_SLOT_FAULTS 3 /* test_demand_faults touches three 2 MiB blocks */
#elif EMU_GRANULE_SHIFT == 14
/* 40-bit IPA: two levels, a root of 16 concatenated tables */
#define IA_BITS 40
#define OA_BITS 40
#define LEVELS 2
#define HOST_BLK HOST_BLK_SMALL
static const uint64_t leaf_sizes[] = { 1ull << 14, 1ull << 25 };
#define BIG_SLOT_FAULTS 2 /* both 32 MiB blocks */
#elif EMU_GRANULE_SHIFT == 16
/* 44-bit IPA: two levels, a root of 4 concatenated tables */
#define IA_BITS 44
#define OA_BITS 44
#define LEVELS 2
#define HOST_BLK HOST_BLK_512M
static const uint64_t leaf_sizes[] = { 1ull << 16, 1ull << 29 };
#define BIG_SLOT_FAULTS 4 /* four 64K pages: a 512 MiB block does not fit */
#else
#error "EMU_GRANULE_SHIFT must be 12, 14 or 16"
#endif

#define NR_LEAF_SIZES (sizeof(leaf_sizes) / sizeof(leaf_sizes[0]))
#define PAGE leaf_sizes[0]
#define BLK  leaf_sizes[1] /* the first block size */

/* Single pages in GUEST_PAGES and, shuffled, their host pages in HOST_PAGES */
enum { PG_RW, PG_RO, PG_NX, PG_X, PG_PROT, PG_UNMAP, PG_REMAP, NR_PG };
static const unsigned int pg_host[NR_PG] = { 7, 3, 9, 4, 11, 12, 13 };
#define PG_REMAP_NEW 14 /* the host page PG_REMAP moves to */

#define A64_AF         (1ull << 10)
#define A64_MEMATTR(p) (((p) >> 2) & 0xf)
#define A64_XN1        (1ull << 54)

static struct tdp_pgtable pgt;
static struct tdp_memcache mc;
static struct slot slots[3];
static struct vm vm;

static uint64_t gpage(unsigned int i)
{
	return GUEST_PAGES + i * PAGE;
}

static uint64_t hpage(unsigned int i)
{
	return HOST_PAGES + i * PAGE;
}

/* ---- building the table ---- */

static void setup_table(void)
{
	static const struct tdp_config cfg = {
		.format = TDP_FORMAT_ARM64_S2,
		.ia_bits = IA_BITS,
		.oa_bits = OA_BITS,
		.granule_shift = EMU_GRANULE_SHIFT,
		.mm = &pool_mm_ops,
		.tlb = &real_tlb_ops,
		.tlb_ctx = &pgt,
	};
	uint64_t mmfr0 = read_sysreg(id_aa64mmfr0_el1);
	static const unsigned int pa_bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	unsigned int parange = mmfr0 & 0xf, tg2, supported;
	int ret;

	/*
	 * ID_AA64MMFR0_EL1.TGran{4,64,16}_2 (stage 2): 2 or 3 = supported,
	 * 0 = as the stage-1 field TGran{4,64,16} says (0, 0, 1 = supported)
	 */
	tg2 = EMU_GRANULE_SHIFT == 12 ? 40 : EMU_GRANULE_SHIFT == 14 ? 32 : 36;
	supported = (mmfr0 >> tg2) & 0xf;
	if (supported == 0) {
		unsigned int tg1 = (mmfr0 >> (tg2 - 16)) & 0xf;

		supported = (EMU_GRANULE_SHIFT == 14 ? tg1 == 1 || tg1 == 2 : tg1 == 0) ? 2 : 1;
	}
	check(supported >= 2, "the CPU has this stage-2 granule (TGran_2)", supported, 2);
	check(parange < 7 && pa_bits[parange] >= OA_BITS, "the CPU's PARange covers oa_bits",
	      parange < 7 ? pa_bits[parange] : 0, OA_BITS);

	ret = tdp_pgtable_init(&pgt, &cfg);
	check(ret == 0, "tdp_pgtable_init", (uint64_t)ret, 0);
	check(pgt.geo.levels == LEVELS, "levels", pgt.geo.levels, LEVELS);
	check(pgt.geo.root_tables > 1, "concatenated root tables", pgt.geo.root_tables, 2);
	check(!(pgt.root_pa & (pgt.geo.root_size - 1)) && pgt.root_pa >= HOST_POOL &&
		      pgt.root_pa < HOST_POOL + HOST_POOL_SIZE,
	      "root from the pool, aligned to its size", pgt.root_pa, pgt.geo.root_size);
	check(tdp_page_size(&pgt) == PAGE && tdp_level_size(&pgt, 1) == BLK,
	      "page and first block size", tdp_level_size(&pgt, 1), BLK);
}

/* Map one range and check with tdp_lookup what the table now holds. */
static void map_checked(const char *what, uint64_t gpa, uint64_t hpa, uint64_t size,
			tdp_attr_t attr, unsigned int level)
{
	struct tdp_lookup_result lr;
	long need = tdp_map_pages_needed(&pgt, gpa, hpa, size, 0);
	int ret;

	if (need < 0)
		fail("tdp_map_pages_needed", (uint64_t)need, 0);
	ret = tdp_memcache_topup(&pgt, &mc, (size_t)need);
	if (ret)
		fail("memcache top-up", (uint64_t)ret, 0);
	ret = tdp_map(&pgt, gpa, hpa, size, attr, 0, &mc);
	if (ret)
		fail("tdp_map", (uint64_t)ret, gpa);
	ret = tdp_lookup(&pgt, gpa + size - 8, &lr);
	if (ret)
		fail("tdp_lookup after tdp_map", (uint64_t)ret, gpa);
	if (lr.hpa != hpa + size - 8 || lr.level != level)
		fail("tdp_lookup: host address / level", lr.hpa, hpa + size - 8);
	if ((lr.attr & (TDP_PROT_MASK | TDP_MT_MASK)) != attr)
		fail("tdp_lookup: attributes", lr.attr, attr);
	/* no hardware AF update is enabled (VTCR_EL2.HA = 0): AF clear would fault */
	if (!(lr.pte & A64_AF))
		fail("leaf has the access flag set", lr.pte, A64_AF);
	ok(what, lr.pte);
}

static void build_mappings(void)
{
	uint64_t code_size = (uint64_t)(__guest_end - __guest_start);
	uint64_t code_hpa = (uint64_t)(uintptr_t)__guest_start;
	struct tdp_lookup_result lr;

	map_checked("guest code mapped RX at GUEST_CODE, pte", GUEST_CODE, code_hpa, code_size,
		    TDP_PROT_RX, 0);
	map_checked("PL011 mapped as a device page at GUEST_UART, pte", GUEST_UART, HOST_UART,
		    PAGE, TDP_PROT_RW | TDP_MT_DEVICE, 0);
	tdp_lookup(&pgt, GUEST_UART, &lr);
	check(A64_MEMATTR(lr.pte) == 1 && (lr.pte & A64_XN1), "device page: MemAttr Device-nGnRE, XN",
	      A64_MEMATTR(lr.pte), 1);

	map_checked("RW page, pte",
		    gpage(PG_RW), hpage(pg_host[PG_RW] + EMU_NEGATIVE), PAGE, TDP_PROT_RW, 0);
	map_checked("read-only page, pte", gpage(PG_RO), hpage(pg_host[PG_RO]), PAGE, TDP_PROT_R, 0);
	map_checked("non-executable page, pte", gpage(PG_NX), hpage(pg_host[PG_NX]), PAGE,
		    TDP_PROT_RW, 0);
	map_checked("executable page, pte", gpage(PG_X), hpage(pg_host[PG_X]), PAGE, TDP_PROT_RWX, 0);
	for (unsigned int i = PG_PROT; i < NR_PG; i++)
		map_checked("page for protect/unmap/remap, pte", gpage(i), hpage(pg_host[i]), PAGE,
			    TDP_PROT_RW, 0);
	map_checked("first-level block, pte", GUEST_BLK, HOST_BLK, BLK, TDP_PROT_RW, 1);
#if EMU_GRANULE_SHIFT == 12
	map_checked("1 GiB block, pte", GUEST_BLK_1G, HOST_BLK_1G, 1ull << 30, TDP_PROT_RW, 2);
#endif
}

/* ---- checks through the guest ---- */

/* What the last unresolved fault must look like; one new one since `before`. */
static void expect_fault(const char *what, uint64_t before, uint64_t ec, uint64_t fsc_kind,
			 bool wnr, uint64_t ipa)
{
	const struct fault_record *f = &vm.fault;

	if (f->count != before + 1)
		fail("a stage-2 fault was taken", f->count - before, 1);
	if ((f->esr >> 26 & 0x3f) != ec)
		fail("fault exception class", f->esr >> 26 & 0x3f, ec);
	if (FSC_KIND(f->esr) != fsc_kind)
		fail("fault status code kind", f->esr & 0x3f, fsc_kind);
	if (ec == EC_DABT_LOW && !!(f->esr & ESR_WNR) != wnr)
		fail("fault WnR", !!(f->esr & ESR_WNR), wnr);
	if (f->ipa != ipa)
		fail("faulting IPA (HPFAR_EL2/FAR_EL2)", f->ipa, ipa);
	ok(what, f->esr);
}

static void no_new_fault(const char *what, uint64_t before)
{
	if (vm.fault.count != before)
		fail(what, vm.fault.esr, 0);
}

/* The guest writes `val` at gpa; the host finds it at hpa. */
static void guest_write_lands(const char *what, uint64_t gpa, uint64_t hpa, uint64_t val)
{
	uint64_t before = vm.fault.count, back;

	back = guest_cmd(&vm, OP_WRITE, gpa, val, 0, 0);
	no_new_fault("guest write faulted (ESR_EL2)", before);
	if (back != val)
		fail("guest read back its write", back, val);
	check(rd64(hpa) == val, what, rd64(hpa), val);
}

/* The host writes at hpa; the guest reads it at gpa. */
static void guest_reads_host(const char *what, uint64_t gpa, uint64_t hpa, uint64_t val)
{
	uint64_t before = vm.fault.count, got;

	wr64(hpa, val);
	got = guest_cmd(&vm, OP_READ, gpa, 0, 0, 0);
	no_new_fault("guest read faulted (ESR_EL2)", before);
	check(got == val, what, got, val);
}

static void test_device(void)
{
	uint64_t fr;

	guest_cmd(&vm, OP_PUTS, GUEST_UART, 0, 0, 0);
	fr = guest_cmd(&vm, OP_READ32, GUEST_UART + 0x18, 0, 0, 0);
	check(vm.fault.count == 0 && fr == uart_flags(),
	      "guest read the PL011 flag register through the device mapping", fr, uart_flags());
}

static void test_pages(void)
{
	static const uint64_t offs[] = { 0, 8, 0x800, 0xff8 };
	uint64_t h = hpage(pg_host[PG_RW]);

	for (unsigned int i = 0; i < 4; i++)
		guest_write_lands("guest write into the RW page landed at host",
				  gpage(PG_RW) + offs[i], h + offs[i], 0x1111000000000000ull | i);
	guest_write_lands("guest write to the last word of the RW page landed at host",
			  gpage(PG_RW) + PAGE - 8, h + PAGE - 8, 0x1111aaaa5555ffffull);
	guest_reads_host("guest read what the host wrote to the RW page", gpage(PG_RW) + 16, h + 16,
			 0x2222333344445555ull);
}

/* Eight words spread over a block (one per eighth, the last at its end). */
static uint64_t blk_off(uint64_t size, unsigned int i)
{
	return i < 7 ? i * (size / 8) + i * 8 : size - 8;
}

static void test_block(const char *what, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	uint64_t seed = 0xb10c000000000000ull | size, bad;

	for (unsigned int i = 0; i < 8; i++)
		guest_write_lands(what, gpa + blk_off(size, i), hpa + blk_off(size, i), seed + i);
	/* and the guest's own sweep, checked by the guest then by the host */
	guest_cmd(&vm, OP_FILL, gpa + 0x40, size / 4, 4, seed ^ 0xf11);
	bad = guest_cmd(&vm, OP_CHECK, gpa + 0x40, size / 4, 4, seed ^ 0xf11);
	check(bad == 0 && vm.fault.count == 0, "guest's fill of the block reads back", bad, 0);
	for (unsigned int i = 0; i < 4; i++)
		if (rd64(hpa + 0x40 + i * (size / 4)) != (seed ^ 0xf11) + i)
			fail("guest's fill landed at host", rd64(hpa + 0x40 + i * (size / 4)),
			     (seed ^ 0xf11) + i);
	ok("guest's fill of the block landed at host", hpa + 0x40);
}

static void test_read_only(void)
{
	uint64_t h = hpage(pg_host[PG_RO]), before = vm.fault.count, back;

	wr64(h + 8, 0x0123456789abcdefull);
	back = guest_cmd(&vm, OP_WRITE, gpage(PG_RO) + 8, 0xbadbadbadull, 0, 0);
	expect_fault("guest write to the read-only page: permission fault, WnR, ESR_EL2", before,
		     EC_DABT_LOW, FSC_PERMISSION, true, gpage(PG_RO) + 8);
	check(rd64(h + 8) == 0x0123456789abcdefull && back == 0x0123456789abcdefull,
	      "read-only page unchanged, and readable by the guest", back, 0x0123456789abcdefull);
}

/* movz x0, #imm; ret */
static void put_code(uint64_t hpa, uint16_t imm)
{
	volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)hpa;

	p[0] = 0xd2800000u | (uint32_t)imm << 5;
	p[1] = 0xd65f03c0u;
	__asm__ volatile("dsb ish\n\tic iallu\n\tdsb ish\n\tisb" : : : "memory");
}

static void test_exec(void)
{
	uint64_t before = vm.fault.count, r;

	put_code(hpage(pg_host[PG_X]), 0x5a5a);
	put_code(hpage(pg_host[PG_NX]), 0xa5a5);
	r = guest_cmd(&vm, OP_EXEC, gpage(PG_X), 0, 0, 0);
	no_new_fault("guest call into the executable page faulted", before);
	check(r == 0x5a5a, "guest ran code from the executable page", r, 0x5a5a);
	r = guest_cmd(&vm, OP_EXEC, gpage(PG_NX), 0, 0, 0);
	expect_fault("guest fetch from the non-executable page: instruction abort, permission, ESR_EL2",
		     before, EC_IABT_LOW, FSC_PERMISSION, false, gpage(PG_NX));
	check(r == IABT_SENTINEL, "the non-executable page's code did not run", r, IABT_SENTINEL);
}

/* The leaf tdp_map_fault should pick: the largest aligned one inside the slot. */
static uint64_t expected_leaf(const struct tdp_fault_region *rg, uint64_t gpa)
{
	uint64_t best = PAGE;

	for (unsigned int i = 1; i < NR_LEAF_SIZES; i++) {
		uint64_t s = leaf_sizes[i], base = gpa & ~(s - 1);

		if (base >= rg->gpa && base + s <= rg->gpa + rg->size && !((rg->hpa - rg->gpa) & (s - 1)))
			best = s;
	}
	return best;
}

/* One guest write into a slot: faults at most once, lands where the slot says. */
static void slot_access(struct slot *s, uint64_t off)
{
	uint64_t gpa = s->rg.gpa + off, val = 0x5107000000000000ull | gpa, faults = s->faults;
	uint64_t want = expected_leaf(&s->rg, gpa);
	struct tdp_lookup_result lr;
	bool mapped = tdp_lookup(&pgt, gpa, &lr) == 0;

	guest_write_lands("guest write to a demand-paged slot landed at host", gpa,
			  s->rg.hpa + off, val);
	if (s->faults != faults + !mapped)
		fail("stage-2 translation faults resolved by tdp_map_fault", s->faults - faults,
		     !mapped);
	if (mapped)
		return;
	if (s->last.size != want || s->last.gpa != (gpa & ~(want - 1)))
		fail("tdp_map_fault mapped the largest leaf that fits (size)", s->last.size, want);
	ok("tdp_map_fault mapped the largest leaf that fits the slot, size", want);
}

static void test_demand_faults(void)
{
	static const struct slot init[3] = {
		/* aligned and large: blocks where the granule has one that fits 64 MiB */
		{ .rg = { GUEST_SLOT_BIG, 64ull << 20, HOST_SLOT_BIG }, .attr = TDP_PROT_RW },
		/* host one page off: no block can be aligned on both sides */
		{ .rg = { GUEST_SLOT_SKEW, 64ull << 20, HOST_SLOT_SKEW + PAGE }, .attr = TDP_PROT_RW },
		/* three pages: smaller than any block */
		{ .rg = { GUEST_SLOT_SMALL, 3 * PAGE, HOST_SLOT_SMALL }, .attr = TDP_PROT_RW },
	};

	struct tdp_fault_result res;
	int ret;

	for (unsigned int i = 0; i < 3; i++)
		slots[i] = init[i];
	vm.slots = slots;
	vm.nr_slots = 3;

	slot_access(&slots[0], 0);
	slot_access(&slots[0], 5 * PAGE + 8);
	slot_access(&slots[0], (64ull << 20) - 8);
	slot_access(&slots[0], (32ull << 20) + 3 * PAGE);
	slot_access(&slots[1], 3 * PAGE + 16);
	slot_access(&slots[1], 3 * PAGE + 24);
	slot_access(&slots[2], 2 * PAGE + 8);
	check(slots[0].faults == BIG_SLOT_FAULTS && slots[1].faults == 1 && slots[2].faults == 1,
	      "demand faults resolved in the big slot", slots[0].faults, BIG_SLOT_FAULTS);

	/* a fault on what is mapped by now (spurious) changes nothing */
	ret = tdp_map_fault(&pgt, GUEST_SLOT_BIG, &slots[0].rg, TDP_PROT_RW, 0, &mc, &res);
	check(ret == -TDP_EEXIST && res.gpa == GUEST_SLOT_BIG &&
		      res.size == expected_leaf(&slots[0].rg, GUEST_SLOT_BIG),
	      "tdp_map_fault on a mapped address: -TDP_EEXIST with the leaf there", (uint64_t)ret,
	      (uint64_t)-TDP_EEXIST);
}

/* ---- split while the guest keeps reading ---- */

static uint64_t split_sum;
static uint64_t split_ticks;

static void split_tick(struct vm *v, uint64_t pass, uint64_t sum)
{
	struct tdp_lookup_result lr;
	long need;
	int ret;

	(void)v;
	split_ticks++;
	if (sum != split_sum)
		fail("guest's sum over the block, pass", pass, sum);
	if (pass != 1)
		return;
	/* between two of the guest's passes: the block becomes a table of pages */
	need = tdp_split_pages_needed(&pgt, GUEST_BLK, BLK, 0);
	if (need < 0 || tdp_memcache_topup(&pgt, &mc, (size_t)need))
		fail("memcache top-up for split", (uint64_t)need, 0);
	ret = tdp_split(&pgt, GUEST_BLK, BLK, 0, &mc);
	if (ret)
		fail("tdp_split", (uint64_t)ret, 0);
	for (unsigned int i = 0; i < 8; i++) {
		uint64_t off = blk_off(BLK, i);

		if (tdp_lookup(&pgt, GUEST_BLK + off, &lr) || lr.level != 0 ||
		    lr.hpa != HOST_BLK + off || !(lr.pte & A64_AF))
			fail("split block: page, same host address", lr.hpa, HOST_BLK + off);
	}
	ok("tdp_split turned the block into pages between two guest passes, flushes",
	   tlb_stats.ranges);
}

static void test_split(void)
{
	uint64_t last, before = vm.fault.count;

	/* the words the guest's passes read: eight, one per eighth of the block */
	split_sum = 0;
	for (unsigned int i = 0; i < 8; i++)
		split_sum += rd64(HOST_BLK + i * (BLK / 8) + i * 8);
	vm.on_tick = split_tick;
	last = guest_cmd(&vm, OP_READLOOP, GUEST_BLK, BLK / 8 + 8, 8, 4);
	vm.on_tick = NULL;
	check(split_ticks == 4 && last == split_sum && vm.fault.count == before,
	      "guest saw the same data in all passes, before and after the split", last, split_sum);
	guest_write_lands("guest write into the split block landed at host",
			  GUEST_BLK + 3 * PAGE + 8, HOST_BLK + 3 * PAGE + 8, 0x5b117ull);
}

/* ---- protect, unmap, remap ---- */

static void protect(uint64_t gpa, tdp_attr_t clear, tdp_attr_t set)
{
	long need = tdp_protect_pages_needed(&pgt, gpa, PAGE);
	int ret;

	if (need < 0 || tdp_memcache_topup(&pgt, &mc, (size_t)need))
		fail("memcache top-up for protect", (uint64_t)need, 0);
	ret = tdp_protect(&pgt, gpa, PAGE, clear, set, &mc);
	if (ret)
		fail("tdp_protect", (uint64_t)ret, gpa);
}

/* The last flush_range covered gpa, and came after `ranges_before`. */
static void flushed(const char *what, uint64_t ranges_before, uint64_t gpa)
{
	if (tlb_stats.ranges == ranges_before || gpa < tlb_stats.last_gpa ||
	    gpa - tlb_stats.last_gpa >= tlb_stats.last_size)
		fail(what, tlb_stats.last_gpa, gpa);
}

static void test_protect(void)
{
	uint64_t g = gpage(PG_PROT), h = hpage(pg_host[PG_PROT]), before, ranges;
	struct tdp_lookup_result lr;

	guest_write_lands("guest write to the page before protect landed at host", g, h, 0x9001);
	ranges = tlb_stats.ranges;
	protect(g, TDP_PROT_W, 0);
	flushed("protect -W flushed the page's translation", ranges, g);
	check(tdp_lookup(&pgt, g, &lr) == 0 && !(lr.attr & TDP_PROT_W), "protect removed W, attr",
	      lr.attr, TDP_PROT_R);
	before = vm.fault.count;
	guest_cmd(&vm, OP_WRITE, g, 0x9002, 0, 0);
	expect_fault("guest write after protect -W: permission fault, ESR_EL2", before, EC_DABT_LOW,
		     FSC_PERMISSION, true, g);
	check(rd64(h) == 0x9001, "write-protected page unchanged at host", rd64(h), 0x9001);
	protect(g, 0, TDP_PROT_W);
	guest_write_lands("guest write after protect +W landed at host", g, h, 0x9003);
}

static void test_unmap(void)
{
	uint64_t g = gpage(PG_UNMAP), h = hpage(pg_host[PG_UNMAP]), before, ranges;
	struct tdp_lookup_result lr;
	long need = tdp_unmap_pages_needed(&pgt, g, PAGE);
	int ret;

	guest_reads_host("guest read the page before unmap", g + 8, h + 8, 0xaaaa0001);
	if (need < 0 || tdp_memcache_topup(&pgt, &mc, (size_t)need))
		fail("memcache top-up for unmap", (uint64_t)need, 0);
	ranges = tlb_stats.ranges;
	ret = tdp_unmap(&pgt, g, PAGE, &mc);
	check(ret == 0 && tdp_lookup(&pgt, g, &lr) == -TDP_ENOENT, "tdp_unmap: lookup finds nothing",
	      (uint64_t)ret, 0);
	flushed("unmap flushed the page's translation", ranges, g);
	before = vm.fault.count;
	guest_cmd(&vm, OP_READ, g + 8, 0, 0, 0);
	expect_fault("guest read after unmap: translation fault, ESR_EL2", before, EC_DABT_LOW,
		     FSC_TRANSLATION, false, g + 8);
}

static void test_remap(void)
{
	uint64_t g = gpage(PG_REMAP), h_old = hpage(pg_host[PG_REMAP]), h_new = hpage(PG_REMAP_NEW);
	uint64_t ranges;

	wr64(h_new + 8, 0xbbbb0002);
	/* the guest's read leaves the old translation in the TLB */
	guest_reads_host("guest read the page before remap", g + 8, h_old + 8, 0xbbbb0001);
	ranges = tlb_stats.ranges;
	map_checked("remapped the live page to another host page, pte", g, h_new, PAGE, TDP_PROT_RW,
		    0);
	flushed("remap flushed the old translation", ranges, g);
	check(guest_cmd(&vm, OP_READ, g + 8, 0, 0, 0) == 0xbbbb0002,
	      "guest reads the new host page after remap", rd64(h_new + 8), 0xbbbb0002);
	guest_write_lands("guest write after remap landed at the new host page", g + 16, h_new + 16,
			  0xbbbb0003);
	check(rd64(h_old + 16) != 0xbbbb0003, "old host page untouched by the write", rd64(h_old + 16),
	      0);
}

_Noreturn void hyp_main(uint64_t current_el);
_Noreturn void hyp_main(uint64_t current_el)
{
	uart_puts("# libtdp arm64 stage-2 under QEMU: granule ");
	uart_dec(PAGE >> 10);
	uart_puts(EMU_NEGATIVE ? "K (negative control: one mapping one page off)\n" : "K\n");
	if ((current_el >> 2 & 3) != 2)
		fail("started at EL2 (CurrentEL.EL)", current_el >> 2 & 3, 2);
	write_sysreg(vbar_el2, el2_vectors);
	isb();
	ok("running at EL2, vectors at", (uint64_t)(uintptr_t)el2_vectors);

	setup_table();
	build_mappings();
	vm.pgt = &pgt;
	vm.mc = &mc;
	vm_start(&vm);
	ok("guest entered at EL1 from its stage-2 mapped code, now at", read_sysreg(elr_el2));

	test_pages();
	test_device();
	test_block("guest write to the first-level block landed at host", GUEST_BLK, HOST_BLK, BLK);
#if EMU_GRANULE_SHIFT == 12
	test_block("guest write to the 1 GiB block landed at host", GUEST_BLK_1G, HOST_BLK_1G,
		   1ull << 30);
#endif
	test_read_only();
	test_exec();
	test_demand_faults();
	test_split();
	test_protect();
	test_unmap();
	test_remap();

	uart_puts("# table pool used ");
	uart_hex(pool_used());
	uart_puts(", freed ");
	uart_hex(pool_freed_bytes);
	uart_puts("; flush_range calls ");
	uart_dec(tlb_stats.ranges);
	uart_puts(" (TLBI IPAS2E1IS ");
	uart_dec(tlb_stats.ipa_tlbis);
	uart_puts(", VMID-wide ");
	uart_dec(tlb_stats.vmid_wide);
	uart_puts(")\n");
	uart_puts("TDP-EMU: PASS\n");
	semihost_exit(0);
}
