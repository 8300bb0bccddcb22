/*
 * actuator.h — how DejaVu applies an allocation (memo.h memo_alloc) to the
 * service: one small interface, three implementations.
 *
 *   cgroup   CPU quota (instances x cpu_quota cores per CFS period) with a
 *            CPU weight in proportion (DVACT_SHARES_PER_CORE per core, so
 *            an allocation is a reservation when CPUs are contended, not
 *            only a cap), and a memory limit (instances x mem_mb), on one
 *            control group (cgroup.h) holding the service's processes.
 *   process  scale-out: starts or stops `virtlab dejavu service` instances
 *            on consecutive ports and tells the proxy the new backend list
 *            (POST /__dejavu/backends on its admin listener, admin.h)
 *            before stopping any, so no request
 *            goes to an instance that is going away.
 *   libvirt  vCPUs (ceil(instances x cpu_quota)) and memory of a libvirt
 *            domain, live. Tests use the test:///default driver; a real host
 *            uses qemu:///system.
 * Every implementation reads the allocation back from what it controls, so
 * a test can check the effect rather than the request.
 */
#ifndef VL_DEJAVU_ACTUATOR_H
#define VL_DEJAVU_ACTUATOR_H

#include <netinet/in.h>
#include <sys/types.h>

#include "core/error.h"
#include "dejavu/live/admin.h"
#include "dejavu/live/cgroup.h"
#include "dejavu/learn/memo.h"

/* CPU weight per allocated core: 4 x the kernel's default 1024, so a
 * group holding 1 core outweighs a default-weight neighbour 4:1 and one
 * holding 0.25 core weighs the same as it. */
#define DVACT_SHARES_PER_CORE 4096

typedef struct dvact dvact;

typedef struct dvact_ops {
	const char *name;
	int (*apply)(void *impl, const memo_alloc *a, vl_errbuf *eb);
	int (*current)(void *impl, memo_alloc *a); /* read back */
	void (*destroy)(void *impl);
} dvact_ops;

/* Applies a: 0 or a negative vl_err with eb explained. */
int dvact_apply(dvact *a, const memo_alloc *alloc, vl_errbuf *eb);
/* What is in force now, read from the kernel / libvirt / process table. */
int dvact_current(dvact *a, memo_alloc *out);
const char *dvact_name(const dvact *a);
void dvact_destroy(dvact *a); /* accepts NULL */

/* On an existing group (not owned: destroy leaves it). */
dvact *dvact_cgroup_create(dvcg *g, vl_errbuf *eb);

/* Instances of `exe dejavu service` on ports base_port, base_port+1, ...,
 * behind the proxy whose admin listener and token are `proxy` (copied);
 * each new instance is put
 * in group g if not NULL. Starts with none; apply() starts them. Destroy
 * stops them all (SIGTERM, then SIGKILL after 2 s). */
dvact *dvact_process_create(const char *exe, int base_port, const dvadm *proxy, dvcg *g,
			    vl_errbuf *eb);

/* Domain `name` over `uri` (e.g. "test:///default"). VL_ENOENT if there is
 * no such domain, VL_EIO if libvirt cannot connect. */
dvact *dvact_libvirt_create(const char *uri, const char *domain, vl_errbuf *eb);

#endif
