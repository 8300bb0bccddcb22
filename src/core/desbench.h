/*
 * desbench.h — the classic hold model (Vaucher & Duval 1975; Jones 1986):
 * keep P events pending; each event, when it fires, schedules one new event
 * at now + Exp(1). Measures events per second of des.c and, in the same
 * process and interleaved rounds, of the reference binary heap (des_ref.c
 * with the inversion sampler -log(u)), so the ratio is meaningful on a
 * noisy machine.
 */
#ifndef VL_CORE_DESBENCH_H
#define VL_CORE_DESBENCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct des_bench_result {
	uint64_t events; /* per round, per engine */
	size_t pending;
	int rounds;
	double events_per_sec;             /* des.c, best round */
	double ref_events_per_sec;         /* reference, best round */
	double final_time, ref_final_time; /* simulated time reached (sanity) */
} des_bench_result;

/* 0, VL_EINVAL (events or pending 0, rounds < 1) or VL_ENOMEM. */
int des_bench_hold(uint64_t events, size_t pending, int rounds, uint64_t seed, des_bench_result *r);

#endif
