/* SPDX-License-Identifier: MIT */
/*
 * CSR numbers and bits this hypervisor touches (RISC-V privileged spec,
 * H extension). Numbers, not names: the gcc 12 assembler does not know
 * every hypervisor CSR name, and a number can never be misspelt into
 * another CSR.
 */
#ifndef EMU_RV_CSR_H
#define EMU_RV_CSR_H

#define CSR_SSTATUS  0x100
#define CSR_STVEC    0x105
#define CSR_SSCRATCH 0x140
#define CSR_SEPC     0x141
#define CSR_SCAUSE   0x142
#define CSR_STVAL    0x143
#define CSR_VSATP    0x280
#define CSR_HSTATUS  0x600
#define CSR_HEDELEG  0x602
#define CSR_HIDELEG  0x603
#define CSR_HTVAL    0x643
#define CSR_HGATP    0x680
#define CSR_MSTATUS  0x300
#define CSR_MISA     0x301
#define CSR_MEDELEG  0x302
#define CSR_MIDELEG  0x303
#define CSR_MIE      0x304
#define CSR_MTVEC    0x305
#define CSR_MEPC     0x341
#define CSR_MCAUSE   0x342
#define CSR_MTVAL    0x343
#define CSR_PMPCFG0  0x3a0
#define CSR_PMPADDR0 0x3b0

#define SSTATUS_SPIE (1 << 5)
#define SSTATUS_SPP  (1 << 8)    /* trap came from / sret returns to supervisor */
#define HSTATUS_SPV  (1 << 7)    /* trap came from / sret returns to V=1 */
#define MSTATUS_MPP_MASK (3 << 11)
#define MSTATUS_MPP_S    (1 << 11)
#define MSTATUS_MPV_BIT  39      /* mret returns to V=1: we want HS, so 0 */
#define MISA_H       (1 << 7)

/* scause / mcause exception codes */
#define CAUSE_ECALL_VS      10
#define CAUSE_FETCH_GPF     20 /* instruction guest-page fault */
#define CAUSE_LOAD_GPF      21
#define CAUSE_VIRT_INSN     22
#define CAUSE_STORE_GPF     23

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Two levels so that the CSR macro expands to its number before # quotes it. */
#define csr_read(csr)       csr_read_(csr)
#define csr_read_(csr)                                                     \
	__extension__({                                                    \
		uint64_t v_;                                               \
		__asm__ volatile("csrr %0, " #csr : "=r"(v_));             \
		v_;                                                        \
	})
#define csr_write(csr, val) csr_write_(csr, val)
#define csr_write_(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"r"((uint64_t)(val)) : "memory")
#define csr_set(csr, val)   csr_set_(csr, val)
#define csr_set_(csr, val)  __asm__ volatile("csrs " #csr ", %0" ::"r"((uint64_t)(val)) : "memory")
#define csr_clear(csr, val) csr_clear_(csr, val)
#define csr_clear_(csr, val) __asm__ volatile("csrc " #csr ", %0" ::"r"((uint64_t)(val)) : "memory")
#endif

#endif
