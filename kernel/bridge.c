// SPDX-License-Identifier: MIT
/* bridge.c - Linux bridges netd owns: creation, VLAN entries, FDB (libnl3). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "common/log.h"
#include "kernel/bridge.h"
#include "kernel/nl.h"

LOG_MODULE("kernel-bridge");

/* USER_HZ: the unit of nda_cacheinfo's clock_t fields. */
#define KERNEL_USER_HZ 100

/* Send @msg, wait for the kernel's ACK; frees @msg. */
static int kernel_msg_run(struct nl_sock *sk, struct nl_msg *msg)
{
	int ret = nl_send_auto(sk, msg);

	nlmsg_free(msg);
	if (ret < 0)
		return kernel_nl_err(ret);
	return kernel_nl_err(nl_wait_for_ack(sk));
}

static int bridge_newlink(struct nl_sock *sk, const char *name, uint32_t mtu,
			  bool vlans)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nlattr *info, *data;
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(RTM_NEWLINK,
				 NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
	    (mtu && nla_put_u32(msg, IFLA_MTU, mtu) < 0) ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
	    (vlans && (nla_put_u8(msg, IFLA_BR_VLAN_FILTERING, 1) < 0 ||
		       nla_put_u16(msg, IFLA_BR_VLAN_DEFAULT_PVID, 0) < 0))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return kernel_msg_run(sk, msg);
}

int kernel_bridge_create(struct nl_sock *sk, const char *name,
			 const char *alias, uint32_t mtu, bool *vlan_filtering,
			 char *err, size_t errlen)
{
	struct kernel_link_set set = {.alias = alias, .up = true};
	int ret, idx;

	*vlan_filtering = true;
	ret = bridge_newlink(sk, name, mtu, true);
	if (ret == -EOPNOTSUPP) {
		*vlan_filtering = false;
		ret = bridge_newlink(sk, name, mtu, false);
	}
	if (ret < 0) {
		snprintf(err, errlen, "cannot create bridge %s: %s%s", name,
			 strerror(-ret),
			 ret == -EEXIST ? " (an interface of that name exists)"
					: "");
		return ret;
	}
	idx = kernel_link_index(sk, name);
	if (idx < 0) {
		snprintf(err, errlen, "bridge %s vanished", name);
		return idx;
	}
	/* The kernel takes ifalias on a change, not on creation. */
	ret = kernel_link_set(sk, idx, &set);
	if (ret < 0) {
		snprintf(err, errlen, "bridge %s: cannot set alias/up: %s",
			 name, strerror(-ret));
		kernel_link_delete(sk, idx);
		return ret;
	}
	log_info(MOD, "bridge %s created (ifindex %d, %s)", name, idx,
		 *vlan_filtering ? "VLAN filtering"
				 : "no VLAN filtering in this kernel");
	return idx;
}

static int vlan_put(struct nl_msg *msg, uint16_t vid, uint16_t flags)
{
	struct bridge_vlan_info vi = {.flags = flags, .vid = vid};

	return nla_put(msg, IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi);
}

int kernel_bridge_vlans_set(struct nl_sock *sk, int ifindex, bool self,
			    const struct kernel_vlans *v)
{
	struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE,
				.ifi_index = ifindex};
	struct nlattr *spec;
	struct nl_msg *msg;
	int bad = 0;

	if (!v->pvid && !v->ntagged)
		return 0;
	/* At most 4094 entries of 8 bytes: more than the default page. */
	msg = nlmsg_alloc_size(65536);
	if (!msg)
		return -ENOMEM;
	if (!nlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, RTM_SETLINK, 0,
		       NLM_F_REQUEST | NLM_F_ACK) ||
	    nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(spec = nla_nest_start(msg, IFLA_AF_SPEC))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	if (self)
		bad |= nla_put_u16(msg, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF);
	if (v->pvid)
		bad |= vlan_put(msg, v->pvid,
				BRIDGE_VLAN_INFO_PVID |
					BRIDGE_VLAN_INFO_UNTAGGED);
	for (uint32_t i = 0; i < v->ntagged && !bad; i++)
		if (v->tagged[i] != v->pvid)
			bad |= vlan_put(msg, (uint16_t)v->tagged[i], 0);
	if (bad) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, spec);
	return kernel_msg_run(sk, msg);
}

struct fdb_dump {
	int br;
	kernel_fdb_fn fn;
	void *arg;
	int n;
	int stop;
};

static int fdb_dump_msg(struct nl_msg *msg, void *arg)
{
	struct fdb_dump *w = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[NDA_MAX + 1];
	struct kernel_fdb_entry e;
	struct ndmsg *nd;

	if (h->nlmsg_type != RTM_NEWNEIGH || w->stop ||
	    nlmsg_parse(h, sizeof(*nd), tb, NDA_MAX, NULL) < 0)
		return NL_OK;
	nd = nlmsg_data(h);
	if (nd->ndm_family != AF_BRIDGE || !tb[NDA_MASTER] ||
	    (int)nla_get_u32(tb[NDA_MASTER]) != w->br || !tb[NDA_LLADDR] ||
	    nla_len(tb[NDA_LLADDR]) != 6)
		return NL_OK;
	/* Local (the ports' own MACs) and static entries: not learnt. */
	if (nd->ndm_state & (NUD_PERMANENT | NUD_NOARP))
		return NL_OK;
	memset(&e, 0, sizeof(e));
	memcpy(e.mac, nla_data(tb[NDA_LLADDR]), 6);
	if (tb[NDA_VLAN] && nla_len(tb[NDA_VLAN]) >= 2)
		e.vlan = nla_get_u16(tb[NDA_VLAN]);
	e.ifindex = nd->ndm_ifindex;
	if (tb[NDA_CACHEINFO] &&
	    nla_len(tb[NDA_CACHEINFO]) >= (int)sizeof(struct nda_cacheinfo)) {
		struct nda_cacheinfo *ci = nla_data(tb[NDA_CACHEINFO]);

		e.age_sec = ci->ndm_updated / KERNEL_USER_HZ;
	}
	w->n++;
	if (w->fn && w->fn(w->arg, &e))
		w->stop = 1;
	return NL_OK;
}

int kernel_bridge_fdb_dump(struct nl_sock *sk, int br_ifindex, kernel_fdb_fn fn,
			   void *arg)
{
	struct ndmsg nd = {.ndm_family = AF_BRIDGE};
	struct fdb_dump w = {.br = br_ifindex, .fn = fn, .arg = arg};
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fdb_dump_msg, &w);
	ret = nl_send_simple(sk, RTM_GETNEIGH, NLM_F_DUMP, &nd, sizeof(nd));
	if (ret >= 0)
		ret = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	return ret < 0 ? kernel_nl_err(ret) : w.n;
}

int kernel_bridge_port_flush(struct nl_sock *sk, int ifindex)
{
	struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE,
				.ifi_index = ifindex};
	struct nlattr *pi;
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(pi = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) ||
	    nla_put_flag(msg, IFLA_BRPORT_FLUSH) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, pi);
	return kernel_msg_run(sk, msg);
}
