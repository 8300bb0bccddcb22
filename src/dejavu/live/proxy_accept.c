/*
 * proxy_accept.c — the proxy's listeners: a new client connection (from
 * the production listener, proxy.c, or the admin one, here), and what
 * happens when accept4 fails for want of file descriptors — the listener
 * rests instead of spinning. Internals shared through proxy_int.h.
 */
#include <errno.h>
#include <http_parser.h>
#include <unistd.h>

#include "dejavu/live/net.h"
#include "dejavu/live/proxy_int.h"

conn *proxy__client_add(dvproxy *px, int fd, int admin, double now)
{
	conn *c = proxy__conn_new(px, K_CLIENT, fd);
	if (!c) {
		close(fd);
		return NULL;
	}
	http_parser_init(&c->hp, HTTP_REQUEST);
	c->hp.data = c;
	c->st = CS_IDLE;
	c->admin = admin;
	c->t_active = now;
	c->rx[0].t = now; /* the first request's latency starts here */
	c->nrx = 1;
	c->next = px->clients;
	if (c->next)
		c->next->prev = c;
	px->clients = c;
	proxy__want(px, c);
	return c;
}

void proxy__admin_accept(evloop *l, int lfd, unsigned ev, void *data)
{
	dvproxy *px = data;
	(void)ev;
	for (;;) {
		int fd = dv_accept(lfd); /* TCP_NODELAY fails harmlessly on a Unix socket */
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				proxy__accept_failed(px, 2);
			return;
		}
		proxy__client_add(px, fd, 1, evloop_now(l));
	}
}

static long accept_resume(evloop *l, evloop_timer_id id, void *data)
{
	dvproxy *px = data;
	(void)l, (void)id;
	if ((px->paused & 1) && evloop_fd_mod(px->loop, px->lfd, EVLOOP_READ) < 0)
		proxy__loop_failed(px, VL_EIO);
	if ((px->paused & 2) && evloop_fd_mod(px->loop, px->afd, EVLOOP_READ) < 0)
		proxy__loop_failed(px, VL_EIO);
	px->paused = 0;
	return EVLOOP_TIMER_STOP; /* accept fails again: it pauses again */
}

/* accept4 failed with EMFILE/ENFILE (or ENOBUFS/ENOMEM): the pending
 * connection stays in the backlog and the listener stays readable, so a
 * level-triggered loop would call accept again at once, forever. Instead
 * the listener leaves the epoll set for ACCEPT_RETRY_MS; connections that
 * close meanwhile give their fds back. */
void proxy__accept_failed(dvproxy *px, int bit)
{
	if (px->paused & bit)
		return;
	px->st.accept_paused++;
	if (evloop_fd_mod(px->loop, bit == 1 ? px->lfd : px->afd, 0) < 0) {
		proxy__loop_failed(px, VL_EIO);
		return;
	}
	if (!px->paused && !evloop_timer_add(px->loop, ACCEPT_RETRY_MS, accept_resume, px)) {
		proxy__loop_failed(px, VL_ENOMEM);
		return;
	}
	px->paused |= bit;
}
