/* SPDX-License-Identifier: MIT */
/* io_thread.c - a virtio device's I/O thread: kick eventfds and extra fds in, the device's rounds out. */
#include "vmm/virtio/io_thread.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

LOG_MODULE("virtio-io");

int virtio_io_thread_init(struct virtio_io_thread *t, struct virtio_dev *vdev,
			  const struct virtio_io_thread_ops *ops, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->vdev = vdev;
	t->ops = ops;
	t->arg = arg;
	t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return t->stop_fd < 0 ? -errno : 0;
}

static void *io_thread_main(void *arg)
{
	struct virtio_io_thread *t = arg;
	struct virtio_dev *vdev = t->vdev;
	struct pollfd pfd[VIRTIO_MAX_QUEUES + VIRTIO_IO_EXTRA_FDS + 1];
	int qidx[VIRTIO_MAX_QUEUES];
	uint64_t v;

	for (;;) {
		uint32_t mask = t->ops->queues ? t->ops->queues(t->arg) :
						 UINT32_MAX;
		int extra[VIRTIO_IO_EXTRA_FDS];
		unsigned int n = 0, nq, ne = 0;

		for (unsigned int q = 0; q < vdev->nr_queues; q++)
			if (mask & (1u << q)) {
				qidx[n] = (int)q;
				pfd[n++] = (struct pollfd){
					.fd = vdev->kick_fd[q], .events = POLLIN
				};
			}
		nq = n;
		if (t->ops->extra_fds)
			ne = t->ops->extra_fds(t->arg, extra);
		for (unsigned int i = 0; i < ne && i < VIRTIO_IO_EXTRA_FDS; i++)
			pfd[n++] = (struct pollfd){ .fd = extra[i],
						    .events = POLLIN };
		pfd[n] = (struct pollfd){ .fd = t->stop_fd, .events = POLLIN };
		if (poll(pfd, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err(MOD, "%s: poll: %s", vdev->name,
				strerror(errno));
			return NULL;
		}
		if (pfd[n].revents)
			return NULL;
		for (unsigned int i = 0; i < nq; i++)
			if (pfd[i].revents & POLLIN &&
			    read(vdev->kick_fd[qidx[i]], &v, sizeof(v)) < 0)
				continue;
		/* Rounds until idle; each is bounded by the ring sizes, and
		 * a stop ends them (the teardown waits for this thread). */
		while (!__atomic_load_n(&t->stopping, __ATOMIC_ACQUIRE) &&
		       t->ops->round(t->arg) > 0)
			;
	}
}

int virtio_io_thread_start(struct virtio_io_thread *t)
{
	int ret;

	if (t->on)
		return 0;
	ret = pthread_create(&t->thread, NULL, io_thread_main, t);
	if (ret)
		return -ret;
	t->on = true;
	t->vdev->kick_by_fd = true;
	return 0;
}

void virtio_io_thread_stop(struct virtio_io_thread *t)
{
	uint64_t one = 1;

	if (!t->on)
		return;
	__atomic_store_n(&t->stopping, true, __ATOMIC_RELEASE);
	if (write(t->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(t->thread, NULL);
	t->on = false;
}

void virtio_io_thread_destroy(struct virtio_io_thread *t)
{
	virtio_io_thread_stop(t);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	t->stop_fd = -1;
}

bool virtio_io_thread_kick(struct virtio_io_thread *t, unsigned int q)
{
	uint64_t one = 1;

	if (!t->on)
		return false;
	if (write(t->vdev->kick_fd[q], &one, sizeof(one)) < 0)
		log_rl(LOG_WARN, MOD, "%s: kick: %s", t->vdev->name,
		       strerror(errno));
	return true;
}
