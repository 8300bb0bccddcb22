/* fuzz.c — see fuzz.h. */
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

typedef struct fz {
	hw_machine *m;
	rng r;
	uint32_t *live, nlive, maxvms;
	attest_verifier *ver; /* per VM id, index id - 1 */
	uint32_t nver;
	size_t capver;
	uint64_t next_nonce;
	/* the customer's expected measurement per VM size (1..FUZZ_MAX_PAGES) */
	uint8_t expect[FUZZ_MAX_PAGES + 1][ATTEST_HASH];
	uint8_t have_expect[FUZZ_MAX_PAGES + 1];
} fz;

static uint32_t pick_live(fz *f)
{
	return f->live[rng_below(&f->r, f->nlive)];
}

/* Any VM ever created (terminated ones too: their frames are interesting). */
static uint32_t pick_any(fz *f)
{
	uint32_t n = hw_vm_count(f->m);
	return n ? 1 + (uint32_t)rng_below(&f->r, n) : 0;
}

/* A guest address: mostly a hot word of a data page, sometimes a table
 * page, beyond the VM, or unaligned. */
static uint64_t guest_addr(fz *f, uint32_t id)
{
	uint64_t pages = hw_vm_pages(f->m, id), x = rng_below(&f->r, 100);
	uint64_t word = rng_below(&f->r, FUZZ_HOT_WORDS) * 8;
	if (x < 90)
		return (rng_below(&f->r, pages) << 12) + word;
	if (x < 95)
		return ((pages + rng_below(&f->r, 8)) << 12) + word;
	return (rng_below(&f->r, pages) << 12) + word + 1 + rng_below(&f->r, 7);
}

/* A host-physical target for the hypervisor or a device. */
static uint64_t host_addr(fz *f, int page_aligned)
{
	uint64_t x = rng_below(&f->r, 100), hpa = 0, word = rng_below(&f->r, FUZZ_HOT_WORDS) * 8;
	uint32_t id = pick_any(f), cip = hw_cip_first(f->m);
	if (x < 55 && id) {
		uint64_t gpa = rng_below(&f->r, hw_vm_gpa_pages(f->m, id)) << 12;
		if (hw_hv_frame(f->m, id, gpa, &hpa) == HW_OK)
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

static int verifier_for(fz *f, uint32_t id, attest_verifier **v)
{
	if (vl_grow(&f->ver, &f->capver, id, sizeof(*f->ver)) < 0)
		return VL_ENOMEM;
	while (f->nver < id)
		attest_verifier_init(&f->ver[f->nver++], attest_mfr_root);
	*v = &f->ver[id - 1];
	return 0;
}

/* The customer attests VM id with a nonce; accepted -> HW_OK. */
static int attest(fz *f, uint32_t id, uint64_t nonce)
{
	attest_verifier *v;
	attest_report rep;
	uint32_t pages = hw_vm_pages(f->m, id);
	if (verifier_for(f, id, &v))
		return VL_ENOMEM;
	if (!f->have_expect[pages]) {
		if (attest_expected_measurement(pages, f->expect[pages]))
			return VL_ENOMEM;
		f->have_expect[pages] = 1;
	}
	const uint8_t *expect = f->expect[pages];
	int rc = hw_attest_report(f->m, id, nonce, &rep);
	if (rc)
		return rc;
	return attest_customer(v, f->m, id, &rep, expect, nonce, NULL);
}

/* The hypervisor builds a VM, maybe tampers, launches; the customer
 * attests and walks away unless the report checks out. */
static int create(fz *f)
{
	uint32_t id, pages = 1 + (uint32_t)rng_below(&f->r, FUZZ_MAX_PAGES);
	int rc = hw_vm_prepare(f->m, pages, NULL, &id);
	if (rc)
		return rc;
	uint64_t x = rng_below(&f->r, 100), hpa;
	if (x < 10) { /* tamper with the image (data or guest tables) */
		uint64_t gpa = rng_below(&f->r, hw_vm_gpa_pages(f->m, id)) << 12;
		if (hw_hv_frame(f->m, id, gpa, &hpa) == HW_OK) {
			uint64_t w = hpa + rng_below(&f->r, 512) * 8;
			if ((rc = hw_hv_write(f->m, w, rng_next(&f->r) >> 1)) < 0)
				return rc;
		}
	} else if (x < 15) { /* bend the nested tables before launch */
		uint64_t gpa = rng_below(&f->r, hw_vm_gpa_pages(f->m, id)) << 12;
		if ((rc = hw_hv_map(f->m, id, gpa, host_addr(f, 1))) < 0)
			return rc;
	}
	rc = hw_vm_launch(f->m, id);
	if (rc)
		return rc;
	rc = attest(f, id, f->next_nonce++);
	if (rc < 0)
		return rc;
	if (rc) {
		hw_vm_terminate(f->m, id);
		return rc;
	}
	f->live[f->nlive++] = id;
	return HW_OK;
}

static int terminate(fz *f)
{
	uint32_t i = (uint32_t)rng_below(&f->r, f->nlive), id = f->live[i];
	f->live[i] = f->live[--f->nlive];
	return hw_vm_terminate(f->m, id);
}

static int one_op(fz *f)
{
	hw_machine *m = f->m;
	uint64_t x = rng_below(&f->r, 1000), val;
	if (!f->nlive || (x < 15 && f->nlive < f->maxvms))
		return create(f);
	if (x < 25)
		return terminate(f);
	uint32_t id = pick_live(f);
	if (x < 260)
		return hw_vm_write(m, id, guest_addr(f, id), rng_next(&f->r) >> 1);
	if (x < 480)
		return hw_vm_read(m, id, guest_addr(f, id), &val);
	if (x < 490)
		return hw_vm_share(m, id, guest_addr(f, id) & ~0xfffull);
	if (x < 590)
		return hw_hv_read(m, host_addr(f, 0), &val);
	if (x < 680)
		return hw_hv_write(m, host_addr(f, 0), rng_next(&f->r) >> 1);
	if (x < 750)
		return hw_hv_map(m, id, rng_below(&f->r, hw_vm_gpa_pages(m, id)) << 12,
				 host_addr(f, 1));
	if (x < 780)
		return hw_hv_unmap(m, id, rng_below(&f->r, hw_vm_gpa_pages(m, id)) << 12);
	if (x < 850)
		return hw_dma_read(m, host_addr(f, 0), &val);
	if (x < 920)
		return hw_dma_write(m, host_addr(f, 0), rng_next(&f->r) >> 1);
	if (x < 960)
		return hw_hv_cip_write(m, host_addr(f, 1), rng_next(&f->r) >> 1);
	if (x < 990) {
		uint64_t hpa;
		return hw_hv_frame(m, id, guest_addr(f, id), &hpa);
	}
	/* attestation: mostly a fresh nonce, sometimes one already used */
	uint64_t nonce =
		rng_below(&f->r, 4) ? f->next_nonce++ : rng_below(&f->r, f->next_nonce + 1);
	return attest(f, id, nonce);
}

int fuzz_run(uint64_t ops, uint32_t maxvms, int protect, uint64_t seed, progress_cb on_progress,
	     void *pctx, fuzz_result *r)
{
	return fuzz_run_ex(ops, maxvms, protect, 0, seed, on_progress, pctx, r);
}

int fuzz_run_ex(uint64_t ops, uint32_t maxvms, int protect, int no_shootdown, uint64_t seed,
		progress_cb on_progress, void *pctx, fuzz_result *r)
{
	hw_config cfg = hw_config_default();
	cfg.frames = FUZZ_FRAMES;
	cfg.protect = protect;
	cfg.no_shootdown = no_shootdown;
	cfg.seed = seed;
	fz f = { .m = hw_create(&cfg),
		 .live = calloc(maxvms ? maxvms : 1, sizeof(uint32_t)),
		 .maxvms = maxvms ? maxvms : 1,
		 .next_nonce = 1 };
	rng_seed(&f.r, seed ^ 0x6675a2a11ull);
	memset(r, 0, sizeof(*r));
	int err = (!f.m || !f.live) ? VL_ENOMEM : 0;
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
	if (f.m) {
		r->conf = hw_conf_violations(f.m);
		r->integ = hw_integ_violations(f.m);
	}
	for (uint32_t i = 0; i < f.nver; i++)
		attest_verifier_free(&f.ver[i]);
	free(f.ver);
	free(f.live);
	hw_destroy(f.m);
	return err;
}
