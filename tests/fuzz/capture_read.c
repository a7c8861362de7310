/* SPDX-License-Identifier: MIT */
/* capture_read.c - fuzz target: a pcapng stream as `loom capture` reads it, in chunks, to summary lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/capture_fmt.h"
#include "common/pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: byte 0 picks the chunk size the stream arrives in (as from a
 * pipe), the rest is the stream. Every packet block is summarised as a
 * line and as JSON, like cli/cmd_capture.c does. A reader error ends the
 * case, as it ends `loom capture`.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcapng_reader r;
	static uint8_t *buf;
	size_t chunk, fed = 0, len = 0;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] * 7 + 1;
	data++;
	size--;
	if (!buf)
		buf = malloc(2 * PCAPNG_BLOCK_MAX);
	if (!buf || pcapng_reader_init(&r) < 0)
		return 0;
	while (fed < size || len) {
		size_t n = size - fed < chunk ? size - fed : chunk;
		size_t off = 0;
		bool progress = false;

		if (len + n > 2 * PCAPNG_BLOCK_MAX)
			break;
		memcpy(buf + len, data + fed, n);
		len += n;
		fed += n;
		for (;;) {
			struct pcapng_packet pkt;
			size_t used = 0;
			int k = pcapng_read_block(&r, buf + off, len - off,
						  &used, &pkt);

			if (k < 0)
				goto out;
			if (k == 0)
				break;
			progress = true;
			if (k == PCAPNG_BLOCK_PACKET) {
				const struct pcapng_if *ifc =
					pcapng_reader_if(&r, pkt.ifid);
				struct capture_summary s;
				char line[512];
				json_t *j;

				capture_summarize(pkt.data, pkt.caplen,
						  pkt.orig_len, &s);
				capture_format_line(line, sizeof(line),
						    pkt.ts_ns, ifc->name, "in",
						    &s);
				j = capture_summary_json(pkt.ts_ns, ifc->name,
							 "out", pkt.caplen,
							 pkt.orig_len, &s);
				json_decref(j);
			}
			off += used;
		}
		memmove(buf, buf + off, len - off);
		len -= off;
		if (fed >= size && !progress)
			break;
	}
out:
	pcapng_reader_free(&r);
	return 0;
}
