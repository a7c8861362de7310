/* SPDX-License-Identifier: MIT */
/* capture_ring.c - single-producer single-consumer record ring for captures. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "netd/capture_ring.h"

/* A record whose size is 0 marks the unused end of the buffer: skip it. */
enum { REC_WRAP = 0 };

static inline uint32_t rec_size(uint32_t cap_len)
{
	return (uint32_t)((sizeof(struct capture_rec) + cap_len + 7) & ~7ul);
}

int capture_ring_init(struct capture_ring *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->efd = -1;
	if (cap < 128 * 1024 || (cap & (cap - 1)))
		return -EINVAL;
	q->buf = aligned_alloc(64, cap);
	if (!q->buf)
		return -ENOMEM;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		int e = errno;

		free(q->buf);
		q->buf = NULL;
		return -e;
	}
	q->cap = cap;
	return 0;
}

void capture_ring_destroy(struct capture_ring *q)
{
	if (q->efd >= 0)
		close(q->efd);
	free(q->buf);
	memset(q, 0, sizeof(*q));
	q->efd = -1;
}

struct capture_rec *capture_ring_reserve(struct capture_ring *q,
					 uint32_t cap_len)
{
	uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
	uint64_t size, need, pos, to_end;
	struct capture_rec *rec;

	if (cap_len > q->cap / 4)
		return NULL;
	size = rec_size(cap_len);
	pos = h & (q->cap - 1);
	to_end = q->cap - pos;
	need = to_end < size ? to_end + size : size;
	if (h + need - t > q->cap)
		return NULL;
	if (to_end < size) {
		/* Not committed yet: the reader stops at head, before it. */
		((struct capture_rec *)(q->buf + pos))->size = REC_WRAP;
		h += to_end;
	}
	q->res_head = h;
	q->res_end = h + size;
	rec = (struct capture_rec *)(q->buf + (h & (q->cap - 1)));
	rec->size = (uint32_t)size;
	rec->cap_len = cap_len;
	return rec;
}

void capture_ring_commit(struct capture_ring *q)
{
	static const uint64_t one = 1;

	/* seq_cst store, then seq_cst load of armed: with the reader's
	 * arm-then-check below, one of the two always sees the other. */
	atomic_store(&q->head, q->res_end);
	if ((atomic_load(&q->armed) && atomic_exchange(&q->armed, false)) ||
	    (!atomic_load_explicit(&q->half_sent, memory_order_relaxed) &&
	     q->res_end - atomic_load_explicit(&q->tail,
					       memory_order_relaxed) >
		     q->cap / 2 &&
	     !atomic_exchange(&q->half_sent, true))) {
		ssize_t n = write(q->efd, &one, sizeof(one));

		(void)n; /* EAGAIN: the counter is already non-zero */
	}
}

uint64_t capture_ring_pos(struct capture_ring *q)
{
	return atomic_load_explicit(&q->tail, memory_order_relaxed);
}

const struct capture_rec *capture_ring_peek(struct capture_ring *q,
					    uint64_t *pos)
{
	uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);

	while (*pos < h) {
		uint64_t off = *pos & (q->cap - 1);
		const struct capture_rec *rec =
			(const struct capture_rec *)(q->buf + off);

		if (rec->size == REC_WRAP) {
			*pos += q->cap - off;
			continue;
		}
		*pos += rec->size;
		return rec;
	}
	return NULL;
}

void capture_ring_release(struct capture_ring *q, uint64_t pos)
{
	atomic_store_explicit(&q->tail, pos, memory_order_release);
	atomic_store_explicit(&q->half_sent, false, memory_order_relaxed);
}

bool capture_ring_arm(struct capture_ring *q, uint64_t pos)
{
	atomic_store(&q->armed, true);
	return atomic_load(&q->head) == pos;
}
