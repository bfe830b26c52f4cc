/* SPDX-License-Identifier: MIT */
/*
 * A build of one format variant: the variant and the public entry points in
 * one translation unit, so that api.c's calls through FMT_OPS (a constant
 * table defined just above it) compile to direct calls the compiler can
 * inline. Meson names the variant in TDP_SINGLE_VARIANT.
 */
#include TDP_SINGLE_VARIANT
#include "core/api.c"
