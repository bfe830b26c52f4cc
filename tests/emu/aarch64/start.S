/* SPDX-License-Identifier: MIT */
/*
 * Entry from QEMU's ELF loader (at EL2 with -M virt,virtualization=on):
 * a stack, a zeroed .bss, then C. Nothing here touches an EL2 register, so
 * that hyp_main can still report a wrong exception level.
 */
	.section .text.boot, "ax"
	.global _start
_start:
	msr	daifset, #0xf
	ldr	x1, =__stack_top
	mov	sp, x1
	ldr	x1, =__bss_start
	ldr	x2, =__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	mrs	x0, CurrentEL
	bl	hyp_main
	mov	x0, #1
	b	semihost_exit
	.ltorg

/*
 * Semihosting SYS_EXIT (0x18). The A64 call takes x1 as a pointer to a
 * block {reason, exit code}; ADP_Stopped_ApplicationExit (0x20026) makes
 * QEMU exit with that code.
 */
	.text
	.global semihost_exit
	.type semihost_exit, %function
semihost_exit:
	sub	sp, sp, #16
	ldr	x1, =0x20026
	stp	x1, x0, [sp]
	mov	x1, sp
	mov	w0, #0x18
	hlt	#0xf000
	/* only reached without -semihosting: run.py's timeout ends the run */
3:	wfi
	b	3b
	.ltorg
	.size semihost_exit, . - semihost_exit
