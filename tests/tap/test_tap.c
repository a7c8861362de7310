/* SPDX-License-Identifier: MIT */
/* test_tap.c - the TAP backend against a real TAP: batched receive and send, io_uring and read/write. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>

#include <cmocka.h>

#include "backends/tap.h"
#include "switch/switch.h"

/*
 * The kernel side of the TAP is an AF_PACKET socket on the interface:
 * what it sends goes out of the interface, i.e. to the TAP's fd (our recv);
 * what our send writes arrives on the interface, where the socket sees it.
 * Frames carry a local experimental EtherType, so the interface's own
 * traffic (IPv6 router solicitations, MLD) is told apart and ignored.
 */
enum { TEST_ETHERTYPE = 0x88b5, TEST_FRAMES = 150, TEST_LEN = 60 };

struct tap_fixture {
	struct tap_dev *tap;
	struct port port;
	int pkt; /* AF_PACKET socket bound to the TAP */
	int ifindex;
	char ifname[IFNAMSIZ];
};

static void make_frame(uint8_t *f, uint32_t seq)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02};
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};
	uint16_t et = htons(TEST_ETHERTYPE);

	memset(f, 0, TEST_LEN);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	memcpy(f + 12, &et, 2);
	memcpy(f + 14, &seq, sizeof(seq));
}

/* The sequence number of a test frame, or -1 for anything else. */
static long frame_seq(const uint8_t *f, size_t len)
{
	uint16_t et;
	uint32_t seq;

	if (len < 14 + sizeof(seq))
		return -1;
	memcpy(&et, f + 12, 2);
	if (ntohs(et) != TEST_ETHERTYPE)
		return -1;
	memcpy(&seq, f + 14, sizeof(seq));
	return seq;
}

static int setup_dev(void **state, bool uring)
{
	struct tap_fixture *fx = calloc(1, sizeof(*fx));
	struct tap_args a = {0};
	struct sockaddr_ll sll = {0};
	struct timeval tv = {.tv_sec = 2};
	char err[256];
	int ret;

	assert_non_null(fx);
	snprintf(fx->ifname, sizeof(fx->ifname), "lmut%u%c",
		 (unsigned int)getpid() % 100000, uring ? 'u' : 's');
	if (uring)
		unsetenv("LOOM_TAP_URING");
	else
		setenv("LOOM_TAP_URING", "0", 1);
	a.ifname = fx->ifname;
	a.alias = TAP_ALIAS_PREFIX "test";
	a.offload = true;
	ret = tap_dev_create(&a, &fx->tap, err, sizeof(err));
	if (ret < 0)
		fail_msg("tap_dev_create: %s", err);
	fx->ifindex = tap_dev_ifindex(fx->tap);
	fx->port.ops = &tap_port_ops;
	assert_int_equal(tap_port_ops.open(&fx->port, fx->tap), 0);

	fx->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	assert_true(fx->pkt >= 0);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = fx->ifindex;
	assert_int_equal(bind(fx->pkt, (struct sockaddr *)&sll, sizeof(sll)), 0);
	assert_int_equal(setsockopt(fx->pkt, SOL_SOCKET, SO_RCVTIMEO, &tv,
				    sizeof(tv)), 0);
	*state = fx;
	return 0;
}

static int setup_uring(void **state)
{
	return setup_dev(state, true);
}

static int setup_syscall(void **state)
{
	return setup_dev(state, false);
}

static int teardown(void **state)
{
	struct tap_fixture *fx = *state;

	close(fx->pkt);
	tap_port_ops.close(&fx->port);
	/* Not persistent: gone with the fd. */
	assert_int_equal(if_nametoindex(fx->ifname), 0);
	free(fx);
	unsetenv("LOOM_TAP_URING");
	return 0;
}

/* Frames the kernel sends out of the TAP come out of recv, in order. */
static void test_recv_batches(void **state)
{
	struct tap_fixture *fx = *state;
	static struct frame_batch b;
	uint8_t f[TEST_LEN];
	uint32_t next = 0;

	for (uint32_t i = 0; i < TEST_FRAMES; i++) {
		make_frame(f, i);
		assert_int_equal(send(fx->pkt, f, sizeof(f), 0), sizeof(f));
	}
	/* Bounded: the frames are queued before the first recv. */
	for (int round = 0; round < 1000 && next < TEST_FRAMES; round++) {
		int n;

		b.count = 0;
		n = tap_port_ops.recv(&fx->port, &b);
		assert_true(n >= 0);
		assert_int_equal((uint32_t)n, b.count);
		assert_true(b.count <= FRAME_BATCH_MAX);
		for (uint32_t i = 0; i < b.count; i++) {
			long seq = frame_seq(b.f[i].data, b.f[i].len);

			if (seq < 0)
				continue;
			assert_int_equal(seq, next);
			assert_int_equal(b.f[i].len, TEST_LEN);
			assert_int_equal(b.f[i].off.gso_type, FRAME_GSO_NONE);
			next++;
		}
		tap_port_ops.recv_done(&fx->port, &b);
		if (!n)
			usleep(1000);
	}
	assert_int_equal(next, TEST_FRAMES);
}

/* recv appends after frames already in the batch, up to its end. */
static void test_recv_appends(void **state)
{
	struct tap_fixture *fx = *state;
	static struct frame_batch b;
	uint8_t f[TEST_LEN];
	int n = 0;

	for (uint32_t i = 0; i < 8; i++) {
		make_frame(f, i);
		assert_int_equal(send(fx->pkt, f, sizeof(f), 0), sizeof(f));
	}
	b.count = FRAME_BATCH_MAX - 2;
	for (int round = 0; round < 1000 && !n; round++) {
		n = tap_port_ops.recv(&fx->port, &b);
		if (!n)
			usleep(1000);
	}
	assert_true(n >= 1 && n <= 2);
	assert_int_equal(b.count, FRAME_BATCH_MAX - 2 + (uint32_t)n);
	/* A full batch takes nothing and is not an error. */
	b.count = FRAME_BATCH_MAX;
	assert_int_equal(tap_port_ops.recv(&fx->port, &b), 0);
}

/* A batch given to send arrives on the interface, every frame, in order. */
static void test_send_batch(void **state)
{
	struct tap_fixture *fx = *state;
	static struct frame_batch b;
	static uint8_t frames[FRAME_BATCH_MAX][TEST_LEN];
	uint32_t next = 0;

	for (uint32_t i = 0; i < FRAME_BATCH_MAX; i++) {
		make_frame(frames[i], i);
		b.f[i].data = frames[i];
		b.f[i].len = TEST_LEN;
		memset(&b.f[i].off, 0, sizeof(b.f[i].off));
	}
	b.count = FRAME_BATCH_MAX;
	assert_int_equal(tap_port_ops.send(&fx->port, &b), FRAME_BATCH_MAX);
	/* Bounded by the socket's receive timeout. */
	while (next < FRAME_BATCH_MAX) {
		uint8_t buf[2048];
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fx->pkt, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &fl);
		long seq;

		if (n < 0)
			fail_msg("after %u frames: %s", next, strerror(errno));
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		seq = frame_seq(buf, (size_t)n);
		if (seq < 0)
			continue;
		assert_int_equal(seq, next);
		assert_int_equal(n, TEST_LEN);
		next++;
	}
}

/* A frame whose data is bad for the kernel is dropped, the rest go. */
static void test_send_counts_drops(void **state)
{
	struct tap_fixture *fx = *state;
	static struct frame_batch b;
	static uint8_t good[TEST_LEN];

	make_frame(good, 7);
	b.count = 3;
	for (int i = 0; i < 3; i++) {
		b.f[i].data = good;
		b.f[i].len = TEST_LEN;
		memset(&b.f[i].off, 0, sizeof(b.f[i].off));
	}
	/* A header length past the frame's end: the kernel refuses it. */
	b.f[1].off.gso_type = FRAME_GSO_TCPV4;
	b.f[1].off.gso_size = 1448;
	b.f[1].off.hdr_len = 1000;
	assert_int_equal(tap_port_ops.send(&fx->port, &b), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_recv_batches, setup_uring,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_recv_appends, setup_uring,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_send_batch, setup_uring,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_send_counts_drops,
					    setup_uring, teardown),
	    cmocka_unit_test_setup_teardown(test_recv_batches, setup_syscall,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_recv_appends, setup_syscall,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_send_batch, setup_syscall,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_send_counts_drops,
					    setup_syscall, teardown),
	};

	if (geteuid() != 0) {
		/* TAPs need CAP_NET_ADMIN; tests/netns needs root as well. */
		printf("SKIP: test_tap: needs root (CAP_NET_ADMIN) for TAPs\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
