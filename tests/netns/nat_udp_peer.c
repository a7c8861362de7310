/* SPDX-License-Identifier: MIT */
/* nat_udp_peer.c - test helper: a fake VM NIC on a nat network that echoes UDP and asks the gateway over UDP. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/shm_peer.h"
#include "loom/shm_port.h"
#include "tests/netns/peer_answer.h"

/*
 * Usage: nat_udp_peer SOCKET NETWORK IPV4 GATEWAY SECONDS [PORT]
 * Attaches to NETWORK as MAC 52:54:00:4c:4d:02 (needs no privilege: the
 * shm port protocol over netd's socket), answers ARP for IPV4 and echoes
 * every UDP datagram to IPV4 back as "echo:" + payload. With PORT it also
 * sends "hello" from IPV4:40000 to GATEWAY:PORT (through the network's
 * uplink: the host's loopback where host_loopback allows it) until an
 * answer comes, and prints "reply: PAYLOAD". Prints "attached" first;
 * exits after SECONDS, or at once after the reply when PORT is given.
 */

static const uint8_t my_mac[6] = {0x52, 0x54, 0x00, 0x4c, 0x4d, 0x02};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An Ethernet + IPv4 + UDP frame into @out (UDP checksum 0: none). */
static uint32_t udp_frame(uint8_t *out, const uint8_t *dmac,
			  const uint8_t *src, const uint8_t *dst,
			  uint16_t sport, uint16_t dport, const void *data,
			  uint32_t len)
{
	uint8_t *ip = out + 14, *udp = ip + 20;

	memcpy(out, dmac, 6);
	memcpy(out + 6, my_mac, 6);
	put16(out + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(28 + len));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, peer_csum(ip, 20));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8 + len));
	put16(udp + 6, 0);
	memcpy(udp + 8, data, len);
	return 14 + 28 + len;
}

static uint32_t arp_request(uint8_t *out, const uint8_t *ip, const uint8_t *gw)
{
	memset(out, 0xff, 6);
	memcpy(out + 6, my_mac, 6);
	put16(out + 12, 0x0806);
	put16(out + 14, 1);
	put16(out + 16, 0x0800);
	out[18] = 6;
	out[19] = 4;
	put16(out + 20, 1);
	memcpy(out + 22, my_mac, 6);
	memcpy(out + 28, ip, 4);
	memset(out + 32, 0, 6);
	memcpy(out + 38, gw, 4);
	return 42;
}

/*
 * Answer @in: an ARP request for @ip, or an echo of a UDP datagram to
 * @ip. Sets *@reply to a UDP payload from @gw:@port. Return: bytes in @out.
 */
static uint32_t handle(const uint8_t *in, uint32_t len, const uint8_t *ip,
		       const uint8_t *gw, uint16_t port, char *reply,
		       size_t rlen, uint8_t *out)
{
	uint32_t ihl, tot, ulen;
	const uint8_t *udp;

	if (len >= 42 && in[12] == 0x08 && in[13] == 0x06 && in[21] == 1 &&
	    !memcmp(in + 38, ip, 4)) {
		memcpy(out, in + 6, 6);
		memcpy(out + 6, my_mac, 6);
		memcpy(out + 12, in + 12, 8);
		out[21] = 2;
		memcpy(out + 22, my_mac, 6);
		memcpy(out + 28, ip, 4);
		memcpy(out + 32, in + 22, 10);
		return 42;
	}
	if (len < 42 || in[12] != 0x08 || in[13] != 0x00 ||
	    (in[14] >> 4) != 4 || in[23] != 17 || memcmp(in + 30, ip, 4))
		return 0;
	ihl = (uint32_t)(in[14] & 15) * 4;
	tot = (uint32_t)(in[16] << 8 | in[17]);
	if (ihl < 20 || tot < ihl + 8 || 14 + tot > len)
		return 0;
	udp = in + 14 + ihl;
	ulen = (uint32_t)(udp[4] << 8 | udp[5]);
	if (ulen < 8 || ulen > tot - ihl || ulen - 8 > 1400)
		return 0;
	if (port && !memcmp(in + 26, gw, 4) &&
	    (uint16_t)(udp[0] << 8 | udp[1]) == port &&
	    (uint16_t)(udp[2] << 8 | udp[3]) == 40000) {
		snprintf(reply, rlen, "%.*s", (int)(ulen - 8), udp + 8);
		return 0;
	}
	{
		uint8_t data[1408];

		memcpy(data, "echo:", 5);
		memcpy(data + 5, udp + 8, ulen - 8);
		return udp_frame(out, in + 6, ip, in + 26,
				 (uint16_t)(udp[2] << 8 | udp[3]),
				 (uint16_t)(udp[0] << 8 | udp[1]), data,
				 ulen - 8 + 5);
	}
}

int main(int argc, char **argv)
{
	struct shm_attach_req req;
	struct shm_peer p;
	uint8_t ip[4], gw[4], gw_mac[6] = {0x52, 0x55}, out[1600];
	char reply[1500] = "";
	uint16_t port = 0;
	time_t end, next_ask = 0;
	int ret;

	if ((argc != 6 && argc != 7) || inet_pton(AF_INET, argv[3], ip) != 1 ||
	    inet_pton(AF_INET, argv[4], gw) != 1) {
		fprintf(stderr,
			"usage: %s SOCKET NETWORK IPV4 GATEWAY SECONDS [PORT]\n",
			argv[0]);
		return 2;
	}
	if (argc == 7)
		port = (uint16_t)atoi(argv[6]);
	memcpy(gw_mac + 2, gw, 4); /* libslirp's: 52:55:<gateway IPv4> */
	signal(SIGPIPE, SIG_IGN);
	memset(&req, 0, sizeof(req));
	req.magic = SHM_ATTACH_MAGIC;
	req.version = SHM_PORT_VERSION;
	req.size = sizeof(req);
	snprintf(req.network, sizeof(req.network), "%s", argv[2]);
	memcpy(req.mac, my_mac, 6);
	req.model = SHM_NIC_VIRTIO_NET;
	ret = shm_peer_connect(argv[1], &req, 3000, &p);
	if (ret < 0) {
		printf("attach failed: %s\n", strerror(-ret));
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	end = time(NULL) + atoi(argv[5]);
	while (time(NULL) < end && !reply[0]) {
		int n;

		if (port && time(NULL) >= next_ask) {
			/* ARP first, so libslirp knows where to answer. */
			shm_peer_send(&p, out, arp_request(out, ip, gw), NULL);
			shm_peer_send(&p, out,
				      udp_frame(out, gw_mac, ip, gw, 40000,
						port, "hello", 5),
				      NULL);
			shm_peer_flush(&p);
			next_ask = time(NULL) + 1;
		}
		n = shm_cons_wait(&p.rx, p.kick_peer, 50000, 100);
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			struct shm_desc d;
			enum shm_violation why;
			const uint8_t *f = shm_cons_get(&p.rx, (uint32_t)i, &d,
							&why);
			uint32_t len;

			if (!f)
				goto out;
			len = handle(f, d.len, ip, gw, port, reply,
				     sizeof(reply), out);
			if (len)
				shm_peer_send(&p, out, len, NULL);
		}
		if (n > 0) {
			shm_peer_release(&p, (uint32_t)n);
			shm_peer_flush(&p);
		}
	}
out:
	if (reply[0])
		printf("reply: %s\n", reply);
	shm_peer_close(&p);
	return port && !reply[0] ? 1 : 0;
}
