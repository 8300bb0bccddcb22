/*
 * validate.h — the ELI model against recorded measurements of this host's
 * KVM (the JSON documents `virtlab kvm bench --reps K --json` writes), as a
 * check that can fail.
 *
 * The first document calibrates: an open loop (Poisson at rate R, sender on
 * the vCPU's CPU) gives the median vCPU CPU time per interrupt S and the
 * median handled rate H. The model (baseline mode, custom workload, a
 * polling guest) takes S as the whole host cost of its one exit per
 * interrupt (EOI and handler lumped in: eoi_path = emulated at 0 cycles)
 * and, as NIC moderation, the effective gap M = 1/H - 1/R behind which
 * interrupts merge waiting for the vCPU. Every other quantity is predicted:
 * the exit count (not calibrated at all), the handled rate and CPU per
 * interrupt at other rates and in the other EOI mode, and the send-to-
 * handled latency of paced closed loops, kick of a running vCPU (sender on
 * its own CPU) and injection at VM entry (sender on the vCPU's CPU) apart.
 *
 * Each row: the median over the document's repetitions with its
 * distribution-free 95 % interval (stat_median_ci95), the model, the error
 * against the median and a verdict: "consistent" (the model lies in the
 * interval), "within 20 %" (outside it but within the project's goal of the
 * median), or "fails". The tolerance is never widened: where the host's own
 * interval is wider than +-20 % the row says so.
 */
#ifndef VL_KVM_VALIDATE_H
#define VL_KVM_VALIDATE_H

#include <jansson.h>

#include "core/error.h"
#include "eli/profile.h"

#define KVM_VALID_MAX_ROWS 32
#define KVM_VALID_MAX_DOCS 8

typedef struct kvm_vrow {
	char config[80];    /* "xapic open 5000/s vcpu-cpu" */
	const char *metric; /* interrupts_per_sec, ns_per_interrupt, exits_per_interrupt,
			       latency_p50_ns */
	double median, ci95_low, ci95_high, model, error_pct, spread_pct;
	int n, used_in_calibration;
	const char *verdict; /* consistent, within 20 %, fails */
	char note[200];
} kvm_vrow;

typedef struct kvm_vresult {
	char recorded[160]; /* host and time of the calibration document */
	int nrows;
	kvm_vrow rows[KVM_VALID_MAX_ROWS];
	int validated;        /* rows of quantities the calibration did not use */
	int validated_passed; /* ... with verdict consistent or within 20 % */
	eli_profile prof;     /* the profile calibrated from the first document */
} kvm_vresult;

/* Validates against docs[0..n) (n >= 2; docs[0] an open loop). 0, or
 * VL_EINVAL (a document lacks a field or has too few repetitions: eb
 * says which) or another vl_err from the model. */
int kvm_validate_docs(json_t *const *docs, int n, kvm_vresult *v, vl_errbuf *eb);

/* Loads FILE (a JSON array of such documents, or one document per line) and
 * validates. 0, VL_ENOENT, VL_EINVAL (not JSON, eb has the line), ... */
int kvm_validate_file(const char *path, kvm_vresult *v, vl_errbuf *eb);

/* The verdict for a model value against a median and its interval:
 * "inconclusive" when the median is not positive or the interval is wider
 * than +-20 % of it (the measurement cannot test the model at the goal),
 * else "consistent" (model inside the interval), "within 20 %" (of the
 * median) or "fails". */
const char *kvm_verdict(double model, double median, double lo, double hi);

/* 1 if the verdict counts as the model holding (consistent, within 20 %). */
int kvm_verdict_holds(const char *verdict);

#endif
