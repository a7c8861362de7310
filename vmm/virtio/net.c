/* SPDX-License-Identifier: MIT */
/* net.c - virtio-net: guest frames to and from a NIC backend. */
#include "vmm/virtio/net.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/net/nic.h"
#include "vmm/virtio/pci.h"
#include "vmm/virtio/vhost_net.h"
#include "vmm/vm.h"

#define MOD "virtio-net"

enum { ETH_HLEN = 14, TCP_CSUM_OFF = 16 };

/* Numbers the devices in log lines: virtio-net0, virtio-net1, ... */
static unsigned int net_count;

/*
 * struct virtio_net - one NIC.
 * @vdev: the generic device.
 * @nb: its backend (owned).
 * @rx_first: segments of the first chain of the frame being received (its
 *	header is written last, once num_buffers is known).
 * @rx_segs, @tx_segs, @ctrl_segs: one chain at a time per queue.
 * @rx_used: heads and lengths of the chains of the frame being received.
 * @bounce: a frame whose checksum the device completes for a driver
 *	without GUEST_CSUM.
 */
struct virtio_net {
	struct virtio_dev vdev;
	struct nic_backend *nb;
	struct nic_config cfg;
	char name[24];
	uint16_t mtu;
	struct virtq_seg rx_first[VIRTIO_NET_QUEUE_SIZE];
	struct virtq_seg rx_segs[VIRTIO_NET_QUEUE_SIZE];
	struct virtq_seg tx_segs[VIRTIO_NET_QUEUE_SIZE];
	struct virtq_seg ctrl_segs[VIRTIO_NET_QUEUE_SIZE];
	struct {
		uint16_t head;
		uint32_t len;
	} rx_used[VIRTIO_NET_QUEUE_SIZE];
	pthread_t thread;
	bool thread_on;
	bool stopping; /* atomic: close() waits for the thread */
	bool rx_offload_dirty; /* driver_ok: tell the backend (lock held) */
	struct vhost_net *vh;  /* NULL: the queues are always ours */
	bool vhost_pending;    /* driver_ok: hand the queues over */
	int stop_fd;
	struct virtio_net_stats st;
	uint8_t bounce[NIC_FRAME_MAX];
};

static struct virtio_net *to_net(struct virtio_dev *vdev)
{
	return vdev->priv;
}

static void le_put(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static bool has(const struct virtio_net *n, unsigned int bit)
{
	return virtio_dev_has_feature(&n->vdev, bit);
}

static void net_config_read(struct virtio_dev *vdev, uint32_t off,
			    uint8_t *data, uint32_t len)
{
	struct virtio_net *n = to_net(vdev);
	uint8_t cfg[VIRTIO_NET_CONFIG_SIZE] = { 0 };

	memcpy(cfg, n->cfg.mac, 6);
	le_put(cfg + 6, nic_backend_link_up(n->nb) ? VIRTIO_NET_S_LINK_UP : 0,
	       2);
	le_put(cfg + 8, 1, 2); /* max_virtqueue_pairs */
	le_put(cfg + 10, n->mtu, 2);
	le_put(cfg + 12, 10000, 4); /* speed, Mbit/s (informational) */
	cfg[16] = 1;		    /* full duplex */
	memcpy(data, cfg + off, len);
}

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
static int tx_process(struct virtio_net *n)
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
static int rx_process(struct virtio_net *n)
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
static int ctrl_process(struct virtio_net *n)
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
	return budget ? 0 : 1;
}

/* ---------------------------------------------------------------------- */
/* Backend events, rounds, the I/O thread */

static void net_link_changed(void *opaque)
{
	struct virtio_net *n = opaque;

	/* Called from nic_backend_poll(), lock held: STATUS changed. */
	virtio_dev_config_changed(&n->vdev);
	/* The kernel worker follows the link: a new TAP after netd came
	 * back, none while down (the guest's TX waits in its ring). */
	if (vhost_net_started(n->vh)) {
		int fd = nic_backend_link_up(n->nb) ?
				 nic_backend_kernel_fd(n->nb) : -1;

		if (vhost_net_set_backend(n->vh, fd < 0 ? -1 : fd))
			log_rl(LOG_WARN, MOD, "%s: vhost-net backend: %s",
			       n->name, strerror(errno));
	}
}

/* Lock held, the device's thread: give RX/TX to vhost-net if it can. */
static void net_vhost_start(struct virtio_net *n)
{
	static const uint64_t one = 1;
	int fd;

	n->vhost_pending = false;
	fd = nic_backend_kernel_fd(n->nb);
	if (fd < 0 && fd != -ENOTCONN)
		return;
	if (vhost_net_start(n->vh, &n->vdev, nic_backend_link_up(n->nb) &&
				fd >= 0 ? fd : -1))
		return; /* said why; the queues stay in userspace */
	nic_backend_set_datapath(n->nb, "vhost-net");
	/* Kicks this thread took before the hand-over: the kernel looks. */
	for (int q = 0; q < VHOST_NET_QUEUES; q++)
		if (write(n->vdev.kick_fd[q], &one, sizeof(one)) < 0)
			log_rl(LOG_WARN, MOD, "%s: kick: %s", n->name,
			       strerror(errno));
}

static const struct nic_backend_events net_events = {
	.link_changed = net_link_changed,
};

/* What the driver takes on RX, as enum nic_offload bits. */
static uint32_t net_rx_offload(const struct virtio_net *n)
{
	uint32_t bits = 0;

	if (!has(n, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	bits |= NIC_OFF_CSUM;
	if (has(n, VIRTIO_NET_F_GUEST_TSO4) && has(n, VIRTIO_NET_F_GUEST_TSO6))
		bits |= NIC_OFF_GSO_TCP;
	if (has(n, VIRTIO_NET_F_GUEST_ECN))
		bits |= NIC_OFF_GSO_ECN;
	return bits;
}

int virtio_net_process(struct virtio_net *n)
{
	int more = 0, ret;

	pthread_mutex_lock(&n->vdev.lock);
	nic_backend_poll(n->nb);
	if (!virtio_dev_running(&n->vdev))
		goto unlock;
	if (n->rx_offload_dirty) {
		n->rx_offload_dirty = false;
		nic_backend_set_rx_offload(n->nb, net_rx_offload(n));
	}
	if (n->vhost_pending)
		net_vhost_start(n);
	if (vhost_net_started(n->vh)) {
		vhost_net_relay(n->vh);
		more = ctrl_process(n);
		goto unlock;
	}
	ret = tx_process(n);
	if (ret >= 0) {
		more |= ret;
		ret = rx_process(n);
	}
	if (ret >= 0) {
		more |= ret;
		ret = ctrl_process(n);
	}
	if (ret >= 0)
		more |= ret;
	else
		more = -EIO;
unlock:
	pthread_mutex_unlock(&n->vdev.lock);
	return more;
}

static void *net_thread(void *arg)
{
	struct virtio_net *n = arg;
	struct pollfd pfd[VIRTIO_NET_NR_QUEUES + 2];
	uint64_t v;

	for (int q = 0; q < VIRTIO_NET_NR_QUEUES; q++)
		pfd[q] = (struct pollfd){ .fd = n->vdev.kick_fd[q],
					  .events = POLLIN };
	pfd[VIRTIO_NET_NR_QUEUES] = (struct pollfd){
		.fd = nic_backend_notify_fd(n->nb), .events = POLLIN };
	pfd[VIRTIO_NET_NR_QUEUES + 1] = (struct pollfd){
		.fd = n->stop_fd, .events = POLLIN };
	for (;;) {
		bool vhost = vhost_net_started(n->vh);

		/* vhost-net reads the RX/TX kicks itself; without MSI-X its
		 * interrupts come here to be relayed (in their place). */
		for (int q = 0; q < VHOST_NET_QUEUES; q++)
			pfd[q].fd = vhost ? vhost_net_relay_fd(n->vh, q) :
					    n->vdev.kick_fd[q];
		if (poll(pfd, VIRTIO_NET_NR_QUEUES + 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err(MOD, "%s: poll: %s", n->name, strerror(errno));
			return NULL;
		}
		if (pfd[VIRTIO_NET_NR_QUEUES + 1].revents)
			return NULL;
		for (int q = vhost ? VHOST_NET_QUEUES : 0;
		     q < VIRTIO_NET_NR_QUEUES; q++)
			if (pfd[q].revents & POLLIN &&
			    read(pfd[q].fd, &v, sizeof(v)) < 0)
				continue;
		/* Rounds until idle; each is bounded by the ring sizes, and
		 * a stop ends them (the teardown waits for this thread). */
		while (!__atomic_load_n(&n->stopping, __ATOMIC_ACQUIRE) &&
		       virtio_net_process(n) > 0)
			;
	}
}

static void net_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_net *n = to_net(vdev);
	uint64_t one = 1;

	if (q >= VIRTIO_NET_NR_QUEUES)
		return;
	if (n->thread_on) {
		if (write(vdev->kick_fd[q], &one, sizeof(one)) < 0)
			log_rl(LOG_WARN, MOD, "%s: kick: %s", vdev->name,
			       strerror(errno));
		return;
	}
	/* Inline (no KVM): a few rounds, each bounded. */
	for (int i = 0; i < 4 && virtio_net_process(n) > 0; i++)
		;
}

static int net_driver_ok(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);
	uint64_t one = 1;

	/* The backend is the I/O thread's: it applies this next round. */
	n->rx_offload_dirty = true;
	n->vhost_pending = n->vh != NULL;

	/* Frames may have waited in the backend: look at them now. */
	if (n->thread_on && write(vdev->kick_fd[VIRTIO_NET_Q_RX], &one,
				  sizeof(one)) < 0)
		return -errno;
	return 0;
}

/* Lock held (a vCPU thread): the rings go back to the transport. */
static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);
	static const uint64_t one = 1;

	n->vhost_pending = false;
	if (!vhost_net_started(n->vh))
		return;
	vhost_net_stop(n->vh);
	nic_backend_set_datapath(n->nb, "userspace");
	/* Wake the thread (it polls the control queue's kick) so that it
	 * watches the RX/TX kicks again. */
	if (write(vdev->kick_fd[VIRTIO_NET_Q_CTRL], &one, sizeof(one)) < 0)
		log_rl(LOG_WARN, MOD, "%s: kick: %s", n->name, strerror(errno));
}

static void net_destroy(struct virtio_dev *vdev)
{
	virtio_net_close(to_net(vdev));
}

static const struct virtio_dev_ops net_ops = {
	.config_read = net_config_read,
	.queue_notify = net_queue_notify,
	.driver_ok = net_driver_ok,
	.reset = net_reset,
	.destroy = net_destroy,
};

static uint64_t net_features(uint32_t caps)
{
	uint64_t f = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_MTU |
		     1ull << VIRTIO_NET_F_STATUS |
		     1ull << VIRTIO_NET_F_MRG_RXBUF |
		     1ull << VIRTIO_NET_F_CTRL_VQ |
		     1ull << VIRTIO_NET_F_CTRL_RX |
		     1ull << VIRTIO_F_EVENT_IDX |
		     1ull << VIRTIO_F_INDIRECT_DESC;

	if (!(caps & NIC_OFF_CSUM))
		return f;
	f |= 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM;
	if (!(caps & NIC_OFF_GSO_TCP))
		return f;
	f |= 1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 |
	     1ull << VIRTIO_NET_F_GUEST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO6;
	if (caps & NIC_OFF_GSO_ECN)
		f |= 1ull << VIRTIO_NET_F_HOST_ECN |
		     1ull << VIRTIO_NET_F_GUEST_ECN;
	return f;
}

struct virtio_net *virtio_net_open(const struct guest_mem *gm, struct vm *vm,
				   const struct nic_config *cfg,
				   const struct nic_backend_ops *ops, int *err)
{
	const uint32_t want = NIC_OFF_CSUM | NIC_OFF_GSO_TCP | NIC_OFF_GSO_ECN;
	struct virtio_net *n;
	int ret;

	n = calloc(1, sizeof(*n));
	if (!n) {
		ret = -ENOMEM;
		goto fail;
	}
	n->cfg = *cfg;
	n->mtu = VIRTIO_NET_MTU_DEFAULT;
	n->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->stop_fd < 0) {
		ret = -errno;
		goto free_n;
	}
	ret = ops ? nic_backend_open_ops(&n->nb, ops, cfg, "virtio", want,
					 &net_events, n) :
		    nic_backend_open(&n->nb, vm, cfg, "virtio", want,
				     &net_events, n);
	if (ret)
		goto close_stop;
	snprintf(n->name, sizeof(n->name), "virtio-net%u",
		 __atomic_fetch_add(&net_count, 1, __ATOMIC_RELAXED));
	ret = virtio_dev_init(&n->vdev, n->name, VIRTIO_ID_NET,
			      net_features(nic_backend_caps(n->nb)),
			      VIRTIO_NET_NR_QUEUES, VIRTIO_NET_QUEUE_SIZE,
			      VIRTIO_NET_CONFIG_SIZE, gm, &net_ops, n);
	if (ret)
		goto close_nb;
	return n;

close_nb:
	nic_backend_close(n->nb);
close_stop:
	close(n->stop_fd);
free_n:
	free(n);
fail:
	if (err)
		*err = ret;
	return NULL;
}

struct virtio_dev *virtio_net_vdev(struct virtio_net *n)
{
	return &n->vdev;
}

struct nic_backend *virtio_net_backend(struct virtio_net *n)
{
	return n->nb;
}

const struct virtio_net_stats *virtio_net_stats(const struct virtio_net *n)
{
	return &n->st;
}

int virtio_net_start(struct virtio_net *n)
{
	int ret;

	if (n->thread_on)
		return 0;
	ret = pthread_create(&n->thread, NULL, net_thread, n);
	if (ret)
		return -ret;
	n->thread_on = true;
	n->vdev.kick_by_fd = true;
	return 0;
}

void virtio_net_close(struct virtio_net *n)
{
	uint64_t one = 1;

	if (!n)
		return;
	if (n->thread_on) {
		__atomic_store_n(&n->stopping, true, __ATOMIC_RELEASE);
		if (write(n->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(n->thread, NULL);
		n->thread_on = false;
	}
	vhost_net_close(n->vh);
	nic_list_remove(n->nb);
	nic_backend_close(n->nb);
	virtio_dev_destroy(&n->vdev);
	close(n->stop_fd);
	free(n);
}

/*
 * A backend with a kernel fd (netd's TAP or macvtap) and /dev/vhost-net:
 * the queues go to the kernel at DRIVER_OK. Without vhost-net the frames
 * go through this device's thread (said once per VMM).
 */
static void net_vhost_open(struct virtio_net *n)
{
	static bool told;
	int ret;

	if (nic_backend_kernel_fd(n->nb) == -EOPNOTSUPP)
		return;
	ret = vhost_net_open(&n->vh, n->name);
	if (!ret || told)
		return;
	told = true;
	log_info(MOD, "%s: no vhost-net (%s): virtio-net frames on a TAP go "
		 "through the VMM (userspace TAP I/O)", n->name,
		 ret == -ENOENT ? "/dev/vhost-net missing" : strerror(-ret));
}

int virtio_net_create(struct vm *vm, const struct nic_config *cfg)
{
	struct virtio_net *n;
	int ret = 0;

	if (!vm->pci)
		return -EINVAL;
	n = virtio_net_open(&vm->mem, vm, cfg, NULL, &ret);
	if (!n)
		return ret;
	/* Without KVM nothing signals ioeventfds: process inline. */
	if (vm->vm_fd >= 0) {
		net_vhost_open(n);
		ret = virtio_net_start(n);
		if (ret)
			goto close;
	}
	ret = virtio_pci_create(vm->pci, &n->vdev, NULL);
	if (ret)
		goto close;
	nic_list_add(&n->cfg, n->nb);
	return 0;

close:
	virtio_net_close(n);
	return ret;
}
