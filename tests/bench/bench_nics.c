/* SPDX-License-Identifier: MIT */
/* bench_nics.c - frames per second through each emulated NIC model, driven by a synthetic guest driver (no vCPU); alone, or through netd's switch. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/e1000.h"
#include "vmm/hw/e1000_regs.h"
#include "vmm/hw/rtl8139.h"
#include "vmm/hw/rtl8139_regs.h"
#include "vmm/net/backend.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

/*
 * The test is the guest driver, as in tests/unit/test_*: it keeps the
 * model's rings full and rings its doorbells through the VM's MMIO/PIO
 * dispatch (what a KVM exit runs), the host side copies every frame out
 * (as the shm backend's tx_alloc + memcpy would) or offers frames for RX.
 * So the figures are the models' own per-frame cost, the ceiling a guest
 * could reach through them; the switch and the shm ring come on top
 * (bench_shm measures those). Cases: {e1000, rtl8139c (8139too path),
 * rtl8139 (C+ rings)} x {tx, rx} x {64, 1500} bytes. BENCH_SECONDS sets
 * the measured time per case (default 1); the best of 3 runs is printed.
 *
 * `bench_nics --fabric NETD_SOCKET NETWORK` (tests/bench/virtio-net.sh
 * runs it against a private netd): per model, two NICs made as loom-vmm
 * makes them (the model's create(): its I/O thread, netd's shm port), A's
 * driver keeping its TX ring full of frames for B, B's driver handing its
 * RX buffers back; this thread is both drivers, the models' I/O threads
 * and netd's data path do the rest. The figure is the frames B's model
 * delivered per second (BENCH nic.fabric.MODEL.SIZE), one run per case.
 */
enum {
	RAM = 64 << 20,
	RING = 0x100000,
	BUFS = 0x200000,
};

static uint8_t sink[65600];
static uint64_t frames_out;

static int host_tx(void *o, const uint8_t *f, size_t len)
{
	memcpy(sink, f, len);
	frames_out++;
	return 0;
}

static void nop(void *o)
{
}

static void nop_arm(void *o, uint64_t ns)
{
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct env {
	struct vm vm;
	struct pci_bus bus;
	struct pci_dev *pci;
	uint64_t mmio, pio;
};

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	if (vm_init_nokvm(&e->vm, RAM) || pci_bus_init(&e->bus, &e->vm))
		exit(1);
	e->vm.pci = &e->bus;
}

static void env_map(struct env *e, struct pci_dev *pci)
{
	uint8_t cmd[2] = { PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER, 0 };
	unsigned int b;

	e->pci = pci;
	pci_bus_cfg_access(&e->bus, 0x80000000u | pci->slot << 11 |
			   PCI_CFG_COMMAND, 0, cmd, 2, true);
	for (b = 0; b < PCI_NR_BARS; b++) {
		if (pci->bars[b].type == PCI_BAR_PIO && !e->pio)
			e->pio = pci->bars[b].addr;
		else if (pci->bars[b].type == PCI_BAR_MMIO32 && !e->mmio)
			e->mmio = pci->bars[b].addr;
	}
}

static void wr(struct env *e, enum vm_io_space sp, uint64_t addr, uint32_t v,
	       unsigned int len)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	vm_io_dispatch(&e->vm, sp, addr, b, len, true);
}

static uint32_t rd(struct env *e, enum vm_io_space sp, uint64_t addr,
		   unsigned int len)
{
	uint8_t b[4] = { 0 };

	vm_io_dispatch(&e->vm, sp, addr, b, len, false);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static uint8_t *ram(struct env *e, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(&e->vm.mem, gpa, len);
}

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static const uint8_t mac[6] = { 0x52, 0x4c, 0, 0, 0, 1 };

static void frame(uint8_t *f, size_t len)
{
	memset(f, 0x5a, len);
	memcpy(f, mac, 6);
	memcpy(f + 6, "\x52\x4c\x00\x00\x00\x02", 6);
	f[12] = 0x08;
	f[13] = 0x00;
}

/* e1000: 256-descriptor rings; TX doorbells of 64 frames. */
static double e1000_case(bool tx, size_t len, double secs)
{
	struct hw_nic_host host = { .tx = host_tx, .rx_kick = nop,
				    .timer_arm = nop_arm };
	uint8_t f[1600];
	struct env e;
	struct e1000 *d;
	unsigned int i, tdt = 0;
	uint64_t n = 0;
	double t0, t;

	env_init(&e);
	d = e1000_new(&e.bus, &e.vm.mem, mac, &host);
	env_map(&e, &d->pci);
	frame(f, len);
	for (i = 0; i < 256; i++) {
		uint8_t *td = ram(&e, RING + 16 * i, 16);

		memcpy(ram(&e, BUFS + 2048 * i, len), f, len);
		put_le(td, BUFS + 2048 * i, 8);
		put_le(td + 8, len, 2);
		td[10] = 0;
		td[11] = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS |
			 E1000_TXD_CMD_RS;
		put_le(ram(&e, RING + 0x1000 + 16 * i, 8),
		       BUFS + 0x100000 + 2048 * i, 8);
	}
	wr(&e, VM_IO_MMIO, e.mmio + E1000_TDBAL, RING, 4);
	wr(&e, VM_IO_MMIO, e.mmio + E1000_TDLEN, 256 * 16, 4);
	wr(&e, VM_IO_MMIO, e.mmio + E1000_TCTL, E1000_TCTL_EN, 4);
	wr(&e, VM_IO_MMIO, e.mmio + E1000_RDBAL, RING + 0x1000, 4);
	wr(&e, VM_IO_MMIO, e.mmio + E1000_RDLEN, 256 * 16, 4);
	wr(&e, VM_IO_MMIO, e.mmio + E1000_RDT, 255, 4);
	wr(&e, VM_IO_MMIO, e.mmio + E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC,
	   4);
	wr(&e, VM_IO_MMIO, e.mmio + E1000_IMS, E1000_ICR_TXDW | E1000_ICR_RXT0,
	   4);
	frames_out = 0;
	t0 = now_s();
	do {
		for (i = 0; i < 64; i++) {
			if (tx)
				continue;
			if (e1000_receive(d, f, len, NULL))
				break;
			n++;
		}
		if (tx) {
			tdt = (tdt + 64) % 256;
			wr(&e, VM_IO_MMIO, e.mmio + E1000_TDT, tdt, 4);
		} else {
			/* The driver's interrupt: ICR, clean, refill. */
			(void)rd(&e, VM_IO_MMIO, e.mmio + E1000_ICR, 4);
			wr(&e, VM_IO_MMIO, e.mmio + E1000_RDT,
			   (rd(&e, VM_IO_MMIO, e.mmio + E1000_RDH, 4) + 255) % 256,
			   4);
		}
		(void)rd(&e, VM_IO_MMIO, e.mmio + E1000_ICR, 4);
		t = now_s();
	} while (t - t0 < secs);
	/* What the model says it delivered, not what the loop offered. */
	n = tx ? frames_out : d->stats.rx_frames;
	pci_bus_destroy(&e.bus);
	vm_destroy(&e.vm);
	return (double)n / (t - t0);
}

/* rtl8139c: the 8139too path (4 TX slots; 32 KiB RX ring, CAPR). */
static double too_case(bool tx, size_t len, double secs)
{
	struct hw_nic_host host = { .tx = host_tx, .rx_kick = nop,
				    .timer_arm = nop_arm };
	uint8_t f[1600];
	struct env e;
	struct rtl8139 *d;
	unsigned int slot = 0, i;
	uint64_t n = 0;
	double t0, t;

	env_init(&e);
	d = rtl8139_new(&e.bus, &e.vm.mem, mac, false, &host);
	env_map(&e, &d->pci);
	frame(f, len);
	for (i = 0; i < 4; i++) {
		memcpy(ram(&e, BUFS + 2048 * i, len), f, len);
		wr(&e, VM_IO_PIO, e.pio + RTL_TSAD0 + 4 * i, BUFS + 2048 * i, 4);
	}
	wr(&e, VM_IO_PIO, e.pio + RTL_CR, RTL_CR_RE | RTL_CR_TE, 1);
	wr(&e, VM_IO_PIO, e.pio + RTL_RCR, RTL_RCR_APM | RTL_RCR_WRAP |
					   2u << RTL_RCR_RBLEN_SHIFT, 4);
	wr(&e, VM_IO_PIO, e.pio + RTL_RBSTART, RING, 4);
	wr(&e, VM_IO_PIO, e.pio + RTL_IMR, 0xffff, 2);
	frames_out = 0;
	t0 = now_s();
	do {
		for (i = 0; i < 64; i++) {
			if (tx) {
				wr(&e, VM_IO_PIO, e.pio + RTL_TSD0 + 4 * slot,
				   (uint32_t)len, 4);
				slot = (slot + 1) % 4;
				continue;
			}
			if (rtl8139_receive(d, f, len, NULL))
				break;
			n++;
		}
		/* The driver's interrupt: ISR ack, read up to CBR. */
		wr(&e, VM_IO_PIO, e.pio + RTL_ISR, 0xffff, 2);
		if (!tx)
			wr(&e, VM_IO_PIO, e.pio + RTL_CAPR,
			   (rd(&e, VM_IO_PIO, e.pio + RTL_CBR, 2) - 16) & 0xffff,
			   2);
		t = now_s();
	} while (t - t0 < secs);
	/* What the model says it delivered, not what the loop offered. */
	n = tx ? frames_out : d->stats.rx_frames;
	pci_bus_destroy(&e.bus);
	vm_destroy(&e.vm);
	return (double)n / (t - t0);
}

/* rtl8139: C+ rings of 64 descriptors (8139cp). */
static double cp_case(bool tx, size_t len, double secs)
{
	struct hw_nic_host host = { .tx = host_tx, .rx_kick = nop,
				    .timer_arm = nop_arm };
	uint8_t f[1600];
	struct env e;
	struct rtl8139 *d;
	unsigned int i;
	uint64_t n = 0;
	double t0, t;

	env_init(&e);
	d = rtl8139_new(&e.bus, &e.vm.mem, mac, true, &host);
	env_map(&e, &d->pci);
	frame(f, len);
	for (i = 0; i < 64; i++) {
		memcpy(ram(&e, BUFS + 2048 * i, len), f, len);
		put_le(ram(&e, RING + 16 * i + 8, 8), BUFS + 2048 * i, 8);
		put_le(ram(&e, RING + 0x1000 + 16 * i + 8, 8),
		       BUFS + 0x100000 + 2048 * i, 8);
	}
	wr(&e, VM_IO_MMIO, e.mmio + RTL_CPCMD, RTL_CPCMD_RXEN | RTL_CPCMD_TXEN, 2);
	wr(&e, VM_IO_MMIO, e.mmio + RTL_TSAD0, RING, 4);
	wr(&e, VM_IO_MMIO, e.mmio + RTL_RDSAR, RING + 0x1000, 4);
	wr(&e, VM_IO_MMIO, e.mmio + RTL_CR, RTL_CR_RE | RTL_CR_TE, 1);
	wr(&e, VM_IO_MMIO, e.mmio + RTL_RCR, RTL_RCR_APM, 4);
	wr(&e, VM_IO_MMIO, e.mmio + RTL_IMR, 0xffff, 2);
	frames_out = 0;
	t0 = now_s();
	do {
		/* The driver hands all 64 descriptors back to the chip. */
		for (i = 0; i < 64; i++) {
			uint32_t o1 = RTL_CPD_OWN | (i == 63 ? RTL_CPD_EOR : 0);

			if (tx)
				o1 |= RTL_CPD_FS | RTL_CPD_LS | (uint32_t)len;
			else
				o1 |= 1536;
			put_le(ram(&e, RING + (tx ? 0 : 0x1000) + 16 * i, 4), o1,
			       4);
		}
		if (tx) {
			wr(&e, VM_IO_MMIO, e.mmio + RTL_TPPOLL, RTL_TPPOLL_NPQ, 1);
		} else {
			for (i = 0; i < 64; i++) {
				if (rtl8139_receive(d, f, len, NULL))
					break;
				n++;
			}
		}
		wr(&e, VM_IO_MMIO, e.mmio + RTL_ISR, 0xffff, 2);
		t = now_s();
	} while (t - t0 < secs);
	/* What the model says it delivered, not what the loop offered. */
	n = tx ? frames_out : d->stats.rx_frames;
	pci_bus_destroy(&e.bus);
	vm_destroy(&e.vm);
	return (double)n / (t - t0);
}

/* ---------------------------------------------------------------------- */
/* Through the fabric: two NICs on netd's switch, each with its I/O thread. */

static const uint8_t mac_b[6] = { 0x52, 0x4c, 0xfa, 0xb0, 0, 2 };

struct fab {
	struct env e;
	struct pci_dev *dev;
	unsigned int pos;	/* the driver's ring position */
	unsigned int seen;	/* B: where the chip was at the last refill */
};

/* A NIC as loom-vmm makes it (the nic_models[] create()) on netd's NET. */
static int fab_open(struct fab *f, const char *model, const char *sock,
		    const char *net, const char *port, const uint8_t *m)
{
	struct nic_config cfg = { .backend = "shm", .netd_sock = sock };
	int r;

	env_init(&f->e);
	snprintf(cfg.net, sizeof(cfg.net), "%s", net);
	snprintf(cfg.port, sizeof(cfg.port), "%s", port);
	snprintf(cfg.model, sizeof(cfg.model), "%s", model);
	memcpy(cfg.mac, m, 6);
	r = strcmp(model, "e1000") ? rtl8139_create(&f->e.vm, &cfg) :
				     e1000_create(&f->e.vm, &cfg);
	if (r)
		return r;
	for (unsigned int i = 1; i < PCI_MAX_DEVS && !f->dev; i++)
		f->dev = f->e.bus.devs[i];
	if (!f->dev)
		return -ENODEV;
	env_map(&f->e, f->dev);
	f->pos = 0;
	return 0;
}

static void fab_close(struct fab *f)
{
	pci_bus_destroy(&f->e.bus);
	vm_destroy(&f->e.vm);
	memset(f, 0, sizeof(*f));
}

static uint64_t fab_rx_frames(struct fab *f, const char *model)
{
	struct hw_nic_stats st;

	/* The device structs start with their pci_dev. */
	if (!strcmp(model, "e1000"))
		e1000_stats((struct e1000 *)(void *)f->dev, &st);
	else
		rtl8139_stats((struct rtl8139 *)(void *)f->dev, &st);
	return st.rx_frames;
}

/* A's driver: N frames of LEN bytes for B in its buffers (BUFS + 2 KiB * i). */
static void fab_tx_frames(struct fab *a, size_t len, unsigned int n)
{
	uint8_t fr[1600];

	frame(fr, len);
	memcpy(fr, mac_b, 6);
	for (unsigned int i = 0; i < n; i++)
		memcpy(ram(&a->e, BUFS + 2048 * i, len), fr, len);
}

/* e1000: A's 256 TX descriptors of frames for B, B's 256 RX buffers. */
static void fab_e1000_setup(struct fab *a, struct fab *b, size_t len)
{
	fab_tx_frames(a, len, 256);
	for (unsigned int i = 0; i < 256; i++) {
		uint8_t *td = ram(&a->e, RING + 16 * i, 16);

		put_le(td, BUFS + 2048 * i, 8);
		put_le(td + 8, len, 2);
		td[11] = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS |
			 E1000_TXD_CMD_RS;
		put_le(ram(&b->e, RING + 16 * i, 8), BUFS + 2048 * i, 8);
	}
	wr(&a->e, VM_IO_MMIO, a->e.mmio + E1000_TDBAL, RING, 4);
	wr(&a->e, VM_IO_MMIO, a->e.mmio + E1000_TDLEN, 256 * 16, 4);
	wr(&a->e, VM_IO_MMIO, a->e.mmio + E1000_TCTL, E1000_TCTL_EN, 4);
	wr(&b->e, VM_IO_MMIO, b->e.mmio + E1000_RDBAL, RING, 4);
	wr(&b->e, VM_IO_MMIO, b->e.mmio + E1000_RDLEN, 256 * 16, 4);
	wr(&b->e, VM_IO_MMIO, b->e.mmio + E1000_RDT, 255, 4);
	wr(&b->e, VM_IO_MMIO, b->e.mmio + E1000_RCTL,
	   E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_UPE, 4);
}

/*
 * One round of both drivers, as Linux's batches them: A fills what TDH
 * freed once 32 are free, B hands buffers back once 32 are used.
 */
static void fab_e1000_step(struct fab *a, struct fab *b)
{
	unsigned int tdh = rd(&a->e, VM_IO_MMIO, a->e.mmio + E1000_TDH, 4);
	unsigned int free_n = (tdh + 255 - a->pos) % 256;
	unsigned int rdh;

	if (free_n >= 32) {
		a->pos = (a->pos + free_n) % 256;
		wr(&a->e, VM_IO_MMIO, a->e.mmio + E1000_TDT, a->pos, 4);
	}
	(void)rd(&a->e, VM_IO_MMIO, a->e.mmio + E1000_ICR, 4);
	rdh = rd(&b->e, VM_IO_MMIO, b->e.mmio + E1000_RDH, 4);
	if ((rdh + 256 - b->seen) % 256 >= 32) {
		wr(&b->e, VM_IO_MMIO, b->e.mmio + E1000_RDT, (rdh + 255) % 256,
		   4);
		b->seen = rdh;
	}
	(void)rd(&b->e, VM_IO_MMIO, b->e.mmio + E1000_ICR, 4);
}

/* 8139too: A's four TX slots, B's 32 KiB ring read up to CBR. */
static void fab_too_setup(struct fab *a, struct fab *b, size_t len)
{
	fab_tx_frames(a, len, 4);
	for (unsigned int i = 0; i < 4; i++) {
		wr(&a->e, VM_IO_PIO, a->e.pio + RTL_TSAD0 + 4 * i,
		   BUFS + 2048 * i, 4);
	}
	wr(&a->e, VM_IO_PIO, a->e.pio + RTL_CR, RTL_CR_TE, 1);
	wr(&b->e, VM_IO_PIO, b->e.pio + RTL_RBSTART, RING, 4);
	wr(&b->e, VM_IO_PIO, b->e.pio + RTL_CR, RTL_CR_RE, 1);
	wr(&b->e, VM_IO_PIO, b->e.pio + RTL_RCR, RTL_RCR_AAP | RTL_RCR_WRAP |
		   2u << RTL_RCR_RBLEN_SHIFT, 4);
	for (unsigned int i = 0; i < 4; i++)
		wr(&a->e, VM_IO_PIO, a->e.pio + RTL_TSD0 + 4 * i,
		   (uint32_t)len, 4);
	a->pos = (unsigned int)len;
}

static void fab_too_step(struct fab *a, struct fab *b)
{
	unsigned int cbr;

	for (unsigned int i = 0; i < 4; i++)
		if (rd(&a->e, VM_IO_PIO, a->e.pio + RTL_TSD0 + 4 * i, 4) &
		    RTL_TSD_OWN)
			wr(&a->e, VM_IO_PIO, a->e.pio + RTL_TSD0 + 4 * i,
			   a->pos, 4);
	wr(&a->e, VM_IO_PIO, a->e.pio + RTL_ISR, 0xffff, 2);
	cbr = rd(&b->e, VM_IO_PIO, b->e.pio + RTL_CBR, 2);
	if (cbr != b->seen) {
		wr(&b->e, VM_IO_PIO, b->e.pio + RTL_CAPR, (cbr - 16) & 0xffff, 2);
		b->seen = cbr;
	}
	wr(&b->e, VM_IO_PIO, b->e.pio + RTL_ISR, 0xffff, 2);
}

/* C+: 64-descriptor rings; the driver gives back whatever the chip owns not. */
static void fab_cp_setup(struct fab *a, struct fab *b, size_t len)
{
	fab_tx_frames(a, len, 64);
	for (unsigned int i = 0; i < 64; i++) {
		put_le(ram(&a->e, RING + 16 * i, 4), 0, 4);
		put_le(ram(&a->e, RING + 16 * i + 8, 8), BUFS + 2048 * i, 8);
		put_le(ram(&b->e, RING + 16 * i, 4), 0, 4);
		put_le(ram(&b->e, RING + 16 * i + 8, 8), BUFS + 2048 * i, 8);
	}
	wr(&a->e, VM_IO_MMIO, a->e.mmio + RTL_CPCMD, RTL_CPCMD_TXEN, 2);
	wr(&a->e, VM_IO_MMIO, a->e.mmio + RTL_TSAD0, RING, 4);
	wr(&a->e, VM_IO_MMIO, a->e.mmio + RTL_CR, RTL_CR_TE, 1);
	wr(&b->e, VM_IO_MMIO, b->e.mmio + RTL_CPCMD, RTL_CPCMD_RXEN, 2);
	wr(&b->e, VM_IO_MMIO, b->e.mmio + RTL_RDSAR, RING, 4);
	wr(&b->e, VM_IO_MMIO, b->e.mmio + RTL_CR, RTL_CR_RE, 1);
	wr(&b->e, VM_IO_MMIO, b->e.mmio + RTL_RCR, RTL_RCR_AAP, 4);
	a->pos = (unsigned int)len;
}

static void fab_cp_give(struct fab *f, uint32_t bits)
{
	for (unsigned int i = 0; i < 64; i++) {
		uint8_t *d = ram(&f->e, RING + 16 * i, 4);
		uint32_t o1 = __atomic_load_n((uint32_t *)(void *)d,
					      __ATOMIC_ACQUIRE);

		if (!(o1 & RTL_CPD_OWN))
			__atomic_store_n((uint32_t *)(void *)d, RTL_CPD_OWN |
					 (i == 63 ? RTL_CPD_EOR : 0) | bits,
					 __ATOMIC_RELEASE);
	}
}

static void fab_cp_step(struct fab *a, struct fab *b)
{
	fab_cp_give(a, RTL_CPD_FS | RTL_CPD_LS | a->pos);
	wr(&a->e, VM_IO_MMIO, a->e.mmio + RTL_TPPOLL, RTL_TPPOLL_NPQ, 1);
	wr(&a->e, VM_IO_MMIO, a->e.mmio + RTL_ISR, 0xffff, 2);
	fab_cp_give(b, 1536);
	wr(&b->e, VM_IO_MMIO, b->e.mmio + RTL_ISR, 0xffff, 2);
}

static int fabric_main(const char *sock, const char *net, double secs)
{
	static const struct {
		const char *name;
		void (*setup)(struct fab *a, struct fab *b, size_t len);
		void (*step)(struct fab *a, struct fab *b);
	} models[] = {
		{ "e1000", fab_e1000_setup, fab_e1000_step },
		{ "rtl8139c", fab_too_setup, fab_too_step },
		{ "rtl8139", fab_cp_setup, fab_cp_step },
	};
	static const size_t sizes[2] = { 64, 1500 };
	static struct fab a, b;
	uint64_t n0;
	double t0, t;
	int r;

	for (unsigned int m = 0; m < 3; m++)
		for (unsigned int z = 0; z < 2; z++) {
			r = fab_open(&a, models[m].name, sock, net, "bench-a",
				     mac);
			if (!r)
				r = fab_open(&b, models[m].name, sock, net,
					     "bench-b", mac_b);
			if (r) {
				fprintf(stderr, "%s on %s via %s: %s\n",
					models[m].name, net, sock, strerror(-r));
				return 1;
			}
			models[m].setup(&a, &b, sizes[z]);
			/* Warm-up: rings, pages, netd's data path running. */
			for (t0 = now_s(); now_s() - t0 < 0.2;)
				models[m].step(&a, &b);
			n0 = fab_rx_frames(&b, models[m].name);
			t0 = now_s();
			do {
				models[m].step(&a, &b);
				t = now_s() - t0;
			} while (t < secs);
			printf("BENCH nic.fabric.%s.%zuB %.0f frames/s\n",
			       models[m].name, sizes[z],
			       (double)(fab_rx_frames(&b, models[m].name) - n0) /
				       t);
			fflush(stdout);
			fab_close(&a);
			fab_close(&b);
		}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		double (*fn)(bool tx, size_t len, double secs);
	} models[] = {
		{ "e1000", e1000_case },
		{ "rtl8139c", too_case },
		{ "rtl8139", cp_case },
	};
	static const size_t sizes[2] = { 64, 1500 };
	const char *s = getenv("BENCH_SECONDS");
	double secs = s ? atof(s) : 1.0, best, r;
	unsigned int m, z, dir, run;

	log_max_level = LOG_ERR;
	if (secs <= 0)
		secs = 1.0;
	if (argc == 4 && !strcmp(argv[1], "--fabric"))
		return fabric_main(argv[2], argv[3], secs);
	for (m = 0; m < 3; m++)
		for (dir = 0; dir < 2; dir++)
			for (z = 0; z < 2; z++) {
				char name[64];

				snprintf(name, sizeof(name), "nic.%s.%s.%zuB",
					 models[m].name, dir ? "rx" : "tx",
					 sizes[z]);
				if (argc > 1 && strncmp(name, argv[1],
							strlen(argv[1])))
					continue;
				best = 0;
				for (run = 0; run < 3; run++) {
					r = models[m].fn(!dir, sizes[z], secs);
					if (r > best)
						best = r;
				}
				printf("BENCH %s %.0f frames/s\n", name, best);
				fflush(stdout);
			}
	return 0;
}
