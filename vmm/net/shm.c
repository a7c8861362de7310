/* SPDX-License-Identifier: MIT */
/* shm.c - NIC backend: a shared-memory port on loom-netd's switch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/shm_peer.h"
#include "loom/control.h"
#include "vmm/net/backend.h"
#include "vmm/net/netd_conn.h"
#include "common/shm_sock.h"

LOG_MODULE("nic-shm");

enum {
	SHM_ATTACH_TIMEOUT_MS = 2000,
};

/*
 * struct nic_shm - one attached port. @sock stays open after the
 * handshake: netd closes it when the port goes (netd exits, the port is
 * deleted), which is how the link-down is seen. @epfd is the notify fd:
 * it holds the kick eventfd, @sock and the retry timer.
 */
struct nic_shm {
	struct shm_peer peer;
	bool attached;
	int sock;
	int epfd;
	struct nic_backoff retry;
	struct shm_attach_req req;
	char path[NETD_CONN_PATH_MAX];
	/* RX: frames peeked, and how many the model consumed of them. */
	uint32_t rx_avail;
	uint32_t rx_used;
	bool tx_waiting; /* tx_alloc found no room: netd kicks on release */
	bool netd_down;	 /* netd holds the link down (SHM_LINK_F_DOWN) */
};

static enum shm_nic_model nic_shm_model(const char *name)
{
	if (!strcmp(name, "virtio"))
		return SHM_NIC_VIRTIO_NET;
	if (!strcmp(name, "e1000"))
		return SHM_NIC_E1000;
	if (!strcmp(name, "rtl8139"))
		return SHM_NIC_RTL8139;
	if (!strcmp(name, "rtl8139c"))
		return SHM_NIC_RTL8139C;
	return SHM_NIC_OTHER;
}

static uint64_t nic_shm_features(uint32_t want)
{
	uint64_t f = 0;

	if (want & NIC_OFF_CSUM)
		f |= SHM_F_CSUM;
	if (want & NIC_OFF_GSO_TCP)
		f |= SHM_F_GSO_TCP;
	if (want & NIC_OFF_GSO_UDP)
		f |= SHM_F_GSO_UDP;
	if (want & NIC_OFF_GSO_ECN)
		f |= SHM_F_GSO_ECN;
	return f;
}

static uint32_t nic_shm_caps(uint64_t f)
{
	uint32_t c = 0;

	if (f & SHM_F_CSUM)
		c |= NIC_OFF_CSUM;
	if (f & SHM_F_GSO_TCP)
		c |= NIC_OFF_GSO_TCP;
	if (f & SHM_F_GSO_UDP)
		c |= NIC_OFF_GSO_UDP;
	if (f & SHM_F_GSO_ECN)
		c |= NIC_OFF_GSO_ECN;
	return c;
}

static int nic_shm_epoll_add(int epfd, int fd, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) ? -errno : 0;
}

/* Connect, attach, keep the socket; on success the port is up. */
static int nic_shm_attach(struct nic_backend *nb, struct nic_shm *s)
{
	int sock = shm_sock_connect(s->path), ret;

	if (sock < 0)
		return sock;
	ret = shm_peer_attach(sock, &s->req, SHM_ATTACH_TIMEOUT_MS, &s->peer);
	if (ret)
		goto close_sock;
	ret = nic_shm_epoll_add(s->epfd, s->peer.kick_peer, EPOLLIN);
	if (!ret)
		ret = nic_shm_epoll_add(s->epfd, sock, EPOLLIN | EPOLLRDHUP);
	if (ret)
		goto close_peer;
	s->sock = sock;
	s->attached = true;
	s->rx_avail = s->rx_used = 0;
	s->tx_waiting = false;
	s->netd_down = shm_header_link_down(s->peer.base);
	nb->caps = nic_shm_caps(s->peer.layout.features);
	return 0;

close_peer:
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->peer.kick_peer, NULL);
	shm_peer_close(&s->peer);
close_sock:
	close(sock);
	return ret;
}

static void nic_shm_detach(struct nic_shm *s)
{
	if (!s->attached)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->peer.kick_peer, NULL);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->sock, NULL);
	shm_peer_close(&s->peer);
	close(s->sock);
	s->sock = -1;
	s->attached = false;
}

/* The port is gone or broken: link down, try again later. */
static void nic_shm_lost(struct nic_backend *nb, const char *why)
{
	struct nic_shm *s = nb->priv;

	if (!s->attached)
		return;
	log_warn(MOD, "%s on %s: %s; re-attaching", nb->cfg.port, nb->cfg.net,
		 why);
	nic_shm_detach(s);
	nic_backoff_start(&s->retry);
	nic_backend_set_link(nb, false);
}

static int nic_shm_open(struct nic_backend *nb, const struct nic_config *cfg,
			const char *model_name, uint32_t want)
{
	struct nic_shm *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->sock = -1;
	ret = netd_conn_path(cfg, s->path, sizeof(s->path));
	if (ret)
		goto free_s;
	ret = shm_attach_req_init(&s->req, cfg->net, cfg->mac,
				  nic_shm_model(model_name),
				  nic_shm_features(want));
	if (!ret && cfg->port[0])
		ret = shm_attach_req_set_port(&s->req, cfg->port);
	if (ret)
		goto free_s;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		ret = -errno;
		goto free_s;
	}
	ret = nic_backoff_init(&s->retry);
	if (ret)
		goto close_ep;
	ret = nic_shm_epoll_add(s->epfd, s->retry.fd, EPOLLIN);
	if (ret)
		goto close_timer;
	ret = nic_shm_attach(nb, s);
	if (ret)
		goto close_timer;
	nb->priv = s;
	nb->notify_fd = s->epfd;
	nb->link_up = !s->netd_down;
	return 0;

close_timer:
	nic_backoff_close(&s->retry);
close_ep:
	close(s->epfd);
free_s:
	free(s);
	return ret;
}

static void nic_shm_close(struct nic_backend *nb)
{
	struct nic_shm *s = nb->priv;

	nic_shm_detach(s);
	nic_backoff_close(&s->retry);
	close(s->epfd);
	free(s);
}

static void nic_shm_retry(struct nic_backend *nb, struct nic_shm *s)
{
	int ret;

	if (!nic_backoff_due(&s->retry) || s->attached)
		return;
	ret = nic_shm_attach(nb, s);
	if (ret) {
		log_rl(LOG_INFO, MOD, "%s: re-attach to %s: %s", nb->cfg.port,
		       nb->cfg.net, strerror(-ret));
		nic_backoff_again(&s->retry);
		return;
	}
	nb->st.reconnects++;
	nic_backend_set_link(nb, !s->netd_down);
	nic_backend_signal_rx(nb);
	nic_backend_signal_tx(nb);
}

/*
 * netd set the link down or up (the header word, then a kick). Frames
 * queued for the guest before the link went down are dropped, as a NIC
 * without carrier would: they must not arrive when it comes back.
 */
static void nic_shm_link_check(struct nic_backend *nb, struct nic_shm *s)
{
	bool down = shm_header_link_down(s->peer.base);
	int n;

	if (down == s->netd_down)
		return;
	s->netd_down = down;
	if (down) {
		/* Everything not yet released, whether peeked or not. */
		n = shm_cons_peek(&s->peer.rx);
		if (n > 0)
			shm_peer_release(&s->peer, (uint32_t)n);
		s->rx_avail = s->rx_used = 0;
	}
	nic_backend_set_link(nb, !down);
}

static void nic_shm_poll(struct nic_backend *nb)
{
	struct nic_shm *s = nb->priv;
	struct epoll_event ev[4];
	bool kicked = false;
	int n;

	n = epoll_wait(s->epfd, ev, 4, 0);
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;

		if (fd == s->retry.fd) {
			nic_shm_retry(nb, s);
		} else if (s->attached && fd == s->sock) {
			char buf[64];
			ssize_t r = recv(s->sock, buf, sizeof(buf),
					 MSG_DONTWAIT);

			if (r == 0 || (r < 0 && errno != EAGAIN &&
				       errno != EINTR) ||
			    (ev[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
				nic_shm_lost(nb, "netd closed the port");
		} else if (s->attached && fd == s->peer.kick_peer) {
			shm_drain(s->peer.kick_peer);
			kicked = true;
		}
	}
	if (!kicked || !s->attached)
		return;
	nic_shm_link_check(nb, s);
	/* One eventfd for both rings: frames arrived, or room came back. */
	if (s->peer.rx.armed)
		shm_cons_disarm(&s->peer.rx);
	nic_backend_signal_rx(nb);
	if (s->tx_waiting) {
		s->tx_waiting = false;
		shm_prod_disarm(&s->peer.tx);
		nic_backend_signal_tx(nb);
	}
}

static uint8_t *nic_shm_tx_alloc(struct nic_backend *nb, uint32_t len)
{
	struct nic_shm *s = nb->priv;
	uint8_t *p;

	if (!s->attached)
		return NULL;
	p = shm_prod_alloc(&s->peer.tx, len);
	if (p)
		return p;
	if (s->peer.tx.broken) {
		nic_shm_lost(nb, "netd broke the ring protocol");
		return NULL;
	}
	/* Full: publish what we have, ask for a kick when room comes. */
	shm_peer_flush(&s->peer);
	if (!shm_prod_arm(&s->peer.tx, 1)) {
		p = shm_prod_alloc(&s->peer.tx, len);
		if (p)
			return p;
	}
	s->tx_waiting = true;
	return NULL;
}

static void nic_shm_tx_commit(struct nic_backend *nb, uint32_t len,
			      const struct frame_offload *off)
{
	struct nic_shm *s = nb->priv;
	struct shm_desc d = {
		.len = len,
		.vnet_flags = off->flags,
		.gso_type = off->gso_type,
		.hdr_len = off->hdr_len,
		.gso_size = off->gso_size,
		.csum_start = off->csum_start,
		.csum_offset = off->csum_offset,
	};

	shm_prod_commit(&s->peer.tx, &d);
}

static void nic_shm_tx_flush(struct nic_backend *nb)
{
	struct nic_shm *s = nb->priv;

	if (s->attached)
		shm_peer_flush(&s->peer);
}

static void nic_shm_rx_flush(struct nic_backend *nb)
{
	struct nic_shm *s = nb->priv;

	if (!s->attached || !s->rx_used)
		return;
	shm_peer_release(&s->peer, s->rx_used);
	s->rx_avail -= s->rx_used;
	s->rx_used = 0;
}

static int nic_shm_rx_next(struct nic_backend *nb, struct nic_frame *f)
{
	struct nic_shm *s = nb->priv;
	enum shm_violation why;
	struct shm_desc d;
	const uint8_t *p;
	int n;

	if (!s->attached)
		return 0;
	if (s->rx_used == s->rx_avail) {
		nic_shm_rx_flush(nb);
		n = shm_cons_peek(&s->peer.rx);
		if (n == 0 && !shm_cons_arm(&s->peer.rx))
			n = shm_cons_peek(&s->peer.rx);
		if (n < 0) {
			nic_shm_lost(nb, "netd moved its ring index illegally");
			return -EPROTO;
		}
		if (n == 0)
			return 0;
		if (s->peer.rx.armed)
			shm_cons_disarm(&s->peer.rx);
		s->rx_avail = (uint32_t)n;
	}
	p = shm_cons_get(&s->peer.rx, s->rx_used, &d, &why);
	if (!p) {
		nic_shm_lost(nb, shm_violation_str(why));
		return -EPROTO;
	}
	f->data = p;
	f->len = d.len;
	f->off = (struct frame_offload){
		.flags = d.vnet_flags,
		.gso_type = d.gso_type,
		.hdr_len = d.hdr_len,
		.gso_size = d.gso_size,
		.csum_start = d.csum_start,
		.csum_offset = d.csum_offset,
	};
	return 1;
}

static void nic_shm_rx_done(struct nic_backend *nb)
{
	struct nic_shm *s = nb->priv;

	if (s->attached && s->rx_used < s->rx_avail)
		s->rx_used++;
}

const struct nic_backend_ops nic_shm_ops = {
	.name = "shm",
	.open = nic_shm_open,
	.close = nic_shm_close,
	.poll = nic_shm_poll,
	.tx_alloc = nic_shm_tx_alloc,
	.tx_commit = nic_shm_tx_commit,
	.tx_flush = nic_shm_tx_flush,
	.rx_next = nic_shm_rx_next,
	.rx_done = nic_shm_rx_done,
	.rx_flush = nic_shm_rx_flush,
};
