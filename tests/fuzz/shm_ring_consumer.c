/* SPDX-License-Identifier: MIT */
/* shm_ring_consumer.c - fuzz both ring ends over an arbitrary region. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/shm_ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is what a hostile peer controls: the first bytes overwrite the
 * to_netd ring's control block and slots, the rest feeds later index
 * moves (4 bytes each) between consumer rounds and the consumer index the
 * other ring's producer sees. Every frame handed out must lie inside the
 * data area; nothing may crash.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *base;
	static struct shm_layout l;
	struct shm_cons c;
	struct shm_prod p;
	struct shm_ring *r, *rp;
	size_t ctl, pos = 0;

	if (!base) {
		if (shm_layout_compute(&l, 64, SHM_DATA_SIZE_MIN, SHM_F_ALL))
			abort();
		base = calloc(1, l.region_size);
		if (!base)
			abort();
	}
	memset(base, 0, l.data_off[0]);
	memset(base + l.ring_off[1], 0, l.data_off[1] - l.ring_off[1]);
	r = (struct shm_ring *)(base + l.ring_off[SHM_TO_NETD]);
	rp = (struct shm_ring *)(base + l.ring_off[SHM_TO_PEER]);
	ctl = l.slots_off[0] - l.ring_off[0] +
	      (size_t)l.ring_size * sizeof(struct shm_slot);
	shm_cons_init(&c, base, &l, SHM_TO_NETD);
	if (shm_prod_init(&p, base, &l, SHM_TO_PEER))
		return 0;
	pos = size < ctl ? size : ctl;
	memcpy(base + l.ring_off[0], data, pos);
	for (int round = 0; round < 16; round++) {
		int n = shm_cons_peek(&c);

		if (n < 0)
			break;
		for (int i = 0; i < n && i < SHM_BATCH_MAX; i++) {
			struct shm_desc d;
			enum shm_violation why;
			const uint8_t *f =
			    shm_cons_get(&c, (uint32_t)i, &d, &why);

			if (!f)
				goto out;
			if (f < base + l.data_off[0] ||
			    f + d.len > base + l.data_off[0] + l.data_size)
				abort();
			/* Touch the frame like the switch would. */
			volatile uint8_t sink = f[0] ^ f[d.len - 1];
			(void)sink;
		}
		shm_cons_release(
		    &c, (uint32_t)(n < SHM_BATCH_MAX ? n : SHM_BATCH_MAX));
		/* netd produces on the other ring; the peer moves its cons. */
		for (int i = 0; i < 40; i++) {
			uint32_t len = 14 + (uint32_t)(i * 997) % 3000;
			struct shm_desc d = {.len = len};
			uint8_t *dst = shm_prod_alloc(&p, len);

			if (!dst)
				break;
			if (dst < base + l.data_off[1] ||
			    dst + len > base + l.data_off[1] + l.data_size)
				abort();
			memset(dst, 0xab, len);
			shm_prod_commit(&p, &d);
		}
		shm_prod_publish(&p);
		if (pos + 8 > size)
			break;
		memcpy(&r->prod, data + pos, 4);
		memcpy(&rp->cons, data + pos + 4, 4);
		pos += 8;
	}
out:
	shm_prod_fini(&p);
	return 0;
}
