/* SPDX-License-Identifier: MIT */
/* net.c - networks and their ports: switches, TAP devices, runtime status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/registry.h"
#include "common/log.h"
#include "netd/netd.h"
#include "netd/service.h"

LOG_MODULE("net");

struct netd_net *netd_net_find(struct netd *d, const char *name)
{
	for (unsigned int i = 0; i < d->nnets; i++)
		if (!strcmp(d->nets[i]->conf.name, name))
			return d->nets[i];
	return NULL;
}

int netd_port_find(const struct netd_net *n, const char *name)
{
	for (uint32_t i = 0; i < n->conf.port_count; i++)
		if (!strcmp(n->conf.ports[i].name, name))
			return (int)i;
	return -1;
}

/* Is TAP @tap used by a port of any network but @skip? */
static const struct netd_net *netd_tap_owner(struct netd *d, const char *tap,
					     const struct netd_net *skip)
{
	for (unsigned int i = 0; i < d->nnets; i++) {
		const struct netd_net *n = d->nets[i];

		if (n == skip)
			continue;
		for (uint32_t j = 0; j < n->conf.port_count; j++)
			if (n->conf.ports[j].tap &&
			    !strcmp(n->conf.ports[j].tap, tap))
				return n;
	}
	return NULL;
}

/*
 * The switch does not segment or checksum yet, so ports may hand it GSO and
 * partially checksummed frames only while every port of the network takes
 * them: every VM NIC that negotiated them, every declared port whose class
 * takes them (PORT_CAP_TAKES_GSO).
 */
bool netd_net_gso_ok(struct netd *d, const struct netd_net *n)
{
	for (uint32_t i = 0; i < n->conf.port_count; i++) {
		struct switch_port_config cfg;

		if (n->rt[i].port_id < 0)
			continue;
		if (switch_port_get_config(n->sw, (uint32_t)n->rt[i].port_id,
					   &cfg) == 0 &&
		    !cfg.accepts_gso)
			return false;
	}
	return netd_vm_gso_ok(d, n);
}

/* Called whenever a port of @n comes or goes. */
void netd_net_sync_offload(struct netd *d, struct netd_net *n)
{
	bool on = netd_net_gso_ok(d, n);

	for (uint32_t i = 0; i < n->conf.port_count; i++) {
		struct port *p;

		if (n->rt[i].port_id < 0)
			continue;
		p = switch_port_get(n->sw, (uint32_t)n->rt[i].port_id);
		/* No set_offload: the port never hands us such frames. */
		if (p && p->ops->set_offload)
			p->ops->set_offload(p, on);
	}
}

static void netd_port_event(void *arg, uint32_t port_id, int err)
{
	struct netd_net *n = arg;

	/* Data-path thread, switch mutex held: only log here. */
	log_rl(LOG_WARN, MOD, "%s: port %u failed: %s", n->conf.name, port_id,
	       strerror(-err));
}

static void netd_port_swcfg(const struct netconf_port *pc,
			    struct switch_port_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->name, sizeof(cfg->name), "%s", pc->name);
	if (pc->trunk_count) {
		cfg->mode = SWITCH_PORT_TRUNK;
		for (uint32_t i = 0; i < pc->trunk_count; i++)
			switch_vlan_allow(cfg, (uint16_t)pc->trunk[i]);
		cfg->native_vlan = (uint16_t)pc->native;
	} else {
		cfg->mode = SWITCH_PORT_ACCESS;
		cfg->access_vlan = (uint16_t)(pc->vlan ? pc->vlan : 1);
	}
}

/* Mode bridge: veths into namespaces, TAPs on the bridge. */
static int netd_mode_check_bridge_port(const struct netconf_port *pc,
				       char *err, size_t errlen)
{
	const char *type = netconf_port_type(pc);

	if (!netconf_port_is_tap(pc) && strcmp(type, NETCONF_PORT_TYPE_VETH) &&
	    strcmp(type, NETCONF_PORT_TYPE_VLAN)) {
		snprintf(err, errlen,
			 "mode bridge: a port is a veth pair into a namespace "
			 "(type veth), a TAP on the bridge (type tap) or an "
			 "802.1Q sub-interface (type vlan), not '%s'", type);
		return -EINVAL;
	}
	if (netconf_port_is_tap(pc) && pc->netns) {
		snprintf(err, errlen,
			 "mode bridge: TAP '%s' cannot be in a namespace (the "
			 "bridge's ports stay in netd's); use type veth for a "
			 "namespace", pc->tap);
		return -EINVAL;
	}
	if (netconf_port_is_tap(pc) && pc->address) {
		snprintf(err, errlen,
			 "mode bridge: TAP '%s' is a bridge port and has no "
			 "address; the host's address goes in bridge_address",
			 pc->tap);
		return -EINVAL;
	}
	if (!strcmp(type, NETCONF_PORT_TYPE_VETH) && !pc->netns) {
		snprintf(err, errlen,
			 "mode bridge: veth '%s' needs netns (its other end "
			 "goes there)", pc->tap);
		return -EINVAL;
	}
	return 0;
}

/*
 * netd_mode_check_port - the rules @net's mode sets for port @pc, beyond
 * what netconf validates (docs/network-file.md, "Mode isolated"). The one
 * place for them: checked whenever a port comes up, so a network file, a
 * port.add and a restored state file meet the same rules; restored, a port
 * that breaks them stays declared and down with the reason.
 * Return: 0, or -EINVAL with a message for a person in @err.
 */
int netd_mode_check_port(const struct netconf_net *net,
			 const struct netconf_port *pc, char *err,
			 size_t errlen)
{
	bool veth = !strcmp(netconf_port_type(pc), NETCONF_PORT_TYPE_VETH) ||
		    !strcmp(netconf_port_type(pc), NETCONF_PORT_TYPE_VLAN);

	if (net->mode == NETCONF_MODE_BRIDGE)
		return netd_mode_check_bridge_port(pc, err, errlen);
	if (veth) {
		snprintf(err, errlen,
			 "type %s belongs to bridge networks (mode bridge); "
			 "in mode %s a namespace joins through a TAP",
			 netconf_port_type(pc), netconf_mode_name(net->mode));
		return -EINVAL;
	}
	if (net->mode != NETCONF_MODE_ISOLATED)
		return 0;
	if (!strcmp(netconf_port_type(pc), NETCONF_PORT_TYPE_MACVTAP)) {
		snprintf(err, errlen,
			 "mode isolated: macvtap '%s' would connect the network "
			 "to %s's LAN (use mode switch for that)", pc->tap,
			 pc->parent);
		return -EINVAL;
	}
	/* A TAP in netd's own namespace is an interface of the host: the
	 * host could route or bridge the network out. */
	if (netconf_port_is_tap(pc) && !pc->netns) {
		snprintf(err, errlen,
			 "mode isolated: TAP '%s' must be in a namespace "
			 "(netns:); in netd's own namespace it would connect "
			 "the network to the host (use mode switch for that)",
			 pc->tap);
		return -EINVAL;
	}
	return 0;
}

/*
 * Bring port @i of @n (declared in n->conf) up: its backend (the port's
 * type, backends/registry.c) builds it, the switch plugs it in, the data
 * path polls it.
 */
static int netd_port_up(struct netd *d, struct netd_net *n, uint32_t i,
			char *err, size_t errlen)
{
	const struct netconf_port *pc = &n->conf.ports[i];
	struct netd_port *rt = &n->rt[i];
	struct switch_port_config cfg;
	struct port_decl decl;
	char alias[128];
	int ret;

	ret = netd_mode_check_port(&n->conf, pc, err, errlen);
	if (ret < 0)
		goto fail;
	snprintf(alias, sizeof(alias), "%s%s:%s", d->alias_prefix,
		 n->conf.name, pc->name);
	if (n->br) {
		ret = netd_bridge_port_up(d, n, i, alias, err, errlen);
		if (ret < 0)
			goto fail;
		netd_link_port_restore(d, n, i);
		return 0;
	}
	decl = (struct port_decl){
		.type = netconf_port_type(pc),
		.network = n->conf.name,
		.name = pc->name,
		.alias = alias,
		.ifname = pc->tap,
		.netns = pc->netns,
		.address = pc->address,
		.url = pc->url,
		.path = pc->path,
		.parent = pc->parent,
		.link_mode = pc->macvtap_mode,
		.mtu = n->conf.mtu,
		.offload = netd_net_gso_ok(d, n),
	};
	netd_port_swcfg(pc, &cfg);
	netd_antispoof_swcfg(n, pc, &cfg);
	ret = backend_port_create(n->sw, &decl, &cfg, err, errlen);
	if (ret < 0)
		goto fail;
	rt->port_id = ret;
	rt->error[0] = '\0';
	rt->dp = netd_dp_port_add(d, n->sw, (uint32_t)ret);
	if (!rt->dp)
		log_warn(MOD, "%s: not polled (out of memory)", pc->name);
	netd_net_sync_offload(d, n);
	netd_link_port_restore(d, n, i);
	return 0;
fail:
	rt->port_id = -1;
	snprintf(rt->error, sizeof(rt->error), "%s", err);
	return ret;
}

static void netd_port_down(struct netd *d, struct netd_net *n, uint32_t i)
{
	struct netd_port *rt = &n->rt[i];

	if (n->br) {
		netd_bridge_port_down(d, n, i);
		return;
	}
	if (rt->port_id < 0)
		return;
	netd_dp_port_remove(d, rt->dp);
	rt->dp = NULL;
	/* Closes the backend (a TAP: the kernel removes the interface). */
	switch_port_remove(n->sw, (uint32_t)rt->port_id);
	rt->port_id = -1;
	netd_net_sync_offload(d, n);
}

/* Remove entry @i from the declared and runtime arrays. */
static void netd_port_forget(struct netd_net *n, uint32_t i)
{
	netconf_port_clear(&n->conf.ports[i]);
	memmove(&n->conf.ports[i], &n->conf.ports[i + 1],
		(n->conf.port_count - i - 1) * sizeof(n->conf.ports[0]));
	memmove(&n->rt[i], &n->rt[i + 1],
		(n->conf.port_count - i - 1) * sizeof(n->rt[0]));
	n->conf.port_count--;
}

void netd_net_destroy(struct netd *d, struct netd_net *n)
{
	if (!n)
		return;
	if (n->sw) {
		netd_vm_detach_net(d, n);
		netd_kport_detach_net(d, n);
		for (uint32_t i = 0; i < n->conf.port_count; i++)
			netd_port_down(d, n, i);
		netd_services_net_stop(d, n);
		netd_bridge_stop(d, n);
		netd_dp_del_switch(d, n->sw);
		switch_destroy(n->sw);
	}
	netconf_net_clear(&n->conf);
	free(n->rt);
	free(n);
}

static int netd_check_ports(struct netd *d, const struct netconf_net *conf,
			    const struct netd_net *self, char *err,
			    size_t errlen)
{
	for (uint32_t i = 0; i < conf->port_count; i++) {
		const struct netd_net *o =
			conf->ports[i].tap ?
				netd_tap_owner(d, conf->ports[i].tap, self) :
				NULL;

		if (o) {
			snprintf(err, errlen,
				 "ports[%u].tap: TAP '%s' belongs to network '%s'",
				 i, conf->ports[i].tap, o->conf.name);
			return -EEXIST;
		}
	}
	return 0;
}

int netd_net_create(struct netd *d, const struct netconf_net *conf,
		    bool restoring, char *err, size_t errlen)
{
	struct switch_config scfg;
	struct netd_net *n;
	int ret;

	if (!netconf_mode_supported(conf->mode)) {
		snprintf(err, errlen,
			 "mode: '%s' is not supported yet (use nat, switch, isolated or bridge)",
			 netconf_mode_name(conf->mode));
		return -EOPNOTSUPP;
	}
	if (netd_net_find(d, conf->name)) {
		snprintf(err, errlen, "network '%s' exists already", conf->name);
		return -EEXIST;
	}
	if (d->nnets >= NETD_NETS_MAX) {
		snprintf(err, errlen, "too many networks (at most %d)",
			 NETD_NETS_MAX);
		return -ENOSPC;
	}
	ret = netd_check_ports(d, conf, NULL, err, errlen);
	if (ret < 0)
		return ret;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	ret = netd_netconf_copy(&n->conf, conf);
	if (ret < 0)
		goto fail;
	n->rt = calloc(n->conf.port_count ? n->conf.port_count : 1,
		       sizeof(*n->rt));
	if (!n->rt) {
		ret = -ENOMEM;
		goto fail;
	}
	memset(&scfg, 0, sizeof(scfg));
	scfg.fdb_size = n->conf.mac_table_size;
	scfg.aging_sec = n->conf.mac_aging;
	scfg.max_ports = NETCONF_PORTS_MAX;
	scfg.port_event = netd_port_event;
	scfg.event_arg = n;
	n->sw = switch_create(&scfg);
	if (!n->sw) {
		ret = -errno;
		snprintf(err, errlen, "cannot create switch: %s",
			 strerror(errno));
		goto fail;
	}
	for (uint32_t i = 0; i < n->conf.port_count; i++)
		n->rt[i].port_id = -1;
	netd_dp_add_switch(d, n->sw);
	/* The bridge first: the services' kernel NAT (knat.c) sets
	 * options on it; they stop before it goes (netd_net_destroy). */
	ret = netd_bridge_start(d, n, err, errlen);
	if (ret < 0)
		goto fail;
	ret = netd_services_net_start(d, n, restoring, err, errlen);
	if (ret < 0)
		goto fail;
	for (uint32_t i = 0; i < n->conf.port_count; i++) {
		char perr[256];

		ret = netd_port_up(d, n, i, perr, sizeof(perr));
		if (ret < 0 && !restoring) {
			snprintf(err, errlen, "ports[%u] (%s): %s", i,
				 n->conf.ports[i].name, perr);
			goto fail;
		}
		if (ret < 0)
			log_err(MOD, "%s: port %s stays down: %s",
				n->conf.name, n->conf.ports[i].name, perr);
	}
	d->nets[d->nnets++] = n;
	log_info(MOD, "network %s up (%u ports)", n->conf.name,
		 n->conf.port_count);
	return 0;
fail:
	netd_net_destroy(d, n);
	return ret;
}

int netd_net_delete(struct netd *d, const char *name, char *err,
		    size_t errlen)
{
	for (unsigned int i = 0; i < d->nnets; i++) {
		if (strcmp(d->nets[i]->conf.name, name))
			continue;
		netd_net_destroy(d, d->nets[i]);
		d->nets[i] = d->nets[--d->nnets];
		log_info(MOD, "network %s deleted", name);
		return 0;
	}
	snprintf(err, errlen, "network '%s' does not exist", name);
	return -ENOENT;
}

int netd_port_add(struct netd *d, struct netd_net *n,
		  const struct netconf_port *pc, char *err, size_t errlen)
{
	struct netconf_error nerr;
	struct netconf_port *ports;
	struct netd_port *rt;
	const struct netd_net *o;
	uint32_t i = n->conf.port_count;
	int ret;

	if (netd_port_find(n, pc->name) >= 0) {
		snprintf(err, errlen, "port '%s' exists in network '%s'",
			 pc->name, n->conf.name);
		return -EEXIST;
	}
	o = pc->tap ? netd_tap_owner(d, pc->tap, NULL) : NULL;
	if (o) {
		snprintf(err, errlen, "TAP '%s' belongs to network '%s'",
			 pc->tap, o->conf.name);
		return -EEXIST;
	}
	if (i >= NETCONF_PORTS_MAX) {
		snprintf(err, errlen, "network '%s' has %d ports already",
			 n->conf.name, NETCONF_PORTS_MAX);
		return -ENOSPC;
	}
	memset(&nerr, 0, sizeof(nerr));
	if (netconf_port_validate(pc, &n->conf, "", &nerr) < 0) {
		snprintf(err, errlen, "%s%s%s", nerr.path,
			 nerr.path[0] ? ": " : "", nerr.msg);
		return -EINVAL;
	}
	ports = realloc(n->conf.ports, (i + 1) * sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	n->conf.ports = ports;
	rt = realloc(n->rt, (i + 1) * sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	n->rt = rt;
	memset(&ports[i], 0, sizeof(ports[i]));
	memset(&rt[i], 0, sizeof(rt[i]));
	ret = netd_portconf_copy(&ports[i], pc);
	if (ret < 0)
		return ret;
	n->conf.port_count++;
	ret = netd_port_up(d, n, i, err, errlen);
	if (ret < 0) {
		netd_port_forget(n, i);
		return ret;
	}
	log_info(MOD, "%s: port %s (%s%s%s) added", n->conf.name, pc->name,
		 netconf_port_type(pc), pc->tap ? " " : "",
		 pc->tap ? pc->tap : "");
	return 0;
}

int netd_port_del(struct netd *d, struct netd_net *n, const char *port,
		  char *err, size_t errlen)
{
	int i = netd_port_find(n, port);

	if (i < 0) {
		snprintf(err, errlen, "network '%s' has no port '%s'",
			 n->conf.name, port);
		return -ENOENT;
	}
	netd_port_down(d, n, (uint32_t)i);
	netd_port_forget(n, (uint32_t)i);
	/* A port added later under the name starts with its link up. */
	netconf_link_set(&n->conf, port, false);
	log_info(MOD, "%s: port %s deleted", n->conf.name, port);
	return 0;
}

static bool netd_net_fields_equal(const struct netconf_net *a,
				  const struct netconf_net *b)
{
	json_t *ja = netconf_net_to_json(a), *jb = netconf_net_to_json(b);
	bool eq;

	if (!ja || !jb) {
		json_decref(ja);
		json_decref(jb);
		return false;
	}
	/* Ports and forwards change without a rebuild. */
	json_object_del(ja, "ports");
	json_object_del(jb, "ports");
	json_object_del(ja, "forwards");
	json_object_del(jb, "forwards");
	json_object_del(ja, "captures"); /* restarted by their service */
	json_object_del(jb, "captures");
	json_object_del(ja, "dhcp"); /* the gateway service adopts them */
	json_object_del(jb, "dhcp");
	json_object_del(ja, "dns");
	json_object_del(jb, "dns");
	json_object_del(ja, "link_down"); /* netd_link_apply_conf() */
	json_object_del(jb, "link_down");
	eq = json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	return eq;
}

static bool netd_port_equal(const struct netconf_port *a,
			    const struct netconf_port *b)
{
	json_t *ja = netconf_port_to_json(a), *jb = netconf_port_to_json(b);
	bool eq = ja && jb && json_equal(ja, jb);

	json_decref(ja);
	json_decref(jb);
	return eq;
}

int netd_net_apply(struct netd *d, const struct netconf_net *conf,
		   const char **outcome, char *err, size_t errlen)
{
	struct netd_net *n = netd_net_find(d, conf->name);
	struct netconf_net old;
	bool changed = false;
	int ret;

	if (!n) {
		*outcome = "created";
		return netd_net_create(d, conf, false, err, errlen);
	}
	if (!netd_net_fields_equal(&n->conf, conf)) {
		/* Switch-wide settings changed: rebuild the network. */
		ret = netd_check_ports(d, conf, n, err, errlen);
		if (ret < 0)
			return ret;
		memset(&old, 0, sizeof(old));
		ret = netd_netconf_copy(&old, &n->conf);
		if (ret < 0)
			return ret;
		netd_net_delete(d, conf->name, err, errlen);
		ret = netd_net_create(d, conf, false, err, errlen);
		if (ret < 0) {
			char e2[256];

			if (netd_net_create(d, &old, true, e2, sizeof(e2)) < 0)
				log_err(MOD, "%s: cannot restore: %s",
					old.name, e2);
		}
		netconf_net_clear(&old);
		*outcome = "updated";
		return ret;
	}
	/* Same switch: remove vanished or changed ports, add the rest. */
	for (uint32_t i = 0; i < n->conf.port_count;) {
		const struct netconf_port *pc = &n->conf.ports[i];
		bool keep = false;

		for (uint32_t j = 0; j < conf->port_count; j++)
			if (!strcmp(conf->ports[j].name, pc->name))
				keep = netd_port_equal(pc, &conf->ports[j]);
		if (keep) {
			i++;
			continue;
		}
		netd_port_down(d, n, i);
		netd_port_forget(n, i);
		changed = true;
	}
	for (uint32_t j = 0; j < conf->port_count; j++) {
		if (netd_port_find(n, conf->ports[j].name) >= 0)
			continue;
		ret = netd_port_add(d, n, &conf->ports[j], err, errlen);
		if (ret < 0) {
			*outcome = "updated";
			return ret;
		}
		changed = true;
	}
	netd_link_apply_conf(d, n, conf, &changed);
	ret = netd_services_net_apply(d, n, conf, &changed, err, errlen);
	*outcome = changed ? "updated" : "unchanged";
	return ret;
}

json_t *netd_port_counters(struct switch_core *sw, uint32_t port_id)
{
	struct switch_port_stats st;
	json_t *c, *drops;

	memset(&st, 0, sizeof(st));
	switch_port_stats_get(sw, port_id, &st);
	c = json_pack("{s:I,s:I,s:I,s:I}", "rx_frames",
		      (json_int_t)st.rx_frames, "rx_bytes",
		      (json_int_t)st.rx_bytes, "tx_frames",
		      (json_int_t)st.tx_frames, "tx_bytes",
		      (json_int_t)st.tx_bytes);
	drops = json_object();
	for (int r = 0; r < SWITCH_DROP__COUNT; r++)
		json_object_set_new(drops, switch_drop_reason_name(r),
				    json_integer((json_int_t)st.drops[r]));
	json_object_set_new(c, "drops", drops);
	return c;
}

json_t *netd_port_status(struct netd_net *n, unsigned int i)
{
	const struct netconf_port *pc = &n->conf.ports[i];
	const struct netd_port *rt = &n->rt[i];
	json_t *j;
	char why[160] = "";
	struct port *p;

	if (n->br) {
		j = netd_bridge_port_status(n, i);
		if (j)
			netd_link_status(n, pc->name, j);
		return j;
	}
	j = netconf_port_to_json(pc);
	if (!j)
		return NULL;
	json_object_set_new(j, "net", json_string(n->conf.name));
	json_object_set_new(j, "backend", json_string(netconf_port_type(pc)));
	if (rt->port_id < 0) {
		json_object_set_new(j, "state", json_string("down"));
		json_object_set_new(j, "error", json_string(rt->error));
		netd_link_status(n, pc->name, j);
		return j;
	}
	p = switch_port_get(n->sw, (uint32_t)rt->port_id);
	if (rt->dp && atomic_load(&rt->dp->broken)) {
		json_object_set_new(j, "state", json_string("down"));
		json_object_set_new(j, "error",
				    json_string("the backend failed; delete and re-add the port"));
	} else if (p && p->ops->link && !p->ops->link(p, why, sizeof(why))) {
		/* Its far side is away (a VDE port reconnecting). */
		json_object_set_new(j, "state", json_string("down"));
		json_object_set_new(j, "error", json_string(why));
	} else {
		json_object_set_new(j, "state", json_string("up"));
	}
	netd_link_status(n, pc->name, j);
	json_object_set_new(j, "port_id", json_integer(rt->port_id));
	json_object_set_new(j, "counters",
			    netd_port_counters(n->sw, (uint32_t)rt->port_id));
	json_object_set_new(j, "antispoof", netd_antispoof_port_json(n, i));
	return j;
}

json_t *netd_net_json(struct netd_net *n)
{
	json_t *j = netconf_net_to_json(&n->conf);

	if (!j)
		return NULL;
	if (!json_object_get(j, "ports"))
		json_object_set_new(j, "ports", json_array());
	json_object_set_new(j, "port_count",
			    json_integer(n->conf.port_count));
	json_object_set_new(j, "fdb_entries",
			    json_integer(switch_fdb_count(n->sw)));
	netd_services_net_json(n, j);
	if (n->br) {
		json_t *fdb = netd_bridge_fdb(n, NULL, 0);

		json_object_set_new(j, "fdb_entries",
				    json_integer(fdb ? (json_int_t)json_array_size(fdb) : 0));
		json_decref(fdb);
		json_object_set_new(j, "kernel_bridge", netd_bridge_json(n));
	}
	return j;
}

void netd_shutdown(struct netd *d)
{
	netd_kport_stop(d);
	while (d->nnets) {
		struct netd_net *n = d->nets[--d->nnets];

		netd_net_destroy(d, n);
	}
}
