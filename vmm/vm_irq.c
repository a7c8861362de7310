/* SPDX-License-Identifier: MIT */
/* vm_irq.c - interrupts and doorbells of a VM: IRQ lines, GSI routing, MSI routes, irqfds, ioeventfds. */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "vmm/vm_internal.h"

LOG_MODULE("vm-irq");

/* The routing KVM_CREATE_IRQCHIP installs: ISA IRQs to PIC and IOAPIC. */
int vm_routing_init(struct vm *vm)
{
	struct kvm_irq_routing *r;
	unsigned int i, n = 0;

	r = calloc(1, sizeof(*r) + VM_GSI_MAX * sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < VM_IOAPIC_PINS; i++) {
		r->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = i,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = i },
		};
		if (i < 16)
			r->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = i,
				.type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = {
					.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER
							 : KVM_IRQCHIP_PIC_SLAVE,
					.pin = i % 8,
				},
			};
	}
	r->nr = n;
	vm->routing = r;
	for (i = 0; i < VM_GSI_FIRST_MSI; i++)
		vm->gsi_used[i / 8] |= 1u << (i % 8);
	return 0;
}

static int vm_ioeventfd(struct vm *vm, enum vm_io_space space, uint64_t addr,
			unsigned int len, bool datamatch, uint64_t data, int fd,
			bool deassign)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch ? data : 0,
		.addr = addr,
		.len = len,
		.fd = fd,
	};

	if (vm->vm_fd < 0)
		return 0;
	if (space == VM_IO_PIO)
		io.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (datamatch)
		io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (deassign)
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) ? -errno : 0;
}

int vm_ioeventfd_add(struct vm *vm, enum vm_io_space space, uint64_t addr,
		     unsigned int len, bool datamatch, uint64_t data, int fd)
{
	return vm_ioeventfd(vm, space, addr, len, datamatch, data, fd, false);
}

int vm_ioeventfd_del(struct vm *vm, enum vm_io_space space, uint64_t addr,
		     unsigned int len, bool datamatch, uint64_t data, int fd)
{
	return vm_ioeventfd(vm, space, addr, len, datamatch, data, fd, true);
}

int vm_irq_line(struct vm *vm, unsigned int gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };

	if (gsi >= VM_IOAPIC_PINS)
		return -EINVAL;
	if (vm->vm_fd < 0)
		return 0;
	if (level)
		__atomic_add_fetch(&vm->counters.irqs_injected, 1,
				   __ATOMIC_RELAXED);
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) ? -errno : 0;
}

int vm_gsi_alloc(struct vm *vm)
{
	int ret = -ENOSPC;
	unsigned int i;

	pthread_mutex_lock(&vm->irq_lock);
	for (i = VM_GSI_FIRST_MSI; i < VM_GSI_MAX; i++) {
		if (!(vm->gsi_used[i / 8] & (1u << (i % 8)))) {
			vm->gsi_used[i / 8] |= 1u << (i % 8);
			ret = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&vm->irq_lock);
	return ret;
}

static int vm_routing_apply(struct vm *vm)
{
	if (vm->vm_fd < 0 || !vm->routing)
		return 0;
	return ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->routing) ? -errno : 0;
}

/* Drop MSI routes of @gsi from the table; irq_lock held. */
static void vm_routing_remove(struct vm *vm, unsigned int gsi)
{
	struct kvm_irq_routing *r = vm->routing;
	unsigned int i = 0;

	if (!r)
		return;
	while (i < r->nr) {
		if (r->entries[i].gsi == gsi &&
		    r->entries[i].type == KVM_IRQ_ROUTING_MSI)
			r->entries[i] = r->entries[--r->nr];
		else
			i++;
	}
}

void vm_gsi_free(struct vm *vm, unsigned int gsi)
{
	if (gsi < VM_GSI_FIRST_MSI || gsi >= VM_GSI_MAX)
		return;
	pthread_mutex_lock(&vm->irq_lock);
	vm_routing_remove(vm, gsi);
	vm_routing_apply(vm);
	vm->gsi_used[gsi / 8] &= (uint8_t)~(1u << (gsi % 8));
	pthread_mutex_unlock(&vm->irq_lock);
}

int vm_msi_route_set(struct vm *vm, unsigned int gsi, uint64_t addr,
		     uint32_t data)
{
	struct kvm_irq_routing *r = vm->routing;
	int ret;

	if (gsi < VM_GSI_FIRST_MSI || gsi >= VM_GSI_MAX)
		return -EINVAL;
	if (!r)
		return 0;
	pthread_mutex_lock(&vm->irq_lock);
	vm_routing_remove(vm, gsi);
	r->entries[r->nr++] = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = {
			.address_lo = (uint32_t)addr,
			.address_hi = (uint32_t)(addr >> 32),
			.data = data,
		},
	};
	ret = vm_routing_apply(vm);
	pthread_mutex_unlock(&vm->irq_lock);
	return ret;
}

int vm_irqfd_assign(struct vm *vm, unsigned int gsi, int fd, int resample_fd)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi };

	if (vm->vm_fd < 0)
		return 0;
	if (resample_fd >= 0) {
		irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
		irqfd.resamplefd = (uint32_t)resample_fd;
	}
	return ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) ? -errno : 0;
}

int vm_irqfd_deassign(struct vm *vm, unsigned int gsi, int fd)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)fd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (vm->vm_fd < 0)
		return 0;
	return ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) ? -errno : 0;
}

int vm_msi_signal(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	if (vm->vm_fd < 0)
		return 0;
	__atomic_add_fetch(&vm->counters.irqs_injected, 1, __ATOMIC_RELAXED);
	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

