/* SPDX-License-Identifier: MIT */
/* vhost_user_session.c - vhost-user port: the session a front end's messages build (features, memory table, rings). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backends/vhost_user_internal.h"
#include "common/log.h"

LOG_MODULE("vhost-user-session");

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vu_update_running(struct vu_port *v)
{
	atomic_store(&v->running, vu_ring_live(v, VU_RX) &&
					  vu_ring_live(v, VU_TX));
}

static void vu_kick_set(struct vu_port *v, unsigned int i, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN};

	if (i == VU_TX && v->vr[i].kickfd >= 0)
		epoll_ctl(v->epfd, EPOLL_CTL_DEL, v->vr[i].kickfd, NULL);
	close_fd(&v->vr[i].kickfd);
	v->vr[i].kickfd = fd;
	if (i == VU_TX && fd >= 0) {
		ev.data.fd = fd;
		if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			log_rl(LOG_WARN, MOD, "%s: kick fd: %s", v->name,
			       strerror(errno));
	}
}

static void vu_vring_stop(struct vu_port *v, unsigned int i)
{
	struct vu_vring *r = &v->vr[i];

	if (r->started)
		r->base = r->vq.last_avail;
	r->started = false;
	virtq_reset(&r->vq);
}

/* Drop everything the front end set up; the connection stays. */
void vu_session_reset(struct vu_port *v)
{
	for (unsigned int i = 0; i < VHOST_USER_VRINGS_MAX; i++) {
		struct vu_vring *r = &v->vr[i];

		vu_vring_stop(v, i);
		vu_kick_set(v, i, -1);
		close_fd(&r->callfd);
		r->num = 0;
		r->has_addr = false;
		r->base = 0;
		r->enabled = false;
	}
	vhost_user_mem_unmap(&v->mem);
	guest_mem_init_empty(&v->gm);
	v->features = v->protocol_features = 0;
	v->owner = false;
	v->hdr_len = 12;
	v->kill_sent = false;
	vu_update_running(v);
}

/*
 * Start ring @i if it has all it needs (size, addresses, kick fd, memory):
 * its whole extent translated and checked. Return: 0 (started, or not
 * ready yet), or -EFAULT/-EINVAL with @why (the session ends).
 */
static int vu_vring_try_start(struct vu_port *v, unsigned int i, char *why,
			      size_t wl)
{
	struct vu_vring *r = &v->vr[i];
	int ret;

	if (!r->num || !r->has_addr || r->kickfd < 0 || !v->mem.n)
		return 0;
	virtq_reset(&r->vq);
	r->vq.event_idx = v->features & VU_F_EVENT_IDX;
	r->vq.indirect = v->features & VU_F_INDIRECT_DESC;
	ret = vhost_user_vring_start(&r->vq, &v->mem, &r->addr, r->num,
				     r->base, why, wl);
	if (ret)
		return ret;
	r->started = true;
	if (!(v->features & VU_F_PROTOCOL_FEATURES))
		r->enabled = true; /* the spec: enabled from the start */
	/* Receive buffers are looked for when frames come: no kicks. */
	if (i == VU_RX)
		virtq_disable_notify(&r->vq);
	vu_update_running(v);
	vu_signal(v->wakefd);
	return 0;
}

/* A new memory table: map it, then re-translate the running rings. */
static int vu_mem_table_set(struct vu_port *v, const struct vhost_user_msg *m,
			    char *why, size_t wl)
{
	struct vhost_user_mem fresh, old;
	int ret;

	ret = vhost_user_mem_map(&fresh, &m->payload.memory, m->fds, why, wl);
	if (ret)
		return ret;
	old = v->mem;
	v->mem = fresh;
	if (vhost_user_mem_guest(&v->mem, &v->gm)) {
		vhost_user_mem_unmap(&old);
		snprintf(why, wl, "memory table: regions refused");
		return -EINVAL;
	}
	for (unsigned int i = 0; i < VHOST_USER_VRINGS_MAX && !ret; i++) {
		if (v->vr[i].started)
			vu_vring_stop(v, i);
		ret = vu_vring_try_start(v, i, why, wl);
	}
	vhost_user_mem_unmap(&old);
	return ret;
}

/* Ring @i's fd word: index and fd (or none). */
static int vu_vring_fd(const struct vhost_user_msg *m, unsigned int *i)
{
	*i = (unsigned int)(m->payload.u64 & VHOST_USER_VRING_IDX_MASK);
	return m->nfds ? m->fds[0] : -1;
}

/* A SET_*FEATURES word asks only for bits of @offered; else @why. */
static bool vu_bits_offered(const struct vhost_user_msg *m, uint64_t offered,
			    char *why, size_t wl)
{
	if (!(m->payload.u64 & ~offered))
		return true;
	snprintf(why, wl, "%s 0x%llx: bits this back end did not offer",
		 vhost_user_request_name(m->request),
		 (unsigned long long)m->payload.u64);
	return false;
}

/*
 * One parsed message, lock held. Fds it keeps are set to -1 in @m (the
 * caller closes the rest). Return: 0, or negative with @why: the session
 * ends.
 */
int vu_handle(struct vu_port *v, struct vhost_user_msg *m,
		     struct vu_reply *rep, char *why, size_t wl)
{
	const struct vhost_user_vring_state *st = &m->payload.state;
	unsigned int i;
	int fd;

	switch (m->request) {
	case VHOST_USER_GET_FEATURES:
		rep->size = 8;
		rep->p.u64 = VU_FEATURES;
		return 0;
	case VHOST_USER_SET_FEATURES:
		if (!vu_bits_offered(m, VU_FEATURES, why, wl))
			return -EPROTO;
		if ((v->vr[0].started || v->vr[1].started) &&
		    m->payload.u64 != v->features) {
			snprintf(why, wl, "SET_FEATURES while the rings run");
			return -EPROTO;
		}
		v->features = m->payload.u64;
		v->hdr_len = v->features & (VU_F_VERSION_1 | VU_F_MRG_RXBUF) ?
				     12 : 10;
		return 0;
	case VHOST_USER_SET_OWNER:
		v->owner = true;
		return 0;
	case VHOST_USER_RESET_OWNER:
		vu_session_reset(v);
		return 0;
	case VHOST_USER_SET_MEM_TABLE:
		return vu_mem_table_set(v, m, why, wl);
	case VHOST_USER_SET_VRING_NUM:
		if (v->vr[st->index].started) {
			snprintf(why, wl, "SET_VRING_NUM on running vring %u",
				 st->index);
			return -EPROTO;
		}
		v->vr[st->index].num = st->num;
		return 0;
	case VHOST_USER_SET_VRING_ADDR:
		i = m->payload.addr.index;
		v->vr[i].addr = m->payload.addr;
		v->vr[i].has_addr = true;
		if (!v->vr[i].started)
			return 0;
		vu_vring_stop(v, i); /* re-translated where it stood */
		return vu_vring_try_start(v, i, why, wl);
	case VHOST_USER_SET_VRING_BASE:
		if (v->vr[st->index].started) {
			snprintf(why, wl, "SET_VRING_BASE on running vring %u",
				 st->index);
			return -EPROTO;
		}
		v->vr[st->index].base = (uint16_t)st->num;
		return 0;
	case VHOST_USER_GET_VRING_BASE:
		/* Stops the ring; the front end resumes from here. */
		i = st->index;
		vu_vring_stop(v, i);
		vu_kick_set(v, i, -1);
		vu_update_running(v);
		rep->size = sizeof(rep->p.state);
		rep->p.state.index = i;
		rep->p.state.num = v->vr[i].base;
		return 0;
	case VHOST_USER_SET_VRING_KICK:
		fd = vu_vring_fd(m, &i);
		if (fd < 0) {
			snprintf(why, wl, "vring %u without a kick fd: this "
				 "back end does not poll rings", i);
			return -EPROTO;
		}
		if (!v->vr[i].num || !v->vr[i].has_addr) {
			snprintf(why, wl, "SET_VRING_KICK on vring %u before "
				 "its size and addresses", i);
			return -EPROTO;
		}
		m->fds[0] = -1;
		vu_kick_set(v, i, fd);
		if (v->vr[i].started)
			return 0;
		return vu_vring_try_start(v, i, why, wl);
	case VHOST_USER_SET_VRING_CALL:
		fd = vu_vring_fd(m, &i);
		close_fd(&v->vr[i].callfd);
		v->vr[i].callfd = fd;
		if (fd >= 0)
			m->fds[0] = -1;
		return 0;
	case VHOST_USER_SET_VRING_ERR:
		return 0; /* never signalled: the session ends instead */
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		rep->size = 8;
		rep->p.u64 = VU_PROTOCOL_FEATURES;
		return 0;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (!vu_bits_offered(m, VU_PROTOCOL_FEATURES, why, wl))
			return -EPROTO;
		v->protocol_features = m->payload.u64;
		return 0;
	case VHOST_USER_GET_QUEUE_NUM:
		rep->size = 8;
		rep->p.u64 = 1;
		return 0;
	case VHOST_USER_SET_VRING_ENABLE:
		v->vr[st->index].enabled = st->num;
		vu_update_running(v);
		vu_signal(v->wakefd);
		return 0;
	case VHOST_USER_SEND_RARP:
		return 0; /* the guest announces itself */
	default:
		/* LOG_BASE/LOG_FD, NET_SET_MTU: never offered. */
		snprintf(why, wl, "%s: not offered by this back end",
			 vhost_user_request_name(m->request));
		return -EPROTO;
	}
}


void vu_session_kill(struct vu_port *v)
{
	if (v->kill_sent)
		return;
	v->kill_sent = true;
	snprintf(v->error, sizeof(v->error), "vring %s",
		 virtq_error_str(v->vr[VU_TX].vq.broken ?
					 v->vr[VU_TX].vq.error :
					 v->vr[VU_RX].vq.error));
	vu_signal(v->killfd);
}

int vu_port_alloc(struct vu_port **out, const char *net, const char *name)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct vu_port *v = calloc(1, sizeof(*v));
	int ret;

	*out = NULL;
	if (!v)
		return -ENOMEM;
	v->listenfd = v->connfd = v->stopfd = v->killfd = v->epfd =
		v->wakefd = -1;
	for (unsigned int i = 0; i < VHOST_USER_VRINGS_MAX; i++)
		v->vr[i].kickfd = v->vr[i].callfd = -1;
	pthread_mutex_init(&v->lock, NULL);
	snprintf(v->name, sizeof(v->name), "%s:%s", net ? net : "?",
		 name ? name : "?");
	guest_mem_init_empty(&v->gm);
	for (unsigned int i = 0; i < VHOST_USER_VRINGS_MAX; i++)
		virtq_init(&v->vr[i].vq, &v->gm, i, VHOST_USER_VRING_SIZE_MAX,
			   v->name);
	v->hdr_len = 12;
	v->bounce = malloc((size_t)FRAME_BATCH_MAX * FRAME_MAX_LEN);
	v->tx_segs = calloc(VHOST_USER_SEGS_MAX, sizeof(*v->tx_segs));
	v->rx_first = calloc(VHOST_USER_SEGS_MAX, sizeof(*v->rx_first));
	v->rx_segs = calloc(VHOST_USER_SEGS_MAX, sizeof(*v->rx_segs));
	if (!v->bounce || !v->tx_segs || !v->rx_first || !v->rx_segs) {
		vu_port_release(v);
		return -ENOMEM;
	}
	v->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	v->killfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	v->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	v->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = v->wakefd;
	if (v->stopfd < 0 || v->killfd < 0 || v->wakefd < 0 || v->epfd < 0 ||
	    epoll_ctl(v->epfd, EPOLL_CTL_ADD, v->wakefd, &ev) < 0) {
		ret = -errno;
		vu_port_release(v);
		return ret;
	}
	*out = v;
	return 0;
}

void vu_port_release(struct vu_port *v)
{
	vu_session_reset(v);
	close_fd(&v->connfd);
	close_fd(&v->stopfd);
	close_fd(&v->killfd);
	close_fd(&v->wakefd);
	close_fd(&v->epfd);
	pthread_mutex_destroy(&v->lock);
	free(v->bounce);
	free(v->tx_segs);
	free(v->rx_first);
	free(v->rx_segs);
	free(v);
}
