/* SPDX-License-Identifier: MIT */
/* test_port_link.c - a port's link set down by hand: link_down in the network model, and netd's shm port header flag as loom-vmm's shm NIC backend sees it. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/shm.h"
#include "common/netconf.h"
#include "vmm/net/backend.h"

extern const struct nic_backend_ops nic_shm_ops;

/* ---- link_down in the network model ---------------------------------- */

static int load(const char *tail, struct netconf **cfg,
		struct netconf_error *err)
{
	char y[1024];

	snprintf(y, sizeof(y),
		 "networks:\n"
		 "  - name: lab\n"
		 "    mode: switch\n"
		 "    ports:\n"
		 "      - {name: a, tap: lmxa}\n"
		 "%s",
		 tail);
	return netconf_load_buffer("t.yaml", y, strlen(y), cfg, err);
}

static void test_netconf_link_down(void **state)
{
	struct netconf *cfg = NULL;
	struct netconf_error err;
	struct netconf_net back;
	json_t *j;

	(void)state;
	assert_int_equal(load("    link_down: [a, web.1]\n", &cfg, &err), 0);
	assert_int_equal(cfg->networks[0].link_down_count, 2);
	assert_true(netconf_link_is_down(&cfg->networks[0], "a"));
	assert_true(netconf_link_is_down(&cfg->networks[0], "web.1"));
	assert_false(netconf_link_is_down(&cfg->networks[0], "web"));
	/* The JSON twin (networks.json) carries it both ways. */
	j = netconf_net_to_json(&cfg->networks[0]);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "link_down")), 2);
	memset(&back, 0, sizeof(back));
	assert_int_equal(netconf_net_from_json(j, &back, "", &err), 0);
	assert_true(netconf_link_is_down(&back, "web.1"));
	json_decref(j);
	/* Editing: set, set again (no duplicate), clear, clear again. */
	assert_int_equal(netconf_link_set(&back, "b", true), 0);
	assert_int_equal(netconf_link_set(&back, "b", true), 0);
	assert_int_equal(back.link_down_count, 3);
	assert_int_equal(netconf_link_set(&back, "a", false), 0);
	assert_int_equal(netconf_link_set(&back, "a", false), 0);
	assert_int_equal(back.link_down_count, 2);
	assert_false(netconf_link_is_down(&back, "a"));
	assert_true(netconf_link_is_down(&back, "b"));
	netconf_net_clear(&back);
	netconf_free(cfg);
	cfg = NULL;

	/* Refused: a name twice, a name that is no port name, not a list. */
	assert_int_equal(load("    link_down: [a, a]\n", &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(load("    link_down: [\"a b\"]\n", &cfg, &err),
			 -EINVAL);
	assert_int_equal(load("    link_down: a\n", &cfg, &err), -EINVAL);
	assert_null(cfg);
}

/* ---- the shm port: netd's side and loom-vmm's backend ---------------- */

struct fake_netd {
	char path[108];
	int lsock;
	int conn;
	bool link_down; /* what the next attach starts with */
	struct shm_port *sp;
	int ret;
};

/* Accept one attach as netd/vmport.c does, with the backend's code. */
static void *fake_netd_serve(void *arg)
{
	struct fake_netd *f = arg;
	struct shm_port_config cfg = { .features = SHM_F_ALL,
				       .link_down = f->link_down };
	struct shm_attach_req req;
	struct shm_port_args args;

	f->conn = accept(f->lsock, NULL, NULL);
	f->ret = f->conn < 0 ? -errno : 0;
	if (!f->ret)
		f->ret = shm_port_read_attach(f->conn, 2000, &req);
	if (!f->ret)
		f->ret = shm_port_accept(f->conn, &req, &cfg, &args);
	if (!f->ret) {
		f->sp = shm_port_new(&args);
		f->ret = f->sp ? 0 : -ENOMEM;
	}
	return NULL;
}

struct link_events {
	int changes;
};

static void on_link(void *opaque)
{
	((struct link_events *)opaque)->changes++;
}

static const struct nic_backend_events events = { .link_changed = on_link };

/* Attach loom-vmm's shm backend to a fake netd; *@nb, f->sp set. */
static void attach(struct fake_netd *f, struct link_events *ev,
		   struct nic_backend **nb)
{
	struct nic_config cfg = { .net = "lab", .port = "vm1",
				  .mac = { 0x52, 0x4c, 0, 0, 0, 1 } };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t th;

	snprintf(f->path, sizeof(f->path), "/tmp/loom-test-link-%d.sock",
		 (int)getpid());
	unlink(f->path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lsock >= 0);
	assert_int_equal(bind(f->lsock, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
	assert_int_equal(listen(f->lsock, 1), 0);
	assert_int_equal(pthread_create(&th, NULL, fake_netd_serve, f), 0);
	cfg.netd_sock = f->path;
	assert_int_equal(nic_backend_open_ops(nb, &nic_shm_ops, &cfg, "e1000",
					      0, &events, ev),
			 0);
	pthread_join(th, NULL);
	assert_int_equal(f->ret, 0);
	assert_non_null(f->sp);
}

static void detach(struct fake_netd *f, struct nic_backend *nb)
{
	nic_backend_close(nb);
	shm_port_free(f->sp);
	close(f->conn);
	close(f->lsock);
	unlink(f->path);
}

/* netd sends one 60-byte frame; Return: frames its send took. */
static int netd_send(struct fake_netd *f, uint8_t tag)
{
	static uint8_t buf[60];
	struct frame_batch b;

	memset(buf, 0xff, 12);
	buf[12] = 0x08;
	buf[14] = tag;
	memset(&b, 0, sizeof(b));
	b.count = 1;
	b.f[0].data = buf;
	b.f[0].len = sizeof(buf);
	return shm_port_send(f->sp, &b);
}

/* What the model would receive now: the tag of the next frame, or -1. */
static int vmm_recv(struct nic_backend *nb)
{
	struct nic_frame fr;
	int tag;

	nic_backend_poll(nb);
	if (nic_backend_rx_next(nb, &fr) != 1)
		return -1;
	tag = fr.data[14];
	nic_backend_rx_done(nb);
	nic_backend_rx_flush(nb);
	return tag;
}

static void test_shm_link_down_up(void **state)
{
	struct link_events ev = { 0 };
	struct fake_netd f = { .conn = -1 };
	struct nic_backend *nb;

	(void)state;
	attach(&f, &ev, &nb);
	assert_true(nic_backend_link_up(nb));
	assert_int_equal(netd_send(&f, 1), 1);
	assert_int_equal(vmm_recv(nb), 1);

	/* A frame waits in the ring when the link goes down. */
	assert_int_equal(netd_send(&f, 2), 1);
	shm_port_set_link(f.sp, false);
	nic_backend_poll(nb);
	assert_int_equal(ev.changes, 1);
	assert_false(nic_backend_link_up(nb));
	/* While down netd's send drops, and the guest gets nothing. */
	assert_int_equal(netd_send(&f, 3), 0);
	assert_int_equal(vmm_recv(nb), -1);
	/* The VMM cannot send either. */
	assert_null(nic_backend_tx_alloc(nb, 60));

	shm_port_set_link(f.sp, true);
	nic_backend_poll(nb);
	assert_int_equal(ev.changes, 2);
	assert_true(nic_backend_link_up(nb));
	/* The frame queued before the link went down was dropped with it. */
	assert_int_equal(vmm_recv(nb), -1);
	assert_int_equal(netd_send(&f, 4), 1);
	assert_int_equal(vmm_recv(nb), 4);
	assert_non_null(nic_backend_tx_alloc(nb, 60));
	/* The same state again is no change for the guest. */
	shm_port_set_link(f.sp, true);
	nic_backend_poll(nb);
	assert_int_equal(ev.changes, 2);
	detach(&f, nb);
}

/* A port whose link was set down before the VMM attached (netd restarted,
 * the VMM re-attached) starts down: the guest never sees it up. */
static void test_shm_link_down_at_attach(void **state)
{
	struct link_events ev = { 0 };
	struct fake_netd f = { .conn = -1, .link_down = true };
	struct nic_backend *nb;

	(void)state;
	attach(&f, &ev, &nb);
	assert_false(nic_backend_link_up(nb));
	nic_backend_poll(nb);
	assert_int_equal(ev.changes, 0);
	assert_int_equal(netd_send(&f, 1), 0);
	shm_port_set_link(f.sp, true);
	nic_backend_poll(nb);
	assert_int_equal(ev.changes, 1);
	assert_true(nic_backend_link_up(nb));
	/* The VMM's own setting (loom vm link) still wins over netd's. */
	nic_backend_set_admin(nb, false);
	nic_backend_poll(nb);
	assert_false(nic_backend_link_up(nb));
	assert_int_equal(ev.changes, 2);
	detach(&f, nb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netconf_link_down),
		cmocka_unit_test(test_shm_link_down_up),
		cmocka_unit_test(test_shm_link_down_at_attach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
