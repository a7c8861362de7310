/* SPDX-License-Identifier: MIT */
/* vlan.h - 802.1Q sub-interfaces (PARENT.VID) netd creates (libnl3). */
#ifndef LOOM_KERNEL_VLAN_H
#define LOOM_KERNEL_VLAN_H

#include <stddef.h>
#include <stdint.h>

struct nl_sock;

/*
 * kernel_vlan_parse - split "PARENT.VID" (the sub-interface's name) into
 * @parent (IFNAMSIZ) and @vid (1..4094). Return: 0 or -EINVAL.
 */
int kernel_vlan_parse(const char *name, char *parent, size_t len,
		      uint16_t *vid);

/*
 * kernel_vlan_create - create sub-interface @name ("PARENT.VID") on
 * PARENT, set @alias and @mtu (0: the parent's), bring it up.
 * Return: its ifindex, or a negative errno with @err set: -EOPNOTSUPP
 * when the kernel has no 8021q (the message names the module), -ENOENT
 * for a missing parent, -EEXIST for a taken name.
 */
int kernel_vlan_create(struct nl_sock *sk, const char *name,
		       const char *alias, uint32_t mtu, char *err,
		       size_t errlen);

#endif
