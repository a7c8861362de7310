/* SPDX-License-Identifier: MIT */
/* main.c - loom-vmm: command line, VM assembly, run, exit code. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/control.h"
#include "vmm/devices.h"
#include "vmm/kernel_cache.h"
#include "vmm/pci.h"
#include "vmm/virtio/blk.h"
#include "vmm/vm.h"

#define MOD "vmm"

enum {
	MAX_FILE_SIZE = 1u << 30,
	MAX_DISKS = 8,
};

static const char usage[] =
"usage: loom-vmm --kernel BZIMAGE|VMLINUX [--initrd FILE] [--append CMDLINE]\n"
"                [--mem SIZE] [--mem-shared] [--cpus N] [--disk IMG[,ro]]...\n"
"                [--console stdio|socket:PATH|none] [--control PATH]\n"
"                [--name NAME] [--kernel-cache DIR | --no-kernel-cache] [-v]\n"
"       loom-vmm --cache-kernel --kernel BZIMAGE [--kernel-cache DIR]\n"
"       loom-vmm --raw IMG@ADDR [--mem SIZE] [...]   (bare-metal test guest)\n"
"\n"
"Boots a Linux x86-64 bzImage or vmlinux under KVM (no firmware, no ACPI:\n"
"MP tables, e820, 16550 console on COM1, PCI with virtio-blk disks).\n"
"\n"
"  -k, --kernel FILE    bzImage (boot protocol >= 2.12, 64-bit), or an\n"
"                       uncompressed vmlinux (ELF64), entered at startup_64\n"
"      --kernel-cache DIR  where decompressed bzImage kernels are kept\n"
"                       (default $LOOM_CACHE_DIR/kernels, as root\n"
"                       /var/cache/loom/kernels, else ~/.cache/loom/kernels).\n"
"                       A bzImage found there boots as its vmlinux, without\n"
"                       the guest's decompressor (and its KASLR); one not\n"
"                       there yet is decompressed in the background for the\n"
"                       next boot\n"
"      --no-kernel-cache  always let the guest decompress a bzImage\n"
"      --cache-kernel   decompress --kernel into the cache now, print the\n"
"                       cached file's path and exit (no VM)\n"
"  -i, --initrd FILE    initramfs\n"
"  -a, --append STR     kernel command line (default: console=ttyS0)\n"
"  -m, --mem SIZE       guest RAM, e.g. 512M, 2G (default 512M)\n"
"      --mem-shared     guest RAM in a memfd another process can map\n"
"                       (default: private memory, transparent huge pages)\n"
"  -c, --cpus N         vCPUs, 1-64 (default 1)\n"
"  -d, --disk IMG[,ro]  raw image as a virtio-blk disk (repeatable)\n"
"      --console SPEC   stdio (default), socket:PATH (one client), none\n"
"      --control PATH   JSON control socket (docs/vmm-control.md);\n"
"                       default with --name: $LOOM_RUN_DIR/vm/NAME.sock\n"
"  -n, --name NAME      VM name (for the control socket and logs)\n"
"      --raw IMG@ADDR   load a flat binary at ADDR, enter it in 64-bit mode\n"
"  -v, --verbose        more log output; -vv: debug, and at exit the I/O\n"
"                       ports that made the most VM exits\n"
"  -h, --help           this text\n"
"\n"
"Suggested command line for Debian's kernel:\n"
"  console=ttyS0 reboot=k panic=-1 i8042.noaux tsc=reliable no_timer_check\n"
"\n"
"Exit status: 0 guest powered off, rebooted or halted all CPUs;\n"
"  1 error (VMM, KVM or guest crash); 2 usage; 3 stopped (signal or\n"
"  control socket); 16+N test guest wrote N to port 0x501.\n";

static struct vm vm;
static struct serial serial;

static void on_signal(int sig)
{
	(void)sig;
	vm_request_exit(&vm, VM_EXIT_STOPPED);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	case '\0': v <<= 20; break;	/* plain number: MiB */
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end || !v || v % 4096 || v > (64ull << 30))
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * Read a file, or its first @limit bytes, into anonymous memory (freed
 * with munmap() once the guest has its copy). read() rather than mmap():
 * over a network or 9p file system, page faults fetch a file a few pages
 * at a time, large reads fetch it in big requests. With @keep_fd, the file
 * stays open there when only part of it was read.
 */
static const uint8_t *read_file_part(const char *path, size_t limit,
				     size_t *len, uint64_t *file_len,
				     int *keep_fd, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *p;
	size_t got = 0, size;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size ||
	    st.st_size > MAX_FILE_SIZE) {
		snprintf(err, errlen, "%s: not a regular file of 1 byte to "
			 "1 GiB", path);
		close(fd);
		return NULL;
	}
	size = (size_t)st.st_size < limit ? (size_t)st.st_size : limit;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	/* A 16 MiB bzImage is 4k page faults in 4 KiB pages, 8 in 2 MiB. */
	madvise(p, size, MADV_HUGEPAGE);
	while (got < size) {
		ssize_t n = read(fd, p + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path,
				 n ? strerror(errno) : "file shrank while read");
			munmap(p, size);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	*len = size;
	*file_len = (uint64_t)st.st_size;
	if (keep_fd && size < (size_t)st.st_size)
		*keep_fd = fd;
	else
		close(fd);
	return p;
}

static const uint8_t *read_file(const char *path, size_t *len, char *err,
				size_t errlen)
{
	uint64_t file_len;

	return read_file_part(path, SIZE_MAX, len, &file_len, NULL, err,
			      errlen);
}

/*
 * The kernel as the loaders take it: a bzImage or raw image whole; a
 * vmlinux's headers, with the file kept open so that its segments are read
 * straight into guest RAM (boot_elf_file_load()).
 */
struct kernel_file {
	const uint8_t *buf;
	size_t len;
	uint64_t file_len;
	int fd;
};

enum { KERNEL_HEAD = 64 << 10 };	/* holds any vmlinux's headers */

static int kernel_file_pread(void *ctx, uint8_t *dst, uint64_t offset,
			     uint64_t len)
{
	const struct kernel_file *k = ctx;

	while (len) {
		ssize_t n = pread(k->fd, dst, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		dst += n;
		offset += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static void kernel_file_close(struct kernel_file *k)
{
	if (k->buf)
		munmap((void *)k->buf, k->len);
	if (k->fd >= 0)
		close(k->fd);
	k->buf = NULL;
	k->fd = -1;
}

/* Open @path as a kernel: an ELF only in part (unless @raw), else whole. */
static int kernel_file_open(struct kernel_file *k, const char *path,
			    bool raw, char *err, size_t errlen)
{
	k->fd = -1;
	k->buf = read_file_part(path, raw ? SIZE_MAX : KERNEL_HEAD, &k->len,
				&k->file_len, &k->fd, err, errlen);
	if (!k->buf)
		return -EIO;
	if (k->len == k->file_len || boot_is_elf(k->buf, k->len))
		return 0;
	kernel_file_close(k);
	k->buf = read_file(path, &k->len, err, errlen);
	k->file_len = k->len;
	return k->buf ? 0 : -EIO;
}

static struct boot_elf_file kernel_file_elf(struct kernel_file *k)
{
	return (struct boot_elf_file){
		k->buf, k->len, k->file_len,
		k->fd >= 0 ? kernel_file_pread : NULL, k,
	};
}

/*
 * A bzImage whose decompressed kernel is in the cache boots as that vmlinux
 * (replacing *k); on a miss a background filler prepares it for the
 * next boot. Any cache trouble only costs the speed-up: the bzImage boots.
 * Returns what the start-up log line says about it.
 */
static const char *kernel_from_cache(const char *dir_opt, const char *kernel,
				     struct kernel_file *k, bool *is_elf)
{
	char dir[PATH_MAX], path[PATH_MAX], err[256];
	const uint8_t *payload;
	size_t payload_len;
	uint64_t out_len;
	struct kernel_file cached;
	struct boot_elf_file elf;
	struct stat st;
	int ret;

	if (kernel_payload(k->buf, k->len, &payload, &payload_len, &out_len) ==
	    KERNEL_CODEC_NONE)
		return " (compressed with a codec loom-vmm does not decode)";
	if (kernel_cache_dir(dir_opt, dir, sizeof(dir), err, sizeof(err))) {
		log_info(MOD, "kernel cache off: %s", err);
		return " (no kernel cache)";
	}
	if (kernel_cache_path(dir, k->buf, k->len, path, sizeof(path)))
		return " (no kernel cache)";
	if (lstat(path, &st) && errno == ENOENT) {
		ret = kernel_cache_fill_async(k->buf, k->len, path);
		if (ret)
			log_info(MOD, "kernel cache: no filler: %s",
				 strerror(-ret));
		return " (decompressing for the cache in the background)";
	}
	if (kernel_file_open(&cached, path, false, err, sizeof(err))) {
		log_warn(MOD, "kernel cache: %s", err);
		return " (kernel cache unreadable)";
	}
	elf = kernel_file_elf(&cached);
	if (boot_elf_file_check(&elf, err, sizeof(err))) {
		log_warn(MOD, "kernel cache: %s: %s; removed", path, err);
		unlink(path);
		kernel_file_close(&cached);
		return " (bad cache entry removed)";
	}
	log_info(MOD, "%s: booting its decompressed kernel %s", kernel, path);
	kernel_cache_touch(path);
	kernel_file_close(k);
	*k = cached;
	*is_elf = true;
	return " (decompressed copy from the kernel cache)";
}

/* --cache-kernel: fill the cache entry now and print its path. */
static int cache_kernel_now(const char *dir_opt, const char *kernel,
			    const uint8_t *kbuf, size_t klen)
{
	char dir[PATH_MAX], path[PATH_MAX], err[256];
	uint8_t *out;
	size_t out_len;
	struct stat st;
	int ret;

	ret = kernel_cache_dir(dir_opt, dir, sizeof(dir), err, sizeof(err));
	if (!ret)
		ret = kernel_cache_path(dir, kbuf, klen, path, sizeof(path));
	if (ret) {
		fprintf(stderr, "loom-vmm: kernel cache: %s\n",
			ret == -ENAMETOOLONG ? "path too long" : err);
		return ret;
	}
	if (!lstat(path, &st)) {
		puts(path);
		return 0;
	}
	ret = kernel_decompress(kbuf, klen, &out, &out_len, err, sizeof(err));
	if (!ret && boot_elf_check(out, out_len, err, sizeof(err))) {
		munmap(out, out_len);
		ret = -EINVAL;
	}
	if (ret) {
		fprintf(stderr, "loom-vmm: %s: %s\n", kernel, err);
		return ret;
	}
	ret = kernel_cache_store(path, out, out_len);
	munmap(out, out_len);
	if (ret) {
		fprintf(stderr, "loom-vmm: %s: %s\n", path,
			ret == -EEXIST ? "being filled by another loom-vmm" :
					 strerror(-ret));
		return ret;
	}
	puts(path);
	return 0;
}

enum {
	OPT_CONSOLE = 256, OPT_CONTROL, OPT_RAW, OPT_MEM_SHARED,
	OPT_KERNEL_CACHE, OPT_NO_KERNEL_CACHE, OPT_CACHE_KERNEL,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "mem", required_argument, NULL, 'm' },
		{ "mem-shared", no_argument, NULL, OPT_MEM_SHARED },
		{ "cpus", required_argument, NULL, 'c' },
		{ "disk", required_argument, NULL, 'd' },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "name", required_argument, NULL, 'n' },
		{ "raw", required_argument, NULL, OPT_RAW },
		{ "kernel-cache", required_argument, NULL, OPT_KERNEL_CACHE },
		{ "no-kernel-cache", no_argument, NULL, OPT_NO_KERNEL_CACHE },
		{ "cache-kernel", no_argument, NULL, OPT_CACHE_KERNEL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kernel = NULL, *initrd = NULL, *append = "console=ttyS0";
	const char *console = "stdio", *control = NULL, *name = NULL;
	const char *raw = NULL, *disks[MAX_DISKS], *cache_dir = NULL;
	bool use_cache = true, cache_only = false;
	const char *kernel_source = "";
	struct kernel_file kfile = { .fd = -1 };
	struct boot_elf_file kelf;
	const uint8_t *ibuf = NULL;
	size_t ilen = 0;
	unsigned int nr_disks = 0, i;
	uint64_t mem = 512ull << 20, raw_addr = 0;
	enum guest_mem_backing backing = GUEST_MEM_ANON;
	unsigned long cpus = 1;
	struct control_info cinfo = { 0 };
	struct boot_info binfo;
	char err[256], ctlpath[PATH_MAX], rawpath[PATH_MAX];
	uint32_t slots = 0;
	int opt, ret, code = VM_EXIT_ERROR;
	bool is_elf = false;
	uint64_t t_start, t_read, t_kvm = 0, t_load = 0;
	char *end;

	log_max_level = LOG_WARN;
	/* So that the clean-up path is right before vm_init() ran. */
	vm.kvm_fd = vm.vm_fd = vm.epoll_fd = vm.wake_fd = -1;
	while ((opt = getopt_long(argc, argv, "k:i:a:m:c:d:n:vh", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 'a': append = optarg; break;
		case 'm':
			if (parse_size(optarg, &mem)) {
				fprintf(stderr, "loom-vmm: --mem %s: want a "
					"size like 512M or 2G (multiple of "
					"4 KiB, <= 64G)\n", optarg);
				return VM_EXIT_USAGE;
			}
			break;
		case 'c':
			errno = 0;
			cpus = strtoul(optarg, &end, 10);
			if (errno || *end || !cpus || cpus > VM_MAX_VCPUS) {
				fprintf(stderr, "loom-vmm: --cpus %s: want "
					"1-%d\n", optarg, VM_MAX_VCPUS);
				return VM_EXIT_USAGE;
			}
			break;
		case 'd':
			if (nr_disks == MAX_DISKS) {
				fprintf(stderr, "loom-vmm: at most %d disks\n",
					MAX_DISKS);
				return VM_EXIT_USAGE;
			}
			disks[nr_disks++] = optarg;
			break;
		case OPT_CONSOLE: console = optarg; break;
		case OPT_CONTROL: control = optarg; break;
		case 'n': name = optarg; break;
		case OPT_RAW: raw = optarg; break;
		case OPT_MEM_SHARED: backing = GUEST_MEM_MEMFD; break;
		case OPT_KERNEL_CACHE: cache_dir = optarg; break;
		case OPT_NO_KERNEL_CACHE: use_cache = false; break;
		case OPT_CACHE_KERNEL: cache_only = true; break;
		case 'v':
			if (log_max_level < LOG_DEBUG)
				log_max_level++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return VM_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "loom-vmm: unexpected argument '%s'\n%s",
			argv[optind], usage);
		return VM_EXIT_USAGE;
	}
	if (!kernel == !raw) {
		fprintf(stderr, "loom-vmm: need exactly one of --kernel or "
			"--raw\n%s", usage);
		return VM_EXIT_USAGE;
	}
	if (strcmp(console, "stdio") && strcmp(console, "none") &&
	    strncmp(console, "socket:", 7)) {
		fprintf(stderr, "loom-vmm: --console %s: want stdio, "
			"socket:PATH or none\n", console);
		return VM_EXIT_USAGE;
	}
	if (name && (!*name || strchr(name, '/') || strlen(name) > 64)) {
		fprintf(stderr, "loom-vmm: --name: 1-64 characters, no '/'\n");
		return VM_EXIT_USAGE;
	}
	if (raw) {
		const char *at = strrchr(raw, '@');

		if (!at || at == raw || (size_t)(at - raw) >= sizeof(rawpath)) {
			fprintf(stderr, "loom-vmm: --raw wants IMG@ADDR\n");
			return VM_EXIT_USAGE;
		}
		memcpy(rawpath, raw, (size_t)(at - raw));
		rawpath[at - raw] = '\0';
		errno = 0;
		raw_addr = strtoull(at + 1, &end, 0);
		if (errno || *end || raw_addr < 0x100000) {
			fprintf(stderr, "loom-vmm: --raw address must be a "
				"number >= 0x100000\n");
			return VM_EXIT_USAGE;
		}
		kernel = rawpath;
	}

	t_start = vm_now_ns();
	if (kernel_file_open(&kfile, kernel, raw, err, sizeof(err))) {
		fprintf(stderr, "loom-vmm: kernel: %s\n", err);
		return VM_EXIT_ERROR;
	}
	is_elf = !raw && boot_is_elf(kfile.buf, kfile.len);
	kelf = kernel_file_elf(&kfile);
	if (!raw && (is_elf ? boot_elf_file_check(&kelf, err, sizeof(err)) :
			      boot_linux_check(kfile.buf, kfile.len, err,
					       sizeof(err)))) {
		fprintf(stderr, "loom-vmm: %s: %s\n", kernel, err);
		goto out;
	}
	if (cache_only) {
		if (raw || is_elf || !use_cache) {
			fprintf(stderr, "loom-vmm: --cache-kernel wants a bzImage "
				"--kernel and the cache\n");
			kernel_file_close(&kfile);
			return VM_EXIT_USAGE;
		}
		ret = cache_kernel_now(cache_dir, kernel, kfile.buf, kfile.len);
		kernel_file_close(&kfile);
		return ret ? VM_EXIT_ERROR : 0;
	}
	if (!raw && !is_elf && use_cache)
		kernel_source = kernel_from_cache(cache_dir, kernel, &kfile,
						  &is_elf);
	if (initrd) {
		ibuf = read_file(initrd, &ilen, err, sizeof(err));
		if (!ibuf) {
			fprintf(stderr, "loom-vmm: initrd: %s\n", err);
			goto out;
		}
	}
	t_read = vm_now_ns();

	ret = vm_init(&vm, mem, (unsigned int)cpus, backing);
	if (ret) {
		if (ret == -ENOENT)
			fprintf(stderr, "loom-vmm: /dev/kvm not found: KVM is "
				"not available on this host\n");
		else
			fprintf(stderr, "loom-vmm: KVM set-up failed: %s\n",
				strerror(-ret));
		goto out;
	}
	t_kvm = vm_now_ns();
	/* Debug level: which ports a boot's exits go to (printed at exit). */
	if (log_max_level >= LOG_DEBUG)
		vm_profile_exits(&vm);
	ret = pc_devices_init(&vm);
	if (!ret)
		ret = serial_init(&serial, &vm, console);
	if (ret) {
		fprintf(stderr, "loom-vmm: devices (console %s): %s\n", console,
			strerror(-ret));
		goto out;
	}
	{
		static struct pci_bus bus;

		ret = pci_bus_init(&bus, &vm);
		if (ret) {
			fprintf(stderr, "loom-vmm: PCI: %s\n", strerror(-ret));
			goto out;
		}
	}
	for (i = 0; i < nr_disks; i++) {
		char path[PATH_MAX];
		size_t n = strlen(disks[i]);
		bool ro = false;

		if (n >= sizeof(path)) {
			fprintf(stderr, "loom-vmm: --disk path too long\n");
			goto out;
		}
		memcpy(path, disks[i], n + 1);
		if (n > 3 && !strcmp(path + n - 3, ",ro")) {
			path[n - 3] = '\0';
			ro = true;
		}
		ret = virtio_blk_create(&vm, path, ro);
		if (ret) {
			fprintf(stderr, "loom-vmm: --disk %s: %s\n", path,
				strerror(-ret));
			goto out;
		}
	}
	for (i = 0; i < PCI_MAX_DEVS; i++)
		if (vm.pci->devs[i])
			slots |= 1u << i;

	if (raw) {
		ret = boot_raw_load(&vm.mem, kfile.buf, kfile.len, raw_addr,
				    &binfo);
		if (ret) {
			fprintf(stderr, "loom-vmm: --raw: image does not fit "
				"in RAM at 0x%llx\n",
				(unsigned long long)raw_addr);
			goto out;
		}
	} else {
		kelf = kernel_file_elf(&kfile);
		ret = is_elf ? boot_elf_file_load(&vm.mem, &kelf, ibuf, ilen,
						  append, &binfo, err,
						  sizeof(err)) :
			       boot_linux_load(&vm.mem, kfile.buf, kfile.len,
					       ibuf, ilen, append, &binfo, err,
					       sizeof(err));
		if (ret) {
			fprintf(stderr, "loom-vmm: %s: %s\n", kernel, err);
			goto out;
		}
	}
	t_load = vm_now_ns();
	ret = boot_mptable_write(&vm.mem, vm.nr_vcpus, slots);
	if (!ret)
		ret = boot_vcpu_setup(&vm, &binfo, !raw);
	if (ret) {
		fprintf(stderr, "loom-vmm: boot set-up: %s\n", strerror(-ret));
		goto out;
	}
	/* The files are in guest RAM now. */
	kernel_file_close(&kfile);
	if (ibuf)
		munmap((void *)ibuf, ilen);
	ibuf = NULL;

	cinfo.name = name;
	cinfo.kernel = kernel;
	cinfo.console = console;
	cinfo.mem_bytes = mem;
	cinfo.serial = &serial;
	if (!control && name) {
		char dir[PATH_MAX - 80];

		if (!control_default_dir(dir, sizeof(dir))) {
			snprintf(ctlpath, sizeof(ctlpath), "%s/%s.sock", dir,
				 name);
			control = ctlpath;
		}
	}
	if (control) {
		ret = control_init(&vm, control, &cinfo);
		if (ret) {
			fprintf(stderr, "loom-vmm: control socket %s: %s\n",
				control, strerror(-ret));
			goto out;
		}
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	log_info(MOD, "%s: %s%s, entry 0x%llx, %llu MiB, %lu vCPUs; files "
		 "read in %llu ms, VM ready after %llu ms", kernel,
		 raw ? "raw image" : is_elf ? "vmlinux" : "bzImage",
		 kernel_source,
		 (unsigned long long)binfo.entry,
		 (unsigned long long)(mem >> 20), cpus,
		 (unsigned long long)((t_read - t_start) / 1000000),
		 (unsigned long long)((vm_now_ns() - t_start) / 1000000));
	log_debug(MOD, "start-up: files %llu ms, KVM set-up %llu ms, devices "
		  "and kernel load %llu ms, the rest %llu ms",
		  (unsigned long long)((t_read - t_start) / 1000000),
		  (unsigned long long)((t_kvm - t_read) / 1000000),
		  (unsigned long long)((t_load - t_kvm) / 1000000),
		  (unsigned long long)((vm_now_ns() - t_load) / 1000000));
	code = vm_run(&vm);
	log_info(MOD, "exit %d: exits io %llu (+%llu coalesced), mmio %llu, "
		 "hlt %llu, other %llu", code,
		 (unsigned long long)vm.counters.exits_io,
		 (unsigned long long)vm.counters.coalesced,
		 (unsigned long long)vm.counters.exits_mmio,
		 (unsigned long long)vm.counters.exits_hlt,
		 (unsigned long long)vm.counters.exits_other);
	vm_profile_report(&vm, 16);

out:
	control_destroy();
	serial_destroy(&serial);
	if (vm.pci)
		pci_bus_destroy(vm.pci);
	vm_destroy(&vm);
	kernel_file_close(&kfile);
	if (ibuf)
		munmap((void *)ibuf, ilen);
	return code;
}
