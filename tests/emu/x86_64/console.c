/* SPDX-License-Identifier: MIT */
/*
 * Output through Bochs's port 0xe9 hack (every byte written there goes to
 * Bochs's console), a printf with just what the test prints, and the
 * PASS/FAIL protocol of tests/emu/run.py.
 */
#include "hyp.h"

static unsigned int test_no;

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void con_putc(char c)
{
	outb(0xe9, (uint8_t)c);
}

static void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

static void put_num(uint64_t v, unsigned int base, bool neg)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		con_putc('-');
	while (i)
		con_putc(buf[--i]);
}

/* %s %c %d %u %x %%, with an optional l/ll for 64 bits; no widths. */
void con_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int longs = 0;
		uint64_t v;

		if (*fmt != '%') {
			con_putc(*fmt);
			continue;
		}
		fmt++;
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			con_puts(va_arg(ap, const char *));
			break;
		case 'c':
			con_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t s = longs ? va_arg(ap, int64_t) : va_arg(ap, int);

			put_num(s < 0 ? -(uint64_t)s : (uint64_t)s, 10, s < 0);
			break;
		}
		case 'u':
		case 'x':
			v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			put_num(v, *fmt == 'u' ? 10 : 16, false);
			break;
		case '%':
			con_putc('%');
			break;
		default:
			con_puts("<bad format>");
			return;
		}
	}
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
}

void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (ok)
		con_printf("ok %u - ", ++test_no);
	else
		con_puts("TDP-EMU: FAIL ");
	con_vprintf(fmt, ap);
	va_end(ap);
	con_putc('\n');
	if (!ok)
		hyp_shutdown();
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_puts("TDP-EMU: FAIL ");
	con_vprintf(fmt, ap);
	va_end(ap);
	con_putc('\n');
	hyp_shutdown();
}

/*
 * Bochs's "unmapped" device stops the simulation when "Shutdown" is
 * written to port 0x8900 (a panic that the bochsrc makes fatal). If that
 * does not happen, halt with interrupts off and let run.py's timeout end it.
 */
void hyp_shutdown(void)
{
	const char *s = "Shutdown";

	while (*s)
		outb(0x8900, (uint8_t)*s++);
	for (;;)
		__asm__ volatile("cli; hlt");
}
