/* SPDX-License-Identifier: MIT */
/* nic_test_backend.h - a NIC backend for tests: records what a model sends, delivers what a test injects. */
#ifndef LOOM_TESTS_NIC_TEST_BACKEND_H
#define LOOM_TESTS_NIC_TEST_BACKEND_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/net/backend.h"

/*
 * One instance per backend (struct tnb), handed to open through tnb_next.
 * TX: frames committed go to tx[] (the last TNB_FRAMES kept, count in
 * tx_count); @tx_full makes tx_alloc say "no room". RX: tnb_inject()
 * queues a frame (copied) that rx_next hands out in order.
 */
enum { TNB_FRAMES = 32 };

struct tnb_frame {
	uint32_t len;
	struct frame_offload off;
	uint8_t *data;
};

struct tnb {
	uint32_t caps;		/* what open accepts of the model's want */
	bool tx_full;
	uint8_t *tx_room;	/* NIC_FRAME_MAX bytes: where tx_alloc points */
	struct tnb_frame tx[TNB_FRAMES];
	unsigned int tx_count, tx_flushes;
	struct tnb_frame rx[TNB_FRAMES];
	unsigned int rx_head, rx_count, rx_used, rx_flushes;
	struct nic_backend *nb;
	int efd;
};

static struct tnb *tnb_next;

static int tnb_open(struct nic_backend *nb, const struct nic_config *cfg,
		    const char *model, uint32_t want)
{
	struct tnb *t = tnb_next;

	(void)cfg;
	(void)model;
	if (!t)
		return -ENODEV;
	t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->tx_room = malloc(NIC_FRAME_MAX);
	for (int i = 0; i < TNB_FRAMES; i++) {
		t->tx[i].data = malloc(NIC_FRAME_MAX);
		t->rx[i].data = malloc(NIC_FRAME_MAX);
	}
	t->nb = nb;
	nb->priv = t;
	nb->caps = t->caps & want;
	nb->notify_fd = t->efd;
	nb->link_up = true;
	return 0;
}

static void tnb_close(struct nic_backend *nb)
{
	struct tnb *t = nb->priv;

	close(t->efd);
	free(t->tx_room);
	for (int i = 0; i < TNB_FRAMES; i++) {
		free(t->tx[i].data);
		free(t->rx[i].data);
	}
	t->nb = NULL;
}

static void tnb_poll(struct nic_backend *nb)
{
	struct tnb *t = nb->priv;
	uint64_t v;

	if (read(t->efd, &v, sizeof(v)) < 0) {
		/* nothing pending */
	}
}

static uint8_t *tnb_tx_alloc(struct nic_backend *nb, uint32_t len)
{
	struct tnb *t = nb->priv;

	(void)len;
	return t->tx_full ? NULL : t->tx_room;
}

static void tnb_tx_commit(struct nic_backend *nb, uint32_t len,
			  const struct frame_offload *off)
{
	struct tnb *t = nb->priv;
	struct tnb_frame *f = &t->tx[t->tx_count % TNB_FRAMES];

	memcpy(f->data, t->tx_room, len);
	f->len = len;
	f->off = *off;
	t->tx_count++;
}

static void tnb_tx_flush(struct nic_backend *nb)
{
	((struct tnb *)nb->priv)->tx_flushes++;
}

static int tnb_rx_next(struct nic_backend *nb, struct nic_frame *f)
{
	struct tnb *t = nb->priv;
	struct tnb_frame *r;

	if (t->rx_used >= t->rx_count)
		return 0;
	r = &t->rx[(t->rx_head + t->rx_used) % TNB_FRAMES];
	f->data = r->data;
	f->len = r->len;
	f->off = r->off;
	return 1;
}

static void tnb_rx_done(struct nic_backend *nb)
{
	struct tnb *t = nb->priv;

	if (t->rx_used < t->rx_count)
		t->rx_used++;
}

static void tnb_rx_flush(struct nic_backend *nb)
{
	struct tnb *t = nb->priv;

	t->rx_head = (t->rx_head + t->rx_used) % TNB_FRAMES;
	t->rx_count -= t->rx_used;
	t->rx_used = 0;
	t->rx_flushes++;
}

static const struct nic_backend_ops tnb_ops = {
	.name = "test",
	.open = tnb_open,
	.close = tnb_close,
	.poll = tnb_poll,
	.tx_alloc = tnb_tx_alloc,
	.tx_commit = tnb_tx_commit,
	.tx_flush = tnb_tx_flush,
	.rx_next = tnb_rx_next,
	.rx_done = tnb_rx_done,
	.rx_flush = tnb_rx_flush,
};

/* Queue a frame for the model. Return: false if the queue is full. */
static inline bool tnb_inject(struct tnb *t, const void *data, uint32_t len,
			      const struct frame_offload *off)
{
	static const struct frame_offload none;
	struct tnb_frame *r;

	if (t->rx_count == TNB_FRAMES || len > NIC_FRAME_MAX)
		return false;
	r = &t->rx[(t->rx_head + t->rx_count) % TNB_FRAMES];
	memcpy(r->data, data, len);
	r->len = len;
	r->off = off ? *off : none;
	t->rx_count++;
	return true;
}

#endif
