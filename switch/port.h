/* SPDX-License-Identifier: MIT */
/* port.h - frames, batches and struct port_ops: how a backend plugs into the switch. */
#ifndef LOOM_SWITCH_PORT_H
#define LOOM_SWITCH_PORT_H

#include <stdint.h>

/* Frames move in batches of up to this many, through the whole path. */
enum { FRAME_BATCH_MAX = 64 };

/*
 * struct frame_offload - offload metadata, virtio-net header semantics
 * (virtio spec 1.2, 5.1.6), host byte order. A frame with
 * gso_type != FRAME_GSO_NONE may be up to 64 KiB and is carried unsegmented
 * between ports that accept GSO (switch_port_config.accepts_gso); to a port
 * that does not, such a frame is dropped and counted (software segmentation
 * is not there yet; see docs/switch.md).
 */
enum frame_offload_flags {
	FRAME_F_NEEDS_CSUM = 1, /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
	FRAME_F_DATA_VALID = 2, /* VIRTIO_NET_HDR_F_DATA_VALID */
};
enum frame_gso_type {
	FRAME_GSO_NONE = 0,
	FRAME_GSO_TCPV4 = 1,
	FRAME_GSO_UDP = 3,
	FRAME_GSO_TCPV6 = 4,
	FRAME_GSO_UDP_L4 = 5,
	FRAME_GSO_ECN = 0x80,
};
struct frame_offload {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* Largest frame any port carries: a 64 KiB GSO frame plus headers. */
enum { FRAME_MAX_LEN = 65536 + 14 + 4 };

/*
 * struct frame - one Ethernet frame, starting at the destination MAC.
 * @data points into memory owned by the port that produced it (for an shm
 * port: the peer's shared memory, so the switch copies what it parses).
 */
struct frame {
	uint8_t *data;
	uint32_t len;
	uint16_t vlan; /* VLAN (1..4094) the switch classified it into */
	uint16_t pad;
	struct frame_offload off;
};

struct frame_batch {
	uint32_t count;
	struct frame f[FRAME_BATCH_MAX];
};

struct port;

/*
 * struct port_ops - a port backend (shm, tap, macvtap, vde, slirp, pcap,
 * vhost-user, vxlan). One const instance per backend, registered in
 * backends/registry.c. The switch calls these from its data-path thread only.
 *
 * Lifecycle: open -> (recv/recv_done, send)* -> close. close is called once,
 * also after open failed half-way is NOT expected (open cleans up itself).
 */
struct port_ops {
	const char *name; /* "shm", "tap", ... as shown to users */

	/*
	 * open - set up @port->priv from backend-specific @args.
	 * Return: 0, or a negative errno; on failure nothing is left allocated.
	 */
	int (*open)(struct port *port, const void *args);

	/*
	 * recv - take up to FRAME_BATCH_MAX - @batch->count ready frames and
	 * append them to @batch. Never blocks. Frames stay valid, and their
	 * buffers owned by the port, until recv_done is called for the batch.
	 * Return: frames appended (0 when none), or a negative errno when the
	 * port is broken (peer gone, protocol violation): the switch then
	 * stops polling it and its owner resets or removes it.
	 */
	int (*recv)(struct port *port, struct frame_batch *batch);

	/* recv_done - the switch is finished with every frame of @batch. */
	void (*recv_done)(struct port *port, struct frame_batch *batch);

	/*
	 * send - transmit the frames of @batch. Always consumes them: the
	 * port copies what it keeps and never retains a pointer after
	 * returning, even on failure. Frames it cannot take (ring full, link
	 * down) are dropped. Batches are flushed with at most one notification
	 * of the peer per call.
	 * Return: frames accepted; count - return value were dropped.
	 */
	int (*send)(struct port *port, struct frame_batch *batch);

	/*
	 * poll_fd - an fd that becomes readable when recv may return frames
	 * (re-arm notifications before reporting it idle), or -1 when the
	 * port must be polled.
	 */
	int (*poll_fd)(struct port *port);

	/* close - release everything open made. @port->priv is dead after. */
	void (*close)(struct port *port);
};

#endif
