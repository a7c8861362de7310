/* SPDX-License-Identifier: MIT */
/* dns.c - the DNS server: local A/AAAA/PTR answers, a bounded table of queries forwarded upstream. */
#include "services/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "services/dns_cache.h"

LOG_MODULE("svc-dns");

enum { FWD_QUERY_MAX = 1500 };

struct fwd {
	bool used;
	int fd;
	uint32_t server; /* index into cfg.upstream */
	uint32_t tries;
	uint16_t id_up, id_client;
	uint64_t deadline_ms;
	struct dns_client client;
	struct dns_query q;
	size_t len;
	uint8_t msg[FWD_QUERY_MAX];
};

struct dns_server {
	struct dns_server_config cfg;
	const struct dns_lookup_ops *ops;
	void *arg;
	dns_reply_fn reply;
	void *reply_arg;
	int epfd;
	struct fwd *fwd;
	uint32_t *free_stack, nfree;
	struct dns_cache *cache;
	struct dns_stats st;
	uint8_t rbuf[65536];
};

struct dns_server *dns_server_new(const struct dns_server_config *cfg,
				  const struct dns_lookup_ops *ops, void *arg,
				  dns_reply_fn reply, void *reply_arg)
{
	struct dns_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = *cfg;
	if (!s->cfg.ttl)
		s->cfg.ttl = DNS_LOCAL_TTL_DEFAULT;
	if (!s->cfg.fwd_max)
		s->cfg.fwd_max = DNS_FWD_MAX_DEFAULT;
	if (!s->cfg.fwd_timeout_ms)
		s->cfg.fwd_timeout_ms = DNS_FWD_TIMEOUT_MS_DEFAULT;
	if (s->cfg.nupstream > DNS_UPSTREAM_MAX)
		s->cfg.nupstream = DNS_UPSTREAM_MAX;
	s->ops = ops;
	s->arg = arg;
	s->reply = reply;
	s->reply_arg = reply_arg;
	s->fwd = calloc(s->cfg.fwd_max, sizeof(*s->fwd));
	s->free_stack = calloc(s->cfg.fwd_max, sizeof(*s->free_stack));
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->cache = dns_cache_new(s->cfg.cache_max);
	if (!s->fwd || !s->free_stack || s->epfd < 0 || !s->cache) {
		dns_server_free(s);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < s->cfg.fwd_max; i++)
		s->free_stack[s->nfree++] = s->cfg.fwd_max - 1 - i;
	return s;
}

static void fwd_release(struct dns_server *s, uint32_t i)
{
	struct fwd *f = &s->fwd[i];

	if (!f->used)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, f->fd, NULL);
	close(f->fd);
	f->used = false;
	s->free_stack[s->nfree++] = i;
}

void dns_server_free(struct dns_server *s)
{
	if (!s)
		return;
	if (s->fwd)
		for (uint32_t i = 0; i < s->cfg.fwd_max; i++)
			if (s->fwd[i].used) {
				close(s->fwd[i].fd);
				s->fwd[i].used = false;
			}
	if (s->epfd >= 0)
		close(s->epfd);
	dns_cache_free(s->cache);
	free(s->fwd);
	free(s->free_stack);
	free(s);
}

int dns_server_fd(struct dns_server *s)
{
	return s->epfd;
}

void dns_server_stats_get(const struct dns_server *s, struct dns_stats *st)
{
	struct dns_cache_stats cs;

	*st = s->st;
	dns_cache_stats_get(s->cache, &cs);
	st->cache_hits = cs.hits;
	st->cache_entries = dns_cache_count(s->cache);
}

/* "host.domain" or "host" -> "host"; NULL when not a local name. */
static const char *local_host(const struct dns_server *s, const char *name,
			      char *host, size_t cap)
{
	size_t nl = strlen(name), dl = strlen(s->cfg.domain);

	if (dl && nl > dl + 1 && !strcmp(name + nl - dl, s->cfg.domain) &&
	    name[nl - dl - 1] == '.') {
		if (nl - dl - 1 >= cap)
			return NULL;
		memcpy(host, name, nl - dl - 1);
		host[nl - dl - 1] = 0;
		return host;
	}
	if (nl && !strchr(name, '.') && nl < cap) {
		memcpy(host, name, nl + 1);
		return host;
	}
	return NULL;
}

/* "4.3.2.1.in-addr.arpa" -> 1.2.3.4. Return: 0, or -1. */
static int ptr4_parse(const char *name, uint32_t *ip)
{
	unsigned int o[4];
	char tail[32];
	int n = 0;

	if (sscanf(name, "%3u.%3u.%3u.%3u.%31s%n", &o[0], &o[1], &o[2], &o[3],
		   tail, &n) != 5 ||
	    strcmp(tail, "in-addr.arpa") || name[n])
		return -1;
	for (int i = 0; i < 4; i++)
		if (o[i] > 255)
			return -1;
	*ip = o[3] << 24 | o[2] << 16 | o[1] << 8 | o[0];
	return 0;
}

static int answer_local(struct dns_server *s, const struct pkt_view *raw,
			const struct dns_query *q, const char *host,
			uint8_t *out, size_t cap)
{
	struct dns_writer w;
	uint32_t ip4;
	uint8_t ip6[16];
	bool has4 = !s->ops->addr4(s->arg, host, &ip4);
	bool has6 = s->ops->addr6 && !s->ops->addr6(s->arg, host, ip6);
	bool any = q->qtype == DNS_TYPE_ANY;

	s->st.local++;
	if (!has4 && !has6) {
		s->st.nxdomain++;
		dns_answer_start(&w, out, cap, raw, q, DNS_RCODE_NXDOMAIN, true);
		dns_answer_soa(&w, s->cfg.ttl, s->cfg.domain);
		return dns_answer_end(&w, q);
	}
	dns_answer_start(&w, out, cap, raw, q, DNS_RCODE_NOERROR, true);
	if (has4 && (q->qtype == DNS_TYPE_A || any))
		dns_answer_a(&w, s->cfg.ttl, ip4);
	if (has6 && (q->qtype == DNS_TYPE_AAAA || any))
		dns_answer_aaaa(&w, s->cfg.ttl, ip6);
	if (!w.ancount)
		dns_answer_soa(&w, s->cfg.ttl, s->cfg.domain);
	return dns_answer_end(&w, q);
}

static int answer_ptr(struct dns_server *s, const struct pkt_view *raw,
		      const struct dns_query *q, uint32_t ip, uint8_t *out,
		      size_t cap)
{
	const char *host = s->ops->name4(s->arg, ip);
	char fqdn[2 * DNS_NAME_MAX + 2];
	struct dns_writer w;

	s->st.local++;
	if (!host || (q->qtype != DNS_TYPE_PTR && q->qtype != DNS_TYPE_ANY)) {
		dns_answer_start(&w, out, cap, raw, q,
				 host ? DNS_RCODE_NOERROR : DNS_RCODE_NXDOMAIN,
				 true);
		if (!host)
			s->st.nxdomain++;
		dns_answer_soa(&w, s->cfg.ttl, s->cfg.domain);
		return dns_answer_end(&w, q);
	}
	dns_answer_start(&w, out, cap, raw, q, DNS_RCODE_NOERROR, true);
	if (s->cfg.domain[0])
		snprintf(fqdn, sizeof(fqdn), "%s.%s", host, s->cfg.domain);
	else
		snprintf(fqdn, sizeof(fqdn), "%s", host);
	dns_answer_ptr(&w, s->cfg.ttl, fqdn);
	return dns_answer_end(&w, q);
}

static int answer_rcode(const struct pkt_view *raw, const struct dns_query *q,
			uint16_t rcode, uint8_t *out, size_t cap)
{
	struct dns_writer w;

	dns_answer_start(&w, out, cap, raw, q, rcode, false);
	return dns_answer_end(&w, q);
}

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					   sizeof(struct sockaddr_in);
}

/* Send @f to its current server on a fresh socket. Return: 0 or -errno. */
static int fwd_send(struct dns_server *s, uint32_t i, uint64_t now_ms)
{
	struct fwd *f = &s->fwd[i];
	const struct sockaddr_storage *up = &s->cfg.upstream[f->server];
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
	int fd;

	if (getrandom(&f->id_up, sizeof(f->id_up), GRND_NONBLOCK) != 2)
		f->id_up = (uint16_t)(now_ms * 2654435761u >> 7);
	f->msg[0] = (uint8_t)(f->id_up >> 8);
	f->msg[1] = (uint8_t)f->id_up;
	fd = socket(up->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	/* connect: the kernel delivers only the server's address and port;
	 * the source port is the kernel's random ephemeral one. */
	if (connect(fd, (const struct sockaddr *)up, sa_len(up)) ||
	    send(fd, f->msg, f->len, 0) != (ssize_t)f->len ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		close(fd);
		return err;
	}
	f->fd = fd;
	f->tries++;
	f->deadline_ms = now_ms + s->cfg.fwd_timeout_ms;
	return 0;
}

/* Header and question of @raw's answer with TC set: it is too long. */
static int answer_truncated(const struct pkt_view *raw,
			    const struct dns_query *q, uint16_t rcode,
			    uint8_t *out, size_t cap)
{
	struct dns_writer w;

	dns_answer_start(&w, out, cap, raw, q, rcode, false);
	w.overflow = true;
	return dns_answer_end(&w, q);
}

static int forward(struct dns_server *s, const struct pkt_view *raw,
		   const struct dns_query *q, const struct dns_client *c,
		   uint8_t *out, size_t cap, uint64_t now_ms)
{
	uint32_t i;
	struct fwd *f;
	size_t n;

	n = dns_cache_get(s->cache, raw, q, out, cap, now_ms);
	if (n > q->udp_max && !c->tcp)
		return answer_truncated(raw, q, out[3] & 0xf, out, cap);
	if (n)
		return (int)n;
	if (!s->cfg.nupstream || raw->len > FWD_QUERY_MAX)
		return answer_rcode(raw, q, DNS_RCODE_SERVFAIL, out, cap);
	if (!s->nfree) {
		s->st.fwd_full++;
		log_rl(LOG_WARN, MOD, "%u queries outstanding: SERVFAIL",
		       s->cfg.fwd_max);
		return answer_rcode(raw, q, DNS_RCODE_SERVFAIL, out, cap);
	}
	i = s->free_stack[--s->nfree];
	f = &s->fwd[i];
	f->used = true;
	f->server = 0;
	f->tries = 0;
	f->id_client = q->id;
	f->client = *c;
	f->q = *q;
	f->len = raw->len;
	memcpy(f->msg, raw->data, raw->len);
	for (; f->server < s->cfg.nupstream; f->server++)
		if (!fwd_send(s, i, now_ms)) {
			s->st.forwarded++;
			return 0;
		}
	f->used = false;
	s->free_stack[s->nfree++] = i;
	return answer_rcode(raw, q, DNS_RCODE_SERVFAIL, out, cap);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int query(struct dns_server *s, const struct pkt_view *msg,
		 const struct dns_client *c, uint8_t *out, size_t cap)
{
	struct dns_query q;
	char host[DNS_NAME_MAX + 1];
	uint32_t ip;
	int ret;

	s->st.queries++;
	ret = dns_query_parse(msg, &q);
	if (ret == -EBADMSG) {
		s->st.malformed++;
		log_rl(LOG_DEBUG, MOD, "malformed query dropped");
		return 0;
	}
	if (ret == -EPROTO) {
		s->st.malformed++;
		return answer_rcode(msg, &q,
				    q.opcode ? DNS_RCODE_NOTIMP :
					       DNS_RCODE_FORMERR,
				    out, cap);
	}
	if (c && c->tcp) /* RFC 7766: a stream carries up to 65535 bytes */
		q.udp_max = UINT16_MAX;
	if (q.qclass == DNS_CLASS_IN && q.name_plain &&
	    local_host(s, q.name, host, sizeof(host)))
		return answer_local(s, msg, &q, host, out, cap);
	if (q.qclass == DNS_CLASS_IN && !ptr4_parse(q.name, &ip) &&
	    s->ops->in_subnet4(s->arg, ip))
		return answer_ptr(s, msg, &q, ip, out, cap);
	if (q.qclass == DNS_CLASS_IN && s->cfg.domain[0] &&
	    !strcmp(q.name, s->cfg.domain)) {
		struct dns_writer w;

		dns_answer_start(&w, out, cap, msg, &q, DNS_RCODE_NOERROR, true);
		dns_answer_soa(&w, s->cfg.ttl, s->cfg.domain);
		return dns_answer_end(&w, &q);
	}
	if (!c)
		return answer_rcode(msg, &q, DNS_RCODE_REFUSED, out, cap);
	return forward(s, msg, &q, c, out, cap, mono_ms());
}

int dns_server_query(struct dns_server *s, const struct pkt_view *msg,
		     const struct dns_client *c, uint8_t *out, size_t cap)
{
	return query(s, msg, c, out, cap);
}

int dns_server_query_local(struct dns_server *s, const struct pkt_view *msg,
			   uint8_t *out, size_t cap)
{
	return query(s, msg, NULL, out, cap);
}

bool dns_server_is_local(const struct dns_server *s, const char *name)
{
	size_t nl = strlen(name), dl = strlen(s->cfg.domain);
	uint32_t ip;

	if (dl && nl >= dl && !strcmp(name + nl - dl, s->cfg.domain) &&
	    (nl == dl || name[nl - dl - 1] == '.'))
		return true;
	return !ptr4_parse(name, &ip) && s->ops->in_subnet4(s->arg, ip);
}

static void fwd_answer(struct dns_server *s, uint32_t i, uint64_t now_ms)
{
	struct fwd *f = &s->fwd[i];
	struct pkt_view v;
	uint16_t id;
	ssize_t n;

	/* Bounded: one datagram per readiness, the rest stays queued. */
	n = recv(f->fd, s->rbuf, sizeof(s->rbuf), 0);
	if (n < 0)
		return;
	v.data = s->rbuf;
	v.len = (size_t)n;
	if (pkt_be16(&v, 0, &id) || id != f->id_up ||
	    !dns_msg_question_matches(&v, &f->q)) {
		s->st.fwd_mismatch++;
		log_rl(LOG_DEBUG, MOD, "upstream answer does not match");
		return;
	}
	dns_cache_put(s->cache, &f->q, s->rbuf, (size_t)n, now_ms);
	s->rbuf[0] = (uint8_t)(f->id_client >> 8);
	s->rbuf[1] = (uint8_t)f->id_client;
	if ((size_t)n > f->q.udp_max && !f->client.tcp) {
		/* Too long for the client: header + question, TC set. */
		struct pkt_view raw = { f->msg, f->len };
		uint8_t tbuf[FWD_QUERY_MAX];
		int len;

		f->msg[0] = s->rbuf[0];
		f->msg[1] = s->rbuf[1];
		len = answer_truncated(&raw, &f->q, s->rbuf[3] & 0xf, tbuf,
				       sizeof(tbuf));
		if (len > 0)
			s->reply(s->reply_arg, &f->client, tbuf, (size_t)len);
	} else {
		s->reply(s->reply_arg, &f->client, s->rbuf, (size_t)n);
	}
	s->st.fwd_answers++;
	fwd_release(s, i);
}

void dns_server_run(struct dns_server *s, uint64_t now_ms)
{
	struct epoll_event ev[64];
	int n = epoll_wait(s->epfd, ev, 64, 0);

	for (int k = 0; k < n; k++)
		if (ev[k].data.u32 < s->cfg.fwd_max &&
		    s->fwd[ev[k].data.u32].used)
			fwd_answer(s, ev[k].data.u32, now_ms);
}

void dns_server_tick(struct dns_server *s, uint64_t now_ms)
{
	for (uint32_t i = 0; i < s->cfg.fwd_max; i++) {
		struct fwd *f = &s->fwd[i];
		uint8_t out[FWD_QUERY_MAX];
		struct pkt_view raw;
		int len;

		if (!f->used || f->deadline_ms > now_ms)
			continue;
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, f->fd, NULL);
		close(f->fd);
		/* One more try, at the next server (or the same one). */
		if (f->tries < 2) {
			f->server = (f->server + 1) % s->cfg.nupstream;
			if (!fwd_send(s, i, now_ms))
				continue;
		}
		s->st.fwd_timeouts++;
		f->msg[0] = (uint8_t)(f->id_client >> 8);
		f->msg[1] = (uint8_t)f->id_client;
		raw.data = f->msg;
		raw.len = f->len;
		len = answer_rcode(&raw, &f->q, DNS_RCODE_SERVFAIL, out,
				   sizeof(out));
		if (len > 0)
			s->reply(s->reply_arg, &f->client, out, (size_t)len);
		f->used = false;
		s->free_stack[s->nfree++] = i;
	}
}

uint32_t dns_resolv_conf_read(const char *path, uint32_t skip4,
			      struct sockaddr_storage *out, uint32_t max)
{
	char line[512], addr[128];
	FILE *f = fopen(path, "re");
	uint32_t n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out[n];
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out[n];

		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
			if (ntohl(s4->sin_addr.s_addr) == skip4)
				continue;
			s4->sin_family = AF_INET;
			s4->sin_port = htons(53);
			n++;
		} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(53);
			n++;
		}
	}
	fclose(f);
	return n;
}
