/* SPDX-License-Identifier: MIT */
/* netd_control.c - fuzz loom-netd's control protocol: a client's framed byte stream through framing, JSON, dispatch and every command handler. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * The framing (client_process) is static in netd/control.c: the file is
 * compiled into this target so the real code runs unchanged.
 */
#include "netd/control.c"
#include "tests/fuzz/fd_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * What runs: the real daemon state (struct netd, its data-path thread) and
 * the real handlers, which create switches, TAP devices (netlink, ioctls),
 * move them into named namespaces and write the state file. So that none
 * of it touches the host, the process first moves into private network and
 * mount namespaces (as root, or through a user namespace): TAPs live and
 * die in a throw-away netns, /run is a private tmpfs holding the state
 * file and /run/netns with one named netns ("fuzz-ns") to move TAPs into.
 * Where no namespace can be made, CAP_NET_ADMIN and CAP_SYS_ADMIN are
 * dropped instead: TAP ports then fail with EPERM, as for an unprivileged
 * netd, and everything else still runs. Every input starts from an empty
 * daemon (netd_shutdown() after each).
 *
 * Input: byte 0, bits 0-6 pick how a stream is cut into the chunks the
 * socket delivers (1 + that many bytes each; 0: all at once). Bit 7 clear:
 * the rest is what one client sends, frames of a big-endian u32 length and
 * that many bytes of JSON. Bit 7 set: turns of le16 N, N bytes of a
 * client, then the first bytes of a connection that a VMM opens to attach
 * its NIC (struct shm_attach_req: 128 bytes); so clients create networks,
 * VMMs attach, later clients list, show and delete the VM ports.
 *
 * Checked for every reply frame: JSON object, "ok" boolean, "id" the
 * request's integer id (null when the request had none), an error object
 * with a known code and a message, or a result object. An attach that
 * made a port sent exactly the region's fds; one that did not, none.
 */
enum {
	MAX_ROUNDS = 4096,
	MAX_IDS = 4096,
	REPLAY_TIMEOUT_SECS = 20,
	ATTACH_BYTES = sizeof(struct shm_attach_req),
};

static struct netd d;
static const char *mode = "not set up";

/* Write @s to @path (uid_map and friends). */
static int put_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Private netns + mount ns, /run a tmpfs, one named netns. */
static bool isolate(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int home, fd;

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) < 0)
			return false;
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		put_file("/proc/self/setgroups", "deny");
		if (put_file("/proc/self/uid_map", map))
			return false;
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		if (put_file("/proc/self/gid_map", map))
			return false;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("loom-fuzz", "/run", "tmpfs", 0, "mode=0755") < 0)
		return false;
	if (mkdir("/run/netns", 0755) < 0 || mkdir("/run/loom", 0755) < 0)
		return false;
	fd = open("/run/netns/fuzz-ns", O_CREAT | O_RDONLY | O_CLOEXEC, 0644);
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || home < 0)
		return false;
	close(fd);
	if (unshare(CLONE_NEWNET) < 0 ||
	    mount("/proc/thread-self/ns/net", "/run/netns/fuzz-ns", NULL,
		  MS_BIND, NULL) < 0 ||
	    setns(home, CLONE_NEWNET) < 0)
		return false;
	close(home);
	return true;
}

/* No namespaces: nothing the handlers do may reach the host's network. */
static void drop_net_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct c[2];
	uint32_t drop = 1u << CAP_NET_ADMIN | 1u << CAP_SYS_ADMIN;

	if (syscall(SYS_capget, &h, c) < 0)
		return;
	c[0].effective &= ~drop;
	c[0].permitted &= ~drop;
	c[0].inheritable &= ~drop;
	if (syscall(SYS_capset, &h, c) < 0)
		abort();
}

static void setup(void)
{
	static char dir[64];
	bool isolated;

	if (d.started)
		return;
	log_max_level = LOG_ERR;
	isolated = isolate();
	if (isolated) {
		snprintf(dir, sizeof(dir), "/run/loom");
		mode = "private network and mount namespaces";
	} else {
		drop_net_caps();
		snprintf(dir, sizeof(dir), "/tmp/loom-fuzz-netd-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		mode = "no namespaces: CAP_NET_ADMIN dropped, TAP ports fail";
	}
	d.run_dir = dir;
	d.state_dir = dir;
	snprintf(d.sock_path, sizeof(d.sock_path), "%s/netd.sock", dir);
	snprintf(d.state_path, sizeof(d.state_path), "%s/networks.json", dir);
	snprintf(d.instance, sizeof(d.instance), "f0220000");
	snprintf(d.alias_prefix, sizeof(d.alias_prefix), "%s%s:",
		 NETD_ALIAS_PREFIX, d.instance);
	d.uid = geteuid();
	d.started = time(NULL);
	d.have_net_admin = isolated;
	/* Never run: VM attach connections register on it and leave it. */
	d.loop = evloop_new();
	if (!d.loop || netd_dp_start(&d) < 0)
		abort();
	fprintf(stderr, "netd_control: %s\n", mode);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Before libFuzzer starts threads: unshare(CLONE_NEWNS) needs a
	 * single-threaded process. */
	setup();
	return 0;
}

/* The ids the requests carry, in order, as netd will see them. */
struct expect {
	json_int_t id[MAX_IDS];
	bool has_id[MAX_IDS];
	unsigned int n, next;
};

static void expect_ids(struct expect *e, const uint8_t *p, size_t len)
{
	size_t off = 0;

	e->n = e->next = 0;
	while (len - off >= LOOM_CONTROL_HDR_LEN && e->n < MAX_IDS) {
		uint32_t n = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
			     (uint32_t)p[off + 2] << 8 | p[off + 3];
		json_t *req, *id;

		if (n == 0 || n > LOOM_CONTROL_MSG_MAX) {
			e->has_id[e->n++] = false;	/* error, then closed */
			return;
		}
		if (len - off - LOOM_CONTROL_HDR_LEN < n)
			return;
		req = json_loadb((const char *)p + off + 4, n,
				 JSON_REJECT_DUPLICATES, NULL);
		id = json_object_get(req, "id");
		e->has_id[e->n] = json_is_object(req) && json_is_integer(id);
		e->id[e->n++] = json_integer_value(id);
		json_decref(req);
		off += LOOM_CONTROL_HDR_LEN + n;
	}
}

static bool known_code(const char *code)
{
	static const char *const codes[] = {
		LOOM_ERR_INVAL, LOOM_ERR_NOENT,	 LOOM_ERR_EXIST,
		LOOM_ERR_PROTO, LOOM_ERR_2BIG,	 LOOM_ERR_NOSYS,
		LOOM_ERR_OPNOTSUPP, LOOM_ERR_PERM, LOOM_ERR_NOSPC,
		LOOM_ERR_BUSY, LOOM_ERR_IO,	 LOOM_ERR_INTERNAL,
		LOOM_ERR_ADDRINUSE,
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (code && !strcmp(code, codes[i]))
			return true;
	return false;
}

/* Check and consume the reply frames queued on @c, as the client reads them. */
static void check_replies(struct client *c, struct expect *e)
{
	size_t off = 0;

	while (off < c->wlen) {
		uint32_t be, len;
		json_t *rep, *id, *ok, *err;

		if (c->wlen - off < 4)
			abort();
		memcpy(&be, c->wbuf + off, 4);
		len = ntohl(be);
		if (!len || len > LOOM_CONTROL_REPLY_MAX || c->wlen - off - 4 < len)
			abort();
		rep = json_loadb((const char *)c->wbuf + off + 4, len,
				 JSON_REJECT_DUPLICATES, NULL);
		id = json_object_get(rep, "id");
		ok = json_object_get(rep, "ok");
		err = json_object_get(rep, "error");
		if (!json_is_object(rep) || !json_is_boolean(ok))
			abort();
		if (e->next >= e->n)
			abort();	/* a reply nobody asked for */
		if (e->has_id[e->next] ?
			    !json_is_integer(id) ||
				    json_integer_value(id) != e->id[e->next] :
			    !json_is_null(id))
			abort();
		e->next++;
		if (json_is_true(ok) ?
			    !json_is_object(json_object_get(rep, "result")) :
			    !known_code(json_string_value(
				    json_object_get(err, "code"))) ||
				    !json_is_string(json_object_get(err, "message")))
			abort();
		json_decref(rep);
		off += 4 + len;
	}
	c->wlen = c->woff = 0;
}

/* One JSON client's whole stream, as client_event() serves it: read what
 * fits, handle the complete requests, let the client read the replies. */
static void run_client(const uint8_t *data, size_t size, size_t chunk)
{
	static struct expect e;
	struct client c;
	size_t off = 0;
	unsigned int rounds = 0;

	memset(&c, 0, sizeof(c));
	c.fd = -1;
	c.used = true;
	c.sniffed = true;
	c.rbuf = malloc(LOOM_CONTROL_HDR_LEN + LOOM_CONTROL_MSG_MAX);
	if (!c.rbuf)
		abort();
	if (!chunk)
		chunk = size;
	expect_ids(&e, data, size);
	while (off < size && !c.closing && rounds++ < MAX_ROUNDS) {
		size_t room = LOOM_CONTROL_HDR_LEN + LOOM_CONTROL_MSG_MAX - c.rlen;
		size_t n = size - off < chunk ? size - off : chunk;

		if (n > room)
			n = room;
		memcpy(c.rbuf + c.rlen, data + off, n);
		c.rlen += n;
		off += n;
		do {
			if (client_process(&d, &c) < 0)
				goto out;
			check_replies(&c, &e);
		} while (client_has_request(&c) && rounds++ < MAX_ROUNDS);
	}
out:
	free(c.rbuf);
	free(c.wbuf);
}

/*
 * A VMM's NIC attaching: a connection whose first bytes are @data (then
 * EOF), sniffed as control.c does it; an attach request makes a VM port.
 * The "VMM" then takes netd's reply and the fds it carries.
 */
static void run_attach(const uint8_t *data, size_t size)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * SHM_FD_COUNT)];
	} cm;
	uint8_t rep[64];
	struct iovec iov = { rep, sizeof(rep) };
	struct msghdr mh = { 0 };
	struct cmsghdr *ch;
	struct client c;
	int sv[2], r, fds[SHM_FD_COUNT], nfds = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	if (size && send(sv[1], data, size, MSG_DONTWAIT) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	memset(&c, 0, sizeof(c));
	c.fd = sv[0];
	c.used = true;
	c.rbuf = malloc(LOOM_CONTROL_HDR_LEN + LOOM_CONTROL_MSG_MAX);
	if (!c.rbuf)
		abort();
	d.nclients++;
	r = client_sniff(&d, &c);
	if (r != 1)
		client_free(&d, &c);	/* JSON or junk: not this test */
	/* netd's answer: a port comes with exactly its fds, else none. */
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	if (recvmsg(sv[1], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) >= 0) {
		for (ch = CMSG_FIRSTHDR(&mh); ch; ch = CMSG_NXTHDR(&mh, ch)) {
			size_t k = (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k && nfds < SHM_FD_COUNT; i++)
				memcpy(&fds[nfds++],
				       CMSG_DATA(ch) + i * sizeof(int),
				       sizeof(int));
		}
	}
	if ((r == 1) != (nfds == SHM_FD_COUNT))
		abort();
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk;

	if (size < 1)
		return 0;
	setup();
#ifdef FUZZ_CORPUS
	/* make check's replay: a handler that blocks (a thread holding the
	 * data-path lock, a kernel wait) fails the test instead of hanging
	 * it. libFuzzer has -timeout, on the same signal. */
	alarm(REPLAY_TIMEOUT_SECS);
#endif
	chunk = data[0] & 0x7f ? (size_t)(data[0] & 0x7f) + 1 : 0;
	if (!(data[0] & 0x80)) {
		run_client(data + 1, size - 1, chunk);
	} else {
		/* Clients and attaching VMMs taking turns. */
		data++;
		size--;
		while (size >= 2) {
			size_t n = (size_t)(data[0] | data[1] << 8);

			data += 2;
			size -= 2;
			n = n < size ? n : size;
			run_client(data, n, chunk);
			data += n;
			size -= n;
			n = size < ATTACH_BYTES ? size : ATTACH_BYTES;
			if (n)
				run_attach(data, n);
			data += n;
			size -= n;
		}
	}
	netd_shutdown(&d);
	d.nclients = 0;
	fd_check_no_leak();
#ifdef FUZZ_CORPUS
	alarm(0);
#endif
	return 0;
}
