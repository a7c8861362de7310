/* SPDX-License-Identifier: MIT */
/* gateway.h - the gateway port backend: a network's gateway host (services/gateway.h) on its switch. */
#ifndef LOOM_BACKENDS_GATEWAY_H
#define LOOM_BACKENDS_GATEWAY_H

#include "switch/port.h"

/*
 * port->priv is a struct gateway the owner (netd/gateway.c) made and
 * frees after the port is removed: close does not free it. recv hands out
 * the gateway's queued output, send consumes every frame (answers are
 * queued, DHCP/DNS go to the control thread), poll_fd is readable while
 * output waits.
 */
extern const struct port_ops gateway_port_ops;

#endif
