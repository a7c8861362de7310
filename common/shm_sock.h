/* SPDX-License-Identifier: MIT */
/* shm_sock.h - shm port set-up: attach messages and fd passing. */
#ifndef LOOM_COMMON_SHM_SOCK_H
#define LOOM_COMMON_SHM_SOCK_H

#include <stddef.h>

#include "loom/shm_port.h"

/*
 * shm_name_ok() - a network or port name as the control protocol takes
 * them: 1..@max-1 bytes of [A-Za-z0-9._-] before a NUL within @max.
 */
int shm_name_ok(const char *s, size_t max);

/*
 * shm_sock_connect() - a connected, blocking, close-on-exec Unix stream
 * socket to @path (netd's control socket). Return: the fd or -errno.
 */
int shm_sock_connect(const char *path);

/*
 * shm_msg_send() - send @len bytes of @buf with @nfds fds (0..SHM_FD_COUNT)
 * in one SCM_RIGHTS message.
 * Return: 0, or negative errno.
 */
int shm_msg_send(int sock, const void *buf, size_t len, const int *fds,
		 unsigned int nfds);

/*
 * shm_msg_recv() - receive exactly @len bytes with at most @max_fds fds
 * (0..SHM_FD_COUNT), waiting at most @timeout_ms in all (-1: forever).
 * Fds are received close-on-exec. More fds than @max_fds, a truncated
 * control message (MSG_CTRUNC) or a short message is rejected, and every
 * fd that did arrive is closed: the caller never holds a stray fd. The
 * caller checks the count it got against what the message says.
 * Return: fds received into @fds (>= 0), -EPROTO (bad message or fds),
 * -ECONNRESET (peer closed first), -ETIMEDOUT, or another negative errno.
 */
int shm_msg_recv(int sock, void *buf, size_t len, int *fds,
		 unsigned int max_fds, int timeout_ms);

/*
 * shm_attach_req_parse() - validate @len raw bytes as an attach request
 * and copy it to @req: magic, version, size, a NUL-terminated non-empty
 * network name of [A-Za-z0-9._-], a unicast non-zero MAC, a known NIC
 * model, known feature bits, ring_size 0 or a power of 2 within the ABI,
 * reserved fields zero.
 * Return: 0, -EPROTONOSUPPORT (other version) or -EPROTO.
 */
int shm_attach_req_parse(const void *buf, size_t len,
			 struct shm_attach_req *req);

/*
 * shm_attach_req_init() - a well-formed request.
 * Return: 0, or -EINVAL (name too long).
 */
int shm_attach_req_init(struct shm_attach_req *req, const char *network,
			const uint8_t mac[6], enum shm_nic_model model,
			uint64_t features);

/*
 * shm_attach_req_set_port() - name the port (optional; netd names an
 * unnamed one after the MAC).
 * Return: 0, or -EINVAL (empty, too long, or a character outside
 * [A-Za-z0-9._-]).
 */
int shm_attach_req_set_port(struct shm_attach_req *req, const char *port);

/*
 * shm_attach_reply_parse() - validate @len raw bytes as a reply.
 * Return: 0, or -EPROTO.
 */
int shm_attach_reply_parse(const void *buf, size_t len,
			   struct shm_attach_reply *rep);

#endif
