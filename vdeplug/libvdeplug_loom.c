/* SPDX-License-Identifier: MIT */
/* libvdeplug_loom.c - vdeplug4 plugin: VDE programs join a loom network by URL loom://NET. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <libvdeplug_mod.h>

#include "common/rundir.h"
#include "common/shm_peer.h"
#include "loom/control.h"
#include "loom/shm_port.h"

/*
 * URL: loom://NET, loom://NET[port=NAME/socket=PATH] (NAME: the port's
 * name, by default the process's; PATH: loom-netd's control socket, by
 * default the run dir's, found by the same rule as `loom`: $LOOM_RUN_DIR,
 * /run/loom as root, $XDG_RUNTIME_DIR/loom, /tmp/loom-UID).
 *
 * The plugin is a peer of netd's shared-memory port protocol
 * (include/loom/shm_port.h), NIC model SHM_NIC_VDE, no offloads: netd
 * checks who connects exactly as for `loom` and loom-vmm (root or the
 * daemon's user), names the port after the client process
 * ("<comm>.<pid>", e.g. vde_plug.4242) unless the URL names it, and
 * removes it when the connection closes. That connection is the plugin's
 * control fd: EOF on it means netd removed the port (VDE programs stop
 * then).
 *
 * Receive side contract of libvdeplug: the program polls vde_datafd() and
 * calls vde_recv() once per wake-up. The data fd is netd's kick eventfd;
 * vde_recv() keeps it readable exactly while frames wait (it kicks it
 * itself when it leaves frames behind, and arms the ring's event before
 * the ring runs dry), so level-triggered polling works.
 */

/* Wait this long for netd's attach reply. */
enum { LOOM_VDE_ATTACH_TIMEOUT_MS = 3000 };

struct loom_vde_conn {
	void *handle;		       /* libvdeplug's: first two fields */
	struct vdeplug_module *module; /* as in struct vdeconn */
	struct shm_peer peer;
	int sock; /* attach connection, kept open: the control fd */
};

static void loom_vde_say(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "libvdeplug_loom: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
}

/* Copy the value of "KEY=VALUE" at @p (up to @end) into @out if KEY is @key. */
static int loom_vde_param(const char *p, const char *end, const char *key,
			  char *out, size_t outlen)
{
	size_t k = strlen(key), n;

	if ((size_t)(end - p) <= k || strncmp(p, key, k) || p[k] != '=')
		return 0;
	p += k + 1;
	n = (size_t)(end - p);
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

static bool loom_vde_name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

/*
 * Split "NET[socket=PATH/port=NAME]" (both optional, '/'-separated, as
 * vdeplug4's path parameters) into @net, @sock and @port ("" if absent).
 */
static int loom_vde_parse_url(const char *url, char *net, size_t netlen,
			      char *sock, size_t socklen, char *port,
			      size_t portlen)
{
	const char *br = strchr(url, '['), *p, *end;
	size_t n = br ? (size_t)(br - url) : strlen(url);

	sock[0] = port[0] = '\0';
	if (n == 0 || n >= netlen || n >= SHM_NETWORK_NAME_MAX)
		return -EINVAL;
	memcpy(net, url, n);
	net[n] = '\0';
	if (!loom_vde_name_ok(net))
		return -EINVAL;
	if (!br)
		return 0;
	end = strchr(br, ']');
	if (!end || end[1])
		return -EINVAL;
	/* A socket path has slashes of its own: socket= comes last. */
	for (p = br + 1; p < end;) {
		const char *q = memchr(p, '/', (size_t)(end - p));
		int r;

		if (!strncmp(p, "socket=", 7))
			q = end;
		if (!q)
			q = end;
		r = loom_vde_param(p, q, "socket", sock, socklen);
		if (!r)
			r = loom_vde_param(p, q, "port", port, portlen);
		if (r <= 0)
			return -EINVAL;
		p = q + (q < end);
	}
	if (port[0] && !loom_vde_name_ok(port))
		return -EINVAL;
	return 0;
}

static int loom_vde_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * netd answers a client it refuses (wrong user) in its JSON framing, not
 * with an attach reply: read that message for the person and map it.
 */
static int loom_vde_json_refusal(int sock)
{
	struct timeval tv = {.tv_sec = LOOM_VDE_ATTACH_TIMEOUT_MS / 1000};
	char msg[512];
	uint32_t be, len;
	ssize_t n;
	const char *m;

	/* netd sends the length and the text apart, then closes: wait for
	 * the whole text (bounded: the socket times out). */
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(sock, &be, 4, MSG_WAITALL);
	if (n != 4)
		return -EPROTO;
	len = ntohl(be);
	if (len == 0 || len > sizeof(msg) - 1)
		len = sizeof(msg) - 1;
	n = recv(sock, msg, len, MSG_WAITALL);
	if (n <= 0)
		return -EPROTO;
	msg[n] = '\0';
	m = strstr(msg, "\"message\":\"");
	if (m) {
		char *e;

		m += 11;
		e = strchr(m, '"');
		if (e)
			*e = '\0';
		loom_vde_say("loom-netd refused: %s%s", m, "");
	}
	return strstr(msg, "EPERM") ? -EACCES : -ECONNREFUSED;
}

/* The attach exchange of shm_peer_attach(), keeping the connection. */
static int loom_vde_attach(int sock, const struct shm_attach_req *req,
			   struct shm_peer *p)
{
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	struct shm_attach_reply rep;
	int fds[SHM_FD_COUNT];
	uint32_t magic;
	int n, err;

	memset(p, 0, sizeof(*p));
	p->kick_netd = p->kick_peer = -1;
	/* A refusal may be on its way before our request is: netd checks
	 * the peer at accept and closes, so a failed send reads it too. */
	err = shm_msg_send(sock, req, sizeof(*req), NULL, 0);
	n = poll(&pfd, 1, err ? 0 : LOOM_VDE_ATTACH_TIMEOUT_MS);
	if (n <= 0 && err)
		return err;
	if (n <= 0)
		return n < 0 ? -errno : -ETIMEDOUT;
	n = (int)recv(sock, &magic, sizeof(magic), MSG_PEEK | MSG_WAITALL);
	if (n == sizeof(magic) && magic != SHM_ATTACH_MAGIC)
		return loom_vde_json_refusal(sock);
	n = shm_msg_recv(sock, &rep, sizeof(rep), fds, SHM_FD_COUNT,
			 LOOM_VDE_ATTACH_TIMEOUT_MS);
	if (n < 0)
		return n;
	err = shm_attach_reply_parse(&rep, sizeof(rep), &rep);
	if (!err && (uint32_t)n != rep.nfds)
		err = -EPROTO;
	if (!err && rep.status)
		err = rep.status;
	if (!err)
		err = shm_peer_map(fds[SHM_FD_MEMFD], p);
	if (!err && (p->layout.features & ~req->features))
		err = -EPROTO;
	if (err) {
		if (p->base)
			shm_peer_close(p);
		for (int i = 0; i < n; i++)
			close(fds[i]);
		return err;
	}
	close(fds[SHM_FD_MEMFD]);
	p->kick_netd = fds[SHM_FD_KICK_NETD];
	p->kick_peer = fds[SHM_FD_KICK_PEER];
	return 0;
}

/* Frames wait: keep the data fd readable. Ring empty: ask netd to kick. */
static void loom_vde_rearm(struct loom_vde_conn *c)
{
	int n = shm_cons_peek(&c->peer.rx);

	if (n != 0 || !shm_cons_arm(&c->peer.rx))
		shm_kick(c->peer.kick_peer);
}

static VDECONN *loom_vde_open(char *url, char *descr, int interface_version,
			      struct vde_open_args *open_args)
{
	char net[SHM_NETWORK_NAME_MAX], sock[RUNDIR_PATH_MAX + 16];
	char port[SHM_PORT_NAME_MAX];
	struct shm_attach_req req;
	struct loom_vde_conn *c;
	uint8_t mac[6];
	int fd, err;

	if (loom_vde_parse_url(url, net, sizeof(net), sock, sizeof(sock), port,
			       sizeof(port))) {
		loom_vde_say("bad URL 'loom://%s' (use loom://NETWORK, "
			     "loom://NETWORK[port=NAME/socket=PATH])%s", url,
			     "");
		errno = EINVAL;
		return NULL;
	}
	if (!sock[0]) {
		struct rundir d;

		if (rundir_resolve(NULL, &d) ||
		    rundir_join(&d, LOOM_CONTROL_SOCKET, sock, sizeof(sock))) {
			errno = ENAMETOOLONG;
			return NULL;
		}
	}
	/* A locally administered unicast MAC names the port to netd. */
	if (getrandom(mac, sizeof(mac), 0) != sizeof(mac)) {
		errno = EIO;
		return NULL;
	}
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	err = shm_attach_req_init(&req, net, mac, SHM_NIC_VDE, 0);
	if (err) {
		errno = -err;
		return NULL;
	}
	/* Unnamed, netd names the port after this process. */
	memcpy(req.port, port, strlen(port));
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	fd = loom_vde_connect(sock);
	if (fd < 0) {
		loom_vde_say("cannot connect to loom-netd at %s: %s", sock,
			     strerror(-fd));
		free(c);
		errno = -fd;
		return NULL;
	}
	err = loom_vde_attach(fd, &req, &c->peer);
	if (err) {
		if (err == -ENOENT)
			loom_vde_say("loom-netd has no network '%s'%s", net, "");
		else if (err != -EACCES)
			loom_vde_say("attach to '%s' failed: %s", net,
				     strerror(-err));
		close(fd);
		free(c);
		errno = -err;
		return NULL;
	}
	c->sock = fd;
	loom_vde_rearm(c);
	return (VDECONN *)c;
}

static ssize_t loom_vde_recv(VDECONN *conn, void *buf, size_t len, int flags)
{
	struct loom_vde_conn *c = (struct loom_vde_conn *)conn;
	enum shm_violation why;
	struct shm_desc d;
	const uint8_t *f;
	size_t n;
	int avail;

	shm_drain(c->peer.kick_peer);
	avail = shm_cons_peek(&c->peer.rx);
	if (avail < 0) {
		errno = EPIPE;
		return -1;
	}
	if (avail == 0) {
		loom_vde_rearm(c);
		return 0; /* VDE programs ignore empty reads */
	}
	shm_cons_disarm(&c->peer.rx);
	f = shm_cons_get(&c->peer.rx, 0, &d, &why);
	if (!f) {
		errno = EPIPE;
		return -1;
	}
	/* Like a datagram socket: a short buffer gets the frame's start. */
	n = d.len < len ? d.len : len;
	memcpy(buf, f, n);
	shm_peer_release(&c->peer, 1);
	loom_vde_rearm(c);
	return (ssize_t)n;
}

static ssize_t loom_vde_send(VDECONN *conn, const void *buf, size_t len,
			     int flags)
{
	struct loom_vde_conn *c = (struct loom_vde_conn *)conn;
	int err;

	if (len > SHM_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	err = shm_peer_send(&c->peer, buf, (uint32_t)len, NULL);
	if (err == -EINVAL && len < SHM_FRAME_MIN)
		return (ssize_t)len; /* a runt: dropped, as a switch would */
	if (err) {
		/* A full ring drops the frame, like a busy VDE switch. */
		errno = err == -ENOBUFS ? ENOBUFS : EPIPE;
		return -1;
	}
	shm_peer_flush(&c->peer);
	return (ssize_t)len;
}

static int loom_vde_datafd(VDECONN *conn)
{
	return ((struct loom_vde_conn *)conn)->peer.kick_peer;
}

static int loom_vde_ctlfd(VDECONN *conn)
{
	return ((struct loom_vde_conn *)conn)->sock;
}

static int loom_vde_close(VDECONN *conn)
{
	struct loom_vde_conn *c = (struct loom_vde_conn *)conn;

	shm_peer_close(&c->peer);
	close(c->sock); /* netd removes the port */
	free(c);
	return 0;
}

/* The one symbol libvdeplug looks up (dlsym "vdeplug_ops"). */
__attribute__((visibility("default"))) struct vdeplug_module vdeplug_ops = {
	.vde_open_real = loom_vde_open,
	.vde_recv = loom_vde_recv,
	.vde_send = loom_vde_send,
	.vde_datafd = loom_vde_datafd,
	.vde_ctlfd = loom_vde_ctlfd,
	.vde_close = loom_vde_close,
};
