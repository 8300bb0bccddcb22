/*
 * fuzz_dejavu_trace.c — DejaVu request-rate trace CSVs (dejavu/trace.c).
 * Contract: parsed or refused with "NAME:LINE: ..."; a parsed trace has >= 2
 * rows, starts at 0, strictly increasing finite times, rates in [0, 1e9],
 * known mixes, and spans at most TRACE_MAX_SPAN_S (what bounds a
 * simulation's time and memory).
 */
#include <math.h>

#include "dejavu/sim/trace.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mix_set *ms;
	if (!ms && !(ms = mix_set_create()))
		abort();
	char *text = fuzz_text(data, size);
	vl_errbuf eb = { { 0 } };
	trace *t = trace_parse_csv(text, "fz.csv", ms, &eb);
	if (!t) {
		if (!strstr(eb.msg, "out of memory"))
			fuzz_names(&eb, "fz.csv");
	} else {
		FUZZ_CHECK(t->n >= 2 && t->row[0].t == 0, "%zu rows from %g", t->n, t->row[0].t);
		for (size_t i = 0; i < t->n; i++) {
			const trace_row *r = &t->row[i];
			FUZZ_CHECK(isfinite(r->t) && (i == 0 || r->t > t->row[i - 1].t),
				   "row %zu at %g", i, r->t);
			FUZZ_CHECK(r->rate >= 0 && r->rate <= 1e9, "row %zu rate %g", i, r->rate);
			FUZZ_CHECK(mix_set_get(ms, (size_t)r->mix) != NULL, "row %zu mix %d", i,
				   r->mix);
		}
		FUZZ_CHECK(t->duration > t->row[t->n - 1].t && t->duration <= TRACE_MAX_SPAN_S,
			   "duration %g", t->duration);
		trace_destroy(t);
	}
	free(text);
	return 0;
}
