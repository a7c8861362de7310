/* SPDX-License-Identifier: MIT */
/* gateway_host_dns.c - the host's view of the networks' names (--dns-listen): one UDP socket and one TCP listener for every network. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "netd/dns_tcp.h"
#include "netd/gateway_priv.h"
#include "services/dns.h"
#include "services/dns_msg.h"

LOG_MODULE("netd-host-dns");

/*
 * A query goes to the network whose domain (or subnet, for PTR) it names;
 * names of no network get REFUSED, so the host's resolver (systemd-resolved
 * with Domains=~loom, say) keeps forwarding the rest elsewhere. Nothing is
 * forwarded from here. The same answers over UDP and over TCP (RFC 7766,
 * netd/dns_tcp.h: bounded connections, idle timeout), for answers that do
 * not fit a datagram and for resolvers that ask over TCP.
 * Return: the answer's length, or 0 (not a query: dropped).
 */
static int host_dns_answer(void *arg, const struct pkt_view *v, uint8_t *out,
			   size_t cap)
{
	struct netd *d = arg;
	struct dns_writer w;
	struct dns_query q;

	if (dns_query_parse(v, &q))
		return 0;
	for (unsigned int i = 0; i < d->nnets; i++) {
		struct netd_gw *g = d->nets[i]->gw;

		if (g && g->dns && dns_server_is_local(g->dns, q.name))
			return dns_server_query_local(g->dns, v, out, cap);
	}
	dns_answer_start(&w, out, cap, v, &q, DNS_RCODE_REFUSED, false);
	return dns_answer_end(&w, &q);
}

static void host_dns_on_query(struct evloop *l, int fd, uint32_t events,
			      void *arg)
{
	uint8_t in[1500], out[1500];

	/* Bounded: at most 64 datagrams per wake-up. */
	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		struct pkt_view v;
		ssize_t n = recvfrom(fd, in, sizeof(in), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &flen);
		int len;

		if (n < 0)
			break;
		v.data = in;
		v.len = (size_t)n;
		len = host_dns_answer(arg, &v, out, sizeof(out));
		if (len > 0)
			sendto(fd, out, (size_t)len, 0,
			       (struct sockaddr *)&from, flen);
	}
}

/* "127.0.0.1:5353" or "[::1]:5353". Return: 0, or -EINVAL. */
static int listen_addr_parse(const char *s, struct sockaddr_storage *ss,
			     socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(s, ':');
	unsigned int port;
	char addr[64];

	memset(ss, 0, sizeof(*ss));
	if (!colon || sscanf(colon + 1, "%u", &port) != 1 || !port ||
	    port > 65535 || (size_t)(colon - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(colon - s));
	addr[colon - s] = 0;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (addr[0] == '[' && addr[strlen(addr) - 1] == ']') {
		addr[strlen(addr) - 1] = 0;
		if (inet_pton(AF_INET6, addr + 1, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			*len = sizeof(*s6);
			return 0;
		}
	}
	return -EINVAL;
}

/* A socket of @type bound to @ss (TCP: listening). Return: fd or -errno. */
static int host_dns_socket(int type, const struct sockaddr_storage *ss,
			   socklen_t len)
{
	int one = 1, fd, ret;

	fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) ||
	    (type == SOCK_STREAM && listen(fd, DNS_TCP_CONNS_MAX))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int netd_host_dns_start(struct netd *d)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, tfd, ret;

	d->dns_host_fd = -1;
	d->dns_host_tcp = NULL;
	if (!d->dns_listen)
		return 0;
	if (listen_addr_parse(d->dns_listen, &ss, &len)) {
		log_err(MOD, "--dns-listen: '%s' is not ADDR:PORT (127.0.0.1:5353, "
			"[::1]:5353)", d->dns_listen);
		return -EINVAL;
	}
	fd = host_dns_socket(SOCK_DGRAM, &ss, len);
	tfd = fd < 0 ? fd : host_dns_socket(SOCK_STREAM, &ss, len);
	if (fd < 0 || tfd < 0) {
		ret = fd < 0 ? fd : tfd;
		log_err(MOD, "--dns-listen %s (%s): %s", d->dns_listen,
			fd < 0 ? "UDP" : "TCP", strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	ret = evloop_fd_add(d->loop, fd, EPOLLIN, host_dns_on_query, d);
	if (ret < 0) {
		close(fd);
		close(tfd);
		return ret;
	}
	d->dns_host_tcp = dns_tcp_new(d->loop, tfd, 0, host_dns_answer, d);
	if (!d->dns_host_tcp) {
		ret = -errno;
		evloop_fd_del(d->loop, fd);
		close(fd);
		return ret;
	}
	d->dns_host_fd = fd;
	log_info(MOD, "answering the networks' names on %s (UDP and TCP)",
		 d->dns_listen);
	return 0;
}

void netd_host_dns_stop(struct netd *d)
{
	dns_tcp_free(d->dns_host_tcp);
	d->dns_host_tcp = NULL;
	if (d->dns_host_fd < 0)
		return;
	evloop_fd_del(d->loop, d->dns_host_fd);
	close(d->dns_host_fd);
	d->dns_host_fd = -1;
}
