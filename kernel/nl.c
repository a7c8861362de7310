// SPDX-License-Identifier: MIT
/* nl.c - route netlink helpers for netd's kernel objects (libnl-route-3). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "common/log.h"
#include "kernel/nl.h"

LOG_MODULE("kernel-nl");

#define NETNS_DIR "/run/netns"

int kernel_netns_open(const char *name)
{
	char path[128];
	int fd;

	if (!name || !*name || strchr(name, '/') || strlen(name) > 64)
		return -EINVAL;
	snprintf(path, sizeof(path), NETNS_DIR "/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

struct nl_sock *kernel_nl_open(int nsfd)
{
	struct nl_sock *sk;
	int self = -1, saved;

	if (nsfd >= 0) {
		/* Only this thread changes namespace, and only for socket():
		 * the socket stays bound to the namespace it was made in. */
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0)
			return NULL;
		if (setns(nsfd, CLONE_NEWNET) < 0) {
			saved = errno;
			close(self);
			errno = saved;
			return NULL;
		}
	}
	sk = nl_socket_alloc();
	if (sk && nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		sk = NULL;
		errno = EIO;
	} else if (!sk) {
		errno = ENOMEM;
	}
	if (self >= 0) {
		saved = errno;
		if (setns(self, CLONE_NEWNET) < 0)
			log_err(MOD, "cannot return to own netns: %s",
				strerror(errno));
		close(self);
		errno = saved;
	}
	return sk;
}

int kernel_nl_err(int e)
{
	switch (e < 0 ? -e : e) {
	case 0:
		return 0;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENOENT;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	default:
		return -EIO;
	}
}

int kernel_link_index(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	int ret, idx;

	ret = rtnl_link_get_kernel(sk, 0, name, &l);
	if (ret < 0)
		return kernel_nl_err(ret);
	idx = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return idx;
}

int kernel_link_alias(struct nl_sock *sk, int ifindex, char *buf, size_t len)
{
	struct rtnl_link *l = NULL;
	const char *a;
	int ret;

	ret = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
	if (ret < 0)
		return kernel_nl_err(ret);
	a = rtnl_link_get_ifalias(l);
	snprintf(buf, len, "%s", a ? a : "");
	rtnl_link_put(l);
	return 0;
}

int kernel_link_set(struct nl_sock *sk, int ifindex,
		    const struct kernel_link_set *s)
{
	struct rtnl_link *l = NULL, *chg;
	int ret;

	ret = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
	if (ret < 0)
		return kernel_nl_err(ret);
	chg = rtnl_link_alloc();
	if (!chg) {
		rtnl_link_put(l);
		return -ENOMEM;
	}
	if (s->alias)
		rtnl_link_set_ifalias(chg, s->alias);
	if (s->mtu)
		rtnl_link_set_mtu(chg, s->mtu);
	if (s->master)
		rtnl_link_set_master(chg, s->master < 0 ? 0 : s->master);
	if (s->up)
		rtnl_link_set_flags(chg, IFF_UP);
	ret = kernel_nl_err(rtnl_link_change(sk, l, chg, 0));
	rtnl_link_put(chg);
	rtnl_link_put(l);
	return ret;
}

int kernel_link_delete(struct nl_sock *sk, int ifindex)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int ret;

	if (!l)
		return -ENOMEM;
	rtnl_link_set_ifindex(l, ifindex);
	ret = kernel_nl_err(rtnl_link_delete(sk, l));
	rtnl_link_put(l);
	return ret;
}

int kernel_addr_add(struct nl_sock *sk, int ifindex, const char *cidr)
{
	struct nl_addr *local = NULL;
	struct rtnl_addr *a;
	int ret;

	if (nl_addr_parse(cidr, AF_UNSPEC, &local) < 0)
		return -EINVAL;
	a = rtnl_addr_alloc();
	if (!a) {
		nl_addr_put(local);
		return -ENOMEM;
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	ret = kernel_nl_err(rtnl_addr_add(sk, a, 0));
	rtnl_addr_put(a);
	nl_addr_put(local);
	return ret;
}

int kernel_link_stats_get(struct nl_sock *sk, int ifindex,
			  struct kernel_link_stats *st)
{
	struct rtnl_link *l = NULL;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
	if (ret < 0)
		return kernel_nl_err(ret);
	st->rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
	st->rx_bytes = rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES);
	st->rx_dropped = rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED);
	st->rx_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_ERRORS);
	st->tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
	st->tx_bytes = rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES);
	st->tx_dropped = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED);
	st->tx_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_ERRORS);
	st->up = (rtnl_link_get_flags(l) & IFF_UP) &&
		 rtnl_link_get_carrier(l);
	rtnl_link_put(l);
	return 0;
}

int kernel_link_set_up(struct nl_sock *sk, int ifindex, bool up)
{
	struct rtnl_link *l = NULL, *chg;
	int ret;

	ret = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
	if (ret < 0)
		return kernel_nl_err(ret);
	chg = rtnl_link_alloc();
	if (!chg) {
		rtnl_link_put(l);
		return -ENOMEM;
	}
	if (up)
		rtnl_link_set_flags(chg, IFF_UP);
	else
		rtnl_link_unset_flags(chg, IFF_UP);
	ret = kernel_nl_err(rtnl_link_change(sk, l, chg, 0));
	rtnl_link_put(chg);
	rtnl_link_put(l);
	return ret;
}
