/* SPDX-License-Identifier: MIT */
/* uplink.h - the hook behind a gateway: where frames no service consumed go (NAT: libslirp). */
#ifndef LOOM_SERVICES_UPLINK_H
#define LOOM_SERVICES_UPLINK_H

#include <stddef.h>
#include <stdint.h>

#include "services/gateway.h"
#include "switch/port.h"

/*
 * struct gateway_uplink_ops - an uplink (one per network at most).
 * @name: shown in logs ("slirp")
 * @input: a frame that reached the gateway port (unicast to the gateway
 *	MAC, or broadcast/multicast flooded to it) and that no service
 *	consumed: IP not addressed to the gateway itself, ARP replies, ARP
 *	requests for other addresses. The uplink filters what it does not
 *	want. Called on the data-path thread with the switch mutex held: it
 *	must not block, and copies what it keeps (the frame is valid during
 *	the call only). Untagged Ethernet from the destination MAC; a partial
 *	checksum is already completed (FRAME_F_NEEDS_CSUM cleared), except
 *	on TCP frames (GSO, or a partial checksum at csum_offset 16), which
 *	come as the port got them (partial checksum and GSO metadata: the
 *	uplink completes it on its own thread).
 *	Return: 0 taken, < 0 dropped.
 * @output_fd, @output_peek, @output_release: optional, all or none: the
 *	uplink's own queue of frames for the network, drained by the gateway
 *	port's recv on the data-path thread (peek appends up to the batch's
 *	room and keeps them valid until release). output_fd is readable
 *	exactly while frames wait (level-triggered). Without them the uplink
 *	pushes its frames with gateway_uplink_output().
 */
struct gateway_uplink_ops {
	const char *name;
	int (*input)(void *priv, const struct frame *f);
	int (*output_fd)(void *priv);
	int (*output_peek)(void *priv, struct frame_batch *batch);
	void (*output_release)(void *priv);
};

/*
 * gateway_uplink_output - send @frame (Ethernet, from the destination MAC)
 * into the switch through the gateway port. Any thread, never blocks, the
 * frame is copied.
 * Return: 0, -ENOBUFS (output queue full: dropped and counted), -EMSGSIZE
 * (longer than the network MTU + 14).
 */
int gateway_uplink_output(struct gateway *gw, const uint8_t *frame,
			  size_t len);

/*
 * gateway_uplink_attach - route unconsumed frames to @ops/@priv (control
 * thread).
 * Return: 0, -EBUSY when an uplink is attached already, or a negative
 * errno from adding its output_fd to the port's poll set.
 */
int gateway_uplink_attach(struct gateway *gw,
			  const struct gateway_uplink_ops *ops, void *priv);

/*
 * gateway_uplink_detach - stop; when it returns, input is not running and
 * will not be called again, so the caller may free its priv.
 */
void gateway_uplink_detach(struct gateway *gw);

#endif
