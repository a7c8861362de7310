/* SPDX-License-Identifier: MIT */
/* vhost_user_net.c - vhost-user port data path: the guest's TX ring into switch frames, switch frames into its RX ring. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "backends/vhost_user_internal.h"
#include "common/log.h"

LOG_MODULE("vhost-user-net");

enum { ETH_HLEN_MIN = 14, VNET_NUM_BUFFERS_OFF = 10 };

static void le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void vu_signal(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_rl(LOG_WARN, MOD, "eventfd write: %s", strerror(errno));
}

/* After pushes on vring @i: interrupt the guest if it asked for it. */
static void vu_notify(struct vu_port *v, unsigned int i)
{
	if (virtq_should_notify(&v->vr[i].vq))
		vu_signal(v->vr[i].callfd);
}

/* A queue broke (virtq.c logged why): end the session. */
static void vu_broken(struct vu_port *v, unsigned int i)
{
	log_rl(LOG_WARN, MOD, "%s: vring %u: %s: ending the session", v->name,
	       i, virtq_error_str(v->vr[i].vq.error));
	vu_session_kill(v);
}

/*
 * One transmit chain into @f: header checked, frame pointed at in guest
 * memory when it is one segment (the common case), else copied to
 * @bounce. Return: true if @f is a frame for the switch.
 */
static bool vu_tx_frame(struct vu_port *v, const struct virtq_chain *c,
			uint8_t *bounce, struct frame *f)
{
	uint8_t h[12];
	uint64_t len;

	if (c->nr_in || c->out_len < (uint64_t)v->hdr_len + ETH_HLEN_MIN ||
	    c->out_len - v->hdr_len > FRAME_MAX_LEN ||
	    virtq_chain_read(c, 0, h, v->hdr_len)) {
		atomic_fetch_add(&v->tx_bad, 1);
		log_rl(LOG_WARN, MOD, "%s: transmit chain of %llu bytes "
		       "dropped (header + 14..%d bytes, readable only)",
		       v->name, (unsigned long long)c->out_len, FRAME_MAX_LEN);
		return false;
	}
	/* No offload was negotiated: a header asking for one is a lie. */
	if (h[0] || h[1]) {
		atomic_fetch_add(&v->tx_bad, 1);
		log_rl(LOG_WARN, MOD, "%s: frame with offload header (flags "
		       "%#x gso %#x) dropped: none was negotiated", v->name,
		       h[0], h[1]);
		return false;
	}
	len = c->out_len - v->hdr_len;
	memset(f, 0, sizeof(*f));
	f->len = (uint32_t)len;
	if (c->segs[0].len >= v->hdr_len + len) {
		f->data = c->segs[0].base + v->hdr_len;
	} else if (c->nr_out == 2 && c->segs[0].len == v->hdr_len) {
		f->data = c->segs[1].base;
	} else {
		virtq_chain_read(c, v->hdr_len, bounce, len);
		f->data = bounce;
	}
	return true;
}

/*
 * Data path: up to a batch of the guest's transmit chains. Frames point
 * into guest memory, so the session lock stays held until recv_done.
 */
int vu_port_recv(struct port *port, struct frame_batch *batch)
{
	struct vu_port *v = port->priv;
	struct virtq_chain c = {.segs = v->tx_segs,
				.max_segs = VHOST_USER_SEGS_MAX};
	struct virtq *vq = &v->vr[VU_TX].vq;
	unsigned int budget;
	int got = 0, ret = 0;

	if (v->dp_holds || pthread_mutex_trylock(&v->lock))
		return 0; /* the session thread is busy: next round */
	if (!vu_ring_live(v, VU_TX)) {
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	v->dp_holds = true;
	virtq_disable_notify(vq);
	budget = vq->size;
	while (batch->count < FRAME_BATCH_MAX && budget--) {
		struct frame *f = &batch->f[batch->count];

		ret = virtq_pop(vq, &c);
		if (ret <= 0)
			break;
		if (!vu_tx_frame(v, &c, v->bounce + (size_t)v->tx_pending *
					   FRAME_MAX_LEN, f)) {
			virtq_push(vq, c.head, 0);
			continue;
		}
		v->tx_heads[v->tx_pending++] = c.head;
		batch->count++;
		got++;
	}
	if (ret < 0)
		vu_broken(v, VU_TX);
	if (!got) {
		/* Nothing for the switch: give back what was dropped now. */
		vu_notify(v, VU_TX);
		v->dp_holds = false;
		pthread_mutex_unlock(&v->lock);
	}
	return got;
}

void vu_port_recv_done(struct port *port, struct frame_batch *batch)
{
	struct vu_port *v = port->priv;
	struct virtq *vq = &v->vr[VU_TX].vq;

	if (!v->dp_holds)
		return;
	for (unsigned int i = 0; i < v->tx_pending; i++)
		virtq_push(vq, v->tx_heads[i], 0);
	v->tx_pending = 0;
	vu_notify(v, VU_TX);
	v->dp_holds = false;
	pthread_mutex_unlock(&v->lock);
}

/*
 * One frame into the guest's receive chains (MRG_RXBUF: as many as it
 * takes, up to VHOST_USER_RX_CHAINS_MAX). Return: 1 delivered, 0 dropped,
 * -EIO the queue broke.
 */
static int vu_rx_one(struct vu_port *v, const struct frame *f)
{
	struct virtq *vq = &v->vr[VU_RX].vq;
	bool mrg = v->features & VU_F_MRG_RXBUF;
	struct virtq_chain first = {.segs = v->rx_first,
				    .max_segs = VHOST_USER_SEGS_MAX};
	struct virtq_chain c = {.segs = v->rx_segs,
				.max_segs = VHOST_USER_SEGS_MAX};
	uint8_t h[12] = {0};
	uint32_t done = 0, popped = 0;
	int ret;

	if (f->len < ETH_HLEN_MIN || f->len > FRAME_MAX_LEN ||
	    f->off.gso_type != FRAME_GSO_NONE ||
	    (f->off.flags & FRAME_F_NEEDS_CSUM)) {
		atomic_fetch_add(&v->rx_dropped, 1);
		return 0;
	}
	while (done < f->len || !popped) {
		struct virtq_chain *ch = popped ? &c : &first;
		uint32_t at = popped ? 0 : v->hdr_len, take;

		if (popped == VHOST_USER_RX_CHAINS_MAX || popped == vq->size) {
			virtq_unpop(vq, popped);
			atomic_fetch_add(&v->rx_dropped, 1);
			return 0;
		}
		ret = virtq_pop(vq, ch);
		if (ret < 0)
			return -EIO;
		if (!ret) {
			virtq_unpop(vq, popped);
			atomic_fetch_add(&v->rx_no_buffer, 1);
			return 0;
		}
		if (ch->nr_out || (!popped && ch->in_len < v->hdr_len)) {
			log_rl(LOG_WARN, MOD, "%s: receive chain with readable "
			       "parts or smaller than the header", v->name);
			vq->broken = true;
			vq->error = VIRTQ_ERR_ORDER;
			return -EIO;
		}
		if (!popped && !mrg &&
		    ch->in_len < v->hdr_len + (uint64_t)f->len) {
			/* One chain must hold it: too big for this guest. */
			virtq_unpop(vq, 1);
			atomic_fetch_add(&v->rx_dropped, 1);
			return 0;
		}
		take = f->len - done;
		if (ch->in_len - at < take)
			take = (uint32_t)(ch->in_len - at);
		virtq_chain_write(ch, at, f->data + done, take);
		v->rx_used[popped].head = ch->head;
		v->rx_used[popped].len = at + take;
		popped++;
		done += take;
	}
	if (v->hdr_len == 12)
		le16_put(h + VNET_NUM_BUFFERS_OFF, (uint16_t)popped);
	virtq_chain_write(&first, 0, h, v->hdr_len);
	for (uint32_t i = 0; i < popped; i++)
		virtq_push(vq, v->rx_used[i].head, v->rx_used[i].len);
	return 1;
}

int vu_port_send(struct port *port, struct frame_batch *batch)
{
	struct vu_port *v = port->priv;
	bool locked = false;
	int sent = 0, ret = 0;

	/* Inside our own recv (a hairpin) the lock is already ours. */
	if (!v->dp_holds) {
		if (pthread_mutex_trylock(&v->lock))
			return 0; /* session changing: dropped, counted */
		locked = true;
	}
	if (!vu_ring_live(v, VU_RX))
		goto out;
	for (uint32_t i = 0; i < batch->count; i++) {
		ret = vu_rx_one(v, &batch->f[i]);
		if (ret < 0)
			break;
		sent += ret;
	}
	if (sent)
		vu_notify(v, VU_RX);
	if (ret < 0)
		vu_broken(v, VU_RX);
out:
	if (locked)
		pthread_mutex_unlock(&v->lock);
	return sent;
}

/*
 * Before netd sleeps: take the kick, turn kicks on again, and if the guest
 * queued frames meanwhile make the poll fd readable at once.
 */
void vu_port_arm(struct port *port)
{
	struct vu_port *v = port->priv;
	uint64_t cnt;

	if (read(v->wakefd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_rl(LOG_WARN, MOD, "%s: wake fd: %s", v->name,
		       strerror(errno));
	if (v->dp_holds)
		return;
	if (pthread_mutex_trylock(&v->lock)) {
		vu_signal(v->wakefd); /* cannot look: look again soon */
		return;
	}
	if (vu_ring_live(v, VU_TX)) {
		/* The front end's eventfd may be blocking (its file
		 * flags are not ours to change): look before reading. */
		struct pollfd pk = {.fd = v->vr[VU_TX].kickfd,
				    .events = POLLIN};

		if (pk.fd >= 0 && poll(&pk, 1, 0) == 1 &&
		    (pk.revents & POLLIN) &&
		    read(pk.fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			log_rl(LOG_WARN, MOD, "%s: kick fd: %s", v->name,
			       strerror(errno));
		if (virtq_enable_notify(&v->vr[VU_TX].vq))
			vu_signal(v->wakefd);
	}
	pthread_mutex_unlock(&v->lock);
}
