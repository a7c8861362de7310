/* SPDX-License-Identifier: MIT */
/* frame_fifo.h - a bounded byte FIFO of frames between two threads, with a wake-up eventfd. */
#ifndef LOOM_BACKENDS_FRAME_FIFO_H
#define LOOM_BACKENDS_FRAME_FIFO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "switch/port.h"

/*
 * One producer thread pushes copies of frames; one consumer thread peeks at
 * them in place and releases them in order. Frames are stored back to back
 * in one preallocated buffer of @cap bytes (nothing is allocated per frame);
 * the bound is in bytes, so a queue holds many small frames or a few 64 KiB
 * GSO frames. At the limit a push fails (-ENOBUFS) and is counted in
 * @drops: the producer drops the frame, TCP retransmits.
 *
 * Wake-up: @efd (an eventfd, non-blocking) is written after the number of
 * frames not yet peeked went from 0 to 1, and cleared by a peek that finds
 * nothing (under the lock), so a consumer that sleeps in poll() on @efd
 * after an empty peek never misses a frame (at worst it wakes once for a
 * frame it took already). A push copies its frame outside the lock: only
 * one thread at a time may push (@head is the producer's own).
 */
struct frame_fifo {
	pthread_mutex_t lock;
	uint8_t *buf;
	size_t cap;
	uint64_t head; /* bytes ever written (the producer's, no lock) */
	uint64_t peek; /* bytes ever handed to the consumer */
	uint64_t tail; /* bytes ever released */
	uint32_t pending; /* frames written, not yet peeked */
	uint64_t drops;
	int efd;
};

/* A peeked frame: @data is writable and stays valid until the release. */
struct frame_fifo_item {
	uint8_t *data;
	uint32_t len;
	struct frame_offload off;
};

/* frame_fifo_init() - @cap bytes (>= 2 * FRAME_MAX_LEN). Return: 0 or -errno. */
int frame_fifo_init(struct frame_fifo *q, size_t cap);
void frame_fifo_destroy(struct frame_fifo *q);

/*
 * frame_fifo_push() - copy a frame in.
 * Return: 0, -EMSGSIZE for a frame over FRAME_MAX_LEN, -ENOBUFS when full.
 */
int frame_fifo_push(struct frame_fifo *q, const uint8_t *data, uint32_t len,
		    const struct frame_offload *off);

/*
 * frame_fifo_peek() - up to @max frames not peeked yet, in order. When
 * there are none the eventfd is cleared.
 * Return: the number filled into @out.
 */
unsigned int frame_fifo_peek(struct frame_fifo *q, struct frame_fifo_item *out,
			     unsigned int max);

/* frame_fifo_release() - every frame peeked so far is done with. */
void frame_fifo_release(struct frame_fifo *q);

/* frame_fifo_drops() - frames refused because the FIFO was full. */
uint64_t frame_fifo_drops(struct frame_fifo *q);

#endif
