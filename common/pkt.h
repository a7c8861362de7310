/* SPDX-License-Identifier: MIT */
/* pkt.h - the one bounds-checked way to read and write untrusted frame bytes. */
#ifndef LOOM_COMMON_PKT_H
#define LOOM_COMMON_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Every byte that came from a guest, a peer or the wire is read through these
 * helpers: they check that the whole range [off, off + len) lies inside the
 * buffer, with overflow-safe arithmetic, and return NULL (or -1) when it does
 * not. Nothing casts raw frame bytes to a struct.
 */
struct pkt_view {
	const uint8_t *data;
	size_t len;
};

static inline const uint8_t *pkt_get(const struct pkt_view *p, size_t off,
				     size_t len)
{
	if (off > p->len || len > p->len - off)
		return NULL;
	return p->data + off;
}

static inline int pkt_read(const struct pkt_view *p, size_t off, void *dst,
			   size_t len)
{
	const uint8_t *s = pkt_get(p, off, len);

	if (!s)
		return -1;
	memcpy(dst, s, len);
	return 0;
}

static inline int pkt_u8(const struct pkt_view *p, size_t off, uint8_t *v)
{
	return pkt_read(p, off, v, 1);
}

/* Network byte order readers. */
static inline int pkt_be16(const struct pkt_view *p, size_t off, uint16_t *v)
{
	const uint8_t *s = pkt_get(p, off, 2);

	if (!s)
		return -1;
	*v = (uint16_t)(s[0] << 8 | s[1]);
	return 0;
}

static inline int pkt_be32(const struct pkt_view *p, size_t off, uint32_t *v)
{
	const uint8_t *s = pkt_get(p, off, 4);

	if (!s)
		return -1;
	*v = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
	     (uint32_t)s[2] << 8 | s[3];
	return 0;
}

/* Writable counterpart for buffers the caller owns. */
struct pkt_buf {
	uint8_t *data;
	size_t len;
};

static inline uint8_t *pkt_put(struct pkt_buf *b, size_t off, size_t len)
{
	if (off > b->len || len > b->len - off)
		return NULL;
	return b->data + off;
}

static inline int pkt_write(struct pkt_buf *b, size_t off, const void *src,
			    size_t len)
{
	uint8_t *d = pkt_put(b, off, len);

	if (!d)
		return -1;
	memcpy(d, src, len);
	return 0;
}

static inline int pkt_put_be16(struct pkt_buf *b, size_t off, uint16_t v)
{
	uint8_t s[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return pkt_write(b, off, s, 2);
}

static inline int pkt_put_be32(struct pkt_buf *b, size_t off, uint32_t v)
{
	uint8_t s[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };

	return pkt_write(b, off, s, 4);
}

#endif
