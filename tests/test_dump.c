/* SPDX-License-Identifier: MIT */
/*
 * tdp_dump.
 *
 * Golden files: tests/dump/NAME.txt hold "$ " command lines (the language of
 * tdp-dump, tests/dump_script.h) each followed by what it printed when the
 * file was last regenerated, and "# " comments. This test runs the commands
 * and compares; it never writes the files. After a deliberate change of the
 * output, regenerate them and review the diff:
 *
 *     build-test/tests/tdp-dump --regen tests/dump/arm64-4k.txt ... (every file)
 *     git diff tests/dump
 *
 * The directory comes as the first argument (meson passes it). Also: bad
 * arguments, a writer that stops the dump, the writer's piece size, and runs
 * folded over 1 GiB of pages.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump_script.h"

static const char *golden_dir = "tests/dump";

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Print the first line where they differ, with its number. */
static void report_diff(const char *name, const char *want, const char *got)
{
	unsigned int line = 1;

	while (*want && *want == *got) {
		if (*want == '\n')
			line++;
		want++;
		got++;
	}
	while (line > 1 && want[-1] != '\n') {
		want--;
		got--;
	}
	fprintf(stderr, "%s:%u: expected\n  %.*s\ngot\n  %.*s\n(after a deliberate change: "
			"tdp-dump --regen tests/dump/%s, then review the diff)\n",
		name, line, (int)strcspn(want, "\n"), want, (int)strcspn(got, "\n"), got, name);
}

static void check_golden(const char *name)
{
	char path[512];
	char *want, *got;

	snprintf(path, sizeof(path), "%s/%s", golden_dir, name);
	want = slurp(path);
	if (!want)
		fail_msg("cannot read %s", path);
	got = ds_golden(want);
	assert_non_null(got);
	/* a file without commands would compare equal to anything it printed */
	assert_non_null(strstr(want, "\n$ dump"));
	if (strcmp(want, got) != 0) {
		report_diff(name, want, got);
		free(want);
		free(got);
		fail_msg("%s: the dump differs", name);
	}
	free(want);
	free(got);
}

static void t_golden_arm64_4k(void **state)
{
	(void)state;
	check_golden("arm64-4k.txt");
}

static void t_golden_arm64_64k(void **state)
{
	(void)state;
	check_golden("arm64-64k.txt");
}

static void t_golden_ept(void **state)
{
	(void)state;
	check_golden("ept.txt");
}

static void t_golden_ept_sve(void **state)
{
	(void)state;
	check_golden("ept-sve.txt");
}

static void t_golden_riscv(void **state)
{
	(void)state;
	check_golden("riscv.txt");
}

static void t_golden_riscv_dot(void **state)
{
	(void)state;
	check_golden("riscv-dot.txt");
}

/* ------------------------------------------------------------------ */

struct sink {
	char *text;
	size_t len, cap;
	unsigned int calls;
	unsigned int stop_at; /* return stop_val on this call (1-based); 0: never */
	int stop_val;
	size_t max_piece;
};

static int sink_write(void *ctx, const char *buf, size_t len)
{
	struct sink *k = ctx;

	k->calls++;
	assert_true(len > 0);
	if (len > k->max_piece)
		k->max_piece = len;
	if (k->len + len + 1 > k->cap) {
		k->cap = (k->len + len + 1) * 2;
		k->text = realloc(k->text, k->cap);
		assert_non_null(k->text);
	}
	memcpy(k->text + k->len, buf, len);
	k->len += len;
	k->text[k->len] = '\0';
	return k->calls == k->stop_at ? k->stop_val : 0;
}

static void sink_free(struct sink *k)
{
	free(k->text);
	memset(k, 0, sizeof(*k));
}

/* A table of a few entries on 4K/40 (3 levels, two concatenated root tables). */
static void small_table(struct ds *s)
{
	ds_init(s, stdout);
	assert_int_equal(ds_exec(s, "config 4K/40"), 0);
	assert_int_equal(ds_exec(s, "map 0x0 0x80000000 2M rw"), 0);
	assert_int_equal(ds_exec(s, "map 0x200000 0x1000 16K r max=0"), 0);
	assert_int_equal(ds_exec(s, "map 0x8000000000 0x40000000 1G rwx"), 0);
}

static void t_badinput(void **state)
{
	struct tdp_pgtable zero;
	struct sink k = { 0 };
	struct ds s;
	uint64_t whole, P;

	(void)state;
	small_table(&s);
	whole = 1ull << s.pgt.cfg.ia_bits;
	P = tdp_page_size(&s.pgt);
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(tdp_dump(NULL, 0, P, 0, sink_write, &k), -TDP_EINVAL);
	assert_int_equal(tdp_dump(&zero, 0, P, 0, sink_write, &k), -TDP_EINVAL);
	assert_int_equal(tdp_dump(&s.pgt, 0, P, 0, NULL, &k), -TDP_EINVAL);
	/* flags: an output that does not exist, unknown option bits, empties in DOT */
	assert_int_equal(tdp_dump(&s.pgt, 0, P, 2, sink_write, &k), -TDP_EINVAL);
	assert_int_equal(tdp_dump(&s.pgt, 0, P, 0xffu, sink_write, &k), -TDP_EINVAL);
	assert_int_equal(tdp_dump(&s.pgt, 0, P, 1u << 10, sink_write, &k), -TDP_EINVAL);
	assert_int_equal(tdp_dump(&s.pgt, 0, P, 1u << 31, sink_write, &k), -TDP_EINVAL);
	assert_int_equal(tdp_dump(&s.pgt, 0, P, TDP_DUMP_DOT | TDP_DUMP_EMPTY, sink_write, &k),
			 -TDP_EINVAL);
	/* the range rules of tdp/pgtable.h */
	assert_int_equal(tdp_dump(&s.pgt, 0, 0, 0, sink_write, &k), -TDP_EINVAL);
	assert_int_equal(tdp_dump(&s.pgt, P / 2, P, 0, sink_write, &k), -TDP_EINVAL);
	assert_int_equal(tdp_dump(&s.pgt, 0, P + 8, 0, sink_write, &k), -TDP_EINVAL);
	assert_int_equal(tdp_dump(&s.pgt, whole, P, 0, sink_write, &k), -TDP_ERANGE);
	assert_int_equal(tdp_dump(&s.pgt, P, whole, 0, sink_write, &k), -TDP_ERANGE);
	assert_int_equal(tdp_dump(&s.pgt, -P, 2 * P, TDP_DUMP_DOT, sink_write, &k), -TDP_ERANGE);
	/* nothing was written by the refused calls */
	assert_int_equal(k.calls, 0);
	/* the good neighbours of those */
	assert_int_equal(tdp_dump(&s.pgt, whole - P, P, 0, sink_write, &k), 0);
	assert_int_equal(tdp_dump(&s.pgt, 0, whole, TDP_DUMP_DOT | TDP_DUMP_NOFOLD, sink_write, &k),
			 0);
	assert_int_equal(tdp_dump(&s.pgt, 0, whole, TDP_DUMP_EMPTY | TDP_DUMP_NOFOLD, sink_write,
				  &k), 0);
	sink_free(&k);
	ds_fini(&s);
}

/* The writer's non-zero value stops the dump at once and comes back. */
static void t_writer_stops(void **state)
{
	static const unsigned int outputs[] = { TDP_DUMP_TEXT, TDP_DUMP_DOT,
						TDP_DUMP_TEXT | TDP_DUMP_EMPTY };
	struct ds s;
	uint64_t whole;

	(void)state;
	small_table(&s);
	whole = 1ull << s.pgt.cfg.ia_bits;
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		struct sink full = { 0 };
		unsigned int calls;

		assert_int_equal(tdp_dump(&s.pgt, 0, whole, outputs[i], sink_write, &full), 0);
		calls = full.calls;
		assert_true(calls >= 3);
		/* pieces fit the documented bound */
		assert_true(full.max_piece <= 128);
		for (unsigned int at = 1; at <= calls; at++) {
			struct sink k = { .stop_at = at, .stop_val = at == 2 ? -5 : 40 + (int)at };

			assert_int_equal(tdp_dump(&s.pgt, 0, whole, outputs[i], sink_write, &k),
					 k.stop_val);
			assert_int_equal(k.calls, at);
			/* what came before the stop is the start of the whole dump */
			assert_memory_equal(k.text, full.text, k.len);
			sink_free(&k);
		}
		sink_free(&full);
	}
	ds_fini(&s);
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* 1 GiB of pages: one line per table folded, one per page unfolded. */
static void t_fold_gib(void **state)
{
	struct sink k = { 0 };
	struct ds s;

	(void)state;
	ds_init(&s, stdout);
	assert_int_equal(ds_exec(&s, "config 4K/48"), 0);
	assert_int_equal(ds_exec(&s, "map 0x40000000 0x80000000 1G rw max=0"), 0);
	assert_int_equal(tdp_dump(&s.pgt, 0x40000000, 1ull << 30, 0, sink_write, &k), 0);
	/* root line, L3, L2, 512 L1 tables, 512 runs */
	assert_int_equal(count(k.text, "\n"), 1 + 2 + 512 + 512);
	assert_int_equal(count(k.text, " x512\n"), 512);
	assert_non_null(strstr(k.text, "\n      L0 0x0000000040000000-0x0000000040200000 leaf  "
				       "0x0000000080000000 rw-- WB sw=0 -- pte="));
	sink_free(&k);
	assert_int_equal(tdp_dump(&s.pgt, 0x40000000, 1ull << 30, TDP_DUMP_NOFOLD, sink_write, &k),
			 0);
	assert_int_equal(count(k.text, "\n"), 1 + 2 + 512 + 512 * 512);
	assert_int_equal(count(k.text, " x"), 0);
	sink_free(&k);
	/* one page changed in the middle: the run breaks around it */
	assert_int_equal(ds_exec(&s, "protect 0x40001000 4K -w"), 0);
	assert_int_equal(tdp_dump(&s.pgt, 0x40000000, 1ull << 21, 0, sink_write, &k), 0);
	assert_non_null(strstr(k.text, "L0 0x0000000040000000-0x0000000040001000 leaf  "
				       "0x0000000080000000 rw--"));
	assert_non_null(strstr(k.text, "L0 0x0000000040001000-0x0000000040002000 leaf  "
				       "0x0000000080001000 r---"));
	assert_non_null(strstr(k.text, "L0 0x0000000040002000-0x0000000040200000 leaf  "
				       "0x0000000080002000 rw-- WB sw=0 -- pte="));
	assert_non_null(strstr(k.text, " x510\n"));
	sink_free(&k);
	ds_fini(&s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_golden_arm64_4k),
		cmocka_unit_test(t_golden_arm64_64k),
		cmocka_unit_test(t_golden_ept),
		cmocka_unit_test(t_golden_ept_sve),
		cmocka_unit_test(t_golden_riscv),
		cmocka_unit_test(t_golden_riscv_dot),
		cmocka_unit_test(t_badinput),
		cmocka_unit_test(t_writer_stops),
		cmocka_unit_test(t_fold_gib),
	};

	if (argc > 1)
		golden_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
