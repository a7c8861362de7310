/* SPDX-License-Identifier: MIT */
/* reset.c - test guest: reboot through the i8042 reset line (port 0x64). */
#include "lib.h"

int guest_main(void);

int guest_main(void)
{
	puts_s("resetting via i8042\n");
	while (inb(0x64) & 0x02)
		;
	outb(0x64, 0xfe);
	puts_s("reset did not happen\n");
	return 1;
}
