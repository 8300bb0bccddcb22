/*
 * test_hyperwall_attest.c — HyperWall keys and attestation: a valid report
 * verifies; tampering with any field, the signature, the chip certificate
 * or the image is rejected with the reason; a verifier pinning another
 * root, a replayed report, a reused nonce, a report relayed from another
 * machine, a pre-launch image tamper and altered per-page protections are
 * each rejected; a secret sealed to the VM's hardware key opens only for
 * that VM; chip keys are random unless insecure_test_keys; without
 * HyperWall the hypervisor's claim hides tampering.
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
	attest_verifier_init(&f->v, attest_mfr_root);
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
	return attest_verify(&f->v, r, f->expect, nonce, eb);
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
	t = r;
	t.chip_pk[3] ^= 1;
	expect_reject(f, &t, 106, "not certified");
	t = r;
	t.chip_cert[3] ^= 1;
	assert_int_equal(hw_attest_report(f->m, f->id, 107, &r), HW_OK);
	t = r;
	t.chip_cert[3] ^= 1;
	expect_reject(f, &t, 107, "not certified");
}

/* The verifier's root is its own configuration: pinning another root
 * rejects this machine's genuine report; the built-in root is the
 * factory's (the model's manufacturer key). */
static void test_pinned_root(void **state)
{
	fx *f = *state;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_seed_keypair(pk, sk, (const uint8_t *)"virtlab hyperwall manufacturer 1");
	assert_memory_equal(pk, attest_mfr_root, ATTEST_PK);
	crypto_sign_keypair(pk, sk); /* some other manufacturer */
	attest_verifier other;
	attest_verifier_init(&other, pk);
	attest_report r;
	vl_errbuf eb;
	assert_int_equal(hw_attest_report(f->m, f->id, 9, &r), HW_OK);
	assert_int_equal(attest_verify(&other, &r, f->expect, 9, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "pinned manufacturer root"));
	attest_verifier_free(&other);
	/* a machine whose chip key the hypervisor made up itself (certified
	 * by its own "manufacturer"): rejected by the pinned root */
	attest_report fake = r;
	uint8_t csk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_keypair(fake.chip_pk, csk);
	crypto_sign_detached(fake.chip_cert, NULL, fake.chip_pk, ATTEST_PK, sk);
	assert_int_equal(verify(f, &fake, 10, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "not certified"));
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

static hw_machine *machine(int protect, uint64_t seed)
{
	hw_config cfg = hw_config_default();
	cfg.frames = 512;
	cfg.protect = protect;
	cfg.seed = seed;
	cfg.insecure_test_keys = 1;
	hw_machine *m = hw_create(&cfg);
	assert_non_null(m);
	return m;
}

/* The customer sends `req`; the hypervisor prepares it, `tamper` acts
 * between prepare and launch, the customer attests. Returns the
 * customer's decision (HW_OK accepted, HW_BLOCKED rejected). */
static int launch_and_attest(int protect, const hw_launch_req *req,
			     void (*tamper)(hw_machine *, uint32_t), uint64_t *integ, char *why)
{
	hw_machine *m = machine(protect, 1);
	uint32_t id;
	assert_int_equal(hw_vm_prepare_req(m, req, &id), HW_OK);
	if (tamper)
		tamper(m, id);
	assert_int_equal(hw_vm_launch(m, id), HW_OK);
	attest_verifier v;
	attest_verifier_init(&v, attest_mfr_root);
	uint8_t expect[ATTEST_HASH];
	assert_int_equal(attest_expected_measurement_req(req, expect), 0);
	attest_report r;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(hw_attest_report(m, id, 5, &r), HW_OK);
	int rc = attest_customer(&v, m, id, &r, expect, 5, &eb);
	snprintf(why, 256, "%s", eb.msg);
	*integ = hw_integ_violations(m);
	attest_verifier_free(&v);
	hw_destroy(m);
	return rc;
}

static void tamper_image(hw_machine *m, uint32_t id)
{
	uint64_t hpa;
	assert_int_equal(hw_hv_frame(m, id, 0x1008, &hpa), HW_OK);
	assert_int_equal(hw_hv_write(m, hpa, 0xbad), HW_OK); /* before launch */
}

static void tamper_prot(hw_machine *m, uint32_t id)
{
	assert_int_equal(hw_hv_protect(m, id, 0x0, HW_PROT_NONE), HW_OK);
}

static void test_tampered_image_and_protections(void **state)
{
	(void)state;
	static const uint8_t prot[3] = { HW_PROT_CI, HW_PROT_CI, HW_PROT_NONE };
	hw_launch_req req = { 3, NULL, prot };
	char why[256];
	uint64_t integ;
	/* untouched: accepted, no violation */
	assert_int_equal(launch_and_attest(1, &req, NULL, &integ, why), HW_OK);
	assert_int_equal(integ, 0);
	/* the measurement covers the protections too */
	uint8_t a[ATTEST_HASH], b[ATTEST_HASH];
	hw_launch_req all = { 3, NULL, NULL };
	assert_int_equal(attest_expected_measurement_req(&req, a), 0);
	assert_int_equal(attest_expected_measurement_req(&all, b), 0);
	assert_memory_not_equal(a, b, ATTEST_HASH);
	void (*tampers[])(hw_machine *, uint32_t) = { tamper_image, tamper_prot };
	for (int t = 0; t < 2; t++) {
		assert_int_equal(launch_and_attest(1, &req, tampers[t], &integ, why), HW_BLOCKED);
		assert_non_null(strstr(why, "measurement differs"));
		assert_int_equal(integ, 0);
		/* without HyperWall the hypervisor's software claims the
		 * customer's measurement; the truth, comparing frames and
		 * protections with its own copy of the request, objects */
		assert_int_equal(launch_and_attest(0, &req, tampers[t], &integ, why), HW_OK);
		assert_int_equal(integ, 1);
	}
}

/* The hypervisor keeps an old report and answers a new challenge with it;
 * without HyperWall its software simply signs the old claim anew. */
static void test_replayed_report(void **state)
{
	(void)state;
	for (int protect = 1; protect >= 0; protect--) {
		hw_machine *m = machine(protect, 3);
		uint32_t a, b;
		attest_verifier v;
		attest_verifier_init(&v, attest_mfr_root);
		uint8_t expect[ATTEST_HASH];
		assert_int_equal(attest_expected_measurement(2, expect), 0);
		attest_report old, r;
		assert_int_equal(hw_vm_create(m, 2, NULL, &a), HW_OK);
		assert_int_equal(hw_attest_report(m, a, 1, &old), HW_OK);
		assert_int_equal(attest_customer(&v, m, a, &old, expect, 1, NULL), HW_OK);
		assert_int_equal(hw_vm_terminate(m, a), HW_OK);
		/* a tampered VM under the same VMID */
		assert_int_equal(hw_vm_prepare(m, 2, NULL, &b), HW_OK);
		tamper_image(m, b);
		assert_int_equal(hw_vm_launch(m, b), HW_OK);
		assert_int_equal(hw_vm_vmid(m, a), hw_vm_vmid(m, b));
		vl_errbuf eb = { { 0 } };
		if (protect) {
			assert_int_equal(hw_attest_forge(m, b, 2, old.measurement, &r), HW_BLOCKED);
			assert_int_equal(attest_customer(&v, m, b, &old, expect, 2, &eb),
					 HW_BLOCKED);
			assert_non_null(strstr(eb.msg, "replay"));
			assert_int_equal(hw_integ_violations(m), 0);
		} else {
			assert_int_equal(hw_attest_forge(m, b, 2, old.measurement, &r), HW_OK);
			assert_int_equal(attest_customer(&v, m, b, &r, expect, 2, &eb), HW_OK);
			assert_int_equal(hw_integ_violations(m), 1);
		}
		attest_verifier_free(&v);
		hw_destroy(m);
	}
}

/* The hypervisor runs a tampered VM here and relays the customer's
 * challenge to another machine where a genuine copy runs: the report is
 * genuine (right root, measurement and nonce) but binds to the other VM's
 * key, which the VM here cannot open. */
static void test_relayed_report(void **state)
{
	(void)state;
	hw_machine *here = machine(1, 4), *there = machine(1, 5);
	uint32_t a, g;
	assert_int_equal(hw_vm_prepare(here, 2, NULL, &a), HW_OK);
	tamper_image(here, a);
	assert_int_equal(hw_vm_launch(here, a), HW_OK);
	assert_int_equal(hw_vm_create(there, 2, NULL, &g), HW_OK);
	attest_verifier v;
	attest_verifier_init(&v, attest_mfr_root);
	uint8_t expect[ATTEST_HASH];
	assert_int_equal(attest_expected_measurement(2, expect), 0);
	attest_report r;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(hw_attest_report(there, g, 7, &r), HW_OK);
	assert_int_equal(attest_verify(&v, &r, expect, 7, &eb), 0); /* genuine */
	assert_int_equal(hw_attest_report(there, g, 8, &r), HW_OK);
	assert_int_equal(attest_customer(&v, here, a, &r, expect, 8, &eb), HW_BLOCKED);
	assert_non_null(strstr(eb.msg, "relayed"));
	assert_int_equal(hw_integ_violations(here), 0);
	attest_verifier_free(&v);
	hw_destroy(here);
	hw_destroy(there);
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

static void chip_pk(hw_config *cfg, uint8_t pk[ATTEST_PK])
{
	hw_machine *m = hw_create(cfg);
	uint32_t id;
	attest_report r;
	assert_int_equal(hw_vm_create(m, 1, NULL, &id), HW_OK);
	assert_int_equal(hw_attest_report(m, id, 1, &r), HW_OK);
	memcpy(pk, r.chip_pk, ATTEST_PK);
	hw_destroy(m);
}

/* Chip keys are random; only insecure_test_keys derives them from the seed. */
static void test_chip_keys(void **state)
{
	(void)state;
	hw_config cfg = hw_config_default();
	cfg.frames = 256;
	uint8_t a[ATTEST_PK], b[ATTEST_PK], c[ATTEST_PK];
	chip_pk(&cfg, a);
	chip_pk(&cfg, b);
	assert_memory_not_equal(a, b, ATTEST_PK);
	cfg.insecure_test_keys = 1;
	chip_pk(&cfg, a);
	chip_pk(&cfg, b);
	cfg.seed = 2;
	chip_pk(&cfg, c);
	assert_memory_equal(a, b, ATTEST_PK);
	assert_memory_not_equal(a, c, ATTEST_PK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pinned_root, setup, teardown),
		cmocka_unit_test(test_tampered_image_and_protections),
		cmocka_unit_test(test_replayed_report),
		cmocka_unit_test(test_relayed_report),
		cmocka_unit_test_setup_teardown(test_vm_key_sealed_secret, setup, teardown),
		cmocka_unit_test(test_chip_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
