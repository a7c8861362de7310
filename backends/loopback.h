/* SPDX-License-Identifier: MIT */
/* loopback.h - loopback port backend: every frame the switch sends it comes back in. */
#ifndef LOOM_BACKENDS_LOOPBACK_H
#define LOOM_BACKENDS_LOOPBACK_H

#include "switch/port.h"

/*
 * A port declared with `type: loopback` (name required; no tap, netns or
 * address): a hairpin cable. Whatever the switch sends it, it hands back
 * as received, in order, so a network can be exercised end to end without
 * a kernel device (tests, and a check that a switch forwards at all). The
 * switch learns the senders' MACs on it, as on a real hairpin.
 *
 * Class: PORT_CAP_POLL_LEVEL (its poll fd is an eventfd, readable exactly
 * while frames wait); takes no GSO frames (so the switch hands it only
 * complete ones, and it never produces any: no set_offload).
 *
 * Limits: LOOPBACK_SLOTS frames of at most LOOPBACK_FRAME_MAX bytes wait
 * at a time (about 2.4 MiB of address space, touched as frames arrive);
 * send drops what does not fit, or is longer, and the switch counts it.
 * Nothing is allocated per frame.
 */
enum {
	LOOPBACK_SLOTS = 256,
	LOOPBACK_FRAME_MAX = 9216 + 18, /* a jumbo frame with VLAN tag, FCS */
};

extern const struct port_ops loopback_port_ops;

#endif
