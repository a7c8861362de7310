/* SPDX-License-Identifier: MIT */
/* netconf_schema.c - network file: mode names, cyaml schema, error paths. */
#include "common/netconf.h"
#include "common/netconf_internal.h"
#include "common/suggest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
	return mode == NETCONF_MODE_SWITCH || mode == NETCONF_MODE_ISOLATED ||
	       mode == NETCONF_MODE_NAT || mode == NETCONF_MODE_BRIDGE;
}

/* ---------------------------------------------------------------------- */
/* The schema: libcyaml loads with it, and the positional pre-check below
 * walks the same tables, so field names and kinds live in one place. */

static const cyaml_schema_value_t vlan_entry = {
    CYAML_VALUE_UINT(CYAML_FLAG_DEFAULT, uint32_t),
};

const cyaml_schema_field_t netconf_port_fields[] = {
    CYAML_FIELD_STRING_PTR("type", CYAML_FLAG_OPTIONAL, struct netconf_port,
			   type, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_OPTIONAL, struct netconf_port,
			   name, 0, CYAML_UNLIMITED),
    /* Required for a TAP port: port_check() says so. */
    CYAML_FIELD_STRING_PTR("tap", CYAML_FLAG_OPTIONAL, struct netconf_port, tap,
			   0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("netns", CYAML_FLAG_OPTIONAL, struct netconf_port,
			   netns, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("address", CYAML_FLAG_OPTIONAL, struct netconf_port,
			   address, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("url", CYAML_FLAG_OPTIONAL, struct netconf_port,
			   url, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("path", CYAML_FLAG_OPTIONAL, struct netconf_port,
			   path, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("parent", CYAML_FLAG_OPTIONAL, struct netconf_port,
			   parent, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("macvtap_mode", CYAML_FLAG_OPTIONAL,
			   struct netconf_port, macvtap_mode, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_UINT("vlan", CYAML_FLAG_OPTIONAL, struct netconf_port, vlan),
    CYAML_FIELD_SEQUENCE_COUNT(
	"trunk", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct netconf_port,
	trunk, trunk_count, &vlan_entry, 1, NETCONF_VLAN_MAX),
    CYAML_FIELD_UINT("native", CYAML_FLAG_OPTIONAL, struct netconf_port,
		     native),
    /* anti-spoofing (common/antispoof.h) */
    CYAML_FIELD_BOOL_PTR("antispoof", CYAML_FLAG_OPTIONAL, struct netconf_port,
			 antispoof),
    CYAML_FIELD_BOOL("allow_ra", CYAML_FLAG_OPTIONAL, struct netconf_port,
		     allow_ra),
    CYAML_FIELD_BOOL("allow_dhcp_server", CYAML_FLAG_OPTIONAL,
		     struct netconf_port, allow_dhcp_server),
    CYAML_FIELD_END};

static const cyaml_schema_value_t port_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct netconf_port,
			netconf_port_fields),
};

const cyaml_schema_field_t netconf_net_fields[] = {
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
    /* nat networks (netconf_nat.c) */
    CYAML_FIELD_STRING_PTR("subnet6", CYAML_FLAG_OPTIONAL, struct netconf_net,
			   subnet6, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("gateway6", CYAML_FLAG_OPTIONAL,
			   struct netconf_net, gateway6, 0, CYAML_UNLIMITED),
    CYAML_FIELD_BOOL("host_loopback", CYAML_FLAG_OPTIONAL, struct netconf_net,
		     host_loopback),
    CYAML_FIELD_BOOL("nat", CYAML_FLAG_OPTIONAL, struct netconf_net, nat),
    CYAML_FIELD_SEQUENCE_COUNT(
	"forwards", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	struct netconf_net, forwards, forward_count, &netconf_forward_entry, 0,
	NETCONF_FORWARDS_MAX),
    /* declared captures (netconf_capture.c) */
    CYAML_FIELD_SEQUENCE_COUNT(
	"captures", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	struct netconf_net, captures, capture_count, &netconf_capture_entry, 0,
	NETCONF_CAPTURES_MAX),
    /* bridge networks (netconf_bridge.c) */
    CYAML_FIELD_STRING_PTR("bridge", CYAML_FLAG_OPTIONAL, struct netconf_net,
			   bridge, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("bridge_address", CYAML_FLAG_OPTIONAL,
			   struct netconf_net, bridge_address, 0,
			   CYAML_UNLIMITED),
    /* ports with their link set down (netconf_link.c) */
    CYAML_FIELD_SEQUENCE_COUNT("link_down",
			       CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct netconf_net, link_down, link_down_count,
			       &netconf_link_name_entry, 0,
			       NETCONF_LINK_DOWN_MAX),
    /* the gateway's services (netconf_services.c) */
    CYAML_FIELD_MAPPING_PTR("dhcp", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			    struct netconf_net, dhcp,
			    netconf_dhcp_fields),
    CYAML_FIELD_MAPPING_PTR("dns", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			    struct netconf_net, dns,
			    netconf_dns_fields),
    CYAML_FIELD_END};

static const cyaml_schema_value_t net_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct netconf_net,
			netconf_net_fields),
};

const cyaml_schema_field_t netconf_file_fields[] = {
    CYAML_FIELD_SEQUENCE_COUNT("networks", CYAML_FLAG_POINTER, struct netconf,
			       networks, network_count, &net_entry, 1,
			       NETCONF_NETWORKS_MAX),
    CYAML_FIELD_END};

const cyaml_schema_value_t netconf_file_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct netconf,
			netconf_file_fields),
};

const cyaml_schema_value_t netconf_single_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct netconf_net,
			netconf_net_fields),
};

static const struct netconf_int_range int_ranges[] = {
    {"mtu", NETCONF_MTU_MIN, NETCONF_MTU_MAX},
    {"mac_table_size", NETCONF_MAC_TABLE_MIN, NETCONF_MAC_TABLE_MAX},
    {"mac_aging", NETCONF_MAC_AGING_MIN, NETCONF_MAC_AGING_MAX},
    {"vlan", NETCONF_VLAN_MIN, NETCONF_VLAN_MAX},
    {"native", NETCONF_VLAN_MIN, NETCONF_VLAN_MAX},
    {"trunk", NETCONF_VLAN_MIN, NETCONF_VLAN_MAX},
    {"rotate_size", 1, NETCONF_CAPTURE_ROTATE_SIZE_MAX},
    {"rotate_files", 1, NETCONF_CAPTURE_ROTATE_FILES_MAX},
    {"snaplen", 1, NETCONF_CAPTURE_SNAPLEN_MAX},
};

const struct netconf_int_range *netconf_int_range_find(const char *key)
{
	size_t i;

	for (i = 0; i < CYAML_ARRAY_LEN(int_ranges); i++)
		if (!strcmp(int_ranges[i].key, key))
			return &int_ranges[i];
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Errors and paths */

int netconf_err_set(struct netconf_error *err, const char *path,
		    const char *fmt, ...)
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

void netconf_err_clear(struct netconf_error *err, const char *file)
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

/* Paths are bounded by the schema's depth; a too long one is cut, not
 * overflowed (vsnprintf, so no truncation warnings on every caller). */
void netconf_path_fmt(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, NETCONF_PATH_LEN, fmt, ap);
	va_end(ap);
}

/* Appends ".field" (or "field" at the root) to @base into @out. */
void netconf_path_field(char *out, const char *base, const char *field)
{
	netconf_path_fmt(out, "%s%s%s", base, base[0] ? "." : "", field);
}

void netconf_path_index(char *out, const char *base, const char *field,
		       unsigned int idx)
{
	netconf_path_fmt(out, "%s%s%s[%u]", base, base[0] ? "." : "", field,
			 idx);
}

/* "unknown mode 'swich' (did you mean 'switch'?): use ...". */
void netconf_mode_unknown_msg(const char *given, char *buf, size_t len)
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
		 "unknown mode '%.40s'%s%s%s: use nat, switch, isolated or "
		 "bridge",
		 given, best ? " (did you mean '" : "", best ? best : "",
		 best ? "'?)" : "");
}

const cyaml_schema_field_t *netconf_field_find(const cyaml_schema_field_t *f,
					      const char *key)
{
	for (; f->key; f++)
		if (!strcmp(f->key, key))
			return f;
	return NULL;
}

int netconf_err_unknown_field(struct netconf_error *err, const char *path,
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
		return netconf_err_set(err, path,
			       "unknown field '%s' (did you mean '%s'?)", key,
			       best->key);
	return netconf_err_set(err, path, "unknown field '%s'", key);
}
