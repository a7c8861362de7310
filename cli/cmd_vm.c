/* SPDX-License-Identifier: MIT */
/* cmd_vm.c - `loom vm`: run, list, status, stop, console of loom-vmm VMs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/loom.h"
#include "common/rundir.h"
#include "loom/control.h"

/*
 * loom-vmm serves one socket per VM, RUN_DIR/vm/NAME.sock, speaking
 * newline-delimited JSON: {"cmd":"status"} -> {"ok":true,...} or
 * {"ok":false,"error":"..."} (docs/vmm-control.md). RUN_DIR follows the same
 * rules as for loom-netd, plus loom-vmm's last resort /tmp/loom-UID.
 */

enum {
	VM_REPLY_MAX = 64 * 1024,
	VM_TIMEOUT_MS = 3000,
	VM_START_TIMEOUT_MS = 10000,
	VM_NAME_MAX = 64,
};

static const char usage_vm[] =
    "Usage: loom vm SUBCOMMAND [ARGS...]\n"
    "\n"
    "VMs run by loom-vmm, through each VM's control socket\n"
    "(RUN_DIR/vm/NAME.sock).\n"
    "\n"
    "Subcommands:\n"
    "  run NAME --kernel K [...]   start a VM in the background\n"
    "  list                        the VMs with a control socket\n"
    "  status NAME                 one VM's state, devices and counters\n"
    "  stop NAME                   stop a VM\n"
    "  pause NAME, resume NAME     pause and resume a VM's vCPUs\n"
    "  link NAME PORT up|down      a VM NIC's carrier, by hand\n"
    "  console NAME                attach to a VM's serial console\n"
    "\n"
    "Run 'loom vm SUBCOMMAND --help' for its options.\n";

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

static const char usage_list[] =
    "Usage: loom vm list [--json]\n"
    "\n"
    "List the VMs with a control socket in RUN_DIR/vm: name, state, pid,\n"
    "vCPUs, memory, uptime. A socket nobody answers on shows as\n"
    "'stale' (its VMM died without cleaning up).\n"
    "\n"
    "Options:\n"
    "  --json       print {\"vms\": [status objects]}\n"
    "  -h, --help   this text\n";

static const char usage_status[] =
    "Usage: loom vm status NAME [--json]\n"
    "\n"
    "Show VM NAME's state, kernel, console, PCI devices and exit counters.\n"
    "\n"
    "Options:\n"
    "  --json       print {\"status\": {...}, \"counters\": {...}}\n"
    "  -h, --help   this text\n";

static const char usage_stop[] =
    "Usage: loom vm stop NAME [--json]\n"
    "\n"
    "Stop VM NAME (loom-vmm exits with status 3) and wait up to 3 s for\n"
    "its control socket to go away.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-vmm's reply as JSON\n"
    "  -h, --help   this text\n";

static const char usage_console[] =
    "Usage: loom vm console NAME\n"
    "\n"
    "Attach this terminal to VM NAME's serial console (loom-vmm started\n"
    "with --console socket:PATH, as 'loom vm run' does). Type Ctrl-] to\n"
    "detach; the VM keeps running.\n"
    "\n"
    "Options:\n"
    "  -h, --help   this text\n";

enum {
	OPT_JSON = 1000,
};

/* RUN_DIR/vm, as loom-vmm's control_default_dir() places it. */
static int vm_dir(const struct loom_ctx *ctx, char *buf, size_t len)
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
static int vm_dir_prepare(const struct loom_ctx *ctx, const char *dir)
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

static bool vm_name_ok(const char *name)
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

static int vm_path(const struct loom_ctx *ctx, const char *name,
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

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects to a Unix stream socket; Return: fd or -errno. */
static int unix_connect(const char *path)
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
static int vm_request_json(const char *path, const char *json, json_t **reply)
{
	long long deadline = ms_now() + VM_TIMEOUT_MS;
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
		left = (int)(deadline - ms_now());
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
static int vm_request(const char *path, const char *cmd, json_t **reply)
{
	char json[96];

	snprintf(json, sizeof(json), "{\"cmd\":\"%s\"}", cmd);
	return vm_request_json(path, json, reply);
}

/* @cmd: a command name, or a whole request object ("{...}"). */
static int vm_call(const struct loom_ctx *ctx, const char *name,
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
static int vm_parse(struct loom_ctx *ctx, const char *cmd, const char *usage,
		    int argc, char **argv, int npos)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_JSON) {
			ctx->json = true;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return LOOM_EXIT_OK;
		} else {
			return loom_opt_err(cmd, argv, c);
		}
	}
	if (argc - optind < npos)
		return loom_usage_err(cmd, "missing the VM NAME");
	if (argc - optind > npos)
		return loom_usage_err(cmd, "unexpected argument '%s'",
				      argv[optind + npos]);
	return -1;
}

static void fmt_mem(const json_t *o, char *buf, size_t len)
{
	json_int_t b = json_integer_value(json_object_get(o, "mem_bytes"));

	if (b >= 1LL << 30 && !(b % (1LL << 30)))
		snprintf(buf, len, "%lldG", (long long)(b >> 30));
	else if (b >= 1LL << 20)
		snprintf(buf, len, "%lldM", (long long)(b >> 20));
	else
		snprintf(buf, len, "%lld", (long long)b);
}

static void fmt_uptime(const json_t *o, char *buf, size_t len)
{
	const json_t *v = json_object_get(o, "uptime_s");

	if (json_is_number(v))
		snprintf(buf, len, "%.0fs", json_number_value(v));
	else
		snprintf(buf, len, "-");
}

static const char *jstr_or(const json_t *o, const char *key)
{
	const char *s = jstr(o, key);

	return s ? s : "-";
}

/* A VM's NICs in one cell: "NET/PORT/MAC" each, comma separated. */
static void fmt_nics(const json_t *o, char *buf, size_t len)
{
	const json_t *v;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(o, "nics"), i, v)
	{
		int n = snprintf(buf + used, len - used, "%s%s/%s/%s",
				 i ? "," : "", jstr_or(v, "net"),
				 jstr_or(v, "port"), jstr_or(v, "mac"));

		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

static int vm_list(struct loom_ctx *ctx, int argc, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + 256], name[256], mem[24], up[24],
	    pid[24], cpus[24], nics[512];
	json_t *all, *reply, *v;
	bool any_nic = false;
	struct dirent *de;
	struct table t;
	size_t len, i;
	DIR *d;
	int rc;

	rc = vm_parse(ctx, "vm list", usage_list, argc, argv, 0);
	if (rc >= 0)
		return rc;
	if (vm_dir(ctx, dir, sizeof(dir)))
		return LOOM_EXIT_USAGE;
	all = json_array();
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		len = strlen(de->d_name);
		if (len <= 5 || len >= sizeof(name) ||
		    strcmp(de->d_name + len - 5, ".sock"))
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (vm_request(path, "status", &reply) == 0 &&
		    json_is_true(json_object_get(reply, "ok"))) {
			json_object_del(reply, "ok");
			any_nic |= json_array_size(json_object_get(reply,
								   "nics")) > 0;
		} else {
			json_decref(reply);
			reply = json_pack("{s:s, s:s}", "name", name, "state",
					  "stale");
		}
		if (!json_object_get(reply, "name") ||
		    !json_string_length(json_object_get(reply, "name")))
			json_object_set_new(reply, "name", json_string(name));
		json_array_append_new(all, reply);
	}
	if (d)
		closedir(d);
	if (ctx->json) {
		reply = json_pack("{s:o}", "vms", all);
		loom_print_json(reply);
		json_decref(reply);
		return LOOM_EXIT_OK;
	}
	/* The NICS column only when some VM has a NIC. */
	table_init(&t, any_nic ? 8 : 7, "NAME", "STATE", "PID", "CPUS", "MEM",
		   "UPTIME", "CONSOLE", "NICS");
	json_array_foreach(all, i, v)
	{
		const char *state = jstr(v, "state");

		if (state && !strcmp(state, "stale")) {
			table_add(&t, jstr(v, "name"), "stale", "-", "-", "-",
				  "-", "-", "-");
			continue;
		}
		fmt_mem(v, mem, sizeof(mem));
		fmt_uptime(v, up, sizeof(up));
		fmt_nics(v, nics, sizeof(nics));
		table_add(&t, jstr(v, "name"), jstr(v, "state"),
			  jint(v, "pid", pid), jint(v, "cpus", cpus), mem, up,
			  jstr(v, "console"), nics[0] ? nics : "-");
	}
	table_print(&t);
	table_free(&t);
	json_decref(all);
	return LOOM_EXIT_OK;
}

static int vm_status(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *st, *cnt = NULL, *v, *out;
	char path[PATH_MAX];
	const char *key;
	char b[24];
	size_t i;
	int rc;

	rc = vm_parse(ctx, "vm status", usage_status, argc, argv, 1);
	if (rc >= 0)
		return rc;
	rc = vm_call(ctx, argv[optind], "status", &st);
	if (rc)
		return rc;
	/* Counters are extra: a VMM without them still has a status. */
	if (vm_path(ctx, argv[optind], ".sock", path, sizeof(path)) == 0 &&
	    vm_request(path, "counters", &cnt) == 0 &&
	    !json_is_object(json_object_get(cnt, "counters"))) {
		json_decref(cnt);
		cnt = NULL;
	}
	if (ctx->json) {
		out = json_pack("{s:O, s:O}", "status", st, "counters",
				cnt ? json_object_get(cnt, "counters")
				    : json_null());
		loom_print_json(out);
		json_decref(out);
		goto done;
	}
	printf("vm %s\n", argv[optind]);
	json_object_foreach(st, key, v)
	{
		if (json_is_string(v))
			printf("  %-10s %s\n", key, json_string_value(v));
		else if (json_is_number(v))
			printf("  %-10s %s\n", key, jint(st, key, b));
	}
	if (json_array_size(json_object_get(st, "pci"))) {
		struct table t;
		char slot[24];

		printf("\n");
		table_init(&t, 4, "SLOT", "DEVICE", "ID", "STATE");
		json_array_foreach(json_object_get(st, "pci"), i, v) table_add(
		    &t, jint(v, "slot", slot), jstr(v, "name"), jstr(v, "id"),
		    json_is_true(json_object_get(v, "broken"))
			? jstr(v, "reason")
			: "ok");
		table_print(&t);
		table_free(&t);
	}
	if (json_array_size(json_object_get(st, "nics"))) {
		struct table t;

		printf("\n");
		table_init(&t, 6, "NETWORK", "PORT", "MAC", "MODEL", "BACKEND",
			   "LINK");
		json_array_foreach(json_object_get(st, "nics"), i, v)
		    table_add(&t, jstr(v, "net"), jstr(v, "port"),
			      jstr(v, "mac"), jstr(v, "model"),
			      jstr(v, "backend"), jstr(v, "link"));
		table_print(&t);
		table_free(&t);
	}
	if (cnt && json_object_get(cnt, "counters")) {
		printf("\n");
		json_object_foreach(json_object_get(cnt, "counters"), key, v)
		    printf("  %-18s %lld\n", key,
			   (long long)json_integer_value(v));
	}
done:
	json_decref(st);
	json_decref(cnt);
	return LOOM_EXIT_OK;
}

static int vm_stop(struct loom_ctx *ctx, int argc, char **argv)
{
	char path[PATH_MAX];
	long long deadline;
	json_t *reply;
	int rc, fd;

	rc = vm_parse(ctx, "vm stop", usage_stop, argc, argv, 1);
	if (rc >= 0)
		return rc;
	rc = vm_call(ctx, argv[optind], "stop", &reply);
	if (rc)
		return rc;
	if (ctx->json)
		loom_print_json(reply);
	json_decref(reply);
	/* The VMM unlinks its socket on the way out. */
	if (vm_path(ctx, argv[optind], ".sock", path, sizeof(path)))
		return LOOM_EXIT_USAGE;
	deadline = ms_now() + VM_TIMEOUT_MS;
	while (ms_now() < deadline) {
		fd = unix_connect(path);
		if (fd < 0)
			break;
		close(fd);
		usleep(50 * 1000);
	}
	if (!ctx->json)
		printf("stopped vm %s\n", argv[optind]);
	return LOOM_EXIT_OK;
}

static const char usage_pause[] =
    "Usage: loom vm pause NAME [--json]\n"
    "\n"
    "Pause VM NAME's vCPUs (its devices stay live); 'loom vm resume NAME'\n"
    "continues it.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-vmm's reply as JSON\n"
    "  -h, --help   this text\n";

static const char usage_resume[] =
    "Usage: loom vm resume NAME [--json]\n"
    "\n"
    "Resume VM NAME after 'loom vm pause'.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-vmm's reply as JSON\n"
    "  -h, --help   this text\n";

/* pause and resume: one request, the new state printed. */
static int vm_state_cmd(struct loom_ctx *ctx, int argc, char **argv,
			const char *cmd, const char *usage)
{
	char label[32];
	json_t *reply;
	int rc;

	snprintf(label, sizeof(label), "vm %s", cmd);
	rc = vm_parse(ctx, label, usage, argc, argv, 1);
	if (rc >= 0)
		return rc;
	rc = vm_call(ctx, argv[optind], cmd, &reply);
	if (rc)
		return rc;
	if (ctx->json)
		loom_print_json(reply);
	else
		printf("vm %s: %s\n", argv[optind],
		       jstr(reply, "state") ? jstr(reply, "state") : "ok");
	json_decref(reply);
	return LOOM_EXIT_OK;
}

static const char usage_link[] =
    "Usage: loom vm link NAME PORT up|down [--json]\n"
    "\n"
    "Set the carrier of VM NAME's NIC PORT (its port name, as 'loom vm\n"
    "status NAME' lists it) by hand: down, the guest sees its link go\n"
    "down (/sys/class/net/eth0/carrier 0) and nothing passes; up, the\n"
    "link follows netd's port again.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-vmm's reply as JSON\n"
    "  -h, --help   this text\n";

static int vm_link(struct loom_ctx *ctx, int argc, char **argv)
{
	const char *port, *state;
	char req[160];
	json_t *reply;
	int rc;

	rc = vm_parse(ctx, "vm link", usage_link, argc, argv, 3);
	if (rc >= 0)
		return rc;
	port = argv[optind + 1];
	state = argv[optind + 2];
	if (strcmp(state, "up") && strcmp(state, "down"))
		return loom_usage_err("vm link", "want up or down, got '%s'",
				      state);
	if (!vm_name_ok(port) || strlen(port) > 31)
		return loom_usage_err("vm link", "'%s' is not a port name",
				      port);
	snprintf(req, sizeof(req),
		 "{\"cmd\":\"link\",\"port\":\"%s\",\"up\":%s}", port,
		 strcmp(state, "up") ? "false" : "true");
	rc = vm_call(ctx, argv[optind], req, &reply);
	if (rc)
		return rc;
	if (ctx->json)
		loom_print_json(reply);
	else
		printf("vm %s: %s link %s\n", argv[optind], port,
		       jstr(reply, "link") ? jstr(reply, "link") : state);
	json_decref(reply);
	return LOOM_EXIT_OK;
}

static int vm_pause(struct loom_ctx *ctx, int argc, char **argv)
{
	return vm_state_cmd(ctx, argc, argv, "pause", usage_pause);
}

static int vm_resume(struct loom_ctx *ctx, int argc, char **argv)
{
	return vm_state_cmd(ctx, argc, argv, "resume", usage_resume);
}

/* Relays between the terminal and the console socket until Ctrl-]. */
static int console_relay(int fd)
{
	struct pollfd pfd[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
				{.fd = fd, .events = POLLIN}};
	struct termios old, raw;
	bool tty = isatty(STDIN_FILENO);
	char buf[4096];
	ssize_t n, i;
	int rc = LOOM_EXIT_OK;

	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		raw = old;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		tty = false;
	}
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				/* End of input: keep showing output. */
				pfd[0].fd = -1;
				shutdown(fd, SHUT_WR);
			} else {
				for (i = 0; i < n; i++)
					if (buf[i] == 0x1d) /* Ctrl-] */
						break;
				if (i &&
				    send(fd, buf, (size_t)i, MSG_NOSIGNAL) < 0)
					break;
				if (i < n)
					break;
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0) {
				if (tty)
					tcsetattr(STDIN_FILENO, TCSANOW, &old);
				tty = false;
				fprintf(stderr, "\r\nloom: console closed\n");
				break;
			}
			if (write(STDOUT_FILENO, buf, (size_t)n) != n)
				break;
		}
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fprintf(stderr, "\r\nloom: detached\n");
	}
	return rc;
}

static int vm_console(struct loom_ctx *ctx, int argc, char **argv)
{
	char conv[PATH_MAX + 8];
	const char *console;
	json_t *st;
	int rc, fd;

	rc = vm_parse(ctx, "vm console", usage_console, argc, argv, 1);
	if (rc >= 0)
		return rc;
	rc = vm_call(ctx, argv[optind], "status", &st);
	if (rc)
		return rc;
	console = jstr(st, "console");
	if (!console) {
		/* Not reported: the path 'loom vm run' uses by convention. */
		if (vm_path(ctx, argv[optind], ".console", conv + 7,
			    sizeof(conv) - 7)) {
			json_decref(st);
			return LOOM_EXIT_USAGE;
		}
		memcpy(conv, "socket:", 7);
		console = conv;
	}
	if (strncmp(console, "socket:", 7)) {
		loom_err(
		    "VM '%s' has no console socket (its console is %s); start "
		    "it with 'loom vm run' or loom-vmm --console socket:PATH",
		    argv[optind], console ? console : "not reported");
		json_decref(st);
		return LOOM_EXIT_NETD;
	}
	fd = unix_connect(console + 7);
	if (fd < 0) {
		loom_err("cannot attach to VM '%s' console at %s: %s (is "
			 "another client attached?)",
			 argv[optind], console + 7, strerror(-fd));
		json_decref(st);
		return LOOM_EXIT_UNREACHABLE;
	}
	if (isatty(STDIN_FILENO))
		fprintf(
		    stderr,
		    "loom: attached to VM %s's console; Ctrl-] detaches\r\n",
		    argv[optind]);
	json_decref(st);
	rc = console_relay(fd);
	close(fd);
	return rc;
}

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

static int vm_run(struct loom_ctx *ctx, int argc, char **argv)
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
	deadline = ms_now() + VM_START_TIMEOUT_MS;
	while (ms_now() < deadline) {
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

static const struct loom_cmd vm_cmds[] = {
    {"run", vm_run, "start a VM"},
    {"list", vm_list, "list VMs"},
    {"ls", vm_list, "list VMs"},
    {"status", vm_status, "a VM's status"},
    {"show", vm_status, "a VM's status"},
    {"stop", vm_stop, "stop a VM"},
    {"console", vm_console, "attach to a console"},
    {"pause", vm_pause, "pause a VM"},
    {"link", vm_link, "set a VM NIC's carrier by hand"},
    {"resume", vm_resume, "resume a VM"},
    {NULL, NULL, NULL},
};

int cmd_vm(struct loom_ctx *ctx, int argc, char **argv)
{
	return loom_dispatch(ctx, "vm", vm_cmds, usage_vm, argc, argv);
}
