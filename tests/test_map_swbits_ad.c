/* SPDX-License-Identifier: MIT */
/*
 * What tdp_map leaves of a leaf's hardware accessed/dirty flags (EPT with
 * TDP_CFG_X86_AD, RISC-V with Svadu) when it rewrites the leaf, the rule
 * of tdp/pgtable.h: a leaf whose output address and size stay keeps A and
 * D whatever else changes (software bits, permissions); a leaf with another
 * output address is a new leaf (A = D = 0). Pages and blocks, exclusive and
 * shared mode, the one-leaf path and a larger map.
 *
 * Guards against losing a dirty page to migration when a hypervisor only
 * retags a mapping or changes its permissions through tdp_map.
 */
#include "sem_fixture.h"


#define G0 (4 * GiB)
#define H0 (8 * GiB)

static void swbits_case(struct sf *f, uint64_t g, uint64_t h, uint64_t sz, unsigned int level,
			uint64_t extra)
{
	const uint64_t A = sf_abit(f), D = sf_dbit(f);
	uint64_t bm[SF_BM_WORDS];
	char what[96];

	assert_int_equal(tdp_map(&f->pgt, g, h, sz, TDP_PROT_RW, 0, NULL), 0);
	sf_hw_set(f, g, A | D);
	snprintf(what, sizeof(what), "level-%u leaf retagged TDP_SW(1)%s", level,
		 extra ? " by a larger map" : "");
	assert_int_equal(tdp_map(&f->pgt, g, h, sz + extra, TDP_PROT_RW | TDP_SW(1), 0, NULL), 0);
	sf_expect_lookup(f, g, h, level, TDP_PROT_RW | TDP_SW(1));
	sf_expect_ad(f, g, A | D, what);
	snprintf(what, sizeof(what), "level-%u leaf retagged TDP_SW(2)%s", level,
		 extra ? " by a larger map" : "");
	assert_int_equal(tdp_map(&f->pgt, g, h, sz + extra, TDP_PROT_RW | TDP_SW(2), 0, NULL), 0);
	sf_expect_ad(f, g, A | D, what);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(tdp_collect_dirty(&f->pgt, g, sz, bm), 0);
	bm_expect_run(bm, 0, sz / f->P, what);

	/* other permissions, the same page: the flags stay */
	sf_hw_set(f, g, A | D);
	assert_int_equal(tdp_map(&f->pgt, g, h, sz + extra, TDP_PROT_R | TDP_SW(2), 0, NULL), 0);
	sf_expect_lookup(f, g, h, level, TDP_PROT_R | TDP_SW(2));
	sf_expect_ad(f, g, A | D, "permissions changed by map");
	/* another output address: a new leaf, flags clear */
	assert_int_equal(tdp_map(&f->pgt, g, h + 16 * f->blk, sz + extra, TDP_PROT_R, 0, NULL), 0);
	sf_expect_lookup(f, g, h + 16 * f->blk, level, TDP_PROT_R);
	sf_expect_ad(f, g, 0, "output address changed by map");
	assert_int_equal(tdp_unmap(&f->pgt, g, sz + extra, NULL), 0);
}

static void t_map_swbits_keeps_ad(void **state)
{
	const struct sf_param *pr = *state;
	struct sf f;

	sf_init(&f, pr->c, pr->shared);
	swbits_case(&f, G0, H0, f.P, 0, 0);
	swbits_case(&f, G0, H0, f.P, 0, f.P);
	swbits_case(&f, G0 + 4 * f.blk, H0 + 8 * f.blk, f.blk, 1, 0);
	swbits_case(&f, G0 + 4 * f.blk, H0 + 8 * f.blk, f.blk, 1, f.P);
	sf_fini(&f);
}

int main(void)
{
	static const struct sf_case cases[] = {
		{ "t_map_swbits_keeps_ad", t_map_swbits_keeps_ad },
	};

	return sf_run_ad_cases("map_swbits_ad", cases, 1);
}
