/* SPDX-License-Identifier: MIT */
/* vhost_net.c - hand a virtio-net device's RX/TX queues to /dev/vhost-net: the kernel moves the frames. */
#include "vmm/virtio/vhost_net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"

LOG_MODULE("vhost-net");

/*
 * What the kernel takes over: the two queues' rings (their host addresses
 * in our mapping of guest RAM, the memory table says where guest RAM is),
 * the kick eventfds KVM signals on the notify address (KVM_IOEVENTFD,
 * registered by the transport), and an eventfd per queue the kernel
 * signals for an interrupt: the transport's MSI-X irqfd (KVM_IRQFD on the
 * vector's route), or, without MSI-X, an eventfd of ours that the device's
 * thread relays (vhost_net_relay). The TAP's own vnet header (12 bytes,
 * TUNSETVNETHDRSZ) is the guest's: VHOST_NET_F_VIRTIO_NET_HDR stays off.
 */

enum { VIRTIO_NET_F_MRG_RXBUF_BIT = 15 };

/* Ring features the kernel implements and we pass on from the driver. */
#define VHOST_NET_RING_FEATURES                                              \
	(1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX |      \
	 1ull << VIRTIO_RING_F_INDIRECT_DESC | 1ull << VIRTIO_NET_F_MRG_RXBUF_BIT)

struct vhost_net {
	int fd;
	uint64_t features; /* what the kernel offers */
	bool started;
	int tap_fd; /* the backend set now, -1 none */
	struct virtio_dev *vdev;
	int relay_fd[VHOST_NET_QUEUES]; /* call fds of ours, -1: irqfd used */
};

int vhost_net_open(struct vhost_net **out, const char *dev_name)
{
	struct vhost_net *vh = calloc(1, sizeof(*vh));
	int ret;

	if (!vh)
		return -ENOMEM;
	vh->tap_fd = -1;
	for (int q = 0; q < VHOST_NET_QUEUES; q++)
		vh->relay_fd[q] = -1;
	vh->fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (vh->fd < 0) {
		ret = -errno;
		goto free_vh;
	}
	if (ioctl(vh->fd, VHOST_SET_OWNER, NULL) < 0 ||
	    ioctl(vh->fd, VHOST_GET_FEATURES, &vh->features) < 0) {
		ret = -errno;
		log_warn(MOD, "%s: /dev/vhost-net: %s", dev_name,
			 strerror(errno));
		goto close_fd;
	}
	*out = vh;
	return 0;

close_fd:
	close(vh->fd);
free_vh:
	free(vh);
	return ret;
}

static int vhost_mem_table(struct vhost_net *vh, const struct guest_mem *gm)
{
	struct vhost_memory *m;
	int ret = 0;

	m = calloc(1, sizeof(*m) + gm->nr * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = gm->nr;
	for (unsigned int i = 0; i < gm->nr; i++) {
		m->regions[i].guest_phys_addr = gm->regions[i].gpa;
		m->regions[i].memory_size = gm->regions[i].size;
		m->regions[i].userspace_addr =
			(uint64_t)(uintptr_t)gm->regions[i].host;
	}
	if (ioctl(vh->fd, VHOST_SET_MEM_TABLE, m) < 0)
		ret = -errno;
	free(m);
	return ret;
}

/* The interrupt eventfd of queue @q: the MSI-X irqfd, else our relay. */
static int vhost_call_fd(struct vhost_net *vh, unsigned int q)
{
	struct virtio_dev *vdev = vh->vdev;
	int fd = -1;

	if (vdev->tops && vdev->tops->queue_irqfd)
		fd = vdev->tops->queue_irqfd(vdev, q);
	if (fd >= 0)
		return fd;
	if (vh->relay_fd[q] < 0)
		vh->relay_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return vh->relay_fd[q];
}

static int vhost_vring(struct vhost_net *vh, unsigned int q)
{
	struct virtq *vq = &vh->vdev->vqs[q];
	struct vhost_vring_state num = { .index = q, .num = vq->size };
	struct vhost_vring_state base = { .index = q, .num = vq->last_avail };
	struct vhost_vring_addr addr = {
		.index = q,
		.desc_user_addr = (uint64_t)(uintptr_t)vq->desc,
		.avail_user_addr = (uint64_t)(uintptr_t)vq->avail,
		.used_user_addr = (uint64_t)(uintptr_t)vq->used,
	};
	struct vhost_vring_file kick = { .index = q,
					 .fd = vh->vdev->kick_fd[q] };
	struct vhost_vring_file call = { .index = q,
					 .fd = vhost_call_fd(vh, q) };

	if (!vq->enabled || !vq->desc || call.fd < 0)
		return -EINVAL;
	if (ioctl(vh->fd, VHOST_SET_VRING_NUM, &num) < 0 ||
	    ioctl(vh->fd, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(vh->fd, VHOST_SET_VRING_ADDR, &addr) < 0 ||
	    ioctl(vh->fd, VHOST_SET_VRING_KICK, &kick) < 0 ||
	    ioctl(vh->fd, VHOST_SET_VRING_CALL, &call) < 0)
		return -errno;
	return 0;
}

int vhost_net_set_backend(struct vhost_net *vh, int tap_fd)
{
	if (!vh->started || tap_fd == vh->tap_fd)
		return 0;
	for (unsigned int q = 0; q < VHOST_NET_QUEUES; q++) {
		struct vhost_vring_file b = { .index = q, .fd = tap_fd };

		if (ioctl(vh->fd, VHOST_NET_SET_BACKEND, &b) < 0)
			return -errno;
	}
	vh->tap_fd = tap_fd;
	return 0;
}

int vhost_net_start(struct vhost_net *vh, struct virtio_dev *vdev,
		    int tap_fd)
{
	uint64_t f;
	int ret;

	if (vh->started)
		return 0;
	vh->vdev = vdev;
	f = vdev->driver_features & vh->features & VHOST_NET_RING_FEATURES;
	if (ioctl(vh->fd, VHOST_SET_FEATURES, &f) < 0)
		return -errno;
	ret = vhost_mem_table(vh, vdev->gm);
	for (unsigned int q = 0; !ret && q < VHOST_NET_QUEUES; q++)
		ret = vhost_vring(vh, q);
	if (ret) {
		log_warn(MOD, "%s: cannot hand the queues over: %s", vdev->name,
			 strerror(-ret));
		return ret;
	}
	vh->started = true;
	vh->tap_fd = -1;
	ret = tap_fd >= 0 ? vhost_net_set_backend(vh, tap_fd) : 0;
	if (ret) {
		vhost_net_stop(vh);
		return ret;
	}
	log_info(MOD, "%s: RX/TX queues on vhost-net (features %#llx, %s)",
		 vdev->name, (unsigned long long)f,
		 vh->relay_fd[0] < 0 ? "MSI-X irqfd" : "interrupts relayed");
	return 0;
}

void vhost_net_stop(struct vhost_net *vh)
{
	if (!vh || !vh->started)
		return;
	for (unsigned int q = 0; q < VHOST_NET_QUEUES; q++) {
		struct vhost_vring_file b = { .index = q, .fd = -1 };
		struct vhost_vring_state base = { .index = q };
		struct virtq *vq = &vh->vdev->vqs[q];

		ioctl(vh->fd, VHOST_NET_SET_BACKEND, &b);
		/* Stops the ring; where the kernel got to comes back. */
		if (ioctl(vh->fd, VHOST_GET_VRING_BASE, &base) == 0)
			vq->last_avail = (uint16_t)base.num;
	}
	vh->tap_fd = -1;
	vh->started = false;
}

bool vhost_net_started(const struct vhost_net *vh)
{
	return vh && vh->started;
}

int vhost_net_relay_fd(const struct vhost_net *vh, unsigned int q)
{
	return vh && q < VHOST_NET_QUEUES ? vh->relay_fd[q] : -1;
}

void vhost_net_relay(struct vhost_net *vh)
{
	uint64_t v;

	if (!vh || !vh->started || !vh->vdev->tops ||
	    !vh->vdev->tops->queue_irq)
		return;
	for (unsigned int q = 0; q < VHOST_NET_QUEUES; q++)
		if (vh->relay_fd[q] >= 0 &&
		    read(vh->relay_fd[q], &v, sizeof(v)) == sizeof(v))
			vh->vdev->tops->queue_irq(vh->vdev, q);
}

void vhost_net_close(struct vhost_net *vh)
{
	if (!vh)
		return;
	vhost_net_stop(vh);
	close(vh->fd);
	for (int q = 0; q < VHOST_NET_QUEUES; q++)
		if (vh->relay_fd[q] >= 0)
			close(vh->relay_fd[q]);
	free(vh);
}
