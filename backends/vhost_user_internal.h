/* SPDX-License-Identifier: MIT */
/* vhost_user_internal.h - what the vhost-user port's session thread (vhost_user.c) and data path (vhost_user_net.c) share. */
#ifndef LOOM_BACKENDS_VHOST_USER_INTERNAL_H
#define LOOM_BACKENDS_VHOST_USER_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backends/vhost_user.h"
#include "backends/vhost_user_mem.h"
#include "backends/vhost_user_vring.h"
#include "switch/switch.h"

/* Feature bits (virtio 1.2 and the vhost-user spec). */
#define VU_F_MRG_RXBUF (1ull << 15)
#define VU_F_INDIRECT_DESC (1ull << 28)
#define VU_F_EVENT_IDX (1ull << 29)
#define VU_F_PROTOCOL_FEATURES (1ull << 30)
#define VU_F_VERSION_1 (1ull << 32)
#define VU_FEATURES                                                    \
	(VU_F_MRG_RXBUF | VU_F_INDIRECT_DESC | VU_F_EVENT_IDX |        \
	 VU_F_PROTOCOL_FEATURES | VU_F_VERSION_1)
#define VU_PROTOCOL_F_REPLY_ACK (1ull << 3)
#define VU_PROTOCOL_FEATURES VU_PROTOCOL_F_REPLY_ACK

enum { VU_RX = 0, VU_TX = 1 }; /* vring indices, the guest's view */

/*
 * struct vu_vring - one vring as the messages set it up.
 * @num, @addr, @base: SET_VRING_NUM / _ADDR / _BASE (kept across stops)
 * @kickfd, @callfd: the front end's eventfds, or -1
 * @started: a kick fd came and the rings passed the checks (vq enabled)
 * @enabled: SET_VRING_ENABLE 1 (implicit without PROTOCOL_FEATURES)
 */
struct vu_vring {
	uint32_t num;
	struct vhost_user_vring_addr addr;
	bool has_addr;
	uint16_t base;
	int kickfd;
	int callfd;
	bool started;
	bool enabled;
	struct virtq vq;
};

struct vu_port {
	char path[VHOST_USER_PATH_MAX + 1];
	char name[80]; /* "NET:PORT" for logs and vq names */
	dev_t sock_dev;
	ino_t sock_ino; /* our socket file: unlinked at close only if still it */

	/* session thread only */
	pthread_t thread;
	bool thread_started;
	int listenfd;
	int stopfd; /* close() -> thread: stop */
	int killfd; /* data path -> thread: the session broke */

	/* Everything below under @lock (data path: trylock only). */
	pthread_mutex_t lock;
	int connfd;
	uint64_t features;
	uint64_t protocol_features;
	bool owner;
	struct vhost_user_mem mem;
	struct guest_mem gm;
	struct vu_vring vr[VHOST_USER_VRINGS_MAX];
	unsigned int hdr_len; /* virtio-net header: 12 or 10 (legacy) */
	bool kill_sent;
	uint64_t sessions, ended;
	char error[160];

	/* data path (recv .. recv_done holds @lock: @dp_holds) */
	int epfd;   /* poll fd: the TX kick fd and @wakefd */
	int wakefd; /* readable: run recv now */
	bool dp_holds;
	uint16_t tx_heads[FRAME_BATCH_MAX];
	unsigned int tx_pending;
	uint8_t *bounce; /* FRAME_BATCH_MAX * FRAME_MAX_LEN */
	struct virtq_seg *tx_segs, *rx_first, *rx_segs;
	struct {
		uint16_t head;
		uint32_t len;
	} rx_used[VHOST_USER_RX_CHAINS_MAX];

	atomic_bool connected, running;
	_Atomic uint64_t tx_bad, rx_no_buffer, rx_dropped;
};

/* A reply to a message (vu_handle()); size 0: none. */
struct vu_reply {
	uint32_t size;
	union {
		uint64_t u64;
		struct vhost_user_vring_state state;
	} p;
};

/*
 * vu_port_alloc() - a port's state without its socket or thread (those are
 * vhost_user.c's): buffers, eventfds, the poll fd, empty rings.
 * Return: 0, or -ENOMEM / -errno.
 */
int vu_port_alloc(struct vu_port **out, const char *net, const char *name);
/* vu_port_release() - end any session, free what vu_port_alloc() made. */
void vu_port_release(struct vu_port *v);

/* Session (vhost_user_session.c), lock held. */
void vu_update_running(struct vu_port *v);
/* vu_session_reset() - drop what the front end set up; the connection stays. */
void vu_session_reset(struct vu_port *v);
/*
 * vu_handle() - one parsed message; fds it keeps are set to -1 in @m (the
 * caller closes the rest). Return: 0, or negative with @why: the session
 * ends.
 */
int vu_handle(struct vu_port *v, struct vhost_user_msg *m,
	      struct vu_reply *rep, char *why, size_t wl);

/* vu_ring_live() - the data path may walk ring @i (lock held). */
static inline bool vu_ring_live(const struct vu_port *v, unsigned int i)
{
	return v->connfd >= 0 && v->vr[i].started && v->vr[i].enabled &&
	       !v->vr[i].vq.broken;
}

/* vu_session_kill() - data path: ask the session thread to end the
 * session (a queue broke). Lock held. */
void vu_session_kill(struct vu_port *v);

/* vu_signal() - write 1 to eventfd @fd (a call fd, the wake fd). */
void vu_signal(int fd);

/* Data path ops (vhost_user_net.c). */
int vu_port_recv(struct port *port, struct frame_batch *batch);
void vu_port_recv_done(struct port *port, struct frame_batch *batch);
int vu_port_send(struct port *port, struct frame_batch *batch);
void vu_port_arm(struct port *port);

#endif
