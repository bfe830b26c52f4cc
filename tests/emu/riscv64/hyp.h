/* SPDX-License-Identifier: MIT */
/* Entry points between the modes, and the build's configuration. */
#ifndef EMU_RV_HYP_H
#define EMU_RV_HYP_H

#include <stdint.h>

#ifndef EMU_IA_BITS
#define EMU_IA_BITS 41 /* 41: Sv39x4, 50: Sv48x4 */
#endif
#ifndef EMU_NEGATIVE
#define EMU_NEGATIVE 0 /* 1: one deliberately wrong mapping, the run must fail */
#endif

void m_main(void);
void m_fatal(uint64_t mcause, uint64_t mepc, uint64_t mtval);
void hs_main(void);
void hs_fatal(uint64_t scause, uint64_t sepc, uint64_t stval, uint64_t htval, uint64_t hstatus);

/* trap.S, guest.S */
extern char hs_fatal_vector[];
extern char guest_entry[];
/* hyp.ld */
extern char __guest_start[], __guest_end[];

#endif
