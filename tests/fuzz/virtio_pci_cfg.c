/* SPDX-License-Identifier: MIT */
/* virtio_pci_cfg.c - fuzz virtio-pci + virtio-blk: arbitrary config space, BAR and doorbell accesses over guest RAM. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/pci.h"
#include "vmm/vm.h"
#include "vmm/virtio/blk.h"
#include "vmm/virtio/pci.h"
#include "tests/fuzz/virtio_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: le16 n, n bytes copied to guest RAM at gpa 0 (n <= 64 KiB), then
 * operations until the input ends, each an opcode byte and its arguments:
 *   0  config write   u8 off, u8 size code, le32 value
 *   1  config read    u8 off, u8 size code
 *   2  MMIO write     le16 off (in the PCI window), u8 size code, le64 val
 *   3  MMIO read      le16 off, u8 size code
 *   4  doorbell       u8 queue
 *   5  driver init    le16 queue size: reset, features, queue at fixed
 *                     addresses (desc 0x0, avail 0x1000, used 0x2000),
 *                     DRIVER_OK, so inputs reach request processing
 *   6  RAM write      le16 gpa / 8, 8 bytes
 * The virtio-blk device sits on a 64 KiB scratch image. The device starts
 * with BAR decoding on.
 */
enum { RAM = 1 << 20, DISK = 64 << 10 };

/* The image, zeroes at the start of the run; inputs write it in turn. */
static const char *disk_init(void)
{
	static char zero[DISK];
	static const char *disk_path;
	int fd;

	if (disk_path)
		return disk_path;
	disk_path = fuzz_image("vblk");
	fd = open(disk_path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, zero, sizeof(zero)) != (ssize_t)sizeof(zero))
		abort();
	close(fd);
	return disk_path;
}

static void cfg(struct pci_bus *bus, unsigned int off, uint32_t v,
		unsigned int len, bool wr)
{
	uint8_t b[4];
	unsigned int i;

	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	pci_bus_cfg_access(bus, 0x80000000u | 1u << 11 | (off & 0xfc),
			   off & 3, b, len, wr);
}

static void mmio(struct vm *vm, uint64_t addr, uint64_t v, unsigned int len,
		 bool wr)
{
	uint8_t b[8];
	unsigned int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	vm_io_dispatch(vm, VM_IO_MMIO, addr, b, len, wr);
}

static void driver_init(struct vm *vm, uint64_t bar, uint16_t qsize)
{
	uint64_t c = bar + VIRTIO_PCI_COMMON_OFF;

	mmio(vm, c + VIRTIO_PCI_COMMON_STATUS, 0, 1, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_STATUS, 3, 1, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_GFSELECT, 0, 4, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_GF,
	     (1u << VIRTIO_BLK_F_FLUSH) | (1u << VIRTIO_F_INDIRECT_DESC) |
	     (1u << VIRTIO_F_EVENT_IDX), 4, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_GFSELECT, 1, 4, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_GF, 1, 4, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_STATUS, 11, 1, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_Q_SIZE, qsize, 2, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_Q_DESCLO, 0, 8, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_Q_AVAILLO, 0x1000, 8, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_Q_USEDLO, 0x2000, 8, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2, true);
	mmio(vm, c + VIRTIO_PCI_COMMON_STATUS, 15, 1, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	struct fz f = { data, size };
	struct pci_bus bus;
	struct vm vm;
	const char *disk_path;
	uint64_t bar, n;
	unsigned int ops = 0;

	log_max_level = LOG_ERR;
	disk_path = disk_init();
	if (vm_init_nokvm(&vm, RAM))
		return 0;
	if (pci_bus_init(&bus, &vm))
		goto out_vm;
	vm.pci = &bus;
	if (virtio_blk_create(&vm, disk_path, false))
		goto out_bus;
	cfg(&bus, PCI_CFG_COMMAND, PCI_CMD_MEMORY | PCI_CMD_MASTER, 2, true);
	bar = bus.devs[1]->bars[VIRTIO_PCI_BAR].addr;

	n = take(&f, 2);
	if (n > f.left)
		n = f.left;
	guest_mem_write(&vm.mem, 0, f.p, n);
	f.p += n;
	f.left -= n;
	/* Bounded: every op consumes at least one byte. */
	while (f.left && ops++ < 4096) {
		unsigned int op = (unsigned int)take(&f, 1) % 7, off, len;
		uint64_t v;

		switch (op) {
		case 0:
			off = (unsigned int)take(&f, 1);
			len = sizes[take(&f, 1) % 3];
			v = take(&f, 4);
			cfg(&bus, off, (uint32_t)v, len, true);
			break;
		case 1:
			off = (unsigned int)take(&f, 1);
			len = sizes[take(&f, 1) % 3];
			cfg(&bus, off, 0, len, false);
			break;
		case 2:
			off = (unsigned int)take(&f, 2);
			len = sizes[take(&f, 1) % 4];
			v = take(&f, 8);
			mmio(&vm, bar + (off & ~(len - 1)), v, len, true);
			break;
		case 3:
			off = (unsigned int)take(&f, 2);
			len = sizes[take(&f, 1) % 4];
			mmio(&vm, bar + (off & ~(len - 1)), 0, len, false);
			break;
		case 4:
			off = (unsigned int)take(&f, 1);
			mmio(&vm, bar + VIRTIO_PCI_NOTIFY_OFF +
				  VIRTIO_PCI_NOTIFY_MULT * (off % 4),
			     off % 4, 2, true);
			break;
		case 5:
			driver_init(&vm, bar, (uint16_t)take(&f, 2));
			break;
		case 6:
			v = take(&f, 2) * 8;
			n = take(&f, 8);
			guest_mem_write(&vm.mem, v, &n, 8);
			break;
		}
	}
out_bus:
	pci_bus_destroy(&bus);
out_vm:
	vm_destroy(&vm);
	return 0;
}
