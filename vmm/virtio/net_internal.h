/* SPDX-License-Identifier: MIT */
/* net_internal.h - what virtio-net's files share: the device state, small helpers, the queue rounds. */
#ifndef LOOM_VMM_VIRTIO_NET_INTERNAL_H
#define LOOM_VMM_VIRTIO_NET_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/net/backend.h"
#include "vmm/virtio/io_thread.h"
#include "vmm/virtio/net.h"
#include "vmm/virtio/vhost_net.h"

#define MOD "virtio-net"

/*
 * struct virtio_net - one NIC.
 * @vdev: the generic device.
 * @nb: its backend (owned).
 * @rx_first: segments of the first chain of the frame being received (its
 *	header is written last, once num_buffers is known).
 * @rx_segs, @tx_segs, @ctrl_segs: one chain at a time per queue.
 * @rx_used: heads and lengths of the chains of the frame being received.
 * @bounce: a frame whose checksum the device completes for a driver
 *	without GUEST_CSUM.
 */
struct virtio_net {
	struct virtio_dev vdev;
	struct nic_backend *nb;
	struct nic_config cfg;
	char name[24];
	uint16_t mtu;
	struct virtq_seg rx_first[VIRTIO_NET_QUEUE_SIZE];
	struct virtq_seg rx_segs[VIRTIO_NET_QUEUE_SIZE];
	struct virtq_seg tx_segs[VIRTIO_NET_QUEUE_SIZE];
	struct virtq_seg ctrl_segs[VIRTIO_NET_QUEUE_SIZE];
	struct {
		uint16_t head;
		uint32_t len;
	} rx_used[VIRTIO_NET_QUEUE_SIZE];
	struct virtio_io_thread io;
	bool rx_offload_dirty; /* driver_ok: tell the backend (lock held) */
	struct vhost_net *vh;  /* NULL: the queues are always ours */
	bool vhost_pending;    /* driver_ok: hand the queues over */
	struct virtio_net_stats st;
	uint8_t bounce[NIC_FRAME_MAX];
};

static inline void le_put(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline bool has(const struct virtio_net *n, unsigned int bit)
{
	return virtio_dev_has_feature(&n->vdev, bit);
}

/* net_queues.c: one round of each queue. Lock held. Return: 1 more to do,
 * 0 done, -EIO queue broken. */
int net_tx_process(struct virtio_net *n);
int net_rx_process(struct virtio_net *n);
int net_ctrl_process(struct virtio_net *n);

#endif
