/* SPDX-License-Identifier: MIT */
/* pc.c - the few legacy PC ports Linux touches: i8042, CMOS RTC, 0x80, exit. */
#include "vmm/hw/pc.h"
#include "vmm/device.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "vmm/vm.h"

LOG_MODULE("pc");

/*
 * i8042: just enough for Linux to find no keyboard quickly and to reset the
 * machine. Commands with a reply put it in the output buffer (status bit 0).
 */
enum {
	I8042_DATA = 0x60,
	I8042_CMD = 0x64,
	I8042_STS_OBF = 0x01,
	I8042_STS_SYS = 0x04,
	I8042_STS_CMD = 0x08,
	I8042_CMD_READ_CTR = 0x20,
	I8042_CMD_WRITE_CTR = 0x60,
	I8042_CMD_SELF_TEST = 0xaa,
	I8042_CMD_KBD_TEST = 0xab,
	I8042_CMD_WRITE_OUTPUT = 0xd1,
	I8042_CMD_RESET = 0xfe,
};

struct pc_state {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ctr;
	uint8_t out;		/* output buffer */
	bool out_full;
	uint8_t pending_cmd;	/* command waiting for its data byte */
	uint8_t status;
	uint8_t rtc_index;
};

static struct pc_state pc;

static void i8042_io(void *opaque, uint64_t off, uint8_t *data,
		     unsigned int len, bool is_write)
{
	struct pc_state *p = opaque;
	uint64_t port = I8042_DATA + off;

	pthread_mutex_lock(&p->lock);
	if (!is_write) {
		memset(data, 0, len);
		if (port == I8042_CMD) {
			data[0] = p->status | (p->out_full ? I8042_STS_OBF : 0);
		} else if (port == I8042_DATA) {
			data[0] = p->out;
			p->out_full = false;
		}
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (port == I8042_CMD) {
		p->status |= I8042_STS_CMD;
		switch (data[0]) {
		case I8042_CMD_READ_CTR:
			p->out = p->ctr;
			p->out_full = true;
			break;
		case I8042_CMD_WRITE_CTR:
		case I8042_CMD_WRITE_OUTPUT:
			p->pending_cmd = data[0];
			break;
		case I8042_CMD_SELF_TEST:
			p->out = 0x55;
			p->out_full = true;
			break;
		case I8042_CMD_KBD_TEST:
			p->out = 0x00;
			p->out_full = true;
			break;
		case I8042_CMD_RESET:
			log_info(MOD, "i8042 reset: guest rebooted");
			vm_request_exit(p->vm, VM_EXIT_POWEROFF);
			break;
		default:
			break;
		}
	} else if (port == I8042_DATA) {
		p->status &= (uint8_t)~I8042_STS_CMD;
		if (p->pending_cmd == I8042_CMD_WRITE_CTR) {
			p->ctr = data[0];
		} else if (p->pending_cmd == I8042_CMD_WRITE_OUTPUT &&
			   !(data[0] & 1)) {
			log_info(MOD, "i8042 output port reset: guest rebooted");
			vm_request_exit(p->vm, VM_EXIT_POWEROFF);
		}
		p->pending_cmd = 0;
	}
	pthread_mutex_unlock(&p->lock);
}

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* MC146818 CMOS clock: time of day from the host, BCD, 24 hours. */
static void rtc_io(void *opaque, uint64_t off, uint8_t *data, unsigned int len,
		   bool is_write)
{
	struct pc_state *p = opaque;
	struct tm tm;
	time_t now;
	uint8_t v = 0;

	pthread_mutex_lock(&p->lock);
	if (is_write) {
		if (off == 0)
			p->rtc_index = data[0] & 0x7f;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	memset(data, 0, len);
	if (off == 0) {
		data[0] = p->rtc_index;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	switch (p->rtc_index) {
	case 0x00: v = bcd(tm.tm_sec); break;
	case 0x02: v = bcd(tm.tm_min); break;
	case 0x04: v = bcd(tm.tm_hour); break;
	case 0x06: v = bcd(tm.tm_wday + 1); break;
	case 0x07: v = bcd(tm.tm_mday); break;
	case 0x08: v = bcd(tm.tm_mon + 1); break;
	case 0x09: v = bcd(tm.tm_year % 100); break;
	case 0x32: v = bcd((1900 + tm.tm_year) / 100); break;
	case 0x0a: v = 0x26; break;	/* 32 kHz, no update in progress */
	case 0x0b: v = 0x02; break;	/* 24 h, BCD */
	case 0x0d: v = 0x80; break;	/* battery good */
	default: v = 0; break;
	}
	data[0] = v;
	pthread_mutex_unlock(&p->lock);
}

/* Port 0x80 (POST codes, Linux's I/O delay): accepted and ignored. */
static void sink_io(void *opaque, uint64_t off, uint8_t *data,
		   unsigned int len, bool is_write)
{
	if (!is_write)
		memset(data, 0xff, len);
}

static void debug_exit_io(void *opaque, uint64_t off, uint8_t *data,
			  unsigned int len, bool is_write)
{
	struct pc_state *p = opaque;
	unsigned int code;

	if (!is_write) {
		memset(data, 0xff, len);
		return;
	}
	code = data[0];
	if (code > 239)
		code = 239;
	vm_request_exit(p->vm, VM_EXIT_DEBUG_BASE + (int)code);
}

int pc_devices_init(struct vm *vm)
{
	int ret;

	memset(&pc, 0, sizeof(pc));
	pthread_mutex_init(&pc.lock, NULL);
	pc.vm = vm;
	/* 0x10: keyboard not locked. */
	pc.status = I8042_STS_SYS | 0x10;
	pc.ctr = 0x61;		/* kbd interrupt on, translate, sys flag */
	/* 0x60-0x64; 0x61 (port B) is KVM's, 0x62/0x63 read as 0. */
	ret = vm_io_register(vm, VM_IO_PIO, I8042_DATA, 5, i8042_io, &pc);
	if (!ret)
		ret = vm_io_register(vm, VM_IO_PIO, 0x70, 2, rtc_io, &pc);
	if (!ret)
		ret = vm_io_register(vm, VM_IO_PIO, 0x80, 1, sink_io, &pc);
	if (!ret)
		ret = vm_io_register(vm, VM_IO_PIO, DEBUG_EXIT_PORT, 1,
				     debug_exit_io, &pc);
	return ret;
}

static int pc_row_create(struct vm *vm, void *opt)
{
	(void)opt;
	return pc_devices_init(vm);
}

/* The device table's row: always there, no option. */
const struct vmm_device pc_device = {
	.name = "pc",
	.create = pc_row_create,
};
