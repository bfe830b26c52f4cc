/* SPDX-License-Identifier: MIT */
/*
 * The guest's EPT: a libtdp table whose memory and TLB callbacks are this
 * hypervisor's (pool pages, INVEPT), plus the guest memory slots that are
 * mapped on demand from EPT violations with tdp_map_fault.
 */
#ifndef EMU_X86_EPT_H
#define EMU_X86_EPT_H

#include <tdp/pgtable.h>
#include <tdp/x86.h>

#include "vmx.h"

struct ept {
	struct tdp_pgtable pgt;
	struct tdp_memcache mc;
	uint64_t eptp;
	const struct vmx_caps *caps;
	unsigned int flushes;     /* INVEPTs issued by the library's callbacks */
	unsigned int faults;      /* violations mapped by ept_fault_in */
	struct tdp_fault_result last; /* what the last of them mapped */
};

/* Create the table (4 levels) and its EPTP; FAIL on error. */
void ept_init(struct ept *e, const struct vmx_caps *caps);
/* tdp_map from the memory cache, topped up first; FAIL unless it returns 0. */
void ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, tdp_attr_t attr);
/* Top the cache up for an operation that may split. */
void ept_topup(struct ept *e);

/*
 * An EPT violation on guest-physical `gpa` with exit qualification `qual`:
 * if gpa lies in a guest memory slot and was not mapped, map it with
 * tdp_map_fault and return true (the guest retries the access); false for
 * anything else, which the caller decides about.
 */
bool ept_fault_in(struct ept *e, uint64_t gpa, uint64_t qual);

/* The guest memory slots (mapped on demand), for the checks. */
extern const struct tdp_fault_region ept_slots[];
extern const unsigned int ept_nr_slots;

#endif
