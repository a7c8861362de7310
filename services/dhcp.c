/* SPDX-License-Identifier: MIT */
/* dhcp.c - the DHCPv4 server state machine: DISCOVER/REQUEST/DECLINE/RELEASE/INFORM against the lease table. */
#include "services/dhcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "common/log.h"
#include "services/lease_journal.h"

LOG_MODULE("svc-dhcp");

struct dhcp_server {
	struct dhcp_server_config cfg;
	struct lease_static *hosts;
	char *lease_path;
	struct lease_table t;
	uint16_t offers[DHCP_PORTS_MAX];
	struct lease_journal journal;
	bool journal_open;
	/* Slots changed since the last commit, each once: at most t.cap. */
	uint32_t *changed;
	uint8_t *is_changed;
	uint32_t nchanged;
	struct dhcp_stats st;
};

static bool same_subnet(const struct dhcp_server *s, uint32_t ip);

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct dhcp_server *dhcp_server_new(const struct dhcp_server_config *cfg)
{
	struct dhcp_server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return NULL;
	s->cfg = *cfg;
	if (!s->cfg.lease_time)
		s->cfg.lease_time = DHCP_LEASE_TIME_DEFAULT;
	if (s->cfg.lease_time < DHCP_LEASE_TIME_MIN)
		s->cfg.lease_time = DHCP_LEASE_TIME_MIN;
	if (!s->cfg.offers_per_port)
		s->cfg.offers_per_port = DHCP_OFFERS_PER_PORT_DEFAULT;
	if (!s->cfg.offer_timeout)
		s->cfg.offer_timeout = DHCP_OFFER_TIMEOUT_DEFAULT;
	if (!s->cfg.decline_hold)
		s->cfg.decline_hold = DHCP_DECLINE_HOLD_DEFAULT;
	if (s->cfg.ndns > DHCP_DNS_MAX || s->cfg.nntp > DHCP_NTP_MAX ||
	    s->cfg.nsearch > DHCP_SEARCH_MAX ||
	    s->cfg.nroutes > DHCP_ROUTES_MAX || !s->cfg.server_ip) {
		ret = -EINVAL;
		goto free_s;
	}
	if (cfg->nhosts) {
		s->hosts = calloc(cfg->nhosts, sizeof(*s->hosts));
		if (!s->hosts) {
			ret = -ENOMEM;
			goto free_s;
		}
		memcpy(s->hosts, cfg->hosts, cfg->nhosts * sizeof(*s->hosts));
	}
	s->cfg.hosts = s->hosts;
	if (cfg->lease_path) {
		s->lease_path = strdup(cfg->lease_path);
		if (!s->lease_path) {
			ret = -ENOMEM;
			goto free_hosts;
		}
	}
	s->cfg.lease_path = s->lease_path;
	ret = lease_table_init(&s->t, cfg->first, cfg->last, s->hosts,
			       cfg->nhosts);
	if (ret)
		goto free_path;
	s->changed = calloc(s->t.cap ? s->t.cap : 1, sizeof(*s->changed));
	s->is_changed = calloc(s->t.cap ? s->t.cap : 1, 1);
	if (!s->changed || !s->is_changed) {
		ret = -ENOMEM;
		goto free_changed;
	}
	if (s->lease_path) {
		ret = lease_journal_open(&s->journal, s->lease_path, &s->t);
		if (ret < 0)
			goto free_changed;
		if (ret > 0)
			log_info(MOD, "%s: %d lease records not restored "
				 "(addresses no longer served, or damaged)",
				 s->lease_path, ret);
		s->journal_open = true;
	}
	return s;
free_changed:
	free(s->changed);
	free(s->is_changed);
	lease_table_fini(&s->t);
free_path:
	free(s->lease_path);
free_hosts:
	free(s->hosts);
free_s:
	free(s);
	errno = -ret;
	return NULL;
}

void dhcp_server_free(struct dhcp_server *s)
{
	if (!s)
		return;
	if (s->journal_open)
		lease_journal_close(&s->journal);
	free(s->changed);
	free(s->is_changed);
	lease_table_fini(&s->t);
	free(s->lease_path);
	free(s->hosts);
	free(s);
}

struct lease_table *dhcp_server_leases(struct dhcp_server *s)
{
	return &s->t;
}

void dhcp_server_stats_get(const struct dhcp_server *s, struct dhcp_stats *st)
{
	*st = s->st;
}

const struct dhcp_server_config *dhcp_server_config_get(
	const struct dhcp_server *s)
{
	return &s->cfg;
}

bool dhcp_server_dirty(const struct dhcp_server *s)
{
	return s->nchanged > 0;
}

/* Slot @l changed in a way the lease file must record before the reply. */
static void lease_changed(struct dhcp_server *s, struct lease *l)
{
	uint32_t i = (uint32_t)(l - s->t.slots);

	if (s->is_changed[i])
		return;
	s->is_changed[i] = 1;
	s->changed[s->nchanged++] = i;
}

static void changed_reset(struct dhcp_server *s)
{
	for (uint32_t k = 0; k < s->nchanged; k++)
		s->is_changed[s->changed[k]] = 0;
	s->nchanged = 0;
}

int dhcp_server_commit(struct dhcp_server *s)
{
	int ret;

	if (!s->journal_open) {
		changed_reset(s);
		return 0;
	}
	if (!s->nchanged && !s->journal.must_compact)
		return 0;
	ret = lease_journal_commit(&s->journal, &s->t, s->changed,
				   s->nchanged);
	if (ret) {
		s->st.commit_errors++;
		log_rl(LOG_ERR, MOD, "%s: %s", s->lease_path, strerror(-ret));
		return ret;
	}
	changed_reset(s);
	s->st.commits++;
	return 0;
}

/* Offers are counted per port; every state change goes through here. */
static void lease_state_set(struct dhcp_server *s, struct lease *l,
			    uint8_t state, uint32_t port_id)
{
	if (l->state == LEASE_OFFERED && s->offers[l->port_id])
		s->offers[l->port_id]--;
	l->state = state;
	if (state == LEASE_OFFERED) {
		l->port_id = port_id;
		s->offers[port_id]++;
	}
}

void dhcp_server_tick(struct dhcp_server *s, uint64_t now)
{
	for (uint32_t i = 0; i < s->t.cap; i++) {
		struct lease *l = &s->t.slots[i];

		if (l->state == LEASE_OFFERED && l->expiry <= now) {
			lease_state_set(s, l, LEASE_FREE, 0);
			lease_clear(&s->t, l);
		}
	}
}

/* Addresses that are never handed out even though they are in the range. */
static bool reserved_ip(const struct dhcp_server *s, uint32_t ip)
{
	uint32_t m = s->cfg.netmask;

	return ip == s->cfg.server_ip || (s->cfg.router && ip == s->cfg.router) ||
	       (m && ((ip & ~m) == 0 || (ip & ~m) == ~m));
}

/* May a client that holds no claim on @l take it now? */
static bool available(const struct dhcp_server *s, const struct lease *l,
		      const uint8_t mac[6], uint64_t now)
{
	if (l->is_static)
		return !memcmp(l->static_mac, mac, 6);
	if (reserved_ip(s, l->ip))
		return false;
	switch (l->state) {
	case LEASE_FREE:
		return true;
	case LEASE_OFFERED:
	case LEASE_BOUND:
	case LEASE_DECLINED:
		return l->expiry <= now;
	}
	return false;
}

static struct lease *pool_pick(struct dhcp_server *s, const uint8_t mac[6],
			       uint64_t now)
{
	struct lease_table *t = &s->t;

	/* First pass: never-held slots; second: expired ones. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t n = 0; n < t->npool; n++) {
			uint32_t i = (t->next_fit + n) % t->npool;
			struct lease *l = &t->slots[i];

			if (pass == 0 && (l->state != LEASE_FREE || l->key_len))
				continue;
			if (l->is_static || !available(s, l, mac, now))
				continue;
			t->next_fit = (i + 1) % t->npool;
			return l;
		}
	}
	return NULL;
}

static size_t client_key(const struct dhcp_msg *m, uint8_t *key)
{
	size_t hlen = m->hlen;

	if (m->client_id_len) {
		memcpy(key, m->client_id, m->client_id_len);
		return m->client_id_len;
	}
	key[0] = m->htype;
	memcpy(key + 1, m->chaddr, hlen);
	return 1 + hlen;
}

/* The slot @m's client should be offered, or NULL (pool empty). */
static struct lease *choose(struct dhcp_server *s, const struct dhcp_msg *m,
			    const uint8_t *key, size_t klen, uint64_t now)
{
	struct lease *l = lease_static_by_mac(&s->t, m->chaddr);

	if (l)
		return l;
	l = lease_by_key(&s->t, key, klen);
	if (l && l->state != LEASE_DECLINED && !l->is_static)
		return l;
	if (m->has_requested_ip) {
		l = lease_by_ip(&s->t, m->requested_ip);
		if (l && !l->is_static && available(s, l, m->chaddr, now))
			return l;
	}
	return pool_pick(s, m->chaddr, now);
}

static bool holds(const struct lease *l, const uint8_t *key, size_t klen)
{
	return l->key_len == klen && !memcmp(l->key, key, klen);
}

static int put_labels(uint8_t *p, size_t cap, const char *name)
{
	size_t o = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		if (l == 0 || l > 63 || o + 1 + l + 1 > cap)
			return -1;
		p[o++] = (uint8_t)l;
		memcpy(p + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	if (o + 1 > cap)
		return -1;
	p[o++] = 0;
	return (int)o;
}

static void put_ips(struct dhcp_writer *w, uint8_t code, const uint32_t *ips,
		    uint32_t n)
{
	uint8_t b[4 * 4];

	for (uint32_t i = 0; i < n && i < 4; i++) {
		b[4 * i] = (uint8_t)(ips[i] >> 24);
		b[4 * i + 1] = (uint8_t)(ips[i] >> 16);
		b[4 * i + 2] = (uint8_t)(ips[i] >> 8);
		b[4 * i + 3] = (uint8_t)ips[i];
	}
	if (n)
		dhcp_opt_put(w, code, b, 4 * (n < 4 ? n : 4));
}

static void put_config(struct dhcp_server *s, struct dhcp_writer *w)
{
	const struct dhcp_server_config *c = &s->cfg;
	uint8_t b[1024];
	size_t o = 0;

	if (c->netmask) {
		dhcp_opt_put32(w, DHCP_OPT_NETMASK, c->netmask);
		dhcp_opt_put32(w, DHCP_OPT_BROADCAST,
			       (c->server_ip & c->netmask) | ~c->netmask);
	}
	if (c->router)
		dhcp_opt_put32(w, DHCP_OPT_ROUTER, c->router);
	put_ips(w, DHCP_OPT_DNS, c->dns, c->ndns);
	if (c->domain[0])
		dhcp_opt_put(w, DHCP_OPT_DOMAIN, c->domain, strlen(c->domain));
	if (c->mtu && c->mtu != 1500) {
		uint8_t m[2] = { (uint8_t)(c->mtu >> 8), (uint8_t)c->mtu };

		dhcp_opt_put(w, DHCP_OPT_MTU, m, 2);
	}
	put_ips(w, DHCP_OPT_NTP, c->ntp, c->nntp);
	for (uint32_t i = 0; i < c->nsearch; i++) {
		int l = put_labels(b + o, sizeof(b) - o, c->search[i]);

		if (l > 0)
			o += (size_t)l;
	}
	if (o)
		dhcp_opt_put(w, DHCP_OPT_SEARCH, b, o);
	o = 0;
	/* RFC 3442: with option 121 the client ignores option 3, so the
	 * default route goes in as well. */
	for (uint32_t i = 0; i <= c->nroutes && c->nroutes; i++) {
		uint32_t net = i < c->nroutes ? c->routes[i].net : 0;
		uint8_t pfx = i < c->nroutes ? c->routes[i].prefix : 0;
		uint32_t gw = i < c->nroutes ? c->routes[i].gw : c->router;
		size_t sig = (pfx + 7u) / 8;

		if (i == c->nroutes && !c->router)
			break;
		if (o + 1 + sig + 4 > sizeof(b))
			break;
		b[o++] = pfx;
		for (size_t k = 0; k < sig; k++)
			b[o++] = (uint8_t)(net >> (24 - 8 * k));
		for (int k = 0; k < 4; k++)
			b[o++] = (uint8_t)(gw >> (24 - 8 * k));
	}
	if (o)
		dhcp_opt_put(w, DHCP_OPT_CLASSLESS_ROUTES, b, o);
}

static int reply_build(struct dhcp_server *s, const struct dhcp_msg *m,
		       uint8_t type, const struct lease *l, uint8_t *buf,
		       size_t cap, struct dhcp_reply *rep)
{
	struct dhcp_writer w;
	size_t lim = DHCP_REPLY_MIN;
	uint32_t lt;
	int len;

	if (m->max_size > 576 && (size_t)m->max_size - 28 > lim)
		lim = (size_t)m->max_size - 28;
	if (cap < lim)
		lim = cap;
	dhcp_writer_start(&w, buf, lim, m,
			  type == DHCP_NAK || !l ? 0 : l->ip,
			  type == DHCP_NAK ? 0 : s->cfg.server_ip);
	dhcp_opt_put(&w, DHCP_OPT_MSG_TYPE, &type, 1);
	dhcp_opt_put32(&w, DHCP_OPT_SERVER_ID, s->cfg.server_ip);
	if (type == DHCP_NAK) {
		static const char msg[] = "address not available";

		dhcp_opt_put(&w, DHCP_OPT_MESSAGE, msg, sizeof(msg) - 1);
	} else {
		if (l) {
			lt = s->cfg.lease_time;
			dhcp_opt_put32(&w, DHCP_OPT_LEASE_TIME, lt);
			dhcp_opt_put32(&w, DHCP_OPT_RENEWAL, lt / 2);
			dhcp_opt_put32(&w, DHCP_OPT_REBINDING, lt / 8 * 7);
		}
		put_config(s, &w);
	}
	len = dhcp_writer_end(&w);
	if (len < 0)
		return len;
	rep->len = len;
	rep->to_relay = m->giaddr != 0;
	if (m->giaddr) {
		rep->dst_ip = m->giaddr;
		memset(rep->dst_mac, 0, 6); /* the caller's: the relay's MAC */
	} else if (type == DHCP_NAK ||
		   (!m->ciaddr && (m->flags & DHCP_FLAG_BROADCAST))) {
		rep->dst_ip = 0xffffffffu;
		memcpy(rep->dst_mac, bcast_mac, 6);
	} else {
		rep->dst_ip = m->ciaddr ? m->ciaddr : l ? l->ip : 0xffffffffu;
		memcpy(rep->dst_mac, m->chaddr, 6);
	}
	if (type == DHCP_OFFER)
		s->st.offers++;
	else if (type == DHCP_ACK)
		s->st.acks++;
	else
		s->st.naks++;
	return 0;
}

static void bind(struct dhcp_server *s, struct lease *l,
		 const struct dhcp_msg *m, const uint8_t *key, size_t klen,
		 const struct dhcp_request_ctx *ctx)
{
	const char *host = l->is_static && l->static_name[0] ? "" :
			   m->hostname[0]		      ? m->hostname :
							      l->host;
	char keep[DHCP_HOSTNAME_MAX];

	snprintf(keep, sizeof(keep), "%s", host);
	lease_assign(&s->t, l, key, klen, m->chaddr);
	lease_state_set(s, l, LEASE_BOUND, ctx->port_id);
	l->expiry = ctx->now + s->cfg.lease_time;
	lease_set_host(&s->t, l, keep);
	snprintf(l->port, sizeof(l->port), "%s",
		 ctx->port_name ? ctx->port_name : "");
	l->port_id = ctx->port_id;
	lease_changed(s, l);
}

static int on_discover(struct dhcp_server *s, const struct dhcp_msg *m,
		       const uint8_t *key, size_t klen,
		       const struct dhcp_request_ctx *ctx, uint8_t *buf,
		       size_t cap, struct dhcp_reply *rep)
{
	struct lease *l = choose(s, m, key, klen, ctx->now);
	bool mine;

	if (!l) {
		s->st.pool_empty++;
		log_rl(LOG_WARN, MOD, "pool exhausted: no offer");
		return 0;
	}
	mine = holds(l, key, klen) &&
	       (l->state == LEASE_OFFERED ||
		(l->state == LEASE_BOUND && l->expiry > ctx->now));
	if (!mine) {
		/* A relay agent speaks for many clients: a larger share. */
		uint32_t limit = m->giaddr ? DHCP_OFFERS_PER_RELAY :
					     s->cfg.offers_per_port;

		if (s->offers[ctx->port_id] >= limit) {
			s->st.port_limit++;
			log_rl(LOG_WARN, MOD,
			       "port %u has %u offers outstanding: no offer",
			       ctx->port_id, s->offers[ctx->port_id]);
			return 0;
		}
		lease_assign(&s->t, l, key, klen, m->chaddr);
		lease_state_set(s, l, LEASE_OFFERED, ctx->port_id);
		l->expiry = ctx->now + s->cfg.offer_timeout;
		if (!l->is_static)
			lease_set_host(&s->t, l, m->hostname);
	} else if (l->state == LEASE_OFFERED) {
		l->expiry = ctx->now + s->cfg.offer_timeout;
	}
	return reply_build(s, m, DHCP_OFFER, l, buf, cap, rep);
}

static bool same_subnet(const struct dhcp_server *s, uint32_t ip)
{
	uint32_t m = s->cfg.netmask;

	return (ip & m) == (s->cfg.server_ip & m);
}

static int on_request(struct dhcp_server *s, const struct dhcp_msg *m,
		      const uint8_t *key, size_t klen,
		      const struct dhcp_request_ctx *ctx, uint8_t *buf,
		      size_t cap, struct dhcp_reply *rep)
{
	struct lease *l = lease_by_key(&s->t, key, klen);
	uint32_t ip;

	if (m->has_server_id) { /* SELECTING */
		if (m->server_id != s->cfg.server_ip) {
			if (l && l->state == LEASE_OFFERED) {
				lease_state_set(s, l, LEASE_FREE, 0);
				lease_clear(&s->t, l);
			}
			s->st.ignored++;
			return 0;
		}
		ip = m->has_requested_ip ? m->requested_ip : m->ciaddr;
		if (l && l->ip == ip &&
		    (l->state == LEASE_OFFERED || l->state == LEASE_BOUND)) {
			bind(s, l, m, key, klen, ctx);
			return reply_build(s, m, DHCP_ACK, l, buf, cap, rep);
		}
		return reply_build(s, m, DHCP_NAK, NULL, buf, cap, rep);
	}
	/* INIT-REBOOT (option 50) or RENEWING/REBINDING (ciaddr). */
	ip = m->has_requested_ip ? m->requested_ip : m->ciaddr;
	if (!ip) {
		s->st.malformed++;
		return 0;
	}
	if (!same_subnet(s, ip))
		return reply_build(s, m, DHCP_NAK, NULL, buf, cap, rep);
	if (!(l && l->ip == ip && l->state != LEASE_DECLINED)) {
		/* No record for this client at this address: take it if
		 * nobody else holds it (a lease file lost, a client moved
		 * between networks), else NAK so it starts over. */
		l = lease_by_ip(&s->t, ip);
		if (!l || !available(s, l, m->chaddr, ctx->now) ||
		    (l->key_len && !holds(l, key, klen) &&
		     l->expiry > ctx->now))
			return reply_build(s, m, DHCP_NAK, NULL, buf, cap, rep);
	}
	bind(s, l, m, key, klen, ctx);
	return reply_build(s, m, DHCP_ACK, l, buf, cap, rep);
}

int dhcp_server_handle(struct dhcp_server *s, const struct dhcp_msg *m,
		       const struct dhcp_request_ctx *ctx, uint8_t *buf,
		       size_t cap, struct dhcp_reply *rep)
{
	uint8_t key[LEASE_KEY_MAX];
	size_t klen;
	struct lease *l;

	rep->len = 0;
	if (m->type <= DHCP_INFORM)
		s->st.rx[m->type]++;
	if (ctx->port_id >= DHCP_PORTS_MAX || m->hlen != 6 ||
	    (m->giaddr && !same_subnet(s, m->giaddr)) || (m->chaddr[0] & 1)) {
		s->st.ignored++;
		return 0;
	}
	klen = client_key(m, key);
	switch (m->type) {
	case DHCP_DISCOVER:
		return on_discover(s, m, key, klen, ctx, buf, cap, rep);
	case DHCP_REQUEST:
		return on_request(s, m, key, klen, ctx, buf, cap, rep);
	case DHCP_DECLINE:
		l = lease_by_key(&s->t, key, klen);
		if (!l || !m->has_requested_ip || l->ip != m->requested_ip) {
			s->st.ignored++;
			return 0;
		}
		log_rl(LOG_WARN, MOD, "address %u.%u.%u.%u declined",
		       l->ip >> 24, (l->ip >> 16) & 255, (l->ip >> 8) & 255,
		       l->ip & 255);
		lease_set_host(&s->t, l, "");
		lease_state_set(s, l, LEASE_DECLINED, 0);
		l->expiry = ctx->now + s->cfg.decline_hold;
		lease_changed(s, l);
		return 0;
	case DHCP_RELEASE:
		l = lease_by_key(&s->t, key, klen);
		if (!l || l->ip != m->ciaddr || l->state != LEASE_BOUND) {
			s->st.ignored++;
			return 0;
		}
		lease_state_set(s, l, LEASE_FREE, 0);
		l->expiry = ctx->now;
		lease_set_host(&s->t, l, "");
		lease_changed(s, l);
		return 0;
	case DHCP_INFORM:
		if (!m->ciaddr) {
			s->st.malformed++;
			return 0;
		}
		return reply_build(s, m, DHCP_ACK, NULL, buf, cap, rep);
	default:
		s->st.ignored++;
		return 0;
	}
}

int dhcp_server_release(struct dhcp_server *s, const uint8_t *mac, uint32_t ip)
{
	struct lease *l = mac ? lease_by_mac(&s->t, mac) : lease_by_ip(&s->t, ip);

	if (!l || !l->key_len ||
	    (l->state != LEASE_BOUND && l->state != LEASE_OFFERED))
		return -ENOENT;
	lease_state_set(s, l, LEASE_FREE, 0);
	lease_clear(&s->t, l);
	lease_changed(s, l);
	/* An administrator's release: fold the journal at once, so the
	 * client's name and id leave the files before the reply. */
	if (s->journal_open)
		s->journal.must_compact = true;
	return 0;
}

int dhcp_server_addr_of(struct dhcp_server *s, const char *name, uint64_t now,
			uint32_t *ip)
{
	struct lease *l = lease_by_name(&s->t, name);

	if (!l)
		return -ENOENT;
	if (!l->is_static && !(l->state == LEASE_BOUND && l->expiry > now))
		return -ENOENT;
	*ip = l->ip;
	return 0;
}

int dhcp_server_mac_of(struct dhcp_server *s, const char *name, uint64_t now,
		       uint8_t mac[6])
{
	struct lease *l = lease_by_name(&s->t, name);

	if (l && l->is_static && l->static_name[0]) {
		memcpy(mac, l->static_mac, 6);
		return 0;
	}
	if (!l || !(l->state == LEASE_BOUND && l->expiry > now))
		return -ENOENT;
	memcpy(mac, l->mac, 6);
	return 0;
}

const char *dhcp_server_name_of(struct dhcp_server *s, uint32_t ip,
				uint64_t now)
{
	struct lease *l = lease_by_ip(&s->t, ip);

	if (!l)
		return NULL;
	if (l->is_static && l->static_name[0])
		return l->static_name;
	if (l->state == LEASE_BOUND && l->expiry > now && l->host[0])
		return l->host;
	return NULL;
}
