/*
 * fuzz_proxy_answer.c — the DejaVu proxy's answer path (src/dejavu/live/:
 * proxy.c, proxy_strict.c): the input is what the backend answers. A fresh
 * proxy per input, in front of a backend socket this harness serves
 * itself between the proxy's loop turns: it reads the forwarded request,
 * writes the input, and closes. The client sends one GET with
 * "Connection: close". Contract: the proxy never crashes or leaks (ASan),
 * whatever it passes on starts with a status line ("HTTP/1.x "), an
 * answer it refuses before any of it went out gets the proxy's own 502,
 * whole (a backend's own 502 is passed on as framed), and the
 * exchange never stalls: nothing in it waits on a timer, so it ends with
 * no more than FUZZ_IDLE_TURNS loop turns in a row in which nothing
 * happens (fuzz.h: turns, not seconds, so a loaded machine cannot break
 * it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dejavu/live/proxy.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The backend's listener, one for the run (a fresh one an input would bind
 * a port an input; fuzz.h, fuzz_proxy_create): before each input, any
 * connection a past proxy left in its queue is taken and closed. */
static struct sockaddr_in backend(int *lfd_out)
{
	static int lfd = -1;
	static struct sockaddr_in sa;
	if (lfd < 0) {
		socklen_t sl = sizeof(sa);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		FUZZ_SETUP(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
				   listen(lfd, 4) == 0 &&
				   getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0,
			   "a port for the backend");
	}
	for (int fd; (fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0;)
		close(fd);
	*lfd_out = lfd;
	return sa;
}

/* How far the exchange has come: its steps (request sent, backend
 * connected, request seen, backend closed) and the bytes either way; a turn
 * that leaves it unchanged is idle. bfd: -1 not connected, -2 closed. */
static size_t progress(int sent_req, int bfd, int answered, size_t bsent, size_t got)
{
	return (size_t)(sent_req + (bfd != -1) + answered + (bfd == -2)) + bsent + got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	int lfd;
	dvproxy_cfg cfg;
	dvproxy_cfg_default(&cfg);
	cfg.nbackends = 1;
	cfg.backends[0] = backend(&lfd);
	cfg.fraction = 0;
	snprintf(cfg.admin_token, sizeof(cfg.admin_token), "%s", "fuzz-token-0123456789");
	dvproxy *px = fuzz_proxy_create(&cfg, 1);
	int cfd = fuzz_connect(dvproxy_port(px));
	static const char req[] = "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	int bfd = -1, sent_req = 0, answered = 0, eof = 0, idle = 0;
	size_t got = 0, bsent = 0;
	static char resp[1 << 20];
	while (!eof && idle < FUZZ_IDLE_TURNS) {
		size_t before = progress(sent_req, bfd, answered, bsent, got);
		if (!sent_req && send(cfd, req, sizeof(req) - 1, MSG_NOSIGNAL) > 0)
			sent_req = 1;
		dvproxy_run(px, FUZZ_TURN_S, NULL);
		if (bfd == -1)
			bfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (bfd >= 0 && !answered) {
			char buf[4096];
			if (recv(bfd, buf, sizeof(buf), 0) > 0)
				answered = 1; /* the request came: answer it */
		}
		int gone = 0; /* the proxy closed its side first */
		while (answered && bfd >= 0 && bsent < size) {
			ssize_t w = send(bfd, data + bsent, size - bsent, MSG_NOSIGNAL);
			if (w <= 0) {
				gone = w < 0 && (errno == EPIPE || errno == ECONNRESET);
				break;
			}
			bsent += (size_t)w;
		}
		if (answered && bfd >= 0 && (bsent == size || gone)) {
			close(bfd); /* the whole input, then EOF */
			bfd = -2;
		}
		for (;;) {
			ssize_t r = recv(cfd, resp + got, sizeof(resp) - 1 - got, 0);
			if (r > 0) {
				got += (size_t)r;
				FUZZ_CHECK(got < sizeof(resp) - 1, "over 1 MiB passed on");
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				eof = 1;
			break;
		}
		idle = progress(sent_req, bfd, answered, bsent, got) == before ? idle + 1 : 0;
	}
	FUZZ_CHECK(eof,
		   "client not finished after %d loop turns with no progress (backend %s, %zu of "
		   "%zu bytes answered, %zu passed on)",
		   idle,
		   bfd == -2  ? "closed"
		   : answered ? "answering"
		   : bfd >= 0 ? "connected, no request"
		   : sent_req ? "never connected"
			      : "-",
		   bsent, size, got);
	resp[got] = '\0';
	FUZZ_CHECK(!got || (got >= 9 && !memcmp(resp, "HTTP/1.", 7) && resp[8] == ' '),
		   "passed on without a status line: '%.20s'", resp);
	/* Only the proxy's own 502 must be whole: a backend's 502 passes through
	 * as framed (close-delimited, chunked, cut short), and a backend that
	 * sends the proxy's exact head proves nothing either way. Bytes, not
	 * strlen: a passed-on body may hold NULs. */
	static const char own[] =
		"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: ";
	size_t ol = sizeof(own) - 1;
	if (got >= ol && !memcmp(resp, own, ol) && !(size >= ol && !memcmp(data, own, ol))) {
		const char *body = memmem(resp, got, "\r\n\r\n", 4);
		size_t have = body ? got - (size_t)(body + 4 - resp) : 0;
		FUZZ_CHECK(body && have == strtoul(resp + ol, NULL, 10),
			   "the proxy's 502 not whole (%zu body bytes): '%.60s'", have, resp);
	}
	close(cfd);
	if (bfd >= 0)
		close(bfd);
	dvproxy_destroy(px);
	return 0;
}
