/* SPDX-License-Identifier: MIT */
/* test_virtio_blk.c - virtio-blk over virtio-pci, driven through PCI config and BAR MMIO like a guest driver (no KVM). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/pci.h"
#include "vmm/vm.h"
#include "vmm/virtio/blk.h"
#include "vmm/virtio/pci.h"

/*
 * The test is the guest: it finds the device by scanning PCI config space
 * through mechanism #1, follows the vendor capabilities to the registers in
 * the BAR, negotiates features, sets up a queue in guest RAM, and issues
 * requests through the notify doorbell, all by MMIO through the VM's
 * dispatch table, exactly the path a vCPU exit takes. Without KVM the
 * device processes requests inline in the notifying thread.
 */
enum {
	RAM_SIZE = 16 << 20,
	DISK_SECTORS = 2048,		/* 1 MiB image */
	QSZ = 16,
	DESC_GPA = 0x100000,
	AVAIL_GPA = 0x101000,
	USED_GPA = 0x102000,
	HDR_GPA = 0x180000,
	STATUS_GPA = 0x180100,
	DATA_GPA = 0x200000,
	DATA2_GPA = 0x400000,
};

struct tdrv {
	struct vm vm;
	struct pci_bus bus;
	char path[64];
	unsigned int slot;
	uint64_t bar;
	uint32_t common, isr, devcfg, notify, notify_mult;
	unsigned int pcicfg;	/* config offset of the PCI_CFG capability */
	uint16_t avail_idx;
	uint16_t used_seen;
	uint64_t features;
	bool threaded;	/* requests complete in the device's I/O thread */
};

static uint32_t cf8(struct tdrv *t, unsigned int off)
{
	return 0x80000000u | t->slot << 11 | (off & 0xfc);
}

static uint32_t cfg_rd(struct tdrv *t, unsigned int off, unsigned int len)
{
	uint8_t b[4] = { 0 };
	uint32_t v = 0;
	unsigned int i;

	pci_bus_cfg_access(&t->bus, cf8(t, off), off & 3, b, len, false);
	for (i = 0; i < len; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static void cfg_wr(struct tdrv *t, unsigned int off, uint32_t v,
		   unsigned int len)
{
	uint8_t b[4];
	unsigned int i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	pci_bus_cfg_access(&t->bus, cf8(t, off), off & 3, b, len, true);
}

static uint64_t mmio_rd(struct tdrv *t, uint64_t off, unsigned int len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	unsigned int i;

	vm_io_dispatch(&t->vm, VM_IO_MMIO, t->bar + off, b, len, false);
	for (i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void mmio_wr(struct tdrv *t, uint64_t off, uint64_t v,
		    unsigned int len)
{
	uint8_t b[8];
	unsigned int i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	vm_io_dispatch(&t->vm, VM_IO_MMIO, t->bar + off, b, len, true);
}

static uint8_t *gpa(struct tdrv *t, uint64_t addr, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(&t->vm.mem, addr, len);

	assert_non_null(p);
	return p;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t status(struct tdrv *t)
{
	return (uint8_t)mmio_rd(t, t->common + VIRTIO_PCI_COMMON_STATUS, 1);
}

static void set_status(struct tdrv *t, uint8_t s)
{
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_STATUS, s, 1);
}

/* PCI discovery: find the device and walk its virtio capabilities. */
static void discover(struct tdrv *t)
{
	unsigned int off, seen = 0;

	for (t->slot = 1; t->slot < PCI_MAX_DEVS; t->slot++)
		if (cfg_rd(t, 0, 2) == VIRTIO_PCI_VENDOR)
			break;
	assert_int_equal(cfg_rd(t, 0, 2), 0x1af4);
	assert_int_equal(cfg_rd(t, 2, 2), 0x1042);
	assert_true(cfg_rd(t, PCI_CFG_REVISION, 1) >= 1);
	assert_int_equal(cfg_rd(t, PCI_CFG_SUBSYS_ID, 2), VIRTIO_ID_BLOCK);
	assert_true(cfg_rd(t, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (off = cfg_rd(t, PCI_CFG_CAP_PTR, 1); off; off = cfg_rd(t, off + 1, 1)) {
		unsigned int type, bar;
		uint32_t where;

		if (cfg_rd(t, off, 1) != PCI_CAP_ID_VNDR)
			continue;
		type = cfg_rd(t, off + 3, 1);
		bar = cfg_rd(t, off + 4, 1);
		where = cfg_rd(t, off + 8, 4);
		assert_int_equal(bar, VIRTIO_PCI_BAR);
		seen |= 1u << type;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			t->common = where;
			assert_true(cfg_rd(t, off + 12, 4) >= 56);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			t->notify = where;
			assert_true(cfg_rd(t, off + 2, 1) >= 20);
			t->notify_mult = cfg_rd(t, off + 16, 4);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			t->isr = where;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			t->devcfg = where;
			assert_true(cfg_rd(t, off + 12, 4) >= 20);
			break;
		case VIRTIO_PCI_CAP_PCI_CFG:
			t->pcicfg = off;
			assert_int_equal(cfg_rd(t, off + 2, 1), 20);
			break;
		}
	}
	assert_int_equal(seen & 0x3e, 0x3e);
	/* 64-bit memory BAR: type bits 10b. */
	assert_int_equal(cfg_rd(t, PCI_CFG_BAR0, 4) & 0x6, 0x4);
	t->bar = (cfg_rd(t, PCI_CFG_BAR0, 4) & ~0xfull) |
		 (uint64_t)cfg_rd(t, PCI_CFG_BAR0 + 4, 4) << 32;
	assert_true(t->bar >= VM_PCI_MMIO_BASE);
	cfg_wr(t, PCI_CFG_COMMAND, PCI_CMD_MEMORY | PCI_CMD_MASTER, 2);
}

/* Driver init (virtio 1.2, 3.1.1) up to DRIVER_OK; returns the status. */
static uint8_t drv_init(struct tdrv *t, uint64_t want, uint16_t qsize)
{
	uint64_t offered;

	set_status(t, 0);
	assert_int_equal(status(t), 0);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	offered = mmio_rd(t, t->common + VIRTIO_PCI_COMMON_DF, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	offered |= mmio_rd(t, t->common + VIRTIO_PCI_COMMON_DF, 4) << 32;
	t->features = offered;
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GF, (uint32_t)want, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GF, want >> 32, 4);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK);
	if (!(status(t) & VIRTIO_STATUS_FEATURES_OK))
		return status(t);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_Q_SIZE, 2),
			 VIRTIO_BLK_QUEUE_SIZE);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_SIZE, qsize, 2);
	memset(gpa(t, DESC_GPA, 0x3000), 0, 0x3000);
	t->avail_idx = t->used_seen = 0;
	/* Addresses as two 32-bit halves, like Linux's vp_iowrite64_twopart. */
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_DESCLO, DESC_GPA, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL_GPA, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_AVAILHI, 0, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_USEDLO, USED_GPA, 8);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK |
			      VIRTIO_STATUS_DRIVER_OK);
	return status(t);
}

static const uint64_t base_features =
	(1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH) |
	(1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_SIZE_MAX) |
	(1ull << VIRTIO_BLK_F_BLK_SIZE);

static const uint8_t running = VIRTIO_STATUS_ACKNOWLEDGE |
			       VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK |
			       VIRTIO_STATUS_DRIVER_OK;

static void desc(struct tdrv *t, unsigned int i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	uint8_t *p = gpa(t, DESC_GPA + 16 * i, 16);

	put_le(p, addr, 8);
	put_le(p + 8, len, 4);
	put_le(p + 12, flags, 2);
	put_le(p + 14, next, 2);
}

static void kick(struct tdrv *t, uint16_t head)
{
	put_le(gpa(t, AVAIL_GPA + 4 + 2 * (t->avail_idx % QSZ), 2), head, 2);
	t->avail_idx++;
	put_le(gpa(t, AVAIL_GPA + 2, 2), t->avail_idx, 2);
	mmio_wr(t, t->notify + 0 * t->notify_mult, 0, 2);
}

/*
 * One request: header, optional data (device-readable for OUT, writable
 * otherwise), status. Returns the status byte, or -1 if the device did not
 * complete it. *used_len gets the used element's length.
 */
static int request(struct tdrv *t, uint32_t type, uint64_t sector,
		   uint64_t data, uint32_t len, uint32_t *used_len)
{
	uint8_t *h = gpa(t, HDR_GPA, 16);
	uint16_t used, flags;
	unsigned int i;
	uint8_t *el;

	put_le(h, type, 4);
	put_le(h + 4, 0, 4);
	put_le(h + 8, sector, 8);
	*gpa(t, STATUS_GPA, 1) = 0xee;
	desc(t, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, len ? 1 : 2);
	flags = VIRTQ_DESC_F_NEXT |
		(type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE);
	if (len)
		desc(t, 1, data, len, flags, 2);
	desc(t, 2, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(t, 0);
	used = (uint16_t)get_le(gpa(t, USED_GPA + 2, 2), 2);
	for (i = 0; t->threaded && used == t->used_seen && i < 50000; i++) {
		usleep(100);
		used = __atomic_load_n((uint16_t *)(void *)gpa(t, USED_GPA + 2, 2),
				       __ATOMIC_ACQUIRE);
	}
	if (used == t->used_seen)
		return -1;
	assert_int_equal(used, (uint16_t)(t->used_seen + 1));
	el = gpa(t, USED_GPA + 4 + 8 * (t->used_seen % QSZ), 8);
	t->used_seen++;
	assert_int_equal(get_le(el, 4), 0);
	if (used_len)
		*used_len = (uint32_t)get_le(el + 4, 4);
	return *gpa(t, STATUS_GPA, 1);
}

static int setup_dev(void **state, bool ro)
{
	struct tdrv *t = calloc(1, sizeof(*t));
	uint8_t sector[512];
	int fd, i;

	assert_non_null(t);
	log_max_level = LOG_ERR;
	assert_int_equal(vm_init_nokvm(&t->vm, RAM_SIZE), 0);
	assert_int_equal(pci_bus_init(&t->bus, &t->vm), 0);
	t->vm.pci = &t->bus;
	snprintf(t->path, sizeof(t->path), "/tmp/loom-vblk-XXXXXX");
	fd = mkstemp(t->path);
	assert_true(fd >= 0);
	/* Sector n starts with "sector n". */
	for (i = 0; i < DISK_SECTORS; i++) {
		memset(sector, 0, sizeof(sector));
		snprintf((char *)sector, sizeof(sector), "sector %d", i);
		assert_int_equal(pwrite(fd, sector, 512, 512 * (off_t)i), 512);
	}
	close(fd);
	assert_int_equal(virtio_blk_create(&t->vm, t->path, ro), 0);
	discover(t);
	*state = t;
	return 0;
}

static int setup_rw(void **state)
{
	return setup_dev(state, false);
}

static int setup_ro(void **state)
{
	return setup_dev(state, true);
}

static int teardown(void **state)
{
	struct tdrv *t = *state;

	pci_bus_destroy(&t->bus);
	vm_destroy(&t->vm);
	unlink(t->path);
	free(t);
	return 0;
}

static void test_config_space(void **state)
{
	struct tdrv *t = *state;

	drv_init(t, base_features, QSZ);
	assert_int_equal(mmio_rd(t, t->devcfg + 0, 8), DISK_SECTORS);
	/* Same through two 32-bit reads. */
	assert_int_equal(mmio_rd(t, t->devcfg + 0, 4), DISK_SECTORS);
	assert_int_equal(mmio_rd(t, t->devcfg + 4, 4), 0);
	assert_int_equal(mmio_rd(t, t->devcfg + 8, 4), VIRTIO_BLK_SIZE_MAX);
	assert_int_equal(mmio_rd(t, t->devcfg + 12, 4), VIRTIO_BLK_SEG_MAX);
	assert_int_equal(mmio_rd(t, t->devcfg + 20, 4), 512);
	assert_true(t->features & (1ull << VIRTIO_F_VERSION_1));
	assert_true(t->features & (1ull << VIRTIO_BLK_F_FLUSH));
	assert_false(t->features & (1ull << VIRTIO_BLK_F_RO));
	assert_int_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_NUMQ, 2),
			 1);
	/* Queue 1 does not exist: size 0. */
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	assert_int_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_Q_SIZE, 2),
			 0);
}

static void test_write_then_read(void **state)
{
	struct tdrv *t = *state;
	uint8_t *w = gpa(t, DATA_GPA, 4096), *r = gpa(t, DATA2_GPA, 4096);
	uint8_t file[4096];
	uint32_t ulen;
	int fd, i;

	assert_int_equal(drv_init(t, base_features, QSZ), running);
	for (i = 0; i < 4096; i++)
		w[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(request(t, VIRTIO_BLK_T_OUT, 100, DATA_GPA, 4096,
				 &ulen),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(ulen, 1);
	/* It is on the file. */
	fd = open(t->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, file, 4096, 100 * 512), 4096);
	close(fd);
	assert_memory_equal(file, w, 4096);
	/* And reads back through the queue. */
	memset(r, 0, 4096);
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, 100, DATA2_GPA, 4096,
				 &ulen),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(ulen, 4096 + 1);
	assert_memory_equal(r, w, 4096);
	/* An untouched sector still has its original content. */
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, 2047, DATA2_GPA, 512,
				 NULL),
			 VIRTIO_BLK_S_OK);
	assert_string_equal((char *)r, "sector 2047");
}

static void test_out_of_range(void **state)
{
	struct tdrv *t = *state;

	assert_int_equal(drv_init(t, base_features, QSZ), running);
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, DISK_SECTORS, DATA_GPA,
				 512, NULL),
			 VIRTIO_BLK_S_IOERR);
	/* Starts inside, ends outside. */
	assert_int_equal(request(t, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1,
				 DATA_GPA, 1024, NULL),
			 VIRTIO_BLK_S_IOERR);
	/* sector * 512 would wrap. */
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, UINT64_MAX / 256,
				 DATA_GPA, 512, NULL),
			 VIRTIO_BLK_S_IOERR);
	/* Not a whole number of sectors. */
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, 0, DATA_GPA, 100, NULL),
			 VIRTIO_BLK_S_IOERR);
	/* A segment above size_max. */
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, 0, DATA_GPA,
				 VIRTIO_BLK_SIZE_MAX + 512, NULL),
			 VIRTIO_BLK_S_IOERR);
	/* The last sector is fine; the device is still running. */
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, DISK_SECTORS - 1,
				 DATA_GPA, 512, NULL),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(status(t), running);
}

static void test_flush_get_id_unsupp(void **state)
{
	struct tdrv *t = *state;
	const char *base = strrchr(t->path, '/') + 1;
	uint32_t ulen;
	char id[21] = { 0 };

	assert_int_equal(drv_init(t, base_features, QSZ), running);
	assert_int_equal(request(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &ulen),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(ulen, 1);
	memset(gpa(t, DATA_GPA, 20), 0, 20);
	assert_int_equal(request(t, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 20,
				 &ulen),
			 VIRTIO_BLK_S_OK);
	memcpy(id, gpa(t, DATA_GPA, 20), 20);
	assert_string_equal(id, base);
	assert_int_equal(ulen, 21);
	assert_int_equal(request(t, 0x1234, 0, DATA_GPA, 512, NULL),
			 VIRTIO_BLK_S_UNSUPP);
}

static void test_read_only(void **state)
{
	struct tdrv *t = *state;

	assert_int_equal(drv_init(t, base_features |
					     (1ull << VIRTIO_BLK_F_RO),
				  QSZ),
			 running);
	assert_true(t->features & (1ull << VIRTIO_BLK_F_RO));
	assert_int_equal(request(t, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, 5, DATA_GPA, 512, NULL),
			 VIRTIO_BLK_S_OK);
	assert_string_equal((char *)gpa(t, DATA_GPA, 16), "sector 5");
}

/* Access the BAR through the VIRTIO_PCI_CAP_PCI_CFG window. */
static uint32_t win_rd(struct tdrv *t, uint32_t bar_off, unsigned int len)
{
	cfg_wr(t, t->pcicfg + 4, VIRTIO_PCI_BAR, 1);
	cfg_wr(t, t->pcicfg + 8, bar_off, 4);
	cfg_wr(t, t->pcicfg + 12, len, 4);
	return cfg_rd(t, t->pcicfg + 16, 4);
}

static void win_wr(struct tdrv *t, uint32_t bar_off, uint32_t v,
		   unsigned int len)
{
	cfg_wr(t, t->pcicfg + 4, VIRTIO_PCI_BAR, 1);
	cfg_wr(t, t->pcicfg + 8, bar_off, 4);
	cfg_wr(t, t->pcicfg + 12, len, 4);
	cfg_wr(t, t->pcicfg + 16, v, len);
}

static void test_pci_cfg_window(void **state)
{
	struct tdrv *t = *state;

	assert_int_equal(drv_init(t, base_features, QSZ), running);
	assert_int_equal(win_rd(t, t->devcfg, 4), DISK_SECTORS);
	assert_int_equal(win_rd(t, t->common + VIRTIO_PCI_COMMON_STATUS, 1),
			 running);
	win_wr(t, t->common + VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	assert_int_equal(win_rd(t, t->common + VIRTIO_PCI_COMMON_DF, 4),
			 1 << (VIRTIO_F_VERSION_1 - 32));
	/* Misaligned or oversized windows do nothing. */
	assert_int_equal(win_rd(t, t->devcfg + 1, 4), 0);
	cfg_wr(t, t->pcicfg + 12, 8, 4);
	assert_int_equal(cfg_rd(t, t->pcicfg + 16, 4), 0);
	/* A reset through the window. */
	win_wr(t, t->common + VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(status(t), 0);
}

static void test_intx_isr(void **state)
{
	struct tdrv *t = *state;

	assert_int_equal(drv_init(t, base_features, QSZ), running);
	assert_int_equal(mmio_rd(t, t->isr, 1), 0);
	assert_int_equal(request(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL), 0);
	/* MSI-X is off: the queue interrupt shows in the ISR, read clears. */
	assert_true(cfg_rd(t, PCI_CFG_STATUS, 2) & PCI_STATUS_INTX);
	assert_int_equal(mmio_rd(t, t->isr, 1), 1);
	assert_int_equal(mmio_rd(t, t->isr, 1), 0);
	assert_false(cfg_rd(t, PCI_CFG_STATUS, 2) & PCI_STATUS_INTX);
}

static void test_msix_vectors(void **state)
{
	struct tdrv *t = *state;

	drv_init(t, base_features, QSZ);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_MSIX, 0, 2);
	assert_int_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_MSIX, 2), 0);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	assert_int_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_Q_MSIX, 2),
			 1);
	/* A vector the function does not have reads back as NO_VECTOR. */
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_MSIX, 40, 2);
	assert_int_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_Q_MSIX, 2),
			 VIRTIO_MSI_NO_VECTOR);
}

static void test_feature_negotiation(void **state)
{
	struct tdrv *t = *state;
	uint8_t st;

	/* A bit the device did not offer: FEATURES_OK does not stick. */
	st = drv_init(t, base_features | (1ull << 40), QSZ);
	assert_false(st & VIRTIO_STATUS_FEATURES_OK);
	/* No VERSION_1 (a legacy driver): refused too. */
	st = drv_init(t, base_features & ~(1ull << VIRTIO_F_VERSION_1), QSZ);
	assert_false(st & VIRTIO_STATUS_FEATURES_OK);
	/* A subset is fine, and indirect + event idx work end to end. */
	assert_int_equal(drv_init(t, (1ull << VIRTIO_F_VERSION_1) |
					     (1ull << VIRTIO_F_EVENT_IDX) |
					     (1ull << VIRTIO_F_INDIRECT_DESC),
				  QSZ),
			 running);
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, 3, DATA_GPA, 512, NULL),
			 VIRTIO_BLK_S_OK);
	/* Features cannot change after FEATURES_OK. */
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GF, 0, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	assert_int_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_GF, 4), 1);
}

static void test_indirect_request(void **state)
{
	struct tdrv *t = *state;
	uint8_t *tab = gpa(t, 0x190000, 48), *h = gpa(t, HDR_GPA, 16);

	assert_int_equal(drv_init(t, base_features |
					     (1ull << VIRTIO_F_INDIRECT_DESC),
				  QSZ),
			 running);
	put_le(h, VIRTIO_BLK_T_IN, 4);
	put_le(h + 8, 9, 8);
	put_le(tab, HDR_GPA, 8);
	put_le(tab + 8, 16, 4);
	put_le(tab + 12, VIRTQ_DESC_F_NEXT, 2);
	put_le(tab + 14, 1, 2);
	put_le(tab + 16, DATA_GPA, 8);
	put_le(tab + 24, 512, 4);
	put_le(tab + 28, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	put_le(tab + 30, 2, 2);
	put_le(tab + 32, STATUS_GPA, 8);
	put_le(tab + 40, 1, 4);
	put_le(tab + 44, VIRTQ_DESC_F_WRITE, 2);
	desc(t, 0, 0x190000, 48, VIRTQ_DESC_F_INDIRECT, 0);
	*gpa(t, STATUS_GPA, 1) = 0xee;
	kick(t, 0);
	assert_int_equal(get_le(gpa(t, USED_GPA + 2, 2), 2), 1);
	assert_int_equal(*gpa(t, STATUS_GPA, 1), VIRTIO_BLK_S_OK);
	assert_string_equal((char *)gpa(t, DATA_GPA, 16), "sector 9");
}

/* The device is in the error state and the VMM is fine; reset recovers. */
static void assert_needs_reset_then_recover(struct tdrv *t)
{
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(drv_init(t, base_features, QSZ), running);
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, 1, DATA_GPA, 512, NULL),
			 VIRTIO_BLK_S_OK);
	assert_string_equal((char *)gpa(t, DATA_GPA, 16), "sector 1");
}

static void test_queue_loop_needs_reset(void **state)
{
	struct tdrv *t = *state;

	assert_int_equal(drv_init(t, base_features, QSZ), running);
	mmio_rd(t, t->isr, 1);
	desc(t, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(t, 1, DATA_GPA, 512, VIRTQ_DESC_F_NEXT, 0);
	kick(t, 0);
	assert_int_equal(get_le(gpa(t, USED_GPA + 2, 2), 2), 0);
	/* Config change interrupt (ISR bit 1) tells the driver. */
	assert_int_equal(mmio_rd(t, t->isr, 1) & 2, 2);
	/* Further kicks do nothing. */
	kick(t, 0);
	assert_int_equal(get_le(gpa(t, USED_GPA + 2, 2), 2), 0);
	assert_needs_reset_then_recover(t);
}

static void test_missing_status_needs_reset(void **state)
{
	struct tdrv *t = *state;

	assert_int_equal(drv_init(t, base_features, QSZ), running);
	/* Header only: nowhere to put a status byte. */
	desc(t, 0, HDR_GPA, 16, 0, 0);
	kick(t, 0);
	assert_needs_reset_then_recover(t);
}

static void test_ring_outside_ram_needs_reset(void **state)
{
	struct tdrv *t = *state;

	set_status(t, 0);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GF, 0, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_GF, 1, 4);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK);
	assert_true(status(t) & VIRTIO_STATUS_FEATURES_OK);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_DESCLO, RAM_SIZE - 64, 8);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL_GPA, 8);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_USEDLO, USED_GPA, 8);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_Q_ENABLE, 2),
			 0);
	assert_needs_reset_then_recover(t);
}

static void test_bad_queue_size_needs_reset(void **state)
{
	struct tdrv *t = *state;

	drv_init(t, base_features, 12);
	assert_needs_reset_then_recover(t);
}

static void test_status_rules(void **state)
{
	struct tdrv *t = *state;

	/* DRIVER_OK without FEATURES_OK. */
	set_status(t, 0);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_DRIVER_OK);
	assert_needs_reset_then_recover(t);
	/* Clearing a status bit other than by writing 0. */
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_needs_reset_then_recover(t);
	/* The driver cannot clear NEEDS_RESET itself. */
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(t, running);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_queue_fields_locked_when_enabled(void **state)
{
	struct tdrv *t = *state;

	assert_int_equal(drv_init(t, base_features, QSZ), running);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_DESCLO, 0x5000, 8);
	mmio_wr(t, t->common + VIRTIO_PCI_COMMON_Q_SIZE, 2, 2);
	assert_int_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_Q_DESCLO, 8),
			 DESC_GPA);
	assert_int_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_Q_SIZE, 2),
			 QSZ);
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, NULL),
			 VIRTIO_BLK_S_OK);
}

static void test_garbage_writes(void **state)
{
	struct tdrv *t = *state;
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned int i;

	assert_int_equal(drv_init(t, base_features, QSZ), running);
	/* Random writes all over the BAR and the config space. */
	for (i = 0; i < 20000; i++) {
		uint64_t off, val;
		unsigned int len;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		len = sizes[(seed >> 20) & 3];
		off = (seed >> 33) % 0x3100;
		val = seed * 0xff51afd7ed558ccdull;
		/* Never the status register: we want to see the damage. */
		if (off <= VIRTIO_PCI_COMMON_STATUS &&
		    off + len > VIRTIO_PCI_COMMON_STATUS)
			continue;
		mmio_wr(t, off & ~(uint64_t)(len - 1), val, len);
		mmio_rd(t, (seed >> 7) % 0x3100, len);
	}
	for (i = 0; i < 2000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		/* Not the BAR or command: keep the device reachable. */
		if (((seed >> 40) & 0xff) < 0x40)
			continue;
		cfg_wr(t, (seed >> 40) & 0xfc, (uint32_t)seed, 4);
	}
	/* Still answering, and a reset brings it back to work. */
	assert_int_equal(cfg_rd(t, 0, 2), 0x1af4);
	assert_int_equal(drv_init(t, base_features, QSZ), running);
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, 7, DATA_GPA, 512, NULL),
			 VIRTIO_BLK_S_OK);
	assert_string_equal((char *)gpa(t, DATA_GPA, 16), "sector 7");
}

static void test_many_requests_wrap(void **state)
{
	struct tdrv *t = *state;
	unsigned int i;
	char want[16];

	assert_int_equal(drv_init(t, base_features | (1ull << VIRTIO_F_EVENT_IDX),
				  QSZ),
			 running);
	for (i = 0; i < 5 * QSZ; i++) {
		assert_int_equal(request(t, VIRTIO_BLK_T_IN, i, DATA_GPA, 512,
					 NULL),
				 VIRTIO_BLK_S_OK);
		snprintf(want, sizeof(want), "sector %u", i);
		assert_string_equal((char *)gpa(t, DATA_GPA, 16), want);
	}
}

static void test_io_thread(void **state)
{
	struct tdrv *t = *state;
	struct virtio_pci *vp = t->bus.devs[t->slot]->priv;
	uint8_t *w = gpa(t, DATA_GPA, 1024), *r = gpa(t, DATA2_GPA, 1024);
	unsigned int i;

	/* What virtio_blk_create() does under KVM: an I/O thread woken by the
	 * kick eventfd (the MMIO trap path writes it here). */
	assert_int_equal(virtio_blk_start(vp->vdev->priv), 0);
	t->threaded = true;
	assert_int_equal(drv_init(t, base_features, QSZ), running);
	for (i = 0; i < 3 * QSZ; i++) {
		memset(w, (int)i, 1024);
		assert_int_equal(request(t, VIRTIO_BLK_T_OUT, 2 * i, DATA_GPA,
					 1024, NULL),
				 VIRTIO_BLK_S_OK);
		memset(r, 0xff, 1024);
		assert_int_equal(request(t, VIRTIO_BLK_T_IN, 2 * i, DATA2_GPA,
					 1024, NULL),
				 VIRTIO_BLK_S_OK);
		assert_memory_equal(r, w, 1024);
	}
	/* A reset from the "vCPU" while the thread is idle, then more I/O. */
	assert_int_equal(drv_init(t, base_features, QSZ), running);
	assert_int_equal(request(t, VIRTIO_BLK_T_IN, 0, DATA2_GPA, 512, NULL),
			 VIRTIO_BLK_S_OK);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_rw, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_space),
		T(test_write_then_read),
		T(test_out_of_range),
		T(test_flush_get_id_unsupp),
		cmocka_unit_test_setup_teardown(test_read_only, setup_ro,
						teardown),
		T(test_pci_cfg_window),
		T(test_intx_isr),
		T(test_msix_vectors),
		T(test_feature_negotiation),
		T(test_indirect_request),
		T(test_queue_loop_needs_reset),
		T(test_missing_status_needs_reset),
		T(test_ring_outside_ram_needs_reset),
		T(test_bad_queue_size_needs_reset),
		T(test_status_rules),
		T(test_queue_fields_locked_when_enabled),
		T(test_garbage_writes),
		T(test_many_requests_wrap),
		T(test_io_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
