/* SPDX-License-Identifier: MIT */
/* boot.h - Linux x86-64 boot protocol, raw images, MP tables, entry state. */
#ifndef LOOM_VMM_BOOT_H
#define LOOM_VMM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

struct vm;

/* Fixed guest-physical addresses used before the kernel takes over. */
enum {
	BOOT_GDT_ADDR = 0x500,
	BOOT_PARAMS_ADDR = 0x7000,
	BOOT_PML4_ADDR = 0x9000,
	BOOT_PDPT_ADDR = 0xa000,
	BOOT_PD_ADDR = 0xb000,		/* 4 pages: 4 GiB of 2 MiB pages */
	BOOT_CMDLINE_ADDR = 0x20000,
	BOOT_CMDLINE_MAX = 0x10000,
	BOOT_MPTABLE_ADDR = 0x9f000,	/* config table; reserved to 640K */
	BOOT_MPFP_ADDR = 0x9fc00,	/* MP floating pointer */
	BOOT_EBDA_START = 0x9f000,
	BOOT_KERNEL_ADDR = 0x100000,
	BOOT_RAW_STACK = 0x80000,
	BOOT_MIN_RAM = 32u << 20,
	BOOT_ELF_MAX_PHDRS = 64,
	BOOT_ELF_CMDLINE_MAX = 2048,	/* x86 COMMAND_LINE_SIZE */
};

/**
 * struct boot_info - what was loaded, for the log and the e820 map.
 */
struct boot_info {
	uint64_t entry;
	uint64_t kernel_end;
	uint64_t initrd_addr;
	uint64_t initrd_size;
	uint16_t protocol;
};

/**
 * boot_linux_check() - validate a bzImage's setup header (no RAM needed).
 * @kernel: file bytes.
 * @kernel_len: their length.
 * @err: buffer for the reason.
 * @errlen: its size.
 *
 * The checks boot_linux_load() starts with, so a bad file is reported
 * before any VM is created.
 *
 * Return: 0 or -ENOEXEC.
 */
int boot_linux_check(const uint8_t *kernel, size_t kernel_len, char *err,
		     size_t errlen);

/**
 * boot_linux_load() - load a bzImage, initrd and command line into RAM.
 * @mem: guest RAM (low region at 0 must be >= BOOT_MIN_RAM).
 * @kernel: bzImage bytes.
 * @kernel_len: their length.
 * @initrd: initrd bytes or NULL.
 * @initrd_len: its length.
 * @cmdline: NUL-terminated command line.
 * @info: filled on success.
 * @err: buffer for a human-readable reason on failure.
 * @errlen: its size.
 *
 * Checks every setup header field it uses (magic, protocol >= 2.12, 64-bit
 * entry, sizes against the file and RAM) and writes boot_params with an
 * e820 map built from @mem.
 *
 * Return: 0 or negative errno (-ENOEXEC for a bad image).
 */
int boot_linux_load(const struct guest_mem *mem, const uint8_t *kernel,
		    size_t kernel_len, const uint8_t *initrd,
		    size_t initrd_len, const char *cmdline,
		    struct boot_info *info, char *err, size_t errlen);

/**
 * boot_elf_check() - validate a vmlinux (ELF64 x86-64 executable) header.
 * @elf: file bytes.
 * @elf_len: their length.
 * @err: buffer for the reason.
 * @errlen: its size.
 *
 * Checks the ELF header and every program header boot_elf_load() uses:
 * 64-bit little-endian x86-64 ET_EXEC, 1-BOOT_ELF_MAX_PHDRS program headers
 * inside the file, PT_LOAD segments inside the file with filesz <= memsz,
 * physical addresses from 1 MiB to 4 GiB without wrapping, the entry point
 * inside a loaded segment. No RAM needed: a bad file is reported before
 * any VM exists.
 *
 * Return: 0 or -ENOEXEC.
 */
int boot_elf_check(const uint8_t *elf, size_t elf_len, char *err,
		   size_t errlen);

/**
 * struct boot_elf_file - a vmlinux read as the loader goes.
 * @head: the file's first bytes: at least the ELF and program headers.
 * @head_len: their length.
 * @file_len: the whole file's length.
 * @read: copies @len bytes at @offset of the file to @dst (0, or negative
 *	errno), or NULL when @head is the whole file.
 * @ctx: for @read.
 *
 * A 64 MiB vmlinux goes from the file straight to its place in guest RAM,
 * without a copy of the whole file in the VMM first.
 */
struct boot_elf_file {
	const uint8_t *head;
	size_t head_len;
	uint64_t file_len;
	int (*read)(void *ctx, uint8_t *dst, uint64_t offset, uint64_t len);
	void *ctx;
};

/**
 * boot_elf_file_check() - boot_elf_check() for a file read in pieces.
 * @f: the file; its program headers must lie within @f->head.
 * @err: buffer for the reason.
 * @errlen: its size.
 *
 * Return: 0 or -ENOEXEC.
 */
int boot_elf_file_check(const struct boot_elf_file *f, char *err,
			size_t errlen);

/**
 * boot_elf_file_load() - boot_elf_load() for a file read in pieces.
 * @mem: guest RAM.
 * @f: the file; each segment is read with @f->read into guest RAM.
 * @initrd: initrd bytes or NULL.
 * @initrd_len: its length.
 * @cmdline: NUL-terminated command line.
 * @info: filled on success.
 * @err: buffer for the reason.
 * @errlen: its size.
 *
 * Return: 0 or negative errno (-ENOEXEC for a bad image, a failed read or
 * one that does not fit).
 */
int boot_elf_file_load(const struct guest_mem *mem,
		       const struct boot_elf_file *f, const uint8_t *initrd,
		       size_t initrd_len, const char *cmdline,
		       struct boot_info *info, char *err, size_t errlen);

/**
 * boot_is_elf() - whether a kernel file starts with the ELF magic.
 * @kernel: file bytes.
 * @len: their length.
 */
bool boot_is_elf(const uint8_t *kernel, size_t len);

/**
 * boot_elf_load() - load a vmlinux, initrd and command line into RAM.
 * @mem: guest RAM (low region at 0 must be >= BOOT_MIN_RAM).
 * @elf: vmlinux bytes (an uncompressed kernel, as Firecracker boots).
 * @elf_len: their length.
 * @initrd: initrd bytes or NULL.
 * @initrd_len: its length.
 * @cmdline: NUL-terminated command line (< BOOT_ELF_CMDLINE_MAX bytes).
 * @info: filled on success; entry = the ELF entry point (Linux's
 *	startup_64, entered in 64-bit mode with RSI = boot_params, as the
 *	bzImage decompressor enters it).
 * @err: buffer for a human-readable reason on failure.
 * @errlen: its size.
 *
 * Copies each PT_LOAD segment to its physical address (zero-filling up to
 * memsz), places the initrd at the top of low RAM below 2 GiB, and writes
 * boot_params with a setup header of its own (there is none in a vmlinux)
 * and the e820 map.
 *
 * Return: 0 or negative errno (-ENOEXEC for a bad image or one that does
 * not fit).
 */
int boot_elf_load(const struct guest_mem *mem, const uint8_t *elf,
		  size_t elf_len, const uint8_t *initrd, size_t initrd_len,
		  const char *cmdline, struct boot_info *info, char *err,
		  size_t errlen);

/**
 * boot_raw_load() - copy a flat binary to @addr for a bare-metal test guest.
 * @mem: guest RAM.
 * @img: bytes.
 * @len: length.
 * @addr: guest address; the guest enters there in 64-bit mode with
 *	RSP = BOOT_RAW_STACK and 4 GiB identity mapped.
 * @info: filled on success.
 *
 * Return: 0 or negative errno.
 */
int boot_raw_load(const struct guest_mem *mem, const uint8_t *img, size_t len,
		  uint64_t addr, struct boot_info *info);

/**
 * boot_mptable_write() - write the MP floating pointer and config table.
 * @mem: guest RAM.
 * @nr_cpus: processors (APIC IDs 0..nr_cpus-1, CPU 0 the BSP).
 * @pci_slots: bitmap of occupied PCI slots (bit n = slot n) for INTx entries.
 *
 * Return: 0 or negative errno.
 */
int boot_mptable_write(const struct guest_mem *mem, unsigned int nr_cpus,
		       uint32_t pci_slots);

/**
 * boot_vcpu_setup() - put the boot vCPU in 64-bit mode at @info->entry.
 * @vm: the VM (vCPU 0 is set up; the others wait for INIT/SIPI).
 * @info: from a load function.
 * @is_linux: RSI = boot_params for Linux, else RSP for a raw guest.
 *
 * Return: 0 or negative errno.
 */
int boot_vcpu_setup(struct vm *vm, const struct boot_info *info,
		    bool is_linux);

#endif
