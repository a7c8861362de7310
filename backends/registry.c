/* SPDX-License-Identifier: MIT */
/* registry.c - the one explicit table of port backends, by name. */
#include "backends/registry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backends/gateway.h"
#include "backends/loopback.h"
#include "backends/macvtap.h"
#include "backends/shm.h"
#include "backends/slirp.h"
#include "backends/tap.h"
#include "backends/vde.h"
#include "backends/vhost_user.h"
#include "common/log.h"

#define MOD "backends"

/*
 * Every backend, listed by hand: adding one is one line here plus its
 * sources in backends/module.mk. No constructor tricks, so the linker
 * cannot silently drop a backend.
 */
static const struct port_ops *const backends[] = {
    &gateway_port_ops,
    &loopback_port_ops,
    &macvtap_port_ops,
    &shm_port_ops,
    &slirp_port_ops,
    &tap_port_ops,
    &vde_port_ops,
    &vhost_user_port_ops,
};

size_t backend_count(void)
{
	return sizeof(backends) / sizeof(backends[0]);
}

const struct port_ops *backend_at(size_t i)
{
	return i < backend_count() ? backends[i] : NULL;
}

const struct port_ops *backend_lookup(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < backend_count(); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

const char *backend_declarable_names(char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < backend_count(); i++) {
		int n;

		if (!backends[i]->create)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
			     backends[i]->name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

int backend_port_create(struct switch_core *sw, const struct port_decl *decl,
			const struct switch_port_config *cfg, char *err,
			size_t errlen)
{
	const struct port_ops *ops = backend_lookup(decl->type);
	struct switch_port_config c = *cfg;
	char names[128];
	void *priv = NULL;
	int ret;

	if (!ops || !ops->create) {
		snprintf(err, errlen,
			 "port %s: %s '%s' (types a port can be declared with: %s)",
			 decl->name, ops ? "ports cannot be declared with type" :
					   "unknown type",
			 decl->type ? decl->type : "",
			 backend_declarable_names(names, sizeof(names)));
		return -EINVAL;
	}
	ret = ops->create(decl, &priv, err, errlen);
	if (ret < 0)
		return ret;
	if (ops->caps & PORT_CAP_TAKES_GSO)
		c.accepts_gso = true;
	ret = switch_port_add(sw, ops, priv, &c);
	if (ret < 0) {
		/* A port that never reached the switch: close is all it
		 * needs (port_ops says so). */
		struct port p = {.priv = priv, .ops = ops};

		snprintf(err, errlen, "port %s: switch refused it: %s",
			 decl->name, strerror(-ret));
		ops->close(&p);
	}
	return ret;
}

int backend_cleanup_stray(const char *prefix)
{
	int total = 0;

	for (size_t i = 0; i < backend_count(); i++) {
		int n;

		if (!backends[i]->cleanup_stray)
			continue;
		n = backends[i]->cleanup_stray(prefix);
		if (n < 0)
			log_warn(MOD, "%s: cleaning up after an earlier run: %s",
				 backends[i]->name, strerror(-n));
		else
			total += n;
	}
	return total;
}
