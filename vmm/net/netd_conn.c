/* SPDX-License-Identifier: MIT */
/* netd_conn.c - loom-netd's control socket for the NIC backends: path and connect. */
#include "vmm/net/netd_conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

int netd_conn_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sock, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(sock);
		return ret;
	}
	return sock;
}
