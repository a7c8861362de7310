// SPDX-License-Identifier: MIT
/* antispoof.c - anti-spoofing on a network's guest ports: the eBPF program on bridge ports, the switch's policy on its own ports; addresses declared or leased. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/antispoof.h"
#include "common/inet.h"
#include "common/log.h"
#include "kernel/antispoof.h"
#include "netd/netd.h"

LOG_MODULE("netd-antispoof");

/*
 * One policy per guest port (common/antispoof.h): on by default on a
 * bridge network's veth and TAP access ports (netconf_port_antispoof),
 * `antispoof: true|false` per port anywhere. A bridge port's policy is
 * enforced by a TC ingress eBPF program on its interface
 * (kernel/antispoof.c, loaded once per network when its first port needs
 * it); a built-in switch port's by the switch (switch/forward.c). The
 * MAC is learnt from the port's first frame; the IPv4 addresses are the
 * declared `address` and the port's DHCP lease, updated by the gateway
 * before each DHCP reply leaves (netd_antispoof_leases_changed), so the
 * guest never holds a lease it may not use yet, and once a second (an
 * expired lease goes; a lease a guest held before netd restarted comes
 * back once its MAC is seen again).
 */
struct netd_antispoof {
	struct kernel_antispoof *k;
};

static void policy_of(const struct netconf_port *pc,
		      struct antispoof_policy *pol)
{
	struct inet_cidr a;

	memset(pol, 0, sizeof(*pol));
	pol->flags = ANTISPOOF_F_ON;
	if (pc->allow_ra)
		pol->flags |= ANTISPOOF_F_ALLOW_RA;
	if (pc->allow_dhcp_server)
		pol->flags |= ANTISPOOF_F_ALLOW_DHCP_SERVER;
	if (pc->address && !inet_cidr_parse(pc->address, &a) &&
	    a.family == AF_INET)
		memcpy(&pol->ip[pol->nip++], a.addr, 4);
}

/* The addresses port @pc may use now: declared, and @mac's lease. */
static unsigned int addrs_of(struct netd_net *n, const struct netconf_port *pc,
			     const struct antispoof_policy *cur, uint32_t *ip)
{
	struct antispoof_policy base;
	uint32_t leased;
	unsigned int k;

	policy_of(pc, &base);
	k = base.nip;
	memcpy(ip, base.ip, k * sizeof(*ip));
	if ((cur->flags & ANTISPOOF_F_MAC_SET) &&
	    !netd_gw_lease_of(n, cur->mac, &leased) &&
	    (!k || ip[0] != leased))
		ip[k++] = leased;
	return k;
}

void netd_antispoof_swcfg(struct netd_net *n, const struct netconf_port *pc,
			  struct switch_port_config *cfg)
{
	if (netconf_port_antispoof(&n->conf, pc))
		policy_of(pc, &cfg->antispoof);
}

int netd_antispoof_kport_up(struct netd_net *n, uint32_t i, char *err,
			    size_t errlen)
{
	const struct netconf_port *pc = &n->conf.ports[i];
	struct antispoof_policy pol;
	int ret;

	if (!netconf_port_antispoof(&n->conf, pc) || n->rt[i].kifindex <= 0)
		return 0;
	if (!n->as) {
		n->as = calloc(1, sizeof(*n->as));
		if (!n->as)
			return -ENOMEM;
	}
	if (!n->as->k) {
		ret = kernel_antispoof_open(&n->as->k, err, errlen);
		if (ret < 0) {
			size_t l = strlen(err);

			/* Fail closed, and say how to run without it. */
			snprintf(err + l, errlen - l, "; 'antispoof: false' "
				 "on the port runs it unprotected");
			return ret;
		}
		log_info(MOD, "%s: anti-spoofing eBPF program loaded",
			 n->conf.name);
	}
	policy_of(pc, &pol);
	ret = kernel_antispoof_attach(n->as->k, n->rt[i].kifindex, &pol, err,
				      errlen);
	if (ret == 0)
		n->rt[i].antispoof = true;
	return ret;
}

void netd_antispoof_kport_down(struct netd_net *n, uint32_t i)
{
	if (!n->rt[i].antispoof)
		return;
	n->rt[i].antispoof = false;
	kernel_antispoof_detach(n->as->k, n->rt[i].kifindex);
}

void netd_antispoof_stop(struct netd_net *n)
{
	if (!n->as)
		return;
	kernel_antispoof_close(n->as->k);
	free(n->as);
	n->as = NULL;
}

void netd_antispoof_leases_changed(struct netd_net *n)
{
	uint32_t ip[ANTISPOOF_IPS_MAX];
	struct antispoof_policy pol;
	struct antispoof_counters cnt;
	struct switch_port_config cfg;
	unsigned int k;

	for (uint32_t i = 0; i < n->conf.port_count; i++) {
		const struct netconf_port *pc = &n->conf.ports[i];
		struct netd_port *rt = &n->rt[i];

		if (rt->antispoof && !kernel_antispoof_read(n->as->k,
							    rt->kifindex, &pol,
							    &cnt)) {
			k = addrs_of(n, pc, &pol, ip);
			if (k != pol.nip || memcmp(ip, pol.ip, k * 4))
				kernel_antispoof_set_ips(n->as->k, rt->kifindex,
							 ip, k);
		} else if (!n->br && rt->port_id >= 0 &&
			   !switch_port_get_config(n->sw, (uint32_t)rt->port_id,
						   &cfg) &&
			   (cfg.antispoof.flags & ANTISPOOF_F_ON)) {
			k = addrs_of(n, pc, &cfg.antispoof, ip);
			if (k != cfg.antispoof.nip ||
			    memcmp(ip, cfg.antispoof.ip, k * 4))
				switch_port_antispoof_set_ips(
				    n->sw, (uint32_t)rt->port_id, ip, k);
		}
	}
}

static json_t *policy_json(const struct antispoof_policy *pol)
{
	json_t *j, *a = json_array();
	char buf[INET_ADDRSTRLEN], mac[18] = "";

	for (unsigned int k = 0; a && k < pol->nip && k < ANTISPOOF_IPS_MAX;
	     k++)
		json_array_append_new(a, json_string(inet_ntop(
		    AF_INET, &pol->ip[k], buf, sizeof(buf))));
	if (pol->flags & ANTISPOOF_F_MAC_SET)
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 pol->mac[0], pol->mac[1], pol->mac[2], pol->mac[3],
			 pol->mac[4], pol->mac[5]);
	j = json_pack("{s:b,s:s,s:o,s:b,s:b}", "on", 1, "mac", mac,
		      "addresses", a, "allow_ra",
		      !!(pol->flags & ANTISPOOF_F_ALLOW_RA),
		      "allow_dhcp_server",
		      !!(pol->flags & ANTISPOOF_F_ALLOW_DHCP_SERVER));
	return j;
}

/* The drop counters' names: the switch's, so both kinds read the same. */
static const char *const drop_names[ANTISPOOF_DROP__COUNT] = {
	[ANTISPOOF_DROP_SRC_MAC] = "spoof_mac",
	[ANTISPOOF_DROP_SRC_IP] = "spoof_ip",
	[ANTISPOOF_DROP_ARP] = "spoof_arp",
	[ANTISPOOF_DROP_DHCP_SERVER] = "dhcp_server",
	[ANTISPOOF_DROP_RA] = "router_adv",
};

json_t *netd_antispoof_port_json(struct netd_net *n, uint32_t i)
{
	const struct netd_port *rt = &n->rt[i];
	struct switch_port_config cfg;
	struct antispoof_policy pol;
	struct antispoof_counters cnt;
	struct switch_port_stats st;
	json_t *j, *drops;

	if (rt->antispoof) {
		if (kernel_antispoof_read(n->as->k, rt->kifindex, &pol, &cnt))
			return json_pack("{s:b}", "on", 0);
		j = policy_json(&pol);
		drops = json_object();
		for (int r = 1; r < ANTISPOOF_DROP__COUNT; r++)
			json_object_set_new(drops, drop_names[r],
					    json_integer((json_int_t)
							     cnt.drops[r]));
		json_object_set_new(j, "drops", drops);
		json_object_set_new(j, "path", json_string("ebpf"));
		return j;
	}
	if (n->br || rt->port_id < 0 ||
	    switch_port_get_config(n->sw, (uint32_t)rt->port_id, &cfg) ||
	    !(cfg.antispoof.flags & ANTISPOOF_F_ON))
		return json_pack("{s:b}", "on", 0);
	j = policy_json(&cfg.antispoof);
	memset(&st, 0, sizeof(st));
	switch_port_stats_get(n->sw, (uint32_t)rt->port_id, &st);
	drops = json_object();
	for (int r = 1; r < ANTISPOOF_DROP__COUNT; r++)
		json_object_set_new(drops, drop_names[r],
				    json_integer((json_int_t)st.drops[
					SWITCH_DROP_SPOOF_MAC + r - 1]));
	json_object_set_new(j, "drops", drops);
	json_object_set_new(j, "path", json_string("switch"));
	return j;
}
