/* SPDX-License-Identifier: MIT */
/* boot_loader_fuzz.h - the input split, RAM set-up and check/load contract shared by the kernel loader fuzz targets. */
#ifndef LOOM_TESTS_FUZZ_BOOT_LOADER_FUZZ_H
#define LOOM_TESTS_FUZZ_BOOT_LOADER_FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/boot.h"
#include "vmm/guest_mem.h"

/*
 * Input: an 8-byte header, then the command line, the initrd and, for the
 * rest of the input, the kernel file (what --kernel would read):
 *   0     bit 0: 64 MiB of low RAM (else 32 MiB); bit 1: no high RAM;
 *         bit 2: 8 MiB of low RAM only (below BOOT_MIN_RAM)
 *   1-2   command line length (le16; 0xffff: a line of the loader's
 *         cmdline_max 'a's)
 *   3-5   initrd length (le24, clipped to what the input holds)
 *   6-7   the target's own (see each target)
 * RAM lives in separate heap blocks (low RAM, 1 MiB at 4 GiB), so a copy
 * past a region's end is caught by ASan rather than landing in the next.
 */
enum {
	BOOT_FUZZ_HDR = 8,
	BOOT_FUZZ_LOW_MAX = 64u << 20,
	BOOT_FUZZ_HIGH = 1u << 20,
};

/* One loader under test: its check, its load, and what it promises. */
struct boot_fuzz_loader {
	int (*check)(const uint8_t *kernel, size_t len, char *err,
		     size_t errlen);
	int (*load)(const struct guest_mem *mem, const uint8_t *kernel,
		    size_t len, const uint8_t *initrd, size_t initrd_len,
		    const char *cmdline, struct boot_info *info, char *err,
		    size_t errlen);
	size_t cmdline_max;
	/* Called for an accepted kernel; aborts on a broken promise. */
	void (*check_loaded)(const struct boot_info *info, uint64_t low_size,
			     const uint8_t *kernel, size_t len,
			     size_t initrd_len);
};

/* What one input set up, for the target's extra steps. */
struct boot_fuzz_case {
	struct guest_mem gm;
	struct boot_info info;
	const uint8_t *kernel;
	size_t kernel_len;
};

static uint8_t *low_ram, *high_ram;

/*
 * boot_fuzz_run - split @data, set up guest RAM, run the loader's check
 * then its load, and hold them to their contract: a refusal is -ENOEXEC
 * with a message, the check never passes what the load refuses, and an
 * accepted kernel keeps the loader's promises.
 * Return: false if the input is too short to be a case.
 */
static bool boot_fuzz_run(const uint8_t *data, size_t size,
			  const struct boot_fuzz_loader *L,
			  struct boot_fuzz_case *c)
{
	static char *long_cmdline;
	uint64_t low_size;
	size_t clen, ilen, rest;
	const uint8_t *initrd;
	char *cmdline, err[256];
	int ret, chk;

	if (size < BOOT_FUZZ_HDR)
		return false;
	if (!low_ram) {
		low_ram = calloc(1, BOOT_FUZZ_LOW_MAX);
		high_ram = calloc(1, BOOT_FUZZ_HIGH);
		long_cmdline = malloc(L->cmdline_max + 1);
		if (!low_ram || !high_ram || !long_cmdline)
			abort();
		memset(long_cmdline, 'a', L->cmdline_max);
		long_cmdline[L->cmdline_max] = '\0';
	}
	low_size = data[0] & 4	 ? 8u << 20 :
		   data[0] & 1 ? BOOT_FUZZ_LOW_MAX :
				 32u << 20;
	guest_mem_init_empty(&c->gm);
	if (guest_mem_add(&c->gm, 0, low_size, low_ram, 0) ||
	    (!(data[0] & 2) &&
	     guest_mem_add(&c->gm, 1ull << 32, BOOT_FUZZ_HIGH, high_ram, 0)))
		abort();

	rest = size - BOOT_FUZZ_HDR;
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
			memcpy(cmdline, data + BOOT_FUZZ_HDR, clen);
			cmdline[clen] = '\0';
		}
	}
	if (!cmdline)
		return false;
	rest -= clen;
	if (ilen > rest)
		ilen = rest;
	initrd = data + BOOT_FUZZ_HDR + clen;
	c->kernel = initrd + ilen;
	c->kernel_len = rest - ilen;

	/* The check alone, as main.c runs it before creating the VM. */
	err[0] = '\0';
	chk = L->check(c->kernel, c->kernel_len, err, sizeof(err));
	if (chk && (chk != -ENOEXEC || !memchr(err, '\0', sizeof(err)) ||
		    !err[0]))
		abort();

	memset(&c->info, 0xa5, sizeof(c->info));
	ret = L->load(&c->gm, c->kernel, c->kernel_len, ilen ? initrd : NULL,
		      ilen, cmdline, &c->info, err, sizeof(err));
	if (ret == 0)
		L->check_loaded(&c->info, low_size, c->kernel, c->kernel_len,
				ilen);
	else if (ret == -ENOEXEC && !memchr(err, '\0', sizeof(err)))
		abort();
	if (chk && ret != -ENOEXEC)
		abort(); /* the check must not pass what load refuses */
	free(cmdline);
	return true;
}

#endif
