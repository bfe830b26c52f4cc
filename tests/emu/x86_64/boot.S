/* SPDX-License-Identifier: MIT */
/*
 * Floppy boot sector: load the hypervisor image (LBA 1 onwards) to
 * LOAD_ADDR with BIOS int 13h, switch to 32-bit protected mode with flat
 * segments and jump to it. Everything else (long mode) is the image's job,
 * so that this sector stays small enough to read at a glance.
 *
 * mkfloppy.py patches the sector count into `nsect`.
 */
#define LOAD_SEG  0x1000 /* LOAD_ADDR 0x10000, as hyp.ld links the image */
#define SPT       18     /* 1.44 MB floppy: 18 sectors per track, 2 heads */

	.code16
	.section .text
	.globl _start
_start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7c00, %sp
	ljmp	$0, $1f		/* some BIOSes enter at 07c0:0000 */
1:
	mov	%dl, drive

	/* one sector per call: never crosses a track or a 64 KiB DMA boundary */
load:
	cmpw	$0, nsect
	je	loaded
	mov	lba, %ax
	xor	%dx, %dx
	mov	$SPT, %bx
	div	%bx		/* ax = track (cyl * 2 + head), dx = sector - 1 */
	mov	%dl, %cl
	inc	%cl
	mov	%al, %dh
	and	$1, %dh		/* head */
	shr	$1, %ax
	mov	%al, %ch	/* cylinder (< 80: fits 8 bits) */
	mov	drive, %dl
	mov	seg, %ax
	mov	%ax, %es
	xor	%bx, %bx
	mov	$3, %si		/* retries: the first read after a reset may fail */
2:
	mov	$0x0201, %ax	/* read 1 sector */
	push	%si
	int	$0x13
	pop	%si
	jnc	3f
	xor	%ah, %ah	/* reset the controller and try again */
	int	$0x13
	dec	%si
	jnz	2b
	mov	$'E', %al
	out	%al, $0xe9
	jmp	halt
3:
	addw	$512 / 16, seg
	incw	lba
	decw	nsect
	jmp	load

loaded:
	in	$0x92, %al	/* fast A20 */
	or	$2, %al
	and	$0xfe, %al
	out	%al, $0x92
	mov	$0xff, %al	/* mask both PICs: nothing here takes interrupts */
	out	%al, $0x21
	out	%al, $0xa1

	lgdt	gdt_desc
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmp	$0x08, $pm32

	.code32
pm32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$0x7c00, %esp
	mov	$(LOAD_SEG << 4), %eax
	jmp	*%eax

	.code16
halt:
	cli
	hlt
	jmp	halt

	.p2align 3
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: 32-bit code, flat */
	.quad	0x00cf92000000ffff	/* 0x10: data, flat */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

drive:	.byte	0
lba:	.word	1
seg:	.word	LOAD_SEG

	.org	500
nsect:	.word	0	/* patched by mkfloppy.py */
	.org	510
	.word	0xaa55
