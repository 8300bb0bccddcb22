/*
 * proxy_sweep.c — how the proxy's client connections end other than by a
 * close: the periodic sweep (slow clients 408, silent backends 504, idle
 * keep-alive and stalled readers closed) and the lingering close after an
 * error answer. The event loop is proxy.c; internals shared through
 * proxy_int.h.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "dejavu/live/proxy_int.h"

/* An error answer is out: shut the write side (the client reads the answer
 * and EOF) and drain what it still sends, within LINGER_S / LINGER_BYTES
 * (sweep), before the close; a close with unread input would reset. */
void proxy__linger_start(dvproxy *px, conn *c, double now)
{
	if (c->peer)
		proxy__backend_close(px, c->peer);
	shutdown(c->fd, SHUT_WR);
	c->st = CS_LINGER;
	c->msg_done = 0;
	c->t_linger = now;
	c->lingered = 0;
	proxy__want(px, c);
}

int proxy__input_pending(const conn *c)
{
	int n = 0;
	return ioctl(c->fd, FIONREAD, &n) == 0 && n > 0;
}

void proxy__linger_event(dvproxy *px, conn *c, unsigned ev)
{
	if (!(ev & (EVLOOP_READ | EVLOOP_HUP)))
		return;
	char tmp[READ_CHUNK];
	ssize_t r = recv(c->fd, tmp, sizeof(tmp), 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0 && (c->lingered += (size_t)r) <= LINGER_BYTES)
		return;
	proxy__client_close(px, c); /* EOF, an error, or enough */
}

/* Slow clients and silent backends, checked every tick. */
long proxy__sweep(evloop *l, evloop_timer_id id, void *data)
{
	dvproxy *px = data;
	const dvproxy_cfg *g = &px->cfg;
	double now = evloop_now(l);
	(void)id;
	conn *next;
	for (conn *c = px->clients; c; c = next) {
		next = c->next;
		if (c->st == CS_READING && now - c->t_start > g->request_timeout_s) {
			px->st.timeouts++;
			proxy__client_reply(px, c, 408, "Request Timeout", "text/plain",
					    "request not complete in time\n", 1);
		} else if (c->st == CS_LINGER && now - c->t_linger > LINGER_S) {
			proxy__client_close(px, c);
		} else if (c->st == CS_IDLE && now - c->t_active > g->idle_timeout_s) {
			proxy__client_close(px, c);
		} else if (c->st == CS_FLIGHT && c->peer && c->peer->awaiting &&
			   vl_buf_used(&c->out) < OUT_CAP &&
			   now - c->peer->t_sent > g->backend_timeout_s) {
			/* the backend's silence, as nginx's proxy_read_timeout:
			 * timed from the request, it cut an answer that was
			 * still streaming to a slow reader (one held back by
			 * the client, at OUT_CAP, is the stalled-reader rule's) */
			px->st.timeouts++;
			if (c->peer->fwd) { /* part of the answer went out: cut it */
				proxy__client_close(px, c);
			} else {
				proxy__backend_close(px, c->peer);
				proxy__client_reply(px, c, 504, "Gateway Timeout", "text/plain",
						    "backend did not answer in time\n", 1);
			}
		} else if (vl_buf_used(&c->out) && now - c->t_active > g->idle_timeout_s) {
			proxy__client_close(px, c); /* a client that stopped reading */
		}
	}
	return TICK_MS;
}
