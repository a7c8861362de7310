/* SPDX-License-Identifier: MIT */
/* virtq.c - device side of a split virtqueue, walked with vhost's checks. */
#include "vmm/virtio/virtq.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"

LOG_MODULE("virtq");

/* Ring layout offsets (virtio 1.2, 2.7). */
enum {
	AVAIL_FLAGS = 0,
	AVAIL_IDX = 2,
	AVAIL_RING = 4,
	USED_FLAGS = 0,
	USED_IDX = 2,
	USED_RING = 4,
	USED_ELEM_SIZE = 8,
};

static const char *const virtq_error_names[VIRTQ_ERR__MAX] = {
	[VIRTQ_OK] = "no error",
	[VIRTQ_ERR_SIZE] = "bad queue size",
	[VIRTQ_ERR_RING_ADDR] = "ring address misaligned or outside RAM",
	[VIRTQ_ERR_AVAIL_IDX] = "avail idx moved by more than the queue size",
	[VIRTQ_ERR_HEAD] = "head index out of range",
	[VIRTQ_ERR_NEXT] = "next index out of range",
	[VIRTQ_ERR_LOOP] = "descriptor chain loops",
	[VIRTQ_ERR_INDIRECT] = "bad indirect descriptor",
	[VIRTQ_ERR_NESTED] = "nested indirect descriptor",
	[VIRTQ_ERR_ORDER] = "readable descriptor after a writable one",
	[VIRTQ_ERR_ADDR] = "descriptor range outside RAM",
	[VIRTQ_ERR_TOO_MANY] = "chain has too many segments",
	[VIRTQ_ERR_USED] = "used id out of range",
};

const char *virtq_error_str(enum virtq_error err)
{
	if ((unsigned int)err >= VIRTQ_ERR__MAX)
		return "unknown";
	return virtq_error_names[err];
}

/* Plain little-endian accessors for ring bytes the guest may change. */
static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void wr16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void wr32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

/* Index fields are shared with a running guest: atomic, 2-byte aligned. */
static uint16_t load_idx(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p,
				       __ATOMIC_ACQUIRE));
}

static void store_idx(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELEASE);
}

static void virtq_fail(struct virtq *vq, enum virtq_error err)
{
	if (vq->broken)
		return;
	vq->broken = true;
	vq->error = err;
	log_rl(LOG_WARN, MOD, "%s: queue %u: %s; queue stopped",
	       vq->name ? vq->name : "?", vq->index, virtq_error_str(err));
	if (vq->on_error)
		vq->on_error(vq, vq->opaque);
}

void virtq_init(struct virtq *vq, const struct guest_mem *gm,
		unsigned int index, uint16_t max_size, const char *name)
{
	memset(vq, 0, sizeof(*vq));
	vq->gm = gm;
	vq->index = index;
	vq->max_size = max_size;
	vq->name = name;
	virtq_reset(vq);
}

void virtq_reset(struct virtq *vq)
{
	vq->size = vq->max_size;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->msix_vector = 0xffff;
	vq->enabled = vq->broken = false;
	vq->error = VIRTQ_OK;
	vq->event_idx = vq->indirect = false;
	vq->desc = vq->avail = vq->used = NULL;
	vq->last_avail = vq->avail_idx = vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Host address of a whole ring, or NULL; alignment of gpa and host alike. */
static uint8_t *virtq_map_ring(const struct virtq *vq, uint64_t gpa,
			       uint64_t len, uint64_t align)
{
	uint8_t *p;

	if (gpa & (align - 1))
		return NULL;
	p = guest_mem_ptr(vq->gm, gpa, len);
	if (!p || ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

int virtq_enable(struct virtq *vq)
{
	uint64_t n = vq->size;

	vq->enabled = false;
	if (vq->broken)
		return -EINVAL;
	if (!is_pow2(n) || n > VIRTQ_MAX_SIZE || n > vq->max_size) {
		virtq_fail(vq, VIRTQ_ERR_SIZE);
		return -EINVAL;
	}
	/* Sizes include used_event / avail_event, used with EVENT_IDX. */
	vq->desc = virtq_map_ring(vq, vq->desc_gpa, VIRTQ_DESC_SIZE * n, 16);
	vq->avail = virtq_map_ring(vq, vq->avail_gpa, AVAIL_RING + 2 * n + 2,
				   2);
	vq->used = virtq_map_ring(vq, vq->used_gpa,
				  USED_RING + USED_ELEM_SIZE * n + 2, 4);
	if (!vq->desc || !vq->avail || !vq->used) {
		vq->desc = vq->avail = vq->used = NULL;
		virtq_fail(vq, VIRTQ_ERR_RING_ADDR);
		return -EINVAL;
	}
	vq->last_avail = vq->avail_idx = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
	vq->enabled = true;
	return 0;
}

/* Reread avail->idx and check how far it moved. */
static int virtq_refresh_avail(struct virtq *vq)
{
	uint16_t idx = load_idx(vq->avail + AVAIL_IDX);

	if ((uint16_t)(idx - vq->last_avail) > vq->size) {
		virtq_fail(vq, VIRTQ_ERR_AVAIL_IDX);
		return -EIO;
	}
	vq->avail_idx = idx;
	return 0;
}

struct desc_copy {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static void desc_read(const uint8_t *table, unsigned int i,
		      struct desc_copy *d)
{
	const uint8_t *p = table + (size_t)i * VIRTQ_DESC_SIZE;

	d->addr = rd64(p);
	d->len = rd32(p + 8);
	d->flags = rd16(p + 12);
	d->next = rd16(p + 14);
}

/* Walk one chain from @head; every index and range checked. */
static enum virtq_error virtq_walk(struct virtq *vq, uint16_t head,
				   struct virtq_chain *c)
{
	const uint8_t *table = vq->desc;
	unsigned int table_size = vq->size;
	unsigned int i = head, count = 0, nsegs = 0;
	bool in_indirect = false, seen_write = false;
	struct desc_copy d;

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	if (head >= vq->size)
		return VIRTQ_ERR_HEAD;
	for (;;) {
		/* Bounded: each table walk ends after table_size steps. */
		if (++count > table_size)
			return VIRTQ_ERR_LOOP;
		desc_read(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return VIRTQ_ERR_INDIRECT;
			if (in_indirect)
				return VIRTQ_ERR_NESTED;
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return VIRTQ_ERR_INDIRECT;
			if (!d.len || d.len % VIRTQ_DESC_SIZE ||
			    d.len / VIRTQ_DESC_SIZE > vq->size)
				return VIRTQ_ERR_INDIRECT;
			/* Aligned like any descriptor table, whole range RAM. */
			table = guest_mem_ptr(vq->gm, d.addr, d.len);
			if (!table)
				return VIRTQ_ERR_ADDR;
			table_size = d.len / VIRTQ_DESC_SIZE;
			in_indirect = true;
			count = 0;
			i = 0;
			continue;
		}
		if (d.flags & VIRTQ_DESC_F_WRITE)
			seen_write = true;
		else if (seen_write)
			return VIRTQ_ERR_ORDER;
		if (d.len) {
			uint8_t *p = guest_mem_ptr(vq->gm, d.addr, d.len);

			if (!p)
				return VIRTQ_ERR_ADDR;
			if (nsegs >= c->max_segs)
				return VIRTQ_ERR_TOO_MANY;
			c->segs[nsegs].base = p;
			c->segs[nsegs].len = d.len;
			nsegs++;
			if (d.flags & VIRTQ_DESC_F_WRITE) {
				c->nr_in++;
				c->in_len += d.len;
			} else {
				c->nr_out++;
				c->out_len += d.len;
			}
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VIRTQ_OK;
		if (d.next >= table_size)
			return VIRTQ_ERR_NEXT;
		i = d.next;
	}
}

int virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
	enum virtq_error err;
	uint16_t head;

	if (vq->broken)
		return -EIO;
	if (!vq->enabled)
		return 0;
	if (vq->last_avail == vq->avail_idx) {
		if (virtq_refresh_avail(vq))
			return -EIO;
		if (vq->last_avail == vq->avail_idx)
			return 0;
	}
	head = rd16(vq->avail + AVAIL_RING +
		    2 * (vq->last_avail & (vq->size - 1)));
	err = virtq_walk(vq, head, chain);
	if (err) {
		virtq_fail(vq, err);
		return -EIO;
	}
	vq->last_avail++;
	vq->counters.pops++;
	return 1;
}

int virtq_has_avail(struct virtq *vq)
{
	if (vq->broken)
		return -EIO;
	if (!vq->enabled)
		return 0;
	if (vq->last_avail == vq->avail_idx && virtq_refresh_avail(vq))
		return -EIO;
	return vq->last_avail != vq->avail_idx;
}

void virtq_unpop(struct virtq *vq, unsigned int n)
{
	vq->last_avail = (uint16_t)(vq->last_avail - n);
}

int virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
	uint8_t *elem;

	if (vq->broken || !vq->enabled)
		return -EIO;
	if (head >= vq->size) {
		virtq_fail(vq, VIRTQ_ERR_USED);
		return -EIO;
	}
	elem = vq->used + USED_RING +
	       USED_ELEM_SIZE * (vq->used_idx & (vq->size - 1));
	wr32(elem, head);
	wr32(elem + 4, written);
	vq->used_idx++;
	/* Release: the element is visible before the index that covers it. */
	store_idx(vq->used + USED_IDX, vq->used_idx);
	vq->counters.pushes++;
	return 0;
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, new = vq->used_idx, event;
	bool valid = vq->signalled_valid;

	if (!vq->enabled || vq->broken)
		return false;
	/* Our used idx store must be visible before we read the driver's
	 * suppression fields, or both sides could skip the notification. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = new;
	vq->signalled_valid = true;
	if (valid && old == new)
		return false;
	if (!vq->event_idx) {
		if (rd16(vq->avail + AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT)
			return false;
		vq->counters.irqs++;
		return true;
	}
	event = rd16(vq->avail + AVAIL_RING + 2 * vq->size);
	/* Interrupt if used_event lies in [old, new): the driver asked to be
	 * told once the device passes it. */
	if (!valid || (uint16_t)(new - event - 1) < (uint16_t)(new - old)) {
		vq->counters.irqs++;
		return true;
	}
	return false;
}

void virtq_disable_notify(struct virtq *vq)
{
	if (!vq->enabled || vq->broken || vq->event_idx)
		return;
	wr16(vq->used + USED_FLAGS, VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (!vq->enabled || vq->broken)
		return false;
	if (vq->event_idx)
		wr16(vq->used + USED_RING + USED_ELEM_SIZE * vq->size,
		     vq->last_avail);
	else
		wr16(vq->used + USED_FLAGS, 0);
	/* The flag store must land before the recheck of avail->idx. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (virtq_refresh_avail(vq))
		return false;
	return vq->avail_idx != vq->last_avail;
}

bool virtq_enable_notify_beyond(struct virtq *vq, uint16_t seen)
{
	if (!vq->enabled || vq->broken)
		return false;
	/* avail_event = seen: the driver kicks once its index passes it. */
	if (vq->event_idx)
		wr16(vq->used + USED_RING + USED_ELEM_SIZE * vq->size, seen);
	else
		wr16(vq->used + USED_FLAGS, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (virtq_refresh_avail(vq))
		return false;
	return vq->avail_idx != seen;
}

int virtq_chain_read(const struct virtq_chain *chain, uint64_t off, void *dst,
		     uint64_t len)
{
	uint8_t *d = dst;
	unsigned int i;

	if (off > chain->out_len || len > chain->out_len - off)
		return -EFAULT;
	for (i = 0; i < chain->nr_out && len; i++) {
		const struct virtq_seg *s = &chain->segs[i];
		uint64_t n;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off;
		if (n > len)
			n = len;
		memcpy(d, s->base + off, n);
		d += n;
		len -= n;
		off = 0;
	}
	return 0;
}

int virtq_chain_write(const struct virtq_chain *chain, uint64_t off,
		      const void *src, uint64_t len)
{
	const uint8_t *s8 = src;
	unsigned int i;

	if (off > chain->in_len || len > chain->in_len - off)
		return -EFAULT;
	for (i = 0; i < chain->nr_in && len; i++) {
		const struct virtq_seg *s = &chain->segs[chain->nr_out + i];
		uint64_t n;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off;
		if (n > len)
			n = len;
		memcpy(s->base + off, s8, n);
		s8 += n;
		len -= n;
		off = 0;
	}
	return 0;
}
