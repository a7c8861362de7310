/* SPDX-License-Identifier: MIT */
/* dns_tcp.h - DNS over TCP (RFC 7766) on a listening socket of netd's control loop: bounded connections, idle timeout. */
#ifndef LOOM_NETD_DNS_TCP_H
#define LOOM_NETD_DNS_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "common/evloop.h"
#include "common/pkt.h"

/*
 * Each message on a connection is a 2-byte length and the message; a
 * client may send several queries without waiting (pipelining) and gets
 * the answers in order. Limits:
 *  - at most DNS_TCP_CONNS_MAX connections; one more is accepted and
 *    closed at once (the client falls back or retries);
 *  - a connection with no complete query for @idle_ms (DNS_TCP_IDLE_MS)
 *    is closed (RFC 7766 6.2.3: the server may close idle connections);
 *  - a query longer than DNS_TCP_QUERY_MAX closes the connection;
 *  - answers a client does not read stay in its output buffer (one
 *    answer's worth, 2 + 65535 bytes); no further query of that
 *    connection is read until it drained.
 */
enum {
	DNS_TCP_CONNS_MAX = 64,
	DNS_TCP_IDLE_MS = 10000,
	DNS_TCP_QUERY_MAX = 4096,
	DNS_TCP_ANSWER_MAX = 65535,
};

/*
 * dns_tcp_answer_fn - answer query @q into @out (@cap bytes).
 * Return: the answer's length, or 0 for none (the connection stays).
 */
typedef int (*dns_tcp_answer_fn)(void *arg, const struct pkt_view *q,
				 uint8_t *out, size_t cap);

struct dns_tcp;

/*
 * dns_tcp_new - serve DNS over TCP on @listen_fd (bound, listening,
 * non-blocking; the server owns and closes it) on loop @l; @idle_ms 0:
 * DNS_TCP_IDLE_MS.
 * Return: the server, or NULL with errno set.
 */
struct dns_tcp *dns_tcp_new(struct evloop *l, int listen_fd, uint32_t idle_ms,
			    dns_tcp_answer_fn answer, void *arg);
void dns_tcp_free(struct dns_tcp *t);

/* dns_tcp_conns - connections open now (tests, status). */
unsigned int dns_tcp_conns(const struct dns_tcp *t);

#endif
