// SPDX-License-Identifier: MIT
/* kport.c - VM NICs on the kernel path: a TAP on a bridge network or a macvtap, its fd handed to the VMM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/macvtap.h"
#include "backends/tap.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/shm_sock.h"
#include "loom/control.h"
#include "kernel/nl.h"
#include "netd/netd.h"

#include <netlink/netlink.h>

LOG_MODULE("kport");

/*
 * nic.open (docs/control-protocol.md): a VMM asks for a kernel device for
 * one NIC and gets its fd with the reply (SCM_RIGHTS). netd creates the
 * device, owns it and removes it:
 * - on a bridge network, a TAP enslaved to the bridge with the NIC's
 *   access VLAN (non-persistent: netd keeps a reference, so the TAP lives
 *   exactly while netd's reference or the VMM's fd does);
 * - with "macvtap": PARENT, a macvtap on that device with the NIC's MAC
 *   (persistent: netd deletes the link).
 * The request's connection becomes the port's: when it closes (the VMM
 * detached or died) netd removes the device; when netd closes it (the
 * network went, netd stopped) the VMM sees EOF, shows link down and asks
 * again. After a kill -9 of netd the devices carry netd's ifalias and the
 * sweep at start removes them (the VMM then re-attaches to a new one).
 *
 * Limits: NETD_KPORTS_MAX ports in one netd; one per MAC and per port
 * name: a VMM asking again (after a restart) replaces its old port.
 */

enum { NETD_KPORTS_MAX = 1024 };

struct netd_kport {
	struct netd *d;
	struct netd_net *net; /* NULL: a macvtap on a parent */
	char name[SWITCH_PORT_NAME_MAX];
	char ifname[16];
	char parent[16];
	char mode[16];
	char model[16];
	uint8_t mac[6];
	uint16_t vlan;
	struct tap_dev *tap; /* netd's reference to the device */
	int macvtap_ifindex; /* > 0: a link netd deletes */
	int sock;	     /* the VMM's connection */
};

static struct netd_kport *kports[NETD_KPORTS_MAX];

bool netd_kport_is_open(json_t *req)
{
	json_t *cmd = json_object_get(req, "cmd");

	return json_is_string(cmd) &&
	       !strcmp(json_string_value(cmd), LOOM_CMD_NIC_OPEN);
}

static void kport_free(struct netd_kport *kp)
{
	if (kp->sock >= 0) {
		evloop_fd_del(kp->d->loop, kp->sock);
		close(kp->sock);
	}
	if (kp->tap)
		tap_dev_destroy(kp->tap); /* a TAP goes with the last fd */
	if (kp->macvtap_ifindex > 0)
		macvtap_link_remove(kp->macvtap_ifindex);
	log_info(MOD, "%s: %s (%s) removed", kp->net ? kp->net->conf.name :
		 kp->parent, kp->name, kp->ifname);
	free(kp);
}

static void kport_remove(struct netd_kport *kp)
{
	for (int i = 0; i < NETD_KPORTS_MAX; i++)
		if (kports[i] == kp)
			kports[i] = NULL;
	kport_free(kp);
}

void netd_kport_detach_net(struct netd *d, struct netd_net *n)
{
	(void)d;
	for (int i = 0; i < NETD_KPORTS_MAX; i++)
		if (kports[i] && kports[i]->net == n) {
			kport_free(kports[i]);
			kports[i] = NULL;
		}
}

void netd_kport_stop(struct netd *d)
{
	(void)d;
	for (int i = 0; i < NETD_KPORTS_MAX; i++)
		if (kports[i]) {
			kport_free(kports[i]);
			kports[i] = NULL;
		}
}

/* The VMM's end: it sends nothing after the request; EOF is the detach. */
static void kport_conn_event(struct evloop *l, int fd, uint32_t ev, void *arg)
{
	struct netd_kport *kp = arg;
	uint8_t buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	(void)l;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
	    (ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
		kport_remove(kp);
}

/* "lv"/"mv" and a hash of the instance, the network and the port name. */
static void kport_ifname(struct netd *d, const char *kind, const char *net,
			 const char *port, char *buf, size_t len)
{
	const char *parts[] = { d->alias_prefix, net, "/", port };
	uint32_t h = 2166136261u;

	for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++)
		for (const char *c = parts[p]; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
	snprintf(buf, len, "%s%08x", kind, h);
}

/* Read and check the request's args into @kp. Return: 0 or -errno. */
static int kport_args(struct netd *d, json_t *args, struct netd_kport *kp,
		      char *err, size_t errlen)
{
	const char *net = json_string_value(json_object_get(args, "net"));
	const char *port = json_string_value(json_object_get(args, "port"));
	const char *mac = json_string_value(json_object_get(args, "mac"));
	const char *model = json_string_value(json_object_get(args, "model"));
	const char *parent =
		json_string_value(json_object_get(args, "macvtap"));
	const char *mode = json_string_value(json_object_get(args, "mode"));
	json_t *vlan = json_object_get(args, "vlan");

	if (!port || !shm_name_ok(port, sizeof(kp->name))) {
		snprintf(err, errlen, "'port': a port name (1-%zu of A-Z a-z "
			 "0-9 _ . -)", sizeof(kp->name) - 1);
		return -EINVAL;
	}
	snprintf(kp->name, sizeof(kp->name), "%s", port);
	if (netconf_mac_parse(mac, kp->mac) || kp->mac[0] & 1) {
		snprintf(err, errlen, "'mac': a unicast MAC like "
			 "52:54:00:12:34:56");
		return -EINVAL;
	}
	snprintf(kp->model, sizeof(kp->model), "%s", model ? model : "other");
	kp->vlan = NETCONF_DEFAULT_VLAN;
	if (vlan && (!json_is_integer(vlan) || json_integer_value(vlan) < 1 ||
		     json_integer_value(vlan) > 4094)) {
		snprintf(err, errlen, "'vlan': 1..4094");
		return -EINVAL;
	}
	if (vlan)
		kp->vlan = (uint16_t)json_integer_value(vlan);
	if (parent) {
		if (net || !shm_name_ok(parent, sizeof(kp->parent))) {
			snprintf(err, errlen, net ? "give 'net' or 'macvtap', "
				 "not both" : "'macvtap': an interface name");
			return -EINVAL;
		}
		snprintf(kp->parent, sizeof(kp->parent), "%s", parent);
		snprintf(kp->mode, sizeof(kp->mode), "%s",
			 mode ? mode : "bridge");
		if (strcmp(kp->mode, "bridge") && strcmp(kp->mode, "private") &&
		    strcmp(kp->mode, "vepa") && strcmp(kp->mode, "passthru")) {
			snprintf(err, errlen, "'mode' %.16s: bridge, private, "
				 "vepa or passthru", kp->mode);
			return -EINVAL;
		}
		return 0;
	}
	kp->net = net ? netd_net_find(d, net) : NULL;
	if (!kp->net) {
		snprintf(err, errlen, net ? "no network '%.64s'" :
			 "missing argument 'net' (or 'macvtap')", net);
		return net ? -ENOENT : -EINVAL;
	}
	if (!kp->net->br) {
		/* The VMM falls back to netd's shm port on this code. */
		snprintf(err, errlen, "network '%s' is mode %s: its frames move "
			 "in netd's switch, a VM NIC attaches with the shm port",
			 kp->net->conf.name,
			 netconf_mode_name(kp->net->conf.mode));
		return -EOPNOTSUPP;
	}
	if (netd_port_find(kp->net, kp->name) >= 0) {
		snprintf(err, errlen, "%s: a declared port is named '%s'",
			 kp->net->conf.name, kp->name);
		return -EEXIST;
	}
	return 0;
}

/*
 * Interface @name: free, or one of ours left from a VMM that is gone
 * (removed); someone else's is refused.
 */
static int kport_name_claim(struct netd *d, const char *name, char *err,
			    size_t errlen)
{
	struct nl_sock *sk = kernel_nl_open(-1);
	char alias[256] = "";
	int idx, ret = 0;

	if (!sk) {
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		return -EIO;
	}
	idx = kernel_link_index(sk, name);
	if (idx > 0 && !kernel_link_alias(sk, idx, alias, sizeof(alias)) &&
	    !strncmp(alias, d->alias_prefix, strlen(d->alias_prefix))) {
		log_info(MOD, "removing %s (%s), left from an earlier VMM",
			 name, alias);
		ret = kernel_link_delete(sk, idx);
	} else if (idx > 0) {
		snprintf(err, errlen, "interface %s exists and is not this "
			 "netd's (ifalias '%s')", name, alias);
		ret = -EEXIST;
	}
	nl_socket_free(sk);
	return ret;
}

/* Make the device @kp describes. Return: 0 or -errno (nothing left). */
static int kport_device(struct netd *d, struct netd_kport *kp, char *err,
			size_t errlen)
{
	char alias[128], dev[32];
	struct tap_args ta = { .ifname = kp->ifname, .alias = alias,
			       .offload = true };
	int ret, idx;

	snprintf(alias, sizeof(alias), "%s%s:%s", d->alias_prefix,
		 kp->net ? kp->net->conf.name : "(macvtap)", kp->name);
	if (!kp->net) {
		idx = macvtap_link_create(kp->ifname, kp->parent, kp->mode,
					  kp->mac, err, errlen);
		if (idx < 0)
			return idx;
		kp->macvtap_ifindex = idx;
		snprintf(dev, sizeof(dev), "/dev/tap%d", idx);
		ta.device = dev;
		ret = tap_dev_create(&ta, &kp->tap, err, errlen);
		if (ret < 0) {
			macvtap_link_remove(idx);
			kp->macvtap_ifindex = 0;
		}
		return ret;
	}
	ta.mtu = kp->net->conf.mtu;
	ret = tap_dev_create(&ta, &kp->tap, err, errlen);
	if (ret < 0)
		return ret;
	ret = netd_bridge_tap_join(kp->net, tap_dev_ifindex(kp->tap), kp->vlan,
				   err, errlen);
	if (ret < 0) {
		tap_dev_destroy(kp->tap);
		kp->tap = NULL;
	}
	return ret;
}

/* An older port of the same MAC or name (the VMM restarted): it goes. */
static void kport_replace(struct netd_kport *kp)
{
	for (int i = 0; i < NETD_KPORTS_MAX; i++) {
		struct netd_kport *o = kports[i];

		if (!o || o->net != kp->net ||
		    (memcmp(o->mac, kp->mac, 6) && strcmp(o->name, kp->name)))
			continue;
		log_info(MOD, "%s replaces its earlier port", kp->name);
		kport_free(o);
		kports[i] = NULL;
	}
}

struct netd_kport *netd_kport_open(struct netd *d, json_t *req, int *fd,
				   json_t **reply)
{
	json_t *id = json_object_get(req, "id");
	struct netd_kport *kp;
	char err[512] = "";
	int ret, slot = -1;

	kp = calloc(1, sizeof(*kp));
	if (!kp) {
		*reply = netd_reply_error(id, LOOM_ERR_NOSPC, "out of memory");
		return NULL;
	}
	kp->d = d;
	kp->sock = -1;
	ret = kport_args(d, json_object_get(req, "args"), kp, err,
			 sizeof(err));
	if (!ret && !d->have_net_admin) {
		snprintf(err, sizeof(err), "a kernel device for a VM NIC needs "
			 "CAP_NET_ADMIN: run loom-netd as root");
		ret = -EPERM;
	}
	if (ret)
		goto fail;
	kport_replace(kp);
	for (int i = 0; i < NETD_KPORTS_MAX && slot < 0; i++)
		if (!kports[i])
			slot = i;
	if (slot < 0) {
		snprintf(err, sizeof(err), "%d kernel VM ports: no more",
			 NETD_KPORTS_MAX);
		ret = -ENOSPC;
		goto fail;
	}
	kport_ifname(d, kp->net ? "lv" : "mv",
		     kp->net ? kp->net->conf.name : kp->parent, kp->name,
		     kp->ifname, sizeof(kp->ifname));
	ret = kport_name_claim(d, kp->ifname, err, sizeof(err));
	if (!ret)
		ret = kport_device(d, kp, err, sizeof(err));
	if (ret)
		goto fail;
	kports[slot] = kp;
	*fd = tap_dev_fd(kp->tap);
	*reply = json_pack("{s:O?,s:b,s:{s:s,s:s,s:i,s:s,s:i}}", "id", id,
			   "ok", 1, "result", "ifname", kp->ifname, "kind",
			   kp->net ? "tap" : "macvtap", "ifindex",
			   tap_dev_ifindex(kp->tap), "port", kp->name,
			   "vnet_hdr", 12);
	log_info(MOD, "%s: %s on %s (%s, VLAN %u, %s)",
		 kp->net ? kp->net->conf.name : kp->parent, kp->name,
		 kp->ifname, kp->net ? "TAP" : "macvtap", kp->vlan, kp->model);
	return kp;
fail:
	free(kp);
	*reply = netd_reply_error(id, netd_errno_code(ret), "%s",
				  err[0] ? err : strerror(-ret));
	return NULL;
}

int netd_kport_attach(struct netd_kport *kp, int sock)
{
	int ret = evloop_fd_add(kp->d->loop, sock, EPOLLIN | EPOLLRDHUP,
				kport_conn_event, kp);

	kp->sock = sock;
	if (ret < 0) {
		/* Cannot watch it: as if the VMM had gone. */
		close(sock);
		kp->sock = -1;
		kport_remove(kp);
	}
	return ret;
}

static json_t *kport_status(struct netd_kport *kp)
{
	char mac[18];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", kp->mac[0],
		 kp->mac[1], kp->mac[2], kp->mac[3], kp->mac[4], kp->mac[5]);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:i}", "net",
			 kp->net ? kp->net->conf.name : "", "name", kp->name,
			 "backend", kp->net ? "tap" : "macvtap", "mac", mac,
			 "model", kp->model, "vlan", kp->vlan, "ifname",
			 kp->ifname, "state", "up", "ifindex",
			 tap_dev_ifindex(kp->tap));
}

void netd_kport_list(struct netd *d, struct netd_net *n, json_t *arr)
{
	(void)d;
	for (int i = 0; i < NETD_KPORTS_MAX; i++)
		if (kports[i] && kports[i]->net == n)
			json_array_append_new(arr, kport_status(kports[i]));
}
