/* SPDX-License-Identifier: MIT */
/* hw_rtl8139.c - fuzz the RTL8139C/C+ model: register writes, ring and descriptor contents, frames, link. */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fd_check.h"
#include "tests/fuzz/nic_fuzz.h"
#include "vmm/hw/rtl8139.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t regs[] = {
	RTL_IDR0, RTL_MAR0, RTL_TSD0, RTL_TSD0 + 4, RTL_TSD0 + 8,
	RTL_TSD0 + 12, RTL_TSAD0, RTL_TSAD0 + 4, RTL_TSAD0 + 8,
	RTL_TSAD0 + 12, RTL_RBSTART, RTL_CR, RTL_CAPR, RTL_CAPR, RTL_CBR,
	RTL_IMR, RTL_ISR, RTL_TCR, RTL_RCR, RTL_TCTR, RTL_MPC, RTL_9346CR,
	RTL_9346CR, RTL_CONFIG1, RTL_MSR, RTL_TSAD, RTL_BMCR, RTL_BMSR,
	RTL_TPPOLL, RTL_TPPOLL, RTL_CPCMD, RTL_RDSAR, RTL_RDSAR + 4,
	RTL_RXMAXSIZE, RTL_TXTHRESH,
};

static void rx(void *dev, const uint8_t *f, size_t len)
{
	struct frame_offload off = { 0 };

	if (len > 40 && (f[len - 1] & 1)) {
		off.flags = FRAME_F_NEEDS_CSUM;
		off.csum_start = f[len - 2];
		off.csum_offset = f[len - 3];
	}
	(void)rtl8139_receive(dev, f, len, (len & 2) ? &off : NULL);
}

static void link(void *dev, bool up)
{
	rtl8139_set_link(dev, up);
}

static void timer(void *dev)
{
	(void)dev;
}

static void tx_poll(void *dev)
{
	rtl8139_tx_poll(dev);
}

static const struct nf_target target = {
	.regs = regs,
	.nregs = sizeof(regs) / sizeof(regs[0]),
	.bar_size = RTL_REGS_SIZE,
	.mmio = true,
	.receive = rx,
	.set_link = link,
	.timer = timer,
	.tx_poll = tx_poll,
};

/*
 * First byte: bit 0 an RTL8139C+ (else RTL8139C); bit 1 the 8139too
 * bring-up (ring at the window, RX/TX on); bit 2 the 8139cp one (C+ rings
 * at the window).
 */
static void bring_up(struct nf_env *e, uint8_t how)
{
	static const uint32_t too[][3] = {
		{ RTL_CR, RTL_CR_RE | RTL_CR_TE, 1 },
		{ RTL_RCR, RTL_RCR_AB | RTL_RCR_APM | RTL_RCR_AM | RTL_RCR_WRAP, 4 },
		{ RTL_RBSTART, NF_WIN + 0x4000, 4 }, { RTL_IMR, 0xffff, 2 },
	};
	static const uint32_t cp[][3] = {
		{ RTL_CPCMD, 0x7b, 2 }, { RTL_RDSAR, NF_WIN + 0x1000, 4 },
		{ RTL_TSAD0, NF_WIN, 4 }, { RTL_TSAD0 + 8, NF_WIN + 0x2000, 4 },
		{ RTL_CR, RTL_CR_RE | RTL_CR_TE, 1 },
		{ RTL_RCR, RTL_RCR_AB | RTL_RCR_APM | RTL_RCR_AM, 4 },
		{ RTL_IMR, 0xffff, 2 },
	};
	unsigned int i;

	if (how & 2)
		for (i = 0; i < sizeof(too) / sizeof(too[0]); i++)
			nf_reg(e, &target, too[i][0], too[i][2], too[i][1],
			       true);
	if (how & 4)
		for (i = 0; i < sizeof(cp) / sizeof(cp[0]); i++)
			nf_reg(e, &target, cp[i][0], cp[i][2], cp[i][1], true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	struct nf_env e;
	struct hw_nic_host host;
	struct rtl8139 *d;

	if (nf_env_init(&e))
		abort();
	host = nf_host(&e);
	d = rtl8139_new(&e.bus, &e.vm.mem, mac, size && (data[0] & 1), &host);
	if (!d)
		abort();
	e.dev = d;
	nf_env_map(&e, &d->pci);
	if (size)
		bring_up(&e, data[0]);
	if (size)
		nf_run(&e, &target, data + 1, size - 1);
	if (d->tx_len > RTL_CP_TX_BUF || d->cp_tx_idx >= RTL_CP_RING_MAX ||
	    d->cp_rx_idx >= RTL_CP_RING_MAX)
		abort();
	nf_env_destroy(&e);
	fd_check_no_leak();
	return 0;
}
