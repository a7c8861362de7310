/* SPDX-License-Identifier: MIT */
/* nic_tap_peer.c - test helper: a VM NIC through loom-vmm's NIC backend seam (tap / auto), answering ARP and ping. */
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/net/backend.h"
#include "tests/netns/peer_answer.h"

/*
 * Usage: nic_tap_peer SOCKET NET|macvtap:PARENT[:MODE] PORT MAC IPV4 SECONDS
 * Opens the NIC backend as loom-vmm does for --nic (backend picked
 * automatically: netd's TAP on a bridge network, its macvtap, else the
 * shm port), prints "attached BACKEND" and then answers ARP requests for
 * IPV4 and pings to it for SECONDS (re-attaching as the VMM does when
 * netd goes away), printing "link up"/"link down" as the carrier changes
 * and the echo replies sent at the end. Exit 0, or 1 when the open fails.
 */

static struct nic_backend *nb;

static void on_link(void *opaque)
{
	(void)opaque;
	printf("link %s\n", nic_backend_link_up(nb) ? "up" : "down");
	fflush(stdout);
}

static const struct nic_backend_events events = { .link_changed = on_link };

int main(int argc, char **argv)
{
	struct nic_config cfg = { .model = "virtio" };
	unsigned long replies = 0;
	unsigned int m[6];
	uint8_t ip[4], out[1600];
	time_t end;
	int ret;

	if (argc != 7 || inet_pton(AF_INET, argv[5], ip) != 1 ||
	    sscanf(argv[4], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
		   &m[4], &m[5]) != 6) {
		fprintf(stderr, "usage: %s SOCKET NET|macvtap:PARENT[:MODE] "
			"PORT MAC IPV4 SECONDS\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	cfg.netd_sock = argv[1];
	if (!strncmp(argv[2], "macvtap:", 8)) {
		char *mode;

		snprintf(cfg.macvtap, sizeof(cfg.macvtap), "%s", argv[2] + 8);
		mode = strchr(cfg.macvtap, ':');
		if (mode) {
			*mode++ = '\0';
			snprintf(cfg.macvtap_mode, sizeof(cfg.macvtap_mode),
				 "%s", mode);
		}
	} else {
		snprintf(cfg.net, sizeof(cfg.net), "%s", argv[2]);
	}
	snprintf(cfg.port, sizeof(cfg.port), "%s", argv[3]);
	for (int i = 0; i < 6; i++)
		cfg.mac[i] = (uint8_t)m[i];
	ret = nic_backend_open(&nb, NULL, &cfg, "virtio", 0, &events, NULL);
	if (ret) {
		printf("open failed: %s\n", strerror(-ret));
		return 1;
	}
	printf("attached %s\n", nic_backend_name(nb));
	fflush(stdout);
	end = time(NULL) + atoi(argv[6]);
	while (time(NULL) < end) {
		struct pollfd pfd = { .fd = nic_backend_notify_fd(nb),
				      .events = POLLIN };
		struct nic_frame f;

		poll(&pfd, 1, 100);
		nic_backend_poll(nb);
		/* Bounded: a ring's worth per round. */
		for (int i = 0; i < 256 && nic_backend_rx_next(nb, &f) > 0;
		     i++) {
			uint32_t len = peer_answer(f.data, f.len, cfg.mac, ip,
						   out);
			uint8_t *p = len ? nic_backend_tx_alloc(nb, len) : NULL;

			nic_backend_rx_done(nb);
			if (!p)
				continue;
			memcpy(p, out, len);
			if (!nic_backend_tx_commit(nb, len, NULL) &&
			    out[12] == 0x08 && out[13] == 0x00)
				replies++;
		}
		nic_backend_rx_flush(nb);
		nic_backend_tx_flush(nb);
	}
	printf("echo replies: %lu\n", replies);
	nic_backend_close(nb);
	return 0;
}
