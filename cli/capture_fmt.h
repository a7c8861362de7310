/* SPDX-License-Identifier: MIT */
/* capture_fmt.h - one-line, tcpdump-like summaries of captured Ethernet frames. */
#ifndef LOOM_CLI_CAPTURE_FMT_H
#define LOOM_CLI_CAPTURE_FMT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * The frame is untrusted (any guest sends it): it is read only through
 * common/pkt.h, a truncated header ends the dissection with what is known
 * so far ("[|ip]" like tcpdump), never a read past @caplen.
 */
struct capture_summary {
	uint8_t dmac[6], smac[6];
	int vlan;	    /* -1: untagged */
	uint16_t ethertype; /* after the tag */
	char proto[12];	    /* "ARP", "IP", "IP6", "ICMP", "TCP", "UDP", ... */
	char src[64], dst[64]; /* addresses (and ports) when known */
	char info[192];	    /* the rest of the line */
};

/* capture_summarize - dissect the first @caplen bytes of a @len-byte frame. */
void capture_summarize(const uint8_t *frame, uint32_t caplen, uint32_t len,
		       struct capture_summary *s);

/*
 * capture_format_line - "HH:MM:SS.uuuuuu IFACE DIR SUMMARY" for @s into
 * @buf (@ts_ns since the epoch, local time; @dir "in"/"out"/"-").
 */
void capture_format_line(char *buf, size_t len, uint64_t ts_ns,
			 const char *iface, const char *dir,
			 const struct capture_summary *s);

/* capture_summary_json - the same as a JSON object (one line for --json). */
json_t *capture_summary_json(uint64_t ts_ns, const char *iface,
			     const char *dir, uint32_t caplen, uint32_t len,
			     const struct capture_summary *s);

#endif
