/* SPDX-License-Identifier: MIT */
/* fwdspec.h - port forward endpoints: "[ADDR:]PORT" on the host, "ADDR[:PORT]" in the guest. */
#ifndef LOOM_COMMON_FWDSPEC_H
#define LOOM_COMMON_FWDSPEC_H

/*
 * The text forms of a port forward's two ends, shared by the network file
 * (forwards[].host / .guest), the control protocol and `loom forward`:
 *
 *   host:  PORT | IPV4:PORT | [IPV6]:PORT    (no address: 127.0.0.1)
 *   guest: IPV4 | IPV4:PORT | IPV6 | [IPV6] | [IPV6]:PORT
 *          (no port: the host's port)
 *
 * PORT is decimal 1..65535, no sign, no leading zero. The strings are
 * untrusted (a file, a control client): lengths are checked, nothing is
 * allocated, and a failure says nothing but -EINVAL.
 */

#include <stdint.h>
#include <sys/socket.h>

#include "common/inet.h"

/* Longest canonical text, NUL included ("[ADDR]:65535"). */
#define FWDSPEC_STRLEN (46 + 2 + 6 + 1)

struct fwd_endpoint {
	struct inet_cidr addr; /* prefix is the full length */
	uint16_t port;	       /* 0 in a guest end without a port */
};

/* fwd_host_parse() - "[ADDR:]PORT". Return: 0 or -EINVAL. */
int fwd_host_parse(const char *s, struct fwd_endpoint *out);
/* fwd_guest_parse() - "ADDR[:PORT]" (port 0 when absent). Return: 0/-EINVAL. */
int fwd_guest_parse(const char *s, struct fwd_endpoint *out);

/* fwd_endpoint_format() - "ADDR:PORT" or "[ADDR]:PORT" ("ADDR", "[ADDR]"
 * for port 0). Return: @buf. */
char *fwd_endpoint_format(const struct fwd_endpoint *e, char *buf,
			  size_t len);

/* fwd_endpoint_sockaddr() - as a struct sockaddr_in/_in6. Return: its length. */
socklen_t fwd_endpoint_sockaddr(const struct fwd_endpoint *e,
				struct sockaddr_storage *ss);

/* fwd_proto_parse() - "tcp" -> 0, "udp" -> 1. Return: 0/1, or -EINVAL. */
int fwd_proto_parse(const char *s);

#endif
