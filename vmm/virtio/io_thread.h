/* SPDX-License-Identifier: MIT */
/* io_thread.h - a virtio device's I/O thread: waits on its queues' kick eventfds (and fds of its own), runs its rounds. */
#ifndef LOOM_VMM_VIRTIO_IO_THREAD_H
#define LOOM_VMM_VIRTIO_IO_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/virtio/virtio.h"

enum { VIRTIO_IO_EXTRA_FDS = 4 };

/*
 * struct virtio_io_thread_ops - what the device's thread does.
 * @queues: bit q set: the thread waits on (and drains) kick_fd[q]; called
 *	before every wait (a queue handed to a kernel worker is left out).
 *	NULL: every queue.
 * @extra_fds: up to VIRTIO_IO_EXTRA_FDS more fds to wait on (the device
 *	drains them in @round); returns how many. NULL: none.
 * @round: one round after a wake-up; return > 0 to run another at once
 *	(each round is bounded by the ring sizes), else 0 or -errno.
 */
struct virtio_io_thread_ops {
	uint32_t (*queues)(void *arg);
	unsigned int (*extra_fds)(void *arg, int *fds);
	int (*round)(void *arg);
};

/*
 * struct virtio_io_thread - embed one per device; virtio_io_thread_init()
 * before anything else, virtio_io_thread_destroy() last.
 */
struct virtio_io_thread {
	struct virtio_dev *vdev;
	const struct virtio_io_thread_ops *ops;
	void *arg;
	pthread_t thread;
	bool on;
	bool stopping; /* atomic: stop() waits for the thread */
	int stop_fd;
};

/* virtio_io_thread_init() - the stop eventfd. Return: 0 or -errno. */
int virtio_io_thread_init(struct virtio_io_thread *t, struct virtio_dev *vdev,
			  const struct virtio_io_thread_ops *ops, void *arg);
/* virtio_io_thread_start() - run it; kicks then come by ioeventfd
 * (vdev->kick_by_fd). Return: 0 or -errno. */
int virtio_io_thread_start(struct virtio_io_thread *t);
/* virtio_io_thread_stop() - stop and join it (no-op if not running). */
void virtio_io_thread_stop(struct virtio_io_thread *t);
void virtio_io_thread_destroy(struct virtio_io_thread *t);
/* virtio_io_thread_kick() - from queue_notify: wake the thread for @q.
 * Return: false when no thread runs (the caller processes inline). */
bool virtio_io_thread_kick(struct virtio_io_thread *t, unsigned int q);

#endif
