/* SPDX-License-Identifier: MIT */
/* shm_port.h - ABI of the shared-memory port protocol (VMM <-> netd). */
#ifndef LOOM_SHM_PORT_H
#define LOOM_SHM_PORT_H

/*
 * Standalone: fixed-width types only, offsets and indices (never pointers),
 * every shared field marked with who writes it:
 *   [netd]  written by loom-netd only
 *   [peer]  written by the VMM (or any other peer) only
 *   [prod]  written by the producer of that ring, [cons] by its consumer
 * All multi-byte fields are little-endian (both ends run on the same host).
 * docs/port-protocol.md has the diagram and the full rules; the summary:
 *
 * Region: one memfd created and sealed (F_SEAL_SHRINK | F_SEAL_GROW |
 * F_SEAL_SEAL) by netd, mapped MAP_SHARED by both sides:
 *
 *   0                 struct shm_port_header            [netd, at creation]
 *   hdr.to_netd_off   struct shm_ring (peer -> netd)    "to_netd" ring
 *   hdr.to_peer_off   struct shm_ring (netd -> peer)    "to_peer" ring
 *   each ring: control block (2 cache lines), slots[ring_size],
 *              data area of data_size bytes (frames, contiguous each)
 *
 * Indices are free-running uint32_t; slot = index & (ring_size - 1); they
 * wrap at 2^32 and are compared by unsigned difference only.
 */
#include <stdint.h>

enum {
	SHM_PORT_VERSION = 2, /* 2: the attach request names the port */
	SHM_PORT_MAGIC = 0x4d53484c,   /* "LHSM" little-endian: region */
	SHM_ATTACH_MAGIC = 0x4154484c, /* "LHTA": attach request/reply */
	SHM_CACHELINE = 64,
	/* Default geometry, also the stated per-port budget (docs). */
	SHM_RING_SIZE_DEFAULT = 512, /* slots per ring, power of 2 */
	SHM_DATA_SIZE_DEFAULT = 2 * 1024 * 1024, /* bytes per ring */
	SHM_RING_SIZE_MAX = 4096,
	SHM_DATA_SIZE_MIN = 256 * 1024, /* >= 2 maximal frames, aligned */
	SHM_DATA_SIZE_MAX = 64 * 1024 * 1024,
	SHM_DATA_ALIGN = 64, /* producers place frames on cache lines */
	/* Largest frame: a 64 KiB GSO frame plus Ethernet and VLAN header. */
	SHM_FRAME_MAX = 65536 + 14 + 4,
	SHM_FRAME_MIN = 14,
	/* Consumers take at most this many frames per index read. */
	SHM_BATCH_MAX = 64,
};

/* Feature bits, offered by the peer, the accepted subset set by netd. */
enum shm_feature {
	/* Frames may carry SHM_VNET_F_NEEDS_CSUM (partial checksum). */
	SHM_F_CSUM = 1u << 0,
	/* Frames may be TCPv4/TCPv6 GSO frames up to SHM_FRAME_MAX. */
	SHM_F_GSO_TCP = 1u << 1,
	/* Frames may be UDP (UFO) or UDP_L4 (USO) GSO frames. */
	SHM_F_GSO_UDP = 1u << 2,
	/* Frames may carry the ECN bit in gso_type. */
	SHM_F_GSO_ECN = 1u << 3,
	SHM_F_ALL = (1u << 4) - 1,
};

/* Offload flags and GSO types: the virtio-net header values (5.1.6). */
enum shm_vnet_flags {
	SHM_VNET_F_NEEDS_CSUM = 1,
	SHM_VNET_F_DATA_VALID = 2,
};
enum shm_vnet_gso {
	SHM_VNET_GSO_NONE = 0,
	SHM_VNET_GSO_TCPV4 = 1,
	SHM_VNET_GSO_UDP = 3,
	SHM_VNET_GSO_TCPV6 = 4,
	SHM_VNET_GSO_UDP_L4 = 5,
	SHM_VNET_GSO_ECN = 0x80,
};

/* Slot flags; every other bit must be 0. */
enum shm_slot_flags {
	SHM_SLOT_F_NONE = 0,
};

/*
 * struct shm_slot - one frame descriptor. Written by the ring's producer
 * before it publishes the producer index, read (copied once into a local)
 * by the consumer after it. The frame occupies data[off, off + len) of the
 * same ring's data area, contiguous; 32 bytes, two per cache line.
 */
struct shm_slot {
	uint32_t off;	      /* [prod] byte offset in the data area */
	uint32_t len;	      /* [prod] frame length from the dest. MAC */
	uint8_t vnet_flags;   /* [prod] enum shm_vnet_flags */
	uint8_t gso_type;     /* [prod] enum shm_vnet_gso */
	uint16_t hdr_len;     /* [prod] virtio hdr_len: L2..L4 headers */
	uint16_t gso_size;    /* [prod] payload bytes per segment */
	uint16_t csum_start;  /* [prod] checksum from here ... */
	uint16_t csum_offset; /* [prod] ... stored at csum_start + this */
	uint16_t flags;	      /* [prod] enum shm_slot_flags */
	uint32_t reserved[3]; /* [prod] 0 */
};

/*
 * struct shm_ring - control block of one single-producer single-consumer
 * ring; producer and consumer fields on separate cache lines so the two
 * cores do not bounce one line between them.
 *
 * Notification suppression, virtio event-idx style: a consumer about to
 * sleep stores cons_event = its cons ("kick me once slot cons is
 * published"), issues a full fence and re-reads prod; a producer publishes
 * prod (old -> new), issues a full fence, reads cons_event and kicks the
 * consumer's eventfd only if cons_event lies in [old, new): so one kick per
 * sleep, not one per batch while the consumer wakes up. A consumer that
 * polls never updates cons_event, it falls behind, and no kick is made.
 * Symmetrically a producer waiting for space stores prod_event = the cons
 * it last saw and the consumer kicks when its release crosses it. netd
 * initialises both events to start index + 2^31 (far from any crossing).
 */
struct shm_ring {
	/* Producer cache line. */
	uint32_t prod;	     /* [prod] next index to fill */
	uint32_t prod_event; /* [prod] kick me when cons passes this */
	uint8_t pad0[SHM_CACHELINE - 8];
	/* Consumer cache line. */
	uint32_t cons;	     /* [cons] next index to consume */
	uint32_t cons_event; /* [cons] kick me when prod passes this */
	uint8_t pad1[SHM_CACHELINE - 8];
};

/* Bits of shm_port_header.link. */
enum shm_link_flags {
	/* The port's link is set down (`loom port set NET PORT link down`):
	 * the peer shows its guest no carrier until the bit clears. */
	SHM_LINK_F_DOWN = 1u << 0,
};

/*
 * struct shm_port_header - at offset 0 of the region; written once by netd
 * before the memfd is handed out, never re-read by netd (it keeps its own
 * copy). The peer validates every field against the memfd size before
 * using it. One exception, @link: netd changes it while the port lives
 * (an atomic 32-bit store, then a kick of the peer's eventfd); the peer
 * reads it (atomic load) at attach and after every kick. Bits it does not
 * know it ignores.
 */
struct shm_port_header {
	uint32_t magic;		/* [netd] SHM_PORT_MAGIC */
	uint32_t version;	/* [netd] SHM_PORT_VERSION */
	uint32_t header_size;	/* [netd] sizeof(struct shm_port_header) */
	uint32_t ring_size;	/* [netd] slots per ring, power of 2 */
	uint32_t slot_size;	/* [netd] sizeof(struct shm_slot) */
	uint32_t data_size;	/* [netd] data area bytes per ring */
	uint64_t region_size;	/* [netd] total bytes; == memfd size */
	uint64_t features;	/* [netd] accepted enum shm_feature bits */
	uint64_t to_netd_off;	/* [netd] struct shm_ring, peer produces */
	uint64_t to_netd_slots; /* [netd] slot array of that ring */
	uint64_t to_netd_data;	/* [netd] data area of that ring */
	uint64_t to_peer_off;	/* [netd] struct shm_ring, netd produces */
	uint64_t to_peer_slots; /* [netd] slot array of that ring */
	uint64_t to_peer_data;	/* [netd] data area of that ring */
	uint8_t mac[6];		/* [netd] the port's MAC (from the request) */
	uint8_t reserved0[2];	/* [netd] 0 */
	uint32_t link;		/* [netd, live] enum shm_link_flags */
	uint8_t reserved[SHM_CACHELINE * 2 - 100]; /* [netd] 0 */
};

/* NIC model of the peer, for `loom port list` and statistics. */
enum shm_nic_model {
	SHM_NIC_OTHER = 0,
	SHM_NIC_VIRTIO_NET = 1,
	SHM_NIC_E1000 = 2,
	SHM_NIC_RTL8139 = 3, /* C+ mode (8139cp) */
	SHM_NIC_VDE = 4, /* a VDE program through libvdeplug_loom.so */
	SHM_NIC_RTL8139C = 5, /* an RTL8139C without C+ mode (8139too) */
	SHM_NIC_MODEL_MAX = SHM_NIC_RTL8139C,
};

enum {
	SHM_NETWORK_NAME_MAX = 64, /* including the terminating NUL */
	SHM_PORT_NAME_MAX = 32,	   /* including the terminating NUL */
};

/*
 * struct shm_attach_req - the peer's attach request: one SOCK_STREAM or
 * SOCK_SEQPACKET message of exactly this size, no ancillary data (a request
 * carrying fds is rejected and the fds closed).
 */
struct shm_attach_req {
	uint32_t magic;	  /* [peer] SHM_ATTACH_MAGIC */
	uint16_t version; /* [peer] SHM_PORT_VERSION */
	uint16_t size;	  /* [peer] sizeof(struct shm_attach_req) */
	char network[SHM_NETWORK_NAME_MAX]; /* [peer] NUL-terminated */
	uint8_t mac[6];			    /* [peer] the NIC's MAC, unicast */
	uint8_t model;			    /* [peer] enum shm_nic_model */
	uint8_t reserved0;		    /* [peer] 0 */
	uint64_t features;  /* [peer] offered enum shm_feature bits */
	uint32_t ring_size; /* [peer] wished slots, 0 = default */
	uint32_t reserved1; /* [peer] 0 */
	/* [peer] the port's name ([A-Za-z0-9._-], NUL-terminated, the rest
	 * zero), or all zero: netd names it vm-XXXXXXXX after the MAC. */
	char port[SHM_PORT_NAME_MAX];
};

/* File descriptors of a successful reply, in this order. */
enum shm_reply_fd {
	SHM_FD_MEMFD = 0,     /* the region, sealed against shrink/grow */
	SHM_FD_KICK_NETD = 1, /* eventfd: the peer writes, netd waits */
	SHM_FD_KICK_PEER = 2, /* eventfd: netd writes, the peer waits */
	SHM_FD_COUNT = 3,
};

/*
 * struct shm_attach_reply - netd's answer. status 0: exactly SHM_FD_COUNT
 * fds ride along in one SCM_RIGHTS message; otherwise none.
 */
struct shm_attach_reply {
	uint32_t magic;	      /* [netd] SHM_ATTACH_MAGIC */
	uint16_t version;     /* [netd] SHM_PORT_VERSION */
	uint16_t size;	      /* [netd] sizeof(struct shm_attach_reply) */
	int32_t status;	      /* [netd] 0 or a negative errno */
	uint32_t nfds;	      /* [netd] SHM_FD_COUNT or 0 */
	uint64_t features;    /* [netd] accepted enum shm_feature bits */
	uint64_t region_size; /* [netd] size of the memfd */
};

_Static_assert(sizeof(struct shm_slot) == 32, "slot ABI");
_Static_assert(sizeof(struct shm_ring) == 2 * SHM_CACHELINE, "ring ABI");
_Static_assert(sizeof(struct shm_port_header) == 2 * SHM_CACHELINE,
	       "header ABI");
_Static_assert(sizeof(struct shm_attach_req) == 128, "attach ABI");
_Static_assert(sizeof(struct shm_attach_reply) == 32, "reply ABI");

#endif
