/* SPDX-License-Identifier: MIT */
/* cmd_vm.c - `loom vm`: list, status, stop, pause, link and console of loom-vmm VMs (run: cmd_vm_run.c). */
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
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/loom.h"
#include "cli/vm.h"
#include "common/rundir.h"
#include "loom/control.h"

/*
 * loom-vmm serves one socket per VM, RUN_DIR/vm/NAME.sock, speaking
 * newline-delimited JSON: {"cmd":"status"} -> {"ok":true,...} or
 * {"ok":false,"error":"..."} (docs/vmm-control.md). RUN_DIR follows the same
 * rules as for loom-netd, plus loom-vmm's last resort /tmp/loom-UID.
 */


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

/*
 * Each NIC's address from loom-netd's DHCP leases, as virsh domifaddr
 * shows it: "address" set on every NIC (of the status objects in @vms)
 * whose MAC holds a bound lease on its network. Quiet: without netd, or
 * without a lease, a NIC simply has none.
 */
static void vm_nic_addresses(struct loom_ctx *ctx, json_t *vms)
{
	json_t *res = NULL, *vm, *nic, *l;
	size_t i, j, k;
	bool json = ctx->json;

	loom_err_quiet(true);
	ctx->json = false; /* no error object on stdout either */
	if (client_call(ctx, LOOM_CMD_LEASE_LIST, NULL, &res))
		res = NULL;
	ctx->json = json;
	loom_err_quiet(false);
	json_array_foreach(vms, i, vm)
		json_array_foreach(json_object_get(vm, "nics"), j, nic)
			json_array_foreach(json_object_get(res, "leases"), k, l)
	{
		const char *st = jstr(l, "state"), *mac = jstr(l, "mac");

		if (st && !strcmp(st, "bound") && mac && jstr(nic, "mac") &&
		    !strcasecmp(mac, jstr(nic, "mac")) && jstr(l, "net") &&
		    jstr(nic, "net") && !strcmp(jstr(l, "net"), jstr(nic, "net")) &&
		    jstr(l, "address"))
			json_object_set_new(nic, "address",
					    json_string(jstr(l, "address")));
	}
	json_decref(res);
}

/* A VM's NICs in one cell: "NET/PORT/MAC[/ADDRESS]" each, comma separated. */
static void fmt_nics(const json_t *o, char *buf, size_t len)
{
	const json_t *v;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(o, "nics"), i, v)
	{
		int n = snprintf(buf + used, len - used, "%s%s/%s/%s%s%s",
				 i ? "," : "", jstr_or(v, "net"),
				 jstr_or(v, "port"), jstr_or(v, "mac"),
				 jstr(v, "address") ? "/" : "",
				 jstr(v, "address") ? jstr(v, "address") : "");

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
	if (any_nic)
		vm_nic_addresses(ctx, all);
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
	if (json_array_size(json_object_get(st, "nics"))) {
		json_t *one = json_pack("[O]", st);

		vm_nic_addresses(ctx, one);
		json_decref(one);
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
		table_init(&t, 7, "NETWORK", "PORT", "MAC", "MODEL", "BACKEND",
			   "LINK", "ADDRESS");
		json_array_foreach(json_object_get(st, "nics"), i, v)
		    table_add(&t, jstr(v, "net"), jstr(v, "port"),
			      jstr(v, "mac"), jstr(v, "model"),
			      jstr(v, "backend"), jstr(v, "link"),
			      jstr_or(v, "address"));
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
	deadline = vm_ms_now() + VM_TIMEOUT_MS;
	while (vm_ms_now() < deadline) {
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
