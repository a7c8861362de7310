/* SPDX-License-Identifier: MIT */
/* cmd_forward.c - `loom forward add|list|remove`: port forwards of nat networks. */
#include <getopt.h> /* optind */
#include <stdio.h>
#include <string.h>

#include "cli/loom.h"
#include "common/fwdspec.h"
#include "common/netconf.h"
#include "loom/control.h"

static const char usage_forward[] =
    "Usage: loom forward SUBCOMMAND [ARGS...]\n"
    "\n"
    "Port forwards of nat networks: a host port whose connections (TCP) or\n"
    "datagrams (UDP) reach a guest. They are declared state (in the network\n"
    "file as 'forwards:', kept across netd restarts) and change while\n"
    "everything runs.\n"
    "\n"
    "Subcommands:\n"
    "  add NET tcp|udp [HOSTADDR:]HOSTPORT GUEST[:GUESTPORT]   listen and forward\n"
    "  list [NET]                                    the forwards and their state\n"
    "  remove NET tcp|udp [HOSTADDR:]HOSTPORT        stop, close the listener\n"
    "\n"
    "Run 'loom forward SUBCOMMAND --help' for details.\n";

static const char usage_add[] =
    "Usage: loom forward add NET tcp|udp [HOSTADDR:]HOSTPORT GUEST[:GUESTPORT]\n"
    "                        [--json]\n"
    "\n"
    "Listen on the host and forward to a guest of nat network NET.\n"
    "\n"
    "  HOSTADDR   an address of this host: 127.0.0.1 (the default), 0.0.0.0\n"
    "             for every IPv4 address, [::1] or [::] for IPv6\n"
    "  HOSTPORT   1..65535; below 1024 needs root or CAP_NET_BIND_SERVICE\n"
    "  GUEST      the guest's IPv4 address in NET's subnet, its IPv6\n"
    "             address in NET's subnet6 ([fd00::15]:80 with a port), or\n"
    "             its name as netd's DNS knows it (the host name of its\n"
    "             DHCP lease, a static host, an attached VM): netd follows\n"
    "             the name's address; while it has none the host port is\n"
    "             held and connections are refused (state 'waiting')\n"
    "  GUESTPORT  default: HOSTPORT\n"
    "\n"
    "Examples:\n"
    "  loom forward add lab tcp 8080 10.0.2.15:80\n"
    "  loom forward add lab tcp 8080 web:80\n"
    "  loom forward add lab tcp '[::1]:8080' '[fd00:10::15]:80'\n"
    "\n"
    "A host port in use is an error naming it. Options:\n"
    "  --json       print the forward as JSON\n"
    "  -h, --help   this text\n";

static const char usage_list[] =
    "Usage: loom forward list [NET] [--json]\n"
    "\n"
    "The forwards of every nat network, or of NET: protocol, host end,\n"
    "guest end (a name with the address it points at now), state (up;\n"
    "waiting: a name without an address; down with the reason: a host\n"
    "port taken when netd restarted, say), connections open now.\n"
    "\n"
    "Options:\n"
    "  --json       print them as JSON\n"
    "  -h, --help   this text\n";

static const char usage_remove[] =
    "Usage: loom forward remove NET tcp|udp [HOSTADDR:]HOSTPORT [--json]\n"
    "\n"
    "Remove a forward: its listener closes at once, with the connections\n"
    "that came through it. HOSTADDR defaults to 127.0.0.1, as for add.\n"
    "\n"
    "Options:\n"
    "  --json       print the result as JSON\n"
    "  -h, --help   this text\n";

/* The protocol and host end, checked here so mistakes name their word. */
static int check_proto_host(const char *cmd, const char *proto,
			    const char *host)
{
	struct fwd_endpoint e;

	if (fwd_proto_parse(proto) < 0)
		return loom_usage_err(cmd, "protocol must be tcp or udp, got "
					   "'%s'", proto);
	if (fwd_host_parse(host, &e))
		return loom_usage_err(cmd,
				      "host end '%s' is not [HOSTADDR:]HOSTPORT "
				      "(e.g. 8080, 0.0.0.0:8080, [::1]:8080)",
				      host);
	return -1;
}

static int forward_add(struct loom_ctx *ctx, int argc, char **argv)
{
	const char *cmd = "forward add";
	struct netconf_error err;
	struct netconf_forward f;
	json_t *args, *result, *fw;
	int rc;

	rc = loom_parse_simple(ctx, cmd, usage_add, argc, argv, 4, 4,
		   "arguments: NET tcp|udp [HOSTADDR:]HOSTPORT "
		   "GUEST[:GUESTPORT]");
	if (rc >= 0)
		return rc;
	rc = check_proto_host(cmd, argv[optind + 1], argv[optind + 2]);
	if (rc >= 0)
		return rc;
	args = json_pack("{s:s,s:s,s:s}", "proto", argv[optind + 1], "host",
			 argv[optind + 2], "guest", argv[optind + 3]);
	if (!args)
		return LOOM_EXIT_NETD;
	if (netconf_forward_from_json(args, &f, "", &err)) {
		json_decref(args);
		return loom_usage_err(cmd, "%s: %s",
				      !strcmp(err.path, "guest") ? "GUEST"
								 : err.path,
				      err.msg);
	}
	netconf_forward_clear(&f);
	json_object_set_new(args, "net", json_string(argv[optind]));
	rc = client_call(ctx, LOOM_CMD_FORWARD_ADD, args, &result);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(result);
	} else {
		fw = json_object_get(result, "forward");
		printf("forwarding %s %s -> %s on network %s\n",
		       jstr(fw, "proto") ? jstr(fw, "proto") : "?",
		       jstr(fw, "host") ? jstr(fw, "host") : "?",
		       jstr(fw, "guest") ? jstr(fw, "guest") : "?",
		       argv[optind]);
	}
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int forward_list(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *result, *arr, *f;
	struct table t;
	size_t i;
	int rc;

	rc = loom_parse_simple(ctx, "forward list", usage_list, argc, argv, 0, 1, "");
	if (rc >= 0)
		return rc;
	rc = client_call(ctx, LOOM_CMD_FORWARD_LIST,
			 argc - optind ? json_pack("{s:s}", "net", argv[optind])
				       : NULL,
			 &result);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(result);
		json_decref(result);
		return LOOM_EXIT_OK;
	}
	arr = json_object_get(result, "forwards");
	if (!json_array_size(arr)) {
		printf("no forwards (add one with 'loom forward add NET tcp "
		       "HOSTPORT GUEST')\n");
		json_decref(result);
		return LOOM_EXIT_OK;
	}
	table_init(&t, 7, "NET", "PROTO", "HOST", "GUEST", "STATE", "CONNS",
		   "ERROR");
	json_array_foreach(arr, i, f) {
		char b[24], guest[2 * FWDSPEC_STRLEN + 4];

		/* A name shows where it points now: "web:80 (10.0.2.15:80)". */
		snprintf(guest, sizeof(guest), jstr(f, "target") ? "%s (%s)" :
			 "%s", jstr(f, "guest") ? jstr(f, "guest") : "?",
			 jstr(f, "target"));
		table_add(&t, jstr(f, "net"), jstr(f, "proto"), jstr(f, "host"),
			  guest, jstr(f, "state"),
			  jint(f, "connections", b), jstr(f, "error"));
	}
	table_print(&t);
	table_free(&t);
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int forward_remove(struct loom_ctx *ctx, int argc, char **argv)
{
	const char *cmd = "forward remove";
	json_t *result;
	int rc;

	rc = loom_parse_simple(ctx, cmd, usage_remove, argc, argv, 3, 3,
		   "arguments: NET tcp|udp [HOSTADDR:]HOSTPORT");
	if (rc >= 0)
		return rc;
	rc = check_proto_host(cmd, argv[optind + 1], argv[optind + 2]);
	if (rc >= 0)
		return rc;
	rc = client_call(ctx, LOOM_CMD_FORWARD_REMOVE,
			 json_pack("{s:s,s:s,s:s}", "net", argv[optind],
				   "proto", argv[optind + 1], "host",
				   argv[optind + 2]),
			 &result);
	if (rc)
		return rc;
	if (ctx->json)
		loom_print_json(result);
	else
		printf("removed forward %s %s from network %s\n",
		       argv[optind + 1], argv[optind + 2], argv[optind]);
	json_decref(result);
	return LOOM_EXIT_OK;
}

int cmd_forward(struct loom_ctx *ctx, int argc, char **argv)
{
	static const struct loom_cmd cmds[] = {
	    {"add", forward_add, "listen on a host port, forward to a guest"},
	    {"list", forward_list, "the forwards and their state"},
	    {"remove", forward_remove, "remove a forward"},
	    {NULL, NULL, NULL},
	};

	return loom_dispatch(ctx, "forward", cmds, usage_forward, argc, argv);
}
