/* SPDX-License-Identifier: MIT */
/*
 * TLB invalidation through the recording callbacks. Every tk_fx_* call
 * already checks coverage, level hints, table frees after a tables flush
 * and break-before-make (probes); these tests pin down specific cases:
 * no flush for mapping into empty space, batching, the tables flag,
 * ordering against frees, and break-before-make on remap and split where
 * the format needs it (in-place changes where it does not).
 */
#include "common.h"

static size_t flushes_since(struct tk_fx *fx, size_t mark)
{
	return tk_log_count(fx->env, mark, TK_EV_FLUSH_RANGE) +
	       tk_log_count(fx->env, mark, TK_EV_FLUSH_ALL);
}

static const struct tk_event *only_flush(struct tk_fx *fx, size_t mark)
{
	const struct tk_event *f = NULL;

	for (size_t i = mark; i < fx->env->nr_ev; i++) {
		if (fx->env->ev[i].kind == TK_EV_FLUSH_ALL)
			fail_msg("unexpected flush_all");
		if (fx->env->ev[i].kind == TK_EV_FLUSH_RANGE) {
			if (f) {
				tk_log_dump(fx->env, mark);
				fail_msg("more than one flush_range for one operation");
			}
			f = &fx->env->ev[i];
		}
	}
	assert_non_null(f);
	return f;
}

/*
 * invalid -> valid needs no invalidation on arm64 and EPT, and on RISC-V
 * with Svvptc; without it every new entry is flushed too (docs/formats.md §R.7).
 */
static void t_tlb_map_empty_no_flush(struct tk_fx *fx)
{
	size_t mark = tk_log_mark(fx->env);

	assert_int_equal(tk_fx_map(fx, fx->base - fx->blk - fx->P, fx->hbase - fx->blk - fx->P,
				   2 * fx->P + 2 * fx->blk + fx->big, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, fx->base + fx->big + fx->blk + fx->P, fx->hbase, 3 * fx->P, A_RW,
				   0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, 0, 0, fx->P, A_RW, TDP_MAP_NOREPLACE, NULL), 0);
	if (tk_flush_on_install(&fx->pgt.cfg))
		assert_true(flushes_since(fx, mark) >= 3);
	else
		assert_int_equal(flushes_since(fx, mark), 0);
}

/* Unmapping pages of a table that stays: one flush, level 0, no tables flag. */
static void t_tlb_unmap_pages_batched(struct tk_fx *fx)
{
	uint64_t b = fx->base + fx->P;
	const struct tk_event *f;
	size_t mark, out;
	struct tk_snap s;
	uint64_t table_pa = 0;
	bool freed = false;

	assert_int_equal(tk_fx_map(fx, b, fx->hbase, 64 * fx->P, A_RW, 0, NULL), 0);
	tk_snap_take(fx->env, &fx->pgt, &s);
	for (size_t i = 0; i < s.nr_tables; i++)
		if (s.tables[i].level == 0 && s.tables[i].gpa <= b && b - s.tables[i].gpa < s.tables[i].size)
			table_pa = s.tables[i].pa;
	tk_snap_free(&s);
	assert_int_not_equal(table_pa, 0);
	out = fx->env->out_blocks;
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_unmap(fx, b, 63 * fx->P, NULL), 0);
	f = only_flush(fx, mark);
	assert_true(f->a <= b && f->a + f->b >= b + 63 * fx->P);
	assert_false(f->tables);
	assert_true(f->level == 0 || f->level == TDP_LEVEL_ANY);
	assert_int_equal(f->level, 0); /* all changed leaves share level 0 */
	assert_int_equal(fx->env->out_blocks, out); /* no table went */
	/* the last page: the table goes, after a flush with tables = true */
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_unmap(fx, b + 63 * fx->P, fx->P, NULL), 0);
	f = only_flush(fx, mark);
	assert_true(f->tables);
	for (size_t i = mark; i < fx->env->nr_ev; i++)
		if (fx->env->ev[i].kind == TK_EV_FREE && fx->env->ev[i].a == table_pa) {
			assert_true(fx->env->ev[i].seq > f->seq);
			freed = true;
		}
	assert_true(freed);
	assert_int_equal(fx->env->out_blocks, 1);
}

/* Unmapping a block: one flush at the block's level covering it. */
static void t_tlb_unmap_block(struct tk_fx *fx)
{
	const struct tk_event *f;
	size_t mark;

	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->big, A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, fx->base + fx->big, fx->hbase, fx->P, A_RW, 0, NULL), 0);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_unmap(fx, fx->base, fx->big, NULL), 0);
	f = only_flush(fx, mark);
	assert_true(f->a <= fx->base && f->a + f->b >= fx->base + fx->big);
	assert_true(f->level == (int)fx->top || f->level == TDP_LEVEL_ANY);
}

/*
 * Remapping a valid page elsewhere, seen by a probe at every flush: where
 * the format needs break-before-make (arm64) some flush sees it unmapped;
 * where it does not (EPT) the entry changes in place and every flush sees
 * it mapped, so a vCPU never takes a spurious fault on it.
 */
static void t_tlb_remap_bbm(struct tk_fx *fx)
{
	uint64_t g = fx->base + 5 * fx->P;
	size_t mark, hits = 0;
	bool seen_unmapped = false;

	assert_int_equal(tdp_map(&fx->pgt, g, fx->hbase, fx->P, A_RW, 0, NULL), 0);
	tk_model_map(&fx->m, g, fx->hbase, fx->P, A_RW);
	tk_probes_set(fx->env, &fx->pgt, &g, 1);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tdp_map(&fx->pgt, g, fx->hbase + fx->big, fx->P, A_RW, 0, NULL), 0);
	tk_model_map(&fx->m, g, fx->hbase + fx->big, fx->P, A_RW);
	assert_true(flushes_since(fx, mark) >= 1);
	for (size_t i = 0; i < fx->env->nr_hits; i++) {
		hits++;
		if (!fx->env->hits[i].mapped)
			seen_unmapped = true;
	}
	assert_true(hits >= 1);
	assert_int_equal(seen_unmapped, tk_format_bbm(fx->cd->format));
	tk_probes_clear(fx->env);
	tk_check_model(fx->env, &fx->pgt, &fx->m, 0);
}

/*
 * Memory type change of a valid page: break-before-make where the format
 * needs it (docs/formats.md §A.10; tk_fx_map probes every leaf and the flush
 * must see it unmapped), flushed in any case.
 */
static void t_tlb_memtype_change_bbm(struct tk_fx *fx)
{
	size_t mark;

	tdp_attr_t to = FIT(fx, A_DEV);

	/* a table with one memory type only (RISC-V without Svpbmt): a permission change */
	if (to == A_RW)
		to = A_RO;
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->blk, A_RW, 0, NULL), 0);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->blk, to, 0, NULL), 0);
	assert_true(flushes_since(fx, mark) >= 1);
	expect_leaf(fx, fx->base, 1, fx->hbase);
}

/*
 * Splitting a block (protect of one page) replaces it (through
 * break-before-make where the format needs it) and is flushed.
 */
static void t_tlb_split_bbm(struct tk_fx *fx)
{
	size_t mark;

	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->big, A_RW, 0, NULL), 0);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_protect(fx, fx->base + fx->P, fx->P, TDP_PROT_W, 0, NULL), 0);
	assert_true(flushes_since(fx, mark) >= 1);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_split(fx, fx->base + fx->big - fx->P, fx->P, 0, NULL), 0);
	if (fx->top >= 2)
		assert_true(flushes_since(fx, mark) >= 1);
}

/* Restricting permissions is flushed; the flush covers the range. */
static void t_tlb_protect_restrict(struct tk_fx *fx)
{
	const struct tk_event *f;
	size_t mark;

	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, 16 * fx->P, A_RW, 0, NULL), 0);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_protect(fx, fx->base + fx->P, 8 * fx->P, TDP_PROT_W, 0, NULL), 0);
	/*
	 * Svnapot with Svadu: breaking up the edge group flushes on its own
	 * (tdp/tlb.h), before the flags set through its cached translation
	 * are spread to its pages; then the protect's one flush.
	 */
	if (fx->pgt.cfg.format == TDP_FORMAT_RISCV_G &&
	    (fx->pgt.cfg.flags & TDP_CFG_RISCV_SVNAPOT) && (fx->pgt.cfg.flags & TDP_CFG_RISCV_SVADU)) {
		assert_int_equal(tk_log_count(fx->env, mark, TK_EV_FLUSH_RANGE), 2);
		return;
	}
	f = only_flush(fx, mark);
	assert_true(f->a <= fx->base + fx->P && f->a + f->b >= fx->base + 9 * fx->P);
	assert_false(f->tables);
}

/* Zap flushes what it removed, tables included, before freeing them. */
static void t_tlb_zap(struct tk_fx *fx)
{
	struct tdp_zap_result res;
	size_t mark;

	assert_int_equal(tk_fx_map(fx, fx->base - fx->blk, fx->hbase - fx->blk, 2 * fx->blk + fx->big,
				   A_RW, 0, NULL), 0);
	assert_int_equal(tk_fx_map(fx, fx->base + 2 * fx->big, fx->hbase, 4 * fx->P, A_RW, 0, NULL), 0);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_zap(fx, fx->base, 3 * fx->big, 0, &res), 0);
	assert_true(flushes_since(fx, mark) >= 1);
	assert_true(tk_log_count(fx->env, mark, TK_EV_FREE) >= 1);
}

/* A failed call (bad argument) flushes nothing. */
static void t_tlb_failed_call_no_flush(struct tk_fx *fx)
{
	size_t mark;

	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->blk, A_RW, 0, NULL), 0);
	mark = tk_log_mark(fx->env);
	assert_int_equal(tk_fx_unmap(fx, fx->base + 1, fx->P, NULL), -TDP_EINVAL);
	assert_int_equal(tk_fx_map(fx, fx->base, fx->hbase, fx->P, A_RW, TDP_MAP_NOREPLACE, NULL),
			 -TDP_EEXIST);
	assert_int_equal(flushes_since(fx, mark), 0);
}

static const struct tcase cases[] = {
	CASE(t_tlb_map_empty_no_flush),
	CASE(t_tlb_unmap_pages_batched),
	CASE(t_tlb_unmap_block),
	CASE(t_tlb_remap_bbm),
	CASE(t_tlb_memtype_change_bbm),
	CASE(t_tlb_split_bbm),
	CASE(t_tlb_protect_restrict),
	CASE(t_tlb_zap),
	CASE(t_tlb_failed_call_no_flush),
};

int main(void)
{
	return run_cases("tlb", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
