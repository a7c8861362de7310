/* SPDX-License-Identifier: MIT */
/* tap_netlink.c - TAP set-up over netlink: namespaces, alias/MTU/address, stray clean-up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "backends/tap.h"
#include "backends/tap_internal.h"
#include "common/log.h"

LOG_MODULE("tap-netlink");
#define NETNS_DIR "/run/netns"

/*
 * The TAP's txqueuelen, which is also the length of the kernel's queue of
 * frames waiting for our read (tun's ptr_ring; the kernel's default is
 * 1000). On this shared two-core machine the data-path thread is off the
 * CPU for milliseconds at a time while the sender keeps going: at 500 kpps
 * a 1000-frame queue overflows in 2 ms. A longer queue rides that out
 * (docs/performance-tap.md); it holds frames, not bytes, and TCP bounds
 * what it queues by its window. LOOM_TAP_TXQLEN overrides it.
 */
enum { TAP_TXQLEN = 4096, TAP_TXQLEN_MAX = 65536 };

static unsigned int tap_txqlen(void)
{
	const char *env = getenv("LOOM_TAP_TXQLEN");
	unsigned long v;

	if (!env || !*env)
		return TAP_TXQLEN;
	v = strtoul(env, NULL, 10);
	return v >= 1 && v <= TAP_TXQLEN_MAX ? (unsigned int)v : TAP_TXQLEN;
}

/* Open a route netlink socket in namespace @nsfd (-1: the caller's). */
static struct nl_sock *tap_nl_open(int nsfd)
{
	struct nl_sock *sk = NULL;
	int self = -1;

	if (nsfd >= 0) {
		/* Only this thread changes namespace, and only for socket(). */
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0)
			return NULL;
		if (setns(nsfd, CLONE_NEWNET) < 0) {
			close(self);
			return NULL;
		}
	}
	sk = nl_socket_alloc();
	if (sk && nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		sk = NULL;
	}
	if (self >= 0) {
		if (setns(self, CLONE_NEWNET) < 0)
			log_err(MOD, "cannot return to own netns: %s",
				strerror(errno));
		close(self);
	}
	if (!sk && errno == 0)
		errno = ENOMEM;
	return sk;
}

int tap_netns_open(const char *name)
{
	char path[128];

	if (!name || !*name || strchr(name, '/') || strlen(name) > 64)
		return -EINVAL;
	snprintf(path, sizeof(path), NETNS_DIR "/%s", name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int nlerr(int e)
{
	switch (-e) {
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
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	default:
		return -EIO;
	}
}

int tap_netlink_configure(const char *ifname, int *ifindex,
			  const struct tap_args *a, int nsfd, char *err,
			  size_t errlen)
{
	struct nl_sock *sk = NULL, *nsk = NULL;
	struct rtnl_link *link = NULL, *chg = NULL;
	struct rtnl_addr *addr = NULL;
	struct nl_addr *local = NULL;
	int ret;

	sk = tap_nl_open(-1);
	if (!sk) {
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		return -errno;
	}
	ret = rtnl_link_get_kernel(sk, *ifindex, NULL, &link);
	if (ret < 0) {
		ret = nlerr(ret);
		snprintf(err, errlen, "%s: cannot read link: %s", ifname,
			 strerror(-ret));
		goto out;
	}
	chg = rtnl_link_alloc();
	if (!chg) {
		ret = -ENOMEM;
		goto out;
	}
	if (a->alias)
		rtnl_link_set_ifalias(chg, a->alias);
	if (a->mtu)
		rtnl_link_set_mtu(chg, a->mtu);
	rtnl_link_set_txqlen(chg, tap_txqlen());
	ret = rtnl_link_change(sk, link, chg, 0);
	if (ret < 0) {
		ret = nlerr(ret);
		snprintf(err, errlen, "%s: cannot set alias/MTU %u/txqueuelen: %s",
			 ifname, a->mtu, strerror(-ret));
		goto out;
	}
	rtnl_link_put(chg);
	chg = NULL;

	if (nsfd >= 0) {
		chg = rtnl_link_alloc();
		if (!chg) {
			ret = -ENOMEM;
			goto out;
		}
		rtnl_link_set_ns_fd(chg, nsfd);
		ret = rtnl_link_change(sk, link, chg, 0);
		if (ret < 0) {
			ret = nlerr(ret);
			snprintf(err, errlen, "%s: cannot move to netns %s: %s",
				 ifname, a->netns, strerror(-ret));
			goto out;
		}
		rtnl_link_put(chg);
		chg = NULL;
		rtnl_link_put(link);
		link = NULL;
		nsk = tap_nl_open(nsfd);
		if (!nsk) {
			ret = -errno;
			snprintf(err, errlen, "netlink in netns %s: %s",
				 a->netns, strerror(-ret));
			goto out;
		}
		/* The index may change when it is taken in the target. */
		ret = rtnl_link_get_kernel(nsk, 0, ifname, &link);
		if (ret < 0) {
			ret = nlerr(ret);
			snprintf(err, errlen, "%s: not found in netns %s",
				 ifname, a->netns);
			goto out;
		}
		*ifindex = rtnl_link_get_ifindex(link);
	}

	if (a->address && *a->address) {
		ret = nl_addr_parse(a->address, AF_UNSPEC, &local);
		if (ret < 0) {
			ret = -EINVAL;
			snprintf(err, errlen, "bad address '%s'", a->address);
			goto out;
		}
		addr = rtnl_addr_alloc();
		if (!addr) {
			ret = -ENOMEM;
			goto out;
		}
		rtnl_addr_set_ifindex(addr, *ifindex);
		rtnl_addr_set_local(addr, local);
		ret = rtnl_addr_add(nsk ? nsk : sk, addr, 0);
		if (ret < 0) {
			ret = nlerr(ret);
			snprintf(err, errlen, "%s: cannot set address %s: %s",
				 ifname, a->address, strerror(-ret));
			goto out;
		}
	}

	chg = rtnl_link_alloc();
	if (!chg) {
		ret = -ENOMEM;
		goto out;
	}
	rtnl_link_set_flags(chg, IFF_UP);
	ret = rtnl_link_change(nsk ? nsk : sk, link, chg, 0);
	if (ret < 0) {
		ret = nlerr(ret);
		snprintf(err, errlen, "%s: cannot bring up: %s", ifname,
			 strerror(-ret));
		goto out;
	}
	ret = 0;
out:
	if (addr)
		rtnl_addr_put(addr);
	if (local)
		nl_addr_put(local);
	if (chg)
		rtnl_link_put(chg);
	if (link)
		rtnl_link_put(link);
	if (nsk)
		nl_socket_free(nsk);
	nl_socket_free(sk);
	return ret;
}

/* Delete links with our alias prefix seen through @sk. */
static int tap_cleanup_ns(struct nl_sock *sk, const char *prefix,
			  const char *where)
{
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int n = 0;

	if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache) < 0)
		return 0;
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_link *l = (struct rtnl_link *)obj;
		const char *alias = rtnl_link_get_ifalias(l);

		if (!alias || strncmp(alias, prefix, strlen(prefix)))
			continue;
		if (rtnl_link_delete(sk, l) == 0) {
			log_info(MOD, "removed stray %s (%s) in %s",
				 rtnl_link_get_name(l), alias, where);
			n++;
		}
	}
	nl_cache_free(cache);
	return n;
}

int tap_cleanup_stray(const char *prefix)
{
	struct nl_sock *sk;
	DIR *d;
	struct dirent *de;
	int n = 0;

	sk = tap_nl_open(-1);
	if (!sk)
		return -errno;
	n += tap_cleanup_ns(sk, prefix, "the host namespace");
	nl_socket_free(sk);
	d = opendir(NETNS_DIR);
	if (!d)
		return n;
	while ((de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = tap_netns_open(de->d_name);
		if (fd < 0)
			continue;
		sk = tap_nl_open(fd);
		close(fd);
		if (!sk)
			continue;
		n += tap_cleanup_ns(sk, prefix, de->d_name);
		nl_socket_free(sk);
	}
	closedir(d);
	return n;
}
