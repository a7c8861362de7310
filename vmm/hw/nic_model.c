// SPDX-License-Identifier: MIT
/* nic_model.c - what the emulated NIC models share: frame buffers, the receive offload rule, host notifications, their creation on the NIC backend seam. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/hw/nic_attach.h"
#include "vmm/hw/nic_model.h"
#include "vmm/hw/nic_offload.h"
#include "vmm/vm.h"

int hw_nic_bufs_alloc(struct hw_nic_bufs *b, size_t tx_len, size_t frame_max)
{
	b->tx = malloc(tx_len);
	b->seg = malloc(frame_max + NIC_VLAN_HLEN);
	b->rx = malloc(frame_max + NIC_VLAN_HLEN);
	if (b->tx && b->seg && b->rx)
		return 0;
	hw_nic_bufs_free(b);
	return -ENOMEM;
}

void hw_nic_bufs_free(struct hw_nic_bufs *b)
{
	free(b->tx);
	free(b->seg);
	free(b->rx);
	b->tx = b->seg = b->rx = NULL;
}

int hw_nic_rx_offload(struct hw_nic_bufs *b, size_t frame_max,
		      const uint8_t **frame, size_t len,
		      const struct frame_offload *off, bool *valid)
{
	*valid = false;
	if (!off)
		return 0;
	if (off->gso_type != FRAME_GSO_NONE)
		return -EINVAL;
	if (off->flags & FRAME_F_NEEDS_CSUM) {
		if (len > frame_max)
			return -EINVAL;
		memcpy(b->rx, *frame, len);
		if (nic_csum_insert(b->rx, len, off->csum_start, len,
				    (size_t)off->csum_start + off->csum_offset))
			return -EINVAL;
		*frame = b->rx;
		*valid = true;
	}
	if (off->flags & FRAME_F_DATA_VALID)
		*valid = true;
	return 0;
}

void hw_nic_host_notify(const struct hw_nic_host *h, bool doorbell, bool kick)
{
	if (doorbell && h->tx_doorbell)
		h->tx_doorbell(h->opaque);
	if (kick && h->rx_kick)
		h->rx_kick(h->opaque);
}

void hw_nic_model_destroy(const struct hw_nic_host *h, struct log_module *mod,
			  const char *name, const struct hw_nic_stats *st,
			  pthread_mutex_t *lock, struct hw_nic_bufs *b)
{
	if (h->close)
		h->close(h->opaque);
	hw_nic_stats_log(mod, name, st);
	pthread_mutex_destroy(lock);
	hw_nic_bufs_free(b);
}

int hw_nic_model_create(struct vm *vm, const struct nic_config *cfg,
			const char *model_name,
			void *(*make)(struct vm *vm,
				      const struct nic_config *cfg,
				      const struct hw_nic_host *host),
			const struct hw_nic_model_ops *ops)
{
	struct hw_nic_attach *a;
	struct hw_nic_host host;
	void *dev;
	int r;

	if (!vm->pci)
		return -EINVAL;
	r = hw_nic_attach_open(&a, vm, cfg, model_name, NULL, &host);
	if (r)
		return r;
	dev = make(vm, cfg, &host);
	if (!dev) {
		r = -errno;
		hw_nic_attach_close(a);
		return r;
	}
	/* From here the device owns @a (its destroy op closes it). */
	return hw_nic_attach_start(a, ops, dev, true);
}

void hw_nic_stats_log(struct log_module *mod, const char *name,
		      const struct hw_nic_stats *st)
{
	log_info(mod, "%s: tx %llu frames %llu bytes (%llu dropped), rx %llu frames %llu bytes (%llu dropped, %llu waits for buffers), tso %llu frames %llu segments (%llu refused), errors: dma %llu ring %llu, unknown registers %llu",
		 name, (unsigned long long)st->tx_frames,
		 (unsigned long long)st->tx_bytes,
		 (unsigned long long)st->tx_dropped,
		 (unsigned long long)st->rx_frames,
		 (unsigned long long)st->rx_bytes,
		 (unsigned long long)st->rx_dropped,
		 (unsigned long long)st->rx_no_buffer,
		 (unsigned long long)st->tso_frames,
		 (unsigned long long)st->tso_segments,
		 (unsigned long long)st->tso_bad,
		 (unsigned long long)st->dma_errors,
		 (unsigned long long)st->ring_errors,
		 (unsigned long long)st->unknown_regs);
}
