/* SPDX-License-Identifier: MIT */
/*
 * tdp-dump: build a table from a few commands and print what it holds, as
 * text or Graphviz DOT (tdp_dump), and its counts (tdp_stats).
 *
 *   tdp-dump --config NAME [--flag F]... [--dot] [--empty] [--no-fold]
 *            [--range GPA:SIZE] [--stats] [--no-dump] [-f FILE]... [COMMAND]...
 *   tdp-dump --list
 *   tdp-dump --regen FILE...
 *
 * Commands (dump_script.h) come from the files, then the arguments, one
 * per argument: 'map 0x0 0x200000 2M rw' 'unmap 0x1000 4K'. The dump
 * covers the whole table unless --range says otherwise; --stats prints the
 * counts after it (to stderr with --dot, which must stay valid DOT).
 * --regen rewrites golden files (tests/dump/NAME.txt) with what their
 * commands print now. Exit status: 0, 1 when a command fails, 2 on usage.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump_script.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tdp-dump --config NAME [--flag F]... [--dot] [--empty] [--no-fold]\n"
		   "                [--range GPA:SIZE] [--stats] [--no-dump] [-f FILE]... "
		   "[COMMAND]...\n"
		   "       tdp-dump --list | --regen FILE...\n"
		   "commands: map GPA HPA SIZE PERMS [wb|nc|dev|dev-s] [sw=N] [fmt=N] [max=L] "
		   "[noreplace]\n"
		   "          unmap|zap GPA SIZE, split GPA SIZE LEVEL, protect GPA SIZE [-PERMS] "
		   "[+PERMS],\n"
		   "          access GPA r|w, dump [text|dot] [empty] [nofold] [GPA SIZE], stats "
		   "[GPA SIZE]\n"
		   "flags: ad napot pbmt pma vptc (RISC-V), ad mbec xo sve (EPT), xnx (arm64), "
		   "leaf=N\n");
}

static char *slurp(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		char *nb = realloc(buf, len + n + 1);

		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		memcpy(buf + len, chunk, n);
		len += n;
	}
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	if (f != stdin)
		fclose(f);
	return buf;
}

static int regen(const char *path)
{
	char *text = slurp(path), *now;
	FILE *f;
	int rc = 0;

	if (!text) {
		perror(path);
		return 1;
	}
	now = ds_golden(text);
	if (!now || !(f = fopen(path, "w"))) {
		perror(path);
		rc = 1;
	} else {
		if (fputs(now, f) == EOF)
			rc = 1;
		if (fclose(f) != 0)
			rc = 1;
		if (strcmp(now, text) != 0)
			fprintf(stderr, "tdp-dump: %s changed\n", path);
	}
	free(now);
	free(text);
	return rc;
}

/* Run a script file's lines; the line number in the error. */
static int run_file(struct ds *s, const char *path)
{
	char *text = slurp(path), *line, *save = NULL;
	unsigned int no = 0;

	if (!text) {
		perror(path);
		return 1;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		no++;
		if (ds_exec(s, line) != 0) {
			fprintf(stderr, "tdp-dump: %s:%u: %s\n", path, no, s->err);
			free(text);
			return 1;
		}
	}
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "flag", required_argument, NULL, 'F' },
		{ "dot", no_argument, NULL, 'd' },          { "empty", no_argument, NULL, 'e' },
		{ "no-fold", no_argument, NULL, 'n' },      { "range", required_argument, NULL, 'r' },
		{ "stats", no_argument, NULL, 's' },        { "no-dump", no_argument, NULL, 'q' },
		{ "file", required_argument, NULL, 'f' },   { "list", no_argument, NULL, 'l' },
		{ "regen", no_argument, NULL, 'R' },        { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *files[32];
	char cfgline[512] = "";
	size_t nfiles = 0;
	unsigned int flags = TDP_DUMP_TEXT;
	uint64_t gpa = 0, size = 0;
	bool stats = false, dump = true, do_regen = false;
	struct ds s;
	int o, rc = 0;

	while ((o = getopt_long(argc, argv, "c:F:denr:sqf:lRh", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			if (cfgline[0]) {
				fprintf(stderr, "tdp-dump: one --config\n");
				return 2;
			}
			snprintf(cfgline, sizeof(cfgline), "config %s", optarg);
			break;
		case 'F':
			if (!cfgline[0]) {
				fprintf(stderr, "tdp-dump: --flag after --config\n");
				return 2;
			}
			strncat(cfgline, " ", sizeof(cfgline) - strlen(cfgline) - 1);
			strncat(cfgline, optarg, sizeof(cfgline) - strlen(cfgline) - 1);
			break;
		case 'd':
			flags = (flags & ~TDP_DUMP_FORMAT_MASK) | TDP_DUMP_DOT;
			break;
		case 'e':
			flags |= TDP_DUMP_EMPTY;
			break;
		case 'n':
			flags |= TDP_DUMP_NOFOLD;
			break;
		case 'r': {
			char *colon = strchr(optarg, ':'), *end;

			if (!colon) {
				usage(stderr);
				return 2;
			}
			gpa = strtoull(optarg, &end, 0);
			size = strtoull(colon + 1, &end, 0);
			if (end == colon + 1 || *end || size == 0) {
				fprintf(stderr, "tdp-dump: --range GPA:SIZE (C numbers, SIZE > 0)\n");
				return 2;
			}
			break;
		}
		case 's':
			stats = true;
			break;
		case 'q':
			dump = false;
			break;
		case 'f':
			if (nfiles == sizeof(files) / sizeof(files[0])) {
				fprintf(stderr, "tdp-dump: too many files\n");
				return 2;
			}
			files[nfiles++] = optarg;
			break;
		case 'l':
			ds_list(stdout);
			return 0;
		case 'R':
			do_regen = true;
			break;
		default:
			usage(o == 'h' ? stdout : stderr);
			return o == 'h' ? 0 : 2;
		}
	}
	if (do_regen) {
		if (optind == argc) {
			usage(stderr);
			return 2;
		}
		for (int i = optind; i < argc; i++)
			rc |= regen(argv[i]);
		return rc;
	}
	ds_init(&s, stdout);
	if (cfgline[0] && ds_exec(&s, cfgline) != 0) {
		fprintf(stderr, "tdp-dump: %s\n", s.err);
		ds_fini(&s);
		return 1;
	}
	for (size_t i = 0; i < nfiles && rc == 0; i++)
		rc = run_file(&s, files[i]);
	for (int i = optind; i < argc && rc == 0; i++) {
		if (ds_exec(&s, argv[i]) != 0) {
			fprintf(stderr, "tdp-dump: %s: %s\n", argv[i], s.err);
			rc = 1;
		}
	}
	if (rc == 0 && !s.live) {
		fprintf(stderr, "tdp-dump: no table: give --config NAME (--list shows them)\n");
		rc = 2;
	}
	if (rc == 0 && dump && ds_dump(&s, gpa, size, flags) != 0) {
		fprintf(stderr, "tdp-dump: %s\n", s.err);
		rc = 1;
	}
	if (rc == 0 && stats) {
		/* DOT on stdout must stay a graph */
		s.out = (flags & TDP_DUMP_FORMAT_MASK) == TDP_DUMP_DOT && dump ? stderr : stdout;
		if (ds_stats(&s, gpa, size) != 0) {
			fprintf(stderr, "tdp-dump: %s\n", s.err);
			rc = 1;
		}
	}
	ds_fini(&s);
	return rc;
}
