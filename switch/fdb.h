/* SPDX-License-Identifier: MIT */
/* fdb.h - MAC table: bounded MAC+VLAN hash, aging, fair per-port eviction. */
#ifndef LOOM_SWITCH_FDB_H
#define LOOM_SWITCH_FDB_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Limit: fdb_init()'s @size entries, preallocated; nothing is allocated
 * while traffic flows. Eviction rule (when a new address finds the table
 * full): the least recently seen entry of the port holding the most
 * entries (ties: the learning port, else the lowest port id). Each port
 * keeps its entries on a list ordered by last-seen second, so "oldest" is
 * its head. Expired entries are not candidates: the switch sweeps them
 * (fdb_expire) before it learns in a new second.
 *
 * The hash is multiply-shift with a random odd multiplier and a random
 * xor key per table, so a peer cannot choose MACs that share a chain
 * without knowing them.
 */

enum { FDB_NIL = UINT32_MAX };
#define FDB_MAC_MASK 0xffffffffffffull

struct fdb_entry {
	uint64_t key;	/* MAC in the low 48 bits, VLAN in the top 16 */
	uint32_t hnext; /* hash chain, or free list */
	uint32_t prev;	/* port list, oldest first */
	uint32_t next;
	uint32_t seen; /* switch second of the last frame from it */
	uint16_t port;
	uint16_t used;
};

struct fdb_port {
	uint32_t head; /* oldest */
	uint32_t tail; /* most recently seen */
	uint32_t count;
};

struct fdb {
	struct fdb_entry *e;
	uint32_t *bucket;
	struct fdb_port *port; /* one per switch port id */
	uint32_t nports;
	uint32_t size;
	uint32_t count;
	uint32_t free;
	uint32_t hbits;
	uint32_t aging; /* seconds */
	uint64_t mul;
	uint64_t xkey;
};

static inline uint64_t fdb_key(uint64_t mac, uint16_t vlan)
{
	return (mac & FDB_MAC_MASK) | (uint64_t)vlan << 48;
}

static inline uint32_t fdb_hash(const struct fdb *t, uint64_t key)
{
	return (uint32_t)(((key ^ t->xkey) * t->mul) >> (64 - t->hbits));
}

static inline uint32_t fdb_find(const struct fdb *t, uint64_t key)
{
	uint32_t i = t->bucket[fdb_hash(t, key)];

	while (i != FDB_NIL && t->e[i].key != key)
		i = t->e[i].hnext;
	return i;
}

/*
 * fdb_lookup - the port of @key, if learned and not expired.
 * Return: true and *@port set, or false.
 */
static inline bool fdb_lookup(const struct fdb *t, uint64_t key, uint32_t now,
			      uint32_t *port)
{
	uint32_t i = fdb_find(t, key);

	if (i == FDB_NIL || now - t->e[i].seen >= t->aging)
		return false;
	*port = t->e[i].port;
	return true;
}

void fdb_learn_slow(struct fdb *t, uint32_t i, uint64_t key, uint16_t port,
		    uint32_t now, const uint16_t *active, uint32_t n_active);

/*
 * fdb_learn - note that @key was seen on @port at second @now. The common
 * case (known, same port, same second) writes nothing.
 * @active, @n_active: the ports that may hold entries (eviction candidates)
 * Return: true if the table changed (an entry added, moved or evicted).
 */
static inline bool fdb_learn(struct fdb *t, uint64_t key, uint16_t port,
			     uint32_t now, const uint16_t *active,
			     uint32_t n_active)
{
	uint32_t i = fdb_find(t, key);

	if (i != FDB_NIL && t->e[i].port == port && t->e[i].seen == now)
		return false;
	fdb_learn_slow(t, i, key, port, now, active, n_active);
	return true;
}

/*
 * fdb_init - a table of @size entries for ports 0..@nports-1 whose entries
 * expire @aging seconds after they were last seen.
 * Return: 0, or -ENOMEM.
 */
int fdb_init(struct fdb *t, uint32_t size, uint32_t nports, uint32_t aging);
void fdb_fini(struct fdb *t);

/* fdb_flush - drop @port's entries (of @vlan only, unless 0). Return: count. */
int fdb_flush(struct fdb *t, uint16_t port, uint16_t vlan);

/* fdb_expire - drop @port's entries not seen for the aging time. */
void fdb_expire(struct fdb *t, uint16_t port, uint32_t now);

#endif
