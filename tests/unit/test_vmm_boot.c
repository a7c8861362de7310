/* SPDX-License-Identifier: MIT */
/* test_vmm_boot.c - bzImage and vmlinux (ELF) checks, the kernel cache, boot_params, e820, MP tables, guest RAM backing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <lzma.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "vmm/boot.h"
#include "vmm/control.h"
#include "vmm/guest_mem.h"
#include "vmm/kernel_cache.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

enum { RAM = 64u << 20, KSIZE = 64 * 1024 };

static struct guest_mem gm;
static uint8_t *ram;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(guest_mem_init(&gm, RAM, GUEST_MEM_X86_LOW_LIMIT), 0);
	ram = guest_mem_ptr(&gm, 0, RAM);
	assert_non_null(ram);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	guest_mem_destroy(&gm);
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* A synthetic bzImage: valid header, 4 setup sectors, small payload. */
static uint8_t *fake_kernel(void)
{
	uint8_t *k = calloc(1, KSIZE);

	assert_non_null(k);
	k[0x1f1] = 4;
	put16(k + 0x1fe, 0xaa55);
	k[0x201] = 0x66;		/* jump: header ends at 0x268 */
	memcpy(k + 0x202, "HdrS", 4);
	put16(k + 0x206, 0x020f);
	k[0x211] = 0x01;		/* LOADED_HIGH */
	put32(k + 0x22c, 0x7fffffff);	/* initrd_addr_max */
	put32(k + 0x230, 0x200000);
	k[0x234] = 1;
	put16(k + 0x236, 0x3);		/* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	put32(k + 0x238, 2047);		/* cmdline_size */
	put32(k + 0x260, 8u << 20);	/* init_size */
	put32(k + 0x1f4, (KSIZE - 5 * 512) / 16);	/* syssize */
	put32(k + 0x248, 0x100);	/* payload offset and length */
	put32(k + 0x24c, 0x1000);
	memset(k + 5 * 512, 0x90, KSIZE - 5 * 512);
	return k;
}

static int load(const uint8_t *k, size_t len, char *err)
{
	struct boot_info info;

	return boot_linux_load(&gm, k, len, NULL, 0, "console=ttyS0", &info,
			       err, 200);
}

static void test_good_kernel(void **state)
{
	static const uint8_t initrd[8192] = { 1, 2, 3 };
	uint8_t *k = fake_kernel(), *bp;
	struct boot_info info;
	char err[200] = "";
	unsigned int n, i;
	uint64_t total = 0;

	(void)state;
	assert_int_equal(boot_linux_load(&gm, k, KSIZE, initrd,
					 sizeof(initrd), "console=ttyS0 quiet",
					 &info, err, sizeof(err)),
			 0);
	assert_int_equal(info.entry, 0x100200);
	assert_int_equal(info.protocol, 0x020f);
	/* Payload at 1 MiB, initrd page aligned at the top of RAM. */
	assert_int_equal(ram[0x100000], 0x90);
	assert_int_equal(info.initrd_addr % 4096, 0);
	assert_true(info.initrd_addr + sizeof(initrd) <= RAM);
	assert_int_equal(ram[info.initrd_addr], 1);
	assert_string_equal((char *)ram + BOOT_CMDLINE_ADDR,
			    "console=ttyS0 quiet");
	bp = ram + BOOT_PARAMS_ADDR;
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(bp[0x210], 0xff);	/* type_of_loader */
	assert_int_equal(bp[0x228] | bp[0x229] << 8 | bp[0x22a] << 16,
			 BOOT_CMDLINE_ADDR);
	/* e820: low RAM, EBDA reserved, RAM from 1 MiB to the end. */
	n = bp[0x1e8];
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		uint64_t len;

		memcpy(&len, e + 8, 8);
		if (e[16] == 1)
			total += len;
	}
	assert_int_equal(total, BOOT_EBDA_START + (RAM - 0x100000));
	free(k);
}

static void test_bad_kernels(void **state)
{
	uint8_t *k = fake_kernel();
	char err[200];

	(void)state;
	/* Truncated at every interesting length: error, never a crash. */
	assert_int_equal(load(k, 0, err), -ENOEXEC);
	assert_int_equal(load(k, 0x200, err), -ENOEXEC);
	assert_non_null(strstr(err, "too short"));
	assert_int_equal(load(k, 0x263, err), -ENOEXEC);
	assert_int_equal(load(k, 5 * 512, err), -ENOEXEC);
	assert_non_null(strstr(err, "truncated"));

	k[0x203] = 'x';
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "HdrS"));
	k[0x203] = 'd';

	put16(k + 0x206, 0x020b);
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "2.11"));
	put16(k + 0x206, 0x020f);

	put16(k + 0x236, 0);
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "64-bit"));
	put16(k + 0x236, 1);

	k[0x1f1] = 200;	/* setup sectors past the end */
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	k[0x1f1] = 4;

	put32(k + 0x260, 0xfffffff0u);	/* absurd init_size */
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	put32(k + 0x260, 60u << 20);	/* does not fit in 64 MiB */
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "RAM"));
	put32(k + 0x260, 8u << 20);

	/* Cut off inside the payload. */
	assert_int_equal(load(k, KSIZE - 16, err), -ENOEXEC);
	assert_non_null(strstr(err, "shorter than its header"));
	put32(k + 0x24c, 0xfffffff0u);
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	put32(k + 0x24c, 0x1000);

	put16(k + 0x1fe, 0);
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	put16(k + 0x1fe, 0xaa55);
	assert_int_equal(load(k, KSIZE, err), 0);
	free(k);
}

static void test_cmdline_and_initrd_limits(void **state)
{
	uint8_t *k = fake_kernel();
	char *longcmd = malloc(4096);
	struct boot_info info;
	char err[200];

	(void)state;
	memset(longcmd, 'a', 4095);
	longcmd[4095] = '\0';
	assert_int_equal(boot_linux_load(&gm, k, KSIZE, NULL, 0, longcmd,
					 &info, err, sizeof(err)),
			 -ENOEXEC);
	assert_non_null(strstr(err, "command line"));
	/* An initrd bigger than RAM. */
	assert_int_equal(boot_linux_load(&gm, k, KSIZE, k, RAM + 1, "", &info,
					 err, sizeof(err)),
			 -ENOEXEC);
	free(longcmd);
	free(k);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

enum { ESIZE = 0x3000, ELF_TEXT = 0x1000000, ELF_DATA = 0x1200000 };

/*
 * A synthetic vmlinux: ELF64 header, a PT_NOTE, a text segment (0xcc)
 * entered at its start and a data segment with a zero-filled tail (bss).
 */
static uint8_t *fake_vmlinux(void)
{
	uint8_t *e = calloc(1, ESIZE), *ph;

	assert_non_null(e);
	memcpy(e, "\x7f" "ELF", 4);
	e[4] = 2;			/* ELFCLASS64 */
	e[5] = 1;			/* little endian */
	e[6] = 1;
	put16(e + 16, 2);		/* ET_EXEC */
	put16(e + 18, 62);		/* EM_X86_64 */
	put32(e + 20, 1);
	put64(e + 24, ELF_TEXT);	/* entry */
	put64(e + 32, 64);		/* phoff */
	put16(e + 52, 64);
	put16(e + 54, 56);
	put16(e + 56, 3);
	ph = e + 64;
	put32(ph, 4);			/* PT_NOTE: ignored */
	put64(ph + 8, 0x100);
	put64(ph + 32, 0x10);
	ph += 56;
	put32(ph, 1);			/* PT_LOAD text */
	put32(ph + 4, 5);
	put64(ph + 8, 0x1000);
	put64(ph + 16, 0xffffffff81000000ull);
	put64(ph + 24, ELF_TEXT);
	put64(ph + 32, 0x1000);
	put64(ph + 40, 0x1000);
	ph += 56;
	put32(ph, 1);			/* PT_LOAD data + bss */
	put32(ph + 4, 6);
	put64(ph + 8, 0x2000);
	put64(ph + 16, 0xffffffff81200000ull);
	put64(ph + 24, ELF_DATA);
	put64(ph + 32, 0x1000);
	put64(ph + 40, 0x3000);
	memset(e + 0x1000, 0xcc, 0x1000);
	memset(e + 0x2000, 0x5a, 0x1000);
	return e;
}

static int load_elf(const uint8_t *e, size_t len, char *err)
{
	struct boot_info info;

	return boot_elf_load(&gm, e, len, NULL, 0, "console=ttyS0", &info,
			     err, 200);
}

static void test_good_vmlinux(void **state)
{
	static const uint8_t initrd[8192] = { 7, 8, 9 };
	uint8_t *e = fake_vmlinux(), *bp;
	struct boot_info info;
	char err[200] = "";

	(void)state;
	assert_true(boot_is_elf(e, ESIZE));
	assert_false(boot_is_elf(e, 3));
	/* RAM was used by other tests: the bss must be zeroed by the load. */
	memset(ram + ELF_DATA, 0xee, 0x3000);
	assert_int_equal(boot_elf_load(&gm, e, ESIZE, initrd, sizeof(initrd),
				       "console=ttyS0 quiet", &info, err,
				       sizeof(err)),
			 0);
	assert_int_equal(info.entry, ELF_TEXT);
	assert_int_equal(info.kernel_end, ELF_DATA + 0x3000);
	assert_int_equal(ram[ELF_TEXT], 0xcc);
	assert_int_equal(ram[ELF_TEXT + 0xfff], 0xcc);
	assert_int_equal(ram[ELF_DATA], 0x5a);
	assert_int_equal(ram[ELF_DATA + 0xfff], 0x5a);
	assert_int_equal(ram[ELF_DATA + 0x1000], 0);
	assert_int_equal(ram[ELF_DATA + 0x2fff], 0);
	assert_int_equal(info.initrd_addr % 4096, 0);
	assert_true(info.initrd_addr >= info.kernel_end);
	assert_true(info.initrd_addr + sizeof(initrd) <= RAM);
	assert_int_equal(ram[info.initrd_addr], 7);
	assert_string_equal((char *)ram + BOOT_CMDLINE_ADDR,
			    "console=ttyS0 quiet");
	/* The setup header a booted kernel reads. */
	bp = ram + BOOT_PARAMS_ADDR;
	assert_int_equal(bp[0x1fe] | bp[0x1ff] << 8, 0xaa55);
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(bp[0x210], 0xff);
	assert_int_equal(bp[0x211] & 1, 1);
	assert_int_equal(bp[0x228] | bp[0x229] << 8 | bp[0x22a] << 16,
			 BOOT_CMDLINE_ADDR);
	assert_int_equal((uint32_t)(bp[0x218] | bp[0x219] << 8 |
				    bp[0x21a] << 16 | bp[0x21b] << 24),
			 info.initrd_addr);
	assert_int_equal(bp[0x21c] | bp[0x21d] << 8, sizeof(initrd));
	assert_int_equal(bp[0x1e8], 3);		/* e820 entries */
	free(e);
}

static void test_bad_vmlinux(void **state)
{
	uint8_t *e = fake_vmlinux(), *text = e + 64 + 56;
	char err[200];
	char *longcmd = malloc(BOOT_ELF_CMDLINE_MAX + 1);
	struct boot_info info;
	size_t n;

	(void)state;
	/* Truncated anywhere in the headers or segments: an error. */
	for (n = 0; n < 0x2000; n += n < 0x200 ? 1 : 0x100)
		assert_int_equal(load_elf(e, n, err), -ENOEXEC);
	assert_int_equal(load_elf(e, 0x2800, err), -ENOEXEC);
	assert_non_null(strstr(err, "truncated"));

	e[4] = 1;			/* 32-bit */
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "64-bit"));
	e[4] = 2;
	put16(e + 18, 3);		/* i386 */
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "x86-64"));
	put16(e + 18, 62);
	put16(e + 16, 3);		/* ET_DYN */
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	put16(e + 16, 2);

	put16(e + 56, 0);		/* no program headers */
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	put16(e + 56, BOOT_ELF_MAX_PHDRS + 1);
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	put16(e + 56, 3);
	put16(e + 54, 64);		/* odd phentsize */
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	put16(e + 54, 56);
	put64(e + 32, ~0ull - 8);	/* phoff wraps */
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	put64(e + 32, 64);

	put64(text + 8, ~0ull - 0x10);	/* segment offset wraps */
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	put64(text + 8, 0x1000);
	put64(text + 32, 0x2000);	/* filesz > memsz */
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	put64(text + 32, 0x1000);
	put64(text + 24, 0x80000);	/* below 1 MiB: the boot structures */
	put64(e + 24, 0x80000);
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "1 MiB"));
	put64(text + 24, ~0ull - 0x800);	/* paddr + memsz wraps */
	put64(e + 24, ~0ull - 0x800);
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	put64(text + 24, 0x100000000ull - 0x800);	/* crosses 4 GiB */
	put64(e + 24, 0x100000000ull - 0x800);
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	put64(text + 24, 0x8000000);	/* above the 64 MiB of RAM */
	put64(e + 24, 0x8000000);
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "does not fit"));
	put64(text + 24, ELF_TEXT);
	put64(e + 24, ELF_TEXT - 1);	/* entry in no segment */
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "entry"));
	put64(e + 24, ELF_TEXT);
	put32(text, 6);			/* only a non-PT_LOAD left for text */
	put32(text + 56, 6);
	assert_int_equal(load_elf(e, ESIZE, err), -ENOEXEC);
	put32(text, 1);
	put32(text + 56, 1);

	memset(longcmd, 'a', BOOT_ELF_CMDLINE_MAX);
	longcmd[BOOT_ELF_CMDLINE_MAX] = '\0';
	assert_int_equal(boot_elf_load(&gm, e, ESIZE, NULL, 0, longcmd, &info,
				       err, sizeof(err)),
			 -ENOEXEC);
	assert_non_null(strstr(err, "command line"));
	/* An initrd that cannot sit above the kernel. */
	assert_int_equal(boot_elf_load(&gm, e, ESIZE, e, RAM - 0x1000000,
				       "", &info, err, sizeof(err)),
			 -ENOEXEC);
	assert_int_equal(load_elf(e, ESIZE, err), 0);
	/* A bzImage is not an ELF, and the other way round. */
	assert_int_equal(boot_linux_check(e, ESIZE, err, sizeof(err)),
			 -ENOEXEC);
	free(longcmd);
	free(e);
}

static void test_guest_mem_backing(void **state)
{
	struct guest_mem m;
	uint8_t *p;

	(void)state;
	assert_int_equal(guest_mem_init_backing(&m, 6u << 20, 4u << 20,
						GUEST_MEM_ANON),
			 0);
	assert_int_equal(m.fd, -1);
	assert_int_equal(m.nr, 2);
	/* 2 MiB aligned, so KVM can map guest RAM with huge pages. */
	assert_int_equal((uintptr_t)m.map % GUEST_MEM_HUGE_PAGE, 0);
	assert_int_equal(m.regions[1].gpa, 1ull << 32);
	p = guest_mem_ptr(&m, (1ull << 32) + (2u << 20) - 1, 1);
	assert_non_null(p);
	*p = 1;
	assert_null(guest_mem_ptr(&m, (1ull << 32) + (2u << 20), 1));
	guest_mem_destroy(&m);
	assert_int_equal(guest_mem_init_backing(&m, 4u << 20, UINT64_MAX,
						GUEST_MEM_MEMFD),
			 0);
	assert_true(m.fd >= 0);
	assert_int_equal((uintptr_t)m.map % GUEST_MEM_HUGE_PAGE, 0);
	guest_mem_destroy(&m);
	assert_int_equal(guest_mem_init_backing(&m, 4u << 20, UINT64_MAX,
						(enum guest_mem_backing)7),
			 -EINVAL);
	assert_int_equal(guest_mem_init_backing(&m, 4095, UINT64_MAX,
						GUEST_MEM_ANON),
			 -EINVAL);
}

/* The host bridge in slot 0: 8086:1237, as vmm/pci.c makes it. */
#define HOST_BRIDGE_ID 0x12378086u

static void ring_push(struct kvm_coalesced_mmio_ring *ring, uint32_t max,
		      uint64_t addr, uint32_t len, uint32_t val, bool pio)
{
	struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[ring->last];

	memset(e, 0, sizeof(*e));
	e->phys_addr = addr;
	e->len = len;
	memcpy(e->data, &val, sizeof(val));
	e->pio = pio;
	ring->last = (ring->last + 1) % max;
}

/*
 * Writes KVM queued in the coalesced ring reach the handlers in order when
 * a vCPU flushes, as if they had exited: a queued CONFIG_ADDRESS write
 * selects what the next 0xcfc read returns. Entries with bad lengths are
 * skipped and indexes out of range stop the replay.
 */
static void test_coalesced_replay(void **state)
{
	static struct vm v;
	static struct pci_bus bus;
	struct kvm_coalesced_mmio_ring *ring = calloc(1, 4096);
	const uint32_t max = (4096 - sizeof(*ring)) / sizeof(ring->coalesced_mmio[0]);
	uint8_t data[4];
	uint32_t id, i;

	(void)state;
	assert_non_null(ring);
	assert_int_equal(vm_init_nokvm(&v, 0), 0);
	assert_int_equal(pci_bus_init(&bus, &v), 0);
	/* Without KVM there is nothing to register: success. */
	assert_int_equal(vm_coalesce_add(&v, VM_IO_PIO, 0xcf8, 4), 0);
	v.coalesced_ring = ring;
	v.coalesced_max = max;
	vm_coalesced_flush(&v);		/* empty ring: nothing */

	/* Slot 3 (absent), then the host bridge's ID register. */
	ring_push(ring, max, 0xcf8, 4, 0x80001800u, true);
	ring_push(ring, max, 0xcf8, 4, 0x80000000u, true);
	vm_coalesced_flush(&v);
	assert_int_equal(ring->first, ring->last);
	vm_io_dispatch(&v, VM_IO_PIO, 0xcfc, data, 4, false);
	memcpy(&id, data, 4);
	assert_int_equal(id, HOST_BRIDGE_ID);
	assert_int_equal(v.counters.coalesced, 2);

	/* Bad lengths are skipped, the good entry after them still lands. */
	ring_push(ring, max, 0xcf8, 0, 0x80001800u, true);
	ring_push(ring, max, 0xcf8, 200, 0x80001800u, true);
	ring_push(ring, max, 0xcf8, 4, 0x80001800u, true);
	vm_coalesced_flush(&v);
	vm_io_dispatch(&v, VM_IO_PIO, 0xcfc, data, 4, false);
	memcpy(&id, data, 4);
	assert_int_equal(id, 0xffffffffu);

	/* Wrapping around the end of the ring. */
	for (i = 0; i < 2 * max; i++) {
		ring_push(ring, max, 0xcf8, 4,
			  i & 1 ? 0x80000000u : 0x80001800u, true);
		if (i % 7 == 0)
			vm_coalesced_flush(&v);
	}
	vm_coalesced_flush(&v);
	vm_io_dispatch(&v, VM_IO_PIO, 0xcfc, data, 4, false);
	memcpy(&id, data, 4);
	assert_int_equal(id, HOST_BRIDGE_ID);

	/* A corrupt index: the replay stops instead of reading past. */
	ring->first = 0;
	ring->last = max + 5;
	vm_coalesced_flush(&v);
	assert_int_equal(ring->first, 0);
	ring->first = ring->last = 0;

	v.coalesced_ring = NULL;
	pci_bus_destroy(&bus);
	vm_destroy(&v);
	free(ring);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_mptable(void **state)
{
	const uint8_t *fp = ram + BOOT_MPFP_ADDR, *t;
	unsigned int len, count, cpus = 0, ints = 0, i;
	const uint8_t *e;

	(void)state;
	assert_int_equal(boot_mptable_write(&gm, 4, 1u << 0 | 1u << 1 | 1u << 3),
			 0);
	assert_memory_equal(fp, "_MP_", 4);
	assert_int_equal(sum(fp, 16), 0);
	t = ram + (fp[4] | fp[5] << 8 | fp[6] << 16);
	assert_memory_equal(t, "PCMP", 4);
	len = t[4] | t[5] << 8;
	count = t[34] | t[35] << 8;
	assert_int_equal(sum(t, len), 0);
	e = t + 44;
	for (i = 0; i < count; i++) {
		switch (e[0]) {
		case 0:
			cpus++;
			e += 20;
			break;
		case 3:
			if (e[4] == 0)	/* PCI bus */
				ints++;
			e += 8;
			break;
		default:
			e += 8;
			break;
		}
	}
	assert_ptr_equal(e, t + len);
	assert_int_equal(cpus, 4);
	assert_int_equal(ints, 8);	/* slots 1 and 3, four pins each */
	assert_int_equal(boot_mptable_write(&gm, 0, 0), -EINVAL);
	assert_int_equal(boot_mptable_write(&gm, 64, 0xfffffffeu), 0);
}

static void test_control_protocol(void **state)
{
	struct control_info info = { .name = "t", .mem_bytes = 1 << 20 };
	struct vm vm;
	char *r;

	(void)state;
	assert_int_equal(vm_init_nokvm(&vm, 0), 0);
	r = control_handle_line(&vm, &info, "{\"cmd\":\"status\"}");
	assert_non_null(strstr(r, "\"state\":\"running\""));
	assert_non_null(strstr(r, "\"name\":\"t\""));
	free(r);
	r = control_handle_line(&vm, &info, "{\"cmd\":\"counters\"}");
	assert_non_null(strstr(r, "\"exits_io\":0"));
	free(r);
	r = control_handle_line(&vm, &info, "not json");
	assert_non_null(strstr(r, "\"ok\":false"));
	free(r);
	r = control_handle_line(&vm, &info, "{\"cmd\":7}");
	assert_non_null(strstr(r, "\"ok\":false"));
	free(r);
	r = control_handle_line(&vm, &info, "{\"cmd\":\"stop\"}");
	assert_non_null(strstr(r, "\"ok\":true"));
	assert_int_equal(vm.exit_code, VM_EXIT_STOPPED);
	free(r);
	vm_destroy(&vm);
}

struct piece_reader {
	const uint8_t *file;
	unsigned int reads;
	bool fail;
};

static int read_piece(void *ctx, uint8_t *dst, uint64_t offset, uint64_t len)
{
	struct piece_reader *r = ctx;

	r->reads++;
	if (r->fail)
		return -EIO;
	memcpy(dst, r->file + offset, len);
	return 0;
}

/* A vmlinux read segment by segment loads as the whole file does. */
static void test_vmlinux_in_pieces(void **state)
{
	uint8_t *e = fake_vmlinux();
	struct piece_reader r = { e, 0, false };
	struct boot_elf_file f = { e, 0x1000, ESIZE, read_piece, &r };
	struct boot_info info;
	char err[200] = "";

	(void)state;
	memset(ram + ELF_TEXT, 0, 0x1000);
	memset(ram + ELF_DATA, 0xee, 0x3000);
	assert_int_equal(boot_elf_file_check(&f, err, sizeof(err)), 0);
	assert_int_equal(boot_elf_file_load(&gm, &f, NULL, 0, "console=ttyS0",
					    &info, err, sizeof(err)), 0);
	assert_int_equal(r.reads, 2);
	assert_int_equal(info.entry, ELF_TEXT);
	assert_int_equal(ram[ELF_TEXT + 0xfff], 0xcc);
	assert_int_equal(ram[ELF_DATA], 0x5a);
	assert_int_equal(ram[ELF_DATA + 0x2fff], 0);
	/* A failing read is an error, not a half-loaded kernel booted. */
	r.fail = true;
	assert_int_equal(boot_elf_file_load(&gm, &f, NULL, 0, "console=ttyS0",
					    &info, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "read failed"));
	/* Program headers past what was read are refused, with the reason. */
	f.head_len = 100;
	assert_int_equal(boot_elf_file_check(&f, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "first 100 bytes"));
	/* A head longer than the file it claims to start is inconsistent. */
	f.head_len = 0x1000;
	f.file_len = 0x800;
	assert_int_equal(boot_elf_file_check(&f, err, sizeof(err)), -ENOEXEC);
	/* Segments past the file's end: truncated. */
	f.file_len = 0x2800;
	assert_int_equal(boot_elf_file_check(&f, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "truncated"));
	free(e);
}

/* Compress @in as the kernel build would for @codec; returns the length. */
static size_t compress_as(enum kernel_codec codec, const uint8_t *in,
			  size_t len, uint8_t *out, size_t cap)
{
	size_t n = 0;

	switch (codec) {
	case KERNEL_CODEC_XZ:
		assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32,
							 NULL, in, len, out,
							 &n, cap),
				 LZMA_OK);
		break;
	case KERNEL_CODEC_ZSTD: {
		ZSTD_CCtx *c = ZSTD_createCCtx();

		ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
		n = ZSTD_compress2(c, out, cap, in, len);
		ZSTD_freeCCtx(c);
		assert_false(ZSTD_isError(n));
		break;
	}
	default: {
		z_stream z = { 0 };

		assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 9,
					      Z_DEFAULT_STRATEGY), Z_OK);
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)len;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		n = z.total_out;
		deflateEnd(&z);
		break;
	}
	}
	return n;
}

enum { BZ_MAX = 5 * 512 + 0x8000 };

/*
 * A bzImage whose payload is @vmlinux compressed with @codec followed by
 * the kernel build's size trailer (@trailer); returns its length.
 */
static size_t fake_compressed_kernel(uint8_t *bz, enum kernel_codec codec,
				     const uint8_t *vmlinux, size_t len,
				     uint32_t trailer)
{
	uint8_t *hdr = fake_kernel();
	size_t clen;

	memset(bz, 0, BZ_MAX);
	memcpy(bz, hdr, 5 * 512);
	free(hdr);
	clen = compress_as(codec, vmlinux, len, bz + 5 * 512,
			   BZ_MAX - 5 * 512 - 4);
	put32(bz + 5 * 512 + clen, trailer);
	put32(bz + 0x248, 0);
	put32(bz + 0x24c, (uint32_t)clen + 4);
	put32(bz + 0x1f4, (uint32_t)((clen + 4) / 16));
	return 5 * 512 + clen + 4;
}

/* Each codec the kernel build uses on x86 distributions round-trips. */
static void test_kernel_decompress(void **state)
{
	static const enum kernel_codec codecs[] = {
		KERNEL_CODEC_GZIP, KERNEL_CODEC_XZ, KERNEL_CODEC_ZSTD,
	};
	static uint8_t bz[BZ_MAX];
	uint8_t *e = fake_vmlinux(), *out, *nops;
	const uint8_t *payload;
	size_t blen, out_len, plen;
	uint64_t announced;
	char err[200] = "";
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		blen = fake_compressed_kernel(bz, codecs[i], e, ESIZE, ESIZE);
		assert_int_equal(boot_linux_check(bz, blen, err, sizeof(err)),
				 0);
		assert_int_equal(kernel_payload(bz, blen, &payload, &plen,
						&announced), codecs[i]);
		assert_int_equal(announced, ESIZE);
		assert_int_equal(kernel_decompress(bz, blen, &out, &out_len,
						   err, sizeof(err)), 0);
		assert_int_equal(out_len, ESIZE);
		assert_memory_equal(out, e, ESIZE);
		assert_int_equal(boot_elf_check(out, out_len, err,
						sizeof(err)), 0);
		munmap(out, out_len);

		/* A trailer that lies either way, or absurdly, is refused. */
		blen = fake_compressed_kernel(bz, codecs[i], e, ESIZE,
					      ESIZE + 1);
		assert_int_equal(kernel_decompress(bz, blen, &out, &out_len,
						   err, sizeof(err)), -EINVAL);
		blen = fake_compressed_kernel(bz, codecs[i], e, ESIZE,
					      ESIZE - 1);
		assert_int_equal(kernel_decompress(bz, blen, &out, &out_len,
						   err, sizeof(err)), -EINVAL);
		blen = fake_compressed_kernel(bz, codecs[i], e, ESIZE,
					      0xffffffffu);
		assert_int_equal(kernel_decompress(bz, blen, &out, &out_len,
						   err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "announces"));

		/* Damage inside the stream is caught by its checksum. */
		blen = fake_compressed_kernel(bz, codecs[i], e, ESIZE, ESIZE);
		bz[5 * 512 + (blen - 5 * 512) / 2] ^= 0x40;
		assert_int_equal(kernel_decompress(bz, blen, &out, &out_len,
						   err, sizeof(err)), -EINVAL);
		/* Cut short. */
		blen = fake_compressed_kernel(bz, codecs[i], e, ESIZE, ESIZE);
		put32(bz + 0x24c, 24);
		put32(bz + 5 * 512 + 20, ESIZE);
		assert_int_equal(kernel_decompress(bz, blen, &out, &out_len,
						   err, sizeof(err)), -EINVAL);
	}
	/* The synthetic bzImage's payload (NOPs) is no codec of ours. */
	nops = fake_kernel();
	assert_int_equal(kernel_decompress(nops, KSIZE, &out, &out_len, err,
					   sizeof(err)), -ENOTSUP);
	/* A payload outside the file. */
	put32(nops + 0x248, KSIZE);
	assert_int_equal(kernel_payload(nops, KSIZE, &payload, &plen,
					&announced), KERNEL_CODEC_NONE);
	free(nops);
	free(e);
}

/* Cache directory rules, keys, atomic store and the background filler. */
static void test_kernel_cache(void **state)
{
	static uint8_t bz[BZ_MAX];
	char tmpl[] = "/tmp/loom-kcache.XXXXXX", dir[512], path[600];
	char other[600], part[700], err[200] = "", cmd[600];
	uint8_t *e = fake_vmlinux(), *again;
	struct timeval old[2] = { { time(NULL) - 3600, 0 },
				  { time(NULL) - 3600, 0 } };
	struct stat st;
	size_t blen;
	int fd, i;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(cmd, sizeof(cmd), "%s/a/kernels", tmpl);
	assert_int_equal(kernel_cache_dir(cmd, dir, sizeof(dir), err,
					  sizeof(err)), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* A directory others can write is not trusted. */
	chmod(dir, 0777);
	assert_int_equal(kernel_cache_dir(dir, path, sizeof(path), err,
					  sizeof(err)), -EPERM);
	chmod(dir, 0700);
	/* LOOM_CACHE_DIR names the cache root. */
	setenv("LOOM_CACHE_DIR", tmpl, 1);
	assert_int_equal(kernel_cache_dir(NULL, path, sizeof(path), err,
					  sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd), "%s/kernels", tmpl);
	assert_string_equal(path, cmd);
	unsetenv("LOOM_CACHE_DIR");

	/* The key is the content: one changed byte, another entry. */
	blen = fake_compressed_kernel(bz, KERNEL_CODEC_XZ, e, ESIZE, ESIZE);
	assert_int_equal(kernel_cache_path(dir, bz, blen, path, sizeof(path)),
			 0);
	again = malloc(blen);
	memcpy(again, bz, blen);
	again[blen / 2] ^= 1;
	assert_int_equal(kernel_cache_path(dir, again, blen, other,
					   sizeof(other)), 0);
	assert_string_not_equal(path, other);
	free(again);

	/* A fresh .part means another filler is at work; a stale one is not. */
	snprintf(part, sizeof(part), "%s.part", path);
	fd = open(part, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(kernel_cache_store(path, e, ESIZE), -EEXIST);
	assert_int_equal(utimes(part, old), 0);
	assert_int_equal(kernel_cache_store(path, e, ESIZE), 0);
	assert_int_equal(access(part, F_OK), -1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, ESIZE);
	unlink(path);

	/* The directory keeps the KERNEL_CACHE_KEEP most recently used. */
	for (i = 0; i < KERNEL_CACHE_KEEP + 2; i++) {
		struct timeval t[2] = { { time(NULL) - 1000 + i, 0 },
					{ time(NULL) - 1000 + i, 0 } };

		snprintf(other, sizeof(other), "%s/bz-%016x-1.vmlinux", dir, i);
		fd = open(other, O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(utimes(other, t), 0);
	}
	snprintf(other, sizeof(other), "%s/notes.txt", dir);
	fd = open(other, O_WRONLY | O_CREAT, 0600);
	close(fd);
	snprintf(other, sizeof(other), "%s/bz-%016x-1.vmlinux", dir, 0);
	kernel_cache_touch(other);	/* the oldest, used just now: kept */
	assert_int_equal(kernel_cache_store(path, e, ESIZE), 0);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);
	for (i = 1; i <= 3; i++) {	/* the least recently used go */
		snprintf(other, sizeof(other), "%s/bz-%016x-1.vmlinux", dir, i);
		assert_int_equal(access(other, F_OK), i <= 3 ? -1 : 0);
	}
	for (i = 4; i < KERNEL_CACHE_KEEP + 2; i++) {
		snprintf(other, sizeof(other), "%s/bz-%016x-1.vmlinux", dir, i);
		assert_int_equal(access(other, F_OK), 0);
	}
	snprintf(other, sizeof(other), "%s/notes.txt", dir);
	assert_int_equal(access(other, F_OK), 0);
	unlink(path);

	/* The background filler leaves a complete entry and no .part. */
	assert_int_equal(kernel_cache_fill_async(bz, blen, path), 0);
	for (i = 0; i < 200 && access(path, F_OK); i++)
		usleep(50 * 1000);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, ESIZE);
	assert_int_equal(access(part, F_OK), -1);
	unlink(path);
	/* A payload that is no kernel leaves nothing behind. */
	blen = fake_compressed_kernel(bz, KERNEL_CODEC_GZIP, bz + 4096, 512,
				      512);
	assert_int_equal(kernel_cache_fill_async(bz, blen, path), 0);
	usleep(300 * 1000);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_kernel),
		cmocka_unit_test(test_bad_kernels),
		cmocka_unit_test(test_cmdline_and_initrd_limits),
		cmocka_unit_test(test_good_vmlinux),
		cmocka_unit_test(test_bad_vmlinux),
		cmocka_unit_test(test_vmlinux_in_pieces),
		cmocka_unit_test(test_kernel_decompress),
		cmocka_unit_test(test_kernel_cache),
		cmocka_unit_test(test_guest_mem_backing),
		cmocka_unit_test(test_coalesced_replay),
		cmocka_unit_test(test_mptable),
		cmocka_unit_test(test_control_protocol),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
