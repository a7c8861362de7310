/* SPDX-License-Identifier: MIT */
/* vhost_user_mem.h - a vhost-user front end's memory table: checked, mapped, translated whole-range. */
#ifndef LOOM_BACKENDS_VHOST_USER_MEM_H
#define LOOM_BACKENDS_VHOST_USER_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "backends/vhost_user_msg.h"

/*
 * SET_MEM_TABLE hands the back end up to 8 regions of guest memory, each
 * with its guest-physical range, the front end's own virtual address of it
 * (vring addresses come in that space) and an fd + offset to map it from.
 * Rules, all checked before anything is mapped (vhost_user_mem_check()):
 *   - 1..8 regions, none empty, none above VHOST_USER_REGION_MAX bytes,
 *     VHOST_USER_MEM_MAX in all ("huge" regions are refused);
 *   - no range wraps: gpa + size, uva + size, mmap_offset + size fit in
 *     64 bits;
 *   - no two regions overlap, in guest-physical nor in front-end virtual
 *     space (a translation has one answer).
 * Mapping (vhost_user_mem_map()): each fd must be a regular file at least
 * mmap_offset + size long and sealed against shrinking (F_SEAL_SHRINK: a
 * memfd, QEMU's memory-backend-memfd seals by default), so the front end
 * cannot truncate it under netd and make an access SIGBUS.
 * Every address the front end gives is then translated with its whole
 * range [addr, addr + len) inside one region, or not at all.
 */

enum {
	VHOST_USER_REGION_MAX_SHIFT = 40, /* 1 TiB per region ... */
};
#define VHOST_USER_REGION_MAX (1ull << VHOST_USER_REGION_MAX_SHIFT)
#define VHOST_USER_MEM_MAX (1ull << VHOST_USER_REGION_MAX_SHIFT) /* ... and in all */

struct vhost_user_mem_map_region {
	uint64_t gpa, size, uva;
	uint8_t *host; /* byte gpa in our mapping */
	void *map;     /* the mapping, from the fd's offset 0 */
	size_t map_len;
};

struct vhost_user_mem {
	unsigned int n;
	struct vhost_user_mem_map_region r[VHOST_USER_MEM_REGIONS_MAX];
};

/*
 * vhost_user_mem_check() - the rules above, on @mem as parsed (no I/O).
 * Return: 0, or -EINVAL with @why set.
 */
int vhost_user_mem_check(const struct vhost_user_memory *mem, char *why,
			 size_t whylen);

/*
 * vhost_user_mem_map() - check @mem, then map each region from @fds[i]
 * (not closed: the caller closes them; the mappings stay).
 * Return: 0 with @out filled, or a negative errno with @why set; nothing
 * is left mapped on failure.
 */
int vhost_user_mem_map(struct vhost_user_mem *out,
		       const struct vhost_user_memory *mem, const int *fds,
		       char *why, size_t whylen);

/* vhost_user_mem_unmap() - undo vhost_user_mem_map(); @m is empty after. */
void vhost_user_mem_unmap(struct vhost_user_mem *m);

/*
 * vhost_user_mem_find() - the region holding the whole guest-physical
 * range [@gpa, @gpa + @len) (@len 0 counts as 1) and the offset of @gpa
 * in it. Overflow-safe; pure arithmetic on the table.
 * Return: the region's index, or -1.
 */
int vhost_user_mem_find(const struct vhost_user_mem *m, uint64_t gpa,
			uint64_t len, uint64_t *off);

/* vhost_user_gpa_ptr() - host pointer to [@gpa, @gpa + @len), or NULL. */
void *vhost_user_gpa_ptr(const struct vhost_user_mem *m, uint64_t gpa,
			 uint64_t len);

/*
 * vhost_user_uva_to_gpa() - the guest-physical address of the front end's
 * virtual address @uva, its whole range [@uva, @uva + @len) in one region
 * (vring addresses: SET_VRING_ADDR).
 * Return: 0 with *@gpa set, or -EFAULT.
 */
int vhost_user_uva_to_gpa(const struct vhost_user_mem *m, uint64_t uva,
			  uint64_t len, uint64_t *gpa);

#endif
