// SPDX-License-Identifier: MIT
/* vlan.c - 802.1Q sub-interfaces (PARENT.VID) netd creates (libnl3). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>

#include "common/log.h"
#include "kernel/nl.h"
#include "kernel/vlan.h"

LOG_MODULE("kernel-vlan");

int kernel_vlan_parse(const char *name, char *parent, size_t len,
		      uint16_t *vid)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	char *end;
	long v;

	if (!dot || dot == name || !dot[1] || (size_t)(dot - name) >= len)
		return -EINVAL;
	v = strtol(dot + 1, &end, 10);
	if (*end || v < 1 || v > 4094 || dot[1] == '0')
		return -EINVAL;
	memcpy(parent, name, (size_t)(dot - name));
	parent[dot - name] = '\0';
	*vid = (uint16_t)v;
	return 0;
}

int kernel_vlan_create(struct nl_sock *sk, const char *name,
		       const char *alias, uint32_t mtu, char *err,
		       size_t errlen)
{
	struct kernel_link_set set = {.alias = alias};
	struct rtnl_link *l;
	char parent[32];
	uint16_t vid;
	int pidx, ret, idx;

	if (kernel_vlan_parse(name, parent, sizeof(parent), &vid) < 0) {
		snprintf(err, errlen, "'%s' is not PARENT.VID (VID 1..4094)",
			 name);
		return -EINVAL;
	}
	pidx = kernel_link_index(sk, parent);
	if (pidx < 0) {
		snprintf(err, errlen, "%s: parent %s: no such interface in "
			 "netd's namespace", name, parent);
		return -ENOENT;
	}
	l = rtnl_link_vlan_alloc();
	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, name);
	rtnl_link_set_link(l, pidx);
	rtnl_link_vlan_set_id(l, vid);
	/* MTU and up with the creation: a later change of a VLAN device
	 * through rtnl_link_change() was refused (EIO) on Linux 6.1. */
	if (mtu)
		rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_flags(l, IFF_UP);
	ret = kernel_nl_err(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
	rtnl_link_put(l);
	if (ret == -EOPNOTSUPP) {
		snprintf(err, errlen, "cannot create %s: this kernel has no "
			 "802.1Q support (module 8021q missing: modprobe 8021q, "
			 "or a kernel with CONFIG_VLAN_8021Q)", name);
		return ret;
	}
	if (ret < 0) {
		struct kernel_link_stats st;

		/* vlan_dev_open() refuses while the parent is down. */
		bool down = kernel_link_stats_get(sk, pidx, &st) == 0 && !st.up;

		snprintf(err, errlen, "cannot create %s on %s: %s%s", name,
			 parent, strerror(-ret),
			 down ? " (the parent is down: bring it up first)" : "");
		return ret;
	}
	idx = kernel_link_index(sk, name);
	if (idx < 0) {
		snprintf(err, errlen, "%s vanished", name);
		return idx;
	}
	ret = kernel_link_set(sk, idx, &set);
	if (ret < 0) {
		snprintf(err, errlen, "%s: cannot set its alias: %s", name,
			 strerror(-ret));
		kernel_link_delete(sk, idx);
		return ret;
	}
	log_info(MOD, "%s up (VLAN %u on %s, ifindex %d)", name, vid, parent,
		 idx);
	return idx;
}
