/* SPDX-License-Identifier: MIT */
/* vde.h - VDE port backend: a loom port plugged into any libvdeplug URL. */
#ifndef LOOM_BACKENDS_VDE_H
#define LOOM_BACKENDS_VDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "switch/port.h"

/*
 * A port declared with `type: vde` and `url: URL` (name required) is a
 * cable from the loom switch into a VDE network: `vde:///run/vde.ctl` (a
 * vde_switch), `vxvde://239.1.2.3`, `tap://tap0`, `ptp:///tmp/sock`, ...,
 * any URL Debian's libvdeplug (vdeplug4) opens, through its plugins.
 *
 * Far side away: the port stays, its link is down (frames sent to it are
 * dropped and counted), and a thread of the port reopens the URL with
 * back-off (VDE_BACKOFF_MIN_MS doubling to VDE_BACKOFF_MAX_MS). libvdeplug
 * may block in vde_open() (a stopped vde_switch never answers its
 * handshake), so only that thread calls it; the data path never waits.
 * A connection is declared lost when its control fd reports EOF or an
 * error (vde_switch closing it), or when the data fd fails.
 *
 * Class: PORT_CAP_POLL_LEVEL: the poll fd is an epoll fd of the port's own,
 * holding the live connection's data and control fds and an eventfd the
 * reconnecting thread signals, so it is the same fd for the port's whole
 * life and readable exactly while there is something to do. Takes no GSO
 * or partial-checksum frames (VDE carries plain Ethernet frames of at most
 * VDE_ETHBUFSIZE bytes: 9216 + 18).
 *
 * Memory: FRAME_BATCH_MAX receive buffers of VDE_ETHBUFSIZE bytes (about
 * 600 KiB) per port, allocated at creation; nothing per frame.
 */

enum {
	VDE_URL_MAX = 1024,
	VDE_BACKOFF_MIN_MS = 100,
	VDE_BACKOFF_MAX_MS = 5000,
	VDE_FIRST_WAIT_MS = 1000, /* create() waits this long for the first open */
};

extern const struct port_ops vde_port_ops;

/*
 * struct vde_port_status - what `loom port list` shows of a VDE port.
 * @link_up: connected to the far side now
 * @connects: successful opens so far (1 + reconnections)
 * @error: why the last open failed or the connection was lost ("" if none)
 */
struct vde_port_status {
	bool link_up;
	uint64_t connects;
	char error[128];
};

/* vde_port_status_get() - any thread. */
void vde_port_status_get(struct port *port, struct vde_port_status *st);

#endif
