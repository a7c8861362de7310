/* SPDX-License-Identifier: MIT */
/* bench_shm.c - shm ring and switch path, peers in their own processes. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/shm.h"
#include "common/log.h"
#include "common/shm_peer.h"
#include "common/shm_ring.h"
#include "switch/switch.h"
#include "tests/bench/bench_capture.h"

/*
 * Cases (docs/performance.md explains them):
 *   ring     producer process -> bare to_netd ring -> consumer process
 *   switch   producer peer -> [netd process: shm port, switch, shm port]
 *            -> consumer peer; attached over real sockets (SCM_RIGHTS)
 * Every process waits adaptively: it spins SPIN_NS when idle, then sleeps
 * on its eventfd with the event index armed. Each case runs 5 times;
 * the median is printed as a BENCH line.
 *
 *   capture  the switch case three ways, rounds interleaved: without a
 *            capture, with loom-netd's capture of every port to a writer
 *            that keeps up, and to one that stalls (bench_capture.c);
 *            medians and the paired ratios (issue 15's goal: >= 0.80
 *            keeping up, >= 0.95 stalled)
 * Argument: a case name or prefix ("ring", "switch.shm.64B"); none: all.
 * Environment: BENCH_SECONDS (measured seconds per run, default 1),
 * BENCH_RUNS (runs per case, default 5, at most 16), BENCH_RING (slots
 * per ring the peers ask for, default 512),
 * BENCH_PIN=0 to leave placement to the scheduler (default: the switch
 * process on the last CPU, both peers on CPU 0).
 */

enum { BURST = 32, SPIN_NS = 50000 };
static int runs = 5; /* per case; the median is reported */

static const uint8_t mac_p[6] = {0x52, 0x54, 0, 0, 0, 1};
static const uint8_t mac_c[6] = {0x52, 0x54, 0, 0, 0, 2};

/* Shared between the processes of one run. */
struct ctl {
	volatile int stop;
	volatile uint64_t received; /* frames the consumer took */
	volatile uint64_t rx_bytes;
	volatile uint64_t sent; /* frames the producer queued */
	volatile uint64_t netd_sleeps, kicks_p, kicks_c;
	volatile uint8_t sink;
	volatile uint64_t netd_busy_ns, netd_frames; /* productive rounds */
	volatile uint64_t netd_in,
	    netd_dropped; /* producer's port, all drops */
	volatile uint64_t cap_written, cap_dropped; /* capture cases */
};

static struct ctl *ctl;
static enum bench_capture_mode cap_mode; /* the switch process's capture */
static uint32_t ring_size = SHM_RING_SIZE_DEFAULT; /* BENCH_RING */
/* The peers share a CPU: wait by yielding it rather than spinning on it. */
static bool share_cpu;
static double seconds = 1.0;
static int pin = 1;

static void pin_to(int cpu)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (!pin || n < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? (int)n - 1 : cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Name the process (for perf report --comm) and place it. */
static void role(const char *name, int cpu)
{
	prctl(PR_SET_NAME, name);
	pin_to(cpu);
}

static void frame_init(uint8_t *f, uint32_t len)
{
	memset(f, 0x5a, len);
	memcpy(f, mac_c, 6);
	memcpy(f + 6, mac_p, 6);
	f[12] = 0x08;
	f[13] = 0x00;
}

/*
 * End-to-end window (switch cases): the producer keeps at most this many
 * frames (and bytes) in flight towards the consumer, as a TCP sender
 * would, so the switch never finds the consumer's ring full: the figures
 * are zero-loss rates. While the window is closed the producer yields its
 * CPU, which the consumer (sharing that CPU) needs.
 */
static uint64_t window_frames = UINT64_MAX, window_bytes = UINT64_MAX;

/* How many frames the window lets the producer send now (<= BURST). */
static int window_room(uint32_t len)
{
	uint64_t inflight = ctl->sent - ctl->received;
	uint64_t by_frames, by_bytes;

	if (window_frames == UINT64_MAX)
		return BURST;
	by_frames = inflight < window_frames ? window_frames - inflight : 0;
	by_bytes = inflight * len < window_bytes
		       ? (window_bytes - inflight * len) / len
		       : 0;
	if (by_bytes < by_frames)
		by_frames = by_bytes;
	return by_frames < BURST ? (int)by_frames : BURST;
}

/* The producer: bursts of BURST frames, waits when the ring is full. */
static void run_producer(struct shm_peer *p, uint32_t len, bool gso)
{
	static uint8_t frame[SHM_FRAME_MAX];
	struct shm_desc off = {0};

	if (gso) {
		off.vnet_flags = SHM_VNET_F_NEEDS_CSUM;
		off.gso_type = SHM_VNET_GSO_TCPV4;
		off.hdr_len = 54;
		off.gso_size = 1448;
		off.csum_start = 34;
		off.csum_offset = 16;
	}
	frame_init(frame, len);
	while (!ctl->stop) {
		int k, room = window_room(len);

		/* Small frames: wait for a whole burst of room. */
		if (room < (len < 4096 ? BURST : 1)) {
			sched_yield();
			continue;
		}
		for (k = 0; k < room; k++)
			if (shm_peer_send(p, frame, len, gso ? &off : NULL))
				break;
		shm_peer_flush(p);
		__atomic_fetch_add(&ctl->sent, (uint64_t)k, __ATOMIC_RELAXED);
		if (k < room && share_cpu) {
			/* Ring full: yield to the consumer, then sleep. */
			uint64_t t0 = shm_now_ns();

			while (shm_prod_free_slots(&p->tx) < BURST &&
			       shm_now_ns() - t0 < SPIN_NS)
				sched_yield();
			if (shm_prod_wait(&p->tx, p->kick_peer, BURST, 0, 20) <
			    0)
				break;
		} else if (k < room && shm_prod_wait(&p->tx, p->kick_peer,
						     BURST, SPIN_NS, 20) < 0) {
			break;
		}
	}
	ctl->kicks_p = p->tx.st.kicks;
}

/* The consumer: takes whatever is there, reads each frame's header. */
static void run_consumer(struct shm_cons *c, int efd_wait, int efd_kick)
{
	uint64_t frames = 0, bytes = 0, kicks = 0;
	uint8_t sink = 0;

	while (!ctl->stop) {
		int n = shm_cons_peek(c);

		/*
		 * Idle: for SPIN_NS let a producer sharing this CPU run
		 * (spinning would only keep it off), then sleep.
		 */
		if (n == 0 && share_cpu) {
			uint64_t t0 = shm_now_ns();

			while (n == 0 && shm_now_ns() - t0 < SPIN_NS) {
				sched_yield();
				n = shm_cons_peek(c);
			}
			if (n == 0)
				n = shm_cons_wait(c, efd_wait, 0, 20);
		} else if (n == 0) {
			n = shm_cons_wait(c, efd_wait, SPIN_NS, 20);
		}
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			struct shm_desc d;
			const uint8_t *f =
			    shm_cons_get(c, (uint32_t)i, &d, NULL);

			if (!f)
				return;
			sink ^= f[0] ^ f[13];
			bytes += d.len;
		}
		frames += (uint64_t)n;
		if (shm_cons_release(c, (uint32_t)n)) {
			kicks++;
			shm_kick(efd_kick);
		}
		ctl->received = frames;
		ctl->rx_bytes = bytes;
	}
	ctl->kicks_c = kicks;
	ctl->sink = sink; /* keeps the header reads */
}

struct result {
	double netd_ns; /* switch process: ns per frame while working */
	double pps;
	double bps;
	double loss; /* fraction of frames sent that did not arrive */
};

/* Let the run warm up, then measure the consumer's progress. */
static struct result measure(void)
{
	struct result r;
	uint64_t t0, t1, n0, n1, b0, b1, s0, s1;

	usleep(200000);
	t0 = shm_now_ns();
	n0 = ctl->received;
	b0 = ctl->rx_bytes;
	s0 = ctl->sent;
	usleep((useconds_t)(seconds * 1e6));
	t1 = shm_now_ns();
	n1 = ctl->received;
	b1 = ctl->rx_bytes;
	s1 = ctl->sent;
	ctl->stop = 1;
	r.pps = (double)(n1 - n0) * 1e9 / (double)(t1 - t0);
	r.bps = (double)(b1 - b0) * 8e9 / (double)(t1 - t0);
	r.loss = s1 > s0 && s1 - s0 > n1 - n0
		     ? (double)(s1 - s0 - (n1 - n0)) / (double)(s1 - s0)
		     : 0;
	return r;
}

static void reap(pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
}

static struct result run_ring(uint32_t len)
{
	struct shm_attach_req req;
	struct shm_port_config cfg = {.features = SHM_F_ALL};
	struct shm_port_args args;
	struct result r;
	pid_t pids[2];
	int memfd;

	shm_attach_req_init(&req, "bench", mac_p, SHM_NIC_OTHER, SHM_F_ALL);
	if (shm_port_create(&req, &cfg, &args, &memfd))
		exit(1);
	memset(ctl, 0, sizeof(*ctl));
	pids[0] = fork();
	if (pids[0] == 0) {
		struct shm_peer p = {.kick_netd = args.kick_netd,
				     .kick_peer = args.kick_peer};

		role("bench-prod", 0);
		if (shm_peer_map(memfd, &p))
			_exit(1);
		run_producer(&p, len, false);
		_exit(0);
	}
	pids[1] = fork();
	if (pids[1] == 0) {
		struct shm_cons c;

		role("bench-cons", -1);
		shm_cons_init(&c, args.base, &args.layout, SHM_TO_NETD);
		run_consumer(&c, args.kick_netd, args.kick_peer);
		_exit(0);
	}
	r = measure();
	r.netd_ns = 0;
	reap(pids, 2);
	close(memfd);
	shm_port_args_release(&args);
	return r;
}

/* A peer process: attach over @sock like a VMM would. */
static int peer_attach(int sock, const uint8_t *mac, struct shm_peer *p)
{
	struct shm_attach_req req;

	shm_attach_req_init(&req, "bench", mac, SHM_NIC_VIRTIO_NET, SHM_F_ALL);
	req.ring_size = ring_size;
	return shm_peer_attach(sock, &req, 5000, p);
}

static void run_netd(int sock_p, int sock_c)
{
	struct switch_core *sw = switch_create(NULL);
	struct switch_port_config pc = {
	    .mode = SWITCH_PORT_ACCESS, .access_vlan = 1, .accepts_gso = true};
	struct shm_port_config cfg = {.features = SHM_F_ALL};
	int socks[2] = {sock_p, sock_c}, ids[2];
	uint64_t idle_since = 0, sleeps = 0, busy = 0, frames = 0;
	unsigned int iter = 0;
	struct bench_capture *bc;
	uint64_t cap_w, cap_d;

	log_max_level = LOG_ERR;
	for (int i = 0; i < 2; i++) {
		struct shm_attach_req req;
		struct shm_port_args args;

		if (!sw || shm_port_read_attach(socks[i], 5000, &req) ||
		    shm_port_accept(socks[i], &req, &cfg, &args))
			_exit(1);
		snprintf(pc.name, sizeof(pc.name), "p%d", i);
		ids[i] = switch_port_open(sw, &shm_port_ops, &args, &pc);
		if (ids[i] < 0)
			_exit(1);
	}
	bc = bench_capture_start(sw, cap_mode);
	if (cap_mode != BENCH_CAPTURE_NONE && !bc)
		_exit(1);
	while (!ctl->stop) {
		uint64_t t0 = shm_now_ns();
		int got = switch_poll(sw);

		if (got > 0) {
			/* Cost per frame: wall time of the rounds that worked.
			 */
			busy += shm_now_ns() - t0;
			frames += (uint64_t)got;
			idle_since = 0;
			continue;
		}
		if ((++iter & 15) != 0)
			continue;
		uint64_t now = shm_now_ns();

		if (!idle_since) {
			idle_since = now;
			continue;
		}
		if (now - idle_since < SPIN_NS)
			continue;
		/* Idle for a while: arm both ports and sleep. */
		struct pollfd pfd[2];

		for (int i = 0; i < 2; i++) {
			struct port *pt = switch_port_get(sw, (uint32_t)ids[i]);

			if (pt->ops->arm)
				pt->ops->arm(pt);
			pfd[i].fd = pt->ops->poll_fd(pt);
			pfd[i].events = POLLIN;
		}
		poll(pfd, 2, 20);
		sleeps++;
		idle_since = 0;
	}
	{
		struct switch_port_stats st;

		ctl->netd_dropped = 0;
		for (int i = 0; i < 2; i++) {
			if (switch_port_stats_get(sw, (uint32_t)ids[i], &st))
				continue;
			if (i == 0)
				ctl->netd_in = st.rx_frames;
			for (int d = 0; d < SWITCH_DROP__COUNT; d++)
				ctl->netd_dropped += st.drops[d];
		}
	}
	ctl->netd_sleeps = sleeps;
	ctl->netd_busy_ns = busy;
	ctl->netd_frames = frames;
	bench_capture_stop(sw, bc, &cap_w, &cap_d);
	ctl->cap_written = cap_w;
	ctl->cap_dropped = cap_d;
	switch_destroy(sw);
}

static struct result run_switch(uint32_t len, bool gso)
{
	int sp[2], sc[2];
	struct result r;
	pid_t pids[3];

	/*
	 * In flight never exceeds what the consumer's ring holds (slots, and
	 * data bytes less the worst wrap waste), so the switch never drops.
	 */
	window_frames = ring_size;
	window_bytes = SHM_DATA_SIZE_DEFAULT - 2 * ((len + SHM_DATA_ALIGN - 1) &
						    ~(SHM_DATA_ALIGN - 1u));
	share_cpu = pin;

	memset(ctl, 0, sizeof(*ctl));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sc))
		exit(1);
	pids[0] = fork();
	if (pids[0] == 0) {
		role("bench-netd", -1);
		run_netd(sp[0], sc[0]);
		_exit(0);
	}
	pids[1] = fork();
	if (pids[1] == 0) {
		struct shm_peer c;
		uint8_t hello[60];

		role("bench-cons", 0);
		if (peer_attach(sc[1], mac_c, &c))
			_exit(1);
		/* Speak once so the switch learns where mac_c lives. */
		memset(hello, 0, sizeof(hello));
		memcpy(hello, mac_p, 6);
		memcpy(hello + 6, mac_c, 6);
		shm_peer_send(&c, hello, 60, NULL);
		shm_peer_flush(&c);
		run_consumer(&c.rx, c.kick_peer, c.kick_netd);
		_exit(0);
	}
	usleep(50000); /* the consumer is learned before the flood starts */
	pids[2] = fork();
	if (pids[2] == 0) {
		struct shm_peer p;

		role("bench-prod", 0);
		if (peer_attach(sp[1], mac_p, &p))
			_exit(1);
		run_producer(&p, len, gso);
		_exit(0);
	}
	r = measure();
	reap(pids, 3);
	/* Loss: what the switch dropped, of what entered it (whole run). */
	r.loss =
	    ctl->netd_in ? (double)ctl->netd_dropped / (double)ctl->netd_in : 0;
	r.netd_ns = ctl->netd_frames
			? (double)ctl->netd_busy_ns / (double)ctl->netd_frames
			: 0;
	close(sp[0]);
	close(sp[1]);
	close(sc[0]);
	close(sc[1]);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Run a case @runs times; print every run, return the median. */
static struct result median_of(const char *name, bool sw, uint32_t len,
			       bool gso)
{
	double pps[16], bps[16], loss[16], ns[16];
	struct result m;

	for (int i = 0; i < runs; i++) {
		struct result r = sw ? run_switch(len, gso) : run_ring(len);

		pps[i] = r.pps;
		bps[i] = r.bps;
		loss[i] = r.loss;
		ns[i] = r.netd_ns;
		fprintf(stderr,
			"# %s run %d: %.2f Mpps %.2f Gbit/s loss %.3f%% "
			"switch %.1f ns/frame\n",
			name, i + 1, r.pps / 1e6, r.bps / 1e9, r.loss * 100,
			r.netd_ns);
	}
	qsort(pps, (size_t)runs, sizeof(double), cmp_double);
	qsort(bps, (size_t)runs, sizeof(double), cmp_double);
	qsort(loss, (size_t)runs, sizeof(double), cmp_double);
	m.pps = pps[runs / 2];
	m.bps = bps[runs / 2];
	m.loss = loss[runs / 2];
	qsort(ns, (size_t)runs, sizeof(double), cmp_double);
	m.netd_ns = ns[runs / 2];
	return m;
}

/*
 * The switch case at @len without a capture, with one keeping up, with
 * one stalled: @runs rounds, the modes' order rotated per round. Prints
 * the medians and the paired ratios (capture over the same round's run
 * without), which the machine's drifting load moves least.
 */
static void capture_case(const char *name, uint32_t len)
{
	static const char *const mname[3] = {"none", "keepup", "stall"};
	double v[3][16], ratio[16];

	for (int i = 0; i < runs; i++) {
		for (int k = 0; k < 3; k++) {
			int m = (i + k) % 3;
			struct result r;

			cap_mode = (enum bench_capture_mode)m;
			r = run_switch(len, false);
			v[m][i] = len > 1000 ? r.bps / 1e9 : r.pps / 1e6;
			fprintf(stderr,
				"# %s.%s run %d: %.2f %s, capture wrote %llu "
				"dropped %llu\n", name, mname[m], i + 1,
				v[m][i], len > 1000 ? "Gbit/s" : "Mpps",
				(unsigned long long)ctl->cap_written,
				(unsigned long long)ctl->cap_dropped);
		}
	}
	cap_mode = BENCH_CAPTURE_NONE;
	for (int m = 1; m < 3; m++) {
		for (int i = 0; i < runs; i++)
			ratio[i] = v[0][i] > 0 ? v[m][i] / v[0][i] : 0;
		qsort(ratio, (size_t)runs, sizeof(double), cmp_double);
		printf("BENCH %s.paired_%s %.2f x (rounds %d, min %.2f, "
		       "max %.2f)\n", name, mname[m], ratio[runs / 2], runs,
		       ratio[0], ratio[runs - 1]);
	}
	for (int m = 0; m < 3; m++) {
		qsort(v[m], (size_t)runs, sizeof(double), cmp_double);
		printf("BENCH %s.%s %.2f %s\n", name, mname[m], v[m][runs / 2],
		       len > 1000 ? "Gbit/s" : "Mpps");
	}
}

/* Argument: a case name, or a prefix of case names ("ring", "switch"). */
static bool want(const char *only, const char *name)
{
	return !strncmp(name, only, strlen(only));
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : "";
	const char *e = getenv("BENCH_SECONDS");
	struct result r64 = {0}, r1500 = {0}, s64 = {0}, s1500 = {0}, g;

	if (e && atof(e) > 0)
		seconds = atof(e);
	e = getenv("BENCH_RING");
	if (e && atoi(e) >= SHM_BATCH_MAX && atoi(e) <= SHM_RING_SIZE_MAX)
		ring_size = (uint32_t)atoi(e);
	e = getenv("BENCH_RUNS");
	if (e && atoi(e) >= 1 && atoi(e) <= 16)
		runs = atoi(e);
	e = getenv("BENCH_PIN");
	if (e && !strcmp(e, "0"))
		pin = 0;
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (want(only, "ring.shm.64B")) {
		r64 = median_of("ring.shm.64B", false, 64, false);
		printf("BENCH ring.shm.64B %.2f Mpps\n", r64.pps / 1e6);
	}
	if (want(only, "ring.shm.1500B")) {
		r1500 = median_of("ring.shm.1500B", false, 1500, false);
		printf("BENCH ring.shm.1500B %.2f Gbit/s\n", r1500.bps / 1e9);
	}
	if (want(only, "switch.shm.64B")) {
		s64 = median_of("switch.shm.64B", true, 64, false);
		printf("BENCH switch.shm.64B %.2f Mpps\n", s64.pps / 1e6);
		printf("BENCH switch.shm.64B.loss %.2f %%\n", s64.loss * 100);
		printf("BENCH switch.shm.64B.switch_cost %.1f ns/frame\n",
		       s64.netd_ns);
	}
	if (want(only, "switch.shm.64B-ring2048")) {
		/* The same with 2048-slot rings: fewer turns of the peers. */
		uint32_t saved = ring_size;
		struct result x;

		ring_size = 2048;
		x = median_of("switch.shm.64B-ring2048", true, 64, false);
		ring_size = saved;
		printf("BENCH switch.shm.64B-ring2048 %.2f Mpps\n",
		       x.pps / 1e6);
	}
	if (want(only, "switch.shm.1500B")) {
		s1500 = median_of("switch.shm.1500B", true, 1500, false);
		printf("BENCH switch.shm.1500B %.2f Gbit/s\n", s1500.bps / 1e9);
		printf("BENCH switch.shm.1500B.loss %.2f %%\n",
		       s1500.loss * 100);
		printf("BENCH switch.shm.1500B.switch_cost %.1f ns/frame\n",
		       s1500.netd_ns);
	}
	if (want(only, "switch.shm.64KiB-gso")) {
		g = median_of("switch.shm.64KiB-gso", true, 65536 + 14, true);
		printf("BENCH switch.shm.64KiB-gso %.2f Gbit/s\n", g.bps / 1e9);
		printf("BENCH switch.shm.64KiB-gso.loss %.2f %%\n",
		       g.loss * 100);
	}
	if (want(only, "capture.shm.64B"))
		capture_case("capture.shm.64B", 64);
	if (want(only, "capture.shm.1500B"))
		capture_case("capture.shm.1500B", 1500);
	if (r64.pps > 0 && s64.pps > 0)
		printf("BENCH switch.shm.64B.vs_ring %.2f ratio\n",
		       s64.pps / r64.pps);
	if (r1500.bps > 0 && s1500.bps > 0)
		printf("BENCH switch.shm.1500B.vs_ring %.2f ratio\n",
		       s1500.bps / r1500.bps);
	return 0;
}
