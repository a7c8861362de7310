/* SPDX-License-Identifier: MIT */
/* serial.h - the 16550A UART on COM1 and its console (stdio, socket, none). */
#ifndef LOOM_VMM_HW_SERIAL_H
#define LOOM_VMM_HW_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vmm_device;

enum {
	SERIAL_COM1_BASE = 0x3f8,
	SERIAL_FIFO_SIZE = 64,
	SERIAL_CONSOLE_MAX_CLIENTS = 1,
};

/**
 * struct serial - one 16550A UART, its console being stdio or a Unix socket.
 *
 * Guest writes to THR go straight to the console (a socket console with no
 * client drops them; a slow client loses bytes rather than stalling the
 * vCPU). Console input fills a 64-byte receive FIFO; the fd is not read
 * while the FIFO is full.
 */
struct serial {
	struct vm *vm;
	pthread_mutex_t lock;
	unsigned int irq;
	uint8_t ier, lcr, mcr, lsr_extra, msr, scr, dll, dlm, fcr;
	bool thri_pending;	/* THR-empty interrupt not yet acknowledged */
	bool irq_level;
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	/* Console. */
	int in_fd;		/* stdin or the client socket, -1 if none */
	int out_fd;		/* stdout or the client socket, -1 if none */
	int listen_fd;		/* socket console, -1 for stdio */
	int timer_fd;		/* input re-arm tick, -1 if none */
	bool in_polled;		/* in_fd is in the event loop */
	bool tty_raw;		/* stdin termios changed, restore at exit */
	uint64_t tx_bytes, rx_bytes, tx_dropped;
};

/**
 * serial_init() - COM1 at 0x3f8 on IRQ 4 with its console.
 * @s: the UART.
 * @vm: the VM (ports registered; console fds added to its loop).
 * @console: "stdio", "socket:PATH" or "none".
 *
 * Return: 0 or negative errno (-EINVAL for an unknown console spec).
 */
int serial_init(struct serial *s, struct vm *vm, const char *console);

/**
 * serial_destroy() - restore the terminal, close fds, remove the socket.
 * @s: the UART.
 */
void serial_destroy(struct serial *s);

/**
 * serial_io() - the UART's vm_io_fn (exposed for unit tests).
 */
void serial_io(void *opaque, uint64_t off, uint8_t *data, unsigned int len,
	       bool is_write);

/**
 * serial_rx_push() - put console input into the receive FIFO.
 * @s: the UART.
 * @buf: bytes.
 * @len: count.
 *
 * Return: bytes taken (the rest did not fit).
 */
unsigned int serial_rx_push(struct serial *s, const uint8_t *buf,
			    unsigned int len);

/* serial_console() - COM1 as the console row created it, or NULL. */
struct serial *serial_console(void);

/* The device table's row (vmm/device.c). */
extern const struct vmm_device serial_device;

#endif
