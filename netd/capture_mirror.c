/* SPDX-License-Identifier: MIT */
/* capture_mirror.c - a capture's switch mirror callback: on the data path, copy a selected frame into the ring, filter it. */
#include <string.h>
#include <time.h>

#include "netd/capture_internal.h"

/*
 * Runs on the data-path thread for every frame of the network (the
 * capture's mirror is network-wide, SWITCH_PORT_ALL), so it does nothing
 * that can wait: no lock, no allocation, no syscall but clock_gettime
 * (vDSO). Its own file so benchmarks can drive exactly this code
 * (tests/bench/bench_shm.c's capture cases).
 */

void capture_on_frame(void *arg, uint32_t port_id, enum switch_dir dir,
		      const struct frame *f)
{
	struct netd_capture *c = arg;
	struct capture_rec *rec;
	struct pcap_pkthdr h;
	struct timespec ts;
	uint32_t caplen;

	if (c->all_ports ? (int)port_id == c->skip_port :
			   (port_id >= SWITCH_MAX_PORTS_MAX ||
			    !(c->port_mask[port_id / 64] >> (port_id % 64) & 1)))
		return;
	caplen = f->len < c->snaplen ? f->len : c->snaplen;
	h.caplen = caplen;
	h.len = f->len;
	rec = capture_ring_reserve(&c->ring, caplen);
	if (!rec) {
		/* Counted only if the filter wanted it: run it on the frame
		 * itself (it may change under us; only a counter depends on
		 * the answer). */
		if (!c->has_prog || pcap_offline_filter(&c->prog, &h, f->data))
			capture_ring_count_drop(&c->ring);
		return;
	}
	memcpy(rec->data, f->data, caplen);
	if (c->has_prog && !pcap_offline_filter(&c->prog, &h, rec->data)) {
		atomic_store_explicit(
			&c->filtered,
			atomic_load_explicit(&c->filtered,
					     memory_order_relaxed) + 1,
			memory_order_relaxed);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	rec->port_id = port_id;
	rec->orig_len = f->len;
	rec->ts_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	rec->dir = (uint8_t)dir;
	capture_ring_commit(&c->ring);
}
