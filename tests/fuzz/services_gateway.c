/* SPDX-License-Identifier: MIT */
/* services_gateway.c - fuzz target: frames into the gateway port (ARP, ICMP, NDP, partial checksums). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: u8 flags (bit 0: NEEDS_CSUM with the next two u16 as start and
 * offset), then the frame. Queues are drained every input so replies are
 * built every time.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gateway *gw;
	static uint8_t frame[65536 + 64], buf[65536];
	struct frame_offload off = { 0 };
	struct frame_batch b = { 0 };
	size_t hdr = 5;

	if (!gw) {
		struct gateway_config c;

		memset(&c, 0, sizeof(c));
		memcpy(c.mac, (uint8_t[]){ 0x52, 0x55, 10, 0, 0, 1 }, 6);
		c.ip4 = 0x0a000001;
		c.prefix4 = 24;
		c.mtu = 1500;
		c.has_ip6 = true;
		c.ip6[0] = 0xfd;
		c.ip6[15] = 1;
		c.prefix6 = 64;
		strcpy(c.domain, "lab.loom");
		gw = gateway_new(&c);
		if (!gw)
			abort();
	}
	if (size < hdr || size - hdr > sizeof(frame))
		return 0;
	if (data[0] & 1) {
		off.flags = 1;
		off.csum_start = (uint16_t)(data[1] | data[2] << 8);
		off.csum_offset = (uint16_t)(data[3] | data[4] << 8);
	}
	memcpy(frame, data + hdr, size - hdr);
	gateway_input(gw, frame, size - hdr, &off);
	while (gateway_port_recv(gw, &b) > 0) {
		for (uint32_t i = 0; i < b.count; i++)
			if (b.f[i].len > gateway_frame_max(gw))
				abort();
		gateway_port_recv_done(gw, &b);
		b.count = 0;
	}
	while (gateway_ctl_recv(gw, buf, sizeof(buf)) > 0)
		;
	return 0;
}
