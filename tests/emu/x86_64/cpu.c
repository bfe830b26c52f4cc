/* SPDX-License-Identifier: MIT */
/*
 * Host descriptor tables: the TSS that VMX requires the host to have (the
 * VMCS host TR selector must not be null) and an IDT whose every entry
 * reports the exception as a failure, so a bug in the hypervisor or the
 * library ends the run with FAIL instead of a silent triple fault.
 */
#include "hyp.h"

#define SEL_CODE 0x08
#define SEL_TSS  0x18

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern uint64_t gdt64[5];
extern struct desc_ptr gdt64_desc;
extern const uint64_t trap_stubs[32];

static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[32] __attribute__((aligned(16)));

void hyp_trap(const uint64_t *frame);

void cpu_init(struct cpu_tables *t)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	struct desc_ptr idtr;

	/* no I/O permission bitmap: the offset points past the limit */
	tss.iomap_base = sizeof(tss);
	/* 64-bit available TSS (type 9), present */
	gdt64[3] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
		   ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt64[4] = base >> 32;
	gdt64_desc.base = (uint64_t)(uintptr_t)gdt64;
	__asm__ volatile("lgdt %0" : : "m"(gdt64_desc));
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));

	for (int v = 0; v < 32; v++) {
		uint64_t h = trap_stubs[v];

		idt[v].off_lo = (uint16_t)h;
		idt[v].sel = SEL_CODE;
		idt[v].ist = 0;
		idt[v].type = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
		idt[v].off_mid = (uint16_t)(h >> 16);
		idt[v].off_hi = (uint32_t)(h >> 32);
		idt[v].reserved = 0;
	}
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint64_t)(uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(idtr));

	t->gdt_base = gdt64_desc.base;
	t->idt_base = idtr.base;
	t->tr_base = base;
	t->tr_sel = SEL_TSS;
}

/* frame: vector, error code, RIP, CS, RFLAGS, RSP, SS (see trap.S) */
void hyp_trap(const uint64_t *frame)
{
	fail("host exception %lu (error code 0x%lx) at rip 0x%lx, rsp 0x%lx, cr2 0x%lx",
	     frame[0], frame[1], frame[2], frame[5], read_cr2());
}
