/* SPDX-License-Identifier: MIT */
/* test_backends.c - the backend registry, backend classes, and the loopback backend end to end through a switch. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/loopback.h"
#include "backends/registry.h"
#include "switch/switch.h"
#include "tests/unit/test_switch_port.h"

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_x[6] = {0x02, 0, 0, 0, 0, 0x99}; /* nobody */

/* A 60-byte frame to @dst from mac_a, payload byte 0 = @seq. */
static void mkframe(uint8_t *buf, const uint8_t *dst, uint8_t seq)
{
	memset(buf, 0, 60);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, mac_a, 6);
	buf[12] = 0x88;
	buf[13] = 0xb5; /* local experimental ethertype */
	buf[14] = seq;
}

static struct switch_port_config access_cfg(const char *name)
{
	struct switch_port_config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.mode = SWITCH_PORT_ACCESS;
	c.access_vlan = 1;
	return c;
}

static bool fd_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* What every class declares is consistent with the ops it has. */
static void test_registry_classes(void **state)
{
	char names[128];

	assert_non_null(backend_lookup("tap"));
	assert_non_null(backend_lookup("shm"));
	assert_ptr_equal(backend_lookup("loopback"), &loopback_port_ops);
	assert_null(backend_lookup("nope"));
	assert_null(backend_lookup(NULL));
	assert_true(backend_count() >= 3);
	for (size_t i = 0; i < backend_count(); i++) {
		const struct port_ops *o = backend_at(i);

		assert_non_null(o->name);
		assert_ptr_equal(backend_lookup(o->name), o);
		assert_non_null(o->recv);
		assert_non_null(o->send);
		assert_non_null(o->poll_fd);
		assert_non_null(o->close);
		/* A port that is not level-triggered is polled and must be
		 * able to re-arm its notification before netd sleeps. */
		if (!(o->caps & PORT_CAP_POLL_LEVEL))
			assert_non_null(o->arm);
		/* Only something built from a declaration or opened. */
		assert_true(o->create || o->open);
	}
	assert_true(backend_lookup("tap")->caps & PORT_CAP_POLL_LEVEL);
	assert_true(backend_lookup("tap")->caps & PORT_CAP_TAKES_GSO);
	assert_non_null(backend_lookup("tap")->set_offload);
	assert_false(backend_lookup("shm")->caps & PORT_CAP_POLL_LEVEL);
	assert_null(backend_lookup("shm")->create);
	assert_int_equal(loopback_port_ops.caps, PORT_CAP_POLL_LEVEL);
	assert_null(loopback_port_ops.set_offload);
	backend_declarable_names(names, sizeof(names));
	assert_string_equal(names, "loopback, macvtap, tap, vde, vhost-user");
	/* vhost-user: polled rings (arm before sleeping), a link, whole
	 * frames only. */
	assert_int_equal(backend_lookup("vhost-user")->caps, 0);
	assert_non_null(backend_lookup("vhost-user")->create);
	assert_non_null(backend_lookup("vhost-user")->arm);
	assert_non_null(backend_lookup("vhost-user")->link);
	assert_null(backend_lookup("vhost-user")->set_offload);
	/* vde: level-triggered epoll fd of its own, plain frames, a link. */
	assert_int_equal(backend_lookup("vde")->caps, PORT_CAP_POLL_LEVEL);
	assert_non_null(backend_lookup("vde")->create);
	assert_non_null(backend_lookup("vde")->link);
	assert_null(backend_lookup("vde")->set_offload);
	backend_declarable_names(names, 5);
	assert_true(strlen(names) < 5);
}

static void test_create_refused(void **state)
{
	struct switch_core *sw = switch_create(NULL);
	struct switch_port_config c = access_cfg("p");
	struct port_decl d = {.type = "nope", .name = "p"};
	char err[256] = "";

	assert_non_null(sw);
	assert_int_equal(backend_port_create(sw, &d, &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "unknown type 'nope'"));
	assert_non_null(strstr(err, "loopback, macvtap, tap"));
	d.type = "shm";
	assert_int_equal(backend_port_create(sw, &d, &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "cannot be declared with type 'shm'"));
	/* A config the switch refuses: the created port is closed again
	 * (ASan reports the leak otherwise). */
	d.type = "loopback";
	c.access_vlan = 5000;
	assert_true(backend_port_create(sw, &d, &c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "switch refused it"));
	switch_destroy(sw);
}

/*
 * Port A (the test backend) and a loopback port built through the registry
 * from a declaration: what A floods comes back to A through the loopback.
 */
static void test_loopback_end_to_end(void **state)
{
	struct switch_core *sw = switch_create(NULL);
	struct switch_port_config c = access_cfg("a");
	struct port_decl d = {.type = "loopback", .name = "lo0"};
	struct switch_port_stats st;
	struct frame_batch b;
	struct tport *a = tport_new();
	uint8_t buf[60];
	char err[256] = "";
	struct port *lo;
	int ia, il, fd;

	assert_non_null(sw);
	ia = switch_port_open(sw, &tport_ops, a, &c);
	assert_true(ia >= 0);
	c = access_cfg("lo0");
	il = backend_port_create(sw, &d, &c, err, sizeof(err));
	assert_true(il >= 0);
	lo = switch_port_get(sw, (uint32_t)il);
	assert_non_null(lo);
	assert_ptr_equal(lo->ops, backend_lookup("loopback"));
	fd = lo->ops->poll_fd(lo);
	assert_true(fd >= 0);
	assert_false(fd_readable(fd));

	/* A sends to a MAC nobody has: flooded to the loopback only. */
	mkframe(buf, mac_x, 7);
	memset(&b, 0, sizeof(b));
	b.count = 1;
	b.f[0] = (struct frame){.data = buf, .len = sizeof(buf)};
	assert_int_equal(switch_port_input(sw, (uint32_t)ia, &b), 1);
	/* Level-triggered: readable exactly while a frame waits. */
	assert_true(fd_readable(fd));
	assert_int_equal(a->n_rec, 0);
	switch_poll(sw);
	assert_false(fd_readable(fd));
	/* It came back in through the loopback and was flooded to A. */
	assert_int_equal(a->n_rec, 1);
	assert_int_equal(a->rec[0].len, 60);
	assert_memory_equal(a->rec[0].data, buf, 60);
	assert_int_equal(switch_port_stats_get(sw, (uint32_t)il, &st), 0);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(st.rx_frames, 1);
	assert_int_equal(switch_port_stats_get(sw, (uint32_t)ia, &st), 0);
	assert_int_equal(st.tx_frames, 1);
	/* switch_destroy closes the loopback (ASan: nothing leaks). */
	switch_destroy(sw);
	tport_free(a);
}

/* More than LOOPBACK_SLOTS frames before it runs: the rest is dropped and
 * counted; what was queued comes back in order. */
static void test_loopback_full(void **state)
{
	struct switch_core *sw = switch_create(NULL);
	struct switch_port_config c = access_cfg("a");
	struct port_decl d = {.type = "loopback", .name = "lo0"};
	static uint8_t bufs[5 * FRAME_BATCH_MAX][60];
	struct switch_port_stats st;
	struct frame_batch b;
	struct tport *a = tport_new();
	char err[256];
	int ia, il;

	ia = switch_port_open(sw, &tport_ops, a, &c);
	c = access_cfg("lo0");
	il = backend_port_create(sw, &d, &c, err, sizeof(err));
	assert_true(ia >= 0 && il >= 0);
	for (int k = 0; k < 5; k++) {
		memset(&b, 0, sizeof(b));
		for (int i = 0; i < FRAME_BATCH_MAX; i++) {
			uint8_t *f = bufs[k * FRAME_BATCH_MAX + i];

			mkframe(f, mac_x, (uint8_t)(k * FRAME_BATCH_MAX + i));
			b.f[b.count++] = (struct frame){.data = f, .len = 60};
		}
		switch_port_input(sw, (uint32_t)ia, &b);
	}
	assert_int_equal(switch_port_stats_get(sw, (uint32_t)il, &st), 0);
	assert_int_equal(st.tx_frames, LOOPBACK_SLOTS);
	assert_int_equal(st.drops[SWITCH_DROP_TX_FULL],
			 5 * FRAME_BATCH_MAX - LOOPBACK_SLOTS);
	for (int i = 0; i < 10; i++)
		switch_poll(sw);
	assert_int_equal(a->n_rec, LOOPBACK_SLOTS);
	for (uint32_t i = 0; i < a->n_rec; i++)
		assert_int_equal(a->rec[i].data[14], (uint8_t)i);
	switch_destroy(sw);
	tport_free(a);
}

/* switch_tick runs the tick op of every working port, not broken ones. */
static void test_switch_tick(void **state)
{
	struct switch_core *sw = switch_create(NULL);
	struct switch_port_config c = access_cfg("a");
	struct tport *a = tport_new(), *b = tport_new();

	assert_true(switch_port_open(sw, &tport_ops, a, &c) >= 0);
	assert_true(switch_port_open(sw, &tport_ops, b, &c) >= 0);
	switch_tick(sw);
	switch_tick(sw);
	assert_int_equal(a->ticks, 2);
	assert_int_equal(b->ticks, 2);
	b->recv_error = -EIO; /* broken after the next poll */
	switch_poll(sw);
	switch_tick(sw);
	assert_int_equal(a->ticks, 3);
	assert_int_equal(b->ticks, 2);
	switch_destroy(sw);
	tport_free(a);
	tport_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_classes),
		cmocka_unit_test(test_create_refused),
		cmocka_unit_test(test_loopback_end_to_end),
		cmocka_unit_test(test_loopback_full),
		cmocka_unit_test(test_switch_tick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
