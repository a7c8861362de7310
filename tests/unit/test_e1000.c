/* SPDX-License-Identifier: MIT */
/* test_e1000.c - the 82540EM model driven as Linux's e1000 driver drives it, and as a hostile guest would. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/nic_harness.h"
#include "vmm/hw/e1000.h"

enum {
	TX_RING = 0x10000,	/* 16 descriptors */
	RX_RING = 0x20000,
	TX_BUFS = 0x100000,
	RX_BUFS = 0x400000,
	NDESC = 16,
};

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

struct t {
	struct nh *h;
	struct e1000 *d;
	unsigned int tdt, rdt;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	struct hw_nic_host host;

	assert_non_null(t);
	t->h = nh_new();
	host = nh_host(t->h);
	t->d = e1000_new(&t->h->bus, &t->h->vm.mem, mac, &host);
	assert_non_null(t->d);
	assert_int_equal(nh_find(t->h, 0x8086, 0x100e), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	nh_free(t->h);
	free(t);
	return 0;
}

/* EECD bit-banging, the way e1000_read_eeprom_microwire() does it. */
static void ee_write(struct t *t, uint32_t v)
{
	nh_wr32(t->h, E1000_EECD, v);
}

static uint16_t ee_read_word(struct t *t, unsigned int addr)
{
	uint32_t eecd = nh_rd32(t->h, E1000_EECD);
	unsigned int cmd = 0x6 << 6 | addr, i;
	uint16_t v = 0;

	eecd |= E1000_EECD_REQ;
	ee_write(t, eecd);
	assert_true(nh_rd32(t->h, E1000_EECD) & E1000_EECD_GNT);
	eecd &= ~(E1000_EECD_DI | E1000_EECD_SK);
	ee_write(t, eecd);
	eecd |= E1000_EECD_CS;
	ee_write(t, eecd);
	for (i = 0; i < 9; i++) {
		eecd &= ~E1000_EECD_DI;
		if (cmd & (1u << (8 - i)))
			eecd |= E1000_EECD_DI;
		ee_write(t, eecd);
		ee_write(t, eecd | E1000_EECD_SK);
		ee_write(t, eecd);
	}
	eecd &= ~E1000_EECD_DI;
	for (i = 0; i < 16; i++) {
		ee_write(t, eecd | E1000_EECD_SK);
		v = (uint16_t)(v << 1 |
			       !!(nh_rd32(t->h, E1000_EECD) & E1000_EECD_DO));
		ee_write(t, eecd);
	}
	eecd &= ~(E1000_EECD_CS | E1000_EECD_DI | E1000_EECD_REQ);
	ee_write(t, eecd);
	return v;
}

static uint16_t mdic(struct t *t, unsigned int phy, unsigned int reg,
		     int write, uint16_t val, uint32_t *raw)
{
	uint32_t v = (uint32_t)phy << 21 | reg << 16 | val |
		     (write ? E1000_MDIC_OP_WRITE : E1000_MDIC_OP_READ);

	nh_wr32(t->h, E1000_MDIC, v);
	v = nh_rd32(t->h, E1000_MDIC);
	assert_true(v & E1000_MDIC_READY);
	if (raw)
		*raw = v;
	return (uint16_t)v;
}

/* Reset and bring up like e1000_reset_hw/e1000_init_hw/e1000_configure. */
static void bring_up(struct t *t, uint32_t rctl_extra)
{
	unsigned int i;

	nh_wr32(t->h, E1000_IMC, 0xffffffff);
	nh_wr32(t->h, E1000_RCTL, 0);
	nh_wr32(t->h, E1000_TCTL, 8);
	nh_wr32(t->h, E1000_CTRL, nh_rd32(t->h, E1000_CTRL) | E1000_CTRL_RST);
	assert_false(nh_rd32(t->h, E1000_CTRL) & E1000_CTRL_RST);
	nh_wr32(t->h, E1000_IMC, 0xffffffff);
	(void)nh_rd32(t->h, E1000_ICR);
	for (i = 0; i < NDESC; i++)
		nh_put_le(nh_ram(t->h, RX_RING + 16 * i, 8),
			  RX_BUFS + 0x4000 * i, 8);
	nh_wr32(t->h, E1000_TDBAL, TX_RING);
	nh_wr32(t->h, E1000_TDBAH, 0);
	nh_wr32(t->h, E1000_TDLEN, NDESC * 16);
	nh_wr32(t->h, E1000_TDH, 0);
	nh_wr32(t->h, E1000_TDT, 0);
	nh_wr32(t->h, E1000_TCTL, E1000_TCTL_EN | 8);
	nh_wr32(t->h, E1000_RDBAL, RX_RING);
	nh_wr32(t->h, E1000_RDBAH, 0);
	nh_wr32(t->h, E1000_RDLEN, NDESC * 16);
	nh_wr32(t->h, E1000_RDH, 0);
	nh_wr32(t->h, E1000_RDT, NDESC - 1);
	t->rdt = NDESC - 1;
	t->tdt = 0;
	nh_wr32(t->h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM |
				   E1000_RCTL_SECRC | rctl_extra);
	nh_wr32(t->h, E1000_IMS, E1000_ICR_TXDW | E1000_ICR_RXT0 |
				  E1000_ICR_LSC | E1000_ICR_RXDMT0);
}

/* A legacy TX descriptor at ring slot @i. */
static void txd_legacy(struct t *t, unsigned int i, uint64_t buf,
		       uint16_t len, uint8_t cmd, uint8_t cso, uint8_t css)
{
	uint8_t *p = nh_ram(t->h, TX_RING + 16 * i, 16);

	memset(p, 0, 16);
	nh_put_le(p, buf, 8);
	nh_put_le(p + 8, len, 2);
	p[10] = cso;
	p[11] = cmd;
	p[13] = css;
}

static void txd_raw(struct t *t, unsigned int i, uint64_t a, uint32_t lower,
		    uint32_t upper)
{
	uint8_t *p = nh_ram(t->h, TX_RING + 16 * i, 16);

	nh_put_le(p, a, 8);
	nh_put_le(p + 8, lower, 4);
	nh_put_le(p + 12, upper, 4);
}

static void txd_context(struct t *t, unsigned int i, uint8_t ipcss,
			uint8_t ipcso, uint16_t ipcse, uint8_t tucss,
			uint8_t tucso, uint16_t tucse, uint32_t paylen,
			uint32_t tucmd, uint8_t hdrlen, uint16_t mss)
{
	uint8_t *p = nh_ram(t->h, TX_RING + 16 * i, 16);

	p[0] = ipcss;
	p[1] = ipcso;
	nh_put_le(p + 2, ipcse, 2);
	p[4] = tucss;
	p[5] = tucso;
	nh_put_le(p + 6, tucse, 2);
	nh_put_le(p + 8, (paylen & 0xfffff) | tucmd | (E1000_TXD_CMD_DEXT << 24),
		  4);
	p[12] = 0;
	p[13] = hdrlen;
	nh_put_le(p + 14, mss, 2);
}

static uint8_t txd_status(struct t *t, unsigned int i)
{
	return nh_ram(t->h, TX_RING + 16 * i, 16)[12];
}

static void tx_doorbell(struct t *t, unsigned int tdt)
{
	t->tdt = tdt;
	nh_wr32(t->h, E1000_TDT, tdt);
}

static void test_probe_and_eeprom(void **state)
{
	struct t *t = *state;
	uint16_t sum = 0, w;
	uint32_t raw;
	unsigned int i;

	assert_int_equal(nh_cfg_rd(t->h, PCI_CFG_CLASS_PROG + 1, 2), 0x0200);
	assert_true(t->h->mmio != 0);
	assert_true(t->h->pio != 0);
	/* BAR0 is 128 KiB of memory: size probing. */
	nh_cfg_wr(t->h, PCI_CFG_BAR0, 0xffffffff, 4);
	assert_int_equal(nh_cfg_rd(t->h, PCI_CFG_BAR0, 4) & ~0xfu, 0xfffe0000);
	nh_cfg_wr(t->h, PCI_CFG_BAR0, (uint32_t)t->h->mmio, 4);

	for (i = 0; i < 64; i++) {
		w = ee_read_word(t, i);
		sum = (uint16_t)(sum + w);
		if (i < 3)
			assert_int_equal(w, mac[2 * i] | mac[2 * i + 1] << 8);
		/* EERD gives the same words. */
		nh_wr32(t->h, E1000_EERD, i << 8 | E1000_EERD_START);
		raw = nh_rd32(t->h, E1000_EERD);
		assert_true(raw & E1000_EERD_DONE);
		assert_int_equal(raw >> 16, w);
	}
	assert_int_equal(sum, 0xbaba);
	/* RAL0/RAH0 hold the MAC after reset, address valid. */
	assert_int_equal(nh_rd32(t->h, E1000_RA), 0x12005452);
	assert_int_equal(nh_rd32(t->h, E1000_RA + 4), 0x80005634);
}

static void test_phy_and_link(void **state)
{
	struct t *t = *state;
	uint32_t raw;

	assert_int_equal(mdic(t, 1, MII_PHYID1, 0, 0, NULL), 0x0141);
	assert_int_equal(mdic(t, 1, MII_PHYID2, 0, 0, NULL) & 0xfff0, 0x0c20);
	/* Another PHY address answers with an error, as a missing PHY does. */
	mdic(t, 2, MII_PHYID1, 0, 0, &raw);
	assert_true(raw & E1000_MDIC_ERROR);
	/* Autonegotiation restart completes with the link up. */
	mdic(t, 1, MII_BMCR, 1, BMCR_AN_ENABLE | BMCR_RESTART_AN, NULL);
	assert_int_equal(mdic(t, 1, MII_BMSR, 0, 0, NULL) &
			 (BMSR_LINK | BMSR_AN_DONE), BMSR_LINK | BMSR_AN_DONE);
	assert_true(nh_rd32(t->h, E1000_STATUS) & E1000_STATUS_LU);
	assert_true(nh_rd32(t->h, E1000_STATUS) & E1000_STATUS_SPEED_1000);

	bring_up(t, 0);
	assert_int_equal(nh_intx(t->h), 0);
	e1000_set_link(t->d, false);
	assert_int_equal(nh_intx(t->h), 1);
	assert_false(nh_rd32(t->h, E1000_STATUS) & E1000_STATUS_LU);
	assert_false(mdic(t, 1, MII_BMSR, 0, 0, NULL) & BMSR_LINK);
	assert_int_equal(nh_rd32(t->h, E1000_ICR) & E1000_ICR_LSC,
			 E1000_ICR_LSC);
	assert_int_equal(nh_intx(t->h), 0);
	/* Frames do not go out onto a dead link... the receiver drops. */
	e1000_set_link(t->d, true);
	assert_int_equal(nh_intx(t->h), 1);
	assert_true(nh_rd32(t->h, E1000_STATUS) & E1000_STATUS_LU);
	assert_true(mdic(t, 1, MII_BMSR, 0, 0, NULL) & BMSR_LINK);
	assert_int_equal(nh_rd32(t->h, E1000_ICR), E1000_ICR_LSC);
}

static void test_unknown_register_and_io_bar(void **state)
{
	struct t *t = *state;
	struct hw_nic_stats st;

	assert_int_equal(nh_rd32(t->h, 0x1f000), 0);
	nh_wr32(t->h, 0x1f000, 0x1234);
	assert_int_equal(nh_rd32(t->h, 0x1f000), 0);
	e1000_stats(t->d, &st);
	assert_int_equal(st.unknown_regs, 3);
	/* IOADDR/IODATA reach the same registers. */
	nh_io_wr(t->h, VM_IO_PIO, t->h->pio, E1000_STATUS, 4);
	assert_int_equal(nh_io_rd(t->h, VM_IO_PIO, t->h->pio + 4, 4),
			 nh_rd32(t->h, E1000_STATUS));
	nh_io_wr(t->h, VM_IO_PIO, t->h->pio, E1000_TDLEN, 4);
	nh_io_wr(t->h, VM_IO_PIO, t->h->pio + 4, 0x400, 4);
	assert_int_equal(nh_rd32(t->h, E1000_TDLEN), 0x400);
	/* Narrow accesses see the bytes of the register. */
	assert_int_equal(nh_io_rd(t->h, VM_IO_MMIO, t->h->mmio + E1000_TDLEN + 1,
				  1), 0x04);
}

static void test_tx_legacy_and_irq(void **state)
{
	struct t *t = *state;
	uint8_t *b = nh_ram(t->h, TX_BUFS, 4096);
	unsigned int i;

	bring_up(t, 0);
	for (i = 0; i < 200; i++)
		b[i] = (uint8_t)i;
	/* Frame 1 in one descriptor, frame 2 split over two. */
	txd_legacy(t, 0, TX_BUFS, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS |
				     E1000_TXD_CMD_IFCS, 0, 0);
	txd_legacy(t, 1, TX_BUFS, 100, 0, 0, 0);
	txd_legacy(t, 2, TX_BUFS + 100, 100, E1000_TXD_CMD_EOP |
					     E1000_TXD_CMD_RS, 0, 0);
	tx_doorbell(t, 3);
	assert_int_equal(t->h->nout, 2);
	assert_int_equal(t->h->out[0].len, 60);
	assert_int_equal(t->h->out[1].len, 200);
	assert_memory_equal(t->h->out[1].data, b, 200);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 3);
	assert_true(txd_status(t, 0) & E1000_TXD_STA_DD);
	assert_false(txd_status(t, 1) & E1000_TXD_STA_DD);
	assert_true(txd_status(t, 2) & E1000_TXD_STA_DD);
	assert_int_equal(nh_intx(t->h), 1);
	assert_true(nh_rd32(t->h, E1000_ICR) & E1000_ICR_TXDW);
	assert_int_equal(nh_intx(t->h), 0);
	assert_int_equal(nh_rd32(t->h, E1000_GPTC), 2);
	assert_int_equal(nh_rd32(t->h, E1000_GPTC), 0);	/* clear on read */

	/* Wrap-around: 13 frames from slot 3 through 15 and 0. */
	for (i = 3; i < 16 + 1; i++)
		txd_legacy(t, i % 16, TX_BUFS, 64, E1000_TXD_CMD_EOP |
						   E1000_TXD_CMD_RS, 0, 0);
	tx_doorbell(t, 1);
	assert_int_equal(t->h->nout, 2 + 14);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 1);

	/* ICS raises, IMC masks. */
	nh_wr32(t->h, E1000_IMC, 0xffffffff);
	nh_wr32(t->h, E1000_ICS, E1000_ICR_RXT0);
	assert_int_equal(nh_intx(t->h), 0);
	nh_wr32(t->h, E1000_IMS, E1000_ICR_RXT0);
	assert_int_equal(nh_intx(t->h), 1);
	nh_wr32(t->h, E1000_ICR, E1000_ICR_RXT0 | E1000_ICR_TXDW |
				  E1000_ICR_TXQE);
	assert_int_equal(nh_intx(t->h), 0);
}

static void test_tx_csum_offload(void **state)
{
	struct t *t = *state;
	uint8_t *b = nh_ram(t->h, TX_BUFS, 4096);
	size_t len = nh_tcp_frame(b, peer, mac, 1000, 0x18, 300, 0);
	struct nic_l3l4 l;

	bring_up(t, 0);
	/* As e1000_tx_csum: pseudo-header sum in the TCP field, IP csum 0. */
	assert_int_equal(nic_parse_l3l4(b, len, 0x8100, &l), 0);
	nic_put_be16(b + 50, (uint16_t)~nic_csum_fold(
		nic_csum_add(6 + 320, b + 26, 8)));
	txd_context(t, 0, 14, 24, 33, 34, 50, 0, 0,
		    E1000_TXD_TUCMD_TCP | E1000_TXD_TUCMD_IP, 0, 0);
	txd_raw(t, 1, TX_BUFS, (uint32_t)len | E1000_TXD_DTYP_DATA |
		(uint32_t)(E1000_TXD_CMD_DEXT | E1000_TXD_CMD_EOP |
			   E1000_TXD_CMD_RS) << 24,
		(E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM) << 8);
	tx_doorbell(t, 2);
	assert_int_equal(t->h->nout, 1);
	assert_int_equal(nic_rx_csum_check(t->h->out[0].data, len, 0x8100),
			 NIC_RX_IP_CHECKED | NIC_RX_L4_CHECKED | NIC_RX_TCP);

	/* Legacy descriptor IC: checksum from CSS to the end, at CSO. */
	len = nh_tcp_frame(b, peer, mac, 1, 0x10, 10, 1);
	b[40] ^= 0x55;	/* break the TCP checksum */
	nic_put_be16(b + 50, (uint16_t)~nic_csum_fold(
		nic_csum_add(6 + 30, b + 26, 8)));
	txd_legacy(t, 2, TX_BUFS, (uint16_t)len, E1000_TXD_CMD_EOP |
		   E1000_TXD_CMD_IC, 50, 34);
	tx_doorbell(t, 3);
	assert_int_equal(t->h->nout, 2);
	assert_int_equal(nic_rx_csum_check(t->h->out[1].data, len, 0x8100) &
			 NIC_RX_L4_BAD, 0);
}

static void tso_send(struct t *t, unsigned int slot, size_t len,
		     uint8_t hdrlen, uint16_t mss, uint16_t tucso)
{
	txd_context(t, slot, 14, 24, 33, 34, (uint8_t)tucso, 0,
		    (uint32_t)(len - hdrlen), E1000_TXD_TUCMD_TCP |
		    E1000_TXD_TUCMD_IP | E1000_TXD_DCMD_TSE, hdrlen, mss);
	/* Header in its own descriptor, payload in a second, as Linux does. */
	txd_raw(t, slot + 1, TX_BUFS, 54 | E1000_TXD_DTYP_DATA |
		(uint32_t)(E1000_TXD_CMD_DEXT) << 24 | E1000_TXD_DCMD_TSE,
		(E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM) << 8);
	txd_raw(t, slot + 2, TX_BUFS + 54, (uint32_t)(len - 54) |
		E1000_TXD_DTYP_DATA | E1000_TXD_DCMD_TSE |
		(uint32_t)(E1000_TXD_CMD_DEXT | E1000_TXD_CMD_EOP |
			   E1000_TXD_CMD_RS) << 24,
		(E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM) << 8);
	tx_doorbell(t, slot + 3);
}

static void test_tso(void **state)
{
	struct t *t = *state;
	uint8_t *b = nh_ram(t->h, TX_BUFS, 65536);
	size_t len = nh_tcp_frame(b, peer, mac, 5000, 0x19 /* FIN PSH ACK */,
				  3500, 0);
	unsigned int i;

	bring_up(t, 0);
	/* As e1000_tso: IP total length and checksum 0, pseudo sum w/o length. */
	nic_put_be16(b + 16, 0);
	nic_put_be16(b + 50, (uint16_t)~nic_csum_fold(nic_csum_add(6, b + 26, 8)));
	tso_send(t, 0, len, 54, 1000, 50);
	assert_int_equal(t->h->nout, 4);
	for (i = 0; i < 4; i++) {
		const uint8_t *f = t->h->out[i].data;
		size_t plen = i < 3 ? 1000 : 500;

		assert_int_equal(t->h->out[i].len, 54 + plen);
		assert_int_equal(nic_get_be16(f + 16), 40 + plen);
		assert_int_equal(nic_get_be16(f + 18), 0x1234 + i);
		assert_int_equal(nic_get_be32(f + 38), 5000 + 1000 * i);
		assert_int_equal(f[47], i < 3 ? 0x10 : 0x19);
		assert_int_equal(f[54], (uint8_t)(1000 * i));
		assert_int_equal(nic_rx_csum_check(f, 54 + plen, 0x8100),
				 NIC_RX_IP_CHECKED | NIC_RX_L4_CHECKED |
				 NIC_RX_TCP);
	}
	assert_int_equal(nh_rd32(t->h, E1000_TSCTC), 1);
	assert_true(txd_status(t, 2) & E1000_TXD_STA_DD);
}

static void test_tso_hostile(void **state)
{
	struct t *t = *state;
	uint8_t *b = nh_ram(t->h, TX_BUFS, 65536);
	size_t len = nh_tcp_frame(b, peer, mac, 1, 0x10, 2000, 0);
	struct hw_nic_stats st;

	bring_up(t, 0);
	tso_send(t, 0, len, 54, 0, 50);		/* MSS 0 */
	tso_send(t, 3, len, 54, 20000, 50);	/* segment beyond 16 KiB */
	tso_send(t, 6, len, 54, 1000, 250);	/* TUCSO beyond the header */
	tso_send(t, 9, len, 20, 1000, 50);	/* header shorter than IP+TCP */
	assert_int_equal(t->h->nout, 0);
	assert_int_equal(nh_rd32(t->h, E1000_TSCTFC), 4);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 12);
	assert_true(txd_status(t, 11) & E1000_TXD_STA_DD);
	/* A header longer than the whole frame. */
	txd_context(t, 12, 14, 24, 33, 34, 50, 0, 0, E1000_TXD_TUCMD_TCP |
		    E1000_TXD_TUCMD_IP | E1000_TXD_DCMD_TSE, 200, 100);
	txd_raw(t, 13, TX_BUFS, 100 | E1000_TXD_DTYP_DATA | E1000_TXD_DCMD_TSE |
		(uint32_t)(E1000_TXD_CMD_DEXT | E1000_TXD_CMD_EOP) << 24, 0x300);
	/* Context descriptors without data: nothing goes out. */
	txd_context(t, 14, 14, 24, 33, 34, 50, 0, 0, 0, 0, 0);
	txd_context(t, 15, 14, 24, 33, 34, 50, 0, 0, 0, 0, 0);
	tx_doorbell(t, 0);
	assert_int_equal(t->h->nout, 0);
	e1000_stats(t->d, &st);
	assert_int_equal(st.tso_bad, 5);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 0);
	/* And the device still works afterwards. */
	txd_legacy(t, 0, TX_BUFS, 60, E1000_TXD_CMD_EOP, 0, 0);
	tx_doorbell(t, 1);
	assert_int_equal(t->h->nout, 1);
}

static void test_tx_ring_hostile(void **state)
{
	struct t *t = *state;
	struct hw_nic_stats st;
	unsigned int i;

	bring_up(t, 0);
	/* TDT beyond the ring (CVE-2016-1981's endless walk): nothing. */
	tx_doorbell(t, 100);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 0);
	/* TDH beyond the ring. */
	nh_wr32(t->h, E1000_TDH, 40);
	tx_doorbell(t, 3);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 40);
	/* Zero ring length. */
	nh_wr32(t->h, E1000_TDH, 0);
	nh_wr32(t->h, E1000_TDLEN, 0);
	tx_doorbell(t, 3);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 0);
	e1000_stats(t->d, &st);
	assert_int_equal(st.ring_errors, 3);
	assert_int_equal(t->h->nout, 0);

	/* A ring past the end of RAM: stopped at the first descriptor. */
	nh_wr32(t->h, E1000_TDLEN, NDESC * 16);
	nh_wr32(t->h, E1000_TDBAL, NH_RAM - 64);
	tx_doorbell(t, 10);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 4);
	nh_wr32(t->h, E1000_TDBAL, TX_RING);
	nh_wr32(t->h, E1000_TDH, 0);

	/* Descriptors without EOP all the way round: one lap, then stop. */
	for (i = 0; i < 16; i++)
		txd_legacy(t, i, TX_BUFS, 1500, 0, 0, 0);
	tx_doorbell(t, 15);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 15);
	assert_int_equal(t->h->nout, 0);
	/* Over-long frame (16 * 1500 > 16 KiB) ends dropped at EOP. */
	txd_legacy(t, 15, TX_BUFS, 1500, E1000_TXD_CMD_EOP, 0, 0);
	tx_doorbell(t, 0);
	assert_int_equal(t->h->nout, 0);
	/* Buffers aimed at the device's own BAR or beyond RAM. */
	txd_legacy(t, 0, t->h->mmio + E1000_TDT, 64, E1000_TXD_CMD_EOP, 0, 0);
	txd_legacy(t, 1, UINT64_MAX - 10, 64, E1000_TXD_CMD_EOP, 0, 0);
	txd_legacy(t, 2, TX_BUFS, 0, E1000_TXD_CMD_EOP, 0, 0);
	tx_doorbell(t, 3);
	assert_int_equal(t->h->nout, 0);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 3);
	assert_int_equal(nh_rd32(t->h, E1000_TDT), 3);
	/* Bus mastering off: no DMA at all. */
	nh_cfg_wr(t->h, PCI_CFG_COMMAND, PCI_CMD_MEMORY, 2);
	txd_legacy(t, 3, TX_BUFS, 64, E1000_TXD_CMD_EOP, 0, 0);
	tx_doorbell(t, 4);
	assert_int_equal(t->h->nout, 0);
	nh_cfg_wr(t->h, PCI_CFG_COMMAND, PCI_CMD_MEMORY | PCI_CMD_MASTER, 2);
	tx_doorbell(t, 4);
	assert_int_equal(t->h->nout, 1);
}

static void test_tx_backend_full(void **state)
{
	struct t *t = *state;
	unsigned int i;

	bring_up(t, 0);
	for (i = 0; i < 4; i++)
		txd_legacy(t, i, TX_BUFS, 64, E1000_TXD_CMD_EOP |
					      E1000_TXD_CMD_RS, 0, 0);
	t->h->tx_room = 2;
	tx_doorbell(t, 4);
	/* Two sent, the third refused: the pass stops before it. */
	assert_int_equal(t->h->nout, 2);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 2);
	assert_false(txd_status(t, 2) & E1000_TXD_STA_DD);
	t->h->tx_room = -1;
	e1000_tx_poll(t->d);
	assert_int_equal(t->h->nout, 4);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 4);
	assert_int_equal(nh_rd32(t->h, E1000_GPTC), 4);
}

static uint8_t *rxd(struct t *t, unsigned int i)
{
	return nh_ram(t->h, RX_RING + 16 * i, 16);
}

static void test_rx(void **state)
{
	struct t *t = *state;
	uint8_t f[9000];
	size_t len = nh_tcp_frame(f, mac, peer, 1, 0x10, 100, 1);
	unsigned int i;

	bring_up(t, 0);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_get_le(rxd(t, 0) + 8, 2), len);
	assert_int_equal(rxd(t, 0)[12] & 0x7, E1000_RXD_STA_DD |
			 E1000_RXD_STA_EOP | E1000_RXD_STA_IXSM);
	assert_memory_equal(nh_ram(t->h, RX_BUFS, len), f, len);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 1);
	assert_int_equal(nh_intx(t->h), 1);
	assert_true(nh_rd32(t->h, E1000_ICR) & E1000_ICR_RXT0);
	assert_int_equal(nh_rd32(t->h, E1000_GPRC), 1);

	/* Filters: another unicast MAC, multicast not in MTA: dropped. */
	f[5] ^= 1;
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	memcpy(f, "\x01\x00\x5e\x00\x00\x01", 6);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 1);
	/* 01:00:5e:00:00:01 hashes (MO 0) to 0x010. */
	nh_wr32(t->h, E1000_MTA + 0, 1u << 16);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 2);
	memset(f, 0xff, 6);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 3);

	/* Ring full: RDH catches up with RDT, the frame waits. */
	memcpy(f, mac, 6);
	for (i = 3; i < 15; i++)
		assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 15);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), -EAGAIN);
	t->h->kicks = 0;
	nh_wr32(t->h, E1000_RDT, 4);
	assert_int_equal(t->h->kicks, 1);
	/* Wrap: slot 15 then 0. */
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 1);

	/* A jumbo frame: dropped without LPE. */
	len = nh_tcp_frame(f, mac, peer, 1, 0x10, 5000, 1);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 1);
	assert_int_equal(nh_rd32(t->h, E1000_ROC), 1);
	/* With LPE it spans three 2 KiB buffers, EOP on the last. */
	nh_wr32(t->h, E1000_RCTL, nh_rd32(t->h, E1000_RCTL) | E1000_RCTL_LPE);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 4);
	assert_int_equal(nh_get_le(rxd(t, 1) + 8, 2), 2048);
	assert_int_equal(rxd(t, 1)[12] & E1000_RXD_STA_EOP, 0);
	assert_int_equal(nh_get_le(rxd(t, 3) + 8, 2), len - 4096);
	assert_true(rxd(t, 3)[12] & E1000_RXD_STA_EOP);
	assert_memory_equal(nh_ram(t->h, RX_BUFS + 0x4000 * 2, 100), f + 2048,
			    100);
}

static void test_rx_csum_vlan(void **state)
{
	struct t *t = *state;
	uint8_t f[2000], g[2000];
	size_t len = nh_tcp_frame(f, mac, peer, 1, 0x10, 100, 1);
	struct frame_offload off = { 0 };

	bring_up(t, 0);
	nh_wr32(t->h, E1000_RXCSUM, E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(rxd(t, 0)[12] & 0x67, E1000_RXD_STA_DD |
			 E1000_RXD_STA_EOP | E1000_RXD_STA_IPCS |
			 E1000_RXD_STA_TCPCS);
	assert_int_equal(rxd(t, 0)[13], 0);
	f[60] ^= 1;
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(rxd(t, 1)[13], E1000_RXD_ERR_TCPE);
	/* A partial checksum from a virtio peer is completed first. */
	len = nh_tcp_frame(f, mac, peer, 1, 0x10, 100, 0);
	nic_put_be16(f + 50, (uint16_t)~nic_csum_fold(
		nic_csum_add(6 + 120, f + 26, 8)));
	off.flags = FRAME_F_NEEDS_CSUM;
	off.csum_start = 34;
	off.csum_offset = 16;
	assert_int_equal(e1000_receive(t->d, f, len, &off), 0);
	assert_int_equal(rxd(t, 2)[13], E1000_RXD_ERR_IPE); /* IP csum 0 */
	assert_int_equal(nic_rx_csum_check(nh_ram(t->h, RX_BUFS + 0x8000, len),
					   len, 0x8100) & NIC_RX_L4_BAD, 0);
	off.csum_start = 2000;
	assert_int_equal(e1000_receive(t->d, f, len, &off), -EINVAL);
	off.flags = 0;
	off.gso_type = FRAME_GSO_TCPV4;
	assert_int_equal(e1000_receive(t->d, f, len, &off), -EINVAL);

	/* VLAN: stripped into the descriptor with CTRL.VME. */
	nh_wr32(t->h, E1000_CTRL, nh_rd32(t->h, E1000_CTRL) | E1000_CTRL_VME);
	len = nh_tcp_frame(f, mac, peer, 1, 0x10, 100, 1);
	memcpy(g, f, 12);
	nic_put_be16(g + 12, 0x8100);
	nic_put_be16(g + 14, 0x2064);
	memcpy(g + 16, f + 12, len - 12);
	assert_int_equal(e1000_receive(t->d, g, len + 4, NULL), 0);
	assert_int_equal(nh_get_le(rxd(t, 3) + 8, 2), len);
	assert_true(rxd(t, 3)[12] & E1000_RXD_STA_VP);
	assert_int_equal(nh_get_le(rxd(t, 3) + 14, 2), 0x2064);
	assert_memory_equal(nh_ram(t->h, RX_BUFS + 0x4000 * 3, len), f, len);
	/* VLAN filter: VID 100 not in VFTA: dropped. */
	nh_wr32(t->h, E1000_RCTL, nh_rd32(t->h, E1000_RCTL) | E1000_RCTL_VFE);
	assert_int_equal(e1000_receive(t->d, g, len + 4, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 4);
	nh_wr32(t->h, E1000_VFTA + (100 >> 5) * 4, 1u << (100 & 31));
	assert_int_equal(e1000_receive(t->d, g, len + 4, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 5);

	/* TX: VLE inserts the tag from the descriptor. */
	memcpy(nh_ram(t->h, TX_BUFS, len), f, len);
	txd_legacy(t, 0, TX_BUFS, (uint16_t)len, E1000_TXD_CMD_EOP |
		   E1000_TXD_CMD_VLE, 0, 0);
	nh_put_le(nh_ram(t->h, TX_RING + 14, 2), 0x2064, 2);
	tx_doorbell(t, 1);
	assert_int_equal(t->h->nout, 1);
	assert_int_equal(t->h->out[0].len, len + 4);
	assert_memory_equal(t->h->out[0].data, g, len + 4);
}

static void test_rx_hostile(void **state)
{
	struct t *t = *state;
	uint8_t f[2000];
	size_t len = nh_tcp_frame(f, mac, peer, 1, 0x10, 100, 1);
	struct hw_nic_stats st;

	bring_up(t, 0);
	/* The guest shrinks the ring under RDH: dropped, nothing written. */
	nh_wr32(t->h, E1000_RDH, 10);
	nh_wr32(t->h, E1000_RDLEN, 128);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 10);
	nh_wr32(t->h, E1000_RDLEN, 0);
	nh_wr32(t->h, E1000_RDH, 0);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	e1000_stats(t->d, &st);
	assert_int_equal(st.ring_errors, 2);
	/* Buffers aimed at the BAR and beyond RAM: descriptor marked RXE. */
	nh_wr32(t->h, E1000_RDLEN, NDESC * 16);
	nh_put_le(rxd(t, 0), t->h->mmio, 8);
	nh_put_le(rxd(t, 1), NH_RAM - 10, 8);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_true(rxd(t, 0)[13] & E1000_RXD_ERR_RXE);
	assert_true(rxd(t, 1)[13] & E1000_RXD_ERR_RXE);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 2);
	/* Runt, and receiver off. */
	assert_int_equal(e1000_receive(t->d, f, 10, NULL), 0);
	nh_wr32(t->h, E1000_RCTL, 0);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 2);
	/* A ring beyond RAM. */
	nh_wr32(t->h, E1000_RCTL, E1000_RCTL_EN);
	nh_wr32(t->h, E1000_RDBAL, 0xfffff000);
	nh_wr32(t->h, E1000_RDBAH, 0xffffffff);
	assert_int_equal(e1000_receive(t->d, f, len, NULL), 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 2);
}

static void test_itr(void **state)
{
	struct t *t = *state;

	bring_up(t, 0);
	nh_wr32(t->h, E1000_ITR, 1000);	/* 256 us between interrupts */
	nh_wr32(t->h, E1000_ICS, E1000_ICR_RXT0);
	assert_int_equal(nh_intx(t->h), 1);
	(void)nh_rd32(t->h, E1000_ICR);
	assert_int_equal(nh_intx(t->h), 0);
	t->h->now += 100000;	/* 100 us later: held back */
	nh_wr32(t->h, E1000_ICS, E1000_ICR_RXT0);
	assert_int_equal(nh_intx(t->h), 0);
	assert_int_equal(t->h->timer_arms, 1);
	assert_int_equal(t->h->timer_ns, 156000);
	t->h->now += 156000;
	e1000_timer_fire(t->d);
	assert_int_equal(nh_intx(t->h), 1);
	/* Without ITR, at once. */
	(void)nh_rd32(t->h, E1000_ICR);
	nh_wr32(t->h, E1000_ITR, 0);
	nh_wr32(t->h, E1000_ICS, E1000_ICR_RXT0);
	assert_int_equal(nh_intx(t->h), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_probe_and_eeprom),
		T(test_phy_and_link),
		T(test_unknown_register_and_io_bar),
		T(test_tx_legacy_and_irq),
		T(test_tx_csum_offload),
		T(test_tso),
		T(test_tso_hostile),
		T(test_tx_ring_hostile),
		T(test_tx_backend_full),
		T(test_rx),
		T(test_rx_csum_vlan),
		T(test_rx_hostile),
		T(test_itr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
