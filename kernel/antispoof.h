/* SPDX-License-Identifier: MIT */
/* antispoof.h - the anti-spoofing eBPF program on kernel-path ports (libbpf): load once, attach per interface, policies and counters. */
#ifndef LOOM_KERNEL_ANTISPOOF_H
#define LOOM_KERNEL_ANTISPOOF_H

#include <stddef.h>

#include "common/antispoof.h"

/*
 * One loaded program per netd (kernel/bpf/antispoof.bpf.c, a libbpf
 * skeleton), attached as a TC ingress filter (clsact) to each port's
 * interface; its maps hold each interface's policy and drop counters.
 * Nothing is pinned: a filter and its program live as long as the
 * interface, so a kill -9 leaves nothing once netd's stray sweep removed
 * the interfaces. Control thread only.
 */
struct kernel_antispoof;

/* kernel_antispoof_open - load the program. Return: 0 or -errno (@err). */
int kernel_antispoof_open(struct kernel_antispoof **out, char *err,
			  size_t errlen);
void kernel_antispoof_close(struct kernel_antispoof *k);

/* kernel_antispoof_attach - @pol on @ifindex, and the filter on its
 * ingress. Return: 0 or -errno with @err set. */
int kernel_antispoof_attach(struct kernel_antispoof *k, int ifindex,
			    const struct antispoof_policy *pol, char *err,
			    size_t errlen);
/* kernel_antispoof_detach - the filter off @ifindex (if it still exists),
 * its policy and counters forgotten. */
void kernel_antispoof_detach(struct kernel_antispoof *k, int ifindex);

/* kernel_antispoof_set_ips - replace @ifindex's IPv4 addresses, keeping
 * what the program learnt (the MAC). Return: 0 or -errno. */
int kernel_antispoof_set_ips(struct kernel_antispoof *k, int ifindex,
			     const uint32_t *ip, unsigned int nip);

/* kernel_antispoof_read - @ifindex's policy as it is now (a learnt MAC
 * included) and its counters. Return: 0 or -ENOENT. */
int kernel_antispoof_read(struct kernel_antispoof *k, int ifindex,
			  struct antispoof_policy *pol,
			  struct antispoof_counters *cnt);

#endif
