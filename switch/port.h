/* SPDX-License-Identifier: MIT */
/* port.h - frames, batches and struct port_ops: how a backend plugs into the switch. */
#ifndef LOOM_SWITCH_PORT_H
#define LOOM_SWITCH_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Frames move in batches of up to this many, through the whole path. */
enum { FRAME_BATCH_MAX = 64 };

/*
 * struct frame_offload - offload metadata, virtio-net header semantics
 * (virtio spec 1.2, 5.1.6), host byte order. A frame with
 * gso_type != FRAME_GSO_NONE may be up to 64 KiB and is carried unsegmented
 * between ports that accept GSO (switch_port_config.accepts_gso); to a port
 * that does not, such a frame is dropped and counted (software segmentation
 * is not there yet; see docs/switch.md).
 */
enum frame_offload_flags {
	FRAME_F_NEEDS_CSUM = 1, /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
	FRAME_F_DATA_VALID = 2, /* VIRTIO_NET_HDR_F_DATA_VALID */
};
enum frame_gso_type {
	FRAME_GSO_NONE = 0,
	FRAME_GSO_TCPV4 = 1,
	FRAME_GSO_UDP = 3,
	FRAME_GSO_TCPV6 = 4,
	FRAME_GSO_UDP_L4 = 5,
	FRAME_GSO_ECN = 0x80,
};
struct frame_offload {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* Largest frame any port carries: a 64 KiB GSO frame plus headers. */
enum { FRAME_MAX_LEN = 65536 + 14 + 4 };

/*
 * struct frame - one Ethernet frame, starting at the destination MAC.
 * @data points into memory owned by the port that produced it (for an shm
 * port: the peer's shared memory, so the switch copies what it parses).
 */
struct frame {
	uint8_t *data;
	uint32_t len;
	uint16_t vlan; /* VLAN (1..4094) the switch classified it into */
	uint16_t pad;
	struct frame_offload off;
};

struct frame_batch {
	uint32_t count;
	struct frame f[FRAME_BATCH_MAX];
};

struct port;

/*
 * struct port_decl - a port as declared in a network file or by port.add:
 * what a backend's create() builds it from. Strings stay valid during
 * create() only; NULL when not declared.
 * @type: the backend's name (the port's `type:`; "tap" by default)
 * @network: the network's name
 * @name: the port's name within the network
 * @alias: the mark netd puts on kernel objects it creates for the port
 *	("loom:<instance>:<network>:<port>", see tap_cleanup_stray())
 * @ifname: the kernel interface name (the port's `tap:` field)
 * @netns: `ip netns` name the interface goes into
 * @address: "ADDR/PREFIX" for the interface
 * @url: where the port connects (the port's `url:`; vde: a libvdeplug URL)
 * @path: the socket the port listens on (the port's `path:`; vhost-user)
 * @parent: macvtap: the interface it sits on
 * @link_mode: macvtap: bridge, private, vepa, passthru (NULL: bridge)
 * @mtu: the network's MTU (0: the kernel's default)
 * @offload: the port may hand the switch GSO and partial-checksum frames
 *	(false while a port of the network takes none: see set_offload)
 */
struct port_decl {
	const char *type;
	const char *network;
	const char *name;
	const char *alias;
	const char *ifname;
	const char *netns;
	const char *address;
	const char *url;
	const char *path;
	const char *parent;
	const char *link_mode;
	uint32_t mtu;
	bool offload;
};

/* What a backend class can do: struct port_ops.caps. */
enum port_caps {
	/*
	 * poll_fd is level-triggered readiness: readable exactly while recv
	 * has frames (a TAP fd, an eventfd the backend keeps in step). netd
	 * runs the port only when epoll reports it. Without this flag the
	 * backend turns its notification off while it is polled (shm: the
	 * peer stops kicking), so netd runs recv every round and calls arm()
	 * before it sleeps.
	 */
	PORT_CAP_POLL_LEVEL = 1u << 0,
	/*
	 * send takes GSO and partial-checksum frames (struct frame_offload)
	 * on every port of this class (a TAP: the kernel segments what it is
	 * written). Without it the port's owner says so per port in
	 * switch_port_config.accepts_gso (shm: what the peer negotiated).
	 */
	PORT_CAP_TAKES_GSO = 1u << 1,
};

/*
 * struct port_ops - a port backend class (tap, shm, loopback; later
 * macvtap, vde, pcap, vhost-user, vxlan). One const instance per backend,
 * listed in backends/registry.c, looked up by name there. Nobody outside
 * a backend compares ops pointers: what differs is said by @caps and by
 * which optional ops are set.
 *
 * Threads (netd; other users of the switch keep the same split):
 *   control thread:   create, cleanup_stray, open, poll_fd, set_offload,
 *                     close
 *   data-path thread: recv, recv_done, arm, tick, and send (from
 *                     switch_port_input()/switch_poll() of another port,
 *                     under the switch's mutex)
 * The control thread calls open before the data path knows the port and
 * close only after the data path stopped polling it and the switch
 * stopped sending to it (switch_port_remove()), so of the ops on the same
 * port only set_offload can run while recv does: a backend makes that
 * one safe (TAP: one ioctl).
 *
 * A backend that needs a thread of its own (many sockets and timers of
 * its own, single-threaded like libslirp) starts it in open and stops it
 * in close, hands frames to recv through a queue whose readiness its
 * poll_fd reports (PORT_CAP_POLL_LEVEL), and takes frames from send by
 * copying them into another: recv and send still run on the data-path
 * thread.
 *
 * Lifecycle: open or create -> (recv/recv_done, send, arm, tick)* ->
 * close. close is called once; open and create clean up after themselves
 * on failure.
 */
struct port_ops {
	const char *name; /* "shm", "tap", ...: the `type:` users write */
	uint32_t caps;	  /* enum port_caps */

	/*
	 * create - optional: set up the port @decl declares and return in
	 * *@priv its backend state, which becomes port->priv when the port
	 * is plugged in with switch_port_add() (open is not called for it).
	 * Runs before the switch is involved, so slow set-up (netlink,
	 * namespaces) belongs here. NULL: ports of this class cannot be
	 * declared (shm: a VMM attaches them over the control socket).
	 * Called through backend_port_create() (backends/registry.h).
	 * Return: 0, or a negative errno with a message for a person in
	 * @err; on failure nothing is left allocated.
	 */
	int (*create)(const struct port_decl *decl, void **priv, char *err,
		      size_t errlen);

	/*
	 * cleanup_stray - optional, class-wide: remove kernel objects whose
	 * mark (port_decl.alias) starts with @prefix, left by an earlier run
	 * of the same daemon instance. netd calls it once at start.
	 * Return: objects removed, or a negative errno.
	 */
	int (*cleanup_stray)(const char *prefix);

	/*
	 * open - set up @port->priv from backend-specific @args (shm:
	 * struct shm_port_args), through switch_port_open().
	 * Return: 0, or a negative errno; on failure nothing is left allocated.
	 */
	int (*open)(struct port *port, const void *args);

	/*
	 * recv - take up to FRAME_BATCH_MAX - @batch->count ready frames and
	 * append them to @batch. Never blocks. Frames stay valid, and their
	 * buffers owned by the port, until recv_done is called for the batch.
	 * Return: frames appended (0 when none), or a negative errno when the
	 * port is broken (peer gone, protocol violation): the switch then
	 * stops polling it and its owner resets or removes it.
	 */
	int (*recv)(struct port *port, struct frame_batch *batch);

	/* recv_done - the switch is finished with every frame of @batch. */
	void (*recv_done)(struct port *port, struct frame_batch *batch);

	/*
	 * send - transmit the frames of @batch. Always consumes them: the
	 * port copies what it keeps and never retains a pointer after
	 * returning, even on failure. Frames it cannot take (ring full, link
	 * down) are dropped. Batches are flushed with at most one notification
	 * of the peer per call.
	 * Return: frames accepted; count - return value were dropped.
	 */
	int (*send)(struct port *port, struct frame_batch *batch);

	/*
	 * poll_fd - the fd that becomes readable when recv may return frames,
	 * or -1 when there is none (the port is then polled every round, and
	 * while netd sleeps only its once-a-second sweep runs it). The same
	 * fd for the port's whole life; no side effects.
	 */
	int (*poll_fd)(struct port *port);

	/*
	 * arm - optional, ports without PORT_CAP_POLL_LEVEL: the data-path
	 * thread is about to sleep on poll_fd: turn the notification back on
	 * and, if frames arrived meanwhile, make poll_fd readable at once.
	 * NULL: nothing to re-arm.
	 */
	void (*arm)(struct port *port);

	/*
	 * set_offload - optional: hand the switch GSO and partial-checksum
	 * frames (@on) or only complete, checksummed ones. netd turns it off
	 * on every port of a network while one of its ports does not take
	 * such frames (switch_port_config.accepts_gso false), on again when
	 * that port goes. NULL: the port never hands the switch such frames;
	 * the caller has nothing to do.
	 * Return: 0, or a negative errno (offloads stay as they were).
	 */
	int (*set_offload)(struct port *port, bool on);

	/*
	 * tick - optional: the backend's own timeouts (reconnects, retries,
	 * aging). switch_tick() calls it; netd does so about once a second
	 * on the data-path thread, on idle networks too. NULL: none.
	 */
	void (*tick)(struct port *port);

	/*
	 * link - optional: whether the port reaches its far side now (a VDE
	 * port while it reconnects does not). Control thread (any thread is
	 * safe for a backend that has it). false: netd shows the port
	 * "down" with @why, a message for a person. NULL: the port is up
	 * while the backend works.
	 */
	bool (*link)(struct port *port, char *why, size_t len);

	/*
	 * set_link - optional: the carrier the port's far side sees, set by
	 * hand (`loom port set NET PORT link down|up`): a TAP's kernel
	 * carrier, a VM NIC's link status. Control thread; may overlap the
	 * data path (recv/send) on the port. The switch keeps forwarding:
	 * the far side, without carrier, neither sends nor takes frames.
	 * NULL: the class has no carrier to set (netd answers EOPNOTSUPP).
	 * Return: 0, or a negative errno with a message in @err.
	 */
	int (*set_link)(struct port *port, bool up, char *err, size_t errlen);

	/*
	 * close - release everything open or create made; @port->priv is
	 * dead after. Also called for a created port the switch refused:
	 * only @port->priv and @port->ops are set then.
	 */
	void (*close)(struct port *port);
};

#endif
