/* SPDX-License-Identifier: MIT */
/* vm.c - KVM VM set-up, vCPU threads, I/O dispatch, IRQ routing, main loop. */
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

LOG_MODULE("vm");

/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1
/* How often the main loop checks whether every vCPU halted for good. */
#define HALT_CHECK_MS 500
#define VCPU_STACK_SIZE (256 * 1024)

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

/* The routing KVM_CREATE_IRQCHIP installs: ISA IRQs to PIC and IOAPIC. */
static int vm_routing_init(struct vm *vm)
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

static void vcpu_kick_handler(int sig)
{
	(void)sig;
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

/*
 * Kick a vCPU out of KVM_RUN. A reliable kick (pause, exit) also sets
 * immediate_exit, so a vCPU about to enter KVM_RUN returns at once; the
 * periodic halt check only signals (a kick lost before KVM_RUN is simply
 * retried next round), so that an EINTR without immediate_exit tells the
 * vCPU thread that KVM did run and completed any pending I/O.
 */
static void vcpu_kick(struct vm_vcpu *vcpu, bool reliable)
{
	if (!vcpu->started)
		return;
	if (reliable)
		__atomic_store_n(&vcpu->run->immediate_exit, 1,
				 __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

static void vm_kick_all(struct vm *vm, bool reliable)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i], reliable);
}

int vm_pause(struct vm *vm, bool pause)
{
	pthread_mutex_lock(&vm->state_lock);
	vm->paused = pause;
	pthread_cond_broadcast(&vm->state_cond);
	pthread_mutex_unlock(&vm->state_lock);
	if (pause) {
		vm_kick_all(vm, true);
		/* Wait until every running vCPU has left KVM_RUN. */
		pthread_mutex_lock(&vm->state_lock);
		while (vm->paused && vm->exit_code < 0 &&
		       vm->vcpus_paused < vm->nr_vcpus) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			if (pthread_cond_timedwait(&vm->state_cond,
						   &vm->state_lock, &ts))
				break;
		}
		pthread_mutex_unlock(&vm->state_lock);
	}
	return 0;
}

/*
 * A vCPU that sits in HLT with interrupts off (or was never started by the
 * boot CPU) will not run again: Linux's halt and "poweroff" without ACPI end
 * like that on every CPU. Checked when the main loop kicks the vCPUs.
 */
static bool vcpu_halted_for_good(struct vm_vcpu *vcpu)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp))
		return false;
	if (mp.mp_state == KVM_MP_STATE_UNINITIALIZED ||
	    mp.mp_state == KVM_MP_STATE_INIT_RECEIVED)
		return vcpu->id != 0;
	if (mp.mp_state != KVM_MP_STATE_HALTED)
		return false;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs))
		return false;
	return !(regs.rflags & (1u << 9));
}

static void vcpu_handle_io(struct vm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *p = (uint8_t *)run + run->io.data_offset;
	unsigned int i, size = run->io.size;

	if (run->io.data_offset + (uint64_t)size * run->io.count >
	    (uint64_t)vcpu->vm->run_size)
		return;
	for (i = 0; i < run->io.count; i++, p += size)
		vm_io_dispatch(vcpu->vm, VM_IO_PIO, run->io.port, p, size,
			       run->io.direction == KVM_EXIT_IO_OUT);
}

static void *vcpu_thread(void *arg)
{
	struct vm_vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	unsigned int halt_checks = 0;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (vm->exit_code < 0) {
		if (vm->paused) {
			pthread_mutex_lock(&vm->state_lock);
			vm->vcpus_paused++;
			pthread_cond_broadcast(&vm->state_cond);
			while (vm->paused && vm->exit_code < 0)
				pthread_cond_wait(&vm->state_cond,
						  &vm->state_lock);
			vm->vcpus_paused--;
			pthread_mutex_unlock(&vm->state_lock);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			int err = errno;

			vm_coalesced_flush(vm);
			if (err == EINTR || err == EAGAIN) {
				/* Without immediate_exit, KVM ran (see above). */
				if (!__atomic_exchange_n(&run->immediate_exit,
							 0, __ATOMIC_SEQ_CST))
					vcpu->io_pending = false;
				/*
				 * A kick: maybe the halt check asked. Not while
				 * an I/O exit awaits completion by the next
				 * KVM_RUN: state ioctls must not run then, and a
				 * vCPU doing I/O is not halted anyway.
				 */
				if (vcpu->io_pending)
					vcpu->halted = false;
				else
					vcpu->halted =
						vcpu_halted_for_good(vcpu);
				halt_checks++;
				continue;
			}
			log_err(MOD, "vcpu%d: KVM_RUN: %s", vcpu->id,
				strerror(err));
			vm_request_exit(vm, VM_EXIT_ERROR);
			break;
		}
		/* Queued writes happened before this exit's access. */
		vm_coalesced_flush(vm);
		vcpu->halted = false;
		vcpu->io_pending = run->exit_reason == KVM_EXIT_IO ||
				   run->exit_reason == KVM_EXIT_MMIO;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			vm->counters.exits_io++;
			if (vm->pio_profile)
				__atomic_add_fetch(
					&vm->pio_profile[run->io.port], 1,
					__ATOMIC_RELAXED);
			vcpu_handle_io(vcpu);
			break;
		case KVM_EXIT_MMIO:
			vm->counters.exits_mmio++;
			if (run->mmio.len > 8)
				break;
			vm_io_dispatch(vm, VM_IO_MMIO, run->mmio.phys_addr,
				       run->mmio.data, run->mmio.len,
				       run->mmio.is_write);
			break;
		case KVM_EXIT_HLT:
			vm->counters.exits_hlt++;
			vcpu->halted = true;
			break;
		case KVM_EXIT_SHUTDOWN:
			/* Triple fault: what a PC does on reset. */
			log_info(MOD, "vcpu%d: shutdown (triple fault)",
				 vcpu->id);
			vm_request_exit(vm, VM_EXIT_POWEROFF);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			log_info(MOD, "vcpu%d: system event %u", vcpu->id,
				 run->system_event.type);
			vm_request_exit(vm, VM_EXIT_POWEROFF);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_FAIL_ENTRY:
			log_err(MOD, "vcpu%d: entry failed, reason 0x%llx",
				vcpu->id,
				(unsigned long long)run->fail_entry
					.hardware_entry_failure_reason);
			vm_request_exit(vm, VM_EXIT_ERROR);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			log_err(MOD, "vcpu%d: KVM internal error, suberror %u",
				vcpu->id, run->internal.suberror);
			vm_request_exit(vm, VM_EXIT_ERROR);
			break;
		default:
			vm->counters.exits_other++;
			log_rl(LOG_WARN, MOD, "vcpu%d: unhandled exit %u",
			       vcpu->id, run->exit_reason);
			break;
		}
	}
	(void)halt_checks;
	return NULL;
}

static void vm_check_halted(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		if (!vm->vcpus[i].halted)
			return;
	log_info(MOD, "all vCPUs halted with interrupts off: powering off");
	vm_request_exit(vm, VM_EXIT_POWEROFF);
}

/* Every HALT_CHECK_MS: two rounds in a row with every vCPU halted: stop. */
static void vm_halt_check_cb(struct evloop *l, void *arg)
{
	struct vm *vm = arg;
	unsigned int i;

	(void)l;
	if (vm->paused)
		return;
	for (i = 0; i < vm->nr_vcpus; i++)
		if (!vm->vcpus[i].halted)
			break;
	if (i == vm->nr_vcpus && ++vm->halt_rounds >= 2)
		vm_check_halted(vm);
	else if (i < vm->nr_vcpus)
		vm->halt_rounds = 0;
	vm_kick_all(vm, false);
}

int vm_run(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };
	struct evloop_timer *halt_timer;
	pthread_attr_t attr;
	sigset_t set, old;
	unsigned int i;
	int ret;

	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	/* Only vCPU threads take the kick signal. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	vm->halt_rounds = 0;
	halt_timer = evloop_timer_add(vm->loop, HALT_CHECK_MS, HALT_CHECK_MS,
				      vm_halt_check_cb, vm);
	if (!halt_timer) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return VM_EXIT_ERROR;
	}

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, VCPU_STACK_SIZE);
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = pthread_create(&vm->vcpus[i].thread, &attr, vcpu_thread,
				     &vm->vcpus[i]);
		if (ret) {
			log_err(MOD, "vcpu thread: %s", strerror(ret));
			vm_request_exit(vm, VM_EXIT_ERROR);
			break;
		}
		vm->vcpus[i].started = true;
	}
	pthread_attr_destroy(&attr);

	/* The main loop: devices' fds and timers (common/evloop.h). */
	while (vm->exit_code < 0) {
		ret = evloop_run_once(vm->loop, -1);
		if (ret) {
			log_err(MOD, "event loop: %s", strerror(-ret));
			vm_request_exit(vm, VM_EXIT_ERROR);
			break;
		}
	}

	pthread_mutex_lock(&vm->state_lock);
	pthread_cond_broadcast(&vm->state_cond);
	pthread_mutex_unlock(&vm->state_lock);
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (!vm->vcpus[i].started)
			continue;
		vcpu_kick(&vm->vcpus[i], true);
		pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].started = false;
	}
	evloop_timer_del(halt_timer);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return vm->exit_code;
}
