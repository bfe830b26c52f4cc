/* SPDX-License-Identifier: MIT */
/*
 * A bounded text builder for the reference walkers' `why`: the leaf
 * iterators walk millions of entries, so it avoids snprintf.
 */
#include "kit_internal.h"

void tk_text_reset(struct tk_text *t)
{
	t->n = 0;
	t->p[0] = '\0';
}

void tk_text_str(struct tk_text *t, const char *s)
{
	while (*s && t->n + 1 < t->cap)
		t->p[t->n++] = *s++;
	t->p[t->n] = '\0';
}

void tk_text_hex(struct tk_text *t, uint64_t v)
{
	char tmp[19];
	int i = 18;

	tmp[i] = '\0';
	do {
		tmp[--i] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	tk_text_str(t, tmp + i);
}

void tk_text_dec(struct tk_text *t, uint64_t v)
{
	char tmp[21];
	int i = 20;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	tk_text_str(t, tmp + i);
}
