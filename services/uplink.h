/* SPDX-License-Identifier: MIT */
/* uplink.h - the hook behind a gateway: where frames no service consumed go (NAT: libslirp). */
#ifndef LOOM_SERVICES_UPLINK_H
#define LOOM_SERVICES_UPLINK_H

#include <stddef.h>
#include <stdint.h>

#include "services/gateway.h"

/*
 * struct gateway_uplink_ops - an uplink (one per network at most).
 * @name: shown in logs ("slirp")
 * @input: a frame that reached the gateway port (unicast to the gateway
 *	MAC, or broadcast/multicast flooded to it) and that no service
 *	consumed: IP not addressed to the gateway itself, ARP replies, ARP
 *	requests for other addresses. The uplink filters what it does not
 *	want. Called on the data-path thread with the switch mutex held: it
 *	must not block, and copies what it keeps (the frame is valid during
 *	the call only). Untagged Ethernet from the destination MAC, partial
 *	checksums already completed. It may call gateway_uplink_output().
 */
struct gateway_uplink_ops {
	const char *name;
	void (*input)(void *priv, const uint8_t *frame, size_t len);
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
 * gateway_uplink_attach - route unconsumed frames to @ops/@priv.
 * Return: 0, or -EBUSY when an uplink is attached already.
 */
int gateway_uplink_attach(struct gateway *gw,
			  const struct gateway_uplink_ops *ops, void *priv);

/*
 * gateway_uplink_detach - stop; when it returns, input is not running and
 * will not be called again, so the caller may free its priv.
 */
void gateway_uplink_detach(struct gateway *gw);

#endif
