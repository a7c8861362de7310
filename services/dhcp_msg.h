/* SPDX-License-Identifier: MIT */
/* dhcp_msg.h - DHCPv4 messages (RFC 2131/2132): a bounds-checked parser and an option writer. */
#ifndef LOOM_SERVICES_DHCP_MSG_H
#define LOOM_SERVICES_DHCP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/pkt.h"

enum dhcp_msg_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

enum dhcp_opt {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_NETMASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_DOMAIN = 15,
	DHCP_OPT_MTU = 26,
	DHCP_OPT_BROADCAST = 28,
	DHCP_OPT_NTP = 42,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAM_LIST = 55,
	DHCP_OPT_MESSAGE = 56,
	DHCP_OPT_MAX_SIZE = 57,
	DHCP_OPT_RENEWAL = 58,
	DHCP_OPT_REBINDING = 59,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_SEARCH = 119,
	DHCP_OPT_CLASSLESS_ROUTES = 121,
	DHCP_OPT_END = 255,
};

enum {
	DHCP_FIXED_LEN = 236, /* op .. file, before the magic cookie */
	DHCP_MIN_LEN = 240,   /* with the cookie */
	DHCP_MAGIC = 0x63825363,
	DHCP_FLAG_BROADCAST = 0x8000,
	DHCP_HOSTNAME_MAX = 64,	 /* with the NUL: one DNS label */
	DHCP_CLIENT_ID_MAX = 64, /* longer ids fall back to the MAC */
	DHCP_SERVER_PORT = 67,
	DHCP_CLIENT_PORT = 68,
	/* Smallest reply buffer every client must accept (RFC 2131 2). */
	DHCP_REPLY_MIN = 576 - 28,
};

/*
 * struct dhcp_msg - the fields of a request a server acts on, copied out.
 * @hostname: option 12 when it is a valid DNS label (lower-cased), else ""
 * @client_id: option 61 (@client_id_len 0: absent or too long)
 * @has_*: whether the option was present
 */
struct dhcp_msg {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host order */
	uint8_t chaddr[16];
	uint8_t type;
	bool has_requested_ip, has_server_id;
	uint32_t requested_ip, server_id;
	uint32_t lease_time;
	uint16_t max_size;
	char hostname[DHCP_HOSTNAME_MAX];
	uint8_t client_id[DHCP_CLIENT_ID_MAX];
	uint8_t client_id_len;
};

/*
 * dhcp_msg_parse - read a BOOTREQUEST from a UDP payload. Options come
 * from the options field and, with option 52, from file/sname; every
 * option is bounds-checked and the walk ends at END or the end of its
 * area, so it is bounded by the payload length.
 * Return: 0, or -EBADMSG (too short, not a request, bad magic, option
 * overrunning its area, no or bad message type, hlen > 16).
 */
int dhcp_msg_parse(const struct pkt_view *p, struct dhcp_msg *m);

/* struct dhcp_writer - a reply being built into a caller's buffer. */
struct dhcp_writer {
	struct pkt_buf buf;
	size_t len;
	bool overflow;
};

/*
 * dhcp_writer_start - write the fixed part of a BOOTREPLY to @req into
 * @buf, with @yiaddr, @siaddr, and the magic cookie.
 */
void dhcp_writer_start(struct dhcp_writer *w, uint8_t *buf, size_t cap,
		       const struct dhcp_msg *req, uint32_t yiaddr,
		       uint32_t siaddr);

/* dhcp_opt_put - append option @code; sets w->overflow when it does not fit. */
void dhcp_opt_put(struct dhcp_writer *w, uint8_t code, const void *data,
		  size_t len);
void dhcp_opt_put32(struct dhcp_writer *w, uint8_t code, uint32_t v);

/* dhcp_writer_end - append END and pad. Return: length, or -EMSGSIZE. */
int dhcp_writer_end(struct dhcp_writer *w);

/* dhcp_msg_type_name - "DISCOVER", ..., "?" */
const char *dhcp_msg_type_name(uint8_t type);

#endif
