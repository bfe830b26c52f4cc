/* SPDX-License-Identifier: MIT */
/* The command language of tdp-dump and the golden dumps (dump_script.h). */
#define _POSIX_C_SOURCE 200809L
#include "dump_script.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <tdp/riscv.h>
#include <tdp/x86.h>

#include "kit_internal.h"

/* Table memory: fixed, so that a dump's table addresses are the same on every run. */
#define DS_PA_BASE 0x40000000ull
#define DS_ARENA   (256ull << 20)

static void nop_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	(void)ctx, (void)gpa, (void)size, (void)level, (void)tables;
}

static void nop_all(void *ctx)
{
	(void)ctx;
}

static const struct tdp_tlb_ops nop_tlb = { nop_range, nop_all };

static int fail(struct ds *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return -1;
}

void ds_init(struct ds *s, FILE *out)
{
	memset(s, 0, sizeof(*s));
	s->out = out;
}

void ds_fini(struct ds *s)
{
	if (s->live)
		tdp_pgtable_destroy(&s->pgt);
	s->live = false;
	tdp_tk_pool_delete(s->pool);
	s->pool = NULL;
}

static const struct tk_cfgdesc *find_cfg(const char *name)
{
	for (size_t i = 0; i < tk_nr_cfgs_all; i++)
		if (strcasecmp(tk_cfgs_all[i].name, name) == 0)
			return &tk_cfgs_all[i];
	for (size_t i = 0; i < tk_nr_cfgs_ept; i++)
		if (strcasecmp(tk_cfgs_ept[i].name, name) == 0)
			return &tk_cfgs_ept[i];
	for (size_t i = 0; i < tk_nr_cfgs_riscv; i++)
		if (strcasecmp(tk_cfgs_riscv[i].name, name) == 0)
			return &tk_cfgs_riscv[i];
	return NULL;
}

void ds_list(FILE *f)
{
	for (size_t i = 0; i < tk_nr_cfgs_all; i++)
		fprintf(f, "%s\n", tk_cfgs_all[i].name);
	for (size_t i = 0; i < tk_nr_cfgs_ept; i++)
		fprintf(f, "%s\n", tk_cfgs_ept[i].name);
	for (size_t i = 0; i < tk_nr_cfgs_riscv; i++)
		fprintf(f, "%s\n", tk_cfgs_riscv[i].name);
}

/* A number with an optional K/M/G/T suffix; false if it is not one. */
static bool num(const char *t, uint64_t *v)
{
	char *end;

	if (!t || !*t)
		return false;
	*v = strtoull(t, &end, 0);
	switch (*end) {
	case 'K': case 'k': *v <<= 10; end++; break;
	case 'M': case 'm': *v <<= 20; end++; break;
	case 'G': case 'g': *v <<= 30; end++; break;
	case 'T': case 't': *v <<= 40; end++; break;
	default: break;
	}
	return *end == '\0';
}

/* r, w, x, p, u (or "-": none) as TDP_PROT_* bits; false on another letter. */
static bool perms(const char *t, tdp_attr_t *p)
{
	*p = 0;
	if (strcmp(t, "-") == 0)
		return true;
	for (; *t; t++) {
		switch (*t) {
		case 'r': *p |= TDP_PROT_R; break;
		case 'w': *p |= TDP_PROT_W; break;
		case 'x': *p |= TDP_PROT_X; break;
		case 'p': *p |= TDP_PROT_XP; break;
		case 'u': *p |= TDP_PROT_XU; break;
		default: return false;
		}
	}
	return true;
}

#define MAXTOK 16

static size_t split_words(char *line, char **tok)
{
	size_t n = 0;

	for (char *p = strtok(line, " \t\r\n"); p && n < MAXTOK; p = strtok(NULL, " \t\r\n"))
		tok[n++] = p;
	return n;
}

/* A configuration flag word for this format, or 0 if it has no meaning there. */
static uint32_t cfg_flag(enum tdp_format f, const char *w)
{
	static const struct {
		const char *name;
		enum tdp_format format;
		uint32_t flag;
	} tab[] = {
		{ "ad", TDP_FORMAT_X86_EPT, TDP_CFG_X86_AD },
		{ "mbec", TDP_FORMAT_X86_EPT, TDP_CFG_X86_MBEC },
		{ "xo", TDP_FORMAT_X86_EPT, TDP_CFG_X86_EXEC_ONLY },
		{ "sve", TDP_FORMAT_X86_EPT, TDP_CFG_X86_SVE },
		{ "ad", TDP_FORMAT_RISCV_G, TDP_CFG_RISCV_SVADU },
		{ "pbmt", TDP_FORMAT_RISCV_G, TDP_CFG_RISCV_SVPBMT },
		{ "pma", TDP_FORMAT_RISCV_G, TDP_CFG_RISCV_PMA_MT },
		{ "napot", TDP_FORMAT_RISCV_G, TDP_CFG_RISCV_SVNAPOT },
		{ "vptc", TDP_FORMAT_RISCV_G, TDP_CFG_RISCV_SVVPTC },
		{ "xnx", TDP_FORMAT_ARM64_S2, TDP_CFG_ARM64_XNX },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].format == f && strcmp(tab[i].name, w) == 0)
			return tab[i].flag;
	return 0;
}

static int cmd_config(struct ds *s, char **tok, size_t n)
{
	const struct tk_cfgdesc *cd = n > 1 ? find_cfg(tok[1]) : NULL;
	struct tdp_config cfg;
	uint64_t v;
	int rc;

	if (!cd)
		return fail(s, "config: unknown configuration %s (tdp-dump --list)",
			    n > 1 ? tok[1] : "(none)");
	if (s->live)
		return fail(s, "config: the table exists already");
	memset(&cfg, 0, sizeof(cfg));
	cfg.format = cd->format;
	cfg.granule_shift = cd->gshift;
	cfg.ia_bits = cd->ia;
	cfg.oa_bits = cd->oa;
	cfg.flags = cd->flags;
	cfg.leaf_levels = cd->leaf_levels;
	for (size_t i = 2; i < n; i++) {
		uint32_t f = cfg_flag(cd->format, tok[i]);

		if (strncmp(tok[i], "leaf=", 5) == 0 && num(tok[i] + 5, &v))
			cfg.leaf_levels = (unsigned int)v;
		else if (f)
			cfg.flags |= f;
		else
			return fail(s, "config: %s means nothing for %s", tok[i], cd->name);
	}
	s->pool = tdp_tk_pool_new(DS_PA_BASE, DS_ARENA);
	if (!s->pool)
		return fail(s, "config: no memory for the pool");
	tdp_tk_pool_config(s->pool, &cfg);
	cfg.tlb = &nop_tlb;
	rc = tdp_pgtable_init(&s->pgt, &cfg);
	if (rc) {
		tdp_tk_pool_delete(s->pool);
		s->pool = NULL;
		return fail(s, "config: tdp_pgtable_init: %d", rc);
	}
	s->live = true;
	return 0;
}

static int cmd_map(struct ds *s, char **tok, size_t n)
{
	uint64_t gpa, hpa, size, v;
	tdp_attr_t attr;
	uint32_t flags = 0;
	int rc;

	if (n < 5 || !num(tok[1], &gpa) || !num(tok[2], &hpa) || !num(tok[3], &size) ||
	    !perms(tok[4], &attr))
		return fail(s, "usage: map GPA HPA SIZE PERMS [wb|nc|dev|dev-s] [sw=N] [fmt=N] "
			       "[max=L] [noreplace]");
	for (size_t i = 5; i < n; i++) {
		if (strcmp(tok[i], "wb") == 0)
			attr = (attr & ~TDP_MT_MASK) | TDP_MT_NORMAL_WB;
		else if (strcmp(tok[i], "nc") == 0)
			attr = (attr & ~TDP_MT_MASK) | TDP_MT_NORMAL_NC;
		else if (strcmp(tok[i], "dev") == 0)
			attr = (attr & ~TDP_MT_MASK) | TDP_MT_DEVICE;
		else if (strcmp(tok[i], "dev-s") == 0)
			attr = (attr & ~TDP_MT_MASK) | TDP_MT_DEVICE_STRICT;
		else if (strncmp(tok[i], "sw=", 3) == 0 && num(tok[i] + 3, &v) && v < 16)
			attr |= TDP_SW(v);
		else if (strncmp(tok[i], "fmt=", 4) == 0 && num(tok[i] + 4, &v) && v < 16)
			attr |= (tdp_attr_t)v << 12;
		else if (strncmp(tok[i], "max=", 4) == 0 && num(tok[i] + 4, &v) && v < 15)
			flags |= TDP_MAP_MAX_LEVEL(v);
		else if (strcmp(tok[i], "noreplace") == 0)
			flags |= TDP_MAP_NOREPLACE;
		else
			return fail(s, "map: unknown attribute %s", tok[i]);
	}
	rc = tdp_map(&s->pgt, gpa, hpa, size, attr, flags, NULL);
	return rc ? fail(s, "map: %d", rc) : 0;
}

static int cmd_range(struct ds *s, char **tok, size_t n)
{
	struct tdp_zap_result zr;
	uint64_t gpa, size, lvl;
	tdp_attr_t clear = 0, set = 0, p;
	int rc;

	if (n < 3 || !num(tok[1], &gpa) || !num(tok[2], &size))
		return fail(s, "usage: %s GPA SIZE ...", tok[0]);
	if (strcmp(tok[0], "unmap") == 0 && n == 3) {
		rc = tdp_unmap(&s->pgt, gpa, size, NULL);
	} else if (strcmp(tok[0], "zap") == 0 && n == 3) {
		rc = tdp_zap(&s->pgt, gpa, size, 0, &zr);
	} else if (strcmp(tok[0], "split") == 0 && n == 4 && num(tok[3], &lvl)) {
		rc = tdp_split(&s->pgt, gpa, size, (unsigned int)lvl, NULL);
	} else if (strcmp(tok[0], "protect") == 0) {
		for (size_t i = 3; i < n; i++) {
			if ((tok[i][0] != '-' && tok[i][0] != '+') || !perms(tok[i] + 1, &p))
				return fail(s, "usage: protect GPA SIZE [-PERMS] [+PERMS]");
			if (tok[i][0] == '-')
				clear |= p;
			else
				set |= p;
		}
		rc = tdp_protect(&s->pgt, gpa, size, clear, set, NULL);
	} else {
		return fail(s, "usage: unmap|zap GPA SIZE, split GPA SIZE LEVEL, protect GPA SIZE "
			       "[-PERMS] [+PERMS]");
	}
	return rc ? fail(s, "%s: %d", tok[0], rc) : 0;
}

/* What the CPU does on an access: set A (and D on a write) in the leaf it used. */
static int cmd_access(struct ds *s, char **tok, size_t n)
{
	const struct tdp_config *c = &s->pgt.cfg;
	struct tdp_tk_mem mem = tdp_tk_pool_mem(s->pool);
	struct tdp_tk_ref ref;
	struct tdp_tk_xlate x;
	uint64_t gpa, a, d, *ptep;

	if (n != 3 || !num(tok[1], &gpa) || (strcmp(tok[2], "r") != 0 && strcmp(tok[2], "w") != 0))
		return fail(s, "usage: access GPA r|w");
	if (c->format == TDP_FORMAT_X86_EPT && (c->flags & TDP_CFG_X86_AD)) {
		a = 1ull << 8;
		d = 1ull << 9;
	} else if (c->format == TDP_FORMAT_RISCV_G && (c->flags & TDP_CFG_RISCV_SVADU)) {
		a = 1ull << 6;
		d = 1ull << 7;
	} else {
		return fail(s, "access: the table has no hardware A/D (config ... ad)");
	}
	if (tdp_tk_ref_for(&ref, &s->pgt, &mem) != 0 ||
	    tdp_tk_ref_translate(&ref, gpa, TDP_TK_PROBE, &x) != 0 || x.result != TDP_TK_OK)
		return fail(s, "access: 0x%llx does not translate", (unsigned long long)gpa);
	ptep = tdp_tk_pool_va(s->pool, x.pte_pa);
	if (!ptep)
		return fail(s, "access: leaf at 0x%llx not in the pool", (unsigned long long)x.pte_pa);
	*ptep |= a | (tok[2][0] == 'w' ? d : 0);
	return 0;
}

static int write_file(void *ctx, const char *buf, size_t len)
{
	return fwrite(buf, 1, len, ctx) == len ? 0 : -1;
}

int ds_dump(struct ds *s, uint64_t gpa, uint64_t size, unsigned int flags)
{
	int rc;

	if (!s->live)
		return fail(s, "dump: no table (config first)");
	if (size == 0) {
		gpa = 0;
		size = 1ull << s->pgt.cfg.ia_bits;
	}
	rc = tdp_dump(&s->pgt, gpa, size, flags, write_file, s->out);
	return rc ? fail(s, "dump: %d", rc) : 0;
}

int ds_stats(struct ds *s, uint64_t gpa, uint64_t size)
{
	struct tdp_stats st;
	int rc;

	if (!s->live)
		return fail(s, "stats: no table (config first)");
	if (size == 0) {
		gpa = 0;
		size = 1ull << s->pgt.cfg.ia_bits;
	}
	rc = tdp_stats(&s->pgt, gpa, size, &st);
	if (rc)
		return fail(s, "stats: %d", rc);
	fprintf(s->out, "stats 0x%016llx-0x%016llx: mapped 0x%llx bytes, tables 0x%llx bytes\n",
		(unsigned long long)gpa, (unsigned long long)(gpa + size),
		(unsigned long long)st.mapped_bytes, (unsigned long long)st.table_bytes);
	for (unsigned int l = s->pgt.geo.levels; l-- > 0;)
		fprintf(s->out, "  L%u tables %llu leaves %llu\n", l,
			(unsigned long long)st.tables[l], (unsigned long long)st.leaves[l]);
	return 0;
}

static int cmd_dump(struct ds *s, char **tok, size_t n)
{
	uint64_t gpa = 0, size = 0;
	unsigned int flags = TDP_DUMP_TEXT;
	size_t i = 1;

	for (; i < n; i++) {
		if (strcmp(tok[i], "text") == 0)
			flags = (flags & ~TDP_DUMP_FORMAT_MASK) | TDP_DUMP_TEXT;
		else if (strcmp(tok[i], "dot") == 0)
			flags = (flags & ~TDP_DUMP_FORMAT_MASK) | TDP_DUMP_DOT;
		else if (strcmp(tok[i], "empty") == 0)
			flags |= TDP_DUMP_EMPTY;
		else if (strcmp(tok[i], "nofold") == 0)
			flags |= TDP_DUMP_NOFOLD;
		else
			break;
	}
	if (i != n && (i + 2 != n || !num(tok[i], &gpa) || !num(tok[i + 1], &size) || !size))
		return fail(s, "usage: dump [text|dot] [empty] [nofold] [GPA SIZE]");
	return ds_dump(s, gpa, size, flags);
}

int ds_exec(struct ds *s, const char *line)
{
	char buf[512], *tok[MAXTOK];
	size_t n;

	s->err[0] = '\0';
	if (strlen(line) >= sizeof(buf))
		return fail(s, "line too long");
	strcpy(buf, line);
	n = split_words(buf, tok);
	if (n == 0 || tok[0][0] == '#')
		return 0;
	if (strcmp(tok[0], "config") == 0)
		return cmd_config(s, tok, n);
	if (!s->live)
		return fail(s, "%s: no table (config first)", tok[0]);
	if (strcmp(tok[0], "map") == 0)
		return cmd_map(s, tok, n);
	if (strcmp(tok[0], "unmap") == 0 || strcmp(tok[0], "zap") == 0 ||
	    strcmp(tok[0], "split") == 0 || strcmp(tok[0], "protect") == 0)
		return cmd_range(s, tok, n);
	if (strcmp(tok[0], "access") == 0)
		return cmd_access(s, tok, n);
	if (strcmp(tok[0], "dump") == 0)
		return cmd_dump(s, tok, n);
	if (strcmp(tok[0], "stats") == 0) {
		uint64_t gpa, size;

		if (n == 1)
			return ds_stats(s, 0, 0);
		if (n == 3 && num(tok[1], &gpa) && num(tok[2], &size) && size)
			return ds_stats(s, gpa, size);
		return fail(s, "usage: stats [GPA SIZE]");
	}
	return fail(s, "unknown command %s", tok[0]);
}

char *ds_golden(const char *text)
{
	char *res = NULL, *line = NULL, *copy = strdup(text);
	size_t res_len = 0, cap = 0;
	FILE *out = open_memstream(&res, &res_len);
	FILE *in = copy ? fmemopen(copy, strlen(copy), "r") : NULL;
	struct ds s;
	ssize_t len;

	if (!out || !in) {
		if (out)
			fclose(out);
		if (in)
			fclose(in);
		free(res);
		free(copy);
		return NULL;
	}
	ds_init(&s, out);
	while ((len = getline(&line, &cap, in)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (line[0] == '#' || line[0] == '$')
			fprintf(out, "%s\n", line);
		/* everything else is output: what the commands write now replaces it */
		if (line[0] == '$' && ds_exec(&s, line + 1) != 0)
			fprintf(out, "! %s\n", s.err);
	}
	ds_fini(&s);
	free(line);
	fclose(in);
	free(copy);
	fclose(out);
	return res;
}
