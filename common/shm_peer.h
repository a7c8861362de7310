/* SPDX-License-Identifier: MIT */
/* shm_peer.h - the peer (VMM) side of an shm port: attach, map, frames. */
#ifndef LOOM_COMMON_SHM_PEER_H
#define LOOM_COMMON_SHM_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/shm_ring.h"
#include "common/shm_sock.h"

/*
 * struct shm_peer - one attached port as the VMM sees it: it produces on
 * the to_netd ring (@tx) and consumes the to_peer ring (@rx). Single
 * threaded: one thread drives both rings (or one thread per ring, as each
 * ring end is used by one thread only).
 */
struct shm_peer {
	void *base;
	size_t size;
	struct shm_layout layout;
	int kick_netd; /* eventfd we write to wake netd */
	int kick_peer; /* eventfd netd writes to wake us */
	struct shm_prod tx;
	struct shm_cons rx;
	uint8_t mac[6];
};

/*
 * shm_peer_attach() - send @req on the connected Unix socket @sock, wait
 * at most @timeout_ms for the reply, and map the region it carries. The
 * memfd is checked with fstat and its seals before mmap; the header is
 * validated against the size.
 * Return: 0, the negative errno netd answered with, or -EPROTO (bad
 * reply, wrong fds, bad region), -ETIMEDOUT, another negative errno.
 */
int shm_peer_attach(int sock, const struct shm_attach_req *req, int timeout_ms,
		    struct shm_peer *p);

/*
 * shm_peer_connect() - connect to the Unix socket at @path and attach.
 * Return: as shm_peer_attach(); the socket is closed either way.
 */
int shm_peer_connect(const char *path, const struct shm_attach_req *req,
		     int timeout_ms, struct shm_peer *p);

/*
 * shm_peer_map() - map @memfd (netd's region) after checking its size and
 * seals; also used by the benchmark. Takes no ownership of @memfd.
 * Return: 0, or -EPROTO / negative errno.
 */
int shm_peer_map(int memfd, struct shm_peer *p);

/* shm_peer_close() - unmap and close everything. */
void shm_peer_close(struct shm_peer *p);

/*
 * shm_peer_send() - queue one frame of @len bytes with offload metadata
 * @off (NULL: none) on the to_netd ring; shm_peer_flush() publishes.
 * Return: 0, -ENOBUFS (ring full), -EINVAL (length), -EPROTO (broken).
 */
int shm_peer_send(struct shm_peer *p, const void *frame, uint32_t len,
		  const struct shm_desc *off);

/* shm_peer_flush() - publish queued frames, kick netd if it sleeps. */
void shm_peer_flush(struct shm_peer *p);

/*
 * Receiving: n = shm_cons_peek(&p->rx) (or shm_cons_wait(&p->rx,
 * p->kick_peer, spin_ns, timeout_ms) to wait adaptively), then
 * shm_cons_get(&p->rx, i, &desc, &why) for i < n (NULL: netd broke the
 * protocol, detach), then shm_peer_release(p, n).
 */

/* shm_peer_release() - give @n received frames back, kick netd if it waits. */
void shm_peer_release(struct shm_peer *p, uint32_t n);

#endif
