/*
 * fuzz_lackey.c — valgrind lackey traces for `hyperwall overhead`
 * (hyperwall/overhead.c). Contract: parsed or refused with "NAME:...";
 * every parsed access is a canonical user VA (below 2^47) (plus the write flag); a parsed trace
 * replays, or is refused as too big (VL_ERANGE), with finite results.
 */
#include <math.h>

#include "fuzz.h"
#include "hyperwall/overhead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	ovh_trace *t = NULL;
	vl_errbuf eb = { { 0 } };
	int err = ovh_trace_parse(text, "fz.lackey", &t, &eb);
	if (err) {
		FUZZ_CHECK(fuzz_input_error(err) || err == VL_ENOMEM, "error %d", err);
		if (err != VL_ENOMEM)
			fuzz_names(&eb, "fz.lackey");
	} else {
		for (size_t i = 0; i < t->n; i++)
			FUZZ_CHECK((t->a[i] & ~(uint64_t)OVH_WRITE) < (1ull << 47),
				   "access %zu: %#llx beyond the 47-bit user half", i,
				   (unsigned long long)t->a[i]);
		ovh_result r;
		err = ovh_run(t, &r, &eb);
		FUZZ_CHECK(err == 0 || err == VL_ERANGE, "ovh_run: %d %s", err, eb.msg);
		if (!err)
			FUZZ_CHECK(isfinite(r.overhead_pct) && isfinite(r.tlb_miss_rate) &&
					   r.accesses == t->n,
				   "result not finite or miscounted");
	}
	ovh_trace_free(t);
	free(text);
	return 0;
}
