/* SPDX-License-Identifier: MIT */
/* frame_fifo.c - a bounded byte FIFO of frames between two threads, with a wake-up eventfd. */
#include "backends/frame_fifo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*
 * Layout: each frame is a struct rec followed by its bytes, padded to 8.
 * A frame never wraps around the end of the buffer: when it does not fit
 * in what is left there, the writer skips to the start, marking the skip
 * with a REC_SKIP header if one fits (the reader skips a remainder too
 * short for a header on its own, by the same rule).
 */
struct rec {
	uint32_t len;
	uint32_t pad;
	struct frame_offload off;
	uint8_t pad2[4];
};
_Static_assert(sizeof(struct rec) % 8 == 0, "rec keeps frames 8-aligned");

#define REC_SKIP UINT32_MAX

static size_t rec_size(uint32_t len)
{
	return (sizeof(struct rec) + len + 7) & ~(size_t)7;
}

int frame_fifo_init(struct frame_fifo *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	if (cap < 2 * rec_size(FRAME_MAX_LEN))
		return -EINVAL;
	cap &= ~(size_t)7;
	q->buf = malloc(cap);
	if (!q->buf)
		return -ENOMEM;
	q->cap = cap;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		int err = -errno;

		free(q->buf);
		q->buf = NULL;
		return err;
	}
	pthread_mutex_init(&q->lock, NULL);
	return 0;
}

void frame_fifo_destroy(struct frame_fifo *q)
{
	if (!q->buf)
		return;
	pthread_mutex_destroy(&q->lock);
	close(q->efd);
	free(q->buf);
	q->buf = NULL;
}

static void efd_signal(int fd)
{
	uint64_t one = 1;

	/* Only EAGAIN (counter saturated: already readable) can fail. */
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

static void efd_clear(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0)
		return; /* EAGAIN: was not readable */
}

int frame_fifo_push(struct frame_fifo *q, const uint8_t *data, uint32_t len,
		    const struct frame_offload *off)
{
	size_t need = rec_size(len), pos, room, skip;
	struct rec r = {.len = len};
	uint64_t tail;
	bool wake;

	if (len > FRAME_MAX_LEN)
		return -EMSGSIZE;
	if (off)
		r.off = *off;
	/*
	 * @head is the one producer's own; the consumer reads only records
	 * counted in @pending. So the copy (64 KiB for a GSO frame) runs
	 * outside the lock, and the consumer never waits for it.
	 */
	pthread_mutex_lock(&q->lock);
	tail = q->tail;
	pthread_mutex_unlock(&q->lock);
	pos = q->head % q->cap;
	room = q->cap - pos;
	skip = room < need ? room : 0;
	if (q->head + skip + need - tail > q->cap) {
		pthread_mutex_lock(&q->lock);
		q->drops++;
		pthread_mutex_unlock(&q->lock);
		return -ENOBUFS;
	}
	if (skip) {
		if (room >= sizeof(struct rec)) {
			struct rec sr = {.len = REC_SKIP};

			memcpy(q->buf + pos, &sr, sizeof(sr));
		}
		pos = 0;
	}
	memcpy(q->buf + pos, &r, sizeof(r));
	memcpy(q->buf + pos + sizeof(r), data, len);
	pthread_mutex_lock(&q->lock); /* publishes the bytes above */
	q->head += skip + need;
	wake = q->pending++ == 0;
	pthread_mutex_unlock(&q->lock);
	if (wake)
		efd_signal(q->efd);
	return 0;
}

unsigned int frame_fifo_peek(struct frame_fifo *q, struct frame_fifo_item *out,
			     unsigned int max)
{
	unsigned int n = 0;

	pthread_mutex_lock(&q->lock);
	while (n < max && q->pending) {
		size_t pos = q->peek % q->cap, room = q->cap - pos;
		struct rec r;

		if (room < sizeof(r)) {
			q->peek += room;
			continue;
		}
		memcpy(&r, q->buf + pos, sizeof(r));
		if (r.len == REC_SKIP) {
			q->peek += room;
			continue;
		}
		out[n].data = q->buf + pos + sizeof(r);
		out[n].len = r.len;
		out[n].off = r.off;
		n++;
		q->peek += rec_size(r.len);
		q->pending--;
	}
	if (!n)
		efd_clear(q->efd);
	pthread_mutex_unlock(&q->lock);
	return n;
}

void frame_fifo_release(struct frame_fifo *q)
{
	pthread_mutex_lock(&q->lock);
	q->tail = q->peek;
	pthread_mutex_unlock(&q->lock);
}

uint64_t frame_fifo_drops(struct frame_fifo *q)
{
	uint64_t d;

	pthread_mutex_lock(&q->lock);
	d = q->drops;
	pthread_mutex_unlock(&q->lock);
	return d;
}
