/* SPDX-License-Identifier: MIT */
/* gateway.h - a network's gateway host: a switch port that answers for the gateway address. */
#ifndef LOOM_SERVICES_GATEWAY_H
#define LOOM_SERVICES_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "switch/port.h"

/*
 * The gateway is one switch port per network with a subnet. Threads:
 *
 *  data-path thread (port send/recv, switch mutex held): every frame the
 *    switch delivers to the gateway is classified at once. ARP requests
 *    for the gateway address, ICMP echo, NDP neighbour/router solicitation
 *    and ICMPv6 echo are answered right there (services/arp_icmp.c): they
 *    need no state and no disk. DHCP (UDP to port 67) and DNS (UDP to the
 *    gateway address, port 53) are copied into the control queue and the
 *    control fd is signalled. Anything else goes to the uplink (NAT), if
 *    one is attached, else it is dropped and counted.
 *  control thread (netd's event loop): drains the control queue
 *    (gateway_ctl_recv), runs DHCP/DNS, writes the lease file, and only
 *    then queues the replies (gateway_output).
 *
 * Limits: the output queue holds GATEWAY_OUTQ_MAX frames, the control
 * queue GATEWAY_CTLQ_MAX; a frame that finds its queue full is dropped
 * and counted (out_full / ctl_full): a flood of DHCP or DNS can fill the
 * control queue but not delay ARP, ping or other ports.
 */

enum {
	GATEWAY_OUTQ_MAX = 1024,
	/* Room for the requests that arrive while the control thread waits
	 * on one batch's fdatasync or for a CPU. */
	GATEWAY_CTLQ_MAX = 4096,
	GATEWAY_DOMAIN_MAX = 254,
};

/*
 * struct gateway_config - the gateway's addresses.
 * @mac: its MAC (netd uses 52:55:<gateway IPv4>, libslirp's choice)
 * @ip4: its IPv4 address, host order; @prefix4 the subnet's length
 * @mtu: the network's MTU: frames up to @mtu + 14 bytes are carried
 * @has_ip6/@ip6/@prefix6: its IPv6 address on an IPv6 subnet
 * @domain: the network's DNS domain (router advertisements' DNSSL)
 * @ra_lifetime: router lifetime announced in RAs, seconds (0: 1800)
 */
struct gateway_config {
	uint8_t mac[6];
	uint32_t ip4;
	uint8_t prefix4;
	uint32_t mtu;
	bool has_ip6;
	uint8_t ip6[16];
	uint8_t prefix6;
	char domain[GATEWAY_DOMAIN_MAX];
	uint16_t ra_lifetime;
};

/* struct gateway_stats - counters since creation (a snapshot). */
struct gateway_stats {
	uint64_t arp_replies, icmp_replies, ndp_replies;
	uint64_t ctl_queued; /* DHCP/DNS frames handed to the control side */
	uint64_t uplink_in;  /* frames given to the uplink */
	uint64_t uplink_out; /* frames the uplink sent */
	uint64_t not_for_us; /* dropped: no service, no uplink */
	uint64_t malformed;  /* dropped: bad headers */
	uint64_t ctl_full, out_full;
};

struct gateway;

/*
 * gateway_new - make a gateway for @cfg (copied).
 * Return: the gateway, or NULL with errno set.
 */
struct gateway *gateway_new(const struct gateway_config *cfg);

/* gateway_free - free @gw (no uplink may be attached any more). NULL ok. */
void gateway_free(struct gateway *gw);

const struct gateway_config *gateway_config_get(const struct gateway *gw);
void gateway_stats_get(struct gateway *gw, struct gateway_stats *st);

/*
 * The port side (data-path thread), wrapped by backends/gateway.c:
 * gateway_port_send() consumes the frames the switch sends to the gateway;
 * gateway_port_recv() hands out queued output frames, valid until
 * gateway_port_recv_done(); gateway_port_fd() is readable while output
 * is queued.
 */
int gateway_port_send(struct gateway *gw, struct frame_batch *batch);
int gateway_port_recv(struct gateway *gw, struct frame_batch *batch);
void gateway_port_recv_done(struct gateway *gw, struct frame_batch *batch);
int gateway_port_fd(struct gateway *gw);

/*
 * gateway_input - classify and handle one frame (what port_send does per
 * frame; exposed for tests and the fuzz target). @frame may be modified
 * (a partial checksum completed) only when @needs_csum.
 */
void gateway_input(struct gateway *gw, uint8_t *frame, size_t len,
		   const struct frame_offload *off);

/*
 * The control side. gateway_ctl_fd() is readable while frames wait;
 * gateway_ctl_recv() moves the oldest into @buf.
 * Return: its length, 0 when the queue is empty, -EMSGSIZE when @cap is
 * too small (the frame is dropped).
 */
int gateway_ctl_fd(struct gateway *gw);
int gateway_ctl_recv(struct gateway *gw, uint8_t *buf, size_t cap);

/*
 * gateway_output - queue @frame (copied) to leave the gateway port into
 * the switch. Thread-safe, never blocks.
 * Return: 0, -ENOBUFS (queue full: dropped, counted), -EMSGSIZE.
 */
int gateway_output(struct gateway *gw, const uint8_t *frame, size_t len);

/* gateway_frame_max - the largest frame the gateway carries (mtu + 14). */
size_t gateway_frame_max(const struct gateway *gw);

#endif
