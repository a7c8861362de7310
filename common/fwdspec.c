/* SPDX-License-Identifier: MIT */
/* fwdspec.c - port forward endpoints: "[ADDR:]PORT" on the host, "ADDR[:PORT]" or "NAME[:PORT]" in the guest. */
#include "common/fwdspec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* "1".."65535": decimal digits only, no leading zero. */
static int port_parse(const char *s, size_t len, uint16_t *out)
{
	uint32_t v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* An address of @len bytes at @s (brackets already removed). */
static int addr_parse(const char *s, size_t len, int family,
		      struct inet_cidr *out)
{
	char buf[64];

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_addr_parse(buf, out))
		return -EINVAL;
	if (family && out->family != family)
		return -EINVAL;
	return 0;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A guest's host name of @len bytes at @s (fwdspec.h says which). */
static int name_parse(const char *s, size_t len, char *out)
{
	bool letter = false;

	if (len == 0 || len >= FWD_NAME_MAX || !name_char(s[0]) ||
	    s[0] == '-' || s[0] == '_')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!name_char(s[i]))
			return -EINVAL;
		letter |= (s[i] >= 'a' && s[i] <= 'z') ||
			  (s[i] >= 'A' && s[i] <= 'Z');
	}
	if (!letter)
		return -EINVAL;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* A guest's address or, failing that, its name. */
static int guest_addr_parse(const char *s, size_t len, struct fwd_endpoint *out)
{
	if (!addr_parse(s, len, 0, &out->addr))
		return 0;
	memset(&out->addr, 0, sizeof(out->addr));
	return name_parse(s, len, out->name);
}

/*
 * Split "[V6]:PORT", "[V6]", "V4:PORT", "V4", "V6" (bare, only without a
 * port) or "PORT" (@bare_port). Return: 0 or -EINVAL.
 */
static int endpoint_parse(const char *s, bool host, struct fwd_endpoint *out)
{
	size_t len = strnlen(s, FWDSPEC_STRLEN + 1);
	const char *colon, *close;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > FWDSPEC_STRLEN)
		return -EINVAL;
	if (s[0] == '[') {
		close = memchr(s, ']', len);
		if (!close || addr_parse(s + 1, (size_t)(close - s - 1),
					 AF_INET6, &out->addr))
			return -EINVAL;
		if (close[1] == '\0')
			return host ? -EINVAL : 0;
		if (close[1] != ':')
			return -EINVAL;
		return port_parse(close + 2, len - (size_t)(close + 2 - s),
				  &out->port);
	}
	colon = memchr(s, ':', len);
	if (!colon) {
		if (host) {
			/* A port alone: the host's loopback. */
			inet_addr_parse("127.0.0.1", &out->addr);
			return port_parse(s, len, &out->port);
		}
		return guest_addr_parse(s, len, out);
	}
	if (memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
		/* Several colons: a bare IPv6 address, guests only. */
		if (host)
			return -EINVAL;
		return addr_parse(s, len, AF_INET6, &out->addr);
	}
	if (host ? addr_parse(s, (size_t)(colon - s), AF_INET, &out->addr)
		 : guest_addr_parse(s, (size_t)(colon - s), out))
		return -EINVAL;
	if (out->addr.family == AF_INET6)
		return -EINVAL; /* "V6:PORT" is ambiguous: brackets */
	return port_parse(colon + 1, len - (size_t)(colon + 1 - s), &out->port);
}

int fwd_host_parse(const char *s, struct fwd_endpoint *out)
{
	return endpoint_parse(s, true, out);
}

int fwd_guest_parse(const char *s, struct fwd_endpoint *out)
{
	return endpoint_parse(s, false, out);
}

char *fwd_endpoint_format(const struct fwd_endpoint *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (e->name[0]) {
		if (e->port)
			snprintf(buf, len, "%s:%u", e->name, e->port);
		else
			snprintf(buf, len, "%s", e->name);
		return buf;
	}
	inet_addr_format(&e->addr, a, sizeof(a));
	if (!e->port) /* a guest end without a port */
		snprintf(buf, len, e->addr.family == AF_INET6 ? "[%s]" : "%s",
			 a);
	else if (e->addr.family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, e->port);
	else
		snprintf(buf, len, "%s:%u", a, e->port);
	return buf;
}

socklen_t fwd_endpoint_sockaddr(const struct fwd_endpoint *e,
				struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (e->addr.family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(e->port);
		if (!e->name[0])
			memcpy(&s6->sin6_addr, e->addr.addr, 16);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(e->port);
		if (!e->name[0])
			memcpy(&s4->sin_addr, e->addr.addr, 4);
		return sizeof(*s4);
	}
}

int fwd_proto_parse(const char *s)
{
	if (!strcmp(s, "tcp"))
		return 0;
	if (!strcmp(s, "udp"))
		return 1;
	return -EINVAL;
}
