// SPDX-License-Identifier: MIT
/* rtl8139_dma.c - RTL8139 transmit slots and receive ring (8139too), C+ descriptor rings (8139cp). */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/nic_offload.h"
#include "vmm/hw/rtl8139.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint16_t swab16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/* Out to the host; false when it had no room (the pass stops). */
static void tx_emit(void *arg, uint8_t *f, size_t len)
{
	struct rtl8139 *d = arg;

	if (d->tx_blocked || (d->host.tx && d->host.tx(d->host.opaque, f, len))) {
		d->tx_blocked = true;
		if (!d->tx_emitted)
			d->tx_rewind = true;	/* nothing out yet: retry */
		else
			d->stats.tx_dropped++;
		return;
	}
	d->tx_emitted++;
	d->stats.tx_frames++;
	d->stats.tx_bytes += len;
}

/*
 * 8139too: the frame of TSD slot @slot, if the driver handed it over (OWN
 * clear). Return: 1 the slot is done (sent or aborted), 0 nothing to send,
 * -EAGAIN the host had no room (the slot stays pending).
 */
static int tx_slot(struct rtl8139 *d, unsigned int slot)
{
	unsigned int reg = RTL_TSD0 + 4 * slot;
	uint32_t tsd = rtl_get(d, reg, 4);
	size_t len = tsd & RTL_TSD_SIZE;
	uint64_t addr = rtl_get(d, RTL_TSAD0 + 4 * slot, 4);

	if ((tsd & RTL_TSD_OWN) || !(rtl_get(d, RTL_CR, 1) & RTL_CR_TE))
		return 0;
	if (d->cplus && (rtl_get(d, RTL_CPCMD, 2) & RTL_CPCMD_TXEN))
		return 0;	/* C+ transmit owns these registers */
	if (!rtl_bus_master(d))
		return 0;
	if (len < NIC_ETH_HLEN || len > RTL_TX_MAX) {
		rtl_log_once(d, RTL_LOG_TX_LONG,
			     "transmit slot with a size below 14 or above 1792: aborted");
		d->stats.tx_dropped++;
		rtl_set(d, reg, tsd | RTL_TSD_OWN | RTL_TSD_TABT, 4);
		rtl_isr_set(d, RTL_ISR_TER);
		return 1;
	}
	if (guest_mem_read(d->mem, addr, d->buf.seg, len)) {
		d->stats.dma_errors++;
		d->stats.tx_dropped++;
		rtl_log_once(d, RTL_LOG_TX_DMA, "transmit buffer outside guest RAM");
		rtl_set(d, reg, tsd | RTL_TSD_OWN | RTL_TSD_TABT, 4);
		rtl_isr_set(d, RTL_ISR_TER);
		return 1;
	}
	d->tx_blocked = d->tx_rewind = false;
	d->tx_emitted = 0;
	tx_emit(d, d->buf.seg, len);
	if (d->tx_rewind)
		return -EAGAIN;
	rtl_set(d, reg, tsd | RTL_TSD_OWN | RTL_TSD_TOK, 4);
	rtl_isr_set(d, RTL_ISR_TOK);
	return 1;
}

/*
 * The four slots in the chip's order, from the one after the last it
 * sent: frames leave in the order the driver queued them.
 */
void rtl_tx_slots(struct rtl8139 *d)
{
	unsigned int n;
	int r;

	for (n = 0; n < 4; n++) {
		r = tx_slot(d, d->tx_next);
		if (r == -EAGAIN) {
			/* Host full: retried at the next tx_poll. */
			d->tx_doorbells |= 1;
			return;
		}
		if (r == 0)
			return;
		d->tx_next = (d->tx_next + 1) % 4;
	}
}

/* C+ large send: segment by the frame's own IPv4/TCP headers. */
static void cp_large_send(struct rtl8139 *d, unsigned int mss)
{
	struct nic_l3l4 h;
	struct nic_tso t;
	int n = -EINVAL;

	if (!nic_parse_l3l4(d->buf.tx, d->tx_len, 0x8100, &h) && h.ipv4 &&
	    h.proto == 6 && !h.fragment) {
		t = (struct nic_tso){
			.hdr_len = h.hdr_len,
			.mss = mss,
			.ip_off = h.ip_off,
			.l4_off = h.l4_off,
			.ipv4 = true,
			.tcp = true,
			.ip_csum = true,
			.l4_csum = true,
			.l4_csum_full = true,
			.ip_csum_end = h.l4_off,
			.ip_csum_field = h.ip_off + 10,
			.l4_csum_field = h.l4_off + 16,
		};
		n = nic_tso_segment(&t, d->buf.tx, d->tx_len, d->buf.seg,
				    RTL_MAX_FRAME, tx_emit, d);
		if (d->tx_rewind)
			return;
	}
	if (n < 0) {
		d->stats.tso_bad++;
		d->stats.tx_dropped++;
		rtl_log_once(d, RTL_LOG_LARGE_SEND,
			     "large send of a frame that is not IPv4/TCP with sane headers and MSS: dropped");
		d->tx_bad = true;
		return;
	}
	d->stats.tso_frames++;
	d->stats.tso_segments += (unsigned int)n;
}

/* C+: the packet of descriptors FS..LS is complete. */
static void cp_tx_finish(struct rtl8139 *d)
{
	uint32_t o1 = d->tx_opts1, o2 = d->tx_opts2;
	struct nic_l3l4 h;

	if (d->tx_bad || d->tx_len < NIC_ETH_HLEN) {
		d->stats.tx_dropped++;
		d->tx_bad = true;
		return;
	}
	if (o2 & RTL_CPT_TAGC) {
		memmove(d->buf.tx + 16, d->buf.tx + 12, d->tx_len - 12);
		nic_put_be16(d->buf.tx + 12, 0x8100);
		nic_put_be16(d->buf.tx + 14, swab16((uint16_t)o2));
		d->tx_len += NIC_VLAN_HLEN;
	}
	if (o1 & RTL_CPT_LGSEN) {
		cp_large_send(d, (o1 >> RTL_CPT_MSS_SHIFT) & RTL_CPT_MSS_MASK);
		return;
	}
	if (d->tx_len > RTL_MAX_FRAME) {
		rtl_log_once(d, RTL_LOG_TX_LONG, "C+ transmit frame above 16 KiB: dropped");
		d->stats.tx_dropped++;
		d->tx_bad = true;
		return;
	}
	if ((o1 & (RTL_CPT_IPCS | RTL_CPT_TCPCS | RTL_CPT_UDPCS)) &&
	    !nic_parse_l3l4(d->buf.tx, d->tx_len, 0x8100, &h)) {
		if ((o1 & RTL_CPT_IPCS) && h.ipv4)
			nic_csum_ip4_header(d->buf.tx, &h);
		if (((o1 & RTL_CPT_TCPCS) && h.proto == 6) ||
		    ((o1 & RTL_CPT_UDPCS) && h.proto == 17))
			nic_csum_l4_full(d->buf.tx, &h);
	}
	tx_emit(d, d->buf.tx, d->tx_len);
}

/* Hand the current packet's descriptors back; the last gets @error. */
static void cp_frags_release(struct rtl8139 *d, bool error)
{
	uint8_t b[4];
	unsigned int i;

	for (i = 0; i < d->tx_nfrag; i++) {
		uint32_t o1 = d->tx_frag_opts1[i];

		if (error && i + 1 == d->tx_nfrag)
			o1 |= RTL_CPT_TXERR;
		put_le32(b, o1);
		if (guest_mem_write(d->mem, d->tx_frag_gpa[i], b, 4))
			d->stats.dma_errors++;
	}
	d->tx_nfrag = 0;
}

/*
 * C+ transmit: walk the normal (or high) priority ring from where the last
 * pass stopped while descriptors are the chip's (OWN), at most one ring of
 * RTL_CP_RING_MAX, whatever EOR says.
 */
void rtl_cp_tx(struct rtl8139 *d, bool high)
{
	unsigned int *idx = high ? &d->cp_txhp_idx : &d->cp_tx_idx;
	unsigned int reg = high ? RTL_TSAD0 + 8 : RTL_TSAD0, n;
	uint64_t base = ((uint64_t)rtl_get(d, reg + 4, 4) << 32 |
			 rtl_get(d, reg, 4)) & ~0xffull;
	uint8_t desc[RTL_CP_DESC_SIZE];
	bool sent = false, empty = false;
	uint32_t o1, o2, blen;
	uint64_t gpa, addr;

	if (!(rtl_get(d, RTL_CPCMD, 2) & RTL_CPCMD_TXEN) ||
	    !(rtl_get(d, RTL_CR, 1) & RTL_CR_TE) || !rtl_bus_master(d))
		return;
	d->tx_blocked = false;
	if (d->tx_in_packet && d->tx_pkt_high != high) {
		/* One packet at a time: the other ring's half packet is lost. */
		cp_frags_release(d, true);
		d->tx_in_packet = false;
	}
	for (n = 0; n < RTL_CP_RING_MAX; n++) {
		if (d->tx_blocked && !d->tx_in_packet)
			break;
		gpa = base + (uint64_t)*idx * RTL_CP_DESC_SIZE;
		if (guest_mem_read(d->mem, gpa, desc, sizeof(desc))) {
			d->stats.ring_errors++;
			d->stats.dma_errors++;
			rtl_log_once(d, RTL_LOG_CP_RING,
				     "C+ descriptor outside guest RAM: ring stopped");
			break;
		}
		o1 = le32(desc);
		o2 = le32(desc + 4);
		if (!(o1 & RTL_CPD_OWN)) {
			empty = true;
			break;
		}
		addr = (uint64_t)le32(desc + 12) << 32 | le32(desc + 8);
		if ((o1 & RTL_CPD_FS) || !d->tx_in_packet) {
			if (d->tx_in_packet)
				cp_frags_release(d, false); /* no LS came */
			d->tx_pkt_idx = *idx;
			d->tx_pkt_high = high;
			d->tx_len = 0;
			/* A fragment without its first: the packet is bad. */
			d->tx_bad = !(o1 & RTL_CPD_FS);
			d->tx_in_packet = true;
			d->tx_opts1 = o1;
			d->tx_opts2 = o2;
		}
		blen = o1 & RTL_CPT_LEN;
		if (!d->tx_bad && blen) {
			if (blen > RTL_CP_TX_BUF - NIC_VLAN_HLEN - d->tx_len) {
				d->tx_bad = true;
			} else if (guest_mem_read(d->mem, addr,
						  d->buf.tx + d->tx_len, blen)) {
				d->stats.dma_errors++;
				rtl_log_once(d, RTL_LOG_TX_DMA,
					     "transmit buffer outside guest RAM");
				d->tx_bad = true;
			} else {
				d->tx_len += blen;
			}
		}
		d->tx_frag_gpa[d->tx_nfrag] = gpa;
		d->tx_frag_opts1[d->tx_nfrag++] = o1 & ~(RTL_CPD_OWN |
							  RTL_CPT_TXERR);
		*idx = (o1 & RTL_CPD_EOR) || *idx + 1 >= RTL_CP_RING_MAX ?
			       0 : *idx + 1;
		if (!(o1 & RTL_CPD_LS) && d->tx_nfrag == RTL_CP_RING_MAX) {
			/* A whole ring without LS can never end: dropped. */
			cp_frags_release(d, true);
			d->tx_in_packet = false;
			d->stats.tx_dropped++;
			continue;
		}
		if (!(o1 & RTL_CPD_LS))
			continue;
		d->tx_rewind = false;
		d->tx_emitted = 0;
		cp_tx_finish(d);
		d->tx_in_packet = false;
		if (d->tx_rewind) {
			/* No room for any of it: the same packet next time. */
			*idx = d->tx_pkt_idx;
			d->tx_nfrag = 0;
			d->tx_doorbells |= high ? 0x20 : 0x10;
			break;
		}
		cp_frags_release(d, d->tx_bad);
		sent = true;
	}
	rtl_isr_set(d, (uint16_t)((sent ? RTL_ISR_TOK : 0) |
				  (empty ? RTL_ISR_TDU : 0)));
}

/* Receive filters of RCR: all, own address, multicast hash, broadcast. */
static uint16_t rx_accept(struct rtl8139 *d, const uint8_t *dst)
{
	uint32_t rcr = rtl_get(d, RTL_RCR, 4), crc = 0xffffffffu;
	unsigned int i, b, bit;

	if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6))
		return (rcr & (RTL_RCR_AB | RTL_RCR_AAP)) ? RTL_RX_BAR : 0;
	if (dst[0] & 1) {
		if (rcr & RTL_RCR_AAP)
			return RTL_RX_MAR;
		if (!(rcr & RTL_RCR_AM))
			return 0;
		/* Hash: top 6 bits of the Ethernet CRC of the address. */
		for (i = 0; i < 6; i++)
			for (b = 0; b < 8; b++) {
				bit = ((dst[i] >> b) & 1) ^ (crc >> 31);
				crc <<= 1;
				if (bit)
					crc ^= 0x04c11db7u;
			}
		bit = crc >> 26;
		return (d->regs[RTL_MAR0 + bit / 8] >> (bit % 8)) & 1 ?
			       RTL_RX_MAR : 0;
	}
	if (!memcmp(dst, d->regs + RTL_IDR0, 6))
		return (rcr & (RTL_RCR_APM | RTL_RCR_AAP)) ? RTL_RX_PAM : 0;
	return (rcr & RTL_RCR_AAP) ? RTL_RX_PAM : 0;
}

/*
 * 8139too: append [status, length, frame, CRC] at CBR in the ring. The
 * ring is 8 KiB << RBLEN at RBSTART; CAPR + 16 is where the driver reads.
 * A record never overtakes the reader: without room the frame waits.
 */
static int rx_ring(struct rtl8139 *d, const uint8_t *frame, size_t len,
		   uint16_t match)
{
	uint32_t size = 8192u << ((rtl_get(d, RTL_RCR, 4) >>
				   RTL_RCR_RBLEN_SHIFT) & 3);
	uint64_t start = rtl_get(d, RTL_RBSTART, 4);
	uint32_t wp = rtl_get(d, RTL_CBR, 2) % size;
	uint32_t rp = (rtl_get(d, RTL_CAPR, 2) + 16u) % size;
	uint32_t used = (wp + size - rp) % size, need, first;
	bool wrap = rtl_get(d, RTL_RCR, 4) & RTL_RCR_WRAP;
	size_t rec = len + 4;	/* frame + CRC */
	uint8_t hdr[4], crc[4] = { 0 };

	/* No ring yet (8139too enables RX before it sets RBSTART). */
	if (!start) {
		d->stats.rx_dropped++;
		return 0;
	}
	wp &= ~3u;
	need = (uint32_t)((4 + rec + 3) & ~(size_t)3);
	if (need >= size - used) {
		/*
		 * The frame waits; the chip's "Rx buffer overflow" tells the
		 * driver to read (8139too looks at the ring only when ISR has
		 * an RX bit, so without it a full ring would stay full).
		 */
		d->stats.rx_no_buffer++;
		rtl_isr_set(d, RTL_ISR_RXOVW);
		return -EAGAIN;
	}
	put_le32(hdr, RTL_RX_ROK | match | (uint32_t)rec << 16);
	if (guest_mem_write(d->mem, start + wp, hdr, 4))
		goto dma;
	first = size - wp - 4;	/* bytes before the ring's end */
	if (wrap || rec <= first) {
		/* WRAP: records run on past the end, into the driver's slack. */
		if (guest_mem_write(d->mem, start + wp + 4, frame, len) ||
		    guest_mem_write(d->mem, start + wp + 4 + len, crc, 4))
			goto dma;
	} else {
		uint8_t tmp[RTL_RX_MAX + 4];

		memcpy(tmp, frame, len);
		memcpy(tmp + len, crc, 4);
		if (guest_mem_write(d->mem, start + wp + 4, tmp, first) ||
		    guest_mem_write(d->mem, start, tmp + first, rec - first))
			goto dma;
	}
	rtl_set(d, RTL_CBR, (wp + need) % size, 2);
	d->stats.rx_frames++;
	d->stats.rx_bytes += len;
	rtl_isr_set(d, RTL_ISR_ROK);
	return 0;

dma:
	d->stats.dma_errors++;
	d->stats.rx_dropped++;
	rtl_log_once(d, RTL_LOG_RX_DMA, "receive ring outside guest RAM");
	return 0;
}

/* C+: one frame into as many RX descriptors as it needs (at most a ring). */
static int rx_cplus(struct rtl8139 *d, const uint8_t *frame, size_t len,
		    uint16_t match, bool csum_valid)
{
	uint64_t base = ((uint64_t)rtl_get(d, RTL_RDSAR + 4, 4) << 32 |
			 rtl_get(d, RTL_RDSAR, 4)) & ~0xffull;
	uint16_t cpcmd = rtl_get(d, RTL_CPCMD, 2);
	uint8_t desc[RTL_CP_DESC_SIZE], crc[4] = { 0 };
	const uint8_t *p[2] = { frame, NULL };
	size_t plen[3] = { len, 0, 4 }, total, room = 0, pos, chunk;
	uint32_t status = 0, o2 = 0, o1, ndesc = 0, k, idx;
	unsigned int r, i;
	uint64_t gpa, buf;

	if ((cpcmd & RTL_CPCMD_RXVLAN) && len >= 18 &&
	    nic_get_be16(frame + 12) == 0x8100) {
		o2 = RTL_CPR_TAVA | swab16(nic_get_be16(frame + 14));
		plen[0] = 12;
		p[1] = frame + 16;
		plen[1] = len - 16;
	}
	total = plen[0] + plen[1] + 4;
	/* Is there room? Count the chip's descriptors from cp_rx_idx. */
	for (idx = d->cp_rx_idx; ndesc < RTL_CP_RING_MAX && room < total;) {
		if (guest_mem_read(d->mem, base + (uint64_t)idx * 16, desc, 16)) {
			d->stats.ring_errors++;
			d->stats.rx_dropped++;
			rtl_log_once(d, RTL_LOG_CP_RING,
				     "C+ RX descriptor outside guest RAM");
			return 0;
		}
		o1 = le32(desc);
		if (!(o1 & RTL_CPD_OWN)) {
			d->stats.rx_no_buffer++;
			rtl_isr_set(d, RTL_ISR_RXOVW);
			return -EAGAIN;
		}
		room += o1 & RTL_CPR_LEN;
		ndesc++;
		idx = (o1 & RTL_CPD_EOR) || idx + 1 >= RTL_CP_RING_MAX ? 0 :
									 idx + 1;
	}
	if (room < total) {
		/* A whole ring of buffers too small for it. */
		d->stats.rx_dropped++;
		return 0;
	}
	if (cpcmd & RTL_CPCMD_RXCSUM) {
		r = nic_rx_csum_check(frame, len, 0x8100);
		if (csum_valid)
			r &= ~(unsigned int)NIC_RX_L4_BAD;
		if (r & NIC_RX_TCP)
			status |= RTL_CPR_PID_TCP << RTL_CPR_PID_SHIFT |
				  (r & NIC_RX_L4_BAD ? RTL_CPR_TCPF : 0);
		else if (r & NIC_RX_UDP)
			status |= RTL_CPR_PID_UDP << RTL_CPR_PID_SHIFT |
				  (r & NIC_RX_L4_BAD ? RTL_CPR_UDPF : 0);
		else if (r & NIC_RX_IP_CHECKED)
			status |= RTL_CPR_PID_IP << RTL_CPR_PID_SHIFT;
		if (r & NIC_RX_IP_BAD)
			status |= RTL_CPR_IPF;
	}
	status |= match == RTL_RX_BAR ? RTL_CPR_BAR :
		  match == RTL_RX_MAR ? RTL_CPR_MAR : RTL_CPR_PAM;
	for (k = 0, pos = 0; k < ndesc; k++) {
		size_t buflen, done = 0, off;

		gpa = base + (uint64_t)d->cp_rx_idx * 16;
		if (guest_mem_read(d->mem, gpa, desc, 16))
			return 0;
		o1 = le32(desc);
		buf = (uint64_t)le32(desc + 12) << 32 | le32(desc + 8);
		buflen = o1 & RTL_CPR_LEN;
		chunk = total - pos < buflen ? total - pos : buflen;
		/* Copy [pos, pos + chunk) of (head, rest, CRC). */
		for (i = 0, off = pos; i < 3 && done < chunk; i++) {
			const uint8_t *src = i == 2 ? crc : p[i];
			size_t n;

			if (off >= plen[i]) {
				off -= plen[i];
				continue;
			}
			n = plen[i] - off < chunk - done ? plen[i] - off :
							  chunk - done;
			if (guest_mem_write(d->mem, buf + done, src + off, n)) {
				d->stats.dma_errors++;
				status |= RTL_CPR_RES;
				break;
			}
			done += n;
			off = 0;
		}
		o1 = (o1 & RTL_CPD_EOR) | (k == 0 ? RTL_CPD_FS : 0);
		if (k + 1 == ndesc)
			o1 |= RTL_CPD_LS | status | (uint32_t)(total & RTL_CPR_LEN);
		else
			o1 |= (uint32_t)chunk;
		put_le32(desc, o1);
		put_le32(desc + 4, k + 1 == ndesc ? o2 : 0);
		if (guest_mem_write(d->mem, gpa, desc, 8))
			d->stats.dma_errors++;
		pos += chunk;
		d->cp_rx_idx = (o1 & RTL_CPD_EOR) ||
				       d->cp_rx_idx + 1 >= RTL_CP_RING_MAX ?
			       0 : d->cp_rx_idx + 1;
	}
	d->stats.rx_frames++;
	d->stats.rx_bytes += len;
	rtl_isr_set(d, RTL_ISR_ROK);
	return 0;
}

int rtl_rx_frame(struct rtl8139 *d, const uint8_t *frame, size_t len,
		 bool csum_valid)
{
	bool cplus_rx = d->cplus &&
			(rtl_get(d, RTL_CPCMD, 2) & RTL_CPCMD_RXEN);
	uint16_t match;

	if (!(rtl_get(d, RTL_CR, 1) & RTL_CR_RE) || !d->link_up ||
	    len < NIC_ETH_HLEN)
		goto drop;
	match = rx_accept(d, frame);
	if (!match)
		return 0;
	if (len > (cplus_rx ? RTL_MAX_FRAME : RTL_RX_MAX))
		goto drop;
	if (!rtl_bus_master(d))
		goto drop;
	if (cplus_rx)
		return rx_cplus(d, frame, len, match, csum_valid);
	return rx_ring(d, frame, len, match);

drop:
	d->stats.rx_dropped++;
	return 0;
}
