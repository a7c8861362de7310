/* SPDX-License-Identifier: MIT */
/* hello.c - test guest: serial output and a PCI bus scan by mechanism #1. */
#include "lib.h"

int guest_main(void);

int guest_main(void)
{
	unsigned int slot, found = 0;

	puts_s("hello from a loom test guest\n");
	for (slot = 0; slot < 32; slot++) {
		uint32_t id = pci_cfg_read32(slot, 0);
		uint32_t cls = pci_cfg_read32(slot, 8);

		if ((id & 0xffff) == 0xffff)
			continue;
		found++;
		puts_s("pci 00:");
		put_hex(slot, 2);
		puts_s(".0 ");
		put_hex(id & 0xffff, 4);
		serial_putc(':');
		put_hex(id >> 16, 4);
		puts_s(" class ");
		put_hex(cls >> 8, 6);
		serial_putc('\n');
	}
	/* The sizing dance a BIOS does, then the BAR must be intact. */
	if (found > 1) {
		uint32_t bar = pci_cfg_read32(1, 0x10), size;

		pci_cfg_write32(1, 0x10, 0xffffffffu);
		size = pci_cfg_read32(1, 0x10);
		pci_cfg_write32(1, 0x10, bar);
		puts_s("bar0 size mask ");
		put_hex(size, 8);
		puts_s(pci_cfg_read32(1, 0x10) == bar ? " restored\n" :
							" NOT restored\n");
	}
	puts_s("done\n");
	return found ? 0 : 1;
}
