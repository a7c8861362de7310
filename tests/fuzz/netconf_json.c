/* SPDX-License-Identifier: MIT */
/* netconf_json.c - fuzz the network JSON that control clients send netd. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/netconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netconf_error err;
	struct netconf_port port;
	struct netconf_net net;
	struct netconf *cfg;
	json_error_t jerr;
	char buf[1024];
	json_t *j, *j2;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return 0;
	if (netconf_from_json(j, &cfg, &err) == 0) {
		/* Accepted input serialises back to something accepted. */
		j2 = netconf_to_json(cfg);
		netconf_free(cfg);
		if (j2 && netconf_from_json(j2, &cfg, &err))
			abort();
		if (j2)
			netconf_free(cfg);
		json_decref(j2);
	} else {
		netconf_error_format(&err, buf, sizeof(buf));
	}
	if (netconf_net_from_json(j, &net, "", &err) == 0) {
		if (netconf_net_validate(&net, "", &err))
			abort();
		netconf_net_clear(&net);
	}
	if (netconf_port_from_json(j, &port, "", &err) == 0)
		netconf_port_clear(&port);
	json_decref(j);
	return 0;
}
