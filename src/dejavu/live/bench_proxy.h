/*
 * bench_proxy.h — `virtlab bench proxy`: our duplicating proxy (F = 0.1)
 * side by side with going direct and with nginx as a reverse proxy
 * (keep-alive upstream), for two backends:
 *   static   nginx serving a 1 KiB file: the proxy's own cost dominates;
 *   service  `virtlab dejavu service` under the browse mix (~200 us CPU).
 * Throughput: wrk (closed loop, -t1 -c32) for wrk_s per run; latency: our
 * open-loop generator at a quarter of the slowest subject's throughput, so
 * p99 is not just the closed loop's queue. Runs are interleaved over BENCH_ROUNDS
 * rounds and the best throughput / median p99 of each subject kept.
 * nginx runs from a generated config in a temporary directory, on
 * 127.0.0.1 only, one worker (our proxy is one thread too).
 */
#ifndef VL_DEJAVU_BENCH_PROXY_H
#define VL_DEJAVU_BENCH_PROXY_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"

typedef struct dvbench_cfg {
	const char *exe; /* virtlab itself, to start proxy and service */
	double wrk_s;    /* seconds per throughput run */
	double lat_s;    /* seconds per latency run */
	int rounds;
	uint64_t seed;
} dvbench_cfg;

/* Runs the benchmark; JSON {"name":"proxy","static":{..},"service":{..}}
 * into *out. VL_ENOTSUP if nginx or wrk is missing. */
int dvbench_proxy(const dvbench_cfg *c, json_t **out, vl_errbuf *eb);

#endif
