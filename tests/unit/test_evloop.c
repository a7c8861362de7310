/* SPDX-License-Identifier: MIT */
/* test_evloop.c - common/evloop: fds, timers, deferred calls, stop. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/evloop.h"

/* Run rounds until @ms have passed. */
static void run_for(struct evloop *l, uint64_t ms)
{
	uint64_t end = evloop_now_ms() + ms;
	uint64_t now;

	while ((now = evloop_now_ms()) < end)
		assert_int_equal(evloop_run_once(l, (int)(end - now)), 0);
}

struct fd_rec {
	int calls;
	int last_fd;
	uint32_t last_events;
	struct evloop *l;
	int other_fd;	/* deleted by this callback when >= 0 */
	int *shared;	/* counts callbacks of both fds */
};

static void on_fd(struct evloop *l, int fd, uint32_t events, void *arg)
{
	struct fd_rec *r = arg;
	char buf[16];

	r->calls++;
	r->last_fd = fd;
	r->last_events = events;
	if (r->shared)
		(*r->shared)++;
	if (r->other_fd >= 0)
		evloop_fd_del(l, r->other_fd);
	if (events & EPOLLIN)
		assert_true(read(fd, buf, sizeof(buf)) > 0);
}

static void test_fd_ready_mod_del(void **state)
{
	struct evloop *l = evloop_new();
	struct fd_rec r = {.other_fd = -1};
	int p[2];

	assert_non_null(l);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(evloop_fd_add(l, p[0], EPOLLIN, on_fd, &r), 0);
	assert_int_equal(evloop_fd_add(l, p[0], EPOLLIN, on_fd, &r), -EEXIST);
	assert_int_equal(evloop_fd_add(l, -1, EPOLLIN, on_fd, &r), -EBADF);
	assert_int_equal(evloop_fd_mod(l, p[1], EPOLLOUT), -ENOENT);

	/* Nothing to read: no callback. */
	assert_int_equal(evloop_run_once(l, 0), 0);
	assert_int_equal(r.calls, 0);

	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(l, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.last_fd, p[0]);
	assert_true(r.last_events & EPOLLIN);

	/* Waiting for nothing: the data stays unread, no callback. */
	assert_int_equal(evloop_fd_mod(l, p[0], 0), 0);
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_int_equal(evloop_run_once(l, 20), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(evloop_fd_mod(l, p[0], EPOLLIN), 0);
	assert_int_equal(evloop_run_once(l, 1000), 0);
	assert_int_equal(r.calls, 2);

	/* Deleted: no callback, and it can be added again. */
	evloop_fd_del(l, p[0]);
	evloop_fd_del(l, p[0]);
	assert_int_equal(write(p[1], "z", 1), 1);
	assert_int_equal(evloop_run_once(l, 20), 0);
	assert_int_equal(r.calls, 2);
	assert_int_equal(evloop_fd_add(l, p[0], EPOLLIN, on_fd, &r), 0);
	assert_int_equal(evloop_run_once(l, 1000), 0);
	assert_int_equal(r.calls, 3);

	/* Left registered: evloop_free() frees the registration, not the fd. */
	evloop_free(l);
	assert_int_equal(write(p[1], "w", 1), 1);
	close(p[0]);
	close(p[1]);
}

/*
 * Two fds ready in the same round, each callback deletes the other: the
 * second event is already in the batch, yet exactly one callback runs.
 */
static void test_fd_del_other_in_callback(void **state)
{
	struct evloop *l = evloop_new();
	int a[2], b[2], shared = 0;
	struct fd_rec ra = {.shared = &shared}, rb = {.shared = &shared};

	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	ra.other_fd = b[0];
	rb.other_fd = a[0];
	assert_int_equal(evloop_fd_add(l, a[0], EPOLLIN, on_fd, &ra), 0);
	assert_int_equal(evloop_fd_add(l, b[0], EPOLLIN, on_fd, &rb), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(l, 1000), 0);
	assert_int_equal(shared, 1);
	/* The one that ran deleted the other; its own is still there. */
	assert_int_equal(evloop_fd_add(l, ra.calls ? b[0] : a[0], EPOLLIN,
				       on_fd, ra.calls ? &rb : &ra),
			 0);
	assert_int_equal(evloop_fd_add(l, ra.calls ? a[0] : b[0], EPOLLIN,
				       on_fd, &ra),
			 -EEXIST);
	evloop_free(l);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

/* Deleting its own fd from its callback, then closing it. */
static void on_fd_self_del(struct evloop *l, int fd, uint32_t events,
			   void *arg)
{
	int *calls = arg;

	(*calls)++;
	evloop_fd_del(l, fd);
	close(fd);
}

static void test_fd_del_self(void **state)
{
	struct evloop *l = evloop_new();
	int p[2], calls = 0;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(evloop_fd_add(l, p[0], EPOLLIN, on_fd_self_del,
				       &calls),
			 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(l, 1000), 0);
	assert_int_equal(evloop_run_once(l, 20), 0);
	assert_int_equal(calls, 1);
	evloop_free(l);
	close(p[1]);
}

struct timer_rec {
	int calls;
	int del_at;	/* delete itself at this call (0: never) */
	int rearm;	/* re-arm itself with timer_mod this many times */
	uint64_t first_ms;
	struct evloop_timer *self;
	struct evloop_timer *other;	/* deleted by the callback if set */
};

static void on_timer(struct evloop *l, void *arg)
{
	struct timer_rec *r = arg;

	if (!r->calls++)
		r->first_ms = evloop_now_ms();
	if (r->other) {
		evloop_timer_del(r->other);
		r->other = NULL;
	}
	if (r->rearm) {
		r->rearm--;
		evloop_timer_mod(r->self, 5, 0);
	}
	if (r->del_at && r->calls == r->del_at) {
		evloop_timer_del(r->self);
		r->self = NULL;
	}
}

static void test_timer_one_shot(void **state)
{
	struct evloop *l = evloop_new();
	struct timer_rec r = {0};
	uint64_t start = evloop_now_ms();

	r.self = evloop_timer_add(l, 30, 0, on_timer, &r);
	assert_non_null(r.self);
	run_for(l, 10);
	assert_int_equal(r.calls, 0);
	/* run_once(-1) waits for the timer itself. */
	while (!r.calls)
		assert_int_equal(evloop_run_once(l, -1), 0);
	assert_true(r.first_ms >= start + 30);
	run_for(l, 60);
	assert_int_equal(r.calls, 1);

	/* A fired one-shot timer can be re-armed, then disarmed. */
	evloop_timer_mod(r.self, 10, 0);
	run_for(l, 40);
	assert_int_equal(r.calls, 2);
	evloop_timer_mod(r.self, 10, 0);
	evloop_timer_mod(r.self, 0, 0);
	run_for(l, 40);
	assert_int_equal(r.calls, 2);
	evloop_timer_del(r.self);
	evloop_free(l);
}

static void test_timer_periodic_del_in_callback(void **state)
{
	struct evloop *l = evloop_new();
	struct timer_rec r = {.del_at = 3};
	struct timer_rec p = {0};
	uint64_t start = evloop_now_ms();

	r.self = evloop_timer_add(l, 5, 5, on_timer, &r);
	p.self = evloop_timer_add(l, 10, 10, on_timer, &p);
	assert_non_null(r.self);
	assert_non_null(p.self);
	/* Five periods of p (at 5 s, something is badly wrong). */
	while (p.calls < 5 && evloop_now_ms() < start + 5000)
		assert_int_equal(evloop_run_once(l, -1), 0);
	assert_int_equal(p.calls, 5);
	/* Never early: the fifth call no sooner than 50 ms after the add. */
	assert_true(evloop_now_ms() >= start + 50);
	/* r (every 5 ms) was due in each of those rounds, but deleted itself
	 * at its third call: never again. */
	assert_int_equal(r.calls, 3);
	assert_null(r.self);
	evloop_timer_del(p.self);
	evloop_free(l);
}

static void test_timer_mod_in_callback(void **state)
{
	struct evloop *l = evloop_new();
	struct timer_rec r = {.rearm = 2};
	struct timer_rec q = {0};
	int q_calls;

	/* Re-arms itself twice from its own callback: three calls. */
	r.self = evloop_timer_add(l, 5, 0, on_timer, &r);
	/* Periodic, switched to one-shot by mod: fires once more only. */
	q.self = evloop_timer_add(l, 5, 5, on_timer, &q);
	run_for(l, 7);
	q_calls = q.calls;
	assert_true(q_calls >= 1);
	evloop_timer_mod(q.self, 10, 0);
	run_for(l, 200);
	assert_int_equal(r.calls, 3);
	assert_int_equal(q.calls, q_calls + 1);
	evloop_timer_del(r.self);
	evloop_timer_del(q.self);
	evloop_free(l);
}

/* Two timers due in the same round; the first to run deletes the other. */
static void test_timer_del_other_in_callback(void **state)
{
	struct evloop *l = evloop_new();
	struct timer_rec a = {0}, b = {0};

	a.self = evloop_timer_add(l, 10, 0, on_timer, &a);
	b.self = evloop_timer_add(l, 10, 0, on_timer, &b);
	a.other = b.self;	/* a was armed first: it runs first */
	run_for(l, 50);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 0);
	evloop_timer_del(a.self);
	/* A timer left armed is freed by evloop_free() (ASan checks). */
	assert_non_null(evloop_timer_add(l, 1000, 0, on_timer, &b));
	evloop_free(l);
}

struct defer_ctx {
	struct evloop *l;
	pthread_t loop_thread;
	int next;	/* the value the next call must carry: order */
	int ran;
	int wrong_thread;
	int out_of_order;
};

struct defer_call {
	struct defer_ctx *ctx;
	int seq;
};

static struct defer_call calls[1000];

static void on_defer(void *arg)
{
	struct defer_call *c = arg;

	if (!pthread_equal(pthread_self(), c->ctx->loop_thread))
		c->ctx->wrong_thread++;
	if (c->seq != c->ctx->next)
		c->ctx->out_of_order++;
	c->ctx->next = c->seq + 1;
	c->ctx->ran++;
}

static void on_defer_stop(void *arg)
{
	struct defer_ctx *ctx = arg;

	evloop_stop(ctx->l);
}

static void *defer_thread(void *arg)
{
	struct defer_ctx *ctx = arg;

	for (int i = 0; i < 1000; i++) {
		calls[i].ctx = ctx;
		calls[i].seq = i;
		if (evloop_defer(ctx->l, on_defer, &calls[i]))
			return NULL;
		if (i % 100 == 0)
			usleep(1000);
	}
	evloop_defer(ctx->l, on_defer_stop, ctx);
	return NULL;
}

static void test_defer_from_thread(void **state)
{
	struct defer_ctx ctx = {0};
	pthread_t th;

	ctx.l = evloop_new();
	ctx.loop_thread = pthread_self();
	assert_int_equal(pthread_create(&th, NULL, defer_thread, &ctx), 0);
	/* No fds, no timers: only the deferred calls wake it, and the stop. */
	assert_int_equal(evloop_run(ctx.l), 0);
	pthread_join(th, NULL);
	assert_int_equal(ctx.ran, 1000);
	assert_int_equal(ctx.wrong_thread, 0);
	assert_int_equal(ctx.out_of_order, 0);
	evloop_free(ctx.l);
}

static void *stop_thread(void *arg)
{
	usleep(20000);
	evloop_stop(arg);
	return NULL;
}

static void test_stop_from_thread(void **state)
{
	struct evloop *l = evloop_new();
	pthread_t th;

	/* A stop before run: returns at once. */
	evloop_stop(l);
	assert_int_equal(evloop_run(l), 0);
	/* A stop from another thread wakes a loop blocked with nothing armed. */
	assert_int_equal(pthread_create(&th, NULL, stop_thread, l), 0);
	assert_int_equal(evloop_run(l), 0);
	pthread_join(th, NULL);
	/* Deferred but never run: evloop_free() drops it (ASan checks). */
	assert_int_equal(evloop_defer(l, on_defer_stop, NULL), 0);
	evloop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_ready_mod_del),
		cmocka_unit_test(test_fd_del_other_in_callback),
		cmocka_unit_test(test_fd_del_self),
		cmocka_unit_test(test_timer_one_shot),
		cmocka_unit_test(test_timer_periodic_del_in_callback),
		cmocka_unit_test(test_timer_mod_in_callback),
		cmocka_unit_test(test_timer_del_other_in_callback),
		cmocka_unit_test(test_defer_from_thread),
		cmocka_unit_test(test_stop_from_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
