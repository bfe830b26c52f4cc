/* SPDX-License-Identifier: MIT */
/*
 * Breaks on purpose what check_lib.py checks, so that its checks are seen to
 * fail (the negative controls in meson.build): a call to libc's memset and a
 * recursive function.
 */
void *memset(void *s, int c, unsigned long n);
int tdp_bad_depth(volatile int *n);
void tdp_bad_clear(char *p, unsigned long n);

int tdp_bad_depth(volatile int *n)
{
	int here = *n;

	if (here <= 0)
		return 0;
	*n = here - 1;
	return tdp_bad_depth(n) + here; /* not a tail call: a real cycle */
}

void tdp_bad_clear(char *p, unsigned long n)
{
	memset(p, 0, n);
}
