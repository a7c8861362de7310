/* SPDX-License-Identifier: MIT */
/* main.c - loom-vmm: read the command line, assemble the VM, run it. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/config.h"
#include "vmm/control.h"
#include "vmm/device.h"
#include "vmm/hw/serial.h"
#include "vmm/kernel_file.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

LOG_MODULE("vmm");

static struct vm vm;
static struct pci_bus bus;
static struct vmm_config cfg;

static void on_signal(int sig)
{
	(void)sig;
	vm_request_exit(&vm, VM_EXIT_STOPPED);
}

/* The files the guest boots from, read (and checked) before KVM. */
struct boot_files {
	struct kernel_file kernel;
	bool is_elf;
	const char *source; /* for the start-up line: where the kernel came from */
	const uint8_t *initrd;
	size_t initrd_len;
};

static void boot_files_close(struct boot_files *f)
{
	kernel_file_close(&f->kernel);
	if (f->initrd)
		munmap((void *)f->initrd, f->initrd_len);
	f->initrd = NULL;
}

/* Return: 0, or the exit code (--cache-kernel done, or an error). */
static int boot_files_read(struct boot_files *f, int *code)
{
	struct boot_elf_file kelf;
	char err[256];
	int ret;

	*code = VM_EXIT_ERROR;
	f->source = "";
	if (kernel_file_open(&f->kernel, cfg.kernel, cfg.raw, err,
			     sizeof(err))) {
		fprintf(stderr, "loom-vmm: kernel: %s\n", err);
		return -1;
	}
	f->is_elf = !cfg.raw && boot_is_elf(f->kernel.buf, f->kernel.len);
	kelf = kernel_file_elf(&f->kernel);
	if (!cfg.raw &&
	    (f->is_elf ? boot_elf_file_check(&kelf, err, sizeof(err)) :
			 boot_linux_check(f->kernel.buf, f->kernel.len, err,
					  sizeof(err)))) {
		fprintf(stderr, "loom-vmm: %s: %s\n", cfg.kernel, err);
		return -1;
	}
	if (cfg.cache_only) {
		if (cfg.raw || f->is_elf || !cfg.use_cache) {
			fprintf(stderr, "loom-vmm: --cache-kernel wants a "
				"bzImage --kernel and the cache\n");
			*code = VM_EXIT_USAGE;
			return -1;
		}
		ret = kernel_cache_now(cfg.cache_dir, cfg.kernel,
				       f->kernel.buf, f->kernel.len);
		*code = ret ? VM_EXIT_ERROR : 0;
		return -1;
	}
	if (!cfg.raw && !f->is_elf && cfg.use_cache)
		f->source = kernel_from_cache(cfg.cache_dir, cfg.kernel,
					      &f->kernel, &f->is_elf);
	if (cfg.initrd) {
		f->initrd = kernel_read_file(cfg.initrd, &f->initrd_len, err,
					     sizeof(err));
		if (!f->initrd) {
			fprintf(stderr, "loom-vmm: initrd: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/* Kernel (or raw image) and initrd into RAM, MP table, boot vCPU state. */
static int boot_files_load(struct boot_files *f, struct boot_info *binfo)
{
	struct boot_elf_file kelf = kernel_file_elf(&f->kernel);
	uint32_t slots = 0;
	char err[256];
	int ret;

	if (cfg.raw) {
		ret = boot_raw_load(&vm.mem, f->kernel.buf, f->kernel.len,
				    cfg.raw_addr, binfo);
		if (ret) {
			fprintf(stderr, "loom-vmm: --raw: image does not fit "
				"in RAM at 0x%llx\n",
				(unsigned long long)cfg.raw_addr);
			return ret;
		}
	} else {
		ret = f->is_elf ?
			boot_elf_file_load(&vm.mem, &kelf, f->initrd,
					   f->initrd_len, cfg.append, binfo,
					   err, sizeof(err)) :
			boot_linux_load(&vm.mem, f->kernel.buf, f->kernel.len,
					f->initrd, f->initrd_len, cfg.append,
					binfo, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "loom-vmm: %s: %s\n", cfg.kernel, err);
			return ret;
		}
	}
	for (unsigned int i = 0; i < PCI_MAX_DEVS; i++)
		if (vm.pci->devs[i])
			slots |= 1u << i;
	ret = boot_mptable_write(&vm.mem, vm.nr_vcpus, slots);
	if (!ret)
		ret = boot_vcpu_setup(&vm, binfo, !cfg.raw);
	if (ret)
		fprintf(stderr, "loom-vmm: boot set-up: %s\n", strerror(-ret));
	return ret;
}

/* The control socket: --control PATH, or RUN_DIR/vm/NAME.sock with --name. */
static int control_start(struct control_info *info)
{
	static char path[PATH_MAX];
	const char *control = cfg.control;
	int ret;

	info->name = cfg.name;
	info->kernel = cfg.kernel;
	info->console = vmm_config_arg(&cfg, "console");
	info->mem_bytes = cfg.mem;
	info->serial = serial_console();
	if (!control && cfg.name) {
		char dir[PATH_MAX - 80];

		if (!control_default_dir(dir, sizeof(dir))) {
			snprintf(path, sizeof(path), "%s/%s.sock", dir,
				 cfg.name);
			control = path;
		}
	}
	if (!control)
		return 0;
	ret = control_init(&vm, control, info);
	if (ret)
		fprintf(stderr, "loom-vmm: control socket %s: %s\n", control,
			strerror(-ret));
	return ret;
}

static int vm_start(uint64_t t_start)
{
	int ret = vm_init(&vm, cfg.mem, cfg.cpus, cfg.backing);

	if (ret == -ENOENT)
		fprintf(stderr, "loom-vmm: /dev/kvm not found: KVM is not "
			"available on this host\n");
	else if (ret)
		fprintf(stderr, "loom-vmm: KVM set-up failed: %s\n",
			strerror(-ret));
	if (ret)
		return ret;
	log_debug(MOD, "KVM set-up after %llu ms",
		  (unsigned long long)((vm_now_ns() - t_start) / 1000000));
	/* Debug level: which ports a boot's exits go to (printed at exit). */
	if (log_enabled(MOD, LOG_DEBUG))
		vm_profile_exits(&vm);
	ret = pci_bus_init(&bus, &vm);
	if (ret) {
		fprintf(stderr, "loom-vmm: PCI: %s\n", strerror(-ret));
		return ret;
	}
	return vmm_devices_create(&vm, &cfg);
}

int main(int argc, char **argv)
{
	static struct control_info cinfo;
	struct boot_files files = { .kernel.fd = -1 };
	struct boot_info binfo;
	uint64_t t_start = vm_now_ns(), t_read;
	int code;

	log_max_level = LOG_WARN;
	/* So that the clean-up path is right before vm_init() ran. */
	vm.kvm_fd = vm.vm_fd = vm.wake_fd = -1;
	if (vmm_config_parse(&cfg, argc, argv, &code))
		goto out;
	log_max_level = cfg.log_level;
	if (boot_files_read(&files, &code))
		goto out;
	t_read = vm_now_ns();
	code = VM_EXIT_ERROR;
	if (vm_start(t_start) || boot_files_load(&files, &binfo))
		goto out;
	/* The files are in guest RAM now. */
	boot_files_close(&files);
	if (control_start(&cinfo))
		goto out;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	log_info(MOD, "%s: %s%s, entry 0x%llx, %llu MiB, %u vCPUs; files "
		 "read in %llu ms, VM ready after %llu ms", cfg.kernel,
		 cfg.raw ? "raw image" : files.is_elf ? "vmlinux" : "bzImage",
		 files.source, (unsigned long long)binfo.entry,
		 (unsigned long long)(cfg.mem >> 20), cfg.cpus,
		 (unsigned long long)((t_read - t_start) / 1000000),
		 (unsigned long long)((vm_now_ns() - t_start) / 1000000));
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
	if (vm.pci)
		pci_bus_destroy(vm.pci);
	vmm_devices_destroy(&cfg);
	vm_destroy(&vm);
	boot_files_close(&files);
	return code;
}
