/* SPDX-License-Identifier: MIT */
/* pci_irq.c - a PCI function's interrupts: INTx, MSI, MSI-X (table, PBA, masking, KVM routes and irqfds). */
#include "vmm/pci.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/pci_internal.h"
#include "vmm/vm.h"

LOG_MODULE("pci-irq");


bool msix_on(const struct pci_dev *d)
{
	return d->msix_cap &&
	       (pci_cfg16(d, d->msix_cap + 2) & MSIX_CTRL_ENABLE);
}

static bool msix_all_masked(const struct pci_dev *d)
{
	return pci_cfg16(d, d->msix_cap + 2) & MSIX_CTRL_MASKALL;
}

static bool msi_on(const struct pci_dev *d)
{
	return d->msi_cap && (d->cfg[d->msi_cap + 2] & MSI_CTRL_ENABLE);
}

bool pci_dev_msix_enabled(struct pci_dev *dev)
{
	return msix_on(dev);
}

/* Make sure @e has a GSI route to its message and an irqfd; irq_lock held. */
static int msi_route(struct pci_dev *d, struct pci_msix_entry *e)
{
	struct vm *vm = d->bus->vm;
	int ret;

	if (e->gsi < 0) {
		ret = vm_gsi_alloc(vm);
		if (ret < 0)
			return ret;
		e->gsi = ret;
		ret = vm_msi_route_set(vm, (unsigned int)e->gsi, e->addr,
				       e->data);
		if (ret)
			goto free_gsi;
		e->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (e->irqfd < 0) {
			ret = -errno;
			goto free_gsi;
		}
		ret = vm_irqfd_assign(vm, (unsigned int)e->gsi, e->irqfd, -1);
		if (ret)
			goto close_fd;
	}
	return 0;

close_fd:
	close(e->irqfd);
	e->irqfd = -1;
free_gsi:
	vm_gsi_free(vm, (unsigned int)e->gsi);
	e->gsi = -1;
	return ret;
}

/* The guest changed a message: follow it if a route exists. */
void msi_reroute(struct pci_dev *d, struct pci_msix_entry *e)
{
	if (e->gsi >= 0)
		vm_msi_route_set(d->bus->vm, (unsigned int)e->gsi, e->addr,
				 e->data);
}

static void msi_fire(struct pci_dev *d, struct pci_msix_entry *e)
{
	uint64_t one = 1;

	/* An MSI to nowhere would be a guest bug: drop it, don't route it. */
	if ((e->addr >> 20) != 0xfee) {
		log_rl(LOG_WARN, MOD, "%02x.0: MSI to bad address 0x%llx",
		       d->slot, (unsigned long long)e->addr);
		return;
	}
	if (!msi_route(d, e) && e->irqfd >= 0 &&
	    write(e->irqfd, &one, sizeof(one)) == sizeof(one))
		return;
	vm_msi_signal(d->bus->vm, e->addr, e->data);
}

void intx_update(struct pci_dev *d)
{
	bool level = (d->cfg[PCI_CFG_STATUS] & PCI_STATUS_INTX) &&
		     !(pci_cfg16(d, PCI_CFG_COMMAND) & PCI_CMD_INTX_DISABLE) &&
		     !d->broken;

	if (level != d->intx_level) {
		d->intx_level = level;
		vm_irq_line(d->bus->vm, d->intx_gsi, level);
	}
}

void pci_dev_irq_raise(struct pci_dev *dev, unsigned int vector)
{
	if (dev->broken || !dev->bus)
		return;
	pthread_mutex_lock(&dev->irq_lock);
	if (msix_on(dev)) {
		struct pci_msix_entry *e;

		if (vector >= dev->msix_nr ||
		    !(pci_cfg16(dev, PCI_CFG_COMMAND) & PCI_CMD_MASTER))
			goto out;
		e = &dev->msix[vector];
		if (msix_all_masked(dev) || (e->ctrl & 1))
			e->pending = true;
		else
			msi_fire(dev, e);
	} else if (msi_on(dev)) {
		if (pci_cfg16(dev, PCI_CFG_COMMAND) & PCI_CMD_MASTER)
			msi_fire(dev, &dev->msi);
	} else if (dev->cfg[PCI_CFG_INT_PIN]) {
		dev->cfg[PCI_CFG_STATUS] |= PCI_STATUS_INTX;
		intx_update(dev);
	}
out:
	pthread_mutex_unlock(&dev->irq_lock);
}

void pci_dev_irq_lower(struct pci_dev *dev)
{
	if (!dev->bus)
		return;
	pthread_mutex_lock(&dev->irq_lock);
	dev->cfg[PCI_CFG_STATUS] &= (uint8_t)~PCI_STATUS_INTX;
	intx_update(dev);
	pthread_mutex_unlock(&dev->irq_lock);
}

int pci_dev_msix_irqfd(struct pci_dev *dev, unsigned int vector)
{
	int fd = -1;

	if (!dev->bus || dev->bus->vm->vm_fd < 0)
		return -1;
	pthread_mutex_lock(&dev->irq_lock);
	if (msix_on(dev) && vector < dev->msix_nr &&
	    !msi_route(dev, &dev->msix[vector]))
		fd = dev->msix[vector].irqfd;
	pthread_mutex_unlock(&dev->irq_lock);
	return fd;
}

/* Unmasking delivers what is pending; irq_lock held. */
void msix_deliver_pending(struct pci_dev *d)
{
	unsigned int i;

	if (!msix_on(d) || msix_all_masked(d) ||
	    !(pci_cfg16(d, PCI_CFG_COMMAND) & PCI_CMD_MASTER))
		return;
	for (i = 0; i < d->msix_nr; i++) {
		struct pci_msix_entry *e = &d->msix[i];

		if (e->pending && !(e->ctrl & 1)) {
			e->pending = false;
			msi_fire(d, e);
		}
	}
}

/* MSI-X table/PBA access; returns true if @bar/@off was theirs. */
bool msix_mmio(struct pci_dev *d, int bar, uint64_t off, uint8_t *data,
	       unsigned int len, bool is_write)
{
	uint64_t tsize = (uint64_t)d->msix_nr * MSIX_ENTRY_SIZE;
	uint64_t psize = 8ull * ((d->msix_nr + 63u) / 64u);

	if (!d->msix_cap)
		return false;
	if (bar == d->msix_table_bar && off >= d->msix_table_off &&
	    off - d->msix_table_off < tsize) {
		uint64_t t = off - d->msix_table_off;
		unsigned int idx = (unsigned int)(t / MSIX_ENTRY_SIZE);
		unsigned int eo = (unsigned int)(t % MSIX_ENTRY_SIZE);
		struct pci_msix_entry *e = &d->msix[idx];
		uint8_t raw[MSIX_ENTRY_SIZE];
		unsigned int i;

		pthread_mutex_lock(&d->irq_lock);
		for (i = 0; i < 8; i++)
			raw[i] = (uint8_t)(e->addr >> (8 * i));
		for (i = 0; i < 4; i++) {
			raw[8 + i] = (uint8_t)(e->data >> (8 * i));
			raw[12 + i] = (uint8_t)(e->ctrl >> (8 * i));
		}
		if (!is_write) {
			for (i = 0; i < len; i++)
				data[i] = eo + i < MSIX_ENTRY_SIZE ?
						  raw[eo + i] : 0xff;
		} else {
			uint64_t old_addr = e->addr;
			uint32_t old_data = e->data;

			/* An access crossing entries is clipped to this one. */
			for (i = 0; i < len && eo + i < MSIX_ENTRY_SIZE; i++)
				raw[eo + i] = data[i];
			e->addr = 0;
			for (i = 0; i < 8; i++)
				e->addr |= (uint64_t)raw[i] << (8 * i);
			e->data = (uint32_t)raw[8] | (uint32_t)raw[9] << 8 |
				  (uint32_t)raw[10] << 16 |
				  (uint32_t)raw[11] << 24;
			e->ctrl = raw[12] & 1u;
			if (e->addr != old_addr || e->data != old_data)
				msi_reroute(d, e);
			msix_deliver_pending(d);
		}
		pthread_mutex_unlock(&d->irq_lock);
		if (is_write && d->ops && d->ops->msix_changed)
			d->ops->msix_changed(d);
		return true;
	}
	if (bar == d->msix_pba_bar && off >= d->msix_pba_off &&
	    off - d->msix_pba_off < psize) {
		uint64_t p = off - d->msix_pba_off;
		unsigned int i, bit;

		if (is_write)
			return true;
		pthread_mutex_lock(&d->irq_lock);
		for (i = 0; i < len; i++) {
			uint8_t v = 0;

			for (bit = 0; bit < 8; bit++) {
				uint64_t n = (p + i) * 8 + bit;

				if (n < d->msix_nr && d->msix[n].pending)
					v |= (uint8_t)(1u << bit);
			}
			data[i] = v;
		}
		pthread_mutex_unlock(&d->irq_lock);
		return true;
	}
	return false;
}

void msi_entry_free(struct pci_dev *d, struct pci_msix_entry *e)
{
	if (e->irqfd >= 0) {
		vm_irqfd_deassign(d->bus->vm, (unsigned int)e->gsi, e->irqfd);
		close(e->irqfd);
		e->irqfd = -1;
	}
	if (e->gsi >= 0) {
		vm_gsi_free(d->bus->vm, (unsigned int)e->gsi);
		e->gsi = -1;
	}
}

