/* SPDX-License-Identifier: MIT */
/* slirp.h - a network's NAT uplink: libslirp on its own thread, frames in and out through FIFOs. */
#ifndef LOOM_BACKENDS_SLIRP_H
#define LOOM_BACKENDS_SLIRP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "switch/port.h"

/*
 * One struct slirp_uplink per `nat` network. libslirp is single-threaded
 * and drives many sockets and timers, so each uplink runs it on a thread of
 * its own ("loom-slirp"), in a poll() loop around slirp_pollfds_fill/poll
 * (docs/architecture.md says why not the control thread's event loop).
 * Everything that touches the Slirp instance holds the uplink's mutex; the
 * thread releases it while it sleeps in poll().
 *
 * Frames: slirp_uplink_input() (any thread; the data path) copies a frame
 * into the inbound FIFO and returns at once; the thread feeds it to
 * slirp_input(). Frames libslirp emits go into the outbound FIFO, which the
 * network's side drains with slirp_uplink_output_peek()/_release(); its
 * eventfd (slirp_uplink_output_fd()) is readable while frames wait. Each
 * FIFO holds SLIRP_FIFO_BYTES; a frame that does not fit is dropped and
 * counted (TCP retransmits).
 *
 * GSO: the uplink takes TCP GSO frames (up to 64 KiB, partial checksum)
 * as they are: it completes the checksum and hands libslirp the whole
 * segment, which its TCP accepts whatever the MSS. UDP GSO frames are
 * refused, counted in drops_gso (netd never enables UDP offloads on TAPs,
 * so only a misbehaving peer sends them).
 *
 * Forwards: host listeners that libslirp owns (slirp_add_hostxfwd), added,
 * re-pointed at another guest address and removed while the uplink runs;
 * at most SLIRP_FORWARDS_MAX per uplink. A forward without a guest (a
 * name that has no address now) holds its host port, refusing TCP
 * connections, until it is pointed at one.
 *
 * Connections: every NAT connection and UDP flow is a host socket of
 * netd's. While libslirp holds @conn_max sockets (SLIRP_CONN_MAX unless
 * configured), a guest's new TCP connections (a SYN without ACK) and its
 * UDP datagrams are dropped and counted in drops_conn_limit, so a guest
 * that floods connections runs out of its network's share, not netd's
 * file descriptors; established TCP connections go on, and the limit
 * lifts as libslirp closes sockets (TCP teardown, UDP after its timeout).
 * Each guest (an IPv4 source address in the subnet) may hold at most
 * @guest_conn_max of them (SLIRP_GUEST_CONN_MAX unless configured); over
 * it, its own new flows are dropped and counted in drops_conn_guest, so
 * one guest flooding connections leaves the rest of the network's share
 * to the others. Per guest, sockets are counted from libslirp's table,
 * which lists IPv4 ones only: IPv6 flows count against the network's
 * limit alone. At most SLIRP_GUESTS_MAX guests are told apart (a hash
 * table rebuilt with every count); more are held to the network's limit.
 */

enum {
	SLIRP_FIFO_BYTES = 4 << 20,
	SLIRP_FORWARDS_MAX = 256,
	SLIRP_MTU_MAX = 65520, /* libslirp's IF_MTU_MAX is 65521 */
	SLIRP_MTU_MIN = 576,
	SLIRP_CONN_MAX = 1024, /* host sockets per uplink, see above */
	SLIRP_GUEST_CONN_MAX = 256, /* of them, per guest */
	SLIRP_GUESTS_MAX = 512, /* guests told apart per uplink */
};

/**
 * struct slirp_uplink_config - what libslirp is told about the network.
 * @net4, @prefix4: the network's IPv4 subnet.
 * @gw4: the gateway address (libslirp's virtual host).
 * @v6: whether IPv6 is on; then @net6/@prefix6 (libslirp's prefix, <= 64
 *      for SLAAC) and @gw6 (its virtual host).
 * @mtu: the network's MTU, SLIRP_MTU_MIN..SLIRP_MTU_MAX.
 * @host_loopback: connections to the gateway address reach the host's
 *      127.0.0.1 / ::1 (libslirp's default); false refuses them.
 * @name: the network's name, for the thread name and logs.
 */
struct slirp_uplink_config {
	struct in_addr net4;
	unsigned int prefix4;
	struct in_addr gw4;
	bool v6;
	struct in6_addr net6;
	unsigned int prefix6;
	struct in6_addr gw6;
	uint32_t mtu;
	bool host_loopback;
	uint32_t conn_max; /* 0: SLIRP_CONN_MAX */
	uint32_t guest_conn_max; /* 0: SLIRP_GUEST_CONN_MAX */
	const char *name;
};

struct slirp_uplink_stats {
	uint64_t in_frames, in_bytes;	/* handed to libslirp */
	uint64_t in_gso;		/* of which TCP GSO (up to 64 KiB) */
	uint64_t out_frames, out_bytes; /* emitted by libslirp */
	uint64_t drops_in_full;		/* inbound FIFO full */
	uint64_t drops_out_full;	/* outbound FIFO full */
	uint64_t drops_bad;		/* offload metadata out of bounds */
	uint64_t drops_gso;		/* UDP GSO refused */
	uint64_t drops_conn_limit;	/* new flows over conn_max */
	uint64_t drops_conn_guest;	/* new flows over guest_conn_max */
	uint32_t sockets;		/* libslirp's host sockets now */
	uint32_t forwards;
};

struct slirp_uplink;

/*
 * slirp_uplink_new() - start libslirp and its thread.
 * Return: 0 with *@out set, -EINVAL for a config libslirp refuses, or
 * another negative errno.
 */
int slirp_uplink_new(const struct slirp_uplink_config *cfg,
		     struct slirp_uplink **out);

/* slirp_uplink_free() - stop the thread, close every socket and listener. */
void slirp_uplink_free(struct slirp_uplink *u);

/*
 * slirp_uplink_input() - a frame from the network for libslirp. Copies it.
 * Return: 0, or -ENOBUFS (full), -EMSGSIZE, -EPROTONOSUPPORT (UDP GSO):
 * the frame was dropped and counted.
 */
int slirp_uplink_input(struct slirp_uplink *u, const struct frame *f);

/* slirp_uplink_output_fd() - readable while emitted frames wait. */
int slirp_uplink_output_fd(struct slirp_uplink *u);

/*
 * slirp_uplink_output_peek() - append waiting frames to @batch (up to
 * FRAME_BATCH_MAX in all), flagged FRAME_F_DATA_VALID (libslirp's
 * checksums are complete). They stay valid until _release.
 * Return: frames appended.
 */
int slirp_uplink_output_peek(struct slirp_uplink *u, struct frame_batch *batch);
void slirp_uplink_output_release(struct slirp_uplink *u);

/**
 * slirp_uplink_forward_add() - listen on @host and forward to @guest.
 * @udp: UDP instead of TCP.
 * @host: the host address and port (AF_INET or AF_INET6; the any address
 *        listens on all). An IPv6 listener is IPv6-only.
 * @guest: the guest's address and port, the same family or IPv4; NULL:
 *         none yet (the port is held, connections refused).
 * Return: 0, -EADDRINUSE (the host port is taken), -EEXIST (this uplink
 * forwards it already), -ENOSPC (SLIRP_FORWARDS_MAX), or another errno.
 */
int slirp_uplink_forward_add(struct slirp_uplink *u, bool udp,
			     const struct sockaddr *host, socklen_t hlen,
			     const struct sockaddr *guest, socklen_t glen);

/*
 * slirp_uplink_forward_retarget() - point the forward on @host at @guest
 * (NULL: at none). Its listener is closed and opened again while the
 * uplink thread is paused: connections accepted before go on to the old
 * guest; one waiting in the listen queue at that instant is reset.
 * Return: 0, -ENOENT (no such forward), or the errno of listening again
 * (the port is then held without a guest where it can be).
 */
int slirp_uplink_forward_retarget(struct slirp_uplink *u, bool udp,
				  const struct sockaddr *host, socklen_t hlen,
				  const struct sockaddr *guest, socklen_t glen);

/*
 * slirp_uplink_forward_remove() - close the listener and the connections
 * that came through it. Return: 0 or -ENOENT.
 */
int slirp_uplink_forward_remove(struct slirp_uplink *u, bool udp,
				const struct sockaddr *host, socklen_t hlen);

/*
 * slirp_uplink_forward_conns() - TCP connections open now through the
 * forward listening on host port @port (IPv4 ones: libslirp's socket
 * table lists no IPv6 sockets). Return: the count, or -1 (UDP: a forward
 * is one socket, its flows are not told apart).
 */
int slirp_uplink_forward_conns(struct slirp_uplink *u, bool udp,
			       uint16_t port);

void slirp_uplink_stats_get(struct slirp_uplink *u,
			    struct slirp_uplink_stats *st);

/*
 * slirp_uplink_connections() - libslirp's own table of its sockets and
 * connections, for `loom net show`-style diagnostics. Free with free().
 */
char *slirp_uplink_connections(struct slirp_uplink *u);

/* The uplink as a switch port: open() takes a struct slirp_uplink *. */
extern const struct port_ops slirp_port_ops;

#endif
