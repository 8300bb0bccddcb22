/*
 * fuzz_dejavu_mixes.c — DejaVu request-mix CSVs (dejavu/mix.c).
 * Contract: loaded or refused with "NAME:LINE: ..." leaving the set as it
 * was; after a load every mix has 1..MIX_MAX_TYPES types whose weights are
 * positive and sum to 1, finite costs in [0, 1e9], and a mean service time
 * of at least MIX_MIN_SERVICE_US.
 */
#include <math.h>

#include "dejavu/learn/mix.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mix_set *ms = mix_set_create();
	if (!ms)
		abort();
	size_t before = mix_set_count(ms);
	char *text = fuzz_text(data, size);
	vl_errbuf eb = { { 0 } };
	int err = mix_set_load_text(ms, text, "fz.csv", &eb);
	if (err) {
		FUZZ_CHECK(fuzz_input_error(err) || err == VL_ENOMEM, "error %d", err);
		if (err != VL_ENOMEM)
			fuzz_names(&eb, "fz.csv");
		FUZZ_CHECK(mix_set_count(ms) == before, "a refused file added mixes");
	}
	FUZZ_CHECK(mix_set_count(ms) <= MIX_MAX_MIXES, "%zu mixes", mix_set_count(ms));
	for (size_t i = 0; i < mix_set_count(ms); i++) {
		const mix *m = mix_set_get(ms, i);
		FUZZ_CHECK(m->ntypes >= 1 && m->ntypes <= MIX_MAX_TYPES, "mix %s: %zu types",
			   m->name, m->ntypes);
		double w = 0;
		for (size_t j = 0; j < m->ntypes; j++) {
			const mix_type *ty = &m->types[j];
			FUZZ_CHECK(ty->weight > 0, "weight %g", ty->weight);
			w += ty->weight;
			double c[] = { ty->cpu_us, ty->mem_kb, ty->io_kb, ty->req_bytes,
				       ty->resp_bytes };
			for (size_t k = 0; k < 5; k++)
				FUZZ_CHECK(isfinite(c[k]) && c[k] >= 0 && c[k] <= 1e9, "cost %g",
					   c[k]);
		}
		FUZZ_CHECK(fabs(w - 1) < 1e-9, "mix %s: weights sum to %g", m->name, w);
		FUZZ_CHECK(mix_mean_service_s(m) * 1e6 >= MIX_MIN_SERVICE_US,
			   "mix %s: mean service %g s", m->name, mix_mean_service_s(m));
	}
	mix_set_destroy(ms);
	free(text);
	return 0;
}
