/* SPDX-License-Identifier: MIT */
/* switch_input.c - fuzz target: random port configs and frames, invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "switch/switch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input layout (every read is bounds-checked by the cursor; running out of
 * bytes ends the case):
 *   u8 fdb size, u8 port count, u8 switch flags
 *   per port: u8 mode/flags, u8 access/native VID, u8 allowed-VID bits,
 *             u8 send limit
 *   then records: u8 op, and for a frame u8 port, u16 len, len bytes.
 * VIDs are folded into 0..8 (plus 4095) so that ports share VLANs often.
 */

enum { PORTS_MAX = 6 };

struct cursor {
	const uint8_t *p;
	size_t left;
};

static int take(struct cursor *c, void *dst, size_t n)
{
	if (n > c->left)
		return -1;
	memcpy(dst, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

struct fport {
	int id;
	int send_limit;
	struct switch_port_config cfg;
	uint8_t sink[256];
};

static struct fport fports[PORTS_MAX];
static uint64_t fake_ns;
static size_t fdb_limit;
static int cur_in_id;
/* The input batch, to check that rx_shared frames are never passed on. */
static const struct frame_batch *cur_batch;
static bool cur_in_shared;

static uint64_t fuzz_clock(void *arg)
{
	(void)arg;
	return fake_ns;
}

static bool carries(const struct switch_port_config *c, uint16_t vid)
{
	uint16_t untagged = c->mode == SWITCH_PORT_ACCESS
				? (c->access_vlan ? c->access_vlan : 1)
				: c->native_vlan;

	if (vid == untagged)
		return true;
	return c->mode == SWITCH_PORT_TRUNK &&
	       (c->allowed[vid / 64] >> (vid % 64) & 1);
}

static int fport_send(struct port *port, struct frame_batch *b)
{
	struct fport *fp = port->priv;
	uint32_t i, x = 0;
	uint16_t untagged;

	if (b->count == 0 || b->count > FRAME_BATCH_MAX)
		abort();
	/* Never back out of the port it came in on. */
	if (fp->id == cur_in_id)
		abort();
	/* From an rx_shared port, only the switch's own copies go out. */
	for (i = 0; cur_in_shared && i < b->count; i++)
		for (uint32_t k = 0; k < cur_batch->count; k++)
			if (b->f[i].data == cur_batch->f[k].data)
				abort();
	untagged = fp->cfg.mode == SWITCH_PORT_ACCESS
		       ? (fp->cfg.access_vlan ? fp->cfg.access_vlan : 1)
		       : fp->cfg.native_vlan;
	for (i = 0; i < b->count; i++) {
		const struct frame *f = &b->f[i];
		uint32_t j;

		if (f->len < 14 || f->len > FRAME_MAX_LEN)
			abort();
		/* The frame's VLAN must be one the port carries. */
		if (f->vlan < 1 || f->vlan > 4094 ||
		    !carries(&fp->cfg, f->vlan))
			abort();
		/* Tagged egress carries exactly the frame's VID. */
		if (f->vlan != untagged &&
		    (f->len < 18 || f->data[12] != 0x81 || f->data[13] != 0 ||
		     ((f->data[14] & 0x0f) << 8 | f->data[15]) != f->vlan))
			abort();
		if (f->off.gso_type != FRAME_GSO_NONE && !fp->cfg.accepts_gso)
			abort();
		/* Touch every byte: ASan sees any bad pointer or length. */
		for (j = 0; j < f->len; j++)
			x += f->data[j];
	}
	fp->sink[x & 0xff]++;
	if (fp->send_limit >= 0 && b->count > (uint32_t)fp->send_limit)
		return fp->send_limit;
	return (int)b->count;
}

static int fport_recv(struct port *port, struct frame_batch *b)
{
	(void)port;
	(void)b;
	return 0;
}

static const struct port_ops fport_ops = {
    .name = "fuzz",
    .recv = fport_recv,
    .send = fport_send,
};

static void mirror_touch(void *arg, uint32_t port_id, enum switch_dir dir,
			 const struct frame *f)
{
	uint32_t j, x = 0;

	(void)arg;
	(void)port_id;
	(void)dir;
	for (j = 0; j < f->len && j < 64; j++)
		x += f->data[j];
	fports[0].sink[x & 0xff]++;
}

static uint16_t fold_vid(uint8_t v)
{
	v %= 10;
	return v == 9 ? 4095 : v;
}

static void port_config_make(struct switch_port_config *c, const uint8_t *b)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->mode = b[0] & 1 ? SWITCH_PORT_TRUNK : SWITCH_PORT_ACCESS;
	c->isolated = b[0] & 2;
	c->accepts_gso = b[0] & 4;
	c->rx_shared = b[0] & 32;
	if (c->mode == SWITCH_PORT_ACCESS) {
		c->access_vlan = fold_vid(b[1]);
		if (c->access_vlan > 4094)
			c->access_vlan = 4094;
	} else {
		c->native_vlan = fold_vid(b[1]);
		if (c->native_vlan > 4094)
			c->native_vlan = 0;
	}
	for (i = 0; i < 8; i++)
		if (b[2] >> i & 1)
			switch_vlan_allow(c, (uint16_t)(i + 1));
	if (b[0] & 8)
		c->allowed[4095 / 64] |= 1ull
					 << (4095 % 64); /* must be ignored */
	/* Anti-spoofing (common/antispoof.h): MAC learnt, one address
	 * 10.0.0.b[2], RA / DHCP server allowed by bits 6 and 7. */
	if (b[0] & 16) {
		c->antispoof.flags = ANTISPOOF_F_ON;
		if (b[0] & 64)
			c->antispoof.flags |= ANTISPOOF_F_ALLOW_RA;
		if (b[0] & 128)
			c->antispoof.flags |= ANTISPOOF_F_ALLOW_DHCP_SERVER;
		c->antispoof.ip[0] = (uint32_t)10 | (uint32_t)b[2] << 24;
		c->antispoof.nip = 1;
	}
}

static int count_cb(void *arg, const struct switch_fdb_entry *e)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = {data, size};
	struct switch_config cfg = {0};
	struct switch_core *sw;
	struct frame_batch b;
	uint8_t *bufs[FRAME_BATCH_MAX];
	uint8_t hdr[3], pc[4];
	uint32_t nports, i;
	int in_port = 0;
	size_t n = 0;

	if (take(&c, hdr, 3) < 0)
		return 0;
	fdb_limit = 1 + hdr[0] % 32;
	cfg.fdb_size = (uint32_t)fdb_limit;
	cfg.aging_sec = 1 + hdr[2] % 8;
	cfg.flags = hdr[2] >> 6;
	cfg.clock_ns = fuzz_clock;
	cfg.max_ports = PORTS_MAX;
	fake_ns = 0;
	nports = 1 + hdr[1] % PORTS_MAX;
	sw = switch_create(&cfg);
	if (!sw)
		abort();
	for (i = 0; i < nports; i++) {
		if (take(&c, pc, 4) < 0)
			goto out;
		port_config_make(&fports[i].cfg, pc);
		fports[i].send_limit = pc[3] < 200 ? -1 : pc[3] % 4;
		fports[i].id =
		    switch_port_add(sw, &fport_ops, &fports[i], &fports[i].cfg);
		if (fports[i].id < 0)
			abort();
		if (pc[0] & 16)
			switch_mirror_add(sw, (uint32_t)fports[i].id,
					  SWITCH_DIR_INGRESS |
					      SWITCH_DIR_EGRESS,
					  mirror_touch, NULL);
	}
	memset(&b, 0, sizeof(b));
	for (;;) {
		uint8_t op, port, lenb[2];
		uint32_t len;

		if (take(&c, &op, 1) < 0)
			break;
		switch (op >> 5) {
		case 0: /* flush the batch being built */
		case 1:
			break;
		case 2: /* time passes */
			fake_ns += (uint64_t)(op & 31) * 500000000ull;
			continue;
		case 3: /* reconfigure a port */
			if (take(&c, pc, 3) < 0)
				goto done;
			i = (op & 31) % nports;
			port_config_make(&fports[i].cfg, pc);
			if (switch_port_configure(sw, (uint32_t)fports[i].id,
						  &fports[i].cfg) < 0)
				abort();
			continue;
		case 4: /* flush some of the FDB */
			switch_fdb_flush(sw, (op & 1) ? -1 : fports[0].id,
					 (uint16_t)fold_vid(op >> 1));
			continue;
		default: /* a frame into the current batch */
			if (take(&c, &port, 1) < 0 || take(&c, lenb, 2) < 0)
				goto done;
			len = (uint32_t)lenb[0] | (uint32_t)lenb[1] << 8;
			if (len > c.left)
				len = (uint32_t)c.left;
			if (b.count == 0)
				in_port = port % nports;
			bufs[b.count] = malloc(len ? len : 1);
			if (!bufs[b.count])
				abort();
			take(&c, bufs[b.count], len);
			b.f[b.count] = (struct frame){
			    .data = bufs[b.count],
			    .len = len,
			    .off.gso_type = (op & 1) ? FRAME_GSO_TCPV4 : 0,
			    .off.flags = (op & 2) ? FRAME_F_NEEDS_CSUM : 0,
			    .off.csum_start = (uint16_t)(port * 7),
			    .off.hdr_len = (uint16_t)(port * 13),
			};
			b.count++;
			if (b.count < FRAME_BATCH_MAX && !(op & 4))
				continue;
		}
		if (b.count) {
			cur_in_id = fports[in_port].id;
			cur_in_shared = fports[in_port].cfg.rx_shared;
			cur_batch = &b;
			if (switch_port_input(sw, (uint32_t)fports[in_port].id,
					      &b) < 0)
				abort();
			for (i = 0; i < b.count; i++)
				free(bufs[i]);
			b.count = 0;
		}
	}
done:
	if (b.count) {
		cur_in_id = fports[in_port].id;
		cur_in_shared = fports[in_port].cfg.rx_shared;
		cur_batch = &b;
		switch_port_input(sw, (uint32_t)fports[in_port].id, &b);
		for (i = 0; i < b.count; i++)
			free(bufs[i]);
	}
	if (switch_fdb_count(sw) > fdb_limit)
		abort();
	switch_fdb_dump(sw, count_cb, &n);
	if (n > fdb_limit)
		abort();
out:
	switch_destroy(sw);
	return 0;
}
