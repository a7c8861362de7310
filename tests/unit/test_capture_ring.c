/* SPDX-License-Identifier: MIT */
/* test_capture_ring.c - the capture ring (netd/capture_ring.h): order, wrap, drops, wake-ups, two threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netd/capture_ring.h"

enum { CAP = 128 * 1024 };

static bool push(struct capture_ring *q, uint32_t seq, uint32_t len)
{
	struct capture_rec *r = capture_ring_reserve(q, len);

	if (!r)
		return false;
	r->port_id = seq;
	r->orig_len = len;
	for (uint32_t i = 0; i < len; i++)
		r->data[i] = (uint8_t)(seq + i);
	capture_ring_commit(q);
	return true;
}

static void check_rec(const struct capture_rec *r, uint32_t seq)
{
	assert_non_null(r);
	assert_int_equal(r->port_id, seq);
	assert_int_equal(r->cap_len, r->orig_len);
	for (uint32_t i = 0; i < r->cap_len; i++)
		assert_int_equal(r->data[i], (uint8_t)(seq + i));
}

/* In order across many wraps, sizes varying; a full ring refuses. */
static void test_order_wrap_full(void **state)
{
	struct capture_ring q;
	uint32_t seq = 0, next = 0;
	uint64_t pos;

	(void)state;
	assert_int_equal(capture_ring_init(&q, 1000), -EINVAL);
	assert_int_equal(capture_ring_init(&q, CAP), 0);
	for (int round = 0; round < 200; round++) {
		int n = 1 + round % 37;

		for (int i = 0; i < n; i++, seq++)
			assert_true(push(&q, seq, (seq * 131) % 3000));
		pos = capture_ring_pos(&q);
		for (int i = 0; i < n; i++, next++)
			check_rec(capture_ring_peek(&q, &pos), next);
		assert_null(capture_ring_peek(&q, &pos));
		capture_ring_release(&q, pos);
	}
	/* Fill: the ring refuses once full, and takes again after a release. */
	while (push(&q, seq, 1500))
		seq++;
	assert_false(push(&q, seq, 1500));
	pos = capture_ring_pos(&q);
	check_rec(capture_ring_peek(&q, &pos), next);
	capture_ring_release(&q, pos);
	assert_true(push(&q, seq, 1500));
	/* Too large a record for the ring: refused. */
	assert_null(capture_ring_reserve(&q, CAP));
	capture_ring_destroy(&q);
}

/* A reservation left uncommitted is invisible and taken by the next one. */
static void test_uncommitted(void **state)
{
	struct capture_ring q;
	uint64_t pos;

	(void)state;
	assert_int_equal(capture_ring_init(&q, CAP), 0);
	assert_non_null(capture_ring_reserve(&q, 100));
	pos = capture_ring_pos(&q);
	assert_null(capture_ring_peek(&q, &pos));
	assert_true(push(&q, 7, 10));
	check_rec(capture_ring_peek(&q, &pos), 7);
	assert_null(capture_ring_peek(&q, &pos));
	capture_ring_destroy(&q);
}

/* The eventfd is written once after an arm, not on every commit. */
static void test_arm(void **state)
{
	struct capture_ring q;
	uint64_t v = 0, pos;

	(void)state;
	assert_int_equal(capture_ring_init(&q, CAP), 0);
	assert_true(push(&q, 1, 10));
	assert_int_equal(read(q.efd, &v, 8), -1); /* not armed: no write */
	pos = capture_ring_pos(&q);
	assert_false(capture_ring_arm(&q, pos)); /* not empty */
	capture_ring_peek(&q, &pos);
	capture_ring_release(&q, pos);
	assert_true(capture_ring_arm(&q, pos));
	assert_true(push(&q, 2, 10));
	assert_true(push(&q, 3, 10));
	assert_int_equal(read(q.efd, &v, 8), 8);
	assert_int_equal(v, 1);
	assert_int_equal(read(q.efd, &v, 8), -1);
	/* Not armed, but past half full: one wake-up, until a release. */
	while (q.head - q.tail <= CAP / 2) {
		assert_int_equal(read(q.efd, &v, 8), -1);
		assert_true(push(&q, 4, 1000));
	}
	assert_int_equal(read(q.efd, &v, 8), 8);
	assert_true(push(&q, 5, 1000));
	assert_int_equal(read(q.efd, &v, 8), -1);
	pos = capture_ring_pos(&q);
	while (capture_ring_peek(&q, &pos))
		;
	capture_ring_release(&q, pos);
	assert_true(push(&q, 6, 1000));
	assert_int_equal(read(q.efd, &v, 8), -1); /* empty again: below half */
	capture_ring_destroy(&q);
}

enum { STRESS_N = 300000 };

static void *producer(void *arg)
{
	struct capture_ring *q = arg;
	uint32_t seq = 0;

	for (int i = 0; i < STRESS_N; i++) {
		if (push(q, seq, (seq * 61) % 700))
			seq++;
		else
			capture_ring_count_drop(q);
	}
	return (void *)(uintptr_t)seq;
}

/* Two threads: the consumer sees every committed record, intact, in order. */
static void test_two_threads(void **state)
{
	struct capture_ring q;
	pthread_t t;
	uint32_t next = 0;
	void *ret = NULL;
	bool done = false;

	(void)state;
	assert_int_equal(capture_ring_init(&q, CAP), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, &q), 0);
	for (;;) {
		uint64_t pos = capture_ring_pos(&q);
		const struct capture_rec *r;
		int got = 0;

		while ((r = capture_ring_peek(&q, &pos))) {
			check_rec(r, next++);
			got++;
		}
		capture_ring_release(&q, pos);
		if (done && !got)
			break;
		if (!got && pthread_tryjoin_np(t, &ret) == 0)
			done = true;
	}
	assert_int_equal((uintptr_t)ret, next);
	assert_int_equal(next + capture_ring_drops(&q), STRESS_N);
	capture_ring_destroy(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_wrap_full),
		cmocka_unit_test(test_uncommitted),
		cmocka_unit_test(test_arm),
		cmocka_unit_test(test_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
