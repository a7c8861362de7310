/* SPDX-License-Identifier: MIT */
/* vhost_user_msg.c - fuzz the vhost-user message parser, the memory table check and its translations. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vhost_user_mem.h"
#include "backends/vhost_user_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: byte 0 = the number of fds that "came with" the message (mod 10),
 * bytes 1.. = the message as read from the socket. An accepted memory
 * table becomes a translation table (host pointers left NULL: only the
 * arithmetic is exercised), probed with addresses taken from the input.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhost_user_msg msg;
	struct vhost_user_mem m;
	char why[160];
	int ret;

	if (size < 1)
		return 0;
	ret = vhost_user_msg_parse(data + 1, size - 1, data[0] % 10, &msg,
				   why, sizeof(why));
	if (ret)
		return 0;
	if (msg.request > VHOST_USER_REQUEST_MAX ||
	    msg.size > VHOST_USER_PAYLOAD_MAX ||
	    msg.nfds > VHOST_USER_MEM_REGIONS_MAX)
		abort();
	if (msg.request != VHOST_USER_SET_MEM_TABLE)
		return 0;
	if (msg.nfds != msg.payload.memory.nregions)
		abort();
	if (vhost_user_mem_check(&msg.payload.memory, why, sizeof(why)))
		return 0;
	memset(&m, 0, sizeof(m));
	m.n = msg.payload.memory.nregions;
	for (unsigned int i = 0; i < m.n; i++) {
		m.r[i].gpa = msg.payload.memory.regions[i].gpa;
		m.r[i].size = msg.payload.memory.regions[i].size;
		m.r[i].uva = msg.payload.memory.regions[i].uva;
	}
	/* Probe around every region's edges: a hit lies wholly inside. */
	for (unsigned int i = 0; i < m.n; i++) {
		const uint64_t probes[] = {
		    m.r[i].gpa, m.r[i].gpa + m.r[i].size - 1,
		    m.r[i].gpa + m.r[i].size, m.r[i].gpa - 1,
		    m.r[i].uva, m.r[i].uva + m.r[i].size - 1};
		const uint64_t lens[] = {0, 1, 16, m.r[i].size, UINT64_MAX,
					 m.r[i].size + 1};

		for (size_t a = 0; a < sizeof(probes) / sizeof(probes[0]); a++)
			for (size_t b = 0; b < sizeof(lens) / sizeof(lens[0]);
			     b++) {
				uint64_t off, gpa, len = lens[b] ? lens[b] : 1;
				int k = vhost_user_mem_find(&m, probes[a],
							    lens[b], &off);

				if (k >= 0 && (off >= m.r[k].size ||
					       len > m.r[k].size - off ||
					       m.r[k].gpa + off != probes[a]))
					abort();
				if (vhost_user_uva_to_gpa(&m, probes[a], lens[b],
							  &gpa) == 0 &&
				    vhost_user_mem_find(&m, gpa, lens[b],
							&off) < 0)
					abort(); /* translated, then unreachable */
			}
	}
	return 0;
}
