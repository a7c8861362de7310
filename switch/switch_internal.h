/* SPDX-License-Identifier: MIT */
/* switch_internal.h - the switch's own state, shared by switch.c (ports, tables, mirrors) and forward.c (the data path). Not for users of the switch. */
#ifndef LOOM_SWITCH_SWITCH_INTERNAL_H
#define LOOM_SWITCH_SWITCH_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "switch/fdb.h"
#include "switch/switch.h"

enum {
	ETH_HLEN = 14,
	ETH_ALEN = 6,
	VLAN_HLEN = 4,
	ETH_P_8021Q = 0x8100,
	ETH_P_8021AD = 0x88a8,
	VID_MASK = 0x0fff,
	/* Scratch for frames whose tag is inserted/removed on egress. */
	SCRATCH_SIZE = 4 * FRAME_MAX_LEN,
};

enum port_state { PORT_FREE, PORT_RESERVED, PORT_ACTIVE };

/*
 * struct frame_meta - what ingress decided about one frame, from a local
 * copy of its header (the frame bytes themselves may change under us).
 */
struct frame_meta {
	uint64_t w0;	   /* frame bytes 0..7, as read once */
	uint64_t w1;	   /* frame bytes 6..13 */
	uint16_t vlan;	   /* switch VLAN, 1..4094 */
	uint16_t tci;	   /* tag control as received (tagged only) */
	uint8_t type[2];   /* EtherType after the tag (if any), as read */
	uint8_t tagged;	   /* carried an 802.1Q tag on ingress */
	uint8_t forwarded; /* queued to at least one port */
};

struct sw_port {
	struct port port; /* what the backend sees; stable address */
	enum port_state state;
	bool broken;
	struct switch_port_config cfg;
	uint64_t vlans[4096 / 64]; /* VLANs the port carries */
	uint16_t untagged_vlan;	   /* access VLAN or native; 0 = none */
	unsigned mirror_dirs;	   /* union of its mirrors' directions */
	struct switch_port_stats st;
	/* This round's output: indices into the input batch. */
	uint32_t out_count;
	uint8_t out_idx[FRAME_BATCH_MAX];
};

struct sw_mirror {
	bool used;
	uint32_t port_id;
	unsigned dirs;
	switch_mirror_fn fn;
	void *arg;
};

struct switch_core {
	pthread_mutex_t lock;
	struct switch_config cfg;
	uint32_t now_sec;   /* coarse clock of the current round */
	uint32_t swept_sec; /* last expiry sweep */
	uint64_t base_ns;
	struct fdb fdb;
	struct sw_port *ports;
	uint16_t *active; /* ids of PORT_ACTIVE ports, dense */
	uint32_t n_active;
	struct sw_mirror mirrors[SWITCH_MIRROR_MAX];
	unsigned all_mirror_dirs; /* union of the SWITCH_PORT_ALL mirrors */
	/* Per-round working state, preallocated. */
	struct frame_meta meta[FRAME_BATCH_MAX];
	uint16_t touched[FRAME_BATCH_MAX * 2];
	/* Lookups of the previous frames of this batch (same flow: skip). */
	uint64_t last_src_key;
	uint64_t last_dst_key;
	uint32_t last_dst_port;
	uint32_t n_touched;
	bool touched_all; /* more ports than touched[] holds: scan active */
	struct frame_batch rx;
	struct frame_batch tx;
	uint8_t *scratch;
};

static inline bool vlan_test(const uint64_t *map, uint16_t vid)
{
	return map[vid / 64] >> (vid % 64) & 1;
}

static inline void vlan_set(uint64_t *map, uint16_t vid)
{
	map[vid / 64] |= 1ull << (vid % 64);
}
/* Seconds since the switch was made, plus one: 0 never means "now". */
static inline void switch_clock_read(struct switch_core *sw)
{
	uint64_t ns = sw->cfg.clock_ns(sw->cfg.clock_arg);

	sw->now_sec = (uint32_t)((ns - sw->base_ns) / 1000000000ull) + 1;
}

static inline struct sw_port *port_active(struct switch_core *sw, uint32_t id)
{
	if (id >= sw->cfg.max_ports || sw->ports[id].state != PORT_ACTIVE)
		return NULL;
	return &sw->ports[id];
}

#endif
