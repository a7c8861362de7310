/* SPDX-License-Identifier: MIT */
/* vm_ctl.c - a VM's control socket as `loom vm` reaches it: RUN_DIR/vm, names, one request and its reply. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/vm.h"
#include "common/rundir.h"

/* RUN_DIR/vm, as loom-vmm's control_default_dir() places it. */
int vm_dir(const struct loom_ctx *ctx, char *buf, size_t len)
{
	struct rundir run;
	char msg[512];

	if (rundir_resolve(ctx->run_dir_opt, &run) ||
	    rundir_join(&run, "vm", buf, len)) {
		loom_err("VM directory path too long");
		return -1;
	}
	if (rundir_check(&run, msg, sizeof(msg))) {
		loom_err("%s", msg);
		return -1;
	}
	return 0;
}

/* Creates RUN_DIR (checked as loom-netd does) and RUN_DIR/vm (0700). */
int vm_dir_prepare(const struct loom_ctx *ctx, const char *dir)
{
	struct rundir run;
	char msg[512];

	if (rundir_resolve(ctx->run_dir_opt, &run) ||
	    rundir_prepare(&run, msg, sizeof(msg))) {
		loom_err("%s", msg);
		return -1;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		loom_err("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

bool vm_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > VM_NAME_MAX || name[0] == '.')
		return false;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
		      name[i] == '.' || name[i] == '-'))
			return false;
	return true;
}

int vm_path(const struct loom_ctx *ctx, const char *name,
		   const char *suffix, char *buf, size_t len)
{
	char dir[PATH_MAX];
	int n;

	if (vm_dir(ctx, dir, sizeof(dir)))
		return -1;
	n = snprintf(buf, len, "%s/%s%s", dir, name, suffix);
	if (n < 0 || (size_t)n >= len) {
		loom_err("VM socket path too long");
		return -1;
	}
	return 0;
}

long long vm_ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects to a Unix stream socket; Return: fd or -errno. */
int unix_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/*
 * One request on a VM socket: {"cmd": CMD} and its one-line reply.
 * Return: 0 with *reply set, or -errno (-EPROTO for a malformed reply).
 */
/* One request object (without its newline), one reply. */
int vm_request_json(const char *path, const char *json, json_t **reply)
{
	long long deadline = vm_ms_now() + VM_TIMEOUT_MS;
	struct pollfd pfd = {.events = POLLIN};
	char *buf = NULL, *nl = NULL, req[256];
	size_t got = 0;
	ssize_t n;
	int fd, rc, left;

	*reply = NULL;
	n = snprintf(req, sizeof(req), "%s\n", json);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -EINVAL;
	fd = unix_connect(path);
	if (fd < 0)
		return fd;
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		rc = -errno;
		goto out;
	}
	buf = malloc(VM_REPLY_MAX + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	pfd.fd = fd;
	while (!nl) {
		left = (int)(deadline - vm_ms_now());
		if (left <= 0 || got == VM_REPLY_MAX) {
			rc = got == VM_REPLY_MAX ? -EPROTO : -ETIMEDOUT;
			goto out;
		}
		if (poll(&pfd, 1, left) < 0 && errno != EINTR) {
			rc = -errno;
			goto out;
		}
		n = recv(fd, buf + got, VM_REPLY_MAX - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			rc = n ? -errno : -ECONNRESET;
			goto out;
		}
		nl = memchr(buf + got, '\n', (size_t)n);
		got += (size_t)n;
	}
	*reply = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
	rc = json_is_object(*reply) ? 0 : -EPROTO;
	if (rc) {
		json_decref(*reply);
		*reply = NULL;
	}
out:
	free(buf);
	close(fd);
	return rc;
}

/* vm_request() with messages for a person. Return: a loom_exit value. */
int vm_request(const char *path, const char *cmd, json_t **reply)
{
	char json[96];

	snprintf(json, sizeof(json), "{\"cmd\":\"%s\"}", cmd);
	return vm_request_json(path, json, reply);
}

/* @cmd: a command name, or a whole request object ("{...}"). */
int vm_call(const struct loom_ctx *ctx, const char *name,
		   const char *cmd, json_t **reply)
{
	char path[PATH_MAX];
	const char *msg;
	int rc;

	if (!vm_name_ok(name)) {
		loom_err("'%s' is not a VM name", name);
		return LOOM_EXIT_USAGE;
	}
	if (vm_path(ctx, name, ".sock", path, sizeof(path)))
		return LOOM_EXIT_USAGE;
	rc = cmd[0] == '{' ? vm_request_json(path, cmd, reply) :
			     vm_request(path, cmd, reply);
	if (!rc && !ctx->json)
		json_make_printable(*reply);
	if (rc == -EPROTO) {
		loom_err("VM '%s' at %s sent a malformed reply", name, path);
		return LOOM_EXIT_UNREACHABLE;
	}
	if (rc) {
		loom_err("cannot reach VM '%s' at %s: %s (is it running? see "
			 "'loom vm list')",
			 name, path, strerror(-rc));
		return LOOM_EXIT_UNREACHABLE;
	}
	if (!json_is_true(json_object_get(*reply, "ok"))) {
		msg = jstr(*reply, "error");
		loom_err("VM '%s': %s", name, msg ? msg : "request refused");
		json_decref(*reply);
		*reply = NULL;
		return LOOM_EXIT_NETD;
	}
	json_object_del(*reply, "ok");
	return LOOM_EXIT_OK;
}

/* Parses --json/--help and exactly @npos positionals; -1 to go on. */
int vm_parse(struct loom_ctx *ctx, const char *cmd, const char *usage,
	     int argc, char **argv, int npos)
{
	return loom_parse_simple(ctx, cmd, usage, argc, argv, npos, npos,
				 "the VM NAME");
}
