/* SPDX-License-Identifier: MIT */
/* fdb.c - MAC table: insertion, fair eviction, expiry, flush. */
#include "switch/fdb.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

int fdb_init(struct fdb *t, uint32_t size, uint32_t nports, uint32_t aging)
{
	uint32_t i, nb;
	uint64_t seed[2] = {0, 0};

	t->hbits = 4;
	while ((1u << t->hbits) < 2 * size)
		t->hbits++;
	nb = 1u << t->hbits;
	t->e = calloc(size, sizeof(*t->e));
	t->bucket = malloc(nb * sizeof(*t->bucket));
	t->port = calloc(nports, sizeof(*t->port));
	if (!t->e || !t->bucket || !t->port) {
		fdb_fini(t);
		return -ENOMEM;
	}
	for (i = 0; i < nb; i++)
		t->bucket[i] = FDB_NIL;
	for (i = 0; i < size; i++)
		t->e[i].hnext = i + 1 < size ? i + 1 : FDB_NIL;
	for (i = 0; i < nports; i++)
		t->port[i] = (struct fdb_port){FDB_NIL, FDB_NIL, 0};
	t->free = size ? 0 : FDB_NIL;
	t->size = size;
	t->nports = nports;
	t->count = 0;
	t->aging = aging;
	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
		/* Early boot: weak, but the table stays bounded anyway. */
		seed[0] = (uint64_t)time(NULL) * 0x2545f4914f6cdd1dull;
		seed[1] = (uint64_t)(uintptr_t)t ^ seed[0];
	}
	t->mul = seed[0] | 1;
	t->xkey = seed[1];
	return 0;
}

void fdb_fini(struct fdb *t)
{
	free(t->e);
	free(t->bucket);
	free(t->port);
	t->e = NULL;
	t->bucket = NULL;
	t->port = NULL;
}

static void list_unlink(struct fdb *t, uint32_t i)
{
	struct fdb_entry *e = &t->e[i];
	struct fdb_port *p = &t->port[e->port];

	if (e->prev != FDB_NIL)
		t->e[e->prev].next = e->next;
	else
		p->head = e->next;
	if (e->next != FDB_NIL)
		t->e[e->next].prev = e->prev;
	else
		p->tail = e->prev;
	p->count--;
}

static void list_append(struct fdb *t, uint32_t i)
{
	struct fdb_entry *e = &t->e[i];
	struct fdb_port *p = &t->port[e->port];

	e->next = FDB_NIL;
	e->prev = p->tail;
	if (p->tail != FDB_NIL)
		t->e[p->tail].next = i;
	else
		p->head = i;
	p->tail = i;
	p->count++;
}

static void hash_unlink(struct fdb *t, uint32_t i)
{
	uint32_t *pp = &t->bucket[fdb_hash(t, t->e[i].key)];

	while (*pp != i)
		pp = &t->e[*pp].hnext;
	*pp = t->e[i].hnext;
}

static void entry_free(struct fdb *t, uint32_t i)
{
	hash_unlink(t, i);
	list_unlink(t, i);
	t->e[i].used = 0;
	t->e[i].hnext = t->free;
	t->free = i;
	t->count--;
}

/* The entry a new address replaces in a full table (see fdb.h). */
static uint32_t evict_pick(struct fdb *t, uint16_t learner,
			   const uint16_t *active, uint32_t n_active)
{
	uint32_t i, best = FDB_NIL, best_count = 0;

	for (i = 0; i < n_active; i++) {
		const struct fdb_port *p = &t->port[active[i]];

		if (p->count == 0)
			continue;
		if (p->count > best_count ||
		    (p->count == best_count &&
		     (active[i] == learner ||
		      (best != learner && active[i] < best)))) {
			best_count = p->count;
			best = active[i];
		}
	}
	return best == FDB_NIL ? FDB_NIL : t->port[best].head;
}

void fdb_learn_slow(struct fdb *t, uint32_t i, uint64_t key, uint16_t port,
		    uint32_t now, const uint16_t *active, uint32_t n_active)
{
	struct fdb_entry *e;
	uint32_t h;

	if (i != FDB_NIL) {
		/* Known: refresh, or move to the port it now comes from. */
		e = &t->e[i];
		list_unlink(t, i);
		e->port = port;
		e->seen = now;
		list_append(t, i);
		return;
	}
	if (t->free == FDB_NIL) {
		i = evict_pick(t, port, active, n_active);
		if (i == FDB_NIL)
			return;
		entry_free(t, i);
	}
	i = t->free;
	e = &t->e[i];
	t->free = e->hnext;
	h = fdb_hash(t, key);
	e->key = key;
	e->port = port;
	e->seen = now;
	e->used = 1;
	e->hnext = t->bucket[h];
	t->bucket[h] = i;
	list_append(t, i);
	t->count++;
}

int fdb_flush(struct fdb *t, uint16_t port, uint16_t vlan)
{
	uint32_t i = t->port[port].head;
	int n = 0;

	while (i != FDB_NIL) {
		uint32_t next = t->e[i].next;

		if (!vlan || (uint16_t)(t->e[i].key >> 48) == vlan) {
			entry_free(t, i);
			n++;
		}
		i = next;
	}
	return n;
}

void fdb_expire(struct fdb *t, uint16_t port, uint32_t now)
{
	struct fdb_port *p = &t->port[port];

	while (p->head != FDB_NIL && now - t->e[p->head].seen >= t->aging)
		entry_free(t, p->head);
}
