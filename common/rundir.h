/* SPDX-License-Identifier: MIT */
/* rundir.h - the one rule placing loom's run dir (sockets) and state dir. */
#ifndef LOOM_COMMON_RUNDIR_H
#define LOOM_COMMON_RUNDIR_H

/*
 * loom-netd, loom-vmm, `loom` and `loom vm` all find each other through this
 * rule, so they cannot disagree. RUN_DIR holds netd.sock, netd.lock and
 * vm/NAME.{sock,console,log}; first match wins:
 *
 *   1. --run-dir DIR             (the program's option, passed as @opt)
 *   2. $LOOM_RUN_DIR
 *   3. /run/loom                 when the effective uid is 0
 *   4. $XDG_RUNTIME_DIR/loom     (created mode 0700)
 *   5. /tmp/loom-UID             (UID: the effective uid; created 0700)
 *
 * The last one lies in a directory every user can write to, so another user
 * could create it first and wait for our sockets. It is used only if it is
 * a real directory (not a symlink), owned by the effective uid, with mode
 * 0700; anything else is refused with a message saying why and what to do.
 * /tmp's sticky bit keeps others from renaming or removing it afterwards.
 *
 * STATE_DIR holds netd's declared state (networks.json); first match wins:
 * --state-dir DIR, /var/lib/loom as root, $XDG_STATE_HOME/loom,
 * $HOME/.local/state/loom, then the passwd entry's home/.local/state/loom.
 *
 * docs/architecture.md ("Run dir and state dir") documents the rule.
 */

#include <stddef.h>

#define RUNDIR_ENV "LOOM_RUN_DIR"
#define RUNDIR_ROOT "/run/loom"
#define RUNDIR_STATE_ROOT "/var/lib/loom"
#define RUNDIR_PATH_MAX 256

/* Where a directory's path came from: error messages name it. */
enum rundir_source {
	RUNDIR_FROM_OPTION, /* --run-dir / --state-dir */
	RUNDIR_FROM_ENV,    /* $LOOM_RUN_DIR */
	RUNDIR_FROM_ROOT,   /* /run/loom, /var/lib/loom */
	RUNDIR_FROM_XDG,    /* $XDG_RUNTIME_DIR/loom, $XDG_STATE_HOME/loom */
	RUNDIR_FROM_HOME,   /* ~/.local/state/loom */
	RUNDIR_FROM_TMP,    /* /tmp/loom-UID: checked before use */
};

/* struct rundir - a resolved directory and where its path came from. */
struct rundir {
	char path[RUNDIR_PATH_MAX];
	enum rundir_source source;
};

/**
 * rundir_resolve() - RUN_DIR by the rule above; touches no file.
 * @opt: the program's --run-dir value, or NULL / "".
 * Return: 0, or -ENAMETOOLONG (longer than RUNDIR_PATH_MAX - 1).
 */
int rundir_resolve(const char *opt, struct rundir *out);

/**
 * rundir_state_resolve() - STATE_DIR by the rule above; touches no file.
 * @opt: the program's --state-dir value, or NULL / "".
 * Return: 0, -ENAMETOOLONG, or -ENOENT when no home directory is known.
 */
int rundir_state_resolve(const char *opt, struct rundir *out);

/**
 * rundir_prepare() - create @d (mkdir -p; missing parents 0755, the
 * directory itself 0700 for RUNDIR_FROM_XDG and RUNDIR_FROM_TMP, else 0755)
 * and, for RUNDIR_FROM_TMP, check it as rundir_check() does. For the
 * programs that put something there: loom-netd, loom-vmm, `loom vm run`.
 * @msg: set to a sentence for a person on failure.
 * Return: 0 or a negative errno (-EPERM: refused as unsafe).
 */
int rundir_prepare(const struct rundir *d, char *msg, size_t len);

/**
 * rundir_check() - for clients: @d is usable (absent counts as usable:
 * connecting then fails with ENOENT, "is loom-netd running?"). Only
 * RUNDIR_FROM_TMP is checked: a directory owned by us, mode 0700, no symlink.
 * Return: 0, or -EPERM / -ENOTDIR with @msg set.
 */
int rundir_check(const struct rundir *d, char *msg, size_t len);

/**
 * rundir_join() - "@d->path/@name" into @buf.
 * Return: 0 or -ENAMETOOLONG.
 */
int rundir_join(const struct rundir *d, const char *name, char *buf,
		size_t len);

/* rundir_source_name() - "--run-dir", "$LOOM_RUN_DIR", ... for messages. */
const char *rundir_source_name(enum rundir_source source);

#endif
