/*
 * net.c — socket helpers for the live DejaVu pieces; see net.h.
 */
#include "dejavu/live/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int dv_addr_parse(const char *s, struct sockaddr_in *sa, vl_errbuf *eb)
{
	const char *colon = s ? strrchr(s, ':') : NULL;
	if (!colon || colon == s || (size_t)(colon - s) >= 16)
		return vl_fail(eb, VL_EINVAL, "'%s': expected ADDR:PORT like 127.0.0.1:8080",
			       s ? s : "");
	char host[16];
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return vl_fail(eb, VL_EINVAL, "'%s': '%s' is not an IPv4 address", s, host);
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || errno || port < 0 || port > 65535)
		return vl_fail(eb, VL_EINVAL, "'%s': port must be 0..65535", s);
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

int dv_addr_list_parse(const char *s, struct sockaddr_in *sa, int max, int *n, vl_errbuf *eb)
{
	*n = 0;
	if (!s || !*s)
		return vl_fail(eb, VL_EINVAL,
			       "empty address list; expected ADDR:PORT[,ADDR:PORT...]");
	const char *p = s;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char one[64];
		if (len == 0 || len >= sizeof(one))
			return vl_fail(eb, VL_EINVAL, "'%s': empty or overlong address in list", s);
		if (*n >= max)
			return vl_fail(eb, VL_ERANGE, "'%s': at most %d addresses", s, max);
		memcpy(one, p, len);
		one[len] = '\0';
		int err = dv_addr_parse(one, &sa[*n], eb);
		if (err)
			return err;
		(*n)++;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

char *dv_addr_str(const struct sockaddr_in *sa, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, ntohs(sa->sin_port));
	return buf;
}

int dv_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int dv_listen(const struct sockaddr_in *sa, int backlog, int *port_out, vl_errbuf *eb)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vl_fail(eb, VL_EIO, "socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	char b[32];
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		int e = errno;
		close(fd);
		return vl_fail(eb, VL_EIO, "cannot listen on %s: %s", dv_addr_str(sa, b, sizeof(b)),
			       strerror(e));
	}
	if (listen(fd, backlog) < 0) {
		int e = errno;
		close(fd);
		return vl_fail(eb, VL_EIO, "listen: %s", strerror(e));
	}
	if (port_out) {
		struct sockaddr_in got;
		socklen_t gl = sizeof(got);
		getsockname(fd, (struct sockaddr *)&got, &gl);
		*port_out = ntohs(got.sin_port);
	}
	return fd;
}

int dv_connect_nb(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int dv_connect_block(const struct sockaddr_in *sa, double timeout_s)
{
	int fd = dv_connect_nb(sa);
	if (fd < 0)
		return -1;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r = poll(&p, 1, (int)(timeout_s * 1000));
	int err = 0;
	socklen_t el = sizeof(err);
	if (r <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		close(fd);
		errno = r == 0 ? ETIMEDOUT : (err ? err : errno);
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	struct timeval tv = { .tv_sec = (time_t)timeout_s,
			      .tv_usec = (suseconds_t)((timeout_s - (double)(time_t)timeout_s) *
						       1e6) };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int dv_http_exchange(int fd, const char *method, const char *path, const char *headers,
		     const char *body, char *buf, size_t cap)
{
	size_t blen = body ? strlen(body) : 0, hlen = headers ? strlen(headers) : 0;
	char *req = malloc(blen + hlen + 256);
	if (!req) {
		close(fd);
		return VL_ENOMEM;
	}
	int n = snprintf(req, hlen + 256,
			 "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s"
			 "Content-Length: %zu\r\n\r\n",
			 method, path, headers ? headers : "", blen);
	memcpy(req + n, body ? body : "", blen);
	ssize_t w = send(fd, req, (size_t)n + blen, MSG_NOSIGNAL);
	free(req);
	if (w != (ssize_t)((size_t)n + blen)) {
		close(fd);
		return VL_EIO;
	}
	size_t len = 0;
	for (;;) {
		if (len + 1 >= cap)
			break;
		ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	int status = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return VL_EIO;
	/* Move the body to the front so callers get just it. */
	char *b = strstr(buf, "\r\n\r\n");
	if (b)
		memmove(buf, b + 4, strlen(b + 4) + 1);
	return status;
}

int dv_http_simple(const struct sockaddr_in *sa, const char *method, const char *path,
		   const char *body, double timeout_s, char *buf, size_t cap)
{
	int fd = dv_connect_block(sa, timeout_s);
	if (fd < 0)
		return VL_EIO;
	return dv_http_exchange(fd, method, path, NULL, body, buf, cap);
}

int dv_stamp_arrivals(int fd)
{
	int one = 1;
	return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
}

ssize_t dv_recv_stamped(int fd, void *buf, size_t cap, double now, double *arrived)
{
	char cm[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iv = { buf, cap };
	struct msghdr m = {
		.msg_iov = &iv, .msg_iovlen = 1, .msg_control = cm, .msg_controllen = sizeof(cm)
	};
	ssize_t r = recvmsg(fd, &m, 0);
	*arrived = now;
	struct cmsghdr *h = r > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_TIMESTAMPNS) {
		struct timespec ts, rt;
		memcpy(&ts, CMSG_DATA(h), sizeof(ts));
		clock_gettime(CLOCK_REALTIME, &rt);
		double ago =
			(double)(rt.tv_sec - ts.tv_sec) + (double)(rt.tv_nsec - ts.tv_nsec) * 1e-9;
		double t = wall_seconds() - ago;
		if (ago >= 0 && t < now)
			*arrived = t;
	}
	return r;
}

int dv_accept(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		/* Responses go out in pieces; Nagle + delayed ACK would add 40 ms. */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}
