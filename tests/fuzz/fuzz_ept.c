/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry point: the differential driver on x86 EPT tables,
 * its operations decoded from the input bytes. A failed check aborts, so the
 * fuzzer keeps the input as a crash.
 */
#include <stdlib.h>

#include <tdp/testkit.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (tdp_tk_diff_run_bytes(TDP_FORMAT_X86_EPT, data, size))
		abort();
	return 0;
}
