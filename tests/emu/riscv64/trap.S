/* SPDX-License-Identifier: MIT */
/*
 * World switch between the hypervisor (HS-mode) and the guest (VS-mode),
 * and the HS-mode vector for traps that are the hypervisor's own fault.
 *
 * While the guest runs, stvec points at guest_exit_vector and sscratch
 * holds the vcpu; at every other time stvec points at hs_fatal_vector, so
 * a trap taken by the hypervisor itself can never be mistaken for a guest
 * exit.
 */
#include "csr.h"
#include "vcpu.h"

#define GPR(n) (VCPU_GPR + (n) * 8)
#define HOST(n) (VCPU_HOST + (n) * 8)

	.text
	.option norvc

/* void guest_run(struct vcpu *v) */
	.globl	guest_run
guest_run:
	sd	ra, HOST(0)(a0)
	sd	sp, HOST(1)(a0)
	sd	gp, HOST(2)(a0)
	sd	tp, HOST(3)(a0)
	sd	s0, HOST(4)(a0)
	sd	s1, HOST(5)(a0)
	sd	s2, HOST(6)(a0)
	sd	s3, HOST(7)(a0)
	sd	s4, HOST(8)(a0)
	sd	s5, HOST(9)(a0)
	sd	s6, HOST(10)(a0)
	sd	s7, HOST(11)(a0)
	sd	s8, HOST(12)(a0)
	sd	s9, HOST(13)(a0)
	sd	s10, HOST(14)(a0)
	sd	s11, HOST(15)(a0)

	csrw	CSR_SSCRATCH, a0
	lla	t0, guest_exit_vector
	csrw	CSR_STVEC, t0
	ld	t0, VCPU_PC(a0)
	csrw	CSR_SEPC, t0
	/* sret to V=1 (hstatus.SPV), supervisor (sstatus.SPP), interrupts off */
	li	t0, HSTATUS_SPV
	csrs	CSR_HSTATUS, t0
	li	t0, SSTATUS_SPP
	csrs	CSR_SSTATUS, t0
	li	t0, SSTATUS_SPIE
	csrc	CSR_SSTATUS, t0

	ld	x1, GPR(1)(a0)
	ld	x2, GPR(2)(a0)
	ld	x3, GPR(3)(a0)
	ld	x4, GPR(4)(a0)
	ld	x5, GPR(5)(a0)
	ld	x6, GPR(6)(a0)
	ld	x7, GPR(7)(a0)
	ld	x8, GPR(8)(a0)
	ld	x9, GPR(9)(a0)
	ld	x11, GPR(11)(a0)
	ld	x12, GPR(12)(a0)
	ld	x13, GPR(13)(a0)
	ld	x14, GPR(14)(a0)
	ld	x15, GPR(15)(a0)
	ld	x16, GPR(16)(a0)
	ld	x17, GPR(17)(a0)
	ld	x18, GPR(18)(a0)
	ld	x19, GPR(19)(a0)
	ld	x20, GPR(20)(a0)
	ld	x21, GPR(21)(a0)
	ld	x22, GPR(22)(a0)
	ld	x23, GPR(23)(a0)
	ld	x24, GPR(24)(a0)
	ld	x25, GPR(25)(a0)
	ld	x26, GPR(26)(a0)
	ld	x27, GPR(27)(a0)
	ld	x28, GPR(28)(a0)
	ld	x29, GPR(29)(a0)
	ld	x30, GPR(30)(a0)
	ld	x31, GPR(31)(a0)
	ld	x10, GPR(10)(a0)
	sret

	.balign	4
guest_exit_vector:
	csrrw	a0, CSR_SSCRATCH, a0	/* a0 = vcpu, sscratch = the guest's a0 */
	sd	x1, GPR(1)(a0)
	sd	x2, GPR(2)(a0)
	sd	x3, GPR(3)(a0)
	sd	x4, GPR(4)(a0)
	sd	x5, GPR(5)(a0)
	sd	x6, GPR(6)(a0)
	sd	x7, GPR(7)(a0)
	sd	x8, GPR(8)(a0)
	sd	x9, GPR(9)(a0)
	sd	x11, GPR(11)(a0)
	sd	x12, GPR(12)(a0)
	sd	x13, GPR(13)(a0)
	sd	x14, GPR(14)(a0)
	sd	x15, GPR(15)(a0)
	sd	x16, GPR(16)(a0)
	sd	x17, GPR(17)(a0)
	sd	x18, GPR(18)(a0)
	sd	x19, GPR(19)(a0)
	sd	x20, GPR(20)(a0)
	sd	x21, GPR(21)(a0)
	sd	x22, GPR(22)(a0)
	sd	x23, GPR(23)(a0)
	sd	x24, GPR(24)(a0)
	sd	x25, GPR(25)(a0)
	sd	x26, GPR(26)(a0)
	sd	x27, GPR(27)(a0)
	sd	x28, GPR(28)(a0)
	sd	x29, GPR(29)(a0)
	sd	x30, GPR(30)(a0)
	sd	x31, GPR(31)(a0)
	csrr	t0, CSR_SSCRATCH
	sd	t0, GPR(10)(a0)
	csrr	t0, CSR_SEPC
	sd	t0, VCPU_PC(a0)

	lla	t0, hs_fatal_vector
	csrw	CSR_STVEC, t0
	ld	ra, HOST(0)(a0)
	ld	sp, HOST(1)(a0)
	ld	gp, HOST(2)(a0)
	ld	tp, HOST(3)(a0)
	ld	s0, HOST(4)(a0)
	ld	s1, HOST(5)(a0)
	ld	s2, HOST(6)(a0)
	ld	s3, HOST(7)(a0)
	ld	s4, HOST(8)(a0)
	ld	s5, HOST(9)(a0)
	ld	s6, HOST(10)(a0)
	ld	s7, HOST(11)(a0)
	ld	s8, HOST(12)(a0)
	ld	s9, HOST(13)(a0)
	ld	s10, HOST(14)(a0)
	ld	s11, HOST(15)(a0)
	ret			/* from guest_run; scause & co. still describe the exit */

	.balign	4
	.globl	hs_fatal_vector
hs_fatal_vector:
	lla	sp, __trap_stack_top
	csrr	a0, CSR_SCAUSE
	csrr	a1, CSR_SEPC
	csrr	a2, CSR_STVAL
	csrr	a3, CSR_HTVAL
	csrr	a4, CSR_HSTATUS
	call	hs_fatal
1:	wfi
	j	1b
