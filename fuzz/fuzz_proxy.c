/*
 * fuzz_proxy.c — the DejaVu proxy's request path (dejavu/proxy.c): HTTP/1.1
 * parsing (request line, headers, Content-Length and chunked bodies,
 * pipelining, Expect) and the control endpoints, through the public API
 * only: a fresh proxy per input (so a control request cannot carry over),
 * its one backend a loopback port the harness holds bound and never
 * listens on (refused for certain: no assumption that nothing else
 * listens on some fixed port). The input goes twice, each time
 * on one client connection which then half-closes: to the production port,
 * and to the admin listener with "Authorization: Bearer TOKEN" inserted
 * after its first line (so the fuzzer reaches the endpoints behind the
 * token; an input with no line end goes as it is and meets 401).
 * Contract: the proxy answers only well-formed responses
 * ("HTTP/1.1 NNN ..." with a code it documents; an interim 100 without a
 * body) and closes the connection once the client is done, without a
 * timer: within FUZZ_IDLE_TURNS loop turns in which nothing happens
 * (fuzz.h: a count of turns, not seconds, so a loaded machine cannot
 * break it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dejavu/live/proxy.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADER 1024

static int known_code(int code)
{
	static const int codes[] = {
		100, 200, 400, 401, 403, 404, 408, 413, 417, 431, 501, 502, 504
	};
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
		if (code == 100) {
			p = hend + 4; /* interim: no body */
			continue;
		}
		const char *cl = memmem(p, (size_t)(hend - p), "Content-Length: ", 16);
		FUZZ_CHECK(cl, "response without Content-Length");
		size_t len = strtoull(cl + 16, NULL, 10);
		FUZZ_CHECK((size_t)(end - hend - 4) >= len, "response body cut");
		p = hend + 4 + len;
	}
}

#define TOKEN "fuzz-token-0123456789"

/* Responses to one input: the most a 64 KiB input asks for is 4096 of the
 * shortest requests http-parser takes ("GET / HTTP/1.1\n\n", 16 bytes) on
 * the admin port, each a 401 of 203 bytes: 832 KB (831 713 bytes measured,
 * after a stats request that carries the token). More is a runaway. */
#define RESP_MAX (1u << 20)

/* Sends data[0..size) on a fresh connection to port, half-closes, reads
 * until the proxy closes (running its loop meanwhile), checks the contract. */
static void exchange(dvproxy *px, int port, const uint8_t *data, size_t size)
{
	int fd = fuzz_connect(port);
	size_t sent = 0, got = 0;
	static char resp[RESP_MAX];
	int eof = 0, shut = 0, idle = 0;
	while (!eof && idle < FUZZ_IDLE_TURNS) {
		size_t before = sent + got;
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
		dvproxy_run(px, FUZZ_TURN_S, NULL); /* a turn or a few */
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
		/* idle: not a byte went either way (the half-close is a byte's
		 * worth: it comes with the last of them) */
		idle = sent + got == before ? idle + 1 : 0;
	}
	FUZZ_CHECK(eof,
		   "connection still open after %d loop turns with no progress (%zu of %zu "
		   "bytes sent%s, %zu received)",
		   idle, sent, size, shut ? " and half-closed" : "", got);
	check_responses(resp, got);
	close(fd);
}

/* A loopback port bound, never listened on, kept for the process: a
 * connect to it is refused, whatever else runs on the machine. */
static struct sockaddr_in refusing_port(void)
{
	static struct sockaddr_in sa;
	if (!sa.sin_port) {
		socklen_t sl = sizeof(sa);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		FUZZ_SETUP(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
				   getsockname(fd, (struct sockaddr *)&sa, &sl) == 0,
			   "a port for the backend");
	}
	return sa;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	dvproxy_cfg cfg;
	dvproxy_cfg_default(&cfg);
	cfg.nbackends = 1;
	cfg.backends[0] = refusing_port(); /* 502 */
	cfg.fraction = 0;
	cfg.max_header = MAX_HEADER;
	cfg.max_body = 4096;
	snprintf(cfg.admin_token, sizeof(cfg.admin_token), "%s", TOKEN);
	dvproxy *px = fuzz_proxy_create(&cfg, 0);
	exchange(px, dvproxy_port(px), data, size);
	static const char auth[] = "Authorization: Bearer " TOKEN "\r\n";
	static uint8_t withauth[65536 + sizeof(auth)];
	const uint8_t *eol = memmem(data, size, "\r\n", 2);
	size_t cut = eol ? (size_t)(eol - data) + 2 : size, n = size;
	memcpy(withauth, data, cut);
	if (eol) {
		memcpy(withauth + cut, auth, sizeof(auth) - 1);
		n += sizeof(auth) - 1;
	}
	memcpy(withauth + cut + (eol ? sizeof(auth) - 1 : 0), data + cut, size - cut);
	exchange(px, dvproxy_admin_port(px), withauth, n);
	dvproxy_destroy(px);
	return 0;
}
