/* SPDX-License-Identifier: MIT */
/* Output on QEMU virt's PL011. QEMU needs no baud or line set-up. */
#include "hyp.h"

#define UART_DR 0x00
#define UART_FR 0x18
#define FR_TXFF (1u << 5) /* transmit FIFO full */

static volatile uint32_t *uart_reg(unsigned int off)
{
	return (volatile uint32_t *)(uintptr_t)(HOST_UART + off);
}

uint32_t uart_flags(void)
{
	return *uart_reg(UART_FR);
}

void uart_putc(char c)
{
	if (c == '\n')
		uart_putc('\r');
	while (*uart_reg(UART_FR) & FR_TXFF)
		;
	*uart_reg(UART_DR) = (uint32_t)(unsigned char)c;
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

void uart_hex(uint64_t v)
{
	int shift = 60;

	uart_puts("0x");
	/* no leading zeros, but at least one digit */
	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		uart_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

void uart_dec(uint64_t v)
{
	char buf[21];
	int i = 0;

	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		uart_putc(buf[--i]);
}
