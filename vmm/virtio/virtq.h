/* SPDX-License-Identifier: MIT */
/* virtq.h - device side of a split virtqueue, walked with vhost's checks. */
#ifndef LOOM_VMM_VIRTIO_VIRTQ_H
#define LOOM_VMM_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

/*
 * Split virtqueue (virtio 1.2 section 2.7), as the device sees it:
 *
 *   descriptor table  16 bytes each: le64 addr, le32 len, le16 flags,
 *                     le16 next                        (driver writes)
 *   avail ring        le16 flags, le16 idx, le16 ring[size],
 *                     le16 used_event                  (driver writes)
 *   used ring         le16 flags, le16 idx, {le32 id, le32 len}[size],
 *                     le16 avail_event                 (device writes)
 *
 *   last_avail ..... avail_idx : chains the driver made available that the
 *                                device has not popped yet
 *   used_idx                   : next used slot the device fills
 *
 * Everything in the rings is written by the guest at any time. The walker
 * copies each descriptor once before using it, reads avail->idx once per
 * batch (when its cached copy is used up), and checks:
 *   - queue size a power of two, 1..32768, not above the device's maximum;
 *   - ring addresses aligned (16/2/4) and each ring's whole extent is RAM,
 *     when the queue is enabled;
 *   - avail->idx moved by at most the queue size since the last chain popped;
 *   - head index < queue size, every next index < its table's size;
 *   - a chain longer than the queue size is a loop;
 *   - indirect descriptors only if negotiated, table length a non-zero
 *     multiple of 16 with at most queue-size entries, no nested indirect,
 *     no INDIRECT together with NEXT;
 *   - no readable descriptor after a writable one;
 *   - each descriptor's whole (addr, len) range is RAM (guest_mem_ptr());
 *   - a chain fits the caller's segment array.
 * A violation marks the queue broken (no further pops or pushes), logs a
 * rate-limited line and calls vq->on_error so the transport can set
 * DEVICE_NEEDS_RESET. Only a device reset clears it.
 *
 * Locking: one thread at a time per queue (the device's I/O thread, or the
 * transport with the device lock held while resetting/enabling).
 */

enum {
	VIRTQ_MAX_SIZE = 32768,
	VIRTQ_DESC_SIZE = 16,
	VIRTQ_DESC_F_NEXT = 1,
	VIRTQ_DESC_F_WRITE = 2,
	VIRTQ_DESC_F_INDIRECT = 4,
	VIRTQ_AVAIL_F_NO_INTERRUPT = 1,
	VIRTQ_USED_F_NO_NOTIFY = 1,
};

/* Why a queue was stopped; vq->error keeps the first one. */
enum virtq_error {
	VIRTQ_OK = 0,
	VIRTQ_ERR_SIZE,		/* queue size not a power of two / too big */
	VIRTQ_ERR_RING_ADDR,	/* ring misaligned or not inside RAM */
	VIRTQ_ERR_AVAIL_IDX,	/* avail idx moved by more than the size */
	VIRTQ_ERR_HEAD,		/* head index >= queue size */
	VIRTQ_ERR_NEXT,		/* next index >= table size */
	VIRTQ_ERR_LOOP,		/* chain longer than the queue/table */
	VIRTQ_ERR_INDIRECT,	/* indirect not negotiated, bad length, +NEXT */
	VIRTQ_ERR_NESTED,	/* indirect descriptor inside an indirect table */
	VIRTQ_ERR_ORDER,	/* readable descriptor after a writable one */
	VIRTQ_ERR_ADDR,		/* descriptor range not inside RAM */
	VIRTQ_ERR_TOO_MANY,	/* more segments than the caller can hold */
	VIRTQ_ERR_USED,		/* pushed an id that is not a valid head */
	VIRTQ_ERR__MAX,
};

/**
 * struct virtq_seg - one guest buffer, already translated.
 * @base: host address of the whole range (checked by guest_mem_ptr()).
 * @len: its length in bytes (never 0: empty descriptors are skipped).
 */
struct virtq_seg {
	uint8_t *base;
	uint32_t len;
};

/**
 * struct virtq_chain - a popped descriptor chain.
 * @head: its head index, to give back with virtq_push().
 * @segs: caller-provided array; readable segments first (@nr_out of them,
 *	device reads: "out" of the driver), then writable ones (@nr_in).
 * @max_segs: capacity of @segs; a chain needing more is a violation.
 *	Sizing it to the queue size accepts every chain the driver may make
 *	without indirect; a device that advertises a segment limit (virtio-blk
 *	seg_max) may size it to that limit plus its headers.
 * @nr_out: number of readable segments.
 * @nr_in: number of writable segments, at segs[nr_out..].
 * @out_len: total readable bytes.
 * @in_len: total writable bytes.
 */
struct virtq_chain {
	uint16_t head;
	struct virtq_seg *segs;
	unsigned int max_segs;
	unsigned int nr_out;
	unsigned int nr_in;
	uint64_t out_len;
	uint64_t in_len;
};

/**
 * struct virtq - one split virtqueue.
 * @max_size: the device's maximum, shown to the driver (power of two).
 * @size: the size the driver chose (set before enable).
 * @desc_gpa: descriptor table address (set by the transport).
 * @avail_gpa: driver area (avail ring) address.
 * @used_gpa: device area (used ring) address.
 * @msix_vector: MSI-X vector of this queue (transport bookkeeping).
 * @enabled: the driver enabled the queue and its rings passed the checks.
 * @broken: a violation stopped the queue until reset.
 * @error: first violation seen (enum virtq_error).
 * @event_idx: VIRTIO_F_EVENT_IDX negotiated.
 * @indirect: VIRTIO_F_INDIRECT_DESC negotiated.
 * @index: queue number in the device, for logs.
 * @name: device name, for logs.
 * @on_error: called once when the queue breaks (may be NULL).
 * @opaque: argument of @on_error.
 * @gm: guest memory.
 * @desc: host address of the descriptor table (valid while enabled).
 * @avail: host address of the avail ring.
 * @used: host address of the used ring.
 * @last_avail: next avail slot to pop (free-running).
 * @avail_idx: cached avail->idx, reread only when last_avail reaches it.
 * @used_idx: next used slot to fill (free-running).
 * @signalled_used: used_idx at the last interrupt decision.
 * @signalled_valid: @signalled_used is meaningful.
 * @counters: pops, pushes and interrupts, for the control socket.
 */
struct virtq {
	uint16_t max_size;
	uint16_t size;
	uint64_t desc_gpa;
	uint64_t avail_gpa;
	uint64_t used_gpa;
	uint16_t msix_vector;
	bool enabled;
	bool broken;
	enum virtq_error error;
	bool event_idx;
	bool indirect;
	unsigned int index;
	const char *name;
	void (*on_error)(struct virtq *vq, void *opaque);
	void *opaque;
	const struct guest_mem *gm;

	uint8_t *desc;
	uint8_t *avail;
	uint8_t *used;
	uint16_t last_avail;
	uint16_t avail_idx;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_valid;
	struct {
		uint64_t pops;
		uint64_t pushes;
		uint64_t irqs;
	} counters;
};

/**
 * virtq_init() - set a queue to its reset state.
 * @vq: the queue.
 * @gm: guest memory it reads.
 * @index: queue number, for logs.
 * @max_size: maximum size offered to the driver (power of two <= 32768).
 * @name: device name, for logs (kept, not copied).
 */
void virtq_init(struct virtq *vq, const struct guest_mem *gm,
		unsigned int index, uint16_t max_size, const char *name);

/**
 * virtq_reset() - back to the reset state (device reset); keeps identity,
 * maximum size and error callback, clears addresses, sizes and errors.
 * @vq: the queue.
 */
void virtq_reset(struct virtq *vq);

/**
 * virtq_enable() - validate the rings the driver set up and start the queue.
 * @vq: the queue, with size and the three addresses filled in.
 *
 * Checks the size and each ring's alignment and whole extent (including
 * used_event/avail_event), and caches the host addresses.
 *
 * Return: 0, or -EINVAL after breaking the queue (vq->error says why).
 */
int virtq_enable(struct virtq *vq);

/**
 * virtq_pop() - take the next available chain.
 * @vq: an enabled queue.
 * @chain: filled in; chain->segs and chain->max_segs set by the caller.
 *
 * Return: 1 with @chain filled, 0 when nothing is available (or the queue
 * is not enabled), -EIO on a violation (the queue is now broken).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *chain);

/**
 * virtq_has_avail() - whether a chain is waiting, without taking it.
 * @vq: the queue.
 *
 * For devices that pop only when they have something to put in the chain
 * (virtio-net receive). Rereads avail->idx only when the cached copy is
 * used up, with the same check as virtq_pop().
 *
 * Return: 1 if virtq_pop() would find a chain, 0 if not, -EIO if the queue
 * is (now) broken.
 */
int virtq_has_avail(struct virtq *vq);

/**
 * virtq_unpop() - put back the last @n popped chains that were not pushed.
 * @vq: the queue.
 * @n: how many (at most the number popped since the last push).
 *
 * For a device that popped chains and then could not use them (a receive
 * buffer too small for the frame, a backend with nothing to send): they are
 * walked again, with all checks, by the next virtq_pop().
 */
void virtq_unpop(struct virtq *vq, unsigned int n);

/**
 * virtq_push() - return a chain to the driver.
 * @vq: the queue.
 * @head: chain->head of a popped chain.
 * @written: bytes the device wrote into the writable segments.
 *
 * Publishes the used element (release order). Does not interrupt: call
 * virtq_should_notify() after a batch.
 *
 * Return: 0, or -EIO if the queue is broken or @head is out of range.
 */
int virtq_push(struct virtq *vq, uint16_t head, uint32_t written);

/**
 * virtq_should_notify() - decide whether the driver wants an interrupt for
 * what was pushed since the last decision (avail flags or used_event).
 * @vq: the queue.
 *
 * Return: true to raise the queue's interrupt now.
 */
bool virtq_should_notify(struct virtq *vq);

/**
 * virtq_disable_notify() - ask the driver not to kick while the device is
 * already processing (used flags or avail_event).
 * @vq: the queue.
 */
void virtq_disable_notify(struct virtq *vq);

/**
 * virtq_enable_notify() - ask for kicks again, then recheck the ring.
 * @vq: the queue.
 *
 * Return: true if chains became available meanwhile; the caller then keeps
 * processing instead of sleeping, or a kick could be lost.
 */
bool virtq_enable_notify(struct virtq *vq);

/**
 * virtq_enable_notify_beyond() - virtq_enable_notify() for a device that
 * looked at every chain up to avail index @seen and found them too few for
 * its next item (a frame needing more receive buffers than are posted): ask
 * for a kick when the driver adds chains beyond @seen, then recheck.
 * @vq: the queue.
 * @seen: vq->avail_idx when the device gave up.
 *
 * Return: true if chains beyond @seen became available meanwhile. Unlike
 * virtq_enable_notify() it is false while the chains the device already
 * found too few are all there is, so a caller that loops while it returns
 * true cannot spin on them.
 */
bool virtq_enable_notify_beyond(struct virtq *vq, uint16_t seen);

/**
 * virtq_chain_read() - copy bytes from the chain's readable segments.
 * @chain: a popped chain.
 * @off: offset into the readable bytes.
 * @dst: destination.
 * @len: bytes to copy.
 *
 * Return: 0, or -EFAULT if the readable part is shorter than off + len.
 */
int virtq_chain_read(const struct virtq_chain *chain, uint64_t off, void *dst,
		     uint64_t len);

/**
 * virtq_chain_write() - copy bytes into the chain's writable segments.
 * @chain: a popped chain.
 * @off: offset into the writable bytes.
 * @src: source.
 * @len: bytes to copy.
 *
 * Return: 0, or -EFAULT if the writable part is shorter than off + len.
 */
int virtq_chain_write(const struct virtq_chain *chain, uint64_t off,
		      const void *src, uint64_t len);

/**
 * virtq_error_str() - a short name for an enum virtq_error.
 * @err: the error.
 *
 * Return: a static string.
 */
const char *virtq_error_str(enum virtq_error err);

#endif
