/* SPDX-License-Identifier: MIT */
/* pcapng.c - pcapng block writer and a bounds-checked block reader. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/pcapng.h"

enum {
	OPT_ENDOFOPT = 0,
	OPT_SHB_USERAPPL = 4,
	OPT_IF_NAME = 2,
	OPT_IF_DESCRIPTION = 3,
	OPT_IF_TSRESOL = 9,
	OPT_EPB_FLAGS = 2,
	BLOCK_HDR = 8,	   /* type + total length */
	BLOCK_TRAILER = 4, /* total length again */
	OPT_STR_MAX = 0xfff0,
};

static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* Size of an option holding @len bytes (0 when absent). */
static size_t opt_size(size_t len)
{
	return len ? 4 + pad4(len) : 0;
}

/* Write option @code with @len bytes of @val at @p. Return: bytes used. */
static size_t opt_put(uint8_t *p, uint16_t code, const void *val, size_t len)
{
	if (!len)
		return 0;
	put16(p, code);
	put16(p + 2, (uint16_t)len);
	memcpy(p + 4, val, len);
	memset(p + 4 + len, 0, pad4(len) - len);
	return 4 + pad4(len);
}

static size_t str_len(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > OPT_STR_MAX ? OPT_STR_MAX : n;
}

/* Header and trailer of a block of @total bytes at @buf. */
static void block_frame(uint8_t *buf, uint32_t type, size_t total)
{
	put32(buf, type);
	put32(buf + 4, (uint32_t)total);
	put32(buf + total - 4, (uint32_t)total);
}

size_t pcapng_shb_write(uint8_t *buf, size_t cap, const char *app)
{
	size_t alen = str_len(app), total, off;
	uint8_t *p;

	/* magic, version 1.0, section length -1 (unknown: a stream) */
	total = BLOCK_HDR + 16 + (alen ? opt_size(alen) + 4 : 0) + BLOCK_TRAILER;
	if (total > cap)
		return 0;
	p = buf + BLOCK_HDR;
	put32(p, PCAPNG_BYTE_ORDER_MAGIC);
	put16(p + 4, 1);
	put16(p + 6, 0);
	memset(p + 8, 0xff, 8);
	off = BLOCK_HDR + 16;
	if (alen) {
		off += opt_put(buf + off, OPT_SHB_USERAPPL, app, alen);
		memset(buf + off, 0, 4);
	}
	block_frame(buf, PCAPNG_BT_SHB, total);
	return total;
}

size_t pcapng_idb_write(uint8_t *buf, size_t cap, uint16_t linktype,
			uint32_t snaplen, const char *name, const char *descr)
{
	size_t nlen = str_len(name), dlen = str_len(descr), total, off;
	uint8_t tsresol = 9; /* 10^-9 s */

	total = BLOCK_HDR + 8 + opt_size(nlen) + opt_size(dlen) + opt_size(1) +
		4 + BLOCK_TRAILER;
	if (total > cap)
		return 0;
	off = BLOCK_HDR;
	put16(buf + off, linktype);
	put16(buf + off + 2, 0);
	put32(buf + off + 4, snaplen);
	off += 8;
	off += opt_put(buf + off, OPT_IF_NAME, name, nlen);
	off += opt_put(buf + off, OPT_IF_DESCRIPTION, descr, dlen);
	off += opt_put(buf + off, OPT_IF_TSRESOL, &tsresol, 1);
	memset(buf + off, 0, 4);
	block_frame(buf, PCAPNG_BT_IDB, total);
	return total;
}

size_t pcapng_epb_write(uint8_t *buf, size_t cap, uint32_t ifid,
			uint64_t ts_ns, uint32_t orig_len, const uint8_t *data,
			uint32_t caplen, unsigned int dir)
{
	size_t total, off;
	uint32_t flags = dir & 3;

	if (caplen > orig_len || caplen > PCAPNG_BLOCK_MAX)
		return 0;
	total = BLOCK_HDR + 20 + pad4(caplen) + (flags ? opt_size(4) + 4 : 0) +
		BLOCK_TRAILER;
	if (total > cap)
		return 0;
	off = BLOCK_HDR;
	put32(buf + off, ifid);
	put32(buf + off + 4, (uint32_t)(ts_ns >> 32));
	put32(buf + off + 8, (uint32_t)ts_ns);
	put32(buf + off + 12, caplen);
	put32(buf + off + 16, orig_len);
	off += 20;
	memcpy(buf + off, data, caplen);
	memset(buf + off + caplen, 0, pad4(caplen) - caplen);
	off += pad4(caplen);
	if (flags) {
		off += opt_put(buf + off, OPT_EPB_FLAGS, &flags, 4);
		memset(buf + off, 0, 4);
	}
	block_frame(buf, PCAPNG_BT_EPB, total);
	return total;
}

/* ---- reader ---- */

int pcapng_reader_init(struct pcapng_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->ifs = calloc(PCAPNG_IF_MAX, sizeof(*r->ifs));
	return r->ifs ? 0 : -ENOMEM;
}

void pcapng_reader_free(struct pcapng_reader *r)
{
	free(r->ifs);
	memset(r, 0, sizeof(*r));
}

static uint32_t get32(const struct pcapng_reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t get16(const struct pcapng_reader *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static void str_copy(char *dst, const uint8_t *src, size_t len)
{
	if (len >= PCAPNG_NAME_MAX)
		len = PCAPNG_NAME_MAX - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * Walk the options in @p[0..@len). Calls @fn for each until opt_endofopt.
 * Return: 0, or -EINVAL when an option runs past the end.
 */
static int opts_walk(const struct pcapng_reader *r, const uint8_t *p,
		     size_t len,
		     void (*fn)(void *arg, uint16_t code, const uint8_t *val,
				uint16_t vlen),
		     void *arg)
{
	size_t off = 0;

	while (len - off >= 4) {
		uint16_t code = get16(r, p + off), vlen = get16(r, p + off + 2);

		if (code == OPT_ENDOFOPT)
			return 0;
		if (pad4(vlen) > len - off - 4)
			return -EINVAL;
		fn(arg, code, p + off + 4, vlen);
		off += 4 + pad4(vlen);
	}
	return 0;
}

struct idb_opts {
	const struct pcapng_reader *r;
	struct pcapng_if *ifc;
};

static void idb_opt(void *arg, uint16_t code, const uint8_t *val,
		    uint16_t vlen)
{
	struct idb_opts *o = arg;

	if (code == OPT_IF_NAME)
		str_copy(o->ifc->name, val, vlen);
	else if (code == OPT_IF_DESCRIPTION)
		str_copy(o->ifc->descr, val, vlen);
	else if (code == OPT_IF_TSRESOL && vlen >= 1) {
		uint8_t e = val[0] & 0x7f;
		uint64_t per = 1;

		/* Bit 7: a power of 2, else of 10; beyond 2^63/10^19 the
		 * unit makes no sense: keep the default. */
		if (val[0] & 0x80) {
			if (e > 63)
				return;
			per = 1ull << e;
		} else {
			if (e > 19)
				return;
			while (e--)
				per *= 10;
		}
		o->ifc->ts_per_sec = per;
	}
}

struct epb_opts {
	const struct pcapng_reader *r;
	uint32_t flags;
};

static void epb_opt(void *arg, uint16_t code, const uint8_t *val,
		    uint16_t vlen)
{
	struct epb_opts *o = arg;

	if (code == OPT_EPB_FLAGS && vlen == 4)
		o->flags = get32(o->r, val);
}

/* A timestamp in @per units per second, as nanoseconds (saturating). */
static uint64_t ts_to_ns(uint64_t ts, uint64_t per)
{
	if (per == 1000000000ull)
		return ts;
	if (per < 1000000000ull && !(1000000000ull % per)) {
		uint64_t mul = 1000000000ull / per;

		return ts > UINT64_MAX / mul ? UINT64_MAX : ts * mul;
	}
	return (uint64_t)((unsigned __int128)ts * 1000000000ull / per);
}

static int read_shb(struct pcapng_reader *r, const uint8_t *body,
		    size_t blen)
{
	uint32_t magic;

	if (blen < 16)
		return -EINVAL;
	memcpy(&magic, body, 4);
	if (magic == PCAPNG_BYTE_ORDER_MAGIC)
		r->swap = false;
	else if (magic == __builtin_bswap32(PCAPNG_BYTE_ORDER_MAGIC))
		r->swap = true;
	else
		return -EINVAL;
	if (get16(r, body + 4) != 1)
		return -EINVAL; /* major version 1 only */
	r->in_section = true;
	r->n_if = 0;
	return PCAPNG_BLOCK_SECTION;
}

static int read_idb(struct pcapng_reader *r, const uint8_t *body,
		    size_t blen)
{
	struct pcapng_if *ifc;
	struct idb_opts o;

	if (blen < 8)
		return -EINVAL;
	if (r->n_if >= PCAPNG_IF_MAX)
		return -ENOSPC;
	ifc = &r->ifs[r->n_if];
	memset(ifc, 0, sizeof(*ifc));
	ifc->linktype = get16(r, body);
	ifc->snaplen = get32(r, body + 4);
	ifc->ts_per_sec = 1000000;
	o.r = r;
	o.ifc = ifc;
	if (opts_walk(r, body + 8, blen - 8, idb_opt, &o) < 0)
		return -EINVAL;
	r->n_if++;
	return PCAPNG_BLOCK_INTERFACE;
}

static int read_epb(struct pcapng_reader *r, const uint8_t *body,
		    size_t blen, struct pcapng_packet *pkt)
{
	struct epb_opts o = {r, 0};
	uint32_t caplen;
	uint64_t ts;

	if (blen < 20)
		return -EINVAL;
	pkt->ifid = get32(r, body);
	if (pkt->ifid >= r->n_if)
		return -EINVAL;
	ts = (uint64_t)get32(r, body + 4) << 32 | get32(r, body + 8);
	caplen = get32(r, body + 12);
	pkt->orig_len = get32(r, body + 16);
	if (caplen > blen - 20 || pad4(caplen) > blen - 20)
		return -EINVAL;
	pkt->caplen = caplen;
	pkt->data = body + 20;
	pkt->ts_ns = ts_to_ns(ts, r->ifs[pkt->ifid].ts_per_sec);
	if (opts_walk(r, body + 20 + pad4(caplen), blen - 20 - pad4(caplen),
		      epb_opt, &o) < 0)
		return -EINVAL;
	pkt->dir = o.flags & 3;
	return PCAPNG_BLOCK_PACKET;
}

int pcapng_read_block(struct pcapng_reader *r, const uint8_t *buf,
		      size_t len, size_t *used, struct pcapng_packet *pkt)
{
	uint32_t type, total;
	const uint8_t *body;
	size_t blen;
	int ret;

	if (len < BLOCK_HDR + 4)
		return 0;
	memcpy(&type, buf, 4);
	if (type == PCAPNG_BT_SHB) {
		/* The SHB's own byte order decides how its length reads. */
		uint32_t magic;

		memcpy(&magic, buf + 8, 4);
		r->swap = magic == __builtin_bswap32(PCAPNG_BYTE_ORDER_MAGIC);
	} else if (!r->in_section) {
		return -EINVAL;
	}
	type = get32(r, buf);
	total = get32(r, buf + 4);
	if (total > PCAPNG_BLOCK_MAX)
		return -E2BIG;
	if (total < BLOCK_HDR + BLOCK_TRAILER || total % 4)
		return -EINVAL;
	if (len < total)
		return 0;
	if (get32(r, buf + total - 4) != total)
		return -EINVAL;
	body = buf + BLOCK_HDR;
	blen = total - BLOCK_HDR - BLOCK_TRAILER;
	switch (type) {
	case PCAPNG_BT_SHB:
		ret = read_shb(r, body, blen);
		break;
	case PCAPNG_BT_IDB:
		ret = read_idb(r, body, blen);
		break;
	case PCAPNG_BT_EPB:
		ret = read_epb(r, body, blen, pkt);
		break;
	default:
		ret = PCAPNG_BLOCK_OTHER;
	}
	if (ret > 0)
		*used = total;
	return ret;
}

const struct pcapng_if *pcapng_reader_if(const struct pcapng_reader *r,
					 uint32_t ifid)
{
	return ifid < r->n_if ? &r->ifs[ifid] : NULL;
}
