/*
 * loadgen.c — open-loop trace replay; contract in loadgen.h.
 */
#include "dejavu/loadgen.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/parse.h"
#include "core/rng.h"
#include "core/stats.h"
#include "dejavu/net.h"

/* Requests above this many bytes are POSTs with a body (uploads). */
#define POST_ABOVE 2048

enum { L_FREE, L_CONNECTING, L_IDLE, L_BUSY };

typedef struct lconn {
	int fd, state, phase, done;
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
	int ep;
	lconn *c;
	arrival *q;
	size_t qhead, qlen;
	hist *all, *ph[LOAD_MAX_PHASES];
	dvload_result *res;
	http_parser_settings set;
	char *reqs[LOAD_MAX_PHASES][MIX_MAX_TYPES];
	size_t req_len[LOAD_MAX_PHASES][MIX_MAX_TYPES];
} lg;

void dvload_cfg_default(dvload_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->max_conns = 64;
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
		    ph->rate_rps > 1e6)
			return vl_fail(eb, VL_EINVAL,
				       "phase '%.*s': rate '%s' must be in (0, 1e6] req/s",
				       (int)len, p, f[1]);
		if (parse_duration(f[2], &ph->dur_s, &e2) || ph->dur_s <= 0)
			return vl_fail(eb, VL_EINVAL, "phase '%.*s': %s", (int)len, p,
				       ph->dur_s <= 0 && !e2.msg[0] ? "duration must be > 0"
								    : e2.msg);
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

static void lclose(lg *g, lconn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = L_FREE;
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
	} else {
		r->errors++;
		r->phase[c->phase].errors++;
	}
}

static void lwant(lg *g, lconn *c)
{
	uint32_t ev = EPOLLIN;
	if (c->state == L_CONNECTING || c->req_off < c->req_len)
		ev |= EPOLLOUT;
	struct epoll_event e = { .events = ev, .data.ptr = c };
	epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &e);
}

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

/* Hands backlog arrivals to idle or new connections. */
static void dispatch(lg *g, double now)
{
	for (int i = 0; i < g->cfg->max_conns && g->qlen; i++) {
		lconn *c = &g->c[i];
		if (c->state == L_FREE) {
			c->fd = dv_connect_nb(&g->cfg->target);
			if (c->fd < 0)
				continue;
			struct epoll_event e = { .events = EPOLLOUT, .data.ptr = c };
			epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &e);
			c->state = L_CONNECTING;
		} else if (c->state != L_IDLE) {
			continue;
		}
		arrival *a = &g->q[g->qhead];
		g->qhead = (g->qhead + 1) % g->cfg->max_backlog;
		g->qlen--;
		int connecting = c->state == L_CONNECTING;
		c->state = L_BUSY;
		c->phase = a->phase;
		c->req = a->req;
		c->req_len = a->len;
		c->req_off = 0;
		c->t_sched = a->t;
		c->t_sent = now;
		c->done = 0;
		http_parser_init(&c->hp, HTTP_RESPONSE);
		c->hp.data = c;
		if (!connecting)
			lsend(c);
		else
			c->state = L_BUSY; /* sends once the connect completes */
		lwant(g, c);
	}
}

static void levent(lg *g, lconn *c, uint32_t ev, double now)
{
	if (c->state == L_IDLE) { /* server closed an idle connection */
		lclose(g, c);
		return;
	}
	if (ev & EPOLLOUT) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			finish(g, c, 0, now);
			lclose(g, c);
			return;
		}
		lsend(c);
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		char buf[16384];
		ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0)
			http_parser_execute(&c->hp, &g->set, NULL, 0);
		else
			http_parser_execute(&c->hp, &g->set, buf, (size_t)r);
		if (c->done) {
			int ok = c->hp.status_code >= 200 && c->hp.status_code < 300;
			finish(g, c, ok, now);
			if (r <= 0 || !http_should_keep_alive(&c->hp)) {
				lclose(g, c);
				return;
			}
			c->state = L_IDLE;
		} else if (r <= 0 || HTTP_PARSER_ERRNO(&c->hp) != HPE_OK) {
			finish(g, c, 0, now);
			lclose(g, c);
			return;
		}
	}
	lwant(g, c);
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
	free(g->c);
	free(g->q);
	if (g->ep >= 0)
		close(g->ep);
}

static void summarize(lg *g, dvload_result *res)
{
	res->p50_s = hist_percentile(g->all, 50);
	res->p95_s = hist_percentile(g->all, 95);
	res->p99_s = hist_percentile(g->all, 99);
	res->mean_s = hist_mean(g->all);
	for (int p = 0; p < g->cfg->nphases; p++) {
		res->phase[p].p50_s = hist_percentile(g->ph[p], 50);
		res->phase[p].p95_s = hist_percentile(g->ph[p], 95);
		res->phase[p].p99_s = hist_percentile(g->ph[p], 99);
	}
}

int dvload_run(const dvload_cfg *cfg, volatile sig_atomic_t *stop, dvload_result *res,
	       vl_errbuf *eb)
{
	lg g = { .cfg = cfg, .ep = -1, .res = res };
	memset(res, 0, sizeof(*res));
	int err = VL_ENOMEM;
	g.c = calloc((size_t)cfg->max_conns, sizeof(lconn));
	g.q = calloc(cfg->max_backlog, sizeof(arrival));
	g.all = hist_create(1e-6, 7);
	for (int p = 0; p < cfg->nphases; p++)
		if (!(g.ph[p] = hist_create(1e-6, 7)))
			goto out;
	if (!g.c || !g.q || !g.all)
		goto out;
	for (int i = 0; i < cfg->max_conns; i++)
		g.c[i].fd = -1;
	if ((err = build_requests(&g, eb)))
		goto out;
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	g.set.on_message_complete = on_done;
	rng r;
	rng_seed(&r, cfg->seed);
	double t0 = wall_seconds(), phase_end = t0 + cfg->phases[0].dur_s;
	double next = t0 + rng_exp(&r, 1.0 / cfg->phases[0].rate_rps);
	int ph = 0;
	struct epoll_event evs[128];
	for (;;) {
		double now = wall_seconds();
		while (ph < cfg->nphases && next <= now) {
			while (ph < cfg->nphases && next >= phase_end) {
				if (++ph < cfg->nphases) {
					next = phase_end +
					       rng_exp(&r, 1.0 / cfg->phases[ph].rate_rps);
					phase_end += cfg->phases[ph].dur_s;
				}
			}
			if (ph >= cfg->nphases || next > now)
				break;
			const mix *m = mix_set_find(cfg->mixes, cfg->phases[ph].mix);
			const mix_type *ty = mix_pick(m, &r);
			size_t t = (size_t)(ty - m->types);
			res->sent++;
			res->phase[ph].sent++;
			if (g.qlen == cfg->max_backlog) {
				res->errors++; /* the backlog overflowed: count as failed */
				res->phase[ph].errors++;
			} else {
				arrival *a = &g.q[(g.qhead + g.qlen) % cfg->max_backlog];
				*a = (arrival){ next, ph, g.reqs[ph][t], g.req_len[ph][t] };
				g.qlen++;
			}
			next += rng_exp(&r, 1.0 / cfg->phases[ph].rate_rps);
		}
		dispatch(&g, now);
		while (g.qlen && now - g.q[g.qhead].t > cfg->timeout_s) {
			/* Nothing could take it in time (server unreachable). */
			res->errors++;
			res->phase[g.q[g.qhead].phase].errors++;
			g.qhead = (g.qhead + 1) % cfg->max_backlog;
			g.qlen--;
		}
		int busy = g.qlen > 0;
		for (int i = 0; i < cfg->max_conns; i++) {
			lconn *c = &g.c[i];
			if (c->state == L_BUSY || c->state == L_CONNECTING) {
				busy = 1;
				if (now - c->t_sent > cfg->timeout_s) {
					finish(&g, c, 0, now);
					lclose(&g, c);
				}
			}
		}
		if ((ph >= cfg->nphases && !busy) || (stop && *stop))
			break;
		double wait = ph < cfg->nphases ? next - now : 0.01;
		int ms = wait <= 0 ? 0 : wait < 0.001 ? 1 : (int)(wait * 1000);
		if (ms > 10)
			ms = 10;
		int n = epoll_wait(g.ep, evs, 128, ms);
		now = wall_seconds();
		for (int i = 0; i < n; i++)
			levent(&g, evs[i].data.ptr, evs[i].events, now);
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
