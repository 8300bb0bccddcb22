/*
 * net.h — small socket helpers shared by the live DejaVu pieces (proxy,
 * service, load generator): "ADDR:PORT" parsing restricted to IPv4
 * loopback-style literals, non-blocking listen/connect, and a monotonic
 * clock. Nothing here prints.
 */
#ifndef VL_DEJAVU_NET_H
#define VL_DEJAVU_NET_H

#include "core/clock.h"
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Parses "A.B.C.D:PORT" (port 0..65535; 0 means "pick one" for listen)
 * into *sa. VL_EINVAL with a sentence in eb otherwise. */
int dv_addr_parse(const char *s, struct sockaddr_in *sa, vl_errbuf *eb);

/* Parses a comma-separated list of addresses into sa[0..*n), at most max.
 * VL_EINVAL / VL_ERANGE (too many) with a sentence in eb. */
int dv_addr_list_parse(const char *s, struct sockaddr_in *sa, int max, int *n, vl_errbuf *eb);

/* "127.0.0.1:8080" into buf (>= 24 bytes). Returns buf. */
char *dv_addr_str(const struct sockaddr_in *sa, char *buf, size_t len);

/* A non-blocking, close-on-exec listening TCP socket with SO_REUSEADDR
 * bound to sa (port 0: the kernel picks; *port_out gets the bound port if
 * not NULL). Returns the fd or a negative vl_err with eb explained. */
int dv_listen(const struct sockaddr_in *sa, int backlog, int *port_out, vl_errbuf *eb);

/* Starts a non-blocking connect to sa (TCP_NODELAY set). Returns the fd
 * (connection may still be in progress) or -1 with errno set. */
int dv_connect_nb(const struct sockaddr_in *sa);

/* A blocking connect with a timeout in seconds; fd or -1 (errno set). */
int dv_connect_block(const struct sockaddr_in *sa, double timeout_s);

/* accept4 with non-blocking, close-on-exec; fd or -1. */
int dv_accept(int lfd);

/* Asks the kernel to date what fd receives (SO_TIMESTAMPNS; on a listener,
 * inherited by the accepted sockets). 0 or -1. */
int dv_stamp_arrivals(int fd);

/* recv(fd, buf, cap), plus when the kernel received the data: the newest
 * segment of this read, mapped from CLOCK_REALTIME to the wall_seconds()
 * clock. *arrived = now when fd is not stamped or the clock stepped back
 * (an arrival is never after now). */
ssize_t dv_recv_stamped(int fd, void *buf, size_t cap, double now, double *arrived);

/* Makes fd non-blocking; 0 or -1. */
int dv_nonblock(int fd);

/* One HTTP/1.1 GET or POST over a fresh blocking connection with a
 * timeout: sends the request, reads the whole response (Content-Length or
 * close-delimited; at most cap-1 bytes kept), NUL-terminates into buf.
 * Returns the status code (> 0) or a negative vl_err. For control
 * endpoints and tests, not for load. */
int dv_http_simple(const struct sockaddr_in *sa, const char *method, const char *path,
		   const char *body, double timeout_s, char *buf, size_t cap);

/* The same exchange on a connected blocking socket fd (closed here), with
 * extra header lines (each ending in CRLF; NULL for none). */
int dv_http_exchange(int fd, const char *method, const char *path, const char *headers,
		     const char *body, char *buf, size_t cap);

#endif
