/* SPDX-License-Identifier: MIT */
/* control.c - the control socket on netd's event loop: clients, framing, dispatch. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "common/shm_sock.h"
#include "loom/control.h"
#include "loom/shm_port.h"
#include "netd/netd.h"

LOG_MODULE("netd-control");

enum {
	/* Requests handled per client per wake-up: no client hogs the loop. */
	CLIENT_REQS_PER_TURN = 8,
	/* Unsent replies above this: stop reading the client (back-pressure). */
	CLIENT_WBUF_HIGH = 1 << 20,
	/* How often idle clients are looked for. */
	CONTROL_SWEEP_MS = 1000,
};

struct client {
	struct netd *d;
	int fd;
	bool used;
	bool sniffed; /* first bytes checked for an shm attach request */
	bool closing; /* close once the write buffer is flushed */
	bool spoke; /* has sent bytes since it connected */
	uint32_t events;
	uint64_t last_active_ms; /* CLOCK_MONOTONIC */
	int passed_fd; /* last fd received (SCM_RIGHTS), -1: none */
	uint8_t *rbuf; /* LOOM_CONTROL_HDR_LEN + LOOM_CONTROL_MSG_MAX */
	size_t rlen;
	uint8_t *wbuf;
	size_t wlen, woff, wcap;
};

static struct client clients[LOOM_CONTROL_CLIENTS_MAX];
/* serve_backlog() is deferred on the loop and has not run yet. */
static bool backlog_deferred;

/*
 * Free @c's slot. Return: its connection's fd, still open (and still on
 * the loop if it was): for a new owner (an shm port, a capture, a kernel
 * VM port), or to close.
 */
static int client_release(struct netd *d, struct client *c)
{
	int fd = c->fd;

	if (c->passed_fd >= 0)
		close(c->passed_fd);
	free(c->rbuf);
	free(c->wbuf);
	memset(c, 0, sizeof(*c));
	d->nclients--;
	return fd;
}

static void client_free(struct netd *d, struct client *c)
{
	evloop_fd_del(d->loop, c->fd);
	close(client_release(d, c));
}

/* Append a framed reply. Return: 0, or -1 when the client must go. */
static int client_queue(struct client *c, json_t *reply)
{
	char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	size_t len;
	uint32_t be;

	json_decref(reply);
	if (!text)
		return -1;
	len = strlen(text);
	if (len > LOOM_CONTROL_REPLY_MAX ||
	    c->wlen + len + 4 > (size_t)LOOM_CONTROL_REPLY_MAX * 2) {
		free(text);
		return -1;
	}
	if (c->wlen + len + 4 > c->wcap) {
		size_t cap = (c->wlen + len + 4) * 2;
		uint8_t *p = realloc(c->wbuf, cap);

		if (!p) {
			free(text);
			return -1;
		}
		c->wbuf = p;
		c->wcap = cap;
	}
	be = htonl((uint32_t)len);
	memcpy(c->wbuf + c->wlen, &be, 4);
	memcpy(c->wbuf + c->wlen + 4, text, len);
	c->wlen += len + 4;
	free(text);
	return 0;
}

/* Return: 0, or -1 when the client is gone. */
static int client_flush(struct client *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		c->woff += (size_t)n;
	}
	c->woff = c->wlen = 0;
	return 0;
}

static void client_rearm(struct netd *d, struct client *c)
{
	uint32_t ev = 0;

	if (!c->closing && c->wlen - c->woff < CLIENT_WBUF_HIGH)
		ev |= EPOLLIN;
	if (c->woff < c->wlen)
		ev |= EPOLLOUT;
	if (ev != c->events && evloop_fd_mod(d->loop, c->fd, ev) == 0)
		c->events = ev;
}

/*
 * capture.start: the connection becomes the capture's (netd/capture.c).
 * Return: 1 when it did (the client slot is freed), 0 when @reply is an
 * error to queue as usual.
 */
static int client_capture(struct netd *d, struct client *c, json_t *req,
			  json_t **reply)
{
	struct netd_capture *cap;
	int fd = c->passed_fd;

	c->passed_fd = -1;
	cap = netd_capture_start(d, req, fd, reply);
	if (!cap)
		return 0;
	evloop_fd_del(d->loop, c->fd);
	fd = client_release(d, c);
	netd_capture_attach(cap, fd, *reply);
	*reply = NULL;
	return 1;
}

/* Send framed @reply (stolen) with @fd attached (SCM_RIGHTS), in one go:
 * the socket's buffer is empty (nic.open is first on its connection). */
static int client_send_fd(int sock, json_t *reply, int fd)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	uint8_t *buf = text ? malloc(4 + len) : NULL;
	uint32_t be = htonl((uint32_t)len);
	int ret = -ENOMEM;

	json_decref(reply);
	if (buf) {
		memcpy(buf, &be, 4);
		memcpy(buf + 4, text, len);
		ret = shm_msg_send(sock, buf, 4 + len, &fd, 1);
	}
	free(buf);
	free(text);
	return ret;
}

/*
 * nic.open: the reply carries the device's fd and the connection becomes
 * the port's (netd/kport.c), like capture.start's. Permission: the peer
 * passed the same uid check as every client and shm attach.
 * Return: 1 when it did (the client slot is freed), 0 when @reply is an
 * error to queue as usual.
 */
static int client_kport(struct netd *d, struct client *c, json_t *req,
			json_t **reply)
{
	struct netd_kport *kp;
	int fd = -1, sock;

	if (c->wlen != c->woff || c->rlen != LOOM_CONTROL_HDR_LEN +
	    ntohl(*(uint32_t *)c->rbuf)) {
		*reply = netd_reply_error(json_object_get(req, "id"),
					  LOOM_ERR_INVAL, "nic.open must be the "
					  "only request on its connection");
		return 0;
	}
	kp = netd_kport_open(d, req, &fd, reply);
	if (!kp)
		return 0;
	evloop_fd_del(d->loop, c->fd);
	sock = client_release(d, c);
	if (client_send_fd(sock, *reply, fd) < 0)
		log_rl(LOG_WARN, MOD, "nic.open: cannot pass the fd");
	*reply = NULL;
	/* A VMM that got nothing sees the port go with the connection. */
	netd_kport_attach(kp, sock);
	return 1;
}

/* Handle complete requests in rbuf. Return: 0, 1 when the connection was
 * handed over (@c is free), or -1 to drop the client. */
static int client_process(struct netd *d, struct client *c)
{
	for (int turn = 0; turn < CLIENT_REQS_PER_TURN; turn++) {
		uint32_t be, len;
		json_error_t jerr;
		json_t *req, *reply;

		if (c->rlen < LOOM_CONTROL_HDR_LEN)
			return 0;
		memcpy(&be, c->rbuf, 4);
		len = ntohl(be);
		if (len > LOOM_CONTROL_MSG_MAX || len == 0) {
			log_rl(LOG_WARN, MOD, "client sent a %u-byte message",
			       len);
			c->closing = true;
			return client_queue(
				c,
				len ? netd_reply_error(NULL, LOOM_ERR_2BIG,
						       "message of %u bytes is larger than the limit of %d bytes; closing the connection",
						       len,
						       LOOM_CONTROL_MSG_MAX) :
				      netd_reply_error(NULL, LOOM_ERR_PROTO,
						       "empty message; closing the connection"));
		}
		if (c->rlen < LOOM_CONTROL_HDR_LEN + len)
			return 0;
		req = json_loadb((const char *)c->rbuf + 4, len,
				 JSON_REJECT_DUPLICATES, &jerr);
		if (!req)
			reply = netd_reply_error(NULL, LOOM_ERR_PROTO,
						 "invalid JSON at byte %d: %s",
						 jerr.position, jerr.text);
		else if (netd_kport_is_open(req)) {
			if (client_kport(d, c, req, &reply)) {
				json_decref(req);
				return 1;
			}
		} else if (!netd_capture_is_start(req))
			reply = netd_command(d, req);
		else if (client_capture(d, c, req, &reply)) {
			json_decref(req);
			return 1;
		}
		json_decref(req);
		memmove(c->rbuf, c->rbuf + 4 + len, c->rlen - 4 - len);
		c->rlen -= 4 + len;
		if (client_queue(c, reply) < 0)
			return -1;
		if (c->wlen - c->woff >= CLIENT_WBUF_HIGH)
			return 0;
	}
	return 0;
}

/*
 * A VMM attaches its NIC by sending a binary shm attach request (magic
 * SHM_ATTACH_MAGIC, include/loom/shm_port.h) instead of a JSON frame. Its
 * first 4 bytes, read as a length, are far above LOOM_CONTROL_MSG_MAX, so
 * the two cannot be confused. Peek at them before the first read.
 * Return: 1 when the connection became a VM port (the client slot is
 * freed, the fd now belongs to the port), 0 for a JSON client, 2 when too
 * few bytes arrived to tell, -1 to drop.
 */
static int client_sniff(struct netd *d, struct client *c)
{
	uint32_t magic = SHM_ATTACH_MAGIC;
	uint8_t head[4];
	ssize_t n = recv(c->fd, head, sizeof(head), MSG_PEEK | MSG_DONTWAIT);
	int slot, fd;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	if (n < 4 && !memcmp(head, &magic, (size_t)n))
		return 2; /* could still be either: wait for more, read nothing */
	c->sniffed = true;
	if (n < 4 || memcmp(head, &magic, 4))
		return 0;
	fd = c->fd;
	/* The socket goes blocking for the short handshake (it has its own
	 * timeout); then vmport.c watches it on the loop for EOF. */
	evloop_fd_del(d->loop, fd);
	slot = netd_vm_attach(d, fd);
	if (slot < 0)
		return -1;
	/* The port owns the fd now: free the client slot without closing. */
	client_release(d, c);
	return 1;
}

/* A complete request is buffered and the client takes replies. */
static bool client_has_request(const struct client *c)
{
	uint32_t be;

	if (!c->used || c->closing || c->rlen < LOOM_CONTROL_HDR_LEN ||
	    c->wlen - c->woff >= CLIENT_WBUF_HIGH)
		return false;
	memcpy(&be, c->rbuf, 4);
	return ntohl(be) > LOOM_CONTROL_MSG_MAX || ntohl(be) == 0 ||
	       c->rlen >= LOOM_CONTROL_HDR_LEN + ntohl(be);
}

static void serve_backlog(void *arg);

/* Serve @c's requests on the next round when it holds more than a turn. */
static void client_defer_backlog(struct netd *d, struct client *c)
{
	if (backlog_deferred || !client_has_request(c))
		return;
	backlog_deferred = evloop_defer(d->loop, serve_backlog, d) == 0;
}

/*
 * Read into rbuf, taking an fd passed along (capture.start sends the
 * capture's output fd with its request); any further fds are closed.
 */
static ssize_t client_recv(struct client *c, size_t room)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {c->rbuf + c->rlen, room};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	struct cmsghdr *h;
	ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0)
		return n;
	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		size_t nfd;
		int fds[4];

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfd > 4)
			nfd = 4;
		memcpy(fds, CMSG_DATA(h), nfd * sizeof(int));
		for (size_t i = 0; i < nfd; i++) {
			if (c->passed_fd >= 0)
				close(c->passed_fd);
			c->passed_fd = fds[i];
		}
	}
	return n;
}

static void client_event(struct netd *d, struct client *c, uint32_t ev)
{
	if (ev & (EPOLLERR | EPOLLHUP) && !(ev & EPOLLIN))
		goto drop;
	if (ev & EPOLLIN && !c->sniffed) {
		int r = client_sniff(d, c);

		if (r < 0)
			goto drop;
		if (r == 1)
			return; /* the connection became a VM port */
		if (r == 2) {
			/* Edge-triggered until it can tell, or the unread
			 * bytes would wake the loop over and over. */
			uint32_t et = EPOLLIN | EPOLLET;

			if (c->events != et &&
			    evloop_fd_mod(d->loop, c->fd, et) == 0)
				c->events = et;
			return;
		}
	}
	if (ev & EPOLLIN && !c->closing) {
		size_t room = LOOM_CONTROL_HDR_LEN + LOOM_CONTROL_MSG_MAX -
			      c->rlen;
		ssize_t n = room ? client_recv(c, room) : 0;

		if (n == 0 && room)
			goto drop;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			goto drop;
		if (n > 0) {
			c->rlen += (size_t)n;
			c->spoke = true;
			c->last_active_ms = evloop_now_ms();
		}
	}
	switch (client_process(d, c)) {
	case -1:
		goto drop;
	case 1:
		return; /* the connection became a capture */
	}
	if (client_flush(c) < 0)
		goto drop;
	if (c->closing && c->woff == c->wlen)
		goto drop;
	client_rearm(d, c);
	client_defer_backlog(d, c);
	return;
drop:
	client_free(d, c);
}

static void client_on_event(struct evloop *l, int fd, uint32_t events,
			    void *arg)
{
	struct client *c = arg;

	client_event(c->d, c, events);
}

/*
 * Clients holding more requests than their turn, served after every other
 * fd of the round had its turn (level-triggered EPOLLIN would not fire
 * again for bytes already read). Re-deferred while any is still busy: the
 * loop then polls without sleeping.
 */
static void serve_backlog(void *arg)
{
	struct netd *d = arg;

	backlog_deferred = false;
	for (int i = 0; i < LOOM_CONTROL_CLIENTS_MAX; i++)
		if (client_has_request(&clients[i]))
			client_event(d, &clients[i], 0);
}

/*
 * The table is full: make room by closing a client with nothing in flight:
 * one that never sent a byte before one that has talked, then the one
 * silent longest. Idle connections therefore cannot lock out a client that
 * wants to talk, and a flood of silent ones cannot push out a client that
 * is in a conversation.
 */
static struct client *client_evict_idle(struct netd *d)
{
	struct client *old = NULL;

	for (int i = 0; i < LOOM_CONTROL_CLIENTS_MAX; i++) {
		struct client *c = &clients[i];

		if (!c->used || c->rlen || c->wlen)
			continue;
		if (!old || (old->spoke && !c->spoke) ||
		    (old->spoke == c->spoke &&
		     c->last_active_ms < old->last_active_ms))
			old = c;
	}
	if (!old)
		return NULL;
	log_rl(LOG_INFO, MOD, "client limit reached: closing the idlest");
	client_free(d, old);
	return old;
}

static void control_on_listen(struct evloop *l, int lfd, uint32_t events,
			      void *arg)
{
	struct netd *d = arg;

	for (int k = 0; k < 16; k++) {
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		struct client *c = NULL;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		/* Checked before a byte is read: nothing of theirs is parsed. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
		    (cred.uid != 0 && cred.uid != d->uid)) {
			static const char msg[] =
				"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"EPERM\",\"message\":\"permission denied: only root or the daemon's user may use loom-netd\"}}";
			uint32_t be = htonl(sizeof(msg) - 1);

			log_rl(LOG_WARN, MOD, "refused peer uid %d",
			       clen ? (int)cred.uid : -1);
			if (send(fd, &be, 4, MSG_NOSIGNAL | MSG_DONTWAIT) == 4)
				send(fd, msg, sizeof(msg) - 1,
				     MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		for (int i = 0; i < LOOM_CONTROL_CLIENTS_MAX; i++)
			if (!clients[i].used) {
				c = &clients[i];
				break;
			}
		if (!c)
			c = client_evict_idle(d);
		if (!c) {
			static const char msg[] =
				"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"ENOSPC\",\"message\":\"too many clients\"}}";
			uint32_t be = htonl(sizeof(msg) - 1);

			log_rl(LOG_WARN, MOD, "client limit reached");
			if (send(fd, &be, 4, MSG_NOSIGNAL | MSG_DONTWAIT) == 4)
				send(fd, msg, sizeof(msg) - 1,
				     MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		c->rbuf = malloc(LOOM_CONTROL_HDR_LEN + LOOM_CONTROL_MSG_MAX);
		if (!c->rbuf) {
			close(fd);
			continue;
		}
		c->d = d;
		c->fd = fd;
		c->passed_fd = -1;
		c->used = true;
		c->events = EPOLLIN;
		c->last_active_ms = evloop_now_ms();
		if (evloop_fd_add(l, fd, EPOLLIN, client_on_event, c) < 0) {
			free(c->rbuf);
			close(fd);
			memset(c, 0, sizeof(*c));
			continue;
		}
		d->nclients++;
	}
}

static int control_listen(struct netd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(d->sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, d->sock_path, strlen(d->sock_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(d->sock_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(d->sock_path, 0660) < 0 || listen(fd, 64) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static void control_on_sweep(struct evloop *l, void *arg)
{
	struct netd *d = arg;
	uint64_t now = evloop_now_ms();

	for (int i = 0; i < LOOM_CONTROL_CLIENTS_MAX; i++) {
		struct client *c = &clients[i];

		if (c->used && now - c->last_active_ms >
				   (uint64_t)LOOM_CONTROL_IDLE_SECS * 1000) {
			log_debug(MOD, "closing idle client");
			client_free(d, c);
		}
	}
}

static void control_on_signal(struct evloop *l, int fd, uint32_t events,
			      void *arg)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) == sizeof(si)) {
		log_info(MOD, "signal %u: shutting down", si.ssi_signo);
		evloop_stop(l);
	}
}

/*
 * netd_control_run - serve the control socket on @d->loop until SIGTERM,
 * SIGINT or SIGHUP arrive on @sigfd. Everything else on the loop (VM attach
 * connections, services) was registered by its owner.
 * Return: 0 on a clean stop, or a negative errno if the socket failed.
 */
int netd_control_run(struct netd *d, int sigfd)
{
	struct evloop_timer *sweep;
	int lfd, ret;

	lfd = control_listen(d);
	if (lfd < 0) {
		log_err(MOD, "cannot listen on %s: %s", d->sock_path,
			strerror(-lfd));
		return lfd;
	}
	sweep = evloop_timer_add(d->loop, CONTROL_SWEEP_MS, CONTROL_SWEEP_MS,
				 control_on_sweep, d);
	ret = sweep ? 0 : -ENOMEM;
	if (!ret)
		ret = evloop_fd_add(d->loop, lfd, EPOLLIN, control_on_listen, d);
	if (!ret) {
		ret = evloop_fd_add(d->loop, sigfd, EPOLLIN, control_on_signal,
				    d);
		if (ret)
			evloop_fd_del(d->loop, lfd);
	}
	if (ret)
		goto out;
	log_info(MOD, "listening on %s", d->sock_path);
	ret = evloop_run(d->loop);
	evloop_fd_del(d->loop, sigfd);
	evloop_fd_del(d->loop, lfd);
out:
	for (int i = 0; i < LOOM_CONTROL_CLIENTS_MAX; i++)
		if (clients[i].used)
			client_free(d, &clients[i]);
	evloop_timer_del(sweep);
	close(lfd);
	unlink(d->sock_path);
	return ret;
}
