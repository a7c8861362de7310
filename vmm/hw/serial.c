/* SPDX-License-Identifier: MIT */
/* serial.c - 16550A UART on COM1 with a stdio or Unix socket console. */
#include "vmm/hw/serial.h"

#include "vmm/device.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/vm.h"

LOG_MODULE("serial");

/* Register offsets and bits (the 16550 data sheet's names). */
enum {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,

	IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08,
	IIR_NO_INT = 0x01, IIR_THRI = 0x02, IIR_RDI = 0x04,
	IIR_FIFO = 0xc0,
	FCR_FIFO_ENABLE = 0x01, FCR_CLEAR_RX = 0x02,
	LCR_DLAB = 0x80,
	MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08,
	MCR_LOOP = 0x10,
	LSR_DR = 0x01, LSR_THRE = 0x20, LSR_TEMT = 0x40,
	MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80,
};

static struct termios saved_termios;

static void serial_update_irq(struct serial *s)
{
	bool level = false;

	if ((s->ier & IER_RDI) && s->rx_count)
		level = true;
	if ((s->ier & IER_THRI) && s->thri_pending)
		level = true;
	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->vm)
			vm_irq_line(s->vm, s->irq, level);
	}
}

static void serial_out(struct serial *s, uint8_t c)
{
	ssize_t n;

	if (s->mcr & MCR_LOOP) {
		if (s->rx_count < SERIAL_FIFO_SIZE) {
			s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = c;
			s->rx_count++;
		}
		return;
	}
	s->tx_bytes++;
	if (s->out_fd < 0) {
		s->tx_dropped++;
		return;
	}
	do {
		n = write(s->out_fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1)
		s->tx_dropped++;
}

static uint8_t serial_read_reg(struct serial *s, unsigned int reg)
{
	uint8_t v = 0;

	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
			s->rx_count--;
		}
		return v;
	case UART_IER:
		if (s->lcr & LCR_DLAB)
			return s->dlm;
		return s->ier;
	case UART_IIR_FCR:
		v = (s->fcr & FCR_FIFO_ENABLE) ? IIR_FIFO : 0;
		if ((s->ier & IER_RDI) && s->rx_count) {
			v |= IIR_RDI;
		} else if ((s->ier & IER_THRI) && s->thri_pending) {
			v |= IIR_THRI;
			/* Reading IIR acknowledges the THR-empty interrupt. */
			s->thri_pending = false;
		} else {
			v |= IIR_NO_INT;
		}
		return v;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT;
		if (s->rx_count)
			v |= LSR_DR;
		return v;
	case UART_MSR:
		if (s->mcr & MCR_LOOP) {
			v = 0;
			if (s->mcr & MCR_RTS)
				v |= MSR_CTS;
			if (s->mcr & MCR_DTR)
				v |= MSR_DSR;
			if (s->mcr & MCR_OUT1)
				v |= MSR_RI;
			if (s->mcr & MCR_OUT2)
				v |= MSR_DCD;
			return v;
		}
		return MSR_DCD | MSR_DSR | MSR_CTS;
	default:
		return s->scr;
	}
}

static void serial_write_reg(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			return;
		}
		serial_out(s, v);
		/* Sent at once: THR is empty again. */
		s->thri_pending = true;
		return;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			return;
		}
		/* Enabling THRI with THR empty raises it right away. */
		if (!(s->ier & IER_THRI) && (v & IER_THRI))
			s->thri_pending = true;
		s->ier = v & 0x0f;
		return;
	case UART_IIR_FCR:
		s->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX) {
			s->rx_count = 0;
			s->rx_head = 0;
		}
		return;
	case UART_LCR:
		s->lcr = v;
		return;
	case UART_MCR:
		s->mcr = v & 0x1f;
		return;
	case UART_SCR:
		s->scr = v;
		return;
	default:
		return;		/* LSR, MSR: read-only */
	}
}

void serial_io(void *opaque, uint64_t off, uint8_t *data, unsigned int len,
	       bool is_write)
{
	struct serial *s = opaque;
	unsigned int i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < len && off + i < 8; i++) {
		if (is_write)
			serial_write_reg(s, (unsigned int)(off + i), data[i]);
		else
			data[i] = serial_read_reg(s, (unsigned int)(off + i));
	}
	for (; i < len; i++)
		if (!is_write)
			data[i] = 0xff;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

unsigned int serial_rx_push(struct serial *s, const uint8_t *buf,
			    unsigned int len)
{
	unsigned int n = 0;

	while (n < len && s->rx_count < SERIAL_FIFO_SIZE) {
		s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = buf[n++];
		s->rx_count++;
	}
	s->rx_bytes += n;
	serial_update_irq(s);
	return n;
}

static void serial_client_drop(struct serial *s)
{
	if (s->in_fd >= 0 && s->vm) {
		if (s->in_polled)
			vm_loop_del(s->vm, s->in_fd);
		s->in_polled = false;
	}
	if (s->listen_fd >= 0 && s->in_fd >= 0)
		close(s->in_fd);
	s->in_fd = -1;
	if (s->listen_fd >= 0)
		s->out_fd = -1;
}

/*
 * While input is paused (the guest has not drained a full FIFO), a 20 ms
 * tick re-arms it; otherwise the tick is off, so an idle console costs the
 * main loop no wake-ups (each one takes a host CPU from the vCPU).
 */
static void serial_tick(struct serial *s, bool on)
{
	struct itimerspec its = { 0 };

	if (s->timer_fd < 0)
		return;
	if (on)
		its.it_interval.tv_nsec = its.it_value.tv_nsec = 20 * 1000000L;
	timerfd_settime(s->timer_fd, 0, &its, NULL);
}

static void serial_input_cb(void *opaque, int fd, uint32_t events)
{
	struct serial *s = opaque;
	uint8_t buf[SERIAL_FIFO_SIZE];
	unsigned int room;
	ssize_t n;

	pthread_mutex_lock(&s->lock);
	room = SERIAL_FIFO_SIZE - s->rx_count;
	if (!room) {
		/* Full: stop watching until the guest drains the FIFO. */
		vm_loop_del(s->vm, fd);
		s->in_polled = false;
		serial_tick(s, true);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	n = read(fd, buf, room);
	if (n > 0) {
		serial_rx_push(s, buf, (unsigned int)n);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		/* EOF on stdin or the client left. */
		serial_client_drop(s);
	}
	pthread_mutex_unlock(&s->lock);
}

/* Called from the main loop via the wake path: re-arm input if possible. */
static void serial_rearm(struct serial *s)
{
	if (s->in_fd >= 0 && !s->in_polled &&
	    s->rx_count < SERIAL_FIFO_SIZE &&
	    !vm_loop_add(s->vm, s->in_fd, serial_input_cb, s))
		s->in_polled = true;
}

static void serial_accept_cb(void *opaque, int fd, uint32_t events)
{
	struct serial *s = opaque;
	int c;

	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->in_fd >= 0) {
		/* One console client at a time. */
		pthread_mutex_unlock(&s->lock);
		if (write(c, "console busy\r\n", 14) < 0) {
			/* nothing to do */
		}
		close(c);
		return;
	}
	s->in_fd = c;
	s->out_fd = c;
	serial_rearm(s);
	pthread_mutex_unlock(&s->lock);
}

/* The re-arm tick (serial_tick()): keeps the loop free of serial logic. */
static void serial_timer_cb(void *opaque, int fd, uint32_t events)
{
	struct serial *s = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* spurious */
	}
	pthread_mutex_lock(&s->lock);
	serial_rearm(s);
	if (s->in_polled || s->in_fd < 0)
		serial_tick(s, false);
	pthread_mutex_unlock(&s->lock);
}

static int serial_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static char serial_sock_path[108];

int serial_init(struct serial *s, struct vm *vm, const char *console)
{
	int ret, tfd;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->vm = vm;
	s->irq = VM_IRQ_COM1;
	s->in_fd = s->out_fd = s->listen_fd = s->timer_fd = -1;
	s->mcr = MCR_OUT2;

	if (!strcmp(console, "stdio")) {
		s->in_fd = STDIN_FILENO;
		s->out_fd = STDOUT_FILENO;
		fcntl(STDIN_FILENO, F_SETFL,
		      fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
		if (isatty(STDIN_FILENO) &&
		    !tcgetattr(STDIN_FILENO, &saved_termios)) {
			struct termios t = saved_termios;

			/* Raw input, but keep ^C as a way out (ISIG). */
			t.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
			t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
			t.c_cc[VMIN] = 1;
			t.c_cc[VTIME] = 0;
			tcsetattr(STDIN_FILENO, TCSANOW, &t);
			s->tty_raw = true;
		}
	} else if (!strncmp(console, "socket:", 7)) {
		ret = serial_listen(console + 7);
		if (ret < 0)
			return ret;
		s->listen_fd = ret;
		snprintf(serial_sock_path, sizeof(serial_sock_path), "%s",
			 console + 7);
		ret = vm_loop_add(vm, s->listen_fd, serial_accept_cb, s);
		if (ret)
			return ret;
	} else if (strcmp(console, "none")) {
		return -EINVAL;
	}
	ret = vm_io_register(vm, VM_IO_PIO, SERIAL_COM1_BASE, 8, serial_io, s);
	if (ret)
		return ret;
	if (s->in_fd >= 0) {
		pthread_mutex_lock(&s->lock);
		serial_rearm(s);
		pthread_mutex_unlock(&s->lock);
	}
	/* The tick that re-arms input after the FIFO filled up; off now. */
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tfd < 0)
		return -errno;
	s->timer_fd = tfd;
	return vm_loop_add(vm, tfd, serial_timer_cb, s);
}

void serial_destroy(struct serial *s)
{
	if (!s->vm)
		return;		/* never initialised */
	if (s->tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
	s->tty_raw = false;
	if (s->timer_fd >= 0) {
		vm_loop_del(s->vm, s->timer_fd);
		close(s->timer_fd);
		s->timer_fd = -1;
	}
	if (s->listen_fd >= 0) {
		if (s->in_fd >= 0)
			close(s->in_fd);
		close(s->listen_fd);
		unlink(serial_sock_path);
		s->listen_fd = s->in_fd = s->out_fd = -1;
	}
}

/* The console row of the device table: --console SPEC, once. */
static struct serial serial_com1;

struct serial *serial_console(void)
{
	return serial_com1.vm ? &serial_com1 : NULL;
}

static int serial_row_parse(const char *arg, const struct vmm_config *cfg,
			    unsigned int index, void **opt, char *err,
			    size_t errlen)
{
	(void)cfg;
	(void)index;
	if (strcmp(arg, "stdio") && strcmp(arg, "none") &&
	    (strncmp(arg, "socket:", 7) || !arg[7])) {
		snprintf(err, errlen, "want stdio, socket:PATH or none");
		return -EINVAL;
	}
	*opt = strdup(arg);
	return *opt ? 0 : -ENOMEM;
}

static int serial_row_create(struct vm *vm, void *opt)
{
	return serial_init(&serial_com1, vm, opt);
}

static void serial_row_destroy(void *opt)
{
	serial_destroy(&serial_com1);
	free(opt);
}

const struct vmm_device serial_device = {
	.name = "console",
	.arg = "SPEC",
	.help = "COM1's console: stdio (default), socket:PATH (one\n"
		"                       client), none\n",
	.max = 1,
	.dflt = "stdio",
	.parse = serial_row_parse,
	.create = serial_row_create,
	.destroy = serial_row_destroy,
};
