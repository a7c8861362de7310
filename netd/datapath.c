/* SPDX-License-Identifier: MIT */
/* datapath.c - the data-path thread: polls every switch, sleeps when idle. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "netd/netd.h"

#define MOD "datapath"

static uint64_t dp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

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

/*
 * The loop: one round polls every switch (each switch_poll() holds that
 * switch's mutex for the round). While rounds move frames, or for
 * NETD_BUSY_POLL_NS after the last one that did, it spins: a wake-up from
 * epoll costs far more than a few empty rounds. Then it sleeps in epoll on
 * every port's poll fd and the wake eventfd, at most a second (so FDB
 * aging still runs on an idle network).
 */
static void *dp_main(void *arg)
{
	struct netd *d = arg;
	struct netd_dp *dp = &d->dp;
	uint64_t idle_since = dp_now_ns();

	for (;;) {
		struct epoll_event ev[16];
		int frames = 0, n;

		pthread_mutex_lock(&dp->lock);
		if (dp->stop) {
			pthread_mutex_unlock(&dp->lock);
			break;
		}
		for (unsigned int i = 0; i < dp->nsws; i++)
			frames += switch_poll(dp->sws[i]);
		dp->rounds++;
		pthread_mutex_unlock(&dp->lock);
		/* A spinning thread would starve a waiter of the mutex. */
		while (atomic_load(&dp->waiters))
			sched_yield();

		if (frames > 0) {
			idle_since = 0;
			continue;
		}
		if (!idle_since) {
			idle_since = dp_now_ns();
			continue;
		}
		if (dp_now_ns() - idle_since < NETD_BUSY_POLL_NS)
			continue;
		n = epoll_wait(dp->epfd, ev, 16, 1000);
		dp->sleeps++;
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == dp->wakefd) {
				uint64_t v;

				if (read(dp->wakefd, &v, sizeof(v)) < 0 &&
				    errno != EAGAIN)
					log_rl(LOG_WARN, MOD, "wakefd: %s",
					       strerror(errno));
			}
		}
		idle_since = 0;
	}
	return NULL;
}

int netd_dp_start(struct netd *d)
{
	struct netd_dp *dp = &d->dp;
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	pthread_mutex_init(&dp->lock, NULL);
	dp->epfd = epoll_create1(EPOLL_CLOEXEC);
	dp->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dp->epfd < 0 || dp->wakefd < 0)
		return -errno;
	ev.data.fd = dp->wakefd;
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
	dp_wake(dp);
}

/* After this returns the data-path thread no longer touches @sw. */
void netd_dp_del_switch(struct netd *d, struct switch_core *sw)
{
	struct netd_dp *dp = &d->dp;

	dp_wake(dp);
	dp_lock(dp);
	for (unsigned int i = 0; i < dp->nsws; i++) {
		if (dp->sws[i] == sw) {
			dp->sws[i] = dp->sws[--dp->nsws];
			break;
		}
	}
	pthread_mutex_unlock(&dp->lock);
}

int netd_dp_watch_fd(struct netd *d, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (fd < 0)
		return 0;
	if (epoll_ctl(d->dp.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	dp_wake(&d->dp);
	return 0;
}

void netd_dp_unwatch_fd(struct netd *d, int fd)
{
	if (fd >= 0)
		epoll_ctl(d->dp.epfd, EPOLL_CTL_DEL, fd, NULL);
}
