/* SPDX-License-Identifier: MIT */
/* lib.h - port I/O, MMIO, serial and PCI helpers for bare-metal test guests. */
#ifndef LOOM_GUEST_LIB_H
#define LOOM_GUEST_LIB_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

#define MMIO(type, addr) (*(volatile type *)(uintptr_t)(addr))

static inline void serial_putc(char c)
{
	unsigned int n = 100000;

	while (!(inb(0x3fd) & 0x20) && --n)
		;
	outb(0x3f8, (uint8_t)c);
}

static inline void puts_s(const char *s)
{
	while (*s) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s++);
	}
}

static inline void put_hex(uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	while (digits--)
		serial_putc(hex[(v >> (4 * digits)) & 0xf]);
}

static inline uint32_t pci_cfg_read32(unsigned int slot, unsigned int off)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	return inl(0xcfc);
}

static inline void pci_cfg_write32(unsigned int slot, unsigned int off,
				   uint32_t v)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	outl(0xcfc, v);
}

#endif
