/* SPDX-License-Identifier: MIT */
/* blk.c - virtio-blk on a raw image file. */
#include "vmm/virtio/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/vm.h"
#include "vmm/virtio/io_thread.h"
#include "vmm/virtio/pci.h"
#include "vmm/device.h"

LOG_MODULE("virtio-blk");

enum { BLK_HDR_SIZE = 16 };

/* Numbers the disks in log lines: virtio-blk0, virtio-blk1, ... */
static unsigned int blk_count;

/**
 * struct virtio_blk - one disk.
 * @vdev: the generic device (first: container_of by cast).
 * @fd: the image.
 * @ro: read-only.
 * @capacity: sectors.
 * @id: GET_ID answer (not NUL-terminated if 20 bytes long).
 * @name: "virtio-blkN", for logs.
 * @segs: chain segments, one request at a time (lock held).
 * @iov: iovecs for preadv/pwritev.
 * @io: the I/O thread (vmm/virtio/io_thread.h), if started.
 * @counters: requests by kind, for the control socket.
 */
struct virtio_blk {
	struct virtio_dev vdev;
	int fd;
	bool ro;
	uint64_t capacity;
	char id[VIRTIO_BLK_ID_BYTES];
	char name[24];
	struct virtq_seg segs[VIRTIO_BLK_QUEUE_SIZE];
	struct iovec iov[VIRTIO_BLK_QUEUE_SIZE];
	struct virtio_io_thread io;
	struct {
		uint64_t reads, writes, flushes, get_ids, errors, unsupp;
	} counters;
};

static struct virtio_blk *to_blk(struct virtio_dev *vdev)
{
	return vdev->priv;
}

static void le_put(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le_get(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void blk_config_read(struct virtio_dev *vdev, uint32_t off,
			    uint8_t *data, uint32_t len)
{
	struct virtio_blk *blk = to_blk(vdev);
	uint8_t cfg[VIRTIO_BLK_CONFIG_SIZE] = { 0 };

	le_put(cfg + 0, blk->capacity, 8);
	le_put(cfg + 8, VIRTIO_BLK_SIZE_MAX, 4);
	le_put(cfg + 12, VIRTIO_BLK_SEG_MAX, 4);
	le_put(cfg + 20, VIRTIO_BLK_SECTOR_SIZE, 4);
	le_put(cfg + 34, 1, 2);	/* num_queues (meaningful with MQ only) */
	memcpy(data, cfg + off, len);
}

/*
 * Fill blk->iov with the byte range [off, off + len) of the readable
 * (@writable false) or writable segments of @c. Return the iovec count,
 * or -1 if a data segment is larger than size_max.
 */
static int blk_build_iov(struct virtio_blk *blk, const struct virtq_chain *c,
			 bool writable, uint64_t off, uint64_t len)
{
	unsigned int first = writable ? c->nr_out : 0;
	unsigned int n = writable ? c->nr_in : c->nr_out;
	unsigned int i;
	int nr = 0;

	for (i = 0; i < n && len; i++) {
		const struct virtq_seg *s = &c->segs[first + i];
		uint64_t take;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		take = s->len - off;
		if (take > len)
			take = len;
		if (take > VIRTIO_BLK_SIZE_MAX)
			return -1;
		blk->iov[nr].iov_base = s->base + off;
		blk->iov[nr].iov_len = take;
		nr++;
		len -= take;
		off = 0;
	}
	return nr;
}

/* preadv/pwritev until done; a short transfer at EOF is an error. */
static int blk_rw(struct virtio_blk *blk, int nr, uint64_t pos, bool write)
{
	struct iovec *iov = blk->iov;

	while (nr > 0) {
		ssize_t n = write ? pwritev(blk->fd, iov, nr, (off_t)pos) :
				    preadv(blk->fd, iov, nr, (off_t)pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		pos += (uint64_t)n;
		while (nr > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			nr--;
		}
		if (nr > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Data requests: IN reads the image into the guest, OUT writes it. */
static uint8_t blk_req_rw(struct virtio_blk *blk, const struct virtq_chain *c,
			  uint32_t type, uint64_t sector, uint32_t *written)
{
	bool out = type == VIRTIO_BLK_T_OUT;
	uint64_t len = out ? c->out_len - BLK_HDR_SIZE : c->in_len - 1;
	uint64_t nsect = len / VIRTIO_BLK_SECTOR_SIZE;
	int nr;

	if (out && blk->ro)
		return VIRTIO_BLK_S_IOERR;
	if (len % VIRTIO_BLK_SECTOR_SIZE || sector > blk->capacity ||
	    nsect > blk->capacity - sector) {
		log_rl(LOG_WARN, MOD,
		       "%s: request outside the disk: sector %llu + %llu bytes",
		       blk->vdev.name, (unsigned long long)sector,
		       (unsigned long long)len);
		return VIRTIO_BLK_S_IOERR;
	}
	if (!len)
		return VIRTIO_BLK_S_OK;
	nr = blk_build_iov(blk, c, !out, out ? BLK_HDR_SIZE : 0, len);
	if (nr < 0 || nr > VIRTIO_BLK_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	if (blk_rw(blk, nr, sector * VIRTIO_BLK_SECTOR_SIZE, out) < 0) {
		log_rl(LOG_WARN, MOD, "%s: I/O error at sector %llu",
		       blk->vdev.name, (unsigned long long)sector);
		return VIRTIO_BLK_S_IOERR;
	}
	if (!out)
		*written = (uint32_t)len;
	return VIRTIO_BLK_S_OK;
}

/* One request; returns the bytes written into the chain (status included). */
static uint32_t blk_handle(struct virtio_blk *blk, const struct virtq_chain *c)
{
	uint8_t hdr[BLK_HDR_SIZE], st = VIRTIO_BLK_S_OK;
	uint32_t type, written = 0;
	uint64_t sector;

	/* Header and status always exist; the checks in the caller made sure. */
	virtq_chain_read(c, 0, hdr, sizeof(hdr));
	type = (uint32_t)le_get(hdr, 4);
	sector = le_get(hdr + 8, 8);
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		st = blk_req_rw(blk, c, type, sector, &written);
		if (type == VIRTIO_BLK_T_IN)
			blk->counters.reads++;
		else
			blk->counters.writes++;
		break;
	case VIRTIO_BLK_T_FLUSH:
		blk->counters.flushes++;
		if (!blk->ro && fdatasync(blk->fd) < 0)
			st = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		uint64_t n = c->in_len - 1;

		blk->counters.get_ids++;
		if (n > VIRTIO_BLK_ID_BYTES)
			n = VIRTIO_BLK_ID_BYTES;
		virtq_chain_write(c, 0, blk->id, n);
		written = (uint32_t)n;
		break;
	}
	default:
		blk->counters.unsupp++;
		st = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (st == VIRTIO_BLK_S_IOERR)
		blk->counters.errors++;
	virtq_chain_write(c, c->in_len - 1, &st, 1);
	return written + 1;
}

/* Lock held. Sets *more when the budget ran out with work left. */
static int blk_process_locked(struct virtio_blk *blk, bool *more)
{
	struct virtio_dev *vdev = &blk->vdev;
	struct virtq *vq = &vdev->vqs[0];
	struct virtq_chain c = {
		.segs = blk->segs,
		.max_segs = VIRTIO_BLK_QUEUE_SIZE,
	};
	unsigned int budget;
	int done = 0, ret = 0;

	if (!virtio_dev_running(vdev))
		return 0;
	virtq_disable_notify(vq);
	/* One batch, bounded by the queue size; the caller gives the lock
	 * back before the next, so a reset never waits for more than that. */
	for (budget = vq->size; budget; budget--) {
		ret = virtq_pop(vq, &c);
		if (ret <= 0)
			break;
		if (c.out_len < BLK_HDR_SIZE || c.in_len < 1) {
			log_rl(LOG_WARN, MOD,
			       "%s: request without header or status",
			       vdev->name);
			virtio_dev_set_needs_reset(vdev);
			return -EIO;
		}
		virtq_push(vq, c.head, blk_handle(blk, &c));
		done++;
	}
	virtio_dev_queue_done(vdev, 0);
	if (ret < 0)
		return -EIO;
	/* Kicks back on; chains that came meanwhile make another batch. */
	if (!budget || virtq_enable_notify(vq))
		*more = true;
	return done;
}

int virtio_blk_process(struct virtio_blk *blk)
{
	int ret, total = 0;
	bool more;

	do {
		more = false;
		pthread_mutex_lock(&blk->vdev.lock);
		ret = blk_process_locked(blk, &more);
		pthread_mutex_unlock(&blk->vdev.lock);
		if (ret < 0)
			return ret;
		total += ret;
	} while (more);
	return total;
}

static int blk_round(void *arg)
{
	virtio_blk_process(arg);
	return 0;
}

static const struct virtio_io_thread_ops blk_io_ops = {
	.round = blk_round,
};

static void blk_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_blk *blk = to_blk(vdev);

	if (q != 0 || virtio_io_thread_kick(&blk->io, 0))
		return;
	virtio_blk_process(blk);
}

static void blk_destroy(struct virtio_dev *vdev)
{
	virtio_blk_close(to_blk(vdev));
}

static const struct virtio_dev_ops blk_ops = {
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
	.destroy = blk_destroy,
};

static int blk_size(int fd, uint64_t *bytes)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

struct virtio_blk *virtio_blk_open(const struct guest_mem *gm,
				   const char *path, bool ro, int *err)
{
	uint64_t features = (1ull << VIRTIO_BLK_F_SIZE_MAX) |
			    (1ull << VIRTIO_BLK_F_SEG_MAX) |
			    (1ull << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ull << VIRTIO_BLK_F_FLUSH) |
			    (1ull << VIRTIO_F_INDIRECT_DESC) |
			    (1ull << VIRTIO_F_EVENT_IDX);
	struct virtio_blk *blk;
	const char *base;
	uint64_t bytes;
	int ret;

	blk = calloc(1, sizeof(*blk));
	if (!blk) {
		ret = -ENOMEM;
		goto fail;
	}
	blk->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (blk->fd < 0) {
		ret = -errno;
		goto free_blk;
	}
	ret = blk_size(blk->fd, &bytes);
	if (ret)
		goto close_fd;
	blk->ro = ro;
	blk->capacity = bytes / VIRTIO_BLK_SECTOR_SIZE;
	if (ro)
		features |= 1ull << VIRTIO_BLK_F_RO;
	/* The serial the guest sees in /sys/block/vdX/serial. */
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	memcpy(blk->id, base, strnlen(base, sizeof(blk->id)));
	ret = virtio_io_thread_init(&blk->io, &blk->vdev, &blk_io_ops, blk);
	if (ret)
		goto close_fd;
	snprintf(blk->name, sizeof(blk->name), "virtio-blk%u",
		 __atomic_fetch_add(&blk_count, 1, __ATOMIC_RELAXED));
	ret = virtio_dev_init(&blk->vdev, blk->name, VIRTIO_ID_BLOCK,
			      features, 1, VIRTIO_BLK_QUEUE_SIZE,
			      VIRTIO_BLK_CONFIG_SIZE, gm, &blk_ops, blk);
	if (ret)
		goto close_stop;
	return blk;

close_stop:
	virtio_io_thread_destroy(&blk->io);
close_fd:
	close(blk->fd);
free_blk:
	free(blk);
fail:
	if (err)
		*err = ret;
	return NULL;
}

struct virtio_dev *virtio_blk_vdev(struct virtio_blk *blk)
{
	return &blk->vdev;
}

uint64_t virtio_blk_capacity(const struct virtio_blk *blk)
{
	return blk->capacity;
}

int virtio_blk_start(struct virtio_blk *blk)
{
	return virtio_io_thread_start(&blk->io);
}

void virtio_blk_close(struct virtio_blk *blk)
{
	if (!blk)
		return;
	virtio_io_thread_destroy(&blk->io);
	virtio_dev_destroy(&blk->vdev);
	close(blk->fd);
	free(blk);
}

int virtio_blk_create(struct vm *vm, const char *path, bool ro)
{
	struct virtio_blk *blk;
	int ret = 0;

	if (!vm->pci)
		return -EINVAL;
	blk = virtio_blk_open(&vm->mem, path, ro, &ret);
	if (!blk)
		return ret;
	/* Without KVM nothing signals ioeventfds: process inline. */
	if (vm->vm_fd >= 0) {
		ret = virtio_blk_start(blk);
		if (ret)
			goto close;
	}
	ret = virtio_pci_create(vm->pci, &blk->vdev, NULL);
	if (ret)
		goto close;
	return 0;

close:
	virtio_blk_close(blk);
	return ret;
}

/* The disk row of the device table: --disk IMG[,ro], repeatable. */
struct virtio_blk_opt {
	bool ro;
	char path[];
};

static int virtio_blk_row_parse(const char *arg, const struct vmm_config *cfg,
				unsigned int index, void **opt, char *err,
				size_t errlen)
{
	struct virtio_blk_opt *o;
	size_t n = strlen(arg);
	bool ro = false;

	(void)cfg;
	(void)index;
	if (n > 3 && !strcmp(arg + n - 3, ",ro")) {
		n -= 3;
		ro = true;
	}
	if (!n || n >= 4096) {
		snprintf(err, errlen, "want a path (and ,ro)");
		return -EINVAL;
	}
	o = malloc(sizeof(*o) + n + 1);
	if (!o)
		return -ENOMEM;
	o->ro = ro;
	memcpy(o->path, arg, n);
	o->path[n] = '\0';
	*opt = o;
	return 0;
}

static int virtio_blk_row_create(struct vm *vm, void *opt)
{
	struct virtio_blk_opt *o = opt;

	return virtio_blk_create(vm, o->path, o->ro);
}

const struct vmm_device virtio_blk_device = {
	.name = "disk",
	.short_opt = 'd',
	.arg = "IMG[,ro]",
	.help = "raw image as a virtio-blk disk (repeatable)\n",
	.max = VIRTIO_BLK_MAX_DISKS,
	.parse = virtio_blk_row_parse,
	.create = virtio_blk_row_create,
};
