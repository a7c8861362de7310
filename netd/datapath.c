/* SPDX-License-Identifier: MIT */
/* datapath.c - the data-path thread: moves frames of ready ports, sleeps when idle. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "netd/netd.h"

LOG_MODULE("datapath");

enum { DP_EVENTS = 64 };

static uint64_t dp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The control thread's way in: tell the spinning thread to yield. */
static void dp_lock(struct netd_dp *dp)
{
	atomic_fetch_add(&dp->waiters, 1);
	pthread_mutex_lock(&dp->lock);
	atomic_fetch_sub(&dp->waiters, 1);
}

static void dp_wake(struct netd_dp *dp)
{
	uint64_t one = 1;

	if (write(dp->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_rl(LOG_WARN, MOD, "wake: %s", strerror(errno));
}

/* One ready port: a batch from recv through the switch. Lock held. */
static int dp_port_run(struct netd_dp *dp, struct netd_dp_port *pp)
{
	struct port *p = pp->port;
	int n;

	dp->batch.count = 0;
	n = p->ops->recv(p, &dp->batch);
	if (n < 0) {
		/* The backend is broken: stop polling it; port.list says so. */
		log_rl(LOG_WARN, MOD, "port %s: recv failed: %s", p->name,
		       strerror(-n));
		pp->broken = true;
		epoll_ctl(dp->epfd, EPOLL_CTL_DEL, pp->fd, NULL);
		return 0;
	}
	if (dp->batch.count)
		switch_port_input(pp->sw, pp->port_id, &dp->batch);
	if (p->ops->recv_done)
		p->ops->recv_done(p, &dp->batch);
	return n;
}

/*
 * The loop. Each round asks epoll which ports are readable (timeout 0, one
 * syscall for all ports instead of a failing read per idle port) and runs
 * a batch from each through its switch. While rounds move frames, and for
 * busy_poll_ns after the last one that did, it spins: a wake-up from a
 * blocking wait costs ~74 us across cores here, far more than a few empty
 * rounds. Then it sleeps in epoll (lock released) for at most a second, so
 * FDB aging (switch_poll) still runs on idle networks.
 *
 * Locking: the whole round runs under dp->lock, so the control thread can
 * remove a port (netd_dp_port_remove) only between rounds; events from the
 * blocking wait are not used (a port may have gone meanwhile), the next
 * round asks again.
 */
static void *dp_main(void *arg)
{
	struct netd *d = arg;
	struct netd_dp *dp = &d->dp;
	uint64_t idle_since = 0, last_sweep = 0;

	/*
	 * Optional priority (docs/architecture.md says why the default is
	 * 0). Failure (no CAP_SYS_NICE) only costs speed.
	 */
	if (dp->nice && setpriority(PRIO_PROCESS, (id_t)gettid(), dp->nice) < 0)
		log_info(MOD, "cannot set nice %d: %s", dp->nice,
			 strerror(errno));

	for (;;) {
		struct epoll_event ev[DP_EVENTS];
		uint64_t now;
		int frames = 0, n;

		pthread_mutex_lock(&dp->lock);
		if (dp->stop) {
			pthread_mutex_unlock(&dp->lock);
			break;
		}
		n = epoll_wait(dp->epfd, ev, DP_EVENTS, 0);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL) {
				uint64_t v;

				if (read(dp->wakefd, &v, sizeof(v)) < 0 &&
				    errno != EAGAIN)
					log_rl(LOG_WARN, MOD, "wakefd: %s",
					       strerror(errno));
				continue;
			}
			if (!((struct netd_dp_port *)ev[i].data.ptr)->poll_always)
				frames += dp_port_run(dp, ev[i].data.ptr);
		}
		for (unsigned int i = 0; i < dp->npolled; i++)
			if (!atomic_load(&dp->polled[i]->broken))
				frames += dp_port_run(dp, dp->polled[i]);
		now = dp_now_ns();
		if (now - last_sweep >= 1000000000ull) {
			/* Ages the FDB; also a safety net for a missed event.
			 * Then the backends' own timeouts. */
			for (unsigned int i = 0; i < dp->nsws; i++) {
				frames += switch_poll(dp->sws[i]);
				switch_tick(dp->sws[i]);
			}
			last_sweep = now;
		}
		dp->rounds++;
		pthread_mutex_unlock(&dp->lock);
		/* A spinning thread would starve a waiter of the mutex. */
		while (atomic_load(&dp->waiters))
			sched_yield();

		if (frames > 0 || !idle_since) {
			idle_since = frames > 0 ? 0 : now;
			continue;
		}
		if (now - idle_since < dp->busy_poll_ns) {
			/*
			 * Spin politely: on a machine with few cores the
			 * peers producing and consuming our frames may be
			 * waiting for this CPU.
			 */
			if (dp->yield)
				sched_yield();
			continue;
		}
		/* Polled ports re-arm their notification before we sleep. */
		pthread_mutex_lock(&dp->lock);
		for (unsigned int i = 0; i < dp->npolled; i++) {
			struct port *p = dp->polled[i]->port;

			if (p->ops->arm && !atomic_load(&dp->polled[i]->broken))
				p->ops->arm(p);
		}
		pthread_mutex_unlock(&dp->lock);
		epoll_wait(dp->epfd, ev, DP_EVENTS, 1000);
		dp->sleeps++;
		idle_since = 0;
	}
	return NULL;
}

int netd_dp_start(struct netd *d)
{
	struct netd_dp *dp = &d->dp;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	const char *env = getenv("LOOM_NETD_BUSY_POLL_US");
	int ret;

	dp->busy_poll_ns = NETD_BUSY_POLL_NS;
	if (env && *env)
		dp->busy_poll_ns = strtoull(env, NULL, 10) * 1000;
	dp->nice = NETD_DP_NICE;
	env = getenv("LOOM_NETD_DP_NICE");
	if (env && *env)
		dp->nice = atoi(env);
	env = getenv("LOOM_NETD_YIELD");
	dp->yield = !env || strcmp(env, "0");
	pthread_mutex_init(&dp->lock, NULL);
	dp->epfd = epoll_create1(EPOLL_CLOEXEC);
	dp->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dp->epfd < 0 || dp->wakefd < 0)
		return -errno;
	if (epoll_ctl(dp->epfd, EPOLL_CTL_ADD, dp->wakefd, &ev) < 0)
		return -errno;
	ret = pthread_create(&dp->thread, NULL, dp_main, d);
	if (ret)
		return -ret;
	pthread_setname_np(dp->thread, "loom-datapath");
	return 0;
}

void netd_dp_stop(struct netd *d)
{
	struct netd_dp *dp = &d->dp;

	dp_lock(dp);
	dp->stop = true;
	pthread_mutex_unlock(&dp->lock);
	dp_wake(dp);
	pthread_join(dp->thread, NULL);
	close(dp->epfd);
	close(dp->wakefd);
}

void netd_dp_add_switch(struct netd *d, struct switch_core *sw)
{
	struct netd_dp *dp = &d->dp;

	dp_lock(dp);
	if (dp->nsws < NETD_NETS_MAX)
		dp->sws[dp->nsws++] = sw;
	pthread_mutex_unlock(&dp->lock);
}

/* After this returns the data-path thread no longer touches @sw. */
void netd_dp_del_switch(struct netd *d, struct switch_core *sw)
{
	struct netd_dp *dp = &d->dp;

	dp_lock(dp);
	for (unsigned int i = 0; i < dp->nsws; i++) {
		if (dp->sws[i] == sw) {
			dp->sws[i] = dp->sws[--dp->nsws];
			break;
		}
	}
	pthread_mutex_unlock(&dp->lock);
}

/*
 * netd_dp_port_add - let the data-path thread poll switch port @port_id.
 * Return: the record (for netd_dp_port_remove), or NULL.
 */
struct netd_dp_port *netd_dp_port_add(struct netd *d, struct switch_core *sw,
				      uint32_t port_id)
{
	struct netd_dp *dp = &d->dp;
	struct netd_dp_port *pp = calloc(1, sizeof(*pp));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!pp)
		return NULL;
	pp->sw = sw;
	pp->port_id = port_id;
	pp->port = switch_port_get(sw, port_id);
	if (!pp->port) {
		free(pp);
		return NULL;
	}
	/*
	 * A level-triggered poll fd (a TAP's): run the port only when epoll
	 * says so. Other backends (shm) turn their notifications off while
	 * they are polled, so they are polled every round and re-armed (arm)
	 * before the thread sleeps. poll_fd has no side effects: asking for
	 * it here, on the control thread, is allowed (switch/port.h).
	 */
	pp->poll_always = !(pp->port->ops->caps & PORT_CAP_POLL_LEVEL);
	pp->fd = pp->port->ops->poll_fd ? pp->port->ops->poll_fd(pp->port) : -1;
	ev.data.ptr = pp;
	dp_lock(dp);
	if (pp->poll_always || pp->fd < 0) {
		if (dp->npolled < NETD_POLLED_MAX) {
			dp->polled[dp->npolled++] = pp;
			pp->poll_always = true;
		} else {
			log_warn(MOD, "port %u: too many polled ports", port_id);
		}
	}
	if (pp->fd >= 0 && epoll_ctl(dp->epfd, EPOLL_CTL_ADD, pp->fd, &ev) < 0)
		log_warn(MOD, "port %u: epoll: %s", port_id, strerror(errno));
	pthread_mutex_unlock(&dp->lock);
	dp_wake(dp);
	return pp;
}

/*
 * netd_dp_port_remove - stop polling; the caller then removes the switch
 * port. Between rounds, so no recv of the data-path thread is in flight.
 */
void netd_dp_port_remove(struct netd *d, struct netd_dp_port *pp)
{
	struct netd_dp *dp = &d->dp;

	if (!pp)
		return;
	dp_lock(dp);
	if (pp->fd >= 0 && !pp->broken)
		epoll_ctl(dp->epfd, EPOLL_CTL_DEL, pp->fd, NULL);
	for (unsigned int i = 0; i < dp->npolled; i++) {
		if (dp->polled[i] == pp) {
			dp->polled[i] = dp->polled[--dp->npolled];
			break;
		}
	}
	pthread_mutex_unlock(&dp->lock);
	free(pp);
}
