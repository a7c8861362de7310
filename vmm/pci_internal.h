/* SPDX-License-Identifier: MIT */
/* pci_internal.h - what pci.c and pci_irq.c share: register bits, helpers across the two. */
#ifndef LOOM_VMM_PCI_INTERNAL_H
#define LOOM_VMM_PCI_INTERNAL_H

#include "vmm/pci.h"

enum {
	PCI_CF8_ENABLE = 0x80000000u,
	MSIX_CTRL_ENABLE = 0x8000,
	MSIX_CTRL_MASKALL = 0x4000,
	MSIX_ENTRY_SIZE = 16,
	MSI_CTRL_ENABLE = 0x0001,
	MSI_CTRL_64BIT = 0x0080,
	PCI_HOST_BRIDGE_VENDOR = 0x8086,
	PCI_HOST_BRIDGE_DEVICE = 0x1237,
};

/* pci.c */
uint16_t pci_cfg16(const struct pci_dev *d, unsigned int off);
uint32_t pci_cfg32(const struct pci_dev *d, unsigned int off);

/* pci_irq.c */
/* MSI-X enabled and the function not masked as a whole. */
bool msix_on(const struct pci_dev *d);
/* The guest changed a message: follow it if a route exists; irq_lock held. */
void msi_reroute(struct pci_dev *d, struct pci_msix_entry *e);
/* INTx level from the status bit and command's disable; irq_lock held. */
void intx_update(struct pci_dev *d);
/* Unmasking delivers what is pending; irq_lock held. */
void msix_deliver_pending(struct pci_dev *d);
/* MSI-X table/PBA access; returns true if @bar/@off was theirs. */
bool msix_mmio(struct pci_dev *d, int bar, uint64_t off, uint8_t *data,
	       unsigned int len, bool is_write);
/* The route and irqfd of @e go (bus teardown). */
void msi_entry_free(struct pci_dev *d, struct pci_msix_entry *e);

#endif
