/* SPDX-License-Identifier: MIT */
/*
 * The address plan, shared by the hypervisor (C) and the guest (assembly).
 *
 * Host physical memory (QEMU virt, -m 4G: RAM is 0x80000000..0x180000000;
 * HS-mode runs with satp = 0, so these are also the hypervisor's addresses):
 *   0x80000000  this image (hypervisor, guest code page(s), stacks)
 *   0x84000000  page-table pool (16 MiB bump allocator)
 *   0x90000000  4 KiB backing pages for the guest's 4K mappings
 *   0x90200000  backing of the 2 MiB block
 *   0xc0000000  backing of the 1 GiB block
 *   0xffdff000  backing of the fault slot (to 0x140000000)
 * QEMU puts its device tree at 0xbf000000 (below 3 GiB, 16 MiB aligned):
 * nothing here overlaps it.
 *
 * Guest physical memory: every guest page sits at another address than
 * its host page, so a translation that ignored stage 2 would be caught.
 */
#ifndef EMU_RV_LAYOUT_H
#define EMU_RV_LAYOUT_H

#ifdef __ASSEMBLER__
#define U64(x) x
#else
#define U64(x) x##ull
#endif

#define PAGE_4K  U64(0x1000)
#define BLOCK_2M U64(0x200000)
#define BLOCK_1G U64(0x40000000)

/* host side */
#define H_UART      U64(0x10000000) /* ns16550 */
#define H_TESTDEV   U64(0x100000)   /* SiFive test device: exit */
#define H_POOL      U64(0x84000000)
#define H_POOL_SIZE U64(0x1000000)
#define H_PAGES     U64(0x90000000)
#define H_PAGE(n)   (H_PAGES + (n) * PAGE_4K)
#define H_2M        U64(0x90200000)
#define H_1G        U64(0xc0000000)

/* guest side: 4 KiB pages, one level-0 table */
#define G_CODE      U64(0x00100000) /* the guest's code, R+X */
#define G_UART      U64(0x00200000) /* -> H_UART, device memory */
#define G_RW        U64(0x00300000) /* -> H_PAGE(0), R+W */
#define G_RO        U64(0x00301000) /* -> H_PAGE(2), R only */
#define G_NX        U64(0x00302000) /* -> H_PAGE(3), R+W, no X */
#define G_X         U64(0x00303000) /* -> H_PAGE(4), R+X */
#define G_REMAP     U64(0x00304000) /* -> H_PAGE(5), later H_PAGE(6) */
#define G_UNMAP     U64(0x00305000) /* -> H_PAGE(7), later unmapped */
#define G_2M        U64(0x00600000) /* -> H_2M, one 2 MiB leaf */
#define G_1G        U64(0x40000000) /* -> H_1G, one 1 GiB leaf */
/*
 * A page in the upper three quarters of the widened root (index >= 512):
 * GPA 2^39 + x (Sv39x4) or 2^48 + x (Sv48x4), i.e. 1 << (ia_bits - 2).
 * Not the top bit (2^40 / 2^49): see the QEMU note in hyp.c.
 */
#define G_X4_OFF    U64(0x7000)     /* -> H_PAGE(8) */

/*
 * The fault slot: guest memory mapped only on demand by tdp_map_fault.
 * Host and guest addresses agree modulo 1 GiB but differ, and the slot is
 * cut so that its first page can only take a 4 KiB leaf, the next 2 MiB
 * only a 2 MiB leaf and the last 1 GiB a 1 GiB leaf.
 */
#define SLOT_GPA    U64(0x23fdff000)
#define SLOT_HPA    U64(0x0ffdff000)
#define SLOT_SIZE   U64(0x40201000)

/* guest commands: a0 = op, a1 = address, a2 = value; the result in a0 */
#define OP_NONE  0
#define OP_LOAD  1 /* a0 = *(u64 *)a1 */
#define OP_STORE 2 /* *(u64 *)a1 = a2 */
#define OP_EXEC  3 /* call a1; a0 is what it returns */

/* what an exec target returns (addi a0, zero, 0x5a; ret) */
#define EXEC_RESULT 0x5a
#define INSN_LI_A0_5A 0x05a00513
#define INSN_RET      0x00008067

#endif
