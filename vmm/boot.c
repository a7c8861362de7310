/* SPDX-License-Identifier: MIT */
/* boot.c - bzImage and vmlinux (ELF) loading, boot_params and e820, MP tables, 64-bit entry. */
#include "vmm/boot.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/pci.h"
#include "vmm/vm.h"

/* Offsets in the bzImage / boot_params (Documentation/x86/boot.rst). */
enum {
	HDR_SETUP_SECTS = 0x1f1,
	HDR_SYSSIZE = 0x1f4,
	HDR_BOOT_FLAG = 0x1fe,
	HDR_JUMP = 0x200,
	HDR_MAGIC = 0x202,
	HDR_VERSION = 0x206,
	HDR_TYPE_OF_LOADER = 0x210,
	HDR_LOADFLAGS = 0x211,
	HDR_RAMDISK_IMAGE = 0x218,
	HDR_RAMDISK_SIZE = 0x21c,
	HDR_HEAP_END_PTR = 0x224,
	HDR_CMD_LINE_PTR = 0x228,
	HDR_INITRD_ADDR_MAX = 0x22c,
	HDR_KERNEL_ALIGNMENT = 0x230,
	HDR_RELOCATABLE = 0x234,
	HDR_XLOADFLAGS = 0x236,
	HDR_CMDLINE_SIZE = 0x238,
	HDR_PAYLOAD_OFFSET = 0x248,
	HDR_PAYLOAD_LENGTH = 0x24c,
	HDR_PREF_ADDRESS = 0x258,
	HDR_INIT_SIZE = 0x260,
	HDR_END_MIN = 0x264,	/* end of the fields protocol 2.12 defines */

	BP_EXT_RAMDISK_IMAGE = 0x0c0,
	BP_EXT_RAMDISK_SIZE = 0x0c4,
	BP_EXT_CMD_LINE_PTR = 0x0c8,
	BP_E820_ENTRIES = 0x1e8,
	BP_E820_TABLE = 0x2d0,
	BP_E820_MAX = 128,
	BP_SIZE = 4096,

	LOADFLAG_LOADED_HIGH = 0x01,
	XLF_KERNEL_64 = 0x01,
	E820_RAM = 1,
	E820_RESERVED = 2,
	LOAD_PHYSICAL_ADDR = 0x1000000,	/* where the decompressor runs */
};

static uint64_t get64(const uint8_t *p);

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -ENOEXEC;
}

/*
 * The initrd at the top of low RAM below @limit (0: no limit of the
 * kernel's own), page-aligned and above @kernel_top, and the command line
 * (@clen bytes and its NUL) at BOOT_CMDLINE_ADDR: what both kernel formats
 * place the same way. Return: 0, -ENOEXEC with @err, or -EFAULT.
 */
static int place_initrd_cmdline(const struct guest_mem *mem,
				const uint8_t *initrd, size_t initrd_len,
				uint64_t limit, uint64_t low_end,
				uint64_t kernel_top, const char *cmdline,
				size_t clen, struct boot_info *info, char *err,
				size_t errlen)
{
	uint64_t top = low_end, initrd_addr;
	uint8_t *dst;

	if (initrd && initrd_len) {
		if (limit && limit < top)
			top = limit;
		if (initrd_len > top)
			return fail(err, errlen, "initrd (%zu bytes) larger "
				    "than the RAM below its limit", initrd_len);
		initrd_addr = (top - initrd_len) & ~0xfffull;
		if (initrd_addr < kernel_top)
			return fail(err, errlen, "initrd (%zu bytes) does not "
				    "fit above the kernel: more --mem needed",
				    initrd_len);
		dst = guest_mem_ptr(mem, initrd_addr, initrd_len);
		if (!dst)
			return fail(err, errlen, "initrd does not fit in RAM");
		memcpy(dst, initrd, initrd_len);
		info->initrd_addr = initrd_addr;
		info->initrd_size = initrd_len;
	}
	dst = guest_mem_ptr(mem, BOOT_CMDLINE_ADDR, clen + 1);
	if (!dst)
		return -EFAULT;
	memcpy(dst, cmdline, clen + 1);
	return 0;
}

/* RAM in [0, 640K) minus the EBDA, the low region above 1 MiB, high RAM. */
static unsigned int boot_e820(const struct guest_mem *mem, uint8_t *bp)
{
	unsigned int n = 0, i;
	uint8_t *e = bp + BP_E820_TABLE;

	for (i = 0; i < mem->nr && n + 2 < BP_E820_MAX; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		uint64_t start = r->gpa, end = r->gpa + r->size;

		if (start < BOOT_EBDA_START) {
			put64(e + 20 * n, start);
			put64(e + 20 * n + 8, BOOT_EBDA_START - start);
			put32(e + 20 * n + 16, E820_RAM);
			n++;
			put64(e + 20 * n, BOOT_EBDA_START);
			put64(e + 20 * n + 8, 0xa0000 - BOOT_EBDA_START);
			put32(e + 20 * n + 16, E820_RESERVED);
			n++;
			/* The legacy BIOS area stays out of the map. */
			start = BOOT_KERNEL_ADDR;
		}
		if (end <= start)
			continue;
		put64(e + 20 * n, start);
		put64(e + 20 * n + 8, end - start);
		put32(e + 20 * n + 16, E820_RAM);
		n++;
	}
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	return n;
}

/* The zero page at BOOT_PARAMS_ADDR, cleared for a loader to fill. */
static uint8_t *boot_params_zeroed(const struct guest_mem *mem)
{
	uint8_t *bp = guest_mem_ptr(mem, BOOT_PARAMS_ADDR, BP_SIZE);

	if (bp)
		memset(bp, 0, BP_SIZE);
	return bp;
}

int boot_linux_check(const uint8_t *kernel, size_t kernel_len, char *err,
		     size_t errlen)
{
	uint32_t setup_sects, pm_off, init_size;
	uint16_t version;
	uint64_t pm_len;

	if (kernel_len < HDR_END_MIN)
		return fail(err, errlen, "kernel: file too short (%zu bytes) "
			    "for a bzImage setup header", kernel_len);
	if (get16(kernel + HDR_BOOT_FLAG) != 0xaa55)
		return fail(err, errlen, "kernel: no 0xAA55 boot flag: not a "
			    "bzImage");
	if (memcmp(kernel + HDR_MAGIC, "HdrS", 4))
		return fail(err, errlen, "kernel: no \"HdrS\" magic: not a "
			    "bzImage (a vmlinux ELF is not supported)");
	version = get16(kernel + HDR_VERSION);
	if (version < 0x020c)
		return fail(err, errlen, "kernel: boot protocol %u.%02u, need "
			    ">= 2.12 for the 64-bit entry", version >> 8,
			    version & 0xff);
	if (!(kernel[HDR_LOADFLAGS] & LOADFLAG_LOADED_HIGH))
		return fail(err, errlen, "kernel: not a bzImage (zImage "
			    "loaded low is not supported)");
	if (!(get16(kernel + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return fail(err, errlen, "kernel: no 64-bit entry point "
			    "(XLF_KERNEL_64 clear): a 32-bit kernel?");
	setup_sects = kernel[HDR_SETUP_SECTS];
	if (!setup_sects)
		setup_sects = 4;
	pm_off = (setup_sects + 1) * 512;
	if (pm_off >= kernel_len)
		return fail(err, errlen, "kernel: setup_sects %u points past "
			    "the end of the file (%zu bytes): truncated?",
			    setup_sects, kernel_len);
	pm_len = kernel_len - pm_off;
	/* A cut-off download must not boot into garbage. */
	if ((uint64_t)get32(kernel + HDR_SYSSIZE) * 16 > pm_len ||
	    (uint64_t)get32(kernel + HDR_PAYLOAD_OFFSET) +
			    get32(kernel + HDR_PAYLOAD_LENGTH) > pm_len)
		return fail(err, errlen, "kernel: file shorter than its header "
			    "says (syssize %u paragraphs, payload %u+%u, have "
			    "%llu bytes): truncated?",
			    get32(kernel + HDR_SYSSIZE),
			    get32(kernel + HDR_PAYLOAD_OFFSET),
			    get32(kernel + HDR_PAYLOAD_LENGTH),
			    (unsigned long long)pm_len);
	init_size = get32(kernel + HDR_INIT_SIZE);
	if (init_size < pm_len || init_size > (512u << 20))
		return fail(err, errlen, "kernel: implausible init_size %u "
			    "for a %llu-byte payload", init_size,
			    (unsigned long long)pm_len);
	return 0;
}

int boot_linux_load(const struct guest_mem *mem, const uint8_t *kernel,
		    size_t kernel_len, const uint8_t *initrd,
		    size_t initrd_len, const char *cmdline,
		    struct boot_info *info, char *err, size_t errlen)
{
	uint32_t setup_sects, pm_off, init_size, initrd_max, cmdline_size;
	uint64_t pm_len, low_end, kernel_top;
	int ret;
	const struct guest_mem_region *low;
	uint16_t version;
	size_t hdr_end, clen;
	uint8_t *bp, *dst;

	memset(info, 0, sizeof(*info));
	low = guest_mem_find(mem, 0);
	if (!low || low->size < BOOT_MIN_RAM)
		return fail(err, errlen, "need at least %u MiB of RAM at 0",
			    BOOT_MIN_RAM >> 20);
	low_end = low->size;

	if (boot_linux_check(kernel, kernel_len, err, errlen))
		return -ENOEXEC;
	version = get16(kernel + HDR_VERSION);
	setup_sects = kernel[HDR_SETUP_SECTS] ? kernel[HDR_SETUP_SECTS] : 4;
	pm_off = (setup_sects + 1) * 512;
	pm_len = kernel_len - pm_off;
	init_size = get32(kernel + HDR_INIT_SIZE);
	/* The decompressor runs at max(load address, 16 MiB) + init_size. */
	kernel_top = LOAD_PHYSICAL_ADDR + (uint64_t)init_size;
	if (BOOT_KERNEL_ADDR + pm_len > low_end || kernel_top > low_end)
		return fail(err, errlen, "kernel needs %llu MiB of low RAM, "
			    "have %llu MiB",
			    (unsigned long long)(kernel_top >> 20) + 1,
			    (unsigned long long)(low_end >> 20));

	cmdline_size = get32(kernel + HDR_CMDLINE_SIZE);
	clen = strlen(cmdline);
	if (clen >= BOOT_CMDLINE_MAX || (cmdline_size && clen > cmdline_size))
		return fail(err, errlen, "command line too long (%zu bytes, "
			    "kernel takes %u)", clen, cmdline_size);

	/* Protected-mode kernel at 1 MiB. */
	dst = guest_mem_ptr(mem, BOOT_KERNEL_ADDR, pm_len);
	if (!dst)
		return fail(err, errlen, "kernel does not fit in RAM");
	memcpy(dst, kernel + pm_off, pm_len);
	info->kernel_end = BOOT_KERNEL_ADDR + pm_len;

	initrd_max = get32(kernel + HDR_INITRD_ADDR_MAX);
	ret = place_initrd_cmdline(mem, initrd, initrd_len,
				   initrd_max ? (uint64_t)initrd_max + 1 : 0,
				   low_end, kernel_top, cmdline, clen, info,
				   err, errlen);
	if (ret)
		return ret;

	bp = boot_params_zeroed(mem);
	if (!bp)
		return -EFAULT;
	/* Copy the setup header as the kernel defines its length. */
	hdr_end = 0x202 + kernel[HDR_JUMP + 1];
	if (hdr_end > kernel_len || hdr_end > BP_SIZE)
		hdr_end = HDR_END_MIN;
	memcpy(bp + HDR_SETUP_SECTS, kernel + HDR_SETUP_SECTS,
	       hdr_end - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = 0xff;
	bp[HDR_LOADFLAGS] = (uint8_t)(bp[HDR_LOADFLAGS] | LOADFLAG_LOADED_HIGH);
	put16(bp + HDR_HEAP_END_PTR, 0);
	put32(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
	put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)info->initrd_addr);
	put32(bp + HDR_RAMDISK_SIZE, (uint32_t)initrd_len);
	put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(info->initrd_addr >> 32));
	put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)initrd_len >> 32));
	put32(bp + BP_EXT_CMD_LINE_PTR, 0);
	put16(bp + 0x1fa, 0xffff);	/* vid_mode: normal */
	boot_e820(mem, bp);

	info->entry = BOOT_KERNEL_ADDR + 0x200;	/* startup_64 */
	info->protocol = version;
	return 0;
}

/* ELF64 (the System V gABI and its x86-64 supplement). */
enum {
	EHDR_SIZE = 64,
	EH_CLASS = 4, EH_DATA = 5, EH_VERSION = 6,
	EH_TYPE = 16, EH_MACHINE = 18, EH_ENTRY = 24, EH_PHOFF = 32,
	EH_PHENTSIZE = 54, EH_PHNUM = 56,
	PHDR_SIZE = 56,
	PH_TYPE = 0, PH_FLAGS = 4, PH_OFFSET = 8, PH_PADDR = 24,
	PH_FILESZ = 32, PH_MEMSZ = 40,
	ELFCLASS64 = 2, ELFDATA2LSB = 1, ET_EXEC = 2, EM_X86_64 = 62,
	PT_LOAD = 1,
	ELF_BOOT_PROTOCOL = 0x020c,
	ELF_INITRD_MAX = 0x7fffffff,	/* what bzImages say */
};

/* One PT_LOAD segment, as read from a checked program header. */
struct elf_seg {
	uint64_t offset, paddr, filesz, memsz;
};

bool boot_is_elf(const uint8_t *kernel, size_t len)
{
	return len >= 4 && !memcmp(kernel, "\x7f" "ELF", 4);
}

/* Program header @i of a file whose header boot_elf_check() accepted. */
static const uint8_t *elf_phdr(const uint8_t *elf, unsigned int i)
{
	return elf + get64(elf + EH_PHOFF) + (uint64_t)i * PHDR_SIZE;
}

/* Program header @i as a segment: false unless it is a PT_LOAD. */
static bool elf_load_seg(const uint8_t *elf, unsigned int i,
			 struct elf_seg *seg)
{
	const uint8_t *ph = elf_phdr(elf, i);

	if (get32(ph + PH_TYPE) != PT_LOAD)
		return false;
	seg->offset = get64(ph + PH_OFFSET);
	seg->paddr = get64(ph + PH_PADDR);
	seg->filesz = get64(ph + PH_FILESZ);
	seg->memsz = get64(ph + PH_MEMSZ);
	return true;
}

int boot_elf_file_check(const struct boot_elf_file *f, char *err,
			size_t errlen)
{
	const uint8_t *elf = f->head;
	size_t head_len = f->head_len;
	uint64_t file_len = f->file_len, phoff, entry;
	unsigned int phnum, i, loads = 0;
	bool entry_loaded = false;

	if (head_len > file_len || head_len < EHDR_SIZE ||
	    !boot_is_elf(elf, head_len))
		return fail(err, errlen, "kernel: not an ELF file (%llu bytes)",
			    (unsigned long long)file_len);
	if (elf[EH_CLASS] != ELFCLASS64 || elf[EH_DATA] != ELFDATA2LSB ||
	    elf[EH_VERSION] != 1)
		return fail(err, errlen, "kernel: ELF is not 64-bit "
			    "little-endian version 1 (class %u, data %u)",
			    elf[EH_CLASS], elf[EH_DATA]);
	if (get16(elf + EH_TYPE) != ET_EXEC ||
	    get16(elf + EH_MACHINE) != EM_X86_64)
		return fail(err, errlen, "kernel: ELF type %u machine %u: want "
			    "an x86-64 executable (vmlinux)",
			    get16(elf + EH_TYPE), get16(elf + EH_MACHINE));
	phoff = get64(elf + EH_PHOFF);
	phnum = get16(elf + EH_PHNUM);
	if (get16(elf + EH_PHENTSIZE) != PHDR_SIZE || !phnum ||
	    phnum > BOOT_ELF_MAX_PHDRS)
		return fail(err, errlen, "kernel: ELF program headers: %u of "
			    "%u bytes (want 1-%u of %u)", phnum,
			    get16(elf + EH_PHENTSIZE), BOOT_ELF_MAX_PHDRS,
			    PHDR_SIZE);
	/* phnum * PHDR_SIZE is small, so only phoff can overflow. */
	if (phoff > file_len || (uint64_t)phnum * PHDR_SIZE > file_len - phoff)
		return fail(err, errlen, "kernel: ELF program headers at %llu "
			    "past the end of the file: truncated?",
			    (unsigned long long)phoff);
	if (phoff > head_len || (uint64_t)phnum * PHDR_SIZE > head_len - phoff)
		return fail(err, errlen, "kernel: ELF program headers at %llu "
			    "not in the first %zu bytes, where loom-vmm reads "
			    "them", (unsigned long long)phoff, head_len);
	entry = get64(elf + EH_ENTRY);
	for (i = 0; i < phnum; i++) {
		struct elf_seg seg;

		if (!elf_load_seg(elf, i, &seg))
			continue;
		if (seg.filesz > seg.memsz || seg.offset > file_len ||
		    seg.filesz > file_len - seg.offset)
			return fail(err, errlen, "kernel: ELF segment %u: %llu "
				    "bytes at offset %llu (memsz %llu) not in "
				    "the %llu-byte file: truncated?", i,
				    (unsigned long long)seg.filesz,
				    (unsigned long long)seg.offset,
				    (unsigned long long)seg.memsz,
				    (unsigned long long)file_len);
		if (seg.paddr < BOOT_KERNEL_ADDR || seg.memsz > (1ull << 32) ||
		    seg.paddr > (1ull << 32) - seg.memsz)
			return fail(err, errlen, "kernel: ELF segment %u at "
				    "physical 0x%llx+0x%llx: not between 1 MiB "
				    "and 4 GiB", i,
				    (unsigned long long)seg.paddr,
				    (unsigned long long)seg.memsz);
		if (entry >= seg.paddr && entry - seg.paddr < seg.memsz)
			entry_loaded = true;
		loads++;
	}
	if (!loads)
		return fail(err, errlen, "kernel: ELF has no loadable segment");
	if (!entry_loaded)
		return fail(err, errlen, "kernel: ELF entry 0x%llx is in no "
			    "loaded segment (not a vmlinux?)",
			    (unsigned long long)entry);
	return 0;
}

int boot_elf_check(const uint8_t *elf, size_t elf_len, char *err,
		   size_t errlen)
{
	const struct boot_elf_file f = { elf, elf_len, elf_len, NULL, NULL };

	return boot_elf_file_check(&f, err, errlen);
}

int boot_elf_load(const struct guest_mem *mem, const uint8_t *elf,
		  size_t elf_len, const uint8_t *initrd, size_t initrd_len,
		  const char *cmdline, struct boot_info *info, char *err,
		  size_t errlen)
{
	const struct boot_elf_file f = { elf, elf_len, elf_len, NULL, NULL };

	return boot_elf_file_load(mem, &f, initrd, initrd_len, cmdline, info,
				  err, errlen);
}

int boot_elf_file_load(const struct guest_mem *mem,
		       const struct boot_elf_file *f, const uint8_t *initrd,
		       size_t initrd_len, const char *cmdline,
		       struct boot_info *info, char *err, size_t errlen)
{
	const uint8_t *elf = f->head;
	const struct guest_mem_region *low;
	uint64_t low_end, kernel_end = 0;
	unsigned int phnum, i;
	int ret;
	size_t clen;
	uint8_t *bp, *dst;

	memset(info, 0, sizeof(*info));
	low = guest_mem_find(mem, 0);
	if (!low || low->size < BOOT_MIN_RAM)
		return fail(err, errlen, "need at least %u MiB of RAM at 0",
			    BOOT_MIN_RAM >> 20);
	low_end = low->size;
	if (boot_elf_file_check(f, err, errlen))
		return -ENOEXEC;
	clen = strlen(cmdline);
	if (clen >= BOOT_ELF_CMDLINE_MAX)
		return fail(err, errlen, "command line too long (%zu bytes, "
			    "a vmlinux takes %u)", clen,
			    BOOT_ELF_CMDLINE_MAX - 1);

	phnum = get16(elf + EH_PHNUM);
	for (i = 0; i < phnum; i++) {
		struct elf_seg seg;

		if (!elf_load_seg(elf, i, &seg))
			continue;
		/* Checked: no wrap, and below 4 GiB. */
		dst = guest_mem_ptr(mem, seg.paddr, seg.memsz);
		if (!dst || seg.paddr + seg.memsz > low_end)
			return fail(err, errlen, "kernel: ELF segment %u "
				    "(0x%llx+0x%llx) does not fit in %llu MiB "
				    "of low RAM", i,
				    (unsigned long long)seg.paddr,
				    (unsigned long long)seg.memsz,
				    (unsigned long long)(low_end >> 20));
		if (!f->read)
			memcpy(dst, elf + seg.offset, seg.filesz);
		else if (f->read(f->ctx, dst, seg.offset, seg.filesz))
			return fail(err, errlen, "kernel: ELF segment %u: read "
				    "failed", i);
		memset(dst + seg.filesz, 0, seg.memsz - seg.filesz);
		if (seg.paddr + seg.memsz > kernel_end)
			kernel_end = seg.paddr + seg.memsz;
	}
	info->kernel_end = kernel_end;

	ret = place_initrd_cmdline(mem, initrd, initrd_len,
				   (uint64_t)ELF_INITRD_MAX + 1, low_end,
				   kernel_end, cmdline, clen, info, err,
				   errlen);
	if (ret)
		return ret;

	/*
	 * boot_params with the setup header fields a booted kernel reads; a
	 * bzImage would bring the rest, which only its own set-up code and
	 * decompressor use.
	 */
	bp = boot_params_zeroed(mem);
	if (!bp)
		return -EFAULT;
	put16(bp + HDR_BOOT_FLAG, 0xaa55);
	memcpy(bp + HDR_MAGIC, "HdrS", 4);
	put16(bp + HDR_VERSION, ELF_BOOT_PROTOCOL);
	bp[HDR_TYPE_OF_LOADER] = 0xff;
	bp[HDR_LOADFLAGS] = LOADFLAG_LOADED_HIGH;
	put32(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
	put32(bp + HDR_CMDLINE_SIZE, BOOT_ELF_CMDLINE_MAX - 1);
	put32(bp + HDR_INITRD_ADDR_MAX, ELF_INITRD_MAX);
	put32(bp + HDR_KERNEL_ALIGNMENT, 0x200000);
	put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)info->initrd_addr);
	put32(bp + HDR_RAMDISK_SIZE, (uint32_t)initrd_len);
	put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(info->initrd_addr >> 32));
	put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)initrd_len >> 32));
	put16(bp + 0x1fa, 0xffff);	/* vid_mode: normal */
	boot_e820(mem, bp);

	info->entry = get64(elf + EH_ENTRY);
	info->protocol = ELF_BOOT_PROTOCOL;
	return 0;
}

int boot_raw_load(const struct guest_mem *mem, const uint8_t *img, size_t len,
		  uint64_t addr, struct boot_info *info)
{
	uint8_t *dst;

	memset(info, 0, sizeof(*info));
	if (!len || addr < 0x100000)
		return -EINVAL;
	dst = guest_mem_ptr(mem, addr, len);
	if (!dst)
		return -ERANGE;
	memcpy(dst, img, len);
	info->entry = addr;
	info->kernel_end = addr + len;
	return 0;
}

/* MP spec 1.4 tables. */
enum {
	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_INTSRC = 3,
	MP_LINTSRC = 4,
	MP_INT = 0,
	MP_NMI = 1,
	MP_EXTINT = 3,
	MP_IRQ_HIGH_LEVEL = 0x0d,	/* active high, level triggered */
	MP_BUS_PCI = 0,
	MP_BUS_ISA = 1,
};

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

int boot_mptable_write(const struct guest_mem *mem, unsigned int nr_cpus,
		       uint32_t pci_slots)
{
	const size_t max = BOOT_MPFP_ADDR - BOOT_MPTABLE_ADDR;
	uint8_t *fp, *t, *e;
	unsigned int i, pin, count = 0;
	uint8_t ioapic_id = (uint8_t)nr_cpus;

	if (!nr_cpus || nr_cpus > VM_MAX_VCPUS)
		return -EINVAL;
	fp = guest_mem_ptr(mem, BOOT_MPFP_ADDR, 16);
	t = guest_mem_ptr(mem, BOOT_MPTABLE_ADDR, max);
	if (!fp || !t)
		return -EFAULT;
	memset(t, 0, max);
	e = t + 44;
#define ROOM(n) do { if ((size_t)(e - t) + (n) > max) return -ENOSPC; } while (0)

	for (i = 0; i < nr_cpus; i++, count++) {
		ROOM(20);
		e[0] = MP_PROCESSOR;
		e[1] = (uint8_t)i;		/* APIC ID */
		e[2] = 0x14;			/* APIC version */
		e[3] = (uint8_t)(0x01 | (i == 0 ? 0x02 : 0)); /* EN, BP */
		put32(e + 4, 0x600);		/* family 6 */
		put32(e + 8, 0x201);		/* FPU, APIC */
		e += 20;
	}
	ROOM(16);
	e[0] = MP_BUS;
	e[1] = MP_BUS_PCI;
	memcpy(e + 2, "PCI   ", 6);
	e += 8;
	e[0] = MP_BUS;
	e[1] = MP_BUS_ISA;
	memcpy(e + 2, "ISA   ", 6);
	e += 8;
	count += 2;
	ROOM(8);
	e[0] = MP_IOAPIC;
	e[1] = ioapic_id;
	e[2] = 0x11;
	e[3] = 0x01;			/* enabled */
	put32(e + 4, 0xfec00000u);
	e += 8;
	count++;
	/* ISA IRQs on the IOAPIC pin of the same number (KVM's wiring). */
	for (i = 0; i < 16; i++) {
		if (i == 2)
			continue;
		ROOM(8);
		e[0] = MP_INTSRC;
		e[1] = MP_INT;
		put16(e + 2, 0);	/* conforms to the ISA bus: edge high */
		e[4] = MP_BUS_ISA;
		e[5] = (uint8_t)i;
		e[6] = ioapic_id;
		e[7] = (uint8_t)i;
		e += 8;
		count++;
	}
	/* PCI INTx: source IRQ = slot << 2 | (pin - 1). */
	for (i = 1; i < PCI_MAX_DEVS; i++) {
		if (!(pci_slots & (1u << i)))
			continue;
		for (pin = 1; pin <= 4; pin++) {
			ROOM(8);
			e[0] = MP_INTSRC;
			e[1] = MP_INT;
			put16(e + 2, MP_IRQ_HIGH_LEVEL);
			e[4] = MP_BUS_PCI;
			e[5] = (uint8_t)(i << 2 | (pin - 1));
			e[6] = ioapic_id;
			e[7] = (uint8_t)pci_bus_irq_pin_gsi(i, pin);
			e += 8;
			count++;
		}
	}
	ROOM(16);
	e[0] = MP_LINTSRC;
	e[1] = MP_EXTINT;
	e[4] = MP_BUS_ISA;
	e[6] = 0xff;			/* all local APICs */
	e[7] = 0;			/* LINT0 */
	e += 8;
	e[0] = MP_LINTSRC;
	e[1] = MP_NMI;
	e[4] = MP_BUS_ISA;
	e[6] = 0xff;
	e[7] = 1;			/* LINT1 */
	e += 8;
	count += 2;
#undef ROOM

	memcpy(t, "PCMP", 4);
	put16(t + 4, (uint16_t)(e - t));
	t[6] = 4;			/* spec 1.4 */
	memcpy(t + 8, "LOOM    ", 8);
	memcpy(t + 16, "LOOM-VMM    ", 12);
	put16(t + 34, (uint16_t)count);
	put32(t + 36, 0xfee00000u);
	t[7] = checksum(t, (size_t)(e - t));

	memset(fp, 0, 16);
	memcpy(fp, "_MP_", 4);
	put32(fp + 4, BOOT_MPTABLE_ADDR);
	fp[8] = 1;			/* length in 16-byte units */
	fp[9] = 4;
	fp[10] = checksum(fp, 16);

	/* BDA: EBDA segment, and base memory size in KiB. */
	t = guest_mem_ptr(mem, 0x40e, 2);
	if (t)
		put16(t, BOOT_EBDA_START >> 4);
	t = guest_mem_ptr(mem, 0x413, 2);
	if (t)
		put16(t, BOOT_EBDA_START >> 10);
	return 0;
}

static void seg_set(struct kvm_segment *s, uint16_t sel, uint8_t type,
		    bool code64)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code64 ? 0 : 1,
		.s = 1,
		.l = code64 ? 1 : 0,
		.g = 1,
	};
}

int boot_vcpu_setup(struct vm *vm, const struct boot_info *info,
		    bool is_linux)
{
	const struct guest_mem *mem = &vm->mem;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint8_t *gdt, *pml4, *pdpt, *pd;
	unsigned int i;
	int fd = vm->vcpus[0].fd;

	gdt = guest_mem_ptr(mem, BOOT_GDT_ADDR, 4 * 8);
	pml4 = guest_mem_ptr(mem, BOOT_PML4_ADDR, 4096);
	pdpt = guest_mem_ptr(mem, BOOT_PDPT_ADDR, 4096);
	pd = guest_mem_ptr(mem, BOOT_PD_ADDR, 4 * 4096);
	if (!gdt || !pml4 || !pdpt || !pd)
		return -EFAULT;
	/* null, null, __BOOT_CS (0x10), __BOOT_DS (0x18) */
	put64(gdt, 0);
	put64(gdt + 8, 0);
	put64(gdt + 16, 0x00af9b000000ffffull);
	put64(gdt + 24, 0x00cf93000000ffffull);
	/* Identity map of the first 4 GiB with 2 MiB pages. */
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	put64(pml4, BOOT_PDPT_ADDR | 0x3);
	for (i = 0; i < 4; i++)
		put64(pdpt + 8 * i, (BOOT_PD_ADDR + 4096ull * i) | 0x3);
	for (i = 0; i < 4 * 512; i++)
		put64(pd + 8 * i, ((uint64_t)i << 21) | 0x83);

	if (fd < 0)
		return 0;
	if (ioctl(fd, KVM_GET_SREGS, &sregs))
		return -errno;
	seg_set(&sregs.cs, 0x10, 0xb, true);
	seg_set(&sregs.ds, 0x18, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.tr = (struct kvm_segment){
		.limit = 0x67, .type = 0xb, .present = 1,
	};
	sregs.ldt = (struct kvm_segment){ .type = 0x2, .present = 1 };
	sregs.cr3 = BOOT_PML4_ADDR;
	sregs.cr4 = 0x20;			/* PAE */
	sregs.cr0 = 0x80000011;			/* PG, ET, PE */
	sregs.efer = 0x500;			/* LME, LMA */
	if (ioctl(fd, KVM_SET_SREGS, &sregs))
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = info->entry;
	if (is_linux) {
		regs.rsi = BOOT_PARAMS_ADDR;
		regs.rsp = BOOT_PARAMS_ADDR - 16;
	} else {
		regs.rsp = BOOT_RAW_STACK;
	}
	if (ioctl(fd, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}
