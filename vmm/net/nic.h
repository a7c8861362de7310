/* SPDX-License-Identifier: MIT */
/* nic.h - --nic options, the NIC model table, and the VM's list of NICs. */
#ifndef LOOM_VMM_NET_NIC_H
#define LOOM_VMM_NET_NIC_H

#include <jansson.h>
#include <stddef.h>

#include "vmm/net/backend.h"

struct vm;

enum {
	NIC_MAX = 8,	     /* --nic options per VM */
	NIC_PORT_NAME_MAX = 31, /* netd port names (NETCONF_NAME_MAX - 1) */
};

/*
 * struct nic_model - one NIC model, one line in nic_models[] (nic.c).
 * @name: what --nic model=NAME says ("virtio", "e1000", "rtl8139").
 * @create: make the device on @vm's PCI bus for @cfg (defaults filled
 *	in), open its backend (nic_backend_open()), watch its notify fd,
 *	and nic_list_add() it. Return 0 or a negative errno.
 */
struct nic_model {
	const char *name;
	int (*create)(struct vm *vm, const struct nic_config *cfg);
};

/*
 * nic_config_parse() - parse one --nic value
 * "net=NAME[,model=M][,mac=MAC][,port=PORT][,backend=B]".
 * @vm_name: the VM's --name (NULL: none; then mac= and port= are needed).
 * @index: how many --nic came before this one.
 * @netd_sock: --netd-socket, or NULL.
 * Fills the defaults (model virtio, MAC from the VM and port names, port
 * VMNAME or VMNAME.N). Return: 0, or -EINVAL with @err set.
 */
int nic_config_parse(struct nic_config *cfg, const char *arg,
		     const char *vm_name, unsigned int index,
		     const char *netd_sock, char *err, size_t errlen);

/* nic_default_mac() - the stable locally administered MAC of a NIC. */
void nic_default_mac(const char *vm_name, const char *port, uint8_t mac[6]);

/* nic_create() - the model @cfg names creates the NIC. */
int nic_create(struct vm *vm, const struct nic_config *cfg);

/* nic_model_find() - the model row of that name, or NULL. */
const struct nic_model *nic_model_find(const char *name);

/*
 * The VM's NICs, for the control socket's status: a model adds each NIC
 * it created with its backend (kept by pointer, for the VM's lifetime).
 */
int nic_list_add(const struct nic_config *cfg, struct nic_backend *nb);
void nic_list_remove(const struct nic_backend *nb);
/* nic_list_set_admin() - nic_backend_set_admin() on the NIC with that
 * port name. Return: 0, -ENOENT, or its error. */
int nic_list_set_admin(const char *port, bool up);
json_t *nic_list_status(void);

/* The device table's row (vmm/device.c): --nic, repeatable. */
struct vmm_device;
extern const struct vmm_device nic_device;

/* nic_mac_format() - "52:4c:..." into @buf (18 bytes). */
void nic_mac_format(const uint8_t mac[6], char buf[18]);

#endif
