/*
 * fuzz_parse.c — the numbers users type on the command line (core/parse.c).
 * The first byte picks the parser, the rest is the string. Contract: every
 * parser returns 0 or VL_EINVAL / VL_ERANGE with a message; an accepted
 * double, duration or percentage is finite (a duration >= 0, a percentage in
 * [0, 1]); an accepted count or size is what the string says (checked
 * against an independent strtod for plain decimal strings).
 */
#include <math.h>

#include "core/parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *s = fuzz_text(data + 1, size - 1);
	vl_errbuf eb = { { 0 } };
	uint64_t u = 0;
	int64_t i = 0;
	double d = 0;
	int err = 0;
	switch (data[0] % 7) {
	case 0:
		err = parse_u64(s, &u, &eb);
		break;
	case 1:
		err = parse_i64(s, &i, &eb);
		break;
	case 2:
		err = parse_count(s, &u, &eb);
		break;
	case 3:
		err = parse_size(s, &u, &eb);
		break;
	case 4:
		err = parse_double(s, &d, &eb);
		FUZZ_CHECK(err || isfinite(d), "'%s' -> %g", s, d);
		break;
	case 5:
		err = parse_duration(s, &d, &eb);
		FUZZ_CHECK(err || (isfinite(d) && d >= 0), "'%s' -> %g s", s, d);
		break;
	case 6:
		err = parse_percent(s, &d, &eb);
		FUZZ_CHECK(err || (d >= 0 && d <= 1), "'%s' -> %g", s, d);
		break;
	}
	FUZZ_CHECK(err == 0 || err == VL_EINVAL || err == VL_ERANGE, "'%s': error %d", s, err);
	FUZZ_CHECK(err == 0 || eb.msg[0], "'%s': error %d without a message", s, err);
	if (!err && (data[0] % 7 == 2 || data[0] % 7 == 3) && s[0] >= '0' && s[0] <= '9' &&
	    strspn(s, "0123456789") == strlen(s)) {
		double ref = strtod(s, NULL); /* a bare decimal: the value itself */
		FUZZ_CHECK(fabs((double)u - ref) <= ref * 1e-15, "'%s' -> %llu", s,
			   (unsigned long long)u);
	}
	free(s);
	return 0;
}
