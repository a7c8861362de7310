/* SPDX-License-Identifier: MIT */
/* gateway_status.c - the gateway's port status and the lease.list / lease.release commands. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "loom/control.h"
#include "netd/gateway_priv.h"
#include "services/dhcp.h"
#include "services/dns.h"
#include "services/gateway.h"

static void ip4_str(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
		 (ip >> 8) & 255, ip & 255);
}

static void mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

json_t *netd_gw_port_status(struct netd_net *n)
{
	struct netd_gw *g = n->gw;
	const struct gateway_config *gc;
	struct gateway_stats st;
	char mac[18];
	json_t *j;

	if (!g)
		return NULL;
	gc = gateway_config_get(g->gw);
	gateway_stats_get(g->gw, &st);
	mac_str(gc->mac, mac, sizeof(mac));
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:i,s:o}", "net",
		      n->conf.name, "name", "gateway", "backend", "gateway",
		      "model", "gateway", "mac", mac, "address", n->conf.gateway, "vlan",
		      SWITCH_VLAN_DEFAULT, "state", "up", "port_id",
		      g->port_id,
		      "counters", netd_port_counters(n->sw, (uint32_t)g->port_id));
	if (j)
		json_object_set_new(
			j, "services",
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}",
				  "arp_replies", (json_int_t)st.arp_replies,
				  "icmp_replies", (json_int_t)st.icmp_replies,
				  "ndp_replies", (json_int_t)st.ndp_replies,
				  "dhcp_dns_requests",
				  (json_int_t)st.ctl_queued, "malformed",
				  (json_int_t)st.malformed, "queue_full",
				  (json_int_t)(st.ctl_full + st.out_full),
				  "not_for_us", (json_int_t)st.not_for_us,
				  "dhcp", g->dhcp != NULL));
	if (j && g->dhcp) {
		struct dhcp_stats ds;

		dhcp_server_stats_get(g->dhcp, &ds);
		json_object_set_new(
			j, "dhcp",
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "offers",
				  (json_int_t)ds.offers, "acks",
				  (json_int_t)ds.acks, "naks",
				  (json_int_t)ds.naks, "pool_empty",
				  (json_int_t)ds.pool_empty, "port_limit",
				  (json_int_t)ds.port_limit, "ignored",
				  (json_int_t)ds.ignored, "commits",
				  (json_int_t)ds.commits, "commit_errors",
				  (json_int_t)ds.commit_errors));
	}
	return j;
}

/* The leases of @n as a JSON array (BOUND and DECLINED). */
static json_t *netd_gw_leases(struct netd_net *n)
{
	json_t *arr = json_array();
	struct lease_table *t;
	uint64_t now = (uint64_t)time(NULL);

	if (!n->gw || !n->gw->dhcp)
		return arr;
	t = dhcp_server_leases(n->gw->dhcp);
	for (uint32_t i = 0; i < t->cap; i++) {
		const struct lease *l = &t->slots[i];
		char ip[16], mac[18];

		if (!l->key_len ||
		    (l->state != LEASE_BOUND && l->state != LEASE_DECLINED))
			continue;
		ip4_str(l->ip, ip, sizeof(ip));
		mac_str(l->mac, mac, sizeof(mac));
		json_array_append_new(
			arr,
			json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "net",
				  n->conf.name, "mac", mac, "address", ip,
				  "host", l->is_static && l->static_name[0] ?
						  l->static_name :
						  l->host,
				  "port", l->port, "expiry",
				  (json_int_t)l->expiry, "expires_in",
				  (json_int_t)(l->expiry > now ?
							l->expiry - now :
							0),
				  "state",
				  l->expiry > now ? lease_state_name(l->state) :
						    "expired"));
	}
	return arr;
}

/*
 * Free the lease of MAC or address @what, on disk before it returns.
 * Return: 0, -ENOENT, -EINVAL, -EIO.
 */
static int netd_gw_lease_release(struct netd_net *n, const char *what, char *err,
			  size_t errlen)
{
	unsigned int m[6];
	uint8_t mac[6];
	struct in_addr a;
	int ret;

	if (!n->gw || !n->gw->dhcp) {
		snprintf(err, errlen, "network '%s' has no DHCP server",
			 n->conf.name);
		return -ENOENT;
	}
	if (sscanf(what, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
		   &m[4], &m[5]) == 6) {
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)m[i];
		ret = dhcp_server_release(n->gw->dhcp, mac, 0);
	} else if (inet_pton(AF_INET, what, &a) == 1) {
		ret = dhcp_server_release(n->gw->dhcp, NULL, ntohl(a.s_addr));
	} else {
		snprintf(err, errlen, "'%s' is neither a MAC nor an IPv4 address",
			 what);
		return -EINVAL;
	}
	if (ret) {
		snprintf(err, errlen, "network '%s' has no lease for %s",
			 n->conf.name, what);
		return ret;
	}
	ret = dhcp_server_commit(n->gw->dhcp);
	if (ret) {
		snprintf(err, errlen, "lease file: %s", strerror(-ret));
		return -EIO;
	}
	return 0;
}

/* The argument "net" of a command: NULL when absent, @ret set on error. */
static struct netd_net *arg_net(struct netd *d, json_t *args, bool required,
				char *err, int *ret)
{
	json_t *v = json_object_get(args, "net");
	struct netd_net *n;

	*ret = 0;
	if (!v || json_is_null(v)) {
		if (required) {
			snprintf(err, NETD_ERRLEN, "missing argument 'net'");
			*ret = -EINVAL;
		}
		return NULL;
	}
	if (!json_is_string(v)) {
		snprintf(err, NETD_ERRLEN,
			 "argument 'net' must be a network name");
		*ret = -EINVAL;
		return NULL;
	}
	n = netd_net_find(d, json_string_value(v));
	if (!n) {
		snprintf(err, NETD_ERRLEN, "network '%s' does not exist",
			 json_string_value(v));
		*ret = -ENOENT;
	}
	return n;
}

/* lease.list {net?}: the DHCP leases of one network or of all. */
static int cmd_lease_list(struct netd *d, json_t *args, json_t **res,
			  char *err)
{
	struct netd_net *only;
	json_t *arr;
	int ret;

	only = arg_net(d, args, false, err, &ret);
	if (ret)
		return ret;
	arr = json_array();
	if (!arr)
		return -ENOMEM;
	for (unsigned int k = 0; k < d->nnets; k++) {
		json_t *l;

		if (only && d->nets[k] != only)
			continue;
		l = netd_gw_leases(d->nets[k]);
		json_array_extend(arr, l);
		json_decref(l);
	}
	*res = json_pack("{s:o}", "leases", arr);
	return 0;
}

/* lease.release {net, lease: MAC or address}: on disk before the reply. */
static int cmd_lease_release(struct netd *d, json_t *args, json_t **res,
			     char *err)
{
	json_t *v = json_object_get(args, "lease");
	struct netd_net *n;
	int ret;

	n = arg_net(d, args, true, err, &ret);
	if (!n)
		return ret;
	if (!json_is_string(v)) {
		snprintf(err, NETD_ERRLEN,
			 "argument 'lease' must be a MAC or an IPv4 address");
		return -EINVAL;
	}
	ret = netd_gw_lease_release(n, json_string_value(v), err, NETD_ERRLEN);
	if (ret == 0)
		*res = json_object();
	return ret;
}

const struct netd_command netd_gw_commands[] = {
	{ LOOM_CMD_LEASE_LIST, cmd_lease_list },
	{ LOOM_CMD_LEASE_RELEASE, cmd_lease_release },
	{ NULL, NULL },
};
