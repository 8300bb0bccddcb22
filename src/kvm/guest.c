/*
 * guest.c — the test guest (x86-64 assembly, assembled with this file) and
 * the VMM-side layout of its memory: GDT, TSS, IDT, 4-level page tables.
 *
 * Why a file-scope asm block: the Makefile compiles only the .c files under
 * src/, and a top-level __asm__ in a .c file is assembled by gcc's own
 * assembler at build time into real machine code (readable source, no
 * hand-written byte array, no run-time step). A guest.S plus an objcopy rule
 * would work as well; this listing would move over verbatim.
 *
 * The listing is position independent (RIP-relative jumps/LEA) and refers to
 * guest data only through the fixed absolute addresses in guest.h (shared
 * page 0x8000: cmd +0, apic_mode +8, irq_count +0x10, spin_count +0x18,
 * fault_vector +0x20, fault_error +0x28, fault_rip +0x30, ready +0x38).
 * 32-bit absolute displacements are sign-extended in 64-bit mode, so the
 * LAPIC (0xFEE00000) is always addressed through a zero-extended register.
 *
 * Sources: Intel SDM vol. 3 §6.14 (64-bit IDT gates, stack switch via
 * TSS.RSP0 on a CPL3 -> CPL0 interrupt), §10.12 (x2APIC: IA32_APIC_BASE bit
 * 10, MSR 0x800 + offset/16, EOI = 0x80B), §10.4 (xAPIC SVR 0xF0, EOI 0xB0);
 * KVM selftests lib/x86_64/processor.c for the descriptor layout.
 */
#include "kvm/guest.h"

#include <string.h>

#include "x86/idt.h"

__asm__(".pushsection .rodata.vl_kvm_guest,\"a\"\n"
	".p2align 12\n"
	".globl vl_kvm_guest_start\n .hidden vl_kvm_guest_start\n"
	".globl vl_kvm_guest_irq_xapic\n .hidden vl_kvm_guest_irq_xapic\n"
	".globl vl_kvm_guest_irq_x2apic\n .hidden vl_kvm_guest_irq_x2apic\n"
	".globl vl_kvm_guest_exc_stubs\n .hidden vl_kvm_guest_exc_stubs\n"
	".globl vl_kvm_guest_end\n .hidden vl_kvm_guest_end\n"
	"vl_kvm_guest_start:\n"
	/* --- CPL0 entry: the empty-IDT triple-fault test first --- */
	"	mov 0x8000, %rax\n"
	"	cmp $3, %rax\n"
	"	je 90f\n"
	/* enable the local APIC in the mode the host asked for */
	"	cmpq $1, 0x8008\n"
	"	je 10f\n"
	"	mov $0xFEE00000, %edx\n" /* xAPIC: TPR = 0, SVR = 0x1FF */
	"	movl $0, 0x80(%rdx)\n"
	"	movl $0x1FF, 0xF0(%rdx)\n"
	"	jmp 20f\n"
	"10:	mov $0x1B, %ecx\n" /* x2APIC: IA32_APIC_BASE |= EN|EXTD */
	"	rdmsr\n"
	"	or $0xC00, %eax\n"
	"	wrmsr\n"
	"	mov $0x808, %ecx\n" /* TPR = 0 */
	"	xor %eax, %eax\n"
	"	xor %edx, %edx\n"
	"	wrmsr\n"
	"	mov $0x80F, %ecx\n" /* SVR = 0x1FF (enable, spurious 0xFF) */
	"	mov $0x1FF, %eax\n"
	"	wrmsr\n"
	"20:	mov 0x8000, %rax\n"
	"	cmp $5, %rax\n"
	"	je 80f\n"
	"	cmp $6, %rax\n"
	"	je 100f\n"
	"	cmp $7, %rax\n"
	"	je 110f\n"
	/* drop to CPL3: iretq frame SS, RSP, RFLAGS (IF | IOPL=3), CS, RIP */
	"	lea 30f(%rip), %rcx\n"
	"	pushq $0x1B\n"
	"	pushq $0x40000\n"
	"	pushq $0x3202\n"
	"	pushq $0x23\n"
	"	push %rcx\n"
	"	iretq\n"
	/* --- CPL3 workloads --- */
	"30:	mov 0x8000, %rax\n"
	"	xor %ebx, %ebx\n"
	"	movq $1, 0x8038\n"
	"	cmp $1, %rax\n"
	"	je 40f\n"
	"	cmp $2, %rax\n"
	"	je 50f\n"
	"	cmp $4, %rax\n"
	"	je 60f\n"
	"	cmp $8, %rax\n"
	"	je 65f\n"
	"31:	inc %rbx\n" /* KG_CMD_SPIN */
	"	mov %rbx, 0x8018\n"
	"	jmp 31b\n"
	"40:	out %al, $0xE0\n" /* KG_CMD_PING: the TSS I/O bitmap allows it */
	"	inc %rbx\n"
	"	mov %rbx, 0x8018\n"
	"	jmp 40b\n"
	"50:	mov $0xFEE00000, %edx\n" /* KG_CMD_USER_EOI */
	"51:	movl $0, 0xB0(%rdx)\n"
	"	inc %rbx\n"
	"	mov %rbx, 0x8018\n"
	"	jmp 51b\n"
	"60:	mov $0x40000000, %eax\n" /* KG_CMD_PAGEFAULT: 1 GiB is unmapped */
	"	mov (%rax), %rax\n"
	"	jmp 60b\n"
	"65:	mov $0xFEF00000, %eax\n" /* KG_CMD_BAD_MMIO: mapped, no device */
	"	mov (%rax), %eax\n"
	"	jmp 65b\n"
	/* --- CPL0 halt loop (KG_CMD_HALT) --- */
	"80:	movq $1, 0x8038\n"
	"81:	sti\n"
	"	hlt\n"
	"	jmp 81b\n"
	/* --- CPL0 loops timing one emulated EOI (KG_CMD_KERNEL_EOI) against
	 *     the same loop with a nop (KG_CMD_KERNEL_NOP); IF=0 here --- */
	"100:	movq $1, 0x8038\n"
	"	xor %ebx, %ebx\n"
	"	cmpq $1, 0x8008\n"
	"	je 105f\n"
	"	mov $0xFEE00000, %edx\n"
	"101:	movl $0, 0xB0(%rdx)\n"
	"	inc %rbx\n"
	"	mov %rbx, 0x8018\n"
	"	jmp 101b\n"
	"105:	mov $0x80B, %ecx\n"
	"	xor %eax, %eax\n"
	"	xor %edx, %edx\n"
	"106:	wrmsr\n"
	"	inc %rbx\n"
	"	mov %rbx, 0x8018\n"
	"	jmp 106b\n"
	"110:	movq $1, 0x8038\n"
	"	xor %ebx, %ebx\n"
	"111:	nop\n"
	"	inc %rbx\n"
	"	mov %rbx, 0x8018\n"
	"	jmp 111b\n"
	/* --- KG_CMD_TRIPLE: no IDT, so #UD -> #DF -> triple fault --- */
	"90:	lidt 91f(%rip)\n"
	"	ud2\n"
	"91:	.word 0\n"
	"	.quad 0\n"
	/* --- interrupt handlers (CPL0). Both are the same 12 instructions but
	 *     for the EOI itself (xAPIC: a 32-bit MMIO write to 0xFEE000B0;
	 *     x2APIC: WRMSR 0x80B), so a difference between the modes is the EOI
	 *     path and nothing else. They count after the EOI, so a host that
	 *     sees irq_count == i knows interrupt i was completed. --- */
	"	.p2align 4\n"
	"vl_kvm_guest_irq_xapic:\n"
	"	push %rax\n"
	"	push %rcx\n"
	"	push %rdx\n"
	"	mov $0xFEE000B0, %ecx\n"
	"	xor %eax, %eax\n"
	"	xor %edx, %edx\n"
	"	movl %eax, (%rcx)\n"
	"	incq 0x8010\n"
	"	pop %rdx\n"
	"	pop %rcx\n"
	"	pop %rax\n"
	"	iretq\n"
	"	.p2align 4\n"
	"vl_kvm_guest_irq_x2apic:\n"
	"	push %rax\n"
	"	push %rcx\n"
	"	push %rdx\n"
	"	mov $0x80B, %ecx\n"
	"	xor %eax, %eax\n"
	"	xor %edx, %edx\n"
	"	wrmsr\n"
	"	incq 0x8010\n"
	"	pop %rdx\n"
	"	pop %rcx\n"
	"	pop %rax\n"
	"	iretq\n"
	/* --- exception stubs, 16 bytes each: push a 0 error code where the CPU
	 *     pushes none, push the vector, report to the host --- */
	"	.p2align 4\n"
	"vl_kvm_guest_exc_stubs:\n"
	"	.irp "
	"v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	.p2align 4\n"
	"	.if (\\v == 8) || ((\\v >= 10) && (\\v <= 14)) || (\\v == 17) || (\\v == 21) || "
	"(\\v == 29) || (\\v == 30)\n"
	"	.else\n"
	"	pushq $0\n"
	"	.endif\n"
	"	pushq $\\v\n"
	"	jmp 70f\n"
	"	.endr\n"
	"	.p2align 4\n"
	"70:	pop %rax\n"
	"	mov %rax, 0x8020\n"
	"	pop %rax\n"
	"	mov %rax, 0x8028\n"
	"	mov (%rsp), %rax\n"
	"	mov %rax, 0x8030\n"
	"	out %al, $0xE1\n"
	"71:	cli\n"
	"	hlt\n"
	"	jmp 71b\n"
	"vl_kvm_guest_end:\n"
	".popsection\n");

extern const uint8_t vl_kvm_guest_start[], vl_kvm_guest_end[], vl_kvm_guest_irq_xapic[],
	vl_kvm_guest_irq_x2apic[], vl_kvm_guest_exc_stubs[];

void kg_image_get(kg_image *img)
{
	const uint8_t *s = vl_kvm_guest_start;
	img->bytes = s;
	img->size = (size_t)(vl_kvm_guest_end - s);
	img->entry = 0;
	img->irq_xapic = (uint64_t)(vl_kvm_guest_irq_xapic - s);
	img->irq_x2apic = (uint64_t)(vl_kvm_guest_irq_x2apic - s);
	img->exc_stubs = (uint64_t)(vl_kvm_guest_exc_stubs - s);
}

static void put64(uint8_t *mem, uint64_t gpa, uint64_t v)
{
	memcpy(mem + gpa, &v, sizeof(v));
}

/* The IDT, all 256 gates, lies inside guest memory: idt_write_gate cannot
 * fail below. */
_Static_assert(KG_IDT + IDT_VECTORS * IDT_GATE_BYTES <= KG_MEM_SIZE, "IDT outside guest memory");

/* A present 64-bit interrupt gate, DPL 0, to handler in the kernel code
 * segment, encoded by x86/idt (SDM Figure 6-8). */
static void set_gate(uint8_t *mem, unsigned vec, uint64_t handler)
{
	const idt_gate g = {
		.offset = handler, .selector = KG_SEL_KCODE, .type = IDT_TYPE_INTR, .present = 1
	};
	(void)idt_write_gate(mem, KG_MEM_SIZE, KG_IDT, vec, &g);
}

void kg_layout(uint8_t *mem, enum kg_cmd cmd, enum kg_apic apic_mode)
{
	kg_image img;
	kg_image_get(&img);
	memcpy(mem + KG_CODE, img.bytes, img.size);

	/* GDT: null, kernel code (L=1), kernel data, user data, user code (L=1),
	 * then the 16-byte 64-bit TSS descriptor (type 9 = available). */
	put64(mem, KG_GDT + 0x00, 0);
	put64(mem, KG_GDT + 0x08, 0x00AF9A000000FFFFULL);
	put64(mem, KG_GDT + 0x10, 0x00CF92000000FFFFULL);
	put64(mem, KG_GDT + 0x18, 0x00CFF2000000FFFFULL);
	put64(mem, KG_GDT + 0x20, 0x00AFFA000000FFFFULL);
	uint64_t tss = KG_TSS, lim = 0x68 + 32;
	put64(mem, KG_GDT + 0x28,
	      lim | (tss & 0xFFFFFF) << 16 | 0x89ULL << 40 | (tss >> 24 & 0xFF) << 56);
	put64(mem, KG_GDT + 0x30, tss >> 32);
	/* TSS: RSP0 at +4 (the stack a CPL3 -> CPL0 interrupt switches to) and
	 * an I/O permission bitmap allowing ports 0..255 from CPL3 (SDM vol. 1
	 * §19.5.2). IOPL=3 alone would do on hardware, but this host's
	 * paravirtual KVM keeps the user-mode IOPL at 0 (a CPL3 `out` raised #GP
	 * with RFLAGS 0x10246 although iretq loaded 0x3202); the bitmap works. */
	put64(mem, KG_TSS + 4, KG_KSTACK_TOP);
	mem[KG_TSS + 0x66] = 0x68;
	mem[KG_TSS + 0x68 + 32] = 0xFF;

	/* IDT: exceptions to their stubs, KG_VECTOR to the mode's handler. */
	for (unsigned v = 0; v < 32; v++)
		set_gate(mem, v, KG_CODE + img.exc_stubs + (uint64_t)KG_EXC_STUB * v);
	set_gate(mem, KG_VECTOR,
		 KG_CODE + (apic_mode == KG_APIC_X2APIC ? img.irq_x2apic : img.irq_xapic));

	/* Page tables: P|RW|US everywhere, 2 MiB pages (PS); the LAPIC page
	 * also PCD|PWT. 0 .. 2 MiB and 0xFEE00000 are mapped, nothing else. */
	const uint64_t p = 0x7, ps = 0x80, pcd_pwt = 0x18;
	put64(mem, KG_PML4, KG_PDPT | p);
	put64(mem, KG_PDPT + 0 * 8, KG_PD_LOW | p);
	put64(mem, KG_PDPT + 3 * 8, KG_PD_APIC | p);
	put64(mem, KG_PD_LOW, 0 | p | ps);
	put64(mem, KG_PD_APIC + 8 * ((KG_LAPIC_BASE - 0xC0000000u) >> 21),
	      (KG_LAPIC_BASE & ~0x1FFFFFull) | p | ps | pcd_pwt);

	kg_shared *sh = (kg_shared *)(mem + KG_SHARED);
	sh->cmd = cmd;
	sh->apic_mode = apic_mode;
}
