/* fuzz.c — see fuzz.h. The adversary draws each operation from the primary
 * machine's state (the frames its allocator handed out, the VMs alive) and
 * writes it down as a concrete operation (fop); the same fop then runs on
 * the primary and on its twin, and their outcomes are compared. */
#include "hyperwall/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/rng.h"
#include "hyperwall/attest.h"
#include "hyperwall/hw.h"

#define FUZZ_FRAMES 4096 /* 16 MiB: small, so random HPAs hit VM frames */
#define FUZZ_MAX_PAGES 8 /* data pages per VM */
#define FUZZ_HOT_WORDS 8 /* words per page the guest uses (reuse!) */
#define PTE_PW 3ull      /* present | writable */

enum fop_kind {
	F_VM_WRITE,
	F_VM_READ,
	F_VM_SHARE,
	F_VM_UNSHARE,
	F_HV_READ,
	F_HV_WRITE,
	F_HV_MAP,
	F_HV_UNMAP,
	F_HV_INVEPT,
	F_HV_PROTECT,
	F_HV_FRAME,
	F_DMA_READ,
	F_DMA_WRITE,
	F_CIP_WRITE,
	F_PREPARE,
	F_LAUNCH,
	F_TERMINATE,
	F_ATTEST, /* the customer challenges id with nonce a */
	F_SAVE,   /* the hypervisor keeps a report of id */
	F_REPLAY, /* the customer challenges id (nonce a); the hypervisor
		   * answers with id2's saved report */
};

/* A concrete operation: what the adversary (or a customer) does. */
typedef struct fop {
	int kind;
	uint32_t id, id2;
	uint64_t a, b;
} fop;

/* What the fuzzer knows of VM id: the customer's request and its role. */
typedef struct vmi {
	uint8_t attacker; /* the hypervisor's accomplice */
	uint8_t pages;
	uint8_t io;   /* data page it shares for I/O, or 0xff: none */
	uint8_t none; /* data page the customer left unprotected, or 0xff */
	uint8_t prot[FUZZ_MAX_PAGES];
	uint8_t expect[ATTEST_HASH];
} vmi;

/* One machine and its customers: the primary or the twin. */
typedef struct side {
	hw_machine *m;
	int twin;
	attest_verifier *ver; /* per VM id, index id - 1 */
	uint32_t nver;
	size_t capver;
	attest_report *saved; /* per VM id: the report the hypervisor kept */
	size_t capsaved;
} side;

typedef struct fz {
	side s[2];
	rng r;
	uint32_t *live, nlive, maxvms;
	vmi *vms; /* per VM id, index id - 1 */
	size_t capvms;
	uint64_t next_nonce, leaks, crafted;
} fz;

static hw_machine *M(fz *f)
{
	return f->s[0].m;
}

static uint32_t pick_live(fz *f)
{
	return f->live[rng_below(&f->r, f->nlive)];
}

/* Any VM ever created (terminated ones too: their frames are interesting). */
static uint32_t pick_any(fz *f)
{
	uint32_t n = hw_vm_count(M(f));
	return n ? 1 + (uint32_t)rng_below(&f->r, n) : 0;
}

/* A guest address: mostly a hot word of a data page, sometimes a table
 * page, beyond the VM, or unaligned. */
static uint64_t guest_addr(fz *f, uint32_t id)
{
	uint64_t pages = hw_vm_pages(M(f), id), x = rng_below(&f->r, 100);
	uint64_t word = rng_below(&f->r, FUZZ_HOT_WORDS) * 8;
	if (x < 90)
		return (rng_below(&f->r, pages) << 12) + word;
	if (x < 95)
		return ((pages + rng_below(&f->r, 8)) << 12) + word;
	return (rng_below(&f->r, pages) << 12) + word + 1 + rng_below(&f->r, 7);
}

/* A value a guest stores: real memory holds small integers and pointers as
 * well as high-entropy data, so a quarter each are small integers and
 * page-address-like words (a frame number and flag bits), the rest random. */
static uint64_t guest_value(fz *f)
{
	uint64_t x = rng_below(&f->r, 4);
	if (x == 0)
		return rng_below(&f->r, 1 << 16);
	if (x == 1)
		return rng_below(&f->r, FUZZ_FRAMES) << 12 | rng_below(&f->r, 8);
	return rng_next(&f->r) >> 1;
}

/* A host-physical target for the hypervisor or a device. */
static uint64_t host_addr(fz *f, int page_aligned)
{
	uint64_t x = rng_below(&f->r, 100), hpa = 0, word = rng_below(&f->r, FUZZ_HOT_WORDS) * 8;
	uint32_t id = pick_any(f), cip = hw_cip_first(M(f));
	if (x < 55 && id) {
		uint64_t gpa = rng_below(&f->r, hw_vm_gpa_pages(M(f), id)) << 12;
		if (hw_hv_frame(M(f), id, gpa, &hpa) == HW_OK)
			return hpa + (page_aligned ? 0 : word);
	}
	if (x < 85)
		hpa = rng_below(&f->r, cip) << 12;
	else if (x < 95)
		hpa = (cip + rng_below(&f->r, FUZZ_FRAMES - cip)) << 12;
	else
		hpa = rng_below(&f->r, (uint64_t)FUZZ_FRAMES << 13);
	return page_aligned ? hpa & ~0xfffull : hpa + word;
}

/* --- running one fop on one side ------------------------------------------------ */

static int side_grow(side *s, uint32_t id)
{
	if (vl_grow(&s->ver, &s->capver, id, sizeof(*s->ver)) < 0 ||
	    vl_grow(&s->saved, &s->capsaved, id, sizeof(*s->saved)) < 0)
		return VL_ENOMEM;
	while (s->nver < id) {
		attest_verifier_init(&s->ver[s->nver], attest_mfr_root);
		memset(&s->saved[s->nver], 0, sizeof(*s->saved));
		s->saved[s->nver++].nonce = UINT64_MAX; /* none kept yet */
	}
	return 0;
}

/* The customer's challenge for id answered by report r; rejected -> the
 * customer walks away and the VM is torn down. */
static int customer(fz *f, side *s, uint32_t id, const attest_report *r, uint64_t nonce)
{
	int rc = attest_customer(&s->ver[id - 1], s->m, id, r, f->vms[id - 1].expect, nonce, NULL);
	if (rc == HW_BLOCKED)
		hw_vm_terminate(s->m, id);
	return rc;
}

static int attest_op(fz *f, side *s, const fop *o)
{
	attest_report r;
	int rc;
	if (!hw_vm_running(s->m, o->id))
		return HW_FAULT;
	if ((rc = side_grow(s, o->id > o->id2 ? o->id : o->id2)))
		return rc;
	switch (o->kind) {
	case F_SAVE:
		return hw_attest_report(s->m, o->id, o->a, &s->saved[o->id - 1]);
	case F_REPLAY:
		if (!o->id2 || s->saved[o->id2 - 1].nonce == UINT64_MAX)
			return HW_FAULT;
		if (hw_get_config(s->m)->protect)
			r = s->saved[o->id2 - 1];
		else if ((rc = hw_attest_forge(s->m, o->id, o->a, s->saved[o->id2 - 1].measurement,
					       &r)))
			return rc;
		return customer(f, s, o->id, &r, o->a);
	default:
		if ((rc = hw_attest_report(s->m, o->id, o->a, &r)))
			return rc;
		return customer(f, s, o->id, &r, o->a);
	}
}

/* In the twin, a victim's store to one of its private data pages stores a
 * different value (bits 0..62 flipped); everything else is the same. */
static uint64_t stored(const fz *f, const side *s, const fop *o)
{
	const vmi *v = &f->vms[o->id - 1];
	uint64_t p = o->a >> 12;
	if (!s->twin || v->attacker || p >= v->pages || p == v->io || !v->prot[p])
		return o->b;
	return o->b ^ (uint64_t)INT64_MAX;
}

static int run_fop(fz *f, side *s, const fop *o, uint64_t *val, int *has_val)
{
	hw_machine *m = s->m;
	*has_val = 0;
	switch (o->kind) {
	case F_VM_WRITE:
		return hw_vm_write(m, o->id, o->a, stored(f, s, o));
	case F_VM_READ:
		*has_val = 1;
		return hw_vm_read(m, o->id, o->a, val);
	case F_VM_SHARE:
		return hw_vm_share(m, o->id, o->a);
	case F_VM_UNSHARE:
		return hw_vm_unshare(m, o->id, o->a);
	case F_HV_READ:
		*has_val = 1;
		return hw_hv_read(m, o->a, val);
	case F_HV_WRITE:
		return hw_hv_write(m, o->a, o->b);
	case F_HV_MAP:
		return hw_hv_map(m, o->id, o->a, o->b);
	case F_HV_UNMAP:
		return hw_hv_unmap(m, o->id, o->a);
	case F_HV_INVEPT:
		return hw_hv_invept(m, o->id);
	case F_HV_PROTECT:
		return hw_hv_protect(m, o->id, o->a, (int)o->b);
	case F_HV_FRAME:
		*has_val = 1;
		return hw_hv_frame(m, o->id, o->a, val);
	case F_DMA_READ:
		*has_val = 1;
		return hw_dma_read(m, o->a, val);
	case F_DMA_WRITE:
		return hw_dma_write(m, o->a, o->b);
	case F_CIP_WRITE:
		return hw_hv_cip_write(m, o->a, o->b);
	case F_PREPARE: {
		const vmi *v = &f->vms[o->id - 1];
		hw_launch_req req = { v->pages, NULL, v->prot };
		uint32_t id;
		int rc = hw_vm_prepare_req(m, &req, &id);
		return rc < 0 || id == o->id ? rc : VL_EINVAL;
	}
	case F_LAUNCH:
		return hw_vm_launch(m, o->id);
	case F_TERMINATE:
		return hw_vm_terminate(m, o->id);
	default:
		return attest_op(f, s, o);
	}
}

/* Runs o on both machines; returns the primary's result and counts a leak
 * if the twin's outcome differs where the hypervisor can see it. */
static int both(fz *f, const fop *o)
{
	uint64_t v[2] = { 0, 0 };
	int rc[2], hv[2];
	for (int i = 0; i < 2; i++)
		if ((rc[i] = run_fop(f, &f->s[i], o, &v[i], &hv[i])) < 0)
			return rc[i];
	int vm_op = o->kind <= F_VM_UNSHARE;
	if (rc[0] != rc[1])
		f->leaks++;
	else if (rc[0] == HW_OK && hv[0] && v[0] != v[1] && (!vm_op || f->vms[o->id - 1].attacker))
		f->leaks++;
	return rc[0];
}

static int do1(fz *f, int kind, uint32_t id, uint64_t a, uint64_t b)
{
	fop o = { kind, id, 0, a, b };
	return both(f, &o);
}

/* --- the adversary ---------------------------------------------------------------- */

static int vm_info(fz *f, uint32_t id)
{
	if (vl_grow(&f->vms, &f->capvms, id, sizeof(*f->vms)) < 0)
		return VL_ENOMEM;
	vmi *v = &f->vms[id - 1];
	memset(v, 0, sizeof(*v));
	v->pages = (uint8_t)(1 + rng_below(&f->r, FUZZ_MAX_PAGES));
	v->attacker = rng_below(&f->r, 4) == 0;
	v->io = v->pages >= 2 ? (uint8_t)(v->pages - 1) : 0xff;
	v->none = v->pages >= 3 && rng_below(&f->r, 4) == 0 ? 0 : 0xff;
	for (uint32_t p = 0; p < v->pages; p++)
		v->prot[p] = p != v->none;
	hw_launch_req req = { v->pages, NULL, v->prot };
	return attest_expected_measurement_req(&req, v->expect);
}

/* The hypervisor builds a VM from the customer's request, maybe tampers,
 * launches; the customer attests and walks away unless it checks out. */
static int create(fz *f)
{
	uint32_t id = hw_vm_count(M(f)) + 1;
	int rc = vm_info(f, id);
	if (rc || (rc = do1(f, F_PREPARE, id, 0, 0)))
		return rc;
	uint64_t x = rng_below(&f->r, 100), hpa;
	if (x < 10) { /* tamper with the image (data or guest tables) */
		uint64_t gpa = rng_below(&f->r, hw_vm_gpa_pages(M(f), id)) << 12;
		if (hw_hv_frame(M(f), id, gpa, &hpa) == HW_OK &&
		    (rc = do1(f, F_HV_WRITE, 0, hpa + rng_below(&f->r, 512) * 8,
			      rng_next(&f->r) >> 1)) < 0)
			return rc;
	} else if (x < 15) { /* bend the nested tables before launch */
		uint64_t gpa = rng_below(&f->r, hw_vm_gpa_pages(M(f), id)) << 12;
		if ((rc = do1(f, F_HV_MAP, id, gpa, host_addr(f, 1))) < 0)
			return rc;
	} else if (x < 20) { /* weaken a protection the customer asked for */
		if ((rc = do1(f, F_HV_PROTECT, id, rng_below(&f->r, f->vms[id - 1].pages) << 12,
			      0)) < 0)
			return rc;
	}
	if ((rc = do1(f, F_LAUNCH, id, 0, 0)))
		return rc;
	rc = do1(f, F_ATTEST, id, f->next_nonce++, 0);
	if (rc == HW_OK)
		f->live[f->nlive++] = id;
	return rc;
}

static int terminate(fz *f)
{
	uint32_t i = (uint32_t)rng_below(&f->r, f->nlive), id = f->live[i];
	f->live[i] = f->live[--f->nlive];
	return do1(f, F_TERMINATE, id, 0, 0);
}

/* A frame to aim a crafted entry at: a victim's data frame, a CIP frame,
 * or a frame the hypervisor prepares with crafted entries of its own. */
static int crafted_target(fz *f, uint64_t *target)
{
	uint64_t x = rng_below(&f->r, 3), hpa;
	uint32_t victim = rng_below(&f->r, 4) ? pick_live(f) : pick_any(f);
	if (x == 0 && victim &&
	    hw_hv_frame(M(f), victim, rng_below(&f->r, hw_vm_pages(M(f), victim)) << 12, &hpa) ==
		    HW_OK) {
		*target = hpa;
		return 0;
	}
	if (x == 1) {
		uint32_t cip = hw_cip_first(M(f));
		*target = (cip + rng_below(&f->r, FUZZ_FRAMES - cip)) << 12;
		return 0;
	}
	/* the hypervisor prepares a frame: entries pointing at a victim frame */
	hpa = rng_below(&f->r, hw_cip_first(M(f))) << 12;
	uint64_t to = hpa;
	if (victim)
		hw_hv_frame(M(f), victim, 0, &to);
	for (uint64_t w = 0; w < 12; w++) {
		int rc = do1(f, F_HV_WRITE, 0, hpa + w * 8, to | PTE_PW);
		if (rc < 0)
			return rc;
	}
	*target = hpa;
	return 0;
}

/* The hypervisor writes a present entry, aimed at a crafted target, at one
 * level of one VM's nested (levels 0-3) or guest (4-7) tables, flushes,
 * and lets the VM walk through it. */
static int crafted_entry(fz *f, uint32_t id)
{
	uint64_t target, table, idx;
	int rc = crafted_target(f, &target);
	if (rc)
		return rc;
	uint32_t level = (uint32_t)rng_below(&f->r, 8), total = hw_vm_gpa_pages(M(f), id);
	uint32_t pages = hw_vm_pages(M(f), id);
	if (level < 4) { /* nested PML4, PDPT, PD, PT */
		if (hw_hv_npt_frame(M(f), id, level, &table) != HW_OK)
			return HW_FAULT;
		idx = level == 3 ? rng_below(&f->r, total) : 0;
	} else { /* guest L4 .. L1 (pages .. total - 1 in GPA order) */
		uint64_t gpa = (uint64_t)(pages + (level - 4)) << 12;
		if (pages + (level - 4) >= total || hw_hv_frame(M(f), id, gpa, &table) != HW_OK)
			return HW_FAULT;
		idx = level == 7 ? rng_below(&f->r, pages) : 0;
	}
	f->crafted++;
	if ((rc = do1(f, F_HV_WRITE, 0, table + idx * 8, target | PTE_PW)) < 0 ||
	    (rc = do1(f, F_HV_INVEPT, id, 0, 0)) < 0)
		return rc;
	uint64_t gva = rng_below(&f->r, pages) << 12 | rng_below(&f->r, FUZZ_HOT_WORDS) * 8;
	return do1(f, rng_below(&f->r, 2) ? F_VM_READ : F_VM_WRITE, id, gva, guest_value(f));
}

/* Aliased and out-of-range addresses. */
static int aliased(fz *f, uint32_t id)
{
	uint64_t x = rng_below(&f->r, 5), hi = 1ull << (48 + rng_below(&f->r, 16));
	switch (x) {
	case 0:
		return do1(f, F_VM_READ, id, guest_addr(f, id) | hi, 0);
	case 1:
		return do1(f, F_VM_WRITE, id, guest_addr(f, id) | hi, rng_next(&f->r) >> 1);
	case 2:
		return do1(f, F_HV_READ, 0, host_addr(f, 0) | hi, 0);
	case 3:
		return do1(f, F_DMA_READ, 0, host_addr(f, 0) | hi, 0);
	default:
		return do1(f, F_HV_MAP, id, rng_below(&f->r, hw_vm_gpa_pages(M(f), id)) << 12,
			   host_addr(f, 1) | hi);
	}
}

/* The guest shares its I/O page, a device works on it, the guest takes it
 * back while the device (and the hypervisor's cached translation) go on. */
static int share_race(fz *f, uint32_t id)
{
	const vmi *v = &f->vms[id - 1];
	uint64_t gpa = (v->io == 0xff ? v->pages : v->io) * 4096ull, hpa = 0, w;
	int rc = hw_hv_frame(M(f), id, gpa, &hpa);
	hpa += rng_below(&f->r, FUZZ_HOT_WORDS) * 8;
	static const int seq[] = { F_VM_SHARE,   F_DMA_WRITE, F_HV_READ,  F_VM_WRITE,
				   F_VM_UNSHARE, F_DMA_READ,  F_HV_READ,  F_VM_WRITE,
				   F_DMA_READ,   F_HV_READ,   F_VM_SHARE, F_DMA_READ };
	uint32_t n = 4 + (uint32_t)rng_below(&f->r, 9);
	for (uint32_t i = 0; i < n; i++) {
		int k = seq[i];
		int vm_side = k == F_VM_SHARE || k == F_VM_UNSHARE || k == F_VM_WRITE;
		w = k == F_VM_WRITE ? gpa + (hpa & 0xfff) : vm_side ? gpa : hpa;
		if ((rc = do1(f, k, vm_side ? id : 0, w, guest_value(f))) < 0)
			return rc;
	}
	return rc;
}

static int one_op(fz *f)
{
	uint64_t x = rng_below(&f->r, 1000);
	if (!f->nlive || (x < 15 && f->nlive < f->maxvms))
		return create(f);
	if (x < 25)
		return terminate(f);
	uint32_t id = pick_live(f);
	const vmi *v = &f->vms[id - 1];
	if (x < 230)
		return do1(f, F_VM_WRITE, id, guest_addr(f, id), guest_value(f));
	if (x < 420)
		return do1(f, F_VM_READ, id, guest_addr(f, id), 0);
	if (x < 430) /* only the I/O page is ever shared (else a table page) */
		return do1(f, rng_below(&f->r, 2) ? F_VM_SHARE : F_VM_UNSHARE, id,
			   (v->io == 0xff ? v->pages : v->io) * 4096ull, 0);
	if (x < 510)
		return do1(f, F_HV_READ, 0, host_addr(f, 0), 0);
	if (x < 580)
		return do1(f, F_HV_WRITE, 0, host_addr(f, 0), rng_next(&f->r) >> 1);
	if (x < 630)
		return do1(f, F_HV_MAP, id, rng_below(&f->r, hw_vm_gpa_pages(M(f), id)) << 12,
			   host_addr(f, 1));
	if (x < 650)
		return do1(f, F_HV_UNMAP, id, rng_below(&f->r, hw_vm_gpa_pages(M(f), id)) << 12, 0);
	if (x < 700)
		return do1(f, F_DMA_READ, 0, host_addr(f, 0), 0);
	if (x < 750)
		return do1(f, F_DMA_WRITE, 0, host_addr(f, 0), rng_next(&f->r) >> 1);
	if (x < 770)
		return do1(f, F_CIP_WRITE, 0, host_addr(f, 1), rng_next(&f->r) >> 1);
	if (x < 790)
		return do1(f, F_HV_FRAME, id, guest_addr(f, id), 0);
	if (x < 870)
		return crafted_entry(f, id);
	if (x < 920)
		return aliased(f, id);
	if (x < 970)
		return share_race(f, id);
	if (x < 980) { /* attestation: mostly a fresh nonce, sometimes a used one */
		uint64_t nonce =
			rng_below(&f->r, 4) ? f->next_nonce++ : rng_below(&f->r, f->next_nonce + 1);
		return do1(f, F_ATTEST, id, nonce, 0);
	}
	if (x < 990)
		return do1(f, F_SAVE, id, f->next_nonce++, 0);
	fop o = { F_REPLAY, id, pick_any(f), f->next_nonce++, 0 };
	return both(f, &o);
}

int fuzz_run(uint64_t ops, uint32_t maxvms, int protect, uint64_t seed, progress_cb on_progress,
	     void *pctx, fuzz_result *r)
{
	fuzz_opts o = { .protect = protect };
	return fuzz_run_opts(ops, maxvms, &o, seed, on_progress, pctx, r);
}

int fuzz_run_ex(uint64_t ops, uint32_t maxvms, int protect, int no_shootdown, uint64_t seed,
		progress_cb on_progress, void *pctx, fuzz_result *r)
{
	fuzz_opts o = { .protect = protect, .no_shootdown = no_shootdown };
	return fuzz_run_opts(ops, maxvms, &o, seed, on_progress, pctx, r);
}

static void side_free(side *s)
{
	for (uint32_t i = 0; i < s->nver; i++)
		attest_verifier_free(&s->ver[i]);
	free(s->ver);
	free(s->saved);
	hw_destroy(s->m);
}

int fuzz_run_opts(uint64_t ops, uint32_t maxvms, const fuzz_opts *fo, uint64_t seed,
		  progress_cb on_progress, void *pctx, fuzz_result *r)
{
	hw_config cfg = hw_config_default();
	cfg.frames = FUZZ_FRAMES;
	cfg.protect = fo->protect;
	cfg.no_shootdown = fo->no_shootdown;
	cfg.no_walk_check = fo->no_walk_check;
	cfg.insecure_test_keys = fo->insecure_test_keys;
	cfg.seed = seed;
	fz f = { .live = calloc(maxvms ? maxvms : 1, sizeof(uint32_t)),
		 .maxvms = maxvms ? maxvms : 1,
		 .next_nonce = 1 };
	for (int i = 0; i < 2; i++) {
		f.s[i].m = hw_create(&cfg);
		f.s[i].twin = i;
	}
	rng_seed(&f.r, seed ^ 0x6675a2a11ull);
	memset(r, 0, sizeof(*r));
	int err = (!f.s[0].m || !f.s[1].m || !f.live) ? VL_ENOMEM : 0;
	for (uint64_t i = 0; !err && i < ops; i++) {
		int rc = one_op(&f);
		if (rc < 0) {
			err = rc;
			break;
		}
		r->ops++;
		if (rc == HW_OK)
			r->ok++;
		else if (rc == HW_BLOCKED)
			r->blocked++;
		else
			r->fault++;
		if (on_progress && (i & 0xffff) == 0)
			on_progress(pctx, (double)i / (double)ops);
	}
	if (f.s[0].m) {
		r->conf = hw_conf_violations(f.s[0].m);
		r->integ = hw_integ_violations(f.s[0].m);
	}
	r->leaks = f.leaks;
	r->crafted = f.crafted;
	side_free(&f.s[0]);
	side_free(&f.s[1]);
	free(f.vms);
	free(f.live);
	return err;
}
