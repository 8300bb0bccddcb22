/* idt.c — see idt.h (Intel SDM Vol. 3A §6.10-6.14). */
#include "x86/idt.h"

#include <string.h>

void idt_gate_encode(const idt_gate *g, uint8_t o[IDT_GATE_BYTES])
{
	memset(o, 0, IDT_GATE_BYTES);
	o[0] = (uint8_t)g->offset;
	o[1] = (uint8_t)(g->offset >> 8);
	o[2] = (uint8_t)g->selector;
	o[3] = (uint8_t)(g->selector >> 8);
	o[4] = g->ist & 7;
	o[5] = (uint8_t)((g->type & 0xF) | ((g->dpl & 3) << 5) | ((g->present ? 1 : 0) << 7));
	o[6] = (uint8_t)(g->offset >> 16);
	o[7] = (uint8_t)(g->offset >> 24);
	for (int i = 0; i < 4; i++)
		o[8 + i] = (uint8_t)(g->offset >> (32 + 8 * i));
}

void idt_gate_decode(const uint8_t in[IDT_GATE_BYTES], idt_gate *g)
{
	g->offset = (uint64_t)in[0] | (uint64_t)in[1] << 8 | (uint64_t)in[6] << 16 |
		    (uint64_t)in[7] << 24;
	for (int i = 0; i < 4; i++)
		g->offset |= (uint64_t)in[8 + i] << (32 + 8 * i);
	g->selector = (uint16_t)(in[2] | in[3] << 8);
	g->ist = in[4] & 7;
	g->type = in[5] & 0xF;
	g->dpl = (in[5] >> 5) & 3;
	g->present = in[5] >> 7;
}

uint32_t idt_error_code(unsigned vector, int ext)
{
	return (uint32_t)(vector & 0xFF) << 3 | X86_ERR_IDT | (ext ? X86_ERR_EXT : 0);
}

int idt_read_gate(const uint8_t *mem, size_t mem_size, uint64_t base, unsigned v, idt_gate *g)
{
	uint64_t at = base + (uint64_t)v * IDT_GATE_BYTES;
	if (v >= IDT_VECTORS || at < base || at + IDT_GATE_BYTES > mem_size)
		return -1;
	idt_gate_decode(mem + at, g);
	return 0;
}

int idt_write_gate(uint8_t *mem, size_t mem_size, uint64_t base, unsigned v, const idt_gate *g)
{
	uint64_t at = base + (uint64_t)v * IDT_GATE_BYTES;
	if (v >= IDT_VECTORS || at < base || at + IDT_GATE_BYTES > mem_size)
		return -1;
	idt_gate_encode(g, mem + at);
	return 0;
}

void idt_deliver(const uint8_t *mem, size_t mem_size, const idtr *r, unsigned vector, int ext,
		 unsigned cpl, idt_delivery *out)
{
	memset(out, 0, sizeof(*out));
	out->fault = -1;
	idt_gate g;
	/* §6.14.1: the gate must lie within the limit (16 * v + 15 <= limit) */
	if ((uint64_t)vector * IDT_GATE_BYTES + IDT_GATE_BYTES - 1 > r->limit ||
	    idt_read_gate(mem, mem_size, r->base, vector, &g)) {
		out->fault = X86_VEC_GP;
		out->error_code = idt_error_code(vector, ext);
		return;
	}
	if (g.type != IDT_TYPE_INTR && g.type != IDT_TYPE_TRAP) {
		out->fault = X86_VEC_GP;
		out->error_code = idt_error_code(vector, ext);
		return;
	}
	/* DPL is checked for software interrupts only (§6.12.1.1) */
	if (!ext && g.dpl < cpl) {
		out->fault = X86_VEC_GP;
		out->error_code = idt_error_code(vector, ext);
		return;
	}
	if (!g.present) {
		out->fault = X86_VEC_NP;
		out->error_code = idt_error_code(vector, ext);
		return;
	}
	out->handler = g.offset;
	out->type = g.type;
}
