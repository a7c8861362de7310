/* SPDX-License-Identifier: MIT */
/* test_virtio_net.c - virtio-net driven as Linux's virtio_net would: PCI discovery, queues in guest RAM, doorbells, frames through a test NIC backend. */
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

static uint32_t cf8(struct tdrv *t, unsigned int off)
{
	return 0x80000000u | t->slot << 11 | (off & 0xfc);
}

static uint32_t cfg_rd(struct tdrv *t, unsigned int off, unsigned int len)
{
	uint8_t b[4] = { 0 };
	uint32_t v = 0;

	pci_bus_cfg_access(&t->bus, cf8(t, off), off & 3, b, len, false);
	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static void cfg_wr(struct tdrv *t, unsigned int off, uint32_t v,
		   unsigned int len)
{
	uint8_t b[4];

	for (unsigned int i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	pci_bus_cfg_access(&t->bus, cf8(t, off), off & 3, b, len, true);
}

static uint64_t mmio_rd(struct tdrv *t, uint64_t off, unsigned int len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	vm_io_dispatch(&t->vm, VM_IO_MMIO, t->bar + off, b, len, false);
	for (unsigned int i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void mmio_wr(struct tdrv *t, uint64_t off, uint64_t v,
		    unsigned int len)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	vm_io_dispatch(&t->vm, VM_IO_MMIO, t->bar + off, b, len, true);
}

static uint8_t *gpa(struct tdrv *t, uint64_t addr, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(&t->vm.mem, addr, len);

	assert_non_null(p);
	return p;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t status(struct tdrv *t)
{
	return (uint8_t)mmio_rd(t, t->common + VIRTIO_PCI_COMMON_STATUS, 1);
}

static void set_status(struct tdrv *t, uint8_t s)
{
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_STATUS, s, 1);
}

static void discover(struct tdrv *t)
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

static uint64_t ring(unsigned int q)
{
	return RING_GPA + 0x10000ull * q;
}

/* Driver init up to DRIVER_OK with all three queues of @qsize. */
static uint8_t drv_init(struct tdrv *t, uint64_t want, uint16_t qsize)
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

static void desc(struct tdrv *t, unsigned int q, unsigned int i,
		 uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = gpa(t, ring(q) + 16 * i, 16);

	put_le(p, addr, 8);
	put_le(p + 8, len, 4);
	put_le(p + 12, flags, 2);
	put_le(p + 14, next, 2);
}

static void avail(struct tdrv *t, unsigned int q, uint16_t head)
{
	put_le(gpa(t, ring(q) + 0x4000 + 4 + 2 * (t->avail_idx[q] % QSZ), 2),
	       head, 2);
	t->avail_idx[q]++;
	put_le(gpa(t, ring(q) + 0x4000 + 2, 2), t->avail_idx[q], 2);
}

static void kick(struct tdrv *t, unsigned int q)
{
	mmio_wr(t, t->notify + t->noff[q] * t->notify_mult, q, 2);
}

static uint16_t used_idx(struct tdrv *t, unsigned int q)
{
	return (uint16_t)get_le(gpa(t, ring(q) + 0x8000 + 2, 2), 2);
}

/* The next used element of queue @q; fails if there is none. */
static void used_next(struct tdrv *t, unsigned int q, uint32_t *id,
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
static void tx(struct tdrv *t, const uint8_t *hdr, const uint8_t *frame,
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
static void rx_post(struct tdrv *t, unsigned int n, uint32_t size)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned int d = t->next_desc[0]++ % QSZ;

		desc(t, 0, d, RXBUF_GPA + 0x1000ull * d, size,
		     VIRTQ_DESC_F_WRITE, 0);
		avail(t, 0, (uint16_t)d);
	}
	kick(t, 0);
}

static void make_frame(uint8_t *f, uint32_t len, uint8_t seed)
{
	memset(f, 0xff, 6);			/* broadcast */
	memcpy(f + 6, "\x52\x4c\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
}

/* Ethernet + IPv4 + TCP (doff 5) headers, checksum fields partial. */
static void make_tcp4(uint8_t *f, uint32_t len)
{
	make_frame(f, len, 3);
	f[14] = 0x45;
	f[23] = 6;
	f[34 + 12] = 0x50;
}

static int setup_caps(void **state, uint32_t caps)
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

static int setup(void **state)
{
	return setup_caps(state, NIC_OFF_ALL);
}

static int setup_nocaps(void **state)
{
	return setup_caps(state, 0);
}

static int teardown(void **state)
{
	struct tdrv *t = *state;

	pci_bus_destroy(&t->bus);
	vm_destroy(&t->vm);
	free(t);
	return 0;
}

static void test_config_and_features(void **state)
{
	struct tdrv *t = *state;

	uint8_t mac[6];

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)mmio_rd(t, t->devcfg + (uint64_t)i, 1);
	assert_memory_equal(mac, "\x52\x4c\x01\x02\x03\x04", 6);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(mmio_rd(t, t->devcfg + 10, 2), 1500);
	/* Everything Linux asks for is offered when the backend takes it. */
	assert_int_equal(t->features & linux_features, linux_features);
}

static void test_no_offloads_without_backend_caps(void **state)
{
	struct tdrv *t = *state;

	assert_int_equal(drv_init(t, F(VIRTIO_F_VERSION_1), QSZ), running);
	assert_false(t->features & F(VIRTIO_NET_F_CSUM));
	assert_false(t->features & F(VIRTIO_NET_F_HOST_TSO4));
	assert_false(t->features & F(VIRTIO_NET_F_GUEST_TSO4));
	assert_true(t->features & F(VIRTIO_NET_F_MRG_RXBUF));
	/* And a driver asking for one anyway does not get FEATURES_OK. */
	assert_false(drv_init(t, F(VIRTIO_F_VERSION_1) |
					 F(VIRTIO_NET_F_CSUM),
			      QSZ) &
		     VIRTIO_STATUS_FEATURES_OK);
}

static void test_tx_frame(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[60];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_frame(f, sizeof(f), 1);
	tx(t, hdr, f, sizeof(f));
	assert_int_equal(t->tb.tx_count, 1);
	assert_int_equal(t->tb.tx[0].len, 60);
	assert_memory_equal(t->tb.tx[0].data, f, 60);
	assert_int_equal(t->tb.tx[0].off.flags, 0);
	used_next(t, 1, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 0);
	assert_true(t->tb.tx_flushes >= 1);
}

static void test_tx_tso_64k(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, *f = malloc(65000);
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_tcp4(f, 65000);
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	put_le(hdr + 2, 1000, 2);	/* Linux's hdr_len hint: ignored */
	put_le(hdr + 4, 1448, 2);
	put_le(hdr + 6, 34, 2);
	put_le(hdr + 8, 16, 2);
	tx(t, hdr, f, 65000);
	/* One frame, unsegmented, its metadata mapped. */
	assert_int_equal(t->tb.tx_count, 1);
	assert_int_equal(t->tb.tx[0].len, 65000);
	assert_memory_equal(t->tb.tx[0].data, f, 65000);
	assert_int_equal(t->tb.tx[0].off.gso_type, FRAME_GSO_TCPV4);
	assert_int_equal(t->tb.tx[0].off.gso_size, 1448);
	assert_int_equal(t->tb.tx[0].off.hdr_len, 54);
	assert_int_equal(t->tb.tx[0].off.flags, FRAME_F_NEEDS_CSUM);
	assert_int_equal(t->tb.tx[0].off.csum_start, 34);
	assert_int_equal(t->tb.tx[0].off.csum_offset, 16);
	used_next(t, 1, &id, &len);
	free(f);
}

static void test_tx_hostile_headers(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[200];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_tcp4(f, sizeof(f));
	/* gso_size 0. */
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	put_le(hdr + 6, 34, 2);
	put_le(hdr + 8, 16, 2);
	tx(t, hdr, f, sizeof(f));
	/* Checksum field beyond the frame. */
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	put_le(hdr + 6, 190, 2);
	put_le(hdr + 8, 16, 2);
	tx(t, hdr, f, sizeof(f));
	/* A TCP header claiming to end past the frame (doff 15 at 180). */
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	put_le(hdr + 4, 1448, 2);
	put_le(hdr + 6, 150, 2);
	put_le(hdr + 8, 16, 2);
	f[150 + 12] = 0xf0;
	tx(t, hdr, f, sizeof(f));
	/* An unknown GSO type. */
	memset(hdr, 0, sizeof(hdr));
	hdr[1] = 9;
	tx(t, hdr, f, sizeof(f));
	/* A frame shorter than an Ethernet header. */
	memset(hdr, 0, sizeof(hdr));
	tx(t, hdr, f, 10);
	assert_int_equal(t->tb.tx_count, 0);
	assert_int_equal(virtio_net_stats(t->net)->tx_bad, 5);
	/* Every chain still came back, and the device keeps working. */
	for (int i = 0; i < 5; i++)
		used_next(t, 1, &id, &len);
	assert_int_equal(status(t), running);
	tx(t, hdr, f, 60);
	assert_int_equal(t->tb.tx_count, 1);
}

static void test_tx_backend_full(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[60];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_frame(f, sizeof(f), 2);
	t->tb.tx_full = true;
	tx(t, hdr, f, sizeof(f));
	/* Kept, not dropped: no used element yet. */
	assert_int_equal(used_idx(t, 1), 0);
	assert_int_equal(t->tb.tx_count, 0);
	t->tb.tx_full = false;
	virtio_net_process(t->net);	/* the backend's "room again" */
	assert_int_equal(t->tb.tx_count, 1);
	used_next(t, 1, &id, &len);
}

static void test_rx_mergeable(void **state)
{
	struct tdrv *t = *state;
	uint8_t f[4000], *b;
	uint32_t id[3], len[3];

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	rx_post(t, 4, RXBUF_SIZE);
	make_frame(f, sizeof(f), 5);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	virtio_net_process(t->net);
	/* 12 + 4000 bytes in 1526-byte buffers: three of them. */
	for (int i = 0; i < 3; i++)
		used_next(t, 0, &id[i], &len[i]);
	assert_int_equal(used_idx(t, 0), 3);
	assert_int_equal(len[0], RXBUF_SIZE);
	assert_int_equal(len[1], RXBUF_SIZE);
	assert_int_equal(len[2], 12 + 4000 - 2 * RXBUF_SIZE);
	b = gpa(t, RXBUF_GPA + 0x1000ull * id[0], RXBUF_SIZE);
	assert_int_equal(get_le(b + 10, 2), 3);	/* num_buffers */
	assert_int_equal(b[0], 0);
	assert_memory_equal(b + 12, f, RXBUF_SIZE - 12);
	assert_memory_equal(gpa(t, RXBUF_GPA + 0x1000ull * id[1], RXBUF_SIZE),
			    f + RXBUF_SIZE - 12, RXBUF_SIZE);
	assert_memory_equal(gpa(t, RXBUF_GPA + 0x1000ull * id[2], 10),
			    f + 2 * RXBUF_SIZE - 12, len[2]);
	assert_int_equal(t->tb.rx_count, 0);
}

static void test_rx_waits_for_buffers(void **state)
{
	struct tdrv *t = *state;
	uint8_t f[100];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_frame(f, sizeof(f), 6);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	virtio_net_process(t->net);
	/* No buffer: the frame stays in the backend, nothing dropped. */
	assert_int_equal(used_idx(t, 0), 0);
	assert_int_equal(t->tb.rx_count, 1);
	assert_int_equal(virtio_net_stats(t->net)->rx_dropped, 0);
	/* The driver posts buffers and kicks: the frame goes in. */
	rx_post(t, 2, RXBUF_SIZE);
	used_next(t, 0, &id, &len);
	assert_int_equal(len, 112);
	assert_int_equal(t->tb.rx_count, 0);
}

static void test_rx_offloads(void **state)
{
	struct tdrv *t = *state;
	struct frame_offload gso = {
		.flags = FRAME_F_NEEDS_CSUM, .gso_type = FRAME_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1448, .csum_start = 34,
		.csum_offset = 16,
	};
	uint8_t *f = malloc(65000), *b;
	uint32_t id, len, total = 0, nbuf;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_tcp4(f, 65000);
	rx_post(t, QSZ, 4096);
	assert_true(tnb_inject(&t->tb, f, 65000, &gso));
	virtio_net_process(t->net);
	used_next(t, 0, &id, &len);
	b = gpa(t, RXBUF_GPA + 0x1000ull * id, 4096);
	/* One GSO frame, delivered as such. */
	assert_int_equal(b[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(b[1], VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(get_le(b + 2, 2), 54);
	assert_int_equal(get_le(b + 4, 2), 1448);
	assert_int_equal(get_le(b + 6, 2), 34);
	assert_int_equal(get_le(b + 8, 2), 16);
	nbuf = (uint32_t)get_le(b + 10, 2);
	assert_int_equal(nbuf, (65000 + 12 + 4095) / 4096);
	total = len;
	for (uint32_t i = 1; i < nbuf; i++) {
		used_next(t, 0, &id, &len);
		total += len;
	}
	assert_int_equal(total, 65000 + 12);
	free(f);
}

static void test_rx_gso_refused_and_csum_completed(void **state)
{
	struct tdrv *t = *state;
	struct frame_offload gso = {
		.flags = FRAME_F_NEEDS_CSUM, .gso_type = FRAME_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1448, .csum_start = 34,
		.csum_offset = 16,
	};
	struct frame_offload csum = { .flags = FRAME_F_NEEDS_CSUM,
				      .csum_start = 34, .csum_offset = 16 };
	uint8_t f[300], *b;
	uint32_t id, len, sum = 0;

	/* A driver without GUEST_CSUM / GUEST_TSO (ethtool off, old ones). */
	assert_int_equal(drv_init(t, F(VIRTIO_F_VERSION_1) |
					     F(VIRTIO_NET_F_MRG_RXBUF),
				  QSZ),
			 running);
	make_tcp4(f, sizeof(f));
	rx_post(t, 4, RXBUF_SIZE);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), &gso));
	assert_true(tnb_inject(&t->tb, f, sizeof(f), &csum));
	virtio_net_process(t->net);
	/* The GSO frame dropped, the other delivered with its checksum. */
	assert_int_equal(virtio_net_stats(t->net)->rx_dropped, 1);
	used_next(t, 0, &id, &len);
	assert_int_equal(len, 12 + sizeof(f));
	assert_int_equal(used_idx(t, 0), 1);
	b = gpa(t, RXBUF_GPA + 0x1000ull * id, len) + 12;
	assert_int_equal(b[-12], 0);	/* no NEEDS_CSUM for this driver */
	/*
	 * The field held the pseudo-header sum (here: whatever the frame
	 * had); a receiver adding it back to the sum over the TCP part must
	 * now find 0xffff.
	 */
	sum = (uint32_t)(f[50] << 8 | f[51]);
	for (uint32_t i = 34; i + 1 < sizeof(f); i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff);
}

static void test_rx_big_frame_without_mrg(void **state)
{
	struct tdrv *t = *state;
	uint8_t f[3000];
	uint32_t id, len;

	assert_int_equal(drv_init(t, F(VIRTIO_F_VERSION_1), QSZ), running);
	make_frame(f, sizeof(f), 8);
	rx_post(t, 2, RXBUF_SIZE);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	assert_true(tnb_inject(&t->tb, f, 1000, NULL));
	virtio_net_process(t->net);
	/* One chain per frame: 3000 bytes do not fit; 1000 do. */
	assert_int_equal(virtio_net_stats(t->net)->rx_dropped, 1);
	used_next(t, 0, &id, &len);
	assert_int_equal(len, 1012);
	assert_int_equal(get_le(gpa(t, RXBUF_GPA + 0x1000ull * id, 12) + 10,
				2),
			 1);
}

static void test_ring_wrap(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[64];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	/* 5 times round a 16-entry ring, both ways. */
	for (int i = 0; i < 5 * QSZ; i++) {
		make_frame(f, sizeof(f), (uint8_t)i);
		tx(t, hdr, f, sizeof(f));
		used_next(t, 1, &id, &len);
		assert_memory_equal(t->tb.tx[i % TNB_FRAMES].data, f, 64);
		rx_post(t, 1, RXBUF_SIZE);
		assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
		virtio_net_process(t->net);
		used_next(t, 0, &id, &len);
		assert_int_equal(len, 76);
		assert_memory_equal(gpa(t, RXBUF_GPA + 0x1000ull * id, 76) +
					    12,
				    f, 64);
	}
	assert_int_equal(t->tb.tx_count, 5 * QSZ);
	assert_int_equal(virtio_net_stats(t->net)->rx_frames, 5 * QSZ);
}

/* One control command; returns the ack byte the device wrote. */
static uint8_t ctrl(struct tdrv *t, const uint8_t *cmd, uint32_t len)
{
	uint8_t *ack = gpa(t, CTRL_GPA + 0x800, 1);
	unsigned int d = (t->next_desc[2] % (QSZ / 2)) * 2;
	uint32_t id, ulen;

	memcpy(gpa(t, CTRL_GPA, len), cmd, len);
	*ack = 0xee;
	desc(t, 2, d, CTRL_GPA, len, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	desc(t, 2, d + 1, CTRL_GPA + 0x800, 1, VIRTQ_DESC_F_WRITE, 0);
	avail(t, 2, (uint16_t)d);
	t->next_desc[2]++;
	kick(t, 2);
	used_next(t, 2, &id, &ulen);
	assert_int_equal(id, d);
	assert_int_equal(ulen, 1);
	return *ack;
}

static void test_ctrl_queue(void **state)
{
	struct tdrv *t = *state;
	uint8_t promisc[] = { VIRTIO_NET_CTRL_RX, 0, 1 };
	uint8_t allmulti[] = { VIRTIO_NET_CTRL_RX, 1, 0 };
	uint8_t table[2 + 4 + 6 + 4 + 12] = { VIRTIO_NET_CTRL_MAC,
					       VIRTIO_NET_CTRL_MAC_TABLE_SET };
	uint8_t shorttab[2 + 4] = { VIRTIO_NET_CTRL_MAC,
				    VIRTIO_NET_CTRL_MAC_TABLE_SET, 9 };
	uint8_t unknown[] = { 42, 0, 0 }, norx[] = { VIRTIO_NET_CTRL_RX, 0 };

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	put_le(table + 2, 1, 4);
	put_le(table + 12, 2, 4);
	assert_int_equal(ctrl(t, promisc, sizeof(promisc)), VIRTIO_NET_OK);
	assert_int_equal(ctrl(t, allmulti, sizeof(allmulti)), VIRTIO_NET_OK);
	assert_int_equal(ctrl(t, table, sizeof(table)), VIRTIO_NET_OK);
	/* 9 entries claimed, none there. */
	assert_int_equal(ctrl(t, shorttab, sizeof(shorttab)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(t, unknown, sizeof(unknown)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(t, norx, sizeof(norx)), VIRTIO_NET_ERR);
	assert_int_equal(status(t), running);
}

static void test_link_change_interrupt(void **state)
{
	struct tdrv *t = *state;
	uint8_t gen;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	assert_int_equal(mmio_rd(t, t->isr, 1), 0);
	gen = (uint8_t)mmio_rd(t, t->common + VIRTIO_PCI_COMMON_CFGGEN, 1);
	/* Carrier lost, as the shm backend reports netd going away. */
	pthread_mutex_lock(&virtio_net_vdev(t->net)->lock);
	nic_backend_set_link(virtio_net_backend(t->net), false);
	pthread_mutex_unlock(&virtio_net_vdev(t->net)->lock);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), 0);
	/* INTx: the ISR's configuration bit. */
	assert_int_equal(mmio_rd(t, t->isr, 1) & 2, 2);
	assert_int_not_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_CFGGEN,
				     1),
			     gen);
	pthread_mutex_lock(&virtio_net_vdev(t->net)->lock);
	nic_backend_set_link(virtio_net_backend(t->net), true);
	pthread_mutex_unlock(&virtio_net_vdev(t->net)->lock);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), VIRTIO_NET_S_LINK_UP);
}

static void test_link_set_by_hand(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[60];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	mmio_rd(t, t->isr, 1);
	/* The control socket's thread sets it; the device's round shows it. */
	assert_int_equal(nic_backend_set_admin(virtio_net_backend(t->net),
					       false),
			 0);
	virtio_net_process(t->net);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), 0);
	assert_int_equal(mmio_rd(t, t->isr, 1) & 2, 2);
	/* Nothing passes while it is down: the frame is dropped, counted. */
	make_frame(f, sizeof(f), 3);
	tx(t, hdr, f, sizeof(f));
	used_next(t, 1, &id, &len);
	assert_int_equal(t->tb.tx_count, 0);
	assert_int_equal(virtio_net_stats(t->net)->tx_dropped, 1);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	rx_post(t, 1, RXBUF_SIZE);
	assert_int_equal(used_idx(t, 0), 0);
	/* Up again: carrier back, with an interrupt, and the frame in. */
	assert_int_equal(nic_backend_set_admin(virtio_net_backend(t->net),
					       true),
			 0);
	virtio_net_process(t->net);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(mmio_rd(t, t->isr, 1) & 2, 2);
	used_next(t, 0, &id, &len);
	assert_int_equal(len, 72);
}

static void test_event_idx_suppression(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[60];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_frame(f, sizeof(f), 9);
	/* The first completion always interrupts (nothing signalled yet). */
	tx(t, hdr, f, sizeof(f));
	used_next(t, 1, &id, &len);
	assert_int_equal(mmio_rd(t, t->isr, 1) & 1, 1);
	/* used_event (after the avail ring) far ahead: no interrupt. */
	put_le(gpa(t, ring(1) + 0x4000 + 4 + 2 * QSZ, 2), 100, 2);
	mmio_rd(t, t->isr, 1);
	tx(t, hdr, f, sizeof(f));
	used_next(t, 1, &id, &len);
	assert_int_equal(mmio_rd(t, t->isr, 1) & 1, 0);
	/* used_event = the next used index: interrupt on that one. */
	put_le(gpa(t, ring(1) + 0x4000 + 4 + 2 * QSZ, 2), 2, 2);
	tx(t, hdr, f, sizeof(f));
	used_next(t, 1, &id, &len);
	assert_int_equal(mmio_rd(t, t->isr, 1) & 1, 1);
	/* Idle again, the device asks for a kick at the next chain:
	 * avail_event follows what it consumed. */
	assert_int_equal(get_le(gpa(t, ring(1) + 0x8000 + 4 + 8 * QSZ, 2), 2),
			 3);
}

static void test_hostile_descriptors(void **state)
{
	struct tdrv *t = *state;

	/* A TX descriptor pointing beyond guest RAM: the device stops. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	desc(t, 1, 0, RAM_SIZE - 8, 64, 0, 0);
	avail(t, 1, 0);
	kick(t, 1);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(t->tb.tx_count, 0);
	/* A looped RX chain: the same. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	desc(t, 0, 0, RXBUF_GPA, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
	     1);
	desc(t, 0, 1, RXBUF_GPA + 64, 64,
	     VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	avail(t, 0, 0);
	kick(t, 0);
	assert_true(tnb_inject(&t->tb, "\xff\xff\xff\xff\xff\xff\x52\x4c"
				       "\0\0\0\1\x08\0xxxxxxxxxx",
			       24, NULL));
	virtio_net_process(t->net);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* An indirect table outside RAM. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	desc(t, 1, 0, RAM_SIZE - 16, 64, VIRTQ_DESC_F_INDIRECT, 0);
	avail(t, 1, 0);
	kick(t, 1);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* An RX buffer smaller than the header. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	rx_post(t, 1, 8);
	virtio_net_process(t->net);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* After a reset everything works again. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	t->tb.rx_count = t->tb.rx_used = 0;
	{
		uint8_t hdr[12] = { 0 }, f[60];
		uint32_t id, len;

		make_frame(f, sizeof(f), 1);
		tx(t, hdr, f, sizeof(f));
		used_next(t, 1, &id, &len);
		assert_int_equal(t->tb.tx_count, 1);
	}
}

static void test_reset_mid_transfer(void **state)
{
	struct tdrv *t = *state;
	uint8_t f[4000];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	/* Two buffers for a frame that needs three: it waits... */
	rx_post(t, 2, RXBUF_SIZE);
	make_frame(f, sizeof(f), 4);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	virtio_net_process(t->net);
	assert_int_equal(used_idx(t, 0), 0);
	/* ... and the driver resets the device with it half placed. */
	set_status(t, 0);
	assert_int_equal(status(t), 0);
	virtio_net_process(t->net);
	/* A new driver: the frame goes in whole. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	rx_post(t, 3, RXBUF_SIZE);
	used_next(t, 0, &id, &len);
	assert_int_equal(get_le(gpa(t, RXBUF_GPA + 0x1000ull * id, 12) + 10,
				2),
			 3);
	assert_int_equal(t->tb.rx_count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_and_features,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_no_offloads_without_backend_caps, setup_nocaps,
			teardown),
		cmocka_unit_test_setup_teardown(test_tx_frame, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_tso_64k, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_hostile_headers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_backend_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rx_mergeable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_offloads, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_rx_gso_refused_and_csum_completed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_rx_big_frame_without_mrg,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_wrap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_queue, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_link_change_interrupt,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_set_by_hand, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_suppression,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_descriptors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_mid_transfer, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
