/* SPDX-License-Identifier: MIT */
/* kernel_file.h - the kernel, initrd and kernel-cache files as loom-vmm reads them. */
#ifndef LOOM_VMM_KERNEL_FILE_H
#define LOOM_VMM_KERNEL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/boot.h"

/*
 * The kernel as the loaders take it: a bzImage or raw image whole; a
 * vmlinux's headers, with the file kept open so that its segments are read
 * straight into guest RAM (boot_elf_file_load()).
 */
struct kernel_file {
	const uint8_t *buf;
	size_t len;
	uint64_t file_len;
	int fd;
};

/*
 * kernel_read_file() - a whole file (1 byte .. 1 GiB) in anonymous memory,
 * freed with munmap(). Return: the bytes, or NULL with @err set.
 */
const uint8_t *kernel_read_file(const char *path, size_t *len, char *err,
				size_t errlen);

/* kernel_file_open() - @path as a kernel: an ELF only in part (unless @raw). */
int kernel_file_open(struct kernel_file *k, const char *path, bool raw,
		     char *err, size_t errlen);
void kernel_file_close(struct kernel_file *k);
struct boot_elf_file kernel_file_elf(struct kernel_file *k);

/*
 * kernel_from_cache() - boot a cached decompressed copy of the bzImage *@k
 * (replacing it) or start filling the cache. Return: what the start-up
 * log line says about it.
 */
const char *kernel_from_cache(const char *dir_opt, const char *kernel,
			      struct kernel_file *k, bool *is_elf);

/* kernel_cache_now() - --cache-kernel: fill the entry now, print its path. */
int kernel_cache_now(const char *dir_opt, const char *kernel,
		     const uint8_t *kbuf, size_t klen);

#endif
