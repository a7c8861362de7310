// SPDX-License-Identifier: MIT
/* netconf_link.c - `link_down:`: the ports whose link is set down by hand, and its editing helpers. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netconf.h"
#include "common/netconf_internal.h"

/*
 * A name, not a port: the list also holds VM ports (VMNAME[.N]), which are
 * not declared and come and go with their VMM; the name is what persists.
 */
const cyaml_schema_value_t netconf_link_name_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, NETCONF_NAME_MAX),
};

int netconf_link_validate(const struct netconf_net *net, const char *path,
			  struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	int rc;

	if (net->link_down_count > NETCONF_LINK_DOWN_MAX) {
		netconf_path_field(p, path, "link_down");
		return netconf_err_set(err, p, "has %u entries, at most %d",
				       net->link_down_count,
				       NETCONF_LINK_DOWN_MAX);
	}
	for (uint32_t i = 0; i < net->link_down_count; i++) {
		netconf_path_index(p, path, "link_down", i);
		rc = netconf_name_check(net->link_down[i], NETCONF_NAME_MAX, p,
					"a port name", err);
		if (rc)
			return rc;
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(net->link_down[i], net->link_down[j]))
				return netconf_err_set(err, p,
					       "'%s' is listed twice",
					       net->link_down[i]);
	}
	return 0;
}

int netconf_link_to_json(const struct netconf_net *net, json_t *o)
{
	json_t *a;

	if (!net->link_down_count)
		return 0;
	a = json_array();
	for (uint32_t i = 0; a && i < net->link_down_count; i++)
		if (json_array_append_new(a, json_string(net->link_down[i])))
			break;
	return a ? json_object_set_new(o, "link_down", a) : -1;
}

int netconf_link_parse_json(struct netconf_net *net, const char *key,
			    const json_t *v, const char *path,
			    struct netconf_error *err)
{
	char q[NETCONF_PATH_LEN];
	const json_t *e;
	size_t i;

	if (strcmp(key, "link_down"))
		return 1;
	if (!json_is_array(v) || json_array_size(v) > NETCONF_LINK_DOWN_MAX)
		return netconf_err_set(err, path,
				       "must be a list of at most %d port names",
				       NETCONF_LINK_DOWN_MAX);
	if (net->link_down)
		return netconf_err_set(err, path, "is given twice");
	if (!json_array_size(v))
		return 0;
	net->link_down = calloc(json_array_size(v), sizeof(char *));
	if (!net->link_down)
		return -ENOMEM;
	json_array_foreach(v, i, e)
	{
		netconf_path_fmt(q, "%s[%zu]", path, i);
		if (!json_is_string(e))
			return netconf_err_set(err, q, "must be a port name");
		net->link_down[i] = strdup(json_string_value(e));
		if (!net->link_down[i])
			return -ENOMEM;
		net->link_down_count++;
	}
	return 0;
}

void netconf_link_clear(struct netconf_net *net)
{
	for (uint32_t i = 0; i < net->link_down_count; i++)
		free(net->link_down[i]);
	free(net->link_down);
	net->link_down = NULL;
	net->link_down_count = 0;
}

static int link_find(const struct netconf_net *net, const char *port)
{
	for (uint32_t i = 0; i < net->link_down_count; i++)
		if (!strcmp(net->link_down[i], port))
			return (int)i;
	return -1;
}

bool netconf_link_is_down(const struct netconf_net *net, const char *port)
{
	return port && link_find(net, port) >= 0;
}

int netconf_link_set(struct netconf_net *net, const char *port, bool down)
{
	int i = link_find(net, port);
	char **v, *s;

	if (!down) {
		if (i < 0)
			return 0;
		free(net->link_down[i]);
		net->link_down[i] = net->link_down[--net->link_down_count];
		if (!net->link_down_count) {
			free(net->link_down);
			net->link_down = NULL;
		}
		return 0;
	}
	if (i >= 0)
		return 0;
	if (net->link_down_count >= NETCONF_LINK_DOWN_MAX)
		return -ENOSPC;
	s = strdup(port);
	v = s ? realloc(net->link_down,
			(net->link_down_count + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(s);
		return -ENOMEM;
	}
	v[net->link_down_count++] = s;
	net->link_down = v;
	return 0;
}
