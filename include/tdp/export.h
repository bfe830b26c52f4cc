/* SPDX-License-Identifier: MIT */
/** @file
 * Symbol export: the library is compiled with hidden visibility, so only the
 * functions the headers declare with TDP_API are exported from libtdp.so
 * (and libtdp-testkit); internal `tdp__*` symbols stay inside.
 */
#ifndef TDP_EXPORT_H
#define TDP_EXPORT_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Marks a public function: default visibility where the compiler knows
 * visibility attributes (GCC, clang), nothing elsewhere.
 */
#if defined(__GNUC__) || defined(__clang__)
#define TDP_API __attribute__((visibility("default")))
#else
#define TDP_API
#endif

#ifdef __cplusplus
}
#endif

#endif
