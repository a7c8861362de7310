/* SPDX-License-Identifier: MIT */
/* shm.c - switch side of an shm port: attach handling and shm_port_ops. */
#include "backends/shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "common/shm_sock.h"
#include "switch/switch.h"

LOG_MODULE("shm");

struct shm_port {
	void *base;
	struct shm_layout layout;
	int kick_netd;
	int kick_peer;
	struct shm_cons rx; /* to_netd: the peer produces, we consume */
	struct shm_prod tx; /* to_peer: we produce */
	uint32_t taken;	    /* frames handed to the switch, not released */
	bool broken;
	bool link_down;	    /* set down by hand: frames for it are dropped */
	uint64_t tx_dropped;
	uint64_t violations;
	uint8_t mac[6];
	char network[SHM_NETWORK_NAME_MAX];
};

int shm_port_read_attach(int sock, int timeout_ms, struct shm_attach_req *req)
{
	uint8_t buf[sizeof(*req)];
	int n;

	n = shm_msg_recv(sock, buf, sizeof(buf), NULL, 0, timeout_ms);
	if (n < 0) {
		if (n == -EPROTO)
			log_rl(
			    LOG_WARN, "shm",
			    "attach: bad message or unexpected fds (closed)");
		return n;
	}
	n = shm_attach_req_parse(buf, sizeof(buf), req);
	if (n < 0)
		log_rl(LOG_WARN, MOD, "attach: malformed request");
	return n;
}

void shm_port_args_release(struct shm_port_args *args)
{
	if (args->base)
		munmap(args->base, args->layout.region_size);
	args->base = NULL;
	if (args->kick_netd >= 0)
		close(args->kick_netd);
	if (args->kick_peer >= 0)
		close(args->kick_peer);
	args->kick_netd = args->kick_peer = -1;
}

int shm_port_create(const struct shm_attach_req *req,
		    const struct shm_port_config *cfg,
		    struct shm_port_args *args, int *memfd)
{
	uint32_t ring = cfg->ring_size	 ? cfg->ring_size
			: req->ring_size ? req->ring_size
					 : SHM_RING_SIZE_DEFAULT;
	uint32_t data = cfg->data_size ? cfg->data_size : SHM_DATA_SIZE_DEFAULT;
	int fd, err;

	memset(args, 0, sizeof(*args));
	args->kick_netd = args->kick_peer = -1;
	err = shm_layout_compute(&args->layout, ring, data,
				 req->features & cfg->features);
	if (err)
		return err;
	fd = memfd_create("loom-shm-port", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/*
	 * Sealed before anyone else sees it: the peer can neither shrink it
	 * (our accesses would SIGBUS) nor grow it.
	 */
	if (ftruncate(fd, (off_t)args->layout.region_size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) <
		0) {
		err = -errno;
		goto fail;
	}
	args->base =
	    mmap(NULL, args->layout.region_size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, fd, 0);
	if (args->base == MAP_FAILED) {
		args->base = NULL;
		err = -errno;
		goto fail;
	}
	shm_header_write(args->base, &args->layout, req->mac);
	shm_header_link_set(args->base, cfg->link_down);
	for (int d = 0; d < 2; d++) {
		struct shm_ring *r =
		    (struct shm_ring *)((uint8_t *)args->base +
					args->layout.ring_off[d]);

		r->cons_event = r->prod_event = 1u << 31;
	}
	args->kick_netd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	args->kick_peer = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (args->kick_netd < 0 || args->kick_peer < 0) {
		err = -errno;
		goto fail;
	}
	memcpy(args->mac, req->mac, 6);
	args->model = req->model;
	memcpy(args->network, req->network, sizeof(args->network));
	args->network[sizeof(args->network) - 1] = 0;
	*memfd = fd;
	return 0;
fail:
	shm_port_args_release(args);
	close(fd);
	return err;
}

static int send_reply(int sock, int status, const struct shm_layout *l,
		      const int *fds)
{
	struct shm_attach_reply rep = {
	    .magic = SHM_ATTACH_MAGIC,
	    .version = SHM_PORT_VERSION,
	    .size = sizeof(rep),
	    .status = status,
	    .nfds = status ? 0 : SHM_FD_COUNT,
	    .features = l ? l->features : 0,
	    .region_size = l ? l->region_size : 0,
	};

	return shm_msg_send(sock, &rep, sizeof(rep), fds, rep.nfds);
}

int shm_port_reject(int sock, int err)
{
	return send_reply(sock, err < 0 ? err : -EINVAL, NULL, NULL);
}

int shm_port_accept(int sock, const struct shm_attach_req *req,
		    const struct shm_port_config *cfg,
		    struct shm_port_args *args)
{
	int fds[SHM_FD_COUNT];
	int memfd, err;

	err = shm_port_create(req, cfg, args, &memfd);
	if (err) {
		shm_port_reject(sock, err);
		return err;
	}
	fds[SHM_FD_MEMFD] = memfd;
	fds[SHM_FD_KICK_NETD] = args->kick_netd;
	fds[SHM_FD_KICK_PEER] = args->kick_peer;
	err = send_reply(sock, 0, &args->layout, fds);
	close(memfd); /* our mapping keeps the region alive */
	if (err)
		shm_port_args_release(args);
	return err;
}

struct shm_port *shm_port_new(struct shm_port_args *args)
{
	struct shm_port *sp = calloc(1, sizeof(*sp));

	if (!sp || shm_prod_init(&sp->tx, args->base, &args->layout,
				 SHM_TO_PEER) < 0) {
		free(sp);
		shm_port_args_release(args);
		errno = ENOMEM;
		return NULL;
	}
	shm_cons_init(&sp->rx, args->base, &args->layout, SHM_TO_NETD);
	sp->link_down = shm_header_link_down(args->base);
	sp->base = args->base;
	sp->layout = args->layout;
	sp->kick_netd = args->kick_netd;
	sp->kick_peer = args->kick_peer;
	memcpy(sp->mac, args->mac, 6);
	memcpy(sp->network, args->network, sizeof(sp->network));
	/* Ownership moved. */
	args->base = NULL;
	args->kick_netd = args->kick_peer = -1;
	return sp;
}

void shm_port_free(struct shm_port *sp)
{
	struct shm_port_args a;

	if (!sp)
		return;
	shm_prod_fini(&sp->tx);
	a.base = sp->base;
	a.layout = sp->layout;
	a.kick_netd = sp->kick_netd;
	a.kick_peer = sp->kick_peer;
	shm_port_args_release(&a);
	free(sp);
}

bool shm_port_broken(const struct shm_port *sp)
{
	return sp->broken;
}

/* A protocol violation: this port is dead; everything else carries on. */
static int port_violation(struct shm_port *sp, enum shm_violation why,
			  const char *ring)
{
	if (!sp->broken) {
		sp->broken = true;
		sp->violations++;
		log_rl(LOG_WARN, MOD,
		       "port %02x:%02x:%02x:%02x:%02x:%02x on %s: peer broke "
		       "the %s ring (%s): port reset",
		       sp->mac[0], sp->mac[1], sp->mac[2], sp->mac[3],
		       sp->mac[4], sp->mac[5], sp->network, ring,
		       shm_violation_str(why));
	}
	return -EPROTO;
}

int shm_port_recv(struct shm_port *sp, struct frame_batch *batch)
{
	uint32_t room, take;
	int avail;

	if (sp->broken)
		return -EPROTO;
	if (sp->rx.armed) {
		shm_cons_disarm(&sp->rx);
		shm_drain(sp->kick_netd);
	}
	if (batch->count >= FRAME_BATCH_MAX)
		return 0;
	room = FRAME_BATCH_MAX - batch->count;
	avail = shm_cons_peek(&sp->rx); /* the one index read per batch */
	if (avail < 0)
		return port_violation(sp, SHM_BAD_INDEX, "to_netd");
	take = (uint32_t)avail - sp->taken;
	if (take > room)
		take = room;
	for (uint32_t i = 0; i < take; i++) {
		struct frame *f = &batch->f[batch->count + i];
		enum shm_violation why = SHM_OK;
		struct shm_desc d;
		const uint8_t *data;

		data = shm_cons_get(&sp->rx, sp->taken + i, &d, &why);
		if (!data)
			return port_violation(sp, why, "to_netd");
		f->data = (uint8_t *)data;
		f->len = d.len;
		f->vlan = 0;
		f->pad = 0;
		f->off.flags = d.vnet_flags;
		f->off.gso_type = d.gso_type;
		f->off.hdr_len = d.hdr_len;
		f->off.gso_size = d.gso_size;
		f->off.csum_start = d.csum_start;
		f->off.csum_offset = d.csum_offset;
	}
	batch->count += take;
	sp->taken += take;
	return (int)take;
}

void shm_port_recv_done(struct shm_port *sp)
{
	if (!sp->taken || sp->broken)
		return;
	if (shm_cons_release(&sp->rx, sp->taken)) {
		sp->rx.st.kicks++;
		shm_kick(sp->kick_peer);
	}
	sp->taken = 0;
}

static uint64_t gso_feature(uint8_t gso_type)
{
	switch (gso_type & (uint8_t)~SHM_VNET_GSO_ECN) {
	case SHM_VNET_GSO_NONE:
		return 0;
	case SHM_VNET_GSO_TCPV4:
	case SHM_VNET_GSO_TCPV6:
		return SHM_F_GSO_TCP;
	default:
		return SHM_F_GSO_UDP;
	}
}

int shm_port_send(struct shm_port *sp, struct frame_batch *batch)
{
	uint64_t feat = sp->layout.features;
	int sent = 0;

	/* Our own copy of the link: the peer can write the header. */
	if (sp->broken || __atomic_load_n(&sp->link_down, __ATOMIC_RELAXED)) {
		sp->tx_dropped += batch->count;
		return 0;
	}
	for (uint32_t i = 0; i < batch->count; i++) {
		const struct frame *f = &batch->f[i];
		struct shm_desc d = {
		    .len = f->len,
		    .vnet_flags = f->off.flags,
		    .gso_type = f->off.gso_type,
		    .hdr_len = f->off.hdr_len,
		    .gso_size = f->off.gso_size,
		    .csum_start = f->off.csum_start,
		    .csum_offset = f->off.csum_offset,
		};
		uint8_t *dst;

		/* Only offloads this peer negotiated reach it. */
		if ((gso_feature(d.gso_type) & ~feat) ||
		    ((d.vnet_flags & SHM_VNET_F_NEEDS_CSUM) &&
		     !(feat & SHM_F_CSUM))) {
			sp->tx_dropped++;
			continue;
		}
		dst = shm_prod_alloc(&sp->tx, f->len);
		if (!dst) {
			if (sp->tx.broken) {
				sp->tx_dropped += batch->count - i;
				port_violation(sp, SHM_BAD_INDEX, "to_peer");
				return sent;
			}
			sp->tx_dropped++;
			continue;
		}
		memcpy(dst, f->data, f->len);
		shm_prod_commit(&sp->tx, &d);
		sent++;
	}
	if (shm_prod_publish(&sp->tx)) {
		sp->tx.st.kicks++;
		shm_kick(sp->kick_peer);
	}
	return sent;
}

int shm_port_kick_fd(const struct shm_port *sp)
{
	return sp->kick_netd;
}

int shm_port_fd(struct shm_port *sp)
{
	/*
	 * The caller is about to sleep on the fd: ask the peer for a kick;
	 * if frames slipped in meanwhile, make the fd readable ourselves.
	 */
	if (!sp->broken && !shm_cons_arm(&sp->rx))
		shm_kick(sp->kick_netd);
	return sp->kick_netd;
}

void shm_port_set_link(struct shm_port *sp, bool up)
{
	__atomic_store_n(&sp->link_down, !up, __ATOMIC_RELAXED);
	shm_header_link_set(sp->base, !up);
	shm_kick(sp->kick_peer);
}

void shm_port_stats_get(const struct shm_port *sp, struct shm_port_stats *st)
{
	st->rx = sp->rx.st;
	st->tx = sp->tx.st;
	st->tx_dropped = sp->tx_dropped;
	st->violations = sp->violations;
}

static int shm_op_open(struct port *port, const void *args)
{
	/* The args are ours from here on, as shm.h says. */
	struct shm_port *sp = shm_port_new((struct shm_port_args *)args);

	if (!sp)
		return -ENOMEM;
	port->priv = sp;
	return 0;
}

static int shm_op_recv(struct port *port, struct frame_batch *batch)
{
	return shm_port_recv(port->priv, batch);
}

static void shm_op_recv_done(struct port *port, struct frame_batch *batch)
{
	shm_port_recv_done(port->priv);
}

static int shm_op_send(struct port *port, struct frame_batch *batch)
{
	return shm_port_send(port->priv, batch);
}

static int shm_op_poll_fd(struct port *port)
{
	return shm_port_kick_fd(port->priv);
}

static void shm_op_arm(struct port *port)
{
	shm_port_fd(port->priv);
}

static int shm_op_set_link(struct port *port, bool up, char *err,
			   size_t errlen)
{
	(void)err;
	(void)errlen;
	shm_port_set_link(port->priv, up);
	return 0;
}

static void shm_op_close(struct port *port)
{
	shm_port_free(port->priv);
	port->priv = NULL;
}

const struct port_ops shm_port_ops = {
    .name = "shm",
    .open = shm_op_open,
    .recv = shm_op_recv,
    .recv_done = shm_op_recv_done,
    .send = shm_op_send,
    .poll_fd = shm_op_poll_fd,
    .arm = shm_op_arm,
    .set_link = shm_op_set_link,
    .close = shm_op_close,
};
