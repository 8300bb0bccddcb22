/*
 * fuzz.h — shared by the libFuzzer harnesses in fuzz/.
 *
 * One harness a parser: LLVMFuzzerTestOneInput feeds the input to it and
 * checks its contract, not only memory safety (ASan + UBSan do that): an
 * accepted input respects every documented limit and holds only finite
 * numbers, a refused one says why, naming the input ("NAME:LINE: ..."). A
 * broken contract is FUZZ_CHECK -> abort(), which libFuzzer reports as a
 * crash with the input saved. `make fuzz FUZZ_SECONDS=N` builds and runs
 * them all (tools/fuzz.sh).
 */
#ifndef VL_FUZZ_H
#define VL_FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: contract broken: %s: ", __FILE__, __LINE__,        \
				#cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* What a harness needs from the machine (a socket, a free port, a proxy
 * bound): a failure is no finding of the code under test, and says so, with
 * errno, rather than abort() without a word. */
#define FUZZ_SETUP(cond, what)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: harness setup failed (not a finding): %s: %s\n",   \
				__FILE__, __LINE__, what, strerror(errno));                        \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* How long a harness that drives an event loop in its own thread (the
 * proxy's: dvproxy_run(px, FUZZ_TURN_S) between its own socket calls) waits
 * for it: in turns without progress, not in seconds. On loopback every byte
 * a side sends is there for the other when send() returns, so a proxy that
 * does what it promises — react to each event, nothing left to a timer —
 * makes progress in every turn or the next (at most 1 idle turn, measured
 * over every seed and a fuzzed corpus). A turn lasts at least FUZZ_TURN_S,
 * so FUZZ_IDLE_TURNS idle turns are at least 0.5 s on an idle machine,
 * where the proxy's shortest timer, its 2 s lingering close, needs about
 * 2000: a connection that only a timer ends is caught. Load (CI runs two
 * harnesses on two cores, under ASan) stretches turns but adds no idle
 * ones; only a loopback delivery the kernel defers (to ksoftirqd) for 500
 * turns, at least 0.5 s, could, where a wall-clock deadline fails as soon
 * as the process is starved that long. */
#define FUZZ_TURN_S 0.001
#define FUZZ_IDLE_TURNS 500

#ifdef VL_DEJAVU_PROXY_H
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

/* A proxy for one input, or a setup failure. Where the proxy closes first
 * (fuzz_proxy_answer: its client asked "Connection: close"), its side keeps
 * each connection in TIME_WAIT for 60 s on its listener's port, and an
 * automatic bind (port 0) never picks a port that holds one, SO_REUSEADDR
 * or not: binding fresh ports an input, fuzz_proxy_answer ran a 300-port
 * range dry in 150 inputs (a network namespace with ip_local_port_range
 * 40000 40299), and the full range (28 232) runs dry at some 235 inputs a
 * second sustained; this machine, loaded, did 143. With keep_ports, every
 * proxy after the first listens on the ports the last one had (an explicit
 * bind, with the listeners' SO_REUSEADDR, is allowed beside TIME_WAITs; the
 * same namespace then ran 15 592 inputs in 40 s), and takes new ones only
 * if someone else took those. Where the client closes first (fuzz_proxy's
 * half-close), the TIME_WAITs are the client's, on ports connect() picks:
 * there fixed proxy ports would make connect() run out instead (298 inputs
 * in that namespace), and fresh ones last (15 190 inputs in 40 s). */
static inline dvproxy *fuzz_proxy_create(dvproxy_cfg *cfg, int keep_ports)
{
	static in_port_t port, aport; /* network order; 0 before the first */
	cfg->listen.sin_port = keep_ports ? port : 0;
	cfg->admin.in.sin_port = keep_ports ? aport : 0;
	vl_errbuf eb;
	dvproxy *px = dvproxy_create(cfg, &eb);
	if (!px && keep_ports && port) {
		cfg->listen.sin_port = cfg->admin.in.sin_port = 0;
		px = dvproxy_create(cfg, &eb);
	}
	if (!px)
		fprintf(stderr, "dvproxy_create: %s\n", eb.msg);
	FUZZ_SETUP(px, "a proxy");
	port = htons((uint16_t)dvproxy_port(px));
	aport = htons((uint16_t)dvproxy_admin_port(px));
	return px;
}

/* A non-blocking client connection to 127.0.0.1:port, connected: the
 * handshake is the kernel's (the listener's backlog, not the proxy's loop),
 * so it is waited for here, never counted against the proxy's turns (a SYN
 * that meets an old TIME_WAIT can take a 1 s retransmission). */
static inline int fuzz_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0;
	FUZZ_SETUP(fd >= 0, "client socket");
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		FUZZ_SETUP(errno == EINPROGRESS, "connect to the proxy");
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		while (poll(&p, 1, -1) < 0)
			FUZZ_SETUP(errno == EINTR, "poll");
		socklen_t el = sizeof(err);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		errno = err;
		FUZZ_SETUP(!err, "connect to the proxy");
	}
	return fd;
}
#endif

/* The input as a NUL-terminated string (malloc'd; the caller frees), the
 * way every text loader sees a file once vl_read_text has refused NULs: a
 * NUL in the input ends it here, as it would have been refused there. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A file holding the input, for loaders that take a path: an in-memory
 * file (memfd) named by its /proc/self/fd path in *path. Returns the fd to
 * close, or aborts. */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t n)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	for (size_t off = 0; off < size;) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	snprintf(path, n, "/proc/self/fd/%d", fd);
	return fd;
}

/* A refusal names its input: "NAME:..." in eb. */
static inline void fuzz_names(const vl_errbuf *eb, const char *name)
{
	FUZZ_CHECK(!strncmp(eb->msg, name, strlen(name)) && eb->msg[strlen(name)] == ':',
		   "message '%s' does not start with '%s:'", eb->msg, name);
}

/* A parser's error is one of the documented input errors. */
static inline int fuzz_input_error(int err)
{
	return err == VL_EINVAL || err == VL_ERANGE || err == VL_ENOENT;
}

#endif
