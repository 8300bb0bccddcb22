/*
 * reproduce.h — the ELI paper's headline numbers (digest in
 * shared/papers/eli.md) recomputed by the timing simulation, as a
 * prediction: the fitted parameters of the profile are solved from a
 * declared subset of the paper's numbers (the bare-metal figure and at most
 * one baseline figure per workload: ELI_FIT_TARGETS in reproduce.c), every
 * other row, every ELI row included, is predicted. Each row carries its
 * basis: "fitted" (a fit target), "predicted", or "structural" (computed:
 * it stays in tolerance under every x0.5 / x2 change of eli_sensitivity, so
 * it says little about the parameters). A leave-one-workload-out refit (the
 * parameters fitted on workload W's targets fall back to their priors)
 * predicts W's rows again: loo_error_pct. Plus a moderation sweep.
 *
 * Tolerances: rates and throughputs +-15 % relative; *_pct metrics
 * +-3 percentage points; residual exit rates below 2 k/s +-25 %; latencies
 * +-2 us; a range passes when ours falls inside it widened by the tolerance.
 */
#ifndef VL_ELI_REPRODUCE_H
#define VL_ELI_REPRODUCE_H

#include <stdint.h>

#include "core/error.h"
#include "core/progress.h"
#include "eli/profile.h"

typedef struct eli_repro_row {
	char figure[96];
	double paper_lo, paper_hi; /* equal for a single number */
	double ours, error_pct;
	int pass;
	double accept_lo, accept_hi; /* pass <=> accept_lo <= ours <= accept_hi */
	const char *unit, *tolerance;
	int kind;                       /* eli_tol */
	const char *workload;           /* netperf, apache, memcached, udp_rr */
	const char *basis;              /* fitted, predicted, structural */
	double loo_ours, loo_error_pct; /* with workload's own fit targets left out */
	int loo_pass;
} eli_repro_row;

typedef struct eli_sweep_row {
	double moderation_us, base_irqs, base_tput, eli_tput, gain_pct, base_guest_pct,
		eli_idle_pct, base_idle_pct;
} eli_sweep_row;

#define ELI_REPRO_MAX_ROWS 24
#define ELI_SWEEP_MAX 12
#define ELI_FIT_MAX 8

/* One fitted parameter: its target row and the solved value. */
typedef struct eli_fit_result {
	const char *param, *target;
	double value, prior;
	double achieved, paper; /* the target row's value after the fit, and the paper's */
} eli_fit_result;

/* What one parameter's x0.5 and x2 do to the rows (indices into rows). */
typedef struct eli_sens_param {
	const char *name, *basis;
	double value;
	int out_low[ELI_REPRO_MAX_ROWS], nout_low;
	int out_high[ELI_REPRO_MAX_ROWS], nout_high;
} eli_sens_param;

#define ELI_SENS_MAX 64

typedef struct eli_sensitivity {
	eli_repro_row rows[ELI_REPRO_MAX_ROWS]; /* at the nominal values */
	int nrows;
	eli_sens_param params[ELI_SENS_MAX];
	int nparams;
} eli_sensitivity;

typedef struct eli_repro {
	eli_repro_row rows[ELI_REPRO_MAX_ROWS];
	int nrows;
	eli_sweep_row sweep[ELI_SWEEP_MAX];
	int nsweep;
	eli_fit_result fit[ELI_FIT_MAX];
	int nfit;         /* 0: the profile declares nothing fitted (not paper-2012) */
	eli_profile used; /* the profile after the fit */
	int predicted, predicted_pass, fitted, structural;
} eli_repro;

/* Fits (paper-2012 only), runs every experiment (duration_s simulated
 * seconds each, after warm-up), the sensitivity analysis and the
 * leave-one-workload-out refits. 0 or a negative vl_err with eb set. */
int eli_reproduce(const eli_profile *p, uint64_t seed, double duration_s, progress_cb cb,
		  void *cb_ud, eli_repro *out, vl_errbuf *eb);

/* Every double parameter of p x0.5 and x2 (no refit): which headline rows
 * leave tolerance. 0 or a negative vl_err. */
int eli_sensitivity_run(const eli_profile *p, uint64_t seed, double duration_s, progress_cb cb,
			void *cb_ud, eli_sensitivity *out, vl_errbuf *eb);

/* Tolerance kinds, exposed for tests. */
typedef enum eli_tol { ELI_TOL_RATE, ELI_TOL_PCT, ELI_TOL_RESIDUAL, ELI_TOL_LATENCY } eli_tol;
/* Fills pass/error_pct of w from ours, paper_lo/hi and the kind. */
void eli_repro_judge(eli_repro_row *w, eli_tol kind);

#endif
