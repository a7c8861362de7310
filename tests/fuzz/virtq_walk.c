/* SPDX-License-Identifier: MIT */
/* virtq_walk.c - fuzz the virtqueue walk: arbitrary guest memory, rings and descriptors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/virtio/virtq.h"
#include "tests/fuzz/virtio_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: a 12-byte header, then guest RAM contents.
 *   0     log2 of the queue size (mod 9: 1..256)
 *   1     bit 0 INDIRECT_DESC, bit 1 EVENT_IDX
 *   2-3   descriptor table gpa / 16 (le16) relative to RAM_GPA - 0x1000
 *   4-5   avail ring gpa / 2
 *   6-7   used ring gpa / 4
 *   8     max segments the "device" accepts (0 = 64)
 *   9     pops to try (bounded anyway by 4 rings)
 *   10-11 written length reported on push
 * RAM is split in two heap blocks (split_ram_init).
 */
enum {
	RAM_GPA = 0x10000,
	REGION = SPLIT_RAM_REGION,
	HDR = 12,
	MAX_SEGS = 64,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_seg segs[MAX_SEGS];
	struct virtq_chain c = { .segs = segs };
	uint8_t *a = NULL, *b = NULL, tmp[64];
	struct guest_mem gm;
	struct virtq vq;
	unsigned int i, pops;
	size_t rest;

	if (size < HDR)
		return 0;
	log_max_level = LOG_ERR;
	if (!split_ram_init(&gm, RAM_GPA, &a, &b))
		goto out;
	rest = size - HDR;
	memcpy(a, data + HDR, rest < REGION ? rest : REGION);
	if (rest > REGION)
		memcpy(b, data + HDR + REGION,
		       rest - REGION < REGION ? rest - REGION : REGION);

	virtq_init(&vq, &gm, 0, 256, "fuzz");
	vq.size = (uint16_t)(1u << (data[0] % 9));
	vq.indirect = data[1] & 1;
	vq.event_idx = data[1] & 2;
	vq.desc_gpa = RAM_GPA - 0x1000 + 16ull * (data[2] | data[3] << 8);
	vq.avail_gpa = RAM_GPA - 0x1000 + 2ull * (data[4] | data[5] << 8);
	vq.used_gpa = RAM_GPA - 0x1000 + 4ull * (data[6] | data[7] << 8);
	c.max_segs = data[8] ? data[8] % MAX_SEGS + 1 : MAX_SEGS;
	pops = data[9];
	if (virtq_enable(&vq))
		goto out;
	virtq_disable_notify(&vq);
	for (i = 0; i < pops && i < 4u * vq.size; i++) {
		int ret = virtq_pop(&vq, &c);

		if (ret <= 0)
			break;
		/* Touch every byte the walker handed out. */
		if (c.out_len)
			virtq_chain_read(&c, c.out_len - 1, tmp, 1);
		virtq_chain_read(&c, 0, tmp,
				 c.out_len < sizeof(tmp) ? c.out_len
							 : sizeof(tmp));
		if (c.in_len)
			virtq_chain_write(&c, c.in_len - 1, "x", 1);
		virtq_push(&vq, c.head, (uint32_t)(data[10] | data[11] << 8));
		virtq_should_notify(&vq);
	}
	virtq_enable_notify(&vq);
out:
	free(a);
	free(b);
	return 0;
}
