/*
 * topo_host.c — the `host` topology, read from Linux sysfs
 * (Documentation/ABI/testing/sysfs-devices-system-cpu: cpuN/cache/indexK/
 * level, type, size, ways_of_associativity, coherency_line_size,
 * shared_cpu_list). L2 is the unified level-2 cache of cpu0; LLC domains are
 * the distinct shared_cpu_list values of the highest unified level. The
 * result is written as topology text and parsed by topo_parse, so it obeys
 * the same checks as a file. Caches wider than 16 ways keep their size with
 * 16 ways (the model's limit; more sets). Latencies are not measurable from
 * sysfs: the westmere-2llc figures are used and the name says "host".
 *
 * Xen's view (sockets, nodes, SMT siblings) from cpuN/topology/
 * physical_package_id and core_id (a socket; siblings share package and
 * core id) and the cpuN/nodeM link (the NUMA node; all in node 0 when no
 * cpu has one, as on a kernel without NUMA).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "regsched/topo.h"

static int read_str(const char *root, unsigned cpu, unsigned idx, const char *leaf, char *out,
		    size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/cpu%u/cache/index%u/%s", root, cpu, idx, leaf);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(out, (int)n, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

typedef struct hcache {
	unsigned level, ways, line;
	uint64_t size;
	char shared[128];
} hcache;

static int read_cache(const char *root, unsigned cpu, unsigned idx, hcache *h)
{
	char buf[128];
	vl_errbuf eb;
	uint64_t v;
	if (read_str(root, cpu, idx, "type", buf, sizeof(buf)))
		return -1;
	if (strcmp(buf, "Unified") != 0)
		return 1;
	if (read_str(root, cpu, idx, "level", buf, sizeof(buf)) || parse_u64(buf, &v, &eb))
		return -1;
	h->level = (unsigned)v;
	if (read_str(root, cpu, idx, "size", buf, sizeof(buf)) || parse_size(buf, &h->size, &eb))
		return -1;
	if (read_str(root, cpu, idx, "ways_of_associativity", buf, sizeof(buf)) ||
	    parse_u64(buf, &v, &eb) || v == 0)
		return -1;
	h->ways = v > 16 ? 16 : (unsigned)v;
	if (read_str(root, cpu, idx, "coherency_line_size", buf, sizeof(buf)) ||
	    parse_u64(buf, &v, &eb))
		return -1;
	h->line = (unsigned)v;
	if (read_str(root, cpu, idx, "shared_cpu_list", h->shared, sizeof(h->shared)))
		return -1;
	return 0;
}

/* The highest-level unified cache of cpu (and its L2 if l2 != NULL). */
static int cpu_caches(const char *root, unsigned cpu, hcache *llc, hcache *l2)
{
	int found = 0;
	for (unsigned idx = 0; idx < 8; idx++) {
		hcache h;
		int r = read_cache(root, cpu, idx, &h);
		if (r < 0)
			break;
		if (r > 0)
			continue;
		if (l2 && h.level == 2)
			*l2 = h;
		if (!found || h.level > llc->level)
			*llc = h;
		found = 1;
	}
	return found ? 0 : -1;
}

static int read_topo_id(const char *root, unsigned cpu, const char *leaf, int *out)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/cpu%u/topology/%s", root, cpu, leaf);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fscanf(f, "%d", out) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static int read_node(const char *root, unsigned cpu)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/cpu%u", root, cpu);
	DIR *d = opendir(path);
	int node = -1;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' &&
		    e->d_name[4] <= '9')
			node = atoi(e->d_name + 4);
	if (d)
		closedir(d);
	return node;
}

/* Appends "KIND ID cores=a,b,.." lines for ids numbered by first
 * appearance of raw[c] (or "smt a,b" for groups of more than one). */
static size_t put_groups(char *txt, size_t len, size_t cap, const char *kind, const int *raw,
			 unsigned n)
{
	int done[TOPO_MAX_CORES] = { 0 };
	unsigned id = 0;
	int smt = strcmp(kind, "smt") == 0;
	for (unsigned c = 0; c < n && len < cap - 512; c++) {
		if (done[c])
			continue;
		unsigned cnt = 0;
		for (unsigned o = c; o < n; o++)
			cnt += raw[o] == raw[c];
		if (smt && cnt < 2) {
			done[c] = 1;
			continue;
		}
		len += (size_t)(smt ? snprintf(txt + len, cap - len, "smt ")
				    : snprintf(txt + len, cap - len, "%s %u cores=", kind, id++));
		const char *sep = "";
		for (unsigned o = c; o < n; o++)
			if (raw[o] == raw[c]) {
				done[o] = 1;
				len += (size_t)snprintf(txt + len, cap - len, "%s%u", sep, o);
				sep = ",";
			}
		len += (size_t)snprintf(txt + len, cap - len, "\n");
	}
	return len;
}

/* socket, node and smt lines for cpus 0..n-1 (nothing if unreadable). */
static size_t put_xen_view(const char *root, unsigned n, char *txt, size_t len, size_t cap)
{
	int pkg[TOPO_MAX_CORES], node[TOPO_MAX_CORES], phys[TOPO_MAX_CORES], any_node = 0;
	for (unsigned c = 0; c < n; c++) {
		int core;
		if (read_topo_id(root, c, "physical_package_id", &pkg[c]) ||
		    read_topo_id(root, c, "core_id", &core))
			return len;
		phys[c] = pkg[c] * 65536 + core;
		node[c] = read_node(root, c);
		any_node |= node[c] >= 0;
	}
	for (unsigned c = 0; c < n; c++)
		if (node[c] < 0)
			node[c] = any_node ? -1 : 0;
	for (unsigned c = 0; c < n; c++)
		if (node[c] < 0)
			return len;
	len = put_groups(txt, len, cap, "socket", pkg, n);
	len = put_groups(txt, len, cap, "node", node, n);
	return put_groups(txt, len, cap, "smt", phys, n);
}

static double host_ghz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	double mhz = 0;
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "cpu MHz", 7) == 0 &&
		    sscanf(strchr(line, ':') + 1, "%lf", &mhz) == 1)
			break;
	if (f)
		fclose(f);
	return mhz > 100 ? mhz / 1000.0 : 2.0;
}

int topo_from_sysfs(const char *root, topo *t, vl_errbuf *eb)
{
	hcache l2 = { 0 }, llc;
	if (cpu_caches(root, 0, &llc, &l2) || l2.level != 2)
		return vl_fail(eb, VL_ENOTSUP, "host: %s/cpu0/cache has no unified L2 to read",
			       root);
	size_t cap = 4096, len = 0;
	char *txt = malloc(cap);
	char shared[TOPO_MAX_LLC][128];
	unsigned nllc = 0;
	if (!txt)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	len += (size_t)snprintf(txt + len, cap - len,
				"name host\nfreq_ghz %.3f\nl2 size=%lluK ways=%u line=%u\n"
				"latency l2=10 llc=40 remote_llc=100 mem=200\n",
				host_ghz(), (unsigned long long)(l2.size / 1024), l2.ways, l2.line);
	unsigned ncpu = 0;
	for (unsigned cpu = 0; cpu < TOPO_MAX_CORES; cpu++) {
		if (cpu_caches(root, cpu, &llc, NULL))
			break;
		ncpu = cpu + 1;
		unsigned d = 0;
		while (d < nllc && strcmp(shared[d], llc.shared))
			d++;
		if (d < nllc)
			continue;
		if (nllc == TOPO_MAX_LLC)
			break;
		strcpy(shared[nllc++], llc.shared);
		len += (size_t)snprintf(
			txt + len, cap - len, "llc %u size=%lluK ways=%u line=%u cores=%s\n", d,
			(unsigned long long)(llc.size / 1024), llc.ways, llc.line, llc.shared);
		if (len >= cap - 256)
			break;
	}
	len = put_xen_view(root, ncpu, txt, len, cap);
	int err = topo_parse(txt, "host", t, eb);
	free(txt);
	return err;
}
