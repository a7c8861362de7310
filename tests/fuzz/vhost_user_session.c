/* SPDX-License-Identifier: MIT */
/* vhost_user_session.c - fuzz the vhost-user port's session: message sequences into the handler, the data path run between them. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends/vhost_user_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: u16 L, then L bytes of messages, each {u8 request, u8 flags,
 * u8 nfds, u16 size, size payload bytes} (header rebuilt as the front end
 * would send it, the parser judging the rest), then the front end's
 * memory: up to 64 KiB written into the sealed memfd that SET_MEM_TABLE
 * fds refer to (so rings and buffers are the input's). After every
 * message the data path runs as netd's would: recv, recv_done, send of
 * one frame, arm. A message the handler refuses ends the session (reset),
 * as the session thread does, and the sequence goes on.
 */
enum { MEM = 65536 };

static int memfd_get(void)
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-fe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0 || ftruncate(fd, MEM) ||
		    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
			abort();
	}
	return fd;
}

static void run_datapath(struct vu_port *v)
{
	struct port p = {.priv = v};
	static struct frame_batch b;
	static uint8_t frame[60];

	b.count = 0;
	vu_port_recv(&p, &b);
	vu_port_recv_done(&p, &b);
	memset(frame, 0xff, 12);
	b.count = 1;
	b.f[0] = (struct frame){.data = frame, .len = sizeof(frame)};
	vu_port_send(&p, &b);
	vu_port_arm(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
	int mfd = memfd_get();
	struct vu_port *v;
	size_t len, pos = 2, end;
	uint16_t l;

	if (size < 2)
		return 0;
	memcpy(&l, data, 2);
	end = 2 + (l < size - 2 ? l : size - 2);
	{
		static uint8_t zero[MEM];
		size_t n = size - end < MEM ? size - end : MEM;

		if (pwrite(mfd, zero, MEM, 0) != MEM ||
		    (n && pwrite(mfd, data + end, n, 0) != (ssize_t)n))
			abort();
	}
	if (vu_port_alloc(&v, "fuzz", "p"))
		abort();
	v->connfd = eventfd(0, EFD_CLOEXEC); /* "connected" */
	while (pos + 5 <= end) {
		uint32_t req = data[pos], flags = VHOST_USER_VERSION |
						  (data[pos + 1] & 0x0c);
		unsigned int nfds = data[pos + 2] % 9;
		uint16_t psize;
		struct vhost_user_msg m;
		struct vu_reply rep = {0};
		int fds[VHOST_USER_MEM_REGIONS_MAX];
		char why[160];
		uint32_t s32;

		memcpy(&psize, data + pos + 3, 2);
		pos += 5;
		if (psize > VHOST_USER_PAYLOAD_MAX)
			psize = VHOST_USER_PAYLOAD_MAX;
		if (psize > end - pos)
			psize = (uint16_t)(end - pos);
		s32 = psize;
		memcpy(buf, &req, 4);
		memcpy(buf + 4, &flags, 4);
		memcpy(buf + 8, &s32, 4);
		memcpy(buf + VHOST_USER_HDR_SIZE, data + pos, psize);
		pos += psize;
		len = VHOST_USER_HDR_SIZE + psize;
		for (unsigned int k = 0; k < nfds; k++)
			fds[k] = req == VHOST_USER_SET_MEM_TABLE ?
					 dup(mfd) :
					 eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vhost_user_msg_parse(buf, len, nfds, &m, why, sizeof(why))) {
			for (unsigned int k = 0; k < nfds; k++)
				close(fds[k]);
			vu_session_reset(v);
			continue;
		}
		memcpy(m.fds, fds, sizeof(int) * nfds);
		pthread_mutex_lock(&v->lock);
		if (vu_handle(v, &m, &rep, why, sizeof(why)))
			vu_session_reset(v); /* the session ends */
		pthread_mutex_unlock(&v->lock);
		for (unsigned int k = 0; k < m.nfds; k++)
			if (m.fds[k] >= 0)
				close(m.fds[k]);
		run_datapath(v);
	}
	vu_port_release(v);
	return 0;
}
