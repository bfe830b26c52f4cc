/* SPDX-License-Identifier: MIT */
/*
 * Intel EPT reference walker (tdp_tk_ref_ept), written from docs/formats.md
 * §E and sharing nothing with lib/: it decodes the EPTP the way the
 * CPU would at VM entry, reads the EPT entries through a struct tdp_tk_mem
 * and reports the translation, the EPT violation or the EPT
 * misconfiguration. It never writes memory (no A/D updates).
 *
 * What it models (docs/formats.md §E.1-§E.6):
 * - EPTP: memory type (bits 2:0) 0 or 6, page-walk length - 1 (bits 5:3)
 *   3 or 4, A/D enable (bit 6, no effect on a read-only walk), bits 11:7
 *   zero, root address in bits MAXPHYADDR-1:12 and zero above. Anything
 *   else is TDP_TK_MALFORMED (the VM entry would fail): level = the number
 *   of levels if the walk length decoded, else 0; span_size 0.
 * - A guest-physical address at or above 2^48 (4 levels) or 2^57 (5 levels):
 *   TDP_TK_TRANSLATION_FAULT at the root level, span [2^width, 2^64).
 * - Entries: present iff bits 2:0 are not all 0, or bit 10 is set with MBEC;
 *   not present -> TDP_TK_TRANSLATION_FAULT (an EPT violation; bits 63:3 of
 *   the entry, suppress-#VE included, change nothing).
 * - TDP_TK_EPT_MISCONFIG for a present entry with W without R; with R = W = 0
 *   and X (or XU with MBEC) set on a CPU without execute-only support;
 *   bits 51:MAXPHYADDR set (every level); bits 7:3 set in a PML5E/PML4E;
 *   bits 6:3 in a PDPTE/PDE that points to a table; bit 7 in a PDPTE
 *   without 1 GiB pages or in a PDE without 2 MiB pages; address bits 29:12
 *   of a 1 GiB page or 20:12 of a 2 MiB page; a leaf memory type of 2, 3
 *   or 7.
 * - Permissions: R, W, X (supervisor execute with MBEC) and XU (bit 10,
 *   with MBEC only) are ANDed over every entry of the walk. A read needs R,
 *   a write W, an instruction fetch X (without MBEC, or with MBEC and no
 *   TDP_TK_USER) or XU (MBEC with TDP_TK_USER); otherwise
 *   TDP_TK_PERMISSION_FAULT (an EPT violation) at the leaf's level. A PROBE
 *   checks nothing.
 * - Levels are EPT's own: 1 = PTE, 2 = PDE, 3 = PDPTE, 4 = PML4E,
 *   5 = PML5E. Every table is 4 KiB; x->tables[] holds those read, root
 *   first. A table the reader cannot return gives TDP_TK_EXTERNAL_ABORT at
 *   the level of its entries, with pte/pte_pa/span of the entry that points
 *   to it (for the root: pte 0, pte_pa 0, span [0, 2^width)).
 * - Returns -TDP_EINVAL for NULL arguments, unknown access bits (one of
 *   READ/WRITE/EXEC at a time, USER only with one), unknown caps bits or a
 *   MAXPHYADDR outside 36..52; otherwise 0 with the outcome in *x.
 * - x->pte_pa: the physical address of x->pte (the leaf, the entry that
 *   faulted, or the entry pointing to an unreadable table), for tests that
 *   set A/D bits themselves; 0 when no entry was read.
 *
 * The attribute rule (x->attr for TDP_TK_OK and TDP_TK_PERMISSION_FAULT):
 * - TDP_PROT_R / TDP_PROT_W from the combined R / W. Without MBEC the
 *   combined X sets both TDP_PROT_XP and TDP_PROT_XU; with MBEC, X (bit 2)
 *   sets TDP_PROT_XP and XU (bit 10) sets TDP_PROT_XU.
 * - Memory type, from the leaf's EMT (bits 5:3):
 *     EMT 6 (WB) -> TDP_MT_NORMAL_WB, no x86 type bits
 *     EMT 1 (WC) -> TDP_MT_NORMAL_NC, no x86 type bits
 *     EMT 0 (UC) -> TDP_MT_DEVICE, or TDP_MT_DEVICE_STRICT with IPAT set
 *                  (UC whatever the guest PAT: the one spelling tdp/x86.h gives it)
 *     EMT 4 (WT) -> TDP_X86_EMT(4), neutral memory-type bits 0
 *     EMT 5 (WP) -> TDP_X86_EMT(5), neutral memory-type bits 0
 *   i.e. TDP_X86_EMT() appears exactly when no neutral type names the EPT
 *   type; that is also what makes a 0 neutral field (= TDP_MT_NORMAL_WB)
 *   unambiguous.
 * - TDP_X86_IPAT when the leaf's IPAT (bit 6) is set, except with UC
 *   (there it is TDP_MT_DEVICE_STRICT).
 * - TDP_SW(bits 55:52 of the leaf).
 * - A (bit 8), D (bit 9) and every other ignored bit are not reported.
 */
#include "kit_internal.h"

#include <tdp/x86.h>

#include <string.h>

/* ------------------------------------------------------------------ */
/* Bit helpers (own, not lib/'s)                                        */

/* Bits hi..lo set; 0 when hi < lo. */
static uint64_t bits(unsigned int hi, unsigned int lo)
{
	if (hi < lo)
		return 0;
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

#define EPT_R      (1ull << 0)
#define EPT_W      (1ull << 1)
#define EPT_X      (1ull << 2)
#define EPT_PS     (1ull << 7)  /* PDPTE/PDE: maps a page */
#define EPT_IPAT   (1ull << 6)
#define EPT_XU     (1ull << 10) /* user execute with MBEC */
#define EPT_ENTRIES 512u
#define EPT_TABLE   4096u

/* ------------------------------------------------------------------ */
/* `why` text without snprintf (iterators walk a lot)                   */

static const char *level_name(int level)
{
	switch (level) {
	case 1: return "PTE";
	case 2: return "PDE";
	case 3: return "PDPTE";
	case 4: return "PML4E";
	case 5: return "PML5E";
	}
	return "entry";
}

/* "PDE 0x...: " */
static void why_entry(struct tk_text *w, int level, uint64_t e)
{
	tk_text_str(w, level_name(level));
	tk_text_str(w, " ");
	tk_text_hex(w, e);
	tk_text_str(w, ": ");
}

/* ------------------------------------------------------------------ */
/* The walk                                                            */

struct ept {
	int levels;        /* 4 or 5 */
	unsigned int width; /* 48 or 57 */
	unsigned int mpa;  /* MAXPHYADDR */
	uint64_t root;
	bool mbec, exec_only, has_2m, has_1g;
};

static unsigned int level_shift(int level)
{
	return 12 + 9 * (unsigned int)(level - 1);
}

/* Decode the EPTP; false with x MALFORMED. */
static bool decode_eptp(const struct tdp_tk_x86_regs *regs, struct ept *c, struct tdp_tk_xlate *x,
			struct tk_text *w)
{
	uint64_t eptp = regs->eptp;
	unsigned int mt = (unsigned int)(eptp & 7), wl = (unsigned int)(eptp >> 3) & 7;

	memset(c, 0, sizeof(*c));
	c->mpa = regs->maxphyaddr;
	c->mbec = (regs->caps & TDP_TK_X86_MBEC) != 0;
	c->exec_only = (regs->caps & TDP_TK_X86_CAP_EXEC_ONLY) != 0;
	c->has_2m = (regs->caps & TDP_TK_X86_CAP_2M) != 0;
	c->has_1g = (regs->caps & TDP_TK_X86_CAP_1G) != 0;
	x->result = TDP_TK_MALFORMED;
	x->span_base = 0;
	x->span_size = 0; /* the whole address space */
	if (wl != 3 && wl != 4) {
		tk_text_str(w, "EPTP ");
		tk_text_hex(w, eptp);
		tk_text_str(w, ": page-walk length - 1 (bits 5:3) = ");
		tk_text_dec(w, wl);
		tk_text_str(w, ", only 3 (4 levels) or 4 (5 levels) are valid");
		return false;
	}
	c->levels = (int)wl + 1;
	c->width = wl == 3 ? 48 : 57;
	x->level = c->levels;
	if (mt != 0 && mt != 6) {
		tk_text_str(w, "EPTP ");
		tk_text_hex(w, eptp);
		tk_text_str(w, ": paging-structure memory type (bits 2:0) = ");
		tk_text_dec(w, mt);
		tk_text_str(w, ", only 0 (UC) or 6 (WB) are valid");
		return false;
	}
	if (eptp & bits(11, 7)) {
		tk_text_str(w, "EPTP ");
		tk_text_hex(w, eptp);
		tk_text_str(w, ": reserved bits 11:7 set");
		return false;
	}
	if (eptp & bits(63, c->mpa)) {
		tk_text_str(w, "EPTP ");
		tk_text_hex(w, eptp);
		tk_text_str(w, ": bits ");
		tk_text_hex(w, eptp & bits(63, c->mpa));
		tk_text_str(w, " at or above MAXPHYADDR ");
		tk_text_dec(w, c->mpa);
		return false;
	}
	c->root = eptp & bits(c->mpa - 1, 12);
	x->result = TDP_TK_OK;
	return true;
}

static uint64_t entry_at(const void *tbl, size_t idx)
{
	uint64_t e;

	memcpy(&e, (const unsigned char *)tbl + idx * 8, sizeof(e));
	return e;
}

static void misconfig(struct tdp_tk_xlate *x, struct tk_text *w, int level, uint64_t e,
		      const char *what)
{
	x->result = TDP_TK_EPT_MISCONFIG;
	tk_text_reset(w);
	why_entry(w, level, e);
	tk_text_str(w, what);
}

/*
 * Misconfiguration checks of a present entry at `level`; *leaf says whether
 * it maps a page. false with x EPT_MISCONFIG.
 */
static bool check_entry(const struct ept *c, uint64_t e, int level, bool *leaf,
			struct tdp_tk_xlate *x, struct tk_text *w)
{
	bool r = e & EPT_R, wr = e & EPT_W, ex = e & EPT_X, xu = c->mbec && (e & EPT_XU);
	uint64_t rsv = bits(51, c->mpa), low = 0;
	unsigned int emt = (unsigned int)(e >> 3) & 7;

	if (wr && !r) {
		misconfig(x, w, level, e, "write without read (bits 2:0 = 010 or 110)");
		return false;
	}
	if (!r && (ex || xu) && !c->exec_only) {
		misconfig(x, w, level, e, xu && !ex ?
			  "user-execute-only (bit 10 with R = W = 0) without the execute-only capability" :
			  "execute-only (R = W = 0) without the execute-only capability");
		return false;
	}
	*leaf = level == 1;
	switch (level) {
	case 5:
	case 4:
		rsv |= bits(7, 3);
		break;
	case 3:
	case 2:
		if (!(e & EPT_PS)) {
			rsv |= bits(6, 3);
			break;
		}
		if (level == 3 ? !c->has_1g : !c->has_2m) {
			misconfig(x, w, level, e, level == 3 ?
				  "bit 7 (1 GiB page) set but the CPU has no 1 GiB pages" :
				  "bit 7 (2 MiB page) set but the CPU has no 2 MiB pages");
			return false;
		}
		*leaf = true;
		low = bits(level_shift(level) - 1, 12);
		break;
	default:
		break;
	}
	if (e & rsv) {
		x->result = TDP_TK_EPT_MISCONFIG;
		tk_text_reset(w);
		why_entry(w, level, e);
		tk_text_str(w, "reserved bits ");
		tk_text_hex(w, e & rsv);
		tk_text_str(w, e & rsv & bits(51, c->mpa) ? " set (at or above MAXPHYADDR)" : " set");
		return false;
	}
	if (e & low) {
		x->result = TDP_TK_EPT_MISCONFIG;
		tk_text_reset(w);
		why_entry(w, level, e);
		tk_text_str(w, "address bits ");
		tk_text_hex(w, e & low);
		tk_text_str(w, level == 3 ? " below the 1 GiB page size (29:12 are reserved)" :
				      " below the 2 MiB page size (20:12 are reserved)");
		return false;
	}
	if (*leaf && (emt == 2 || emt == 3 || emt == 7)) {
		x->result = TDP_TK_EPT_MISCONFIG;
		tk_text_reset(w);
		why_entry(w, level, e);
		tk_text_str(w, "reserved memory type ");
		tk_text_dec(w, emt);
		tk_text_str(w, " (bits 5:3)");
		return false;
	}
	return true;
}

/* The neutral attributes of a leaf with the combined permissions (rule at the top). */
static tdp_attr_t leaf_attr(const struct ept *c, uint64_t e, uint64_t perm)
{
	tdp_attr_t a = 0;
	unsigned int emt = (unsigned int)(e >> 3) & 7;

	if (perm & EPT_R)
		a |= TDP_PROT_R;
	if (perm & EPT_W)
		a |= TDP_PROT_W;
	if (c->mbec) {
		if (perm & EPT_X)
			a |= TDP_PROT_XP;
		if (perm & EPT_XU)
			a |= TDP_PROT_XU;
	} else if (perm & EPT_X) {
		a |= TDP_PROT_XP | TDP_PROT_XU;
	}
	switch (emt) {
	case 6: a |= TDP_MT_NORMAL_WB; break;
	case 1: a |= TDP_MT_NORMAL_NC; break;
	case 0: a |= (e & EPT_IPAT) ? TDP_MT_DEVICE_STRICT : TDP_MT_DEVICE; break;
	default: a |= TDP_X86_EMT(emt); break; /* 4 (WT), 5 (WP): the reserved ones never get here */
	}
	if ((e & EPT_IPAT) && emt != 0)
		a |= TDP_X86_IPAT;
	a |= TDP_SW((e >> 52) & 0xf);
	return a;
}

/* The level nearest the root whose entry lacks the right (0 if none). */
static int cleared_at(const int lacks[6], int levels)
{
	for (int l = levels; l >= 1; l--)
		if (lacks[l])
			return l;
	return 0;
}

/* Permission check of the combined rights; false with x PERMISSION_FAULT. */
static bool check_access(const struct ept *c, uint64_t perm, const uint64_t *path, int leaf_level,
			 unsigned int access, struct tdp_tk_xlate *x, struct tk_text *w)
{
	uint64_t need = 0;
	const char *what = NULL;
	int lacks[6] = { 0 };

	if (access & TDP_TK_READ) {
		need = EPT_R;
		what = "read needs R (bit 0)";
	} else if (access & TDP_TK_WRITE) {
		need = EPT_W;
		what = "write needs W (bit 1)";
	} else if (access & TDP_TK_EXEC) {
		if (c->mbec && (access & TDP_TK_USER)) {
			need = EPT_XU;
			what = "user-mode fetch needs XU (bit 10)";
		} else {
			need = EPT_X;
			what = c->mbec ? "supervisor-mode fetch needs X (bit 2)" :
					 "instruction fetch needs X (bit 2)";
		}
	}
	if (!need || (perm & need))
		return true;
	for (int l = c->levels; l >= leaf_level; l--)
		lacks[l] = !(path[l] & need);
	x->result = TDP_TK_PERMISSION_FAULT;
	tk_text_reset(w);
	why_entry(w, leaf_level, x->pte);
	tk_text_str(w, what);
	tk_text_str(w, ", cleared in the ");
	tk_text_str(w, level_name(cleared_at(lacks, c->levels)));
	return false;
}

int tdp_tk_ref_ept(const struct tdp_tk_mem *mem, const struct tdp_tk_x86_regs *regs,
		   uint64_t gpa, unsigned int access, struct tdp_tk_xlate *x)
{
	const uint32_t known = TDP_TK_X86_CAP_EXEC_ONLY | TDP_TK_X86_CAP_2M | TDP_TK_X86_CAP_1G |
			       TDP_TK_X86_MBEC;
	struct tk_text w;
	struct ept c;
	uint64_t tpa, e = 0, parent = 0, parent_pa = 0, perm, path[6] = { 0 };
	int level;
	bool leaf = false;

	if (!mem || !mem->ptr || !regs || !x || !tk_access_valid(access))
		return -TDP_EINVAL;
	/* MAXPHYADDR: at most 52; every CPU with EPT (64-bit, PAE) has at least 36 */
	if ((regs->caps & ~known) || regs->maxphyaddr < 36 || regs->maxphyaddr > 52)
		return -TDP_EINVAL;
	w = tk_xlate_start(x);

	if (!decode_eptp(regs, &c, x, &w))
		goto out;
	level = c.levels;
	if (gpa >> c.width) {
		x->result = TDP_TK_TRANSLATION_FAULT;
		x->span_base = 1ull << c.width;
		x->span_size = 0 - x->span_base;
		tk_text_str(&w, "guest-physical address ");
		tk_text_hex(&w, gpa);
		tk_text_str(&w, " above the ");
		tk_text_dec(&w, c.width);
		tk_text_str(&w, "-bit width of a ");
		tk_text_dec(&w, (unsigned int)c.levels);
		tk_text_str(&w, "-level walk");
		goto out;
	}

	tpa = c.root;
	perm = EPT_R | EPT_W | EPT_X | EPT_XU;
	for (;;) {
		unsigned int shift = level_shift(level);
		const void *tbl = mem->ptr(mem->ctx, tpa, EPT_TABLE);
		size_t idx;

		x->level = level;
		if (!tbl) {
			x->result = TDP_TK_EXTERNAL_ABORT;
			x->pte = parent;
			x->pte_pa = parent_pa;
			if (level == c.levels) {
				x->span_base = 0;
				x->span_size = 1ull << c.width;
			} else {
				x->span_size = 1ull << level_shift(level + 1);
				x->span_base = gpa & ~(x->span_size - 1);
			}
			tk_text_str(&w, "table of ");
			tk_text_str(&w, level_name(level));
			tk_text_str(&w, "s at ");
			tk_text_hex(&w, tpa);
			tk_text_str(&w, " cannot be read");
			goto out;
		}
		x->tables[x->nr_tables++] = tpa;
		idx = (size_t)(gpa >> shift) & (EPT_ENTRIES - 1);
		e = entry_at(tbl, idx);
		x->pte = e;
		x->pte_pa = tpa + idx * 8;
		x->span_size = 1ull << shift;
		x->span_base = gpa & ~(x->span_size - 1);
		path[level] = e;

		if (!(e & (EPT_R | EPT_W | EPT_X)) && !(c.mbec && (e & EPT_XU))) {
			x->result = TDP_TK_TRANSLATION_FAULT;
			why_entry(&w, level, e);
			tk_text_str(&w, c.mbec ? "not present (bits 2:0 and 10 clear)" :
					   "not present (bits 2:0 clear)");
			goto out;
		}
		if (!check_entry(&c, e, level, &leaf, x, &w))
			goto out;
		perm &= e & (EPT_R | EPT_W | EPT_X | (c.mbec ? EPT_XU : 0));
		if (leaf)
			break;
		parent = e;
		parent_pa = x->pte_pa;
		tpa = e & bits(c.mpa - 1, 12);
		level--;
	}

	x->attr = leaf_attr(&c, e, perm);
	x->hpa = (e & bits(c.mpa - 1, level_shift(level))) | (gpa & (x->span_size - 1));
	if (!check_access(&c, perm, path, level, access, x, &w))
		goto out;
	x->result = TDP_TK_OK;
out:
	for (unsigned int i = x->nr_tables; i < TDP_MAX_LEVELS + 1; i++)
		x->tables[i] = 0;
	return 0;
}
