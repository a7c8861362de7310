/* SPDX-License-Identifier: MIT */
/* vde.c - VDE port backend: a loom port plugged into any libvdeplug URL. */
#include "backends/vde.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libvdeplug.h>

#include "common/log.h"
#include "switch/switch.h"

#define MOD "vde"

#if defined(__SANITIZE_ADDRESS__)
#define VDE_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VDE_UNDER_ASAN 1
#endif
#endif

/* Receive buffer per frame: a VDE frame at most, rounded to cache lines. */
enum { VDE_BUF = (VDE_ETHBUFSIZE + 63) & ~63, VDE_FRAME_MIN = 14 };

/*
 * Two threads share a port:
 *   data path (recv, recv_done, send): uses @conn and its fds, alone;
 *   connector (vde_connector): calls vde_open() and vde_close().
 * They meet under @lock: the connector leaves a fresh connection in
 * @pending (and signals @wakefd, which is in @epfd), the data path adopts
 * it in recv; the data path, losing a connection, hands it over in @dead
 * and sets @want_connect. Neither ever blocks the other for longer than
 * a few assignments.
 */
struct vde_port {
	char url[VDE_URL_MAX];
	char descr[96];
	char name[64]; /* "NET:PORT" for the log */
	int epfd;
	int wakefd;
	/* data path only */
	VDECONN *conn;
	int datafd, ctlfd;
	uint8_t *bufs; /* FRAME_BATCH_MAX * VDE_BUF */
	/* shared, under @lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_started;
	VDECONN *pending;
	VDECONN *dead;
	bool want_connect;
	bool stop;
	unsigned int attempts; /* opens tried since the last success */
	int first_errno;       /* errno of the very first open, 0: success */
	bool first_done;
	char error[128];
	uint64_t connects;
	atomic_bool has_pending; /* @pending != NULL, read without the lock */
	atomic_bool link_up;
};

static void vde_set_error(struct vde_port *v, const char *fmt, int err)
{
	snprintf(v->error, sizeof(v->error), fmt, strerror(err));
}

/*
 * The connector thread: open the URL whenever the data path asks, with
 * back-off between failed attempts; close connections the data path gave
 * up on (vde_close() may wait for a plugin's helper process).
 */
static void *vde_connector(void *arg)
{
	struct vde_port *v = arg;
	unsigned int backoff = VDE_BACKOFF_MIN_MS;
	struct vde_open_args oa = {.port = 0, .group = NULL, .mode = 0700};

	pthread_mutex_lock(&v->lock);
	while (!v->stop) {
		VDECONN *c, *dead = v->dead;
		int err;

		v->dead = NULL;
		if (dead) {
			pthread_mutex_unlock(&v->lock);
			vde_close(dead);
			pthread_mutex_lock(&v->lock);
			continue;
		}
		if (!v->want_connect) {
			pthread_cond_wait(&v->cond, &v->lock);
			continue;
		}
		pthread_mutex_unlock(&v->lock);
		/* libvdeplug edits the URL it is given: a copy each time. */
		{
			char url[VDE_URL_MAX];

			memcpy(url, v->url, sizeof(url));
			errno = 0;
			c = vde_open(url, v->descr, &oa);
			err = c ? 0 : (errno ? errno : EIO);
		}
		pthread_mutex_lock(&v->lock);
		if (!v->first_done) {
			v->first_done = true;
			v->first_errno = err;
			pthread_cond_broadcast(&v->cond);
		}
		if (c) {
			if (v->stop) {
				pthread_mutex_unlock(&v->lock);
				vde_close(c);
				pthread_mutex_lock(&v->lock);
				break;
			}
			v->pending = c;
			v->want_connect = false;
			v->attempts = 0;
			v->connects++;
			v->error[0] = '\0';
			backoff = VDE_BACKOFF_MIN_MS;
			atomic_store(&v->has_pending, true);
			{
				uint64_t one = 1;

				if (write(v->wakefd, &one, sizeof(one)) < 0)
					log_rl(LOG_WARN, MOD, "%s: eventfd: %s",
					       v->name, strerror(errno));
			}
			if (v->connects > 1)
				log_info(MOD, "%s: reconnected to %s", v->name,
					 v->url);
			continue;
		}
		v->attempts++;
		vde_set_error(v, "cannot open the URL: %s", err);
		if (v->attempts == 1 || v->attempts % 32 == 0)
			log_rl(LOG_WARN, MOD,
			       "%s: %s: %s (retrying in %u ms, backing off to %d ms)",
			       v->name, v->url, strerror(err), backoff,
			       VDE_BACKOFF_MAX_MS);
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += backoff / 1000;
			ts.tv_nsec += (long)(backoff % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			/* A stop or a dead connection wakes us early. */
			while (!v->stop && !v->dead &&
			       pthread_cond_timedwait(&v->cond, &v->lock, &ts) !=
				       ETIMEDOUT)
				;
		}
		backoff = backoff * 2 > VDE_BACKOFF_MAX_MS ? VDE_BACKOFF_MAX_MS :
							     backoff * 2;
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

static void vde_free(struct vde_port *v)
{
	if (v->thread_started) {
		pthread_mutex_lock(&v->lock);
		v->stop = true;
		pthread_cond_broadcast(&v->cond);
		pthread_mutex_unlock(&v->lock);
		pthread_join(v->thread, NULL);
	}
	if (v->conn)
		vde_close(v->conn);
	if (v->pending)
		vde_close(v->pending);
	if (v->dead)
		vde_close(v->dead);
	if (v->epfd >= 0)
		close(v->epfd);
	if (v->wakefd >= 0)
		close(v->wakefd);
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->lock);
	free(v->bufs);
	free(v);
}

static int vde_port_create(const struct port_decl *decl, void **args, char *err,
		      size_t errlen)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct vde_port *v;
	struct timespec ts;
	int ret;

#ifdef VDE_UNDER_ASAN
	/* libvdeplug dlopen()s its plugins with RTLD_DEEPBIND, which the
	 * ASan runtime refuses by aborting the process. */
	snprintf(err, errlen, "port %s: this loom-netd is built with "
		 "AddressSanitizer, which cannot load libvdeplug's plugins",
		 decl->name);
	return -EOPNOTSUPP;
#endif
	if (!decl->url || !decl->url[0]) {
		snprintf(err, errlen, "port %s: a port of type vde needs a url "
			 "(e.g. vde:///run/vde.ctl)", decl->name);
		return -EINVAL;
	}
	if (strlen(decl->url) >= VDE_URL_MAX) {
		snprintf(err, errlen, "port %s: url longer than %d bytes",
			 decl->name, VDE_URL_MAX - 1);
		return -EINVAL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		goto nomem;
	v->epfd = v->wakefd = v->datafd = v->ctlfd = -1;
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	snprintf(v->url, sizeof(v->url), "%s", decl->url);
	snprintf(v->name, sizeof(v->name), "%s:%s",
		 decl->network ? decl->network : "?", decl->name);
	/* Shown by vde_switch's port/print as the port's description. */
	snprintf(v->descr, sizeof(v->descr), "loom-netd %s", v->name);
	v->bufs = malloc((size_t)FRAME_BATCH_MAX * VDE_BUF);
	if (!v->bufs)
		goto free_v;
	v->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	v->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (v->wakefd < 0 || v->epfd < 0)
		goto sys_fail;
	ev.data.fd = v->wakefd;
	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, v->wakefd, &ev) < 0)
		goto sys_fail;
	v->want_connect = true;
	ret = pthread_create(&v->thread, NULL, vde_connector, v);
	if (ret) {
		snprintf(err, errlen, "port %s: cannot start a thread: %s",
			 decl->name, strerror(ret));
		vde_free(v);
		return -ret;
	}
	v->thread_started = true;
	/*
	 * Wait a little for the first open: a URL no plugin knows is the
	 * user's mistake, refused now; a far side that is not there (yet)
	 * is not: the port comes up when it appears.
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += VDE_FIRST_WAIT_MS / 1000;
	pthread_mutex_lock(&v->lock);
	while (!v->first_done &&
	       pthread_cond_timedwait(&v->cond, &v->lock, &ts) != ETIMEDOUT)
		;
	ret = v->first_done ? v->first_errno : 0;
	pthread_mutex_unlock(&v->lock);
	if (ret == EPROTONOSUPPORT) {
		snprintf(err, errlen,
			 "port %s: libvdeplug has no plugin for '%s' (it "
			 "loads libvdeplug_SCHEME.so from its plugin directory "
			 "or $VDEPLUGIN_PATH)", decl->name, decl->url);
		vde_free(v);
		return -EPROTONOSUPPORT;
	}
	if (ret == EINVAL) {
		snprintf(err, errlen, "port %s: libvdeplug refused the url '%s'",
			 decl->name, decl->url);
		vde_free(v);
		return -EINVAL;
	}
	*args = v; /* up, or down and retrying: vde_connector() said which */
	return 0;
sys_fail:
	ret = -errno;
	snprintf(err, errlen, "port %s: %s", decl->name, strerror(errno));
	vde_free(v);
	return ret;
free_v:
	vde_free(v);
nomem:
	snprintf(err, errlen, "port %s: out of memory", decl->name);
	return -ENOMEM;
}

static int vde_open_port(struct port *port, const void *args)
{
	if (!args)
		return -EINVAL;
	port->priv = (void *)args;
	return 0;
}

/* Data path: take the connection the connector left in @pending. */
static void vde_adopt(struct vde_port *v)
{
	struct epoll_event ev = {.events = EPOLLIN};
	uint64_t cnt;
	VDECONN *c;
	int fl;

	if (read(v->wakefd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_rl(LOG_WARN, MOD, "%s: eventfd: %s", v->name,
		       strerror(errno));
	pthread_mutex_lock(&v->lock);
	c = v->pending;
	v->pending = NULL;
	atomic_store(&v->has_pending, false);
	pthread_mutex_unlock(&v->lock);
	if (!c)
		return;
	v->conn = c;
	v->datafd = vde_datafd(c);
	v->ctlfd = vde_ctlfd(c);
	/* Plugins open blocking fds; the data path must never wait. */
	fl = fcntl(v->datafd, F_GETFL);
	if (fl >= 0)
		fcntl(v->datafd, F_SETFL, fl | O_NONBLOCK);
	ev.data.fd = v->datafd;
	epoll_ctl(v->epfd, EPOLL_CTL_ADD, v->datafd, &ev);
	if (v->ctlfd >= 0 && v->ctlfd != v->datafd) {
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.fd = v->ctlfd;
		epoll_ctl(v->epfd, EPOLL_CTL_ADD, v->ctlfd, &ev);
	}
	atomic_store(&v->link_up, true);
}

/* Data path: the far side is gone; the connector closes and reopens. */
static void vde_lost(struct vde_port *v, const char *why, int err)
{
	if (!v->conn)
		return;
	epoll_ctl(v->epfd, EPOLL_CTL_DEL, v->datafd, NULL);
	if (v->ctlfd >= 0 && v->ctlfd != v->datafd)
		epoll_ctl(v->epfd, EPOLL_CTL_DEL, v->ctlfd, NULL);
	atomic_store(&v->link_up, false);
	log_rl(LOG_WARN, MOD, "%s: connection to %s lost (%s%s%s); reconnecting",
	       v->name, v->url, why, err ? ": " : "", err ? strerror(err) : "");
	pthread_mutex_lock(&v->lock);
	if (err)
		snprintf(v->error, sizeof(v->error), "connection lost (%s: %s)",
			 why, strerror(err));
	else
		snprintf(v->error, sizeof(v->error), "connection lost (%s)", why);
	v->dead = v->conn;
	v->want_connect = true;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	v->conn = NULL;
	v->datafd = v->ctlfd = -1;
}

/* Errors of a data fd that mean the far side is gone, not a busy queue. */
static bool vde_errno_fatal(int err)
{
	return err != EAGAIN && err != EWOULDBLOCK && err != EINTR &&
	       err != ENOBUFS && err != ENOMEM && err != EMSGSIZE;
}

static int vde_port_recv(struct port *port, struct frame_batch *batch)
{
	struct vde_port *v = port->priv;
	struct epoll_event evs[4];
	bool data_ready = false;
	int n, got = 0;

	/* The connector only opens while we have no connection. */
	if (atomic_load(&v->has_pending) && !v->conn)
		vde_adopt(v);
	if (!v->conn)
		return 0;
	n = epoll_wait(v->epfd, evs, 4, 0);
	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == v->datafd) {
			if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				vde_lost(v, "data fd hung up", 0);
				return 0;
			}
			data_ready = true;
		} else if (evs[i].data.fd == v->ctlfd) {
			char c[64];
			ssize_t r = recv(v->ctlfd, c, sizeof(c), MSG_DONTWAIT);

			/* The control connection is silent after the
			 * handshake: EOF or an error is the switch leaving. */
			if (r == 0 || (r < 0 && vde_errno_fatal(errno)) ||
			    (evs[i].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))) {
				vde_lost(v, "control connection closed",
					 r < 0 ? errno : 0);
				return 0;
			}
		}
	}
	if (!data_ready)
		return 0;
	/* Bounded: at most one batch of reads, whatever the far side sends. */
	for (uint32_t tries = 0; tries < FRAME_BATCH_MAX &&
				 batch->count < FRAME_BATCH_MAX; tries++) {
		uint8_t *buf = v->bufs + (size_t)got * VDE_BUF;
		ssize_t r = vde_recv(v->conn, buf, VDE_BUF, 0);
		struct frame *f;

		if (r < 0) {
			if (vde_errno_fatal(errno))
				vde_lost(v, "receive failed", errno);
			break;
		}
		if (r == 0) {
			/* EOF on a stream plugin (cmd://, ptp over TCP). */
			vde_lost(v, "end of stream", 0);
			break;
		}
		if (r < VDE_FRAME_MIN) /* a plugin's keep-alive or a runt */
			continue;
		f = &batch->f[batch->count++];
		memset(f, 0, sizeof(*f));
		f->data = buf;
		f->len = (uint32_t)r;
		got++;
	}
	return got;
}

static void vde_port_recv_done(struct port *port, struct frame_batch *batch)
{
	/* The buffers are ours and reused by the next recv. */
}

static int vde_port_send(struct port *port, struct frame_batch *batch)
{
	struct vde_port *v = port->priv;
	int sent = 0;

	for (uint32_t i = 0; i < batch->count && v->conn; i++) {
		const struct frame *f = &batch->f[i];
		ssize_t r;

		/* VDE carries whole, checksummed frames only. */
		if (f->len > VDE_ETHBUFSIZE || f->len < VDE_FRAME_MIN ||
		    f->off.gso_type != FRAME_GSO_NONE ||
		    (f->off.flags & FRAME_F_NEEDS_CSUM))
			continue;
		r = vde_send(v->conn, f->data, f->len, 0);
		if (r == (ssize_t)f->len) {
			sent++;
			continue;
		}
		if (r < 0 && vde_errno_fatal(errno))
			vde_lost(v, "send failed", errno);
	}
	return sent;
}

static int vde_port_poll_fd(struct port *port)
{
	struct vde_port *v = port->priv;

	return v->epfd;
}

static void vde_close_port(struct port *port)
{
	struct vde_port *v = port->priv;

	if (v)
		vde_free(v);
	port->priv = NULL;
}

void vde_port_status_get(struct port *port, struct vde_port_status *st)
{
	struct vde_port *v = port->priv;

	memset(st, 0, sizeof(*st));
	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	st->link_up = atomic_load(&v->link_up);
	st->connects = v->connects;
	snprintf(st->error, sizeof(st->error), "%s", st->link_up ? "" : v->error);
	pthread_mutex_unlock(&v->lock);
}

static bool vde_port_link(struct port *port, char *why, size_t len)
{
	struct vde_port_status st;

	vde_port_status_get(port, &st);
	if (!st.link_up)
		snprintf(why, len, "%s: %s", st.connects ? "reconnecting" :
			 "connecting", st.error[0] ? st.error : "no answer yet");
	return st.link_up;
}

const struct port_ops vde_port_ops = {
	.name = "vde",
	.caps = PORT_CAP_POLL_LEVEL,
	.create = vde_port_create,
	.open = vde_open_port,
	.recv = vde_port_recv,
	.recv_done = vde_port_recv_done,
	.send = vde_port_send,
	.poll_fd = vde_port_poll_fd,
	.link = vde_port_link,
	.close = vde_close_port,
};
