// SPDX-License-Identifier: MIT
/* bridge.c - mode bridge: a Linux bridge netd owns, its veth and TAP ports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>

#include "backends/registry.h"
#include "backends/tap.h"
#include "common/log.h"
#include "kernel/bridge.h"
#include "kernel/nl.h"
#include "kernel/veth.h"
#include "kernel/vlan.h"
#include "netd/netd.h"

LOG_MODULE("netd-bridge");

/*
 * A bridge network moves its frames in the kernel: netd creates the bridge
 * (VLAN filtering, no default PVID), enslaves each declared port with the
 * VLAN entries its access/trunk/native fields map to, and then only reads
 * the kernel's counters and FDB for `loom port list` / `loom fdb show`.
 * Every object carries netd's ifalias ("loom:<instance>:<net>[:<port>]"),
 * so the stray sweep at start (backend_cleanup_stray, which walks every
 * interface with that prefix) removes what a kill -9 left: the bridge and
 * its veths are persistent kernel objects, unlike a TAP. The restored
 * state then recreates them (docs/architecture.md, "Bridge networks").
 */
struct netd_bridge {
	int ifindex;
	bool vlan_filtering; /* false: the kernel lacks it, one segment */
	struct nl_sock *sk;  /* control thread only */
	/* The switch link: a TAP port of the network's own switch, enslaved
	 * to the bridge, so what lives on the switch (the gateway's
	 * services, shm VM NICs) reaches the bridge's ports. */
	int link_port_id; /* -1: none */
	struct netd_dp_port *link_dp;
	char link_ifname[16];
	int link_ifindex;
};

#define BRIDGE_NO_VLANS_MSG \
	"this kernel's bridge cannot filter VLANs (built without " \
	"CONFIG_BRIDGE_VLAN_FILTERING): a bridge network here has only " \
	"untagged ports in VLAN 1"

/* Does port @pc need VLAN filtering (anything but untagged VLAN 1)? */
static bool bridge_port_needs_vlans(const struct netconf_port *pc)
{
	return pc->trunk_count ||
	       (pc->vlan && pc->vlan != NETCONF_DEFAULT_VLAN);
}

static struct nl_sock *bridge_sk(struct netd_net *n)
{
	return n->br->sk;
}

/* Remove interface @name if it is one of ours (a leftover); refuse it
 * if it is someone else's. */
static int bridge_name_claim(struct netd *d, struct nl_sock *sk,
			     const char *name, char *err, size_t errlen)
{
	char alias[256];
	int idx = kernel_link_index(sk, name), ret;

	if (idx == -ENOENT)
		return 0;
	if (idx < 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(-idx));
		return idx;
	}
	ret = kernel_link_alias(sk, idx, alias, sizeof(alias));
	if (ret == 0 && !strncmp(alias, d->alias_prefix,
				 strlen(d->alias_prefix))) {
		log_info(MOD, "removing %s (%s), left from an earlier run", name,
			 alias);
		return kernel_link_delete(sk, idx);
	}
	snprintf(err, errlen, "interface %s exists and is not this netd's "
		 "(ifalias '%s'); pick another name", name, alias);
	return -EEXIST;
}

/*
 * The link's name: "lk" and a hash of the alias prefix (the instance) and
 * the network, so two netd instances and two networks never collide.
 */
static void bridge_link_name(struct netd *d, struct netd_net *n, char *buf,
			     size_t len)
{
	uint32_t h = 2166136261u;

	for (const char *c = d->alias_prefix; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (const char *c = n->conf.name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	snprintf(buf, len, "lk%08x", h);
}

static int bridge_link_up(struct netd *d, struct netd_net *n, char *err,
			  size_t errlen)
{
	struct netd_bridge *br = n->br;
	struct kernel_link_set enslave = {.master = br->ifindex, .up = true};
	struct kernel_vlans v = {.pvid = NETCONF_DEFAULT_VLAN};
	struct switch_port_config cfg;
	struct port_decl decl;
	char alias[128];
	int ret, idx;

	bridge_link_name(d, n, br->link_ifname, sizeof(br->link_ifname));
	snprintf(alias, sizeof(alias), "%s%s:(switch link)", d->alias_prefix,
		 n->conf.name);
	decl = (struct port_decl){
		.type = NETCONF_PORT_TYPE_TAP,
		.network = n->conf.name,
		.name = "(switch link)",
		.alias = alias,
		.ifname = br->link_ifname,
		.mtu = n->conf.mtu,
		/* No GSO into the switch: an shm NIC may not take it. */
		.offload = false,
	};
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "(switch link)");
	cfg.mode = SWITCH_PORT_ACCESS;
	cfg.access_vlan = NETCONF_DEFAULT_VLAN;
	ret = backend_port_create(n->sw, &decl, &cfg, err, errlen);
	if (ret < 0)
		return ret;
	br->link_port_id = ret;
	br->link_dp = netd_dp_port_add(d, n->sw, (uint32_t)ret);
	idx = kernel_link_index(br->sk, br->link_ifname);
	br->link_ifindex = idx;
	ret = idx < 0 ? idx : kernel_link_set(br->sk, idx, &enslave);
	if (ret == 0 && br->vlan_filtering)
		ret = kernel_bridge_vlans_set(br->sk, idx, false, &v);
	if (ret < 0)
		snprintf(err, errlen, "switch link %s: cannot join bridge %s: %s",
			 br->link_ifname, n->conf.bridge, strerror(-ret));
	return ret;
}

static void bridge_link_down(struct netd *d, struct netd_net *n)
{
	struct netd_bridge *br = n->br;

	if (br->link_dp)
		netd_dp_port_remove(d, br->link_dp);
	br->link_dp = NULL;
	if (br->link_port_id >= 0)
		switch_port_remove(n->sw, (uint32_t)br->link_port_id);
	br->link_port_id = -1;
}

int netd_bridge_start(struct netd *d, struct netd_net *n, char *err,
		      size_t errlen)
{
	struct kernel_vlans host = {.pvid = NETCONF_DEFAULT_VLAN};
	struct netd_bridge *br;
	char alias[128];
	int ret;

	if (n->conf.mode != NETCONF_MODE_BRIDGE)
		return 0;
	br = calloc(1, sizeof(*br));
	if (!br)
		return -ENOMEM;
	br->link_port_id = -1;
	br->sk = kernel_nl_open(-1);
	if (!br->sk) {
		ret = -errno;
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		free(br);
		return ret;
	}
	n->br = br;
	ret = bridge_name_claim(d, br->sk, n->conf.bridge, err, errlen);
	if (ret < 0)
		goto fail;
	snprintf(alias, sizeof(alias), "%s%s", d->alias_prefix, n->conf.name);
	ret = kernel_bridge_create(br->sk, n->conf.bridge, alias, n->conf.mtu,
				   &br->vlan_filtering, err, errlen);
	if (ret < 0) {
		if (ret == -EPERM)
			snprintf(err, errlen, "cannot create bridge %s: %s "
				 "(loom-netd needs CAP_NET_ADMIN: run it as "
				 "root)", n->conf.bridge, strerror(EPERM));
		goto fail;
	}
	br->ifindex = ret;
	if (!br->vlan_filtering)
		log_warn(MOD, "%s: %s", n->conf.name, BRIDGE_NO_VLANS_MSG);
	/* The host's own port on the bridge: untagged, VLAN 1. */
	ret = !br->vlan_filtering ? 0 :
	      kernel_bridge_vlans_set(br->sk, br->ifindex, true, &host);
	if (ret < 0) {
		snprintf(err, errlen, "bridge %s: cannot set its VLAN: %s",
			 n->conf.bridge, strerror(-ret));
		goto fail;
	}
	if (n->conf.bridge_address) {
		ret = kernel_addr_add(br->sk, br->ifindex,
				      n->conf.bridge_address);
		if (ret < 0) {
			snprintf(err, errlen, "bridge %s: cannot set address "
				 "%s: %s", n->conf.bridge,
				 n->conf.bridge_address, strerror(-ret));
			goto fail;
		}
	}
	ret = bridge_link_up(d, n, err, errlen);
	if (ret < 0)
		goto fail;
	return 0;
fail:
	netd_bridge_stop(d, n);
	return ret;
}

void netd_bridge_stop(struct netd *d, struct netd_net *n)
{
	struct netd_bridge *br = n->br;
	int ret;

	if (!br)
		return;
	bridge_link_down(d, n); /* closes the TAP: the kernel removes it */
	netd_antispoof_stop(n);
	if (br->ifindex > 0) {
		ret = kernel_link_delete(br->sk, br->ifindex);
		if (ret < 0 && ret != -ENOENT)
			log_err(MOD, "%s: cannot delete bridge %s: %s",
				n->conf.name, n->conf.bridge, strerror(-ret));
		else
			log_info(MOD, "bridge %s deleted", n->conf.bridge);
	}
	nl_socket_free(br->sk);
	free(br);
	n->br = NULL;
}

/* A port's VLAN entries: access -> PVID untagged; trunk -> tagged, the
 * native VLAN (if any) PVID untagged: as the built-in switch treats them. */
static void bridge_port_vlans(const struct netconf_port *pc,
			      struct kernel_vlans *v)
{
	memset(v, 0, sizeof(*v));
	if (pc->trunk_count) {
		v->tagged = pc->trunk;
		v->ntagged = pc->trunk_count;
		v->pvid = (uint16_t)pc->native;
	} else {
		v->pvid = (uint16_t)(pc->vlan ? pc->vlan : NETCONF_DEFAULT_VLAN);
	}
}

int netd_bridge_port_up(struct netd *d, struct netd_net *n, uint32_t i,
			const char *alias, char *err, size_t errlen)
{
	const struct netconf_port *pc = &n->conf.ports[i];
	struct netd_port *rt = &n->rt[i];
	struct kernel_link_set enslave = {.master = n->br->ifindex,
					  .up = true};
	struct kernel_vlans v;
	int ret, idx;

	if (!n->br->vlan_filtering && bridge_port_needs_vlans(pc)) {
		snprintf(err, errlen, "VLANs refused: %s", BRIDGE_NO_VLANS_MSG);
		return -EOPNOTSUPP;
	}
	if (!strcmp(netconf_port_type(pc), NETCONF_PORT_TYPE_VETH)) {
		struct kernel_veth_args va = {
			.name = pc->tap,
			.netns = pc->netns,
			.alias = alias,
			.address = pc->address,
			.mtu = n->conf.mtu,
			.master = n->br->ifindex,
		};

		idx = kernel_veth_create(bridge_sk(n), &va, err, errlen);
		if (idx < 0)
			return idx;
	} else if (!strcmp(netconf_port_type(pc), NETCONF_PORT_TYPE_VLAN)) {
		/* PARENT.VID: the bridge onto one VLAN of a trunk. */
		idx = kernel_vlan_create(bridge_sk(n), pc->tap, alias,
					 n->conf.mtu, err, errlen);
		if (idx < 0)
			return idx;
		rt->kifindex = idx;
		ret = kernel_link_set(bridge_sk(n), idx, &enslave);
		if (ret < 0) {
			snprintf(err, errlen, "%s: cannot join bridge %s: %s",
				 pc->tap, n->conf.bridge, strerror(-ret));
			goto fail;
		}
	} else {
		struct tap_args ta = {.ifname = pc->tap, .alias = alias,
				      .mtu = n->conf.mtu};

		/* netd holds the fd: the TAP lives while netd does (a kill
		 * -9 removes it), for whoever reads it (a VM). */
		ret = tap_dev_create(&ta, &rt->ktap, err, errlen);
		if (ret < 0)
			return ret;
		idx = tap_dev_ifindex(rt->ktap);
		ret = kernel_link_set(bridge_sk(n), idx, &enslave);
		if (ret < 0) {
			snprintf(err, errlen, "%s: cannot join bridge %s: %s",
				 pc->tap, n->conf.bridge, strerror(-ret));
			goto fail;
		}
	}
	rt->kifindex = idx;
	bridge_port_vlans(pc, &v);
	ret = !n->br->vlan_filtering ? 0 :
	      kernel_bridge_vlans_set(bridge_sk(n), idx, false, &v);
	if (ret < 0) {
		snprintf(err, errlen, "%s: cannot set its VLANs on bridge %s: %s",
			 pc->tap, n->conf.bridge, strerror(-ret));
		goto fail;
	}
	ret = netd_antispoof_kport_up(n, i, err, errlen);
	if (ret < 0)
		goto fail;
	rt->error[0] = '\0';
	return 0;
fail:
	netd_bridge_port_down(d, n, i);
	return ret;
}

void netd_bridge_port_down(struct netd *d, struct netd_net *n, uint32_t i)
{
	struct netd_port *rt = &n->rt[i];
	int ret;

	netd_antispoof_kport_down(n, i);
	if (rt->ktap) {
		tap_dev_destroy(rt->ktap); /* the kernel removes it */
		rt->ktap = NULL;
	} else if (rt->kifindex > 0) {
		ret = kernel_link_delete(bridge_sk(n), rt->kifindex);
		if (ret < 0 && ret != -ENOENT)
			log_err(MOD, "%s: cannot delete %s: %s", n->conf.name,
				n->conf.ports[i].tap, strerror(-ret));
	}
	rt->kifindex = 0;
}

int netd_bridge_tap_join(struct netd_net *n, int ifindex, uint16_t vlan,
			 char *err, size_t errlen)
{
	struct kernel_link_set enslave = {.master = n->br->ifindex,
					  .up = true};
	struct kernel_vlans v = {.pvid = vlan};
	int ret;

	if (!n->br->vlan_filtering && vlan != NETCONF_DEFAULT_VLAN) {
		snprintf(err, errlen, "VLAN %u refused: %s", vlan,
			 BRIDGE_NO_VLANS_MSG);
		return -EOPNOTSUPP;
	}
	ret = kernel_link_set(bridge_sk(n), ifindex, &enslave);
	if (ret == 0 && n->br->vlan_filtering)
		ret = kernel_bridge_vlans_set(bridge_sk(n), ifindex, false, &v);
	if (ret < 0)
		snprintf(err, errlen, "cannot join bridge %s: %s",
			 n->conf.bridge, strerror(-ret));
	return ret;
}

int netd_bridge_port_link(struct netd *d, struct netd_net *n, uint32_t i,
			  bool up, char *err, size_t errlen)
{
	const struct netconf_port *pc = &n->conf.ports[i];
	struct netd_port *rt = &n->rt[i];
	int ret;

	(void)d;
	if (rt->ktap) {
		ret = tap_dev_set_carrier(rt->ktap, up);
	} else if (rt->kifindex > 0) {
		/* A veth's far end (in its namespace) follows this end's
		 * IFF_UP as its carrier; a vlan port leaves the bridge's
		 * forwarding while it is down. */
		ret = kernel_link_set_up(bridge_sk(n), rt->kifindex, up);
	} else {
		return 0; /* not up: netd applies it when it comes up */
	}
	if (ret < 0)
		snprintf(err, errlen, "%s: cannot set link %s: %s", pc->tap,
			 up ? "up" : "down", strerror(-ret));
	return ret;
}

/* port.list's counters for a kernel port, in the switch's shape. */
static json_t *bridge_counters(const struct kernel_link_stats *st)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I}}",
			 "rx_frames", (json_int_t)st->rx_packets, "rx_bytes",
			 (json_int_t)st->rx_bytes, "tx_frames",
			 (json_int_t)st->tx_packets, "tx_bytes",
			 (json_int_t)st->tx_bytes, "drops", "rx_dropped",
			 (json_int_t)st->rx_dropped, "tx_dropped",
			 (json_int_t)st->tx_dropped, "rx_errors",
			 (json_int_t)st->rx_errors, "tx_errors",
			 (json_int_t)st->tx_errors);
}

json_t *netd_bridge_port_status(struct netd_net *n, unsigned int i)
{
	const struct netconf_port *pc = &n->conf.ports[i];
	const struct netd_port *rt = &n->rt[i];
	struct kernel_link_stats st;
	json_t *j = netconf_port_to_json(pc);
	int ret;

	if (!j)
		return NULL;
	json_object_set_new(j, "net", json_string(n->conf.name));
	json_object_set_new(j, "backend",
			    json_string(netconf_port_type(pc)));
	json_object_set_new(j, "bridge", json_string(n->conf.bridge));
	if (rt->kifindex <= 0) {
		json_object_set_new(j, "state", json_string("down"));
		json_object_set_new(j, "error", json_string(rt->error));
		return j;
	}
	ret = kernel_link_stats_get(bridge_sk(n), rt->kifindex, &st);
	if (ret < 0) {
		json_object_set_new(j, "state", json_string("down"));
		json_object_set_new(j, "error",
				    json_sprintf("%s: %s", pc->tap,
						 strerror(-ret)));
		return j;
	}
	json_object_set_new(j, "state", json_string(st.up ? "up" : "down"));
	if (!st.up)
		json_object_set_new(j, "error",
				    json_string("no carrier (nothing on the "
						"other end)"));
	json_object_set_new(j, "ifindex", json_integer(rt->kifindex));
	json_object_set_new(j, "counters", bridge_counters(&st));
	json_object_set_new(j, "antispoof", netd_antispoof_port_json(n, i));
	return j;
}

struct bridge_fdb_walk {
	struct netd_net *n;
	json_t *arr;
};

static int bridge_fdb_entry(void *arg, const struct kernel_fdb_entry *e)
{
	struct bridge_fdb_walk *w = arg;
	const char *port = "?";
	char mac[18];

	if (e->ifindex == w->n->br->ifindex)
		port = "(host)";
	else if (e->ifindex == w->n->br->link_ifindex)
		port = "(switch link)";
	for (uint32_t i = 0; i < w->n->conf.port_count; i++)
		if (w->n->rt[i].kifindex == e->ifindex)
			port = w->n->conf.ports[i].name;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0],
		 e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
	json_array_append_new(w->arr,
			      json_pack("{s:s,s:i,s:s,s:I}", "mac", mac, "vlan",
					(int)e->vlan, "port", port, "age",
					(json_int_t)e->age_sec));
	return 0;
}

json_t *netd_bridge_fdb(struct netd_net *n, char *err, size_t errlen)
{
	struct bridge_fdb_walk w = {.n = n, .arr = json_array()};
	int ret;

	if (!w.arr)
		return NULL;
	ret = kernel_bridge_fdb_dump(bridge_sk(n), n->br->ifindex,
				     bridge_fdb_entry, &w);
	if (ret < 0) {
		snprintf(err, errlen, "bridge %s: cannot read its FDB: %s",
			 n->conf.bridge, strerror(-ret));
		json_decref(w.arr);
		return NULL;
	}
	return w.arr;
}

int netd_bridge_fdb_flush(struct netd_net *n, int port)
{
	int before, after, ret = 0;

	before = kernel_bridge_fdb_dump(bridge_sk(n), n->br->ifindex, NULL,
					NULL);
	for (uint32_t i = 0; i < n->conf.port_count; i++) {
		if (n->rt[i].kifindex <= 0 || (port >= 0 && (int)i != port))
			continue;
		ret = kernel_bridge_port_flush(bridge_sk(n), n->rt[i].kifindex);
		if (ret < 0)
			return ret;
	}
	after = kernel_bridge_fdb_dump(bridge_sk(n), n->br->ifindex, NULL,
				       NULL);
	if (before < 0 || after < 0)
		return 0;
	return before > after ? before - after : 0;
}

json_t *netd_bridge_json(struct netd_net *n)
{
	return json_pack("{s:s,s:i,s:b,s:s}", "name", n->conf.bridge,
			 "ifindex", n->br ? n->br->ifindex : 0,
			 "vlan_filtering", n->br && n->br->vlan_filtering,
			 "switch_link", n->br ? n->br->link_ifname : "");
}

int netd_bridge_link_port(const struct netd_net *n)
{
	return n->br ? n->br->link_port_id : -1;
}
