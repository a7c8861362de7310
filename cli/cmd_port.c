/* SPDX-License-Identifier: MIT */
/* cmd_port.c - `loom port`, `loom fdb` and `loom status`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/loom.h"
#include "common/netconf.h"
#include "loom/control.h"

static const char usage_port[] =
    "Usage: loom port SUBCOMMAND [ARGS...]\n"
    "\n"
    "Ports of a network.\n"
    "\n"
    "Subcommands:\n"
    "  add NET --tap NAME [...]   create a TAP port and attach it\n"
    "  add NET --type T --name P  a port of another type (loopback)\n"
    "  add NET --vde URL --name PORT   plug the network into a VDE network\n"
    "  add NET --vhost-user PATH --name PORT   serve a vhost-user front end\n"
    "  del NET PORT               detach a port and remove its TAP\n"
    "  set NET PORT link up|down  the carrier the port's far side sees\n"
    "  list [NET]                 ports with their counters\n"
    "\n"
    "Run 'loom port SUBCOMMAND --help' for its options.\n";

static const char usage_add[] =
    "Usage: loom port add NET --tap NAME [--name PORT] [--netns NS]\n"
    "                     [--address CIDR] [--vlan N | --trunk LIST [--native "
    "N]]\n"
    "                     [--antispoof | --no-antispoof] [--allow-ra]\n"
    "                     [--allow-dhcp-server] [--json]\n"
    "       loom port add NET --type TYPE --name PORT [--vlan N | --trunk ...]\n"
    "       loom port add NET --vde URL --name PORT [--vlan N | --trunk ...]\n"
    "       loom port add NET --vhost-user PATH --name PORT [--vlan N | ...]\n"
    "\n"
    "Create the TAP interface NAME, optionally move it into the network\n"
    "namespace NS and give it an address, and attach it to network NET.\n"
    "With --type, a port of another backend: 'loopback' sends every frame\n"
    "back into the network (docs/network-file.md). With --vde, plug network\n"
    "NET into the VDE network at URL (any libvdeplug URL: vde:///run/vde.ctl\n"
    "for a vde_switch, vxvde://, tap://, ...); the port reconnects when the\n"
    "far side restarts (docs/vde.md). With --vhost-user, listen on the Unix\n"
    "socket PATH as the vhost-user back end of one front end at a time\n"
    "(QEMU's -netdev vhost-user, cloud-hypervisor; docs/vhost-user.md).\n"
    "\n"
    "Options:\n"
    "  --type TYPE       the port's backend: tap (the default), loopback, vde,\n"
    "                    vhost-user, macvtap; bridge networks: veth, vlan\n"
    "  --tap NAME        interface name, at most 15 characters (required\n"
    "                    for tap, veth, macvtap; PARENT.VID for vlan)\n"
    "  --parent DEV      macvtap: the device it sits on\n"
    "  --macvtap-mode M  macvtap: bridge (default), private, vepa, passthru\n"
    "  --vde URL         a port of type vde connected to URL (--type vde\n"
    "                    --url URL)\n"
    "  --url URL         where a port of another type connects (vde)\n"
    "  --vhost-user PATH a port of type vhost-user listening on PATH\n"
    "                    (--type vhost-user --path PATH)\n"
    "  --path PATH       the socket a port of another type listens on\n"
    "  --name PORT       the port's name in the network (default: NAME)\n"
    "  --netns NS        an 'ip netns' namespace to move the TAP into\n"
    "  --address CIDR    address set on the TAP, e.g. 10.10.0.2/24\n"
    "  --vlan N          access port in VLAN N, 1..4094 (default 1)\n"
    "  --trunk LIST      trunk port carrying the tagged VLANs in LIST,\n"
    "                    e.g. 10,20,30-39\n"
    "  --native N        on a trunk port, the VLAN of untagged frames\n"
    "  --antispoof       drop what the guest sends from another MAC or IPv4\n"
    "                    address than its own, its DHCP server replies and\n"
    "                    router advertisements (default: on for veth and\n"
    "                    TAP access ports of bridge networks, off elsewhere)\n"
    "  --no-antispoof    let the port send anything\n"
    "  --allow-ra        with anti-spoofing: router advertisements pass\n"
    "  --allow-dhcp-server  with anti-spoofing: DHCP server replies pass\n"
    "  --json            print the new port as JSON\n"
    "  -h, --help        this text\n";

static const char usage_del[] =
    "Usage: loom port del NET PORT [--json]\n"
    "\n"
    "Detach port PORT from network NET and remove its TAP.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-netd's (empty) result as JSON\n"
    "  -h, --help   this text\n";

static const char usage_set[] =
    "Usage: loom port set NET PORT link up|down [--json]\n"
    "\n"
    "Set the link of port PORT of network NET down or up, as pulling and\n"
    "plugging its cable would: a VM NIC's guest sees carrier loss and\n"
    "recovery (virtio-net link status, e1000 link status change, rtl8139\n"
    "media status) and its driver reports NO-CARRIER; a TAP or veth port's\n"
    "interface shows NO-CARRIER. Frames for a port whose link is down are\n"
    "dropped. The setting is part of the network's declared state\n"
    "(link_down: in docs/network-file.md): it survives a restart of\n"
    "loom-netd and of the VM, until 'link up' or the port is deleted.\n"
    "\n"
    "Options:\n"
    "  --json       print the port's new status as JSON\n"
    "  -h, --help   this text\n";

static const char usage_list[] =
    "Usage: loom port list [NET] [--json]\n"
    "\n"
    "List the ports of network NET, or of every network: their device (a\n"
    "TAP, or a VM NIC's model and MAC), state and counters: frames and\n"
    "bytes received from the port (RX) and sent to it (TX), and frames\n"
    "dropped (the sum over every drop reason; --json shows each reason).\n"
    "\n"
    "Options:\n"
    "  --json       print loom-netd's result as JSON\n"
    "  -h, --help   this text\n";

static const char usage_fdb[] =
    "Usage: loom fdb SUBCOMMAND NET [...]\n"
    "\n"
    "The MAC table (forwarding database) of a network's switch.\n"
    "\n"
    "Subcommands:\n"
    "  show NET               learnt MACs with their VLAN, port and age\n"
    "  flush NET [--port P]   forget learnt MACs (only port P's with --port)\n"
    "\n"
    "Run 'loom fdb SUBCOMMAND --help' for its options.\n";

static const char usage_fdb_show[] =
    "Usage: loom fdb show NET [--json]\n"
    "\n"
    "Show the MAC table of network NET: each learnt MAC address, its VLAN,\n"
    "the port it was learnt on and the seconds since it was last seen.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-netd's result as JSON\n"
    "  -h, --help   this text\n";

static const char usage_fdb_flush[] =
    "Usage: loom fdb flush NET [--port PORT] [--json]\n"
    "\n"
    "Forget the MAC addresses learnt on network NET (only those learnt on\n"
    "PORT with --port); the switch floods until it learns them again.\n"
    "\n"
    "Options:\n"
    "  --port PORT  flush only this port's entries\n"
    "  --json       print loom-netd's result as JSON\n"
    "  -h, --help   this text\n";

static const char usage_status[] =
    "Usage: loom status [--json]\n"
    "\n"
    "Show loom-netd's status: version, pid, uptime, directories, counts of\n"
    "networks, ports and clients. Exit status 3 when it is not reachable.\n"
    "\n"
    "Options:\n"
    "  --json       print loom-netd's result as JSON\n"
    "  -h, --help   this text\n";

enum {
	OPT_JSON = 1000,
	OPT_TAP,
	OPT_VDE,
	OPT_NAME,
	OPT_NETNS,
	OPT_ADDRESS,
	OPT_VLAN,
	OPT_TRUNK,
	OPT_NATIVE,
	OPT_PORT,
	OPT_TYPE,
	OPT_URL,
	OPT_VHOST_USER,
	OPT_PATH,
	OPT_PARENT,
	OPT_MACVTAP_MODE,
	OPT_ANTISPOOF,
	OPT_NO_ANTISPOOF,
	OPT_ALLOW_RA,
	OPT_ALLOW_DHCP_SERVER,
};

/*
 * Parses --json, --help, optionally --port, and between @min and @max
 * positionals. Return: -1 to go on, else the exit status.
 */
static int parse_args(struct loom_ctx *ctx, const char *cmd, const char *usage,
		      int argc, char **argv, int min, int max,
		      const char *posname, const char **port)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {"port", required_argument, NULL, OPT_PORT},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			ctx->json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return LOOM_EXIT_OK;
		case OPT_PORT:
			if (port) {
				*port = optarg;
				break;
			}
			/* fall through */
		default:
			if (c == OPT_PORT)
				return loom_usage_err(
				    cmd, "unknown option '--port'");
			return loom_opt_err(cmd, argv, c);
		}
	}
	if (argc - optind < min)
		return loom_usage_err(cmd, "missing %s", posname);
	if (argc - optind > max)
		return loom_usage_err(cmd, "unexpected argument '%s'",
				      argv[optind + max]);
	return -1;
}

static const char *opt_or_dash(const char *s)
{
	return s && s[0] ? s : "-";
}

/* "10", or "trunk 10,20-22 native 1" (runs of VLANs as ranges). */
static void format_vlan(const json_t *p, char *buf, size_t len)
{
	const json_t *trunk = json_object_get(p, "trunk");
	size_t i, j, n, off = 0;
	long long a, b;
	char nb[24];

	if (!json_is_array(trunk) || !json_array_size(trunk)) {
		snprintf(buf, len, "%s", jint(p, "vlan", nb));
		return;
	}
	off = (size_t)snprintf(buf, len, "trunk ");
	n = json_array_size(trunk);
	for (i = 0; i < n && off < len; i = j) {
		a = json_integer_value(json_array_get(trunk, i));
		for (j = i + 1; j < n; j++) {
			b = json_integer_value(json_array_get(trunk, j));
			if (b != a + (long long)(j - i))
				break;
		}
		b = json_integer_value(json_array_get(trunk, j - 1));
		if (b > a)
			off +=
			    (size_t)snprintf(buf + off, len - off,
					     "%s%lld-%lld", i ? "," : "", a, b);
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%lld",
						i ? "," : "", a);
	}
	if (off < len && json_is_integer(json_object_get(p, "native")))
		snprintf(buf + off, len - off, " native %s",
			 jint(p, "native", nb));
}

/* "port a: anti-spoofing (ebpf), mac M, addresses A B; dropped spoof_ip 3" */
static void print_antispoof(const json_t *p)
{
	const json_t *as = json_object_get(p, "antispoof"), *a, *v;
	const char *key;
	size_t i;
	bool any = false;

	if (!json_is_true(json_object_get(as, "on")))
		return;
	printf("port %s: anti-spoofing (%s), mac %s, addresses",
	       opt_or_dash(jstr(p, "name")), opt_or_dash(jstr(as, "path")),
	       jstr(as, "mac") && *jstr(as, "mac") ? jstr(as, "mac")
						   : "not seen yet");
	a = json_object_get(as, "addresses");
	json_array_foreach(a, i, v)
		printf(" %s", json_string_value(v));
	if (!json_array_size(a))
		printf(" none (DHCP only)");
	printf("; dropped");
	json_object_foreach((json_t *)json_object_get(as, "drops"), key, v) {
		if (!json_integer_value(v))
			continue;
		printf(" %s %lld", key, (long long)json_integer_value(v));
		any = true;
	}
	printf("%s\n", any ? "" : " nothing");
}

void loom_print_ports(const json_t *ports, bool with_net)
{
	const json_t *p, *cnt, *drops, *v;
	char vlan[128], rxf[24], rxb[24], txf[24], txb[24], dr[24], dev[96];
	const char *key, *state;
	long long sum;
	struct table t;
	size_t i;

	table_init(&t, 12, "NET", "PORT", "DEVICE", "NETNS", "ADDRESS", "VLAN",
		   "STATE", "RX_FRAMES", "RX_BYTES", "TX_FRAMES", "TX_BYTES",
		   "DROPS");
	json_array_foreach(ports, i, p)
	{
		cnt = json_object_get(p, "counters");
		drops = json_object_get(cnt, "drops");
		sum = 0;
		if (json_is_object(drops)) {
			json_object_foreach((json_t *)drops, key, v) sum +=
			    json_integer_value(v);
			snprintf(dr, sizeof(dr), "%lld", sum);
		} else {
			jint(cnt, "drops", dr);
		}
		format_vlan(p, vlan, sizeof(vlan));
		state = jstr(p, "state");
		/* Up, but its link set down by hand: say so. */
		if (jstr(p, "link") && !strcmp(jstr(p, "link"), "down") &&
		    state && !strcmp(state, "up"))
			state = "link-down";
		/* A VM NIC (shm backend) has no TAP: show its model and MAC. */
		if (jstr(p, "tap"))
			snprintf(dev, sizeof(dev), "%s", jstr(p, "tap"));
		else if (jstr(p, "url")) /* a VDE port: where it plugs in */
			snprintf(dev, sizeof(dev), "%s", jstr(p, "url"));
		else if (jstr(p, "path")) /* vhost-user: where it listens */
			snprintf(dev, sizeof(dev), "%s", jstr(p, "path"));
		else if (jstr(p, "mac"))
			snprintf(dev, sizeof(dev), "%s %s",
				 jstr(p, "model") ? jstr(p, "model") : "vm",
				 jstr(p, "mac"));
		else
			snprintf(dev, sizeof(dev), "%s",
				 jstr(p, "backend") ? jstr(p, "backend") : "-");
		table_add(&t, jstr(p, "net"), jstr(p, "name"), dev,
			  opt_or_dash(jstr(p, "netns")),
			  opt_or_dash(jstr(p, "address")), vlan,
			  state ? state : "-", jint(cnt, "rx_frames", rxf),
			  jint(cnt, "rx_bytes", rxb),
			  jint(cnt, "tx_frames", txf),
			  jint(cnt, "tx_bytes", txb), dr);
	}
	t.skip_first = !with_net;
	table_print(&t);
	table_free(&t);
	for (i = 0; i < json_array_size(ports); i++) {
		p = json_array_get(ports, i);
		if (jstr(p, "error"))
			printf("port %s: %s\n", opt_or_dash(jstr(p, "name")),
			       jstr(p, "error"));
	}
	for (i = 0; i < json_array_size(ports); i++)
		print_antispoof(json_array_get(ports, i));
}

/* "10,20,30-39" into a JSON array. Return: 0 or -1. */
static int parse_trunk(const char *s, json_t *arr)
{
	char *copy = strdup(s), *tok, *save = NULL, *dash;
	long long a, b, v;
	int rc = -1;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		dash = strchr(tok, '-');
		if (dash)
			*dash = '\0';
		if (loom_parse_u32(tok, &a))
			goto out;
		b = a;
		if (dash && loom_parse_u32(dash + 1, &b))
			goto out;
		if (b < a || b - a > NETCONF_VLAN_MAX)
			goto out;
		for (v = a; v <= b; v++)
			json_array_append_new(arr, json_integer(v));
	}
	rc = json_array_size(arr) ? 0 : -1;
out:
	free(copy);
	return rc;
}

static int port_add(struct loom_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"tap", required_argument, NULL, OPT_TAP},
	    {"type", required_argument, NULL, OPT_TYPE},
	    {"vde", required_argument, NULL, OPT_VDE},
	    {"url", required_argument, NULL, OPT_URL},
	    {"vhost-user", required_argument, NULL, OPT_VHOST_USER},
	    {"path", required_argument, NULL, OPT_PATH},
	    {"parent", required_argument, NULL, OPT_PARENT},
	    {"macvtap-mode", required_argument, NULL, OPT_MACVTAP_MODE},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"netns", required_argument, NULL, OPT_NETNS},
	    {"address", required_argument, NULL, OPT_ADDRESS},
	    {"vlan", required_argument, NULL, OPT_VLAN},
	    {"trunk", required_argument, NULL, OPT_TRUNK},
	    {"native", required_argument, NULL, OPT_NATIVE},
	    {"antispoof", no_argument, NULL, OPT_ANTISPOOF},
	    {"no-antispoof", no_argument, NULL, OPT_NO_ANTISPOOF},
	    {"allow-ra", no_argument, NULL, OPT_ALLOW_RA},
	    {"allow-dhcp-server", no_argument, NULL, OPT_ALLOW_DHCP_SERVER},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = "port add";
	struct netconf_error err;
	struct netconf_port port;
	json_t *args, *result, *trunk, *p;
	char flag[64];
	long long v;
	int c, rc;

	args = json_object();
	if (!args)
		return LOOM_EXIT_NETD;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			ctx->json = true;
			break;
		case 'h':
			json_decref(args);
			fputs(usage_add, stdout);
			return LOOM_EXIT_OK;
		case OPT_TAP:
			json_object_set_new(args, "tap", json_string(optarg));
			break;
		case OPT_TYPE:
			json_object_set_new(args, "type", json_string(optarg));
			break;
		case OPT_VDE:
			json_object_set_new(args, "type", json_string("vde"));
			json_object_set_new(args, "url", json_string(optarg));
			break;
		case OPT_URL:
			json_object_set_new(args, "url", json_string(optarg));
			break;
		case OPT_VHOST_USER:
			json_object_set_new(args, "type",
					    json_string("vhost-user"));
			json_object_set_new(args, "path", json_string(optarg));
			break;
		case OPT_PATH:
			json_object_set_new(args, "path", json_string(optarg));
			break;
		case OPT_PARENT:
			json_object_set_new(args, "parent", json_string(optarg));
			break;
		case OPT_MACVTAP_MODE:
			json_object_set_new(args, "macvtap_mode",
					    json_string(optarg));
			break;
		case OPT_NAME:
			json_object_set_new(args, "name", json_string(optarg));
			break;
		case OPT_NETNS:
			json_object_set_new(args, "netns", json_string(optarg));
			break;
		case OPT_ADDRESS:
			json_object_set_new(args, "address",
					    json_string(optarg));
			break;
		case OPT_ANTISPOOF:
		case OPT_NO_ANTISPOOF:
			json_object_set_new(args, "antispoof",
					    json_boolean(c == OPT_ANTISPOOF));
			break;
		case OPT_ALLOW_RA:
			json_object_set_new(args, "allow_ra", json_true());
			break;
		case OPT_ALLOW_DHCP_SERVER:
			json_object_set_new(args, "allow_dhcp_server",
					    json_true());
			break;
		case OPT_VLAN:
		case OPT_NATIVE:
			if (loom_parse_u32(optarg, &v)) {
				json_decref(args);
				return loom_usage_err(
				    cmd,
				    "--%s: must be a VLAN number 1..4094, got "
				    "'%s'",
				    c == OPT_VLAN ? "vlan" : "native", optarg);
			}
			json_object_set_new(args,
					    c == OPT_VLAN ? "vlan" : "native",
					    json_integer(v));
			break;
		case OPT_TRUNK:
			trunk = json_array();
			if (!trunk || parse_trunk(optarg, trunk)) {
				json_decref(trunk);
				json_decref(args);
				return loom_usage_err(
				    cmd,
				    "--trunk: must be a list of VLANs like "
				    "10,20,30-39, got '%s'",
				    optarg);
			}
			json_object_set_new(args, "trunk", trunk);
			break;
		default:
			json_decref(args);
			return loom_opt_err(cmd, argv, c);
		}
	}
	if (argc - optind != 1) {
		json_decref(args);
		if (argc - optind == 0)
			return loom_usage_err(cmd, "missing the network NET");
		return loom_usage_err(cmd, "unexpected argument '%s'",
				      argv[optind + 1]);
	}
	if (!json_object_get(args, "tap") && !json_object_get(args, "type")) {
		json_decref(args);
		return loom_usage_err(cmd,
				      "missing --tap NAME (or --vde URL, --vhost-user PATH, --type TYPE)");
	}
	rc = netconf_port_from_json(args, &port, "", &err);
	if (rc) {
		json_decref(args);
		if (!err.path[0])
			return loom_usage_err(cmd, "%s", err.msg);
		loom_path_to_flag(err.path, flag, sizeof(flag));
		return loom_usage_err(cmd, "%s: %s", flag, err.msg);
	}
	netconf_port_clear(&port);
	json_object_set_new(args, "net", json_string(argv[optind]));
	rc = client_call(ctx, LOOM_CMD_PORT_ADD, args, &result);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(result);
	} else {
		p = json_object_get(result, "port");
		printf("added port %s to network %s\n",
		       opt_or_dash(jstr(p, "name")), argv[optind]);
	}
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int port_del(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *result;
	int rc;

	rc = parse_args(ctx, "port del", usage_del, argc, argv, 2, 2,
			"the network NET and the PORT", NULL);
	if (rc >= 0)
		return rc;
	rc = client_call(ctx, LOOM_CMD_PORT_DEL,
			 json_pack("{s:s, s:s}", "net", argv[optind], "port",
				   argv[optind + 1]),
			 &result);
	if (rc)
		return rc;
	if (ctx->json)
		loom_print_json(result);
	else
		printf("deleted port %s from network %s\n", argv[optind + 1],
		       argv[optind]);
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int port_set(struct loom_ctx *ctx, int argc, char **argv)
{
	const char *cmd = "port set", *what, *value;
	json_t *result, *p;
	int rc;

	rc = parse_args(ctx, cmd, usage_set, argc, argv, 4, 4,
			"NET PORT link up|down", NULL);
	if (rc >= 0)
		return rc;
	what = argv[optind + 2];
	value = argv[optind + 3];
	if (strcmp(what, "link"))
		return loom_usage_err(cmd, "unknown setting '%s' (settings: link)",
				      what);
	if (strcmp(value, "up") && strcmp(value, "down"))
		return loom_usage_err(cmd, "link must be 'up' or 'down', got '%s'",
				      value);
	rc = client_call(ctx, LOOM_CMD_PORT_SET,
			 json_pack("{s:s, s:s, s:s}", "net", argv[optind],
				   "port", argv[optind + 1], "link", value),
			 &result);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(result);
	} else {
		p = json_object_get(result, "port");
		printf("port %s of network %s: link %s\n", argv[optind + 1],
		       argv[optind], jstr(p, "link") ? jstr(p, "link") : value);
	}
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int port_list(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *result, *args = NULL;
	int rc;

	rc = parse_args(ctx, "port list", usage_list, argc, argv, 0, 1, NULL,
			NULL);
	if (rc >= 0)
		return rc;
	if (argc - optind == 1)
		args = json_pack("{s:s}", "net", argv[optind]);
	rc = client_call(ctx, LOOM_CMD_PORT_LIST, args, &result);
	if (rc)
		return rc;
	if (ctx->json)
		loom_print_json(result);
	else
		loom_print_ports(json_object_get(result, "ports"), true);
	json_decref(result);
	return LOOM_EXIT_OK;
}

static const struct loom_cmd port_cmds[] = {
    {"add", port_add, "add a TAP port"},
    {"del", port_del, "delete a port"},
    {"delete", port_del, "delete a port"},
    {"rm", port_del, "delete a port"},
    {"set", port_set, "set a port's link up or down"},
    {"list", port_list, "list ports"},
    {"ls", port_list, "list ports"},
    {NULL, NULL, NULL},
};

int cmd_port(struct loom_ctx *ctx, int argc, char **argv)
{
	return loom_dispatch(ctx, "port", port_cmds, usage_port, argc, argv);
}

static int fdb_show(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *result, *e;
	char vlan[24], age[24];
	struct table t;
	size_t i;
	int rc;

	rc = parse_args(ctx, "fdb show", usage_fdb_show, argc, argv, 1, 1,
			"the network NET", NULL);
	if (rc >= 0)
		return rc;
	rc = client_call(ctx, LOOM_CMD_FDB_SHOW,
			 json_pack("{s:s}", "net", argv[optind]), &result);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(result);
		json_decref(result);
		return LOOM_EXIT_OK;
	}
	table_init(&t, 4, "MAC", "VLAN", "PORT", "AGE");
	json_array_foreach(json_object_get(result, "entries"), i, e)
	    table_add(&t, jstr(e, "mac"), jint(e, "vlan", vlan),
		      jstr(e, "port"), jint(e, "age", age));
	table_print(&t);
	table_free(&t);
	json_decref(result);
	return LOOM_EXIT_OK;
}

static int fdb_flush(struct loom_ctx *ctx, int argc, char **argv)
{
	const char *port = NULL;
	json_t *result, *args;
	char n[24];
	int rc;

	rc = parse_args(ctx, "fdb flush", usage_fdb_flush, argc, argv, 1, 1,
			"the network NET", &port);
	if (rc >= 0)
		return rc;
	args = json_pack("{s:s}", "net", argv[optind]);
	if (args && port)
		json_object_set_new(args, "port", json_string(port));
	rc = client_call(ctx, LOOM_CMD_FDB_FLUSH, args, &result);
	if (rc)
		return rc;
	if (ctx->json)
		loom_print_json(result);
	else
		printf("flushed %s MAC entries from network %s\n",
		       jint(result, "flushed", n), argv[optind]);
	json_decref(result);
	return LOOM_EXIT_OK;
}

static const struct loom_cmd fdb_cmds[] = {
    {"show", fdb_show, "show the MAC table"},
    {"flush", fdb_flush, "flush the MAC table"},
    {NULL, NULL, NULL},
};

int cmd_fdb(struct loom_ctx *ctx, int argc, char **argv)
{
	return loom_dispatch(ctx, "fdb", fdb_cmds, usage_fdb, argc, argv);
}

int cmd_status(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *result, *v;
	const char *key;
	char b[24];
	int rc;

	rc = parse_args(ctx, "status", usage_status, argc, argv, 0, 0, NULL,
			NULL);
	if (rc >= 0)
		return rc;
	rc = client_call(ctx, LOOM_CMD_DAEMON_STATUS, NULL, &result);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(result);
		json_decref(result);
		return LOOM_EXIT_OK;
	}
	printf("loom-netd at %s\n", ctx->socket_path);
	json_object_foreach(result, key, v)
	{
		if (json_is_string(v))
			printf("  %-10s %s\n", key, json_string_value(v));
		else if (json_is_number(v) || json_is_boolean(v))
			printf("  %-10s %s\n", key, jint(result, key, b));
	}
	json_decref(result);
	return LOOM_EXIT_OK;
}
