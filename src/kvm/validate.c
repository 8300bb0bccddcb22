/* validate.c — see validate.h. */
#include "kvm/validate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/stats.h"
#include "eli/sim.h"

/* The project's goal for model vs measurement: within +-20 %. */
#define GOAL_PCT 20.0
/* Simulated seconds per model run (our choice: >= 2 000 interrupts at 2 k/s). */
#define MODEL_S 1.0

const char *kvm_verdict(double model, double median, double lo, double hi)
{
	/* Every validated quantity (a rate, a time, a count) is positive. A
	 * median <= 0, or an interval wider than the goal on both sides, cannot
	 * tell a model within the goal from one outside it: saying "consistent"
	 * there would widen the tolerance to the host's noise. */
	if (!(median > 0) ||
	    (isfinite(lo) && isfinite(hi) && hi - lo > 2 * GOAL_PCT / 100 * median))
		return "inconclusive";
	if (isfinite(lo) && isfinite(hi) && model >= lo && model <= hi)
		return "consistent";
	if (fabs(model - median) <= GOAL_PCT / 100 * fabs(median))
		return "within 20 %";
	return "fails";
}

int kvm_verdict_holds(const char *verdict)
{
	return !strcmp(verdict, "consistent") || !strcmp(verdict, "within 20 %");
}

typedef struct doc {
	const char *eoi, *sender;
	double rate, gap_s, ghz;
	int open;
	json_t *samples;
	char config[80];
} doc;

static int parse_doc(json_t *j, int i, doc *d, vl_errbuf *eb)
{
	memset(d, 0, sizeof(*d));
	if (!json_is_object(j))
		return vl_fail(eb, VL_EINVAL, "document %d is not a JSON object", i);
	if (json_is_true(json_object_get(j, "skipped")))
		return vl_fail(eb, VL_EINVAL, "document %d is a skipped run (no /dev/kvm there)",
			       i);
	d->eoi = json_string_value(json_object_get(j, "eoi"));
	d->sender = json_string_value(json_object_get(j, "sender_cpu"));
	const char *loop = json_string_value(json_object_get(j, "loop"));
	d->samples = json_object_get(j, "samples");
	d->ghz = json_number_value(json_object_get(j, "cpu_ghz"));
	d->rate = json_number_value(json_object_get(j, "rate"));
	d->gap_s = json_number_value(json_object_get(j, "gap_s"));
	if (!d->eoi || !d->sender || !loop || !json_is_object(d->samples) || !(d->ghz > 0))
		return vl_fail(eb, VL_EINVAL,
			       "document %d lacks eoi, sender_cpu, loop, samples or cpu_ghz: "
			       "record it with `virtlab kvm bench --reps K --json`",
			       i);
	d->open = !strcmp(loop, "open");
	if (d->open && !(d->rate > 0))
		return vl_fail(eb, VL_EINVAL, "document %d: open loop without a rate", i);
	if (d->open)
		snprintf(d->config, sizeof(d->config), "%s open %.0f/s %s", d->eoi, d->rate,
			 d->sender);
	else
		snprintf(d->config, sizeof(d->config), "%s closed, gap %.0f us, %s", d->eoi,
			 d->gap_s * 1e6, d->sender);
	return 0;
}

/* Median and interval of one sample array; n = 0 if absent or empty. */
static int summary(const doc *d, const char *name, double *lo, double *med, double *hi)
{
	json_t *a = json_object_get(d->samples, name);
	double v[64];
	int n = 0;
	for (size_t i = 0; i < json_array_size(a) && n < 64; i++) {
		double x = json_number_value(json_array_get(a, i));
		if (json_is_number(json_array_get(a, i)) && isfinite(x))
			v[n++] = x;
	}
	if (!n)
		return 0;
	if (stat_median_ci95(v, (size_t)n, lo, med, hi))
		*lo = *hi = NAN;
	return n;
}

/* The model's view of one configuration. */
static int model(const eli_profile *p, const doc *d, double stolen_ns, double *irq_s, double *ns,
		 double *exits, double *lat_ns, vl_errbuf *eb)
{
	eli_profile q = *p;
	q.guest_apic = !strcmp(d->eoi, "x2apic") ? ELI_APIC_X2APIC : ELI_APIC_XAPIC;
	eli_sim_cfg c;
	eli_sim_defaults(&c);
	c.wl = ELI_WL_CUSTOM;
	c.mode = ELI_MODE_BASELINE;
	c.duration_s = MODEL_S;
	c.warmup_s = 0.1;
	c.work_us = 0;
	c.seed = 1;
	c.prof = &q;
	if (d->open) {
		c.irq_rate = d->rate;
		c.moderation_us = q.nic_moderation_us;
	} else { /* paced: one interrupt per gap + handling, no merging */
		c.irq_rate = 1.0 / (d->gap_s + stolen_ns * 1e-9);
		c.moderation_us = 0;
	}
	eli_sim_result r;
	int err = eli_sim_run(&c, &r, eb);
	if (err)
		return err;
	double irq = r.dev_interrupts_per_sec;
	*irq_s = irq;
	*exits = irq > 0 ? r.exits_per_sec / irq : NAN;
	*ns = irq > 0 ? (1.0 - r.idle_pct / 100.0) * 1e9 / irq : NAN;
	*lat_ns = r.latency_us_mean * 1e3;
	return 0;
}

static void add_row(kvm_vresult *v, const doc *d, const char *metric, int used, double model_v,
		    double lo, double med, double hi, int n)
{
	if (v->nrows >= KVM_VALID_MAX_ROWS || !n)
		return;
	kvm_vrow *r = &v->rows[v->nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->config, sizeof(r->config), "%s", d->config);
	r->metric = metric;
	r->median = med;
	r->ci95_low = lo;
	r->ci95_high = hi;
	r->n = n;
	r->model = model_v;
	r->used_in_calibration = used;
	r->error_pct = 100.0 * (model_v - med) / med;
	r->spread_pct = isfinite(lo) && isfinite(hi) ? 100.0 * (hi - lo) / med : NAN;
	r->verdict = kvm_verdict(model_v, med, lo, hi);
	if (used)
		snprintf(r->note, sizeof(r->note),
			 "used by the calibration: agrees by construction");
	else if (!(med > 0))
		snprintf(r->note, sizeof(r->note),
			 "the median is not positive: the host's measurement of this quantity is "
			 "not usable here");
	else if (isfinite(r->spread_pct) && r->spread_pct > 2 * GOAL_PCT)
		snprintf(r->note, sizeof(r->note),
			 "the host's own 95 %% interval spans %.0f %% of the median, wider than "
			 "the +-20 %% goal: this host cannot hold it here",
			 r->spread_pct);
	else if (!isfinite(lo))
		snprintf(r->note, sizeof(r->note), "fewer than 6 repetitions: no interval");
	if (!used) {
		v->validated++;
		v->validated_passed += kvm_verdict_holds(r->verdict);
	}
}

/* The profile calibrated from the first document (see validate.h). */
static void calibrate(const doc *d, double stolen_ns, double irq_s, eli_profile *p)
{
	eli_profile_builtin("paper-2012", p);
	snprintf(p->name, sizeof(p->name), "recorded");
	p->cpu_ghz = d->ghz;
	p->exit_direct_cycles = 0;
	eli_profile_set_handling(p, stolen_ns * d->ghz);
	p->indirect_cycles = 0;
	p->virt_work_overhead = 0;
	p->eoi_path = ELI_EOI_EMULATED;
	p->eoi_emulated_cycles = 0;
	p->guest_idle = ELI_IDLE_POLL;
	p->host_timer_hz = 0;
	p->guest_timer_hz = 0;
	p->guest_irq_cycles = 0;
	p->napi_pkt_cycles = 0;
	p->work_cv = 0;
	/* The model's NIC fires at most once per M and at once when a packet
	 * waits: with Poisson arrivals at R the mean gap between interrupts is
	 * M + exp(-R M) / R (an arrival during M fires at M; else the next
	 * arrival, memoryless). Solve it for the handled rate (monotonic in M). */
	double R = d->rate, lo = 0, hi = 1.0 / irq_s;
	if (1.0 / R >= 1.0 / irq_s) {
		hi = 0; /* nothing merged */
	} else {
		for (int i = 0; i < 60; i++) {
			double m = (lo + hi) / 2;
			if (m + exp(-R * m) / R < 1.0 / irq_s)
				lo = m;
			else
				hi = m;
		}
	}
	p->nic_moderation_us = hi * 1e6;
}

int kvm_validate_docs(json_t *const *docs, int n, kvm_vresult *v, vl_errbuf *eb)
{
	memset(v, 0, sizeof(*v));
	if (n < 2 || n > KVM_VALID_MAX_DOCS)
		return vl_fail(eb, VL_EINVAL, "need 2 to %d recorded runs, got %d",
			       KVM_VALID_MAX_DOCS, n);
	doc d[KVM_VALID_MAX_DOCS];
	for (int i = 0; i < n; i++) {
		int err = parse_doc(docs[i], i, &d[i], eb);
		if (err)
			return err;
	}
	if (!d[0].open)
		return vl_fail(eb, VL_EINVAL, "the first (calibration) run must be an open loop");
	json_t *rec = json_object_get(docs[0], "recorded");
	snprintf(v->recorded, sizeof(v->recorded), "%s, %s",
		 json_is_string(json_object_get(rec, "host"))
			 ? json_string_value(json_object_get(rec, "host"))
			 : "unknown host",
		 json_is_string(json_object_get(rec, "utc"))
			 ? json_string_value(json_object_get(rec, "utc"))
			 : "unknown time");
	double lo, s_med, hi, i_med;
	if (summary(&d[0], "guest_stolen_ns_per_interrupt", &lo, &s_med, &hi) < 1 ||
	    summary(&d[0], "interrupts_per_sec", &lo, &i_med, &hi) < 1)
		return vl_fail(eb, VL_EINVAL, "the calibration run has no samples");
	calibrate(&d[0], s_med, i_med, &v->prof);
	for (int i = 0; i < n; i++) {
		double m_irq, m_ns, m_ex, m_lat, med;
		int err = model(&v->prof, &d[i], s_med, &m_irq, &m_ns, &m_ex, &m_lat, eb);
		if (err)
			return err;
		int k;
		if (d[i].open && (k = summary(&d[i], "interrupts_per_sec", &lo, &med, &hi)))
			add_row(v, &d[i], "interrupts_per_sec", i == 0, m_irq, lo, med, hi, k);
		if ((k = summary(&d[i], "guest_stolen_ns_per_interrupt", &lo, &med, &hi)))
			add_row(v, &d[i], "ns_per_interrupt", i == 0, m_ns, lo, med, hi, k);
		if ((k = summary(&d[i], "exits_per_interrupt", &lo, &med, &hi)))
			add_row(v, &d[i], "exits_per_interrupt", 0, m_ex, lo, med, hi, k);
		if (!d[i].open && (k = summary(&d[i], "latency_p50_ns", &lo, &med, &hi)))
			add_row(v, &d[i], "latency_p50_ns", 0, m_lat, lo, med, hi, k);
	}
	return 0;
}

int kvm_validate_file(const char *path, kvm_vresult *v, vl_errbuf *eb)
{
	char *text;
	int err =
		vl_read_text(path, 16u << 20, "recorded `kvm bench --json` runs", &text, NULL, eb);
	if (err)
		return err;
	json_t *docs[KVM_VALID_MAX_DOCS];
	int n = 0;
	json_error_t je;
	json_t *all = json_loads(text, 0, &je);
	if (all && json_is_array(all)) {
		for (size_t i = 0; i < json_array_size(all) && n < KVM_VALID_MAX_DOCS; i++)
			docs[n++] = json_incref(json_array_get(all, i));
	} else if (all) {
		docs[n++] = json_incref(all);
	} else { /* documents one after another (`cat a.json b.json`) */
		size_t len = strlen(text), off = 0;
		while (n < KVM_VALID_MAX_DOCS) {
			off += strspn(text + off, " \t\r\n");
			if (off >= len)
				break;
			json_t *j = json_loadb(text + off, len - off, JSON_DISABLE_EOF_CHECK, &je);
			if (!j) {
				err = vl_fail(eb, VL_EINVAL, "%s: not JSON (line %d: %s)", path,
					      je.line, je.text);
				break;
			}
			docs[n++] = j;
			off += je.position;
		}
	}
	json_decref(all);
	free(text);
	if (!err)
		err = kvm_validate_docs(docs, n, v, eb);
	for (int i = 0; i < n; i++)
		json_decref(docs[i]);
	return err;
}
