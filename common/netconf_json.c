/* SPDX-License-Identifier: MIT */
/* netconf_json.c - network model: JSON twin, as the control protocol has it. */
#include "common/netconf.h"
#include "common/netconf_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* A TAP port is written without "type", as before types existed. */
	if (!netconf_port_is_tap(port))
		rc |= json_set_str(o, "type", port->type);
	rc |= json_set_str(o, "name", port->name);
	rc |= json_set_str(o, "tap", port->tap);
	rc |= json_set_str(o, "netns", port->netns);
	rc |= json_set_str(o, "address", port->address);
	rc |= json_set_str(o, "url", port->url);
	rc |= json_set_str(o, "path", port->path);
	rc |= json_set_str(o, "parent", port->parent);
	rc |= json_set_str(o, "macvtap_mode", port->macvtap_mode);
	rc |= json_set_uint(o, "vlan", port->vlan);
	if (port->trunk_count) {
		t = json_array();
		for (i = 0; t && i < port->trunk_count; i++)
			rc |= json_array_append_new(
			    t, json_integer(port->trunk[i]));
		rc |= json_object_set_new(o, "trunk", t);
	}
	rc |= json_set_uint(o, "native", port->native);
	if (port->antispoof)
		rc |= json_object_set_new(o, "antispoof",
					  json_boolean(*port->antispoof));
	if (port->allow_ra)
		rc |= json_object_set_new(o, "allow_ra", json_true());
	if (port->allow_dhcp_server)
		rc |= json_object_set_new(o, "allow_dhcp_server", json_true());
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
	rc |= netconf_nat_to_json(net, o);
	rc |= netconf_capture_to_json(net, o);
	rc |= json_set_str(o, "bridge", net->bridge);
	rc |= json_set_str(o, "bridge_address", net->bridge_address);
	rc |= netconf_services_to_json(net, o);
	rc |= netconf_link_to_json(net, o);
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
		return netconf_err_set(err, path, "must be a string");
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return netconf_err_set(err, path,
				       "must not hold a NUL character");
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int jget_uint(const json_t *v, const char *key, uint32_t *dst,
		     const char *path, struct netconf_error *err)
{
	const struct netconf_int_range *r = netconf_int_range_find(key);
	json_int_t x;

	if (!json_is_integer(v))
		return netconf_err_set(err, path, "must be an integer");
	x = json_integer_value(v);
	if (r && (x < r->min || x > r->max))
		return netconf_err_set(err, path, "must be %u..%u, got %lld",
				       r->min, r->max, (long long)x);
	*dst = (uint32_t)x;
	return 0;
}

static int port_parse_json(const json_t *j, struct netconf_port *port,
			   const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN], q[NETCONF_PATH_LEN];
	const char *key;
	json_t *v, *e;
	size_t i;
	int rc = 0;

	if (!json_is_object(j))
		return netconf_err_set(err, path, "must be an object");
	json_object_foreach((json_t *)j, key, v)
	{
		netconf_path_field(p, path, key);
		if (!strcmp(key, "name"))
			rc = jget_str(v, &port->name, p, err);
		else if (!strcmp(key, "type"))
			rc = jget_str(v, &port->type, p, err);
		else if (!strcmp(key, "tap"))
			rc = jget_str(v, &port->tap, p, err);
		else if (!strcmp(key, "netns"))
			rc = jget_str(v, &port->netns, p, err);
		else if (!strcmp(key, "address"))
			rc = jget_str(v, &port->address, p, err);
		else if (!strcmp(key, "url"))
			rc = jget_str(v, &port->url, p, err);
		else if (!strcmp(key, "path"))
			rc = jget_str(v, &port->path, p, err);
		else if (!strcmp(key, "parent"))
			rc = jget_str(v, &port->parent, p, err);
		else if (!strcmp(key, "macvtap_mode"))
			rc = jget_str(v, &port->macvtap_mode, p, err);
		else if (!strcmp(key, "vlan"))
			rc = jget_uint(v, key, &port->vlan, p, err);
		else if (!strcmp(key, "native"))
			rc = jget_uint(v, key, &port->native, p, err);
		else if (!strcmp(key, "antispoof") ||
			 !strcmp(key, "allow_ra") ||
			 !strcmp(key, "allow_dhcp_server")) {
			if (!json_is_boolean(v))
				return netconf_err_set(err, p,
						       "must be true or false");
			if (!strcmp(key, "allow_ra")) {
				port->allow_ra = json_is_true(v);
			} else if (!strcmp(key, "allow_dhcp_server")) {
				port->allow_dhcp_server = json_is_true(v);
			} else {
				if (!port->antispoof)
					port->antispoof = malloc(sizeof(bool));
				if (!port->antispoof)
					return -ENOMEM;
				*port->antispoof = json_is_true(v);
			}
		}
		else if (!strcmp(key, "trunk")) {
			if (!json_is_array(v))
				return netconf_err_set(err, p,
						       "must be a list");
			if (json_array_size(v) == 0)
				return netconf_err_set(err, p,
					       "must not be an empty list");
			if (json_array_size(v) > NETCONF_VLAN_MAX)
				return netconf_err_set(
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
				netconf_path_fmt(q, "%s[%zu]", p, i);
				rc = jget_uint(e, "trunk", &port->trunk[i], q,
					       err);
				if (rc)
					return rc;
				port->trunk_count++;
			}
		} else
			return netconf_err_unknown_field(
			    err, p, netconf_port_fields, key);
		if (rc)
			return rc;
	}
	return 0;
}

static int net_parse_json(const json_t *j, struct netconf_net *net,
			  const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN], q[NETCONF_PATH_LEN];
	const char *key;
	json_t *v, *e;
	size_t i;
	int rc = 0;

	if (!json_is_object(j))
		return netconf_err_set(err, path, "must be an object");
	json_object_foreach((json_t *)j, key, v)
	{
		netconf_path_field(p, path, key);
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
				return netconf_err_set(err, p,
						       "must be a string");
			if (netconf_mode_parse(json_string_value(v),
					       &net->mode)) {
				char msg[200];

				netconf_mode_unknown_msg(json_string_value(v),
							 msg, sizeof(msg));
				return netconf_err_set(err, p, "%s", msg);
			}
		} else if (!strcmp(key, "ports")) {
			if (!json_is_array(v))
				return netconf_err_set(err, p,
						       "must be a list");
			if (json_array_size(v) > NETCONF_PORTS_MAX)
				return netconf_err_set(
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
				netconf_path_fmt(q, "%s[%zu]", p, i);
				net->port_count++;
				rc = port_parse_json(e, &net->ports[i], q, err);
				if (rc)
					return rc;
			}
		} else if ((rc = netconf_nat_parse_json(net, key, v, p,
							err)) > 0 &&
			   (rc = netconf_capture_parse_json(net, key, v, p,
							    err)) > 0 &&
			   (rc = netconf_bridge_parse_json(net, key, v, p,
							   err)) > 0 &&
			   (rc = netconf_services_parse_json(net, key, v, p,
							     err)) > 0 &&
			   (rc = netconf_link_parse_json(net, key, v, p,
							 err)) > 0) {
			return netconf_err_unknown_field(
			    err, p, netconf_net_fields, key);
		}
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
	netconf_err_clear(err, NULL);
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
	netconf_err_clear(err, NULL);
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
	char p[NETCONF_PATH_LEN];
	const char *key;
	json_t *nets = NULL, *v;
	size_t i;
	int rc = 0;

	netconf_err_clear(err, NULL);
	*out = NULL;
	if (!json_is_object(j))
		return netconf_err_set(err, "", "must be an object");
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
			rc = netconf_err_unknown_field(
			    err, key, netconf_file_fields, key);
			goto fail;
		}
		nets = v;
	}
	if (!json_is_array(nets)) {
		rc = netconf_err_set(err, "networks", "must be a list");
		goto fail;
	}
	if (json_array_size(nets) == 0 ||
	    json_array_size(nets) > NETCONF_NETWORKS_MAX) {
		rc =
		    netconf_err_set(err, "networks", "must hold 1..%d networks",
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
		netconf_path_fmt(p, "networks[%zu]", i);
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
