/* SPDX-License-Identifier: MIT */
/* vhost_user.c - vhost-user port backend: the socket, its session thread, the port ops. */
#include "backends/vhost_user.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backends/vhost_user_internal.h"
#include "common/log.h"

LOG_MODULE("vhost-user");

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---------------------------------------------------------------------- */
/* The socket */

/*
 * Read one message: header (with its fds) and payload. Return: 1, 0 on
 * a clean EOF before a message, or -EPROTO with @why.
 */
static int vu_read_msg(int fd, uint8_t *buf, size_t *len, int *fds,
		       unsigned int *nfds, char *why, size_t wl)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * VHOST_USER_MEM_REGIONS_MAX)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = VHOST_USER_HDR_SIZE};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b)};
	size_t got = 0, want;
	uint32_t size;
	ssize_t r;

	*nfds = 0;
	r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (r == 0)
		return 0;
	if (r < 0)
		goto io_err;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t k = 0; k < n; k++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + k * sizeof(int), sizeof(f));
			if (*nfds < VHOST_USER_MEM_REGIONS_MAX)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		snprintf(why, wl, "more than %d fds with one message",
			 VHOST_USER_MEM_REGIONS_MAX);
		return -EPROTO;
	}
	got = (size_t)r;
	while (got < VHOST_USER_HDR_SIZE) {
		r = recv(fd, buf + got, VHOST_USER_HDR_SIZE - got, 0);
		if (r <= 0)
			goto short_read;
		got += (size_t)r;
	}
	memcpy(&size, buf + 8, sizeof(size));
	if (size > VHOST_USER_PAYLOAD_MAX) {
		snprintf(why, wl, "payload of %u bytes (at most %d)", size,
			 (int)VHOST_USER_PAYLOAD_MAX);
		return -EPROTO;
	}
	want = VHOST_USER_HDR_SIZE + size;
	while (got < want) {
		r = recv(fd, buf + got, want - got, 0);
		if (r <= 0)
			goto short_read;
		got += (size_t)r;
	}
	*len = got;
	return 1;
short_read:
	if (r == 0) {
		snprintf(why, wl, "connection closed in the middle of a message");
		return -EPROTO;
	}
io_err:
	snprintf(why, wl, "%s", errno == EAGAIN || errno == EWOULDBLOCK ?
		 "stalled in the middle of a message" : strerror(errno));
	return -EPROTO;
}

static void vu_send_reply(struct vu_port *v, int fd, uint32_t request,
			  const struct vu_reply *rep)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + sizeof(rep->p)];
	uint32_t flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	size_t len = VHOST_USER_HDR_SIZE + rep->size;

	memcpy(buf, &request, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &rep->size, 4);
	memcpy(buf + VHOST_USER_HDR_SIZE, &rep->p, rep->size);
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		log_rl(LOG_WARN, MOD, "%s: reply to %s: %s", v->name,
		       vhost_user_request_name(request), strerror(errno));
}

/* End the session: @why non-NULL for a violation (logged, counted). */
static void vu_session_end(struct vu_port *v, const char *why)
{
	int fd;

	pthread_mutex_lock(&v->lock);
	vu_session_reset(v);
	fd = v->connfd;
	v->connfd = -1;
	vu_update_running(v);
	if (why) {
		v->ended++;
		snprintf(v->error, sizeof(v->error), "%s", why);
	}
	pthread_mutex_unlock(&v->lock);
	atomic_store(&v->connected, false);
	if (fd >= 0)
		close(fd);
	if (why)
		log_rl(LOG_WARN, MOD, "%s: front end loses its session: %s",
		       v->name, why);
	else
		log_info(MOD, "%s: front end disconnected", v->name);
}

static void vu_accept(struct vu_port *v)
{
	struct timeval tv = {.tv_sec = VHOST_USER_IO_TIMEOUT_MS / 1000,
			     .tv_usec = (VHOST_USER_IO_TIMEOUT_MS % 1000) * 1000};
	struct ucred cred = {0};
	socklen_t cl = sizeof(cred);
	int fd = accept4(v->listenfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_rl(LOG_WARN, MOD, "%s: accept: %s", v->name,
			       strerror(errno));
		return;
	}
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl);
	if (atomic_load(&v->connected)) {
		log_rl(LOG_WARN, MOD, "%s: refused a second front end (pid "
		       "%d): one is connected", v->name, (int)cred.pid);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&v->lock);
	vu_session_reset(v);
	v->connfd = fd;
	v->sessions++;
	pthread_mutex_unlock(&v->lock);
	atomic_store(&v->connected, true);
	log_info(MOD, "%s: front end connected (pid %d)", v->name,
		 (int)cred.pid);
}

/* One message from the connected front end, answered. */
static void vu_serve(struct vu_port *v, int fd)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
	struct vhost_user_msg m;
	struct vu_reply rep = {0};
	int fds[VHOST_USER_MEM_REGIONS_MAX];
	char why[160] = "", msg[200];
	unsigned int nfds = 0;
	size_t len = 0;
	int ret;

	ret = vu_read_msg(fd, buf, &len, fds, &nfds, why, sizeof(why));
	if (ret <= 0) {
		for (unsigned int k = 0; k < nfds; k++)
			close(fds[k]);
		vu_session_end(v, ret ? why : NULL);
		return;
	}
	ret = vhost_user_msg_parse(buf, len, nfds, &m, why, sizeof(why));
	if (ret) {
		for (unsigned int k = 0; k < nfds; k++)
			close(fds[k]);
		vu_session_end(v, why);
		return;
	}
	memcpy(m.fds, fds, sizeof(int) * nfds);
	log_debug(MOD, "%s: %s (flags %#x, %u bytes, %u fds, 0x%llx)",
		  v->name, vhost_user_request_name(m.request), m.flags, m.size,
		  nfds, (unsigned long long)m.payload.u64);
	pthread_mutex_lock(&v->lock);
	ret = vu_handle(v, &m, &rep, why, sizeof(why));
	pthread_mutex_unlock(&v->lock);
	for (unsigned int k = 0; k < m.nfds; k++)
		if (m.fds[k] >= 0)
			close(m.fds[k]);
	/* REPLY_ACK: a request without a reply of its own gets 0 / 1. */
	if (!rep.size && (m.flags & VHOST_USER_FLAG_NEED_REPLY)) {
		rep.size = 8;
		rep.p.u64 = ret ? 1 : 0;
	}
	if (rep.size)
		vu_send_reply(v, fd, m.request, &rep);
	if (ret) {
		snprintf(msg, sizeof(msg), "%s", why);
		vu_session_end(v, msg);
	}
}

static void *vu_thread(void *arg)
{
	struct vu_port *v = arg;

	for (;;) {
		int conn = v->connfd; /* only this thread changes it */
		struct pollfd pf[4] = {
		    {.fd = v->stopfd, .events = POLLIN},
		    {.fd = v->killfd, .events = POLLIN},
		    {.fd = v->listenfd, .events = POLLIN},
		    {.fd = conn, .events = POLLIN},
		};
		uint64_t cnt;

		if (poll(pf, conn >= 0 ? 4 : 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err(MOD, "%s: poll: %s", v->name, strerror(errno));
			break;
		}
		if (pf[0].revents)
			break;
		if (pf[1].revents & POLLIN) {
			char why[sizeof(v->error)];

			if (read(v->killfd, &cnt, sizeof(cnt)) < 0)
				cnt = 0;
			pthread_mutex_lock(&v->lock);
			snprintf(why, sizeof(why), "%s", v->error);
			pthread_mutex_unlock(&v->lock);
			if (conn >= 0) {
				vu_session_end(v, why);
				continue;
			}
		}
		if (pf[2].revents & POLLIN)
			vu_accept(v);
		if (conn >= 0 && pf[3].revents)
			vu_serve(v, conn);
	}
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* The port */

static void vu_free(struct vu_port *v)
{
	struct stat st;

	if (v->thread_started) {
		vu_signal(v->stopfd);
		/* A front end stalled mid-message: wake the blocked read. */
		pthread_mutex_lock(&v->lock);
		if (v->connfd >= 0)
			shutdown(v->connfd, SHUT_RDWR);
		pthread_mutex_unlock(&v->lock);
		pthread_join(v->thread, NULL);
	}
	if (v->listenfd >= 0) {
		/* Remove the socket file if it still is ours. */
		if (!stat(v->path, &st) && st.st_dev == v->sock_dev &&
		    st.st_ino == v->sock_ino)
			unlink(v->path);
		close_fd(&v->listenfd);
	}
	vu_port_release(v);
}

/* Bind @v->path, replacing a dead socket file, never a live one. */
static int vu_listen(struct vu_port *v, char *err, size_t errlen,
		     const char *port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	memcpy(sa.sun_path, v->path, strlen(v->path) + 1);
	if (!lstat(v->path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "port %s: %s exists and is not a "
				 "socket", port, v->path);
			return -EEXIST;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa,
					sizeof(sa))) {
			close(fd);
			snprintf(err, errlen, "port %s: something listens on "
				 "%s already", port, v->path);
			return -EADDRINUSE;
		}
		if (fd >= 0)
			close(fd);
		unlink(v->path); /* left by a process that is gone */
	}
	v->listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
				      SOCK_NONBLOCK, 0);
	if (v->listenfd < 0 ||
	    bind(v->listenfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(v->listenfd, 4) < 0 || stat(v->path, &st) < 0) {
		int e = errno;

		snprintf(err, errlen, "port %s: cannot listen on %s: %s", port,
			 v->path, strerror(e));
		close_fd(&v->listenfd);
		return -e;
	}
	v->sock_dev = st.st_dev;
	v->sock_ino = st.st_ino;
	chmod(v->path, 0660);
	return 0;
}

static int vu_port_create(const struct port_decl *decl, void **priv,
			  char *err, size_t errlen)
{
	struct vu_port *v;
	int ret;

	if (!decl->path || !decl->path[0]) {
		snprintf(err, errlen, "port %s: a port of type vhost-user needs "
			 "a path (the socket the front end connects to)",
			 decl->name);
		return -EINVAL;
	}
	if (strlen(decl->path) > VHOST_USER_PATH_MAX) {
		snprintf(err, errlen, "port %s: path longer than %d bytes",
			 decl->name, VHOST_USER_PATH_MAX);
		return -ENAMETOOLONG;
	}
	ret = vu_port_alloc(&v, decl->network, decl->name);
	if (ret) {
		snprintf(err, errlen, "port %s: %s", decl->name,
			 strerror(-ret));
		return ret;
	}
	snprintf(v->path, sizeof(v->path), "%s", decl->path);
	ret = vu_listen(v, err, errlen, decl->name);
	if (ret) {
		vu_free(v);
		return ret;
	}
	ret = pthread_create(&v->thread, NULL, vu_thread, v);
	if (ret) {
		snprintf(err, errlen, "port %s: cannot start a thread: %s",
			 decl->name, strerror(ret));
		vu_free(v);
		return -ret;
	}
	pthread_setname_np(v->thread, "loom-vhost-user");
	v->thread_started = true;
	log_info(MOD, "%s: listening on %s", v->name, v->path);
	*priv = v;
	return 0;
}

static int vu_port_open(struct port *port, const void *args)
{
	if (!args)
		return -EINVAL;
	port->priv = (void *)args;
	return 0;
}

static int vu_port_poll_fd(struct port *port)
{
	struct vu_port *v = port->priv;

	return v->epfd;
}

static void vu_port_close(struct port *port)
{
	if (port->priv)
		vu_free(port->priv);
	port->priv = NULL;
}

void vhost_user_port_status_get(struct port *port,
				struct vhost_user_port_status *st)
{
	struct vu_port *v = port->priv;

	memset(st, 0, sizeof(*st));
	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	st->sessions = v->sessions;
	st->ended = v->ended;
	snprintf(st->error, sizeof(st->error), "%s", v->error);
	pthread_mutex_unlock(&v->lock);
	st->connected = atomic_load(&v->connected);
	st->running = atomic_load(&v->running);
	st->tx_bad = atomic_load(&v->tx_bad);
	st->rx_no_buffer = atomic_load(&v->rx_no_buffer);
	st->rx_dropped = atomic_load(&v->rx_dropped);
}

static bool vu_port_link(struct port *port, char *why, size_t len)
{
	struct vu_port *v = port->priv;
	struct vhost_user_port_status st;

	vhost_user_port_status_get(port, &st);
	if (st.running)
		return true;
	if (st.connected)
		snprintf(why, len, "front end connected on %s, its rings are "
			 "not running", v->path);
	else if (st.error[0])
		snprintf(why, len, "waiting for a front end on %s (the last "
			 "one lost its session: %s)", v->path, st.error);
	else
		snprintf(why, len, "waiting for a front end on %s", v->path);
	return false;
}

const struct port_ops vhost_user_port_ops = {
	.name = "vhost-user",
	.caps = 0, /* polled: recv every round, arm() before netd sleeps */
	.create = vu_port_create,
	.open = vu_port_open,
	.recv = vu_port_recv,
	.recv_done = vu_port_recv_done,
	.send = vu_port_send,
	.poll_fd = vu_port_poll_fd,
	.arm = vu_port_arm,
	.link = vu_port_link,
	.close = vu_port_close,
};
