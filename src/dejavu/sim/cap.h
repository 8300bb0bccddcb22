/*
 * cap.h — the capacity table of the DejaVu simulation: how many instances a
 * (rate, mix, interference) needs for p95 <= SIM_TARGET_FRAC x SLO, by
 * bisection on the service model's latency tables (svcmodel.h). The oracle's
 * view (sim.c's need series); no policy reads it directly.
 */
#ifndef VL_DEJAVU_CAP_H
#define VL_DEJAVU_CAP_H

#include <stdint.h>

#include "dejavu/learn/mix.h"
#include "dejavu/sim/policy.h"

typedef struct cap cap;
typedef struct svc svc;
/* slo_s: the p95 bound; seed: for the measurement runs. */
cap *cap_create(double slo_s, uint64_t seed);
void cap_destroy(cap *c);
/* The service model whose latency tables the capacity table reads; sim runs
 * sharing this cap share the tables (svc_create's tables_from). */
svc *cap_tables(cap *c);
/* Highest per-instance load rho (offered work per core-second) at which
 * one instance's p95 is <= SIM_TARGET_FRAC * slo (bisection, cached per
 * (mix, steal)). 0 if even an idle instance misses it. */
double cap_rho(cap *c, const mix *m, double steal);
/* Instances needed for `rate` of mix m under steal (>= 1). */
unsigned cap_need(cap *c, const mix *m, double steal, double rate);

#endif
