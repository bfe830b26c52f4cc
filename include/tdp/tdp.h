/* SPDX-License-Identifier: MIT */
/** @file
 * libtdp: two-dimensional (stage-2) page tables. The one header to include. */
#ifndef TDP_TDP_H
#define TDP_TDP_H

#include <tdp/arm64.h>
#include <tdp/changes.h>
#include <tdp/dump.h>
#include <tdp/error.h>
#include <tdp/export.h>
#include <tdp/mm.h>
#include <tdp/pgtable.h>
#include <tdp/riscv.h>
#include <tdp/tlb.h>
#include <tdp/types.h>
#include <tdp/walk.h>
#include <tdp/x86.h>

#endif
