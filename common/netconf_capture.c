/* SPDX-License-Identifier: MIT */
/* netconf_capture.c - network model: captures declared with a network (always on, rotating files). */
#include "common/netconf.h"
#include "common/netconf_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Schema (netconf_schema.c links it into the network's fields) */

static const cyaml_schema_value_t port_name_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, NETCONF_NAME_MAX),
};

static const cyaml_schema_field_t capture_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_DEFAULT, struct netconf_capture,
			   name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE_COUNT("ports", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct netconf_capture, ports, port_count,
			       &port_name_entry, 0, NETCONF_PORTS_MAX),
    CYAML_FIELD_STRING_PTR("filter", CYAML_FLAG_OPTIONAL,
			   struct netconf_capture, filter, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("file", CYAML_FLAG_OPTIONAL, struct netconf_capture,
			   file, 0, CYAML_UNLIMITED),
    CYAML_FIELD_UINT("rotate_size", CYAML_FLAG_OPTIONAL,
		     struct netconf_capture, rotate_size),
    CYAML_FIELD_UINT("rotate_files", CYAML_FLAG_OPTIONAL,
		     struct netconf_capture, rotate_files),
    CYAML_FIELD_UINT("snaplen", CYAML_FLAG_OPTIONAL, struct netconf_capture,
		     snaplen),
    CYAML_FIELD_END};

const cyaml_schema_value_t netconf_capture_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct netconf_capture,
			capture_fields),
};

/* ---------------------------------------------------------------------- */
/* Validation */

static bool name_ok(const char *s)
{
	if (!s || !s[0] || strlen(s) >= NETCONF_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_' &&
		    *s != '.')
			return false;
	return true;
}

static bool net_has_port(const struct netconf_net *net, const char *name)
{
	for (uint32_t i = 0; i < net->port_count; i++) {
		const struct netconf_port *p = &net->ports[i];
		const char *n = p->name ? p->name : p->tap;

		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

static int capture_check(const struct netconf_capture *c,
			 const struct netconf_net *net, const char *path,
			 struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];

	netconf_path_field(p, path, "name");
	if (!c->name)
		return netconf_err_set(err, path, "missing field 'name'");
	if (!name_ok(c->name))
		return netconf_err_set(err, p,
				       "'%.64s' is not a capture name (1..%d of "
				       "A-Z a-z 0-9 . _ -)",
				       c->name, NETCONF_NAME_MAX - 1);
	for (uint32_t i = 0; i < c->port_count; i++) {
		netconf_path_index(p, path, "ports", i);
		if (!c->ports[i] || !net_has_port(net, c->ports[i]))
			return netconf_err_set(err, p,
					       "network '%s' declares no port '%.64s'",
					       net->name ? net->name : "?",
					       c->ports[i] ? c->ports[i] : "");
	}
	netconf_path_field(p, path, "filter");
	if (c->filter && strlen(c->filter) > NETCONF_CAPTURE_FILTER_MAX)
		return netconf_err_set(err, p, "longer than %d bytes",
				       NETCONF_CAPTURE_FILTER_MAX);
	netconf_path_field(p, path, "file");
	if (c->file && (c->file[0] != '/' || strlen(c->file) > 4000))
		return netconf_err_set(err, p,
				       "must be an absolute path (netd writes "
				       "FILE.0, FILE.1, ...)");
	netconf_path_field(p, path, "rotate_size");
	if (c->rotate_size > NETCONF_CAPTURE_ROTATE_SIZE_MAX)
		return netconf_err_set(err, p, "must be 1..%d (MiB), got %u",
				       NETCONF_CAPTURE_ROTATE_SIZE_MAX,
				       c->rotate_size);
	netconf_path_field(p, path, "rotate_files");
	if (c->rotate_files > NETCONF_CAPTURE_ROTATE_FILES_MAX)
		return netconf_err_set(err, p, "must be 1..%d, got %u",
				       NETCONF_CAPTURE_ROTATE_FILES_MAX,
				       c->rotate_files);
	netconf_path_field(p, path, "snaplen");
	if (c->snaplen > NETCONF_CAPTURE_SNAPLEN_MAX)
		return netconf_err_set(err, p, "must be 1..%d, got %u",
				       NETCONF_CAPTURE_SNAPLEN_MAX, c->snaplen);
	return 0;
}

int netconf_capture_validate(const struct netconf_net *net, const char *path,
			     struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	int rc;

	if (net->capture_count > NETCONF_CAPTURES_MAX) {
		netconf_path_field(p, path, "captures");
		return netconf_err_set(err, p, "at most %d captures, got %u",
				       NETCONF_CAPTURES_MAX, net->capture_count);
	}
	for (uint32_t i = 0; i < net->capture_count; i++) {
		netconf_path_index(p, path, "captures", i);
		rc = capture_check(&net->captures[i], net, p, err);
		if (rc)
			return rc;
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(net->captures[i].name,
				    net->captures[j].name))
				return netconf_err_set(
				    err, p, "capture '%s' is declared twice",
				    net->captures[i].name);
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Defaults and freeing */

int netconf_capture_set_defaults(struct netconf_net *net)
{
	for (uint32_t i = 0; i < net->capture_count; i++) {
		struct netconf_capture *c = &net->captures[i];

		if (!c->rotate_size)
			c->rotate_size = NETCONF_CAPTURE_ROTATE_SIZE_DEFAULT;
		if (!c->rotate_files)
			c->rotate_files = NETCONF_CAPTURE_ROTATE_FILES_DEFAULT;
		if (!c->snaplen)
			c->snaplen = NETCONF_CAPTURE_SNAPLEN_MAX;
	}
	return 0;
}

void netconf_capture_clear(struct netconf_net *net)
{
	for (uint32_t i = 0; i < net->capture_count; i++) {
		struct netconf_capture *c = &net->captures[i];

		free(c->name);
		for (uint32_t j = 0; j < c->port_count; j++)
			free(c->ports[j]);
		free(c->ports);
		free(c->filter);
		free(c->file);
	}
	free(net->captures);
	net->captures = NULL;
	net->capture_count = 0;
}

/* ---------------------------------------------------------------------- */
/* JSON */

static json_t *capture_to_json(const struct netconf_capture *c)
{
	json_t *o = json_pack("{s:s?,s:i,s:i,s:i}", "name", c->name,
			      "rotate_size", (int)c->rotate_size,
			      "rotate_files", (int)c->rotate_files, "snaplen",
			      (int)c->snaplen);
	json_t *a = json_array();

	if (o && c->filter)
		json_object_set_new(o, "filter", json_string(c->filter));
	if (o && c->file)
		json_object_set_new(o, "file", json_string(c->file));
	for (uint32_t i = 0; a && i < c->port_count; i++)
		json_array_append_new(a, json_string(c->ports[i]));
	if (o && a && c->port_count)
		json_object_set_new(o, "ports", a);
	else
		json_decref(a);
	return o;
}

int netconf_capture_to_json(const struct netconf_net *net, json_t *o)
{
	json_t *a;
	int rc = 0;

	if (!net->capture_count)
		return 0;
	a = json_array();
	for (uint32_t i = 0; a && i < net->capture_count; i++)
		rc |= json_array_append_new(a,
					    capture_to_json(&net->captures[i]));
	rc |= json_object_set_new(o, "captures", a);
	return rc ? -ENOMEM : 0;
}

static int jstr(const json_t *v, char **dst, const char *path,
		struct netconf_error *err)
{
	char *n;

	if (!json_is_string(v))
		return netconf_err_set(err, path, "must be a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return netconf_err_set(err, path,
				       "must not hold a NUL character");
	if (*dst)
		return netconf_err_set(err, path, "is given twice");
	n = strdup(json_string_value(v));
	if (!n)
		return -ENOMEM;
	*dst = n;
	return 0;
}

static int juint(const json_t *v, uint32_t *dst, uint32_t max,
		 const char *path, struct netconf_error *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > max)
		return netconf_err_set(err, path, "must be an integer 1..%u",
				       max);
	*dst = (uint32_t)json_integer_value(v);
	return 0;
}

static int capture_parse_json(const json_t *j, struct netconf_capture *c,
			      const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	const char *key;
	json_t *v;
	int rc = 0;

	if (!json_is_object(j))
		return netconf_err_set(err, path, "must be an object");
	json_object_foreach((json_t *)j, key, v)
	{
		netconf_path_field(p, path, key);
		if (!strcmp(key, "name")) {
			rc = jstr(v, &c->name, p, err);
		} else if (!strcmp(key, "filter")) {
			rc = jstr(v, &c->filter, p, err);
		} else if (!strcmp(key, "file")) {
			rc = jstr(v, &c->file, p, err);
		} else if (!strcmp(key, "rotate_size")) {
			rc = juint(v, &c->rotate_size,
				   NETCONF_CAPTURE_ROTATE_SIZE_MAX, p, err);
		} else if (!strcmp(key, "rotate_files")) {
			rc = juint(v, &c->rotate_files,
				   NETCONF_CAPTURE_ROTATE_FILES_MAX, p, err);
		} else if (!strcmp(key, "snaplen")) {
			rc = juint(v, &c->snaplen, NETCONF_CAPTURE_SNAPLEN_MAX,
				   p, err);
		} else if (!strcmp(key, "ports")) {
			size_t i;
			json_t *e;

			if (!json_is_array(v) ||
			    json_array_size(v) > NETCONF_PORTS_MAX)
				return netconf_err_set(err, p,
						       "must be a list of at most %d port names",
						       NETCONF_PORTS_MAX);
			if (c->ports)
				return netconf_err_set(err, p, "is given twice");
			if (!json_array_size(v))
				continue;
			c->ports = calloc(json_array_size(v), sizeof(char *));
			if (!c->ports)
				return -ENOMEM;
			json_array_foreach(v, i, e)
			{
				char q[NETCONF_PATH_LEN];

				netconf_path_fmt(q, "%s[%zu]", p, i);
				c->port_count++;
				rc = jstr(e, &c->ports[i], q, err);
				if (rc)
					return rc;
			}
		} else {
			return netconf_err_unknown_field(err, p, capture_fields,
							 key);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int netconf_capture_parse_json(struct netconf_net *net, const char *key,
			       const json_t *v, const char *path,
			       struct netconf_error *err)
{
	char q[NETCONF_PATH_LEN];
	size_t i;
	json_t *e;
	int rc;

	if (strcmp(key, "captures"))
		return 1;
	if (!json_is_array(v))
		return netconf_err_set(err, path, "must be a list");
	if (json_array_size(v) > NETCONF_CAPTURES_MAX)
		return netconf_err_set(err, path,
				       "has %zu entries, at most %d allowed",
				       json_array_size(v), NETCONF_CAPTURES_MAX);
	if (net->captures)
		return netconf_err_set(err, path, "is given twice");
	if (!json_array_size(v))
		return 0;
	net->captures = calloc(json_array_size(v), sizeof(*net->captures));
	if (!net->captures)
		return -ENOMEM;
	json_array_foreach(v, i, e)
	{
		netconf_path_fmt(q, "%s[%zu]", path, i);
		net->capture_count++;
		rc = capture_parse_json(e, &net->captures[i], q, err);
		if (rc)
			return rc;
	}
	return 0;
}
