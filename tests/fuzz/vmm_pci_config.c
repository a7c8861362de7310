/* SPDX-License-Identifier: MIT */
/* vmm_pci_config.c - fuzz the PCI bus: config mechanism #1, BARs, MSI-X, IRQs. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/log.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: a sequence of guest operations, each an opcode byte and operands:
 *   0 CONFIG_ADDRESS write (4 bytes)      1 CONFIG_DATA access
 *   2 MMIO access in the PCI window        3 PIO access in the PCI range
 *   4 device raises an interrupt (vector)  5 device lowers INTx
 *   6 any PIO port access (cf8/cfc area included, odd sizes)
 * Access operands: flags byte (bit 0 write, bits 1-2 log2 size), address,
 * then the data bytes for writes.
 */

struct fdev {
	struct pci_dev pci;
	uint8_t regs[64];
};

static void f_read(struct pci_dev *dev, int bar, uint64_t off, uint8_t *d,
		   unsigned int len)
{
	struct fdev *f = dev->priv;

	if (off + len <= sizeof(f->regs))
		memcpy(d, f->regs + off, len);
}

static void f_write(struct pci_dev *dev, int bar, uint64_t off,
		    const uint8_t *d, unsigned int len)
{
	struct fdev *f = dev->priv;

	if (off + len <= sizeof(f->regs))
		memcpy(f->regs + off, d, len);
	if (off == 0 && d[0] == 0xee)
		pci_dev_set_broken(dev, "fuzz");
}

static const struct pci_dev_ops f_ops = {
	.bar_read = f_read,
	.bar_write = f_write,
};

struct rd {
	const uint8_t *p;
	size_t left;
};

static bool take(struct rd *r, void *out, size_t n)
{
	if (r->left < n)
		return false;
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	static bool vm_ready;
	struct pci_bus bus;
	struct fdev devs[2];
	struct rd r = { data, size };
	unsigned int i, steps = 0;
	uint8_t op;

	log_max_level = LOG_ERR;
	if (!vm_ready) {
		if (vm_init_nokvm(&vm, 0))
			return 0;
		vm_ready = true;
	}
	vm.nr_io = 0;
	if (pci_bus_init(&bus, &vm))
		return 0;
	for (i = 0; i < 2; i++) {
		struct pci_dev *d = &devs[i].pci;

		memset(devs[i].regs, 0, sizeof(devs[i].regs));
		pci_dev_init(d, "fuzz", &f_ops, &devs[i], 0x1af4,
			     (uint16_t)(0x1040 + i), 0x020000, 1, 0x1af4, 1);
		pci_dev_set_bar(d, 0, PCI_BAR_MMIO32, 0x1000, false);
		pci_dev_set_bar(d, 1, PCI_BAR_PIO, 64, false);
		pci_dev_set_bar(d, 2, PCI_BAR_MMIO64, 0x4000, true);
		if (i == 0)
			pci_dev_msix_init(d, 8, 2, 0x1000, 2, 0x2000);
		else
			pci_dev_msi_init(d);
		pci_bus_add(&bus, d);
	}

	while (take(&r, &op, 1) && steps++ < 4096) {
		uint8_t flags = 0, buf[8] = { 0 };
		uint32_t a32 = 0;
		uint16_t a16 = 0;
		unsigned int len;
		bool wr;

		switch (op % 7) {
		case 0:
			if (!take(&r, &a32, 4))
				goto out;
			vm_io_dispatch(&vm, VM_IO_PIO, 0xcf8, (uint8_t *)&a32,
				       4, true);
			break;
		case 1:
		case 2:
		case 3:
		case 6:
			if (!take(&r, &flags, 1))
				goto out;
			wr = flags & 1;
			len = 1u << ((flags >> 1) & 3);
			if (op % 7 == 1) {
				a16 = (uint16_t)(0xcfc + ((flags >> 3) & 3));
				if (len > 4)
					len = 4;
			} else if (op % 7 == 6) {
				if (!take(&r, &a16, 2))
					goto out;
				if (len > 4)
					len = 4;
			} else if (!take(&r, &a32, 4)) {
				goto out;
			}
			if (wr && !take(&r, buf, len))
				goto out;
			if (op % 7 == 2)
				vm_io_dispatch(&vm, VM_IO_MMIO,
					       VM_PCI_MMIO_BASE +
						       a32 % 0x20000u,
					       buf, len, wr);
			else if (op % 7 == 3)
				vm_io_dispatch(&vm, VM_IO_PIO,
					       VM_PCI_PIO_BASE + a32 % 0x200u,
					       buf, len, wr);
			else
				vm_io_dispatch(&vm, VM_IO_PIO, a16, buf, len,
					       wr);
			break;
		case 4:
			if (!take(&r, &flags, 1))
				goto out;
			pci_dev_irq_raise(&devs[flags & 1].pci, flags >> 1);
			break;
		case 5:
			if (!take(&r, &flags, 1))
				goto out;
			pci_dev_irq_lower(&devs[flags & 1].pci);
			break;
		}
	}
out:
	pci_bus_destroy(&bus);
	return 0;
}
