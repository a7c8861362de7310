/* SPDX-License-Identifier: MIT */
/* lease.c - the DHCP lease table: slots by address, hash chains by client, MAC and name; the lease file. */
#include "services/lease.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t hash_bytes(const void *p, size_t len)
{
	const uint8_t *s = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

static uint32_t *chain_head(const struct lease_table *t, uint32_t *heads,
			    const void *k, size_t len)
{
	return &heads[hash_bytes(k, len) & (t->nbuckets - 1)];
}

/* The three chains differ only in their next field. */
static uint32_t *next_of(struct lease *l, int which)
{
	return which == 0 ? &l->next_key : which == 1 ? &l->next_mac :
							&l->next_name;
}

static void chain_unlink(struct lease_table *t, uint32_t *head, int which,
			 uint32_t idx)
{
	uint32_t *p = head;

	/* Bounded: a chain holds distinct slots, at most t->cap of them. */
	for (uint32_t n = 0; *p != LEASE_NONE && n <= t->cap; n++) {
		if (*p == idx) {
			*p = *next_of(&t->slots[idx], which);
			*next_of(&t->slots[idx], which) = LEASE_NONE;
			return;
		}
		p = next_of(&t->slots[*p], which);
	}
}

static void chain_link(struct lease_table *t, uint32_t *head, int which,
		       uint32_t idx)
{
	*next_of(&t->slots[idx], which) = *head;
	*head = idx;
}

static uint32_t idx_of(const struct lease_table *t, const struct lease *l)
{
	return (uint32_t)(l - t->slots);
}

static void name_unlink(struct lease_table *t, struct lease *l)
{
	const char *n = l->is_static && l->static_name[0] ? l->static_name :
							    l->host;

	if (n[0])
		chain_unlink(t, chain_head(t, t->name_heads, n, strlen(n)), 2,
			     idx_of(t, l));
}

static void name_link(struct lease_table *t, struct lease *l)
{
	const char *n = l->is_static && l->static_name[0] ? l->static_name :
							    l->host;

	if (n[0])
		chain_link(t, chain_head(t, t->name_heads, n, strlen(n)), 2,
			   idx_of(t, l));
}

int lease_table_init(struct lease_table *t, uint32_t first, uint32_t last,
		     const struct lease_static *statics, uint32_t nstatic)
{
	uint64_t npool = first <= last ? (uint64_t)last - first + 1 : 0;
	uint32_t extra = 0, i;

	memset(t, 0, sizeof(*t));
	if (npool > LEASE_POOL_MAX || nstatic > LEASE_STATIC_MAX)
		return -EINVAL;
	for (i = 0; i < nstatic; i++)
		if (!(statics[i].ip >= first && statics[i].ip <= last))
			extra++;
	t->first = first;
	t->last = last;
	t->npool = (uint32_t)npool;
	t->cap = t->npool + extra;
	t->nbuckets = 64;
	while (t->nbuckets < 2 * t->cap)
		t->nbuckets <<= 1;
	t->slots = calloc(t->cap ? t->cap : 1, sizeof(*t->slots));
	t->key_heads = malloc(t->nbuckets * sizeof(uint32_t));
	t->mac_heads = malloc(t->nbuckets * sizeof(uint32_t));
	t->name_heads = malloc(t->nbuckets * sizeof(uint32_t));
	t->static_idx = calloc(nstatic ? nstatic : 1, sizeof(uint32_t));
	if (!t->slots || !t->key_heads || !t->mac_heads || !t->name_heads ||
	    !t->static_idx) {
		lease_table_fini(t);
		return -ENOMEM;
	}
	memset(t->key_heads, 0xff, t->nbuckets * sizeof(uint32_t));
	memset(t->mac_heads, 0xff, t->nbuckets * sizeof(uint32_t));
	memset(t->name_heads, 0xff, t->nbuckets * sizeof(uint32_t));
	for (i = 0; i < t->cap; i++) {
		struct lease *l = &t->slots[i];

		l->ip = i < t->npool ? first + i : 0;
		l->next_key = l->next_mac = l->next_name = LEASE_NONE;
	}
	for (i = 0, extra = t->npool; i < nstatic; i++) {
		const struct lease_static *s = &statics[i];
		struct lease *l = lease_by_ip(t, s->ip);

		if (!l)
			l = &t->slots[extra++];
		if (l->is_static) { /* one address, two hosts: config bug */
			lease_table_fini(t);
			return -EINVAL;
		}
		l->ip = s->ip;
		l->is_static = true;
		t->static_idx[t->nstatic++] = idx_of(t, l);
		memcpy(l->static_mac, s->mac, 6);
		snprintf(l->static_name, sizeof(l->static_name), "%s",
			 s->name);
		name_link(t, l);
	}
	return 0;
}

void lease_table_fini(struct lease_table *t)
{
	free(t->slots);
	free(t->key_heads);
	free(t->mac_heads);
	free(t->name_heads);
	free(t->static_idx);
	memset(t, 0, sizeof(*t));
}

struct lease *lease_by_ip(struct lease_table *t, uint32_t ip)
{
	if (t->npool && ip >= t->first && ip <= t->last)
		return &t->slots[ip - t->first];
	for (uint32_t i = 0; i < t->nstatic; i++)
		if (t->slots[t->static_idx[i]].ip == ip)
			return &t->slots[t->static_idx[i]];
	return NULL;
}

struct lease *lease_by_key(struct lease_table *t, const uint8_t *key,
			   size_t len)
{
	uint32_t i = *chain_head(t, t->key_heads, key, len);

	for (uint32_t n = 0; i != LEASE_NONE && n < t->cap; n++) {
		struct lease *l = &t->slots[i];

		if (l->key_len == len && !memcmp(l->key, key, len))
			return l;
		i = l->next_key;
	}
	return NULL;
}

struct lease *lease_by_mac(struct lease_table *t, const uint8_t mac[6])
{
	uint32_t i = *chain_head(t, t->mac_heads, mac, 6);

	for (uint32_t n = 0; i != LEASE_NONE && n < t->cap; n++) {
		struct lease *l = &t->slots[i];

		if (l->key_len && !memcmp(l->mac, mac, 6))
			return l;
		i = l->next_mac;
	}
	return NULL;
}

struct lease *lease_by_name(struct lease_table *t, const char *name)
{
	uint32_t i = *chain_head(t, t->name_heads, name, strlen(name));

	for (uint32_t n = 0; i != LEASE_NONE && n < t->cap; n++) {
		struct lease *l = &t->slots[i];
		const char *ln = l->is_static && l->static_name[0] ?
					 l->static_name :
					 l->host;

		if (!strcmp(ln, name))
			return l;
		i = l->next_name;
	}
	return NULL;
}

struct lease *lease_static_by_mac(struct lease_table *t, const uint8_t mac[6])
{
	/* Static hosts are few (LEASE_STATIC_MAX) and set from config. */
	for (uint32_t i = 0; i < t->nstatic; i++)
		if (!memcmp(t->slots[t->static_idx[i]].static_mac, mac, 6))
			return &t->slots[t->static_idx[i]];
	return NULL;
}

void lease_clear(struct lease_table *t, struct lease *l)
{
	uint32_t i = idx_of(t, l);

	if (l->key_len) {
		chain_unlink(t, chain_head(t, t->key_heads, l->key, l->key_len),
			     0, i);
		chain_unlink(t, chain_head(t, t->mac_heads, l->mac, 6), 1, i);
	}
	lease_set_host(t, l, "");
	l->key_len = 0;
	l->state = LEASE_FREE;
	l->port[0] = 0;
}

void lease_assign(struct lease_table *t, struct lease *l, const uint8_t *key,
		  size_t key_len, const uint8_t mac[6])
{
	uint32_t i = idx_of(t, l);

	if (key_len > LEASE_KEY_MAX)
		key_len = LEASE_KEY_MAX;
	if (l->key_len == key_len && !memcmp(l->key, key, key_len) &&
	    !memcmp(l->mac, mac, 6))
		return;
	lease_clear(t, l);
	memcpy(l->key, key, key_len);
	l->key_len = (uint8_t)key_len;
	memcpy(l->mac, mac, 6);
	chain_link(t, chain_head(t, t->key_heads, key, key_len), 0, i);
	chain_link(t, chain_head(t, t->mac_heads, mac, 6), 1, i);
}

void lease_set_host(struct lease_table *t, struct lease *l, const char *host)
{
	if (!strcmp(l->host, host))
		return;
	name_unlink(t, l);
	snprintf(l->host, sizeof(l->host), "%s", host);
	name_link(t, l);
}

const char *lease_state_name(uint8_t state)
{
	switch (state) {
	case LEASE_FREE:
		return "free";
	case LEASE_OFFERED:
		return "offered";
	case LEASE_BOUND:
		return "bound";
	case LEASE_DECLINED:
		return "declined";
	}
	return "?";
}

int lease_dir_sync(const char *path)
{
	char tmp[4096];
	int fd, ret = 0;

	snprintf(tmp, sizeof(tmp), "%s", path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

size_t lease_line_format(const struct lease *l, char *out, size_t cap)
{
	const uint8_t *m = l->mac;
	int n = snprintf(out, cap,
			 "lease %u.%u.%u.%u %02x:%02x:%02x:%02x:%02x:%02x "
			 "%" PRIu64 " %c ",
			 l->ip >> 24, (l->ip >> 16) & 255, (l->ip >> 8) & 255,
			 l->ip & 255, m[0], m[1], m[2], m[3], m[4], m[5],
			 l->expiry, l->state == LEASE_BOUND ? 'b' : 'd');
	size_t o = n > 0 ? (size_t)n : 0;
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < l->key_len && o + 2 < cap; i++) {
		out[o++] = hex[l->key[i] >> 4];
		out[o++] = hex[l->key[i] & 15];
	}
	n = o < cap ? snprintf(out + o, cap - o, " %s %s",
			       l->host[0] ? l->host : "-",
			       l->port[0] ? l->port : "-") :
		      0;
	o += n > 0 ? (size_t)n : 0;
	return o < cap ? o : cap - 1;
}

/*
 * Format: a header line "# loom DHCP leases v2 gen G: ...", then one line
 * per BOUND or DECLINED slot:
 *   lease IP MAC EXPIRY STATE KEYHEX HOST PORT
 * HOST and PORT are "-" when empty (neither can contain a space: host
 * names are DNS labels, port names are checked by netconf).
 */
int lease_table_save(const struct lease_table *t, const char *path,
		     uint64_t gen)
{
	char tmp[4096], line[LEASE_LINE_MAX];
	FILE *f;
	int ret = 0, count = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "# loom DHCP leases v2 gen %" PRIu64
		   ": IP MAC EXPIRY STATE CLIENT HOST PORT\n",
		gen);
	for (uint32_t i = 0; i < t->cap; i++) {
		const struct lease *l = &t->slots[i];

		if ((l->state != LEASE_BOUND && l->state != LEASE_DECLINED) ||
		    !l->key_len)
			continue;
		lease_line_format(l, line, sizeof(line));
		fputs(line, f);
		fputc('\n', f);
		count++;
	}
	if (fflush(f) || ferror(f) || fsync(fileno(f)))
		ret = -errno ? -errno : -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	ret = lease_dir_sync(path);
	return ret ? ret : count;
}

static int hex_get(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > cap || n == 0)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return (int)(n / 2);
}

static int ip_get(const char *s, uint32_t *ip)
{
	unsigned int a[4];
	char end;

	if (sscanf(s, "%u.%u.%u.%u%c", &a[0], &a[1], &a[2], &a[3], &end) != 4 ||
	    a[0] > 255 || a[1] > 255 || a[2] > 255 || a[3] > 255)
		return -1;
	*ip = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
	return 0;
}

int lease_line_parse(const char *line, struct lease_rec *r)
{
	char ipbuf[32], macbuf[32], st, keybuf[2 * LEASE_KEY_MAX + 2],
		host[DHCP_HOSTNAME_MAX], port[LEASE_PORT_NAME_MAX], end;
	unsigned int m[6];
	int klen;

	memset(r, 0, sizeof(*r));
	if (sscanf(line, "free %31s %c", ipbuf, &end) == 1) {
		r->free = true;
		return ip_get(ipbuf, &r->ip);
	}
	if (sscanf(line,
		   "lease %31s %31s %" SCNu64 " %c %129s %63s %31s %c", ipbuf,
		   macbuf, &r->expiry, &st, keybuf, host, port, &end) != 7)
		return -1;
	if (ip_get(ipbuf, &r->ip))
		return -1;
	if (sscanf(macbuf, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3],
		   &m[4], &m[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (m[i] > 255)
			return -1;
		r->mac[i] = (uint8_t)m[i];
	}
	klen = hex_get(keybuf, r->key, sizeof(r->key));
	if (klen < 0 || (st != 'b' && st != 'd'))
		return -1;
	r->key_len = (uint8_t)klen;
	r->state = st == 'b' ? LEASE_BOUND : LEASE_DECLINED;
	snprintf(r->host, sizeof(r->host), "%s", strcmp(host, "-") ? host : "");
	snprintf(r->port, sizeof(r->port), "%s", strcmp(port, "-") ? port : "");
	return 0;
}

void lease_rec_apply(struct lease_table *t, struct lease *l,
		     const struct lease_rec *r)
{
	lease_assign(t, l, r->key, r->key_len, r->mac);
	l->state = r->state;
	l->expiry = r->expiry;
	lease_set_host(t, l, r->host);
	snprintf(l->port, sizeof(l->port), "%s", r->port);
}

static int line_load(struct lease_table *t, const char *line)
{
	struct lease_rec r;
	struct lease *l;

	if (lease_line_parse(line, &r) || r.free)
		return -1;
	l = lease_by_ip(t, r.ip);
	if (!l || (l->is_static && memcmp(l->static_mac, r.mac, 6)) ||
	    l->key_len)
		return -1;
	/* A client holds one lease: a second line for it is stale. */
	if (lease_by_key(t, r.key, r.key_len))
		return -1;
	lease_rec_apply(t, l, &r);
	return 0;
}

int lease_table_load(struct lease_table *t, const char *path, uint64_t *gen,
		     uint32_t *loaded)
{
	char line[LEASE_LINE_MAX + 2];
	FILE *f = fopen(path, "re");
	int skipped = 0;

	*gen = 0;
	*loaded = 0;
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#') {
			sscanf(line, "# loom DHCP leases v2 gen %" SCNu64, gen);
			continue;
		}
		if (line[0] == '\n')
			continue;
		if (line_load(t, line))
			skipped++;
		else
			(*loaded)++;
	}
	fclose(f);
	return skipped;
}
