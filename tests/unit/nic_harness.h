/* SPDX-License-Identifier: MIT */
/* nic_harness.h - a fake guest for the emulated NIC tests: RAM, PCI config, BAR access, a capturing backend, a fake clock. */
#ifndef LOOM_TESTS_UNIT_NIC_HARNESS_H
#define LOOM_TESTS_UNIT_NIC_HARNESS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/nic_offload.h"
#include "vmm/hw/nic_host.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

/*
 * The test is the guest driver: it finds the device through config
 * mechanism #1, enables it, and reaches its registers through the VM's
 * dispatch table (the path a KVM exit takes). Frames the model sends land
 * in @out; the clock and the timer are the test's.
 */
enum {
	NH_RAM = 16 << 20,
	NH_MAX_OUT = 256,
};

struct nh_frame {
	uint8_t data[16384 + 8];
	size_t len;
};

struct nh {
	struct vm vm;
	struct pci_bus bus;
	unsigned int slot;
	uint64_t mmio;		/* BAR0 address if MMIO */
	uint64_t pio;		/* I/O BAR address */
	struct nh_frame *out;
	unsigned int nout;
	unsigned int kicks;
	int tx_room;		/* frames the backend still takes; < 0: any */
	uint64_t now;
	uint64_t timer_ns;	/* last timer_arm value */
	unsigned int timer_arms;
};

static inline int nh_tx(void *opaque, const uint8_t *f, size_t len)
{
	struct nh *h = opaque;

	if (h->tx_room == 0)
		return -105;	/* -ENOBUFS */
	if (h->tx_room > 0)
		h->tx_room--;
	if (h->nout < NH_MAX_OUT && len <= sizeof(h->out[0].data)) {
		memcpy(h->out[h->nout].data, f, len);
		h->out[h->nout].len = len;
	}
	h->nout++;
	return 0;
}

static inline void nh_kick(void *opaque)
{
	((struct nh *)opaque)->kicks++;
}

static inline void nh_timer(void *opaque, uint64_t ns)
{
	struct nh *h = opaque;

	h->timer_ns = ns;
	h->timer_arms++;
}

static inline uint64_t nh_now(void *opaque)
{
	return ((struct nh *)opaque)->now;
}

static inline struct nh *nh_new(void)
{
	struct nh *h = calloc(1, sizeof(*h));

	if (!h)
		abort();
	h->out = calloc(NH_MAX_OUT, sizeof(*h->out));
	if (!h->out)
		abort();
	log_max_level = LOG_ERR;
	if (vm_init_nokvm(&h->vm, NH_RAM) || pci_bus_init(&h->bus, &h->vm))
		abort();
	h->vm.pci = &h->bus;
	h->tx_room = -1;
	h->now = 1000000000ull;
	return h;
}

static inline struct hw_nic_host nh_host(struct nh *h)
{
	struct hw_nic_host host = {
		.opaque = h,
		.tx = nh_tx,
		.rx_kick = nh_kick,
		.timer_arm = nh_timer,
		.now_ns = nh_now,
	};

	return host;
}

static inline void nh_free(struct nh *h)
{
	pci_bus_destroy(&h->bus);
	vm_destroy(&h->vm);
	free(h->out);
	free(h);
}

static inline uint32_t nh_cf8(struct nh *h, unsigned int off)
{
	return 0x80000000u | h->slot << 11 | (off & 0xfc);
}

static inline uint32_t nh_cfg_rd(struct nh *h, unsigned int off,
				 unsigned int len)
{
	uint8_t b[4] = { 0 };
	uint32_t v = 0;
	unsigned int i;

	pci_bus_cfg_access(&h->bus, nh_cf8(h, off), off & 3, b, len, false);
	for (i = 0; i < len; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static inline void nh_cfg_wr(struct nh *h, unsigned int off, uint32_t v,
			     unsigned int len)
{
	uint8_t b[4];
	unsigned int i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	pci_bus_cfg_access(&h->bus, nh_cf8(h, off), off & 3, b, len, true);
}

/* Scan bus 0 for vendor:device; map its MMIO and I/O BARs; enable. */
static inline int nh_find(struct nh *h, uint16_t vendor, uint16_t device)
{
	unsigned int s, bar;

	for (s = 0; s < 32; s++) {
		h->slot = s;
		if (nh_cfg_rd(h, 0, 2) == vendor && nh_cfg_rd(h, 2, 2) == device)
			break;
	}
	if (s == 32)
		return -1;
	for (bar = 0; bar < 6; bar++) {
		uint32_t v = nh_cfg_rd(h, PCI_CFG_BAR0 + 4 * bar, 4);

		if (!v)
			continue;
		if (v & 1) {
			if (!h->pio)
				h->pio = v & ~3u;
		} else if (!h->mmio) {
			h->mmio = v & ~0xfu;
		}
	}
	nh_cfg_wr(h, PCI_CFG_COMMAND,
		  PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER, 2);
	return 0;
}

static inline uint64_t nh_io_rd(struct nh *h, enum vm_io_space sp,
				uint64_t addr, unsigned int len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	unsigned int i;

	vm_io_dispatch(&h->vm, sp, addr, b, len, false);
	for (i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline void nh_io_wr(struct nh *h, enum vm_io_space sp, uint64_t addr,
			    uint64_t v, unsigned int len)
{
	uint8_t b[8];
	unsigned int i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	vm_io_dispatch(&h->vm, sp, addr, b, len, true);
}

static inline uint32_t nh_rd32(struct nh *h, unsigned int off)
{
	return (uint32_t)nh_io_rd(h, VM_IO_MMIO, h->mmio + off, 4);
}

static inline void nh_wr32(struct nh *h, unsigned int off, uint32_t v)
{
	nh_io_wr(h, VM_IO_MMIO, h->mmio + off, v, 4);
}

static inline uint8_t *nh_ram(struct nh *h, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(&h->vm.mem, gpa, len);

	if (!p)
		abort();
	return p;
}

static inline void nh_put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t nh_get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* INTx state as the bus shows it (status bit 3). */
static inline int nh_intx(struct nh *h)
{
	return (nh_cfg_rd(h, PCI_CFG_STATUS, 2) & PCI_STATUS_INTX) != 0;
}

/*
 * A TCP/IPv4 frame: Ethernet to @dst from @src, 20-byte IP header, 20-byte
 * TCP header with seq @seq, flags @flags, @plen payload bytes (i & 0xff).
 * Checksums valid if @csum. Returns the length.
 */
static inline size_t nh_tcp_frame(uint8_t *f, const uint8_t dst[6],
				  const uint8_t src[6], uint32_t seq,
				  uint8_t flags, size_t plen, int csum)
{
	size_t i, len = 54 + plen;
	struct nic_l3l4 l;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	nic_put_be16(f + 12, 0x0800);
	memset(f + 14, 0, 40);
	f[14] = 0x45;
	nic_put_be16(f + 16, (uint16_t)(40 + plen));
	nic_put_be16(f + 18, 0x1234);
	f[22] = 64;
	f[23] = 6;
	nic_put_be32(f + 26, 0x0a000001);
	nic_put_be32(f + 30, 0x0a000002);
	nic_put_be16(f + 34, 40000);
	nic_put_be16(f + 36, 80);
	nic_put_be32(f + 38, seq);
	f[46] = 5 << 4;
	f[47] = flags;
	nic_put_be16(f + 48, 65535);
	for (i = 0; i < plen; i++)
		f[54 + i] = (uint8_t)i;
	if (csum && !nic_parse_l3l4(f, len, 0x8100, &l)) {
		nic_csum_ip4_header(f, &l);
		nic_csum_l4_full(f, &l);
	}
	return len;
}

#endif
