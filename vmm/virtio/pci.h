/* SPDX-License-Identifier: MIT */
/* pci.h - virtio-pci modern (1.0+) transport for any struct virtio_dev. */
#ifndef LOOM_VMM_VIRTIO_PCI_H
#define LOOM_VMM_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/pci.h"
#include "vmm/virtio/virtio.h"

/*
 * A modern-only virtio PCI function (vendor 0x1af4, device 0x1040 + virtio
 * device ID, revision 1). All virtio registers live in one 64-bit MMIO BAR
 * (VIRTIO_PCI_BAR), described by vendor capabilities:
 *
 *   BAR offset  capability          contents
 *   0x0000      COMMON_CFG (1)      features, status, queue set-up (56 bytes)
 *   0x1000      ISR_CFG (3)         ISR byte, read clears (INTx only)
 *   0x2000      DEVICE_CFG (4)      the device's config space
 *   0x3000      NOTIFY_CFG (2)      queue q's doorbell at 0x3000 + 4 * q
 *                                   (queue_notify_off = q, multiplier 4)
 *   0x4000      MSI-X table         owned by the PCI bus
 *   0x6000      MSI-X PBA           owned by the PCI bus
 *
 * A VIRTIO_PCI_CAP_PCI_CFG capability gives the same registers through
 * config space (cap.bar/offset/length, then pci_cfg_data).
 *
 * MSI-X has one vector per queue plus one for config changes; the driver
 * maps them with config_msix_vector / queue_msix_vector. Without MSI-X the
 * transport sets ISR bits and asserts INTx until the ISR is read.
 *
 * Doorbells: when the device waits on its kick eventfds (vdev->kick_by_fd)
 * and KVM is there, each doorbell is a KVM ioeventfd (moved when the guest
 * moves the BAR); otherwise the write traps and ops->queue_notify runs.
 *
 * The guest is untrusted: accesses of odd sizes, at unknown offsets, to
 * read-only fields, or to queue fields of an enabled queue are ignored (and
 * counted); protocol violations put the device in the error state
 * (DEVICE_NEEDS_RESET, see vmm/virtio/virtio.h). Nothing the guest writes
 * stops the VMM.
 */

enum {
	VIRTIO_PCI_VENDOR = 0x1af4,
	VIRTIO_PCI_DEVICE_BASE = 0x1040,
	VIRTIO_PCI_BAR = 0,
	VIRTIO_PCI_BAR_SIZE = 0x8000,
	VIRTIO_PCI_COMMON_OFF = 0x0000,
	VIRTIO_PCI_COMMON_LEN = 56,
	VIRTIO_PCI_ISR_OFF = 0x1000,
	VIRTIO_PCI_DEVICE_OFF = 0x2000,
	VIRTIO_PCI_NOTIFY_OFF = 0x3000,
	VIRTIO_PCI_NOTIFY_MULT = 4,
	VIRTIO_PCI_MSIX_TABLE_OFF = 0x4000,
	VIRTIO_PCI_MSIX_PBA_OFF = 0x6000,
};

/* Capability types (virtio 1.2, 4.1.4). */
enum virtio_pci_cap_type {
	VIRTIO_PCI_CAP_COMMON_CFG = 1,
	VIRTIO_PCI_CAP_NOTIFY_CFG = 2,
	VIRTIO_PCI_CAP_ISR_CFG = 3,
	VIRTIO_PCI_CAP_DEVICE_CFG = 4,
	VIRTIO_PCI_CAP_PCI_CFG = 5,
};

/* Common configuration layout (virtio 1.2, 4.1.4.3). */
enum virtio_pci_common {
	VIRTIO_PCI_COMMON_DFSELECT = 0,
	VIRTIO_PCI_COMMON_DF = 4,
	VIRTIO_PCI_COMMON_GFSELECT = 8,
	VIRTIO_PCI_COMMON_GF = 12,
	VIRTIO_PCI_COMMON_MSIX = 16,
	VIRTIO_PCI_COMMON_NUMQ = 18,
	VIRTIO_PCI_COMMON_STATUS = 20,
	VIRTIO_PCI_COMMON_CFGGEN = 21,
	VIRTIO_PCI_COMMON_Q_SELECT = 22,
	VIRTIO_PCI_COMMON_Q_SIZE = 24,
	VIRTIO_PCI_COMMON_Q_MSIX = 26,
	VIRTIO_PCI_COMMON_Q_ENABLE = 28,
	VIRTIO_PCI_COMMON_Q_NOFF = 30,
	VIRTIO_PCI_COMMON_Q_DESCLO = 32,
	VIRTIO_PCI_COMMON_Q_DESCHI = 36,
	VIRTIO_PCI_COMMON_Q_AVAILLO = 40,
	VIRTIO_PCI_COMMON_Q_AVAILHI = 44,
	VIRTIO_PCI_COMMON_Q_USEDLO = 48,
	VIRTIO_PCI_COMMON_Q_USEDHI = 52,
};

/**
 * struct virtio_pci - the transport state of one device.
 * @pci: the PCI function (registered with the bus).
 * @vdev: the virtio device.
 * @dfselect: device_feature_select.
 * @gfselect: driver_feature_select.
 * @queue_sel: queue_select.
 * @msix_config: config_msix_vector.
 * @isr: ISR bits (atomic: read without the device lock).
 * @notify_addr: guest address of the notify area with ioeventfds on it,
 *	0 when none are registered.
 * @ignored: guest accesses ignored as meaningless, for the counters.
 * @cfg_cap: config offset of the VIRTIO_PCI_CAP_PCI_CFG capability.
 */
struct virtio_pci {
	struct pci_dev pci;
	struct virtio_dev *vdev;
	uint32_t dfselect;
	uint32_t gfselect;
	uint16_t queue_sel;
	uint16_t msix_config;
	uint8_t isr;
	uint64_t notify_addr;
	uint64_t ignored;
	uint8_t cfg_cap;
};

/**
 * virtio_pci_create() - plug a virtio device into the PCI bus.
 * @bus: the bus (before vCPUs run).
 * @vdev: the device, initialised with virtio_dev_init().
 * @out: if not NULL, receives the transport (owned by the bus).
 *
 * On success the bus owns the transport and, through ops->destroy, the
 * device: pci_bus_destroy() frees both.
 *
 * Return: 0 or negative errno (nothing is freed on failure).
 */
int virtio_pci_create(struct pci_bus *bus, struct virtio_dev *vdev,
		      struct virtio_pci **out);

/**
 * virtio_pci_new() - build the PCI function without adding it to a bus.
 * @vdev: the device.
 *
 * For virtio_pci_create() and for tests that drive the BAR ops directly.
 *
 * Return: the transport, or NULL (out of memory / capability set-up).
 */
struct virtio_pci *virtio_pci_new(struct virtio_dev *vdev);

/**
 * virtio_pci_free() - free a transport never added to a bus.
 * @vp: the transport (NULL is fine); the device is not freed.
 */
void virtio_pci_free(struct virtio_pci *vp);

/**
 * virtio_pci_bar_read() - a guest read in the virtio BAR.
 * @vp: the transport.
 * @off: offset in the BAR.
 * @data: filled with @len bytes, little endian.
 * @len: 1, 2, 4 or 8.
 *
 * What the PCI bus calls (bar_read); exposed for tests and the fuzzer.
 */
void virtio_pci_bar_read(struct virtio_pci *vp, uint64_t off, uint8_t *data,
			 unsigned int len);

/**
 * virtio_pci_bar_write() - a guest write in the virtio BAR.
 * @vp: the transport.
 * @off: offset in the BAR.
 * @data: @len bytes, little endian.
 * @len: 1, 2, 4 or 8.
 */
void virtio_pci_bar_write(struct virtio_pci *vp, uint64_t off,
			  const uint8_t *data, unsigned int len);

#endif
