/* SPDX-License-Identifier: MIT */
/* hw_e1000.c - fuzz the e1000 model: register writes, descriptor and buffer contents, frames, link. */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fd_check.h"
#include "tests/fuzz/nic_fuzz.h"
#include "vmm/hw/e1000.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The registers a driver (or an attacker) pokes, for the selector byte. */
static const uint16_t regs[] = {
	E1000_CTRL, E1000_STATUS, E1000_EECD, E1000_EERD, E1000_MDIC,
	E1000_ICR, E1000_ITR, E1000_ICS, E1000_IMS, E1000_IMC, E1000_RCTL,
	E1000_TCTL, E1000_RDBAL, E1000_RDBAH, E1000_RDLEN, E1000_RDH,
	E1000_RDT, E1000_TDBAL, E1000_TDBAH, E1000_TDLEN, E1000_TDH,
	E1000_TDT, E1000_TDT, E1000_TDT, E1000_RDT, E1000_RXCSUM, E1000_MTA,
	E1000_RA, E1000_RA + 4, E1000_VFTA, E1000_VET, E1000_GPRC,
	E1000_GORCH, E1000_TSCTFC, E1000_CTRL_EXT, E1000_TXDCTL,
};

static void rx(void *dev, const uint8_t *f, size_t len)
{
	struct frame_offload off = { 0 };

	if (len > 40 && (f[len - 1] & 1)) {
		off.flags = FRAME_F_NEEDS_CSUM;
		off.csum_start = f[len - 2];
		off.csum_offset = f[len - 3];
	}
	(void)e1000_receive(dev, f, len, (len & 2) ? &off : NULL);
}

static void link(void *dev, bool up)
{
	e1000_set_link(dev, up);
}

static void timer(void *dev)
{
	e1000_timer_fire(dev);
}

static void tx_poll(void *dev)
{
	e1000_tx_poll(dev);
}

static const struct nf_target target = {
	.regs = regs,
	.nregs = sizeof(regs) / sizeof(regs[0]),
	.bar_size = E1000_MMIO_SIZE,
	.mmio = true,
	.receive = rx,
	.set_link = link,
	.timer = timer,
	.tx_poll = tx_poll,
};

/* What e1000_configure() leaves: rings in the window, RX/TX on. */
static void bring_up(struct nf_env *e)
{
	static const uint32_t init[][2] = {
		{ E1000_TDBAL, NF_WIN }, { E1000_TDLEN, 256 },
		{ E1000_RDBAL, NF_WIN + 0x1000 }, { E1000_RDLEN, 256 },
		{ E1000_RDT, 15 }, { E1000_TCTL, E1000_TCTL_EN },
		{ E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_UPE },
		{ E1000_IMS, 0xffff },
	};
	unsigned int i;

	for (i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		nf_reg(e, &target, init[i][0], 4, init[i][1], true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	struct nf_env e;
	struct hw_nic_host host;
	struct e1000 *d;

	if (nf_env_init(&e))
		abort();
	host = nf_host(&e);
	d = e1000_new(&e.bus, &e.vm.mem, mac, &host);
	if (!d)
		abort();
	e.dev = d;
	nf_env_map(&e, &d->pci);
	/* First byte: bit 0 starts from a driver's bring-up state. */
	if (size && (data[0] & 1))
		bring_up(&e);
	if (size)
		nf_run(&e, &target, data + 1, size - 1);
	if (d->tx_len > E1000_TX_BUF)
		abort();
	nf_env_destroy(&e);
	fd_check_no_leak();
	return 0;
}
