/* SPDX-License-Identifier: MIT */
/* test_vmm_pci.c - PCI bus: config mechanism #1, BAR sizing, MSI-X, garbage. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/pci.h"
#include "vmm/vm.h"

struct fake_dev {
	struct pci_dev pci;
	uint8_t regs[256];
	unsigned int reads, writes, moves;
	uint64_t last_moved;	/* BAR 0 */
};

static void fake_bar_read(struct pci_dev *dev, int bar, uint64_t off,
			  uint8_t *data, unsigned int len)
{
	struct fake_dev *f = dev->priv;

	f->reads++;
	if (off + len > sizeof(f->regs))
		return;
	memcpy(data, f->regs + off, len);
}

static void fake_bar_write(struct pci_dev *dev, int bar, uint64_t off,
			   const uint8_t *data, unsigned int len)
{
	struct fake_dev *f = dev->priv;

	f->writes++;
	if (off + len > sizeof(f->regs))
		return;
	memcpy(f->regs + off, data, len);
	if (f->regs[0] == 0xde)
		pci_dev_set_broken(dev, "guest wrote 0xde to reg 0");
}

static void fake_bar_moved(struct pci_dev *dev, int bar, uint64_t addr)
{
	struct fake_dev *f = dev->priv;

	f->moves++;
	if (bar == 0)
		f->last_moved = addr;
}

static const struct pci_dev_ops fake_ops = {
	.bar_read = fake_bar_read,
	.bar_write = fake_bar_write,
	.bar_moved = fake_bar_moved,
};

struct ctx {
	struct vm vm;
	struct pci_bus bus;
	struct fake_dev dev;
};

static uint32_t cfg_read(struct ctx *c, unsigned int slot, unsigned int off,
			 unsigned int len)
{
	uint32_t cf8 = 0x80000000u | slot << 11 | (off & 0xfc);
	uint8_t d[4] = { 0 };
	uint32_t v = 0;
	unsigned int i;

	vm_io_dispatch(&c->vm, VM_IO_PIO, 0xcf8, (uint8_t *)&cf8, 4, true);
	vm_io_dispatch(&c->vm, VM_IO_PIO, 0xcfc + (off & 3), d, len, false);
	for (i = 0; i < len; i++)
		v |= (uint32_t)d[i] << (8 * i);
	return v;
}

static void cfg_write(struct ctx *c, unsigned int slot, unsigned int off,
		      uint32_t v, unsigned int len)
{
	uint32_t cf8 = 0x80000000u | slot << 11 | (off & 0xfc);
	uint8_t d[4];
	unsigned int i;

	for (i = 0; i < 4; i++)
		d[i] = (uint8_t)(v >> (8 * i));
	vm_io_dispatch(&c->vm, VM_IO_PIO, 0xcf8, (uint8_t *)&cf8, 4, true);
	vm_io_dispatch(&c->vm, VM_IO_PIO, 0xcfc + (off & 3), d, len, true);
}

static uint32_t mmio_read32(struct ctx *c, uint64_t addr)
{
	uint8_t d[4];

	vm_io_dispatch(&c->vm, VM_IO_MMIO, addr, d, 4, false);
	return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
	       (uint32_t)d[3] << 24;
}

static void mmio_write32(struct ctx *c, uint64_t addr, uint32_t v)
{
	uint8_t d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	vm_io_dispatch(&c->vm, VM_IO_MMIO, addr, d, 4, true);
}

static int setup(void **state)
{
	static struct ctx c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(vm_init_nokvm(&c.vm, 0), 0);
	assert_int_equal(pci_bus_init(&c.bus, &c.vm), 0);
	pci_dev_init(&c.dev.pci, "fake", &fake_ops, &c.dev, 0x1af4, 0x1042,
		     0x018000, 1, 0x1af4, 2);
	assert_int_equal(pci_dev_set_bar(&c.dev.pci, 0, PCI_BAR_MMIO32, 4096,
					 false), 0);
	assert_int_equal(pci_dev_set_bar(&c.dev.pci, 2, PCI_BAR_MMIO64, 0x4000,
					 true), 0);
	assert_int_equal(pci_dev_set_bar(&c.dev.pci, 4, PCI_BAR_PIO, 32,
					 false), 0);
	assert_int_equal(pci_dev_msix_init(&c.dev.pci, 4, 2, 0, 2, 0x800), 0);
	assert_int_equal(pci_bus_add(&c.bus, &c.dev.pci), 1);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	pci_bus_destroy(&c->bus);
	vm_destroy(&c->vm);
	return 0;
}

static void test_host_bridge_ids(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(cfg_read(c, 0, 0, 2), 0x8086);
	assert_int_equal(cfg_read(c, 0, 2, 2), 0x1237);
	assert_int_equal(cfg_read(c, 0, 0x0a, 2), 0x0600);
	assert_int_equal(cfg_read(c, 1, 0, 4), 0x10421af4);
	/* Empty slot, function 1, bus 1: all ones. */
	assert_int_equal(cfg_read(c, 5, 0, 4), 0xffffffffu);
	{
		uint32_t cf8 = 0x80000100u | 1 << 11, v;
		uint8_t d[4];

		vm_io_dispatch(&c->vm, VM_IO_PIO, 0xcf8, (uint8_t *)&cf8, 4,
			       true);
		vm_io_dispatch(&c->vm, VM_IO_PIO, 0xcfc, d, 4, false);
		memcpy(&v, d, 4);
		assert_int_equal(v, 0xffffffffu);
	}
	/* CONFIG_ADDRESS reads back (the conf1 probe Linux does). */
	{
		uint32_t cf8 = 0x80000000u, back = 0;

		vm_io_dispatch(&c->vm, VM_IO_PIO, 0xcf8, (uint8_t *)&cf8, 4,
			       true);
		vm_io_dispatch(&c->vm, VM_IO_PIO, 0xcf8, (uint8_t *)&back, 4,
			       false);
		assert_int_equal(back, 0x80000000u);
	}
}

static void test_bar_sizing_and_decode(void **state)
{
	struct ctx *c = *state;
	uint32_t bar0 = cfg_read(c, 1, 0x10, 4);

	assert_int_equal(bar0 & 0xf, 0);
	assert_true(bar0 >= VM_PCI_MMIO_BASE);
	/* Sizing: write all ones, read the mask back, restore. */
	cfg_write(c, 1, 0x10, 0xffffffffu, 4);
	assert_int_equal(cfg_read(c, 1, 0x10, 4), 0xfffff000u);
	cfg_write(c, 1, 0x10, bar0, 4);
	/* 64-bit prefetchable BAR: type bits fixed. */
	assert_int_equal(cfg_read(c, 1, 0x18, 4) & 0xf, 0xc);
	cfg_write(c, 1, 0x1c, 0xffffffffu, 4);
	assert_int_equal(cfg_read(c, 1, 0x1c, 4), 0xffffffffu);
	cfg_write(c, 1, 0x1c, 0, 4);
	/* PIO BAR. */
	assert_int_equal(cfg_read(c, 1, 0x20, 4) & 3, 1);
	cfg_write(c, 1, 0x20, 0xffffffffu, 4);
	assert_int_equal(cfg_read(c, 1, 0x20, 4) & 0xffff, 0xffe1);

	/* Decoding off: reads all ones, device never called. */
	assert_int_equal(mmio_read32(c, bar0), 0xffffffffu);
	assert_int_equal(c->dev.reads, 0);
	cfg_write(c, 1, 0x04, PCI_CMD_MEMORY, 2);
	assert_true(c->dev.moves >= 1);
	assert_int_equal(c->dev.last_moved, bar0);
	c->dev.regs[4] = 0x42;
	assert_int_equal(mmio_read32(c, bar0 + 4) & 0xff, 0x42);
	mmio_write32(c, bar0 + 8, 0x11223344);
	assert_int_equal(c->dev.regs[8], 0x44);
	/* Move the BAR: the device hears of it, old address goes dead. */
	cfg_write(c, 1, 0x10, bar0 + 0x100000, 4);
	assert_int_equal(c->dev.last_moved, bar0 + 0x100000);
	assert_int_equal(mmio_read32(c, bar0 + 4), 0xffffffffu);
	assert_int_equal(mmio_read32(c, bar0 + 0x100004) & 0xff, 0x42);
	/* Outside the PCI window: unmapped. */
	cfg_write(c, 1, 0x10, 0x1000, 4);
	assert_int_equal(c->dev.last_moved, 0);
}

static void test_readonly_fields(void **state)
{
	struct ctx *c = *state;

	cfg_write(c, 1, 0x00, 0x12345678, 4);
	assert_int_equal(cfg_read(c, 1, 0, 4), 0x10421af4);
	cfg_write(c, 1, 0x08, 0xffffffffu, 4);
	assert_int_equal(cfg_read(c, 1, 0x08, 4), 0x01800001);
	/* Interrupt line is writable, pin is not. */
	cfg_write(c, 1, 0x3c, 0xffff, 2);
	assert_int_equal(cfg_read(c, 1, 0x3c, 2), 0x01ff);
	/* Capability list intact: first cap is MSI-X at 0x40. */
	cfg_write(c, 1, 0x34, 0xff, 1);
	assert_int_equal(cfg_read(c, 1, 0x34, 1), 0x40);
	assert_int_equal(cfg_read(c, 1, 0x40, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_read(c, 1, 0x42, 2) & 0x7ff, 3);
	/* Misaligned / oversize accesses are ignored, reads all ones. */
	{
		uint8_t d[4] = { 1, 2, 3, 4 };

		vm_io_dispatch(&c->vm, VM_IO_PIO, 0xcfe, d, 4, true);
		vm_io_dispatch(&c->vm, VM_IO_PIO, 0xcff, d, 2, false);
	}
	assert_int_equal(cfg_read(c, 1, 0, 4), 0x10421af4);
}

static void test_msix_table(void **state)
{
	struct ctx *c = *state;
	uint64_t bar2;

	cfg_write(c, 1, 0x04, PCI_CMD_MEMORY | PCI_CMD_MASTER, 2);
	bar2 = (cfg_read(c, 1, 0x18, 4) & ~0xfu) |
	       (uint64_t)cfg_read(c, 1, 0x1c, 4) << 32;
	assert_true(bar2 >= VM_PCI_MMIO_BASE);
	/* Entries start masked. */
	assert_int_equal(mmio_read32(c, bar2 + 12), 1);
	mmio_write32(c, bar2 + 16, 0xfee00000u);
	mmio_write32(c, bar2 + 20, 0);
	mmio_write32(c, bar2 + 24, 0x4041);
	assert_int_equal(mmio_read32(c, bar2 + 16), 0xfee00000u);
	assert_int_equal(mmio_read32(c, bar2 + 24), 0x4041);
	/* The table never reaches the device. */
	assert_int_equal(c->dev.writes, 0);
	/* Enable MSI-X; a masked vector only sets its pending bit. */
	cfg_write(c, 1, 0x42, 0x8000, 2);
	assert_true(pci_dev_msix_enabled(&c->dev.pci));
	pci_dev_irq_raise(&c->dev.pci, 1);
	assert_int_equal(mmio_read32(c, bar2 + 0x800) & 0xf, 0x2);
	/* Unmask: the pending message goes out, the bit clears. */
	mmio_write32(c, bar2 + 28, 0);
	assert_int_equal(mmio_read32(c, bar2 + 0x800) & 0xf, 0);
	/* Vector out of range, and ctrl reserved bits: harmless. */
	pci_dev_irq_raise(&c->dev.pci, 1000);
	mmio_write32(c, bar2 + 28, 0xfffffffeu);
	assert_int_equal(mmio_read32(c, bar2 + 28), 0);
	/* Access past the table inside the BAR goes to the device. */
	mmio_write32(c, bar2 + 0x100, 7);
	assert_int_equal(c->dev.writes, 1);
}

static void test_broken_device(void **state)
{
	struct ctx *c = *state;
	uint32_t bar0 = cfg_read(c, 1, 0x10, 4) & ~0xfu;

	cfg_write(c, 1, 0x04, PCI_CMD_MEMORY, 2);
	mmio_write32(c, bar0, 0xde);
	assert_true(c->dev.pci.broken);
	assert_non_null(strstr(c->dev.pci.broken_reason, "0xde"));
	c->dev.regs[4] = 0x42;
	assert_int_equal(mmio_read32(c, bar0 + 4), 0xffffffffu);
	pci_dev_irq_raise(&c->dev.pci, 0);	/* no-op, no crash */
	/* The bus and other devices keep working. */
	assert_int_equal(cfg_read(c, 0, 0, 2), 0x8086);
}

static void test_intx_gsi(void **state)
{
	struct ctx *c = *state;

	/* Slot 1, INTA: swizzled onto the PCI IOAPIC pins. */
	assert_int_equal(cfg_read(c, 1, 0x3d, 1), 1);
	assert_int_equal(c->dev.pci.intx_gsi, pci_bus_irq_pin_gsi(1, 1));
	assert_int_equal(pci_bus_irq_pin_gsi(1, 1), 17);
	assert_int_equal(pci_bus_irq_pin_gsi(3, 2), 16);
	pci_dev_irq_raise(&c->dev.pci, 0);
	assert_true(cfg_read(c, 1, 0x06, 2) & PCI_STATUS_INTX);
	assert_true(c->dev.pci.intx_level);
	cfg_write(c, 1, 0x04, PCI_CMD_INTX_DISABLE, 2);
	assert_false(c->dev.pci.intx_level);
	cfg_write(c, 1, 0x04, 0, 2);
	assert_true(c->dev.pci.intx_level);
	pci_dev_irq_lower(&c->dev.pci);
	assert_false(c->dev.pci.intx_level);
}

static void test_bad_declarations(void **state)
{
	struct pci_dev d;

	(void)state;
	pci_dev_init(&d, "bad", NULL, NULL, 1, 2, 0, 0, 0, 0);
	assert_int_equal(pci_dev_set_bar(&d, 6, PCI_BAR_MMIO32, 4096, false),
			 -EINVAL);
	assert_int_equal(pci_dev_set_bar(&d, 0, PCI_BAR_MMIO32, 3000, false),
			 -EINVAL);
	assert_int_equal(pci_dev_set_bar(&d, 5, PCI_BAR_MMIO64, 4096, false),
			 -EINVAL);
	assert_int_equal(pci_dev_set_bar(&d, 0, PCI_BAR_PIO, 512, false),
			 -EINVAL);
	assert_int_equal(pci_dev_msix_init(&d, 4, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_dev_set_bar(&d, 0, PCI_BAR_MMIO32, 4096, false),
			 0);
	assert_int_equal(pci_dev_msix_init(&d, 1000, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_dev_msix_init(&d, 64, 0, 0x800, 0, 0xffc),
			 -EINVAL);
	assert_int_equal(pci_dev_msix_init(&d, 64, 0, 0, 0, 0x800), 0);
	assert_int_equal(pci_dev_msi_init(&d), 0);
	assert_int_equal(d.msi_cap, 0x4c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_bridge_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing_and_decode,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_fields, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_msix_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_broken_device, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_intx_gsi, setup,
						teardown),
		cmocka_unit_test(test_bad_declarations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
