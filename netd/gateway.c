/* SPDX-License-Identifier: MIT */
/* gateway.c - a network's gateway port in netd: DHCP and DNS on the control loop, the lease file before each ACK. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backends/gateway.h"
#include "common/evloop.h"
#include "common/inet.h"
#include "common/log.h"
#include "loom/control.h"
#include "netd/gateway_priv.h"
#include "services/arp_icmp.h"
#include "services/dhcp.h"
#include "services/dns.h"
#include "services/dns_msg.h"
#include "services/gateway.h"
#include "services/ipframe.h"

LOG_MODULE("netd-gateway");

static uint32_t be32_of(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

struct fdb_find {
	const uint8_t *mac;
	int port_id;
};

static int fdb_find_cb(void *arg, const struct switch_fdb_entry *e)
{
	struct fdb_find *f = arg;

	if (memcmp(e->mac, f->mac, 6))
		return 0;
	f->port_id = (int)e->port_id;
	return 1;
}

/* The switch port a frame from @mac came in on (learned by the switch). */
static int port_of_mac(struct netd_gw *g, const uint8_t mac[6])
{
	struct fdb_find f = { mac, -1 };

	switch_fdb_dump(g->n->sw, fdb_find_cb, &f);
	return f.port_id;
}

static const char *port_name_of(struct netd_gw *g, int port_id)
{
	const char *vm;

	for (uint32_t i = 0; i < g->n->conf.port_count; i++)
		if (g->n->rt[i].port_id == port_id)
			return g->n->conf.ports[i].name;
	vm = port_id >= 0 ? netd_vm_port_name(g->d, g->n, (uint32_t)port_id) :
			    NULL;
	return vm ? vm : "";
}

/* Wrap a DNS message for @c into a frame from the gateway and queue it. */
static void dns_send(struct netd_gw *g, const struct dns_client *c,
		     const uint8_t *msg, size_t len)
{
	const struct gateway_config *gc = gateway_config_get(g->gw);
	uint8_t *f = g->in + g->frame_max; /* the second half: reply scratch */
	struct pkt_buf b = { f, g->frame_max };
	size_t off = c->v6 ? UDP6_PAYLOAD_OFF : UDP4_PAYLOAD_OFF;
	uint8_t src6[16];
	int n;

	if (!pkt_put(&b, off, len))
		return;
	if (msg != f + off)
		memmove(f + off, msg, len);
	if (c->v6) {
		if (gc->has_ip6)
			memcpy(src6, gc->ip6, 16);
		else
			ndp_link_local(gc, src6);
		n = ipframe_udp6_finish(&b, c->mac, gc->mac, src6, c->ip6, 53,
					c->port, len);
	} else {
		n = ipframe_udp4_finish(&b, c->mac, gc->mac, gc->ip4, c->ip4,
					53, c->port, len);
	}
	if (n > 0)
		gateway_output(g->gw, f, (size_t)n);
}

static void dns_upstream_reply(void *arg, const struct dns_client *c,
			       const uint8_t *msg, size_t len)
{
	dns_send(arg, c, msg, len);
}

static void handle_dns(struct netd_gw *g, const struct ip_view *ip,
		       const struct udp_view *u)
{
	uint8_t *f = g->in + g->frame_max;
	size_t off = ip->v6 ? UDP6_PAYLOAD_OFF : UDP4_PAYLOAD_OFF;
	struct dns_client c;
	int n;

	if (!g->dns)
		return;
	memset(&c, 0, sizeof(c));
	memcpy(c.mac, ip->src_mac, 6);
	c.v6 = ip->v6;
	c.ip4 = ip->src4;
	memcpy(c.ip6, ip->src6, 16);
	c.port = u->sport;
	n = dns_server_query(g->dns, &u->payload, &c, f + off,
			     g->frame_max - off);
	if (n > 0)
		dns_send(g, &c, f + off, (size_t)n);
}

static void handle_dhcp(struct netd_gw *g, const struct ip_view *ip,
			const struct udp_view *u)
{
	const struct gateway_config *gc = gateway_config_get(g->gw);
	uint8_t *f = g->pending + g->npending * g->reply_max;
	struct pkt_buf b = { f, g->reply_max };
	struct dhcp_request_ctx ctx;
	struct dhcp_reply rep;
	struct dhcp_msg m;
	int port, n;

	if (!g->dhcp || ip->v6 || u->dport != DHCP_SERVER_PORT)
		return;
	if (dhcp_msg_parse(&u->payload, &m)) {
		log_rl(LOG_INFO, MOD, "%s: malformed DHCP request dropped",
		       g->n->conf.name);
		return;
	}
	port = port_of_mac(g, ip->src_mac);
	ctx.port_id = port >= 0 ? (uint32_t)port : DHCP_PORTS_MAX - 1;
	ctx.port_name = port_name_of(g, port);
	ctx.now = (uint64_t)time(NULL);
	if (dhcp_server_handle(g->dhcp, &m, &ctx, f + UDP4_PAYLOAD_OFF,
			       g->reply_max - UDP4_PAYLOAD_OFF, &rep) ||
	    rep.len <= 0)
		return;
	if (rep.to_relay)
		memcpy(rep.dst_mac, ip->src_mac, 6);
	n = ipframe_udp4_finish(&b, rep.dst_mac, gc->mac, gc->ip4, rep.dst_ip,
				DHCP_SERVER_PORT,
				rep.to_relay ? DHCP_SERVER_PORT : DHCP_CLIENT_PORT,
				(size_t)rep.len);
	if (n > 0)
		g->pending_len[g->npending++] = (size_t)n;
}

/* Lease file first, then the replies; on a failed write no ACK leaves. */
static void pending_flush(struct netd_gw *g)
{
	if (g->dhcp && dhcp_server_commit(g->dhcp)) {
		log_rl(LOG_ERR, MOD, "%s: lease file not written: %u replies "
		       "dropped", g->n->conf.name, g->npending);
		g->npending = 0;
		return;
	}
	/* A new lease's address is allowed before its ACK leaves. */
	if (g->npending)
		netd_antispoof_leases_changed(g->n);
	for (unsigned int i = 0; i < g->npending; i++)
		gateway_output(g->gw, g->pending + i * g->reply_max,
			       g->pending_len[i]);
	g->npending = 0;
}

static void gw_on_ctl(struct evloop *l, int fd, uint32_t events, void *arg)
{
	struct netd_gw *g = arg;
	bool dhcp = false;

	for (int k = 0; k < NETD_GW_BATCH; k++) {
		struct pkt_view v;
		struct ip_view ip;
		struct udp_view u;
		int n = gateway_ctl_recv(g->gw, g->in, g->frame_max);

		if (n == 0)
			break;
		if (n < 0)
			continue;
		v.data = g->in;
		v.len = (size_t)n;
		if (ipframe_parse(&v, &ip) || ip.proto != IPPROTO_UDP_ ||
		    ipframe_parse_udp(&ip, &u))
			continue;
		if (u.dport == 53) {
			handle_dns(g, &ip, &u);
		} else {
			handle_dhcp(g, &ip, &u);
			dhcp = true;
		}
	}
	pending_flush(g);
	if (dhcp) /* a lease may have moved: forwards to names follow it */
		netd_services_net_names_changed(g->d, g->n);
}

static void gw_on_dns(struct evloop *l, int fd, uint32_t events, void *arg)
{
	struct netd_gw *g = arg;

	dns_server_run(g->dns, evloop_now_ms());
}

static void gw_on_tick(struct evloop *l, void *arg)
{
	struct netd_gw *g = arg;
	uint64_t now = evloop_now_ms();
	const struct gateway_config *gc = gateway_config_get(g->gw);

	if (g->dns)
		dns_server_tick(g->dns, now);
	if (g->dhcp && now - g->last_dhcp_tick >= 1000) {
		g->last_dhcp_tick = now;
		dhcp_server_tick(g->dhcp, (uint64_t)time(NULL));
		/* Expired leases, MACs learnt since (netd/antispoof.c). */
		netd_antispoof_leases_changed(g->n);
	}
	if (gc->has_ip6 && now - g->last_ra >= NETD_GW_RA_MS) {
		uint8_t *f = g->in + g->frame_max;
		struct pkt_buf b = { f, g->frame_max };
		int n = ndp_ra_build(gc, &b);

		g->last_ra = now;
		if (n > 0)
			gateway_output(g->gw, f, (size_t)n);
	}
}

/* The DHCP pool when the file gives none: the upper half of the subnet. */
static void default_range(uint32_t net, uint8_t prefix, uint32_t *first,
			  uint32_t *last)
{
	uint64_t size = 1ull << (32 - prefix);

	*first = net + (uint32_t)(size / 2);
	*last = net + (uint32_t)(size - 2);
	if ((uint64_t)*last - *first + 1 > LEASE_POOL_MAX)
		*first = *last - LEASE_POOL_MAX + 1;
	if (prefix >= 31)
		*first = *last + 1; /* none */
}

static void lease_path_of(const struct netd *d, const char *net, char *buf,
			  size_t len)
{
	snprintf(buf, len, "%s/leases.%s", d->state_dir, net);
}

int netd_gw_lease_of(struct netd_net *n, const uint8_t mac[6], uint32_t *ip)
{
	struct lease *l;

	if (!n->gw || !n->gw->dhcp)
		return -ENOENT;
	l = lease_by_mac(dhcp_server_leases(n->gw->dhcp), mac);
	if (!l || l->state != LEASE_BOUND || l->expiry <= (uint64_t)time(NULL))
		return -ENOENT;
	*ip = htonl(l->ip);
	return 0;
}

/* netd_gw_leases_forget - a deleted network's lease files go with it. */
void netd_gw_leases_forget(struct netd *d, const char *net)
{
	char path[512];

	lease_path_of(d, net, path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		log_warn(MOD, "%s: %s", path, strerror(errno));
	/* The journal after the snapshot: a crash between the two leaves a
	 * journal of no snapshot's generation, which a new network with
	 * this name ignores. */
	strncat(path, ".journal", sizeof(path) - strlen(path) - 1);
	if (unlink(path) && errno != ENOENT)
		log_warn(MOD, "%s: %s", path, strerror(errno));
}

static bool section_on(const bool *enabled)
{
	return !enabled || *enabled;
}

static int dhcp_setup(struct netd_gw *g, const struct netconf_net *nc,
		      const struct gateway_config *gc, char *err,
		      size_t errlen)
{
	const struct netconf_dhcp *dc = nc->dhcp;
	struct lease_static *hosts = NULL;
	struct dhcp_server_config c;
	struct inet_cidr ba;
	uint32_t mask = ~0u << (32 - gc->prefix4);
	int ret = 0;

	memset(&c, 0, sizeof(c));
	c.server_ip = gc->ip4;
	c.router = gc->ip4;
	/* A bridge network with nat: the host routes (netd/knat.c). */
	if (nc->mode == NETCONF_MODE_BRIDGE && nc->nat &&
	    !inet_cidr_parse(nc->bridge_address, &ba) && ba.family == AF_INET)
		c.router = be32_of(ba.addr);
	c.netmask = mask;
	default_range(gc->ip4 & mask, gc->prefix4, &c.first, &c.last);
	c.mtu = gc->mtu;
	if (!nc->dns || section_on(nc->dns->enabled)) {
		c.dns[0] = gc->ip4;
		c.ndns = 1;
	}
	snprintf(c.domain, sizeof(c.domain), "%s", gc->domain);
	snprintf(c.search[0], sizeof(c.search[0]), "%s", gc->domain);
	c.nsearch = 1;
	if (dc) {
		if (dc->range)
			netconf_dhcp_range_parse(dc->range, &c.first, &c.last);
		c.lease_time = dc->lease_time;
		for (uint32_t i = 0; i < dc->ntp_count && i < DHCP_NTP_MAX; i++) {
			struct in_addr a;

			if (inet_pton(AF_INET, dc->ntp[i], &a) == 1)
				c.ntp[c.nntp++] = ntohl(a.s_addr);
		}
		if (dc->host_count) {
			hosts = calloc(dc->host_count, sizeof(*hosts));
			if (!hosts)
				return -ENOMEM;
		}
		for (uint32_t i = 0; i < dc->host_count; i++) {
			struct in_addr a;

			netconf_mac_parse(dc->hosts[i].mac, hosts[i].mac);
			inet_pton(AF_INET, dc->hosts[i].address, &a);
			hosts[i].ip = ntohl(a.s_addr);
			snprintf(hosts[i].name, sizeof(hosts[i].name), "%s",
				 dc->hosts[i].name ? dc->hosts[i].name : "");
			for (char *q = hosts[i].name; *q; q++)
				if (*q >= 'A' && *q <= 'Z')
					*q = (char)(*q - 'A' + 'a');
		}
		c.hosts = hosts;
		c.nhosts = dc->host_count;
		/* Option 121 (validated by netconf: IPv4, via in the subnet). */
		for (uint32_t i = 0; i < dc->route_count &&
				     c.nroutes < DHCP_ROUTES_MAX; i++) {
			struct inet_cidr to, via;

			if (inet_cidr_parse(dc->routes[i].to, &to) ||
			    inet_addr_parse(dc->routes[i].via, &via))
				continue;
			c.routes[c.nroutes].net = inet_v4_u32(&to);
			c.routes[c.nroutes].prefix = (uint8_t)to.prefix;
			c.routes[c.nroutes++].gw = inet_v4_u32(&via);
		}
	}
	lease_path_of(g->d, g->n->conf.name, g->lease_path,
		      sizeof(g->lease_path));
	c.lease_path = g->lease_path;
	g->dhcp = dhcp_server_new(&c);
	if (!g->dhcp) {
		ret = -errno;
		snprintf(err, errlen, "DHCP server: %s: %s", g->lease_path,
			 strerror(errno));
	}
	free(hosts);
	return ret;
}

static uint32_t upstream_parse(const struct netconf_dns *dc,
			       struct sockaddr_storage *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < dc->upstream_count && n < DNS_UPSTREAM_MAX;
	     i++) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out[n];
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out[n];

		memset(&out[n], 0, sizeof(out[n]));
		if (inet_pton(AF_INET, dc->upstream[i], &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(53);
			n++;
		} else if (inet_pton(AF_INET6, dc->upstream[i],
				     &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(53);
			n++;
		}
	}
	return n;
}

static int dns_setup(struct netd_gw *g, const struct netconf_net *nc,
		     const struct gateway_config *gc, char *err,
		     size_t errlen)
{
	struct dns_server_config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.domain, sizeof(c.domain), "%s", gc->domain);
	if (nc->dns && nc->dns->upstream_count)
		c.nupstream = upstream_parse(nc->dns, c.upstream);
	else
		c.nupstream = dns_resolv_conf_read("/etc/resolv.conf", gc->ip4,
						   c.upstream,
						   DNS_UPSTREAM_MAX);
	g->dns = dns_server_new(&c, &netd_gw_dns_ops, g, dns_upstream_reply, g);
	if (!g->dns) {
		snprintf(err, errlen, "DNS server: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* The DHCP and DNS servers of @g for declaration @nc (create and apply). */
static void svc_stop(struct netd_gw *g)
{
	if (g->dns && g->d->loop)
		evloop_fd_del(g->d->loop, dns_server_fd(g->dns));
	dns_server_free(g->dns);
	g->dns = NULL;
	if (g->dhcp)
		dhcp_server_commit(g->dhcp); /* a no-op: ACKs were written */
	dhcp_server_free(g->dhcp);
	g->dhcp = NULL;
}

static int svc_start(struct netd_gw *g, const struct netconf_net *nc,
		     char *err, size_t errlen)
{
	const struct gateway_config *gc = gateway_config_get(g->gw);
	int ret;

	if (gc->ip4 && (!nc->dhcp || section_on(nc->dhcp->enabled))) {
		ret = dhcp_setup(g, nc, gc, err, errlen);
		if (ret)
			return ret;
	}
	if (!nc->dns || section_on(nc->dns->enabled)) {
		ret = dns_setup(g, nc, gc, err, errlen);
		if (ret)
			goto stop;
		if (g->d->loop) {
			ret = evloop_fd_add(g->d->loop, dns_server_fd(g->dns),
					    EPOLLIN, gw_on_dns, g);
			if (ret < 0) {
				dns_server_free(g->dns);
				g->dns = NULL;
				snprintf(err, errlen, "DNS server: %s",
					 strerror(-ret));
				goto stop;
			}
		}
	}
	return 0;
stop:
	svc_stop(g);
	return ret;
}

static int netd_gw_create(struct netd *d, struct netd_net *n,
			  bool restoring, char *err, size_t errlen)
{
	struct switch_port_config pcfg;
	struct gateway_config gc;
	struct inet_cidr sub, gwa;
	struct netd_gw *g;
	int ret;

	if (!n->conf.subnet || !n->conf.gateway)
		return 0; /* a pure L2 network: no gateway */
	/* Mode bridge too: the gateway port sits on the network's switch,
	 * which joins the bridge through its switch link (netd/bridge.c);
	 * a bridge onto a LAN with a router of its own turns DHCP/DNS off
	 * (--no-dhcp, --no-dns). */
	if (inet_cidr_parse(n->conf.subnet, &sub) ||
	    inet_addr_parse(n->conf.gateway, &gwa)) {
		snprintf(err, errlen, "gateway: bad subnet or address");
		return -EINVAL;
	}
	memset(&gc, 0, sizeof(gc));
	gc.mtu = n->conf.mtu ? n->conf.mtu : 1500;
	if (n->conf.dns && n->conf.dns->domain)
		snprintf(gc.domain, sizeof(gc.domain), "%s",
			 n->conf.dns->domain);
	else
		snprintf(gc.domain, sizeof(gc.domain), "%s.loom",
			 n->conf.name);
	for (char *q = gc.domain; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	gc.mac[0] = 0x52;
	if (sub.family == AF_INET) {
		gc.ip4 = be32_of(gwa.addr);
		gc.prefix4 = (uint8_t)sub.prefix;
		gc.mac[1] = 0x55;
		memcpy(gc.mac + 2, gwa.addr, 4);
	} else {
		gc.has_ip6 = true;
		memcpy(gc.ip6, gwa.addr, 16);
		gc.prefix6 = (uint8_t)sub.prefix;
		gc.mac[1] = 0x56;
		memcpy(gc.mac + 2, gwa.addr + 12, 4);
	}
	/* nat's IPv6 prefix: the gateway answers NDP and RS there too. */
	if (!gc.has_ip6 && n->conf.subnet6 && n->conf.gateway6 &&
	    !inet_cidr_parse(n->conf.subnet6, &sub) &&
	    !inet_addr_parse(n->conf.gateway6, &gwa) &&
	    sub.family == AF_INET6) {
		gc.has_ip6 = true;
		memcpy(gc.ip6, gwa.addr, 16);
		gc.prefix6 = (uint8_t)sub.prefix;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->d = d;
	g->n = n;
	g->port_id = -1;
	g->gw = gateway_new(&gc);
	if (!g->gw) {
		ret = -errno;
		snprintf(err, errlen, "gateway: %s", strerror(errno));
		goto free_g;
	}
	g->frame_max = gateway_frame_max(g->gw);
	g->in = malloc(2 * g->frame_max);
	g->reply_max = g->frame_max < NETD_GW_REPLY_MAX ? g->frame_max :
							   NETD_GW_REPLY_MAX;
	g->pending = malloc(NETD_GW_BATCH * g->reply_max);
	if (!g->in || !g->pending) {
		ret = -ENOMEM;
		goto free_gw;
	}
	ret = svc_start(g, &n->conf, err, errlen);
	if (ret)
		goto free_gw;
	if (d->loop) {
		ret = evloop_fd_add(d->loop, gateway_ctl_fd(g->gw), EPOLLIN,
				    gw_on_ctl, g);
		if (ret < 0)
			goto stop_svc;
		g->tick = evloop_timer_add(d->loop, NETD_GW_TICK_MS,
					   NETD_GW_TICK_MS, gw_on_tick, g);
	}
	memset(&pcfg, 0, sizeof(pcfg));
	snprintf(pcfg.name, sizeof(pcfg.name), "gateway");
	pcfg.mode = SWITCH_PORT_ACCESS;
	pcfg.access_vlan = SWITCH_VLAN_DEFAULT;
	pcfg.accepts_gso = true; /* see backends/gateway.c */
	ret = switch_port_add(n->sw, &gateway_port_ops, g->gw, &pcfg);
	if (ret < 0) {
		snprintf(err, errlen, "gateway: switch refused the port: %s",
			 strerror(-ret));
		goto del_loop;
	}
	g->port_id = ret;
	g->dp = netd_dp_port_add(d, n->sw, (uint32_t)ret);
	n->gw = g;
	log_info(MOD, "%s: gateway %s up (DHCP %s, DNS %s)", n->conf.name,
		 n->conf.gateway, g->dhcp ? "on" : "off",
		 g->dns ? gc.domain : "off");
	return 0;
del_loop:
	if (d->loop) {
		if (g->tick)
			evloop_timer_del(g->tick);
		evloop_fd_del(d->loop, gateway_ctl_fd(g->gw));
	}
stop_svc:
	svc_stop(g);
free_gw:
	free(g->in);
	free(g->pending);
	gateway_free(g->gw);
free_g:
	free(g);
	return ret;
}

static void netd_gw_destroy(struct netd *d, struct netd_net *n)
{
	struct netd_gw *g = n->gw;

	if (!g)
		return;
	if (g->dp)
		netd_dp_port_remove(d, g->dp);
	if (g->port_id >= 0)
		switch_port_remove(n->sw, (uint32_t)g->port_id);
	if (d->loop) {
		if (g->tick)
			evloop_timer_del(g->tick);
		evloop_fd_del(d->loop, gateway_ctl_fd(g->gw));
	}
	svc_stop(g);
	gateway_free(g->gw);
	free(g->in);
	free(g->pending);
	free(g);
	n->gw = NULL;
}

/* Same JSON value, or both absent. */
static bool json_same(json_t *a, json_t *b)
{
	return (!a && !b) || (a && b && json_equal(a, b));
}

static bool services_equal(const struct netconf_net *a,
			   const struct netconf_net *b)
{
	json_t *ja = netconf_net_to_json(a), *jb = netconf_net_to_json(b);
	bool eq = ja && jb &&
		  json_same(json_object_get(ja, "dhcp"),
			    json_object_get(jb, "dhcp")) &&
		  json_same(json_object_get(ja, "dns"),
			    json_object_get(jb, "dns"));

	json_decref(ja);
	json_decref(jb);
	return eq;
}

/*
 * net.apply with the same switch: new `dhcp:` / `dns:` take effect at
 * once. The servers are rebuilt from the new declaration and the lease
 * file (which holds every acknowledged lease, so none is dropped; only
 * offers not yet taken are forgotten). The domain of the gateway host
 * itself (router advertisements) stays until the network is rebuilt.
 */
static int netd_gw_apply(struct netd *d, struct netd_net *n,
			 const struct netconf_net *conf, bool *changed,
			 char *err, size_t errlen)
{
	struct netconf_net copy;
	struct netd_gw *g = n->gw;
	int ret;

	if (services_equal(&n->conf, conf))
		return 0;
	ret = netd_netconf_copy(&copy, conf);
	if (ret < 0)
		return ret;
	/* Adopt the new sections into the declaration. */
	{
		struct netconf_dhcp *od = n->conf.dhcp;
		struct netconf_dns *os = n->conf.dns;

		n->conf.dhcp = copy.dhcp;
		n->conf.dns = copy.dns;
		copy.dhcp = od;
		copy.dns = os;
	}
	netconf_net_clear(&copy);
	*changed = true;
	if (!g)
		return 0;
	svc_stop(g);
	ret = svc_start(g, &n->conf, err, errlen);
	if (ret)
		log_err(MOD, "%s: services not restarted: %s", n->conf.name,
			err);
	return ret;
}


struct gateway *netd_gw_gateway(struct netd_gw *g)
{
	return g->gw;
}

int netd_gw_addr4(struct netd_net *n, const char *name, uint32_t *ip)
{
	return n->gw ? netd_gw_dns_ops.addr4(n->gw, name, ip) : -ENOENT;
}

/*
 * The gateway host of every network with a subnet, as a netd service
 * (service.h). Listed before nat in netd/services.c: nat's net_start
 * attaches libslirp behind the gateway, its net_stop detaches first.
 */
const struct netd_service netd_gateway_service = {
	.name = "gateway",
	.start = netd_host_dns_start,
	.stop = netd_host_dns_stop,
	.net_start = netd_gw_create,
	.net_stop = netd_gw_destroy,
	.net_apply = netd_gw_apply,
	.commands = netd_gw_commands,
};
