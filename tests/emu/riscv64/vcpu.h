/* SPDX-License-Identifier: MIT */
/*
 * One virtual hart: its registers while it is not running, how to run it
 * until its next call, and what happened on the way (the exits the
 * hypervisor handled by itself).
 */
#ifndef EMU_RV_VCPU_H
#define EMU_RV_VCPU_H

/* struct vcpu offsets, for trap.S */
#define VCPU_GPR  0          /* x0..x31 (x0 unused) */
#define VCPU_PC   (32 * 8)   /* where the guest resumes */
#define VCPU_HOST (33 * 8)   /* ra, sp, gp, tp, s0..s11 of guest_run's caller */

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

#include <tdp/pgtable.h>

struct vcpu {
	uint64_t gpr[32];
	uint64_t pc;
	uint64_t host[16];
};
_Static_assert(offsetof(struct vcpu, pc) == VCPU_PC, "trap.S layout");
_Static_assert(offsetof(struct vcpu, host) == VCPU_HOST, "trap.S layout");

/* Switch to the guest until it traps to HS-mode (trap.S). */
void guest_run(struct vcpu *v);

/* What the hypervisor did about one guest-page fault. */
enum exit_action {
	EXIT_MAPPED,     /* unmapped, inside the fault slot: tdp_map_fault, retry */
	EXIT_PERMISSION, /* mapped without the right: skip the access */
	EXIT_UNMAPPED,   /* unmapped, outside the slot: skip the access */
};

#define EXIT_LOG_MAX 4
#define EXEC_FAULTED 0xfa17ull /* a0 after a skipped instruction fetch */

struct exit_log {
	unsigned int n;
	struct {
		uint64_t cause;
		uint64_t gpa; /* htval << 2 | stval & 3 */
		enum exit_action action;
		struct tdp_fault_result fr; /* EXIT_MAPPED */
	} e[EXIT_LOG_MAX];
};

/* The guest-page faults handled during the last guest_call. */
extern struct exit_log guest_exits;

/* Start the guest at entry and run it to its first call. */
void guest_boot(uint64_t entry);

/* Have the guest do op on addr (with val), return its a0. */
uint64_t guest_call(uint64_t op, uint64_t addr, uint64_t val);

#endif
#endif
