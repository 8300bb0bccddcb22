/*
 * test_bounds.c — every input bounded in memory and time.
 *
 * Each test feeds the real binary (or the parser) a small input once
 * found taking a run down or running something other than what was given,
 * and checks it is refused up front: exit 2 with the file and line (or the
 * option), the value and the limit. Before the fix these ran for minutes,
 * took gigabytes or hit undefined behaviour; tests/timeouts holds this
 * program to a minute, so a regression fails by name instead of hanging.
 */
#include "vl_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/parse.h"
#include "dejavu/live/proxy.h"
#include "dejavu/live/loadgen.h"
#include "dejavu/learn/mix.h"
#include "dejavu/sim/trace.h"
#include "hyperwall/script.h"
#include "regsched/topo.h"

static char dir[] = "/tmp/vlboundsXXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return vl_rm_rf(dir);
}

/* dir/name holding len bytes of data (NULs included); returns the path in a
 * static buffer (one at a time). */
static const char *put(const char *name, const char *data, size_t len)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *puts_file(const char *name, const char *text)
{
	return put(name, text, strlen(text));
}

/* Runs virtlab with args (a printf format over one path); the exit must be
 * want and stderr must hold every needle. */
static void expect(const char *fmt, const char *path, int want, const char *const *needles)
{
	char args[1024];
	snprintf(args, sizeof(args), fmt, path);
	int st;
	char *err = NULL;
	char *out = vl_run_cli(args, &st, &err);
	if (st != want)
		fail_msg("virtlab %s: exit %d (want %d), stderr '%s'", args, st, want, err);
	for (; needles && *needles; needles++)
		if (!strstr(err, *needles))
			fail_msg("virtlab %s: stderr '%s' lacks '%s'", args, err, *needles);
	free(out);
	free(err);
}

#define NEEDLES(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* (1) a 53-byte trace spanning 31 years ran for minutes at 590 MB; from
 * 1e300 the seconds -> size_t conversion was undefined behaviour. */
static void test_trace_span(void **state)
{
	(void)state;
	static const char *const far[] = { "1e9", "1e10", "1e300" };
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text),
			 "t_seconds,rate_rps,mix_name\n0,100,browse\n%s,100,browse\n", far[i]);
		const char *p = puts_file("far.csv", text);
		expect("dejavu sim --trace %s", p, 2,
		       NEEDLES("far.csv:3: t_seconds", "2678400 s (31 days)"));
	}
	/* the bound is on the span, not on the times: a late start is fine */
	mix_set *ms = mix_set_create();
	assert_non_null(ms);
	vl_errbuf eb;
	trace *t = trace_parse_csv("t_seconds,rate_rps,mix_name\n1e9,100,browse\n"
				   "1000003600,100,browse\n",
				   "late.csv", ms, &eb);
	assert_non_null(t);
	assert_near(t->duration, 7200, 1e-6);
	trace_destroy(t);
	/* exactly 31 days (the last row holds as long as the gap before it) */
	t = trace_parse_csv("t_seconds,rate_rps,mix_name\n0,1,browse\n1339200,1,browse\n",
			    "month.csv", ms, &eb);
	assert_non_null(t);
	assert_near(t->duration, TRACE_MAX_SPAN_S, 1e-6);
	trace_destroy(t);
	/* a row inside the month whose hold reaches past it */
	t = trace_parse_csv("t_seconds,rate_rps,mix_name\n0,1,browse\n1339201,1,browse\n",
			    "hold.csv", ms, &eb);
	assert_null(t);
	assert_non_null(strstr(eb.msg, "hold.csv:3:"));
	mix_set_destroy(ms);
}

/* (2) `l2 size=64G` made a 1 ms run allocate 1 GB; 64 cores of 1 GiB L2s
 * passed 6 GB, and the error blamed --sample-sets. */
static void test_topology_sizes(void **state)
{
	(void)state;
	const char *p = puts_file("big.topo", "name big\nfreq_ghz 2\nl2 size=64G ways=8 line=64\n"
					      "llc 0 size=12M ways=16 line=64 cores=0-5\n"
					      "latency l2=10 llc=40 remote_llc=100 mem=200\n");
	expect("regsched run --duration 1ms --topology %s", p, 2,
	       NEEDLES("big.topo:3: size=64G", "68719476736 bytes", "limit of 1 GiB"));
	p = puts_file("wide.topo", "name wide\nfreq_ghz 2\nl2 size=1G ways=8 line=64\n"
				   "llc 0 size=12M ways=16 line=64 cores=0-63\n"
				   "latency l2=10 llc=40 remote_llc=100 mem=200\n");
	expect("regsched run --duration 1ms --topology %s", p, 2,
	       NEEDLES("wide.topo:5: the caches hold 134230016 sets", "limit is 4194304 sets"));
	/* the built-ins are well inside both limits */
	static const char *const names[] = { "westmere-2llc", "epyc-8ccx", "single-llc" };
	for (size_t i = 0; i < 3; i++) {
		topo t;
		vl_errbuf eb;
		assert_int_equal(topo_builtin(names[i], &t, &eb), 0);
	}
}

/* (3) "1e308h" parsed as infinity; every bounded option refused it, but
 * --phases ran until killed. */
static void test_duration_overflow(void **state)
{
	(void)state;
	double s;
	vl_errbuf eb;
	static const char *const huge[] = { "1e308h", "1e307m", "3e307min", "1.7e308s" };
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		s = -1;
		int err = parse_duration(huge[i], &s, &eb);
		if (i < 3) {
			assert_int_equal(err, VL_ERANGE);
			assert_non_null(strstr(eb.msg, "too large"));
			assert_near(s, -1, 0);
		} else {
			assert_int_equal(err, 0); /* large but finite: each caller bounds it */
		}
	}
	expect("dejavu load --target 127.0.0.1:9 --phases %s", "browse:1:1e308h", 2,
	       NEEDLES("--phases", "'1e308h': too large"));
}

/* (3) --phases: `browse:1:1e308h` ran until killed, `browse:1e-7:1s`
 * overflowed a double -> int conversion and blocked in epoll_wait,
 * `browse:0.01:1s` ran 63 s; a zero duration's message read an
 * uninitialised buffer (now its own check, "duration 0 s must be in"). */
static void test_phase_bounds(void **state)
{
	(void)state;
	mix_set *ms = mix_set_create();
	assert_non_null(ms);
	static const struct {
		const char *spec, *want;
	} bad[] = {
		{ "browse:1:1e308h", "'1e308h': too large" },
		{ "browse:1e-7:1s", "1e-07 requests; a phase needs at least 1" },
		{ "browse:0.01:1s", "0.01 requests; a phase needs at least 1" },
		{ "browse:1:1e306", "duration 1e+306 s must be in (0, 604800] s" },
		{ "browse:1:0s", "duration 0 s must be in" },
		{ "mixed:1e6:1h", "3.6e+09 requests; the limit is 1000000000" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dvload_cfg c;
		dvload_cfg_default(&c);
		vl_errbuf eb;
		assert_int_not_equal(dvload_parse_phases(&c, ms, bad[i].spec, &eb), 0);
		if (!strstr(eb.msg, bad[i].want))
			fail_msg("%s: '%s' lacks '%s'", bad[i].spec, eb.msg, bad[i].want);
		expect("dejavu load --target 127.0.0.1:9 --phases %s", bad[i].spec, 2,
		       NEEDLES(bad[i].want));
	}
	dvload_cfg c;
	dvload_cfg_default(&c);
	vl_errbuf eb;
	assert_int_equal(dvload_parse_phases(&c, ms, "browse:1:1s,search:1e6:1000s", &eb), 0);
	assert_int_equal(c.nphases, 2);
	mix_set_destroy(ms);
}

/* (4) an 80 k-line script took 6.8 s to parse: every VM name was looked up
 * by a scan of all VMs. Counted, not timed: the name table's probes. */
static void test_script_linear(void **state)
{
	(void)state;
	enum { NVM = 50000 };
	size_t cap = (size_t)NVM * 64, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i < NVM; i++)
		len += (size_t)snprintf(text + len, cap - len, "vm create vm%d pages=1\n", i);
	for (int i = 0; i < NVM; i++)
		len += (size_t)snprintf(text + len, cap - len, "vm write vm%d 0 %d\n", NVM - 1 - i,
					i);
	hw_script *s = NULL;
	vl_errbuf eb;
	assert_int_equal(script_parse(text, "big.hw", &s, &eb), 0);
	/* 100 k lines, 150 k name lookups and inserts plus the rehashes: a few
	 * probes each; the scan made ~1.9e9 string compares */
	size_t probes = script_name_probes(s);
	if (probes > 8 * 2 * (size_t)NVM)
		fail_msg("%zu name probes for %d lines: not linear", probes, 2 * NVM);
	script_free(s);
	/* duplicate and unknown names still found */
	assert_int_equal(
		script_parse("vm create a pages=1\nvm create a pages=1\n", "d.hw", &s, &eb),
		VL_EINVAL);
	assert_non_null(strstr(eb.msg, "d.hw:2: VM 'a' is already created on line 1"));
	assert_int_equal(script_parse("vm create a pages=1\nvm read b 0\n", "u.hw", &s, &eb),
			 VL_EINVAL);
	assert_non_null(strstr(eb.msg, "u.hw:2: VM 'b' is not created"));
	free(text);
}

/* (5) a non-UTF-8 profile name: `eli reproduce` said "out of memory building
 * the result", `eli run --json` dropped the field. */
static void test_eli_name_utf8(void **state)
{
	(void)state;
	const char *p = puts_file("bad.profile", "# latin-1\nname = caf\xe9\ncpu_ghz = 2.93\n");
	static const char *const cmds[] = { "eli reproduce --profile %s",
					    "eli run --json --profile %s" };
	for (size_t i = 0; i < 2; i++)
		expect(cmds[i], p, 2,
		       NEEDLES("bad.profile:2: column 11: name: byte 0xe9 is not valid UTF-8"));
	p = puts_file("long.profile",
		      "name = "
		      "0123456789012345678901234567890123456789012345678901234567890123"
		      "\n");
	expect("eli run --profile %s", p, 2, NEEDLES("long.profile:1: name: 64 bytes; at most 63"));
	p = puts_file("ok.profile", "name = caf\xc3\xa9\n");
	expect("eli run --json --profile %s", p, 0, NULL);
}

/* (6) a mix whose costs are all 0 was accepted; `dejavu sim` then failed
 * with "out of memory". */
static void test_zero_cost_mix(void **state)
{
	(void)state;
	char fmt[256];
	puts_file("tz.csv", "t_seconds,rate_rps,mix_name\n0,100,zero\n3600,100,zero\n");
	const char *mixes = puts_file("zero.csv", "mix,type,weight,cpu_us,mem_kb,io_kb,req_bytes,"
						  "resp_bytes\n# free\nzero,a,1,0,0,0,100,100\n"
						  "zero,b,1,0,0,0,200,200\n");
	snprintf(fmt, sizeof(fmt), "dejavu sim --policy static --trace %s/tz.csv --mixes %%s", dir);
	expect(fmt, mixes, 2, NEEDLES("zero.csv:3: mix 'zero' has a mean service time of 0 us"));
	/* cheap is fine: the least is 0.1 us */
	mix_set *ms = mix_set_create();
	assert_non_null(ms);
	vl_errbuf eb;
	assert_int_equal(mix_set_load_text(ms,
					   "mix,type,weight,cpu_us,mem_kb,io_kb,req_bytes,"
					   "resp_bytes\ncheap,a,1,0.5,0,0,1,1\n",
					   "cheap.csv", &eb),
			 0);
	mix_set_destroy(ms);
}

/* (7) the file that runs is the file given: a NUL ended a script early, a
 * NUL in an unterminated last line of a profile was accepted, a topology
 * over 1 MiB was cut (`mem=200` simulated as `mem=2`). */
static void test_whole_file_runs(void **state)
{
	(void)state;
	static const char script[] = "vm create a pages=1\n\0vm create a pages=1\n";
	const char *p = put("nul.hw", script, sizeof(script) - 1);
	expect("hyperwall script %s", p, 2, NEEDLES("nul.hw:2: NUL byte at offset 20"));
	static const char prof[] = "cpu_ghz = 2.93\nname = x\0y";
	p = put("nul.profile", prof, sizeof(prof) - 1);
	expect("eli run --profile %s", p, 2, NEEDLES("nul.profile:2: NUL byte at offset 23"));
	/* a valid topology padded with comments past 1 MiB, `mem=200` cut at it */
	size_t lim = TOPO_FILE_MAX_BYTES;
	char *big = malloc(lim + 64);
	assert_non_null(big);
	const char *head = "name pad\nfreq_ghz 2\nl2 size=256K ways=8 line=64\n"
			   "llc 0 size=12M ways=16 line=64 cores=0-1\n";
	size_t n = strlen(head);
	memcpy(big, head, n);
	/* the file ends 3 bytes past the limit: cut there, "mem=200\n" is "mem=2" */
	const char *tail = "latency l2=10 llc=40 remote_llc=100 mem=200\n";
	size_t end = lim + 3, pad = end - strlen(tail);
	while (n < pad) {
		size_t k = pad - n > 80 ? 80 : pad - n;
		if (pad - n - k == 1) /* no 1-byte line left over */
			k--;
		memset(big + n, '#', k - 1);
		big[n + k - 1] = '\n';
		n += k;
	}
	memcpy(big + n, tail, strlen(tail));
	n += strlen(tail);
	assert_int_equal(n, end);
	assert_memory_equal(big + lim - 5, "mem=2", 5);
	p = put("big-pad.topo", big, n);
	char want[160];
	snprintf(want, sizeof(want), "bytes is over the limit of %zu bytes", lim);
	expect("regsched run --duration 1ms --topology %s", p, 2, NEEDLES("big-pad.topo", want));
	free(big);
}

/* One control request to a fresh in-process proxy's admin listener (no
 * backend reachable), its requests carrying BOUNDS_AUTH; the response text
 * (malloc'd) once the proxy closes or after 2 s. */
#define BOUNDS_TOKEN "bounds-token-0123456789"
#define BOUNDS_AUTH "Authorization: Bearer " BOUNDS_TOKEN "\r\n"

static char *proxy_exchange(const char *req, size_t len, size_t max_header)
{
	dvproxy_cfg cfg;
	dvproxy_cfg_default(&cfg);
	cfg.max_header = max_header;
	snprintf(cfg.admin_token, sizeof(cfg.admin_token), "%s", BOUNDS_TOKEN);
	cfg.nbackends = 1; /* a closed port: only control requests answer 200 */
	cfg.backends[0].sin_family = AF_INET;
	cfg.backends[0].sin_port = htons(1);
	cfg.backends[0].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	vl_errbuf eb;
	dvproxy *px = dvproxy_create(&cfg, &eb);
	if (!px)
		fail_msg("dvproxy_create: %s", eb.msg);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)dvproxy_admin_port(px)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	shutdown(fd, SHUT_WR);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	char *out = calloc(1, 65536);
	size_t got = 0;
	assert_non_null(out);
	for (int i = 0; i < 2000; i++) {
		dvproxy_run(px, 0.001, NULL);
		ssize_t r = recv(fd, out + got, 65535 - got, 0);
		if (r > 0)
			got += (size_t)r;
		else if (r == 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	close(fd);
	dvproxy_destroy(px);
	return out;
}

/* (8) a chunked POST /__dejavu/fraction got 400 where Content-Length got
 * 200; chunk extensions were bounded only by http-parser's ~80 KiB. */
static void test_proxy_chunked_control(void **state)
{
	(void)state;
	static const char cl[] = "POST /__dejavu/fraction HTTP/1.1\r\nHost: x\r\n" BOUNDS_AUTH
				 "Content-Length: 4\r\n\r\n0.25"
				 "GET /__dejavu/stats HTTP/1.1\r\nHost: x\r\n" BOUNDS_AUTH "\r\n";
	static const char ch[] = "POST /__dejavu/fraction HTTP/1.1\r\nHost: x\r\n" BOUNDS_AUTH
				 "Transfer-Encoding: chunked\r\n\r\n2\r\n0.\r\n2;x=y\r\n25\r\n"
				 "0\r\n\r\n"
				 "GET /__dejavu/stats HTTP/1.1\r\nHost: x\r\n" BOUNDS_AUTH "\r\n";
	const char *const reqs[] = { cl, ch };
	const size_t lens[] = { sizeof(cl) - 1, sizeof(ch) - 1 };
	for (int i = 0; i < 2; i++) {
		char *out = proxy_exchange(reqs[i], lens[i], 1024);
		if (strncmp(out, "HTTP/1.1 200 ", 13) || !strstr(out, "\"fraction\":0.25"))
			fail_msg("%s body: '%s'", i ? "chunked" : "Content-Length", out);
		free(out);
	}
	/* a chunk-size line whose extension alone is over --max-header (1024) */
	size_t n = 4096;
	char *big = malloc(n + 256);
	assert_non_null(big);
	int k = snprintf(big, 256,
			 "POST /__dejavu/fraction HTTP/1.1\r\nHost: x\r\n" BOUNDS_AUTH
			 "Transfer-Encoding: chunked\r\n\r\n4;e=");
	memset(big + k, 'x', n);
	static const char rest[] = "\r\n0.25\r\n0\r\n\r\n";
	memcpy(big + k + n, rest, sizeof(rest) - 1);
	char *out = proxy_exchange(big, (size_t)k + n + sizeof(rest) - 1, 1024);
	if (strncmp(out, "HTTP/1.1 400 ", 13) || !strstr(out, "chunk"))
		fail_msg("a 4 KiB chunk extension: '%s'", out);
	free(out);
	/* the headers are not part of the first chunk-size line: 3 KiB of
	 * headers and a short line pass a 4 KiB limit */
	k = snprintf(big, 256, "POST /__dejavu/fraction HTTP/1.1\r\n" BOUNDS_AUTH "X-Pad: ");
	memset(big + k, 'p', 3072);
	static const char tail[] = "\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n0.25\r\n0\r\n\r\n";
	memcpy(big + k + 3072, tail, sizeof(tail) - 1);
	out = proxy_exchange(big, (size_t)k + 3072 + sizeof(tail) - 1, 4096);
	if (strncmp(out, "HTTP/1.1 200 ", 13))
		fail_msg("3 KiB of headers, then chunked: '%s'", out);
	free(out);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_span),
		cmocka_unit_test(test_topology_sizes),
		cmocka_unit_test(test_duration_overflow),
		cmocka_unit_test(test_phase_bounds),
		cmocka_unit_test(test_script_linear),
		cmocka_unit_test(test_eli_name_utf8),
		cmocka_unit_test(test_zero_cost_mix),
		cmocka_unit_test(test_whole_file_runs),
		cmocka_unit_test(test_proxy_chunked_control),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
