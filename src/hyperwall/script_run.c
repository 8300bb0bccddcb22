/* script_run.c — see script.h: runs a parsed script (script_impl.h) on a
 * fresh machine and again on its non-interference twin, and compares the
 * two runs op by op. */
#include <stdlib.h>
#include <string.h>

#include "hyperwall/attest.h"
#include "hyperwall/hw.h"
#include "hyperwall/script_impl.h"

/* --- running ----------------------------------------------------------------- */

/* One run of the script on a fresh machine (the primary or its twin). */
typedef struct run {
	hw_machine *m, *there; /* there: another machine, for relays */
	const hw_script *s;
	const script_opts *o;
	int twin;
	uint32_t *id, *there_id; /* script VM -> machine id (0: none yet) */
	attest_verifier *ver;    /* the customer's verifier per VM */
	uint8_t (*expect)[ATTEST_HASH];
	uint8_t *ver_ready, *saved_ok;
	attest_report *saved; /* attest save */
	uint8_t *io;          /* per VM x page: named by a vm share line */
	size_t io_stride;
} run;

static hw_config machine_cfg(const script_opts *o, uint64_t salt)
{
	hw_config cfg = hw_config_default();
	cfg.protect = o->protect;
	cfg.no_shootdown = o->no_shootdown;
	cfg.no_walk_check = o->no_walk_check;
	cfg.insecure_test_keys = o->insecure_test_keys;
	cfg.seed = o->seed + salt;
	return cfg;
}

static int resolve(run *r, const addr *a, uint64_t *hpa)
{
	if (!a->ref) {
		*hpa = a->v;
		return HW_OK;
	}
	return hw_hv_frame(r->m, r->id[a->vm], a->v, hpa);
}

static hw_launch_req request(const run *r, uint32_t v)
{
	return (hw_launch_req){ r->s->vms[v].pages, NULL, r->s->vms[v].prot };
}

static int verifier(run *r, uint32_t v)
{
	if (r->ver_ready[v])
		return 0;
	attest_verifier_init(&r->ver[v], attest_mfr_root);
	hw_launch_req req = request(r, v);
	if (attest_expected_measurement_req(&req, r->expect[v]))
		return VL_ENOMEM;
	r->ver_ready[v] = 1;
	return 0;
}

/* The report the hypervisor hands the customer for VM v's challenge. */
static int answer(run *r, const op *o, attest_report *rep)
{
	uint32_t v = o->vm, id = r->id[v];
	switch (o->kind) {
	case OP_ATTEST_REPLAY:
		if (!r->saved_ok[o->vm2])
			return HW_FAULT;
		if (o->protect_off) /* the hypervisor's software signs anew */
			return hw_attest_forge(r->m, id, o->val, r->saved[o->vm2].measurement, rep);
		*rep = r->saved[o->vm2];
		return HW_OK;
	case OP_ATTEST_RELAY:
		if (o->protect_off)
			return hw_attest_report(r->m, id, o->val, rep);
		if (!r->there) {
			hw_config cfg = machine_cfg(r->o, 0x7e1a7);
			if (!(r->there = hw_create(&cfg)))
				return VL_ENOMEM;
		}
		if (!r->there_id[v]) { /* a genuine copy of v's request there */
			hw_launch_req req = request(r, v);
			int rc = hw_vm_create_req(r->there, &req, &r->there_id[v]);
			if (rc)
				return rc < 0 ? rc : HW_FAULT;
		}
		return hw_attest_report(r->there, r->there_id[v], o->val, rep);
	default:
		return hw_attest_report(r->m, id, o->val, rep);
	}
}

static int do_attest(run *r, const op *o)
{
	uint32_t v = o->vm, id = r->id[v];
	if (!hw_vm_running(r->m, id))
		return HW_FAULT;
	if (o->kind == OP_ATTEST_SAVE) {
		int rc = hw_attest_report(r->m, id, 0, &r->saved[v]);
		r->saved_ok[v] = rc == HW_OK;
		return rc;
	}
	if (verifier(r, v))
		return VL_ENOMEM;
	attest_report rep;
	int rc = answer(r, o, &rep);
	if (rc)
		return rc;
	rc = attest_customer(&r->ver[v], r->m, id, &rep, r->expect[v], o->val, NULL);
	if (rc == HW_BLOCKED) /* the customer walks away: the VM is torn down */
		hw_vm_terminate(r->m, id);
	return rc;
}

/* The value VM v stores: in the twin, a victim's store to one of its private
 * data pages (protected by its request, never named by a share line) is
 * replaced by a different value (every one of bits 0..62 flipped). */
static uint64_t stored(const run *r, const op *o)
{
	uint32_t v = o->vm;
	uint64_t p = o->gpa >> HW_PAGE_SHIFT;
	if (!r->twin || r->s->vms[v].attacker || p >= r->s->vms[v].pages || !r->s->vms[v].prot[p] ||
	    r->io[v * r->io_stride + p])
		return o->val;
	return o->val ^ (uint64_t)INT64_MAX;
}

static int create(run *r, const op *o, int launch)
{
	hw_launch_req req = request(r, o->vm);
	return launch ? hw_vm_create_req(r->m, &req, &r->id[o->vm])
		      : hw_vm_prepare_req(r->m, &req, &r->id[o->vm]);
}

/* Runs one op; *has_val says whether *val is a result to print. */
static int exec_op(run *r, const op *o, uint64_t *val, int *has_val)
{
	hw_machine *m = r->m;
	uint64_t hpa = 0;
	int rc;
	*has_val = 0;
	switch (o->kind) {
	case OP_VM_CREATE:
	case OP_VM_PREPARE:
		return create(r, o, o->kind == OP_VM_CREATE);
	case OP_VM_LAUNCH:
		return hw_vm_launch(m, r->id[o->vm]);
	case OP_VM_WRITE:
		return hw_vm_write(m, r->id[o->vm], o->gpa, stored(r, o));
	case OP_VM_READ:
		*has_val = 1;
		return hw_vm_read(m, r->id[o->vm], o->gpa, val);
	case OP_VM_SHARE:
		return hw_vm_share(m, r->id[o->vm], o->gpa);
	case OP_VM_UNSHARE:
		return hw_vm_unshare(m, r->id[o->vm], o->gpa);
	case OP_VM_TERMINATE:
		return hw_vm_terminate(m, r->id[o->vm]);
	case OP_HV_FRAME:
		*has_val = 1;
		return hw_hv_frame(m, r->id[o->vm], o->gpa, val);
	case OP_HV_PROTECT:
		return hw_hv_protect(m, r->id[o->vm], o->gpa, (int)o->val);
	case OP_HV_UNMAP:
		return hw_hv_unmap(m, r->id[o->vm], o->gpa);
	case OP_ATTEST:
	case OP_ATTEST_SAVE:
	case OP_ATTEST_REPLAY:
	case OP_ATTEST_RELAY:
		return do_attest(r, o);
	default:
		break;
	}
	if ((rc = resolve(r, &o->hpa, &hpa)))
		return rc;
	switch (o->kind) {
	case OP_HV_READ:
		*has_val = 1;
		return hw_hv_read(m, hpa, val);
	case OP_HV_WRITE:
		return hw_hv_write(m, hpa, o->val);
	case OP_HV_MAP:
		return hw_hv_map(m, r->id[o->vm], o->gpa, hpa);
	case OP_DMA_READ:
		*has_val = 1;
		return hw_dma_read(m, hpa, val);
	case OP_DMA_WRITE:
		return hw_dma_write(m, hpa, o->val);
	case OP_CIP_WRITE:
		return hw_hv_cip_write(m, hpa, o->val);
	}
	return HW_FAULT;
}

static const char *result_name(int rc)
{
	return rc == HW_OK ? "ok" : rc == HW_BLOCKED ? "blocked" : "fault";
}

typedef struct outcome {
	int rc, has_val;
	uint64_t val;
} outcome;

static void run_free(run *r)
{
	size_t nv = r->s->nvms ? r->s->nvms : 1;
	for (size_t i = 0; r->ver && i < nv; i++)
		if (r->ver_ready[i])
			attest_verifier_free(&r->ver[i]);
	free(r->ver);
	free(r->expect);
	free(r->ver_ready);
	free(r->saved_ok);
	free(r->saved);
	free(r->io);
	free(r->id);
	free(r->there_id);
	hw_destroy(r->there);
}

/* Runs the script once; out[i] gets op i's outcome. 0 or VL_ENOMEM. */
static int run_once(const hw_script *s, const script_opts *so, int twin, outcome *out,
		    uint64_t *conf, uint64_t *integ)
{
	size_t nv = s->nvms ? s->nvms : 1, maxp = 1;
	for (uint32_t v = 0; v < s->nvms; v++)
		maxp = s->vms[v].pages > maxp ? s->vms[v].pages : maxp;
	hw_config cfg = machine_cfg(so, 0);
	run r = { .m = hw_create(&cfg),
		  .s = s,
		  .o = so,
		  .twin = twin,
		  .id = calloc(nv, sizeof(uint32_t)),
		  .there_id = calloc(nv, sizeof(uint32_t)),
		  .ver = calloc(nv, sizeof(attest_verifier)),
		  .expect = calloc(nv, ATTEST_HASH),
		  .ver_ready = calloc(nv, 1),
		  .saved_ok = calloc(nv, 1),
		  .saved = calloc(nv, sizeof(attest_report)),
		  .io = calloc(nv * maxp, 1),
		  .io_stride = maxp };
	int err = VL_ENOMEM;
	if (!r.m || !r.id || !r.there_id || !r.ver || !r.expect || !r.ver_ready || !r.saved_ok ||
	    !r.saved || !r.io)
		goto out;
	for (size_t i = 0; i < s->n; i++)
		if (s->ops[i].kind == OP_VM_SHARE && s->ops[i].gpa >> HW_PAGE_SHIFT < maxp)
			r.io[s->ops[i].vm * maxp + (s->ops[i].gpa >> HW_PAGE_SHIFT)] = 1;
	for (size_t i = 0; i < s->n; i++) {
		op o = s->ops[i];
		o.protect_off = !so->protect;
		out[i].val = 0;
		out[i].rc = exec_op(&r, &o, &out[i].val, &out[i].has_val);
		if (out[i].rc < 0)
			goto out;
	}
	*conf = hw_conf_violations(r.m);
	*integ = hw_integ_violations(r.m);
	err = 0;
out:
	hw_destroy(r.m);
	run_free(&r);
	return err;
}

/* Does op i differ between the runs in what the hypervisor (or its
 * accomplice) sees? VM ops of a victim: the result kind only (a fault or
 * a block exits to the hypervisor); everything else: result and value. */
static int differs(const hw_script *s, const op *o, const outcome *a, const outcome *b)
{
	if (a->rc != b->rc)
		return 1;
	int vm_op = o->kind == OP_VM_WRITE || o->kind == OP_VM_READ || o->kind == OP_VM_SHARE ||
		    o->kind == OP_VM_UNSHARE;
	if (vm_op && !s->vms[o->vm].attacker)
		return 0;
	return a->rc == HW_OK && a->has_val && a->val != b->val;
}

json_t *script_run_opts(const hw_script *s, const script_opts *so)
{
	size_t n = s->n ? s->n : 1;
	outcome *a = calloc(n, sizeof(*a)), *b = calloc(n, sizeof(*b));
	json_t *ops = json_array(), *res = NULL;
	uint64_t conf, integ, c2, i2, leaks = 0;
	if (!a || !b || !ops || run_once(s, so, 0, a, &conf, &integ) ||
	    run_once(s, so, 1, b, &c2, &i2))
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		const op *o = &s->ops[i];
		int d = differs(s, o, &a[i], &b[i]);
		leaks += (uint64_t)d;
		json_t *j = json_pack("{s:i,s:s,s:s}", "line", o->line, "op", o->text, "result",
				      result_name(a[i].rc));
		if (j && a[i].rc == HW_OK && a[i].has_val)
			json_object_set_new(j, "value", json_integer((json_int_t)a[i].val));
		if (j && d)
			json_object_set_new(j, "twin_differs", json_true());
		if (!j || json_array_append_new(ops, j))
			goto out;
	}
	res = json_pack("{s:O,s:I,s:I,s:I}", "ops", ops, "confidentiality_violations",
			(json_int_t)conf, "integrity_violations", (json_int_t)integ,
			"noninterference_leaks", (json_int_t)leaks);
out:
	json_decref(ops);
	free(a);
	free(b);
	return res;
}

script_opts script_opts_default(int protect, uint64_t seed)
{
	return (script_opts){ .protect = protect, .seed = seed };
}

json_t *script_run_ex(const hw_script *s, int protect, int no_shootdown, uint64_t seed)
{
	script_opts o = script_opts_default(protect, seed);
	o.no_shootdown = no_shootdown;
	return script_run_opts(s, &o);
}

json_t *script_run(const hw_script *s, int protect, uint64_t seed)
{
	script_opts o = script_opts_default(protect, seed);
	return script_run_opts(s, &o);
}
