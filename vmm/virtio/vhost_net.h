/* SPDX-License-Identifier: MIT */
/* vhost_net.h - a virtio-net device's RX/TX queues run by /dev/vhost-net on a TAP fd. */
#ifndef LOOM_VMM_VIRTIO_VHOST_NET_H
#define LOOM_VMM_VIRTIO_VHOST_NET_H

#include <stdbool.h>

#include "vmm/virtio/virtio.h"

/*
 * Used by virtio-net (vmm/virtio/net.c) when its NIC backend has a
 * kernel fd (nic_backend_kernel_fd: a TAP or macvtap from netd) and
 * /dev/vhost-net exists: after DRIVER_OK the device thread calls
 * vhost_net_start(); from then on the kernel's vhost worker moves the
 * frames between the rings and the TAP, and the VMM only serves the
 * control queue and the link. A link change swaps the fd
 * (vhost_net_set_backend, -1 while down); a device reset stops it
 * (vhost_net_stop: the rings are the transport's again).
 *
 * Threads: open/close by the device's creator; start, set_backend and
 * relay on the device's thread with its lock held; stop with the lock
 * held (reset comes from a vCPU thread).
 */

enum { VHOST_NET_QUEUES = 2 }; /* receiveq1, transmitq1 */

struct vhost_net;

/* vhost_net_open() - /dev/vhost-net, owned by this process.
 * Return: 0, -ENOENT (no vhost-net here), or another negative errno. */
int vhost_net_open(struct vhost_net **out, const char *dev_name);
void vhost_net_close(struct vhost_net *vh);

/* vhost_net_start() - hand queues 0 and 1 of @vdev (enabled, DRIVER_OK)
 * over, frames on @tap_fd (-1: none yet). Return: 0 or -errno (nothing
 * handed over: the device keeps its queues). */
int vhost_net_start(struct vhost_net *vh, struct virtio_dev *vdev, int tap_fd);
void vhost_net_stop(struct vhost_net *vh);
bool vhost_net_started(const struct vhost_net *vh);
int vhost_net_set_backend(struct vhost_net *vh, int tap_fd);

/* Without MSI-X: the eventfd of queue @q the kernel signals (-1: none,
 * the interrupt goes straight to KVM), and the relay that raises them. */
int vhost_net_relay_fd(const struct vhost_net *vh, unsigned int q);
void vhost_net_relay(struct vhost_net *vh);

#endif
