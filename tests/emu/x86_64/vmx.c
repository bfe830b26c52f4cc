/* SPDX-License-Identifier: MIT */
/*
 * VMX operation and the VMCS: VMXON, the controls adjusted to what the CPU
 * allows, guest state for a 32-bit protected-mode guest with paging off
 * (legal only with unrestricted guest, which this test needs anyway to run a
 * guest without guest page tables), host state that brings every VM exit
 * back to vmrun.S.
 */
#include "vmx.h"

#define CR0_PE   (1ull << 0)
#define CR0_ET   (1ull << 4)
#define CR0_NE   (1ull << 5)
#define CR0_PG   (1ull << 31)
#define CR4_VMXE (1ull << 13)

#define AR_UNUSABLE (1u << 16)

uint64_t vmread(uint32_t field)
{
	uint64_t v;
	uint8_t bad;

	__asm__ volatile("vmread %2, %0; setna %1"
			 : "=rm"(v), "=qm"(bad) : "r"((uint64_t)field) : "cc");
	if (bad)
		fail("vmread of field 0x%x failed", field);
	return v;
}

void vmwrite(uint32_t field, uint64_t value)
{
	uint8_t bad;

	__asm__ volatile("vmwrite %1, %2; setna %0"
			 : "=qm"(bad) : "rm"(value), "r"((uint64_t)field) : "cc");
	if (bad)
		fail("vmwrite of 0x%lx to field 0x%x failed (VM-instruction error %lu)", value,
		     field, field == VMCS_VM_INSTR_ERROR ? 0 : vmread(VMCS_VM_INSTR_ERROR));
}

/*
 * A control word with the bits we want, forced to the CPU's allowed-0
 * settings (low half of the MSR: bits that must be 1) and allowed-1
 * settings (high half: bits that may be 1). Wanted bits that do not
 * survive are a failure: the test cannot run without them.
 */
static uint32_t adjust(const char *name, uint32_t msr, uint32_t want, uint32_t optional)
{
	uint64_t cap = rdmsr(msr);
	uint32_t v = (want | optional | (uint32_t)cap) & (uint32_t)(cap >> 32);

	check((v & want) == want, "%s controls 0x%x (wanted 0x%x, MSR 0x%x = 0x%lx)", name, v,
	      want, msr, cap);
	return v;
}

void vmx_enable(struct vmx_caps *caps)
{
	uint32_t r[4];
	uint64_t fc, basic, cr0, cr4;
	uint32_t *vmxon;

	cpuid(1, 0, r);
	check(r[2] & (1u << 5), "CPUID.1:ECX.VMX is set");

	fc = rdmsr(MSR_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		fc |= FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX;
		wrmsr(MSR_FEATURE_CONTROL, fc);
		fc = rdmsr(MSR_FEATURE_CONTROL);
	}
	check((fc & (FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX)) ==
		      (FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX),
	      "IA32_FEATURE_CONTROL locked with VMX outside SMX (0x%lx)", fc);

	/* CR0 and CR4 must satisfy the VMX fixed bits before VMXON */
	cr0 = (read_cr0() | rdmsr(MSR_VMX_CR0_FIXED0)) & rdmsr(MSR_VMX_CR0_FIXED1);
	write_cr0(cr0);
	cr4 = (read_cr4() | CR4_VMXE | rdmsr(MSR_VMX_CR4_FIXED0)) & rdmsr(MSR_VMX_CR4_FIXED1);
	write_cr4(cr4);

	basic = rdmsr(MSR_VMX_BASIC);
	vmxon = page_alloc(4096);
	vmxon[0] = (uint32_t)basic & 0x7fffffff; /* VMCS revision identifier */
	{
		uint64_t pa = (uint64_t)(uintptr_t)vmxon;
		uint8_t bad;

		__asm__ volatile("vmxon %1; setna %0" : "=qm"(bad) : "m"(pa) : "cc", "memory");
		check(!bad, "VMXON (VMCS revision 0x%x, region at 0x%lx)", vmxon[0], pa);
	}

	caps->ept_cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
	con_printf("# IA32_VMX_BASIC 0x%lx, IA32_VMX_EPT_VPID_CAP 0x%lx\n", basic,
		   caps->ept_cap);
	check((caps->ept_cap & (EPT_CAP_PWL4 | EPT_CAP_WB)) == (EPT_CAP_PWL4 | EPT_CAP_WB),
	      "EPT with 4-level walks and write-back paging structures");
	check(caps->ept_cap & EPT_CAP_2M, "EPT 2 MiB pages");
	check(caps->ept_cap & EPT_CAP_1G, "EPT 1 GiB pages");
	check((caps->ept_cap & EPT_CAP_INVEPT) &&
		      (caps->ept_cap & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)),
	      "INVEPT (%s)",
	      (caps->ept_cap & EPT_CAP_INVEPT_SINGLE) ? "single-context" : "all-context only");
}

void vmx_invept(const struct vmx_caps *caps, uint64_t eptp)
{
	struct {
		uint64_t eptp, reserved;
	} desc = {eptp, 0};
	uint64_t type = (caps->ept_cap & EPT_CAP_INVEPT_SINGLE) ? 1 : 2;
	uint8_t bad;

	__asm__ volatile("invept %1, %2; setna %0"
			 : "=qm"(bad) : "m"(desc), "r"(type) : "cc", "memory");
	if (bad)
		fail("INVEPT type %lu of EPTP 0x%lx failed", type, eptp);
}

static void guest_segment(unsigned int i, uint16_t sel, uint32_t limit, uint32_t ar)
{
	vmwrite(VMCS_GUEST_ES_SEL + 2 * i, sel);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * i, 0);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * i, limit);
	vmwrite(VMCS_GUEST_ES_AR + 2 * i, ar);
}

void vmx_setup_vmcs(struct vmx_caps *caps, const struct cpu_tables *t, uint64_t eptp)
{
	uint64_t basic = rdmsr(MSR_VMX_BASIC);
	bool true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	uint32_t *vmcs = page_alloc(4096);
	uint64_t pa = (uint64_t)(uintptr_t)vmcs;
	uint32_t proc2, exit_ctls, entry_ctls;
	uint64_t cr0;
	uint8_t bad;

	vmcs[0] = (uint32_t)basic & 0x7fffffff;
	__asm__ volatile("vmclear %1; setna %0" : "=qm"(bad) : "m"(pa) : "cc", "memory");
	check(!bad, "VMCLEAR of the VMCS at 0x%lx", pa);
	__asm__ volatile("vmptrld %1; setna %0" : "=qm"(bad) : "m"(pa) : "cc", "memory");
	check(!bad, "VMPTRLD of the VMCS");

	/* no interrupt exiting: the host runs with interrupts off and the PICs masked */
	vmwrite(VMCS_PIN_CTLS,
		adjust("pin-based", true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED, 0, 0));
	vmwrite(VMCS_PROC_CTLS,
		adjust("primary processor-based",
		       true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED,
		       PROC_HLT | PROC_UNCOND_IO | PROC_SECONDARY, 0));
	/*
	 * VPID keeps the guest's translations in the TLB across VM exits and
	 * entries, so that only INVEPT (the library's TLB callbacks) drops
	 * stale EPT translations: without it every entry would flush them and
	 * hide a missing invalidation.
	 */
	proc2 = adjust("secondary processor-based", MSR_VMX_PROCBASED2,
		       PROC2_EPT | PROC2_UNRESTRICTED, PROC2_VPID);
	caps->vpid = proc2 & PROC2_VPID;
	vmwrite(VMCS_PROC_CTLS2, proc2);
	if (caps->vpid)
		vmwrite(VMCS_VPID, 1);
	exit_ctls = adjust("VM-exit", true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT, EXIT_HOST_64,
			   EXIT_LOAD_EFER | EXIT_SAVE_EFER);
	entry_ctls = adjust("VM-entry", true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY, 0,
			    ENTRY_LOAD_EFER);
	caps->efer = (exit_ctls & EXIT_LOAD_EFER) && (entry_ctls & ENTRY_LOAD_EFER);
	vmwrite(VMCS_EXIT_CTLS, exit_ctls);
	vmwrite(VMCS_ENTRY_CTLS, entry_ctls);
	/* every guest exception exits: the guest has no IDT, any is a failure */
	vmwrite(VMCS_EXCEPTION_BITMAP, 0xffffffff);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_CNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_CNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_CNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	vmwrite(VMCS_CR0_MASK, 0);
	vmwrite(VMCS_CR4_MASK, 0);
	vmwrite(VMCS_EPTP, eptp);

	/* host state: the current CPU, returning to vmrun.S */
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	for (unsigned int i = 0; i < 6; i++)
		vmwrite(VMCS_HOST_ES_SEL + 2 * i, i == 1 ? 0x08 : 0x10);
	vmwrite(VMCS_HOST_ES_SEL + 2 * 6, t->tr_sel);
	vmwrite(VMCS_HOST_FS_BASE, 0);
	vmwrite(VMCS_HOST_GS_BASE, 0);
	vmwrite(VMCS_HOST_TR_BASE, t->tr_base);
	vmwrite(VMCS_HOST_GDTR_BASE, t->gdt_base);
	vmwrite(VMCS_HOST_IDTR_BASE, t->idt_base);
	vmwrite(VMCS_HOST_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_point);
	if (caps->efer)
		vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));

	/*
	 * Guest: flat 32-bit protected mode, paging off. CR0.PE/PG are exempt
	 * from the fixed bits under unrestricted guest; the others (NE) and
	 * CR4.VMXE are not.
	 */
	cr0 = ((rdmsr(MSR_VMX_CR0_FIXED0) & ~(CR0_PE | CR0_PG)) | CR0_PE | CR0_NE | CR0_ET) &
	      rdmsr(MSR_VMX_CR0_FIXED1);
	vmwrite(VMCS_GUEST_CR0, cr0);
	vmwrite(VMCS_CR0_SHADOW, cr0);
	vmwrite(VMCS_GUEST_CR3, 0);
	vmwrite(VMCS_GUEST_CR4, rdmsr(MSR_VMX_CR4_FIXED0) & rdmsr(MSR_VMX_CR4_FIXED1));
	vmwrite(VMCS_CR4_SHADOW, 0);
	for (unsigned int i = 0; i < 6; i++) {
		if (i == 1) /* CS: 32-bit code, accessed, 4 KiB granularity */
			guest_segment(i, 0x08, 0xffffffff, 0xc09b);
		else /* data, accessed, big */
			guest_segment(i, 0x10, 0xffffffff, 0xc093);
	}
	guest_segment(6, 0, 0, AR_UNUSABLE);      /* LDTR */
	guest_segment(7, 0x18, 0x67, 0x8b);       /* TR: busy 32-bit TSS, must be usable */
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_RFLAGS, 0x2); /* interrupts off */
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY, 0);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmwrite(VMCS_LINK_PTR, ~0ull);
	if (caps->efer)
		vmwrite(VMCS_GUEST_EFER, 0);
}
