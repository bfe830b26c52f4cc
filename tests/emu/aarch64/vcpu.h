/* SPDX-License-Identifier: MIT */
/* Running the guest and handling its exits (vcpu.c). */
#ifndef EMU_VCPU_H
#define EMU_VCPU_H

#include "stage2.h"

#define EC_HVC64 0x16
#define EC_IABT_LOW 0x20
#define EC_DABT_LOW 0x24

/* FSC (ESR ISS[5:0]) kinds, level in bits 1:0 */
#define FSC_KIND(esr)   ((esr) & 0x3c)
#define FSC_TRANSLATION 0x04
#define FSC_PERMISSION  0x0c
#define ESR_WNR         (1u << 6)

/* x0 the guest sees after a fetch the hypervisor refused */
#define IABT_SENTINEL 0xdead0fe7c4ull

/* A guest memory slot, mapped on demand by tdp_map_fault. */
struct slot {
	struct tdp_fault_region rg;
	tdp_attr_t attr;
	uint64_t faults;             /* faults it resolved */
	struct tdp_fault_result last; /* the leaf the last one mapped */
};

/* A fault the hypervisor did not resolve: recorded, then stepped over. */
struct fault_record {
	uint64_t count;
	uint64_t esr;
	uint64_t ipa;
	uint64_t elr;
};

struct vm {
	struct tdp_pgtable *pgt;
	struct tdp_memcache *mc;
	struct vcpu vcpu;
	struct slot *slots;
	unsigned int nr_slots;
	struct fault_record fault;
	/* called at each HVC_TICK of OP_READLOOP: pass number, its sum */
	void (*on_tick)(struct vm *vm, uint64_t pass, uint64_t sum);
};

/* Point EL2 at the table and the guest at its entry; run it to its first request. */
void vm_start(struct vm *vm);
/* Run one guest command to completion and return its x0. */
uint64_t guest_cmd(struct vm *vm, uint64_t op, uint64_t a1, uint64_t a2, uint64_t a3,
		   uint64_t a4);

#endif
