/* SPDX-License-Identifier: MIT */
/* vmm_legacy_pio.c - fuzz the legacy PC ports a guest reaches: 16550 UART, i8042, CMOS, debug exit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/hw/pc.h"
#include "vmm/hw/serial.h"
#include "vmm/vm.h"
#include "tests/fuzz/fd_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: a sequence of guest port accesses and console input, each one
 * opcode byte and its operands:
 *   bit 7     write (else read)
 *   bits 5-6  access size: 1, 2, 4, 1 bytes
 *   bits 0-4  port: 0-7 COM1 0x3f8 + n, 8-12 i8042 0x60-0x64, 13-14 CMOS
 *             0x70/0x71, 15 port 0x80, 16 debug exit 0x501, 17-29 any port
 *             (le16 follows), 30 host console input (u8 n, n bytes follow),
 *             31 a COM1 register at an odd size (u8 offset follows)
 * followed, for writes, by the access's data bytes.
 * The devices are set up as main.c does (serial_init with console "none",
 * pc_devices_init) on a KVM-less VM, so everything goes through
 * vm_io_dispatch like a KVM_EXIT_IO would.
 */
enum { MAX_OPS = 8192 };

struct rd {
	const uint8_t *p;
	size_t left;
};

static unsigned int take(struct rd *r, unsigned int n)
{
	unsigned int v = 0, i;

	for (i = 0; i < n && r->left; i++, r->left--, r->p++)
		v |= (unsigned int)*r->p << (8 * i);
	return v;
}

static const uint16_t ports[17] = {
	0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,
	0x60, 0x61, 0x62, 0x63, 0x64, 0x70, 0x71, 0x80, DEBUG_EXIT_PORT,
};

static void check_uart(const struct serial *s)
{
	if (s->rx_count > SERIAL_FIFO_SIZE || s->rx_head >= SERIAL_FIFO_SIZE ||
	    (s->ier & 0xf0) || (s->mcr & 0xe0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int sizes[4] = { 1, 2, 4, 1 };
	struct rd r = { data, size };
	struct serial s;
	struct vm vm;
	unsigned int ops = 0;

	log_max_level = LOG_ERR;
	if (vm_init_nokvm(&vm, 0))
		abort();
	if (serial_init(&s, &vm, "none") || pc_devices_init(&vm))
		abort();
	while (r.left && ops++ < MAX_OPS) {
		unsigned int op = take(&r, 1), idx = op & 31;
		unsigned int len = sizes[(op >> 5) & 3];
		bool wr = op & 0x80;
		uint8_t buf[8];
		uint64_t port;

		if (idx == 30) {
			unsigned int n = take(&r, 1);

			if (n > r.left)
				n = (unsigned int)r.left;
			pthread_mutex_lock(&s.lock);
			serial_rx_push(&s, r.p, n);
			pthread_mutex_unlock(&s.lock);
			r.p += n;
			r.left -= n;
			check_uart(&s);
			continue;
		}
		if (idx < 17)
			port = ports[idx];
		else if (idx == 31)
			port = SERIAL_COM1_BASE + take(&r, 1) % 8;
		else
			port = take(&r, 2);
		memset(buf, 0xcc, sizeof(buf));
		if (wr) {
			unsigned int v = take(&r, len);

			memcpy(buf, &v, len);
		}
		vm_io_dispatch(&vm, VM_IO_PIO, port, buf, len, wr);
		/* Reads fill exactly the access, nothing past it. */
		if (buf[len] != 0xcc && !wr)
			abort();
		check_uart(&s);
	}
	serial_destroy(&s);
	vm_destroy(&vm);
	fd_check_no_leak();
	return 0;
}
