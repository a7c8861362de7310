/* SPDX-License-Identifier: MIT */
/* nat_internal.h - what nat.c (uplink, forwards) and nat_cmd.c (forward.* commands) share. */
#ifndef LOOM_NETD_NAT_INTERNAL_H
#define LOOM_NETD_NAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/fwdspec.h"
#include "common/netconf.h"
#include "netd/netd.h"
#include "netd/service.h"

enum { ERRLEN = NETD_ERRLEN }; /* as commands.c's handlers */

/*
 * Forwards to names (docs/architecture.md, "Forwards to names"): libslirp
 * forwards to a fixed guest address, so netd resolves the name as its
 * DNS would (netd_gw_addr4: leases, static hosts, attached VMs) when the
 * forward starts, again whenever the gateway saw DHCP traffic
 * (net_names_changed) and every NAT_NAMES_MS (lease expiry, VMs that
 * attach), and re-points the listener when the answer changed. A name
 * without an address holds its host port and refuses connections.
 *
 * struct nat_fwd_rt - a declared forward's runtime side, index for index
 * with conf.forwards.
 * @err: why it is down ("" while it listens or waits for its name).
 * @name: its guest end is a name.
 * @ip4: the address (host order) the name points at now; 0: none, the
 *       forward waits.
 */
struct nat_fwd_rt {
	char err[160];
	bool name;
	uint32_t ip4;
};

/*
 * struct netd_nat - the runtime side of a nat network: its uplink, the
 * uplink's switch port, its declared forwards' state. A bridge network
 * has no uplink: its nat and forwards are the kernel's (@knat,
 * netd/knat.c), behind the same commands and fields.
 */
struct netd_nat {
	struct slirp_uplink *uplink;
	struct netd_knat *knat;
	int port_id;
	struct netd_dp_port *dp;
	struct evloop_timer *names_timer;
	struct nat_fwd_rt rt[NETCONF_FORWARDS_MAX];
};

/* Index of the declared forward of @n on @proto and host end @h, or -1. */
int nat_fwd_find(const struct netd_net *n, enum netconf_fwd_proto proto,
		 const struct fwd_endpoint *h);
/* Declare @f on @n and listen. Return: 0 or -errno with @err set. */
int nat_fwd_add(struct netd_net *n, const struct netconf_forward *f,
		char *err, size_t errlen);
/* Stop and forget declared forward @i of @n. */
void nat_fwd_del(struct netd_net *n, uint32_t i);
/* Forward @i of @n with its state, as forward.list shows it. */
json_t *nat_fwd_json(const struct netd_net *n, uint32_t i);

/* nat_cmd.c: forward.add, forward.remove, forward.list. */
extern const struct netd_command netd_nat_commands[];

#endif
