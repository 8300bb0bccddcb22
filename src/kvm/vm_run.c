/*
 * vm_run.c — the exit loop, stopping a running vCPU, and interrupt
 * injection (KVM_SIGNAL_MSI, irqfd routed to an MSI). See vm.h.
 *
 * Exits the guest may legitimately cause: KVM_EXIT_IO to KG_PORT_PING (the
 * round-trip benchmark) and KG_PORT_PANIC (a guest exception, reported with
 * vector, error code and RIP); KVM_EXIT_HLT (only without work to wake it).
 * Everything else ends the run with a sentence naming the exit: a triple
 * fault arrives as KVM_EXIT_SHUTDOWN, MMIO outside the in-kernel LAPIC as
 * KVM_EXIT_MMIO. Stopping: kvm_vm_stop sets run->immediate_exit (covers a
 * stop that races with entry) and signals the vCPU thread, whose handler was
 * installed without SA_RESTART, so KVM_RUN returns EINTR (api.rst §4.10).
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/vm_internal.h"

static const char *exit_name(uint32_t r)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_NMI] = "NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	};
	if (r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "?";
}

static const char *vector_name(uint64_t v)
{
	static const char *const names[] = { "#DE", "#DB", "NMI", "#BP",      "#OF", "#BR",
					     "#UD", "#NM", "#DF", "CSO",      "#TS", "#NP",
					     "#SS", "#GP", "#PF", "reserved", "#MF", "#AC",
					     "#MC", "#XM", "#VE", "#CP" };
	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "exception";
}

int kvm_vm_rip(kvm_vm *vm, uint64_t *rip)
{
	struct kvm_regs r;
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0)
		return VL_EIO;
	*rip = r.rip;
	return 0;
}

/* An I/O exit: 1 to carry on, 0 with *why to return, or an error. */
static int handle_io(kvm_vm *vm, enum kvm_stop *why, vl_errbuf *eb)
{
	const struct kvm_run *run = vm->run;
	uint16_t port = run->io.port;
	if (port == KG_PORT_PING && run->io.direction == KVM_EXIT_IO_OUT) {
		vm->pings++;
		if (vm->ping_limit && vm->pings >= vm->ping_limit) {
			vm->pings = 0;
			*why = KVM_STOP_PINGS;
			return 0;
		}
		return 1;
	}
	if (port == KG_PORT_PANIC) {
		const kg_shared *sh = kvm_vm_shared(vm);
		return vl_fail(eb, VL_EFAULT,
			       "guest exception %s (vector %llu), error code 0x%llx, at RIP 0x%llx",
			       vector_name(sh->fault_vector), (unsigned long long)sh->fault_vector,
			       (unsigned long long)sh->fault_error,
			       (unsigned long long)sh->fault_rip);
	}
	return vl_fail(eb, VL_EIO, "unexpected guest I/O: %s port 0x%x, %u byte(s)",
		       run->io.direction == KVM_EXIT_IO_OUT ? "out to" : "in from", port,
		       run->io.size);
}

/* One exit: 1 to carry on, 0 with *why to return, or an error. */
static int handle_exit(kvm_vm *vm, enum kvm_stop *why, vl_errbuf *eb)
{
	const struct kvm_run *run = vm->run;
	uint64_t rip = 0;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(vm, why, eb);
	case KVM_EXIT_HLT:
		*why = KVM_STOP_HLT;
		return 0;
	case KVM_EXIT_INTR:
		return 1; /* the caller checks the stop flag */
	case KVM_EXIT_SHUTDOWN:
		kvm_vm_rip(vm, &rip);
		return vl_fail(eb, VL_EFAULT,
			       "guest triple fault (KVM_EXIT_SHUTDOWN) near RIP 0x%llx: an "
			       "exception could not be delivered (no usable IDT or stack)",
			       (unsigned long long)rip);
	case KVM_EXIT_MMIO:
		return vl_fail(eb, VL_EIO,
			       "guest MMIO %s at 0x%llx (%u bytes) outside any device the VMM has",
			       run->mmio.is_write ? "write" : "read",
			       (unsigned long long)run->mmio.phys_addr, run->mmio.len);
	case KVM_EXIT_FAIL_ENTRY:
		return vl_fail(eb, VL_EIO, "VM entry failed, hardware reason 0x%llx",
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return vl_fail(eb, VL_EIO, "KVM internal error, suberror %u",
			       run->internal.suberror);
	default:
		kvm_vm_rip(vm, &rip);
		return vl_fail(eb, VL_EIO, "unexpected exit %u (KVM_EXIT_%s) at RIP 0x%llx",
			       run->exit_reason, exit_name(run->exit_reason),
			       (unsigned long long)rip);
	}
}

int kvm_vm_run(kvm_vm *vm, enum kvm_stop *why, vl_errbuf *eb)
{
	vm->thread = pthread_self();
	atomic_store(&vm->have_thread, 1);
	int rc;
	for (;;) {
		if (atomic_load(&vm->stop)) {
			*why = KVM_STOP_HOST;
			rc = 0;
			break;
		}
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			rc = vl_fail(eb, VL_EIO, "KVM_RUN: %s", strerror(errno));
			break;
		}
		rc = handle_exit(vm, why, eb);
		if (rc <= 0)
			break;
	}
	atomic_store(&vm->have_thread, 0);
	return rc;
}

void kvm_vm_set_ping_limit(kvm_vm *vm, uint64_t n)
{
	vm->ping_limit = n;
	vm->pings = 0;
}

int kvm_vm_run_raw(kvm_vm *vm, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0 || vm->run->exit_reason != KVM_EXIT_IO)
			return VL_EIO;
	return 0;
}

void kvm_vm_stop(kvm_vm *vm)
{
	atomic_store(&vm->stop, 1);
	__atomic_store_n(&vm->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (atomic_load(&vm->have_thread))
		pthread_kill(vm->thread, KVM_KICK_SIGNAL);
}

int kvm_vm_signal_msi(kvm_vm *vm, uint32_t vector)
{
	/* Intel SDM vol. 3 §10.11: address 0xFEE00000 | dest APIC ID << 12,
	 * data = fixed delivery mode, edge, vector. */
	struct kvm_msi msi = { .address_lo = KG_LAPIC_BASE, .address_hi = 0, .data = vector };
	int r = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);
	if (r < 0)
		return VL_EIO;
	return r > 0 ? 1 : 0;
}

/* The GSI our irqfd uses: above the 24 I/O APIC pins. */
#define KVM_IRQFD_GSI 32

int kvm_vm_irqfd(kvm_vm *vm, uint32_t vector, vl_errbuf *eb)
{
	if (vm->irqfd >= 0)
		return vm->irqfd;
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[1];
	} rt;
	memset(&rt, 0, sizeof(rt));
	rt.hdr.nr = 1;
	rt.e[0].gsi = KVM_IRQFD_GSI;
	rt.e[0].type = KVM_IRQ_ROUTING_MSI;
	rt.e[0].u.msi.address_lo = KG_LAPIC_BASE;
	rt.e[0].u.msi.data = vector;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, &rt) < 0)
		return vl_fail(eb, VL_EIO, "KVM_SET_GSI_ROUTING: %s", strerror(errno));
	int efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		return vl_fail(eb, VL_EIO, "eventfd: %s", strerror(errno));
	struct kvm_irqfd fd = { .fd = (uint32_t)efd, .gsi = KVM_IRQFD_GSI };
	if (ioctl(vm->vm_fd, KVM_IRQFD, &fd) < 0) {
		close(efd);
		return vl_fail(eb, VL_EIO, "KVM_IRQFD: %s", strerror(errno));
	}
	vm->irqfd = efd;
	return efd;
}

int kvm_vm_lapic_vector(kvm_vm *vm, uint32_t vector, int *irr, int *isr)
{
	struct kvm_lapic_state st;
	if (ioctl(vm->vcpu_fd, KVM_GET_LAPIC, &st) < 0)
		return VL_EIO;
	/* ISR at 0x100, IRR at 0x200: eight 32-bit words 16 bytes apart. */
	uint32_t w;
	memcpy(&w, st.regs + 0x100 + 0x10 * (vector / 32), 4);
	*isr = (w >> (vector % 32)) & 1;
	memcpy(&w, st.regs + 0x200 + 0x10 * (vector / 32), 4);
	*irr = (w >> (vector % 32)) & 1;
	return 0;
}
