/*
 * test_hyperwall.h — the HyperWall machine the model tests run on (1024
 * frames, the default configuration otherwise) and the frame the
 * hypervisor's own table gives a VM's GPA; any error fails the test.
 * Include after vl_test.h.
 */
#ifndef TEST_HYPERWALL_H
#define TEST_HYPERWALL_H

#include "hyperwall/hw.h"

/* A 1024-frame machine, HyperWall on or off (protect), its chip and VM keys
 * from the seed when test_keys (hw_config.insecure_test_keys), else random.
 * The caller hw_destroy()s it. */
static inline hw_machine *hw_test_machine(int protect, int test_keys)
{
	hw_config cfg = hw_config_default();
	cfg.frames = 1024;
	cfg.protect = protect;
	cfg.insecure_test_keys = test_keys;
	hw_machine *m = hw_create(&cfg);
	assert_non_null(m);
	return m;
}

/* The host frame (HPA) that VM id's gpa lives in, as the hypervisor maps it. */
static inline uint64_t hw_test_frame(hw_machine *m, uint32_t id, uint64_t gpa)
{
	uint64_t hpa;
	assert_int_equal(hw_hv_frame(m, id, gpa, &hpa), HW_OK);
	return hpa;
}

#endif
