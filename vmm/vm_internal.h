/* SPDX-License-Identifier: MIT */
/* vm_internal.h - what vm.c, vm_irq.c and vm_vcpu.c share. */
#ifndef LOOM_VMM_VM_INTERNAL_H
#define LOOM_VMM_VM_INTERNAL_H

#include "vmm/vm.h"

/* vm_irq.c: the routing KVM_CREATE_IRQCHIP installs (ISA IRQs to PIC and
 * IOAPIC). Return: 0 or -errno. */
int vm_routing_init(struct vm *vm);

#endif
