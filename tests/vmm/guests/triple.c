/* SPDX-License-Identifier: MIT */
/* triple.c - test guest: triple fault (empty IDT, then an exception). */
#include "lib.h"

int guest_main(void);

int guest_main(void)
{
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idt = { 0, 0 };

	puts_s("triple faulting\n");
	__asm__ volatile("lidt %0; int3" : : "m"(idt));
	puts_s("still running after a triple fault\n");
	return 1;
}
