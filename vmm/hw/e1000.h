/* SPDX-License-Identifier: MIT */
/* e1000.h - an Intel 82540EM gigabit NIC as Linux's e1000 driver uses it. */
#ifndef LOOM_VMM_HW_E1000_H
#define LOOM_VMM_HW_E1000_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/hw/e1000_regs.h"
#include "vmm/hw/eeprom93.h"
#include "vmm/hw/nic_host.h"
#include "vmm/hw/nic_model.h"
#include "vmm/pci.h"
#include "switch/port.h"

struct guest_mem;
struct nic_config;
struct vm;
struct hw_nic_model_ops;

/*
 * The model: BAR0 MMIO registers (128 KiB), BAR1 I/O window (IOADDR/IODATA),
 * INTx. EEPROM by bit-banging EECD (what Linux's e1000 does on the 82540) or
 * through EERD; PHY through MDIC; legacy and extended (context + data) TX
 * descriptors with checksum insertion and TCP segmentation done here; one RX
 * ring with RX checksum checks and VLAN stripping; interrupt causes with
 * ITR throttling; the statistics Linux reads.
 *
 * Hostile guests: every descriptor and buffer goes through the range-checked
 * guest memory accessors (never the MMIO BAR: DMA aimed at a BAR fails like
 * any non-RAM address), and DMA needs bus mastering on. A TX or RX pass
 * handles at most one ring's worth of descriptors; head or tail outside the
 * ring, a zero or unaligned ring length, a ring outside RAM stop the queue
 * (counted, logged once per cause) until the guest fixes the registers. Bad
 * packets (too long, TSO with MSS 0 or a header beyond the frame) are
 * dropped and their descriptors completed, so the driver keeps going.
 *
 * Locking: one mutex; BAR accesses (vCPU threads), e1000_receive() and the
 * timer (the VMM loop) take it.
 */
enum {
	E1000_MAX_FRAME = 16384,	/* largest frame either way (jumbo) */
	E1000_TX_BUF = 65536 + 256,	/* one TSO frame before segmenting */
	E1000_NR_REGS = 0x20000 / 4,
};

struct e1000_tx_ctx {
	uint8_t ipcss, ipcso, tucss, tucso;
	uint16_t ipcse, tucse;
	uint32_t paylen;
	uint8_t hdr_len;
	uint16_t mss;
	uint32_t tucmd;		/* context descriptor's dword 2 */
	bool valid;
};

struct e1000 {
	struct pci_dev pci;
	const struct guest_mem *mem;
	struct hw_nic_host host;
	pthread_mutex_t lock;
	uint8_t mac[6];
	uint32_t regs[E1000_NR_REGS];	/* plain register storage */
	uint16_t phy[E1000_PHY_REGS];
	struct eeprom93 ee;
	uint32_t ioaddr;
	bool link_up;		/* the backend's carrier */
	bool irq_level;		/* INTx asserted */
	bool timer_armed;
	bool tx_pending;	/* a doorbell since the last TX pass */
	bool tx_blocked;	/* the host had no room: resume at tx_poll */
	bool tx_rewind;		/* ... before a packet's first frame: retry it */
	unsigned int tx_emitted;	/* frames out of the current packet */
	uint32_t tx_pkt_head;	/* descriptor the current packet began at */
	uint64_t last_irq_ns;

	/* TX packet being assembled across descriptors. */
	struct e1000_tx_ctx ctx;
	size_t tx_len;
	bool tx_in_packet, tx_overflow, tx_tse;
	uint8_t tx_popts;
	uint8_t tx_cso, tx_css;
	bool tx_legacy_ic;
	struct hw_nic_bufs buf;	/* tx: the packet, seg, rx (nic_model.h) */

	struct hw_nic_stats stats;
	uint32_t logged;	/* causes already logged once */
};

/**
 * e1000_new() - allocate the model and plug it into the bus.
 * @bus: the PCI bus.
 * @mem: guest RAM (DMA goes only here).
 * @mac: its MAC address (EEPROM words 0-2).
 * @host: callbacks (copied).
 *
 * Return: the device, or NULL (errno set).
 */
struct e1000 *e1000_new(struct pci_bus *bus, const struct guest_mem *mem,
			const uint8_t mac[6], const struct hw_nic_host *host);

/**
 * e1000_create() - the nic_models[] row (vmm/net/nic.c): an e1000 on the
 * VM's PCI bus attached to the backend @cfg names, with its I/O thread.
 * @vm: the VM.
 * @cfg: the --nic option.
 *
 * Return: 0 or negative errno.
 */
int e1000_create(struct vm *vm, const struct nic_config *cfg);

/* The model's side of vmm/hw/nic_attach.h (tests attach it by hand). */
extern const struct hw_nic_model_ops e1000_nic_ops;

/**
 * e1000_tx_poll() - run the transmit ring (after host.tx_doorbell or when
 * the backend has room again), on the host's thread.
 * @d: the device.
 */
void e1000_tx_poll(struct e1000 *d);

/**
 * e1000_receive() - offer the guest one frame from the network.
 * @d: the device.
 * @frame: Ethernet frame without FCS.
 * @len: its length.
 * @off: offload metadata or NULL; a partial checksum (FRAME_F_NEEDS_CSUM)
 *	is completed before the guest sees it, DATA_VALID is taken as
 *	checked; GSO frames are refused (the model does not negotiate GSO).
 *
 * Return: 0 (delivered, or dropped by the filters/size rules/receiver off;
 * counted), -EAGAIN (not enough RX descriptors: offer it again after
 * host.rx_kick), -EINVAL (bad offload metadata; dropped).
 */
int e1000_receive(struct e1000 *d, const uint8_t *frame, size_t len,
		  const struct frame_offload *off);

/**
 * e1000_set_link() - carrier up or down (the guest gets an LSC interrupt).
 * @d: the device.
 * @up: new state.
 */
void e1000_set_link(struct e1000 *d, bool up);

/**
 * e1000_timer_fire() - the deadline asked for with host.timer_arm passed.
 * @d: the device.
 */
void e1000_timer_fire(struct e1000 *d);

/**
 * e1000_stats() - a snapshot of the counters.
 * @d: the device.
 * @out: filled.
 */
void e1000_stats(struct e1000 *d, struct hw_nic_stats *out);

/* Inside the model (e1000.c <-> e1000_dma.c), lock held. */
void e1000_tx_run(struct e1000 *d);
int e1000_rx_frame(struct e1000 *d, const uint8_t *frame, size_t len,
		   bool csum_valid);
void e1000_set_ics(struct e1000 *d, uint32_t causes);
void e1000_log_once(struct e1000 *d, unsigned int cause, const char *what);
uint32_t e1000_reg(const struct e1000 *d, unsigned int off);
void e1000_stat_add(struct e1000 *d, unsigned int off, uint64_t n);

/* Causes for e1000_log_once(). */
enum {
	E1000_LOG_TX_RING,
	E1000_LOG_RX_RING,
	E1000_LOG_TX_DMA,
	E1000_LOG_RX_DMA,
	E1000_LOG_TSO,
	E1000_LOG_TX_LONG,
	E1000_LOG_UNKNOWN_REG,
	E1000_LOG_NO_MASTER,
};

#endif
