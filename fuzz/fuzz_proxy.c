/*
 * fuzz_proxy.c — the DejaVu proxy's request path (dejavu/proxy.c): HTTP/1.1
 * parsing (request line, headers, Content-Length and chunked bodies,
 * pipelining) and the control endpoints, through the public API only: a
 * fresh proxy per input (so a control request cannot carry over), its one
 * backend a closed loopback port, the input sent on one client connection
 * which then half-closes.
 * Contract: the proxy answers only well-formed responses
 * ("HTTP/1.1 NNN ..." with a code it documents) and closes the connection
 * once the client is done, within two seconds (no input keeps a connection,
 * or the proxy, busy).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "dejavu/live/proxy.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADER 1024

static int known_code(int code)
{
	static const int codes[] = { 200, 400, 404, 408, 413, 431, 501, 502, 504 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (code == codes[i])
			return 1;
	return 0;
}

/* Every response in buf[0..n) starts "HTTP/1.1 NNN " with a known code. */
static void check_responses(const char *buf, size_t n)
{
	const char *p = buf, *end = buf + n;
	while (p < end) {
		FUZZ_CHECK(end - p >= 13 && !memcmp(p, "HTTP/1.1 ", 9),
			   "response does not start with a status line: '%.20s'", p);
		int code = atoi(p + 9);
		FUZZ_CHECK(known_code(code), "status %d", code);
		const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		FUZZ_CHECK(hend, "response headers not terminated");
		const char *cl = memmem(p, (size_t)(hend - p), "Content-Length: ", 16);
		FUZZ_CHECK(cl, "response without Content-Length");
		size_t len = strtoull(cl + 16, NULL, 10);
		FUZZ_CHECK((size_t)(end - hend - 4) >= len, "response body cut");
		p = hend + 4 + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	dvproxy_cfg cfg;
	dvproxy_cfg_default(&cfg);
	cfg.nbackends = 1;
	cfg.backends[0].sin_family = AF_INET;
	cfg.backends[0].sin_port = htons(1); /* nothing listens: 502 */
	cfg.backends[0].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg.fraction = 0;
	cfg.max_header = MAX_HEADER;
	cfg.max_body = 4096;
	vl_errbuf eb;
	dvproxy *px = dvproxy_create(&cfg, &eb);
	if (!px)
		abort();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)dvproxy_port(px)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	fcntl(fd, F_SETFL, O_NONBLOCK);
	size_t sent = 0, got = 0;
	static char resp[1 << 20];
	int eof = 0, shut = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (double el = 0; el < 2 && !eof;) {
		while (sent < size) {
			ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (w <= 0)
				break;
			sent += (size_t)w;
		}
		if (sent == size && !shut) {
			shutdown(fd, SHUT_WR);
			shut = 1;
		}
		dvproxy_run(px, 0.001, NULL); /* a turn or a few */
		for (;;) {
			ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
			if (r > 0) {
				got += (size_t)r;
				FUZZ_CHECK(got < sizeof(resp) - 1, "over 1 MiB of responses");
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				eof = 1; /* closed, or reset after a refusal */
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9;
	}
	FUZZ_CHECK(eof,
		   "connection still open two seconds after the client finished (%zu of %zu "
		   "bytes sent)",
		   sent, size);
	check_responses(resp, got);
	close(fd);
	dvproxy_destroy(px);
	return 0;
}
