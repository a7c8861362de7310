/* SPDX-License-Identifier: MIT */
/* bench_virtio_net.c - two virtio-net devices through a running loom-netd's switch, driven by a synthetic guest driver (no vCPU). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/virtio/net.h"
#include "vmm/virtio/virtio.h"

/*
 * Usage: bench_virtio_net NETD_SOCKET NETWORK
 * (tests/bench/virtio-net.sh starts a private loom-netd with a switch
 * network and runs this.) Device A only transmits, device B only receives;
 * each has its own guest RAM, with the driver's side done here: A's
 * transmit ring is kept full of frames (header + frame, one descriptor),
 * B's receive ring full of 2 KiB buffers (mergeable). One thread runs
 * both drivers and both devices (virtio_net_process()) in turn, so the
 * figure is the device model's and the shm path's cost, netd's switch
 * running on its own data-path thread. 64 B and 1500 B frames, BENCH
 * lines with the frames B's driver got per second.
 * Environment: BENCH_SECONDS (default 2), BENCH_PIN=0 to not pin (default:
 * CPU 0; netd runs where the scheduler puts it), BENCH_BACKEND (default
 * shm; tap on a bridge network: the userspace TAP path, netd's TAPs and
 * the kernel's bridge between the two devices).
 */

enum {
	RAM = 8 << 20,
	QS = VIRTIO_NET_QUEUE_SIZE,
	DESC = 0x10000, AVAIL = 0x20000, USED = 0x30000, /* + q * 0x40000 */
	BUF = 0x200000,	 /* QS buffers of BUF_SIZE */
	BUF_SIZE = 2048,
};

struct drv {
	struct guest_mem gm;
	struct virtio_net *net;
	struct virtio_dev *vdev;
	uint16_t avail_idx[2], used_seen[2];
	uint64_t got, bytes;
};

static uint8_t *ptr(struct drv *d, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(&d->gm, gpa, len);
}

static void put16(struct drv *d, uint64_t gpa, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)ptr(d, gpa, 2), v,
			 __ATOMIC_RELEASE);
}

static uint16_t get16(struct drv *d, uint64_t gpa)
{
	return __atomic_load_n((uint16_t *)(void *)ptr(d, gpa, 2),
			       __ATOMIC_ACQUIRE);
}

static uint64_t qoff(unsigned int q)
{
	return 0x40000ull * q;
}

static void desc(struct drv *d, unsigned int q, unsigned int i, uint64_t a,
		 uint32_t len, uint16_t flags)
{
	uint8_t *p = ptr(d, DESC + qoff(q) + 16ull * i, 16);

	memcpy(p, &a, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memset(p + 14, 0, 2);
}

static void avail(struct drv *d, unsigned int q, uint16_t head)
{
	uint64_t a = AVAIL + qoff(q);

	put16(d, a + 4 + 2ull * (d->avail_idx[q] % QS), head);
	d->avail_idx[q]++;
	put16(d, a + 2, d->avail_idx[q]);
}

static int drv_open(struct drv *d, const char *sock, const char *net,
		    const char *port, uint8_t last)
{
	struct nic_config cfg = { .model = "virtio", .backend = "shm",
				  .mac = { 0x52, 0x4c, 0xbe, 0x4c, 0, last },
				  .netd_sock = sock };
	const char *backend = getenv("BENCH_BACKEND");
	struct virtio_dev *v;
	int err = 0;

	/* BENCH_BACKEND=tap (or "" = as loom-vmm picks) on a bridge network:
	 * frames through netd's TAPs and the Linux bridge. */
	if (backend)
		snprintf(cfg.backend, sizeof(cfg.backend), "%s", backend);
	snprintf(cfg.net, sizeof(cfg.net), "%s", net);
	snprintf(cfg.port, sizeof(cfg.port), "%s", port);
	if (guest_mem_init(&d->gm, RAM, GUEST_MEM_X86_LOW_LIMIT))
		return -ENOMEM;
	d->net = virtio_net_open(&d->gm, NULL, &cfg, NULL, &err);
	if (!d->net)
		return err;
	v = d->vdev = virtio_net_vdev(d->net);
	pthread_mutex_lock(&v->lock);
	virtio_dev_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE |
				     VIRTIO_STATUS_DRIVER);
	/* What Linux's virtio_net negotiates. */
	v->driver_features = v->features;
	virtio_dev_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE |
				     VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK);
	for (unsigned int q = 0; q < 2; q++) {
		v->vqs[q].size = QS;
		v->vqs[q].desc_gpa = DESC + qoff(q);
		v->vqs[q].avail_gpa = AVAIL + qoff(q);
		v->vqs[q].used_gpa = USED + qoff(q);
		virtio_dev_queue_enable(v, q);
	}
	virtio_dev_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE |
				     VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK |
				     VIRTIO_STATUS_DRIVER_OK);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* Sender: every descriptor i is a frame at BUF + i * BUF_SIZE. */
static void tx_fill(struct drv *d, uint32_t len)
{
	for (unsigned int i = 0; i < QS; i++) {
		uint8_t *b = ptr(d, BUF + (uint64_t)i * BUF_SIZE, BUF_SIZE);

		memset(b, 0, VIRTIO_NET_HDR_SIZE);
		/* To B's MAC (never a source: flooded, i.e. to B), from A's. */
		memcpy(b + 12, "\x52\x4c\xbe\x4c\x00\x02", 6);
		memcpy(b + 18, "\x52\x4c\xbe\x4c\x00\x01", 6);
		/* EtherType 0x88b5 (local experimental): not IPv4, whose
		 * all-zero header a kernel bridge with br_netfilter drops. */
		b[24] = 0x88;
		b[25] = 0xb5;
		desc(d, 1, i, BUF + (uint64_t)i * BUF_SIZE,
		     VIRTIO_NET_HDR_SIZE + len, 0);
		avail(d, 1, (uint16_t)i);
	}
}

static void rx_fill(struct drv *d)
{
	for (unsigned int i = 0; i < QS; i++) {
		desc(d, 0, i, BUF + (uint64_t)i * BUF_SIZE, BUF_SIZE,
		     VIRTQ_DESC_F_WRITE);
		avail(d, 0, (uint16_t)i);
	}
}

/* The driver's half: used elements back into the avail ring. */
static void recycle(struct drv *d, unsigned int q)
{
	uint64_t u = USED + qoff(q);
	uint16_t idx = get16(d, u + 2);

	while (d->used_seen[q] != idx) {
		uint8_t *el = ptr(d, u + 4 + 8ull * (d->used_seen[q] % QS), 8);
		uint32_t id, len;

		memcpy(&id, el, 4);
		memcpy(&len, el + 4, 4);
		if (q == 0) {
			d->got++;
			d->bytes += len - VIRTIO_NET_HDR_SIZE;
		}
		avail(d, q, (uint16_t)id);
		d->used_seen[q]++;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(struct drv *a, struct drv *b, uint32_t len, double secs)
{
	uint64_t got0, bytes0;
	double t0, t;

	/* Warm-up: rings, pages and netd's data path running. */
	tx_fill(a, len);
	for (t0 = now(); now() - t0 < 0.3;) {
		virtio_net_process(a->net);
		recycle(a, 1);
		virtio_net_process(b->net);
		recycle(b, 0);
	}
	got0 = b->got;
	bytes0 = b->bytes;
	t0 = now();
	do {
		for (int i = 0; i < 64; i++) {
			virtio_net_process(a->net);
			recycle(a, 1);
			virtio_net_process(b->net);
			recycle(b, 0);
		}
		t = now() - t0;
	} while (t < secs);
	/* The path in the name: "switch" (shm), "bridge-tap" (the script). */
	const char *path = getenv("BENCH_PATH") ? getenv("BENCH_PATH") :
						  "switch";

	if (len <= 64)
		printf("BENCH virtio_net.%s.%uB %.2f Mpps\n", path, len,
		       (double)(b->got - got0) / t / 1e6);
	else
		printf("BENCH virtio_net.%s.%uB %.2f Gbit/s (%.2f Mpps)\n",
		       path, len, (double)(b->bytes - bytes0) * 8 / t / 1e9,
		       (double)(b->got - got0) / t / 1e6);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct drv a, a2, b;
	const char *env = getenv("BENCH_SECONDS");
	double secs = env ? atof(env) : 2.0;
	cpu_set_t set;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s NETD_SOCKET NETWORK\n", argv[0]);
		return 2;
	}
	log_max_level = LOG_WARN;
	if (!getenv("BENCH_PIN") || strcmp(getenv("BENCH_PIN"), "0")) {
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	ret = drv_open(&a, argv[1], argv[2], "bench-a", 1);
	if (!ret)
		ret = drv_open(&b, argv[1], argv[2], "bench-b", 2);
	if (ret) {
		fprintf(stderr, "attach to %s on %s: %s\n", argv[2], argv[1],
			strerror(-ret));
		return 1;
	}
	rx_fill(&b);
	run(&a, &b, 64, secs);
	virtio_net_close(a.net);
	/* 64 B frames are still in A's ring: a fresh sender for 1500 B. */
	ret = drv_open(&a2, argv[1], argv[2], "bench-a", 1);
	if (ret) {
		fprintf(stderr, "re-attach: %s\n", strerror(-ret));
		return 1;
	}
	run(&a2, &b, 1500, secs);
	virtio_net_close(a2.net);
	virtio_net_close(b.net);
	return 0;
}
