/* SPDX-License-Identifier: MIT */
/* main.c - `loom`: global options and git-style command dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/loom.h"
#include "common/suggest.h"

static const char usage_main[] =
    "Usage: loom [--socket PATH | --run-dir DIR] [--json] COMMAND [ARGS...]\n"
    "\n"
    "The client of loom-netd, the loom network daemon.\n"
    "\n"
    "Commands:\n"
    "  net      declare and inspect networks: create, list, show, delete,\n"
    "           apply FILE, validate FILE\n"
    "  port     ports of a network: add, del, list (with counters)\n"
    "  forward  port forwards of nat networks: add, list, remove\n"
    "  lease    DHCP leases of the networks' gateways: list, release\n"
    "  fdb      a network's MAC table: show, flush\n"
    "  status   loom-netd's own status\n"
    "  vm       VMs run by loom-vmm: run, list, status, stop, console\n"
    "  capture  capture frames of a network's ports (pcapng, live), list\n"
    "  help     this text\n"
    "\n"
    "Options:\n"
    "  --socket PATH   loom-netd's control socket\n"
    "                  (default: RUN_DIR/netd.sock)\n"
    "  --run-dir DIR   loom-netd's run dir (default: $LOOM_RUN_DIR, else\n"
    "                  /run/loom as root, else $XDG_RUNTIME_DIR/loom, else\n"
    "                  /tmp/loom-UID, used only if yours with mode 0700)\n"
    "  --json          print results as JSON (every command takes it too)\n"
    "  -h, --help      this text; 'loom COMMAND --help' for a command\n"
    "  --version       print loom's version\n"
    "\n"
    "Exit status: 0 success, 1 loom-netd refused the request, 2 invalid\n"
    "command line, 3 loom-netd not reachable, 4 invalid network file.\n";

static const struct loom_cmd commands[] = {
    {"net", cmd_net, "networks"},   {"port", cmd_port, "ports"},
    {"fdb", cmd_fdb, "MAC tables"}, {"status", cmd_status, "daemon status"},
    {"vm", cmd_vm, "VMs"},	    {"forward", cmd_forward, "port forwards"},
    {"capture", cmd_capture, "packet captures"},
    {"lease", cmd_lease, "DHCP leases"},
    {NULL, NULL, NULL},
};

/* Prints "unknown WHAT 'x' (did you mean 'y'?)" and the usage. */
static int unknown_word(const char *prefix, const char *what, const char *word,
			const struct loom_cmd *cmds, const char *usage)
{
	const struct loom_cmd *c, *best = NULL;
	unsigned int d, best_d = 3;

	for (c = cmds; c->name; c++) {
		d = edit_distance(word, c->name);
		if (d < best_d) {
			best_d = d;
			best = c;
		}
	}
	fprintf(stderr, "loom: %s%s '%s'", prefix, what, word);
	if (best)
		fprintf(stderr, " (did you mean '%s'?)", best->name);
	fprintf(stderr, "\n\n%s", usage);
	return LOOM_EXIT_USAGE;
}

static bool is_help(const char *s)
{
	return !strcmp(s, "--help") || !strcmp(s, "-h") || !strcmp(s, "help");
}

int loom_dispatch(struct loom_ctx *ctx, const char *group,
		  const struct loom_cmd *cmds, const char *usage, int argc,
		  char **argv)
{
	const struct loom_cmd *c;

	if (argc < 2) {
		fprintf(stderr, "loom: %s: missing subcommand\n\n%s", group,
			usage);
		return LOOM_EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		fputs(usage, stdout);
		return LOOM_EXIT_OK;
	}
	if (!strcmp(argv[1], "--json")) {
		/* "loom net --json list": accept the flag before the verb. */
		ctx->json = true;
		argv[1] = argv[0];
		return loom_dispatch(ctx, group, cmds, usage, argc - 1,
				     argv + 1);
	}
	for (c = cmds; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->run(ctx, argc - 1, argv + 1);
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "%s: ", group);
	return unknown_word(prefix, "unknown subcommand", argv[1], cmds, usage);
}

/* Takes "--opt VALUE" or "--opt=VALUE" at argv[*i]. */
static int global_value(int argc, char **argv, int *i, const char *opt,
			const char **val)
{
	size_t n = strlen(opt);

	if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (strcmp(argv[*i], opt))
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "loom: %s needs a value\nTry 'loom --help'.\n",
			opt);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

int main(int argc, char **argv)
{
	struct loom_ctx ctx = {.fd = -1};
	const struct loom_cmd *c;
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (is_help(argv[i])) {
			fputs(usage_main, stdout);
			return LOOM_EXIT_OK;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("loom 0.1.0 (control protocol 1)\n");
			return LOOM_EXIT_OK;
		}
		if (!strcmp(argv[i], "--json")) {
			ctx.json = true;
			continue;
		}
		rc = global_value(argc, argv, &i, "--socket", &ctx.socket_opt);
		if (!rc)
			rc = global_value(argc, argv, &i, "--run-dir",
					  &ctx.run_dir_opt);
		if (rc < 0)
			return LOOM_EXIT_USAGE;
		if (rc)
			continue;
		fprintf(stderr,
			"loom: unknown option '%s'\nTry 'loom --help'.\n",
			argv[i]);
		return LOOM_EXIT_USAGE;
	}
	if (i >= argc) {
		fprintf(stderr, "loom: missing command\n\n%s", usage_main);
		return LOOM_EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 < argc) {
			/* "loom help net" is "loom net --help". */
			char *args[] = {argv[i + 1], "--help", NULL};

			for (c = commands; c->name; c++)
				if (!strcmp(c->name, argv[i + 1]))
					return c->run(&ctx, 2, args);
			fprintf(stderr, "loom: help: unknown command '%s'\n",
				argv[i + 1]);
			return LOOM_EXIT_USAGE;
		}
		fputs(usage_main, stdout);
		return LOOM_EXIT_OK;
	}
	for (c = commands; c->name; c++) {
		if (strcmp(c->name, argv[i]))
			continue;
		rc = c->run(&ctx, argc - i, argv + i);
		client_close(&ctx);
		fflush(stdout);
		return rc;
	}
	return unknown_word("", "unknown command", argv[i], commands,
			    usage_main);
}
