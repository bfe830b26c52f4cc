/* SPDX-License-Identifier: MIT */
/*
 * The bare-metal arm64 hypervisor test: memory layout, the guest's command
 * protocol and the helpers the files share.
 *
 * Everything runs with the EL2 MMU off, so every host access is to Device
 * memory and must be aligned (-mstrict-align). QEMU does not model caches,
 * which is why no cache maintenance is done on table or guest memory; real
 * hardware would need the EL2 MMU on or cleans to the point of coherency.
 */
#ifndef EMU_HYP_H
#define EMU_HYP_H

#ifndef EMU_GRANULE_SHIFT
#define EMU_GRANULE_SHIFT 12
#endif
#ifndef EMU_NEGATIVE
#define EMU_NEGATIVE 0
#endif

/*
 * Host physical memory (QEMU virt, -m 3G: RAM 0x40000000-0xffffffff).
 * The image sits above the DTB QEMU puts at the start of RAM; every zone
 * below is aligned to the largest block it backs.
 */
#define HOST_UART        0x09000000ull /* PL011 */
#define HOST_POOL        0x40800000ull /* page-table pool */
#define HOST_POOL_SIZE   0x00800000ull
#define HOST_PAGES       0x41000000ull /* backing of single pages, 16 MiB */
#define HOST_BLK_SMALL   0x42000000ull /* 2 MiB (4K) / 32 MiB (16K) block */
#define HOST_SLOT_BIG    0x44000000ull /* backing of the demand-faulted slots */
#define HOST_SLOT_SKEW   0x48000000ull /* (+ one page) */
#define HOST_SLOT_SMALL  0x4e000000ull
#define HOST_BLK_512M    0x60000000ull /* 512 MiB block (64K) */
#define HOST_BLK_1G      0x80000000ull /* 1 GiB block (4K) */

/* Guest physical memory: nothing is identity-mapped. */
#define GUEST_CODE       0x0010000000ull
#define GUEST_UART       0x0020000000ull
#define GUEST_PAGES      0x0030000000ull
#define GUEST_BLK        0x0100000000ull
#define GUEST_SLOT_BIG   0x0200000000ull /* 64 MiB, host offset block-aligned */
#define GUEST_SLOT_SMALL 0x0210000000ull /* three pages */
#define GUEST_SLOT_SKEW  0x0220000000ull /* 64 MiB, host offset one page off */
#define GUEST_BLK_1G     0x8000000000ull

/* Guest commands: x0 = op, x1..x4 = arguments; the result comes back in x0. */
#define OP_READ     1 /* x0 = [x1] */
#define OP_WRITE    2 /* [x1] = x2, x0 = [x1] */
#define OP_EXEC     3 /* x0 = ((u64 (*)(void))x1)() */
#define OP_READLOOP 4 /* x4 times: x0 = sum of x3 words from x1 by x2; HVC #1 */
#define OP_PUTS     5 /* print the guest's greeting to the UART at x1 */
#define OP_FILL     6 /* [x1 + i * x2] = x4 + i for i < x3 */
#define OP_CHECK    7 /* x0 = number of i < x3 with [x1 + i * x2] != x4 + i */
#define OP_READ32   8 /* x0 = 32-bit [x1] (device registers) */

#define HVC_DONE 0 /* a command finished: x0 = result, then wait for the next */
#define HVC_TICK 1 /* OP_READLOOP finished a pass: x0 = sum, x5 = pass */
#define HVC_GUEST_EXC 2 /* the guest took an exception at EL1: x0 = vector, x1 = ESR, x2 = ELR */

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Saved guest general registers, then the host stack pointer (vectors.S). */
struct vcpu {
	uint64_t x[31];
	uint64_t host_sp;
};

/* vectors.S */
extern char el2_vectors[];
uint64_t guest_enter(struct vcpu *v);

/* guest.S and the linker script */
extern char guest_entry[], guest_vectors[];
extern char __guest_start[], __guest_end[];

/* start.S */
_Noreturn void semihost_exit(uint64_t code);

/* uart.c */
void uart_putc(char c);
void uart_puts(const char *s);
void uart_hex(uint64_t v);
void uart_dec(uint64_t v);
uint32_t uart_flags(void);

/* check.c: numbered TAP-style progress, FAIL on the first broken check */
void ok(const char *what, uint64_t a);
_Noreturn void fail(const char *what, uint64_t got, uint64_t want);
/* a FAIL line with details of the caller's: fail_begin, uart_*, fail_end */
void fail_begin(const char *what);
_Noreturn void fail_end(void);
void check(bool cond, const char *what, uint64_t got, uint64_t want);
void note(const char *what);

/* sysreg access */
#define read_sysreg(r) ({ uint64_t v_; __asm__ volatile("mrs %0, " #r : "=r"(v_)); v_; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" : : "r"((uint64_t)(v)) : "memory")
#define isb() __asm__ volatile("isb" : : : "memory")

static inline uint64_t rd64(uint64_t pa)
{
	return *(volatile uint64_t *)(uintptr_t)pa;
}

static inline void wr64(uint64_t pa, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)pa = v;
}

#endif /* __ASSEMBLER__ */
#endif
