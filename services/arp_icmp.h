/* SPDX-License-Identifier: MIT */
/* arp_icmp.h - the gateway host's own answers: ARP, ICMP echo, NDP, ICMPv6 echo. */
#ifndef LOOM_SERVICES_ARP_ICMP_H
#define LOOM_SERVICES_ARP_ICMP_H

#include "common/pkt.h"
#include "services/gateway.h"
#include "services/ipframe.h"

/*
 * Each answer_*() reads a frame addressed to the gateway and, when it is
 * one it answers, builds the reply into @out.
 * Return: the reply's length (> 0); 0 when the frame is not one this
 * function answers (the caller offers it elsewhere); -EBADMSG when it is
 * one of its kind but malformed (dropped and counted by the caller).
 */

/* arp_answer - an ARP request (Ethernet/IPv4) for the gateway's address. */
int arp_answer(const struct gateway_config *gw, const struct pkt_view *frame,
	       struct pkt_buf *out);

/* icmp4_echo_answer - an ICMP echo request to the gateway's IPv4 address. */
int icmp4_echo_answer(const struct gateway_config *gw, const struct ip_view *ip,
		      struct pkt_buf *out);

/*
 * ndp_answer - ICMPv6 for the gateway: neighbour solicitation for its
 * address (-> advertisement), echo request (-> reply), router solicitation
 * (-> router advertisement with the prefix, MTU, RDNSS and DNSSL options).
 */
int ndp_answer(const struct gateway_config *gw, const struct ip_view *ip,
	       struct pkt_buf *out);

/*
 * ndp_ra_build - an unsolicited router advertisement to all nodes
 * (ff02::1), sent periodically by the owner.
 * Return: its length, or -EMSGSIZE / -ENOENT (no IPv6 on the network).
 */
int ndp_ra_build(const struct gateway_config *gw, struct pkt_buf *out);

/* ndp_link_local - the gateway's fe80:: address (EUI-64 of its MAC). */
void ndp_link_local(const struct gateway_config *gw, uint8_t out[16]);

#endif
