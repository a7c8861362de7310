/* SPDX-License-Identifier: MIT */
/* virtio_net_drv.h - the synthetic virtio-net guest driver the virtio-net unit tests are: PCI discovery, queues in guest RAM, doorbells, the test NIC backend. */
#ifndef LOOM_TESTS_UNIT_VIRTIO_NET_DRV_H
#define LOOM_TESTS_UNIT_VIRTIO_NET_DRV_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/pci.h"
#include "vmm/virtio/net.h"
#include "vmm/virtio/pci.h"
#include "vmm/vm.h"
#include "tests/unit/nic_test_backend.h"

/*
 * The test is the guest driver: it finds the device on the PCI bus, reads
 * its config space, negotiates, lays out the three queues in guest RAM,
 * writes descriptors and rings the notify doorbell by MMIO through the VM's
 * dispatch, the path a vCPU exit takes. Without KVM the device works inline
 * in the notifying thread; frames "arriving" from the backend are handled
 * by a call to virtio_net_process(), as the I/O thread would on its notify
 * fd. The backend is tests/unit/nic_test_backend.h.
 */
enum {
	RAM_SIZE = 16 << 20,
	QSZ = 16,
	RING_GPA = 0x100000, /* + q * 0x10000: desc, +0x4000 avail, +0x8000 used */
	TXBUF_GPA = 0x400000,
	CTRL_GPA = 0x500000,
	RXBUF_GPA = 0x600000, /* RX buffers, RXBUF_SIZE each */
	RXBUF_SIZE = 1526,    /* what Linux posts for 1500 MTU, mergeable */
	BIG_GPA = 0xa00000,
};

struct tdrv {
	struct vm vm;
	struct pci_bus bus;
	struct tnb tb;
	struct virtio_net *net;
	unsigned int slot;
	uint64_t bar;
	uint32_t common, isr, devcfg, notify, notify_mult;
	uint16_t noff[3], avail_idx[3], used_seen[3], next_desc[3];
	uint64_t features;
};

static const uint8_t running = VIRTIO_STATUS_ACKNOWLEDGE |
			       VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK |
			       VIRTIO_STATUS_DRIVER_OK;

#define F(x) (1ull << (x))
static const uint64_t linux_features =
	F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_EVENT_IDX) |
	F(VIRTIO_F_INDIRECT_DESC) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MTU) |
	F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MRG_RXBUF) |
	F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX) |
	F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
	F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
	F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6);

static inline uint32_t cf8(struct tdrv *t, unsigned int off)
{
	return 0x80000000u | t->slot << 11 | (off & 0xfc);
}

static inline uint32_t cfg_rd(struct tdrv *t, unsigned int off, unsigned int len)
{
	uint8_t b[4] = { 0 };
	uint32_t v = 0;

	pci_bus_cfg_access(&t->bus, cf8(t, off), off & 3, b, len, false);
	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static inline void cfg_wr(struct tdrv *t, unsigned int off, uint32_t v,
		   unsigned int len)
{
	uint8_t b[4];

	for (unsigned int i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	pci_bus_cfg_access(&t->bus, cf8(t, off), off & 3, b, len, true);
}

static inline uint64_t mmio_rd(struct tdrv *t, uint64_t off, unsigned int len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	vm_io_dispatch(&t->vm, VM_IO_MMIO, t->bar + off, b, len, false);
	for (unsigned int i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline void mmio_wr(struct tdrv *t, uint64_t off, uint64_t v,
		    unsigned int len)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	vm_io_dispatch(&t->vm, VM_IO_MMIO, t->bar + off, b, len, true);
}

static inline uint8_t *gpa(struct tdrv *t, uint64_t addr, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(&t->vm.mem, addr, len);

	assert_non_null(p);
	return p;
}

static inline void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline uint8_t status(struct tdrv *t)
{
	return (uint8_t)mmio_rd(t, t->common + VIRTIO_PCI_COMMON_STATUS, 1);
}

static inline void set_status(struct tdrv *t, uint8_t s)
{
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_STATUS, s, 1);
}

static inline void discover(struct tdrv *t)
{
	unsigned int off;

	for (t->slot = 1; t->slot < PCI_MAX_DEVS; t->slot++)
		if (cfg_rd(t, 0, 2) == VIRTIO_PCI_VENDOR)
			break;
	assert_int_equal(cfg_rd(t, 2, 2), 0x1041);
	assert_int_equal(cfg_rd(t, PCI_CFG_SUBSYS_ID, 2), VIRTIO_ID_NET);
	for (off = cfg_rd(t, PCI_CFG_CAP_PTR, 1); off;
	     off = cfg_rd(t, off + 1, 1)) {
		uint32_t where;

		if (cfg_rd(t, off, 1) != PCI_CAP_ID_VNDR)
			continue;
		where = cfg_rd(t, off + 8, 4);
		switch (cfg_rd(t, off + 3, 1)) {
		case VIRTIO_PCI_CAP_COMMON_CFG: t->common = where; break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			t->notify = where;
			t->notify_mult = cfg_rd(t, off + 16, 4);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG: t->isr = where; break;
		case VIRTIO_PCI_CAP_DEVICE_CFG: t->devcfg = where; break;
		}
	}
	t->bar = (cfg_rd(t, PCI_CFG_BAR0, 4) & ~0xfull) |
		 (uint64_t)cfg_rd(t, PCI_CFG_BAR0 + 4, 4) << 32;
	cfg_wr(t, PCI_CFG_COMMAND, PCI_CMD_MEMORY | PCI_CMD_MASTER, 2);
}

static inline uint64_t ring(unsigned int q)
{
	return RING_GPA + 0x10000ull * q;
}

/* Driver init up to DRIVER_OK with all three queues of @qsize. */
static inline uint8_t drv_init(struct tdrv *t, uint64_t want, uint16_t qsize)
{
	uint64_t offered;

	set_status(t, 0);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	offered = mmio_rd(t, t->common + VIRTIO_PCI_COMMON_DF, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	offered |= mmio_rd(t, t->common + VIRTIO_PCI_COMMON_DF, 4) << 32;
	t->features = offered;
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GF, (uint32_t)want, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GF, want >> 32, 4);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK);
	if (!(status(t) & VIRTIO_STATUS_FEATURES_OK))
		return status(t);
	for (unsigned int q = 0; q < 3; q++) {
		mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		assert_int_equal(mmio_rd(t, t->common +
					 VIRTIO_PCI_COMMON_Q_SIZE, 2),
				 VIRTIO_NET_QUEUE_SIZE);
		mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_SIZE, qsize, 2);
		memset(gpa(t, ring(q), 0x10000), 0, 0x10000);
		mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_DESCLO, ring(q), 4);
		mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
		mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_AVAILLO,
			ring(q) + 0x4000, 4);
		mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_AVAILHI, 0, 4);
		mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_USEDLO,
			ring(q) + 0x8000, 8);
		t->noff[q] = (uint16_t)mmio_rd(t, t->common +
					       VIRTIO_PCI_COMMON_Q_NOFF, 2);
		mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
		t->avail_idx[q] = t->used_seen[q] = t->next_desc[q] = 0;
	}
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK |
			      VIRTIO_STATUS_DRIVER_OK);
	return status(t);
}

static inline void desc(struct tdrv *t, unsigned int q, unsigned int i,
		 uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = gpa(t, ring(q) + 16 * i, 16);

	put_le(p, addr, 8);
	put_le(p + 8, len, 4);
	put_le(p + 12, flags, 2);
	put_le(p + 14, next, 2);
}

static inline void avail(struct tdrv *t, unsigned int q, uint16_t head)
{
	put_le(gpa(t, ring(q) + 0x4000 + 4 + 2 * (t->avail_idx[q] % QSZ), 2),
	       head, 2);
	t->avail_idx[q]++;
	put_le(gpa(t, ring(q) + 0x4000 + 2, 2), t->avail_idx[q], 2);
}

static inline void kick(struct tdrv *t, unsigned int q)
{
	mmio_wr(t, t->notify + t->noff[q] * t->notify_mult, q, 2);
}

static inline uint16_t used_idx(struct tdrv *t, unsigned int q)
{
	return (uint16_t)get_le(gpa(t, ring(q) + 0x8000 + 2, 2), 2);
}

/* The next used element of queue @q; fails if there is none. */
static inline void used_next(struct tdrv *t, unsigned int q, uint32_t *id,
		      uint32_t *len)
{
	uint8_t *el;

	assert_true(used_idx(t, q) != t->used_seen[q]);
	el = gpa(t, ring(q) + 0x8000 + 4 + 8 * (t->used_seen[q] % QSZ), 8);
	t->used_seen[q]++;
	*id = (uint32_t)get_le(el, 4);
	*len = (uint32_t)get_le(el + 4, 4);
}

/* One frame out: header descriptor + data descriptor, head 2k of its slot. */
static inline void tx(struct tdrv *t, const uint8_t *hdr, const uint8_t *frame,
	       uint32_t len)
{
	unsigned int d = (t->next_desc[1] % (QSZ / 2)) * 2;
	uint64_t h = TXBUF_GPA + (t->next_desc[1] % (QSZ / 2)) * 0x20;

	memcpy(gpa(t, h, VIRTIO_NET_HDR_SIZE), hdr, VIRTIO_NET_HDR_SIZE);
	memcpy(gpa(t, BIG_GPA, len), frame, len);
	desc(t, 1, d, h, VIRTIO_NET_HDR_SIZE, VIRTQ_DESC_F_NEXT,
	     (uint16_t)(d + 1));
	desc(t, 1, d + 1, BIG_GPA, len, 0, 0);
	avail(t, 1, (uint16_t)d);
	t->next_desc[1]++;
	kick(t, 1);
}

/* @n receive buffers of @size bytes, one descriptor each. */
static inline void rx_post(struct tdrv *t, unsigned int n, uint32_t size)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned int d = t->next_desc[0]++ % QSZ;

		desc(t, 0, d, RXBUF_GPA + 0x1000ull * d, size,
		     VIRTQ_DESC_F_WRITE, 0);
		avail(t, 0, (uint16_t)d);
	}
	kick(t, 0);
}

static inline void make_frame(uint8_t *f, uint32_t len, uint8_t seed)
{
	memset(f, 0xff, 6);			/* broadcast */
	memcpy(f + 6, "\x52\x4c\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
}

/* Ethernet + IPv4 + TCP (doff 5) headers, checksum fields partial. */
static inline void make_tcp4(uint8_t *f, uint32_t len)
{
	make_frame(f, len, 3);
	f[14] = 0x45;
	f[23] = 6;
	f[34 + 12] = 0x50;
}

static inline int setup_caps(void **state, uint32_t caps)
{
	struct tdrv *t = calloc(1, sizeof(*t));
	struct nic_config cfg = { .net = "lab", .port = "t1",
				  .model = "virtio" };
	int err = 0;

	assert_non_null(t);
	log_max_level = LOG_ERR;
	memcpy(cfg.mac, "\x52\x4c\x01\x02\x03\x04", 6);
	assert_int_equal(vm_init_nokvm(&t->vm, RAM_SIZE), 0);
	assert_int_equal(pci_bus_init(&t->bus, &t->vm), 0);
	t->vm.pci = &t->bus;
	t->tb.caps = caps;
	tnb_next = &t->tb;
	t->net = virtio_net_open(&t->vm.mem, NULL, &cfg, &tnb_ops, &err);
	assert_non_null(t->net);
	assert_int_equal(virtio_pci_create(&t->bus, virtio_net_vdev(t->net),
					   NULL),
			 0);
	discover(t);
	*state = t;
	return 0;
}

static inline int setup(void **state)
{
	return setup_caps(state, NIC_OFF_ALL);
}

static inline int setup_nocaps(void **state)
{
	return setup_caps(state, 0);
}

static inline int teardown(void **state)
{
	struct tdrv *t = *state;

	pci_bus_destroy(&t->bus);
	vm_destroy(&t->vm);
	free(t);
	return 0;
}

#endif
