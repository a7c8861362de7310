/* SPDX-License-Identifier: MIT */
/* config.c - loom-vmm's command line: core options, and each device row's. */
#include "vmm/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/device.h"
#include "vmm/vm.h"

static const char usage_head[] =
"usage: loom-vmm --kernel BZIMAGE|VMLINUX [--initrd FILE] [--append CMDLINE]\n"
"                [--mem SIZE] [--mem-shared] [--cpus N] [--disk IMG[,ro]]...\n"
"                [--nic net=NAME[,...]]... [--console stdio|socket:PATH|none]\n"
"                [--control PATH] [--name NAME] [--netd-socket PATH]\n"
"                [--kernel-cache DIR | --no-kernel-cache] [-v]\n"
"       loom-vmm --cache-kernel --kernel BZIMAGE [--kernel-cache DIR]\n"
"       loom-vmm --raw IMG@ADDR [--mem SIZE] [...]   (bare-metal test guest)\n"
"\n"
"Boots a Linux x86-64 bzImage or vmlinux under KVM (no firmware, no ACPI:\n"
"MP tables, e820, 16550 console on COM1, PCI with virtio devices).\n"
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
"  -c, --cpus N         vCPUs, 1-64 (default 1)\n";

static const char usage_tail[] =
"      --control PATH   JSON control socket (docs/vmm-control.md);\n"
"                       default with --name: $LOOM_RUN_DIR/vm/NAME.sock\n"
"  -n, --name NAME      VM name (control socket, logs, NIC port names)\n"
"      --netd-socket PATH  loom-netd's control socket for --nic (default\n"
"                       $LOOM_RUN_DIR/netd.sock, the rule of `loom`)\n"
"      --raw IMG@ADDR   load a flat binary at ADDR, enter it in 64-bit mode\n"
"  -v, --verbose        more log output; -vv: debug, and at exit the I/O\n"
"                       ports that made the most VM exits\n"
"      --log SPEC       log levels: MODULE=LEVEL or LEVEL, comma-separated\n"
"                       (e.g. virtio-blk=debug; also $LOOM_LOG); --log list\n"
"                       names the modules\n"
"  -h, --help           this text\n"
"\n"
"Suggested command line for Debian's kernel:\n"
"  console=ttyS0 reboot=k panic=-1 i8042.noaux tsc=reliable no_timer_check\n"
"\n"
"Exit status: 0 guest powered off, rebooted or halted all CPUs;\n"
"  1 error (VMM, KVM or guest crash); 2 usage; 3 stopped (signal or\n"
"  control socket); 16+N test guest wrote N to port 0x501.\n";

void vmm_config_usage(FILE *f)
{
	fputs(usage_head, f);
	for (unsigned int i = 0; i < vmm_devices_count; i++) {
		const struct vmm_device *d = vmm_devices[i];
		char head[64];

		if (!d->arg)
			continue;
		if (d->short_opt)
			snprintf(head, sizeof(head), "  -%c, --%s %s",
				 d->short_opt, d->name, d->arg);
		else
			snprintf(head, sizeof(head), "      --%s %s", d->name,
				 d->arg);
		if (strlen(head) < 23)
			fprintf(f, "%-23s%s", head, d->help);
		else
			fprintf(f, "%s\n%s%s", head, "                       ",
				d->help);
	}
	fputs(usage_tail, f);
}

enum {
	OPT_CONTROL = 256, OPT_RAW, OPT_MEM_SHARED, OPT_KERNEL_CACHE,
	OPT_NO_KERNEL_CACHE, OPT_CACHE_KERNEL, OPT_NETD_SOCKET, OPT_LOG,
	OPT_DEVICE_BASE = 512, /* + index in vmm_devices[] */
};

static const struct option core_opts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "append", required_argument, NULL, 'a' },
	{ "mem", required_argument, NULL, 'm' },
	{ "mem-shared", no_argument, NULL, OPT_MEM_SHARED },
	{ "cpus", required_argument, NULL, 'c' },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "name", required_argument, NULL, 'n' },
	{ "netd-socket", required_argument, NULL, OPT_NETD_SOCKET },
	{ "raw", required_argument, NULL, OPT_RAW },
	{ "kernel-cache", required_argument, NULL, OPT_KERNEL_CACHE },
	{ "no-kernel-cache", no_argument, NULL, OPT_NO_KERNEL_CACHE },
	{ "cache-kernel", no_argument, NULL, OPT_CACHE_KERNEL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "help", no_argument, NULL, 'h' },
};

enum { CORE_OPTS = sizeof(core_opts) / sizeof(core_opts[0]) };

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

__attribute__((format(printf, 2, 3)))
static int usage_error(int *exit_code, const char *fmt, ...)
{
	va_list ap;

	fputs("loom-vmm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	*exit_code = VM_EXIT_USAGE;
	return 1;
}

static int parse_raw(struct vmm_config *cfg, const char *raw, int *exit_code)
{
	const char *at = strrchr(raw, '@');
	char *end;

	if (!at || at == raw || (size_t)(at - raw) >= sizeof(cfg->rawpath))
		return usage_error(exit_code, "--raw wants IMG@ADDR");
	memcpy(cfg->rawpath, raw, (size_t)(at - raw));
	cfg->rawpath[at - raw] = '\0';
	errno = 0;
	cfg->raw_addr = strtoull(at + 1, &end, 0);
	if (errno || *end || cfg->raw_addr < 0x100000)
		return usage_error(exit_code, "--raw address must be a number "
				   ">= 0x100000");
	cfg->raw = true;
	return 0;
}

/* Each row checks its options once the whole command line is known. */
static int parse_devices(struct vmm_config *cfg, int *exit_code)
{
	unsigned int given = cfg->nr_devs;
	char err[256];

	for (unsigned int i = 0; i < vmm_devices_count; i++) {
		const struct vmm_device *d = vmm_devices[i];
		bool seen = false;

		for (unsigned int j = 0; j < given; j++)
			seen |= cfg->devs[j].dev == d;
		if (!seen && (d->dflt || !d->arg)) {
			if (cfg->nr_devs == VMM_DEV_OPTS_MAX)
				return usage_error(exit_code, "too many "
						   "devices");
			cfg->devs[cfg->nr_devs++] = (struct vmm_dev_opt){
				d, d->dflt, NULL };
		}
	}
	for (unsigned int i = 0; i < vmm_devices_count; i++) {
		const struct vmm_device *d = vmm_devices[i];
		unsigned int index = 0;

		for (unsigned int j = 0; j < cfg->nr_devs; j++) {
			struct vmm_dev_opt *o = &cfg->devs[j];

			if (o->dev != d)
				continue;
			if (d->arg && index >= d->max) {
				fprintf(stderr, "loom-vmm: --%s: at most %u\n",
					d->name, d->max);
				*exit_code = VM_EXIT_USAGE;
				return 1;
			}
			err[0] = '\0';
			if (d->parse && d->parse(o->arg, cfg, index, &o->opt,
						 err, sizeof(err))) {
				fprintf(stderr, "loom-vmm: --%s %s: %s\n",
					d->name, o->arg, err);
				*exit_code = VM_EXIT_USAGE;
				return 1;
			}
			index++;
		}
	}
	return 0;
}

/* The option table: the core's, then one per device row with an option. */
static void build_options(struct option *opts, char *shorts, size_t len)
{
	unsigned int n = CORE_OPTS;
	size_t s;

	memcpy(opts, core_opts, sizeof(core_opts));
	snprintf(shorts, len, ":k:i:a:m:c:n:vh");
	s = strlen(shorts);
	for (unsigned int i = 0; i < vmm_devices_count; i++) {
		const struct vmm_device *d = vmm_devices[i];

		if (!d->arg)
			continue;
		opts[n++] = (struct option){ d->name, required_argument, NULL,
					     d->short_opt ? d->short_opt :
							    OPT_DEVICE_BASE +
							    (int)i };
		if (d->short_opt && s + 2 < len) {
			shorts[s++] = (char)d->short_opt;
			shorts[s++] = ':';
			shorts[s] = '\0';
		}
	}
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
}

static const struct vmm_device *device_by_opt(int opt)
{
	for (unsigned int i = 0; i < vmm_devices_count; i++)
		if ((vmm_devices[i]->short_opt &&
		     vmm_devices[i]->short_opt == opt) ||
		    opt == OPT_DEVICE_BASE + (int)i)
			return vmm_devices[i]->arg ? vmm_devices[i] : NULL;
	return NULL;
}

int vmm_config_parse(struct vmm_config *cfg, int argc, char **argv,
		     int *exit_code)
{
	struct option opts[CORE_OPTS + 32 + 1];
	const struct vmm_device *dev;
	const char *raw = NULL;
	unsigned long cpus;
	char shorts[64], *end, msg[512];
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->append = "console=ttyS0";
	cfg->use_cache = true;
	cfg->mem = 512ull << 20;
	cfg->backing = GUEST_MEM_ANON;
	cfg->cpus = 1;
	cfg->log_level = LOG_WARN;
	if (log_config_env(msg, sizeof(msg)))
		return usage_error(exit_code, "%s", msg);
	build_options(opts, shorts, sizeof(shorts));
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		switch (opt) {
		case 'k': cfg->kernel = optarg; break;
		case 'i': cfg->initrd = optarg; break;
		case 'a': cfg->append = optarg; break;
		case 'm':
			if (parse_size(optarg, &cfg->mem))
				return usage_error(exit_code, "--mem %s: want a "
						   "size like 512M or 2G "
						   "(multiple of 4 KiB, <= 64G)",
						   optarg);
			break;
		case 'c':
			errno = 0;
			cpus = strtoul(optarg, &end, 10);
			if (errno || *end || !cpus || cpus > VM_MAX_VCPUS) {
				fprintf(stderr, "loom-vmm: --cpus %s: want "
					"1-%d\n", optarg, VM_MAX_VCPUS);
				*exit_code = VM_EXIT_USAGE;
				return 1;
			}
			cfg->cpus = (unsigned int)cpus;
			break;
		case OPT_CONTROL: cfg->control = optarg; break;
		case 'n': cfg->name = optarg; break;
		case OPT_NETD_SOCKET: cfg->netd_sock = optarg; break;
		case OPT_RAW: raw = optarg; break;
		case OPT_MEM_SHARED: cfg->backing = GUEST_MEM_MEMFD; break;
		case OPT_KERNEL_CACHE: cfg->cache_dir = optarg; break;
		case OPT_NO_KERNEL_CACHE: cfg->use_cache = false; break;
		case OPT_CACHE_KERNEL: cfg->cache_only = true; break;
		case 'v':
			if (cfg->log_level < LOG_DEBUG)
				cfg->log_level++;
			break;
		case OPT_LOG:
			if (!strcmp(optarg, "list")) {
				log_modules_print(stdout);
				*exit_code = 0;
				return 1;
			}
			if (log_config_apply(optarg, msg, sizeof(msg)))
				return usage_error(exit_code, "--log: %s", msg);
			break;
		case 'h':
			vmm_config_usage(stdout);
			*exit_code = 0;
			return 1;
		case ':':
			return usage_error(exit_code, "option '%s' needs a "
					   "value (loom-vmm --help)",
					   argv[optind - 1]);
		case '?':
			return usage_error(exit_code, "unexpected argument "
					   "'%s' (loom-vmm --help)",
					   argv[optind - 1]);
		default:
			dev = device_by_opt(opt);
			if (!dev)
				return usage_error(exit_code, "unexpected "
						   "argument '%s'",
						   argv[optind - 1]);
			if (cfg->nr_devs == VMM_DEV_OPTS_MAX)
				return usage_error(exit_code, "too many device "
						   "options");
			cfg->devs[cfg->nr_devs++] = (struct vmm_dev_opt){
				dev, optarg, NULL };
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "loom-vmm: unexpected argument '%s'\n",
			argv[optind]);
		vmm_config_usage(stderr);
		*exit_code = VM_EXIT_USAGE;
		return 1;
	}
	if (!cfg->kernel == !raw) {
		fprintf(stderr, "loom-vmm: need exactly one of --kernel or "
			"--raw\n");
		vmm_config_usage(stderr);
		*exit_code = VM_EXIT_USAGE;
		return 1;
	}
	if (cfg->name && (!*cfg->name || strchr(cfg->name, '/') ||
			  strlen(cfg->name) > 64))
		return usage_error(exit_code, "--name: 1-64 characters, no "
				   "'/'");
	if (raw) {
		if (parse_raw(cfg, raw, exit_code))
			return 1;
		cfg->kernel = cfg->rawpath;
	}
	return parse_devices(cfg, exit_code);
}

const char *vmm_config_arg(const struct vmm_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->nr_devs; i++)
		if (!strcmp(cfg->devs[i].dev->name, name))
			return cfg->devs[i].arg;
	return NULL;
}
