/* SPDX-License-Identifier: MIT */
/* test_dns_tcp.c - DNS over TCP (netd/dns_tcp.c) on real loopback sockets: pipelining, the connection limit, oversize and idle closes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/evloop.h"
#include "netd/dns_tcp.h"

/* The "answer": the query with its first byte + 1, so order shows. */
static int echo_answer(void *arg, const struct pkt_view *q, uint8_t *out,
		       size_t cap)
{
	(void)arg;
	if (q->len > cap)
		return 0;
	memcpy(out, q->data, q->len);
	out[0]++;
	return (int)q->len;
}

struct fixture {
	struct evloop *l;
	struct dns_tcp *t;
	struct sockaddr_in addr;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	socklen_t len = sizeof(f->addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	f->addr.sin_family = AF_INET;
	f->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&f->addr, sizeof(f->addr)),
			 0);
	assert_int_equal(listen(fd, 128), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&f->addr, &len), 0);
	f->l = evloop_new();
	assert_non_null(f->l);
	f->t = dns_tcp_new(f->l, fd, 300, echo_answer, NULL);
	assert_non_null(f->t);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dns_tcp_free(f->t);
	evloop_free(f->l);
	free(f);
	return 0;
}

static int client(struct fixture *f)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&f->addr,
				 sizeof(f->addr)),
			 0);
	return fd;
}

static void spin(struct fixture *f, int ms)
{
	uint64_t end = evloop_now_ms() + (uint64_t)ms;

	while (evloop_now_ms() < end)
		evloop_run_once(f->l, 1);
}

/* Read exactly @len bytes while the loop serves; -1 on EOF. */
static int read_n(struct fixture *f, int fd, uint8_t *b, size_t len)
{
	size_t got = 0;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (int tries = 0; got < len && tries < 200; tries++) {
		ssize_t n = recv(fd, b + got, len - got, 0);

		if (n == 0)
			return -1;
		if (n > 0)
			got += (size_t)n;
		else
			evloop_run_once(f->l, 10);
	}
	return got == len ? 0 : -2;
}

static bool closed_by_server(struct fixture *f, int fd)
{
	uint8_t b[8];

	return read_n(f, fd, b, sizeof(b)) == -1;
}

static void test_pipelined_in_order(void **state)
{
	struct fixture *f = *state;
	uint8_t msg[] = { 0, 3, 'a', 'b', 'c', 0, 2, 'x', 'y' }, b[9];
	int fd = client(f);

	/* Both queries in one write, the second split from its length. */
	assert_int_equal(send(fd, msg, 6, 0), 6);
	spin(f, 30);
	assert_int_equal(send(fd, msg + 6, 3, 0), 3);
	assert_int_equal(read_n(f, fd, b, sizeof(b)), 0);
	assert_memory_equal(b, "\0\3bbc\0\2yy", 9);
	assert_int_equal(dns_tcp_conns(f->t), 1);
	close(fd);
	spin(f, 30);
	assert_int_equal(dns_tcp_conns(f->t), 0);
}

static void test_connection_limit(void **state)
{
	struct fixture *f = *state;
	int fds[DNS_TCP_CONNS_MAX + 1];

	/* Well within the idle time (300 ms): none is closed for that. */
	for (int i = 0; i <= DNS_TCP_CONNS_MAX; i++) {
		fds[i] = client(f);
		evloop_run_once(f->l, 0);
	}
	spin(f, 20);
	assert_int_equal(dns_tcp_conns(f->t), DNS_TCP_CONNS_MAX);
	/* The one past the limit was closed; the first still answers. */
	assert_true(closed_by_server(f, fds[DNS_TCP_CONNS_MAX]));
	{
		uint8_t q[] = { 0, 1, 'q' }, b[3];

		assert_int_equal(send(fds[0], q, 3, 0), 3);
		assert_int_equal(read_n(f, fds[0], b, 3), 0);
		assert_int_equal(b[2], 'r');
	}
	for (int i = 0; i <= DNS_TCP_CONNS_MAX; i++)
		close(fds[i]);
}

static void test_oversize_and_idle_close(void **state)
{
	struct fixture *f = *state;
	uint8_t big[2] = { (DNS_TCP_QUERY_MAX + 1) >> 8,
			   (DNS_TCP_QUERY_MAX + 1) & 255 };
	int a = client(f), b = client(f);

	assert_int_equal(send(a, big, 2, 0), 2);
	assert_true(closed_by_server(f, a));
	/* b says nothing: closed after the idle time (300 ms here). */
	spin(f, 100);
	assert_int_equal(dns_tcp_conns(f->t), 1);
	spin(f, 400);
	assert_int_equal(dns_tcp_conns(f->t), 0);
	assert_true(closed_by_server(f, b));
	close(a);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipelined_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oversize_and_idle_close,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
