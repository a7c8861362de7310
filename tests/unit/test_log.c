/* SPDX-License-Identifier: MIT */
/* test_log.c - common/log.h: per-module levels, --log specs, the rate limiter
 * under threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/pkt.h"

LOG_MODULE("test-a");

static struct log_module other = {.name = "test-b", .level = LOG_LEVEL_UNSET};

/* stderr into a temporary file, to read back what was logged. */
struct capture {
	FILE *f;
	int saved;
};

static void capture_start(struct capture *c)
{
	c->f = tmpfile();
	assert_non_null(c->f);
	fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->f), STDERR_FILENO) >= 0);
}

/* Returns what was written (malloc'd, NUL-terminated). */
static char *capture_end(struct capture *c)
{
	long n;
	char *buf;

	fflush(stderr);
	assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
	close(c->saved);
	n = ftell(c->f);
	assert_true(n >= 0);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	rewind(c->f);
	assert_int_equal(fread(buf, 1, (size_t)n, c->f), (size_t)n);
	fclose(c->f);
	return buf;
}

static void reset_levels(void)
{
	atomic_store(&MOD->level, LOG_LEVEL_UNSET);
	atomic_store(&other.level, LOG_LEVEL_UNSET);
	atomic_store(&log_spec_level, LOG_LEVEL_UNSET);
	log_max_level = LOG_INFO;
}

static int setup(void **state)
{
	reset_levels();
	return 0;
}

static int next_value;

static int side_effect(void)
{
	return ++next_value;
}

static void test_levels(void **state)
{
	char msg[256];

	assert_true(log_enabled(MOD, LOG_INFO));
	assert_false(log_enabled(MOD, LOG_DEBUG));
	assert_int_equal(log_config_apply("test-a=debug", msg, sizeof(msg)), 0);
	assert_true(log_enabled(MOD, LOG_DEBUG));
	assert_false(log_enabled(&other, LOG_DEBUG));
	/* A bare level is the default of modules without their own. */
	assert_int_equal(log_config_apply("error", msg, sizeof(msg)), 0);
	assert_false(log_enabled(&other, LOG_WARN));
	assert_true(log_enabled(&other, LOG_ERR));
	assert_true(log_enabled(MOD, LOG_DEBUG));
	/* ... and it wins over -v (log_max_level), whenever -v is counted. */
	log_max_level = LOG_DEBUG;
	assert_false(log_enabled(&other, LOG_INFO));
	assert_int_equal(
	    log_config_apply("all=info,test-b=warn", msg, sizeof(msg)), 0);
	assert_true(log_enabled(&other, LOG_WARN));
	assert_false(log_enabled(&other, LOG_INFO));
	assert_int_equal(log_config_apply("test-a=warning", msg, sizeof(msg)),
			 0);
	assert_false(log_enabled(MOD, LOG_INFO));
}

static void test_spec_errors(void **state)
{
	char msg[256];

	/* Checked whole before any of it applies. */
	assert_int_equal(
	    log_config_apply("test-b=debug,nosuch=info", msg, sizeof(msg)),
	    -EINVAL);
	assert_non_null(strstr(msg, "unknown log module 'nosuch'"));
	assert_false(log_enabled(&other, LOG_DEBUG));
	assert_int_equal(log_config_apply("test-c=info", msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "(did you mean 'test-"));
	assert_int_equal(log_config_apply("test-a=loud", msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "unknown log level 'loud'"));
	assert_int_equal(log_config_apply("chatty", msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "unknown log level 'chatty'"));
	assert_int_equal(log_config_apply("test-a=", msg, sizeof(msg)),
			 -EINVAL);
	assert_false(log_enabled(MOD, LOG_DEBUG));

	setenv("LOOM_LOG", "test-b=debug", 1);
	assert_int_equal(log_config_env(msg, sizeof(msg)), 0);
	assert_true(log_enabled(&other, LOG_DEBUG));
	setenv("LOOM_LOG", "test-b=noisy", 1);
	assert_int_equal(log_config_env(msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "LOOM_LOG: unknown log level 'noisy'"));
	unsetenv("LOOM_LOG");
}

static void test_output(void **state)
{
	struct capture c;
	char msg[64], *out;

	next_value = 0;
	assert_int_equal(log_config_apply("test-b=warn", msg, sizeof(msg)), 0);
	capture_start(&c);
	log_info(MOD, "hello %d", 5);
	log_info(&other, "dropped %d", side_effect());
	log_debug(MOD, "dropped too %d", side_effect());
	log_warn(&other, "kept %d", 7);
	log_err("test-str", "by name");
	log_rl(LOG_WARN, MOD, "limited %d", 1);
	out = capture_end(&c);
	assert_string_equal(out, "test-a: info: hello 5\n"
				 "test-b: warning: kept 7\n"
				 "test-str: error: by name\n"
				 "test-a: warning: limited 1\n");
	free(out);
	/* A filtered message's arguments are not evaluated. */
	assert_int_equal(next_value, 0);
	/* The string module exists now and can be configured. */
	assert_non_null(log_module_find("test-str"));
	assert_int_equal(log_config_apply("test-str=debug", msg, sizeof(msg)),
			 0);
	assert_true(log_enabled(log_module_named("test-str"), LOG_DEBUG));
}

static void test_duplicate_name_aborts(void **state)
{
	static struct log_module twin = {.name = "test-a",
					 .level = LOG_LEVEL_UNSET};
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		/* The parent's stderr is cmocka's; keep the child quiet. */
		freopen("/dev/null", "w", stderr);
		log_module_register(&twin);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void test_modules_list(void **state)
{
	struct capture c;
	char msg[64], *out;

	assert_int_equal(log_config_apply("test-a=debug", msg, sizeof(msg)), 0);
	capture_start(&c);
	log_modules_print(stderr);
	out = capture_end(&c);
	assert_non_null(strstr(out, "test-a           debug\n"));
	assert_non_null(strstr(out, "test-b           info\n"));
	/* Sorted by name. */
	assert_true(strstr(out, "test-a") < strstr(out, "test-b"));
	free(out);
}

/* A refused packet range names its caller at debug level, and only then. */
static void test_pkt_refusal_names_caller(void **state)
{
	static const uint8_t frame[4] = {1, 2, 3, 4};
	struct pkt_view v = {frame, sizeof(frame)};
	struct capture c;
	char msg[64], want[160], *out;
	uint32_t x;
	int line;

	capture_start(&c);
	assert_int_equal(pkt_be32(&v, 2, &x), -1);
	out = capture_end(&c);
	assert_string_equal(out, ""); /* pkt is at info: nothing */
	free(out);

	assert_int_equal(log_config_apply("pkt=debug", msg, sizeof(msg)), 0);
	capture_start(&c);
	assert_int_equal(pkt_be32(&v, 0, &x), 0);
	assert_int_equal(x, 0x01020304);
	line = __LINE__ + 1;
	assert_int_equal(pkt_be32(&v, 2, &x), -1);
	out = capture_end(&c);
	snprintf(want, sizeof(want),
		 "pkt: debug: test_pkt_refusal_names_caller:%d: asked for "
		 "bytes [2, +4) of a 4-byte frame\n",
		 line);
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(log_config_apply("pkt=info", msg, sizeof(msg)), 0);
}

/* ---------------------------------------------------------------------- */
/* The rate limiter, shared by threads as vCPU and data-path threads do. */

enum { THREADS = 4, CALLS = 50000 };

struct hammer {
	struct log_ratelimit *rl;
	unsigned int calls;
	bool sleep_between;
	unsigned int allowed;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct timespec ts = {0, 20000};
	unsigned int i;

	for (i = 0; i < h->calls; i++) {
		if (log_ratelimit_allow(h->rl, MOD, LOG_WARN))
			h->allowed++;
		if (h->sleep_between && i % 64 == 0)
			nanosleep(&ts, NULL);
	}
	return NULL;
}

static unsigned int run_threads(struct log_ratelimit *rl, unsigned int calls,
				bool sleep_between)
{
	struct hammer h[THREADS];
	pthread_t t[THREADS];
	unsigned int i, allowed = 0;

	for (i = 0; i < THREADS; i++) {
		h[i] = (struct hammer){
		    .rl = rl, .calls = calls, .sleep_between = sleep_between};
		assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &h[i]),
				 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		allowed += h[i].allowed;
	}
	return allowed;
}

static void test_ratelimit_threads_exact(void **state)
{
	/* No refill during the test: exactly the burst gets through. */
	struct log_ratelimit rl = {.burst = 10,
				   .interval_ns = 3600ull * 1000000000ull};
	unsigned int allowed;

	allowed = run_threads(&rl, CALLS, false);
	assert_int_equal(allowed, 10);
	assert_int_equal(rl.suppressed, THREADS * CALLS - 10);
}

/* Sums the N of every "test-a: warning: N similar messages suppressed". */
static unsigned long sum_reported(const char *out, unsigned int *lines)
{
	const char *p = out, *pat = "test-a: warning: ";
	unsigned long sum = 0, n;
	char tail[64];

	*lines = 0;
	while ((p = strstr(p, pat))) {
		p += strlen(pat);
		assert_int_equal(sscanf(p, "%lu %40[a-z ]", &n, tail), 2);
		assert_string_equal(tail, "similar messages suppressed");
		sum += n;
		(*lines)++;
	}
	return sum;
}

static void test_ratelimit_threads_conserve(void **state)
{
	/* Refills while four threads race: every call is either allowed,
	 * reported as suppressed, or still counted in the bucket. */
	struct log_ratelimit rl = {.burst = 5, .interval_ns = 1000000};
	unsigned int allowed, lines;
	unsigned long reported;
	struct capture c;
	char *out;

	capture_start(&c);
	allowed = run_threads(&rl, 20000, true);
	out = capture_end(&c);
	reported = sum_reported(out, &lines);
	assert_true(lines > 0);
	assert_int_equal(allowed + reported + rl.suppressed, THREADS * 20000);
	assert_true(allowed >= 5);
	assert_true(allowed < THREADS * 20000 / 2);
	free(out);
}

static void test_ratelimit_report_names_module(void **state)
{
	struct log_ratelimit rl = {.burst = 2, .interval_ns = 20000000};
	struct timespec ts = {0, 40000000};
	struct capture c;
	char *out;
	int i, allowed = 0;

	for (i = 0; i < 5; i++)
		allowed += log_ratelimit_allow(&rl, &other, LOG_ERR);
	assert_int_equal(allowed, 2);
	nanosleep(&ts, NULL);
	capture_start(&c);
	assert_true(log_ratelimit_allow(&rl, &other, LOG_ERR));
	out = capture_end(&c);
	assert_string_equal(out, "test-b: error: 3 similar messages "
				 "suppressed\n");
	free(out);
	/* A debug-level log_rl consumes no token while debug is off. */
	next_value = 0;
	for (i = 0; i < 100; i++)
		log_rl(LOG_DEBUG, MOD, "%d", side_effect());
	assert_int_equal(next_value, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_levels, setup),
	    cmocka_unit_test_setup(test_spec_errors, setup),
	    cmocka_unit_test_setup(test_output, setup),
	    cmocka_unit_test_setup(test_duplicate_name_aborts, setup),
	    cmocka_unit_test_setup(test_modules_list, setup),
	    cmocka_unit_test_setup(test_pkt_refusal_names_caller, setup),
	    cmocka_unit_test_setup(test_ratelimit_threads_exact, setup),
	    cmocka_unit_test_setup(test_ratelimit_threads_conserve, setup),
	    cmocka_unit_test_setup(test_ratelimit_report_names_module, setup),
	};

	log_module_register(&other);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
