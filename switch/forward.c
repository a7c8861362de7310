/* SPDX-License-Identifier: MIT */
/* forward.c - the L2 switch's data path: VLAN ingress, learning, flooding, egress tag edits, mirrors, per-port polling. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "common/log.h"
#include "common/pkt.h"
#include "switch/switch_internal.h"

LOG_MODULE("switch");

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
	/*
	 * What the port may send (common/antispoof.h). It reads the frame
	 * itself: on an shm port the guest could rewrite its ring after
	 * the check (docs/architecture.md, "Anti-spoofing").
	 */
	if (in->cfg.antispoof.flags & ANTISPOOF_F_ON) {
		int why = antispoof_check(&in->cfg.antispoof, f->data,
					  f->data + f->len);

		if (why > 0) {
			port_drop(in, (enum switch_drop_reason)(
					  SWITCH_DROP_SPOOF_MAC + why - 1));
			goto drop;
		}
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
