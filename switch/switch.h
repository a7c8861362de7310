/* SPDX-License-Identifier: MIT */
/* switch.h - the built-in L2 switch: ports, FDB, VLANs, mirrors, counters. */
#ifndef LOOM_SWITCH_SWITCH_H
#define LOOM_SWITCH_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/antispoof.h"
#include "switch/port.h"

/*
 * The switch knows ports (struct port + struct port_ops), never backends.
 * docs/switch.md describes the design; this header is the contract.
 *
 * Threading: every function below may be called from any thread; one mutex
 * per switch serialises them. switch_poll() and switch_port_input() hold it
 * for one round, so a control call waits at most one round. Port ops, the
 * mirror callbacks and the port event callback run with the mutex held, on
 * the thread that called switch_poll()/switch_port_input() (the data-path
 * thread): they must not block and must not call back into this API.
 *
 * Limits (every table fed by traffic is bounded):
 *  - MAC table (FDB): at most switch_config.fdb_size entries, key MAC+VLAN.
 *    Entries unused for aging_sec seconds expire. When the table is full, a
 *    new address evicts the least recently seen entry of the port that
 *    holds the most entries (ties: the learning port itself, else the
 *    lowest port id). A port flooding random source MACs therefore ends up
 *    evicting only its own entries; the other ports' entries survive as
 *    long as they hold fewer entries than it does.
 *  - Ports: at most switch_config.max_ports; ids are 0..max_ports-1 and are
 *    reused after removal.
 *  - Mirrors: at most SWITCH_MIRROR_MAX observers per switch.
 */

struct switch_core;

enum {
	SWITCH_FDB_SIZE_DEFAULT = 8192,
	SWITCH_FDB_SIZE_MAX = 1 << 20,
	SWITCH_AGING_SEC_DEFAULT = 300,
	SWITCH_MAX_PORTS_DEFAULT = 256,
	SWITCH_MAX_PORTS_MAX = 4096,
	SWITCH_PORT_NAME_MAX = 32, /* with the NUL */
	SWITCH_MIRROR_MAX = 64,
	SWITCH_VLAN_DEFAULT = 1,
	SWITCH_VLAN_MAX = 4094, /* valid VIDs are 1..4094 */
};

enum switch_flags {
	/*
	 * Drop unicast frames whose destination is not in the FDB instead
	 * of flooding them (counted as SWITCH_DROP_NO_PORT).
	 */
	SWITCH_F_NO_FLOOD_UNKNOWN = 1u << 0,
	/* Do not learn source addresses (hub mode: everything floods). */
	SWITCH_F_NO_LEARN = 1u << 1,
};

/*
 * struct switch_config - switch-wide settings; zero fields take defaults.
 * @fdb_size: MAC table entries (default SWITCH_FDB_SIZE_DEFAULT)
 * @aging_sec: seconds an unused entry lives (default 300)
 * @max_ports: port slots (default SWITCH_MAX_PORTS_DEFAULT)
 * @flags: enum switch_flags
 * @clock_ns: monotonic clock in ns, read once per round (default
 *	CLOCK_MONOTONIC_COARSE); tests inject time through it
 * @clock_arg: passed to @clock_ns
 * @port_event: called (data-path thread, mutex held) when a port's recv
 *	returned a negative errno: the switch stops polling and sending to the
 *	port until switch_port_reset(); the owner resets or removes it
 * @event_arg: passed to @port_event
 */
struct switch_config {
	uint32_t fdb_size;
	uint32_t aging_sec;
	uint32_t max_ports;
	uint32_t flags;
	uint64_t (*clock_ns)(void *arg);
	void *clock_arg;
	void (*port_event)(void *arg, uint32_t port_id, int err);
	void *event_arg;
};

/*
 * struct port - one switch port as a backend sees it. The switch allocates
 * it; the backend owns @priv (set by port_ops.open, or given to
 * switch_port_add()). Backends read @id and @name, write only @priv in open.
 */
struct port {
	void *priv;
	const struct port_ops *ops;
	struct switch_core *sw;
	uint32_t id;
	char name[SWITCH_PORT_NAME_MAX];
};

enum switch_port_mode {
	/* Untagged in and out, one VLAN (access_vlan). */
	SWITCH_PORT_ACCESS = 0,
	/* Tagged VLANs of the allowed set; untagged = native_vlan if set. */
	SWITCH_PORT_TRUNK = 1,
};

/*
 * struct switch_port_config - how a port takes part in switching.
 * @name: shown to users, NUL-terminated (may be empty)
 * @mode: access or trunk
 * @access_vlan: access ports: the VLAN (1..4094; 0 means 1)
 * @native_vlan: trunk ports: VLAN of untagged (and priority-tagged) frames,
 *	sent untagged on egress; 0 = none, untagged frames are dropped. It is
 *	carried by the port even if absent from @allowed.
 * @allowed: trunk ports: bitmap of the tagged VLANs carried (bit v of
 *	allowed[v / 64]); set with switch_vlan_allow()
 * @isolated: an isolated port exchanges frames only with non-isolated ports
 * @accepts_gso: the port takes frames with off.gso_type != FRAME_GSO_NONE
 *	(unsegmented, up to FRAME_MAX_LEN). GSO frames to a port without it are
 *	dropped as SWITCH_DROP_GSO_UNSUPPORTED (segmentation comes later).
 * @rx_shared: the frames this port's recv returns live in memory that an
 *	untrusted peer can still write while the switch holds them (an shm
 *	port: the VMM's ring). The switch then never forwards them by
 *	pointer: every copy it sends is built in its own buffer from the
 *	header it decided on, so rewriting the bytes after the decision
 *	cannot change the VLAN tag a destination sees. Costs one frame copy
 *	per destination; without it frames that need no VLAN edit are
 *	forwarded zero-copy.
 *
 * Ingress rules (drop reason in brackets):
 *   access, untagged              -> access_vlan
 *   access, tagged VID 0 (prio)   -> access_vlan (priority tag accepted)
 *   access, tagged VID != 0       -> dropped [VLAN_TAGGED_ON_ACCESS]
 *   trunk, untagged or VID 0      -> native_vlan, or [UNTAGGED_NO_NATIVE]
 *   trunk, tagged VID allowed or native -> VID
 *   trunk, tagged VID otherwise   -> dropped [VLAN_NOT_ALLOWED]
 * A priority-tagged frame whose next EtherType is 0x8100 or 0x88a8 is
 * dropped [NESTED_TAG] on every port: stripping the priority tag would
 * expose the inner tag (double-tagging VLAN hop).
 * Only TPID 0x8100 is a tag; anything else is an untagged frame.
 * Egress: a frame leaves only on ports carrying its VLAN; untagged on access
 * ports and on a trunk's native VLAN, tagged (PCP kept, VID set) otherwise.
 */
struct switch_port_config {
	char name[SWITCH_PORT_NAME_MAX];
	enum switch_port_mode mode;
	uint16_t access_vlan;
	uint16_t native_vlan;
	uint64_t allowed[4096 / 64];
	bool isolated;
	bool accepts_gso;
	bool rx_shared;
	/* What the port may send (common/antispoof.h): off unless .flags
	 * has ANTISPOOF_F_ON; a learnt MAC is kept here. */
	struct antispoof_policy antispoof;
};

/* switch_vlan_allow - let trunk config @cfg carry @vid (1..4094). */
static inline void switch_vlan_allow(struct switch_port_config *cfg,
				     uint16_t vid)
{
	if (vid >= 1 && vid <= SWITCH_VLAN_MAX)
		cfg->allowed[vid / 64] |= 1ull << (vid % 64);
}

/* Drop reasons, counted per port (ingress or egress side as stated). */
enum switch_drop_reason {
	SWITCH_DROP_RUNT,		   /* in: shorter than 14 (18 tagged) */
	SWITCH_DROP_OVERSIZE,		   /* in: longer than FRAME_MAX_LEN */
	SWITCH_DROP_SRC_MULTICAST,	   /* in: group bit in source MAC */
	SWITCH_DROP_VLAN_TAGGED_ON_ACCESS, /* in: VID != 0 on access port */
	SWITCH_DROP_VLAN_NOT_ALLOWED,	   /* in: trunk does not carry VID */
	SWITCH_DROP_UNTAGGED_NO_NATIVE,	   /* in: untagged, trunk w/o native */
	SWITCH_DROP_SAME_PORT,		   /* in: destination is the ingress */
	SWITCH_DROP_ISOLATED,	     /* in: isolated to isolated unicast */
	SWITCH_DROP_NO_PORT,	     /* in: no destination port at all */
	SWITCH_DROP_GSO_UNSUPPORTED, /* out: GSO to !accepts_gso port */
	SWITCH_DROP_TOO_LONG,	     /* out: adding a tag exceeds max */
	SWITCH_DROP_TX_FULL,	     /* out: port's send refused it */
	SWITCH_DROP_PORT_DOWN,	     /* out: port is in error state */
	SWITCH_DROP_NESTED_TAG,	     /* in: priority tag over another tag */
	/* in: anti-spoofing, in enum antispoof_verdict's order */
	SWITCH_DROP_SPOOF_MAC,	     /* source MAC not the port's */
	SWITCH_DROP_SPOOF_IP,	     /* IPv4 source not the port's */
	SWITCH_DROP_SPOOF_ARP,	     /* ARP sender not the port's */
	SWITCH_DROP_DHCP_SERVER,     /* a DHCP server reply */
	SWITCH_DROP_ROUTER_ADV,	     /* an IPv6 router advertisement */
	SWITCH_DROP__COUNT
};

/* switch_drop_reason_name - "runt", "vlan_not_allowed", ...; "?" if bad. */
const char *switch_drop_reason_name(enum switch_drop_reason reason);

/*
 * struct switch_port_stats - per-port counters since the port was added.
 * rx counts every frame the port received (dropped or not); tx counts
 * frames its send accepted (a port that accepts n of a batch is assumed to
 * have taken the first n, for tx_bytes).
 */
struct switch_port_stats {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t tx_frames;
	uint64_t tx_bytes;
	uint64_t drops[SWITCH_DROP__COUNT];
};

/*
 * struct switch_fdb_entry - one learned address, as dumped.
 * @age_sec: seconds since a frame from @mac was last seen
 */
struct switch_fdb_entry {
	uint8_t mac[6];
	uint16_t vlan;
	uint32_t port_id;
	uint32_t age_sec;
};

/* switch_mirror_add(): observe every port of the switch. */
#define SWITCH_PORT_ALL UINT32_MAX

enum switch_dir {
	SWITCH_DIR_INGRESS = 1u << 0, /* as received, before any VLAN edit */
	SWITCH_DIR_EGRESS = 1u << 1,  /* as handed to the port's send */
};

/*
 * switch_mirror_fn - observer of the frames crossing one port.
 * Runs on the data-path thread with the switch mutex held, for each frame,
 * before forwarding continues: it must not block, must not call this API,
 * and must copy what it keeps (@f and its data are dead after it returns;
 * the data may live in a hostile peer's memory and change under it).
 * f->vlan is the switch VLAN of the frame (0 for ingress frames that
 * are dropped before a VLAN is known).
 */
typedef void (*switch_mirror_fn)(void *arg, uint32_t port_id,
				 enum switch_dir dir, const struct frame *f);

/*
 * switch_create - make a switch.
 * @cfg: settings, copied; NULL for all defaults
 * Return: the switch, or NULL with errno set (EINVAL, ENOMEM).
 */
struct switch_core *switch_create(const struct switch_config *cfg);

/* switch_destroy - remove (and close) every port, free the switch. NULL ok. */
void switch_destroy(struct switch_core *sw);

/*
 * switch_port_add - plug a port in whose backend is already set up.
 * @ops: backend, must outlive the port
 * @priv: backend state, stored in port->priv
 * @cfg: port configuration, copied
 * On success the switch owns the port: switch_port_remove() and
 * switch_destroy() call ops->close. On failure the caller keeps @priv.
 * Return: the port id (>= 0), or -EINVAL (bad config), -ENOSPC (no slot).
 */
int switch_port_add(struct switch_core *sw, const struct port_ops *ops,
		    void *priv, const struct switch_port_config *cfg);

/*
 * switch_port_open - allocate a port, run ops->open(port, @args) on it and
 * plug it in. Same ownership as switch_port_add() once it succeeds.
 * Return: the port id (>= 0), or a negative errno (from open too).
 */
int switch_port_open(struct switch_core *sw, const struct port_ops *ops,
		     const void *args, const struct switch_port_config *cfg);

/*
 * switch_port_remove - unplug port @port_id: its FDB entries and mirrors go,
 * ops->close is called, the id becomes free.
 * Return: 0, or -ENOENT.
 */
int switch_port_remove(struct switch_core *sw, uint32_t port_id);

/*
 * switch_port_configure - change a port's VLANs, isolation or GSO flag at
 * run time; the port's FDB entries are flushed.
 * Return: 0, -ENOENT, or -EINVAL (bad config; nothing changed).
 */
int switch_port_configure(struct switch_core *sw, uint32_t port_id,
			  const struct switch_port_config *cfg);

/*
 * switch_port_antispoof_set_ips - replace the IPv4 addresses port
 * @port_id may send from (network order, at most ANTISPOOF_IPS_MAX),
 * keeping the rest of its policy (a learnt MAC). Return: 0 or -ENOENT.
 */
int switch_port_antispoof_set_ips(struct switch_core *sw, uint32_t port_id,
				  const uint32_t *ip, unsigned int nip);

/* switch_port_get_config - copy port @port_id's config. Return: 0/-ENOENT. */
int switch_port_get_config(struct switch_core *sw, uint32_t port_id,
			   struct switch_port_config *cfg);

/*
 * switch_port_reset - poll port @port_id again after its owner repaired it
 * (see switch_config.port_event).
 * Return: 0, or -ENOENT.
 */
int switch_port_reset(struct switch_core *sw, uint32_t port_id);

/* switch_port_get - the struct port of @port_id, or NULL. */
struct port *switch_port_get(struct switch_core *sw, uint32_t port_id);

/*
 * switch_port_input - forward one batch received from port @port_id.
 * Frames are grouped by destination and each destination's send is called
 * once for the batch (more often only when large frames needing a VLAN
 * edit overflow the 256 KiB scratch area). Reads the clock once. The
 * caller keeps ownership of @batch and calls the port's recv_done
 * afterwards; f->vlan is overwritten.
 * Return: frames of @batch queued to at least one port, -ENOENT (no such
 * port) or -EINVAL (count > FRAME_BATCH_MAX).
 */
int switch_port_input(struct switch_core *sw, uint32_t port_id,
		      struct frame_batch *batch);

/*
 * switch_poll - one round: recv on every working port, forward, recv_done.
 * The data-path thread calls it in a loop (sleeping on the ports' poll_fd
 * when it keeps returning 0). Expired FDB entries are swept here, at most
 * once a second.
 * Return: frames received in this round.
 */
int switch_poll(struct switch_core *sw);

/*
 * switch_tick - call the tick op of every working port that has one (the
 * backends' own timeouts), under the switch's mutex. netd's data-path
 * thread calls it about once a second, with its FDB sweep.
 */
void switch_tick(struct switch_core *sw);

/*
 * switch_port_stats_get - copy port @port_id's counters.
 * Return: 0, or -ENOENT.
 */
int switch_port_stats_get(struct switch_core *sw, uint32_t port_id,
			  struct switch_port_stats *st);

/*
 * switch_fdb_dump - call @fn for every live FDB entry (mutex held: @fn must
 * not call this API). Stops early when @fn returns non-zero.
 * Return: entries visited.
 */
int switch_fdb_dump(struct switch_core *sw,
		    int (*fn)(void *arg, const struct switch_fdb_entry *e),
		    void *arg);

/*
 * switch_fdb_flush - forget learned addresses.
 * @port_id: only this port's entries, or -1 for every port
 * @vlan: only this VLAN, or 0 for every VLAN
 * Return: entries removed.
 */
int switch_fdb_flush(struct switch_core *sw, int32_t port_id, uint16_t vlan);

/* switch_fdb_count - entries in the FDB now (expired ones included). */
uint32_t switch_fdb_count(struct switch_core *sw);

/*
 * switch_mirror_add - observe frames of port @port_id.
 * @port_id: a port, or SWITCH_PORT_ALL: a network-wide tap on every port,
 *	those plugged in later included, in one mirror slot (the callback
 *	gets the port id of each frame)
 * @dirs: SWITCH_DIR_INGRESS and/or SWITCH_DIR_EGRESS
 * Return: a mirror id (>= 0), or -ENOENT, -EINVAL, -ENOSPC.
 */
int switch_mirror_add(struct switch_core *sw, uint32_t port_id, unsigned dirs,
		      switch_mirror_fn fn, void *arg);

/* switch_mirror_remove - stop mirror @mirror_id. Return: 0, or -ENOENT. */
int switch_mirror_remove(struct switch_core *sw, int mirror_id);

#endif
