/* SPDX-License-Identifier: MIT */
/** @file
 * libtdp error codes.
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

#ifdef __cplusplus
}
#endif

#endif
