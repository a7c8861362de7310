/* SPDX-License-Identifier: MIT */
/* log.h - per-module, levelled, rate-limited logging to stderr. */
#ifndef LOOM_COMMON_LOG_H
#define LOOM_COMMON_LOG_H

/*
 * Each source file that logs declares its module once, after its includes:
 *
 *	LOG_MODULE("netd-control");
 *
 * which defines a file-local module object named MOD (registered before
 * main() runs), and logs through it:
 *
 *	log_info(MOD, "listening on %s", path);
 *	log_rl(LOG_WARN, MOD, "port %s: bad frame", name);  (traffic-driven)
 *
 * Names are unique: registering one twice aborts at start-up, so a
 * `--log NAME=LEVEL` always means one file. The first argument may also be
 * a string (the older `#define MOD "name"` style still compiles); such a
 * module is created on first use, is not listed before then and cannot be
 * named in --log until it has logged, so new code uses LOG_MODULE.
 *
 * Levels: a module logs at its own level if --log / LOOM_LOG gave it one,
 * else at the default level of the spec (a bare LEVEL item), else at
 * log_max_level (the program's -v count). A message above the level costs
 * one relaxed load: its arguments are not evaluated.
 *
 * Threads: every function here may be called from any thread (vCPU
 * threads, the data-path thread, the control thread) at once. Levels are
 * atomics; a rate limiter takes its own small lock; each line is written
 * with one fprintf so lines do not interleave.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* A module's level when it has none of its own. */
#define LOG_LEVEL_UNSET (-1)

/**
 * struct log_module - one named source of log lines.
 * @name: unique, [a-z0-9-]; shown at the start of each line.
 * @level: its own level, or LOG_LEVEL_UNSET.
 * @next: registry link, owned by log.c.
 */
struct log_module {
	const char *name;
	_Atomic int level;
	struct log_module *next;
};

/* The default level (-v); set before threads start. */
extern enum log_level log_max_level;

/* Default level given by --log/LOOM_LOG ("debug" alone), or UNSET. */
extern _Atomic int log_spec_level;

void log_module_register(struct log_module *m);

#define LOG_MODULE(str)                                                  \
	static struct log_module MOD[1] = {                              \
		{ .name = (str), .level = LOG_LEVEL_UNSET }              \
	};                                                               \
	__attribute__((constructor)) static void log_module_ctor_(void) \
	{                                                                \
		log_module_register(MOD);                                \
	}                                                                \
	struct log_module_semicolon_

/* log_module_find() - a registered module by name, or NULL. */
struct log_module *log_module_find(const char *name);
/* log_module_named() - find, or create and register (string modules).
 * Never NULL: on allocation failure a shared "log" module is returned. */
struct log_module *log_module_named(const char *name);

/* The module argument: a struct log_module * (LOG_MODULE's MOD) or a name. */
#define LOG_MOD(m)                                                        \
	_Generic((m),                                                     \
		struct log_module *: (struct log_module *)(const void *)(m), \
		char *: log_module_named((const char *)(const void *)(m)),  \
		const char *: log_module_named((const char *)(const void *)(m)))

/* log_enabled() - would @m log a message at @level? */
static inline bool log_enabled(struct log_module *m, enum log_level level)
{
	int l = atomic_load_explicit(&m->level, memory_order_relaxed);

	if (l == LOG_LEVEL_UNSET)
		l = atomic_load_explicit(&log_spec_level, memory_order_relaxed);
	if (l == LOG_LEVEL_UNSET)
		l = (int)log_max_level;
	return (int)level <= l;
}

/* Writes one line "MODULE: LEVEL: MESSAGE" to stderr, unfiltered. */
void log_write(enum log_level level, struct log_module *m, const char *fmt,
	       ...) __attribute__((format(printf, 3, 4)));

/* log_msg() - the filtered form every macro below expands to. */
#define log_msg(level, mod, ...)                                       \
	(log_enabled(LOG_MOD(mod), (level))                            \
		 ? log_write((level), LOG_MOD(mod), __VA_ARGS__)       \
		 : (void)0)

#define log_err(mod, ...) log_msg(LOG_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)

/*
 * struct log_ratelimit - token bucket for messages that traffic can trigger.
 * A guest or a peer can produce a bad frame per microsecond; anything such
 * input can log goes through one of these so the log cannot be flooded.
 * Zero-initialise; the first use sets the defaults (burst 10, then 1 per
 * second); @burst and @interval_ns may be set before first use instead.
 * When messages were dropped, the next one allowed is preceded by
 * "MODULE: LEVEL: N similar messages suppressed". Safe from any thread.
 */
struct log_ratelimit {
	_Atomic uint32_t lock;
	bool init;
	uint32_t burst;
	uint64_t interval_ns;
	uint64_t last_ns;
	uint32_t tokens;
	uint32_t suppressed;
};

enum { LOG_RL_BURST = 10 };
#define LOG_RL_INTERVAL_NS 1000000000ull

/* log_ratelimit_allow() - take a token for a message of @m at @level. */
bool log_ratelimit_allow(struct log_ratelimit *rl, struct log_module *m,
			 enum log_level level);

/* Rate-limited variant: one static bucket per call site. */
#define log_rl(level, mod, ...)                                         \
	do {                                                            \
		static struct log_ratelimit rl_;                        \
		struct log_module *rl_mod_ = LOG_MOD(mod);              \
		if (log_enabled(rl_mod_, (level)) &&                    \
		    log_ratelimit_allow(&rl_, rl_mod_, (level)))        \
			log_write((level), rl_mod_, __VA_ARGS__);       \
	} while (0)

/* log_level_parse() - "error"/"err", "warning"/"warn", "info", "debug".
 * Return: 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/**
 * log_config_apply() - apply "ITEM[,ITEM...]", ITEM being MODULE=LEVEL or a
 * bare LEVEL (the default of every module without its own).
 * @spec: e.g. "datapath=debug,warn"; the whole spec is checked before any
 *	  of it is applied.
 * @msg: on error, a sentence naming the bad item (and the closest module).
 * Return: 0 or -EINVAL.
 */
int log_config_apply(const char *spec, char *msg, size_t len);

/* log_config_env() - log_config_apply($LOOM_LOG) when it is set. */
int log_config_env(char *msg, size_t len);

/* log_modules_print() - "NAME LEVEL" of every registered module, sorted. */
void log_modules_print(FILE *f);

#endif
