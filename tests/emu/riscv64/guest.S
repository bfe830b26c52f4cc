/* SPDX-License-Identifier: MIT */
/*
 * The guest: VS-mode, vsatp = 0, so the addresses it uses are guest
 * physical and pass through stage 2 only. It lives in its own page-aligned
 * section and uses only PC-relative or absolute-constant addresses, so it
 * runs at G_CODE although it was linked at its host address.
 *
 * It greets through the UART page (device memory mapped by stage 2), then
 * serves the hypervisor: each ecall reports a0 and returns with the next
 * command in a0..a2 (layout.h). Accesses are single instructions, so a
 * hypervisor that skips a faulting one skips exactly the access.
 * No compressed instructions: skipping an instruction is sepc += 4.
 */
#include "layout.h"

#define UART_LSR      5
#define UART_LSR_THRE 0x20

	.section .guest.text, "ax"
	.option norvc
	.globl	guest_entry
guest_entry:
	li	t0, G_UART
	lla	t1, hello
1:	lbu	t2, 0(t1)
	beqz	t2, 3f
2:	lbu	t3, UART_LSR(t0)
	andi	t3, t3, UART_LSR_THRE
	beqz	t3, 2b
	sb	t2, 0(t0)
	addi	t1, t1, 1
	j	1b
3:	li	a0, OP_NONE

serve:
	ecall
	li	t0, OP_LOAD
	beq	a0, t0, do_load
	li	t0, OP_STORE
	beq	a0, t0, do_store
	li	t0, OP_EXEC
	beq	a0, t0, do_exec
	li	a0, -1
	j	serve
do_load:
	ld	a0, 0(a1)
	j	serve
do_store:
	sd	a2, 0(a1)
	li	a0, 0
	j	serve
do_exec:
	jalr	ra, 0(a1)
	j	serve

hello:
	.asciz	"guest: hello from VS-mode through the UART page at GPA 0x200000\n"
