/* SPDX-License-Identifier: MIT */
/* veth.h - veth pairs from a bridge into a network namespace (libnl3). */
#ifndef LOOM_KERNEL_VETH_H
#define LOOM_KERNEL_VETH_H

#include <stddef.h>
#include <stdint.h>

struct nl_sock;

/*
 * struct kernel_veth_args - a veth pair: one end in netd's namespace
 * (enslaved to @master, marked with @alias), its peer created directly in
 * @netns. Both ends are called @name: the names never meet in one
 * namespace, and the namespace side looks like a TAP port's would.
 * @address: "ADDR/PREFIX" on the peer, or NULL.
 * @mtu: both ends; 0 keeps the kernel's.
 */
struct kernel_veth_args {
	const char *name;
	const char *netns;
	const char *alias;
	const char *address;
	uint32_t mtu;
	int master;
};

/*
 * kernel_veth_create - create, configure and bring up the pair.
 * Return: the host end's ifindex, or a negative errno with @err set; on
 * failure nothing is left (deleting one end deletes both).
 */
int kernel_veth_create(struct nl_sock *sk, const struct kernel_veth_args *a,
		       char *err, size_t errlen);

#endif
