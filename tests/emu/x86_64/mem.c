/* SPDX-License-Identifier: MIT */
/*
 * Host memory for page tables and VMX regions: a bump allocator over a
 * fixed range of RAM that no test mapping uses, with a free list so that
 * the tables the library gives back are reused. Every block is zeroed and
 * aligned to its size, as tdp_mm_ops.zalloc_table requires.
 */
#include "hyp.h"

#define POOL_START 0x00200000u
#define POOL_END   0x00800000u
#define PAGE       4096u

static uintptr_t pool_next = POOL_START;
static void *free_pages; /* 4 KiB pages, linked through their first word */
static size_t in_use;

void *page_alloc(size_t size)
{
	void *p;

	if (size == PAGE && free_pages) {
		p = free_pages;
		free_pages = *(void **)p;
	} else {
		uintptr_t a;

		if (!size || (size & (size - 1)) || size < PAGE)
			return NULL;
		a = (pool_next + size - 1) & ~(uintptr_t)(size - 1);
		if (a + size > POOL_END)
			return NULL;
		pool_next = a + size;
		p = (void *)a;
	}
	memset(p, 0, size);
	in_use += size;
	return p;
}

/* Larger blocks (none in this test) would just leak. */
void page_free(void *p, size_t size)
{
	uintptr_t a = (uintptr_t)p;

	if (a < POOL_START || a >= POOL_END || (a & (PAGE - 1)))
		fail("page_free of %lx, not a pool page", (uint64_t)a);
	in_use -= size;
	if (size == PAGE) {
		*(void **)p = free_pages;
		free_pages = p;
	}
}

size_t page_pool_in_use(void)
{
	return in_use;
}
