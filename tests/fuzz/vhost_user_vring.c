/* SPDX-License-Identifier: MIT */
/* vhost_user_vring.c - fuzz a vhost-user vring: front-end ring addresses, translation and the ring walk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vhost_user_vring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Two regions of 16 KiB (guest-physical 0x10000 and 0x20000, front-end
 * virtual 0x7f0000000000 and 0x7f0000100000), filled from the input after
 * a 16-byte preamble: three ring addresses (u32 each, added to the first
 * region's virtual base: most land outside), log2 of the ring size and
 * the starting index. Then every chain is popped and pushed back, as the
 * back end would, within twice the ring size.
 */
enum { REG = 16384 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[2][REG] __attribute__((aligned(4096)));
	struct vhost_user_vring_addr a = {.index = 0};
	struct vhost_user_mem m = {.n = 2};
	struct virtq_seg segs[64];
	struct virtq_chain ch = {.segs = segs, .max_segs = 64};
	struct guest_mem gm;
	struct virtq vq;
	uint32_t off[3], num;
	uint16_t base;
	char why[128];

	if (size < 16)
		return 0;
	memcpy(off, data, 12);
	num = 1u << (data[12] % 16);
	memcpy(&base, data + 13, 2);
	memset(mem, 0, sizeof(mem));
	memcpy(mem, data + 16,
	       size - 16 < sizeof(mem) ? size - 16 : sizeof(mem));
	m.r[0] = (struct vhost_user_mem_map_region){
	    .gpa = 0x10000, .size = REG, .uva = 0x7f0000000000ull,
	    .host = mem[0]};
	m.r[1] = (struct vhost_user_mem_map_region){
	    .gpa = 0x20000, .size = REG, .uva = 0x7f0000100000ull,
	    .host = mem[1]};
	if (vhost_user_mem_guest(&m, &gm))
		abort();
	a.desc_uva = 0x7f0000000000ull + off[0];
	a.avail_uva = 0x7f0000000000ull + off[1];
	a.used_uva = 0x7f0000000000ull + off[2];
	virtq_init(&vq, &gm, 0, 256, "fuzz");
	if (vhost_user_vring_start(&vq, &m, &a, num, base, why, sizeof(why)))
		return 0;
	for (uint32_t i = 0; i < 2 * num; i++) {
		int r = virtq_pop(&vq, &ch);

		if (r <= 0)
			break;
		/* Every segment lies inside one of the two regions. */
		for (unsigned int s = 0; s < ch.nr_out + ch.nr_in; s++) {
			const uint8_t *b = segs[s].base;
			int in = 0;

			for (int k = 0; k < 2; k++)
				if (b >= mem[k] && segs[s].len <= REG &&
				    b - mem[k] <= REG - (long)segs[s].len)
					in = 1;
			if (!in)
				abort();
		}
		if (virtq_push(&vq, ch.head, (uint32_t)ch.in_len) < 0)
			break;
	}
	return 0;
}
