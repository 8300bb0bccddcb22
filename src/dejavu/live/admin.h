/*
 * admin.h — the proxy's control plane, as its clients (controller,
 * profiler, process actuator, tests) and the proxy itself see it.
 *
 * The control endpoints (/__dejavu/stats, /fraction, /backends) are served
 * on an admin listener apart from production: a loopback TCP port
 * ("127.0.0.1:PORT", port 0 = the kernel picks) or a Unix socket
 * ("unix:/path", mode 0600). Every control request carries
 * "Authorization: Bearer TOKEN"; anything else gets 401. The production
 * port refuses /__dejavu/ paths with 403.
 *
 * The token (RFC 6750 token68 characters, 16..128 of them) comes from the
 * environment variable VIRTLAB_DEJAVU_TOKEN if set, else the proxy makes
 * one (32 bytes of getrandom, in hex). The proxy writes it to a token file,
 * mode 0600: --admin-token-file PATH, by default dvadm_default_token_path()
 * — $XDG_RUNTIME_DIR (else /tmp)/virtlab-dejavu-admin-PORT.token for TCP,
 * PATH.token for a Unix socket — and removes it when it exits. Clients take
 * the token from --admin-token-file, else the environment variable, else
 * the same default path, so `--admin 127.0.0.1:PORT` alone finds it.
 */
#ifndef VL_DEJAVU_ADMIN_H
#define VL_DEJAVU_ADMIN_H

#include <netinet/in.h>
#include <stddef.h>

#include "core/error.h"

#define DVADM_TOKEN_MIN 16
#define DVADM_TOKEN_MAX 128
#define DVADM_TOKEN_ENV "VIRTLAB_DEJAVU_TOKEN"
#define DVADM_PATH_MAX 108 /* sun_path */

typedef struct dvadm_addr {
	int is_unix;
	struct sockaddr_in in; /* TCP: loopback only */
	char path[DVADM_PATH_MAX];
} dvadm_addr;

/* Where a client finds the control plane: address and token. */
typedef struct dvadm {
	dvadm_addr addr;
	char token[DVADM_TOKEN_MAX + 1];
} dvadm;

/* Parses "A.B.C.D:PORT" (127.0.0.0/8 only: the control plane never faces
 * the network) or "unix:PATH" (absolute or relative, < 108 bytes).
 * VL_EINVAL with a sentence in eb. */
int dvadm_addr_parse(const char *s, dvadm_addr *a, vl_errbuf *eb);

/* "127.0.0.1:PORT" or "unix:PATH" into buf. Returns buf. */
char *dvadm_addr_str(const dvadm_addr *a, char *buf, size_t cap);

/* The default token file for a (its TCP port must be the bound one). */
void dvadm_default_token_path(const dvadm_addr *a, char *buf, size_t cap);

/* 0 if tok is a usable token, else VL_EINVAL saying why. */
int dvadm_token_check(const char *tok, vl_errbuf *eb);

/* A fresh token: 64 hex characters from getrandom(). 0 or VL_EIO. */
int dvadm_token_new(char tok[DVADM_TOKEN_MAX + 1], vl_errbuf *eb);

/* Writes tok to path, mode 0600, replacing a regular file of ours that is
 * there (never following a symlink). 0 or VL_EIO with path and reason. */
int dvadm_token_write(const char *path, const char *tok, vl_errbuf *eb);

/* Reads a token file: refused (VL_EINVAL) if group or others may read it
 * or it does not hold a valid token; VL_ENOENT if it does not exist. */
int dvadm_token_read(const char *path, char tok[DVADM_TOKEN_MAX + 1], vl_errbuf *eb);

/* A client's token: from file if not NULL, else $VIRTLAB_DEJAVU_TOKEN,
 * else the default file of a->addr. 0 or a vl_err naming what was tried. */
int dvadm_token_find(dvadm *a, const char *file, vl_errbuf *eb);

/* The proxy's side: a non-blocking, close-on-exec listener on a (TCP:
 * *port_out gets the bound port; Unix: a stale socket file nobody listens
 * on is replaced, a live one refused, the socket made mode 0600 before
 * listen). fd or a negative vl_err with eb explained. */
int dvadm_listen(const dvadm_addr *a, int *port_out, vl_errbuf *eb);

/* One control request (HTTP/1.1, Connection: close, with the bearer
 * token): the status (> 0), the body NUL-terminated in buf (at most cap-1
 * bytes), or a negative vl_err when the listener cannot be reached. */
int dvadm_request(const dvadm *a, const char *method, const char *path, const char *body,
		  double timeout_s, char *buf, size_t cap);

#endif
