/*
 * sensitivity.c — eli_sensitivity_run (reproduce.h): every double parameter
 * of the profile halved and doubled, one at a time, without refitting; the
 * headline rows that leave their tolerance. A row no change moves out of
 * tolerance is "structural" in the reproduction: it holds by the model's
 * structure (line rate, client loops, an inequality), not by the values.
 */
#include <string.h>

#include "eli/reproduce_internal.h"

static void out_of_tol(const eli_repro_row *nom, const eli_repro_row *rows, int n, int *out,
		       int *nout)
{
	*nout = 0;
	for (int i = 0; i < n; i++)
		if (nom[i].pass && !rows[i].pass)
			out[(*nout)++] = i;
		else if (!nom[i].pass && !rows[i].pass)
			out[(*nout)++] = i; /* already out: not structural either */
}

/* The workloads a parameter can change (bit w of eli_repro__wl_names): the
 * per-workload ones only their own; everything else (clock, exits, timers,
 * NIC, udp_rr_remote_us, which is every closed loop's wire) all four. */
static unsigned affects(const char *k)
{
	static const struct {
		const char *prefix;
		unsigned mask;
	} only[] = {
		{ "netperf_", 1u }, { "tcp_window_", 1u }, { "line_rate_", 1u },
		{ "apache_", 2u },  { "memcached_", 4u },  { "udp_rr_guest_", 8u },
	};
	for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++)
		if (!strncmp(k, only[i].prefix, strlen(only[i].prefix)))
			return only[i].mask;
	return 0xF;
}

int eli_repro__sensitivity(eli_repro_ctx *c, const eli_profile *p, double dur, eli_sensitivity *o,
			   vl_errbuf *eb)
{
	memset(o, 0, sizeof(*o));
	eli_sim_result nom[ELI_RW][ELI_RM], r[ELI_RW][ELI_RM];
	int err = eli_repro__run_all(c, p, dur, 0xF, nom, eb);
	if (err)
		return err;
	o->nrows = eli_repro__rows(nom, o->rows);
	for (int i = 0; i < eli_profile_nkeys() && o->nparams < ELI_SENS_MAX; i++) {
		if (!eli_profile_is_double(i))
			continue;
		const char *k = eli_profile_key(i);
		eli_sens_param *sp = &o->params[o->nparams++];
		sp->name = k;
		sp->basis = eli_profile_basis(k, NULL);
		eli_profile_get(p, k, &sp->value);
		for (int hi = 0; hi < 2; hi++) {
			eli_profile q = *p;
			double v = sp->value * (hi ? 2.0 : 0.5);
			vl_errbuf e2;
			eli_profile_set(&q, k, v);
			if (eli_profile_check(&q, &e2)) { /* outside the key's range: not tried */
				if (hi)
					sp->nout_high = -1;
				else
					sp->nout_low = -1;
				continue;
			}
			memcpy(r, nom, sizeof(r)); /* workloads k cannot change keep theirs */
			if ((err = eli_repro__run_all(c, &q, dur, affects(k), r, eb)))
				return err;
			eli_repro_row rows[ELI_REPRO_MAX_ROWS];
			int n = eli_repro__rows(r, rows);
			if (hi)
				out_of_tol(o->rows, rows, n, sp->out_high, &sp->nout_high);
			else
				out_of_tol(o->rows, rows, n, sp->out_low, &sp->nout_low);
		}
	}
	return 0;
}

int eli_sensitivity_run(const eli_profile *p, uint64_t seed, double duration_s, progress_cb cb,
			void *cb_ud, eli_sensitivity *out, vl_errbuf *eb)
{
	int n = 0;
	for (int i = 0; i < eli_profile_nkeys(); i++)
		n += eli_profile_is_double(i);
	eli_repro_ctx c = { seed, duration_s, duration_s, cb, cb_ud, 0, 12 * (1 + 2 * n) };
	return eli_repro__sensitivity(&c, p, duration_s, out, eb);
}
