/* SPDX-License-Identifier: MIT */
/*
 * Exception entry stubs for the host IDT. Every exception in the
 * hypervisor is a bug, so the stubs only bring the frame into one shape
 * (vector, error code, then what the CPU pushed) and hand it to hyp_trap,
 * which reports FAIL and stops.
 */
	.section .text
	.code64

/* vectors for which the CPU pushes an error code */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.macro	stub v
	.p2align 4
trap_stub_\v:
	.if	HAS_ERR(\v) == 0
	pushq	$0
	.endif
	pushq	$\v
	jmp	trap_common
	.endm

	stub	0
	stub	1
	stub	2
	stub	3
	stub	4
	stub	5
	stub	6
	stub	7
	stub	8
	stub	9
	stub	10
	stub	11
	stub	12
	stub	13
	stub	14
	stub	15
	stub	16
	stub	17
	stub	18
	stub	19
	stub	20
	stub	21
	stub	22
	stub	23
	stub	24
	stub	25
	stub	26
	stub	27
	stub	28
	stub	29
	stub	30
	stub	31

trap_common:
	mov	%rsp, %rdi
	and	$-16, %rsp
	call	hyp_trap
1:	cli
	hlt
	jmp	1b

	.macro	stub_addr v
	.quad	trap_stub_\v
	.endm

	.section .rodata
	.p2align 3
	.globl	trap_stubs
trap_stubs:
	stub_addr 0
	stub_addr 1
	stub_addr 2
	stub_addr 3
	stub_addr 4
	stub_addr 5
	stub_addr 6
	stub_addr 7
	stub_addr 8
	stub_addr 9
	stub_addr 10
	stub_addr 11
	stub_addr 12
	stub_addr 13
	stub_addr 14
	stub_addr 15
	stub_addr 16
	stub_addr 17
	stub_addr 18
	stub_addr 19
	stub_addr 20
	stub_addr 21
	stub_addr 22
	stub_addr 23
	stub_addr 24
	stub_addr 25
	stub_addr 26
	stub_addr 27
	stub_addr 28
	stub_addr 29
	stub_addr 30
	stub_addr 31
