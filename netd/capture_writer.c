/* SPDX-License-Identifier: MIT */
/* capture_writer.c - a capture's data-path callback and its pcapng writer on netd's event loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pcapng.h"
#include "netd/capture_internal.h"

#define MOD "capture"

struct netd_capture *capture_table[LOOM_CAPTURE_MAX];

/* ---- ports and interface blocks ---- */

/*
 * Name and describe switch port @pid of @n. Return: true if it is a port
 * netd knows (declared or a VM NIC).
 */
bool capture_port_describe(struct netd *d, struct netd_net *n,
			   uint32_t pid, char *name, size_t nlen,
			   char *descr, size_t dlen)
{
	struct switch_port_config spc;
	const char *vm;

	for (uint32_t i = 0; i < n->conf.port_count; i++) {
		const struct netconf_port *pc = &n->conf.ports[i];

		if (n->rt[i].port_id != (int)pid)
			continue;
		snprintf(name, nlen, "%s:%s", n->conf.name, pc->name);
		snprintf(descr, dlen, "loom port %s of network %s: TAP %s%s%s",
			 pc->name, n->conf.name, pc->tap,
			 pc->netns[0] ? " in netns " : "", pc->netns);
		return true;
	}
	vm = netd_vm_port_name(d, n, pid);
	if (vm) {
		snprintf(name, nlen, "%s:%s", n->conf.name, vm);
		snprintf(descr, dlen,
			 "loom port %s of network %s: VM NIC (shared memory)",
			 vm, n->conf.name);
		return true;
	}
	/* netd's own ports (the nat uplink, services): the switch's name. */
	if (!switch_port_get_config(n->sw, pid, &spc) && spc.name[0]) {
		struct port *p = switch_port_get(n->sw, pid);

		snprintf(name, nlen, "%s:%s", n->conf.name, spc.name);
		snprintf(descr, dlen, "loom port %s of network %s (%s)",
			 spc.name, n->conf.name,
			 p && p->ops && p->ops->name ? p->ops->name : "internal");
		return true;
	}
	snprintf(name, nlen, "%s:port%u", n->conf.name, pid);
	snprintf(descr, dlen, "loom switch port %u of network %s (gone)", pid,
		 n->conf.name);
	return false;
}

/* The IDB index of @pid, writing its block into obuf first if new. -1: no room. */
int capture_ifid(struct netd_capture *c, uint32_t pid)
{
	char descr[256];
	struct capture_if *ci;
	size_t n;

	if (pid >= CAPTURE_PORTS_MAX)
		return -1;
	if (c->ifid_of[pid] >= 0)
		return c->ifid_of[pid];
	if (c->n_if >= CAPTURE_IF_MAX)
		return -1;
	ci = &c->ifs[c->n_if];
	ci->port_id = pid;
	if (pid >= CAPTURE_KPORT_BASE)
		capture_pcap_describe(c, pid, ci->name, sizeof(ci->name), descr,
				      sizeof(descr));
	else
		capture_port_describe(c->d, c->net, pid, ci->name,
				      sizeof(ci->name), descr, sizeof(descr));
	snprintf(ci->descr, sizeof(ci->descr), "%s", descr);
	n = pcapng_idb_write(c->obuf + c->olen, CAPTURE_OBUF_BYTES - c->olen,
			     PCAPNG_LINKTYPE_ETHERNET, c->snaplen, ci->name,
			     descr);
	if (!n)
		return -1;
	c->olen += n;
	c->ifid_of[pid] = (int16_t)c->n_if;
	return (int)c->n_if++;
}

/* ---- output ---- */

static void capture_on_out(struct evloop *l, int fd, uint32_t events,
			   void *arg);

/* Write obuf out. Return: 0 (all written), 1 (blocked: EPOLLOUT armed), -errno. */
static int capture_flush(struct netd_capture *c)
{
	while (c->ooff < c->olen) {
		ssize_t w = write(c->out_fd, c->obuf + c->ooff,
				  c->olen - c->ooff);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (!c->out_watched &&
			    evloop_fd_add(c->d->loop, c->out_fd, EPOLLOUT,
					  capture_on_out, c) == 0)
				c->out_watched = true;
			return c->out_watched ? 1 : -EAGAIN;
		}
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		c->ooff += (size_t)w;
		c->file_bytes += (uint64_t)w;
	}
	c->ooff = c->olen = 0;
	c->in_obuf = 0;
	if (c->out_watched) {
		evloop_fd_del(c->d->loop, c->out_fd);
		c->out_watched = false;
	}
	return 0;
}

void capture_set_reason(struct netd_capture *c, const char *fmt,
			const char *arg)
{
	if (!c->reason[0])
		snprintf(c->reason, sizeof(c->reason), fmt, arg);
}

/* ---- the end ---- */

uint64_t capture_dropped(struct netd_capture *c)
{
	return capture_ring_drops(&c->ring) + capture_pcap_drops(c) +
	       c->lost_at_end;
}

void capture_sources_stop(struct netd_capture *c)
{
	if (c->mirror_id >= 0) {
		/* Returns once the data path is out of our callback. */
		switch_mirror_remove(c->net->sw, c->mirror_id);
		c->mirror_id = -1;
	}
	capture_pcap_stop(c); /* joins the reader */
}

static void capture_send_end(struct netd_capture *c)
{
	uint64_t drops = capture_dropped(c);
	json_t *j;
	char *text;

	if (c->sock < 0)
		return; /* a declared capture, or the client is gone */
	j = json_pack(
		"{s:s,s:i,s:I,s:I,s:I,s:s}", "event", LOOM_EVENT_CAPTURE_END,
		"capture", c->id, "captured", (json_int_t)c->written, "dropped",
		(json_int_t)drops, "filtered",
		(json_int_t)atomic_load(&c->filtered), "reason",
		c->reason[0] ? c->reason : "stopped");
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (text) {
		size_t len = strlen(text);
		uint32_t be = htonl((uint32_t)len);
		uint8_t *msg = malloc(len + 4);

		if (msg) {
			memcpy(msg, &be, 4);
			memcpy(msg + 4, text, len);
			/* A fresh socket buffer holds it; a client that
			 * stuffed its buffer loses the summary, no more. */
			if (send(c->sock, msg, len + 4,
				 MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug(MOD, "capture %d: summary: %s", c->id,
					  strerror(errno));
			free(msg);
		}
		free(text);
	}
}

void capture_free(struct netd_capture *c)
{
	for (int i = 0; i < LOOM_CAPTURE_MAX; i++)
		if (capture_table[i] == c)
			capture_table[i] = NULL;
	if (c->mirror_id >= 0 && c->net && c->net->sw)
		switch_mirror_remove(c->net->sw, c->mirror_id);
	if (c->out_watched)
		evloop_fd_del(c->d->loop, c->out_fd);
	if (c->efd_watched)
		evloop_fd_del(c->d->loop, c->ring.efd);
	if (c->kefd_watched)
		evloop_fd_del(c->d->loop, capture_pcap_ring(c)->efd);
	capture_pcap_free(c);
	if (c->sock_watched)
		evloop_fd_del(c->d->loop, c->sock);
	if (c->sock >= 0)
		close(c->sock);
	if (c->out_fd >= 0)
		close(c->out_fd);
	evloop_timer_del(c->poll_timer);
	evloop_timer_del(c->end_timer);
	if (c->has_prog)
		pcap_freecode(&c->prog);
	capture_ring_destroy(&c->ring);
	free(c->obuf);
	free(c->ifid_of);
	free(c->ifs);
	free(c);
}

void capture_finish(struct netd_capture *c)
{
	log_info(MOD, "capture %d on %s ended (%s): %llu captured, %llu dropped",
		 c->id, c->net->conf.name, c->reason[0] ? c->reason : "stopped",
		 (unsigned long long)c->written,
		 (unsigned long long)capture_dropped(c));
	capture_send_end(c);
	capture_free(c);
}

/* Count what is still queued or unwritten as lost (the output cannot take it). */
void capture_discard(struct netd_capture *c)
{
	struct capture_ring *rings[2] = {&c->ring, capture_pcap_ring(c)};

	c->written -= c->in_obuf;
	c->lost_at_end += c->in_obuf;
	c->in_obuf = 0;
	c->olen = c->ooff = 0;
	for (int i = 0; i < 2 && rings[i]; i++) {
		uint64_t pos = capture_ring_pos(rings[i]);

		while (capture_ring_peek(rings[i], &pos))
			c->lost_at_end++;
		capture_ring_release(rings[i], pos);
	}
}

/*
 * Stop taking frames; write out what is queued (waiting up to
 * CAPTURE_LINGER_MS for a slow reader), then the summary, then free.
 */
void capture_end(struct netd_capture *c)
{
	if (c->state == CAPTURE_ENDING)
		return;
	c->state = CAPTURE_ENDING;
	capture_sources_stop(c);
	evloop_timer_mod(c->end_timer, CAPTURE_LINGER_MS, 0);
	evloop_timer_mod(c->poll_timer, 0, 0);
	capture_drain(c);
}

/* ---- the writer ---- */

int capture_rot_open(const char *path, unsigned int index)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s.%u", path, index);
	return open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
}

/*
 * A declared capture's file is full: go on in the next one (the oldest),
 * which starts with the section header and every interface block so far,
 * so each file stands alone. obuf is empty (flushed) on entry.
 * Return: 0 or -errno.
 */
static int capture_rotate(struct netd_capture *c)
{
	unsigned int next = (c->rot_index + 1) % c->rot_files;
	int fd = capture_rot_open(c->rot_path, next);
	size_t n;

	if (fd < 0)
		return -errno;
	close(c->out_fd);
	c->out_fd = fd;
	c->rot_index = next;
	c->file_bytes = 0;
	c->file_frames = 0;
	c->olen = pcapng_shb_write(c->obuf, CAPTURE_OBUF_BYTES, "loom capture");
	for (uint32_t i = 0; i < c->n_if; i++) {
		n = pcapng_idb_write(c->obuf + c->olen,
				     CAPTURE_OBUF_BYTES - c->olen,
				     PCAPNG_LINKTYPE_ETHERNET, c->snaplen,
				     c->ifs[i].name, c->ifs[i].descr);
		if (!n)
			return -ENOBUFS;
		c->olen += n;
	}
	return 0;
}

/* Bytes an EPB of @rec takes in obuf. */
static size_t epb_size(const struct capture_rec *rec)
{
	return PCAPNG_EPB_OVERHEAD + rec->cap_len;
}

/*
 * The writer reads two rings, the switch's and the kernel ports' reader's
 * (capture_pcap.c): one source each, merged by timestamp. @rec is the
 * source's next record (peeked, not yet taken), @pos the ring position
 * after it, @prev the position before it (what may be released).
 */
struct drain_src {
	struct capture_ring *q;
	const struct capture_rec *rec;
	uint64_t pos, prev;
};

static void drain_src_next(struct drain_src *s)
{
	s->prev = s->pos;
	s->rec = capture_ring_peek(s->q, &s->pos);
}

static unsigned int drain_srcs_init(struct netd_capture *c,
				    struct drain_src *src)
{
	struct capture_ring *k = capture_pcap_ring(c);
	unsigned int n = 0;

	src[n++] = (struct drain_src){.q = &c->ring};
	if (k)
		src[n++] = (struct drain_src){.q = k};
	for (unsigned int i = 0; i < n; i++) {
		src[i].pos = capture_ring_pos(src[i].q);
		drain_src_next(&src[i]);
	}
	return n;
}

/* The source whose next record is the oldest, or NULL: all empty. */
static struct drain_src *drain_src_first(struct drain_src *src, unsigned int n)
{
	struct drain_src *first = NULL;

	for (unsigned int i = 0; i < n; i++)
		if (src[i].rec &&
		    (!first || src[i].rec->ts_ns < first->rec->ts_ns))
			first = &src[i];
	return first;
}

/* Release what was taken (up to, not including, each next record). */
static void drain_srcs_release(struct drain_src *src, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		capture_ring_release(src[i].q, src[i].prev);
}

/* Arm every ring for a wake-up. Return: true if all are still empty. */
static bool drain_srcs_arm(struct drain_src *src, unsigned int n)
{
	bool empty = true;

	for (unsigned int i = 0; i < n; i++)
		if (!capture_ring_arm(src[i].q, src[i].prev))
			empty = false;
	return empty;
}

/* Append @rec's EPB to obuf. */
static void drain_put(struct netd_capture *c, const struct capture_rec *rec)
{
	int ifid = capture_ifid(c, rec->port_id);
	size_t n;

	if (ifid < 0) {
		c->lost_at_end++;
		return;
	}
	n = pcapng_epb_write(c->obuf + c->olen, CAPTURE_OBUF_BYTES - c->olen,
			     (uint32_t)ifid, rec->ts_ns, rec->orig_len,
			     rec->data, rec->cap_len,
			     rec->dir == SWITCH_DIR_INGRESS ? PCAPNG_DIR_IN :
							      PCAPNG_DIR_OUT);
	if (!n) {
		c->lost_at_end++;
		return;
	}
	c->olen += n;
	c->written++;
	c->in_obuf++;
	c->file_frames++;
}

/*
 * Move records from the rings into obuf and obuf to the fd, for at most one
 * turn. Called on the rings' eventfds, the poll timer, EPOLLOUT.
 */
void capture_drain(struct netd_capture *c)
{
	struct drain_src src[2], *s = NULL;
	unsigned int taken = 0, nsrc;
	int ret;

	ret = capture_flush(c);
	if (ret)
		goto out_blocked;
	nsrc = drain_srcs_init(c, src);
	for (;;) {
		const struct capture_rec *rec;

		if (taken >= CAPTURE_TURN_RECORDS)
			break;
		s = drain_src_first(src, nsrc);
		if (!s)
			break;
		rec = s->rec;
		if (c->olen + epb_size(rec) + 512 > CAPTURE_OBUF_BYTES) {
			drain_srcs_release(src, nsrc);
			ret = capture_flush(c);
			if (ret)
				goto out_blocked;
		}
		if (c->rot_path[0] && c->file_frames &&
		    c->file_bytes + c->olen + epb_size(rec) > c->rot_size) {
			drain_srcs_release(src, nsrc);
			ret = capture_flush(c);
			if (!ret)
				ret = capture_rotate(c);
			if (ret)
				goto out_blocked;
		}
		taken++;
		/* Past the count: dropped on the floor. */
		if (!c->count_max || c->written < c->count_max)
			drain_put(c, rec);
		drain_src_next(s);
	}
	drain_srcs_release(src, nsrc);
	ret = capture_flush(c);
	if (ret)
		goto out_blocked;
	if (c->count_max && c->written >= c->count_max &&
	    c->state == CAPTURE_RUNNING) {
		capture_set_reason(c, "%s", "count reached");
		capture_end(c);
		return;
	}
	if (c->state == CAPTURE_ENDING) {
		if (s && taken >= CAPTURE_TURN_RECORDS) {
			evloop_timer_mod(c->poll_timer, 1, 0);
			return;
		}
		capture_finish(c);
		return;
	}
	if (taken >= CAPTURE_TURN_RECORDS) {
		/* More waits: next round, after the other fds had theirs. */
		evloop_timer_mod(c->poll_timer, 1, CAPTURE_POLL_MS);
		c->busy = true;
	} else if (taken) {
		if (!c->busy)
			evloop_timer_mod(c->poll_timer, CAPTURE_POLL_MS,
					 CAPTURE_POLL_MS);
		c->busy = true;
	} else {
		/* Idle: sleep on the eventfds. */
		evloop_timer_mod(c->poll_timer, 0, 0);
		c->busy = false;
		if (!drain_srcs_arm(src, nsrc))
			evloop_timer_mod(c->poll_timer, 1, CAPTURE_POLL_MS);
	}
	return;

out_blocked:
	if (ret < 0) {
		char e[64];

		snprintf(e, sizeof(e), "%s", strerror(-ret));
		capture_set_reason(c, "output: %s", e);
		if (c->state == CAPTURE_RUNNING) {
			c->state = CAPTURE_ENDING;
			capture_sources_stop(c);
		}
		capture_discard(c);
		capture_finish(c);
		return;
	}
	/* The reader is slow: stop draining, the ring fills, the data path
	 * drops and counts. capture_on_out resumes. */
	evloop_timer_mod(c->poll_timer, 0, 0);
	c->busy = false;
}

static void capture_on_out(struct evloop *l, int fd, uint32_t events,
			   void *arg)
{
	struct netd_capture *c = arg;

	(void)l;
	(void)fd;
	(void)events; /* an error shows in the write */
	capture_drain(c);
}

void capture_on_ring(struct evloop *l, int fd, uint32_t events,
		     void *arg)
{
	struct netd_capture *c = arg;
	uint64_t v;

	(void)l;
	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug(MOD, "ring eventfd: %s", strerror(errno));
	if (!c->out_watched)
		capture_drain(c);
}

void capture_on_poll(struct evloop *l, void *arg)
{
	struct netd_capture *c = arg;

	(void)l;
	if (!c->out_watched)
		capture_drain(c);
}

void capture_on_end_timer(struct evloop *l, void *arg)
{
	struct netd_capture *c = arg;

	(void)l;
	if (c->state == CAPTURE_RUNNING) {
		capture_set_reason(c, "%s", "duration reached");
		capture_end(c);
		return;
	}
	/* Lingered long enough: what the reader did not take is lost. */
	capture_set_reason(c, "%s", "output too slow at the end");
	capture_discard(c);
	capture_finish(c);
}

/* The client's socket: any EOF (shutdown or exit) ends the capture. */
void capture_on_sock(struct evloop *l, int fd, uint32_t events,
		     void *arg)
{
	struct netd_capture *c = arg;
	uint8_t junk[256];
	ssize_t n;

	(void)l;
	n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return; /* nothing the client says matters but its EOF */
	evloop_fd_del(c->d->loop, c->sock);
	c->sock_watched = false;
	if (n < 0 || (events & EPOLLERR)) {
		/* Gone without a goodbye: nobody to tell. */
		close(c->sock);
		c->sock = -1;
	} else {
		shutdown(c->sock, SHUT_RD);
	}
	capture_set_reason(c, "%s", "stopped");
	if (c->state == CAPTURE_RUNNING)
		capture_end(c);
}
