/*
 * script_impl.h — the parsed form of a HyperWall script, shared by the
 * parser (script.c) and the runner with its non-interference twin
 * (script_run.c). Not for other modules: use script.h.
 */
#ifndef VL_HYPERWALL_SCRIPT_IMPL_H
#define VL_HYPERWALL_SCRIPT_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "hyperwall/script.h"

enum op_kind {
	OP_VM_CREATE,
	OP_VM_WRITE,
	OP_VM_READ,
	OP_VM_SHARE,
	OP_VM_TERMINATE,
	OP_HV_READ,
	OP_HV_WRITE,
	OP_HV_MAP,
	OP_HV_UNMAP,
	OP_DMA_READ,
	OP_DMA_WRITE,
	OP_CIP_WRITE,
	OP_HV_FRAME,
	OP_ATTEST,
	OP_VM_PREPARE,
	OP_VM_LAUNCH,
	OP_VM_UNSHARE,
	OP_HV_PROTECT,
	OP_ATTEST_SAVE,
	OP_ATTEST_REPLAY,
	OP_ATTEST_RELAY,
};

/* An HPA operand: a number, or @VM:GPA resolved when the op runs. */
typedef struct addr {
	int ref;
	uint32_t vm;
	uint64_t v;
} addr;

typedef struct op {
	int kind, line;
	char *text;       /* the line without its comment, trimmed */
	uint32_t vm, vm2; /* vm2: the VM whose saved report is replayed */
	uint64_t gpa, val;
	addr hpa;
	int protect_off; /* set by the runner: a machine without HyperWall */
} op;

#define MAX_NAME 64

/* A VM the script creates: its name, size and where it was created. */
typedef struct script_vm {
	char name[MAX_NAME];
	uint32_t pages, created_line;
	uint8_t *prot;    /* HW_PROT_* per data page */
	uint8_t attacker; /* the hypervisor's accomplice */
} script_vm;

struct hw_script {
	op *ops;
	size_t n, cap;
	script_vm *vms;
	size_t capvms;
	uint32_t nvms;
	/* VM names -> index + 1 (0: empty), open addressing, at most half
	 * full: a name lookup is O(1), so parsing is linear in the script
	 * (a linear scan made an 80 k-line script take 6.8 s) */
	uint32_t *names;
	size_t nnames_cap; /* a power of two, or 0 */
	size_t probes;     /* slots visited, for script_name_probes */
};

#endif
