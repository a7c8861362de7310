/* SPDX-License-Identifier: MIT */
/* gateway_names.c - the names a network's DNS answers itself: the gateway, DHCP hosts and leases, attached VMs; AAAA by SLAAC/EUI-64. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "netd/gateway_priv.h"
#include "services/dhcp.h"
#include "services/dns.h"
#include "services/gateway.h"

/* DNS lookups: the gateway itself, DHCP hosts and leases, attached VMs. */
static int gw_addr4(void *arg, const char *name, uint32_t *ip)
{
	struct netd_gw *g = arg;
	const struct gateway_config *c = gateway_config_get(g->gw);

	if (!strcmp(name, "gateway") && c->ip4) {
		*ip = c->ip4;
		return 0;
	}
	if (g->dhcp && !dhcp_server_addr_of(g->dhcp, name, (uint64_t)time(NULL),
					    ip))
		return 0;
	for (int i = 0; g->dhcp && i < NETD_VMS_MAX; i++) {
		struct netd_vmport *vm = g->d->vms[i];
		struct lease *l;

		if (!vm || vm->net != g->n || strcmp(vm->name, name))
			continue;
		l = lease_by_mac(dhcp_server_leases(g->dhcp), vm->mac);
		if (l && l->state == LEASE_BOUND) {
			*ip = l->ip;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The SLAAC address a host with @mac forms on the gateway's /64: the prefix
 * and the modified EUI-64 of the MAC (RFC 4862, RFC 4291 2.5.1), which is
 * what Linux does by default (addr_gen_mode 0). A guest with privacy or
 * stable-privacy addresses has others, which netd cannot know.
 */
static void slaac_eui64(const uint8_t prefix[16], const uint8_t mac[6],
			uint8_t ip[16])
{
	memcpy(ip, prefix, 8);
	ip[8] = mac[0] ^ 0x02;
	ip[9] = mac[1];
	ip[10] = mac[2];
	ip[11] = 0xff;
	ip[12] = 0xfe;
	ip[13] = mac[3];
	ip[14] = mac[4];
	ip[15] = mac[5];
}

static int gw_addr6(void *arg, const char *name, uint8_t ip[16])
{
	struct netd_gw *g = arg;
	const struct gateway_config *c = gateway_config_get(g->gw);
	uint8_t mac[6];

	if (!c->has_ip6)
		return -ENOENT;
	if (!strcmp(name, "gateway")) {
		memcpy(ip, c->ip6, 16);
		return 0;
	}
	if (c->prefix6 > 64) /* no SLAAC on a longer prefix */
		return -ENOENT;
	if (g->dhcp &&
	    !dhcp_server_mac_of(g->dhcp, name, (uint64_t)time(NULL), mac)) {
		slaac_eui64(c->ip6, mac, ip);
		return 0;
	}
	for (int i = 0; i < NETD_VMS_MAX; i++) {
		struct netd_vmport *vm = g->d->vms[i];

		if (vm && vm->net == g->n && !strcmp(vm->name, name)) {
			slaac_eui64(c->ip6, vm->mac, ip);
			return 0;
		}
	}
	return -ENOENT;
}

static const char *gw_name4(void *arg, uint32_t ip)
{
	struct netd_gw *g = arg;
	const struct gateway_config *c = gateway_config_get(g->gw);
	const char *name;
	struct lease *l;

	if (ip == c->ip4)
		return "gateway";
	if (!g->dhcp)
		return NULL;
	name = dhcp_server_name_of(g->dhcp, ip, (uint64_t)time(NULL));
	if (name)
		return name;
	l = lease_by_ip(dhcp_server_leases(g->dhcp), ip);
	for (int i = 0; l && l->state == LEASE_BOUND && i < NETD_VMS_MAX; i++) {
		struct netd_vmport *vm = g->d->vms[i];

		if (vm && vm->net == g->n && !memcmp(vm->mac, l->mac, 6))
			return vm->name;
	}
	return NULL;
}

static bool gw_in_subnet4(void *arg, uint32_t ip)
{
	struct netd_gw *g = arg;
	const struct gateway_config *c = gateway_config_get(g->gw);
	uint32_t m = c->prefix4 ? ~0u << (32 - c->prefix4) : 0;

	return c->ip4 && (ip & m) == (c->ip4 & m);
}

const struct dns_lookup_ops netd_gw_dns_ops = {
	.addr4 = gw_addr4,
	.addr6 = gw_addr6,
	.name4 = gw_name4,
	.in_subnet4 = gw_in_subnet4,
};
