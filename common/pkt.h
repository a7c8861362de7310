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
 *
 * Each helper is a macro over its *_at() form that adds the caller's
 * function and line: a refused range is reported at debug level (module
 * "pkt", rate-limited: `--log pkt=debug`) naming who asked for what, so a
 * parser bug is told from a short frame without a debugger. The check and
 * the fast path stay inline; only the refusal calls out.
 */
struct pkt_view {
	const uint8_t *data;
	size_t len;
};

/* Reports [off, off + len) refused in @have bytes (common/pkt.c). */
void pkt_range_refused(const char *func, int line, size_t have, size_t off,
		       size_t len);

#define PKT_AT __func__, __LINE__

static inline const uint8_t *pkt_get_at(const struct pkt_view *p, size_t off,
					size_t len, const char *func, int line)
{
	if (off > p->len || len > p->len - off) {
		pkt_range_refused(func, line, p->len, off, len);
		return NULL;
	}
	return p->data + off;
}
#define pkt_get(p, off, len) pkt_get_at(p, off, len, PKT_AT)

static inline int pkt_read_at(const struct pkt_view *p, size_t off, void *dst,
			      size_t len, const char *func, int line)
{
	const uint8_t *s = pkt_get_at(p, off, len, func, line);

	if (!s)
		return -1;
	memcpy(dst, s, len);
	return 0;
}
#define pkt_read(p, off, dst, len) pkt_read_at(p, off, dst, len, PKT_AT)
#define pkt_u8(p, off, v) pkt_read_at(p, off, v, 1, PKT_AT)

/* Network byte order readers. */
static inline int pkt_be16_at(const struct pkt_view *p, size_t off,
			      uint16_t *v, const char *func, int line)
{
	const uint8_t *s = pkt_get_at(p, off, 2, func, line);

	if (!s)
		return -1;
	*v = (uint16_t)(s[0] << 8 | s[1]);
	return 0;
}
#define pkt_be16(p, off, v) pkt_be16_at(p, off, v, PKT_AT)

static inline int pkt_be32_at(const struct pkt_view *p, size_t off,
			      uint32_t *v, const char *func, int line)
{
	const uint8_t *s = pkt_get_at(p, off, 4, func, line);

	if (!s)
		return -1;
	*v = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
	     (uint32_t)s[2] << 8 | s[3];
	return 0;
}
#define pkt_be32(p, off, v) pkt_be32_at(p, off, v, PKT_AT)

/* Writable counterpart for buffers the caller owns. */
struct pkt_buf {
	uint8_t *data;
	size_t len;
};

static inline uint8_t *pkt_put_at(struct pkt_buf *b, size_t off, size_t len,
				   const char *func, int line)
{
	if (off > b->len || len > b->len - off) {
		pkt_range_refused(func, line, b->len, off, len);
		return NULL;
	}
	return b->data + off;
}
#define pkt_put(b, off, len) pkt_put_at(b, off, len, PKT_AT)

static inline int pkt_write_at(struct pkt_buf *b, size_t off, const void *src,
			       size_t len, const char *func, int line)
{
	uint8_t *d = pkt_put_at(b, off, len, func, line);

	if (!d)
		return -1;
	memcpy(d, src, len);
	return 0;
}
#define pkt_write(b, off, src, len) pkt_write_at(b, off, src, len, PKT_AT)

static inline int pkt_put_be16_at(struct pkt_buf *b, size_t off, uint16_t v,
				  const char *func, int line)
{
	uint8_t s[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return pkt_write_at(b, off, s, 2, func, line);
}
#define pkt_put_be16(b, off, v) pkt_put_be16_at(b, off, v, PKT_AT)

static inline int pkt_put_be32_at(struct pkt_buf *b, size_t off, uint32_t v,
				  const char *func, int line)
{
	uint8_t s[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };

	return pkt_write_at(b, off, s, 4, func, line);
}
#define pkt_put_be32(b, off, v) pkt_put_be32_at(b, off, v, PKT_AT)

#endif
