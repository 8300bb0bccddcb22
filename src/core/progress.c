/* progress.c — see progress.h. */
#include "core/progress.h"

#include <time.h>
#include <unistd.h>

void progress_init(progress *p, FILE *f, const char *label, int quiet)
{
	p->f = (!quiet && f && isatty(fileno(f))) ? f : NULL;
	p->label = label;
	p->last_draw = 0;
	p->drawn = 0;
}

void progress_update(void *ud, double frac)
{
	progress *p = ud;
	if (!p || !p->f)
		return;
	double now = wall_seconds();
	if (p->drawn && now - p->last_draw < 0.1 && frac < 1.0)
		return;
	if (frac < 0)
		frac = 0;
	if (frac > 1)
		frac = 1;
	enum { W = 30 };
	int fill = (int)(frac * W + 0.5);
	fprintf(p->f, "\r%s [", p->label);
	for (int i = 0; i < W; i++)
		fputc(i < fill ? '#' : ' ', p->f);
	fprintf(p->f, "] %3d%%", (int)(frac * 100 + 0.5));
	fflush(p->f);
	p->last_draw = now;
	p->drawn = 1;
}

void progress_done(progress *p)
{
	if (p->f && p->drawn) {
		fputs("\r\033[K", p->f);
		fflush(p->f);
	}
	p->drawn = 0;
}
