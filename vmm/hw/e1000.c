// SPDX-License-Identifier: MIT
/* e1000.c - 82540EM registers, EEPROM, PHY, interrupts and PCI glue. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/e1000.h"
#include "vmm/hw/nic_attach.h"
#include "vmm/hw/nic_offload.h"
#include "vmm/vm.h"

LOG_MODULE("e1000");

static uint64_t now_ns(struct e1000 *d)
{
	struct timespec ts;

	if (d->host.now_ns)
		return d->host.now_ns(d->host.opaque);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t e1000_reg(const struct e1000 *d, unsigned int off)
{
	return d->regs[(off & (E1000_MMIO_SIZE - 1)) / 4];
}

static void reg_set(struct e1000 *d, unsigned int off, uint32_t v)
{
	d->regs[(off & (E1000_MMIO_SIZE - 1)) / 4] = v;
}

void e1000_log_once(struct e1000 *d, unsigned int cause, const char *what)
{
	if (d->logged & (1u << cause))
		return;
	d->logged |= 1u << cause;
	log_warn(MOD, "%s: %s (logged once)", d->pci.name, what);
}

void e1000_stat_add(struct e1000 *d, unsigned int off, uint64_t n)
{
	uint32_t lo;

	if (off == E1000_GORCL || off == E1000_GOTCL || off == E1000_TORL ||
	    off == E1000_TOTL) {
		lo = e1000_reg(d, off);
		reg_set(d, off, (uint32_t)(lo + n));
		if ((uint64_t)lo + n > UINT32_MAX)
			reg_set(d, off + 4, e1000_reg(d, off + 4) + 1);
		return;
	}
	lo = e1000_reg(d, off);
	/* Statistics saturate rather than wrap. */
	reg_set(d, off, (uint64_t)lo + n > UINT32_MAX ? UINT32_MAX :
						(uint32_t)(lo + n));
}

/* Interrupts: the line follows ICR & IMS, paced by ITR (units of 256 ns). */
static void update_irq(struct e1000 *d)
{
	bool want = (e1000_reg(d, E1000_ICR) & e1000_reg(d, E1000_IMS)) != 0;
	uint64_t itr_ns = (uint64_t)(e1000_reg(d, E1000_ITR) & 0xffff) * 256;
	uint64_t now;

	if (want && !d->irq_level) {
		now = now_ns(d);
		if (itr_ns && d->last_irq_ns && now - d->last_irq_ns < itr_ns) {
			if (!d->timer_armed && d->host.timer_arm) {
				d->timer_armed = true;
				d->host.timer_arm(d->host.opaque,
						  itr_ns - (now - d->last_irq_ns));
			}
			return;
		}
		d->irq_level = true;
		d->last_irq_ns = now;
		pci_dev_irq_raise(&d->pci, 0);
	} else if (!want && d->irq_level) {
		d->irq_level = false;
		pci_dev_irq_lower(&d->pci);
	}
}

void e1000_set_ics(struct e1000 *d, uint32_t causes)
{
	reg_set(d, E1000_ICR, e1000_reg(d, E1000_ICR) | (causes & E1000_ICR_VALID));
	update_irq(d);
}

void e1000_timer_fire(struct e1000 *d)
{
	pthread_mutex_lock(&d->lock);
	d->timer_armed = false;
	update_irq(d);
	pthread_mutex_unlock(&d->lock);
}

/* PHY: link and autonegotiation follow the backend's carrier. */
static void phy_update_link(struct e1000 *d)
{
	uint16_t bmsr = BMSR_BASE, pssr = 0;

	if (d->link_up) {
		bmsr |= BMSR_LINK;
		pssr = M88_PSSR_LINK | M88_PSSR_RESOLVED | M88_PSSR_FD |
		       M88_PSSR_1000;
		if (d->phy[MII_BMCR] & BMCR_AN_ENABLE) {
			bmsr |= BMSR_AN_DONE;
			d->phy[MII_ANLPAR] = 0xc1e1; /* 10/100 HD/FD, ack */
			d->phy[MII_GBSR] = 0x3c00;   /* 1000 HD/FD, rx ok */
			d->phy[MII_ANER] = 0x000f;
		}
	} else {
		d->phy[MII_ANLPAR] = 0;
		d->phy[MII_GBSR] = 0;
	}
	d->phy[MII_BMSR] = bmsr;
	d->phy[M88_PSSR] = pssr;
}

static void phy_reset(struct e1000 *d)
{
	memset(d->phy, 0, sizeof(d->phy));
	d->phy[MII_BMCR] = 0x1140;	/* AN enabled, full duplex, 1000 */
	d->phy[MII_PHYID1] = E1000_PHY_ID1;
	d->phy[MII_PHYID2] = E1000_PHY_ID2;
	d->phy[MII_ANAR] = 0x0de1;
	d->phy[MII_GBCR] = 0x0e00;
	d->phy[MII_EXTSR] = 0x3000;
	d->phy[M88_PSCR] = 0x0068;
	d->phy[M88_EPSCR] = 0x0d60;
	phy_update_link(d);
}

static bool phy_reg_known(unsigned int r)
{
	switch (r) {
	case MII_BMCR: case MII_BMSR: case MII_PHYID1: case MII_PHYID2:
	case MII_ANAR: case MII_ANLPAR: case MII_ANER: case MII_NPTX:
	case MII_LPNP: case MII_GBCR: case MII_GBSR: case MII_EXTSR:
	case M88_PSCR: case M88_PSSR: case M88_IER: case M88_ISR:
	case M88_EPSCR: case M88_RXERR: case M88_PAGE: case M88_GEN:
		return true;
	}
	return false;
}

static void phy_write(struct e1000 *d, unsigned int r, uint16_t v)
{
	switch (r) {
	case MII_BMCR:
		if (v & BMCR_RESET) {
			phy_reset(d);
			return;
		}
		d->phy[MII_BMCR] = v & (uint16_t)~BMCR_RESTART_AN;
		phy_update_link(d);
		return;
	case MII_BMSR: case MII_PHYID1: case MII_PHYID2: case MII_ANLPAR:
	case MII_ANER: case MII_LPNP: case MII_GBSR: case MII_EXTSR:
	case M88_PSSR: case M88_ISR: case M88_RXERR:
		return;		/* read-only */
	default:
		d->phy[r] = v;
	}
}

static void mdic_write(struct e1000 *d, uint32_t v)
{
	unsigned int reg = (v >> E1000_MDIC_REG_SHIFT) & 0x1f;
	unsigned int phy = (v >> E1000_MDIC_PHY_SHIFT) & 0x1f;
	uint32_t op = v & (3u << 26);
	uint32_t r = v & (0x0fffffffu | E1000_MDIC_INT_EN);

	if (phy != E1000_PHY_ADDR || (op != E1000_MDIC_OP_READ &&
				      op != E1000_MDIC_OP_WRITE)) {
		r |= E1000_MDIC_ERROR;
	} else if (op == E1000_MDIC_OP_READ) {
		r &= ~0xffffu;
		if (phy_reg_known(reg))
			r |= d->phy[reg];
		else
			d->stats.unknown_regs++;
	} else {
		if (phy_reg_known(reg))
			phy_write(d, reg, (uint16_t)v);
		else
			d->stats.unknown_regs++;
	}
	reg_set(d, E1000_MDIC, r | E1000_MDIC_READY);
	if (v & E1000_MDIC_INT_EN)
		e1000_set_ics(d, E1000_ICR_MDAC);
}

/* EEPROM: bit-banged through EECD, or one word at a time through EERD. */
static void ee_contents(struct e1000 *d)
{
	uint16_t w[E1000_EE_WORDS];
	unsigned int i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < 3; i++)
		w[i] = (uint16_t)(d->mac[2 * i] | d->mac[2 * i + 1] << 8);
	w[E1000_EE_ID_LED] = 0xffff;	/* "use the default LED setup" */
	w[E1000_EE_PBA] = 0x1000;
	w[E1000_EE_INIT1] = 0x4408;	/* signature 01b in bits 15:14 */
	w[E1000_EE_SUBSYS_ID] = E1000_SUBSYS_ID;
	w[E1000_EE_SUBSYS_VENDOR] = E1000_VENDOR;
	w[E1000_EE_DEVICE] = E1000_DEVICE_82540EM;
	w[E1000_EE_VENDOR] = E1000_VENDOR;
	eeprom93_init(&d->ee, 6, w);
	eeprom93_checksum_fix(&d->ee, E1000_EE_CHECKSUM,
			      E1000_EE_CHECKSUM_SUM);
}

static uint32_t eecd_read(struct e1000 *d)
{
	uint32_t v = e1000_reg(d, E1000_EECD) &
		     (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI |
		      E1000_EECD_REQ | 0x30);

	v |= E1000_EECD_PRES;
	if (v & E1000_EECD_REQ)
		v |= E1000_EECD_GNT;
	if (eeprom93_dout(&d->ee))
		v |= E1000_EECD_DO;
	return v;
}

static void eecd_write(struct e1000 *d, uint32_t v)
{
	reg_set(d, E1000_EECD, v);
	eeprom93_pins(&d->ee, v & E1000_EECD_CS, v & E1000_EECD_SK,
		      v & E1000_EECD_DI);
}

static void eerd_write(struct e1000 *d, uint32_t v)
{
	unsigned int addr = (v >> E1000_EERD_ADDR_SHIFT) & 0xff;
	uint32_t r = v & 0xff00u;

	if (v & E1000_EERD_START) {
		r |= E1000_EERD_DONE;
		if (addr < E1000_EE_WORDS)
			r |= (uint32_t)d->ee.words[addr] << E1000_EERD_DATA_SHIFT;
	}
	reg_set(d, E1000_EERD, r);
}

static uint32_t status_read(struct e1000 *d)
{
	uint32_t v = E1000_STATUS_FD | E1000_STATUS_SPEED_1000 |
		     E1000_STATUS_ASDV_1000 | E1000_STATUS_MTXCKOK;

	if (d->link_up)
		v |= E1000_STATUS_LU;
	return v;
}

/* Power-on (and CTRL.RST) state of the MAC; PHY and EEPROM reloaded too. */
static void mac_reset(struct e1000 *d)
{
	memset(d->regs, 0, sizeof(d->regs));
	reg_set(d, E1000_CTRL, E1000_CTRL_FD | E1000_CTRL_SLU | 0x200);
	reg_set(d, E1000_EECD, E1000_EECD_FWE_DIS);
	reg_set(d, E1000_LEDCTL, 0x07068302);
	reg_set(d, E1000_PBA, 0x00100030);
	reg_set(d, E1000_VET, 0x8100);
	reg_set(d, E1000_MDIC, E1000_MDIC_READY);
	reg_set(d, E1000_RA, (uint32_t)(d->mac[0] | d->mac[1] << 8 |
				       d->mac[2] << 16 |
				       (uint32_t)d->mac[3] << 24));
	reg_set(d, E1000_RA + 4, (uint32_t)(d->mac[4] | d->mac[5] << 8) |
				 E1000_RAH_AV);
	eeprom93_reset(&d->ee);
	phy_reset(d);
	d->ioaddr = 0;
	d->tx_len = 0;
	d->tx_in_packet = d->tx_overflow = false;
	memset(&d->ctx, 0, sizeof(d->ctx));
	d->last_irq_ns = 0;
	if (d->irq_level) {
		d->irq_level = false;
		pci_dev_irq_lower(&d->pci);
	}
}

/* Registers a driver may touch that the model stores without acting. */
static bool reg_plain(unsigned int off)
{
	switch (off) {
	case E1000_CTRL_EXT: case E1000_FLA: case E1000_FCAL: case E1000_FCAH:
	case E1000_FCT: case E1000_VET: case E1000_ITR: case E1000_FCTTV:
	case E1000_TXCW: case E1000_RXCW: case E1000_TIPG: case E1000_AIT:
	case E1000_LEDCTL: case E1000_PBA: case E1000_FCRTL: case E1000_FCRTH:
	case E1000_RDFH: case E1000_RDFT: case E1000_RDFHS: case E1000_RDFTS:
	case E1000_RDFPC: case E1000_RDBAL: case E1000_RDBAH: case E1000_RDLEN:
	case E1000_RDTR: case E1000_RXDCTL: case E1000_RADV: case E1000_RSRPD:
	case E1000_TXDMAC: case E1000_TDFH: case E1000_TDFT: case E1000_TDFHS:
	case E1000_TDFTS: case E1000_TDFPC: case E1000_TDBAL: case E1000_TDBAH:
	case E1000_TDLEN: case E1000_TIDV: case E1000_TXDCTL: case E1000_TADV:
	case E1000_TSPMT: case E1000_RXCSUM: case E1000_WUC: case E1000_WUFC:
	case E1000_WUS: case E1000_MANC: case E1000_IPAV: case E1000_WUPL:
		return true;
	}
	return (off >= E1000_MTA && off < E1000_MTA + 128 * 4) ||
	       (off >= E1000_RA && off < E1000_RA + 16 * 8) ||
	       (off >= E1000_VFTA && off < E1000_VFTA + 128 * 4) ||
	       (off >= E1000_IP4AT && off < E1000_IP4AT + 7 * 4) ||
	       (off >= E1000_IP6AT && off < E1000_IP6AT + 4 * 4) ||
	       (off >= E1000_WUPM && off < E1000_WUPM + 32 * 4) ||
	       (off >= E1000_FFLT && off < E1000_FFLT + 16 * 4) ||
	       (off >= E1000_FFMT && off < E1000_FFMT + 256 * 4) ||
	       (off >= E1000_FFVT && off < E1000_FFVT + 256 * 4);
}

/* Reads 0, writes are ignored; counted, the first one logged. */
static void unknown_reg(struct e1000 *d, unsigned int off, bool write)
{
	d->stats.unknown_regs++;
	if (d->logged & (1u << E1000_LOG_UNKNOWN_REG))
		return;
	d->logged |= 1u << E1000_LOG_UNKNOWN_REG;
	log_warn(MOD, "%s: guest %s register 0x%05x, which the model does not have (it reads 0; further ones are only counted)",
		 d->pci.name, write ? "wrote" : "read", off);
}

static uint32_t reg_read(struct e1000 *d, unsigned int off)
{
	uint32_t v;

	switch (off) {
	case E1000_STATUS:
		return status_read(d);
	case E1000_EECD:
		return eecd_read(d);
	case E1000_CTRL: case E1000_EERD: case E1000_MDIC: case E1000_IMS:
	case E1000_RCTL: case E1000_TCTL: case E1000_RDH: case E1000_RDT:
	case E1000_TDH: case E1000_TDT:
		return e1000_reg(d, off);
	case E1000_ICR:
		v = e1000_reg(d, off);
		reg_set(d, off, 0);
		update_irq(d);
		return v;
	case E1000_ICS: case E1000_IMC:
		return 0;	/* write-only */
	}
	if (off >= E1000_STATS_FIRST && off <= E1000_STATS_LAST) {
		v = e1000_reg(d, off);
		/* 64-bit pairs clear when their high half is read. */
		if (off == E1000_GORCL || off == E1000_GOTCL ||
		    off == E1000_TORL || off == E1000_TOTL)
			return v;
		reg_set(d, off, 0);
		if (off == E1000_GORCH || off == E1000_GOTCH ||
		    off == E1000_TORH || off == E1000_TOTH)
			reg_set(d, off - 4, 0);
		return v;
	}
	if (reg_plain(off))
		return e1000_reg(d, off);
	unknown_reg(d, off, false);
	return 0;
}

static void reg_write(struct e1000 *d, unsigned int off, uint32_t v)
{
	switch (off) {
	case E1000_CTRL:
		if (v & E1000_CTRL_RST) {
			mac_reset(d);
			return;
		}
		if (v & E1000_CTRL_PHY_RST)
			phy_reset(d);
		reg_set(d, off, v & ~(E1000_CTRL_RST | E1000_CTRL_PHY_RST));
		return;
	case E1000_STATUS:
		return;
	case E1000_EECD:
		eecd_write(d, v);
		return;
	case E1000_EERD:
		eerd_write(d, v);
		return;
	case E1000_MDIC:
		mdic_write(d, v);
		return;
	case E1000_ICR:		/* write 1 to clear */
		reg_set(d, off, e1000_reg(d, off) & ~v);
		update_irq(d);
		return;
	case E1000_ICS:
		e1000_set_ics(d, v);
		return;
	case E1000_IMS:
		reg_set(d, off, e1000_reg(d, off) | (v & E1000_ICR_VALID));
		update_irq(d);
		return;
	case E1000_IMC:
		reg_set(d, E1000_IMS, e1000_reg(d, E1000_IMS) & ~v);
		update_irq(d);
		return;
	case E1000_RCTL:
		reg_set(d, off, v);
		return;
	case E1000_TCTL:
		reg_set(d, off, v);
		d->tx_pending = true;
		return;
	case E1000_RDH: case E1000_RDT: case E1000_TDH:
		reg_set(d, off, v & 0xffff);
		return;
	case E1000_TDT:
		reg_set(d, off, v & 0xffff);
		d->tx_pending = true;
		return;
	case E1000_ITR:
		reg_set(d, off, v & 0xffff);
		update_irq(d);
		return;
	}
	if (off >= E1000_STATS_FIRST && off <= E1000_STATS_LAST)
		return;		/* read-only */
	if (reg_plain(off)) {
		reg_set(d, off, v);
		return;
	}
	unknown_reg(d, off, true);
}

/*
 * Register accesses narrower than 32 bits read the whole register and take
 * the bytes asked for; writes merge into the stored value. 64-bit accesses
 * are two 32-bit ones.
 */
static void mmio_read(struct e1000 *d, uint64_t off, uint8_t *data,
		      unsigned int len)
{
	unsigned int i, base = (unsigned int)(off & ~3ull);
	uint32_t v = reg_read(d, base);

	for (i = 0; i < len; i++) {
		unsigned int b = (unsigned int)(off & 3) + i;

		if (b == 4) {
			base += 4;
			v = reg_read(d, base);
		}
		data[i] = (uint8_t)(v >> (8 * (b & 3)));
	}
}

static void mmio_write(struct e1000 *d, uint64_t off, const uint8_t *data,
		       unsigned int len)
{
	unsigned int base = (unsigned int)(off & ~3ull), sh, i;
	uint32_t v;

	if (len == 8) {
		mmio_write(d, off, data, 4);
		mmio_write(d, off + 4, data + 4, 4);
		return;
	}
	if (len == 4 && !(off & 3)) {
		v = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
		    (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
		reg_write(d, base, v);
		return;
	}
	v = e1000_reg(d, base);
	sh = (unsigned int)(off & 3);
	for (i = 0; i < len && sh + i < 4; i++) {
		v &= ~(0xffu << (8 * (sh + i)));
		v |= (uint32_t)data[i] << (8 * (sh + i));
	}
	reg_write(d, base, v);
}

static void e1000_bar_read(struct pci_dev *pci, int bar, uint64_t off,
			   uint8_t *data, unsigned int len)
{
	struct e1000 *d = pci->priv;

	pthread_mutex_lock(&d->lock);
	if (bar == 0) {
		mmio_read(d, off, data, len);
	} else if (bar == 1 && off < 4) {
		uint32_t v = d->ioaddr;
		unsigned int i;

		for (i = 0; i < len; i++)
			data[i] = (uint8_t)(v >> (8 * ((off + i) & 3)));
	} else if (bar == 1 && off >= 4 && off < 8) {
		mmio_read(d, (d->ioaddr & 0x1fffc) + (off & 3), data,
			  len > 4 - (off & 3) ? 4 - (unsigned int)(off & 3) : len);
	} else {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&d->lock);
}

static void e1000_bar_write(struct pci_dev *pci, int bar, uint64_t off,
			    const uint8_t *data, unsigned int len)
{
	struct e1000 *d = pci->priv;
	bool kick, doorbell = false;

	pthread_mutex_lock(&d->lock);
	kick = bar == 0 && ((off & ~3ull) == E1000_RDT ||
			    (off & ~3ull) == E1000_RCTL);
	if (bar == 0) {
		mmio_write(d, off, data, len);
	} else if (bar == 1 && off == 0 && len == 4) {
		d->ioaddr = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
			    (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
	} else if (bar == 1 && off == 4 && len == 4) {
		unsigned int reg = d->ioaddr & 0x1fffc;

		kick = reg == E1000_RDT || reg == E1000_RCTL;
		mmio_write(d, reg, data, 4);
	}
	if (d->tx_pending) {
		if (d->host.tx_doorbell) {
			doorbell = true;
		} else {
			d->tx_pending = false;
			e1000_tx_run(d);
		}
	}
	pthread_mutex_unlock(&d->lock);
	hw_nic_host_notify(&d->host, doorbell, kick);
}

void e1000_tx_poll(struct e1000 *d)
{
	pthread_mutex_lock(&d->lock);
	d->tx_pending = false;
	d->tx_blocked = false;
	e1000_tx_run(d);
	pthread_mutex_unlock(&d->lock);
}

static void e1000_pci_reset(struct pci_dev *pci)
{
	struct e1000 *d = pci->priv;

	pthread_mutex_lock(&d->lock);
	mac_reset(d);
	pthread_mutex_unlock(&d->lock);
}

static void e1000_destroy(struct pci_dev *pci)
{
	struct e1000 *d = pci->priv;

	hw_nic_model_destroy(&d->host, MOD, d->pci.name, &d->stats, &d->lock,
			     &d->buf);
	free(d);
}

static const struct pci_dev_ops e1000_pci_ops = {
	.bar_read = e1000_bar_read,
	.bar_write = e1000_bar_write,
	.reset = e1000_pci_reset,
	.destroy = e1000_destroy,
};

struct e1000 *e1000_new(struct pci_bus *bus, const struct guest_mem *mem,
			const uint8_t mac[6], const struct hw_nic_host *host)
{
	struct e1000 *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return NULL;
	r = hw_nic_bufs_alloc(&d->buf, E1000_TX_BUF, E1000_MAX_FRAME);
	if (r)
		goto err_free;
	pthread_mutex_init(&d->lock, NULL);
	d->mem = mem;
	d->host = *host;
	memcpy(d->mac, mac, 6);
	d->link_up = true;
	ee_contents(d);
	pci_dev_init(&d->pci, "e1000", &e1000_pci_ops, d, E1000_VENDOR,
		     E1000_DEVICE_82540EM, E1000_CLASS, E1000_REVISION,
		     E1000_VENDOR, E1000_SUBSYS_ID);
	r = pci_dev_set_bar(&d->pci, 0, PCI_BAR_MMIO32, E1000_MMIO_SIZE, false);
	if (!r)
		r = pci_dev_set_bar(&d->pci, 1, PCI_BAR_PIO, E1000_IO_SIZE,
				    false);
	if (r)
		goto err_lock;
	mac_reset(d);
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

void e1000_set_link(struct e1000 *d, bool up)
{
	bool kick;

	pthread_mutex_lock(&d->lock);
	if (d->link_up == up) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	d->link_up = up;
	phy_update_link(d);
	e1000_set_ics(d, E1000_ICR_LSC);
	kick = up;
	pthread_mutex_unlock(&d->lock);
	hw_nic_host_notify(&d->host, false, kick);
}

void e1000_stats(struct e1000 *d, struct hw_nic_stats *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->stats;
	pthread_mutex_unlock(&d->lock);
}

int e1000_receive(struct e1000 *d, const uint8_t *frame, size_t len,
		  const struct frame_offload *off)
{
	bool valid;
	int r;

	pthread_mutex_lock(&d->lock);
	r = hw_nic_rx_offload(&d->buf, E1000_MAX_FRAME, &frame, len, off,
			      &valid);
	if (r)
		d->stats.rx_dropped++;
	else
		r = e1000_rx_frame(d, frame, len, valid);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* On the NIC backend seam: --nic net=NAME,model=e1000. */
static int nic_receive(void *dev, const uint8_t *frame, size_t len,
		       const struct frame_offload *off)
{
	return e1000_receive(dev, frame, len, off);
}

static void nic_set_link(void *dev, bool up)
{
	e1000_set_link(dev, up);
}

static void nic_tx_poll(void *dev)
{
	e1000_tx_poll(dev);
}

static void nic_timer_fire(void *dev)
{
	e1000_timer_fire(dev);
}

const struct hw_nic_model_ops e1000_nic_ops = {
	.receive = nic_receive,
	.set_link = nic_set_link,
	.tx_poll = nic_tx_poll,
	.timer_fire = nic_timer_fire,
};

static void *e1000_make(struct vm *vm, const struct nic_config *cfg,
			const struct hw_nic_host *host)
{
	return e1000_new(vm->pci, &vm->mem, cfg->mac, host);
}

int e1000_create(struct vm *vm, const struct nic_config *cfg)
{
	return hw_nic_model_create(vm, cfg, "e1000", e1000_make,
				   &e1000_nic_ops);
}
