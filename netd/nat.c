/* SPDX-License-Identifier: MIT */
/* nat.c - nat networks in netd: the libslirp uplink on the switch; port forwards (declared and live, to addresses or names) of nat and bridge networks. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/slirp.h"
#include "common/evloop.h"
#include "common/fwdspec.h"
#include "common/inet.h"
#include "common/log.h"
#include "loom/control.h"
#include "netd/nat_internal.h"
#include "netd/netd.h"
#include "netd/service.h"
#include "services/uplink.h"

#define MOD "nat"

enum {
	NAT_NAMES_MS = 1000, /* forwards to names: look again this often */
};

static int nat_uplink_config(const struct netconf_net *c,
			     struct slirp_uplink_config *u, char *err,
			     size_t errlen)
{
	struct inet_cidr subnet, gw;

	memset(u, 0, sizeof(*u));
	if (!c->subnet || inet_cidr_parse(c->subnet, &subnet) ||
	    subnet.family != AF_INET || !c->gateway ||
	    inet_addr_parse(c->gateway, &gw) || gw.family != AF_INET) {
		snprintf(err, errlen, "a nat network needs an IPv4 subnet");
		return -EINVAL;
	}
	memcpy(&u->net4, subnet.addr, 4);
	u->prefix4 = subnet.prefix;
	memcpy(&u->gw4, gw.addr, 4);
	if (c->subnet6 && c->gateway6 &&
	    !inet_cidr_parse(c->subnet6, &subnet) &&
	    !inet_addr_parse(c->gateway6, &gw)) {
		u->v6 = true;
		memcpy(&u->net6, subnet.addr, 16);
		u->prefix6 = subnet.prefix;
		memcpy(&u->gw6, gw.addr, 16);
	}
	u->mtu = c->mtu;
	u->host_loopback = c->host_loopback;
	u->name = c->name;
	return 0;
}

/*
 * The host and guest ends of forward @f as socket addresses, a guest name
 * resolved now: @has_guest false when it has no address (@ip4 0).
 */
struct nat_fwd_addrs {
	struct sockaddr_storage host, guest;
	socklen_t hlen, glen;
	bool udp, name, has_guest;
	uint32_t ip4;
};

static int nat_fwd_addrs(struct netd_net *n, const struct netconf_forward *f,
			 struct nat_fwd_addrs *a)
{
	struct fwd_endpoint h, g;

	memset(a, 0, sizeof(*a));
	if (fwd_host_parse(f->host, &h) || fwd_guest_parse(f->guest, &g))
		return -EINVAL;
	if (!g.port)
		g.port = h.port;
	a->hlen = fwd_endpoint_sockaddr(&h, &a->host);
	a->udp = f->proto == NETCONF_FWD_UDP;
	a->has_guest = true;
	if (g.name[0]) {
		a->name = true;
		a->has_guest = !netd_gw_addr4(n, g.name, &a->ip4) && a->ip4;
		if (!a->has_guest)
			a->ip4 = 0;
		inet_v4_set(&g.addr, a->ip4, 32);
		g.name[0] = '\0';
	}
	a->glen = fwd_endpoint_sockaddr(&g, &a->guest);
	return 0;
}

/*
 * Start forward @f of @n, its runtime side @rt. Return: 0 or -errno with
 * @err set.
 */
static int nat_fwd_listen(struct netd_net *n, struct nat_fwd_rt *rt,
			  const struct netconf_forward *f, char *err,
			  size_t errlen)
{
	struct nat_fwd_addrs a;
	int ret;

	if (n->nat->knat)
		return netd_knat_forward_add(n->nat->knat, f, err, errlen);
	if (nat_fwd_addrs(n, f, &a)) {
		snprintf(err, errlen, "forward %s -> %s is malformed", f->host,
			 f->guest);
		return -EINVAL;
	}
	ret = slirp_uplink_forward_add(n->nat->uplink, a.udp, (void *)&a.host,
				       a.hlen,
				       a.has_guest ? (void *)&a.guest : NULL,
				       a.glen);
	if (ret == 0) {
		rt->err[0] = '\0';
		rt->name = a.name;
		rt->ip4 = a.ip4;
	}
	switch (ret) {
	case 0:
		break;
	case -EADDRINUSE:
		snprintf(err, errlen,
			 "host port %s (%s) is in use by another program",
			 f->host, netconf_fwd_proto_name(f->proto));
		break;
	case -EACCES:
		snprintf(err, errlen,
			 "host port %s (%s): ports below 1024 need root or "
			 "CAP_NET_BIND_SERVICE (or lower "
			 "net.ipv4.ip_unprivileged_port_start)",
			 f->host, netconf_fwd_proto_name(f->proto));
		break;
	case -EADDRNOTAVAIL:
		snprintf(err, errlen,
			 "host address of %s is not an address of this host",
			 f->host);
		break;
	default:
		snprintf(err, errlen, "host port %s (%s): %s", f->host,
			 netconf_fwd_proto_name(f->proto), strerror(-ret));
	}
	return ret;
}

static void nat_fwd_close(struct netd_nat *nat, const struct netconf_forward *f)
{
	struct sockaddr_storage host;
	struct fwd_endpoint h;

	if (nat->knat)
		netd_knat_forward_remove(nat->knat, f);
	else if (!fwd_host_parse(f->host, &h))
		slirp_uplink_forward_remove(nat->uplink,
					    f->proto == NETCONF_FWD_UDP,
					    (void *)&host,
					    fwd_endpoint_sockaddr(&h, &host));
}

/* Point each forward to a name at the name's address now (see above). */
static void nat_names_refresh(struct netd_net *n)
{
	struct netd_nat *nat = n->nat;
	struct nat_fwd_addrs a;
	char ip[INET_ADDRSTRLEN];
	int ret;

	/* A bridge network's forwards are the kernel's: addresses only. */
	for (uint32_t i = 0; nat && nat->uplink && i < n->conf.forward_count;
	     i++) {
		const struct netconf_forward *f = &n->conf.forwards[i];
		struct nat_fwd_rt *rt = &nat->rt[i];

		if (!rt->name || rt->err[0] || nat_fwd_addrs(n, f, &a) ||
		    a.ip4 == rt->ip4)
			continue;
		ret = slirp_uplink_forward_retarget(nat->uplink, a.udp,
				(void *)&a.host, a.hlen,
				a.has_guest ? (void *)&a.guest : NULL, a.glen);
		rt->ip4 = a.ip4;
		if (ret < 0) {
			snprintf(rt->err, sizeof(rt->err),
				 "host port %s (%s): cannot listen again for "
				 "%s: %s", f->host,
				 netconf_fwd_proto_name(f->proto), f->guest,
				 strerror(-ret));
			log_err(MOD, "%s: forward down: %s", n->conf.name,
				rt->err);
			continue;
		}
		inet_ntop(AF_INET, &((struct sockaddr_in *)&a.guest)->sin_addr,
			  ip, sizeof(ip));
		log_info(MOD, "%s: forward %s %s -> %s now %s", n->conf.name,
			 netconf_fwd_proto_name(f->proto), f->host, f->guest,
			 a.has_guest ? ip : "waits (no address)");
	}
}

static void nat_on_names_tick(struct evloop *l, void *arg)
{
	nat_names_refresh(arg);
}

static void netd_nat_names_changed(struct netd *d, struct netd_net *n)
{
	nat_names_refresh(n);
}

/*
 * libslirp behind the network's gateway port (services/uplink.h): the
 * gateway answers ARP, ping, DHCP and DNS for the gateway address and
 * hands every other frame to libslirp; what libslirp emits leaves through
 * the gateway port, so the guests see one router with one MAC.
 */
static int nat_gw_input(void *priv, const struct frame *f)
{
	return slirp_uplink_input(priv, f);
}

static int nat_gw_output_fd(void *priv)
{
	return slirp_uplink_output_fd(priv);
}

static int nat_gw_output_peek(void *priv, struct frame_batch *batch)
{
	return slirp_uplink_output_peek(priv, batch);
}

static void nat_gw_output_release(void *priv)
{
	slirp_uplink_output_release(priv);
}

static const struct gateway_uplink_ops nat_gw_uplink_ops = {
	.name = "slirp",
	.input = nat_gw_input,
	.output_fd = nat_gw_output_fd,
	.output_peek = nat_gw_output_peek,
	.output_release = nat_gw_output_release,
};

static void netd_nat_stop(struct netd *d, struct netd_net *n);

/*
 * A declared forward that cannot listen fails the start unless @restoring
 * (then it stays declared, listed down with the reason).
 */
static int netd_nat_start(struct netd *d, struct netd_net *n, bool restoring,
		   char *err, size_t errlen)
{
	struct slirp_uplink_config uc;
	struct switch_port_config pc;
	struct netd_nat *nat;
	int ret;

	if (n->conf.mode == NETCONF_MODE_BRIDGE && d->have_net_admin) {
		nat = calloc(1, sizeof(*nat));
		if (!nat)
			return -ENOMEM;
		nat->port_id = -1;
		ret = netd_knat_start(d, n, &nat->knat, err, errlen);
		if (ret < 0) {
			free(nat);
			return ret;
		}
		goto attached;
	}
	if (n->conf.mode != NETCONF_MODE_NAT)
		return 0;
	ret = nat_uplink_config(&n->conf, &uc, err, errlen);
	if (ret < 0)
		return ret;
	nat = calloc(1, sizeof(*nat));
	if (!nat)
		return -ENOMEM;
	ret = slirp_uplink_new(&uc, &nat->uplink);
	if (ret < 0) {
		snprintf(err, errlen, "libslirp refused the network: %s",
			 strerror(-ret));
		goto free_nat;
	}
	nat->port_id = -1;
	if (n->gw) {
		ret = gateway_uplink_attach(netd_gw_gateway(n->gw),
					    &nat_gw_uplink_ops, nat->uplink);
		if (ret < 0) {
			snprintf(err, errlen, "the gateway refused the uplink: %s",
				 strerror(-ret));
			goto free_uplink;
		}
		goto attached;
	}
	memset(&pc, 0, sizeof(pc));
	snprintf(pc.name, sizeof(pc.name), "uplink");
	pc.mode = SWITCH_PORT_ACCESS;
	pc.access_vlan = 1;
	pc.accepts_gso = true; /* completed and handed to libslirp whole */
	ret = switch_port_add(n->sw, &slirp_port_ops, nat->uplink, &pc);
	if (ret < 0) {
		snprintf(err, errlen, "the switch refused the uplink: %s",
			 strerror(-ret));
		goto free_uplink;
	}
	nat->port_id = ret;
	nat->dp = netd_dp_port_add(d, n->sw, (uint32_t)ret);
	if (!nat->dp)
		log_warn(MOD, "%s: uplink not polled (out of memory)",
			 n->conf.name);
attached:
	n->nat = nat;
	nat->names_timer = evloop_timer_add(d->loop, NAT_NAMES_MS,
					    NAT_NAMES_MS, nat_on_names_tick, n);
	if (!nat->names_timer)
		log_warn(MOD, "%s: forwards to names follow DHCP only (no "
			 "timer: out of memory)", n->conf.name);
	for (uint32_t i = 0; i < n->conf.forward_count; i++) {
		char *ferr = nat->rt[i].err;

		ret = nat_fwd_listen(n, &nat->rt[i], &n->conf.forwards[i], ferr,
				     sizeof(nat->rt[i].err));
		if (ret == 0)
			continue;
		if (!restoring) {
			snprintf(err, errlen, "forwards[%u]: %s", i, ferr);
			netd_nat_stop(d, n);
			return ret;
		}
		log_err(MOD, "%s: forward stays down: %s", n->conf.name, ferr);
	}
	log_info(MOD, "%s: nat %s up (%u forwards)", n->conf.name,
		 nat->knat ? "(kernel)" : "uplink", n->conf.forward_count);
	return 0;

free_uplink:
	slirp_uplink_free(nat->uplink);
free_nat:
	free(nat);
	return ret;
}

static void netd_nat_stop(struct netd *d, struct netd_net *n)
{
	struct netd_nat *nat = n->nat;

	if (!nat)
		return;
	if (nat->names_timer)
		evloop_timer_del(nat->names_timer);
	if (nat->knat) {
		netd_knat_stop(nat->knat);
	} else if (nat->port_id >= 0) {
		netd_dp_port_remove(d, nat->dp);
		switch_port_remove(n->sw, (uint32_t)nat->port_id);
	} else if (n->gw) {
		gateway_uplink_detach(netd_gw_gateway(n->gw));
	}
	if (nat->uplink)
		slirp_uplink_free(nat->uplink); /* closes every listener */
	free(nat);
	n->nat = NULL;
}

/* Index of the declared forward of @n on @proto and host end @h, or -1. */
int nat_fwd_find(const struct netd_net *n, enum netconf_fwd_proto proto,
			const struct fwd_endpoint *h)
{
	struct fwd_endpoint x;

	for (uint32_t i = 0; i < n->conf.forward_count; i++) {
		const struct netconf_forward *f = &n->conf.forwards[i];

		if (f->proto == proto && !fwd_host_parse(f->host, &x) &&
		    x.port == h->port && inet_addr_equal(&x.addr, &h->addr))
			return (int)i;
	}
	return -1;
}

static void nat_fwd_forget(struct netd_net *n, uint32_t i)
{
	struct netd_nat *nat = n->nat;
	uint32_t rest = n->conf.forward_count - i - 1;

	netconf_forward_clear(&n->conf.forwards[i]);
	memmove(&n->conf.forwards[i], &n->conf.forwards[i + 1],
		rest * sizeof(n->conf.forwards[0]));
	memmove(&nat->rt[i], &nat->rt[i + 1], rest * sizeof(nat->rt[0]));
	n->conf.forward_count--;
}

/* Declare @f on @n and listen. Return: 0 or -errno with @err set. */
int nat_fwd_add(struct netd_net *n, const struct netconf_forward *f,
		       char *err, size_t errlen)
{
	struct netconf_forward *arr;
	struct netconf_error nerr;
	struct fwd_endpoint h;
	uint32_t i = n->conf.forward_count;
	int ret, j;

	memset(&nerr, 0, sizeof(nerr));
	if (netconf_forward_validate(f, &n->conf, "", &nerr) < 0) {
		snprintf(err, errlen, "%s%s%s", nerr.path,
			 nerr.path[0] ? ": " : "", nerr.msg);
		return -EINVAL;
	}
	fwd_host_parse(f->host, &h);
	j = nat_fwd_find(n, f->proto, &h);
	if (j >= 0) {
		snprintf(err, errlen, "%s %s is forwarded already (to %s)",
			 netconf_fwd_proto_name(f->proto), f->host,
			 n->conf.forwards[j].guest);
		return -EEXIST;
	}
	if (i >= NETCONF_FORWARDS_MAX) {
		snprintf(err, errlen, "network '%s' has %d forwards already",
			 n->conf.name, NETCONF_FORWARDS_MAX);
		return -ENOSPC;
	}
	ret = nat_fwd_listen(n, &n->nat->rt[i], f, err, errlen);
	if (ret < 0)
		return ret;
	arr = realloc(n->conf.forwards, (i + 1) * sizeof(*arr));
	if (!arr) {
		nat_fwd_close(n->nat, f);
		return -ENOMEM;
	}
	n->conf.forwards = arr;
	memset(&arr[i], 0, sizeof(arr[i]));
	arr[i].proto = f->proto;
	arr[i].host = strdup(f->host);
	arr[i].guest = strdup(f->guest);
	if (!arr[i].host || !arr[i].guest) {
		netconf_forward_clear(&arr[i]);
		nat_fwd_close(n->nat, f);
		return -ENOMEM;
	}
	n->conf.forward_count++;
	return 0;
}

void nat_fwd_del(struct netd_net *n, uint32_t i)
{
	/* Also when down: a failed re-point may still hold the port. */
	nat_fwd_close(n->nat, &n->conf.forwards[i]);
	nat_fwd_forget(n, i);
}

static int netd_nat_apply_forwards(struct netd *d, struct netd_net *n,
			    const struct netconf_net *conf, bool *changed,
			    char *err, size_t errlen)
{
	struct fwd_endpoint h;
	int ret, j;

	if (!n->nat)
		return 0;
	/* Remove what vanished or changed its guest, then add the rest. */
	for (uint32_t i = 0; i < n->conf.forward_count;) {
		const struct netconf_forward *f = &n->conf.forwards[i];
		bool keep = false;

		for (uint32_t k = 0; k < conf->forward_count; k++)
			if (conf->forwards[k].proto == f->proto &&
			    !strcmp(conf->forwards[k].host, f->host))
				keep = !strcmp(conf->forwards[k].guest,
					       f->guest);
		if (keep) {
			i++;
			continue;
		}
		nat_fwd_del(n, i);
		*changed = true;
	}
	for (uint32_t k = 0; k < conf->forward_count; k++) {
		if (fwd_host_parse(conf->forwards[k].host, &h))
			continue;
		j = nat_fwd_find(n, conf->forwards[k].proto, &h);
		if (j >= 0)
			continue;
		ret = nat_fwd_add(n, &conf->forwards[k], err, errlen);
		if (ret < 0)
			return ret;
		*changed = true;
	}
	return 0;
}

json_t *nat_fwd_json(const struct netd_net *n, uint32_t i)
{
	json_t *j = netconf_forward_to_json(&n->conf.forwards[i]);
	const struct nat_fwd_rt *rt = n->nat ? &n->nat->rt[i] : NULL;
	const char *e = rt ? rt->err : "the network is down";
	bool waiting = rt && !e[0] && rt->name && !rt->ip4;
	struct fwd_endpoint g;
	char buf[FWDSPEC_STRLEN];

	if (!j)
		return NULL;
	json_object_set_new(j, "net", json_string(n->conf.name));
	json_object_set_new(j, "state", json_string(e[0] ? "down" :
						    waiting ? "waiting" : "up"));
	if (waiting)
		json_object_set_new(j, "error", json_string(
			"the name has no address now (no lease, static host "
			"or attached VM of that name): connections are "
			"refused"));
	if (rt && rt->name && rt->ip4 &&
	    !fwd_guest_parse(n->conf.forwards[i].guest, &g)) {
		g.name[0] = '\0';
		inet_v4_set(&g.addr, rt->ip4, 32);
		json_object_set_new(j, "target", json_string(
			fwd_endpoint_format(&g, buf, sizeof(buf))));
	}
	if (n->nat && n->nat->uplink && !e[0] &&
	    n->conf.forwards[i].proto == NETCONF_FWD_TCP) {
		struct fwd_endpoint h;

		if (!fwd_host_parse(n->conf.forwards[i].host, &h))
			json_object_set_new(j, "connections",
				json_integer(slirp_uplink_forward_conns(
				    n->nat->uplink, false, h.port)));
	}
	if (e[0])
		json_object_set_new(j, "error", json_string(e));
	return j;
}

static json_t *netd_nat_json(struct netd_net *n)
{
	struct slirp_uplink_stats st;

	if (!n->nat)
		return NULL;
	if (n->nat->knat)
		return netd_knat_json(n->nat->knat);
	slirp_uplink_stats_get(n->nat->uplink, &st);
	return json_pack("{s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I,"
			 "s:I,s:I}}",
			 "port_id", n->nat->port_id, "sockets", (int)st.sockets,
			 "to_nat_frames",
			 (json_int_t)st.in_frames, "to_nat_gso_frames",
			 (json_int_t)st.in_gso, "to_nat_bytes",
			 (json_int_t)st.in_bytes, "from_nat_frames",
			 (json_int_t)st.out_frames, "from_nat_bytes",
			 (json_int_t)st.out_bytes, "drops", "queue_in_full",
			 (json_int_t)st.drops_in_full, "queue_out_full",
			 (json_int_t)st.drops_out_full, "bad_offload",
			 (json_int_t)st.drops_bad, "udp_gso",
			 (json_int_t)st.drops_gso, "conn_limit",
			 (json_int_t)st.drops_conn_limit, "conn_guest",
			 (json_int_t)st.drops_conn_guest);
}

static void nat_net_json(struct netd_net *n, json_t *j)
{
	if (n->nat)
		json_object_set_new(j, "nat", netd_nat_json(n));
}


/* A nat network's uplink and forwards, as a netd service (service.h). */
/* What an earlier run's kill -9 left in nftables goes before the state
 * file is read (the declared networks then rebuild their tables). */
static int netd_nat_svc_start(struct netd *d)
{
	int ret;

	if (!d->have_net_admin)
		return 0;
	ret = netd_knat_sweep(d);
	if (ret > 0)
		log_info(MOD, "removed %d stray nftables tables from a "
			 "previous run", ret);
	else if (ret < 0)
		log_warn(MOD, "cannot list nftables tables: %s",
			 strerror(-ret));
	return 0;
}

const struct netd_service netd_nat_service = {
	.name = "nat",
	.start = netd_nat_svc_start,
	.net_start = netd_nat_start,
	.net_stop = netd_nat_stop,
	.net_apply = netd_nat_apply_forwards,
	.net_names_changed = netd_nat_names_changed,
	.net_json = nat_net_json,
	.commands = netd_nat_commands, /* nat_cmd.c */
};
