/* SPDX-License-Identifier: MIT */
/* lease.h - a network's DHCP lease table and its lease file (atomic rewrite, reloaded at start). */
#ifndef LOOM_SERVICES_LEASE_H
#define LOOM_SERVICES_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/dhcp_msg.h"

/*
 * One slot per address the server can hand out: every address of the
 * pool range (LEASE_POOL_MAX at most), then one per static host whose
 * address lies outside the range (LEASE_STATIC_MAX at most). The table
 * cannot grow with traffic: a client gets a slot only by taking an
 * address, and when no address is free a new client gets none (an
 * expired lease is reused before that, the oldest expiry first in
 * next-fit order; a DECLINEd address is held back for decline_hold
 * seconds). Slots are found by address (direct index), by client key
 * (client id or MAC), by MAC and by host name through hash chains.
 */
enum {
	LEASE_POOL_MAX = 65536,
	LEASE_STATIC_MAX = 1024,
	LEASE_KEY_MAX = 1 + DHCP_CLIENT_ID_MAX,
	LEASE_PORT_NAME_MAX = 32,
	LEASE_NONE = UINT32_MAX,
};

enum lease_state {
	LEASE_FREE = 0,
	LEASE_OFFERED,	/* in memory only: not yet acknowledged */
	LEASE_BOUND,	/* acknowledged: on disk */
	LEASE_DECLINED, /* a client said the address is in use */
};

struct lease {
	uint32_t ip;
	uint8_t state;
	bool is_static;	     /* reserved for @static_mac */
	uint8_t static_mac[6];
	char static_name[DHCP_HOSTNAME_MAX];
	uint8_t mac[6];
	uint8_t key[LEASE_KEY_MAX];
	uint8_t key_len; /* 0: no client holds this slot */
	uint64_t expiry; /* unix seconds */
	char host[DHCP_HOSTNAME_MAX];
	char port[LEASE_PORT_NAME_MAX];
	uint32_t port_id;
	uint32_t next_key, next_mac, next_name;
};

struct lease_static {
	uint8_t mac[6];
	uint32_t ip;
	char name[DHCP_HOSTNAME_MAX];
};

struct lease_table {
	uint32_t first, last; /* pool, host order */
	uint32_t npool, cap;
	struct lease *slots;
	uint32_t nbuckets; /* power of two */
	uint32_t *key_heads, *mac_heads, *name_heads;
	uint32_t next_fit;
	uint32_t *static_idx; /* slots of the static hosts */
	uint32_t nstatic;
};

/*
 * lease_table_init - a table for the pool [@first, @last] (may be empty:
 * @first > @last) and @nstatic static hosts.
 * Return: 0, -EINVAL (pool or static list too large), -ENOMEM.
 */
int lease_table_init(struct lease_table *t, uint32_t first, uint32_t last,
		     const struct lease_static *statics, uint32_t nstatic);
void lease_table_fini(struct lease_table *t);

/* Lookups. Return: the slot, or NULL. */
struct lease *lease_by_ip(struct lease_table *t, uint32_t ip);
struct lease *lease_by_key(struct lease_table *t, const uint8_t *key,
			   size_t len);
struct lease *lease_by_mac(struct lease_table *t, const uint8_t mac[6]);
/* lease_by_name - the static host or the client that holds @name. */
struct lease *lease_by_name(struct lease_table *t, const char *name);
struct lease *lease_static_by_mac(struct lease_table *t, const uint8_t mac[6]);

/*
 * lease_assign - give slot @l to the client @key/@mac (unlinks the slot's
 * previous holder). lease_clear - the slot no longer has a client.
 * lease_set_host - its host name ("" for none).
 */
void lease_assign(struct lease_table *t, struct lease *l, const uint8_t *key,
		  size_t key_len, const uint8_t mac[6]);
void lease_clear(struct lease_table *t, struct lease *l);
void lease_set_host(struct lease_table *t, struct lease *l, const char *host);

/*
 * lease_table_save - write every BOUND and DECLINED slot to @path as
 * snapshot generation @gen: @path.tmp, fsync, rename, fsync of the
 * directory.
 * Return: the leases written (>= 0), or a negative errno (the old file is
 * then untouched).
 */
int lease_table_save(const struct lease_table *t, const char *path,
		     uint64_t gen);

/*
 * lease_table_load - restore what the snapshot @path holds. A missing file
 * is an empty table (generation 0); a line that does not parse, or names
 * an address outside the table or a static address held by another MAC,
 * is skipped and counted. *@gen: the file's generation (0 for a v1 file);
 * *@loaded: the leases restored.
 * Return: lines skipped (>= 0), or a negative errno (file unreadable).
 */
int lease_table_load(struct lease_table *t, const char *path, uint64_t *gen,
		     uint32_t *loaded);

/* One line of the lease file, parsed: a lease, or a freed address. */
struct lease_rec {
	bool free; /* "free IP": only @ip is set */
	uint32_t ip;
	uint8_t mac[6];
	uint64_t expiry;
	uint8_t state; /* LEASE_BOUND or LEASE_DECLINED */
	uint8_t key[LEASE_KEY_MAX];
	uint8_t key_len;
	char host[DHCP_HOSTNAME_MAX];
	char port[LEASE_PORT_NAME_MAX];
};

enum { LEASE_LINE_MAX = 320 }; /* a lease line without its newline */

/* lease_line_format - "lease IP MAC EXPIRY STATE KEY HOST PORT". Return: length. */
size_t lease_line_format(const struct lease *l, char *out, size_t cap);
/* lease_line_parse - one line (with or without its newline). Return: 0 or -1. */
int lease_line_parse(const char *line, struct lease_rec *r);
/* lease_rec_apply - slot @l now holds what @r says (a lease, not a free). */
void lease_rec_apply(struct lease_table *t, struct lease *l,
		     const struct lease_rec *r);

/* lease_dir_sync - fsync the directory holding @path (a rename or create
 * in it is then durable). Return: 0, or a negative errno. */
int lease_dir_sync(const char *path);

const char *lease_state_name(uint8_t state);

#endif
