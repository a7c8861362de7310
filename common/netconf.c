/* SPDX-License-Identifier: MIT */
/* netconf.c - network file: cyaml schema, line-aware checks, JSON. */
#include "common/netconf.h"
#include "common/suggest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

enum { PATH_MAX_LEN = sizeof(((struct netconf_error *)0)->path) };

/* ---------------------------------------------------------------------- */
/* Modes */

static const cyaml_strval_t mode_strings[] = {
    {"nat", NETCONF_MODE_NAT},
    {"isolated", NETCONF_MODE_ISOLATED},
    {"switch", NETCONF_MODE_SWITCH},
    {"bridge", NETCONF_MODE_BRIDGE},
};

const char *netconf_mode_name(enum netconf_mode mode)
{
	size_t i;

	for (i = 0; i < CYAML_ARRAY_LEN(mode_strings); i++)
		if (mode_strings[i].val == (int64_t)mode)
			return mode_strings[i].str;
	return "unknown";
}

int netconf_mode_parse(const char *name, enum netconf_mode *mode)
{
	size_t i;

	for (i = 0; i < CYAML_ARRAY_LEN(mode_strings); i++) {
		if (!strcmp(mode_strings[i].str, name)) {
			*mode = (enum netconf_mode)mode_strings[i].val;
			return 0;
		}
	}
	return -EINVAL;
}

int netconf_mode_supported(enum netconf_mode mode)
{
	return mode == NETCONF_MODE_SWITCH || mode == NETCONF_MODE_ISOLATED;
}

/* ---------------------------------------------------------------------- */
/* The schema: libcyaml loads with it, and the positional pre-check below
 * walks the same tables, so field names and kinds live in one place. */

static const cyaml_schema_value_t vlan_entry = {
    CYAML_VALUE_UINT(CYAML_FLAG_DEFAULT, uint32_t),
};

static const cyaml_schema_field_t port_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_OPTIONAL, struct netconf_port,
			   name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("tap", CYAML_FLAG_DEFAULT, struct netconf_port, tap,
			   0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("netns", CYAML_FLAG_OPTIONAL, struct netconf_port,
			   netns, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("address", CYAML_FLAG_OPTIONAL, struct netconf_port,
			   address, 0, CYAML_UNLIMITED),
    CYAML_FIELD_UINT("vlan", CYAML_FLAG_OPTIONAL, struct netconf_port, vlan),
    CYAML_FIELD_SEQUENCE_COUNT(
	"trunk", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct netconf_port,
	trunk, trunk_count, &vlan_entry, 1, NETCONF_VLAN_MAX),
    CYAML_FIELD_UINT("native", CYAML_FLAG_OPTIONAL, struct netconf_port,
		     native),
    CYAML_FIELD_END};

static const cyaml_schema_value_t port_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct netconf_port, port_fields),
};

static const cyaml_schema_field_t net_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_DEFAULT, struct netconf_net, name,
			   0, CYAML_UNLIMITED),
    CYAML_FIELD_ENUM("mode", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT,
		     struct netconf_net, mode, mode_strings,
		     CYAML_ARRAY_LEN(mode_strings)),
    CYAML_FIELD_STRING_PTR("subnet", CYAML_FLAG_OPTIONAL, struct netconf_net,
			   subnet, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("gateway", CYAML_FLAG_OPTIONAL, struct netconf_net,
			   gateway, 0, CYAML_UNLIMITED),
    CYAML_FIELD_UINT("mtu", CYAML_FLAG_OPTIONAL, struct netconf_net, mtu),
    CYAML_FIELD_UINT("mac_table_size", CYAML_FLAG_OPTIONAL, struct netconf_net,
		     mac_table_size),
    CYAML_FIELD_UINT("mac_aging", CYAML_FLAG_OPTIONAL, struct netconf_net,
		     mac_aging),
    CYAML_FIELD_SEQUENCE_COUNT(
	"ports", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct netconf_net,
	ports, port_count, &port_entry, 0, NETCONF_PORTS_MAX),
    CYAML_FIELD_END};

static const cyaml_schema_value_t net_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct netconf_net, net_fields),
};

static const cyaml_schema_field_t file_fields[] = {
    CYAML_FIELD_SEQUENCE_COUNT("networks", CYAML_FLAG_POINTER, struct netconf,
			       networks, network_count, &net_entry, 1,
			       NETCONF_NETWORKS_MAX),
    CYAML_FIELD_END};

static const cyaml_schema_value_t file_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct netconf, file_fields),
};

static const cyaml_schema_value_t single_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct netconf_net, net_fields),
};

/* Integer ranges by field name; 0 is never valid, so 0 can mean "unset". */
struct int_range {
	const char *key;
	uint32_t min, max;
};

static const struct int_range int_ranges[] = {
    {"mtu", NETCONF_MTU_MIN, NETCONF_MTU_MAX},
    {"mac_table_size", NETCONF_MAC_TABLE_MIN, NETCONF_MAC_TABLE_MAX},
    {"mac_aging", NETCONF_MAC_AGING_MIN, NETCONF_MAC_AGING_MAX},
    {"vlan", NETCONF_VLAN_MIN, NETCONF_VLAN_MAX},
    {"native", NETCONF_VLAN_MIN, NETCONF_VLAN_MAX},
    {"trunk", NETCONF_VLAN_MIN, NETCONF_VLAN_MAX},
};

static const struct int_range *int_range_find(const char *key)
{
	size_t i;

	for (i = 0; i < CYAML_ARRAY_LEN(int_ranges); i++)
		if (!strcmp(int_ranges[i].key, key))
			return &int_ranges[i];
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Errors and paths */

static int err_set(struct netconf_error *err, const char *path, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

static int err_set(struct netconf_error *err, const char *path, const char *fmt,
		   ...)
{
	va_list ap;

	if (!err)
		return -EINVAL;
	snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void err_clear(struct netconf_error *err, const char *file)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
}

char *netconf_error_format(const struct netconf_error *err, char *buf,
			   size_t len)
{
	size_t off = 0;
	int n;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (err->file[0]) {
		if (err->line)
			n = snprintf(buf, len, "%s:%u: ", err->file, err->line);
		else
			n = snprintf(buf, len, "%s: ", err->file);
		off = n > 0 ? (size_t)n : 0;
	}
	if (off < len && err->path[0]) {
		n = snprintf(buf + off, len - off, "%s: ", err->path);
		off += n > 0 ? (size_t)n : 0;
	}
	if (off < len)
		snprintf(buf + off, len - off, "%s", err->msg);
	return buf;
}

static void path_fmt(char *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Paths are bounded by the schema's depth; a too long one is cut, not
 * overflowed (vsnprintf, so no truncation warnings on every caller). */
static void path_fmt(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, PATH_MAX_LEN, fmt, ap);
	va_end(ap);
}

/* Appends ".field" (or "field" at the root) to @base into @out. */
static void path_field(char *out, const char *base, const char *field)
{
	path_fmt(out, "%s%s%s", base, base[0] ? "." : "", field);
}

static void path_index(char *out, const char *base, const char *field,
		       unsigned int idx)
{
	path_fmt(out, "%s%s%s[%u]", base, base[0] ? "." : "", field, idx);
}

/* "unknown mode 'swich' (did you mean 'switch'?): use ...". */
static void mode_unknown_msg(const char *given, char *buf, size_t len)
{
	const char *best = NULL;
	unsigned int d, best_d = 3;
	size_t i;

	for (i = 0; i < CYAML_ARRAY_LEN(mode_strings); i++) {
		d = edit_distance(given, mode_strings[i].str);
		if (d < best_d) {
			best_d = d;
			best = mode_strings[i].str;
		}
	}
	snprintf(buf, len,
		 "unknown mode '%.40s'%s%s%s: use switch or isolated (nat and "
		 "bridge are not supported yet)",
		 given, best ? " (did you mean '" : "", best ? best : "",
		 best ? "'?)" : "");
}

static const cyaml_schema_field_t *field_find(const cyaml_schema_field_t *f,
					      const char *key)
{
	for (; f->key; f++)
		if (!strcmp(f->key, key))
			return f;
	return NULL;
}

static int err_unknown_field(struct netconf_error *err, const char *path,
			     const cyaml_schema_field_t *fields,
			     const char *key)
{
	const cyaml_schema_field_t *f, *best = NULL;
	unsigned int d, best_d = 3;

	for (f = fields; f->key; f++) {
		d = edit_distance(key, f->key);
		if (d < best_d) {
			best_d = d;
			best = f;
		}
	}
	if (best)
		return err_set(err, path,
			       "unknown field '%s' (did you mean '%s'?)", key,
			       best->key);
	return err_set(err, path, "unknown field '%s'", key);
}

/* ---------------------------------------------------------------------- */
/* Addresses */

int netconf_ip_parse(const char *s, struct netconf_cidr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = AF_INET6;
		out->prefix = 128;
		return 0;
	}
	return -EINVAL;
}

int netconf_cidr_parse(const char *s, struct netconf_cidr *out)
{
	char buf[64], *slash, *end;
	unsigned long prefix;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash || !slash[1] || slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	*slash = '\0';
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (errno || *end || (slash[1] == '0' && slash[2]))
		return -EINVAL;
	if (netconf_ip_parse(buf, out))
		return -EINVAL;
	if (prefix > out->prefix)
		return -EINVAL;
	out->prefix = (unsigned int)prefix;
	return 0;
}

static unsigned int cidr_bytes(const struct netconf_cidr *c)
{
	return c->family == AF_INET ? 4 : 16;
}

/* Copies @c with the host bits cleared (@host false) or set (@host true). */
static void cidr_edge(const struct netconf_cidr *c, struct netconf_cidr *out,
		      bool host)
{
	unsigned int i, bits;

	*out = *c;
	for (i = 0; i < cidr_bytes(c); i++) {
		bits = c->prefix > i * 8 ? c->prefix - i * 8 : 0;
		if (bits >= 8)
			continue;
		if (host)
			out->addr[i] |= (uint8_t)(0xff >> bits);
		else
			out->addr[i] &= (uint8_t) ~(0xff >> bits);
	}
}

static bool cidr_contains(const struct netconf_cidr *net,
			  const struct netconf_cidr *ip)
{
	struct netconf_cidr a, b = *ip;

	if (net->family != ip->family)
		return false;
	b.prefix = net->prefix;
	cidr_edge(net, &a, false);
	cidr_edge(&b, &b, false);
	return !memcmp(a.addr, b.addr, cidr_bytes(net));
}

static bool addr_equal(const struct netconf_cidr *a,
		       const struct netconf_cidr *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, cidr_bytes(a));
}

static void addr_format(const struct netconf_cidr *c, char *buf, size_t len,
			bool with_prefix)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->addr, ip, sizeof(ip));
	if (with_prefix)
		snprintf(buf, len, "%s/%u", ip, c->prefix);
	else
		snprintf(buf, len, "%s", ip);
}

/* The first host of a subnet: the default gateway. */
static void subnet_first_host(const struct netconf_cidr *subnet,
			      struct netconf_cidr *out)
{
	int i;

	cidr_edge(subnet, out, false);
	for (i = (int)cidr_bytes(subnet) - 1; i >= 0; i--)
		if (++out->addr[i])
			break;
}

/* ---------------------------------------------------------------------- */
/* Validation */

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Names: 1..@max characters of [A-Za-z0-9_.-], first one alphanumeric. */
static int name_check(const char *s, size_t max, const char *path,
		      const char *what, struct netconf_error *err)
{
	size_t i, len = strlen(s);

	if (len == 0)
		return err_set(err, path, "%s must not be empty", what);
	if (len > max)
		return err_set(
		    err, path,
		    "%s must be at most %zu characters, got '%s' (%zu)", what,
		    max, s, len);
	for (i = 0; i < len; i++)
		if (!name_char_ok(s[i]))
			return err_set(err, path,
				       "%s may hold only letters, digits, '_', "
				       "'.' and '-', got '%s'",
				       what, s);
	if (s[0] == '.' || s[0] == '-' || s[0] == '_')
		return err_set(
		    err, path,
		    "%s must start with a letter or a digit, got '%s'", what,
		    s);
	return 0;
}

static int range_check(const char *key, uint32_t v, const char *path,
		       struct netconf_error *err)
{
	const struct int_range *r = int_range_find(key);

	if (r && (v < r->min || v > r->max))
		return err_set(err, path, "must be %u..%u, got %u", r->min,
			       r->max, v);
	return 0;
}

/* Checks subnet and gateway; fills @subnet and @gw (gw->family 0 if none). */
static int net_addr_check(const struct netconf_net *net, const char *path,
			  struct netconf_cidr *subnet, struct netconf_cidr *gw,
			  struct netconf_error *err)
{
	char p[PATH_MAX_LEN], fix[64];
	struct netconf_cidr edge;
	unsigned int maxp;

	memset(subnet, 0, sizeof(*subnet));
	memset(gw, 0, sizeof(*gw));
	if (net->subnet) {
		path_field(p, path, "subnet");
		if (netconf_cidr_parse(net->subnet, subnet))
			return err_set(err, p,
				       "must be ADDRESS/PREFIX (e.g. "
				       "10.10.0.0/24), got '%s'",
				       net->subnet);
		cidr_edge(subnet, &edge, false);
		if (!addr_equal(&edge, subnet)) {
			addr_format(&edge, fix, sizeof(fix), true);
			return err_set(
			    err, p, "%s has host bits set (did you mean %s?)",
			    net->subnet, fix);
		}
		maxp = subnet->family == AF_INET ? 30 : 126;
		if (subnet->prefix > maxp || subnet->prefix < 8)
			return err_set(err, p,
				       "prefix must be /8../%u to hold a "
				       "gateway and hosts, got /%u",
				       maxp, subnet->prefix);
	}
	if (net->gateway) {
		path_field(p, path, "gateway");
		if (!net->subnet)
			return err_set(err, p, "a gateway needs a subnet");
		if (netconf_ip_parse(net->gateway, gw))
			return err_set(
			    err, p,
			    "must be an IP address without prefix, got '%s'",
			    net->gateway);
		if (!cidr_contains(subnet, gw))
			return err_set(err, p, "%s is outside subnet %s",
				       net->gateway, net->subnet);
		cidr_edge(subnet, &edge, false);
		if (addr_equal(&edge, gw))
			return err_set(
			    err, p,
			    "%s is the subnet's own address, not a host",
			    net->gateway);
		cidr_edge(subnet, &edge, true);
		if (gw->family == AF_INET && addr_equal(&edge, gw))
			return err_set(err, p,
				       "%s is the subnet's broadcast address",
				       net->gateway);
	} else if (net->subnet) {
		subnet_first_host(subnet, gw);
	}
	return 0;
}

static int port_check(const struct netconf_port *port,
		      const struct netconf_cidr *subnet,
		      const struct netconf_cidr *gw, const char *subnet_str,
		      const char *path, struct netconf_error *err)
{
	char p[PATH_MAX_LEN], gws[64];
	struct netconf_cidr addr, edge;
	uint32_t i, j;
	int rc;

	path_field(p, path, "tap");
	if (!port->tap)
		return err_set(err, path, "missing field 'tap'");
	rc = name_check(port->tap, NETCONF_IFNAME_MAX, p, "a TAP name", err);
	if (rc)
		return rc;
	if (port->name) {
		path_field(p, path, "name");
		rc = name_check(port->name, NETCONF_NAME_MAX, p, "a port name",
				err);
		if (rc)
			return rc;
	}
	if (port->netns) {
		path_field(p, path, "netns");
		rc = name_check(port->netns, NETCONF_NETNS_MAX, p,
				"a namespace name", err);
		if (rc)
			return rc;
	}
	if (port->address) {
		path_field(p, path, "address");
		if (netconf_cidr_parse(port->address, &addr))
			return err_set(err, p,
				       "must be ADDRESS/PREFIX (e.g. "
				       "10.10.0.2/24), got '%s'",
				       port->address);
		if (subnet && subnet->family == addr.family) {
			if (!cidr_contains(subnet, &addr))
				return err_set(err, p,
					       "%s is outside subnet %s",
					       port->address, subnet_str);
			cidr_edge(subnet, &edge, false);
			if (addr_equal(&edge, &addr))
				return err_set(err, p,
					       "%s is the subnet's own "
					       "address, not a host",
					       port->address);
			cidr_edge(subnet, &edge, true);
			if (addr.family == AF_INET && addr_equal(&edge, &addr))
				return err_set(
				    err, p,
				    "%s is the subnet's broadcast address",
				    port->address);
		}
		if (gw && gw->family && addr_equal(gw, &addr)) {
			addr_format(gw, gws, sizeof(gws), false);
			return err_set(err, p,
				       "%s is the network's gateway (%s), "
				       "owned by loom-netd",
				       port->address, gws);
		}
	}
	if (port->vlan) {
		path_field(p, path, "vlan");
		rc = range_check("vlan", port->vlan, p, err);
		if (rc)
			return rc;
		if (port->trunk_count)
			return err_set(err, p,
				       "vlan (an access port) and trunk (a "
				       "trunk port) exclude each other");
	}
	for (i = 0; i < port->trunk_count; i++) {
		path_index(p, path, "trunk", i);
		rc = range_check("trunk", port->trunk[i], p, err);
		if (rc)
			return rc;
		for (j = 0; j < i; j++)
			if (port->trunk[j] == port->trunk[i])
				return err_set(err, p,
					       "VLAN %u is listed twice",
					       port->trunk[i]);
	}
	if (port->native) {
		path_field(p, path, "native");
		rc = range_check("native", port->native, p, err);
		if (rc)
			return rc;
		if (!port->trunk_count)
			return err_set(err, p,
				       "native needs trunk: it is the VLAN of "
				       "untagged frames on a trunk port");
	}
	return 0;
}

int netconf_port_validate(const struct netconf_port *port,
			  const struct netconf_net *net, const char *path,
			  struct netconf_error *err)
{
	struct netconf_cidr subnet, gw;
	int rc;

	path = path ? path : "";
	if (!net)
		return port_check(port, NULL, NULL, NULL, path, err);
	rc = net_addr_check(net, "", &subnet, &gw, err);
	if (rc)
		return rc;
	return port_check(port, net->subnet ? &subnet : NULL, &gw, net->subnet,
			  path, err);
}

int netconf_net_validate(const struct netconf_net *net, const char *path,
			 struct netconf_error *err)
{
	struct netconf_cidr subnet, gw, a, b;
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	const struct netconf_port *x, *y;
	uint32_t i, j;
	int rc;

	path = path ? path : "";
	if (!net->name)
		return err_set(err, path, "missing field 'name'");
	path_field(p, path, "name");
	rc = name_check(net->name, NETCONF_NAME_MAX, p, "a network name", err);
	if (rc)
		return rc;
	path_field(p, path, "mode");
	if (!netconf_mode_supported(net->mode))
		return err_set(
		    err, p,
		    "mode %s%s is not supported yet; use switch or isolated",
		    netconf_mode_name(net->mode),
		    net->mode == NETCONF_MODE_NAT ? " (the default)" : "");
	rc = net_addr_check(net, path, &subnet, &gw, err);
	if (rc)
		return rc;
	path_field(p, path, "mtu");
	if (net->mtu && (rc = range_check("mtu", net->mtu, p, err)))
		return rc;
	path_field(p, path, "mac_table_size");
	if (net->mac_table_size &&
	    (rc = range_check("mac_table_size", net->mac_table_size, p, err)))
		return rc;
	path_field(p, path, "mac_aging");
	if (net->mac_aging &&
	    (rc = range_check("mac_aging", net->mac_aging, p, err)))
		return rc;
	if (net->port_count > NETCONF_PORTS_MAX) {
		path_field(p, path, "ports");
		return err_set(err, p, "at most %d ports, got %u",
			       NETCONF_PORTS_MAX, net->port_count);
	}
	for (i = 0; i < net->port_count; i++) {
		x = &net->ports[i];
		path_index(p, path, "ports", i);
		rc = port_check(x, net->subnet ? &subnet : NULL, &gw,
				net->subnet, p, err);
		if (rc)
			return rc;
		for (j = 0; j < i; j++) {
			y = &net->ports[j];
			path_index(q, path, "ports", j);
			if (!strcmp(x->name ? x->name : x->tap,
				    y->name ? y->name : y->tap)) {
				path_field(q, p, x->name ? "name" : "tap");
				return err_set(err, q,
					       "port name '%s' is already used "
					       "by %s.ports[%u]",
					       x->name ? x->name : x->tap,
					       path[0] ? path : "network", j);
			}
			if (!strcmp(x->tap, y->tap)) {
				path_field(q, p, "tap");
				return err_set(
				    err, q,
				    "TAP '%s' is already used by %s.ports[%u]",
				    x->tap, path[0] ? path : "network", j);
			}
			if (x->address && y->address &&
			    !netconf_cidr_parse(x->address, &a) &&
			    !netconf_cidr_parse(y->address, &b) &&
			    addr_equal(&a, &b)) {
				path_field(q, p, "address");
				return err_set(err, q,
					       "address %s is already used by "
					       "%s.ports[%u]",
					       x->address,
					       path[0] ? path : "network", j);
			}
		}
	}
	return 0;
}

int netconf_validate(const struct netconf *cfg, struct netconf_error *err)
{
	char p[PATH_MAX_LEN];
	uint32_t i, j, k, l;
	int rc;

	if (cfg->network_count == 0)
		return err_set(err, "networks", "declares no network");
	if (cfg->network_count > NETCONF_NETWORKS_MAX)
		return err_set(err, "networks", "at most %d networks, got %u",
			       NETCONF_NETWORKS_MAX, cfg->network_count);
	for (i = 0, k = 0; i < cfg->network_count; i++) {
		/* Bounds the quadratic uniqueness checks below. */
		k += cfg->networks[i].port_count;
		if (k > NETCONF_PORTS_TOTAL_MAX) {
			path_fmt(p, "networks[%u].ports", i);
			return err_set(
			    err, p,
			    "more than %d ports in all networks together",
			    NETCONF_PORTS_TOTAL_MAX);
		}
	}
	for (i = 0; i < cfg->network_count; i++) {
		path_fmt(p, "networks[%u]", i);
		rc = netconf_net_validate(&cfg->networks[i], p, err);
		if (rc)
			return rc;
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->networks[i].name,
				    cfg->networks[j].name)) {
				path_fmt(p, "networks[%u].name", i);
				return err_set(err, p,
					       "network name '%s' is already "
					       "used by networks[%u]",
					       cfg->networks[i].name, j);
			}
		/* A TAP belongs to one port: check across earlier networks. */
		for (k = 0; k < cfg->networks[i].port_count; k++)
			for (j = 0; j < i; j++)
				for (l = 0; l < cfg->networks[j].port_count;
				     l++) {
					if (strcmp(
						cfg->networks[i].ports[k].tap,
						cfg->networks[j].ports[l].tap))
						continue;
					path_fmt(p,
						 "networks[%u].ports[%u].tap",
						 i, k);
					return err_set(
					    err, p,
					    "TAP '%s' is already used by "
					    "networks[%u].ports[%u]",
					    cfg->networks[i].ports[k].tap, j,
					    l);
				}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Defaults and freeing */

int netconf_port_set_defaults(struct netconf_port *port)
{
	if (!port->name && port->tap) {
		port->name = strdup(port->tap);
		if (!port->name)
			return -ENOMEM;
	}
	if (!port->vlan && !port->trunk_count)
		port->vlan = NETCONF_DEFAULT_VLAN;
	return 0;
}

int netconf_net_set_defaults(struct netconf_net *net)
{
	struct netconf_cidr subnet, gw;
	char buf[64];
	uint32_t i;

	if (!net->mtu)
		net->mtu = NETCONF_DEFAULT_MTU;
	if (!net->mac_table_size)
		net->mac_table_size = NETCONF_DEFAULT_MAC_TABLE_SIZE;
	if (!net->mac_aging)
		net->mac_aging = NETCONF_DEFAULT_MAC_AGING;
	if (net->subnet && !net->gateway &&
	    !netconf_cidr_parse(net->subnet, &subnet)) {
		subnet_first_host(&subnet, &gw);
		addr_format(&gw, buf, sizeof(buf), false);
		net->gateway = strdup(buf);
		if (!net->gateway)
			return -ENOMEM;
	}
	for (i = 0; i < net->port_count; i++)
		if (netconf_port_set_defaults(&net->ports[i]))
			return -ENOMEM;
	return 0;
}

void netconf_port_clear(struct netconf_port *port)
{
	free(port->name);
	free(port->tap);
	free(port->netns);
	free(port->address);
	free(port->trunk);
	memset(port, 0, sizeof(*port));
}

void netconf_net_clear(struct netconf_net *net)
{
	uint32_t i;

	free(net->name);
	free(net->subnet);
	free(net->gateway);
	for (i = 0; i < net->port_count; i++)
		netconf_port_clear(&net->ports[i]);
	free(net->ports);
	memset(net, 0, sizeof(*net));
}

void netconf_free(struct netconf *cfg)
{
	uint32_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->network_count; i++)
		netconf_net_clear(&cfg->networks[i]);
	free(cfg->networks);
	free(cfg);
}

/* ---------------------------------------------------------------------- */
/* YAML: a libyaml pass for positions, syntax and schema errors, then
 * libcyaml for the typed load. libcyaml's own errors carry no line, so the
 * first pass checks everything libcyaml would refuse, at its line. */

struct line_entry {
	char *path;
	unsigned int line;
};

struct yaml_check {
	yaml_document_t doc;
	struct line_entry *lines;
	size_t nlines, cap;
	struct netconf_error *err;
};

static int lines_add(struct yaml_check *c, const char *path, unsigned int line)
{
	struct line_entry *n;

	if (c->nlines == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		n = realloc(c->lines, c->cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->lines = n;
	}
	c->lines[c->nlines].path = strdup(path);
	if (!c->lines[c->nlines].path)
		return -ENOMEM;
	c->lines[c->nlines++].line = line;
	return 0;
}

/* The line of @path, or of its nearest recorded parent. */
static unsigned int lines_find(const struct yaml_check *c, const char *path)
{
	char p[PATH_MAX_LEN], *cut;
	size_t i;

	path_fmt(p, "%s", path);
	for (;;) {
		for (i = 0; i < c->nlines; i++)
			if (!strcmp(c->lines[i].path, p))
				return c->lines[i].line;
		if (!p[0])
			return c->nlines ? c->lines[0].line : 0;
		cut = strrchr(p, '.');
		if (!cut || (strrchr(p, '[') && strrchr(p, '[') > cut))
			cut = strrchr(p, '[');
		if (!cut)
			cut = p;
		*cut = '\0';
	}
}

static void lines_free(struct yaml_check *c)
{
	size_t i;

	for (i = 0; i < c->nlines; i++)
		free(c->lines[i].path);
	free(c->lines);
	c->lines = NULL;
	c->nlines = c->cap = 0;
}

static int yerr(struct yaml_check *c, const yaml_node_t *node, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int yerr(struct yaml_check *c, const yaml_node_t *node, const char *path,
		const char *fmt, ...)
{
	va_list ap;

	snprintf(c->err->path, sizeof(c->err->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	c->err->line = (unsigned int)node->start_mark.line + 1;
	return -EINVAL;
}

static const char *node_kind(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return node->data.scalar.length ? "a single value"
						: "an empty value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* Decimal integer check for what libcyaml will read as an unsigned. */
static int yaml_check_uint(struct yaml_check *c, const yaml_node_t *node,
			   const char *key, const char *path)
{
	const char *s = (const char *)node->data.scalar.value;
	const struct int_range *r = int_range_find(key);
	size_t i, len = node->data.scalar.length;
	unsigned long long v = 0;
	bool neg = len && s[0] == '-';

	if (len == 0 || len > 20 || len == neg)
		goto bad;
	for (i = neg; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (len - neg > 1 && s[neg] == '0')
		goto bad;
	if (neg || v > UINT32_MAX || (r && (v < r->min || v > r->max))) {
		if (r)
			return yerr(c, node, path, "must be %u..%u, got %.*s",
				    r->min, r->max, (int)len, s);
		return yerr(c, node, path, "must be 0..%u, got %.*s",
			    UINT32_MAX, (int)len, s);
	}
	return 0;
bad:
	return yerr(c, node, path, "must be a decimal integer, got '%.*s'",
		    (int)(len > 40 ? 40 : len), s);
}

static int yaml_check_value(struct yaml_check *c, yaml_node_t *node,
			    const cyaml_schema_value_t *schema, const char *key,
			    const char *path);

static int yaml_check_mapping(struct yaml_check *c, yaml_node_t *node,
			      const cyaml_schema_value_t *schema,
			      const char *path)
{
	const cyaml_schema_field_t *fields = schema->mapping.fields, *f;
	char p[PATH_MAX_LEN], seen[32] = {0};
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v;
	const char *key;
	int rc;

	if (node->type != YAML_MAPPING_NODE)
		return yerr(c, node, path,
			    "must be a mapping of 'field: value' lines, got %s",
			    node_kind(node));
	for (pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(&c->doc, pair->key);
		v = yaml_document_get_node(&c->doc, pair->value);
		if (!k || !v)
			return yerr(c, node, path, "malformed mapping");
		if (k->type != YAML_SCALAR_NODE)
			return yerr(c, k, path,
				    "field names must be plain words");
		key = (const char *)k->data.scalar.value;
		if (strlen(key) != k->data.scalar.length || strlen(key) > 40)
			return yerr(c, k, path, "invalid field name");
		path_field(p, path, key);
		f = field_find(fields, key);
		if (!f) {
			c->err->line = (unsigned int)k->start_mark.line + 1;
			return err_unknown_field(c->err, p, fields, key);
		}
		if ((size_t)(f - fields) >= sizeof(seen))
			return yerr(c, k, p, "schema too large");
		if (seen[f - fields]++)
			return yerr(c, k, p, "field '%s' is given twice", key);
		rc = lines_add(c, p, (unsigned int)k->start_mark.line + 1);
		if (rc)
			return rc;
		rc = yaml_check_value(c, v, &f->value, key, p);
		if (rc)
			return rc;
	}
	for (f = fields; f->key && (size_t)(f - fields) < sizeof(seen); f++)
		if (!(f->value.flags & CYAML_FLAG_OPTIONAL) &&
		    !seen[f - fields])
			return yerr(c, node, path, "missing field '%s'",
				    f->key);
	return 0;
}

static int yaml_check_value(struct yaml_check *c, yaml_node_t *node,
			    const cyaml_schema_value_t *schema, const char *key,
			    const char *path)
{
	char p[PATH_MAX_LEN];
	yaml_node_item_t *item;
	yaml_node_t *e;
	uint32_t i, n, idx;
	size_t len;
	int rc;

	switch (schema->type) {
	case CYAML_MAPPING:
		return yaml_check_mapping(c, node, schema, path);
	case CYAML_SEQUENCE:
		if (node->type != YAML_SEQUENCE_NODE)
			return yerr(c, node, path, "must be a list, got %s",
				    node_kind(node));
		n = (uint32_t)(node->data.sequence.items.top -
			       node->data.sequence.items.start);
		if (n < schema->sequence.min)
			return yerr(c, node, path, "must not be an empty list");
		if (n > schema->sequence.max)
			return yerr(c, node, path,
				    "has %u entries, at most %u allowed", n,
				    schema->sequence.max);
		idx = 0;
		for (item = node->data.sequence.items.start;
		     item < node->data.sequence.items.top; item++, idx++) {
			e = yaml_document_get_node(&c->doc, *item);
			if (!e)
				return yerr(c, node, path, "malformed list");
			path_fmt(p, "%s[%u]", path, idx);
			rc = lines_add(c, p,
				       (unsigned int)e->start_mark.line + 1);
			if (rc)
				return rc;
			rc = yaml_check_value(c, e, schema->sequence.entry, key,
					      p);
			if (rc)
				return rc;
		}
		return 0;
	default:
		break;
	}
	if (node->type != YAML_SCALAR_NODE)
		return yerr(c, node, path, "must be a single value, got %s",
			    node_kind(node));
	len = node->data.scalar.length;
	switch (schema->type) {
	case CYAML_UINT:
		return yaml_check_uint(c, node, key, path);
	case CYAML_STRING:
		if (len == 0 || strlen((char *)node->data.scalar.value) != len)
			return yerr(c, node, path,
				    len ? "must not hold a NUL character"
					: "has no value");
		return 0;
	case CYAML_ENUM:
		for (i = 0; i < schema->enumeration.count; i++)
			if (!strcmp(schema->enumeration.strings[i].str,
				    (char *)node->data.scalar.value))
				return 0;
		if (!strcmp(key, "mode")) {
			char msg[200];

			mode_unknown_msg((char *)node->data.scalar.value, msg,
					 sizeof(msg));
			return yerr(c, node, path, "%s", msg);
		}
		return yerr(c, node, path, "unknown value '%.*s'",
			    (int)(len > 40 ? 40 : len),
			    node->data.scalar.value);
	default:
		return yerr(c, node, path, "unsupported field type");
	}
}

/* A first event pass: syntax errors at their line, no aliases (they could
 * make the walk above exponential), exactly one document. */
static int yaml_scan_events(const char *data, size_t len,
			    struct netconf_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	unsigned int docs = 0;
	int rc = 0;
	bool done = false;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			err->line = (unsigned int)parser.problem_mark.line + 1;
			/* "key without ':'": libyaml notices a line late. */
			if (parser.context &&
			    !strcmp(parser.context,
				    "while scanning a simple key"))
				err->line =
				    (unsigned int)parser.context_mark.line + 1;
			if (parser.context)
				err_set(err, "",
					"YAML syntax error: %s (%s at line %u)",
					parser.problem ? parser.problem : "?",
					parser.context,
					(unsigned int)parser.context_mark.line +
					    1);
			else
				err_set(err, "", "YAML syntax error: %s",
					parser.problem ? parser.problem : "?");
			rc = -EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_ALIAS_EVENT:
			err->line = (unsigned int)ev.start_mark.line + 1;
			rc = err_set(err, "",
				     "YAML aliases (*name) are not supported "
				     "in network files");
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				err->line =
				    (unsigned int)ev.start_mark.line + 1;
				rc = err_set(
				    err, "",
				    "a network file holds one YAML document; "
				    "put every network under 'networks:'");
				done = true;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (!rc && docs == 0) {
		err->line = 0;
		rc = err_set(err, "", "the file is empty");
	}
	return rc;
}

struct cyaml_log_capture {
	char msg[256];
};

static void cyaml_log_capture_fn(cyaml_log_t level, void *ctx, const char *fmt,
				 va_list args)
{
	struct cyaml_log_capture *cap = ctx;
	size_t n;

	if (level < CYAML_LOG_ERROR || cap->msg[0])
		return;
	vsnprintf(cap->msg, sizeof(cap->msg), fmt, args);
	n = strlen(cap->msg);
	while (n && (cap->msg[n - 1] == '\n' || cap->msg[n - 1] == ' '))
		cap->msg[--n] = '\0';
}

/* libcyaml's allocations are released with free() by netconf_free(). */
static void *netconf_cyaml_mem(void *ctx, void *ptr, size_t size)
{
	if (size == 0) {
		free(ptr);
		return NULL;
	}
	return realloc(ptr, size);
}

/* Sets defaults on every network of a validated configuration. */
static int netconf_set_defaults(struct netconf *cfg)
{
	uint32_t i;

	for (i = 0; i < cfg->network_count; i++)
		if (netconf_net_set_defaults(&cfg->networks[i]))
			return -ENOMEM;
	return 0;
}

int netconf_load_buffer(const char *name, const void *data, size_t len,
			struct netconf **out, struct netconf_error *err)
{
	struct netconf_error local;
	struct yaml_check c = {0};
	struct cyaml_log_capture cap = {{0}};
	const cyaml_schema_value_t *schema;
	cyaml_config_t cfg = {
	    .log_fn = cyaml_log_capture_fn,
	    .log_ctx = &cap,
	    .mem_fn = netconf_cyaml_mem,
	    .log_level = CYAML_LOG_ERROR,
	    .flags = CYAML_CFG_NO_ALIAS,
	};
	yaml_parser_t parser;
	yaml_node_t *root;
	struct netconf *conf = NULL;
	struct netconf_net *single = NULL;
	cyaml_err_t cerr;
	bool is_list;
	int rc;

	if (!err)
		err = &local;
	err_clear(err, name);
	*out = NULL;
	if (len > NETCONF_FILE_MAX)
		return err_set(err, "", "larger than %d bytes",
			       NETCONF_FILE_MAX);
	rc = yaml_scan_events(data, len, err);
	if (rc)
		return rc;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, data, len);
	if (!yaml_parser_load(&parser, &c.doc)) {
		yaml_parser_delete(&parser);
		err->line = (unsigned int)parser.problem_mark.line + 1;
		return err_set(err, "", "YAML syntax error: %s",
			       parser.problem ? parser.problem : "?");
	}
	yaml_parser_delete(&parser);
	c.err = err;
	root = yaml_document_get_root_node(&c.doc);
	if (!root) {
		rc = err_set(err, "", "the file is empty");
		goto out_doc;
	}
	is_list = false;
	if (root->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *pr;
		yaml_node_t *k;

		for (pr = root->data.mapping.pairs.start;
		     pr < root->data.mapping.pairs.top; pr++) {
			k = yaml_document_get_node(&c.doc, pr->key);
			/* A misspelt "networks" is reported as such, not as
			 * an unknown field of a single network. */
			if (k && k->type == YAML_SCALAR_NODE &&
			    edit_distance((char *)k->data.scalar.value,
					  "networks") <= 2)
				is_list = true;
		}
	} else {
		rc = yerr(&c, root, "",
			  "must be a mapping: 'networks:' with a list of "
			  "networks, or one network's fields");
		goto out_doc;
	}
	schema = is_list ? &file_schema : &single_schema;
	rc = lines_add(&c, "", (unsigned int)root->start_mark.line + 1);
	if (!rc)
		rc = yaml_check_value(&c, root, schema, "", "");
	if (rc)
		goto out_doc;

	cerr = cyaml_load_data(
	    data, len, &cfg, schema,
	    is_list ? (cyaml_data_t **)&conf : (cyaml_data_t **)&single, NULL);
	if (cerr != CYAML_OK) {
		err->line = 0;
		/* The walk above should have refused whatever libcyaml does. */
		err_set(err, "", "%s",
			cap.msg[0] ? cap.msg : cyaml_strerror(cerr));
		rc = cerr == CYAML_ERR_OOM ? -ENOMEM : -EINVAL;
		goto out_doc;
	}
	if (!is_list) {
		conf = calloc(1, sizeof(*conf));
		if (!conf) {
			netconf_net_clear(single);
			free(single);
			rc = -ENOMEM;
			goto out_doc;
		}
		conf->networks = single;
		conf->network_count = 1;
	}
	rc = is_list ? netconf_validate(conf, err)
		     : netconf_net_validate(conf->networks, "", err);
	if (rc) {
		err->line = lines_find(&c, err->path);
		goto out_conf;
	}
	rc = netconf_set_defaults(conf);
	if (rc)
		goto out_conf;
	*out = conf;
	conf = NULL;
out_conf:
	netconf_free(conf);
out_doc:
	yaml_document_delete(&c.doc);
	lines_free(&c);
	return rc;
}

int netconf_load_file(const char *path, struct netconf **out,
		      struct netconf_error *err)
{
	struct netconf_error local;
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, rc;

	if (!err)
		err = &local;
	err_clear(err, path);
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		err_set(err, "", "cannot open: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		err_set(err, "", "not a regular file");
		return -EINVAL;
	}
	if (st.st_size > NETCONF_FILE_MAX) {
		close(fd);
		return err_set(err, "", "larger than %d bytes",
			       NETCONF_FILE_MAX);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	rc = netconf_load_buffer(path, buf, got, out, err);
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* JSON */

static int json_set_str(json_t *o, const char *key, const char *v)
{
	if (!v)
		return 0;
	return json_object_set_new(o, key, json_string(v));
}

static int json_set_uint(json_t *o, const char *key, uint32_t v)
{
	if (!v)
		return 0;
	return json_object_set_new(o, key, json_integer(v));
}

json_t *netconf_port_to_json(const struct netconf_port *port)
{
	json_t *o = json_object(), *t;
	uint32_t i;
	int rc = 0;

	if (!o)
		return NULL;
	rc |= json_set_str(o, "name", port->name);
	rc |= json_set_str(o, "tap", port->tap);
	rc |= json_set_str(o, "netns", port->netns);
	rc |= json_set_str(o, "address", port->address);
	rc |= json_set_uint(o, "vlan", port->vlan);
	if (port->trunk_count) {
		t = json_array();
		for (i = 0; t && i < port->trunk_count; i++)
			rc |= json_array_append_new(
			    t, json_integer(port->trunk[i]));
		rc |= json_object_set_new(o, "trunk", t);
	}
	rc |= json_set_uint(o, "native", port->native);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *netconf_net_to_json(const struct netconf_net *net)
{
	json_t *o = json_object(), *ports = json_array();
	uint32_t i;
	int rc = 0;

	if (!o || !ports)
		goto fail;
	rc |= json_set_str(o, "name", net->name);
	rc |= json_set_str(o, "mode", netconf_mode_name(net->mode));
	rc |= json_set_str(o, "subnet", net->subnet);
	rc |= json_set_str(o, "gateway", net->gateway);
	rc |= json_set_uint(o, "mtu", net->mtu);
	rc |= json_set_uint(o, "mac_table_size", net->mac_table_size);
	rc |= json_set_uint(o, "mac_aging", net->mac_aging);
	for (i = 0; i < net->port_count; i++)
		rc |= json_array_append_new(
		    ports, netconf_port_to_json(&net->ports[i]));
	rc |= json_object_set_new(o, "ports", ports);
	ports = NULL;
	if (rc)
		goto fail;
	return o;
fail:
	json_decref(ports);
	json_decref(o);
	return NULL;
}

json_t *netconf_to_json(const struct netconf *cfg)
{
	json_t *o = json_object(), *a = json_array();
	uint32_t i;
	int rc = 0;

	if (!o || !a) {
		json_decref(o);
		json_decref(a);
		return NULL;
	}
	for (i = 0; i < cfg->network_count; i++)
		rc |= json_array_append_new(
		    a, netconf_net_to_json(&cfg->networks[i]));
	rc |= json_object_set_new(o, "networks", a);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int jget_str(const json_t *v, char **dst, const char *path,
		    struct netconf_error *err)
{
	const char *s;

	if (!json_is_string(v))
		return err_set(err, path, "must be a string");
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return err_set(err, path, "must not hold a NUL character");
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int jget_uint(const json_t *v, const char *key, uint32_t *dst,
		     const char *path, struct netconf_error *err)
{
	const struct int_range *r = int_range_find(key);
	json_int_t x;

	if (!json_is_integer(v))
		return err_set(err, path, "must be an integer");
	x = json_integer_value(v);
	if (r && (x < r->min || x > r->max))
		return err_set(err, path, "must be %u..%u, got %lld", r->min,
			       r->max, (long long)x);
	*dst = (uint32_t)x;
	return 0;
}

static int port_parse_json(const json_t *j, struct netconf_port *port,
			   const char *path, struct netconf_error *err)
{
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	const char *key;
	json_t *v, *e;
	size_t i;
	int rc = 0;

	if (!json_is_object(j))
		return err_set(err, path, "must be an object");
	json_object_foreach((json_t *)j, key, v)
	{
		path_field(p, path, key);
		if (!strcmp(key, "name"))
			rc = jget_str(v, &port->name, p, err);
		else if (!strcmp(key, "tap"))
			rc = jget_str(v, &port->tap, p, err);
		else if (!strcmp(key, "netns"))
			rc = jget_str(v, &port->netns, p, err);
		else if (!strcmp(key, "address"))
			rc = jget_str(v, &port->address, p, err);
		else if (!strcmp(key, "vlan"))
			rc = jget_uint(v, key, &port->vlan, p, err);
		else if (!strcmp(key, "native"))
			rc = jget_uint(v, key, &port->native, p, err);
		else if (!strcmp(key, "trunk")) {
			if (!json_is_array(v))
				return err_set(err, p, "must be a list");
			if (json_array_size(v) == 0)
				return err_set(err, p,
					       "must not be an empty list");
			if (json_array_size(v) > NETCONF_VLAN_MAX)
				return err_set(
				    err, p,
				    "has %zu entries, at most %d allowed",
				    json_array_size(v), NETCONF_VLAN_MAX);
			free(port->trunk);
			port->trunk_count = 0;
			port->trunk =
			    calloc(json_array_size(v), sizeof(*port->trunk));
			if (!port->trunk)
				return -ENOMEM;
			json_array_foreach(v, i, e)
			{
				path_fmt(q, "%s[%zu]", p, i);
				rc = jget_uint(e, "trunk", &port->trunk[i], q,
					       err);
				if (rc)
					return rc;
				port->trunk_count++;
			}
		} else
			return err_unknown_field(err, p, port_fields, key);
		if (rc)
			return rc;
	}
	return 0;
}

static int net_parse_json(const json_t *j, struct netconf_net *net,
			  const char *path, struct netconf_error *err)
{
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	const char *key;
	json_t *v, *e;
	size_t i;
	int rc = 0;

	if (!json_is_object(j))
		return err_set(err, path, "must be an object");
	json_object_foreach((json_t *)j, key, v)
	{
		path_field(p, path, key);
		if (!strcmp(key, "name"))
			rc = jget_str(v, &net->name, p, err);
		else if (!strcmp(key, "subnet"))
			rc = jget_str(v, &net->subnet, p, err);
		else if (!strcmp(key, "gateway"))
			rc = jget_str(v, &net->gateway, p, err);
		else if (!strcmp(key, "mtu"))
			rc = jget_uint(v, key, &net->mtu, p, err);
		else if (!strcmp(key, "mac_table_size"))
			rc = jget_uint(v, key, &net->mac_table_size, p, err);
		else if (!strcmp(key, "mac_aging"))
			rc = jget_uint(v, key, &net->mac_aging, p, err);
		else if (!strcmp(key, "mode")) {
			if (!json_is_string(v))
				return err_set(err, p, "must be a string");
			if (netconf_mode_parse(json_string_value(v),
					       &net->mode)) {
				char msg[200];

				mode_unknown_msg(json_string_value(v), msg,
						 sizeof(msg));
				return err_set(err, p, "%s", msg);
			}
		} else if (!strcmp(key, "ports")) {
			if (!json_is_array(v))
				return err_set(err, p, "must be a list");
			if (json_array_size(v) > NETCONF_PORTS_MAX)
				return err_set(
				    err, p,
				    "has %zu entries, at most %d allowed",
				    json_array_size(v), NETCONF_PORTS_MAX);
			if (!json_array_size(v))
				continue;
			net->ports =
			    calloc(json_array_size(v), sizeof(*net->ports));
			if (!net->ports)
				return -ENOMEM;
			json_array_foreach(v, i, e)
			{
				path_fmt(q, "%s[%zu]", p, i);
				net->port_count++;
				rc = port_parse_json(e, &net->ports[i], q, err);
				if (rc)
					return rc;
			}
		} else
			return err_unknown_field(err, p, net_fields, key);
		if (rc)
			return rc;
	}
	return 0;
}

int netconf_port_from_json(const json_t *j, struct netconf_port *out,
			   const char *path, struct netconf_error *err)
{
	int rc;

	path = path ? path : "";
	err_clear(err, NULL);
	memset(out, 0, sizeof(*out));
	rc = port_parse_json(j, out, path, err);
	if (!rc)
		rc = netconf_port_validate(out, NULL, path, err);
	if (!rc)
		rc = netconf_port_set_defaults(out);
	if (rc)
		netconf_port_clear(out);
	return rc;
}

int netconf_net_from_json(const json_t *j, struct netconf_net *out,
			  const char *path, struct netconf_error *err)
{
	int rc;

	path = path ? path : "";
	err_clear(err, NULL);
	memset(out, 0, sizeof(*out));
	rc = net_parse_json(j, out, path, err);
	if (!rc)
		rc = netconf_net_validate(out, path, err);
	if (!rc)
		rc = netconf_net_set_defaults(out);
	if (rc)
		netconf_net_clear(out);
	return rc;
}

int netconf_from_json(const json_t *j, struct netconf **out,
		      struct netconf_error *err)
{
	struct netconf *cfg;
	char p[PATH_MAX_LEN];
	const char *key;
	json_t *nets = NULL, *v;
	size_t i;
	int rc = 0;

	err_clear(err, NULL);
	*out = NULL;
	if (!json_is_object(j))
		return err_set(err, "", "must be an object");
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	if (!json_object_get(j, "networks")) {
		cfg->networks = calloc(1, sizeof(*cfg->networks));
		if (!cfg->networks) {
			rc = -ENOMEM;
			goto fail;
		}
		cfg->network_count = 1;
		rc = net_parse_json(j, cfg->networks, "", err);
		if (!rc)
			rc = netconf_net_validate(cfg->networks, "", err);
		goto done;
	}
	json_object_foreach((json_t *)j, key, v)
	{
		if (strcmp(key, "networks")) {
			rc = err_unknown_field(err, key, file_fields, key);
			goto fail;
		}
		nets = v;
	}
	if (!json_is_array(nets)) {
		rc = err_set(err, "networks", "must be a list");
		goto fail;
	}
	if (json_array_size(nets) == 0 ||
	    json_array_size(nets) > NETCONF_NETWORKS_MAX) {
		rc = err_set(err, "networks", "must hold 1..%d networks",
			     NETCONF_NETWORKS_MAX);
		goto fail;
	}
	cfg->networks = calloc(json_array_size(nets), sizeof(*cfg->networks));
	if (!cfg->networks) {
		rc = -ENOMEM;
		goto fail;
	}
	json_array_foreach(nets, i, v)
	{
		path_fmt(p, "networks[%zu]", i);
		cfg->network_count++;
		rc = net_parse_json(v, &cfg->networks[i], p, err);
		if (rc)
			goto fail;
	}
	rc = netconf_validate(cfg, err);
done:
	if (!rc)
		rc = netconf_set_defaults(cfg);
	if (rc)
		goto fail;
	*out = cfg;
	return 0;
fail:
	netconf_free(cfg);
	return rc;
}
