/*
 * mm1.h — an M/M/1 queue on the DES engine: the demo `make run` shows and a
 * check of the engine against queueing theory. Poisson arrivals at rate
 * lambda, exponential service at rate mu, FIFO, one server. Theory for
 * rho = lambda/mu < 1: mean time in system W = 1/(mu - lambda), and the
 * time in system is itself Exp(mu - lambda), so its p99 is ln(100)/(mu-lambda).
 */
#ifndef VL_CORE_MM1_H
#define VL_CORE_MM1_H

#include <stdint.h>

#include "core/progress.h"

typedef struct mm1_result {
	uint64_t customers;
	double lambda, mu, rho;
	double mean_sojourn, p99_sojourn; /* simulated */
	double theory_mean, theory_p99;   /* analytic */
	double utilization;               /* simulated busy fraction */
	uint64_t events;
} mm1_result;

/* Simulates `customers` departures. 0, VL_EINVAL (rates not positive,
 * rho >= 1, customers 0) or VL_ENOMEM. cb (may be NULL) gets progress. */
int mm1_run(double lambda, double mu, uint64_t customers, uint64_t seed, progress_cb cb,
	    void *cb_ud, mm1_result *out);

#endif
