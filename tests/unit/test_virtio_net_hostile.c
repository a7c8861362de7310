/* SPDX-License-Identifier: MIT */
/* test_virtio_net_hostile.c - virtio-net against a hostile or careless driver (virtio_net_drv.h): lying headers, bad descriptors, too few buffers, resets mid-transfer. */
#include "tests/unit/virtio_net_drv.h"

static void test_tx_hostile_headers(void **state)
{
	struct tdrv *t = *state;
	uint8_t hdr[12] = { 0 }, f[200];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	make_tcp4(f, sizeof(f));
	/* gso_size 0. */
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	put_le(hdr + 6, 34, 2);
	put_le(hdr + 8, 16, 2);
	tx(t, hdr, f, sizeof(f));
	/* Checksum field beyond the frame. */
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	put_le(hdr + 6, 190, 2);
	put_le(hdr + 8, 16, 2);
	tx(t, hdr, f, sizeof(f));
	/* A TCP header claiming to end past the frame (doff 15 at 180). */
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	put_le(hdr + 4, 1448, 2);
	put_le(hdr + 6, 150, 2);
	put_le(hdr + 8, 16, 2);
	f[150 + 12] = 0xf0;
	tx(t, hdr, f, sizeof(f));
	/* An unknown GSO type. */
	memset(hdr, 0, sizeof(hdr));
	hdr[1] = 9;
	tx(t, hdr, f, sizeof(f));
	/* A frame shorter than an Ethernet header. */
	memset(hdr, 0, sizeof(hdr));
	tx(t, hdr, f, 10);
	assert_int_equal(t->tb.tx_count, 0);
	assert_int_equal(virtio_net_stats(t->net)->tx_bad, 5);
	/* Every chain still came back, and the device keeps working. */
	for (int i = 0; i < 5; i++)
		used_next(t, 1, &id, &len);
	assert_int_equal(status(t), running);
	tx(t, hdr, f, 60);
	assert_int_equal(t->tb.tx_count, 1);
}

static void test_rx_big_frame_without_mrg(void **state)
{
	struct tdrv *t = *state;
	uint8_t f[3000];
	uint32_t id, len;

	assert_int_equal(drv_init(t, F(VIRTIO_F_VERSION_1), QSZ), running);
	make_frame(f, sizeof(f), 8);
	rx_post(t, 2, RXBUF_SIZE);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	assert_true(tnb_inject(&t->tb, f, 1000, NULL));
	virtio_net_process(t->net);
	/* One chain per frame: 3000 bytes do not fit; 1000 do. */
	assert_int_equal(virtio_net_stats(t->net)->rx_dropped, 1);
	used_next(t, 0, &id, &len);
	assert_int_equal(len, 1012);
	assert_int_equal(get_le(gpa(t, RXBUF_GPA + 0x1000ull * id, 12) + 10,
				2),
			 1);
}

static void test_hostile_descriptors(void **state)
{
	struct tdrv *t = *state;

	/* A TX descriptor pointing beyond guest RAM: the device stops. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	desc(t, 1, 0, RAM_SIZE - 8, 64, 0, 0);
	avail(t, 1, 0);
	kick(t, 1);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(t->tb.tx_count, 0);
	/* A looped RX chain: the same. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	desc(t, 0, 0, RXBUF_GPA, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
	     1);
	desc(t, 0, 1, RXBUF_GPA + 64, 64,
	     VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	avail(t, 0, 0);
	kick(t, 0);
	assert_true(tnb_inject(&t->tb, "\xff\xff\xff\xff\xff\xff\x52\x4c"
				       "\0\0\0\1\x08\0xxxxxxxxxx",
			       24, NULL));
	virtio_net_process(t->net);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* An indirect table outside RAM. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	desc(t, 1, 0, RAM_SIZE - 16, 64, VIRTQ_DESC_F_INDIRECT, 0);
	avail(t, 1, 0);
	kick(t, 1);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* An RX buffer smaller than the header. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	rx_post(t, 1, 8);
	virtio_net_process(t->net);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* After a reset everything works again. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	t->tb.rx_count = t->tb.rx_used = 0;
	{
		uint8_t hdr[12] = { 0 }, f[60];
		uint32_t id, len;

		make_frame(f, sizeof(f), 1);
		tx(t, hdr, f, sizeof(f));
		used_next(t, 1, &id, &len);
		assert_int_equal(t->tb.tx_count, 1);
	}
}

static void test_reset_mid_transfer(void **state)
{
	struct tdrv *t = *state;
	uint8_t f[4000];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	/* Two buffers for a frame that needs three: it waits... */
	rx_post(t, 2, RXBUF_SIZE);
	make_frame(f, sizeof(f), 4);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	virtio_net_process(t->net);
	assert_int_equal(used_idx(t, 0), 0);
	/* ... and the driver resets the device with it half placed. */
	set_status(t, 0);
	assert_int_equal(status(t), 0);
	virtio_net_process(t->net);
	/* A new driver: the frame goes in whole. */
	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	rx_post(t, 3, RXBUF_SIZE);
	used_next(t, 0, &id, &len);
	assert_int_equal(get_le(gpa(t, RXBUF_GPA + 0x1000ull * id, 12) + 10,
				2),
			 3);
	assert_int_equal(t->tb.rx_count, 0);
}

/*
 * Mergeable buffers posted, but fewer than the frame at the head needs, and
 * no more coming (a guest that stopped refilling: a stopped VM). The device
 * must wait for the driver's kick beyond them, not report more work: the
 * I/O thread loops while it does, and the VM's teardown joins that thread.
 */
static void test_rx_too_few_buffers_no_spin(void **state)
{
	struct tdrv *t = *state;
	uint8_t f[4000];
	uint32_t id, len;

	assert_int_equal(drv_init(t, linux_features, QSZ), running);
	rx_post(t, 2, RXBUF_SIZE);	/* 2 x 1526 < 12 + 4000 */
	make_frame(f, sizeof(f), 8);
	assert_true(tnb_inject(&t->tb, f, sizeof(f), NULL));
	for (int i = 0; i < 3; i++)
		assert_int_equal(virtio_net_process(t->net), 0);
	assert_int_equal(used_idx(t, 0), 0);
	assert_int_equal(t->tb.rx_count, 1);
	assert_int_equal(virtio_net_stats(t->net)->rx_dropped, 0);
	/* avail_event asks for the kick beyond the two it found too few. */
	assert_int_equal(get_le(gpa(t, ring(0) + 0x8000 + 4 + 8 * QSZ, 2), 2),
			 2);
	/* The driver adds one: the frame goes into all three. */
	rx_post(t, 1, RXBUF_SIZE);
	for (int i = 0; i < 3; i++)
		used_next(t, 0, &id, &len);
	assert_int_equal(used_idx(t, 0), 3);
	assert_int_equal(t->tb.rx_count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tx_hostile_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_big_frame_without_mrg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_mid_transfer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_too_few_buffers_no_spin, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
