/* SPDX-License-Identifier: MIT */
/* dns_msg.h - DNS messages (RFC 1035, EDNS0 RFC 6891): a bounds-checked query parser and an answer writer. */
#ifndef LOOM_SERVICES_DNS_MSG_H
#define LOOM_SERVICES_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/pkt.h"

enum {
	DNS_HDR_LEN = 12,
	DNS_NAME_MAX = 255, /* wire length, RFC 1035 2.3.4 */
	DNS_LABEL_MAX = 63,
	DNS_PTR_JUMPS_MAX = 32, /* compression pointers followed per name */
	DNS_UDP_MIN = 512,
	DNS_EDNS_MAX = 1232, /* what we advertise and answer up to */
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_ANY = 255,
	DNS_CLASS_IN = 1,
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_FLAG_QR = 0x8000,
	DNS_FLAG_AA = 0x0400,
	DNS_FLAG_TC = 0x0200,
	DNS_FLAG_RD = 0x0100,
	DNS_FLAG_RA = 0x0080,
};

/*
 * struct dns_query - the one question of a query, copied out.
 * @name: lower-cased, dotted, no trailing dot ("" for the root)
 * @name_plain: every label is letters, digits, '-' or '_' (only such
 *	names can be local; others are forwarded as they are)
 * @qend: offset just after the question (the bytes an answer echoes)
 * @udp_max: largest UDP answer the client takes (512, or EDNS0's size
 *	capped at DNS_EDNS_MAX)
 */
struct dns_query {
	uint16_t id, flags, opcode;
	char name[DNS_NAME_MAX + 1];
	bool name_plain;
	uint16_t qtype, qclass;
	size_t qend;
	bool edns;
	uint16_t udp_max;
};

/*
 * dns_name_read - the name at @off of @p, following compression
 * pointers (each must point before the label it is found in, at most
 * DNS_PTR_JUMPS_MAX per name, so loops end) into @out (dotted,
 * lower-cased, at least DNS_NAME_MAX + 1 bytes).
 * @end: where the name ends in place (after its first pointer or root)
 * @plain: set false when a label holds other than [a-z0-9_-]
 * Return: 0, or -EBADMSG (truncated, loop, label or name too long).
 */
int dns_name_read(const struct pkt_view *p, size_t off, char *out,
		  size_t *end, bool *plain);

/*
 * dns_query_parse - read a query message.
 * Return: 0; -EPROTO when it is a query we answer with FORMERR/NOTIMP
 * (@q->id, flags and opcode set); -EBADMSG when it is to be dropped
 * (shorter than a header, or a response).
 */
int dns_query_parse(const struct pkt_view *p, struct dns_query *q);

/* dns_msg_question_matches - does answer @p carry the question of @q? */
bool dns_msg_question_matches(const struct pkt_view *p,
			      const struct dns_query *q);

/* struct dns_writer - an answer to a parsed query, built in a buffer. */
struct dns_writer {
	struct pkt_buf buf;
	size_t len, limit;
	uint16_t ancount, nscount;
	bool overflow;
};

/*
 * dns_answer_start - header and echoed question of the reply to @q,
 * whose raw bytes are @raw (the question is copied from there).
 * @rcode: the response code; @aa: authoritative.
 */
void dns_answer_start(struct dns_writer *w, uint8_t *buf, size_t cap,
		      const struct pkt_view *raw, const struct dns_query *q,
		      uint16_t rcode, bool aa);

/* Answers for the question's name (a pointer to offset 12). */
void dns_answer_a(struct dns_writer *w, uint32_t ttl, uint32_t ip);
void dns_answer_aaaa(struct dns_writer *w, uint32_t ttl, const uint8_t ip[16]);
void dns_answer_ptr(struct dns_writer *w, uint32_t ttl, const char *name);
/* dns_answer_soa - an SOA of @zone in the authority section (negatives). */
void dns_answer_soa(struct dns_writer *w, uint32_t ttl, const char *zone);

/*
 * dns_answer_end - the OPT record when the query had one, counts, and
 * truncation: an answer longer than the client's limit is sent as the
 * header and question with TC set.
 * Return: the message length.
 */
int dns_answer_end(struct dns_writer *w, const struct dns_query *q);

#endif
