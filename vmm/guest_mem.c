/* SPDX-License-Identifier: MIT */
/* guest_mem.c - guest RAM (memfd or anonymous), and range-checked guest address lookup. */
#include "vmm/guest_mem.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"

LOG_MODULE("guest-mem");

void guest_mem_init_empty(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
}

int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size,
		  void *host, uint64_t fd_offset)
{
	unsigned int i, pos;

	if (!size || !host || gpa + size < gpa)
		return -EINVAL;
	if (gm->nr >= GUEST_MEM_MAX_REGIONS)
		return -ENOSPC;
	for (i = 0; i < gm->nr; i++) {
		const struct guest_mem_region *r = &gm->regions[i];

		/* Overlap iff each starts before the other ends. */
		if (gpa <= r->gpa + (r->size - 1) &&
		    r->gpa <= gpa + (size - 1))
			return -EINVAL;
	}
	for (pos = 0; pos < gm->nr && gm->regions[pos].gpa < gpa; pos++)
		;
	memmove(&gm->regions[pos + 1], &gm->regions[pos],
		(gm->nr - pos) * sizeof(gm->regions[0]));
	gm->regions[pos] = (struct guest_mem_region){
		.gpa = gpa, .size = size, .host = host, .fd_offset = fd_offset,
	};
	gm->nr++;
	return 0;
}

/*
 * A mapping of @size bytes starting on a 2 MiB boundary: KVM maps guest RAM
 * with 2 MiB pages only where host and guest addresses agree modulo 2 MiB,
 * and transparent huge pages need aligned ranges.
 */
static void *map_aligned(uint64_t size, int fd)
{
	const uint64_t align = GUEST_MEM_HUGE_PAGE;
	int flags = fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;
	uint8_t *base, *p;
	uint64_t head;

	/* Reserve size + align of address space, then place the RAM in it. */
	base = mmap(NULL, size + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return MAP_FAILED;
	p = (uint8_t *)(((uintptr_t)base + align - 1) & ~(uintptr_t)(align - 1));
	head = (uint64_t)(p - base);
	if (head)
		munmap(base, head);
	munmap(p + size, align - head);
	if (mmap(p, size, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0) ==
	    MAP_FAILED) {
		int err = errno;

		munmap(p, size);
		errno = err;
		return MAP_FAILED;
	}
	return p;
}

int guest_mem_init_backing(struct guest_mem *gm, uint64_t ram_size,
			   uint64_t low_limit, enum guest_mem_backing backing)
{
	uint64_t low, high;
	void *map;
	int fd = -1, ret;

	guest_mem_init_empty(gm);
	if (!ram_size || ram_size % 4096 || ram_size > (1ull << 46))
		return -EINVAL;
	if (backing == GUEST_MEM_MEMFD) {
		fd = memfd_create("loom-guest-ram", MFD_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)ram_size) < 0) {
			ret = -errno;
			goto close_fd;
		}
	} else if (backing != GUEST_MEM_ANON) {
		return -EINVAL;
	}
	map = map_aligned(ram_size, fd);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto close_fd;
	}
	/*
	 * Huge pages where the host allows them: for anonymous RAM unless
	 * THP is "never"; for a memfd only if shmem_enabled is not "never"
	 * (Debian's default is never). Each 4 KiB page is otherwise a host
	 * page fault and a nested-paging fault when the guest first touches
	 * it. Advice only: failure changes nothing.
	 */
	(void)madvise(map, ram_size, MADV_HUGEPAGE);
	gm->fd = fd;
	gm->map = map;
	gm->map_size = ram_size;
	gm->backing = backing;
	low = ram_size < low_limit ? ram_size : low_limit;
	high = ram_size - low;
	ret = guest_mem_add(gm, 0, low, gm->map, 0);
	if (!ret && high)
		ret = guest_mem_add(gm, 1ull << 32, high, gm->map + low, low);
	if (ret)
		goto unmap;
	return 0;

unmap:
	munmap(map, ram_size);
	gm->map = NULL;
	gm->fd = -1;
close_fd:
	if (fd >= 0)
		close(fd);
	gm->nr = 0;
	return ret;
}

int guest_mem_init(struct guest_mem *gm, uint64_t ram_size, uint64_t low_limit)
{
	return guest_mem_init_backing(gm, ram_size, low_limit, GUEST_MEM_MEMFD);
}

void guest_mem_destroy(struct guest_mem *gm)
{
	if (gm->map)
		munmap(gm->map, gm->map_size);
	if (gm->fd >= 0)
		close(gm->fd);
	guest_mem_init_empty(gm);
}

const struct guest_mem_region *guest_mem_find(const struct guest_mem *gm,
					      uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < gm->nr; i++) {
		const struct guest_mem_region *r = &gm->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

/* Who asked for a range that is not RAM: a device bug or a hostile guest. */
static void guest_mem_refused(const char *func, int line, uint64_t gpa,
			      uint64_t len, const char *what)
{
	log_rl(LOG_DEBUG, MOD,
	       "%s:%d: %s of [0x%llx, +0x%llx) refused: not in guest RAM",
	       func, line, what, (unsigned long long)gpa,
	       (unsigned long long)len);
}

void *guest_mem_ptr_at(const struct guest_mem *gm, uint64_t gpa, uint64_t len,
		       const char *func, int line)
{
	const struct guest_mem_region *r = guest_mem_find(gm, gpa);
	uint64_t off;

	if (!r)
		goto refused;
	off = gpa - r->gpa;
	/* off < size here, so size - off cannot underflow. */
	if (len > r->size - off)
		goto refused;
	return r->host + off;
refused:
	guest_mem_refused(func, line, gpa, len, "access");
	return NULL;
}

/*
 * Walk [gpa, gpa + len) region by region. Checks the whole range first so a
 * failed write leaves guest memory untouched.
 */
static int guest_mem_span(const struct guest_mem *gm, uint64_t gpa,
			  size_t len, uint8_t *host, bool to_guest)
{
	uint64_t cur = gpa;
	size_t left = len;
	int pass;

	if (len && gpa + len - 1 < gpa)
		return -EFAULT;
	for (pass = 0; pass < 2; pass++) {
		cur = gpa;
		left = len;
		while (left) {
			const struct guest_mem_region *r =
				guest_mem_find(gm, cur);
			uint64_t off, chunk;

			if (!r)
				return -EFAULT;
			off = cur - r->gpa;
			chunk = r->size - off;
			if (chunk > left)
				chunk = left;
			if (pass == 1) {
				uint8_t *h = host + (cur - gpa);

				if (to_guest)
					memcpy(r->host + off, h, chunk);
				else
					memcpy(h, r->host + off, chunk);
			}
			cur += chunk;
			left -= chunk;
		}
	}
	return 0;
}

int guest_mem_read_at(const struct guest_mem *gm, uint64_t gpa, void *dst,
		      size_t len, const char *func, int line)
{
	int ret = guest_mem_span(gm, gpa, len, dst, false);

	if (ret)
		guest_mem_refused(func, line, gpa, len, "read");
	return ret;
}

int guest_mem_write_at(const struct guest_mem *gm, uint64_t gpa,
		       const void *src, size_t len, const char *func, int line)
{
	int ret = guest_mem_span(gm, gpa, len, (uint8_t *)src, true);

	if (ret)
		guest_mem_refused(func, line, gpa, len, "write");
	return ret;
}
