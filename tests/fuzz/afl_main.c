/* SPDX-License-Identifier: MIT */
/*
 * AFL++ (and plain replay) entry point: reads one input from the file named
 * on the command line, or from standard input, and runs the same decoder as
 * the libFuzzer target. Built once per format with -DFUZZ_FORMAT=...
 */
#include <stdio.h>
#include <stdlib.h>

#include <tdp/testkit.h>

#define MAX_INPUT (1u << 20)

int main(int argc, char **argv)
{
	static uint8_t buf[MAX_INPUT];
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : stdin;
	size_t n;

	if (!f) {
		perror(argv[1]);
		return 2;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (f != stdin)
		fclose(f);
	if (tdp_tk_diff_run_bytes(FUZZ_FORMAT, buf, n))
		abort();
	return 0;
}
