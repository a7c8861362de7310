/* SPDX-License-Identifier: MIT */
/* vhost_user_vring.c - a vhost-user vring: the front end's ring addresses translated and walked with the VMM's checked split-ring code. */
#include "backends/vhost_user_vring.h"

#include <errno.h>
#include <stdio.h>

int vhost_user_mem_guest(const struct vhost_user_mem *m, struct guest_mem *gm)
{
	guest_mem_init_empty(gm);
	for (unsigned int i = 0; i < m->n; i++)
		if (guest_mem_add(gm, m->r[i].gpa, m->r[i].size, m->r[i].host,
				  0) < 0)
			return -EINVAL;
	return 0;
}

int vhost_user_vring_start(struct virtq *vq, const struct vhost_user_mem *m,
			   const struct vhost_user_vring_addr *addr,
			   uint32_t num, uint16_t base, char *why,
			   size_t whylen)
{
	/* Extents as the virtio spec lays the split rings out, with the
	 * event idx words (virtq_enable() checks the same). */
	const uint64_t desc_len = 16ull * num, avail_len = 4 + 2ull * num + 2,
		       used_len = 4 + 8ull * num + 2;
	uint64_t desc, avail, used;

	if (vhost_user_uva_to_gpa(m, addr->desc_uva, desc_len, &desc) ||
	    vhost_user_uva_to_gpa(m, addr->avail_uva, avail_len, &avail) ||
	    vhost_user_uva_to_gpa(m, addr->used_uva, used_len, &used)) {
		snprintf(why, whylen,
			 "vring %u: a ring lies outside the memory table",
			 addr->index);
		return -EFAULT;
	}
	if (num == 0 || num > vq->max_size) {
		snprintf(why, whylen, "vring %u: size %u (1..%u)", addr->index,
			 num, vq->max_size);
		return -EINVAL;
	}
	vq->size = (uint16_t)num;
	vq->desc_gpa = desc;
	vq->avail_gpa = avail;
	vq->used_gpa = used;
	if (virtq_enable(vq) < 0) {
		snprintf(why, whylen, "vring %u: %s", addr->index,
			 virtq_error_str(vq->error));
		return -EINVAL;
	}
	/* Where the front end left off (0 on a fresh start). */
	vq->last_avail = vq->avail_idx = vq->used_idx = base;
	return 0;
}
