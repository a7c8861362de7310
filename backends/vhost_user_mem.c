/* SPDX-License-Identifier: MIT */
/* vhost_user_mem.c - a vhost-user front end's memory table: checked, mapped, translated whole-range. */
#include "backends/vhost_user_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* [a, a + alen) and [b, b + blen) intersect; neither wraps (checked). */
static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			  uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int vhost_user_mem_check(const struct vhost_user_memory *mem, char *why,
			 size_t whylen)
{
	uint64_t total = 0;

	if (mem->nregions == 0 || mem->nregions > VHOST_USER_MEM_REGIONS_MAX) {
		snprintf(why, whylen, "%u memory regions (1..%d)",
			 mem->nregions, VHOST_USER_MEM_REGIONS_MAX);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < mem->nregions; i++) {
		const struct vhost_user_mem_region *r = &mem->regions[i];

		if (r->size == 0 || r->size > VHOST_USER_REGION_MAX) {
			snprintf(why, whylen,
				 "region %u: %llu bytes (1 .. 2^%d)", i,
				 (unsigned long long)r->size,
				 VHOST_USER_REGION_MAX_SHIFT);
			return -EINVAL;
		}
		if (r->gpa + r->size < r->gpa || r->uva + r->size < r->uva ||
		    r->mmap_offset + r->size < r->mmap_offset ||
		    r->gpa + r->size == 0 || r->uva + r->size == 0) {
			snprintf(why, whylen, "region %u wraps around 2^64", i);
			return -EINVAL;
		}
		total += r->size;
		if (total > VHOST_USER_MEM_MAX) {
			snprintf(why, whylen, "more than 2^%d bytes of memory",
				 VHOST_USER_REGION_MAX_SHIFT);
			return -EINVAL;
		}
		for (uint32_t j = 0; j < i; j++) {
			const struct vhost_user_mem_region *o = &mem->regions[j];

			if (ranges_overlap(r->gpa, r->size, o->gpa, o->size)) {
				snprintf(why, whylen,
					 "regions %u and %u overlap in "
					 "guest-physical space", j, i);
				return -EINVAL;
			}
			if (ranges_overlap(r->uva, r->size, o->uva, o->size)) {
				snprintf(why, whylen,
					 "regions %u and %u overlap in the "
					 "front end's address space", j, i);
				return -EINVAL;
			}
		}
	}
	return 0;
}

void vhost_user_mem_unmap(struct vhost_user_mem *m)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (m->r[i].map)
			munmap(m->r[i].map, m->r[i].map_len);
	memset(m, 0, sizeof(*m));
}

int vhost_user_mem_map(struct vhost_user_mem *out,
		       const struct vhost_user_memory *mem, const int *fds,
		       char *why, size_t whylen)
{
	int ret = vhost_user_mem_check(mem, why, whylen);

	memset(out, 0, sizeof(*out));
	if (ret)
		return ret;
	for (uint32_t i = 0; i < mem->nregions; i++) {
		const struct vhost_user_mem_region *r = &mem->regions[i];
		uint64_t need = r->mmap_offset + r->size;
		struct stat st;
		void *map;
		int seals;

		if (fstat(fds[i], &st) < 0 || !S_ISREG(st.st_mode)) {
			snprintf(why, whylen, "region %u: not a regular file", i);
			ret = -EINVAL;
			goto unmap;
		}
		if ((uint64_t)st.st_size < need || need > SIZE_MAX) {
			snprintf(why, whylen,
				 "region %u: the fd has %lld bytes, the region "
				 "ends at %llu", i, (long long)st.st_size,
				 (unsigned long long)need);
			ret = -EINVAL;
			goto unmap;
		}
		seals = fcntl(fds[i], F_GET_SEALS);
		if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
			snprintf(why, whylen,
				 "region %u: the fd is not sealed against "
				 "shrinking (use a memfd: QEMU's "
				 "memory-backend-memfd)", i);
			ret = -EINVAL;
			goto unmap;
		}
		map = mmap(NULL, (size_t)need, PROT_READ | PROT_WRITE,
			   MAP_SHARED, fds[i], 0);
		if (map == MAP_FAILED) {
			ret = -errno;
			snprintf(why, whylen, "region %u: mmap: %s", i,
				 strerror(errno));
			goto unmap;
		}
		out->r[i] = (struct vhost_user_mem_map_region){
			.gpa = r->gpa,
			.size = r->size,
			.uva = r->uva,
			.host = (uint8_t *)map + r->mmap_offset,
			.map = map,
			.map_len = (size_t)need,
		};
		out->n = i + 1;
	}
	return 0;
unmap:
	vhost_user_mem_unmap(out);
	return ret;
}

int vhost_user_mem_find(const struct vhost_user_mem *m, uint64_t gpa,
			uint64_t len, uint64_t *off)
{
	if (len == 0)
		len = 1;
	for (unsigned int i = 0; i < m->n; i++) {
		const struct vhost_user_mem_map_region *r = &m->r[i];

		/* gpa - r->gpa only once gpa >= r->gpa; then compare the
		 * length left in the region, never an end address. */
		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return -1; /* starts here, runs out: no straddling */
		*off = gpa - r->gpa;
		return (int)i;
	}
	return -1;
}

void *vhost_user_gpa_ptr(const struct vhost_user_mem *m, uint64_t gpa,
			 uint64_t len)
{
	uint64_t off;
	int i = vhost_user_mem_find(m, gpa, len, &off);

	return i < 0 ? NULL : m->r[i].host + off;
}

int vhost_user_uva_to_gpa(const struct vhost_user_mem *m, uint64_t uva,
			  uint64_t len, uint64_t *gpa)
{
	if (len == 0)
		len = 1;
	for (unsigned int i = 0; i < m->n; i++) {
		const struct vhost_user_mem_map_region *r = &m->r[i];

		if (uva < r->uva || uva - r->uva >= r->size)
			continue;
		if (len > r->size - (uva - r->uva))
			return -EFAULT;
		*gpa = r->gpa + (uva - r->uva);
		return 0;
	}
	return -EFAULT;
}
