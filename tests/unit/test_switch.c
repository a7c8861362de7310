/* SPDX-License-Identifier: MIT */
/* test_switch.c - cmocka tests of the L2 switch through test ports. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "switch/switch.h"
#include "tests/unit/test_switch_port.h"

enum { NPORTS_MAX = 8, NS = 1000000000 };

static uint64_t fake_ns;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_ns;
}

struct env {
	struct switch_core *sw;
	struct tport *tp[NPORTS_MAX];
	int id[NPORTS_MAX];
	int n;
	int events;
	int last_event_err;
};

static void on_port_event(void *arg, uint32_t port_id, int err)
{
	struct env *e = arg;

	(void)port_id;
	e->events++;
	e->last_event_err = err;
}

static struct env *env_new_cfg(struct switch_config *cfg)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	fake_ns = 1000ull * NS;
	cfg->clock_ns = fake_clock;
	cfg->port_event = on_port_event;
	cfg->event_arg = e;
	e->sw = switch_create(cfg);
	assert_non_null(e->sw);
	return e;
}

static struct env *env_new(void)
{
	struct switch_config cfg = {0};

	return env_new_cfg(&cfg);
}

static void env_free(struct env *e)
{
	int i;

	switch_destroy(e->sw);
	for (i = 0; i < e->n; i++)
		tport_free(e->tp[i]);
	free(e);
}

static struct switch_port_config cfg_access(uint16_t vlan)
{
	struct switch_port_config c;

	memset(&c, 0, sizeof(c));
	c.mode = SWITCH_PORT_ACCESS;
	c.access_vlan = vlan;
	return c;
}

/* Trunk carrying the VIDs of @allowed (0-terminated), native @native. */
static struct switch_port_config cfg_trunk(uint16_t native,
					   const uint16_t *allowed)
{
	struct switch_port_config c;

	memset(&c, 0, sizeof(c));
	c.mode = SWITCH_PORT_TRUNK;
	c.native_vlan = native;
	while (allowed && *allowed)
		switch_vlan_allow(&c, *allowed++);
	return c;
}

static int env_port(struct env *e, struct switch_port_config c)
{
	int i = e->n++;

	assert_true(i < NPORTS_MAX);
	e->tp[i] = tport_new();
	assert_non_null(e->tp[i]);
	e->id[i] = switch_port_open(e->sw, &tport_ops, e->tp[i], &c);
	assert_true(e->id[i] >= 0);
	return i;
}

static void mac(uint8_t *m, unsigned n)
{
	m[0] = 0x02;
	m[1] = 0;
	m[2] = (uint8_t)(n >> 24);
	m[3] = (uint8_t)(n >> 16);
	m[4] = (uint8_t)(n >> 8);
	m[5] = (uint8_t)n;
}

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/*
 * Build a frame dst/src [tag tci] type payload into @buf.
 * @tci: -1 for untagged. Return: length.
 */
static uint32_t mkframe(uint8_t *buf, const uint8_t *dst, const uint8_t *src,
			int tci, uint32_t paylen)
{
	uint32_t off = 12, i;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	if (tci >= 0) {
		buf[off++] = 0x81;
		buf[off++] = 0x00;
		buf[off++] = (uint8_t)(tci >> 8);
		buf[off++] = (uint8_t)tci;
	}
	buf[off++] = 0x08;
	buf[off++] = 0x00;
	for (i = 0; i < paylen; i++)
		buf[off + i] = (uint8_t)(i * 7 + 3);
	return off + paylen;
}

static uint32_t mkframe_n(uint8_t *buf, unsigned dst, unsigned src, int tci,
			  uint32_t paylen)
{
	uint8_t d[6], s[6];

	mac(d, dst);
	mac(s, src);
	return mkframe(buf, d, s, tci, paylen);
}

static int input1(struct env *e, int port, uint8_t *data, uint32_t len)
{
	struct frame_batch b;

	memset(&b, 0, sizeof(b));
	b.count = 1;
	b.f[0].data = data;
	b.f[0].len = len;
	return switch_port_input(e->sw, (uint32_t)e->id[port], &b);
}

static void clear_all(struct env *e)
{
	int i;

	for (i = 0; i < e->n; i++)
		tport_clear(e->tp[i]);
}

static struct switch_port_stats stats(struct env *e, int port)
{
	struct switch_port_stats st;

	assert_int_equal(
	    switch_port_stats_get(e->sw, (uint32_t)e->id[port], &st), 0);
	return st;
}

struct fdb_find_ctx {
	uint8_t mac[6];
	uint16_t vlan;
	int found_port;
	uint32_t age;
	int n;
};

static int fdb_find_cb(void *arg, const struct switch_fdb_entry *ent)
{
	struct fdb_find_ctx *c = arg;

	c->n++;
	if (!memcmp(ent->mac, c->mac, 6) && ent->vlan == c->vlan) {
		c->found_port = (int)ent->port_id;
		c->age = ent->age_sec;
	}
	return 0;
}

/* Port id the FDB holds for MAC n on @vlan, or -1. */
static int fdb_port_of(struct env *e, unsigned n, uint16_t vlan)
{
	struct fdb_find_ctx c = {.vlan = vlan, .found_port = -1};

	mac(c.mac, n);
	switch_fdb_dump(e->sw, fdb_find_cb, &c);
	return c.found_port;
}

/* ---- learning and aging ---- */

static void test_learning(void **state)
{
	struct env *e = env_new();
	uint8_t buf[128];
	uint32_t len;
	int a, b, c;

	(void)state;
	a = env_port(e, cfg_access(1));
	b = env_port(e, cfg_access(1));
	c = env_port(e, cfg_access(1));

	/* Unknown destination: flooded to b and c, not back to a. */
	len = mkframe_n(buf, 0xb, 0xa, -1, 46);
	assert_int_equal(input1(e, a, buf, len), 1);
	assert_int_equal(e->tp[a]->n_rec, 0);
	assert_int_equal(e->tp[b]->n_rec, 1);
	assert_int_equal(e->tp[c]->n_rec, 1);
	assert_memory_equal(e->tp[b]->rec[0].data, buf, len);
	assert_int_equal(fdb_port_of(e, 0xa, 1), e->id[a]);

	/* Reply to a: learned, so unicast to a only. */
	clear_all(e);
	len = mkframe_n(buf, 0xa, 0xb, -1, 46);
	input1(e, b, buf, len);
	assert_int_equal(e->tp[a]->n_rec, 1);
	assert_int_equal(e->tp[c]->n_rec, 0);
	assert_int_equal(fdb_port_of(e, 0xb, 1), e->id[b]);

	/* And a to b is now unicast too. */
	clear_all(e);
	len = mkframe_n(buf, 0xb, 0xa, -1, 46);
	input1(e, a, buf, len);
	assert_int_equal(e->tp[b]->n_rec, 1);
	assert_int_equal(e->tp[c]->n_rec, 0);

	/* b moves to port c: traffic to b follows it. */
	clear_all(e);
	len = mkframe_n(buf, 0xa, 0xb, -1, 46);
	input1(e, c, buf, len);
	assert_int_equal(fdb_port_of(e, 0xb, 1), e->id[c]);
	clear_all(e);
	len = mkframe_n(buf, 0xb, 0xa, -1, 46);
	input1(e, a, buf, len);
	assert_int_equal(e->tp[b]->n_rec, 0);
	assert_int_equal(e->tp[c]->n_rec, 1);
	assert_int_equal(switch_fdb_count(e->sw), 2);

	/* Flush forgets: a to b floods again. */
	assert_int_equal(switch_fdb_flush(e->sw, -1, 0), 2);
	clear_all(e);
	input1(e, a, buf, len);
	assert_int_equal(e->tp[b]->n_rec, 1);
	assert_int_equal(e->tp[c]->n_rec, 1);
	env_free(e);
}

static void test_learning_per_vlan(void **state)
{
	struct env *e = env_new();
	uint16_t v[] = {10, 20, 0};
	uint8_t buf[128];
	uint32_t len;
	int t, a10, a20;

	(void)state;
	t = env_port(e, cfg_trunk(0, v));
	a10 = env_port(e, cfg_access(10));
	a20 = env_port(e, cfg_access(20));

	/* The same MAC on two VLANs is two entries, on different ports. */
	len = mkframe_n(buf, 0x99, 0x5, -1, 46);
	input1(e, a10, buf, len);
	len = mkframe_n(buf, 0x99, 0x5, 20, 46);
	input1(e, t, buf, len);
	assert_int_equal(fdb_port_of(e, 0x5, 10), e->id[a10]);
	assert_int_equal(fdb_port_of(e, 0x5, 20), e->id[t]);

	/* VLAN 10 traffic to MAC 5 goes to a10, VLAN 20 to the trunk. */
	clear_all(e);
	len = mkframe_n(buf, 0x5, 0x6, 10, 46);
	input1(e, t, buf, len);
	assert_int_equal(e->tp[a10]->n_rec, 1);
	assert_int_equal(e->tp[a20]->n_rec, 0);
	clear_all(e);
	len = mkframe_n(buf, 0x5, 0x7, -1, 46);
	input1(e, a20, buf, len);
	assert_int_equal(e->tp[t]->n_rec, 1);
	assert_int_equal(e->tp[a10]->n_rec, 0);
	env_free(e);
}

static void test_no_learn_multicast_source(void **state)
{
	struct env *e = env_new();
	uint8_t buf[128], src[6] = {0x03, 0, 0, 0, 0, 1}, dst[6];
	uint32_t len;
	int a, b;

	(void)state;
	a = env_port(e, cfg_access(1));
	b = env_port(e, cfg_access(1));
	mac(dst, 0xb);
	len = mkframe(buf, dst, src, -1, 46);
	assert_int_equal(input1(e, a, buf, len), 0);
	assert_int_equal(e->tp[b]->n_rec, 0);
	assert_int_equal(switch_fdb_count(e->sw), 0);
	assert_int_equal(stats(e, a).drops[SWITCH_DROP_SRC_MULTICAST], 1);
	/* Broadcast source too. */
	len = mkframe(buf, dst, BCAST, -1, 46);
	input1(e, a, buf, len);
	assert_int_equal(switch_fdb_count(e->sw), 0);
	assert_int_equal(stats(e, a).drops[SWITCH_DROP_SRC_MULTICAST], 2);
	env_free(e);
}

static void test_aging(void **state)
{
	struct switch_config cfg = {.aging_sec = 300};
	struct env *e = env_new_cfg(&cfg);
	uint8_t buf[128];
	uint32_t len;
	int a, b, c;

	(void)state;
	a = env_port(e, cfg_access(1));
	b = env_port(e, cfg_access(1));
	c = env_port(e, cfg_access(1));
	len = mkframe_n(buf, 0xb, 0xa, -1, 46);
	input1(e, a, buf, len);
	assert_int_equal(fdb_port_of(e, 0xa, 1), e->id[a]);

	/* 299 s later a is still known: unicast. */
	fake_ns += 299ull * NS;
	clear_all(e);
	len = mkframe_n(buf, 0xa, 0xb, -1, 46);
	input1(e, b, buf, len);
	assert_int_equal(e->tp[a]->n_rec, 1);
	assert_int_equal(e->tp[c]->n_rec, 0);
	{
		struct fdb_find_ctx fc = {.vlan = 1, .found_port = -1};

		mac(fc.mac, 0xa);
		switch_fdb_dump(e->sw, fdb_find_cb, &fc);
		assert_int_equal(fc.age, 299);
	}

	/* 300 s after it was last seen, a has expired: flooded. */
	fake_ns += 1ull * NS;
	clear_all(e);
	len = mkframe_n(buf, 0xa, 0xc, -1, 46);
	input1(e, c, buf, len);
	assert_int_equal(e->tp[a]->n_rec, 1);
	assert_int_equal(e->tp[b]->n_rec, 1);
	assert_int_equal(fdb_port_of(e, 0xa, 1), -1);
	/* b (seen at 299 s) is still there; the sweep removed a. */
	assert_int_equal(fdb_port_of(e, 0xb, 1), e->id[b]);
	assert_int_equal(switch_fdb_count(e->sw), 2); /* b and c */

	/* Traffic refreshes: b seen again keeps it alive past 300 s. */
	fake_ns += 200ull * NS;
	len = mkframe_n(buf, 0xc, 0xb, -1, 46);
	input1(e, b, buf, len);
	fake_ns += 200ull * NS;
	assert_true(switch_poll(e->sw) == 0);
	assert_int_equal(fdb_port_of(e, 0xb, 1), e->id[b]);
	assert_int_equal(fdb_port_of(e, 0xc, 1), -1);
	assert_int_equal(switch_fdb_count(e->sw), 1);
	env_free(e);
}

/* ---- eviction fairness ---- */

static void test_eviction_fair(void **state)
{
	struct switch_config cfg = {.fdb_size = 64};
	struct env *e = env_new_cfg(&cfg);
	uint8_t buf[128];
	uint32_t len, i;
	int a, b, f;

	(void)state;
	a = env_port(e, cfg_access(1));
	b = env_port(e, cfg_access(1));
	f = env_port(e, cfg_access(1));
	/* a and b learn 10 addresses each, before the flood (the oldest). */
	for (i = 0; i < 10; i++) {
		len = mkframe_n(buf, 0xffff, 0x100 + i, -1, 46);
		input1(e, a, buf, len);
		len = mkframe_n(buf, 0xffff, 0x200 + i, -1, 46);
		input1(e, b, buf, len);
	}
	fake_ns += 5ull * NS;
	/* f floods 10x the table size of random source MACs. */
	srand(42);
	for (i = 0; i < 640; i++) {
		unsigned r = (unsigned)rand() & 0xffffff;

		len = mkframe_n(buf, 0xffff, 0x1000000 | r, -1, 46);
		input1(e, f, buf, len);
		if (i % 64 == 63)
			fake_ns += 1ull * NS;
	}
	assert_int_equal(switch_fdb_count(e->sw), 64);
	for (i = 0; i < 10; i++) {
		assert_int_equal(fdb_port_of(e, 0x100 + i, 1), e->id[a]);
		assert_int_equal(fdb_port_of(e, 0x200 + i, 1), e->id[b]);
	}
	/* A new address of a takes a slot from f, the biggest holder. */
	len = mkframe_n(buf, 0xffff, 0x300, -1, 46);
	input1(e, a, buf, len);
	assert_int_equal(fdb_port_of(e, 0x300, 1), e->id[a]);
	for (i = 0; i < 10; i++)
		assert_int_equal(fdb_port_of(e, 0x200 + i, 1), e->id[b]);
	assert_int_equal(switch_fdb_count(e->sw), 64);
	/* Unicast to a's and b's hosts still goes straight there. */
	clear_all(e);
	len = mkframe_n(buf, 0x105, 0x1000001, -1, 46);
	input1(e, f, buf, len);
	assert_int_equal(e->tp[a]->n_rec, 1);
	assert_int_equal(e->tp[b]->n_rec, 0);
	env_free(e);
}

/* ---- VLAN rules ---- */

static void test_vlan_access(void **state)
{
	struct env *e = env_new();
	uint8_t buf[128], exp[128];
	uint32_t len, elen;
	int a, b, c;

	(void)state;
	a = env_port(e, cfg_access(10));
	b = env_port(e, cfg_access(10));
	c = env_port(e, cfg_access(20));

	/* Untagged in on access 10: out untagged on b only. */
	len = mkframe_n(buf, 0xb, 0xa, -1, 46);
	assert_int_equal(input1(e, a, buf, len), 1);
	assert_int_equal(e->tp[b]->n_rec, 1);
	assert_int_equal(e->tp[c]->n_rec, 0);
	assert_int_equal(e->tp[b]->rec[0].len, len);
	assert_memory_equal(e->tp[b]->rec[0].data, buf, len);
	assert_int_equal(e->tp[b]->rec[0].vlan, 10);

	/* Tagged in on an access port, even with its own VID: dropped. */
	clear_all(e);
	len = mkframe_n(buf, 0xb, 0xa, 10, 46);
	assert_int_equal(input1(e, a, buf, len), 0);
	assert_int_equal(e->tp[b]->n_rec, 0);
	assert_int_equal(stats(e, a).drops[SWITCH_DROP_VLAN_TAGGED_ON_ACCESS],
			 1);
	len = mkframe_n(buf, 0xb, 0xa, 20, 46);
	input1(e, a, buf, len);
	assert_int_equal(e->tp[c]->n_rec, 0);
	assert_int_equal(stats(e, a).drops[SWITCH_DROP_VLAN_TAGGED_ON_ACCESS],
			 2);

	/* Priority tag (VID 0, PCP 5): accepted, stripped on egress. */
	clear_all(e);
	len = mkframe_n(buf, 0xb, 0xa, 5 << 13, 46);
	assert_int_equal(input1(e, a, buf, len), 1);
	elen = mkframe_n(exp, 0xb, 0xa, -1, 46);
	assert_int_equal(e->tp[b]->n_rec, 1);
	assert_int_equal(e->tp[b]->rec[0].len, elen);
	assert_memory_equal(e->tp[b]->rec[0].data, exp, elen);
	env_free(e);
}

static void test_vlan_trunk_ingress(void **state)
{
	struct env *e = env_new();
	uint16_t v[] = {10, 30, 0};
	uint8_t buf[128];
	uint32_t len;
	int t, tn, a10, a20, a30;

	(void)state;
	{
		struct switch_port_config ct = cfg_trunk(0, v); /* no native */

		/* VID 4095 set by hand in the bitmap: still never carried. */
		ct.allowed[4095 / 64] |= 1ull << (4095 % 64);
		t = env_port(e, ct);
	}
	tn = env_port(e, cfg_trunk(20, v)); /* native 20 */
	a10 = env_port(e, cfg_access(10));
	a20 = env_port(e, cfg_access(20));
	a30 = env_port(e, cfg_access(30));

	/* Allowed tagged VID: forwarded in that VLAN only. */
	len = mkframe_n(buf, 0x77, 0x1, 30, 46);
	assert_int_equal(input1(e, t, buf, len), 1);
	assert_int_equal(e->tp[a30]->n_rec, 1);
	assert_int_equal(e->tp[a10]->n_rec, 0);
	assert_int_equal(e->tp[a20]->n_rec, 0);
	assert_int_equal(e->tp[tn]->n_rec, 1); /* tn carries 30 too */

	/* VID not allowed: dropped and counted. */
	clear_all(e);
	len = mkframe_n(buf, 0x77, 0x1, 40, 46);
	assert_int_equal(input1(e, t, buf, len), 0);
	assert_int_equal(stats(e, t).drops[SWITCH_DROP_VLAN_NOT_ALLOWED], 1);
	/* 20 is tn's native, but t does not carry it. */
	len = mkframe_n(buf, 0x77, 0x1, 20, 46);
	assert_int_equal(input1(e, t, buf, len), 0);
	assert_int_equal(stats(e, t).drops[SWITCH_DROP_VLAN_NOT_ALLOWED], 2);
	/* VID 4095 is reserved, never allowed. */
	len = mkframe_n(buf, 0x77, 0x1, 4095, 46);
	assert_int_equal(input1(e, t, buf, len), 0);
	assert_int_equal(stats(e, t).drops[SWITCH_DROP_VLAN_NOT_ALLOWED], 3);
	assert_int_equal(e->tp[a20]->n_rec + e->tp[a10]->n_rec +
			     e->tp[a30]->n_rec + e->tp[tn]->n_rec,
			 0);

	/* Untagged on a trunk without native: dropped. */
	len = mkframe_n(buf, 0x77, 0x1, -1, 46);
	assert_int_equal(input1(e, t, buf, len), 0);
	assert_int_equal(stats(e, t).drops[SWITCH_DROP_UNTAGGED_NO_NATIVE], 1);
	/* Priority-tagged counts as untagged. */
	len = mkframe_n(buf, 0x77, 0x1, 3 << 13, 46);
	assert_int_equal(input1(e, t, buf, len), 0);
	assert_int_equal(stats(e, t).drops[SWITCH_DROP_UNTAGGED_NO_NATIVE], 2);

	/* Untagged on trunk with native 20: VLAN 20. */
	clear_all(e);
	len = mkframe_n(buf, 0x77, 0x2, -1, 46);
	assert_int_equal(input1(e, tn, buf, len), 1);
	assert_int_equal(e->tp[a20]->n_rec, 1);
	assert_int_equal(e->tp[a20]->rec[0].vlan, 20);
	assert_int_equal(
	    e->tp[a10]->n_rec + e->tp[a30]->n_rec + e->tp[t]->n_rec, 0);
	/* Tagged with the native VID: accepted too, in VLAN 20. */
	clear_all(e);
	len = mkframe_n(buf, 0x77, 0x2, 20, 46);
	assert_int_equal(input1(e, tn, buf, len), 1);
	assert_int_equal(e->tp[a20]->n_rec, 1);
	assert_int_equal(e->tp[a10]->n_rec + e->tp[a30]->n_rec, 0);
	env_free(e);
}

static void test_vlan_egress_bytes(void **state)
{
	struct env *e = env_new();
	uint16_t v[] = {10, 20, 0};
	uint8_t buf[256], exp[256];
	uint32_t len, elen;
	int a10, t, tn, a20;

	(void)state;
	a10 = env_port(e, cfg_access(10));
	t = env_port(e, cfg_trunk(0, v));
	tn = env_port(e, cfg_trunk(10, v)); /* native 10 */
	a20 = env_port(e, cfg_access(20));

	/* Access 10 -> trunk: tag 0x000a inserted after the MACs. */
	len = mkframe_n(buf, 0xffffff, 0xa, -1, 100);
	mac(buf, 0); /* dst unknown unicast: flood */
	input1(e, a10, buf, len);
	elen = mkframe_n(exp, 0, 0xa, 10, 100);
	assert_int_equal(e->tp[t]->n_rec, 1);
	assert_int_equal(e->tp[t]->rec[0].len, len + 4);
	assert_memory_equal(e->tp[t]->rec[0].data, exp, elen);
	/* ... and untagged on the trunk whose native VLAN is 10. */
	assert_int_equal(e->tp[tn]->n_rec, 1);
	assert_int_equal(e->tp[tn]->rec[0].len, len);
	assert_memory_equal(e->tp[tn]->rec[0].data, buf, len);
	assert_int_equal(e->tp[a20]->n_rec, 0);

	/* Trunk tagged 10 (PCP 6) -> access 10 stripped, native stripped,
	 * nothing on a20. */
	clear_all(e);
	len = mkframe_n(buf, 0, 0xb, 6 << 13 | 10, 100);
	input1(e, t, buf, len);
	elen = mkframe_n(exp, 0, 0xb, -1, 100);
	assert_int_equal(e->tp[a10]->n_rec, 1);
	assert_int_equal(e->tp[a10]->rec[0].len, elen);
	assert_memory_equal(e->tp[a10]->rec[0].data, exp, elen);
	assert_int_equal(e->tp[tn]->rec[0].len, elen);
	assert_memory_equal(e->tp[tn]->rec[0].data, exp, elen);
	assert_int_equal(e->tp[a20]->n_rec, 0);

	/* Trunk tagged 20 -> other trunk: unchanged (zero copy). */
	clear_all(e);
	len = mkframe_n(buf, 0, 0xc, 2 << 13 | 20, 100);
	input1(e, t, buf, len);
	assert_int_equal(e->tp[tn]->n_rec, 1);
	assert_int_equal(e->tp[tn]->rec[0].len, len);
	assert_memory_equal(e->tp[tn]->rec[0].data, buf, len);
	assert_ptr_equal(e->tp[tn]->rec[0].orig, buf);
	assert_int_equal(e->tp[a20]->n_rec, 1);
	elen = mkframe_n(exp, 0, 0xc, -1, 100);
	assert_memory_equal(e->tp[a20]->rec[0].data, exp, elen);

	/* Untagged on tn (native 10) -> trunk t: tagged 10. */
	clear_all(e);
	len = mkframe_n(buf, 0, 0xd, -1, 100);
	input1(e, tn, buf, len);
	elen = mkframe_n(exp, 0, 0xd, 10, 100);
	assert_int_equal(e->tp[t]->rec[0].len, elen);
	assert_memory_equal(e->tp[t]->rec[0].data, exp, elen);
	/* Native tagged on tn -> t keeps the tag, -> a10 untagged. */
	clear_all(e);
	len = mkframe_n(buf, 0, 0xe, 10, 100);
	input1(e, tn, buf, len);
	assert_memory_equal(e->tp[t]->rec[0].data, buf, len);
	elen = mkframe_n(exp, 0, 0xe, -1, 100);
	assert_int_equal(e->tp[a10]->rec[0].len, elen);
	assert_memory_equal(e->tp[a10]->rec[0].data, exp, elen);

	/* Priority-tagged PCP 5 on access 10 -> trunk: PCP kept, VID 10. */
	clear_all(e);
	len = mkframe_n(buf, 0, 0xf, 5 << 13, 100);
	input1(e, a10, buf, len);
	elen = mkframe_n(exp, 0, 0xf, 5 << 13 | 10, 100);
	assert_int_equal(e->tp[t]->rec[0].len, elen);
	assert_memory_equal(e->tp[t]->rec[0].data, exp, elen);

	/* A tagged runt (16 bytes with TPID 0x8100) is a runt. */
	len = mkframe_n(buf, 0, 0x10, 10, 0);
	assert_int_equal(input1(e, t, buf, 16), 0);
	assert_int_equal(stats(e, t).drops[SWITCH_DROP_RUNT], 1);
	/* 18 bytes tagged, no payload at all: forwarded, stripped to 14. */
	clear_all(e);
	assert_int_equal(input1(e, t, buf, 18), 1);
	assert_int_equal(e->tp[a10]->rec[0].len, 14);
	env_free(e);
}

/* ---- flooding scope and isolation ---- */

static void test_flood_scope(void **state)
{
	struct env *e = env_new();
	uint16_t v1020[] = {10, 20, 0}, v20[] = {20, 0};
	uint8_t buf[128], mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
	uint32_t len;
	int a, b, c, t1, t2;

	(void)state;
	a = env_port(e, cfg_access(10));
	b = env_port(e, cfg_access(10));
	c = env_port(e, cfg_access(20));
	t1 = env_port(e, cfg_trunk(0, v1020));
	t2 = env_port(e, cfg_trunk(0, v20));

	/* Broadcast from a: b and t1 (tagged 10); never a, c, t2. */
	len = mkframe(buf, BCAST, (uint8_t[]){2, 0, 0, 0, 0, 0xa}, -1, 46);
	assert_int_equal(input1(e, a, buf, len), 1);
	assert_int_equal(e->tp[a]->n_rec, 0);
	assert_int_equal(e->tp[b]->n_rec, 1);
	assert_int_equal(e->tp[c]->n_rec, 0);
	assert_int_equal(e->tp[t1]->n_rec, 1);
	assert_int_equal(e->tp[t1]->rec[0].data[15], 10);
	assert_int_equal(e->tp[t2]->n_rec, 0);

	/* Multicast and unknown unicast in VLAN 20 from t1. */
	clear_all(e);
	len = mkframe(buf, mcast, (uint8_t[]){2, 0, 0, 0, 0, 0xb}, 20, 46);
	input1(e, t1, buf, len);
	len = mkframe_n(buf, 0x4242, 0xb, 20, 46);
	input1(e, t1, buf, len);
	assert_int_equal(e->tp[c]->n_rec, 2);
	assert_int_equal(e->tp[t2]->n_rec, 2);
	assert_int_equal(e->tp[a]->n_rec + e->tp[b]->n_rec + e->tp[t1]->n_rec,
			 0);
	/* Multicast destinations are not learned as sources either way. */
	assert_int_equal(switch_fdb_count(e->sw), 2);

	/* A VLAN nobody else carries: no_port. */
	clear_all(e);
	{
		uint16_t v30[] = {30, 0};

		assert_int_equal(
		    switch_port_configure(
			e->sw, (uint32_t)e->id[t2],
			(struct switch_port_config[]){cfg_trunk(0, v30)}),
		    0);
	}
	len = mkframe(buf, BCAST, (uint8_t[]){2, 0, 0, 0, 0, 0xc}, 30, 46);
	assert_int_equal(input1(e, t2, buf, len), 0);
	assert_int_equal(stats(e, t2).drops[SWITCH_DROP_NO_PORT], 1);
	env_free(e);
}

static void test_no_flood_unknown(void **state)
{
	struct switch_config cfg = {.flags = SWITCH_F_NO_FLOOD_UNKNOWN};
	struct env *e = env_new_cfg(&cfg);
	uint8_t buf[128];
	uint32_t len;
	int a, b;

	(void)state;
	a = env_port(e, cfg_access(1));
	b = env_port(e, cfg_access(1));
	len = mkframe_n(buf, 0xb, 0xa, -1, 46);
	assert_int_equal(input1(e, a, buf, len), 0);
	assert_int_equal(e->tp[b]->n_rec, 0);
	assert_int_equal(stats(e, a).drops[SWITCH_DROP_NO_PORT], 1);
	/* Broadcast still floods. */
	len = mkframe(buf, BCAST, (uint8_t[]){2, 0, 0, 0, 0, 0xa}, -1, 46);
	assert_int_equal(input1(e, a, buf, len), 1);
	assert_int_equal(e->tp[b]->n_rec, 1);
	env_free(e);
}

static void test_isolation(void **state)
{
	struct env *e = env_new();
	struct switch_port_config ci = cfg_access(1);
	uint8_t buf[128];
	uint32_t len;
	int i1, i2, n1, n2;

	(void)state;
	ci.isolated = true;
	i1 = env_port(e, ci);
	i2 = env_port(e, ci);
	n1 = env_port(e, cfg_access(1));
	n2 = env_port(e, cfg_access(1));

	/* Broadcast from an isolated port reaches only non-isolated ones. */
	len = mkframe(buf, BCAST, (uint8_t[]){2, 0, 0, 0, 0, 1}, -1, 46);
	input1(e, i1, buf, len);
	assert_int_equal(e->tp[i2]->n_rec, 0);
	assert_int_equal(e->tp[n1]->n_rec, 1);
	assert_int_equal(e->tp[n2]->n_rec, 1);
	/* From a non-isolated port: everybody. */
	clear_all(e);
	len = mkframe(buf, BCAST, (uint8_t[]){2, 0, 0, 0, 0, 3}, -1, 46);
	input1(e, n1, buf, len);
	assert_int_equal(e->tp[i1]->n_rec, 1);
	assert_int_equal(e->tp[i2]->n_rec, 1);
	assert_int_equal(e->tp[n2]->n_rec, 1);
	/* Learned unicast between isolated ports: dropped, counted. */
	clear_all(e);
	len = mkframe(buf, BCAST, (uint8_t[]){2, 0, 0, 0, 0, 2}, -1, 46);
	input1(e, i2, buf, len);
	clear_all(e);
	len = mkframe_n(buf, 2, 1, -1, 46);
	assert_int_equal(input1(e, i1, buf, len), 0);
	assert_int_equal(e->tp[i2]->n_rec, 0);
	assert_int_equal(stats(e, i1).drops[SWITCH_DROP_ISOLATED], 1);
	/* Isolated to non-isolated unicast works. */
	len = mkframe_n(buf, 3, 1, -1, 46);
	assert_int_equal(input1(e, i1, buf, len), 1);
	assert_int_equal(e->tp[n1]->n_rec, 1);
	assert_int_equal(e->tp[n2]->n_rec, 0);

	/* Isolation changed at run time: i2 no longer isolated. */
	clear_all(e);
	assert_int_equal(
	    switch_port_configure(e->sw, (uint32_t)e->id[i2],
				  (struct switch_port_config[]){cfg_access(1)}),
	    0);
	len = mkframe(buf, BCAST, (uint8_t[]){2, 0, 0, 0, 0, 1}, -1, 46);
	input1(e, i1, buf, len);
	assert_int_equal(e->tp[i2]->n_rec, 1);
	env_free(e);
}

static void test_runtime_vlan_change(void **state)
{
	struct env *e = env_new();
	uint8_t buf[128];
	uint32_t len;
	int a, b, c;
	struct switch_port_config got;

	(void)state;
	a = env_port(e, cfg_access(10));
	b = env_port(e, cfg_access(10));
	c = env_port(e, cfg_access(20));
	len = mkframe_n(buf, 0xb, 0xa, -1, 46);
	input1(e, a, buf, len);
	assert_int_equal(fdb_port_of(e, 0xa, 10), e->id[a]);

	/* Move a to VLAN 20: its entries go, b's traffic no longer
	 * reaches it, c's does. */
	assert_int_equal(switch_port_configure(
			     e->sw, (uint32_t)e->id[a],
			     (struct switch_port_config[]){cfg_access(20)}),
			 0);
	assert_int_equal(
	    switch_port_get_config(e->sw, (uint32_t)e->id[a], &got), 0);
	assert_int_equal(got.access_vlan, 20);
	assert_int_equal(fdb_port_of(e, 0xa, 10), -1);
	clear_all(e);
	len = mkframe_n(buf, 0xa, 0xb, -1, 46);
	input1(e, b, buf, len);
	assert_int_equal(e->tp[a]->n_rec, 0);
	assert_int_equal(stats(e, b).drops[SWITCH_DROP_NO_PORT], 1);
	len = mkframe_n(buf, 0xa, 0xc, -1, 46);
	input1(e, c, buf, len);
	assert_int_equal(e->tp[a]->n_rec, 1);
	/* Bad configs are refused and change nothing. */
	{
		struct switch_port_config bad = cfg_access(4095);

		assert_int_equal(
		    switch_port_configure(e->sw, (uint32_t)e->id[a], &bad),
		    -EINVAL);
		bad = cfg_access(1);
		bad.mode = 7;
		assert_int_equal(switch_port_add(e->sw, &tport_ops, NULL, &bad),
				 -EINVAL);
	}
	assert_int_equal(
	    switch_port_configure(e->sw, 999,
				  (struct switch_port_config[]){cfg_access(1)}),
	    -ENOENT);
	env_free(e);
}

/* ---- counters ---- */

static void test_counters(void **state)
{
	struct env *e = env_new();
	uint8_t buf[2048];
	struct switch_port_stats st;
	uint32_t len;
	int a, b, i;

	(void)state;
	a = env_port(e, cfg_access(1));
	b = env_port(e, cfg_access(1));

	len = mkframe_n(buf, 0xb, 0xa, -1, 100);
	input1(e, a, buf, len);
	input1(e, a, buf, len);
	st = stats(e, a);
	assert_int_equal(st.rx_frames, 2);
	assert_int_equal(st.rx_bytes, 2 * len);
	st = stats(e, b);
	assert_int_equal(st.tx_frames, 2);
	assert_int_equal(st.tx_bytes, 2 * len);
	assert_int_equal(st.rx_frames, 0);

	/* Runt: 13 bytes; counted in rx too. */
	assert_int_equal(input1(e, a, buf, 13), 0);
	st = stats(e, a);
	assert_int_equal(st.drops[SWITCH_DROP_RUNT], 1);
	assert_int_equal(st.rx_frames, 3);
	assert_int_equal(input1(e, a, buf, 0), 0);
	assert_int_equal(stats(e, a).drops[SWITCH_DROP_RUNT], 2);

	/* Oversize. */
	{
		struct frame_batch fb = {.count = 1};

		fb.f[0].data = buf;
		fb.f[0].len = FRAME_MAX_LEN + 1;
		assert_int_equal(
		    switch_port_input(e->sw, (uint32_t)e->id[a], &fb), 0);
		assert_int_equal(stats(e, a).drops[SWITCH_DROP_OVERSIZE], 1);
	}

	/* Same port: b learned on b, frame from a... to a's own MAC. */
	len = mkframe_n(buf, 0xa, 0xa2, -1, 46);
	assert_int_equal(input1(e, a, buf, len), 0);
	assert_int_equal(stats(e, a).drops[SWITCH_DROP_SAME_PORT], 1);

	/* tx_full: b takes one frame of a batch of 3. */
	e->tp[b]->send_limit = 1;
	{
		struct frame_batch fb;

		memset(&fb, 0, sizeof(fb));
		len = mkframe_n(buf, 0xb, 0xa, -1, 46);
		fb.count = 3;
		for (i = 0; i < 3; i++) {
			fb.f[i].data = buf;
			fb.f[i].len = len;
		}
		clear_all(e);
		switch_port_input(e->sw, (uint32_t)e->id[a], &fb);
		assert_int_equal(e->tp[b]->send_calls, 1);
		assert_int_equal(e->tp[b]->last_send_count, 3);
	}
	st = stats(e, b);
	assert_int_equal(st.drops[SWITCH_DROP_TX_FULL], 2);
	assert_int_equal(st.tx_frames, 3);
	e->tp[b]->send_limit = -1;

	/* Every reason has a distinct name. */
	for (i = 0; i < SWITCH_DROP__COUNT; i++) {
		int j;

		assert_string_not_equal(switch_drop_reason_name(i), "?");
		for (j = 0; j < i; j++)
			assert_string_not_equal(switch_drop_reason_name(i),
						switch_drop_reason_name(j));
	}
	assert_string_equal(switch_drop_reason_name(SWITCH_DROP_RUNT), "runt");
	assert_string_equal(switch_drop_reason_name(SWITCH_DROP__COUNT), "?");
	assert_int_equal(switch_port_stats_get(e->sw, 999, &st), -ENOENT);
	env_free(e);
}

/* ---- mirrors ---- */

struct mirror_log {
	int n;
	int calls;
	uint32_t port[16];
	enum switch_dir dir[16];
	uint8_t data[16][64];
	uint32_t len[16];
	uint16_t vlan[16];
};

static void mirror_cb(void *arg, uint32_t port_id, enum switch_dir dir,
		      const struct frame *f)
{
	struct mirror_log *l = arg;

	l->calls++;
	if (l->n >= 16)
		return;
	l->port[l->n] = port_id;
	l->dir[l->n] = dir;
	l->len[l->n] = f->len;
	l->vlan[l->n] = f->vlan;
	memcpy(l->data[l->n], f->data, f->len < 64 ? f->len : 64);
	l->n++;
}

static void test_mirror(void **state)
{
	struct env *e = env_new();
	uint16_t v[] = {10, 0};
	struct mirror_log in = {0}, out = {0};
	uint8_t buf[128], exp[128];
	uint32_t len, elen;
	int a, t, mi, mo;

	(void)state;
	a = env_port(e, cfg_access(10));
	t = env_port(e, cfg_trunk(0, v));
	mi = switch_mirror_add(e->sw, (uint32_t)e->id[a], SWITCH_DIR_INGRESS,
			       mirror_cb, &in);
	mo = switch_mirror_add(e->sw, (uint32_t)e->id[t], SWITCH_DIR_EGRESS,
			       mirror_cb, &out);
	assert_true(mi >= 0 && mo >= 0);
	assert_int_equal(
	    switch_mirror_add(e->sw, 999, SWITCH_DIR_EGRESS, mirror_cb, &out),
	    -ENOENT);
	assert_int_equal(
	    switch_mirror_add(e->sw, (uint32_t)e->id[t], 0, mirror_cb, &out),
	    -EINVAL);

	len = mkframe_n(buf, 0x5, 0xa, -1, 40);
	input1(e, a, buf, len);
	/* Ingress: as received, untagged; egress: as sent, tagged. */
	assert_int_equal(in.n, 1);
	assert_int_equal(in.port[0], e->id[a]);
	assert_int_equal(in.dir[0], SWITCH_DIR_INGRESS);
	assert_int_equal(in.len[0], len);
	assert_memory_equal(in.data[0], buf, len);
	assert_int_equal(in.vlan[0], 10);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.dir[0], SWITCH_DIR_EGRESS);
	assert_int_equal(out.port[0], e->id[t]);
	elen = mkframe_n(exp, 0x5, 0xa, 10, 40);
	assert_int_equal(out.len[0], elen);
	assert_memory_equal(out.data[0], exp, elen);

	/* A frame dropped at ingress is still seen there. */
	len = mkframe_n(buf, 0x5, 0xa, 10, 40);
	input1(e, a, buf, len);
	assert_int_equal(in.n, 2);
	assert_int_equal(out.n, 1);

	/* Traffic the other way: not seen by either (wrong direction). */
	len = mkframe_n(buf, 0xa, 0x5, 10, 40);
	input1(e, t, buf, len);
	assert_int_equal(in.n, 2);
	assert_int_equal(out.n, 1);
	assert_int_equal(e->tp[a]->n_rec, 1);

	/* An egress observer on a too: it alone sees a's egress. */
	{
		struct mirror_log eo = {0};
		int me = switch_mirror_add(e->sw, (uint32_t)e->id[a],
					   SWITCH_DIR_EGRESS, mirror_cb, &eo);

		assert_true(me >= 0);
		input1(e, t, buf, len);
		assert_int_equal(eo.n, 1);
		assert_int_equal(eo.dir[0], SWITCH_DIR_EGRESS);
		elen = mkframe_n(exp, 0xa, 0x5, -1, 40);
		assert_int_equal(eo.len[0], elen);
		assert_memory_equal(eo.data[0], exp, elen);
		assert_int_equal(in.n, 2);
		assert_int_equal(switch_mirror_remove(e->sw, me), 0);
	}

	/* Removed: no more callbacks. */
	assert_int_equal(switch_mirror_remove(e->sw, mi), 0);
	assert_int_equal(switch_mirror_remove(e->sw, mi), -ENOENT);
	assert_int_equal(switch_mirror_remove(e->sw, mo), 0);
	len = mkframe_n(buf, 0x5, 0xa, -1, 40);
	input1(e, a, buf, len);
	assert_int_equal(in.n, 2);
	assert_int_equal(out.n, 1);
	assert_int_equal(e->tp[t]->n_rec, 2);
	assert_int_equal(e->tp[a]->n_rec, 2);
	env_free(e);
}

/* ---- batches ---- */

static void test_batch_large(void **state)
{
	struct env *e = env_new();
	static uint8_t bufs[FRAME_BATCH_MAX][128];
	struct frame_batch fb;
	uint32_t len, i;
	int a, b, c;

	(void)state;
	assert_true(FRAME_BATCH_MAX > 32);
	a = env_port(e, cfg_access(1));
	b = env_port(e, cfg_access(1));
	c = env_port(e, cfg_access(1));
	/* Learn b and c. */
	len = mkframe_n(bufs[0], 0xa, 0xb, -1, 46);
	input1(e, b, bufs[0], len);
	len = mkframe_n(bufs[0], 0xa, 0xc, -1, 46);
	input1(e, c, bufs[0], len);
	clear_all(e);

	/* 64 frames alternating b and c: one send per destination, in
	 * order, each frame intact. */
	memset(&fb, 0, sizeof(fb));
	for (i = 0; i < FRAME_BATCH_MAX; i++) {
		len = mkframe_n(bufs[i], i % 2 ? 0xc : 0xb, 0xa, -1, 46);
		bufs[i][20] = (uint8_t)i; /* sequence number in payload */
		fb.f[i].data = bufs[i];
		fb.f[i].len = len;
	}
	fb.count = FRAME_BATCH_MAX;
	assert_int_equal(switch_port_input(e->sw, (uint32_t)e->id[a], &fb),
			 FRAME_BATCH_MAX);
	assert_int_equal(e->tp[b]->send_calls, 1);
	assert_int_equal(e->tp[c]->send_calls, 1);
	assert_int_equal(e->tp[b]->n_rec, FRAME_BATCH_MAX / 2);
	assert_int_equal(e->tp[c]->n_rec, FRAME_BATCH_MAX / 2);
	for (i = 0; i < FRAME_BATCH_MAX / 2; i++) {
		assert_int_equal(e->tp[b]->rec[i].data[20], 2 * i);
		assert_int_equal(e->tp[c]->rec[i].data[20], 2 * i + 1);
		assert_memory_equal(e->tp[b]->rec[i].data, bufs[2 * i], len);
	}
	assert_int_equal(stats(e, a).rx_frames, FRAME_BATCH_MAX);

	/* Too big a batch is refused. */
	fb.count = FRAME_BATCH_MAX + 1;
	assert_int_equal(switch_port_input(e->sw, (uint32_t)e->id[a], &fb),
			 -EINVAL);
	env_free(e);
}

static void test_poll(void **state)
{
	struct env *e = env_new();
	uint8_t buf[128];
	uint32_t len, i;
	int a, b, ret;

	(void)state;
	a = env_port(e, cfg_access(1));
	b = env_port(e, cfg_access(1));
	/* 100 frames: two rounds (64 + 36), one send per round. */
	for (i = 0; i < 100; i++) {
		len = mkframe_n(buf, 0xb, 0xa, -1, 46);
		buf[20] = (uint8_t)i;
		tport_inject(e->tp[a], buf, len);
	}
	assert_int_equal(switch_poll(e->sw), FRAME_BATCH_MAX);
	assert_int_equal(e->tp[a]->recv_done_calls, 1);
	assert_int_equal(switch_poll(e->sw), 100 - FRAME_BATCH_MAX);
	assert_int_equal(switch_poll(e->sw), 0);
	assert_int_equal(e->tp[a]->recv_done_calls, 2);
	assert_int_equal(e->tp[b]->send_calls, 2);
	assert_int_equal(e->tp[b]->n_rec, 100);
	for (i = 0; i < 100; i++)
		assert_int_equal(e->tp[b]->rec[i].data[20], i);

	/* A failing recv: event raised, port no longer polled nor sent to. */
	e->tp[b]->recv_error = -EPROTO;
	switch_poll(e->sw);
	assert_int_equal(e->events, 1);
	assert_int_equal(e->last_event_err, -EPROTO);
	ret = (int)e->tp[b]->recv_calls;
	switch_poll(e->sw);
	assert_int_equal(e->tp[b]->recv_calls, ret);
	clear_all(e);
	len = mkframe(buf, BCAST, (uint8_t[]){2, 0, 0, 0, 0, 0xa}, -1, 46);
	input1(e, a, buf, len);
	assert_int_equal(e->tp[b]->n_rec, 0);
	/* Known unicast to a down port: counted there. */
	len = mkframe_n(buf, 0xa, 0xb, -1, 46);
	e->tp[b]->recv_error = 0;
	tport_inject(e->tp[b], buf, len);
	assert_int_equal(switch_port_reset(e->sw, (uint32_t)e->id[b]), 0);
	switch_poll(e->sw); /* b learned again */
	e->tp[b]->recv_error = -EIO;
	switch_poll(e->sw);
	len = mkframe_n(buf, 0xb, 0xa, -1, 46);
	input1(e, a, buf, len);
	assert_int_equal(stats(e, b).drops[SWITCH_DROP_PORT_DOWN], 1);
	assert_int_equal(e->tp[b]->n_rec, 0);

	/* Removal closes the port and forgets its addresses. */
	assert_int_equal(switch_port_remove(e->sw, (uint32_t)e->id[b]), 0);
	assert_int_equal(e->tp[b]->closed, 1);
	assert_int_equal(fdb_port_of(e, 0xb, 1), -1);
	assert_int_equal(switch_port_remove(e->sw, (uint32_t)e->id[b]),
			 -ENOENT);
	assert_null(switch_port_get(e->sw, (uint32_t)e->id[b]));
	/* The id is reused. */
	{
		struct tport *tp = tport_new();
		int id = switch_port_add(
		    e->sw, &tport_ops, tp,
		    (struct switch_port_config[]){cfg_access(1)});

		assert_int_equal(id, e->id[b]);
		assert_ptr_equal(switch_port_get(e->sw, (uint32_t)id)->priv,
				 tp);
		assert_int_equal(switch_port_remove(e->sw, (uint32_t)id), 0);
		assert_int_equal(tp->closed, 1);
		tport_free(tp);
	}
	/* open failing leaves no port behind. */
	{
		struct tport *tp = tport_new();

		tp->open_error = -ECONNREFUSED;
		assert_int_equal(switch_port_open(e->sw, &tport_ops, tp,
						  (struct switch_port_config[]){
						      cfg_access(1)}),
				 -ECONNREFUSED);
		assert_null(switch_port_get(e->sw, (uint32_t)e->id[b]));
		tport_free(tp);
	}
	env_free(e);
}

/* Lookups are cached within a batch: a move learned mid-batch must be
 * seen by the frames after it. */
static void test_batch_move_midway(void **state)
{
	struct env *e = env_new();
	static uint8_t bufs[3][128];
	struct frame_batch fb;
	uint32_t len[3];
	int a, b, c;

	(void)state;
	a = env_port(e, cfg_access(1));
	b = env_port(e, cfg_access(1));
	c = env_port(e, cfg_access(1));
	len[0] = mkframe_n(bufs[0], 0xa, 0xb, -1, 46);
	input1(e, b, bufs[0], len[0]); /* b's host on b */
	clear_all(e);

	memset(&fb, 0, sizeof(fb));
	len[0] = mkframe_n(bufs[0], 0xb, 0xc, -1, 46); /* to b: port b */
	/* b's host now speaks from c (a broadcast, to a and b). */
	len[1] =
	    mkframe(bufs[1], BCAST, (uint8_t[]){2, 0, 0, 0, 0, 0xb}, -1, 46);
	len[2] = mkframe_n(bufs[2], 0xb, 0xc, -1, 46); /* same port: drop */
	for (int i = 0; i < 3; i++) {
		fb.f[i].data = bufs[i];
		fb.f[i].len = len[i];
	}
	fb.count = 3;
	assert_int_equal(switch_port_input(e->sw, (uint32_t)e->id[c], &fb), 2);
	assert_int_equal(e->tp[b]->n_rec, 2);
	assert_int_equal(e->tp[b]->rec[0].data[11], 0xc); /* frame 0 */
	assert_int_equal(stats(e, c).drops[SWITCH_DROP_SAME_PORT], 1);
	assert_int_equal(fdb_port_of(e, 0xb, 1), e->id[c]);
	assert_int_equal(e->tp[a]->n_rec, 1);
	env_free(e);
}

/* Eviction among several ports: the biggest holder pays, ties go to the
 * learner. */
static void test_eviction_ties(void **state)
{
	struct switch_config cfg = {.fdb_size = 8};
	struct env *e = env_new_cfg(&cfg);
	uint8_t buf[128];
	uint32_t len, i;
	int a, b, c;

	(void)state;
	a = env_port(e, cfg_access(1));
	b = env_port(e, cfg_access(1));
	c = env_port(e, cfg_access(1));
	/* a: 4, b: 4, table full. */
	for (i = 0; i < 4; i++) {
		len = mkframe_n(buf, 0xffff, 0x100 + i, -1, 46);
		input1(e, a, buf, len);
		fake_ns += NS;
		len = mkframe_n(buf, 0xffff, 0x200 + i, -1, 46);
		input1(e, b, buf, len);
		fake_ns += NS;
	}
	assert_int_equal(switch_fdb_count(e->sw), 8);
	/* b learns: tie 4/4, the learner b loses its oldest (0x200). */
	len = mkframe_n(buf, 0xffff, 0x204, -1, 46);
	input1(e, b, buf, len);
	assert_int_equal(fdb_port_of(e, 0x200, 1), -1);
	assert_int_equal(fdb_port_of(e, 0x100, 1), e->id[a]);
	/* c learns: a and b tie at 4; not the learner: lowest id (a)
	 * loses its oldest. */
	len = mkframe_n(buf, 0xffff, 0x300, -1, 46);
	input1(e, c, buf, len);
	assert_int_equal(fdb_port_of(e, 0x100, 1), -1);
	assert_int_equal(fdb_port_of(e, 0x201, 1), e->id[b]);
	assert_int_equal(fdb_port_of(e, 0x300, 1), e->id[c]);
	/* Refreshing a's oldest makes it the newest: next eviction from a
	 * takes 0x102 instead. */
	fake_ns += NS;
	len = mkframe_n(buf, 0xffff, 0x101, -1, 46);
	input1(e, a, buf, len);
	len = mkframe_n(buf, 0xffff, 0x205, -1, 46);
	input1(e, b, buf, len); /* b has 4 > a's 3: b loses 0x201 */
	assert_int_equal(fdb_port_of(e, 0x201, 1), -1);
	len = mkframe_n(buf, 0xffff, 0x301, -1, 46);
	input1(e, c, buf, len); /* b 4, a 3, c 1: b loses 0x202 */
	assert_int_equal(fdb_port_of(e, 0x202, 1), -1);
	len = mkframe_n(buf, 0xffff, 0x302, -1, 46);
	input1(e, c, buf, len); /* a 3, b 3, c 2: a (lower id) loses 0x102 */
	assert_int_equal(fdb_port_of(e, 0x102, 1), -1);
	assert_int_equal(fdb_port_of(e, 0x101, 1), e->id[a]);
	assert_int_equal(switch_fdb_count(e->sw), 8);
	env_free(e);
}

/*
 * A network-wide mirror (SWITCH_PORT_ALL) sees both sides of a forwarded
 * frame, on ports plugged in after it too, in one slot; it outlives the
 * removal of a port and stops at its own removal.
 */
static void test_mirror_all_ports(void **state)
{
	struct env *e = env_new();
	struct mirror_log l = {0};
	uint8_t buf[128];
	uint32_t len;
	int a, b, c, m;

	(void)state;
	a = env_port(e, cfg_access(1));
	m = switch_mirror_add(e->sw, SWITCH_PORT_ALL,
			      SWITCH_DIR_INGRESS | SWITCH_DIR_EGRESS,
			      mirror_cb, &l);
	assert_true(m >= 0);
	b = env_port(e, cfg_access(1)); /* after the tap */
	len = mkframe_n(buf, 0xb, 0xa, -1, 40);
	input1(e, a, buf, len); /* unknown: floods to b only */
	assert_int_equal(l.n, 2);
	assert_int_equal(l.port[0], e->id[a]);
	assert_int_equal(l.dir[0], SWITCH_DIR_INGRESS);
	assert_int_equal(l.port[1], e->id[b]);
	assert_int_equal(l.dir[1], SWITCH_DIR_EGRESS);
	assert_memory_equal(l.data[1], buf, len);
	/* Only egress wanted: a second tap with its own direction. */
	{
		struct mirror_log eo = {0};
		int me = switch_mirror_add(e->sw, SWITCH_PORT_ALL,
					   SWITCH_DIR_EGRESS, mirror_cb, &eo);

		assert_true(me >= 0);
		len = mkframe_n(buf, 0xa, 0xb, -1, 40);
		input1(e, b, buf, len); /* learned: to a */
		assert_int_equal(eo.n, 1);
		assert_int_equal(eo.port[0], e->id[a]);
		assert_int_equal(eo.dir[0], SWITCH_DIR_EGRESS);
		assert_int_equal(switch_mirror_remove(e->sw, me), 0);
	}
	assert_int_equal(l.n, 4);
	c = env_port(e, cfg_access(1));
	assert_int_equal(switch_port_remove(e->sw, (uint32_t)e->id[c]), 0);
	input1(e, b, buf, len);
	assert_int_equal(l.n, 6); /* still there after a port went */
	assert_int_equal(switch_mirror_remove(e->sw, m), 0);
	input1(e, b, buf, len);
	assert_int_equal(l.n, 6);
	assert_int_equal(e->tp[a]->n_rec, 3);
	env_free(e);
}

/* Limits: bad switch config, port slots, mirror slots; hub mode. */
static void test_limits(void **state)
{
	struct switch_config cfg = {.fdb_size = SWITCH_FDB_SIZE_MAX + 1};
	struct switch_config small = {.max_ports = 2,
				      .flags = SWITCH_F_NO_LEARN};
	struct switch_port_config pc = cfg_access(1);
	struct mirror_log ml = {0};
	uint8_t buf[128];
	uint32_t len;
	struct env *e;
	int i, a, b;

	(void)state;
	errno = 0;
	assert_null(switch_create(&cfg));
	assert_int_equal(errno, EINVAL);
	cfg = (struct switch_config){.max_ports = SWITCH_MAX_PORTS_MAX + 1};
	assert_null(switch_create(&cfg));

	e = env_new_cfg(&small);
	a = env_port(e, pc);
	b = env_port(e, pc);
	assert_int_equal(switch_port_add(e->sw, &tport_ops, NULL, &pc),
			 -ENOSPC);
	/* No learning: replies flood too, nothing in the FDB. */
	len = mkframe_n(buf, 0xb, 0xa, -1, 46);
	input1(e, a, buf, len);
	len = mkframe_n(buf, 0xa, 0xb, -1, 46);
	input1(e, b, buf, len);
	assert_int_equal(switch_fdb_count(e->sw), 0);
	assert_int_equal(e->tp[a]->n_rec, 1);
	/* Mirror slots are bounded. */
	for (i = 0; i < SWITCH_MIRROR_MAX; i++)
		assert_true(switch_mirror_add(e->sw, (uint32_t)e->id[a],
					      SWITCH_DIR_INGRESS, mirror_cb,
					      &ml) >= 0);
	assert_int_equal(switch_mirror_add(e->sw, (uint32_t)e->id[a],
					   SWITCH_DIR_INGRESS, mirror_cb, &ml),
			 -ENOSPC);
	/* Every observer of the port sees the frame. */
	input1(e, a, buf, 14);
	assert_int_equal(ml.calls, SWITCH_MIRROR_MAX);
	/* Removing the port frees its mirror slots. */
	assert_int_equal(switch_port_remove(e->sw, (uint32_t)e->id[a]), 0);
	assert_true(switch_mirror_add(e->sw, (uint32_t)e->id[b],
				      SWITCH_DIR_EGRESS, mirror_cb, &ml) >= 0);
	env_free(e);
}

/* More destination ports in one batch than the switch tracks by list
 * (2 x FRAME_BATCH_MAX): every one still gets its frames, once. */
static void test_many_ports(void **state)
{
	enum { N = 150 };
	struct switch_config cfg = {.max_ports = N, .clock_ns = fake_clock};
	struct switch_port_config pc = cfg_access(1);
	static struct tport *tp[N];
	static uint8_t bufs[FRAME_BATCH_MAX][64];
	struct switch_core *sw = switch_create(&cfg);
	struct frame_batch fb;
	uint32_t i, len;

	(void)state;
	assert_non_null(sw);
	for (i = 0; i < N; i++) {
		tp[i] = tport_new();
		assert_int_equal(switch_port_open(sw, &tport_ops, tp[i], &pc),
				 (int)i);
	}
	/* Every port's host says hello (floods, learned). */
	for (i = 1; i < N; i++) {
		struct frame_batch one = {.count = 1};

		len = mkframe(bufs[0], BCAST,
			      (uint8_t[]){2, 0, 0, 0, 1, (uint8_t)i}, -1, 46);
		one.f[0] = (struct frame){.data = bufs[0], .len = len};
		switch_port_input(sw, i, &one);
	}
	for (i = 0; i < N; i++)
		tport_clear(tp[i]);
	/* One batch from port 0: 63 unicasts to ports 1..63 and one
	 * broadcast to all 149: 149 destination ports touched. */
	memset(&fb, 0, sizeof(fb));
	for (i = 0; i < FRAME_BATCH_MAX; i++) {
		uint8_t dst[6] = {2, 0, 0, 0, 1, (uint8_t)i};

		len = mkframe(bufs[i], i == 0 ? BCAST : dst,
			      (uint8_t[]){2, 0, 0, 0, 2, 0}, -1, 46);
		fb.f[i] = (struct frame){.data = bufs[i], .len = len};
	}
	fb.count = FRAME_BATCH_MAX;
	assert_int_equal(switch_port_input(sw, 0, &fb), FRAME_BATCH_MAX);
	assert_int_equal(tp[0]->n_rec, 0);
	for (i = 1; i < N; i++) {
		uint32_t want = i < FRAME_BATCH_MAX ? 2 : 1;

		assert_int_equal(tp[i]->send_calls, 1);
		assert_int_equal(tp[i]->n_rec, want);
		assert_memory_equal(tp[i]->rec[0].data, BCAST, 6);
		if (want == 2)
			assert_int_equal(tp[i]->rec[1].data[5], i);
	}
	switch_destroy(sw);
	for (i = 0; i < N; i++) {
		assert_int_equal(tp[i]->closed, 1);
		tport_free(tp[i]);
	}
}

/* A priority tag over another tag: dropped on access and trunk ports. */
static void test_nested_tag(void **state)
{
	struct env *e = env_new();
	uint16_t v[] = {5, 0};
	uint8_t buf[128];
	uint32_t len;
	int a, t, n;

	(void)state;
	a = env_port(e, cfg_access(1));
	t = env_port(e, cfg_trunk(1, v)); /* native 1: untagged egress */
	n = env_port(e, cfg_access(1));
	/* 8100 0000 | 8100 0005 | 0800: would leave as "VLAN 5" on t. */
	len = mkframe_n(buf, 0x77, 0xa, 0, 46);
	memmove(buf + 16, buf + 12, len - 12);
	buf[12] = 0x81;
	buf[13] = 0x00;
	buf[14] = 0x00;
	buf[15] = 0x00;
	buf[19] = 0x05; /* the moved tag, now inner: VID 5 */
	len += 4;
	assert_int_equal(input1(e, a, buf, len), 0);
	assert_int_equal(e->tp[t]->n_rec + e->tp[n]->n_rec, 0);
	assert_int_equal(stats(e, a).drops[SWITCH_DROP_NESTED_TAG], 1);
	/* Same with 802.1ad inside, and from the trunk. */
	buf[16] = 0x88;
	buf[17] = 0xa8;
	assert_int_equal(input1(e, a, buf, len), 0);
	assert_int_equal(input1(e, t, buf, len), 0);
	assert_int_equal(stats(e, a).drops[SWITCH_DROP_NESTED_TAG], 2);
	assert_int_equal(stats(e, t).drops[SWITCH_DROP_NESTED_TAG], 1);
	assert_int_equal(e->tp[a]->n_rec + e->tp[t]->n_rec + e->tp[n]->n_rec,
			 0);
	/* A real VID with a tag inside (QinQ on the trunk) is carried:
	 * only priority tags are checked. */
	{
		struct switch_port_config c5 = cfg_access(5);
		int a5 = env_port(e, c5);
		uint8_t q[128];

		len = mkframe_n(q, 0x77, 0xb, 5, 46);
		q[16] = 0x81;
		q[17] = 0x00;
		assert_int_equal(input1(e, t, q, len), 1);
		assert_int_equal(e->tp[a5]->n_rec, 1);
		assert_int_equal(stats(e, t).drops[SWITCH_DROP_NESTED_TAG], 1);
	}
	env_free(e);
}

/* A hostile peer rewrites the frame after the switch decided (simulated
 * by an ingress observer writing the bytes). With rx_shared the frames
 * sent are built from the switch's own copy of the header. */
static void flip_to_vlan5(void *arg, uint32_t port_id, enum switch_dir dir,
			  const struct frame *f)
{
	uint8_t *d = (uint8_t *)(uintptr_t)f->data;

	(void)arg;
	(void)port_id;
	(void)dir;
	if (f->len >= 18) {
		d[12] = 0x81;
		d[13] = 0x00;
		d[14] = 0x00;
		d[15] = 0x05;
		d[0] ^= 0x10;
	}
}

static void test_rx_shared(void **state)
{
	uint16_t v[] = {5, 0};
	uint8_t buf[128], orig[128];
	uint32_t len;
	int pass;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		struct env *e = env_new();
		struct switch_port_config pa = cfg_access(1);
		int a, t;

		pa.rx_shared = pass == 1;
		a = env_port(e, pa);
		t = env_port(e, cfg_trunk(1, v)); /* VLAN 1 untagged on t */
		assert_true(switch_mirror_add(e->sw, (uint32_t)e->id[a],
					      SWITCH_DIR_INGRESS, flip_to_vlan5,
					      NULL) >= 0);
		len = mkframe_n(buf, 0x77, 0xa, -1, 46);
		memcpy(orig, buf, len);
		assert_int_equal(input1(e, a, buf, len), 1);
		assert_int_equal(e->tp[t]->n_rec, 1);
		assert_int_equal(e->tp[t]->rec[0].len, len);
		if (pass == 0) {
			/* Zero copy: the rewrite shows, tag and all. */
			assert_ptr_equal(e->tp[t]->rec[0].orig, buf);
			assert_int_equal(e->tp[t]->rec[0].data[12], 0x81);
		} else {
			/* Header as decided; the body is the peer's. */
			assert_ptr_not_equal(e->tp[t]->rec[0].orig, buf);
			assert_memory_equal(e->tp[t]->rec[0].data, orig, 14);
			assert_memory_equal(e->tp[t]->rec[0].data + 16,
					    buf + 16, len - 16);
		}
		env_free(e);
	}
}

/* ---- GSO ---- */

static void test_gso(void **state)
{
	struct env *e = env_new();
	struct switch_port_config g = cfg_access(1);
	uint16_t v[] = {1, 0};
	struct switch_port_config gt = cfg_trunk(0, v);
	struct frame_batch fb;
	uint8_t *big;
	uint32_t len = 60000;
	int a, b, c, t;

	(void)state;
	g.accepts_gso = true;
	gt.accepts_gso = true;
	a = env_port(e, g);
	b = env_port(e, g);
	c = env_port(e, cfg_access(1));
	t = env_port(e, gt);
	big = malloc(FRAME_MAX_LEN + 8);
	assert_non_null(big);
	mkframe_n(big, 0x77, 0xa, -1, len - 14);

	memset(&fb, 0, sizeof(fb));
	fb.count = 1;
	fb.f[0].data = big;
	fb.f[0].len = len;
	fb.f[0].off = (struct frame_offload){
	    .flags = FRAME_F_NEEDS_CSUM,
	    .gso_type = FRAME_GSO_TCPV4,
	    .hdr_len = 54,
	    .gso_size = 1448,
	    .csum_start = 34,
	    .csum_offset = 16,
	};
	assert_int_equal(switch_port_input(e->sw, (uint32_t)e->id[a], &fb), 1);
	/* b: the same bytes, offload intact, not copied by the switch. */
	assert_int_equal(e->tp[b]->n_rec, 1);
	assert_int_equal(e->tp[b]->rec[0].len, len);
	assert_ptr_equal(e->tp[b]->rec[0].orig, big);
	assert_memory_equal(e->tp[b]->rec[0].data, big, len);
	assert_int_equal(e->tp[b]->rec[0].off.gso_type, FRAME_GSO_TCPV4);
	assert_int_equal(e->tp[b]->rec[0].off.gso_size, 1448);
	assert_int_equal(e->tp[b]->rec[0].off.hdr_len, 54);
	assert_int_equal(e->tp[b]->rec[0].off.csum_start, 34);
	assert_int_equal(e->tp[b]->rec[0].off.flags, FRAME_F_NEEDS_CSUM);
	/* c does not accept GSO: dropped, counted on c. */
	assert_int_equal(e->tp[c]->n_rec, 0);
	assert_int_equal(stats(e, c).drops[SWITCH_DROP_GSO_UNSUPPORTED], 1);
	/* t: tagged, and the offsets move by the tag. */
	assert_int_equal(e->tp[t]->n_rec, 1);
	assert_int_equal(e->tp[t]->rec[0].len, len + 4);
	assert_int_equal(e->tp[t]->rec[0].off.hdr_len, 58);
	assert_int_equal(e->tp[t]->rec[0].off.csum_start, 38);
	assert_int_equal(e->tp[t]->rec[0].off.csum_offset, 16);
	assert_int_equal(e->tp[t]->rec[0].data[12], 0x81);
	assert_memory_equal(e->tp[t]->rec[0].data + 16, big + 12, len - 12);

	/* A maximal frame cannot take a tag: too_long on the trunk. */
	fb.f[0].len = FRAME_MAX_LEN;
	clear_all(e);
	switch_port_input(e->sw, (uint32_t)e->id[a], &fb);
	assert_int_equal(stats(e, t).drops[SWITCH_DROP_TOO_LONG], 1);
	assert_int_equal(e->tp[b]->n_rec, 1);
	assert_int_equal(e->tp[t]->n_rec, 0);

	/* Back from the trunk to access ports: stripped, offsets back. */
	clear_all(e);
	mkframe_n(big, 0x78, 0xd, 1, len - 18);
	fb.f[0].len = len;
	fb.f[0].off.hdr_len = 58;
	fb.f[0].off.csum_start = 38;
	switch_port_input(e->sw, (uint32_t)e->id[t], &fb);
	assert_int_equal(e->tp[a]->n_rec, 1);
	assert_int_equal(e->tp[a]->rec[0].len, len - 4);
	assert_int_equal(e->tp[a]->rec[0].off.hdr_len, 54);
	assert_int_equal(e->tp[a]->rec[0].off.csum_start, 34);
	assert_memory_equal(e->tp[a]->rec[0].data + 12, big + 16, len - 16);
	free(big);
	env_free(e);
}

/* A batch of big frames that each need a tag overflows the scratch area:
 * still delivered, complete and in order. */
static void test_scratch_overflow(void **state)
{
	struct env *e = env_new();
	uint16_t v[] = {1, 0};
	struct switch_port_config g = cfg_access(1), gt = cfg_trunk(0, v);
	struct frame_batch fb;
	uint8_t *big;
	uint32_t i, len = 60000;
	int a, t;

	(void)state;
	g.accepts_gso = true;
	gt.accepts_gso = true;
	a = env_port(e, g);
	t = env_port(e, gt);
	big = malloc(len);
	assert_non_null(big);
	mkframe_n(big, 0x77, 0xa, -1, len - 14);
	memset(&fb, 0, sizeof(fb));
	for (i = 0; i < 10; i++) {
		fb.f[i].data = big;
		fb.f[i].len = len - i;
		fb.f[i].off.gso_type = FRAME_GSO_TCPV4;
	}
	fb.count = 10;
	assert_int_equal(switch_port_input(e->sw, (uint32_t)e->id[a], &fb), 10);
	assert_int_equal(e->tp[t]->n_rec, 10);
	assert_true(e->tp[t]->send_calls > 1);
	for (i = 0; i < 10; i++) {
		assert_int_equal(e->tp[t]->rec[i].len, len - i + 4);
		assert_memory_equal(e->tp[t]->rec[i].data + 16, big + 12,
				    len - i - 12);
	}
	free(big);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_learning),
	    cmocka_unit_test(test_learning_per_vlan),
	    cmocka_unit_test(test_no_learn_multicast_source),
	    cmocka_unit_test(test_aging),
	    cmocka_unit_test(test_eviction_fair),
	    cmocka_unit_test(test_vlan_access),
	    cmocka_unit_test(test_vlan_trunk_ingress),
	    cmocka_unit_test(test_vlan_egress_bytes),
	    cmocka_unit_test(test_flood_scope),
	    cmocka_unit_test(test_no_flood_unknown),
	    cmocka_unit_test(test_isolation),
	    cmocka_unit_test(test_runtime_vlan_change),
	    cmocka_unit_test(test_counters),
	    cmocka_unit_test(test_mirror),
	    cmocka_unit_test(test_mirror_all_ports),
	    cmocka_unit_test(test_batch_large),
	    cmocka_unit_test(test_poll),
	    cmocka_unit_test(test_batch_move_midway),
	    cmocka_unit_test(test_eviction_ties),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_many_ports),
	    cmocka_unit_test(test_nested_tag),
	    cmocka_unit_test(test_rx_shared),
	    cmocka_unit_test(test_gso),
	    cmocka_unit_test(test_scratch_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
