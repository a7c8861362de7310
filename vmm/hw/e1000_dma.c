// SPDX-License-Identifier: MIT
/* e1000_dma.c - 82540EM transmit and receive rings: descriptors, offloads, filters. */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/e1000.h"
#include "vmm/hw/nic_offload.h"

LOG_MODULE("e1000-dma");

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static bool bus_master(struct e1000 *d)
{
	if (pci_dev_cfg_read(&d->pci, PCI_CFG_COMMAND, 2) & PCI_CMD_MASTER)
		return true;
	e1000_log_once(d, E1000_LOG_NO_MASTER,
		       "ring in use with bus mastering off: no DMA");
	return false;
}

/*
 * A ring as the registers describe it, or false when they describe none
 * the model can walk: length 0 (the low 7 bits are ignored, as the chip
 * does), head or tail outside it.
 */
static bool ring_get(struct e1000 *d, unsigned int bal, uint64_t *base,
		     uint32_t *n, uint32_t *head, uint32_t *tail)
{
	*base = ((uint64_t)e1000_reg(d, bal + 4) << 32 | e1000_reg(d, bal)) &
		~0xfull;
	*n = (e1000_reg(d, bal + 8) & 0xfff80u) / E1000_DESC_SIZE;
	*head = e1000_reg(d, bal + 0x10);
	*tail = e1000_reg(d, bal + 0x18);
	return *n && *head < *n && *tail < *n;
}

/* Frame accounting shared by the TX paths; VLAN tag inserted if asked. */
struct tx_out {
	struct e1000 *d;
	bool vlan;
	uint16_t tci;
};

static void tx_emit(void *arg, uint8_t *f, size_t len)
{
	struct tx_out *o = arg;
	struct e1000 *d = o->d;

	if (o->vlan && len >= 12) {
		memmove(f + 16, f + 12, len - 12);
		nic_put_be16(f + 12, (uint16_t)e1000_reg(d, E1000_VET));
		nic_put_be16(f + 14, o->tci);
		len += NIC_VLAN_HLEN;
	}
	if (d->tx_blocked || (d->host.tx && d->host.tx(d->host.opaque, f, len))) {
		/*
		 * No room in the backend. Nothing of the packet out yet: it
		 * is taken again from its first descriptor at the next pass;
		 * else the rest of its segments are lost.
		 */
		d->tx_blocked = true;
		if (!d->tx_emitted) {
			d->tx_rewind = true;
			return;
		}
		d->stats.tx_dropped++;
		return;
	}
	d->tx_emitted++;
	e1000_stat_add(d, E1000_GPTC, 1);
	e1000_stat_add(d, E1000_TPT, 1);
	e1000_stat_add(d, E1000_GOTCL, len + 4);
	e1000_stat_add(d, E1000_TOTL, len + 4);
	if (len >= 6 && (f[0] & 1))
		e1000_stat_add(d, memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) ?
			       E1000_MPTC : E1000_BPTC, 1);
	d->stats.tx_frames++;
	d->stats.tx_bytes += len;
}

static void tx_drop(struct e1000 *d)
{
	d->stats.tx_dropped++;
	log_rl(LOG_WARN, MOD, "%s: transmit frame dropped", d->pci.name);
}

/* TCP segmentation as the context descriptor describes it. */
static void tx_tso(struct e1000 *d, struct tx_out *o)
{
	const struct e1000_tx_ctx *c = &d->ctx;
	struct nic_tso t = {
		.hdr_len = c->hdr_len,
		.mss = c->mss,
		.ip_off = c->ipcss,
		.l4_off = c->tucss,
		.ipv4 = c->tucmd & E1000_TXD_TUCMD_IP,
		.tcp = c->tucmd & E1000_TXD_TUCMD_TCP,
		.ip_csum = (d->tx_popts & E1000_TXD_POPTS_IXSM) &&
			   (c->tucmd & E1000_TXD_TUCMD_IP),
		.l4_csum = d->tx_popts & E1000_TXD_POPTS_TXSM,
		.ip_csum_end = c->ipcse ? (size_t)c->ipcse + 1 : c->tucss,
		.ip_csum_field = c->ipcso,
		.l4_csum_field = c->tucso,
	};
	int n = -EINVAL;

	if (c->valid && (c->tucmd & E1000_TXD_DCMD_TSE))
		n = nic_tso_segment(&t, d->buf.tx, d->tx_len, d->buf.seg,
				    E1000_MAX_FRAME, tx_emit, o);
	if (d->tx_rewind)
		return;		/* nothing went out: the packet comes again */
	if (n < 0) {
		d->stats.tso_bad++;
		e1000_stat_add(d, E1000_TSCTFC, 1);
		e1000_log_once(d, E1000_LOG_TSO,
			       "TSO frame with bad context (MSS, header length or offsets): dropped");
		tx_drop(d);
		return;
	}
	d->stats.tso_frames++;
	d->stats.tso_segments += (unsigned int)n;
	e1000_stat_add(d, E1000_TSCTC, 1);
}

/* End of packet: offloads, then out. */
static void tx_finish(struct e1000 *d, bool ext, bool vle, uint16_t tci)
{
	const struct e1000_tx_ctx *c = &d->ctx;
	struct tx_out o = {
		.d = d,
		.vlan = vle && (e1000_reg(d, E1000_CTRL) & E1000_CTRL_VME),
		.tci = tci,
	};

	if (d->tx_overflow) {
		e1000_log_once(d, E1000_LOG_TX_LONG,
			       "transmit frame too long or not in RAM: dropped");
		tx_drop(d);
		return;
	}
	if (ext && d->tx_tse) {
		tx_tso(d, &o);
		return;
	}
	if (d->tx_len < NIC_ETH_HLEN) {
		tx_drop(d);
		return;
	}
	if (d->tx_len > E1000_MAX_FRAME) {
		tx_drop(d);
		return;
	}
	if (ext && c->valid && (d->tx_popts & E1000_TXD_POPTS_IXSM))
		nic_csum_insert(d->buf.tx, d->tx_len, c->ipcss,
				c->ipcse ? (size_t)c->ipcse + 1 : d->tx_len,
				c->ipcso);
	if (ext && c->valid && (d->tx_popts & E1000_TXD_POPTS_TXSM))
		nic_csum_insert(d->buf.tx, d->tx_len, c->tucss,
				c->tucse ? (size_t)c->tucse + 1 : d->tx_len,
				c->tucso);
	if (!ext && d->tx_legacy_ic)
		nic_csum_insert(d->buf.tx, d->tx_len, d->tx_css, d->tx_len,
				d->tx_cso);
	tx_emit(&o, d->buf.tx, d->tx_len);
}

static void tx_context(struct e1000 *d, const uint8_t *desc)
{
	struct e1000_tx_ctx *c = &d->ctx;

	c->ipcss = desc[0];
	c->ipcso = desc[1];
	c->ipcse = le16(desc + 2);
	c->tucss = desc[4];
	c->tucso = desc[5];
	c->tucse = le16(desc + 6);
	c->paylen = le32(desc + 8) & 0xfffff;
	c->tucmd = le32(desc + 8) & 0xff000000u;
	c->hdr_len = desc[13];
	c->mss = le16(desc + 14);
	c->valid = true;
}

/* One descriptor; returns whether it asked for status write-back (RS). */
static bool tx_desc(struct e1000 *d, const uint8_t *desc)
{
	uint64_t addr = le64(desc);
	uint32_t lower = le32(desc + 8), upper = le32(desc + 12);
	uint8_t cmd = (uint8_t)(lower >> 24);
	bool ext = cmd & E1000_TXD_CMD_DEXT;
	size_t blen, cap;

	if (ext && !(lower & E1000_TXD_DTYP_DATA)) {
		tx_context(d, desc);
		return cmd & E1000_TXD_CMD_RS;
	}
	blen = ext ? (lower & 0xfffff) : (lower & 0xffff);
	if (!d->tx_in_packet) {
		d->tx_in_packet = true;
		d->tx_emitted = 0;
		d->tx_tse = ext && (lower & E1000_TXD_DCMD_TSE);
		d->tx_popts = ext ? (uint8_t)(upper >> 8) : 0;
		d->tx_legacy_ic = !ext && (cmd & E1000_TXD_CMD_IC);
		d->tx_cso = (uint8_t)(lower >> 16);
		d->tx_css = (uint8_t)(upper >> 8);
	}
	cap = d->tx_tse ? E1000_TX_BUF - NIC_VLAN_HLEN : E1000_MAX_FRAME;
	if (blen && !d->tx_overflow) {
		if (blen > cap - d->tx_len) {
			d->tx_overflow = true;
		} else if (guest_mem_read(d->mem, addr, d->buf.tx + d->tx_len,
					  blen)) {
			d->stats.dma_errors++;
			e1000_log_once(d, E1000_LOG_TX_DMA,
				       "transmit buffer outside guest RAM");
			d->tx_overflow = true;
		} else {
			d->tx_len += blen;
		}
	}
	if (cmd & E1000_TXD_CMD_EOP) {
		tx_finish(d, ext, cmd & E1000_TXD_CMD_VLE,
			  (uint16_t)(upper >> 16));
		d->tx_len = 0;
		d->tx_in_packet = d->tx_overflow = d->tx_tse = false;
	}
	return cmd & E1000_TXD_CMD_RS;
}

void e1000_tx_run(struct e1000 *d)
{
	uint32_t n, head, tail, i, causes = 0;
	uint8_t desc[E1000_DESC_SIZE];
	uint64_t base, gpa;

	if (!(e1000_reg(d, E1000_TCTL) & E1000_TCTL_EN))
		return;
	if (!ring_get(d, E1000_TDBAL, &base, &n, &head, &tail)) {
		if (head != tail) {
			d->stats.ring_errors++;
			e1000_log_once(d, E1000_LOG_TX_RING,
				       "TX ring length 0 or TDH/TDT beyond it: queue stopped");
		}
		return;
	}
	if (head == tail || !bus_master(d))
		return;
	/*
	 * At most one lap: head moves by one per step and stops at tail; a
	 * full backend stops the pass at a packet boundary.
	 */
	d->tx_blocked = false;
	for (i = 0; head != tail && i < n; i++) {
		if (d->tx_blocked && !d->tx_in_packet)
			break;
		if (!d->tx_in_packet)
			d->tx_pkt_head = head;
		gpa = base + (uint64_t)head * E1000_DESC_SIZE;
		if (guest_mem_read(d->mem, gpa, desc, sizeof(desc))) {
			d->stats.dma_errors++;
			d->stats.ring_errors++;
			e1000_log_once(d, E1000_LOG_TX_RING,
				       "TX descriptor outside guest RAM: queue stopped");
			break;
		}
		d->tx_rewind = false;
		if (tx_desc(d, desc) && !d->tx_rewind) {
			uint8_t sta = desc[12] | E1000_TXD_STA_DD;

			if (guest_mem_write(d->mem, gpa + 12, &sta, 1))
				d->stats.dma_errors++;
			causes |= E1000_ICR_TXDW;
		}
		if (d->tx_rewind) {
			head = d->tx_pkt_head;
			break;
		}
		head = head + 1 == n ? 0 : head + 1;
	}
	d->regs[E1000_TDH / 4] = head;
	if (head == tail)
		causes |= E1000_ICR_TXQE;
	e1000_set_ics(d, causes);
}

/* Receive address filters: exact (RAL/RAH), multicast hash (MTA), modes. */
static bool rx_accept(struct e1000 *d, const uint8_t *dst)
{
	uint32_t rctl = e1000_reg(d, E1000_RCTL), ral, rah, h;
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const unsigned int lo_shift[4] = { 4, 3, 2, 0 };
	unsigned int i, mo;

	if (!memcmp(dst, bcast, 6))
		return rctl & (E1000_RCTL_BAM | E1000_RCTL_MPE);
	if (dst[0] & 1) {
		if (rctl & E1000_RCTL_MPE)
			return true;
		mo = (rctl >> E1000_RCTL_MO_SHIFT) & 3;
		h = ((uint32_t)dst[4] >> lo_shift[mo] |
		     (uint32_t)dst[5] << (8 - lo_shift[mo])) & 0xfff;
		return (e1000_reg(d, E1000_MTA + (h >> 5) * 4) >> (h & 31)) & 1;
	}
	if (rctl & E1000_RCTL_UPE)
		return true;
	for (i = 0; i < 16; i++) {
		ral = e1000_reg(d, E1000_RA + i * 8);
		rah = e1000_reg(d, E1000_RA + i * 8 + 4);
		if (!(rah & E1000_RAH_AV))
			continue;
		if (dst[0] == (uint8_t)ral && dst[1] == (uint8_t)(ral >> 8) &&
		    dst[2] == (uint8_t)(ral >> 16) &&
		    dst[3] == (uint8_t)(ral >> 24) && dst[4] == (uint8_t)rah &&
		    dst[5] == (uint8_t)(rah >> 8))
			return true;
	}
	return false;
}

static size_t rx_buf_size(uint32_t rctl)
{
	static const size_t plain[4] = { 2048, 1024, 512, 256 };
	static const size_t ext[4] = { 2048, 16384, 8192, 4096 };
	unsigned int b = (rctl >> E1000_RCTL_BSIZE_SHIFT) & 3;

	return (rctl & E1000_RCTL_BSEX) ? ext[b] : plain[b];
}

/*
 * The bytes the guest gets, as up to three pieces (tag removed: MACs, then
 * the rest; then the FCS, zeros), copied @len at a time from @pos.
 */
struct rx_stream {
	const uint8_t *p[2];
	size_t len[2];
	size_t fcs;
};

static int rx_copy(struct e1000 *d, const struct rx_stream *s, size_t pos,
		   uint64_t gpa, size_t len)
{
	static const uint8_t zeros[4];
	unsigned int i;
	size_t n;

	for (i = 0; i < 2 && len; i++) {
		if (pos >= s->len[i]) {
			pos -= s->len[i];
			continue;
		}
		n = s->len[i] - pos < len ? s->len[i] - pos : len;
		if (guest_mem_write(d->mem, gpa, s->p[i] + pos, n))
			return -EFAULT;
		gpa += n;
		len -= n;
		pos = 0;
	}
	if (len && guest_mem_write(d->mem, gpa, zeros, len))
		return -EFAULT;
	return 0;
}

/* Status and error bytes of the last descriptor from RX checksum checks. */
static void rx_csum_status(struct e1000 *d, const uint8_t *frame, size_t len,
			   bool valid, uint8_t *sta, uint8_t *err)
{
	uint32_t rxcsum = e1000_reg(d, E1000_RXCSUM);
	unsigned int r;

	if (!(rxcsum & (E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD))) {
		*sta |= E1000_RXD_STA_IXSM;
		return;
	}
	r = nic_rx_csum_check(frame, len, (uint16_t)e1000_reg(d, E1000_VET));
	/* Checked by the sender's side already (virtio DATA_VALID). */
	if (valid && (r & NIC_RX_L4_CHECKED))
		r &= ~(unsigned int)NIC_RX_L4_BAD;
	if ((rxcsum & E1000_RXCSUM_IPOFLD) && (r & NIC_RX_IP_CHECKED)) {
		*sta |= E1000_RXD_STA_IPCS;
		if (r & NIC_RX_IP_BAD)
			*err |= E1000_RXD_ERR_IPE;
	}
	if ((rxcsum & E1000_RXCSUM_TUOFLD) && (r & NIC_RX_L4_CHECKED)) {
		*sta |= E1000_RXD_STA_TCPCS;
		if (r & NIC_RX_L4_BAD)
			*err |= E1000_RXD_ERR_TCPE;
	}
}

static void rx_stats(struct e1000 *d, const uint8_t *dst, size_t bytes)
{
	d->stats.rx_frames++;
	d->stats.rx_bytes += bytes;
	e1000_stat_add(d, E1000_GPRC, 1);
	e1000_stat_add(d, E1000_TPR, 1);
	e1000_stat_add(d, E1000_GORCL, bytes);
	e1000_stat_add(d, E1000_TORL, bytes);
	if (dst[0] & 1)
		e1000_stat_add(d, memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6) ?
			       E1000_MPRC : E1000_BPRC, 1);
}

int e1000_rx_frame(struct e1000 *d, const uint8_t *frame, size_t len,
		   bool csum_valid)
{
	uint32_t rctl = e1000_reg(d, E1000_RCTL), n, head, tail, avail, need;
	uint16_t tpid = (uint16_t)e1000_reg(d, E1000_VET), tci = 0;
	uint8_t desc[E1000_DESC_SIZE], sta = 0, err = 0;
	struct rx_stream s = { { frame, NULL }, { len, 0 }, 0 };
	size_t bufsz, total, pos, chunk, limit;
	bool tagged, strip, last;
	uint64_t base, gpa;
	uint32_t k, thresh;

	if (!(rctl & E1000_RCTL_EN) || !d->link_up || len < NIC_ETH_HLEN)
		goto drop;
	if (!rx_accept(d, frame))
		return 0;
	tagged = len >= NIC_ETH_HLEN + NIC_VLAN_HLEN &&
		 nic_get_be16(frame + 12) == tpid;
	if (tagged && (rctl & E1000_RCTL_VFE)) {
		unsigned int vid = nic_get_be16(frame + 14) & 0xfff;

		if (!((e1000_reg(d, E1000_VFTA + (vid >> 5) * 4) >> (vid & 31)) &
		      1))
			return 0;
	}
	limit = (rctl & E1000_RCTL_LPE) ? E1000_MAX_FRAME : 1522;
	if (len > limit) {
		e1000_stat_add(d, E1000_ROC, 1);
		goto drop;
	}
	strip = tagged && (e1000_reg(d, E1000_CTRL) & E1000_CTRL_VME);
	if (strip) {
		tci = nic_get_be16(frame + 14);
		s.len[0] = 12;
		s.p[1] = frame + 16;
		s.len[1] = len - 16;
		sta |= E1000_RXD_STA_VP;
	}
	s.fcs = (rctl & E1000_RCTL_SECRC) ? 0 : 4;
	total = s.len[0] + s.len[1] + s.fcs;

	if (!ring_get(d, E1000_RDBAL, &base, &n, &head, &tail)) {
		d->stats.ring_errors++;
		e1000_log_once(d, E1000_LOG_RX_RING,
			       "RX ring length 0 or RDH/RDT beyond it: frames dropped");
		goto drop;
	}
	if (!bus_master(d))
		goto drop;
	bufsz = rx_buf_size(rctl);
	avail = tail >= head ? tail - head : n - head + tail;
	need = (uint32_t)((total + bufsz - 1) / bufsz);
	if (need > avail) {
		d->stats.rx_no_buffer++;
		e1000_stat_add(d, E1000_RNBC, 1);
		return -EAGAIN;
	}
	rx_csum_status(d, frame, len, csum_valid, &sta, &err);
	/* need <= avail < n: bounded by the ring. */
	for (k = 0, pos = 0; k < need; k++) {
		uint8_t wb[8];

		gpa = base + (uint64_t)head * E1000_DESC_SIZE;
		if (guest_mem_read(d->mem, gpa, desc, sizeof(desc))) {
			d->stats.dma_errors++;
			d->stats.ring_errors++;
			e1000_log_once(d, E1000_LOG_RX_RING,
				       "RX descriptor outside guest RAM");
			d->regs[E1000_RDH / 4] = head;
			goto drop;
		}
		last = k + 1 == need;
		chunk = total - pos < bufsz ? total - pos : bufsz;
		memset(wb, 0, sizeof(wb));
		wb[0] = (uint8_t)chunk;
		wb[1] = (uint8_t)(chunk >> 8);
		wb[4] = E1000_RXD_STA_DD | (last ? E1000_RXD_STA_EOP | sta : 0);
		wb[5] = last ? err : 0;
		if (rx_copy(d, &s, pos, le64(desc), chunk)) {
			d->stats.dma_errors++;
			e1000_log_once(d, E1000_LOG_RX_DMA,
				       "receive buffer outside guest RAM");
			wb[5] |= E1000_RXD_ERR_RXE;
		}
		if (last && strip) {
			wb[6] = (uint8_t)tci;
			wb[7] = (uint8_t)(tci >> 8);
		}
		if (guest_mem_write(d->mem, gpa + 8, wb, sizeof(wb)))
			d->stats.dma_errors++;
		pos += chunk;
		head = head + 1 == n ? 0 : head + 1;
	}
	d->regs[E1000_RDH / 4] = head;
	rx_stats(d, frame, total);
	thresh = n >> (1 + ((rctl >> E1000_RCTL_RDMTS_SHIFT) & 3));
	e1000_set_ics(d, E1000_ICR_RXT0 |
			 (avail - need <= thresh ? E1000_ICR_RXDMT0 : 0));
	return 0;

drop:
	d->stats.rx_dropped++;
	return 0;
}
