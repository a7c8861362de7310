/* SPDX-License-Identifier: MIT */
/* device.h - the VMM's device table: one row per device kind. */
#ifndef LOOM_VMM_DEVICE_H
#define LOOM_VMM_DEVICE_H

#include <stddef.h>

struct vm;
struct vmm_config;

/*
 * struct vmm_device - one device kind (disk, NIC, console, ...), one line
 * in vmm_devices[] (vmm/device.c). Its command-line option is --NAME ARG;
 * the rows are created in table order, after the PCI bus exists.
 * @name: the long option and the row's name ("disk", "nic", ...).
 * @short_opt: a short option letter, or 0.
 * @arg: the argument as the usage text shows it ("IMG[,ro]"); NULL for a
 *	row without an option (always created once).
 * @help: the usage lines after "--NAME ARG" (already indented).
 * @max: how often the option may be given (1: once).
 * @dflt: created with this argument when the option is not given (NULL:
 *	not created then).
 * @parse: check @arg (the @index'th of its kind) and make the row's
 *	private options *@opt; on error write a message (no "loom-vmm:"
 *	prefix) to @err. Called while the command line is read, before KVM.
 *	Return 0 or -EINVAL. NULL for a row without an option.
 * @create: make the device on @vm from @opt. Return 0 or negative errno.
 * @destroy: undo what create did that pci_bus_destroy() does not, and free
 *	@opt (also when create never ran). May be NULL (then @opt is free()d).
 */
struct vmm_device {
	const char *name;
	int short_opt;
	const char *arg;
	const char *help;
	unsigned int max;
	const char *dflt;
	int (*parse)(const char *arg, const struct vmm_config *cfg,
		     unsigned int index, void **opt, char *err, size_t errlen);
	int (*create)(struct vm *vm, void *opt);
	void (*destroy)(void *opt);
};

/* The table, in creation order, and its length. */
extern const struct vmm_device *const vmm_devices[];
extern const unsigned int vmm_devices_count;

/*
 * vmm_devices_create() - create every device the configuration holds, in
 * table order. On failure prints "loom-vmm: --NAME ARG: why".
 * Return: 0 or the first negative errno.
 */
int vmm_devices_create(struct vm *vm, const struct vmm_config *cfg);

/* vmm_devices_destroy() - the rows' destroy for every parsed option. */
void vmm_devices_destroy(struct vmm_config *cfg);

#endif
