/* SPDX-License-Identifier: MIT */
/* blk.h - virtio-blk on a raw image file. */
#ifndef LOOM_VMM_VIRTIO_BLK_H
#define LOOM_VMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"
#include "vmm/virtio/virtio.h"

/*
 * One request queue of VIRTIO_BLK_QUEUE_SIZE entries. A request is
 *   readable:  le32 type, le32 reserved, le64 sector  [+ data for OUT]
 *   writable:  [data for IN / GET_ID]  u8 status
 * Data moves with preadv/pwritev straight between the image and the
 * guest's buffers (no bounce copy). Requests run in the device's I/O thread
 * (see docs/virtio.md), or inline in the notifying thread when no thread
 * was started (unit tests, fuzzers).
 *
 * Checks: header and status present (else the device needs reset: the
 * driver broke the protocol); data length a multiple of 512; sector range
 * inside the capacity, overflow-safe (else IOERR); data segments at most
 * seg_max, each at most size_max bytes (else IOERR); OUT on a read-only
 * disk is IOERR; unknown types are UNSUPP.
 */

enum {
	VIRTIO_BLK_QUEUE_SIZE = 256,
	VIRTIO_BLK_SECTOR_SIZE = 512,
	VIRTIO_BLK_SIZE_MAX = 1 << 20,
	/* Data segments per request: the chain also holds header + status. */
	VIRTIO_BLK_SEG_MAX = VIRTIO_BLK_QUEUE_SIZE - 2,
	VIRTIO_BLK_ID_BYTES = 20,
	VIRTIO_BLK_CONFIG_SIZE = 36,
};

enum virtio_blk_feature {
	VIRTIO_BLK_F_SIZE_MAX = 1,
	VIRTIO_BLK_F_SEG_MAX = 2,
	VIRTIO_BLK_F_RO = 5,
	VIRTIO_BLK_F_BLK_SIZE = 6,
	VIRTIO_BLK_F_FLUSH = 9,
};

enum virtio_blk_req_type {
	VIRTIO_BLK_T_IN = 0,
	VIRTIO_BLK_T_OUT = 1,
	VIRTIO_BLK_T_FLUSH = 4,
	VIRTIO_BLK_T_GET_ID = 8,
};

enum virtio_blk_status {
	VIRTIO_BLK_S_OK = 0,
	VIRTIO_BLK_S_IOERR = 1,
	VIRTIO_BLK_S_UNSUPP = 2,
};

struct vm;
struct virtio_blk;
struct vmm_device;

/**
 * virtio_blk_open() - the device model on an image, without a transport.
 * @gm: guest memory.
 * @path: raw image file or block device.
 * @ro: open read-only and offer VIRTIO_BLK_F_RO.
 * @err: set to a negative errno on failure (may be NULL).
 *
 * Return: the device, or NULL.
 */
struct virtio_blk *virtio_blk_open(const struct guest_mem *gm,
				   const char *path, bool ro, int *err);

/**
 * virtio_blk_vdev() - the generic virtio device inside.
 * @blk: the device.
 *
 * Return: its struct virtio_dev, to hand to a transport.
 */
struct virtio_dev *virtio_blk_vdev(struct virtio_blk *blk);

/**
 * virtio_blk_start() - process requests in an I/O thread from now on.
 * @blk: the device.
 *
 * Return: 0 or negative errno.
 */
int virtio_blk_start(struct virtio_blk *blk);

/**
 * virtio_blk_close() - stop the thread, close the image, free the device.
 * @blk: the device (NULL is fine).
 */
void virtio_blk_close(struct virtio_blk *blk);

/**
 * virtio_blk_capacity() - size of the disk in 512-byte sectors.
 * @blk: the device.
 *
 * Return: the capacity.
 */
uint64_t virtio_blk_capacity(const struct virtio_blk *blk);

/**
 * virtio_blk_process() - handle every pending request of the queue.
 * @blk: the device.
 *
 * Takes the device lock. What the I/O thread runs after a kick; exposed for
 * tests.
 *
 * Return: requests completed, or negative errno if the queue broke.
 */
int virtio_blk_process(struct virtio_blk *blk);

/**
 * virtio_blk_create() - `--disk IMG`: a virtio-blk PCI device on the VM's bus.
 * @vm: the VM, with vm->pci set up (before vCPUs run).
 * @path: raw image.
 * @ro: read-only.
 *
 * Opens the image, plugs a virtio-pci device into the next free slot and
 * starts its I/O thread (only with KVM; a KVM-less VM processes inline).
 * The bus owns it from then on: pci_bus_destroy() frees it.
 *
 * Return: 0 or negative errno.
 */
int virtio_blk_create(struct vm *vm, const char *path, bool ro);

/* The device table's row (vmm/device.c): --disk, at most this often. */
enum { VIRTIO_BLK_MAX_DISKS = 8 };
extern const struct vmm_device virtio_blk_device;

#endif
