/*
 * fuzz_eli_profile.c — ELI `key = value` profiles (eli/profile.c).
 * Contract: loaded or refused with "FILE:..."; a loaded profile passes
 * eli_profile_check, every value is finite, and its name is valid UTF-8
 * (it goes into JSON).
 */
#include <math.h>

#include "core/utf8.h"
#include "eli/profile.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof(path));
	eli_profile p;
	vl_errbuf eb = { { 0 } };
	int err = eli_profile_load(path, &p, &eb);
	if (err) {
		FUZZ_CHECK(fuzz_input_error(err), "error %d: %s", err, eb.msg);
		fuzz_names(&eb, path);
	} else {
		vl_errbuf e2;
		FUZZ_CHECK(eli_profile_check(&p, &e2) == 0, "accepted but fails check: %s", e2.msg);
		FUZZ_CHECK(!vl_utf8_check(p.name, NULL), "name not UTF-8");
		for (int i = 0; i < eli_profile_nkeys(); i++) {
			char buf[64];
			const char *v = eli_profile_value(&p, i, buf, sizeof(buf));
			double d = strtod(v, NULL);
			FUZZ_CHECK(isfinite(d), "%s = %s", eli_profile_key(i), v);
		}
	}
	close(fd);
	return 0;
}
