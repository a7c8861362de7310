/* SPDX-License-Identifier: MIT */
/* registry.c - the one explicit table of port backends, by name. */
#include "backends/registry.h"

#include <string.h>

#include "backends/shm.h"
#include "backends/slirp.h"
#include "backends/tap.h"

/*
 * Every backend, listed by hand: adding one is one line here plus its
 * sources in backends/module.mk. No constructor tricks, so the linker
 * cannot silently drop a backend.
 */
static const struct port_ops *const backends[] = {
    &shm_port_ops,
    &slirp_port_ops,
    &tap_port_ops,
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
	for (size_t i = 0; i < backend_count(); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}
