/* SPDX-License-Identifier: MIT */
/* test_rundir.c - common/rundir.h: the order of the rule, the fallback's
 * checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/rundir.h"

static void test_order(void **state)
{
	char want[64], longer[RUNDIR_PATH_MAX + 8];
	struct rundir d;

	setenv(RUNDIR_ENV, "/env/run", 1);
	setenv("XDG_RUNTIME_DIR", "/xdg", 1);
	assert_int_equal(rundir_resolve("/opt/run", &d), 0);
	assert_string_equal(d.path, "/opt/run");
	assert_int_equal(d.source, RUNDIR_FROM_OPTION);
	assert_int_equal(rundir_resolve("", &d), 0);
	assert_string_equal(d.path, "/env/run");
	assert_int_equal(d.source, RUNDIR_FROM_ENV);
	unsetenv(RUNDIR_ENV);
	assert_int_equal(rundir_resolve(NULL, &d), 0);
	if (geteuid() == 0) {
		assert_string_equal(d.path, RUNDIR_ROOT);
		assert_int_equal(d.source, RUNDIR_FROM_ROOT);
	} else {
		assert_string_equal(d.path, "/xdg/loom");
		assert_int_equal(d.source, RUNDIR_FROM_XDG);
		unsetenv("XDG_RUNTIME_DIR");
		assert_int_equal(rundir_resolve(NULL, &d), 0);
		snprintf(want, sizeof(want), "/tmp/loom-%u",
			 (unsigned int)geteuid());
		assert_string_equal(d.path, want);
		assert_int_equal(d.source, RUNDIR_FROM_TMP);
	}
	memset(longer, 'a', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(rundir_resolve(longer, &d), -ENAMETOOLONG);
	assert_int_equal(rundir_join(&(struct rundir){.path = "/r"},
				     "netd.sock", want, sizeof(want)),
			 0);
	assert_string_equal(want, "/r/netd.sock");
	assert_int_equal(
	    rundir_join(&(struct rundir){.path = "/r"}, "netd.sock", want, 8),
	    -ENAMETOOLONG);
}

static void test_state_order(void **state)
{
	struct rundir d;

	assert_int_equal(rundir_state_resolve("/s", &d), 0);
	assert_string_equal(d.path, "/s");
	if (geteuid() == 0) {
		assert_int_equal(rundir_state_resolve(NULL, &d), 0);
		assert_string_equal(d.path, RUNDIR_STATE_ROOT);
		return;
	}
	setenv("XDG_STATE_HOME", "/xs", 1);
	assert_int_equal(rundir_state_resolve(NULL, &d), 0);
	assert_string_equal(d.path, "/xs/loom");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/h", 1);
	assert_int_equal(rundir_state_resolve(NULL, &d), 0);
	assert_string_equal(d.path, "/h/.local/state/loom");
}

/* The fallback's checks, on a directory of our own standing in for it. */
static void test_fallback_checks(void **state)
{
	char base[] = "/tmp/test_rundir.XXXXXX", msg[512], file[300];
	struct rundir d = {.source = RUNDIR_FROM_TMP};
	struct stat st;

	assert_non_null(mkdtemp(base));
	snprintf(d.path, sizeof(d.path), "%s/loom-x", base);
	/* Absent: usable for a client, created 0700 by a daemon. */
	assert_int_equal(rundir_check(&d, msg, sizeof(msg)), 0);
	assert_int_equal(rundir_prepare(&d, msg, sizeof(msg)), 0);
	assert_int_equal(stat(d.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(rundir_prepare(&d, msg, sizeof(msg)), 0);

	assert_int_equal(chmod(d.path, 0750), 0);
	assert_int_equal(rundir_check(&d, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "mode 0750, it must be 0700"));
	assert_int_equal(rundir_prepare(&d, msg, sizeof(msg)), -EPERM);
	/* The same directory from an explicit source is the user's call. */
	d.source = RUNDIR_FROM_ENV;
	assert_int_equal(rundir_check(&d, msg, sizeof(msg)), 0);
	d.source = RUNDIR_FROM_TMP;
	assert_int_equal(chmod(d.path, 0700), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(d.path, 65534, 65534), 0);
		assert_int_equal(rundir_check(&d, msg, sizeof(msg)), -EPERM);
		assert_non_null(strstr(msg, "owned by uid 65534, not by you"));
	}
	assert_int_equal(rmdir(d.path), 0);

	/* A symlink to a good directory is still refused. */
	snprintf(file, sizeof(file), "%s/target", base);
	assert_int_equal(mkdir(file, 0700), 0);
	assert_int_equal(symlink(file, d.path), 0);
	assert_int_equal(rundir_check(&d, msg, sizeof(msg)), -ENOTDIR);
	assert_non_null(strstr(msg, "not a directory"));
	assert_int_equal(rundir_prepare(&d, msg, sizeof(msg)), -ENOTDIR);
	assert_int_equal(unlink(d.path), 0);
	assert_int_equal(rmdir(file), 0);
	assert_int_equal(rmdir(base), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_state_order),
	    cmocka_unit_test(test_fallback_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
