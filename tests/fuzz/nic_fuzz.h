/* SPDX-License-Identifier: MIT */
/* nic_fuzz.h - the input language of the emulated NIC fuzz targets: register accesses, DMA contents, frames, link. */
#ifndef LOOM_TESTS_FUZZ_NIC_FUZZ_H
#define LOOM_TESTS_FUZZ_NIC_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/nic_host.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

/*
 * Input: a sequence of operations, each one opcode byte and its operands
 * (missing bytes read as 0):
 *   0 reg write:  u8 register index (into the target's table; 0xff: u16
 *                 raw offset follows), u8 size (1/2/4), u32 value
 *   1 reg read:   same selector, u8 size
 *   2 RAM write:  u16 offset into the DMA window, u8 n, n bytes
 *   3 RAM fill:   u16 offset, u8 n, u8 byte: n * 16 bytes of it
 *   4 receive:    u16 length (up to 9018), bytes (pattern if missing)
 *   5 link:       u8 (bit 0: up)
 *   6 timer fired
 *   7 PCI command: u16
 *   8 I/O BAR access: u8 offset, u8 write?, u32 value
 *   9 transmit poll (what the host does after a doorbell)
 * The DMA window is guest RAM [NF_WIN, NF_WIN + 64 KiB) where the target's
 * bring-up puts its rings and buffers; RAM is 1 MiB, so addresses the input
 * writes into descriptors may point anywhere, RAM or not.
 */
enum {
	NF_RAM = 1 << 20,
	NF_WIN = 0x10000,
	NF_MAX_OPS = 4096,
	NF_FRAME_MAX = 9018,
};

struct nf_rd {
	const uint8_t *p;
	size_t left;
};

static inline uint32_t nf_take(struct nf_rd *r, unsigned int n)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < n && r->left; i++, r->left--, r->p++)
		v |= (uint32_t)*r->p << (8 * i);
	return v;
}

struct nf_target {
	const uint16_t *regs;	/* register offsets the selector picks from */
	unsigned int nregs;
	uint32_t bar_size;	/* raw offsets are reduced modulo this */
	bool mmio;		/* registers in an MMIO BAR (else I/O) */
	void (*receive)(void *dev, const uint8_t *f, size_t len);
	void (*set_link)(void *dev, bool up);
	void (*timer)(void *dev);
	void (*tx_poll)(void *dev);
};

struct nf_env {
	struct vm vm;
	struct pci_bus bus;
	struct pci_dev *pci;
	uint64_t mmio, pio;
	void *dev;
	uint64_t frames;
};

static inline int nf_tx(void *opaque, const uint8_t *f, size_t len)
{
	struct nf_env *e = opaque;

	/* Frames must be whole and bounded: the switch takes them as is. */
	if (len < 14 || len > 65536 + 18)
		abort();
	e->frames += f[0] + 1;
	return (e->frames & 63) == 7 ? -105 : 0;	/* now and then full */
}

static inline void nf_nop(void *opaque)
{
	(void)opaque;
}

static inline void nf_timer_arm(void *opaque, uint64_t ns)
{
	(void)opaque;
	(void)ns;
}

static inline int nf_env_init(struct nf_env *e)
{
	memset(e, 0, sizeof(*e));
	log_max_level = (enum log_level)-1;
	if (vm_init_nokvm(&e->vm, NF_RAM))
		return -1;
	if (pci_bus_init(&e->bus, &e->vm)) {
		vm_destroy(&e->vm);
		return -1;
	}
	e->vm.pci = &e->bus;
	return 0;
}

static inline struct hw_nic_host nf_host(struct nf_env *e)
{
	struct hw_nic_host h = {
		.opaque = e,
		.tx = nf_tx,
		.rx_kick = nf_nop,
		.timer_arm = nf_timer_arm,
	};

	return h;
}

/* After the device is on the bus: map its BARs and enable it. */
static inline void nf_env_map(struct nf_env *e, struct pci_dev *pci)
{
	unsigned int b;

	e->pci = pci;
	for (b = 0; b < PCI_NR_BARS; b++) {
		if (pci->bars[b].type == PCI_BAR_PIO && !e->pio)
			e->pio = pci->bars[b].addr;
		else if (pci->bars[b].type == PCI_BAR_MMIO32 && !e->mmio)
			e->mmio = pci->bars[b].addr;
	}
	pci_dev_cfg_set(pci, PCI_CFG_COMMAND,
			PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER, 2);
	/* Let the bus see the command change (decoding on). */
	{
		uint8_t b2[2] = { PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER,
				  0 };

		pci_bus_cfg_access(&e->bus, 0x80000000u | pci->slot << 11 |
					    PCI_CFG_COMMAND, 0, b2, 2, true);
	}
}

static inline void nf_env_destroy(struct nf_env *e)
{
	pci_bus_destroy(&e->bus);
	vm_destroy(&e->vm);
}

static inline void nf_reg(struct nf_env *e, const struct nf_target *t,
			  uint32_t off, unsigned int size, uint32_t v,
			  bool write)
{
	uint8_t b[4];
	unsigned int i;

	if (size != 1 && size != 2)
		size = 4;
	off = (off % t->bar_size) & ~(size - 1);
	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	vm_io_dispatch(&e->vm, t->mmio ? VM_IO_MMIO : VM_IO_PIO,
		       (t->mmio ? e->mmio : e->pio) + off, b, size, write);
}

static inline void nf_run(struct nf_env *e, const struct nf_target *t,
			  const uint8_t *data, size_t size)
{
	static uint8_t frame[NF_FRAME_MAX];
	struct nf_rd r = { data, size };
	unsigned int ops = 0;
	uint8_t *win = guest_mem_ptr(&e->vm.mem, NF_WIN, 0x10000);

	while (r.left && ops++ < NF_MAX_OPS) {
		unsigned int op = nf_take(&r, 1) % 10, sel, n, i;
		uint32_t off, v;

		switch (op) {
		case 0:
		case 1:
			sel = nf_take(&r, 1);
			off = sel == 0xff || !t->nregs ? nf_take(&r, 2) :
							 t->regs[sel % t->nregs];
			n = nf_take(&r, 1);
			v = op == 0 ? nf_take(&r, 4) : 0;
			nf_reg(e, t, off, n, v, op == 0);
			break;
		case 2:
			off = nf_take(&r, 2);
			n = nf_take(&r, 1);
			for (i = 0; i < n; i++)
				win[(off + i) & 0xffff] = (uint8_t)nf_take(&r, 1);
			break;
		case 3:
			off = nf_take(&r, 2);
			n = nf_take(&r, 1) * 16u;
			v = nf_take(&r, 1);
			for (i = 0; i < n; i++)
				win[(off + i) & 0xffff] = (uint8_t)v;
			break;
		case 4:
			n = nf_take(&r, 2) % (NF_FRAME_MAX + 1);
			for (i = 0; i < n; i++)
				frame[i] = r.left ? (uint8_t)nf_take(&r, 1) :
						    (uint8_t)(i * 7);
			t->receive(e->dev, frame, n);
			break;
		case 5:
			t->set_link(e->dev, nf_take(&r, 1) & 1);
			break;
		case 6:
			t->timer(e->dev);
			break;
		case 7:
			v = nf_take(&r, 2);
			{
				uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

				pci_bus_cfg_access(&e->bus, 0x80000000u |
						   e->pci->slot << 11 |
						   PCI_CFG_COMMAND, 0, b, 2,
						   true);
			}
			break;
		case 8:
			off = nf_take(&r, 1);
			n = nf_take(&r, 1) & 1;
			v = nf_take(&r, 4);
			if (e->pio) {
				uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8),
						 (uint8_t)(v >> 16),
						 (uint8_t)(v >> 24) };

				vm_io_dispatch(&e->vm, VM_IO_PIO,
					       e->pio + (off & 0x3c), b, 4, n);
			}
			break;
		case 9:
			t->tx_poll(e->dev);
			break;
		}
	}
}

#endif
