// SPDX-License-Identifier: MIT
/* antispoof.c - load the anti-spoofing eBPF program (libbpf skeleton) and attach it to kernel-path ports' ingress. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel/antispoof.h"
#include "antispoof.skel.h" /* bpftool gen skeleton, in $(BUILD)/kernel */

struct kernel_antispoof {
	struct antispoof_bpf *skel;
	int prog_fd, pol_fd, cnt_fd;
};

/* libbpf's own messages go nowhere: each call's error says what failed. */
static int antispoof_libbpf_quiet(enum libbpf_print_level level,
				  const char *fmt, va_list ap)
{
	return 0;
}

int kernel_antispoof_open(struct kernel_antispoof **out, char *err,
			  size_t errlen)
{
	struct kernel_antispoof *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	libbpf_set_print(antispoof_libbpf_quiet);
	k->skel = antispoof_bpf__open_and_load();
	if (!k->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot load the anti-spoofing eBPF "
			 "program: %s%s", strerror(errno),
			 errno == EPERM ? " (needs CAP_BPF and CAP_NET_ADMIN)"
					: "");
		free(k);
		return ret ? ret : -EINVAL;
	}
	k->prog_fd = bpf_program__fd(k->skel->progs.antispoof_ingress);
	k->pol_fd = bpf_map__fd(k->skel->maps.policies);
	k->cnt_fd = bpf_map__fd(k->skel->maps.counters);
	*out = k;
	return 0;
}

void kernel_antispoof_close(struct kernel_antispoof *k)
{
	if (!k)
		return;
	antispoof_bpf__destroy(k->skel); /* attached filters keep theirs */
	free(k);
}

int kernel_antispoof_attach(struct kernel_antispoof *k, int ifindex,
			    const struct antispoof_policy *pol, char *err,
			    size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = k->prog_fd,
			    .handle = 1, .priority = 1);
	struct antispoof_counters zero;
	__u32 key = (__u32)ifindex;
	int ret;

	memset(&zero, 0, sizeof(zero));
	if (bpf_map_update_elem(k->pol_fd, &key, pol, BPF_ANY) ||
	    bpf_map_update_elem(k->cnt_fd, &key, &zero, BPF_ANY)) {
		ret = -errno;
		snprintf(err, errlen, "anti-spoofing: policy map: %s",
			 strerror(errno));
		goto forget;
	}
	ret = bpf_tc_hook_create(&hook);
	if (ret < 0 && ret != -EEXIST) {
		snprintf(err, errlen, "anti-spoofing: cannot add clsact to "
			 "ifindex %d: %s", ifindex, strerror(-ret));
		goto forget;
	}
	opts.flags = BPF_TC_F_REPLACE;
	ret = bpf_tc_attach(&hook, &opts);
	if (ret < 0) {
		snprintf(err, errlen, "anti-spoofing: cannot attach to "
			 "ifindex %d: %s", ifindex, strerror(-ret));
		goto forget;
	}
	return 0;
forget:
	bpf_map_delete_elem(k->pol_fd, &key);
	bpf_map_delete_elem(k->cnt_fd, &key);
	return ret;
}

void kernel_antispoof_detach(struct kernel_antispoof *k, int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	__u32 key = (__u32)ifindex;

	bpf_tc_detach(&hook, &opts); /* -ENOENT: the interface is gone */
	bpf_map_delete_elem(k->pol_fd, &key);
	bpf_map_delete_elem(k->cnt_fd, &key);
}

int kernel_antispoof_set_ips(struct kernel_antispoof *k, int ifindex,
			     const uint32_t *ip, unsigned int nip)
{
	struct antispoof_policy pol;
	__u32 key = (__u32)ifindex;

	if (bpf_map_lookup_elem(k->pol_fd, &key, &pol))
		return -errno;
	if (nip > ANTISPOOF_IPS_MAX)
		nip = ANTISPOOF_IPS_MAX;
	memset(pol.ip, 0, sizeof(pol.ip));
	memcpy(pol.ip, ip, nip * sizeof(*ip));
	pol.nip = (uint8_t)nip;
	return bpf_map_update_elem(k->pol_fd, &key, &pol, BPF_EXIST) ? -errno
								      : 0;
}

int kernel_antispoof_read(struct kernel_antispoof *k, int ifindex,
			  struct antispoof_policy *pol,
			  struct antispoof_counters *cnt)
{
	__u32 key = (__u32)ifindex;

	if (bpf_map_lookup_elem(k->pol_fd, &key, pol) ||
	    bpf_map_lookup_elem(k->cnt_fd, &key, cnt))
		return -ENOENT;
	return 0;
}
