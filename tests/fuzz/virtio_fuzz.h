/* SPDX-License-Identifier: MIT */
/* virtio_fuzz.h - what the virtio fuzz targets share: reading the input, guest RAM split in two heap blocks, a scratch disk image. */
#ifndef LOOM_TESTS_FUZZ_VIRTIO_FUZZ_H
#define LOOM_TESTS_FUZZ_VIRTIO_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmm/guest_mem.h"

/* The input not read yet. */
struct fz {
	const uint8_t *p;
	size_t left;
};

/* The next @n bytes as a little-endian number; past the end, zeroes. */
static inline uint64_t take(struct fz *f, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n && f->left; i++, f->left--, f->p++)
		v |= (uint64_t)*f->p << (8 * i);
	return v;
}

/*
 * Guest RAM at @gpa: two adjacent SPLIT_RAM_REGION regions in separate
 * heap blocks *@a and *@b (zeroed), so a range that spans them or runs off
 * the end would trip ASan if it got through as one host pointer. The
 * caller frees *@a and *@b, also when this fails (out of memory).
 */
enum { SPLIT_RAM_REGION = 0x8000 };

static inline bool split_ram_init(struct guest_mem *gm, uint64_t gpa,
				  uint8_t **a, uint8_t **b)
{
	*a = calloc(1, SPLIT_RAM_REGION);
	*b = calloc(1, SPLIT_RAM_REGION);
	if (!*a || !*b)
		return false;
	guest_mem_init_empty(gm);
	guest_mem_add(gm, gpa, SPLIT_RAM_REGION, *a, 0);
	guest_mem_add(gm, gpa + SPLIT_RAM_REGION, SPLIT_RAM_REGION, *b, 0);
	return true;
}

/* Where fuzz_image() keeps its path, one per fuzz target (one file each). */
static inline char *fuzz_image_slot(void)
{
	static char path[64];

	return path;
}

static inline void fuzz_image_remove(void)
{
	unlink(fuzz_image_slot());
}

/*
 * The path of the run's scratch disk image, /tmp/loom-fuzz-@tag-XXXXXX:
 * made empty at the first call, the same file for every input after it,
 * removed when the process exits.
 */
static inline const char *fuzz_image(const char *tag)
{
	char *path = fuzz_image_slot();
	int fd;

	if (path[0])
		return path;
	snprintf(path, 64, "/tmp/loom-fuzz-%s-XXXXXX", tag);
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	atexit(fuzz_image_remove);
	return path;
}

#endif
