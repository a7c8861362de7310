/* SPDX-License-Identifier: MIT */
/* test_slirp.c - the frame FIFO and the libslirp uplink: ARP, ICMP, TCP to the host, forwards. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/frame_fifo.h"
#include "backends/slirp.h"

/* ---- frame FIFO ---- */

static void fifo_order_and_wrap(void **state)
{
	struct frame_fifo q;
	struct frame_fifo_item it[64];
	static uint8_t big[FRAME_MAX_LEN];
	size_t cap = 2 * (FRAME_MAX_LEN + 64);
	unsigned int n, round;

	assert_int_equal(frame_fifo_init(&q, cap), 0);
	/* Many rounds of frames of odd sizes: every byte comes back in order. */
	for (round = 0; round < 200; round++) {
		uint32_t len = 1 + (round * 7919u) % FRAME_MAX_LEN;

		memset(big, (int)round, len);
		assert_int_equal(frame_fifo_push(&q, big, len, NULL), 0);
		n = frame_fifo_peek(&q, it, 64);
		assert_int_equal(n, 1);
		assert_int_equal(it[0].len, len);
		assert_int_equal(it[0].data[0], (uint8_t)round);
		assert_int_equal(it[0].data[len - 1], (uint8_t)round);
		frame_fifo_release(&q);
	}
	assert_int_equal(frame_fifo_peek(&q, it, 64), 0);
	frame_fifo_destroy(&q);
}

static void fifo_full_and_wakeup(void **state)
{
	struct frame_fifo q;
	struct frame_fifo_item it[64];
	static uint8_t big[FRAME_MAX_LEN];
	struct pollfd p;
	int pushed = 0;

	assert_int_equal(frame_fifo_init(&q, 2 * (FRAME_MAX_LEN + 64)), 0);
	p.fd = q.efd;
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 0), 0); /* nothing waits */
	while (frame_fifo_push(&q, big, FRAME_MAX_LEN, NULL) == 0)
		pushed++;
	assert_int_equal(pushed, 2);
	assert_int_equal(frame_fifo_drops(&q), 1);
	assert_int_equal(frame_fifo_push(&q, big, FRAME_MAX_LEN + 1, NULL),
			 -EMSGSIZE);
	assert_int_equal(poll(&p, 1, 0), 1); /* readable while frames wait */
	assert_int_equal(frame_fifo_peek(&q, it, 64), 2);
	/* Peeked but not released: still no room. */
	assert_int_equal(frame_fifo_push(&q, big, 100, NULL), -ENOBUFS);
	frame_fifo_release(&q);
	assert_int_equal(frame_fifo_peek(&q, it, 64), 0);
	assert_int_equal(poll(&p, 1, 0), 0); /* an empty peek clears it */
	assert_int_equal(frame_fifo_push(&q, big, 100, NULL), 0);
	assert_int_equal(poll(&p, 1, 0), 1);
	frame_fifo_destroy(&q);
}

/* ---- the uplink, with hand-built frames ---- */

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t gw_mac[6] = {0x52, 0x55, 10, 0, 2, 2};

static struct slirp_uplink *uplink_start_limits(bool host_loopback,
						uint32_t conn_max,
						uint32_t guest_conn_max)
{
	struct slirp_uplink_config c = {.prefix4 = 24, .mtu = 1500,
					.host_loopback = host_loopback,
					.conn_max = conn_max,
					.guest_conn_max = guest_conn_max,
					.name = "test"};
	struct slirp_uplink *u = NULL;

	inet_pton(AF_INET, "10.0.2.0", &c.net4);
	inet_pton(AF_INET, "10.0.2.2", &c.gw4);
	assert_int_equal(slirp_uplink_new(&c, &u), 0);
	return u;
}

static struct slirp_uplink *uplink_start_max(bool host_loopback,
					     uint32_t conn_max)
{
	return uplink_start_limits(host_loopback, conn_max, 0);
}

static struct slirp_uplink *uplink_start(bool host_loopback)
{
	return uplink_start_max(host_loopback, 0);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void send_frame(struct slirp_uplink *u, uint8_t *data, uint32_t len)
{
	struct frame f = {.data = data, .len = len};

	assert_int_equal(slirp_uplink_input(u, &f), 0);
}

/*
 * Wait up to 2 s for a frame from the uplink with EtherType @type (and,
 * for IPv4, protocol @proto); copy it to @out. Return: its length.
 */
static uint32_t wait_frame(struct slirp_uplink *u, uint16_t type, int proto,
			   uint8_t *out, size_t cap)
{
	struct frame_batch b;
	struct pollfd p = {.fd = slirp_uplink_output_fd(u), .events = POLLIN};

	for (int tries = 0; tries < 40; tries++) {
		b.count = 0;
		slirp_uplink_output_peek(u, &b);
		for (uint32_t i = 0; i < b.count; i++) {
			struct frame *f = &b.f[i];

			if (f->len < 34 || get16(f->data + 12) != type)
				continue;
			if (proto >= 0 && f->data[23] != proto)
				continue;
			assert_true(f->len <= cap);
			memcpy(out, f->data, f->len);
			slirp_uplink_output_release(u);
			return f->len;
		}
		slirp_uplink_output_release(u);
		poll(&p, 1, 50);
	}
	return 0;
}

/* The guest asks who has 10.0.2.2: libslirp learns its MAC and answers. */
static void guest_arp(struct slirp_uplink *u)
{
	uint8_t f[42] = {0}, r[2048];
	uint32_t n;

	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1); /* request */
	memcpy(f + 22, guest_mac, 6);
	inet_pton(AF_INET, "10.0.2.15", f + 28);
	inet_pton(AF_INET, "10.0.2.2", f + 38);
	send_frame(u, f, sizeof(f));
	n = wait_frame(u, 0x0806, -1, r, sizeof(r));
	assert_true(n >= 42);
	assert_int_equal(get16(r + 20), 2); /* reply */
	assert_memory_equal(r + 22, gw_mac, 6);
	assert_memory_equal(r, guest_mac, 6);
}

/* The guest frames come from (a second guest: another address). */
static const char *guest_ip = "10.0.2.15";

/* An IPv4 header from the guest (@guest_ip) to @dst, checksum filled. */
static void ip4_header(uint8_t *ip, const char *dst, uint8_t proto,
		       uint16_t total)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, total);
	put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, guest_ip, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
}

static void eth_header(uint8_t *f)
{
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
}

static void uplink_arp_and_ping(void **state)
{
	struct slirp_uplink *u = uplink_start(false);
	uint8_t f[14 + 20 + 16], r[2048];
	uint8_t *icmp = f + 34;
	uint32_t n;

	guest_arp(u);
	eth_header(f);
	ip4_header(f + 14, "10.0.2.2", 1, 36);
	memset(icmp, 0, 16);
	icmp[0] = 8; /* echo request */
	put16(icmp + 4, 0x4242);
	put16(icmp + 6, 1);
	memcpy(icmp + 8, "loomloom", 8);
	put16(icmp + 2, fold(sum16(icmp, 16, 0)));
	send_frame(u, f, sizeof(f));
	n = wait_frame(u, 0x0800, 1, r, sizeof(r));
	assert_true(n >= 34 + 16);
	assert_int_equal(r[34], 0); /* echo reply */
	assert_int_equal(get16(r + 38), 0x4242);
	slirp_uplink_free(u);
}

/* A TCP SYN from the guest's @sport to @dst:@port, full checksum. */
static void send_syn_from(struct slirp_uplink *u, uint16_t sport,
			  const char *dst, uint16_t port)
{
	uint8_t f[14 + 20 + 20], ph[12];
	uint8_t *tcp = f + 34;
	uint32_t sum;

	eth_header(f);
	ip4_header(f + 14, dst, 6, 40);
	memset(tcp, 0, 20);
	put16(tcp, sport);
	put16(tcp + 2, port);
	tcp[4] = 0x11; /* sequence number */
	tcp[12] = 5 << 4;
	tcp[13] = 0x02; /* SYN */
	put16(tcp + 14, 65535);
	memcpy(ph, f + 14 + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, 20);
	sum = sum16(ph, 12, 0);
	put16(tcp + 16, fold(sum16(tcp, 20, sum)));
	send_frame(u, f, sizeof(f));
}

static void send_syn(struct slirp_uplink *u, const char *dst, uint16_t port)
{
	send_syn_from(u, 40000, dst, port);
}

/* A listener on 127.0.0.1:(any); *port gets its number. */
static int loopback_listener(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (void *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 4), 0);
	assert_int_equal(getsockname(s, (void *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return s;
}

static bool accepted_within(int s, int ms)
{
	struct pollfd p = {.fd = s, .events = POLLIN};
	int c;

	if (poll(&p, 1, ms) != 1)
		return false;
	c = accept(s, NULL, NULL);
	if (c < 0)
		return false;
	close(c);
	return true;
}

/* host_loopback: the gateway address is the host's 127.0.0.1. */
static void uplink_tcp_to_host_loopback(void **state)
{
	struct slirp_uplink *u = uplink_start(true);
	uint16_t port;
	int s = loopback_listener(&port);

	guest_arp(u);
	send_syn(u, "10.0.2.2", port);
	assert_true(accepted_within(s, 2000));
	close(s);
	slirp_uplink_free(u);
}

static void uplink_no_host_loopback(void **state)
{
	struct slirp_uplink *u = uplink_start(false);
	uint16_t port;
	int s = loopback_listener(&port);

	guest_arp(u);
	send_syn(u, "10.0.2.2", port);
	assert_false(accepted_within(s, 500));
	close(s);
	slirp_uplink_free(u);
}

static struct sockaddr_in sin4(const char *addr, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port)};

	inet_pton(AF_INET, addr, &a.sin_addr);
	return a;
}

static int connect_nb(uint16_t port)
{
	struct sockaddr_in a = sin4("127.0.0.1", port);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(s >= 0);
	if (connect(s, (void *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * A forward 127.0.0.1:P -> 10.0.2.15:80: a host connection becomes a SYN
 * to the guest; after removal the port is closed.
 */
static void uplink_forward_add_remove(void **state)
{
	struct slirp_uplink *u = uplink_start(false);
	struct slirp_uplink_stats st;
	uint16_t port;
	int busy = loopback_listener(&port), c;
	struct sockaddr_in g = sin4("10.0.2.15", 80);
	struct sockaddr_in h = sin4("127.0.0.1", port);
	uint8_t r[2048];
	uint32_t n;

	guest_arp(u);
	/* The port is taken by our own listener: a clear error. */
	assert_int_equal(slirp_uplink_forward_add(u, false, (void *)&h,
						  sizeof(h), (void *)&g,
						  sizeof(g)),
			 -EADDRINUSE);
	close(busy);
	assert_int_equal(slirp_uplink_forward_add(u, false, (void *)&h,
						  sizeof(h), (void *)&g,
						  sizeof(g)),
			 0);
	assert_int_equal(slirp_uplink_forward_add(u, false, (void *)&h,
						  sizeof(h), (void *)&g,
						  sizeof(g)),
			 -EEXIST);
	slirp_uplink_stats_get(u, &st);
	assert_int_equal(st.forwards, 1);

	c = connect_nb(port);
	assert_true(c >= 0);
	n = wait_frame(u, 0x0800, 6, r, sizeof(r));
	assert_true(n >= 54);
	assert_int_equal(r[14 + 20 + 13] & 0x02, 0x02); /* SYN */
	assert_int_equal(get16(r + 14 + 20 + 2), 80);
	assert_memory_equal(r + 14 + 16, &g.sin_addr, 4);
	/* The half-open connection counts for its forward. */
	assert_int_equal(slirp_uplink_forward_conns(u, false, port), 1);
	assert_int_equal(slirp_uplink_forward_conns(u, false, port + 1), 0);
	assert_int_equal(slirp_uplink_forward_conns(u, true, port), -1);
	close(c);

	assert_int_equal(slirp_uplink_forward_remove(u, false, (void *)&h,
						     sizeof(h)),
			 0);
	assert_int_equal(slirp_uplink_forward_remove(u, false, (void *)&h,
						     sizeof(h)),
			 -ENOENT);
	c = connect_nb(port);
	if (c >= 0) {
		struct pollfd p = {.fd = c, .events = POLLOUT};
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		assert_int_equal(poll(&p, 1, 1000), 1);
		getsockopt(c, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		assert_int_equal(soerr, ECONNREFUSED);
		close(c);
	}
	slirp_uplink_free(u);
}

/* connect() to 127.0.0.1:@port. Return: 0 accepted, or the errno. */
static int connect_result(uint16_t port)
{
	int c = connect_nb(port), soerr = 0;
	socklen_t sl = sizeof(soerr);
	struct pollfd p = {.fd = c, .events = POLLOUT};

	if (c < 0)
		return errno;
	assert_int_equal(poll(&p, 1, 1000), 1);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	close(c);
	return soerr;
}

/* Whether another program could bind 127.0.0.1:@port. */
static bool port_free(uint16_t port)
{
	struct sockaddr_in a = sin4("127.0.0.1", port);
	int s = socket(AF_INET, SOCK_STREAM, 0), r;

	r = bind(s, (void *)&a, sizeof(a));
	close(s);
	return r == 0;
}

/*
 * A forward without a guest (a name with no address) holds its port and
 * refuses; pointed at a guest it forwards there; pointed at another, the
 * SYN goes to the new one; pointed at none, it refuses again.
 */
static void uplink_forward_retarget(void **state)
{
	struct slirp_uplink *u = uplink_start(false);
	uint16_t port;
	int l = loopback_listener(&port), c;
	struct sockaddr_in g1 = sin4("10.0.2.15", 80), g2 = sin4("10.0.2.16", 81);
	struct sockaddr_in h = sin4("127.0.0.1", port);
	uint8_t r[2048];

	close(l);
	guest_arp(u);
	assert_int_equal(slirp_uplink_forward_add(u, false, (void *)&h,
						  sizeof(h), NULL, 0), 0);
	assert_int_equal(connect_result(port), ECONNREFUSED);
	assert_false(port_free(port)); /* held: nobody else takes it */

	assert_int_equal(slirp_uplink_forward_retarget(u, false, (void *)&h,
				sizeof(h), (void *)&g1, sizeof(g1)), 0);
	c = connect_nb(port);
	assert_true(c >= 0);
	assert_true(wait_frame(u, 0x0800, 6, r, sizeof(r)) >= 54);
	assert_memory_equal(r + 14 + 16, &g1.sin_addr, 4);
	close(c);

	assert_int_equal(slirp_uplink_forward_retarget(u, false, (void *)&h,
				sizeof(h), (void *)&g2, sizeof(g2)), 0);
	c = connect_nb(port);
	assert_true(c >= 0);
	/* libslirp knows no MAC for g2 yet: it asks for it, to reach it. */
	assert_true(wait_frame(u, 0x0806, -1, r, sizeof(r)) >= 42);
	assert_memory_equal(r + 14 + 24, &g2.sin_addr, 4);
	close(c);

	assert_int_equal(slirp_uplink_forward_retarget(u, false, (void *)&h,
				sizeof(h), NULL, 0), 0);
	assert_int_equal(connect_result(port), ECONNREFUSED);
	assert_false(port_free(port));
	assert_int_equal(slirp_uplink_forward_retarget(u, true, (void *)&h,
				sizeof(h), NULL, 0), -ENOENT);
	assert_int_equal(slirp_uplink_forward_remove(u, false, (void *)&h,
						     sizeof(h)), 0);
	/* removed: the hold is let go (the two half-open connections
	 * towards the guests still keep the address; libslirp drops them
	 * at its connect timeout) */
	assert_int_equal(connect_result(port), ECONNREFUSED);
	slirp_uplink_free(u);
}

/* A partial checksum (what a TAP hands us) is completed before libslirp. */
static void uplink_completes_partial_checksum(void **state)
{
	struct slirp_uplink *u = uplink_start(true);
	uint16_t port;
	int s = loopback_listener(&port);
	uint8_t f[14 + 20 + 20], ph[12];
	uint8_t *tcp = f + 34;
	struct frame fr = {.data = f, .len = sizeof(f)};

	guest_arp(u);
	eth_header(f);
	ip4_header(f + 14, "10.0.2.2", 6, 40);
	memset(tcp, 0, 20);
	put16(tcp, 40001);
	put16(tcp + 2, port);
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;
	put16(tcp + 14, 65535);
	memcpy(ph, f + 26, 8);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, 20);
	/* Only the pseudo-header sum, not complemented: virtio's rule. */
	put16(tcp + 16, (uint16_t)~fold(sum16(ph, 12, 0)));
	fr.off.flags = FRAME_F_NEEDS_CSUM;
	fr.off.csum_start = 34;
	fr.off.csum_offset = 16;
	assert_int_equal(slirp_uplink_input(u, &fr), 0);
	assert_true(accepted_within(s, 2000));

	/* Offsets outside the frame: dropped and counted, nothing else. */
	fr.off.csum_start = 50;
	fr.off.csum_offset = 16;
	assert_int_equal(slirp_uplink_input(u, &fr), 0);
	fr.off.gso_type = FRAME_GSO_UDP_L4;
	assert_int_equal(slirp_uplink_input(u, &fr), -EPROTONOSUPPORT);
	for (int i = 0; i < 40; i++) {
		struct slirp_uplink_stats st;

		slirp_uplink_stats_get(u, &st);
		if (st.drops_bad == 1) {
			assert_int_equal(st.drops_gso, 1);
			break;
		}
		assert_true(i < 39);
		usleep(20000);
	}
	close(s);
	slirp_uplink_free(u);
}

/* At conn_max host sockets, a guest's new connections are dropped. */
static void uplink_connection_limit(void **state)
{
	struct slirp_uplink *u = uplink_start_max(true, 2);
	struct slirp_uplink_stats st;
	uint16_t port;
	int s = loopback_listener(&port);

	guest_arp(u);
	send_syn_from(u, 41000, "10.0.2.2", port);
	assert_true(accepted_within(s, 2000));
	send_syn_from(u, 41001, "10.0.2.2", port);
	assert_true(accepted_within(s, 2000));
	usleep(700000); /* libslirp's sockets are counted every 500 ms */
	send_syn_from(u, 41002, "10.0.2.2", port);
	assert_false(accepted_within(s, 500));
	slirp_uplink_stats_get(u, &st);
	assert_true(st.drops_conn_limit >= 1);
	assert_true(st.sockets >= 2);
	close(s);
	slirp_uplink_free(u);
}

/*
 * A guest at its own share: its new connections are dropped, another
 * guest's still go through (the network's limit is far away).
 */
static void uplink_guest_connection_limit(void **state)
{
	struct slirp_uplink *u = uplink_start_limits(true, 0, 2);
	struct slirp_uplink_stats st;
	uint16_t port;
	int s = loopback_listener(&port);

	guest_arp(u);
	send_syn_from(u, 42000, "10.0.2.2", port);
	assert_true(accepted_within(s, 2000));
	send_syn_from(u, 42001, "10.0.2.2", port);
	assert_true(accepted_within(s, 2000));
	usleep(700000); /* counted from libslirp's table every 500 ms */
	send_syn_from(u, 42002, "10.0.2.2", port);
	assert_false(accepted_within(s, 500));
	slirp_uplink_stats_get(u, &st);
	assert_true(st.drops_conn_guest >= 1);
	assert_int_equal(st.drops_conn_limit, 0);
	guest_ip = "10.0.2.16"; /* another guest */
	send_syn_from(u, 42003, "10.0.2.2", port);
	guest_ip = "10.0.2.15";
	assert_true(accepted_within(s, 2000));
	close(s);
	slirp_uplink_free(u);
}

static void uplink_refuses_bad_config(void **state)
{
	struct slirp_uplink_config c = {.prefix4 = 24, .mtu = 65521,
					.name = "bad"};
	struct slirp_uplink *u = NULL;

	inet_pton(AF_INET, "10.0.2.0", &c.net4);
	inet_pton(AF_INET, "10.0.2.2", &c.gw4);
	assert_int_equal(slirp_uplink_new(&c, &u), -EINVAL);
	c.mtu = 65520;
	assert_int_equal(slirp_uplink_new(&c, &u), 0);
	slirp_uplink_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fifo_order_and_wrap),
	    cmocka_unit_test(fifo_full_and_wakeup),
	    cmocka_unit_test(uplink_arp_and_ping),
	    cmocka_unit_test(uplink_tcp_to_host_loopback),
	    cmocka_unit_test(uplink_no_host_loopback),
	    cmocka_unit_test(uplink_forward_add_remove),
	    cmocka_unit_test(uplink_forward_retarget),
	    cmocka_unit_test(uplink_completes_partial_checksum),
	    cmocka_unit_test(uplink_connection_limit),
	    cmocka_unit_test(uplink_guest_connection_limit),
	    cmocka_unit_test(uplink_refuses_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
