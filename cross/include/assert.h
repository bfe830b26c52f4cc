/* SPDX-License-Identifier: MIT */
/*
 * The freestanding build's <assert.h>. libatomic_ops includes it, but a
 * freestanding compiler does not ship one and libtdp never asserts (bad
 * input is an error code), so assert() compiles to nothing here. Only the
 * freestanding build puts this directory on the include path.
 */
#ifndef TDP_FREESTANDING_ASSERT_H
#define TDP_FREESTANDING_ASSERT_H
#define assert(e) ((void)0)
#endif
