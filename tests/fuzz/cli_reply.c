/* SPDX-License-Identifier: MIT */
/* cli_reply.c - fuzz the loom client's side of both protocols: netd's framed replies and a VMM's reply lines, through to what the commands print. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * loom_dispatch() lives in cli/main.c next to main(): the file is compiled
 * into this target with its main() renamed, the rest of the client links
 * from its objects.
 */
int loom_cli_main(int argc, char **argv);
#define main loom_cli_main
#include "cli/main.c"
#undef main

#include "loom/control.h"
#include "tests/fuzz/fd_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: byte 0 picks a command line from the table below; the rest is
 * what the other side answers.
 *   netd commands: the bytes netd's socket delivers (frames of a
 *   big-endian u32 length and JSON), on a socketpair whose other end was
 *   filled and then shut: loom sends its request, reads the reply, checks
 *   its id and prints the result or the error.
 *   vm commands: a VMM's control socket in a private run dir, served by a
 *   thread that answers each connection with the next line of the input
 *   (up to and including its newline; the rest if none), then closes.
 * While a command runs, the FILE *s stdout and stderr point at /dev/null
 * (fds 1 and 2 stay, so sanitizer and libFuzzer reports still show).
 *
 * Checked: the client returns one of its exit statuses, and every request
 * it sent to netd is one well-formed frame with an integer id and a cmd.
 */
enum { INPUT_MAX = 1 << 16 };

static const char *const cmdlines[][8] = {
	{ "net", "list" },
	{ "net", "list", "--json" },
	{ "net", "show", "lab" },
	{ "net", "show", "lab", "--json" },
	{ "net", "create", "lab", "--mode", "switch", "--subnet", "10.9.0.0/24" },
	{ "net", "delete", "lab" },
	{ "net", "apply", "@NETFILE" },
	{ "port", "add", "lab", "--tap", "lm-a", "--vlan", "10" },
	{ "port", "del", "lab", "lm-a" },
	{ "port", "list" },
	{ "port", "list", "lab", "--json" },
	{ "fdb", "show", "lab" },
	{ "fdb", "flush", "lab", "--port", "lm-a" },
	{ "status" },
	{ "status", "--json" },
	{ "vm", "list" },
	{ "vm", "list", "--json" },
	{ "vm", "status", "fz" },
	{ "vm", "status", "fz", "--json" },
	{ "vm", "pause", "fz" },
	{ "vm", "resume", "fz" },
};
#define NCOMMANDS (sizeof(cmdlines) / sizeof(cmdlines[0]))

static char run_dir[64], net_file[96], vm_sock[108];
static FILE *devnull;

/* The fake VMM: one reply line per connection from the current input. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const uint8_t *data;
	size_t left;
	bool busy;
	int listen_fd;
} vmm = { .lock = PTHREAD_MUTEX_INITIALIZER,
	  .cond = PTHREAD_COND_INITIALIZER,
	  .listen_fd = -1 };

static void *vmm_thread(void *arg)
{
	for (;;) {
		int c = accept4(vmm.listen_fd, NULL, NULL, SOCK_CLOEXEC);
		struct pollfd pfd = { .events = POLLIN };
		char req[256];
		size_t got = 0, n = 0;

		if (c < 0)
			continue;
		pthread_mutex_lock(&vmm.lock);
		vmm.busy = true;
		pthread_mutex_unlock(&vmm.lock);
		/* The request line first, as loom-vmm reads it. */
		pfd.fd = c;
		while (got < sizeof(req) && !memchr(req, '\n', got) &&
		       poll(&pfd, 1, 1000) > 0) {
			ssize_t r = recv(c, req + got, sizeof(req) - got, 0);

			if (r <= 0)
				break;
			got += (size_t)r;
		}
		pthread_mutex_lock(&vmm.lock);
		if (vmm.left) {
			const uint8_t *nl = memchr(vmm.data, '\n', vmm.left);

			n = nl ? (size_t)(nl - vmm.data) + 1 : vmm.left;
		}
		if (n && send(c, vmm.data, n, MSG_NOSIGNAL) < 0) {
			/* the client gave up: fine */
		}
		vmm.data += n;
		vmm.left -= n;
		close(c);
		vmm.busy = false;
		pthread_cond_broadcast(&vmm.cond);
		pthread_mutex_unlock(&vmm.lock);
	}
	return NULL;
}

static void cleanup(void)
{
	unlink(vm_sock);
	unlink(net_file);
	snprintf(net_file, sizeof(net_file), "%s/vm", run_dir);
	rmdir(net_file);
	rmdir(run_dir);
}

static void setup(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t t;
	FILE *f;

	if (devnull)
		return;
	devnull = fopen("/dev/null", "w");
	snprintf(run_dir, sizeof(run_dir), "/tmp/loom-fuzz-cli-XXXXXX");
	if (!devnull || !mkdtemp(run_dir))
		abort();
	snprintf(net_file, sizeof(net_file), "%s/vm", run_dir);
	if (mkdir(net_file, 0700) < 0)
		abort();
	snprintf(vm_sock, sizeof(vm_sock), "%s/vm/fz.sock", run_dir);
	snprintf(net_file, sizeof(net_file), "%s/net.yaml", run_dir);
	f = fopen(net_file, "w");
	if (!f)
		abort();
	fputs("networks:\n  - name: lab\n    mode: switch\n"
	      "    subnet: 10.9.0.0/24\n    ports:\n      - tap: lm-a\n",
	      f);
	fclose(f);
	memcpy(sa.sun_path, vm_sock, strlen(vm_sock) + 1);
	vmm.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vmm.listen_fd < 0 ||
	    bind(vmm.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(vmm.listen_fd, 8) < 0 ||
	    pthread_create(&t, NULL, vmm_thread, NULL))
		abort();
	atexit(cleanup);
}

/* What loom sent to netd: whole frames, each an object with id and cmd. */
static void check_requests(int fd)
{
	static uint8_t buf[LOOM_CONTROL_HDR_LEN + LOOM_CONTROL_MSG_MAX];
	size_t got = 0, off = 0;
	ssize_t n;

	while (got < sizeof(buf) &&
	       (n = recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	while (off < got) {
		uint32_t len;
		json_t *req;

		if (got - off < 4)
			abort();
		len = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
		      (uint32_t)buf[off + 2] << 8 | buf[off + 3];
		if (!len || len > LOOM_CONTROL_MSG_MAX || got - off - 4 < len)
			abort();
		req = json_loadb((const char *)buf + off + 4, len,
				 JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(req) ||
		    !json_is_integer(json_object_get(req, "id")) ||
		    !json_is_string(json_object_get(req, "cmd")))
			abort();
		json_decref(req);
		off += 4 + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loom_ctx ctx = { .fd = -1 };
	const char *const *cmd;
	char *argv[9];
	FILE *saved_out, *saved_err;
	int argc = 0, rc, sv[2] = { -1, -1 };
	bool vm;

	if (size < 1 || size > INPUT_MAX)
		return 0;
	setup();
	cmd = cmdlines[data[0] % NCOMMANDS];
	vm = !strcmp(cmd[0], "vm");
	data++;
	size--;
	while (argc < 8 && cmd[argc]) {
		argv[argc] = (char *)(strcmp(cmd[argc], "@NETFILE") ?
					      cmd[argc] :
					      net_file);
		argc++;
	}
	argv[argc] = NULL;
	ctx.run_dir_opt = run_dir;
	if (vm) {
		pthread_mutex_lock(&vmm.lock);
		vmm.data = data;
		vmm.left = size;
		pthread_mutex_unlock(&vmm.lock);
	} else {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			abort();
		if (size && send(sv[1], data, size, MSG_DONTWAIT) < 0)
			abort();
		shutdown(sv[1], SHUT_WR);
		ctx.fd = sv[0];
	}
	saved_out = stdout;
	saved_err = stderr;
	stdout = stderr = devnull;
	optind = 0;
	if (!strcmp(cmd[0], "net"))
		rc = cmd_net(&ctx, argc, argv);
	else if (!strcmp(cmd[0], "port"))
		rc = cmd_port(&ctx, argc, argv);
	else if (!strcmp(cmd[0], "fdb"))
		rc = cmd_fdb(&ctx, argc, argv);
	else if (!strcmp(cmd[0], "status"))
		rc = cmd_status(&ctx, argc, argv);
	else
		rc = cmd_vm(&ctx, argc, argv);
	fflush(devnull);
	stdout = saved_out;
	stderr = saved_err;
	if (rc < LOOM_EXIT_OK || rc > LOOM_EXIT_FILE)
		abort();
	if (vm) {
		/* Let the fake VMM finish with its connection. */
		pthread_mutex_lock(&vmm.lock);
		while (vmm.busy)
			pthread_cond_wait(&vmm.cond, &vmm.lock);
		vmm.left = 0;
		pthread_mutex_unlock(&vmm.lock);
	} else {
		check_requests(sv[1]);
		client_close(&ctx);
		close(sv[1]);
	}
	fd_check_no_leak();
	return 0;
}
