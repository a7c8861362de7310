/* SPDX-License-Identifier: MIT */
/* capture.c - packet captures: switch mirror -> ring -> BPF-filtered pcapng to the client's fd. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "common/evloop.h"
#include "common/log.h"
#include "common/pcapng.h"
#include "loom/control.h"
#include "netd/capture_ring.h"
#include "netd/netd.h"
#include "netd/service.h"

#define MOD "capture"

/*
 * docs/capture.md describes the design. In short: one network-wide switch
 * mirror per capture (SWITCH_PORT_ALL, so any number of ports costs one
 * mirror slot) copies each frame of a selected port into the capture's
 * ring on the data-path thread and runs the BPF filter on that copy; the
 * writer on the control thread's loop turns records into pcapng blocks
 * and writes them to the fd the client handed over. Nothing the data path
 * does waits for the writer: a full ring drops the frame and counts it.
 */

enum {
	CAPTURE_RING_BYTES = 4 << 20, /* per capture; a 256 KiB frame fits 4x */
	CAPTURE_OBUF_BYTES = 1 << 20, /* pcapng bytes built before a write */
	CAPTURE_POLL_MS = 10,	      /* drain period while frames flow */
	CAPTURE_TURN_RECORDS = 8192,  /* records per drain call */
	CAPTURE_LINGER_MS = 2000,     /* at the end: wait this long for a
					 slow reader to take what is left */
	CAPTURE_IF_MAX = 1024,	      /* interface blocks per capture */
};

enum capture_state {
	CAPTURE_RUNNING,
	CAPTURE_ENDING, /* mirror removed; writing out what is left */
};

struct capture_if {
	uint32_t port_id;
	char name[SWITCH_PORT_NAME_MAX + NETCONF_NAME_MAX + 2];
};

struct netd_capture {
	/* Read by the data path (set before the mirror is added). */
	struct capture_ring ring;
	uint32_t snaplen;
	bool all_ports;
	bool has_prog;
	struct bpf_program prog;
	uint64_t port_mask[SWITCH_MAX_PORTS_MAX / 64];
	_Atomic uint64_t filtered; /* written by the data path only */

	/* Control thread only. */
	struct netd *d;
	struct netd_net *net;
	int id;
	int mirror_id;
	int sock;   /* the client's control connection */
	int out_fd; /* where pcapng goes */
	bool out_watched; /* out_fd is on the loop for EPOLLOUT */
	bool efd_watched; /* the ring's eventfd is on the loop */
	bool sock_watched;
	bool busy;	  /* poll timer running; the ring is not armed */
	enum capture_state state;
	unsigned int dirs;
	char filter[LOOM_CAPTURE_FILTER_MAX];
	char out_kind[8];
	char reason[128];
	uint64_t count_max; /* 0: no limit */
	uint64_t written;     /* frames built into obuf or written */
	uint64_t in_obuf;     /* of those, frames still (partly) in obuf */
	uint64_t lost_at_end; /* taken from the ring, never written */
	uint64_t started_ms;
	time_t started;
	struct evloop_timer *poll_timer, *end_timer;
	uint8_t *obuf;
	size_t olen, ooff;
	int16_t *ifid_of; /* per switch port id: its IDB, -1 none yet */
	struct capture_if *ifs;
	uint32_t n_if;
};

static struct netd_capture *captures[LOOM_CAPTURE_MAX];
static int capture_next_id = 1;

static void capture_drain(struct netd_capture *c);
static void capture_finish(struct netd_capture *c);

/* ---- data path ---- */

static void capture_on_frame(void *arg, uint32_t port_id, enum switch_dir dir,
			     const struct frame *f)
{
	struct netd_capture *c = arg;
	struct capture_rec *rec;
	struct pcap_pkthdr h;
	struct timespec ts;
	uint32_t caplen;

	if (!c->all_ports && (port_id >= SWITCH_MAX_PORTS_MAX ||
			      !(c->port_mask[port_id / 64] >> (port_id % 64) & 1)))
		return;
	caplen = f->len < c->snaplen ? f->len : c->snaplen;
	h.caplen = caplen;
	h.len = f->len;
	rec = capture_ring_reserve(&c->ring, caplen);
	if (!rec) {
		/* Counted only if the filter wanted it: run it on the frame
		 * itself (it may change under us; only a counter depends on
		 * the answer). */
		if (!c->has_prog || pcap_offline_filter(&c->prog, &h, f->data))
			capture_ring_count_drop(&c->ring);
		return;
	}
	memcpy(rec->data, f->data, caplen);
	if (c->has_prog && !pcap_offline_filter(&c->prog, &h, rec->data)) {
		atomic_store_explicit(
			&c->filtered,
			atomic_load_explicit(&c->filtered,
					     memory_order_relaxed) + 1,
			memory_order_relaxed);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	rec->port_id = port_id;
	rec->orig_len = f->len;
	rec->ts_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	rec->dir = (uint8_t)dir;
	capture_ring_commit(&c->ring);
}

/* ---- ports and interface blocks ---- */

/*
 * Name and describe switch port @pid of @n. Return: true if it is a port
 * netd knows (declared or a VM NIC).
 */
static bool capture_port_describe(struct netd *d, struct netd_net *n,
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
static int capture_ifid(struct netd_capture *c, uint32_t pid)
{
	char descr[256];
	struct capture_if *ci;
	size_t n;

	if (pid >= SWITCH_MAX_PORTS_MAX)
		return -1;
	if (c->ifid_of[pid] >= 0)
		return c->ifid_of[pid];
	if (c->n_if >= CAPTURE_IF_MAX)
		return -1;
	ci = &c->ifs[c->n_if];
	ci->port_id = pid;
	capture_port_describe(c->d, c->net, pid, ci->name, sizeof(ci->name),
			      descr, sizeof(descr));
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
	}
	c->ooff = c->olen = 0;
	c->in_obuf = 0;
	if (c->out_watched) {
		evloop_fd_del(c->d->loop, c->out_fd);
		c->out_watched = false;
	}
	return 0;
}

static void capture_set_reason(struct netd_capture *c, const char *fmt,
			       const char *arg)
{
	if (!c->reason[0])
		snprintf(c->reason, sizeof(c->reason), fmt, arg);
}

/* ---- the end ---- */

static void capture_send_end(struct netd_capture *c)
{
	uint64_t drops = capture_ring_drops(&c->ring) + c->lost_at_end;
	json_t *j = json_pack(
		"{s:s,s:i,s:I,s:I,s:I,s:s}", "event", LOOM_EVENT_CAPTURE_END,
		"capture", c->id, "captured", (json_int_t)c->written, "dropped",
		(json_int_t)drops, "filtered",
		(json_int_t)atomic_load(&c->filtered), "reason",
		c->reason[0] ? c->reason : "stopped");
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (text && c->sock >= 0) {
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

static void capture_free(struct netd_capture *c)
{
	for (int i = 0; i < LOOM_CAPTURE_MAX; i++)
		if (captures[i] == c)
			captures[i] = NULL;
	if (c->mirror_id >= 0 && c->net && c->net->sw)
		switch_mirror_remove(c->net->sw, c->mirror_id);
	if (c->out_watched)
		evloop_fd_del(c->d->loop, c->out_fd);
	if (c->efd_watched)
		evloop_fd_del(c->d->loop, c->ring.efd);
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

static void capture_finish(struct netd_capture *c)
{
	log_info(MOD, "capture %d on %s ended (%s): %llu captured, %llu dropped",
		 c->id, c->net->conf.name, c->reason[0] ? c->reason : "stopped",
		 (unsigned long long)c->written,
		 (unsigned long long)(capture_ring_drops(&c->ring) +
				      c->lost_at_end));
	capture_send_end(c);
	capture_free(c);
}

/* Count what is still queued or unwritten as lost (the output cannot take it). */
static void capture_discard(struct netd_capture *c)
{
	uint64_t pos = capture_ring_pos(&c->ring);

	c->written -= c->in_obuf;
	c->lost_at_end += c->in_obuf;
	c->in_obuf = 0;
	c->olen = c->ooff = 0;

	while (capture_ring_peek(&c->ring, &pos))
		c->lost_at_end++;
	capture_ring_release(&c->ring, pos);
}

/*
 * Stop taking frames; write out what is queued (waiting up to
 * CAPTURE_LINGER_MS for a slow reader), then the summary, then free.
 */
static void capture_end(struct netd_capture *c)
{
	if (c->state == CAPTURE_ENDING)
		return;
	c->state = CAPTURE_ENDING;
	if (c->mirror_id >= 0) {
		/* Returns once the data path is out of our callback. */
		switch_mirror_remove(c->net->sw, c->mirror_id);
		c->mirror_id = -1;
	}
	evloop_timer_mod(c->end_timer, CAPTURE_LINGER_MS, 0);
	evloop_timer_mod(c->poll_timer, 0, 0);
	capture_drain(c);
}

/* ---- the writer ---- */

/* Bytes an EPB of @rec takes in obuf. */
static size_t epb_size(const struct capture_rec *rec)
{
	return PCAPNG_EPB_OVERHEAD + rec->cap_len;
}

/*
 * Move records from the ring into obuf and obuf to the fd, for at most one
 * turn. Called on the ring's eventfd, the poll timer, EPOLLOUT.
 */
static void capture_drain(struct netd_capture *c)
{
	const struct capture_rec *rec = NULL;
	uint64_t pos, prev;
	unsigned int taken = 0;
	int ret;

	ret = capture_flush(c);
	if (ret)
		goto out_blocked;
	pos = capture_ring_pos(&c->ring);
	for (;;) {
		prev = pos;
		if (taken >= CAPTURE_TURN_RECORDS)
			break;
		rec = capture_ring_peek(&c->ring, &pos);
		if (!rec)
			break;
		if (c->olen + epb_size(rec) + 512 > CAPTURE_OBUF_BYTES) {
			capture_ring_release(&c->ring, prev);
			ret = capture_flush(c);
			if (ret)
				goto out_blocked;
		}
		taken++;
		if (c->count_max && c->written >= c->count_max)
			continue; /* past the count: dropped on the floor */
		{
			int ifid = capture_ifid(c, rec->port_id);
			size_t n;

			if (ifid < 0) {
				c->lost_at_end++;
				continue;
			}
			n = pcapng_epb_write(c->obuf + c->olen,
					     CAPTURE_OBUF_BYTES - c->olen,
					     (uint32_t)ifid, rec->ts_ns,
					     rec->orig_len, rec->data,
					     rec->cap_len,
					     rec->dir == SWITCH_DIR_INGRESS ?
						     PCAPNG_DIR_IN :
						     PCAPNG_DIR_OUT);
			if (!n) {
				c->lost_at_end++;
				continue;
			}
			c->olen += n;
			c->written++;
			c->in_obuf++;
		}
	}
	capture_ring_release(&c->ring, prev);
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
		if (rec && taken >= CAPTURE_TURN_RECORDS) {
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
		/* Idle: sleep on the eventfd. */
		evloop_timer_mod(c->poll_timer, 0, 0);
		c->busy = false;
		if (!capture_ring_arm(&c->ring, prev))
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
			switch_mirror_remove(c->net->sw, c->mirror_id);
			c->mirror_id = -1;
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

static void capture_on_ring(struct evloop *l, int fd, uint32_t events,
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

static void capture_on_poll(struct evloop *l, void *arg)
{
	struct netd_capture *c = arg;

	(void)l;
	if (!c->out_watched)
		capture_drain(c);
}

static void capture_on_end_timer(struct evloop *l, void *arg)
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
static void capture_on_sock(struct evloop *l, int fd, uint32_t events,
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

/* ---- start ---- */

static int capture_count_on(struct netd_net *n, int *total)
{
	int on = 0;

	*total = 0;
	for (int i = 0; i < LOOM_CAPTURE_MAX; i++) {
		if (!captures[i])
			continue;
		(*total)++;
		if (captures[i]->net == n)
			on++;
	}
	return on;
}

/* Resolve port name @name of @n to its switch port id. */
static int capture_port_id(struct netd *d, struct netd_net *n,
			   const char *name, char *err, size_t errlen)
{
	int i = netd_port_find(n, name);

	if (i >= 0) {
		if (n->rt[i].port_id < 0) {
			snprintf(err, errlen, "port '%s' of network '%s' is down: %s",
				 name, n->conf.name, n->rt[i].error);
			return -ENOENT;
		}
		return n->rt[i].port_id;
	}
	i = netd_vm_find(d, n, name);
	if (i >= 0)
		return d->vms[i]->port_id;
	snprintf(err, errlen, "network '%s' has no port '%s'", n->conf.name,
		 name);
	return -ENOENT;
}

static const char *fd_kind(int fd, char *err, size_t errlen)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	if (fstat(fd, &st) < 0 || fl < 0) {
		snprintf(err, errlen, "the output fd is not usable: %s",
			 strerror(errno));
		return NULL;
	}
	if ((fl & O_ACCMODE) == O_RDONLY) {
		snprintf(err, errlen, "the output fd is not open for writing");
		return NULL;
	}
	if (S_ISREG(st.st_mode))
		return "file";
	if (S_ISFIFO(st.st_mode))
		return "pipe";
	if (S_ISSOCK(st.st_mode))
		return "socket";
	if (S_ISCHR(st.st_mode))
		return "device";
	snprintf(err, errlen,
		 "the output fd must be a file, a pipe, a socket or a device");
	return NULL;
}

static int capture_parse(struct netd *d, struct netd_capture *c, json_t *args,
			 char *err, size_t errlen)
{
	json_t *v;
	const char *s;
	pcap_t *dead;

	v = json_object_get(args, "net");
	if (!json_is_string(v)) {
		snprintf(err, errlen, "missing argument 'net' (a string)");
		return -EINVAL;
	}
	c->net = netd_net_find(d, json_string_value(v));
	if (!c->net) {
		snprintf(err, errlen, "network '%.64s' does not exist",
			 json_string_value(v));
		return -ENOENT;
	}
	c->snaplen = LOOM_CAPTURE_SNAPLEN_MAX;
	v = json_object_get(args, "snaplen");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > LOOM_CAPTURE_SNAPLEN_MAX) {
			snprintf(err, errlen, "snaplen: must be 1..%d",
				 LOOM_CAPTURE_SNAPLEN_MAX);
			return -EINVAL;
		}
		c->snaplen = (uint32_t)json_integer_value(v);
	}
	c->dirs = SWITCH_DIR_INGRESS | SWITCH_DIR_EGRESS;
	v = json_object_get(args, "direction");
	if (v) {
		s = json_string_value(v);
		if (s && !strcmp(s, "in"))
			c->dirs = SWITCH_DIR_INGRESS;
		else if (s && !strcmp(s, "out"))
			c->dirs = SWITCH_DIR_EGRESS;
		else if (!s || strcmp(s, "both")) {
			snprintf(err, errlen,
				 "direction: must be \"in\", \"out\" or \"both\"");
			return -EINVAL;
		}
	}
	v = json_object_get(args, "count");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(err, errlen, "count: must be an integer >= 0");
			return -EINVAL;
		}
		c->count_max = (uint64_t)json_integer_value(v);
	}
	v = json_object_get(args, "duration_ms");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
		  json_integer_value(v) > 366ll * 86400 * 1000)) {
		snprintf(err, errlen, "duration_ms: must be 0..%lld",
			 366ll * 86400 * 1000);
		return -EINVAL;
	}
	v = json_object_get(args, "ports");
	c->all_ports = !v || (json_is_array(v) && !json_array_size(v));
	if (v && !json_is_array(v)) {
		snprintf(err, errlen, "ports: must be an array of port names");
		return -EINVAL;
	}
	for (size_t i = 0; v && i < json_array_size(v); i++) {
		json_t *p = json_array_get(v, i);
		int id;

		if (!json_is_string(p)) {
			snprintf(err, errlen, "ports[%zu]: must be a string", i);
			return -EINVAL;
		}
		id = capture_port_id(d, c->net, json_string_value(p), err,
				     errlen);
		if (id < 0)
			return id;
		if (id >= SWITCH_MAX_PORTS_MAX)
			return -EINVAL;
		c->port_mask[id / 64] |= 1ull << (id % 64);
	}
	v = json_object_get(args, "filter");
	if (v && !json_is_string(v)) {
		snprintf(err, errlen, "filter: must be a string");
		return -EINVAL;
	}
	s = v ? json_string_value(v) : "";
	if (strlen(s) >= sizeof(c->filter)) {
		snprintf(err, errlen, "filter: longer than %d bytes",
			 LOOM_CAPTURE_FILTER_MAX - 1);
		return -EINVAL;
	}
	snprintf(c->filter, sizeof(c->filter), "%s", s);
	if (!c->filter[0])
		return 0;
	dead = pcap_open_dead(DLT_EN10MB, (int)c->snaplen);
	if (!dead) {
		snprintf(err, errlen, "libpcap: out of memory");
		return -ENOMEM;
	}
	if (pcap_compile(dead, &c->prog, c->filter, 1,
			 PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "filter '%.200s': %s", c->filter,
			 pcap_geterr(dead));
		pcap_close(dead);
		return -EINVAL;
	}
	pcap_close(dead);
	c->has_prog = true;
	return 0;
}

static json_t *capture_ifaces_json(struct netd_capture *c)
{
	json_t *a = json_array();

	for (uint32_t i = 0; a && i < c->n_if; i++)
		json_array_append_new(a, json_string(c->ifs[i].name));
	return a;
}

/* Set up everything but the socket. Return: 0 or -errno with @err set. */
static int capture_setup(struct netd *d, struct netd_capture *c, json_t *args,
			 int out_fd, char *err, size_t errlen)
{
	const char *kind;
	json_t *v;
	int total, ret, fl;
	size_t n;

	c->d = d;
	c->sock = -1;
	c->out_fd = -1;
	c->mirror_id = -1;
	c->ring.efd = -1;
	ret = capture_parse(d, c, args, err, errlen);
	if (ret < 0)
		return ret;
	if (capture_count_on(c->net, &total) >= LOOM_CAPTURE_PER_NET_MAX) {
		snprintf(err, errlen,
			 "network '%s' has %d captures running, the limit",
			 c->net->conf.name, LOOM_CAPTURE_PER_NET_MAX);
		return -ENOSPC;
	}
	if (total >= LOOM_CAPTURE_MAX) {
		snprintf(err, errlen, "%d captures are running, the limit",
			 LOOM_CAPTURE_MAX);
		return -ENOSPC;
	}
	if (out_fd < 0) {
		snprintf(err, errlen,
			 "no output fd: send the fd to write to with the request (SCM_RIGHTS)");
		return -EINVAL;
	}
	kind = fd_kind(out_fd, err, errlen);
	if (!kind)
		return -EINVAL;
	snprintf(c->out_kind, sizeof(c->out_kind), "%s", kind);
	/* Never block the control thread on a slow reader. */
	fl = fcntl(out_fd, F_GETFL);
	if (fl < 0 || fcntl(out_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "output fd: %s", strerror(errno));
		return -EINVAL;
	}
	c->out_fd = out_fd;
	ret = capture_ring_init(&c->ring, CAPTURE_RING_BYTES);
	c->obuf = malloc(CAPTURE_OBUF_BYTES);
	c->ifid_of = malloc(SWITCH_MAX_PORTS_MAX * sizeof(*c->ifid_of));
	c->ifs = calloc(CAPTURE_IF_MAX, sizeof(*c->ifs));
	c->poll_timer = evloop_timer_add(d->loop, 0, 0, capture_on_poll, c);
	c->end_timer = evloop_timer_add(d->loop, 0, 0, capture_on_end_timer, c);
	if (ret < 0 || !c->obuf || !c->ifid_of || !c->ifs || !c->poll_timer ||
	    !c->end_timer) {
		snprintf(err, errlen, "out of memory");
		return ret < 0 ? ret : -ENOMEM;
	}
	memset(c->ifid_of, 0xff, SWITCH_MAX_PORTS_MAX * sizeof(*c->ifid_of));
	/* The section and every selected port's interface block go first,
	 * so a reader lists the interfaces before any frame. */
	n = pcapng_shb_write(c->obuf, CAPTURE_OBUF_BYTES, "loom " MOD);
	c->olen = n;
	for (uint32_t pid = 0; pid < SWITCH_MAX_PORTS_MAX; pid++) {
		char name[128], descr[256];

		if (!c->all_ports &&
		    !(c->port_mask[pid / 64] >> (pid % 64) & 1))
			continue;
		if (c->all_ports &&
		    !capture_port_describe(d, c->net, pid, name, sizeof(name),
					   descr, sizeof(descr)))
			continue;
		if (capture_ifid(c, pid) < 0)
			break;
	}
	v = json_object_get(args, "duration_ms");
	if (v && json_integer_value(v) > 0)
		evloop_timer_mod(c->end_timer,
				 (uint64_t)json_integer_value(v), 0);
	ret = evloop_fd_add(d->loop, c->ring.efd, EPOLLIN, capture_on_ring, c);
	if (ret < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(-ret));
		return ret;
	}
	c->efd_watched = true;
	capture_ring_arm(&c->ring, capture_ring_pos(&c->ring));
	ret = switch_mirror_add(c->net->sw, SWITCH_PORT_ALL, c->dirs,
				capture_on_frame, c);
	if (ret < 0) {
		snprintf(err, errlen, "no mirror slot left on network '%s'",
			 c->net->conf.name);
		return ret == -ENOSPC ? -ENOSPC : ret;
	}
	c->mirror_id = ret;
	c->started = time(NULL);
	c->started_ms = evloop_now_ms();
	return 0;
}

bool netd_capture_is_start(json_t *req)
{
	json_t *cmd = json_object_get(req, "cmd");

	return json_is_string(cmd) &&
	       !strcmp(json_string_value(cmd), LOOM_CMD_CAPTURE_START);
}

struct netd_capture *netd_capture_start(struct netd *d, json_t *req,
					int out_fd, json_t **reply)
{
	struct netd_capture *c;
	json_t *id = json_object_get(req, "id"), *args;
	char err[512] = "";
	int ret, slot = -1;

	if (!json_is_integer(id)) {
		*reply = netd_reply_error(NULL, LOOM_ERR_PROTO,
					  "\"id\" must be an integer");
		goto fail_fd;
	}
	args = json_object_get(req, "args");
	if (!json_is_object(args)) {
		*reply = netd_reply_error(id, LOOM_ERR_INVAL,
					  "\"args\" must be an object");
		goto fail_fd;
	}
	for (int i = 0; i < LOOM_CAPTURE_MAX && slot < 0; i++)
		if (!captures[i])
			slot = i;
	c = calloc(1, sizeof(*c));
	if (!c) {
		*reply = netd_reply_error(id, LOOM_ERR_INTERNAL, "out of memory");
		goto fail_fd;
	}
	ret = capture_setup(d, c, args, out_fd, err, sizeof(err));
	if (!ret && slot < 0) {
		snprintf(err, sizeof(err), "%d captures are running, the limit",
			 LOOM_CAPTURE_MAX);
		ret = -ENOSPC;
	}
	if (ret < 0) {
		if (c->out_fd < 0 && out_fd >= 0)
			close(out_fd);
		capture_free(c);
		*reply = netd_reply_error(id, netd_errno_code(ret), "%s", err);
		return NULL;
	}
	c->id = capture_next_id++;
	captures[slot] = c;
	*reply = json_pack("{s:O,s:b,s:{s:i,s:s,s:i,s:o}}", "id", id, "ok", 1,
			   "result", "capture", c->id, "net",
			   c->net->conf.name, "snaplen", (int)c->snaplen,
			   "interfaces", capture_ifaces_json(c));
	log_info(MOD, "capture %d on %s started (filter '%s', to a %s)", c->id,
		 c->net->conf.name, c->filter, c->out_kind);
	return c;
fail_fd:
	if (out_fd >= 0)
		close(out_fd);
	return NULL;
}

int netd_capture_attach(struct netd_capture *c, int sock, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	int ret = -ENOMEM;

	json_decref(reply);
	c->sock = sock;
	if (text) {
		size_t len = strlen(text);
		uint32_t be = htonl((uint32_t)len);
		struct iovec iov[2] = {{&be, 4}, {text, len}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

		ret = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) ==
				      (ssize_t)(len + 4) ?
			      0 :
			      -EIO;
		free(text);
	}
	if (!ret)
		ret = evloop_fd_add(c->d->loop, sock, EPOLLIN, capture_on_sock,
				    c);
	c->sock_watched = !ret;
	if (ret < 0) {
		close(sock);
		c->sock = -1;
		capture_set_reason(c, "%s", "client gone");
		capture_end(c);
		return ret;
	}
	/* Frames may be queued already; the interface blocks surely are. */
	capture_drain(c);
	return 0;
}

/* The captures of @n end before its switch goes (service net_stop). */
static void netd_capture_net_gone(struct netd *d, struct netd_net *n)
{
	(void)d;
	for (int i = 0; i < LOOM_CAPTURE_MAX; i++) {
		struct netd_capture *c = captures[i];

		if (!c || c->net != n)
			continue;
		capture_set_reason(c, "%s", "network deleted");
		if (c->mirror_id >= 0) {
			switch_mirror_remove(n->sw, c->mirror_id);
			c->mirror_id = -1;
		}
		c->state = CAPTURE_ENDING;
		/* One last non-blocking attempt; the network goes now. */
		capture_drain(c);
		if (captures[i] == c) {
			capture_discard(c);
			capture_finish(c);
		}
	}
}

static json_t *netd_capture_list(struct netd *d)
{
	json_t *a = json_array();

	(void)d;
	for (int i = 0; a && i < LOOM_CAPTURE_MAX; i++) {
		struct netd_capture *c = captures[i];
		const char *dir;

		if (!c)
			continue;
		dir = c->dirs == SWITCH_DIR_INGRESS ? "in" :
		      c->dirs == SWITCH_DIR_EGRESS  ? "out" :
						      "both";
		json_array_append_new(
			a,
			json_pack("{s:i,s:s,s:o,s:b,s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:s,s:s}",
				  "capture", c->id, "net", c->net->conf.name,
				  "interfaces", capture_ifaces_json(c),
				  "all_ports", c->all_ports, "filter",
				  c->filter, "direction", dir, "snaplen",
				  (int)c->snaplen, "started",
				  (json_int_t)c->started, "captured",
				  (json_int_t)c->written, "dropped",
				  (json_int_t)(capture_ring_drops(&c->ring) +
					       c->lost_at_end),
				  "filtered",
				  (json_int_t)atomic_load(&c->filtered),
				  "count", (json_int_t)c->count_max, "output",
				  c->out_kind, "state",
				  c->state == CAPTURE_RUNNING ? "running" :
								"ending"));
	}
	return a;
}

static int cmd_capture_list(struct netd *d, json_t *args, json_t **res,
			    char *err)
{
	(void)args;
	(void)err;
	*res = json_pack("{s:o}", "captures", netd_capture_list(d));
	return *res ? 0 : -ENOMEM;
}

static const struct netd_command capture_commands[] = {
	{ LOOM_CMD_CAPTURE_LIST, cmd_capture_list },
	{ NULL, NULL },
};

/* Captures as a netd service (service.h); capture.start comes through
 * control.c, which hands the connection over. */
const struct netd_service netd_capture_service = {
	.name = "capture",
	.net_stop = netd_capture_net_gone,
	.commands = capture_commands,
};
