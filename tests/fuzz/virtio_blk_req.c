/* SPDX-License-Identifier: MIT */
/* virtio_blk_req.c - fuzz virtio-blk request processing: guest-written chains (header, data, status) over a scratch image. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/virtio/blk.h"
#include "vmm/virtio/virtio.h"
#include "tests/fuzz/fd_check.h"
#include "tests/fuzz/virtio_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The harness is the guest driver: it negotiates, lays out one request
 * queue in guest RAM and writes descriptor chains as the input describes,
 * then kicks; the device runs inline (no I/O thread), as in a KVM-less VM.
 *
 * Input: a 2-byte header, then operations until the input ends.
 *   0     bit 0 read-only disk; bit 1 INDIRECT_DESC, bit 2 EVENT_IDX
 *         negotiated; bits 3-4 image size: 64 KiB, empty, 64 KiB + 300
 *         bytes (a partial last sector), 1 MiB sparse
 *   1     log2 of the queue size (mod 9: 1..256)
 * Operations (opcode byte % 5):
 *   0  chain: u8 shape (bits 0-2 readable segments, bits 3-5 writable,
 *      bit 6 through an indirect table, bit 7 raw le32 type follows, else
 *      u8 type index: IN, OUT, FLUSH, GET_ID), u8 sector (0xff: le64
 *      follows), then per segment le16 length, le16 offset in the data
 *      area. The 16-byte request header is written across the readable
 *      segments, as a driver may split it; the chain is made available.
 *   1  kick: virtio_blk_process()
 *   2  RAM poke: le16 offset from the start of RAM, u8 n, n bytes (rings
 *      and descriptors included: the guest owns all of it)
 *   3  device reset and a new driver set-up (after a NEEDS_RESET, too)
 *   4  fill: le16 offset in the data area, le16 length, u8 byte
 * Guest RAM is split in two heap blocks (split_ram_init).
 *
 * Checked after every kick, as long as no RAM poke could have forged them:
 * each used element names a head the driver made available and not yet
 * completed, and claims no more bytes written than the chain can hold;
 * a lone request's status byte is OK, IOERR or UNSUPP.
 */
enum {
	RAM_GPA = 0x10000,
	DESC_OFF = 0,
	AVAIL_OFF = 0x1000,
	USED_OFF = 0x1800,
	INDIR_OFF = 0x2800,
	INDIR_END = 0x4000,
	DATA_OFF = 0x4000,
	MAX_SEGS_PER_SIDE = 7,
	MAX_OPS = 2048,
	QMAX = 256,
};

struct drv {
	struct guest_mem gm;
	struct virtio_blk *blk;
	struct virtio_dev *vdev;
	uint16_t qsize;
	uint64_t features;
	uint16_t avail_idx, used_seen, next_desc, next_indir;
	bool forged;		/* a RAM poke may have rewritten the rings */
	/* Per head in flight: writable bytes and the status byte's gpa. */
	bool inflight[QMAX];
	uint64_t in_len[QMAX];
	uint64_t status_gpa[QMAX];
	unsigned int pending;	/* made available since the last kick */
	unsigned int descs;	/* descriptor slots they use */
};

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void ram_put(struct drv *d, uint64_t gpa, uint64_t v, unsigned int n)
{
	uint8_t b[8];

	put_le(b, v, n);
	guest_mem_write(&d->gm, gpa, b, n);
}

static uint64_t ram_get(struct drv *d, uint64_t gpa, unsigned int n)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	unsigned int i;

	guest_mem_read(&d->gm, gpa, b, n);
	for (i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void desc_put(struct drv *d, uint64_t table, unsigned int i,
		     uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t b[16];

	put_le(b, addr, 8);
	put_le(b + 8, len, 4);
	put_le(b + 12, flags, 2);
	put_le(b + 14, next, 2);
	guest_mem_write(&d->gm, table + 16ull * i, b, sizeof(b));
}

/* What a driver does after reset: features, queue 0 at fixed places. */
static void driver_setup(struct drv *d)
{
	struct virtio_dev *v = d->vdev;
	struct virtq *vq = &v->vqs[0];

	virtio_dev_set_status(v, 0);
	virtio_dev_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE |
				     VIRTIO_STATUS_DRIVER);
	v->driver_features = d->features & v->features;
	virtio_dev_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE |
				     VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK);
	vq->size = d->qsize;
	vq->desc_gpa = RAM_GPA + DESC_OFF;
	vq->avail_gpa = RAM_GPA + AVAIL_OFF;
	vq->used_gpa = RAM_GPA + USED_OFF;
	/* Rings start empty: a reset is a fresh start for the driver too. */
	ram_put(d, RAM_GPA + AVAIL_OFF, 0, 4);
	ram_put(d, RAM_GPA + USED_OFF, 0, 4);
	virtio_dev_queue_enable(v, 0);
	virtio_dev_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE |
				     VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK |
				     VIRTIO_STATUS_DRIVER_OK);
	d->avail_idx = d->used_seen = d->next_desc = d->next_indir = 0;
	d->pending = d->descs = 0;
	memset(d->inflight, 0, sizeof(d->inflight));
}

static void op_chain(struct drv *d, struct fz *f)
{
	static const uint32_t types[4] = {
		VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
		VIRTIO_BLK_T_GET_ID,
	};
	unsigned int shape = (unsigned int)take(f, 1);
	unsigned int nout = shape & 7, nin = (shape >> 3) & 7;
	unsigned int n = nout + nin, i, hdr_done = 0;
	bool indirect = shape & 0x40;
	uint64_t addr[2 * MAX_SEGS_PER_SIDE], table, in_len = 0, status = 0;
	uint32_t len[2 * MAX_SEGS_PER_SIDE], type;
	uint64_t sector;
	uint8_t hdr[16];
	uint16_t head;

	type = shape & 0x80 ? (uint32_t)take(f, 4) : types[take(f, 1) % 4];
	sector = take(f, 1);
	if (sector == 0xff)
		sector = take(f, 8);
	put_le(hdr, type, 4);
	put_le(hdr + 4, 0, 4);
	put_le(hdr + 8, sector, 8);
	for (i = 0; i < n; i++) {
		len[i] = (uint32_t)take(f, 2);
		addr[i] = RAM_GPA + DATA_OFF + take(f, 2);
		/* The header goes first into the readable bytes. */
		if (i < nout && hdr_done < sizeof(hdr)) {
			uint32_t k = len[i] < sizeof(hdr) - hdr_done ?
					     len[i] :
					     (uint32_t)(sizeof(hdr) - hdr_done);

			guest_mem_write(&d->gm, addr[i], hdr + hdr_done, k);
			hdr_done += k;
		}
		if (i >= nout) {
			in_len += len[i];
			if (len[i])
				status = addr[i] + len[i] - 1;
		}
	}
	if (!n)
		return;
	head = (uint16_t)(d->next_desc % d->qsize);
	if (indirect && d->next_indir + n <= (INDIR_END - INDIR_OFF) / 16) {
		table = RAM_GPA + INDIR_OFF + 16ull * d->next_indir;
		d->next_indir = (uint16_t)(d->next_indir + n);
		for (i = 0; i < n; i++)
			desc_put(d, table, i, addr[i], len[i],
				 (uint16_t)((i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
					    (i >= nout ? VIRTQ_DESC_F_WRITE : 0)),
				 (uint16_t)(i + 1));
		desc_put(d, RAM_GPA + DESC_OFF, head, table, 16 * n,
			 VIRTQ_DESC_F_INDIRECT, 0);
		d->next_desc = (uint16_t)(d->next_desc + 1);
		d->descs += 1;
	} else {
		for (i = 0; i < n; i++) {
			unsigned int idx = (d->next_desc + i) % d->qsize;

			desc_put(d, RAM_GPA + DESC_OFF, idx, addr[i], len[i],
				 (uint16_t)((i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
					    (i >= nout ? VIRTQ_DESC_F_WRITE : 0)),
				 (uint16_t)((idx + 1) % d->qsize));
		}
		d->next_desc = (uint16_t)(d->next_desc + n);
		d->descs += n;
	}
	ram_put(d, RAM_GPA + AVAIL_OFF + 4 + 2ull * (d->avail_idx % d->qsize),
		head, 2);
	d->avail_idx++;
	ram_put(d, RAM_GPA + AVAIL_OFF + 2, d->avail_idx, 2);
	/* Descriptors or avail entries of chains not yet taken were
	 * overwritten (or a chain overwrote itself): the used ring may then
	 * hold anything the device was right to write. */
	if (d->descs > d->qsize || d->pending + 1 > d->qsize ||
	    d->inflight[head])
		d->forged = true;
	d->inflight[head] = true;
	d->in_len[head] = in_len;
	d->status_gpa[head] = status;
	d->pending++;
}

static void op_kick(struct drv *d)
{
	struct virtio_dev *v = d->vdev;
	uint16_t used_idx;
	unsigned int done = 0, pending = d->pending;
	uint16_t last_id = 0;

	virtio_blk_process(d->blk);
	d->pending = d->descs = 0;
	if (!virtio_dev_running(v))
		return;
	used_idx = (uint16_t)ram_get(d, RAM_GPA + USED_OFF + 2, 2);
	while (d->used_seen != used_idx && done++ < d->qsize) {
		uint64_t e = RAM_GPA + USED_OFF + 4 +
			     8ull * (d->used_seen % d->qsize);
		uint32_t id = (uint32_t)ram_get(d, e, 4);
		uint32_t written = (uint32_t)ram_get(d, e + 4, 4);

		d->used_seen++;
		if (d->forged)
			continue;
		if (id >= d->qsize || !d->inflight[id] ||
		    written > d->in_len[id])
			abort();
		d->inflight[id] = false;
		last_id = (uint16_t)id;
	}
	if (!d->forged && done == 1 && pending == 1) {
		uint8_t st = (uint8_t)ram_get(d, d->status_gpa[last_id], 1);

		if (st > VIRTIO_BLK_S_UNSUPP)
			abort();
	}
}

static const char *disk_init(unsigned int kind)
{
	static const off_t sizes[4] = { 64 << 10, 0, (64 << 10) + 300,
					1 << 20 };
	static char zero[4096];
	const char *disk_path = fuzz_image("blkreq");
	int fd;

	/* Same starting image for every input: zeroes, then one marked
	 * sector so reads return something recognisable. */
	fd = open(disk_path, O_RDWR | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, sizes[kind]) < 0)
		abort();
	memset(zero, 0x5a, 512);
	if (sizes[kind] >= 1024 && pwrite(fd, zero, 512, 512) != 512)
		abort();
	memset(zero, 0, 512);
	close(fd);
	return disk_path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	static struct drv d;
	uint8_t *a = NULL, *b = NULL;
	const char *disk_path;
	unsigned int flags, ops = 0;
	int err = 0;

	if (size < 2)
		return 0;
	log_max_level = LOG_ERR;
	memset(&d, 0, sizeof(d));
	flags = (unsigned int)take(&f, 1);
	d.qsize = (uint16_t)(1u << (take(&f, 1) % 9));
	disk_path = disk_init((flags >> 3) & 3);
	if (!split_ram_init(&d.gm, RAM_GPA, &a, &b))
		goto out;
	d.blk = virtio_blk_open(&d.gm, disk_path, flags & 1, &err);
	if (!d.blk)
		abort();
	d.vdev = virtio_blk_vdev(d.blk);
	d.features = (1ull << VIRTIO_F_VERSION_1) |
		     (1ull << VIRTIO_BLK_F_FLUSH) |
		     (flags & 2 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
		     (flags & 4 ? 1ull << VIRTIO_F_EVENT_IDX : 0);
	driver_setup(&d);
	while (f.left && ops++ < MAX_OPS) {
		unsigned int op = (unsigned int)take(&f, 1) % 5, n, i;
		uint64_t off;

		switch (op) {
		case 0:
			op_chain(&d, &f);
			break;
		case 1:
			op_kick(&d);
			break;
		case 2:
			off = take(&f, 2);
			n = (unsigned int)take(&f, 1);
			if (n > f.left)
				n = (unsigned int)f.left;
			guest_mem_write(&d.gm, RAM_GPA + off, f.p, n);
			f.p += n;
			f.left -= n;
			d.forged = true;
			break;
		case 3:
			driver_setup(&d);
			break;
		case 4: {
			uint8_t fill[256];

			off = RAM_GPA + DATA_OFF + take(&f, 2);
			n = (unsigned int)take(&f, 2);
			memset(fill, (int)take(&f, 1), sizeof(fill));
			for (i = 0; i < n; i += sizeof(fill))
				guest_mem_write(&d.gm, off + i, fill,
						n - i < sizeof(fill) ?
							n - i :
							sizeof(fill));
			break;
		}
		}
	}
	/* Whatever was left available is processed as a last kick would. */
	op_kick(&d);
	virtio_blk_close(d.blk);
out:
	free(a);
	free(b);
	fd_check_no_leak();
	return 0;
}
