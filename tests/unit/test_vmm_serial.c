/* SPDX-License-Identifier: MIT */
/* test_vmm_serial.c - the 16550A register model as Linux's 8250 driver drives it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/hw/serial.h"

static struct serial s;
static int pipefd[2];

static uint8_t rd(unsigned int reg)
{
	uint8_t v;

	serial_io(&s, reg, &v, 1, false);
	return v;
}

static void wr(unsigned int reg, uint8_t v)
{
	serial_io(&s, reg, &v, 1, true);
}

static int setup(void **state)
{
	(void)state;
	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.lock, NULL);
	assert_int_equal(pipe(pipefd), 0);
	s.in_fd = -1;
	s.listen_fd = -1;
	s.out_fd = pipefd[1];
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(pipefd[0]);
	close(pipefd[1]);
	return 0;
}

static void test_probe_like_8250(void **state)
{
	(void)state;
	/* IER keeps its low four bits (autoconfig's scratch test). */
	wr(1, 0);
	assert_int_equal(rd(1) & 0x0f, 0);
	wr(1, 0x0f);
	assert_int_equal(rd(1) & 0x0f, 0x0f);
	wr(1, 0);
	/* Loopback: MSR mirrors MCR (0x0a -> CTS | DCD = 0x90). */
	wr(4, 0x10 | 0x0a);
	assert_int_equal(rd(6) & 0xf0, 0x90);
	wr(4, 0x08);
	/* FIFO enable shows as a 16550A in IIR. */
	wr(2, 0x01);
	assert_int_equal(rd(2) & 0xc0, 0xc0);
	/* Divisor latch. */
	wr(3, 0x80);
	wr(0, 0x01);
	wr(1, 0x00);
	assert_int_equal(rd(0), 0x01);
	wr(3, 0x03);
	/* Scratch register. */
	wr(7, 0x5a);
	assert_int_equal(rd(7), 0x5a);
}

static void test_tx_and_thri(void **state)
{
	char buf[8];

	(void)state;
	/* LSR: transmitter empty. */
	assert_int_equal(rd(5) & 0x60, 0x60);
	wr(0, 'h');
	wr(0, 'i');
	assert_int_equal(read(pipefd[0], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "hi", 2);
	assert_int_equal(s.tx_bytes, 2);
	/* Enabling THRI raises it once; reading IIR acknowledges it. */
	wr(1, 0x02);
	assert_true(s.irq_level);
	assert_int_equal(rd(2) & 0x0f, 0x02);
	assert_false(s.irq_level);
	assert_int_equal(rd(2) & 0x0f, 0x01);
	/* The next byte written raises it again. */
	wr(0, '!');
	assert_true(s.irq_level);
	wr(1, 0);
	assert_false(s.irq_level);
	/* Loopback bytes do not reach the console. */
	wr(4, 0x10);
	wr(0, 'x');
	assert_int_equal(rd(5) & 1, 1);
	assert_int_equal(rd(0), 'x');
	wr(4, 0);
}

static void test_rx_fifo(void **state)
{
	uint8_t in[100];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	/* The FIFO takes what fits and no more. */
	assert_int_equal(serial_rx_push(&s, in, sizeof(in)), SERIAL_FIFO_SIZE);
	assert_int_equal(serial_rx_push(&s, in, 1), 0);
	wr(1, 0x01);
	assert_true(s.irq_level);
	assert_int_equal(rd(2) & 0x0f, 0x04);
	for (i = 0; i < SERIAL_FIFO_SIZE; i++) {
		assert_int_equal(rd(5) & 1, 1);
		assert_int_equal(rd(0), i);
	}
	assert_int_equal(rd(5) & 1, 0);
	assert_false(s.irq_level);
	/* FCR clear-receive empties it. */
	serial_rx_push(&s, in, 3);
	wr(2, 0x03);
	assert_int_equal(rd(5) & 1, 0);
	/* Accesses beyond the 8 registers read all ones, no crash. */
	{
		uint8_t d[4] = { 0 };

		serial_io(&s, 6, d, 4, false);
		assert_int_equal(d[2], 0xff);
		assert_int_equal(d[3], 0xff);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_like_8250, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_and_thri, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rx_fifo, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
