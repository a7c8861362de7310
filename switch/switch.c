/* SPDX-License-Identifier: MIT */
/* switch.c - the L2 switch's set-up: ports and their VLAN config, MAC table dumps and flushes, mirrors (the data path: forward.c). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "switch/switch_internal.h"

static const char *const drop_names[SWITCH_DROP__COUNT] = {
    [SWITCH_DROP_RUNT] = "runt",
    [SWITCH_DROP_OVERSIZE] = "oversize",
    [SWITCH_DROP_SRC_MULTICAST] = "src_multicast",
    [SWITCH_DROP_VLAN_TAGGED_ON_ACCESS] = "vlan_tagged_on_access",
    [SWITCH_DROP_VLAN_NOT_ALLOWED] = "vlan_not_allowed",
    [SWITCH_DROP_UNTAGGED_NO_NATIVE] = "untagged_no_native",
    [SWITCH_DROP_SAME_PORT] = "same_port",
    [SWITCH_DROP_ISOLATED] = "isolated",
    [SWITCH_DROP_NO_PORT] = "no_port",
    [SWITCH_DROP_GSO_UNSUPPORTED] = "gso_unsupported",
    [SWITCH_DROP_TOO_LONG] = "too_long",
    [SWITCH_DROP_TX_FULL] = "tx_full",
    [SWITCH_DROP_PORT_DOWN] = "port_down",
    [SWITCH_DROP_NESTED_TAG] = "nested_tag",
    [SWITCH_DROP_SPOOF_MAC] = "spoof_mac",
    [SWITCH_DROP_SPOOF_IP] = "spoof_ip",
    [SWITCH_DROP_SPOOF_ARP] = "spoof_arp",
    [SWITCH_DROP_DHCP_SERVER] = "dhcp_server",
    [SWITCH_DROP_ROUTER_ADV] = "router_adv",
};

_Static_assert(SWITCH_DROP_ROUTER_ADV - SWITCH_DROP_SPOOF_MAC ==
		       ANTISPOOF_DROP_RA - ANTISPOOF_DROP_SRC_MAC,
	       "anti-spoofing drop reasons follow enum antispoof_verdict");

const char *switch_drop_reason_name(enum switch_drop_reason reason)
{
	if ((unsigned)reason >= SWITCH_DROP__COUNT)
		return "?";
	return drop_names[reason];
}

static uint64_t clock_default(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int port_config_check(const struct switch_port_config *cfg)
{
	if (memchr(cfg->name, 0, sizeof(cfg->name)) == NULL)
		return -EINVAL;
	switch (cfg->mode) {
	case SWITCH_PORT_ACCESS:
		if (cfg->access_vlan > SWITCH_VLAN_MAX)
			return -EINVAL;
		break;
	case SWITCH_PORT_TRUNK:
		if (cfg->native_vlan > SWITCH_VLAN_MAX)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* Derive the lookup state of a port from its config (already checked). */
static void port_config_apply(struct sw_port *p,
			      const struct switch_port_config *cfg)
{
	p->cfg = *cfg;
	memset(p->vlans, 0, sizeof(p->vlans));
	if (cfg->mode == SWITCH_PORT_ACCESS) {
		p->cfg.access_vlan =
		    cfg->access_vlan ? cfg->access_vlan : SWITCH_VLAN_DEFAULT;
		p->untagged_vlan = p->cfg.access_vlan;
		vlan_set(p->vlans, p->untagged_vlan);
		return;
	}
	memcpy(p->vlans, cfg->allowed, sizeof(p->vlans));
	/* VID 0 and 4095 are never VLANs (802.1Q table 9-2). */
	p->vlans[0] &= ~1ull;
	p->vlans[4095 / 64] &= ~(1ull << (4095 % 64));
	p->untagged_vlan = cfg->native_vlan;
	if (p->untagged_vlan)
		vlan_set(p->vlans, p->untagged_vlan);
}

struct switch_core *switch_create(const struct switch_config *cfg)
{
	struct switch_core *sw;
	uint32_t i;

	sw = calloc(1, sizeof(*sw));
	if (!sw)
		goto fail;
	if (cfg)
		sw->cfg = *cfg;
	if (!sw->cfg.fdb_size)
		sw->cfg.fdb_size = SWITCH_FDB_SIZE_DEFAULT;
	if (!sw->cfg.aging_sec)
		sw->cfg.aging_sec = SWITCH_AGING_SEC_DEFAULT;
	if (!sw->cfg.max_ports)
		sw->cfg.max_ports = SWITCH_MAX_PORTS_DEFAULT;
	if (!sw->cfg.clock_ns)
		sw->cfg.clock_ns = clock_default;
	if (sw->cfg.fdb_size > SWITCH_FDB_SIZE_MAX ||
	    sw->cfg.max_ports > SWITCH_MAX_PORTS_MAX) {
		errno = EINVAL;
		goto fail_free;
	}
	sw->ports = calloc(sw->cfg.max_ports, sizeof(*sw->ports));
	sw->active = calloc(sw->cfg.max_ports, sizeof(*sw->active));
	sw->scratch = malloc(SCRATCH_SIZE);
	if (!sw->ports || !sw->active || !sw->scratch) {
		errno = ENOMEM;
		goto fail_arrays;
	}
	if (fdb_init(&sw->fdb, sw->cfg.fdb_size, sw->cfg.max_ports,
		     sw->cfg.aging_sec) < 0) {
		errno = ENOMEM;
		goto fail_arrays;
	}
	for (i = 0; i < sw->cfg.max_ports; i++) {
		sw->ports[i].port.id = i;
		sw->ports[i].port.sw = sw;
	}
	pthread_mutex_init(&sw->lock, NULL);
	sw->base_ns = sw->cfg.clock_ns(sw->cfg.clock_arg);
	switch_clock_read(sw);
	sw->swept_sec = sw->now_sec;
	return sw;

fail_arrays:
	free(sw->scratch);
	free(sw->active);
	free(sw->ports);
fail_free:
	free(sw);
fail:
	return NULL;
}
static void mirror_dirs_update(struct switch_core *sw, uint32_t port_id)
{
	unsigned dirs = 0, all = 0;
	uint32_t p;
	int i;

	for (i = 0; i < SWITCH_MIRROR_MAX; i++) {
		if (!sw->mirrors[i].used)
			continue;
		if (sw->mirrors[i].port_id == SWITCH_PORT_ALL)
			all |= sw->mirrors[i].dirs;
		else if (sw->mirrors[i].port_id == port_id)
			dirs |= sw->mirrors[i].dirs;
	}
	sw->all_mirror_dirs = all;
	if (port_id != SWITCH_PORT_ALL) {
		sw->ports[port_id].mirror_dirs = dirs | all;
		return;
	}
	/* A network-wide mirror changed: every port's union changes. */
	for (p = 0; p < sw->cfg.max_ports; p++) {
		dirs = all;
		for (i = 0; i < SWITCH_MIRROR_MAX; i++)
			if (sw->mirrors[i].used && sw->mirrors[i].port_id == p)
				dirs |= sw->mirrors[i].dirs;
		sw->ports[p].mirror_dirs = dirs;
	}
}

/* Take a port out of service under the lock; close runs after unlocking. */
static void port_detach_locked(struct switch_core *sw, struct sw_port *p)
{
	uint32_t i;
	int m;

	fdb_flush(&sw->fdb, (uint16_t)p->port.id, 0);
	for (m = 0; m < SWITCH_MIRROR_MAX; m++)
		if (sw->mirrors[m].used && sw->mirrors[m].port_id == p->port.id)
			sw->mirrors[m].used = false;
	p->mirror_dirs = sw->all_mirror_dirs;
	for (i = 0; i < sw->n_active; i++) {
		if (sw->active[i] == p->port.id) {
			sw->active[i] = sw->active[--sw->n_active];
			break;
		}
	}
	p->state = PORT_RESERVED;
}

static void port_release(struct switch_core *sw, struct sw_port *p)
{
	if (p->port.ops && p->port.ops->close)
		p->port.ops->close(&p->port);
	pthread_mutex_lock(&sw->lock);
	p->port.priv = NULL;
	p->port.ops = NULL;
	p->state = PORT_FREE;
	pthread_mutex_unlock(&sw->lock);
}

void switch_destroy(struct switch_core *sw)
{
	uint32_t i;

	if (!sw)
		return;
	for (i = 0; i < sw->cfg.max_ports; i++)
		if (sw->ports[i].state == PORT_ACTIVE)
			switch_port_remove(sw, i);
	pthread_mutex_destroy(&sw->lock);
	fdb_fini(&sw->fdb);
	free(sw->scratch);
	free(sw->active);
	free(sw->ports);
	free(sw);
}

/* Find a free slot and hold it; the caller fills it and activates it. */
static struct sw_port *port_reserve(struct switch_core *sw,
				    const struct port_ops *ops,
				    const struct switch_port_config *cfg)
{
	uint32_t i;

	for (i = 0; i < sw->cfg.max_ports; i++) {
		struct sw_port *p = &sw->ports[i];

		if (p->state != PORT_FREE)
			continue;
		p->state = PORT_RESERVED;
		p->port.ops = ops;
		p->port.priv = NULL;
		strcpy(p->port.name, cfg->name);
		port_config_apply(p, cfg);
		return p;
	}
	return NULL;
}

static void port_activate(struct switch_core *sw, struct sw_port *p)
{
	memset(&p->st, 0, sizeof(p->st));
	p->broken = false;
	p->out_count = 0;
	p->mirror_dirs = sw->all_mirror_dirs;
	sw->active[sw->n_active++] = (uint16_t)p->port.id;
	p->state = PORT_ACTIVE;
}

int switch_port_add(struct switch_core *sw, const struct port_ops *ops,
		    void *priv, const struct switch_port_config *cfg)
{
	struct sw_port *p;
	int ret;

	if (!ops || !cfg)
		return -EINVAL;
	ret = port_config_check(cfg);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&sw->lock);
	p = port_reserve(sw, ops, cfg);
	if (p) {
		p->port.priv = priv;
		port_activate(sw, p);
	}
	pthread_mutex_unlock(&sw->lock);
	return p ? (int)p->port.id : -ENOSPC;
}

int switch_port_open(struct switch_core *sw, const struct port_ops *ops,
		     const void *args, const struct switch_port_config *cfg)
{
	struct sw_port *p;
	int ret;

	if (!ops || !cfg || !ops->open)
		return -EINVAL;
	ret = port_config_check(cfg);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&sw->lock);
	p = port_reserve(sw, ops, cfg);
	pthread_mutex_unlock(&sw->lock);
	if (!p)
		return -ENOSPC;
	/* open may take a while (sockets, memfds): not under the lock. */
	ret = ops->open(&p->port, args);
	pthread_mutex_lock(&sw->lock);
	if (ret < 0) {
		p->port.ops = NULL;
		p->port.priv = NULL;
		p->state = PORT_FREE;
	} else {
		port_activate(sw, p);
		ret = (int)p->port.id;
	}
	pthread_mutex_unlock(&sw->lock);
	return ret;
}

int switch_port_remove(struct switch_core *sw, uint32_t port_id)
{
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p)
		port_detach_locked(sw, p);
	pthread_mutex_unlock(&sw->lock);
	if (!p)
		return -ENOENT;
	port_release(sw, p);
	return 0;
}

int switch_port_configure(struct switch_core *sw, uint32_t port_id,
			  const struct switch_port_config *cfg)
{
	struct sw_port *p;
	int ret;

	if (!cfg)
		return -EINVAL;
	ret = port_config_check(cfg);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p) {
		port_config_apply(p, cfg);
		strcpy(p->port.name, p->cfg.name);
		fdb_flush(&sw->fdb, (uint16_t)port_id, 0);
	}
	pthread_mutex_unlock(&sw->lock);
	return p ? 0 : -ENOENT;
}

int switch_port_antispoof_set_ips(struct switch_core *sw, uint32_t port_id,
				  const uint32_t *ip, unsigned int nip)
{
	struct antispoof_policy *pol;
	struct sw_port *p;

	if (nip > ANTISPOOF_IPS_MAX)
		nip = ANTISPOOF_IPS_MAX;
	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p) {
		pol = &p->cfg.antispoof;
		memset(pol->ip, 0, sizeof(pol->ip));
		memcpy(pol->ip, ip, nip * sizeof(*ip));
		pol->nip = (uint8_t)nip;
	}
	pthread_mutex_unlock(&sw->lock);
	return p ? 0 : -ENOENT;
}

int switch_port_get_config(struct switch_core *sw, uint32_t port_id,
			   struct switch_port_config *cfg)
{
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p)
		*cfg = p->cfg;
	pthread_mutex_unlock(&sw->lock);
	return p ? 0 : -ENOENT;
}

int switch_port_reset(struct switch_core *sw, uint32_t port_id)
{
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p)
		p->broken = false;
	pthread_mutex_unlock(&sw->lock);
	return p ? 0 : -ENOENT;
}

struct port *switch_port_get(struct switch_core *sw, uint32_t port_id)
{
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	pthread_mutex_unlock(&sw->lock);
	return p ? &p->port : NULL;
}

int switch_port_stats_get(struct switch_core *sw, uint32_t port_id,
			  struct switch_port_stats *st)
{
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p)
		*st = p->st;
	pthread_mutex_unlock(&sw->lock);
	return p ? 0 : -ENOENT;
}
int switch_fdb_dump(struct switch_core *sw,
		    int (*fn)(void *arg, const struct switch_fdb_entry *e),
		    void *arg)
{
	uint32_t i;
	int n = 0;

	pthread_mutex_lock(&sw->lock);
	switch_clock_read(sw);
	for (i = 0; i < sw->n_active; i++) {
		struct sw_port *p = &sw->ports[sw->active[i]];
		uint32_t e;

		for (e = sw->fdb.port[p->port.id].head; e != FDB_NIL;
		     e = sw->fdb.e[e].next) {
			const struct fdb_entry *fe = &sw->fdb.e[e];
			struct switch_fdb_entry out = {0};
			uint64_t mac = fe->key & FDB_MAC_MASK;

			if (sw->now_sec - fe->seen >= sw->cfg.aging_sec)
				continue;
			memcpy(out.mac, &mac, ETH_ALEN);
			out.vlan = (uint16_t)(fe->key >> 48);
			out.port_id = fe->port;
			out.age_sec = sw->now_sec - fe->seen;
			n++;
			if (fn(arg, &out))
				goto out;
		}
	}
out:
	pthread_mutex_unlock(&sw->lock);
	return n;
}

int switch_fdb_flush(struct switch_core *sw, int32_t port_id, uint16_t vlan)
{
	uint32_t i;
	int n = 0;

	pthread_mutex_lock(&sw->lock);
	for (i = 0; i < sw->n_active; i++) {
		struct sw_port *p = &sw->ports[sw->active[i]];

		if (port_id >= 0 && p->port.id != (uint32_t)port_id)
			continue;
		n += fdb_flush(&sw->fdb, (uint16_t)p->port.id, vlan);
	}
	pthread_mutex_unlock(&sw->lock);
	return n;
}

uint32_t switch_fdb_count(struct switch_core *sw)
{
	uint32_t n;

	pthread_mutex_lock(&sw->lock);
	n = sw->fdb.count;
	pthread_mutex_unlock(&sw->lock);
	return n;
}

int switch_mirror_add(struct switch_core *sw, uint32_t port_id, unsigned dirs,
		      switch_mirror_fn fn, void *arg)
{
	int i, ret = -ENOSPC;

	if (!fn || !dirs ||
	    (dirs & ~(unsigned)(SWITCH_DIR_INGRESS | SWITCH_DIR_EGRESS)))
		return -EINVAL;
	pthread_mutex_lock(&sw->lock);
	if (port_id != SWITCH_PORT_ALL && !port_active(sw, port_id)) {
		ret = -ENOENT;
		goto out;
	}
	for (i = 0; i < SWITCH_MIRROR_MAX; i++) {
		struct sw_mirror *m = &sw->mirrors[i];

		if (m->used)
			continue;
		*m = (struct sw_mirror){true, port_id, dirs, fn, arg};
		mirror_dirs_update(sw, port_id);
		ret = i;
		break;
	}
out:
	pthread_mutex_unlock(&sw->lock);
	return ret;
}

int switch_mirror_remove(struct switch_core *sw, int mirror_id)
{
	int ret = -ENOENT;

	if (mirror_id < 0 || mirror_id >= SWITCH_MIRROR_MAX)
		return -ENOENT;
	pthread_mutex_lock(&sw->lock);
	if (sw->mirrors[mirror_id].used) {
		sw->mirrors[mirror_id].used = false;
		mirror_dirs_update(sw, sw->mirrors[mirror_id].port_id);
		ret = 0;
	}
	pthread_mutex_unlock(&sw->lock);
	return ret;
}
