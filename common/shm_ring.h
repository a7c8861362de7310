/* SPDX-License-Identifier: MIT */
/* shm_ring.h - shm port rings: region layout, producer and consumer ends. */
#ifndef LOOM_COMMON_SHM_RING_H
#define LOOM_COMMON_SHM_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loom/shm_port.h"

/*
 * struct shm_layout - where everything lies in a region, computed by netd
 * from the geometry, or by the peer from a header it validated. The private
 * copy each side trusts; the shared header is never re-read.
 */
struct shm_layout {
	uint32_t ring_size;
	uint32_t data_size;
	uint64_t region_size;
	uint64_t features;
	uint64_t ring_off[2]; /* index: enum shm_dir */
	uint64_t slots_off[2];
	uint64_t data_off[2];
};

enum shm_dir { SHM_TO_NETD = 0, SHM_TO_PEER = 1 };

/*
 * shm_layout_compute() - lay out a region for @ring_size slots and
 * @data_size data bytes per ring.
 * Return: 0, or -EINVAL when the geometry is out of the ABI's bounds.
 */
int shm_layout_compute(struct shm_layout *l, uint32_t ring_size,
		       uint32_t data_size, uint64_t features);

/* shm_header_write() - fill the header at @base from @l and @mac. */
void shm_header_write(void *base, const struct shm_layout *l,
		      const uint8_t mac[6]);

/*
 * shm_header_link_set() - netd: set or clear SHM_LINK_F_DOWN in the live
 * header word (the caller then kicks the peer).
 * shm_header_link_down() - the peer: whether netd holds the link down.
 */
void shm_header_link_set(void *base, bool down);
bool shm_header_link_down(const void *base);

/*
 * shm_header_parse() - validate the header of a mapped region of
 * @map_size bytes (the memfd size from fstat) and derive @l from it,
 * recomputing every offset rather than trusting the stored ones.
 * Return: 0, or -EPROTO (bad magic or geometry), -EPROTONOSUPPORT.
 */
int shm_header_parse(const void *base, size_t map_size, struct shm_layout *l);

/* Per-ring error counters, private to each side. */
struct shm_ring_stats {
	uint64_t frames;
	uint64_t bytes;
	uint64_t batches;
	uint64_t kicks;	 /* eventfd writes made */
	uint64_t full;	 /* frames refused: no slot or no data space */
	uint64_t sleeps; /* times the waiter armed its event */
};

/*
 * struct shm_prod - the producer end. Its shadows (prod, cons, the data
 * offset of every slot in flight) are private; the shared slots are only
 * ever written.
 */
struct shm_prod {
	struct shm_ring *ring;
	struct shm_slot *slots;
	uint8_t *data;
	uint32_t mask;
	uint32_t data_size;
	uint32_t prod;	    /* private: next index to fill */
	uint32_t published; /* private: last prod made visible */
	uint32_t cons;	    /* shadow of ring->cons, validated */
	uint32_t head;	    /* private: next free data byte */
	uint32_t next_off;  /* private: where shm_prod_alloc placed it */
	uint32_t next_need; /* private: its aligned size */
	uint32_t *slot_off; /* private: data offset of each slot */
	bool broken;
	struct shm_ring_stats st;
};

/* struct shm_desc - a validated private copy of one slot. */
struct shm_desc {
	uint32_t off;
	uint32_t len;
	uint8_t vnet_flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* struct shm_cons - the consumer end, with its private shadows. */
struct shm_cons {
	struct shm_ring *ring;
	const struct shm_slot *slots;
	const uint8_t *data;
	uint32_t mask;
	uint32_t data_size;
	uint64_t features; /* offloads the producer may use */
	uint32_t cons;	   /* private: next index to consume */
	uint32_t prod;	   /* shadow of ring->prod, validated */
	uint32_t released; /* last cons made visible */
	bool armed;	   /* cons_event set: drain the fd on wake */
	bool broken;
	struct shm_ring_stats st;
};

/* Why a ring end gave up on its peer (for the log line). */
enum shm_violation {
	SHM_OK = 0,
	SHM_BAD_INDEX,	 /* index moved backwards or past the ring */
	SHM_BAD_BUFFER,	 /* offset/length outside the data area */
	SHM_BAD_LENGTH,	 /* frame shorter than Ethernet or too long */
	SHM_BAD_OFFLOAD, /* offload fields inconsistent or not negotiated */
	SHM_BAD_FLAGS,	 /* reserved bits set */
};
const char *shm_violation_str(enum shm_violation v);

/*
 * shm_prod_init() / shm_cons_init() - attach to ring @dir of the region at
 * @base laid out as @l. shm_prod_init allocates the private offset array.
 * Return: 0 or -ENOMEM.
 */
int shm_prod_init(struct shm_prod *p, void *base, const struct shm_layout *l,
		  enum shm_dir dir);
void shm_prod_fini(struct shm_prod *p);
void shm_cons_init(struct shm_cons *c, void *base, const struct shm_layout *l,
		   enum shm_dir dir);

/*
 * shm_prod_alloc() - room for a frame of @len bytes in the next slot.
 * Refreshes the consumer index (validated) only when the shadows say the
 * ring is full. Write the frame there, then shm_prod_commit().
 * Return: where to write, or NULL when full (@p->broken: the consumer
 * moved its index illegally, stop using the ring).
 */
uint8_t *shm_prod_alloc(struct shm_prod *p, uint32_t len);

/* shm_prod_commit() - fill the slot shm_prod_alloc() returned; private until
 * publish. */
void shm_prod_commit(struct shm_prod *p, const struct shm_desc *d);

/*
 * shm_prod_publish() - make every committed slot visible (one release
 * store) and say whether the consumer asked for a kick.
 * Return: true when the caller must kick the consumer's eventfd.
 */
bool shm_prod_publish(struct shm_prod *p);

/* shm_prod_free_slots() - slots free after refreshing the consumer index. */
uint32_t shm_prod_free_slots(struct shm_prod *p);

/*
 * shm_cons_peek() - read the producer index once, validate it against the
 * shadows, and say how many frames can be taken.
 * Return: frames available (>= 0), or -EPROTO (@c->broken is set).
 */
int shm_cons_peek(struct shm_cons *c);

/*
 * shm_cons_get() - copy slot number @i (0-based from the consumer index,
 * below what shm_cons_peek() returned) into @d and validate it.
 * Return: the frame bytes inside the shared data area, or NULL on a
 * violation (@c->broken set, *@why says which).
 */
const uint8_t *shm_cons_get(struct shm_cons *c, uint32_t i, struct shm_desc *d,
			    enum shm_violation *why);

/*
 * shm_cons_release() - give back @n consumed slots (one release store).
 * Return: true when the producer asked for a kick (it waits for space).
 */
bool shm_cons_release(struct shm_cons *c, uint32_t n);

/*
 * shm_cons_arm() / shm_prod_arm() - ask for a kick before sleeping: set
 * the event index to the current position, full fence, re-check.
 * Return: true when it is safe to sleep (still nothing to do); false when
 * work arrived meanwhile (the flag is cleared again).
 */
bool shm_cons_arm(struct shm_cons *c);
void shm_cons_disarm(struct shm_cons *c);
bool shm_prod_arm(struct shm_prod *p, uint32_t need_slots);
void shm_prod_disarm(struct shm_prod *p);

/* shm_kick() - one eventfd write. Return: 0 or negative errno. */
int shm_kick(int efd);
/* shm_drain() - reset an eventfd's counter (non-blocking fd). */
void shm_drain(int efd);

/*
 * shm_cons_wait() - adaptive wait for frames: spin up to @spin_ns
 * re-reading the producer index, then arm and poll @efd up to
 * @timeout_ms (-1: forever).
 * Return: frames available (> 0), 0 on timeout, or negative errno.
 */
int shm_cons_wait(struct shm_cons *c, int efd, uint64_t spin_ns,
		  int timeout_ms);

/* shm_prod_wait() - the same for @need free slots. */
int shm_prod_wait(struct shm_prod *p, int efd, uint32_t need, uint64_t spin_ns,
		  int timeout_ms);

/*
 * shm_offload_check() - virtio-net header semantics of @d against a frame
 * of d->len bytes and the negotiated @features.
 * Return: SHM_OK or SHM_BAD_OFFLOAD.
 */
enum shm_violation shm_offload_check(const struct shm_desc *d,
				     uint64_t features);

uint64_t shm_now_ns(void);

#endif
