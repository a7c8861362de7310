/* SPDX-License-Identifier: MIT */
/* device.c - the device table: a new device kind is its file plus one line here. */
#include "vmm/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config.h"
#include "vmm/hw/pc.h"
#include "vmm/hw/serial.h"
#include "vmm/net/nic.h"
#include "vmm/virtio/blk.h"

/* In creation order; the PCI bus exists before the first row is created. */
const struct vmm_device *const vmm_devices[] = {
	&pc_device,
	&serial_device,
	&virtio_blk_device,
	&nic_device,
};

const unsigned int vmm_devices_count =
	sizeof(vmm_devices) / sizeof(vmm_devices[0]);

int vmm_devices_create(struct vm *vm, const struct vmm_config *cfg)
{
	for (unsigned int i = 0; i < vmm_devices_count; i++) {
		const struct vmm_device *d = vmm_devices[i];

		for (unsigned int j = 0; j < cfg->nr_devs; j++) {
			const struct vmm_dev_opt *o = &cfg->devs[j];
			int ret;

			if (o->dev != d)
				continue;
			ret = d->create(vm, o->opt);
			if (!ret)
				continue;
			if (o->arg)
				fprintf(stderr, "loom-vmm: --%s %s: %s\n",
					d->name, o->arg, strerror(-ret));
			else
				fprintf(stderr, "loom-vmm: %s devices: %s\n",
					d->name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void vmm_devices_destroy(struct vmm_config *cfg)
{
	/* Reverse order: a row may rely on one created before it. */
	for (unsigned int j = cfg->nr_devs; j-- > 0;) {
		struct vmm_dev_opt *o = &cfg->devs[j];

		if (o->dev->destroy)
			o->dev->destroy(o->opt);
		else
			free(o->opt);
		o->opt = NULL;
	}
	cfg->nr_devs = 0;
}
