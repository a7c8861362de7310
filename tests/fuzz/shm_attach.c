/* SPDX-License-Identifier: MIT */
/* shm_attach.c - fuzz the attach, reply and region header parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/shm_ring.h"
#include "common/shm_sock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shm_attach_req req;
	struct shm_attach_reply rep;
	struct shm_layout l;

	if (shm_attach_req_parse(data, size, &req) == 0) {
		/* Accepted: the name is terminated and in the ABI bounds. */
		if (!memchr(req.network, 0, sizeof(req.network)) ||
		    (req.mac[0] & 1) || (req.features & ~(uint64_t)SHM_F_ALL))
			abort();
	}
	if (shm_attach_reply_parse(data, size, &rep) == 0) {
		if (rep.status == 0 && rep.nfds != SHM_FD_COUNT)
			abort();
	}
	/* The header of a region the size of the input (plus a claimed size).
	 */
	if (size >= sizeof(struct shm_port_header)) {
		size_t claimed = size;
		void *copy = malloc(size);

		if (!copy)
			return 0;
		memcpy(copy, data, size);
		if (shm_header_parse(copy, claimed, &l) == 0) {
			if (l.region_size > claimed ||
			    l.data_off[1] + l.data_size > l.region_size)
				abort();
		}
		free(copy);
	}
	return 0;
}
