/* SPDX-License-Identifier: MIT */
/* vblk.c - test guest: a minimal virtio 1.x PCI driver writes and reads a sector. */
#include "lib.h"

int guest_main(void);

enum {
	VIRTIO_VENDOR = 0x1af4,
	VIRTIO_BLK_MODERN = 0x1042,
	CAP_COMMON = 1,
	CAP_NOTIFY = 2,
	CAP_DEVICE = 4,
	ST_ACK = 1, ST_DRIVER = 2, ST_DRIVER_OK = 4, ST_FEATURES_OK = 8,
	ST_FAILED = 0x80,
	DESC_NEXT = 1, DESC_WRITE = 2,
	QSIZE = 8,
	BLK_T_IN = 0, BLK_T_OUT = 1,
	POLL_MAX = 50000000,
};

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct blk_req {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct desc ring_desc[QSIZE] __attribute__((aligned(4096)));
static uint16_t ring_avail[3 + QSIZE] __attribute__((aligned(4096)));
static uint32_t ring_used[1 + 2 * QSIZE + 1] __attribute__((aligned(4096)));
static struct blk_req req;
static uint8_t sector_buf[512] __attribute__((aligned(512)));
static volatile uint8_t req_status;

static uint64_t common, notify_base, devcfg;
static uint32_t notify_mult;
static uint16_t avail_idx, used_seen;

static uint64_t bar_address(unsigned int slot, unsigned int bar)
{
	uint32_t lo = pci_cfg_read32(slot, 0x10 + 4 * bar);
	uint64_t a = lo & ~0xfu;

	if ((lo & 0x6) == 0x4)
		a |= (uint64_t)pci_cfg_read32(slot, 0x14 + 4 * bar) << 32;
	return a;
}

static int find_caps(unsigned int slot)
{
	unsigned int off = pci_cfg_read32(slot, 0x34) & 0xfc, n = 0;

	while (off && n++ < 48) {
		uint32_t h = pci_cfg_read32(slot, off);
		unsigned int type = (h >> 24) & 0xff;

		if ((h & 0xff) == 0x09) {
			uint32_t b = pci_cfg_read32(slot, off + 4) & 0xff;
			uint64_t addr = bar_address(slot, b) +
					pci_cfg_read32(slot, off + 8);

			if (type == CAP_COMMON)
				common = addr;
			else if (type == CAP_NOTIFY) {
				notify_base = addr;
				notify_mult = pci_cfg_read32(slot, off + 16);
			} else if (type == CAP_DEVICE)
				devcfg = addr;
		}
		off = (h >> 8) & 0xfc;
	}
	return common && notify_base && devcfg ? 0 : -1;
}

static int blk_rw(uint32_t type, uint64_t sector)
{
	uint16_t head = 0, notify_off;
	unsigned int n;

	req.type = type;
	req.reserved = 0;
	req.sector = sector;
	req_status = 0xff;
	ring_desc[0] = (struct desc){ (uintptr_t)&req, sizeof(req), DESC_NEXT,
				      1 };
	ring_desc[1] = (struct desc){ (uintptr_t)sector_buf, 512,
				      (uint16_t)(DESC_NEXT |
						 (type == BLK_T_IN ?
							  DESC_WRITE : 0)),
				      2 };
	ring_desc[2] = (struct desc){ (uintptr_t)&req_status, 1, DESC_WRITE,
				      0 };
	ring_avail[2 + avail_idx % QSIZE] = head;
	__asm__ volatile("mfence" ::: "memory");
	avail_idx++;
	MMIO(uint16_t, &ring_avail[1]) = avail_idx;
	__asm__ volatile("mfence" ::: "memory");
	MMIO(uint16_t, common + 0x16) = 0;
	notify_off = MMIO(uint16_t, common + 0x1e);
	MMIO(uint16_t, notify_base + (uint64_t)notify_off * notify_mult) = 0;
	for (n = 0; n < POLL_MAX; n++) {
		uint16_t used_idx = MMIO(uint16_t, (uint8_t *)ring_used + 2);

		if (used_idx != used_seen) {
			used_seen = used_idx;
			return req_status;
		}
	}
	return -1;
}

int guest_main(void)
{
	static const char msg[] = "written by the loom virtio-blk test guest";
	unsigned int slot, i;
	uint32_t id = 0;
	uint8_t st;
	int r;

	for (slot = 1; slot < 32; slot++) {
		id = pci_cfg_read32(slot, 0);
		if (id == (VIRTIO_VENDOR | (uint32_t)VIRTIO_BLK_MODERN << 16))
			break;
	}
	if (slot == 32) {
		puts_s("vblk: no virtio-blk device\n");
		return 2;
	}
	/* Memory decoding and bus mastering on. */
	pci_cfg_write32(slot, 0x04, pci_cfg_read32(slot, 0x04) | 0x6);
	if (find_caps(slot)) {
		puts_s("vblk: virtio capabilities missing\n");
		return 3;
	}
	MMIO(uint8_t, common + 0x14) = 0;
	MMIO(uint8_t, common + 0x14) = ST_ACK;
	MMIO(uint8_t, common + 0x14) = ST_ACK | ST_DRIVER;
	MMIO(uint32_t, common + 0x00) = 1;
	if (!(MMIO(uint32_t, common + 0x04) & 1)) {
		puts_s("vblk: no VIRTIO_F_VERSION_1\n");
		return 4;
	}
	MMIO(uint32_t, common + 0x08) = 0;
	MMIO(uint32_t, common + 0x0c) = 0;
	MMIO(uint32_t, common + 0x08) = 1;
	MMIO(uint32_t, common + 0x0c) = 1;	/* VERSION_1 only */
	MMIO(uint8_t, common + 0x14) = ST_ACK | ST_DRIVER | ST_FEATURES_OK;
	st = MMIO(uint8_t, common + 0x14);
	if (!(st & ST_FEATURES_OK)) {
		puts_s("vblk: FEATURES_OK refused\n");
		return 5;
	}
	MMIO(uint16_t, common + 0x16) = 0;
	if (MMIO(uint16_t, common + 0x18) < QSIZE) {
		puts_s("vblk: queue too small\n");
		return 6;
	}
	MMIO(uint16_t, common + 0x18) = QSIZE;
	MMIO(uint16_t, common + 0x1a) = 0xffff;	/* no MSI-X: we poll */
	MMIO(uint64_t, common + 0x20) = (uintptr_t)ring_desc;
	MMIO(uint64_t, common + 0x28) = (uintptr_t)ring_avail;
	MMIO(uint64_t, common + 0x30) = (uintptr_t)ring_used;
	MMIO(uint16_t, common + 0x1c) = 1;
	MMIO(uint8_t, common + 0x14) =
		ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK;
	puts_s("vblk: capacity ");
	put_hex(MMIO(uint64_t, devcfg), 8);
	puts_s(" sectors\n");

	/* Sector 0 was written by the test script. */
	r = blk_rw(BLK_T_IN, 0);
	if (r) {
		puts_s("vblk: read sector 0 failed\n");
		return 7;
	}
	puts_s("vblk: sector0: ");
	for (i = 0; i < 32 && sector_buf[i] >= 0x20 && sector_buf[i] < 0x7f;
	     i++)
		serial_putc((char)sector_buf[i]);
	serial_putc('\n');

	for (i = 0; i < 512; i++)
		sector_buf[i] = i < sizeof(msg) ? (uint8_t)msg[i] : (uint8_t)i;
	r = blk_rw(BLK_T_OUT, 1);
	if (r) {
		puts_s("vblk: write sector 1 failed\n");
		return 8;
	}
	for (i = 0; i < 512; i++)
		sector_buf[i] = 0;
	r = blk_rw(BLK_T_IN, 1);
	if (r) {
		puts_s("vblk: read back failed\n");
		return 9;
	}
	for (i = 0; i < 512; i++) {
		uint8_t want = i < sizeof(msg) ? (uint8_t)msg[i] : (uint8_t)i;

		if (sector_buf[i] != want) {
			puts_s("vblk: read back differs\n");
			return 10;
		}
	}
	/* A request past the end must fail cleanly. */
	r = blk_rw(BLK_T_IN, 0xffffffffffull);
	puts_s(r > 0 ? "vblk: out-of-range read refused\n" :
		       "vblk: out-of-range read NOT refused\n");
	puts_s("vblk: ok\n");
	return r > 0 ? 0 : 11;
}
