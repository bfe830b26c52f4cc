/* SPDX-License-Identifier: MIT */
/*
 * The EL2 vector table and the world switch.
 *
 * guest_enter saves the host's callee-saved registers on its stack, keeps
 * the stack pointer in the vcpu, loads all 31 guest registers and ERETs
 * (ELR_EL2/SPSR_EL2 are set by the caller). A synchronous exception from
 * the guest saves them back and returns from guest_enter, so C sees an exit
 * as a function return and the guest resumes with every register intact.
 * Anything else taken to EL2 is a bug of the test: el2_unexpected reports it.
 */
#define VCPU_HOST_SP (31 * 8)

	.text
	.global guest_enter
	.type guest_enter, %function
guest_enter:
	stp	x29, x30, [sp, #-96]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	mov	x1, sp
	str	x1, [x0, #VCPU_HOST_SP]
	msr	tpidr_el2, x0
	ldp	x2, x3, [x0, #16]
	ldp	x4, x5, [x0, #32]
	ldp	x6, x7, [x0, #48]
	ldp	x8, x9, [x0, #64]
	ldp	x10, x11, [x0, #80]
	ldp	x12, x13, [x0, #96]
	ldp	x14, x15, [x0, #112]
	ldp	x16, x17, [x0, #128]
	ldp	x18, x19, [x0, #144]
	ldp	x20, x21, [x0, #160]
	ldp	x22, x23, [x0, #176]
	ldp	x24, x25, [x0, #192]
	ldp	x26, x27, [x0, #208]
	ldp	x28, x29, [x0, #224]
	ldr	x30, [x0, #240]
	ldp	x0, x1, [x0, #0]
	eret
	.size guest_enter, . - guest_enter

/* Synchronous exception from the guest (lower EL, AArch64). */
	.type guest_exit, %function
guest_exit:
	/* SP_EL2 is still below the frame guest_enter pushed */
	stp	x0, x1, [sp, #-16]!
	mrs	x0, tpidr_el2
	stp	x2, x3, [x0, #16]
	stp	x4, x5, [x0, #32]
	stp	x6, x7, [x0, #48]
	stp	x8, x9, [x0, #64]
	stp	x10, x11, [x0, #80]
	stp	x12, x13, [x0, #96]
	stp	x14, x15, [x0, #112]
	stp	x16, x17, [x0, #128]
	stp	x18, x19, [x0, #144]
	stp	x20, x21, [x0, #160]
	stp	x22, x23, [x0, #176]
	stp	x24, x25, [x0, #192]
	stp	x26, x27, [x0, #208]
	stp	x28, x29, [x0, #224]
	str	x30, [x0, #240]
	ldp	x2, x3, [sp], #16
	stp	x2, x3, [x0, #0]
	ldr	x1, [x0, #VCPU_HOST_SP]
	mov	sp, x1
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	x29, x30, [sp], #96
	mov	x0, #0
	ret
	.size guest_exit, . - guest_exit

/* x0 = which vector (its offset / 0x80) */
	.type unexpected, %function
unexpected:
	mrs	x1, esr_el2
	mrs	x2, elr_el2
	mrs	x3, far_el2
	bl	el2_unexpected
4:	b	4b
	.size unexpected, . - unexpected

.macro	bad_vector n
	.balign	0x80
	mov	x0, #\n
	b	unexpected
.endm

	.balign	0x800
	.global el2_vectors
el2_vectors:
	/* current EL with SP_EL0 */
	bad_vector 0
	bad_vector 1
	bad_vector 2
	bad_vector 3
	/* current EL with SP_EL2: the hypervisor itself faulted */
	bad_vector 4
	bad_vector 5
	bad_vector 6
	bad_vector 7
	/* lower EL, AArch64: only synchronous exits are expected */
	.balign	0x80
	b	guest_exit
	bad_vector 9
	bad_vector 10
	bad_vector 11
	/* lower EL, AArch32: the guest never runs in AArch32 */
	bad_vector 12
	bad_vector 13
	bad_vector 14
	bad_vector 15
