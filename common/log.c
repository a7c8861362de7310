/* SPDX-License-Identifier: MIT */
/* log.c - per-module, levelled, rate-limited logging to stderr. */
#include "common/log.h"
#include "common/suggest.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum log_level log_max_level = LOG_INFO;
_Atomic int log_spec_level = LOG_LEVEL_UNSET;

static const char *const level_names[] = {
    [LOG_ERR] = "error",
    [LOG_WARN] = "warning",
    [LOG_INFO] = "info",
    [LOG_DEBUG] = "debug",
};

/* The registry: a list, prepended to by constructors before main() and by
 * log_module_named() at run time; nothing is ever removed. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_module *registry;
static struct log_module fallback_module = {.name = "log",
					    .level = LOG_LEVEL_UNSET};

static struct log_module *find_locked(const char *name)
{
	struct log_module *m;

	for (m = registry; m; m = m->next)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

void log_module_register(struct log_module *m)
{
	pthread_mutex_lock(&registry_lock);
	if (find_locked(m->name)) {
		/* Two files with one name: --log NAME would be ambiguous. */
		fprintf(stderr, "log: module name '%s' is declared twice\n",
			m->name);
		abort();
	}
	m->next = registry;
	registry = m;
	pthread_mutex_unlock(&registry_lock);
}

struct log_module *log_module_find(const char *name)
{
	struct log_module *m;

	pthread_mutex_lock(&registry_lock);
	m = find_locked(name);
	pthread_mutex_unlock(&registry_lock);
	return m;
}

struct log_module *log_module_named(const char *name)
{
	struct log_module *m;

	pthread_mutex_lock(&registry_lock);
	m = find_locked(name);
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (m)
			m->name = strdup(name);
		if (m && m->name) {
			atomic_init(&m->level, LOG_LEVEL_UNSET);
			m->next = registry;
			registry = m;
		} else {
			free(m);
			m = &fallback_module;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return m;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned int)level < sizeof(level_names) / sizeof(level_names[0]))
		return level_names[level];
	return "?";
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
	    {"error", LOG_ERR}, {"err", LOG_ERR},   {"warning", LOG_WARN},
	    {"warn", LOG_WARN}, {"info", LOG_INFO}, {"debug", LOG_DEBUG},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i].name)) {
			*out = names[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

void log_write(enum log_level level, struct log_module *m, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line so lines from several threads do not interleave.
	 */
	fprintf(stderr, "%s: %s: %s\n", m->name, log_level_name(level), buf);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A spinlock: the critical section is a few loads and stores, and a
 * zero-initialised static bucket must be usable without set-up. */
static void rl_lock(struct log_ratelimit *rl)
{
	uint32_t expected;

	for (;;) {
		expected = 0;
		if (atomic_compare_exchange_weak_explicit(
			&rl->lock, &expected, 1, memory_order_acquire,
			memory_order_relaxed))
			return;
		while (atomic_load_explicit(&rl->lock, memory_order_relaxed))
			;
	}
}

static void rl_unlock(struct log_ratelimit *rl)
{
	atomic_store_explicit(&rl->lock, 0, memory_order_release);
}

bool log_ratelimit_allow(struct log_ratelimit *rl, struct log_module *m,
			 enum log_level level)
{
	uint64_t t = now_ns(), refill;
	uint32_t report = 0;
	bool ok;

	rl_lock(rl);
	if (!rl->init) {
		rl->init = true;
		if (!rl->burst)
			rl->burst = LOG_RL_BURST;
		if (!rl->interval_ns)
			rl->interval_ns = LOG_RL_INTERVAL_NS;
		rl->tokens = rl->burst;
		rl->last_ns = t;
	}
	/* Another thread may have read the clock later and refilled. */
	if (t > rl->last_ns && t - rl->last_ns >= rl->interval_ns) {
		refill = (t - rl->last_ns) / rl->interval_ns;
		if (refill >= rl->burst || rl->tokens + refill > rl->burst)
			rl->tokens = rl->burst;
		else
			rl->tokens += (uint32_t)refill;
		rl->last_ns = t;
		report = rl->suppressed;
		rl->suppressed = 0;
	}
	ok = rl->tokens > 0;
	if (ok)
		rl->tokens--;
	else if (rl->suppressed < UINT32_MAX)
		rl->suppressed++;
	rl_unlock(rl);
	if (report)
		log_write(level, m, "%u similar messages suppressed", report);
	return ok;
}

/* Splits @spec into items, checking each; with @apply set, applies them. */
static int config_walk(const char *spec, bool apply, char *msg, size_t len)
{
	char buf[512], *item, *save = NULL, *eq, *best_name = NULL;
	enum log_level level;
	struct log_module *m, *best;
	unsigned int d, best_d;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(msg, len, "log spec longer than %zu bytes",
			 sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, spec);
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		if (!eq) {
			if (log_level_parse(item, &level))
				goto bad_level;
			if (apply)
				atomic_store(&log_spec_level, (int)level);
			continue;
		}
		*eq = '\0';
		if (log_level_parse(eq + 1, &level)) {
			item = eq + 1;
			goto bad_level;
		}
		if (!strcmp(item, "all")) {
			if (apply)
				atomic_store(&log_spec_level, (int)level);
			continue;
		}
		m = log_module_find(item);
		if (!m) {
			best = NULL;
			best_d = 3;
			pthread_mutex_lock(&registry_lock);
			for (m = registry; m; m = m->next) {
				d = edit_distance(item, m->name);
				if (d < best_d) {
					best_d = d;
					best = m;
				}
			}
			best_name = best ? (char *)best->name : NULL;
			pthread_mutex_unlock(&registry_lock);
			snprintf(msg, len,
				 "unknown log module '%s'%s%s%s (--log list "
				 "names them)",
				 item, best_name ? " (did you mean '" : "",
				 best_name ? best_name : "",
				 best_name ? "'?)" : "");
			return -EINVAL;
		}
		if (apply)
			atomic_store(&m->level, (int)level);
	}
	return 0;
bad_level:
	snprintf(msg, len,
		 "unknown log level '%s': use error, warning, info or debug",
		 item);
	return -EINVAL;
}

int log_config_apply(const char *spec, char *msg, size_t len)
{
	int ret = config_walk(spec, false, msg, len);

	return ret ? ret : config_walk(spec, true, msg, len);
}

int log_config_env(char *msg, size_t len)
{
	const char *spec = getenv("LOOM_LOG");
	int ret;

	if (!spec || !*spec)
		return 0;
	ret = log_config_apply(spec, msg, len);
	if (ret && len) {
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "LOOM_LOG: %s", msg);
		snprintf(msg, len, "%s", tmp);
	}
	return ret;
}

static int module_cmp(const void *a, const void *b)
{
	const struct log_module *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

void log_modules_print(FILE *f)
{
	struct log_module *m, **all;
	size_t n = 0, i;
	int l;

	pthread_mutex_lock(&registry_lock);
	for (m = registry; m; m = m->next)
		n++;
	all = calloc(n ? n : 1, sizeof(*all));
	for (m = registry, i = 0; all && m; m = m->next)
		all[i++] = m;
	pthread_mutex_unlock(&registry_lock);
	if (!all)
		return;
	qsort(all, n, sizeof(*all), module_cmp);
	for (i = 0; i < n; i++) {
		l = atomic_load(&all[i]->level);
		if (l == LOG_LEVEL_UNSET)
			l = atomic_load(&log_spec_level);
		if (l == LOG_LEVEL_UNSET)
			l = (int)log_max_level;
		fprintf(f, "%-16s %s\n", all[i]->name,
			log_level_name((enum log_level)l));
	}
	free(all);
}
