/* SPDX-License-Identifier: MIT */
/* vmm_elf.c - fuzz the vmlinux (ELF64) loader: an arbitrary kernel file, initrd and command line into guest RAM. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/boot.h"
#include "vmm/guest_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: an 8-byte header, then the command line, the initrd and, for the
 * rest of the input, the kernel file (what --kernel would read):
 *   0     bit 0: 64 MiB of low RAM (else 32 MiB); bit 1: no high RAM;
 *         bit 2: 8 MiB of low RAM only (below BOOT_MIN_RAM)
 *   1-2   command line length (le16; 0xffff: a line of BOOT_ELF_CMDLINE_MAX
 *         'a's, one too many)
 *   3-5   initrd length (le24, clipped to what the input holds)
 *   6-7   unused
 * RAM lives in separate heap blocks (low RAM, 1 MiB at 4 GiB), so a copy
 * past a region's end is caught by ASan rather than landing in the next.
 */
enum {
	HDR = 8,
	LOW_MAX = 64u << 20,
	HIGH = 1u << 20,
};

static uint8_t *low_ram, *high_ram;

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* What the loader promises about a kernel it accepted. */
static void check_loaded(const struct boot_info *info, uint64_t low_size,
			 const uint8_t *elf, size_t len, size_t initrd_len)
{
	uint64_t phoff = get64(elf + 32);
	unsigned int phnum = (unsigned int)(elf[56] | elf[57] << 8), i;
	bool entry_in = false;

	if (boot_elf_check(elf, len, NULL, 0) || info->entry != get64(elf + 24) ||
	    info->kernel_end > low_size || info->kernel_end < BOOT_KERNEL_ADDR)
		abort();
	for (i = 0; i < phnum; i++) {
		const uint8_t *ph = elf + phoff + 56ull * i;
		uint64_t off = get64(ph + 8), paddr = get64(ph + 24);
		uint64_t filesz = get64(ph + 32), memsz = get64(ph + 40);

		if (ph[0] != 1 || ph[1] || ph[2] || ph[3])
			continue;
		if (paddr < BOOT_KERNEL_ADDR || paddr + memsz > info->kernel_end)
			abort();
		if (info->entry >= paddr && info->entry - paddr < memsz)
			entry_in = true;
		/* The last segment wins where segments overlap: check one. */
		if (i == phnum - 1 && filesz &&
		    low_ram[paddr + filesz - 1] != elf[off + filesz - 1])
			abort();
		if (i == phnum - 1 && memsz > filesz &&
		    low_ram[paddr + memsz - 1] != 0)
			abort();
	}
	if (!entry_in)
		abort();
	if (initrd_len &&
	    (info->initrd_size != initrd_len ||
	     info->initrd_addr < info->kernel_end ||
	     info->initrd_addr + info->initrd_size > low_size ||
	     info->initrd_addr & 0xfff))
		abort();
	if (memcmp(low_ram + BOOT_PARAMS_ADDR + 0x202, "HdrS", 4))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *long_cmdline;
	struct guest_mem gm;
	struct boot_info info;
	uint64_t low_size;
	size_t clen, ilen, rest;
	const uint8_t *initrd, *kernel;
	char *cmdline, err[256];
	int ret, chk;

	if (size < HDR)
		return 0;
	if (!low_ram) {
		low_ram = calloc(1, LOW_MAX);
		high_ram = calloc(1, HIGH);
		long_cmdline = malloc(BOOT_ELF_CMDLINE_MAX + 1);
		if (!low_ram || !high_ram || !long_cmdline)
			abort();
		memset(long_cmdline, 'a', BOOT_ELF_CMDLINE_MAX);
		long_cmdline[BOOT_ELF_CMDLINE_MAX] = '\0';
	}
	low_size = data[0] & 4 ? 8u << 20 : data[0] & 1 ? LOW_MAX : 32u << 20;
	guest_mem_init_empty(&gm);
	if (guest_mem_add(&gm, 0, low_size, low_ram, 0) ||
	    (!(data[0] & 2) &&
	     guest_mem_add(&gm, 1ull << 32, HIGH, high_ram, 0)))
		abort();

	rest = size - HDR;
	clen = (size_t)(data[1] | data[2] << 8);
	ilen = (size_t)(data[3] | data[4] << 8 | data[5] << 16);
	if (clen == 0xffff) {
		cmdline = strdup(long_cmdline);
		clen = 0;
	} else {
		if (clen > rest)
			clen = rest;
		cmdline = malloc(clen + 1);
		if (cmdline) {
			memcpy(cmdline, data + HDR, clen);
			cmdline[clen] = '\0';
		}
	}
	if (!cmdline)
		return 0;
	rest -= clen;
	if (ilen > rest)
		ilen = rest;
	initrd = data + HDR + clen;
	kernel = initrd + ilen;
	rest -= ilen;

	/* The check alone, as main.c runs it before creating the VM. */
	err[0] = '\0';
	chk = boot_elf_check(kernel, rest, err, sizeof(err));
	if (chk && (chk != -ENOEXEC || !memchr(err, '\0', sizeof(err)) ||
		    !err[0]))
		abort();

	memset(&info, 0xa5, sizeof(info));
	ret = boot_elf_load(&gm, kernel, rest, ilen ? initrd : NULL, ilen,
			    cmdline, &info, err, sizeof(err));
	if (ret == 0)
		check_loaded(&info, low_size, kernel, rest, ilen);
	else if (ret == -ENOEXEC && !memchr(err, '\0', sizeof(err)))
		abort();
	if (chk && ret != -ENOEXEC)
		abort();	/* the check must not pass what load refuses */
	free(cmdline);
	return 0;
}
