/* SPDX-License-Identifier: MIT */
/* netd_conn.h - what the NIC backends that talk to loom-netd share: its socket path, a connection. */
#ifndef LOOM_VMM_NET_NETD_CONN_H
#define LOOM_VMM_NET_NETD_CONN_H

#include <stddef.h>

#include "vmm/net/backend.h"

enum { NETD_CONN_PATH_MAX = 108 };

/*
 * netd_conn_path() - netd's control socket for @cfg: --netd-socket, else
 * RUN_DIR/netd.sock (common/rundir.h). Return: 0 or a negative errno.
 */
int netd_conn_path(const struct nic_config *cfg, char *buf, size_t len);

#endif
