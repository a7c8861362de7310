/* SPDX-License-Identifier: MIT */
/* netconf_yaml.c - network file: the YAML reader (libyaml checks, libcyaml). */
#include "common/netconf.h"
#include "common/netconf_internal.h"
#include "common/suggest.h"

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
	char p[NETCONF_PATH_LEN], *cut;
	size_t i;

	netconf_path_fmt(p, "%s", path);
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
	const struct netconf_int_range *r = netconf_int_range_find(key);
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
	char p[NETCONF_PATH_LEN], seen[32] = {0};
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
		netconf_path_field(p, path, key);
		f = netconf_field_find(fields, key);
		if (!f) {
			c->err->line = (unsigned int)k->start_mark.line + 1;
			return netconf_err_unknown_field(c->err, p, fields,
							 key);
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
	char p[NETCONF_PATH_LEN];
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
			netconf_path_fmt(p, "%s[%u]", path, idx);
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
	case CYAML_BOOL:
		if (!strcmp((char *)node->data.scalar.value, "true") ||
		    !strcmp((char *)node->data.scalar.value, "false"))
			return 0;
		return yerr(c, node, path, "must be true or false");
	case CYAML_ENUM:
		for (i = 0; i < schema->enumeration.count; i++)
			if (!strcmp(schema->enumeration.strings[i].str,
				    (char *)node->data.scalar.value))
				return 0;
		if (!strcmp(key, "mode")) {
			char msg[200];

			netconf_mode_unknown_msg(
			    (char *)node->data.scalar.value, msg, sizeof(msg));
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
				netconf_err_set(err, "",
					"YAML syntax error: %s (%s at line %u)",
					parser.problem ? parser.problem : "?",
					parser.context,
					(unsigned int)parser.context_mark.line +
					    1);
			else
				netconf_err_set(
				    err, "", "YAML syntax error: %s",
				    parser.problem ? parser.problem : "?");
			rc = -EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_ALIAS_EVENT:
			err->line = (unsigned int)ev.start_mark.line + 1;
			rc = netconf_err_set(err, "",
				     "YAML aliases (*name) are not supported "
				     "in network files");
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				err->line =
				    (unsigned int)ev.start_mark.line + 1;
				rc = netconf_err_set(
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
		rc = netconf_err_set(err, "", "the file is empty");
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
	netconf_err_clear(err, name);
	*out = NULL;
	if (len > NETCONF_FILE_MAX)
		return netconf_err_set(err, "", "larger than %d bytes",
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
		return netconf_err_set(err, "", "YAML syntax error: %s",
			       parser.problem ? parser.problem : "?");
	}
	yaml_parser_delete(&parser);
	c.err = err;
	root = yaml_document_get_root_node(&c.doc);
	if (!root) {
		rc = netconf_err_set(err, "", "the file is empty");
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
	schema = is_list ? &netconf_file_schema : &netconf_single_schema;
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
		netconf_err_set(err, "", "%s",
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
	netconf_err_clear(err, path);
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		netconf_err_set(err, "", "cannot open: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		netconf_err_set(err, "", "not a regular file");
		return -EINVAL;
	}
	if (st.st_size > NETCONF_FILE_MAX) {
		close(fd);
		return netconf_err_set(err, "", "larger than %d bytes",
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
