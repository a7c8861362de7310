/* SPDX-License-Identifier: MIT */
/* service.h - netd services: how a part of netd beyond the switch (NAT uplink, gateway, DNS, captures) plugs in. */
#ifndef LOOM_NETD_SERVICE_H
#define LOOM_NETD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct netd;
struct netd_net;
struct netconf_net;

/* Error messages of command handlers and service hooks: this many bytes. */
enum { NETD_ERRLEN = 512 };

/*
 * A control command: fill *@res with the result object, or return a
 * negative errno with a message for a person in @err (NETD_ERRLEN bytes).
 */
typedef int (*netd_command_fn)(struct netd *d, json_t *args, json_t **res,
			       char *err);
struct netd_command {
	const char *name; /* "forward.add": docs/control-protocol.md */
	netd_command_fn fn;
};

/*
 * struct netd_service - one service, listed in netd/services.c. Every hook
 * is optional and runs on the control thread; a service keeps its per-
 * network state in struct netd_net (one pointer field of its own type).
 * Its sockets and timers go on @d->loop (common/evloop.h): register them
 * in start/net_start, delete them in stop/net_stop; their callbacks run on
 * the control thread too, so they may use netd's state without locks.
 * Frames reach it through a switch port it adds (a backend class of its
 * own, switch/port.h), never by calling into the data path.
 *
 * @start: the daemon starts (before the state file is read).
 * @stop: the daemon stops (after every network is gone).
 * @net_start: network @n was created: its switch exists, the data path
 *	polls it, its declared ports are not up yet. A failure fails the
 *	create, unless @restoring: then the service logs and carries on.
 * @net_stop: before @n's switch goes (its declared ports are down);
 *	undoes net_start, also a half-done one. Called for every network,
 *	also those net_start did nothing for, and possibly twice: a second
 *	call finds nothing to undo.
 * @net_apply: @conf replaces @n's declaration, same switch settings:
 *	adopt the service's own fields; set *@changed if anything changed.
 * @net_names_changed: the names netd's DNS answers for @n may point
 *	elsewhere now (a DHCP lease was given, moved or released).
 * @net_json: add the service's status of @n to @j (net.show).
 * @commands: its control commands, ended by {NULL, NULL}.
 */
struct netd_service {
	const char *name;
	int (*start)(struct netd *d);
	void (*stop)(struct netd *d);
	int (*net_start)(struct netd *d, struct netd_net *n, bool restoring,
			 char *err, size_t errlen);
	void (*net_stop)(struct netd *d, struct netd_net *n);
	int (*net_apply)(struct netd *d, struct netd_net *n,
			 const struct netconf_net *conf, bool *changed,
			 char *err, size_t errlen);
	void (*net_names_changed)(struct netd *d, struct netd_net *n);
	void (*net_json)(struct netd_net *n, json_t *j);
	const struct netd_command *commands;
};

/*
 * What netd calls, each running the hook of every service in the order of
 * the table (the stops in reverse). netd_services_start() and
 * netd_services_net_start() undo what they started when one fails.
 * Return: 0, or the first service's negative errno (with @err set).
 */
int netd_services_start(struct netd *d);
void netd_services_stop(struct netd *d);
int netd_services_net_start(struct netd *d, struct netd_net *n,
			    bool restoring, char *err, size_t errlen);
void netd_services_net_stop(struct netd *d, struct netd_net *n);
int netd_services_net_apply(struct netd *d, struct netd_net *n,
			    const struct netconf_net *conf, bool *changed,
			    char *err, size_t errlen);
void netd_services_net_names_changed(struct netd *d, struct netd_net *n);
void netd_services_net_json(struct netd_net *n, json_t *j);
/* netd_services_command() - the handler of command @name, or NULL. */
netd_command_fn netd_services_command(const char *name);

#endif
