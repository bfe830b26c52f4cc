/* SPDX-License-Identifier: MIT */
/* For the negative control of check_exports.py: a function no library defines. */
#include <tdp/export.h>

TDP_API int tdp_abi_check_never_defined(void);
