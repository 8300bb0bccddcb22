/*
 * fuzz_regsched_trace.c — memory-access traces for `regsched run --trace`
 * (regsched/workload.c: native "VCPU ADDR [R|W]" lines or valgrind lackey).
 * Contract: loaded or refused with "FILE:..."; a loaded workload has 1..64
 * vCPUs, each with at least one access, and a physical size below 2^38
 * (32-bit line numbers of 64 bytes).
 */
#include "fuzz.h"
#include "regsched/workload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof(path));
	workload w;
	memset(&w, 0, sizeof(w));
	vl_errbuf eb = { { 0 } };
	int err = workload_load_trace(path, &w, &eb);
	if (err) {
		FUZZ_CHECK(fuzz_input_error(err) || err == VL_ENOMEM, "error %d", err);
		if (err != VL_ENOMEM)
			fuzz_names(&eb, path);
	} else {
		FUZZ_CHECK(w.nvcpu >= 1 && w.nvcpu <= WL_MAX_VCPUS, "%u vCPUs", w.nvcpu);
		for (unsigned v = 0; v < w.nvcpu; v++)
			FUZZ_CHECK(w.vcpu[v].tlen > 0, "vCPU %u has no accesses", v);
		FUZZ_CHECK(w.phys_bytes <= (64ull << 32), "phys_bytes %llu",
			   (unsigned long long)w.phys_bytes);
		workload_free(&w);
	}
	close(fd);
	return 0;
}
