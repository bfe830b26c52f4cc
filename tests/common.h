/* SPDX-License-Identifier: MIT */
/*
 * Shared by the test programs: run a list of test bodies once per
 * configuration, each as its own cmocka test named "body[4K/40]" or
 * "body[ept-4l]", with a fresh pool and table (struct tk_fx) of the
 * configuration's format that is destroyed and leak-checked after the body.
 */
#ifndef TDP_TESTS_COMMON_H
#define TDP_TESTS_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kit_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ULL(x) ((unsigned long long)(x))

struct tcase {
	const char *name;
	void (*fn)(struct tk_fx *fx);
	uint32_t cfg_flags;       /* tdp_config.flags, as they are (format-specific tests) */
	unsigned int leaf_levels; /* tdp_config.leaf_levels (the tighter of this and the config's) */
	bool xlate;               /* virt_to_phys/phys_to_virt instead of linear_offset */
	bool no_fx;               /* the body sets up its own tables (fx->cd only) */
	uint32_t feats;           /* TK_FEAT_*: turned into the flags of each config's format */
};

struct trun {
	const struct tcase *tc;
	const struct tk_cfgdesc *cd;
	struct tk_fx fx;
};

static inline void trun_body(void **state)
{
	struct trun *r = *state;

	if (r->tc->no_fx) {
		memset(&r->fx, 0, sizeof(r->fx));
		r->fx.cd = r->cd;
		r->tc->fn(&r->fx);
		return;
	}
	tk_fx_init_ex(&r->fx, r->cd, r->tc->cfg_flags | tk_feat_flags(r->cd->format, r->tc->feats),
		      r->tc->leaf_levels, r->tc->xlate);
	r->tc->fn(&r->fx);
	tk_fx_fini(&r->fx);
}

static inline int trun_teardown(void **state)
{
	struct trun *r = *state;

	/* after a failed body: release without checks */
	if (r->fx.env) {
		tk_model_free(&r->fx.m);
		tdp_tk_tlb_delete(r->fx.tlb); /* before its pool: it unhooks itself */
		r->fx.tlb = NULL;
		tk_env_free(r->fx.env);
		r->fx.env = NULL;
	}
	return 0;
}

/* Run every case on every configuration in cfgs (NULL: tk_cfgs_ops). */
static inline int run_cases(const char *group, const struct tcase *tc, size_t ntc,
			    const struct tk_cfgdesc *const *cfgs, size_t ncfg)
{
	struct CMUnitTest *t;
	struct trun *runs;
	char **names;
	size_t n = 0;
	int rc;

	if (!cfgs) {
		cfgs = tk_cfgs_ops;
		ncfg = tk_nr_cfgs_ops;
	}
	t = calloc(ntc * ncfg, sizeof(*t));
	runs = calloc(ntc * ncfg, sizeof(*runs));
	names = calloc(ntc * ncfg, sizeof(*names));
	if (!t || !runs || !names)
		return 1;
	for (size_t i = 0; i < ntc; i++) {
		for (size_t c = 0; c < ncfg; c++) {
			size_t len = strlen(tc[i].name) + strlen(cfgs[c]->name) + 4;

			/* a need the format cannot meet at all: nothing to test there */
			if (!tk_feat_supported(cfgs[c]->format, tc[i].feats))
				continue;

			names[n] = malloc(len);
			if (!names[n])
				return 1;
			snprintf(names[n], len, "%s[%s]", tc[i].name, cfgs[c]->name);
			runs[n].tc = &tc[i];
			runs[n].cd = cfgs[c];
			t[n].name = names[n];
			t[n].test_func = trun_body;
			t[n].teardown_func = trun_teardown;
			t[n].initial_state = &runs[n];
			n++;
		}
	}
	rc = _cmocka_run_group_tests(group, t, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(runs);
	free(t);
	return rc;
}

/* Run on the configurations of tk_cfgs_ops that have this format. */
static inline int run_cases_format(const char *group, const struct tcase *tc, size_t ntc,
				   enum tdp_format format)
{
	const struct tk_cfgdesc *sel[32];
	size_t n = 0;

	for (size_t i = 0; i < tk_nr_cfgs_ops && n < 32; i++)
		if (tk_cfgs_ops[i]->format == format)
			sel[n++] = tk_cfgs_ops[i];
	return run_cases(group, tc, ntc, sel, n);
}

/* Run on every arm64 configuration with known geometry (tk_cfgs_all). */
static inline int run_cases_all_cfgs(const char *group, const struct tcase *tc, size_t ntc)
{
	const struct tk_cfgdesc *all[32];
	size_t n;

	for (n = 0; n < tk_nr_cfgs_all && n < 32; n++)
		all[n] = &tk_cfgs_all[n];
	return run_cases(group, tc, ntc, all, n);
}

/* Run once, on 4K/40 (two concatenated level-1 root tables). */
static inline int run_cases_once(const char *group, const struct tcase *tc, size_t ntc)
{
	const struct tk_cfgdesc *one[1] = { &tk_cfgs_all[2] };

	return run_cases(group, tc, ntc, one, 1);
}

#define CASE(body) { .name = #body, .fn = body }
/* with a cap on the leaf levels */
#define CASE_LEAF(body, n) { .name = #body, .fn = body, .leaf_levels = (n) }
/* with virt_to_phys/phys_to_virt */
#define CASE_XLATE(body) { .name = #body, .fn = body, .xlate = true }
/* with format-neutral needs (TK_FEAT_*) */
#define CASE_FEAT(body, f) { .name = #body, .fn = body, .feats = (f) }
/* with raw configuration flags (format-specific tests only) */
#define CASE_FLAGS(body, f) { .name = #body, .fn = body, .cfg_flags = (f) }
/* the body builds its own tables */
#define CASE_NOFX(body) { .name = #body, .fn = body, .no_fx = true }

/* Attributes used throughout. */
#define A_RW  (TDP_PROT_RW | TDP_MT_NORMAL_WB)
#define A_RWX (TDP_PROT_RWX | TDP_MT_NORMAL_WB)
#define A_RO  (TDP_PROT_R | TDP_MT_NORMAL_WB)
#define A_DEV (TDP_PROT_RW | TDP_MT_DEVICE)
/* an attribute word as the fixture's table can hold it (tk_attr_fit) */
#define FIT(fx, a) tk_attr_fit(&(fx)->pgt.cfg, (a))

/*
 * `set`, or set | R where the format refuses the change without it (EPT with
 * execute-only and RISC-V, where some leaf may lack R: setting W, or
 * clearing X, could leave it write-only or with nothing).
 */
static inline tdp_attr_t set_keeping_r(const struct tk_fx *fx, tdp_attr_t clear, tdp_attr_t set)
{
	return tk_prot_change_ok(&fx->pgt.cfg, clear, set) ? set : set | TDP_PROT_R;
}

/* Leaf entries the reference walker sees in [gpa, gpa + size) at a level (a group counts each). */
static inline size_t leaves_in(struct tk_fx *fx, uint64_t gpa, uint64_t size, unsigned int level)
{
	struct tk_snap s;
	size_t n = 0;

	tk_snap_take(fx->env, &fx->pgt, &s);
	for (size_t i = 0; i < s.nr; i++)
		if (s.leaves[i].gpa < gpa + size && gpa < s.leaves[i].gpa + s.leaves[i].size &&
		    s.leaves[i].level == level)
			n += s.leaves[i].size / tdp_level_size(&fx->pgt, level); /* a group: each entry */
	tk_snap_free(&s);
	return n;
}

/* The reference leaf covering gpa must sit at `level` and translate to hpa. */
static inline void expect_leaf(struct tk_fx *fx, uint64_t gpa, unsigned int level, uint64_t hpa)
{
	struct tk_leaf l;
	int rc = tk_ref_translate(fx->env, &fx->pgt, gpa, &l);

	if (rc != 0)
		fail_msg("gpa 0x%llx: no mapping (%d), expected a level-%u leaf", ULL(gpa), rc, level);
	if (l.level != level || l.pa + (gpa - l.gpa) != hpa)
		fail_msg("gpa 0x%llx: level-%u leaf -> 0x%llx, expected level %u -> 0x%llx", ULL(gpa),
			 l.level, ULL(l.pa + (gpa - l.gpa)), level, ULL(hpa));
}

/* gpa translates to hpa, whatever the leaf size. */
static inline void expect_hpa(struct tk_fx *fx, uint64_t gpa, uint64_t hpa)
{
	struct tk_leaf l;
	int rc = tk_ref_translate(fx->env, &fx->pgt, gpa, &l);

	if (rc != 0)
		fail_msg("gpa 0x%llx: no mapping (%d), expected -> 0x%llx", ULL(gpa), rc, ULL(hpa));
	if (l.pa + (gpa - l.gpa) != hpa)
		fail_msg("gpa 0x%llx -> 0x%llx, expected 0x%llx", ULL(gpa), ULL(l.pa + (gpa - l.gpa)),
			 ULL(hpa));
}

static inline void expect_unmapped(struct tk_fx *fx, uint64_t gpa)
{
	struct tk_leaf l;
	int rc = tk_ref_translate(fx->env, &fx->pgt, gpa, &l);

	if (rc != -TDP_ENOENT)
		fail_msg("gpa 0x%llx: expected no mapping, got %d (level %u -> 0x%llx)", ULL(gpa), rc,
			 rc == 0 ? l.level : 0, rc == 0 ? ULL(l.pa) : 0ull);
}

#endif
