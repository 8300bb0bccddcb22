/* truth.c — see truth.h. The observer of what really leaked or changed. */
#include "hyperwall/truth.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "hyperwall/hw.h"

typedef struct truth_vm {
	uint32_t pages;
	uint32_t *frame;   /* data page -> frame given at launch */
	uint64_t **expect; /* data page -> 512 expected words; NULL = image (0) */
	uint8_t *shared;   /* data page -> shared by the guest or left
			    * unprotected by the customer (public) */
	uint8_t *prot;     /* data page -> protection the customer asked */
	uint32_t total;    /* GPA pages of the image */
	uint64_t *tables;  /* the customer's guest-table pages: the truth's own
			    * copy, which says where each GVA should land */
	int launched, image_ok;
} truth_vm;

struct truth {
	uint32_t frames;
	uint32_t *tag;   /* per word */
	uint8_t *tagged; /* per frame: may hold a non-public tag */
	truth_vm *vms;   /* index id - 1 */
	uint32_t nvms;
	size_t capvms;
	uint64_t conf, integ;
};

truth *truth_create(uint32_t frames)
{
	truth *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->frames = frames;
	t->tag = calloc((size_t)frames * HW_PAGE_WORDS, sizeof(*t->tag));
	t->tagged = calloc(frames, 1);
	if (!t->tag || !t->tagged) {
		free(t->tag);
		free(t->tagged);
		free(t);
		return NULL;
	}
	return t;
}

static void vm_free(truth_vm *v)
{
	if (v->expect)
		for (uint32_t p = 0; p < v->pages; p++)
			free(v->expect[p]);
	free(v->expect);
	free(v->frame);
	free(v->shared);
	free(v->prot);
	free(v->tables);
}

void truth_destroy(truth *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->nvms; i++)
		vm_free(&t->vms[i]);
	free(t->vms);
	free(t->tag);
	free(t->tagged);
	free(t);
}

void truth_store(truth *t, uint64_t w, uint32_t tag)
{
	t->tag[w] = tag;
	if (tag != TRUTH_PUBLIC)
		t->tagged[w / HW_PAGE_WORDS] = 1;
}

void truth_load(truth *t, uint64_t w, uint32_t reader)
{
	uint32_t tag = t->tag[w];
	if (tag != TRUTH_PUBLIC && tag != reader)
		t->conf++;
}

void truth_clear_frame(truth *t, uint32_t frame)
{
	if (!t->tagged[frame])
		return;
	memset(t->tag + (size_t)frame * HW_PAGE_WORDS, 0, HW_PAGE_WORDS * sizeof(*t->tag));
	t->tagged[frame] = 0;
}

int truth_vm_add(truth *t, uint32_t id, uint32_t pages, const uint32_t *frames, const uint8_t *prot,
		 uint32_t total, const uint64_t *tables)
{
	if (id != t->nvms + 1)
		return VL_EINVAL;
	if (vl_grow(&t->vms, &t->capvms, (size_t)t->nvms + 1, sizeof(*t->vms)) < 0)
		return VL_ENOMEM;
	truth_vm *v = &t->vms[t->nvms];
	memset(v, 0, sizeof(*v));
	v->pages = pages;
	v->frame = malloc(pages * sizeof(*v->frame));
	v->expect = calloc(pages, sizeof(*v->expect));
	v->shared = calloc(pages, 1);
	v->prot = malloc(pages);
	v->total = total;
	size_t tw = (size_t)(total - pages) * HW_PAGE_WORDS;
	v->tables = malloc(tw ? tw * sizeof(uint64_t) : 1);
	if (!v->frame || !v->expect || !v->shared || !v->prot || !v->tables) {
		vm_free(v);
		return VL_ENOMEM;
	}
	memcpy(v->frame, frames, pages * sizeof(*frames));
	memcpy(v->tables, tables, tw * sizeof(uint64_t));
	for (uint32_t p = 0; p < pages; p++) {
		v->prot[p] = prot ? prot[p] != 0 : 1;
		v->shared[p] = !v->prot[p];
	}
	t->nvms++;
	return 0;
}

static truth_vm *vm_of(const truth *t, uint32_t id)
{
	return (id >= 1 && id <= t->nvms) ? &t->vms[id - 1] : NULL;
}

static int frame_is(const uint64_t *mem, const uint8_t *maybe_nonzero, uint32_t f,
		    const uint64_t *want)
{
	const uint64_t *w = mem + (size_t)f * HW_PAGE_WORDS;
	if (!want) {
		if (!maybe_nonzero[f])
			return 1;
		for (uint32_t i = 0; i < HW_PAGE_WORDS; i++)
			if (w[i])
				return 0;
		return 1;
	}
	return !memcmp(w, want, HW_PAGE_SIZE);
}

/* 1 if no two GPA pages share a frame: two aliased pages are not the
 * image the customer sent (a store to one changes the other), even when
 * both hold zeros. Frames are known to be below t->frames here. */
static int frames_distinct(const truth *t, const uint32_t *frames, uint32_t n)
{
	uint8_t *seen = calloc(t->frames, 1);
	int ok = seen != NULL; /* no memory: count it as a violation, never miss one */
	for (uint32_t g = 0; ok && g < n; g++)
		ok = !seen[frames[g]]++;
	free(seen);
	return ok;
}

void truth_vm_launch(truth *t, uint32_t id, const uint64_t *mem, const uint8_t *maybe_nonzero,
		     const uint32_t *frames, const uint8_t *prot_used)
{
	truth_vm *v = vm_of(t, id);
	if (!v)
		return;
	memcpy(v->frame, frames, v->pages * sizeof(*frames));
	int ok = 1;
	for (uint32_t g = 0; ok && g < v->total; g++) {
		const uint64_t *want =
			g < v->pages ? NULL : v->tables + (size_t)(g - v->pages) * HW_PAGE_WORDS;
		ok = frames[g] < t->frames && frame_is(mem, maybe_nonzero, frames[g], want);
		if (ok && g < v->pages)
			ok = v->prot[g] == (prot_used ? prot_used[g] != 0 : 1);
	}
	v->image_ok = ok && frames_distinct(t, frames, v->total);
	v->launched = 1;
}

void truth_vm_share(truth *t, uint32_t id, uint64_t gpa)
{
	truth_vm *v = vm_of(t, id);
	uint64_t p = gpa >> HW_PAGE_SHIFT;
	if (!v || p >= v->pages)
		return;
	v->shared[p] = 1;
	/* the guest consents: what it wrote there is now public */
	truth_clear_frame(t, v->frame[p]);
}

int truth_vm_unshare(truth *t, uint32_t id, uint64_t gpa, const uint64_t *mem)
{
	truth_vm *v = vm_of(t, id);
	uint64_t p = gpa >> HW_PAGE_SHIFT;
	if (!v || p >= v->pages || !v->shared[p])
		return 0;
	if (!v->expect[p] && !(v->expect[p] = malloc(HW_PAGE_SIZE)))
		return VL_ENOMEM;
	memcpy(v->expect[p], mem + (size_t)v->frame[p] * HW_PAGE_WORDS, HW_PAGE_SIZE);
	v->shared[p] = 0;
	return 0;
}

/* Where GVA gva of v should land, by the truth's own walk of the
 * customer's guest tables (never the machine's, which the hypervisor may
 * have changed): 1 and the data page in *p, or 0 when the image maps gva
 * to no data page (non-canonical, not present, or onto a table page). */
static int intended_page(const truth_vm *v, uint64_t gva, uint32_t *p)
{
	if ((uint64_t)((int64_t)(gva << 16) >> 16) != gva)
		return 0;         /* non-canonical (48-bit virtual addresses) */
	uint64_t page = v->pages; /* the top-level table: first after the data */
	for (int level = 3; level >= 0; level--) {
		if (page < v->pages || page >= v->total)
			return 0;
		uint64_t e = v->tables[(page - v->pages) * HW_PAGE_WORDS +
				       ((gva >> (HW_PAGE_SHIFT + 9 * level)) & 511)];
		if (!(e & 1)) /* present */
			return 0;
		page = (e & 0x000ffffffffff000ull) >> HW_PAGE_SHIFT;
	}
	if (page >= v->pages)
		return 0;
	*p = (uint32_t)page;
	return 1;
}

/* The integrity verdict on a VM access of word w through gva (a load
 * returning val, or a store of val): it must land in the frame of the data
 * page its image maps gva to, and a load from an unshared page must return
 * what the VM last stored there. */
static int vm_access(truth *t, truth_vm *v, uint64_t gva, uint64_t w, int write, uint64_t val)
{
	uint32_t p;
	if (!intended_page(v, gva, &p)) {
		/* the VM reached memory through a GVA its image never mapped */
		t->integ++;
		return 0;
	}
	uint32_t i = (uint32_t)(gva & (HW_PAGE_SIZE - 1)) / 8;
	int bad = w / HW_PAGE_WORDS != v->frame[p] || w % HW_PAGE_WORDS != i;
	if (write) {
		if (!v->expect[p]) {
			v->expect[p] = calloc(HW_PAGE_WORDS, sizeof(uint64_t));
			if (!v->expect[p])
				return VL_ENOMEM;
		}
		v->expect[p][i] = val;
	} else if (!v->shared[p]) {
		uint64_t want = v->expect[p] ? v->expect[p][i] : 0;
		bad |= val != want;
	}
	if (bad)
		t->integ++;
	return 0;
}

int truth_vm_load(truth *t, uint32_t id, uint64_t gva, uint64_t w, uint64_t val)
{
	truth_load(t, w, id);
	truth_vm *v = vm_of(t, id);
	if (!v) {
		t->integ++;
		return 0;
	}
	return vm_access(t, v, gva, w, 0, val);
}

int truth_vm_store(truth *t, uint32_t id, uint64_t gva, uint64_t w, uint64_t val)
{
	truth_vm *v = vm_of(t, id);
	uint32_t p;
	/* public only if the page the VM means is shared (or left open by
	 * the customer); wherever the store really lands, it is the VM's */
	int pub = v && intended_page(v, gva, &p) && v->shared[p];
	truth_store(t, w, pub ? TRUTH_PUBLIC : id);
	if (!v) {
		t->integ++;
		return 0;
	}
	return vm_access(t, v, gva, w, 1, val);
}

void truth_vm_attested(truth *t, uint32_t id)
{
	truth_vm *v = vm_of(t, id);
	if (!v || !v->launched || !v->image_ok)
		t->integ++;
}

uint64_t truth_conf(const truth *t)
{
	return t->conf;
}

uint64_t truth_integ(const truth *t)
{
	return t->integ;
}
