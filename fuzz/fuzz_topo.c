/*
 * fuzz_topo.c — regsched topology files (regsched/topo.c).
 * Contract: parsed or refused with "NAME:LINE: ..."; a parsed topology has
 * 1..64 cores each in one LLC, every cache within TOPO_MAX_CACHE_BYTES and a
 * whole number of sets, all of them within TOPO_MAX_SETS, a finite clock,
 * and a printable name (it goes into JSON).
 */
#include <ctype.h>
#include <math.h>

#include "fuzz.h"
#include "regsched/topo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t sets_of(const topo_cache *c)
{
	FUZZ_CHECK(c->size > 0 && c->size <= TOPO_MAX_CACHE_BYTES, "cache of %llu bytes",
		   (unsigned long long)c->size);
	FUZZ_CHECK(c->ways >= 1 && c->ways <= 16 && c->line >= 8 && c->line <= 4096,
		   "ways %u line %u", c->ways, c->line);
	FUZZ_CHECK(c->size % ((uint64_t)c->ways * c->line) == 0, "partial set");
	return c->size / ((uint64_t)c->ways * c->line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	topo t;
	vl_errbuf eb = { { 0 } };
	int err = topo_parse(text, "fz.topo", &t, &eb);
	if (err) {
		FUZZ_CHECK(err == VL_EINVAL || err == VL_ERANGE, "error %d", err);
		fuzz_names(&eb, "fz.topo");
	} else {
		FUZZ_CHECK(t.ncores >= 1 && t.ncores <= TOPO_MAX_CORES, "%u cores", t.ncores);
		FUZZ_CHECK(t.nllc >= 1 && t.nllc <= TOPO_MAX_LLC, "%u LLCs", t.nllc);
		FUZZ_CHECK(isfinite(t.freq_ghz) && t.freq_ghz > 0, "freq %g", t.freq_ghz);
		uint64_t sets = sets_of(&t.l2) * t.ncores;
		for (unsigned d = 0; d < t.nllc; d++)
			sets += sets_of(&t.llc[d]);
		FUZZ_CHECK(sets <= TOPO_MAX_SETS, "%llu sets", (unsigned long long)sets);
		for (unsigned c = 0; c < t.ncores; c++)
			FUZZ_CHECK(t.core_llc[c] >= 0 && (unsigned)t.core_llc[c] < t.nllc,
				   "core %u in llc %d", c, t.core_llc[c]);
		for (const char *c = t.name; *c; c++)
			FUZZ_CHECK(isgraph((unsigned char)*c), "name byte %#x", (unsigned char)*c);
	}
	free(text);
	return 0;
}
