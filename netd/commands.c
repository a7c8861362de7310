/* SPDX-License-Identifier: MIT */
/* commands.c - control commands: argument checks, actions, JSON replies. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "loom/control.h"
#include "netd/netd.h"
#include "netd/service.h"

LOG_MODULE("netd-commands");

#ifndef LOOM_VERSION
#define LOOM_VERSION "0.1.0"
#endif

enum { ERRLEN = 512 };

const char *netd_errno_code(int err)
{
	switch (err < 0 ? -err : err) {
	case EINVAL:
		return LOOM_ERR_INVAL;
	case ENOENT:
		return LOOM_ERR_NOENT;
	case EEXIST:
		return LOOM_ERR_EXIST;
	case EPROTO:
		return LOOM_ERR_PROTO;
	case E2BIG:
		return LOOM_ERR_2BIG;
	case ENOSYS:
		return LOOM_ERR_NOSYS;
	case EOPNOTSUPP:
		return LOOM_ERR_OPNOTSUPP;
	case EPERM:
	case EACCES:
		return LOOM_ERR_PERM;
	case ENOSPC:
		return LOOM_ERR_NOSPC;
	case EBUSY:
		return LOOM_ERR_BUSY;
	case EIO:
		return LOOM_ERR_IO;
	case EADDRINUSE:
		return LOOM_ERR_ADDRINUSE;
	default:
		return LOOM_ERR_INTERNAL;
	}
}

json_t *netd_reply_error(json_t *id, const char *code, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:O?,s:b,s:{s:s,s:s}}", "id", id, "ok", 0, "error",
			 "code", code, "message", msg);
}

/* A handler fills *res (a new object) or err, and returns 0 or -errno. */
typedef int (*cmd_fn)(struct netd *d, json_t *args, json_t **res, char *err);

static const char *arg_str(json_t *args, const char *key, bool required,
			   char *err, int *ret)
{
	json_t *v = json_object_get(args, key);

	if (!v) {
		if (required) {
			snprintf(err, ERRLEN, "missing argument '%s'", key);
			*ret = -EINVAL;
		}
		return NULL;
	}
	if (!json_is_string(v) || !json_string_length(v)) {
		snprintf(err, ERRLEN, "argument '%s' must be a non-empty string",
			 key);
		*ret = -EINVAL;
		return NULL;
	}
	return json_string_value(v);
}

static struct netd_net *arg_net(struct netd *d, json_t *args, const char *key,
				char *err, int *ret)
{
	const char *name = arg_str(args, key, true, err, ret);
	struct netd_net *n;

	if (!name)
		return NULL;
	n = netd_net_find(d, name);
	if (!n) {
		snprintf(err, ERRLEN, "network '%s' does not exist", name);
		*ret = -ENOENT;
	}
	return n;
}

static void fmt_nerr(const struct netconf_error *e, char *err)
{
	snprintf(err, ERRLEN, "%s%s%s", e->path, e->path[0] ? ": " : "",
		 e->msg);
}

/* Write the state; on failure @undo puts things back. */
static int commit_state(struct netd *d, char *err)
{
	int ret = netd_state_save(d);

	if (ret < 0)
		snprintf(err, ERRLEN,
			 "cannot write the declared state to %s: %s; change undone",
			 d->state_path, strerror(-ret));
	return ret < 0 ? -EIO : 0;
}

static int cmd_net_create(struct netd *d, json_t *args, json_t **res,
			  char *err)
{
	struct netconf_error nerr;
	struct netconf_net conf;
	char msg[ERRLEN];
	int ret;

	memset(&nerr, 0, sizeof(nerr));
	memset(&conf, 0, sizeof(conf));
	ret = netconf_net_from_json(args, &conf, "", &nerr);
	if (ret < 0) {
		fmt_nerr(&nerr, err);
		return ret;
	}
	ret = netd_net_create(d, &conf, false, err, ERRLEN);
	if (ret == 0) {
		ret = commit_state(d, err);
		if (ret < 0)
			netd_net_delete(d, conf.name, msg, sizeof(msg));
	}
	if (ret == 0)
		*res = json_pack("{s:o}", "network",
				 netd_net_json(netd_net_find(d, conf.name)));
	netconf_net_clear(&conf);
	return ret;
}

static int cmd_net_apply(struct netd *d, json_t *args, json_t **res,
			 char *err)
{
	struct netconf_error nerr;
	struct netconf *cfg = NULL;
	json_t *created, *updated, *unchanged;
	int ret;

	memset(&nerr, 0, sizeof(nerr));
	if (!json_is_array(json_object_get(args, "networks"))) {
		snprintf(err, ERRLEN, "networks: must be a list of networks");
		return -EINVAL;
	}
	ret = netconf_from_json(args, &cfg, &nerr);
	if (ret < 0) {
		fmt_nerr(&nerr, err);
		return ret;
	}
	created = json_array();
	updated = json_array();
	unchanged = json_array();
	for (uint32_t i = 0; i < cfg->network_count && ret == 0; i++) {
		const struct netconf_net *c = &cfg->networks[i];
		const char *outcome = "unchanged";
		char msg[320];

		ret = netd_net_apply(d, c, &outcome, msg, sizeof(msg));
		if (ret < 0) {
			snprintf(err, ERRLEN, "networks[%u] (%.40s): %s", i,
				 c->name, msg);
			break;
		}
		json_array_append_new(!strcmp(outcome, "created") ? created :
				      !strcmp(outcome, "updated") ? updated :
								    unchanged,
				      json_string(c->name));
	}
	/* What was applied stays applied, so it is declared either way. */
	if (json_array_size(created) || json_array_size(updated)) {
		char serr[ERRLEN];
		int sret = commit_state(d, serr);

		if (ret == 0 && sret < 0) {
			ret = sret;
			memcpy(err, serr, ERRLEN);
		}
	}
	netconf_free(cfg);
	if (ret < 0) {
		json_decref(created);
		json_decref(updated);
		json_decref(unchanged);
		return ret;
	}
	*res = json_pack("{s:o,s:o,s:o}", "created", created, "updated",
			 updated, "unchanged", unchanged);
	return 0;
}

static int cmd_net_list(struct netd *d, json_t *args, json_t **res, char *err)
{
	json_t *arr = json_array();

	for (unsigned int i = 0; i < d->nnets; i++)
		json_array_append_new(arr, netd_net_json(d->nets[i]));
	*res = json_pack("{s:o}", "networks", arr);
	return 0;
}

static int cmd_net_show(struct netd *d, json_t *args, json_t **res, char *err)
{
	struct netd_net *n;
	json_t *ports;
	int ret = 0;

	n = arg_net(d, args, "name", err, &ret);
	if (!n)
		return ret;
	ports = json_array();
	for (uint32_t i = 0; i < n->conf.port_count; i++)
		json_array_append_new(ports, netd_port_status(n, i));
	for (int i = 0; i < NETD_VMS_MAX; i++)
		if (d->vms[i] && d->vms[i]->net == n)
			json_array_append_new(ports, netd_vm_status(d->vms[i]));
	netd_kport_list(d, n, ports);
	*res = json_pack("{s:o,s:o}", "network", netd_net_json(n), "ports",
			 ports);
	return 0;
}

static int cmd_net_delete(struct netd *d, json_t *args, json_t **res,
			  char *err)
{
	struct netconf_net old;
	struct netd_net *n;
	char msg[ERRLEN];
	int ret = 0;

	n = arg_net(d, args, "name", err, &ret);
	if (!n)
		return ret;
	ret = netd_netconf_copy(&old, &n->conf);
	if (ret < 0)
		return ret;
	netd_net_delete(d, old.name, err, ERRLEN);
	ret = commit_state(d, err);
	if (ret < 0)
		netd_net_create(d, &old, true, msg, sizeof(msg));
	else
		netd_gw_leases_forget(d, old.name);
	netconf_net_clear(&old);
	if (ret == 0)
		*res = json_object();
	return ret;
}

static int cmd_port_add(struct netd *d, json_t *args, json_t **res,
			char *err)
{
	struct netconf_error nerr;
	struct netconf_port pc;
	struct netd_net *n;
	json_t *pj;
	char msg[ERRLEN];
	int ret = 0, i;

	n = arg_net(d, args, "net", err, &ret);
	if (!n)
		return ret;
	pj = json_deep_copy(args);
	if (!pj)
		return -ENOMEM;
	json_object_del(pj, "net");
	memset(&nerr, 0, sizeof(nerr));
	memset(&pc, 0, sizeof(pc));
	ret = netconf_port_from_json(pj, &pc, "", &nerr);
	json_decref(pj);
	if (ret < 0) {
		fmt_nerr(&nerr, err);
		return ret;
	}
	ret = netd_port_add(d, n, &pc, err, ERRLEN);
	if (ret == 0) {
		ret = commit_state(d, err);
		if (ret < 0)
			netd_port_del(d, n, pc.name, msg, sizeof(msg));
	}
	if (ret == 0) {
		i = netd_port_find(n, pc.name);
		*res = json_pack("{s:o}", "port", netd_port_status(n, (unsigned)i));
	}
	netconf_port_clear(&pc);
	return ret;
}

static int cmd_port_del(struct netd *d, json_t *args, json_t **res, char *err)
{
	struct netconf_port old;
	struct netd_net *n;
	const char *port;
	char msg[ERRLEN];
	int ret = 0, i;

	n = arg_net(d, args, "net", err, &ret);
	if (!n)
		return ret;
	port = arg_str(args, "port", true, err, &ret);
	if (!port)
		return ret;
	i = netd_port_find(n, port);
	if (i < 0 && (i = netd_vm_find(d, n, port)) >= 0) {
		/* A VM NIC is not declared state; its link setting is. */
		bool down = netconf_link_is_down(&n->conf, port);

		netd_vm_detach(d, i);
		if (down) {
			netconf_link_set(&n->conf, port, false);
			ret = commit_state(d, err);
			if (ret < 0) {
				netconf_link_set(&n->conf, port, true);
				return ret;
			}
		}
		*res = json_object();
		return 0;
	}
	if (i < 0) {
		snprintf(err, ERRLEN, "network '%s' has no port '%s'",
			 n->conf.name, port);
		return -ENOENT;
	}
	ret = netd_portconf_copy(&old, &n->conf.ports[i]);
	if (ret < 0)
		return ret;
	netd_port_del(d, n, port, err, ERRLEN);
	ret = commit_state(d, err);
	if (ret < 0)
		netd_port_add(d, n, &old, msg, sizeof(msg));
	netconf_port_clear(&old);
	if (ret == 0)
		*res = json_object();
	return ret;
}

static int cmd_port_list(struct netd *d, json_t *args, json_t **res,
			 char *err)
{
	struct netd_net *only = NULL;
	json_t *arr;
	int ret = 0;

	if (json_object_get(args, "net")) {
		only = arg_net(d, args, "net", err, &ret);
		if (!only)
			return ret;
	}
	arr = json_array();
	for (unsigned int k = 0; k < d->nnets; k++) {
		struct netd_net *n = d->nets[k];

		if (only && n != only)
			continue;
		for (uint32_t i = 0; i < n->conf.port_count; i++)
			json_array_append_new(arr, netd_port_status(n, i));
		if (n->gw)
			json_array_append_new(arr, netd_gw_port_status(n));
		for (int i = 0; i < NETD_VMS_MAX; i++)
			if (d->vms[i] && d->vms[i]->net == n)
				json_array_append_new(arr,
						      netd_vm_status(d->vms[i]));
		netd_kport_list(d, n, arr);
	}
	if (!only)
		netd_kport_list(d, NULL, arr);
	*res = json_pack("{s:o}", "ports", arr);
	return 0;
}

/* The port's status, wherever it lives (declared, VM). */
static json_t *port_status_find(struct netd *d, struct netd_net *n,
				const char *port)
{
	int i = netd_port_find(n, port);

	if (i >= 0)
		return netd_port_status(n, (unsigned int)i);
	i = netd_vm_find(d, n, port);
	return i >= 0 ? netd_vm_status(d->vms[i]) : json_object();
}

/* port.set {net, port, link: "up"|"down"}: the only setting so far. */
static int cmd_port_set(struct netd *d, json_t *args, json_t **res, char *err)
{
	const char *port, *link, *key;
	struct netd_net *n;
	char msg[ERRLEN];
	json_t *v;
	bool up;
	int ret = 0;

	n = arg_net(d, args, "net", err, &ret);
	if (!n)
		return ret;
	port = arg_str(args, "port", true, err, &ret);
	if (!port)
		return ret;
	json_object_foreach(args, key, v)
	{
		if (strcmp(key, "net") && strcmp(key, "port") &&
		    strcmp(key, "link")) {
			snprintf(err, ERRLEN,
				 "unknown setting '%.64s' (settings: link)",
				 key);
			return -EINVAL;
		}
	}
	link = arg_str(args, "link", true, err, &ret);
	if (!link)
		return ret;
	if (strcmp(link, "up") && strcmp(link, "down")) {
		snprintf(err, ERRLEN, "link must be 'up' or 'down', got '%.64s'",
			 link);
		return -EINVAL;
	}
	up = !strcmp(link, "up");
	ret = netd_link_set(d, n, port, up, err, ERRLEN);
	if (ret < 0)
		return ret;
	ret = commit_state(d, err);
	if (ret < 0) {
		netd_link_set(d, n, port, !up, msg, sizeof(msg));
		return ret;
	}
	*res = json_pack("{s:o}", "port", port_status_find(d, n, port));
	return 0;
}

struct fdb_walk {
	struct netd *d;
	struct netd_net *n;
	json_t *arr;
};

static int fdb_entry_cb(void *arg, const struct switch_fdb_entry *e)
{
	struct fdb_walk *w = arg;
	const char *port = "?";
	char mac[18];

	for (uint32_t i = 0; i < w->n->conf.port_count; i++)
		if (w->n->rt[i].port_id == (int)e->port_id)
			port = w->n->conf.ports[i].name;
	if (!strcmp(port, "?")) {
		const char *vm = netd_vm_port_name(w->d, w->n, e->port_id);

		if (vm)
			port = vm;
	}
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0],
		 e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
	json_array_append_new(w->arr,
			      json_pack("{s:s,s:i,s:s,s:I}", "mac", mac,
					"vlan", (int)e->vlan, "port", port,
					"age", (json_int_t)e->age_sec));
	return 0;
}

static int cmd_fdb_show(struct netd *d, json_t *args, json_t **res, char *err)
{
	struct fdb_walk w;
	int ret = 0;

	w.d = d;
	w.n = arg_net(d, args, "net", err, &ret);
	if (!w.n)
		return ret;
	if (w.n->br) {
		w.arr = netd_bridge_fdb(w.n, err, ERRLEN);
		if (!w.arr)
			return -EIO;
	} else {
		w.arr = json_array();
		switch_fdb_dump(w.n->sw, fdb_entry_cb, &w);
	}
	*res = json_pack("{s:s,s:i,s:i,s:o}", "net", w.n->conf.name,
			 "capacity", (int)w.n->conf.mac_table_size, "aging",
			 (int)w.n->conf.mac_aging, "entries", w.arr);
	return 0;
}

static int cmd_fdb_flush(struct netd *d, json_t *args, json_t **res,
			 char *err)
{
	struct netd_net *n;
	const char *port;
	int32_t pid = -1;
	int ret = 0, i, flushed;

	n = arg_net(d, args, "net", err, &ret);
	if (!n)
		return ret;
	if (json_object_get(args, "port")) {
		port = arg_str(args, "port", true, err, &ret);
		if (!port)
			return ret;
		i = netd_port_find(n, port);
		if (i < 0) {
			snprintf(err, ERRLEN, "network '%s' has no port '%s'",
				 n->conf.name, port);
			return -ENOENT;
		}
		pid = n->rt[i].port_id;
		if (n->br) {
			flushed = netd_bridge_fdb_flush(n, i);
			*res = json_pack("{s:i}", "flushed",
					 flushed < 0 ? 0 : flushed);
			return flushed < 0 ? flushed : 0;
		}
		if (pid < 0) {
			*res = json_pack("{s:i}", "flushed", 0);
			return 0;
		}
	}
	flushed = n->br ? netd_bridge_fdb_flush(n, -1)
			: switch_fdb_flush(n->sw, pid, 0);
	if (flushed < 0)
		return flushed;
	*res = json_pack("{s:i}", "flushed", flushed);
	return 0;
}

static int cmd_daemon_status(struct netd *d, json_t *args, json_t **res,
			     char *err)
{
	unsigned int ports = 0, vms = 0;

	for (unsigned int i = 0; i < d->nnets; i++)
		ports += d->nets[i]->conf.port_count;
	for (int i = 0; i < NETD_VMS_MAX; i++)
		vms += d->vms[i] != NULL;
	*res = json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:I,s:s,s:s,s:i,s:i,s:i,s:i,s:b}",
			 "instance", d->instance, "alias_prefix",
			 d->alias_prefix,
			 "version", LOOM_VERSION, "protocol",
			 LOOM_CONTROL_VERSION, "pid", (int)getpid(), "uid",
			 (int)d->uid, "uptime",
			 (json_int_t)(time(NULL) - d->started), "run_dir",
			 d->run_dir, "state_dir", d->state_dir, "networks",
			 (int)d->nnets, "ports", (int)ports, "vm_ports", (int)vms,
			 "clients",
			 (int)d->nclients, "net_admin", d->have_net_admin);
	return 0;
}

static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
	{ LOOM_CMD_NET_CREATE, cmd_net_create },
	{ LOOM_CMD_NET_APPLY, cmd_net_apply },
	{ LOOM_CMD_NET_LIST, cmd_net_list },
	{ LOOM_CMD_NET_SHOW, cmd_net_show },
	{ LOOM_CMD_NET_DELETE, cmd_net_delete },
	{ LOOM_CMD_PORT_ADD, cmd_port_add },
	{ LOOM_CMD_PORT_DEL, cmd_port_del },
	{ LOOM_CMD_PORT_LIST, cmd_port_list },
	{ LOOM_CMD_PORT_SET, cmd_port_set },
	{ LOOM_CMD_FDB_SHOW, cmd_fdb_show },
	{ LOOM_CMD_FDB_FLUSH, cmd_fdb_flush },
	{ LOOM_CMD_DAEMON_STATUS, cmd_daemon_status },
};

/*
 * netd_command - run one request object.
 * Return: the reply object (never NULL unless out of memory).
 */
json_t *netd_command(struct netd *d, json_t *req)
{
	json_t *id, *cmd, *args, *res = NULL, *reply;
	char err[ERRLEN] = "";
	netd_command_fn fn;
	const char *name;
	int ret;

	if (!json_is_object(req))
		return netd_reply_error(NULL, LOOM_ERR_PROTO,
					"a request must be a JSON object");
	id = json_object_get(req, "id");
	if (!json_is_integer(id))
		return netd_reply_error(NULL, LOOM_ERR_PROTO,
					"\"id\" must be an integer");
	cmd = json_object_get(req, "cmd");
	if (!json_is_string(cmd))
		return netd_reply_error(id, LOOM_ERR_PROTO,
					"\"cmd\" must be a string");
	name = json_string_value(cmd);
	args = json_object_get(req, "args");
	if (args && !json_is_object(args) && !json_is_null(args))
		return netd_reply_error(id, LOOM_ERR_INVAL,
					"\"args\" must be an object");
	if (!args || json_is_null(args))
		args = json_object();
	else
		json_incref(args);
	fn = netd_services_command(name);
	for (size_t i = 0; !fn && i < sizeof(commands) / sizeof(commands[0]);
	     i++)
		if (!strcmp(commands[i].name, name))
			fn = commands[i].fn;
	if (fn) {
		ret = fn(d, args, &res, err);
		json_decref(args);
		if (ret < 0) {
			log_debug(MOD, "%s: %s", name, err);
			return netd_reply_error(id, netd_errno_code(ret), "%s",
						err[0] ? err : strerror(-ret));
		}
		if (!res)
			return netd_reply_error(id, LOOM_ERR_INTERNAL,
						"out of memory");
		reply = json_pack("{s:O,s:b,s:o}", "id", id, "ok", 1, "result",
				  res);
		return reply;
	}
	json_decref(args);
	return netd_reply_error(id, LOOM_ERR_NOSYS, "unknown command '%.64s'",
				name);
}
