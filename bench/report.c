/* SPDX-License-Identifier: MIT */
/*
 * tdp-bench output: the rows as a table, CSV, JSON and an SVG bar chart.
 *
 * Nothing here knows how the rows were measured; bench.h is the whole
 * contract with the driver. Every writer tolerates NULL strings and
 * non-finite numbers so that one odd row cannot make a file unreadable.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* A missing name prints as empty rather than crashing the report. */
static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static bool same_str(const char *a, const char *b)
{
	return strcmp(str_or_empty(a), str_or_empty(b)) == 0;
}

/* NaN counts as "no floor" too: the table then shows "-" instead of "nan". */
static bool has_floor(const struct bench_row *r)
{
	return r->floor_ns >= 0 && isfinite(r->floor_ns);
}

/* A ratio against a floor of 0 (or a tiny one) is no measurement. */
static bool has_ratio(const struct bench_row *r)
{
	double x = bench_ratio(r);

	return x >= 0 && isfinite(x);
}

/* A median of 0 ns (a clock too coarse for the run) has no finite rate. */
static bool has_rate(double v)
{
	return v > 0 && isfinite(v);
}

/* A scaling ratio is printed only where there is one. */
static bool has_scale(const struct bench_row *r)
{
	return r->scale > 0 && isfinite(r->scale);
}

/* ---- table ---- */

/*
 * Sub-ns rows need the decimals; above 1 us they are noise. The exponent
 * form only keeps a garbage value from printing 300 digits into the table.
 */
static const char *fmt_ns(char *buf, size_t len, double v)
{
	if (v >= 1e9)
		snprintf(buf, len, "%.3e", v);
	else if (v >= 1000)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3f", v);
	return buf;
}

/* Rates span from a few per second to 1e9 and more (whole-table unmaps): keep them 10 wide. */
static const char *fmt_rate(char *buf, size_t len, double v)
{
	if (!has_rate(v))
		snprintf(buf, len, "-");
	else if (v >= 1e7)
		snprintf(buf, len, "%.2e", v);
	else if (v >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (v >= 10)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
	return buf;
}

/* The column is at least as wide as its header and at least min. */
static int col_width(const struct bench_row *rows, size_t n, size_t field, int min)
{
	size_t w = (size_t)min;

	for (size_t i = 0; i < n; i++) {
		const char *s[] = { rows[i].config, rows[i].workload, rows[i].op, rows[i].unit };
		size_t l = strlen(str_or_empty(s[field]));

		if (l > w)
			w = l;
	}
	/* a runaway name should not push the numbers off every screen */
	return w > 64 ? 64 : (int)w;
}

void report_table(FILE *f, const struct bench_row *rows, size_t n)
{
	int wc = col_width(rows, n, 0, 18), ww = col_width(rows, n, 1, 4);
	int wo = col_width(rows, n, 2, 5), wu = col_width(rows, n, 3, 4);
	const bool threaded = bench_threaded(rows, n);

	fprintf(f, "%-*s %-*s %-*s %-*s %10s %7s %10s %10s %10s %10s %10s %10s %8s %8s", wc,
		"config", ww, "work", wo, "op", wu, "unit", "units", "tables", "ns/unit", "min", "max",
		"Munits/s", "GiB/s", "floor", "x floor", "flushes");
	fputs(threaded ? " threads  scale\n" : "\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];
		char med[32], mn[32], mx[32], mu[32], gib[32], fl[32] = "-", ratio[32] = "-";
		char thr[16] = "-", scale[32] = "-";

		if (i > 0 && !same_str(r->config, rows[i - 1].config))
			fputc('\n', f);
		if (has_floor(r))
			fmt_ns(fl, sizeof(fl), r->floor_ns);
		if (has_ratio(r))
			snprintf(ratio, sizeof(ratio), bench_ratio(r) < 1e6 ? "%.2f" : "%.3e",
				 bench_ratio(r));
		fprintf(f,
			"%-*s %-*s %-*s %-*s %10" PRIu64 " %7" PRIu64
			" %10s %10s %10s %10s %10s %10s %8s %8" PRIu64,
			wc, str_or_empty(r->config), ww, str_or_empty(r->workload), wo,
			str_or_empty(r->op), wu, str_or_empty(r->unit), r->units, r->tables,
			fmt_ns(med, sizeof(med), r->ns.med), fmt_ns(mn, sizeof(mn), r->ns.min),
			fmt_ns(mx, sizeof(mx), r->ns.max), fmt_rate(mu, sizeof(mu), bench_munits(r)),
			fmt_rate(gib, sizeof(gib), bench_gibs(r)), fl, ratio, r->flushes);
		if (!threaded) {
			fputc('\n', f);
			continue;
		}
		if (r->threads)
			snprintf(thr, sizeof(thr), "%u", r->threads);
		if (has_scale(r))
			snprintf(scale, sizeof(scale), r->scale < 1e6 ? "%.2f" : "%.3e", r->scale);
		fprintf(f, " %7s %6s\n", thr, scale);
	}
}

/* ---- CSV ---- */

/* RFC 4180 quoting, so that a spreadsheet or Python's csv reads the names back intact. */
static void csv_str(FILE *f, const char *s)
{
	s = str_or_empty(s);
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* An empty field is what CSV readers take for "no value"; "nan" is not portable. */
static void csv_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.4f", v);
}

void report_csv(FILE *f, const struct bench_row *rows, size_t n)
{
	const bool threaded = bench_threaded(rows, n);

	fputs("config,workload,op,unit,units,bytes,calls,entries,tables,ns_med,ns_min,ns_max,"
	      "munits_per_s,gib_per_s,floor_ns,x_floor,flushes",
	      f);
	fputs(threaded ? ",threads,scale\n" : "\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];

		csv_str(f, r->config);
		fputc(',', f);
		csv_str(f, r->workload);
		fputc(',', f);
		csv_str(f, r->op);
		fputc(',', f);
		csv_str(f, r->unit);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", r->units,
			r->bytes, r->calls, r->entries, r->tables);
		csv_num(f, r->ns.med);
		fputc(',', f);
		csv_num(f, r->ns.min);
		fputc(',', f);
		csv_num(f, r->ns.max);
		fputc(',', f);
		if (has_rate(bench_munits(r)))
			csv_num(f, bench_munits(r));
		fputc(',', f);
		if (has_rate(bench_gibs(r)))
			csv_num(f, bench_gibs(r));
		fputc(',', f);
		if (has_floor(r))
			csv_num(f, r->floor_ns);
		fputc(',', f);
		if (has_ratio(r))
			csv_num(f, bench_ratio(r));
		fprintf(f, ",%" PRIu64, r->flushes);
		if (threaded) {
			fprintf(f, ",%u,", r->threads);
			if (has_scale(r))
				csv_num(f, r->scale);
		}
		fputc('\n', f);
	}
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* JSON has no NaN or Infinity; strict parsers reject the whole document. */
static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.4f", v);
	else
		fputs("null", f);
}

void report_json(FILE *f, const struct bench_meta *meta, const struct bench_row *rows, size_t n)
{
	const bool threaded = bench_threaded(rows, n);

	fputs("{\"meta\":", f);
	if (meta) {
		fprintf(f, "{\"reps\":%d,\"size\":%" PRIu64 ",\"calls\":%" PRIu64 ",\"cc\":",
			meta->reps, meta->size, meta->calls);
		json_str(f, meta->cc);
		if (meta->threads)
			fprintf(f, ",\"threads\":%d", meta->threads);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"rows\":[", f);
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];

		/* one row per line keeps diffs of saved results readable */
		fputs(i ? ",\n{\"config\":" : "\n{\"config\":", f);
		json_str(f, r->config);
		fputs(",\"workload\":", f);
		json_str(f, r->workload);
		fputs(",\"op\":", f);
		json_str(f, r->op);
		fputs(",\"unit\":", f);
		json_str(f, r->unit);
		fprintf(f,
			",\"units\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"calls\":%" PRIu64
			",\"entries\":%" PRIu64 ",\"tables\":%" PRIu64 ",\"ns_med\":",
			r->units, r->bytes, r->calls, r->entries, r->tables);
		json_num(f, r->ns.med);
		fputs(",\"ns_min\":", f);
		json_num(f, r->ns.min);
		fputs(",\"ns_max\":", f);
		json_num(f, r->ns.max);
		fputs(",\"munits_per_s\":", f);
		json_num(f, has_rate(bench_munits(r)) ? bench_munits(r) : NAN);
		fputs(",\"gib_per_s\":", f);
		json_num(f, has_rate(bench_gibs(r)) ? bench_gibs(r) : NAN);
		fputs(",\"floor_ns\":", f);
		json_num(f, has_floor(r) ? r->floor_ns : NAN);
		fputs(",\"x_floor\":", f);
		json_num(f, has_ratio(r) ? bench_ratio(r) : NAN);
		fprintf(f, ",\"flushes\":%" PRIu64, r->flushes);
		if (threaded) {
			fprintf(f, ",\"threads\":%u,\"scale\":", r->threads);
			json_num(f, has_scale(r) ? r->scale : NAN);
		}
		fputc('}', f);
	}
	fputs(n ? "\n]}\n" : "]}\n", f);
}

/* ---- SVG ---- */

/*
 * Layout in px. The text width estimate is deliberately generous for a
 * sans-serif face at 11 px, so labels never collide with the bars.
 */
#define FONT_PX 11
#define CHAR_W 6.6
#define MARGIN 12.0
#define PLOT_MIN_W 560.0
#define RIGHT_W 70.0 /* room for the value printed after the longest bar */
#define GROUP_HEAD 20.0
#define GROUP_GAP 6.0
#define BAR_PITCH 16.0
#define BAR_H 11.0
#define LEGEND_ROW 16.0

/* The axis never spans more than this, whatever a broken row claims. */
#define LOG_MIN (-3)
#define LOG_MAX 12

/* Picked to stay apart from each other and readable on white; reused cyclically. */
static const char *const palette[] = {
	"#3b6fb6", "#e07b1f", "#3a9a48", "#cc3d3d", "#8b62c0",
	"#8f5f40", "#d05ca8", "#6e6e6e", "#a8a62a", "#2aa8b8",
};

struct axis {
	double x0, x1; /* px of 10^lo and 10^hi */
	int lo, hi;    /* decades */
};

static double axis_x(const struct axis *a, double v)
{
	double l;

	/* zero, negative and NaN pin to the left edge, +Inf to the right */
	if (!(v > 0))
		return a->x0;
	l = log10(v);
	if (l < a->lo)
		l = a->lo;
	if (l > a->hi)
		l = a->hi;
	return a->x0 + (l - a->lo) / (a->hi - a->lo) * (a->x1 - a->x0);
}

static void axis_range(struct axis *a, const struct bench_row *rows, size_t n)
{
	double vmin = INFINITY, vmax = 0;

	for (size_t i = 0; i < n; i++) {
		double v[] = { rows[i].ns.med, rows[i].ns.min, rows[i].ns.max, rows[i].floor_ns };

		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
			if (!(v[k] > 0) || !isfinite(v[k]))
				continue;
			if (v[k] < vmin)
				vmin = v[k];
			if (v[k] > vmax)
				vmax = v[k];
		}
	}
	if (vmax == 0) {
		a->lo = -1;
		a->hi = 1;
		return;
	}
	/* the nudge keeps an exact power of ten from opening an empty decade */
	a->lo = (int)floor(fmin(fmax(log10(vmin) + 1e-9, LOG_MIN), LOG_MAX - 1));
	a->hi = (int)ceil(fmin(fmax(log10(vmax) - 1e-9, LOG_MIN), LOG_MAX));
	if (a->hi <= a->lo)
		a->hi = a->lo + 1;
}

static void xml_str(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)str_or_empty(s); *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			/* XML 1.0 cannot carry these at all, not even as references */
			if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
				fputc('?', f);
			else
				fputc(*p, f);
		}
	}
}

/* Three significant digits: what a reader compares bars by. */
static const char *fmt_sig(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "n/a");
	else if (fabs(v) >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 10)
		snprintf(buf, len, "%.1f", v);
	else if (fabs(v) >= 1)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%.3f", v);
	return buf;
}

static const char *fmt_decade(char *buf, size_t len, int e)
{
	if (e < 0)
		snprintf(buf, len, "%.*f", -e, pow(10, e));
	else if (e <= 6)
		snprintf(buf, len, "%.0f", pow(10, e));
	else
		snprintf(buf, len, "1e%d", e);
	return buf;
}

static bool same_group(const struct bench_row *a, const struct bench_row *b)
{
	return same_str(a->workload, b->workload) && same_str(a->op, b->op);
}

static bool first_of_group(const struct bench_row *rows, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (same_group(&rows[j], &rows[i]))
			return false;
	return true;
}

/* colour[i]: the ordinal of row i's config in order of first appearance. */
static size_t number_configs(const struct bench_row *rows, size_t n, size_t *colour)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (same_str(rows[j].config, rows[i].config))
				break;
		colour[i] = j < i ? colour[j] : k++;
	}
	return k;
}

static void svg_text(FILE *f, double x, double y, const char *anchor, const char *attrs,
		     const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y, anchor, attrs);
	xml_str(f, s);
	fputs("</text>\n", f);
}

static void svg_bar(FILE *f, const struct axis *a, const struct bench_row *r, const char *fill,
		    double top)
{
	double xm = axis_x(a, r->ns.med), yc = top + BAR_H / 2, xend = xm;
	char med[32], mn[32], mx[32], fl[32] = "-";

	svg_text(f, a->x0 - 6, yc + 4, "end", "", r->config);
	/* a zero-length bar would vanish; a sliver still shows the colour */
	fprintf(f,
		"<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"%s\"><title>",
		a->x0, top, fmax(xm - a->x0, 1), BAR_H, fill);
	if (has_floor(r))
		fmt_sig(fl, sizeof(fl), r->floor_ns);
	xml_str(f, r->config);
	fputc(' ', f);
	xml_str(f, r->workload);
	fputc(' ', f);
	xml_str(f, r->op);
	fprintf(f, ": median %s, min %s, max %s, floor %s ns/", fmt_sig(med, sizeof(med), r->ns.med),
		fmt_sig(mn, sizeof(mn), r->ns.min), fmt_sig(mx, sizeof(mx), r->ns.max), fl);
	xml_str(f, r->unit);
	fputs("</title></rect>\n", f);

	if (isfinite(r->ns.min) && isfinite(r->ns.max)) {
		double xa = axis_x(a, r->ns.min), xb = axis_x(a, r->ns.max);

		fprintf(f,
			"<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\" stroke=\"#222\" "
			"stroke-width=\"1\" fill=\"none\"/>\n",
			xa, yc, xb, xa, yc - 3, yc + 3, xb, yc - 3, yc + 3);
		xend = fmax(xend, xb);
	}
	/* taller and heavier than the whisker caps, so the two cannot be confused */
	if (has_floor(r) && r->floor_ns > 0) {
		double xf = axis_x(a, r->floor_ns);

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
			"stroke-width=\"2.5\"/>\n",
			xf, top - 3, xf, top + BAR_H + 3);
		xend = fmax(xend, xf + 1);
	}
	svg_text(f, xend + 5, yc + 4, "start", "", fmt_sig(med, sizeof(med), r->ns.med));
}

#define PALETTE(i) palette[(i) % (sizeof(palette) / sizeof(palette[0]))]

/*
 * One swatch per config, wrapped to the width. With f == NULL it only
 * measures, so the plot can start below however many rows it takes.
 * Returns the baseline of the last row.
 */
static double svg_legend(FILE *f, const struct bench_row *rows, size_t n, const size_t *colour,
			 size_t ncfg, double width)
{
	double x = MARGIN, y = 58;

	for (size_t i = 0, k = 0; i < n && k < ncfg; i++) {
		double w;

		if (colour[i] != k)
			continue;
		k++;
		w = 12 + 4 + (double)strlen(str_or_empty(rows[i].config)) * CHAR_W + 18;
		if (x > MARGIN && x + w > width - MARGIN) {
			x = MARGIN;
			y += LEGEND_ROW;
		}
		if (f) {
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
				"fill=\"%s\"/>\n",
				x, y - 10, PALETTE(colour[i]));
			svg_text(f, x + 16, y, "start", "", rows[i].config);
		}
		x += w;
	}
	return y;
}

static void svg_draw(FILE *f, const struct bench_meta *meta, const struct bench_row *rows,
		     size_t n, const size_t *colour, size_t ncfg)
{
	size_t maxname = 6, ngroups = 0;
	struct axis a;
	double width, height, y, plot_top, plot_bottom;
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(str_or_empty(rows[i].config));

		if (l > maxname)
			maxname = l;
		ngroups += first_of_group(rows, i);
	}
	axis_range(&a, rows, n);
	a.x0 = MARGIN + (double)maxname * CHAR_W + 8;
	a.x1 = a.x0 + PLOT_MIN_W;
	width = a.x1 + RIGHT_W;

	/* the legend wraps, so its height is known only after laying it out once */
	plot_top = svg_legend(NULL, rows, n, colour, ncfg, width) + LEGEND_ROW + 18;
	plot_bottom = plot_top + (double)ngroups * (GROUP_HEAD + GROUP_GAP) + (double)n * BAR_PITCH;
	height = plot_bottom + 40;

	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
		"font-size=\"%d\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
		width, height, width, height, FONT_PX);

	fprintf(f, "<text x=\"%.1f\" y=\"22\" font-size=\"15\" font-weight=\"bold\">", MARGIN);
	fputs("tdp-bench: ns per unit", f);
	if (meta) {
		fprintf(f, ", median of %d reps", meta->reps);
		if (meta->cc) {
			fputs(", built with ", f);
			xml_str(f, meta->cc);
		}
	}
	fputs("</text>\n", f);
	svg_text(f, MARGIN, 40, "start", " fill=\"#444\"",
		 "bar: median; thin line: min..max; black tick: memory floor; log scale");

	svg_legend(f, rows, n, colour, ncfg, width);

	/* bands first so gridlines and bars sit on top of them */
	y = plot_top;
	for (size_t i = 0, g = 0; i < n; i++) {
		size_t nbars = 0;

		if (!first_of_group(rows, i))
			continue;
		for (size_t j = i; j < n; j++)
			nbars += same_group(&rows[i], &rows[j]);
		if (g++ % 2)
			fprintf(f,
				"<rect x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" "
				"fill=\"#f3f3f3\"/>\n",
				y, width, GROUP_HEAD + GROUP_GAP + (double)nbars * BAR_PITCH);
		y += GROUP_HEAD + GROUP_GAP + (double)nbars * BAR_PITCH;
	}

	for (int e = a.lo; e <= a.hi; e++) {
		double x = axis_x(&a, pow(10, e));

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbb\" "
			"stroke-width=\"1\"/>\n",
			x, plot_top, x, plot_bottom);
		fmt_decade(buf, sizeof(buf), e);
		svg_text(f, x, plot_top - 5, "middle", " fill=\"#444\"", buf);
		svg_text(f, x, plot_bottom + 14, "middle", " fill=\"#444\"", buf);
		/* the 2..9 lines are what let a reader place 3 between 1 and 10 */
		for (int m = 2; e < a.hi && m <= 9; m++) {
			x = axis_x(&a, m * pow(10, e));
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\" "
				"stroke-width=\"1\"/>\n",
				x, plot_top, x, plot_bottom);
		}
	}
	svg_text(f, (a.x0 + a.x1) / 2, plot_bottom + 30, "middle", " fill=\"#444\"",
		 "ns per unit (log scale)");

	y = plot_top;
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];

		if (!first_of_group(rows, i))
			continue;
		fprintf(f, "<g>\n<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">", MARGIN,
			y + GROUP_HEAD - 5);
		xml_str(f, r->workload);
		fputc(' ', f);
		xml_str(f, r->op);
		fputs(" (ns/", f);
		xml_str(f, r->unit ? r->unit : "?");
		fputs(")</text>\n", f);
		y += GROUP_HEAD;
		for (size_t j = i; j < n; j++) {
			if (!same_group(r, &rows[j]))
				continue;
			svg_bar(f, &a, &rows[j], PALETTE(colour[j]), y);
			y += BAR_PITCH;
		}
		y += GROUP_GAP;
		fputs("</g>\n", f);
	}
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" "
		"stroke-width=\"1\"/>\n",
		a.x0, plot_top, a.x0, plot_bottom);
	fputs("</svg>\n", f);
}

int report_svg_write(FILE *f, const struct bench_meta *meta, const struct bench_row *rows,
		     size_t n)
{
	size_t *colour = malloc((n ? n : 1) * sizeof(*colour));

	if (!colour) {
		errno = ENOMEM;
		return -1;
	}
	svg_draw(f, meta, rows, n, colour, number_configs(rows, n, colour));
	free(colour);
	return 0;
}

int report_svg(const char *path, const struct bench_meta *meta, const struct bench_row *rows,
	       size_t n)
{
	FILE *f;
	int err = 0;

	if (!path) {
		errno = EINVAL;
		return -1;
	}
	f = fopen(path, "w");
	if (!f)
		return -1;
	/* a write error shows up only in ferror(); errno then tells why, if stdio set it */
	errno = 0;
	if (report_svg_write(f, meta, rows, n))
		err = errno;
	else if (ferror(f))
		err = errno ? errno : EIO;
	/* buffered output meets a full disk only here */
	if (fclose(f) != 0 && !err)
		err = errno ? errno : EIO;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
