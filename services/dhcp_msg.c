/* SPDX-License-Identifier: MIT */
/* dhcp_msg.c - DHCPv4 messages: a bounds-checked option parser and the reply writer. */
#include "services/dhcp_msg.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

enum {
	OFF_CIADDR = 12,
	OFF_CHADDR = 28,
	OFF_SNAME = 44,
	OFF_FILE = 108,
	OFF_OPTIONS = 240,
	OVERLOAD_FILE = 1,
	OVERLOAD_SNAME = 2,
};

static void hostname_take(struct dhcp_msg *m, const uint8_t *s, size_t len)
{
	size_t i;

	/* Some clients send a trailing NUL, some a FQDN: take the label. */
	while (len && s[len - 1] == 0)
		len--;
	for (i = 0; i < len && s[i] != '.'; i++)
		if (!isalnum(s[i]) && s[i] != '-')
			return;
	len = i;
	if (!len || len >= sizeof(m->hostname) || s[0] == '-' ||
	    s[len - 1] == '-')
		return;
	for (i = 0; i < len; i++)
		m->hostname[i] = (char)tolower(s[i]);
	m->hostname[len] = 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Walk one option area [off, off + len) of @p. The first occurrence of an
 * option wins. Return: 0, or -EBADMSG when an option overruns the area.
 */
static int options_walk(const struct pkt_view *p, size_t off, size_t len,
			struct dhcp_msg *m, uint8_t *overload, bool *seen_type)
{
	size_t end = off + len;

	while (off < end) {
		uint8_t code, olen;
		const uint8_t *v;

		if (pkt_u8(p, off, &code))
			return -EBADMSG;
		if (code == DHCP_OPT_PAD) {
			off++;
			continue;
		}
		if (code == DHCP_OPT_END)
			return 0;
		if (off + 2 > end || pkt_u8(p, off + 1, &olen) ||
		    off + 2 + olen > end)
			return -EBADMSG;
		v = pkt_get(p, off + 2, olen);
		if (!v)
			return -EBADMSG;
		switch (code) {
		case DHCP_OPT_MSG_TYPE:
			if (olen != 1)
				return -EBADMSG;
			if (!*seen_type)
				m->type = v[0];
			*seen_type = true;
			break;
		case DHCP_OPT_REQUESTED_IP:
			if (olen != 4)
				return -EBADMSG;
			if (!m->has_requested_ip)
				m->requested_ip = be32(v);
			m->has_requested_ip = true;
			break;
		case DHCP_OPT_SERVER_ID:
			if (olen != 4)
				return -EBADMSG;
			if (!m->has_server_id)
				m->server_id = be32(v);
			m->has_server_id = true;
			break;
		case DHCP_OPT_LEASE_TIME:
			if (olen == 4 && !m->lease_time)
				m->lease_time = be32(v);
			break;
		case DHCP_OPT_MAX_SIZE:
			if (olen == 2 && !m->max_size)
				m->max_size = (uint16_t)(v[0] << 8 | v[1]);
			break;
		case DHCP_OPT_HOSTNAME:
			if (!m->hostname[0])
				hostname_take(m, v, olen);
			break;
		case DHCP_OPT_CLIENT_ID:
			if (olen >= 2 && olen <= DHCP_CLIENT_ID_MAX &&
			    !m->client_id_len) {
				memcpy(m->client_id, v, olen);
				m->client_id_len = olen;
			}
			break;
		case DHCP_OPT_OVERLOAD:
			if (olen == 1 && overload)
				*overload = v[0];
			break;
		default:
			break;
		}
		off += 2 + (size_t)olen;
	}
	return 0;
}

int dhcp_msg_parse(const struct pkt_view *p, struct dhcp_msg *m)
{
	uint32_t magic;
	uint8_t overload = 0;
	bool seen_type = false;

	memset(m, 0, sizeof(*m));
	if (p->len < DHCP_MIN_LEN || pkt_be32(p, 236, &magic) ||
	    magic != DHCP_MAGIC)
		return -EBADMSG;
	pkt_u8(p, 0, &m->op);
	pkt_u8(p, 1, &m->htype);
	pkt_u8(p, 2, &m->hlen);
	pkt_u8(p, 3, &m->hops);
	pkt_be32(p, 4, &m->xid);
	pkt_be16(p, 8, &m->secs);
	pkt_be16(p, 10, &m->flags);
	pkt_be32(p, OFF_CIADDR, &m->ciaddr);
	pkt_be32(p, OFF_CIADDR + 4, &m->yiaddr);
	pkt_be32(p, OFF_CIADDR + 8, &m->siaddr);
	pkt_be32(p, OFF_CIADDR + 12, &m->giaddr);
	pkt_read(p, OFF_CHADDR, m->chaddr, 16);
	if (m->op != 1 || m->hlen > 16)
		return -EBADMSG;
	if (options_walk(p, OFF_OPTIONS, p->len - OFF_OPTIONS, m, &overload,
			 &seen_type))
		return -EBADMSG;
	/* Overloaded areas may not overload again (no third walk). */
	if ((overload & OVERLOAD_FILE) &&
	    options_walk(p, OFF_FILE, 128, m, NULL, &seen_type))
		return -EBADMSG;
	if ((overload & OVERLOAD_SNAME) &&
	    options_walk(p, OFF_SNAME, 64, m, NULL, &seen_type))
		return -EBADMSG;
	if (m->type < DHCP_DISCOVER || m->type > DHCP_INFORM)
		return -EBADMSG;
	return 0;
}

void dhcp_writer_start(struct dhcp_writer *w, uint8_t *buf, size_t cap,
		       const struct dhcp_msg *req, uint32_t yiaddr,
		       uint32_t siaddr)
{
	struct pkt_buf *b = &w->buf;

	w->buf.data = buf;
	w->buf.len = cap;
	w->overflow = false;
	w->len = OFF_OPTIONS;
	if (!pkt_put(b, 0, OFF_OPTIONS)) {
		w->overflow = true;
		return;
	}
	memset(buf, 0, OFF_OPTIONS);
	buf[0] = 2; /* BOOTREPLY */
	buf[1] = req->htype;
	buf[2] = req->hlen;
	pkt_put_be32(b, 4, req->xid);
	pkt_put_be16(b, 10, req->flags);
	pkt_put_be32(b, OFF_CIADDR, req->ciaddr);
	pkt_put_be32(b, OFF_CIADDR + 4, yiaddr);
	pkt_put_be32(b, OFF_CIADDR + 8, siaddr);
	pkt_put_be32(b, OFF_CIADDR + 12, req->giaddr);
	pkt_write(b, OFF_CHADDR, req->chaddr, 16);
	pkt_put_be32(b, 236, DHCP_MAGIC);
}

void dhcp_opt_put(struct dhcp_writer *w, uint8_t code, const void *data,
		  size_t len)
{
	/* Longer values are split into consecutive options (RFC 3396). */
	const uint8_t *s = data;

	do {
		size_t n = len > 255 ? 255 : len;
		uint8_t *d = pkt_put(&w->buf, w->len, 2 + n);

		if (!d || w->overflow) {
			w->overflow = true;
			return;
		}
		d[0] = code;
		d[1] = (uint8_t)n;
		if (n)
			memcpy(d + 2, s, n);
		w->len += 2 + n;
		s += n;
		len -= n;
	} while (len);
}

void dhcp_opt_put32(struct dhcp_writer *w, uint8_t code, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };

	dhcp_opt_put(w, code, b, 4);
}

int dhcp_writer_end(struct dhcp_writer *w)
{
	uint8_t *d = pkt_put(&w->buf, w->len, 1);

	if (!d || w->overflow)
		return -EMSGSIZE;
	*d = DHCP_OPT_END;
	w->len++;
	/* Pad to the BOOTP minimum of 300 bytes some old clients want. */
	while (w->len < 300) {
		d = pkt_put(&w->buf, w->len, 1);
		if (!d)
			return -EMSGSIZE;
		*d = 0;
		w->len++;
	}
	return (int)w->len;
}

const char *dhcp_msg_type_name(uint8_t type)
{
	static const char *const names[] = {
		"?",	"DISCOVER", "OFFER",   "REQUEST", "DECLINE",
		"ACK", "NAK",	   "RELEASE", "INFORM",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}
