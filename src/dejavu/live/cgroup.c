/*
 * cgroup.c — control groups for the live DejaVu; see cgroup.h.
 * Sources: Documentation/admin-guide/cgroup-v1/{cpusets,memory}.rst,
 * Documentation/scheduler/sched-bwc.rst (CFS bandwidth: quota/period),
 * Documentation/admin-guide/cgroup-v2.rst (cpu.max, memory.max).
 */
#include "dejavu/live/cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT "/sys/fs/cgroup"
#define V2_ROOT_CANDIDATES                                                                         \
	{                                                                                          \
		ROOT "/unified", ROOT                                                              \
	}
#define NCTRL 4

static const char *const ctrls[NCTRL] = { "cpu", "cpuacct", "cpuset", "memory" };

struct dvcg {
	int version;
	char path[NCTRL][512]; /* v1: per controller ("" if absent); v2: path[0] */
	char parent[NCTRL][512];
};

static int write_str(const char *dir, const char *file, const char *val, vl_errbuf *eb)
{
	char p[640];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	FILE *f = fopen(p, "w");
	if (!f)
		return vl_fail(eb, VL_EIO, "cannot open %s: %s", p, strerror(errno));
	int ok = fputs(val, f) >= 0;
	ok &= fclose(f) == 0;
	if (!ok)
		return vl_fail(eb, VL_EIO, "cannot write '%s' to %s: %s", val, p, strerror(errno));
	return 0;
}

static int read_str(const char *dir, const char *file, char *buf, size_t cap)
{
	char p[640];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	FILE *f = fopen(p, "r");
	if (!f)
		return VL_EIO;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

static int read_u64(const char *dir, const char *file, uint64_t *v)
{
	char b[64];
	if (read_str(dir, file, b, sizeof(b)))
		return VL_EIO;
	*v = strtoull(b, NULL, 10);
	return 0;
}

/* Value of "key N" lines (cpu.stat, memory.stat). */
static int stat_key(const char *dir, const char *file, const char *key, uint64_t *v)
{
	char b[8192];
	if (read_str(dir, file, b, sizeof(b)))
		return VL_EIO;
	size_t kl = strlen(key);
	for (char *l = b; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ' ') {
			*v = strtoull(l + kl + 1, NULL, 10);
			return 0;
		}
	return VL_ENOENT;
}

static const char *v2_root(void)
{
	static const char *const cands[] = V2_ROOT_CANDIDATES;
	for (size_t i = 0; i < 2; i++) {
		char b[256];
		if (read_str(cands[i], "cgroup.controllers", b, sizeof(b)))
			continue;
		if (strstr(b, "cpu") && strstr(b, "cpuset") && strstr(b, "memory"))
			return cands[i];
	}
	return NULL;
}

int dvcg_version(void)
{
	if (v2_root())
		return 2;
	struct stat st;
	if (!stat(ROOT "/cpu/cpu.cfs_quota_us", &st) && !stat(ROOT "/cpuset/cpuset.cpus", &st) &&
	    !stat(ROOT "/memory/memory.limit_in_bytes", &st))
		return 1;
	return 0;
}

int dvcg_available(void)
{
	int v = dvcg_version();
	if (!v)
		return 0;
	return access(v == 2 ? v2_root() : ROOT "/cpu", W_OK) == 0;
}

/* The caller's own path in controller ctrl (v1) or in the unified tree
 * (ctrl NULL), from /proc/self/cgroup. */
static int self_path(const char *ctrl, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return VL_EIO;
	char line[1024];
	int found = VL_ENOENT;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *list = c1 + 1;
		int match = 0;
		if (!ctrl) {
			match = !strcmp(line, "0") && !*list;
		} else {
			char tmp[256];
			snprintf(tmp, sizeof(tmp), "%s", list);
			for (char *s = NULL, *t = strtok_r(tmp, ",", &s); t;
			     t = strtok_r(NULL, ",", &s))
				match |= !strcmp(t, ctrl);
		}
		if (match) {
			snprintf(out, cap, "%s", c2 + 1);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static void copy_parent_cpuset(const char *parent, const char *dir)
{
	char b[256];
	if (!read_str(parent, "cpuset.mems", b, sizeof(b)))
		write_str(dir, "cpuset.mems", b, NULL);
	if (!read_str(parent, "cpuset.cpus", b, sizeof(b)))
		write_str(dir, "cpuset.cpus", b, NULL);
}

dvcg *dvcg_create(const char *name, const char *cpus, vl_errbuf *eb)
{
	int v = dvcg_version();
	if (!v || !dvcg_available()) {
		vl_fail(eb, VL_ENOTSUP,
			"no writable cgroup v1 (cpu, cpuset, memory) or v2 hierarchy");
		return NULL;
	}
	dvcg *g = calloc(1, sizeof(*g));
	if (!g) {
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	g->version = v;
	char self[512], leaf[128];
	snprintf(leaf, sizeof(leaf), "virtlab-%s-%d", name, (int)getpid());
	for (int i = 0; i < (v == 2 ? 1 : NCTRL); i++) {
		const char *base = v == 2 ? v2_root() : NULL;
		char root[256];
		if (v == 1)
			snprintf(root, sizeof(root), ROOT "/%s", ctrls[i]);
		else
			snprintf(root, sizeof(root), "%s", base);
		struct stat st;
		if (stat(root, &st) < 0)
			continue; /* e.g. no separate cpuacct: cpu.stat still works */
		if (self_path(v == 2 ? NULL : ctrls[i], self, sizeof(self)))
			strcpy(self, "/");
		if (!strcmp(self, "/"))
			self[0] = '\0';
		int np = snprintf(g->parent[i], sizeof(g->parent[i]), "%s%s", root, self);
		int nl = snprintf(g->path[i], sizeof(g->path[i]), "%s%s/%s", root, self, leaf);
		if (np < 0 || nl < 0 || (size_t)nl >= sizeof(g->path[i])) {
			vl_fail(eb, VL_ERANGE, "cgroup path too long under %s%s", root, self);
			g->path[i][0] = '\0';
			dvcg_destroy(g);
			return NULL;
		}
		if (mkdir(g->path[i], 0755) < 0 && errno != EEXIST) {
			vl_fail(eb, VL_EIO, "cannot create %s: %s", g->path[i], strerror(errno));
			g->path[i][0] = '\0';
			dvcg_destroy(g);
			return NULL;
		}
		if (v == 1 && !strcmp(ctrls[i], "cpuset"))
			copy_parent_cpuset(g->parent[i], g->path[i]);
	}
	if (v == 2)
		write_str(g->parent[0], "cgroup.subtree_control", "+cpu +cpuset +memory", NULL);
	if (cpus && dvcg_set_cpus(g, cpus, eb)) {
		dvcg_destroy(g);
		return NULL;
	}
	return g;
}

static const char *cpath(const dvcg *g, int i)
{
	return g->version == 2 ? g->path[0] : g->path[i];
}

const char *dvcg_path(const dvcg *g, const char *ctrl)
{
	for (int i = 0; i < NCTRL; i++)
		if (!strcmp(ctrls[i], ctrl))
			return cpath(g, i);
	return "";
}

int dvcg_attach(dvcg *g, pid_t pid, vl_errbuf *eb)
{
	char b[32];
	snprintf(b, sizeof(b), "%d", (int)pid);
	for (int i = 0; i < (g->version == 2 ? 1 : NCTRL); i++) {
		if (!g->path[i][0])
			continue;
		int err = write_str(g->path[i], "cgroup.procs", b, eb);
		if (err)
			return err;
	}
	return 0;
}

int dvcg_set_quota(dvcg *g, double cores, vl_errbuf *eb)
{
	char b[64];
	if (g->version == 2) {
		if (cores <= 0)
			snprintf(b, sizeof(b), "max %d", DVCG_PERIOD_US);
		else
			snprintf(b, sizeof(b), "%ld %d", (long)(cores * DVCG_PERIOD_US),
				 DVCG_PERIOD_US);
		return write_str(g->path[0], "cpu.max", b, eb);
	}
	snprintf(b, sizeof(b), "%d", DVCG_PERIOD_US);
	int err = write_str(g->path[0], "cpu.cfs_period_us", b, eb);
	if (err)
		return err;
	/* The kernel's minimum quota is 1 ms. */
	long q = cores <= 0 ? -1 : (long)(cores * DVCG_PERIOD_US);
	if (q > 0 && q < 1000)
		q = 1000;
	snprintf(b, sizeof(b), "%ld", q);
	return write_str(g->path[0], "cpu.cfs_quota_us", b, eb);
}

int dvcg_set_shares(dvcg *g, unsigned shares, vl_errbuf *eb)
{
	char b[32];
	if (g->version == 2) {
		unsigned w = shares * 100 / 1024;
		snprintf(b, sizeof(b), "%u", w < 1 ? 1 : w > 10000 ? 10000 : w);
		return write_str(g->path[0], "cpu.weight", b, eb);
	}
	snprintf(b, sizeof(b), "%u", shares < 2 ? 2 : shares > 262144 ? 262144 : shares);
	return write_str(g->path[0], "cpu.shares", b, eb);
}

int dvcg_set_mem(dvcg *g, double mb, vl_errbuf *eb)
{
	char b[64];
	if (mb <= 0)
		snprintf(b, sizeof(b), g->version == 2 ? "max" : "-1");
	else
		snprintf(b, sizeof(b), "%llu", (unsigned long long)(mb * 1048576.0));
	return write_str(cpath(g, 3), g->version == 2 ? "memory.max" : "memory.limit_in_bytes", b,
			 eb);
}

int dvcg_set_cpus(dvcg *g, const char *cpus, vl_errbuf *eb)
{
	return write_str(cpath(g, 2), "cpuset.cpus", cpus, eb);
}

int dvcg_read(dvcg *g, dvcg_sample *s)
{
	memset(s, 0, sizeof(*s));
	const char *cpu = cpath(g, 0), *mem = cpath(g, 3);
	if (g->version == 2) {
		uint64_t us = 0, tus = 0;
		stat_key(cpu, "cpu.stat", "usage_usec", &us);
		stat_key(cpu, "cpu.stat", "throttled_usec", &tus);
		s->cpu_ns = us * 1000;
		s->throttled_ns = tus * 1000;
		stat_key(mem, "memory.stat", "anon", &s->mem_bytes);
	} else {
		if (g->path[1][0])
			read_u64(g->path[1], "cpuacct.usage", &s->cpu_ns);
		stat_key(cpu, "cpu.stat", "throttled_time", &s->throttled_ns);
		/* Not usage_in_bytes: it counts the page cache a write-heavy
		 * phase leaves behind, which would mark later phases as new. */
		stat_key(mem, "memory.stat", "total_rss", &s->mem_bytes);
	}
	stat_key(cpu, "cpu.stat", "nr_periods", &s->nr_periods);
	stat_key(cpu, "cpu.stat", "nr_throttled", &s->nr_throttled);
	if (stat_key(mem, "memory.stat", g->version == 2 ? "pgfault" : "total_pgfault",
		     &s->pgfault))
		stat_key(mem, "memory.stat", "pgfault", &s->pgfault);
	if (stat_key(mem, "memory.stat", g->version == 2 ? "pgmajfault" : "total_pgmajfault",
		     &s->pgmajfault))
		stat_key(mem, "memory.stat", "pgmajfault", &s->pgmajfault);
	return 0;
}

int dvcg_get_limits(dvcg *g, double *cores, double *mem_mb)
{
	char b[128];
	*cores = *mem_mb = 0;
	if (g->version == 2) {
		if (read_str(g->path[0], "cpu.max", b, sizeof(b)))
			return VL_EIO;
		long q, p;
		if (sscanf(b, "%ld %ld", &q, &p) == 2 && p > 0)
			*cores = (double)q / (double)p;
		uint64_t m;
		if (!read_str(g->path[0], "memory.max", b, sizeof(b)) && strncmp(b, "max", 3)) {
			m = strtoull(b, NULL, 10);
			*mem_mb = (double)m / 1048576.0;
		}
		return 0;
	}
	uint64_t per;
	if (read_str(g->path[0], "cpu.cfs_quota_us", b, sizeof(b)) ||
	    read_u64(g->path[0], "cpu.cfs_period_us", &per))
		return VL_EIO;
	long q = strtol(b, NULL, 10);
	if (q > 0 && per > 0)
		*cores = (double)q / (double)per;
	uint64_t m;
	if (!read_u64(g->path[3], "memory.limit_in_bytes", &m) && m < (1ull << 60))
		*mem_mb = (double)m / 1048576.0;
	return 0;
}

/* Moves every pid in dir/cgroup.procs to parent. */
static void evacuate(const char *dir, const char *parent)
{
	char b[8192];
	if (read_str(dir, "cgroup.procs", b, sizeof(b)))
		return;
	for (char *s = NULL, *t = strtok_r(b, "\n", &s); t; t = strtok_r(NULL, "\n", &s))
		write_str(parent, "cgroup.procs", t, NULL);
}

void dvcg_destroy(dvcg *g)
{
	if (!g)
		return;
	for (int i = 0; i < NCTRL; i++) {
		if (!g->path[i][0])
			continue;
		evacuate(g->path[i], g->parent[i]);
		for (int k = 0; k < 50 && rmdir(g->path[i]) < 0 && errno == EBUSY; k++)
			usleep(10000); /* tasks leave asynchronously */
	}
	free(g);
}
