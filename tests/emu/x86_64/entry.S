/* SPDX-License-Identifier: MIT */
/*
 * Image entry, in 32-bit protected mode from boot.S: identity-map the first
 * 4 GiB with 2 MiB pages, enter long mode, clear .bss and call hyp_main.
 *
 * The boot page tables sit below the boot sector (0x1000..0x6fff), memory
 * nothing else uses once the BIOS is no longer called.
 */
#define PML4      0x1000
#define PDPT      0x2000
#define PD0       0x3000 /* four page directories, 0x3000..0x6fff */
#define PTE_P     0x1
#define PTE_W     0x2
#define PTE_PS    0x80
#define CR0_PE    (1 << 0)
#define CR0_NE    (1 << 5)   /* VMXON requires native FPU error reporting */
#define CR0_PG    (1 << 31)
#define CR4_PAE   (1 << 5)
#define MSR_EFER  0xc0000080
#define EFER_LME  (1 << 8)

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cld
	mov	$PML4, %edi
	xor	%eax, %eax
	mov	$(0x6000 / 4), %ecx
	rep stosl

	movl	$(PDPT | PTE_P | PTE_W), PML4
	mov	$PDPT, %edi
	mov	$(PD0 | PTE_P | PTE_W), %eax
	mov	$4, %ecx
1:	mov	%eax, (%edi)
	add	$0x1000, %eax
	add	$8, %edi
	loop	1b

	/* 2048 entries of 2 MiB: 4 GiB, covering RAM and the 1 GiB EPT block's host side */
	mov	$PD0, %edi
	mov	$(PTE_P | PTE_W | PTE_PS), %eax
	mov	$2048, %ecx
2:	mov	%eax, (%edi)
	add	$0x200000, %eax
	add	$8, %edi
	loop	2b

	mov	$PML4, %eax
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$(CR0_PE | CR0_NE | CR0_PG), %eax
	mov	%eax, %cr0
	lgdt	gdt64_desc
	ljmp	$0x08, $long_mode

	.code64
long_mode:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	lea	stack_top(%rip), %rsp

	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep stosb

	call	hyp_main
	call	hyp_shutdown	/* does not return */
3:	cli
	hlt
	jmp	3b

	/*
	 * The host GDT, also what the VMCS host-state selectors name:
	 * 0x08 code, 0x10 data, 0x18 the TSS (filled in by cpu_init, as VM
	 * exits need a usable TR).
	 */
	.section .data
	.p2align 4
	.globl gdt64
gdt64:
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff	/* 0x10: data */
	.quad	0, 0			/* 0x18: 64-bit TSS, 16 bytes */
gdt64_end:
	.globl gdt64_desc
gdt64_desc:
	.word	gdt64_end - gdt64 - 1
	.quad	gdt64

	.section .bss
	.p2align 12
stack:
	.skip	32768
stack_top:
