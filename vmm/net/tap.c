/* SPDX-License-Identifier: MIT */
/* tap.c - NIC backend: a TAP or macvtap fd loom-netd made for this NIC (nic.open), read and written from userspace. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "loom/control.h"
#include "vmm/net/backend.h"
#include "vmm/net/netd_conn.h"
#include "common/shm_sock.h"

LOG_MODULE("nic-tap");

/*
 * netd owns the device (netd/kport.c): it makes it when asked with
 * nic.open on a connection of its own, passes the fd with the reply, and
 * removes the device when that connection closes. So this backend keeps
 * the connection open for the NIC's life; EOF on it (netd died, the
 * network went) is link down, and it asks again with back-off, like the
 * shm backend.
 *
 * Frames are read and written with the 12-byte vnet header (virtio 1.0
 * layout, TUNSETVNETHDRSZ), so checksum and TSO offloads pass through
 * unchanged both ways; TUNSETOFFLOAD follows what the guest's driver
 * takes (nic_backend_set_rx_offload). A virtio-net NIC that can hand its
 * queues to vhost-net takes the fd itself (nic_backend_kernel_fd) and this
 * backend then only watches the connection.
 *
 * Waiting: the TAP fd is level-triggered; it is taken out of the notify
 * fd's set after a wake-up and put back when a read finds it empty, so a
 * model that stopped for want of guest buffers does not spin.
 */

enum {
	TAP_HDR_LEN = 12,
	/* netd makes the device while we wait: a TAP or macvtap, netlink
	 * set-up, the bridge; in a slow nested L1 that took over 2 s. */
	TAP_OPEN_TIMEOUT_MS = 15000,
	TAP_REPLY_MAX = 4096,
};

struct nic_tap {
	int sock;	/* the nic.open connection, -1 while detached */
	int fd;		/* the TAP / macvtap, -1 while detached */
	int epfd;	/* notify fd: sock, fd (while armed), timer */
	struct nic_backoff retry;
	bool rx_armed;
	bool tx_waiting; /* a frame waits in @tx for room */
	uint32_t tx_len;  /* its length, 0: none */
	uint32_t rx_len;  /* a frame read and not consumed, 0: none */
	uint32_t rx_offload; /* enum nic_offload bits TUNSETOFFLOAD has */
	char ifname[16];
	char path[NETD_CONN_PATH_MAX];
	uint8_t rx[TAP_HDR_LEN + NIC_FRAME_MAX];
	uint8_t tx[TAP_HDR_LEN + NIC_FRAME_MAX];
};

static int tap_epoll(int epfd, int op, int fd, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.fd = fd };

	return epoll_ctl(epfd, op, fd, &e) ? -errno : 0;
}

static void tap_rx_arm(struct nic_tap *t, bool on)
{
	if (t->fd < 0 || t->rx_armed == on)
		return;
	if (!tap_epoll(t->epfd, EPOLL_CTL_MOD, t->fd,
		       (on ? EPOLLIN : 0) | (t->tx_waiting ? EPOLLOUT : 0)))
		t->rx_armed = on;
}

static void tap_tx_arm(struct nic_tap *t, bool on)
{
	t->tx_waiting = on;
	tap_epoll(t->epfd, EPOLL_CTL_MOD, t->fd,
		  (t->rx_armed ? EPOLLIN : 0) | (on ? EPOLLOUT : 0));
}

static unsigned int tap_tun_flags(uint32_t bits)
{
	unsigned int f = 0;

	if (bits & NIC_OFF_CSUM) {
		f |= TUN_F_CSUM;
		if (bits & NIC_OFF_GSO_TCP)
			f |= TUN_F_TSO4 | TUN_F_TSO6;
		if ((bits & NIC_OFF_GSO_TCP) && (bits & NIC_OFF_GSO_ECN))
			f |= TUN_F_TSO_ECN;
	}
	return f;
}

static int tap_offload_apply(struct nic_tap *t, uint32_t bits)
{
	if (ioctl(t->fd, TUNSETOFFLOAD, tap_tun_flags(bits)) < 0)
		return -errno;
	t->rx_offload = bits;
	return 0;
}

/* Send the framed request; read the reply and the fd passed with it. */
static int tap_request(int sock, json_t *req, json_t **reply, int *fd)
{
	char *text = json_dumps(req, JSON_COMPACT), body[TAP_REPLY_MAX];
	uint32_t be, len;
	int ret, n;

	*fd = -1;
	if (!text)
		return -ENOMEM;
	len = (uint32_t)strlen(text);
	be = htonl(len);
	ret = shm_msg_send(sock, &be, 4, NULL, 0);
	if (!ret)
		ret = shm_msg_send(sock, text, len, NULL, 0);
	free(text);
	if (ret)
		return ret;
	/* The fd comes with the reply's first bytes (none with an error). */
	n = shm_msg_recv(sock, &be, 4, fd, 1, TAP_OPEN_TIMEOUT_MS);
	if (n < 0)
		return n;
	if (!n)
		*fd = -1;
	len = ntohl(be);
	ret = !len || len >= sizeof(body) ? -EPROTO :
	      shm_msg_recv(sock, body, len, NULL, 0, TAP_OPEN_TIMEOUT_MS);
	*reply = ret < 0 ? NULL : json_loadb(body, len, 0, NULL);
	if (*reply)
		return 0;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return ret < 0 ? ret : -EPROTO;
}

static json_t *tap_request_new(const struct nic_config *cfg,
			       const char *model)
{
	char mac[18];
	json_t *args;

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", cfg->mac[0],
		 cfg->mac[1], cfg->mac[2], cfg->mac[3], cfg->mac[4],
		 cfg->mac[5]);
	args = json_pack("{s:s,s:s,s:s}", "port", cfg->port, "mac", mac,
			 "model", model);
	if (!args)
		return NULL;
	if (cfg->macvtap[0]) {
		json_object_set_new(args, "macvtap", json_string(cfg->macvtap));
		if (cfg->macvtap_mode[0])
			json_object_set_new(args, "mode",
					    json_string(cfg->macvtap_mode));
	} else {
		json_object_set_new(args, "net", json_string(cfg->net));
	}
	if (cfg->vlan)
		json_object_set_new(args, "vlan", json_integer(cfg->vlan));
	return json_pack("{s:i,s:s,s:o}", "id", 1, "cmd", LOOM_CMD_NIC_OPEN,
			 "args", args);
}

/* netd's refusal as an errno; "use shm" is -EPROTONOSUPPORT. */
static int tap_reply_errno(json_t *reply, const char **msg)
{
	json_t *e = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(e, "code"));

	*msg = json_string_value(json_object_get(e, "message"));
	if (!*msg)
		*msg = "no message";
	if (!code)
		return -EPROTO;
	if (!strcmp(code, LOOM_ERR_OPNOTSUPP) || !strcmp(code, LOOM_ERR_NOSYS))
		return -EPROTONOSUPPORT;
	if (!strcmp(code, LOOM_ERR_NOENT))
		return -ENOENT;
	if (!strcmp(code, LOOM_ERR_PERM))
		return -EPERM;
	if (!strcmp(code, LOOM_ERR_EXIST))
		return -EEXIST;
	return strcmp(code, LOOM_ERR_INVAL) ? -EIO : -EINVAL;
}

/* Ask netd for the device; on success the link is up. */
static int tap_attach(struct nic_backend *nb, struct nic_tap *t,
		      const char *model, bool quiet)
{
	int sock, fd = -1, hdr = TAP_HDR_LEN, ret;
	json_t *req, *reply = NULL;
	const char *msg;

	sock = shm_sock_connect(t->path);
	if (sock < 0)
		return sock;
	req = tap_request_new(&nb->cfg, model);
	ret = req ? tap_request(sock, req, &reply, &fd) : -ENOMEM;
	json_decref(req);
	if (ret)
		goto close_sock;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		ret = tap_reply_errno(reply, &msg);
		if (ret != -EPROTONOSUPPORT && !quiet)
			log_err(MOD, "%s: netd: %s", nb->cfg.port, msg);
		goto close_sock;
	}
	ret = -EPROTO;
	if (fd < 0) {
		log_err(MOD, "%s: netd's reply came without the fd",
			nb->cfg.port);
		goto close_sock;
	}
	snprintf(t->ifname, sizeof(t->ifname), "%s",
		 json_string_value(json_object_get(
			 json_object_get(reply, "result"), "ifname")) ?: "?");
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		ret = -errno;
		log_err(MOD, "%s: TUNSETVNETHDRSZ: %s", t->ifname,
			strerror(errno));
		goto close_fd;
	}
	t->fd = fd;
	/* Until the driver says what it takes, nothing it might refuse. */
	if (tap_offload_apply(t, t->rx_offload))
		tap_offload_apply(t, 0);
	t->rx_armed = true;
	ret = tap_epoll(t->epfd, EPOLL_CTL_ADD, fd, EPOLLIN);
	if (!ret)
		ret = tap_epoll(t->epfd, EPOLL_CTL_ADD, sock,
				EPOLLIN | EPOLLRDHUP);
	if (ret) {
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
		t->fd = -1;
		goto close_fd;
	}
	t->sock = sock;
	t->rx_len = t->tx_len = 0;
	t->tx_waiting = false;
	json_decref(reply);
	log_info(MOD, "%s: on %s (%s)", nb->cfg.port, t->ifname,
		 nb->cfg.macvtap[0] ? "macvtap" : "TAP on the bridge");
	return 0;

close_fd:
	close(fd);
close_sock:
	json_decref(reply);
	close(sock);
	return ret;
}

static void tap_detach(struct nic_tap *t)
{
	if (t->sock < 0)
		return;
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, t->fd, NULL);
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, t->sock, NULL);
	close(t->fd);
	close(t->sock);
	t->fd = t->sock = -1;
}

static void tap_lost(struct nic_backend *nb, const char *why)
{
	struct nic_tap *t = nb->priv;

	if (t->sock < 0)
		return;
	log_warn(MOD, "%s on %s: %s; asking netd again", nb->cfg.port,
		 t->ifname, why);
	tap_detach(t);
	nic_backoff_start(&t->retry);
	nic_backend_set_link(nb, false);
}

static int tap_open(struct nic_backend *nb, const struct nic_config *cfg,
		    const char *model_name, uint32_t want)
{
	struct nic_tap *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	t->sock = t->fd = t->retry.fd = -1;
	ret = netd_conn_path(cfg, t->path, sizeof(t->path));
	if (ret)
		goto free_t;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0) {
		ret = -errno;
		goto free_t;
	}
	ret = nic_backoff_init(&t->retry);
	if (!ret)
		ret = tap_epoll(t->epfd, EPOLL_CTL_ADD, t->retry.fd, EPOLLIN);
	if (ret)
		goto close_fds;
	/* A TAP takes checksum and TCP segmentation offloads both ways. */
	nb->caps = want & (NIC_OFF_CSUM | NIC_OFF_GSO_TCP | NIC_OFF_GSO_ECN);
	t->rx_offload = nb->caps;
	nb->priv = t;
	ret = tap_attach(nb, t, model_name, false);
	if (ret)
		goto close_fds;
	nb->notify_fd = t->epfd;
	nb->link_up = true;
	return 0;

close_fds:
	nic_backoff_close(&t->retry);
	close(t->epfd);
free_t:
	nb->priv = NULL;
	free(t);
	return ret;
}

static void tap_close(struct nic_backend *nb)
{
	struct nic_tap *t = nb->priv;

	tap_detach(t);
	nic_backoff_close(&t->retry);
	close(t->epfd);
	free(t);
}

static void tap_retry(struct nic_backend *nb, struct nic_tap *t)
{
	int ret;

	if (!nic_backoff_due(&t->retry) || t->sock >= 0)
		return;
	ret = tap_attach(nb, t, nb->cfg.model, true);
	if (ret) {
		log_rl(LOG_INFO, MOD, "%s: asking netd again: %s",
		       nb->cfg.port, strerror(-ret));
		nic_backoff_again(&t->retry);
		return;
	}
	nb->st.reconnects++;
	nic_backend_set_link(nb, true);
}

/* Write the frame in t->tx, if any. Return: 0 sent (or dropped), -EAGAIN. */
static int tap_tx_write(struct nic_backend *nb, struct nic_tap *t)
{
	ssize_t n;

	if (!t->tx_len)
		return 0;
	n = write(t->fd, t->tx, TAP_HDR_LEN + t->tx_len);

	if (n < 0 && (errno == EAGAIN || errno == ENOBUFS))
		return -EAGAIN;
	if (n < 0) {
		nb->st.tx_dropped++;
		log_rl(LOG_WARN, MOD, "%s: write: %s", t->ifname,
		       strerror(errno));
		if (errno == EBADFD || errno == EIO || errno == ENXIO)
			tap_lost(nb, "the device went away");
	}
	t->tx_len = 0;
	return 0;
}

static void tap_poll(struct nic_backend *nb)
{
	struct nic_tap *t = nb->priv;
	struct epoll_event ev[4];
	int n = epoll_wait(t->epfd, ev, 4, 0);

	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;

		if (fd == t->retry.fd) {
			tap_retry(nb, t);
		} else if (t->sock >= 0 && fd == t->sock) {
			char buf[64];
			ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (r == 0 || (r < 0 && errno != EAGAIN &&
				       errno != EINTR) ||
			    (ev[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
				tap_lost(nb, "netd closed the port");
		} else if (t->fd >= 0 && fd == t->fd) {
			if (ev[i].events & EPOLLIN) {
				tap_rx_arm(t, false);
				nic_backend_signal_rx(nb);
			}
			if (t->fd >= 0 && (ev[i].events & EPOLLOUT) &&
			    t->tx_waiting && tap_tx_write(nb, t) == 0) {
				if (t->fd >= 0)
					tap_tx_arm(t, false);
				nic_backend_signal_tx(nb);
			}
		}
	}
}

static uint8_t *tap_tx_alloc(struct nic_backend *nb, uint32_t len)
{
	struct nic_tap *t = nb->priv;

	if (t->fd < 0)
		return NULL;
	if (t->tx_len && tap_tx_write(nb, t) == -EAGAIN) {
		if (!t->tx_waiting)
			tap_tx_arm(t, true);
		return NULL;
	}
	return t->fd >= 0 ? t->tx + TAP_HDR_LEN : NULL;
}

static void tap_tx_commit(struct nic_backend *nb, uint32_t len,
			  const struct frame_offload *off)
{
	struct nic_tap *t = nb->priv;
	uint8_t *h = t->tx;

	memset(h, 0, TAP_HDR_LEN);
	h[0] = off->flags;
	h[1] = off->gso_type;
	memcpy(h + 2, &off->hdr_len, 2);	/* little-endian host */
	memcpy(h + 4, &off->gso_size, 2);
	memcpy(h + 6, &off->csum_start, 2);
	memcpy(h + 8, &off->csum_offset, 2);
	t->tx_len = len;
	if (tap_tx_write(nb, t) == -EAGAIN && !t->tx_waiting && t->fd >= 0)
		tap_tx_arm(t, true);
}

static void tap_tx_flush(struct nic_backend *nb)
{
	(void)nb; /* every frame is written at commit */
}

/* Read the next frame into t->rx. Return: 1, 0 (none), -EIO. */
static int tap_rx_read(struct nic_backend *nb, struct nic_tap *t)
{
	/* Bounded: short frames are skipped, a ring's worth at most. */
	for (int budget = 256; budget; budget--) {
		ssize_t n = read(t->fd, t->rx, sizeof(t->rx));

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			tap_rx_arm(t, true);
			return 0;
		}
		if (n < 0) {
			tap_lost(nb, strerror(errno));
			return -EIO;
		}
		if (n >= TAP_HDR_LEN + NIC_FRAME_MIN) {
			t->rx_len = (uint32_t)(n - TAP_HDR_LEN);
			return 1;
		}
		log_rl(LOG_WARN, MOD, "%s: short frame (%zd bytes)", t->ifname,
		       n);
	}
	tap_rx_arm(t, true); /* more may wait: the next wake-up reads on */
	return 0;
}

/* Never an offload outside what TUNSETOFFLOAD asked for. */
static bool tap_rx_offload_ok(const struct nic_tap *t,
			      const struct frame_offload *o)
{
	if ((o->flags & FRAME_F_NEEDS_CSUM) && !(t->rx_offload & NIC_OFF_CSUM))
		return false;
	return !o->gso_type || (t->rx_offload & NIC_OFF_GSO_TCP);
}

static int tap_rx_next(struct nic_backend *nb, struct nic_frame *f)
{
	struct nic_tap *t = nb->priv;
	const uint8_t *h = t->rx;
	int ret;

	for (int budget = 256; budget && t->fd >= 0; budget--) {
		if (!t->rx_len) {
			ret = tap_rx_read(nb, t);
			if (ret <= 0)
				return ret;
		}
		f->data = t->rx + TAP_HDR_LEN;
		f->len = t->rx_len;
		memset(&f->off, 0, sizeof(f->off));
		f->off.flags = h[0] & (FRAME_F_NEEDS_CSUM | FRAME_F_DATA_VALID);
		f->off.gso_type = h[1];
		memcpy(&f->off.hdr_len, h + 2, 2); /* little-endian host */
		memcpy(&f->off.gso_size, h + 4, 2);
		memcpy(&f->off.csum_start, h + 6, 2);
		memcpy(&f->off.csum_offset, h + 8, 2);
		if (tap_rx_offload_ok(t, &f->off))
			return 1;
		log_rl(LOG_WARN, MOD, "%s: frame with offloads not asked for "
		       "(flags %#x gso %#x) dropped", t->ifname, h[0], h[1]);
		t->rx_len = 0;
	}
	tap_rx_arm(t, true);
	return 0;
}

static void tap_rx_done(struct nic_backend *nb)
{
	struct nic_tap *t = nb->priv;

	t->rx_len = 0;
}

static void tap_rx_flush(struct nic_backend *nb)
{
	(void)nb;
}

static void tap_set_rx_offload(struct nic_backend *nb, uint32_t bits)
{
	struct nic_tap *t = nb->priv;
	int ret;

	if (t->fd < 0) {
		t->rx_offload = bits; /* applied at the next attach */
		return;
	}
	ret = tap_offload_apply(t, bits);
	if (ret)
		log_warn(MOD, "%s: TUNSETOFFLOAD %#x: %s", t->ifname,
			 tap_tun_flags(bits), strerror(-ret));
}

static int tap_kernel_fd(struct nic_backend *nb)
{
	struct nic_tap *t = nb->priv;

	return t->fd >= 0 ? t->fd : -ENOTCONN;
}

const struct nic_backend_ops nic_tap_ops = {
	.name = "tap",
	.open = tap_open,
	.close = tap_close,
	.poll = tap_poll,
	.tx_alloc = tap_tx_alloc,
	.tx_commit = tap_tx_commit,
	.tx_flush = tap_tx_flush,
	.rx_next = tap_rx_next,
	.rx_done = tap_rx_done,
	.rx_flush = tap_rx_flush,
	.set_rx_offload = tap_set_rx_offload,
	.kernel_fd = tap_kernel_fd,
};
