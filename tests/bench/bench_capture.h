/* SPDX-License-Identifier: MIT */
/* bench_capture.h - a capture of every port on a benchmark's switch, with netd's own mirror callback and ring. */
#ifndef LOOM_BENCH_CAPTURE_H
#define LOOM_BENCH_CAPTURE_H

#include <stdint.h>

#include "switch/switch.h"

enum bench_capture_mode {
	BENCH_CAPTURE_NONE,
	BENCH_CAPTURE_KEEPUP, /* a writer thread drains the ring into pcapng */
	BENCH_CAPTURE_STALL,  /* nobody drains: the ring fills, frames drop */
};

struct bench_capture;

/* bench_capture_start - mirror every port of @sw (both directions) into a
 * capture ring as loom-netd does. NULL for BENCH_CAPTURE_NONE or on error. */
struct bench_capture *bench_capture_start(struct switch_core *sw,
					  enum bench_capture_mode mode);
/* bench_capture_stop - remove the mirror, stop the writer; the counts. */
void bench_capture_stop(struct switch_core *sw, struct bench_capture *bc,
			uint64_t *written, uint64_t *dropped);

#endif
