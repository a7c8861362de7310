/* SPDX-License-Identifier: MIT */
/* vhost_user_vring.h - a vhost-user vring: the front end's ring addresses translated and walked with the VMM's checked split-ring code. */
#ifndef LOOM_BACKENDS_VHOST_USER_VRING_H
#define LOOM_BACKENDS_VHOST_USER_VRING_H

#include <stddef.h>
#include <stdint.h>

#include "backends/vhost_user_mem.h"
#include "vmm/guest_mem.h"
#include "vmm/virtio/virtq.h"

/*
 * The ring walk is vmm/virtio/virtq.c's (descriptor bounds, loops and
 * chain lengths bounded by the ring size, indirect tables, used ring
 * writes, event idx), the same code loom-vmm's devices trust with a
 * guest. What vhost-user adds: the front end names its rings by ITS
 * virtual addresses (SET_VRING_ADDR), each translated to guest-physical
 * with the ring's whole extent inside one region, and the guest memory
 * is the front end's memory table (vhost_user_mem_guest()).
 */

/*
 * vhost_user_mem_guest() - a struct guest_mem over the mapped table @m
 * (the host pointers stay @m's: keep @m mapped while @gm is used).
 * Return: 0, or -EINVAL.
 */
int vhost_user_mem_guest(const struct vhost_user_mem *m, struct guest_mem *gm);

/*
 * vhost_user_vring_start() - point @vq (virtq_init()ed on @gm) at the
 * rings of @addr for @num entries, starting at avail index @base
 * (SET_VRING_BASE), after translating each ring's whole extent.
 * Return: 0 with the queue enabled, or -EFAULT (a ring outside the
 * table, or straddling regions) / -EINVAL (the queue refused it: vq->error)
 * with @why set.
 */
int vhost_user_vring_start(struct virtq *vq, const struct vhost_user_mem *m,
			   const struct vhost_user_vring_addr *addr,
			   uint32_t num, uint16_t base, char *why,
			   size_t whylen);

#endif
