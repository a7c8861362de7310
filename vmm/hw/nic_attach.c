// SPDX-License-Identifier: MIT
/* nic_attach.c - an emulated NIC model on the NIC backend seam: its I/O thread, doorbells, timer, link. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/hw/nic_attach.h"
#include "vmm/net/nic.h"

LOG_MODULE("vmm-nic-attach");

enum { RX_BATCH = 256, RX_RETRY_NS = 2000000 };

struct hw_nic_attach {
	const struct hw_nic_model_ops *ops;
	void *dev;
	struct nic_backend *nb;
	struct nic_config cfg;
	int doorbell_fd, kick_fd, timer_fd, stop_fd;
	int retry_fd;		/* RX retry while the model has no buffers */
	pthread_t thread;
	bool thread_on, listed;
	bool rx_blocked;	/* the model said -EAGAIN: wait for a kick */
	bool tx_again;		/* the backend has room again */
};

static void fd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_rl(LOG_WARN, MOD, "eventfd write: %s", strerror(errno));
}

static bool fd_drain(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v);
}

/* Host callbacks the model calls. */
static int host_tx(void *opaque, const uint8_t *frame, size_t len)
{
	struct hw_nic_attach *a = opaque;
	uint8_t *p;

	if (len < NIC_FRAME_MIN || len > NIC_FRAME_MAX)
		return 0;	/* dropped: the model counted it as sent */
	p = nic_backend_tx_alloc(a->nb, (uint32_t)len);
	if (!p)
		return nic_backend_link_up(a->nb) ? -ENOBUFS : 0;
	memcpy(p, frame, len);
	(void)nic_backend_tx_commit(a->nb, (uint32_t)len, NULL);
	return 0;
}

static void host_tx_doorbell(void *opaque)
{
	fd_signal(((struct hw_nic_attach *)opaque)->doorbell_fd);
}

static void host_rx_kick(void *opaque)
{
	fd_signal(((struct hw_nic_attach *)opaque)->kick_fd);
}

static void host_timer_arm(void *opaque, uint64_t ns)
{
	struct hw_nic_attach *a = opaque;
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(ns / 1000000000u),
			      .tv_nsec = (long)(ns % 1000000000u) },
	};

	if (ns && !its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	if (timerfd_settime(a->timer_fd, 0, &its, NULL))
		log_rl(LOG_WARN, MOD, "timerfd: %s", strerror(errno));
}

static void host_close(void *opaque)
{
	hw_nic_attach_close(opaque);
}

static void ev_rx_ready(void *opaque)
{
	(void)opaque;	/* the round after poll looks at RX anyway */
}

static void ev_tx_ready(void *opaque)
{
	((struct hw_nic_attach *)opaque)->tx_again = true;
}

static void ev_link_changed(void *opaque)
{
	struct hw_nic_attach *a = opaque;

	if (a->ops)
		a->ops->set_link(a->dev, nic_backend_link_up(a->nb));
}

static const struct nic_backend_events attach_events = {
	.rx_ready = ev_rx_ready,
	.tx_ready = ev_tx_ready,
	.link_changed = ev_link_changed,
};

static void arm_retry(struct hw_nic_attach *a)
{
	struct itimerspec its = {
		.it_value = { .tv_nsec = RX_RETRY_NS },
	};

	if (timerfd_settime(a->retry_fd, 0, &its, NULL))
		log_rl(LOG_WARN, MOD, "timerfd: %s", strerror(errno));
}

static void tx_pass(struct hw_nic_attach *a)
{
	a->tx_again = false;
	a->ops->tx_poll(a->dev);
	nic_backend_tx_flush(a->nb);
}

static void rx_pass(struct hw_nic_attach *a)
{
	struct nic_frame f;
	unsigned int n;
	int r;

	for (n = 0; !a->rx_blocked && n < RX_BATCH; n++) {
		if (nic_backend_rx_next(a->nb, &f) <= 0)
			break;
		r = a->ops->receive(a->dev, f.data, f.len, &f.off);
		if (r == -EAGAIN) {
			/*
			 * Stays first in the backend until the guest refills:
			 * its doorbell kicks us; a chip whose driver refills
			 * in memory only (C+ rings) is looked at again soon,
			 * as the real one does when the next frame arrives.
			 */
			a->rx_blocked = true;
			arm_retry(a);
			break;
		}
		nic_backend_rx_done(a->nb);
	}
	nic_backend_rx_flush(a->nb);
	/* A full batch: come back for the rest. */
	if (n == RX_BATCH)
		fd_signal(a->kick_fd);
}

void hw_nic_attach_run(struct hw_nic_attach *a)
{
	bool kicked;

	if (fd_drain(a->timer_fd) && a->ops->timer_fire)
		a->ops->timer_fire(a->dev);
	kicked = fd_drain(a->kick_fd);
	if (fd_drain(a->retry_fd) || kicked)
		a->rx_blocked = false;
	nic_backend_poll(a->nb);
	if (fd_drain(a->doorbell_fd) || a->tx_again)
		tx_pass(a);
	rx_pass(a);
}

static void *attach_thread(void *arg)
{
	struct hw_nic_attach *a = arg;
	struct pollfd pfd[6] = {
		{ .fd = a->doorbell_fd, .events = POLLIN },
		{ .fd = a->kick_fd, .events = POLLIN },
		{ .fd = nic_backend_notify_fd(a->nb), .events = POLLIN },
		{ .fd = a->timer_fd, .events = POLLIN },
		{ .fd = a->retry_fd, .events = POLLIN },
		{ .fd = a->stop_fd, .events = POLLIN },
	};

	for (;;) {
		if (poll(pfd, 6, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err(MOD, "%s: poll: %s", a->cfg.port, strerror(errno));
			return NULL;
		}
		if (pfd[5].revents)
			return NULL;
		hw_nic_attach_run(a);
	}
}

int hw_nic_attach_open(struct hw_nic_attach **out, struct vm *vm,
		       const struct nic_config *cfg, const char *model_name,
		       const struct nic_backend_ops *be_ops,
		       struct hw_nic_host *host)
{
	struct hw_nic_attach *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	a->doorbell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	a->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (a->doorbell_fd < 0 || a->kick_fd < 0 || a->stop_fd < 0 ||
	    a->timer_fd < 0 || a->retry_fd < 0) {
		r = -errno;
		goto err_fds;
	}
	r = be_ops ? nic_backend_open_ops(&a->nb, be_ops, cfg, model_name, 0,
					  &attach_events, a) :
		     nic_backend_open(&a->nb, vm, cfg, model_name, 0,
				      &attach_events, a);
	if (r)
		goto err_fds;
	*host = (struct hw_nic_host){
		.opaque = a,
		.tx = host_tx,
		.tx_doorbell = host_tx_doorbell,
		.rx_kick = host_rx_kick,
		.timer_arm = host_timer_arm,
		.close = host_close,
	};
	*out = a;
	return 0;

err_fds:
	if (a->doorbell_fd >= 0)
		close(a->doorbell_fd);
	if (a->kick_fd >= 0)
		close(a->kick_fd);
	if (a->stop_fd >= 0)
		close(a->stop_fd);
	if (a->timer_fd >= 0)
		close(a->timer_fd);
	if (a->retry_fd >= 0)
		close(a->retry_fd);
	free(a);
	return r;
}

int hw_nic_attach_start(struct hw_nic_attach *a,
			const struct hw_nic_model_ops *ops, void *dev,
			bool threaded)
{
	int r;

	a->ops = ops;
	a->dev = dev;
	ops->set_link(dev, nic_backend_link_up(a->nb));
	if (!nic_list_add(&a->cfg, a->nb))
		a->listed = true;
	if (!threaded)
		return 0;
	r = pthread_create(&a->thread, NULL, attach_thread, a);
	if (r)
		return -r;
	a->thread_on = true;
	return 0;
}

void hw_nic_attach_close(struct hw_nic_attach *a)
{
	if (!a)
		return;
	if (a->thread_on) {
		fd_signal(a->stop_fd);
		pthread_join(a->thread, NULL);
	}
	if (a->listed)
		nic_list_remove(a->nb);
	nic_backend_close(a->nb);
	close(a->doorbell_fd);
	close(a->kick_fd);
	close(a->stop_fd);
	close(a->timer_fd);
	close(a->retry_fd);
	free(a);
}

struct nic_backend *hw_nic_attach_backend(struct hw_nic_attach *a)
{
	return a->nb;
}
