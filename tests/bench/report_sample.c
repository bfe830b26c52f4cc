/* SPDX-License-Identifier: MIT */
/*
 * Feeds bench/report.c a fixed set of rows so check_report.py can parse
 * every output format. The rows are chosen for the edge cases, not realism:
 * a config name that needs escaping in CSV, JSON and XML, a row without a
 * floor, a zero minimum (log-scale clamp), and medians on both sides of
 * 1000 ns (the table switches format there).
 *
 * Usage: report_sample table|csv|json
 *        report_sample svg PATH
 * check_report.py hard-codes the same names and counts; change both together.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define ODD_CONFIG "odd<&\"name>,1"

static const struct bench_row rows[] = {
	/*
	 * units, bytes (a W1 range of 1 GiB; 0 for lookups, which cover none),
	 * calls, entries, tables; the last two fields: threads and scale, 0 in
	 * rows from exclusive mode
	 */
	{ "arm64-4k-48", "W1", "map", "page", 262144, 1ull << 30, 1, 262144, 513,
	  { 0.42, 0.40, 0.51 }, 0.21, 0, 0, 0 },
	{ "arm64-4k-48", "W1", "unmap", "page", 262144, 1ull << 30, 1, 262144, 0,
	  { 1.7, 1.6, 2.3 }, 0.09, 1, 0, 0 },
	/* the one row without a floor */
	{ "arm64-4k-48", "W4", "lookup", "call", 100000, 0, 100000, 0, 0, { 23.5, 22.0, 31.0 }, -1,
	  0, 0, 0 },
	{ ODD_CONFIG, "W1", "map", "page", 262144, 1ull << 30, 1, 262144, 513, { 0.88, 0.85, 0.97 },
	  0.22, 0, 0, 0 },
	{ ODD_CONFIG, "W1", "unmap", "page", 262144, 1ull << 30, 1, 262144, 0, { 3.1, 0.0, 4.4 },
	  0.10, 262144, 0, 0 },
	{ ODD_CONFIG, "W4", "lookup", "call", 100000, 0, 100000, 0, 0, { 3456.7, 3300.2, 4100.9 },
	  2.5, 0, 0, 0 },
};

/* A tab and a quote, so the JSON meta string needs escaping as well. */
static const struct bench_meta meta = { 5, 1u << 30, 100000, "cc 12.2\t\"sample\"", 0 };

int main(int argc, char **argv)
{
	size_t n = sizeof(rows) / sizeof(rows[0]);

	if (argc == 2 && !strcmp(argv[1], "table")) {
		report_table(stdout, rows, n);
	} else if (argc == 2 && !strcmp(argv[1], "csv")) {
		report_csv(stdout, rows, n);
	} else if (argc == 2 && !strcmp(argv[1], "json")) {
		report_json(stdout, &meta, rows, n);
	} else if (argc == 3 && !strcmp(argv[1], "svg")) {
		if (report_svg(argv[2], &meta, rows, n) != 0) {
			fprintf(stderr, "report_svg %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
	} else {
		fprintf(stderr, "usage: report_sample table|csv|json | svg PATH\n");
		return 2;
	}
	/* stdout to a full disk or closed pipe must not look like success */
	return fflush(stdout) != 0 || ferror(stdout) ? 1 : 0;
}
