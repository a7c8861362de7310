/* SPDX-License-Identifier: MIT */
/* vm_vcpu.c - a VM's vCPU threads: KVM_RUN and its exits, kicks, pause, halt detection, vm_run(). */
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

LOG_MODULE("vm-vcpu");

/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1
/* How often the main loop checks whether every vCPU halted for good. */
#define HALT_CHECK_MS 500
#define VCPU_STACK_SIZE (256 * 1024)

static void vcpu_kick_handler(int sig)
{
	(void)sig;
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

