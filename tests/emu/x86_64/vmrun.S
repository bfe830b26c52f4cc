/* SPDX-License-Identifier: MIT */
/*
 * int vmx_run(struct guest_regs *regs, int launched)
 *
 * Enter the guest with the general registers in *regs (VMLAUNCH the first
 * time, VMRESUME after) and return 0 at its next VM exit with *regs updated,
 * or 1 if the VM-entry instruction itself failed (the caller reads the
 * VM-instruction error field). RSP, RIP and RFLAGS of the guest live in the
 * VMCS. The host's state across the guest run is the callee-saved registers
 * and the regs pointer on this stack; HOST_RSP is set to it on every entry
 * because the caller's stack depth varies, HOST_RIP once by the caller.
 */
#define VMCS_HOST_RSP 0x6c14

	.section .text
	.code64
	.globl	vmx_run
	.globl	vmx_exit_point
vmx_run:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rdi
	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	/* ZF from here to the VM-entry instruction: only moves in between */
	test	%esi, %esi
	mov	0(%rdi), %rax
	mov	8(%rdi), %rbx
	mov	16(%rdi), %rcx
	mov	24(%rdi), %rdx
	mov	32(%rdi), %rsi
	mov	48(%rdi), %rbp
	mov	56(%rdi), %r8
	mov	64(%rdi), %r9
	mov	72(%rdi), %r10
	mov	80(%rdi), %r11
	mov	88(%rdi), %r12
	mov	96(%rdi), %r13
	mov	104(%rdi), %r14
	mov	112(%rdi), %r15
	mov	40(%rdi), %rdi
	jnz	1f
	vmlaunch
	jmp	2f
1:	vmresume
2:	/* the entry failed: nothing of the guest ran */
	pop	%rdi
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	mov	$1, %eax
	ret

vmx_exit_point:
	push	%rdi
	mov	8(%rsp), %rdi
	mov	%rax, 0(%rdi)
	mov	%rbx, 8(%rdi)
	mov	%rcx, 16(%rdi)
	mov	%rdx, 24(%rdi)
	mov	%rsi, 32(%rdi)
	pop	%rax
	mov	%rax, 40(%rdi)
	mov	%rbp, 48(%rdi)
	mov	%r8, 56(%rdi)
	mov	%r9, 64(%rdi)
	mov	%r10, 72(%rdi)
	mov	%r11, 80(%rdi)
	mov	%r12, 88(%rdi)
	mov	%r13, 96(%rdi)
	mov	%r14, 104(%rdi)
	mov	%r15, 112(%rdi)
	pop	%rdi
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	xor	%eax, %eax
	ret
