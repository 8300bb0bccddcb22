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

int eli_repro__sensitivity(eli_repro_ctx *c, const eli_profile *p, double dur, eli_sensitivity *o,
			   vl_errbuf *eb)
{
	memset(o, 0, sizeof(*o));
	eli_sim_result r[ELI_RW][ELI_RM];
	int err = eli_repro__run_all(c, p, dur, 0xF, r, eb);
	if (err)
		return err;
	o->nrows = eli_repro__rows(r, o->rows);
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
			if ((err = eli_repro__run_all(c, &q, dur, 0xF, r, eb)))
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
