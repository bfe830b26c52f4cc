/* SPDX-License-Identifier: MIT */
/*
 * The guest's stage-2 table: libtdp wired to this machine (page-table
 * memory from a bump pool, TLB callbacks as HFENCE.GVMA) and HGATP.
 */
#ifndef EMU_RV_STAGE2_H
#define EMU_RV_STAGE2_H

#include <tdp/riscv.h>

extern struct tdp_pgtable s2;
extern struct tdp_memcache s2_mc;

struct s2_stats {
	uint64_t flush_range; /* flush_range calls */
	uint64_t hfence_addr; /* HFENCE.GVMA by address they issued */
	uint64_t flush_full;  /* full HFENCE.GVMA (flush_all, or a range too big) */
	uint64_t tables;      /* table pages handed out */
	uint64_t freed;       /* table pages given back */
};
extern struct s2_stats s2_stats;

/*
 * Flush bookkeeping: s2_flush_watch() starts a window; s2_flush_covered()
 * says whether one flush_range call (or a whole-VMID flush) in the window
 * covered all of [gpa, gpa + size).
 */
void s2_flush_watch(void);
bool s2_flush_covered(uint64_t gpa, uint64_t size);

/* Create the table for ia_bits (41 or 50), load HGATP and check it took. */
void s2_init(unsigned int ia_bits);

/* Fill s2_mc with at least `need` pages (a pages_needed result). */
void s2_topup(long need);

#endif
