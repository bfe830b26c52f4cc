/* SPDX-License-Identifier: MIT */
/*
 * Reset entry (M-mode, 0x80000000, QEMU -bios none) and the M-mode trap
 * vector. Every trap that reaches M-mode after setup is a bug: m_fatal
 * reports it and ends the run.
 */
#include "csr.h"

	.section .text.start, "ax"
	.option norvc
	.globl	_start
_start:
	csrw	CSR_MIE, zero
	lla	sp, __stack_top
	/* .bss is not in the ELF: QEMU's RAM is zero, but do not rely on it */
	lla	t0, __bss_start
	lla	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	lla	t0, m_trap_vector
	csrw	CSR_MTVEC, t0
	call	m_main		/* does not return: mret to hs_main */
3:	wfi
	j	3b

	.text
	.balign	4
m_trap_vector:
	/* a separate stack: the trapping code's sp may be what went wrong */
	lla	sp, __trap_stack_top
	csrr	a0, CSR_MCAUSE
	csrr	a1, CSR_MEPC
	csrr	a2, CSR_MTVAL
	call	m_fatal
4:	wfi
	j	4b
