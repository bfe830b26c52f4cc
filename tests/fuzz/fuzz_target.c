/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry point: the differential driver on tables of FUZZ_FORMAT
 * (set by the build, one binary per format), its operations decoded from the
 * input bytes. A failed check aborts, so the fuzzer keeps the input as a
 * crash.
 */
#include <stdlib.h>

#include <tdp/testkit.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (tdp_tk_diff_run_bytes(FUZZ_FORMAT, data, size))
		abort();
	return 0;
}
