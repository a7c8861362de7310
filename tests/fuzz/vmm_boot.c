/* SPDX-License-Identifier: MIT */
/* vmm_boot.c - fuzz the bzImage loader: an arbitrary kernel file, initrd and command line into guest RAM. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/boot_loader_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: boot_loader_fuzz.h's layout (kernel = a bzImage), with
 *   6     vCPUs for the MP table (0 skips it)
 *   7     PCI slot bitmap for the MP table's INTx entries (slots 1-8)
 * The same bytes are also loaded as a --raw image.
 */
enum { INIT_SIZE_OFF = 0x260 };

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void check_loaded(const struct boot_info *info, uint64_t low_size,
			 const uint8_t *kernel, size_t kernel_len,
			 size_t initrd_len)
{
	uint64_t kernel_top = 0x1000000ull + get32(kernel + INIT_SIZE_OFF);

	/* What the loader promises about a kernel it accepted. */
	if (info->entry != BOOT_KERNEL_ADDR + 0x200 ||
	    info->kernel_end > low_size ||
	    info->kernel_end <= BOOT_KERNEL_ADDR || kernel_top > low_size ||
	    info->protocol < 0x020c)
		abort();
	if (initrd_len &&
	    (info->initrd_size != initrd_len || info->initrd_addr < kernel_top ||
	     info->initrd_addr + info->initrd_size > low_size ||
	     info->initrd_addr & 0xfff))
		abort();
	if (boot_linux_check(kernel, kernel_len, NULL, 0))
		abort();
}

static const struct boot_fuzz_loader loader = {
    .check = boot_linux_check,
    .load = boot_linux_load,
    .cmdline_max = BOOT_CMDLINE_MAX,
    .check_loaded = check_loaded,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_fuzz_case c;

	if (!boot_fuzz_run(data, size, &loader, &c))
		return 0;
	/* --raw IMG@ADDR with the same bytes, at an address from the input. */
	if (c.kernel_len)
		boot_raw_load(&c.gm, c.kernel, c.kernel_len,
			      0x100000ull + ((uint64_t)data[5] << 16), &c.info);
	if (data[6])
		boot_mptable_write(&c.gm, data[6], (uint32_t)data[7] << 1);
	return 0;
}
