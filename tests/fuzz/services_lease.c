/* SPDX-License-Identifier: MIT */
/* services_lease.c - fuzz target: lease journal text (header, records, CRCs) replayed over a lease table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/lease_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: the bytes of a journal file. A fresh small table per input
 * (pool 10.0.0.10-10.0.0.17, one static host inside it and one outside)
 * so address conflicts, static hosts and out-of-table records are
 * reached; the generation the header must name is 1. After the replay
 * the table's chains must agree with its slots.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lease_static hosts[2] = {
		{ { 2, 0, 0, 0, 0, 9 }, 0x0a00000c, "web" },
		{ { 2, 0, 0, 0, 0, 8 }, 0x0a000032, "db" },
	};
	struct lease_journal_stats st;
	struct lease_table t;

	if (lease_table_init(&t, 0x0a00000a, 0x0a000011, hosts, 2))
		abort();
	memset(&st, 0, sizeof(st));
	lease_journal_replay(&t, (const char *)data, size, 1, &st);
	for (uint32_t i = 0; i < t.cap; i++) {
		struct lease *l = &t.slots[i];

		if (l->key_len && !lease_by_key(&t, l->key, l->key_len))
			abort();
		if (l->key_len && !lease_by_mac(&t, l->mac))
			abort();
		if (l->host[0] && !lease_by_name(&t, l->host))
			abort();
	}
	lease_table_fini(&t);
	return 0;
}
