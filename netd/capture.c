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
#include "netd/capture_internal.h"
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

int capture_next_id = 1;

/* ---- start ---- */

static int capture_count_on(struct netd_net *n, int *total)
{
	int on = 0;

	*total = 0;
	for (int i = 0; i < LOOM_CAPTURE_MAX; i++) {
		if (!capture_table[i])
			continue;
		(*total)++;
		if (capture_table[i]->net == n)
			on++;
	}
	return on;
}

/*
 * Resolve port name @name of @n to its capture port id: its switch port
 * id, or CAPTURE_KPORT_BASE + its index for a kernel-path port.
 */
static int capture_port_id(struct netd *d, struct netd_net *n,
			   const char *name, char *err, size_t errlen)
{
	int i = netd_port_find(n, name);

	if (i >= 0) {
		if (capture_kport_is(n, (uint32_t)i))
			return CAPTURE_KPORT_BASE + i;
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
	i = capture_vmtap_find(d, n, name);
	if (i >= 0)
		return i;
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
		if (id >= CAPTURE_PORTS_MAX)
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
int capture_setup(struct netd *d, struct netd_capture *c, json_t *args,
			 int out_fd, char *err, size_t errlen)
{
	const char *kind;
	json_t *v;
	bool has_switch_ports = false;
	int total, ret, fl;
	size_t n;

	c->d = d;
	c->sock = -1;
	c->out_fd = -1;
	c->mirror_id = -1;
	c->ring.efd = -1;
	/* A bridge network's switch link carries what its kernel ports and
	 * its switch ports already show: the whole network leaves it out. */
	c->skip_port = -1;
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
	c->ifid_of = malloc(CAPTURE_PORTS_MAX * sizeof(*c->ifid_of));
	c->ifs = calloc(CAPTURE_IF_MAX, sizeof(*c->ifs));
	c->poll_timer = evloop_timer_add(d->loop, 0, 0, capture_on_poll, c);
	c->end_timer = evloop_timer_add(d->loop, 0, 0, capture_on_end_timer, c);
	if (ret < 0 || !c->obuf || !c->ifid_of || !c->ifs || !c->poll_timer ||
	    !c->end_timer) {
		snprintf(err, errlen, "out of memory");
		return ret < 0 ? ret : -ENOMEM;
	}
	memset(c->ifid_of, 0xff, CAPTURE_PORTS_MAX * sizeof(*c->ifid_of));
	if (c->all_ports)
		c->skip_port = netd_bridge_link_port(c->net);
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
		    ((int)pid == c->skip_port ||
		     !capture_port_describe(d, c->net, pid, name, sizeof(name),
					    descr, sizeof(descr))))
			continue;
		if (capture_ifid(c, pid) < 0)
			break;
		has_switch_ports = true;
	}
	ret = capture_pcap_start(c, err, errlen);
	if (ret < 0)
		return ret;
	if (c->kp) {
		ret = evloop_fd_add(d->loop, capture_pcap_ring(c)->efd, EPOLLIN,
				    capture_on_ring, c);
		if (ret < 0) {
			snprintf(err, errlen, "event loop: %s", strerror(-ret));
			return ret;
		}
		c->kefd_watched = true;
		capture_ring_arm(capture_pcap_ring(c),
				 capture_ring_pos(capture_pcap_ring(c)));
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
	c->started = time(NULL);
	c->started_ms = evloop_now_ms();
	/* Only kernel-path ports: the switch has nothing to show. */
	if (!c->all_ports && !has_switch_ports)
		return 0;
	ret = switch_mirror_add(c->net->sw, SWITCH_PORT_ALL, c->dirs,
				capture_on_frame, c);
	if (ret < 0) {
		snprintf(err, errlen, "no mirror slot left on network '%s'",
			 c->net->conf.name);
		return ret == -ENOSPC ? -ENOSPC : ret;
	}
	c->mirror_id = ret;
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
		if (!capture_table[i])
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
	capture_table[slot] = c;
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
		struct netd_capture *c = capture_table[i];

		if (!c || c->net != n)
			continue;
		capture_set_reason(c, "%s", "network deleted");
		capture_sources_stop(c);
		c->state = CAPTURE_ENDING;
		/* One last non-blocking attempt; the network goes now. */
		capture_drain(c);
		if (capture_table[i] == c) {
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
		struct netd_capture *c = capture_table[i];
		const char *dir;
		json_t *j;

		if (!c)
			continue;
		dir = c->dirs == SWITCH_DIR_INGRESS ? "in" :
		      c->dirs == SWITCH_DIR_EGRESS  ? "out" :
						      "both";
		j = json_pack("{s:i,s:s,s:o,s:b,s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:s,s:s}",
				  "capture", c->id, "net", c->net->conf.name,
				  "interfaces", capture_ifaces_json(c),
				  "all_ports", c->all_ports, "filter",
				  c->filter, "direction", dir, "snaplen",
				  (int)c->snaplen, "started",
				  (json_int_t)c->started, "captured",
				  (json_int_t)c->written, "dropped",
				  (json_int_t)capture_dropped(c),
				  "filtered",
				  (json_int_t)atomic_load(&c->filtered),
				  "count", (json_int_t)c->count_max, "output",
				  c->out_kind, "state",
				  c->state == CAPTURE_RUNNING ? "running" :
								"ending");
		if (j && c->decl_name[0]) {
			char f[4200];

			snprintf(f, sizeof(f), "%s.%u", c->rot_path,
				 c->rot_index);
			json_object_set_new(j, "declared",
					    json_string(c->decl_name));
			json_object_set_new(j, "file", json_string(f));
		}
		json_array_append_new(a, j);
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
	.net_start = capture_net_start,
	.net_stop = netd_capture_net_gone,
	.net_apply = capture_net_apply,
	.commands = capture_commands,
};
