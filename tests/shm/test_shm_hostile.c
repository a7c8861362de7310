/* SPDX-License-Identifier: MIT */
/* test_shm_hostile.c - a hostile shm peer loses only its own port. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>

#include "backends/shm.h"
#include "common/log.h"
#include "common/shm_peer.h"
#include "common/shm_ring.h"
#include "common/shm_sock.h"
#include "switch/switch.h"

enum { GOOD_A, GOOD_B, HOSTILE, NPORTS };

static const uint8_t macs[NPORTS][6] = {
    {0x52, 0x54, 0, 0, 0, 0xa},
    {0x52, 0x54, 0, 0, 0, 0xb},
    {0x52, 0x54, 0, 0, 0, 0xe},
};

struct world {
	struct switch_core *sw;
	struct shm_peer peer[NPORTS];
	int id[NPORTS];
	int events;	/* port_event calls */
	int event_port; /* last port reported broken */
	int event_err;
	uint32_t seq;
};

static void on_port_event(void *arg, uint32_t port_id, int err)
{
	struct world *w = arg;

	w->events++;
	w->event_port = (int)port_id;
	w->event_err = err;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)))
		n++;
	closedir(d);
	return n;
}

static void port_plug(struct world *w, int which, uint64_t features)
{
	struct shm_attach_req req;
	struct shm_port_config cfg = {.features = SHM_F_ALL};
	struct switch_port_config pc = {
	    .mode = SWITCH_PORT_ACCESS, .access_vlan = 1, .accepts_gso = true};
	struct shm_port_args args;
	struct shm_peer *p = &w->peer[which];
	int memfd;

	assert_int_equal(shm_attach_req_init(&req, "lan0", macs[which],
					     SHM_NIC_VIRTIO_NET, features),
			 0);
	assert_int_equal(shm_port_create(&req, &cfg, &args, &memfd), 0);
	memset(p, 0, sizeof(*p));
	assert_int_equal(shm_peer_map(memfd, p), 0);
	close(memfd);
	p->kick_netd = dup(args.kick_netd);
	p->kick_peer = dup(args.kick_peer);
	snprintf(pc.name, sizeof(pc.name), "vm%d", which);
	w->id[which] = switch_port_open(w->sw, &shm_port_ops, &args, &pc);
	assert_true(w->id[which] >= 0);
}

static void port_unplug(struct world *w, int which)
{
	assert_int_equal(switch_port_remove(w->sw, (uint32_t)w->id[which]), 0);
	shm_peer_close(&w->peer[which]);
}

static void frame_make(uint8_t *f, uint32_t len, int from, int to, uint32_t seq)
{
	memset(f, 0, len);
	memcpy(f, macs[to], 6);
	memcpy(f + 6, macs[from], 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memcpy(f + 14, &seq, 4);
}

/* Drain everything queued for @which; return frames, check their order. */
static int peer_drain(struct shm_peer *p, uint32_t *expect)
{
	int total = 0, n;

	while ((n = shm_cons_peek(&p->rx)) > 0) {
		for (int i = 0; i < n; i++) {
			struct shm_desc d;
			const uint8_t *f =
			    shm_cons_get(&p->rx, (uint32_t)i, &d, NULL);
			uint32_t seq;

			assert_non_null(f);
			memcpy(&seq, f + 14, 4);
			if (expect)
				assert_int_equal(seq, (*expect)++);
		}
		shm_cons_release(&p->rx, (uint32_t)n);
		total += n;
	}
	assert_true(n >= 0);
	return total;
}

/* A sends 100 frames to B through the switch; all arrive in order. */
static void good_traffic(struct world *w)
{
	uint8_t f[60];
	uint32_t expect = w->seq;
	int got = 0;

	for (int i = 0; i < 100; i++) {
		frame_make(f, sizeof(f), GOOD_A, GOOD_B, w->seq++);
		assert_int_equal(shm_peer_send(&w->peer[GOOD_A], f, 60, NULL),
				 0);
	}
	shm_peer_flush(&w->peer[GOOD_A]);
	for (int r = 0; r < 10; r++)
		switch_poll(w->sw);
	got = peer_drain(&w->peer[GOOD_B], &expect);
	assert_int_equal(got, 100);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct switch_config cfg = {.port_event = on_port_event,
				    .event_arg = w};
	uint8_t f[60];

	log_max_level = LOG_ERR; /* the rate-limited warnings are expected */
	w->sw = switch_create(&cfg);
	assert_non_null(w->sw);
	port_plug(w, GOOD_A, SHM_F_ALL);
	port_plug(w, GOOD_B, SHM_F_ALL);
	/* B speaks first so the switch learns it. */
	frame_make(f, 60, GOOD_B, GOOD_A, 0);
	assert_int_equal(shm_peer_send(&w->peer[GOOD_B], f, 60, NULL), 0);
	shm_peer_flush(&w->peer[GOOD_B]);
	switch_poll(w->sw);
	peer_drain(&w->peer[GOOD_A], NULL);
	good_traffic(w);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	port_unplug(w, GOOD_A);
	port_unplug(w, GOOD_B);
	switch_destroy(w->sw);
	free(w);
	return 0;
}

/* What a hostile peer does to its own region. */
struct attack {
	const char *name;
	void (*fn)(struct shm_peer *p, uint32_t arg);
	uint32_t arg;
	uint64_t features;
};

static struct shm_ring *ring_of(struct shm_peer *p, enum shm_dir d)
{
	return (struct shm_ring *)((uint8_t *)p->base + p->layout.ring_off[d]);
}

static struct shm_slot *slots_of(struct shm_peer *p, enum shm_dir d)
{
	return (struct shm_slot *)((uint8_t *)p->base + p->layout.slots_off[d]);
}

/* One well-formed frame to B, then corrupt its slot field @arg. */
static void send_one(struct shm_peer *p, const struct shm_desc *off)
{
	uint8_t f[200];

	frame_make(f, sizeof(f), HOSTILE, GOOD_B, 0);
	assert_int_equal(shm_peer_send(p, f, sizeof(f), off), 0);
}

static void publish_raw(struct shm_peer *p, uint32_t prod)
{
	__atomic_store_n(&ring_of(p, SHM_TO_NETD)->prod, prod,
			 __ATOMIC_RELEASE);
}

static void atk_prod_too_far(struct shm_peer *p, uint32_t arg)
{
	publish_raw(p,
		    ring_of(p, SHM_TO_NETD)->cons + p->layout.ring_size + arg);
}

static void atk_prod_backwards(struct shm_peer *p, uint32_t arg)
{
	/* 100 frames published; the switch takes 64 of them and sees 100. */
	for (int i = 0; i < 100; i++)
		send_one(p, NULL);
	shm_peer_flush(p);
}

static void atk_slot(struct shm_peer *p, uint32_t field)
{
	struct shm_slot *s;
	uint32_t idx = p->tx.prod;

	send_one(p, NULL);
	s = &slots_of(p, SHM_TO_NETD)[idx & (p->layout.ring_size - 1)];
	switch (field) {
	case 0:
		s->len = 0;
		break;
	case 1:
		s->len = 13;
		break;
	case 2:
		s->len = 1u << 20;
		break;
	case 3:
		s->len = SHM_FRAME_MAX + 1;
		break;
	case 4:
		s->off = p->layout.data_size;
		break;
	case 5:
		s->off = p->layout.data_size - 100;
		break;
	case 6:
		s->off = 0xfffffff0u;
		s->len = 100;
		break;
	case 7:
		s->flags = 1;
		break;
	case 8:
		s->reserved[2] = 5;
		break;
	case 9:
		s->vnet_flags = SHM_VNET_F_NEEDS_CSUM;
		s->csum_start = 190;
		s->csum_offset = 16;
		break;
	case 10:
		s->hdr_len = 201;
		break;
	case 11:
		s->gso_type = 9;
		s->gso_size = 100;
		break;
	case 12:
		s->gso_type = SHM_VNET_GSO_TCPV4;
		s->gso_size = 0;
		break;
	case 13:
		s->gso_type = SHM_VNET_GSO_TCPV4;
		s->gso_size = 1448;
		break;
	case 14:
		s->vnet_flags = 0x80;
		break;
	case 15:
		s->gso_type = SHM_VNET_GSO_ECN;
		break;
	}
	shm_peer_flush(p);
}

static void atk_garbage(struct shm_peer *p, uint32_t seed)
{
	uint8_t *slots = (uint8_t *)slots_of(p, SHM_TO_NETD);
	size_t n = (size_t)p->layout.ring_size * sizeof(struct shm_slot);

	srand(seed);
	for (size_t i = 0; i < n; i++)
		slots[i] = (uint8_t)rand();
	publish_raw(p, (uint32_t)rand());
	ring_of(p, SHM_TO_NETD)->cons_event = (uint32_t)rand();
}

/* The hostile peer as consumer: it "consumes" more than netd published. */
static void atk_cons_too_far(struct shm_peer *p, uint32_t arg)
{
	__atomic_store_n(&ring_of(p, SHM_TO_PEER)->cons,
			 ring_of(p, SHM_TO_PEER)->prod + 1 + arg,
			 __ATOMIC_RELEASE);
}

static void run_attack(void **state, const struct attack *a)
{
	struct world *w = *state;
	uint8_t f[60];

	port_plug(w, HOSTILE, a->features);
	/* Healthy first: it talks and is learned. */
	frame_make(f, 60, HOSTILE, GOOD_A, 0);
	shm_peer_send(&w->peer[HOSTILE], f, 60, NULL);
	shm_peer_flush(&w->peer[HOSTILE]);
	switch_poll(w->sw);
	peer_drain(&w->peer[GOOD_A], NULL);
	w->events = 0;

	a->fn(&w->peer[HOSTILE], a->arg);
	/* One round: the switch takes 64 frames and has seen the index. */
	switch_poll(w->sw);
	if (a->fn != atk_prod_backwards)
		for (int r = 0; r < 3; r++)
			switch_poll(w->sw);
	if (a->fn == atk_prod_backwards) {
		assert_int_equal(w->events, 0);
		/* Now move prod back below what netd saw. */
		publish_raw(&w->peer[HOSTILE], w->peer[HOSTILE].tx.prod - 30);
		for (int r = 0; r < 4; r++)
			switch_poll(w->sw);
	}
	if (a->fn == atk_cons_too_far) {
		/*
		 * netd reads the consumer index only when its shadow says
		 * the ring is full: flood the port until it does.
		 */
		uint8_t bc[60];

		frame_make(bc, 60, GOOD_A, GOOD_B, 0);
		memset(bc, 0xff, 6);
		for (int r = 0; r < 12 && !w->events; r++) {
			for (int i = 0; i < 64; i++)
				shm_peer_send(&w->peer[GOOD_A], bc, 60, NULL);
			shm_peer_flush(&w->peer[GOOD_A]);
			switch_poll(w->sw);
			switch_poll(w->sw);
			peer_drain(&w->peer[GOOD_B], NULL);
		}
	}
	/* Whatever the hostile port got through before it broke. */
	peer_drain(&w->peer[GOOD_A], NULL);
	peer_drain(&w->peer[GOOD_B], NULL);
	if (a->fn == atk_garbage) {
		/* Random garbage may happen to be valid: then it forwards. */
		assert_true(w->events <= 1);
	} else {
		assert_int_equal(w->events, 1);
		assert_int_equal(w->event_port, w->id[HOSTILE]);
		assert_int_equal(w->event_err, -EPROTO);
	}
	/* The others carry on, and keep doing so after the removal. */
	good_traffic(w);
	port_unplug(w, HOSTILE);
	good_traffic(w);
}

#define ATTACK(fn_, arg_)                                                      \
	{                                                                      \
#fn_ "/" #arg_, fn_, arg_, SHM_F_CSUM | SHM_F_GSO_UDP          \
	}

static void test_bad_indices(void **state)
{
	static const struct attack a[] = {
	    ATTACK(atk_prod_too_far, 1),
	    ATTACK(atk_prod_too_far, 0x7fffffff),
	    ATTACK(atk_prod_backwards, 0),
	    ATTACK(atk_cons_too_far, 1000),
	    ATTACK(atk_cons_too_far, 0x80000000u),
	};

	for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		print_message("attack %s\n", a[i].name);
		run_attack(state, &a[i]);
	}
}

static void test_bad_slots(void **state)
{
	for (uint32_t field = 0; field <= 15; field++) {
		struct attack a = ATTACK(atk_slot, field);

		print_message("attack slot field %u\n", field);
		run_attack(state, &a);
	}
}

static void test_garbage(void **state)
{
	for (uint32_t seed = 1; seed <= 40; seed++) {
		struct attack a = ATTACK(atk_garbage, seed);

		run_attack(state, &a);
	}
}

/* A peer that never reads its ring cannot stall anyone: netd drops. */
static void test_peer_stops_reading(void **state)
{
	struct world *w = *state;
	struct switch_port_stats st;
	uint8_t f[60];

	port_plug(w, HOSTILE, 0);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 64; i++) {
			frame_make(f, 60, GOOD_A, GOOD_B, 0);
			memset(f, 0xff, 6); /* broadcast: H gets a copy */
			shm_peer_send(&w->peer[GOOD_A], f, 60, NULL);
		}
		shm_peer_flush(&w->peer[GOOD_A]);
		switch_poll(w->sw);
		peer_drain(&w->peer[GOOD_B], NULL);
	}
	assert_int_equal(
	    switch_port_stats_get(w->sw, (uint32_t)w->id[HOSTILE], &st), 0);
	assert_true(st.drops[SWITCH_DROP_TX_FULL] > 0);
	good_traffic(w);
	port_unplug(w, HOSTILE);
}

/* Set-up attacks: each is rejected, no fd leaks, the switch carries on. */
static void send_raw(int sock, const void *buf, size_t len, int nfds)
{
	union {
		char b[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[16];

	assert_true(nfds <= 16);
	for (int i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nfds) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.b;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

struct setup_attack {
	const char *name;
	int nfds;     /* fds sent along */
	int truncate; /* bytes of the request actually sent (0: all) */
	int mangle;   /* which field to break */
	int expect;   /* errno shm_port_read_attach returns */
};

static void test_attach_attacks(void **state)
{
	static const struct setup_attack atk[] = {
	    {"one extra fd", 1, 0, 0, -EPROTO},
	    {"three fds", 3, 0, 0, -EPROTO},
	    {"16 fds: truncated control message", 16, 0, 0, -EPROTO},
	    {"short request then close", 0, 50, 0, -EPROTO},
	    {"short request with fds", 2, 50, 0, -EPROTO},
	    {"nothing then close", 0, -1, 0, -ECONNRESET},
	    {"bad magic", 0, 0, 1, -EPROTO},
	    {"other version", 0, 0, 2, -EPROTONOSUPPORT},
	    {"unterminated name", 0, 0, 3, -EPROTO},
	    {"multicast MAC", 0, 0, 4, -EPROTO},
	    {"unknown feature", 0, 0, 5, -EPROTO},
	    {"bad ring size", 0, 0, 6, -EPROTO},
	    {"name with a slash", 0, 0, 7, -EPROTO},
	    {"reserved set", 0, 0, 8, -EPROTO},
	};
	struct world *w = *state;

	for (size_t i = 0; i < sizeof(atk) / sizeof(atk[0]); i++) {
		const struct setup_attack *a = &atk[i];
		struct shm_attach_req req, got;
		int sv[2], before, rc;

		print_message("attach attack: %s\n", a->name);
		assert_int_equal(
		    shm_attach_req_init(&req, "lan0", macs[HOSTILE], 1, 0), 0);
		switch (a->mangle) {
		case 1:
			req.magic ^= 1;
			break;
		case 2:
			req.version = 99;
			break;
		case 3:
			memset(req.network, 'a', sizeof(req.network));
			break;
		case 4:
			req.mac[0] |= 1;
			break;
		case 5:
			req.features = 1ull << 40;
			break;
		case 6:
			req.ring_size = 100;
			break;
		case 7:
			strcpy(req.network, "../x");
			break;
		case 8:
			req.reserved1 = 1;
			break;
		}
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		before = count_fds();
		if (a->truncate >= 0)
			send_raw(sv[1], &req,
				 a->truncate ? (size_t)a->truncate
					     : sizeof(req),
				 a->nfds);
		if (a->truncate)
			shutdown(sv[1], SHUT_WR);
		rc = shm_port_read_attach(sv[0], 1000, &got);
		assert_int_equal(rc, a->expect);
		/* Every fd that rode along was closed by the receiver. */
		assert_int_equal(count_fds(), before);
		close(sv[0]);
		close(sv[1]);
		good_traffic(w);
	}
}

/* A peer that sends half a request and stalls: bounded by the timeout. */
static void test_attach_stall(void **state)
{
	struct shm_attach_req req;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	send_raw(sv[1], "LHTA", 4, 0);
	assert_int_equal(shm_port_read_attach(sv[0], 50, &req), -ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
	good_traffic(*state);
}

/*
 * The other direction: a hostile netd (or anything on the socket) cannot
 * make the peer library map a bad region or keep stray fds.
 */
struct fake_netd {
	int sock;
	int mode;
};

static int make_memfd(size_t size, bool seal, bool valid_header)
{
	int fd = memfd_create("fake", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct shm_layout l;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (valid_header) {
		void *b =
		    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		assert_int_equal(
		    shm_layout_compute(&l, 512, SHM_DATA_SIZE_DEFAULT, 0), 0);
		shm_header_write(b, &l, macs[0]);
		munmap(b, size);
	}
	if (seal)
		fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
	return fd;
}

static void *fake_netd_run(void *arg)
{
	struct fake_netd *fn = arg;
	struct shm_attach_req req;
	struct shm_attach_reply rep = {.magic = SHM_ATTACH_MAGIC,
				       .version = SHM_PORT_VERSION,
				       .size = sizeof(rep),
				       .nfds = SHM_FD_COUNT};
	int fds[16], n = SHM_FD_COUNT;
	struct shm_layout l;

	shm_layout_compute(&l, 512, SHM_DATA_SIZE_DEFAULT, 0);
	if (shm_port_read_attach(fn->sock, 1000, &req) < 0)
		return NULL;
	fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[2] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	switch (fn->mode) {
	case 0: /* too small a memfd */
		fds[0] = make_memfd(4096, true, false);
		break;
	case 1: /* right size, not sealed: could be shrunk under us */
		fds[0] = make_memfd(l.region_size, false, true);
		break;
	case 2: /* header claims more than the memfd holds */
		fds[0] = make_memfd(l.region_size - 8192, true, true);
		break;
	case 3: /* missing fd */
		fds[0] = make_memfd(l.region_size, true, true);
		close(fds[2]);
		n = 2;
		break;
	case 4: /* extra fds */
		fds[0] = make_memfd(l.region_size, true, true);
		for (n = 3; n < 6; n++)
			fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		break;
	case 5: /* not a memfd at all */
		fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		break;
	case 6: /* error status, but with fds */
		fds[0] = make_memfd(l.region_size, true, true);
		rep.status = -EPERM;
		break;
	}
	{
		union {
			char b[CMSG_SPACE(16 * sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = {.iov_base = &rep, .iov_len = sizeof(rep)};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.b,
				     .msg_controllen =
					 CMSG_SPACE(n * sizeof(int))};
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
		sendmsg(fn->sock, &msg, MSG_NOSIGNAL);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return NULL;
}

static void test_hostile_netd(void **state)
{
	for (int mode = 0; mode <= 6; mode++) {
		struct fake_netd fn = {.mode = mode};
		struct shm_attach_req req;
		struct shm_peer p;
		pthread_t t;
		int sv[2], before, rc;

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		fn.sock = sv[0];
		before = count_fds();
		shm_attach_req_init(&req, "lan0", macs[GOOD_A], 1, 0);
		assert_int_equal(pthread_create(&t, NULL, fake_netd_run, &fn),
				 0);
		rc = shm_peer_attach(sv[1], &req, 2000, &p);
		pthread_join(t, NULL);
		print_message("hostile netd mode %d: %d\n", mode, rc);
		assert_true(rc < 0);
		assert_int_equal(count_fds(), before);
		close(sv[0]);
		close(sv[1]);
	}
}

/*
 * switch_port_open() can fail before it reaches open: the args are still
 * the caller's then, and shm_port_args_release() (idempotent) frees them.
 */
static void test_open_refused_no_leak(void **state)
{
	struct world *w = *state;
	struct shm_attach_req req;
	struct shm_port_config cfg = {.features = SHM_F_ALL};
	struct switch_port_config pc = {.mode = SWITCH_PORT_ACCESS,
					.access_vlan = 5000};
	struct shm_port_args args;
	int memfd, before = count_fds();

	assert_int_equal(shm_attach_req_init(&req, "lan0", macs[HOSTILE], 1, 0),
			 0);
	assert_int_equal(shm_port_create(&req, &cfg, &args, &memfd), 0);
	close(memfd);
	assert_true(switch_port_open(w->sw, &shm_port_ops, &args, &pc) < 0);
	shm_port_args_release(&args);
	shm_port_args_release(&args);
	assert_int_equal(count_fds(), before);
	/* And after a successful open the release is a no-op. */
	assert_int_equal(shm_port_create(&req, &cfg, &args, &memfd), 0);
	close(memfd);
	pc.access_vlan = 1;
	int id = switch_port_open(w->sw, &shm_port_ops, &args, &pc);

	assert_true(id >= 0);
	shm_port_args_release(&args);
	assert_int_equal(count_fds(), before + 2);
	assert_int_equal(switch_port_remove(w->sw, (uint32_t)id), 0);
	assert_int_equal(count_fds(), before);
	good_traffic(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bad_indices, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_slots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_stops_reading, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_attach_attacks, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_attach_stall, setup, teardown),
	    cmocka_unit_test(test_hostile_netd),
	    cmocka_unit_test_setup_teardown(test_open_refused_no_leak, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
