/*
 * vm.c — VM and vCPU setup for the test guest (see vm.h).
 *
 * Order follows kvmtool's kvm__init and the KVM API document: open
 * /dev/kvm, check KVM_GET_API_VERSION == 12 and the capabilities we rely on,
 * KVM_CREATE_VM, one KVM_SET_USER_MEMORY_REGION slot, KVM_CREATE_IRQCHIP
 * (in-kernel PIC, I/O APIC and local APICs: it must precede the vCPU),
 * KVM_CREATE_VCPU, mmap of its kvm_run page, KVM_SET_CPUID2 with
 * KVM_GET_SUPPORTED_CPUID (x2APIC included), KVM_SET_SREGS for long mode
 * (CR0.PE|PG, CR4.PAE, EFER.LME|LMA, 64-bit CS, TR, GDTR/IDTR, CR3 -> the
 * 4-level tables built by kg_layout), KVM_SET_REGS, and the stats fd.
 */
#include "kvm/vm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "x86/idt.h"

/* The capabilities the VMM cannot do without (api.rst §8). */
static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_BINARY_STATS_FD, "KVM_CAP_BINARY_STATS_FD" },
};

static void kick_handler(int sig)
{
	(void)sig; /* only there so the signal interrupts KVM_RUN (no SA_RESTART) */
}

const char *kvm_dev_path(void)
{
	const char *p = getenv("VIRTLAB_KVM_DEVICE");
	return p && *p ? p : "/dev/kvm";
}

int kvm__open_dev(int *kvm_fd, vl_errbuf *eb)
{
	const char *path = kvm_dev_path();
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return vl_fail(eb, VL_ENOTSUP,
				       "%s does not exist (no KVM module loaded, or a "
				       "container without the device)",
				       path);
		return vl_fail(eb, VL_ENOTSUP, "cannot open %s: %s%s", path, strerror(errno),
			       errno == EACCES ? " (add yourself to group kvm or run as root)"
					       : "");
	}
	int api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api < 0) {
		int e = errno;
		close(fd);
		return vl_fail(eb, VL_ENOTSUP, "%s is not a KVM device (KVM_GET_API_VERSION: %s)",
			       path, strerror(e));
	}
	if (api != KVM_API_VERSION) {
		close(fd);
		return vl_fail(eb, VL_ENOTSUP, "KVM API version %d, expected %d", api,
			       KVM_API_VERSION);
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++)
		if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			close(fd);
			return vl_fail(eb, VL_ENOTSUP, "this KVM lacks %s", required_caps[i].name);
		}
	*kvm_fd = fd;
	return 0;
}

/* KVM_GET_SUPPORTED_CPUID (growing the buffer on E2BIG) -> KVM_SET_CPUID2. */
static int setup_cpuid(kvm_vm *vm, vl_errbuf *eb)
{
	struct kvm_cpuid2 *c = NULL;
	for (unsigned n = 64; n <= 4096; n *= 2) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return vl_fail(eb, VL_ENOMEM, "out of memory");
		c->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG) {
			free(c);
			return vl_fail(eb, VL_EIO, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		}
	}
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			vm->x2apic = (c->entries[i].ecx >> 21) & 1; /* CPUID.1:ECX.x2APIC */
	int r = ioctl(vm->vcpu_fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0)
		return vl_fail(eb, VL_EIO, "KVM_SET_CPUID2: %s", strerror(errno));
	return 0;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code64)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xFFFFFFFF;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->dpl = sel & 3;
	s->l = code64;
	s->db = !code64;
	s->g = 1;
}

/* 64-bit mode straight from reset (SDM vol. 3 §9.8.5 done by the VMM). */
static int setup_long_mode(kvm_vm *vm, vl_errbuf *eb)
{
	struct kvm_sregs sr;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		return vl_fail(eb, VL_EIO, "KVM_GET_SREGS: %s", strerror(errno));
	seg(&sr.cs, KG_SEL_KCODE, 0xB, 1);
	seg(&sr.ds, KG_SEL_KDATA, 0x3, 0);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.selector = KG_SEL_TSS;
	sr.tr.base = KG_TSS;
	sr.tr.limit = 0x68 + 32;
	sr.tr.type = 0xB; /* 64-bit TSS, busy */
	sr.tr.present = 1;
	sr.gdt.base = KG_GDT;
	sr.gdt.limit = 0x37;
	sr.idt.base = KG_IDT;
	sr.idt.limit = IDT_VECTORS * IDT_GATE_BYTES - 1; /* 256 gates (SDM §6.10) */
	sr.cr3 = KG_PML4;
	sr.cr4 = 0x20 | 0x200 | 0x400;                            /* PAE | OSFXSR | OSXMMEXCPT */
	sr.cr0 = 0x80000000u | 0x10000 | 0x20 | 0x10 | 0x2 | 0x1; /* PG WP NE ET MP PE */
	sr.efer = 0x100 | 0x400;                                  /* LME | LMA */
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sr) < 0)
		return vl_fail(eb, VL_EIO, "KVM_SET_SREGS (long mode): %s", strerror(errno));
	struct kvm_regs r;
	memset(&r, 0, sizeof(r));
	r.rip = KG_CODE;
	r.rsp = KG_KSTACK_TOP;
	r.rflags = 0x2;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &r) < 0)
		return vl_fail(eb, VL_EIO, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

/* VM, memory slot, irqchip, vCPU and its kvm_run page. */
static int create_machine(kvm_vm *vm, vl_errbuf *eb)
{
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return vl_fail(eb, VL_ENOTSUP, "KVM_CREATE_VM: %s", strerror(errno));
	vm->mem = mmap(NULL, KG_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return vl_fail(eb, VL_ENOMEM, "cannot map %u bytes of guest memory", KG_MEM_SIZE);
	}
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = KG_MEM_SIZE,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return vl_fail(eb, VL_EIO, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return vl_fail(eb, VL_ENOTSUP, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return vl_fail(eb, VL_EIO, "KVM_CREATE_VCPU: %s", strerror(errno));
	int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return vl_fail(eb, VL_EIO, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	vm->run_size = (size_t)sz;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		return vl_fail(eb, VL_EIO, "mmap of kvm_run: %s", strerror(errno));
	}
	return 0;
}

int kvm_vm_open(kvm_vm **out, enum kg_cmd cmd, enum kg_apic apic, vl_errbuf *eb)
{
	*out = NULL;
	kvm_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = vm->irqfd = -1;
	atomic_init(&vm->stop, 0);
	atomic_init(&vm->have_thread, 0);
	int err = kvm__open_dev(&vm->kvm_fd, eb);
	if (!err)
		err = create_machine(vm, eb);
	if (!err)
		err = setup_cpuid(vm, eb);
	if (!err && apic == KG_APIC_X2APIC && !vm->x2apic)
		err = vl_fail(eb, VL_ENOTSUP, "KVM_GET_SUPPORTED_CPUID does not offer x2APIC");
	if (!err)
		err = setup_long_mode(vm, eb);
	if (!err)
		err = kvm_stats_open(vm->vcpu_fd, &vm->stats, eb);
	if (err) {
		kvm_vm_destroy(vm);
		return err;
	}
	kg_layout(vm->mem, cmd, apic);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(KVM_KICK_SIGNAL, &sa, NULL);
	*out = vm;
	return 0;
}

void kvm_vm_destroy(kvm_vm *vm)
{
	if (!vm)
		return;
	kvm_stats_close(vm->stats);
	if (vm->irqfd >= 0)
		close(vm->irqfd);
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->mem)
		munmap(vm->mem, KG_MEM_SIZE);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm);
}

kg_shared *kvm_vm_shared(kvm_vm *vm)
{
	return (kg_shared *)(vm->mem + KG_SHARED);
}

const kvm_stats *kvm_vm_stats(const kvm_vm *vm)
{
	return vm->stats;
}

int kvm_vm_has_x2apic(const kvm_vm *vm)
{
	return vm->x2apic;
}
