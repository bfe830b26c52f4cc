/* SPDX-License-Identifier: MIT */
/* tdp-bench's output files: see outputs.h for why they are made up front. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outputs.h"

const char *const outputs_names[OUT_SVG + 1] = { "tdp-bench.txt", "tdp-bench.csv",
						 "tdp-bench.json", "tdp-bench.svg" };

/* mkdir -p, remembering what it created so a failed run can take it back. */
static int make_dirs(struct outputs *o, const char *dir)
{
	struct stat st;
	char *p;
	int err = 0;

	if (!*dir)
		return ENOENT;
	p = strdup(dir);
	if (!p)
		return ENOMEM;
	/* starting at p + 1 keeps an absolute path from trying to make "" */
	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) == 0) {
			if (o->nmade < OUT_MAX_MADE && (o->made[o->nmade] = strdup(p)))
				o->nmade++;
		} else if (errno != EEXIST) {
			err = errno;
		}
		*s = c;
		if (err || !c)
			break;
	}
	free(p);
	/* EEXIST above also covers a regular file of that name */
	if (!err) {
		if (stat(dir, &st))
			err = errno;
		else if (!S_ISDIR(st.st_mode))
			err = ENOTDIR;
	}
	return err;
}

static int open_tmp(struct outputs *o, enum out_kind k, const char *path, mode_t mode)
{
	struct stat st;
	int fd, err;

	/* rename() onto a directory would fail only after the run */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return EISDIR;
	o->path[k] = strdup(path);
	if (!o->path[k] || asprintf(&o->tmp[k], "%s.XXXXXX", path) < 0) {
		o->tmp[k] = NULL;
		return ENOMEM;
	}
	fd = mkstemp(o->tmp[k]);
	if (fd < 0) {
		err = errno;
		free(o->tmp[k]);
		o->tmp[k] = NULL;
		return err;
	}
	/* mkstemp's 0600 would hide the results from other users the umask lets read them */
	if (fchmod(fd, mode) || !(o->f[k] = fdopen(fd, "w"))) {
		err = errno;
		close(fd);
		unlink(o->tmp[k]);
		free(o->tmp[k]);
		o->tmp[k] = NULL;
		return err;
	}
	return 0;
}

static int fail_open(struct outputs *o, const char *path, int err)
{
	fprintf(stderr, "tdp-bench: cannot write %s: %s (checked before measuring anything)\n", path,
		strerror(err));
	outputs_discard(o);
	return -1;
}

int outputs_open(struct outputs *o, const char *dir, const char *plot)
{
	mode_t mask = umask(0);
	int err;

	umask(mask);
	memset(o, 0, sizeof(*o));
	if (dir) {
		err = make_dirs(o, dir);
		if (err)
			return fail_open(o, dir, err);
		o->dir = realpath(dir, NULL);
		if (!o->dir)
			return fail_open(o, dir, errno);
		for (int k = 0; k <= OUT_SVG; k++) {
			char *path;

			if (asprintf(&path, "%s/%s", o->dir, outputs_names[k]) < 0)
				return fail_open(o, dir, ENOMEM);
			err = open_tmp(o, (enum out_kind)k, path, 0666 & ~mask);
			if (err) {
				fail_open(o, path, err);
				free(path);
				return -1;
			}
			free(path);
		}
	}
	if (plot) {
		err = open_tmp(o, OUT_PLOT, plot, 0666 & ~mask);
		if (err)
			return fail_open(o, plot, err);
	}
	return 0;
}

int outputs_commit(struct outputs *o)
{
	const char *bad = NULL;
	int err = 0;

	for (int k = 0; k < OUT_KINDS; k++) {
		int e = 0;

		if (!o->f[k])
			continue;
		errno = 0;
		/* buffered output meets a full disk only at the flush */
		if (fflush(o->f[k]) || ferror(o->f[k]))
			e = errno ? errno : EIO;
		if (fclose(o->f[k]) && !e)
			e = errno ? errno : EIO;
		o->f[k] = NULL;
		if (e && !err) {
			err = e;
			bad = o->path[k];
		}
	}
	for (int k = 0; k < OUT_KINDS && !err; k++) {
		if (!o->tmp[k])
			continue;
		if (rename(o->tmp[k], o->path[k])) {
			err = errno;
			bad = o->path[k];
			break;
		}
		free(o->tmp[k]);
		o->tmp[k] = NULL;
	}
	if (err) {
		fprintf(stderr, "tdp-bench: %s: %s\n", bad, strerror(err));
		outputs_discard(o);
		return -1;
	}
	/* the directories now hold the results: outputs_discard must not try them */
	while (o->nmade)
		free(o->made[--o->nmade]);
	return 0;
}

void outputs_discard(struct outputs *o)
{
	for (int k = 0; k < OUT_KINDS; k++) {
		if (o->f[k])
			fclose(o->f[k]);
		if (o->tmp[k])
			unlink(o->tmp[k]);
		free(o->tmp[k]);
		free(o->path[k]);
	}
	/* deepest first; a directory someone else filled meanwhile stays */
	while (o->nmade) {
		o->nmade--;
		rmdir(o->made[o->nmade]);
		free(o->made[o->nmade]);
	}
	free(o->dir);
	memset(o, 0, sizeof(*o));
}
