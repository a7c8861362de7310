/* SPDX-License-Identifier: MIT */
/* slirp_internal.h - what the NAT uplink's files (slirp.c: thread and frames, slirp_fwd.c: forwards) share. */
#ifndef LOOM_BACKENDS_SLIRP_INTERNAL_H
#define LOOM_BACKENDS_SLIRP_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <slirp/libslirp.h>

#include "backends/frame_fifo.h"
#include "backends/slirp.h"

/* One libslirp timer (today only its IPv6 router advertisement timer). */
struct uplink_timer {
	struct uplink_timer *next;
	SlirpTimerId id;
	SlirpTimerCb cb; /* set for timer_new(), NULL for timer_new_opaque() */
	void *cb_opaque;
	int64_t expire_ms; /* -1: disarmed */
};

/*
 * One forward's host end. While it has a guest, libslirp owns its
 * listener (slirp_add_hostxfwd); while it has none (a guest name without
 * an address), @reserve_fd holds the port: bound, not listening, so TCP
 * connections are refused and programs binding without SO_REUSEADDR get
 * EADDRINUSE (one that sets it, as libslirp does, could still listen
 * there: the forward then reports the port in use when its name gets an
 * address). Otherwise @reserve_fd is -1.
 */
struct uplink_fwd {
	bool used;
	bool udp;
	bool listening; /* libslirp's listener is open */
	int reserve_fd;
	struct sockaddr_storage host;
	socklen_t hlen;
};

struct slirp_uplink {
	pthread_mutex_t lock; /* the Slirp instance, timers, stats, forwards */
	Slirp *slirp;
	pthread_t thread;
	bool thread_started;
	bool stop;
	/*
	 * A listener closed while the thread sleeps in poll() on it stays
	 * open (poll holds the file) and accepts until poll returns, so a
	 * forward change first gets the thread out of poll() (uplink_pause):
	 * @in_poll says it is inside, @waiters how many want it out,
	 * @ctl_cv wakes them, @engine_cv holds the thread until they are done.
	 */
	bool in_poll;
	unsigned int waiters;
	pthread_cond_t ctl_cv;
	pthread_cond_t engine_cv;
	char name[40];

	struct frame_fifo in;  /* network -> libslirp; its eventfd wakes us */
	struct frame_fifo out; /* libslirp -> network */

	struct pollfd *pfd; /* rebuilt every turn by slirp_pollfds_fill */
	unsigned int npfd, pfd_cap;
	/*
	 * libslirp's host sockets, an estimate: the larger of its poll set
	 * (this turn; idle sockets are left out) and its own socket table
	 * (counted every 500 ms; it lists no IPv6 sockets) plus the TCP
	 * connections let through since that count.
	 */
	uint32_t sockets, conn_max;
	uint32_t table_sockets, syn_since;
	/*
	 * Per guest: IPv4 source (network order, 0: free slot) -> its
	 * sockets in the last count plus the SYNs let through since; open
	 * addressing, rebuilt with every count (slirp.h).
	 */
	struct uplink_guest {
		uint32_t ip;
		uint32_t sockets;
	} guests[SLIRP_GUESTS_MAX];
	uint32_t guest_conn_max;
	uint32_t net4, mask4; /* the subnet, network order */
	int64_t sockets_counted_ms;

	struct uplink_timer *timers;
	struct uplink_fwd fwd[SLIRP_FORWARDS_MAX];
	struct slirp_uplink_stats st;
};

/*
 * uplink_pause() - lock @u with its thread out of poll() (struct
 * slirp_uplink says why forward changes need that); uplink_resume()
 * unlocks. uplink_kick() wakes the thread (any thread, no lock).
 */
void uplink_pause(struct slirp_uplink *u);
void uplink_resume(struct slirp_uplink *u);
void uplink_kick(struct slirp_uplink *u);

/* slirp_fwd.c: close what forwards hold outside libslirp (slirp_uplink_free). */
void uplink_forwards_close(struct slirp_uplink *u);

#endif
