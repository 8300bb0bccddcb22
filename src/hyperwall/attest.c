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

/* The manufacturer's root public key: the Ed25519 key of seed
 * "virtlab hyperwall manufacturer 1" (the model's factory, hw__factory_sign
 * in machine.c; test_pinned_root checks the two agree). A customer pins
 * this; nothing here reads it from a machine. */
const uint8_t attest_mfr_root[ATTEST_PK] = {
	0xdd, 0x05, 0x0a, 0xdd, 0x15, 0xcf, 0x2c, 0x68, 0xe1, 0xdb, 0x7f,
	0x0c, 0x6b, 0xa8, 0x36, 0x61, 0xd5, 0xab, 0x37, 0x86, 0xa1, 0x69,
	0xd6, 0x35, 0xad, 0xaa, 0x68, 0xab, 0x77, 0xbc, 0x95, 0xb2,
};

void attest_measure(uint32_t total, const uint8_t *prot, attest_page_fn page, void *ctx,
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
		put64(rec + 8, prot[g] ? CIP_PROTECT_ALL : 0);
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

int attest_expected_measurement_req(const hw_launch_req *req, uint8_t out[ATTEST_HASH])
{
	uint32_t pages = req->pages, gpt = walk_gpt_pages(req->vpns, pages);
	canon c = { pages, calloc((size_t)gpt * HW_PAGE_WORDS, sizeof(uint64_t)) };
	uint8_t *prot = malloc(pages + gpt);
	if (!c.tables || !prot) {
		free(c.tables);
		free(prot);
		return VL_ENOMEM;
	}
	for (uint32_t g = 0; g < pages + gpt; g++)
		prot[g] = g < pages && req->prot ? req->prot[g] != 0 : HW_PROT_CI;
	walk_build_gpt(req->vpns, pages, canon_build, &c);
	attest_measure(pages + gpt, prot, canon_page, &c, out);
	free(c.tables);
	free(prot);
	return 0;
}

int attest_expected_measurement(uint32_t pages, uint8_t out[ATTEST_HASH])
{
	hw_launch_req req = { pages, NULL, NULL };
	return attest_expected_measurement_req(&req, out);
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

static void sign(hw_machine *m, hw_vm *vm, uint64_t nonce, const uint8_t meas[ATTEST_HASH],
		 attest_report *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->measurement, meas, ATTEST_HASH);
	r->vmid = vm->vmid;
	r->nonce = nonce;
	memcpy(r->vm_pk, vm->vm_pk, ATTEST_PK);
	uint8_t body[REPORT_BODY];
	serialize(r, body);
	crypto_sign_detached(r->sig, NULL, body, sizeof(body), m->chip_sk);
	memcpy(r->chip_pk, m->chip_pk, ATTEST_PK);
	memcpy(r->chip_cert, m->chip_cert, ATTEST_SIG);
}

int hw_attest_report(hw_machine *m, uint32_t id, uint64_t nonce, attest_report *r)
{
	hw_vm *vm = hw__vm(m, id);
	if (!vm || vm->state != VM_RUNNING)
		return HW_FAULT;
	/* without a hardware root of trust the hypervisor's software claims
	 * the measurement of the image the customer sent (vm->claim) */
	sign(m, vm, nonce, m->cfg.protect ? vm->measurement : vm->claim, r);
	return HW_OK;
}

int hw_attest_forge(hw_machine *m, uint32_t id, uint64_t nonce,
		    const uint8_t measurement[ATTEST_HASH], attest_report *r)
{
	hw_vm *vm = hw__vm(m, id);
	if (m->cfg.protect)
		return HW_BLOCKED;
	if (!vm || vm->state != VM_RUNNING)
		return HW_FAULT;
	sign(m, vm, nonce, measurement, r);
	return HW_OK;
}

int hw_vm_open_sealed(const hw_machine *m, uint32_t id, const uint8_t *c, size_t clen, uint8_t *out)
{
	const hw_vm *vm = hw__vm(m, id);
	if (!vm || vm->state != VM_RUNNING || clen < crypto_box_SEALBYTES)
		return VL_EINVAL;
	return crypto_box_seal_open(out, c, clen, vm->vm_pk, vm->vm_sk) ? VL_EINVAL : 0;
}

void hw_customer_accepted(hw_machine *m, uint32_t id)
{
	if (hw__vm(m, id))
		truth_vm_attested(m->truth, id);
}

void attest_verifier_init(attest_verifier *v, const uint8_t root_pk[ATTEST_PK])
{
	memset(v, 0, sizeof(*v));
	memcpy(v->root_pk, root_pk, ATTEST_PK);
}

int attest_bind(const hw_machine *m, uint32_t id, const uint8_t vm_pk[ATTEST_PK])
{
	uint8_t secret[16], c[crypto_box_SEALBYTES + sizeof(secret)], back[sizeof(secret)];
	randombytes_buf(secret, sizeof(secret));
	if (crypto_box_seal(c, secret, sizeof(secret), vm_pk))
		return VL_EINVAL;
	if (hw_vm_open_sealed(m, id, c, sizeof(c), back) ||
	    sodium_memcmp(back, secret, sizeof(secret)))
		return VL_EINVAL;
	return 0;
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
		  uint64_t nonce, vl_errbuf *eb)
{
	int fresh;
	if (note_nonce(v, nonce, &fresh))
		return VL_ENOMEM;
	if (!fresh)
		return vl_fail(eb, VL_EINVAL, "nonce %llu was used before: replay",
			       (unsigned long long)nonce);
	/* the certificate is checked once per chip key, as a customer would */
	if (!v->certified || memcmp(v->certified_pk, r->chip_pk, ATTEST_PK)) {
		v->certified = 0;
		if (crypto_sign_verify_detached(r->chip_cert, r->chip_pk, ATTEST_PK, v->root_pk))
			return vl_fail(eb, VL_EINVAL,
				       "chip key not certified by the pinned manufacturer root");
		memcpy(v->certified_pk, r->chip_pk, ATTEST_PK);
		v->certified = 1;
	}
	uint8_t body[REPORT_BODY];
	serialize(r, body);
	if (crypto_sign_verify_detached(r->sig, body, sizeof(body), r->chip_pk))
		return vl_fail(eb, VL_EINVAL, "bad signature");
	if (r->nonce != nonce)
		return vl_fail(eb, VL_EINVAL, "report answers nonce %llu, not %llu: replay",
			       (unsigned long long)r->nonce, (unsigned long long)nonce);
	if (sodium_memcmp(r->measurement, expected, ATTEST_HASH))
		return vl_fail(eb, VL_EINVAL, "measurement differs from the image sent");
	return 0;
}

int attest_customer(attest_verifier *v, hw_machine *m, uint32_t id, const attest_report *r,
		    const uint8_t expected[ATTEST_HASH], uint64_t nonce, vl_errbuf *eb)
{
	vl_errbuf local;
	if (!eb)
		eb = &local;
	int err = attest_verify(v, r, expected, nonce, eb);
	if (err == VL_ENOMEM)
		return err;
	if (err)
		return HW_BLOCKED;
	err = attest_bind(m, id, r->vm_pk);
	if (err) {
		vl_fail(eb, VL_EINVAL, "the VM does not hold the attested key: relayed report");
		return HW_BLOCKED;
	}
	hw_customer_accepted(m, id);
	return HW_OK;
}
