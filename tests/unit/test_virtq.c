/* SPDX-License-Identifier: MIT */
/* test_virtq.c - split virtqueue walker against a hand-written guest ring: every vhost check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/guest_mem.h"
#include "vmm/virtio/virtq.h"

/*
 * Fake guest: one RAM region [RAM_GPA, RAM_GPA + RAM_SIZE) backed by a
 * malloc'd buffer. The test plays the driver: it writes descriptors and the
 * avail ring by hand and reads the used ring back.
 */
enum {
	RAM_GPA = 0x100000,
	RAM_SIZE = 0x100000,
	QSIZE = 8,
	DESC_GPA = RAM_GPA,
	AVAIL_GPA = RAM_GPA + 0x1000,
	USED_GPA = RAM_GPA + 0x2000,
	IND_GPA = RAM_GPA + 0x3000,
	BUF_GPA = RAM_GPA + 0x10000,
};

struct drv {
	struct guest_mem gm;
	uint8_t *ram;
	struct virtq vq;
	uint16_t avail_idx;
	int errors;
	struct virtq_seg segs[64];
	struct virtq_chain c;
};

static uint8_t *host(struct drv *d, uint64_t gpa)
{
	return d->ram + (gpa - RAM_GPA);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_desc_at(uint8_t *table, unsigned int i, uint64_t addr,
			uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = table + 16 * i;
	unsigned int b;

	for (b = 0; b < 8; b++)
		p[b] = (uint8_t)(addr >> (8 * b));
	for (b = 0; b < 4; b++)
		p[8 + b] = (uint8_t)(len >> (8 * b));
	put16(p + 12, flags);
	put16(p + 14, next);
}

static void desc(struct drv *d, unsigned int i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	put_desc_at(host(d, DESC_GPA), i, addr, len, flags, next);
}

static void avail_push(struct drv *d, uint16_t head)
{
	put16(host(d, AVAIL_GPA) + 4 + 2 * (d->avail_idx % QSIZE), head);
	d->avail_idx++;
	put16(host(d, AVAIL_GPA) + 2, d->avail_idx);
}

static uint16_t used_idx(struct drv *d)
{
	return get16(host(d, USED_GPA) + 2);
}

static void on_error(struct virtq *vq, void *opaque)
{
	struct drv *d = opaque;

	(void)vq;
	d->errors++;
}

static int setup(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(d->ram);
	memset(d->ram, 0, RAM_SIZE);
	guest_mem_init_empty(&d->gm);
	assert_int_equal(guest_mem_add(&d->gm, RAM_GPA, RAM_SIZE, d->ram, 0),
			 0);
	virtq_init(&d->vq, &d->gm, 0, QSIZE, "test");
	d->vq.on_error = on_error;
	d->vq.opaque = d;
	d->vq.desc_gpa = DESC_GPA;
	d->vq.avail_gpa = AVAIL_GPA;
	d->vq.used_gpa = USED_GPA;
	d->vq.indirect = true;
	assert_int_equal(virtq_enable(&d->vq), 0);
	d->c.segs = d->segs;
	d->c.max_segs = 64;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct drv *d = *state;

	free(d->ram);
	free(d);
	return 0;
}

/* The queue broke for @err, told the transport once, and stays broken. */
static void assert_broken(struct drv *d, enum virtq_error err)
{
	assert_true(d->vq.broken);
	assert_int_equal(d->vq.error, err);
	assert_int_equal(d->errors, 1);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_int_equal(virtq_push(&d->vq, 0, 0), -EIO);
	assert_int_equal(used_idx(d), 0);
}

static void test_basic_chain(void **state)
{
	struct drv *d = *state;
	uint8_t *el;

	memcpy(host(d, BUF_GPA), "hello", 5);
	desc(d, 3, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 5);
	desc(d, 5, BUF_GPA + 0x100, 64, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
	     1);
	desc(d, 1, BUF_GPA + 0x200, 8, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 0);
	avail_push(d, 3);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.head, 3);
	assert_int_equal(d->c.nr_out, 1);
	assert_int_equal(d->c.nr_in, 2);
	assert_int_equal(d->c.out_len, 16);
	assert_int_equal(d->c.in_len, 72);
	assert_ptr_equal(d->segs[0].base, host(d, BUF_GPA));
	assert_ptr_equal(d->segs[2].base, host(d, BUF_GPA + 0x200));
	assert_memory_equal(d->segs[0].base, "hello", 5);
	/* Writable bytes 60..67 straddle the two writable segments. */
	assert_int_equal(virtq_chain_write(&d->c, 60, "ABCDEFGH", 8), 0);
	assert_memory_equal(host(d, BUF_GPA + 0x100 + 60), "ABCD", 4);
	assert_memory_equal(host(d, BUF_GPA + 0x200), "EFGH", 4);
	assert_int_equal(virtq_chain_write(&d->c, 70, "xyz", 3), -EFAULT);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 0);
	assert_int_equal(virtq_push(&d->vq, 3, 42), 0);
	assert_int_equal(used_idx(d), 1);
	el = host(d, USED_GPA) + 4;
	assert_int_equal(get32(el), 3);
	assert_int_equal(get32(el + 4), 42);
	assert_false(d->vq.broken);
}

static void test_ring_wraps(void **state)
{
	struct drv *d = *state;
	unsigned int round, i;

	desc(d, 0, BUF_GPA, 4, 0, 0);
	/* Three full rings: free-running indices wrap the ring slots. */
	for (round = 0; round < 3; round++) {
		for (i = 0; i < QSIZE; i++)
			avail_push(d, 0);
		for (i = 0; i < QSIZE; i++) {
			assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
			assert_int_equal(virtq_push(&d->vq, 0, 0), 0);
		}
		assert_int_equal(virtq_pop(&d->vq, &d->c), 0);
	}
	assert_int_equal(used_idx(d), 3 * QSIZE);
}

static void test_loop(void **state)
{
	struct drv *d = *state;

	desc(d, 0, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, 1);
	desc(d, 1, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_LOOP);
}

static void test_self_loop_writable(void **state)
{
	struct drv *d = *state;

	/* A writable descriptor pointing at itself: the order check alone
	 * would never fire, only the length bound stops it. */
	desc(d, 2, BUF_GPA, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	avail_push(d, 2);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_LOOP);
}

static void test_head_out_of_range(void **state)
{
	struct drv *d = *state;

	avail_push(d, QSIZE);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_HEAD);
}

static void test_next_out_of_range(void **state)
{
	struct drv *d = *state;

	desc(d, 0, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, QSIZE);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_NEXT);
}

static void test_avail_idx_jump(void **state)
{
	struct drv *d = *state;
	unsigned int i;

	desc(d, 0, BUF_GPA, 4, 0, 0);
	/* Exactly a full ring is fine... */
	put16(host(d, AVAIL_GPA) + 2, QSIZE);
	for (i = 0; i < QSIZE; i++)
		assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_false(d->vq.broken);
	/* ...one more than the ring since the last popped entry is not. */
	put16(host(d, AVAIL_GPA) + 2, 2 * QSIZE + 1);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_true(d->vq.broken);
	assert_int_equal(d->vq.error, VIRTQ_ERR_AVAIL_IDX);
	assert_int_equal(d->errors, 1);
}

static void test_avail_idx_backwards(void **state)
{
	struct drv *d = *state;

	/* Going back is a jump of almost 65536 forward. */
	put16(host(d, AVAIL_GPA) + 2, 0xffff);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_AVAIL_IDX);
}

static void test_avail_idx_read_once(void **state)
{
	struct drv *d = *state;

	desc(d, 0, BUF_GPA, 4, 0, 0);
	avail_push(d, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	/* A bad idx written mid-batch is not seen until the batch is used up
	 * (the cached copy is used), then it is caught. */
	put16(host(d, AVAIL_GPA) + 2, 0x8000);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_int_equal(d->vq.error, VIRTQ_ERR_AVAIL_IDX);
}

static void test_write_before_read(void **state)
{
	struct drv *d = *state;

	desc(d, 0, BUF_GPA, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc(d, 1, BUF_GPA + 64, 4, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_ORDER);
}

static void test_range_crosses_end_of_ram(void **state)
{
	struct drv *d = *state;

	/* Starts in RAM (a start-only check would accept it), ends outside. */
	desc(d, 0, RAM_GPA + RAM_SIZE - 8, 16, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_ADDR);
}

static void test_range_ends_at_end_of_ram(void **state)
{
	struct drv *d = *state;

	desc(d, 0, RAM_GPA + RAM_SIZE - 16, 16, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_false(d->vq.broken);
}

static void test_gpa_wraparound(void **state)
{
	struct drv *d = *state;

	/* addr + len wraps to inside RAM: must not pass as in range. */
	desc(d, 0, UINT64_MAX - 7, RAM_GPA + 16, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_ADDR);
}

static void test_addr_outside_ram(void **state)
{
	struct drv *d = *state;

	desc(d, 0, 0x1000, 16, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_ADDR);
}

static void test_indirect_ok(void **state)
{
	struct drv *d = *state;
	uint8_t *t = host(d, IND_GPA);

	desc(d, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 4);
	desc(d, 4, IND_GPA, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc_at(t, 0, BUF_GPA + 0x100, 32, VIRTQ_DESC_F_NEXT, 2);
	put_desc_at(t, 2, BUF_GPA + 0x200, 512, VIRTQ_DESC_F_NEXT |
		    VIRTQ_DESC_F_WRITE, 1);
	put_desc_at(t, 1, BUF_GPA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.nr_out, 2);
	assert_int_equal(d->c.nr_in, 2);
	assert_int_equal(d->c.out_len, 48);
	assert_int_equal(d->c.in_len, 513);
	assert_ptr_equal(d->segs[3].base, host(d, BUF_GPA + 0x400));
}

static void test_indirect_not_negotiated(void **state)
{
	struct drv *d = *state;

	d->vq.indirect = false;
	desc(d, 0, IND_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc_at(host(d, IND_GPA), 0, BUF_GPA, 4, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_INDIRECT);
}

static void test_indirect_bad_len(void **state)
{
	struct drv *d = *state;

	desc(d, 0, IND_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_INDIRECT);
}

static void test_indirect_too_long(void **state)
{
	struct drv *d = *state;
	unsigned int i;

	/* QSIZE + 1 valid entries: the table itself is over the bound. */
	for (i = 0; i <= QSIZE; i++)
		put_desc_at(host(d, IND_GPA), i, BUF_GPA, 4,
			    i < QSIZE ? VIRTQ_DESC_F_NEXT : 0,
			    (uint16_t)(i + 1));
	desc(d, 0, IND_GPA, 16 * (QSIZE + 1), VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_INDIRECT);
}

static void test_indirect_loop(void **state)
{
	struct drv *d = *state;
	uint8_t *t = host(d, IND_GPA);

	put_desc_at(t, 0, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, 1);
	put_desc_at(t, 1, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, 0);
	desc(d, 0, IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_LOOP);
}

static void test_indirect_next_outside_table(void **state)
{
	struct drv *d = *state;

	/* next = 2 is a valid ring index but outside the 2-entry table. */
	put_desc_at(host(d, IND_GPA), 0, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, 2);
	desc(d, 0, IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_NEXT);
}

static void test_indirect_nested(void **state)
{
	struct drv *d = *state;

	put_desc_at(host(d, IND_GPA), 0, IND_GPA + 0x100, 16,
		    VIRTQ_DESC_F_INDIRECT, 0);
	put_desc_at(host(d, IND_GPA + 0x100), 0, BUF_GPA, 4, 0, 0);
	desc(d, 0, IND_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_NESTED);
}

static void test_indirect_with_next(void **state)
{
	struct drv *d = *state;

	put_desc_at(host(d, IND_GPA), 0, BUF_GPA, 4, 0, 0);
	desc(d, 0, IND_GPA, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	desc(d, 1, BUF_GPA, 4, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_INDIRECT);
}

static void test_indirect_table_outside_ram(void **state)
{
	struct drv *d = *state;

	desc(d, 0, RAM_GPA + RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_ADDR);
}

static void test_too_many_segments(void **state)
{
	struct drv *d = *state;

	d->c.max_segs = 2;
	desc(d, 0, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, 1);
	desc(d, 1, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, 2);
	desc(d, 2, BUF_GPA, 4, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_broken(d, VIRTQ_ERR_TOO_MANY);
}

static void test_zero_length_skipped(void **state)
{
	struct drv *d = *state;

	/* A zero-length descriptor names no memory, even at a wild address. */
	desc(d, 0, 0xdead0000, 0, VIRTQ_DESC_F_NEXT, 1);
	desc(d, 1, BUF_GPA, 4, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.nr_out, 1);
	assert_ptr_equal(d->segs[0].base, host(d, BUF_GPA));
}

static void test_push_bad_head(void **state)
{
	struct drv *d = *state;

	assert_int_equal(virtq_push(&d->vq, QSIZE, 0), -EIO);
	assert_true(d->vq.broken);
	assert_int_equal(d->vq.error, VIRTQ_ERR_USED);
}

static void test_enable_checks(void **state)
{
	struct drv *d = *state;
	static const struct {
		uint16_t size;
		uint64_t desc, avail, used;
		enum virtq_error err;
	} cases[] = {
		{ 6, DESC_GPA, AVAIL_GPA, USED_GPA, VIRTQ_ERR_SIZE },
		{ 0, DESC_GPA, AVAIL_GPA, USED_GPA, VIRTQ_ERR_SIZE },
		{ 16, DESC_GPA, AVAIL_GPA, USED_GPA, VIRTQ_ERR_SIZE },
		{ 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA, VIRTQ_ERR_RING_ADDR },
		{ 8, DESC_GPA, AVAIL_GPA + 1, USED_GPA, VIRTQ_ERR_RING_ADDR },
		{ 8, DESC_GPA, AVAIL_GPA, USED_GPA + 2, VIRTQ_ERR_RING_ADDR },
		{ 8, 0x1000, AVAIL_GPA, USED_GPA, VIRTQ_ERR_RING_ADDR },
		/* used ring (4 + 8*8 + 2 bytes) crossing the end of RAM */
		{ 8, DESC_GPA, AVAIL_GPA, RAM_GPA + RAM_SIZE - 68,
		  VIRTQ_ERR_RING_ADDR },
		{ 8, DESC_GPA, UINT64_MAX - 1, USED_GPA, VIRTQ_ERR_RING_ADDR },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		virtq_reset(&d->vq);
		d->errors = 0;
		d->vq.size = cases[i].size;
		d->vq.desc_gpa = cases[i].desc;
		d->vq.avail_gpa = cases[i].avail;
		d->vq.used_gpa = cases[i].used;
		assert_int_equal(virtq_enable(&d->vq), -EINVAL);
		assert_false(d->vq.enabled);
		assert_int_equal(d->vq.error, cases[i].err);
		assert_int_equal(d->errors, 1);
	}
	/* A smaller power of two is fine, and reset clears the error. */
	virtq_reset(&d->vq);
	d->vq.size = 4;
	d->vq.desc_gpa = DESC_GPA;
	d->vq.avail_gpa = AVAIL_GPA;
	d->vq.used_gpa = RAM_GPA + RAM_SIZE - (4 + 8 * 4 + 2) - 2;
	assert_int_equal(virtq_enable(&d->vq), 0);
	assert_true(d->vq.enabled);
}

static void test_notify_flags(void **state)
{
	struct drv *d = *state;

	desc(d, 0, BUF_GPA, 4, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	virtq_push(&d->vq, 0, 0);
	assert_true(virtq_should_notify(&d->vq));
	/* Nothing new since: no interrupt. */
	assert_false(virtq_should_notify(&d->vq));
	/* Driver says no interrupts. */
	put16(host(d, AVAIL_GPA), VIRTQ_AVAIL_F_NO_INTERRUPT);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	virtq_push(&d->vq, 0, 0);
	assert_false(virtq_should_notify(&d->vq));
	/* Device-side suppression of kicks. */
	virtq_disable_notify(&d->vq);
	assert_int_equal(get16(host(d, USED_GPA)), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&d->vq));
	assert_int_equal(get16(host(d, USED_GPA)), 0);
	avail_push(d, 0);
	assert_true(virtq_enable_notify(&d->vq));
}

static void test_notify_event_idx(void **state)
{
	struct drv *d = *state;
	uint8_t *used_event = host(d, AVAIL_GPA) + 4 + 2 * QSIZE;
	uint8_t *avail_event = host(d, USED_GPA) + 4 + 8 * QSIZE;
	unsigned int i;

	d->vq.event_idx = true;
	desc(d, 0, BUF_GPA, 4, 0, 0);
	for (i = 0; i < 4; i++)
		avail_push(d, 0);
	/* Driver wants an interrupt once used entry 2 is written. */
	put16(used_event, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
		virtq_push(&d->vq, 0, 0);
	}
	assert_true(virtq_should_notify(&d->vq)); /* first decision */
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	virtq_push(&d->vq, 0, 0);	/* used idx 2 -> 3: crosses event 2 */
	assert_true(virtq_should_notify(&d->vq));
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	virtq_push(&d->vq, 0, 0);	/* 3 -> 4: event 2 already passed */
	assert_false(virtq_should_notify(&d->vq));
	/* enable_notify publishes where we are in avail_event. */
	assert_false(virtq_enable_notify(&d->vq));
	assert_int_equal(get16(avail_event), 4);
}

static void test_has_avail_unpop(void **state)
{
	struct drv *d = *state;

	desc(d, 0, BUF_GPA, 4, 0, 0);
	desc(d, 1, BUF_GPA + 8, 8, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(virtq_has_avail(&d->vq), 0);
	avail_push(d, 0);
	avail_push(d, 1);
	assert_int_equal(virtq_has_avail(&d->vq), 1);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.head, 1);
	assert_int_equal(virtq_has_avail(&d->vq), 0);
	/* Both given back: popped again in order, nothing in used. */
	virtq_unpop(&d->vq, 2);
	assert_int_equal(virtq_has_avail(&d->vq), 1);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.head, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.head, 1);
	assert_int_equal(d->c.in_len, 8);
	assert_int_equal(used_idx(d), 0);
	/* has_avail applies the avail idx check too. */
	put16(host(d, AVAIL_GPA) + 2, 0x4000);
	assert_int_equal(virtq_has_avail(&d->vq), -EIO);
	assert_int_equal(d->vq.error, VIRTQ_ERR_AVAIL_IDX);
}

static void test_reset_recovers(void **state)
{
	struct drv *d = *state;

	avail_push(d, QSIZE);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	virtq_reset(&d->vq);
	assert_false(d->vq.broken);
	memset(host(d, AVAIL_GPA), 0, 0x100);
	d->avail_idx = 0;
	d->vq.desc_gpa = DESC_GPA;
	d->vq.avail_gpa = AVAIL_GPA;
	d->vq.used_gpa = USED_GPA;
	assert_int_equal(virtq_enable(&d->vq), 0);
	desc(d, 0, BUF_GPA, 4, 0, 0);
	avail_push(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
}

static void test_guest_mem(void **state)
{
	struct guest_mem gm;
	uint8_t *a = calloc(1, 8192), *b = calloc(1, 8192);
	uint8_t buf[16];

	(void)state;
	guest_mem_init_empty(&gm);
	/* Two adjacent regions with different host memory. */
	assert_int_equal(guest_mem_add(&gm, 0x10000, 8192, a, 0), 0);
	assert_int_equal(guest_mem_add(&gm, 0x12000, 8192, b, 0), 0);
	assert_int_equal(guest_mem_add(&gm, 0x11000, 4096, a, 0), -EINVAL);
	assert_int_equal(guest_mem_add(&gm, UINT64_MAX - 10, 100, a, 0),
			 -EINVAL);
	assert_ptr_equal(guest_mem_ptr(&gm, 0x10000, 8192), a);
	assert_ptr_equal(guest_mem_ptr(&gm, 0x12000 + 100, 1), b + 100);
	/* A range over both regions is not one host range. */
	assert_null(guest_mem_ptr(&gm, 0x11ff8, 16));
	assert_null(guest_mem_ptr(&gm, 0x13fff, 2));
	assert_null(guest_mem_ptr(&gm, 0xffff, 2));
	assert_null(guest_mem_ptr(&gm, 0x10000, UINT64_MAX));
	assert_null(guest_mem_ptr(&gm, 0x10010, UINT64_MAX - 8));
	assert_null(guest_mem_ptr(&gm, UINT64_MAX, 2));
	/* The copy helpers may span regions. */
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(guest_mem_write(&gm, 0x11ff8, buf, 16), 0);
	assert_int_equal(a[8191], 0x5a);
	assert_int_equal(b[7], 0x5a);
	assert_int_equal(b[8], 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(guest_mem_read(&gm, 0x11ff8, buf, 16), 0);
	assert_int_equal(buf[15], 0x5a);
	/* A write partly outside RAM writes nothing. */
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(guest_mem_write(&gm, 0x13ff8, buf, 16), -EFAULT);
	assert_int_equal(b[8191], 0);
	assert_int_equal(guest_mem_read(&gm, UINT64_MAX - 4, buf, 16),
			 -EFAULT);
	free(a);
	free(b);
}

static void test_guest_mem_memfd(void **state)
{
	struct guest_mem gm;
	uint8_t *p;

	(void)state;
	/* 3 MiB with a 2 MiB low limit: 2 MiB at 0, 1 MiB at 4 GiB. */
	assert_int_equal(guest_mem_init(&gm, 3 << 20, 2 << 20), 0);
	assert_true(gm.fd >= 0);
	assert_int_equal(gm.nr, 2);
	assert_int_equal(gm.regions[1].gpa, 1ull << 32);
	assert_int_equal(gm.regions[1].fd_offset, 2 << 20);
	assert_null(guest_mem_ptr(&gm, 2 << 20, 1));
	p = guest_mem_ptr(&gm, (1ull << 32) + 5, 1);
	assert_non_null(p);
	*p = 0x42;
	/* Same page through the fd: what vhost/netd would map. */
	{
		uint8_t v = 0;

		assert_int_equal(pread(gm.fd, &v, 1, (2 << 20) + 5), 1);
		assert_int_equal(v, 0x42);
	}
	guest_mem_destroy(&gm);
	assert_int_equal(gm.fd, -1);
	assert_int_equal(guest_mem_init(&gm, 4095, UINT64_MAX), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_basic_chain),
		T(test_ring_wraps),
		T(test_loop),
		T(test_self_loop_writable),
		T(test_head_out_of_range),
		T(test_next_out_of_range),
		T(test_avail_idx_jump),
		T(test_avail_idx_backwards),
		T(test_avail_idx_read_once),
		T(test_write_before_read),
		T(test_range_crosses_end_of_ram),
		T(test_range_ends_at_end_of_ram),
		T(test_gpa_wraparound),
		T(test_addr_outside_ram),
		T(test_indirect_ok),
		T(test_indirect_not_negotiated),
		T(test_indirect_bad_len),
		T(test_indirect_too_long),
		T(test_indirect_loop),
		T(test_indirect_next_outside_table),
		T(test_indirect_nested),
		T(test_indirect_with_next),
		T(test_indirect_table_outside_ram),
		T(test_too_many_segments),
		T(test_zero_length_skipped),
		T(test_push_bad_head),
		T(test_enable_checks),
		T(test_notify_flags),
		T(test_notify_event_idx),
		T(test_has_avail_unpop),
		T(test_reset_recovers),
		cmocka_unit_test(test_guest_mem),
		cmocka_unit_test(test_guest_mem_memfd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
