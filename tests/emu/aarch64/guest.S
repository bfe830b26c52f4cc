/* SPDX-License-Identifier: MIT */
/*
 * The guest: EL1, stage 1 off (every access is to Device memory, so every
 * access is aligned), no stack. It runs from GUEST_CODE, so it uses only
 * PC-relative addressing. It asks the hypervisor for a command with HVC #0
 * (reporting the previous result in x0), carries it out and asks again:
 * the host decides what to test, the accesses themselves are the guest's.
 */
#include "hyp.h"

	.section .guest, "ax"
	.global guest_entry
guest_entry:
	mov	x0, #0
guest_loop:
	hvc	#HVC_DONE
	cmp	x0, #OP_READ
	b.eq	op_read
	cmp	x0, #OP_WRITE
	b.eq	op_write
	cmp	x0, #OP_EXEC
	b.eq	op_exec
	cmp	x0, #OP_READLOOP
	b.eq	op_readloop
	cmp	x0, #OP_PUTS
	b.eq	op_puts
	cmp	x0, #OP_FILL
	b.eq	op_fill
	cmp	x0, #OP_CHECK
	b.eq	op_check
	cmp	x0, #OP_READ32
	b.eq	op_read32
	mov	x0, #-1
	b	guest_loop

op_read:
	ldr	x0, [x1]
	b	guest_loop

op_read32:
	ldr	w0, [x1]
	b	guest_loop

op_write:
	str	x2, [x1]
	ldr	x0, [x1]
	b	guest_loop

op_exec:
	blr	x1
	b	guest_loop

/* Passes over the same words; the host may change the table between them. */
op_readloop:
	mov	x5, #0
1:	cmp	x5, x4
	b.hs	4f
	mov	x0, #0
	mov	x6, x1
	mov	x7, #0
2:	cmp	x7, x3
	b.hs	3f
	ldr	x8, [x6]
	add	x0, x0, x8
	add	x6, x6, x2
	add	x7, x7, #1
	b	2b
3:	hvc	#HVC_TICK
	add	x5, x5, #1
	b	1b
4:	b	guest_loop

op_puts:
	adr	x6, greeting
1:	ldrb	w7, [x6], #1
	cbz	w7, 3f
2:	ldr	w8, [x1, #0x18]		/* FR.TXFF: wait for room */
	tbnz	w8, #5, 2b
	str	w7, [x1]
	b	1b
3:	mov	x0, #0
	b	guest_loop

op_fill:
	mov	x6, x1
	mov	x7, #0
1:	cmp	x7, x3
	b.hs	2f
	add	x8, x4, x7
	str	x8, [x6]
	add	x6, x6, x2
	add	x7, x7, #1
	b	1b
2:	mov	x0, x3
	b	guest_loop

op_check:
	mov	x0, #0
	mov	x6, x1
	mov	x7, #0
1:	cmp	x7, x3
	b.hs	3f
	ldr	x8, [x6]
	add	x9, x4, x7
	cmp	x8, x9
	b.eq	2f
	add	x0, x0, #1
2:	add	x6, x6, x2
	add	x7, x7, #1
	b	1b
3:	b	guest_loop

/*
 * VBAR_EL1: no exception should reach the guest's own EL1; if one does,
 * hand it to the hypervisor, which reports it.
 */
.macro	guest_vector n
	.balign	0x80
	mov	x0, #\n
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	hvc	#HVC_GUEST_EXC
	b	.
.endm
	.balign	0x800
	.global guest_vectors
guest_vectors:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	guest_vector \n
	.endr

greeting:
	.asciz	"guest: hello through the stage-2 device mapping of the PL011\r\n"
	.balign	4
