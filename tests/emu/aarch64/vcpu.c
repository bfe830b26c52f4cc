/* SPDX-License-Identifier: MIT */
/*
 * The guest's one vCPU: EL1 in AArch64 behind stage 2, and the EL2 side of
 * its exits. HVCs carry the command protocol (hyp.h); stage-2 faults inside
 * a slot are mapped on demand with tdp_map_fault; any other stage-2 fault
 * is recorded for the test to inspect and stepped over.
 */
#include "vcpu.h"

#define HCR_VM (1ull << 0)  /* stage 2 on for EL1&0 */
#define HCR_RW (1ull << 31) /* EL1 is AArch64 */

/* SCTLR_EL1 with only its ARMv8.0 RES1 bits: stage 1 off, caches off */
#define SCTLR_EL1_MMU_OFF 0x30d00800ull

/* SPSR_EL2: return to EL1h with D, A, I, F masked */
#define SPSR_EL1H_MASKED 0x3c5ull

#define GUEST_VMID 1

void vm_start(struct vm *vm)
{
	uint64_t vtcr, vttbr;
	int ret;

	ret = tdp_arm64_vtcr(vm->pgt, 0, &vtcr);
	if (ret)
		fail("tdp_arm64_vtcr", (uint64_t)ret, 0);
	ret = tdp_arm64_vttbr(vm->pgt, GUEST_VMID, 0, &vttbr);
	if (ret)
		fail("tdp_arm64_vttbr", (uint64_t)ret, 0);
	write_sysreg(vtcr_el2, vtcr);
	write_sysreg(vttbr_el2, vttbr);
	write_sysreg(hcr_el2, HCR_VM | HCR_RW);
	write_sysreg(sctlr_el1, SCTLR_EL1_MMU_OFF);
	write_sysreg(vbar_el1, GUEST_CODE + (uint64_t)(guest_vectors - __guest_start));
	isb();
	/* nothing of an earlier user of this VMID may survive */
	__asm__ volatile("tlbi vmalls12e1is\n\tdsb ish\n\tisb" : : : "memory");
	write_sysreg(spsr_el2, SPSR_EL1H_MASKED);
	write_sysreg(elr_el2, GUEST_CODE + (uint64_t)(guest_entry - __guest_start));
	/* guest_entry reports in at once, with x0 = 0 */
	if (guest_cmd(vm, 0, 0, 0, 0, 0) != 0)
		fail("the guest's first request", vm->vcpu.x[0], 0);
}

/* The faulting IPA: HPFAR_EL2.FIPA holds IPA[47:12] in bits 43:4, FAR the rest. */
static uint64_t fault_ipa(void)
{
	uint64_t hpfar = read_sysreg(hpfar_el2), far = read_sysreg(far_el2);

	return ((hpfar >> 4) & ((1ull << 40) - 1)) << 12 | (far & 0xfff);
}

static struct slot *find_slot(struct vm *vm, uint64_t ipa)
{
	for (unsigned int i = 0; i < vm->nr_slots; i++) {
		struct slot *s = &vm->slots[i];

		if (ipa >= s->rg.gpa && ipa - s->rg.gpa < s->rg.size)
			return s;
	}
	return NULL;
}

/* A translation fault in a slot: map it and let the access retry. */
static bool map_on_demand(struct vm *vm, uint64_t esr, uint64_t ipa)
{
	struct slot *s;
	struct tdp_fault_result res;
	int ret;

	if (FSC_KIND(esr) != FSC_TRANSLATION || !(s = find_slot(vm, ipa)))
		return false;
	ret = tdp_memcache_topup(vm->pgt, vm->mc, (size_t)tdp_map_fault_pages_needed(vm->pgt));
	if (ret)
		fail("memcache top-up for a stage-2 fault", (uint64_t)ret, 0);
	ret = tdp_map_fault(vm->pgt, ipa & ~(tdp_page_size(vm->pgt) - 1), &s->rg, s->attr, 0,
			    vm->mc, &res);
	if (ret)
		fail("tdp_map_fault on a translation fault in a slot", (uint64_t)ret, ipa);
	s->faults++;
	s->last = res;
	return true;
}

static void record_fault(struct vm *vm, uint64_t esr, uint64_t ipa)
{
	vm->fault.count++;
	vm->fault.esr = esr;
	vm->fault.ipa = ipa;
	vm->fault.elr = read_sysreg(elr_el2);
}

uint64_t guest_cmd(struct vm *vm, uint64_t op, uint64_t a1, uint64_t a2, uint64_t a3,
		   uint64_t a4)
{
	struct vcpu *v = &vm->vcpu;

	v->x[0] = op;
	v->x[1] = a1;
	v->x[2] = a2;
	v->x[3] = a3;
	v->x[4] = a4;
	for (;;) {
		uint64_t esr, ec, ipa;

		guest_enter(v);
		esr = read_sysreg(esr_el2);
		ec = esr >> 26 & 0x3f;
		switch (ec) {
		case EC_HVC64:
			/* ELR_EL2 already points after the HVC */
			if ((esr & 0xffff) == HVC_DONE)
				return v->x[0];
			if ((esr & 0xffff) == HVC_TICK && vm->on_tick) {
				vm->on_tick(vm, v->x[5], v->x[0]);
				continue;
			}
			if ((esr & 0xffff) == HVC_GUEST_EXC) {
				fail_begin("exception inside the guest: vector ");
				uart_dec(v->x[0]);
				uart_puts(" ESR_EL1 ");
				uart_hex(v->x[1]);
				uart_puts(" ELR_EL1 ");
				uart_hex(v->x[2]);
				fail_end();
			}
			fail("unexpected HVC immediate from the guest", esr & 0xffff, HVC_DONE);
		case EC_DABT_LOW:
			ipa = fault_ipa();
			if (map_on_demand(vm, esr, ipa))
				continue; /* ELR_EL2 unchanged: the access retries */
			record_fault(vm, esr, ipa);
			write_sysreg(elr_el2, read_sysreg(elr_el2) + 4);
			continue;
		case EC_IABT_LOW:
			/*
			 * Only OP_EXEC branches away from the guest's code, with BLR
			 * to x1: "return" from the refused call, with a result the
			 * guest could not have computed. Any other fetch fault is a
			 * bug of the test.
			 */
			if (read_sysreg(elr_el2) != v->x[1] || v->x[0] != OP_EXEC) {
				fail_begin("unexpected instruction abort: ESR_EL2 ");
				uart_hex(esr);
				uart_puts(" ELR_EL2 ");
				uart_hex(read_sysreg(elr_el2));
				fail_end();
			}
			record_fault(vm, esr, fault_ipa());
			write_sysreg(elr_el2, v->x[30]);
			v->x[0] = IABT_SENTINEL;
			continue;
		default:
			fail_begin("unexpected guest exit: ESR_EL2 ");
			uart_hex(esr);
			uart_puts(" ELR_EL2 ");
			uart_hex(read_sysreg(elr_el2));
			fail_end();
		}
	}
}

/* Called by vectors.S for anything taken to EL2 other than a guest's synchronous exit. */
_Noreturn void el2_unexpected(uint64_t vector, uint64_t esr, uint64_t elr, uint64_t far);
_Noreturn void el2_unexpected(uint64_t vector, uint64_t esr, uint64_t elr, uint64_t far)
{
	fail_begin("unexpected exception at EL2: vector ");
	uart_dec(vector);
	uart_puts(" ESR_EL2 ");
	uart_hex(esr);
	uart_puts(" ELR_EL2 ");
	uart_hex(elr);
	uart_puts(" FAR_EL2 ");
	uart_hex(far);
	fail_end();
}
