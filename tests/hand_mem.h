/* SPDX-License-Identifier: MIT */
/*
 * Hand-built physical memory for the reference walkers' own tests: one
 * static arena with fake physical addresses, tables placed by hand, and an
 * optional hole that the reader refuses (an external abort for the walker).
 * Include once per test program, after <cmocka.h> and <tdp/testkit.h>.
 */
#ifndef TDP_TESTS_HAND_MEM_H
#define TDP_TESTS_HAND_MEM_H

#include <string.h>

#define ARENA_SIZE (16u << 20)

static uint64_t arena[ARENA_SIZE / 8];

struct hb {
	uint64_t base; /* physical address of arena[0] */
	size_t used;
	size_t reads;  /* reader calls */
	uint64_t last_pa;
	size_t last_size;
	uint64_t hole_pa, hole_size; /* not in memory */
	struct tdp_tk_mem mem;
};

static const void *hb_ptr(void *ctx, uint64_t pa, size_t size)
{
	struct hb *h = ctx;

	h->reads++;
	h->last_pa = pa;
	h->last_size = size;
	if (pa < h->base || pa - h->base > ARENA_SIZE || ARENA_SIZE - (pa - h->base) < size)
		return NULL;
	if (h->hole_size && pa < h->hole_pa + h->hole_size && h->hole_pa < pa + size)
		return NULL;
	return (const unsigned char *)arena + (pa - h->base);
}

static void hb_init(struct hb *h, uint64_t base)
{
	memset(arena, 0, sizeof(arena));
	memset(h, 0, sizeof(*h));
	h->base = base;
	h->mem.ptr = hb_ptr;
	h->mem.ctx = h;
}

/* A zeroed table of `size` bytes aligned to its size; its physical address. */
static uint64_t hb_table(struct hb *h, uint64_t size)
{
	uint64_t off = (h->used + size - 1) & ~(size - 1);

	assert_true(off + size <= ARENA_SIZE);
	h->used = off + size;
	return h->base + off;
}

/* Make [pa, pa + size) unreadable (size 0: no hole). */
static inline void hb_hole(struct hb *h, uint64_t pa, uint64_t size)
{
	h->hole_pa = pa;
	h->hole_size = size;
}

static void hb_set(struct hb *h, uint64_t table_pa, size_t idx, uint64_t desc)
{
	arena[(table_pa - h->base) / 8 + idx] = desc;
}

static inline uint64_t hb_at(const struct hb *h, uint64_t pa)
{
	return arena[(pa - h->base) / 8];
}

/* The walk at `addr` for `access` ended in `res` at `level`, and says why (mentioning `why`). */
static void check_res(const struct tdp_tk_xlate *x, uint64_t addr, unsigned int access,
		      enum tdp_tk_result res, int level, const char *why)
{
	if (x->result != res || x->level != level)
		fail_msg("address 0x%llx access 0x%x: result %d level %d (%s), expected %d at level %d",
			 (unsigned long long)addr, access, x->result, x->level, x->why, res, level);
	if (why && !strstr(x->why, why))
		fail_msg("address 0x%llx: why \"%s\" does not mention \"%s\"",
			 (unsigned long long)addr, x->why, why);
	assert_true(x->why[0] != '\0');
}

/* TLB callbacks for tables built only to be walked. */
static void nop_flush_range(void *ctx, uint64_t gpa, uint64_t size, int level, bool tables)
{
	(void)ctx, (void)gpa, (void)size, (void)level, (void)tables;
}

static void nop_flush_all(void *ctx)
{
	(void)ctx;
}

static const struct tdp_tlb_ops nop_tlb = { nop_flush_range, nop_flush_all };

#endif
