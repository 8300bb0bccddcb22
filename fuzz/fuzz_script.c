/*
 * fuzz_script.c — HyperWall attack scripts (hyperwall/script.c).
 * Contract: a script parses or is refused with "NAME:LINE: ..."; parsing is
 * linear (the VM-name table's probes stay within a small factor of the
 * lines); an accepted script also runs (every op is bounded, so a run is).
 */
#include "fuzz.h"
#include "hyperwall/script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	hw_script *s = NULL;
	vl_errbuf eb = { { 0 } };
	int err = script_parse(text, "fz.hws", &s, &eb);
	if (err) {
		FUZZ_CHECK(err == VL_EINVAL || err == VL_ENOMEM, "error %d", err);
		if (err == VL_EINVAL)
			fuzz_names(&eb, "fz.hws");
		FUZZ_CHECK(s == NULL, "a refused script is not returned");
	} else {
		size_t lines = 1;
		for (const char *c = text; *c; c++)
			lines += *c == '\n';
		/* <= 3 names a line, each a few probes at a half-full table,
		 * plus the rehashes (< 2 per VM) */
		FUZZ_CHECK(script_name_probes(s) <= 64 * lines + 256, "%zu probes for %zu lines",
			   script_name_probes(s), lines);
		/* a run builds a 64 MiB machine (~20 ms under ASan): one input in
		 * eight, chosen by its length so the choice is reproducible */
		if (size < 2048 && size % 8 == 0) {
			json_t *r = script_run(s, 1, 1);
			FUZZ_CHECK(r != NULL, "an accepted script runs");
			json_decref(r);
		}
	}
	script_free(s);
	free(text);
	return 0;
}
