/* SPDX-License-Identifier: MIT */
/* netconf_services.c - network model: the gateway's services, `dhcp:` and `dns:` of a network. */
#include "common/netconf.h"
#include "common/netconf_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/inet.h"

/* ---------------------------------------------------------------------- */
/* Schema (netconf_schema.c links it into the network's fields) */

static const cyaml_schema_value_t addr_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 64),
};

static const cyaml_schema_field_t dhcp_host_fields[] = {
    CYAML_FIELD_STRING_PTR("mac", CYAML_FLAG_DEFAULT, struct netconf_dhcp_host,
			   mac, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("address", CYAML_FLAG_DEFAULT,
			   struct netconf_dhcp_host, address, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_OPTIONAL,
			   struct netconf_dhcp_host, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_value_t dhcp_host_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct netconf_dhcp_host,
			dhcp_host_fields),
};

static const cyaml_schema_field_t dhcp_route_fields[] = {
    CYAML_FIELD_STRING_PTR("to", CYAML_FLAG_DEFAULT, struct netconf_dhcp_route,
			   to, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("via", CYAML_FLAG_DEFAULT,
			   struct netconf_dhcp_route, via, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_value_t dhcp_route_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct netconf_dhcp_route,
			dhcp_route_fields),
};

const cyaml_schema_field_t netconf_dhcp_fields[] = {
    CYAML_FIELD_BOOL_PTR("enabled", CYAML_FLAG_OPTIONAL, struct netconf_dhcp,
			 enabled),
    CYAML_FIELD_STRING_PTR("range", CYAML_FLAG_OPTIONAL, struct netconf_dhcp,
			   range, 0, CYAML_UNLIMITED),
    CYAML_FIELD_UINT("lease_time", CYAML_FLAG_OPTIONAL, struct netconf_dhcp,
		     lease_time),
    CYAML_FIELD_SEQUENCE_COUNT("hosts", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct netconf_dhcp, hosts, host_count,
			       &dhcp_host_entry, 0, NETCONF_DHCP_HOSTS_MAX),
    CYAML_FIELD_SEQUENCE_COUNT("ntp", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct netconf_dhcp, ntp, ntp_count, &addr_entry,
			       0, NETCONF_DHCP_NTP_MAX),
    CYAML_FIELD_SEQUENCE_COUNT("routes",
			       CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct netconf_dhcp, routes, route_count,
			       &dhcp_route_entry, 0, NETCONF_DHCP_ROUTES_MAX),
    CYAML_FIELD_END};


const cyaml_schema_field_t netconf_dns_fields[] = {
    CYAML_FIELD_BOOL_PTR("enabled", CYAML_FLAG_OPTIONAL, struct netconf_dns,
			 enabled),
    CYAML_FIELD_STRING_PTR("domain", CYAML_FLAG_OPTIONAL, struct netconf_dns,
			   domain, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE_COUNT("upstream",
			       CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct netconf_dns, upstream, upstream_count,
			       &addr_entry, 0, NETCONF_DNS_UPSTREAM_MAX),
    CYAML_FIELD_END};


/* ---------------------------------------------------------------------- */
/* Text forms */

int netconf_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int m[6];
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2],
			 &m[3], &m[4], &m[5], &tail) != 6 ||
	    strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

int netconf_dhcp_range_parse(const char *s, uint32_t *first, uint32_t *last)
{
	char a[32], b[32];
	const char *dash = s ? strchr(s, '-') : NULL;
	struct in_addr x, y;

	if (!dash || (size_t)(dash - s) >= sizeof(a) ||
	    strlen(dash + 1) >= sizeof(b))
		return -EINVAL;
	memcpy(a, s, (size_t)(dash - s));
	a[dash - s] = 0;
	snprintf(b, sizeof(b), "%s", dash + 1);
	if (inet_pton(AF_INET, a, &x) != 1 || inet_pton(AF_INET, b, &y) != 1)
		return -EINVAL;
	*first = ntohl(x.s_addr);
	*last = ntohl(y.s_addr);
	return 0;
}

/* A DNS label: 1..63 of a-z 0-9 -, not starting or ending with '-'. */
static bool label_ok(const char *s, size_t n)
{
	if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool domain_ok(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 253)
		return false;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		if (!label_ok(s, n))
			return false;
		s += n + (dot ? 1 : 0);
		if (dot && !*s)
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* Validation */

static int v4_in_subnet(const char *s, const struct inet_cidr *sub,
			uint32_t *out)
{
	struct inet_cidr a;

	if (inet_addr_parse(s, &a) || a.family != AF_INET ||
	    !inet_cidr_contains(sub, &a))
		return -1;
	*out = inet_v4_u32(&a);
	return 0;
}

static int dhcp_validate(const struct netconf_net *net,
			 const struct netconf_dhcp *c, const char *path,
			 const struct inet_cidr *sub, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN], q[NETCONF_PATH_LEN];
	uint32_t first, last, ip, gw = 0;
	struct inet_cidr g;

	if (net->gateway && !inet_addr_parse(net->gateway, &g))
		gw = inet_v4_u32(&g);
	else if (!net->gateway) { /* the default, set after validation */
		inet_cidr_first_host(sub, &g);
		gw = inet_v4_u32(&g);
	}
	if (c->range) {
		netconf_path_field(p, path, "range");
		if (netconf_dhcp_range_parse(c->range, &first, &last))
			return netconf_err_set(err, p,
					       "'%.64s' is not FIRST-LAST (two "
					       "IPv4 addresses)",
					       c->range);
		{
			char fa[INET_ADDRSTRLEN], la[INET_ADDRSTRLEN];
			struct in_addr x = { htonl(first) }, y = { htonl(last) };

			inet_ntop(AF_INET, &x, fa, sizeof(fa));
			inet_ntop(AF_INET, &y, la, sizeof(la));
			if (v4_in_subnet(fa, sub, &ip) ||
			    v4_in_subnet(la, sub, &ip))
				return netconf_err_set(
				    err, p, "%.64s lies outside subnet %s",
				    c->range, net->subnet);
		}
		if (first > last)
			return netconf_err_set(err, p,
					       "%.64s: the first address comes "
					       "after the last",
					       c->range);
		if ((uint64_t)last - first + 1 > NETCONF_DHCP_POOL_MAX)
			return netconf_err_set(err, p,
					       "%.64s holds more than %d addresses",
					       c->range, NETCONF_DHCP_POOL_MAX);
	}
	netconf_path_field(p, path, "lease_time");
	if (c->lease_time && (c->lease_time < NETCONF_DHCP_LEASE_MIN ||
			      c->lease_time > NETCONF_DHCP_LEASE_MAX))
		return netconf_err_set(err, p, "must be %d..%d seconds, got %u",
				       NETCONF_DHCP_LEASE_MIN,
				       NETCONF_DHCP_LEASE_MAX, c->lease_time);
	for (uint32_t i = 0; i < c->host_count; i++) {
		const struct netconf_dhcp_host *h = &c->hosts[i];
		uint8_t mac[6];

		netconf_path_index(q, path, "hosts", i);
		netconf_path_field(p, q, "mac");
		if (netconf_mac_parse(h->mac, mac) || (mac[0] & 1))
			return netconf_err_set(err, p,
					       "'%.32s' is not a unicast MAC "
					       "(aa:bb:cc:dd:ee:ff)",
					       h->mac ? h->mac : "");
		netconf_path_field(p, q, "address");
		if (!h->address || v4_in_subnet(h->address, sub, &ip))
			return netconf_err_set(err, p,
					       "'%.64s' is not an address in "
					       "subnet %s",
					       h->address ? h->address : "",
					       net->subnet);
		if (ip == gw)
			return netconf_err_set(err, p,
					       "%s is the network's gateway",
					       h->address);
		netconf_path_field(p, q, "name");
		if (h->name && !label_ok(h->name, strlen(h->name)))
			return netconf_err_set(err, p,
					       "'%.64s' is not a host name (1..63 "
					       "of a-z 0-9 -)",
					       h->name);
		for (uint32_t j = 0; j < i; j++) {
			const struct netconf_dhcp_host *o = &c->hosts[j];

			if (!strcasecmp(o->mac, h->mac))
				return netconf_err_set(err, q,
						       "MAC %s is given twice",
						       h->mac);
			if (!strcmp(o->address, h->address))
				return netconf_err_set(
				    err, q, "address %s is given twice",
				    h->address);
			if (h->name && o->name && !strcasecmp(o->name, h->name))
				return netconf_err_set(err, q,
						       "name %s is given twice",
						       h->name);
		}
	}
	for (uint32_t i = 0; i < c->ntp_count; i++) {
		struct inet_cidr a;

		netconf_path_index(p, path, "ntp", i);
		if (!c->ntp[i] || inet_addr_parse(c->ntp[i], &a) ||
		    a.family != AF_INET)
			return netconf_err_set(err, p,
					       "'%.64s' is not an IPv4 address",
					       c->ntp[i] ? c->ntp[i] : "");
	}
	for (uint32_t i = 0; i < c->route_count; i++) {
		const struct netconf_dhcp_route *r = &c->routes[i];
		struct inet_cidr to;

		netconf_path_index(q, path, "routes", i);
		netconf_path_field(p, q, "to");
		if (!r->to || inet_cidr_parse(r->to, &to) ||
		    to.family != AF_INET ||
		    (to.prefix < 32 &&
		     (inet_v4_u32(&to) & (0xffffffffu >> to.prefix))))
			return netconf_err_set(err, p,
					       "'%.64s' is not an IPv4 NET/PREFIX "
					       "without host bits",
					       r->to ? r->to : "");
		netconf_path_field(p, q, "via");
		if (!r->via || v4_in_subnet(r->via, sub, &ip))
			return netconf_err_set(err, p,
					       "'%.64s' is not an address in "
					       "subnet %s",
					       r->via ? r->via : "",
					       net->subnet);
	}
	return 0;
}

int netconf_services_validate(const struct netconf_net *net,
			      const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN], q[NETCONF_PATH_LEN];
	struct inet_cidr sub;
	int rc;

	if ((net->dhcp || net->dns) && !net->subnet) {
		netconf_path_field(p, path, net->dhcp ? "dhcp" : "dns");
		return netconf_err_set(err, p,
				       "the gateway's services need a subnet");
	}
	if (net->dhcp) {
		netconf_path_field(p, path, "dhcp");
		if (inet_cidr_parse(net->subnet, &sub) || sub.family != AF_INET)
			return netconf_err_set(err, p,
					       "DHCP needs an IPv4 subnet");
		rc = dhcp_validate(net, net->dhcp, p, &sub, err);
		if (rc)
			return rc;
	}
	if (net->dns) {
		netconf_path_field(p, path, "dns");
		netconf_path_field(q, p, "domain");
		if (net->dns->domain && !domain_ok(net->dns->domain))
			return netconf_err_set(err, q,
					       "'%.64s' is not a domain name",
					       net->dns->domain);
		for (uint32_t i = 0; i < net->dns->upstream_count; i++) {
			struct inet_cidr a;

			netconf_path_index(q, p, "upstream", i);
			if (!net->dns->upstream[i] ||
			    inet_addr_parse(net->dns->upstream[i], &a))
				return netconf_err_set(
				    err, q, "'%.64s' is not an address",
				    net->dns->upstream[i] ? net->dns->upstream[i] :
							    "");
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Freeing */

static void strv_free(char **v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void netconf_services_clear(struct netconf_net *net)
{
	struct netconf_dhcp *c = net->dhcp;
	struct netconf_dns *s = net->dns;

	if (c) {
		free(c->enabled);
		free(c->range);
		for (uint32_t i = 0; i < c->host_count; i++) {
			free(c->hosts[i].mac);
			free(c->hosts[i].address);
			free(c->hosts[i].name);
		}
		free(c->hosts);
		strv_free(c->ntp, c->ntp_count);
		for (uint32_t i = 0; i < c->route_count; i++) {
			free(c->routes[i].to);
			free(c->routes[i].via);
		}
		free(c->routes);
		free(c);
	}
	if (s) {
		free(s->enabled);
		free(s->domain);
		strv_free(s->upstream, s->upstream_count);
		free(s);
	}
	net->dhcp = NULL;
	net->dns = NULL;
}

/* ---------------------------------------------------------------------- */
/* JSON */

static json_t *strv_json(char *const *v, uint32_t n)
{
	json_t *a = json_array();

	for (uint32_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int netconf_services_to_json(const struct netconf_net *net, json_t *o)
{
	const struct netconf_dhcp *c = net->dhcp;
	const struct netconf_dns *s = net->dns;
	int rc = 0;

	if (c) {
		json_t *d = json_object(), *h = json_array();

		if (!d || !h) {
			json_decref(d);
			json_decref(h);
			return -ENOMEM;
		}
		if (c->enabled)
			json_object_set_new(d, "enabled",
					    json_boolean(*c->enabled));
		if (c->range)
			json_object_set_new(d, "range", json_string(c->range));
		if (c->lease_time)
			json_object_set_new(d, "lease_time",
					    json_integer(c->lease_time));
		for (uint32_t i = 0; i < c->host_count; i++) {
			json_t *e = json_pack("{s:s,s:s}", "mac",
					      c->hosts[i].mac, "address",
					      c->hosts[i].address);

			if (e && c->hosts[i].name)
				json_object_set_new(
				    e, "name", json_string(c->hosts[i].name));
			json_array_append_new(h, e);
		}
		if (c->host_count)
			json_object_set_new(d, "hosts", h);
		else
			json_decref(h);
		if (c->ntp_count)
			json_object_set_new(d, "ntp",
					    strv_json(c->ntp, c->ntp_count));
		if (c->route_count) {
			json_t *r = json_array();

			for (uint32_t i = 0; r && i < c->route_count; i++)
				json_array_append_new(
				    r, json_pack("{s:s,s:s}", "to",
						 c->routes[i].to, "via",
						 c->routes[i].via));
			json_object_set_new(d, "routes", r);
		}
		rc |= json_object_set_new(o, "dhcp", d);
	}
	if (s) {
		json_t *d = json_object();

		if (!d)
			return -ENOMEM;
		if (s->enabled)
			json_object_set_new(d, "enabled",
					    json_boolean(*s->enabled));
		if (s->domain)
			json_object_set_new(d, "domain", json_string(s->domain));
		if (s->upstream_count)
			json_object_set_new(
			    d, "upstream",
			    strv_json(s->upstream, s->upstream_count));
		rc |= json_object_set_new(o, "dns", d);
	}
	return rc ? -ENOMEM : 0;
}

static int jstr(const json_t *v, char **dst, const char *path,
		struct netconf_error *err)
{
	if (!json_is_string(v))
		return netconf_err_set(err, path, "must be a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return netconf_err_set(err, path,
				       "must not hold a NUL character");
	if (*dst)
		return netconf_err_set(err, path, "is given twice");
	*dst = strdup(json_string_value(v));
	return *dst ? 0 : -ENOMEM;
}

static int jbool(const json_t *v, bool **dst, const char *path,
		 struct netconf_error *err)
{
	if (!json_is_boolean(v))
		return netconf_err_set(err, path, "must be true or false");
	if (*dst)
		return netconf_err_set(err, path, "is given twice");
	*dst = malloc(sizeof(**dst));
	if (!*dst)
		return -ENOMEM;
	**dst = json_is_true(v);
	return 0;
}

static int jstrv(const json_t *v, char ***dst, uint32_t *count, uint32_t max,
		 const char *path, struct netconf_error *err)
{
	char q[NETCONF_PATH_LEN];
	size_t i;
	json_t *e;
	int rc;

	if (!json_is_array(v) || json_array_size(v) > max)
		return netconf_err_set(err, path,
				       "must be a list of at most %u addresses",
				       max);
	if (*dst)
		return netconf_err_set(err, path, "is given twice");
	if (!json_array_size(v))
		return 0;
	*dst = calloc(json_array_size(v), sizeof(char *));
	if (!*dst)
		return -ENOMEM;
	json_array_foreach(v, i, e)
	{
		netconf_path_fmt(q, "%s[%zu]", path, i);
		(*count)++;
		rc = jstr(e, &(*dst)[i], q, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* One string field of an object read by strings_parse_json(). */
struct jstr_field {
	const char *key;
	size_t off; /* of its char * in the struct */
	bool required;
};

/*
 * An object whose fields are all strings (a static host, a route) into
 * the struct at @base, as @fields say; @schema names the fields in the
 * error for an unknown one.
 */
static int strings_parse_json(const json_t *j, void *base,
			      const struct jstr_field *fields,
			      const cyaml_schema_field_t *schema,
			      const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	const struct jstr_field *f;
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(j))
		return netconf_err_set(err, path, "must be an object");
	json_object_foreach((json_t *)j, key, v)
	{
		netconf_path_field(p, path, key);
		for (f = fields; f->key && strcmp(f->key, key); f++)
			;
		if (!f->key)
			return netconf_err_unknown_field(err, p, schema, key);
		rc = jstr(v, (char **)((char *)base + f->off), p, err);
		if (rc)
			return rc;
	}
	for (f = fields; f->key; f++)
		if (f->required && !*(char **)((char *)base + f->off))
			return netconf_err_set(err, path, "missing field '%s'",
					       f->key);
	return 0;
}

static const struct jstr_field host_jfields[] = {
	{ "mac", offsetof(struct netconf_dhcp_host, mac), true },
	{ "address", offsetof(struct netconf_dhcp_host, address), true },
	{ "name", offsetof(struct netconf_dhcp_host, name), false },
	{ NULL, 0, false },
};

static const struct jstr_field route_jfields[] = {
	{ "to", offsetof(struct netconf_dhcp_route, to), true },
	{ "via", offsetof(struct netconf_dhcp_route, via), true },
	{ NULL, 0, false },
};

/* A list of string objects (@what: "hosts", "routes") into *@arr. */
static int objects_parse_json(const json_t *v, void **arr, uint32_t *count,
			      size_t elem, uint32_t max, const char *what,
			      const struct jstr_field *fields,
			      const cyaml_schema_field_t *schema,
			      const char *path, struct netconf_error *err)
{
	char q[NETCONF_PATH_LEN];
	json_t *e;
	size_t i;
	int rc;

	if (!json_is_array(v) || json_array_size(v) > max)
		return netconf_err_set(err, path,
				       "must be a list of at most %u %s", max,
				       what);
	if (*arr)
		return netconf_err_set(err, path, "is given twice");
	if (!json_array_size(v))
		return 0;
	*arr = calloc(json_array_size(v), elem);
	if (!*arr)
		return -ENOMEM;
	json_array_foreach(v, i, e)
	{
		netconf_path_fmt(q, "%s[%zu]", path, i);
		(*count)++;
		rc = strings_parse_json(e, (char *)*arr + i * elem, fields,
					schema, q, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int dhcp_parse_json(const json_t *j, struct netconf_dhcp *c,
			   const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	const char *key;
	json_t *v;
	int rc = 0;

	json_object_foreach((json_t *)j, key, v)
	{
		netconf_path_field(p, path, key);
		if (!strcmp(key, "enabled")) {
			rc = jbool(v, &c->enabled, p, err);
		} else if (!strcmp(key, "range")) {
			rc = jstr(v, &c->range, p, err);
		} else if (!strcmp(key, "lease_time")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > NETCONF_DHCP_LEASE_MAX)
				return netconf_err_set(
				    err, p, "must be %d..%d seconds",
				    NETCONF_DHCP_LEASE_MIN,
				    NETCONF_DHCP_LEASE_MAX);
			c->lease_time = (uint32_t)json_integer_value(v);
		} else if (!strcmp(key, "ntp")) {
			rc = jstrv(v, &c->ntp, &c->ntp_count,
				   NETCONF_DHCP_NTP_MAX, p, err);
		} else if (!strcmp(key, "hosts")) {
			rc = objects_parse_json(v, (void **)&c->hosts,
						&c->host_count,
						sizeof(*c->hosts),
						NETCONF_DHCP_HOSTS_MAX, "hosts",
						host_jfields, dhcp_host_fields,
						p, err);
		} else if (!strcmp(key, "routes")) {
			rc = objects_parse_json(v, (void **)&c->routes,
						&c->route_count,
						sizeof(*c->routes),
						NETCONF_DHCP_ROUTES_MAX, "routes",
						route_jfields, dhcp_route_fields,
						p, err);
		} else {
			return netconf_err_unknown_field(err, p, netconf_dhcp_fields,
							 key);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int dns_parse_json(const json_t *j, struct netconf_dns *s,
			  const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	const char *key;
	json_t *v;
	int rc;

	json_object_foreach((json_t *)j, key, v)
	{
		netconf_path_field(p, path, key);
		if (!strcmp(key, "enabled"))
			rc = jbool(v, &s->enabled, p, err);
		else if (!strcmp(key, "domain"))
			rc = jstr(v, &s->domain, p, err);
		else if (!strcmp(key, "upstream"))
			rc = jstrv(v, &s->upstream, &s->upstream_count,
				   NETCONF_DNS_UPSTREAM_MAX, p, err);
		else
			return netconf_err_unknown_field(err, p, netconf_dns_fields,
							 key);
		if (rc)
			return rc;
	}
	return 0;
}

int netconf_services_parse_json(struct netconf_net *net, const char *key,
				const json_t *v, const char *path,
				struct netconf_error *err)
{
	if (strcmp(key, "dhcp") && strcmp(key, "dns"))
		return 1;
	if (!json_is_object(v))
		return netconf_err_set(err, path, "must be an object");
	if (!strcmp(key, "dhcp")) {
		if (net->dhcp)
			return netconf_err_set(err, path, "is given twice");
		net->dhcp = calloc(1, sizeof(*net->dhcp));
		if (!net->dhcp)
			return -ENOMEM;
		return dhcp_parse_json(v, net->dhcp, path, err);
	}
	if (net->dns)
		return netconf_err_set(err, path, "is given twice");
	net->dns = calloc(1, sizeof(*net->dns));
	if (!net->dns)
		return -ENOMEM;
	return dns_parse_json(v, net->dns, path, err);
}
