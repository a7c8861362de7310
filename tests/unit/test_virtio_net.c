/* SPDX-License-Identifier: MIT */
/* test_virtio_net.c - virtio-net driven as Linux's virtio_net would (virtio_net_drv.h): config, TX, RX, mergeable buffers, offloads both ways, the control queue, link and interrupts. */
#include "tests/unit/virtio_net_drv.h"

static void test_config_and_features(void **state)
{
	struct tdrv *t = *state;

	uint8_t mac[6];

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)mmio_rd(t, t->devcfg + (uint64_t)i, 1);
	assert_memory_equal(mac, "\x52\x4c\x01\x02\x03\x04", 6);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(mmio_rd(t, t->devcfg + 10, 2), 1500);
	/* Everything Linux asks for is offered when the backend takes it. */
	assert_int_equal(t->features & linux_features, linux_features);
}

static void test_no_offloads_without_backend_caps(void **state)
{
	struct tdrv *t = *state;

	assert_int_equal(drv_init(t, F(VIRTIO_F_VERSION_1), QSZ), running);
	assert_false(t->features & F(VIRTIO_NET_F_CSUM));
	assert_false(t->features & F(VIRTIO_NET_F_HOST_TSO4));
	assert_false(t->features & F(VIRTIO_NET_F_GUEST_TSO4));
	assert_true(t->features & F(VIRTIO_NET_F_MRG_RXBUF));
	/* And a driver asking for one anyway does not get FEATURES_OK. */
	assert_false(drv_init(t, F(VIRTIO_F_VERSION_1) |
					 F(VIRTIO_NET_F_CSUM),
			      QSZ) &
		     VIRTIO_STATUS_FEATURES_OK);
}

static void test_tx_frame(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[60];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_frame(f, sizeof(f), 1);
	tx(t, hdr, f, sizeof(f));
	assert_int_equal(t->tb.tx_count, 1);
	assert_int_equal(t->tb.tx[0].len, 60);
	assert_memory_equal(t->tb.tx[0].data, f, 60);
	assert_int_equal(t->tb.tx[0].off.flags, 0);
	used_next(t, 1, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 0);
	assert_true(t->tb.tx_flushes >= 1);
}

static void test_tx_tso_64k(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, *f = malloc(65000);
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_tcp4(f, 65000);
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	put_le(hdr + 2, 1000, 2);	/* Linux's hdr_len hint: ignored */
	put_le(hdr + 4, 1448, 2);
	put_le(hdr + 6, 34, 2);
	put_le(hdr + 8, 16, 2);
	tx(t, hdr, f, 65000);
	/* One frame, unsegmented, its metadata mapped. */
	assert_int_equal(t->tb.tx_count, 1);
	assert_int_equal(t->tb.tx[0].len, 65000);
	assert_memory_equal(t->tb.tx[0].data, f, 65000);
	assert_int_equal(t->tb.tx[0].off.gso_type, FRAME_GSO_TCPV4);
	assert_int_equal(t->tb.tx[0].off.gso_size, 1448);
	assert_int_equal(t->tb.tx[0].off.hdr_len, 54);
	assert_int_equal(t->tb.tx[0].off.flags, FRAME_F_NEEDS_CSUM);
	assert_int_equal(t->tb.tx[0].off.csum_start, 34);
	assert_int_equal(t->tb.tx[0].off.csum_offset, 16);
	used_next(t, 1, &id, &len);
	free(f);
}

static void test_tx_backend_full(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[60];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_frame(f, sizeof(f), 2);
	t->tb.tx_full = true;
	tx(t, hdr, f, sizeof(f));
	/* Kept, not dropped: no used element yet. */
	assert_int_equal(used_idx(t, 1), 0);
	assert_int_equal(t->tb.tx_count, 0);
	t->tb.tx_full = false;
	virtio_net_process(t->net);	/* the backend's "room again" */
	assert_int_equal(t->tb.tx_count, 1);
	used_next(t, 1, &id, &len);
}

static void test_rx_mergeable(void **state)
{
	struct tdrv *t = *state;
	uint8_t f[4000], *b;
	uint32_t id[3], len[3];

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	rx_post(t, 4, RXBUF_SIZE);
	make_frame(f, sizeof(f), 5);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	virtio_net_process(t->net);
	/* 12 + 4000 bytes in 1526-byte buffers: three of them. */
	for (int i = 0; i < 3; i++)
		used_next(t, 0, &id[i], &len[i]);
	assert_int_equal(used_idx(t, 0), 3);
	assert_int_equal(len[0], RXBUF_SIZE);
	assert_int_equal(len[1], RXBUF_SIZE);
	assert_int_equal(len[2], 12 + 4000 - 2 * RXBUF_SIZE);
	b = gpa(t, RXBUF_GPA + 0x1000ull * id[0], RXBUF_SIZE);
	assert_int_equal(get_le(b + 10, 2), 3);	/* num_buffers */
	assert_int_equal(b[0], 0);
	assert_memory_equal(b + 12, f, RXBUF_SIZE - 12);
	assert_memory_equal(gpa(t, RXBUF_GPA + 0x1000ull * id[1], RXBUF_SIZE),
			    f + RXBUF_SIZE - 12, RXBUF_SIZE);
	assert_memory_equal(gpa(t, RXBUF_GPA + 0x1000ull * id[2], 10),
			    f + 2 * RXBUF_SIZE - 12, len[2]);
	assert_int_equal(t->tb.rx_count, 0);
}

static void test_rx_waits_for_buffers(void **state)
{
	struct tdrv *t = *state;
	uint8_t f[100];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_frame(f, sizeof(f), 6);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	virtio_net_process(t->net);
	/* No buffer: the frame stays in the backend, nothing dropped. */
	assert_int_equal(used_idx(t, 0), 0);
	assert_int_equal(t->tb.rx_count, 1);
	assert_int_equal(virtio_net_stats(t->net)->rx_dropped, 0);
	/* The driver posts buffers and kicks: the frame goes in. */
	rx_post(t, 2, RXBUF_SIZE);
	used_next(t, 0, &id, &len);
	assert_int_equal(len, 112);
	assert_int_equal(t->tb.rx_count, 0);
}

static void test_rx_offloads(void **state)
{
	struct tdrv *t = *state;
	struct frame_offload gso = {
		.flags = FRAME_F_NEEDS_CSUM, .gso_type = FRAME_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1448, .csum_start = 34,
		.csum_offset = 16,
	};
	uint8_t *f = malloc(65000), *b;
	uint32_t id, len, total = 0, nbuf;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_tcp4(f, 65000);
	rx_post(t, QSZ, 4096);
	assert_true(tnb_inject(&t->tb, f, 65000, &gso));
	virtio_net_process(t->net);
	used_next(t, 0, &id, &len);
	b = gpa(t, RXBUF_GPA + 0x1000ull * id, 4096);
	/* One GSO frame, delivered as such. */
	assert_int_equal(b[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(b[1], VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(get_le(b + 2, 2), 54);
	assert_int_equal(get_le(b + 4, 2), 1448);
	assert_int_equal(get_le(b + 6, 2), 34);
	assert_int_equal(get_le(b + 8, 2), 16);
	nbuf = (uint32_t)get_le(b + 10, 2);
	assert_int_equal(nbuf, (65000 + 12 + 4095) / 4096);
	total = len;
	for (uint32_t i = 1; i < nbuf; i++) {
		used_next(t, 0, &id, &len);
		total += len;
	}
	assert_int_equal(total, 65000 + 12);
	free(f);
}

static void test_rx_gso_refused_and_csum_completed(void **state)
{
	struct tdrv *t = *state;
	struct frame_offload gso = {
		.flags = FRAME_F_NEEDS_CSUM, .gso_type = FRAME_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1448, .csum_start = 34,
		.csum_offset = 16,
	};
	struct frame_offload csum = { .flags = FRAME_F_NEEDS_CSUM,
				      .csum_start = 34, .csum_offset = 16 };
	uint8_t f[300], *b;
	uint32_t id, len, sum = 0;

	/* A driver without GUEST_CSUM / GUEST_TSO (ethtool off, old ones). */
	assert_int_equal(drv_init(t, F(VIRTIO_F_VERSION_1) |
					     F(VIRTIO_NET_F_MRG_RXBUF),
				  QSZ),
			 running);
	make_tcp4(f, sizeof(f));
	rx_post(t, 4, RXBUF_SIZE);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), &gso));
	assert_true(tnb_inject(&t->tb, f, sizeof(f), &csum));
	virtio_net_process(t->net);
	/* The GSO frame dropped, the other delivered with its checksum. */
	assert_int_equal(virtio_net_stats(t->net)->rx_dropped, 1);
	used_next(t, 0, &id, &len);
	assert_int_equal(len, 12 + sizeof(f));
	assert_int_equal(used_idx(t, 0), 1);
	b = gpa(t, RXBUF_GPA + 0x1000ull * id, len) + 12;
	assert_int_equal(b[-12], 0);	/* no NEEDS_CSUM for this driver */
	/*
	 * The field held the pseudo-header sum (here: whatever the frame
	 * had); a receiver adding it back to the sum over the TCP part must
	 * now find 0xffff.
	 */
	sum = (uint32_t)(f[50] << 8 | f[51]);
	for (uint32_t i = 34; i + 1 < sizeof(f); i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff);
}

static void test_ring_wrap(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[64];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	/* 5 times round a 16-entry ring, both ways. */
	for (int i = 0; i < 5 * QSZ; i++) {
		make_frame(f, sizeof(f), (uint8_t)i);
		tx(t, hdr, f, sizeof(f));
		used_next(t, 1, &id, &len);
		assert_memory_equal(t->tb.tx[i % TNB_FRAMES].data, f, 64);
		rx_post(t, 1, RXBUF_SIZE);
		assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
		virtio_net_process(t->net);
		used_next(t, 0, &id, &len);
		assert_int_equal(len, 76);
		assert_memory_equal(gpa(t, RXBUF_GPA + 0x1000ull * id, 76) +
					    12,
				    f, 64);
	}
	assert_int_equal(t->tb.tx_count, 5 * QSZ);
	assert_int_equal(virtio_net_stats(t->net)->rx_frames, 5 * QSZ);
}

/* One control command; returns the ack byte the device wrote. */

static uint8_t ctrl(struct tdrv *t, const uint8_t *cmd, uint32_t len)
{
	uint8_t *ack = gpa(t, CTRL_GPA + 0x800, 1);
	unsigned int d = (t->next_desc[2] % (QSZ / 2)) * 2;
	uint16_t old_idx, event;
	uint32_t id, ulen;

	memcpy(gpa(t, CTRL_GPA, len), cmd, len);
	*ack = 0xee;
	desc(t, 2, d, CTRL_GPA, len, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	desc(t, 2, d + 1, CTRL_GPA + 0x800, 1, VIRTQ_DESC_F_WRITE, 0);
	avail(t, 2, (uint16_t)d);
	t->next_desc[2]++;
	/* As Linux does with EVENT_IDX: kick only when the new index passes
	 * the device's avail_event (a device that never publishes it after
	 * the first command gets no kick for the second: the guest hangs). */
	old_idx = (uint16_t)(t->avail_idx[2] - 1);
	event = (uint16_t)get_le(gpa(t, ring(2) + 0x8000 + 4 + 8 * QSZ, 2), 2);
	assert_true((uint16_t)(t->avail_idx[2] - event - 1) <
		    (uint16_t)(t->avail_idx[2] - old_idx));
	kick(t, 2);
	used_next(t, 2, &id, &ulen);
	assert_int_equal(id, d);
	assert_int_equal(ulen, 1);
	return *ack;
}

static void test_ctrl_queue(void **state)
{
	struct tdrv *t = *state;
	uint8_t promisc[] = { VIRTIO_NET_CTRL_RX, 0, 1 };
	uint8_t allmulti[] = { VIRTIO_NET_CTRL_RX, 1, 0 };
	uint8_t table[2 + 4 + 6 + 4 + 12] = { VIRTIO_NET_CTRL_MAC,
					       VIRTIO_NET_CTRL_MAC_TABLE_SET };
	uint8_t shorttab[2 + 4] = { VIRTIO_NET_CTRL_MAC,
				    VIRTIO_NET_CTRL_MAC_TABLE_SET, 9 };
	uint8_t unknown[] = { 42, 0, 0 }, norx[] = { VIRTIO_NET_CTRL_RX, 0 };

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	put_le(table + 2, 1, 4);
	put_le(table + 12, 2, 4);
	assert_int_equal(ctrl(t, promisc, sizeof(promisc)), VIRTIO_NET_OK);
	assert_int_equal(ctrl(t, allmulti, sizeof(allmulti)), VIRTIO_NET_OK);
	assert_int_equal(ctrl(t, table, sizeof(table)), VIRTIO_NET_OK);
	/* 9 entries claimed, none there. */
	assert_int_equal(ctrl(t, shorttab, sizeof(shorttab)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(t, unknown, sizeof(unknown)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(t, norx, sizeof(norx)), VIRTIO_NET_ERR);
	assert_int_equal(status(t), running);
}

static void test_link_change_interrupt(void **state)
{
	struct tdrv *t = *state;
	uint8_t gen;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	assert_int_equal(mmio_rd(t, t->isr, 1), 0);
	gen = (uint8_t)mmio_rd(t, t->common + VIRTIO_PCI_COMMON_CFGGEN, 1);
	/* Carrier lost, as the shm backend reports netd going away. */
	pthread_mutex_lock(&virtio_net_vdev(t->net)->lock);
	nic_backend_set_link(virtio_net_backend(t->net), false);
	pthread_mutex_unlock(&virtio_net_vdev(t->net)->lock);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), 0);
	/* INTx: the ISR's configuration bit. */
	assert_int_equal(mmio_rd(t, t->isr, 1) & 2, 2);
	assert_int_not_equal(mmio_rd(t, t->common + VIRTIO_PCI_COMMON_CFGGEN,
				     1),
			     gen);
	pthread_mutex_lock(&virtio_net_vdev(t->net)->lock);
	nic_backend_set_link(virtio_net_backend(t->net), true);
	pthread_mutex_unlock(&virtio_net_vdev(t->net)->lock);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), VIRTIO_NET_S_LINK_UP);
}

static void test_link_set_by_hand(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[60];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	mmio_rd(t, t->isr, 1);
	/* The control socket's thread sets it; the device's round shows it. */
	assert_int_equal(nic_backend_set_admin(virtio_net_backend(t->net),
					       false),
			 0);
	virtio_net_process(t->net);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), 0);
	assert_int_equal(mmio_rd(t, t->isr, 1) & 2, 2);
	/* Nothing passes while it is down: the frame is dropped, counted. */
	make_frame(f, sizeof(f), 3);
	tx(t, hdr, f, sizeof(f));
	used_next(t, 1, &id, &len);
	assert_int_equal(t->tb.tx_count, 0);
	assert_int_equal(virtio_net_stats(t->net)->tx_dropped, 1);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	rx_post(t, 1, RXBUF_SIZE);
	assert_int_equal(used_idx(t, 0), 0);
	/* Up again: carrier back, with an interrupt, and the frame in. */
	assert_int_equal(nic_backend_set_admin(virtio_net_backend(t->net),
					       true),
			 0);
	virtio_net_process(t->net);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(mmio_rd(t, t->isr, 1) & 2, 2);
	used_next(t, 0, &id, &len);
	assert_int_equal(len, 72);
}

static void test_event_idx_suppression(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[60];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_frame(f, sizeof(f), 9);
	/* The first completion always interrupts (nothing signalled yet). */
	tx(t, hdr, f, sizeof(f));
	used_next(t, 1, &id, &len);
	assert_int_equal(mmio_rd(t, t->isr, 1) & 1, 1);
	/* used_event (after the avail ring) far ahead: no interrupt. */
	put_le(gpa(t, ring(1) + 0x4000 + 4 + 2 * QSZ, 2), 100, 2);
	mmio_rd(t, t->isr, 1);
	tx(t, hdr, f, sizeof(f));
	used_next(t, 1, &id, &len);
	assert_int_equal(mmio_rd(t, t->isr, 1) & 1, 0);
	/* used_event = the next used index: interrupt on that one. */
	put_le(gpa(t, ring(1) + 0x4000 + 4 + 2 * QSZ, 2), 2, 2);
	tx(t, hdr, f, sizeof(f));
	used_next(t, 1, &id, &len);
	assert_int_equal(mmio_rd(t, t->isr, 1) & 1, 1);
	/* Idle again, the device asks for a kick at the next chain:
	 * avail_event follows what it consumed. */
	assert_int_equal(get_le(gpa(t, ring(1) + 0x8000 + 4 + 8 * QSZ, 2), 2),
			 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_and_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_offloads_without_backend_caps, setup_nocaps, teardown),
		cmocka_unit_test_setup_teardown(test_tx_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_tso_64k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_backend_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_mergeable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_offloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_gso_refused_and_csum_completed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_change_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_set_by_hand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_suppression, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
