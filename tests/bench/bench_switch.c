/* SPDX-License-Identifier: MIT */
/* bench_switch.c - switch core benchmark: two in-memory ports, one thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "switch/switch.h"

/*
 * Port A's recv hands out the same FRAME_BATCH_MAX prepared frames on every
 * call (like an shm ring that is always full); port B's send copies every
 * frame into a 2 MiB circular buffer, as an shm port copies into its peer's
 * ring. So the figure is the switch path plus one copy per frame, with no
 * cross-core traffic: the ceiling for the cross-process benchmark.
 */

enum { RUNS = 5, SINK_SIZE = 2 * 1024 * 1024 };

struct bport {
	struct frame_batch ready;
	/* Or frames handed out round-robin from a larger pool. */
	struct frame *pool;
	uint32_t pool_n, pool_pos;
	uint8_t *sink;
	size_t sink_pos;
	uint64_t frames, bytes;
};

static int bport_recv(struct port *port, struct frame_batch *b)
{
	struct bport *bp = port->priv;
	uint32_t n = bp->ready.count;

	if (bp->pool) {
		for (n = 0; n < FRAME_BATCH_MAX; n++) {
			b->f[n] = bp->pool[bp->pool_pos++];
			if (bp->pool_pos == bp->pool_n)
				bp->pool_pos = 0;
		}
		b->count = n;
		return (int)n;
	}
	if (!n)
		return 0;
	memcpy(b->f, bp->ready.f, n * sizeof(b->f[0]));
	b->count = n;
	return (int)n;
}

static void bport_recv_done(struct port *port, struct frame_batch *b)
{
	(void)port;
	(void)b;
}

static int bport_send(struct port *port, struct frame_batch *b)
{
	struct bport *bp = port->priv;
	uint32_t i;

	for (i = 0; i < b->count; i++) {
		uint32_t len = b->f[i].len;

		if (bp->sink_pos + len > SINK_SIZE)
			bp->sink_pos = 0;
		memcpy(bp->sink + bp->sink_pos, b->f[i].data, len);
		bp->sink_pos += (len + 63) & ~63u;
		bp->bytes += len;
	}
	bp->frames += b->count;
	return (int)b->count;
}

static const struct port_ops bport_ops = {
    .name = "bench",
    .recv = bport_recv,
    .recv_done = bport_recv_done,
    .send = bport_send,
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One run: Mpps (frames per µs) and Gbit/s of frame bytes delivered. */
static void run_once(uint32_t frame_len, bool shared, double secs, double *mpps,
		     double *gbps)
{
	static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 0xa};
	static const uint8_t mac_b[6] = {2, 0, 0, 0, 0, 0xb};
	struct switch_port_config pc;
	struct switch_core *sw;
	struct bport *a, *b;
	uint8_t *frames, learn[64];
	double t0, t1;
	uint32_t i;
	int ia, ib;

	sw = switch_create(NULL);
	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	frames = calloc(FRAME_BATCH_MAX, 2048);
	if (!sw || !a || !b || !frames)
		exit(1);
	a->sink = malloc(SINK_SIZE);
	b->sink = malloc(SINK_SIZE);
	if (!a->sink || !b->sink)
		exit(1);
	memset(&pc, 0, sizeof(pc));
	pc.access_vlan = 1;
	pc.rx_shared = shared;
	ia = switch_port_add(sw, &bport_ops, a, &pc);
	ib = switch_port_add(sw, &bport_ops, b, &pc);
	if (ia < 0 || ib < 0)
		exit(1);

	/* B says hello so that A's frames to B are known unicast. */
	memset(learn, 0, sizeof(learn));
	memcpy(learn, mac_a, 6);
	memcpy(learn + 6, mac_b, 6);
	learn[12] = 0x08;
	b->ready.count = 1;
	b->ready.f[0] = (struct frame){.data = learn, .len = 60};
	switch_poll(sw);
	b->ready.count = 0;

	for (i = 0; i < FRAME_BATCH_MAX; i++) {
		uint8_t *f = frames + i * 2048;

		memcpy(f, mac_b, 6);
		memcpy(f + 6, mac_a, 6);
		f[12] = 0x08;
		f[13] = 0x00;
		memset(f + 14, (int)i, frame_len - 14);
		a->ready.f[i] = (struct frame){.data = f, .len = frame_len};
	}
	a->ready.count = FRAME_BATCH_MAX;

	/* Warm up, then time whole rounds until @secs passed. */
	for (i = 0; i < 1000; i++)
		switch_poll(sw);
	b->frames = 0;
	b->bytes = 0;
	t0 = now_s();
	do {
		for (i = 0; i < 1000; i++)
			switch_poll(sw);
		t1 = now_s();
	} while (t1 - t0 < secs);
	*mpps = (double)b->frames / (t1 - t0) / 1e6;
	*gbps = (double)b->bytes * 8 / (t1 - t0) / 1e9;

	switch_destroy(sw);
	free(a->sink);
	free(b->sink);
	free(a);
	free(b);
	free(frames);
}

static void mac_of(uint8_t *m, uint32_t host)
{
	m[0] = 2;
	m[1] = 0;
	m[2] = (uint8_t)(host >> 24);
	m[3] = (uint8_t)(host >> 16);
	m[4] = (uint8_t)(host >> 8);
	m[5] = (uint8_t)host;
}

/*
 * Scale: @nports ports, @nmacs hosts spread over them and learned; port 0
 * sends 64 B frames from its hosts to random hosts elsewhere (or, with
 * @bcast, broadcasts that go to every other port). Return: Mpps taken in
 * by port 0 (every frame of it is forwarded).
 */
static double run_scale(uint32_t nports, uint32_t nmacs, bool bcast,
			double secs)
{
	enum { POOL = 16384 };
	struct switch_config cfg = {.fdb_size = 2 * nmacs + 64};
	struct switch_port_config pc;
	struct switch_core *sw = switch_create(&cfg);
	struct bport *bp = calloc(nports, sizeof(*bp));
	uint8_t *frames = calloc(POOL, 64), learn[64];
	struct frame *pool = calloc(POOL, sizeof(*pool));
	uint64_t in = 0;
	double t0, t1;
	uint32_t i, h;

	if (!sw || !bp || !frames || !pool)
		exit(1);
	memset(&pc, 0, sizeof(pc));
	pc.access_vlan = 1;
	for (i = 0; i < nports; i++) {
		bp[i].sink = malloc(SINK_SIZE);
		if (!bp[i].sink ||
		    switch_port_add(sw, &bport_ops, &bp[i], &pc) != (int)i)
			exit(1);
	}
	/* Host h lives on port h % nports; each says hello once. */
	memset(learn, 0, sizeof(learn));
	memset(learn, 0xff, 6);
	learn[12] = 0x08;
	for (h = 0; h < nmacs; h++) {
		struct frame_batch b = {.count = 1};

		mac_of(learn + 6, h);
		b.f[0] = (struct frame){.data = learn, .len = 60};
		switch_port_input(sw, h % nports, &b);
	}
	srand(7);
	for (i = 0; i < POOL; i++) {
		uint8_t *f = frames + i * 64;
		uint32_t src = (uint32_t)rand() % (nmacs / nports) * nports;
		uint32_t dst;

		do
			dst = (uint32_t)rand() % nmacs;
		while (dst % nports == 0);
		if (bcast)
			memset(f, 0xff, 6);
		else
			mac_of(f, dst);
		mac_of(f + 6, src);
		f[12] = 0x08;
		pool[i] = (struct frame){.data = f, .len = 64};
	}
	bp[0].pool = pool;
	bp[0].pool_n = POOL;
	for (i = 0; i < 200; i++)
		switch_poll(sw);
	t0 = now_s();
	do {
		for (i = 0; i < 200; i++)
			switch_poll(sw);
		in += 200 * FRAME_BATCH_MAX;
		t1 = now_s();
	} while (t1 - t0 < secs);
	switch_destroy(sw);
	for (i = 0; i < nports; i++)
		free(bp[i].sink);
	free(bp);
	free(frames);
	free(pool);
	return (double)in / (t1 - t0) / 1e6;
}

static void bench_scale(const char *name, uint32_t nports, uint32_t nmacs,
			bool bcast, double secs)
{
	double mpps[RUNS];
	int r;

	for (r = 0; r < RUNS; r++)
		mpps[r] = run_scale(nports, nmacs, bcast, secs);
	qsort(mpps, RUNS, sizeof(mpps[0]), cmp_double);
	printf("BENCH %s %.2f Mpps\n", name, mpps[RUNS / 2]);
	fflush(stdout);
}

/*
 * bench_switch [SECONDS_PER_RUN [64|1500|scale]]
 * Without a filter: all of them. Every figure is the median of 5 runs.
 */
int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	const char *only = argc > 2 ? argv[2] : ""; /* "64" or "1500" */
	double mpps[RUNS], gbps[RUNS];
	int r;

	if (strcmp(only, "scale") == 0)
		goto scale;
	if (strcmp(only, "1500") == 0)
		goto big;
	for (r = 0; r < RUNS; r++)
		run_once(64, false, secs, &mpps[r], &gbps[r]);
	qsort(mpps, RUNS, sizeof(mpps[0]), cmp_double);
	printf("BENCH switch.core.64B %.2f Mpps\n", mpps[RUNS / 2]);
	fflush(stdout);
	/* The same from a port whose frames the switch must copy. */
	for (r = 0; r < RUNS; r++)
		run_once(64, true, secs, &mpps[r], &gbps[r]);
	qsort(mpps, RUNS, sizeof(mpps[0]), cmp_double);
	printf("BENCH switch.core.64B.rx_shared %.2f Mpps\n", mpps[RUNS / 2]);
	fflush(stdout);
	if (strcmp(only, "64") == 0)
		return 0;
big:
	for (r = 0; r < RUNS; r++)
		run_once(1500, false, secs, &mpps[r], &gbps[r]);
	qsort(gbps, RUNS, sizeof(gbps[0]), cmp_double);
	printf("BENCH switch.core.1500B %.2f Gbit/s\n", gbps[RUNS / 2]);
	fflush(stdout);
	if (strcmp(only, "1500") == 0)
		return 0;
scale:
	/* Many hosts: lookups miss the cache; floods: one copy per port. */
	bench_scale("switch.scale.64B.16ports.10kmacs", 16, 10000, false, secs);
	bench_scale("switch.flood.64B.16ports", 16, 1600, true, secs);
	return 0;
}
