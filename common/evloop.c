/* SPDX-License-Identifier: MIT */
/* evloop.c - an epoll event loop: fds, a timer heap, deferred calls. */
#include "common/evloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define EVLOOP_BATCH 64

struct evloop_fd {
	int fd;
	bool dead;		/* deleted; freed after the round's fd phase */
	evloop_fd_fn fn;
	void *arg;
	struct evloop_fd *next_dead;
};

struct evloop_timer {
	struct evloop *loop;
	uint64_t deadline;	/* ms, CLOCK_MONOTONIC */
	uint64_t period;	/* ms; 0: once */
	uint64_t seq;		/* arm order: ties and the one-round rule */
	long idx;		/* index in the heap, -1: disarmed */
	evloop_timer_fn fn;
	void *arg;
	struct evloop_timer *prev, *next;	/* every timer of the loop */
};

struct evloop_call {
	void (*fn)(void *arg);
	void *arg;
	struct evloop_call *next;
};

struct evloop {
	int epfd;
	int wakefd;		/* eventfd: evloop_defer() and evloop_stop() */
	atomic_bool stop;

	struct evloop_fd **fds;	/* indexed by fd */
	int nfds;
	struct evloop_fd *dead;

	struct evloop_timer **heap;	/* min-heap on (deadline, seq) */
	long heap_len, heap_cap;
	struct evloop_timer *timers;
	long ntimers;		/* heap_cap >= ntimers: arming never allocates */
	uint64_t next_seq;

	pthread_mutex_t call_lock;
	struct evloop_call *calls, **calls_tail;
};

uint64_t evloop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct evloop *evloop_new(void)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	struct evloop *l;
	int err;

	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto free_loop;
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wakefd < 0)
		goto close_epoll;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0)
		goto close_wake;
	pthread_mutex_init(&l->call_lock, NULL);
	l->calls_tail = &l->calls;
	return l;

close_wake:
	err = errno;
	close(l->wakefd);
	errno = err;
close_epoll:
	err = errno;
	close(l->epfd);
	errno = err;
free_loop:
	free(l);
	return NULL;
}

static void evloop_free_dead(struct evloop *l)
{
	while (l->dead) {
		struct evloop_fd *e = l->dead;

		l->dead = e->next_dead;
		free(e);
	}
}

void evloop_free(struct evloop *l)
{
	struct evloop_call *c;
	int fd;

	if (!l)
		return;
	for (fd = 0; fd < l->nfds; fd++)
		free(l->fds[fd]);
	free(l->fds);
	evloop_free_dead(l);
	while (l->timers) {
		struct evloop_timer *t = l->timers;

		l->timers = t->next;
		free(t);
	}
	free(l->heap);
	for (c = l->calls; c;) {
		struct evloop_call *next = c->next;

		free(c);
		c = next;
	}
	pthread_mutex_destroy(&l->call_lock);
	close(l->wakefd);
	close(l->epfd);
	free(l);
}

/* ---- fds ---- */

static struct evloop_fd *evloop_fd_find(struct evloop *l, int fd)
{
	if (fd < 0 || fd >= l->nfds)
		return NULL;
	return l->fds[fd];
}

int evloop_fd_add(struct evloop *l, int fd, uint32_t events, evloop_fd_fn fn,
		  void *arg)
{
	struct epoll_event ev = {.events = events};
	struct evloop_fd *e;

	if (fd < 0)
		return -EBADF;
	if (!fn)
		return -EINVAL;
	if (evloop_fd_find(l, fd))
		return -EEXIST;
	if (fd >= l->nfds) {
		int n = l->nfds ? l->nfds : 16;
		struct evloop_fd **fds;

		while (n <= fd)
			n *= 2;
		fds = realloc(l->fds, (size_t)n * sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		for (int i = l->nfds; i < n; i++)
			fds[i] = NULL;
		l->fds = fds;
		l->nfds = n;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = fd;
	e->fn = fn;
	e->arg = arg;
	ev.data.ptr = e;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		free(e);
		return err;
	}
	l->fds[fd] = e;
	return 0;
}

int evloop_fd_mod(struct evloop *l, int fd, uint32_t events)
{
	struct evloop_fd *e = evloop_fd_find(l, fd);
	struct epoll_event ev = {.events = events};

	if (!e)
		return -ENOENT;
	ev.data.ptr = e;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void evloop_fd_del(struct evloop *l, int fd)
{
	struct evloop_fd *e = evloop_fd_find(l, fd);

	if (!e)
		return;
	/* EBADF if the caller closed it first: the registration is gone. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd] = NULL;
	/* An event for it may sit in this round's batch: free it after. */
	e->dead = true;
	e->next_dead = l->dead;
	l->dead = e;
}

/* ---- timers: a binary min-heap on (deadline, seq) ---- */

static bool timer_before(const struct evloop_timer *a,
			 const struct evloop_timer *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->seq < b->seq;
}

static void heap_set(struct evloop *l, long i, struct evloop_timer *t)
{
	l->heap[i] = t;
	t->idx = i;
}

static void heap_up(struct evloop *l, long i)
{
	struct evloop_timer *t = l->heap[i];

	while (i > 0) {
		long parent = (i - 1) / 2;

		if (!timer_before(t, l->heap[parent]))
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void heap_down(struct evloop *l, long i)
{
	struct evloop_timer *t = l->heap[i];

	for (;;) {
		long child = 2 * i + 1;

		if (child >= l->heap_len)
			break;
		if (child + 1 < l->heap_len &&
		    timer_before(l->heap[child + 1], l->heap[child]))
			child++;
		if (!timer_before(l->heap[child], t))
			break;
		heap_set(l, i, l->heap[child]);
		i = child;
	}
	heap_set(l, i, t);
}

static void heap_remove(struct evloop *l, struct evloop_timer *t)
{
	long i = t->idx;
	struct evloop_timer *last;

	if (i < 0)
		return;
	t->idx = -1;
	last = l->heap[--l->heap_len];
	if (last == t)
		return;
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->idx);
}

/* The heap has room for every timer: evloop_timer_add() grows it. */
static void heap_insert(struct evloop *l, struct evloop_timer *t)
{
	heap_set(l, l->heap_len++, t);
	heap_up(l, t->idx);
}

static void timer_arm(struct evloop_timer *t, uint64_t delay_ms,
		      uint64_t period_ms)
{
	struct evloop *l = t->loop;

	heap_remove(l, t);
	t->period = period_ms;
	if (!delay_ms && !period_ms)
		return;
	t->deadline = evloop_now_ms() + delay_ms;
	t->seq = l->next_seq++;
	heap_insert(l, t);
}

struct evloop_timer *evloop_timer_add(struct evloop *l, uint64_t delay_ms,
				      uint64_t period_ms, evloop_timer_fn fn,
				      void *arg)
{
	struct evloop_timer *t;

	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	if (l->ntimers == l->heap_cap) {
		long cap = l->heap_cap ? l->heap_cap * 2 : 16;
		struct evloop_timer **heap;

		heap = realloc(l->heap, (size_t)cap * sizeof(*heap));
		if (!heap)
			return NULL;
		l->heap = heap;
		l->heap_cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->loop = l;
	t->fn = fn;
	t->arg = arg;
	t->idx = -1;
	t->next = l->timers;
	if (l->timers)
		l->timers->prev = t;
	l->timers = t;
	l->ntimers++;
	timer_arm(t, delay_ms, period_ms);
	return t;
}

void evloop_timer_mod(struct evloop_timer *t, uint64_t delay_ms,
		      uint64_t period_ms)
{
	timer_arm(t, delay_ms, period_ms);
}

void evloop_timer_del(struct evloop_timer *t)
{
	struct evloop *l;

	if (!t)
		return;
	l = t->loop;
	heap_remove(l, t);
	if (t->prev)
		t->prev->next = t->next;
	else
		l->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	l->ntimers--;
	free(t);
}

/*
 * Run the timers due at @now that were armed before this phase began
 * (seq < the seq at its start): one that re-arms itself for 0 ms waits
 * for the next round. Nothing touches a timer after its callback, which
 * may have deleted it.
 */
static void evloop_run_timers(struct evloop *l, uint64_t now)
{
	uint64_t limit = l->next_seq;

	while (l->heap_len) {
		struct evloop_timer *t = l->heap[0];

		if (t->deadline > now || t->seq >= limit)
			break;
		heap_remove(l, t);
		if (t->period) {
			t->deadline += t->period;
			if (t->deadline <= now)	/* fell behind: no burst */
				t->deadline = now + t->period;
			t->seq = l->next_seq++;
			heap_insert(l, t);
		}
		t->fn(l, t->arg);
	}
}

/* ms until the first timer (rounded up), or -1 if none is armed. */
static int evloop_timer_wait(struct evloop *l)
{
	uint64_t now, d;

	if (!l->heap_len)
		return -1;
	now = evloop_now_ms();
	d = l->heap[0]->deadline;
	if (d <= now)
		return 0;
	d -= now;
	return d > 3600000 ? 3600000 : (int)d;
}

/* ---- deferred calls ---- */

static void evloop_wake(struct evloop *l)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is full, a wake-up is pending anyway. */
	if (write(l->wakefd, &one, sizeof(one)) < 0)
		return;
}

int evloop_defer(struct evloop *l, void (*fn)(void *arg), void *arg)
{
	struct evloop_call *c = malloc(sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->arg = arg;
	c->next = NULL;
	pthread_mutex_lock(&l->call_lock);
	*l->calls_tail = c;
	l->calls_tail = &c->next;
	pthread_mutex_unlock(&l->call_lock);
	evloop_wake(l);
	return 0;
}

/* The calls queued before now; those they defer wait for the next round. */
static void evloop_run_calls(struct evloop *l)
{
	struct evloop_call *c;

	pthread_mutex_lock(&l->call_lock);
	c = l->calls;
	l->calls = NULL;
	l->calls_tail = &l->calls;
	pthread_mutex_unlock(&l->call_lock);
	while (c) {
		struct evloop_call *next = c->next;

		c->fn(c->arg);
		free(c);
		c = next;
	}
}

/* ---- running ---- */

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[EVLOOP_BATCH];
	int wait = evloop_timer_wait(l);
	int n, i;

	if (timeout_ms >= 0 && (wait < 0 || timeout_ms < wait))
		wait = timeout_ms;
	n = epoll_wait(l->epfd, evs, EVLOOP_BATCH, wait);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct evloop_fd *e = evs[i].data.ptr;

		if (!e) {
			uint64_t v;

			if (read(l->wakefd, &v, sizeof(v)) < 0)
				continue;	/* EAGAIN: already drained */
			continue;
		}
		if (!e->dead)
			e->fn(l, e->fd, evs[i].events, e->arg);
	}
	evloop_free_dead(l);
	evloop_run_timers(l, evloop_now_ms());
	evloop_run_calls(l);
	return 0;
}

int evloop_run(struct evloop *l)
{
	int err = 0;

	while (!atomic_load(&l->stop)) {
		err = evloop_run_once(l, -1);
		if (err)
			break;
	}
	atomic_store(&l->stop, false);
	return err;
}

void evloop_stop(struct evloop *l)
{
	atomic_store(&l->stop, true);
	evloop_wake(l);
}
