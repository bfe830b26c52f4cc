/* SPDX-License-Identifier: MIT */
/*
 * tdp-bench: what the workloads measure and what the report prints.
 *
 * The driver (tdp-bench.c) fills one bench_row per (configuration,
 * workload, operation); report.c prints the rows as a table, CSV or JSON
 * and draws them as an SVG bar chart. The two share nothing else.
 */
#ifndef TDP_BENCH_H
#define TDP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Median, minimum and maximum over the repetitions, in ns per unit. */
struct bench_stat {
	double med, min, max;
};

struct bench_row {
	const char *config;   /* "ept-4l", "arm64-4k-48", ... */
	const char *workload; /* "W1", ..., "W5", "zap", "protect", "lookup", "young", "dirty" */
	const char *op;       /* "map", "unmap", "split", "zap", "wrprot", "lookup", ... */
	const char *unit;     /* what ns are divided by: "page" (4K/16K/64K leaf) or "call" */
	uint64_t units;       /* number of units in one repetition */
	uint64_t bytes;       /* guest-physical bytes the units cover; 0: no range (lookup) */
	uint64_t calls;       /* library calls in one repetition */
	uint64_t entries;     /* entries the operation writes (the floor writes as many) */
	uint64_t tables;      /* table pages allocated (the floor zeroes as many) */
	struct bench_stat ns; /* ns per unit */
	double floor_ns;      /* the floor's median ns per unit; < 0: no floor for this row */
	uint64_t flushes;     /* TLB callbacks (flush_range + flush_all) of one repetition */
	/*
	 * Shared-mode rows (tdp-bench --threads) only; 0 in every other row.
	 * The report prints the two as extra columns (table, CSV, JSON) only
	 * when some row has threads != 0, so other output keeps its shape.
	 */
	unsigned int threads; /* threads mapping into the one table at once; 0: exclusive mode */
	double scale;         /* ns/unit of the 1-thread shared row / this row's; <= 0: none */
};

/* Run parameters echoed in JSON output. */
struct bench_meta {
	int reps;
	uint64_t size;    /* bytes of the W1/W2/W5/zap/protect range */
	uint64_t calls;   /* W4 and lookup calls */
	const char *cc;   /* compiler that built the library and tdp-bench */
	int threads;      /* --threads (shared-mode W4 rows); 0: not given, not printed */
};

/* x floor: median / floor median, or a negative value when the row has no floor. */
static inline double bench_ratio(const struct bench_row *r)
{
	return r->floor_ns > 0 ? r->ns.med / r->floor_ns : -1.0;
}

/* Throughput: millions of units per second, from the median. */
static inline double bench_munits(const struct bench_row *r)
{
	return r->ns.med > 0 ? 1e3 / r->ns.med : -1.0;
}

/* GiB of guest-physical memory covered per second, from the median; < 0: none (no range). */
static inline double bench_gibs(const struct bench_row *r)
{
	if (!r->bytes || !r->units || !(r->ns.med > 0))
		return -1.0;
	return (double)r->bytes / (double)r->units / r->ns.med * 1e9 / (double)(1ull << 30);
}

/* Does any row come from shared mode (the threads and scale columns)? */
static inline bool bench_threaded(const struct bench_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].threads)
			return true;
	return false;
}

/* Fixed-width table for people (the default output). */
void report_table(FILE *f, const struct bench_row *rows, size_t n);
/* One header line, then one line per row; numbers unrounded enough to re-plot. */
void report_csv(FILE *f, const struct bench_row *rows, size_t n);
/* {"meta": {...}, "rows": [{...}, ...]}; strings escaped, no NaN/Inf emitted. */
void report_json(FILE *f, const struct bench_meta *meta, const struct bench_row *rows, size_t n);
/*
 * A horizontal bar chart of ns per unit (median, with a min..max whisker and
 * the floor as a tick), one group per workload/op, one bar per
 * configuration, on a log scale so 0.3 ns and 3000 ns rows both read.
 * Returns 0, or -1 with errno set if the file cannot be written.
 */
int report_svg(const char *path, const struct bench_meta *meta, const struct bench_row *rows,
	       size_t n);
/*
 * The same chart into an open file. Returns 0, or -1 with errno ENOMEM; write
 * errors are the caller's to find (ferror, fclose), as with the other writers.
 */
int report_svg_write(FILE *f, const struct bench_meta *meta, const struct bench_row *rows,
		     size_t n);

#endif
