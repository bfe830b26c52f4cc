/* SPDX-License-Identifier: MIT */
/*
 * M-mode: the least firmware a hypervisor needs. Open physical memory to
 * the lower modes, send every trap the hypervisor can handle to HS-mode,
 * then drop to HS-mode for good.
 */
#include <stdint.h>

#include "console.h"
#include "csr.h"
#include "hyp.h"

#define PMP_R     0x01u
#define PMP_W     0x02u
#define PMP_X     0x04u
#define PMP_NAPOT 0x18u

/*
 * Delegated to HS: the ordinary faults (so a hypervisor bug is reported by
 * the HS handler with the H-extension CSRs), ecall from VS (the guest's
 * call), and the guest-page and virtual-instruction faults. Not delegated:
 * ecall from HS (9), nothing uses it, and ecall from M (11), which cannot be.
 */
#define MEDELEG_WANTED                                                                     \
	((1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 5) |  \
	 (1ull << 6) | (1ull << 7) | (1ull << 8) | (1ull << CAUSE_ECALL_VS) | (1ull << 12) |  \
	 (1ull << 13) | (1ull << 15) | (1ull << CAUSE_FETCH_GPF) | (1ull << CAUSE_LOAD_GPF) | \
	 (1ull << CAUSE_VIRT_INSN) | (1ull << CAUSE_STORE_GPF))

void m_main(void)
{
	uint64_t mstatus;

	con_printf("riscv64 emu: M-mode up, ia_bits %u%s\n", (uint64_t)EMU_IA_BITS,
		   EMU_NEGATIVE ? " (negative control: one wrong mapping)" : "");
	check(csr_read(CSR_MISA) & MISA_H, "the hart has the H extension (misa.H)");

	/* one NAPOT entry covering all of memory, R/W/X for HS and VS */
	csr_write(CSR_PMPADDR0, ~0ull);
	csr_write(CSR_PMPCFG0, PMP_NAPOT | PMP_R | PMP_W | PMP_X);

	csr_write(CSR_MEDELEG, MEDELEG_WANTED);
	check((csr_read(CSR_MEDELEG) & MEDELEG_WANTED) == MEDELEG_WANTED,
	      "medeleg holds every delegated cause (0x%x)", (uint64_t)csr_read(CSR_MEDELEG));
	/* interrupts stay off everywhere: nothing to delegate */
	csr_write(CSR_MIDELEG, 0);

	mstatus = csr_read(CSR_MSTATUS);
	mstatus &= ~(uint64_t)MSTATUS_MPP_MASK;
	mstatus &= ~(1ull << MSTATUS_MPV_BIT);
	mstatus |= MSTATUS_MPP_S;
	csr_write(CSR_MSTATUS, mstatus);
	csr_write(CSR_MEPC, (uintptr_t)hs_main);
	__asm__ volatile("mret" ::: "memory");
	__builtin_unreachable();
}

void m_fatal(uint64_t mcause, uint64_t mepc, uint64_t mtval)
{
	fail("unexpected trap in M-mode: mcause 0x%x mepc 0x%x mtval 0x%x", mcause, mepc, mtval);
}
