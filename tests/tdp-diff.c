/* SPDX-License-Identifier: MIT */
/*
 * tdp-diff: the test kit's differential driver from the command line.
 *
 *   tdp-diff [--format arm64] [--config NAME]... [--ops N] [--seed S]
 *            [--fail-percent P] [--no-shrink]
 *
 * Runs N operations per configuration (default: every configuration of the
 * format) and prints operations per second; exits 1 on the first failed
 * check, after printing the seed and a shrunk reproducer.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tdp/testkit.h>

struct dcfg {
	const char *name;
	enum tdp_format format;
	unsigned int granule_shift, ia, oa;
	uint32_t flags;
	unsigned int leaf_levels;
};

/*
 * arm64: every granule, concatenated roots, XNX, a leaf cap, 52-bit output.
 * EPT: 4 and 5 levels, MBEC, execute-only, no 1 GiB pages, suppress-#VE, A/D.
 * RISC-V: Sv39x4/48x4/57x4, Svnapot, Svpbmt, Svadu (hardware A/D) and Svade
 * (preset A/D), Svvptc, a leaf cap.
 */
static const struct dcfg cfgs[] = {
	{ "arm64-4k-48", TDP_FORMAT_ARM64_S2, 12, 48, 48, 0, 0 },
	{ "arm64-4k-40-xnx", TDP_FORMAT_ARM64_S2, 12, 40, 40, TDP_CFG_ARM64_XNX, 0 },
	{ "arm64-4k-32", TDP_FORMAT_ARM64_S2, 12, 32, 36, 0, 0 },
	{ "arm64-4k-42-cap2", TDP_FORMAT_ARM64_S2, 12, 42, 44, 0, 2 },
	{ "arm64-16k-36", TDP_FORMAT_ARM64_S2, 14, 36, 36, 0, 0 },
	{ "arm64-16k-48-xnx", TDP_FORMAT_ARM64_S2, 14, 48, 48, TDP_CFG_ARM64_XNX, 0 },
	{ "arm64-64k-42", TDP_FORMAT_ARM64_S2, 16, 42, 42, 0, 0 },
	{ "arm64-64k-52", TDP_FORMAT_ARM64_S2, 16, 52, 52, 0, 0 },
	{ "ept-4l", TDP_FORMAT_X86_EPT, 12, 48, 46, 0, 0 },
	{ "ept-5l-mbec-xo", TDP_FORMAT_X86_EPT, 12, 57, 52,
	  TDP_CFG_X86_MBEC | TDP_CFG_X86_EXEC_ONLY, 0 },
	{ "ept-4l-no1g-sve-ad", TDP_FORMAT_X86_EPT, 12, 48, 39, TDP_CFG_X86_SVE | TDP_CFG_X86_AD, 2 },
	{ "ept-4l-mbec", TDP_FORMAT_X86_EPT, 12, 48, 46, TDP_CFG_X86_MBEC, 0 },
	{ "riscv-sv39x4", TDP_FORMAT_RISCV_G, 12, 41, 44, 0, 0 },
	{ "riscv-sv39x4-napot-adu", TDP_FORMAT_RISCV_G, 12, 41, 40,
	  TDP_CFG_RISCV_SVNAPOT | TDP_CFG_RISCV_SVADU, 0 },
	{ "riscv-sv48x4-pbmt-napot-cap2", TDP_FORMAT_RISCV_G, 12, 50, 56,
	  TDP_CFG_RISCV_SVPBMT | TDP_CFG_RISCV_SVNAPOT, 2 },
	{ "riscv-sv57x4-vptc-adu", TDP_FORMAT_RISCV_G, 12, 59, 56,
	  TDP_CFG_RISCV_SVVPTC | TDP_CFG_RISCV_SVADU, 0 },
};
#define NCFGS (sizeof(cfgs) / sizeof(cfgs[0]))

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void print_line(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

static void usage(void)
{
	fprintf(stderr, "usage: tdp-diff [--format arm64|ept|riscv] [--config NAME]... [--ops N per config] "
			"[--seed S] [--fail-percent P] [--no-shrink] [--list]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' }, { "config", required_argument, NULL, 'c' },
		{ "ops", required_argument, NULL, 'n' },    { "seed", required_argument, NULL, 's' },
		{ "fail-percent", required_argument, NULL, 'p' },
		{ "no-shrink", no_argument, NULL, 'x' },    { "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 }
	};
	const char *only[NCFGS];
	const char *format = NULL;
	size_t nonly = 0, ran = 0;
	uint64_t ops = 25000, seed = 1, total = 0;
	unsigned int fail_percent = 10;
	bool shrink = true;
	int o, rc = 0;
	double t0;

	while ((o = getopt_long(argc, argv, "f:c:n:s:p:xlh", opts, NULL)) != -1) {
		switch (o) {
		case 'f':
			if (strcmp(optarg, "arm64") != 0 && strcmp(optarg, "ept") != 0 &&
			    strcmp(optarg, "riscv") != 0) {
				fprintf(stderr, "tdp-diff: unknown format %s (arm64, ept, riscv)\n",
					optarg);
				return 2;
			}
			format = optarg;
			break;
		case 'c':
			if (nonly < NCFGS)
				only[nonly++] = optarg;
			break;
		case 'n':
			ops = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			fail_percent = (unsigned int)atoi(optarg);
			break;
		case 'x':
			shrink = false;
			break;
		case 'l':
			for (size_t i = 0; i < NCFGS; i++)
				printf("%s\n", cfgs[i].name);
			return 0;
		default:
			usage();
			return o == 'h' ? 0 : 2;
		}
	}
	t0 = now_s();
	for (size_t i = 0; i < NCFGS && rc == 0; i++) {
		struct tdp_tk_diff_stats st;
		struct tdp_tk_diff_opts d;
		bool want = nonly == 0;
		double t1;

		for (size_t k = 0; k < nonly; k++)
			want |= strcmp(only[k], cfgs[i].name) == 0;
		if (format && strncmp(cfgs[i].name, format, strlen(format)) != 0)
			want = false;
		if (!want)
			continue;
		memset(&d, 0, sizeof(d));
		d.cfg.format = cfgs[i].format;
		d.cfg.granule_shift = cfgs[i].granule_shift;
		d.cfg.ia_bits = cfgs[i].ia;
		d.cfg.oa_bits = cfgs[i].oa;
		d.cfg.flags = cfgs[i].flags;
		d.cfg.leaf_levels = cfgs[i].leaf_levels;
		d.seed = seed + i;
		d.ops = ops;
		d.fail_percent = fail_percent;
		d.shrink = shrink;
		d.print = print_line;
		t1 = now_s();
		rc = tdp_tk_diff_run(&d, &st);
		printf("%-18s %9llu ops %8.0f ops/s  (map %llu, unmap %llu, zap %llu, split %llu, "
		       "protect %llu, -EEXIST %llu, -ENOMEM %llu, TLB fills %llu)%s\n",
		       cfgs[i].name, (unsigned long long)st.ops, (double)st.ops / (now_s() - t1),
		       (unsigned long long)st.map, (unsigned long long)st.unmap,
		       (unsigned long long)st.zap, (unsigned long long)st.split,
		       (unsigned long long)st.protect, (unsigned long long)st.noreplace_eexist,
		       (unsigned long long)st.enomem, (unsigned long long)st.tlb_fills,
		       rc ? "  FAILED" : "");
		total += st.ops;
		ran++;
	}
	if (ran == 0) {
		fprintf(stderr, "tdp-diff: no configuration matched\n");
		return 2;
	}
	printf("total: %llu operations in %.1f s, %.0f ops/s\n", (unsigned long long)total,
	       now_s() - t0, (double)total / (now_s() - t0));
	printf("%zu passed, %d failed\n", rc ? ran - 1 : ran, rc ? 1 : 0);
	return rc ? 1 : 0;
}
