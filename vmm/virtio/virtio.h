/* SPDX-License-Identifier: MIT */
/* virtio.h - a virtio device as its transport sees it: ops, status, queues. */
#ifndef LOOM_VMM_VIRTIO_VIRTIO_H
#define LOOM_VMM_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"
#include "vmm/virtio/virtq.h"

/*
 * A virtio device (blk, net, ...) is a struct virtio_dev plus a
 * const struct virtio_dev_ops. The transport (vmm/virtio/pci.c) owns the
 * driver-facing registers: features, status, queue set-up, interrupts. The
 * device only supplies its feature bits, its config space and what to do
 * when a queue is kicked; it pops chains from vdev->vqs[] with virtq_pop()
 * and returns them with virtq_push() + virtio_dev_queue_done().
 *
 * Lifecycle, as the driver drives it through the transport:
 *   reset (status 0) -> ACKNOWLEDGE -> DRIVER -> features written ->
 *   FEATURES_OK (the transport checks them) -> queues set up and enabled
 *   (each checked by virtq_enable()) -> DRIVER_OK (ops->driver_ok) ->
 *   kicks (ops->queue_notify, or the device's kick eventfds) -> ...
 *   -> status 0 (ops->reset).
 *
 * Error state: when the driver breaks a rule (a virtqueue violation, a
 * status bit cleared, DRIVER_OK without FEATURES_OK, a ring outside RAM...)
 * virtio_dev_set_needs_reset() sets DEVICE_NEEDS_RESET in the status and
 * raises a configuration interrupt if the driver is running. The device's
 * queues stop; only a reset (status 0) recovers. The VMM keeps running.
 *
 * Locking: vdev->lock protects status, features and queue state. The
 * transport holds it for every register access except queue notifications;
 * a device holds it while it walks its queues (so a reset waits for the
 * batch in progress). ops->reset, ops->driver_ok, ops->config_read and
 * ops->config_write are called with it held; ops->queue_notify without.
 */

enum virtio_status {
	VIRTIO_STATUS_ACKNOWLEDGE = 1,
	VIRTIO_STATUS_DRIVER = 2,
	VIRTIO_STATUS_DRIVER_OK = 4,
	VIRTIO_STATUS_FEATURES_OK = 8,
	VIRTIO_STATUS_NEEDS_RESET = 64,
	VIRTIO_STATUS_FAILED = 128,
};

/* Feature bits the transport knows (virtio 1.2, 6). */
enum virtio_feature {
	VIRTIO_F_INDIRECT_DESC = 28,
	VIRTIO_F_EVENT_IDX = 29,
	VIRTIO_F_VERSION_1 = 32,
};

enum virtio_device_id {
	VIRTIO_ID_NET = 1,
	VIRTIO_ID_BLOCK = 2,
};

enum {
	VIRTIO_MAX_QUEUES = 16,
	VIRTIO_MSI_NO_VECTOR = 0xffff,
	VIRTIO_CONFIG_MAX = 0x100,	/* device config bytes a transport maps */
};

struct virtio_dev;

/**
 * struct virtio_dev_ops - what a virtio device provides.
 * @config_read: read @len bytes at @off of the device config space into
 *	@data. The transport has checked off + len <= vdev->config_size.
 *	Lock held. Required.
 * @config_write: a driver write to the device config space (already bounds
 *	checked); most fields are read-only, ignore those. Lock held. May be
 *	NULL (all writes ignored).
 * @queue_notify: the driver kicked queue @q (< nr_queues) by an MMIO write
 *	the VMM trapped. Called from a vCPU thread without the lock; a device
 *	with an I/O thread signals vdev->kick_fd[q] (the same eventfd KVM's
 *	ioeventfd signals when available), a device without one processes the
 *	queue here, taking the lock. Required.
 * @driver_ok: the driver set DRIVER_OK; queues are enabled and checked.
 *	Start backends here. Return 0 or negative errno (the device then
 *	enters the error state). Lock held. May be NULL.
 * @reset: the driver wrote status 0 (or the VMM resets the device): stop
 *	using the queues and drop in-flight requests; the transport resets
 *	the queues and features afterwards. Lock held. May be NULL.
 * @destroy: the transport is being torn down (pci_bus_destroy()): stop
 *	threads, free the device. Called once, without the lock; after it
 *	returns @vdev must not be used. May be NULL.
 */
struct virtio_dev_ops {
	void (*config_read)(struct virtio_dev *vdev, uint32_t off,
			    uint8_t *data, uint32_t len);
	void (*config_write)(struct virtio_dev *vdev, uint32_t off,
			     const uint8_t *data, uint32_t len);
	void (*queue_notify)(struct virtio_dev *vdev, unsigned int q);
	int (*driver_ok)(struct virtio_dev *vdev);
	void (*reset)(struct virtio_dev *vdev);
	void (*destroy)(struct virtio_dev *vdev);
};

/**
 * struct virtio_transport_ops - how a device reaches the driver.
 * @queue_irq: interrupt the driver for queue @q (MSI-X vector or INTx+ISR).
 * @config_irq: configuration-change interrupt.
 * @queue_irqfd: an eventfd whose signal interrupts the driver for queue
 *	@q without the VMM (KVM irqfd on its MSI-X route), for a kernel
 *	worker (vhost); -1 when there is none (no MSI-X, no KVM). May be NULL.
 * All may be called from any thread, lock held.
 */
struct virtio_transport_ops {
	void (*queue_irq)(struct virtio_dev *vdev, unsigned int q);
	void (*config_irq)(struct virtio_dev *vdev);
	int (*queue_irqfd)(struct virtio_dev *vdev, unsigned int q);
};

/**
 * struct virtio_dev - one virtio device.
 * @name: for logs, e.g. "virtio-blk0".
 * @device_id: enum virtio_device_id.
 * @features: features the device offers (VERSION_1 is added by
 *	virtio_dev_init(); the device adds INDIRECT_DESC / EVENT_IDX if it
 *	wants them, they are handled by virtq.c).
 * @driver_features: what the driver wrote (effective after FEATURES_OK).
 * @status: device status (enum virtio_status bits).
 * @config_gen: configuration generation, bumped on every config change.
 * @config_size: bytes of device config space (<= VIRTIO_CONFIG_MAX).
 * @nr_queues: queues in @vqs (<= VIRTIO_MAX_QUEUES).
 * @vqs: the queues.
 * @kick_fd: one eventfd per queue (non-blocking), signalled on a kick by
 *	KVM's ioeventfd or by the transport's trap path.
 * @gm: guest memory.
 * @ops: the device's ops.
 * @priv: the device's own state.
 * @tops: the transport's ops (set by the transport).
 * @transport: the transport's state.
 * @lock: see above.
 * @kick_by_fd: the device waits on @kick_fd (I/O thread): the transport
 *	then registers them as ioeventfds so kicks do not exit to userspace.
 * @errors: times the device entered the error state.
 */
struct virtio_dev {
	const char *name;
	uint16_t device_id;
	uint64_t features;
	uint64_t driver_features;
	uint8_t status;
	uint8_t config_gen;
	uint32_t config_size;
	unsigned int nr_queues;
	struct virtq vqs[VIRTIO_MAX_QUEUES];
	int kick_fd[VIRTIO_MAX_QUEUES];
	const struct guest_mem *gm;
	const struct virtio_dev_ops *ops;
	void *priv;
	const struct virtio_transport_ops *tops;
	void *transport;
	pthread_mutex_t lock;
	bool kick_by_fd;
	uint64_t errors;
};

/**
 * virtio_dev_init() - set up the generic part of a device.
 * @vdev: the device (zeroed by the caller or not; all fields are set).
 * @name: for logs (kept).
 * @device_id: enum virtio_device_id.
 * @features: device features (VERSION_1 added).
 * @nr_queues: 1..VIRTIO_MAX_QUEUES.
 * @queue_max: maximum size of each queue (power of two <= 32768).
 * @config_size: device config bytes (<= VIRTIO_CONFIG_MAX).
 * @gm: guest memory.
 * @ops: device ops.
 * @priv: device state.
 *
 * Creates the kick eventfds.
 *
 * Return: 0 or negative errno.
 */
int virtio_dev_init(struct virtio_dev *vdev, const char *name,
		    uint16_t device_id, uint64_t features,
		    unsigned int nr_queues, uint16_t queue_max,
		    uint32_t config_size, const struct guest_mem *gm,
		    const struct virtio_dev_ops *ops, void *priv);

/**
 * virtio_dev_destroy() - close the kick eventfds and the lock.
 * @vdev: the device.
 */
void virtio_dev_destroy(struct virtio_dev *vdev);

/**
 * virtio_dev_reset() - device reset: ops->reset, queues and features
 * cleared, status 0. Lock held.
 * @vdev: the device.
 */
void virtio_dev_reset(struct virtio_dev *vdev);

/**
 * virtio_dev_set_status() - the driver wrote the status register.
 * @vdev: the device.
 * @status: the value written.
 *
 * Applies the state machine: 0 resets; bits may only be added; FEATURES_OK
 * only with VERSION_1 and no bit the device did not offer (else it is not
 * set and the driver sees that); DRIVER_OK only after FEATURES_OK. Breaking
 * an order rule puts the device in the error state. Lock held.
 */
void virtio_dev_set_status(struct virtio_dev *vdev, uint8_t status);

/**
 * virtio_dev_queue_enable() - the driver enabled queue @q: check its rings.
 * @vdev: the device.
 * @q: queue index (< nr_queues).
 *
 * Lock held. A bad ring puts the device in the error state.
 *
 * Return: 0 or negative errno.
 */
int virtio_dev_queue_enable(struct virtio_dev *vdev, unsigned int q);

/**
 * virtio_dev_set_needs_reset() - enter the error state (see above).
 * @vdev: the device. Lock held.
 */
void virtio_dev_set_needs_reset(struct virtio_dev *vdev);

/**
 * virtio_dev_queue_done() - after a batch of virtq_push() on queue @q:
 * interrupt the driver if it asked for it.
 * @vdev: the device.
 * @q: the queue. Lock held.
 */
void virtio_dev_queue_done(struct virtio_dev *vdev, unsigned int q);

/**
 * virtio_dev_config_changed() - device config changed: bump the generation
 * and raise a config interrupt if the driver is running.
 * @vdev: the device. Lock held.
 */
void virtio_dev_config_changed(struct virtio_dev *vdev);

/**
 * virtio_dev_running() - DRIVER_OK set and not in the error state.
 * @vdev: the device.
 *
 * Return: true if the device should process its queues.
 */
bool virtio_dev_running(const struct virtio_dev *vdev);

/**
 * virtio_dev_has_feature() - a negotiated feature.
 * @vdev: the device.
 * @bit: feature bit number.
 *
 * Return: true if offered, accepted and FEATURES_OK is set.
 */
bool virtio_dev_has_feature(const struct virtio_dev *vdev, unsigned int bit);

#endif
