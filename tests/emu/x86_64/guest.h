/* SPDX-License-Identifier: MIT */
/*
 * The guest's operations: the host puts one in EAX (arguments in EBX, ECX,
 * EDX), points the guest RIP at guest_dispatch and runs it until the
 * operation's VMCALL. Shared by guest.S and the host.
 */
#ifndef EMU_X86_GUEST_H
#define EMU_X86_GUEST_H

#define OP_WRITE 1 /* [ebx] = ecx (32 bits) */
#define OP_READ  2 /* ecx = [ebx] */
#define OP_EXEC  3 /* jump to ebx: what is there must end the operation */
#define OP_FILL  4 /* [ebx + 4i] = ecx ^ i for i < edx, read back: eax = mismatches */
#define OP_HLT   5 /* hlt */
#define OP_OUT   6 /* out dx, al with al = ecx, dx = ebx */

#endif
