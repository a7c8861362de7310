/* SPDX-License-Identifier: MIT */
/* bridge.h - Linux bridges netd owns: creation, VLAN entries, FDB (libnl3). */
#ifndef LOOM_KERNEL_BRIDGE_H
#define LOOM_KERNEL_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl_sock;

/*
 * A bridge of a `bridge` network is created with VLAN filtering on and no
 * default PVID: a port joins with no VLAN at all, and netd adds exactly
 * the entries its declaration maps to (kernel_bridge_vlans_set()), so a
 * port never sits in VLAN 1 by accident.
 */

/*
 * kernel_bridge_create - create bridge @name (VLAN filtering, default PVID
 * 0), set @alias and @mtu (0: the kernel's), bring it up. A kernel built
 * without CONFIG_BRIDGE_VLAN_FILTERING refuses the VLAN attributes: the
 * bridge is then made without them and *@vlan_filtering says false (its
 * ports are one untagged segment; kernel_bridge_vlans_set() must not be
 * called).
 * Return: its ifindex, or a negative errno with @err set (-EEXIST: an
 * interface of that name exists).
 */
int kernel_bridge_create(struct nl_sock *sk, const char *name,
			 const char *alias, uint32_t mtu, bool *vlan_filtering,
			 char *err, size_t errlen);

/*
 * struct kernel_vlans - a port's VLAN membership on a filtering bridge.
 * @pvid: the VLAN untagged frames belong to (egress untagged), 0: none.
 * @tagged: VLANs that cross the port tagged, @ntagged entries (a @pvid
 *          listed here too stays untagged).
 */
struct kernel_vlans {
	uint16_t pvid;
	const uint32_t *tagged;
	uint32_t ntagged;
};

/*
 * kernel_bridge_vlans_set - add @v's entries to port @ifindex (@self: to
 * the bridge device itself, the host's own port on it).
 * Return: 0 or a negative errno.
 */
int kernel_bridge_vlans_set(struct nl_sock *sk, int ifindex, bool self,
			    const struct kernel_vlans *v);

/* struct kernel_fdb_entry - one learnt entry of a bridge's FDB. */
struct kernel_fdb_entry {
	uint8_t mac[6];
	uint16_t vlan;	  /* 0: none */
	int ifindex;	  /* the bridge port it was learnt on */
	uint32_t age_sec; /* since a frame from @mac was last seen */
};

typedef int (*kernel_fdb_fn)(void *arg, const struct kernel_fdb_entry *e);

/*
 * kernel_bridge_fdb_dump - call @fn for every dynamic (learnt) entry of
 * bridge @br_ifindex; local and static entries are left out, as the
 * built-in switch's `fdb show` lists learnt MACs only. @fn NULL: count.
 * Return: entries seen, or a negative errno.
 */
int kernel_bridge_fdb_dump(struct nl_sock *sk, int br_ifindex, kernel_fdb_fn fn,
			   void *arg);

/*
 * kernel_bridge_port_flush - drop the dynamic FDB entries learnt on port
 * @ifindex. Return: 0 or a negative errno.
 */
int kernel_bridge_port_flush(struct nl_sock *sk, int ifindex);

#endif
