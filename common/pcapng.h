/* SPDX-License-Identifier: MIT */
/* pcapng.h - write and read pcapng blocks: section, interfaces, enhanced packets. */
#ifndef LOOM_COMMON_PCAPNG_H
#define LOOM_COMMON_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The pcapng format (IETF draft-ietf-opsawg-pcapng): a stream of blocks,
 * each {type, total length, body, total length}, 32-bit aligned. loom
 * writes one Section Header Block, one Interface Description Block per
 * switch port (name "NET:PORT", link type, snaplen, description,
 * nanosecond timestamps) and one Enhanced Packet Block per frame with the
 * direction in epb_flags, so Wireshark shows several ports as one merged
 * session. The writer emits host byte order (the SHB's byte-order magic
 * says which); the reader takes both.
 *
 * The reader parses untrusted bytes (a file, a pipe): every length is
 * checked against the bytes present; a block longer than
 * PCAPNG_BLOCK_MAX, a bad length or a packet on an undeclared interface
 * is an error, never a crash. At most PCAPNG_IF_MAX interfaces per
 * section are remembered (more is an error).
 */

enum {
	PCAPNG_BT_SHB = 0x0A0D0D0A,
	PCAPNG_BT_IDB = 0x00000001,
	PCAPNG_BT_EPB = 0x00000006,
	PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D,
	PCAPNG_LINKTYPE_ETHERNET = 1,
	/* epb_flags bits 0-1: direction, relative to the interface. */
	PCAPNG_DIR_UNKNOWN = 0,
	PCAPNG_DIR_IN = 1,
	PCAPNG_DIR_OUT = 2,
	/* Largest block the reader accepts (a 256 KiB snaplen + headers). */
	PCAPNG_BLOCK_MAX = 512 * 1024,
	PCAPNG_IF_MAX = 4096,
	PCAPNG_NAME_MAX = 128, /* interface name/description kept, with NUL */
	/* Bytes an EPB adds to its packet data, at most (header, padding,
	 * flags option, end of options, trailer). */
	PCAPNG_EPB_OVERHEAD = 28 + 3 + 12 + 4 + 4,
};

/*
 * Writers: each appends one block to @buf (of @cap bytes free).
 * Return: the bytes written, or 0 when the block does not fit (nothing
 * written) or an argument is out of range.
 */

/* pcapng_shb_write - a Section Header Block; @app goes into shb_userappl. */
size_t pcapng_shb_write(uint8_t *buf, size_t cap, const char *app);

/*
 * pcapng_idb_write - an Interface Description Block, nanosecond timestamps.
 * @name, @descr: if_name and if_description (NULL or "" to leave out)
 */
size_t pcapng_idb_write(uint8_t *buf, size_t cap, uint16_t linktype,
			uint32_t snaplen, const char *name, const char *descr);

/*
 * pcapng_epb_write - an Enhanced Packet Block.
 * @ifid: index of its IDB in the section
 * @ts_ns: nanoseconds since the epoch
 * @orig_len: the frame's length on the wire; @caplen <= @orig_len bytes of
 *	it are in @data
 * @dir: PCAPNG_DIR_*
 */
size_t pcapng_epb_write(uint8_t *buf, size_t cap, uint32_t ifid,
			uint64_t ts_ns, uint32_t orig_len, const uint8_t *data,
			uint32_t caplen, unsigned int dir);

/* Reader. */

struct pcapng_if {
	uint16_t linktype;
	uint32_t snaplen;
	uint64_t ts_per_sec; /* if_tsresol: units per second (default 1e6) */
	char name[PCAPNG_NAME_MAX];
	char descr[PCAPNG_NAME_MAX];
};

struct pcapng_packet {
	uint32_t ifid;
	uint64_t ts_ns; /* converted from the interface's resolution */
	uint32_t caplen, orig_len;
	unsigned int dir; /* PCAPNG_DIR_* */
	const uint8_t *data; /* into the buffer given to pcapng_read_block */
};

enum pcapng_block_kind {
	PCAPNG_BLOCK_SECTION = 1,
	PCAPNG_BLOCK_INTERFACE,
	PCAPNG_BLOCK_PACKET,
	PCAPNG_BLOCK_OTHER, /* skipped: a block type this reader ignores */
};

struct pcapng_reader {
	bool in_section;
	bool swap; /* the section's byte order is not the host's */
	uint32_t n_if;
	struct pcapng_if *ifs; /* PCAPNG_IF_MAX, allocated by _init */
};

int pcapng_reader_init(struct pcapng_reader *r);
void pcapng_reader_free(struct pcapng_reader *r);

/*
 * pcapng_read_block - parse the block at the start of @buf (@len bytes).
 * @used: set to the block's length when one is complete
 * @pkt: filled for PCAPNG_BLOCK_PACKET (data points into @buf)
 * Return: a pcapng_block_kind (> 0), 0 when @len does not hold the whole
 * block yet (read more and call again), or -EINVAL (malformed: the stream
 * cannot be resynchronised), -E2BIG (a block above PCAPNG_BLOCK_MAX),
 * -ENOSPC (more than PCAPNG_IF_MAX interfaces).
 */
int pcapng_read_block(struct pcapng_reader *r, const uint8_t *buf,
		      size_t len, size_t *used, struct pcapng_packet *pkt);

/* pcapng_reader_if - interface @ifid of the current section, or NULL. */
const struct pcapng_if *pcapng_reader_if(const struct pcapng_reader *r,
					 uint32_t ifid);

#endif
