/* SPDX-License-Identifier: MIT */
/** @file
 * libtdp error codes, and why a call refused.
 *
 * Every public function returns 0 (or a non-negative count) on success and a
 * negative code from this list on failure. The values are Linux's errno
 * numbers, so a Linux-hosted caller can compare them with -EINVAL and friends,
 * but they are spelt out here so that a freestanding build needs no <errno.h>.
 */
#ifndef TDP_ERROR_H
#define TDP_ERROR_H

#include <tdp/export.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TDP_ENOENT     2   /**< lookup: the address is not mapped */
#define TDP_EAGAIN     11  /**< shared mode: lost a race, retry */
#define TDP_ENOMEM     12  /**< not enough pages in the memory cache / allocator */
#define TDP_EBUSY      16  /**< the table is in a state that forbids the call */
#define TDP_EEXIST     17  /**< TDP_MAP_NOREPLACE and something is already mapped */
#define TDP_EINVAL     22  /**< bad argument: NULL, misaligned, unknown flag or attribute */
#define TDP_ERANGE     34  /**< address range outside the table's input or output size */
#define TDP_EOPNOTSUPP 95  /**< the format or configuration cannot do this */

/**
 * Which check refused a call. -TDP_EINVAL alone does not say which argument
 * was wrong; a table whose configuration sets `refused` (tdp/pgtable.h) hears
 * the reason from the check itself. Values are stable: new ones are added
 * before TDP_REASON_COUNT, never renumbered.
 */
enum tdp_reason {
	TDP_REASON_NONE = 0,      /**< no reason given */
	TDP_REASON_NULL,          /**< a pointer argument the call needs is NULL */
	TDP_REASON_CFG_OPS,       /**< init: mm or tlb operations missing, or only one
				   *   of virt_to_phys / phys_to_virt */
	TDP_REASON_CFG_SHARED,    /**< init: TDP_CFG_SHARED without mm->defer_free_table */
	TDP_REASON_CFG_CHANGES,   /**< init: change operations without leaf_changed */
	TDP_REASON_CFG_FORMAT,    /**< init: unknown format, or one this build left out */
	TDP_REASON_CFG_FLAGS,     /**< init: flags unknown to the format, or contradicting
				   *   each other */
	TDP_REASON_CFG_GRANULE,   /**< init: granule_shift the format (or this build) lacks */
	TDP_REASON_CFG_IA_BITS,   /**< init: ia_bits the format cannot translate */
	TDP_REASON_CFG_OA_BITS,   /**< init: oa_bits outside the format's range */
	TDP_REASON_ROOT_ADDRESS,  /**< init: the root's page is misaligned for its size
				   *   or above oa_bits */
	TDP_REASON_EMPTY_RANGE,   /**< size 0, or start >= end */
	TDP_REASON_GPA_ALIGN,     /**< gpa or size not a multiple of the page size */
	TDP_REASON_GPA_RANGE,     /**< the input range wraps or ends above 2^ia_bits */
	TDP_REASON_HPA_ALIGN,     /**< hpa not a multiple of the page size */
	TDP_REASON_HPA_RANGE,     /**< the output range wraps or ends above 2^oa_bits */
	TDP_REASON_FAULT_OUTSIDE, /**< the fault address is not in the region */
	TDP_REASON_FLAGS,         /**< flags the call does not know */
	TDP_REASON_ATTR_UNKNOWN,  /**< attribute bits libtdp does not define */
	TDP_REASON_ATTR_FORMAT,   /**< attributes the format (as configured) cannot
				   *   express: EPT write without read, execute-only
				   *   without TDP_CFG_X86_EXEC_ONLY, a memory type... */
	TDP_REASON_PROTECT_MASK,  /**< protect's clear/set can give a permission set the
				   *   format cannot hold */
	TDP_REASON_LEVEL,         /**< a level at or above the table's number of levels */
	TDP_REASON_VMID,          /**< a VMID wider than the register field */
	TDP_REASON_WRONG_FORMAT,  /**< a format's own call on a table of another format */
	TDP_REASON_CACHE_SIZE,    /**< the memory cache holds pages of another size */
	TDP_REASON_CACHE_SHORT,   /**< the memory cache holds fewer pages than the call
				   *   may need (tdp_*_pages_needed) */
	TDP_REASON_ALLOC,         /**< mm->zalloc_table returned NULL */
	TDP_REASON_TABLE_ADDRESS, /**< a page from zalloc_table is misaligned or above
				   *   oa_bits */
	TDP_REASON_NO_AD,         /**< A/D flags are not enabled in this table */
	TDP_REASON_COUNT          /**< the number of reasons; not a reason */
};

/**
 * A short English description of a TDP_E* code, negative (as returned) or
 * positive; 0 is "success".
 * @return static text, never NULL: "unknown error" for a code not in this file.
 */
TDP_API const char *tdp_strerror(int err);

/**
 * A short English description of a reason (the `refused` callback's argument).
 * @return static text, never NULL: "unknown reason" outside the enum.
 */
TDP_API const char *tdp_reason_str(enum tdp_reason reason);

#ifdef __cplusplus
}
#endif

#endif
