/* SPDX-License-Identifier: MIT */
/* pci.c - PCI bus 0: config mechanism #1, config space and capabilities, BAR decoding and dispatch. */
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

LOG_MODULE("pci");


uint16_t pci_cfg16(const struct pci_dev *d, unsigned int off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}

uint32_t pci_cfg32(const struct pci_dev *d, unsigned int off)
{
	return (uint32_t)pci_cfg16(d, off) | (uint32_t)pci_cfg16(d, off + 2) << 16;
}

uint32_t pci_dev_cfg_read(struct pci_dev *dev, unsigned int off,
			  unsigned int len)
{
	uint32_t v = 0;
	unsigned int i;

	if (len > 4 || off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
		return 0xffffffffu;
	for (i = 0; i < len; i++)
		v |= (uint32_t)dev->cfg[off + i] << (8 * i);
	return v;
}

void pci_dev_cfg_set(struct pci_dev *dev, unsigned int off, uint32_t val,
		     unsigned int len)
{
	unsigned int i;

	if (len > 4 || off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
		return;
	for (i = 0; i < len; i++)
		dev->cfg[off + i] = (uint8_t)(val >> (8 * i));
}

void pci_dev_set_wmask(struct pci_dev *dev, unsigned int off,
		       const uint8_t *mask, unsigned int len)
{
	if (off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
		return;
	memcpy(dev->wmask + off, mask, len);
}

static void wmask_set(struct pci_dev *d, unsigned int off, uint32_t mask,
		      unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		d->wmask[off + i] = (uint8_t)(mask >> (8 * i));
}

static void msi_entry_reset(struct pci_msix_entry *e)
{
	e->addr = 0;
	e->data = 0;
	e->ctrl = 1;	/* masked */
	e->pending = false;
}

void pci_dev_init(struct pci_dev *dev, const char *name,
		  const struct pci_dev_ops *ops, void *priv, uint16_t vendor,
		  uint16_t device, uint32_t class_code, uint8_t revision,
		  uint16_t subsys_vendor, uint16_t subsys_id)
{
	unsigned int i;

	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	dev->ops = ops;
	dev->priv = priv;
	dev->cfg_size = PCI_CFG_SIZE;
	pthread_mutex_init(&dev->irq_lock, NULL);
	pci_dev_cfg_set(dev, PCI_CFG_VENDOR_ID, vendor, 2);
	pci_dev_cfg_set(dev, PCI_CFG_DEVICE_ID, device, 2);
	pci_dev_cfg_set(dev, PCI_CFG_REVISION, revision, 1);
	pci_dev_cfg_set(dev, PCI_CFG_CLASS_PROG, class_code, 3);
	pci_dev_cfg_set(dev, PCI_CFG_SUBSYS_VENDOR, subsys_vendor, 2);
	pci_dev_cfg_set(dev, PCI_CFG_SUBSYS_ID, subsys_id, 2);
	/* Command: I/O, memory, bus master, INTx disable. */
	wmask_set(dev, PCI_CFG_COMMAND,
		  PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER |
			  PCI_CMD_INTX_DISABLE,
		  2);
	/* Status: error bits are write-1-to-clear. */
	dev->w1cmask[PCI_CFG_STATUS + 1] = 0xf9;
	wmask_set(dev, 0x0c, 0xff, 1);		/* cache line size */
	wmask_set(dev, 0x0d, 0xff, 1);		/* latency timer */
	wmask_set(dev, PCI_CFG_INT_LINE, 0xff, 1);
	dev->cap_next = 0x40;
	dev->msi.gsi = dev->msi.irqfd = -1;
	msi_entry_reset(&dev->msi);
	for (i = 0; i < PCI_MSIX_MAX_VECTORS; i++) {
		dev->msix[i].gsi = dev->msix[i].irqfd = -1;
		msi_entry_reset(&dev->msix[i]);
	}
	dev->msix_table_bar = dev->msix_pba_bar = -1;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int pci_dev_set_bar(struct pci_dev *dev, int bar, enum pci_bar_type type,
		    uint64_t size, bool prefetch)
{
	unsigned int off = PCI_CFG_BAR0 + 4 * (unsigned int)bar;
	uint32_t low;

	if (bar < 0 || bar >= PCI_NR_BARS || !is_pow2(size))
		return -EINVAL;
	switch (type) {
	case PCI_BAR_PIO:
		if (size < 4 || size > 256)
			return -EINVAL;
		low = 0x1;
		wmask_set(dev, off, (uint32_t)~(size - 1) & 0xfffcu, 4);
		break;
	case PCI_BAR_MMIO32:
		if (size < 16 || size > (256u << 20))
			return -EINVAL;
		low = prefetch ? 0x8 : 0;
		wmask_set(dev, off, (uint32_t)~(size - 1) & ~0xfu, 4);
		break;
	case PCI_BAR_MMIO64:
		if (bar == PCI_NR_BARS - 1 || size < 16 || size > (256u << 20))
			return -EINVAL;
		low = 0x4 | (prefetch ? 0x8 : 0);
		wmask_set(dev, off, (uint32_t)~(size - 1) & ~0xfu, 4);
		wmask_set(dev, off + 4, 0xffffffffu, 4);
		dev->bars[bar + 1].type = PCI_BAR_NONE;
		break;
	default:
		return -EINVAL;
	}
	pci_dev_cfg_set(dev, off, low, 4);
	dev->bars[bar] = (struct pci_bar){
		.type = type, .size = size, .prefetch = prefetch,
	};
	return 0;
}

int pci_dev_add_cap(struct pci_dev *dev, uint8_t id, unsigned int len,
		    const void *body)
{
	unsigned int off = (dev->cap_next + 3u) & ~3u;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	dev->cfg[off] = id;
	dev->cfg[off + 1] = 0;
	if (body)
		memcpy(dev->cfg + off + 2, body, len - 2);
	else
		memset(dev->cfg + off + 2, 0, len - 2);
	if (dev->cap_last)
		dev->cfg[dev->cap_last + 1] = (uint8_t)off;
	else
		dev->cfg[PCI_CFG_CAP_PTR] = (uint8_t)off;
	dev->cap_last = (uint8_t)off;
	dev->cap_next = (uint8_t)(off + len);
	dev->cfg[PCI_CFG_STATUS] |= PCI_STATUS_CAP_LIST;
	return (int)off;
}

int pci_dev_msix_init(struct pci_dev *dev, unsigned int nr, int table_bar,
		      uint64_t table_off, int pba_bar, uint64_t pba_off)
{
	uint8_t body[10];
	int off;

	if (!nr || nr > PCI_MSIX_MAX_VECTORS || table_bar < 0 ||
	    table_bar >= PCI_NR_BARS || pba_bar < 0 || pba_bar >= PCI_NR_BARS ||
	    (table_off & 7) || (pba_off & 7) ||
	    dev->bars[table_bar].type == PCI_BAR_NONE ||
	    dev->bars[pba_bar].type == PCI_BAR_NONE ||
	    dev->bars[table_bar].type == PCI_BAR_PIO ||
	    table_off + nr * MSIX_ENTRY_SIZE > dev->bars[table_bar].size ||
	    pba_off + 8 * ((nr + 63) / 64) > dev->bars[pba_bar].size)
		return -EINVAL;
	body[0] = (uint8_t)(nr - 1);
	body[1] = (uint8_t)((nr - 1) >> 8);
	body[2] = (uint8_t)(table_off | (unsigned int)table_bar);
	body[3] = (uint8_t)(table_off >> 8);
	body[4] = (uint8_t)(table_off >> 16);
	body[5] = (uint8_t)(table_off >> 24);
	body[6] = (uint8_t)(pba_off | (unsigned int)pba_bar);
	body[7] = (uint8_t)(pba_off >> 8);
	body[8] = (uint8_t)(pba_off >> 16);
	body[9] = (uint8_t)(pba_off >> 24);
	off = pci_dev_add_cap(dev, PCI_CAP_ID_MSIX, 12, body);
	if (off < 0)
		return off;
	/* Enable and function mask are the guest's. */
	dev->wmask[off + 3] = 0xc0;
	dev->msix_cap = (uint8_t)off;
	dev->msix_nr = (uint16_t)nr;
	dev->msix_table_bar = table_bar;
	dev->msix_table_off = table_off;
	dev->msix_pba_bar = pba_bar;
	dev->msix_pba_off = pba_off;
	return 0;
}

int pci_dev_msi_init(struct pci_dev *dev)
{
	uint8_t body[12] = { MSI_CTRL_64BIT, 0 };
	int off;

	off = pci_dev_add_cap(dev, PCI_CAP_ID_MSI, 14, body);
	if (off < 0)
		return off;
	dev->wmask[off + 2] = 0x71;	/* enable, multiple message enable */
	wmask_set(dev, (unsigned int)off + 4, 0xfffffffcu, 4);
	wmask_set(dev, (unsigned int)off + 8, 0xffffffffu, 4);
	wmask_set(dev, (unsigned int)off + 12, 0xffff, 2);
	dev->msi_cap = (uint8_t)off;
	return 0;
}

unsigned int pci_bus_irq_pin_gsi(unsigned int slot, unsigned int pin)
{
	return VM_IRQ_PCI_FIRST + (slot + pin - 1) % 4;
}

void pci_dev_set_broken(struct pci_dev *dev, const char *fmt, ...)
{
	va_list ap;

	if (dev->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(dev->broken_reason, sizeof(dev->broken_reason), fmt, ap);
	va_end(ap);
	dev->broken = true;
	log_warn(MOD, "%02x.0 %s: device in error state: %s", dev->slot,
		 dev->name ? dev->name : "?", dev->broken_reason);
	if (dev->intx_level) {
		dev->intx_level = false;
		if (dev->bus)
			vm_irq_line(dev->bus->vm, dev->intx_gsi, 0);
	}
}

/* --- BAR decoding --- */

static uint64_t bar_addr(const struct pci_dev *d, int i)
{
	unsigned int off = PCI_CFG_BAR0 + 4 * (unsigned int)i;

	switch (d->bars[i].type) {
	case PCI_BAR_PIO:
		return pci_cfg32(d, off) & ~0x3u;
	case PCI_BAR_MMIO32:
		return pci_cfg32(d, off) & ~0xfu;
	case PCI_BAR_MMIO64:
		return (pci_cfg32(d, off) & ~0xfull) |
		       (uint64_t)pci_cfg32(d, off + 4) << 32;
	default:
		return 0;
	}
}

/* Recompute which BARs decode; bus lock held. */
static void pci_dev_update_bars(struct pci_dev *d)
{
	uint16_t cmd = pci_cfg16(d, PCI_CFG_COMMAND);
	int i;

	for (i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar *b = &d->bars[i];
		uint64_t addr = bar_addr(d, i), lo, hi;
		bool on;

		if (b->type == PCI_BAR_NONE)
			continue;
		if (b->type == PCI_BAR_PIO) {
			lo = VM_PCI_PIO_BASE;
			hi = VM_PCI_PIO_BASE + VM_PCI_PIO_SIZE;
			on = cmd & PCI_CMD_IO;
		} else {
			lo = VM_PCI_MMIO_BASE;
			hi = (uint64_t)VM_PCI_MMIO_BASE + VM_PCI_MMIO_SIZE;
			on = cmd & PCI_CMD_MEMORY;
		}
		/* Outside the window the bus routes nothing to it anyway. */
		on = on && addr >= lo && addr < hi && b->size <= hi - addr;
		if (on == b->mapped && (!on || addr == b->addr))
			continue;
		b->mapped = on;
		b->addr = addr;
		if (d->ops && d->ops->bar_moved)
			d->ops->bar_moved(d, i, on ? addr : 0);
	}
}

static void pci_cfg_write(struct pci_dev *d, unsigned int off,
			  const uint8_t *data, unsigned int len)
{
	uint16_t msix_old = 0, cmd_old = pci_cfg16(d, PCI_CFG_COMMAND);
	uint8_t msi_old[14] = { 0 };
	unsigned int i;

	if (d->msix_cap)
		msix_old = pci_cfg16(d, d->msix_cap + 2);
	if (d->msi_cap)
		memcpy(msi_old, d->cfg + d->msi_cap, sizeof(msi_old));
	pthread_mutex_lock(&d->irq_lock);
	for (i = 0; i < len; i++) {
		unsigned int o = off + i;
		uint8_t v = d->cfg[o];

		v = (uint8_t)((v & ~d->wmask[o]) | (data[i] & d->wmask[o]));
		v &= (uint8_t)~(data[i] & d->w1cmask[o]);
		d->cfg[o] = v;
	}
	pthread_mutex_unlock(&d->irq_lock);

	if (pci_cfg16(d, PCI_CFG_COMMAND) != cmd_old ||
	    (off < 0x28 && off + len > PCI_CFG_BAR0))
		pci_dev_update_bars(d);

	pthread_mutex_lock(&d->irq_lock);
	if ((pci_cfg16(d, PCI_CFG_COMMAND) ^ cmd_old) & PCI_CMD_INTX_DISABLE)
		intx_update(d);
	if (d->msix_cap && pci_cfg16(d, d->msix_cap + 2) != msix_old) {
		/* MSI-X on: INTx is off. */
		if (msix_on(d) && d->intx_level) {
			d->cfg[PCI_CFG_STATUS] &= (uint8_t)~PCI_STATUS_INTX;
			intx_update(d);
		}
		msix_deliver_pending(d);
	}
	if (d->msi_cap &&
	    memcmp(msi_old, d->cfg + d->msi_cap, sizeof(msi_old))) {
		unsigned int c = d->msi_cap;

		d->msi.addr = pci_cfg32(d, c + 4) | (uint64_t)pci_cfg32(d, c + 8) << 32;
		d->msi.data = pci_cfg16(d, c + 12);
		msi_reroute(d, &d->msi);
	}
	pthread_mutex_unlock(&d->irq_lock);

	if (d->msix_cap && pci_cfg16(d, d->msix_cap + 2) != msix_old &&
	    d->ops && d->ops->msix_changed)
		d->ops->msix_changed(d);
	if (d->ops && d->ops->config_write)
		d->ops->config_write(d, off, len);
}

void pci_bus_cfg_access(struct pci_bus *bus, uint32_t cf8, unsigned int byte,
			uint8_t *data, unsigned int len, bool is_write)
{
	unsigned int slot = (cf8 >> 11) & 0x1f, fn = (cf8 >> 8) & 7;
	unsigned int off = (cf8 & 0xfc) + byte;
	struct pci_dev *d;
	unsigned int i;

	if (!is_write)
		memset(data, 0xff, len);
	if (!(cf8 & PCI_CF8_ENABLE) || ((cf8 >> 16) & 0xff) || fn ||
	    byte > 3 || !len || len > 4 || byte + len > 4)
		return;
	pthread_mutex_lock(&bus->lock);
	d = bus->devs[slot];
	if (!d)
		goto out;
	if (is_write) {
		pci_cfg_write(d, off, data, len);
	} else {
		uint32_t v = pci_cfg32(d, off & ~3u);

		if (d->ops && d->ops->config_read)
			d->ops->config_read(d, off & ~3u, &v);
		for (i = 0; i < len; i++)
			data[i] = (uint8_t)(v >> (8 * (byte + i)));
	}
out:
	pthread_mutex_unlock(&bus->lock);
}

static void pci_cf8_io(void *opaque, uint64_t off, uint8_t *data,
		       unsigned int len, bool is_write)
{
	struct pci_bus *bus = opaque;
	unsigned int i;

	if (off < 4) {
		/* CONFIG_ADDRESS: dword accesses only (byte 0xcfb is not us). */
		if (off != 0 || len != 4) {
			if (!is_write)
				memset(data, 0xff, len);
			return;
		}
		pthread_mutex_lock(&bus->lock);
		if (is_write) {
			bus->cf8 = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
				   (uint32_t)data[2] << 16 |
				   (uint32_t)data[3] << 24;
			bus->cf8 &= 0x80fffffcu;
		} else {
			for (i = 0; i < 4; i++)
				data[i] = (uint8_t)(bus->cf8 >> (8 * i));
		}
		pthread_mutex_unlock(&bus->lock);
		return;
	}
	pci_bus_cfg_access(bus, __atomic_load_n(&bus->cf8, __ATOMIC_RELAXED),
			   (unsigned int)off - 4, data, len, is_write);
}

/* Find the BAR holding [addr, addr + len); bus lock held. */
static struct pci_dev *pci_bar_find(struct pci_bus *bus, bool pio,
				    uint64_t addr, unsigned int len, int *bar,
				    uint64_t *offset)
{
	unsigned int s;
	int i;

	for (s = 0; s < PCI_MAX_DEVS; s++) {
		struct pci_dev *d = bus->devs[s];

		if (!d)
			continue;
		for (i = 0; i < PCI_NR_BARS; i++) {
			const struct pci_bar *b = &d->bars[i];

			if (!b->mapped || (b->type == PCI_BAR_PIO) != pio ||
			    addr < b->addr || addr - b->addr >= b->size ||
			    len > b->size - (addr - b->addr))
				continue;
			*bar = i;
			*offset = addr - b->addr;
			return d;
		}
	}
	return NULL;
}

static void pci_bar_io(struct pci_bus *bus, bool pio, uint64_t addr,
		       uint8_t *data, unsigned int len, bool is_write)
{
	struct pci_dev *d;
	uint64_t offset = 0;
	int bar = 0;

	pthread_mutex_lock(&bus->lock);
	d = pci_bar_find(bus, pio, addr, len, &bar, &offset);
	pthread_mutex_unlock(&bus->lock);
	if (!d || d->broken) {
		if (!is_write)
			memset(data, 0xff, len);
		__atomic_add_fetch(&bus->bad_accesses, 1, __ATOMIC_RELAXED);
		return;
	}
	if (msix_mmio(d, bar, offset, data, len, is_write))
		return;
	if (is_write) {
		if (d->ops && d->ops->bar_write)
			d->ops->bar_write(d, bar, offset, data, len);
	} else {
		memset(data, 0, len);
		if (d->ops && d->ops->bar_read)
			d->ops->bar_read(d, bar, offset, data, len);
	}
}

static void pci_mmio_io(void *opaque, uint64_t off, uint8_t *data,
			unsigned int len, bool is_write)
{
	pci_bar_io(opaque, false, VM_PCI_MMIO_BASE + off, data, len, is_write);
}

static void pci_pio_io(void *opaque, uint64_t off, uint8_t *data,
		       unsigned int len, bool is_write)
{
	pci_bar_io(opaque, true, VM_PCI_PIO_BASE + off, data, len, is_write);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int pci_bus_add(struct pci_bus *bus, struct pci_dev *dev)
{
	unsigned int slot, off;
	int i;

	pthread_mutex_lock(&bus->lock);
	for (slot = 0; slot < PCI_MAX_DEVS && bus->devs[slot]; slot++)
		;
	if (slot == PCI_MAX_DEVS) {
		pthread_mutex_unlock(&bus->lock);
		return -ENOSPC;
	}
	for (i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar *b = &dev->bars[i];
		uint64_t addr;

		if (b->type == PCI_BAR_NONE)
			continue;
		off = PCI_CFG_BAR0 + 4 * (unsigned int)i;
		if (b->type == PCI_BAR_PIO) {
			addr = align_up(bus->pio_next, b->size);
			if (addr + b->size > VM_PCI_PIO_BASE + VM_PCI_PIO_SIZE)
				goto nospace;
			bus->pio_next = addr + b->size;
			pci_dev_cfg_set(dev, off, (uint32_t)addr | 1, 4);
		} else {
			addr = align_up(bus->mmio_next, b->size);
			if (addr + b->size >
			    (uint64_t)VM_PCI_MMIO_BASE + VM_PCI_MMIO_SIZE)
				goto nospace;
			bus->mmio_next = addr + b->size;
			pci_dev_cfg_set(dev, off,
					(uint32_t)addr | dev->cfg[off], 4);
			if (b->type == PCI_BAR_MMIO64)
				pci_dev_cfg_set(dev, off + 4, 0, 4);
		}
	}
	dev->bus = bus;
	dev->slot = (uint8_t)slot;
	if (slot) {
		dev->cfg[PCI_CFG_INT_PIN] = 1;	/* INTA */
		dev->intx_gsi = pci_bus_irq_pin_gsi(slot, 1);
		dev->cfg[PCI_CFG_INT_LINE] = (uint8_t)dev->intx_gsi;
	}
	bus->devs[slot] = dev;
	pthread_mutex_unlock(&bus->lock);
	return (int)slot;

nospace:
	pthread_mutex_unlock(&bus->lock);
	return -ENOSPC;
}

int pci_bus_init(struct pci_bus *bus, struct vm *vm)
{
	int ret;

	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	bus->vm = vm;
	bus->mmio_next = VM_PCI_MMIO_BASE;
	bus->pio_next = VM_PCI_PIO_BASE;
	pci_dev_init(&bus->host_bridge, "host-bridge", NULL, NULL,
		     PCI_HOST_BRIDGE_VENDOR, PCI_HOST_BRIDGE_DEVICE, 0x060000,
		     0x02, 0, 0);
	/* A host bridge has nothing for the guest to enable. */
	wmask_set(&bus->host_bridge, PCI_CFG_COMMAND, 0, 2);
	ret = pci_bus_add(bus, &bus->host_bridge);
	if (ret < 0)
		return ret;
	ret = vm_io_register(vm, VM_IO_PIO, 0xcf8, 8, pci_cf8_io, bus);
	if (ret)
		return ret;
	/*
	 * CONFIG_ADDRESS writes only latch an address for the next 0xcfc
	 * access: KVM queues them in the kernel instead of returning to us,
	 * so a config access costs one trip to user space, not two (Linux
	 * reads 8192 slots twice on an AMD K8 CPU, which QEMU's TCG emulates).
	 * Without KVM support they simply exit as before.
	 */
	(void)vm_coalesce_add(vm, VM_IO_PIO, 0xcf8, 4);
	ret = vm_io_register(vm, VM_IO_MMIO, VM_PCI_MMIO_BASE,
			     VM_PCI_MMIO_SIZE, pci_mmio_io, bus);
	if (ret)
		return ret;
	ret = vm_io_register(vm, VM_IO_PIO, VM_PCI_PIO_BASE, VM_PCI_PIO_SIZE,
			     pci_pio_io, bus);
	if (ret)
		return ret;
	vm->pci = bus;
	return 0;
}

void pci_bus_destroy(struct pci_bus *bus)
{
	unsigned int s, i;

	for (s = 0; s < PCI_MAX_DEVS; s++) {
		struct pci_dev *d = bus->devs[s];

		if (!d)
			continue;
		bus->devs[s] = NULL;
		msi_entry_free(d, &d->msi);
		for (i = 0; i < PCI_MSIX_MAX_VECTORS; i++)
			msi_entry_free(d, &d->msix[i]);
		if (d->ops && d->ops->destroy)
			d->ops->destroy(d);
	}
	if (bus->vm && bus->vm->pci == bus)
		bus->vm->pci = NULL;
}
