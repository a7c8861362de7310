/* SPDX-License-Identifier: MIT */
/* net.c - virtio-net: guest frames to and from a NIC backend. */
#include "vmm/virtio/net_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/net/nic.h"
#include "vmm/virtio/pci.h"
#include "vmm/virtio/vhost_net.h"
#include "vmm/vm.h"


/* Numbers the devices in log lines: virtio-net0, virtio-net1, ... */
static unsigned int net_count;

static struct virtio_net *to_net(struct virtio_dev *vdev)
{
	return vdev->priv;
}

static void net_config_read(struct virtio_dev *vdev, uint32_t off,
			    uint8_t *data, uint32_t len)
{
	struct virtio_net *n = to_net(vdev);
	uint8_t cfg[VIRTIO_NET_CONFIG_SIZE] = { 0 };

	memcpy(cfg, n->cfg.mac, 6);
	le_put(cfg + 6, nic_backend_link_up(n->nb) ? VIRTIO_NET_S_LINK_UP : 0,
	       2);
	le_put(cfg + 8, 1, 2); /* max_virtqueue_pairs */
	le_put(cfg + 10, n->mtu, 2);
	le_put(cfg + 12, 10000, 4); /* speed, Mbit/s (informational) */
	cfg[16] = 1;		    /* full duplex */
	memcpy(data, cfg + off, len);
}

/* ---------------------------------------------------------------------- */
/* Backend events, rounds, the I/O thread */

/* A spurious kick of RX and TX: vhost-net looks at the rings (harmless). */
static void net_vhost_kick(struct virtio_net *n)
{
	static const uint64_t one = 1;

	for (int q = 0; q < VHOST_NET_QUEUES; q++)
		if (write(n->vdev.kick_fd[q], &one, sizeof(one)) < 0)
			log_rl(LOG_WARN, MOD, "%s: kick: %s", n->name,
			       strerror(errno));
}

static void net_link_changed(void *opaque)
{
	struct virtio_net *n = opaque;

	/* Called from nic_backend_poll(), lock held: STATUS changed. */
	virtio_dev_config_changed(&n->vdev);
	/* The kernel worker follows the link: a new TAP after netd came
	 * back, none while down (the guest's TX waits in its ring). */
	if (vhost_net_started(n->vh)) {
		int fd = nic_backend_link_up(n->nb) ?
				 nic_backend_kernel_fd(n->nb) : -1;
		int ret = vhost_net_set_backend(n->vh, fd < 0 ? -1 : fd);

		if (ret)
			log_rl(LOG_WARN, MOD, "%s: vhost-net backend: %s",
			       n->name, strerror(-ret));
		else if (fd >= 0)
			net_vhost_kick(n); /* what the guest queued meanwhile */
	}
}

/* Lock held, the device's thread: give RX/TX to vhost-net if it can. */
static void net_vhost_start(struct virtio_net *n)
{
	int fd;

	n->vhost_pending = false;
	fd = nic_backend_kernel_fd(n->nb);
	if (fd < 0 && fd != -ENOTCONN)
		return;
	if (vhost_net_start(n->vh, &n->vdev, nic_backend_link_up(n->nb) &&
				fd >= 0 ? fd : -1)) {
		/* Said why. The kernel may hold some of the kick fds: closing
		 * /dev/vhost-net lets go of them all; the queues stay ours. */
		vhost_net_close(n->vh);
		n->vh = NULL;
		return;
	}
	nic_backend_set_datapath(n->nb, "vhost-net");
	/* Kicks this thread took before the hand-over: the kernel looks. */
	net_vhost_kick(n);
}

static const struct nic_backend_events net_events = {
	.link_changed = net_link_changed,
};

/* What the driver takes on RX, as enum nic_offload bits. */
static uint32_t net_rx_offload(const struct virtio_net *n)
{
	uint32_t bits = 0;

	if (!has(n, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	bits |= NIC_OFF_CSUM;
	if (has(n, VIRTIO_NET_F_GUEST_TSO4) && has(n, VIRTIO_NET_F_GUEST_TSO6))
		bits |= NIC_OFF_GSO_TCP;
	if (has(n, VIRTIO_NET_F_GUEST_ECN))
		bits |= NIC_OFF_GSO_ECN;
	return bits;
}

int virtio_net_process(struct virtio_net *n)
{
	int more = 0, ret;

	pthread_mutex_lock(&n->vdev.lock);
	nic_backend_poll(n->nb);
	if (!virtio_dev_running(&n->vdev))
		goto unlock;
	if (n->rx_offload_dirty) {
		n->rx_offload_dirty = false;
		nic_backend_set_rx_offload(n->nb, net_rx_offload(n));
	}
	if (n->vhost_pending)
		net_vhost_start(n);
	if (vhost_net_started(n->vh)) {
		vhost_net_relay(n->vh);
		more = net_ctrl_process(n);
		goto unlock;
	}
	ret = net_tx_process(n);
	if (ret >= 0) {
		more |= ret;
		ret = net_rx_process(n);
	}
	if (ret >= 0) {
		more |= ret;
		ret = net_ctrl_process(n);
	}
	if (ret >= 0)
		more |= ret;
	else
		more = -EIO;
unlock:
	pthread_mutex_unlock(&n->vdev.lock);
	return more;
}

/* The I/O thread waits on the queues that are still ours: vhost-net reads
 * the RX/TX kicks itself. */
static uint32_t net_io_queues(void *arg)
{
	struct virtio_net *n = arg;
	uint32_t all = (1u << VIRTIO_NET_NR_QUEUES) - 1;

	return vhost_net_started(n->vh) ? all & ~((1u << VHOST_NET_QUEUES) - 1) :
					  all;
}

/* The backend's notify fd, and (no MSI-X) vhost-net's interrupts to relay. */
static unsigned int net_io_fds(void *arg, int *fds)
{
	struct virtio_net *n = arg;
	unsigned int k = 0;

	fds[k++] = nic_backend_notify_fd(n->nb);
	for (unsigned int q = 0; q < VHOST_NET_QUEUES; q++)
		if (vhost_net_relay_fd(n->vh, q) >= 0)
			fds[k++] = vhost_net_relay_fd(n->vh, q);
	return k;
}

static int net_io_round(void *arg)
{
	return virtio_net_process(arg);
}

static const struct virtio_io_thread_ops net_io_ops = {
	.queues = net_io_queues,
	.extra_fds = net_io_fds,
	.round = net_io_round,
};

static void net_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_net *n = to_net(vdev);

	if (q >= VIRTIO_NET_NR_QUEUES || virtio_io_thread_kick(&n->io, q))
		return;
	/* Inline (no KVM): a few rounds, each bounded. */
	for (int i = 0; i < 4 && virtio_net_process(n) > 0; i++)
		;
}

static int net_driver_ok(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);
	uint64_t one = 1;

	/* The backend is the I/O thread's: it applies this next round. */
	n->rx_offload_dirty = true;
	n->vhost_pending = n->vh != NULL;

	/* Frames may have waited in the backend: look at them now. */
	if (n->io.on && write(vdev->kick_fd[VIRTIO_NET_Q_RX], &one,
				  sizeof(one)) < 0)
		return -errno;
	return 0;
}

/* Lock held (a vCPU thread): the rings go back to the transport. */
static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);
	static const uint64_t one = 1;

	n->vhost_pending = false;
	if (!vhost_net_started(n->vh))
		return;
	vhost_net_stop(n->vh);
	nic_backend_set_datapath(n->nb, "userspace");
	/* Wake the thread (it polls the control queue's kick) so that it
	 * watches the RX/TX kicks again. */
	if (write(vdev->kick_fd[VIRTIO_NET_Q_CTRL], &one, sizeof(one)) < 0)
		log_rl(LOG_WARN, MOD, "%s: kick: %s", n->name, strerror(errno));
}

static void net_destroy(struct virtio_dev *vdev)
{
	virtio_net_close(to_net(vdev));
}

static const struct virtio_dev_ops net_ops = {
	.config_read = net_config_read,
	.queue_notify = net_queue_notify,
	.driver_ok = net_driver_ok,
	.reset = net_reset,
	.destroy = net_destroy,
};

static uint64_t net_features(uint32_t caps)
{
	uint64_t f = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_MTU |
		     1ull << VIRTIO_NET_F_STATUS |
		     1ull << VIRTIO_NET_F_MRG_RXBUF |
		     1ull << VIRTIO_NET_F_CTRL_VQ |
		     1ull << VIRTIO_NET_F_CTRL_RX |
		     1ull << VIRTIO_F_EVENT_IDX |
		     1ull << VIRTIO_F_INDIRECT_DESC;

	if (!(caps & NIC_OFF_CSUM))
		return f;
	f |= 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM;
	if (!(caps & NIC_OFF_GSO_TCP))
		return f;
	f |= 1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 |
	     1ull << VIRTIO_NET_F_GUEST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO6;
	if (caps & NIC_OFF_GSO_ECN)
		f |= 1ull << VIRTIO_NET_F_HOST_ECN |
		     1ull << VIRTIO_NET_F_GUEST_ECN;
	return f;
}

struct virtio_net *virtio_net_open(const struct guest_mem *gm, struct vm *vm,
				   const struct nic_config *cfg,
				   const struct nic_backend_ops *ops, int *err)
{
	const uint32_t want = NIC_OFF_CSUM | NIC_OFF_GSO_TCP | NIC_OFF_GSO_ECN;
	struct virtio_net *n;
	int ret;

	n = calloc(1, sizeof(*n));
	if (!n) {
		ret = -ENOMEM;
		goto fail;
	}
	n->cfg = *cfg;
	n->mtu = VIRTIO_NET_MTU_DEFAULT;
	ret = virtio_io_thread_init(&n->io, &n->vdev, &net_io_ops, n);
	if (ret)
		goto free_n;
	ret = ops ? nic_backend_open_ops(&n->nb, ops, cfg, "virtio", want,
					 &net_events, n) :
		    nic_backend_open(&n->nb, vm, cfg, "virtio", want,
				     &net_events, n);
	if (ret)
		goto close_stop;
	snprintf(n->name, sizeof(n->name), "virtio-net%u",
		 __atomic_fetch_add(&net_count, 1, __ATOMIC_RELAXED));
	ret = virtio_dev_init(&n->vdev, n->name, VIRTIO_ID_NET,
			      net_features(nic_backend_caps(n->nb)),
			      VIRTIO_NET_NR_QUEUES, VIRTIO_NET_QUEUE_SIZE,
			      VIRTIO_NET_CONFIG_SIZE, gm, &net_ops, n);
	if (ret)
		goto close_nb;
	return n;

close_nb:
	nic_backend_close(n->nb);
close_stop:
	virtio_io_thread_destroy(&n->io);
free_n:
	free(n);
fail:
	if (err)
		*err = ret;
	return NULL;
}

struct virtio_dev *virtio_net_vdev(struct virtio_net *n)
{
	return &n->vdev;
}

struct nic_backend *virtio_net_backend(struct virtio_net *n)
{
	return n->nb;
}

const struct virtio_net_stats *virtio_net_stats(const struct virtio_net *n)
{
	return &n->st;
}

int virtio_net_start(struct virtio_net *n)
{
	return virtio_io_thread_start(&n->io);
}

void virtio_net_close(struct virtio_net *n)
{
	if (!n)
		return;
	virtio_io_thread_destroy(&n->io);
	vhost_net_close(n->vh);
	nic_list_remove(n->nb);
	nic_backend_close(n->nb);
	virtio_dev_destroy(&n->vdev);
	free(n);
}

/*
 * A backend with a kernel fd (netd's TAP or macvtap) and /dev/vhost-net:
 * the queues go to the kernel at DRIVER_OK. Without vhost-net the frames
 * go through this device's thread (said once per VMM).
 */
static void net_vhost_open(struct virtio_net *n)
{
	static bool told;
	int ret;

	if (nic_backend_kernel_fd(n->nb) == -EOPNOTSUPP)
		return;
	if (n->cfg.no_vhost) {
		log_info(MOD, "%s: vhost=off: frames through the VMM", n->name);
		return;
	}
	ret = vhost_net_open(&n->vh, n->name);
	if (!ret || told)
		return;
	told = true;
	log_info(MOD, "%s: no vhost-net (%s): virtio-net frames on a TAP go "
		 "through the VMM (userspace TAP I/O)", n->name,
		 ret == -ENOENT ? "/dev/vhost-net missing" : strerror(-ret));
}

int virtio_net_create(struct vm *vm, const struct nic_config *cfg)
{
	struct virtio_net *n;
	int ret = 0;

	if (!vm->pci)
		return -EINVAL;
	n = virtio_net_open(&vm->mem, vm, cfg, NULL, &ret);
	if (!n)
		return ret;
	/* Without KVM nothing signals ioeventfds: process inline. */
	if (vm->vm_fd >= 0) {
		net_vhost_open(n);
		ret = virtio_net_start(n);
		if (ret)
			goto close;
	}
	ret = virtio_pci_create(vm->pci, &n->vdev, NULL);
	if (ret)
		goto close;
	nic_list_add(&n->cfg, n->nb);
	return 0;

close:
	virtio_net_close(n);
	return ret;
}
