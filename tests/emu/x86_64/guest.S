/* SPDX-License-Identifier: MIT */
/*
 * The guest: 32-bit protected-mode code with paging off, so every address
 * it uses is a guest-physical one. The host copies the bytes between
 * guest_start and guest_end into the host page behind the guest's code page;
 * the code uses only relative branches, so it runs wherever it is put.
 * No stack: the guest has no memory the test does not control.
 */
#include "guest.h"

	.section .rodata.guest, "a"
	.code32
	.globl	guest_start, guest_dispatch, guest_end
guest_start:
guest_dispatch:
	cmp	$OP_WRITE, %eax
	je	op_write
	cmp	$OP_READ, %eax
	je	op_read
	cmp	$OP_EXEC, %eax
	je	op_exec
	cmp	$OP_FILL, %eax
	je	op_fill
	cmp	$OP_HLT, %eax
	je	op_hlt
	cmp	$OP_OUT, %eax
	je	op_out
	ud2			/* an unknown operation: the exception exits */

op_write:
	movl	%ecx, (%ebx)
	vmcall
op_read:
	movl	(%ebx), %ecx
	vmcall
op_exec:
	jmp	*%ebx
op_hlt:
	hlt
	vmcall
op_out:
	mov	%ecx, %eax
	mov	%ebx, %edx
	outb	%al, %dx
	vmcall

op_fill:
	xor	%edi, %edi
1:	mov	%ecx, %eax
	xor	%edi, %eax
	mov	%eax, (%ebx, %edi, 4)
	inc	%edi
	cmp	%edx, %edi
	jb	1b
	xor	%edi, %edi
	xor	%esi, %esi		/* mismatches */
2:	mov	%ecx, %eax
	xor	%edi, %eax
	cmp	(%ebx, %edi, 4), %eax
	je	3f
	inc	%esi
3:	inc	%edi
	cmp	%edx, %edi
	jb	2b
	mov	%esi, %eax
	vmcall
guest_end:
