/* SPDX-License-Identifier: MIT */
/* macvtap.h - macvtap port backend: a macvtap on a parent device, driven like a TAP. */
#ifndef LOOM_BACKENDS_MACVTAP_H
#define LOOM_BACKENDS_MACVTAP_H

#include <stddef.h>
#include <stdint.h>

#include "switch/port.h"

/*
 * Declared as `type: macvtap, tap: NAME, parent: DEV[, macvtap_mode: M]`.
 * In modes bridge, private and vepa the kernel hands the macvtap only
 * frames for its own MAC (and broadcast/multicast): right for one VM's
 * NIC. A switch port carries many MACs: use passthru (the parent goes
 * promiscuous and belongs to this port alone).
 */
extern const struct port_ops macvtap_port_ops;

/*
 * macvtap_link_create - macvtap @name on @parent in @mode ("bridge",
 * "private", "vepa", "passthru"; NULL: bridge) with MAC @mac (NULL: the
 * kernel's pick). Used by the port and by netd's VM NICs (netd/kport.c).
 * Return: its ifindex, or a negative errno with @err set.
 */
int macvtap_link_create(const char *name, const char *parent,
			const char *mode, const uint8_t *mac, char *err,
			size_t errlen);

/* macvtap_link_remove - delete the link @ifindex (errors are logged). */
void macvtap_link_remove(int ifindex);

#endif
