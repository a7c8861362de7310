/* SPDX-License-Identifier: MIT */
/* net.h - virtio-net (virtio 1.2, 5.1) on a NIC backend (vmm/net/backend.h). */
#ifndef LOOM_VMM_VIRTIO_NET_H
#define LOOM_VMM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"
#include "vmm/net/backend.h"
#include "vmm/virtio/virtio.h"

/*
 * Queues: 0 receive, 1 transmit, 2 control; VIRTIO_NET_QUEUE_SIZE each.
 * Every buffer starts with the 12-byte struct virtio_net_hdr_v1 (VERSION_1
 * always has num_buffers). Offered: MAC, MTU, STATUS, MRG_RXBUF,
 * CTRL_VQ + CTRL_RX, EVENT_IDX, INDIRECT_DESC, and the offloads the
 * backend accepted: CSUM/GUEST_CSUM, HOST_/GUEST_TSO4/TSO6 (and ECN).
 *
 * Transmit: a chain is header + frame (14 .. 65536 + 18 bytes, readable
 * only). The header's offload fields are checked and mapped to struct
 * frame_offload: NEEDS_CSUM needs CSUM and csum_start + csum_offset + 2
 * inside the frame; a GSO type needs its HOST_ feature, NEEDS_CSUM and a
 * gso_size; hdr_len is recomputed from the TCP header (a guest's value is
 * only a hint) and must lie inside the frame. A bad frame is dropped and
 * counted (rate-limited log); the chain is returned.
 *
 * Receive: with MRG_RXBUF a frame spreads over as many chains as it needs
 * (num_buffers says how many), without it one chain holds it whole (Linux
 * then posts big chains). A frame with partial checksum goes to a driver
 * without GUEST_CSUM with its checksum completed; a GSO frame the driver
 * did not accept is dropped and counted. Out of receive buffers, frames
 * wait in the backend until the driver posts more (its kick).
 *
 * Control queue: RX mode (promisc, allmulti, ...) and MAC table commands
 * are answered OK (the switch does not filter per port); ANNOUNCE_ACK OK;
 * anything else VIRTIO_NET_ERR.
 *
 * Bounds: each round pops at most the queue size per queue; every chain
 * goes through virtq.c's checks, guest memory only through its segments.
 *
 * Threads: one I/O thread per device (KVM's ioeventfds and the backend's
 * notify fd), holding vdev->lock while it walks the queues. Without KVM
 * (tests, fuzzers) virtio_net_process() runs one round inline.
 */

enum {
	VIRTIO_NET_QUEUE_SIZE = 256,
	VIRTIO_NET_HDR_SIZE = 12,
	VIRTIO_NET_CONFIG_SIZE = 20,
	VIRTIO_NET_MTU_DEFAULT = 1500,
	VIRTIO_NET_Q_RX = 0,
	VIRTIO_NET_Q_TX = 1,
	VIRTIO_NET_Q_CTRL = 2,
	VIRTIO_NET_NR_QUEUES = 3,
};

enum virtio_net_feature {
	VIRTIO_NET_F_CSUM = 0,
	VIRTIO_NET_F_GUEST_CSUM = 1,
	VIRTIO_NET_F_MTU = 3,
	VIRTIO_NET_F_MAC = 5,
	VIRTIO_NET_F_GUEST_TSO4 = 7,
	VIRTIO_NET_F_GUEST_TSO6 = 8,
	VIRTIO_NET_F_GUEST_ECN = 9,
	VIRTIO_NET_F_HOST_TSO4 = 11,
	VIRTIO_NET_F_HOST_TSO6 = 12,
	VIRTIO_NET_F_HOST_ECN = 13,
	VIRTIO_NET_F_MRG_RXBUF = 15,
	VIRTIO_NET_F_STATUS = 16,
	VIRTIO_NET_F_CTRL_VQ = 17,
	VIRTIO_NET_F_CTRL_RX = 18,
};

enum {
	VIRTIO_NET_HDR_F_NEEDS_CSUM = 1,
	VIRTIO_NET_HDR_F_DATA_VALID = 2,
	VIRTIO_NET_HDR_GSO_NONE = 0,
	VIRTIO_NET_HDR_GSO_TCPV4 = 1,
	VIRTIO_NET_HDR_GSO_TCPV6 = 4,
	VIRTIO_NET_HDR_GSO_ECN = 0x80,
	VIRTIO_NET_S_LINK_UP = 1,
	VIRTIO_NET_OK = 0,
	VIRTIO_NET_ERR = 1,
	VIRTIO_NET_CTRL_RX = 0,
	VIRTIO_NET_CTRL_MAC = 1,
	VIRTIO_NET_CTRL_MAC_TABLE_SET = 0,
	VIRTIO_NET_CTRL_MAC_ADDR_SET = 1,
	VIRTIO_NET_CTRL_ANNOUNCE = 3,
};

/* Counters, for the control socket and the tests. */
struct virtio_net_stats {
	uint64_t tx_frames, tx_bytes, tx_bad, tx_dropped;
	uint64_t rx_frames, rx_bytes, rx_dropped, rx_no_buffer;
	uint64_t ctrl_ok, ctrl_err;
};

struct vm;
struct virtio_net;

/*
 * virtio_net_open() - the device model on its backend, without transport.
 * @gm: guest memory.
 * @vm: the VM (for the backend; NULL in tests).
 * @cfg: the NIC (defaults filled in).
 * @ops: the backend; NULL: the one @cfg->backend names.
 * @err: set to a negative errno on failure.
 * Return: the device, or NULL.
 */
struct virtio_net *virtio_net_open(const struct guest_mem *gm, struct vm *vm,
				   const struct nic_config *cfg,
				   const struct nic_backend_ops *ops,
				   int *err);

/* virtio_net_vdev() - its struct virtio_dev, to hand to a transport. */
struct virtio_dev *virtio_net_vdev(struct virtio_net *n);

/*
 * virtio_net_process() - one round, as the I/O thread runs it: backend
 * events, transmit, receive, control. Return: 0, or -EIO when the driver
 * broke a queue (the device then needs a reset).
 */
int virtio_net_process(struct virtio_net *n);

/* virtio_net_start() - start the I/O thread (with KVM's ioeventfds). */
int virtio_net_start(struct virtio_net *n);

/* virtio_net_close() - stop the thread, close the backend, free. */
void virtio_net_close(struct virtio_net *n);

/* virtio_net_stats() - the device's counters. */
const struct virtio_net_stats *virtio_net_stats(const struct virtio_net *n);

/* virtio_net_backend() - the device's NIC backend. */
struct nic_backend *virtio_net_backend(struct virtio_net *n);

/*
 * virtio_net_create() - the "virtio" NIC model (vmm/net/nic.c's table): the
 * device on @vm's PCI bus, its backend opened, its thread started.
 * Return: 0 or a negative errno.
 */
int virtio_net_create(struct vm *vm, const struct nic_config *cfg);

#endif
