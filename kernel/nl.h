/* SPDX-License-Identifier: MIT */
/* nl.h - route netlink helpers for netd's kernel objects (libnl-route-3). */
#ifndef LOOM_KERNEL_NL_H
#define LOOM_KERNEL_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl_sock;

/*
 * kernel_netns_open - open `ip netns` namespace @name (/run/netns/NAME).
 * Return: an O_CLOEXEC fd, or a negative errno (-EINVAL for a name with a
 * '/' or longer than 64 bytes, -ENOENT for no such namespace).
 */
int kernel_netns_open(const char *name);

/*
 * kernel_nl_open - a route netlink socket bound to namespace @nsfd (-1: the
 * caller's). The calling thread enters the namespace for socket() only.
 * Return: the socket (free with nl_socket_free), or NULL with errno set.
 */
struct nl_sock *kernel_nl_open(int nsfd);

/* kernel_nl_err - a libnl error (NLE_*, negative) as a negative errno. */
int kernel_nl_err(int nlerr);

/* kernel_link_index - @name's ifindex seen through @sk, or -ENOENT. */
int kernel_link_index(struct nl_sock *sk, const char *name);

/* kernel_link_alias - @ifindex's ifalias into @buf ("" when none).
 * Return: 0 or a negative errno. */
int kernel_link_alias(struct nl_sock *sk, int ifindex, char *buf, size_t len);

/*
 * struct kernel_link_set - what kernel_link_set() changes; 0/NULL fields
 * are left alone. @master -1 detaches, 0 leaves it.
 */
struct kernel_link_set {
	const char *alias;
	uint32_t mtu;
	int master;
	bool up;
};

/* kernel_link_set - apply @s to @ifindex. Return: 0 or a negative errno. */
int kernel_link_set(struct nl_sock *sk, int ifindex,
		    const struct kernel_link_set *s);

/* kernel_link_set_up - set (@up) or clear IFF_UP on @ifindex, nothing
 * else (a veth's peer then shows NO-CARRIER). Return: 0 or -errno. */
int kernel_link_set_up(struct nl_sock *sk, int ifindex, bool up);

/* kernel_link_delete - delete @ifindex. Return: 0, -ENOENT, or -errno. */
int kernel_link_delete(struct nl_sock *sk, int ifindex);

/* kernel_addr_add - add @cidr ("ADDR/PREFIX") to @ifindex. */
int kernel_addr_add(struct nl_sock *sk, int ifindex, const char *cidr);

/* struct kernel_link_stats - an interface's counters, as the kernel has them. */
struct kernel_link_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
	bool up;	/* IFF_UP and carrier */
};

/* kernel_link_stats_get - @ifindex's counters. Return: 0 or -errno. */
int kernel_link_stats_get(struct nl_sock *sk, int ifindex,
			  struct kernel_link_stats *st);

#endif
