/* SPDX-License-Identifier: MIT */
/*
 * RISC-V G-stage reference walker (tdp_tk_ref_riscv), written from
 * docs/formats.md §R and sharing nothing with lib/: it decodes HGATP
 * the way the hart would, reads the G-stage PTEs through a struct
 * tdp_tk_mem and reports the translation or the fault. It never writes
 * memory (no A/D updates, even with Svadu).
 *
 * What it models (docs/formats.md §R.1-§R.6, §R.8):
 * - HGATP: MODE (bits 63:60) 8 / 9 / 10 = Sv39x4 / Sv48x4 / Sv57x4, i.e.
 *   3 / 4 / 5 levels and 41 / 50 / 59-bit guest-physical addresses; bits
 *   59:58 zero; PPN (bits 43:0) with PPN[1:0] = 0 (16 KiB-aligned root).
 *   Anything else (Bare and the reserved modes included) is
 *   TDP_TK_MALFORMED: level = the root level (levels - 1) if MODE decoded,
 *   else 0; span_size 0. The VMID (bits 57:44) does not change the walk.
 *   A root at or above 2^pa_bits is TDP_TK_ADDRESS_SIZE_FAULT at the root
 *   level over [0, 2^width) (as the arm64 walker treats VTTBR_EL2).
 * - Levels are RISC-V's own, which are libtdp's neutral ones: 0 holds the
 *   4 KiB pages, levels - 1 is the root. The root has 2048 entries (16 KiB,
 *   index GPA[width-1 : 12 + 9 * (levels - 1)]); every other table 512
 *   (4 KiB, 9 index bits). x->tables[] holds the tables read, root first.
 * - A GPA with any bit at or above the width set: TDP_TK_TRANSLATION_FAULT
 *   at the root level with the span [2^width, 2^64) (the kit's convention
 *   for an input out of range; the hart raises a guest-page fault).
 * - V = 0: TDP_TK_TRANSLATION_FAULT (a hole when the entry is 0).
 * - A pointer (V = 1, R = W = X = 0): at level 0 (no leaf by level 0), or
 *   with U, A, D, PBMT, N or bits 60:54 set -> TDP_TK_GUEST_PAGE_FAULT; a
 *   next-table address (PPN << 12) at or above 2^pa_bits ->
 *   TDP_TK_ADDRESS_SIZE_FAULT; a table the reader cannot return ->
 *   TDP_TK_EXTERNAL_ABORT at the level of its entries, with pte / pte_pa /
 *   span of the entry pointing to it (for the root: pte 0, pte_pa 0, span
 *   [0, 2^width)).
 * - A leaf (any of R, W, X), in this order: W without R (X W R = 010 or
 *   110), bits 60:54 set, PBMT = 3, PBMT != 0 without Svpbmt, N = 1 without
 *   Svnapot, at a level other than 0 or with PPN[3:0] != 0b1000, a
 *   misaligned superpage (PPN bits below the leaf size), U = 0 (G-stage
 *   takes every access as a U-mode one): TDP_TK_GUEST_PAGE_FAULT. An output
 *   address at or above 2^pa_bits: TDP_TK_ADDRESS_SIZE_FAULT. No correct
 *   library writes any of these; `why` says what was seen. G (bit 5) and
 *   RSW (bits 9:8) are ignored, as the hart ignores them.
 * - Svnapot (a project rule, stronger than the hart's check): a valid
 *   N = 1 leaf is one of the 16 entries of its 64 KiB group (the aligned
 *   run of 16 entries in the same table); all 16 must be identical, A and D
 *   aside when the hart updates them (TDP_TK_RISCV_ADUE), else
 *   TDP_TK_MALFORMED over the group. A NAPOT leaf spans the 64 KiB group
 *   and translates to ((PPN & ~0xf) << 12) + (gpa & 0xffff). With ADUE,
 *   x->pte carries the A and D bits of all 16 entries ORed together (the
 *   hart may set them in any one), the rest from the entry at pte_pa.
 * - Access checks, in the hart's order (permissions before A/D): READ
 *   needs R (MXR is not modelled), WRITE needs W, EXEC needs X, else
 *   TDP_TK_PERMISSION_FAULT with attr and hpa filled in. TDP_TK_USER is
 *   accepted and changes nothing. Without TDP_TK_RISCV_ADUE, A = 0 on any
 *   access but a PROBE, or D = 0 on a WRITE, is TDP_TK_ACCESS_FLAG_FAULT
 *   (the hart raises a guest-page fault; the kit names it like arm64's
 *   access-flag fault). With ADUE the hart would set them: the walker only
 *   reads, like the arm64 walker with VTCR_EL2.HA and the EPT walker with
 *   A/D enabled. A PROBE checks neither.
 * - Returns -TDP_EINVAL for NULL arguments, unknown access bits (one of
 *   READ/WRITE/EXEC at a time, USER only with one), unknown feature bits or
 *   pa_bits outside 32..56; otherwise 0 with the outcome in *x.
 * - x->pte_pa: the physical address of x->pte (the leaf, the entry that
 *   faulted, or the entry pointing to an unreadable table); 0 when no
 *   entry was read.
 *
 * The attribute rule (x->attr for TDP_TK_OK and TDP_TK_PERMISSION_FAULT):
 * R -> TDP_PROT_R, W -> TDP_PROT_W, X -> TDP_PROT_XP | TDP_PROT_XU (one
 * execute bit); PBMT 0 (PMA) / 1 (NC) / 2 (IO) -> TDP_MT_NORMAL_WB /
 * TDP_MT_NORMAL_NC / TDP_MT_DEVICE; RSW -> TDP_SW(rsw). A, D, G and N are
 * not reported.
 */
#include "kit_internal.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Bit helpers and PTE fields (own, not lib/'s; docs/formats.md §R.3)  */

/* Bits hi..lo set; 0 when hi < lo. */
static uint64_t bits(unsigned int hi, unsigned int lo)
{
	if (hi < lo)
		return 0;
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

#define G_V     (1ull << 0)
#define G_R     (1ull << 1)
#define G_W     (1ull << 2)
#define G_X     (1ull << 3)
#define G_U     (1ull << 4)
#define G_A     (1ull << 6)
#define G_D     (1ull << 7)
#define G_RSV   bits(60, 54)
#define G_PBMT  bits(62, 61)
#define G_N     (1ull << 63)

#define ROOT_ENTRIES  2048u
#define ROOT_BYTES    16384u
#define TABLE_ENTRIES 512u
#define TABLE_BYTES   4096u
#define NAPOT_ENTRIES 16u
#define NAPOT_BYTES   65536ull

static uint64_t pte_ppn(uint64_t e)
{
	return (e >> 10) & bits(43, 0);
}

static unsigned int pte_pbmt(uint64_t e)
{
	return (unsigned int)(e >> 61) & 3;
}

/* Bits an entry at `level` resolves below itself: its span is 2^shift. */
static unsigned int level_shift(int level)
{
	return 12 + 9 * (unsigned int)level;
}

/* ------------------------------------------------------------------ */
/* `why` text without snprintf (the iterators walk a lot)               */

/* "level 1 PTE 0x...: " */
static void why_pte(struct tk_text *w, int level, uint64_t e)
{
	tk_text_str(w, "level ");
	tk_text_dec(w, (uint64_t)level);
	tk_text_str(w, " PTE ");
	tk_text_hex(w, e);
	tk_text_str(w, ": ");
}

static void fault(struct tdp_tk_xlate *x, struct tk_text *w, enum tdp_tk_result r, int level,
		  uint64_t e, const char *what)
{
	x->result = r;
	tk_text_reset(w);
	why_pte(w, level, e);
	tk_text_str(w, what);
}

/* The same with the offending bits appended: "<what> 0x...". */
static void fault_bits(struct tdp_tk_xlate *x, struct tk_text *w, enum tdp_tk_result r, int level,
		       uint64_t e, const char *what, uint64_t which)
{
	fault(x, w, r, level, e, what);
	tk_text_hex(w, which);
}

/* ------------------------------------------------------------------ */
/* HGATP                                                               */

struct gst {
	int levels;          /* 3, 4 or 5 */
	unsigned int width;  /* 41, 50 or 59 */
	unsigned int pa_bits;
	uint64_t root;
	bool pbmt, napot, adue;
};

/* Decode HGATP; false with x MALFORMED or ADDRESS_SIZE_FAULT. */
static bool decode_hgatp(const struct tdp_tk_riscv_regs *regs, struct gst *c,
			 struct tdp_tk_xlate *x, struct tk_text *w)
{
	uint64_t hgatp = regs->hgatp, ppn = hgatp & bits(43, 0);
	unsigned int mode = (unsigned int)(hgatp >> 60);

	memset(c, 0, sizeof(*c));
	c->pa_bits = regs->pa_bits;
	c->pbmt = (regs->features & TDP_TK_RISCV_SVPBMT) != 0;
	c->napot = (regs->features & TDP_TK_RISCV_SVNAPOT) != 0;
	c->adue = (regs->features & TDP_TK_RISCV_ADUE) != 0;
	x->result = TDP_TK_MALFORMED;
	x->level = 0;
	x->span_base = 0;
	x->span_size = 0; /* the whole address space */
	if (mode < 8 || mode > 10) {
		tk_text_str(w, "HGATP ");
		tk_text_hex(w, hgatp);
		tk_text_str(w, ": MODE ");
		tk_text_dec(w, mode);
		tk_text_str(w, mode == 0 ? " (Bare: no G-stage walk)" :
				   " is reserved (8 Sv39x4, 9 Sv48x4, 10 Sv57x4)");
		return false;
	}
	c->levels = (int)mode - 5;
	c->width = 12 + 9 * (unsigned int)c->levels + 2; /* the root resolves 2 more bits */
	x->level = c->levels - 1;
	if (hgatp & bits(59, 58)) {
		tk_text_str(w, "HGATP ");
		tk_text_hex(w, hgatp);
		tk_text_str(w, ": bits 59:58 must be zero");
		return false;
	}
	if (ppn & 3) {
		tk_text_str(w, "HGATP ");
		tk_text_hex(w, hgatp);
		tk_text_str(w, ": PPN[1:0] != 0, the root is not 16 KiB aligned");
		return false;
	}
	c->root = ppn << 12;
	if (c->root >> c->pa_bits) {
		x->result = TDP_TK_ADDRESS_SIZE_FAULT;
		x->span_size = 1ull << c->width;
		tk_text_str(w, "HGATP root ");
		tk_text_hex(w, c->root);
		tk_text_str(w, " at or above the ");
		tk_text_dec(w, c->pa_bits);
		tk_text_str(w, "-bit physical address width");
		return false;
	}
	x->result = TDP_TK_OK;
	return true;
}

/* ------------------------------------------------------------------ */
/* Entries                                                             */

static uint64_t entry_at(const void *tbl, size_t idx)
{
	uint64_t e;

	memcpy(&e, (const unsigned char *)tbl + idx * 8, sizeof(e));
	return e;
}

/* A pointer to the next table (V = 1, R = W = X = 0); false with x a fault. */
static bool check_pointer(const struct gst *c, uint64_t e, int level, struct tdp_tk_xlate *x,
			  struct tk_text *w)
{
	uint64_t bad = e & (G_U | G_A | G_D | G_PBMT | G_N | G_RSV);

	if (level == 0) {
		fault(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e,
		      "a pointer (X W R = 000) at level 0: no leaf by level 0");
		return false;
	}
	if (bad) {
		fault_bits(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e,
			   "a pointer with U, A, D, PBMT, N or reserved bits set: ", bad);
		return false;
	}
	if ((pte_ppn(e) << 12) >> c->pa_bits) {
		fault(x, w, TDP_TK_ADDRESS_SIZE_FAULT, level, e,
		      "next-table address at or above the physical address width");
		return false;
	}
	return true;
}

/* Encoding checks of a leaf; false with x a fault. */
static bool check_leaf(const struct gst *c, uint64_t e, int level, struct tdp_tk_xlate *x,
		       struct tk_text *w)
{
	uint64_t ppn = pte_ppn(e), low = level ? bits(9 * (unsigned int)level - 1, 0) : 0;
	unsigned int pbmt = pte_pbmt(e);

	if ((e & G_W) && !(e & G_R)) {
		fault(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e,
		      "W without R (X W R = 010 or 110) is reserved");
		return false;
	}
	if (e & G_RSV) {
		fault_bits(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e, "reserved bits 60:54 set: ",
			   e & G_RSV);
		return false;
	}
	if (pbmt == 3) {
		fault(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e, "PBMT = 3 is reserved");
		return false;
	}
	if (pbmt && !c->pbmt) {
		fault(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e,
		      "PBMT != 0 without Svpbmt (menvcfg.PBMTE = 0)");
		return false;
	}
	if (e & G_N) {
		if (!c->napot) {
			fault(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e, "N = 1 without Svnapot");
			return false;
		}
		if (level != 0) {
			fault(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e,
			      "N = 1 above level 0 (only 64 KiB NAPOT pages exist)");
			return false;
		}
		if ((ppn & 0xf) != 8) {
			fault(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e,
			      "N = 1 with PPN[3:0] != 0b1000 (not a 64 KiB NAPOT encoding)");
			return false;
		}
	}
	if (ppn & low) {
		fault_bits(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e,
			   "misaligned superpage, PPN bits below the page size: ", ppn & low);
		return false;
	}
	if (!(e & G_U)) {
		fault(x, w, TDP_TK_GUEST_PAGE_FAULT, level, e,
		      "U = 0 in a leaf (G-stage takes every access as U-mode)");
		return false;
	}
	return true;
}

/*
 * The 16 entries of the NAPOT group of entry idx in the level-0 table tbl
 * must be identical (A/D aside with ADUE); false with x MALFORMED.
 */
static bool check_napot_group(const struct gst *c, const void *tbl, size_t idx, uint64_t e,
			      struct tdp_tk_xlate *x, struct tk_text *w)
{
	uint64_t mask = c->adue ? ~(G_A | G_D) : ~0ull;
	size_t first = idx & ~(size_t)(NAPOT_ENTRIES - 1);

	for (size_t i = first; i < first + NAPOT_ENTRIES; i++) {
		uint64_t o = entry_at(tbl, i);

		if (((o ^ e) & mask) == 0)
			continue;
		x->result = TDP_TK_MALFORMED;
		tk_text_reset(w);
		why_pte(w, 0, e);
		tk_text_str(w, "NAPOT group entry ");
		tk_text_dec(w, i - first);
		tk_text_str(w, " is ");
		tk_text_hex(w, o);
		tk_text_str(w, c->adue ? ", not the same (A/D aside)" : ", not the same");
		return false;
	}
	return true;
}

/*
 * The A/D state of the group of entry idx: the hart sets A and D in
 * whichever of the 16 entries it used, so the group is accessed (dirty) if
 * any entry says so.
 */
static uint64_t napot_group_ad(const void *tbl, size_t idx)
{
	size_t first = idx & ~(size_t)(NAPOT_ENTRIES - 1);
	uint64_t ad = 0;

	for (size_t i = first; i < first + NAPOT_ENTRIES; i++)
		ad |= entry_at(tbl, i) & (G_A | G_D);
	return ad;
}

static tdp_attr_t leaf_attr(uint64_t e)
{
	tdp_attr_t a = 0;

	if (e & G_R)
		a |= TDP_PROT_R;
	if (e & G_W)
		a |= TDP_PROT_W;
	if (e & G_X)
		a |= TDP_PROT_XP | TDP_PROT_XU;
	switch (pte_pbmt(e)) {
	case 1: a |= TDP_MT_NORMAL_NC; break;
	case 2: a |= TDP_MT_DEVICE; break;
	default: a |= TDP_MT_NORMAL_WB; break; /* 0 (PMA); 3 never gets here */
	}
	a |= TDP_SW((e >> 8) & 3);
	return a;
}

/* Permission check of a leaf that translates; false with x PERMISSION_FAULT. */
static bool check_access(uint64_t e, int level, unsigned int access, struct tdp_tk_xlate *x,
			 struct tk_text *w)
{
	const char *need = NULL;

	if ((access & TDP_TK_READ) && !(e & G_R))
		need = "read needs R (bit 1)";
	else if ((access & TDP_TK_WRITE) && !(e & G_W))
		need = "write needs W (bit 2)";
	else if ((access & TDP_TK_EXEC) && !(e & G_X))
		need = "instruction fetch needs X (bit 3)";
	if (!need)
		return true;
	fault(x, w, TDP_TK_PERMISSION_FAULT, level, e, need);
	return false;
}

/* A/D without hardware updating; false with x ACCESS_FLAG_FAULT. */
static bool check_ad(const struct gst *c, uint64_t e, int level, unsigned int access,
		     struct tdp_tk_xlate *x, struct tk_text *w)
{
	if (c->adue || access == TDP_TK_PROBE)
		return true;
	if (!(e & G_A)) {
		fault(x, w, TDP_TK_ACCESS_FLAG_FAULT, level, e,
		      "A = 0 and the hart does not set it (no menvcfg.ADUE)");
		return false;
	}
	if ((access & TDP_TK_WRITE) && !(e & G_D)) {
		fault(x, w, TDP_TK_ACCESS_FLAG_FAULT, level, e,
		      "write with D = 0 and the hart does not set it (no menvcfg.ADUE)");
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* The walk                                                            */

int tdp_tk_ref_riscv(const struct tdp_tk_mem *mem, const struct tdp_tk_riscv_regs *regs,
		     uint64_t gpa, unsigned int access, struct tdp_tk_xlate *x)
{
	const uint32_t known = TDP_TK_RISCV_SVPBMT | TDP_TK_RISCV_SVNAPOT | TDP_TK_RISCV_ADUE;
	struct tk_text w;
	struct gst c;
	uint64_t tpa, e = 0, parent = 0, parent_pa = 0, oa;
	size_t nent, tbytes, idx = 0;
	const void *tbl = NULL;
	int level;

	if (!mem || !mem->ptr || !regs || !x || !tk_access_valid(access))
		return -TDP_EINVAL;
	if ((regs->features & ~known) || regs->pa_bits < 32 || regs->pa_bits > 56)
		return -TDP_EINVAL;
	w = tk_xlate_start(x);

	if (!decode_hgatp(regs, &c, x, &w))
		goto out;
	level = c.levels - 1;
	x->level = level;
	if (gpa >> c.width) {
		/* the hart raises a guest-page fault; the kit's name for input out of range */
		x->result = TDP_TK_TRANSLATION_FAULT;
		x->span_base = 1ull << c.width;
		x->span_size = 0 - x->span_base;
		tk_text_str(&w, "guest-physical address ");
		tk_text_hex(&w, gpa);
		tk_text_str(&w, " above the ");
		tk_text_dec(&w, c.width);
		tk_text_str(&w, "-bit width of Sv");
		tk_text_dec(&w, 12 + 9 * (unsigned int)c.levels);
		tk_text_str(&w, "x4");
		goto out;
	}

	tpa = c.root;
	nent = ROOT_ENTRIES;
	tbytes = ROOT_BYTES;
	for (;;) {
		unsigned int shift = level_shift(level);

		x->level = level;
		tbl = mem->ptr(mem->ctx, tpa, tbytes);
		if (!tbl) {
			x->result = TDP_TK_EXTERNAL_ABORT;
			x->pte = parent;
			x->pte_pa = parent_pa;
			if (x->nr_tables == 0) {
				x->span_base = 0;
				x->span_size = 1ull << c.width;
			} else {
				x->span_size = 1ull << level_shift(level + 1);
				x->span_base = gpa & ~(x->span_size - 1);
			}
			tk_text_str(&w, "level ");
			tk_text_dec(&w, (uint64_t)level);
			tk_text_str(&w, " table at ");
			tk_text_hex(&w, tpa);
			tk_text_str(&w, " cannot be read");
			goto out;
		}
		x->tables[x->nr_tables++] = tpa;
		idx = (size_t)(gpa >> shift) & (nent - 1);
		e = entry_at(tbl, idx);
		x->pte = e;
		x->pte_pa = tpa + idx * 8;
		x->span_size = 1ull << shift;
		x->span_base = gpa & ~(x->span_size - 1);

		if (!(e & G_V)) {
			fault(x, &w, TDP_TK_TRANSLATION_FAULT, level, e, "not valid (V = 0)");
			goto out;
		}
		if (e & (G_R | G_W | G_X))
			break; /* a leaf */
		if (!check_pointer(&c, e, level, x, &w))
			goto out;
		parent = e;
		parent_pa = x->pte_pa;
		tpa = pte_ppn(e) << 12;
		nent = TABLE_ENTRIES;
		tbytes = TABLE_BYTES;
		level--;
	}

	if (!check_leaf(&c, e, level, x, &w))
		goto out;
	oa = pte_ppn(e) << 12;
	if (e & G_N) {
		oa &= ~(NAPOT_BYTES - 1);
		x->span_size = NAPOT_BYTES;
		x->span_base = gpa & ~(NAPOT_BYTES - 1);
	}
	if (oa >> c.pa_bits) {
		fault(x, &w, TDP_TK_ADDRESS_SIZE_FAULT, level, e,
		      "output address at or above the physical address width");
		goto out;
	}
	if ((e & G_N) && !check_napot_group(&c, tbl, idx, e, x, &w))
		goto out;
	if ((e & G_N) && c.adue)
		x->pte |= napot_group_ad(tbl, idx);
	x->attr = leaf_attr(e);
	x->hpa = oa | (gpa & (x->span_size - 1));
	if (!check_access(e, level, access, x, &w))
		goto out;
	if (!check_ad(&c, e, level, access, x, &w)) {
		x->attr = 0;
		x->hpa = 0;
		goto out;
	}
	x->result = TDP_TK_OK;
	tk_text_reset(&w);
out:
	for (unsigned int i = x->nr_tables; i < TDP_MAX_LEVELS + 1; i++)
		x->tables[i] = 0;
	return 0;
}
