/* SPDX-License-Identifier: MIT */
/* state.c - declared state on disk: written atomically, restored at start. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "netd/netd.h"

LOG_MODULE("state");

int netd_netconf_copy(struct netconf_net *dst, const struct netconf_net *src)
{
	struct netconf_error err;
	json_t *j = netconf_net_to_json(src);
	int ret;

	if (!j)
		return -ENOMEM;
	memset(dst, 0, sizeof(*dst));
	ret = netconf_net_from_json(j, dst, "", &err);
	json_decref(j);
	if (ret < 0)
		log_err(MOD, "copy of network %s: %s", src->name, err.msg);
	return ret;
}

int netd_portconf_copy(struct netconf_port *dst, const struct netconf_port *src)
{
	struct netconf_error err;
	json_t *j = netconf_port_to_json(src);
	int ret;

	if (!j)
		return -ENOMEM;
	memset(dst, 0, sizeof(*dst));
	ret = netconf_port_from_json(j, dst, "", &err);
	json_decref(j);
	return ret;
}

/*
 * The state file: {"version": 1, "networks": [network objects]} — the same
 * shape as a network file in JSON, so it can be read by netconf_from_json().
 * Written to NAME.tmp, fsynced, renamed over NAME, and the directory
 * fsynced, so a crash leaves either the old or the new file.
 */
int netd_state_save(struct netd *d)
{
	char tmp[300];
	json_t *root, *arr;
	char *text = NULL;
	size_t len, off = 0;
	int fd = -1, dfd = -1, ret = 0;

	root = json_object();
	arr = json_array();
	if (!root || !arr) {
		json_decref(root);
		json_decref(arr);
		return -ENOMEM;
	}
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "networks", arr);
	for (unsigned int i = 0; i < d->nnets; i++)
		json_array_append_new(arr, netconf_net_to_json(&d->nets[i]->conf));
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->state_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		ret = errno ? -errno : -EIO;
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, d->state_path) < 0) {
		ret = -errno;
		goto out;
	}
	dfd = open(d->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		ret = -errno;
out:
	if (ret < 0)
		log_err(MOD, "cannot write %s: %s", d->state_path,
			strerror(-ret));
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (dfd >= 0)
		close(dfd);
	free(text);
	return ret;
}

/* Keep a state file netd cannot read aside, so the next save does not
 * overwrite what a person may want to repair. */
static void netd_state_set_aside(struct netd *d)
{
	char bad[320];

	snprintf(bad, sizeof(bad), "%s.bad-%ld", d->state_path, (long)time(NULL));
	if (rename(d->state_path, bad) == 0)
		log_err(MOD, "unreadable state moved to %s; starting empty", bad);
}

int netd_state_load(struct netd *d)
{
	struct netconf_error err;
	struct netconf *cfg = NULL;
	json_error_t jerr;
	json_t *root, *nets;
	int ret;

	root = json_load_file(d->state_path, 0, &jerr);
	if (!root) {
		if (access(d->state_path, F_OK) < 0 && errno == ENOENT)
			return 0;
		log_err(MOD, "%s:%d: %s (state ignored)", d->state_path,
			jerr.line, jerr.text);
		netd_state_set_aside(d);
		return -EINVAL;
	}
	nets = json_object_get(root, "networks");
	if (!json_is_array(nets) || !json_array_size(nets)) {
		json_decref(root);
		return 0;
	}
	memset(&err, 0, sizeof(err));
	nets = json_pack("{s:O}", "networks", nets);
	json_decref(root);
	if (!nets)
		return -ENOMEM;
	ret = netconf_from_json(nets, &cfg, &err);
	json_decref(nets);
	if (ret < 0) {
		log_err(MOD, "%s: %s: %s (state ignored)", d->state_path,
			err.path, err.msg);
		netd_state_set_aside(d);
		return ret;
	}
	for (uint32_t i = 0; i < cfg->network_count; i++) {
		char msg[320];

		ret = netd_net_create(d, &cfg->networks[i], true, msg,
				      sizeof(msg));
		if (ret < 0)
			log_err(MOD, "cannot restore network %s: %s",
				cfg->networks[i].name, msg);
	}
	log_info(MOD, "restored %u networks from %s", d->nnets,
		 d->state_path);
	netconf_free(cfg);
	return 0;
}
