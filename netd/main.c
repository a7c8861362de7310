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
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/registry.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/rundir.h"
#include "loom/control.h"
#include "netd/netd.h"
#include "netd/service.h"

LOG_MODULE("netd");

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
		"                   else /run/loom as root, else $XDG_RUNTIME_DIR/loom,\n"
		"                   else /tmp/loom-UID, which must be yours, mode 0700)\n"
		"  --state-dir DIR  declared state (default: /var/lib/loom as root,\n"
		"                   else $XDG_STATE_HOME/loom, else\n"
		"                   ~/.local/state/loom)\n"
		"  --config FILE    apply the networks of a YAML network file at start\n"
		"  --dns-listen ADDR:PORT  answer the networks' names (NAME.DOMAIN,\n"
		"                   PTR) for the host on this address, UDP and\n"
		"                   TCP, e.g.\n"
		"                   127.0.0.1:5353 (docs/architecture.md)\n"
		"  --foreground     stay in the foreground (the default)\n"
		"  -v, --verbose    more logging (twice: debug)\n"
		"  --log SPEC       log levels: MODULE=LEVEL or LEVEL, comma-separated\n"
		"                   (e.g. datapath=debug,warn; also $LOOM_LOG);\n"
		"                   --log list names the modules\n"
		"  -h, --help       this help\n"
		"  --version        print the version\n");
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

/*
 * The instance id names this daemon's kernel objects: a hash of the state
 * dir's real path, so a restart with the same state finds its leftovers
 * and two daemons with different state dirs never touch each other's.
 */
/*
 * Every NAT connection is a socket of netd's (up to SLIRP_CONN_MAX per nat
 * network): the soft limit on open files (often 1024) goes up to the hard
 * one, so that a guest flooding connections meets its network's limit,
 * not EMFILE for every other socket, TAP and control client of netd.
 */
static void netd_files_limit_raise(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= r.rlim_max)
		return;
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r))
		log_warn(MOD, "cannot raise the open files limit: %s",
			 strerror(errno));
}

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
		 NETD_ALIAS_PREFIX, d->instance);
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
		{ "dns-listen", required_argument, NULL, 'D' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct netd d;
	const char *config = NULL;
	const char *run_dir = NULL, *state_dir = NULL;
	struct rundir run, state;
	char lockpath[300], msg[512];
	sigset_t mask;
	int c, ret, sigfd, lockfd;

	memset(&d, 0, sizeof(d));
	if (log_config_env(msg, sizeof(msg))) {
		fprintf(stderr, "loom-netd: %s\n", msg);
		return 2;
	}
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			run_dir = optarg;
			break;
		case 's':
			state_dir = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'D':
			d.dns_listen = optarg;
			break;
		case 'f':
			break;
		case 'v':
			if (log_max_level < LOG_DEBUG)
				log_max_level++;
			break;
		case 'l':
			if (!strcmp(optarg, "list")) {
				log_modules_print(stdout);
				return 0;
			}
			if (log_config_apply(optarg, msg, sizeof(msg))) {
				fprintf(stderr, "loom-netd: --log: %s\n", msg);
				return 2;
			}
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
	if (rundir_resolve(run_dir, &run) < 0 ||
	    rundir_state_resolve(state_dir, &state) < 0) {
		log_err(MOD, "cannot place the run or state dir: name too long "
			"or no home directory (use --run-dir, --state-dir)");
		return 1;
	}
	d.run_dir = run.path;
	d.state_dir = state.path;
	d.uid = geteuid();
	d.started = time(NULL);
	d.have_net_admin = have_cap_net_admin();
	if (snprintf(d.sock_path, sizeof(d.sock_path), "%s/%s", run.path,
		     LOOM_CONTROL_SOCKET) >= (int)sizeof(d.sock_path) ||
	    snprintf(d.state_path, sizeof(d.state_path), "%s/networks.json",
		     state.path) >= (int)sizeof(d.state_path)) {
		log_err(MOD, "directory names too long");
		return 1;
	}
	if (rundir_prepare(&run, msg, sizeof(msg)) < 0 ||
	    rundir_prepare(&state, msg, sizeof(msg)) < 0) {
		log_err(MOD, "%s", msg);
		return 1;
	}
	netd_instance_id(&d);
	snprintf(lockpath, sizeof(lockpath), "%s/netd.lock", run.path);
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		log_err(MOD, "another loom-netd serves %s (%s)", run.path,
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
	netd_files_limit_raise();
	sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0) {
		log_err(MOD, "signalfd: %s", strerror(errno));
		return 1;
	}

	if (!d.have_net_admin)
		log_warn(MOD, "no CAP_NET_ADMIN: TAP ports cannot be created");
	else if ((ret = backend_cleanup_stray(d.alias_prefix)) > 0)
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
	if (netd_services_start(&d) < 0)
		return 1;
	netd_state_load(&d);
	if (config && apply_config(&d, config) < 0)
		log_err(MOD, "%s: not fully applied", config);

	log_info(MOD, "loom-netd %s ready (pid %d, state %s)", LOOM_VERSION,
		 (int)getpid(), d.state_path);
	ret = netd_control_run(&d, sigfd);

	netd_shutdown(&d);
	netd_services_stop(&d);
	netd_dp_stop(&d);
	evloop_free(d.loop);
	close(sigfd);
	close(lockfd);
	log_info(MOD, "stopped");
	return ret < 0 ? 1 : 0;
}
