/* SPDX-License-Identifier: MIT */
/* pkt.c - the out-of-line half of common/pkt.h: reporting refused ranges. */
#include "common/pkt.h"

#include "common/log.h"

LOG_MODULE("pkt");

/* Cold: only a frame too short for what a parser asked reaches here. */
__attribute__((cold)) void pkt_range_refused(const char *func, int line,
					     size_t have, size_t off,
					     size_t len)
{
	log_rl(LOG_DEBUG, MOD,
	       "%s:%d: asked for bytes [%zu, +%zu) of a %zu-byte frame", func,
	       line, off, len, have);
}
