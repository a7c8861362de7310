/* SPDX-License-Identifier: MIT */
/* pc.h - the legacy PC ports Linux touches: i8042, CMOS RTC, port 0x80, debug exit. */
#ifndef LOOM_VMM_HW_PC_H
#define LOOM_VMM_HW_PC_H

struct vm;
struct vmm_device;

enum { DEBUG_EXIT_PORT = 0x501 };

/**
 * pc_devices_init() - i8042 (reset), CMOS RTC, port 0x80, debug exit port.
 * @vm: the VM.
 *
 * Port 0x64 command 0xfe (pulse reset) and a write to the i8042 output
 * port with bit 0 clear end the VM with VM_EXIT_POWEROFF; a byte n written
 * to DEBUG_EXIT_PORT ends it with VM_EXIT_DEBUG_BASE + n (n <= 239).
 *
 * Return: 0 or negative errno.
 */
int pc_devices_init(struct vm *vm);

/* The device table's row (vmm/device.c). */
extern const struct vmm_device pc_device;

#endif
