/*
 * vmx.h — the VMX controls and structures ELI touches (Intel SDM Vol. 3C
 * ch. 24-26 and Appendix C), with their architectural encodings.
 *
 * - Basic exit reasons (SDM Appendix C), named as Linux KVM names them
 *   (arch/x86/include/uapi/asm/vmx.h, EXIT_REASON_*).
 * - Pin-based (§24.6.1), primary (§24.6.2) and secondary (§24.6.2, Table 24-7)
 *   execution-control bits.
 * - Exception bitmap (§24.6.3): bit v set -> exception v causes a VM exit
 *   (reason EXCEPTION_NMI).
 * - MSR bitmap (§24.6.9): one 4 KiB page of four 1 KiB quarters:
 *   0x000 read-low (MSRs 0x00000000-0x00001FFF), 0x400 read-high
 *   (0xC0000000-0xC0001FFF), 0x800 write-low, 0xC00 write-high; MSR m's bit is
 *   bit (m & 7) of byte (m & 0x1FFF) >> 3 of its quarter. RDMSR/WRMSR of an MSR
 *   outside both ranges always exits.
 * - VMX-preemption timer (§25.5.1): counts down by one every 2^X TSC ticks,
 *   X = IA32_VMX_MISC[4:0]; at zero the guest exits with PREEMPTION_TIMER.
 * - EPT permissions (§28.2) and the EPT-violation exit qualification bits
 *   (§27.2.1, Table 27-7).
 * - VM-exit (§24.7.1, Table 24-10) and VM-entry (§24.8.1, Table 24-12)
 *   controls, and the VM-entry checks on the control fields that ELI's modes
 *   touch (§26.2.1.1-26.2.1.3): a VMLAUNCH/VMRESUME with a set that breaks one
 *   fails with VM-instruction error 7 ("VM entry with invalid control
 *   field(s)", §30.4) and the guest never runs.
 */
#ifndef VL_X86_VMX_H
#define VL_X86_VMX_H

#include <stddef.h>
#include <stdint.h>

enum vmx_exit_reason {
	EXIT_REASON_EXCEPTION_NMI = 0,
	EXIT_REASON_EXTERNAL_INTERRUPT = 1,
	EXIT_REASON_TRIPLE_FAULT = 2,
	EXIT_REASON_INIT_SIGNAL = 3,
	EXIT_REASON_INTERRUPT_WINDOW = 7,
	EXIT_REASON_NMI_WINDOW = 8,
	EXIT_REASON_TASK_SWITCH = 9,
	EXIT_REASON_CPUID = 10,
	EXIT_REASON_HLT = 12,
	EXIT_REASON_INVLPG = 14,
	EXIT_REASON_RDPMC = 15,
	EXIT_REASON_RDTSC = 16,
	EXIT_REASON_VMCALL = 18,
	EXIT_REASON_CR_ACCESS = 28,
	EXIT_REASON_DR_ACCESS = 29,
	EXIT_REASON_IO_INSTRUCTION = 30,
	EXIT_REASON_MSR_READ = 31,
	EXIT_REASON_MSR_WRITE = 32,
	EXIT_REASON_INVALID_STATE = 33,
	EXIT_REASON_MWAIT_INSTRUCTION = 36,
	EXIT_REASON_MONITOR_TRAP_FLAG = 37,
	EXIT_REASON_MONITOR_INSTRUCTION = 39,
	EXIT_REASON_PAUSE_INSTRUCTION = 40,
	EXIT_REASON_TPR_BELOW_THRESHOLD = 43,
	EXIT_REASON_APIC_ACCESS = 44,
	EXIT_REASON_EOI_INDUCED = 45,
	EXIT_REASON_GDTR_IDTR = 46,
	EXIT_REASON_LDTR_TR = 47,
	EXIT_REASON_EPT_VIOLATION = 48,
	EXIT_REASON_EPT_MISCONFIG = 49,
	EXIT_REASON_INVEPT = 50,
	EXIT_REASON_RDTSCP = 51,
	EXIT_REASON_PREEMPTION_TIMER = 52,
	EXIT_REASON_INVVPID = 53,
	EXIT_REASON_WBINVD = 54,
	EXIT_REASON_XSETBV = 55,
	EXIT_REASON_APIC_WRITE = 56,
	VMX_EXIT_REASONS = 57 /* table size: reasons 0..56 */
};

/* KVM's name for a basic exit reason ("EXTERNAL_INTERRUPT"), or NULL for a
 * number this model does not name. */
const char *vmx_exit_name(int reason);
/* The reason for a KVM name, or -1. */
int vmx_exit_by_name(const char *name);

/* Pin-based VM-execution controls (SDM Table 24-5) */
#define PIN_EXT_INTR_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)
#define PIN_POSTED_INTERRUPTS (1u << 7)
#define PIN_ALL_KNOWN 0xE9u /* bits 0, 3, 5, 6, 7 */

/* Primary processor-based controls (SDM Table 24-6) */
#define CPU_INTR_WINDOW_EXITING (1u << 2)
#define CPU_HLT_EXITING (1u << 7)
#define CPU_CR8_LOAD_EXITING (1u << 19)
#define CPU_CR8_STORE_EXITING (1u << 20)
#define CPU_TPR_SHADOW (1u << 21)
#define CPU_NMI_WINDOW_EXITING (1u << 22)
#define CPU_USE_MSR_BITMAPS (1u << 28)
#define CPU_ACTIVATE_SECONDARY (1u << 31)

/* Secondary processor-based controls (SDM Table 24-7) */
#define SEC_VIRT_APIC_ACCESSES (1u << 0)
#define SEC_ENABLE_EPT (1u << 1)
#define SEC_DESC_TABLE_EXITING (1u << 2)
#define SEC_VIRT_X2APIC_MODE (1u << 4)
#define SEC_APIC_REGISTER_VIRT (1u << 8)
#define SEC_VIRT_INTR_DELIVERY (1u << 9)

/* Primary VM-exit controls (SDM Table 24-10) */
#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9) /* the host is 64-bit */
#define EXIT_ACK_INTR_ON_EXIT (1u << 15)    /* ack the LAPIC, vector into exit info */
#define EXIT_SAVE_PREEMPT_TIMER (1u << 22)

/* VM-entry controls (SDM Table 24-12) */
#define ENTRY_IA32E_MODE_GUEST (1u << 9)

/* The control fields of one VMCS that the model uses. */
typedef struct vmx_controls {
	uint32_t pin, cpu, sec; /* pin-based, primary and secondary processor-based */
	uint32_t exit, entry;   /* VM-exit and VM-entry controls */
	uint32_t exc;           /* exception bitmap */
} vmx_controls;

/* VM-instruction error number of a VM entry refused for its control fields
 * (SDM §30.4, Table 30-1). */
#define VMX_ERR_ENTRY_INVALID_CTL 7

/* The VM-entry checks of SDM §26.2.1.1 (VM-execution controls) and §26.2.1.2
 * (VM-exit controls) that involve these controls: the secondary controls
 * count only with "activate secondary controls"; "virtualize x2APIC mode",
 * "APIC-register virtualization" and "virtual-interrupt delivery" need "use
 * TPR shadow"; "virtualize x2APIC mode" excludes "virtualize APIC accesses";
 * "virtual-interrupt delivery" needs "external-interrupt exiting"; "process
 * posted interrupts" needs "virtual-interrupt delivery" and "acknowledge
 * interrupt on exit"; "virtual NMIs" needs "NMI exiting"; "NMI-window exiting"
 * needs "virtual NMIs"; "save VMX-preemption timer value" needs "activate
 * VMX-preemption timer". Returns 0, or VMX_ERR_ENTRY_INVALID_CTL with the
 * broken rule in why (NUL-terminated, truncated to n; why may be NULL). */
int vmx_check_controls(const vmx_controls *c, char *why, size_t n);

/* MSR bitmap */
#define VMX_MSR_BITMAP_BYTES 4096
#define VMX_MSRBM_READ_LOW 0x000
#define VMX_MSRBM_READ_HIGH 0x400
#define VMX_MSRBM_WRITE_LOW 0x800
#define VMX_MSRBM_WRITE_HIGH 0xC00

typedef struct vmx_msr_bitmap {
	uint8_t b[VMX_MSR_BITMAP_BYTES];
} vmx_msr_bitmap;

/* Where msr's bit lives: byte offset in the page and bit index. Returns 0, or
 * -1 if msr is outside both ranges (such accesses always exit). */
int vmx_msr_bitmap_pos(uint32_t msr, int write, size_t *byte, unsigned *bit);
/* Sets (intercept = 1) or clears msr's read or write bit. 0 or -1 (range). */
int vmx_msr_bitmap_set(vmx_msr_bitmap *m, uint32_t msr, int write, int intercept);
/* Would RDMSR (write = 0) / WRMSR (write = 1) of msr exit? */
int vmx_msr_bitmap_exits(const vmx_msr_bitmap *m, uint32_t msr, int write);
/* Sets every bit (intercept everything). */
void vmx_msr_bitmap_fill(vmx_msr_bitmap *m);

/* Exception bitmap: does exception `vector` (0-31) exit? */
static inline int vmx_exception_exits(uint32_t bitmap, unsigned vector)
{
	return vector < 32 && ((bitmap >> vector) & 1);
}

/* VMX-preemption timer: the value to load so the guest exits after `us`
 * microseconds on a TSC of tsc_ghz, with rate shift X = IA32_VMX_MISC[4:0].
 * Rounds up; saturates at 2^32 - 1. */
uint32_t vmx_preempt_value(double us, double tsc_ghz, unsigned rate_shift);
/* The time in microseconds that a loaded value lasts. */
double vmx_preempt_us(uint32_t value, double tsc_ghz, unsigned rate_shift);

/* EPT: a permission map over a small guest-physical space of 4 KiB pages. */
#define EPT_READ 1u
#define EPT_WRITE 2u
#define EPT_EXEC 4u
/* EPT-violation exit qualification (SDM Table 27-7): bits 0-2 the access
 * (read, write, fetch), bits 3-5 the permissions of the translation. */
#define EPT_QUAL_READ (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)
#define EPT_QUAL_READABLE (1u << 3)
#define EPT_QUAL_WRITABLE (1u << 4)
#define EPT_QUAL_EXECUTABLE (1u << 5)

typedef struct ept {
	uint8_t *perm; /* per page */
	size_t pages;
} ept;

/* 0 or -1 (no memory). All pages start RWX. */
int ept_init(ept *e, size_t pages);
void ept_free(ept *e);
void ept_set(ept *e, uint64_t gpa, unsigned perm);
/* Checks an access (EPT_READ/WRITE/EXEC). Returns 0 if allowed, else the exit
 * qualification of the EPT violation it causes (never 0). */
uint64_t ept_check(const ept *e, uint64_t gpa, unsigned access);

#endif
