/* SPDX-License-Identifier: MIT */
/* loopback.c - loopback port backend: every frame the switch sends it comes back in. */
#include "backends/loopback.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "switch/switch.h"

/*
 * A ring of LOOPBACK_SLOTS slots. send fills at @tail; recv hands out from
 * @next (frames stay in their slots), recv_done frees up to @next by
 * moving @head. So a slot handed out is never overwritten before
 * recv_done, whatever the order of calls. All three run on the data-path
 * thread (port_ops), so no locking.
 */
struct loopback {
	uint8_t *buf; /* LOOPBACK_SLOTS * LOOPBACK_FRAME_MAX */
	uint32_t len[LOOPBACK_SLOTS];
	uint32_t head, next, tail; /* free-running counters */
	int efd;		   /* readable while next != tail */
	bool efd_ready;		   /* its counter is non-zero */
};

static uint8_t *loopback_slot(struct loopback *lb, uint32_t i)
{
	return lb->buf + (size_t)(i % LOOPBACK_SLOTS) * LOOPBACK_FRAME_MAX;
}

/* Keep the eventfd readable exactly while frames wait for recv. */
static void loopback_sync_fd(struct loopback *lb)
{
	bool ready = lb->next != lb->tail;
	uint64_t v = 1;

	if (ready == lb->efd_ready)
		return;
	lb->efd_ready = ready;
	if (ready) {
		if (write(lb->efd, &v, sizeof(v)) < 0)
			return; /* counter full: readable anyway */
	} else if (read(lb->efd, &v, sizeof(v)) < 0) {
		return; /* EAGAIN: not readable anyway */
	}
}

static int loopback_create(const struct port_decl *decl, void **priv,
			   char *err, size_t errlen)
{
	struct loopback *lb = calloc(1, sizeof(*lb));

	if (!lb)
		goto nomem;
	/* calloc of this size maps fresh pages: touched only when used. */
	lb->buf = calloc(LOOPBACK_SLOTS, LOOPBACK_FRAME_MAX);
	if (!lb->buf)
		goto free_lb;
	lb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (lb->efd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "port %s: eventfd: %s", decl->name,
			 strerror(errno));
		free(lb->buf);
		free(lb);
		return ret;
	}
	*priv = lb;
	return 0;
free_lb:
	free(lb);
nomem:
	snprintf(err, errlen, "port %s: out of memory", decl->name);
	return -ENOMEM;
}

static int loopback_open(struct port *port, const void *args)
{
	/* @args: what loopback_create made (tests plug it in by hand). */
	port->priv = (void *)args;
	return port->priv ? 0 : -EINVAL;
}

static int loopback_recv(struct port *port, struct frame_batch *batch)
{
	struct loopback *lb = port->priv;
	int n = 0;

	while (batch->count < FRAME_BATCH_MAX && lb->next != lb->tail) {
		struct frame *f = &batch->f[batch->count++];

		memset(f, 0, sizeof(*f));
		f->data = loopback_slot(lb, lb->next);
		f->len = lb->len[lb->next % LOOPBACK_SLOTS];
		lb->next++;
		n++;
	}
	loopback_sync_fd(lb);
	return n;
}

static void loopback_recv_done(struct port *port, struct frame_batch *batch)
{
	struct loopback *lb = port->priv;

	lb->head = lb->next;
}

static int loopback_send(struct port *port, struct frame_batch *batch)
{
	struct loopback *lb = port->priv;
	int sent = 0;

	for (uint32_t i = 0; i < batch->count; i++) {
		const struct frame *f = &batch->f[i];

		if (lb->tail - lb->head >= LOOPBACK_SLOTS)
			break; /* full: the rest is dropped */
		if (f->len > LOOPBACK_FRAME_MAX || f->off.gso_type)
			continue;
		memcpy(loopback_slot(lb, lb->tail), f->data, f->len);
		lb->len[lb->tail % LOOPBACK_SLOTS] = f->len;
		lb->tail++;
		sent++;
	}
	loopback_sync_fd(lb);
	return sent;
}

static int loopback_poll_fd(struct port *port)
{
	struct loopback *lb = port->priv;

	return lb->efd;
}

static void loopback_close(struct port *port)
{
	struct loopback *lb = port->priv;

	if (!lb)
		return;
	close(lb->efd);
	free(lb->buf);
	free(lb);
	port->priv = NULL;
}

const struct port_ops loopback_port_ops = {
	.name = "loopback",
	.caps = PORT_CAP_POLL_LEVEL,
	.create = loopback_create,
	.open = loopback_open,
	.recv = loopback_recv,
	.recv_done = loopback_recv_done,
	.send = loopback_send,
	.poll_fd = loopback_poll_fd,
	.close = loopback_close,
};
