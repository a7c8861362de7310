/* SPDX-License-Identifier: MIT */
/* cmd_net.c - `loom net`: create, list, show, delete, apply, validate. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/loom.h"
#include "common/netconf.h"
#include "loom/control.h"

static const char usage_net[] =
    "Usage: loom net SUBCOMMAND [ARGS...]\n"
    "\n"
    "Declare and inspect networks.\n"
    "\n"
    "Subcommands:\n"
    "  create NAME [--mode MODE] [--subnet CIDR] [...]  create one network\n"
    "  list                    list the networks\n"
    "  show NAME               one network, its ports and their counters\n"
    "  delete NAME             delete a network and its ports\n"
    "  apply FILE              declare the networks of a YAML file\n"
    "  validate FILE           check a YAML file without applying it\n"
    "\n"
    "Run 'loom net SUBCOMMAND --help' for its options.\n";

static const char usage_create[] =
    "Usage: loom net create NAME [--mode MODE] [--subnet CIDR] [--gateway IP]\n"
    "                       [--subnet6 CIDR] [--gateway6 IP] [--host-loopback]\n"
    "                       [--mtu N] [--mac-table-size N] [--mac-aging S]\n"
    "                       [--dhcp-range FIRST-LAST] [--no-dhcp]\n"
    "                       [--domain DOMAIN] [--no-dns]\n"
    "                       [--bridge IFNAME] [--bridge-address CIDR] [--nat]\n"
    "                       [--json]\n"
    "\n"
    "Create a network in loom-netd. One option per field of the network\n"
    "file (docs/network-file.md); ports are added with 'loom port add'.\n"
    "\n"
    "Options:\n"
    "  --mode MODE           nat (the default: guests reach the outside\n"
    "                        through libslirp, no root needed), switch,\n"
    "                        isolated or bridge (a Linux bridge netd owns)\n"
    "  --subnet CIDR         the network's subnet, e.g. 10.10.0.0/24 (nat:\n"
    "                        IPv4, default 10.0.2.0/24)\n"
    "  --gateway IP          netd's address in it (default: first host)\n"
    "  --subnet6 CIDR        nat: an IPv6 prefix for the guests, e.g.\n"
    "                        fd00:10::/64 (default: no IPv6)\n"
    "  --gateway6 IP         nat: netd's IPv6 address (default: first host)\n"
    "  --host-loopback       nat: the gateway address reaches the host's\n"
    "                        127.0.0.1 and ::1 (default: refused)\n"
    "  --bridge IFNAME       bridge: the Linux bridge's name (default lb-NAME)\n"
    "  --bridge-address CIDR bridge: the host's address on the bridge\n"
    "  --nat                 bridge: masquerade the subnet out of the host's\n"
    "                        other interfaces (nftables; the host routes:\n"
    "                        needs --bridge-address)\n"
    "  --mtu N               68..65535, nat up to 65520 (default 1500)\n"
    "  --mac-table-size N    MAC table entries, 16..1048576 (default 4096)\n"
    "  --mac-aging S         seconds a MAC is kept unseen, 1..86400 (default "
    "300)\n"
    "  --dhcp-range FIRST-LAST  the gateway's DHCP pool, e.g.\n"
    "                        10.10.0.100-10.10.0.199 (default: the upper\n"
    "                        half of the subnet)\n"
    "  --no-dhcp             no DHCP server on this network\n"
    "  --domain DOMAIN       the DNS domain of its guests (default NAME.loom)\n"
    "  --no-dns              no DNS server on the gateway address\n"
    "  --json                print the created network as JSON\n"
    "  -h, --help            this text\n";

static const char usage_list[] =
    "Usage: loom net list [--json]\n"
    "\n"
    "List the networks: name, mode, subnet, gateway, MTU, ports and learnt\n"
    "MAC addresses.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-netd's result as JSON\n"
    "  -h, --help   this text\n";

static const char usage_show[] =
    "Usage: loom net show NAME [--json]\n"
    "\n"
    "Show one network's settings and its ports with their counters.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-netd's result as JSON\n"
    "  -h, --help   this text\n";

static const char usage_delete[] =
    "Usage: loom net delete NAME [--json]\n"
    "\n"
    "Delete a network, its ports and their TAPs.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-netd's (empty) result as JSON\n"
    "  -h, --help   this text\n";

static const char usage_apply[] =
    "Usage: loom net apply FILE [--json]\n"
    "\n"
    "Declare the networks of a YAML network file (docs/network-file.md;\n"
    "FILE '-' is standard input).\n"
    "The file is checked here first; an invalid file is reported as\n"
    "FILE:LINE: FIELD: PROBLEM and nothing is sent (exit status 4).\n"
    "Networks that do not exist are created, existing ones are brought to\n"
    "the declared state, networks the file does not name are left alone.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-netd's result as JSON\n"
    "  -h, --help   this text\n";

static const char usage_validate[] =
    "Usage: loom net validate FILE [--json]\n"
    "\n"
    "Check a YAML network file ('-': standard input) without contacting\n"
    "loom-netd. Errors are reported as FILE:LINE: FIELD: PROBLEM (exit\n"
    "status 4).\n"
    "\n"
    "Options:\n"
    "  --json       print the networks, defaults filled in, as JSON\n"
    "  -h, --help   this text\n";

enum {
	OPT_JSON = 1000,
	OPT_MODE,
	OPT_SUBNET,
	OPT_GATEWAY,
	OPT_MTU,
	OPT_MAC_TABLE_SIZE,
	OPT_MAC_AGING,
	OPT_SUBNET6,
	OPT_GATEWAY6,
	OPT_HOST_LOOPBACK,
	OPT_NAT,
	OPT_DHCP_RANGE,
	OPT_NO_DHCP,
	OPT_DOMAIN,
	OPT_NO_DNS,
	OPT_BRIDGE,
	OPT_BRIDGE_ADDRESS,
};

static const struct option simple_opts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/*
 * Parses commands that take only --json/--help and @npos positionals.
 * Return: -1 to go on, else the exit status.
 */
static int parse_simple(struct loom_ctx *ctx, const char *cmd,
			const char *usage, int argc, char **argv, int npos,
			const char *posname)
{
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", simple_opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			ctx->json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return LOOM_EXIT_OK;
		default:
			return loom_opt_err(cmd, argv, c);
		}
	}
	if (argc - optind < npos)
		return loom_usage_err(cmd, "missing %s", posname);
	if (argc - optind > npos)
		return loom_usage_err(cmd, "unexpected argument '%s'",
				      argv[optind + npos]);
	return -1;
}

static void print_network(const json_t *net)
{
	char b[24];

	printf("network %s\n", jstr(net, "name") ? jstr(net, "name") : "?");
	printf("  mode:            %s\n",
	       jstr(net, "mode") ? jstr(net, "mode") : "-");
	printf("  subnet:          %s\n",
	       jstr(net, "subnet") ? jstr(net, "subnet") : "-");
	printf("  gateway:         %s\n",
	       jstr(net, "gateway") ? jstr(net, "gateway") : "-");
	if (jstr(net, "subnet6"))
		printf("  subnet6:         %s (gateway %s)\n",
		       jstr(net, "subnet6"),
		       jstr(net, "gateway6") ? jstr(net, "gateway6") : "-");
	if (!strcmp(jstr(net, "mode") ? jstr(net, "mode") : "", "bridge")) {
		printf("  nat:             %s\n",
		       json_is_true(json_object_get(net, "nat"))
			   ? "masquerade (kernel, nftables)" : "off");
		printf("  forwards:        %zu (loom forward list %s)\n",
		       json_array_size(json_object_get(net, "forwards")),
		       jstr(net, "name") ? jstr(net, "name") : "");
	}
	if (!strcmp(jstr(net, "mode") ? jstr(net, "mode") : "", "nat")) {
		const json_t *fw = json_object_get(net, "forwards");

		printf("  host loopback:   %s\n",
		       json_is_true(json_object_get(net, "host_loopback"))
			   ? "reachable at the gateway address"
			   : "refused");
		printf("  forwards:        %zu (loom forward list %s)\n",
		       json_array_size(fw),
		       jstr(net, "name") ? jstr(net, "name") : "");
	}
	if (jstr(net, "bridge"))
		printf("  bridge:          %s (host address %s)\n",
		       jstr(net, "bridge"),
		       jstr(net, "bridge_address") ? jstr(net, "bridge_address")
						   : "none");
	printf("  mtu:             %s\n", jint(net, "mtu", b));
	printf("  mac table size:  %s\n", jint(net, "mac_table_size", b));
	printf("  mac aging:       %s s\n", jint(net, "mac_aging", b));
	if (json_array_size(json_object_get(net, "link_down"))) {
		const json_t *v;
		size_t i;

		printf("  link down:       ");
		json_array_foreach(json_object_get(net, "link_down"), i, v)
			printf("%s%s", i ? ", " : "", json_string_value(v));
		printf(" (loom port set %s PORT link up)\n",
		       jstr(net, "name") ? jstr(net, "name") : "NET");
	}
}

static int net_create(struct loom_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mode", required_argument, NULL, OPT_MODE},
	    {"subnet", required_argument, NULL, OPT_SUBNET},
	    {"gateway", required_argument, NULL, OPT_GATEWAY},
	    {"mtu", required_argument, NULL, OPT_MTU},
	    {"mac-table-size", required_argument, NULL, OPT_MAC_TABLE_SIZE},
	    {"mac-aging", required_argument, NULL, OPT_MAC_AGING},
	    {"subnet6", required_argument, NULL, OPT_SUBNET6},
	    {"gateway6", required_argument, NULL, OPT_GATEWAY6},
	    {"host-loopback", no_argument, NULL, OPT_HOST_LOOPBACK},
	    {"nat", no_argument, NULL, OPT_NAT},
	    {"dhcp-range", required_argument, NULL, OPT_DHCP_RANGE},
	    {"no-dhcp", no_argument, NULL, OPT_NO_DHCP},
	    {"domain", required_argument, NULL, OPT_DOMAIN},
	    {"no-dns", no_argument, NULL, OPT_NO_DNS},
	    {"bridge", required_argument, NULL, OPT_BRIDGE},
	    {"bridge-address", required_argument, NULL, OPT_BRIDGE_ADDRESS},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "net create";
	struct netconf_error err;
	struct netconf_net net;
	json_t *args, *result, *n;
	char flag[64];
	const char *key;
	long long v;
	int c, rc;

	args = json_object();
	if (!args)
		return LOOM_EXIT_NETD;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		key = NULL;
		switch (c) {
		case OPT_JSON:
			ctx->json = true;
			continue;
		case 'h':
			json_decref(args);
			fputs(usage_create, stdout);
			return LOOM_EXIT_OK;
		case OPT_MODE:
			key = "mode";
			break;
		case OPT_SUBNET:
			key = "subnet";
			break;
		case OPT_GATEWAY:
			key = "gateway";
			break;
		case OPT_MTU:
			key = "mtu";
			break;
		case OPT_MAC_TABLE_SIZE:
			key = "mac_table_size";
			break;
		case OPT_MAC_AGING:
			key = "mac_aging";
			break;
		case OPT_SUBNET6:
			key = "subnet6";
			break;
		case OPT_GATEWAY6:
			key = "gateway6";
			break;
		case OPT_HOST_LOOPBACK:
			json_object_set_new(args, "host_loopback", json_true());
			continue;
		case OPT_NAT:
			json_object_set_new(args, "nat", json_true());
			continue;
		case OPT_DHCP_RANGE:
		case OPT_NO_DHCP:
		case OPT_DOMAIN:
		case OPT_NO_DNS: {
			const char *sec = c == OPT_DHCP_RANGE ||
						  c == OPT_NO_DHCP ?
					      "dhcp" :
					      "dns";
			json_t *o = json_object_get(args, sec);

			if (!o) {
				o = json_object();
				json_object_set_new(args, sec, o);
			}
			if (c == OPT_DHCP_RANGE)
				json_object_set_new(o, "range",
						    json_string(optarg));
			else if (c == OPT_DOMAIN)
				json_object_set_new(o, "domain",
						    json_string(optarg));
			else
				json_object_set_new(o, "enabled", json_false());
			continue;
		}
		case OPT_BRIDGE:
			key = "bridge";
			break;
		case OPT_BRIDGE_ADDRESS:
			key = "bridge_address";
			break;
		default:
			json_decref(args);
			return loom_opt_err(cmd, argv, c);
		}
		if (c == OPT_MTU || c == OPT_MAC_TABLE_SIZE ||
		    c == OPT_MAC_AGING) {
			if (loom_parse_u32(optarg, &v)) {
				json_decref(args);
				loom_path_to_flag(key, flag, sizeof(flag));
				return loom_usage_err(
				    cmd, "%s: must be a number, got '%s'", flag,
				    optarg);
			}
			json_object_set_new(args, key, json_integer(v));
		} else {
			json_object_set_new(args, key, json_string(optarg));
		}
	}
	if (argc - optind != 1) {
		json_decref(args);
		return loom_usage_err(cmd,
				      argc - optind
					  ? "unexpected argument '%s'"
					  : "missing the network NAME%s",
				      argc - optind ? argv[optind + 1] : "");
	}
	json_object_set_new(args, "name", json_string(argv[optind]));
	/* The same checks netd makes, so mistakes are named by their flag. */
	rc = netconf_net_from_json(args, &net, "", &err);
	if (rc) {
		json_decref(args);
		if (!strcmp(err.path, "name"))
			return loom_usage_err(cmd, "NAME: %s", err.msg);
		if (!err.path[0])
			return loom_usage_err(cmd, "%s", err.msg);
		if (!strcmp(err.path, "dhcp.range"))
			snprintf(flag, sizeof(flag), "--dhcp-range");
		else if (!strcmp(err.path, "dns.domain"))
			snprintf(flag, sizeof(flag), "--domain");
		else
			loom_path_to_flag(err.path, flag, sizeof(flag));
		return loom_usage_err(cmd, "%s: %s", flag, err.msg);
	}
	netconf_net_clear(&net);
	rc = client_call(ctx, LOOM_CMD_NET_CREATE, args, &result);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(result);
	} else {
		n = json_object_get(result, "network");
		printf("created network %s\n", argv[optind]);
		if (n)
			print_network(n);
	}
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int net_list(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *result, *nets, *n, *ports;
	struct table t;
	char b1[24], b2[24], b3[24];
	size_t i;
	int rc;

	rc = parse_simple(ctx, "net list", usage_list, argc, argv, 0, NULL);
	if (rc >= 0)
		return rc;
	rc = client_call(ctx, LOOM_CMD_NET_LIST, NULL, &result);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(result);
		json_decref(result);
		return LOOM_EXIT_OK;
	}
	nets = json_object_get(result, "networks");
	table_init(&t, 7, "NAME", "MODE", "SUBNET", "GATEWAY", "MTU", "PORTS",
		   "MACS");
	json_array_foreach(nets, i, n)
	{
		ports = json_object_get(n, "ports");
		if (!json_object_get(n, "port_count") && json_is_array(ports))
			snprintf(b2, sizeof(b2), "%zu", json_array_size(ports));
		else
			jint(n, "port_count", b2);
		table_add(&t, jstr(n, "name"), jstr(n, "mode"),
			  jstr(n, "subnet"), jstr(n, "gateway"),
			  jint(n, "mtu", b1), b2, jint(n, "fdb_entries", b3));
	}
	table_print(&t);
	table_free(&t);
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int net_show(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *result, *ports;
	int rc;

	rc = parse_simple(ctx, "net show", usage_show, argc, argv, 1,
			  "the network NAME");
	if (rc >= 0)
		return rc;
	rc = client_call(ctx, LOOM_CMD_NET_SHOW,
			 json_pack("{s:s}", "name", argv[optind]), &result);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(result);
		json_decref(result);
		return LOOM_EXIT_OK;
	}
	print_network(json_object_get(result, "network"));
	ports = json_object_get(result, "ports");
	printf("\n");
	if (json_array_size(ports))
		loom_print_ports(ports, false);
	else
		printf(
		    "no ports (add one with 'loom port add %s --tap NAME')\n",
		    argv[optind]);
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int net_delete(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *result;
	int rc;

	rc = parse_simple(ctx, "net delete", usage_delete, argc, argv, 1,
			  "the network NAME");
	if (rc >= 0)
		return rc;
	rc = client_call(ctx, LOOM_CMD_NET_DELETE,
			 json_pack("{s:s}", "name", argv[optind]), &result);
	if (rc)
		return rc;
	if (ctx->json)
		loom_print_json(result);
	else
		printf("deleted network %s\n", argv[optind]);
	json_decref(result);
	return LOOM_EXIT_OK;
}

/* Loads and checks a file; prints FILE:LINE: FIELD: PROBLEM on failure. */
/* Reads a whole network file from standard input ("-"). */
static int load_stdin(struct netconf **cfg, struct netconf_error *err)
{
	size_t cap = NETCONF_FILE_MAX + 1, got = 0;
	char *data = malloc(cap);
	ssize_t n;
	int rc;

	if (!data)
		return -ENOMEM;
	while (got < cap) {
		n = read(STDIN_FILENO, data + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	/* More than the limit is passed on: the loader refuses it. */
	rc = netconf_load_buffer("<stdin>", data, got, cfg, err);
	free(data);
	return rc;
}

/* Loads and checks a file; prints FILE:LINE: FIELD: PROBLEM on failure. */
static int load_checked(const char *path, struct netconf **cfg)
{
	struct netconf_error err;
	char buf[1024];
	int rc;

	if (!strcmp(path, "-"))
		rc = load_stdin(cfg, &err);
	else
		rc = netconf_load_file(path, cfg, &err);
	if (rc) {
		fprintf(stderr, "%s\n",
			netconf_error_format(&err, buf, sizeof(buf)));
		return LOOM_EXIT_FILE;
	}
	return 0;
}

static void print_names(const json_t *result, const char *key)
{
	const json_t *a = json_object_get(result, key), *v;
	size_t i;

	json_array_foreach(a, i, v) if (json_is_string(v))
	    printf("network %s: %s\n", json_string_value(v), key);
}

static int net_apply(struct loom_ctx *ctx, int argc, char **argv)
{
	struct netconf *cfg;
	json_t *result, *args;
	int rc;

	rc = parse_simple(ctx, "net apply", usage_apply, argc, argv, 1,
			  "the network FILE");
	if (rc >= 0)
		return rc;
	rc = load_checked(argv[optind], &cfg);
	if (rc)
		return rc;
	args = netconf_to_json(cfg);
	netconf_free(cfg);
	if (!args) {
		loom_err("out of memory");
		return LOOM_EXIT_NETD;
	}
	rc = client_call(ctx, LOOM_CMD_NET_APPLY, args, &result);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(result);
	} else {
		print_names(result, "created");
		print_names(result, "updated");
		print_names(result, "unchanged");
	}
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int net_validate(struct loom_ctx *ctx, int argc, char **argv)
{
	struct netconf *cfg;
	json_t *j;
	uint32_t i;
	int rc;

	rc = parse_simple(ctx, "net validate", usage_validate, argc, argv, 1,
			  "the network FILE");
	if (rc >= 0)
		return rc;
	rc = load_checked(argv[optind], &cfg);
	if (rc)
		return rc;
	if (ctx->json) {
		j = netconf_to_json(cfg);
		if (j)
			loom_print_json(j);
		json_decref(j);
	} else {
		printf("%s: valid, %u network%s\n",
		       strcmp(argv[optind], "-") ? argv[optind] : "<stdin>",
		       cfg->network_count, cfg->network_count == 1 ? "" : "s");
		for (i = 0; i < cfg->network_count; i++)
			printf("  %s: %s, %s, %u port%s\n",
			       cfg->networks[i].name,
			       netconf_mode_name(cfg->networks[i].mode),
			       cfg->networks[i].subnet ? cfg->networks[i].subnet
						       : "no subnet",
			       cfg->networks[i].port_count,
			       cfg->networks[i].port_count == 1 ? "" : "s");
	}
	netconf_free(cfg);
	return LOOM_EXIT_OK;
}

static const struct loom_cmd net_cmds[] = {
    {"create", net_create, "create a network"},
    {"list", net_list, "list networks"},
    {"ls", net_list, "list networks"},
    {"show", net_show, "show a network"},
    {"delete", net_delete, "delete a network"},
    {"rm", net_delete, "delete a network"},
    {"apply", net_apply, "apply a network file"},
    {"validate", net_validate, "check a network file"},
    {NULL, NULL, NULL},
};

int cmd_net(struct loom_ctx *ctx, int argc, char **argv)
{
	return loom_dispatch(ctx, "net", net_cmds, usage_net, argc, argv);
}
