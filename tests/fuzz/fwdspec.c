/* SPDX-License-Identifier: MIT */
/* fwdspec.c - fuzz the port forward text forms (CLI arguments, network files, control requests). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/fwdspec.h"
#include "common/netconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A canonical text parses back to the same endpoint. */
static void round_trip(const struct fwd_endpoint *e, bool host)
{
	struct fwd_endpoint back;
	char buf[FWDSPEC_STRLEN];
	struct sockaddr_storage ss;

	fwd_endpoint_format(e, buf, sizeof(buf));
	if ((host ? fwd_host_parse(buf, &back) : fwd_guest_parse(buf, &back)))
		abort();
	if (back.port != e->port || strcmp(back.name, e->name) ||
	    (!e->name[0] && !inet_addr_equal(&back.addr, &e->addr)))
		abort();
	if (fwd_endpoint_sockaddr(e, &ss) == 0)
		abort();
}

/*
 * Input: "PROTO\nHOST\nGUEST" (missing parts are empty). Each part goes
 * through its parser alone, then the three as a forward of a nat network.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *part[3] = {NULL, NULL, NULL}, *p;
	struct netconf_net net = {.mode = NETCONF_MODE_NAT,
				  .subnet = "10.0.2.0/24",
				  .gateway = "10.0.2.1",
				  .subnet6 = "fd00::/64"};
	struct netconf_forward f = {0};
	struct netconf_error err;
	struct fwd_endpoint e;
	int i = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (p = s; i < 3; i++) {
		part[i] = p;
		p = strchr(p, '\n');
		if (!p)
			break;
		*p++ = '\0';
	}
	for (i = 0; i < 3; i++) {
		if (!part[i])
			continue;
		if (!fwd_host_parse(part[i], &e))
			round_trip(&e, true);
		if (!fwd_guest_parse(part[i], &e))
			round_trip(&e, false);
	}
	if (part[0])
		fwd_proto_parse(part[0]);
	f.proto = part[0] && fwd_proto_parse(part[0]) == 1 ? NETCONF_FWD_UDP
							   : NETCONF_FWD_TCP;
	f.host = part[1] ? strdup(part[1]) : NULL;
	f.guest = part[2] ? strdup(part[2]) : NULL;
	if (netconf_forward_validate(&f, &net, "", &err) == 0) {
		/* Defaults keep a valid forward valid. */
		if (netconf_forward_set_defaults(&f) == 0 &&
		    netconf_forward_validate(&f, &net, "", &err))
			abort();
	}
	netconf_forward_clear(&f);
	free(s);
	return 0;
}
