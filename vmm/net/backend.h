/* SPDX-License-Identifier: MIT */
/* backend.h - the NIC backend seam: how a NIC model sends and receives frames. */
#ifndef LOOM_VMM_NET_BACKEND_H
#define LOOM_VMM_NET_BACKEND_H

/*
 * A NIC model (vmm/virtio/net.c, vmm/hw/e1000.c, vmm/hw/rtl8139.c) turns
 * guest descriptors into Ethernet frames and back. Where the frames go is
 * a NIC backend: netd's shared-memory port (vmm/net/shm.c, the default),
 * later a TAP fd or vhost-net. A model only uses the functions below; it
 * never asks which backend it holds, and a backend never sees guest memory.
 *
 * Frames carry struct frame_offload (switch/port.h: virtio-net header
 * semantics). A model states at open which offloads it can hand over on
 * TX and deliver to its guest on RX (@want); the backend answers with the
 * subset the other end accepted (nic_backend_caps()). The backend then
 * never delivers a frame with an offload outside that subset, and the model
 * never sends one.
 *
 * Threading: one thread at a time per backend. Every call below, and the
 * callbacks of struct nic_backend_events, for one backend happen on the
 * thread that watches its notify fd (the VMM's main loop, or the model's
 * own I/O thread). A model whose guest doorbells arrive on vCPU threads
 * signals its own thread (an eventfd) rather than calling in from there.
 *
 * Waiting: nic_backend_notify_fd() becomes readable when something may
 * have happened (frames arrived, room came back, the link changed, a
 * reconnect timer fired). The watcher then calls nic_backend_poll(), which
 * dispatches the events callbacks. It is level-friendly: polling with
 * nothing to do is harmless.
 *
 * Flow:
 *   TX: p = nic_backend_tx_alloc(nb, len); copy the frame to p;
 *       nic_backend_tx_commit(nb, len, &off); ... nic_backend_tx_flush(nb)
 *       once per batch. NULL from tx_alloc: no room (keep the guest's
 *       descriptor; ev->tx_ready comes when there is room) or link down
 *       (nic_backend_link_up() false: drop the frame, count it).
 *   RX: while (nic_backend_rx_next(nb, &f) > 0) { copy f.data to the guest;
 *       nic_backend_rx_done(nb); }  then nic_backend_rx_flush(nb).
 *       rx_next returning 0 means "nothing more; ev->rx_ready will come".
 *       A model out of guest buffers simply stops calling rx_next (frames
 *       stay queued in the backend; the guest's refill doorbell restarts
 *       it). f.data stays valid until nic_backend_rx_done().
 */

#include <stdbool.h>
#include <stdint.h>

#include "switch/port.h"

struct vm;
struct nic_backend;

/* Offloads, each both ways (TX: the model may send; RX: it can take). */
enum nic_offload {
	NIC_OFF_CSUM = 1u << 0,	   /* FRAME_F_NEEDS_CSUM partial checksum */
	NIC_OFF_GSO_TCP = 1u << 1, /* FRAME_GSO_TCPV4 / TCPV6 up to 64 KiB */
	NIC_OFF_GSO_UDP = 1u << 2, /* FRAME_GSO_UDP / UDP_L4 */
	NIC_OFF_GSO_ECN = 1u << 3, /* FRAME_GSO_ECN bit */
	NIC_OFF_ALL = (1u << 4) - 1,
};

enum {
	NIC_NAME_MAX = 64,    /* network and port names, with the NUL */
	NIC_MODEL_MAX = 16,
	NIC_BACKEND_MAX = 16,
	NIC_FRAME_MIN = 14,
	NIC_FRAME_MAX = FRAME_MAX_LEN,
};

/*
 * struct nic_config - one --nic option, parsed (vmm/net/nic.c):
 * --nic net=NAME[,model=virtio|e1000|rtl8139][,mac=MAC][,port=PORT]
 *       [,backend=shm|tap][,vlan=N][,vhost=on|off]
 * --nic macvtap=PARENT[,mode=bridge|private|vepa|passthru][,model=...]
 * @backend "" picks: a macvtap NIC or a NIC on a bridge network gets the
 * kernel device netd makes ("tap"), any other network netd's shm port.
 * Defaults are filled in before a model sees it: @mac derived from the VM
 * and NIC names (locally administered), @port "VMNAME" for the first NIC
 * and "VMNAME.N" for the others (N = @index), @model "virtio".
 */
struct nic_config {
	char net[NIC_NAME_MAX];
	char port[NIC_NAME_MAX];
	char model[NIC_MODEL_MAX];
	char backend[NIC_BACKEND_MAX];
	uint8_t mac[6];
	char macvtap[16];	/* parent device; "" for a NIC on @net */
	char macvtap_mode[16];	/* "" = bridge */
	uint16_t vlan;		/* bridge networks: access VLAN, 0 = 1 */
	bool no_vhost;		/* vhost=off: virtio-net keeps its queues */
	unsigned int index;	/* 0 for the first --nic */
	const char *netd_sock;	/* netd's control socket; NULL: the run dir's */
};

/* struct nic_frame - a received frame, valid until nic_backend_rx_done(). */
struct nic_frame {
	const uint8_t *data;
	uint32_t len;
	struct frame_offload off;
};

/*
 * struct nic_backend_events - the model's callbacks, all optional, called
 * from nic_backend_poll() (so on the watcher's thread).
 * @rx_ready: frames wait; call nic_backend_rx_next().
 * @tx_ready: room again after tx_alloc said none.
 * @link_changed: carrier changed (nic_backend_link_up() has the value):
 *	the model shows its guest (virtio-net STATUS, e1000 LSC, ...).
 */
struct nic_backend_events {
	void (*rx_ready)(void *opaque);
	void (*tx_ready)(void *opaque);
	void (*link_changed)(void *opaque);
};

/* Counters a backend keeps (shown by the VMM's control socket). */
struct nic_backend_stats {
	uint64_t tx_frames, tx_bytes, tx_full, tx_dropped;
	uint64_t rx_frames, rx_bytes;
	uint64_t link_changes, reconnects;
};

/*
 * nic_backend_open() - open the backend @cfg->backend names (registry in
 * vmm/net/backend.c) for one NIC.
 * @out: the new backend.
 * @vm: the VM; may be NULL in tests.
 * @cfg: the NIC's configuration (copied).
 * @model_name: the model's name ("virtio", "e1000", ...) for netd's
 *	port list.
 * @want: enum nic_offload bits the model can take both ways.
 * @ev: callbacks (kept), @opaque passed to them.
 *
 * Return: 0, or a negative errno (-ENOENT unknown backend or network,
 * -ECONNREFUSED no netd, ...); on failure nothing is left open.
 */
int nic_backend_open(struct nic_backend **out, struct vm *vm,
		     const struct nic_config *cfg, const char *model_name,
		     uint32_t want, const struct nic_backend_events *ev,
		     void *opaque);

/* nic_backend_known() - a backend of that name is registered. */
bool nic_backend_known(const char *name);

/* nic_backend_close() - detach and free; NULL is a no-op. */
void nic_backend_close(struct nic_backend *nb);

/* nic_backend_caps() - enum nic_offload bits negotiated at open. */
uint32_t nic_backend_caps(const struct nic_backend *nb);

/* nic_backend_link_up() - carrier: attached, and not set down by hand. */
bool nic_backend_link_up(const struct nic_backend *nb);

/*
 * nic_backend_set_admin() - the carrier by hand (the VMM's control
 * socket, `loom vm link`): down holds the link down whatever the backend
 * says, up lets it follow the backend again. Any thread: the model sees
 * the change (link_changed) on its own thread, from nic_backend_poll().
 * Return: 0, or a negative errno.
 */
int nic_backend_set_admin(struct nic_backend *nb, bool up);

/* nic_backend_admin_up() - false while held down by nic_backend_set_admin(). */
bool nic_backend_admin_up(const struct nic_backend *nb);

/* nic_backend_notify_fd() - readable when nic_backend_poll() has work. */
int nic_backend_notify_fd(const struct nic_backend *nb);

/* nic_backend_poll() - handle what woke the notify fd, call the events. */
void nic_backend_poll(struct nic_backend *nb);

/*
 * nic_backend_tx_alloc() - room for a frame of @len bytes (14 ..
 * NIC_FRAME_MAX). Return: where to write it, or NULL (no room, or the
 * link is down).
 */
uint8_t *nic_backend_tx_alloc(struct nic_backend *nb, uint32_t len);

/*
 * nic_backend_tx_commit() - the frame at the last tx_alloc is written;
 * @off (NULL: none) must only use negotiated offloads.
 * Return: 0, or -EINVAL (offload not negotiated or inconsistent: the
 * frame is dropped and counted).
 */
int nic_backend_tx_commit(struct nic_backend *nb, uint32_t len,
			  const struct frame_offload *off);

/* nic_backend_tx_flush() - publish committed frames, wake the other end. */
void nic_backend_tx_flush(struct nic_backend *nb);

/*
 * nic_backend_rx_next() - the next received frame into @f.
 * Return: 1 (a frame), 0 (none; ev->rx_ready will be called when there
 * is), or a negative errno (the backend broke and went link down).
 */
int nic_backend_rx_next(struct nic_backend *nb, struct nic_frame *f);

/* nic_backend_rx_done() - the frame rx_next gave is consumed. */
void nic_backend_rx_done(struct nic_backend *nb);

/* nic_backend_rx_flush() - hand consumed frames' room back (once per batch). */
void nic_backend_rx_flush(struct nic_backend *nb);

/* nic_backend_stats() - the backend's counters. */
const struct nic_backend_stats *nic_backend_stats(const struct nic_backend *nb);

/* nic_backend_name() - the backend's name ("shm", ...), for status output. */
const char *nic_backend_name(const struct nic_backend *nb);

/*
 * nic_backend_set_rx_offload() - what the guest's driver negotiated it
 * takes on RX (enum nic_offload bits, within caps): a backend that can
 * ask its peer for less (a TAP: TUNSETOFFLOAD) does; the model still
 * handles a frame outside them (completes the checksum or drops it).
 */
void nic_backend_set_rx_offload(struct nic_backend *nb, uint32_t bits);

/*
 * nic_backend_kernel_fd() - a TAP-like fd (12-byte vnet header) the kernel
 * can move this NIC's frames on by itself (vhost-net), while the link is
 * up; it may change across a link down/up (link_changed: ask again).
 * Return: the fd (owned by the backend), or -EOPNOTSUPP (the backend has
 * none: frames go through the calls above), -ENOTCONN (link down).
 */
int nic_backend_kernel_fd(struct nic_backend *nb);

/*
 * nic_backend_set_datapath() - the model says who moves the frames
 * ("userspace", "vhost-net": static strings), for status output.
 */
void nic_backend_set_datapath(struct nic_backend *nb, const char *datapath);
const char *nic_backend_datapath(const struct nic_backend *nb);

/*
 * struct nic_backend_ops - what a backend implements (one const instance
 * per backend, one line in the table in vmm/net/backend.c). The wrappers
 * above do the common checks and counting; @priv is the backend's own.
 */
struct nic_backend_ops {
	const char *name;
	int (*open)(struct nic_backend *nb, const struct nic_config *cfg,
		    const char *model_name, uint32_t want);
	void (*close)(struct nic_backend *nb);
	void (*poll)(struct nic_backend *nb);
	uint8_t *(*tx_alloc)(struct nic_backend *nb, uint32_t len);
	void (*tx_commit)(struct nic_backend *nb, uint32_t len,
			  const struct frame_offload *off);
	void (*tx_flush)(struct nic_backend *nb);
	int (*rx_next)(struct nic_backend *nb, struct nic_frame *f);
	void (*rx_done)(struct nic_backend *nb);
	void (*rx_flush)(struct nic_backend *nb);
	/* Optional (NULL: nothing to tell / no kernel fd). */
	void (*set_rx_offload)(struct nic_backend *nb, uint32_t bits);
	int (*kernel_fd)(struct nic_backend *nb);
};

/*
 * struct nic_backend - the generic part, shared by the wrappers and the
 * backend's ops (a model treats it as opaque).
 */
struct nic_backend {
	const struct nic_backend_ops *ops;
	const struct nic_backend_events *ev;
	void *opaque;
	struct nic_config cfg;
	uint32_t caps;	  /* set by ops->open */
	bool link_up;	  /* set by the backend via nic_backend_set_link() */
	int notify_fd;	  /* set by ops->open: the backend's own fd */
	/* Generic: what nic_backend_notify_fd() returns (an epoll fd holding
	 * notify_fd and admin_fd), the hand-set carrier and its doorbell. */
	int poll_fd;
	int admin_fd;
	bool admin_up;	  /* atomic: written by any thread */
	bool shown_up;	  /* what the model was last told (poll thread) */
	struct nic_backend_stats st;
	const char *datapath; /* atomic: the control thread reads it */
	void *priv;
};

/* For backends: record a carrier change and tell the model. */
void nic_backend_set_link(struct nic_backend *nb, bool up);
/* For backends: tell the model frames or room arrived. */
void nic_backend_signal_rx(struct nic_backend *nb);
void nic_backend_signal_tx(struct nic_backend *nb);

/*
 * For backends that re-attach after their peer went away (shm, tap): a
 * back-off timer on a timerfd (watch @fd in the notify fd), 100 ms
 * doubling to 5 s between tries.
 */
struct nic_backoff {
	int fd;
	unsigned int ms;
};
int nic_backoff_init(struct nic_backoff *b);		/* 0 or -errno */
void nic_backoff_close(struct nic_backoff *b);
void nic_backoff_start(struct nic_backoff *b);	/* first try soon */
void nic_backoff_again(struct nic_backoff *b);	/* a try failed */
bool nic_backoff_due(struct nic_backoff *b);	/* @fd fired: try now */

/*
 * nic_backend_open_ops() - nic_backend_open() with explicit @ops (tests
 * and benchmarks use their own backend; everything else goes by name).
 */
int nic_backend_open_ops(struct nic_backend **out,
			 const struct nic_backend_ops *ops,
			 const struct nic_config *cfg, const char *model_name,
			 uint32_t want, const struct nic_backend_events *ev,
			 void *opaque);

#endif
