/* SPDX-License-Identifier: MIT */
/* slirp_fwd.c - the NAT uplink's port forwards: libslirp's host listeners, re-pointed at a new guest, ports held while a forward has none. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/slirp_internal.h"

static bool sockaddr_same(const struct sockaddr_storage *a, socklen_t alen,
			  const struct sockaddr *b, socklen_t blen)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)b;

		return blen >= sizeof(*y) && x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (b->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;

		return blen >= sizeof(*y) && x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr,
			       sizeof(y->sin6_addr));
	}
	return false;
}

static int sockaddr_check(const struct sockaddr *sa, socklen_t len)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return 0;
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return 0;
	return -EAFNOSUPPORT;
}

static struct uplink_fwd *uplink_fwd_find(struct slirp_uplink *u, bool udp,
					  const struct sockaddr *host,
					  socklen_t hlen)
{
	for (unsigned int i = 0; i < SLIRP_FORWARDS_MAX; i++)
		if (u->fwd[i].used && u->fwd[i].udp == udp &&
		    sockaddr_same(&u->fwd[i].host, u->fwd[i].hlen, host, hlen))
			return &u->fwd[i];
	return NULL;
}

static int fwd_flags(const struct uplink_fwd *f)
{
	int flags = f->udp ? SLIRP_HOSTFWD_UDP : 0;

	/* An IPv6 listener leaves the IPv4 port to a forward of its own. */
	if (f->host.ss_family == AF_INET6)
		flags |= SLIRP_HOSTFWD_V6ONLY;
	return flags;
}

/*
 * Hold @f's host port without listening (struct uplink_fwd). Return: 0
 * or -errno (-EADDRINUSE: taken).
 */
static int fwd_reserve(struct uplink_fwd *f)
{
	int s, one = 1, err;

	s = socket(f->host.ss_family,
		   (f->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	/*
	 * SO_REUSEADDR: connections accepted through the listener this hold
	 * replaces keep the port's address (they go on to their guest).
	 */
	if ((f->host.ss_family == AF_INET6 &&
	     setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(s, (const struct sockaddr *)&f->host, f->hlen) < 0)
		goto fail;
	f->reserve_fd = s;
	return 0;
fail:
	err = -errno;
	close(s);
	return err;
}

static void fwd_unreserve(struct uplink_fwd *f)
{
	if (f->reserve_fd >= 0)
		close(f->reserve_fd);
	f->reserve_fd = -1;
}

/* libslirp listens on @f's host port for @guest. Lock held, thread paused. */
static int fwd_listen(struct slirp_uplink *u, struct uplink_fwd *f,
		      const struct sockaddr *guest, socklen_t glen)
{
	errno = 0;
	if (slirp_add_hostxfwd(u->slirp, (const struct sockaddr *)&f->host,
			       f->hlen, guest, glen, fwd_flags(f)) < 0)
		/* libslirp keeps bind()'s errno; a lost one means "in use". */
		return errno ? -errno : -EADDRINUSE;
	f->listening = true;
	return 0;
}

/*
 * Close libslirp's listener of @f. libslirp removes the first socket
 * flagged as a forward whose local address matches: repeat until none is
 * left, so that no listener survives whatever libslirp flags. The
 * connections accepted through it are not forward-flagged: they go on.
 */
static void fwd_unlisten(struct slirp_uplink *u, struct uplink_fwd *f)
{
	for (unsigned int i = 0;
	     f->listening && slirp_remove_hostxfwd(u->slirp,
				(const struct sockaddr *)&f->host, f->hlen,
				fwd_flags(f)) == 0; i++)
		if (i > 65536)
			break;
	f->listening = false;
}

/*
 * Point @f at @guest (NULL: at nothing, the port held). Lock held, thread
 * paused, so nothing accepts in between. A held port is let go just
 * before libslirp binds it and taken back if that fails.
 */
static int fwd_point(struct slirp_uplink *u, struct uplink_fwd *f,
		     const struct sockaddr *guest, socklen_t glen)
{
	int err;

	fwd_unlisten(u, f);
	if (!guest)
		return f->reserve_fd >= 0 ? 0 : fwd_reserve(f);
	fwd_unreserve(f);
	err = fwd_listen(u, f, guest, glen);
	if (err && fwd_reserve(f) < 0)
		f->reserve_fd = -1;
	return err;
}

int slirp_uplink_forward_add(struct slirp_uplink *u, bool udp,
			     const struct sockaddr *host, socklen_t hlen,
			     const struct sockaddr *guest, socklen_t glen)
{
	struct uplink_fwd *slot = NULL;
	int err;

	if (sockaddr_check(host, hlen) ||
	    (guest && sockaddr_check(guest, glen)) ||
	    hlen > sizeof(slot->host))
		return -EAFNOSUPPORT;
	uplink_pause(u);
	if (uplink_fwd_find(u, udp, host, hlen)) {
		err = -EEXIST;
		goto unlock;
	}
	for (unsigned int i = 0; i < SLIRP_FORWARDS_MAX && !slot; i++)
		if (!u->fwd[i].used)
			slot = &u->fwd[i];
	if (!slot) {
		err = -ENOSPC;
		goto unlock;
	}
	memset(slot, 0, sizeof(*slot));
	slot->udp = udp;
	slot->reserve_fd = -1;
	memcpy(&slot->host, host, hlen);
	slot->hlen = hlen;
	err = guest ? fwd_listen(u, slot, guest, glen) : fwd_reserve(slot);
	if (err)
		goto unlock;
	slot->used = true;
	u->st.forwards++;
unlock:
	uplink_resume(u);
	if (!err)
		uplink_kick(u); /* poll the new listener from now on */
	return err;
}

int slirp_uplink_forward_retarget(struct slirp_uplink *u, bool udp,
				  const struct sockaddr *host, socklen_t hlen,
				  const struct sockaddr *guest, socklen_t glen)
{
	struct uplink_fwd *f;
	int err;

	if (sockaddr_check(host, hlen) || (guest && sockaddr_check(guest, glen)))
		return -EAFNOSUPPORT;
	uplink_pause(u);
	f = uplink_fwd_find(u, udp, host, hlen);
	err = f ? fwd_point(u, f, guest, glen) : -ENOENT;
	uplink_resume(u);
	uplink_kick(u);
	return err;
}

int slirp_uplink_forward_remove(struct slirp_uplink *u, bool udp,
				const struct sockaddr *host, socklen_t hlen)
{
	struct uplink_fwd *f;
	int err = 0;

	if (sockaddr_check(host, hlen))
		return -EAFNOSUPPORT;
	uplink_pause(u);
	f = uplink_fwd_find(u, udp, host, hlen);
	if (!f) {
		err = -ENOENT;
		goto unlock;
	}
	fwd_unlisten(u, f);
	fwd_unreserve(f);
	f->used = false;
	u->st.forwards--;
unlock:
	uplink_resume(u);
	if (!err)
		uplink_kick(u);
	return err;
}

void uplink_forwards_close(struct slirp_uplink *u)
{
	for (unsigned int i = 0; i < SLIRP_FORWARDS_MAX; i++)
		if (u->fwd[i].used)
			fwd_unreserve(&u->fwd[i]);
}

int slirp_uplink_forward_conns(struct slirp_uplink *u, bool udp,
			       uint16_t port)
{
	char *info = slirp_uplink_connections(u), *line, *save = NULL;
	int n = 0;

	if (udp)
		n = -1;
	if (!info || udp) {
		free(info);
		return n;
	}
	/* "  TCP[STATE]  FD  SRC SPORT  DST DPORT RECVQ SENDQ", the host side
	 * (the forward's port) first for a forwarded connection. */
	for (line = strtok_r(info, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char state[32], src[64];
		unsigned int sport;
		int fd;

		if (sscanf(line, " TCP[%31[^]]] %d %63s %u", state, &fd, src,
			   &sport) == 4 &&
		    strcmp(state, "HOST_FORWARD") && sport == port)
			n++;
	}
	free(info);
	return n;
}
