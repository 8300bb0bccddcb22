/*
 * bench_proxy.h — `virtlab bench proxy`: our duplicating proxy (F = 0.1)
 * side by side with going direct and with nginx as a reverse proxy
 * (keep-alive upstream), for two backends:
 *   static   nginx serving a 1 KiB file: the proxy's own cost dominates;
 *   service  `virtlab dejavu service` under the browse mix (~200 us CPU).
 * Throughput: wrk (closed loop, -t1 -c32) for wrk_s per run, `rounds`
 * interleaved rounds, the best of each subject kept. Latency: our open-loop
 * generator (loadgen.h, run in this process) at a quarter of the slowest
 * subject's throughput, so p99 is not just the closed loop's queue; the
 * subjects take turns in `slices` rounds of one short slice each (A B C D,
 * B C D A, ...; every subject of a round gets the same arrivals), each
 * subject's samples are pooled over its slices to about lat_samples, and
 * every p99 difference comes with a paired cluster-bootstrap 95 % interval
 * (bench_tail.h). The goals stay point comparisons; "goals_decided" says
 * whether the interval settles each p99 goal.
 * nginx runs from a generated config in a temporary directory, on
 * 127.0.0.1 only, one worker (our proxy is one thread too).
 */
#ifndef VL_DEJAVU_BENCH_PROXY_H
#define VL_DEJAVU_BENCH_PROXY_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"

/* Defaults of `virtlab bench proxy`; why these values: DejaVu README,
 * "Runs of virtlab bench proxy". */
#define DVBENCH_SLICES 20
#define DVBENCH_LAT_SAMPLES 20000

typedef struct dvbench_cfg {
	const char *exe;      /* virtlab itself, to start proxy and service */
	double wrk_s;         /* seconds per throughput run */
	int rounds;           /* throughput rounds */
	int slices;           /* latency rounds: slices per subject (>= 2) */
	uint64_t lat_samples; /* latency samples per subject, about (>= 100) */
	uint64_t seed;
} dvbench_cfg;

/* Runs the benchmark; JSON {"name":"proxy","static":{..},"service":{..}}
 * into *out. VL_ENOTSUP if nginx or wrk is missing. */
int dvbench_proxy(const dvbench_cfg *c, json_t **out, vl_errbuf *eb);

#endif
