/* SPDX-License-Identifier: MIT */
/* virtio.c - transport-independent virtio device state: status, features. */
#include "vmm/virtio/virtio.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

LOG_MODULE("virtio");

static void virtio_dev_vq_error(struct virtq *vq, void *opaque)
{
	struct virtio_dev *vdev = opaque;

	(void)vq;
	virtio_dev_set_needs_reset(vdev);
}

int virtio_dev_init(struct virtio_dev *vdev, const char *name,
		    uint16_t device_id, uint64_t features,
		    unsigned int nr_queues, uint16_t queue_max,
		    uint32_t config_size, const struct guest_mem *gm,
		    const struct virtio_dev_ops *ops, void *priv)
{
	unsigned int q;
	int ret;

	memset(vdev, 0, sizeof(*vdev));
	for (q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vdev->kick_fd[q] = -1;
	if (!nr_queues || nr_queues > VIRTIO_MAX_QUEUES || !queue_max ||
	    (queue_max & (queue_max - 1)) || queue_max > VIRTQ_MAX_SIZE ||
	    config_size > VIRTIO_CONFIG_MAX || !ops || !ops->config_read ||
	    !ops->queue_notify)
		return -EINVAL;
	vdev->name = name;
	vdev->device_id = device_id;
	vdev->features = features | (1ull << VIRTIO_F_VERSION_1);
	vdev->config_size = config_size;
	vdev->nr_queues = nr_queues;
	vdev->gm = gm;
	vdev->ops = ops;
	vdev->priv = priv;
	ret = pthread_mutex_init(&vdev->lock, NULL);
	if (ret)
		return -ret;
	for (q = 0; q < nr_queues; q++) {
		virtq_init(&vdev->vqs[q], gm, q, queue_max, name);
		vdev->vqs[q].on_error = virtio_dev_vq_error;
		vdev->vqs[q].opaque = vdev;
		vdev->kick_fd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vdev->kick_fd[q] < 0) {
			ret = -errno;
			virtio_dev_destroy(vdev);
			return ret;
		}
	}
	return 0;
}

void virtio_dev_destroy(struct virtio_dev *vdev)
{
	unsigned int q;

	for (q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (vdev->kick_fd[q] >= 0)
			close(vdev->kick_fd[q]);
		vdev->kick_fd[q] = -1;
	}
	if (vdev->ops)
		pthread_mutex_destroy(&vdev->lock);
	vdev->ops = NULL;
}

void virtio_dev_reset(struct virtio_dev *vdev)
{
	unsigned int q;

	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	for (q = 0; q < vdev->nr_queues; q++)
		virtq_reset(&vdev->vqs[q]);
	vdev->driver_features = 0;
	vdev->status = 0;
}

bool virtio_dev_running(const struct virtio_dev *vdev)
{
	return (vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
}

bool virtio_dev_has_feature(const struct virtio_dev *vdev, unsigned int bit)
{
	return bit < 64 && (vdev->status & VIRTIO_STATUS_FEATURES_OK) &&
	       (vdev->driver_features & (1ull << bit));
}

void virtio_dev_set_needs_reset(struct virtio_dev *vdev)
{
	unsigned int q;

	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vdev->errors++;
	log_rl(LOG_WARN, MOD,
	       "%s: driver error, device needs reset (status 0x%02x)",
	       vdev->name, vdev->status);
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* Stop every queue: the device state is no longer trustworthy. */
	for (q = 0; q < vdev->nr_queues; q++)
		vdev->vqs[q].enabled = false;
	if ((vdev->status & VIRTIO_STATUS_DRIVER_OK) && vdev->tops &&
	    vdev->tops->config_irq)
		vdev->tops->config_irq(vdev);
}

static bool virtio_dev_features_acceptable(const struct virtio_dev *vdev)
{
	uint64_t f = vdev->driver_features;

	if (f & ~vdev->features) {
		log_rl(LOG_WARN, MOD,
		       "%s: driver accepted unoffered features 0x%llx",
		       vdev->name, (unsigned long long)(f & ~vdev->features));
		return false;
	}
	if (!(f & (1ull << VIRTIO_F_VERSION_1))) {
		log_rl(LOG_WARN, MOD,
		       "%s: driver did not accept VERSION_1", vdev->name);
		return false;
	}
	return true;
}

void virtio_dev_set_status(struct virtio_dev *vdev, uint8_t status)
{
	uint8_t old = vdev->status, added;
	unsigned int q;

	if (!status) {
		virtio_dev_reset(vdev);
		return;
	}
	/* NEEDS_RESET is the device's bit; the driver cannot set or clear it. */
	status = (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) |
			   (old & VIRTIO_STATUS_NEEDS_RESET));
	if ((old & ~status) & ~VIRTIO_STATUS_NEEDS_RESET) {
		/* Clearing a bit other than by reset is not allowed. */
		virtio_dev_set_needs_reset(vdev);
		return;
	}
	added = status & ~old;
	if (!added)
		return;
	if (old & VIRTIO_STATUS_NEEDS_RESET) {
		/* Only FAILED is meaningful until the driver resets us. */
		vdev->status |= added & VIRTIO_STATUS_FAILED;
		return;
	}
	if ((added & VIRTIO_STATUS_FEATURES_OK) &&
	    (!(status & VIRTIO_STATUS_DRIVER) ||
	     !virtio_dev_features_acceptable(vdev))) {
		/* Not set: the driver reads the status back and gives up. */
		status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		added &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	if (added & VIRTIO_STATUS_FEATURES_OK) {
		for (q = 0; q < vdev->nr_queues; q++) {
			vdev->vqs[q].event_idx = vdev->driver_features &
						 (1ull << VIRTIO_F_EVENT_IDX);
			vdev->vqs[q].indirect = vdev->driver_features &
						(1ull << VIRTIO_F_INDIRECT_DESC);
		}
	}
	vdev->status = status;
	if (added & VIRTIO_STATUS_DRIVER_OK) {
		if (!(status & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_dev_set_needs_reset(vdev);
			return;
		}
		if (vdev->ops->driver_ok && vdev->ops->driver_ok(vdev) < 0)
			virtio_dev_set_needs_reset(vdev);
	}
}

int virtio_dev_queue_enable(struct virtio_dev *vdev, unsigned int q)
{
	int ret;

	if (q >= vdev->nr_queues)
		return -EINVAL;
	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return -EIO;
	if (!(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* Rings are only meaningful once features are settled. */
		virtio_dev_set_needs_reset(vdev);
		return -EINVAL;
	}
	ret = virtq_enable(&vdev->vqs[q]);
	/* On failure virtq_enable() broke the queue, which set NEEDS_RESET. */
	return ret;
}

void virtio_dev_queue_done(struct virtio_dev *vdev, unsigned int q)
{
	if (q >= vdev->nr_queues || !virtio_dev_running(vdev))
		return;
	if (virtq_should_notify(&vdev->vqs[q]) && vdev->tops &&
	    vdev->tops->queue_irq)
		vdev->tops->queue_irq(vdev, q);
}

void virtio_dev_config_changed(struct virtio_dev *vdev)
{
	vdev->config_gen++;
	if (virtio_dev_running(vdev) && vdev->tops && vdev->tops->config_irq)
		vdev->tops->config_irq(vdev);
}
