/* SPDX-License-Identifier: MIT */
/* main.c - loom-netd: options, directories, start-up, restore, shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "loom/control.h"
#include "netd/netd.h"

#define MOD "netd"

#ifndef LOOM_VERSION
#define LOOM_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: loom-netd [OPTIONS]\n"
		"The loom network daemon: networks, the built-in switch, TAP ports.\n"
		"\n"
		"  --run-dir DIR    control socket directory (default: $LOOM_RUN_DIR,\n"
		"                   else /run/loom as root, else $XDG_RUNTIME_DIR/loom)\n"
		"  --state-dir DIR  declared state (default: /var/lib/loom as root,\n"
		"                   else $XDG_STATE_HOME/loom)\n"
		"  --config FILE    apply the networks of a YAML network file at start\n"
		"  --foreground     stay in the foreground (the default)\n"
		"  -v, --verbose    more logging (twice: debug)\n"
		"  -h, --help       this help\n"
		"  --version        print the version\n");
}

/* mkdir -p with mode 0755 for the components it creates. */
static int mkdir_p(const char *path)
{
	char buf[256];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static bool have_cap_net_admin(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	bool ok = false;

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long caps;

		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			ok = caps & (1ull << 12); /* CAP_NET_ADMIN */
	}
	fclose(f);
	return ok;
}

static char *default_dir(bool run)
{
	const char *env;
	char *out = NULL;
	int r;

	if (run && (env = getenv(LOOM_RUN_DIR_ENV)) && *env)
		return strdup(env);
	if (geteuid() == 0)
		return strdup(run ? LOOM_RUN_DIR_ROOT : LOOM_STATE_DIR_ROOT);
	if (run) {
		env = getenv("XDG_RUNTIME_DIR");
		r = env && *env ? asprintf(&out, "%s/loom", env) :
				  asprintf(&out, "/tmp/loom-%u", getuid());
	} else {
		env = getenv("XDG_STATE_HOME");
		if (env && *env)
			r = asprintf(&out, "%s/loom", env);
		else
			r = asprintf(&out, "%s/.local/state/loom",
				     getenv("HOME") ? getenv("HOME") : "/tmp");
	}
	return r < 0 ? NULL : out;
}

/*
 * The instance id names this daemon's kernel objects: a hash of the state
 * dir's real path, so a restart with the same state finds its leftovers
 * and two daemons with different state dirs never touch each other's.
 */
static void netd_instance_id(struct netd *d)
{
	char *real = realpath(d->state_dir, NULL);
	const char *p = real ? real : d->state_dir;
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	free(real);
	snprintf(d->instance, sizeof(d->instance), "%08x", h);
	snprintf(d->alias_prefix, sizeof(d->alias_prefix), "%s%s:",
		 TAP_ALIAS_PREFIX, d->instance);
}

static int apply_config(struct netd *d, const char *path)
{
	struct netconf_error err;
	struct netconf *cfg = NULL;
	char buf[1024];
	int ret;

	memset(&err, 0, sizeof(err));
	ret = netconf_load_file(path, &cfg, &err);
	if (ret < 0) {
		log_err(MOD, "%s", netconf_error_format(&err, buf, sizeof(buf)));
		return ret;
	}
	for (uint32_t i = 0; i < cfg->network_count; i++) {
		const char *outcome = "";

		ret = netd_net_apply(d, &cfg->networks[i], &outcome, buf,
				     sizeof(buf));
		if (ret < 0) {
			log_err(MOD, "%s: network %s: %s", path,
				cfg->networks[i].name, buf);
			break;
		}
		log_info(MOD, "%s: network %s %s", path, cfg->networks[i].name,
			 outcome);
	}
	netconf_free(cfg);
	if (netd_state_save(d) < 0 && ret == 0)
		ret = -EIO;
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct netd d;
	const char *config = NULL;
	char *run_dir = NULL, *state_dir = NULL, lockpath[300];
	sigset_t mask;
	int c, ret, sigfd, lockfd;

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			run_dir = strdup(optarg);
			break;
		case 's':
			state_dir = strdup(optarg);
			break;
		case 'c':
			config = optarg;
			break;
		case 'f':
			break;
		case 'v':
			if (log_max_level < LOG_DEBUG)
				log_max_level++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("loom-netd %s (control protocol %d)\n",
			       LOOM_VERSION, LOOM_CONTROL_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "loom-netd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!run_dir)
		run_dir = default_dir(true);
	if (!state_dir)
		state_dir = default_dir(false);
	if (!run_dir || !state_dir)
		return 1;
	d.run_dir = run_dir;
	d.state_dir = state_dir;
	d.uid = geteuid();
	d.started = time(NULL);
	d.have_net_admin = have_cap_net_admin();
	if (snprintf(d.sock_path, sizeof(d.sock_path), "%s/%s", run_dir,
		     LOOM_CONTROL_SOCKET) >= (int)sizeof(d.sock_path) ||
	    snprintf(d.state_path, sizeof(d.state_path), "%s/networks.json",
		     state_dir) >= (int)sizeof(d.state_path)) {
		log_err(MOD, "directory names too long");
		return 1;
	}
	ret = mkdir_p(run_dir);
	if (ret == 0)
		ret = mkdir_p(state_dir);
	if (ret < 0) {
		log_err(MOD, "cannot create %s or %s: %s", run_dir, state_dir,
			strerror(-ret));
		return 1;
	}
	netd_instance_id(&d);
	snprintf(lockpath, sizeof(lockpath), "%s/netd.lock", run_dir);
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		log_err(MOD, "another loom-netd serves %s (%s)", run_dir,
			strerror(errno));
		return 1;
	}

	/* Signals go to the control loop's signalfd, in every thread. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0) {
		log_err(MOD, "signalfd: %s", strerror(errno));
		return 1;
	}

	if (!d.have_net_admin)
		log_warn(MOD, "no CAP_NET_ADMIN: TAP ports cannot be created");
	else if ((ret = tap_cleanup_stray(d.alias_prefix)) > 0)
		log_info(MOD, "removed %d stray interfaces from a previous run",
			 ret);
	d.loop = evloop_new();
	if (!d.loop) {
		log_err(MOD, "event loop: %s", strerror(errno));
		return 1;
	}
	ret = netd_dp_start(&d);
	if (ret < 0) {
		log_err(MOD, "data path: %s", strerror(-ret));
		return 1;
	}
	netd_state_load(&d);
	if (config && apply_config(&d, config) < 0)
		log_err(MOD, "%s: not fully applied", config);

	log_info(MOD, "loom-netd %s ready (pid %d, state %s)", LOOM_VERSION,
		 (int)getpid(), d.state_path);
	ret = netd_control_run(&d, sigfd);

	netd_shutdown(&d);
	netd_dp_stop(&d);
	evloop_free(d.loop);
	close(sigfd);
	close(lockfd);
	log_info(MOD, "stopped");
	free(run_dir);
	free(state_dir);
	return ret < 0 ? 1 : 0;
}
