/* SPDX-License-Identifier: MIT */
/* shm_sock.c - shm port set-up: attach messages and fd passing. */
#include "common/shm_sock.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/shm_ring.h"

int shm_sock_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int sock, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(sock);
		return err;
	}
	return sock;
}

int shm_msg_send(int sock, const void *buf, size_t len, const int *fds,
		 unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(SHM_FD_COUNT * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (nfds > SHM_FD_COUNT)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO; /* small fixed messages: a short send is an error
			      */
	return 0;
}

/* Collect the fds of every SCM_RIGHTS header; count them all. */
static unsigned int take_fds(struct msghdr *msg, int *got, unsigned int max,
			     unsigned int have, unsigned int *total)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(fd));
			if (have < max)
				got[have++] = fd;
			else
				close(fd);
			(*total)++;
		}
	}
	return have;
}

static uint64_t now_ms(void)
{
	return shm_now_ns() / 1000000;
}

int shm_msg_recv(int sock, void *buf, size_t len, int *fds,
		 unsigned int max_fds, int timeout_ms)
{
	/* Room for one more fd than allowed, so extras show as a count. */
	union {
		char buf[CMSG_SPACE((SHM_FD_COUNT + 1) * sizeof(int))];
		struct cmsghdr align;
	} u;
	int got[SHM_FD_COUNT + 1];
	unsigned int have = 0, total = 0;
	uint64_t deadline =
	    timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;
	size_t done = 0;
	int err = 0;

	if (max_fds > SHM_FD_COUNT)
		return -EINVAL;
	while (done < len) {
		struct iovec iov = {.iov_base = (char *)buf + done,
				    .iov_len = len - done};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf)};
		struct pollfd pfd = {.fd = sock, .events = POLLIN};
		int ms = -1;
		ssize_t n;

		if (timeout_ms >= 0) {
			uint64_t t = now_ms();

			if (t >= deadline) {
				err = -ETIMEDOUT;
				break;
			}
			ms = (int)(deadline - t);
		}
		n = poll(&pfd, 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			continue; /* the deadline check above ends it */
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		have = take_fds(&msg, got, SHM_FD_COUNT + 1, have, &total);
		if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
			err = -EPROTO;
			break;
		}
		if (n == 0) {
			err = done ? -EPROTO : -ECONNRESET;
			break;
		}
		done += (size_t)n;
	}
	if (!err && total > max_fds)
		err = -EPROTO;
	if (err) {
		for (unsigned int i = 0; i < have; i++)
			close(got[i]);
		return err;
	}
	if (have)
		memcpy(fds, got, have * sizeof(int));
	return (int)have;
}

int shm_name_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i]; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return i > 0 && i < max;
}

/* Every byte after the first NUL is zero (no hidden payload). */
static int zero_after_nul(const char *s, size_t max)
{
	size_t i = strnlen(s, max);

	for (; i < max; i++)
		if (s[i])
			return 0;
	return 1;
}

int shm_attach_req_parse(const void *buf, size_t len,
			 struct shm_attach_req *req)
{
	static const uint8_t zero_mac[6];

	if (len != sizeof(*req))
		return -EPROTO;
	memcpy(req, buf, sizeof(*req));
	if (req->magic != SHM_ATTACH_MAGIC)
		return -EPROTO;
	if (req->version != SHM_PORT_VERSION)
		return -EPROTONOSUPPORT;
	if (req->size != sizeof(*req) || req->reserved0 || req->reserved1)
		return -EPROTO;
	if (!shm_name_ok(req->network, sizeof(req->network)))
		return -EPROTO;
	if (req->port[0] && (!shm_name_ok(req->port, sizeof(req->port)) ||
			     !zero_after_nul(req->port, sizeof(req->port))))
		return -EPROTO;
	if (!req->port[0] && !zero_after_nul(req->port, sizeof(req->port)))
		return -EPROTO;
	if ((req->mac[0] & 1) || !memcmp(req->mac, zero_mac, 6))
		return -EPROTO;
	if (req->model > SHM_NIC_MODEL_MAX)
		return -EPROTO;
	if (req->features & ~(uint64_t)SHM_F_ALL)
		return -EPROTO;
	if (req->ring_size && ((req->ring_size & (req->ring_size - 1)) ||
			       req->ring_size < SHM_BATCH_MAX ||
			       req->ring_size > SHM_RING_SIZE_MAX))
		return -EPROTO;
	return 0;
}

int shm_attach_req_init(struct shm_attach_req *req, const char *network,
			const uint8_t mac[6], enum shm_nic_model model,
			uint64_t features)
{
	size_t n = strlen(network);

	if (n == 0 || n >= sizeof(req->network))
		return -EINVAL;
	memset(req, 0, sizeof(*req));
	req->magic = SHM_ATTACH_MAGIC;
	req->version = SHM_PORT_VERSION;
	req->size = sizeof(*req);
	memcpy(req->network, network, n);
	memcpy(req->mac, mac, 6);
	req->model = (uint8_t)model;
	req->features = features;
	return 0;
}

int shm_attach_req_set_port(struct shm_attach_req *req, const char *port)
{
	size_t n = strlen(port);

	if (n >= sizeof(req->port) || !shm_name_ok(port, sizeof(req->port)))
		return -EINVAL;
	memset(req->port, 0, sizeof(req->port));
	memcpy(req->port, port, n);
	return 0;
}

int shm_attach_reply_parse(const void *buf, size_t len,
			   struct shm_attach_reply *rep)
{
	if (len != sizeof(*rep))
		return -EPROTO;
	memcpy(rep, buf, sizeof(*rep));
	if (rep->magic != SHM_ATTACH_MAGIC ||
	    rep->version != SHM_PORT_VERSION || rep->size != sizeof(*rep))
		return -EPROTO;
	if (rep->status > 0 || rep->status < -4095)
		return -EPROTO;
	if (rep->status == 0 && rep->nfds != SHM_FD_COUNT)
		return -EPROTO;
	if (rep->status != 0 && rep->nfds != 0)
		return -EPROTO;
	if (rep->features & ~(uint64_t)SHM_F_ALL)
		return -EPROTO;
	return 0;
}
