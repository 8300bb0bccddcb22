/* attest.c — see attest.h. Measurement, reports and the customer's verifier,
 * all on libsodium (BLAKE2b, Ed25519, X25519 sealed boxes). */
#include "hyperwall/attest.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "hyperwall/hw_impl.h"

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void attest_measure(uint32_t total, uint64_t prot, attest_page_fn page, void *ctx,
		    uint8_t out[ATTEST_HASH])
{
	static const uint64_t zero[HW_PAGE_WORDS];
	uint8_t zero_hash[ATTEST_HASH], rec[16 + ATTEST_HASH];
	crypto_generichash(zero_hash, ATTEST_HASH, (const uint8_t *)zero, sizeof(zero), NULL, 0);
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, ATTEST_HASH);
	put64(rec, total);
	crypto_generichash_update(&st, rec, 8);
	for (uint32_t g = 0; g < total; g++) {
		const uint64_t *p = page(ctx, g);
		put64(rec, (uint64_t)g << HW_PAGE_SHIFT);
		put64(rec + 8, prot);
		if (p) /* words are stored little-endian on our hosts */
			crypto_generichash(rec + 16, ATTEST_HASH, (const uint8_t *)p, HW_PAGE_SIZE,
					   NULL, 0);
		else
			memcpy(rec + 16, zero_hash, ATTEST_HASH);
		crypto_generichash_update(&st, rec, sizeof(rec));
	}
	crypto_generichash_final(&st, out, ATTEST_HASH);
}

typedef struct canon {
	uint32_t pages;
	uint64_t *tables; /* the guest table pages, 512 words each */
} canon;

static uint64_t *canon_build(void *ctx, uint32_t g)
{
	canon *c = ctx;
	return c->tables + (size_t)(g - c->pages) * HW_PAGE_WORDS;
}

static const uint64_t *canon_page(void *ctx, uint32_t g)
{
	canon *c = ctx;
	return g < c->pages ? NULL : canon_build(ctx, g);
}

int attest_expected_measurement(uint32_t pages, uint8_t out[ATTEST_HASH])
{
	uint32_t gpt = walk_gpt_pages(NULL, pages);
	canon c = { pages, calloc((size_t)gpt * HW_PAGE_WORDS, sizeof(uint64_t)) };
	if (!c.tables)
		return VL_ENOMEM;
	walk_build_gpt(NULL, pages, canon_build, &c);
	attest_measure(pages + gpt, CIP_PROTECT_ALL, canon_page, &c, out);
	free(c.tables);
	return 0;
}

enum { REPORT_BODY = ATTEST_HASH + 4 + 8 + ATTEST_PK };

static void serialize(const attest_report *r, uint8_t *b)
{
	memcpy(b, r->measurement, ATTEST_HASH);
	for (int i = 0; i < 4; i++)
		b[ATTEST_HASH + i] = (uint8_t)(r->vmid >> (8 * i));
	put64(b + ATTEST_HASH + 4, r->nonce);
	memcpy(b + ATTEST_HASH + 12, r->vm_pk, ATTEST_PK);
}

int hw_attest_report(hw_machine *m, uint32_t id, uint64_t nonce, attest_report *r)
{
	hw_vm *vm = hw__vm(m, id);
	if (!vm || vm->state != VM_RUNNING)
		return HW_FAULT;
	memset(r, 0, sizeof(*r));
	if (m->cfg.protect) {
		memcpy(r->measurement, vm->measurement, ATTEST_HASH);
	} else {
		/* no hardware root of trust: the hypervisor's software claims the
		 * measurement the customer wants to see */
		if (attest_expected_measurement(vm->pages, r->measurement))
			return VL_ENOMEM;
	}
	r->vmid = vm->vmid;
	r->nonce = nonce;
	memcpy(r->vm_pk, vm->vm_pk, ATTEST_PK);
	uint8_t body[REPORT_BODY];
	serialize(r, body);
	crypto_sign_detached(r->sig, NULL, body, sizeof(body), m->chip_sk);
	return HW_OK;
}

int hw_vm_open_sealed(const hw_machine *m, uint32_t id, const uint8_t *c, size_t clen, uint8_t *out)
{
	const hw_vm *vm = hw__vm(m, id);
	if (!vm || vm->state != VM_RUNNING || clen < crypto_box_SEALBYTES)
		return VL_EINVAL;
	return crypto_box_seal_open(out, c, clen, vm->vm_pk, vm->vm_sk) ? VL_EINVAL : 0;
}

void hw_customer_accepted(hw_machine *m, uint32_t id, const uint8_t expected[ATTEST_HASH])
{
	const hw_vm *vm = hw__vm(m, id);
	if (vm)
		truth_vm_attested(m->truth, id, !memcmp(vm->measurement, expected, ATTEST_HASH));
}

void attest_verifier_init(attest_verifier *v, const hw_machine *m)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->mfr_pk, m->mfr_pk, ATTEST_PK);
	memcpy(v->chip_pk, m->chip_pk, ATTEST_PK);
	memcpy(v->chip_cert, m->chip_cert, ATTEST_SIG);
}

void attest_verifier_free(attest_verifier *v)
{
	free(v->used);
	v->used = NULL;
	v->nused = v->capused = 0;
}

static int note_nonce(attest_verifier *v, uint64_t nonce, int *fresh)
{
	*fresh = 1;
	for (size_t i = 0; i < v->nused; i++)
		if (v->used[i] == nonce)
			*fresh = 0;
	if (!*fresh)
		return 0;
	if (vl_grow(&v->used, &v->capused, v->nused + 1, sizeof(*v->used)) < 0)
		return VL_ENOMEM;
	v->used[v->nused++] = nonce;
	return 0;
}

int attest_verify(attest_verifier *v, const attest_report *r, const uint8_t expected[ATTEST_HASH],
		  uint32_t vmid, uint64_t nonce, vl_errbuf *eb)
{
	int fresh;
	if (note_nonce(v, nonce, &fresh))
		return VL_ENOMEM;
	if (!fresh)
		return vl_fail(eb, VL_EINVAL, "nonce %llu was used before: replay",
			       (unsigned long long)nonce);
	/* the certificate is checked once per chip key, as a customer would */
	if (!v->certified || memcmp(v->certified_pk, v->chip_pk, ATTEST_PK)) {
		v->certified = 0;
		if (crypto_sign_verify_detached(v->chip_cert, v->chip_pk, ATTEST_PK, v->mfr_pk))
			return vl_fail(eb, VL_EINVAL, "chip key not certified by the manufacturer");
		memcpy(v->certified_pk, v->chip_pk, ATTEST_PK);
		v->certified = 1;
	}
	uint8_t body[REPORT_BODY];
	serialize(r, body);
	if (crypto_sign_verify_detached(r->sig, body, sizeof(body), v->chip_pk))
		return vl_fail(eb, VL_EINVAL, "bad signature");
	if (r->nonce != nonce)
		return vl_fail(eb, VL_EINVAL, "report answers nonce %llu, not %llu: replay",
			       (unsigned long long)r->nonce, (unsigned long long)nonce);
	if (r->vmid != vmid)
		return vl_fail(eb, VL_EINVAL, "report is for VMID %u, not %u", r->vmid, vmid);
	if (sodium_memcmp(r->measurement, expected, ATTEST_HASH))
		return vl_fail(eb, VL_EINVAL, "measurement differs from the image sent");
	return 0;
}
