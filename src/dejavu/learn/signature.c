/* signature.c — see signature.h. */
#include "dejavu/learn/signature.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void sig_init(sig *s, double t_start, double t_end)
{
	memset(s, 0, sizeof(*s));
	s->t_start = t_start;
	s->t_end = t_end;
}

int sig_find(const sig *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return (int)i;
	return -1;
}

int sig_set(sig *s, const char *name, double v)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len >= SIG_NAME_MAX || !isfinite(v))
		return VL_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '.')
			return VL_EINVAL;
	int i = sig_find(s, name);
	if (i < 0) {
		if (s->n == SIG_MAX_METRICS)
			return VL_ERANGE;
		i = (int)s->n++;
		memcpy(s->name[i], name, len + 1);
	}
	s->v[i] = v;
	s->se[i] = 0;
	return 0;
}

int sig_set_se(sig *s, const char *name, double v, double se)
{
	if (!isfinite(se) || se < 0)
		return VL_EINVAL;
	int err = sig_set(s, name, v);
	if (!err)
		s->se[sig_find(s, name)] = se;
	return err;
}

int sig_get(const sig *s, const char *name, double *v)
{
	int i = sig_find(s, name);
	if (i < 0)
		return VL_ENOENT;
	*v = s->v[i];
	return 0;
}

int sig_align(const sig *a, const sig *b, double *out, vl_errbuf *eb)
{
	for (size_t i = 0; i < a->n; i++) {
		/* Fast path: same order. */
		if (i < b->n && !strcmp(a->name[i], b->name[i])) {
			out[i] = b->v[i];
			continue;
		}
		int j = sig_find(b, a->name[i]);
		if (j < 0)
			return vl_fail(eb, VL_ENOENT, "signature lacks metric '%s'", a->name[i]);
		out[i] = b->v[j];
	}
	return 0;
}
