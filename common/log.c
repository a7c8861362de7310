/* SPDX-License-Identifier: MIT */
/* log.c - per-module, levelled, rate-limited logging to stderr. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

enum log_level log_max_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line so lines from several threads do not interleave. */
	fprintf(stderr, "%s: %s: %s\n", module, level_names[level], buf);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

enum { RL_BURST = 10, RL_INTERVAL_NS = 1000000000 };

bool log_ratelimit_allow(struct log_ratelimit *rl)
{
	uint64_t t = now_ns();

	if (!rl->init) {
		rl->init = true;
		rl->tokens = RL_BURST;
		rl->last_ns = t;
	}
	if (t - rl->last_ns >= RL_INTERVAL_NS) {
		uint64_t refill = (t - rl->last_ns) / RL_INTERVAL_NS;

		rl->tokens = refill >= RL_BURST ? RL_BURST :
			     (uint32_t)(rl->tokens + refill > RL_BURST ?
					RL_BURST : rl->tokens + refill);
		rl->last_ns = t;
		if (rl->suppressed) {
			fprintf(stderr, "log: %u similar messages suppressed\n",
				rl->suppressed);
			rl->suppressed = 0;
		}
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	return true;
}
