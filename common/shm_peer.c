/* SPDX-License-Identifier: MIT */
/* shm_peer.c - the peer (VMM) side of an shm port: attach, map, frames. */
#include "common/shm_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int shm_peer_map(int memfd, struct shm_peer *p)
{
	struct shm_layout max;
	struct stat st;
	int seals, err;
	void *base;

	/*
	 * Size first: never map more than the largest legal region, and only
	 * a memfd sealed against shrinking, so no access can SIGBUS.
	 */
	if (fstat(memfd, &st) < 0)
		return -errno;
	shm_layout_compute(&max, SHM_RING_SIZE_MAX, SHM_DATA_SIZE_MAX, 0);
	if (!S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)sizeof(struct shm_port_header) ||
	    (uint64_t)st.st_size > max.region_size)
		return -EPROTO;
	seals = fcntl(memfd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EPROTO;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, memfd, 0);
	if (base == MAP_FAILED)
		return -errno;
	err = shm_header_parse(base, (size_t)st.st_size, &p->layout);
	if (err)
		goto unmap;
	if (p->layout.region_size != (uint64_t)st.st_size) {
		err = -EPROTO;
		goto unmap;
	}
	err = shm_prod_init(&p->tx, base, &p->layout, SHM_TO_NETD);
	if (err)
		goto unmap;
	shm_cons_init(&p->rx, base, &p->layout, SHM_TO_PEER);
	memcpy(p->mac, ((const struct shm_port_header *)base)->mac, 6);
	p->base = base;
	p->size = (size_t)st.st_size;
	return 0;
unmap:
	munmap(base, (size_t)st.st_size);
	return err;
}

int shm_peer_attach(int sock, const struct shm_attach_req *req, int timeout_ms,
		    struct shm_peer *p)
{
	struct shm_attach_reply rep;
	int fds[SHM_FD_COUNT];
	int n, err;

	memset(p, 0, sizeof(*p));
	p->kick_netd = p->kick_peer = -1;
	err = shm_msg_send(sock, req, sizeof(*req), NULL, 0);
	if (err)
		return err;
	n = shm_msg_recv(sock, &rep, sizeof(rep), fds, SHM_FD_COUNT,
			 timeout_ms);
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
		err = -EPROTO; /* netd may only accept what we offered */
	if (err) {
		if (p->base)
			shm_peer_close(p);
		for (int i = 0; i < n; i++)
			close(fds[i]);
		return err;
	}
	close(fds[SHM_FD_MEMFD]); /* the mapping keeps the region */
	p->kick_netd = fds[SHM_FD_KICK_NETD];
	p->kick_peer = fds[SHM_FD_KICK_PEER];
	return 0;
}

int shm_peer_connect(const char *path, const struct shm_attach_req *req,
		     int timeout_ms, struct shm_peer *p)
{
	int sock = shm_sock_connect(path), err;

	if (sock < 0)
		return sock;
	err = shm_peer_attach(sock, req, timeout_ms, p);
	close(sock);
	return err;
}

void shm_peer_close(struct shm_peer *p)
{
	shm_prod_fini(&p->tx);
	if (p->base)
		munmap(p->base, p->size);
	p->base = NULL;
	if (p->kick_netd >= 0)
		close(p->kick_netd);
	if (p->kick_peer >= 0)
		close(p->kick_peer);
	p->kick_netd = p->kick_peer = -1;
}

int shm_peer_send(struct shm_peer *p, const void *frame, uint32_t len,
		  const struct shm_desc *off)
{
	struct shm_desc d = {.len = len};
	uint8_t *dst;

	if (p->tx.broken)
		return -EPROTO;
	if (len < SHM_FRAME_MIN || len > SHM_FRAME_MAX)
		return -EINVAL;
	dst = shm_prod_alloc(&p->tx, len);
	if (!dst)
		return p->tx.broken ? -EPROTO : -ENOBUFS;
	memcpy(dst, frame, len);
	if (off) {
		d = *off;
		d.len = len;
	}
	shm_prod_commit(&p->tx, &d);
	return 0;
}

void shm_peer_flush(struct shm_peer *p)
{
	if (shm_prod_publish(&p->tx)) {
		p->tx.st.kicks++;
		shm_kick(p->kick_netd);
	}
}

void shm_peer_release(struct shm_peer *p, uint32_t n)
{
	if (shm_cons_release(&p->rx, n)) {
		p->rx.st.kicks++;
		shm_kick(p->kick_netd);
	}
}
