/*
 * idt.h — the IA-32e interrupt descriptor table (Intel SDM Vol. 3A §6.10-6.14).
 *
 * A 64-bit IDT gate is 16 bytes (SDM Figure 6-8):
 *   bytes 0-1  offset 15:0          bytes 2-3  segment selector
 *   byte  4    bits 2:0 IST, rest 0 byte  5    type (bits 3:0; 0xE interrupt
 *              gate, 0xF trap gate), bit 4 = 0, DPL (bits 6:5), P (bit 7)
 *   bytes 6-7  offset 31:16         bytes 8-11 offset 63:32, bytes 12-15 reserved
 * IDTR = {base, limit}; gate v occupies base + 16*v .. base + 16*v + 15.
 *
 * Delivery of vector v (§6.12, §6.13): beyond the limit or a gate whose type
 * is not an interrupt/trap gate -> #GP(13); a software INT n whose gate DPL is
 * below CPL -> #GP; a not-present gate -> #NP(11). The error code for a fault
 * caused by an IDT gate is (v << 3) | IDT (bit 1) | EXT (bit 0, set when the
 * event was external to the program: a hardware interrupt, §6.13).
 */
#ifndef VL_X86_IDT_H
#define VL_X86_IDT_H

#include <stddef.h>
#include <stdint.h>

#define IDT_VECTORS 256
#define IDT_GATE_BYTES 16
#define IDT_TYPE_INTR 0xE /* 64-bit interrupt gate: clears IF */
#define IDT_TYPE_TRAP 0xF /* 64-bit trap gate */

/* Exception vectors ELI relies on (SDM Table 6-1). */
#define X86_VEC_NMI 2
#define X86_VEC_NP 11
#define X86_VEC_GP 13
#define X86_VEC_PF 14
#define X86_VEC_MC 18

/* Bits of a selector-format error code (SDM §6.13, Figure 6-7). */
#define X86_ERR_EXT 0x1u /* external event */
#define X86_ERR_IDT 0x2u /* index refers to an IDT gate */
#define X86_ERR_TI 0x4u  /* (when IDT = 0) GDT/LDT selector */

typedef struct idt_gate {
	uint64_t offset;   /* handler entry point */
	uint16_t selector; /* code segment */
	uint8_t ist;       /* 0-7 */
	uint8_t type;      /* IDT_TYPE_INTR or IDT_TYPE_TRAP */
	uint8_t dpl;       /* 0-3 */
	uint8_t present;   /* P bit */
} idt_gate;

typedef struct idtr {
	uint64_t base;
	uint16_t limit; /* last valid byte offset: 256 gates -> 4095 */
} idtr;

/* Encodes g into 16 bytes, SDM layout, reserved bits zero. */
void idt_gate_encode(const idt_gate *g, uint8_t out[IDT_GATE_BYTES]);
/* Decodes 16 bytes into g (reserved bits ignored). */
void idt_gate_decode(const uint8_t in[IDT_GATE_BYTES], idt_gate *g);

/* The error code pushed for a fault on gate `vector`. */
uint32_t idt_error_code(unsigned vector, int ext);

/* What the CPU does with one event. */
typedef struct idt_delivery {
	int fault;           /* -1: delivered; else the exception raised (11 or 13) */
	uint32_t error_code; /* valid when fault >= 0 */
	uint64_t handler;    /* valid when fault < 0 */
	uint8_t type;        /* gate type when delivered */
} idt_delivery;

/* Delivers `vector` through the IDT at r->base in mem[0..mem_size) (guest
 * linear = physical here). ext: hardware interrupt (1) or INT n (0); cpl:
 * current privilege level, checked against the gate's DPL for INT n only.
 * A gate outside mem is treated as beyond the limit. */
void idt_deliver(const uint8_t *mem, size_t mem_size, const idtr *r, unsigned vector, int ext,
		 unsigned cpl, idt_delivery *out);

/* Writes gate v of the table at base in mem. Returns 0, or -1 if out of mem. */
int idt_write_gate(uint8_t *mem, size_t mem_size, uint64_t base, unsigned v, const idt_gate *g);
int idt_read_gate(const uint8_t *mem, size_t mem_size, uint64_t base, unsigned v, idt_gate *g);

#endif
