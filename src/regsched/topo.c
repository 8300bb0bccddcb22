/*
 * topo.c — topology files, built-ins and the host's sysfs; see topo.h.
 *
 * Built-in parameters and their sources:
 *  - westmere-2llc: the paper's machine class, 2 x Xeon X5670-like sockets
 *    (Intel ARK: 6 cores, 2.93 GHz, 12 MiB 16-way L3; 256 KiB 8-way L2 per
 *    core). L2 10 and L3 40 cycles agree with Intel's optimization manual
 *    for Nehalem/Westmere (L2 ~10, L3 ~35-40 cycles; AnandTech measured
 *    39 cycles for Nehalem's L3). Local DRAM 200 cycles (68 ns): Molka et
 *    al., PACT 2009, measured ~65 ns on Nehalem-EP. Remote DRAM 340 cycles:
 *    Intel puts the remote-access penalty at ~70 % of local latency (Tom's
 *    Hardware, Core i7 Nehalem review, "Memory Subsystem"; IBM's eX5 guide:
 *    "more than 50 % higher"), 1.7 x 200. Remote-LLC hit 280 cycles: Molka
 *    et al. found hits in the other socket's caches no faster than local
 *    DRAM (a QPI snoop round trip); the figure between local (200) and
 *    remote (340) DRAM is our estimate within that ordering (an earlier version had
 *    100, the wrong way round). The L3 is inclusive (Intel: "the L3 cache
 *    duplicates the data stored in each core's L1 and L2", HP's Xeon 5500
 *    technology brief), hence llc_policy inclusive.
 *  - epyc-8ccx: AMD EPYC 7302-like (Zen 2): 16 cores, 8 CCXs of 2 cores,
 *    16 MiB 16-way L3 per CCX, 512 KiB 8-way L2, 3.0 GHz. L2 12 and L3 39
 *    cycles from AMD's Software Optimization Guide for family 17h; cross-CCX
 *    ~100 ns (300 cycles) and DRAM ~110 ns (330 cycles) are approximate
 *    published measurements (AnandTech's EPYC 7002 review). The Zen 2 L3
 *    is a victim cache of its CCX's L2s (AMD family 17h optimization
 *    guide, "L3 cache": filled by L2 evictions), hence llc_policy victim.
 *    NPS1 interleaves memory over all channels: one node, one DRAM latency.
 *    NPS4 (epyc-8ccx-nps4): the quadrant's own channels ~95 ns (285
 *    cycles), another quadrant's ~115 ns (345 cycles) — approximate, our
 *    reading of the same review's NPS4 figures (AMD pub. 56338 describes
 *    the modes, not latencies).
 *  Xen's view of the parts (sockets, NUMA nodes): westmere-2llc is a
 *  two-socket Xeon 5600 board, each socket its own NUMA node (the memory
 *  controller is on the die: Intel Xeon 5600 datasheet vol. 1, QPI between
 *  the sockets); epyc-8ccx is one EPYC 7302 socket in AMD's default NPS1
 *  mode, one NUMA node over all eight CCX L3s (AMD "NUMA topology for AMD
 *  EPYC naples/rome" / "Socket SP3 Platform NUMA Topology", pub. 56338),
 *  and epyc-8ccx-nps4 the same part in NPS4 mode: four nodes, one per
 *  quadrant (two CCXs of one CCD each). SMT is off in all three (Xen boots
 *  with smt=0 on these by choice here: the X5670 and 7302 have two threads
 *  per core, which would double the pCPUs and change every mix); a file
 *  can describe siblings with `smt`.
 *  - single-llc: a control, hypothetical: the westmere-2llc cores and
 *    latencies with both LLCs merged into one 24 MiB domain, so where a
 *    vCPU runs never decides whether its data is cached.
 */
#include "regsched/topo.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/parse.h"

const char *const topo_builtin_names[] = { "westmere-2llc", "epyc-8ccx", "epyc-8ccx-nps4",
					   "single-llc",    "host",      NULL };

static const char westmere_txt[] =
	"name westmere-2llc\nfreq_ghz 2.93\nl2 size=256K ways=8 line=64\n"
	"llc 0 size=12M ways=16 line=64 cores=0-5\nllc 1 size=12M ways=16 line=64 cores=6-11\n"
	"latency l2=10 llc=40 remote_llc=280 mem=200 remote_mem=340\nllc_policy inclusive\n"
	"socket 0 cores=0-5\nsocket 1 cores=6-11\nnode 0 cores=0-5\nnode 1 cores=6-11\n";
#define EPYC_CCX                                                                                   \
	"freq_ghz 3.0\nl2 size=512K ways=8 line=64\n"                                              \
	"llc 0 size=16M ways=16 line=64 cores=0-1\nllc 1 size=16M ways=16 line=64 cores=2-3\n"     \
	"llc 2 size=16M ways=16 line=64 cores=4-5\nllc 3 size=16M ways=16 line=64 cores=6-7\n"     \
	"llc 4 size=16M ways=16 line=64 cores=8-9\nllc 5 size=16M ways=16 line=64 cores=10-11\n"   \
	"llc 6 size=16M ways=16 line=64 cores=12-13\nllc 7 size=16M ways=16 line=64 cores=14-15\n" \
	"llc_policy victim\nsocket 0 cores=0-15\n"
static const char epyc_nps4_txt[] =
	"name epyc-8ccx-nps4\n" EPYC_CCX
	"latency l2=12 llc=39 remote_llc=300 mem=285 remote_mem=345\n"
	"node 0 cores=0-3\nnode 1 cores=4-7\nnode 2 cores=8-11\nnode 3 cores=12-15\n";
static const char epyc_txt[] = "name epyc-8ccx\n" EPYC_CCX
			       "latency l2=12 llc=39 remote_llc=300 mem=330\nnode 0 cores=0-15\n";
static const char single_txt[] = "name single-llc\nfreq_ghz 2.93\nl2 size=256K ways=8 line=64\n"
				 "llc 0 size=24M ways=16 line=64 cores=0-11\n"
				 "latency l2=10 llc=40 remote_llc=100 mem=200\n";

#define FAIL(...) vl_fail(eb, VL_EINVAL, __VA_ARGS__)

/* "key=value" pairs of a cache line: size, ways, line, and cores for LLCs. */
static int parse_cache(char **tok, int ntok, const char *where, topo_cache *c, char **cores,
		       vl_errbuf *eb)
{
	int have_size = 0, have_ways = 0, have_line = 0;
	for (int i = 0; i < ntok; i++) {
		char *eq = strchr(tok[i], '=');
		if (!eq)
			return FAIL("%s: expected key=value, got '%s'", where, tok[i]);
		*eq = '\0';
		const char *k = tok[i], *v = eq + 1;
		vl_errbuf sub;
		uint64_t n;
		if (strcmp(k, "size") == 0) {
			if (parse_size(v, &c->size, &sub))
				return FAIL("%s: size=%s: %s", where, v, sub.msg);
			if (c->size == 0)
				return FAIL("%s: size=%s: must be > 0", where, v);
			if (c->size > TOPO_MAX_CACHE_BYTES)
				return vl_fail(eb, VL_ERANGE,
					       "%s: size=%s: %llu bytes is over the limit of "
					       "1 GiB (%llu bytes) per cache",
					       where, v, (unsigned long long)c->size,
					       TOPO_MAX_CACHE_BYTES);
			have_size = 1;
		} else if (strcmp(k, "ways") == 0 || strcmp(k, "line") == 0) {
			if (parse_u64(v, &n, &sub))
				return FAIL("%s: %s: %s", where, k, sub.msg);
			if (k[0] == 'w') {
				if (n < 1 || n > 16)
					return FAIL("%s: ways=%s: expected 1..16", where, v);
				c->ways = (unsigned)n;
				have_ways = 1;
			} else {
				if (n < 8 || n > 4096 || (n & (n - 1)))
					return FAIL(
						"%s: line=%s: expected a power of two in 8..4096",
						where, v);
				c->line = (unsigned)n;
				have_line = 1;
			}
		} else if (strcmp(k, "cores") == 0 && cores) {
			*cores = (char *)v;
		} else {
			return FAIL("%s: unknown key '%s'; expected size, ways, line%s", where, k,
				    cores ? ", cores" : "");
		}
	}
	if (!have_size || !have_ways || !have_line)
		return FAIL("%s: needs size=, ways= and line=", where);
	if (c->size % ((uint64_t)c->ways * c->line))
		return FAIL("%s: size is not a multiple of ways x line", where);
	if (cores && !*cores)
		return FAIL("%s: needs cores=A-B", where);
	return 0;
}

/* "0-5,8,10-11" -> of[] = d for those cores; `what` names the item in
 * errors ("llc", "socket", "node", "smt"). */
static int parse_cores_into(int *of, const char *what, const char *spec, unsigned d,
			    const char *where, vl_errbuf *eb)
{
	const char *p = spec;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b;
		if (end == p || a < 0)
			return FAIL("%s: cores=%s: expected a list like 0-5,8", where, spec);
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a)
				return FAIL("%s: cores=%s: bad range", where, spec);
			p = end;
		}
		if (b >= TOPO_MAX_CORES)
			return FAIL("%s: core %ld: at most %d cores", where, b, TOPO_MAX_CORES);
		for (long c = a; c <= b; c++) {
			if (of[c] >= 0)
				return FAIL("%s: core %ld is already in %s %d", where, c, what,
					    of[c]);
			of[c] = (int)d;
		}
		if (*p == ',')
			p++;
		else if (*p)
			return FAIL("%s: cores=%s: expected a list like 0-5,8", where, spec);
	}
	return 0;
}

static int parse_latency(topo *t, char **tok, int ntok, const char *where, vl_errbuf *eb)
{
	static const char *const keys[] = { "l2", "llc", "remote_llc", "mem", "remote_mem", NULL };
	unsigned *dst[] = { &t->lat_l2, &t->lat_llc, &t->lat_remote, &t->lat_mem,
			    &t->lat_remote_mem };
	unsigned seen = 0;
	for (int i = 0; i < ntok; i++) {
		char *eq = strchr(tok[i], '=');
		if (!eq)
			return FAIL("%s: expected key=value, got '%s'", where, tok[i]);
		*eq = '\0';
		int k = 0;
		while (keys[k] && strcmp(keys[k], tok[i]))
			k++;
		if (!keys[k])
			return FAIL("%s: unknown latency '%s'; expected l2, llc, remote_llc, mem, "
				    "remote_mem",
				    where, tok[i]);
		if (seen & 1u << k) /* the last one silently won */
			return FAIL("%s: latency %s= given twice", where, tok[i]);
		uint64_t n;
		vl_errbuf sub;
		if (parse_u64(eq + 1, &n, &sub) || n == 0 || n > 100000)
			return FAIL("%s: %s=%s: expected cycles in 1..100000", where, tok[i],
				    eq + 1);
		*dst[k] = (unsigned)n;
		seen |= 1u << k;
	}
	if ((seen & 15) != 15)
		return FAIL("%s: latency needs l2=, llc=, remote_llc= and mem=", where);
	if (!(seen & 16))
		t->lat_remote_mem = t->lat_mem; /* one node's DRAM, as before */
	return 0;
}

/* A topology file's items; bit 1 << item of `have` says one was read. */
enum item { IT_NAME, IT_FREQ, IT_L2, IT_LLC, IT_LATENCY, IT_SOCKET, IT_NODE, IT_SMT, IT_POLICY };
static const char *const item_kw[] = { "name",   "freq_ghz", "l2",  "llc",        "latency",
				       "socket", "node",     "smt", "llc_policy", NULL };
/* Items a file may give once: a second one silently replaced the first. */
#define ITEMS_ONCE                                                                                 \
	(1u << IT_NAME | 1u << IT_FREQ | 1u << IT_L2 | 1u << IT_LATENCY | 1u << IT_POLICY)

static int parse_line(topo *t, char *s, const char *where, unsigned *have, vl_errbuf *eb)
{
	char *tok[32];
	int n = 0;
	for (char *p = strtok(s, " \t\r"); p; p = strtok(NULL, " \t\r")) {
		if (n == 32)
			return FAIL("%s: too many fields", where);
		tok[n++] = p;
	}
	if (n == 0)
		return 0;
	unsigned k = 0;
	while (item_kw[k] && strcmp(item_kw[k], tok[0]))
		k++;
	if (!item_kw[k]) {
		const char *near = closest_word(tok[0], item_kw);
		return FAIL("%s: unknown item '%s'%s%s%s; expected name, freq_ghz, l2, llc, "
			    "latency, socket, node, smt, llc_policy",
			    where, tok[0], near ? " (did you mean '" : "", near ? near : "",
			    near ? "'?)" : "");
	}
	if (ITEMS_ONCE & *have & 1u << k)
		return FAIL("%s: a second '%s' line; expected one", where, tok[0]);
	vl_errbuf sub;
	if (strcmp(tok[0], "name") == 0) {
		if (n != 2 || strlen(tok[1]) >= sizeof(t->name))
			return FAIL("%s: expected 'name NAME' (up to 63 characters)", where);
		/* it goes into JSON, which takes only valid UTF-8: a stray byte
		 * failed the run as "out of memory building the result" */
		for (const char *c = tok[1]; *c; c++)
			if (!isgraph((unsigned char)*c))
				return FAIL("%s: name '%s': expected printable ASCII", where,
					    tok[1]);
		strcpy(t->name, tok[1]);
	} else if (strcmp(tok[0], "freq_ghz") == 0) {
		if (n != 2 || parse_double(tok[1], &t->freq_ghz, &sub) || t->freq_ghz <= 0.1 ||
		    t->freq_ghz > 10)
			return FAIL("%s: expected 'freq_ghz X' with 0.1 < X <= 10", where);
	} else if (strcmp(tok[0], "l2") == 0) {
		int err = parse_cache(tok + 1, n - 1, where, &t->l2, NULL, eb);
		if (err)
			return err;
	} else if (strcmp(tok[0], "llc") == 0) {
		uint64_t id;
		if (n < 2 || parse_u64(tok[1], &id, &sub))
			return FAIL("%s: expected 'llc ID size=.. ways=.. line=.. cores=A-B'",
				    where);
		if (id != t->nllc)
			return FAIL("%s: llc %s: expected llc %u next (ids count up from 0)", where,
				    tok[1], t->nllc);
		if (id >= TOPO_MAX_LLC)
			return FAIL("%s: at most %d LLC domains", where, TOPO_MAX_LLC);
		char *cores = NULL;
		int err = parse_cache(tok + 2, n - 2, where, &t->llc[id], &cores, eb);
		if (err)
			return err;
		if ((err = parse_cores_into(t->core_llc, "llc", cores, (unsigned)id, where, eb)))
			return err;
		t->nllc++;
	} else if (strcmp(tok[0], "latency") == 0) {
		int err = parse_latency(t, tok + 1, n - 1, where, eb);
		if (err)
			return err;
	} else if (strcmp(tok[0], "socket") == 0 || strcmp(tok[0], "node") == 0) {
		int sock = tok[0][0] == 's';
		unsigned *cnt = sock ? &t->nsockets : &t->nnodes;
		uint64_t id;
		if (n != 3 || parse_u64(tok[1], &id, &sub) || strncmp(tok[2], "cores=", 6))
			return FAIL("%s: expected '%s ID cores=A-B'", where, tok[0]);
		if (id != *cnt)
			return FAIL("%s: %s %s: expected %s %u next (ids count up from 0)", where,
				    tok[0], tok[1], tok[0], *cnt);
		if (id >= TOPO_MAX_CORES)
			return FAIL("%s: at most %d %ss", where, TOPO_MAX_CORES, tok[0]);
		int err = parse_cores_into(sock ? t->core_socket : t->core_node, tok[0], tok[2] + 6,
					   (unsigned)id, where, eb);
		if (err)
			return err;
		(*cnt)++;
	} else if (strcmp(tok[0], "llc_policy") == 0) {
		static const char *const pol[] = { "fill-both", "inclusive", "victim", NULL };
		int p = 0;
		while (n == 2 && pol[p] && strcmp(pol[p], tok[1]))
			p++;
		if (n != 2 || !pol[p])
			return FAIL("%s: expected 'llc_policy inclusive|victim|fill-both'", where);
		t->llc_policy = p;
	} else { /* smt */
		if (n != 2)
			return FAIL("%s: expected 'smt A,B' (one core's hardware threads)", where);
		int err = parse_cores_into(t->core_phys, "smt group", tok[1], t->nphys, where, eb);
		if (err)
			return err;
		t->nphys++;
	}
	*have |= 1u << k;
	return 0;
}

/* Sockets, nodes and SMT groups: defaults for files without them (LLC =
 * socket = node, one thread per core), else every core in one of each, an
 * LLC within one socket and one node, siblings within one LLC. */
static int check_xen_view(topo *t, const char *fname, unsigned lines, unsigned have, vl_errbuf *eb)
{
	static const char *const what[] = { "socket", "node" };
	int *of[] = { t->core_socket, t->core_node };
	unsigned *cnt[] = { &t->nsockets, &t->nnodes };
	for (int k = 0; k < 2; k++) {
		if (!(have & (1u << (IT_SOCKET + k)))) {
			memcpy(of[k], t->core_llc, sizeof(t->core_llc));
			*cnt[k] = t->nllc;
			continue;
		}
		for (unsigned c = 0; c < t->ncores; c++)
			if (of[k][c] < 0)
				return FAIL("%s:%u: core %u is in no %s", fname, lines, c, what[k]);
		for (unsigned c = t->ncores; c < TOPO_MAX_CORES; c++)
			if (of[k][c] >= 0)
				return FAIL("%s:%u: %s %d names core %u, which is in no llc", fname,
					    lines, what[k], of[k][c], c);
		for (unsigned c = 0; c < t->ncores; c++)
			for (unsigned o = 0; o < t->ncores; o++)
				if (t->core_llc[o] == t->core_llc[c] && of[k][o] != of[k][c])
					return FAIL("%s:%u: llc %d spans %ss %d and %d", fname,
						    lines, t->core_llc[c], what[k], of[k][c],
						    of[k][o]);
		for (unsigned i = 0; i < *cnt[k]; i++) {
			unsigned nc = 0;
			for (unsigned c = 0; c < t->ncores; c++)
				nc += of[k][c] == (int)i;
			if (!nc)
				return FAIL("%s:%u: %s %u has no cores", fname, lines, what[k], i);
		}
	}
	for (unsigned c = 0; c < t->ncores; c++) {
		if (t->core_phys[c] < 0)
			t->core_phys[c] = (int)t->nphys++;
		for (unsigned o = 0; o < t->ncores; o++)
			if (t->core_phys[o] == t->core_phys[c] && t->core_llc[o] != t->core_llc[c])
				return FAIL("%s:%u: smt siblings %u and %u are in different llcs",
					    fname, lines, c, o);
	}
	for (unsigned c = t->ncores; c < TOPO_MAX_CORES; c++)
		if (t->core_phys[c] >= 0)
			return FAIL("%s:%u: smt names core %u, which is in no llc", fname, lines,
				    c);
	return 0;
}

static int check(topo *t, const char *fname, unsigned lines, unsigned have, vl_errbuf *eb)
{
	for (int i = IT_NAME; i <= IT_LATENCY; i++) /* the items every file needs */
		if (!(have & (1u << i)))
			return FAIL("%s:%u: missing '%s' line", fname, lines, item_kw[i]);
	t->ncores = 0;
	while (t->ncores < TOPO_MAX_CORES && t->core_llc[t->ncores] >= 0)
		t->ncores++;
	for (unsigned c = t->ncores; c < TOPO_MAX_CORES; c++)
		if (t->core_llc[c] >= 0)
			return FAIL("%s:%u: cores must be numbered 0..n-1 without gaps (core %u "
				    "missing)",
				    fname, lines, t->ncores);
	/* each size is <= 1 GiB, so the sum of at most 80 caches fits */
	uint64_t l2_sets = t->l2.size / ((uint64_t)t->l2.ways * t->l2.line);
	uint64_t sets = l2_sets * t->ncores;
	for (unsigned d = 0; d < t->nllc; d++)
		sets += t->llc[d].size / ((uint64_t)t->llc[d].ways * t->llc[d].line);
	if (sets > TOPO_MAX_SETS)
		return vl_fail(eb, VL_ERANGE,
			       "%s:%u: the caches hold %llu sets (%u cores x %llu L2 sets, "
			       "plus the LLCs); the limit is %u sets (256 MiB of cache model)",
			       fname, lines, (unsigned long long)sets, t->ncores,
			       (unsigned long long)l2_sets, TOPO_MAX_SETS);
	for (unsigned d = 0; d < t->nllc; d++) {
		if (t->llc[d].line != t->l2.line)
			return FAIL("%s:%u: llc %u line=%u differs from l2 line=%u", fname, lines,
				    d, t->llc[d].line, t->l2.line);
		if (topo_llc_cores(t, d) == 0)
			return FAIL("%s:%u: llc %u has no cores", fname, lines, d);
	}
	return check_xen_view(t, fname, lines, have, eb);
}

int topo_parse(const char *text, const char *fname, topo *t, vl_errbuf *eb)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < TOPO_MAX_CORES; i++)
		t->core_llc[i] = t->core_socket[i] = t->core_node[i] = t->core_phys[i] = -1;
	unsigned have = 0, lineno = 0;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char buf[1024], where[300];
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", fname, lineno);
		if (len >= sizeof(buf))
			return FAIL("%s: line too long", where);
		memcpy(buf, p, len);
		buf[len] = '\0';
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		int err = parse_line(t, buf, where, &have, eb);
		if (err)
			return err;
		p += len + (nl ? 1 : 0);
	}
	return check(t, fname, lineno, have, eb);
}

int topo_load_file(const char *path, topo *t, vl_errbuf *eb)
{
	char *buf;
	int err = vl_read_text(path, TOPO_FILE_MAX_BYTES, "topology text", &buf, NULL, eb);
	if (err == VL_ENOENT) {
		const char *near = closest_word(path, topo_builtin_names);
		return vl_fail(
			eb, VL_ENOENT,
			"%s: cannot open%s%s%s (not a built-in topology "
			"either: westmere-2llc, epyc-8ccx, epyc-8ccx-nps4, single-llc, host)",
			path, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	}
	if (err)
		return err;
	err = topo_parse(buf, path, t, eb);
	free(buf);
	return err;
}

unsigned topo_llc_cores(const topo *t, unsigned d)
{
	unsigned n = 0;
	for (unsigned c = 0; c < t->ncores; c++)
		n += t->core_llc[c] == (int)d;
	return n;
}

static uint64_t mask_of(const topo *t, const int *of, int id)
{
	uint64_t m = 0;
	for (unsigned c = 0; c < t->ncores; c++)
		if (of[c] == id)
			m |= 1ull << c;
	return m;
}

uint64_t topo_socket_mask(const topo *t, int s)
{
	return mask_of(t, t->core_socket, s);
}

uint64_t topo_node_mask(const topo *t, int n)
{
	return mask_of(t, t->core_node, n);
}

uint64_t topo_sibling_mask(const topo *t, unsigned c)
{
	return mask_of(t, t->core_phys, t->core_phys[c]);
}

int topo_builtin(const char *name, topo *t, vl_errbuf *eb)
{
	if (strcmp(name, "westmere-2llc") == 0)
		return topo_parse(westmere_txt, name, t, eb);
	if (strcmp(name, "epyc-8ccx") == 0)
		return topo_parse(epyc_txt, name, t, eb);
	if (strcmp(name, "epyc-8ccx-nps4") == 0)
		return topo_parse(epyc_nps4_txt, name, t, eb);
	if (strcmp(name, "single-llc") == 0)
		return topo_parse(single_txt, name, t, eb);
	if (strcmp(name, "host") == 0)
		return topo_from_sysfs("/sys/devices/system/cpu", t, eb);
	const char *near = closest_word(name, topo_builtin_names);
	return vl_fail(eb, VL_ENOENT,
		       "unknown topology '%s'%s%s%s; built-ins: westmere-2llc, "
		       "epyc-8ccx, epyc-8ccx-nps4, single-llc, host, or a file",
		       name, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
}

int topo_resolve(const char *s, topo *t, vl_errbuf *eb)
{
	for (int i = 0; topo_builtin_names[i]; i++)
		if (strcmp(s, topo_builtin_names[i]) == 0)
			return topo_builtin(s, t, eb);
	return topo_load_file(s, t, eb);
}
