/* SPDX-License-Identifier: MIT */
/*
 * VMX: MSRs, VMCS field encodings and control bits (Intel SDM vol. 3,
 * appendices A and B), and the hypervisor's VMX layer (vmx.c).
 */
#ifndef EMU_X86_VMX_H
#define EMU_X86_VMX_H

#include "hyp.h"

#define MSR_FEATURE_CONTROL      0x03a
#define MSR_VMX_BASIC            0x480
#define MSR_VMX_PINBASED         0x481
#define MSR_VMX_PROCBASED        0x482
#define MSR_VMX_EXIT             0x483
#define MSR_VMX_ENTRY            0x484
#define MSR_VMX_CR0_FIXED0       0x486
#define MSR_VMX_CR0_FIXED1       0x487
#define MSR_VMX_CR4_FIXED0       0x488
#define MSR_VMX_CR4_FIXED1       0x489
#define MSR_VMX_PROCBASED2       0x48b
#define MSR_VMX_EPT_VPID_CAP     0x48c
#define MSR_VMX_TRUE_PINBASED    0x48d
#define MSR_VMX_TRUE_PROCBASED   0x48e
#define MSR_VMX_TRUE_EXIT        0x48f
#define MSR_VMX_TRUE_ENTRY       0x490
#define MSR_EFER                 0xc0000080

#define FEATURE_CONTROL_LOCK     (1ull << 0)
#define FEATURE_CONTROL_VMX      (1ull << 2) /* VMXON outside SMX */
#define VMX_BASIC_TRUE_CTLS      (1ull << 55)

/* IA32_VMX_EPT_VPID_CAP */
#define EPT_CAP_EXEC_ONLY        (1ull << 0)
#define EPT_CAP_PWL4             (1ull << 6)
#define EPT_CAP_WB               (1ull << 14)
#define EPT_CAP_2M               (1ull << 16)
#define EPT_CAP_1G               (1ull << 17)
#define EPT_CAP_INVEPT           (1ull << 20)
#define EPT_CAP_INVEPT_SINGLE    (1ull << 25)
#define EPT_CAP_INVEPT_ALL       (1ull << 26)

/* controls */
#define PIN_EXT_INTR             (1u << 0)
#define PROC_HLT                 (1u << 7)
#define PROC_UNCOND_IO           (1u << 24)
#define PROC_SECONDARY           (1u << 31)
#define PROC2_EPT                (1u << 1)
#define PROC2_VPID               (1u << 5)
#define PROC2_UNRESTRICTED       (1u << 7)
#define EXIT_HOST_64             (1u << 9)
#define EXIT_SAVE_EFER           (1u << 20)
#define EXIT_LOAD_EFER           (1u << 21)
#define ENTRY_LOAD_EFER          (1u << 15)

/* VMCS fields */
#define VMCS_VPID                0x0000
#define VMCS_GUEST_ES_SEL        0x0800 /* ES, CS, SS, DS, FS, GS, LDTR, TR: + 2 each */
#define VMCS_HOST_ES_SEL         0x0c00 /* ES, CS, SS, DS, FS, GS, TR: + 2 each */
#define VMCS_EPTP                0x201a
#define VMCS_GUEST_PHYS_ADDR     0x2400
#define VMCS_LINK_PTR            0x2800
#define VMCS_GUEST_DEBUGCTL      0x2802
#define VMCS_GUEST_EFER          0x2806
#define VMCS_HOST_EFER           0x2c02
#define VMCS_PIN_CTLS            0x4000
#define VMCS_PROC_CTLS           0x4002
#define VMCS_EXCEPTION_BITMAP    0x4004
#define VMCS_CR3_TARGET_COUNT    0x400a
#define VMCS_EXIT_CTLS           0x400c
#define VMCS_EXIT_MSR_STORE_CNT  0x400e
#define VMCS_EXIT_MSR_LOAD_CNT   0x4010
#define VMCS_ENTRY_CTLS          0x4012
#define VMCS_ENTRY_MSR_LOAD_CNT  0x4014
#define VMCS_ENTRY_INTR_INFO     0x4016
#define VMCS_PROC_CTLS2          0x401e
#define VMCS_VM_INSTR_ERROR      0x4400
#define VMCS_EXIT_REASON         0x4402
#define VMCS_EXIT_INTR_INFO      0x4404
#define VMCS_EXIT_INSTR_LEN      0x440c
#define VMCS_GUEST_ES_LIMIT      0x4800 /* ... + 2 each, then GDTR 0x4810, IDTR 0x4812 */
#define VMCS_GUEST_GDTR_LIMIT    0x4810
#define VMCS_GUEST_IDTR_LIMIT    0x4812
#define VMCS_GUEST_ES_AR         0x4814 /* ... + 2 each */
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824
#define VMCS_GUEST_ACTIVITY      0x4826
#define VMCS_GUEST_SYSENTER_CS   0x482a
#define VMCS_HOST_SYSENTER_CS    0x4c00
#define VMCS_CR0_MASK            0x6000
#define VMCS_CR4_MASK            0x6002
#define VMCS_CR0_SHADOW          0x6004
#define VMCS_CR4_SHADOW          0x6006
#define VMCS_EXIT_QUAL           0x6400
#define VMCS_GUEST_CR0           0x6800
#define VMCS_GUEST_CR3           0x6802
#define VMCS_GUEST_CR4           0x6804
#define VMCS_GUEST_ES_BASE       0x6806 /* ... + 2 each, then GDTR 0x6816, IDTR 0x6818 */
#define VMCS_GUEST_GDTR_BASE     0x6816
#define VMCS_GUEST_IDTR_BASE     0x6818
#define VMCS_GUEST_DR7           0x681a
#define VMCS_GUEST_RSP           0x681c
#define VMCS_GUEST_RIP           0x681e
#define VMCS_GUEST_RFLAGS        0x6820
#define VMCS_GUEST_PENDING_DBG   0x6822
#define VMCS_GUEST_SYSENTER_ESP  0x6824
#define VMCS_GUEST_SYSENTER_EIP  0x6826
#define VMCS_HOST_CR0            0x6c00
#define VMCS_HOST_CR3            0x6c02
#define VMCS_HOST_CR4            0x6c04
#define VMCS_HOST_FS_BASE        0x6c06
#define VMCS_HOST_GS_BASE        0x6c08
#define VMCS_HOST_TR_BASE        0x6c0a
#define VMCS_HOST_GDTR_BASE      0x6c0c
#define VMCS_HOST_IDTR_BASE      0x6c0e
#define VMCS_HOST_SYSENTER_ESP   0x6c10
#define VMCS_HOST_SYSENTER_EIP   0x6c12
#define VMCS_HOST_RSP            0x6c14
#define VMCS_HOST_RIP            0x6c16

/* basic exit reasons */
#define EXIT_EXCEPTION           0
#define EXIT_TRIPLE_FAULT        2
#define EXIT_HLT                 12
#define EXIT_VMCALL              18
#define EXIT_IO                  30
#define EXIT_EPT_VIOLATION       48
#define EXIT_EPT_MISCONFIG       49
#define EXIT_REASON_ENTRY_FAIL   (1u << 31)

/* EPT-violation exit qualification */
#define EPTV_READ                (1ull << 0)
#define EPTV_WRITE               (1ull << 1)
#define EPTV_FETCH               (1ull << 2)
#define EPTV_PERM_SHIFT          3 /* bits 3..5: the entry's R, W, X */
#define EPTV_PERM_MASK           (7ull << EPTV_PERM_SHIFT)

/* What vmrun.S saves and restores; RSP and RIP are in the VMCS. */
struct guest_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

int vmx_run(struct guest_regs *regs, int launched);
void vmx_exit_point(void);

uint64_t vmread(uint32_t field);
void vmwrite(uint32_t field, uint64_t value);

/* Capabilities found by vmx_enable. */
struct vmx_caps {
	uint64_t ept_cap;
	bool vpid;
	bool efer; /* load IA32_EFER on entry and exit */
};

/* Enable VMX operation (CR4, feature control, VMXON); FAIL if impossible. */
void vmx_enable(struct vmx_caps *caps);
/*
 * Create, load and fill the VMCS for a 32-bit protected-mode guest without
 * paging (unrestricted guest) under EPT with the given EPTP; completes caps
 * with the optional controls it could turn on. The caller sets the guest
 * RIP before each run.
 */
void vmx_setup_vmcs(struct vmx_caps *caps, const struct cpu_tables *t, uint64_t eptp);
/* INVEPT of `eptp` (single-context where the CPU has it, else global). */
void vmx_invept(const struct vmx_caps *caps, uint64_t eptp);

#endif
