/* SPDX-License-Identifier: MIT */
/*
 * tdp-bench's output files: the results directory (--out DIR: the table,
 * CSV, JSON and SVG of one run) and the plot (--plot FILE).
 *
 * Every file is created before anything is measured, as a temporary file
 * next to its final name: an unwritable path fails in a second, not after
 * the run, and a failed run neither leaves half-written files behind nor
 * replaces the ones a previous run wrote. outputs_commit renames them into
 * place once the writers are done.
 */
#ifndef TDP_BENCH_OUTPUTS_H
#define TDP_BENCH_OUTPUTS_H

#include <stddef.h>
#include <stdio.h>

enum out_kind { OUT_TABLE, OUT_CSV, OUT_JSON, OUT_SVG, OUT_PLOT, OUT_KINDS };

/* Names of OUT_TABLE..OUT_SVG inside the results directory. */
extern const char *const outputs_names[OUT_SVG + 1];

#define OUT_MAX_MADE 32

struct outputs {
	FILE *f[OUT_KINDS];       /* NULL: not asked for */
	char *path[OUT_KINDS];    /* final name */
	char *tmp[OUT_KINDS];     /* what f writes until outputs_commit */
	char *dir;                /* the results directory, absolute; NULL without --out */
	char *made[OUT_MAX_MADE]; /* directories created for --out, removed if the run fails */
	size_t nmade;
};

/*
 * Create dir (and its missing parents) if not NULL, and the temporary files
 * of everything asked for. Either may be NULL. Returns 0, or -1 after saying
 * on stderr which path failed, with nothing left behind.
 */
int outputs_open(struct outputs *o, const char *dir, const char *plot);
/* Close every file, checking for write errors, and rename each into place. */
int outputs_commit(struct outputs *o);
/*
 * Remove the temporary files and the directories outputs_open created; after
 * a successful outputs_commit it only frees.
 */
void outputs_discard(struct outputs *o);

#endif
