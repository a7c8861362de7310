/* SPDX-License-Identifier: MIT */
/* guest_mem.h - guest RAM regions and the one checked way to reach them. */
#ifndef LOOM_VMM_GUEST_MEM_H
#define LOOM_VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Guest RAM is a few regions of guest-physical space, each backed by host
 * memory: one mapping, either a memfd (guest_mem_init(), GUEST_MEM_MEMFD),
 * whose fd and each region's offset in it can be passed to another process
 * that maps the same pages, or private anonymous memory (GUEST_MEM_ANON),
 * which the kernel backs with transparent huge pages by default where a
 * memfd gets them only if shmem_enabled allows (Debian: never). Either
 * mapping starts on a 2 MiB boundary and is advised MADV_HUGEPAGE.
 *
 * Every access to guest memory on behalf of a device goes through
 * guest_mem_ptr() (or the copy helpers built on it): the WHOLE range
 * [gpa, gpa + len) must lie inside one region, with overflow-safe arithmetic.
 * A guest-supplied address never reaches the host unchecked.
 *
 * The region table is filled once at VM creation and not changed while
 * vCPUs or device threads run, so lookups take no lock.
 */

enum {
	GUEST_MEM_MAX_REGIONS = 8,
	/* x86: RAM above this address is moved above 4 GiB (PCI hole). */
	GUEST_MEM_X86_LOW_LIMIT = 0xC0000000u,
	GUEST_MEM_HUGE_PAGE = 2u << 20,
};

enum guest_mem_backing {
	GUEST_MEM_MEMFD,	/* shareable: gm->fd maps the same pages */
	GUEST_MEM_ANON,		/* private; huge pages without host tuning */
};

/**
 * struct guest_mem_region - one contiguous piece of guest RAM.
 * @gpa: guest-physical start address.
 * @size: length in bytes (never 0).
 * @host: host virtual address of byte @gpa.
 * @fd_offset: offset of @host in guest_mem.fd (meaningless if fd < 0).
 */
struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
	uint64_t fd_offset;
};

/**
 * struct guest_mem - all guest RAM of one VM.
 * @nr: number of valid entries in @regions, sorted by gpa, not overlapping.
 * @regions: the regions.
 * @fd: memfd backing all regions (-1 when regions are plain host memory,
 *	e.g. in unit tests).
 * @map: base of the single mapping of @fd made by guest_mem_init(), or NULL.
 * @map_size: size of @map.
 * @backing: what guest_mem_init_backing() made @map of.
 */
struct guest_mem {
	unsigned int nr;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
	int fd;
	uint8_t *map;
	uint64_t map_size;
	enum guest_mem_backing backing;
};

/**
 * guest_mem_init() - allocate guest RAM in a memfd and lay it out.
 * @gm: the structure to fill.
 * @ram_size: bytes of RAM (multiple of 4096, > 0).
 * @low_limit: RAM above this guest-physical address starts at 4 GiB instead
 *	(GUEST_MEM_X86_LOW_LIMIT on x86; UINT64_MAX for one flat region).
 *
 * Creates a memfd "loom-guest-ram", maps it MAP_SHARED once and registers one
 * or two regions pointing into that mapping.
 *
 * Return: 0 or negative errno.
 */
int guest_mem_init(struct guest_mem *gm, uint64_t ram_size,
		   uint64_t low_limit);

/**
 * guest_mem_init_backing() - guest_mem_init() with a choice of backing.
 * @gm: the structure to fill.
 * @ram_size: bytes of RAM (multiple of 4096, > 0).
 * @low_limit: as for guest_mem_init().
 * @backing: GUEST_MEM_MEMFD (gm->fd set) or GUEST_MEM_ANON (gm->fd = -1).
 *
 * Return: 0 or negative errno (-EINVAL for a bad size or backing).
 */
int guest_mem_init_backing(struct guest_mem *gm, uint64_t ram_size,
			   uint64_t low_limit, enum guest_mem_backing backing);

/**
 * guest_mem_destroy() - unmap and close what guest_mem_init() made.
 * @gm: the guest memory; safe on a zeroed or already destroyed struct.
 */
void guest_mem_destroy(struct guest_mem *gm);

/**
 * guest_mem_init_empty() - an empty table whose regions the caller adds.
 * @gm: the structure to fill (fd = -1, no regions).
 */
void guest_mem_init_empty(struct guest_mem *gm);

/**
 * guest_mem_add() - register a region of host memory as guest RAM.
 * @gm: the guest memory.
 * @gpa: guest-physical start.
 * @size: bytes (> 0, gpa + size must not wrap).
 * @host: host address of @gpa; the caller keeps it alive.
 * @fd_offset: offset of @host in gm->fd, if that is set.
 *
 * Return: 0, -EINVAL for a bad or overlapping range, -ENOSPC when full.
 */
int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size,
		  void *host, uint64_t fd_offset);

/**
 * guest_mem_ptr() - host pointer for a whole guest-physical range.
 * @gm: the guest memory.
 * @gpa: start of the range.
 * @len: its length; 0 asks whether @gpa itself is RAM.
 *
 * Return: the host address of @gpa if all of [gpa, gpa + len) lies inside
 * one region, else NULL (range partly outside RAM, spans two regions, or
 * wraps around 2^64). A refusal is logged at debug level (module
 * "guest-mem", rate-limited) with the caller's function and line, so
 * `--log guest-mem=debug` shows which device asked for what.
 */
#define guest_mem_ptr(gm, gpa, len) \
	guest_mem_ptr_at(gm, gpa, len, __func__, __LINE__)
void *guest_mem_ptr_at(const struct guest_mem *gm, uint64_t gpa, uint64_t len,
		       const char *func, int line);

/**
 * guest_mem_read() - copy guest memory out; the range may span regions.
 * @gm: the guest memory.
 * @gpa: guest-physical source.
 * @dst: host destination.
 * @len: bytes to copy.
 *
 * Return: 0, or -EFAULT if any byte of the range is not RAM (then @dst
 * content is unspecified); logged as for guest_mem_ptr().
 */
#define guest_mem_read(gm, gpa, dst, len) \
	guest_mem_read_at(gm, gpa, dst, len, __func__, __LINE__)
int guest_mem_read_at(const struct guest_mem *gm, uint64_t gpa, void *dst,
		      size_t len, const char *func, int line);

/**
 * guest_mem_write() - copy into guest memory; the range may span regions.
 * @gm: the guest memory.
 * @gpa: guest-physical destination.
 * @src: host source.
 * @len: bytes to copy.
 *
 * Return: 0, or -EFAULT if any byte of the range is not RAM (nothing is
 * written in that case); logged as for guest_mem_ptr().
 */
#define guest_mem_write(gm, gpa, src, len) \
	guest_mem_write_at(gm, gpa, src, len, __func__, __LINE__)
int guest_mem_write_at(const struct guest_mem *gm, uint64_t gpa,
		       const void *src, size_t len, const char *func, int line);

/**
 * guest_mem_find() - the region holding a guest-physical address.
 * @gm: the guest memory.
 * @gpa: the address.
 *
 * Return: the region, or NULL if @gpa is not RAM.
 */
const struct guest_mem_region *guest_mem_find(const struct guest_mem *gm,
					      uint64_t gpa);

#endif
