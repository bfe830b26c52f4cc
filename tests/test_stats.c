/* SPDX-License-Identifier: MIT */
/*
 * tdp_stats against an independent count: the kit's reference walker
 * (tk_snap_take, which shares no code with lib/) lists every leaf and every
 * table reached; the pool knows how many bytes of tables are out. Tables
 * built by random maps, unmaps, splits and protects on every configuration
 * of the operation tests (arm64 4K/16K/64K, EPT 4 and 5 levels, RISC-V
 * Sv39x4/Sv48x4/Sv57x4, the latter two with Svnapot), checked over the
 * whole input range and over random sub-ranges. Argument errors too.
 */
#include "common.h"

#include <tdp/riscv.h>

/* The expected counts of [gpa, gpa + size), from the snapshot alone. */
static void expected(const struct tk_fx *fx, const struct tk_snap *s, uint64_t gpa, uint64_t size,
		     struct tdp_stats *x)
{
	uint64_t end = gpa + size;

	memset(x, 0, sizeof(*x));
	x->tables[fx->g.levels - 1] = 1;
	x->table_bytes = fx->g.root_size;
	for (size_t i = 0; i < s->nr_tables; i++) {
		const struct tk_table *t = &s->tables[i];

		if (t->gpa < end && gpa < t->gpa + t->size) {
			x->tables[t->level]++;
			x->table_bytes += fx->g.table_size;
		}
	}
	for (size_t i = 0; i < s->nr; i++) {
		const struct tk_leaf *l = &s->leaves[i];
		uint64_t lo = l->gpa > gpa ? l->gpa : gpa;
		uint64_t hi = l->gpa + l->size < end ? l->gpa + l->size : end;
		uint64_t entry = tk_level_size(&fx->g, l->level);

		if (lo >= hi)
			continue;
		/* a group (larger span than its level): the entries of it inside the range */
		x->leaves[l->level] += ((hi - 1) / entry) - (lo / entry) + 1;
		x->mapped_bytes += hi - lo;
	}
}

static void expect_stats(struct tk_fx *fx, const struct tk_snap *s, uint64_t gpa, uint64_t size)
{
	struct tdp_stats got, want;

	expected(fx, s, gpa, size, &want);
	memset(&got, 0xa5, sizeof(got)); /* every field must be written */
	assert_int_equal(tdp_stats(&fx->pgt, gpa, size, &got), 0);
	for (unsigned int l = 0; l < TDP_MAX_LEVELS; l++) {
		if (got.leaves[l] != want.leaves[l] || got.tables[l] != want.tables[l])
			fail_msg("[0x%llx, +0x%llx) level %u: %llu leaves, %llu tables; the walker "
				 "counts %llu, %llu", ULL(gpa), ULL(size), l, ULL(got.leaves[l]),
				 ULL(got.tables[l]), ULL(want.leaves[l]), ULL(want.tables[l]));
	}
	assert_int_equal(got.table_bytes, want.table_bytes);
	assert_int_equal(got.mapped_bytes, want.mapped_bytes);
}

static uint64_t rnd(uint64_t *st)
{
	/* xorshift64*: the same tables on every run */
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 2685821657736338717ull;
}

/* A page-aligned range inside [fx->base, fx->base + 4 * big), at most `max` long. */
static void rnd_range(struct tk_fx *fx, uint64_t *st, uint64_t max, uint64_t *gpa, uint64_t *size)
{
	uint64_t span = 4 * fx->big, pages = span / fx->P;
	uint64_t off = rnd(st) % pages;
	uint64_t n = 1 + rnd(st) % (max / fx->P);

	if (off + n > pages)
		n = pages - off;
	*gpa = fx->base + off * fx->P;
	*size = n * fx->P;
}

/* Random changes, mostly at the first levels, with groups and blocks where alignment allows. */
static void churn(struct tk_fx *fx, uint64_t *st, unsigned int ops)
{
	const tdp_attr_t attrs[] = { A_RW, A_RO, A_RWX, FIT(fx, A_DEV), A_RW | TDP_SW(1) };

	for (unsigned int i = 0; i < ops; i++) {
		uint64_t gpa, size, kind = rnd(st) % 10;

		/* a small range most of the time, now and then the top leaf size */
		rnd_range(fx, st, rnd(st) % 8 ? 4 * fx->blk : fx->big, &gpa, &size);
		if (rnd(st) % 16 == 0) {
			/* a whole top-level leaf */
			gpa = fx->base + (rnd(st) % 4) * fx->big;
			size = fx->big;
		}
		if (kind < 5) {
			/*
			 * aligned with the guest address most of the time (blocks and
			 * groups); misaligned only for small ranges, which need pages
			 */
			bool off = size <= 4 * fx->blk && gpa + size + fx->P <= fx->base + 4 * fx->big &&
				   rnd(st) % 4 == 0;
			uint64_t hpa = fx->hbase + (gpa - fx->base) + (off ? fx->P : 0);

			assert_int_equal(tdp_map(&fx->pgt, gpa, hpa, size,
						 attrs[rnd(st) % (sizeof(attrs) / sizeof(attrs[0]))],
						 0, NULL), 0);
		} else if (kind < 8) {
			assert_int_equal(tdp_unmap(&fx->pgt, gpa, size, NULL), 0);
		} else if (kind < 9) {
			rnd_range(fx, st, 2 * fx->blk, &gpa, &size);
			assert_int_equal(tdp_split(&fx->pgt, gpa, size,
						   (unsigned int)(rnd(st) % 2), NULL), 0);
		} else {
			assert_int_equal(tdp_protect(&fx->pgt, gpa, size, TDP_PROT_W, 0, NULL), 0);
		}
	}
}

static void check_all(struct tk_fx *fx, uint64_t *st)
{
	struct tdp_tk_pool_stats ps;
	struct tdp_stats got;
	struct tk_snap s;
	uint64_t whole = 1ull << fx->pgt.cfg.ia_bits;

	tk_snap_take(fx->env, &fx->pgt, &s);
	assert_int_equal(s.anomalies, 0);
	expect_stats(fx, &s, 0, whole);
	/* the whole table: every table byte the pool has out */
	tdp_tk_pool_stats(fx->env, &ps);
	assert_int_equal(tdp_stats(&fx->pgt, 0, whole, &got), 0);
	assert_int_equal(got.table_bytes, ps.out_bytes);
	/* ranges: inside the churned region, and reaching out of it */
	for (int i = 0; i < 40; i++) {
		uint64_t gpa, size;

		rnd_range(fx, st, i % 4 ? 4 * fx->blk : 2 * fx->big, &gpa, &size);
		expect_stats(fx, &s, gpa, size);
	}
	expect_stats(fx, &s, fx->base, 4 * fx->big);
	expect_stats(fx, &s, 0, fx->base + fx->P);
	expect_stats(fx, &s, fx->base + 4 * fx->big - fx->P, whole - (fx->base + 4 * fx->big - fx->P));
	tk_snap_free(&s);
}

static void t_stats_empty(struct tk_fx *fx)
{
	struct tdp_stats st;

	assert_int_equal(tdp_stats(&fx->pgt, 0, 1ull << fx->pgt.cfg.ia_bits, &st), 0);
	for (unsigned int l = 0; l < TDP_MAX_LEVELS; l++) {
		assert_int_equal(st.leaves[l], 0);
		assert_int_equal(st.tables[l], l == fx->cd->levels - 1 ? 1 : 0);
	}
	/* the kit's hand-computed root size (concatenated roots counted whole) */
	assert_int_equal(st.table_bytes, fx->cd->root_size);
	assert_int_equal(st.mapped_bytes, 0);
}

/* One block and one page: the counts known without any walker. */
static void t_stats_known(struct tk_fx *fx)
{
	struct tdp_stats st;
	uint64_t b = fx->base;

	assert_int_equal(tdp_map(&fx->pgt, b, fx->hbase, fx->blk, A_RW, 0, NULL), 0);
	assert_int_equal(tdp_map(&fx->pgt, b + fx->blk, fx->hbase + fx->blk + fx->P, fx->P, A_RW,
				 TDP_MAP_MAX_LEVEL(0), NULL), 0);
	assert_int_equal(tdp_stats(&fx->pgt, b, 2 * fx->blk, &st), 0);
	assert_int_equal(st.leaves[1], 1);
	assert_int_equal(st.leaves[0], 1);
	assert_int_equal(st.mapped_bytes, fx->blk + fx->P);
	/* one table per level below the root down to the page's */
	for (unsigned int l = 0; l + 1 < fx->cd->levels; l++)
		assert_int_equal(st.tables[l], 1);
	assert_int_equal(st.table_bytes, fx->cd->root_size + (fx->cd->levels - 1) * fx->g.table_size);
	/* the block's last page only: the block counts whole, a page of it is mapped */
	assert_int_equal(tdp_stats(&fx->pgt, b + fx->blk - fx->P, fx->P, &st), 0);
	assert_int_equal(st.leaves[1], 1);
	assert_int_equal(st.leaves[0], 0);
	assert_int_equal(st.mapped_bytes, fx->P);
	assert_int_equal(tdp_unmap(&fx->pgt, b, 2 * fx->blk, NULL), 0);

	/* RISC-V Svnapot: a 64 KiB group is 16 level-0 entries, counted where they intersect */
	if (fx->cd->format == TDP_FORMAT_RISCV_G && (fx->pgt.cfg.flags & TDP_CFG_RISCV_SVNAPOT)) {
		struct tdp_lookup_result r;

		assert_int_equal(tdp_map(&fx->pgt, b, fx->hbase, 64 << 10, A_RW, 0, NULL), 0);
		assert_int_equal(tdp_lookup(&fx->pgt, b, &r), 0);
		assert_int_equal(r.size, 64 << 10); /* a group indeed */
		assert_int_equal(tdp_stats(&fx->pgt, b, fx->blk, &st), 0);
		assert_int_equal(st.leaves[0], 16);
		assert_int_equal(tdp_stats(&fx->pgt, b + 3 * fx->P, 2 * fx->P, &st), 0);
		assert_int_equal(st.leaves[0], 2);
		assert_int_equal(st.mapped_bytes, 2 * fx->P);
		assert_int_equal(tdp_unmap(&fx->pgt, b, 64 << 10, NULL), 0);
	}
}

static void t_stats_random(struct tk_fx *fx)
{
	uint64_t st = 0x9e3779b97f4a7c15ull ^ fx->cd->ia ^ ((uint64_t)fx->cd->gshift << 8) ^
		      fx->cd->flags;

	for (int round = 0; round < 4; round++) {
		churn(fx, &st, 60);
		check_all(fx, &st);
	}
	assert_int_equal(tdp_unmap(&fx->pgt, fx->base, 4 * fx->big, NULL), 0);
	check_all(fx, &st);
}

static void t_stats_badinput(struct tk_fx *fx)
{
	struct tdp_pgtable zero;
	struct tdp_stats st;
	uint64_t P = fx->P, whole = 1ull << fx->pgt.cfg.ia_bits;

	memset(&zero, 0, sizeof(zero));
	assert_int_equal(tdp_stats(NULL, 0, P, &st), -TDP_EINVAL);
	assert_int_equal(tdp_stats(&zero, 0, P, &st), -TDP_EINVAL);
	assert_int_equal(tdp_stats(&fx->pgt, 0, P, NULL), -TDP_EINVAL);
	assert_int_equal(tdp_stats(&fx->pgt, 0, 0, &st), -TDP_EINVAL);
	assert_int_equal(tdp_stats(&fx->pgt, P / 2, P, &st), -TDP_EINVAL);
	assert_int_equal(tdp_stats(&fx->pgt, 0, P + 8, &st), -TDP_EINVAL);
	assert_int_equal(tdp_stats(&fx->pgt, whole, P, &st), -TDP_ERANGE);
	assert_int_equal(tdp_stats(&fx->pgt, P, whole, &st), -TDP_ERANGE);
	assert_int_equal(tdp_stats(&fx->pgt, -P, 2 * P, &st), -TDP_ERANGE);
	assert_int_equal(tdp_stats(&fx->pgt, whole - P, P, &st), 0);
}

int main(void)
{
	static const struct tcase cases[] = {
		CASE(t_stats_empty),
		CASE(t_stats_known),
		CASE(t_stats_random),
		CASE(t_stats_badinput),
	};

	return run_cases("tdp_stats", cases, sizeof(cases) / sizeof(cases[0]), NULL, 0);
}
