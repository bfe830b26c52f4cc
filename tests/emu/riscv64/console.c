/* SPDX-License-Identifier: MIT */
#include "console.h"

#include <stdarg.h>

#include "layout.h"

#define UART_THR     0
#define UART_LSR     5
#define UART_LSR_THRE 0x20

#define TESTDEV_PASS 0x5555u
#define TESTDEV_FAIL 0x3333u

static unsigned int checks_done;

static void con_putc(char c)
{
	volatile uint8_t *uart = (volatile uint8_t *)(uintptr_t)H_UART;

	if (c == '\n')
		con_putc('\r');
	while (!(uart[UART_LSR] & UART_LSR_THRE))
		;
	uart[UART_THR] = (uint8_t)c;
}

static void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

static void con_number(uint64_t v, unsigned int base)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		con_putc(buf[--i]);
}

static void con_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%' || !fmt[1]) {
			con_putc(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's':
			con_puts(va_arg(ap, const char *));
			break;
		case 'x':
			con_number(va_arg(ap, uint64_t), 16);
			break;
		case 'u':
			con_number(va_arg(ap, uint64_t), 10);
			break;
		case 'c':
			con_putc((char)va_arg(ap, int));
			break;
		default:
			con_putc('%');
			con_putc(*fmt);
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

static _Noreturn void emu_exit(uint32_t code)
{
	volatile uint32_t *dev = (volatile uint32_t *)(uintptr_t)H_TESTDEV;

	*dev = code ? (code << 16) | TESTDEV_FAIL : TESTDEV_PASS;
	/* the device stops QEMU; should it be missing, stay here */
	for (;;)
		__asm__ volatile("wfi");
}

static _Noreturn void vfail(const char *fmt, va_list ap)
{
	con_puts("TDP-EMU: FAIL ");
	con_vprintf(fmt, ap);
	con_putc('\n');
	emu_exit(1);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(fmt, ap);
}

void check(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!cond)
		vfail(fmt, ap);
	con_printf("ok %u - ", (uint64_t)++checks_done);
	con_vprintf(fmt, ap);
	con_putc('\n');
	va_end(ap);
}

void pass(void)
{
	con_printf("%u checks passed\nTDP-EMU: PASS\n", (uint64_t)checks_done);
	emu_exit(0);
}
