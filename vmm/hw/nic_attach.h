/* SPDX-License-Identifier: MIT */
/* nic_attach.h - an emulated NIC model on the NIC backend seam: its I/O thread, doorbells, timer, link. */
#ifndef LOOM_VMM_HW_NIC_ATTACH_H
#define LOOM_VMM_HW_NIC_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "switch/port.h"
#include "vmm/hw/nic_host.h"
#include "vmm/net/backend.h"

struct vm;

/*
 * The register models (e1000.c, rtl8139.c) see only struct hw_nic_host;
 * this glue gives them one on top of vmm/net/backend.h. Each NIC gets an
 * I/O thread (the backend's one thread, as the seam asks) polling:
 *   - a doorbell eventfd the model's TX doorbell writes (vCPU threads never
 *     call into the backend): the thread runs the model's TX pass;
 *   - a kick eventfd for "the guest gave RX buffers": frames the model
 *     refused with -EAGAIN are offered again;
 *   - the backend's notify fd (frames, room, carrier changes);
 *   - a timerfd for the model's deadline (e1000's ITR);
 *   - a stop eventfd.
 * Frames leave the models whole (they segment and checksum themselves),
 * so the backend is opened with no offloads; partial checksums never
 * arrive, and nothing is GSO.
 */
struct hw_nic_model_ops {
	int (*receive)(void *dev, const uint8_t *frame, size_t len,
		       const struct frame_offload *off);
	void (*set_link)(void *dev, bool up);
	void (*tx_poll)(void *dev);
	void (*timer_fire)(void *dev);	/* optional */
};

struct hw_nic_attach;

/**
 * hw_nic_attach_open() - open the backend for @cfg and make the host
 * callbacks for a model that is created next.
 * @out: the attachment.
 * @vm: the VM (NULL in tests with @ops).
 * @cfg: the NIC.
 * @model_name: "e1000", "rtl8139", ... (netd's port list).
 * @be_ops: a test backend, or NULL for the one @cfg names.
 * @host: filled: pass it to the model's constructor.
 *
 * Return: 0 or negative errno (nothing left open).
 */
int hw_nic_attach_open(struct hw_nic_attach **out, struct vm *vm,
		       const struct nic_config *cfg, const char *model_name,
		       const struct nic_backend_ops *be_ops,
		       struct hw_nic_host *host);

/**
 * hw_nic_attach_start() - the model exists: show it the carrier, list the
 * NIC, start the I/O thread (@threaded false: tests drive
 * hw_nic_attach_run() themselves).
 * Return: 0 or negative errno.
 */
int hw_nic_attach_start(struct hw_nic_attach *a,
			const struct hw_nic_model_ops *ops, void *dev,
			bool threaded);

/**
 * hw_nic_attach_run() - one round of what the I/O thread does (TX pass,
 * timer, backend events, RX until the model or the backend has no more).
 * @a: the attachment.
 */
void hw_nic_attach_run(struct hw_nic_attach *a);

/**
 * hw_nic_attach_close() - stop the thread, unlist, close the backend.
 * Called by the model's destroy op (the host's close callback) before the
 * model frees itself. NULL is a no-op.
 */
void hw_nic_attach_close(struct hw_nic_attach *a);

/* The backend (tests). */
struct nic_backend *hw_nic_attach_backend(struct hw_nic_attach *a);

#endif
