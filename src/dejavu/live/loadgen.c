/*
 * loadgen.c — open-loop trace replay; contract in loadgen.h.
 *
 * One core/evloop: an arrival timer draws the Poisson arrivals into a FIFO
 * backlog, the after-turn hook hands the backlog to idle connections and
 * ends the run once every phase is over and nothing is in flight, and a
 * 10 ms timer fails requests that waited or ran longer than timeout_s.
 */
#include "dejavu/live/loadgen.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <math.h>

#include "core/evloop.h"
#include "core/parse.h"
#include "core/rng.h"
#include "core/stats.h"
#include "dejavu/live/net.h"

/* Requests above this many bytes are POSTs with a body (uploads). */
#define POST_ABOVE 2048
#define EXPIRE_MS 10 /* how often waiting and running requests are checked against timeout_s */

enum { L_FREE, L_CONNECTING, L_IDLE, L_BUSY };

struct lg;

typedef struct lconn {
	struct lg *g;
	int fd, state, phase, done;
	int in_idle, in_free; /* on the idle / free stack (lazily cleaned) */
	http_parser hp;
	const char *req;
	size_t req_len, req_off;
	double t_sched, t_sent;
} lconn;

typedef struct arrival {
	double t;
	int phase;
	const char *req;
	size_t len;
} arrival;

typedef struct lg {
	const dvload_cfg *cfg;
	evloop *loop;
	rng r;
	int cur;                /* the phase arrivals are drawn for (nphases: done) */
	double next, phase_end; /* the next arrival; the current phase's end */
	lconn *c;
	int *idle, *free_;            /* stacks of connection indices */
	int nidle, nfree, busy, used; /* used: slots below it were ever connected */
	arrival *q;
	size_t qhead, qlen;
	uint64_t q_seq, q_counted; /* arrivals ever queued; of those, counted as waits */
	hist *all, *ph[LOAD_MAX_PHASES], *lag, *rlag;
	dvload_result *res;
	http_parser_settings set;
	char *reqs[LOAD_MAX_PHASES][MIX_MAX_TYPES];
	size_t req_len[LOAD_MAX_PHASES][MIX_MAX_TYPES];
} lg;

void dvload_cfg_default(dvload_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->max_conns = 1024;
	c->timeout_s = 5;
	c->max_backlog = 100000;
	c->seed = 1;
}

int dvload_parse_phases(dvload_cfg *c, const mix_set *mixes, const char *spec, vl_errbuf *eb)
{
	c->nphases = 0;
	const char *p = spec;
	while (p && *p) {
		size_t len = strcspn(p, ",");
		char one[96], *f[3], *save = NULL;
		if (len >= sizeof(one))
			return vl_fail(eb, VL_EINVAL, "phase '%.*s' is too long", (int)len, p);
		memcpy(one, p, len);
		one[len] = '\0';
		int k = 0;
		for (char *t = strtok_r(one, ":", &save); t && k < 3;
		     t = strtok_r(NULL, ":", &save))
			f[k++] = t;
		if (k != 3 || strtok_r(NULL, ":", &save))
			return vl_fail(
				eb, VL_EINVAL,
				"phase '%.*s': expected MIX:RATE:DURATION like browse:300:10s",
				(int)len, p);
		if (c->nphases >= LOAD_MAX_PHASES)
			return vl_fail(eb, VL_ERANGE, "at most %d phases", LOAD_MAX_PHASES);
		dvload_phase *ph = &c->phases[c->nphases];
		if (!mix_set_find(mixes, f[0]))
			return vl_fail(eb, VL_EINVAL, "phase '%.*s': no mix named '%s'", (int)len,
				       p, f[0]);
		snprintf(ph->mix, sizeof(ph->mix), "%s", f[0]);
		vl_errbuf e2;
		if (parse_double(f[1], &ph->rate_rps, &e2) || ph->rate_rps <= 0 ||
		    ph->rate_rps > LOAD_MAX_RATE)
			return vl_fail(eb, VL_EINVAL,
				       "phase '%.*s': rate '%s' must be in (0, 1e6] req/s",
				       (int)len, p, f[1]);
		if (parse_duration(f[2], &ph->dur_s, &e2))
			return vl_fail(eb, VL_EINVAL, "phase '%.*s': %s", (int)len, p, e2.msg);
		if (ph->dur_s <= 0 || ph->dur_s > LOAD_MAX_PHASE_S)
			return vl_fail(
				eb, VL_ERANGE,
				"phase '%.*s': duration %g s must be in (0, %.0f] s (7 days)",
				(int)len, p, ph->dur_s, LOAD_MAX_PHASE_S);
		double reqs = ph->rate_rps * ph->dur_s;
		if (!(reqs >= 1))
			return vl_fail(eb, VL_ERANGE,
				       "phase '%.*s': %g req/s for %g s is %g requests; a phase "
				       "needs at least 1 (raise the rate or the duration)",
				       (int)len, p, ph->rate_rps, ph->dur_s, reqs);
		if (reqs > LOAD_MAX_PHASE_REQS)
			return vl_fail(eb, VL_ERANGE,
				       "phase '%.*s': %g req/s for %g s is %g requests; the limit "
				       "is %.0f a phase",
				       (int)len, p, ph->rate_rps, ph->dur_s, reqs,
				       LOAD_MAX_PHASE_REQS);
		c->nphases++;
		p += len;
		if (*p == ',')
			p++;
	}
	if (!c->nphases)
		return vl_fail(eb, VL_EINVAL, "no phases given; expected MIX:RATE:DURATION[,...]");
	return 0;
}

static int on_done(http_parser *hp)
{
	lconn *c = hp->data;
	c->done = 1;
	http_parser_pause(hp, 1);
	return 0;
}

static void push_idle(lg *g, lconn *c)
{
	c->state = L_IDLE;
	if (!c->in_idle)
		c->in_idle = 1, g->idle[g->nidle++] = (int)(c - g->c);
}

static void lclose(lg *g, lconn *c)
{
	if (c->fd >= 0) {
		evloop_fd_del(g->loop, c->fd); /* a failure leaves nothing: close() below */
		close(c->fd);
	}
	if (c->state == L_BUSY)
		g->busy--;
	c->fd = -1;
	c->state = L_FREE;
	if (!c->in_free)
		c->in_free = 1, g->free_[g->nfree++] = (int)(c - g->c);
}

static void finish(lg *g, lconn *c, int ok, double now)
{
	double lat = now - c->t_sched;
	dvload_result *r = g->res;
	if (ok) {
		r->ok++;
		r->phase[c->phase].ok++;
		hist_add(g->all, lat);
		hist_add(g->ph[c->phase], lat);
		if (g->cfg->on_latency)
			g->cfg->on_latency(g->cfg->on_latency_arg, c->phase, lat);
	} else {
		r->errors++;
		r->phase[c->phase].errors++;
	}
}

/* Recomputes c's interest; epoll refusing it fails c's request. */
static void lwant(lg *g, lconn *c, double now)
{
	unsigned ev = EVLOOP_READ;
	if (c->state == L_CONNECTING || c->req_off < c->req_len)
		ev |= EVLOOP_WRITE;
	if (evloop_fd_mod(g->loop, c->fd, ev) < 0) {
		finish(g, c, 0, now);
		lclose(g, c);
	}
}

static void levent(evloop *l, int fd, unsigned ev, void *data);

static void lsend(lconn *c)
{
	while (c->state == L_BUSY && c->req_off < c->req_len) {
		ssize_t w = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
		if (w > 0)
			c->req_off += (size_t)w;
		else
			break;
	}
}

/* A connection for the next arrival: the most recently idle one, else a new
 * one while fewer than max_conns exist; NULL when all max_conns are busy
 * (or a connect was refused: out of file descriptors). */
static lconn *take_conn(lg *g)
{
	while (g->nidle) {
		lconn *c = &g->c[g->idle[--g->nidle]];
		c->in_idle = 0;
		if (c->state == L_IDLE)
			return c;
	}
	while (g->nfree) {
		lconn *c = &g->c[g->free_[--g->nfree]];
		c->in_free = 0;
		if (c->state != L_FREE)
			continue;
		c->fd = dv_connect_nb(&g->cfg->target);
		if (c->fd >= 0 && evloop_fd_add(g->loop, c->fd, EVLOOP_WRITE, levent, c) < 0) {
			close(c->fd);
			c->fd = -1;
		}
		if (c->fd < 0) {
			g->res->connect_failures++;
			c->in_free = 1, g->free_[g->nfree++] = (int)(c - g->c);
			return NULL;
		}
		g->res->conns_opened++;
		dv_stamp_arrivals(c->fd); /* for the read lag */
		if (c - g->c >= g->used)
			g->used = (int)(c - g->c) + 1;
		c->state = L_CONNECTING;
		return c;
	}
	return NULL;
}

/* Hands backlog arrivals to idle or new connections; what is left waited
 * for a connection (counted once per arrival). */
static void dispatch(lg *g, double now)
{
	while (g->qlen) {
		lconn *c = take_conn(g);
		if (!c)
			break;
		arrival *a = &g->q[g->qhead];
		g->qhead = (g->qhead + 1) % g->cfg->max_backlog;
		g->qlen--;
		c->state = L_BUSY;
		if (++g->busy > (int)g->res->conns_peak)
			g->res->conns_peak = (uint64_t)g->busy;
		c->phase = a->phase;
		c->req = a->req;
		c->req_len = a->len;
		c->req_off = 0;
		c->t_sched = a->t;
		c->t_sent = now;
		hist_add(g->lag, now > a->t ? now - a->t : 0);
		c->done = 0;
		http_parser_init(&c->hp, HTTP_RESPONSE);
		c->hp.data = c;
		lsend(c); /* a loopback connect is often complete already; else on EPOLLOUT */
		lwant(g, c, now);
	}
	uint64_t head = g->q_seq - g->qlen;
	if (g->qlen && g->q_counted < g->q_seq) {
		g->res->cap_waits += g->q_seq - (g->q_counted > head ? g->q_counted : head);
		g->q_counted = g->q_seq;
	}
}

static void levent(evloop *l, int fd, unsigned ev, void *data)
{
	lconn *c = data;
	lg *g = c->g;
	double now = evloop_now(l);
	(void)fd;
	if (c->state == L_IDLE) { /* server closed an idle connection */
		lclose(g, c);
		return;
	}

	if (ev & EVLOOP_WRITE) {
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			finish(g, c, 0, now);
			lclose(g, c);
			return;
		}
		lsend(c);
	}
	if (ev & (EVLOOP_READ | EVLOOP_HUP)) {
		char buf[16384];
		double arrived;
		ssize_t r = dv_recv_stamped(c->fd, buf, sizeof(buf), now, &arrived);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0)
			http_parser_execute(&c->hp, &g->set, NULL, 0);
		else
			http_parser_execute(&c->hp, &g->set, buf, (size_t)r);
		if (c->done) {
			int ok = c->hp.status_code >= 200 && c->hp.status_code < 300;
			if (r > 0)
				hist_add(g->rlag, now - arrived);
			finish(g, c, ok, now);
			if (r <= 0 || !http_should_keep_alive(&c->hp)) {
				lclose(g, c);
				return;
			}
			g->busy--;
			push_idle(g, c);
		} else if (r <= 0 || HTTP_PARSER_ERRNO(&c->hp) != HPE_OK) {
			finish(g, c, 0, now);
			lclose(g, c);
			return;
		}
	}
	lwant(g, c, now);
}

static int build_requests(lg *g, vl_errbuf *eb)
{
	for (int p = 0; p < g->cfg->nphases; p++) {
		const mix *m = mix_set_find(g->cfg->mixes, g->cfg->phases[p].mix);
		if (!m)
			return vl_fail(eb, VL_EINVAL, "no mix named '%s'", g->cfg->phases[p].mix);
		for (size_t t = 0; t < m->ntypes; t++) {
			const mix_type *ty = &m->types[t];
			/* Big requests carry a body (POST); small ones pad a header
			 * so the bytes on the wire match req_bytes either way. */
			size_t want = ty->req_bytes > 80 ? (size_t)ty->req_bytes : 80;
			size_t body = want > POST_ABOVE ? want - 100 : 0;
			size_t pad = body ? 0 : want - 80;
			char *s = malloc(256 + body + pad);
			if (!s)
				return vl_fail(eb, VL_ENOMEM, "out of memory");
			int n;
			if (body)
				n = snprintf(s, 256,
					     "POST /r/%s HTTP/1.1\r\nHost: virtlab\r\n"
					     "Content-Length: %zu\r\n\r\n",
					     ty->name, body);
			else
				n = snprintf(
					s, 256,
					"GET /r/%s HTTP/1.1\r\nHost: virtlab\r\nX-Pad: ", ty->name);
			memset(s + n, 'b', body + pad);
			n += (int)(body + pad);
			if (!body)
				n += sprintf(s + n, "\r\n\r\n");
			g->reqs[p][t] = s;
			g->req_len[p][t] = (size_t)n;
		}
	}
	return 0;
}

static void lg_free(lg *g)
{
	for (int i = 0; g->c && i < g->cfg->max_conns; i++)
		if (g->c[i].fd >= 0)
			close(g->c[i].fd);
	for (int p = 0; p < LOAD_MAX_PHASES; p++) {
		hist_destroy(g->ph[p]);
		for (int t = 0; t < MIX_MAX_TYPES; t++)
			free(g->reqs[p][t]);
	}
	hist_destroy(g->all);
	hist_destroy(g->lag);
	hist_destroy(g->rlag);
	free(g->idle);
	free(g->free_);
	free(g->c);
	free(g->q);
	evloop_destroy(g->loop);
}

static void summarize(lg *g, dvload_result *res)
{
	res->p50_s = hist_percentile(g->all, 50);
	res->p95_s = hist_percentile(g->all, 95);
	res->p99_s = hist_percentile(g->all, 99);
	res->mean_s = hist_mean(g->all);
	res->lag_p50_s = hist_percentile(g->lag, 50);
	res->lag_p99_s = hist_percentile(g->lag, 99);
	res->read_lag_p50_s = hist_percentile(g->rlag, 50);
	res->read_lag_p99_s = hist_percentile(g->rlag, 99);
	for (int p = 0; p < g->cfg->nphases; p++) {
		res->phase[p].p50_s = hist_percentile(g->ph[p], 50);
		res->phase[p].p95_s = hist_percentile(g->ph[p], 95);
		res->phase[p].p99_s = hist_percentile(g->ph[p], 99);
	}
}

/* Microseconds from now to the next arrival or the phase's end, whichever
 * is first; range-checked before the conversion (a double past LONG_MAX in
 * a long is undefined behaviour). */
static long due_us(const lg *g, double now)
{
	double us = ceil((fmin(g->next, g->phase_end) - now) * 1e6);
	return !(us > 0) ? 0 : us > 1e9 ? 1000000000 : (long)us;
}

/* Draws every arrival due by now into the backlog; fires again at the next
 * one (rounded up to the us: never early), or ends after the last phase. */
static long arrive(evloop *l, evloop_timer_id id, void *data)
{
	lg *g = data;
	const dvload_cfg *cfg = g->cfg;
	dvload_result *res = g->res;
	double now = evloop_now(l);
	(void)id;
	/* a phase also ends when its time is up with no arrival left in it
	 * (its next one would fall after the end): `browse:0.01:1s` waited for
	 * an arrival drawn at 63 s */
	while (g->cur < cfg->nphases && (g->next <= now || g->phase_end <= now)) {
		while (g->cur < cfg->nphases && g->next >= g->phase_end) {
			if (++g->cur < cfg->nphases) {
				g->next = g->phase_end +
					  rng_exp(&g->r, 1.0 / cfg->phases[g->cur].rate_rps);
				g->phase_end += cfg->phases[g->cur].dur_s;
			}
		}
		if (g->cur >= cfg->nphases || g->next > now)
			break;
		const mix *m = mix_set_find(cfg->mixes, cfg->phases[g->cur].mix);
		const mix_type *ty = mix_pick(m, &g->r);
		size_t t = (size_t)(ty - m->types);
		res->sent++;
		res->phase[g->cur].sent++;
		if (g->qlen == cfg->max_backlog) {
			res->errors++; /* the backlog overflowed: count as failed */
			res->phase[g->cur].errors++;
		} else {
			arrival *a = &g->q[(g->qhead + g->qlen) % cfg->max_backlog];
			*a = (arrival){ g->next, g->cur, g->reqs[g->cur][t],
					g->req_len[g->cur][t] };
			g->qlen++;
			g->q_seq++;
		}
		g->next += rng_exp(&g->r, 1.0 / cfg->phases[g->cur].rate_rps);
	}
	if (g->cur >= cfg->nphases)
		return EVLOOP_TIMER_STOP;
	return due_us(g, now);
}

/* Fails what waited in the backlog, or ran, longer than timeout_s. */
static long expire(evloop *l, evloop_timer_id id, void *data)
{
	lg *g = data;
	const dvload_cfg *cfg = g->cfg;
	dvload_result *res = g->res;
	double now = evloop_now(l);
	(void)id;
	while (g->qlen && now - g->q[g->qhead].t > cfg->timeout_s) {
		/* Nothing could take it in time (server unreachable). */
		res->errors++;
		res->phase[g->q[g->qhead].phase].errors++;
		g->qhead = (g->qhead + 1) % cfg->max_backlog;
		g->qlen--;
	}
	for (int i = 0; i < g->used; i++) {
		lconn *c = &g->c[i];
		if ((c->state == L_BUSY || c->state == L_CONNECTING) &&
		    now - c->t_sent > cfg->timeout_s) {
			finish(g, c, 0, now);
			lclose(g, c);
		}
	}
	return EXPIRE_MS;
}

/* After every turn: the backlog goes to idle connections; the run ends when
 * the last phase is over and nothing waits or runs. */
static void turn_done(evloop *l, void *data)
{
	lg *g = data;
	dispatch(g, evloop_now(l));
	if (g->cur >= g->cfg->nphases && !g->qlen && !g->busy)
		evloop_stop(l);
}

int dvload_run(const dvload_cfg *cfg, volatile sig_atomic_t *stop, dvload_result *res,
	       vl_errbuf *eb)
{
	lg g = { .cfg = cfg, .res = res };
	memset(res, 0, sizeof(*res));
	int err = VL_ENOMEM;
	g.c = calloc((size_t)cfg->max_conns, sizeof(lconn));
	g.idle = calloc((size_t)cfg->max_conns, sizeof(int));
	g.free_ = calloc((size_t)cfg->max_conns, sizeof(int));
	g.q = calloc(cfg->max_backlog, sizeof(arrival));
	g.all = hist_create(1e-6, 7);
	g.lag = hist_create(1e-6, 7);
	g.rlag = hist_create(1e-6, 7);
	for (int p = 0; p < cfg->nphases; p++)
		if (!(g.ph[p] = hist_create(1e-6, 7)))
			goto out;
	if (!g.c || !g.idle || !g.free_ || !g.q || !g.all || !g.lag || !g.rlag)
		goto out;
	for (int i = 0; i < cfg->max_conns; i++) {
		g.c[i].g = &g;
		g.c[i].fd = -1;
		g.c[i].in_free = 1;
		g.free_[g.nfree++] = cfg->max_conns - 1 - i; /* slot 0 is taken first */
	}
	res->conn_cap = (uint64_t)cfg->max_conns;
	if ((err = build_requests(&g, eb)))
		goto out;
	g.loop = evloop_create(eb);
	if (!g.loop) {
		err = VL_EIO;
		goto out;
	}
	g.set.on_message_complete = on_done;
	rng_seed(&g.r, cfg->seed);
	double t0 = wall_seconds();
	g.phase_end = t0 + cfg->phases[0].dur_s;
	g.next = t0 + rng_exp(&g.r, 1.0 / cfg->phases[0].rate_rps);
	err = VL_ENOMEM;
	if (!evloop_timer_add_us(g.loop, due_us(&g, t0), arrive, &g) ||
	    !evloop_timer_add(g.loop, EXPIRE_MS, expire, &g))
		goto out;
	evloop_set_turn_hook(g.loop, turn_done, &g);
	if ((err = evloop_run(g.loop, 0, stop)) < 0) {
		vl_fail(eb, err, "epoll_wait: %s", strerror(errno));
		goto out;
	}
	res->wall_s = wall_seconds() - t0;
	summarize(&g, res);
	err = 0;
out:
	if (err == VL_ENOMEM && eb && !eb->msg[0])
		vl_fail(eb, VL_ENOMEM, "out of memory");
	lg_free(&g);
	return err;
}
