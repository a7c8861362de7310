/* SPDX-License-Identifier: MIT */
/* rtl8139_regs.h - RTL8139C / RTL8139C+ register offsets and bits (from the Realtek datasheets). */
#ifndef LOOM_VMM_HW_RTL8139_REGS_H
#define LOOM_VMM_HW_RTL8139_REGS_H

enum {
	RTL_VENDOR = 0x10ec,
	RTL_DEVICE = 0x8139,
	RTL_REV_CPLUS = 0x20,	/* Linux: 8139cp drives it, 8139too refuses */
	RTL_REV_C = 0x10,	/* Linux: 8139too */
	RTL_CLASS = 0x020000,
	RTL_REGS_SIZE = 0x100,	/* BAR0 I/O and BAR1 MMIO: the same registers */
	RTL_HWREV_C = 0x74000000,	/* TCR version bits: RTL8139C */
	RTL_HWREV_CPLUS = 0x74800000,	/* RTL8139C+ */
	RTL_HWREV_MASK = 0x7cc00000,
};

/* Register offsets. */
enum {
	RTL_IDR0 = 0x00,	/* MAC, 6 bytes */
	RTL_MAR0 = 0x08,	/* multicast hash, 8 bytes */
	RTL_TSD0 = 0x10,	/* 4 x transmit status (C+: dump-tally address) */
	RTL_TSAD0 = 0x20,	/* 4 x transmit address (C+: TX ring addresses) */
	RTL_RBSTART = 0x30,
	RTL_ERBCR = 0x34,
	RTL_ERSR = 0x36,
	RTL_CR = 0x37,
	RTL_CAPR = 0x38,
	RTL_CBR = 0x3a,
	RTL_IMR = 0x3c,
	RTL_ISR = 0x3e,
	RTL_TCR = 0x40,
	RTL_RCR = 0x44,
	RTL_TCTR = 0x48,
	RTL_MPC = 0x4c,
	RTL_9346CR = 0x50,
	RTL_CONFIG0 = 0x51,
	RTL_CONFIG1 = 0x52,
	RTL_TIMERINT = 0x54,
	RTL_MSR = 0x58,
	RTL_CONFIG3 = 0x59,
	RTL_CONFIG4 = 0x5a,
	RTL_HLTCLK = 0x5b,
	RTL_MULINT = 0x5c,
	RTL_RERID = 0x5e,
	RTL_TSAD = 0x60,	/* transmit status of all descriptors */
	RTL_BMCR = 0x62,
	RTL_BMSR = 0x64,
	RTL_ANAR = 0x66,
	RTL_ANLPAR = 0x68,
	RTL_ANER = 0x6a,
	RTL_DIS = 0x6c,
	RTL_FCSC = 0x6e,
	RTL_NWAYTR = 0x70,
	RTL_REC = 0x72,
	RTL_CSCR = 0x74,
	RTL_PHY1_PARM = 0x78,
	RTL_TW_PARM = 0x7c,
	RTL_PHY2_PARM = 0x80,
	RTL_CONFIG5 = 0xd8,
	/* C+ mode. */
	RTL_TPPOLL = 0xd9,
	RTL_RXMAXSIZE = 0xda,
	RTL_CPCMD = 0xe0,
	RTL_INTRMITIGATE = 0xe2,
	RTL_RDSAR = 0xe4,	/* RX ring address, 8 bytes */
	RTL_TXTHRESH = 0xec,
};

enum {
	RTL_CR_BUFE = 1u << 0,
	RTL_CR_TE = 1u << 2,
	RTL_CR_RE = 1u << 3,
	RTL_CR_RST = 1u << 4,

	RTL_TSD_SIZE = 0x1fff,
	RTL_TSD_OWN = 1u << 13,
	RTL_TSD_TUN = 1u << 14,
	RTL_TSD_TOK = 1u << 15,
	RTL_TSD_TABT = 1u << 30,
	RTL_TX_MAX = 1792,	/* largest frame of a TSD slot */

	RTL_RCR_AAP = 1u << 0,
	RTL_RCR_APM = 1u << 1,
	RTL_RCR_AM = 1u << 2,
	RTL_RCR_AB = 1u << 3,
	RTL_RCR_WRAP = 1u << 7,
	RTL_RCR_RBLEN_SHIFT = 11,

	/* Receive packet header (ring mode). */
	RTL_RX_ROK = 1u << 0,
	RTL_RX_BAR = 1u << 13,
	RTL_RX_PAM = 1u << 14,
	RTL_RX_MAR = 1u << 15,

	RTL_ISR_ROK = 1u << 0,
	RTL_ISR_RER = 1u << 1,
	RTL_ISR_TOK = 1u << 2,
	RTL_ISR_TER = 1u << 3,
	RTL_ISR_RXOVW = 1u << 4,
	RTL_ISR_LINKCHG = 1u << 5,
	RTL_ISR_FOVW = 1u << 6,
	RTL_ISR_TDU = 1u << 7,	/* C+: TX descriptor unavailable */
	RTL_ISR_SWINT = 1u << 8,
	RTL_ISR_TIMEOUT = 1u << 14,
	RTL_ISR_SERR = 1u << 15,

	RTL_9346_EEM_SHIFT = 6,
	RTL_9346_EEM_NORMAL = 0,
	RTL_9346_EEM_AUTOLOAD = 1,
	RTL_9346_EEM_PROGRAM = 2,
	RTL_9346_EEM_CONFIG = 3,
	RTL_9346_EECS = 1u << 3,
	RTL_9346_EESK = 1u << 2,
	RTL_9346_EEDI = 1u << 1,
	RTL_9346_EEDO = 1u << 0,

	RTL_MSR_LINKB = 1u << 2,	/* 1: link down */

	/* CSCR: 8139too takes LinkChg as a link change only with this set. */
	RTL_CSCR_LINK_OK = 1u << 10,
	RTL_CSCR_LINK_CHANGE = 1u << 11,	/* cleared when read */

	RTL_BMCR_RESTART_AN = 1u << 9,
	RTL_BMCR_AN_ENABLE = 1u << 12,
	RTL_BMCR_RESET = 1u << 15,
	RTL_BMSR_BASE = 0x7809,	/* 10/100 half/full, AN capable, ext caps */
	RTL_BMSR_LINK = 1u << 2,
	RTL_BMSR_AN_DONE = 1u << 5,

	RTL_TPPOLL_HPQ = 1u << 7,
	RTL_TPPOLL_NPQ = 1u << 6,
	RTL_TPPOLL_FSWINT = 1u << 0,

	RTL_CPCMD_TXEN = 1u << 0,
	RTL_CPCMD_RXEN = 1u << 1,
	RTL_CPCMD_RXCSUM = 1u << 5,
	RTL_CPCMD_RXVLAN = 1u << 6,

	RTL_DUMP_STATS = 1u << 3,	/* in the dump-tally address register */
};

/* C+ descriptors: opts1, opts2, 64-bit buffer address (16 bytes). */
enum {
	RTL_CP_DESC_SIZE = 16,
	RTL_CP_RING_MAX = 64,	/* descriptors a C+ ring has at most */
	RTL_CPD_OWN = 1u << 31,
	RTL_CPD_EOR = 1u << 30,
	RTL_CPD_FS = 1u << 29,
	RTL_CPD_LS = 1u << 28,
	/* TX opts1 */
	RTL_CPT_LGSEN = 1u << 27,
	RTL_CPT_MSS_SHIFT = 16,
	RTL_CPT_MSS_MASK = 0x7ff,
	RTL_CPT_TXERR = 1u << 23,
	RTL_CPT_IPCS = 1u << 18,
	RTL_CPT_UDPCS = 1u << 17,
	RTL_CPT_TCPCS = 1u << 16,
	RTL_CPT_LEN = 0xffff,
	/* TX opts2 */
	RTL_CPT_TAGC = 1u << 17,
	/* RX opts1 (written back) */
	RTL_CPR_MAR = 1u << 26,
	RTL_CPR_PAM = 1u << 25,
	RTL_CPR_BAR = 1u << 24,
	RTL_CPR_RES = 1u << 20,
	RTL_CPR_PID_SHIFT = 16,
	RTL_CPR_PID_TCP = 1,
	RTL_CPR_PID_UDP = 2,
	RTL_CPR_PID_IP = 3,
	RTL_CPR_IPF = 1u << 15,
	RTL_CPR_UDPF = 1u << 14,
	RTL_CPR_TCPF = 1u << 13,
	RTL_CPR_LEN = 0x1fff,
	/* RX opts2 */
	RTL_CPR_TAVA = 1u << 16,
};

/* 93C46 EEPROM map (words). */
enum {
	RTL_EE_WORDS = 64,
	RTL_EE_ID = 0x8129,
	RTL_EE_MAC = 7,		/* words 7-9 */
};

#endif
