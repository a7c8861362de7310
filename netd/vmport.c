/* SPDX-License-Identifier: MIT */
/* vmport.c - VMM NICs on a network: shared-memory ports attached over the control socket. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/shm.h"
#include "common/evloop.h"
#include "common/log.h"
#include "netd/netd.h"

LOG_MODULE("vmport");

/* Wait for the rest of an attach request at most this long. */
enum { VM_ATTACH_TIMEOUT_MS = 500 };

static const char *const models[] = {
	[SHM_NIC_OTHER] = "other",
	[SHM_NIC_VIRTIO_NET] = "virtio-net",
	[SHM_NIC_E1000] = "e1000",
	[SHM_NIC_RTL8139] = "rtl8139",
	[SHM_NIC_VDE] = "vde",
	[SHM_NIC_RTL8139C] = "rtl8139c",
};

static const char *netd_vm_model_name(uint8_t model)
{
	return model <= SHM_NIC_MODEL_MAX ? models[model] : "?";
}

/*
 * A VDE program (libvdeplug_loom.so) has no NIC of its own to name the
 * port by: it is named after the process, as the kernel reports it
 * (SO_PEERCRED, /proc/PID/comm): "vde_plug.4242", unique while it runs.
 * Return: 0, or -1 when the peer cannot be identified.
 */
static int netd_vm_client_name(int fd, char *name, size_t len)
{
	char path[64], comm[32];
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	size_t n = 0;
	FILE *f;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    cred.pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)cred.pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			n = strcspn(comm, "\n");
		fclose(f);
	}
	/* A port name is [A-Za-z0-9._-]: anything else becomes '_'. */
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)comm[i]) && comm[i] != '.' &&
		    comm[i] != '-')
			comm[i] = '_';
	comm[n] = '\0';
	snprintf(name, len, "%.15s.%d", n ? comm : "vde", (int)cred.pid);
	return 0;
}

/* Does every VM NIC on @n take GSO and partially checksummed frames? */
bool netd_vm_gso_ok(struct netd *d, const struct netd_net *n)
{
	for (int i = 0; i < NETD_VMS_MAX; i++)
		if (d->vms[i] && d->vms[i]->net == n && !d->vms[i]->gso)
			return false;
	return true;
}

static int netd_vm_slot(struct netd *d, const struct netd_vmport *vm)
{
	for (int i = 0; i < NETD_VMS_MAX; i++)
		if (d->vms[i] == vm)
			return i;
	return -1;
}

/* Stop watching the attach connection and close it: the VMM sees EOF. */
static void netd_vm_conn_close(struct netd *d, struct netd_vmport *vm)
{
	if (vm->fd < 0)
		return;
	evloop_fd_del(d->loop, vm->fd);
	close(vm->fd);
	vm->fd = -1;
}

/*
 * A VMM's attach connection after the handshake. The VMM may close it at
 * once (shm_peer_connect() does): the port stays until the same MAC
 * attaches again, port.del removes it, or its network goes.
 */
static void netd_vm_conn_event(struct evloop *l, int fd, uint32_t ev,
			       void *arg)
{
	struct netd_vmport *vm = arg;
	uint8_t buf[256];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
	    (ev & (EPOLLHUP | EPOLLERR))) {
		/* A VDE program's port lives as long as its connection:
		 * it comes back with a new name, not the same MAC. */
		if (vm->model == SHM_NIC_VDE) {
			int slot = netd_vm_slot(vm->d, vm);

			if (slot >= 0) {
				netd_vm_detach(vm->d, slot);
				return;
			}
		}
		evloop_fd_del(l, fd);
		close(fd);
		vm->fd = -1;
	}
}

int netd_vm_attach(struct netd *d, int fd)
{
	struct shm_port_config cfg = { .features = SHM_F_ALL };
	struct switch_port_config pcfg;
	struct shm_attach_req req;
	struct shm_port_args args;
	struct netd_vmport *vm;
	struct netd_net *n;
	int slot = -1, ret, id;

	ret = shm_port_read_attach(fd, VM_ATTACH_TIMEOUT_MS, &req);
	if (ret < 0) {
		log_rl(LOG_WARN, MOD, "bad attach request: %s", strerror(-ret));
		return ret;
	}
	req.network[SHM_NETWORK_NAME_MAX - 1] = '\0';
	n = netd_net_find(d, req.network);
	if (!n) {
		log_rl(LOG_WARN, MOD, "attach to unknown network '%s'",
		       req.network);
		shm_port_reject(fd, -ENOENT);
		return -ENOENT;
	}
	/* A declared port keeps its name. */
	if (req.port[0] && netd_port_find(n, req.port) >= 0) {
		log_rl(LOG_WARN, MOD, "%s: attach as '%s': a declared port has "
		       "that name", n->conf.name, req.port);
		shm_port_reject(fd, -EEXIST);
		return -EEXIST;
	}
	/* One port per MAC and per name in a network: a VMM that attaches
	 * again (after a restart) replaces its old port. */
	for (int i = 0; i < NETD_VMS_MAX; i++)
		if (d->vms[i] && d->vms[i]->net == n &&
		    (!memcmp(d->vms[i]->mac, req.mac, 6) ||
		     (req.port[0] && !strcmp(d->vms[i]->name, req.port))))
			netd_vm_detach(d, i);
	for (int i = 0; i < NETD_VMS_MAX; i++) {
		if (!d->vms[i]) {
			slot = i;
			break;
		}
	}
	vm = calloc(1, sizeof(*vm));
	if (slot < 0 || !vm) {
		free(vm);
		shm_port_reject(fd, -ENOSPC);
		return -ENOSPC;
	}
	if (req.port[0])
		memcpy(vm->name, req.port, sizeof(vm->name));
	else if (req.model != SHM_NIC_VDE ||
		 netd_vm_client_name(fd, vm->name, sizeof(vm->name)) < 0)
		snprintf(vm->name, sizeof(vm->name), "vm-%02x%02x%02x%02x",
			 req.mac[2], req.mac[3], req.mac[4], req.mac[5]);
	vm->name[sizeof(vm->name) - 1] = '\0';
	/* A link set down by hand stays down across VMM and netd restarts:
	 * the VMM reads it in the header before it shows its guest a link. */
	cfg.link_down = netconf_link_is_down(&n->conf, vm->name);
	ret = shm_port_accept(fd, &req, &cfg, &args);
	if (ret < 0) {
		free(vm);
		return ret;
	}
	memset(&pcfg, 0, sizeof(pcfg));
	memcpy(pcfg.name, vm->name, sizeof(vm->name));
	pcfg.mode = SWITCH_PORT_ACCESS;
	pcfg.access_vlan = SWITCH_VLAN_DEFAULT;
	vm->gso = (args.layout.features & (SHM_F_GSO_TCP | SHM_F_CSUM)) ==
		  (SHM_F_GSO_TCP | SHM_F_CSUM);
	pcfg.accepts_gso = vm->gso;
	/* The VMM can still write its ring while the switch holds a frame:
	 * never forward the guest's bytes by pointer. */
	pcfg.rx_shared = true;
	id = switch_port_open(n->sw, &shm_port_ops, &args, &pcfg);
	/* open takes the args over (even when it fails), but a refusal
	 * before open (bad config, no slot) leaves them with us. Release is
	 * a no-op on args already taken. */
	shm_port_args_release(&args);
	if (id < 0) {
		log_warn(MOD, "%s: switch refused the port: %s", n->conf.name,
			 strerror(-id));
		free(vm);
		return id;
	}
	vm->d = d;
	vm->net = n;
	vm->fd = fd;
	vm->port_id = id;
	memcpy(vm->mac, req.mac, sizeof(vm->mac));
	vm->model = req.model;
	vm->dp = netd_dp_port_add(d, n->sw, (uint32_t)id);
	d->vms[slot] = vm;
	/* Cannot watch it: behave as if the VMM had closed it already. */
	if (evloop_fd_add(d->loop, fd, EPOLLIN | EPOLLRDHUP,
			  netd_vm_conn_event, vm) < 0) {
		close(fd);
		vm->fd = -1;
	}
	netd_net_sync_offload(d, n);
	log_info(MOD, "%s: %s attached (%s, MAC %02x:%02x:%02x:%02x:%02x:%02x)",
		 n->conf.name, vm->name,
		 netd_vm_model_name(req.model), req.mac[0],
		 req.mac[1], req.mac[2], req.mac[3], req.mac[4], req.mac[5]);
	return slot;
}

void netd_vm_detach(struct netd *d, int slot)
{
	struct netd_vmport *vm;
	struct netd_net *n;

	if (slot < 0 || slot >= NETD_VMS_MAX || !d->vms[slot])
		return;
	vm = d->vms[slot];
	n = vm->net;
	netd_dp_port_remove(d, vm->dp);
	switch_port_remove(vm->net->sw, (uint32_t)vm->port_id);
	log_info(MOD, "%s: %s detached", vm->net->conf.name, vm->name);
	/* Closing the socket tells the VMM its port is gone. */
	netd_vm_conn_close(d, vm);
	free(vm);
	d->vms[slot] = NULL;
	netd_net_sync_offload(d, n);
}

void netd_vm_detach_net(struct netd *d, struct netd_net *n)
{
	for (int i = 0; i < NETD_VMS_MAX; i++)
		if (d->vms[i] && d->vms[i]->net == n)
			netd_vm_detach(d, i);
}

int netd_vm_find(struct netd *d, struct netd_net *n, const char *name)
{
	for (int i = 0; i < NETD_VMS_MAX; i++)
		if (d->vms[i] && d->vms[i]->net == n &&
		    !strcmp(d->vms[i]->name, name))
			return i;
	return -1;
}

const char *netd_vm_port_name(struct netd *d, struct netd_net *n,
			      uint32_t port_id)
{
	for (int i = 0; i < NETD_VMS_MAX; i++)
		if (d->vms[i] && d->vms[i]->net == n &&
		    d->vms[i]->port_id == (int)port_id)
			return d->vms[i]->name;
	return NULL;
}

json_t *netd_vm_status(struct netd_vmport *vm)
{
	json_t *j, *c;
	char mac[18];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", vm->mac[0],
		 vm->mac[1], vm->mac[2], vm->mac[3], vm->mac[4], vm->mac[5]);
	c = netd_port_counters(vm->net->sw, (uint32_t)vm->port_id);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:i,s:o}", "net",
		      vm->net->conf.name, "name", vm->name, "backend", "shm",
		      "mac", mac, "model",
		      netd_vm_model_name(vm->model), "vlan",
		      SWITCH_VLAN_DEFAULT, "state",
		      vm->dp && atomic_load(&vm->dp->broken) ? "down" : "up",
		      "port_id", vm->port_id, "counters", c);
	if (j)
		netd_link_status(vm->net, vm->name, j);
	return j;
}
