/*
 * test_hyperwall_attest.c — HyperWall keys and attestation: a valid report
 * verifies; tampering with any field, the signature, the chip certificate
 * or the image is rejected with the reason; a replayed report or a reused
 * nonce is rejected; a secret sealed to the VM's hardware key opens only
 * for that VM; without HyperWall the hypervisor's claim hides tampering.
 */
#include "vl_test.h"

#include <sodium.h>

#include "hyperwall/attest.h"
#include "hyperwall/hw.h"

typedef struct fx {
	hw_machine *m;
	uint32_t id;
	attest_verifier v;
	uint8_t expect[ATTEST_HASH];
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	hw_config cfg = hw_config_default();
	cfg.frames = 512;
	f->m = hw_create(&cfg);
	assert_non_null(f->m);
	assert_int_equal(hw_vm_create(f->m, 3, NULL, &f->id), HW_OK);
	attest_verifier_init(&f->v, f->m);
	assert_int_equal(attest_expected_measurement(3, f->expect), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	attest_verifier_free(&f->v);
	hw_destroy(f->m);
	free(f);
	return 0;
}

static int verify(fx *f, const attest_report *r, uint64_t nonce, vl_errbuf *eb)
{
	return attest_verify(&f->v, r, f->expect, hw_vm_vmid(f->m, f->id), nonce, eb);
}

static void test_valid_report(void **state)
{
	fx *f = *state;
	attest_report r;
	vl_errbuf eb;
	assert_int_equal(hw_attest_report(f->m, f->id, 42, &r), HW_OK);
	assert_int_equal(verify(f, &r, 42, &eb), 0);
	assert_int_equal(r.vmid, hw_vm_vmid(f->m, f->id));
	assert_int_equal(r.nonce, 42);
	/* the measurement differs for a different image size */
	uint8_t other[ATTEST_HASH];
	assert_int_equal(attest_expected_measurement(4, other), 0);
	assert_memory_not_equal(other, f->expect, ATTEST_HASH);
}

static void expect_reject(fx *f, const attest_report *r, uint64_t nonce, const char *why)
{
	vl_errbuf eb;
	assert_int_equal(verify(f, r, nonce, &eb), VL_EINVAL);
	if (!strstr(eb.msg, why))
		fail_msg("message '%s' lacks '%s'", eb.msg, why);
}

static void test_tampered_reports(void **state)
{
	fx *f = *state;
	attest_report r, t;
	assert_int_equal(hw_attest_report(f->m, f->id, 100, &r), HW_OK);
	t = r;
	t.measurement[0] ^= 1;
	expect_reject(f, &t, 100, "bad signature");
	assert_int_equal(hw_attest_report(f->m, f->id, 101, &r), HW_OK);
	t = r;
	t.vmid ^= 1;
	expect_reject(f, &t, 101, "bad signature");
	assert_int_equal(hw_attest_report(f->m, f->id, 102, &r), HW_OK);
	t = r;
	t.nonce = 103;
	expect_reject(f, &t, 103, "bad signature");
	assert_int_equal(hw_attest_report(f->m, f->id, 104, &r), HW_OK);
	t = r;
	t.sig[10] ^= 0x80;
	expect_reject(f, &t, 104, "bad signature");
	assert_int_equal(hw_attest_report(f->m, f->id, 105, &r), HW_OK);
	t = r;
	t.vm_pk[0] ^= 1;
	expect_reject(f, &t, 105, "bad signature");
	/* a chip key the manufacturer never certified */
	assert_int_equal(hw_attest_report(f->m, f->id, 106, &r), HW_OK);
	f->v.chip_pk[3] ^= 1;
	expect_reject(f, &r, 106, "not certified");
	f->v.chip_pk[3] ^= 1;
	/* the right report for a VMID other than the one the cloud named */
	assert_int_equal(hw_attest_report(f->m, f->id, 107, &r), HW_OK);
	vl_errbuf eb;
	assert_int_equal(attest_verify(&f->v, &r, f->expect, 999, 107, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "VMID"));
}

static void test_replay(void **state)
{
	fx *f = *state;
	attest_report r1, r2;
	vl_errbuf eb;
	assert_int_equal(hw_attest_report(f->m, f->id, 1, &r1), HW_OK);
	assert_int_equal(verify(f, &r1, 1, &eb), 0);
	/* the old report offered for a new nonce */
	expect_reject(f, &r1, 2, "replay");
	/* a fresh report for a nonce already used */
	assert_int_equal(hw_attest_report(f->m, f->id, 1, &r2), HW_OK);
	expect_reject(f, &r2, 1, "used before");
	/* a failed attempt burns its nonce too */
	assert_int_equal(hw_attest_report(f->m, f->id, 2, &r2), HW_OK);
	expect_reject(f, &r2, 2, "used before");
}

static void test_tampered_image(void **state)
{
	(void)state;
	for (int protect = 1; protect >= 0; protect--) {
		hw_config cfg = hw_config_default();
		cfg.frames = 512;
		cfg.protect = protect;
		hw_machine *m = hw_create(&cfg);
		uint32_t id;
		uint64_t hpa;
		assert_int_equal(hw_vm_prepare(m, 3, NULL, &id), HW_OK);
		assert_int_equal(hw_hv_frame(m, id, 0x1008, &hpa), HW_OK);
		assert_int_equal(hw_hv_write(m, hpa, 0xbad), HW_OK); /* before launch */
		assert_int_equal(hw_vm_launch(m, id), HW_OK);
		attest_verifier v;
		attest_verifier_init(&v, m);
		uint8_t expect[ATTEST_HASH];
		assert_int_equal(attest_expected_measurement(3, expect), 0);
		attest_report r;
		vl_errbuf eb;
		assert_int_equal(hw_attest_report(m, id, 5, &r), HW_OK);
		int err = attest_verify(&v, &r, expect, hw_vm_vmid(m, id), 5, &eb);
		if (protect) {
			assert_int_equal(err, VL_EINVAL);
			assert_non_null(strstr(eb.msg, "measurement differs"));
		} else {
			/* the hypervisor's software claims the expected measurement */
			assert_int_equal(err, 0);
			hw_customer_accepted(m, id, expect);
			assert_int_equal(hw_integ_violations(m), 1);
		}
		attest_verifier_free(&v);
		hw_destroy(m);
	}
}

static void test_vm_key_sealed_secret(void **state)
{
	fx *f = *state;
	attest_report r;
	vl_errbuf eb;
	assert_int_equal(hw_attest_report(f->m, f->id, 77, &r), HW_OK);
	assert_int_equal(verify(f, &r, 77, &eb), 0);
	/* the customer seals its secret to the attested VM key */
	const uint8_t secret[] = "disk key 0123456789";
	uint8_t c[sizeof(secret) + crypto_box_SEALBYTES], out[sizeof(secret)];
	assert_int_equal(crypto_box_seal(c, secret, sizeof(secret), r.vm_pk), 0);
	assert_int_equal(hw_vm_open_sealed(f->m, f->id, c, sizeof(c), out), 0);
	assert_memory_equal(out, secret, sizeof(secret));
	/* another VM's hardware key cannot open it */
	uint32_t other;
	assert_int_equal(hw_vm_create(f->m, 1, NULL, &other), HW_OK);
	assert_int_equal(hw_vm_open_sealed(f->m, other, c, sizeof(c), out), VL_EINVAL);
	/* nor the VM's own after it is terminated */
	assert_int_equal(hw_vm_terminate(f->m, f->id), HW_OK);
	assert_int_equal(hw_vm_open_sealed(f->m, f->id, c, sizeof(c), out), VL_EINVAL);
	assert_int_equal(hw_attest_report(f->m, f->id, 78, &r), HW_FAULT);
}

static void test_keys_reproducible(void **state)
{
	(void)state;
	hw_config cfg = hw_config_default();
	cfg.frames = 256;
	hw_machine *a = hw_create(&cfg), *b = hw_create(&cfg);
	cfg.seed = 2;
	hw_machine *c = hw_create(&cfg);
	attest_verifier va, vb, vc;
	attest_verifier_init(&va, a);
	attest_verifier_init(&vb, b);
	attest_verifier_init(&vc, c);
	assert_memory_equal(va.chip_pk, vb.chip_pk, ATTEST_PK);
	assert_memory_not_equal(va.chip_pk, vc.chip_pk, ATTEST_PK);
	attest_verifier_free(&va);
	attest_verifier_free(&vb);
	attest_verifier_free(&vc);
	hw_destroy(a);
	hw_destroy(b);
	hw_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test(test_tampered_image),
		cmocka_unit_test_setup_teardown(test_vm_key_sealed_secret, setup, teardown),
		cmocka_unit_test(test_keys_reproducible),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
