/* SPDX-License-Identifier: MIT */
/*
 * Progress lines ("ok N - what value") and the verdict. The first broken
 * check ends the run: later checks would only report its consequences.
 */
#include "hyp.h"

static unsigned int n_ok;

void note(const char *what)
{
	uart_puts("# ");
	uart_puts(what);
	uart_putc('\n');
}

void ok(const char *what, uint64_t a)
{
	uart_puts("ok ");
	uart_dec(++n_ok);
	uart_puts(" - ");
	uart_puts(what);
	uart_putc(' ');
	uart_hex(a);
	uart_putc('\n');
}

void fail_begin(const char *what)
{
	uart_puts("TDP-EMU: FAIL ");
	uart_puts(what);
}

_Noreturn void fail_end(void)
{
	uart_putc('\n');
	semihost_exit(1);
}

_Noreturn void fail(const char *what, uint64_t got, uint64_t want)
{
	fail_begin(what);
	uart_puts(" (got ");
	uart_hex(got);
	uart_puts(", want ");
	uart_hex(want);
	uart_putc(')');
	fail_end();
}

void check(bool cond, const char *what, uint64_t got, uint64_t want)
{
	if (!cond)
		fail(what, got, want);
	ok(what, got);
}
