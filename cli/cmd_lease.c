/* SPDX-License-Identifier: MIT */
/* cmd_lease.c - `loom lease list|release`: the DHCP leases of a network's gateway. */
#include <getopt.h> /* optind */
#include <stdio.h>
#include <string.h>

#include "cli/loom.h"
#include "loom/control.h"

static const char usage_lease[] =
    "Usage: loom lease SUBCOMMAND [ARGS...]\n"
    "\n"
    "The DHCP leases the gateway of each network with a subnet hands out.\n"
    "Every acknowledged lease is on disk before its ACK (STATE_DIR/leases.NET\n"
    "and its .journal), so they survive a crash of loom-netd.\n"
    "\n"
    "Subcommands:\n"
    "  list [NET]                  the leases: MAC, address, host name, port,\n"
    "                              expiry\n"
    "  release NET MAC|ADDRESS     free a lease now\n"
    "\n"
    "Run 'loom lease SUBCOMMAND --help' for details.\n";

static const char usage_list[] =
    "Usage: loom lease list [NET] [--json]\n"
    "\n"
    "The leases of every network, or of NET: MAC, address, host name (what\n"
    "the client sent, or the static host's name), the port it came from,\n"
    "seconds until it expires and its state (bound, expired: not reused\n"
    "yet, declined: the client said the address is in use).\n"
    "\n"
    "Options:\n"
    "  --json       print them as JSON\n"
    "  -h, --help   this text\n";

static const char usage_release[] =
    "Usage: loom lease release NET MAC|ADDRESS [--json]\n"
    "\n"
    "Free the lease of a MAC (aa:bb:cc:dd:ee:ff) or of an IPv4 address. It\n"
    "is gone from the lease file before loom returns; the client gets a NAK\n"
    "when it next renews and asks again.\n"
    "\n"
    "Options:\n"
    "  --json       print the result as JSON\n"
    "  -h, --help   this text\n";

static int lease_list(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *result, *arr, *l;
	struct table t;
	size_t i;
	int rc;

	rc = loom_parse_simple(ctx, "lease list", usage_list, argc, argv, 0, 1, "");
	if (rc >= 0)
		return rc;
	rc = client_call(ctx, LOOM_CMD_LEASE_LIST,
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
	arr = json_object_get(result, "leases");
	if (!json_array_size(arr)) {
		printf("no leases\n");
		json_decref(result);
		return LOOM_EXIT_OK;
	}
	table_init(&t, 7, "NET", "MAC", "ADDRESS", "HOST", "PORT", "EXPIRES",
		   "STATE");
	json_array_foreach(arr, i, l) {
		char b[24];
		const char *host = jstr(l, "host"), *port = jstr(l, "port");

		table_add(&t, jstr(l, "net"), jstr(l, "mac"),
			  jstr(l, "address"), host && host[0] ? host : "-",
			  port && port[0] ? port : "-",
			  jint(l, "expires_in", b), jstr(l, "state"));
	}
	table_print(&t);
	table_free(&t);
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int lease_release(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *result;
	int rc;

	rc = loom_parse_simple(ctx, "lease release", usage_release, argc, argv, 2, 2,
		   "arguments: NET MAC|ADDRESS");
	if (rc >= 0)
		return rc;
	rc = client_call(ctx, LOOM_CMD_LEASE_RELEASE,
			 json_pack("{s:s,s:s}", "net", argv[optind], "lease",
				   argv[optind + 1]),
			 &result);
	if (rc)
		return rc;
	if (ctx->json)
		loom_print_json(result);
	else
		printf("released the lease of %s on network %s\n",
		       argv[optind + 1], argv[optind]);
	json_decref(result);
	return LOOM_EXIT_OK;
}

int cmd_lease(struct loom_ctx *ctx, int argc, char **argv)
{
	static const struct loom_cmd cmds[] = {
	    {"list", lease_list, "the DHCP leases"},
	    {"release", lease_release, "free a lease"},
	    {NULL, NULL, NULL},
	};

	return loom_dispatch(ctx, "lease", cmds, usage_lease, argc, argv);
}
