// SPDX-License-Identifier: MIT
/* macvtap.c - macvtap port backend: a macvtap on a parent device, driven through /dev/tapN like a TAP. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvtap.h>

#include "backends/macvtap.h"
#include "backends/tap.h"
#include "common/log.h"
#include "switch/switch.h"

LOG_MODULE("macvtap");

/*
 * A macvtap puts a port of the switch straight on a LAN the parent device
 * reaches (the physical NIC, a veth...), with a MAC of its own: frames for
 * that MAC (and broadcasts) come up the macvtap, frames netd writes leave
 * through the parent. netd creates the link (ifalias as for every kernel
 * object of its, so the sweep at start removes a leftover: a macvtap is
 * persistent, unlike a TAP) and drives its character device /dev/tap<ifindex>
 * with the TAP code (same vnet header, offloads and io_uring I/O: tap.c);
 * close deletes the link.
 */

static struct nl_sock *macvtap_nl(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

void macvtap_link_remove(int ifindex)
{
	struct nl_sock *sk = macvtap_nl();
	struct rtnl_link *l = rtnl_link_alloc();

	if (sk && l) {
		rtnl_link_set_ifindex(l, ifindex);
		if (rtnl_link_delete(sk, l) < 0)
			log_warn(MOD, "cannot delete macvtap ifindex %d",
				 ifindex);
	}
	if (l)
		rtnl_link_put(l);
	if (sk)
		nl_socket_free(sk);
}

int macvtap_link_create(const char *name, const char *parent,
			const char *mode, const uint8_t *mac, char *err,
			size_t errlen)
{
	struct rtnl_link *l = NULL, *got = NULL;
	struct nl_sock *sk = macvtap_nl();
	int pidx, m, ret;

	if (!sk) {
		snprintf(err, errlen, "netlink: cannot connect");
		return -EIO;
	}
	pidx = (int)if_nametoindex(parent);
	if (!pidx) {
		snprintf(err, errlen, "macvtap %s: parent %s: no such interface "
			 "in netd's namespace", name, parent);
		ret = -ENOENT;
		goto out;
	}
	m = rtnl_link_macvtap_str2mode(mode ? mode : "bridge");
	l = rtnl_link_macvtap_alloc();
	if (!l || m < 0) {
		ret = l ? -EINVAL : -ENOMEM;
		goto out;
	}
	rtnl_link_set_name(l, name);
	rtnl_link_set_link(l, pidx);
	rtnl_link_macvtap_set_mode(l, (uint32_t)m);
	if (mac) {
		struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);

		if (!a) {
			ret = -ENOMEM;
			goto out;
		}
		rtnl_link_set_addr(l, a);
		nl_addr_put(a);
	}
	ret = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0) {
		snprintf(err, errlen, "cannot create macvtap %s on %s: %s%s",
			 name, parent, nl_geterror(ret),
			 ret == -NLE_EXIST ? " (the name is taken)" :
			 ret == -NLE_OPNOTSUPP ? " (no macvtap in this kernel?)"
					      : "");
		ret = ret == -NLE_EXIST ? -EEXIST : ret == -NLE_PERM ? -EPERM
								     : -EIO;
		goto out;
	}
	ret = rtnl_link_get_kernel(sk, 0, name, &got);
	if (ret < 0) {
		snprintf(err, errlen, "macvtap %s vanished", name);
		ret = -ENOENT;
		goto out;
	}
	ret = rtnl_link_get_ifindex(got);
out:
	if (got)
		rtnl_link_put(got);
	if (l)
		rtnl_link_put(l);
	nl_socket_free(sk);
	return ret;
}

static int macvtap_port_create(const struct port_decl *decl, void **priv,
			       char *err, size_t errlen)
{
	char dev[32];
	struct tap_args a = {
		.ifname = decl->ifname,
		.alias = decl->alias,
		.mtu = decl->mtu,
		.offload = decl->offload,
		.device = dev,
	};
	struct tap_dev *t;
	int idx, ret;

	if (!decl->ifname || !decl->parent) {
		snprintf(err, errlen, "port %s: a macvtap needs a name (tap) "
			 "and a parent", decl->name);
		return -EINVAL;
	}
	idx = macvtap_link_create(decl->ifname, decl->parent, decl->link_mode,
				  NULL, err, errlen);
	if (idx < 0)
		return idx;
	/* devtmpfs makes the node as the link appears. */
	snprintf(dev, sizeof(dev), "/dev/tap%d", idx);
	ret = tap_dev_create(&a, &t, err, errlen);
	if (ret < 0) {
		macvtap_link_remove(idx);
		return ret;
	}
	log_info(MOD, "%s on %s (mode %s)", decl->ifname, decl->parent,
		 decl->link_mode ? decl->link_mode : "bridge");
	*priv = t;
	return 0;
}

/* The rest is the TAP's: same fd semantics. */
static int macvtap_port_open(struct port *p, const void *args)
{
	return tap_port_ops.open(p, args);
}

static int macvtap_port_recv(struct port *p, struct frame_batch *b)
{
	return tap_port_ops.recv(p, b);
}

static void macvtap_port_recv_done(struct port *p, struct frame_batch *b)
{
	tap_port_ops.recv_done(p, b);
}

static int macvtap_port_send(struct port *p, struct frame_batch *b)
{
	return tap_port_ops.send(p, b);
}

static int macvtap_port_poll_fd(struct port *p)
{
	return tap_port_ops.poll_fd(p);
}

static int macvtap_port_set_offload(struct port *p, bool on)
{
	return tap_port_ops.set_offload(p, on);
}

static void macvtap_port_close(struct port *p)
{
	int idx = p->priv ? tap_dev_ifindex(p->priv) : 0;

	tap_port_ops.close(p);
	if (idx > 0)
		macvtap_link_remove(idx);
}

const struct port_ops macvtap_port_ops = {
	.name = "macvtap",
	.caps = PORT_CAP_POLL_LEVEL | PORT_CAP_TAKES_GSO,
	.create = macvtap_port_create,
	.open = macvtap_port_open,
	.recv = macvtap_port_recv,
	.recv_done = macvtap_port_recv_done,
	.send = macvtap_port_send,
	.poll_fd = macvtap_port_poll_fd,
	.set_offload = macvtap_port_set_offload,
	.close = macvtap_port_close,
};
