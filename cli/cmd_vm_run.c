/* SPDX-License-Identifier: MIT */
/* cmd_vm_run.c - `loom vm run`: start loom-vmm in the background (or the foreground) with its control socket, console and log. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/vm.h"
#include "common/rundir.h"
#include "loom/control.h"

static const char usage_run[] =
    "Usage: loom vm run [--foreground] NAME LOOM-VMM-OPTIONS... [-- MORE...]\n"
    "\n"
    "Start loom-vmm for VM NAME with the options that follow NAME, passed\n"
    "through unchanged (loom-vmm checks them; its --help is below), e.g.\n"
    "  loom vm run web --kernel bzImage --initrd rd.img --nic net=lab\n"
    "A --kernel (or --raw) is required. loom adds --name NAME, --control\n"
    "RUN_DIR/vm/NAME.sock and, unless you give a --console, its serial\n"
    "console on the socket RUN_DIR/vm/NAME.console ('loom vm console\n"
    "NAME'); its log is RUN_DIR/vm/NAME.log, and loom returns once the VM\n"
    "answers. With --foreground loom-vmm replaces loom, its console on\n"
    "this terminal. Options after '--' go to loom-vmm after loom's own.\n"
    "loom-vmm is found as $LOOM_VMM, else next to loom, else in PATH.\n"
    "\n"
    "Options of loom itself:\n"
    "  --foreground     run in the foreground\n"
    "  -h, --help       this text, then loom-vmm's\n"
    "\n";

/* $LOOM_VMM, else loom-vmm next to this loom, else "loom-vmm" from PATH. */
static void vmm_binary(char *buf, size_t len)
{
	const char *env = getenv("LOOM_VMM");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(buf, len, "%s/loom-vmm", self) <
				len &&
			    access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, len, "loom-vmm");
}

/* loom-vmm --help, after loom's own lines: its options are not mirrored. */
static void vmm_print_help(const char *vmm)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		execlp(vmm, vmm, "--help", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
}

/* @arg is loom-vmm option @opt, as "--opt", "--opt=V" or (short) "-c". */
static bool vmm_arg_is(const char *arg, const char *opt, char short_opt)
{
	size_t l = strlen(opt);

	if (short_opt && arg[0] == '-' && arg[1] == short_opt)
		return true;
	return !strncmp(arg, "--", 2) && !strncmp(arg + 2, opt, l) &&
	       (!arg[2 + l] || arg[2 + l] == '=');
}

int vm_run(struct loom_ctx *ctx, int argc, char **argv)
{
	char vmm[PATH_MAX], sock[PATH_MAX], cons[PATH_MAX + 8], logp[PATH_MAX],
	    dir[PATH_MAX];
	const char *cmd = "vm run", *name;
	bool foreground = false, have_kernel = false, have_console = false;
	char **vargv;
	int i, nv = 0, status, fd, rc;
	long long deadline;
	json_t *reply;
	pid_t pid;

	vmm_binary(vmm, sizeof(vmm));
	/* loom's own options come before NAME; all after it go to loom-vmm. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_run, stdout);
			vmm_print_help(vmm);
			return LOOM_EXIT_OK;
		}
		if (strcmp(argv[i], "--foreground"))
			break;
		foreground = true;
	}
	if (i >= argc || argv[i][0] == '-')
		return loom_usage_err(cmd, "missing the VM NAME");
	name = argv[i++];
	if (!vm_name_ok(name))
		return loom_usage_err(cmd,
				      "NAME: 1..%d characters of A-Z a-z 0-9 _ "
				      ". - expected, got '%s'",
				      VM_NAME_MAX, name);
	vargv = calloc((size_t)argc + 16, sizeof(*vargv));
	if (!vargv)
		return LOOM_EXIT_NETD;
	vargv[nv++] = vmm;
	/*
	 * Up to "--": loom-vmm options (it checks them), loom's --foreground
	 * and --help; after "--": more loom-vmm options, after loom's own.
	 */
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--foreground")) {
			foreground = true;
			continue;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			free(vargv);
			fputs(usage_run, stdout);
			vmm_print_help(vmm);
			return LOOM_EXIT_OK;
		}
		vargv[nv++] = argv[i];
	}
	for (int j = 1; j < argc; j++) {
		have_kernel |= vmm_arg_is(argv[j], "kernel", 'k') ||
			       vmm_arg_is(argv[j], "raw", 0);
		have_console |= vmm_arg_is(argv[j], "console", 0);
	}
	if (!have_kernel) {
		free(vargv);
		return loom_usage_err(cmd, "missing --kernel BZIMAGE");
	}
	vargv[nv++] = "--name";
	vargv[nv++] = (char *)name;
	if (vm_path(ctx, name, ".sock", sock, sizeof(sock)) ||
	    vm_path(ctx, name, ".log", logp, sizeof(logp)) ||
	    vm_dir(ctx, dir, sizeof(dir))) {
		free(vargv);
		return LOOM_EXIT_USAGE;
	}
	if (snprintf(cons, sizeof(cons), "socket:%s/%s.console", dir, name) >=
	    (int)sizeof(cons)) {
		free(vargv);
		loom_err("VM console path too long");
		return LOOM_EXIT_USAGE;
	}
	vargv[nv++] = "--control";
	vargv[nv++] = sock;
	if (!foreground && !have_console) {
		vargv[nv++] = "--console";
		vargv[nv++] = cons;
	}
	for (; i < argc; i++)
		vargv[nv++] = argv[i];
	vargv[nv] = NULL;
	if (ctx->run_dir_opt)
		setenv(LOOM_RUN_DIR_ENV, ctx->run_dir_opt, 1);

	if (foreground) {
		execvp(vmm, vargv);
		loom_err("cannot run %s: %s (set LOOM_VMM to its path)", vmm,
			 strerror(errno));
		free(vargv);
		return LOOM_EXIT_USAGE;
	}
	fd = unix_connect(sock);
	if (fd >= 0) {
		close(fd);
		free(vargv);
		loom_err("VM '%s' is already running (its socket %s answers)",
			 name, sock);
		return LOOM_EXIT_NETD;
	}
	/* loom-vmm creates the directory; the log needs it first. */
	if (vm_dir_prepare(ctx, dir)) {
		free(vargv);
		return LOOM_EXIT_NETD;
	}
	pid = fork();
	if (pid < 0) {
		free(vargv);
		loom_err("fork: %s", strerror(errno));
		return LOOM_EXIT_NETD;
	}
	if (pid == 0) {
		setsid();
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, STDIN_FILENO);
		fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(vmm, vargv);
		fprintf(stderr, "cannot run %s: %s\n", vmm, strerror(errno));
		_exit(127);
	}
	free(vargv);
	deadline = vm_ms_now() + VM_START_TIMEOUT_MS;
	while (vm_ms_now() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			loom_err("loom-vmm for VM '%s' exited (status %d) "
				 "before it was up; its log %s says:",
				 name,
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				 logp);
			fd = open(logp, O_RDONLY);
			if (fd >= 0) {
				char buf[2048];
				ssize_t n = read(fd, buf, sizeof(buf) - 1);

				if (n > 0) {
					buf[n] = '\0';
					fprintf(stderr, "%s", buf);
				}
				close(fd);
			}
			/* loom-vmm refused its command line: a usage error. */
			return WIFEXITED(status) && WEXITSTATUS(status) == 2 ?
				       LOOM_EXIT_USAGE :
				       LOOM_EXIT_NETD;
		}
		if (vm_request(sock, "status", &reply) == 0) {
			json_decref(reply);
			printf("started vm %s (pid %d); console: loom vm "
			       "console %s; log: %s\n",
			       name, (int)pid, name, logp);
			return LOOM_EXIT_OK;
		}
		usleep(50 * 1000);
	}
	rc = LOOM_EXIT_UNREACHABLE;
	loom_err("VM '%s' (pid %d) did not answer on %s within %d s; see %s",
		 name, (int)pid, sock, VM_START_TIMEOUT_MS / 1000, logp);
	return rc;
}
