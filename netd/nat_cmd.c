/* SPDX-License-Identifier: MIT */
/* nat_cmd.c - the control commands of nat networks' forwards: forward.add, forward.remove, forward.list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fwdspec.h"
#include "common/log.h"
#include "loom/control.h"
#include "netd/nat_internal.h"
#include "netd/netd.h"

#define MOD "nat"

static struct netd_net *nat_arg_net(struct netd *d, json_t *args, char *err,
				    int *ret)
{
	json_t *v = json_object_get(args, "net");
	struct netd_net *n;

	if (!json_is_string(v) || !json_string_length(v)) {
		snprintf(err, ERRLEN, "argument 'net' must be a network name");
		*ret = -EINVAL;
		return NULL;
	}
	n = netd_net_find(d, json_string_value(v));
	if (!n) {
		snprintf(err, ERRLEN, "network '%s' does not exist",
			 json_string_value(v));
		*ret = -ENOENT;
		return NULL;
	}
	if (!n->nat) {
		snprintf(err, ERRLEN,
			 "network '%s' is mode %s: forwards need mode nat "
			 "or bridge",
			 n->conf.name, netconf_mode_name(n->conf.mode));
		*ret = -EOPNOTSUPP;
		return NULL;
	}
	return n;
}

static int nat_state_save(struct netd *d, char *err)
{
	int ret = netd_state_save(d);

	if (ret < 0)
		snprintf(err, ERRLEN,
			 "cannot write the declared state to %s: %s; change "
			 "undone",
			 d->state_path, strerror(-ret));
	return ret < 0 ? -EIO : 0;
}

static int netd_cmd_forward_add(struct netd *d, json_t *args, json_t **res,
			 char *err)
{
	struct netconf_error nerr;
	struct netconf_forward f;
	struct netd_net *n;
	json_t *fj;
	int ret = 0;

	n = nat_arg_net(d, args, err, &ret);
	if (!n)
		return ret;
	fj = json_deep_copy(args);
	if (!fj)
		return -ENOMEM;
	json_object_del(fj, "net");
	memset(&nerr, 0, sizeof(nerr));
	ret = netconf_forward_from_json(fj, &f, "", &nerr);
	json_decref(fj);
	if (ret < 0) {
		snprintf(err, ERRLEN, "%s%s%s", nerr.path,
			 nerr.path[0] ? ": " : "", nerr.msg);
		return ret;
	}
	ret = nat_fwd_add(n, &f, err, ERRLEN);
	if (ret == 0) {
		ret = nat_state_save(d, err);
		if (ret < 0)
			nat_fwd_del(n, n->conf.forward_count - 1);
	}
	if (ret == 0) {
		*res = json_pack("{s:o}", "forward",
				 nat_fwd_json(n, n->conf.forward_count - 1));
		log_info(MOD, "%s: forward %s %s -> %s added", n->conf.name,
			 netconf_fwd_proto_name(f.proto), f.host, f.guest);
	}
	netconf_forward_clear(&f);
	return ret;
}

static int netd_cmd_forward_remove(struct netd *d, json_t *args, json_t **res,
			    char *err)
{
	struct netconf_forward old;
	struct fwd_endpoint h;
	struct netd_net *n;
	json_t *pv = json_object_get(args, "proto"),
	       *hv = json_object_get(args, "host");
	int ret = 0, proto = 0, i;
	char msg[ERRLEN];

	n = nat_arg_net(d, args, err, &ret);
	if (!n)
		return ret;
	if (pv && (!json_is_string(pv) ||
		   (proto = fwd_proto_parse(json_string_value(pv))) < 0)) {
		snprintf(err, ERRLEN, "argument 'proto' must be tcp or udp");
		return -EINVAL;
	}
	if (!json_is_string(hv) || fwd_host_parse(json_string_value(hv), &h)) {
		snprintf(err, ERRLEN,
			 "argument 'host' must be [ADDR:]PORT, e.g. 8080 or "
			 "[::1]:8080");
		return -EINVAL;
	}
	i = nat_fwd_find(n, (enum netconf_fwd_proto)proto, &h);
	if (i < 0) {
		snprintf(err, ERRLEN, "network '%s' forwards no %s %s",
			 n->conf.name, proto ? "udp" : "tcp",
			 json_string_value(hv));
		return -ENOENT;
	}
	memset(&old, 0, sizeof(old));
	old.proto = n->conf.forwards[i].proto;
	old.host = strdup(n->conf.forwards[i].host);
	old.guest = strdup(n->conf.forwards[i].guest);
	if (!old.host || !old.guest) {
		netconf_forward_clear(&old);
		return -ENOMEM;
	}
	nat_fwd_del(n, (uint32_t)i);
	ret = nat_state_save(d, err);
	if (ret < 0 && nat_fwd_add(n, &old, msg, sizeof(msg)) < 0)
		log_err(MOD, "%s: cannot restore forward %s: %s", n->conf.name,
			old.host, msg);
	if (ret == 0) {
		*res = json_object();
		log_info(MOD, "%s: forward %s %s removed", n->conf.name,
			 netconf_fwd_proto_name(old.proto), old.host);
	}
	netconf_forward_clear(&old);
	return ret;
}

static int netd_cmd_forward_list(struct netd *d, json_t *args, json_t **res,
			  char *err)
{
	json_t *v = json_object_get(args, "net"), *arr;
	const char *only = NULL;

	if (v && !json_is_null(v)) {
		if (!json_is_string(v)) {
			snprintf(err, ERRLEN, "argument 'net' must be a "
					      "network name");
			return -EINVAL;
		}
		only = json_string_value(v);
		if (!netd_net_find(d, only)) {
			snprintf(err, ERRLEN, "network '%s' does not exist",
				 only);
			return -ENOENT;
		}
	}
	arr = json_array();
	if (!arr)
		return -ENOMEM;
	for (unsigned int k = 0; k < d->nnets; k++) {
		struct netd_net *n = d->nets[k];

		if (only && strcmp(only, n->conf.name))
			continue;
		for (uint32_t i = 0; i < n->conf.forward_count; i++)
			json_array_append_new(arr, nat_fwd_json(n, i));
	}
	*res = json_pack("{s:o}", "forwards", arr);
	return 0;
}

const struct netd_command netd_nat_commands[] = {
	{ LOOM_CMD_FORWARD_ADD, netd_cmd_forward_add },
	{ LOOM_CMD_FORWARD_REMOVE, netd_cmd_forward_remove },
	{ LOOM_CMD_FORWARD_LIST, netd_cmd_forward_list },
	{ NULL, NULL },
};
