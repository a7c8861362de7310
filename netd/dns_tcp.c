/* SPDX-License-Identifier: MIT */
/* dns_tcp.c - DNS over TCP on a kernel socket: accept, length-prefixed queries, ordered answers, idle and size limits. */
#include "netd/dns_tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

LOG_MODULE("netd-dns-tcp");

struct dns_tcp_conn {
	struct dns_tcp *t;
	int fd;			/* -1: slot free */
	uint64_t last_ms;	/* last complete query (or accept) */
	size_t in_len;
	uint8_t in[2 + DNS_TCP_QUERY_MAX];
	size_t out_off, out_len; /* an answer not yet written whole */
	uint8_t *out;		 /* 2 + DNS_TCP_ANSWER_MAX, while open */
};

struct dns_tcp {
	struct evloop *loop;
	int lfd;
	dns_tcp_answer_fn answer;
	void *arg;
	struct evloop_timer *idle;
	uint32_t idle_ms;
	unsigned int nconns;
	struct dns_tcp_conn conns[DNS_TCP_CONNS_MAX];
};

static void conn_close(struct dns_tcp_conn *c)
{
	if (c->fd < 0)
		return;
	evloop_fd_del(c->t->loop, c->fd);
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->t->nconns--;
}

/* Write what is pending. Return: 0 when all is out, 1 when some waits, -1. */
static int conn_flush(struct dns_tcp_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/*
 * Answer the complete queries in the input buffer, in order, while the
 * output is free. Return: -1 when the connection must close.
 */
static int conn_serve(struct dns_tcp_conn *c, uint64_t now)
{
	size_t off = 0;
	int ret = 0;

	/* Bounded: each pass consumes one message of the buffer. */
	while (c->out_len == 0 && c->in_len - off >= 2) {
		size_t mlen = (size_t)c->in[off] << 8 | c->in[off + 1];
		struct pkt_view q;
		int n;

		if (mlen == 0 || mlen > DNS_TCP_QUERY_MAX)
			return -1;
		if (c->in_len - off < 2 + mlen)
			break;
		q.data = c->in + off + 2;
		q.len = mlen;
		n = c->t->answer(c->t->arg, &q, c->out + 2,
				 DNS_TCP_ANSWER_MAX);
		off += 2 + mlen;
		c->last_ms = now;
		if (n <= 0)
			continue;
		c->out[0] = (uint8_t)(n >> 8);
		c->out[1] = (uint8_t)n;
		c->out_len = 2 + (size_t)n;
		ret = conn_flush(c);
		if (ret < 0)
			return -1;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	/* Output pending: wait for EPOLLOUT, read nothing more till then. */
	if (evloop_fd_mod(c->t->loop, c->fd,
			  c->out_len ? EPOLLOUT : EPOLLIN))
		return -1;
	return 0;
}

static void conn_on_io(struct evloop *l, int fd, uint32_t events, void *arg)
{
	struct dns_tcp_conn *c = arg;
	uint64_t now = evloop_now_ms();

	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		conn_close(c);
		return;
	}
	if (c->out_len) {
		int r = conn_flush(c);

		if (r < 0) {
			conn_close(c);
			return;
		}
		if (r > 0)
			return;
	} else if (events & EPOLLIN) {
		ssize_t n = recv(fd, c->in + c->in_len,
				 sizeof(c->in) - c->in_len, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return;
		}
		if (n > 0)
			c->in_len += (size_t)n;
	}
	if (conn_serve(c, now))
		conn_close(c);
}

static void on_accept(struct evloop *l, int fd, uint32_t events, void *arg)
{
	struct dns_tcp *t = arg;

	/* Bounded: at most one wake-up's worth of pending connections. */
	for (int k = 0; k < DNS_TCP_CONNS_MAX; k++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct dns_tcp_conn *c = NULL;

		if (cfd < 0)
			return;
		for (unsigned int i = 0; i < DNS_TCP_CONNS_MAX && !c; i++)
			if (t->conns[i].fd < 0)
				c = &t->conns[i];
		if (c)
			c->out = malloc(2 + DNS_TCP_ANSWER_MAX);
		if (!c || !c->out ||
		    evloop_fd_add(l, cfd, EPOLLIN, conn_on_io, c) < 0) {
			log_rl(LOG_WARN, MOD, "%u DNS connections open: "
			       "one refused", t->nconns);
			if (c) {
				free(c->out);
				c->out = NULL;
			}
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->in_len = c->out_len = c->out_off = 0;
		c->last_ms = evloop_now_ms();
		t->nconns++;
	}
}

static void on_idle_tick(struct evloop *l, void *arg)
{
	struct dns_tcp *t = arg;
	uint64_t now = evloop_now_ms();

	for (unsigned int i = 0; i < DNS_TCP_CONNS_MAX; i++)
		if (t->conns[i].fd >= 0 &&
		    now - t->conns[i].last_ms >= t->idle_ms)
			conn_close(&t->conns[i]);
}

struct dns_tcp *dns_tcp_new(struct evloop *l, int listen_fd, uint32_t idle_ms,
			    dns_tcp_answer_fn answer, void *arg)
{
	struct dns_tcp *t = calloc(1, sizeof(*t));

	if (!t) {
		close(listen_fd);
		return NULL;
	}
	t->loop = l;
	t->lfd = listen_fd;
	t->answer = answer;
	t->arg = arg;
	t->idle_ms = idle_ms ? idle_ms : DNS_TCP_IDLE_MS;
	for (unsigned int i = 0; i < DNS_TCP_CONNS_MAX; i++) {
		t->conns[i].fd = -1;
		t->conns[i].t = t;
	}
	/* Idle connections are looked for 4 times per idle period. */
	t->idle = evloop_timer_add(l, t->idle_ms / 4 ? t->idle_ms / 4 : 1,
				   t->idle_ms / 4 ? t->idle_ms / 4 : 1,
				   on_idle_tick, t);
	if (!t->idle || evloop_fd_add(l, listen_fd, EPOLLIN, on_accept, t) < 0) {
		int err = errno ? errno : ENOMEM;

		evloop_timer_del(t->idle);
		close(listen_fd);
		free(t);
		errno = err;
		return NULL;
	}
	return t;
}

void dns_tcp_free(struct dns_tcp *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < DNS_TCP_CONNS_MAX; i++)
		conn_close(&t->conns[i]);
	evloop_timer_del(t->idle);
	evloop_fd_del(t->loop, t->lfd);
	close(t->lfd);
	free(t);
}

unsigned int dns_tcp_conns(const struct dns_tcp *t)
{
	return t->nconns;
}
