/* SPDX-License-Identifier: MIT */
/* link.c - a port's link set down or up by hand, kept in the declared state and re-applied when the port comes back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backends/registry.h"
#include "common/log.h"
#include "netd/netd.h"

LOG_MODULE("netd-link");

static int link_port_ops(struct port *p, const char *type, bool up, char *err,
			 size_t errlen)
{
	if (!p->ops->set_link) {
		snprintf(err, errlen,
			 "a port of type %s has no link loom can set", type);
		return -EOPNOTSUPP;
	}
	return p->ops->set_link(p, up, err, errlen);
}

/* Declared port @i: its backend, or the bridge's kernel port. */
static int link_apply_declared(struct netd *d, struct netd_net *n, uint32_t i,
			       bool up, char *err, size_t errlen)
{
	const char *type = netconf_port_type(&n->conf.ports[i]);
	const struct port_ops *ops = backend_lookup(type);
	struct port *p;

	if (n->br) {
		if (!strcmp(type, NETCONF_PORT_TYPE_MACVTAP)) {
			snprintf(err, errlen,
				 "a port of type %s has no link loom can set",
				 type);
			return -EOPNOTSUPP;
		}
		return netd_bridge_port_link(d, n, i, up, err, errlen);
	}
	/* A port that is not up gets it when it comes up: refuse now
	 * what it could never take. */
	if (ops && !ops->set_link)
		return link_port_ops(&(struct port){ .ops = ops }, type, up,
				     err, errlen);
	if (n->rt[i].port_id < 0)
		return 0;
	p = switch_port_get(n->sw, (uint32_t)n->rt[i].port_id);
	return p ? link_port_ops(p, type, up, err, errlen) : 0;
}

static int link_apply_vm(struct netd *d, struct netd_net *n, int slot,
			 bool up, char *err, size_t errlen)
{
	struct port *p = switch_port_get(n->sw, (uint32_t)d->vms[slot]->port_id);

	return p ? link_port_ops(p, p->ops->name, up, err, errlen) : 0;
}

int netd_link_set(struct netd *d, struct netd_net *n, const char *port,
		  bool up, char *err, size_t errlen)
{
	int i = netd_port_find(n, port), vm = -1, ret;

	if (i < 0)
		vm = netd_vm_find(d, n, port);
	if (i < 0 && vm < 0) {
		snprintf(err, errlen, "network '%s' has no port '%s'",
			 n->conf.name, port);
		return -ENOENT;
	}
	ret = i >= 0 ? link_apply_declared(d, n, (uint32_t)i, up, err, errlen) :
		       link_apply_vm(d, n, vm, up, err, errlen);
	if (ret < 0)
		return ret;
	ret = netconf_link_set(&n->conf, port, !up);
	if (ret < 0) {
		char e2[256];

		snprintf(err, errlen, "cannot record the link of %s: %s", port,
			 strerror(-ret));
		if (i >= 0)
			link_apply_declared(d, n, (uint32_t)i, !up, e2,
					    sizeof(e2));
		else
			link_apply_vm(d, n, vm, !up, e2, sizeof(e2));
		return ret;
	}
	log_info(MOD, "%s: port %s: link %s", n->conf.name, port,
		 up ? "up" : "down");
	return 0;
}

void netd_link_port_restore(struct netd *d, struct netd_net *n, uint32_t i)
{
	const char *name = n->conf.ports[i].name;
	char err[256];

	if (!netconf_link_is_down(&n->conf, name))
		return;
	if (link_apply_declared(d, n, i, false, err, sizeof(err)) < 0)
		log_err(MOD, "%s: port %s: cannot set its link down: %s",
			n->conf.name, name, err);
}

void netd_link_status(const struct netd_net *n, const char *port, json_t *j)
{
	bool down = netconf_link_is_down(&n->conf, port);

	json_object_set_new(j, "link", json_string(down ? "down" : "up"));
	if (down && !json_object_get(j, "error"))
		json_object_set_new(j, "error",
				    json_sprintf("link set down (loom port set "
						 "%s %s link up)",
						 n->conf.name, port));
}

void netd_link_apply_conf(struct netd *d, struct netd_net *n,
			  const struct netconf_net *conf, bool *changed)
{
	char err[256];

	/* Names no longer listed come up, new ones go down; a name with no
	 * port yet is only recorded. Failures are logged: the file wins. */
	for (uint32_t k = n->conf.link_down_count; k-- > 0;) {
		const char *name = n->conf.link_down[k];

		if (netconf_link_is_down(conf, name))
			continue;
		*changed = true;
		if ((netd_port_find(n, name) >= 0 ||
		     netd_vm_find(d, n, name) >= 0) &&
		    netd_link_set(d, n, name, true, err, sizeof(err)) == 0)
			continue;
		netconf_link_set(&n->conf, name, false);
	}
	for (uint32_t k = 0; k < conf->link_down_count; k++) {
		const char *name = conf->link_down[k];

		if (netconf_link_is_down(&n->conf, name))
			continue;
		*changed = true;
		if ((netd_port_find(n, name) < 0 &&
		     netd_vm_find(d, n, name) < 0) ||
		    netd_link_set(d, n, name, false, err, sizeof(err)) < 0) {
			if (netd_port_find(n, name) >= 0 ||
			    netd_vm_find(d, n, name) >= 0)
				log_err(MOD, "%s: port %s: %s", n->conf.name,
					name, err);
			netconf_link_set(&n->conf, name, true);
		}
	}
}
