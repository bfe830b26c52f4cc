/* SPDX-License-Identifier: MIT */
/* The libtdp callbacks of the hypervisor (stage2.c). */
#ifndef EMU_STAGE2_H
#define EMU_STAGE2_H

#include <tdp/arm64.h>
#include <tdp/pgtable.h>

#include "hyp.h"

/* Table memory: a bump pool at HOST_POOL; tdp_config.mm_ctx is unused. */
extern const struct tdp_mm_ops pool_mm_ops;
extern uint64_t pool_freed_bytes;
uint64_t pool_used(void);

/* TLB invalidation by TLBI; tdp_config.tlb_ctx must be the table itself. */
extern const struct tdp_tlb_ops real_tlb_ops;

struct tlb_stats {
	uint64_t ranges;    /* flush_range calls */
	uint64_t alls;      /* flush_all calls */
	uint64_t ipa_tlbis; /* TLBI IPAS2E1IS issued */
	uint64_t vmid_wide; /* ranges done as one VMALLS12E1IS */
	uint64_t last_gpa, last_size;
	int last_level;
};
extern struct tlb_stats tlb_stats;

#endif
