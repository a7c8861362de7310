/* SPDX-License-Identifier: MIT */
/* test_switch_port.c - test port backend: injects frames, records sends. */
#include "tests/unit/test_switch_port.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int tport_open(struct port *port, const void *args)
{
	struct tport *tp = (struct tport *)args;

	if (tp->open_error)
		return tp->open_error;
	port->priv = tp;
	return 0;
}

static int tport_recv(struct port *port, struct frame_batch *batch)
{
	struct tport *tp = port->priv;
	int n = 0;

	tp->recv_calls++;
	if (tp->recv_error)
		return tp->recv_error;
	while (batch->count < FRAME_BATCH_MAX &&
	       tp->inject_pos < tp->n_inject) {
		batch->f[batch->count++] = tp->inject[tp->inject_pos++];
		n++;
	}
	return n;
}

static void tport_recv_done(struct port *port, struct frame_batch *batch)
{
	struct tport *tp = port->priv;

	(void)batch;
	tp->recv_done_calls++;
}

static int tport_send(struct port *port, struct frame_batch *batch)
{
	struct tport *tp = port->priv;
	uint32_t i, n = batch->count;

	tp->send_calls++;
	tp->last_send_count = n;
	if (tp->send_limit >= 0 && n > (uint32_t)tp->send_limit)
		n = (uint32_t)tp->send_limit;
	for (i = 0; i < n && tp->n_rec < TPORT_REC_MAX; i++) {
		struct tport_rec *r = &tp->rec[tp->n_rec++];
		const struct frame *f = &batch->f[i];

		r->data = malloc(f->len ? f->len : 1);
		memcpy(r->data, f->data, f->len);
		r->len = f->len;
		r->vlan = f->vlan;
		r->off = f->off;
		r->orig = f->data;
	}
	return (int)n;
}

static int tport_poll_fd(struct port *port)
{
	(void)port;
	return -1;
}

static void tport_tick(struct port *port)
{
	struct tport *tp = port->priv;

	tp->ticks++;
}

static void tport_close(struct port *port)
{
	struct tport *tp = port->priv;

	if (tp)
		tp->closed++;
}

const struct port_ops tport_ops = {
    .name = "test",
    .open = tport_open,
    .recv = tport_recv,
    .recv_done = tport_recv_done,
    .send = tport_send,
    .poll_fd = tport_poll_fd,
    .tick = tport_tick,
    .close = tport_close,
};

struct tport *tport_new(void)
{
	struct tport *tp = calloc(1, sizeof(*tp));

	if (tp)
		tp->send_limit = -1;
	return tp;
}

void tport_clear(struct tport *tp)
{
	uint32_t i;

	for (i = 0; i < tp->n_rec; i++)
		free(tp->rec[i].data);
	tp->n_rec = 0;
	tp->send_calls = 0;
	tp->last_send_count = 0;
}

void tport_free(struct tport *tp)
{
	uint32_t i;

	if (!tp)
		return;
	tport_clear(tp);
	for (i = 0; i < tp->n_inject; i++)
		free(tp->inject[i].data);
	free(tp);
}

void tport_inject(struct tport *tp, const void *data, uint32_t len)
{
	struct frame *f;

	if (tp->n_inject >= TPORT_INJECT_MAX)
		return;
	f = &tp->inject[tp->n_inject++];
	memset(f, 0, sizeof(*f));
	f->data = malloc(len ? len : 1);
	memcpy(f->data, data, len);
	f->len = len;
}
