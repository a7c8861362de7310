/* SPDX-License-Identifier: MIT */
/* netd_conn.c - loom-netd's control socket for the NIC backends: path and connect. */
#include "vmm/net/netd_conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/rundir.h"
#include "loom/control.h"

LOG_MODULE("nic-netd");

int netd_conn_path(const struct nic_config *cfg, char *buf, size_t len)
{
	struct rundir run;
	char msg[512];
	int n;

	if (cfg->netd_sock && cfg->netd_sock[0]) {
		n = snprintf(buf, len, "%s", cfg->netd_sock);
		return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
	}
	if (rundir_resolve(NULL, &run))
		return -ENAMETOOLONG;
	if (rundir_check(&run, msg, sizeof(msg))) {
		log_err(MOD, "%s", msg);
		return -EPERM;
	}
	return rundir_join(&run, LOOM_CONTROL_SOCKET, buf, len);
}
