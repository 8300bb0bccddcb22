/* llcbench.c — see llcbench.h. */
#include "regsched/llcbench.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"
#include "regsched/hier.h"
#include "regsched/llcfloor.h"
#include "regsched/topo.h"

#define BENCH_SPAN_LINES (1u << 20) /* 64 MiB of 64-byte lines */
#define BENCH_HOT_FRAC 0.2
#define BENCH_HOT_PROB 0.8
#define BENCH_WRITE_PROB 0.3
#define BENCH_TURN 64 /* accesses per core turn */
static const unsigned bench_cores[4] = { 0, 1, 6, 7 };

static void make_trace(uint32_t *lines, uint64_t *wmask, uint64_t n, uint64_t seed)
{
	rng r;
	rng_seed(&r, seed);
	uint32_t hot = (uint32_t)(BENCH_SPAN_LINES * BENCH_HOT_FRAC);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t k = rng_uniform(&r) < BENCH_HOT_PROB
				     ? (uint32_t)rng_below(&r, hot)
				     : hot + (uint32_t)rng_below(&r, BENCH_SPAN_LINES - hot);
		/* odd multiplier: a permutation of 0..2^20-1 scattering the hot lines */
		lines[i] = (k * 0x9e3779b1u) & (BENCH_SPAN_LINES - 1);
		if (rng_uniform(&r) < BENCH_WRITE_PROB)
			wmask[i >> 6] |= 1ull << (i & 63);
	}
}

/* Rates of one round: per wall second and per second of this thread's CPU
 * time (the latter leaves out time the thread sat preempted). */
typedef struct rates {
	double wall, cpu;
} rates;

/* Which floor of llcfloor.h a round replays. */
typedef enum floor_kind { FLOOR_TWO_LEVEL, FLOOR_L2_ONLY, FLOOR_COHERENT } floor_kind;

/* What a round replays, one turn (k accesses by core) at a time. */
typedef struct replayer {
	hier *h; /* the model, or NULL: */
	llc_floor *f;
	floor_kind kind;
	uint64_t *count;
} replayer;

/* Replays the trace in turns and times it (one predictable branch per
 * turn of 64 accesses chooses the replayer). */
static rates time_turns(const replayer *p, const uint32_t *lines, const uint64_t *wmask, uint64_t n)
{
	double t0 = wall_seconds(), c0 = thread_cpu_seconds();
	for (uint64_t i = 0; i < n; i += BENCH_TURN) {
		uint64_t k = n - i < BENCH_TURN ? n - i : BENCH_TURN;
		unsigned core = bench_cores[(i / BENCH_TURN) & 3];
		if (p->h)
			hier_run(p->h, core, lines + i, wmask + i / 64, k, p->count);
		else if (p->kind == FLOOR_COHERENT)
			llc_floor_run_coherent(p->f, core, lines + i, wmask + i / 64, k, p->count);
		else
			llc_floor_run(p->f, core, lines + i, k, p->kind == FLOOR_L2_ONLY, p->count);
	}
	return (rates){ (double)n / (wall_seconds() - t0),
			(double)n / (thread_cpu_seconds() - c0) };
}

static rates round_fast(hier *h, const uint32_t *lines, const uint64_t *wmask, uint64_t n,
			uint64_t count[HIER_NLEVELS])
{
	hier_reset(h);
	memset(count, 0, HIER_NLEVELS * sizeof(uint64_t));
	return time_turns(&(replayer){ .h = h, .count = count }, lines, wmask, n);
}

static rates round_ref(const topo *t, const uint32_t *lines, const uint64_t *wmask, uint64_t n,
		       uint64_t count[HIER_NLEVELS])
{
	hier_ref *h = hier_ref_create(t, 1);
	if (!h)
		return (rates){ -1, -1 };
	memset(count, 0, HIER_NLEVELS * sizeof(uint64_t));
	double t0 = wall_seconds(), c0 = thread_cpu_seconds();
	for (uint64_t i = 0; i < n; i++) {
		unsigned core = bench_cores[(i / BENCH_TURN) & 3];
		count[hier_ref_access(h, core, lines[i], (int)((wmask[i >> 6] >> (i & 63)) & 1))]++;
	}
	rates r = { (double)n / (wall_seconds() - t0), (double)n / (thread_cpu_seconds() - c0) };
	hier_ref_destroy(h);
	return r;
}

/* One round of a floor (see llcfloor.h) on the same trace and turns;
 * count has LLC_FLOOR_NLEVELS (HIER_NLEVELS if coherent). */
static rates round_floor(llc_floor *f, floor_kind kind, const uint32_t *lines,
			 const uint64_t *wmask, uint64_t n, uint64_t *count)
{
	llc_floor_reset(f);
	memset(count, 0,
	       (kind == FLOOR_COHERENT ? HIER_NLEVELS : LLC_FLOOR_NLEVELS) * sizeof(uint64_t));
	return time_turns(&(replayer){ .f = f, .kind = kind, .count = count }, lines, wmask, n);
}

/* The floors for t's geometry: its L2 and LLC sets, 8 and 16 ways, its
 * nodes; one core per L2 and an inclusive LLC (the coherent floor's). */
static llc_floor *floor_for(const topo *t)
{
	uint32_t s2, s3;
	unsigned core_l2[TOPO_MAX_CORES];
	if (hier__map_l2s(t, core_l2, NULL) != t->ncores || t->llc_policy != TOPO_LLC_INCLUSIVE ||
	    t->l2.ways != LLC_FLOOR_L2_WAYS || hier__sets_of(&t->l2, 1, &s2) ||
	    t->llc[0].ways != LLC_FLOOR_LLC_WAYS || hier__sets_of(&t->llc[0], 1, &s3))
		return NULL;
	for (unsigned d = 1; d < t->nllc; d++)
		if (t->llc[d].size != t->llc[0].size || t->llc[d].ways != t->llc[0].ways)
			return NULL;
	llc_floor *f = llc_floor_create(t->ncores, t->core_llc, t->nllc, s2, s3);
	if (f &&
	    (llc_floor_line_limit(f) < BENCH_SPAN_LINES || llc_floor_set_nodes(f, t->core_node))) {
		llc_floor_destroy(f);
		return NULL;
	}
	return f;
}

static void keep_best(rates x, double *wall, double *cpu)
{
	if (x.wall > *wall)
		*wall = x.wall;
	if (x.cpu > *cpu)
		*cpu = x.cpu;
}

int llc_bench_run(uint64_t accesses, int rounds, uint64_t seed, llc_bench_result *r)
{
	if (accesses == 0 || rounds < 1)
		return VL_EINVAL;
	accesses = (accesses + BENCH_TURN - 1) / BENCH_TURN * BENCH_TURN;
	memset(r, 0, sizeof(*r));
	topo t;
	vl_errbuf eb;
	if (topo_builtin("westmere-2llc", &t, &eb))
		return VL_EINVAL;
	uint32_t *lines = malloc(accesses * sizeof(*lines));
	uint64_t *wmask = calloc(accesses / 64 + 1, sizeof(*wmask));
	hier *h = hier_create(&t, 1);
	llc_floor *fl = floor_for(&t);
	int err = VL_ENOMEM;
	if (!lines || !wmask || !h || !fl)
		goto out;
	make_trace(lines, wmask, accesses, seed);
	r->accesses = accesses;
	r->rounds = rounds;
	r->counts_agree = 1;
	r->counts_equal_model = 1;
	for (int i = 0; i < rounds; i++) {
		uint64_t cf[HIER_NLEVELS], cr[HIER_NLEVELS];
		rates f = round_fast(h, lines, wmask, accesses, cf);
		rates g = round_ref(&t, lines, wmask, accesses, cr);
		if (g.wall < 0)
			goto out;
		keep_best(f, &r->accesses_per_sec, &r->accesses_per_cpu_sec);
		keep_best(g, &r->ref_accesses_per_sec, &r->ref_accesses_per_cpu_sec);
		r->counts_agree &= memcmp(cf, cr, sizeof(cf)) == 0;
		memcpy(r->count, cf, sizeof(cf));
		llc_bench_floor *b = &r->floor_l2_only;
		keep_best(round_floor(fl, FLOOR_L2_ONLY, lines, NULL, accesses, b->count),
			  &b->accesses_per_sec, &b->accesses_per_cpu_sec);
		b = &r->floor_two_level;
		keep_best(round_floor(fl, FLOOR_TWO_LEVEL, lines, NULL, accesses, b->count),
			  &b->accesses_per_sec, &b->accesses_per_cpu_sec);
		keep_best(
			round_floor(fl, FLOOR_COHERENT, lines, wmask, accesses, r->coherent_count),
			&r->coherent_per_sec, &r->coherent_per_cpu_sec);
		r->counts_equal_model &= memcmp(cf, r->coherent_count, sizeof(cf)) == 0;
	}
	err = 0;
out:
	llc_floor_destroy(fl);
	hier_destroy(h);
	free(wmask);
	free(lines);
	return err;
}
