/* SPDX-License-Identifier: MIT */
/* services.c - the one table of netd services, and the calls that run their hooks. */
#include <string.h>

#include "common/log.h"
#include "netd/netd.h"
#include "netd/service.h"

LOG_MODULE("netd-services");

/*
 * Every service, listed by hand: adding one is its own file(s) in netd/
 * (and its library, if any, in its own folder) plus its line here.
 */
extern const struct netd_service netd_gateway_service; /* netd/gateway.c */
extern const struct netd_service netd_nat_service; /* netd/nat.c */
extern const struct netd_service netd_capture_service; /* netd/capture.c */

static const struct netd_service *const services[] = {
	&netd_gateway_service, /* before nat: libslirp goes behind it */
	&netd_nat_service,
	&netd_capture_service,
};

enum { NSERVICES = sizeof(services) / sizeof(services[0]) };

int netd_services_start(struct netd *d)
{
	for (size_t i = 0; i < NSERVICES; i++) {
		int ret;

		if (!services[i]->start)
			continue;
		ret = services[i]->start(d);
		if (ret < 0) {
			log_err(MOD, "%s: cannot start: %s", services[i]->name,
				strerror(-ret));
			while (i--)
				if (services[i]->stop)
					services[i]->stop(d);
			return ret;
		}
	}
	return 0;
}

void netd_services_stop(struct netd *d)
{
	for (size_t i = NSERVICES; i--;)
		if (services[i]->stop)
			services[i]->stop(d);
}

int netd_services_net_start(struct netd *d, struct netd_net *n,
			    bool restoring, char *err, size_t errlen)
{
	for (size_t i = 0; i < NSERVICES; i++) {
		int ret;

		if (!services[i]->net_start)
			continue;
		ret = services[i]->net_start(d, n, restoring, err, errlen);
		if (ret < 0) {
			/* Its own net_stop cleans up a half-done start. */
			for (size_t j = i + 1; j--;)
				if (services[j]->net_stop)
					services[j]->net_stop(d, n);
			return ret;
		}
	}
	return 0;
}

void netd_services_net_stop(struct netd *d, struct netd_net *n)
{
	for (size_t i = NSERVICES; i--;)
		if (services[i]->net_stop)
			services[i]->net_stop(d, n);
}

int netd_services_net_apply(struct netd *d, struct netd_net *n,
			    const struct netconf_net *conf, bool *changed,
			    char *err, size_t errlen)
{
	for (size_t i = 0; i < NSERVICES; i++) {
		int ret;

		if (!services[i]->net_apply)
			continue;
		ret = services[i]->net_apply(d, n, conf, changed, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

void netd_services_net_names_changed(struct netd *d, struct netd_net *n)
{
	for (size_t i = 0; i < NSERVICES; i++)
		if (services[i]->net_names_changed)
			services[i]->net_names_changed(d, n);
}

void netd_services_net_json(struct netd_net *n, json_t *j)
{
	for (size_t i = 0; i < NSERVICES; i++)
		if (services[i]->net_json)
			services[i]->net_json(n, j);
}

netd_command_fn netd_services_command(const char *name)
{
	for (size_t i = 0; i < NSERVICES; i++) {
		const struct netd_command *c = services[i]->commands;

		for (; c && c->name; c++)
			if (!strcmp(c->name, name))
				return c->fn;
	}
	return NULL;
}
