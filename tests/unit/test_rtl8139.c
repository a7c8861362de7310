/* SPDX-License-Identifier: MIT */
/* test_rtl8139.c - the RTL8139C model driven as 8139too does, the RTL8139C+ as 8139cp does, and both as a hostile guest would. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/nic_harness.h"
#include "vmm/hw/rtl8139.h"

enum {
	RX_RING = 0x100000,	/* 8 KiB + 16 + 2 KiB slack (8139too's) */
	TX_BUFS = 0x200000,
	CP_TX_RING = 0x300000,
	CP_RX_RING = 0x301000,
	CP_RX_BUFS = 0x310000,
	TALLY = 0x302000,
};

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x81, 0x39, 0x01 };
static const uint8_t peer[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

struct t {
	struct nh *h;
	struct rtl8139 *d;
	bool mmio;		/* 8139cp uses MMIO, 8139too port I/O */
	uint32_t cur_rx;	/* the driver's read offset */
	unsigned int cur_tx;
};

static int setup_dev(void **state, bool cplus)
{
	struct t *t = calloc(1, sizeof(*t));
	struct hw_nic_host host;

	assert_non_null(t);
	t->h = nh_new();
	host = nh_host(t->h);
	t->d = rtl8139_new(&t->h->bus, &t->h->vm.mem, mac, cplus, &host);
	assert_non_null(t->d);
	assert_int_equal(nh_find(t->h, 0x10ec, 0x8139), 0);
	t->mmio = cplus;
	*state = t;
	return 0;
}

static int setup_c(void **state)
{
	return setup_dev(state, false);
}

static int setup_cplus(void **state)
{
	return setup_dev(state, true);
}

static int teardown(void **state)
{
	struct t *t = *state;

	nh_free(t->h);
	free(t);
	return 0;
}

static uint32_t rd(struct t *t, unsigned int off, unsigned int len)
{
	return (uint32_t)(t->mmio ? nh_io_rd(t->h, VM_IO_MMIO, t->h->mmio + off,
					     len) :
				    nh_io_rd(t->h, VM_IO_PIO, t->h->pio + off, len));
}

static void wr(struct t *t, unsigned int off, uint32_t v, unsigned int len)
{
	if (t->mmio)
		nh_io_wr(t->h, VM_IO_MMIO, t->h->mmio + off, v, len);
	else
		nh_io_wr(t->h, VM_IO_PIO, t->h->pio + off, v, len);
}

/* read_eeprom() of 8139too/8139cp: Cfg9346 bit-banging. */
static uint16_t ee_read(struct t *t, unsigned int loc, unsigned int addr_len)
{
	unsigned int cmd = loc | 6u << addr_len;
	uint16_t v = 0;
	int i;

	wr(t, RTL_9346CR, 0x80, 1);
	wr(t, RTL_9346CR, 0x88, 1);
	for (i = 4 + (int)addr_len; i >= 0; i--) {
		uint8_t di = cmd & (1u << i) ? 2 : 0;

		wr(t, RTL_9346CR, 0x88 | di, 1);
		wr(t, RTL_9346CR, 0x88 | di | 4, 1);
	}
	wr(t, RTL_9346CR, 0x88, 1);
	for (i = 16; i > 0; i--) {
		wr(t, RTL_9346CR, 0x88 | 4, 1);
		v = (uint16_t)(v << 1 | (rd(t, RTL_9346CR, 1) & 1));
		wr(t, RTL_9346CR, 0x88, 1);
	}
	wr(t, RTL_9346CR, 0, 1);
	return v;
}

static void test_probe_eeprom(void **state)
{
	struct t *t = *state;
	unsigned int i, addr_len;

	assert_int_equal(nh_cfg_rd(t->h, PCI_CFG_REVISION, 1),
			 t->d->cplus ? 0x20 : 0x10);
	assert_true(t->h->pio && t->h->mmio);
	/* 8139too's probe for a 93C56: reads word 0 with 8 address bits. */
	addr_len = ee_read(t, 0, 8) == 0x8129 ? 8 : 6;
	assert_int_equal(addr_len, 6);
	assert_int_equal(ee_read(t, 0, 6), 0x8129);
	for (i = 0; i < 3; i++)
		assert_int_equal(ee_read(t, 7 + i, 6),
				 mac[2 * i] | mac[2 * i + 1] << 8);
	for (i = 0; i < 6; i++)
		assert_int_equal(rd(t, RTL_IDR0 + i, 1), mac[i]);
	assert_int_equal(rd(t, RTL_TCR, 4) & RTL_HWREV_MASK,
			 t->d->cplus ? RTL_HWREV_CPLUS : RTL_HWREV_C);
	/* Soft reset: RST clears itself, the ring is empty. */
	wr(t, RTL_CR, RTL_CR_RST, 1);
	assert_int_equal(rd(t, RTL_CR, 1) & (RTL_CR_RST | RTL_CR_BUFE),
			 RTL_CR_BUFE);
	assert_int_equal(rd(t, RTL_MSR, 1) & RTL_MSR_LINKB, 0);
	assert_true(rd(t, RTL_BMSR, 2) & RTL_BMSR_LINK);
	/* A register the model lacks reads 0 and is counted. */
	assert_int_equal(rd(t, 0xf0, 4), 0);
	assert_true(t->d->stats.unknown_regs > 0);
	/* Wide access over narrow registers: IDR0-3 at once. */
	wr(t, RTL_IDR0, 0x44332211, 4);
	assert_int_equal(rd(t, RTL_IDR0 + 2, 1), 0x33);
}

/* rtl8139_hw_start(), roughly. */
static void too_start(struct t *t, uint32_t rcr_extra)
{
	wr(t, RTL_CR, RTL_CR_RST, 1);
	wr(t, RTL_9346CR, 0xc0, 1);
	wr(t, RTL_CR, RTL_CR_RE | RTL_CR_TE, 1);
	wr(t, RTL_RCR, RTL_RCR_AB | RTL_RCR_AM | RTL_RCR_APM | rcr_extra, 4);
	wr(t, RTL_TCR, 0x03000700, 4);
	wr(t, RTL_9346CR, 0, 1);
	wr(t, RTL_RBSTART, RX_RING, 4);
	wr(t, RTL_MPC, 0, 4);
	wr(t, RTL_IMR, 0xe07f, 2);
	t->cur_rx = 0;
	t->cur_tx = 0;
}

static void too_xmit(struct t *t, const uint8_t *f, size_t len)
{
	unsigned int e = t->cur_tx++ % 4;

	memcpy(nh_ram(t->h, TX_BUFS + 2048 * e, len), f, len);
	wr(t, RTL_TSAD0 + 4 * e, TX_BUFS + 2048 * e, 4);
	wr(t, RTL_TSD0 + 4 * e, (uint32_t)len | 0x00100000, 4);
}

static void test_too_tx(void **state)
{
	struct t *t = *state;
	uint8_t f[2000];
	size_t len = nh_tcp_frame(f, peer, mac, 1, 0x10, 100, 1);
	unsigned int i;

	too_start(t, 0);
	for (i = 0; i < 6; i++) {
		f[60] = (uint8_t)i;
		too_xmit(t, f, len);
	}
	assert_int_equal(t->h->nout, 6);
	assert_int_equal(t->h->out[5].len, len);
	assert_int_equal(t->h->out[5].data[60], 5);
	for (i = 0; i < 4; i++)
		assert_int_equal(rd(t, RTL_TSD0 + 4 * i, 4) &
				 (RTL_TSD_OWN | RTL_TSD_TOK),
				 RTL_TSD_OWN | RTL_TSD_TOK);
	assert_int_equal(rd(t, RTL_TSAD, 2), 0xf00f);
	assert_int_equal(nh_intx(t->h), 1);
	assert_true(rd(t, RTL_ISR, 2) & RTL_ISR_TOK);
	wr(t, RTL_ISR, RTL_ISR_TOK, 2);
	assert_int_equal(nh_intx(t->h), 0);
	/* A slot out of turn waits: the chip sends in order (next: 2). */
	wr(t, RTL_TSAD0, TX_BUFS, 4);
	wr(t, RTL_TSD0, (uint32_t)len, 4);
	assert_int_equal(t->h->nout, 6);
	assert_false(rd(t, RTL_TSD0, 4) & RTL_TSD_OWN);
	/* Too long for a slot, and a buffer outside RAM: aborted. */
	wr(t, RTL_TSAD0 + 8, TX_BUFS, 4);
	wr(t, RTL_TSD0 + 8, 4000, 4);
	assert_true(rd(t, RTL_TSD0 + 8, 4) & RTL_TSD_TABT);
	wr(t, RTL_TSAD0 + 12, 0xfffffff0, 4);
	wr(t, RTL_TSD0 + 12, 100, 4);
	assert_true(rd(t, RTL_TSD0 + 12, 4) & RTL_TSD_TABT);
	/* ... after which slot 0's frame goes out. */
	assert_int_equal(t->h->nout, 7);
	assert_true(rd(t, RTL_TSD0, 4) & RTL_TSD_TOK);
	t->cur_tx = 5;	/* the driver's next slot: 1 */
	assert_true(rd(t, RTL_ISR, 2) & RTL_ISR_TER);
	/* Transmitter off: the slot waits for TE. */
	wr(t, RTL_CR, RTL_CR_RE, 1);
	too_xmit(t, f, len);
	assert_int_equal(t->h->nout, 7);
	wr(t, RTL_CR, RTL_CR_RE | RTL_CR_TE, 1);
	assert_int_equal(t->h->nout, 8);
}

/* rtl8139_rx(): one record from the ring, CAPR updated. */
static size_t too_rx_one(struct t *t, uint8_t *out)
{
	uint8_t *ring = nh_ram(t->h, RX_RING, 8192 + 16 + 2048);
	uint32_t off = t->cur_rx % 8192, status, size;

	if (rd(t, RTL_CR, 1) & RTL_CR_BUFE)
		return 0;
	status = (uint32_t)nh_get_le(ring + off, 4);
	size = status >> 16;
	assert_true(status & RTL_RX_ROK);
	assert_true(size >= 8 && size <= 1536 + 4);
	memcpy(out, ring + off + 4, size - 4);
	t->cur_rx = (t->cur_rx + size + 4 + 3) & ~3u;
	wr(t, RTL_CAPR, (uint16_t)(t->cur_rx - 16), 2);
	wr(t, RTL_ISR, RTL_ISR_ROK, 2);
	return size - 4;
}

static void test_too_rx(void **state)
{
	struct t *t = *state;
	uint8_t f[2000], g[2000];
	size_t len = nh_tcp_frame(f, mac, peer, 1, 0x10, 1000, 1);
	unsigned int i, n = 0;

	too_start(t, RTL_RCR_WRAP);
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
	assert_false(rd(t, RTL_CR, 1) & RTL_CR_BUFE);
	assert_int_equal(nh_intx(t->h), 1);
	assert_int_equal(nh_get_le(nh_ram(t->h, RX_RING, 4), 4),
			 RTL_RX_ROK | RTL_RX_PAM | (uint32_t)(len + 4) << 16);
	assert_int_equal(rd(t, RTL_CBR, 2), (4 + len + 4 + 3) & ~3u);
	assert_int_equal(too_rx_one(t, g), len);
	assert_memory_equal(g, f, len);
	assert_true(rd(t, RTL_CR, 1) & RTL_CR_BUFE);
	/* Many frames round an 8 KiB ring: the reader keeps up. */
	for (i = 0; i < 40; i++) {
		f[100] = (uint8_t)i;
		assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
		assert_int_equal(too_rx_one(t, g), len);
		assert_int_equal(g[100], (uint8_t)i);
		assert_memory_equal(g, f, len);
	}
	/* The reader stops: the ring fills, then frames wait. */
	for (i = 0; i < 10; i++)
		if (rtl8139_receive(t->d, f, len, NULL) == 0)
			n++;
	assert_int_equal(n, 7);	/* 7 * 1064 bytes fit in 8 KiB */
	/* Rx buffer overflow tells the driver to read. */
	assert_true(rd(t, RTL_ISR, 2) & RTL_ISR_RXOVW);
	t->h->kicks = 0;
	assert_int_equal(too_rx_one(t, g), len);
	assert_true(t->h->kicks > 0);
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
	/* Filters: other unicast dropped, broadcast taken. */
	f[0] ^= 2;
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
	memset(f, 0xff, 6);
	while (too_rx_one(t, g))
		;
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
	assert_int_equal(too_rx_one(t, g), len);
	assert_int_equal(too_rx_one(t, g), 0);
	/* Too long for 8139too. */
	assert_int_equal(rtl8139_receive(t->d, f, 1600, NULL), 0);
	assert_true(rd(t, RTL_CR, 1) & RTL_CR_BUFE);
}

static void test_too_rx_nowrap_and_hostile(void **state)
{
	struct t *t = *state;
	uint8_t f[2000], *ring = nh_ram(t->h, RX_RING, 8192 + 4096);
	size_t len = nh_tcp_frame(f, mac, peer, 1, 0x10, 1000, 1);
	uint32_t cbr;
	unsigned int i;

	too_start(t, 0);	/* WRAP clear: records wrap at the end */
	for (i = 0; i < 7; i++) {
		assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
		t->cur_rx = (t->cur_rx + (uint32_t)len + 8 + 3) & ~3u;
		wr(t, RTL_CAPR, (uint16_t)(t->cur_rx - 16), 2);
	}
	cbr = rd(t, RTL_CBR, 2);
	assert_true(cbr < 8192);
	memset(ring + 8192, 0xee, 4096);
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
	/* The record was split: its tail is at the ring's start. */
	assert_int_equal(ring[8192], 0xee);
	assert_int_equal(rd(t, RTL_CBR, 2), (cbr + len + 8 + 3) % 8192 & ~3u);
	assert_memory_equal(ring + cbr + 4, f, 8192 - cbr - 4);
	assert_memory_equal(ring, f + (8192 - cbr - 4),
			    len - (8192 - cbr - 4));

	/* Nonsense CAPR values: taken modulo the ring, nothing outside. */
	wr(t, RTL_CAPR, 0xffff, 2);
	(void)rtl8139_receive(t->d, f, len, NULL);
	wr(t, RTL_CAPR, 0x1235, 2);
	(void)rtl8139_receive(t->d, f, len, NULL);
	assert_true(rd(t, RTL_CBR, 2) < 8192);
	assert_int_equal(ring[8192 + 2048], 0xee);
	/* A ring beyond RAM: dropped. */
	wr(t, RTL_RBSTART, NH_RAM - 100, 4);
	wr(t, RTL_CR, 0, 1);
	wr(t, RTL_CR, RTL_CR_RE | RTL_CR_TE, 1);
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
	assert_int_equal(rd(t, RTL_CBR, 2), 0);
	assert_true(t->d->stats.dma_errors > 0);
	/* 64 KiB ring at the end of RAM with WRAP: still only RAM. */
	wr(t, RTL_RBSTART, NH_RAM - 65536, 4);
	wr(t, RTL_RCR, RTL_RCR_APM | RTL_RCR_WRAP | 3u << 11, 4);
	for (i = 0; i < 100; i++)
		(void)rtl8139_receive(t->d, f, len, NULL);
	assert_true(rd(t, RTL_CBR, 2) < 65536);
	/* Bus mastering off: no DMA. */
	nh_cfg_wr(t->h, PCI_CFG_COMMAND, PCI_CMD_IO | PCI_CMD_MEMORY, 2);
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
}

static void test_link(void **state)
{
	struct t *t = *state;

	too_start(t, 0);
	wr(t, RTL_ISR, 0xffff, 2);
	rtl8139_set_link(t->d, false);
	assert_true(rd(t, RTL_ISR, 2) & RTL_ISR_LINKCHG);
	assert_int_equal(nh_intx(t->h), 1);
	/* What 8139too checks before it believes LinkChg; read clears. */
	assert_int_equal(rd(t, RTL_CSCR, 2) & (RTL_CSCR_LINK_CHANGE |
					      RTL_CSCR_LINK_OK),
			 RTL_CSCR_LINK_CHANGE);
	assert_int_equal(rd(t, RTL_CSCR, 2) & RTL_CSCR_LINK_CHANGE, 0);
	assert_true(rd(t, RTL_MSR, 1) & RTL_MSR_LINKB);
	assert_false(rd(t, RTL_BMSR, 2) & RTL_BMSR_LINK);
	wr(t, RTL_ISR, RTL_ISR_LINKCHG, 2);
	assert_int_equal(nh_intx(t->h), 0);
	rtl8139_set_link(t->d, true);
	assert_true(rd(t, RTL_ISR, 2) & RTL_ISR_LINKCHG);
	assert_false(rd(t, RTL_MSR, 1) & RTL_MSR_LINKB);
	assert_true(rd(t, RTL_BMSR, 2) & RTL_BMSR_LINK);
	assert_int_equal(rd(t, RTL_ANLPAR, 2) & 0x0100, 0x0100);
}

/* cp_init_hw() + cp_start_hw(): rings of 4 TX and 4 RX descriptors. */
static void cp_start(struct t *t, uint16_t cpcmd_extra)
{
	unsigned int i;

	wr(t, RTL_CR, RTL_CR_RST, 1);
	wr(t, RTL_9346CR, 0xc0, 1);
	wr(t, RTL_CPCMD, RTL_CPCMD_RXEN | RTL_CPCMD_TXEN | 0x8 | cpcmd_extra,
	   2);
	wr(t, RTL_RDSAR, CP_RX_RING, 4);
	wr(t, RTL_RDSAR + 4, 0, 4);
	wr(t, RTL_TSAD0, CP_TX_RING, 4);
	wr(t, RTL_TSAD0 + 4, 0, 4);
	wr(t, RTL_CR, RTL_CR_RE | RTL_CR_TE, 1);
	wr(t, RTL_RCR, RTL_RCR_AB | RTL_RCR_AM | RTL_RCR_APM, 4);
	wr(t, RTL_9346CR, 0, 1);
	wr(t, RTL_IMR, 0x00ff, 2);
	memset(nh_ram(t->h, CP_TX_RING, 64 * 16), 0, 64 * 16);
	for (i = 0; i < 4; i++) {
		uint8_t *p = nh_ram(t->h, CP_RX_RING + 16 * i, 16);

		nh_put_le(p, RTL_CPD_OWN | (i == 3 ? RTL_CPD_EOR : 0) | 1536, 4);
		nh_put_le(p + 4, 0, 4);
		nh_put_le(p + 8, CP_RX_BUFS + 2048 * i, 8);
	}
}

static void cp_txd(struct t *t, unsigned int i, uint32_t opts1,
		   uint32_t opts2, uint64_t buf)
{
	uint8_t *p = nh_ram(t->h, CP_TX_RING + 16 * i, 16);

	nh_put_le(p, opts1, 4);
	nh_put_le(p + 4, opts2, 4);
	nh_put_le(p + 8, buf, 8);
}

static uint32_t cp_txd_opts1(struct t *t, unsigned int i)
{
	return (uint32_t)nh_get_le(nh_ram(t->h, CP_TX_RING + 16 * i, 4), 4);
}

static void test_cp_tx(void **state)
{
	struct t *t = *state;
	uint8_t *b = nh_ram(t->h, TX_BUFS, 65536);
	size_t len = nh_tcp_frame(b, peer, mac, 7, 0x18, 200, 0);
	const uint32_t sf = RTL_CPD_OWN | RTL_CPD_FS | RTL_CPD_LS;

	cp_start(t, 0);
	/* Checksums inserted from scratch (field content ignored). */
	nic_put_be16(b + 50, 0xdead);
	cp_txd(t, 0, sf | RTL_CPT_IPCS | RTL_CPT_TCPCS | (uint32_t)len, 0,
	       TX_BUFS);
	/* Three fragments, VLAN tag 5 inserted. */
	cp_txd(t, 1, RTL_CPD_OWN | RTL_CPD_FS | 20, RTL_CPT_TAGC | 0x0500,
	       TX_BUFS);
	cp_txd(t, 2, RTL_CPD_OWN | 30, 0, TX_BUFS + 20);
	cp_txd(t, 3, RTL_CPD_OWN | RTL_CPD_LS | RTL_CPD_EOR |
		     (uint32_t)(len - 50), 0, TX_BUFS + 50);
	wr(t, RTL_TPPOLL, RTL_TPPOLL_NPQ, 1);
	assert_int_equal(t->h->nout, 2);
	assert_int_equal(nic_rx_csum_check(t->h->out[0].data, len, 0x8100),
			 NIC_RX_IP_CHECKED | NIC_RX_L4_CHECKED | NIC_RX_TCP);
	assert_int_equal(t->h->out[1].len, len + 4);
	assert_int_equal(nic_get_be16(t->h->out[1].data + 14), 5);
	assert_memory_equal(t->h->out[1].data + 16, b + 12, len - 12);
	assert_int_equal(cp_txd_opts1(t, 0) & RTL_CPD_OWN, 0);
	assert_int_equal(cp_txd_opts1(t, 3) & (RTL_CPD_OWN | RTL_CPT_TXERR), 0);
	assert_true(rd(t, RTL_ISR, 2) & RTL_ISR_TOK);
	assert_int_equal(nh_intx(t->h), 1);
	/* EOR took the ring back to slot 0. */
	cp_txd(t, 0, sf | (uint32_t)len, 0, TX_BUFS);
	wr(t, RTL_TPPOLL, RTL_TPPOLL_NPQ, 1);
	assert_int_equal(t->h->nout, 3);
	/* Normal-mode TSD writes do not transmit in C+ mode. */
	wr(t, RTL_TSD0 + 8, 100, 4);
	assert_int_equal(t->h->nout, 3);
	/* Backend full: the second packet (two fragments) stays the chip's. */
	cp_txd(t, 1, sf | (uint32_t)len, 0, TX_BUFS);
	cp_txd(t, 2, RTL_CPD_OWN | RTL_CPD_FS | 20, 0, TX_BUFS);
	cp_txd(t, 3, RTL_CPD_OWN | RTL_CPD_LS | RTL_CPD_EOR |
		     (uint32_t)(len - 20), 0, TX_BUFS + 20);
	t->h->tx_room = 1;
	wr(t, RTL_TPPOLL, RTL_TPPOLL_NPQ, 1);
	assert_int_equal(t->h->nout, 4);
	assert_int_equal(cp_txd_opts1(t, 1) & RTL_CPD_OWN, 0);
	assert_true(cp_txd_opts1(t, 2) & RTL_CPD_OWN);
	assert_true(cp_txd_opts1(t, 3) & RTL_CPD_OWN);
	t->h->tx_room = -1;
	rtl8139_tx_poll(t->d);	/* what the host does when room comes */
	assert_int_equal(t->h->nout, 5);
	assert_int_equal(t->h->out[4].len, len);
	assert_int_equal(cp_txd_opts1(t, 2) & RTL_CPD_OWN, 0);
	assert_int_equal(cp_txd_opts1(t, 3) & (RTL_CPD_OWN | RTL_CPT_TXERR), 0);
}

static void test_cp_large_send(void **state)
{
	struct t *t = *state;
	uint8_t *b = nh_ram(t->h, TX_BUFS, 65536);
	size_t len = nh_tcp_frame(b, peer, mac, 100, 0x19, 3000, 0);
	const uint32_t sf = RTL_CPD_OWN | RTL_CPD_FS | RTL_CPD_LS |
			    RTL_CPT_LGSEN;
	unsigned int i;

	cp_start(t, 0);
	cp_txd(t, 0, sf | 1000u << RTL_CPT_MSS_SHIFT | (uint32_t)len, 0,
	       TX_BUFS);
	wr(t, RTL_TPPOLL, RTL_TPPOLL_NPQ, 1);
	assert_int_equal(t->h->nout, 3);
	for (i = 0; i < 3; i++) {
		const uint8_t *f = t->h->out[i].data;

		assert_int_equal(t->h->out[i].len, 1054);
		assert_int_equal(nic_get_be32(f + 38), 100 + 1000 * i);
		assert_int_equal(f[47], i < 2 ? 0x10 : 0x19);
		assert_int_equal(nic_rx_csum_check(f, 1054, 0x8100),
				 NIC_RX_IP_CHECKED | NIC_RX_L4_CHECKED |
				 NIC_RX_TCP);
	}
	/* CVE-2015-5165's inputs: headers that lie about their lengths. */
	b[14] = 0x4f;			/* IHL 60: beyond the IP total */
	nic_put_be16(b + 16, 50);
	cp_txd(t, 1, sf | 1000u << RTL_CPT_MSS_SHIFT | (uint32_t)len, 0,
	       TX_BUFS);
	b[14 + 2000] = 0;
	nh_tcp_frame(b + 4096, peer, mac, 1, 0x10, 10, 0);
	nic_put_be16(b + 4096 + 16, 10);	/* total length < IHL */
	cp_txd(t, 2, sf | 1000u << RTL_CPT_MSS_SHIFT | 64, 0, TX_BUFS + 4096);
	nh_tcp_frame(b + 8192, peer, mac, 1, 0x10, 10, 0);
	b[8192 + 46] = 0xf0;			/* TCP data offset 60 > frame */
	cp_txd(t, 3, sf | 1000u << RTL_CPT_MSS_SHIFT | 64, 0, TX_BUFS + 8192);
	nh_tcp_frame(b + 12288, peer, mac, 1, 0x10, 500, 0);
	cp_txd(t, 4, sf | (uint32_t)554, 0, TX_BUFS + 12288); /* MSS 0 */
	cp_txd(t, 5, sf | 1000u << RTL_CPT_MSS_SHIFT | 30, 0, TX_BUFS + 12288);
	wr(t, RTL_TPPOLL, RTL_TPPOLL_NPQ, 1);
	assert_int_equal(t->h->nout, 3);
	for (i = 1; i <= 5; i++)
		assert_int_equal(cp_txd_opts1(t, i) & (RTL_CPD_OWN |
						       RTL_CPT_TXERR),
				 RTL_CPT_TXERR);
	assert_int_equal(t->d->stats.tso_bad, 5);
}

static void test_cp_ring_hostile(void **state)
{
	struct t *t = *state;
	uint8_t *b = nh_ram(t->h, TX_BUFS, 4096);
	unsigned int i;

	cp_start(t, 0);
	nh_tcp_frame(b, peer, mac, 1, 0x10, 10, 1);
	/* 64 descriptors the chip owns, no EOR, no LS: one ring, then stop. */
	for (i = 0; i < 64; i++)
		cp_txd(t, i, RTL_CPD_OWN | (i == 0 ? RTL_CPD_FS : 0) | 1000, 0,
		       TX_BUFS);
	wr(t, RTL_TPPOLL, RTL_TPPOLL_NPQ, 1);
	assert_int_equal(t->h->nout, 0);
	assert_int_equal(t->d->cp_tx_idx, 0);
	/* A fragment without FS, then LS: dropped, ring goes on. */
	cp_txd(t, 0, RTL_CPD_OWN | RTL_CPD_LS | 64, 0, TX_BUFS);
	cp_txd(t, 1, RTL_CPD_OWN | RTL_CPD_FS | RTL_CPD_LS | 64, 0,
	       t->h->mmio);
	cp_txd(t, 2, RTL_CPD_OWN | RTL_CPD_FS | RTL_CPD_LS | 0xffff, 0,
	       NH_RAM - 16);
	cp_txd(t, 3, RTL_CPD_OWN | RTL_CPD_FS | RTL_CPD_LS | 64, 0, TX_BUFS);
	cp_txd(t, 4, 0, 0, 0);
	wr(t, RTL_TPPOLL, RTL_TPPOLL_NPQ, 1);
	assert_int_equal(t->h->nout, 1);
	assert_true(cp_txd_opts1(t, 2) & RTL_CPT_TXERR);
	assert_true(rd(t, RTL_ISR, 2) & RTL_ISR_TDU);
	/* A ring outside RAM. */
	wr(t, RTL_TSAD0, 0xffffff00, 4);
	wr(t, RTL_TSAD0 + 4, 0xffffffff, 4);
	wr(t, RTL_TPPOLL, RTL_TPPOLL_NPQ, 1);
	assert_int_equal(t->h->nout, 1);
	assert_true(t->d->stats.ring_errors > 0);
	/* Dump tally: 64 bytes of counters, the command bit clears. */
	wr(t, RTL_TSD0 + 4, 0, 4);
	wr(t, RTL_TSD0, TALLY | RTL_DUMP_STATS, 4);
	assert_int_equal(rd(t, RTL_TSD0, 4) & RTL_DUMP_STATS, 0);
	assert_int_equal(nh_get_le(nh_ram(t->h, TALLY, 8), 8), 1);
}

static uint32_t cp_rxd_opts1(struct t *t, unsigned int i)
{
	return (uint32_t)nh_get_le(nh_ram(t->h, CP_RX_RING + 16 * i, 4), 4);
}

static void test_cp_rx(void **state)
{
	struct t *t = *state;
	uint8_t f[4000], g[2000];
	size_t len = nh_tcp_frame(f, mac, peer, 1, 0x10, 500, 1);
	uint32_t o1;

	cp_start(t, RTL_CPCMD_RXCSUM | RTL_CPCMD_RXVLAN);
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
	o1 = cp_rxd_opts1(t, 0);
	assert_int_equal(o1 & (RTL_CPD_OWN | RTL_CPD_FS | RTL_CPD_LS),
			 RTL_CPD_FS | RTL_CPD_LS);
	assert_int_equal(o1 & RTL_CPR_LEN, len + 4);
	assert_int_equal((o1 >> 16) & 3, RTL_CPR_PID_TCP);
	assert_int_equal(o1 & (RTL_CPR_TCPF | RTL_CPR_IPF), 0);
	assert_memory_equal(nh_ram(t->h, CP_RX_BUFS, len), f, len);
	assert_true(rd(t, RTL_ISR, 2) & RTL_ISR_ROK);
	/* Bad TCP checksum flagged. */
	f[70] ^= 1;
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
	assert_true(cp_rxd_opts1(t, 1) & RTL_CPR_TCPF);
	f[70] ^= 1;
	/* VLAN tag stripped into opts2. */
	memcpy(g, f, 12);
	nic_put_be16(g + 12, 0x8100);
	nic_put_be16(g + 14, 7);
	memcpy(g + 16, f + 12, len - 12);
	assert_int_equal(rtl8139_receive(t->d, g, len + 4, NULL), 0);
	assert_int_equal(cp_rxd_opts1(t, 2) & RTL_CPR_LEN, len + 4);
	assert_int_equal(nh_get_le(nh_ram(t->h, CP_RX_RING + 32 + 4, 4), 4),
			 RTL_CPR_TAVA | 0x0700);
	assert_memory_equal(nh_ram(t->h, CP_RX_BUFS + 4096, len), f, len);
	/* A frame larger than one buffer spans two (FS ... LS). */
	len = nh_tcp_frame(f, mac, peer, 1, 0x10, 2500, 1);
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), -EAGAIN);
	nh_put_le(nh_ram(t->h, CP_RX_RING, 4), RTL_CPD_OWN | 1536, 4);
	assert_int_equal(rtl8139_receive(t->d, f, len, NULL), 0);
	assert_int_equal(cp_rxd_opts1(t, 3) & (RTL_CPD_FS | RTL_CPD_LS |
					       RTL_CPD_EOR),
			 RTL_CPD_FS | RTL_CPD_EOR);
	assert_int_equal(cp_rxd_opts1(t, 0) & (RTL_CPD_FS | RTL_CPD_LS),
			 RTL_CPD_LS);
	assert_int_equal(cp_rxd_opts1(t, 0) & RTL_CPR_LEN, len + 4);
	assert_memory_equal(nh_ram(t->h, CP_RX_BUFS, 100), f + 1536, 100);
	/* Ring of zero-size buffers, never ending: dropped, bounded. */
	{
		unsigned int i;

		for (i = 0; i < 4; i++)
			nh_put_le(nh_ram(t->h, CP_RX_RING + 16 * i, 4),
				  RTL_CPD_OWN | (i == 3 ? RTL_CPD_EOR : 0), 4);
	}
	assert_int_equal(rtl8139_receive(t->d, f, 100, NULL), 0);
	assert_true(t->d->stats.rx_dropped > 0);
	/* RX ring beyond RAM. */
	wr(t, RTL_RDSAR, 0xffffff00, 4);
	assert_int_equal(rtl8139_receive(t->d, f, 100, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define TC(f) cmocka_unit_test_setup_teardown(f, setup_c, teardown)
#define TP(f) cmocka_unit_test_setup_teardown(f, setup_cplus, teardown)
		TC(test_probe_eeprom),
		TP(test_probe_eeprom),
		TC(test_too_tx),
		TC(test_too_rx),
		TC(test_too_rx_nowrap_and_hostile),
		TP(test_too_rx),
		TC(test_link),
		TP(test_cp_tx),
		TP(test_cp_large_send),
		TP(test_cp_ring_hostile),
		TP(test_cp_rx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
