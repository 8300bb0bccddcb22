/*
 * machine.c — the HyperWall machine: memory, the hypervisor's allocator and
 * nested tables, and every load and store (VM, hypervisor, device), each
 * going through the TLB (fill = walk + CIP check) and reported to the
 * ground truth. See hw.h for the model and cip.c for the rules.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "hyperwall/hw_impl.h"

hw_config hw_config_default(void)
{
	return (hw_config){ .frames = 16384,
			    .tlb_sets = 128,
			    .tlb_ways = 12,
			    .protect = 1,
			    .no_shootdown = 0,
			    .no_walk_check = 0,
			    .insecure_test_keys = 0,
			    .seed = 1 };
}

/* The model's factory: the manufacturer's root key is the Ed25519 key of a
 * fixed seed, and its public half is the constant attest_mfr_root that
 * verifiers pin. Only the factory, at manufacture (hw_create), uses the
 * secret half: it certifies the chip key, then forgets it. */
static void factory_certify(hw_machine *m)
{
	static const char mfr_seed[] = "virtlab hyperwall manufacturer 1";
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_seed_keypair(pk, sk, (const uint8_t *)mfr_seed);
	crypto_sign_detached(m->chip_cert, NULL, m->chip_pk, sizeof(m->chip_pk), sk);
	sodium_memzero(sk, sizeof(sk));
}

/* n key-seed bytes: random, or from the run's rng for reproducible tests. */
static void key_seed(hw_machine *m, uint8_t *seed, size_t n)
{
	if (!m->cfg.insecure_test_keys) {
		randombytes_buf(seed, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		seed[i] = (uint8_t)rng_next(&m->rng);
}

static void keys_init(hw_machine *m)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	key_seed(m, seed, sizeof(seed));
	crypto_sign_seed_keypair(m->chip_pk, m->chip_sk, seed);
	sodium_memzero(seed, sizeof(seed));
	factory_certify(m);
	uint64_t zero[HW_PAGE_WORDS] = { 0 };
	crypto_generichash(m->zero_hash, ATTEST_HASH, (const uint8_t *)zero, sizeof(zero), NULL, 0);
}

void hw__vm_keys(hw_machine *m, hw_vm *vm)
{
	uint8_t seed[crypto_box_SEEDBYTES];
	key_seed(m, seed, sizeof(seed));
	crypto_box_seed_keypair(vm->vm_pk, vm->vm_sk, seed);
	sodium_memzero(seed, sizeof(seed));
}

hw_machine *hw_create(const hw_config *cfg)
{
	if (!cfg || cfg->frames < HW_MIN_FRAMES || cfg->frames > (1u << 26) || sodium_init() < 0)
		return NULL;
	hw_machine *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->frames = cfg->frames;
	m->cip_first = m->frames - (m->frames + HW_PAGE_WORDS - 1) / HW_PAGE_WORDS;
	m->mem = calloc((size_t)m->frames * HW_PAGE_WORDS, sizeof(uint64_t));
	m->dirty = calloc(m->frames, 1);
	m->mark = calloc((m->frames + 63) / 64, sizeof(uint64_t));
	m->freelist = malloc(m->frames * sizeof(uint32_t));
	m->truth = truth_create(m->frames);
	if (!m->mem || !m->dirty || !m->mark || !m->freelist || !m->truth)
		goto err;
	if (tlb_init(&m->tlb, cfg->tlb_sets, cfg->tlb_ways))
		goto err;
	/* LIFO stack popping frames 0, 1, 2, ... first */
	for (uint32_t f = 0; f < m->cip_first; f++)
		m->freelist[m->nfree++] = m->cip_first - 1 - f;
	if (cfg->protect)
		for (uint32_t f = m->cip_first; f < m->frames; f++)
			hw__cip_set(m, f, CIP_RESERVED);
	m->vmid_used[0] = 1; /* VMID 0 is the hypervisor's */
	rng_seed(&m->rng, cfg->seed);
	keys_init(m);
	return m;
err:
	hw_destroy(m);
	return NULL;
}

void hw_destroy(hw_machine *m)
{
	if (!m)
		return;
	for (uint32_t i = 0; i < m->nvms; i++) {
		free(m->vms[i].hvmap);
		free(m->vms[i].alloc);
		free(m->vms[i].prot);
		sodium_memzero(m->vms[i].vm_sk, sizeof(m->vms[i].vm_sk));
	}
	free(m->vms);
	tlb_free(&m->tlb);
	truth_destroy(m->truth);
	free(m->freelist);
	free(m->mark);
	free(m->dirty);
	free(m->mem);
	sodium_memzero(m->chip_sk, sizeof(m->chip_sk));
	free(m);
}

hw_stats hw_get_stats(const hw_machine *m)
{
	hw_stats st = m->st;
	st.tlb_hits = st.accesses - st.tlb_misses; /* not counted on the hot path */
	return st;
}

const hw_config *hw_get_config(const hw_machine *m)
{
	return &m->cfg;
}

uint64_t hw_cip_bytes(const hw_machine *m)
{
	return (uint64_t)(m->frames - m->cip_first) * HW_PAGE_SIZE;
}

uint64_t hw_mem_bytes(const hw_machine *m)
{
	return (uint64_t)m->frames * HW_PAGE_SIZE;
}

uint32_t hw_cip_first(const hw_machine *m)
{
	return m->cip_first;
}

uint64_t hw_cip_entry_hpa(const hw_machine *m, uint32_t frame)
{
	return ((uint64_t)m->cip_first * HW_PAGE_WORDS + frame) * 8;
}

hw_vm *hw__vm(const hw_machine *m, uint32_t id)
{
	return (id >= 1 && id <= m->nvms) ? &m->vms[id - 1] : NULL;
}

void hw__store(hw_machine *m, uint64_t w, uint64_t val, uint32_t tag)
{
	/* with protection, no VM, hypervisor or device store reaches the CIP
	 * table: their CIP checks deny its reserved frames */
	assert(w < (uint64_t)m->frames * HW_PAGE_WORDS);
	assert(!m->cfg.protect || w / HW_PAGE_WORDS < m->cip_first);
	m->mem[w] = val;
	m->dirty[w / HW_PAGE_WORDS] = 1;
	truth_store(m->truth, w, tag);
}

void hw__zero_frame(hw_machine *m, uint32_t f)
{
	if (m->dirty[f])
		memset(hw__frame(m, f), 0, HW_PAGE_SIZE);
	m->dirty[f] = 0;
	truth_clear_frame(m->truth, f);
}

/* --- the hypervisor's side of VM creation --------------------------------- */

static int vm_slot(hw_machine *m, hw_vm **out)
{
	if (vl_grow(&m->vms, &m->capvms, (size_t)m->nvms + 1, sizeof(*m->vms)) < 0)
		return VL_ENOMEM;
	hw_vm *vm = &m->vms[m->nvms];
	memset(vm, 0, sizeof(*vm));
	vm->id = m->nvms + 1;
	*out = vm;
	return 0;
}

static uint64_t *image_page(void *ctx, uint32_t gpa_page)
{
	uint64_t **c = ctx;
	return c[0] + (size_t)(gpa_page - (uint32_t)(uintptr_t)c[1]) * HW_PAGE_WORDS;
}

static const uint64_t *request_page(void *ctx, uint32_t gpa_page)
{
	return gpa_page < (uint32_t)(uintptr_t)((void **)ctx)[1] ? NULL : image_page(ctx, gpa_page);
}

/* Nested tables: PML4 -> PDPT -> PD -> PT[i], mapping GPA page g to
 * vm->hvmap[g]. The table frames are the hypervisor's (last in alloc). */
static void build_npt(hw_machine *m, hw_vm *vm, const uint32_t *tf)
{
	uint32_t npt = walk_npt_frames(vm->total);
	for (uint32_t i = 0; i < npt; i++)
		hw__zero_frame(m, tf[i]);
	vm->nroot = tf[0];
	hw__frame(m, tf[0])[0] = (uint64_t)tf[1] << HW_PAGE_SHIFT | PTE_P | PTE_W;
	hw__frame(m, tf[1])[0] = (uint64_t)tf[2] << HW_PAGE_SHIFT | PTE_P | PTE_W;
	for (uint32_t i = 3; i < npt; i++)
		hw__frame(m, tf[2])[i - 3] = (uint64_t)tf[i] << HW_PAGE_SHIFT | PTE_P | PTE_W;
	for (uint32_t g = 0; g < vm->total; g++)
		hw__frame(m, tf[3 + g / 512])[g % 512] =
			(uint64_t)vm->hvmap[g] << HW_PAGE_SHIFT | PTE_P | PTE_W;
	for (uint32_t i = 0; i < npt; i++)
		m->dirty[tf[i]] = 1;
}

/* Takes `need` frames off the free list for vm (0 or HW_FAULT: out of
 * frames, all given back). */
static int take_frames(hw_machine *m, hw_vm *vm, uint32_t need)
{
	/* The hypervisor's stores into the frames it takes are CIP-checked like
	 * any other: a frame its free list wrongly holds (it lent it to a VM
	 * that the hardware now protects) refuses them, and the hypervisor
	 * drops it from the list. */
	while (vm->nalloc < need) {
		if (!m->nfree) {
			while (vm->nalloc)
				m->freelist[m->nfree++] = vm->alloc[--vm->nalloc];
			return HW_FAULT;
		}
		uint32_t f = m->freelist[--m->nfree];
		if (cip_check_hv(m, f, 1) == HW_OK)
			vm->alloc[vm->nalloc++] = f;
	}
	return HW_OK;
}

int hw_vm_prepare_req(hw_machine *m, const hw_launch_req *req, uint32_t *id)
{
	uint32_t pages = req->pages;
	if (!pages || pages > HW_VM_MAX_PAGES)
		return HW_FAULT;
	uint32_t gpt = walk_gpt_pages(req->vpns, pages), total = pages + gpt;
	if (total > 512 * 512)
		return HW_FAULT;
	uint32_t need = total + walk_npt_frames(total);
	hw_vm *vm;
	int err = vm_slot(m, &vm);
	if (err)
		return err;
	/* the customer's image: zero data pages, then the guest's tables */
	uint64_t *tables = calloc((size_t)gpt * HW_PAGE_WORDS, sizeof(uint64_t));
	vm->hvmap = malloc(total * sizeof(uint32_t));
	vm->alloc = malloc(need * sizeof(uint32_t));
	vm->prot = malloc(total);
	if (!tables || !vm->hvmap || !vm->alloc || !vm->prot) {
		free(tables);
		free(vm->hvmap);
		free(vm->alloc);
		free(vm->prot);
		return VL_ENOMEM;
	}
	void *ictx[2] = { tables, (void *)(uintptr_t)pages };
	walk_build_gpt(req->vpns, pages, image_page, ictx);
	for (uint32_t g = 0; g < total; g++)
		vm->prot[g] = g < pages && req->prot ? req->prot[g] != 0 : HW_PROT_CI;
	if (!m->cfg.protect) /* what the hypervisor's software will claim */
		attest_measure(total, vm->prot, request_page, ictx, vm->claim);
	vm->pages = pages;
	vm->total = total;
	vm->gcr3 = (uint64_t)pages << HW_PAGE_SHIFT;
	vm->state = VM_FAILED;
	m->nvms++;
	*id = vm->id;
	/* the hypervisor picks the lowest VMID it believes free */
	uint32_t vmid = 1;
	while (vmid <= HW_MAX_VMID && m->vmid_used[vmid])
		vmid++;
	for (uint32_t g = 0; g < total; g++)
		vm->hvmap[g] = HW_NOFRAME;
	int rc = vmid <= HW_MAX_VMID ? take_frames(m, vm, need) : HW_FAULT;
	if (rc == HW_OK)
		memcpy(vm->hvmap, vm->alloc, total * sizeof(uint32_t));
	err = truth_vm_add(m->truth, vm->id, pages, vm->hvmap, req->prot, total, tables);
	if (!err && rc == HW_OK) { /* the hypervisor loads the image */
		for (uint32_t g = 0; g < total; g++)
			hw__zero_frame(m, vm->hvmap[g]);
		for (uint32_t g = pages; g < total; g++) {
			memcpy(hw__frame(m, vm->hvmap[g]),
			       tables + (size_t)(g - pages) * HW_PAGE_WORDS, HW_PAGE_SIZE);
			m->dirty[vm->hvmap[g]] = 1;
		}
		build_npt(m, vm, vm->alloc + total);
		vm->vmid = vmid;
		vm->state = VM_PREPARED;
	}
	free(tables);
	return err ? err : rc; /* HW_FAULT: out of frames, the VM never runs */
}

int hw_vm_prepare(hw_machine *m, uint32_t pages, const uint64_t *vpns, uint32_t *id)
{
	hw_launch_req req = { pages, vpns, NULL };
	return hw_vm_prepare_req(m, &req, id);
}

int hw_vm_create_req(hw_machine *m, const hw_launch_req *req, uint32_t *id)
{
	int rc = hw_vm_prepare_req(m, req, id);
	if (rc)
		return rc;
	return hw_vm_launch(m, *id);
}

int hw_vm_create(hw_machine *m, uint32_t pages, const uint64_t *vpns, uint32_t *id)
{
	hw_launch_req req = { pages, vpns, NULL };
	return hw_vm_create_req(m, &req, id);
}

int hw_hv_protect(hw_machine *m, uint32_t id, uint64_t gpa, int prot)
{
	hw_vm *vm = hw__vm(m, id);
	if (!vm || vm->state != VM_PREPARED || (gpa & (HW_PAGE_SIZE - 1)) ||
	    gpa >> HW_PAGE_SHIFT >= vm->pages)
		return HW_FAULT;
	vm->prot[gpa >> HW_PAGE_SHIFT] = prot != HW_PROT_NONE;
	return HW_OK;
}

/* --- translation ------------------------------------------------------------ */

static inline int canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << (64 - HW_VA_BITS)) >> (64 - HW_VA_BITS)) == va;
}

/* A TLB miss: the 2-D walk with its checks, then the fill. */
__attribute__((noinline)) static int vm_fill(hw_machine *m, hw_vm *vm, uint64_t gva, int write,
					     uint64_t key, uint32_t *frame, uint64_t *gpa,
					     int report)
{
	m->st.tlb_misses++;
	int w;
	int rc = walk_2d(m, vm, gva, frame, gpa, &w, report);
	if (rc)
		return rc;
	if (write && !w)
		return HW_FAULT;
	tlb_fill(&m->tlb, key,
		 (uint64_t)*frame << 1 | (uint64_t)w | (*gpa >> HW_PAGE_SHIFT) << TLB_PAGE_SHIFT);
	*gpa |= gva & (HW_PAGE_SIZE - 1);
	return HW_OK;
}

/* Translates gva for vm: *frame and *gpa (the GPA the walk went through,
 * for the ground truth). A non-canonical gva is #GP (HW_FAULT) before the
 * TLB is consulted, so it never hits its low-48-bit alias. The hit path is
 * inlined into every caller; a miss calls vm_fill. */
__attribute__((always_inline)) static inline int vm_translate(hw_machine *m, hw_vm *vm,
							      uint64_t gva, int write,
							      uint32_t *frame, uint64_t *gpa,
							      int report)
{
	if (!canonical(gva))
		return HW_FAULT;
	m->st.accesses++;
	uint64_t key = tlb_key(vm->vmid, gva >> HW_PAGE_SHIFT), val;
	if (tlb_lookup(&m->tlb, key, &val) && (!write || (val & TLB_PERM_W))) {
		*frame = (uint32_t)((val >> 1) & TLB_FRAME_MASK);
		*gpa = (val >> TLB_PAGE_SHIFT) << HW_PAGE_SHIFT | (gva & (HW_PAGE_SIZE - 1));
		return HW_OK;
	}
	return vm_fill(m, vm, gva, write, key, frame, gpa, report);
}

static hw_vm *running(hw_machine *m, uint32_t id)
{
	hw_vm *vm = hw__vm(m, id);
	return vm && vm->state == VM_RUNNING ? vm : NULL;
}

int hw_vm_translate(hw_machine *m, uint32_t id, uint64_t gva, int write, uint64_t *hpa)
{
	hw_vm *vm = running(m, id);
	if (!vm)
		return HW_FAULT;
	uint32_t f;
	uint64_t gpa;
	int rc = vm_translate(m, vm, gva, write, &f, &gpa, 0);
	if (!rc)
		*hpa = (uint64_t)f << HW_PAGE_SHIFT | (gva & (HW_PAGE_SIZE - 1));
	return rc;
}

int64_t hw_vm_translate_stream(hw_machine *m, uint32_t id, const uint64_t *acc, size_t n,
			       uint64_t *hpa_sum)
{
	hw_vm *vm = running(m, id);
	if (!vm)
		return VL_ESTATE;
	int64_t bad = 0;
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t gva = acc[i] & ~HW_ACCESS_WRITE;
		uint32_t f;
		uint64_t gpa;
		if (vm_translate(m, vm, gva, (int)(acc[i] >> 63), &f, &gpa, 0))
			bad++;
		else
			sum += (uint64_t)f << HW_PAGE_SHIFT | (gva & (HW_PAGE_SIZE - 1));
	}
	*hpa_sum = sum;
	return bad;
}

int hw_vm_read(hw_machine *m, uint32_t id, uint64_t gva, uint64_t *val)
{
	hw_vm *vm = running(m, id);
	if (!vm || (gva & 7))
		return HW_FAULT;
	uint32_t f;
	uint64_t gpa;
	int rc = vm_translate(m, vm, gva, 0, &f, &gpa, 1);
	if (rc)
		return rc;
	uint64_t w = (uint64_t)f * HW_PAGE_WORDS + (gva & (HW_PAGE_SIZE - 1)) / 8;
	*val = m->mem[w];
	int err = truth_vm_load(m->truth, vm->id, gva, w, *val);
	return err ? err : HW_OK;
}

int hw_vm_write(hw_machine *m, uint32_t id, uint64_t gva, uint64_t val)
{
	hw_vm *vm = running(m, id);
	if (!vm || (gva & 7))
		return HW_FAULT;
	uint32_t f;
	uint64_t gpa;
	int rc = vm_translate(m, vm, gva, 1, &f, &gpa, 1);
	if (rc)
		return rc;
	uint64_t w = (uint64_t)f * HW_PAGE_WORDS + (gva & (HW_PAGE_SIZE - 1)) / 8;
	hw__store(m, w, val, TRUTH_PUBLIC);
	/* the truth tags the word and judges the store by the GVA alone */
	int err = truth_vm_store(m->truth, vm->id, gva, w, val);
	return err ? err : HW_OK;
}

/* The hypervisor's direct map: VA = HPA, filled under VMID 0. Entries filled
 * by loads are read-only; a store refills with the write check. */
static int hv_translate(hw_machine *m, uint64_t hpa, int write, uint64_t *w)
{
	/* beyond memory is a machine error before the TLB is consulted: an
	 * HPA 2^48 above a frame must not hit that frame's entry */
	if ((hpa & 7) || hpa >> HW_PAGE_SHIFT >= m->frames)
		return HW_FAULT;
	m->st.accesses++;
	uint64_t key = tlb_key(0, hpa >> HW_PAGE_SHIFT), val;
	uint32_t f;
	if (tlb_lookup(&m->tlb, key, &val) && (!write || (val & TLB_PERM_W))) {
		f = (uint32_t)((val >> 1) & TLB_FRAME_MASK);
	} else {
		m->st.tlb_misses++;
		f = (uint32_t)(hpa >> HW_PAGE_SHIFT);
		int rc = cip_check_hv(m, f, write);
		if (rc)
			return rc;
		tlb_fill(&m->tlb, key, (uint64_t)f << 1 | (uint64_t) !!write);
	}
	*w = (uint64_t)f * HW_PAGE_WORDS + (hpa & (HW_PAGE_SIZE - 1)) / 8;
	return HW_OK;
}

int hw_hv_read(hw_machine *m, uint64_t hpa, uint64_t *val)
{
	uint64_t w;
	int rc = hv_translate(m, hpa, 0, &w);
	if (rc)
		return rc;
	*val = m->mem[w];
	truth_load(m->truth, w, TRUTH_HV);
	return HW_OK;
}

int hw_hv_write(hw_machine *m, uint64_t hpa, uint64_t val)
{
	uint64_t w;
	int rc = hv_translate(m, hpa, 1, &w);
	if (rc)
		return rc;
	hw__store(m, w, val, TRUTH_PUBLIC);
	return HW_OK;
}

int hw_hv_cip_write(hw_machine *m, uint64_t hpa, uint64_t val)
{
	if (hpa >> HW_PAGE_SHIFT >= m->frames)
		return HW_FAULT;
	return hw_hv_write(m, hw_cip_entry_hpa(m, (uint32_t)(hpa >> HW_PAGE_SHIFT)), val);
}

/* Devices have no TLB here: every DMA access is CIP-checked. */
static int dma_word(hw_machine *m, uint64_t hpa, int write, uint64_t *w)
{
	if ((hpa & 7) || hpa >> HW_PAGE_SHIFT >= m->frames)
		return HW_FAULT;
	int rc = cip_check_dma(m, (uint32_t)(hpa >> HW_PAGE_SHIFT), write);
	if (rc)
		return rc;
	*w = hpa / 8;
	return HW_OK;
}

int hw_dma_read(hw_machine *m, uint64_t hpa, uint64_t *val)
{
	uint64_t w;
	int rc = dma_word(m, hpa, 0, &w);
	if (rc)
		return rc;
	*val = m->mem[w];
	truth_load(m->truth, w, TRUTH_DMA);
	return HW_OK;
}

int hw_dma_write(hw_machine *m, uint64_t hpa, uint64_t val)
{
	uint64_t w;
	int rc = dma_word(m, hpa, 1, &w);
	if (rc)
		return rc;
	hw__store(m, w, val, TRUTH_PUBLIC);
	return HW_OK;
}

/* --- nested-table edits by the hypervisor ------------------------------------ */

static int npt_set(hw_machine *m, uint32_t id, uint64_t gpa, uint64_t pte, uint32_t frame)
{
	hw_vm *vm = hw__vm(m, id);
	if (!vm || (vm->state != VM_RUNNING && vm->state != VM_PREPARED))
		return HW_FAULT;
	if ((gpa & (HW_PAGE_SIZE - 1)) || gpa >> HW_PAGE_SHIFT >= vm->total)
		return HW_FAULT;
	uint32_t g = (uint32_t)(gpa >> HW_PAGE_SHIFT);
	uint32_t pt = vm->alloc[vm->total + 3 + g / 512];
	/* a store by the hypervisor's software: checked like any other */
	int rc = cip_check_hv(m, pt, 1);
	if (rc)
		return rc;
	hw__store(m, (uint64_t)pt * HW_PAGE_WORDS + g % 512, pte, TRUTH_PUBLIC);
	vm->hvmap[g] = frame;
	/* INVEPT single-context: drop this VM's cached translations */
	tlb_flush_vmid(&m->tlb, vm->vmid);
	return HW_OK;
}

int hw_hv_map(hw_machine *m, uint32_t id, uint64_t gpa, uint64_t hpa)
{
	if ((hpa & (HW_PAGE_SIZE - 1)) || hpa >> HW_PAGE_SHIFT >= m->frames)
		return HW_FAULT;
	return npt_set(m, id, gpa, hpa | PTE_P | PTE_W, (uint32_t)(hpa >> HW_PAGE_SHIFT));
}

int hw_hv_unmap(hw_machine *m, uint32_t id, uint64_t gpa)
{
	return npt_set(m, id, gpa, 0, HW_NOFRAME);
}

int hw_hv_frame(const hw_machine *m, uint32_t id, uint64_t gpa, uint64_t *hpa)
{
	const hw_vm *vm = hw__vm(m, id);
	if (!vm || !vm->nalloc || gpa >> HW_PAGE_SHIFT >= vm->total)
		return HW_FAULT;
	uint32_t f = vm->hvmap[gpa >> HW_PAGE_SHIFT];
	if (f == HW_NOFRAME)
		return HW_FAULT;
	*hpa = (uint64_t)f << HW_PAGE_SHIFT | (gpa & (HW_PAGE_SIZE - 1));
	return HW_OK;
}

int hw_hv_npt_frame(const hw_machine *m, uint32_t id, uint32_t i, uint64_t *hpa)
{
	const hw_vm *vm = hw__vm(m, id);
	if (!vm || !vm->nalloc || i >= walk_npt_frames(vm->total))
		return HW_FAULT;
	*hpa = (uint64_t)vm->alloc[vm->total + i] << HW_PAGE_SHIFT;
	return HW_OK;
}

int hw_hv_invept(hw_machine *m, uint32_t id)
{
	hw_vm *vm = hw__vm(m, id);
	if (!vm || vm->state != VM_RUNNING)
		return HW_FAULT;
	tlb_flush_vmid(&m->tlb, vm->vmid);
	return HW_OK;
}

/* --- facts ------------------------------------------------------------------ */

int hw_vm_exists(const hw_machine *m, uint32_t id)
{
	return hw__vm(m, id) != NULL;
}

int hw_vm_running(const hw_machine *m, uint32_t id)
{
	const hw_vm *vm = hw__vm(m, id);
	return vm && vm->state == VM_RUNNING;
}

uint32_t hw_vm_pages(const hw_machine *m, uint32_t id)
{
	const hw_vm *vm = hw__vm(m, id);
	return vm ? vm->pages : 0;
}

uint32_t hw_vm_gpa_pages(const hw_machine *m, uint32_t id)
{
	const hw_vm *vm = hw__vm(m, id);
	return vm ? vm->total : 0;
}

uint32_t hw_vm_vmid(const hw_machine *m, uint32_t id)
{
	const hw_vm *vm = hw__vm(m, id);
	return vm ? vm->vmid : 0;
}

uint32_t hw_vm_count(const hw_machine *m)
{
	return m->nvms;
}

uint64_t hw_conf_violations(const hw_machine *m)
{
	return truth_conf(m->truth);
}

uint64_t hw_integ_violations(const hw_machine *m)
{
	return truth_integ(m->truth);
}
