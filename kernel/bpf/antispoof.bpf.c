// SPDX-License-Identifier: MIT
/* antispoof.bpf.c - TC ingress program on netd's kernel-path ports: drops what common/antispoof.h calls spoofed, counts why. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "common/antispoof.h"

/*
 * Built by clang -target bpf (kernel/module.mk), embedded into loom-netd
 * as a libbpf skeleton; kernel/antispoof.c loads it once per netd and
 * attaches it to the ingress of each port's interface (what the guest
 * sends). Maps keyed by the interface's ifindex; an interface without a
 * policy passes everything.
 */
enum { PORTS_MAX = 4096 };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PORTS_MAX);
	__type(key, __u32);
	__type(value, struct antispoof_policy);
} policies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PORTS_MAX);
	__type(key, __u32);
	__type(value, struct antispoof_counters);
} counters SEC(".maps");

SEC("tc")
int antispoof_ingress(struct __sk_buff *skb)
{
	__u32 key = skb->ifindex;
	struct antispoof_policy *pol = bpf_map_lookup_elem(&policies, &key);
	struct antispoof_counters *c;
	__u32 pull = skb->len < 128 ? skb->len : 128;
	int v;

	if (!pol)
		return TC_ACT_OK;
	v = antispoof_check(pol, (const uint8_t *)(long)skb->data,
			    (const uint8_t *)(long)skb->data_end);
	/* Headers past the linear part: pull them in, look again. */
	if (v == ANTISPOOF_SHORT &&
	    skb->len > (__u32)(skb->data_end - skb->data)) {
		if (bpf_skb_pull_data(skb, pull))
			return TC_ACT_SHOT;
		v = antispoof_check(pol, (const uint8_t *)(long)skb->data,
				    (const uint8_t *)(long)skb->data_end);
	}
	if (v <= ANTISPOOF_PASS)
		return TC_ACT_OK;
	c = bpf_map_lookup_elem(&counters, &key);
	if (c && v > 0 && v < ANTISPOOF_DROP__COUNT)
		__sync_fetch_and_add(&c->drops[v], 1);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
