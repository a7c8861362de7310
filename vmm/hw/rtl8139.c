// SPDX-License-Identifier: MIT
/* rtl8139.c - RTL8139C/C+ registers, 93C46 EEPROM, PHY, interrupts and PCI glue. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/nic_attach.h"
#include "vmm/hw/nic_offload.h"
#include "vmm/hw/rtl8139.h"
#include "vmm/vm.h"

LOG_MODULE("rtl8139");

static uint64_t now_ns(struct rtl8139 *d)
{
	struct timespec ts;

	if (d->host.now_ns)
		return d->host.now_ns(d->host.opaque);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t rtl_get(const struct rtl8139 *d, unsigned int off, unsigned int n)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < n && off + i < RTL_REGS_SIZE; i++)
		v |= (uint32_t)d->regs[off + i] << (8 * i);
	return v;
}

void rtl_set(struct rtl8139 *d, unsigned int off, uint32_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && off + i < RTL_REGS_SIZE; i++)
		d->regs[off + i] = (uint8_t)(v >> (8 * i));
}

void rtl_log_once(struct rtl8139 *d, unsigned int cause, const char *what)
{
	if (d->logged & (1u << cause))
		return;
	d->logged |= 1u << cause;
	log_warn(MOD, "%s: %s (logged once)", d->pci.name, what);
}

bool rtl_bus_master(struct rtl8139 *d)
{
	if (pci_dev_cfg_read(&d->pci, PCI_CFG_COMMAND, 2) & PCI_CMD_MASTER)
		return true;
	rtl_log_once(d, RTL_LOG_NO_MASTER,
		     "DMA asked for with bus mastering off: refused");
	return false;
}

static void update_irq(struct rtl8139 *d)
{
	bool want = (rtl_get(d, RTL_ISR, 2) & rtl_get(d, RTL_IMR, 2)) != 0;

	if (want && !d->irq_level) {
		d->irq_level = true;
		pci_dev_irq_raise(&d->pci, 0);
	} else if (!want && d->irq_level) {
		d->irq_level = false;
		pci_dev_irq_lower(&d->pci);
	}
}

void rtl_isr_set(struct rtl8139 *d, uint16_t bits)
{
	rtl_set(d, RTL_ISR, rtl_get(d, RTL_ISR, 2) | bits, 2);
	update_irq(d);
}

static void ee_contents(struct rtl8139 *d)
{
	uint16_t w[RTL_EE_WORDS];
	unsigned int i;

	memset(w, 0, sizeof(w));
	w[0] = RTL_EE_ID;
	w[1] = RTL_VENDOR;
	w[2] = RTL_DEVICE;
	w[3] = RTL_VENDOR;
	w[4] = RTL_DEVICE;
	w[5] = 0x4020;	/* max latency, min grant */
	for (i = 0; i < 3; i++)
		w[RTL_EE_MAC + i] = (uint16_t)(d->mac[2 * i] |
					       d->mac[2 * i + 1] << 8);
	eeprom93_init(&d->ee, 6, w);
}

static void phy_link(struct rtl8139 *d)
{
	uint16_t bmsr = RTL_BMSR_BASE;

	if (d->link_up) {
		bmsr |= RTL_BMSR_LINK;
		if (rtl_get(d, RTL_BMCR, 2) & RTL_BMCR_AN_ENABLE)
			bmsr |= RTL_BMSR_AN_DONE;
		rtl_set(d, RTL_ANLPAR, 0x41e1, 2);
		rtl_set(d, RTL_ANER, 0x0001, 2);
	} else {
		rtl_set(d, RTL_ANLPAR, 0, 2);
		rtl_set(d, RTL_ANER, 0, 2);
	}
	rtl_set(d, RTL_BMSR, bmsr, 2);
}

static void phy_reset(struct rtl8139 *d)
{
	rtl_set(d, RTL_BMCR, 0x3100, 2);	/* 100 Mb/s, AN, full duplex */
	rtl_set(d, RTL_ANAR, 0x01e1, 2);
	phy_link(d);
}

/* CR.RST: the chip's soft reset (MAC address and PHY stay). */
static void soft_reset(struct rtl8139 *d)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		rtl_set(d, RTL_TSD0 + 4 * i, RTL_TSD_OWN, 4);
	rtl_set(d, RTL_CR, RTL_CR_BUFE, 1);
	rtl_set(d, RTL_IMR, 0, 2);
	rtl_set(d, RTL_ISR, 0, 2);
	rtl_set(d, RTL_CAPR, 0xfff0, 2);
	rtl_set(d, RTL_CBR, 0, 2);
	rtl_set(d, RTL_TCR, 0, 4);
	rtl_set(d, RTL_RCR, 0, 4);
	rtl_set(d, RTL_CPCMD, 0, 2);
	d->cp_tx_idx = d->cp_txhp_idx = d->cp_rx_idx = 0;
	d->tx_len = 0;
	d->tx_nfrag = 0;
	d->tx_in_packet = d->tx_bad = false;
	d->tx_doorbells = 0;
	d->tx_next = 0;
	update_irq(d);
}

static void power_on(struct rtl8139 *d)
{
	memset(d->regs, 0, sizeof(d->regs));
	memcpy(d->regs + RTL_IDR0, d->mac, 6);
	rtl_set(d, RTL_CONFIG1, 0x0c, 1);	/* I/O and memory mapped */
	rtl_set(d, RTL_CSCR, 0x0740, 2);
	eeprom93_reset(&d->ee);
	phy_reset(d);
	d->tctr_base_ns = now_ns(d);
	soft_reset(d);
}

static unsigned int rx_ring_size(const struct rtl8139 *d)
{
	return 8192u << ((rtl_get(d, RTL_RCR, 4) >> RTL_RCR_RBLEN_SHIFT) & 3);
}

/* Width of the register that starts at @off (1 if none starts there). */
static unsigned int reg_width(unsigned int off)
{
	switch (off) {
	case RTL_TSD0: case RTL_TSD0 + 4: case RTL_TSD0 + 8: case RTL_TSD0 + 12:
	case RTL_TSAD0: case RTL_TSAD0 + 4: case RTL_TSAD0 + 8:
	case RTL_TSAD0 + 12: case RTL_RBSTART: case RTL_TCR: case RTL_RCR:
	case RTL_TCTR: case RTL_MPC: case RTL_TIMERINT: case RTL_PHY1_PARM:
	case RTL_TW_PARM: case 0xd4: case RTL_RDSAR: case RTL_RDSAR + 4:
		return 4;
	case RTL_ERBCR: case RTL_CAPR: case RTL_CBR: case RTL_IMR: case RTL_ISR:
	case RTL_MULINT: case RTL_TSAD: case RTL_BMCR: case RTL_BMSR:
	case RTL_ANAR: case RTL_ANLPAR: case RTL_ANER: case RTL_DIS:
	case RTL_FCSC: case RTL_NWAYTR: case RTL_REC: case RTL_CSCR:
	case RTL_RXMAXSIZE: case RTL_CPCMD: case RTL_INTRMITIGATE:
		return 2;
	}
	return 1;
}

/* The register holding byte @off: its first byte. */
static unsigned int reg_base(unsigned int off)
{
	unsigned int b;

	for (b = off & ~3u; b <= off; b++)
		if (reg_width(b) > off - b)
			return b;
	return off;
}

static bool reg_known(const struct rtl8139 *d, unsigned int off)
{
	/* 0x06-0x07: drivers write the MAC as two dwords. */
	if (off < 0x08 || (off >= 0x08 && off < 0x53) ||
	    (off >= 0x54 && off < 0x5f) ||
	    (off >= 0x60 && off < 0x76) || (off >= 0x78 && off < 0x81) ||
	    (off >= 0x84 && off <= RTL_CONFIG5))
		return true;
	if (!d->cplus)
		return false;
	return off == RTL_TPPOLL || off == RTL_RXMAXSIZE ||
	       off == RTL_RXMAXSIZE + 1 || (off >= RTL_CPCMD &&
					   off <= RTL_TXTHRESH);
}

/* Reads 0, writes are ignored; counted, the first one logged. */
static void unknown_reg(struct rtl8139 *d, unsigned int off, bool write)
{
	d->stats.unknown_regs++;
	if (d->logged & (1u << RTL_LOG_UNKNOWN_REG))
		return;
	d->logged |= 1u << RTL_LOG_UNKNOWN_REG;
	log_warn(MOD, "%s: guest %s register 0x%02x, which the model does not have (it reads 0; further ones are only counted)",
		 d->pci.name, write ? "wrote" : "read", off);
}

static uint32_t tsad_summary(const struct rtl8139 *d)
{
	uint32_t v = 0, tsd;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		tsd = rtl_get(d, RTL_TSD0 + 4 * i, 4);
		v |= (tsd & RTL_TSD_OWN ? 1u : 0) << i;
		v |= (tsd & RTL_TSD_TABT ? 1u : 0) << (4 + i);
		v |= (tsd & RTL_TSD_TUN ? 1u : 0) << (8 + i);
		v |= (tsd & RTL_TSD_TOK ? 1u : 0) << (12 + i);
	}
	return v;
}

static uint32_t reg_read(struct rtl8139 *d, unsigned int off, unsigned int w)
{
	uint32_t v;

	switch (off) {
	case RTL_CR:
		v = rtl_get(d, off, 1) & ~RTL_CR_BUFE;
		if ((rtl_get(d, RTL_CAPR, 2) + 16u) % rx_ring_size(d) ==
		    rtl_get(d, RTL_CBR, 2) % rx_ring_size(d))
			v |= RTL_CR_BUFE;
		return v;
	case RTL_TCR:
		return (rtl_get(d, off, 4) & ~(uint32_t)RTL_HWREV_MASK) |
		       (d->cplus ? RTL_HWREV_CPLUS : RTL_HWREV_C);
	case RTL_TCTR:
		/* A 32-bit counter at the 33 MHz PCI clock. */
		return (uint32_t)((now_ns(d) - d->tctr_base_ns) * 33 / 1000);
	case RTL_9346CR:
		v = rtl_get(d, off, 1) & ~RTL_9346_EEDO;
		if ((v >> RTL_9346_EEM_SHIFT) == RTL_9346_EEM_PROGRAM &&
		    eeprom93_dout(&d->ee))
			v |= RTL_9346_EEDO;
		return v;
	case RTL_MSR:
		return (rtl_get(d, off, 1) & 0xc0) |
		       (d->link_up ? 0 : RTL_MSR_LINKB);
	case RTL_TSAD:
		return tsad_summary(d);
	case RTL_CSCR:
		v = (rtl_get(d, off, 2) &
		     ~(uint32_t)(RTL_CSCR_LINK_OK | RTL_CSCR_LINK_CHANGE)) |
		    (d->link_up ? RTL_CSCR_LINK_OK : 0) |
		    (d->link_changed ? RTL_CSCR_LINK_CHANGE : 0);
		d->link_changed = false;
		return v;
	case RTL_TPPOLL:
		return 0;
	}
	if (!reg_known(d, off)) {
		unknown_reg(d, off, false);
		return 0;
	}
	return rtl_get(d, off, w);
}

/* The dump-tally command of C+ mode: 64 bytes of counters to the guest. */
static void dump_tally(struct rtl8139 *d, uint32_t lo)
{
	uint64_t gpa = (uint64_t)rtl_get(d, RTL_TSD0 + 4, 4) << 32 |
		       (lo & ~0x3fu);
	uint8_t t[64];

	memset(t, 0, sizeof(t));
	memcpy(t + 0, &d->stats.tx_frames, 8);	/* TxOk (x86: little endian) */
	memcpy(t + 8, &d->stats.rx_frames, 8);	/* RxOk */
	if (rtl_bus_master(d) && guest_mem_write(d->mem, gpa, t, sizeof(t)))
		d->stats.dma_errors++;
	rtl_set(d, RTL_TSD0, lo & ~RTL_DUMP_STATS, 4);
}

static void reg_write(struct rtl8139 *d, unsigned int off, uint32_t v,
		      unsigned int w)
{
	uint32_t old;

	switch (off) {
	case RTL_TSD0: case RTL_TSD0 + 4: case RTL_TSD0 + 8: case RTL_TSD0 + 12:
		if (d->cplus && (rtl_get(d, RTL_CPCMD, 2) & RTL_CPCMD_TXEN) &&
		    off < RTL_TSD0 + 8) {
			/* C+: the dump-tally address. */
			if (off == RTL_TSD0 && (v & RTL_DUMP_STATS))
				dump_tally(d, v);
			else
				rtl_set(d, off, v, 4);
			return;
		}
		rtl_set(d, off, v & 0x003f1fffu, 4);	/* size, threshold */
		d->tx_doorbells |= (uint8_t)(1u << ((off - RTL_TSD0) / 4));
		d->tx_pending = true;
		return;
	case RTL_CR:
		if (v & RTL_CR_RST) {
			soft_reset(d);
			return;
		}
		old = rtl_get(d, off, 1);
		if ((v & RTL_CR_RE) && !(old & RTL_CR_RE)) {
			/* The receiver starts at the top of its ring. */
			rtl_set(d, RTL_CBR, 0, 2);
			rtl_set(d, RTL_CAPR, 0xfff0, 2);
		}
		rtl_set(d, off, v & (RTL_CR_RE | RTL_CR_TE), 1);
		if ((v & RTL_CR_TE) && !(old & RTL_CR_TE)) {
			d->tx_doorbells |= 0xf;
			d->tx_pending = true;
		}
		return;
	case RTL_ISR:
		rtl_set(d, off, rtl_get(d, off, 2) & ~v, 2);
		update_irq(d);
		return;
	case RTL_IMR:
		rtl_set(d, off, v, 2);
		update_irq(d);
		return;
	case RTL_TCR:
		rtl_set(d, off, v & ~(uint32_t)RTL_HWREV_MASK & ~1u, 4);
		return;
	case RTL_TCTR:
		d->tctr_base_ns = now_ns(d);
		return;
	case RTL_MPC:
		rtl_set(d, off, 0, 4);
		return;
	case RTL_9346CR:
		rtl_set(d, off, v & 0xce, 1);
		switch ((v >> RTL_9346_EEM_SHIFT) & 3) {
		case RTL_9346_EEM_PROGRAM:
			eeprom93_pins(&d->ee, v & RTL_9346_EECS,
				      v & RTL_9346_EESK, v & RTL_9346_EEDI);
			break;
		case RTL_9346_EEM_AUTOLOAD:
			memcpy(d->regs + RTL_IDR0, d->mac, 6);
			rtl_set(d, off, 0, 1);
			/* fall through */
		default:
			eeprom93_reset(&d->ee);
		}
		return;
	case RTL_BMCR:
		if (v & RTL_BMCR_RESET) {
			phy_reset(d);
			return;
		}
		rtl_set(d, off, v & ~RTL_BMCR_RESTART_AN, 2);
		phy_link(d);
		return;
	case RTL_CBR: case RTL_TSAD: case RTL_BMSR: case RTL_ANLPAR:
	case RTL_ANER: case RTL_CONFIG0: case RTL_RERID:
		return;		/* read-only */
	case RTL_MSR:
		rtl_set(d, off, v & 0xc0, 1);
		return;
	case RTL_TPPOLL:
		if (!d->cplus)
			break;
		if (v & RTL_TPPOLL_FSWINT)
			rtl_isr_set(d, RTL_ISR_SWINT);
		if (v & (RTL_TPPOLL_NPQ | RTL_TPPOLL_HPQ)) {
			d->tx_doorbells |= (v & RTL_TPPOLL_NPQ ? 0x10 : 0) |
					   (v & RTL_TPPOLL_HPQ ? 0x20 : 0);
			d->tx_pending = true;
		}
		return;
	case RTL_CPCMD:
		if (!d->cplus)
			break;
		old = rtl_get(d, off, 2);
		if ((v & RTL_CPCMD_TXEN) && !(old & RTL_CPCMD_TXEN))
			d->cp_tx_idx = d->cp_txhp_idx = 0;
		if ((v & RTL_CPCMD_RXEN) && !(old & RTL_CPCMD_RXEN))
			d->cp_rx_idx = 0;
		rtl_set(d, off, v & 0x7b, 2);
		return;
	}
	if (!reg_known(d, off)) {
		unknown_reg(d, off, true);
		return;
	}
	rtl_set(d, off, v, w);
}

/*
 * Accesses of any size at any offset: each register they cover is read or
 * written whole (narrower writes merge into its stored value first).
 */
static void regs_read(struct rtl8139 *d, unsigned int off, uint8_t *data,
		      unsigned int len)
{
	unsigned int i = 0, base, w;
	uint32_t v;

	while (i < len) {
		base = reg_base(off + i);
		w = reg_width(base);
		v = reg_read(d, base, w);
		for (; i < len && off + i < base + w; i++)
			data[i] = (uint8_t)(v >> (8 * (off + i - base)));
	}
}

static void regs_write(struct rtl8139 *d, unsigned int off,
		       const uint8_t *data, unsigned int len)
{
	unsigned int i = 0, base, w, k;
	uint32_t v;

	while (i < len) {
		base = reg_base(off + i);
		w = reg_width(base);
		v = rtl_get(d, base, w);
		for (; i < len && off + i < base + w; i++) {
			k = off + i - base;
			v = (v & ~(0xffu << (8 * k))) | (uint32_t)data[i] << (8 * k);
		}
		reg_write(d, base, v, w);
	}
}

static void rtl_bar_read(struct pci_dev *pci, int bar, uint64_t off,
			 uint8_t *data, unsigned int len)
{
	struct rtl8139 *d = pci->priv;

	pthread_mutex_lock(&d->lock);
	regs_read(d, (unsigned int)off, data, len);
	pthread_mutex_unlock(&d->lock);
}

/* The transmit work a doorbell asked for (lock held). */
static void tx_run(struct rtl8139 *d)
{
	uint8_t bells = d->tx_doorbells;

	d->tx_doorbells = 0;
	d->tx_pending = false;
	if (bells & 0xf)
		rtl_tx_slots(d);
	if (bells & 0x20)
		rtl_cp_tx(d, true);
	if (bells & 0x10)
		rtl_cp_tx(d, false);
}

static void rtl_bar_write(struct pci_dev *pci, int bar, uint64_t off,
			  const uint8_t *data, unsigned int len)
{
	struct rtl8139 *d = pci->priv;
	bool kick, doorbell = false;

	pthread_mutex_lock(&d->lock);
	/*
	 * CAPR moved, the receiver (re)started, or (C+: 8139cp refills its
	 * ring in memory and then acknowledges ISR) the driver acked:
	 * room for held frames.
	 */
	kick = (off <= RTL_CAPR + 1 && off + len > RTL_CAPR) ||
	       (off <= RTL_ISR + 1 && off + len > RTL_ISR) ||
	       (off <= RTL_CR && off + len > RTL_CR) ||
	       (off <= RTL_CPCMD && off + len > RTL_CPCMD) ||
	       (off <= RTL_TPPOLL && off + len > RTL_TPPOLL);
	regs_write(d, (unsigned int)off, data, len);
	if (d->tx_pending) {
		if (d->host.tx_doorbell)
			doorbell = true;
		else
			tx_run(d);
	}
	pthread_mutex_unlock(&d->lock);
	hw_nic_host_notify(&d->host, doorbell, kick);
}

void rtl8139_tx_poll(struct rtl8139 *d)
{
	pthread_mutex_lock(&d->lock);
	d->tx_blocked = false;
	tx_run(d);
	pthread_mutex_unlock(&d->lock);
}

static void rtl_pci_reset(struct pci_dev *pci)
{
	struct rtl8139 *d = pci->priv;

	pthread_mutex_lock(&d->lock);
	power_on(d);
	pthread_mutex_unlock(&d->lock);
}

static void rtl_destroy(struct pci_dev *pci)
{
	struct rtl8139 *d = pci->priv;

	hw_nic_model_destroy(&d->host, MOD, d->pci.name, &d->stats, &d->lock,
			     &d->buf);
	free(d);
}

static const struct pci_dev_ops rtl_pci_ops = {
	.bar_read = rtl_bar_read,
	.bar_write = rtl_bar_write,
	.reset = rtl_pci_reset,
	.destroy = rtl_destroy,
};

struct rtl8139 *rtl8139_new(struct pci_bus *bus, const struct guest_mem *mem,
			    const uint8_t mac[6], bool cplus,
			    const struct hw_nic_host *host)
{
	struct rtl8139 *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return NULL;
	r = hw_nic_bufs_alloc(&d->buf, RTL_CP_TX_BUF, RTL_MAX_FRAME);
	if (r)
		goto err_free;
	pthread_mutex_init(&d->lock, NULL);
	d->mem = mem;
	d->host = *host;
	d->cplus = cplus;
	memcpy(d->mac, mac, 6);
	d->link_up = true;
	ee_contents(d);
	pci_dev_init(&d->pci, cplus ? "rtl8139" : "rtl8139c", &rtl_pci_ops, d,
		     RTL_VENDOR, RTL_DEVICE, RTL_CLASS,
		     cplus ? RTL_REV_CPLUS : RTL_REV_C, RTL_VENDOR, RTL_DEVICE);
	r = pci_dev_set_bar(&d->pci, 0, PCI_BAR_PIO, RTL_REGS_SIZE, false);
	if (!r)
		r = pci_dev_set_bar(&d->pci, 1, PCI_BAR_MMIO32, RTL_REGS_SIZE,
				    false);
	if (r)
		goto err_lock;
	power_on(d);
	r = pci_bus_add(bus, &d->pci);
	if (r < 0)
		goto err_lock;
	return d;

err_lock:
	pthread_mutex_destroy(&d->lock);
err_free:
	hw_nic_bufs_free(&d->buf);
	free(d);
	errno = -r;
	return NULL;
}

void rtl8139_set_link(struct rtl8139 *d, bool up)
{
	pthread_mutex_lock(&d->lock);
	if (d->link_up == up) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	d->link_up = up;
	d->link_changed = true;
	phy_link(d);
	rtl_isr_set(d, RTL_ISR_LINKCHG);
	pthread_mutex_unlock(&d->lock);
	hw_nic_host_notify(&d->host, false, up);
}

void rtl8139_stats(struct rtl8139 *d, struct hw_nic_stats *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->stats;
	pthread_mutex_unlock(&d->lock);
}

int rtl8139_receive(struct rtl8139 *d, const uint8_t *frame, size_t len,
		    const struct frame_offload *off)
{
	bool valid;
	int r;

	pthread_mutex_lock(&d->lock);
	r = hw_nic_rx_offload(&d->buf, RTL_MAX_FRAME, &frame, len, off,
			      &valid);
	if (r)
		d->stats.rx_dropped++;
	else
		r = rtl_rx_frame(d, frame, len, valid);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* On the NIC backend seam: --nic net=NAME,model=rtl8139|rtl8139c. */
static int nic_receive(void *dev, const uint8_t *frame, size_t len,
		       const struct frame_offload *off)
{
	return rtl8139_receive(dev, frame, len, off);
}

static void nic_set_link(void *dev, bool up)
{
	rtl8139_set_link(dev, up);
}

static void nic_tx_poll(void *dev)
{
	rtl8139_tx_poll(dev);
}

const struct hw_nic_model_ops rtl8139_nic_ops = {
	.receive = nic_receive,
	.set_link = nic_set_link,
	.tx_poll = nic_tx_poll,
};

/* model=rtl8139: C+ mode (8139cp); model=rtl8139c: an RTL8139C (8139too). */
static void *rtl8139_make(struct vm *vm, const struct nic_config *cfg,
			  const struct hw_nic_host *host)
{
	return rtl8139_new(vm->pci, &vm->mem, cfg->mac,
			   strcmp(cfg->model, "rtl8139c") != 0, host);
}

int rtl8139_create(struct vm *vm, const struct nic_config *cfg)
{
	return hw_nic_model_create(vm, cfg, cfg->model, rtl8139_make,
				   &rtl8139_nic_ops);
}
