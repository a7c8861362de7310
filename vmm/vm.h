/* SPDX-License-Identifier: MIT */
/* vm.h - one KVM virtual machine: fds, RAM, I/O dispatch, IRQs, event loop. */
#ifndef LOOM_VMM_VM_H
#define LOOM_VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

/*
 * Guest-physical layout (x86-64, no firmware):
 *
 *   0x0000_0000  real-mode IVT/BDA, then boot_params, cmdline, page tables
 *   0x0009_fc00  EBDA: MP floating pointer + MP config table
 *   0x000a_0000  legacy VGA / ROM hole (not RAM, reported reserved)
 *   0x0010_0000  kernel (protected-mode part of bzImage)
 *   ...          initrd, at the top of low RAM
 *   0xc000_0000  PCI MMIO window (VM_PCI_MMIO_BASE, 512 MiB)
 *   0xfec0_0000  IOAPIC, 0xfee0_0000 local APIC (in-kernel)
 *   0xfffb_c000  TSS (3 pages) and identity map page for VMX
 *   4 GiB        RAM above GUEST_MEM_X86_LOW_LIMIT, if any
 *
 * PIO: 0x20-0xa1 PIC, 0x40-0x43 PIT (in-kernel), 0x61 port B, 0x60/0x64
 * i8042, 0x3f8 COM1, 0x501 debug exit, 0xcf8/0xcfc PCI, 0xc000-0xffff
 * PCI I/O BARs.
 */
enum {
	VM_MAX_VCPUS = 64,
	VM_PCI_MMIO_BASE = 0xc0000000u,
	VM_PCI_MMIO_SIZE = 0x20000000u,
	VM_PCI_PIO_BASE = 0xc000,
	VM_PCI_PIO_SIZE = 0x4000,
	VM_IOAPIC_PINS = 24,
	VM_TSS_ADDR = 0xfffbc000u,
	VM_IDENTITY_MAP_ADDR = 0xfffbf000u,
	/* GSIs 0-23 are IOAPIC pins; MSI routes are allocated above. */
	VM_GSI_FIRST_MSI = 24,
	VM_GSI_MAX = 1024,
	/* Serial, MP table and PCI INTx use these IOAPIC pins. */
	VM_IRQ_COM1 = 4,
	VM_IRQ_PCI_FIRST = 16,	/* PCI INTA-D of all slots: pins 16-19 */
};

/*
 * Exit codes of loom-vmm (documented in docs/vmm.md and --help):
 */
enum vm_exit_code {
	VM_EXIT_POWEROFF = 0,	/* guest powered off, reset or halted all CPUs */
	VM_EXIT_ERROR = 1,	/* VMM or KVM error, guest crashed the VMM's way */
	VM_EXIT_USAGE = 2,	/* bad command line */
	VM_EXIT_STOPPED = 3,	/* stopped by a signal or the control socket */
	/* 16 + n: test guest wrote n (0-239) to the debug exit port 0x501. */
	VM_EXIT_DEBUG_BASE = 16,
};

enum vm_io_space { VM_IO_PIO, VM_IO_MMIO };

struct vm;
struct pci_bus;
struct kvm_run;
struct kvm_irq_routing;
struct kvm_coalesced_mmio_ring;

/**
 * typedef vm_io_fn - handler for guest PIO or MMIO in a registered range.
 * @opaque: the handler's context as registered.
 * @addr: offset of the access from the start of the registered range.
 * @data: bytes to fill (read) or the bytes written (write), little endian.
 * @len: 1, 2, 4 or 8.
 * @is_write: direction.
 *
 * Called from a vCPU thread, possibly from several at once: a handler
 * that keeps state takes its own lock. A read handler must fill all @len
 * bytes (unclaimed bytes read as 0xff is customary).
 */
typedef void (*vm_io_fn)(void *opaque, uint64_t addr, uint8_t *data,
			 unsigned int len, bool is_write);

/**
 * typedef vm_loop_fn - callback for an fd added to the VM event loop.
 * @opaque: as registered.
 * @fd: the fd that became readable.
 * @events: epoll events.
 *
 * Runs in the VMM's main thread (the only thread that runs loop
 * callbacks), so callbacks never run concurrently with each other.
 */
typedef void (*vm_loop_fn)(void *opaque, int fd, uint32_t events);

struct vm_io_range {
	enum vm_io_space space;
	uint64_t base;
	uint64_t len;
	vm_io_fn fn;
	void *opaque;
};

struct vm_counters {
	uint64_t coalesced;	/* writes KVM queued instead of exiting */
	uint64_t exits_io;
	uint64_t exits_mmio;
	uint64_t exits_hlt;
	uint64_t exits_other;
	uint64_t io_unhandled;
	uint64_t irqs_injected;
};

struct vm_vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	bool halted;
	bool io_pending;	/* last exit was I/O: KVM must complete it first */
};

/**
 * struct vm - one virtual machine.
 * @kvm_fd: /dev/kvm (-1 for a KVM-less VM used by unit tests and fuzzers).
 * @vm_fd: the KVM VM fd (-1 without KVM).
 * @mem: guest RAM (memfd backed), see vmm/guest_mem.h.
 * @pci: the PCI bus (NULL until vm_pci_init()).
 * @nr_vcpus: number of vCPUs.
 *
 * Everything else is private to vm.c; devices use the functions below.
 */
struct vm {
	int kvm_fd;
	int vm_fd;
	int run_size;
	struct guest_mem mem;
	struct pci_bus *pci;
	unsigned int nr_vcpus;
	struct vm_vcpu vcpus[VM_MAX_VCPUS];

	/* I/O dispatch table: set up before vCPUs start, read-only after. */
	struct vm_io_range io[64];
	unsigned int nr_io;

	/*
	 * Coalesced writes: KVM queues guest writes to registered ranges in
	 * this ring (a page of every vCPU's kvm_run mapping) instead of
	 * exiting; vCPU threads replay them, in order, before any exit.
	 */
	struct kvm_coalesced_mmio_ring *coalesced_ring;
	uint32_t coalesced_max;	/* ring entries */
	pthread_mutex_t coalesced_lock;

	/* GSI routing: IOAPIC/PIC defaults plus MSI routes. */
	pthread_mutex_t irq_lock;
	struct kvm_irq_routing *routing;
	uint8_t gsi_used[VM_GSI_MAX / 8];

	/* Event loop (main thread, common/evloop.h). */
	struct evloop *loop;
	int wake_fd;		/* eventfd: vm_request_exit() wakes the loop */
	unsigned int halt_rounds; /* main thread: halt checks all halted */

	/* Run state. */
	pthread_mutex_t state_lock;
	pthread_cond_t state_cond;
	volatile int exit_code;	/* -1 while running */
	bool paused;
	unsigned int vcpus_paused;
	unsigned int vcpus_halted_for_good;
	uint64_t start_ns;

	struct vm_counters counters;
	/* Exits per PIO port (65536 counters), only with an exit profile. */
	uint32_t *pio_profile;
};

/**
 * vm_profile_exits() - count PIO exits per port from now on, so that
 * vm_profile_report() can say which devices a boot's exits went to.
 * Return: 0, or -ENOMEM.
 */
int vm_profile_exits(struct vm *vm);

/**
 * vm_profile_report() - log the ports with the most exits (info level).
 * @top: how many ports to name.
 */
void vm_profile_report(const struct vm *vm, unsigned int top);

/**
 * vm_init() - open /dev/kvm and create a VM with in-kernel IRQ chip and PIT.
 * @vm: the structure to fill.
 * @ram_size: guest RAM in bytes (multiple of 4096).
 * @nr_vcpus: vCPUs to create (1..VM_MAX_VCPUS); they start in vm_run().
 * @backing: guest RAM in a shareable memfd or private anonymous memory
 *	(see vmm/guest_mem.h).
 *
 * Creates the guest RAM (nothing touched, huge pages advised), the memory
 * slots split around the PCI hole, the TSS and identity map, IRQ chip, PIT,
 * vCPUs with host-supported CPUID, and the event loop.
 *
 * Return: 0 or negative errno (-ENOENT: no /dev/kvm).
 */
int vm_init(struct vm *vm, uint64_t ram_size, unsigned int nr_vcpus,
	    enum guest_mem_backing backing);

/**
 * vm_init_nokvm() - a VM without KVM: RAM, I/O table and loop only.
 * @vm: the structure to fill.
 * @ram_size: guest RAM in bytes (0 for none).
 *
 * For unit tests and fuzzers: IRQ, routing and ioeventfd helpers succeed
 * and do nothing.
 *
 * Return: 0 or negative errno.
 */
int vm_init_nokvm(struct vm *vm, uint64_t ram_size);

/**
 * vm_destroy() - free everything vm_init() made; vCPU threads must be gone.
 * @vm: the VM.
 */
void vm_destroy(struct vm *vm);

/**
 * vm_io_register() - route guest PIO or MMIO in a range to a handler.
 * @vm: the VM.
 * @space: VM_IO_PIO or VM_IO_MMIO.
 * @base: first address.
 * @len: length of the range (> 0); must not overlap an existing range.
 * @fn: the handler.
 * @opaque: passed to @fn.
 *
 * Only before vm_run(). The PCI bus registers its whole MMIO window and PIO
 * range once and dispatches to BARs itself.
 *
 * Return: 0, -EEXIST on overlap, -ENOSPC when the table is full.
 */
int vm_io_register(struct vm *vm, enum vm_io_space space, uint64_t base,
		   uint64_t len, vm_io_fn fn, void *opaque);

/**
 * vm_io_dispatch() - run the handler for one guest access.
 * @vm: the VM.
 * @space: PIO or MMIO.
 * @addr: guest address.
 * @data: data buffer, as for vm_io_fn.
 * @len: access size.
 * @is_write: direction.
 *
 * Unclaimed reads return all ones, unclaimed writes are dropped (counted).
 * Exposed so that tests can drive devices without a vCPU.
 */
void vm_io_dispatch(struct vm *vm, enum vm_io_space space, uint64_t addr,
		    uint8_t *data, unsigned int len, bool is_write);

/**
 * vm_coalesce_add() - let KVM queue guest writes to a range without exiting.
 * @vm: the VM.
 * @space: PIO or MMIO.
 * @addr: first address.
 * @len: length of the range.
 *
 * For registers whose writes have no immediate effect the guest could
 * observe other than through a later access that exits (an address latch
 * such as PCI's CONFIG_ADDRESS): each write is then replayed through
 * vm_io_dispatch() before the next exit of any vCPU is handled, so the
 * handler sees writes and reads in the guest's order. Only before vm_run().
 *
 * Return: 0; -ENOTSUP when KVM cannot (the writes then exit as before).
 */
int vm_coalesce_add(struct vm *vm, enum vm_io_space space, uint64_t addr,
		    uint64_t len);

/**
 * vm_coalesced_flush() - replay the writes KVM queued (vm_coalesce_add()).
 * @vm: the VM.
 *
 * Called by vCPU threads before they handle an exit; exposed for tests.
 */
void vm_coalesced_flush(struct vm *vm);

/**
 * vm_ioeventfd_add() - make a guest write signal an eventfd in the kernel.
 * @vm: the VM.
 * @space: PIO or MMIO.
 * @addr: guest address written.
 * @len: write size to match (1, 2, 4, 8; 0 = any size, MMIO only).
 * @datamatch: match only writes of @data.
 * @data: value to match when @datamatch.
 * @fd: the eventfd.
 *
 * The write then never exits to userspace (a doorbell).
 *
 * Return: 0 or negative errno.
 */
int vm_ioeventfd_add(struct vm *vm, enum vm_io_space space, uint64_t addr,
		     unsigned int len, bool datamatch, uint64_t data, int fd);

/**
 * vm_ioeventfd_del() - undo vm_ioeventfd_add() with the same arguments.
 * Return: 0 or negative errno.
 */
int vm_ioeventfd_del(struct vm *vm, enum vm_io_space space, uint64_t addr,
		     unsigned int len, bool datamatch, uint64_t data, int fd);

/**
 * vm_irq_line() - set the level of an IOAPIC/PIC input.
 * @vm: the VM.
 * @gsi: 0..VM_IOAPIC_PINS-1.
 * @level: 1 asserted, 0 deasserted (edge sources pulse 1 then 0).
 *
 * Return: 0 or negative errno.
 */
int vm_irq_line(struct vm *vm, unsigned int gsi, int level);

/**
 * vm_gsi_alloc() - reserve a GSI for an MSI route.
 * @vm: the VM.
 *
 * Return: the GSI (>= VM_GSI_FIRST_MSI) or negative errno.
 */
int vm_gsi_alloc(struct vm *vm);

/**
 * vm_gsi_free() - remove a GSI's route and free it.
 * @vm: the VM.
 * @gsi: from vm_gsi_alloc().
 */
void vm_gsi_free(struct vm *vm, unsigned int gsi);

/**
 * vm_msi_route_set() - point an allocated GSI at an MSI message.
 * @vm: the VM.
 * @gsi: from vm_gsi_alloc().
 * @addr: MSI address (64-bit).
 * @data: MSI data.
 *
 * Applies the whole routing table with KVM_SET_GSI_ROUTING.
 *
 * Return: 0 or negative errno.
 */
int vm_msi_route_set(struct vm *vm, unsigned int gsi, uint64_t addr,
		     uint32_t data);

/**
 * vm_irqfd_assign() - make writes to an eventfd inject a GSI.
 * @vm: the VM.
 * @gsi: the GSI (MSI route or IOAPIC pin).
 * @fd: an eventfd.
 * @resample_fd: for level IOAPIC pins, an eventfd KVM signals on EOI;
 *	-1 for edge/MSI.
 *
 * Return: 0 or negative errno.
 */
int vm_irqfd_assign(struct vm *vm, unsigned int gsi, int fd, int resample_fd);

/**
 * vm_irqfd_deassign() - undo vm_irqfd_assign().
 * Return: 0 or negative errno.
 */
int vm_irqfd_deassign(struct vm *vm, unsigned int gsi, int fd);

/**
 * vm_msi_signal() - inject one MSI message directly (KVM_SIGNAL_MSI).
 * @vm: the VM.
 * @addr: MSI address.
 * @data: MSI data.
 *
 * Return: 0 or negative errno.
 */
int vm_msi_signal(struct vm *vm, uint64_t addr, uint32_t data);

/*
 * The main loop is vm->loop, a common/evloop.h loop run by vm_run() on the
 * main thread: a device may add its own fds and timers there directly
 * (evloop_fd_add(), evloop_timer_add()), or use the two helpers below.
 */

/**
 * vm_loop_add() - watch an fd (EPOLLIN) in the main event loop.
 * @vm: the VM.
 * @fd: fd to watch for EPOLLIN.
 * @fn: callback, run in the main thread.
 * @opaque: passed to @fn; must stay valid until vm_loop_del().
 *
 * Return: 0 or negative errno.
 */
int vm_loop_add(struct vm *vm, int fd, vm_loop_fn fn, void *opaque);

/**
 * vm_loop_del() - stop watching an fd.
 * Return: 0 or negative errno.
 */
int vm_loop_del(struct vm *vm, int fd);

/**
 * vm_request_exit() - ask the VM to stop with an exit code.
 * @vm: the VM.
 * @code: enum vm_exit_code value; the first request wins.
 *
 * Safe from any thread and from a signal handler.
 */
void vm_request_exit(struct vm *vm, int code);

/**
 * vm_pause() - stop all vCPUs (they wait outside KVM_RUN).
 * @vm: the VM.
 * @pause: true to pause, false to resume.
 *
 * Return: 0 or negative errno.
 */
int vm_pause(struct vm *vm, bool pause);

/**
 * vm_run() - start the vCPU threads and run the event loop until exit.
 * @vm: the VM, its boot state (registers) already set.
 *
 * Return: the exit code (enum vm_exit_code).
 */
int vm_run(struct vm *vm);

/**
 * vm_now_ns() - CLOCK_MONOTONIC in nanoseconds.
 */
uint64_t vm_now_ns(void);

#endif
