// SPDX-License-Identifier: MIT
// libtdp from C++: every public header included, a table built, mapped,
// looked up, walked, dumped and torn down through the C API, with the test
// kit's pool, TLB model and reference walker. It compiles only if the headers
// are valid C++ and links only if their functions have C linkage (a C++
// declaration would name a mangled symbol that libtdp.so does not export).
#include <cstdio>
#include <string>

#include <tdp/arm64.h>
#include <tdp/changes.h>
#include <tdp/dump.h>
#include <tdp/error.h>
#include <tdp/export.h>
#include <tdp/mm.h>
#include <tdp/pgtable.h>
#include <tdp/riscv.h>
#include <tdp/tdp.h>
#include <tdp/testkit.h>
#include <tdp/tlb.h>
#include <tdp/types.h>
#include <tdp/walk.h>
#include <tdp/x86.h>

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				     #cond);                                             \
			return 1;                                                        \
		}                                                                        \
	} while (0)

namespace {

struct change_count {
	unsigned adds = 0, removes = 0;
	uint64_t last_new_pa = 0;
};

void leaf_changed(void *ctx, const tdp_change *c)
{
	change_count *n = static_cast<change_count *>(ctx);
	if (c->kind == TDP_CHANGE_ADD) {
		n->adds++;
		n->last_new_pa = c->new_.pa; // `new` in C
	} else if (c->kind == TDP_CHANGE_REMOVE) {
		n->removes++;
	}
}

const tdp_change_ops change_ops = { leaf_changed };

} // namespace

int main()
{
	const uint64_t gpa = 0x40000000, hpa = 0x80000000;
	tdp_tk_pool *pool = tdp_tk_pool_new(1ull << 32, 64ull << 20);
	tdp_tk_tlb *tlb = tdp_tk_tlb_new(64, pool, 0);
	CHECK(pool && tlb);

	change_count changes;
	tdp_config cfg{};
	cfg.format = TDP_FORMAT_X86_EPT;
	cfg.ia_bits = 48;
	cfg.oa_bits = 48;
	tdp_tk_pool_config(pool, &cfg);
	cfg.tlb = &tdp_tk_tlb_ops; // data exported by the kit, C linkage too
	cfg.tlb_ctx = tlb;
	cfg.changes = &change_ops;
	cfg.changes_ctx = &changes;

	tdp_pgtable pgt;
	CHECK(tdp_pgtable_init(&pgt, &cfg) == 0);
	CHECK(tdp_page_size(&pgt) == 4096 && tdp_level_size(&pgt, 1) == (2u << 20));
	CHECK(tdp_x86_level(0) == 1);

	// Register helpers: EPTP for this table; the other formats' refuse it.
	uint64_t reg = 0;
	CHECK(tdp_x86_eptp(&pgt, &reg) == 0 && (reg & ~0xfffull) == pgt.root_pa);
	CHECK(tdp_arm64_vtcr(&pgt, 0, &reg) == -TDP_EINVAL);
	CHECK(tdp_riscv_hgatp(&pgt, 0, &reg) == -TDP_EINVAL);

	tdp_tk_mem mem = tdp_tk_pool_mem(pool);
	tdp_tk_ref ref;
	CHECK(tdp_tk_ref_for(&ref, &pgt, &mem) == 0);
	tdp_tk_tlb_attach(tlb, &ref);

	// One 2 MiB block and one page, from a memory cache filled beforehand.
	tdp_memcache mc;
	tdp_memcache_init(&mc);
	long need = tdp_map_pages_needed(&pgt, gpa, hpa, 2u << 20, 0);
	CHECK(need > 0);
	CHECK(tdp_memcache_topup(&pgt, &mc, static_cast<size_t>(need)) == 0);
	CHECK(tdp_map(&pgt, gpa, hpa, 2u << 20, TDP_PROT_RW | TDP_MT_NORMAL_WB, 0, &mc) == 0);
	need = tdp_map_pages_needed(&pgt, gpa + (4u << 20), hpa + (4u << 20), 4096, 0);
	CHECK(need > 0);
	CHECK(tdp_memcache_topup(&pgt, &mc, static_cast<size_t>(need)) == 0);
	CHECK(tdp_map(&pgt, gpa + (4u << 20), hpa + (4u << 20), 4096, TDP_PROT_R, 0, &mc) == 0);
	CHECK(changes.adds == 2 && changes.last_new_pa == hpa + (4u << 20));

	tdp_lookup_result lr;
	CHECK(tdp_lookup(&pgt, gpa + 0x1234, &lr) == 0);
	CHECK(lr.hpa == hpa + 0x1234 && lr.size == (2u << 20) && lr.level == 1);
	CHECK((lr.attr & TDP_PROT_MASK) == TDP_PROT_RW);
	CHECK(tdp_lookup(&pgt, gpa + (2u << 20), &lr) == -TDP_ENOENT);

	// What the hardware would see, and no stale TLB entry.
	tdp_tk_xlate x;
	CHECK(tdp_tk_tlb_fill(tlb, gpa + 0x1234, TDP_TK_WRITE) == 1);
	CHECK(tdp_tk_ref_translate(&ref, gpa + (4u << 20), TDP_TK_READ, &x) == 0);
	CHECK(x.result == TDP_TK_OK && x.hpa == hpa + (4u << 20));

	// Read-only traversals: the visitor, the iterator macro, the counts, the dump.
	unsigned leaves = 0;
	CHECK(tdp_walk(&pgt, 0, 1ull << 48, TDP_WALK_LEAF,
		       [](const tdp_entry *, unsigned int, void *arg) {
			       ++*static_cast<unsigned *>(arg);
			       return 0;
		       },
		       &leaves) == 0);
	CHECK(leaves == 2);
	tdp_iter it;
	unsigned valid_leaves = 0;
	tdp_for_each_entry(it, &pgt, 0, 1ull << 48) {
		tdp_entry e;
		tdp_iter_entry(&it, &e);
		valid_leaves += e.valid && !e.table;
	}
	CHECK(valid_leaves == 2);
	struct tdp_stats st; // "struct": the function tdp_stats hides the name in C++
	CHECK(tdp_stats(&pgt, 0, 1ull << 48, &st) == 0);
	CHECK(st.leaves[0] == 1 && st.leaves[1] == 1 && st.mapped_bytes == (2u << 20) + 4096);
	std::string text;
	CHECK(tdp_dump(&pgt, gpa, 8u << 20, TDP_DUMP_TEXT,
		       [](void *ctx, const char *buf, size_t len) {
			       static_cast<std::string *>(ctx)->append(buf, len);
			       return 0;
		       },
		       &text) == 0);
	CHECK(text.find("leaf  0x0000000080000000 rw--") != std::string::npos);

	// Unmap, then teardown: nothing stale, nothing leaked.
	CHECK(tdp_unmap(&pgt, gpa, 8u << 20, &mc) == 0);
	CHECK(changes.removes == 2);
	CHECK(tdp_lookup(&pgt, gpa + (4u << 20), &lr) == -TDP_ENOENT);
	CHECK(tdp_tk_tlb_check(tlb) == 0);
	tdp_memcache_drain(&pgt, &mc);
	CHECK(tdp_pgtable_destroy(&pgt) == 0);
	struct tdp_tk_pool_stats ps;
	tdp_tk_pool_stats(pool, &ps);
	CHECK(ps.out_blocks == 0 && ps.errors == 0);
	tdp_tk_tlb_delete(tlb);
	tdp_tk_pool_delete(pool);
	std::printf("cxx_api: ok\n");
	return 0;
}
