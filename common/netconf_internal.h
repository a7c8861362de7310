/* SPDX-License-Identifier: MIT */
/* netconf_internal.h - what the netconf_*.c files share; not for other users.
 */
#ifndef LOOM_COMMON_NETCONF_INTERNAL_H
#define LOOM_COMMON_NETCONF_INTERNAL_H

/*
 * The network model is split by concern: netconf_schema.c (mode names, the
 * libcyaml schema, integer ranges, error and path helpers), netconf_yaml.c
 * (the YAML reader), netconf_json.c (the JSON twin), netconf_validate.c
 * (validation, defaults, freeing); common/inet.[ch] holds the address math.
 * The schema tables live in one place: the YAML pre-check and the JSON
 * reader walk the same field lists, so a new field is added once there.
 */

#include <stdint.h>

#include <cyaml/cyaml.h>

#include "common/netconf.h"

enum { NETCONF_PATH_LEN = sizeof(((struct netconf_error *)0)->path) };

/* The schema (netconf_schema.c). */
extern const cyaml_schema_field_t netconf_port_fields[];
extern const cyaml_schema_field_t netconf_net_fields[];
extern const cyaml_schema_field_t netconf_file_fields[];
/* networks: [...] and a single network's mapping. */
extern const cyaml_schema_value_t netconf_file_schema;
extern const cyaml_schema_value_t netconf_single_schema;

/* Integer ranges by field name; 0 is never valid, so 0 can mean "unset". */
struct netconf_int_range {
	const char *key;
	uint32_t min, max;
};

/* Return: the range of field @key, or NULL when it has none. */
const struct netconf_int_range *netconf_int_range_find(const char *key);
const cyaml_schema_field_t *netconf_field_find(const cyaml_schema_field_t *f,
					       const char *key);

/* Sets @err's path and message. Return: -EINVAL, for "return err_set()". */
int netconf_err_set(struct netconf_error *err, const char *path,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Clears @err and records @file ("" when NULL). */
void netconf_err_clear(struct netconf_error *err, const char *file);
/* "unknown field 'x' (did you mean 'y'?)" at @path. Return: -EINVAL. */
int netconf_err_unknown_field(struct netconf_error *err, const char *path,
			      const cyaml_schema_field_t *fields,
			      const char *key);
/* "unknown mode 'swich' (did you mean 'switch'?): use ..." into @buf. */
void netconf_mode_unknown_msg(const char *given, char *buf, size_t len);

/* Field paths into NETCONF_PATH_LEN buffers, cut (never overflowed). */
void netconf_path_fmt(char *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void netconf_path_field(char *out, const char *base, const char *field);
void netconf_path_index(char *out, const char *base, const char *field,
			unsigned int idx);

/* The fields of a nat network (netconf_nat.c). */
extern const cyaml_schema_field_t netconf_forward_fields[];
extern const cyaml_schema_value_t netconf_forward_entry;
/* Checks subnet6, gateway6, host_loopback, forwards and the nat MTU. */
int netconf_nat_validate(const struct netconf_net *net, const char *path,
			 struct netconf_error *err);
/* Default subnet, gateway6, canonical forwards. Return: 0 or -ENOMEM. */
int netconf_nat_set_defaults(struct netconf_net *net);
int netconf_nat_to_json(const struct netconf_net *net, json_t *o);
/* Return: 0 (parsed), 1 (@key is no nat field) or a negative errno. */
int netconf_nat_parse_json(struct netconf_net *net, const char *key,
			   const json_t *v, const char *path,
			   struct netconf_error *err);
void netconf_nat_clear(struct netconf_net *net);

/* Declared captures (netconf_capture.c), the same hooks as nat's. */
extern const cyaml_schema_value_t netconf_capture_entry;
int netconf_capture_validate(const struct netconf_net *net, const char *path,
			     struct netconf_error *err);
int netconf_capture_set_defaults(struct netconf_net *net);
int netconf_capture_to_json(const struct netconf_net *net, json_t *o);
int netconf_capture_parse_json(struct netconf_net *net, const char *key,
			       const json_t *v, const char *path,
			       struct netconf_error *err);
void netconf_capture_clear(struct netconf_net *net);

/* The rule for names (networks, ports, interfaces): netconf_validate.c. */
int netconf_name_check(const char *s, size_t max, const char *path,
		       const char *what, struct netconf_error *err);

/* netconf_bridge.c: a macvtap port's fields (parent, macvtap_mode) and
 * that no other port has them. Return: 0 or -EINVAL. */
int netconf_macvtap_port_check(const struct netconf_port *port,
			       const char *path, struct netconf_error *err);

/* netconf_bridge.c: bridge's fields, the same hooks as nat's. */
int netconf_bridge_validate(const struct netconf_net *net, const char *path,
			    struct netconf_error *err);
int netconf_bridge_set_defaults(struct netconf_net *net);
int netconf_bridge_parse_json(struct netconf_net *net, const char *key,
			      const json_t *v, const char *path,
			      struct netconf_error *err);
/* The gateway's services (netconf_services.c), the same hooks. */
extern const cyaml_schema_field_t netconf_dhcp_fields[];
extern const cyaml_schema_field_t netconf_dns_fields[];
int netconf_services_validate(const struct netconf_net *net,
			      const char *path, struct netconf_error *err);
int netconf_services_to_json(const struct netconf_net *net, json_t *o);
int netconf_services_parse_json(struct netconf_net *net, const char *key,
				const json_t *v, const char *path,
				struct netconf_error *err);
void netconf_services_clear(struct netconf_net *net);

/* `link_down:` (netconf_link.c), the same hooks as nat's. */
extern const cyaml_schema_value_t netconf_link_name_entry;
int netconf_link_validate(const struct netconf_net *net, const char *path,
			  struct netconf_error *err);
int netconf_link_to_json(const struct netconf_net *net, json_t *o);
int netconf_link_parse_json(struct netconf_net *net, const char *key,
			    const json_t *v, const char *path,
			    struct netconf_error *err);
void netconf_link_clear(struct netconf_net *net);

/* Sets defaults on every network of a validated configuration
 * (netconf_validate.c). Return: 0 or -ENOMEM. */
int netconf_set_defaults(struct netconf *cfg);

#endif
