/* SPDX-License-Identifier: MIT */
/* test_shm_ring.c - shm port: rings, kicks, batches, offloads, set-up. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/registry.h"
#include "backends/shm.h"
#include "common/shm_peer.h"
#include "common/shm_ring.h"
#include "common/shm_sock.h"

static const uint8_t mac_a[6] = {0x52, 0x54, 0, 0, 0, 0xa};

/* One attached port in-process: netd's half and the peer's half. */
struct pair {
	struct shm_port *sp;
	struct shm_peer peer;
};

static void pair_open(struct pair *pr, uint64_t features, uint32_t ring)
{
	struct shm_attach_req req;
	struct shm_port_config cfg = {.ring_size = ring, .features = SHM_F_ALL};
	struct shm_port_args args;
	int memfd;

	assert_int_equal(shm_attach_req_init(&req, "lan0", mac_a,
					     SHM_NIC_VIRTIO_NET, features),
			 0);
	assert_int_equal(shm_port_create(&req, &cfg, &args, &memfd), 0);
	memset(&pr->peer, 0, sizeof(pr->peer));
	assert_int_equal(shm_peer_map(memfd, &pr->peer), 0);
	close(memfd);
	pr->peer.kick_netd = dup(args.kick_netd);
	pr->peer.kick_peer = dup(args.kick_peer);
	pr->sp = shm_port_new(&args);
	assert_non_null(pr->sp);
}

static void pair_close(struct pair *pr)
{
	shm_port_free(pr->sp);
	shm_peer_close(&pr->peer);
}

static uint64_t efd_count(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void fill(uint8_t *b, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 31 + i);
}

static int check_fill(const uint8_t *b, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		if (b[i] != (uint8_t)(seed * 31 + i))
			return -1;
	return 0;
}

/* A 64-slot pair whose peer filled every slot with 64-byte frames. */
static void pair_open_full(struct pair *pr)
{
	static const uint8_t frame[64];
	int n = 0;

	pair_open(pr, 0, 64);
	while (shm_peer_send(&pr->peer, frame, sizeof(frame), NULL) == 0)
		n++;
	assert_int_equal(n, 64); /* the peer saw the ring full */
}

/* netd's side takes exactly @n frames into the empty @b, and is done. */
static void recv_expect(struct pair *pr, struct frame_batch *b, int n)
{
	b->count = 0;
	assert_int_equal(shm_port_recv(pr->sp, b), n);
	shm_port_recv_done(pr->sp);
}

/* @b: @count frames, each @len bytes of @data, no offloads. */
static void batch_of(struct frame_batch *b, uint8_t *data, uint32_t len,
		     uint32_t count)
{
	b->count = count;
	for (uint32_t i = 0; i < count; i++) {
		b->f[i].data = data;
		b->f[i].len = len;
		memset(&b->f[i].off, 0, sizeof(b->f[i].off));
	}
}

static void test_layout_and_header(void **state)
{
	struct shm_layout l, l2;
	uint8_t *base;

	assert_int_equal(shm_layout_compute(&l, 512, SHM_DATA_SIZE_DEFAULT, 0),
			 0);
	/* The budget docs/port-protocol.md states. */
	assert_int_equal(l.region_size, 4239360);
	assert_int_equal(shm_layout_compute(&l2, 500, SHM_DATA_SIZE_DEFAULT, 0),
			 -EINVAL);
	assert_int_equal(shm_layout_compute(&l2, 512, 1000, 0), -EINVAL);
	base = calloc(1, l.region_size);
	assert_non_null(base);
	shm_header_write(base, &l, mac_a);
	assert_int_equal(shm_header_parse(base, l.region_size, &l2), 0);
	assert_memory_equal(&l, &l2, sizeof(l));
	/* Smaller than the header says: refused. */
	assert_int_equal(shm_header_parse(base, l.region_size - 4096, &l2),
			 -EPROTO);
	((struct shm_port_header *)base)->to_peer_data += 64;
	assert_int_equal(shm_header_parse(base, l.region_size, &l2), -EPROTO);
	((struct shm_port_header *)base)->to_peer_data -= 64;
	((struct shm_port_header *)base)->version = SHM_PORT_VERSION + 1;
	assert_int_equal(shm_header_parse(base, l.region_size, &l2),
			 -EPROTONOSUPPORT);
	free(base);
}

/* Indices start just below 2^32 and run far past it. */
static void test_wrap_around(void **state)
{
	struct shm_layout l;
	struct shm_prod p;
	struct shm_cons c;
	struct shm_ring *r;
	uint8_t *base;
	uint32_t start = 0xffffffffu - 700, sent = 0, got = 0;

	assert_int_equal(shm_layout_compute(&l, 256, SHM_DATA_SIZE_MIN, 0), 0);
	base = calloc(1, l.region_size);
	r = (struct shm_ring *)(base + l.ring_off[SHM_TO_NETD]);
	r->prod = r->cons = start;
	assert_int_equal(shm_prod_init(&p, base, &l, SHM_TO_NETD), 0);
	shm_cons_init(&c, base, &l, SHM_TO_NETD);
	while (got < 5000) {
		/* Bursts of varied sizes so data offsets wrap too. */
		for (int k = 0; k < 40; k++) {
			uint32_t len = 60 + (sent * 97) % 3000;
			struct shm_desc d = {.len = len};
			uint8_t *dst = shm_prod_alloc(&p, len);

			if (!dst)
				break;
			fill(dst, len, sent);
			shm_prod_commit(&p, &d);
			sent++;
		}
		shm_prod_publish(&p);
		int n = shm_cons_peek(&c);

		assert_true(n > 0 && n <= 256);
		for (int i = 0; i < n; i++) {
			struct shm_desc d;
			const uint8_t *f =
			    shm_cons_get(&c, (uint32_t)i, &d, NULL);

			assert_non_null(f);
			assert_int_equal(d.len, 60 + (got * 97) % 3000);
			assert_int_equal(check_fill(f, d.len, got), 0);
			got++;
		}
		shm_cons_release(&c, (uint32_t)n);
	}
	assert_true(r->cons < start); /* it wrapped past 2^32 */
	assert_int_equal(r->cons, start + got);
	assert_false(p.broken || c.broken);
	shm_prod_fini(&p);
	free(base);
}

/* A full ring refuses frames; space comes back when the consumer releases. */
static void test_ring_full(void **state)
{
	struct pair pr;
	struct frame_batch b = {0};
	uint8_t frame[64] = {0};

	pair_open_full(&pr);
	assert_int_equal(shm_peer_send(&pr.peer, frame, 64, NULL), -ENOBUFS);
	shm_peer_flush(&pr.peer);
	recv_expect(&pr, &b, 64);
	assert_int_equal(shm_peer_send(&pr.peer, frame, 64, NULL), 0);
	/* Data area exhaustion with 64 KiB frames (ring of slots not full). */
	pair_close(&pr);
	pair_open(&pr, 0, 64);
	{
		static uint8_t big[SHM_FRAME_MAX];
		int k = 0;

		while (shm_peer_send(&pr.peer, big, sizeof(big), NULL) == 0)
			k++;
		assert_true(k >= 20 && k < 64); /* 2 MiB / 64 KiB */
	}
	pair_close(&pr);
}

/* recv never returns more than FRAME_BATCH_MAX - count. */
static void test_batch_limits(void **state)
{
	struct pair pr;
	struct frame_batch b = {0};
	uint8_t frame[60];

	pair_open(&pr, 0, 512);
	for (int i = 0; i < 200; i++) {
		fill(frame, sizeof(frame), (uint32_t)i);
		assert_int_equal(shm_peer_send(&pr.peer, frame, 60, NULL), 0);
	}
	shm_peer_flush(&pr.peer);
	assert_int_equal(shm_port_recv(pr.sp, &b), FRAME_BATCH_MAX);
	assert_int_equal(shm_port_recv(pr.sp, &b), 0); /* batch full */
	for (int i = 0; i < FRAME_BATCH_MAX; i++)
		assert_int_equal(check_fill(b.f[i].data, 60, (uint32_t)i), 0);
	shm_port_recv_done(pr.sp);
	b.count = 60;
	assert_int_equal(shm_port_recv(pr.sp, &b), 4);
	assert_int_equal(check_fill(b.f[60].data, 60, 64), 0);
	/* A second recv before recv_done continues after what it took. */
	b.count = 0;
	assert_int_equal(shm_port_recv(pr.sp, &b), FRAME_BATCH_MAX);
	assert_int_equal(check_fill(b.f[0].data, 60, 68), 0);
	shm_port_recv_done(pr.sp);
	recv_expect(&pr, &b, FRAME_BATCH_MAX);
	b.count = 0;
	assert_int_equal(shm_port_recv(pr.sp, &b), 200 - 4 - 3 * 64);
	assert_int_equal(check_fill(b.f[0].data, 60, 196), 0);
	shm_port_recv_done(pr.sp);
	b.count = 0;
	assert_int_equal(shm_port_recv(pr.sp, &b), 0);
	/* netd -> peer: a batch of 64 is one publish. */
	batch_of(&b, frame, 60, FRAME_BATCH_MAX);
	assert_int_equal(shm_port_send(pr.sp, &b), FRAME_BATCH_MAX);
	assert_int_equal(shm_cons_peek(&pr.peer.rx), FRAME_BATCH_MAX);
	pair_close(&pr);
}

static void test_notification_suppression(void **state)
{
	struct pair pr;
	struct frame_batch b = {0};
	struct shm_port_stats st;
	uint8_t frame[64] = {0};
	int efd;

	pair_open(&pr, 0, 512);
	efd = dup(pr.peer.kick_netd); /* what netd's poll would watch */
	/* Busy consumer that never sleeps: 32000 frames, not one kick. */
	for (int round = 0; round < 1000; round++) {
		for (int i = 0; i < 32; i++)
			assert_int_equal(
			    shm_peer_send(&pr.peer, frame, 64, NULL), 0);
		shm_peer_flush(&pr.peer);
		recv_expect(&pr, &b, 32);
	}
	assert_int_equal(pr.peer.tx.st.kicks, 0);
	assert_int_equal(efd_count(efd), 0);
	/* netd goes to sleep: poll_fd arms; the next publish kicks once. */
	assert_int_equal(shm_port_fd(pr.sp), pr.sp ? shm_port_fd(pr.sp) : -1);
	assert_int_equal(efd_count(efd), 0); /* nothing pending: no self-kick */
	assert_int_equal(shm_peer_send(&pr.peer, frame, 64, NULL), 0);
	shm_peer_flush(&pr.peer);
	assert_int_equal(pr.peer.tx.st.kicks, 1);
	assert_int_equal(shm_peer_send(&pr.peer, frame, 64, NULL), 0);
	shm_peer_flush(&pr.peer);
	/* netd has not run yet: no second kick for the same sleep. */
	assert_int_equal(pr.peer.tx.st.kicks, 1);
	assert_int_equal(efd_count(efd), 1);
	/* netd wakes: recv disarms; further publishes are silent. */
	recv_expect(&pr, &b, 2);
	uint64_t k = pr.peer.tx.st.kicks;

	for (int i = 0; i < 100; i++) {
		shm_peer_send(&pr.peer, frame, 64, NULL);
		shm_peer_flush(&pr.peer);
	}
	assert_int_equal(pr.peer.tx.st.kicks, k);
	assert_int_equal(efd_count(efd), 0);
	/* Arming while frames are queued makes the fd readable at once. */
	shm_port_fd(pr.sp);
	assert_int_equal(efd_count(efd), 1);
	recv_expect(&pr, &b, 64);
	/* netd -> peer: no kick unless the peer armed. */
	batch_of(&b, frame, 64, 1);
	assert_int_equal(shm_port_send(pr.sp, &b), 1);
	shm_port_stats_get(pr.sp, &st);
	assert_int_equal(st.tx.kicks, 0);
	assert_int_equal(efd_count(pr.peer.kick_peer), 0);
	shm_cons_release(&pr.peer.rx, (uint32_t)shm_cons_peek(&pr.peer.rx));
	assert_true(shm_cons_arm(&pr.peer.rx));
	assert_int_equal(shm_port_send(pr.sp, &b), 1);
	shm_port_stats_get(pr.sp, &st);
	assert_int_equal(st.tx.kicks, 1);
	assert_int_equal(efd_count(pr.peer.kick_peer), 1);
	close(efd);
	pair_close(&pr);
}

/*
 * A release the producer has not seen yet when it arms (it last looked
 * before the consumer freed a few slots, too few for it) must not leave it
 * asleep: either arming declines, or the consumer's next release kicks.
 */
static void test_prod_arm_after_unseen_release(void **state)
{
	struct pair pr;
	struct frame_batch b = {0};

	pair_open_full(&pr);
	shm_peer_flush(&pr.peer);
	b.count = FRAME_BATCH_MAX - 8;
	assert_int_equal(shm_port_recv(pr.sp, &b), 8);
	shm_port_recv_done(pr.sp); /* 8 slots free, the peer not told */
	efd_count(pr.peer.kick_peer);
	if (shm_prod_arm(&pr.peer.tx, 32)) {
		recv_expect(&pr, &b, 56);
		assert_int_equal(efd_count(pr.peer.kick_peer), 1);
	} else {
		assert_true(shm_prod_free_slots(&pr.peer.tx) >= 8);
	}
	pair_close(&pr);
}

/*
 * Two threads, a sustained load with adaptive waiting on both sides. Every
 * wait is bounded: a lost wake-up shows as a wait that ran into its
 * timeout although the other side made progress meanwhile, and is counted;
 * a side that stops altogether ends the run at LOAD_DEADLINE_NS, and the
 * test fails saying how far it got, instead of hanging.
 */
#define LOAD_DEADLINE_NS (120ull * 1000000000ull)
#define LOAD_PROD_WAIT_MS 1000
#define LOAD_CONS_WAIT_MS 2000

struct load {
	struct pair *pr;
	uint32_t frames;
	uint64_t deadline;     /* shm_now_ns() at which both sides give up */
	atomic_int stop;       /* set by the producer when it gives up */
	uint32_t received;     /* consumer's */
	uint32_t lost_wakeups; /* consumer's */
	uint32_t sleeps;       /* consumer's */
	int bad;	       /* consumer's: out of order, or recv failed */
	int timed_out;	       /* consumer's */
};

static void *load_consumer(void *arg)
{
	struct load *ld = arg;
	struct shm_port *sp = ld->pr->sp;
	uint32_t expect = 0;

	while (ld->received < ld->frames) {
		struct frame_batch b = {0};
		uint64_t t0 = shm_now_ns();
		int n;

		if (t0 >= ld->deadline || atomic_load(&ld->stop)) {
			ld->timed_out = 1;
			break;
		}
		/* Adaptive: poll for a bounded while, then sleep on the fd. */
		do
			n = shm_port_recv(sp, &b);
		while (n == 0 && shm_now_ns() - t0 < 20000);
		if (n == 0) {
			struct pollfd pfd = {.fd = shm_port_fd(sp),
					     .events = POLLIN};

			ld->sleeps++;
			if (poll(&pfd, 1, LOAD_CONS_WAIT_MS) == 0) {
				/* Timed out with frames waiting: a lost kick.
				 */
				n = shm_port_recv(sp, &b);
				if (n > 0)
					ld->lost_wakeups++;
			} else {
				n = shm_port_recv(sp, &b);
			}
		}
		if (n < 0) {
			ld->bad = 1;
			break;
		}
		for (uint32_t i = 0; i < b.count; i++) {
			uint32_t seq;

			memcpy(&seq, b.f[i].data + 14, 4);
			if (seq != expect++)
				ld->bad = 1;
		}
		ld->received += b.count;
		shm_port_recv_done(sp);
	}
	return NULL;
}

static void test_sustained_load_kicks(void **state)
{
	struct pair pr;
	struct load ld = {.pr = &pr, .frames = 200000};
	uint8_t frame[64] = {0};
	pthread_t t;
	uint32_t seq = 0, prod_lost_wakeups = 0, prod_waits = 0;
	int wait_err = 0, timed_out = 0;

	pair_open(&pr, 0, 512);
	ld.deadline = shm_now_ns() + LOAD_DEADLINE_NS;
	assert_int_equal(pthread_create(&t, NULL, load_consumer, &ld), 0);
	while (seq < ld.frames) {
		int k;

		if (shm_now_ns() >= ld.deadline) {
			timed_out = 1;
			break;
		}
		for (k = 0; k < 32 && seq < ld.frames; k++) {
			memcpy(frame + 14, &seq, 4);
			if (shm_peer_send(&pr.peer, frame, 64, NULL) < 0)
				break;
			seq++;
		}
		shm_peer_flush(&pr.peer);
		if (k < 32 && seq < ld.frames) {
			uint64_t w0 = shm_now_ns();
			int r = shm_prod_wait(&pr.peer.tx, pr.peer.kick_peer,
					      32, 20000, LOAD_PROD_WAIT_MS);

			prod_waits++;
			if (r < 0) {
				wait_err = r;
				break;
			}
			/* Slept to the timeout, yet slots were freed. */
			if (r > 0 &&
			    shm_now_ns() - w0 >= LOAD_PROD_WAIT_MS * 1000000ull)
				prod_lost_wakeups++;
		}
	}
	if (seq < ld.frames)
		atomic_store(&ld.stop, 1); /* gave up: no more frames coming */
	pthread_join(t, NULL);
	print_message("sustained: %u frames, %llu kicks to netd, %u sleeps, "
		      "%llu publishes; sent %u, received %u; lost wake-ups "
		      "%u (netd) %u (peer, in %u waits)\n",
		      ld.frames, (unsigned long long)pr.peer.tx.st.kicks,
		      ld.sleeps, (unsigned long long)pr.peer.tx.st.batches, seq,
		      ld.received, ld.lost_wakeups, prod_lost_wakeups,
		      prod_waits);
	if (timed_out || ld.timed_out)
		fail_msg("sustained load unfinished after %llu s: sent %u, "
			 "received %u of %u",
			 LOAD_DEADLINE_NS / 1000000000ull, seq, ld.received,
			 ld.frames);
	assert_int_equal(wait_err, 0);
	assert_int_equal(ld.bad, 0);
	assert_int_equal(ld.received, ld.frames);
	assert_int_equal(ld.lost_wakeups, 0);
	assert_int_equal(prod_lost_wakeups, 0);
	/*
	 * Kicks only while the consumer sleeps: at most one per publish,
	 * and never one per frame.
	 */
	assert_true(pr.peer.tx.st.kicks <= pr.peer.tx.st.batches);
	{
		struct shm_port_stats st;

		shm_port_stats_get(pr.sp, &st);
		/* One kick per arming of netd at most (event-idx). */
		assert_true(pr.peer.tx.st.kicks <= st.rx.sleeps);
	}
	assert_true(pr.peer.tx.st.kicks < ld.frames / 32);
	if (ld.sleeps == 0)
		assert_int_equal(pr.peer.tx.st.kicks, 0);
	pair_close(&pr);
}

static void test_offload_roundtrip(void **state)
{
	struct pair pr;
	struct frame_batch b = {0};
	uint8_t frame[1514];
	struct shm_desc d =
			    {
				.vnet_flags = SHM_VNET_F_NEEDS_CSUM,
				.gso_type =
				    SHM_VNET_GSO_TCPV6 | SHM_VNET_GSO_ECN,
				.hdr_len = 74,
				.gso_size = 1440,
				.csum_start = 54,
				.csum_offset = 16,
			    },
			got;

	pair_open(&pr, SHM_F_ALL, 512);
	fill(frame, sizeof(frame), 7);
	assert_int_equal(shm_peer_send(&pr.peer, frame, sizeof(frame), &d), 0);
	shm_peer_flush(&pr.peer);
	assert_int_equal(shm_port_recv(pr.sp, &b), 1);
	assert_int_equal(b.f[0].len, sizeof(frame));
	assert_int_equal(b.f[0].off.flags, FRAME_F_NEEDS_CSUM);
	assert_int_equal(b.f[0].off.gso_type, FRAME_GSO_TCPV6 | FRAME_GSO_ECN);
	assert_int_equal(b.f[0].off.hdr_len, 74);
	assert_int_equal(b.f[0].off.gso_size, 1440);
	assert_int_equal(b.f[0].off.csum_start, 54);
	assert_int_equal(b.f[0].off.csum_offset, 16);
	/* And back to the peer through netd's send. */
	assert_int_equal(shm_port_send(pr.sp, &b), 1);
	shm_port_recv_done(pr.sp);
	assert_int_equal(shm_cons_peek(&pr.peer.rx), 1);
	const uint8_t *f = shm_cons_get(&pr.peer.rx, 0, &got, NULL);

	assert_non_null(f);
	assert_int_equal(check_fill(f, sizeof(frame), 7), 0);
	assert_int_equal(got.len, sizeof(frame));
	assert_int_equal(got.vnet_flags, d.vnet_flags);
	assert_int_equal(got.gso_type, d.gso_type);
	assert_int_equal(got.hdr_len, d.hdr_len);
	assert_int_equal(got.gso_size, d.gso_size);
	assert_int_equal(got.csum_start, d.csum_start);
	assert_int_equal(got.csum_offset, d.csum_offset);
	pair_close(&pr);
}

/* Offloads the peer did not negotiate are a violation; bad fields too. */
static void test_offload_checks(void **state)
{
	struct shm_desc ok = {.len = 1514,
			      .vnet_flags = 1,
			      .gso_type = 1,
			      .hdr_len = 54,
			      .gso_size = 1448,
			      .csum_start = 34,
			      .csum_offset = 16};
	struct shm_desc d;

	assert_int_equal(shm_offload_check(&ok, SHM_F_ALL), SHM_OK);
	assert_int_equal(shm_offload_check(&ok, SHM_F_CSUM), SHM_BAD_OFFLOAD);
	assert_int_equal(shm_offload_check(&ok, SHM_F_GSO_TCP),
			 SHM_BAD_OFFLOAD);
	d = ok;
	d.csum_offset = 1514 - 34 - 1; /* csum field past the end */
	assert_int_equal(shm_offload_check(&d, SHM_F_ALL), SHM_BAD_OFFLOAD);
	d.csum_offset = 1514 - 34 - 2; /* exactly fits */
	assert_int_equal(shm_offload_check(&d, SHM_F_ALL), SHM_OK);
	d = ok;
	d.hdr_len = 1515;
	assert_int_equal(shm_offload_check(&d, SHM_F_ALL), SHM_BAD_OFFLOAD);
	d = ok;
	d.gso_size = 0;
	assert_int_equal(shm_offload_check(&d, SHM_F_ALL), SHM_BAD_OFFLOAD);
	d = ok;
	d.gso_type = 2; /* no such type */
	assert_int_equal(shm_offload_check(&d, SHM_F_ALL), SHM_BAD_OFFLOAD);
	d.gso_type = SHM_VNET_GSO_NONE | SHM_VNET_GSO_ECN;
	assert_int_equal(shm_offload_check(&d, SHM_F_ALL), SHM_BAD_OFFLOAD);
	d = ok;
	d.vnet_flags = 4;
	assert_int_equal(shm_offload_check(&d, SHM_F_ALL), SHM_BAD_OFFLOAD);
	d = ok;
	d.gso_type = SHM_VNET_GSO_UDP_L4;
	assert_int_equal(shm_offload_check(&d, SHM_F_CSUM | SHM_F_GSO_TCP),
			 SHM_BAD_OFFLOAD);
	assert_int_equal(shm_offload_check(&d, SHM_F_CSUM | SHM_F_GSO_UDP),
			 SHM_OK);
}

/* A 64 KiB TSO frame crosses peer -> netd -> peer in one piece. */
static void test_64k_unsegmented(void **state)
{
	static uint8_t big[65536 + 14];
	struct pair a, c;
	struct frame_batch b = {0};
	struct shm_desc d = {.vnet_flags = SHM_VNET_F_NEEDS_CSUM,
			     .gso_type = SHM_VNET_GSO_TCPV4,
			     .hdr_len = 66,
			     .gso_size = 1448,
			     .csum_start = 34,
			     .csum_offset = 16},
			got;
	const uint8_t *f;

	pair_open(&a, SHM_F_ALL, 512);
	pair_open(&c, SHM_F_ALL, 512);
	fill(big, sizeof(big), 99);
	for (int i = 0; i < 8; i++)
		assert_int_equal(shm_peer_send(&a.peer, big, sizeof(big), &d),
				 0);
	shm_peer_flush(&a.peer);
	assert_int_equal(shm_port_recv(a.sp, &b), 8);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(b.f[i].len, sizeof(big));
		assert_int_equal(check_fill(b.f[i].data, sizeof(big), 99), 0);
	}
	assert_int_equal(shm_port_send(c.sp, &b), 8);
	shm_port_recv_done(a.sp);
	assert_int_equal(shm_cons_peek(&c.peer.rx), 8);
	for (uint32_t i = 0; i < 8; i++) {
		f = shm_cons_get(&c.peer.rx, i, &got, NULL);
		assert_non_null(f);
		assert_int_equal(got.len, sizeof(big));
		assert_int_equal(got.gso_size, 1448);
		assert_int_equal(check_fill(f, sizeof(big), 99), 0);
	}
	/* A peer without GSO gets no GSO frame (dropped, counted). */
	pair_close(&c);
	pair_open(&c, SHM_F_CSUM, 512);
	assert_int_equal(shm_port_send(c.sp, &b), 0);
	assert_int_equal(shm_cons_peek(&c.peer.rx), 0);
	pair_close(&a);
	pair_close(&c);
}

struct attach_thread {
	int sock;
	struct shm_attach_req req;
	struct shm_peer peer;
	int rc;
};

static void *attach_peer(void *arg)
{
	struct attach_thread *at = arg;

	at->rc = shm_peer_attach(at->sock, &at->req, 2000, &at->peer);
	return NULL;
}

/* The whole set-up over a socketpair, then a frame each way. */
static void test_attach_socket(void **state)
{
	struct attach_thread at;
	struct shm_attach_req req;
	struct shm_port_config cfg = {.features = SHM_F_CSUM | SHM_F_GSO_TCP};
	struct shm_port_args args;
	struct frame_batch b = {0};
	uint8_t frame[100];
	int sv[2];
	pthread_t t;
	struct shm_port *sp;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	at.sock = sv[1];
	assert_int_equal(shm_attach_req_init(&at.req, "lan0", mac_a,
					     SHM_NIC_E1000, SHM_F_ALL),
			 0);
	assert_int_equal(pthread_create(&t, NULL, attach_peer, &at), 0);
	assert_int_equal(shm_port_read_attach(sv[0], 2000, &req), 0);
	assert_string_equal(req.network, "lan0");
	assert_int_equal(req.model, SHM_NIC_E1000);
	assert_int_equal(shm_port_accept(sv[0], &req, &cfg, &args), 0);
	pthread_join(t, NULL);
	assert_int_equal(at.rc, 0);
	assert_int_equal(at.peer.layout.features, SHM_F_CSUM | SHM_F_GSO_TCP);
	assert_memory_equal(at.peer.mac, mac_a, 6);
	sp = shm_port_new(&args);
	assert_non_null(sp);
	fill(frame, sizeof(frame), 3);
	assert_int_equal(shm_peer_send(&at.peer, frame, 100, NULL), 0);
	shm_peer_flush(&at.peer);
	assert_int_equal(shm_port_recv(sp, &b), 1);
	assert_int_equal(check_fill(b.f[0].data, 100, 3), 0);
	assert_int_equal(shm_port_send(sp, &b), 1);
	shm_port_recv_done(sp);
	assert_int_equal(
	    shm_cons_wait(&at.peer.rx, at.peer.kick_peer, 1000, 1000), 1);
	shm_port_free(sp);
	shm_peer_close(&at.peer);
	/* A rejection reaches the peer as its errno, with no fds. */
	at.sock = sv[1];
	assert_int_equal(pthread_create(&t, NULL, attach_peer, &at), 0);
	assert_int_equal(shm_port_read_attach(sv[0], 2000, &req), 0);
	assert_int_equal(shm_port_reject(sv[0], -ENOENT), 0);
	pthread_join(t, NULL);
	assert_int_equal(at.rc, -ENOENT);
	close(sv[0]);
	close(sv[1]);
}

static void test_registry(void **state)
{
	assert_ptr_equal(backend_lookup("shm"), &shm_port_ops);
	assert_null(backend_lookup("nope"));
	assert_true(backend_count() >= 1);
	for (size_t i = 0; i < backend_count(); i++)
		assert_non_null(backend_at(i)->name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_and_header),
	    cmocka_unit_test(test_wrap_around),
	    cmocka_unit_test(test_ring_full),
	    cmocka_unit_test(test_batch_limits),
	    cmocka_unit_test(test_notification_suppression),
	    cmocka_unit_test(test_prod_arm_after_unseen_release),
	    cmocka_unit_test(test_sustained_load_kicks),
	    cmocka_unit_test(test_offload_roundtrip),
	    cmocka_unit_test(test_offload_checks),
	    cmocka_unit_test(test_64k_unsegmented),
	    cmocka_unit_test(test_attach_socket),
	    cmocka_unit_test(test_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
