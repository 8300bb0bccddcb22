/*
 * actuator.c — the cgroup, process and libvirt actuators; see actuator.h.
 * libvirt calls: virDomainSetVcpusFlags / virDomainSetMemoryFlags with
 * VIR_DOMAIN_AFFECT_LIVE (libvirt.org/html/libvirt-libvirt-domain.html).
 */
#include "dejavu/live/actuator.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/proc.h"
#include "dejavu/live/net.h"

#define PROC_MAX 16           /* instances the process actuator runs at most */
#define PROC_READY_S 5.0      /* a new instance must accept within this */
#define PROC_STOP_GRACE_S 2.0 /* SIGTERM, then SIGKILL after this */

struct dvact {
	const dvact_ops *ops;
	void *impl;
};

int dvact_apply(dvact *a, const memo_alloc *alloc, vl_errbuf *eb)
{
	return a->ops->apply(a->impl, alloc, eb);
}

int dvact_current(dvact *a, memo_alloc *out)
{
	memset(out, 0, sizeof(*out));
	return a->ops->current(a->impl, out);
}

const char *dvact_name(const dvact *a)
{
	return a->ops->name;
}

void dvact_destroy(dvact *a)
{
	if (!a)
		return;
	a->ops->destroy(a->impl);
	free(a);
}

static dvact *wrap(const dvact_ops *ops, void *impl, vl_errbuf *eb)
{
	dvact *a = calloc(1, sizeof(*a));
	if (!a) {
		ops->destroy(impl);
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	a->ops = ops;
	a->impl = impl;
	return a;
}

/* ---- cgroup ---- */

static unsigned inst(const memo_alloc *a)
{
	return a->instances ? a->instances : 1;
}

static int cg_apply(void *impl, const memo_alloc *a, vl_errbuf *eb)
{
	dvcg *g = impl;
	double cores = a->cpu_quota > 0 ? a->cpu_quota * inst(a) : 0;
	int err = dvcg_set_quota(g, cores, eb);
	if (!err)
		err = dvcg_set_shares(
			g, (unsigned)((cores > 0 ? cores : 1.0) * DVACT_SHARES_PER_CORE), eb);
	if (!err)
		err = dvcg_set_mem(g, a->mem_mb > 0 ? a->mem_mb * inst(a) : 0, eb);
	return err;
}

static int cg_current(void *impl, memo_alloc *a)
{
	a->instances = 1;
	return dvcg_get_limits(impl, &a->cpu_quota, &a->mem_mb);
}

static void cg_destroy(void *impl)
{
	(void)impl; /* the group belongs to the caller */
}

static const dvact_ops cg_ops = { "cgroup", cg_apply, cg_current, cg_destroy };

dvact *dvact_cgroup_create(dvcg *g, vl_errbuf *eb)
{
	if (!g) {
		vl_fail(eb, VL_EINVAL, "no cgroup given");
		return NULL;
	}
	return wrap(&cg_ops, g, eb);
}

/* ---- process ---- */

typedef struct procact {
	char exe[512];
	int base_port;
	dvadm proxy; /* the proxy's admin listener and token */
	dvcg *g;
	vl_proc *inst[PROC_MAX];
	unsigned n;
} procact;

static int tell_proxy(procact *p, unsigned n, vl_errbuf *eb)
{
	char list[PROC_MAX * 24] = "", one[24], resp[256];
	for (unsigned i = 0; i < n; i++) {
		snprintf(one, sizeof(one), "%s127.0.0.1:%d", i ? "," : "", p->base_port + (int)i);
		strcat(list, one);
	}
	int st = dvadm_request(&p->proxy, "POST", "/__dejavu/backends", list, 2.0, resp,
			       sizeof(resp));
	if (st != 200)
		return vl_fail(eb, VL_EIO, "proxy did not take the backend list (status %d%s%.80s)",
			       st, st > 0 ? ": " : "", st > 0 ? resp : "");
	return 0;
}

static int start_one(procact *p, vl_errbuf *eb)
{
	int port = p->base_port + (int)p->n;
	char listen[32];
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	/* the instance's exit summary is not ours to print: stdout discarded */
	char *argv[] = { p->exe, "dejavu", "service", "--listen", listen, "--quiet", NULL };
	vl_proc_opts o = { .err = VL_PROC_CAPTURE }; /* why it failed to start */
	vl_proc *v;
	int err = vl_proc_spawn(&v, argv, &o, eb);
	if (err)
		return err;
	p->inst[p->n++] = v;
	if (p->g)
		dvcg_attach(p->g, vl_proc_pid(v), NULL);
	/* --base-port is the user's choice, so the port is known: wait for it */
	return vl_proc_wait_port(v, port, PROC_READY_S, eb);
}

static void stop_one(procact *p)
{
	vl_proc *v = p->inst[--p->n];
	vl_proc_stop(v, PROC_STOP_GRACE_S);
	vl_proc_destroy(v);
}

static int proc_apply(void *impl, const memo_alloc *a, vl_errbuf *eb)
{
	procact *p = impl;
	unsigned want = inst(a);
	if (want > PROC_MAX)
		return vl_fail(eb, VL_ERANGE, "at most %d instances", PROC_MAX);
	while (p->n < want) {
		int err = start_one(p, eb);
		if (err)
			return err;
	}
	int err = tell_proxy(p, want, eb);
	if (err)
		return err;
	while (p->n > want)
		stop_one(p);
	return 0;
}

static int proc_current(void *impl, memo_alloc *a)
{
	procact *p = impl;
	unsigned alive = 0;
	for (unsigned i = 0; i < p->n; i++)
		alive += (unsigned)vl_proc_alive(p->inst[i]);
	a->instances = alive;
	return 0;
}

static void proc_destroy(void *impl)
{
	procact *p = impl;
	while (p->n)
		stop_one(p);
	free(p);
}

static const dvact_ops proc_ops = { "process", proc_apply, proc_current, proc_destroy };

dvact *dvact_process_create(const char *exe, int base_port, const dvadm *proxy, dvcg *g,
			    vl_errbuf *eb)
{
	procact *p = calloc(1, sizeof(*p));
	if (!p) {
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	p->base_port = base_port;
	p->proxy = *proxy;
	p->g = g;
	return wrap(&proc_ops, p, eb);
}

/* ---- libvirt ---- */

typedef struct virtact {
	virConnectPtr conn;
	virDomainPtr dom;
} virtact;

static void quiet_errors(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e; /* library code never prints: errors come back through eb */
}

static int virt_apply(void *impl, const memo_alloc *a, vl_errbuf *eb)
{
	virtact *v = impl;
	if (a->cpu_quota > 0) {
		unsigned vcpus = (unsigned)ceil(a->cpu_quota * inst(a) - 1e-9);
		if (vcpus < 1)
			vcpus = 1;
		if (virDomainSetVcpusFlags(v->dom, vcpus, VIR_DOMAIN_AFFECT_LIVE) < 0) {
			virErrorPtr e = virGetLastError();
			return vl_fail(eb, VL_EIO, "cannot set %u vCPUs: %s", vcpus,
				       e && e->message ? e->message : "libvirt error");
		}
	}
	if (a->mem_mb > 0) {
		unsigned long kib = (unsigned long)(a->mem_mb * inst(a) * 1024);
		if (virDomainSetMemoryFlags(v->dom, kib, VIR_DOMAIN_AFFECT_LIVE) < 0) {
			virErrorPtr e = virGetLastError();
			return vl_fail(eb, VL_EIO, "cannot set memory to %lu KiB: %s", kib,
				       e && e->message ? e->message : "libvirt error");
		}
	}
	return 0;
}

static int virt_current(void *impl, memo_alloc *a)
{
	virtact *v = impl;
	virDomainInfo info;
	if (virDomainGetInfo(v->dom, &info) < 0)
		return VL_EIO;
	a->instances = 1;
	a->cpu_quota = info.nrVirtCpu;
	a->mem_mb = (double)info.memory / 1024.0;
	return 0;
}

static void virt_destroy(void *impl)
{
	virtact *v = impl;
	if (v->dom)
		virDomainFree(v->dom);
	if (v->conn)
		virConnectClose(v->conn);
	free(v);
}

static const dvact_ops virt_ops = { "libvirt", virt_apply, virt_current, virt_destroy };

dvact *dvact_libvirt_create(const char *uri, const char *domain, vl_errbuf *eb)
{
	virtact *v = calloc(1, sizeof(*v));
	if (!v) {
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	virSetErrorFunc(NULL, quiet_errors);
	v->conn = virConnectOpen(uri);
	if (!v->conn) {
		virErrorPtr e = virGetLastError();
		vl_fail(eb, VL_EIO, "cannot connect to libvirt at %s: %s", uri,
			e && e->message ? e->message : "unknown error");
		free(v);
		return NULL;
	}
	v->dom = virDomainLookupByName(v->conn, domain);
	if (!v->dom) {
		vl_fail(eb, VL_ENOENT, "no libvirt domain named '%s' at %s", domain, uri);
		virt_destroy(v);
		return NULL;
	}
	return wrap(&virt_ops, v, eb);
}
