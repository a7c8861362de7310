/* SPDX-License-Identifier: MIT */
/* inet.h - IPv4/IPv6 addresses and CIDR prefixes: parse, format, subnet math.
 */
#ifndef LOOM_COMMON_INET_H
#define LOOM_COMMON_INET_H

/*
 * One value type for an address with a prefix length, shared by the network
 * file model (common/netconf_*.c) and the services that hand out or route
 * addresses (DHCP pools, NAT, labs). A bare address is a CIDR whose prefix is
 * the full length (32 or 128). Addresses are kept in network byte order in
 * @addr; for IPv4 only addr[0..3] are used and the rest is zero.
 *
 * Nothing here allocates; every function is thread-safe and takes untrusted
 * strings (length-checked, no locale).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text inet_cidr_format() writes, NUL included ("ADDR/128"). */
#define INET_CIDR_STRLEN (46 + 4)

/* struct inet_cidr - an address with prefix length. */
struct inet_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned int prefix;
};

/* inet_addr_parse() - a bare address; prefix set to the full length.
 * Return: 0 or -EINVAL. */
int inet_addr_parse(const char *s, struct inet_cidr *out);

/* inet_cidr_parse() - "ADDR/PREFIX" (IPv4 or IPv6; the prefix in decimal,
 * no leading zero, at most the family's length). Host bits may be set: the
 * caller decides whether that is an address in a subnet or an error.
 * Return: 0 or -EINVAL. */
int inet_cidr_parse(const char *s, struct inet_cidr *out);

/* inet_addr_len() - bytes of the address: 4 (IPv4) or 16 (IPv6). */
unsigned int inet_addr_len(const struct inet_cidr *c);

/* inet_addr_equal() - same family and address; prefixes are ignored. */
bool inet_addr_equal(const struct inet_cidr *a, const struct inet_cidr *b);

/* inet_addr_format() - "ADDR" into @buf. Return: @buf. */
char *inet_addr_format(const struct inet_cidr *c, char *buf, size_t len);
/* inet_cidr_format() - "ADDR/PREFIX" into @buf. Return: @buf. */
char *inet_cidr_format(const struct inet_cidr *c, char *buf, size_t len);

/* inet_cidr_network() - @c with its host bits cleared (out may be c). */
void inet_cidr_network(const struct inet_cidr *c, struct inet_cidr *out);
/* inet_cidr_last() - @c with its host bits set: IPv4's broadcast address. */
void inet_cidr_last(const struct inet_cidr *c, struct inet_cidr *out);

/* inet_cidr_contains() - @ip (its prefix ignored) lies in subnet @net. */
bool inet_cidr_contains(const struct inet_cidr *net,
			const struct inet_cidr *ip);

/*
 * inet_cidr_first_host() / inet_cidr_last_host() - the first and last
 * address a host may use in @subnet. IPv4 with a prefix up to /30: network
 * + 1 and broadcast - 1; IPv6 up to /126: network + 1 (the network address
 * is the subnet-router anycast) and the last address; /31, /32, /127 and
 * /128 (point-to-point links, RFC 3021 and 6164): the first and last
 * address themselves. @out keeps @subnet's prefix.
 */
void inet_cidr_first_host(const struct inet_cidr *subnet,
			  struct inet_cidr *out);
void inet_cidr_last_host(const struct inet_cidr *subnet, struct inet_cidr *out);

/* inet_cidr_nth() - the address @n after @subnet's network address (n = 0 is
 * the network address), for pools and defaults.
 * Return: 0, or -ERANGE when it lies outside @subnet. */
int inet_cidr_nth(const struct inet_cidr *subnet, uint64_t n,
		  struct inet_cidr *out);

/* inet_v4_u32() - an IPv4 address in host byte order (0 for IPv6). */
uint32_t inet_v4_u32(const struct inet_cidr *c);
/* inet_v4_set() - @out = IPv4 @host_order/@prefix. */
void inet_v4_set(struct inet_cidr *out, uint32_t host_order,
		 unsigned int prefix);

#endif
