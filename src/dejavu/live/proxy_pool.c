/*
 * proxy_pool.c — the proxy's idle upstream connections, shared by all
 * clients (as nginx's `upstream { keepalive N; }`); contract in
 * proxy_int.h. A pooled connection has no client: any event on it (the
 * backend closing it, or bytes nobody asked for) closes it (proxy.c,
 * backend_event).
 */
#include <string.h>

#include "dejavu/live/proxy_int.h"

static int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* Removes pool[i], keeping the order (oldest first). */
static void pool_remove(dvproxy *px, int i)
{
	px->pool[i]->pooled = 0;
	memmove(&px->pool[i], &px->pool[i + 1], (size_t)(px->npool - i - 1) * sizeof(conn *));
	px->npool--;
}

conn *proxy__pool_take(dvproxy *px, const struct sockaddr_in *sa)
{
	for (int i = px->npool - 1; i >= 0; i--) /* the most recently used: warm */
		if (same_addr(&px->pool[i]->to, sa)) {
			conn *b = px->pool[i];
			pool_remove(px, i);
			return b;
		}
	return NULL;
}

int proxy__pool_put(dvproxy *px, conn *b)
{
	if (b->dead || b->awaiting || b->connecting || !b->reused || vl_buf_used(&b->out))
		return -1;
	if (px->npool == POOL_MAX) {
		conn *old = px->pool[0];
		pool_remove(px, 0);
		proxy__conn_free(px, old);
	}
	b->peer = NULL;
	b->pooled = 1;
	px->pool[px->npool++] = b;
	proxy__want(px, b);
	return 0;
}

void proxy__pool_drop(dvproxy *px, conn *b)
{
	for (int i = 0; i < px->npool; i++)
		if (px->pool[i] == b) {
			pool_remove(px, i);
			return;
		}
}

void proxy__pool_close_all(dvproxy *px)
{
	while (px->npool) {
		conn *b = px->pool[px->npool - 1];
		pool_remove(px, px->npool - 1);
		proxy__conn_free(px, b);
	}
}
