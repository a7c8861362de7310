/* SPDX-License-Identifier: MIT */
/* test_switch_port.h - test port backend: injects frames, records sends. */
#ifndef LOOM_TESTS_TEST_SWITCH_PORT_H
#define LOOM_TESTS_TEST_SWITCH_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "switch/switch.h"

enum { TPORT_REC_MAX = 4096, TPORT_INJECT_MAX = 256 };

/* One frame the switch sent to the port, copied. */
struct tport_rec {
	uint8_t *data;
	uint32_t len;
	uint16_t vlan;
	struct frame_offload off;
	const uint8_t *orig; /* the pointer send was given (zero-copy checks) */
};

struct tport {
	/* recv hands these out, up to FRAME_BATCH_MAX per call. */
	struct frame inject[TPORT_INJECT_MAX];
	uint32_t n_inject, inject_pos;
	int recv_error; /* recv returns this when non-zero */
	/* send records here; accepts at most send_limit (< 0: all). */
	struct tport_rec rec[TPORT_REC_MAX];
	uint32_t n_rec;
	int send_limit;
	uint32_t send_calls;
	uint32_t last_send_count;
	uint32_t recv_calls, recv_done_calls, closed, ticks;
	int open_error;
};

extern const struct port_ops tport_ops;

/* tport_new - a zeroed test port accepting everything. */
struct tport *tport_new(void);
void tport_free(struct tport *tp);
/* tport_clear - forget recorded frames and call counts. */
void tport_clear(struct tport *tp);
/* tport_inject - queue a copy of @data for recv. */
void tport_inject(struct tport *tp, const void *data, uint32_t len);

#endif
