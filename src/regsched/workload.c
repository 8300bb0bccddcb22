/*
 * workload.c — built-in region-structured workloads and trace replay; see
 * workload.h.
 *
 * The built-ins are synthetic, sized against westmere-2llc (2 x 12 MiB
 * LLC, 12 cores), 16 CPU-bound vCPUs (overcommit 4:3, so credit's load
 * balancer moves vCPUs all the time):
 *  - split-vm (favours region scheduling): VM "app" has eight vCPUs in
 *    two groups of four, each group chasing pointers through its own
 *    shared 7 MiB set (14 MiB in all: more than one LLC), next to VMs
 *    "web" (I/O-bound) and "batch", four vCPUs with a private 512 KiB set
 *    each. Regions do not follow VM boundaries: the best placement splits
 *    app over both LLCs, one group each. Every 400 ms app's vCPUs 3 and 7
 *    trade groups: regions move between vCPUs and region scheduling must
 *    follow.
 *  - fits-all (region scheduling cannot help much): four VMs of four
 *    vCPUs, each vCPU with a 256 KiB set of its own and its VM's 512 KiB
 *    shared one (6 MiB in all), so any placement fits in either LLC; what
 *    remains to win is keeping a VM's sharers on one LLC.
 *  - phase-swap (sharing faster than region scheduling observes):
 *    split-vm's VMs, but app's two sharing groups re-form every 20 ms
 *    (vCPUs {0-3},{4-7} and {0,1,4,5},{2,3,6,7} in turn), so over a
 *    50 ms epoch every app vCPU touches both sets.
 * ipa (instructions per L2 access) 8 (split-vm) and 20 (fits-all) is 125
 * and 50 L1 misses per 1000 instructions, the memory-intensive end of SPEC
 * CPU (our choice).
 */
#include "regsched/workload.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/parse.h"

#define KiB 1024ull
#define MiB (1024ull * 1024ull)
#define REGION_ALIGN (64 * KiB)
/* I/O: web and kv vCPUs block briefly between bursts (request handling),
 * still wanting more than their fair 0.75 pCPU (4:3 overcommit), so the
 * weights alone decide shares. Our choice of numbers. */
#define IO_BURST_MS 5.0
#define IO_SLEEP_MS 0.1
#define SPLIT_PHASE_MS 400          /* app's vCPUs 3 and 7 trade groups this often */
#define SPLIT_GROUP_BYTES (7 * MiB) /* each group's shared set: two > one LLC */
#define SPLIT_IPA 8                 /* instructions per L2 access */
#define SWAP_PHASE_MS 20            /* phase-swap: the groups re-form this often */

const wl_info wl_builtins[] = {
	{ "split-vm", "westmere-2llc",
	  "app: 8 vCPUs in two groups, each sharing a 7 MiB set (14 MiB: more than one LLC), "
	  "+ web (I/O) and batch, 4 x 512 KiB each; two app vCPUs trade groups every 400 ms" },
	{ "fits-all", "westmere-2llc", "4 VMs x 4 vCPUs, 6 MiB in all: fits in any LLC" },
	{ "phase-swap", "westmere-2llc",
	  "split-vm's mix, but app's two sharing groups re-form every 20 ms (half of each "
	  "group trades places): sharing changes faster than a 50 ms epoch sees" },
	{ NULL, NULL, NULL },
};

static int add_vm(workload *w, const char *name, unsigned weight)
{
	wl_vm *m = &w->vm[w->nvm];
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->weight = weight;
	return (int)w->nvm++;
}

/* A trace VM's name in results: the file's base name with bytes outside
 * printable ASCII as '?' (JSON takes only UTF-8, and the cut to the name's
 * size may split a character: the VM vanished from the JSON), and "#N" when
 * an earlier VM has the name (a JSON object keeps one of two equal keys: two
 * traces of the same name showed as one VM). */
static void trace_vm_name(const workload *w, const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	snprintf(out, n, "%s", slash ? slash + 1 : path);
	for (char *c = out; *c; c++)
		if (!isprint((unsigned char)*c) || (unsigned char)*c >= 0x80)
			*c = '?';
	char base[24];
	snprintf(base, sizeof(base), "%s", out);
	for (unsigned k = 2;; k++) {
		unsigned i = 0;
		while (i < w->nvm && strcmp(w->vm[i].name, out))
			i++;
		if (i == w->nvm)
			return;
		char suf[8];
		int sl = snprintf(suf, sizeof(suf), "#%u", k);
		size_t keep = strlen(base) + (size_t)sl < n ? strlen(base) : n - 1 - (size_t)sl;
		snprintf(out, n, "%.*s%s", (int)keep, base, suf);
	}
}

static int add_region(workload *w, const char *name, uint64_t bytes)
{
	wl_region *r = &w->region[w->nregion];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->base = w->phys_bytes;
	r->bytes = bytes;
	w->phys_bytes += (bytes + REGION_ALIGN - 1) / REGION_ALIGN * REGION_ALIGN;
	return (int)w->nregion++;
}

static int add_vcpu(workload *w, int vm, double ipa, double write_frac)
{
	wl_vcpu *v = &w->vcpu[w->nvcpu];
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->ipa = ipa;
	v->write_frac = write_frac;
	return (int)w->nvcpu++;
}

static void ref(workload *w, int v, unsigned phase, int region, double weight)
{
	wl_vcpu *c = &w->vcpu[v];
	c->refs[phase][c->nrefs[phase]++] = (wl_ref){ region, weight, WL_UNIFORM };
}

static void chase(workload *w, int v, unsigned phase, int region, double weight)
{
	wl_vcpu *c = &w->vcpu[v];
	c->refs[phase][c->nrefs[phase]++] = (wl_ref){ region, weight, WL_CHASE };
}

/* The same refs in every phase. */
static void ref_all(workload *w, int v, int region, double weight)
{
	for (unsigned p = 0; p < w->nphases; p++)
		ref(w, v, p, region, weight);
}

static void build_split_vm(workload *w)
{
	static const char *const small[] = { "web", "batch" };
	char n[24];
	w->nphases = 2;
	w->phase_ms = SPLIT_PHASE_MS;
	int app = add_vm(w, "app", 256);
	int ra = add_region(w, "app.A", SPLIT_GROUP_BYTES);
	int rb = add_region(w, "app.B", SPLIT_GROUP_BYTES);
	for (int i = 0; i < 8; i++) {
		int v = add_vcpu(w, app, SPLIT_IPA, 0.3);
		/* phase 0: vCPUs 0-3 work on A, 4-7 on B; phase 1: 3 and 7 trade */
		int g0 = i < 4 ? ra : rb, g1 = (i == 3 || i == 7) ? (g0 == ra ? rb : ra) : g0;
		chase(w, v, 0, g0, 1.0);
		chase(w, v, 1, g1, 1.0);
	}
	for (int m = 0; m < 2; m++) {
		int vm = add_vm(w, small[m], 256);
		for (int i = 0; i < 4; i++) {
			snprintf(n, sizeof(n), "%s.%d", small[m], i);
			int r = add_region(w, n, 512 * KiB), v = add_vcpu(w, vm, SPLIT_IPA, 0.2);
			if (m == 0) { /* web serves requests: short I/O waits */
				w->vcpu[v].burst_ms = IO_BURST_MS;
				w->vcpu[v].sleep_ms = IO_SLEEP_MS;
			}
			ref_all(w, v, r, 1.0);
		}
	}
}

/* split-vm's VMs with the sharing groups changing every SWAP_PHASE_MS:
 * phase 0 A = {0,1,2,3}, B = {4,5,6,7}; phase 1 A = {0,1,4,5}, B =
 * {2,3,6,7}. Faster than any epoch: samples over an epoch show all eight
 * vCPUs on both sets. */
static void build_phase_swap(workload *w)
{
	build_split_vm(w);
	w->phase_ms = SWAP_PHASE_MS;
	for (int i = 0; i < 8; i++) {
		wl_vcpu *c = &w->vcpu[i];
		int a = 0, b = 1; /* regions app.A, app.B (added first) */
		c->refs[0][0].region = i < 4 ? a : b;
		c->refs[1][0].region = (i < 2 || (i >= 4 && i < 6)) ? a : b;
	}
}

static void build_fits_all(workload *w)
{
	static const char *const names[] = { "a", "b", "c", "d" };
	char n[24];
	w->nphases = 1;
	w->phase_ms = 0;
	for (int m = 0; m < 4; m++) {
		int vm = add_vm(w, names[m], 256);
		snprintf(n, sizeof(n), "%s.shared", names[m]);
		int s = add_region(w, n, 512 * KiB);
		for (int i = 0; i < 4; i++) {
			snprintf(n, sizeof(n), "%s.%d", names[m], i);
			int r = add_region(w, n, 256 * KiB), v = add_vcpu(w, vm, 20, 0.2);
			ref_all(w, v, r, 0.8);
			ref_all(w, v, s, 0.2);
		}
	}
}

int workload_builtin(const char *name, workload *w, vl_errbuf *eb)
{
	memset(w, 0, sizeof(*w));
	if (strcmp(name, "split-vm") == 0)
		build_split_vm(w);
	else if (strcmp(name, "fits-all") == 0)
		build_fits_all(w);
	else if (strcmp(name, "phase-swap") == 0)
		build_phase_swap(w);
	else {
		const char *names[8];
		int k = 0;
		for (; wl_builtins[k].name; k++)
			names[k] = wl_builtins[k].name;
		names[k] = NULL;
		const char *near = closest_word(name, names);
		return vl_fail(eb, VL_ENOENT,
			       "unknown workload '%s'%s%s%s; built-ins: split-vm, "
			       "fits-all, phase-swap (or --trace FILE)",
			       name, near ? " (did you mean '" : "", near ? near : "",
			       near ? "'?)" : "");
	}
	for (int k = 0; wl_builtins[k].name; k++)
		if (strcmp(wl_builtins[k].name, name) == 0)
			snprintf(w->topology, sizeof(w->topology), "%s", wl_builtins[k].topology);
	snprintf(w->name, sizeof(w->name), "%s", name);
	return 0;
}

void workload_free(workload *w)
{
	for (unsigned v = 0; v < w->nvcpu; v++) {
		free(w->vcpu[v].tlines);
		free(w->vcpu[v].twmask);
		w->vcpu[v].tlines = NULL;
		w->vcpu[v].twmask = NULL;
	}
}

/* ---- trace replay ---- */

typedef struct pagemap {
	uint64_t *key; /* vm << 52 | vpage, + 1 (0 = empty) */
	uint32_t *frame;
	size_t cap, n;
	uint32_t next_frame;
} pagemap;

static int pm_lookup(pagemap *pm, uint64_t key, uint32_t *frame)
{
	if (2 * (pm->n + 1) > pm->cap) {
		size_t ncap = pm->cap ? 2 * pm->cap : 4096;
		uint64_t *nk = calloc(ncap, sizeof(*nk));
		uint32_t *nf = calloc(ncap, sizeof(*nf));
		if (!nk || !nf) {
			free(nk);
			free(nf);
			return VL_ENOMEM;
		}
		for (size_t i = 0; i < pm->cap; i++)
			if (pm->key[i]) {
				size_t j = (pm->key[i] * 0x9e3779b97f4a7c15ull) >> 20 & (ncap - 1);
				while (nk[j])
					j = (j + 1) & (ncap - 1);
				nk[j] = pm->key[i];
				nf[j] = pm->frame[i];
			}
		free(pm->key);
		free(pm->frame);
		pm->key = nk;
		pm->frame = nf;
		pm->cap = ncap;
	}
	key += 1;
	size_t j = (key * 0x9e3779b97f4a7c15ull) >> 20 & (pm->cap - 1);
	while (pm->key[j] && pm->key[j] != key)
		j = (j + 1) & (pm->cap - 1);
	if (!pm->key[j]) {
		pm->key[j] = key;
		pm->frame[j] = pm->next_frame++;
		pm->n++;
	}
	*frame = pm->frame[j];
	return 0;
}

/* Appends one access; cap and wcap are the capacities of tlines and of
 * twmask (in words; new words start zero). */
static int push(wl_vcpu *v, size_t *cap, size_t *wcap, uint32_t line, int write)
{
	size_t old = *wcap;
	if (vl_grow(&v->tlines, cap, (size_t)v->tlen + 1, sizeof(*v->tlines)) < 0 ||
	    vl_grow(&v->twmask, wcap, (size_t)v->tlen / 64 + 1, sizeof(*v->twmask)) < 0)
		return VL_ENOMEM;
	if (*wcap > old)
		memset(v->twmask + old, 0, (*wcap - old) * sizeof(*v->twmask));
	if (write)
		v->twmask[v->tlen >> 6] |= 1ull << (v->tlen & 63);
	v->tlines[v->tlen++] = line;
	return 0;
}

#define TRACE_DEFAULT_IPA 20.0 /* native traces carry no instruction counts */
#define TRACE_MAX_RECORDS 100000000ull

typedef struct tstate {
	workload *w;
	pagemap pm;
	size_t cap[WL_MAX_VCPUS], wcap[WL_MAX_VCPUS]; /* see push */
	int vcpu_of[64]; /* file-local vcpu id -> workload vcpu, -1 none */
	uint64_t instr, records;
	unsigned directives; /* the current file's directives seen: 1 weight, 2 cap, 4 ipa */
} tstate;

static int record(tstate *ts, int vm, int vi, uint64_t addr, int write, const char *where,
		  vl_errbuf *eb)
{
	uint32_t frame;
	if (pm_lookup(&ts->pm, (uint64_t)vm << 52 | (addr / WL_PAGE), &frame))
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	uint64_t phys = (uint64_t)frame * WL_PAGE + addr % WL_PAGE;
	if (phys >= (1ull << 31))
		return vl_fail(eb, VL_ERANGE,
			       "%s: more than 2 GiB of distinct pages (the cache "
			       "model's physical range)",
			       where);
	if (++ts->records > TRACE_MAX_RECORDS)
		return vl_fail(eb, VL_ERANGE, "%s: more than %llu records in all", where,
			       (unsigned long long)TRACE_MAX_RECORDS);
	if (push(&ts->w->vcpu[vi], &ts->cap[vi], &ts->wcap[vi], (uint32_t)(phys / 64), write))
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	return 0;
}

static int new_vcpu(tstate *ts, int vm, const char *where, vl_errbuf *eb)
{
	workload *w = ts->w;
	if (w->nvcpu == WL_MAX_VCPUS)
		return vl_fail(eb, VL_ERANGE, "%s: more than %d vCPUs in all traces", where,
			       WL_MAX_VCPUS);
	int vi = add_vcpu(w, vm, TRACE_DEFAULT_IPA, 0);
	ts->cap[vi] = ts->wcap[vi] = 0;
	return vi;
}

static int parse_native(tstate *ts, int vm, char *s, const char *where, vl_errbuf *eb)
{
	char *tok[4];
	int n = 0;
	for (char *p = strtok(s, " \t\r"); p && n < 4; p = strtok(NULL, " \t\r"))
		tok[n++] = p;
	if (n == 0)
		return 0;
	if (n < 2 || n > 3)
		return vl_fail(eb, VL_EINVAL, "%s: expected 'vcpu addr [R|W]'", where);
	uint64_t vc, addr;
	vl_errbuf sub;
	if (parse_u64(tok[0], &vc, &sub) || vc > 63)
		return vl_fail(eb, VL_EINVAL, "%s: vcpu '%s': expected 0..63", where, tok[0]);
	if (parse_u64(tok[1], &addr, &sub))
		return vl_fail(eb, VL_EINVAL, "%s: address '%s': %s", where, tok[1], sub.msg);
	int write = 0;
	if (n == 3) {
		if (strcmp(tok[2], "W") == 0 || strcmp(tok[2], "w") == 0)
			write = 1;
		else if (strcmp(tok[2], "R") && strcmp(tok[2], "r"))
			return vl_fail(eb, VL_EINVAL, "%s: access '%s': expected R or W", where,
				       tok[2]);
	}
	if (ts->vcpu_of[vc] < 0) {
		int vi = new_vcpu(ts, vm, where, eb);
		if (vi < 0)
			return vi;
		ts->vcpu_of[vc] = vi;
	}
	return record(ts, vm, ts->vcpu_of[vc], addr, write, where, eb);
}

static int parse_lackey(tstate *ts, int vm, const char *s, const char *where, vl_errbuf *eb)
{
	if (strncmp(s, "==", 2) == 0 || s[strspn(s, " \t\r")] == '\0')
		return 0;
	char kind;
	unsigned long long addr;
	unsigned size;
	if (sscanf(s, " %c %llx,%u", &kind, &addr, &size) != 3 || !strchr("ILSM", kind))
		return vl_fail(eb, VL_EINVAL, "%s: expected lackey 'I|L|S|M addr,size'", where);
	if (kind == 'I') {
		ts->instr++;
		return 0;
	}
	if (ts->vcpu_of[0] < 0) {
		int vi = new_vcpu(ts, vm, where, eb);
		if (vi < 0)
			return vi;
		ts->vcpu_of[0] = vi;
	}
	int err = record(ts, vm, ts->vcpu_of[0], addr, kind != 'L', where, eb);
	if (!err && kind == 'M') /* modify: a load then a store */
		err = record(ts, vm, ts->vcpu_of[0], addr, 1, where, eb);
	return err;
}

/* "#@ weight N", "#@ cap PCT" or "#@ ipa X": the VM's credit weight
 * (1..65535), cap (percent of one pCPU, 0..6400, 0 = none) and instructions
 * per access of its vCPUs (overrides lackey's I-line count). */
static int directive(workload *w, int vm, double *ipa, unsigned *seen, char *s, const char *where,
		     vl_errbuf *eb)
{
	char key[16], extra[2];
	double v;
	if (sscanf(s, " %15s %lf %1s", key, &v, extra) != 2)
		return vl_fail(eb, VL_EINVAL, "%s: expected '#@ weight|cap|ipa VALUE'", where);
	/* a second one silently replaced the first */
	unsigned bit = strcmp(key, "weight") == 0 ? 1u
		       : strcmp(key, "cap") == 0  ? 2u
		       : strcmp(key, "ipa") == 0  ? 4u
						  : 0u;
	if (*seen & bit)
		return vl_fail(eb, VL_EINVAL, "%s: a second '#@ %s' in this file; expected one",
			       where, key);
	*seen |= bit;
	if (strcmp(key, "weight") == 0 && v >= 1 && v <= 65535 && v == (unsigned)v)
		w->vm[vm].weight = (unsigned)v;
	else if (strcmp(key, "cap") == 0 && v >= 0 && v <= 6400 && v == (unsigned)v)
		w->vm[vm].cap = (unsigned)v;
	else if (strcmp(key, "ipa") == 0 && v > 0 && v <= 10000)
		*ipa = v;
	else if (strcmp(key, "weight") && strcmp(key, "cap") && strcmp(key, "ipa"))
		return vl_fail(eb, VL_EINVAL,
			       "%s: unknown directive '%s'; expected weight, cap, ipa", where, key);
	else
		return vl_fail(eb, VL_EINVAL,
			       "%s: %s %g: expected weight 1..65535, cap 0..6400 (integers), "
			       "ipa in (0, 10000]",
			       where, key, v);
	return 0;
}

/* Longest trace line: a lackey or native record is under 40 bytes; a longer
 * line is not a trace (the limit of the old 512-byte line buffer). */
#define TRACE_LINE_MAX 510

/* One trace line (where = "FILE:LINE"); *lackey is -1 until the first
 * record line says which format the file is. */
static int trace_line(tstate *ts, int vm, int *lackey, double *ipa, char *line, const char *where,
		      vl_errbuf *eb)
{
	if (strncmp(line, "#@", 2) == 0) /* per-VM directive, any file */
		return directive(ts->w, vm, ipa, &ts->directives, line + 2, where, eb);
	if (*lackey < 0) {
		const char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\0')
			return 0;
		*lackey = strncmp(line, "==", 2) == 0 || strncmp(line, "I ", 2) == 0 ||
			  strncmp(line, " L ", 3) == 0 || strncmp(line, " S ", 3) == 0 ||
			  strncmp(line, " M ", 3) == 0;
	}
	if (*lackey)
		return parse_lackey(ts, vm, line, where, eb);
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	return parse_native(ts, vm, line, where, eb);
}

/* Streams one file (bounded memory: vl_lines' buffer; the records go to
 * the vCPUs' arrays as they are parsed). */
static int load_one(tstate *ts, const char *path, vl_errbuf *eb)
{
	workload *w = ts->w;
	if (w->nvm == WL_MAX_VMS)
		return vl_fail(eb, VL_ERANGE, "%s: more than %d trace files", path, WL_MAX_VMS);
	vl_lines *lr;
	int err =
		vl_lines_open(path, TRACE_LINE_MAX, WL_TRACE_FILE_MAX_BYTES, "trace text", &lr, eb);
	if (err == VL_ENOENT) /* the wording users (and tests) know, and why */
		return vl_fail(eb, err, "%s: cannot open trace: %s", path, strerror(ENOENT));
	if (err)
		return err;
	char base[24];
	trace_vm_name(w, path, base, sizeof(base));
	int vm = add_vm(w, base, 256);
	for (int i = 0; i < 64; i++)
		ts->vcpu_of[i] = -1;
	ts->instr = 0;
	ts->directives = 0;
	char where[600];
	unsigned long long lineno = 0;
	int lackey = -1;
	unsigned first_vcpu = w->nvcpu;
	double ipa = 0; /* from a directive; 0: none */
	char *line;
	while ((err = vl_lines_next(lr, &line, &lineno, eb)) == 1) {
		snprintf(where, sizeof(where), "%s:%llu", path, lineno);
		if ((err = trace_line(ts, vm, &lackey, &ipa, line, where, eb)))
			break;
	}
	vl_lines_close(lr);
	if (err)
		return err;
	if (w->nvcpu == first_vcpu)
		return vl_fail(eb, VL_EINVAL, "%s:%llu: no accesses in trace", path, lineno);
	if (lackey && ts->instr)
		w->vcpu[first_vcpu].ipa = (double)ts->instr / (double)w->vcpu[first_vcpu].tlen;
	for (unsigned v = first_vcpu; ipa > 0 && v < w->nvcpu; v++)
		w->vcpu[v].ipa = ipa;
	return 0;
}

int workload_load_trace(const char *files, workload *w, vl_errbuf *eb)
{
	memset(w, 0, sizeof(*w));
	tstate *ts = calloc(1, sizeof(*ts));
	char *list = strdup(files);
	int err = 0;
	if (!ts || !list) {
		err = vl_fail(eb, VL_ENOMEM, "out of memory");
		goto out;
	}
	ts->w = w;
	w->is_trace = 1;
	w->nphases = 1;
	snprintf(w->name, sizeof(w->name), "trace");
	snprintf(w->topology, sizeof(w->topology), "westmere-2llc");
	char *save = NULL;
	for (char *p = strtok_r(list, ",", &save); p && !err; p = strtok_r(NULL, ",", &save))
		err = load_one(ts, p, eb);
	if (!err && !w->nvm) /* "" or ",": the simulator said "0 vCPUs" */
		err = vl_fail(eb, VL_EINVAL, "'%s': no file named; expected FILE[,FILE...]", files);
	if (!err)
		w->phys_bytes = (uint64_t)ts->pm.next_frame * WL_PAGE;
out:
	if (err)
		workload_free(w);
	if (ts) {
		free(ts->pm.key);
		free(ts->pm.frame);
	}
	free(ts);
	free(list);
	return err;
}
