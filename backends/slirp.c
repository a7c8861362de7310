/* SPDX-License-Identifier: MIT */
/* slirp.c - a network's NAT uplink: libslirp on its own thread, frames in and out through FIFOs. */
#include "backends/slirp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "backends/frame_fifo.h"
#include "backends/slirp_internal.h"
#include "common/csum.h"
#include "common/log.h"
#include "common/pkt.h"

LOG_MODULE("slirp");

/* Inbound frames handed to libslirp per loop turn before it polls again. */
enum { UPLINK_INPUT_BUDGET = 256 };

static int64_t uplink_clock_ns(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t uplink_now_ms(void)
{
	return uplink_clock_ns(NULL) / 1000000;
}

/* libslirp -> the network. Called on the uplink thread, lock held. */
static ssize_t uplink_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_uplink *u = opaque;

	if (len > FRAME_MAX_LEN ||
	    frame_fifo_push(&u->out, buf, (uint32_t)len, NULL) < 0) {
		u->st.drops_out_full++;
		return (ssize_t)len; /* dropped: TCP retransmits */
	}
	u->st.out_frames++;
	u->st.out_bytes += len;
	return (ssize_t)len;
}

static void uplink_guest_error(const char *msg, void *opaque)
{
	struct slirp_uplink *u = opaque;

	log_rl(LOG_WARN, MOD, "%s: guest error: %s", u->name, msg);
}

static struct uplink_timer *uplink_timer_alloc(struct slirp_uplink *u)
{
	struct uplink_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->expire_ms = -1;
	t->next = u->timers;
	u->timers = t;
	return t;
}

static void *uplink_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct uplink_timer *t = uplink_timer_alloc(opaque);

	if (t) {
		t->cb = cb;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void *uplink_timer_new_opaque(SlirpTimerId id, void *cb_opaque,
				     void *opaque)
{
	struct uplink_timer *t = uplink_timer_alloc(opaque);

	if (t) {
		t->id = id;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void uplink_timer_free(void *timer, void *opaque)
{
	struct slirp_uplink *u = opaque;

	for (struct uplink_timer **p = &u->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = ((struct uplink_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void uplink_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	((struct uplink_timer *)timer)->expire_ms = expire_ms;
}

/* Poll sets are rebuilt every turn, so fds need no registration. */
static void uplink_poll_fd_noop(int fd, void *opaque)
{
}

void uplink_kick(struct slirp_uplink *u)
{
	uint64_t one = 1;

	if (write(u->in.efd, &one, sizeof(one)) < 0)
		return; /* EAGAIN: a wake-up is pending already */
}

/* A socket buffer drained: poll again with the new interest set. */
static void uplink_notify(void *opaque)
{
	uplink_kick(opaque);
}

static const SlirpCb uplink_callbacks = {
	.send_packet = uplink_send_packet,
	.guest_error = uplink_guest_error,
	.clock_get_ns = uplink_clock_ns,
	.timer_new = uplink_timer_new,
	.timer_free = uplink_timer_free,
	.timer_mod = uplink_timer_mod,
	.register_poll_fd = uplink_poll_fd_noop,
	.unregister_poll_fd = uplink_poll_fd_noop,
	.notify = uplink_notify,
	.timer_new_opaque = uplink_timer_new_opaque,
};

static short poll_events_from_slirp(int ev)
{
	short e = 0;

	if (ev & SLIRP_POLL_IN)
		e |= POLLIN;
	if (ev & SLIRP_POLL_OUT)
		e |= POLLOUT;
	if (ev & SLIRP_POLL_PRI)
		e |= POLLPRI;
	return e;
}

static int uplink_add_poll(int fd, int events, void *opaque)
{
	struct slirp_uplink *u = opaque;

	if (u->npfd == u->pfd_cap) {
		unsigned int cap = u->pfd_cap ? u->pfd_cap * 2 : 64;
		struct pollfd *p = realloc(u->pfd, cap * sizeof(*p));

		if (!p) {
			/* Out of memory: this socket waits for a later turn. */
			log_rl(LOG_ERR, MOD, "%s: no memory for poll set",
			       u->name);
			return -1;
		}
		u->pfd = p;
		u->pfd_cap = cap;
	}
	u->pfd[u->npfd].fd = fd;
	u->pfd[u->npfd].events = poll_events_from_slirp(events);
	u->pfd[u->npfd].revents = 0;
	return (int)u->npfd++;
}

static int uplink_get_revents(int idx, void *opaque)
{
	struct slirp_uplink *u = opaque;
	short r;
	int ev = 0;

	if (idx < 0 || (unsigned int)idx >= u->npfd)
		return 0;
	r = u->pfd[idx].revents;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & (POLLERR | POLLNVAL))
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/*
 * Complete a partial checksum (virtio-net NEEDS_CSUM): the sender put the
 * pseudo-header sum at csum_start + csum_offset; the ones' complement sum
 * from csum_start to the end goes there. Return: 0, or -1 when the offsets
 * lie outside the frame.
 */
static int csum_complete(uint8_t *data, uint32_t len,
			 const struct frame_offload *o)
{
	uint32_t start = o->csum_start, at = start + o->csum_offset;
	uint16_t sum;

	if (start >= len || at + 2 > len || at < start)
		return -1;
	sum = csum_fold(csum_add(0, data + start, len - start));
	data[at] = (uint8_t)(sum >> 8);
	data[at + 1] = (uint8_t)sum;
	return 0;
}

enum flow_kind { FLOW_OTHER, FLOW_TCP_SYN, FLOW_UDP };

/*
 * What @data may open in libslirp: a TCP connection (a SYN without ACK), a
 * UDP flow (any datagram: existing flows cannot be told apart here), or
 * nothing. Untagged Ethernet, IPv4 or IPv6 without extension headers;
 * anything else is libslirp's to judge.
 */
static enum flow_kind frame_flow_kind(const uint8_t *data, uint32_t len,
				      uint32_t *src4)
{
	struct pkt_view v = {.data = data, .len = len};
	uint16_t type;
	uint8_t b, proto, flags;
	size_t l4;

	*src4 = 0;
	if (pkt_be16(&v, 12, &type))
		return FLOW_OTHER;
	if (type == 0x0800) {
		if (pkt_u8(&v, 14, &b) || pkt_u8(&v, 14 + 9, &proto) ||
		    pkt_read(&v, 14 + 12, src4, 4))
			return FLOW_OTHER;
		l4 = 14 + (size_t)(b & 15) * 4;
	} else if (type == 0x86dd) {
		if (pkt_u8(&v, 14 + 6, &proto))
			return FLOW_OTHER;
		l4 = 14 + 40;
	} else {
		return FLOW_OTHER;
	}
	if (proto == 17)
		return FLOW_UDP;
	if (proto != 6 || pkt_u8(&v, l4 + 13, &flags))
		return FLOW_OTHER;
	/* SYN, no ACK */
	return (flags & 0x12) == 0x02 ? FLOW_TCP_SYN : FLOW_OTHER;
}

/*
 * The per-guest slot of IPv4 source @ip (network order), taken when
 * @add, or NULL: not in the subnet, or the table is full.
 */
static struct uplink_guest *uplink_guest(struct slirp_uplink *u, uint32_t ip,
					 bool add)
{
	uint32_t h = ntohl(ip) * 2654435761u;

	if (!ip || (ip & u->mask4) != u->net4)
		return NULL;
	for (uint32_t i = 0; i < SLIRP_GUESTS_MAX; i++) {
		struct uplink_guest *g = &u->guests[(h + i) % SLIRP_GUESTS_MAX];

		if (g->ip == ip)
			return g;
		if (!g->ip) {
			if (!add)
				return NULL;
			g->ip = ip;
			return g;
		}
	}
	return NULL;
}

/* One frame from the network: checks, the connection limits, libslirp. */
static void uplink_input_one(struct slirp_uplink *u, struct frame_fifo_item *it)
{
	struct uplink_guest *g = NULL;
	enum flow_kind k;
	uint32_t src4;

	if ((it->off.flags & FRAME_F_NEEDS_CSUM) &&
	    csum_complete(it->data, it->len, &it->off)) {
		u->st.drops_bad++;
		log_rl(LOG_WARN, MOD,
		       "%s: frame with checksum offsets outside it dropped",
		       u->name);
		return;
	}
	k = frame_flow_kind(it->data, it->len, &src4);
	if (k != FLOW_OTHER)
		g = uplink_guest(u, src4, true);
	if (g && g->sockets >= u->guest_conn_max) {
		u->st.drops_conn_guest++;
		log_rl(LOG_WARN, MOD, "%s: a guest holds %u NAT sockets: its "
		       "new flows dropped", u->name, g->sockets);
		return;
	}
	if (u->sockets >= u->conn_max && k != FLOW_OTHER) {
		u->st.drops_conn_limit++;
		log_rl(LOG_WARN, MOD, "%s: %u NAT sockets: new flows dropped",
		       u->name, u->sockets);
		return;
	}
	if (k == FLOW_TCP_SYN) {
		u->sockets++; /* one socket more, until the next count */
		u->syn_since++;
		if (g)
			g->sockets++;
	}
	u->st.in_frames++;
	u->st.in_bytes += it->len;
	if (it->off.gso_type != FRAME_GSO_NONE)
		u->st.in_gso++;
	slirp_input(u->slirp, it->data, (int)it->len);
}

static bool uplink_drain_input(struct slirp_uplink *u)
{
	struct frame_fifo_item it[64];
	unsigned int done = 0, n;

	while (done < UPLINK_INPUT_BUDGET &&
	       (n = frame_fifo_peek(&u->in, it, 64)) > 0) {
		for (unsigned int i = 0; i < n; i++)
			uplink_input_one(u, &it[i]);
		frame_fifo_release(&u->in);
		done += n;
	}
	return done >= UPLINK_INPUT_BUDGET;
}

static void uplink_timers_run(struct slirp_uplink *u)
{
	int64_t now = uplink_now_ms();
	bool again = true;

	/* A callback may free or re-arm timers: restart the walk after one. */
	while (again) {
		again = false;
		for (struct uplink_timer *t = u->timers; t; t = t->next) {
			if (t->expire_ms < 0 || t->expire_ms > now)
				continue;
			t->expire_ms = -1;
			if (t->cb)
				t->cb(t->cb_opaque);
			else
				slirp_handle_timer(u->slirp, t->id,
						   t->cb_opaque);
			again = true;
			break;
		}
	}
}

static uint32_t uplink_timers_timeout(struct slirp_uplink *u, uint32_t tmo)
{
	int64_t now = uplink_now_ms();

	for (struct uplink_timer *t = u->timers; t; t = t->next) {
		if (t->expire_ms < 0)
			continue;
		if (t->expire_ms <= now)
			return 0;
		if (t->expire_ms - now < (int64_t)tmo)
			tmo = (uint32_t)(t->expire_ms - now);
	}
	return tmo;
}

/*
 * Count libslirp's sockets per guest from its table @info ("  TCP[STATE]
 * FD SRC SPORT DST DPORT ..." a line; the source is the guest's address
 * for every socket but forwards and the connections they accepted, whose
 * source is on the host and so outside the subnet).
 */
static void uplink_guests_count(struct slirp_uplink *u, char *info)
{
	char *line, *save = NULL;

	memset(u->guests, 0, sizeof(u->guests));
	for (line = strtok_r(info, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char kind[32], src[INET_ADDRSTRLEN];
		struct uplink_guest *g;
		struct in_addr a;
		int fd;

		if (sscanf(line, " %31s %d %15s", kind, &fd, src) != 3 ||
		    (strncmp(kind, "TCP[", 4) && strncmp(kind, "UDP[", 4)) ||
		    inet_pton(AF_INET, src, &a) != 1)
			continue;
		g = uplink_guest(u, a.s_addr, true);
		if (g)
			g->sockets++;
	}
}

/* After a fill: the estimate of libslirp's sockets (struct slirp_uplink). */
static void uplink_sockets_count(struct slirp_uplink *u)
{
	int64_t now = uplink_now_ms();
	uint32_t lines = 0, polled = u->npfd - 1;
	char *info;

	if (now - u->sockets_counted_ms >= 500) {
		u->sockets_counted_ms = now;
		info = slirp_connection_info(u->slirp);
		if (info) {
			for (const char *p = info; *p; p++)
				lines += *p == '\n';
			uplink_guests_count(u, info);
			free(info);
			/* a header line first */
			u->table_sockets = lines > 0 ? lines - 1 : 0;
			u->syn_since = 0;
		}
	}
	u->sockets = u->table_sockets + u->syn_since;
	if (polled > u->sockets)
		u->sockets = polled;
}

static void *uplink_thread(void *arg)
{
	struct slirp_uplink *u = arg;

	pthread_mutex_lock(&u->lock);
	while (!u->stop) {
		bool more;
		uint32_t tmo = UINT32_MAX;
		int n;

		while (u->waiters && !u->stop)
			pthread_cond_wait(&u->engine_cv, &u->lock);
		if (u->stop)
			break;
		more = uplink_drain_input(u);
		u->npfd = 0;
		/* Index 0: the inbound FIFO's eventfd (frames, kicks). */
		uplink_add_poll(u->in.efd, SLIRP_POLL_IN, u);
		slirp_pollfds_fill(u->slirp, &tmo, uplink_add_poll, u);
		uplink_sockets_count(u);
		tmo = uplink_timers_timeout(u, tmo);
		if (more)
			tmo = 0;
		if (u->waiters)
			tmo = 0;
		u->in_poll = true;
		pthread_mutex_unlock(&u->lock);
		n = poll(u->pfd, u->npfd, tmo == UINT32_MAX ? -1 : (int)tmo);
		pthread_mutex_lock(&u->lock);
		u->in_poll = false;
		if (u->waiters)
			pthread_cond_broadcast(&u->ctl_cv);
		if (n < 0 && errno == EINTR)
			n = 0;
		slirp_pollfds_poll(u->slirp, n < 0, uplink_get_revents, u);
		uplink_timers_run(u);
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

/* Lock the uplink with its thread out of poll(). */
void uplink_pause(struct slirp_uplink *u)
{
	pthread_mutex_lock(&u->lock);
	u->waiters++;
	while (u->in_poll) {
		uplink_kick(u);
		pthread_cond_wait(&u->ctl_cv, &u->lock);
	}
}

void uplink_resume(struct slirp_uplink *u)
{
	if (--u->waiters == 0)
		pthread_cond_signal(&u->engine_cv);
	pthread_mutex_unlock(&u->lock);
}

static void prefix_mask4(unsigned int prefix, struct in_addr *mask)
{
	mask->s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
}

int slirp_uplink_new(const struct slirp_uplink_config *cfg,
		     struct slirp_uplink **out)
{
	struct slirp_uplink *u;
	SlirpConfig sc = {.version = 4};
	int err;

	if (cfg->prefix4 < 1 || cfg->prefix4 > 30 ||
	    cfg->mtu < SLIRP_MTU_MIN || cfg->mtu > SLIRP_MTU_MAX ||
	    (cfg->v6 && (cfg->prefix6 < 1 || cfg->prefix6 > 126)))
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	snprintf(u->name, sizeof(u->name), "%s", cfg->name ? cfg->name : "?");
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->ctl_cv, NULL);
	pthread_cond_init(&u->engine_cv, NULL);
	err = frame_fifo_init(&u->in, SLIRP_FIFO_BYTES);
	if (err)
		goto free_u;
	err = frame_fifo_init(&u->out, SLIRP_FIFO_BYTES);
	if (err)
		goto destroy_in;

	sc.in_enabled = true;
	prefix_mask4(cfg->prefix4, &sc.vnetmask);
	sc.vnetwork.s_addr = cfg->net4.s_addr & sc.vnetmask.s_addr;
	sc.vhost = cfg->gw4;
	/*
	 * libslirp's DHCP and DNS are off: netd's gateway services answer
	 * them. Its fields still need addresses in the subnet.
	 */
	sc.vdhcp_start.s_addr = htonl(ntohl(cfg->gw4.s_addr) + 1);
	sc.vnameserver = cfg->gw4;
	sc.disable_dhcp = true;
	sc.disable_dns = true;
	sc.in6_enabled = cfg->v6;
	if (cfg->v6) {
		sc.vprefix_addr6 = cfg->net6;
		sc.vprefix_len = (uint8_t)cfg->prefix6;
		sc.vhost6 = cfg->gw6;
		sc.vnameserver6 = cfg->gw6;
	}
	sc.if_mtu = cfg->mtu;
	sc.if_mru = cfg->mtu;
	sc.disable_host_loopback = !cfg->host_loopback;
	sc.enable_emu = false;
	u->conn_max = cfg->conn_max ? cfg->conn_max : SLIRP_CONN_MAX;
	u->guest_conn_max = cfg->guest_conn_max ? cfg->guest_conn_max
						: SLIRP_GUEST_CONN_MAX;
	u->mask4 = sc.vnetmask.s_addr;
	u->net4 = sc.vnetwork.s_addr;

	u->slirp = slirp_new(&sc, &uplink_callbacks, u);
	if (!u->slirp) {
		err = -EINVAL;
		goto destroy_out;
	}
	err = -pthread_create(&u->thread, NULL, uplink_thread, u);
	if (err)
		goto cleanup_slirp;
	u->thread_started = true;
	pthread_setname_np(u->thread, "loom-slirp");
	*out = u;
	return 0;

cleanup_slirp:
	slirp_cleanup(u->slirp);
destroy_out:
	frame_fifo_destroy(&u->out);
destroy_in:
	frame_fifo_destroy(&u->in);
free_u:
	while (u->timers)
		uplink_timer_free(u->timers, u);
	pthread_cond_destroy(&u->engine_cv);
	pthread_cond_destroy(&u->ctl_cv);
	pthread_mutex_destroy(&u->lock);
	free(u);
	return err;
}

void slirp_uplink_free(struct slirp_uplink *u)
{
	if (!u)
		return;
	if (u->thread_started) {
		pthread_mutex_lock(&u->lock);
		u->stop = true;
		pthread_cond_signal(&u->engine_cv);
		pthread_mutex_unlock(&u->lock);
		uplink_kick(u);
		pthread_join(u->thread, NULL);
	}
	slirp_cleanup(u->slirp); /* frees its timers through timer_free */
	uplink_forwards_close(u);
	while (u->timers)
		uplink_timer_free(u->timers, u);
	frame_fifo_destroy(&u->out);
	frame_fifo_destroy(&u->in);
	free(u->pfd);
	pthread_cond_destroy(&u->engine_cv);
	pthread_cond_destroy(&u->ctl_cv);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

int slirp_uplink_input(struct slirp_uplink *u, const struct frame *f)
{
	int err;

	if (f->off.gso_type != FRAME_GSO_NONE &&
	    (f->off.gso_type & ~FRAME_GSO_ECN) != FRAME_GSO_TCPV4 &&
	    (f->off.gso_type & ~FRAME_GSO_ECN) != FRAME_GSO_TCPV6) {
		pthread_mutex_lock(&u->lock);
		u->st.drops_gso++;
		pthread_mutex_unlock(&u->lock);
		log_rl(LOG_WARN, MOD, "%s: UDP GSO frame refused", u->name);
		return -EPROTONOSUPPORT;
	}
	err = frame_fifo_push(&u->in, f->data, f->len, &f->off);
	if (err == -EMSGSIZE) {
		pthread_mutex_lock(&u->lock);
		u->st.drops_bad++;
		pthread_mutex_unlock(&u->lock);
	}
	return err;
}

int slirp_uplink_output_fd(struct slirp_uplink *u)
{
	return u->out.efd;
}

int slirp_uplink_output_peek(struct slirp_uplink *u, struct frame_batch *batch)
{
	struct frame_fifo_item it[FRAME_BATCH_MAX];
	unsigned int n;

	if (batch->count >= FRAME_BATCH_MAX)
		return 0;
	n = frame_fifo_peek(&u->out, it, FRAME_BATCH_MAX - batch->count);
	for (unsigned int i = 0; i < n; i++) {
		struct frame *f = &batch->f[batch->count++];

		memset(f, 0, sizeof(*f));
		f->data = it[i].data;
		f->len = it[i].len;
		/*
		 * libslirp filled in every checksum: a TAP or virtio-net
		 * guest need not verify it again (a 64 KiB pass per
		 * segment at MTU 65520).
		 */
		f->off.flags = FRAME_F_DATA_VALID;
	}
	return (int)n;
}

void slirp_uplink_output_release(struct slirp_uplink *u)
{
	frame_fifo_release(&u->out);
}

void slirp_uplink_stats_get(struct slirp_uplink *u,
			    struct slirp_uplink_stats *st)
{
	pthread_mutex_lock(&u->lock);
	*st = u->st;
	st->sockets = u->sockets;
	pthread_mutex_unlock(&u->lock);
	st->drops_in_full = frame_fifo_drops(&u->in);
}

char *slirp_uplink_connections(struct slirp_uplink *u)
{
	char *s;

	pthread_mutex_lock(&u->lock);
	s = slirp_connection_info(u->slirp);
	pthread_mutex_unlock(&u->lock);
	return s;
}
