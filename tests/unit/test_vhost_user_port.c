/* SPDX-License-Identifier: MIT */
/* test_vhost_user_port.c - the vhost-user port through a real switch, driven by a synthetic front end (QEMU's side: socket, memfd, real rings), hostile ones included. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/registry.h"
#include "backends/vhost_user.h"
#include "backends/vhost_user_msg.h"
#include "switch/switch.h"
#include "tests/unit/test_switch_port.h"

/* Front-end memory: one sealed memfd region at this guest address. */
enum {
	MEM_SIZE = 1 << 20,
	GPA = 0x100000,
	QN = 256, /* ring size */
	RX_DESC = 0x0000, RX_AVAIL = 0x1000, RX_USED = 0x2000,
	TX_DESC = 0x4000, TX_AVAIL = 0x5000, TX_USED = 0x6000,
	RX_BUF = 0x10000, RX_BUF_LEN = 2048, /* 16 of them */
	TX_BUF = 0x40000,
	HDR = 12,
};

static const uint8_t mac_v[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56}; /* the guest */
static const uint8_t mac_t[6] = {0x02, 0, 0, 0, 0, 0x0b};	     /* tport */
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct fe {
	int sock;
	int memfd;
	uint8_t *mem;
	int kick[2], call[2];
	uint16_t tx_avail, rx_avail;
};

struct ctx {
	char path[108];
	struct switch_core *sw;
	struct tport *tp;
	struct port *vp;
	int vid;
	struct fe fe;
};

static void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static uint64_t uva(struct fe *fe, uint64_t off)
{
	return (uint64_t)(uintptr_t)fe->mem + off;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static struct vhost_user_port_status status(struct ctx *c)
{
	struct vhost_user_port_status st;

	vhost_user_port_status_get(c->vp, &st);
	return st;
}

/* Wait (bounded) until the port's status satisfies @what. */
#define WAIT_FOR(c, what)                                               \
	do {                                                            \
		struct vhost_user_port_status st_;                      \
		int n_;                                                 \
		for (n_ = 0; n_ < 5000; n_++) {                         \
			st_ = status(c);                                \
			if (what)                                       \
				break;                                  \
			sleep_ms(1);                                    \
		}                                                       \
		assert_true(n_ < 5000);                                 \
	} while (0)

static int fe_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send one message (header flags: version 1 | @flags) with @nfds fds. */
static void fe_send(int sock, uint32_t req, uint32_t flags, const void *pl,
		    uint32_t len, const int *fds, unsigned int nfds)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + 512];
	union {
		char b[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr a;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = VHOST_USER_HDR_SIZE + len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	uint32_t f = VHOST_USER_VERSION | flags;

	memcpy(buf, &req, 4);
	memcpy(buf + 4, &f, 4);
	memcpy(buf + 8, &len, 4);
	if (len)
		memcpy(buf + VHOST_USER_HDR_SIZE, pl, len);
	if (nfds) {
		struct cmsghdr *cm;

		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)iov.iov_len);
}

/* Read a reply to @req: its payload into @out (@len bytes). */
static void fe_reply(int sock, uint32_t req, void *out, uint32_t len)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + 64];
	uint32_t r, f, size;

	assert_int_equal(recv(sock, buf, VHOST_USER_HDR_SIZE + len, MSG_WAITALL),
			 VHOST_USER_HDR_SIZE + len);
	memcpy(&r, buf, 4);
	memcpy(&f, buf + 4, 4);
	memcpy(&size, buf + 8, 4);
	assert_int_equal(r, req);
	assert_int_equal(f, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY);
	assert_int_equal(size, len);
	memcpy(out, buf + VHOST_USER_HDR_SIZE, len);
}

/* A request with REPLY_ACK: returns the back end's answer (0 ok). */
static uint64_t fe_ack(int sock, uint32_t req, const void *pl, uint32_t len,
		       const int *fds, unsigned int nfds)
{
	uint64_t a = 99;

	fe_send(sock, req, VHOST_USER_FLAG_NEED_REPLY, pl, len, fds, nfds);
	fe_reply(sock, req, &a, 8);
	return a;
}

static uint64_t fe_u64(int sock, uint32_t req)
{
	uint64_t v;

	fe_send(sock, req, 0, NULL, 0, NULL, 0);
	fe_reply(sock, req, &v, 8);
	return v;
}

/* The back end closed the connection (after any reply we skip). */
static void fe_expect_eof(int sock)
{
	uint8_t b[64];
	ssize_t r;

	do
		r = recv(sock, b, sizeof(b), 0);
	while (r > 0);
	assert_int_equal(r, 0);
}

static void fe_mem_table(struct fe *fe, struct vhost_user_memory *m)
{
	memset(m, 0, sizeof(*m));
	m->nregions = 1;
	m->regions[0].gpa = GPA;
	m->regions[0].size = MEM_SIZE;
	m->regions[0].uva = uva(fe, 0);
	m->regions[0].mmap_offset = 0;
}

static void fe_vring(struct fe *fe, uint32_t idx, uint64_t desc,
		     uint64_t avail, uint64_t used)
{
	struct vhost_user_vring_state st = {.index = idx, .num = QN};
	struct vhost_user_vring_addr a = {.index = idx,
					  .desc_uva = uva(fe, desc),
					  .avail_uva = uva(fe, avail),
					  .used_uva = uva(fe, used)};
	uint64_t w = idx;

	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_VRING_NUM, &st,
				sizeof(st), NULL, 0), 0);
	st.num = 0;
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_VRING_BASE, &st,
				sizeof(st), NULL, 0), 0);
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_VRING_ADDR, &a,
				sizeof(a), NULL, 0), 0);
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_VRING_KICK, &w,
				sizeof(w), &fe->kick[idx], 1), 0);
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_VRING_CALL, &w,
				sizeof(w), &fe->call[idx], 1), 0);
	st.num = 1;
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_VRING_ENABLE, &st,
				sizeof(st), NULL, 0), 0);
}

/* QEMU's start-up sequence, up to both rings running. */
static void fe_start(struct ctx *c)
{
	struct fe *fe = &c->fe;
	struct vhost_user_memory m;
	uint64_t feat, pf;

	memset(fe->mem, 0, MEM_SIZE);
	fe->tx_avail = fe->rx_avail = 0;
	fe->sock = fe_connect(c->path);
	feat = fe_u64(fe->sock, VHOST_USER_GET_FEATURES);
	assert_true(feat & (1ull << 32)); /* VERSION_1 */
	assert_true(feat & (1ull << 15)); /* MRG_RXBUF */
	assert_true(feat & (1ull << 30)); /* PROTOCOL_FEATURES */
	assert_false(feat & 1);		  /* no CSUM */
	pf = fe_u64(fe->sock, VHOST_USER_GET_PROTOCOL_FEATURES);
	assert_true(pf & (1ull << 3)); /* REPLY_ACK */
	assert_false(pf & 1);	       /* no MQ */
	fe_send(fe->sock, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0);
	fe_send(fe->sock, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0);
	feat &= (1ull << 32) | (1ull << 15) | (1ull << 30);
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_FEATURES, &feat, 8,
				NULL, 0), 0);
	fe_mem_table(fe, &m);
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_MEM_TABLE, &m,
				8 + 32, &fe->memfd, 1), 0);
	fe_vring(fe, 0, RX_DESC, RX_AVAIL, RX_USED);
	fe_vring(fe, 1, TX_DESC, TX_AVAIL, TX_USED);
	WAIT_FOR(c, st_.running);
}

static void mkframe(uint8_t *buf, uint32_t len, const uint8_t *dst,
		    const uint8_t *src, uint8_t seq)
{
	memset(buf, seq, len);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = 0x88;
	buf[13] = 0xb5;
}

/* The guest transmits one frame (header + frame in one descriptor). */
static void fe_tx(struct fe *fe, const uint8_t *frame, uint32_t len)
{
	uint16_t slot = fe->tx_avail % QN;
	uint64_t buf = TX_BUF + (uint64_t)slot * 2048;
	uint8_t *d = fe->mem + TX_DESC + 16 * slot;

	memset(fe->mem + buf, 0, HDR);
	memcpy(fe->mem + buf + HDR, frame, len);
	wr64(d, GPA + buf);
	wr32(d + 8, HDR + len);
	wr16(d + 12, 0);
	wr16(fe->mem + TX_AVAIL + 4 + 2 * slot, slot);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr16(fe->mem + TX_AVAIL + 2, ++fe->tx_avail);
	assert_int_equal(eventfd_write(fe->kick[1], 1), 0);
}

/* The guest posts @n receive buffers of RX_BUF_LEN bytes. */
static void fe_rx_post(struct fe *fe, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint16_t slot = fe->rx_avail % QN;
		uint8_t *d = fe->mem + RX_DESC + 16 * slot;

		wr64(d, GPA + RX_BUF + (uint64_t)(slot % 16) * RX_BUF_LEN);
		wr32(d + 8, RX_BUF_LEN);
		wr16(d + 12, 2); /* VIRTQ_DESC_F_WRITE */
		wr16(fe->mem + RX_AVAIL + 4 + 2 * slot, slot);
		fe->rx_avail++;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr16(fe->mem + RX_AVAIL + 2, fe->rx_avail);
}

static bool fd_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/* Run the switch (we are the data path) until @tp has @n frames. */
static void poll_until_rec(struct ctx *c, uint32_t n)
{
	for (int i = 0; i < 5000 && c->tp->n_rec < n; i++) {
		switch_poll(c->sw);
		if (c->tp->n_rec < n)
			sleep_ms(1);
	}
	assert_int_equal(c->tp->n_rec, n);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct switch_port_config cfg = {.mode = SWITCH_PORT_ACCESS,
					 .access_vlan = 1};
	struct port_decl d = {.type = "vhost-user", .network = "t",
			      .name = "vm0"};
	char err[256] = "";

	assert_non_null(c);
	snprintf(c->path, sizeof(c->path), "/tmp/loom-vu-test-%d.sock",
		 (int)getpid());
	unlink(c->path);
	c->sw = switch_create(NULL);
	c->tp = tport_new();
	assert_non_null(c->sw);
	snprintf(cfg.name, sizeof(cfg.name), "t0");
	assert_true(switch_port_open(c->sw, &tport_ops, c->tp, &cfg) >= 0);
	snprintf(cfg.name, sizeof(cfg.name), "vm0");
	d.path = c->path;
	c->vid = backend_port_create(c->sw, &d, &cfg, err, sizeof(err));
	if (c->vid < 0)
		fprintf(stderr, "%s\n", err);
	assert_true(c->vid >= 0);
	c->vp = switch_port_get(c->sw, (uint32_t)c->vid);
	assert_non_null(c->vp);

	c->fe.memfd = memfd_create("fe-mem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(c->fe.memfd >= 0);
	assert_int_equal(ftruncate(c->fe.memfd, MEM_SIZE), 0);
	assert_int_equal(fcntl(c->fe.memfd, F_ADD_SEALS,
			       F_SEAL_SHRINK | F_SEAL_GROW), 0);
	c->fe.mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 c->fe.memfd, 0);
	assert_true(c->fe.mem != MAP_FAILED);
	for (int i = 0; i < 2; i++) {
		c->fe.kick[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		c->fe.call[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	}
	c->fe.sock = -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	if (c->fe.sock >= 0)
		close(c->fe.sock);
	switch_destroy(c->sw); /* closes the vhost-user port */
	tport_free(c->tp);
	/* The socket file went with the port. */
	assert_int_equal(access(c->path, F_OK), -1);
	munmap(c->fe.mem, MEM_SIZE);
	close(c->fe.memfd);
	for (int i = 0; i < 2; i++) {
		close(c->fe.kick[i]);
		close(c->fe.call[i]);
	}
	free(c);
	return 0;
}

/* Frames both ways, kicks and calls, the link in the port's status. */
static void test_traffic(void **state)
{
	struct ctx *c = *state;
	struct fe *fe = &c->fe;
	uint8_t f[3000];
	char why[200] = "";
	uint8_t *h;

	assert_false(c->vp->ops->link(c->vp, why, sizeof(why)));
	assert_non_null(strstr(why, "waiting for a front end"));
	fe_start(c);
	assert_true(c->vp->ops->link(c->vp, why, sizeof(why)));

	/* Guest -> switch: a broadcast reaches the test port. */
	mkframe(f, 60, bcast, mac_v, 1);
	fe_tx(fe, f, 60);
	poll_until_rec(c, 1);
	assert_int_equal(c->tp->rec[0].len, 60);
	assert_memory_equal(c->tp->rec[0].data, f, 60);
	/* The chain came back used, and the guest was interrupted. */
	assert_int_equal(rd16(fe->mem + TX_USED + 2), 1);
	assert_true(fd_readable(fe->call[1]));

	/* Switch -> guest: the MAC was learnt, unicast lands in RX. */
	fe_rx_post(fe, 8);
	mkframe(f, 60, mac_v, mac_t, 2);
	tport_inject(c->tp, f, 60);
	for (int i = 0; i < 1000 && rd16(fe->mem + RX_USED + 2) < 1; i++)
		switch_poll(c->sw);
	assert_int_equal(rd16(fe->mem + RX_USED + 2), 1);
	assert_int_equal(rd32(fe->mem + RX_USED + 4 + 4), HDR + 60);
	h = fe->mem + RX_BUF;
	assert_int_equal(rd16(h + 10), 1); /* num_buffers */
	assert_int_equal(h[0], 0);
	assert_memory_equal(h + HDR, f, 60);
	assert_true(fd_readable(fe->call[0]));

	/* A 3000-byte frame takes two 2048-byte buffers (MRG_RXBUF). */
	mkframe(f, 3000, mac_v, mac_t, 3);
	tport_inject(c->tp, f, 3000);
	for (int i = 0; i < 1000 && rd16(fe->mem + RX_USED + 2) < 3; i++)
		switch_poll(c->sw);
	assert_int_equal(rd16(fe->mem + RX_USED + 2), 3);
	h = fe->mem + RX_BUF + 1 * RX_BUF_LEN;
	assert_int_equal(rd16(h + 10), 2);
	assert_memory_equal(h + HDR, f, RX_BUF_LEN - HDR);
	assert_memory_equal(fe->mem + RX_BUF + 2 * RX_BUF_LEN,
			    f + RX_BUF_LEN - HDR, 3000 - (RX_BUF_LEN - HDR));

	/* No buffers left for a frame: dropped and counted, nothing else. */
	fe_rx_post(fe, 0);
	{
		uint64_t before = status(c).rx_no_buffer;

		for (int k = 0; k < 6; k++) {
			mkframe(f, 60, mac_v, mac_t, 4);
			tport_inject(c->tp, f, 60);
		}
		for (int i = 0; i < 100; i++)
			switch_poll(c->sw);
		assert_true(status(c).rx_no_buffer > before);
	}

	/* arm() with nothing queued leaves the poll fd quiet; a kick
	 * wakes it. */
	for (int i = 0; i < 10; i++)
		switch_poll(c->sw);
	c->vp->ops->arm(c->vp);
	assert_false(fd_readable(c->vp->ops->poll_fd(c->vp)));
	mkframe(f, 60, bcast, mac_v, 5);
	fe_tx(fe, f, 60);
	assert_true(fd_readable(c->vp->ops->poll_fd(c->vp)));
	poll_until_rec(c, 2);

	/* GET_VRING_BASE stops the ring where it stood. */
	{
		struct vhost_user_vring_state st = {.index = 1};

		fe_send(fe->sock, VHOST_USER_GET_VRING_BASE, 0, &st,
			sizeof(st), NULL, 0);
		fe_reply(fe->sock, VHOST_USER_GET_VRING_BASE, &st, sizeof(st));
		assert_int_equal(st.index, 1);
		assert_int_equal(st.num, 2);
		WAIT_FOR(c, !st_.running && st_.connected);
	}
	/* A clean disconnect: link down, not a violation. */
	close(fe->sock);
	fe->sock = -1;
	WAIT_FOR(c, !st_.connected);
	assert_int_equal(status(c).ended, 0);
	assert_int_equal(status(c).sessions, 1);
	/* And a restarted front end gets a fresh session. */
	tport_clear(c->tp);
	fe_start(c);
	mkframe(f, 60, bcast, mac_v, 6);
	fe_tx(fe, f, 60);
	poll_until_rec(c, 1);
	assert_int_equal(status(c).sessions, 2);
}

/* After a violation: the session is gone, the switch still works and a
 * new front end is served. */
static void expect_session_lost(struct ctx *c, uint64_t ended)
{
	uint8_t f[60];
	char why[200] = "";

	fe_expect_eof(c->fe.sock);
	close(c->fe.sock);
	c->fe.sock = -1;
	WAIT_FOR(c, !st_.connected && st_.ended == ended);
	assert_false(c->vp->ops->link(c->vp, why, sizeof(why)));
	assert_non_null(strstr(why, "lost its session"));
	/* The other port is not disturbed: it still floods through. */
	mkframe(f, 60, bcast, mac_t, 9);
	tport_inject(c->tp, f, 60);
	for (int i = 0; i < 10; i++)
		switch_poll(c->sw);
	fe_start(c);
	close(c->fe.sock);
	c->fe.sock = -1;
	WAIT_FOR(c, !st_.connected);
}

static void test_hostile_messages(void **state)
{
	struct ctx *c = *state;
	struct fe *fe = &c->fe;
	struct vhost_user_memory m;
	uint64_t ended = 0, v;
	int fds[2], other;

	/* A malformed header (version 2): no reply, connection closed. */
	fe->sock = fe_connect(c->path);
	fe_send(fe->sock, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0);
	fe_reply(fe->sock, VHOST_USER_GET_FEATURES, &v, 8);
	{
		uint8_t bad[12] = {1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0};

		assert_int_equal(send(fe->sock, bad, 12, 0), 12);
	}
	expect_session_lost(c, ++ended);

	/* A size claim past any message: refused before reading it. */
	fe->sock = fe_connect(c->path);
	{
		uint8_t bad[12] = {5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40};

		assert_int_equal(send(fe->sock, bad, 12, 0), 12);
	}
	expect_session_lost(c, ++ended);

	/* Overlapping regions: a failed ack, then the session ends. */
	fe->sock = fe_connect(c->path);
	fe_mem_table(fe, &m);
	m.nregions = 2;
	m.regions[1] = m.regions[0];
	m.regions[1].uva += MEM_SIZE;
	fds[0] = fds[1] = fe->memfd;
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_MEM_TABLE, &m,
				8 + 2 * 32, fds, 2), 1);
	expect_session_lost(c, ++ended);

	/* A huge region. */
	fe->sock = fe_connect(c->path);
	fe_mem_table(fe, &m);
	m.regions[0].size = 1ull << 41;
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_MEM_TABLE, &m,
				8 + 32, &fe->memfd, 1), 1);
	expect_session_lost(c, ++ended);

	/* An fd that can shrink under netd (not sealed). */
	fe->sock = fe_connect(c->path);
	{
		int un = memfd_create("unsealed", MFD_CLOEXEC);

		assert_int_equal(ftruncate(un, MEM_SIZE), 0);
		fe_mem_table(fe, &m);
		assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_MEM_TABLE, &m,
					8 + 32, &un, 1), 1);
		close(un);
	}
	expect_session_lost(c, ++ended);

	/* A ring outside the memory table: refused at the kick. */
	fe->sock = fe_connect(c->path);
	fe_mem_table(fe, &m);
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_MEM_TABLE, &m, 8 + 32,
				&fe->memfd, 1), 0);
	{
		struct vhost_user_vring_state st = {.index = 1, .num = QN};
		struct vhost_user_vring_addr a = {
		    .index = 1, .desc_uva = uva(fe, MEM_SIZE - 64),
		    .avail_uva = uva(fe, TX_AVAIL), .used_uva = uva(fe, TX_USED)};
		uint64_t w = 1;

		assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_VRING_NUM, &st,
					sizeof(st), NULL, 0), 0);
		assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_VRING_ADDR,
					&a, sizeof(a), NULL, 0), 0);
		assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_VRING_KICK,
					&w, sizeof(w), &fe->kick[1], 1), 1);
	}
	expect_session_lost(c, ++ended);

	/* Features it never offered. */
	fe->sock = fe_connect(c->path);
	v = 1; /* VIRTIO_NET_F_CSUM */
	assert_int_equal(fe_ack(fe->sock, VHOST_USER_SET_FEATURES, &v, 8, NULL,
				0), 1);
	expect_session_lost(c, ++ended);

	/* Logging (migration) was not offered either. */
	fe->sock = fe_connect(c->path);
	fe_send(fe->sock, VHOST_USER_SET_LOG_FD, 0, NULL, 0, &fe->memfd, 1);
	expect_session_lost(c, ++ended);

	/* A request the parser does not know. */
	fe->sock = fe_connect(c->path);
	fe_send(fe->sock, 40, 0, NULL, 0, NULL, 0);
	expect_session_lost(c, ++ended);

	/* Half a header, then silence: dropped after the I/O timeout. */
	fe->sock = fe_connect(c->path);
	{
		uint8_t half[6] = {1, 0, 0, 0, 1, 0};

		assert_int_equal(send(fe->sock, half, sizeof(half), 0), 6);
	}
	expect_session_lost(c, ++ended);
	assert_non_null(strstr(status(c).error, "stalled"));

	/* A second front end while one is connected is turned away. */
	fe_start(c);
	other = fe_connect(c->path);
	fe_expect_eof(other);
	close(other);
	assert_true(status(c).running);
	close(fe->sock);
	fe->sock = -1;
}

/* A guest breaking its ring on the data path loses its session. */
static void test_hostile_ring(void **state)
{
	struct ctx *c = *state;
	struct fe *fe = &c->fe;
	uint8_t f[60];

	fe_start(c);
	/* avail idx runs more than a ring ahead: a lie (virtq.c). */
	wr16(fe->mem + TX_AVAIL + 2, QN + 5);
	assert_int_equal(eventfd_write(fe->kick[1], 1), 0);
	for (int i = 0; i < 10; i++)
		switch_poll(c->sw);
	expect_session_lost(c, 1);

	/* A transmit chain with a bogus offload header is dropped and
	 * counted; the session goes on. */
	fe_start(c);
	mkframe(f, 60, bcast, mac_v, 1);
	fe_tx(fe, f, 60);
	fe->mem[TX_BUF + 1] = 4; /* gso_type TCPV6, never negotiated */
	for (int i = 0; i < 100 && rd16(fe->mem + TX_USED + 2) < 1; i++)
		switch_poll(c->sw);
	assert_int_equal(rd16(fe->mem + TX_USED + 2), 1);
	assert_int_equal(status(c).tx_bad, 1);
	assert_int_equal(c->tp->n_rec, 0);
	assert_true(status(c).running);
}

/* What the socket path may be. */
static void test_path(void **state)
{
	struct switch_core *sw = switch_create(NULL);
	struct switch_port_config cfg = {.mode = SWITCH_PORT_ACCESS,
					 .access_vlan = 1};
	struct port_decl d = {.type = "vhost-user", .network = "t",
			      .name = "p"};
	char err[256] = "", path[108];
	int fd, id;

	assert_non_null(sw);
	snprintf(cfg.name, sizeof(cfg.name), "p");
	assert_int_equal(backend_port_create(sw, &d, &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "needs a path"));
	/* A regular file is not ours to replace. */
	snprintf(path, sizeof(path), "/tmp/loom-vu-path-%d", (int)getpid());
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	d.path = path;
	assert_int_equal(backend_port_create(sw, &d, &cfg, err, sizeof(err)),
			 -EEXIST);
	unlink(path);
	/* A live socket neither; a dead one is replaced. */
	id = backend_port_create(sw, &d, &cfg, err, sizeof(err));
	assert_true(id >= 0);
	snprintf(cfg.name, sizeof(cfg.name), "q");
	d.name = "q";
	assert_int_equal(backend_port_create(sw, &d, &cfg, err, sizeof(err)),
			 -EADDRINUSE);
	assert_non_null(strstr(err, "listens on"));
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		switch_port_remove(sw, (uint32_t)id);
		assert_int_equal(access(path, F_OK), -1);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(s); /* a dead socket file stays behind */
	}
	id = backend_port_create(sw, &d, &cfg, err, sizeof(err));
	assert_true(id >= 0);
	switch_destroy(sw);
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_traffic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_messages, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_ring, setup, teardown),
	    cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
