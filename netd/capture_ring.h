/* SPDX-License-Identifier: MIT */
/* capture_ring.h - the bounded lock-free queue between the data path and a capture's writer. */
#ifndef LOOM_NETD_CAPTURE_RING_H
#define LOOM_NETD_CAPTURE_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One producer (the data-path thread, inside a switch mirror callback)
 * copies frames in; one consumer (the capture writer on netd's control
 * thread) reads them in place and releases them. Records lie back to
 * back in one preallocated buffer of @cap bytes (a power of two); nothing
 * is allocated per frame, nothing locks. A record that does not fit is
 * dropped and counted (@drops): the producer never waits, whatever the
 * reader does.
 *
 * Two-step push: capture_ring_reserve() gives room for a record, the
 * producer copies the frame there and decides (a BPF filter on the copy,
 * which a hostile peer can no longer change) whether to
 * capture_ring_commit() it or leave it: an uncommitted reservation is
 * simply overwritten by the next one.
 *
 * Wake-up: the consumer arms the ring (capture_ring_arm()) when it finds
 * it empty and wants an event; the first commit after that writes the
 * eventfd @efd once. While frames keep coming the consumer drains on a
 * timer instead, so the data path does no syscall per frame; only when
 * the ring passes half full before the timer fires does a commit write
 * the eventfd (once, until the consumer releases), so a burst is drained
 * early instead of overflowing.
 */

struct capture_rec {
	uint32_t size;	   /* bytes of this record, header included, 8-aligned */
	uint32_t port_id;
	uint32_t orig_len; /* frame length */
	uint32_t cap_len;  /* bytes of it that follow (snaplen applied) */
	uint64_t ts_ns;	   /* CLOCK_REALTIME */
	uint8_t dir;	   /* SWITCH_DIR_* */
	uint8_t pad[7];
	uint8_t data[];
};

struct capture_ring {
	uint8_t *buf;
	size_t cap; /* power of two */
	_Atomic uint64_t head; /* bytes ever committed (producer) */
	_Atomic uint64_t tail; /* bytes ever released (consumer) */
	_Atomic uint64_t drops; /* records refused: ring full */
	atomic_bool armed;
	atomic_bool half_sent; /* the half-full wake-up went out */
	int efd;
	/* producer-private: the open reservation */
	uint64_t res_head; /* head after the reservation's wrap, if any */
	uint64_t res_end;
};

/* capture_ring_init - @cap bytes, a power of two >= 128 KiB. Return: 0 or -errno. */
int capture_ring_init(struct capture_ring *q, size_t cap);
void capture_ring_destroy(struct capture_ring *q);

/*
 * capture_ring_reserve - room for a record with @cap_len data bytes.
 * Return: the record to fill (size set; fill the rest), or NULL when the
 * ring is full: the caller decides whether that frame counts as a drop
 * (capture_ring_count_drop; a frame the filter rejects does not).
 */
struct capture_rec *capture_ring_reserve(struct capture_ring *q,
					 uint32_t cap_len);

/* capture_ring_commit - publish the reserved record; wakes an armed reader. */
void capture_ring_commit(struct capture_ring *q);

/*
 * capture_ring_peek - the oldest unreleased record at or after @pos
 * (start with capture_ring_pos()), or NULL when none; @pos advances.
 */
uint64_t capture_ring_pos(struct capture_ring *q);
const struct capture_rec *capture_ring_peek(struct capture_ring *q,
					    uint64_t *pos);

/* capture_ring_release - everything before @pos is done with. */
void capture_ring_release(struct capture_ring *q, uint64_t pos);

/*
 * capture_ring_arm - ask for an eventfd write on the next commit.
 * Return: true when the ring is still empty (sleep), false when records
 * arrived meanwhile (drain again; the arm may still fire once).
 */
bool capture_ring_arm(struct capture_ring *q, uint64_t pos);

/* capture_ring_count_drop - producer side: one frame lost, ring full. */
static inline void capture_ring_count_drop(struct capture_ring *q)
{
	atomic_store_explicit(
		&q->drops,
		atomic_load_explicit(&q->drops, memory_order_relaxed) + 1,
		memory_order_relaxed);
}

static inline uint64_t capture_ring_drops(struct capture_ring *q)
{
	return atomic_load_explicit(&q->drops, memory_order_relaxed);
}

#endif
