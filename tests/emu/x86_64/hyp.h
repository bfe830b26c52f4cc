/* SPDX-License-Identifier: MIT */
/* Shared declarations of the bare-metal VMX test hypervisor. */
#ifndef EMU_X86_HYP_H
#define EMU_X86_HYP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* console.c: output on Bochs's port 0xe9 */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void con_vprintf(const char *fmt, va_list ap);
/* Print "ok N - <msg>" if ok, else "TDP-EMU: FAIL <msg>" and stop. */
void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "TDP-EMU: FAIL <msg>" and stop. */
__attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...);
/* Stop the emulator (Bochs's shutdown port). */
__attribute__((noreturn)) void hyp_shutdown(void);

/* cpu.c: host descriptor tables and the register accessors */
struct cpu_tables {
	uint64_t gdt_base;
	uint64_t idt_base;
	uint64_t tr_base;
	uint16_t tr_sel;
};
void cpu_init(struct cpu_tables *t);

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

#define DEFINE_CR(n)                                                               \
	static inline uint64_t read_cr##n(void)                                    \
	{                                                                          \
		uint64_t v;                                                        \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                  \
		return v;                                                          \
	}                                                                          \
	static inline void write_cr##n(uint64_t v)                                 \
	{                                                                          \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");         \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

/* mem.c: a page allocator over a fixed host range, and the C basics */
void *page_alloc(size_t size);
void page_free(void *p, size_t size);
size_t page_pool_in_use(void);
void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);

/* Host memory is identity mapped: a physical address is its own pointer. */
static inline volatile uint32_t *hpa_ptr(uint64_t hpa)
{
	return (volatile uint32_t *)(uintptr_t)hpa;
}

#endif
