/* SPDX-License-Identifier: MIT */
/* net_queues.c - virtio-net's queues: guest TX chains to the NIC backend, backend frames into RX buffers, the control queue. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "vmm/virtio/net_internal.h"

enum { ETH_HLEN = 14, TCP_CSUM_OFF = 16 };

/* ---------------------------------------------------------------------- */
/* Transmit */

/*
 * The guest's header as frame offload metadata, checked against what was
 * negotiated. hdr_len is filled in later from the frame itself.
 * Return: true if the frame may go out.
 */
static bool tx_offload(struct virtio_net *n, const uint8_t *h, uint32_t len,
		       struct frame_offload *off)
{
	uint8_t gso = h[1] & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	memset(off, 0, sizeof(*off));
	if (h[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		off->csum_start = le16(h + 6);
		off->csum_offset = le16(h + 8);
		if (!has(n, VIRTIO_NET_F_CSUM) ||
		    (uint32_t)off->csum_start + off->csum_offset + 2 > len)
			return false;
		off->flags = FRAME_F_NEEDS_CSUM;
	}
	if (h[1] == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	if ((h[1] & VIRTIO_NET_HDR_GSO_ECN) && !has(n, VIRTIO_NET_F_HOST_ECN))
		return false;
	if (!(gso == VIRTIO_NET_HDR_GSO_TCPV4 &&
	      has(n, VIRTIO_NET_F_HOST_TSO4)) &&
	    !(gso == VIRTIO_NET_HDR_GSO_TCPV6 &&
	      has(n, VIRTIO_NET_F_HOST_TSO6)))
		return false;
	off->gso_type = h[1];
	off->gso_size = le16(h + 4);
	return off->gso_size && off->flags & FRAME_F_NEEDS_CSUM &&
	       off->csum_offset == TCP_CSUM_OFF;
}

/*
 * hdr_len of a TCP GSO frame: up to the end of its TCP header (from the
 * frame, not the guest's hint). Return: false if that is not inside it.
 */
static bool tx_gso_hdr_len(const uint8_t *frame, uint32_t len,
			   struct frame_offload *off)
{
	uint32_t doff, end;

	if ((uint32_t)off->csum_start + 13 > len)
		return false;
	doff = (uint32_t)(frame[off->csum_start + 12] >> 4) * 4;
	end = off->csum_start + doff;
	if (doff < 20 || end >= len)
		return false;
	off->hdr_len = (uint16_t)end;
	return true;
}

/* Return: 0 (the chain is done with), or -ENOBUFS (keep it for later). */
static int tx_one(struct virtio_net *n, const struct virtq_chain *c)
{
	uint8_t h[VIRTIO_NET_HDR_SIZE];
	struct frame_offload off;
	uint64_t len;
	uint8_t *dst;

	len = c->out_len - (c->out_len < VIRTIO_NET_HDR_SIZE ?
				    c->out_len : VIRTIO_NET_HDR_SIZE);
	if (len < ETH_HLEN || len > NIC_FRAME_MAX ||
	    virtq_chain_read(c, 0, h, sizeof(h))) {
		n->st.tx_bad++;
		log_rl(LOG_WARN, MOD, "%s: transmit chain of %llu bytes "
		       "dropped (header + 14..%u bytes expected)", n->name,
		       (unsigned long long)c->out_len, NIC_FRAME_MAX);
		return 0;
	}
	if (!tx_offload(n, h, (uint32_t)len, &off)) {
		n->st.tx_bad++;
		log_rl(LOG_WARN, MOD, "%s: frame with bad offload header "
		       "dropped (flags %#x gso %#x size %u csum %u+%u)",
		       n->name, h[0], h[1], le16(h + 4), le16(h + 6),
		       le16(h + 8));
		return 0;
	}
	if (!nic_backend_link_up(n->nb)) {
		n->st.tx_dropped++;
		return 0;
	}
	dst = nic_backend_tx_alloc(n->nb, (uint32_t)len);
	if (!dst) {
		if (nic_backend_link_up(n->nb))
			return -ENOBUFS;
		n->st.tx_dropped++;
		return 0;
	}
	virtq_chain_read(c, VIRTIO_NET_HDR_SIZE, dst, len);
	if (off.gso_type && !tx_gso_hdr_len(dst, (uint32_t)len, &off)) {
		n->st.tx_bad++;
		log_rl(LOG_WARN, MOD, "%s: GSO frame without a TCP header "
		       "inside it dropped", n->name);
		return 0; /* the room is not committed: reused */
	}
	if (nic_backend_tx_commit(n->nb, (uint32_t)len, &off)) {
		n->st.tx_bad++;
		return 0;
	}
	n->st.tx_frames++;
	n->st.tx_bytes += len;
	return 0;
}

/* Lock held. Return: 1 more to do, 0 done, -EIO queue broken. */
int net_tx_process(struct virtio_net *n)
{
	struct virtq *vq = &n->vdev.vqs[VIRTIO_NET_Q_TX];
	struct virtq_chain c = { .segs = n->tx_segs,
				 .max_segs = VIRTIO_NET_QUEUE_SIZE };
	bool stalled = false;
	unsigned int budget;
	int ret = 0;

	if (!vq->enabled)
		return 0;
	virtq_disable_notify(vq);
	for (budget = vq->size; budget; budget--) {
		ret = virtq_pop(vq, &c);
		if (ret <= 0)
			break;
		if (tx_one(n, &c) == -ENOBUFS) {
			virtq_unpop(vq, 1);
			stalled = true;
			break;
		}
		virtq_push(vq, c.head, 0);
	}
	nic_backend_tx_flush(n->nb);
	virtio_dev_queue_done(&n->vdev, VIRTIO_NET_Q_TX);
	if (ret < 0)
		return -EIO;
	/* Backend full: its tx_ready event brings us back, not the guest. */
	if (stalled)
		return 0;
	return !budget || virtq_enable_notify(vq) ? 1 : 0;
}

/* ---------------------------------------------------------------------- */
/* Receive */

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Complete a partial checksum in @f (copied to n->bounce). */
static const uint8_t *rx_csum_complete(struct virtio_net *n,
				       const struct nic_frame *f)
{
	uint32_t start = f->off.csum_start, at = start + f->off.csum_offset;
	uint64_t sum = 0;
	uint16_t c;

	if (at + 2 > f->len || start >= f->len)
		return NULL;
	memcpy(n->bounce, f->data, f->len);
	for (uint32_t i = start; i + 1 < f->len; i += 2)
		sum += (uint32_t)(n->bounce[i] << 8 | n->bounce[i + 1]);
	if ((f->len - start) & 1)
		sum += (uint32_t)n->bounce[f->len - 1] << 8;
	c = csum_fold(sum);
	n->bounce[at] = (uint8_t)(c >> 8);
	n->bounce[at + 1] = (uint8_t)c;
	return n->bounce;
}

/*
 * The receive header for @f as this driver negotiated it; *@data gets the
 * bytes to copy (the frame, or its completed copy).
 * Return: false if the driver cannot take the frame (dropped).
 */
static bool rx_header(struct virtio_net *n, const struct nic_frame *f,
		      uint8_t *h, const uint8_t **data)
{
	uint8_t gso = f->off.gso_type & (uint8_t)~FRAME_GSO_ECN;
	bool csum = f->off.flags & FRAME_F_NEEDS_CSUM;

	memset(h, 0, VIRTIO_NET_HDR_SIZE);
	*data = f->data;
	if (gso != FRAME_GSO_NONE) {
		if (!has(n, VIRTIO_NET_F_GUEST_CSUM) || !csum ||
		    !(gso == FRAME_GSO_TCPV4 ?
			      has(n, VIRTIO_NET_F_GUEST_TSO4) :
		      gso == FRAME_GSO_TCPV6 ?
			      has(n, VIRTIO_NET_F_GUEST_TSO6) :
			      false) ||
		    ((f->off.gso_type & FRAME_GSO_ECN) &&
		     !has(n, VIRTIO_NET_F_GUEST_ECN)))
			return false;
		h[1] = f->off.gso_type;
		le_put(h + 2, f->off.hdr_len, 2);
		le_put(h + 4, f->off.gso_size, 2);
	}
	if (csum && has(n, VIRTIO_NET_F_GUEST_CSUM)) {
		h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		le_put(h + 6, f->off.csum_start, 2);
		le_put(h + 8, f->off.csum_offset, 2);
	} else if (csum) {
		*data = rx_csum_complete(n, f);
		if (!*data)
			return false;
	} else if ((f->off.flags & FRAME_F_DATA_VALID) &&
		   has(n, VIRTIO_NET_F_GUEST_CSUM)) {
		h[0] = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	return true;
}

/*
 * Put one frame into the guest's receive chains.
 * Return: 1 (delivered or dropped: the backend frame is done), 0 (not
 * enough buffers now: the frame stays in the backend), -EIO.
 */
static int rx_one(struct virtio_net *n, const struct nic_frame *f)
{
	struct virtq *vq = &n->vdev.vqs[VIRTIO_NET_Q_RX];
	bool mrg = has(n, VIRTIO_NET_F_MRG_RXBUF);
	struct virtq_chain first = { .segs = n->rx_first,
				     .max_segs = VIRTIO_NET_QUEUE_SIZE };
	struct virtq_chain c = { .segs = n->rx_segs,
				 .max_segs = VIRTIO_NET_QUEUE_SIZE };
	uint8_t h[VIRTIO_NET_HDR_SIZE];
	const uint8_t *data;
	uint32_t done = 0, popped = 0;
	int ret;

	if (f->len < ETH_HLEN || f->len > NIC_FRAME_MAX ||
	    !rx_header(n, f, h, &data)) {
		n->st.rx_dropped++;
		return 1;
	}
	while (done < f->len || !popped) {
		struct virtq_chain *ch = popped ? &c : &first;
		uint32_t at = popped ? 0 : VIRTIO_NET_HDR_SIZE, take;

		if (popped == vq->size) {
			/* More than the whole ring: it can never fit. */
			virtq_unpop(vq, popped);
			n->st.rx_dropped++;
			return 1;
		}
		ret = virtq_pop(vq, ch);
		if (ret < 0)
			return -EIO;
		if (!ret) {
			virtq_unpop(vq, popped);
			n->st.rx_no_buffer++;
			return 0;
		}
		if (!popped && ch->in_len < VIRTIO_NET_HDR_SIZE) {
			log_rl(LOG_WARN, MOD, "%s: receive buffer smaller than "
			       "the header", n->name);
			virtio_dev_set_needs_reset(&n->vdev);
			return -EIO;
		}
		if (!popped && !mrg &&
		    ch->in_len < VIRTIO_NET_HDR_SIZE + (uint64_t)f->len) {
			/* One chain must hold it: too big for this driver. */
			virtq_unpop(vq, 1);
			n->st.rx_dropped++;
			return 1;
		}
		take = f->len - done;
		if (ch->in_len - at < take)
			take = (uint32_t)(ch->in_len - at);
		virtq_chain_write(ch, at, data + done, take);
		n->rx_used[popped].head = ch->head;
		n->rx_used[popped].len = at + take;
		popped++;
		done += take;
	}
	le_put(h + 10, popped, 2);
	virtq_chain_write(&first, 0, h, sizeof(h));
	for (uint32_t i = 0; i < popped; i++)
		virtq_push(vq, n->rx_used[i].head, n->rx_used[i].len);
	n->st.rx_frames++;
	n->st.rx_bytes += f->len;
	return 1;
}

/* Lock held. Return: 1 more to do, 0 done, -EIO queue broken. */
int net_rx_process(struct virtio_net *n)
{
	struct virtq *vq = &n->vdev.vqs[VIRTIO_NET_Q_RX];
	unsigned int frames = 0;
	struct nic_frame f;
	int ret = 0, more = 0;

	if (!vq->enabled)
		return 0;
	virtq_disable_notify(vq);
	while (frames < vq->size) {
		if (nic_backend_rx_next(n->nb, &f) <= 0)
			break;
		ret = rx_one(n, &f);
		if (ret <= 0)
			break;
		nic_backend_rx_done(n->nb);
		frames++;
	}
	nic_backend_rx_flush(n->nb);
	virtio_dev_queue_done(&n->vdev, VIRTIO_NET_Q_RX);
	if (ret < 0)
		return -EIO;
	if (frames == vq->size)
		more = 1;
	/*
	 * Out of buffers: ask for the driver's kick when it posts more. The
	 * buffers it has posted may be some, too few for the frame at the
	 * head (mergeable): only more than those is progress, or this thread
	 * would spin on them, for ever once the guest stops refilling (a
	 * stopped VM: its teardown then waited for this thread).
	 */
	if (ret == 0 && frames < vq->size)
		more = virtq_enable_notify_beyond(vq, vq->avail_idx);
	return more;
}

/* ---------------------------------------------------------------------- */
/* Control queue */

static uint8_t ctrl_handle(struct virtio_net *n, const struct virtq_chain *c,
			   uint8_t class, uint8_t cmd, uint64_t len)
{
	uint8_t b[4];
	uint32_t entries;
	uint64_t off = 2;

	switch (class) {
	case VIRTIO_NET_CTRL_RX:
		/* PROMISC .. NOBCAST, one on/off byte: nothing to filter. */
		return cmd <= 5 && len >= 1 ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
	case VIRTIO_NET_CTRL_MAC:
		if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET)
			return VIRTIO_NET_ERR;
		/* Two tables (unicast, multicast): le32 entries, MACs. */
		for (int t = 0; t < 2; t++) {
			if (virtq_chain_read(c, off, b, 4))
				return VIRTIO_NET_ERR;
			entries = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
				  (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
			off += 4 + 6ull * entries;
			if (off > len + 2)
				return VIRTIO_NET_ERR;
		}
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_ANNOUNCE:
		return cmd == 0 ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
	default:
		(void)n;
		return VIRTIO_NET_ERR;
	}
}

/* Lock held. Return: 1 more to do, 0 done, -EIO queue broken. */
int net_ctrl_process(struct virtio_net *n)
{
	struct virtq *vq = &n->vdev.vqs[VIRTIO_NET_Q_CTRL];
	struct virtq_chain c = { .segs = n->ctrl_segs,
				 .max_segs = VIRTIO_NET_QUEUE_SIZE };
	unsigned int budget;
	uint8_t hdr[2], ack;
	int ret = 0;

	if (!vq->enabled)
		return 0;
	for (budget = vq->size; budget; budget--) {
		ret = virtq_pop(vq, &c);
		if (ret <= 0)
			break;
		if (c.in_len < 1) {
			log_rl(LOG_WARN, MOD, "%s: control command without "
			       "an ack byte", n->name);
			virtio_dev_set_needs_reset(&n->vdev);
			return -EIO;
		}
		ack = VIRTIO_NET_ERR;
		if (!virtq_chain_read(&c, 0, hdr, 2))
			ack = ctrl_handle(n, &c, hdr[0], hdr[1],
					  c.out_len - 2);
		if (ack == VIRTIO_NET_OK)
			n->st.ctrl_ok++;
		else
			n->st.ctrl_err++;
		virtq_chain_write(&c, c.in_len - 1, &ack, 1);
		virtq_push(vq, c.head, 1);
	}
	virtio_dev_queue_done(&n->vdev, VIRTIO_NET_Q_CTRL);
	if (ret < 0)
		return -EIO;
	/*
	 * Publish avail_event for the next command: with EVENT_IDX the
	 * driver kicks only when its index passes it, and Linux spins (BH
	 * off) until its command comes back, so a stale one hangs the guest.
	 */
	return !budget || virtq_enable_notify(vq) ? 1 : 0;
}

