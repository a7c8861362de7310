/* SPDX-License-Identifier: MIT */
/* switch.c - the L2 switch: VLAN ingress, learning, grouping, egress edits. */
#include "switch/switch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/pkt.h"
#include "switch/fdb.h"

LOG_MODULE("switch");

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

static const char *const drop_names[SWITCH_DROP__COUNT] = {
    [SWITCH_DROP_RUNT] = "runt",
    [SWITCH_DROP_OVERSIZE] = "oversize",
    [SWITCH_DROP_SRC_MULTICAST] = "src_multicast",
    [SWITCH_DROP_VLAN_TAGGED_ON_ACCESS] = "vlan_tagged_on_access",
    [SWITCH_DROP_VLAN_NOT_ALLOWED] = "vlan_not_allowed",
    [SWITCH_DROP_UNTAGGED_NO_NATIVE] = "untagged_no_native",
    [SWITCH_DROP_SAME_PORT] = "same_port",
    [SWITCH_DROP_ISOLATED] = "isolated",
    [SWITCH_DROP_NO_PORT] = "no_port",
    [SWITCH_DROP_GSO_UNSUPPORTED] = "gso_unsupported",
    [SWITCH_DROP_TOO_LONG] = "too_long",
    [SWITCH_DROP_TX_FULL] = "tx_full",
    [SWITCH_DROP_PORT_DOWN] = "port_down",
    [SWITCH_DROP_NESTED_TAG] = "nested_tag",
};

const char *switch_drop_reason_name(enum switch_drop_reason reason)
{
	if ((unsigned)reason >= SWITCH_DROP__COUNT)
		return "?";
	return drop_names[reason];
}

static uint64_t clock_default(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline bool vlan_test(const uint64_t *map, uint16_t vid)
{
	return map[vid / 64] >> (vid % 64) & 1;
}

static inline void vlan_set(uint64_t *map, uint16_t vid)
{
	map[vid / 64] |= 1ull << (vid % 64);
}

/* Seconds since the switch was made, plus one: 0 never means "now". */
static void switch_clock_read(struct switch_core *sw)
{
	uint64_t ns = sw->cfg.clock_ns(sw->cfg.clock_arg);

	sw->now_sec = (uint32_t)((ns - sw->base_ns) / 1000000000ull) + 1;
}

static int port_config_check(const struct switch_port_config *cfg)
{
	if (memchr(cfg->name, 0, sizeof(cfg->name)) == NULL)
		return -EINVAL;
	switch (cfg->mode) {
	case SWITCH_PORT_ACCESS:
		if (cfg->access_vlan > SWITCH_VLAN_MAX)
			return -EINVAL;
		break;
	case SWITCH_PORT_TRUNK:
		if (cfg->native_vlan > SWITCH_VLAN_MAX)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* Derive the lookup state of a port from its config (already checked). */
static void port_config_apply(struct sw_port *p,
			      const struct switch_port_config *cfg)
{
	p->cfg = *cfg;
	memset(p->vlans, 0, sizeof(p->vlans));
	if (cfg->mode == SWITCH_PORT_ACCESS) {
		p->cfg.access_vlan =
		    cfg->access_vlan ? cfg->access_vlan : SWITCH_VLAN_DEFAULT;
		p->untagged_vlan = p->cfg.access_vlan;
		vlan_set(p->vlans, p->untagged_vlan);
		return;
	}
	memcpy(p->vlans, cfg->allowed, sizeof(p->vlans));
	/* VID 0 and 4095 are never VLANs (802.1Q table 9-2). */
	p->vlans[0] &= ~1ull;
	p->vlans[4095 / 64] &= ~(1ull << (4095 % 64));
	p->untagged_vlan = cfg->native_vlan;
	if (p->untagged_vlan)
		vlan_set(p->vlans, p->untagged_vlan);
}

struct switch_core *switch_create(const struct switch_config *cfg)
{
	struct switch_core *sw;
	uint32_t i;

	sw = calloc(1, sizeof(*sw));
	if (!sw)
		goto fail;
	if (cfg)
		sw->cfg = *cfg;
	if (!sw->cfg.fdb_size)
		sw->cfg.fdb_size = SWITCH_FDB_SIZE_DEFAULT;
	if (!sw->cfg.aging_sec)
		sw->cfg.aging_sec = SWITCH_AGING_SEC_DEFAULT;
	if (!sw->cfg.max_ports)
		sw->cfg.max_ports = SWITCH_MAX_PORTS_DEFAULT;
	if (!sw->cfg.clock_ns)
		sw->cfg.clock_ns = clock_default;
	if (sw->cfg.fdb_size > SWITCH_FDB_SIZE_MAX ||
	    sw->cfg.max_ports > SWITCH_MAX_PORTS_MAX) {
		errno = EINVAL;
		goto fail_free;
	}
	sw->ports = calloc(sw->cfg.max_ports, sizeof(*sw->ports));
	sw->active = calloc(sw->cfg.max_ports, sizeof(*sw->active));
	sw->scratch = malloc(SCRATCH_SIZE);
	if (!sw->ports || !sw->active || !sw->scratch) {
		errno = ENOMEM;
		goto fail_arrays;
	}
	if (fdb_init(&sw->fdb, sw->cfg.fdb_size, sw->cfg.max_ports,
		     sw->cfg.aging_sec) < 0) {
		errno = ENOMEM;
		goto fail_arrays;
	}
	for (i = 0; i < sw->cfg.max_ports; i++) {
		sw->ports[i].port.id = i;
		sw->ports[i].port.sw = sw;
	}
	pthread_mutex_init(&sw->lock, NULL);
	sw->base_ns = sw->cfg.clock_ns(sw->cfg.clock_arg);
	switch_clock_read(sw);
	sw->swept_sec = sw->now_sec;
	return sw;

fail_arrays:
	free(sw->scratch);
	free(sw->active);
	free(sw->ports);
fail_free:
	free(sw);
fail:
	return NULL;
}

static struct sw_port *port_active(struct switch_core *sw, uint32_t id)
{
	if (id >= sw->cfg.max_ports || sw->ports[id].state != PORT_ACTIVE)
		return NULL;
	return &sw->ports[id];
}

static void mirror_dirs_update(struct switch_core *sw, uint32_t port_id)
{
	unsigned dirs = 0, all = 0;
	uint32_t p;
	int i;

	for (i = 0; i < SWITCH_MIRROR_MAX; i++) {
		if (!sw->mirrors[i].used)
			continue;
		if (sw->mirrors[i].port_id == SWITCH_PORT_ALL)
			all |= sw->mirrors[i].dirs;
		else if (sw->mirrors[i].port_id == port_id)
			dirs |= sw->mirrors[i].dirs;
	}
	sw->all_mirror_dirs = all;
	if (port_id != SWITCH_PORT_ALL) {
		sw->ports[port_id].mirror_dirs = dirs | all;
		return;
	}
	/* A network-wide mirror changed: every port's union changes. */
	for (p = 0; p < sw->cfg.max_ports; p++) {
		dirs = all;
		for (i = 0; i < SWITCH_MIRROR_MAX; i++)
			if (sw->mirrors[i].used && sw->mirrors[i].port_id == p)
				dirs |= sw->mirrors[i].dirs;
		sw->ports[p].mirror_dirs = dirs;
	}
}

/* Take a port out of service under the lock; close runs after unlocking. */
static void port_detach_locked(struct switch_core *sw, struct sw_port *p)
{
	uint32_t i;
	int m;

	fdb_flush(&sw->fdb, (uint16_t)p->port.id, 0);
	for (m = 0; m < SWITCH_MIRROR_MAX; m++)
		if (sw->mirrors[m].used && sw->mirrors[m].port_id == p->port.id)
			sw->mirrors[m].used = false;
	p->mirror_dirs = sw->all_mirror_dirs;
	for (i = 0; i < sw->n_active; i++) {
		if (sw->active[i] == p->port.id) {
			sw->active[i] = sw->active[--sw->n_active];
			break;
		}
	}
	p->state = PORT_RESERVED;
}

static void port_release(struct switch_core *sw, struct sw_port *p)
{
	if (p->port.ops && p->port.ops->close)
		p->port.ops->close(&p->port);
	pthread_mutex_lock(&sw->lock);
	p->port.priv = NULL;
	p->port.ops = NULL;
	p->state = PORT_FREE;
	pthread_mutex_unlock(&sw->lock);
}

void switch_destroy(struct switch_core *sw)
{
	uint32_t i;

	if (!sw)
		return;
	for (i = 0; i < sw->cfg.max_ports; i++)
		if (sw->ports[i].state == PORT_ACTIVE)
			switch_port_remove(sw, i);
	pthread_mutex_destroy(&sw->lock);
	fdb_fini(&sw->fdb);
	free(sw->scratch);
	free(sw->active);
	free(sw->ports);
	free(sw);
}

/* Find a free slot and hold it; the caller fills it and activates it. */
static struct sw_port *port_reserve(struct switch_core *sw,
				    const struct port_ops *ops,
				    const struct switch_port_config *cfg)
{
	uint32_t i;

	for (i = 0; i < sw->cfg.max_ports; i++) {
		struct sw_port *p = &sw->ports[i];

		if (p->state != PORT_FREE)
			continue;
		p->state = PORT_RESERVED;
		p->port.ops = ops;
		p->port.priv = NULL;
		strcpy(p->port.name, cfg->name);
		port_config_apply(p, cfg);
		return p;
	}
	return NULL;
}

static void port_activate(struct switch_core *sw, struct sw_port *p)
{
	memset(&p->st, 0, sizeof(p->st));
	p->broken = false;
	p->out_count = 0;
	p->mirror_dirs = sw->all_mirror_dirs;
	sw->active[sw->n_active++] = (uint16_t)p->port.id;
	p->state = PORT_ACTIVE;
}

int switch_port_add(struct switch_core *sw, const struct port_ops *ops,
		    void *priv, const struct switch_port_config *cfg)
{
	struct sw_port *p;
	int ret;

	if (!ops || !cfg)
		return -EINVAL;
	ret = port_config_check(cfg);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&sw->lock);
	p = port_reserve(sw, ops, cfg);
	if (p) {
		p->port.priv = priv;
		port_activate(sw, p);
	}
	pthread_mutex_unlock(&sw->lock);
	return p ? (int)p->port.id : -ENOSPC;
}

int switch_port_open(struct switch_core *sw, const struct port_ops *ops,
		     const void *args, const struct switch_port_config *cfg)
{
	struct sw_port *p;
	int ret;

	if (!ops || !cfg || !ops->open)
		return -EINVAL;
	ret = port_config_check(cfg);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&sw->lock);
	p = port_reserve(sw, ops, cfg);
	pthread_mutex_unlock(&sw->lock);
	if (!p)
		return -ENOSPC;
	/* open may take a while (sockets, memfds): not under the lock. */
	ret = ops->open(&p->port, args);
	pthread_mutex_lock(&sw->lock);
	if (ret < 0) {
		p->port.ops = NULL;
		p->port.priv = NULL;
		p->state = PORT_FREE;
	} else {
		port_activate(sw, p);
		ret = (int)p->port.id;
	}
	pthread_mutex_unlock(&sw->lock);
	return ret;
}

int switch_port_remove(struct switch_core *sw, uint32_t port_id)
{
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p)
		port_detach_locked(sw, p);
	pthread_mutex_unlock(&sw->lock);
	if (!p)
		return -ENOENT;
	port_release(sw, p);
	return 0;
}

int switch_port_configure(struct switch_core *sw, uint32_t port_id,
			  const struct switch_port_config *cfg)
{
	struct sw_port *p;
	int ret;

	if (!cfg)
		return -EINVAL;
	ret = port_config_check(cfg);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p) {
		port_config_apply(p, cfg);
		strcpy(p->port.name, p->cfg.name);
		fdb_flush(&sw->fdb, (uint16_t)port_id, 0);
	}
	pthread_mutex_unlock(&sw->lock);
	return p ? 0 : -ENOENT;
}

int switch_port_get_config(struct switch_core *sw, uint32_t port_id,
			   struct switch_port_config *cfg)
{
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p)
		*cfg = p->cfg;
	pthread_mutex_unlock(&sw->lock);
	return p ? 0 : -ENOENT;
}

int switch_port_reset(struct switch_core *sw, uint32_t port_id)
{
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p)
		p->broken = false;
	pthread_mutex_unlock(&sw->lock);
	return p ? 0 : -ENOENT;
}

struct port *switch_port_get(struct switch_core *sw, uint32_t port_id)
{
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	pthread_mutex_unlock(&sw->lock);
	return p ? &p->port : NULL;
}

int switch_port_stats_get(struct switch_core *sw, uint32_t port_id,
			  struct switch_port_stats *st)
{
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_active(sw, port_id);
	if (p)
		*st = p->st;
	pthread_mutex_unlock(&sw->lock);
	return p ? 0 : -ENOENT;
}

static void mirror_run(struct switch_core *sw, uint32_t port_id,
		       enum switch_dir dir, const struct frame *f)
{
	int i;

	for (i = 0; i < SWITCH_MIRROR_MAX; i++) {
		struct sw_mirror *m = &sw->mirrors[i];

		if (m->used && (m->dirs & dir) &&
		    (m->port_id == port_id || m->port_id == SWITCH_PORT_ALL))
			m->fn(m->arg, port_id, dir, f);
	}
}

static inline void port_drop(struct sw_port *p, enum switch_drop_reason r)
{
	p->st.drops[r]++;
}

/* Queue input frame @idx to port @q for this round. */
static inline void out_queue(struct switch_core *sw, struct sw_port *q,
			     uint32_t idx)
{
	if (q->out_count == 0) {
		if (sw->n_touched < FRAME_BATCH_MAX * 2)
			sw->touched[sw->n_touched++] = (uint16_t)q->port.id;
		else
			sw->touched_all = true;
	}
	q->out_idx[q->out_count++] = (uint8_t)idx;
	sw->meta[idx].forwarded = 1;
}

/* Every port of the frame's VLAN but the ingress, isolation respected. */
static uint32_t flood(struct switch_core *sw, struct sw_port *in, uint32_t idx,
		      uint16_t vlan)
{
	uint32_t i, n = 0;

	for (i = 0; i < sw->n_active; i++) {
		struct sw_port *q = &sw->ports[sw->active[i]];

		if (q == in || q->broken || !vlan_test(q->vlans, vlan))
			continue;
		if (in->cfg.isolated && q->cfg.isolated)
			continue;
		out_queue(sw, q, idx);
		n++;
	}
	return n;
}

/*
 * Classify the frame's VLAN on ingress port @in from the local header copy.
 * Return: the VLAN (1..4094), or 0 after counting the drop.
 */
static inline uint16_t ingress_vlan(struct sw_port *in, struct frame_meta *m)
{
	uint16_t vid = m->tci & VID_MASK;
	uint16_t inner = (uint16_t)(m->type[0] << 8 | m->type[1]);

	/*
	 * A priority tag hiding another tag would leave that inner tag
	 * outermost once the switch strips the priority tag on untagged
	 * egress: the double-tagging VLAN hop.
	 */
	if (m->tagged && vid == 0 &&
	    (inner == ETH_P_8021Q || inner == ETH_P_8021AD)) {
		port_drop(in, SWITCH_DROP_NESTED_TAG);
		return 0;
	}
	if (in->cfg.mode == SWITCH_PORT_ACCESS) {
		if (m->tagged && vid != 0) {
			port_drop(in, SWITCH_DROP_VLAN_TAGGED_ON_ACCESS);
			return 0;
		}
		return in->untagged_vlan;
	}
	if (!m->tagged || vid == 0) {
		if (!in->untagged_vlan)
			port_drop(in, SWITCH_DROP_UNTAGGED_NO_NATIVE);
		return in->untagged_vlan;
	}
	if (!vlan_test(in->vlans, vid)) {
		port_drop(in, SWITCH_DROP_VLAN_NOT_ALLOWED);
		return 0;
	}
	return vid;
}

/* Keys and bit tests below read MACs out of little-endian 64-bit words. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "switch.c assumes a little-endian host");

enum { KEY_NONE = UINT64_MAX }; /* VLAN bits 0xffff: never a real key */

/*
 * Decide where frame @idx goes: learn its source, look up its destination,
 * queue it. Drops are counted on @in.
 */
static void ingress_one(struct switch_core *sw, struct sw_port *in,
			struct frame *f, uint32_t idx)
{
	struct frame_meta *m = &sw->meta[idx];
	struct pkt_view v = {f->data, f->len};
	const uint8_t *p;
	struct sw_port *q;
	uint64_t key;
	uint16_t vlan;
	uint32_t dport;

	m->forwarded = 0;
	f->vlan = 0;
	if (f->len > FRAME_MAX_LEN) {
		port_drop(in, SWITCH_DROP_OVERSIZE);
		goto bad;
	}
	/*
	 * Read the header once, into registers: the bytes may live in a
	 * peer's memory and change under us. Everything below, including
	 * headers rewritten on egress, comes from this copy.
	 */
	p = pkt_get(&v, 0, ETH_HLEN);
	if (!p) {
		port_drop(in, SWITCH_DROP_RUNT);
		goto bad;
	}
	memcpy(&m->w0, p, 8);
	memcpy(&m->w1, p + ETH_ALEN, 8);
	/* Bytes 12-13 are the top of w1: 0x81 0x00 is a tag. */
	m->tagged =
	    (m->w1 >> 48) == (ETH_P_8021Q >> 8 | (ETH_P_8021Q & 0xff) << 8);
	m->tci = 0;
	if (m->tagged) {
		p = pkt_get(&v, ETH_HLEN, VLAN_HLEN);
		if (!p) {
			port_drop(in, SWITCH_DROP_RUNT);
			goto bad;
		}
		m->tci = (uint16_t)(p[0] << 8 | p[1]);
		m->type[0] = p[2];
		m->type[1] = p[3];
	} else {
		m->type[0] = (uint8_t)(m->w1 >> 48);
		m->type[1] = (uint8_t)(m->w1 >> 56);
	}
	if (m->w1 & 1) {
		port_drop(in, SWITCH_DROP_SRC_MULTICAST);
		goto drop;
	}
	vlan = ingress_vlan(in, m);
	if (!vlan)
		goto drop;
	m->vlan = vlan;
	f->vlan = vlan;

	key = fdb_key(m->w1, vlan);
	if (key != sw->last_src_key && !(sw->cfg.flags & SWITCH_F_NO_LEARN)) {
		if (fdb_learn(&sw->fdb, key, (uint16_t)in->port.id, sw->now_sec,
			      sw->active, sw->n_active))
			sw->last_dst_key = KEY_NONE;
		sw->last_src_key = key;
	}

	if (in->mirror_dirs & SWITCH_DIR_INGRESS)
		mirror_run(sw, in->port.id, SWITCH_DIR_INGRESS, f);

	if (m->w0 & 1)
		goto flood;
	key = fdb_key(m->w0, vlan);
	if (key == sw->last_dst_key) {
		dport = sw->last_dst_port;
	} else if (fdb_lookup(&sw->fdb, key, sw->now_sec, &dport)) {
		sw->last_dst_key = key;
		sw->last_dst_port = dport;
	} else if (sw->cfg.flags & SWITCH_F_NO_FLOOD_UNKNOWN) {
		port_drop(in, SWITCH_DROP_NO_PORT);
		return;
	} else {
		goto flood;
	}
	q = &sw->ports[dport];
	if (q == in) {
		port_drop(in, SWITCH_DROP_SAME_PORT);
		return;
	}
	if (in->cfg.isolated && q->cfg.isolated) {
		port_drop(in, SWITCH_DROP_ISOLATED);
		return;
	}
	if (q->broken) {
		port_drop(q, SWITCH_DROP_PORT_DOWN);
		return;
	}
	if (!vlan_test(q->vlans, vlan)) {
		port_drop(in, SWITCH_DROP_NO_PORT);
		return;
	}
	out_queue(sw, q, idx);
	return;

flood:
	if (!flood(sw, in, idx, vlan))
		port_drop(in, SWITCH_DROP_NO_PORT);
	return;

bad:
	log_rl(LOG_DEBUG, MOD, "port %s: dropped a malformed frame of %u bytes",
	       in->port.name, f->len);
drop:
	if (in->mirror_dirs & SWITCH_DIR_INGRESS)
		mirror_run(sw, in->port.id, SWITCH_DIR_INGRESS, f);
}

/*
 * A tag inserted or removed moves the L3 header: move the offload offsets
 * that point past the MACs with it. Return: false if one would overflow.
 */
static bool offload_shift(struct frame_offload *o, int delta)
{
	int32_t cs = o->csum_start, hl = o->hdr_len;

	if ((o->flags & FRAME_F_NEEDS_CSUM) && cs >= 2 * ETH_ALEN) {
		cs += delta;
		if (cs > UINT16_MAX)
			return false;
		o->csum_start = (uint16_t)cs;
	}
	if (o->gso_type != FRAME_GSO_NONE && hl >= 2 * ETH_ALEN) {
		hl += delta;
		if (hl > UINT16_MAX)
			return false;
		o->hdr_len = (uint16_t)hl;
	}
	return true;
}

static void port_send(struct switch_core *sw, struct sw_port *q,
		      struct frame_batch *tx)
{
	uint32_t i, n = tx->count;
	int ret;

	if (q->mirror_dirs & SWITCH_DIR_EGRESS)
		for (i = 0; i < n; i++)
			mirror_run(sw, q->port.id, SWITCH_DIR_EGRESS,
				   &tx->f[i]);
	ret = q->port.ops->send(&q->port, tx);
	if (ret < 0)
		ret = 0;
	if ((uint32_t)ret > n)
		ret = (int)n;
	q->st.tx_frames += (uint32_t)ret;
	for (i = 0; i < (uint32_t)ret; i++)
		q->st.tx_bytes += tx->f[i].len;
	q->st.drops[SWITCH_DROP_TX_FULL] += n - (uint32_t)ret;
	tx->count = 0;
}

/*
 * Build @q's output batch from the frames queued to it, editing the tag
 * where the egress format differs from the ingress one, and send it.
 */
static void egress_port(struct switch_core *sw, struct sw_port *q,
			struct frame_batch *in, bool in_shared)
{
	struct frame_batch *tx = &sw->tx;
	uint32_t i, used = 0;

	tx->count = 0;
	for (i = 0; i < q->out_count; i++) {
		uint32_t idx = q->out_idx[i];
		const struct frame_meta *m = &sw->meta[idx];
		const struct frame *f = &in->f[idx];
		struct frame *o = &tx->f[tx->count];
		bool want_tag = m->vlan != q->untagged_vlan;
		uint32_t src_hdr, out_hdr, len;
		int32_t delta;
		uint16_t tci;
		uint8_t *d;

		if (f->off.gso_type != FRAME_GSO_NONE && !q->cfg.accepts_gso) {
			port_drop(q, SWITCH_DROP_GSO_UNSUPPORTED);
			continue;
		}
		if (!in_shared && want_tag == (bool)m->tagged &&
		    (!want_tag || (m->tci & VID_MASK) == m->vlan)) {
			*o = *f;
			tx->count++;
			continue;
		}
		/*
		 * Edit: the whole header (MACs, tag, EtherType) is written
		 * from the local copy ingress decided on; only the body
		 * after it is copied from the frame.
		 */
		src_hdr = ETH_HLEN + (m->tagged ? VLAN_HLEN : 0);
		out_hdr = ETH_HLEN + (want_tag ? VLAN_HLEN : 0);
		delta = (int32_t)out_hdr - (int32_t)src_hdr;
		len = out_hdr + (f->len - src_hdr);
		if (len > FRAME_MAX_LEN) {
			port_drop(q, SWITCH_DROP_TOO_LONG);
			continue;
		}
		if (used + len > SCRATCH_SIZE) {
			port_send(sw, q, tx);
			used = 0;
		}
		o = &tx->f[tx->count];
		*o = *f;
		if (!offload_shift(&o->off, delta)) {
			port_drop(q, SWITCH_DROP_TOO_LONG);
			continue;
		}
		d = sw->scratch + used;
		memcpy(d, &m->w0, ETH_ALEN);
		memcpy(d + ETH_ALEN, &m->w1, ETH_ALEN);
		if (want_tag) {
			tci = (uint16_t)((m->tagged ? m->tci & ~VID_MASK : 0) |
					 m->vlan);
			d[12] = ETH_P_8021Q >> 8;
			d[13] = ETH_P_8021Q & 0xff;
			d[14] = (uint8_t)(tci >> 8);
			d[15] = (uint8_t)tci;
		}
		d[out_hdr - 2] = m->type[0];
		d[out_hdr - 1] = m->type[1];
		memcpy(d + out_hdr, f->data + src_hdr, f->len - src_hdr);
		o->data = d;
		o->len = len;
		used += (len + 63) & ~63u;
		tx->count++;
	}
	if (tx->count)
		port_send(sw, q, tx);
	q->out_count = 0;
}

static int input_locked(struct switch_core *sw, struct sw_port *in,
			struct frame_batch *b)
{
	uint32_t i, n = b->count, fwd = 0;

	in->st.rx_frames += n;
	sw->n_touched = 0;
	sw->touched_all = false;
	sw->last_src_key = KEY_NONE;
	sw->last_dst_key = KEY_NONE;
	for (i = 0; i < n; i++) {
		in->st.rx_bytes += b->f[i].len;
		ingress_one(sw, in, &b->f[i], i);
	}
	if (sw->touched_all) {
		for (i = 0; i < sw->n_active; i++) {
			struct sw_port *q = &sw->ports[sw->active[i]];

			if (q->out_count)
				egress_port(sw, q, b, in->cfg.rx_shared);
		}
	} else {
		for (i = 0; i < sw->n_touched; i++)
			egress_port(sw, &sw->ports[sw->touched[i]], b,
				    in->cfg.rx_shared);
	}
	for (i = 0; i < n; i++)
		fwd += sw->meta[i].forwarded;
	return (int)fwd;
}

static void sweep_locked(struct switch_core *sw)
{
	uint32_t i;

	if (sw->now_sec == sw->swept_sec)
		return;
	sw->swept_sec = sw->now_sec;
	for (i = 0; i < sw->n_active; i++) {
		struct sw_port *p = &sw->ports[sw->active[i]];

		fdb_expire(&sw->fdb, (uint16_t)p->port.id, sw->now_sec);
	}
}

int switch_port_input(struct switch_core *sw, uint32_t port_id,
		      struct frame_batch *batch)
{
	struct sw_port *in;
	int ret;

	if (batch->count > FRAME_BATCH_MAX)
		return -EINVAL;
	pthread_mutex_lock(&sw->lock);
	in = port_active(sw, port_id);
	if (in) {
		switch_clock_read(sw);
		sweep_locked(sw);
		ret = input_locked(sw, in, batch);
	} else {
		ret = -ENOENT;
	}
	pthread_mutex_unlock(&sw->lock);
	return ret;
}

int switch_poll(struct switch_core *sw)
{
	uint32_t i;
	int total = 0;

	pthread_mutex_lock(&sw->lock);
	switch_clock_read(sw);
	sweep_locked(sw);
	for (i = 0; i < sw->n_active; i++) {
		struct sw_port *p = &sw->ports[sw->active[i]];
		int ret;

		if (p->broken)
			continue;
		sw->rx.count = 0;
		ret = p->port.ops->recv(&p->port, &sw->rx);
		if (ret < 0 || sw->rx.count > FRAME_BATCH_MAX) {
			p->broken = true;
			log_rl(LOG_WARN, MOD, "port %s: recv failed (%d)",
			       p->port.name, ret < 0 ? ret : -EPROTO);
			if (sw->cfg.port_event)
				sw->cfg.port_event(sw->cfg.event_arg,
						   p->port.id,
						   ret < 0 ? ret : -EPROTO);
			/* Hand back whatever it appended, unforwarded. */
			if (sw->rx.count <= FRAME_BATCH_MAX && sw->rx.count &&
			    p->port.ops->recv_done)
				p->port.ops->recv_done(&p->port, &sw->rx);
			continue;
		}
		if (!sw->rx.count)
			continue;
		total += (int)sw->rx.count;
		input_locked(sw, p, &sw->rx);
		if (p->port.ops->recv_done)
			p->port.ops->recv_done(&p->port, &sw->rx);
	}
	pthread_mutex_unlock(&sw->lock);
	return total;
}

void switch_tick(struct switch_core *sw)
{
	pthread_mutex_lock(&sw->lock);
	for (uint32_t i = 0; i < sw->n_active; i++) {
		struct sw_port *p = &sw->ports[sw->active[i]];

		if (!p->broken && p->port.ops->tick)
			p->port.ops->tick(&p->port);
	}
	pthread_mutex_unlock(&sw->lock);
}

int switch_fdb_dump(struct switch_core *sw,
		    int (*fn)(void *arg, const struct switch_fdb_entry *e),
		    void *arg)
{
	uint32_t i;
	int n = 0;

	pthread_mutex_lock(&sw->lock);
	switch_clock_read(sw);
	for (i = 0; i < sw->n_active; i++) {
		struct sw_port *p = &sw->ports[sw->active[i]];
		uint32_t e;

		for (e = sw->fdb.port[p->port.id].head; e != FDB_NIL;
		     e = sw->fdb.e[e].next) {
			const struct fdb_entry *fe = &sw->fdb.e[e];
			struct switch_fdb_entry out = {0};
			uint64_t mac = fe->key & FDB_MAC_MASK;

			if (sw->now_sec - fe->seen >= sw->cfg.aging_sec)
				continue;
			memcpy(out.mac, &mac, ETH_ALEN);
			out.vlan = (uint16_t)(fe->key >> 48);
			out.port_id = fe->port;
			out.age_sec = sw->now_sec - fe->seen;
			n++;
			if (fn(arg, &out))
				goto out;
		}
	}
out:
	pthread_mutex_unlock(&sw->lock);
	return n;
}

int switch_fdb_flush(struct switch_core *sw, int32_t port_id, uint16_t vlan)
{
	uint32_t i;
	int n = 0;

	pthread_mutex_lock(&sw->lock);
	for (i = 0; i < sw->n_active; i++) {
		struct sw_port *p = &sw->ports[sw->active[i]];

		if (port_id >= 0 && p->port.id != (uint32_t)port_id)
			continue;
		n += fdb_flush(&sw->fdb, (uint16_t)p->port.id, vlan);
	}
	pthread_mutex_unlock(&sw->lock);
	return n;
}

uint32_t switch_fdb_count(struct switch_core *sw)
{
	uint32_t n;

	pthread_mutex_lock(&sw->lock);
	n = sw->fdb.count;
	pthread_mutex_unlock(&sw->lock);
	return n;
}

int switch_mirror_add(struct switch_core *sw, uint32_t port_id, unsigned dirs,
		      switch_mirror_fn fn, void *arg)
{
	int i, ret = -ENOSPC;

	if (!fn || !dirs ||
	    (dirs & ~(unsigned)(SWITCH_DIR_INGRESS | SWITCH_DIR_EGRESS)))
		return -EINVAL;
	pthread_mutex_lock(&sw->lock);
	if (port_id != SWITCH_PORT_ALL && !port_active(sw, port_id)) {
		ret = -ENOENT;
		goto out;
	}
	for (i = 0; i < SWITCH_MIRROR_MAX; i++) {
		struct sw_mirror *m = &sw->mirrors[i];

		if (m->used)
			continue;
		*m = (struct sw_mirror){true, port_id, dirs, fn, arg};
		mirror_dirs_update(sw, port_id);
		ret = i;
		break;
	}
out:
	pthread_mutex_unlock(&sw->lock);
	return ret;
}

int switch_mirror_remove(struct switch_core *sw, int mirror_id)
{
	int ret = -ENOENT;

	if (mirror_id < 0 || mirror_id >= SWITCH_MIRROR_MAX)
		return -ENOENT;
	pthread_mutex_lock(&sw->lock);
	if (sw->mirrors[mirror_id].used) {
		sw->mirrors[mirror_id].used = false;
		mirror_dirs_update(sw, sw->mirrors[mirror_id].port_id);
		ret = 0;
	}
	pthread_mutex_unlock(&sw->lock);
	return ret;
}
