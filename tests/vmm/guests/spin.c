/* SPDX-License-Identifier: MIT */
/* spin.c - test guest: run forever, for the control socket tests. */
#include "lib.h"

int guest_main(void);

int guest_main(void)
{
	unsigned long n = 0;

	puts_s("spinning\n");
	for (;;) {
		/* Touch a port now and then: counters must move. */
		if (!(++n % 1000000))
			outb(0x80, 0);
		__asm__ volatile("pause");
	}
	return 1;
}
