/* SPDX-License-Identifier: MIT */
/*
 * Running the guest, and the exits the hypervisor resolves without the
 * test's help: guest-page faults. The policy is the one a real hypervisor
 * has: a fault in guest memory that is not mapped yet is mapped on demand
 * and retried; any other guest-page fault is the guest's error and, here,
 * skipped, so that the test can see it happened and go on.
 */
#include "vcpu.h"

#include "console.h"
#include "csr.h"
#include "layout.h"
#include "stage2.h"

#define REG_RA 1
#define REG_A0 10
#define REG_A1 11
#define REG_A2 12

static struct vcpu vcpu;
struct exit_log guest_exits;

static const struct tdp_fault_region slot = {
	.gpa = SLOT_GPA,
	.size = SLOT_SIZE,
	.hpa = SLOT_HPA,
};

static void skip_access(uint64_t cause)
{
	if (cause == CAUSE_FETCH_GPF) {
		/* the fetch is the call's target: return to the caller instead */
		vcpu.pc = vcpu.gpr[REG_RA];
		vcpu.gpr[REG_A0] = EXEC_FAULTED;
	} else {
		vcpu.pc += 4; /* the guest has no compressed instructions */
	}
}

static void guest_page_fault(uint64_t cause, uint64_t stval, uint64_t htval)
{
	/* htval has the guest physical address >> 2; stval (= GVA here) the rest */
	uint64_t gpa = htval << 2 | (stval & 3);
	struct tdp_lookup_result lr;
	unsigned int i = guest_exits.n;
	int rc;

	if (i == EXIT_LOG_MAX)
		fail("guest-page fault loop: cause %u at GPA 0x%x, pc 0x%x", cause, gpa, vcpu.pc);
	guest_exits.n++;
	guest_exits.e[i].cause = cause;
	guest_exits.e[i].gpa = gpa;

	if (tdp_lookup(&s2, gpa, &lr) == 0) {
		guest_exits.e[i].action = EXIT_PERMISSION;
		skip_access(cause);
		return;
	}
	if (gpa - slot.gpa >= slot.size) {
		guest_exits.e[i].action = EXIT_UNMAPPED;
		skip_access(cause);
		return;
	}
	s2_topup(tdp_map_fault_pages_needed(&s2));
	rc = tdp_map_fault(&s2, gpa, &slot, TDP_PROT_RWX, 0, &s2_mc, &guest_exits.e[i].fr);
	if (rc)
		fail("tdp_map_fault at GPA 0x%x returned -%u", gpa, (uint64_t)-rc);
	guest_exits.e[i].action = EXIT_MAPPED;
	/* sepc is unchanged: the access is retried */
}

/* Run the guest until it calls (ecall), resolving guest-page faults. */
static void run_to_call(void)
{
	for (;;) {
		uint64_t cause, stval, htval;

		guest_run(&vcpu);
		cause = csr_read(CSR_SCAUSE);
		stval = csr_read(CSR_STVAL);
		htval = csr_read(CSR_HTVAL);
		if (!(csr_read(CSR_HSTATUS) & HSTATUS_SPV))
			fail("exit vector entered from V=0 (scause 0x%x)", cause);
		switch (cause) {
		case CAUSE_ECALL_VS:
			return;
		case CAUSE_FETCH_GPF:
		case CAUSE_LOAD_GPF:
		case CAUSE_STORE_GPF:
			guest_page_fault(cause, stval, htval);
			break;
		default:
			fail("unexpected guest trap: scause 0x%x sepc 0x%x stval 0x%x htval 0x%x",
			     cause, vcpu.pc, stval, htval);
		}
	}
}

void guest_boot(uint64_t entry)
{
	vcpu.pc = entry;
	guest_exits.n = 0;
	run_to_call();
	vcpu.pc += 4;
}

uint64_t guest_call(uint64_t op, uint64_t addr, uint64_t val)
{
	vcpu.gpr[REG_A0] = op;
	vcpu.gpr[REG_A1] = addr;
	vcpu.gpr[REG_A2] = val;
	guest_exits.n = 0;
	run_to_call();
	vcpu.pc += 4; /* past the ecall */
	return vcpu.gpr[REG_A0];
}
