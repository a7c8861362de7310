/* SPDX-License-Identifier: MIT */
/* macvtap.h - macvtap port backend: a macvtap on a parent device, driven like a TAP. */
#ifndef LOOM_BACKENDS_MACVTAP_H
#define LOOM_BACKENDS_MACVTAP_H

#include "switch/port.h"

/*
 * Declared as `type: macvtap, tap: NAME, parent: DEV[, macvtap_mode: M]`.
 * In modes bridge, private and vepa the kernel hands the macvtap only
 * frames for its own MAC (and broadcast/multicast): right for one VM's
 * NIC. A switch port carries many MACs: use passthru (the parent goes
 * promiscuous and belongs to this port alone).
 */
extern const struct port_ops macvtap_port_ops;

#endif
