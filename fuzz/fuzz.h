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
 * harnesses on two cores, under ASan) only stretches turns; it adds no
 * idle ones, so unlike a wall-clock deadline the check cannot fail with
 * load. */
#define FUZZ_TURN_S 0.001
#define FUZZ_IDLE_TURNS 500

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
