/* SPDX-License-Identifier: MIT */
/* vmm_virtio_net.c - fuzz virtio-net's guest-facing paths: transmit chains, receive buffers, control commands, frames from the backend. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/virtio/net.h"
#include "vmm/virtio/virtio.h"
#include "tests/fuzz/fd_check.h"
#include "tests/fuzz/virtio_fuzz.h"
#include "tests/unit/nic_test_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The harness is the guest driver and the backend's far end: it
 * negotiates, lays out the three queues in guest RAM (two heap blocks, so
 * a range crossing them trips ASan), writes chains as the input says,
 * injects frames with arbitrary offload metadata and runs the device
 * inline (virtio_net_process()), as in a KVM-less VM.
 *
 * Input: a 2-byte header, then operations until the input ends.
 *   0     features: bit 0 MRG_RXBUF, 1 CSUM+HOST_TSO4/6, 2 GUEST_CSUM +
 *         GUEST_TSO4/6, 3 EVENT_IDX, 4 INDIRECT_DESC, 5 the backend takes
 *         no offloads, 6 the backend starts full
 *   1     log2 of the queue size (mod 7: 1..64)
 * Operations (opcode byte % 8):
 *   0  TX chain: u8 segments (1..4), per segment le16 length, le16 offset
 *      in the data area; 12 header bytes follow, written at the first
 *      segment's start
 *   1  RX buffers: u8 chains (1..8), each u8 segments (1..3) and per
 *      segment le16 length, le16 offset (writable)
 *   2  backend frame: le16 length (14..16383), u8 flags, u8 gso_type,
 *      le16 hdr_len, le16 gso_size, le16 csum_start, le16 csum_offset
 *   3  control command: u8 n (<= 40), n bytes, then one ack byte buffer
 *   4  run the device
 *   5  RAM poke: le16 offset from the start of RAM, u8 n, n bytes
 *   6  reset and a new driver set-up
 *   7  backend full toggle
 *
 * Checked after every run, unless a RAM poke may have forged the rings:
 * every used element names a head below the queue size, and an RX element
 * claims no more bytes than that chain could hold.
 */
enum {
	RAM_GPA = 0x10000,
	QAREA = 0x1000, /* per queue: desc @0, avail @0x400, used @0x800 */
	DATA_OFF = 3 * QAREA,
	DATA_LEN = 2 * SPLIT_RAM_REGION - DATA_OFF,
	QMAX = 64,
	MAX_OPS = 1024,
};

struct drv {
	struct guest_mem gm;
	struct virtio_net *net;
	struct virtio_dev *vdev;
	struct tnb tb;
	uint16_t qsize;
	uint64_t features;
	uint16_t avail_idx[3], used_seen[3], next_desc[3];
	uint64_t rx_cap[QMAX];
	/* Descriptor slots in flight, and how many each head's chain has. */
	bool busy[3][QMAX];
	uint8_t nseg[3][QMAX];
	bool forged; /* rings or in-flight descriptors may have been rewritten */
};

static void ram_put(struct drv *d, uint64_t gpa, uint64_t v, unsigned int n)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	guest_mem_write(&d->gm, gpa, b, n);
}

static uint64_t ram_get(struct drv *d, uint64_t gpa, unsigned int n)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	guest_mem_read(&d->gm, gpa, b, n);
	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static uint64_t qbase(unsigned int q)
{
	return RAM_GPA + (uint64_t)q * QAREA;
}

static void driver_setup(struct drv *d)
{
	struct virtio_dev *v = d->vdev;

	virtio_dev_set_status(v, 0);
	virtio_dev_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE |
				     VIRTIO_STATUS_DRIVER);
	v->driver_features = d->features & v->features;
	virtio_dev_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE |
				     VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK);
	for (unsigned int q = 0; q < 3; q++) {
		struct virtq *vq = &v->vqs[q];

		vq->size = d->qsize;
		vq->desc_gpa = qbase(q);
		vq->avail_gpa = qbase(q) + 0x400;
		vq->used_gpa = qbase(q) + 0x800;
		ram_put(d, vq->avail_gpa, 0, 4);
		ram_put(d, vq->used_gpa, 0, 4);
		virtio_dev_queue_enable(v, q);
		d->avail_idx[q] = d->used_seen[q] = d->next_desc[q] = 0;
	}
	memset(d->busy, 0, sizeof(d->busy));
	virtio_dev_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE |
				     VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK |
				     VIRTIO_STATUS_DRIVER_OK);
	d->forged = false;
}

static void desc_put(struct drv *d, unsigned int q, unsigned int i,
		     uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint64_t at = qbase(q) + 16ull * i;

	ram_put(d, at, addr, 8);
	ram_put(d, at + 8, len, 4);
	ram_put(d, at + 12, flags, 2);
	ram_put(d, at + 14, next, 2);
}

static void make_avail(struct drv *d, unsigned int q, uint16_t head)
{
	uint64_t a = qbase(q) + 0x400;

	ram_put(d, a + 4 + 2ull * (d->avail_idx[q] % d->qsize), head, 2);
	d->avail_idx[q]++;
	ram_put(d, a + 2, d->avail_idx[q], 2);
}

/* A chain of @n segments read from the input; returns its head. */
static uint16_t chain(struct drv *d, struct fz *f, unsigned int q,
		      unsigned int n, bool writable, uint64_t *cap)
{
	uint16_t head = (uint16_t)(d->next_desc[q] % d->qsize);

	*cap = 0;
	/* Reusing a slot the device still owns is a forgery, not a check. */
	if (n > d->qsize)
		d->forged = true;
	d->nseg[q][head] = (uint8_t)n;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int slot = (d->next_desc[q]++) % d->qsize;

		if (d->busy[q][slot])
			d->forged = true;
		d->busy[q][slot] = true;
		uint32_t len = (uint32_t)take(f, 2) % DATA_LEN;
		uint64_t off = take(f, 2) % DATA_LEN;

		desc_put(d, q, slot, RAM_GPA + DATA_OFF + off, len,
			 (uint16_t)((writable ? VIRTQ_DESC_F_WRITE : 0) |
				    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			 (uint16_t)((slot + 1) % d->qsize));
		*cap += len;
	}
	make_avail(d, q, head);
	return head;
}

static void check_used(struct drv *d)
{
	for (unsigned int q = 0; q < 3 && !d->forged; q++) {
		uint64_t u = qbase(q) + 0x800;
		uint16_t idx = (uint16_t)ram_get(d, u + 2, 2);

		while (d->used_seen[q] != idx) {
			uint64_t el = u + 4 + 8ull * (d->used_seen[q] % d->qsize);
			uint32_t id = (uint32_t)ram_get(d, el, 4);
			uint32_t len = (uint32_t)ram_get(d, el + 4, 4);

			if (id >= d->qsize)
				abort();
			if (q == VIRTIO_NET_Q_RX && len > d->rx_cap[id])
				abort();
			for (unsigned int i = 0; i < d->nseg[q][id]; i++)
				d->busy[q][(id + i) % d->qsize] = false;
			d->used_seen[q]++;
		}
	}
}

static void op(struct drv *d, struct fz *f)
{
	uint8_t buf[64];
	uint64_t cap;
	unsigned int n;

	switch (take(f, 1) % 8) {
	case 0: {
		uint64_t first = qbase(1) + 16ull * (d->next_desc[1] % d->qsize);
		uint16_t head;

		n = 1 + (unsigned int)take(f, 1) % 4;
		head = chain(d, f, VIRTIO_NET_Q_TX, n, false, &cap);
		(void)head;
		for (int i = 0; i < VIRTIO_NET_HDR_SIZE; i++)
			buf[i] = (uint8_t)take(f, 1);
		guest_mem_write(&d->gm, ram_get(d, first, 8), buf,
				VIRTIO_NET_HDR_SIZE);
		break;
	}
	case 1:
		n = 1 + (unsigned int)take(f, 1) % 8;
		for (unsigned int i = 0; i < n; i++) {
			uint16_t head = chain(d, f, VIRTIO_NET_Q_RX,
					      1 + (unsigned int)take(f, 1) % 3,
					      true, &cap);

			d->rx_cap[head] = cap;
		}
		break;
	case 2: {
		static uint8_t frame[16384];
		uint32_t len = 14 + (uint32_t)take(f, 2) % (16384 - 14);
		struct frame_offload off = {
			.flags = (uint8_t)take(f, 1),
			.gso_type = (uint8_t)take(f, 1),
			.hdr_len = (uint16_t)take(f, 2),
			.gso_size = (uint16_t)take(f, 2),
			.csum_start = (uint16_t)take(f, 2),
			.csum_offset = (uint16_t)take(f, 2),
		};

		for (uint32_t i = 0; i < len; i++)
			frame[i] = (uint8_t)(i * 31 + len);
		tnb_inject(&d->tb, frame, len, &off);
		break;
	}
	case 3: {
		unsigned int slot = d->next_desc[2]++ % d->qsize;
		unsigned int slot2 = d->next_desc[2]++ % d->qsize;

		n = (unsigned int)take(f, 1) % 41;
		if (d->busy[2][slot] || d->busy[2][slot2] || slot == slot2)
			d->forged = true;
		d->busy[2][slot] = d->busy[2][slot2] = true;
		d->nseg[2][slot] = 2;
		for (unsigned int i = 0; i < n; i++)
			buf[i] = (uint8_t)take(f, 1);
		guest_mem_write(&d->gm, RAM_GPA + DATA_OFF, buf, n);
		desc_put(d, 2, slot, RAM_GPA + DATA_OFF, n, VIRTQ_DESC_F_NEXT,
			 (uint16_t)slot2);
		desc_put(d, 2, slot2, RAM_GPA + DATA_OFF + 64, 1,
			 VIRTQ_DESC_F_WRITE, 0);
		make_avail(d, 2, (uint16_t)slot);
		break;
	}
	case 4:
		virtio_net_process(d->net);
		check_used(d);
		break;
	case 5: {
		uint64_t off = take(f, 2);

		n = (unsigned int)take(f, 1) % 32;
		for (unsigned int i = 0; i < n; i++)
			buf[i] = (uint8_t)take(f, 1);
		guest_mem_write(&d->gm, RAM_GPA + off, buf, n);
		d->forged = true;
		break;
	}
	case 6:
		pthread_mutex_lock(&d->vdev->lock);
		driver_setup(d);
		pthread_mutex_unlock(&d->vdev->lock);
		break;
	case 7:
		d->tb.tx_full = !d->tb.tx_full;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nic_config cfg = { .net = "fz", .port = "fz", .model = "virtio",
				  .mac = { 0x52, 0x4c, 0, 0, 0, 1 } };
	struct fz f = { data, size };
	uint8_t *a = NULL, *b = NULL, h0;
	struct drv *d = calloc(1, sizeof(*d));
	int err, ops = 0;

	log_max_level = LOG_ERR - 1;
	if (!d)
		return 0;
	if (!split_ram_init(&d->gm, RAM_GPA, &a, &b))
		goto out;
	h0 = (uint8_t)take(&f, 1);
	d->qsize = (uint16_t)(1u << (take(&f, 1) % 7));
	d->tb.caps = h0 & 0x20 ? 0 : NIC_OFF_ALL;
	d->tb.tx_full = h0 & 0x40;
	d->features = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MAC |
		      1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_CTRL_VQ |
		      1ull << VIRTIO_NET_F_CTRL_RX;
	if (h0 & 1)
		d->features |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (h0 & 2)
		d->features |= 1ull << VIRTIO_NET_F_CSUM |
			       1ull << VIRTIO_NET_F_HOST_TSO4 |
			       1ull << VIRTIO_NET_F_HOST_TSO6;
	if (h0 & 4)
		d->features |= 1ull << VIRTIO_NET_F_GUEST_CSUM |
			       1ull << VIRTIO_NET_F_GUEST_TSO4 |
			       1ull << VIRTIO_NET_F_GUEST_TSO6;
	if (h0 & 8)
		d->features |= 1ull << VIRTIO_F_EVENT_IDX;
	if (h0 & 16)
		d->features |= 1ull << VIRTIO_F_INDIRECT_DESC;
	tnb_next = &d->tb;
	d->net = virtio_net_open(&d->gm, NULL, &cfg, &tnb_ops, &err);
	if (!d->net)
		goto out;
	d->vdev = virtio_net_vdev(d->net);
	pthread_mutex_lock(&d->vdev->lock);
	driver_setup(d);
	pthread_mutex_unlock(&d->vdev->lock);
	while (f.left && ops++ < MAX_OPS)
		op(d, &f);
	virtio_net_process(d->net);
	check_used(d);
	virtio_net_close(d->net);
out:
	free(a);
	free(b);
	free(d);
	fd_check_no_leak();
	return 0;
}
