/* SPDX-License-Identifier: MIT */
/* kvm-probe: tell a hardware-speed /dev/kvm from an emulated one (exit 0/1). */

/*
 * Runs a two-instruction real-mode loop (dec ecx; jnz) for LOOP_COUNT
 * iterations in a one-page guest and times KVM_RUN. With hardware
 * virtualization an iteration costs about a nanosecond; an emulated or
 * paravirtual /dev/kvm costs hundreds, and cannot boot Linux in useful time.
 * Prints one line saying what it measured. Exit: 0 fast, 1 slow, 2 no KVM.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum {
	GUEST_PAGE = 0x1000,
	LOOP_COUNT = 1000000,
	/* Hardware: ~1 ns; L1 under TCG: ~20 ns; emulated host KVM: ~600 ns. */
	FAST_NS_PER_LOOP = 5,
};

static double probe_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int probe_fail(const char *what)
{
	printf("kvm-probe: %s: %s\n", what, strerror(errno));
	return 2;
}

int main(void)
{
	/* mov ecx, imm32 (patched below); 1: dec ecx; jnz 1b; hlt (16-bit) */
	static const uint8_t code[] = "\x66\xb9\0\0\0\0\x66\x49\x75\xfc\xf4";
	const uint32_t count = LOOP_COUNT;
	struct kvm_userspace_memory_region region = {0};
	struct kvm_sregs sregs;
	struct kvm_regs regs = {0};
	struct kvm_run *run;
	int kvm, vm, vcpu, run_size;
	double t0, t1, ns;
	uint8_t *mem;

	/* A KVM that never returns from KVM_RUN must not hang a test run. */
	alarm(30);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return probe_fail("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return probe_fail("KVM_CREATE_VM");
	mem = mmap(NULL, GUEST_PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return probe_fail("mmap");
	memcpy(mem, code, sizeof(code));
	memcpy(mem + 2, &count, sizeof(count));
	region.guest_phys_addr = GUEST_PAGE;
	region.memory_size = GUEST_PAGE;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return probe_fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return probe_fail("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		return probe_fail("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return probe_fail("mmap kvm_run");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return probe_fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return probe_fail("KVM_SET_SREGS");
	regs.rip = GUEST_PAGE;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return probe_fail("KVM_SET_REGS");

	t0 = probe_now();
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			return probe_fail("KVM_RUN");
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_INTR) {
			printf("kvm-probe: unexpected exit %u\n",
			       run->exit_reason);
			return 2;
		}
		if (probe_now() - t0 > 10) {
			printf("kvm-probe: guest loop not done in 10 s: "
			       "emulated\n");
			return 1;
		}
	}
	t1 = probe_now();
	ns = (t1 - t0) * 1e9 / LOOP_COUNT;
	if (ns > FAST_NS_PER_LOOP) {
		printf("kvm-probe: %.0f ns per guest loop iteration: %s\n", ns,
		       "not hardware speed");
		return 1;
	}
	printf("kvm-probe: %.1f ns per guest loop iteration: hardware speed\n",
	       ns);
	return 0;
}
