/* SPDX-License-Identifier: MIT */
/*
 * Console and verdict: print through the ns16550, number the checks, and
 * leave QEMU through the SiFive test device. Usable from M and HS mode
 * (both run untranslated).
 */
#ifndef EMU_RV_CONSOLE_H
#define EMU_RV_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A tiny printf: %s (string), %x (uint64_t, hex), %u (uint64_t, decimal),
 * %c (int). Every number argument must be a uint64_t.
 */
void con_printf(const char *fmt, ...);

/* "ok N - <what>" when cond holds, else "TDP-EMU: FAIL <what>" and exit. */
void check(bool cond, const char *fmt, ...);

/* "TDP-EMU: FAIL <what>" and exit with a failure code. */
_Noreturn void fail(const char *fmt, ...);

/* "TDP-EMU: PASS" and exit. */
_Noreturn void pass(void);

#endif
