/* SPDX-License-Identifier: MIT */
/* log.h - per-module, levelled, rate-limited logging to stderr. */
#ifndef LOOM_COMMON_LOG_H
#define LOOM_COMMON_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped; set from -v / LOOM_LOG. */
extern enum log_level log_max_level;

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * struct log_ratelimit - token bucket for messages that traffic can trigger.
 * A guest or a peer can produce a bad frame per microsecond; anything such
 * input can log goes through one of these so the log cannot be flooded.
 * Zero-initialise; the first use sets the defaults (burst 10, 1 per second).
 */
struct log_ratelimit {
	uint64_t last_ns;
	uint32_t tokens;
	uint32_t suppressed;
	bool init;
};

bool log_ratelimit_allow(struct log_ratelimit *rl);

#define log_err(mod, ...) log_msg(LOG_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)

/* Rate-limited variant: one static bucket per call site. */
#define log_rl(level, mod, ...)                                         \
	do {                                                            \
		static struct log_ratelimit rl_;                        \
		if (log_ratelimit_allow(&rl_))                          \
			log_msg(level, mod, __VA_ARGS__);               \
	} while (0)

#endif
