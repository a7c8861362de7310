/* SPDX-License-Identifier: MIT */
/* registry.h - the one explicit table of port backends, by name. */
#ifndef LOOM_BACKENDS_REGISTRY_H
#define LOOM_BACKENDS_REGISTRY_H

#include <stddef.h>

#include "switch/port.h"

/*
 * backend_lookup() - the backend called @name ("shm", "tap", ...).
 * Return: its ops, or NULL when there is none by that name.
 */
const struct port_ops *backend_lookup(const char *name);

/* backend_count() / backend_at() - walk the table (for listings). */
size_t backend_count(void);
const struct port_ops *backend_at(size_t i);

#endif
