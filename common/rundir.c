/* SPDX-License-Identifier: MIT */
/* rundir.c - the one rule placing loom's run dir (sockets) and state dir. */
#include "common/rundir.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int set_path(struct rundir *out, enum rundir_source source,
		    const char *fmt, const char *a, unsigned int uid)
{
	int n;

	out->source = source;
	if (fmt)
		n = snprintf(out->path, sizeof(out->path), fmt, a);
	else
		n = snprintf(out->path, sizeof(out->path), "/tmp/loom-%u", uid);
	if (n < 0 || (size_t)n >= sizeof(out->path)) {
		out->path[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int rundir_resolve(const char *opt, struct rundir *out)
{
	const char *env;

	if (opt && *opt)
		return set_path(out, RUNDIR_FROM_OPTION, "%s", opt, 0);
	env = getenv(RUNDIR_ENV);
	if (env && *env)
		return set_path(out, RUNDIR_FROM_ENV, "%s", env, 0);
	if (geteuid() == 0)
		return set_path(out, RUNDIR_FROM_ROOT, "%s", RUNDIR_ROOT, 0);
	env = getenv("XDG_RUNTIME_DIR");
	if (env && *env)
		return set_path(out, RUNDIR_FROM_XDG, "%s/loom", env, 0);
	return set_path(out, RUNDIR_FROM_TMP, NULL, NULL,
			(unsigned int)geteuid());
}

int rundir_state_resolve(const char *opt, struct rundir *out)
{
	const struct passwd *pw;
	const char *env;

	if (opt && *opt)
		return set_path(out, RUNDIR_FROM_OPTION, "%s", opt, 0);
	if (geteuid() == 0)
		return set_path(out, RUNDIR_FROM_ROOT, "%s", RUNDIR_STATE_ROOT,
				0);
	env = getenv("XDG_STATE_HOME");
	if (env && *env)
		return set_path(out, RUNDIR_FROM_XDG, "%s/loom", env, 0);
	env = getenv("HOME");
	if (env && *env)
		return set_path(out, RUNDIR_FROM_HOME, "%s/.local/state/loom",
				env, 0);
	pw = getpwuid(geteuid());
	if (pw && pw->pw_dir && *pw->pw_dir)
		return set_path(out, RUNDIR_FROM_HOME, "%s/.local/state/loom",
				pw->pw_dir, 0);
	out->path[0] = '\0';
	out->source = RUNDIR_FROM_HOME;
	return -ENOENT;
}

const char *rundir_source_name(enum rundir_source source)
{
	switch (source) {
	case RUNDIR_FROM_OPTION:
		return "the --run-dir/--state-dir option";
	case RUNDIR_FROM_ENV:
		return "$" RUNDIR_ENV;
	case RUNDIR_FROM_ROOT:
		return "the default for root";
	case RUNDIR_FROM_XDG:
		return "$XDG_RUNTIME_DIR/$XDG_STATE_HOME";
	case RUNDIR_FROM_HOME:
		return "the home directory";
	case RUNDIR_FROM_TMP:
		return "the fallback without $XDG_RUNTIME_DIR";
	}
	return "?";
}

static int msg_set(char *msg, size_t len, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int msg_set(char *msg, size_t len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (msg && len) {
		va_start(ap, fmt);
		vsnprintf(msg, len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* The fallback's safety: ours alone, or nothing. lstat, so a symlink planted
 * by someone else is refused rather than followed. */
static int check_private(const struct rundir *d, char *msg, size_t len)
{
	struct stat st;

	if (lstat(d->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return msg_set(msg, len, -errno, "run dir %s: %s", d->path,
			       strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return msg_set(msg, len, -ENOTDIR,
			       "refusing run dir %s: it is not a directory "
			       "(a symlink or file someone left); remove it, "
			       "or set XDG_RUNTIME_DIR or " RUNDIR_ENV,
			       d->path);
	if (st.st_uid != geteuid())
		return msg_set(msg, len, -EPERM,
			       "refusing run dir %s: owned by uid %u, not by "
			       "you (uid %u); remove it, or set "
			       "XDG_RUNTIME_DIR or " RUNDIR_ENV,
			       d->path, (unsigned int)st.st_uid,
			       (unsigned int)geteuid());
	if ((st.st_mode & 07777) != 0700)
		return msg_set(msg, len, -EPERM,
			       "refusing run dir %s: mode %04o, it must be "
			       "0700 (chmod 700 %s)",
			       d->path, (unsigned int)(st.st_mode & 07777),
			       d->path);
	return 0;
}

int rundir_check(const struct rundir *d, char *msg, size_t len)
{
	if (d->source != RUNDIR_FROM_TMP)
		return 0;
	return check_private(d, msg, len);
}

int rundir_prepare(const struct rundir *d, char *msg, size_t len)
{
	bool private =
	    d->source == RUNDIR_FROM_XDG || d->source == RUNDIR_FROM_TMP;
	char buf[RUNDIR_PATH_MAX];
	size_t n = strlen(d->path);
	char *p;

	if (n == 0 || n >= sizeof(buf))
		return msg_set(msg, len, -ENAMETOOLONG,
			       "run dir name empty "
			       "or too long");
	memcpy(buf, d->path, n + 1);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return msg_set(msg, len, -errno, "cannot create %s: %s",
				       buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, private ? 0700 : 0755) < 0 && errno != EEXIST)
		return msg_set(msg, len, -errno, "cannot create %s: %s", buf,
			       strerror(errno));
	return rundir_check(d, msg, len);
}

int rundir_join(const struct rundir *d, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", d->path, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
