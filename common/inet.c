/* SPDX-License-Identifier: MIT */
/* inet.c - IPv4/IPv6 addresses and CIDR prefixes: parse, format, subnet math.
 */
#include "common/inet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int inet_addr_parse(const char *s, struct inet_cidr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = AF_INET6;
		out->prefix = 128;
		return 0;
	}
	return -EINVAL;
}

int inet_cidr_parse(const char *s, struct inet_cidr *out)
{
	char buf[64], *slash, *end;
	unsigned long prefix;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash || !slash[1] || slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	*slash = '\0';
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (errno || *end || (slash[1] == '0' && slash[2]))
		return -EINVAL;
	if (inet_addr_parse(buf, out))
		return -EINVAL;
	if (prefix > out->prefix)
		return -EINVAL;
	out->prefix = (unsigned int)prefix;
	return 0;
}

unsigned int inet_addr_len(const struct inet_cidr *c)
{
	return c->family == AF_INET ? 4 : 16;
}

/* Copies @c with the host bits cleared (@host false) or set (@host true). */
static void cidr_edge(const struct inet_cidr *c, struct inet_cidr *out,
		      bool host)
{
	unsigned int i, bits;

	*out = *c;
	for (i = 0; i < inet_addr_len(c); i++) {
		bits = c->prefix > i * 8 ? c->prefix - i * 8 : 0;
		if (bits >= 8)
			continue;
		if (host)
			out->addr[i] |= (uint8_t)(0xff >> bits);
		else
			out->addr[i] &= (uint8_t) ~(0xff >> bits);
	}
}

void inet_cidr_network(const struct inet_cidr *c, struct inet_cidr *out)
{
	cidr_edge(c, out, false);
}

void inet_cidr_last(const struct inet_cidr *c, struct inet_cidr *out)
{
	cidr_edge(c, out, true);
}

bool inet_cidr_contains(const struct inet_cidr *net, const struct inet_cidr *ip)
{
	struct inet_cidr a, b = *ip;

	if (net->family != ip->family)
		return false;
	b.prefix = net->prefix;
	cidr_edge(net, &a, false);
	cidr_edge(&b, &b, false);
	return !memcmp(a.addr, b.addr, inet_addr_len(net));
}

bool inet_addr_equal(const struct inet_cidr *a, const struct inet_cidr *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, inet_addr_len(a));
}

char *inet_addr_format(const struct inet_cidr *c, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s", ip);
	return buf;
}

char *inet_cidr_format(const struct inet_cidr *c, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s/%u", ip, c->prefix);
	return buf;
}

/* Point-to-point prefixes: every address is a host's (RFC 3021, 6164). */
static bool cidr_all_hosts(const struct inet_cidr *c)
{
	return c->prefix + 1 >= inet_addr_len(c) * 8;
}

/* Adds @n to the address, carrying across bytes; wraps past the top. */
static void addr_add(struct inet_cidr *c, uint64_t n)
{
	unsigned int carry = 0, sum;
	int i;

	for (i = (int)inet_addr_len(c) - 1; i >= 0; i--) {
		sum = c->addr[i] + (unsigned int)(n & 0xff) + carry;
		c->addr[i] = (uint8_t)sum;
		carry = sum >> 8;
		n >>= 8;
		if (!n && !carry)
			break;
	}
}

void inet_cidr_first_host(const struct inet_cidr *subnet, struct inet_cidr *out)
{
	cidr_edge(subnet, out, false);
	if (!cidr_all_hosts(subnet))
		addr_add(out, 1);
}

void inet_cidr_last_host(const struct inet_cidr *subnet, struct inet_cidr *out)
{
	int i;

	cidr_edge(subnet, out, true);
	if (subnet->family != AF_INET || cidr_all_hosts(subnet))
		return;
	/* broadcast - 1: the last byte is 0xff, so no borrow. */
	i = (int)inet_addr_len(subnet) - 1;
	out->addr[i]--;
}

int inet_cidr_nth(const struct inet_cidr *subnet, uint64_t n,
		  struct inet_cidr *out)
{
	unsigned int host_bits = inet_addr_len(subnet) * 8 - subnet->prefix;
	struct inet_cidr r;

	if (host_bits < 64 && n >> host_bits)
		return -ERANGE;
	cidr_edge(subnet, &r, false);
	addr_add(&r, n);
	*out = r;
	return 0;
}

uint32_t inet_v4_u32(const struct inet_cidr *c)
{
	if (c->family != AF_INET)
		return 0;
	return (uint32_t)c->addr[0] << 24 | (uint32_t)c->addr[1] << 16 |
	       (uint32_t)c->addr[2] << 8 | c->addr[3];
}

void inet_v4_set(struct inet_cidr *out, uint32_t host_order,
		 unsigned int prefix)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	out->addr[0] = (uint8_t)(host_order >> 24);
	out->addr[1] = (uint8_t)(host_order >> 16);
	out->addr[2] = (uint8_t)(host_order >> 8);
	out->addr[3] = (uint8_t)host_order;
	out->prefix = prefix > 32 ? 32 : prefix;
}
