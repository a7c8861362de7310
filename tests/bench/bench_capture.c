/* SPDX-License-Identifier: MIT */
/* bench_capture.c - a capture of every port on a benchmark's switch, with netd's own mirror callback and ring. */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/pcapng.h"
#include "netd/capture_internal.h"
#include "tests/bench/bench_capture.h"

/*
 * The data-path side is loom-netd's: capture_on_frame() (netd/capture_mirror.c)
 * on a network-wide mirror, copying into the same 8 MiB ring. The writer
 * stands in for netd's (netd/capture_writer.c, on the control thread):
 * a thread that turns records into pcapng blocks and writes them to
 * /dev/null one buffer at a time, and waits CAPTURE_POLL_MS when it finds
 * the ring empty, as netd's poll timer does while frames flow. It is not
 * pinned, as netd's control thread is not.
 */
struct bench_capture {
	struct netd_capture c;
	int mirror_id;
	pthread_t writer;
	bool has_writer;
	atomic_bool stop;
	uint64_t written;
};

static void *bench_writer(void *arg)
{
	struct bench_capture *bc = arg;
	struct capture_ring *q = &bc->c.ring;
	uint8_t *buf = malloc(CAPTURE_OBUF_BYTES);
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t all;

	/* netd's control thread is not pinned: undo the switch process's
	 * pinning (bench_shm.c puts it alone on the last CPU). */
	CPU_ZERO(&all);
	for (long i = 0; i < ncpu && i < CPU_SETSIZE; i++)
		CPU_SET(i, &all);
	sched_setaffinity(0, sizeof(all), &all);
	while (buf && fd >= 0 && !atomic_load(&bc->stop)) {
		uint64_t pos = capture_ring_pos(q), prev = pos;
		const struct capture_rec *rec;
		size_t olen = 0;
		unsigned int n = 0;

		while (n < CAPTURE_TURN_RECORDS &&
		       (rec = capture_ring_peek(q, &pos))) {
			if (olen + PCAPNG_EPB_OVERHEAD + rec->cap_len >
			    CAPTURE_OBUF_BYTES) {
				if (write(fd, buf, olen) < 0)
					break;
				olen = 0;
				capture_ring_release(q, prev);
			}
			olen += pcapng_epb_write(buf + olen,
						 CAPTURE_OBUF_BYTES - olen, 0,
						 rec->ts_ns, rec->orig_len,
						 rec->data, rec->cap_len,
						 PCAPNG_DIR_IN);
			prev = pos;
			n++;
		}
		if (olen && write(fd, buf, olen) < 0)
			break;
		capture_ring_release(q, prev);
		bc->written += n;
		if (n < CAPTURE_TURN_RECORDS)
			usleep(CAPTURE_POLL_MS * 1000);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

struct bench_capture *bench_capture_start(struct switch_core *sw,
					  enum bench_capture_mode mode)
{
	struct bench_capture *bc;

	if (mode == BENCH_CAPTURE_NONE)
		return NULL;
	bc = calloc(1, sizeof(*bc));
	if (!bc || capture_ring_init(&bc->c.ring, CAPTURE_RING_BYTES) < 0) {
		free(bc);
		return NULL;
	}
	bc->c.snaplen = LOOM_CAPTURE_SNAPLEN_MAX;
	bc->c.all_ports = true;
	bc->c.skip_port = -1;
	bc->mirror_id = switch_mirror_add(sw, SWITCH_PORT_ALL,
					  SWITCH_DIR_INGRESS | SWITCH_DIR_EGRESS,
					  capture_on_frame, &bc->c);
	if (bc->mirror_id < 0) {
		capture_ring_destroy(&bc->c.ring);
		free(bc);
		return NULL;
	}
	if (mode == BENCH_CAPTURE_KEEPUP)
		bc->has_writer =
			!pthread_create(&bc->writer, NULL, bench_writer, bc);
	return bc;
}

void bench_capture_stop(struct switch_core *sw, struct bench_capture *bc,
			uint64_t *written, uint64_t *dropped)
{
	*written = *dropped = 0;
	if (!bc)
		return;
	switch_mirror_remove(sw, bc->mirror_id);
	atomic_store(&bc->stop, true);
	if (bc->has_writer)
		pthread_join(bc->writer, NULL);
	*written = bc->written;
	*dropped = capture_ring_drops(&bc->c.ring);
	capture_ring_destroy(&bc->c.ring);
	free(bc);
}
