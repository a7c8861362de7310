/* SPDX-License-Identifier: MIT */
/* registry.h - the one explicit table of port backends, by name. */
#ifndef LOOM_BACKENDS_REGISTRY_H
#define LOOM_BACKENDS_REGISTRY_H

#include <stddef.h>

#include "switch/port.h"
#include "switch/switch.h"

/*
 * backend_lookup() - the backend called @name ("shm", "tap", ...).
 * Return: its ops, or NULL when there is none by that name.
 */
const struct port_ops *backend_lookup(const char *name);

/* backend_count() / backend_at() - walk the table (for listings). */
size_t backend_count(void);
const struct port_ops *backend_at(size_t i);

/*
 * backend_declarable_names() - "loopback, tap": the backends that have a
 * create op, comma-separated into @buf (for error messages).
 */
const char *backend_declarable_names(char *buf, size_t len);

/*
 * backend_port_create() - build the port @decl declares with the backend
 * @decl->type names and plug it into @sw with @cfg (copied; accepts_gso is
 * set when the class has PORT_CAP_TAKES_GSO). Control thread.
 * @err: a message for a person on failure
 * Return: the port id (>= 0), or -EINVAL (no such type, or a type that
 * cannot be declared), the backend's create error, or the switch's
 * (-ENOSPC); on failure nothing is left.
 */
int backend_port_create(struct switch_core *sw, const struct port_decl *decl,
			const struct switch_port_config *cfg, char *err,
			size_t errlen);

/*
 * backend_cleanup_stray() - every backend's cleanup_stray(@prefix): remove
 * what an earlier run of this daemon instance left in the kernel.
 * Return: objects removed in all (failures are logged, not returned).
 */
int backend_cleanup_stray(const char *prefix);

#endif
