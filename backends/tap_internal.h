/* SPDX-License-Identifier: MIT */
/* tap_internal.h - what tap.c and tap_netlink.c share; not for other users. */
#ifndef LOOM_BACKENDS_TAP_INTERNAL_H
#define LOOM_BACKENDS_TAP_INTERNAL_H

#include <stddef.h>

struct tap_args;

/* tap_netns_open - open /run/netns/@name. Return: an fd or -1 / -EINVAL. */
int tap_netns_open(const char *name);

/*
 * tap_netlink_configure - move interface @ifname (*@ifindex) into @nsfd
 * (if >= 0; *@ifindex is updated), set its alias, MTU, txqueuelen and
 * address from @a and bring it up.
 * Return: 0, or a negative errno with a message in @err.
 */
int tap_netlink_configure(const char *ifname, int *ifindex,
			  const struct tap_args *a, int nsfd, char *err,
			  size_t errlen);

#endif
