/* SPDX-License-Identifier: MIT */
/* config.h - loom-vmm's command line, read into one struct vmm_config. */
#ifndef LOOM_VMM_CONFIG_H
#define LOOM_VMM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/guest_mem.h"

struct vmm_device;

enum { VMM_DEV_OPTS_MAX = 32 }; /* device options on one command line */

/* struct vmm_dev_opt - one device option: its row, argument, parse result. */
struct vmm_dev_opt {
	const struct vmm_device *dev;
	const char *arg;
	void *opt;
};

/*
 * struct vmm_config - everything the command line says. Strings point
 * into argv. Device options are parsed by their rows (vmm/device.h).
 */
struct vmm_config {
	const char *kernel;	/* the file to boot (for --raw: IMG) */
	const char *initrd;
	const char *append;
	const char *control;	/* control socket path, NULL: none/default */
	const char *name;
	const char *cache_dir;
	const char *netd_sock;	/* --netd-socket, NULL: the run dir's */
	bool raw;
	uint64_t raw_addr;
	char rawpath[PATH_MAX];
	bool use_cache;
	bool cache_only;
	uint64_t mem;
	enum guest_mem_backing backing;
	unsigned int cpus;
	int log_level;
	struct vmm_dev_opt devs[VMM_DEV_OPTS_MAX];
	unsigned int nr_devs;
};

/*
 * vmm_config_parse() - read @argv into @cfg (devices parsed by their rows).
 * Return: 0 to go on, or 1 with *@exit_code set: 0 after --help, 2
 * (usage error, message printed) otherwise.
 */
int vmm_config_parse(struct vmm_config *cfg, int argc, char **argv,
		     int *exit_code);

/* vmm_config_arg() - the first argument given for device row @name, or NULL. */
const char *vmm_config_arg(const struct vmm_config *cfg, const char *name);

/* vmm_config_usage() - the --help text to @f. */
void vmm_config_usage(FILE *f);

#endif
