/* SPDX-License-Identifier: MIT */
/* dns_msg.c - DNS messages: names with bounded compression, the query parser, the answer writer. */
#include "services/dns_msg.h"

#include <errno.h>
#include <string.h>

int dns_name_read(const struct pkt_view *p, size_t off, char *out,
		  size_t *end, bool *plain)
{
	size_t o = 0, wire = 0, cur = off;
	int jumps = 0;
	bool jumped = false;

	*plain = true;
	for (;;) {
		uint8_t len;
		const uint8_t *lab;

		if (pkt_u8(p, cur, &len))
			return -EBADMSG;
		if ((len & 0xc0) == 0xc0) {
			uint8_t lo;
			size_t target;

			if (pkt_u8(p, cur + 1, &lo))
				return -EBADMSG;
			target = (size_t)(len & 0x3f) << 8 | lo;
			/* Only backwards, and a bounded number of times. */
			if (target >= cur || ++jumps > DNS_PTR_JUMPS_MAX)
				return -EBADMSG;
			if (!jumped)
				*end = cur + 2;
			jumped = true;
			cur = target;
			continue;
		}
		if (len & 0xc0) /* 0x40/0x80: extended label types */
			return -EBADMSG;
		if (len == 0) {
			if (!jumped)
				*end = cur + 1;
			break;
		}
		wire += 1 + len;
		if (wire + 1 > DNS_NAME_MAX)
			return -EBADMSG;
		lab = pkt_get(p, cur + 1, len);
		if (!lab)
			return -EBADMSG;
		if (o)
			out[o++] = '.';
		for (uint8_t i = 0; i < len; i++) {
			char c = (char)lab[i];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '-' || c == '_')) {
				*plain = false;
				c = '?';
			}
			out[o++] = c;
		}
		cur += 1 + (size_t)len;
	}
	out[o] = 0;
	return 0;
}

/* Skip one resource record at @off. Return: the offset after it, or 0. */
static size_t rr_skip(const struct pkt_view *p, size_t off, uint16_t *type,
		      uint16_t *class, uint32_t *ttl)
{
	char name[DNS_NAME_MAX + 1];
	size_t end;
	bool plain;
	uint16_t rdlen;

	if (dns_name_read(p, off, name, &end, &plain) ||
	    pkt_be16(p, end, type) || pkt_be16(p, end + 2, class) ||
	    pkt_be32(p, end + 4, ttl) || pkt_be16(p, end + 8, &rdlen) ||
	    !pkt_get(p, end + 10, rdlen))
		return 0;
	return end + 10 + rdlen;
}

int dns_query_parse(const struct pkt_view *p, struct dns_query *q)
{
	uint16_t qd, an, ns, ar;
	size_t off;

	memset(q, 0, sizeof(*q));
	q->udp_max = DNS_UDP_MIN;
	if (pkt_be16(p, 0, &q->id) || pkt_be16(p, 2, &q->flags) ||
	    pkt_be16(p, 4, &qd) || pkt_be16(p, 6, &an) ||
	    pkt_be16(p, 8, &ns) || pkt_be16(p, 10, &ar))
		return -EBADMSG;
	if (q->flags & DNS_FLAG_QR)
		return -EBADMSG;
	q->opcode = (q->flags >> 11) & 0xf;
	if (q->opcode != 0 || qd != 1)
		return -EPROTO;
	if (dns_name_read(p, DNS_HDR_LEN, q->name, &off, &q->name_plain) ||
	    pkt_be16(p, off, &q->qtype) || pkt_be16(p, off + 2, &q->qclass))
		return -EPROTO;
	q->qend = off + 4;
	off = q->qend;
	/* Records after the question: each bounded by the message. */
	for (uint32_t i = 0; i < (uint32_t)an + ns + ar; i++) {
		uint16_t type, class;
		uint32_t ttl;
		size_t next = rr_skip(p, off, &type, &class, &ttl);

		if (!next)
			return -EPROTO;
		if (i >= (uint32_t)an + ns && type == DNS_TYPE_OPT) {
			if (q->edns) /* two OPT records: RFC 6891 6.1.1 */
				return -EPROTO;
			q->edns = true;
			q->udp_max = class < DNS_UDP_MIN ? DNS_UDP_MIN :
				     class > DNS_EDNS_MAX ? DNS_EDNS_MAX :
							    class;
		}
		off = next;
	}
	return 0;
}

bool dns_msg_question_matches(const struct pkt_view *p,
			      const struct dns_query *q)
{
	char name[DNS_NAME_MAX + 1];
	uint16_t qd, type, class;
	size_t end;
	bool plain;

	if (pkt_be16(p, 4, &qd) || qd != 1 ||
	    dns_name_read(p, DNS_HDR_LEN, name, &end, &plain) ||
	    pkt_be16(p, end, &type) || pkt_be16(p, end + 2, &class))
		return false;
	return type == q->qtype && class == q->qclass && !strcmp(name, q->name);
}

static void put(struct dns_writer *w, const void *d, size_t n)
{
	if (w->overflow || w->len + n > w->limit ||
	    pkt_write(&w->buf, w->len, d, n)) {
		w->overflow = true;
		return;
	}
	w->len += n;
}

static void put16(struct dns_writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(w, b, 2);
}

static void put32(struct dns_writer *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}

static void put_name(struct dns_writer *w, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		uint8_t lb = (uint8_t)l;

		if (!l || l > DNS_LABEL_MAX) {
			w->overflow = true;
			return;
		}
		put(w, &lb, 1);
		put(w, name, l);
		name += l + (dot ? 1 : 0);
	}
	put(w, "", 1);
}

void dns_answer_start(struct dns_writer *w, uint8_t *buf, size_t cap,
		      const struct pkt_view *raw, const struct dns_query *q,
		      uint16_t rcode, bool aa)
{
	uint16_t flags = DNS_FLAG_QR | DNS_FLAG_RA | (q->flags & DNS_FLAG_RD) |
			 (uint16_t)(q->opcode << 11) | (rcode & 0xf);
	const uint8_t *qs = q->qend ? pkt_get(raw, DNS_HDR_LEN,
					      q->qend - DNS_HDR_LEN) :
				      NULL;

	memset(w, 0, sizeof(*w));
	w->buf.data = buf;
	w->buf.len = cap;
	w->limit = cap < q->udp_max ? cap : q->udp_max;
	if (q->edns && w->limit >= DNS_HDR_LEN + 11)
		w->limit -= 11; /* room for the OPT record */
	if (aa)
		flags |= DNS_FLAG_AA;
	put16(w, q->id);
	put16(w, flags);
	put16(w, qs ? 1 : 0);
	put32(w, 0); /* an, ns: set at the end */
	put16(w, 0);
	if (qs)
		put(w, qs, q->qend - DNS_HDR_LEN);
}

static void rr_head(struct dns_writer *w, uint16_t type, uint32_t ttl,
		    uint16_t rdlen)
{
	put16(w, 0xc000 | DNS_HDR_LEN);
	put16(w, type);
	put16(w, DNS_CLASS_IN);
	put32(w, ttl);
	put16(w, rdlen);
}

void dns_answer_a(struct dns_writer *w, uint32_t ttl, uint32_t ip)
{
	rr_head(w, DNS_TYPE_A, ttl, 4);
	put32(w, ip);
	w->ancount++;
}

void dns_answer_aaaa(struct dns_writer *w, uint32_t ttl, const uint8_t ip[16])
{
	rr_head(w, DNS_TYPE_AAAA, ttl, 16);
	put(w, ip, 16);
	w->ancount++;
}

static uint16_t name_wire_len(const char *name)
{
	return (uint16_t)(*name ? strlen(name) + 2 : 1);
}

void dns_answer_ptr(struct dns_writer *w, uint32_t ttl, const char *name)
{
	rr_head(w, DNS_TYPE_PTR, ttl, name_wire_len(name));
	put_name(w, name);
	w->ancount++;
}

void dns_answer_soa(struct dns_writer *w, uint32_t ttl, const char *zone)
{
	static const char ns[] = "gateway", hm[] = "hostmaster";
	size_t zl = name_wire_len(zone);

	put_name(w, zone);
	put16(w, DNS_TYPE_SOA);
	put16(w, DNS_CLASS_IN);
	put32(w, ttl);
	put16(w, (uint16_t)(2 * zl + sizeof(ns) + sizeof(hm) + 20));
	put(w, (uint8_t[]){ sizeof(ns) - 1 }, 1);
	put(w, ns, sizeof(ns) - 1);
	put_name(w, zone);
	put(w, (uint8_t[]){ sizeof(hm) - 1 }, 1);
	put(w, hm, sizeof(hm) - 1);
	put_name(w, zone);
	put32(w, 1);	/* serial */
	put32(w, 3600); /* refresh */
	put32(w, 600);	/* retry */
	put32(w, 86400);
	put32(w, ttl); /* negative-caching TTL */
	w->nscount++;
}

int dns_answer_end(struct dns_writer *w, const struct dns_query *q)
{
	size_t qlen = q->qend ? q->qend : DNS_HDR_LEN;

	if (w->len < DNS_HDR_LEN)
		return -EMSGSIZE;
	if (w->overflow) {
		/* Header and question with TC: the client retries (TCP). */
		if (qlen > w->limit) {
			qlen = DNS_HDR_LEN;
			pkt_put_be16(&w->buf, 4, 0);
		}
		w->len = qlen;
		w->ancount = w->nscount = 0;
		w->overflow = false;
		w->buf.data[2] |= DNS_FLAG_TC >> 8;
	}
	w->limit = w->buf.len;
	if (q->edns) {
		put(w, "", 1);
		put16(w, DNS_TYPE_OPT);
		put16(w, DNS_EDNS_MAX);
		put32(w, 0);
		put16(w, 0);
	}
	pkt_put_be16(&w->buf, 6, w->ancount);
	pkt_put_be16(&w->buf, 8, w->nscount);
	pkt_put_be16(&w->buf, 10, q->edns ? 1 : 0);
	return (int)w->len;
}
