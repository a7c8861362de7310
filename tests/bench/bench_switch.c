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
	uint8_t *sink;
	size_t sink_pos;
	uint64_t frames, bytes;
};

static int bport_recv(struct port *port, struct frame_batch *b)
{
	struct bport *bp = port->priv;
	uint32_t n = bp->ready.count;

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
static void run_once(uint32_t frame_len, double secs, double *mpps,
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

/* bench_switch [SECONDS_PER_RUN [64|1500]] */
int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	const char *only = argc > 2 ? argv[2] : ""; /* "64" or "1500" */
	double mpps[RUNS], gbps[RUNS];
	int r;

	if (strcmp(only, "1500") == 0)
		goto big;
	for (r = 0; r < RUNS; r++)
		run_once(64, secs, &mpps[r], &gbps[r]);
	qsort(mpps, RUNS, sizeof(mpps[0]), cmp_double);
	printf("BENCH switch.core.64B %.2f Mpps\n", mpps[RUNS / 2]);
	fflush(stdout);
	if (strcmp(only, "64") == 0)
		return 0;
big:
	for (r = 0; r < RUNS; r++)
		run_once(1500, secs, &mpps[r], &gbps[r]);
	qsort(gbps, RUNS, sizeof(gbps[0]), cmp_double);
	printf("BENCH switch.core.1500B %.2f Gbit/s\n", gbps[RUNS / 2]);
	return 0;
}
