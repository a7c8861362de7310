/* SPDX-License-Identifier: MIT */
/* shm.h - switch side of an shm port: attach handling and shm_port_ops. */
#ifndef LOOM_BACKENDS_SHM_H
#define LOOM_BACKENDS_SHM_H

#include <stdbool.h>
#include <stdint.h>

#include "common/shm_ring.h"
#include "loom/shm_port.h"
#include "switch/port.h"

/*
 * Set-up, independent of netd: netd accepts a connection on its control
 * socket, authenticates it (SO_PEERCRED), then hands the connected socket
 * to shm_port_read_attach(); it decides (network exists? MAC free?) and
 * calls shm_port_accept() or shm_port_reject(). shm_port_accept() fills a
 * struct shm_port_args which switch_port_open(sw, &shm_port_ops, &args, ..)
 * consumes. The socket stays the caller's (closing it does not detach:
 * the port lives until the switch removes it).
 */

/*
 * struct shm_port_config - what netd offers.
 * @ring_size: slots per ring (0: SHM_RING_SIZE_DEFAULT, or the request's)
 * @data_size: data bytes per ring (0: SHM_DATA_SIZE_DEFAULT)
 * @features: offloads netd supports (the reply carries the intersection)
 * @link_down: the port starts with its link set down (SHM_LINK_F_DOWN in
 *	the header before the peer sees it)
 */
struct shm_port_config {
	uint32_t ring_size;
	uint32_t data_size;
	uint64_t features;
	bool link_down;
};

/*
 * struct shm_port_args - a created region, for shm_port_ops.open, which
 * takes ownership of everything in it (also when it fails).
 */
struct shm_port_args {
	void *base;
	struct shm_layout layout;
	int kick_netd; /* netd polls it */
	int kick_peer; /* netd writes it */
	uint8_t mac[6];
	uint8_t model;
	char network[SHM_NETWORK_NAME_MAX];
};

/*
 * shm_port_read_attach() - read and validate one attach request from
 * @sock, waiting at most @timeout_ms. A request with fds, a truncated or
 * short one is rejected (fds closed).
 * Return: 0, or -EPROTO, -EPROTONOSUPPORT, -ETIMEDOUT, -ECONNRESET, errno.
 */
int shm_port_read_attach(int sock, int timeout_ms, struct shm_attach_req *req);

/*
 * shm_port_create() - make a sealed memfd region and its two eventfds for
 * @req (no socket involved: the benchmark and tests use it directly).
 * @memfd: receives the region's fd (the caller sends then closes it)
 * Return: 0, or negative errno.
 */
int shm_port_create(const struct shm_attach_req *req,
		    const struct shm_port_config *cfg,
		    struct shm_port_args *args, int *memfd);

/*
 * shm_port_accept() - create the region for @req and send the reply with
 * the memfd and the two eventfds.
 * Return: 0 (@args ready for shm_port_ops.open), or negative errno
 * (nothing left allocated; a failure reply was sent when possible).
 */
int shm_port_accept(int sock, const struct shm_attach_req *req,
		    const struct shm_port_config *cfg,
		    struct shm_port_args *args);

/* shm_port_reject() - answer the request with @err (negative errno). */
int shm_port_reject(int sock, int err);

/*
 * shm_port_args_release() - free what @args still holds. Idempotent: open
 * (shm_port_new) empties @args when it takes them over or fails, so call
 * this after switch_port_open() whatever it returned; that call can fail
 * (-EINVAL, -ENOSPC) before it ever reaches open.
 */
void shm_port_args_release(struct shm_port_args *args);

/*
 * The backend state behind port->priv, also usable without a switch (the
 * tests drive it directly). recv returns -EPROTO once the peer broke the
 * protocol: the port is dead for good (the owner removes it and the peer
 * attaches again).
 */
struct shm_port;

/* shm_port_new() - take over @args. Return: the port, or NULL (ENOMEM). */
struct shm_port *shm_port_new(struct shm_port_args *args);
void shm_port_free(struct shm_port *sp);
int shm_port_recv(struct shm_port *sp, struct frame_batch *batch);
void shm_port_recv_done(struct shm_port *sp);
int shm_port_send(struct shm_port *sp, struct frame_batch *batch);
/* shm_port_fd() - arm the doorbell (netd is about to sleep), return it. */
int shm_port_fd(struct shm_port *sp);
/* shm_port_kick_fd() - the doorbell netd sleeps on, without arming it. */
int shm_port_kick_fd(const struct shm_port *sp);
bool shm_port_broken(const struct shm_port *sp);
/*
 * shm_port_set_link() - set the link the peer shows its guest: the live
 * header word, then a kick of the peer (any thread). While it is down
 * send drops every frame (the switch counts them as tx_full).
 */
void shm_port_set_link(struct shm_port *sp, bool up);

/* struct shm_port_stats - counters of one port, netd's view. */
struct shm_port_stats {
	struct shm_ring_stats rx; /* the to_netd ring, as consumer */
	struct shm_ring_stats tx; /* the to_peer ring, as producer */
	uint64_t tx_dropped;	  /* frames send could not place */
	uint64_t violations;
};
void shm_port_stats_get(const struct shm_port *sp, struct shm_port_stats *st);

/*
 * shm_port_ops - not PORT_CAP_POLL_LEVEL: the peer stops kicking while netd
 * polls the ring, so netd polls it every round and arm()s the doorbell
 * before it sleeps. Whether it takes GSO frames depends on what the peer
 * negotiated (the attaching code sets switch_port_config.accepts_gso). No
 * create: a VMM attaches these over the control socket (netd/vmport.c).
 * set_link: shm_port_set_link().
 */
extern const struct port_ops shm_port_ops;

#endif
