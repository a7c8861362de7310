/* SPDX-License-Identifier: MIT */
/* nic_model.h - what the emulated NIC models (e1000, rtl8139) share: their frame buffers, the receive offload rule, host notifications, creation on the NIC backend seam. */
#ifndef LOOM_VMM_HW_NIC_MODEL_H
#define LOOM_VMM_HW_NIC_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "switch/port.h"
#include "vmm/hw/nic_host.h"

/*
 * struct hw_nic_bufs - a model's three frame buffers, allocated once: @tx
 * gathers a packet from guest descriptors (the model's largest, a TSO
 * packet), @seg builds one segment of it, @rx holds a received frame the
 * model must change (a checksum completed). @seg and @rx: a maximal frame
 * plus a VLAN tag.
 */
struct hw_nic_bufs {
	uint8_t *tx;
	uint8_t *seg;
	uint8_t *rx;
};

/* Return: 0, or -ENOMEM with nothing allocated. */
int hw_nic_bufs_alloc(struct hw_nic_bufs *b, size_t tx_len, size_t frame_max);
void hw_nic_bufs_free(struct hw_nic_bufs *b);

/*
 * hw_nic_rx_offload() - the receive rule of a model that takes no GSO: a
 * GSO frame is refused; a partial checksum is completed in @b->rx (frames
 * up to @frame_max) and *@frame points there; *@valid says the checksum is
 * known good (completed here, or DATA_VALID). @off may be NULL.
 * Return: 0, or -EINVAL (the caller drops the frame and counts it).
 */
int hw_nic_rx_offload(struct hw_nic_bufs *b, size_t frame_max,
		      const uint8_t **frame, size_t len,
		      const struct frame_offload *off, bool *valid);

/*
 * hw_nic_host_notify() - after a register write, without the model's lock:
 * ring the host's transmit doorbell (@doorbell: the host's thread runs the
 * model's tx_poll) and tell it receive buffers came (@kick).
 */
void hw_nic_host_notify(const struct hw_nic_host *h, bool doorbell, bool kick);

/* The model's end (its pci_dev destroy): stop the host calling it, log
 * its counters, release its lock and buffers; the caller frees the model. */
void hw_nic_model_destroy(const struct hw_nic_host *h, struct log_module *mod,
			  const char *name, const struct hw_nic_stats *st,
			  pthread_mutex_t *lock, struct hw_nic_bufs *b);

/*
 * hw_nic_model_create() - a model on the NIC backend seam (its row in
 * vmm/net/nic.c): open the attachment for @cfg (@model_name toward netd),
 * make the device with @make on the host callbacks the attachment gives,
 * start the attachment's thread with @ops. From then the device owns the
 * attachment (its destroy closes it through host->close).
 * Return: 0 or a negative errno.
 */
struct vm;
struct nic_config;
struct hw_nic_model_ops;
int hw_nic_model_create(struct vm *vm, const struct nic_config *cfg,
			const char *model_name,
			void *(*make)(struct vm *vm,
				      const struct nic_config *cfg,
				      const struct hw_nic_host *host),
			const struct hw_nic_model_ops *ops);

#endif
