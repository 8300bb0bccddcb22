/*
 * reproduce_internal.h — what reproduce.c (rows, fit, leave-one-out) and
 * sensitivity.c share. Not part of the public API.
 */
#ifndef VL_ELI_REPRODUCE_INTERNAL_H
#define VL_ELI_REPRODUCE_INTERNAL_H

#include <stdlib.h>

#include "eli/reproduce.h"
#include "eli/sim.h"

#define ELI_RW 4 /* workloads: netperf, apache, memcached, udp_rr */
#define ELI_RM 3 /* modes: bare, baseline, eli */
#define ELI_FIT_ITERS 14

typedef struct eli_repro_ctx {
	uint64_t seed;
	double dur, fit_dur;
	progress_cb cb;
	void *ud;
	int done, total;
} eli_repro_ctx;

extern const char *const eli_repro__wl_names[ELI_RW];
int eli_repro__run(eli_repro_ctx *c, const eli_profile *p, int w, int m, double dur,
		   eli_sim_result *r, vl_errbuf *eb);
/* Runs the three modes of every workload in wl_mask (bit w). */
int eli_repro__run_all(eli_repro_ctx *c, const eli_profile *p, double dur, unsigned wl_mask,
		       eli_sim_result r[ELI_RW][ELI_RM], vl_errbuf *eb);
/* The headline rows from a full set of runs; returns how many. */
int eli_repro__rows(eli_sim_result r[ELI_RW][ELI_RM], eli_repro_row *rows);
/* Fits the declared targets into p (leave_out: a workload whose targets are
 * skipped and whose parameters take their priors, or -1). out may be NULL. */
int eli_repro__fit(eli_repro_ctx *c, eli_profile *p, int leave_out, double dur, eli_fit_result *out,
		   int *nout, vl_errbuf *eb);
int eli_repro__is_target(const char *figure);
int eli_repro__sensitivity(eli_repro_ctx *c, const eli_profile *p, double dur, eli_sensitivity *out,
			   vl_errbuf *eb);

#endif
