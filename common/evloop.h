/* SPDX-License-Identifier: MIT */
/* evloop.h - an epoll event loop: fds, timers and deferred calls. */
#ifndef LOOM_COMMON_EVLOOP_H
#define LOOM_COMMON_EVLOOP_H

#include <stdint.h>
#include <sys/epoll.h>

/*
 * One loop per thread that needs one: netd's control thread (its listen
 * socket, signals, clients, VM attach connections and every netd service's
 * sockets and timers), the VMM's main loop. A piece of code that owns fds or
 * timers registers callbacks here instead of adding a branch to somebody
 * else's dispatch.
 *
 * Threading: every function except evloop_defer() and evloop_stop() is
 * called on the loop's own thread (or before evloop_run() starts / after it
 * returns). Callbacks run on the loop's thread, one at a time, and may call
 * any evloop function, including deleting the fd or timer they run for, or
 * any other one: a deleted fd or timer never gets a callback after the
 * delete returns, even if its event was already collected in this round.
 *
 * Timers have millisecond resolution on CLOCK_MONOTONIC and fire no earlier
 * than asked. A round runs the fd callbacks epoll reported, then the timers
 * due, then the deferred calls. A timer armed during a round runs in the
 * next round at the earliest; a call deferred by an fd or timer callback
 * runs at the end of the same round, one deferred by a deferred call in
 * the next round (which then does not sleep). So nothing that re-arms or
 * re-defers itself can starve the fds.
 *
 * Limits: fds are those of the process (the fd table grows to the highest
 * fd registered); timers and deferred calls are malloc'd, one per call.
 */

struct evloop;
struct evloop_timer;

/* @events: what epoll reported (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP...). */
typedef void (*evloop_fd_fn)(struct evloop *l, int fd, uint32_t events,
			     void *arg);
typedef void (*evloop_timer_fn)(struct evloop *l, void *arg);

/*
 * evloop_new() - an empty loop (an epoll fd and an eventfd, close-on-exec).
 * Return: the loop, or NULL with errno set.
 */
struct evloop *evloop_new(void);

/*
 * evloop_free() - free @l (NULL is a no-op): its timers (whoever still holds
 * a handle must not use it), its fd registrations (the fds themselves are
 * the callers' and stay open) and deferred calls not yet run (dropped, not
 * run). Not from inside one of @l's callbacks.
 */
void evloop_free(struct evloop *l);

/*
 * evloop_fd_add() - call @fn(@l, @fd, events, @arg) when @fd is ready for
 * @events (EPOLLIN, EPOLLOUT, EPOLLET...; EPOLLERR/EPOLLHUP are always
 * reported). Level-triggered unless @events has EPOLLET.
 * Return: 0, -EEXIST (@fd already registered), -EBADF, -EINVAL (@fn NULL),
 * -ENOMEM, or another negative errno from epoll_ctl.
 */
int evloop_fd_add(struct evloop *l, int fd, uint32_t events, evloop_fd_fn fn,
		  void *arg);

/*
 * evloop_fd_mod() - change the events @fd waits for; callback and arg stay.
 * Return: 0, -ENOENT (not registered), or a negative errno from epoll_ctl.
 */
int evloop_fd_mod(struct evloop *l, int fd, uint32_t events);

/*
 * evloop_fd_del() - stop watching @fd (not registered: a no-op). Call it
 * before closing @fd. Safe from inside any callback, @fd's own included.
 */
void evloop_fd_del(struct evloop *l, int fd);

/*
 * evloop_timer_add() - a timer that calls @fn(@l, @arg) after @delay_ms,
 * then every @period_ms (0: once). @delay_ms 0 with @period_ms 0: disarmed
 * until evloop_timer_mod(). A one-shot timer that fired stays allocated,
 * disarmed, until evloop_timer_del(): the owner always deletes it.
 * Return: the timer, or NULL (@fn NULL, or out of memory) with errno set.
 */
struct evloop_timer *evloop_timer_add(struct evloop *l, uint64_t delay_ms,
				      uint64_t period_ms, evloop_timer_fn fn,
				      void *arg);

/*
 * evloop_timer_mod() - re-arm @t: fire after @delay_ms from now, then every
 * @period_ms (0: once). 0, 0: disarm. Safe from inside @t's own callback
 * (the new schedule replaces the period the callback fired for).
 */
void evloop_timer_mod(struct evloop_timer *t, uint64_t delay_ms,
		      uint64_t period_ms);

/* evloop_timer_del() - disarm and free @t (NULL: no-op). Safe in callbacks. */
void evloop_timer_del(struct evloop_timer *t);

/*
 * evloop_defer() - run @fn(@arg) once on @l's thread, in the next round.
 * Thread-safe: the one evloop call other threads may make (with
 * evloop_stop()). Calls run in the order they were deferred.
 * Return: 0, or -ENOMEM (@fn will not run).
 */
int evloop_defer(struct evloop *l, void (*fn)(void *arg), void *arg);

/*
 * evloop_run_once() - one round: wait at most @timeout_ms (-1: until the
 * next timer or event; 0: do not wait), then run what is due.
 * Return: 0, or a negative errno from epoll_wait (-EINTR is 0).
 */
int evloop_run_once(struct evloop *l, int timeout_ms);

/*
 * evloop_run() - run rounds until evloop_stop(). A stop that comes before
 * evloop_run() makes it return at once.
 * Return: 0 (stopped), or a negative errno from epoll_wait.
 */
int evloop_run(struct evloop *l);

/* evloop_stop() - make evloop_run() return after this round. Thread-safe. */
void evloop_stop(struct evloop *l);

/* evloop_now_ms() - CLOCK_MONOTONIC in milliseconds. */
uint64_t evloop_now_ms(void);

#endif
