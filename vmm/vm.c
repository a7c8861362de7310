/* SPDX-License-Identifier: MIT */
/* vm.c - KVM VM set-up and teardown, guest RAM, I/O dispatch, exit profiling, the main loop's fds. */
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

LOG_MODULE("vm");


/* A vm_loop_add() registration, on the VM's evloop. */
struct loop_entry {
	int fd;
	vm_loop_fn fn;
	void *opaque;
	struct loop_entry *next;
};

static struct loop_entry *loop_entries;

uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void vm_wake(struct vm *vm)
{
	uint64_t one = 1;

	if (vm->wake_fd >= 0 && write(vm->wake_fd, &one, sizeof(one)) < 0) {
		/* Counter overflow only: the loop is already awake. */
	}
}

void vm_request_exit(struct vm *vm, int code)
{
	__sync_bool_compare_and_swap(&vm->exit_code, -1, code);
	vm_wake(vm);
}

/* wake_fd: a signal handler or another thread asked for the exit. */
static void vm_wake_cb(struct evloop *l, int fd, uint32_t events, void *arg)
{
	struct vm *vm = arg;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* spurious */
	}
	if (vm->exit_code >= 0)
		evloop_stop(l);
}

static int vm_common_init(struct vm *vm)
{
	int ret;

	vm->exit_code = -1;
	vm->loop = NULL;
	vm->wake_fd = -1;
	pthread_mutex_init(&vm->irq_lock, NULL);
	pthread_mutex_init(&vm->state_lock, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	pthread_cond_init(&vm->state_cond, NULL);
	vm->loop = evloop_new();
	if (!vm->loop)
		return -errno;
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->wake_fd < 0)
		return -errno;
	ret = evloop_fd_add(vm->loop, vm->wake_fd, EPOLLIN, vm_wake_cb, vm);
	if (ret)
		return ret;
	vm->start_ns = vm_now_ns();
	return 0;
}

int vm_init_nokvm(struct vm *vm, uint64_t ram_size)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	guest_mem_init_empty(&vm->mem);
	ret = vm_common_init(vm);
	if (ret)
		return ret;
	if (ram_size) {
		ret = guest_mem_init(&vm->mem, ram_size,
				     GUEST_MEM_X86_LOW_LIMIT);
		if (ret)
			return ret;
	}
	return 0;
}

static int vcpu_set_cpuid(struct vm *vm, struct vm_vcpu *vcpu)
{
	struct kvm_cpuid2 *cpuid;
	unsigned int i, nent = 256;
	int ret;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) +
					  nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = nent;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid))
			break;
		ret = -errno;
		free(cpuid);
		if (ret != -E2BIG || nent >= 4096)
			return ret;
		nent *= 2;
	}
	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			/*
			 * TSC-deadline LAPIC timer: KVM emulates it but leaves
			 * the bit to us. With it Linux needs no APIC timer
			 * calibration against the PIT (which fails under slow
			 * nested KVM and leaves the PIT as the tick source).
			 */
			if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
				  KVM_CAP_TSC_DEADLINE_TIMER) > 0)
				e->ecx |= 1u << 24;
			/* APIC ID, logical CPU count; we are a hypervisor. */
			e->ebx = (e->ebx & 0x0000ffffu) |
				 ((uint32_t)vcpu->id << 24) |
				 ((vm->nr_vcpus & 0xffu) << 16);
			e->ecx |= 1u << 31;
			if (vm->nr_vcpus > 1)
				e->edx |= 1u << 28; /* HTT: count field valid */
			break;
		case 0xb:
		case 0x1f:
			e->edx = (uint32_t)vcpu->id;
			break;
		default:
			break;
		}
	}
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) ? -errno : 0;
	free(cpuid);
	return ret;
}

/* What the firmware normally does: LINT0 = ExtINT, LINT1 = NMI. */
static int vcpu_set_lint(struct vm_vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t *lvt0, *lvt1;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic))
		return -errno;
	lvt0 = (uint32_t *)(void *)&lapic.regs[0x350];
	lvt1 = (uint32_t *)(void *)&lapic.regs[0x360];
	*lvt0 = (*lvt0 & ~0x700u) | (7u << 8);	/* delivery mode ExtINT */
	*lvt1 = (*lvt1 & ~0x700u) | (4u << 8);	/* delivery mode NMI */
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic))
		return -errno;
	return 0;
}

/*
 * The coalesced ring is a page of the vCPU mapping, at the page offset
 * KVM_CAP_COALESCED_MMIO returns (0: not supported).
 */
static void vm_coalesced_ring_init(struct vm *vm, void *run)
{
	long page = sysconf(_SC_PAGESIZE);
	int off;

	off = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (off <= 0 || page <= 0 ||
	    (uint64_t)(off + 1) * (uint64_t)page > (uint64_t)vm->run_size)
		return;
	vm->coalesced_ring = (struct kvm_coalesced_mmio_ring *)
		((uint8_t *)run + (size_t)off * (size_t)page);
	vm->coalesced_max = (uint32_t)(((size_t)page -
					sizeof(struct kvm_coalesced_mmio_ring)) /
				       sizeof(struct kvm_coalesced_mmio));
}

static int vm_kvm_init(struct vm *vm, uint64_t ram_size,
		       enum guest_mem_backing backing)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = VM_IDENTITY_MAP_ADDR;
	unsigned int i;
	int ret;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return -errno;
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		log_err(MOD, "unsupported KVM API version");
		return -ENOTSUP;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) <= 0) {
		log_err(MOD, "KVM lacks immediate exit, IRQ routing, irqfd or "
			     "ioeventfd");
		return -ENOTSUP;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return -errno;
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)VM_TSS_ADDR))
		return -errno;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident))
		return -errno;
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0))
		return -errno;
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit))
		return -errno;
	/*
	 * Missed PIT ticks are dropped, not re-injected: a host that cannot
	 * keep up (nested KVM on an emulated CPU) would otherwise pile up
	 * ticks and spend all its time injecting them.
	 */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_REINJECT_CONTROL) > 0) {
		struct kvm_reinject_control rc = { .pit_reinject = 0 };

		if (ioctl(vm->vm_fd, KVM_REINJECT_CONTROL, &rc))
			log_warn(MOD, "KVM_REINJECT_CONTROL: %s",
				 strerror(errno));
	}
	ret = vm_routing_init(vm);
	if (ret)
		return ret;

	ret = guest_mem_init_backing(&vm->mem, ram_size,
				     GUEST_MEM_X86_LOW_LIMIT, backing);
	if (ret)
		return ret;
	for (i = 0; i < vm->mem.nr; i++) {
		const struct guest_mem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot))
			return -errno;
	}

	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return -errno;
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vm_vcpu *vcpu = &vm->vcpus[i];
		void *run;

		vcpu->vm = vm;
		vcpu->id = (int)i;
		vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (vcpu->fd < 0)
			return -errno;
		run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE,
			   MAP_SHARED, vcpu->fd, 0);
		if (run == MAP_FAILED)
			return -errno;
		vcpu->run = run;
		if (i == 0)
			vm_coalesced_ring_init(vm, run);
		ret = vcpu_set_cpuid(vm, vcpu);
		if (ret)
			return ret;
		ret = vcpu_set_lint(vcpu);
		if (ret)
			return ret;
	}
	return 0;
}

int vm_init(struct vm *vm, uint64_t ram_size, unsigned int nr_vcpus,
	    enum guest_mem_backing backing)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	guest_mem_init_empty(&vm->mem);
	if (!nr_vcpus || nr_vcpus > VM_MAX_VCPUS)
		return -EINVAL;
	vm->nr_vcpus = nr_vcpus;
	for (unsigned int i = 0; i < VM_MAX_VCPUS; i++)
		vm->vcpus[i].fd = -1;
	ret = vm_common_init(vm);
	if (ret)
		return ret;
	return vm_kvm_init(vm, ram_size, backing);
}

int vm_profile_exits(struct vm *vm)
{
	if (!vm->pio_profile)
		vm->pio_profile = calloc(65536, sizeof(*vm->pio_profile));
	return vm->pio_profile ? 0 : -ENOMEM;
}

struct port_count {
	uint32_t count;
	uint16_t port;
};

static int port_count_desc(const void *a, const void *b)
{
	const struct port_count *x = a, *y = b;

	return x->count != y->count ? (x->count < y->count ? 1 : -1) :
				      (int)x->port - (int)y->port;
}

void vm_profile_report(const struct vm *vm, unsigned int top)
{
	struct port_count *used;
	unsigned int n = 0, port, i;

	if (!vm->pio_profile)
		return;
	used = malloc(65536 * sizeof(*used));
	if (!used)
		return;
	for (port = 0; port < 65536; port++)
		if (vm->pio_profile[port])
			used[n++] = (struct port_count){
				vm->pio_profile[port], (uint16_t)port };
	qsort(used, n, sizeof(*used), port_count_desc);
	for (i = 0; i < n && i < top; i++)
		log_info(MOD, "exit profile: port 0x%04x: %u exits",
			 used[i].port, used[i].count);
	free(used);
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, (size_t)vm->run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
	}
	guest_mem_destroy(&vm->mem);
	free(vm->routing);
	free(vm->pio_profile);
	vm->routing = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	evloop_free(vm->loop);
	vm->loop = NULL;
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	vm->vm_fd = vm->kvm_fd = vm->wake_fd = -1;
	while (loop_entries) {
		struct loop_entry *e = loop_entries;

		loop_entries = e->next;
		free(e);
	}
}

int vm_io_register(struct vm *vm, enum vm_io_space space, uint64_t base,
		   uint64_t len, vm_io_fn fn, void *opaque)
{
	unsigned int i;

	if (!len || base + len < base || !fn)
		return -EINVAL;
	for (i = 0; i < vm->nr_io; i++) {
		const struct vm_io_range *r = &vm->io[i];

		if (r->space == space && base < r->base + r->len &&
		    r->base < base + len)
			return -EEXIST;
	}
	if (vm->nr_io >= sizeof(vm->io) / sizeof(vm->io[0]))
		return -ENOSPC;
	vm->io[vm->nr_io++] = (struct vm_io_range){
		.space = space, .base = base, .len = len,
		.fn = fn, .opaque = opaque,
	};
	return 0;
}

void vm_io_dispatch(struct vm *vm, enum vm_io_space space, uint64_t addr,
		    uint8_t *data, unsigned int len, bool is_write)
{
	unsigned int i;

	for (i = 0; i < vm->nr_io; i++) {
		const struct vm_io_range *r = &vm->io[i];

		if (r->space != space || addr < r->base ||
		    addr - r->base >= r->len || len > r->len - (addr - r->base))
			continue;
		r->fn(r->opaque, addr - r->base, data, len, is_write);
		return;
	}
	__atomic_add_fetch(&vm->counters.io_unhandled, 1, __ATOMIC_RELAXED);
	if (!is_write)
		memset(data, 0xff, len);
}

int vm_coalesce_add(struct vm *vm, enum vm_io_space space, uint64_t addr,
		    uint64_t len)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = addr,
		.size = (uint32_t)len,
		.pio = space == VM_IO_PIO,
	};

	if (vm->vm_fd < 0)
		return 0;
	if (!len || len > UINT32_MAX || !vm->coalesced_ring)
		return -ENOTSUP;
	if (space == VM_IO_PIO &&
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0)
		return -ENOTSUP;
	return ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) ? -errno : 0;
}

void vm_coalesced_flush(struct vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;
	const uint32_t max = vm->coalesced_max;
	uint32_t first, last, n = 0;

	if (!ring ||
	    __atomic_load_n(&ring->first, __ATOMIC_RELAXED) ==
		    __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->coalesced_lock);
	first = __atomic_load_n(&ring->first, __ATOMIC_RELAXED);
	last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
	/* At most one ring's worth, whatever the indexes say. */
	while (first != last && first < max && last < max && n++ < max) {
		struct kvm_coalesced_mmio e = ring->coalesced_mmio[first];

		if (e.len && e.len <= sizeof(e.data))
			vm_io_dispatch(vm, e.pio ? VM_IO_PIO : VM_IO_MMIO,
				       e.phys_addr, e.data, e.len, true);
		first = (first + 1) % max;
		__atomic_store_n(&ring->first, first, __ATOMIC_RELEASE);
		last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
	}
	__atomic_add_fetch(&vm->counters.coalesced, n, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&vm->coalesced_lock);
}

static void loop_entry_cb(struct evloop *l, int fd, uint32_t events,
			  void *arg)
{
	struct loop_entry *e = arg;

	(void)l;
	e->fn(e->opaque, fd, events);
}

int vm_loop_add(struct vm *vm, int fd, vm_loop_fn fn, void *opaque)
{
	struct loop_entry *e;
	int ret;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = fd;
	e->fn = fn;
	e->opaque = opaque;
	ret = evloop_fd_add(vm->loop, fd, EPOLLIN, loop_entry_cb, e);
	if (ret) {
		free(e);
		return ret;
	}
	e->next = loop_entries;
	loop_entries = e;
	return 0;
}

int vm_loop_del(struct vm *vm, int fd)
{
	struct loop_entry **pp;

	for (pp = &loop_entries; *pp; pp = &(*pp)->next) {
		struct loop_entry *e = *pp;

		if (e->fd != fd)
			continue;
		*pp = e->next;
		evloop_fd_del(vm->loop, fd);
		free(e);
		return 0;
	}
	return -ENOENT;
}
