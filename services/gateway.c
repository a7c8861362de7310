/* SPDX-License-Identifier: MIT */
/* gateway.c - the gateway port: classify frames, answer ARP/ICMP/NDP inline, queue DHCP/DNS for the control thread. */
#include "services/gateway.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "services/arp_icmp.h"
#include "services/ipframe.h"
#include "services/uplink.h"

LOG_MODULE("svc-gateway");

/*
 * struct frameq - a bounded FIFO of frame copies, one mutex. Slots between
 * @head and @head + @held are lent to the data path (recv -> recv_done)
 * and are not overwritten: producers only write at @tail. @fd is an
 * eventfd that is readable while the queue is not empty (written on the
 * empty -> non-empty transition, drained under the lock when the consumer
 * finds the queue empty, so no wake-up is lost).
 */
struct frameq {
	pthread_mutex_t lock;
	uint32_t cap, head, count, held;
	size_t slot_size;
	uint8_t *bufs;
	uint32_t *lens;
	int fd;
};

struct gateway {
	struct gateway_config cfg;
	size_t frame_max;
	struct frameq out; /* to the switch */
	struct frameq ctl; /* to the control thread */
	/*
	 * Held by the data path around input and from an uplink peek in
	 * recv to its release in recv_done; detach takes it, so it returns
	 * only when the uplink is no longer in use.
	 */
	pthread_mutex_t uplink_lock;
	const struct gateway_uplink_ops *uplink;
	void *uplink_priv;
	uint32_t uplink_held; /* frames peeked, until recv_done */
	int epfd; /* the port's poll fd: out.fd + the uplink's output_fd */
	uint8_t *scratch; /* data path: a copy of the frame being handled */
	uint8_t *reply;	  /* data path: the answer being built */
	struct {
		atomic_uint_fast64_t arp, icmp, ndp, ctl_queued, uplink_in,
			uplink_out, not_for_us, malformed, ctl_full, out_full;
	} st;
};

static int frameq_init(struct frameq *q, uint32_t cap, size_t slot)
{
	memset(q, 0, sizeof(*q));
	q->cap = cap;
	q->slot_size = slot;
	q->fd = -1;
	q->bufs = calloc(cap, slot);
	q->lens = calloc(cap, sizeof(*q->lens));
	if (!q->bufs || !q->lens)
		goto free_bufs;
	q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->fd < 0)
		goto free_bufs;
	pthread_mutex_init(&q->lock, NULL);
	return 0;
free_bufs:
	free(q->bufs);
	free(q->lens);
	return -ENOMEM;
}

static void frameq_fini(struct frameq *q)
{
	if (q->fd >= 0) {
		close(q->fd);
		pthread_mutex_destroy(&q->lock);
	}
	free(q->bufs);
	free(q->lens);
}

/* Return: 0, or -ENOBUFS when full. */
static int frameq_push(struct frameq *q, const uint8_t *f, size_t len)
{
	uint64_t one = 1;
	uint32_t slot;

	pthread_mutex_lock(&q->lock);
	if (q->count == q->cap) {
		pthread_mutex_unlock(&q->lock);
		return -ENOBUFS;
	}
	slot = (q->head + q->count) % q->cap;
	memcpy(q->bufs + (size_t)slot * q->slot_size, f, len);
	q->lens[slot] = (uint32_t)len;
	if (q->count++ == 0 && write(q->fd, &one, sizeof(one)) < 0)
		(void)0; /* counter saturated: it is readable anyway */
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* Lock held: the queue became empty, make the fd unreadable. */
static void frameq_quiet(struct frameq *q)
{
	uint64_t v;

	if (q->count == 0 && read(q->fd, &v, sizeof(v)) < 0)
		(void)0; /* EAGAIN: it was not readable */
}

struct gateway *gateway_new(const struct gateway_config *cfg)
{
	struct gateway *gw = calloc(1, sizeof(*gw));
	uint32_t mtu = cfg->mtu ? cfg->mtu : 1500;

	if (!gw)
		return NULL;
	if (mtu < 576 || mtu > 65535) {
		free(gw);
		errno = EINVAL;
		return NULL;
	}
	gw->cfg = *cfg;
	gw->cfg.mtu = mtu;
	gw->cfg.domain[sizeof(gw->cfg.domain) - 1] = 0;
	gw->frame_max = (size_t)mtu + ETH_HDR_LEN;
	gw->scratch = malloc(FRAME_MAX_LEN);
	gw->reply = malloc(gw->frame_max);
	if (!gw->scratch || !gw->reply)
		goto free_gw;
	if (frameq_init(&gw->out, GATEWAY_OUTQ_MAX, gw->frame_max))
		goto free_gw;
	if (frameq_init(&gw->ctl, GATEWAY_CTLQ_MAX, gw->frame_max))
		goto fini_out;
	gw->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (gw->epfd < 0)
		goto fini_ctl;
	struct epoll_event ev = { .events = EPOLLIN };

	if (epoll_ctl(gw->epfd, EPOLL_CTL_ADD, gw->out.fd, &ev))
		goto close_ep;
	pthread_mutex_init(&gw->uplink_lock, NULL);
	return gw;
close_ep:
	close(gw->epfd);
fini_ctl:
	frameq_fini(&gw->ctl);
fini_out:
	frameq_fini(&gw->out);
free_gw:
	free(gw->scratch);
	free(gw->reply);
	free(gw);
	errno = ENOMEM;
	return NULL;
}

void gateway_free(struct gateway *gw)
{
	if (!gw)
		return;
	close(gw->epfd);
	frameq_fini(&gw->out);
	frameq_fini(&gw->ctl);
	pthread_mutex_destroy(&gw->uplink_lock);
	free(gw->scratch);
	free(gw->reply);
	free(gw);
}

const struct gateway_config *gateway_config_get(const struct gateway *gw)
{
	return &gw->cfg;
}

size_t gateway_frame_max(const struct gateway *gw)
{
	return gw->frame_max;
}

void gateway_stats_get(struct gateway *gw, struct gateway_stats *s)
{
	s->arp_replies = atomic_load(&gw->st.arp);
	s->icmp_replies = atomic_load(&gw->st.icmp);
	s->ndp_replies = atomic_load(&gw->st.ndp);
	s->ctl_queued = atomic_load(&gw->st.ctl_queued);
	s->uplink_in = atomic_load(&gw->st.uplink_in);
	s->uplink_out = atomic_load(&gw->st.uplink_out);
	s->not_for_us = atomic_load(&gw->st.not_for_us);
	s->malformed = atomic_load(&gw->st.malformed);
	s->ctl_full = atomic_load(&gw->st.ctl_full);
	s->out_full = atomic_load(&gw->st.out_full);
}

int gateway_output(struct gateway *gw, const uint8_t *frame, size_t len)
{
	if (len < ETH_HDR_LEN || len > gw->frame_max)
		return -EMSGSIZE;
	if (frameq_push(&gw->out, frame, len)) {
		atomic_fetch_add(&gw->st.out_full, 1);
		return -ENOBUFS;
	}
	return 0;
}

int gateway_uplink_output(struct gateway *gw, const uint8_t *frame, size_t len)
{
	int ret = gateway_output(gw, frame, len);

	if (!ret)
		atomic_fetch_add(&gw->st.uplink_out, 1);
	return ret;
}

int gateway_uplink_attach(struct gateway *gw,
			  const struct gateway_uplink_ops *ops, void *priv)
{
	int ret = 0;

	pthread_mutex_lock(&gw->uplink_lock);
	if (gw->uplink) {
		ret = -EBUSY;
	} else if (ops->output_peek) {
		struct epoll_event ev = { .events = EPOLLIN };

		if (epoll_ctl(gw->epfd, EPOLL_CTL_ADD, ops->output_fd(priv),
			      &ev))
			ret = -errno;
	}
	if (!ret) {
		gw->uplink = ops;
		gw->uplink_priv = priv;
	}
	pthread_mutex_unlock(&gw->uplink_lock);
	return ret;
}

void gateway_uplink_detach(struct gateway *gw)
{
	pthread_mutex_lock(&gw->uplink_lock);
	if (gw->uplink && gw->uplink->output_peek)
		epoll_ctl(gw->epfd, EPOLL_CTL_DEL,
			  gw->uplink->output_fd(gw->uplink_priv), NULL);
	gw->uplink = NULL;
	gw->uplink_priv = NULL;
	pthread_mutex_unlock(&gw->uplink_lock);
}

/* @partial: the frame's partial checksum is left for the uplink. */
static void to_uplink(struct gateway *gw, uint8_t *data, size_t len,
		      const struct frame_offload *off, bool partial)
{
	struct frame f = { .data = data, .len = (uint32_t)len };

	if (off) {
		f.off = *off;
		if (!partial) /* completed */
			f.off.flags &= (uint8_t)~FRAME_F_NEEDS_CSUM;
	}
	pthread_mutex_lock(&gw->uplink_lock);
	if (gw->uplink) {
		if (!gw->uplink->input(gw->uplink_priv, &f))
			atomic_fetch_add(&gw->st.uplink_in, 1);
	} else {
		atomic_fetch_add(&gw->st.not_for_us, 1);
	}
	pthread_mutex_unlock(&gw->uplink_lock);
}

static void reply_out(struct gateway *gw, int len, atomic_uint_fast64_t *ctr)
{
	if (len > 0) {
		if (!gateway_output(gw, gw->reply, (size_t)len))
			atomic_fetch_add(ctr, 1);
	} else {
		atomic_fetch_add(&gw->st.malformed, 1);
		log_rl(LOG_DEBUG, MOD, "malformed ARP/ICMP/NDP dropped");
	}
}

static void to_ctl(struct gateway *gw, const uint8_t *f, size_t len)
{
	if (len > gw->frame_max || frameq_push(&gw->ctl, f, len)) {
		atomic_fetch_add(&gw->st.ctl_full, 1);
		return;
	}
	atomic_fetch_add(&gw->st.ctl_queued, 1);
}

/* Is @ip a DHCP request or a DNS query for one of our services? */
static bool for_ctl(const struct gateway *gw, const struct ip_view *ip)
{
	uint16_t dport;

	if (ip->proto != IPPROTO_UDP_ || pkt_be16(&ip->l4, 2, &dport))
		return false;
	if (!ip->v6)
		return dport == 67 || (dport == 53 && ip->dst4 == gw->cfg.ip4);
	if (dport != 53)
		return false;
	uint8_t ll[16];

	ndp_link_local(&gw->cfg, ll);
	return !memcmp(ip->dst6, ll, 16) ||
	       (gw->cfg.has_ip6 && !memcmp(ip->dst6, gw->cfg.ip6, 16));
}

void gateway_input(struct gateway *gw, uint8_t *frame, size_t len,
		   const struct frame_offload *off)
{
	struct pkt_view v = { frame, len };
	struct pkt_buf out = { gw->reply, gw->frame_max };
	struct ip_view ip;
	int ret;

	/*
	 * TCP is never for the gateway's own services: a TCP GSO frame (a
	 * TAP's TSO segment, up to 64 KiB) or a TCP segment with a partial
	 * checksum (csum_offset 16: at MTU 65520 every segment of a bulk
	 * upload, 64 KiB each, is one) goes to the uplink as it is, and the
	 * uplink completes its checksum on its own thread instead of this
	 * data-path thread (~10 % of it under a bulk upload).
	 */
	if (off && ((off->gso_type & ~FRAME_GSO_ECN) == FRAME_GSO_TCPV4 ||
		    (off->gso_type & ~FRAME_GSO_ECN) == FRAME_GSO_TCPV6 ||
		    ((off->flags & FRAME_F_NEEDS_CSUM) &&
		     off->csum_offset == 16))) {
		to_uplink(gw, frame, len, off, true);
		return;
	}
	if (off && (off->flags & FRAME_F_NEEDS_CSUM) &&
	    ipframe_csum_complete(frame, len, off->csum_start,
				  off->csum_offset)) {
		atomic_fetch_add(&gw->st.malformed, 1);
		return;
	}
	ret = ipframe_parse(&v, &ip);
	if (ret == -EBADMSG) {
		atomic_fetch_add(&gw->st.malformed, 1);
		return;
	}
	if (ret == -ENOENT && ip.ethertype == ETHERTYPE_ARP) {
		ret = arp_answer(&gw->cfg, &v, &out);
		if (ret)
			reply_out(gw, ret, &gw->st.arp);
		else
			to_uplink(gw, frame, len, off, false);
		return;
	}
	if (ret == -ENOENT) {
		to_uplink(gw, frame, len, off, false);
		return;
	}
	if (for_ctl(gw, &ip)) {
		to_ctl(gw, frame, len);
		return;
	}
	if (!ip.v6)
		ret = icmp4_echo_answer(&gw->cfg, &ip, &out);
	else
		ret = ndp_answer(&gw->cfg, &ip, &out);
	if (ret)
		reply_out(gw, ret, ip.v6 ? &gw->st.ndp : &gw->st.icmp);
	else
		to_uplink(gw, frame, len, off, false);
}

int gateway_port_send(struct gateway *gw, struct frame_batch *batch)
{
	for (uint32_t i = 0; i < batch->count; i++) {
		const struct frame *f = &batch->f[i];

		if (f->len > FRAME_MAX_LEN)
			continue;
		/*
		 * A copy: the frame may be shared with other ports of a
		 * flood, or live in a peer's memory, and a partial checksum
		 * is completed in place.
		 */
		memcpy(gw->scratch, f->data, f->len);
		gateway_input(gw, gw->scratch, f->len, &f->off);
	}
	return (int)batch->count;
}

int gateway_port_recv(struct gateway *gw, struct frame_batch *batch)
{
	struct frameq *q = &gw->out;
	int n = 0;

	pthread_mutex_lock(&q->lock);
	while (q->held < q->count && batch->count < FRAME_BATCH_MAX) {
		uint32_t slot = (q->head + q->held) % q->cap;
		struct frame *f = &batch->f[batch->count++];

		memset(f, 0, sizeof(*f));
		f->data = q->bufs + (size_t)slot * q->slot_size;
		f->len = q->lens[slot];
		q->held++;
		n++;
	}
	pthread_mutex_unlock(&q->lock);
	/* Then what the uplink emitted; its lock is kept to recv_done. */
	pthread_mutex_lock(&gw->uplink_lock);
	if (gw->uplink && gw->uplink->output_peek &&
	    batch->count < FRAME_BATCH_MAX) {
		int k = gw->uplink->output_peek(gw->uplink_priv, batch);

		if (k > 0) {
			gw->uplink_held = (uint32_t)k;
			return n + k;
		}
	}
	pthread_mutex_unlock(&gw->uplink_lock);
	return n;
}

void gateway_port_recv_done(struct gateway *gw, struct frame_batch *batch)
{
	struct frameq *q = &gw->out;

	pthread_mutex_lock(&q->lock);
	q->head = (q->head + q->held) % q->cap;
	q->count -= q->held;
	q->held = 0;
	frameq_quiet(q);
	pthread_mutex_unlock(&q->lock);
	if (gw->uplink_held) {
		atomic_fetch_add(&gw->st.uplink_out, gw->uplink_held);
		gw->uplink_held = 0;
		gw->uplink->output_release(gw->uplink_priv);
		pthread_mutex_unlock(&gw->uplink_lock);
	}
}

int gateway_port_fd(struct gateway *gw)
{
	return gw->epfd;
}

int gateway_ctl_fd(struct gateway *gw)
{
	return gw->ctl.fd;
}

int gateway_ctl_recv(struct gateway *gw, uint8_t *buf, size_t cap)
{
	struct frameq *q = &gw->ctl;
	uint32_t len;
	int ret;

	pthread_mutex_lock(&q->lock);
	if (!q->count) {
		frameq_quiet(q);
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	len = q->lens[q->head];
	ret = len <= cap ? (int)len : -EMSGSIZE;
	if (ret > 0)
		memcpy(buf, q->bufs + (size_t)q->head * q->slot_size, len);
	q->head = (q->head + 1) % q->cap;
	q->count--;
	frameq_quiet(q);
	pthread_mutex_unlock(&q->lock);
	return ret;
}
