/* SPDX-License-Identifier: MIT */
/* tap.c - TAP port backend: TUN/TAP device, vnet header offloads, the data path (set-up over netlink: tap_netlink.c). */
#include "backends/tap.h"
#include "backends/tap_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include <liburing.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "common/log.h"
#include "switch/switch.h"

LOG_MODULE("tap");

/* The 12-byte header (virtio_net_hdr_mrg_rxbuf) set with TUNSETVNETHDRSZ. */
enum { TAP_VNET_HDR_LEN = 12, TAP_BUF_LEN = TAP_VNET_HDR_LEN + FRAME_MAX_LEN };

/*
 * Reads posted per receive call while the queue keeps them all busy; it
 * starts small and doubles while every read returns a frame, so an idle
 * or trickling TAP costs a few failed reads per wake-up, a flooded one 64.
 */
enum { TAP_RX_POST_MIN = 4 };


/*
 * A TAP moves one frame per read() or write(): with a syscall each, the
 * data-path thread spent most of its time entering and leaving the kernel,
 * and every write that woke the receiving application let it preempt us,
 * once per frame. With an io_uring per TAP a whole batch of reads or writes
 * is one io_uring_enter. The fd is O_NONBLOCK, so the kernel runs each
 * request inline in that call (an empty queue completes a read with
 * -EAGAIN instead of parking it), and every call reaps all of its
 * completions before it returns: nothing is in flight between calls, which
 * keeps port_ops' rule that send() holds no pointer after returning.
 * Without io_uring (kernel.io_uring_disabled, seccomp, LOOM_TAP_URING=0)
 * the same loop runs on read()/writev().
 */
struct tap_dev {
	int fd;
	int ifindex;
	bool offload;
	bool uring; /* @ring is set up and used */
	bool carrier_off; /* set down by hand: frames for it are dropped */
	unsigned int rx_post; /* reads to post next receive call */
	char ifname[IFNAMSIZ];
	struct io_uring ring;
	uint8_t *rx_buf[FRAME_BATCH_MAX]; /* TAP_BUF_LEN each */
	/* Send side: a header and an iovec pair per frame of a batch. */
	struct virtio_net_hdr_mrg_rxbuf tx_hdr[FRAME_BATCH_MAX];
	struct iovec tx_iov[FRAME_BATCH_MAX][2];
};

/* Whether io_uring may be used: LOOM_TAP_URING=0 forces read()/writev(). */
static bool tap_uring_wanted(void)
{
	const char *env = getenv("LOOM_TAP_URING");

	return !env || strcmp(env, "0");
}

/* Set up @t's ring; on failure @t stays on read()/writev(). */
static void tap_uring_init(struct tap_dev *t)
{
	struct io_uring_params p;
	int ret;

	t->rx_post = TAP_RX_POST_MIN;
	if (!tap_uring_wanted())
		return;
	/* COOP_TASKRUN: no IPI to the thread for task work; nothing here needs it. */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL;
	ret = io_uring_queue_init_params(FRAME_BATCH_MAX, &t->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(FRAME_BATCH_MAX, &t->ring, &p);
	}
	if (ret < 0) {
		log_info(MOD, "%s: no io_uring (%s): one syscall per frame",
			 t->ifname, strerror(-ret));
		return;
	}
	t->uring = true;
}

/*
 * Submit the @n requests prepared on @t's ring and wait until all have
 * completed (they run inline, so the first io_uring_enter normally both
 * submits and finds every completion). @res gets each request's result, by
 * user_data index.
 * Return: 0, or a negative errno when the ring itself failed (@res then
 * holds only what completed).
 */
static int tap_uring_run(struct tap_dev *t, unsigned int n, int *res)
{
	unsigned int done = 0;
	int ret;

	/* Interrupted before the kernel took them: submit again, bounded. */
	for (int tries = 0; io_uring_sq_ready(&t->ring) && tries < 4; tries++) {
		ret = io_uring_submit_and_wait(&t->ring, n);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
			return ret;
	}
	if (io_uring_sq_ready(&t->ring))
		return -EIO;
	for (int tries = 0; done < n; tries++) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		io_uring_for_each_cqe(&t->ring, head, cqe) {
			if (cqe->user_data < n)
				res[cqe->user_data] = cqe->res;
			seen++;
		}
		io_uring_cq_advance(&t->ring, seen);
		done += seen;
		if (done >= n)
			break;
		if (tries >= 16)
			return -ETIMEDOUT;
		/* Only if the kernel punted one to a worker: it is quick. */
		ret = io_uring_wait_cqe_nr(&t->ring, &cqe, n - done);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
			return ret;
	}
	return 0;
}

/* Give up on io_uring for @t after the ring failed (@ret). */
static void tap_uring_fail(struct tap_dev *t, int ret)
{
	log_rl(LOG_WARN, MOD, "%s: io_uring failed (%s): back to read/write",
	       t->ifname, strerror(-ret));
	io_uring_queue_exit(&t->ring);
	t->uring = false;
}

int tap_dev_create(const struct tap_args *a, struct tap_dev **out, char *err,
		   size_t errlen)
{
	struct tap_dev *t;
	struct ifreq ifr;
	int nsfd = -1, ret, hdrlen = TAP_VNET_HDR_LEN;
	unsigned int offl;

	err[0] = '\0';
	if (!a->ifname || !*a->ifname || strlen(a->ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "bad TAP name");
		return -EINVAL;
	}
	if (!a->device && if_nametoindex(a->ifname)) {
		snprintf(err, errlen, "interface %s exists already", a->ifname);
		return -EEXIST;
	}
	if (a->netns) {
		nsfd = tap_netns_open(a->netns);
		if (nsfd < 0) {
			ret = nsfd == -EINVAL ? -EINVAL : -errno;
			snprintf(err, errlen, "netns '%s': %s", a->netns,
				 strerror(-ret));
			return ret;
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		ret = -ENOMEM;
		goto fail_ns;
	}
	t->fd = -1;
	for (int i = 0; i < FRAME_BATCH_MAX; i++) {
		t->rx_buf[i] = malloc(TAP_BUF_LEN);
		if (!t->rx_buf[i]) {
			ret = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	t->fd = open(a->device ? a->device : "/dev/net/tun",
		     O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s",
			 a->device ? a->device : "/dev/net/tun", strerror(errno));
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, a->ifname, strlen(a->ifname));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		snprintf(err, errlen, "TAP %s: %s%s", a->ifname, strerror(errno),
			 errno == EPERM ? " (loom-netd needs CAP_NET_ADMIN for TAP ports: run it as root)" : "");
		goto fail;
	}
	/* A macvtap's TUNSETIFF sets flags only and leaves ifr_name. */
	snprintf(t->ifname, sizeof(t->ifname), "%s",
		 a->device ? a->ifname : ifr.ifr_name);
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdrlen) < 0) {
		ret = -errno;
		snprintf(err, errlen, "TUNSETVNETHDRSZ: %s", strerror(errno));
		goto fail;
	}
	offl = a->offload ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0;
	if (ioctl(t->fd, TUNSETOFFLOAD, offl) < 0) {
		log_warn(MOD, "%s: offloads refused (%s), running without",
			 t->ifname, strerror(errno));
		offl = 0;
		ioctl(t->fd, TUNSETOFFLOAD, offl);
	}
	t->offload = offl != 0;
	t->ifindex = (int)if_nametoindex(t->ifname);
	if (!t->ifindex) {
		ret = -ENODEV;
		snprintf(err, errlen, "%s vanished", t->ifname);
		goto fail;
	}
	tap_uring_init(t);
	ret = tap_netlink_configure(t->ifname, &t->ifindex, a, nsfd, err,
				    errlen);
	if (ret < 0)
		goto fail;
	if (nsfd >= 0)
		close(nsfd);
	log_info(MOD, "%s up (ifindex %d%s%s, offloads %s, %s)", t->ifname,
		 t->ifindex, a->netns ? ", netns " : "", a->netns ? a->netns : "",
		 t->offload ? "on" : "off", t->uring ? "io_uring" : "read/write");
	*out = t;
	return 0;
fail:
	tap_dev_destroy(t);
fail_ns:
	if (nsfd >= 0)
		close(nsfd);
	if (!err[0])
		snprintf(err, errlen, "%s", strerror(-ret));
	return ret;
}

void tap_dev_destroy(struct tap_dev *t)
{
	if (!t)
		return;
	/*
	 * Not persistent: closing the last fd unregisters the interface.
	 * The ring holds no reference to it (no request is ever in flight
	 * between calls, and the fd is not a registered file: a registered
	 * one would stay open until the kernel frees the ring, later and
	 * asynchronously, also after a kill -9, so the TAP would outlive
	 * netd for a moment; it would save only an fget/fput per frame).
	 */
	if (t->uring)
		io_uring_queue_exit(&t->ring);
	if (t->fd >= 0)
		close(t->fd);
	for (int i = 0; i < FRAME_BATCH_MAX; i++)
		free(t->rx_buf[i]);
	free(t);
}

int tap_dev_ifindex(const struct tap_dev *t)
{
	return t->ifindex;
}

int tap_dev_set_offload(struct tap_dev *t, bool on)
{
	unsigned int offl = on ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0;

	if (on == t->offload)
		return 0;
	if (ioctl(t->fd, TUNSETOFFLOAD, offl) < 0)
		return -errno;
	t->offload = on;
	log_info(MOD, "%s: offloads %s", t->ifname, on ? "on" : "off");
	return 0;
}

int tap_dev_set_carrier(struct tap_dev *t, bool up)
{
	int on = up;

	if (ioctl(t->fd, TUNSETCARRIER, &on) < 0)
		return -errno;
	__atomic_store_n(&t->carrier_off, !up, __ATOMIC_RELAXED);
	log_info(MOD, "%s: carrier %s", t->ifname, up ? "on" : "off");
	return 0;
}

int tap_dev_fd(const struct tap_dev *t)
{
	return t->fd;
}

bool tap_dev_offload(const struct tap_dev *t)
{
	return t->offload;
}

/* port_ops */

static int tap_port_open(struct port *port, const void *args)
{
	port->priv = (void *)args;
	return 0;
}

static void tap_hdr_to_offload(const uint8_t *h, struct frame_offload *o)
{
	struct virtio_net_hdr vh;

	memcpy(&vh, h, sizeof(vh));
	o->flags = vh.flags & (FRAME_F_NEEDS_CSUM | FRAME_F_DATA_VALID);
	o->gso_type = vh.gso_type;
	o->hdr_len = vh.hdr_len;
	o->gso_size = vh.gso_size;
	o->csum_start = vh.csum_start;
	o->csum_offset = vh.csum_offset;
}

/*
 * Turn a read of @n bytes into buffer @buf into the next frame of @b.
 * Return: true if a frame was appended.
 */
static bool tap_rx_frame(struct tap_dev *t, uint8_t *buf, ssize_t n,
			 struct frame_batch *b)
{
	struct frame *f;

	if (n < TAP_VNET_HDR_LEN + 14) {
		log_rl(LOG_WARN, MOD, "%s: short frame (%zd bytes)", t->ifname,
		       n);
		return false;
	}
	f = &b->f[b->count];
	f->data = buf + TAP_VNET_HDR_LEN;
	f->len = (uint32_t)(n - TAP_VNET_HDR_LEN);
	f->vlan = 0;
	f->pad = 0;
	tap_hdr_to_offload(buf, &f->off);
	if (!t->offload && f->off.gso_type != FRAME_GSO_NONE) {
		log_rl(LOG_WARN, MOD, "%s: GSO frame without offloads",
		       t->ifname);
		return false;
	}
	b->count++;
	return true;
}

/*
 * A failed read: false means stop reading (queue empty, link down), with
 * *@fatal set to a negative errno when the TAP is broken.
 */
static bool tap_rx_error(struct tap_dev *t, int err, int *fatal)
{
	if (err == EAGAIN || err == EINTR || err == EIO || err == ENETDOWN)
		return false; /* empty, or link down: nothing to read */
	log_rl(LOG_WARN, MOD, "%s: read: %s", t->ifname, strerror(err));
	*fatal = -err;
	return false;
}

static int tap_recv_syscall(struct tap_dev *t, struct frame_batch *b)
{
	unsigned int start = b->count;
	int fatal = 0;

	/* Bounded by the batch: the kernel queue may never run dry. */
	while (b->count < FRAME_BATCH_MAX) {
		uint8_t *buf = t->rx_buf[b->count];
		ssize_t n = read(t->fd, buf, TAP_BUF_LEN);

		if (n < 0) {
			if (!tap_rx_error(t, errno, &fatal))
				break;
			continue;
		}
		tap_rx_frame(t, buf, n, b);
	}
	if (b->count == start && fatal)
		return fatal;
	return (int)(b->count - start);
}

/*
 * Post up to rx_post reads (each into its own buffer), run them in one
 * io_uring_enter, take the frames in order.
 */
static int tap_recv_uring(struct tap_dev *t, struct frame_batch *b)
{
	unsigned int start = b->count, room = FRAME_BATCH_MAX - start;
	unsigned int n = t->rx_post < room ? t->rx_post : room, filled = 0;
	int res[FRAME_BATCH_MAX], fatal = 0, ret;
	uint8_t *buf[FRAME_BATCH_MAX];
	bool nowait_refused = false;

	for (unsigned int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);

		if (!sqe) {
			n = i;
			break;
		}
		buf[i] = t->rx_buf[start + i];
		io_uring_prep_read(sqe, t->fd, buf[i], TAP_BUF_LEN, -1);
		sqe->rw_flags = RWF_NOWAIT;
		sqe->user_data = i;
		res[i] = -EAGAIN;
	}
	if (!n)
		return 0;
	ret = tap_uring_run(t, n, res);
	if (ret < 0) {
		/* What did complete is lost: a drop, as on a full queue. */
		tap_uring_fail(t, ret);
		return 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (res[i] == -EOPNOTSUPP) {
			/* The kernel refuses RWF_NOWAIT on a TAP (Linux 6.1
			 * does): nothing was read; syscalls from now on. */
			nowait_refused = true;
			continue;
		}
		if (res[i] < 0) {
			tap_rx_error(t, -res[i], &fatal);
			continue;
		}
		filled++;
		tap_rx_frame(t, buf[i], res[i], b);
	}
	if (nowait_refused)
		tap_uring_fail(t, -EOPNOTSUPP);
	/* Grow while every read found a frame, shrink towards what came. */
	if (filled == n)
		t->rx_post = n * 2 < FRAME_BATCH_MAX ? n * 2 : FRAME_BATCH_MAX;
	else
		t->rx_post = filled + 1 > TAP_RX_POST_MIN ? filled + 1
							 : TAP_RX_POST_MIN;
	if (b->count == start && fatal)
		return fatal;
	return (int)(b->count - start);
}

static int tap_port_recv(struct port *port, struct frame_batch *b)
{
	struct tap_dev *t = port->priv;

	if (b->count >= FRAME_BATCH_MAX)
		return 0;
	return t->uring ? tap_recv_uring(t, b) : tap_recv_syscall(t, b);
}

static void tap_port_recv_done(struct port *port, struct frame_batch *b)
{
	(void)port;
	(void)b;
}

/* Fill tx_hdr[i] and tx_iov[i] for frame @f. */
static void tap_tx_prepare(struct tap_dev *t, unsigned int i,
			   const struct frame *f)
{
	struct virtio_net_hdr_mrg_rxbuf *vh = &t->tx_hdr[i];

	memset(vh, 0, sizeof(*vh));
	vh->hdr.flags = f->off.flags;
	vh->hdr.gso_type = f->off.gso_type;
	vh->hdr.hdr_len = f->off.hdr_len;
	vh->hdr.gso_size = f->off.gso_size;
	vh->hdr.csum_start = f->off.csum_start;
	vh->hdr.csum_offset = f->off.csum_offset;
	t->tx_iov[i][0].iov_base = vh;
	t->tx_iov[i][0].iov_len = TAP_VNET_HDR_LEN;
	t->tx_iov[i][1].iov_base = f->data;
	t->tx_iov[i][1].iov_len = f->len;
}

static void tap_tx_error(struct tap_dev *t, int err)
{
	if (err != EAGAIN && err != EIO)
		log_rl(LOG_WARN, MOD, "%s: write: %s", t->ifname,
		       strerror(err));
}

static int tap_send_syscall(struct tap_dev *t, struct frame_batch *b,
			    unsigned int from)
{
	int sent = 0;

	for (unsigned int i = from; i < b->count; i++) {
		tap_tx_prepare(t, i, &b->f[i]);
		if (writev(t->fd, t->tx_iov[i], 2) < 0) {
			tap_tx_error(t, errno);
			continue;
		}
		sent++;
	}
	return sent;
}

static int tap_send_uring(struct tap_dev *t, struct frame_batch *b)
{
	int res[FRAME_BATCH_MAX], sent = 0, ret;
	unsigned int n = b->count;

	for (unsigned int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);

		if (!sqe) {
			/* Cannot happen (SQ is a batch deep): stay correct. */
			n = i;
			break;
		}
		tap_tx_prepare(t, i, &b->f[i]);
		io_uring_prep_writev(sqe, t->fd, t->tx_iov[i], 2, -1);
		sqe->user_data = i;
		res[i] = -EIO;
	}
	ret = n ? tap_uring_run(t, n, res) : 0;
	if (ret < 0) {
		/* Some may have gone out: count none rather than send twice. */
		tap_uring_fail(t, ret);
		return 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (res[i] < 0)
			tap_tx_error(t, -res[i]);
		else
			sent++;
	}
	if (n < b->count)
		sent += tap_send_syscall(t, b, n);
	return sent;
}

static int tap_port_send(struct port *port, struct frame_batch *b)
{
	struct tap_dev *t = port->priv;

	/* No carrier, no frames: the kernel would still deliver them. */
	if (b->count > FRAME_BATCH_MAX ||
	    __atomic_load_n(&t->carrier_off, __ATOMIC_RELAXED))
		return 0;
	return t->uring ? tap_send_uring(t, b) : tap_send_syscall(t, b, 0);
}

static int tap_port_poll_fd(struct port *port)
{
	struct tap_dev *t = port->priv;

	return t->fd;
}

static void tap_port_close(struct port *port)
{
	tap_dev_destroy(port->priv);
	port->priv = NULL;
}

/* A declared port: a TAP named @decl->ifname, marked with @decl->alias. */
static int tap_port_create(const struct port_decl *decl, void **priv,
			   char *err, size_t errlen)
{
	struct tap_args a = {
		.ifname = decl->ifname,
		.alias = decl->alias,
		.netns = decl->netns,
		.address = decl->address,
		.mtu = decl->mtu,
		.offload = decl->offload,
	};
	struct tap_dev *t;
	int ret;

	if (!a.ifname) {
		snprintf(err, errlen, "port %s: no TAP name", decl->name);
		return -EINVAL;
	}
	ret = tap_dev_create(&a, &t, err, errlen);
	if (ret < 0)
		return ret;
	*priv = t;
	return 0;
}

static int tap_port_set_offload(struct port *port, bool on)
{
	return tap_dev_set_offload(port->priv, on);
}

static int tap_port_set_link(struct port *port, bool up, char *err,
			     size_t errlen)
{
	struct tap_dev *t = port->priv;
	int ret = tap_dev_set_carrier(t, up);

	if (ret < 0)
		snprintf(err, errlen, "%s: TUNSETCARRIER: %s", t->ifname,
			 strerror(-ret));
	return ret;
}

/*
 * Level-triggered: the TAP fd is readable while the kernel queues frames.
 * Takes GSO frames always: the kernel segments what it is written.
 */
const struct port_ops tap_port_ops = {
	.name = "tap",
	.caps = PORT_CAP_POLL_LEVEL | PORT_CAP_TAKES_GSO,
	.create = tap_port_create,
	.cleanup_stray = tap_cleanup_stray,
	.open = tap_port_open,
	.recv = tap_port_recv,
	.recv_done = tap_port_recv_done,
	.send = tap_port_send,
	.poll_fd = tap_port_poll_fd,
	.set_offload = tap_port_set_offload,
	.set_link = tap_port_set_link,
	.close = tap_port_close,
};
