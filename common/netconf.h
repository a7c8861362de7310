/* SPDX-License-Identifier: MIT */
/* netconf.h - network model: structs, YAML file, JSON, validation. */
#ifndef LOOM_COMMON_NETCONF_H
#define LOOM_COMMON_NETCONF_H

/*
 * One model of a network, shared by `loom` (which validates a file before
 * sending it) and loom-netd (which loads --config files and receives the same
 * objects as JSON on its control socket). The YAML file format and its JSON
 * twin use the same field names; docs/network-file.md documents them.
 *
 * Linking: common/netconf_*.c live in build/libloomcommon.a; a program that
 * uses it also links $(NETCONF_LDLIBS) (defined in cli/module.mk:
 * -lcyaml -lyaml -ljansson).
 *
 * Ownership: every pointer inside these structs (strings, arrays) is owned by
 * the struct and allocated with malloc(); netconf_free(), netconf_net_clear()
 * and netconf_port_clear() release them. A value of 0 in an integer field
 * means "not given"; netconf_*_set_defaults() fills the defaults in, and the
 * loaders and JSON parsers call it after a successful validation, so a loaded
 * object is always complete.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum netconf_mode {
	NETCONF_MODE_NAT, /* the default: libslirp uplink (backends/slirp.h) */
	NETCONF_MODE_ISOLATED,
	NETCONF_MODE_SWITCH,
	NETCONF_MODE_BRIDGE, /* a Linux bridge netd owns (netd/bridge.c) */
};

/* Limits enforced by validation (docs/network-file.md lists them too). */
enum netconf_limits {
	NETCONF_NAME_MAX = 32,		/* network and port names */
	NETCONF_IFNAME_MAX = 15,	/* TAP names (IFNAMSIZ - 1) */
	NETCONF_NETNS_MAX = 64,		/* network namespace names */
	NETCONF_URL_MAX = 1023,		/* a port's url */
	NETCONF_PATH_MAX = 107,		/* a port's socket path (sun_path) */
	NETCONF_NETWORKS_MAX = 256,	/* networks in one file */
	NETCONF_PORTS_MAX = 1024,	/* ports per network */
	NETCONF_LINK_DOWN_MAX = 2048,	/* link_down names: ports + VM ports */
	NETCONF_PORTS_TOTAL_MAX = 4096, /* ports in one file, all networks */
	NETCONF_VLAN_MIN = 1,
	NETCONF_VLAN_MAX = 4094,
	NETCONF_MTU_MIN = 68,
	NETCONF_MTU_MAX = 65535,
	NETCONF_MAC_TABLE_MIN = 16,
	NETCONF_MAC_TABLE_MAX = 1048576,
	NETCONF_MAC_AGING_MIN = 1, /* seconds */
	NETCONF_MAC_AGING_MAX = 86400,
	NETCONF_FILE_MAX = 1 << 20, /* bytes in a YAML file */
	NETCONF_FORWARDS_MAX = 256, /* port forwards per nat network */
	NETCONF_NAT_MTU_MAX = 65520, /* libslirp's limit (65521) */
	NETCONF_CAPTURES_MAX = 8,    /* declared captures per network */
	NETCONF_DHCP_HOSTS_MAX = 1024, /* static hosts per network */
	NETCONF_DHCP_POOL_MAX = 65536, /* addresses in a DHCP range */
	NETCONF_DHCP_NTP_MAX = 4,
	NETCONF_DHCP_ROUTES_MAX = 16, /* option 121 routes (services/dhcp.h) */
	NETCONF_DHCP_LEASE_MIN = 60,	  /* seconds */
	NETCONF_DHCP_LEASE_MAX = 2592000, /* 30 days */
	NETCONF_DNS_UPSTREAM_MAX = 4,
	NETCONF_CAPTURE_FILTER_MAX = 4095,
	NETCONF_CAPTURE_ROTATE_SIZE_MAX = 65536, /* MiB per file */
	NETCONF_CAPTURE_ROTATE_FILES_MAX = 1000,
	NETCONF_CAPTURE_SNAPLEN_MAX = 262144,
	NETCONF_CAPTURE_ROTATE_SIZE_DEFAULT = 16,
	NETCONF_CAPTURE_ROTATE_FILES_DEFAULT = 4,
};

/* Defaults filled in by netconf_net_set_defaults(). */
enum netconf_defaults {
	NETCONF_DEFAULT_MTU = 1500,
	NETCONF_DEFAULT_MAC_TABLE_SIZE = 4096,
	NETCONF_DEFAULT_MAC_AGING = 300,
	NETCONF_DEFAULT_VLAN = 1, /* a port with neither vlan nor trunk */
};

/**
 * struct netconf_port - one port of a network.
 * @type: the port backend (backends/registry.c): NULL or "tap" for a TAP
 *        port; another type ("loopback") has no @tap, @netns, @address.
 * @name: unique within its network; defaults to @tap; required without.
 * @tap: TAP interface name, required for a TAP port.
 * @netns: network namespace the TAP is moved into, or NULL.
 * @address: "ADDR/PREFIX" set on the TAP, or NULL.
 * @parent: type macvtap: the interface the macvtap sits on (netd's namespace).
 * @macvtap_mode: type macvtap: bridge (default), private, vepa, passthru.
 * @url: where a port of another type connects (type vde: a libvdeplug URL,
 *       docs/vde.md), or NULL; at most NETCONF_URL_MAX bytes, printable.
 * @path: type vhost-user: the Unix socket netd listens on for the front
 *        end (docs/vhost-user.md), or NULL; at most NETCONF_PATH_MAX bytes.
 * @vlan: access VLAN (1..4094); 0 when @trunk is used.
 * @trunk: tagged VLANs of a trunk port, @trunk_count entries, or NULL.
 * @native: VLAN of untagged frames on a trunk port, 0 for none (untagged
 *          frames are dropped).
 * @antispoof: NULL (the default, netconf_port_antispoof()), or on/off.
 * @allow_ra, @allow_dhcp_server: with anti-spoofing on, the guest may
 *          still send router advertisements / DHCP server replies.
 */
struct netconf_port {
	char *type;
	char *name;
	char *tap;
	char *netns;
	char *address;
	char *url;
	char *path;
	char *parent;
	char *macvtap_mode;
	uint32_t vlan;
	uint32_t *trunk;
	uint32_t trunk_count;
	uint32_t native;
	bool *antispoof;
	bool allow_ra;
	bool allow_dhcp_server;
};

/*
 * netconf_port_antispoof - is anti-spoofing (common/antispoof.h) on for
 * @port of @net? `antispoof:` when given; otherwise on for a bridge
 * network's veth and TAP access ports (a trunk, a vlan or macvtap port
 * carries other hosts' frames) and off elsewhere.
 */
struct netconf_net;
bool netconf_port_antispoof(const struct netconf_net *net,
			    const struct netconf_port *port);

/* Protocol of a port forward. */
enum netconf_fwd_proto {
	NETCONF_FWD_TCP = 0,
	NETCONF_FWD_UDP = 1,
};

/**
 * struct netconf_forward - one port forward of a nat network (common/fwdspec.h
 * has the text forms).
 * @host: "[ADDR:]PORT" the host listens on; after defaults the canonical
 *        "ADDR:PORT" / "[ADDR]:PORT", which identifies the forward with
 *        @proto.
 * @guest: "ADDR[:PORT]" in the network; after defaults always with a port.
 */
struct netconf_forward {
	enum netconf_fwd_proto proto;
	char *host;
	char *guest;
};

/**
 * struct netconf_capture - a capture declared with its network: always
 * running while the network exists, into rotating files netd writes
 * (docs/capture.md, "Declared captures").
 * @name: identifies it in the network; the default file is named after it
 * @ports: port names (@port_count), none: every port
 * @filter: BPF filter text (checked by netd when it starts), or NULL
 * @file: absolute path prefix of the files (FILE.0 .. FILE.N-1), or NULL:
 *        netd's STATE_DIR/captures/NET.NAME.pcapng
 * @rotate_size: MiB per file; @rotate_files: files kept; @snaplen: bytes
 */
struct netconf_capture {
	char *name;
	char **ports;
	uint32_t port_count;
	char *filter;
	char *file;
	uint32_t rotate_size;
	uint32_t rotate_files;
	uint32_t snaplen;
};

/*
 * The gateway's services (netconf_services.c, docs/network-file.md).
 * struct netconf_dhcp_host - a static host: @mac always gets @address;
 *        @name (a DNS label) resolves to it.
 * struct netconf_dhcp - `dhcp:`: @enabled NULL means on (on a network
 *        with an IPv4 subnet); @range "FIRST-LAST" (default: the upper
 *        half of the subnet); @lease_time seconds (default 3600);
 *        @ntp addresses (option 42).
 * struct netconf_dns - `dns:`: @domain (default NET.loom); @upstream
 *        addresses (default: the host's /etc/resolv.conf servers).
 */
struct netconf_dhcp_host {
	char *mac;
	char *address;
	char *name;
};

/* A classless static route (option 121): @to "NET/PREFIX" via @via. */
struct netconf_dhcp_route {
	char *to;
	char *via;
};

struct netconf_dhcp {
	bool *enabled;
	char *range;
	uint32_t lease_time;
	struct netconf_dhcp_host *hosts;
	uint32_t host_count;
	char **ntp;
	uint32_t ntp_count;
	struct netconf_dhcp_route *routes;
	uint32_t route_count;
};

struct netconf_dns {
	bool *enabled;
	char *domain;
	char **upstream;
	uint32_t upstream_count;
};

/* netconf_mac_parse - "aa:bb:cc:dd:ee:ff". Return: 0 or -EINVAL. */
int netconf_mac_parse(const char *s, uint8_t mac[6]);
/* netconf_dhcp_range_parse - "FIRST-LAST", host order. Return: 0/-EINVAL. */
int netconf_dhcp_range_parse(const char *s, uint32_t *first, uint32_t *last);

/**
 * struct netconf_net - one network.
 * @subnet: "ADDR/PREFIX" with no host bits, or NULL for a pure L2 network.
 * @gateway: netd's own address in @subnet; defaults to its first host.
 * @mac_aging: seconds a learnt MAC stays without traffic.
 * @subnet6, @gateway6: nat: the IPv6 prefix libslirp advertises and its
 *        address in it (default: the first host), or NULL for no IPv6.
 * @host_loopback: nat: the gateway address reaches the host's loopback.
 * @nat: bridge: masquerade the subnet to the host's other interfaces
 *        (nftables, netd/knat.c); a nat network always translates.
 * @forwards: nat and bridge: port forwards from the host, @forward_count
 *        entries.
 * @bridge: bridge: the Linux bridge's name (default: derived from @name,
 *        netconf_bridge.c).
 * @bridge_address: bridge: "ADDR/PREFIX" the host gets on the bridge, or
 *        NULL for none.
 * @link_down: names of ports (declared ones, or VM ports by their name)
 *        whose link is set down (`loom port set NET PORT link down`),
 *        @link_down_count entries (netconf_link.c).
 */
struct netconf_net {
	char *name;
	enum netconf_mode mode;
	char *subnet;
	char *gateway;
	char *subnet6;
	char *gateway6;
	bool host_loopback;
	bool nat;
	struct netconf_forward *forwards;
	uint32_t forward_count;
	struct netconf_capture *captures; /* declared captures, @capture_count */
	uint32_t capture_count;
	char *bridge;
	char *bridge_address;
	struct netconf_dhcp *dhcp; /* the gateway's services, or NULL: defaults */
	struct netconf_dns *dns;
	uint32_t mtu;
	uint32_t mac_table_size;
	uint32_t mac_aging;
	struct netconf_port *ports;
	uint32_t port_count;
	char **link_down;
	uint32_t link_down_count;
};

/* netconf_link_is_down() - @port is listed in @net's link_down. */
bool netconf_link_is_down(const struct netconf_net *net, const char *port);
/*
 * netconf_link_set() - list (@down) or unlist @port in @net's link_down.
 * Return: 0 (also when nothing changed), -ENOSPC, -ENOMEM.
 */
int netconf_link_set(struct netconf_net *net, const char *port, bool down);

/* struct netconf - the contents of a network file. */
struct netconf {
	struct netconf_net *networks;
	uint32_t network_count;
};

/**
 * struct netconf_error - where and why a configuration was refused.
 * @file: file name, "" when the input was not a file.
 * @line: 1-based line, 0 when unknown (JSON input).
 * @path: field path, e.g. "networks[0].ports[1].vlan"; "" for the whole input.
 * @msg: what is wrong, for a person.
 */
struct netconf_error {
	char file[256];
	unsigned int line;
	char path[128];
	char msg[320];
};

/**
 * netconf_load_file() - read, parse, validate a YAML network file.
 * @path: file to read (at most NETCONF_FILE_MAX bytes).
 * @out: set to a complete configuration on success; free with netconf_free().
 * @err: filled on failure.
 *
 * The file holds either `networks:` (a list) or a single network mapping.
 * Return: 0, -EINVAL for an invalid file (@err says where), or another
 * negative errno (@err says why).
 */
int netconf_load_file(const char *path, struct netconf **out,
		      struct netconf_error *err);

/**
 * netconf_load_buffer() - the same from memory.
 * @name: file name used in error messages.
 */
int netconf_load_buffer(const char *name, const void *data, size_t len,
			struct netconf **out, struct netconf_error *err);

void netconf_free(struct netconf *cfg);
void netconf_net_clear(struct netconf_net *net);
void netconf_port_clear(struct netconf_port *port);

/**
 * netconf_validate() - check a whole configuration (names unique, TAPs
 * unique across networks, every network and port valid).
 * Return: 0 or -EINVAL with @err->path and @err->msg set.
 */
int netconf_validate(const struct netconf *cfg, struct netconf_error *err);

/**
 * netconf_net_validate() - check one network and its ports.
 * @path: path prefix for errors ("networks[0]" or "").
 * Return: 0 or -EINVAL.
 */
int netconf_net_validate(const struct netconf_net *net, const char *path,
			 struct netconf_error *err);

/* The port type of a TAP port: @type NULL means this too. */
#define NETCONF_PORT_TYPE_TAP "tap"

/* netconf_port_type() - @port's backend name ("tap" when unset). */
const char *netconf_port_type(const struct netconf_port *port);

/* netconf_port_is_tap() - a TAP port (@type unset or "tap"). */
int netconf_port_is_tap(const struct netconf_port *port);

/* A veth pair into a namespace: bridge networks only (netd/bridge.c). */
#define NETCONF_PORT_TYPE_VETH "veth"
/* An 802.1Q sub-interface PARENT.VID on a bridge (netd/bridge.c). */
#define NETCONF_PORT_TYPE_VLAN "vlan"
/* A macvtap on a parent device (backends/macvtap.c). */
#define NETCONF_PORT_TYPE_MACVTAP "macvtap"

/*
 * netconf_port_has_ifname() - a port that is a kernel interface netd makes
 * (tap, veth): it has `tap` (the interface's name), `netns`, `address`.
 */
int netconf_port_has_ifname(const struct netconf_port *port);

/**
 * netconf_port_validate() - check one port, alone or within @net.
 * @net: the port's network, or NULL to check the port alone. With @net the
 *       address must lie in its subnet and differ from its gateway; name,
 *       TAP and address uniqueness against @net's other ports is checked by
 *       netconf_net_validate() (netd checks it when adding a port).
 * Return: 0 or -EINVAL.
 */
int netconf_port_validate(const struct netconf_port *port,
			  const struct netconf_net *net, const char *path,
			  struct netconf_error *err);

/**
 * netconf_net_set_defaults() - fill unset fields (mtu, MAC table, aging,
 * gateway, port names and VLANs) of a validated network.
 * Return: 0 or -ENOMEM.
 */
int netconf_net_set_defaults(struct netconf_net *net);
int netconf_port_set_defaults(struct netconf_port *port);

/* JSON twins (jansson). The *_to_json() functions return a new reference or
 * NULL on allocation failure; unset optional fields are left out. */
json_t *netconf_to_json(const struct netconf *cfg);
json_t *netconf_net_to_json(const struct netconf_net *net);
json_t *netconf_port_to_json(const struct netconf_port *port);

/**
 * netconf_from_json() - parse {"networks":[...]} or a single network object,
 * then validate it and set defaults, like netconf_load_buffer().
 * Return: 0 or -EINVAL/-ENOMEM with @err set (@err->line is 0).
 */
int netconf_from_json(const json_t *j, struct netconf **out,
		      struct netconf_error *err);

/**
 * netconf_net_from_json() - parse, validate and complete one network object.
 * @out: filled on success; release with netconf_net_clear().
 * Return: 0 or -EINVAL/-ENOMEM.
 */
int netconf_net_from_json(const json_t *j, struct netconf_net *out,
			  const char *path, struct netconf_error *err);

/**
 * netconf_port_from_json() - parse, validate (alone) and complete one port.
 * The caller checks it against its network with netconf_port_validate().
 * Return: 0 or -EINVAL/-ENOMEM.
 */
int netconf_port_from_json(const json_t *j, struct netconf_port *out,
			   const char *path, struct netconf_error *err);

/*
 * Port forwards (common/netconf_nat.c). netconf_forward_validate() checks
 * one forward alone (@net NULL) or within @net (guest address in its
 * subnets, not the gateway; no other forward of @net on the same host
 * address, port and protocol); netconf_forward_set_defaults() makes its
 * strings canonical.
 */
int netconf_forward_validate(const struct netconf_forward *fwd,
			     const struct netconf_net *net, const char *path,
			     struct netconf_error *err);
int netconf_forward_set_defaults(struct netconf_forward *fwd);
void netconf_forward_clear(struct netconf_forward *fwd);
json_t *netconf_forward_to_json(const struct netconf_forward *fwd);
/* Parse, validate alone and complete one forward object. Return: 0/-errno. */
int netconf_forward_from_json(const json_t *j, struct netconf_forward *out,
			      const char *path, struct netconf_error *err);
/* "tcp" / "udp". */
const char *netconf_fwd_proto_name(enum netconf_fwd_proto proto);

/* Mode names: "nat", "isolated", "switch", "bridge". */
const char *netconf_mode_name(enum netconf_mode mode);
/* Return: 0 with *mode set, or -EINVAL for an unknown name. */
int netconf_mode_parse(const char *name, enum netconf_mode *mode);
/* Return: true for a mode this version implements. */
int netconf_mode_supported(enum netconf_mode mode);

/* Addresses and CIDRs: common/inet.h. */

/**
 * netconf_error_format() - "FILE:LINE: PATH: MSG" (parts that are unset are
 * left out).
 * Return: @buf.
 */
char *netconf_error_format(const struct netconf_error *err, char *buf,
			   size_t len);

#endif
