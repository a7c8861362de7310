// SPDX-License-Identifier: MIT
/* veth.c - veth pairs from a bridge into a network namespace (libnl3). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "common/log.h"
#include "kernel/nl.h"
#include "kernel/veth.h"

LOG_MODULE("kernel-veth");

/* The namespace end: address, up. */
static int veth_peer_setup(int nsfd, const struct kernel_veth_args *a,
			   char *err, size_t errlen)
{
	struct kernel_link_set up = {.up = true};
	struct nl_sock *nsk = kernel_nl_open(nsfd);
	int ret, idx;

	if (!nsk) {
		ret = -errno;
		snprintf(err, errlen, "netlink in netns %s: %s", a->netns,
			 strerror(errno));
		return ret;
	}
	idx = kernel_link_index(nsk, a->name);
	if (idx < 0) {
		ret = idx;
		snprintf(err, errlen, "%s: not found in netns %s", a->name,
			 a->netns);
		goto out;
	}
	if (a->address && *a->address) {
		ret = kernel_addr_add(nsk, idx, a->address);
		if (ret < 0) {
			snprintf(err, errlen, "%s: cannot set address %s: %s",
				 a->name, a->address, strerror(-ret));
			goto out;
		}
	}
	ret = kernel_link_set(nsk, idx, &up);
	if (ret < 0)
		snprintf(err, errlen, "%s in netns %s: cannot bring up: %s",
			 a->name, a->netns, strerror(-ret));
out:
	nl_socket_free(nsk);
	return ret;
}

int kernel_veth_create(struct nl_sock *sk, const struct kernel_veth_args *a,
		       char *err, size_t errlen)
{
	struct kernel_link_set set = {.alias = a->alias, .master = a->master,
				      .up = true};
	struct rtnl_link *link, *peer;
	int nsfd, ret, idx;

	nsfd = kernel_netns_open(a->netns);
	if (nsfd < 0) {
		snprintf(err, errlen, "netns '%s': %s", a->netns,
			 strerror(-nsfd));
		return nsfd;
	}
	link = rtnl_link_veth_alloc();
	if (!link) {
		close(nsfd);
		return -ENOMEM;
	}
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, a->name);
	rtnl_link_set_name(peer, a->name);
	if (a->mtu) {
		rtnl_link_set_mtu(link, a->mtu);
		rtnl_link_set_mtu(peer, a->mtu);
	}
	rtnl_link_set_ns_fd(peer, nsfd);
	rtnl_link_put(peer);
	ret = kernel_nl_err(rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL));
	rtnl_link_put(link);
	if (ret < 0) {
		snprintf(err, errlen, "cannot create veth %s (peer in netns "
			 "%s): %s%s", a->name, a->netns, strerror(-ret),
			 ret == -EEXIST ? " (the name is taken here or in "
					  "the namespace)" : "");
		close(nsfd);
		return ret;
	}
	idx = kernel_link_index(sk, a->name);
	if (idx < 0) {
		snprintf(err, errlen, "veth %s vanished", a->name);
		close(nsfd);
		return idx;
	}
	ret = kernel_link_set(sk, idx, &set);
	if (ret < 0) {
		snprintf(err, errlen, "veth %s: cannot set alias/master/up: %s",
			 a->name, strerror(-ret));
		goto fail;
	}
	ret = veth_peer_setup(nsfd, a, err, errlen);
	if (ret < 0)
		goto fail;
	close(nsfd);
	log_info(MOD, "veth %s up (ifindex %d, peer in netns %s)", a->name,
		 idx, a->netns);
	return idx;
fail:
	kernel_link_delete(sk, idx);
	close(nsfd);
	return ret;
}
