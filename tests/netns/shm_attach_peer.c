/* SPDX-License-Identifier: MIT */
/* shm_attach_peer.c - test helper: a fake VM NIC that attaches to loom-netd and answers ARP and ping. */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "common/shm_peer.h"
#include "loom/shm_port.h"
#include "tests/netns/peer_answer.h"

/*
 * Usage: shm_attach_peer SOCKET NETWORK IPV4 SECONDS
 * Attaches as MAC 52:54:00:4c:4d:01 (virtio-net), answers ARP requests for
 * IPV4 and ICMP echo requests to it, for SECONDS, printing "attached" once
 * attached and the number of echo replies sent at the end. Exit 0, or 1
 * when the attach fails (netd's error is printed). The link netd shows
 * (`loom port set ... link`, the header's SHM_LINK_F_DOWN) is printed at
 * attach ("link down" / "link up") and on every change; while it is down
 * nothing is answered, as a NIC without carrier would not.
 */

static const uint8_t my_mac[6] = { 0x52, 0x54, 0x00, 0x4c, 0x4d, 0x01 };

int main(int argc, char **argv)
{
	struct shm_attach_req req;
	struct shm_peer p;
	uint8_t ip[4], out[1600];
	unsigned long replies = 0;
	bool down;
	time_t end;
	int ret;

	if (argc != 5 || inet_pton(AF_INET, argv[3], ip) != 1) {
		fprintf(stderr, "usage: %s SOCKET NETWORK IPV4 SECONDS\n",
			argv[0]);
		return 2;
	}
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
	down = shm_header_link_down(p.base);
	printf("link %s\n", down ? "down" : "up");
	fflush(stdout);
	end = time(NULL) + atoi(argv[4]);
	while (time(NULL) < end) {
		int n = shm_cons_wait(&p.rx, p.kick_peer, 50000, 100);

		if (n < 0)
			break;
		if (shm_header_link_down(p.base) != down) {
			down = !down;
			printf("link %s\n", down ? "down" : "up");
			fflush(stdout);
		}
		for (int i = 0; !down && i < n; i++) {
			struct shm_desc d;
			enum shm_violation why;
			const uint8_t *f = shm_cons_get(&p.rx, (uint32_t)i, &d,
							&why);
			uint32_t len;

			if (!f)
				goto out;
			len = peer_answer(f, d.len, my_mac, ip, out);
			if (len && shm_peer_send(&p, out, len, NULL) == 0 &&
			    out[12] == 0x08 && out[13] == 0x00)
				replies++;
		}
		if (n > 0) {
			shm_peer_release(&p, (uint32_t)n);
			shm_peer_flush(&p);
		}
	}
out:
	printf("echo replies: %lu\n", replies);
	shm_peer_close(&p);
	return 0;
}
