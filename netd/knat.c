// SPDX-License-Identifier: MIT
/* knat.c - a bridge network's NAT and port forwards on the kernel path: netd's nftables table (kernel/nft.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fwdspec.h"
#include "common/inet.h"
#include "common/log.h"
#include "kernel/nft.h"
#include "netd/netd.h"

LOG_MODULE("netd-knat");

/*
 * The frames of a bridge network never enter netd, so its NAT is the
 * kernel's: one inet table per network (kernel/nft.h names it) with a
 * masquerade rule for `nat: true` and one DNAT rule per forward, in
 * prerouting (connections from elsewhere) and output (from the host
 * itself). The table is rebuilt whole on each change. The host is the
 * guests' router (the DHCP router option is bridge_address, gateway.c),
 * so netd turns on net.ipv4.ip_forward and leaves it on (other things on
 * the host may rely on it, as libvirt does). A forward on a loopback
 * address needs the bridge's route_localnet (the connection leaves with
 * source 127.0.0.1 until the masquerade). docs/architecture.md.
 */
struct netd_knat {
	struct netd_net *n;
	char table[KERNEL_NFT_TABLE_MAX];
	struct kernel_nft_forward fwd[NETCONF_FORWARDS_MAX];
	uint32_t nfwd;
	bool applied; /* the table exists */
};

static int sysctl_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static bool sysctl_is_on(const char *path)
{
	char c = '0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = '0';
	close(fd);
	return c == '1';
}

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

static void knat_ip_forward_on(struct netd_knat *k)
{
	int ret;

	if (sysctl_is_on(IP_FORWARD))
		return;
	ret = sysctl_write(IP_FORWARD, "1");
	if (ret < 0)
		log_err(MOD, "%s: cannot turn on %s: %s (the guests cannot "
			"reach beyond the host)", k->n->conf.name, IP_FORWARD,
			strerror(-ret));
	else
		log_info(MOD, "%s: turned on net.ipv4.ip_forward (left on at "
			 "exit)", k->n->conf.name);
}

static void knat_route_localnet(struct netd_knat *k)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet",
		 k->n->conf.bridge);
	ret = sysctl_write(path, "1");
	if (ret < 0)
		log_err(MOD, "%s: cannot set %s: %s (forwards on 127.0.0.1 "
			"will not connect)", k->n->conf.name, path,
			strerror(-ret));
}

/* Replace the table with what @k holds now. */
static int knat_apply(struct netd_knat *k, char *err, size_t errlen)
{
	struct kernel_nft_nat t = {
		.table = k->table,
		.bridge = k->n->conf.bridge,
		.masquerade = k->n->conf.nat,
		.fwd = k->fwd,
		.nfwd = k->nfwd,
	};
	struct inet_cidr sub;
	bool localnet = false;
	size_t len;
	char *buf;
	int ret;

	/* Nothing declared and no table: nothing to do (nftables is not
	 * touched at all for a bridge network without nat and forwards). */
	if (!t.masquerade && !t.nfwd && !k->applied)
		return 0;
	if (k->n->conf.subnet && !inet_cidr_parse(k->n->conf.subnet, &sub)) {
		memcpy(&t.subnet, sub.addr, 4);
		t.prefix = (uint8_t)sub.prefix;
	}
	for (uint32_t i = 0; i < k->nfwd; i++)
		localnet |= (ntohl(k->fwd[i].host_addr) >> 24) == 127;
	if (localnet)
		knat_route_localnet(k);
	if (t.masquerade || t.nfwd)
		knat_ip_forward_on(k);
	/* The table's frame, then two rules (prerouting, output) per
	 * forward, each well under 128 bytes. */
	len = 1024 + 256 * (size_t)k->nfwd;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	ret = kernel_nft_ruleset(&t, buf, len);
	if (ret >= 0)
		ret = kernel_nft_run(buf, err, errlen);
	else
		snprintf(err, errlen, "nftables: ruleset too long");
	free(buf);
	if (ret == 0)
		k->applied = t.masquerade || t.nfwd;
	return ret;
}

int netd_knat_start(struct netd *d, struct netd_net *n,
		    struct netd_knat **out, char *err, size_t errlen)
{
	struct netd_knat *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	k->n = n;
	if (kernel_nft_table_name(d->instance, n->conf.name, k->table,
				  sizeof(k->table)) < 0) {
		snprintf(err, errlen, "network name too long for a table");
		free(k);
		return -ENAMETOOLONG;
	}
	ret = knat_apply(k, err, errlen);
	if (ret < 0) {
		free(k);
		return ret;
	}
	if (n->conf.nat)
		log_info(MOD, "%s: masquerade out of %s (table inet %s)",
			 n->conf.name, n->conf.bridge, k->table);
	*out = k;
	return 0;
}

void netd_knat_stop(struct netd_knat *k)
{
	char err[256];

	if (!k)
		return;
	if (k->applied && kernel_nft_table_delete(k->table, err, sizeof(err)))
		log_err(MOD, "%s: cannot delete table %s: %s", k->n->conf.name,
			k->table, err);
	free(k);
}

static int knat_fwd_of(const struct netconf_forward *f,
		       struct kernel_nft_forward *kf)
{
	struct fwd_endpoint h, g;

	if (fwd_host_parse(f->host, &h) || fwd_guest_parse(f->guest, &g) ||
	    h.addr.family != AF_INET || g.addr.family != AF_INET)
		return -EINVAL;
	memset(kf, 0, sizeof(*kf));
	kf->udp = f->proto == NETCONF_FWD_UDP;
	memcpy(&kf->host_addr, h.addr.addr, 4);
	kf->host_port = h.port;
	memcpy(&kf->guest_addr, g.addr.addr, 4);
	kf->guest_port = g.port ? g.port : h.port;
	return 0;
}

static int knat_fwd_find(const struct netd_knat *k,
			 const struct kernel_nft_forward *kf)
{
	for (uint32_t i = 0; i < k->nfwd; i++)
		if (k->fwd[i].udp == kf->udp &&
		    k->fwd[i].host_addr == kf->host_addr &&
		    k->fwd[i].host_port == kf->host_port)
			return (int)i;
	return -1;
}

int netd_knat_forward_add(struct netd_knat *k, const struct netconf_forward *f,
			  char *err, size_t errlen)
{
	struct kernel_nft_forward kf;
	int ret;

	if (!k->n->conf.bridge_address) {
		snprintf(err, errlen, "a forward on bridge network '%s' needs "
			 "the host's address on the bridge (bridge_address): "
			 "the connection enters the bridge from it",
			 k->n->conf.name);
		return -EINVAL;
	}
	if (knat_fwd_of(f, &kf)) {
		snprintf(err, errlen, "forward %s -> %s: a bridge network "
			 "forwards IPv4 only", f->host, f->guest);
		return -EINVAL;
	}
	if (knat_fwd_find(k, &kf) >= 0) {
		snprintf(err, errlen, "%s is forwarded already", f->host);
		return -EEXIST;
	}
	if (k->nfwd >= NETCONF_FORWARDS_MAX) {
		snprintf(err, errlen, "at most %d forwards",
			 NETCONF_FORWARDS_MAX);
		return -ENOSPC;
	}
	k->fwd[k->nfwd++] = kf;
	ret = knat_apply(k, err, errlen);
	if (ret < 0)
		k->nfwd--;
	return ret;
}

void netd_knat_forward_remove(struct netd_knat *k,
			      const struct netconf_forward *f)
{
	struct kernel_nft_forward kf;
	char err[256];
	int i;

	if (knat_fwd_of(f, &kf) || (i = knat_fwd_find(k, &kf)) < 0)
		return;
	memmove(&k->fwd[i], &k->fwd[i + 1],
		(k->nfwd - (uint32_t)i - 1) * sizeof(k->fwd[0]));
	k->nfwd--;
	if (knat_apply(k, err, sizeof(err)) < 0)
		log_err(MOD, "%s: forward %s stays in the kernel: %s",
			k->n->conf.name, f->host, err);
}

json_t *netd_knat_json(const struct netd_knat *k)
{
	return json_pack("{s:s,s:s,s:b,s:i}", "path", "kernel", "table",
			 k->applied ? k->table : "", "masquerade",
			 k->n->conf.nat, "forwards", (int)k->nfwd);
}

int netd_knat_sweep(struct netd *d)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), KERNEL_NFT_PREFIX "%s_", d->instance);
	return kernel_nft_sweep(prefix);
}
