/* SPDX-License-Identifier: MIT */
/* halt.c - test guest: halt with interrupts off, as Linux's poweroff does. */
#include "lib.h"

int guest_main(void);

int guest_main(void)
{
	puts_s("halting\n");
	for (;;)
		__asm__ volatile("cli; hlt");
	return 1;
}
