/* SPDX-License-Identifier: MIT */
/* shm_ring.c - shm port rings: region layout, producer and consumer ends. */
#include "common/shm_ring.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Shared fields are plain uint32_t in the ABI; both ends access them with
 * the GCC/Clang __atomic builtins, which work on plain objects.
 */
#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define LOAD_RLX(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define STORE_RLX(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define FENCE_FULL() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ volatile("" ::: "memory");
#endif
}

uint64_t shm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int shm_layout_compute(struct shm_layout *l, uint32_t ring_size,
		       uint32_t data_size, uint64_t features)
{
	uint64_t off = align_up(sizeof(struct shm_port_header), 4096);

	if (!is_pow2(ring_size) || ring_size < SHM_BATCH_MAX ||
	    ring_size > SHM_RING_SIZE_MAX || data_size < SHM_DATA_SIZE_MIN ||
	    data_size > SHM_DATA_SIZE_MAX || data_size % SHM_DATA_ALIGN ||
	    features & ~(uint64_t)SHM_F_ALL)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->ring_size = ring_size;
	l->data_size = data_size;
	l->features = features;
	for (int d = 0; d < 2; d++) {
		l->ring_off[d] = off;
		off += sizeof(struct shm_ring);
		l->slots_off[d] = off;
		off = align_up(
		    off + (uint64_t)ring_size * sizeof(struct shm_slot), 4096);
		l->data_off[d] = off;
		off += data_size;
	}
	l->region_size = align_up(off, 4096);
	return 0;
}

void shm_header_write(void *base, const struct shm_layout *l,
		      const uint8_t mac[6])
{
	struct shm_port_header *h = base;

	memset(h, 0, sizeof(*h));
	h->magic = SHM_PORT_MAGIC;
	h->version = SHM_PORT_VERSION;
	h->header_size = sizeof(*h);
	h->ring_size = l->ring_size;
	h->slot_size = sizeof(struct shm_slot);
	h->data_size = l->data_size;
	h->region_size = l->region_size;
	h->features = l->features;
	h->to_netd_off = l->ring_off[SHM_TO_NETD];
	h->to_netd_slots = l->slots_off[SHM_TO_NETD];
	h->to_netd_data = l->data_off[SHM_TO_NETD];
	h->to_peer_off = l->ring_off[SHM_TO_PEER];
	h->to_peer_slots = l->slots_off[SHM_TO_PEER];
	h->to_peer_data = l->data_off[SHM_TO_PEER];
	memcpy(h->mac, mac, 6);
}

void shm_header_link_set(void *base, bool down)
{
	struct shm_port_header *h = base;

	__atomic_store_n(&h->link, down ? SHM_LINK_F_DOWN : 0,
			 __ATOMIC_RELEASE);
}

bool shm_header_link_down(const void *base)
{
	const struct shm_port_header *h = base;

	return __atomic_load_n(&h->link, __ATOMIC_ACQUIRE) & SHM_LINK_F_DOWN;
}

int shm_header_parse(const void *base, size_t map_size, struct shm_layout *l)
{
	struct shm_port_header h;

	if (map_size < sizeof(h))
		return -EPROTO;
	/* One private copy; the other side could still be writing it. */
	memcpy(&h, base, sizeof(h));
	atomic_signal_fence(memory_order_seq_cst);
	if (h.magic != SHM_PORT_MAGIC)
		return -EPROTO;
	if (h.version != SHM_PORT_VERSION)
		return -EPROTONOSUPPORT;
	if (h.header_size != sizeof(h) ||
	    h.slot_size != sizeof(struct shm_slot))
		return -EPROTO;
	if (shm_layout_compute(l, h.ring_size, h.data_size, h.features) < 0)
		return -EPROTO;
	if (h.region_size != l->region_size || l->region_size > map_size ||
	    h.to_netd_off != l->ring_off[SHM_TO_NETD] ||
	    h.to_netd_slots != l->slots_off[SHM_TO_NETD] ||
	    h.to_netd_data != l->data_off[SHM_TO_NETD] ||
	    h.to_peer_off != l->ring_off[SHM_TO_PEER] ||
	    h.to_peer_slots != l->slots_off[SHM_TO_PEER] ||
	    h.to_peer_data != l->data_off[SHM_TO_PEER])
		return -EPROTO;
	return 0;
}

const char *shm_violation_str(enum shm_violation v)
{
	switch (v) {
	case SHM_OK:
		return "ok";
	case SHM_BAD_INDEX:
		return "index moved backwards or beyond the ring";
	case SHM_BAD_BUFFER:
		return "frame outside the data area";
	case SHM_BAD_LENGTH:
		return "bad frame length";
	case SHM_BAD_OFFLOAD:
		return "bad offload metadata";
	case SHM_BAD_FLAGS:
		return "reserved bits set";
	}
	return "?";
}

int shm_prod_init(struct shm_prod *p, void *base, const struct shm_layout *l,
		  enum shm_dir dir)
{
	uint8_t *b = base;

	memset(p, 0, sizeof(*p));
	p->ring = (struct shm_ring *)(b + l->ring_off[dir]);
	p->slots = (struct shm_slot *)(b + l->slots_off[dir]);
	p->data = b + l->data_off[dir];
	p->mask = l->ring_size - 1;
	p->data_size = l->data_size;
	p->slot_off = calloc(l->ring_size, sizeof(*p->slot_off));
	if (!p->slot_off)
		return -ENOMEM;
	/* Start from whatever the region holds: a fresh one is all zero. */
	p->prod = p->published = p->cons = LOAD_RLX(&p->ring->prod);
	if (LOAD_RLX(&p->ring->cons) != p->prod) {
		free(p->slot_off);
		p->slot_off = NULL;
		return -EPROTO;
	}
	return 0;
}

void shm_prod_fini(struct shm_prod *p)
{
	free(p->slot_off);
	p->slot_off = NULL;
}

void shm_cons_init(struct shm_cons *c, void *base, const struct shm_layout *l,
		   enum shm_dir dir)
{
	uint8_t *b = base;

	memset(c, 0, sizeof(*c));
	c->ring = (struct shm_ring *)(b + l->ring_off[dir]);
	c->slots = (const struct shm_slot *)(b + l->slots_off[dir]);
	c->data = b + l->data_off[dir];
	c->mask = l->ring_size - 1;
	c->data_size = l->data_size;
	c->features = l->features;
	c->cons = c->released = c->prod = LOAD_RLX(&c->ring->cons);
}

/*
 * Read the consumer index once and check it: it may only move forward, and
 * only over slots we published.
 */
static bool prod_refresh(struct shm_prod *p)
{
	uint32_t c = LOAD_ACQ(&p->ring->cons);

	if ((uint32_t)(c - p->cons) > (uint32_t)(p->published - p->cons)) {
		p->broken = true;
		return false;
	}
	p->cons = c;
	return true;
}

/* Where a frame of @need bytes fits in the data ring, or -1. */
static int64_t prod_place(const struct shm_prod *p, uint32_t need)
{
	uint32_t tail, head = p->head;

	if (p->prod == p->cons)
		return 0; /* nothing in flight: restart at the front */
	tail = p->slot_off[p->cons & p->mask];
	if (head > tail) {
		if (need <= p->data_size - head)
			return head;
		if (need <= tail)
			return 0;
		return -1;
	}
	if (head < tail && need <= tail - head)
		return head;
	return -1; /* head == tail with frames in flight: full */
}

uint32_t shm_prod_free_slots(struct shm_prod *p)
{
	if (!prod_refresh(p))
		return 0;
	return p->mask + 1 - (p->prod - p->cons);
}

uint8_t *shm_prod_alloc(struct shm_prod *p, uint32_t len)
{
	uint32_t need = (uint32_t)align_up(len, SHM_DATA_ALIGN);
	int64_t off;

	if (p->broken || len < SHM_FRAME_MIN || len > SHM_FRAME_MAX)
		return NULL;
	if (p->prod - p->cons > p->mask) {
		if (!prod_refresh(p) || p->prod - p->cons > p->mask)
			goto full;
	}
	off = prod_place(p, need);
	if (off < 0) {
		if (!prod_refresh(p) || p->prod - p->cons > p->mask)
			goto full;
		off = prod_place(p, need);
		if (off < 0)
			goto full;
	}
	p->next_off = (uint32_t)off;
	p->next_need = need;
	return p->data + off;
full:
	p->st.full++;
	return NULL;
}

void shm_prod_commit(struct shm_prod *p, const struct shm_desc *d)
{
	struct shm_slot *s = &p->slots[p->prod & p->mask];
	struct shm_slot v = {
	    .off = p->next_off,
	    .len = d->len,
	    .vnet_flags = d->vnet_flags,
	    .gso_type = d->gso_type,
	    .hdr_len = d->hdr_len,
	    .gso_size = d->gso_size,
	    .csum_start = d->csum_start,
	    .csum_offset = d->csum_offset,
	};

	*s = v;
	p->slot_off[p->prod & p->mask] = p->next_off;
	p->head = p->next_off + p->next_need;
	p->prod++;
	p->st.frames++;
	p->st.bytes += d->len;
}

/* Did moving an index from @old to @new pass @event (virtio's rule)? */
static inline bool event_crossed(uint32_t event, uint32_t new_idx, uint32_t old)
{
	return (uint32_t)(new_idx - event - 1) < (uint32_t)(new_idx - old);
}

bool shm_prod_publish(struct shm_prod *p)
{
	uint32_t old = p->published;

	if (p->prod == old)
		return false;
	STORE_REL(&p->ring->prod, p->prod);
	p->published = p->prod;
	p->st.batches++;
	/* Pairs with the consumer's fence in shm_cons_arm(). */
	FENCE_FULL();
	return event_crossed(LOAD_RLX(&p->ring->cons_event), p->prod, old);
}

bool shm_prod_arm(struct shm_prod *p, uint32_t need_slots)
{
	uint32_t seen = p->cons;

	STORE_RLX(&p->ring->prod_event, seen);
	p->st.sleeps++;
	FENCE_FULL();
	/*
	 * A release since @seen (too small to satisfy us) went past the
	 * event before it was stored, and later ones never cross it: not
	 * asleep then, or nothing would wake us.
	 */
	if (shm_prod_free_slots(p) >= need_slots || p->broken ||
	    p->cons != seen)
		return false;
	return true;
}

void shm_prod_disarm(struct shm_prod *p)
{
	/* Nothing to undo: a stale event falls behind and is never crossed. */
	(void)p;
}

int shm_cons_peek(struct shm_cons *c)
{
	uint32_t p, avail;

	if (c->broken)
		return -EPROTO;
	p = LOAD_ACQ(&c->ring->prod);
	avail = p - c->cons;
	/* Not beyond the ring, and not behind what we already saw. */
	if (avail > c->mask + 1 || avail < (uint32_t)(c->prod - c->cons)) {
		c->broken = true;
		return -EPROTO;
	}
	c->prod = p;
	return (int)avail;
}

enum shm_violation shm_offload_check(const struct shm_desc *d,
				     uint64_t features)
{
	uint8_t base = d->gso_type & (uint8_t)~SHM_VNET_GSO_ECN;

	/* The common case, a frame without offloads, in one test. */
	if (!(d->vnet_flags | d->gso_type | d->gso_size))
		return d->hdr_len > d->len ? SHM_BAD_OFFLOAD : SHM_OK;
	if (d->vnet_flags & ~(SHM_VNET_F_NEEDS_CSUM | SHM_VNET_F_DATA_VALID))
		return SHM_BAD_OFFLOAD;
	if (d->vnet_flags & SHM_VNET_F_NEEDS_CSUM) {
		if (!(features & SHM_F_CSUM) ||
		    (uint32_t)d->csum_start + d->csum_offset + 2 > d->len)
			return SHM_BAD_OFFLOAD;
	}
	if (d->hdr_len > d->len)
		return SHM_BAD_OFFLOAD;
	switch (base) {
	case SHM_VNET_GSO_NONE:
		if (d->gso_type != SHM_VNET_GSO_NONE || d->gso_size)
			return SHM_BAD_OFFLOAD;
		return SHM_OK;
	case SHM_VNET_GSO_TCPV4:
	case SHM_VNET_GSO_TCPV6:
		if (!(features & SHM_F_GSO_TCP))
			return SHM_BAD_OFFLOAD;
		break;
	case SHM_VNET_GSO_UDP:
	case SHM_VNET_GSO_UDP_L4:
		if (!(features & SHM_F_GSO_UDP))
			return SHM_BAD_OFFLOAD;
		break;
	default:
		return SHM_BAD_OFFLOAD;
	}
	if ((d->gso_type & SHM_VNET_GSO_ECN) && !(features & SHM_F_GSO_ECN))
		return SHM_BAD_OFFLOAD;
	/* A segment carries at least one byte (16 bits bound it above). */
	if (d->gso_size == 0)
		return SHM_BAD_OFFLOAD;
	return SHM_OK;
}

const uint8_t *shm_cons_get(struct shm_cons *c, uint32_t i, struct shm_desc *d,
			    enum shm_violation *why)
{
	struct shm_slot s;
	enum shm_violation v = SHM_OK;

	if (c->broken || i >= c->prod - c->cons) {
		v = SHM_BAD_INDEX;
		goto bad;
	}
	/*
	 * One private copy; the barrier keeps the compiler from reading the
	 * shared slot again after the checks.
	 */
	memcpy(&s, &c->slots[(c->cons + i) & c->mask], sizeof(s));
	atomic_signal_fence(memory_order_seq_cst);
	d->off = s.off;
	d->len = s.len;
	d->vnet_flags = s.vnet_flags;
	d->gso_type = s.gso_type;
	d->hdr_len = s.hdr_len;
	d->gso_size = s.gso_size;
	d->csum_start = s.csum_start;
	d->csum_offset = s.csum_offset;
	if (s.flags || s.reserved[0] || s.reserved[1] || s.reserved[2])
		v = SHM_BAD_FLAGS;
	else if (s.len < SHM_FRAME_MIN || s.len > SHM_FRAME_MAX)
		v = SHM_BAD_LENGTH;
	else if ((uint64_t)s.off + s.len > c->data_size)
		v = SHM_BAD_BUFFER;
	else
		v = shm_offload_check(d, c->features);
	if (v == SHM_OK) {
		c->st.frames++;
		c->st.bytes += s.len;
		return c->data + s.off;
	}
bad:
	c->broken = true;
	if (why)
		*why = v;
	return NULL;
}

bool shm_cons_release(struct shm_cons *c, uint32_t n)
{
	uint32_t old = c->cons;

	if (n > c->prod - c->cons)
		n = c->prod - c->cons;
	if (!n)
		return false;
	c->cons += n;
	c->released = c->cons;
	c->st.batches++;
	STORE_REL(&c->ring->cons, c->cons);
	/* Pairs with the producer's fence in shm_prod_arm(). */
	FENCE_FULL();
	return event_crossed(LOAD_RLX(&c->ring->prod_event), c->cons, old);
}

bool shm_cons_arm(struct shm_cons *c)
{
	STORE_RLX(&c->ring->cons_event, c->cons);
	c->armed = true;
	c->st.sleeps++;
	FENCE_FULL();
	return LOAD_ACQ(&c->ring->prod) == c->cons;
}

void shm_cons_disarm(struct shm_cons *c)
{
	/* A stale event falls behind and is never crossed again. */
	c->armed = false;
}

int shm_kick(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return errno == EAGAIN ? 0 : -errno;
	return 0;
}

void shm_drain(int efd)
{
	uint64_t v;

	if (read(efd, &v, sizeof(v)) < 0)
		return; /* EAGAIN: nothing pending */
}

static int wait_fd(int efd, int timeout_ms)
{
	struct pollfd pfd = {.fd = efd, .events = POLLIN};
	int r = poll(&pfd, 1, timeout_ms);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r > 0)
		shm_drain(efd);
	return r;
}

int shm_cons_wait(struct shm_cons *c, int efd, uint64_t spin_ns, int timeout_ms)
{
	uint64_t start = shm_now_ns();
	uint64_t deadline = timeout_ms < 0
				? UINT64_MAX
				: start + (uint64_t)timeout_ms * 1000000;
	unsigned int iter = 0;
	int n;

	for (;;) {
		n = shm_cons_peek(c);
		if (n != 0)
			return n;
		if ((++iter & 63) == 0 && shm_now_ns() - start >= spin_ns)
			break;
		cpu_relax();
	}
	for (;;) {
		uint64_t now = shm_now_ns();
		int ms = -1, r;

		if (deadline != UINT64_MAX) {
			if (now >= deadline)
				return 0;
			ms = (int)((deadline - now + 999999) / 1000000);
		}
		if (shm_cons_arm(c)) {
			r = wait_fd(efd, ms);
			shm_cons_disarm(c);
			if (r < 0)
				return r;
		}
		n = shm_cons_peek(c);
		if (n != 0)
			return n;
	}
}

int shm_prod_wait(struct shm_prod *p, int efd, uint32_t need, uint64_t spin_ns,
		  int timeout_ms)
{
	uint64_t start = shm_now_ns();
	uint64_t deadline = timeout_ms < 0
				? UINT64_MAX
				: start + (uint64_t)timeout_ms * 1000000;
	uint32_t cons0 = p->cons;
	unsigned int iter = 0;

	for (;;) {
		uint32_t f = shm_prod_free_slots(p);

		if (p->broken)
			return -EPROTO;
		if (f >= need || p->cons != cons0)
			return (int)f;
		if ((++iter & 63) == 0 && shm_now_ns() - start >= spin_ns)
			break;
		cpu_relax();
	}
	for (;;) {
		uint64_t now = shm_now_ns();
		int ms = -1, r;
		uint32_t f;

		if (deadline != UINT64_MAX) {
			if (now >= deadline)
				return 0;
			ms = (int)((deadline - now + 999999) / 1000000);
		}
		if (shm_prod_arm(p, need)) {
			r = wait_fd(efd, ms);
			shm_prod_disarm(p);
			if (r < 0)
				return r;
		}
		f = shm_prod_free_slots(p);
		if (p->broken)
			return -EPROTO;
		if (f >= need || p->cons != cons0)
			return (int)f;
	}
}
