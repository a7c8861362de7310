/* SPDX-License-Identifier: MIT */
/* vmm_elf.c - fuzz the vmlinux (ELF64) loader: an arbitrary kernel file, initrd and command line into guest RAM. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/boot_loader_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: boot_loader_fuzz.h's layout (kernel = a vmlinux); a command line
 * of BOOT_ELF_CMDLINE_MAX 'a's is one too many. Bytes 6-7 are unused.
 */

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

static const struct boot_fuzz_loader loader = {
    .check = boot_elf_check,
    .load = boot_elf_load,
    .cmdline_max = BOOT_ELF_CMDLINE_MAX,
    .check_loaded = check_loaded,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_fuzz_case c;

	if (!boot_fuzz_run(data, size, &loader, &c))
		return 0;
	return 0;
}
