/*
 * vm.c — ELI's hypervisor policies on the x86 model; see vm.h.
 *
 * The shadow IDT (paper §4.1): a copy of the guest's IDT in which only the
 * assigned vectors (and the guest's exception vectors) are present; every
 * other gate is not present, so a host vector raises #NP, which the
 * exception bitmap turns into an EXCEPTION_NMI exit whose error code
 * (vector << 3 | IDT | EXT) tells the host which interrupt it was. The page
 * holding it and the guest's own IDT page are write-protected in EPT; LIDT
 * exits (descriptor-table exiting) so the host can re-mirror a new table.
 * Exitless EOI (§4.2) clears only MSR 0x80B's write bit in the MSR bitmap.
 */
#include "eli/vm.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* The preemption timer ticks every 2^5 TSC cycles: IA32_VMX_MISC[4:0] = 5 on
 * Nehalem-class parts (SDM §25.5.1). */
#define PREEMPT_RATE_SHIFT 5

struct eli_vm {
	eli_mode mode;
	unsigned prot;
	eli_apic_mode apic;
	uint8_t mem[ELI_GUEST_MEM];
	ept ept;
	idtr cpu_idtr;
	uint64_t guest_idt_base;
	uint16_t guest_idt_limit;
	lapic phys, virt;
	uint32_t pin, cpu, sec, exc;
	vmx_msr_bitmap msrbm;
	uint32_t eoi_exit_bitmap[8];
	int injection_mode, pv_eoi_flag, guest_if;
	double preempt_us, tsc_ghz;
	uint32_t preempt_value;
	uint64_t exits[VMX_EXIT_REASONS], host_irqs;
	int rebuilds;
	unsigned assigned, hostvec;
};

const char *const eli_mode_names[] = { "bare",   "baseline", "eli-delivery", "eli", "pv-eoi",
				       "posted", NULL };

const char *eli_mode_name(eli_mode m)
{
	return (unsigned)m < ELI_NMODES ? eli_mode_names[m] : "?";
}

int eli_mode_parse(const char *s, eli_mode *m)
{
	for (int i = 0; i < ELI_NMODES; i++)
		if (!strcmp(s, eli_mode_names[i])) {
			*m = (eli_mode)i;
			return 0;
		}
	return VL_EINVAL;
}

static int is_eli(const eli_vm *vm)
{
	return vm->mode == ELI_MODE_ELI || vm->mode == ELI_MODE_ELI_DELIVERY;
}

static eli_event ev(int reason, eli_who who, int vector)
{
	eli_event e = { reason, who, vector, 0, 0, 0, -1 };
	return e;
}

/* e, with the #GP the guest takes when the LAPIC refused its access. */
static eli_event gp_if(eli_event e, lapic_result r)
{
	if (r == LAPIC_GP)
		e.fault = X86_VEC_GP;
	return e;
}

static eli_event vexit(eli_vm *vm, int reason, eli_who who, int vector)
{
	if (reason >= 0 && reason < VMX_EXIT_REASONS)
		vm->exits[reason]++;
	return ev(reason, who, vector);
}

/* The guest's IDT: interrupt gates for every vector, all present. */
static void build_guest_idt(eli_vm *vm, uint64_t base)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		idt_gate g = { ELI_GUEST_HANDLER(v), 0x10, 0, IDT_TYPE_INTR, 0, 1 };
		idt_write_gate(vm->mem, ELI_GUEST_MEM, base, v, &g);
	}
}

/* Shadow IDT: guest gates for exceptions (0-31) and the assigned vector; all
 * other gates copied with P = 0 so they raise #NP. */
static void rebuild_shadow(eli_vm *vm)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		idt_gate g;
		if (idt_read_gate(vm->mem, ELI_GUEST_MEM, vm->guest_idt_base, v, &g) ||
		    (uint64_t)v * IDT_GATE_BYTES + 15 > vm->guest_idt_limit)
			memset(&g, 0, sizeof(g));
		if (v >= 32 && v != vm->assigned)
			g.present = 0;
		if (!g.type)
			g.type = IDT_TYPE_INTR;
		idt_write_gate(vm->mem, ELI_GUEST_MEM, ELI_SHADOW_IDT, v, &g);
	}
	vm->rebuilds++;
}

static void protect_idt_pages(eli_vm *vm)
{
	if (!(vm->prot & ELI_PROT_SHADOW_WP))
		return;
	ept_set(&vm->ept, ELI_SHADOW_IDT, EPT_READ);
	ept_set(&vm->ept, vm->guest_idt_base, EPT_READ);
}

static void setup_controls(eli_vm *vm)
{
	vm->cpu = CPU_HLT_EXITING | CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY;
	vm->sec = SEC_ENABLE_EPT;
	vmx_msr_bitmap_fill(&vm->msrbm); /* everything exits unless cleared */
	switch (vm->mode) {
	case ELI_MODE_BASELINE:
	case ELI_MODE_PV_EOI:
		vm->pin = PIN_EXT_INTR_EXITING;
		break;
	case ELI_MODE_POSTED:
		vm->pin = PIN_EXT_INTR_EXITING | PIN_POSTED_INTERRUPTS;
		vm->sec |= SEC_VIRT_X2APIC_MODE | SEC_APIC_REGISTER_VIRT | SEC_VIRT_INTR_DELIVERY;
		/* with virtual-interrupt delivery KVM passes TPR, EOI and SELF_IPI writes */
		vmx_msr_bitmap_set(&vm->msrbm, X2APIC_TPR, 1, 0);
		vmx_msr_bitmap_set(&vm->msrbm, X2APIC_EOI, 1, 0);
		vmx_msr_bitmap_set(&vm->msrbm, X2APIC_SELF_IPI, 1, 0);
		break;
	case ELI_MODE_ELI:
	case ELI_MODE_ELI_DELIVERY:
		vm->pin = (vm->prot & ELI_PROT_PREEMPT) ? PIN_PREEMPTION_TIMER : 0;
		if (vm->prot & ELI_PROT_NP_EXIT)
			vm->exc |= 1u << X86_VEC_NP;
		if (vm->prot & ELI_PROT_DT_EXIT)
			vm->sec |= SEC_DESC_TABLE_EXITING;
		if (vm->mode == ELI_MODE_ELI) {
			if (vm->prot & ELI_PROT_MSR_BITMAP) {
				vmx_msr_bitmap_set(&vm->msrbm, X2APIC_EOI, 1, 0);
			} else { /* a careless policy: the whole x2APIC range passed */
				for (uint32_t m = X2APIC_MSR_BASE; m <= X2APIC_MSR_LAST; m++)
					vmx_msr_bitmap_set(&vm->msrbm, m, 1, 0);
			}
		}
		break;
	default:
		break;
	}
}

/* xAPIC -> x2APIC, as a guest or host kernel does it: IA32_APIC_BASE |= EXTD
 * (SDM §10.12.1). 0, or -1 if the LAPIC was not in xAPIC mode. */
static int enter_x2apic(lapic *a)
{
	uint64_t base;
	if (lapic_msr_read(a, IA32_APIC_BASE, &base) != LAPIC_OK ||
	    lapic_msr_write(a, IA32_APIC_BASE, base | APIC_BASE_EXTD) != LAPIC_OK)
		return -1;
	return 0;
}

eli_vm *eli_vm_create(eli_mode mode, unsigned prot, eli_apic_mode apic, double preempt_us,
		      double tsc_ghz)
{
	eli_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	if (ept_init(&vm->ept, ELI_GUEST_MEM >> 12)) {
		free(vm);
		return NULL;
	}
	vm->mode = mode;
	vm->prot = prot;
	vm->apic = apic;
	vm->guest_if = 1;
	vm->preempt_us = preempt_us;
	vm->tsc_ghz = tsc_ghz;
	vm->preempt_value = vmx_preempt_value(preempt_us, tsc_ghz, PREEMPT_RATE_SHIFT);
	vm->assigned = (prot & ELI_PROT_PRIORITY) ? ELI_VEC_ASSIGNED : ELI_VEC_ASSIGNED_HI;
	vm->hostvec = (prot & ELI_PROT_PRIORITY) ? ELI_VEC_HOST_TIMER : ELI_VEC_HOST_LOW;
	lapic_init(&vm->phys, 0);
	lapic_init(&vm->virt, 0);
	/* The virtual LAPIC is in the guest's mode; the physical one is the
	 * host's (x2APIC, which exitless EOI needs) unless the guest owns it. */
	int guest_x2 = apic == ELI_APIC_X2APIC;
	if ((guest_x2 && enter_x2apic(&vm->virt)) ||
	    ((guest_x2 || mode != ELI_MODE_BARE) && enter_x2apic(&vm->phys))) {
		eli_vm_destroy(vm);
		return NULL;
	}
	vm->guest_idt_base = ELI_GUEST_IDT;
	vm->guest_idt_limit = IDT_VECTORS * IDT_GATE_BYTES - 1;
	build_guest_idt(vm, ELI_GUEST_IDT);
	vm->cpu_idtr.base = ELI_GUEST_IDT;
	vm->cpu_idtr.limit = vm->guest_idt_limit;
	if (mode != ELI_MODE_BARE)
		setup_controls(vm);
	if (is_eli(vm)) {
		rebuild_shadow(vm);
		vm->cpu_idtr.base = ELI_SHADOW_IDT;
		protect_idt_pages(vm);
	}
	return vm;
}

void eli_vm_destroy(eli_vm *vm)
{
	if (!vm)
		return;
	ept_free(&vm->ept);
	free(vm);
}

/* Host handles one of its own vectors: acknowledge and EOI the physical LAPIC. */
static void host_handle(eli_vm *vm, unsigned v)
{
	(void)v;
	lapic_eoi(&vm->phys);
	vm->host_irqs++;
}

/* Host injects v into the virtual LAPIC and the guest takes it on entry. */
static eli_event inject(eli_vm *vm, unsigned v, int reason)
{
	if (vm->mode == ELI_MODE_PV_EOI) {
		/* PV EOI flag set only if nothing else is pending or in service */
		vm->pv_eoi_flag =
			lapic_highest_isr(&vm->virt) < 0 && lapic_highest_irr(&vm->virt) < 0;
	}
	lapic_accept(&vm->virt, v, 0);
	if (is_eli(vm)) {
		vm->injection_mode = 1; /* trap EOI until this interrupt completes */
		vmx_msr_bitmap_set(&vm->msrbm, X2APIC_EOI, 1, 1);
	}
	if (vm->guest_if && lapic_ack(&vm->virt) >= 0)
		return ev(reason, ELI_GUEST, (int)v);
	return ev(reason, ELI_NOBODY, (int)v);
}

static eli_event eli_phys_irq(eli_vm *vm, unsigned v)
{
	lapic_accept(&vm->phys, v, 0);
	if (!vm->guest_if || lapic_deliverable(&vm->phys) != (int)v)
		return ev(-1, ELI_NOBODY, (int)v); /* stays pending in IRR */
	lapic_ack(&vm->phys);
	idt_delivery d;
	idt_deliver(vm->mem, ELI_GUEST_MEM, &vm->cpu_idtr, v, 1, 0, &d);
	if (d.fault < 0)
		return ev(-1, ELI_GUEST, (int)v);
	if (vmx_exception_exits(vm->exc, (unsigned)d.fault)) {
		eli_event e =
			vexit(vm, EXIT_REASON_EXCEPTION_NMI, ELI_HOST, (int)(d.error_code >> 3));
		e.error_code = d.error_code;
		host_handle(vm, d.error_code >> 3);
		return e;
	}
	/* the fault goes to the guest's own handler; the host never sees v */
	return ev(-1, ELI_GUEST, d.fault);
}

eli_event eli_vm_phys_irq(eli_vm *vm, unsigned v)
{
	switch (vm->mode) {
	case ELI_MODE_BARE: {
		lapic_accept(&vm->phys, v, 0);
		if (!vm->guest_if || lapic_ack(&vm->phys) < 0)
			return ev(-1, ELI_NOBODY, (int)v);
		return ev(-1, ELI_GUEST, (int)v);
	}
	case ELI_MODE_ELI:
	case ELI_MODE_ELI_DELIVERY:
		return eli_phys_irq(vm, v);
	case ELI_MODE_POSTED:
		if (v == vm->assigned) { /* VT-d posted: straight into the vIRR, no exit */
			lapic_accept(&vm->virt, v, 0);
			if (vm->guest_if)
				lapic_ack(&vm->virt);
			return ev(-1, vm->guest_if ? ELI_GUEST : ELI_NOBODY, (int)v);
		}
		break;
	default:
		break;
	}
	/* external-interrupt exiting: exits regardless of the guest's IF */
	vm->exits[EXIT_REASON_EXTERNAL_INTERRUPT]++;
	lapic_accept(&vm->phys, v, 0);
	lapic_ack(&vm->phys);
	host_handle(vm, v);
	if (v != vm->assigned) {
		eli_event e = ev(EXIT_REASON_EXTERNAL_INTERRUPT, ELI_HOST, (int)v);
		return e;
	}
	vm->host_irqs--; /* the assigned vector is the guest's, forwarded */
	return inject(vm, v, EXIT_REASON_EXTERNAL_INTERRUPT);
}

eli_event eli_vm_inject(eli_vm *vm, unsigned v)
{
	if (vm->mode == ELI_MODE_BARE)
		return eli_vm_phys_irq(vm, v);
	return inject(vm, v, -1);
}

/* Host-side completion of a trapped EOI in the ELI modes: the guest's view
 * merges the physical ISR (directly delivered vectors) and the virtual one. */
static void eli_host_eoi(eli_vm *vm)
{
	int pv = lapic_highest_isr(&vm->phys), vv = lapic_highest_isr(&vm->virt);
	if (vv >= pv)
		lapic_eoi(&vm->virt);
	else
		lapic_eoi(&vm->phys);
	if (vm->injection_mode && lapic_highest_isr(&vm->virt) < 0 &&
	    lapic_highest_irr(&vm->virt) < 0) {
		vm->injection_mode = 0; /* back to direct mode */
		if (vm->mode == ELI_MODE_ELI && (vm->prot & ELI_PROT_MSR_BITMAP))
			vmx_msr_bitmap_set(&vm->msrbm, X2APIC_EOI, 1, 0);
	}
}

eli_event eli_vm_guest_eoi(eli_vm *vm)
{
	if (vm->mode == ELI_MODE_BARE) {
		lapic_eoi(&vm->phys);
		return ev(-1, ELI_GUEST, -1);
	}
	if (vm->mode == ELI_MODE_PV_EOI && vm->pv_eoi_flag) {
		vm->pv_eoi_flag = 0; /* guest test-and-clears the flag, skips the write */
		lapic_eoi(&vm->virt);
		return ev(-1, ELI_GUEST, -1);
	}
	if (vm->apic == ELI_APIC_XAPIC) {
		if (vm->mode == ELI_MODE_POSTED) { /* EOI virtualization covers xAPIC too */
			int v = lapic_eoi(&vm->virt);
			if (v >= 0 && lapic_test(vm->eoi_exit_bitmap, (unsigned)v))
				return vexit(vm, EXIT_REASON_EOI_INDUCED, ELI_HOST, v);
			return ev(-1, ELI_GUEST, v);
		}
		/* the EOI register shares the APIC page: it cannot be passed through */
		if (is_eli(vm))
			eli_host_eoi(vm);
		else
			lapic_eoi(&vm->virt);
		return vexit(vm, EXIT_REASON_APIC_ACCESS, ELI_HOST, -1);
	}
	return eli_vm_guest_wrmsr(vm, X2APIC_EOI, 0);
}

eli_event eli_vm_guest_wrmsr(eli_vm *vm, uint32_t msr, uint64_t val)
{
	if (vm->mode == ELI_MODE_BARE)
		return gp_if(ev(-1, ELI_GUEST, -1), lapic_msr_write(&vm->phys, msr, val));
	if (vm->mode == ELI_MODE_POSTED && msr == X2APIC_EOI && lapic_x2apic_mode(&vm->virt)) {
		/* EOI virtualization takes only EDX:EAX = 0; any other value
		 * #GPs without an exit (SDM §29.5) */
		if (val)
			return gp_if(ev(-1, ELI_GUEST, -1), LAPIC_GP);
		int v = lapic_eoi(&vm->virt);
		if (v >= 0 && lapic_test(vm->eoi_exit_bitmap, (unsigned)v))
			return vexit(vm, EXIT_REASON_EOI_INDUCED, ELI_HOST, v);
		return ev(-1, ELI_GUEST, v);
	}
	if (!vmx_msr_bitmap_exits(&vm->msrbm, msr, 1)) {
		/* passed through: the write reaches the (physical or, with
		 * virtualized x2APIC mode, virtual) LAPIC, which may #GP */
		lapic *a = vm->mode == ELI_MODE_POSTED ? &vm->virt : &vm->phys;
		return gp_if(ev(-1, ELI_GUEST, -1), lapic_msr_write(a, msr, val));
	}
	/* exit: the host emulates the write on the virtual LAPIC and injects
	 * #GP where the CPU would have raised one (KVM: kvm_inject_gp) */
	eli_event e = vexit(vm, EXIT_REASON_MSR_WRITE, ELI_HOST, -1);
	if (msr == X2APIC_EOI && is_eli(vm)) {
		if (!lapic_x2apic_mode(&vm->virt) || val)
			return gp_if(e, LAPIC_GP);
		eli_host_eoi(vm);
		return e;
	}
	return gp_if(e, lapic_msr_write(&vm->virt, msr, val));
}

eli_event eli_vm_guest_write(eli_vm *vm, uint64_t gpa, uint8_t val)
{
	if (gpa >= ELI_GUEST_MEM)
		return ev(-1, ELI_NOBODY, -1);
	uint64_t q = vm->mode == ELI_MODE_BARE ? 0 : ept_check(&vm->ept, gpa, EPT_WRITE);
	if (!q) {
		vm->mem[gpa] = val;
		return ev(-1, ELI_GUEST, -1);
	}
	eli_event e = vexit(vm, EXIT_REASON_EPT_VIOLATION, ELI_HOST, -1);
	e.qual = q;
	uint64_t page = gpa & ~0xFFFull;
	if (page == (vm->guest_idt_base & ~0xFFFull) && page != ELI_SHADOW_IDT) {
		vm->mem[gpa] = val; /* the guest's own IDT: emulate, then re-mirror */
		rebuild_shadow(vm);
	}
	/* writes to the shadow IDT are dropped */
	return e;
}

eli_event eli_vm_guest_lidt(eli_vm *vm, uint64_t base, uint16_t limit)
{
	if (is_eli(vm) && (vm->sec & SEC_DESC_TABLE_EXITING)) {
		eli_event e = vexit(vm, EXIT_REASON_GDTR_IDTR, ELI_HOST, -1);
		vm->guest_idt_base = base;
		vm->guest_idt_limit = limit;
		rebuild_shadow(vm); /* the CPU's IDTR keeps pointing at the shadow */
		protect_idt_pages(vm);
		return e;
	}
	vm->cpu_idtr.base = base;
	vm->cpu_idtr.limit = limit;
	vm->guest_idt_base = base;
	vm->guest_idt_limit = limit;
	return ev(-1, ELI_GUEST, -1);
}

eli_event eli_vm_guest_hlt(eli_vm *vm)
{
	if (vm->mode == ELI_MODE_BARE)
		return ev(-1, ELI_GUEST, -1);
	return vexit(vm, EXIT_REASON_HLT, ELI_HOST, -1);
}

/* On a preemption-timer exit: a host vector pending behind an assigned
 * vector the guest never completed means a stuck ISR. The host completes the
 * assigned vector on the physical LAPIC, moves it to the virtual LAPIC (the
 * guest's eventual EOI then traps: injection mode) and takes its own vector. */
static void host_recover(eli_vm *vm)
{
	int isr = lapic_highest_isr(&vm->phys);
	if (isr == (int)vm->assigned && lapic_highest_irr(&vm->phys) >= 0 &&
	    lapic_deliverable(&vm->phys) < 0) {
		lapic_eoi(&vm->phys);
		lapic_accept(&vm->virt, (unsigned)isr, 0);
		lapic_ack(&vm->virt);
		vm->injection_mode = 1;
		vmx_msr_bitmap_set(&vm->msrbm, X2APIC_EOI, 1, 1);
	}
	int v;
	while ((v = lapic_ack(&vm->phys)) >= 0)
		host_handle(vm, (unsigned)v);
}

eli_event eli_vm_guest_run(eli_vm *vm, double us, int masked)
{
	int saved = vm->guest_if;
	if (masked)
		vm->guest_if = 0;
	eli_event e = ev(-1, ELI_GUEST, -1);
	e.at_us = us;
	double bound = vmx_preempt_us(vm->preempt_value, vm->tsc_ghz, PREEMPT_RATE_SHIFT);
	if ((vm->pin & PIN_PREEMPTION_TIMER) && bound <= us) {
		e = vexit(vm, EXIT_REASON_PREEMPTION_TIMER, ELI_HOST, -1);
		e.at_us = bound;
		host_recover(vm);
	}
	vm->guest_if = saved;
	return e;
}

void eli_vm_set_eoi_exit(eli_vm *vm, unsigned vector)
{
	vm->eoi_exit_bitmap[(vector >> 5) & 7] |= 1u << (vector & 31);
}

const lapic *eli_vm_phys_lapic(const eli_vm *vm)
{
	return &vm->phys;
}
const lapic *eli_vm_virt_lapic(const eli_vm *vm)
{
	return &vm->virt;
}
idtr eli_vm_cpu_idtr(const eli_vm *vm)
{
	return vm->cpu_idtr;
}
const uint8_t *eli_vm_mem(const eli_vm *vm)
{
	return vm->mem;
}
const vmx_msr_bitmap *eli_vm_msr_bitmap(const eli_vm *vm)
{
	return &vm->msrbm;
}
uint32_t eli_vm_exception_bitmap(const eli_vm *vm)
{
	return vm->exc;
}
uint32_t eli_vm_pin_controls(const eli_vm *vm)
{
	return vm->pin;
}
uint32_t eli_vm_secondary_controls(const eli_vm *vm)
{
	return vm->sec;
}
int eli_vm_injection_mode(const eli_vm *vm)
{
	return vm->injection_mode;
}
unsigned eli_vm_assigned_vector(const eli_vm *vm)
{
	return vm->assigned;
}
unsigned eli_vm_host_vector(const eli_vm *vm)
{
	return vm->hostvec;
}
uint64_t eli_vm_host_irqs(const eli_vm *vm)
{
	return vm->host_irqs;
}
int eli_vm_shadow_rebuilds(const eli_vm *vm)
{
	return vm->rebuilds;
}

uint64_t eli_vm_exits(const eli_vm *vm, int reason)
{
	if (reason < 0 || reason >= VMX_EXIT_REASONS)
		return 0;
	return vm->exits[reason];
}

int eli_vm_path(eli_mode mode, eli_apic_mode apic, eli_path *out)
{
	eli_vm *vm = eli_vm_create(mode, ELI_PROT_ALL, apic, 1000, 2.93);
	if (!vm)
		return VL_ENOMEM;
	memset(out, 0, sizeof(*out));
	eli_event e = eli_vm_phys_irq(vm, vm->assigned);
	out->dev_delivery = e.exit_reason;
	out->injects_dev = mode == ELI_MODE_BASELINE || mode == ELI_MODE_PV_EOI;
	/* EOI of the device interrupt with nothing else pending */
	out->dev_eoi = eli_vm_guest_eoi(vm).exit_reason;
	out->pv_eoi = mode == ELI_MODE_PV_EOI;
	if (out->pv_eoi) /* the exit an EOI takes when the flag is clear */
		out->dev_eoi =
			apic == ELI_APIC_XAPIC ? EXIT_REASON_APIC_ACCESS : EXIT_REASON_MSR_WRITE;
	out->host_irq = mode == ELI_MODE_BARE ? -1 : eli_vm_phys_irq(vm, vm->hostvec).exit_reason;
	eli_vm_inject(vm, ELI_VEC_GUEST_TIMER);
	out->inj_eoi = eli_vm_guest_eoi(vm).exit_reason;
	if (out->pv_eoi)
		out->inj_eoi = out->dev_eoi;
	if (apic == ELI_APIC_X2APIC)
		out->timer_arm = eli_vm_guest_wrmsr(vm, X2APIC_TMICT, 100000).exit_reason;
	else if (mode == ELI_MODE_BARE)
		out->timer_arm = -1;
	else
		/* TMICT is on the APIC page (an xAPIC guest has no TMICT MSR:
		 * WRMSR 0x838 would #GP): a fault-like APIC_ACCESS, or with
		 * APIC-register virtualization a trap-like APIC_WRITE */
		out->timer_arm =
			mode == ELI_MODE_POSTED ? EXIT_REASON_APIC_WRITE : EXIT_REASON_APIC_ACCESS;
	out->hlt = eli_vm_guest_hlt(vm).exit_reason;
	eli_vm_destroy(vm);
	return 0;
}
