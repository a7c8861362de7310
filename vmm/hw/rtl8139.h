/* SPDX-License-Identifier: MIT */
/* rtl8139.h - a Realtek RTL8139C / RTL8139C+ NIC as Linux's 8139too and 8139cp drive it. */
#ifndef LOOM_VMM_HW_RTL8139_H
#define LOOM_VMM_HW_RTL8139_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "switch/port.h"
#include "vmm/hw/eeprom93.h"
#include "vmm/hw/nic_host.h"
#include "vmm/hw/nic_model.h"
#include "vmm/hw/rtl8139_regs.h"
#include "vmm/pci.h"

struct guest_mem;
struct nic_config;
struct vm;
struct hw_nic_model_ops;

/*
 * The model: 256 bytes of registers, both in BAR0 (I/O) and BAR1 (MMIO);
 * INTx. Two personalities, chosen at creation:
 *   - RTL8139C+ (PCI revision 0x20): everything below; Linux binds 8139cp.
 *   - RTL8139C (revision 0x10): no C+ registers; Linux binds 8139too.
 * The 8139too path: a receive ring buffer (8-64 KiB, RBSTART) the chip
 * fills with [status, length, frame, CRC] records (CBR: write offset; CAPR:
 * the driver's read offset - 16; WRAP: records run past the end instead of
 * wrapping), four transmit slots (TSAD/TSD). C+ mode (CpCmd): 64-entry
 * descriptor rings for TX (normal and high priority) and RX, with checksum
 * insertion and large send (TCP segmentation done here from the frame's
 * own headers, every length in them checked against the frame: the flaw of
 * CVE-2015-5165), VLAN insertion and stripping, RX checksum checks. The MAC
 * is in a 93C46 EEPROM the driver bit-bangs through Cfg9346; link state in
 * MSR (LINKB), BMSR and a LinkChg interrupt.
 *
 * Hostile guests: DMA only through the range-checked guest memory
 * accessors and only with bus mastering on; a C+ ring walk stops after 64
 * descriptors whatever the EOR bits say; the RX ring never grows past its
 * declared size plus the WRAP slack; CAPR values are taken modulo the ring.
 *
 * Locking: one mutex, as the e1000 model.
 */
enum {
	RTL_CP_TX_BUF = 65536 + 256,	/* one large-send frame */
	RTL_MAX_FRAME = 16384,
	RTL_RX_MAX = 1518 + 4,		/* ring mode: what 8139too accepts */
};

struct rtl8139 {
	struct pci_dev pci;
	const struct guest_mem *mem;
	struct hw_nic_host host;
	pthread_mutex_t lock;
	bool cplus;		/* an RTL8139C+ */
	uint8_t mac[6];		/* power-on MAC (EEPROM) */
	uint8_t regs[RTL_REGS_SIZE];	/* register file, little endian */
	struct eeprom93 ee;
	bool link_up;
	bool link_changed;	/* CSCR's change bit, until read */
	bool irq_level;
	bool tx_pending;	/* a doorbell since the last TX pass */
	uint8_t tx_doorbells;	/* which: bits 0-3 a TSD, 4 NPQ, 5 HPQ */
	unsigned int tx_next;	/* the TSD slot the chip sends next (0-3) */
	bool tx_blocked;
	uint64_t tctr_base_ns;

	/* C+ rings. */
	unsigned int cp_tx_idx, cp_txhp_idx, cp_rx_idx;
	size_t tx_len;
	bool tx_in_packet, tx_bad;
	uint32_t tx_opts1, tx_opts2;	/* of the first descriptor */
	/*
	 * The current packet's descriptors: handed back (OWN cleared) only
	 * once it is sent, so a packet the backend had no room for is taken
	 * again, whole, from @tx_pkt_idx at the next pass.
	 */
	uint64_t tx_frag_gpa[RTL_CP_RING_MAX];
	uint32_t tx_frag_opts1[RTL_CP_RING_MAX];
	unsigned int tx_nfrag, tx_pkt_idx, tx_emitted;
	bool tx_rewind;
	bool tx_pkt_high;	/* the packet is on the high-priority ring */
	struct hw_nic_bufs buf;	/* tx: the packet, seg, rx (nic_model.h) */

	struct hw_nic_stats stats;
	uint32_t logged;
};

/**
 * rtl8139_new() - allocate the model and plug it into the bus.
 * @bus: the PCI bus.
 * @mem: guest RAM.
 * @mac: the MAC (EEPROM words 7-9, IDR0-5 after reset).
 * @cplus: an RTL8139C+ (8139cp) rather than an RTL8139C (8139too).
 * @host: callbacks (copied).
 *
 * Return: the device, or NULL (errno set).
 */
struct rtl8139 *rtl8139_new(struct pci_bus *bus, const struct guest_mem *mem,
			    const uint8_t mac[6], bool cplus,
			    const struct hw_nic_host *host);

/**
 * rtl8139_create() - the nic_models[] rows "rtl8139" (an RTL8139C+) and
 * "rtl8139c" (an RTL8139C) in vmm/net/nic.c; see e1000_create().
 */
int rtl8139_create(struct vm *vm, const struct nic_config *cfg);

/* The model's side of vmm/hw/nic_attach.h (tests attach it by hand). */
extern const struct hw_nic_model_ops rtl8139_nic_ops;

/**
 * rtl8139_receive() - offer the guest one frame; see e1000_receive().
 * Return: 0 (delivered or dropped, counted), -EAGAIN (no room in the ring:
 * offer again after host.rx_kick), -EINVAL (bad offload metadata).
 */
int rtl8139_receive(struct rtl8139 *d, const uint8_t *frame, size_t len,
		    const struct frame_offload *off);

/* rtl8139_set_link() - carrier up or down (LinkChg interrupt, MSR, BMSR). */
void rtl8139_set_link(struct rtl8139 *d, bool up);

/* rtl8139_tx_poll() - run the doorbells rung since the last pass. */
void rtl8139_tx_poll(struct rtl8139 *d);

/* rtl8139_stats() - a snapshot of the counters. */
void rtl8139_stats(struct rtl8139 *d, struct hw_nic_stats *out);

/* Inside the model (rtl8139.c <-> rtl8139_dma.c), lock held. */
uint32_t rtl_get(const struct rtl8139 *d, unsigned int off, unsigned int n);
void rtl_set(struct rtl8139 *d, unsigned int off, uint32_t v, unsigned int n);
void rtl_isr_set(struct rtl8139 *d, uint16_t bits);
void rtl_log_once(struct rtl8139 *d, unsigned int cause, const char *what);
bool rtl_bus_master(struct rtl8139 *d);
void rtl_tx_slots(struct rtl8139 *d);
void rtl_cp_tx(struct rtl8139 *d, bool high);
int rtl_rx_frame(struct rtl8139 *d, const uint8_t *frame, size_t len,
		 bool csum_valid);

enum {
	RTL_LOG_UNKNOWN_REG,
	RTL_LOG_NO_MASTER,
	RTL_LOG_TX_DMA,
	RTL_LOG_RX_DMA,
	RTL_LOG_CP_RING,
	RTL_LOG_LARGE_SEND,
	RTL_LOG_TX_LONG,
};

#endif
