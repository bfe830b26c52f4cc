/* SPDX-License-Identifier: MIT */
/* Error codes and refusal reasons in words, and the refusal callback. */
#include "core/refuse.h"

const char *tdp_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "success";
	case TDP_ENOENT: return "address not mapped";
	case TDP_EAGAIN: return "lost a race with another call, retry";
	case TDP_ENOMEM: return "not enough table pages";
	case TDP_EBUSY: return "table state forbids the call";
	case TDP_EEXIST: return "already mapped";
	case TDP_EINVAL: return "invalid argument";
	case TDP_ERANGE: return "address outside the table's range";
	case TDP_EOPNOTSUPP: return "not supported by this format or configuration";
	default: return "unknown error";
	}
}

static const char *const reason_text[TDP_REASON_COUNT] = {
	[TDP_REASON_NONE] = "no reason given",
	[TDP_REASON_NULL] = "a required pointer argument is NULL",
	[TDP_REASON_CFG_OPS] = "memory or TLB operations missing or incomplete",
	[TDP_REASON_CFG_SHARED] = "shared mode needs mm->defer_free_table",
	[TDP_REASON_CFG_CHANGES] = "change operations without leaf_changed",
	[TDP_REASON_CFG_FORMAT] = "format unknown or not built",
	[TDP_REASON_CFG_FLAGS] = "configuration flags unknown to the format or contradictory",
	[TDP_REASON_CFG_GRANULE] = "granule not available for the format in this build",
	[TDP_REASON_CFG_IA_BITS] = "input address size not supported by the format",
	[TDP_REASON_CFG_OA_BITS] = "output address size not supported by the format",
	[TDP_REASON_ROOT_ADDRESS] = "root table misaligned or above the output address size",
	[TDP_REASON_EMPTY_RANGE] = "empty range",
	[TDP_REASON_GPA_ALIGN] = "guest address or size not a multiple of the page size",
	[TDP_REASON_GPA_RANGE] = "guest range wraps or ends above the input address size",
	[TDP_REASON_HPA_ALIGN] = "host address not a multiple of the page size",
	[TDP_REASON_HPA_RANGE] = "host range wraps or ends above the output address size",
	[TDP_REASON_FAULT_OUTSIDE] = "fault address outside the region",
	[TDP_REASON_FLAGS] = "unknown flags for this call",
	[TDP_REASON_ATTR_UNKNOWN] = "attribute bits libtdp does not define",
	[TDP_REASON_ATTR_FORMAT] = "attributes the format cannot express as configured",
	[TDP_REASON_PROTECT_MASK] = "protect masks can give permissions the format cannot hold",
	[TDP_REASON_LEVEL] = "level out of range for this table",
	[TDP_REASON_VMID] = "VMID too wide for the register field",
	[TDP_REASON_WRONG_FORMAT] = "the table is of another format",
	[TDP_REASON_CACHE_SIZE] = "memory cache holds pages of another size",
	[TDP_REASON_CACHE_SHORT] = "memory cache holds fewer pages than the call may need",
	[TDP_REASON_ALLOC] = "the allocator returned no page",
	[TDP_REASON_TABLE_ADDRESS] = "allocated table misaligned or above the output address size",
	[TDP_REASON_NO_AD] = "accessed/dirty flags not enabled in this table",
};

const char *tdp_reason_str(enum tdp_reason reason)
{
	if ((unsigned int)reason >= TDP_REASON_COUNT || !reason_text[reason])
		return "unknown reason";
	return reason_text[reason];
}

int tdp__refused(const struct tdp_config *cfg, int refusal)
{
	unsigned int packed = (unsigned int)-refusal;
	enum tdp_reason reason = (enum tdp_reason)(packed >> 8);
	int err = -(int)(packed & 0xff);

	if (reason != TDP_REASON_NONE && cfg && cfg->refused)
		cfg->refused(cfg->refused_ctx, err, reason);
	return err;
}
