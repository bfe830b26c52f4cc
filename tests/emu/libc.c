/* SPDX-License-Identifier: MIT */
/*
 * The two functions GCC may call on its own even in a freestanding build
 * (struct initialisation and copies), shared by the three test hypervisors.
 * Volatile byte loops: on arm64 with the EL2 MMU off all memory is Device
 * memory, where only aligned accesses are allowed, and a plain loop could be
 * turned back into a call to memset itself.
 */
#include <stddef.h>

void *memset(void *s, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);

void *memset(void *s, int c, size_t n)
{
	volatile unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	volatile unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}
