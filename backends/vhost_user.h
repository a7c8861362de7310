/* SPDX-License-Identifier: MIT */
/* vhost_user.h - vhost-user port backend: netd as the back end of a QEMU / cloud-hypervisor virtio-net. */
#ifndef LOOM_BACKENDS_VHOST_USER_H
#define LOOM_BACKENDS_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "switch/port.h"

/*
 * A port declared with `type: vhost-user` and `path: PATH` (name required;
 * `loom port add NET --vhost-user PATH --name PORT`) listens on the Unix
 * socket PATH as a vhost-user back end for ONE front end at a time: QEMU
 * (`-chardev socket,id=c,path=PATH -netdev vhost-user,id=n,chardev=c
 * -device virtio-net-pci,netdev=n` with a shared memory backend:
 * `-object memory-backend-memfd,id=mem,size=...,share=on -numa
 * node,memdev=mem`) or cloud-hypervisor (`--net vhost_user=true,socket=PATH`).
 *
 * The front end's guest transmit ring (vring 1) feeds the switch, the
 * switch's frames go into its receive ring (vring 0); kicks and calls are
 * the eventfds the front end handed over. Features: VERSION_1, MRG_RXBUF,
 * EVENT_IDX, INDIRECT_DESC; no checksum or GSO offloads (the port takes
 * and gives whole, checksummed frames: the switch's offload rule turns
 * them off on the network's other ports). Protocol features: REPLY_ACK
 * (no multiqueue, no config space, no logging: no live migration).
 *
 * Threads: a thread of the port's own owns the socket (accepts the front
 * end, reads and answers its messages); recv/send/arm run on netd's data
 * path. They share the session (memory table, rings) under one mutex that
 * the data path only ever TRIES to take, so a front end sending messages
 * can slow its own port, never the data path. Frames the port hands the
 * switch point into guest memory; recv keeps the mutex until recv_done.
 *
 * Untrusted front end: every message through vhost_user_msg_parse(), the
 * memory table through vhost_user_mem_map() (no overlaps, no huge or
 * wrapping regions, sealed memfds only), rings through
 * vhost_user_vring_start() and virtq.c's walk (bounded by the ring size).
 * Any violation - a malformed or unexpected message, a bad table, a ring
 * outside memory, a broken queue - ends THAT session: netd closes the
 * connection, unmaps the memory, logs one rate-limited line, and listens
 * again; the port stays (link down) and a restarted front end gets a
 * fresh session. A second front end while one is connected is refused.
 *
 * Memory: FRAME_BATCH_MAX bounce buffers of FRAME_MAX_LEN bytes (4 MiB of
 * address space, touched only for frames split over several guest
 * buffers) and segment tables of VHOST_USER_SEGS_MAX entries per port.
 */

enum {
	/* Descriptors in one chain the port walks; more breaks the queue
	 * (a Linux guest uses at most ~20). */
	VHOST_USER_SEGS_MAX = 1024,
	/* Receive chains one frame may take with MRG_RXBUF. */
	VHOST_USER_RX_CHAINS_MAX = 256,
	/* A front end that stops mid-message (or does not read our
	 * replies) for this long loses its session. */
	VHOST_USER_IO_TIMEOUT_MS = 2000,
	VHOST_USER_PATH_MAX = 107, /* sun_path less the NUL */
};

extern const struct port_ops vhost_user_port_ops;

/*
 * struct vhost_user_port_status - what `loom port list` and tests see.
 * @connected: a front end is connected now
 * @running: both rings run (the link is up)
 * @sessions: front ends accepted so far
 * @ended: sessions netd ended for a violation
 * @tx_bad: guest frames dropped (bad header or length)
 * @rx_no_buffer: frames for the guest dropped: no receive buffer posted
 * @rx_dropped: frames for the guest it cannot take (offloads, size)
 * @error: why the last session ended ("" if none did)
 */
struct vhost_user_port_status {
	bool connected;
	bool running;
	uint64_t sessions;
	uint64_t ended;
	uint64_t tx_bad;
	uint64_t rx_no_buffer;
	uint64_t rx_dropped;
	char error[160];
};

/* vhost_user_port_status_get() - any thread. */
void vhost_user_port_status_get(struct port *port,
				struct vhost_user_port_status *st);

#endif
