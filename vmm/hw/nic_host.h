/* SPDX-License-Identifier: MIT */
/* nic_host.h - what an emulated NIC model needs from the VMM: frames out, a receive kick, a timer. */
#ifndef LOOM_VMM_HW_NIC_HOST_H
#define LOOM_VMM_HW_NIC_HOST_H

#include <stddef.h>
#include <stdint.h>

/*
 * The register models (e1000, rtl8139) know nothing of netd, shm rings or
 * event loops: the VMM's NIC attachment (or a test, or a fuzzer) gives them
 * these callbacks. Frames handed to @tx are whole Ethernet frames without
 * FCS, checksums final, never larger than the model's maximum (segmentation
 * already done); @frame is only valid during the call.
 *
 * Threads: with @tx_doorbell set, a guest's transmit doorbell (a vCPU
 * thread) only calls it, without the model's lock, and the host runs the
 * model's *_tx_poll() on its own thread; without it (tests, fuzzers) the
 * doorbell runs the transmit pass inline. @tx runs inside that pass with
 * the model's lock held: it must not call back into the model; it returns
 * 0, or -ENOBUFS when the backend has no room: the model then stops after
 * the current packet (its remaining segments are dropped and counted) and
 * resumes at the next *_tx_poll(). @rx_kick runs without the lock, after
 * the guest made receive buffers available: frames the model refused with
 * -EAGAIN may be offered again.
 * @timer_arm asks for *_timer_fire() after @ns nanoseconds (0: cancel);
 * a later call replaces the earlier deadline.
 */
struct hw_nic_host {
	void *opaque;
	int (*tx)(void *opaque, const uint8_t *frame, size_t len);
	void (*tx_doorbell)(void *opaque);
	void (*rx_kick)(void *opaque);
	void (*timer_arm)(void *opaque, uint64_t ns);
	uint64_t (*now_ns)(void *opaque);	/* NULL: CLOCK_MONOTONIC */
	/* The model is being destroyed: stop calling it (optional). */
	void (*close)(void *opaque);
};

/* Counters every model keeps (shown by loom vm list / status). */
struct hw_nic_stats {
	uint64_t tx_frames, tx_bytes, tx_dropped;
	uint64_t rx_frames, rx_bytes, rx_dropped, rx_no_buffer;
	uint64_t tso_frames, tso_segments, tso_bad;
	uint64_t dma_errors, ring_errors, unknown_regs;
};

struct log_module;

/* hw_nic_stats_log() - the counters in one info line (at destroy). */
void hw_nic_stats_log(struct log_module *mod, const char *name,
		      const struct hw_nic_stats *st);

#endif
