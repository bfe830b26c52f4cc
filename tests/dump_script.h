/* SPDX-License-Identifier: MIT */
/*
 * The little language of tdp-dump and of the golden dumps (tests/dump/):
 * build a table on one of the kit's configurations, change it, dump it.
 * One command per line:
 *
 *   config NAME [ad] [napot] [pbmt] [pma] [vptc] [sve] [mbec] [xo] [xnx] [leaf=N]
 *   map GPA HPA SIZE PERMS [wb|nc|dev|dev-s] [sw=N] [fmt=N] [max=L] [noreplace]
 *   unmap GPA SIZE          zap GPA SIZE          split GPA SIZE LEVEL
 *   protect GPA SIZE [-PERMS] [+PERMS]
 *   access GPA r|w          (the hardware's A, and D for w, in the leaf)
 *   dump [text|dot] [empty] [nofold] [GPA SIZE]
 *   stats [GPA SIZE]
 *
 * NAME is a configuration of tests/kit/cfgs.c ("4K/40", "64K/42",
 * "ept-4l", "sv48x4-napot-pbmt-adu", ...; ds_list prints them); the
 * words after it add flags (ad: EPT A/D or RISC-V Svadu). Numbers are C
 * literals with an optional K, M, G or T suffix. PERMS: r, w, x (both
 * execute bits), p (privileged execute only), u (user execute only).
 * Without a range, dump and stats cover the whole table.
 */
#ifndef TDP_TESTS_DUMP_SCRIPT_H
#define TDP_TESTS_DUMP_SCRIPT_H

#include <stdio.h>

#include <tdp/testkit.h>

struct ds {
	struct tdp_tk_pool *pool;
	struct tdp_pgtable pgt;
	bool live;
	FILE *out;      /* where dump and stats write */
	char err[240];  /* the last command's error */
};

/* out: where dump and stats write. */
void ds_init(struct ds *s, FILE *out);
void ds_fini(struct ds *s);
/* Run one command line (blank and '#' lines do nothing). 0, or -1 with s->err. */
int ds_exec(struct ds *s, const char *line);
/* Dump / stats over the whole table or [gpa, gpa + size) (size 0: whole). */
int ds_dump(struct ds *s, uint64_t gpa, uint64_t size, unsigned int flags);
int ds_stats(struct ds *s, uint64_t gpa, uint64_t size);
/* The configuration names, one a line. */
void ds_list(FILE *f);

/*
 * A golden file: "# " lines are comments, "$ " lines commands, the other
 * lines the output the commands before them wrote. Returns the file as it
 * should be (comments and commands kept, each command followed by its
 * output, an error as "! " and its text), malloc'd, or NULL on no memory.
 */
char *ds_golden(const char *text);

#endif
