/*
 * reproduce.h — the ELI paper's headline numbers (digest in
 * shared/papers/eli.md) recomputed by the timing simulation from one
 * profile, each compared with the paper within its tolerance, plus an
 * interrupt-moderation sweep of ELI's gain over the baseline on netperf.
 *
 * Tolerances (issue 4): rates and throughputs +-15 % relative; *_pct metrics
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
	const char *unit, *tolerance;
} eli_repro_row;

typedef struct eli_sweep_row {
	double moderation_us, base_irqs, base_tput, eli_tput, gain_pct, base_guest_pct;
} eli_sweep_row;

#define ELI_REPRO_MAX_ROWS 24
#define ELI_SWEEP_MAX 12

typedef struct eli_repro {
	eli_repro_row rows[ELI_REPRO_MAX_ROWS];
	int nrows;
	eli_sweep_row sweep[ELI_SWEEP_MAX];
	int nsweep;
} eli_repro;

/* Runs every experiment (duration_s simulated seconds each, after warm-up).
 * 0 or a negative vl_err with eb set. */
int eli_reproduce(const eli_profile *p, uint64_t seed, double duration_s, progress_cb cb,
		  void *cb_ud, eli_repro *out, vl_errbuf *eb);

/* Tolerance kinds, exposed for tests. */
typedef enum eli_tol { ELI_TOL_RATE, ELI_TOL_PCT, ELI_TOL_RESIDUAL, ELI_TOL_LATENCY } eli_tol;
/* Fills pass/error_pct of w from ours, paper_lo/hi and the kind. */
void eli_repro_judge(eli_repro_row *w, eli_tol kind);

#endif
