/*
 * proxy_side.c — the proxy's side business, next to forwarding (proxy.c):
 * per-request features and the profiler's fire-and-forget copies. The
 * control endpoints are proxy_ctl.c. Internals shared through proxy_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dejavu/live/net.h"
#include "dejavu/live/proxy_int.h"

void proxy__count_features(dvproxy *px, conn *c)
{
	dvproxy_stats *s = &px->st;
	s->requests++;
	if (c->hp.method == HTTP_GET)
		s->method_get++;
	else if (c->hp.method == HTTP_POST)
		s->method_post++;
	else
		s->method_other++;
	/* Path class = the path without its query, cut at 23 bytes. */
	char seg[24];
	const char *p = c->path[0] == '/' ? c->path + 1 : c->path;
	size_t k = 0;
	while (p[k] && p[k] != '?' && k < sizeof(seg) - 1) {
		seg[k] = p[k];
		k++;
	}
	seg[k] = '\0';
	int slot = DV_PATH_CLASSES - 1;
	for (int i = 0; i < DV_PATH_CLASSES - 1; i++) {
		if (!s->path_name[i][0]) {
			memcpy(s->path_name[i], seg, k + 1);
			slot = i;
			break;
		}
		if (!strcmp(s->path_name[i], seg)) {
			slot = i;
			break;
		}
	}
	if (slot == DV_PATH_CLASSES - 1)
		strcpy(s->path_name[slot], "other");
	s->path_count[slot]++;
}

/* ---- the profiler side: fire and forget ---- */

void proxy__prof_drop(dvproxy *px, int i)
{
	proxy__conn_free(px, px->prof[i]);
	px->prof[i] = NULL;
}

void proxy__duplicate(dvproxy *px, const char *req, size_t len, int head, double now)
{
	if (!px->cfg.has_profiler || px->cfg.fraction <= 0)
		return;
	if (px->cfg.fraction < 1.0 && rng_uniform(&px->r) >= px->cfg.fraction)
		return;
	if (now < px->prof_retry_at) {
		px->st.dup_dropped++;
		return;
	}
	int slot = -1;
	for (int i = 0; i < px->cfg.profiler_conns; i++) {
		conn *p = px->prof[i];
		if (p && !p->awaiting) {
			slot = i;
			break;
		}
		if (!p && slot < 0)
			slot = -2 - i; /* remember a free slot, prefer live idle ones */
	}
	if (slot == -1) {
		px->st.dup_dropped++;
		return;
	}
	if (slot <= -2) {
		slot = -2 - slot;
		int fd = dv_connect_nb(&px->cfg.profiler);
		conn *p = fd < 0 ? NULL : proxy__conn_new(px, K_PROF, fd);
		if (!p) {
			if (fd >= 0)
				close(fd);
			px->prof_retry_at = now + PROF_RETRY_S;
			px->st.dup_dropped++;
			return;
		}
		p->connecting = 1;
		px->prof[slot] = p;
	}
	conn *p = px->prof[slot];
	http_parser_init(&p->hp, HTTP_RESPONSE);
	p->hp.data = p;
	p->awaiting = 1;
	p->resp_done = p->got_bytes = 0;
	p->fwd = 0; /* bytes of its answer read */
	p->head = head;
	p->t_sent = now;
	if (vl_buf_put(&p->out, req, len) < 0 || proxy__flush(p) < 0) {
		proxy__prof_drop(px, slot);
		px->st.dup_dropped++;
		return;
	}
	px->st.dup_sent++;
	proxy__want(px, p);
}

void proxy__prof_event(dvproxy *px, conn *p, unsigned ev)
{
	int i = 0;
	while (i < PROF_MAX && px->prof[i] != p)
		i++;
	if (!p->awaiting && (ev & (EVLOOP_HUP | EVLOOP_READ))) {
		proxy__prof_drop(px, i);
		return;
	}
	if (p->connecting && (ev & (EVLOOP_WRITE | EVLOOP_HUP))) {
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			px->prof_retry_at = wall_seconds() + PROF_RETRY_S;
			px->st.dup_dropped++;
			proxy__prof_drop(px, i);
			return;
		}
		p->connecting = 0;
	}
	if (proxy__flush(p) < 0) {
		proxy__prof_drop(px, i);
		return;
	}
	if (ev & (EVLOOP_READ | EVLOOP_HUP)) {
		char tmp[READ_CHUNK];
		ssize_t r = recv(p->fd, tmp, sizeof(tmp), 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		size_t cap =
			2 * px->answer_max > PROF_ANSWER_MIN ? 2 * px->answer_max : PROF_ANSWER_MIN;
		if (r > 0 && (p->fwd += (size_t)r) > cap) {
			px->st.dup_dropped++; /* flooding: costs production no more */
			proxy__prof_drop(px, i);
			return;
		}
		if (r <= 0)
			http_parser_execute(&p->hp, &px->resp_set, NULL, 0);
		else
			http_parser_execute(&p->hp, &px->resp_set, tmp, (size_t)r);
		if (p->resp_done) {
			px->st.dup_done++;
			hist_add(px->plat, wall_seconds() - p->t_sent);
			p->awaiting = 0;
			if (r <= 0 || !http_should_keep_alive(&p->hp)) {
				proxy__prof_drop(px, i);
				return;
			}
		} else if (r <= 0 || HTTP_PARSER_ERRNO(&p->hp) != HPE_OK) {
			proxy__prof_drop(px, i);
			return;
		}
	}
	proxy__want(px, p);
}
