/* SPDX-License-Identifier: MIT */
/* fwdspec.h - port forward endpoints: "[ADDR:]PORT" on the host, "ADDR[:PORT]" or "NAME[:PORT]" in the guest. */
#ifndef LOOM_COMMON_FWDSPEC_H
#define LOOM_COMMON_FWDSPEC_H

/*
 * The text forms of a port forward's two ends, shared by the network file
 * (forwards[].host / .guest), the control protocol and `loom forward`:
 *
 *   host:  PORT | IPV4:PORT | [IPV6]:PORT    (no address: 127.0.0.1)
 *   guest: IPV4 | IPV4:PORT | IPV6 | [IPV6] | [IPV6]:PORT | NAME | NAME:PORT
 *          (no port: the host's port)
 *
 * NAME is a guest's host name as netd's DNS knows it (a lease's host name,
 * a static host, an attached VM): 1..FWD_NAME_MAX-1 letters, digits, '-'
 * and '_', starting with a letter or digit and holding at least one
 * letter, so that no name is ever an address or a port. netd resolves it
 * while the forward runs (docs/network-file.md, "Forwards to names").
 *
 * PORT is decimal 1..65535, no sign, no leading zero. The strings are
 * untrusted (a file, a control client): lengths are checked, nothing is
 * allocated, and a failure says nothing but -EINVAL.
 */

#include <stdint.h>
#include <sys/socket.h>

#include "common/inet.h"

/* A guest name's longest length, NUL included (a DNS label's 63 + 1). */
#define FWD_NAME_MAX 64

/* Longest text, NUL included ("NAME:65535"; "[ADDR]:65535" is shorter). */
#define FWDSPEC_STRLEN (FWD_NAME_MAX - 1 + 6 + 1)

/*
 * struct fwd_endpoint - one end. A guest end given by name has @name set
 * and @addr.family AF_UNSPEC; otherwise @name is "".
 */
struct fwd_endpoint {
	struct inet_cidr addr; /* prefix is the full length */
	uint16_t port;	       /* 0 in a guest end without a port */
	char name[FWD_NAME_MAX];
};

/* fwd_host_parse() - "[ADDR:]PORT". Return: 0 or -EINVAL. */
int fwd_host_parse(const char *s, struct fwd_endpoint *out);
/* fwd_guest_parse() - "ADDR[:PORT]" or "NAME[:PORT]" (port 0 when absent).
 * Return: 0/-EINVAL. */
int fwd_guest_parse(const char *s, struct fwd_endpoint *out);

/* fwd_endpoint_format() - "ADDR:PORT", "[ADDR]:PORT" or "NAME:PORT" ("ADDR",
 * "[ADDR]", "NAME" for port 0). Return: @buf. */
char *fwd_endpoint_format(const struct fwd_endpoint *e, char *buf,
			  size_t len);

/* fwd_endpoint_sockaddr() - as a struct sockaddr_in/_in6 (an end by name:
 * its port on the any address of @addr.family, AF_INET for AF_UNSPEC).
 * Return: its length. */
socklen_t fwd_endpoint_sockaddr(const struct fwd_endpoint *e,
				struct sockaddr_storage *ss);

/* fwd_proto_parse() - "tcp" -> 0, "udp" -> 1. Return: 0/1, or -EINVAL. */
int fwd_proto_parse(const char *s);

#endif
