/* SPDX-License-Identifier: MIT */
/* netconf_yaml.c - fuzz the network file loader and its JSON round trip. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/netconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netconf_error err;
	struct netconf *cfg, *back;
	char buf[1024];
	json_t *j;

	if (netconf_load_buffer("fuzz.yaml", data, size, &cfg, &err)) {
		/* Every refusal must still format without overflow. */
		netconf_error_format(&err, buf, sizeof(buf));
		return 0;
	}
	/* Whatever loads must survive the JSON round trip unchanged. */
	j = netconf_to_json(cfg);
	if (j) {
		if (netconf_from_json(j, &back, &err) == 0) {
			json_t *j2 = netconf_to_json(back);

			if (j2 && !json_equal(j, j2))
				abort();
			json_decref(j2);
			netconf_free(back);
		} else {
			abort();
		}
		json_decref(j);
	}
	netconf_free(cfg);
	return 0;
}
