/* SPDX-License-Identifier: MIT */
/* test_nic_attach.c - the e1000 and rtl8139 models on the NIC backend seam: doorbells, refills, back-pressure and carrier through a test backend. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/nic_harness.h"
#include "vmm/hw/e1000.h"
#include "vmm/hw/nic_attach.h"
#include "vmm/hw/rtl8139.h"

/*
 * The test backend: frames the test queues come out of rx_next, frames the
 * model commits are kept; @room limits tx_alloc; the carrier is set with
 * nic_backend_set_link(), as a real backend does from its poll.
 */
enum { TB_MAX = 64 };

struct tb {
	uint8_t in[TB_MAX][2048];
	size_t in_len[TB_MAX];
	unsigned int in_head, in_tail;
	uint8_t out[TB_MAX][2048];
	size_t out_len[TB_MAX];
	unsigned int nout, flushes;
	int room;		/* < 0: unlimited */
	uint8_t slot[65600];
};

static struct tb tb;

static int tb_open(struct nic_backend *nb, const struct nic_config *cfg,
		   const char *model, uint32_t want)
{
	nb->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	nb->caps = 0;
	nb->link_up = true;
	return nb->notify_fd < 0 ? -errno : 0;
}

static void tb_close(struct nic_backend *nb)
{
	close(nb->notify_fd);
}

static void tb_poll(struct nic_backend *nb)
{
}

static uint8_t *tb_tx_alloc(struct nic_backend *nb, uint32_t len)
{
	if (tb.room == 0)
		return NULL;
	return tb.slot;
}

static void tb_tx_commit(struct nic_backend *nb, uint32_t len,
			 const struct frame_offload *off)
{
	/* The models never hand over offloads. */
	assert_true(!off || (!off->flags && off->gso_type == FRAME_GSO_NONE));
	if (tb.room > 0)
		tb.room--;
	if (tb.nout < TB_MAX && len <= sizeof(tb.out[0])) {
		memcpy(tb.out[tb.nout], tb.slot, len);
		tb.out_len[tb.nout] = len;
	}
	tb.nout++;
}

static void tb_tx_flush(struct nic_backend *nb)
{
	tb.flushes++;
}

static int tb_rx_next(struct nic_backend *nb, struct nic_frame *f)
{
	if (tb.in_head == tb.in_tail)
		return 0;
	memset(f, 0, sizeof(*f));
	f->data = tb.in[tb.in_head % TB_MAX];
	f->len = (uint32_t)tb.in_len[tb.in_head % TB_MAX];
	return 1;
}

static void tb_rx_done(struct nic_backend *nb)
{
	tb.in_head++;
}

static void tb_rx_flush(struct nic_backend *nb)
{
}

static const struct nic_backend_ops tb_ops = {
	.name = "test",
	.open = tb_open,
	.close = tb_close,
	.poll = tb_poll,
	.tx_alloc = tb_tx_alloc,
	.tx_commit = tb_tx_commit,
	.tx_flush = tb_tx_flush,
	.rx_next = tb_rx_next,
	.rx_done = tb_rx_done,
	.rx_flush = tb_rx_flush,
};

static void tb_push(const uint8_t *f, size_t len)
{
	memcpy(tb.in[tb.in_tail % TB_MAX], f, len);
	tb.in_len[tb.in_tail % TB_MAX] = len;
	tb.in_tail++;
}

static const uint8_t mac[6] = { 0x52, 0x4c, 1, 2, 3, 4 };
static const uint8_t peer[6] = { 0x52, 0x4c, 9, 9, 9, 9 };

struct t {
	struct nh *h;
	struct hw_nic_attach *a;
	void *dev;
};

static struct t *attach(bool is_e1000, const char *model)
{
	struct t *t = calloc(1, sizeof(*t));
	struct nic_config cfg;
	struct hw_nic_host host;

	assert_non_null(t);
	memset(&tb, 0, sizeof(tb));
	tb.room = -1;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.net, sizeof(cfg.net), "lan");
	snprintf(cfg.port, sizeof(cfg.port), "vm1");
	snprintf(cfg.model, sizeof(cfg.model), "%s", model);
	memcpy(cfg.mac, mac, 6);
	t->h = nh_new();
	assert_int_equal(hw_nic_attach_open(&t->a, NULL, &cfg, model, &tb_ops,
					    &host), 0);
	if (is_e1000) {
		t->dev = e1000_new(&t->h->bus, &t->h->vm.mem, mac, &host);
		assert_non_null(t->dev);
		assert_int_equal(nh_find(t->h, 0x8086, 0x100e), 0);
		assert_int_equal(hw_nic_attach_start(t->a, &e1000_nic_ops,
						     t->dev, false), 0);
	} else {
		t->dev = rtl8139_new(&t->h->bus, &t->h->vm.mem, mac,
				     strcmp(model, "rtl8139c"), &host);
		assert_non_null(t->dev);
		assert_int_equal(nh_find(t->h, 0x10ec, 0x8139), 0);
		assert_int_equal(hw_nic_attach_start(t->a, &rtl8139_nic_ops,
						     t->dev, false), 0);
	}
	return t;
}

static void detach(struct t *t)
{
	/* The bus destroys the model, whose destroy op closes the attachment. */
	nh_free(t->h);
	free(t);
}

enum { TX_RING = 0x10000, RX_RING = 0x20000, BUFS = 0x100000 };

static void e1000_up(struct t *t, unsigned int rx_bufs)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		nh_put_le(nh_ram(t->h, RX_RING + 16 * i, 8),
			  BUFS + 0x1000 * (i + 16), 8);
	nh_wr32(t->h, E1000_TDBAL, TX_RING);
	nh_wr32(t->h, E1000_TDLEN, 256);
	nh_wr32(t->h, E1000_TCTL, E1000_TCTL_EN);
	nh_wr32(t->h, E1000_RDBAL, RX_RING);
	nh_wr32(t->h, E1000_RDLEN, 256);
	nh_wr32(t->h, E1000_RDT, rx_bufs);
	nh_wr32(t->h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC);
	nh_wr32(t->h, E1000_IMS, E1000_ICR_LSC | E1000_ICR_RXT0);
}

static void e1000_send(struct t *t, unsigned int slot, size_t len)
{
	uint8_t *d = nh_ram(t->h, TX_RING + 16 * slot, 16);
	uint8_t *b = nh_ram(t->h, BUFS + 0x1000 * slot, len);

	nh_tcp_frame(b, peer, mac, slot, 0x10, len - 54, 1);
	memset(d, 0, 16);
	nh_put_le(d, BUFS + 0x1000 * slot, 8);
	nh_put_le(d + 8, len, 2);
	d[11] = E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS;
}

static void test_e1000_seam(void **state)
{
	struct t *t = attach(true, "e1000");
	uint8_t f[200];
	size_t len = nh_tcp_frame(f, mac, peer, 1, 0x10, 100, 1);
	unsigned int i;

	e1000_up(t, 2);
	/* TX: the doorbell only signals; the I/O thread's round sends. */
	e1000_send(t, 0, 100);
	e1000_send(t, 1, 120);
	nh_wr32(t->h, E1000_TDT, 2);
	assert_int_equal(tb.nout, 0);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.nout, 2);
	assert_int_equal(tb.out_len[1], 120);
	assert_true(tb.flushes >= 1);
	/* Backend full: the pass stops; room again resumes it. */
	e1000_send(t, 2, 100);
	e1000_send(t, 3, 100);
	tb.room = 1;
	nh_wr32(t->h, E1000_TDT, 4);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.nout, 3);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 3);
	tb.room = -1;
	nic_backend_signal_tx(hw_nic_attach_backend(t->a));
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.nout, 4);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 4);

	/* RX: two buffers for five frames; the rest wait in the backend. */
	for (i = 0; i < 5; i++)
		tb_push(f, len);
	hw_nic_attach_run(t->a);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 2);
	assert_int_equal(tb.in_tail - tb.in_head, 3);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.in_tail - tb.in_head, 3);
	/* The guest refills: its RDT write kicks the thread. */
	nh_wr32(t->h, E1000_RDT, 10);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.in_tail - tb.in_head, 0);
	assert_int_equal(nh_rd32(t->h, E1000_RDH), 5);
	assert_memory_equal(nh_ram(t->h, BUFS + 0x1000 * 20, len), f, len);

	/* Carrier: the backend's link change is an LSC interrupt. */
	(void)nh_rd32(t->h, E1000_ICR);
	assert_int_equal(nh_intx(t->h), 0);
	nic_backend_set_link(hw_nic_attach_backend(t->a), false);
	assert_int_equal(nh_intx(t->h), 1);
	assert_false(nh_rd32(t->h, E1000_STATUS) & E1000_STATUS_LU);
	assert_true(nh_rd32(t->h, E1000_ICR) & E1000_ICR_LSC);
	/* Link down: frames the guest sends are dropped, not queued. */
	e1000_send(t, 4, 100);
	nh_wr32(t->h, E1000_TDT, 5);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.nout, 4);
	assert_int_equal(nh_rd32(t->h, E1000_TDH), 5);
	nic_backend_set_link(hw_nic_attach_backend(t->a), true);
	assert_true(nh_rd32(t->h, E1000_STATUS) & E1000_STATUS_LU);
	assert_true(nh_rd32(t->h, E1000_ICR) & E1000_ICR_LSC);
	detach(t);
}

static void test_rtl8139_seam(void **state)
{
	struct t *t = attach(false, "rtl8139");
	uint8_t f[200];
	size_t len = nh_tcp_frame(f, mac, peer, 1, 0x10, 100, 1);
	uint8_t *ring = nh_ram(t->h, BUFS, 8192);

	nh_io_wr(t->h, VM_IO_PIO, t->h->pio + RTL_CR, RTL_CR_RE | RTL_CR_TE, 1);
	nh_io_wr(t->h, VM_IO_PIO, t->h->pio + RTL_RCR, RTL_RCR_APM, 4);
	nh_io_wr(t->h, VM_IO_PIO, t->h->pio + RTL_RBSTART, BUFS, 4);
	nh_io_wr(t->h, VM_IO_PIO, t->h->pio + RTL_IMR, 0xffff, 2);
	/* TX slot 0. */
	memcpy(nh_ram(t->h, BUFS + 0x10000, len), f, len);
	nh_io_wr(t->h, VM_IO_PIO, t->h->pio + RTL_TSAD0, BUFS + 0x10000, 4);
	nh_io_wr(t->h, VM_IO_PIO, t->h->pio + RTL_TSD0, len, 4);
	assert_int_equal(tb.nout, 0);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.nout, 1);
	assert_memory_equal(tb.out[0], f, len);
	/* RX into the ring. */
	tb_push(f, len);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.in_tail - tb.in_head, 0);
	assert_memory_equal(ring + 4, f, len);
	/* Carrier loss: LinkChg, MSR LINKB. */
	nh_io_wr(t->h, VM_IO_PIO, t->h->pio + RTL_ISR, 0xffff, 2);
	nic_backend_set_link(hw_nic_attach_backend(t->a), false);
	assert_true(nh_io_rd(t->h, VM_IO_PIO, t->h->pio + RTL_ISR, 2) &
		    RTL_ISR_LINKCHG);
	assert_true(nh_io_rd(t->h, VM_IO_PIO, t->h->pio + RTL_MSR, 1) &
		    RTL_MSR_LINKB);
	assert_int_equal(nh_intx(t->h), 1);
	detach(t);
}

/*
 * 8139cp refills its RX ring in memory and writes no register for it: a
 * frame the model had no buffer for is looked at again after a short
 * retry delay, and at once when the driver acknowledges ISR.
 */
static void test_rtl8139_cplus_refill_in_memory(void **state)
{
	struct t *t = attach(false, "rtl8139");
	uint8_t f[200];
	size_t len = nh_tcp_frame(f, mac, peer, 1, 0x10, 100, 1);
	uint8_t *d = nh_ram(t->h, BUFS, 16);

	nh_wr32(t->h, RTL_CPCMD, RTL_CPCMD_RXEN | RTL_CPCMD_TXEN);
	nh_wr32(t->h, RTL_RDSAR, BUFS);
	nh_wr32(t->h, RTL_RDSAR + 4, 0);
	nh_io_wr(t->h, VM_IO_MMIO, t->h->mmio + RTL_CR, RTL_CR_RE | RTL_CR_TE, 1);
	nh_wr32(t->h, RTL_RCR, RTL_RCR_APM);
	memset(d, 0, 16);	/* the driver's, not the chip's */
	nh_put_le(d + 8, BUFS + 0x1000, 8);
	tb_push(f, len);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.in_tail - tb.in_head, 1);
	/* Refilled in memory only. */
	nh_put_le(d, RTL_CPD_OWN | RTL_CPD_EOR | 1536, 4);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.in_tail - tb.in_head, 1);	/* not yet */
	usleep(5000);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.in_tail - tb.in_head, 0);
	assert_memory_equal(nh_ram(t->h, BUFS + 0x1000, len), f, len);
	/* Again, this time the ISR acknowledgement brings it in. */
	tb_push(f, len);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.in_tail - tb.in_head, 1);
	nh_put_le(d, RTL_CPD_OWN | RTL_CPD_EOR | 1536, 4);
	nh_io_wr(t->h, VM_IO_MMIO, t->h->mmio + RTL_ISR, 0xffff, 2);
	hw_nic_attach_run(t->a);
	assert_int_equal(tb.in_tail - tb.in_head, 0);
	detach(t);
}

static void test_rtl8139c_identity(void **state)
{
	struct t *t = attach(false, "rtl8139c");

	assert_int_equal(nh_cfg_rd(t->h, PCI_CFG_REVISION, 1), RTL_REV_C);
	detach(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e1000_seam),
		cmocka_unit_test(test_rtl8139_seam),
		cmocka_unit_test(test_rtl8139_cplus_refill_in_memory),
		cmocka_unit_test(test_rtl8139c_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
