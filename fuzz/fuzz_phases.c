/*
 * fuzz_phases.c — `dejavu load --phases MIX:RATE:DUR[,...]`
 * (dvload_parse_phases in dejavu/loadgen.c).
 * Contract: parsed or refused with a message; a parsed spec has 1..32
 * phases of known mixes, each with a finite rate in (0, LOAD_MAX_RATE], a
 * duration in (0, LOAD_MAX_PHASE_S] and rate x duration in
 * [1, LOAD_MAX_PHASE_REQS] requests: what bounds a run's time and work.
 */
#include <math.h>

#include "dejavu/live/loadgen.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mix_set *ms;
	if (!ms && !(ms = mix_set_create()))
		abort();
	char *spec = fuzz_text(data, size);
	dvload_cfg c;
	dvload_cfg_default(&c);
	vl_errbuf eb = { { 0 } };
	int err = dvload_parse_phases(&c, ms, spec, &eb);
	if (err) {
		FUZZ_CHECK(err == VL_EINVAL || err == VL_ERANGE, "error %d", err);
		FUZZ_CHECK(eb.msg[0], "'%s': refused without a message", spec);
	} else {
		FUZZ_CHECK(c.nphases >= 1 && c.nphases <= LOAD_MAX_PHASES, "%d phases", c.nphases);
		for (int i = 0; i < c.nphases; i++) {
			const dvload_phase *p = &c.phases[i];
			double reqs = p->rate_rps * p->dur_s;
			FUZZ_CHECK(mix_set_find(ms, p->mix) != NULL, "mix '%s'", p->mix);
			FUZZ_CHECK(isfinite(p->rate_rps) && p->rate_rps > 0 &&
					   p->rate_rps <= LOAD_MAX_RATE,
				   "rate %g", p->rate_rps);
			FUZZ_CHECK(p->dur_s > 0 && p->dur_s <= LOAD_MAX_PHASE_S, "duration %g",
				   p->dur_s);
			FUZZ_CHECK(reqs >= 1 && reqs <= LOAD_MAX_PHASE_REQS, "%g requests", reqs);
		}
	}
	free(spec);
	return 0;
}
